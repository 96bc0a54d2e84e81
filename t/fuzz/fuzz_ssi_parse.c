/*
 * libFuzzer target for the SSI parser (modules/ssi_parse.c): the input's first byte picks the
 * piece size the rest is fed in, and the transcript (text, commands with their parameters,
 * broken commands with their message) must be the one of the input fed whole; every text span
 * must lie inside its piece and a command's parameters inside their limits.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=ssi_parse)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "ssi.h"

typedef struct {
    char *buf;
    size_t len, cap;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->cap - o->len < n + 1) {
        o->cap = (o->cap + n + 1) * 2;
        o->buf = realloc(o->buf, o->cap);
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void transcript(mg_pool_t *pool, const uint8_t *d, size_t n, size_t step, out_t *o)
{
    mg_ssi_parser_t p;
    mg_ssi_parser_init(&p, pool, 20);
    for (size_t at = 0; at < n || n == 0; at += step) {
        size_t len = n - at < step ? n - at : step;
        char *copy = malloc(len ? len : 1);
        memcpy(copy, d + at, len);
        size_t i = 0;
        for (;;) {
            const char *s, *e;
            int rc = mg_ssi_parse(&p, copy, len, &i, &s, &e);
            if (rc == MG_SSI_AGAIN) {
                break;
            }
            if (rc == MG_SSI_TEXT) {
                if (s < copy || e > copy + len || s > e) {
                    abort();
                }
                put(o, s, (size_t)(e - s));
            } else if (rc == MG_SSI_PREFIX) {
                put(o, s, (size_t)(e - s));
            } else if (rc == MG_SSI_COMMAND) {
                if (p.command_len > MG_SSI_COMMAND_LEN || p.nparams > MG_SSI_MAX_PARAMS) {
                    abort();
                }
                put(o, "\0{", 2);
                put(o, p.command, p.command_len);
                for (size_t k = 0; k < p.nparams; k++) {
                    if (p.params[k].name.len > MG_SSI_PARAM_LEN || p.params[k].value.len > 20) {
                        abort();
                    }
                    put(o, "\0", 1);
                    put(o, p.params[k].name.data, p.params[k].name.len);
                    put(o, "\0", 1);
                    put(o, p.params[k].value.data, p.params[k].value.len);
                }
            } else {
                put(o, "\0!", 2);
                put(o, p.error, strlen(p.error));
            }
            if (i > len) {
                abort();
            }
        }
        free(copy);
        if (n == 0) {
            break;
        }
    }
    const char *s, *e;
    if (mg_ssi_parse_end(&p, &s, &e) == MG_SSI_PREFIX) {
        put(o, s, (size_t)(e - s));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t step = 1 + data[0] % 16;
    data++;
    size--;
    mg_pool_t *pool = mg_pool_create(4096);
    out_t whole = {0}, pieces = {0};
    transcript(pool, data, size, size ? size : 1, &whole);
    transcript(pool, data, size, step, &pieces);
    if (whole.len != pieces.len || (whole.len && memcmp(whole.buf, pieces.buf, whole.len) != 0)) {
        abort();
    }
    free(whole.buf);
    free(pieces.buf);
    mg_pool_destroy(pool);
    return 0;
}
