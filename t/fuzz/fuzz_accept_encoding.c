/*
 * libFuzzer target for the gzip module's request-header readers (modules/gzip.c, included
 * here for its static functions, also used by gzip_static and gunzip): Accept-Encoding with
 * its q-values (accepts_gzip) and gzip_disable msie6's User-Agent test (is_msie6); the input
 * is the header's value. Beyond crashes it checks what needs no second reading: a value that
 * starts "gzip," (the shortcut mg_http_gzip_ok takes) is accepted, one without "gzip" in any
 * case is not, and a q of exactly 0 refuses.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=accept_encoding)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/gzip.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1); /* exactly sized: reading past it is caught */
    memcpy(copy, data, size);
    mg_str_t v = {size, copy};
    int ok = accepts_gzip(v);
    if (size >= 5 && memcmp(copy, "gzip,", 5) == 0 && !ok) {
        abort();
    }
    if (ok && mg_strlcasestrn(copy, copy + size, "gzip", 4) == NULL) {
        abort();
    }
    if (size == 8 && mg_strncasecmp(copy, "gzip;q=0", 8) == 0 && ok) {
        abort();
    }
    is_msie6(v);
    free(copy);
    return 0;
}
