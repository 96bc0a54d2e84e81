/*
 * libFuzzer target for the WebDAV module's request headers (modules/dav.c, included here for
 * its static functions): Destination (a path or an http:// URL naming this server, taken to
 * its query, unescaped and refused with "." or ".." segments or a NUL) and Depth. The input's
 * first byte is the Host's length (0-15), then the Host, then the header's value, read both
 * as Destination and as Depth. Beyond crashes it checks that a destination taken starts with
 * "/" and has no NUL and no dot segment, that a plain path comes back as it was, and that
 * Depth is one of its four answers, as the value says.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=dav)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/dav.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || (size_t)(data[0] & 15) > size - 1) {
        return 0;
    }
    size_t hlen = data[0] & 15, vlen = size - 1 - hlen;
    /* exactly sized copies: reading past them is caught */
    char *host = malloc(hlen ? hlen : 1);
    memcpy(host, data + 1, hlen);
    char *value = malloc(vlen ? vlen : 1);
    memcpy(value, data + 1 + hlen, vlen);

    static mg_connection_t c;
    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.connection = &c;
    r.pool = mg_pool_create(1024);
    r.headers_in.server = (mg_str_t){hlen, host};
    mg_array_init(&r.headers_in.headers, r.pool, 2, sizeof(mg_table_elt_t));
    mg_table_elt_t *h = mg_array_push(&r.headers_in.headers);
    *h = (mg_table_elt_t){{11, "Destination"}, {vlen, value}, 1};
    h = mg_array_push(&r.headers_in.headers);
    *h = (mg_table_elt_t){{5, "Depth"}, {vlen, value}, 1};

    mg_str_t *d = dav_destination(&r);
    if (d) {
        if (d->len == 0 || d->data[0] != '/' || memchr(d->data, '\0', d->len) || unsafe_uri(*d)) {
            abort();
        }
        if (vlen && value[0] == '/' && !memchr(value, '%', vlen) && !memchr(value, '?', vlen) &&
            (d->len != vlen || memcmp(d->data, value, vlen) != 0)) {
            abort();
        }
    } else if (vlen && value[0] == '/' && !memchr(value, '%', vlen) && !memchr(value, '?', vlen) &&
               !memchr(value, '\0', vlen) && !unsafe_uri((mg_str_t){vlen, value})) {
        abort(); /* a plain safe path is taken */
    }
    mg_int_t depth = dav_depth(&r);
    int digit = vlen == 1 && (value[0] == '0' || value[0] == '1');
    if ((digit && depth != value[0] - '0') ||
        (!digit && depth != (mg_str_caseeq((mg_str_t){vlen, value}, "infinity") ? DAV_INFINITY
                                                                                : DAV_INVALID))) {
        abort();
    }
    mg_pool_destroy(r.pool);
    free(value);
    free(host);
    return 0;
}
