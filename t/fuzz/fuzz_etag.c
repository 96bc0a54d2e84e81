/*
 * libFuzzer target for If-Match / If-None-Match entity-tag lists (modules/not_modified.c's
 * etag_matches, included here for its static functions). The input's first byte is the
 * response ETag's length (0-63) and picks weak or strong comparison; then the ETag, then
 * the header's value. Beyond crashes it checks that a list holding exactly the ETag matches
 * and that "*" matches anything.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=etag)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/not_modified.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || (size_t)(data[0] & 63) > size - 1) {
        return 0;
    }
    size_t elen = data[0] & 63;
    int weak = data[0] >> 7;
    /* exactly sized copies: reading past them is caught */
    char *etag = malloc(elen ? elen : 1);
    memcpy(etag, data + 1, elen);
    size_t vlen = size - 1 - elen;
    char *value = malloc(vlen ? vlen : 1);
    memcpy(value, data + 1 + elen, vlen);

    mg_request_t r;
    memset(&r, 0, sizeof(r));
    mg_table_elt_t e = {{4, "ETag"}, {elen, etag}, 1};
    r.headers_out.etag = &e;
    mg_table_elt_t h = {{13, "If-None-Match"}, {vlen, value}, 1};
    int m = etag_matches(&r, &h, weak);
    if (vlen == 1 && value[0] == '*' && !m) {
        abort();
    }
    if (elen && vlen == elen && memcmp(etag, value, elen) == 0 && !m) {
        abort();
    }
    free(value);
    free(etag);
    return 0;
}
