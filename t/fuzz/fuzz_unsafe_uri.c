/*
 * libFuzzer target for mg_http_parse_unsafe_uri (core/http/parse.c): the URI an upstream's
 * X-Accel-Redirect, ngx.exec or a Lua subrequest names, unescaped, split at its "?" and
 * refused with a ".." segment or a NUL. The input is the URI. Beyond crashes it checks that
 * a path taken is not empty, no longer than what it came from, has no NUL and no ".."
 * segment, that the arguments start after the first "?" (or past the end without one), and
 * that a path without "%" comes back as it was.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=unsafe_uri)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exactly sized copies: reading or writing past them is caught */
    char *uri = malloc(size ? size : 1);
    memcpy(uri, data, size);
    char *out = malloc(size ? size : 1);
    size_t args_at;
    ssize_t n = mg_http_parse_unsafe_uri(uri, size, out, &args_at);
    const char *q = memchr(uri, '?', size);
    size_t plen = q ? (size_t)(q - uri) : size;
    if (args_at != (q ? plen + 1 : size + 1)) {
        abort();
    }
    if (n >= 0) {
        if (n == 0 || (size_t)n > plen || memchr(out, '\0', (size_t)n)) {
            abort();
        }
        for (ssize_t i = 0; i + 1 < n; i++) {
            if ((i == 0 || out[i - 1] == '/') && out[i] == '.' && out[i + 1] == '.' &&
                (i + 2 == n || out[i + 2] == '/')) {
                abort();
            }
        }
        if (!memchr(uri, '%', plen) && ((size_t)n != plen || memcmp(out, uri, plen) != 0)) {
            abort();
        }
    }
    free(out);
    free(uri);
    return 0;
}
