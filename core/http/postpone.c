/*
 * In-stream subrequests (nginx's postponed subrequests, for ssi includes, add_before_body /
 * add_after_body and slices): a subrequest whose body takes its place in its creator's output.
 * The postpone body filter sits in the chain after ssi and before gzip (modules.c): while a
 * request has such a subrequest pending, what it outputs waits behind it in an ordered queue
 * (the input is held, r->buffered set), and the subrequest's captured body is put in its place
 * when it ends (from the loop). The queue then goes on to the next filter in order.
 *
 * A subrequest's body is captured whole (subrequest.c) and passed on as one memory buffer,
 * freed once the writer no longer needs it: an included response is held in memory while it
 * waits for its turn, the creator's own output streams.
 */
#include <stdlib.h>

#include "conn.h"

typedef struct pp_entry_s {
    struct pp_entry_s *next;
    mg_buf_t *out; /* data the creator gave, or (sr != NULL) a subrequest's place */
    mg_request_t *sr;
    char *body; /* the subrequest's body once done (malloc'ed) */
    size_t len;
    mg_http_subrequest_done_pt done;
    void *data;
    mg_request_t *r;
    struct pp_ctx_s *ctx;
    unsigned finished : 1;
} pp_entry_t;

typedef struct pp_ctx_s {
    pp_entry_t *head, **tail;
    char **blobs; /* bodies passed on, freed when the writer is done with them */
    size_t nblobs, cap;
    unsigned flushing : 1;
} pp_ctx_t;

mg_module_t mg_http_postpone_module;
static mg_http_body_filter_pt next_body_filter;

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
    if (ctx->nblobs && (r->parent || (r->hc->out == NULL && !r->buffered))) {
        free_blobs(ctx);
    }
}

static void keep_blob(pp_ctx_t *ctx, char *body)
{
    if (ctx->nblobs == ctx->cap) {
        ctx->cap = ctx->cap ? ctx->cap * 2 : 4;
        ctx->blobs = mg_realloc(ctx->blobs, ctx->cap * sizeof(char *));
    }
    ctx->blobs[ctx->nblobs++] = body;
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
            out = e->len ? mg_buf_mem(r->pool, e->body, e->len) : NULL;
            if (e->body) {
                keep_blob(ctx, e->body);
                e->body = NULL;
            }
        }
        r->buffered = 0;
        r->buffered_waits = 0;
        rc = next_body_filter(r, out);
        if (rc == MG_ERROR) {
            break;
        }
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
        return next_body_filter(r, in);
    }
    if (in == NULL && !ctx->flushing) {
        /* the writer drained: the filters after us go on with what they hold */
        r->buffered = 0;
        r->buffered_waits = 0;
        if (next_body_filter(r, NULL) == MG_ERROR) {
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

static void postpone_init_filters(void)
{
    next_body_filter = mg_http_top_body_filter;
    mg_http_top_body_filter = postpone_body_filter;
}

mg_module_t mg_http_postpone_module = {
    .name = "postpone",
    .init_filters = postpone_init_filters,
};
