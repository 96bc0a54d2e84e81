/*
 * libFuzzer target for the FastCGI record parser (modules/fastcgi_parse.c), which reads what an
 * application sends: the input's first byte picks the piece size the rest is fed in (each piece
 * copied into a buffer of exactly its size, which the parser rewrites in place), and the
 * outcome (the stdout bytes, the stderr bytes, the end or the error and where) must be the one
 * of the input fed whole; stdout never grows a piece.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=fastcgi)
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../modules/fastcgi_parse.c"

typedef struct {
    char *buf;
    size_t len, cap;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (n == 0) {
        return;
    }
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 16;
        o->buf = realloc(o->buf, o->cap);
        if (o->buf == NULL) {
            abort();
        }
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static int on_err(void *data, const char *msg, size_t len)
{
    put(data, msg, len);
    return 0;
}

/* feed data in pieces of `piece` bytes: the result, stdout and stderr collected */
static int run(const uint8_t *data, size_t size, size_t piece, out_t *out, out_t *err,
               size_t *consumed)
{
    mg_fastcgi_parser_t p;
    memset(&p, 0, sizeof(p));
    int rc = 0;
    size_t off = 0;
    while (off < size && rc == 0) {
        size_t n = size - off < piece ? size - off : piece;
        char *b = malloc(n);
        if (b == NULL) {
            abort();
        }
        memcpy(b, data + off, n);
        size_t m = n;
        rc = mg_fastcgi_parse(&p, b, &m, on_err, err);
        if (m > n) {
            abort();
        }
        put(out, b, m);
        free(b);
        off += n;
    }
    *consumed = off;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t piece = data[0] % 16 + 1;
    data++;
    size--;
    out_t o1 = {0}, e1 = {0}, o2 = {0}, e2 = {0};
    size_t c1, c2;
    int r1 = run(data, size, size ? size : 1, &o1, &e1, &c1);
    int r2 = run(data, size, piece, &o2, &e2, &c2);
    /* the whole input stops where pieces stop, give or take the piece the end is in */
    if (r1 != r2 || o1.len != o2.len || e1.len != e2.len ||
        (o1.len && memcmp(o1.buf, o2.buf, o1.len) != 0) ||
        (e1.len && memcmp(e1.buf, e2.buf, e1.len) != 0)) {
        abort();
    }
    if (o1.len > size) {
        abort();
    }
    free(o1.buf);
    free(e1.buf);
    free(o2.buf);
    free(e2.buf);
    return 0;
}
