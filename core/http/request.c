/*
 * A request's life, from creation to its log line and its pool's end: created when a head
 * is parsed (connection.c -> headers_in.c), run through the phases (phase.c), redirected
 * internally, finalized (the one place that decides between finishing, waiting for output,
 * sending an error page or closing), logged, freed; then the connection takes over again.
 */
#include "conn.h"
#include "metrics.h"
#include "parse.h"
#include "stat.h"
#include "variables.h"

/* A request starts with four of request_pool_size's blocks in one allocation, up to 16k: a
 * proxied request takes about 14k of its pool (the request, the upstream, their buffers),
 * which with the 4k default then costs one malloc rather than four. Later blocks are
 * request_pool_size's. The server keeps the last freed request's pool, reset, for the next
 * request of the same sizes (mg_pool_spare_*): one malloc and free less a request (~250
 * instructions of a keepalive "return 200"'s ~6,800), one first block per worker more. */
static mg_pool_t *request_pool(mg_server_t *srv, size_t size)
{
    size_t first = size * 4;
    if (first > 16384) {
        first = size > 16384 ? size : 16384;
    }
    return mg_pool_spare_take(&srv->request_pools, first, size);
}

mg_request_t *mg_http_create_request(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_pool_t *pool = request_pool(c->server, hc->srv->request_pool_size);
    mg_request_t *r = mg_pcalloc(pool, sizeof(mg_request_t));
    r->pool = pool;
    r->connection = c;
    r->hc = hc;
    hc->r = r;
    r->out_tail = &r->out;
    mg_http_srv_conf_t *cscf = hc->srv;
    r->main_conf = cscf->ctx->main_conf;
    r->srv_conf = cscf->ctx->srv_conf;
    r->loc_conf = cscf->ctx->loc_conf;
    r->ctx = mg_pcalloc(pool, mg_modules_n * sizeof(void *));
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    r->filters = &cmcf->filters;
    r->variables = mg_pcalloc(pool, (cmcf->variables.nelts + 1) * sizeof(mg_http_var_value_t));
    mg_array_init(&r->headers_in.headers, pool, 16, sizeof(mg_table_elt_t));
    mg_array_init(&r->headers_out.headers, pool, 8, sizeof(mg_table_elt_t));
    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;
    r->start_msec = mg_now.msec;
    r->uri_changes = MG_HTTP_MAX_URI_CHANGES + 1;
    r->http_major = 1;
    r->http_minor = 0;
    r->method = MG_HTTP_UNKNOWN;
    c->requests++;
    mg_stat_state(c->server, &hc->stat, MG_STAT_WRITING);
    /* the connection's server's error_log until the Host header picks the server, as nginx;
     * this also undoes a previous request's location log */
    mg_http_update_location_config(r);
    return r;
}

/* nginx's header lists are lists of parts that never move; an array is copied when it grows,
 * so the lines kept by pointer are pointed at their copies, else a later change through one
 * (gzip weakening the ETag) changes a line no longer sent. */
mg_table_elt_t *mg_http_header_push_grow(mg_array_t *a, void *owner, size_t first, size_t n)
{
    mg_table_elt_t *from = a->elts;
    mg_table_elt_t *h = mg_array_push(a);
    mg_table_elt_t *to = a->elts;
    for (size_t i = 0; i < n; i++) {
        mg_table_elt_t **k = (mg_table_elt_t **)((char *)owner + first) + i;
        if (*k >= from && *k < from + a->nelts - 1) {
            *k = to + (*k - from);
        }
    }
    return h;
}

/* the kept lines of headers_out, content_length to etag */
#define OUT_KEPT offsetof(mg_http_headers_out_t, content_length), 5
_Static_assert(offsetof(mg_http_headers_out_t, etag) ==
                   offsetof(mg_http_headers_out_t, content_length) + 4 * sizeof(mg_table_elt_t *),
               "headers_out's kept lines are adjacent");

void mg_http_headers_out_clear(mg_request_t *r)
{
    mg_http_headers_out_t *ho = &r->headers_out;
    ho->headers.nelts = 0;
    ho->content_length = ho->last_modified = ho->location = NULL;
    ho->content_encoding = ho->etag = NULL;
}

mg_table_elt_t *mg_http_add_header_out(mg_request_t *r, const char *key, size_t klen,
                                       const char *val, size_t vlen)
{
    mg_table_elt_t *h = mg_http_header_push(&r->headers_out.headers, &r->headers_out, OUT_KEPT);
    h->key.data = (char *)key;
    h->key.len = klen;
    h->value.data = (char *)val;
    h->value.len = vlen;
    h->hash = 1;
    return h;
}

mg_table_elt_t *mg_http_find_header_in(mg_request_t *r, const char *lower_name, size_t len)
{
    mg_table_elt_t *h = r->headers_in.headers.elts;
    for (size_t i = 0; i < r->headers_in.headers.nelts; i++) {
        if (h[i].key.len == len && mg_strncasecmp(h[i].key.data, lower_name, len) == 0) {
            return &h[i];
        }
    }
    return NULL;
}

mg_int_t mg_http_redirect_to_slash(mg_request_t *r)
{
    /* the URI escaped again, as nginx: a "?", "#" or space in a name stays in the path */
    size_t ulen = mg_http_escape(r->uri.data, r->uri.len, NULL, MG_ESCAPE_URI);
    size_t len = ulen + 1 + (r->args.len ? r->args.len + 1 : 0);
    char *loc = mg_pnalloc(r->pool, len);
    mg_http_escape(r->uri.data, r->uri.len, loc, MG_ESCAPE_URI);
    loc[ulen] = '/';
    if (r->args.len) {
        loc[ulen + 1] = '?';
        memcpy(loc + ulen + 2, r->args.data, r->args.len);
    }
    r->headers_out.location = mg_http_add_header_out(r, "Location", 8, loc, len);
    return MG_HTTP_MOVED_PERMANENTLY;
}

void mg_http_clear_content_length(mg_request_t *r)
{
    r->headers_out.content_length_n = -1;
    mg_http_content_length_line(r);
}

mg_table_elt_t *mg_http_content_length_line(mg_request_t *r)
{
    mg_table_elt_t *h = r->headers_out.content_length;
    if (h && (h->hash == 0 || r->headers_out.content_length_n < 0 ||
              mg_atoi(h->value.data, h->value.len) != r->headers_out.content_length_n)) {
        h->hash = 0;
        r->headers_out.content_length = NULL;
    }
    return r->headers_out.content_length;
}

mg_table_elt_t *mg_http_find_header_out(mg_request_t *r, const char *name, size_t len)
{
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && h[i].key.len == len && mg_strncasecmp(h[i].key.data, name, len) == 0) {
            return &h[i];
        }
    }
    return NULL;
}

/* Hide the headers named so in the response's list (an upstream's, kept there as they came). */
static void hide_header_out(mg_request_t *r, const char *name, size_t len)
{
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && h[i].key.len == len && mg_strncasecmp(h[i].key.data, name, len) == 0) {
            h[i].hash = 0;
        }
    }
}

void mg_http_clear_last_modified(mg_request_t *r)
{
    r->headers_out.last_modified_time = -1;
    r->headers_out.last_modified = NULL;
    hide_header_out(r, "Last-Modified", 13);
}

void mg_http_clear_accept_ranges(mg_request_t *r)
{
    r->allow_ranges = 0;
    hide_header_out(r, "Accept-Ranges", 13);
}

void mg_http_set_exten(mg_request_t *r)
{
    r->exten.len = 0;
    r->exten.data = NULL;
    for (size_t i = r->uri.len; i > 0; i--) {
        char ch = r->uri.data[i - 1];
        if (ch == '/') {
            return;
        }
        if (ch == '.') {
            r->exten.data = r->uri.data + i;
            r->exten.len = r->uri.len - i;
            return;
        }
    }
}

void mg_http_set_content_type(mg_request_t *r)
{
    if (r->headers_out.content_type.len) {
        return;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (r->exten.len && clcf->types) {
        mg_http_type_t *t = clcf->types->elts;
        for (size_t i = 0; i < clcf->types->nelts; i++) {
            if (t[i].exten.len == r->exten.len &&
                mg_strncasecmp(t[i].exten.data, r->exten.data, r->exten.len) == 0) {
                r->headers_out.content_type = t[i].type;
                return;
            }
        }
    }
    r->headers_out.content_type = clcf->default_type;
}

void mg_http_update_location_config(mg_request_t *r)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (clcf->handler) {
        r->content_handler = clcf->handler;
    }
    if (clcf->limit_except_loc_conf && (clcf->limit_except & (1u << r->method))) {
        /* a method limit_except does not list: its block's configuration (the location's
         * content handler stays unless the block has its own proxy_pass) */
        r->loc_conf = clcf->limit_except_loc_conf;
        clcf = mg_http_get_loc_conf(r, mg_http_core_module);
        if (clcf->handler) {
            r->content_handler = clcf->handler;
        }
    }
    if (r->parent) {
        return; /* as nginx: the connection's log follows the client's request only */
    }
    /* the location's error_log (inherited, else the main one) takes over the request's lines */
    mg_log_t *el = clcf->error_log ? clcf->error_log : r->connection->cycle->log;
    mg_log_use(&r->connection->log, el);
}

void mg_http_keepalive_check(mg_request_t *r)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_connection_t *c = r->connection;
    /* keepalive_disable: MSIE 6 may wait after a POST answered on a kept connection, Safari
     * may send one to a connection being closed */
    if (r->keepalive &&
        (clcf->keepalive_timeout == 0 ||
         (clcf->keepalive_requests && c->requests >= (mg_uint_t)clcf->keepalive_requests) ||
         mg_now.msec - c->start_msec > clcf->keepalive_time || c->server->quitting ||
         ((clcf->keepalive_disable & MG_HTTP_KEEPALIVE_DISABLE_MSIE6) &&
          r->method == MG_HTTP_POST && (mg_http_user_agent(r) & MG_HTTP_UA_MSIE6)) ||
         ((clcf->keepalive_disable & MG_HTTP_KEEPALIVE_DISABLE_SAFARI) &&
          (mg_http_user_agent(r) & MG_HTTP_UA_SAFARI)))) {
        r->keepalive = 0;
    }
}

/* ---- redirects ---- */

mg_int_t mg_http_internal_redirect(mg_request_t *r, mg_str_t uri, mg_str_t *args)
{
    if (--r->uri_changes == 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "rewrite or internal redirection cycle while internally redirecting to "
                     "\"%.*s\"",
                     (int)uri.len, uri.data);
        mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
        return MG_DONE;
    }
    r->uri = uri;
    if (args) {
        r->args = *args;
    } else {
        r->args.len = 0;
        r->args.data = NULL;
    }
    mg_http_set_exten(r);
    r->connection->log.action = NULL; /* as nginx's: not so for a named location */
    /* module state belongs to the old URI; cached variables stay, as in nginx (the ones that
     * depend on the URI are not cacheable and get evaluated again) */
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    memset(r->ctx, 0, mg_modules_n * sizeof(void *));
    r->loc_conf = ((mg_conf_ctx_t *)((mg_http_srv_conf_t *)r->srv_conf[mg_http_core_module.index])->ctx)->loc_conf;
    mg_http_update_location_config(r);
    mg_http_keepalive_check(r);
    r->internal = 1;
    r->valid_location = 1;
    r->phase_handler = (mg_int_t)cmcf->server_rewrite_index;
    mg_http_run_phases(r);
    return MG_DONE;
}

mg_int_t mg_http_named_location(mg_request_t *r, mg_str_t name)
{
    mg_http_srv_conf_t *cscf = mg_http_get_srv_conf(r, mg_http_core_module);
    mg_http_loc_conf_t **named = cscf->named_locations.elts;
    for (size_t i = 0; i < cscf->named_locations.nelts; i++) {
        if (!mg_str_eq_str(named[i]->name, name)) {
            continue;
        }
        if (--r->uri_changes == 0) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                         "rewrite or internal redirection cycle while redirect to named "
                         "location \"%.*s\"",
                         (int)name.len, name.data);
            mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
            return MG_DONE;
        }
        mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
        memset(r->ctx, 0, mg_modules_n * sizeof(void *));
        r->loc_conf = named[i]->loc_conf;
        mg_http_update_location_config(r);
        mg_http_keepalive_check(r);
        r->internal = 1;
        r->phase_handler = (mg_int_t)cmcf->location_rewrite_index;
        mg_http_run_phases(r);
        return MG_DONE;
    }
    mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "could not find named location \"%.*s\"",
                 (int)name.len, name.data);
    mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
    return MG_DONE;
}

/* ---- finalization ---- */

/* post_action: 1 when the request went on to the location's post_action (a URI or @name),
 * with what it answers thrown away (send_header and output drop it); its end finalizes the
 * request again, which then ends or goes on to the post_action of the location it ended in
 * (nginx's chain, until the internal redirects run out: the cycle's 500 is logged and the
 * connection closes). A main request's response sent, given up, or cut short by a client
 * that went away all go on to it, as in nginx. A request whose URI changes ran out goes no
 * further (uri_changes would wrap). */
static int post_action(mg_request_t *r)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (r->parent || clcf->post_action.len == 0 || r->uri_changes == 0) {
        return 0;
    }
    /* the response is out: the connection waits on nothing while the post_action runs */
    mg_conn_timer_del(r->connection);
    mg_conn_write_off(r->connection);
    r->post_action = 1;
    r->header_only = 1;
    r->finalized = 0;
    r->last_given = 0;
    r->last_queued = 0;
    r->content_handler = NULL;
    if (clcf->post_action.data[0] == '@') {
        mg_http_named_location(r, clcf->post_action);
    } else {
        mg_http_internal_redirect(r, clcf->post_action, NULL);
    }
    return 1;
}

/* err: the status to log (0: keep what is there), unless a post_action goes on: as nginx's,
 * the log then has what the post_action's end leaves */
static void terminate_request(mg_request_t *r, mg_uint_t err)
{
    r->keepalive = 0;
    if (post_action(r)) {
        return; /* with keepalive off, the connection closes once it ends */
    }
    if (err) {
        r->err_status = err;
    }
    r->connection->closed = 1;
    mg_http_request_done(r);
}

void mg_http_finalize_request(mg_request_t *r, mg_int_t rc)
{
    if (rc == MG_DONE) {
        return; /* r may already be gone: an internal redirect can finish it */
    }
    if (r->finalized) {
        return;
    }
    mg_debug_http(&r->connection->log, "http finalize request: %ld, \"%.*s?%.*s\"", (long)rc,
                  (int)r->uri.len, r->uri.data, (int)r->args.len, r->args.data ? r->args.data : "");
    if (rc == MG_DECLINED) {
        r->content_handler = NULL;
        mg_http_run_phases(r);
        return;
    }
    if (r->parent && mg_http_subrequest_finalize(r, rc)) {
        return; /* a subrequest neither closes the connection nor gets an error page */
    }
    /* a connection already given up (the client went while its body was read) gets no
     * answer: the status is only logged */
    if (rc == MG_ERROR || rc == MG_HTTP_CLOSE || rc == MG_HTTP_CLIENT_CLOSED_REQUEST ||
        rc == MG_HTTP_REQUEST_TIME_OUT ||
        (rc >= MG_HTTP_SPECIAL_RESPONSE && r->connection->closed)) {
        mg_uint_t err = 0;
        if (rc > 0 && (!r->headers_out.status || r->bytes_sent == 0)) {
            /* as nginx: once some of a response went, the log keeps its status */
            err = (mg_uint_t)rc;
        } else if (!r->headers_out.status) {
            err = MG_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (rc == MG_HTTP_CLOSE) {
            r->connection->timedout = 1; /* nginx resets a 444 as a timed-out connection */
        }
        terminate_request(r, err);
        return;
    }
    if (rc >= MG_HTTP_SPECIAL_RESPONSE || rc == MG_HTTP_CREATED || rc == MG_HTTP_NO_CONTENT) {
        if (r->header_sent && !r->post_action) {
            terminate_request(r, 0);
            return;
        }
        mg_http_finalize_request(r, mg_http_special_response(r, rc));
        return;
    }
    if (rc == MG_AGAIN && !r->last_queued) {
        /* the handler waits on something; it will finalize again */
        return;
    }
    if (!r->last_queued && r->last_given && r->buffered) {
        /* a body filter holds the end back (gzip, an in-stream subrequest): the writer or the
         * postpone filter finalizes once it got through */
        return;
    }
    if (!r->last_queued) {
        /* a handler said OK without completing the response */
        if (!r->header_sent) {
            mg_http_finalize_request(r, mg_http_special_response(r, MG_HTTP_INTERNAL_SERVER_ERROR));
            return;
        }
        mg_buf_t *last = mg_buf_mem(r->pool, "", 0);
        last->last_buf = 1;
        if (mg_http_output(r, last) == MG_ERROR) {
            terminate_request(r, 0);
            return;
        }
    }
    r->finalized = 1;
    if (r->parent) {
        mg_http_subrequest_done(r);
        return;
    }
    if (r->out) {
        return; /* the writer finishes the request once the queue drains */
    }
    mg_http_request_done(r);
}

void mg_http_finalize_unanswered(mg_request_t *r)
{
    if (r->finalized) {
        return;
    }
    r->last_queued = 1;   /* nothing is to come: no 500 for a response never begun */
    r->response_done = 1; /* nginx's request_complete, so keep-alive and $request_completion */
    r->finalized = 1;
    if (!r->out) {
        mg_http_request_done(r);
    }
}

/* ---- the end: log, free, hand the connection back ---- */

void mg_http_log_request(mg_request_t *r)
{
    if (r->logged) {
        return;
    }
    r->logged = 1;
    mg_debug_http(&r->connection->log, "http log handler");
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    mg_http_handler_pt *log = cmcf->phases[MG_HTTP_LOG_PHASE].elts;
    const char *action = r->connection->log.action;
    r->connection->log.action = "logging request"; /* nginx's context for this phase's lines */
    for (size_t i = 0; i < cmcf->phases[MG_HTTP_LOG_PHASE].nelts; i++) {
        log[i](r);
    }
    r->connection->log.action = action;
    mg_metrics_shm_t *met = r->connection->server->cycle->metrics;
    if (r->parent == NULL && met) {
        /* moongate_http_requests_total{server,code}: the server as $server_name names it */
        mg_http_srv_conf_t *cscf = mg_http_get_srv_conf(r, mg_http_core_module);
        mg_str_t name = mg_server_names_first(&cscf->server_names);
        mg_metrics_http_request(met, &cscf->metrics, name,
                                r->err_status ? r->err_status : r->headers_out.status);
    }
}

void mg_http_free_request(mg_request_t *r)
{
    mg_http_conn_t *hc = r->hc;
    mg_debug_http(&r->connection->log, "http close request");
    hc->r = NULL;
    hc->current = NULL;
    mg_http_writer_reset(hc);
    mg_pool_spare_give(&r->connection->server->request_pools, r->pool, MG_SERVER_REQUEST_SPARE);
}

void mg_http_request_done(mg_request_t *r)
{
    mg_connection_t *c = r->connection;
    if (r->background && !c->closed) {
        /* as nginx's mirrors: the response is out, but the request is logged and its
         * connection goes on (a pipelined request waits) once they ended; the last one's end
         * calls this again */
        r->done_deferred = 1;
        mg_conn_timer_del(c);
        mg_conn_write_off(c);
        return;
    }
    if (post_action(r)) {
        return;
    }
    mg_http_log_request(r);
    mg_http_conn_next_t next;
    mg_http_conn_decide(r, &next);
    mg_conn_timer_del(c);
    mg_conn_write_off(c);
    mg_http_free_request(r);
    mg_http_conn_continue(c, &next);
}
