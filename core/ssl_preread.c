/*
 * ClientHello reading for ssl_preread: the handshake records' payloads are gathered until the
 * whole handshake message is there (a client may split it over records, and the records over
 * TCP segments), then the message is read field by field, each length checked against what
 * is left. The input is parsed anew on each call: it is at most preread_buffer_size.
 */
#include <string.h>

#include "ssl_hello.h"
#include "ssl_preread.h"

static size_t be16(const unsigned char *p)
{
    return (size_t)p[0] << 8 | p[1];
}

/* the ClientHello body (after the 4-byte handshake header) */
static int parse_hello(const unsigned char *p, size_t len, mg_ssl_preread_t *out)
{
    /* legacy_version, random */
    if (len < 34) {
        return -1;
    }
    out->version = (unsigned)be16(p);
    p += 34;
    len -= 34;
    /* session id, cipher suites, compression methods */
    static const size_t width[] = {1, 2, 1};
    for (size_t i = 0; i < 3; i++) {
        if (len < width[i]) {
            return -1;
        }
        size_t n = width[i] == 1 ? p[0] : be16(p);
        if (n > len - width[i]) {
            return -1;
        }
        p += width[i] + n;
        len -= width[i] + n;
    }
    if (len == 0) {
        return 1; /* no extensions */
    }
    if (len < 2 || be16(p) != len - 2) {
        return -1;
    }
    p += 2;
    len -= 2;
    while (len) {
        if (len < 4) {
            return -1;
        }
        size_t type = be16(p), n = be16(p + 2);
        if (n > len - 4) {
            return -1;
        }
        const unsigned char *body = p + 4;
        if (type == 0 && out->server_name == NULL) {
            /* server_name: a list without host_name is no name */
            int rc = mg_ssl_hello_server_name(body, n, &out->server_name, &out->server_name_len);
            if (rc < 0) {
                return -1;
            }
        } else if (type == 16 && out->alpn == NULL) {
            /* ALPN: a 2-byte length, then non-empty names with 1-byte lengths */
            if (n < 2 || be16(body) != n - 2) {
                return -1;
            }
            for (size_t off = 2; off < n; off += 1 + body[off]) {
                if (body[off] == 0 || body[off] > n - off - 1) {
                    return -1;
                }
            }
            out->alpn = body + 2;
            out->alpn_len = n - 2;
        } else if (type == 43) {
            /* supported_versions: TLSv1.3 when offered (GREASE values are skipped) */
            unsigned v[128];
            size_t nv = mg_ssl_hello_versions(body, n, v, 128);
            if (nv == 0) {
                return -1;
            }
            for (size_t i = 0; i < nv; i++) {
                if (v[i] == 0x0304) {
                    out->version = 0x0304;
                }
            }
        }
        p += 4 + n;
        len -= 4 + n;
    }
    return 1;
}

int mg_ssl_preread_parse(const unsigned char *buf, size_t len, unsigned char *scratch,
                         mg_ssl_preread_t *out)
{
    memset(out, 0, sizeof(*out));
    size_t pos = 0, have = 0;
    while (len - pos >= 5) {
        const unsigned char *r = buf + pos;
        if (pos == 0 && (r[0] & 0x80) && r[2] == 1 && (r[3] == 0 || r[3] == 3)) {
            /* an SSLv2-style ClientHello: its version only */
            out->version = (unsigned)be16(r + 3);
            return 1;
        }
        if (r[0] != 0x16 || r[1] != 3) {
            return -1; /* not a handshake record */
        }
        size_t rlen = be16(r + 3);
        if (len - pos - 5 < rlen) {
            out->need = pos + 5 + rlen; /* the record is read whole first */
            return 0;
        }
        memcpy(scratch + have, r + 5, rlen);
        have += rlen;
        pos += 5 + rlen;
        if (have >= 4) {
            if (scratch[0] != 1) {
                return -1; /* not a ClientHello */
            }
            size_t mlen = (size_t)scratch[1] << 16 | be16(scratch + 2);
            if (have - 4 >= mlen) {
                return parse_hello(scratch + 4, mlen, out);
            }
        }
    }
    out->need = pos + 5;
    return 0;
}

size_t mg_ssl_preread_alpn_text(const unsigned char *p, size_t len, char *out)
{
    size_t o = 0;
    for (size_t off = 0; off < len && p[off] <= len - off - 1; off += 1 + p[off]) {
        if (o) {
            out[o++] = ',';
        }
        memcpy(out + o, p + off + 1, p[off]);
        o += p[off];
    }
    return o;
}

const char *mg_ssl_preread_version_name(unsigned version)
{
    switch (version) {
    case 0x0002:
        return "SSLv2";
    case 0x0300:
        return "SSLv3";
    case 0x0301:
        return "TLSv1";
    case 0x0302:
        return "TLSv1.1";
    case 0x0303:
        return "TLSv1.2";
    case 0x0304:
        return "TLSv1.3";
    }
    return "";
}
