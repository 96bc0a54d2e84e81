/*
 * libFuzzer target for the memcached response reader (modules/memcached.c, included here for
 * its static decode hook and "VALUE key flags length" line parser). The input's first byte
 * picks the piece size the rest is fed to the decode hook in, as reads would cut it; the
 * result must be the one of the input fed whole: the first line and exactly the announced
 * data, the trailer dropped, nothing read past a piece. A VALUE line's key must lie inside
 * the line, its flags and length be non-negative.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=memcached)
 *
 * fuzz-link: libmoongate -Wl,--wrap=mg_log_error
 */
#include <stdlib.h>

#include "../../modules/memcached.c"
#include "conn.h"

/* the invalid-trailer message needs a whole connection's log; what is tested is the state */
void __wrap_mg_log_error(int level, mg_log_t *log, int err, const char *fmt, ...)
{
    (void)level;
    (void)log;
    (void)err;
    (void)fmt;
}

typedef struct {
    char *out;
    size_t len;
    int done, keepalive;
} result_t;

static void feed(const uint8_t *d, size_t n, size_t step, result_t *res)
{
    static mg_connection_t c;
    static mg_http_conn_t hc;
    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.connection = &c;
    r.hc = &hc;
    memc_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.u.r = &r;
    ctx.u.keepalive = 1;
    reinit(&ctx.u);
    res->out = malloc(n + 1);
    res->len = 0;
    for (size_t at = 0; at < n && !ctx.u.decoded_end; at += step) {
        size_t len = n - at < step ? n - at : step;
        char *piece = malloc(len); /* exactly sized: reading past it is caught */
        memcpy(piece, d + at, len);
        size_t got = len;
        mg_int_t rc = decode(&ctx.u, piece, &got);
        if (got > len || (rc == MG_DONE) != ctx.u.decoded_end) {
            abort();
        }
        memcpy(res->out + res->len, piece, got);
        res->len += got;
        free(piece);
    }
    res->done = ctx.u.decoded_end;
    res->keepalive = ctx.u.keepalive;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t step = 1 + data[0] % 16;
    data++;
    size--;

    const uint8_t *nl = memchr(data, '\n', size);
    if (nl) {
        size_t l = (size_t)(nl - data);
        char *line = malloc(l ? l : 1);
        memcpy(line, data, l);
        mg_str_t key;
        int64_t flags, dlen;
        if (value_line(line, l, &key, &flags, &dlen) &&
            (key.data < line || key.data + key.len > line + l || flags < 0 || dlen < 0)) {
            abort();
        }
        free(line);
    }

    result_t whole, pieces;
    feed(data, size, size ? size : 1, &whole);
    feed(data, size, step, &pieces);
    if (whole.len != pieces.len || memcmp(whole.out, pieces.out, whole.len) != 0 ||
        whole.done != pieces.done || whole.keepalive != pieces.keepalive) {
        abort();
    }
    free(whole.out);
    free(pieces.out);
    return 0;
}
