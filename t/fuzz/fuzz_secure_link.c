/*
 * libFuzzer target for $secure_link (modules/secure_link.c, included here for its static
 * functions): the "HASH,EXPIRES" value of the secure_link expression (base64url MD5 and
 * seconds since the epoch) and secure_link_secret's "/PREFIX/HEXMD5/LINK" request URI. The
 * input's first byte picks the form (bit 0: secure_link_secret) and whether the target makes
 * the hash right itself (bit 1), so that the matching paths are reached too: the md5 form
 * then reads the base64url MD5 of "/s/link secret" followed by the rest of the input, the
 * secret form "/" PREFIX "/" the MD5 of LINK and the secret "/" LINK, PREFIX and LINK being
 * the input's two parts around its first newline. Beyond crashes it checks that a link
 * answered lies in the URI and hashes right, that a right hash with a valid or no EXPIRES
 * is found, and that $secure_link_expires is the text after the comma.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=secure_link)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/secure_link.c"

static const char secret[] = "secret";
static const char md5_text[] = "/s/link secret";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    unsigned pick = data[0];
    const char *in = (const char *)data + 1;
    size_t inlen = size - 1;

    static mg_connection_t c;
    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.connection = &c;
    r.pool = mg_pool_create(1024);
    secure_link_conf_t sc;
    memset(&sc, 0, sizeof(sc));
    void *loc_conf[256] = {0}, *ctx[256] = {0};
    loc_conf[mg_secure_link_module.index] = &sc;
    r.loc_conf = loc_conf;
    r.ctx = ctx;
    mg_http_complex_value_t variable, md5;
    memset(&variable, 0, sizeof(variable));
    memset(&md5, 0, sizeof(md5));
    md5.value = (mg_str_t){sizeof(md5_text) - 1, (char *)md5_text};

    /* the value read, in an exactly sized copy: reading past it is caught */
    size_t prefix = 0, len = inlen;
    const char *nl = memchr(in, '\n', inlen);
    char *buf;
    unsigned char digest[MG_MD5_DIGEST_LEN];
    if (!(pick & 1)) {
        sc.variable = &variable;
        sc.md5 = &md5;
        if (pick & 2) {
            char b64[32];
            mg_md5(md5_text, sizeof(md5_text) - 1, digest);
            prefix = mg_base64_encode(digest, sizeof(digest), b64);
            while (prefix && b64[prefix - 1] == '=') {
                prefix--;
            }
            for (size_t i = 0; i < prefix; i++) {
                b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
            }
            len = prefix + inlen;
            buf = malloc(len);
            memcpy(buf, b64, prefix);
            memcpy(buf + prefix, in, inlen);
        } else {
            buf = malloc(len ? len : 1);
            memcpy(buf, in, len);
        }
        variable.value = (mg_str_t){len, buf};
    } else {
        sc.secret = (mg_str_t){sizeof(secret) - 1, (char *)secret};
        if ((pick & 2) && nl) {
            const char *link = nl + 1;
            size_t plen = (size_t)(nl - in), llen = inlen - plen - 1;
            mg_md5_t m;
            mg_md5_init(&m);
            mg_md5_update(&m, link, llen);
            mg_md5_update(&m, secret, sizeof(secret) - 1);
            mg_md5_final(&m, digest);
            len = 1 + plen + 1 + 2 * MG_MD5_DIGEST_LEN + 1 + llen;
            buf = malloc(len);
            char *p = buf;
            *p++ = '/';
            memcpy(p, in, plen);
            p += plen;
            *p++ = '/';
            for (int i = 0; i < MG_MD5_DIGEST_LEN; i++) {
                p += sprintf(p, "%02x", digest[i]); /* room: the link's byte at least follows */
            }
            *p++ = '/';
            memcpy(p, link, llen);
            prefix = plen;
        } else {
            buf = malloc(len ? len : 1);
            memcpy(buf, in, len);
        }
        r.unparsed_uri = (mg_str_t){len, buf};
    }

    mg_http_var_value_t v, e;
    memset(&v, 0, sizeof(v));
    memset(&e, 0, sizeof(e));
    if (var_secure_link(&r, &v, 0) != MG_OK || var_secure_link_expires(&r, &e, 0) != MG_OK) {
        abort();
    }
    int found = !v.not_found;
    if (pick & 1) {
        if (found) {
            /* the link lies in the URI and hashes right with the secret */
            if (v.value.len == 0 || v.value.data < buf || v.value.data + v.value.len > buf + len) {
                abort();
            }
            unsigned char got[MG_MD5_DIGEST_LEN];
            mg_md5_t m;
            mg_md5_init(&m);
            mg_md5_update(&m, v.value.data, v.value.len);
            mg_md5_update(&m, secret, sizeof(secret) - 1);
            mg_md5_final(&m, got);
            const char *hex = v.value.data - 1 - 2 * MG_MD5_DIGEST_LEN;
            for (int i = 0; i < MG_MD5_DIGEST_LEN; i++) {
                if (mg_hextoi(hex + 2 * i, 2) != got[i]) {
                    abort();
                }
            }
        }
        if ((pick & 2) && nl && !memchr(in, '/', prefix) && inlen > prefix + 1 && !found) {
            abort();
        }
        if (!e.not_found) {
            abort(); /* $secure_link_expires is the md5 form's */
        }
    } else {
        if (found && (v.value.len != 1 || (v.value.data[0] != '0' && v.value.data[0] != '1'))) {
            abort();
        }
        const char *comma = memchr(buf, ',', len);
        if (!e.not_found) {
            /* the text after the comma, digits only */
            if (comma == NULL || e.value.data != comma + 1 ||
                e.value.len != (size_t)(buf + len - comma - 1) ||
                mg_atoi(e.value.data, e.value.len) <= 0) {
                abort();
            }
        }
        if ((pick & 2) && !found) {
            int64_t t = inlen > 1 && in[0] == ',' ? mg_atoi(in + 1, inlen - 1) : -1;
            if (inlen == 0 || t > 0) {
                abort();
            }
        }
    }
    mg_pool_destroy(r.pool);
    free(buf);
    return 0;
}
