/*
 * libFuzzer target for sub_filter's streaming matcher (modules/sub_filter.c's sub_piece, included
 * here for its static functions): up to four strings replaced in a body fed in pieces, with a
 * possible match's start held across them. The input's first byte picks sub_filter_once and
 * the piece size; then come the strings, each a length byte (mod 8, 0 ends the list) and its
 * bytes; the rest is the body. The body fed in pieces must give the output of the body fed
 * whole, and what is held never exceeds the longest string.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=sub_filter)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/sub_filter.c"

typedef struct {
    char *buf;
    size_t len, cap;
} out_t;

static void collect(mg_buf_t *b, out_t *o)
{
    for (; b; b = b->next) {
        size_t n = b->pos ? (size_t)(b->last - b->pos) : 0;
        if (o->cap - o->len < n) {
            o->cap = (o->cap + n) * 2;
            o->buf = realloc(o->buf, o->cap);
        }
        if (n) {
            memcpy(o->buf + o->len, b->pos, n);
        }
        o->len += n;
    }
}

static void feed(sub_match_t *proto, size_t nm, int once, const uint8_t *d, size_t n, size_t step,
                 out_t *o)
{
    sub_conf_t conf;
    memset(&conf, 0, sizeof(conf));
    conf.once = once;
    static void *loc_conf[512];
    loc_conf[mg_sub_filter_module.index] = &conf;
    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.pool = mg_pool_create(1024);
    r.loc_conf = loc_conf;
    sub_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    sub_match_t m[4];
    memcpy(m, proto, nm * sizeof(m[0]));
    ctx.m = m;
    ctx.nm = nm;
    for (size_t k = 0; k < nm; k++) {
        ctx.maxlen = m[k].match.len > ctx.maxlen ? m[k].match.len : ctx.maxlen;
    }
    set_first(&ctx);
    size_t at = 0;
    do {
        size_t len = n - at < step ? n - at : step;
        /* exactly sized: reading outside the piece is caught; freed once its output is read */
        char *piece = malloc(len ? len : 1);
        memcpy(piece, d + at, len);
        mg_buf_t *out = NULL, **tail = &out;
        sub_piece(&r, &ctx, piece, len, at + len == n, &tail);
        collect(out, o);
        free(piece);
        if (ctx.hold_len > ctx.maxlen || (at + len == n && ctx.hold_len)) {
            abort();
        }
        at += len;
    } while (at < n);
    mg_pool_destroy(r.pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int once = data[0] & 1;
    size_t step = 1 + (data[0] >> 1) % 16;
    data++;
    size--;
    sub_match_t m[4];
    memset(m, 0, sizeof(m));
    static char low_text[4][8];
    static const char *const values[4] = {"", "<1>", "[two]", "3"};
    size_t nm = 0;
    while (nm < 4 && size > 0) {
        size_t l = data[0] % 8;
        if (l == 0 || l > size - 1) {
            break;
        }
        for (size_t j = 0; j < l; j++) {
            low_text[nm][j] = (char)low(data[1 + j]); /* configured strings are lowercased */
        }
        m[nm].match = (mg_str_t){l, low_text[nm]};
        m[nm].value = (mg_str_t){strlen(values[nm]), (char *)values[nm]};
        nm++;
        data += 1 + l;
        size -= 1 + l;
    }
    if (size > 0 && data[0] % 8 == 0) {
        data++;
        size--;
    }
    if (nm == 0) {
        return 0;
    }
    out_t whole = {0}, pieces = {0};
    feed(m, nm, once, data, size, size ? size : 1, &whole);
    feed(m, nm, once, data, size, step, &pieces);
    if (whole.len != pieces.len || (whole.len && memcmp(whole.buf, pieces.buf, whole.len) != 0)) {
        abort();
    }
    free(whole.buf);
    free(pieces.buf);
    return 0;
}
