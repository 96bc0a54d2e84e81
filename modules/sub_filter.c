/*
 * sub_filter: nginx's ngx_http_sub_module. Replaces strings in a response body as it streams
 * through, case-insensitively: at each place the leftmost match wins, and of several strings
 * matching there the first configured one. What may be the start of a match at the end of a
 * piece is kept (copied, at most the longest string less a byte) until the next piece says.
 * One piece is worked on at a time: file buffers are read 32 KB at a time into one buffer,
 * and when the socket is full the rest of the input waits (r->buffered) for the writer.
 */
#include <unistd.h>

#include "filter_queue.h"
#include "filter_types.h"
#include "script.h"

#define READ_SIZE 32768

typedef struct {
    mg_http_complex_value_t match;
    mg_http_complex_value_t value;
} sub_pair_t;

typedef struct {
    mg_array_t *pairs; /* sub_pair_t; NULL while unset (a level with its own drops the parent's) */
    mg_filter_types_t types;
    int once;
    int last_modified;
} sub_conf_t;

typedef struct {
    mg_str_t match; /* lowercase */
    mg_str_t value;
    sub_pair_t *pair;
    unsigned used : 1;
} sub_match_t;

typedef struct {
    sub_match_t *m;
    size_t nm, active;
    size_t maxlen;
    uint8_t first[32]; /* bitmap of the first bytes of the active strings (lowercase) */
    char *hold[2];     /* a possible match's start, kept across pieces (alternating) */
    size_t hold_len;
    int hold_i;
    mg_buf_t *in, **in_tail;
    char *rbuf;        /* file pieces */
    mg_buf_set_t bufs; /* output buffer structs */
    unsigned busy : 1; /* the filters after us still have our output (they said MG_AGAIN) */
    int held;          /* r->buffered is set for our input */
    unsigned done : 1;
} sub_ctx_t;

mg_module_t mg_sub_filter_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_sub_filter_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_sub_filter_module, in);
}

static const char *const default_types[] = {NULL};

static void set_first(sub_ctx_t *ctx)
{
    memset(ctx->first, 0, sizeof(ctx->first));
    ctx->active = 0;
    for (size_t i = 0; i < ctx->nm; i++) {
        if (!ctx->m[i].used) {
            unsigned char c = (unsigned char)ctx->m[i].match.data[0];
            ctx->first[c >> 3] |= (uint8_t)(1u << (c & 7));
            ctx->active++;
        }
    }
}

static mg_int_t sub_header_filter(mg_request_t *r)
{
    sub_conf_t *conf = mg_http_get_loc_conf(r, mg_sub_filter_module);
    if (conf->pairs == NULL || r->headers_out.content_length_n == 0 ||
        !mg_filter_types_test(r, &conf->types)) {
        return next_header_filter(r);
    }
    sub_ctx_t *ctx = mg_pcalloc(r->pool, sizeof(*ctx));
    sub_pair_t *p = conf->pairs->elts;
    ctx->m = mg_pcalloc(r->pool, conf->pairs->nelts * sizeof(sub_match_t));
    for (size_t i = 0; i < conf->pairs->nelts; i++) {
        mg_str_t s = mg_http_complex_value(r, &p[i].match);
        if (s.len == 0) {
            continue; /* a variable that came out empty matches nothing */
        }
        char *low = mg_pnalloc(r->pool, s.len);
        mg_strlow(low, s.data, s.len);
        sub_match_t *m = &ctx->m[ctx->nm++];
        m->match = (mg_str_t){s.len, low};
        m->pair = &p[i];
        if (s.len > ctx->maxlen) {
            ctx->maxlen = s.len;
        }
    }
    if (ctx->nm == 0) {
        return next_header_filter(r);
    }
    set_first(ctx);
    ctx->in_tail = &ctx->in;
    mg_http_set_ctx(r, ctx, mg_sub_filter_module);
    if (r->parent == NULL) {
        mg_http_clear_content_length(r);
        if (!conf->last_modified) {
            mg_http_clear_last_modified(r);
            mg_filter_clear_etag(r);
        } else {
            mg_filter_weak_etag(r);
        }
    }
    r->allow_ranges = 0;
    return next_header_filter(r);
}

/* ---- body ---- */

/* An output buffer struct of ours (buf.h's mg_buf_set_t says why they are kept apart). */
static mg_buf_t *out_buf(mg_request_t *r, sub_ctx_t *ctx, const char *data, size_t len)
{
    mg_buf_t *b = mg_buf_set_get(&ctx->bufs, r->pool);
    b->pos = (char *)data;
    b->last = data ? (char *)data + len : NULL;
    return b;
}

static inline unsigned char low(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* Match the text held + data at virtual position i against the active strings: the first
 * (configured order) that matches whole, or -1; *partial when an earlier string runs into the
 * end of the text and could still match there. */
static int match_at(sub_ctx_t *ctx, const char *h, size_t hl, const char *d, size_t tl, size_t i,
                    int *partial)
{
    *partial = 0;
    for (size_t k = 0; k < ctx->nm; k++) {
        sub_match_t *m = &ctx->m[k];
        if (m->used) {
            continue;
        }
        size_t j = 0;
        while (j < m->match.len && i + j < tl) {
            size_t v = i + j;
            unsigned char c = (unsigned char)(v < hl ? h[v] : d[v - hl]);
            if (low(c) != (unsigned char)m->match.data[j]) {
                break;
            }
            j++;
        }
        if (j == m->match.len) {
            return (int)k;
        }
        if (i + j == tl) {
            *partial = 1;
            return -1;
        }
    }
    return -1;
}

/* Append the text [from, to) of held + data to the output. */
static void emit_text(mg_request_t *r, sub_ctx_t *ctx, const char *h, size_t hl, const char *d,
                      size_t from, size_t to, mg_buf_t ***tail)
{
    if (from < hl && from < to) {
        size_t e = to < hl ? to : hl;
        mg_buf_t *b = out_buf(r, ctx, h + from, e - from);
        **tail = b;
        *tail = &b->next;
        from = e;
    }
    if (from < to) {
        mg_buf_t *b = out_buf(r, ctx, d + (from - hl), to - from);
        **tail = b;
        *tail = &b->next;
    }
}

/* Work one piece of text through: output what is settled, keep a possible match's start.
 * `end`: no more text comes (the end, or of the part before an in-stream subrequest), so
 * nothing is kept. A flush keeps it: as nginx, a match may span a flush. */
static void sub_piece(mg_request_t *r, sub_ctx_t *ctx, const char *d, size_t dl, int end,
                      mg_buf_t ***tail)
{
    const char *h = ctx->hold[ctx->hold_i];
    size_t hl = ctx->hold_len, tl = hl + dl, emitted = 0, i = 0;
    size_t keep = tl;
    while (i < tl && ctx->active) {
        unsigned char c = low((unsigned char)(i < hl ? h[i] : d[i - hl]));
        if (!(ctx->first[c >> 3] & (1u << (c & 7)))) {
            i++;
            continue;
        }
        int partial;
        int k = match_at(ctx, h, hl, d, tl, i, &partial);
        if (k >= 0) {
            sub_match_t *m = &ctx->m[k];
            emit_text(r, ctx, h, hl, d, emitted, i, tail);
            if (m->value.data == NULL) {
                m->value = mg_http_complex_value(r, &m->pair->value);
                if (m->value.data == NULL) {
                    m->value.data = "";
                }
            }
            if (m->value.len) {
                mg_buf_t *b = out_buf(r, ctx, m->value.data, m->value.len);
                **tail = b;
                *tail = &b->next;
            }
            i += m->match.len;
            emitted = i;
            sub_conf_t *conf = mg_http_get_loc_conf(r, mg_sub_filter_module);
            if (conf->once) {
                m->used = 1;
                set_first(ctx);
            }
            continue;
        }
        if (partial && !end) {
            keep = i;
            break;
        }
        i++;
    }
    emit_text(r, ctx, h, hl, d, emitted, keep, tail);
    /* the rest (shorter than the longest string) goes to the other hold buffer: the current
     * one may be in the output just made */
    size_t rest = tl - keep;
    int ni = ctx->hold_i ^ 1;
    if (rest && ctx->hold[ni] == NULL) {
        ctx->hold[ni] = mg_pnalloc(r->pool, ctx->maxlen);
    }
    for (size_t v = keep, o = 0; v < tl; v++, o++) {
        ctx->hold[ni][o] = v < hl ? h[v] : d[v - hl];
    }
    ctx->hold_len = rest;
    ctx->hold_i = ni;
}

/* After the output of a recycled piece (an upstream's buffer, a file read), an empty buffer
 * marked recycled, as nginx's sub filter passes its input's mark on: the writer sends what
 * it has now instead of holding it for postpone_output (a piece may shrink to a few bytes). */
static void recycled_mark(mg_request_t *r, sub_ctx_t *ctx, mg_buf_t ***tail)
{
    mg_buf_t *m = out_buf(r, ctx, NULL, 0);
    m->recycled = 1;
    **tail = m;
    *tail = &m->next;
}

/* The next piece of input turned into output (*out, may be NULL). MG_OK, MG_ERROR. */
static mg_int_t sub_next(mg_request_t *r, sub_ctx_t *ctx, mg_buf_t **out)
{
    mg_buf_t *b = ctx->in;
    mg_buf_t **tail = out;
    *out = NULL;
    int used;
    if (!ctx->active) {
        /* nothing left to look for: what was held, then the input as it is */
        if (ctx->hold_len) {
            mg_buf_t *hb = out_buf(r, ctx, ctx->hold[ctx->hold_i], ctx->hold_len);
            *tail = hb;
            tail = &hb->next;
            ctx->hold_len = 0;
            ctx->hold_i ^= 1;
        }
        ctx->in = b->next;
        b->next = NULL;
        *tail = b;
        if (ctx->in == NULL) {
            ctx->in_tail = &ctx->in;
        }
        if (b->last_buf) {
            ctx->done = 1;
        }
        return MG_OK;
    }
    if (b->in_file && b->file_pos < b->file_last) {
        if (ctx->rbuf == NULL) {
            ctx->rbuf = mg_pnalloc(r->pool, READ_SIZE);
        }
        size_t want = (size_t)(b->file_last - b->file_pos);
        want = want < READ_SIZE ? want : READ_SIZE;
        ssize_t n = pread(b->fd, ctx->rbuf, want, b->file_pos);
        if (n <= 0) {
            mg_log_error(MG_LOG_CRIT, &r->connection->log, n < 0 ? errno : 0,
                         n < 0 ? "pread() failed" : "pread() read only 0 of %zu", want);
            return MG_ERROR;
        }
        b->file_pos += n;
        used = b->file_pos == b->file_last;
        sub_piece(r, ctx, ctx->rbuf, (size_t)n, used && (b->last_buf || b->last_in_chain), &tail);
        recycled_mark(r, ctx, &tail); /* our read buffer: nginx's copy filter's are recycled */
    } else {
        char *p = b->pos;
        size_t n = b->in_file ? 0 : (size_t)(b->last - b->pos);
        if (!b->in_file) {
            b->pos = b->last;
        }
        used = 1;
        sub_piece(r, ctx, p, n, b->last_buf || b->last_in_chain, &tail);
        if (b->recycled) {
            recycled_mark(r, ctx, &tail);
        }
    }
    if (!used) {
        return MG_OK;
    }
    ctx->in = b->next;
    if (ctx->in == NULL) {
        ctx->in_tail = &ctx->in;
    }
    if (b->last_buf || b->flush || b->last_in_chain) {
        mg_buf_t *e = out_buf(r, ctx, NULL, 0);
        e->last_buf = b->last_buf;
        e->flush = b->flush;
        e->last_in_chain = b->last_in_chain;
        *tail = e;
        ctx->done = b->last_buf;
    }
    return MG_OK;
}

static mg_int_t sub_body_filter(mg_request_t *r, mg_buf_t *in)
{
    sub_ctx_t *ctx = mg_http_get_ctx(r, mg_sub_filter_module);
    if (ctx == NULL || r->header_only) {
        return next_body_filter(r, in);
    }
    mg_filter_queue_append(&ctx->in_tail, in);
    mg_filter_release(r, &ctx->held);
    mg_int_t rc = MG_OK;
    int passed = 0;
    for (;;) {
        if (ctx->busy) {
            /* our last output points into our buffers (hold, file piece): until the filters
             * after us took it, nothing new is made */
            rc = mg_filter_drain(r, next_body_filter, &ctx->held);
            passed = 1;
            if (rc == MG_ERROR || rc == MG_AGAIN) {
                return rc;
            }
            ctx->busy = 0;
            mg_buf_set_reset(&ctx->bufs);
        }
        if (ctx->in == NULL || ctx->done) {
            break;
        }
        mg_buf_t *out;
        if (sub_next(r, ctx, &out) != MG_OK) {
            return MG_ERROR;
        }
        if (out == NULL) {
            continue;
        }
        rc = next_body_filter(r, out);
        passed = 1;
        if (rc == MG_ERROR) {
            return MG_ERROR;
        }
        if (rc == MG_OK) {
            mg_buf_set_reset(&ctx->bufs);
        } else {
            ctx->busy = ctx->bufs.used > 0;
        }
    }
    if (ctx->done && ctx->in) {
        mg_filter_queue_clear(&ctx->in, &ctx->in_tail); /* after the end: nothing more goes out */
    }
    return passed ? rc : next_body_filter(r, NULL);
}

/* ---- configuration ---- */

static void *sub_create_conf(mg_conf_t *cf)
{
    sub_conf_t *conf = mg_pcalloc(cf->pool, sizeof(*conf));
    conf->once = MG_CONF_UNSET;
    conf->last_modified = MG_CONF_UNSET;
    return conf;
}

static const char *sub_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    sub_conf_t *prev = parent, *conf = child;
    if (conf->pairs == NULL) {
        conf->pairs = prev->pairs;
    }
    mg_conf_merge(conf->once, prev->once, 1);
    mg_conf_merge(conf->last_modified, prev->last_modified, 0);
    mg_filter_types_merge(cf, &conf->types, &prev->types, default_types);
    return MG_CONF_OK;
}

static const char *sub_set_filter(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    sub_conf_t *sc = conf;
    if (cf->args[1].len == 0) {
        mg_conf_error(cf, 0, "empty search pattern");
        return MG_CONF_ERROR;
    }
    if (sc->pairs == NULL) {
        sc->pairs = mg_array_create(cf->pool, 2, sizeof(sub_pair_t));
    }
    sub_pair_t *p = mg_array_push(sc->pairs);
    memset(p, 0, sizeof(*p));
    if (mg_http_compile_complex_value(cf, cf->args[1], &p->match) != MG_OK ||
        mg_http_compile_complex_value(cf, cf->args[2], &p->value) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static int filter_used(const void *loc_conf)
{
    const sub_conf_t *conf = loc_conf;
    return conf->pairs != NULL;
}

static void sub_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_sub_filter_module, filter_used, sub_header_filter,
                         sub_body_filter);
}

#define LOC(f) MG_LOC_CONF, offsetof(sub_conf_t, f)

static const mg_command_t sub_commands[] = {
    {"sub_filter", MG_HTTP_ANY_LOC, MG_ARGS(2, 2), sub_set_filter, LOC(pairs), NULL},
    {"sub_filter_types", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), mg_filter_types_set, LOC(types),
     NULL},
    {"sub_filter_once", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(once), NULL},
    {"sub_filter_last_modified", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(last_modified),
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t sub_defaults[] = {
    {"sub_filter_types", "text/html"},
    {"sub_filter", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_sub_filter_module = {
    .name = "sub",
    .commands = sub_commands,
    .defaults = sub_defaults,
    .create_loc_conf = sub_create_conf,
    .merge_loc_conf = sub_merge_conf,
    .init_filters = sub_init_filters,
};
