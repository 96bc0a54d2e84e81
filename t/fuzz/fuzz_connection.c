/*
 * libFuzzer target for the Connection header's reading (core/http/headers_in.c
 * parse_connection), included for its static function. The input's first byte is the
 * request's state before (its three bits), the rest the header's lines, one per '\n', read in
 * order. Beyond crashes it checks the result against a model of nginx 1.22's reading: the last
 * line holding "close" or "keep-alive" anywhere (any case; "close" first) decides, and Upgrade
 * is set by a line with the token "upgrade" in its comma, space or tab separated list.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=connection)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../core/http/headers_in.c"

static int has(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++) {
        if (strncasecmp(s + i, word, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int sep(char c)
{
    return c == ',' || c == ' ' || c == '\t';
}

static int has_token(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++) {
        if ((i == 0 || sep(s[i - 1])) && (i + n == len || sep(s[i + n])) &&
            strncasecmp(s + i, word, n) == 0) {
            return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    unsigned before = data[0];
    data++;
    size--;
    /* an exactly sized copy: reading past it is caught */
    char *v = malloc(size ? size : 1);
    memcpy(v, data, size);

    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.headers_in.connection_close = before & 1;
    r.headers_in.connection_keep_alive = (before >> 1) & 1;
    r.headers_in.connection_upgrade = (before >> 2) & 1;
    unsigned close = before & 1, keep = (before >> 1) & 1, upgrade = (before >> 2) & 1;
    for (size_t at = 0; at <= size;) {
        const char *nl = memchr(v + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - v) : size;
        /* each line in its own exactly sized buffer */
        char *line = malloc(end - at ? end - at : 1);
        memcpy(line, v + at, end - at);
        parse_connection(&r, (mg_str_t){end - at, line});
        if (has(line, end - at, "close")) {
            close = 1;
            keep = 0;
        } else if (has(line, end - at, "keep-alive")) {
            close = 0;
            keep = 1;
        }
        if (has_token(line, end - at, "upgrade")) {
            upgrade = 1;
        }
        free(line);
        at = end + 1;
    }
    if (r.headers_in.connection_close != close || r.headers_in.connection_keep_alive != keep ||
        r.headers_in.connection_upgrade != upgrade) {
        fprintf(stderr, "got close %u keep-alive %u upgrade %u, want %u %u %u\n",
                r.headers_in.connection_close, r.headers_in.connection_keep_alive,
                r.headers_in.connection_upgrade, close, keep, upgrade);
        abort();
    }
    free(v);
    return 0;
}
