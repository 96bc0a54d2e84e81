/*
 * libFuzzer target for core/http/parse.c. The first input byte picks the header capacity,
 * merge_slashes and the chunk feed pattern; the second and the piece lengths after it pick how
 * the head is split; the rest is parsed as a request head, whole and in those pieces (moved
 * to a new block between reads), its path normalized and args unescaped, and decoded as a
 * chunked body fed whole and in pieces. Beyond crashes it checks invariants: the split head
 * gives exactly the whole head's result, spans inside the buffer, prefixes of a complete head
 * are AGAIN, a non-complex path normalizes to itself, normalized output has no dot segments,
 * and chunked output does not depend on how the input was split.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -o /tmp/fuzz_parse t/fuzz/fuzz_parse.c
 * Run:   /tmp/fuzz_parse -dict=t/fuzz/parse.dict -max_total_time=180
 */
#include "../../core/http/parse.c"

#include <sanitizer/asan_interface.h>
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
        for (unsigned flags = 0; flags < 8; flags++) { /* every MG_UNESCAPE_* combination */
            size_t r1 = mg_http_unescape(h->args.data, an, a, flags);
            memcpy(b, h->args.data, an);
            size_t r2 = mg_http_unescape(b, an, b, flags);
            CHECK(r1 <= an && r1 == r2 && memcmp(a, b, r1) == 0);
        }
        free(a);
        free(b);
    }
}

/* A head parsed with a header array that starts at `cap` entries and grows when the parser
 * asks (the connection does the same). */
typedef struct {
    mg_http_request_head_t h;
    ssize_t rc;
} run_t;

static void grow(mg_http_request_head_t *h)
{
    size_t cap = h->max_headers * 2 + 1;
    mg_http_header_t *a = malloc(cap * sizeof(*a));
    memcpy(a, h->headers, h->nheaders * sizeof(*a));
    free(h->headers);
    h->headers = a;
    h->max_headers = cap;
}

static ssize_t feed(mg_http_request_head_t *h, const char *buf, size_t len)
{
    ssize_t rc;
    while ((rc = mg_http_parse_request_head(buf, len, h)) == MG_PARSE_TOO_MANY_HEADERS)
        grow(h);
    return rc;
}

static void run_init(run_t *r, size_t cap)
{
    mg_http_parse_init(&r->h, malloc(cap ? cap * sizeof(mg_http_header_t) : 1), cap);
}

/* The whole head in one call. */
static void run_whole(run_t *r, const char *buf, size_t len, size_t cap)
{
    run_init(r, cap);
    r->rc = feed(&r->h, buf, len);
}

/* The head in pieces: `npieces` lengths from `pieces` (each 1..256), then the rest `step`
 * bytes at a time (0: at once). The bytes not yet "read" are poisoned, so ASan catches any
 * look past them; after each explicit piece the head moves to a new block, as when the
 * connection's buffer moves or grows, so ASan also catches a stale pointer. Returns the final
 * block (the caller frees it); spans point into it. */
static char *run_split(run_t *r, const char *buf, size_t len, size_t cap, const uint8_t *pieces,
                       size_t npieces, size_t step)
{
    char *cur = malloc(len ? len : 1);
    size_t avail = 0, i = 0;

    memcpy(cur, buf, len);
    ASAN_POISON_MEMORY_REGION(cur, len);
    run_init(r, cap);
    for (;;) {
        int move = i < npieces;
        size_t next = move ? avail + pieces[i++] + 1 : step ? avail + step : len;
        if (next > len)
            next = len;
        if (move) {
            char *nb = malloc(len ? len : 1);
            memcpy(nb, buf, len);
            ASAN_POISON_MEMORY_REGION(nb, len);
            mg_http_parse_rebase(&r->h, cur, nb);
            ASAN_UNPOISON_MEMORY_REGION(cur, len);
            free(cur);
            cur = nb;
            ASAN_UNPOISON_MEMORY_REGION(cur, next);
        } else {
            ASAN_UNPOISON_MEMORY_REGION(cur + avail, next - avail);
        }
        avail = next;
        r->rc = feed(&r->h, cur, avail);
        if (r->rc != MG_PARSE_AGAIN || avail == len) {
            ASAN_UNPOISON_MEMORY_REGION(cur, len);
            return cur;
        }
    }
}

static void same_span(mg_span_t a, const char *abuf, mg_span_t b, const char *bbuf)
{
    CHECK(a.len == b.len && (a.data == NULL) == (b.data == NULL));
    if (a.data)
        CHECK(a.data - abuf == b.data - bbuf);
}

/* Everything a caller may look at after rc. */
static void same_result(const run_t *a, const char *abuf, const run_t *b, const char *bbuf)
{
    const mg_http_request_head_t *x = &a->h, *y = &b->h;
    CHECK(a->rc == b->rc);
    CHECK(x->request_line_done == y->request_line_done && x->line_start == y->line_start);
    CHECK(x->nheaders == y->nheaders);
    for (size_t i = 0; i < x->nheaders; i++) {
        same_span(x->headers[i].name, abuf, y->headers[i].name, bbuf);
        same_span(x->headers[i].value, abuf, y->headers[i].value, bbuf);
    }
    if (a->rc == MG_PARSE_AGAIN)
        return;
    if (a->rc < 0) {
        CHECK(x->error_at == y->error_at);
        if (a->rc == MG_PARSE_INVALID_VERSION)
            CHECK(x->http_major == y->http_major);
        return;
    }
    same_span(x->request_line, abuf, y->request_line, bbuf);
    same_span(x->method, abuf, y->method, bbuf);
    same_span(x->target, abuf, y->target, bbuf);
    same_span(x->schema, abuf, y->schema, bbuf);
    same_span(x->host, abuf, y->host, bbuf);
    same_span(x->path, abuf, y->path, bbuf);
    same_span(x->args, abuf, y->args, bbuf);
    CHECK(x->method_id == y->method_id && x->http_major == y->http_major &&
          x->http_minor == y->http_minor && x->complex_uri == y->complex_uri);
}

static void fuzz_head(const char *buf, size_t len, size_t cap, int merge, const uint8_t *pieces,
                      size_t npieces, size_t step)
{
    run_t w, s;
    run_whole(&w, buf, len, cap);
    mg_http_request_head_t h = w.h;
    ssize_t rc = w.rc;

    /* the same head in pieces, moved between reads, gives exactly the same result */
    char *sbuf = run_split(&s, buf, len, cap, pieces, npieces, step);
    same_result(&w, buf, &s, sbuf);
    free(sbuf);
    free(s.h.headers);

    if (rc == MG_PARSE_AGAIN) {
        CHECK(h.line_start <= len);
        goto out;
    }
    if (rc < 0) {
        CHECK(rc >= MG_PARSE_INVALID_HEADER);
        CHECK(h.error_at < len);
        /* the error lies at or after error_at: what comes before it is still fine */
        run_t p;
        run_whole(&p, buf, h.error_at, cap);
        CHECK(p.rc == MG_PARSE_AGAIN);
        free(p.h.headers);
        goto out;
    }

    size_t n = (size_t)rc;
    CHECK(n <= len && h.request_line_done && h.nheaders <= h.max_headers);
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
        check_span(h.headers[i].name, buf, n);
        check_span(h.headers[i].value, buf, n);
        CHECK(h.headers[i].name.len > 0 && h.headers[i].name.data[0] != ':');
        CHECK(h.headers[i].value.data >= h.headers[i].name.data + h.headers[i].name.len);
        /* values never start or end with a space */
        if (h.headers[i].value.len)
            CHECK(h.headers[i].value.data[0] != ' ' &&
                  h.headers[i].value.data[h.headers[i].value.len - 1] != ' ');
    }

    run_t p;
    run_whole(&p, buf, n - 1, cap);
    CHECK(p.rc == MG_PARSE_AGAIN);
    free(p.h.headers);

    fuzz_uri(&h, merge);
out:
    free(w.h.headers);
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
    if (size < 2)
        return 0;
    unsigned cfg = data[0];
    /* how the head is split: data[1] & 15 piece lengths follow, then the rest goes in
     * steps of data[1] >> 4 bytes (0: at once) */
    size_t npieces = data[1] & 15, step = data[1] >> 4;
    if (size < 2 + npieces)
        return 0;
    const uint8_t *pieces = data + 2;
    /* copy to an exact-size block so ASan sees any read past the end */
    size_t len = size - 2 - npieces;
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data + 2 + npieces, len);

    fuzz_head(buf, len, cfg & 15, (cfg >> 4) & 1, pieces, npieces, step);
    fuzz_chunked(buf, len, (cfg >> 6) | ((unsigned)len << 2), cfg & 32 ? 0 : 256);

    free(buf);
    return 0;
}
