/*
 * libFuzzer target for the slice module's reading of an upstream 206's Content-Range
 * (modules/slice.c's parse_content_range, included here for its static functions); the input
 * is the header's value. Beyond crashes and overflow it checks that a value taken has
 * 0 <= start <= end and a length of -1 ("*") or more, and that the line printed back from
 * those numbers reads the same.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=slice)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/slice.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1); /* exactly sized: reading past it is caught */
    memcpy(copy, data, size);
    off_t s = 0, e = 0, len = 0;
    if (parse_content_range((mg_str_t){size, copy}, &s, &e, &len)) {
        if (s < 0 || s > e || len < -1) {
            abort();
        }
        char line[80];
        int n = len < 0
                    ? snprintf(line, sizeof(line), "bytes %lld-%lld/*", (long long)s, (long long)e)
                    : snprintf(line, sizeof(line), "bytes %lld-%lld/%lld", (long long)s,
                               (long long)e, (long long)len);
        off_t s2, e2, len2;
        if (!parse_content_range((mg_str_t){(size_t)n, line}, &s2, &e2, &len2) || s2 != s ||
            e2 != e || len2 != len) {
            abort();
        }
    }
    free(copy);
    return 0;
}
