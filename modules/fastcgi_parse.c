/*
 * The FastCGI response record parser (see fastcgi_parse.h): a state machine over the 8-byte
 * record header, the content and the padding, so a record may be split anywhere; stdout
 * content is compacted in place (it never moves forward past unread bytes).
 */
#include <string.h>

#include "fastcgi_parse.h"

int mg_fastcgi_parse(mg_fastcgi_parser_t *p, char *buf, size_t *n, mg_fastcgi_stderr_pt err,
                     void *data)
{
    char *in = buf, *end = buf + *n, *out = buf;
    int rc = 0;
    while (in < end && p->state != 3) {
        if (p->state == 0) {
            size_t take = 8 - p->hlen;
            if (take > (size_t)(end - in)) {
                take = (size_t)(end - in);
            }
            memcpy(p->hdr + p->hlen, in, take);
            p->hlen += take;
            in += take;
            if (p->hlen < 8) {
                break;
            }
            p->hlen = 0;
            p->type = p->hdr[1];
            if (p->hdr[0] != 1) {
                p->bad_what = 1;
                p->bad = p->hdr[0];
                rc = -1;
                break;
            }
            if (p->type != MG_FASTCGI_STDOUT && p->type != MG_FASTCGI_STDERR &&
                p->type != MG_FASTCGI_END_REQUEST) {
                p->bad_what = 2;
                p->bad = p->type;
                rc = -1;
                break;
            }
            if (p->hdr[2] != 0 || p->hdr[3] != 1) {
                p->bad_what = 3;
                p->bad = p->hdr[2] << 8 | p->hdr[3];
                rc = -1;
                break;
            }
            p->left = (size_t)(p->hdr[4] << 8 | p->hdr[5]);
            p->pad = p->hdr[6];
            p->state = p->left ? 1 : 2;
        } else if (p->state == 1) {
            size_t take = p->left;
            if (take > (size_t)(end - in)) {
                take = (size_t)(end - in);
            }
            if (p->type == MG_FASTCGI_STDOUT) {
                if (p->nseg < p->seg_max) {
                    p->seg_out[p->nseg] = (size_t)(out - buf);
                    p->seg_raw[p->nseg++] = (size_t)(in - buf);
                }
                memmove(out, in, take);
                out += take;
            } else if (p->type == MG_FASTCGI_STDERR && err) {
                p->err_out = (size_t)(out - buf);
                if (err(data, in, take)) {
                    rc = -2;
                    break;
                }
            }
            in += take;
            p->left -= take;
            if (p->left == 0) {
                p->state = 2;
            }
        } else {
            size_t take = p->pad;
            if (take > (size_t)(end - in)) {
                take = (size_t)(end - in);
            }
            in += take;
            p->pad -= take;
        }
        if (p->state == 2 && p->pad == 0) {
            p->state = p->type == MG_FASTCGI_END_REQUEST ? 3 : 0;
        }
    }
    *n = (size_t)(out - buf);
    if (rc == 0 && p->state == 3) {
        rc = 1;
    }
    return rc;
}
