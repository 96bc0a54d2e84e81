/*
 * libFuzzer target for core/http/parse.c. The first input byte picks the header capacity,
 * merge_slashes and the chunk feed pattern; the rest is parsed as a request head, its path
 * normalized and args unescaped, and decoded as a chunked body fed whole and in pieces.
 * Beyond crashes it checks invariants: spans inside the buffer, prefixes of a complete head
 * are AGAIN, a non-complex path normalizes to itself, normalized output has no dot segments,
 * and chunked output does not depend on how the input was split.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -o /tmp/fuzz_parse t/fuzz/fuzz_parse.c
 * Run:   /tmp/fuzz_parse -dict=t/fuzz/parse.dict -max_total_time=180
 */
#include "../../core/http/parse.c"

#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static void check_span(mg_span_t s, const char *buf, size_t len)
{
    if (s.len == 0)
        return;
    CHECK(s.data >= buf && s.data + s.len <= buf + len);
}

static void check_normalized(const char *o, size_t n, int merge)
{
    CHECK(n >= 1 && o[0] == '/');
    for (size_t i = 0; i < n; i++) {
        if (o[i] != '/')
            continue;
        size_t j = i + 1;
        while (j < n && o[j] != '/')
            j++;
        size_t seg = j - i - 1;
        CHECK(!(seg == 1 && o[i + 1] == '.'));
        CHECK(!(seg == 2 && o[i + 1] == '.' && o[i + 2] == '.'));
        if (merge)
            CHECK(!(seg == 0 && j < n));
    }
}

static void fuzz_uri(const mg_http_request_head_t *h, int merge)
{
    size_t n = h->path.len;
    char *out = malloc(n);
    ssize_t rc = mg_http_normalize_uri(h->path.data, n, out, merge);

    if (!h->complex_uri) {
        /* the parser promised the raw path is already $uri */
        CHECK(rc == (ssize_t)n && memcmp(out, h->path.data, n) == 0);
    }
    if (rc >= 0) {
        CHECK((size_t)rc <= n);
        check_normalized(out, (size_t)rc, merge);
        if (memchr(out, '%', (size_t)rc) == NULL) {
            /* idempotent once nothing is left to decode; also exercise in-place use */
            char *again = malloc((size_t)rc);
            memcpy(again, out, (size_t)rc);
            ssize_t rc2 = mg_http_normalize_uri(again, (size_t)rc, again, merge);
            CHECK(rc2 == rc && memcmp(again, out, (size_t)rc) == 0);
            free(again);
        }
    } else {
        CHECK(rc == MG_PARSE_INVALID_REQUEST);
    }
    free(out);

    if (h->args.data) {
        size_t an = h->args.len;
        char *a = malloc(an + 1), *b = malloc(an + 1);
        size_t r1 = mg_http_unescape(h->args.data, an, a);
        memcpy(b, h->args.data, an);
        size_t r2 = mg_http_unescape(b, an, b);
        CHECK(r1 <= an && r1 == r2 && memcmp(a, b, r1) == 0);
        free(a);
        free(b);
    }
}

static void fuzz_head(const char *buf, size_t len, size_t cap, int merge)
{
    mg_http_header_t headers[16];
    mg_http_request_head_t h = {.headers = headers, .nheaders = cap};
    ssize_t rc = mg_http_parse_request_head(buf, len, &h);

    if (rc == MG_PARSE_AGAIN) {
        CHECK(h.line_start <= len);
        return;
    }
    if (rc < 0) {
        CHECK(rc >= MG_PARSE_TOO_MANY_HEADERS);
        CHECK(h.error_at < len);
        /* the error is found as soon as the offending byte is in: restartable parsing */
        mg_http_request_head_t h2 = {.headers = headers, .nheaders = cap};
        CHECK(mg_http_parse_request_head(buf, h.error_at + 1, &h2) == rc);
        return;
    }

    size_t n = (size_t)rc;
    CHECK(n <= len && h.request_line_done && h.nheaders <= cap);
    CHECK(h.method.len > 0 && h.path.len > 0 && h.path.data[0] == '/');
    CHECK(h.http_major == 1 || (h.http_major == 0 && h.http_minor == 9));
    check_span(h.request_line, buf, n);
    check_span(h.method, buf, n);
    check_span(h.target, buf, n);
    check_span(h.schema, buf, n);
    check_span(h.host, buf, n);
    check_span(h.path, buf, n);
    check_span(h.args, buf, n);
    for (size_t i = 0; i < h.nheaders; i++) {
        check_span(headers[i].name, buf, n);
        check_span(headers[i].value, buf, n);
        CHECK(headers[i].name.len > 0);
    }

    mg_http_header_t headers2[16];
    mg_http_request_head_t h2 = {.headers = headers2, .nheaders = cap};
    CHECK(mg_http_parse_request_head(buf, n - 1, &h2) == MG_PARSE_AGAIN);

    fuzz_uri(&h, merge);
}

/* Decode buf[0..len) handing the decoder `avail` bytes at a time, growing by the steps an
 * xorshift seeded from `seed` picks (seed 0: everything at once). The output goes to out. */
static int run_chunked(const char *buf, size_t len, unsigned seed, uint64_t max_chunk, char *out,
                       size_t *outlen, size_t *end)
{
    mg_http_chunked_t ctx = {.max_chunk = max_chunk};
    size_t avail = seed ? 0 : len, pos = 0;
    unsigned x = seed | 1;
    int rc;

    *outlen = 0;
    for (;;) {
        const char *d;
        size_t dl;
        rc = mg_http_parse_chunked(&ctx, buf, avail, &pos, &d, &dl);
        CHECK(pos <= avail);
        if (rc == 0 && dl > 0) {
            CHECK(d >= buf && d + dl == buf + pos);
            memcpy(out + *outlen, d, dl);
            *outlen += dl;
            continue;
        }
        if (rc == 0) {
            CHECK(ctx.done);
            break;
        }
        CHECK(rc == MG_PARSE_AGAIN || rc == MG_PARSE_INVALID_CHUNK);
        if (rc != MG_PARSE_AGAIN || avail == len)
            break;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t step = 1 + x % 8;
        avail = len - avail < step ? len : avail + step;
    }
    *end = pos;
    return rc;
}

static void fuzz_chunked(const char *buf, size_t len, unsigned seed, uint64_t max_chunk)
{
    char *o1 = malloc(len + 1), *o2 = malloc(len + 1);
    size_t n1, n2, e1, e2;
    int rc1 = run_chunked(buf, len, 0, max_chunk, o1, &n1, &e1);
    int rc2 = run_chunked(buf, len, seed, max_chunk, o2, &n2, &e2);

    /* data is handed out before any later error is seen, so even then both runs agree */
    CHECK(rc1 == rc2 && n1 == n2 && memcmp(o1, o2, n1) == 0);
    if (rc1 != MG_PARSE_AGAIN)
        CHECK(e1 == e2);
    free(o1);
    free(o2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned cfg = data[0];
    /* copy to an exact-size block so ASan sees any read past the end */
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data + 1, len);

    fuzz_head(buf, len, cfg & 15, (cfg >> 4) & 1);
    fuzz_chunked(buf, len, (cfg >> 6) | ((unsigned)len << 2), cfg & 32 ? 0 : 256);

    free(buf);
    return 0;
}
