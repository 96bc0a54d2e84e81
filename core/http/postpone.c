/*
 * In-stream subrequests (nginx's postponed subrequests, for ssi includes, add_before_body /
 * add_after_body and slices): a subrequest whose body takes its place in its creator's output.
 * The postpone body filter sits in the chain after ssi and before gzip (modules.c): while a
 * request has such a subrequest pending, what it outputs waits behind it in an ordered queue
 * (the input is held, r->buffered set), and the subrequest's captured body is put in its place
 * when it ends (from the loop). The queue then goes on to the next filter in order.
 *
 * A subrequest's body is captured (subrequest.c) and passed on as memory buffers, freed once
 * the writer no longer needs them: an included response is held in memory while it waits for
 * its turn, the creator's own output streams. One made to stream (SSI's includes, as nginx's
 * active subrequest) is passed on as it comes once its place is the first of the queue.
 */
#include <stdlib.h>

#include "conn.h"

typedef struct pp_entry_s {
    struct pp_entry_s *next;
    mg_buf_t *out; /* data the creator gave, or (sr != NULL) a subrequest's place */
    mg_request_t *sr;
    char *body; /* the subrequest's body once done (malloc'ed) */
    size_t len;
    mg_buf_t *file; /* ... and what it spilled before it (mg_http_subrequest_spill), or NULL */
    mg_http_subrequest_done_pt done;
    void *data;
    mg_request_t *r;
    struct pp_ctx_s *ctx;
    unsigned finished : 1;
    unsigned stream : 1;          /* passed on as it comes when first (mg_http_subrequest_stream) */
    unsigned keep_error_page : 1; /* ... but not an error page made for its status */
} pp_entry_t;

typedef struct pp_ctx_s {
    pp_entry_t *head, **tail;
    char **blobs; /* bodies passed on, freed when the writer is done with them */
    size_t nblobs, cap;
    unsigned flushing : 1;
    unsigned down_buffered : 1; /* a filter after this one kept input back (its r->buffered) */
} pp_ctx_t;

mg_module_t mg_http_postpone_module;
static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_http_postpone_module, in);
}

static void free_blobs(pp_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->nblobs; i++) {
        free(ctx->blobs[i]);
    }
    ctx->nblobs = 0;
}

static void ctx_cleanup(void *data)
{
    pp_ctx_t *ctx = data;
    free_blobs(ctx);
    free(ctx->blobs);
    for (pp_entry_t *e = ctx->head; e; e = e->next) {
        free(e->body);
    }
}

/* The ctx lives in the pool and is reached through the module's slot; an internal redirect
 * clears the slot, so each entry also holds its ctx. */
static pp_ctx_t *get_ctx(mg_request_t *r, int create)
{
    pp_ctx_t *ctx = mg_http_get_ctx(r, mg_http_postpone_module);
    if (ctx == NULL && create) {
        ctx = mg_pcalloc(r->pool, sizeof(*ctx));
        ctx->tail = &ctx->head;
        mg_http_set_ctx(r, ctx, mg_http_postpone_module);
        mg_pool_cleanup_add(r->pool, ctx_cleanup, ctx);
    }
    return ctx;
}

/* Bodies already passed on can go once nothing after this filter holds them: a subrequest's
 * output is copied as it comes; the client's waits for the writer and for gzip. */
static void release_blobs(mg_request_t *r, pp_ctx_t *ctx)
{
    if (ctx->nblobs && (r->parent || (r->out == NULL && !ctx->down_buffered))) {
        free_blobs(ctx);
    }
}

/* The next filters' r->buffered is theirs alone during the call (ours is put back after). */
static mg_int_t pass(mg_request_t *r, pp_ctx_t *ctx, mg_buf_t *out)
{
    r->buffered = 0;
    r->buffered_waits = 0;
    mg_int_t rc = next_body_filter(r, out);
    ctx->down_buffered = r->buffered;
    return rc;
}

static int may_stream(pp_entry_t *e)
{
    return e->stream && !(e->keep_error_page && mg_http_subrequest_error_page(e->sr));
}

static void keep_blob(pp_ctx_t *ctx, char *body)
{
    if (ctx->nblobs == ctx->cap) {
        ctx->cap = ctx->cap ? ctx->cap * 2 : 4;
        ctx->blobs = mg_realloc(ctx->blobs, ctx->cap * sizeof(char *));
    }
    ctx->blobs[ctx->nblobs++] = body;
}

/* What sr spilled to a file and was not passed on yet, as a file buffer; NULL: none. */
static mg_buf_t *take_file(mg_request_t *r, mg_request_t *sr)
{
    int fd;
    off_t from, to;
    if (!mg_http_subrequest_take_file(sr, &fd, &from, &to)) {
        return NULL;
    }
    mg_buf_t *b = mg_buf_mem(r->pool, NULL, 0);
    b->in_file = 1;
    b->fd = fd;
    b->file_pos = from;
    b->file_last = to;
    return b;
}

/* The queue's first place is a running subrequest's: what it captured so far goes on, with a
 * flush when it had one (the writer sends it at once; a recycled mark is not passed on: nginx
 * holds such a part for postpone_output). The creator still holds what it gave after it. */
static mg_int_t stream_part(mg_request_t *r, pp_ctx_t *ctx, pp_entry_t *e, unsigned flags)
{
    size_t len;
    mg_buf_t *file = take_file(r, e->sr);
    char *body = mg_http_subrequest_take_body(e->sr, &len);
    mg_http_subrequest_resume(e->sr); /* a producer that stopped while held goes on */
    if (file == NULL && body == NULL && !(flags & MG_HTTP_SUBREQUEST_FLUSH)) {
        return MG_OK;
    }
    release_blobs(r, ctx);
    mg_buf_t *out = file;
    if (body || flags) {
        mg_buf_t *b = mg_buf_mem(r->pool, body ? body : "", body ? len : 0);
        if (body) {
            keep_blob(ctx, body);
        }
        b->flush = (flags & MG_HTTP_SUBREQUEST_FLUSH) != 0;
        if (out) {
            out->next = b;
        } else {
            out = b;
        }
    }
    mg_int_t rc = pass(r, ctx, out);
    r->buffered = 1;
    r->buffered_waits = 1;
    return rc == MG_ERROR ? MG_ERROR : MG_OK;
}

/* Pass the queue's head on while it is data or a finished subrequest. MG_AGAIN when the
 * socket is full (the writer has the rest), MG_ERROR. r->buffered is left as the filters
 * after this one set it, plus our own hold. */
static mg_int_t flush(mg_request_t *r, pp_ctx_t *ctx)
{
    mg_int_t rc = MG_OK;
    ctx->flushing = 1;
    while (ctx->head && (ctx->head->sr == NULL || ctx->head->finished)) {
        pp_entry_t *e = ctx->head;
        ctx->head = e->next;
        if (ctx->head == NULL) {
            ctx->tail = &ctx->head;
        }
        mg_buf_t *out = e->out;
        if (e->sr) {
            if (e->len == 0) {
                free(e->body); /* a buffer left empty (its bytes spilled to the file) */
                e->body = NULL;
            }
            if (e->len == 0 && e->file == NULL) {
                /* nothing (more) to add: no call without input, which would make the writer
                 * send what it holds for postpone_output (nginx's goes on to the next part) */
                continue;
            }
            out = e->file;
            if (e->len) {
                mg_buf_t *b = mg_buf_mem(r->pool, e->body, e->len);
                keep_blob(ctx, e->body);
                e->body = NULL;
                if (out) {
                    out->next = b;
                } else {
                    out = b;
                }
            }
        }
        rc = pass(r, ctx, out);
        if (rc == MG_ERROR) {
            break;
        }
    }
    if (ctx->head && rc != MG_ERROR && may_stream(ctx->head)) {
        /* its turn came: what it captured while it waited goes now, the rest as it comes */
        mg_int_t src = stream_part(r, ctx, ctx->head, 0);
        rc = src == MG_ERROR ? src : rc;
    }
    ctx->flushing = 0;
    if (ctx->head && rc != MG_ERROR) {
        /* the producer's buffers wait in the queue, until the subrequest's end (on_done)
         * drives it again: the writer may keep what postpone_output holds, as nginx's */
        r->buffered = 1;
        r->buffered_waits = 1;
        return MG_AGAIN;
    }
    return rc;
}

static mg_int_t postpone_body_filter(mg_request_t *r, mg_buf_t *in)
{
    pp_ctx_t *ctx = get_ctx(r, 0);
    if (ctx == NULL) {
        return next_body_filter(r, in);
    }
    release_blobs(r, ctx);
    if (ctx->head == NULL) {
        /* r->buffered may be a filter's before us (ssi's): left alone, and taken as the
         * next filters' too (blobs are then kept a while longer) */
        mg_int_t rc = next_body_filter(r, in);
        ctx->down_buffered = r->buffered;
        return rc;
    }
    if (in == NULL && !ctx->flushing) {
        /* the writer drained: the filters after us go on with what they hold */
        if (pass(r, ctx, NULL) == MG_ERROR) {
            return MG_ERROR;
        }
    }
    if (in) {
        pp_entry_t *e = mg_pcalloc(r->pool, sizeof(*e));
        e->out = in;
        *ctx->tail = e;
        ctx->tail = &e->next;
    }
    if (ctx->flushing) {
        return MG_AGAIN; /* a filter after us called back into the chain: it is queued */
    }
    return flush(r, ctx);
}

/* The subrequest ended (from the loop): its body takes its place, and the queue moves on. */
static void on_done(mg_request_t *sr, void *data)
{
    pp_entry_t *e = data;
    mg_request_t *r = e->r;
    pp_ctx_t *ctx = e->ctx;
    e->finished = 1;
    if (e->done) {
        e->done(sr, e->data); /* may replace the body (ssi's stub) */
    }
    if (mg_http_subrequest_broken(sr)) {
        /* as nginx: a subrequest whose handler failed (MG_ERROR, 444) ends the client's
         * request at once, running or waiting for its turn: the connection closes, what the
         * writer held back is dropped, what went out stays (no last chunk) */
        mg_http_finalize_request(sr->main, MG_ERROR);
        return;
    }
    e->file = take_file(r, sr);
    e->body = mg_http_subrequest_take_body(sr, &e->len);
    if (ctx->flushing) {
        return;
    }
    mg_int_t rc = flush(r, ctx);
    if (rc == MG_ERROR) {
        mg_http_finalize_request(r, MG_ERROR);
        return;
    }
    if (ctx->head) {
        return;
    }
    /* filters before us may have kept input back while we held (r->buffered): they go on */
    if (mg_http_output(r, NULL) == MG_ERROR) {
        mg_http_finalize_request(r, MG_ERROR);
        return;
    }
    release_blobs(r, ctx);
    /* the queue held the response's end: the request ends as the writer would end it */
    if (!r->buffered && r->last_queued && !r->finalized) {
        mg_http_finalize_request(r, MG_OK);
        return;
    }
    if (!mg_http_output_busy(r) && r->write_event_handler && (r->parent || r->hc->r == r)) {
        r->write_event_handler(r); /* a producer that waited for room */
    }
}

mg_int_t mg_http_subrequest_inline(mg_request_t *r, mg_str_t uri, mg_str_t *args,
                                   mg_http_subrequest_done_pt done, void *data, mg_request_t **psr)
{
    pp_ctx_t *ctx = get_ctx(r, 1);
    pp_entry_t *e = mg_pcalloc(r->pool, sizeof(*e));
    e->r = r;
    e->ctx = ctx;
    e->done = done;
    e->data = data;
    mg_int_t rc = mg_http_subrequest(r, uri, args, on_done, e, &e->sr);
    if (rc != MG_OK) {
        return rc;
    }
    mg_http_subrequest_error_pages(e->sr);
    *ctx->tail = e;
    ctx->tail = &e->next;
    *psr = e->sr;
    return MG_OK;
}

/* A capture of a streaming subrequest (from its filters): passed on if its place is first. */
static mg_int_t on_output(mg_request_t *sr, void *data, unsigned flags)
{
    (void)sr;
    pp_entry_t *e = data;
    pp_ctx_t *ctx = e->ctx;
    if (ctx->head != e || ctx->flushing || !may_stream(e)) {
        return MG_DECLINED; /* held until its turn */
    }
    if (e->r->parent == NULL && e->r->connection->writing) {
        /* the client is slower: kept (spilled) meanwhile, and passed on when the writer
         * drained and called the filters again (flush) */
        return MG_DECLINED;
    }
    return stream_part(e->r, ctx, e, flags);
}

void mg_http_subrequest_stream(mg_request_t *sr, int keep_error_page)
{
    pp_ctx_t *ctx = get_ctx(sr->parent, 0);
    pp_entry_t *e = ctx->head;
    while (e->sr != sr) {
        e = e->next;
    }
    e->stream = 1;
    e->keep_error_page = (unsigned)keep_error_page;
    mg_http_subrequest_on_output(sr, on_output, e);
}

static void postpone_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_http_postpone_module, NULL, NULL, postpone_body_filter);
}

mg_module_t mg_http_postpone_module = {
    .name = "postpone",
    .init_filters = postpone_init_filters,
};
