/*
 * charset: nginx's ngx_http_charset_module. The header filter adds "; charset=NAME" to the
 * Content-Type of the types in charset_types (or replaces the response's own with
 * override_charset), and when the source charset (the response's own, else source_charset)
 * differs, the body filter recodes it with a charset_map table: one 8-bit charset to another,
 * or an 8-bit one to and from UTF-8 (characters without a code: "?" in 8 bits, "&#N;" from
 * UTF-8). Subrequests are recoded to their main request's charset. The body streams in pieces
 * (files read 32 KB at a time) into one output buffer, passed on when full, before the read
 * buffer is reused or when the input is used up, and reused once the filters after us took
 * it; a UTF-8 sequence cut between pieces waits for its rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "filter_queue.h"
#include "filter_types.h"
#include "script.h"
#include "variables.h"

#define READ_SIZE 32768
#define CS_OFF (-2)    /* "off", or no source_charset */
#define CS_NONE (-3)   /* a name no directive mentions */
#define CS_VAR 0x10000 /* CS_VAR + index: a variable */

typedef struct {
    mg_str_t name;
    unsigned utf8 : 1;
} cs_charset_t;

/* A charset_map between an 8-bit charset and another one. */
typedef struct {
    mg_int_t src, dst;
    unsigned char fwd[256];  /* 8 -> 8: the byte */
    unsigned char back[256]; /* 8 <- 8 */
    unsigned char *fwd_utf8; /* 8 -> UTF-8: 5 bytes a code, the first the length */
    uint32_t *ucode;         /* UTF-8 -> 8: code points, sorted, and their byte */
    unsigned char *ubyte;
    size_t nu;
} cs_table_t;

typedef struct {
    mg_array_t charsets; /* cs_charset_t */
    mg_array_t tables;   /* cs_table_t */
    mg_array_t recodes;  /* mg_int_t pairs: constant charset and source of a location */
} cs_main_conf_t;

typedef struct {
    mg_int_t charset;
    mg_int_t source_charset;
    int override;
    mg_filter_types_t types;
} cs_loc_conf_t;

enum { RECODE_8TO8, RECODE_TO_UTF8, RECODE_FROM_UTF8 };

typedef struct {
    mg_int_t charset; /* a main request's destination for its subrequests */
    mg_str_t name;
    int declined;
    /* recoding */
    cs_table_t *table;
    int mode;
    int reverse;           /* 8 -> 8 through the table the other way */
    unsigned char part[4]; /* a UTF-8 sequence cut at the end of a piece */
    size_t npart;
    mg_buf_t *in, **in_tail;
    char *rbuf, *obuf;
    size_t olen; /* obuf's bytes gathered for the next pass */
    mg_buf_t *out, **out_tail;
    mg_buf_set_t bufs; /* output buffer structs (see out_buf) */
    unsigned active : 1;
    unsigned busy : 1;
    int held;
    unsigned done : 1;
} cs_ctx_t;

static const char *const default_types[] = {
    "text/xml", "text/plain", "text/vnd.wap.wml", "application/javascript", "application/rss+xml",
    NULL,
};

mg_module_t mg_charset_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_charset_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_charset_module, in);
}

/* ---- charsets by name ---- */

static mg_int_t find_charset(cs_main_conf_t *mcf, mg_str_t name)
{
    cs_charset_t *c = mcf->charsets.elts;
    for (size_t i = 0; i < mcf->charsets.nelts; i++) {
        if (c[i].name.len == name.len && mg_strncasecmp(c[i].name.data, name.data, name.len) == 0) {
            return (mg_int_t)i;
        }
    }
    return CS_NONE;
}

static mg_int_t add_charset(mg_conf_t *cf, cs_main_conf_t *mcf, mg_str_t name)
{
    mg_int_t i = find_charset(mcf, name);
    if (i >= 0) {
        return i;
    }
    cs_charset_t *c = mg_array_push(&mcf->charsets);
    c->name = name;
    c->utf8 = mg_str_caseeq(name, "utf-8");
    (void)cf;
    return (mg_int_t)mcf->charsets.nelts - 1;
}

static cs_table_t *find_table(cs_main_conf_t *mcf, mg_int_t a, mg_int_t b, int *reverse)
{
    cs_table_t *t = mcf->tables.elts;
    for (size_t i = 0; i < mcf->tables.nelts; i++) {
        if (t[i].src == a && t[i].dst == b) {
            *reverse = 0;
            return &t[i];
        }
        if (t[i].src == b && t[i].dst == a) {
            *reverse = 1;
            return &t[i];
        }
    }
    return NULL;
}

/* ---- header filter ---- */

/* A Content-Type's "charset=" parameter becomes headers_out.charset (as nginx's upstream
 * module reads it), so that it can be the source or be replaced. */
static void split_content_type(mg_request_t *r)
{
    mg_http_headers_out_t *ho = &r->headers_out;
    if (ho->charset.len || ho->content_type.len == 0) {
        return;
    }
    char *semi = memchr(ho->content_type.data, ';', ho->content_type.len);
    if (semi == NULL) {
        return;
    }
    const char *end = ho->content_type.data + ho->content_type.len;
    const char *p = mg_strlcasestrn(semi, end, "charset=", 8);
    if (p == NULL) {
        return;
    }
    p += 8;
    const char *e = p;
    while (e < end && *e != ';' && *e != ' ') {
        e++;
    }
    if (e - p >= 2 && *p == '"' && e[-1] == '"') {
        p++;
        e--;
    }
    ho->charset = (mg_str_t){(size_t)(e - p), (char *)p};
    size_t len = (size_t)(semi - ho->content_type.data);
    while (len && ho->content_type.data[len - 1] == ' ') {
        len--;
    }
    ho->content_type.len = len;
}

/* A charset from a directive's value: its index, CS_OFF, or a variable's value looked up. */
static mg_int_t resolve(mg_request_t *r, cs_main_conf_t *mcf, mg_int_t v, mg_str_t *name)
{
    if (v == CS_OFF) {
        name->len = 0;
        return CS_OFF;
    }
    if (v < CS_VAR) {
        *name = ((cs_charset_t *)mcf->charsets.elts)[v].name;
        return v;
    }
    mg_http_var_value_t *vv = mg_http_get_indexed_variable(r, (mg_uint_t)(v - CS_VAR));
    if (vv == NULL || vv->not_found) {
        return MG_ERROR;
    }
    *name = vv->value;
    mg_int_t i = find_charset(mcf, *name);
    if (i >= 0) {
        *name = ((cs_charset_t *)mcf->charsets.elts)[i].name;
    }
    return i;
}

/* Where the main request's body goes: a charset, CS_NONE (an unknown name), MG_DECLINED,
 * MG_ERROR. */
static mg_int_t destination(mg_request_t *r, cs_main_conf_t *mcf, mg_str_t *name)
{
    cs_loc_conf_t *lcf = mg_http_get_loc_conf(r, mg_charset_module);
    if (r->headers_out.content_type.len && r->headers_out.override_charset.len) {
        /* the upstream's X-Accel-Charset: whatever the type and the charset directive */
        split_content_type(r);
        *name = r->headers_out.override_charset;
        mg_int_t i = find_charset(mcf, *name);
        if (i < 0) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "unknown charset \"%.*s\" to override",
                         (int)name->len, name->data);
            return MG_DECLINED;
        }
        *name = ((cs_charset_t *)mcf->charsets.elts)[i].name;
        return i;
    }
    if (r->headers_out.content_type.len == 0 || lcf->charset == CS_OFF) {
        return MG_DECLINED;
    }
    split_content_type(r);
    if (r->headers_out.charset.len) {
        if (!lcf->override) {
            return MG_DECLINED;
        }
    } else if (!mg_filter_types_test(r, &lcf->types)) {
        return MG_DECLINED;
    }
    return resolve(r, mcf, lcf->charset, name);
}

static void set_charset(mg_request_t *r, mg_str_t name)
{
    if (r->parent) {
        return;
    }
    mg_uint_t s = r->headers_out.status;
    if (s == MG_HTTP_MOVED_PERMANENTLY || s == MG_HTTP_MOVED_TEMPORARILY) {
        r->headers_out.charset.len = 0; /* as nginx: not on a redirect */
        return;
    }
    r->headers_out.charset = name;
}

static cs_ctx_t *get_ctx(mg_request_t *r)
{
    cs_ctx_t *ctx = mg_http_get_ctx(r, mg_charset_module);
    if (ctx == NULL) {
        ctx = mg_pcalloc(r->pool, sizeof(*ctx));
        mg_http_set_ctx(r, ctx, mg_charset_module);
    }
    return ctx;
}

static mg_int_t charset_header_filter(mg_request_t *r)
{
    cs_main_conf_t *mcf = mg_http_get_main_conf(r, mg_charset_module);
    mg_str_t dst = {0, NULL}, src = {0, NULL};
    mg_int_t charset;
    if (r->parent == NULL) {
        charset = destination(r, mcf, &dst);
        int declined = charset == MG_DECLINED || charset == MG_ERROR;
        /* a subrequest takes no context as declined: most responses allocate none */
        cs_ctx_t *ctx = declined ? mg_http_get_ctx(r, mg_charset_module) : get_ctx(r);
        if (ctx) {
            ctx->charset = charset;
            ctx->name = dst;
            ctx->declined = declined;
        }
    } else {
        /* a subrequest's body goes into its main request's charset */
        cs_ctx_t *mctx = mg_http_get_ctx(r->main, mg_charset_module);
        charset = mctx == NULL || mctx->declined ? MG_DECLINED : mctx->charset;
        if (mctx) {
            dst = mctx->name;
        }
        split_content_type(r);
    }
    if (charset == MG_ERROR) {
        return MG_ERROR;
    }
    if (charset == MG_DECLINED) {
        return next_header_filter(r);
    }
    mg_int_t source;
    if (r->headers_out.charset.len) {
        src = r->headers_out.charset;
        source = find_charset(mcf, src);
    } else {
        cs_loc_conf_t *lcf = mg_http_get_loc_conf(r, mg_charset_module);
        source = resolve(r, mcf, lcf->source_charset, &src);
        if (source == MG_ERROR) {
            return MG_ERROR;
        }
    }
    if (source == CS_OFF) {
        set_charset(r, dst);
        return next_header_filter(r);
    }
    if (charset == CS_NONE || source == CS_NONE) {
        if (charset != source || dst.len != src.len ||
            mg_strncasecmp(dst.data, src.data, dst.len) != 0) {
            goto no_map;
        }
        set_charset(r, dst);
        return next_header_filter(r);
    }
    if (source == charset) {
        set_charset(r, dst);
        return next_header_filter(r);
    }
    mg_table_elt_t *ce = r->headers_out.content_encoding;
    if (ce && ce->hash && ce->value.len) {
        return next_header_filter(r); /* compressed: neither recoded nor labelled */
    }
    int reverse;
    cs_table_t *t = find_table(mcf, source, charset, &reverse);
    if (t == NULL) {
        goto no_map;
    }
    set_charset(r, dst);
    cs_ctx_t *ctx = get_ctx(r);
    cs_charset_t *cs = mcf->charsets.elts;
    ctx->table = t;
    ctx->reverse = reverse;
    ctx->mode = cs[charset].utf8  ? RECODE_TO_UTF8
                : cs[source].utf8 ? RECODE_FROM_UTF8
                                  : RECODE_8TO8;
    ctx->active = 1;
    ctx->in_tail = &ctx->in;
    ctx->out_tail = &ctx->out;
    if (ctx->mode != RECODE_8TO8 && r->parent == NULL) {
        mg_http_clear_content_length(r);
    }
    r->allow_ranges = 0; /* the range filter cuts what we pass on in pieces: no multipart */
    return next_header_filter(r);

no_map:
    /* under the request's own context: what it is doing as its head goes out (nginx's) */
    mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                 "no \"charset_map\" between the charsets \"%.*s\" and \"%.*s\"", (int)src.len,
                 src.data, (int)dst.len, dst.data);
    return next_header_filter(r);
}

/* ---- recoding ---- */

/* nginx's reading of a UTF-8 sequence: the lead byte says how many bytes follow, and they are
 * taken whatever they are; 0xffffffff invalid, 0xfffffffe cut short (n bytes available). */
static uint32_t utf8_decode(const unsigned char **p, size_t n)
{
    uint32_t u = **p, valid;
    size_t len;
    if (u >= 0xf0) {
        u &= 0x07;
        valid = 0xffff;
        len = 3;
    } else if (u >= 0xe0) {
        u &= 0x0f;
        valid = 0x7ff;
        len = 2;
    } else if (u >= 0xc2) {
        u &= 0x1f;
        valid = 0x7f;
        len = 1;
    } else {
        (*p)++;
        return 0xffffffff;
    }
    if (n - 1 < len) {
        return 0xfffffffe;
    }
    (*p)++;
    while (len) {
        uint32_t i = *(*p)++;
        if (i < 0x80) {
            return 0xffffffff;
        }
        u = (u << 6) | (i & 0x3f);
        len--;
    }
    return u > valid ? u : 0xffffffff;
}

static int ucode_byte(cs_table_t *t, uint32_t u)
{
    size_t lo = 0, hi = t->nu;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->ucode[mid] == u) {
            return t->ubyte[mid];
        }
        if (t->ucode[mid] < u) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

static char *from_utf8_char(cs_table_t *t, uint32_t u, char *o)
{
    if (u < 0x80) {
        *o++ = (char)u;
        return o;
    }
    int c = ucode_byte(t, u);
    if (c >= 0) {
        *o++ = (char)c;
        return o;
    }
    if (u > 0x10ffff) {
        *o++ = '?';
        return o;
    }
    return o + sprintf(o, "&#%u;", u);
}

/* Recode n bytes of d into o (room for 4n + 16), returns the end. `end`: nothing follows.
 * (UTF-8 out: at most 4 bytes a byte; from UTF-8: "&#1114111;" for 4 bytes, "&#65535;" for 3,
 * "&#2047;" for 2; an invalid byte or sequence is one "?".) */
static char *recode(cs_ctx_t *ctx, const unsigned char *d, size_t n, int end, char *o)
{
    cs_table_t *t = ctx->table;
    if (ctx->mode == RECODE_8TO8) {
        const unsigned char *map = ctx->reverse ? t->back : t->fwd;
        for (size_t i = 0; i < n; i++) {
            *o++ = (char)map[d[i]];
        }
        return o;
    }
    if (ctx->mode == RECODE_TO_UTF8) {
        for (size_t i = 0; i < n; i++) {
            const unsigned char *e = &t->fwd_utf8[d[i] * 5];
            memcpy(o, e + 1, e[0]);
            o += e[0];
        }
        return o;
    }
    const unsigned char *p = d, *last = n ? d + n : d; /* d is NULL with no data */
    if (ctx->npart) {
        /* the rest of a cut sequence: at most 3 more bytes */
        while (ctx->npart < 4 && p < last) {
            ctx->part[ctx->npart++] = *p++;
            const unsigned char *q = ctx->part;
            uint32_t u = utf8_decode(&q, ctx->npart);
            if (u == 0xfffffffe) {
                continue;
            }
            o = u == 0xffffffff ? (*o++ = '?', o) : from_utf8_char(t, u, o);
            /* bytes of part not taken by the sequence go back to the input, those of this
             * piece only: the earlier piece's are gone (nginx drops them too) */
            size_t back = (size_t)(ctx->part + ctx->npart - q);
            p -= back < (size_t)(p - d) ? back : (size_t)(p - d);
            ctx->npart = 0;
            break;
        }
    }
    while (p < last) {
        if (*p < 0x80) {
            *o++ = (char)*p++;
            continue;
        }
        const unsigned char *s = p;
        uint32_t u = utf8_decode(&p, (size_t)(last - p));
        if (u == 0xfffffffe) {
            memcpy(ctx->part, s, (size_t)(last - s));
            ctx->npart = (size_t)(last - s);
            p = last;
            break;
        }
        o = u == 0xffffffff ? (*o++ = '?', o) : from_utf8_char(t, u, o);
    }
    if (end && ctx->npart) {
        *o++ = '?';
        ctx->npart = 0;
    }
    return o;
}

#define OBUF_SIZE (4 * READ_SIZE + 16)

/* An output buffer struct of ours (buf.h's mg_buf_set_t), linked to the output. */
static mg_buf_t *out_buf(mg_request_t *r, cs_ctx_t *ctx)
{
    mg_buf_t *b = mg_buf_set_get(&ctx->bufs, r->pool);
    *ctx->out_tail = b;
    ctx->out_tail = &b->next;
    return b;
}

/* Recode the next piece of input onto the end of what is gathered in the output buffer.
 * The caller made sure there is room (OBUF_SIZE - olen >= 4 * READ_SIZE + 16 for a file
 * read, 4n + 16 for n bytes of memory). MG_OK, MG_ERROR. */
static mg_int_t charset_next(mg_request_t *r, cs_ctx_t *ctx)
{
    mg_buf_t *b = ctx->in;
    const unsigned char *d;
    size_t n;
    int used;
    if (ctx->obuf == NULL) {
        ctx->obuf = mg_pnalloc(r->pool, OBUF_SIZE);
    }
    size_t room = (OBUF_SIZE - ctx->olen - 16) / 4;
    if (b->in_file && b->file_pos < b->file_last) {
        if (ctx->rbuf == NULL) {
            ctx->rbuf = mg_pnalloc(r->pool, READ_SIZE);
        }
        size_t want = (size_t)(b->file_last - b->file_pos);
        want = want < READ_SIZE ? want : READ_SIZE;
        want = want < room ? want : room;
        ssize_t got = pread(b->fd, ctx->rbuf, want, b->file_pos);
        if (got <= 0) {
            mg_log_error(MG_LOG_CRIT, &r->connection->log, got < 0 ? errno : 0,
                         got < 0 ? "pread() failed" : "pread() read only 0 of %zu", want);
            return MG_ERROR;
        }
        b->file_pos += got;
        d = (const unsigned char *)ctx->rbuf;
        n = (size_t)got;
        used = b->file_pos == b->file_last;
    } else if (!b->in_file) {
        d = (const unsigned char *)b->pos;
        n = (size_t)(b->last - b->pos);
        if (n > room) {
            n = room;
        }
        if (n) {
            b->pos += n; /* not on a flush or last buffer without data: pos may be NULL */
        }
        used = b->pos == b->last;
    } else {
        d = NULL;
        n = 0;
        used = 1;
    }
    int end = used && (b->last_buf || b->last_in_chain);
    char *from = ctx->obuf + ctx->olen;
    char *o = recode(ctx, d, n, end, from);
    if (o > from) {
        mg_buf_t *ob = out_buf(r, ctx);
        ob->pos = from;
        ob->last = o;
        ctx->olen += (size_t)(o - from);
    }
    if (b->in_file ? d != NULL : used && b->recycled) {
        /* a recycled piece (an upstream's buffer; a file read: nginx's copy filter's are
         * recycled), its mark passed on as nginx's charset filter does: the writer sends
         * the output now rather than hold it for postpone_output */
        out_buf(r, ctx)->recycled = 1;
    }
    if (!used) {
        return MG_OK;
    }
    ctx->in = b->next;
    if (ctx->in == NULL) {
        ctx->in_tail = &ctx->in;
    }
    if (b->last_buf || b->flush || b->last_in_chain) {
        mg_buf_t *e = out_buf(r, ctx);
        e->last_buf = b->last_buf;
        e->flush = b->flush;
        e->last_in_chain = b->last_in_chain;
        ctx->done = b->last_buf;
    }
    return MG_OK;
}

static mg_int_t charset_body_filter(mg_request_t *r, mg_buf_t *in)
{
    cs_ctx_t *ctx = mg_http_get_ctx(r, mg_charset_module);
    if (ctx == NULL || !ctx->active || r->header_only) {
        return next_body_filter(r, in);
    }
    mg_filter_queue_append(&ctx->in_tail, in);
    mg_filter_release(r, &ctx->held);
    mg_int_t rc = MG_OK;
    int passed = 0;
    for (;;) {
        /* what was gathered goes when the read buffer is to be reused, the output buffer is
         * full or the input is used up: small input buffers make one pass, not one each */
        mg_buf_t *b = ctx->in;
        int reads = b && b->in_file && b->file_pos < b->file_last;
        size_t need = reads              ? 4 * READ_SIZE + 16
                      : b && !b->in_file ? 4 * (size_t)(b->last - b->pos) + 16
                                         : 16;
        int full = OBUF_SIZE - ctx->olen < (need < OBUF_SIZE ? need : OBUF_SIZE);
        int flush = reads || full || b == NULL || ctx->done;
        if (flush && ctx->out) {
            mg_buf_t *out = ctx->out;
            ctx->out = NULL;
            ctx->out_tail = &ctx->out;
            rc = next_body_filter(r, out);
            passed = 1;
            if (rc == MG_ERROR) {
                return MG_ERROR;
            }
            ctx->busy = ctx->busy || rc == MG_AGAIN;
            if (!ctx->busy) {
                mg_buf_set_reset(&ctx->bufs);
                ctx->olen = 0;
            }
        }
        if (ctx->busy && flush) {
            /* our buffers are still theirs: nothing new until they took them */
            rc = mg_filter_drain(r, next_body_filter, &ctx->held);
            passed = 1;
            if (rc == MG_ERROR || rc == MG_AGAIN) {
                return rc;
            }
            ctx->busy = 0;
            mg_buf_set_reset(&ctx->bufs);
            ctx->olen = 0;
        }
        if (ctx->in == NULL || ctx->done) {
            break;
        }
        if (charset_next(r, ctx) != MG_OK) {
            return MG_ERROR;
        }
    }
    if (ctx->done && ctx->in) {
        mg_filter_queue_clear(&ctx->in, &ctx->in_tail);
    }
    return passed ? rc : next_body_filter(r, NULL);
}

/* ---- configuration ---- */

static void *charset_create_main_conf(mg_conf_t *cf)
{
    cs_main_conf_t *mcf = mg_pcalloc(cf->pool, sizeof(*mcf));
    mg_array_init(&mcf->charsets, cf->pool, 4, sizeof(cs_charset_t));
    mg_array_init(&mcf->tables, cf->pool, 2, sizeof(cs_table_t));
    mg_array_init(&mcf->recodes, cf->pool, 4, 2 * sizeof(mg_int_t));
    return mcf;
}

static void *charset_create_loc_conf(mg_conf_t *cf)
{
    cs_loc_conf_t *conf = mg_pcalloc(cf->pool, sizeof(*conf));
    conf->charset = MG_CONF_UNSET;
    conf->source_charset = MG_CONF_UNSET;
    conf->override = MG_CONF_UNSET;
    return conf;
}

static const char *charset_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    cs_loc_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->charset, prev->charset, CS_OFF);
    mg_conf_merge(conf->source_charset, prev->source_charset, CS_OFF);
    mg_conf_merge(conf->override, prev->override, 0);
    mg_filter_types_merge(cf, &conf->types, &prev->types, default_types);
    if (conf->charset >= 0 && conf->charset < CS_VAR && conf->source_charset >= 0 &&
        conf->source_charset < CS_VAR && conf->charset != conf->source_charset) {
        /* checked once every table is read (charset_init) */
        cs_main_conf_t *mcf = mg_http_conf_get_main(cf, mg_charset_module);
        mg_int_t *pair = mg_array_push(&mcf->recodes);
        pair[0] = conf->source_charset;
        pair[1] = conf->charset;
    }
    return MG_CONF_OK;
}

static mg_int_t charset_init(mg_conf_t *cf)
{
    cs_main_conf_t *mcf = mg_http_conf_get_main(cf, mg_charset_module);
    mg_int_t *pairs = mcf->recodes.elts;
    cs_charset_t *cs = mcf->charsets.elts;
    for (size_t i = 0; i < mcf->recodes.nelts; i++) {
        int reverse;
        mg_int_t a = pairs[2 * i], b = pairs[2 * i + 1];
        if (find_table(mcf, a, b, &reverse) == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "no \"charset_map\" between the charsets \"%.*s\" and \"%.*s\"",
                         (int)cs[a].name.len, cs[a].name.data, (int)cs[b].name.len,
                         cs[b].name.data);
            return MG_ERROR;
        }
    }
    return MG_OK;
}

/* "charset NAME|off|$var" and "source_charset NAME|$var". */
static const char *charset_set_charset(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_int_t *v = (mg_int_t *)((char *)conf + cmd->offset);
    if (*v != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_str_t name = cf->args[1];
    if (cmd->post && mg_str_eq(name, "off")) {
        *v = CS_OFF;
        return MG_CONF_OK;
    }
    if (name.len && name.data[0] == '$') {
        name.data++;
        name.len--;
        mg_int_t index = mg_http_get_variable_index(cf, name);
        if (index == MG_ERROR) {
            return MG_CONF_ERROR;
        }
        *v = CS_VAR + index;
        return MG_CONF_OK;
    }
    cs_main_conf_t *mcf = mg_http_conf_get_main(cf, mg_charset_module);
    *v = add_charset(cf, mcf, name);
    return MG_CONF_OK;
}

/* One line of a charset_map block. */
typedef struct {
    cs_table_t *t;
    int utf8;
    uint32_t *codes; /* UTF-8 side: the code point of each byte, 0 none */
} cs_block_t;

static const char *charset_map_line(mg_conf_t *cf, void *data)
{
    cs_block_t *blk = data;
    if (cf->nargs != 2) {
        mg_conf_error(cf, 0, "invalid parameters number");
        return MG_CONF_ERROR;
    }
    int64_t src = mg_hextoi(cf->args[0].data, cf->args[0].len);
    if (src < 0 || src > 255) {
        mg_conf_error(cf, 0, "invalid value \"%s\"", cf->args[0].data);
        return MG_CONF_ERROR;
    }
    mg_str_t v = cf->args[1];
    if (!blk->utf8) {
        int64_t dst = mg_hextoi(v.data, v.len);
        if (dst < 0 || dst > 255) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", v.data);
            return MG_CONF_ERROR;
        }
        blk->t->fwd[src] = (unsigned char)dst;
        blk->t->back[dst] = (unsigned char)src;
        return MG_CONF_OK;
    }
    unsigned char bytes[4];
    size_t n = v.len / 2;
    if (v.len % 2 || n == 0 || n > 4) {
        mg_conf_error(cf, 0, "invalid value \"%s\"", v.data);
        return MG_CONF_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t x = mg_hextoi(v.data + 2 * i, 2);
        if (x < 0) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", v.data);
            return MG_CONF_ERROR;
        }
        bytes[i] = (unsigned char)x;
    }
    const unsigned char *p = bytes;
    uint32_t u = utf8_decode(&p, n);
    if (u >= 0xfffffffe) {
        mg_conf_error(cf, 0, "invalid value \"%s\"", v.data);
        return MG_CONF_ERROR;
    }
    unsigned char *e = &blk->t->fwd_utf8[src * 5];
    e[0] = (unsigned char)n;
    memcpy(e + 1, bytes, n);
    blk->codes[src] = u;
    return MG_CONF_OK;
}

static const char *charset_map_block(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    cs_main_conf_t *mcf = conf;
    mg_int_t src = add_charset(cf, mcf, cf->args[1]);
    mg_int_t dst = add_charset(cf, mcf, cf->args[2]);
    if (src == dst) {
        mg_conf_error(cf, 0, "\"charset_map\" between the same charsets \"%s\" and \"%s\"",
                      cf->args[1].data, cf->args[2].data);
        return MG_CONF_ERROR;
    }
    int reverse;
    if (find_table(mcf, src, dst, &reverse)) {
        mg_conf_error(cf, 0, "duplicate \"charset_map\" between \"%s\" and \"%s\"",
                      cf->args[1].data, cf->args[2].data);
        return MG_CONF_ERROR;
    }
    cs_charset_t *cs = mcf->charsets.elts;
    if (cs[src].utf8) {
        mg_conf_error(cf, 0, "\"charset_map\" from \"utf-8\" is not supported: write \"%s utf-8\"",
                      cf->args[2].data);
        return MG_CONF_ERROR;
    }
    cs_table_t *t = mg_array_push(&mcf->tables);
    memset(t, 0, sizeof(*t));
    t->src = src;
    t->dst = dst;
    cs_block_t blk = {.t = t, .utf8 = cs[dst].utf8};
    /* unmapped bytes of the upper half are "?", the lower half is ASCII */
    for (int i = 0; i < 256; i++) {
        t->fwd[i] = t->back[i] = i < 0x80 ? (unsigned char)i : '?';
    }
    if (blk.utf8) {
        t->fwd_utf8 = mg_pcalloc(cf->pool, 256 * 5);
        blk.codes = mg_pcalloc(cf->pool, 256 * sizeof(uint32_t));
        for (int i = 0; i < 256; i++) {
            t->fwd_utf8[i * 5] = 1;
            t->fwd_utf8[i * 5 + 1] = i < 0x80 ? (unsigned char)i : '?';
        }
    }
    const char *(*saved)(mg_conf_t *, void *) = cf->handler;
    void *saved_data = cf->handler_data;
    cf->handler = charset_map_line;
    cf->handler_data = &blk;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->handler = saved;
    cf->handler_data = saved_data;
    if (rc != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (blk.utf8) {
        /* the way back: code points sorted, with their byte */
        size_t n = 0;
        for (int i = 0x80; i < 256; i++) {
            n += blk.codes[i] != 0;
        }
        t->ucode = mg_palloc(cf->pool, (n ? n : 1) * sizeof(uint32_t));
        t->ubyte = mg_palloc(cf->pool, n ? n : 1);
        for (int i = 0x80; i < 256; i++) {
            if (blk.codes[i] == 0) {
                continue;
            }
            size_t k = t->nu++;
            while (k > 0 && t->ucode[k - 1] > blk.codes[i]) {
                t->ucode[k] = t->ucode[k - 1];
                t->ubyte[k] = t->ubyte[k - 1];
                k--;
            }
            t->ucode[k] = blk.codes[i];
            t->ubyte[k] = (unsigned char)i;
        }
    }
    return MG_CONF_OK;
}

/* A main request's response is recoded or labelled only where "charset" names one (source_charset
 * and override_charset act only then: destination()); elsewhere the filters pass it on. */
static int filter_used(const void *loc_conf)
{
    const cs_loc_conf_t *conf = loc_conf;
    return conf->charset != CS_OFF;
}

/* In the generation's chain always: an upstream's X-Accel-Charset recodes or labels a response,
 * or is logged as unknown, in any location, and a subrequest is recoded into its main
 * request's charset whatever its own location says. */
static void charset_init_filters(mg_conf_t *cf)
{
    mg_http_link_run_time_filters(cf, &mg_charset_module, filter_used, charset_header_filter,
                                  charset_body_filter);
}

#define LOC(f) MG_LOC_CONF, offsetof(cs_loc_conf_t, f)
#define ANY_IF (MG_HTTP_ANY_LOC | MG_CTX_LIF)

static const mg_command_t charset_commands[] = {
    {"charset", ANY_IF, MG_ARGS(1, 1), charset_set_charset, LOC(charset), (void *)1},
    {"source_charset", ANY_IF, MG_ARGS(1, 1), charset_set_charset, LOC(source_charset), NULL},
    {"override_charset", ANY_IF, MG_FLAG, mg_conf_set_flag, LOC(override), NULL},
    {"charset_types", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), mg_filter_types_set, LOC(types), NULL},
    {"charset_map", MG_CTX_HTTP, MG_BLOCK | MG_ARGS(2, 2), charset_map_block, MG_MAIN_CONF, 0,
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t charset_defaults[] = {
    {"charset", "off"},
    {"charset_types",
     "text/html text/xml text/plain text/vnd.wap.wml application/javascript application/rss+xml"},
    {"source_charset", MG_NO_DEFAULT},
    {"charset_map", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_charset_module = {
    .name = "charset",
    .commands = charset_commands,
    .defaults = charset_defaults,
    .create_main_conf = charset_create_main_conf,
    .create_loc_conf = charset_create_loc_conf,
    .merge_loc_conf = charset_merge_loc_conf,
    .init = charset_init,
    .init_filters = charset_init_filters,
};
