/*
 * Subrequests: a child request of the same connection that runs the phases for a URI (internal
 * locations allowed) with its own pool, module contexts and variables, and whose response is
 * captured in memory at the end of the body filters instead of reaching the socket. It starts
 * and reports its end from the event loop (nginx's posted requests), never from its creator's
 * call stack; the creator's pool owns it, so a request that ends first takes its children along.
 * A background one (mirror) instead holds its creator's end back until it is over.
 */
#include <event2/event.h>
#include <unistd.h>

#include "conn.h"
#include "server.h"

/* nginx's NGX_HTTP_MAX_SUBREQUESTS: a request nested this deep may still make one more (nginx
 * counts 51 down to 0), so 51 levels exist below the client's request */
#define MAX_DEPTH 50

struct mg_http_subrequest_s {
    mg_request_t *r;          /* the child; NULL once freed */
    struct event ev;          /* start, then the end: both run from the loop */
    mg_http_subrequest_done_pt done;
    void *data;
    struct capture_s *cap; /* in the child's pool, whose cleanup frees the body */
    mg_int_t rc;
    unsigned started : 1;
    unsigned finished : 1;
    unsigned truncated : 1;
    unsigned reported : 1;    /* the callback ran (or runs): the child and body are its */
    unsigned error_pages : 1; /* an error status gets its page, as the client's would */
    unsigned background : 1;  /* the creator's end waits for it; its output is dropped */
    unsigned in_memory : 1;   /* subrequest_output_buffer_size bounds the body */
    unsigned too_big : 1;     /* ... and it was beyond */
    unsigned error_page : 1;  /* its body is the error page made for its status */
    unsigned source_cut : 1;  /* an upstream cut it off after the head (not its handler) */
    unsigned mended : 1;      /* a body was put in its place (SSI's stub) */
    /* told of each capture (postpone.c streams what its creator may send at once) */
    mg_http_subrequest_output_pt on_output;
    void *output_data;
    /* a held streaming one's capture beyond spill_after bytes goes to a file there (its
     * upstream's temp path: mg_http_subrequest_spill) */
    const mg_http_temp_path_t *spill_path;
    size_t spill_after;
    off_t spill_max;
    /* ... or, beyond hold_after bytes, stops its producer (mg_http_output_busy) until its
     * turn (mg_http_subrequest_resume): an unbuffered upstream, as nginx's stops reading
     * while its one buffer is postponed */
    size_t hold_after;
    unsigned held : 1;
};

/* The creator's pool goes: a child still running goes with it, without its callback (its
 * own cleanups close its upstream and free its Lua state and its own children). */
static void creator_gone(void *data)
{
    mg_http_subrequest_t *s = data;
    event_del(&s->ev);
    if (s->reported) {
        return;
    }
    mg_pool_destroy(s->r->pool);
}

/* The child goes: the connection's log no longer speaks of it. */
static void forget_current(void *data)
{
    mg_request_t *sr = data;
    if (sr->hc->current == sr) {
        sr->hc->current = NULL;
    }
}

/* The captured body: malloc'ed, grown as it comes, freed with the child unless taken; what was
 * spilled, before it, is in tf from `given` on (the file is the creator's: it outlives us). */
struct capture_s {
    char *body;
    size_t len, cap;
    mg_http_temp_file_t *tf;
    off_t given;
};

static void capture_free(void *data)
{
    struct capture_s *c = data;
    free(c->body);
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_http_subrequest_t *s = arg;
    mg_request_t *sr = s->r;
    mg_time_update();
    if (!s->started) {
        if (sr->main->subrequest_too_big) {
            return; /* the request ends (its pool takes this one along) */
        }
        s->started = 1;
        mg_http_main_conf_t *cmcf = mg_http_get_main_conf(sr, mg_http_core_module);
        sr->phase_handler = (mg_int_t)cmcf->server_rewrite_index;
        sr->valid_location = 1;
        sr->connection->log.action = NULL; /* nginx's request handler, as it starts */
        mg_http_run_phases(sr);
        return;
    }
    if (!s->finished) {
        /* held output may go on (mg_http_subrequest_resume): its producer continues */
        if (sr->write_event_handler) {
            sr->write_event_handler(sr);
        }
        return;
    }
    /* the child stays until the callback has taken what it wants; the callback may end the
     * creator (its pool and this record with it), so nothing here is touched after it */
    mg_pool_t *pool = sr->pool;
    mg_request_t *creator = s->background ? sr->parent : NULL;
    s->reported = 1;
    if (s->done) {
        s->done(sr, s->data);
    }
    mg_pool_destroy(pool);
    /* the creator is alive: its pool would have taken this event along */
    if (creator && --creator->background == 0 && creator->done_deferred) {
        mg_http_request_done(creator);
    }
}

void mg_http_subrequest_background(mg_request_t *sr)
{
    sr->subrequest->background = 1;
    sr->parent->background++;
}

mg_int_t mg_http_subrequest(mg_request_t *r, mg_str_t uri, mg_str_t *args,
                            mg_http_subrequest_done_pt done, void *data, mg_request_t **psr)
{
    int depth = 0;
    for (mg_request_t *p = r; p->parent; p = p->parent) {
        depth++;
    }
    if (depth > MAX_DEPTH) {
        return MG_DECLINED; /* the caller words it ("lua subrequests cycle ...") */
    }
    mg_pool_t *pool = mg_pool_create(4096);
    mg_request_t *sr = mg_pcalloc(pool, sizeof(mg_request_t));
    sr->pool = pool;
    sr->connection = r->connection;
    sr->hc = r->hc;
    sr->parent = r;
    sr->main = r->parent ? r->main : r;
    sr->main_conf = r->main_conf;
    sr->srv_conf = r->srv_conf;
    mg_http_srv_conf_t *cscf = mg_http_get_srv_conf(r, mg_http_core_module);
    sr->loc_conf = cscf->ctx->loc_conf;
    sr->ctx = mg_pcalloc(pool, mg_modules_n * sizeof(void *));
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    sr->filters = &cmcf->filters;
    sr->variables = mg_pcalloc(pool, (cmcf->variables.nelts + 1) * sizeof(mg_http_var_value_t));

    /* the creator's header lines, in an array of the child's own: a change in one does not
     * show in the other (the strings are the creator's, which outlives the child) */
    sr->headers_in = r->headers_in;
    size_t n = r->headers_in.headers.nelts;
    mg_array_init(&sr->headers_in.headers, pool, n ? n : 1, sizeof(mg_table_elt_t));
    mg_table_elt_t *h = r->headers_in.headers.elts;
    for (size_t i = 0; i < n; i++) {
        *(mg_table_elt_t *)mg_array_push(&sr->headers_in.headers) = h[i];
    }
    mg_http_headers_in_refresh(sr);
    sr->request_body = r->request_body;

    mg_array_init(&sr->headers_out.headers, pool, 8, sizeof(mg_table_elt_t));
    sr->headers_out.content_length_n = -1;
    sr->headers_out.last_modified_time = -1;

    /* as nginx: the client's request line and $request_uri, the child's own URI */
    sr->request_line = r->request_line;
    sr->unparsed_uri = r->unparsed_uri;
    sr->http_protocol = r->http_protocol;
    sr->http_major = r->http_major;
    sr->http_minor = r->http_minor;
    sr->schema = r->schema;
    sr->method = MG_HTTP_GET;
    mg_str_set(&sr->method_name, "GET");
    sr->uri = mg_pstr(pool, uri.data, uri.len);
    if (args && args->data) { /* "/x?" gives empty arguments, not none */
        sr->args = mg_pstr(pool, args->data, args->len);
    }
    mg_http_set_exten(sr);
    sr->internal = 1;
    sr->start_msec = mg_now.msec;
    sr->uri_changes = MG_HTTP_MAX_URI_CHANGES + 1;

    mg_http_subrequest_t *s = mg_pcalloc(r->pool, sizeof(*s));
    s->r = sr;
    s->cap = mg_pcalloc(pool, sizeof(struct capture_s));
    mg_pool_cleanup_add(pool, capture_free, s->cap);
    mg_pool_cleanup_add(pool, forget_current, sr);
    s->done = done;
    s->data = data;
    sr->subrequest = s;
    evtimer_assign(&s->ev, r->connection->server->base, on_event, s);
    mg_pool_cleanup_add(r->pool, creator_gone, s);
    event_active(&s->ev, EV_TIMEOUT, 1);
    *psr = sr;
    return MG_OK;
}

void mg_http_subrequest_cancel(mg_request_t *sr)
{
    mg_http_subrequest_t *s = sr->subrequest;
    event_del(&s->ev);
    s->reported = 1; /* the creator's pool no longer takes it along */
    mg_pool_destroy(sr->pool);
}

/* The child is over: its creator hears of it from the loop. */
static void finish(mg_request_t *sr, mg_int_t rc, int truncated)
{
    mg_http_subrequest_t *s = sr->subrequest;
    if (s->finished) {
        return;
    }
    s->finished = 1;
    s->rc = rc;
    s->truncated = (unsigned)truncated;
    sr->finalized = 1;
    sr->write_event_handler = NULL;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(sr, mg_http_core_module);
    if (clcf->log_subrequest) {
        mg_http_log_request(sr); /* its location's setting, as in nginx */
    }
    event_active(&s->ev, EV_TIMEOUT, 1);
}

int mg_http_subrequest_finalize(mg_request_t *sr, mg_int_t rc)
{
    if (rc == MG_ERROR || rc == MG_HTTP_CLOSE || rc == MG_HTTP_CLIENT_CLOSED_REQUEST ||
        rc == MG_HTTP_REQUEST_TIME_OUT) {
        /* broken off: what was captured stays, marked as cut (the connection is the
         * creator's: it is not closed here) */
        if (!sr->header_sent || sr->headers_out.status == 0) {
            sr->headers_out.status = rc > 0 ? (mg_uint_t)rc : MG_HTTP_INTERNAL_SERVER_ERROR;
        }
        finish(sr, rc, 1);
        return 1;
    }
    if (sr->subrequest->error_pages && rc >= MG_HTTP_SPECIAL_RESPONSE && !sr->header_sent) {
        sr->subrequest->error_page = 1;
        return 0; /* in-stream (ssi, addition): nginx sends the page into the stream */
    }
    if (rc >= MG_HTTP_SPECIAL_RESPONSE || rc == MG_HTTP_CREATED || rc == MG_HTTP_NO_CONTENT) {
        /* as nginx with a Lua capture: the status is the result, without an error page
         * or a body, and the response counts as cut */
        if (!sr->header_sent) {
            sr->headers_out.status = (mg_uint_t)rc;
            mg_http_set_content_type(sr);
        }
        finish(sr, rc, 1);
        return 1;
    }
    return 0;
}

void mg_http_subrequest_done(mg_request_t *sr)
{
    /* a header-only response (HEAD, 204) counts as cut, as in nginx, where its end never
     * passes the body filters (here the end mark does) */
    finish(sr, MG_OK, !sr->last_queued || sr->header_only);
}

/* An in-memory subrequest's body as nginx bounds it: one buffer of its Content-Length, which
 * must not be beyond subrequest_output_buffer_size, or of that size. 1 (logged): too big. */
static int too_big(mg_request_t *sr, size_t have, size_t size)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(sr, mg_http_core_module);
    int64_t cl = sr->headers_out.content_length_n;
    size_t limit = clcf->subrequest_output_buffer_size;
    int over = cl >= 0 && (uint64_t)cl > limit;
    if (!over && have + size <= (cl >= 0 ? (size_t)cl : limit)) {
        return 0;
    }
    /* (the context is the producer's: a file's "sending response to client", none for a
     * handler's own bytes) */
    mg_log_t *log = &sr->connection->log;
    if (over) {
        mg_log_error(MG_LOG_ERR, log, 0, "too big subrequest response: %lld", (long long)cl);
    } else {
        mg_log_error(MG_LOG_ERR, log, 0, "too big subrequest response");
    }
    return 1;
}

/* A held capture beyond its bound goes to a temporary file, as nginx's event pipe writes a
 * proxied response its postpone filter holds (its proxy_buffers all busy) to one: made in the
 * creator's pool, so that the writer can still read it after we ended; out of the directory
 * at once. Up to spill_max (proxy_max_temp_file_size) the file grows; beyond, memory. */
static mg_int_t spill(mg_request_t *sr, struct capture_s *c)
{
    mg_http_subrequest_t *s = sr->subrequest;
    if (c->tf && c->tf->offset + (off_t)c->len > s->spill_max) {
        return MG_OK;
    }
    if (c->tf == NULL) {
        c->tf = mg_http_temp_file_create(sr->parent, s->spill_path, 0);
        if (c->tf == NULL) {
            return MG_ERROR;
        }
        mg_log_t *log = mg_http_request_log(sr);
        if (unlink(c->tf->name.data) != 0) {
            mg_log_error(MG_LOG_CRIT, log, errno, "unlink() \"%s\" failed", c->tf->name.data);
        }
        c->tf->persistent = 1;
        /* nginx's context: its event pipe's read (here the writer's, where it is copied) */
        const char *action = log->action;
        log->action = "reading upstream";
        mg_log_error(MG_LOG_WARN, log, 0, "an upstream response is buffered to a temporary file %s",
                     c->tf->name.data);
        log->action = action;
    }
    if (mg_http_temp_file_write(c->tf, c->body, c->len) != MG_OK) {
        return MG_ERROR;
    }
    c->len = 0;
    return MG_OK;
}

mg_int_t mg_http_subrequest_capture(mg_request_t *sr, mg_buf_t *in)
{
    mg_http_subrequest_t *s0 = sr->subrequest;
    struct capture_s *s = s0->cap;
    unsigned flags = 0;
    for (mg_buf_t *b = in; b; b = b->next) {
        if (b->last_buf) {
            sr->last_queued = 1;
            sr->response_done = 1;
        }
        flags |= b->flush ? MG_HTTP_SUBREQUEST_FLUSH : 0;
        size_t size = mg_buf_size(b);
        if (size == 0 || s0->finished || s0->background) {
            continue;
        }
        if (s0->too_big || (s0->in_memory && too_big(sr, s->len, size))) {
            s0->too_big = 1;
            sr->main->subrequest_too_big = 1;
            return MG_ERROR;
        }
        if (s->cap - s->len < size) {
            size_t cap = s->cap ? s->cap : 4096;
            while (cap - s->len < size) {
                cap *= 2;
            }
            s->body = mg_realloc(s->body, cap);
            s->cap = cap;
        }
        if (!b->in_file) {
            memcpy(s->body + s->len, b->pos, size);
            s->len += size;
            sr->bytes_sent += size;
            continue;
        }
        for (off_t pos = b->file_pos; pos < b->file_last;) {
            ssize_t got = pread(b->fd, s->body + s->len, (size_t)(b->file_last - pos), pos);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                mg_log_error(MG_LOG_CRIT, &sr->connection->log, got < 0 ? errno : 0,
                             "pread() failed");
                return MG_ERROR;
            }
            pos += got;
            s->len += (size_t)got;
            sr->bytes_sent += (size_t)got;
        }
    }
    if (s0->on_output && !s0->finished && (s->len || flags)) {
        mg_int_t rc = s0->on_output(sr, s0->output_data, flags);
        if (rc == MG_DECLINED && s0->spill_path && s->len >= s0->spill_after) {
            return spill(sr, s); /* held: kept out of memory */
        }
        if (rc == MG_DECLINED && s0->hold_after && s->len >= s0->hold_after) {
            s0->held = 1; /* held: its producer waits */
        }
        return rc == MG_ERROR ? MG_ERROR : MG_OK;
    }
    return MG_OK;
}

void mg_http_subrequest_spill(mg_request_t *sr, const mg_http_temp_path_t *tp, size_t after,
                              off_t max)
{
    sr->subrequest->spill_path = tp;
    sr->subrequest->spill_after = after;
    sr->subrequest->spill_max = max;
}

void mg_http_subrequest_hold(mg_request_t *sr, size_t after)
{
    sr->subrequest->hold_after = after;
}

int mg_http_subrequest_held(mg_request_t *sr)
{
    return sr->subrequest->held;
}

void mg_http_subrequest_resume(mg_request_t *sr)
{
    mg_http_subrequest_t *s = sr->subrequest;
    if (s->held && !s->finished) {
        s->held = 0;
        event_active(&s->ev, EV_TIMEOUT, 1); /* from the loop, not the creator's filters */
    }
}

int mg_http_subrequest_take_file(mg_request_t *sr, int *fd, off_t *from, off_t *to)
{
    struct capture_s *c = sr->subrequest->cap;
    if (c->tf == NULL || c->given == c->tf->offset) {
        return 0;
    }
    *fd = c->tf->fd;
    *from = c->given;
    *to = c->given = c->tf->offset;
    return 1;
}

void mg_http_subrequest_on_output(mg_request_t *sr, mg_http_subrequest_output_pt fn, void *data)
{
    sr->subrequest->on_output = fn;
    sr->subrequest->output_data = data;
}

int mg_http_subrequest_error_page(mg_request_t *sr)
{
    return sr->subrequest->error_page;
}

int mg_http_subrequest_broken(mg_request_t *sr)
{
    mg_http_subrequest_t *s = sr->subrequest;
    mg_int_t rc = s->rc;
    return (rc == MG_ERROR || rc == MG_HTTP_CLOSE || rc == MG_HTTP_REQUEST_TIME_OUT ||
            rc == MG_HTTP_CLIENT_CLOSED_REQUEST) &&
           !s->source_cut && !s->too_big && !s->mended;
}

int mg_http_subrequest_broken_by_error(mg_request_t *sr)
{
    return sr->subrequest->rc == MG_ERROR && mg_http_subrequest_broken(sr);
}

void mg_http_subrequest_source_cut(mg_request_t *sr)
{
    sr->subrequest->source_cut = 1;
}

mg_str_t mg_http_subrequest_body(mg_request_t *sr)
{
    struct capture_s *c = sr->subrequest->cap;
    mg_str_t body = {c->len, c->body};
    return body;
}

char *mg_http_subrequest_take_body(mg_request_t *sr, size_t *len)
{
    struct capture_s *c = sr->subrequest->cap;
    char *body = c->body;
    *len = c->len;
    c->body = NULL;
    c->len = c->cap = 0;
    return body;
}

void mg_http_subrequest_replace_body(mg_request_t *sr, char *body, size_t len)
{
    struct capture_s *c = sr->subrequest->cap;
    sr->subrequest->mended = 1;
    free(c->body);
    c->body = body;
    c->len = c->cap = len;
    if (c->tf) {
        c->given = c->tf->offset; /* what was spilled goes too */
    }
}

void mg_http_subrequest_error_pages(mg_request_t *sr)
{
    sr->subrequest->error_pages = 1;
}

int mg_http_subrequest_truncated(mg_request_t *sr)
{
    return sr->subrequest->truncated;
}

void mg_http_subrequest_in_memory(mg_request_t *sr)
{
    sr->subrequest->in_memory = 1;
}

int mg_http_subrequest_too_big(mg_request_t *sr)
{
    return sr->subrequest->too_big;
}
