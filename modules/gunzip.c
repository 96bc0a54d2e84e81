/*
 * gunzip: nginx's ngx_http_gunzip_module. A response with "Content-Encoding: gzip" (from an
 * upstream, or gzip_static always) is decompressed for a client that does not take gzip (the
 * gzip_* rules decide, as for gzip itself) and for subrequests, so the text filters after it
 * can read it. One zlib stream per request, gunzip_buffers as the output budget: a piece of
 * input at a time (files read 32 KB at a time), output passed on, the next piece taken only
 * once the filters after us took it; concatenated gzip members are read one after the other.
 */
#include <unistd.h>
#include <zlib.h>

#include "filter_queue.h"
#include "filter_types.h"
#include "gzip.h"

#define READ_SIZE 32768

typedef struct {
    int enable;
    mg_gzip_bufs_t bufs; /* gunzip_buffers */
} gunzip_conf_t;

typedef struct {
    z_stream zs;
    int zinit;
    mg_buf_t *in, **in_tail;
    mg_buf_t *cur; /* the input buffer zlib reads from (its piece is in zs.next_in) */
    char *rbuf;
    mg_buf_t **bufs; /* gunzip_buffers: bufs[0..nused) are in the output */
    char **mem;
    mg_int_t nbufs, nused;
    size_t bufsize;
    unsigned busy : 1;  /* the filters after us still have our output */
    int held;           /* r->buffered is set for our input */
    unsigned ended : 1; /* a gzip member ended; more input starts another */
    unsigned done : 1;
    unsigned failed : 1; /* inflate failed: later calls fail too, logged once (nginx) */
} gunzip_ctx_t;

mg_module_t mg_gunzip_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_gunzip_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_gunzip_module, in);
}

static void zfree(void *data)
{
    gunzip_ctx_t *ctx = data;
    if (ctx->zinit) {
        inflateEnd(&ctx->zs);
        ctx->zinit = 0;
    }
}

static mg_int_t gunzip_header_filter(mg_request_t *r)
{
    gunzip_conf_t *conf = mg_http_get_loc_conf(r, mg_gunzip_module);
    mg_table_elt_t *ce = r->headers_out.content_encoding;
    if (!conf->enable || ce == NULL || !ce->hash || !mg_str_caseeq(ce->value, "gzip")) {
        return next_header_filter(r);
    }
    if (r->parent == NULL) {
        mg_http_gzip_vary(r);
        if (mg_http_gzip_ok(r) == MG_OK) {
            return next_header_filter(r);
        }
    }
    gunzip_ctx_t *ctx = mg_pcalloc(r->pool, sizeof(*ctx));
    ctx->in_tail = &ctx->in;
    ctx->nbufs = conf->bufs.num;
    ctx->bufsize = conf->bufs.size;
    mg_http_set_ctx(r, ctx, mg_gunzip_module);
    ce->hash = 0;
    r->headers_out.content_encoding = NULL;
    mg_http_clear_content_length(r);
    mg_http_clear_accept_ranges(r); /* an upstream's Accept-Ranges too, as nginx */
    mg_filter_weak_etag(r);
    return next_header_filter(r);
}

/* The next output buffer zlib writes into, or NULL when all are in the output. */
static mg_buf_t *obuf(mg_request_t *r, gunzip_ctx_t *ctx)
{
    if (ctx->nused == ctx->nbufs) {
        return NULL;
    }
    mg_int_t i = ctx->nused++;
    if (ctx->bufs[i] == NULL) {
        ctx->bufs[i] = mg_palloc(r->pool, sizeof(mg_buf_t));
        ctx->mem[i] = mg_pnalloc(r->pool, ctx->bufsize);
    }
    mg_buf_t *b = ctx->bufs[i];
    memset(b, 0, sizeof(*b));
    b->fd = -1;
    b->pos = b->last = ctx->mem[i];
    ctx->zs.next_out = (Bytef *)b->pos;
    ctx->zs.avail_out = (uInt)ctx->bufsize;
    return b;
}

/* Give zlib the next piece of input when it has none. 0: no input left. */
static int feed(mg_request_t *r, gunzip_ctx_t *ctx, mg_int_t *rc)
{
    while (ctx->zs.avail_in == 0 && ctx->in) {
        mg_buf_t *b = ctx->in;
        if (ctx->cur == b && mg_buf_size(b) == 0) {
            return 1; /* its flags are still to be acted on */
        }
        ctx->cur = b;
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
                *rc = MG_ERROR;
                return 0;
            }
            b->file_pos += n;
            ctx->zs.next_in = (Bytef *)ctx->rbuf;
            ctx->zs.avail_in = (uInt)n;
        } else if (!b->in_file && b->pos < b->last) {
            ctx->zs.next_in = (Bytef *)b->pos;
            ctx->zs.avail_in = (uInt)(b->last - b->pos);
            b->pos = b->last;
        }
        return 1;
    }
    return ctx->zs.avail_in > 0 || ctx->in != NULL;
}

/* Inflate until the input is used up or every output buffer is in the output. *out gets
 * the output. MG_OK, MG_ERROR. */
static mg_int_t gunzip_pass(mg_request_t *r, gunzip_ctx_t *ctx, mg_buf_t **out)
{
    mg_buf_t **tail = out, *b = NULL;
    mg_int_t rc = MG_OK;
    *out = NULL;
    while (!ctx->done && feed(r, ctx, &rc)) {
        mg_buf_t *in = ctx->cur;
        int last_piece = mg_buf_size(in) == 0; /* what zlib holds is the buffer's rest */
        int used = ctx->zs.avail_in == 0 && last_piece;
        int mode = last_piece && in->last_buf ? Z_FINISH
                   : last_piece && in->flush  ? Z_SYNC_FLUSH
                                              : Z_NO_FLUSH;
        if (ctx->ended && ctx->zs.avail_in) {
            if (inflateReset(&ctx->zs) != Z_OK) {
                mg_log_error(MG_LOG_ALERT, &r->connection->log, 0, "inflateReset() failed");
                return MG_ERROR;
            }
            ctx->ended = 0;
        }
        if (!ctx->ended && (ctx->zs.avail_in || mode != Z_NO_FLUSH)) {
            if (b == NULL && (b = obuf(r, ctx)) == NULL) {
                break;
            }
            int zrc = inflate(&ctx->zs, mode);
            if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
                /* (the context is the producer's: a proxied body's "sending to client", a
                 * file's "sending response to client", none for a handler's own bytes) */
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "inflate() failed: %d, %d", mode,
                             zrc);
                return MG_ERROR;
            }
            b->last = (char *)ctx->zs.next_out;
            if (zrc == Z_STREAM_END) {
                ctx->ended = 1;
            }
            if (ctx->zs.avail_out == 0 || zrc == Z_STREAM_END) {
                if (b->last > b->pos) {
                    *tail = b;
                    tail = &b->next;
                } else {
                    ctx->nused--;
                }
                b = NULL;
                continue;
            }
            if (ctx->zs.avail_in) {
                continue;
            }
        }
        if (!used) {
            continue;
        }
        /* the input buffer is used up: its flags */
        ctx->in = in->next;
        if (ctx->in == NULL) {
            ctx->in_tail = &ctx->in;
        }
        ctx->cur = NULL;
        if (in->last_buf && !ctx->ended) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                         "inflate() returned %d on response end", Z_BUF_ERROR);
            return MG_ERROR;
        }
        if (in->last_buf || in->flush || in->last_in_chain) {
            if (b == NULL || b->last == b->pos) {
                if (b == NULL && (b = obuf(r, ctx)) == NULL) {
                    b = mg_buf_mem(r->pool, NULL, 0); /* out of buffers: an empty one of its own */
                }
            }
            b->last_buf = in->last_buf;
            b->flush = in->flush;
            b->last_in_chain = in->last_in_chain;
            *tail = b;
            tail = &b->next;
            b = NULL;
            ctx->done = in->last_buf;
        }
    }
    if (b) {
        if (b->last > b->pos) {
            *tail = b;
            tail = &b->next;
        } else {
            ctx->nused--;
        }
    }
    *tail = NULL;
    return rc;
}

static mg_int_t gunzip_body_filter(mg_request_t *r, mg_buf_t *in)
{
    gunzip_ctx_t *ctx = mg_http_get_ctx(r, mg_gunzip_module);
    if (ctx == NULL || r->header_only) {
        return next_body_filter(r, in);
    }
    if (ctx->failed) {
        return MG_ERROR;
    }
    if (!ctx->zinit) {
        if (inflateInit2(&ctx->zs, MAX_WBITS + 16) != Z_OK) {
            mg_log_error(MG_LOG_ALERT, &r->connection->log, 0, "inflateInit2() failed");
            return MG_ERROR;
        }
        ctx->zinit = 1;
        mg_pool_cleanup_add(r->pool, zfree, ctx);
        ctx->bufs = mg_pcalloc(r->pool, (size_t)ctx->nbufs * sizeof(mg_buf_t *));
        ctx->mem = mg_pcalloc(r->pool, (size_t)ctx->nbufs * sizeof(char *));
    }
    mg_filter_queue_append(&ctx->in_tail, in);
    mg_filter_release(r, &ctx->held);
    mg_int_t rc = MG_OK;
    int passed = 0;
    for (;;) {
        if (ctx->busy) {
            rc = mg_filter_drain(r, next_body_filter, &ctx->held);
            passed = 1;
            if (rc == MG_ERROR || rc == MG_AGAIN) {
                return rc;
            }
            ctx->busy = 0;
            ctx->nused = 0;
        }
        if (ctx->done || (ctx->in == NULL && ctx->zs.avail_in == 0)) {
            break;
        }
        mg_buf_t *out;
        if (gunzip_pass(r, ctx, &out) != MG_OK) {
            ctx->failed = 1;
            return MG_ERROR;
        }
        if (out == NULL) {
            if (ctx->nused == ctx->nbufs) {
                mg_log_error(MG_LOG_ALERT, &r->connection->log, 0, "gunzip: no free output buffer");
                return MG_ERROR;
            }
            break; /* the input so far made no output */
        }
        rc = next_body_filter(r, out);
        passed = 1;
        if (rc == MG_ERROR) {
            return MG_ERROR;
        }
        if (rc == MG_OK) {
            ctx->nused = 0;
        } else {
            ctx->busy = 1;
        }
    }
    if (ctx->done) {
        zfree(ctx);
        mg_filter_queue_clear(&ctx->in, &ctx->in_tail);
    }
    return passed ? rc : next_body_filter(r, NULL);
}

/* ---- configuration ---- */

static void *gunzip_create_conf(mg_conf_t *cf)
{
    gunzip_conf_t *conf = mg_pcalloc(cf->pool, sizeof(*conf));
    conf->enable = MG_CONF_UNSET;
    return conf;
}

static const char *gunzip_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    gunzip_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->enable, prev->enable, 0);
    mg_gzip_bufs_merge(&conf->bufs, &prev->bufs);
    return MG_CONF_OK;
}

static int filter_used(const void *loc_conf)
{
    const gunzip_conf_t *conf = loc_conf;
    return conf->enable;
}

static void gunzip_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_gunzip_module, filter_used, gunzip_header_filter,
                         gunzip_body_filter);
}

#define LOC(f) MG_LOC_CONF, offsetof(gunzip_conf_t, f)

static const mg_command_t gunzip_commands[] = {
    {"gunzip", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(enable), NULL},
    {"gunzip_buffers", MG_HTTP_ANY_LOC, MG_ARGS(2, 2), mg_gzip_bufs_set, LOC(bufs), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t gunzip_defaults[] = {
    {"gunzip_buffers", "32 4k|16 8k"},
    {0},
};

mg_module_t mg_gunzip_module = {
    .name = "gunzip",
    .commands = gunzip_commands,
    .defaults = gunzip_defaults,
    .create_loc_conf = gunzip_create_conf,
    .merge_loc_conf = gunzip_merge_conf,
    .init_filters = gunzip_init_filters,
};
