/*
 * echo: OpenResty's echo-nginx-module. A location's echo_* directives are a small program the
 * content handler runs in order: output (echo, echo_duplicate, echo_request_body), waits
 * (echo_sleep, echo_read_request_body, echo_location, echo_subrequest: the program goes on
 * from the event), loops (echo_foreach_split ... echo_end, over $echo_it) and echo_exec.
 * Subrequests are in-stream (core/http/postpone.c), so their bodies take their place in the
 * output; the synchronous ones hold the program until they ended. echo_before_body and
 * echo_after_body are a filter around any content. The variables are in echo_vars.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"
#include "server.h"

mg_module_t mg_echo_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_echo_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_echo_module, in);
}

enum {
    OP_ECHO,
    OP_DUPLICATE,
    OP_FLUSH,
    OP_SLEEP,
    OP_BLOCKING_SLEEP,
    OP_RESET_TIMER,
    OP_READ_BODY,
    OP_LOCATION,
    OP_LOCATION_ASYNC,
    OP_SUBREQUEST,
    OP_SUBREQUEST_ASYNC,
    OP_FOREACH,
    OP_END,
    OP_REQUEST_BODY,
    OP_EXEC,
};

typedef struct {
    int op;
    mg_http_complex_value_t *args;
    size_t nargs;
    size_t jump;             /* foreach: the index of its echo_end; echo_end: its foreach's */
    size_t first;            /* echo: the first word after the options */
    unsigned no_newline : 1; /* echo -n */
} echo_cmd_t;

/* the program is waiting for an event */
#define ECHO_WAIT (-100)

static void *echo_create_conf(mg_conf_t *cf)
{
    echo_loc_conf_t *conf = mg_pcalloc(cf->pool, sizeof(*conf));
    conf->status = MG_CONF_UNSET;
    conf->open_foreach = -1;
    return conf;
}

static const char *echo_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    echo_loc_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->status, prev->status, MG_HTTP_OK);
    if (conf->cmds == NULL) {
        /* an "if" block runs its location's content handler with its own configuration */
        conf->cmds = prev->cmds;
    }
    if (conf->before == NULL) {
        conf->before = prev->before;
    }
    if (conf->after == NULL) {
        conf->after = prev->after;
    }
    if (conf->cmds && conf->open_foreach >= 0) {
        return "is missing \"echo_end\""; /* reported on the location's last directive */
    }
    return MG_CONF_OK;
}

echo_ctx_t *mg_echo_get_ctx(mg_request_t *r)
{
    echo_ctx_t *ctx = mg_http_get_ctx(r, mg_echo_module);
    if (ctx == NULL) {
        ctx = mg_pcalloc(r->pool, sizeof(*ctx));
        ctx->r = r;
        ctx->timer_begin = r->start_msec;
        mg_http_set_ctx(r, ctx, mg_echo_module);
    }
    return ctx;
}

/* ---- evaluating arguments ---- */

/* The values of cmd's arguments from `from` on. */
static mg_str_t *eval_args(mg_request_t *r, echo_cmd_t *cmd, size_t from, size_t *n)
{
    mg_str_t *v = mg_palloc(r->pool, (cmd->nargs + 1) * sizeof(mg_str_t));
    size_t k = 0;
    for (size_t i = from; i < cmd->nargs; i++) {
        v[k++] = mg_http_complex_value(r, &cmd->args[i]);
    }
    *n = k;
    return v;
}

/* The text echo and the filters print: the words joined by spaces, a newline unless -n. */
static mg_buf_t *echo_text(mg_request_t *r, echo_cmd_t *cmd)
{
    size_t n;
    mg_str_t *v = eval_args(r, cmd, cmd->first, &n);
    int newline = !cmd->no_newline;
    size_t len = (size_t)newline;
    for (size_t i = 0; i < n; i++) {
        len += v[i].len + (i > 0);
    }
    if (len == 0) {
        return NULL;
    }
    char *p = mg_pnalloc(r->pool, len), *s = p;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            *p++ = ' ';
        }
        memcpy(p, v[i].data, v[i].len);
        p += v[i].len;
    }
    if (newline) {
        *p++ = '\n';
    }
    return mg_buf_mem(r->pool, s, len);
}

/* ---- output ---- */

static mg_int_t send_header_once(mg_request_t *r, echo_ctx_t *ctx)
{
    if (ctx->header_sent || r->header_sent) {
        ctx->header_sent = 1;
        return MG_OK;
    }
    ctx->header_sent = 1;
    echo_loc_conf_t *conf = mg_http_get_loc_conf(r, mg_echo_module);
    r->headers_out.status = (mg_uint_t)conf->status;
    r->headers_out.content_length_n = -1;
    mg_http_set_content_type(r);
    mg_int_t rc = mg_http_send_header(r);
    if (rc == MG_ERROR || rc > MG_OK) {
        return rc;
    }
    if (r->header_only) {
        ctx->header_only = 1;
    }
    return MG_OK;
}

static mg_int_t output(mg_request_t *r, echo_ctx_t *ctx, mg_buf_t *b)
{
    mg_int_t rc = send_header_once(r, ctx);
    if (rc != MG_OK) {
        return rc;
    }
    if (b == NULL || ctx->header_only) {
        return MG_OK;
    }
    rc = mg_http_output(r, b);
    return rc == MG_ERROR ? MG_ERROR : MG_OK;
}

/* ---- waits ---- */

static void run_from_event(mg_request_t *r, echo_ctx_t *ctx);

static void timer_cancel(void *data)
{
    echo_ctx_t *ctx = data;
    evtimer_del(&ctx->timer);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    echo_ctx_t *ctx = arg;
    mg_time_update();
    run_from_event(ctx->r, ctx);
}

/* Go on from the loop after ms (0: at the next turn, never from the caller's stack). */
static void wake_after(mg_request_t *r, echo_ctx_t *ctx, mg_msec_t ms)
{
    if (!ctx->timer_set) {
        ctx->timer_set = 1;
        evtimer_assign(&ctx->timer, r->connection->server->base, on_timer, ctx);
        mg_pool_cleanup_add(r->pool, timer_cancel, ctx);
    }
    /* From now, not from libevent's time cached at the top of this loop turn: echo_sleep 0.2
     * twice must show at least 0.4 s in $echo_timer_elapsed, which reads the clock. */
    event_base_update_cache_time(r->connection->server->base);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(&ctx->timer, &tv);
}

static void body_read(mg_request_t *r)
{
    echo_ctx_t *ctx = mg_http_get_ctx(r, mg_echo_module);
    if (ctx == NULL || !ctx->waiting) {
        return;
    }
    if (ctx->running) {
        ctx->waiting = 0; /* read at once: the program goes on where it is */
        return;
    }
    run_from_event(r, ctx);
}

static void subrequest_done(mg_request_t *sr, void *data)
{
    (void)sr;
    echo_ctx_t *ctx = data;
    /* the body of sr takes its place after this returns; the program goes on behind it */
    wake_after(ctx->r, ctx, 0);
}

/* Seconds as echo_sleep takes them: a decimal number, at most 3 fractional digits kept. */
static mg_int_t parse_seconds(mg_str_t s, mg_msec_t *ms)
{
    mg_msec_t v = 0;
    size_t i = 0;
    int dot = 0, frac = 0, digits = 0;
    for (; i < s.len; i++) {
        char c = s.data[i];
        if (c == '.' && !dot) {
            dot = 1;
            continue;
        }
        if (c < '0' || c > '9') {
            return MG_ERROR;
        }
        digits++;
        if (dot) {
            if (frac == 3) {
                continue;
            }
            frac++;
        }
        v = v * 10 + (mg_msec_t)(c - '0');
    }
    if (digits == 0) {
        return MG_ERROR;
    }
    for (; frac < 3; frac++) {
        v *= 10;
    }
    *ms = v;
    return MG_OK;
}

/* ---- subrequests ---- */

static const char *const method_names[] = {
    "GET",     "HEAD",     "POST",      "PUT",  "DELETE", "MKCOL", "COPY",  "MOVE",
    "OPTIONS", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "PATCH", "TRACE",
};

static void remove_input_header(mg_request_t *sr, const char *name)
{
    mg_table_elt_t *h = sr->headers_in.headers.elts;
    size_t k = 0;
    for (size_t i = 0; i < sr->headers_in.headers.nelts; i++) {
        if (!mg_str_caseeq(h[i].key, name)) {
            h[k++] = h[i];
        }
    }
    sr->headers_in.headers.nelts = k;
}

/* The subrequest's own body: its Content-Length replaces the creator's. */
static void set_subrequest_body(mg_request_t *sr, mg_buf_t *body)
{
    mg_http_request_body_t *rb = mg_pcalloc(sr->pool, sizeof(*rb));
    size_t len = body ? mg_buf_size(body) : 0;
    if (len) {
        rb->bufs = body;
    }
    rb->received = len;
    rb->done = 1;
    sr->request_body = rb;
    remove_input_header(sr, "content-length");
    remove_input_header(sr, "transfer-encoding");
    mg_table_elt_t *h = mg_array_push(&sr->headers_in.headers);
    mg_str_set(&h->key, "Content-Length");
    h->value.data = mg_psprintf(sr->pool, "%zu", len);
    h->value.len = strlen(h->value.data);
    h->hash = 1;
    mg_http_headers_in_refresh(sr);
    sr->headers_in.content_length_n = (int64_t)len;
    sr->headers_in.chunked = 0;
}

/* -h "Name: value": the line replaces the subrequest's lines of that name */
static void set_subrequest_header(mg_request_t *sr, mg_str_t line)
{
    const char *colon = memchr(line.data, ':', line.len);
    if (colon == NULL || colon == line.data) {
        return;
    }
    mg_str_t name = {(size_t)(colon - line.data), line.data};
    mg_str_t value = {line.len - name.len - 1, (char *)colon + 1};
    while (value.len && value.data[0] == ' ') {
        value.data++;
        value.len--;
    }
    char *lname = mg_pnalloc(sr->pool, name.len + 1);
    mg_strlow(lname, name.data, name.len);
    lname[name.len] = '\0';
    remove_input_header(sr, lname);
    mg_table_elt_t *h = mg_array_push(&sr->headers_in.headers);
    h->key = name;
    h->value = value;
    h->hash = 1;
    mg_http_headers_in_refresh(sr);
}

static void close_fd(void *data)
{
    close((int)(intptr_t)data);
}

/* -f FILE: the subrequest's body is the file (relative to the prefix), as a file buffer. */
static mg_int_t body_file(mg_request_t *r, mg_str_t name, mg_buf_t **out)
{
    mg_str_t path = mg_full_name(r->pool, r->connection->cycle, name, 0);
    int fd = open(path.data, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, errno, "open() \"%s\" failed", path.data);
        if (fd >= 0) {
            close(fd);
        }
        return MG_ERROR;
    }
    mg_pool_cleanup_add(r->pool, close_fd, (void *)(intptr_t)fd);
    mg_buf_t *b = mg_buf_mem(r->pool, NULL, 0);
    b->in_file = 1;
    b->fd = fd;
    b->file_last = st.st_size;
    *out = b;
    return MG_OK;
}

/* echo_location(_async) URI [ARGS] and echo_subrequest(_async) METHOD URI [-q ARGS] [-b BODY]
 * [-f FILE]: an in-stream subrequest; sync ones make the program wait for its end. */
static mg_int_t make_subrequest(mg_request_t *r, echo_ctx_t *ctx, echo_cmd_t *cmd, int sync)
{
    size_t n;
    mg_str_t *v = eval_args(r, cmd, 0, &n);
    int method = MG_HTTP_GET;
    mg_str_t method_name = mg_string("GET"), uri, args = mg_null_string;
    mg_buf_t *body = NULL;
    int has_body = 0;
    mg_str_t *headers = mg_palloc(r->pool, (n + 1) * sizeof(mg_str_t)); /* -h "Name: value" */
    size_t nheaders = 0;
    size_t i = 0;
    if (cmd->op == OP_SUBREQUEST || cmd->op == OP_SUBREQUEST_ASYNC) {
        method = MG_HTTP_UNKNOWN;
        method_name = v[0];
        for (size_t m = 0; m < mg_nelems(method_names); m++) {
            if (mg_str_eq(v[0], method_names[m])) {
                method = (int)m + 1;
            }
        }
        if (method == MG_HTTP_UNKNOWN) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                         "echo_subrequest_async: unknown HTTP method \"%.*s\"", (int)v[0].len,
                         v[0].data);
            return MG_ERROR;
        }
        uri = v[1];
        for (i = 2; i < n; i++) {
            if (i + 1 < n && mg_str_eq(v[i], "-q")) {
                args = v[++i];
            } else if (i + 1 < n && mg_str_eq(v[i], "-b")) {
                i++;
                body = mg_buf_mem(r->pool, v[i].data, v[i].len);
                has_body = 1;
            } else if (i + 1 < n && mg_str_eq(v[i], "-f")) {
                if (body_file(r, v[++i], &body) != MG_OK) {
                    return MG_ERROR;
                }
                has_body = 1;
            } else if (i + 1 < n && mg_str_eq(v[i], "-h")) {
                headers[nheaders++] = v[++i];
            } else {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                             "unknown option for echo_subrequest*: %.*s", (int)v[i].len, v[i].data);
                return MG_ERROR;
            }
        }
    } else {
        uri = v[0];
        if (n > 1) {
            args = v[1];
        }
    }
    if (uri.len == 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "invalid location specified: \"\"");
        return MG_ERROR;
    }
    mg_int_t rc = send_header_once(r, ctx);
    if (rc != MG_OK) {
        return rc;
    }
    mg_request_t *sr;
    if (mg_http_subrequest_inline(r, uri, args.len ? &args : NULL, sync ? subrequest_done : NULL,
                                  ctx, &sr) != MG_OK) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "subrequests cycle while processing \"%.*s\"", (int)uri.len, uri.data);
        return MG_ERROR;
    }
    sr->method = method;
    sr->method_name = method_name;
    if (has_body) {
        set_subrequest_body(sr, body);
    }
    for (size_t k = 0; k < nheaders; k++) {
        set_subrequest_header(sr, headers[k]);
    }
    return sync ? ECHO_WAIT : MG_OK;
}

/* ---- the program ---- */

static mg_int_t exec(mg_request_t *r, echo_cmd_t *cmd)
{
    size_t n;
    mg_str_t *v = eval_args(r, cmd, 0, &n);
    mg_str_t uri = v[0], args = mg_null_string;
    if (uri.len == 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "echo_exec: empty uri");
        return MG_ERROR;
    }
    if (uri.data[0] == '@') {
        return mg_http_named_location(r, uri);
    }
    if (n > 1) {
        args = v[1];
    } else {
        char *q = memchr(uri.data, '?', uri.len);
        if (q) {
            args = (mg_str_t){uri.len - (size_t)(q + 1 - uri.data), q + 1};
            uri.len = (size_t)(q - uri.data);
        }
    }
    return mg_http_internal_redirect(r, uri, args.len ? &args : NULL);
}

/* Split s by the delimiter into the loop's items. */
static void split(mg_request_t *r, echo_ctx_t *ctx, mg_str_t delim, mg_str_t s)
{
    mg_array_init(&ctx->items, r->pool, 4, sizeof(mg_str_t));
    const char *p = s.data, *end = s.data + s.len;
    while (p < end) {
        const char *q = delim.len ? mg_strlcasestrn(p, end, delim.data, delim.len) : NULL;
        if (q == NULL || delim.len == 0) {
            q = end;
        }
        if (q > p) {
            mg_str_t *it = mg_array_push(&ctx->items);
            *it = (mg_str_t){(size_t)(q - p), (char *)p};
        }
        p = q + delim.len;
    }
}

/* Run the program from ctx->next: MG_OK when it ended (the response not yet finished),
 * ECHO_WAIT, MG_DONE (echo_exec), or an error / status. */
static mg_int_t run(mg_request_t *r, echo_ctx_t *ctx)
{
    echo_loc_conf_t *conf = mg_http_get_loc_conf(r, mg_echo_module);
    echo_cmd_t *cmds = conf->cmds->elts;
    while (ctx->next < conf->cmds->nelts) {
        echo_cmd_t *cmd = &cmds[ctx->next++];
        mg_int_t rc = MG_OK;
        size_t n;
        mg_str_t *v;
        switch (cmd->op) {
        case OP_ECHO:
            rc = output(r, ctx, echo_text(r, cmd));
            break;
        case OP_DUPLICATE: {
            v = eval_args(r, cmd, 0, &n);
            int64_t times = mg_atoi(v[0].data, v[0].len);
            if (times < 0) {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "invalid size specified: \"%.*s\"",
                             (int)v[0].len, v[0].data);
                return MG_ERROR;
            }
            size_t len = (size_t)times * v[1].len;
            mg_buf_t *b = NULL;
            if (len) {
                char *p = mg_pnalloc(r->pool, len);
                for (int64_t k = 0; k < times; k++) {
                    memcpy(p + (size_t)k * v[1].len, v[1].data, v[1].len);
                }
                b = mg_buf_mem(r->pool, p, len);
            }
            rc = output(r, ctx, b);
            break;
        }
        case OP_FLUSH: {
            mg_buf_t *b = mg_buf_mem(r->pool, "", 0);
            b->flush = 1;
            rc = output(r, ctx, r->parent ? NULL : b);
            break;
        }
        case OP_SLEEP:
        case OP_BLOCKING_SLEEP: {
            v = eval_args(r, cmd, 0, &n);
            mg_msec_t ms;
            if (parse_seconds(v[0], &ms) != MG_OK) {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "invalid sleep duration \"%.*s\"",
                             (int)v[0].len, v[0].data);
                return MG_HTTP_BAD_REQUEST;
            }
            if (cmd->op == OP_BLOCKING_SLEEP) {
                struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
                nanosleep(&ts, NULL);
                mg_time_refresh();
                break;
            }
            wake_after(r, ctx, ms);
            return ECHO_WAIT;
        }
        case OP_RESET_TIMER:
            mg_time_refresh();
            ctx->timer_begin = mg_now.msec;
            break;
        case OP_READ_BODY:
            ctx->waiting = 1;
            ctx->running = 1;
            rc = mg_http_read_client_request_body(r, body_read);
            ctx->running = 0;
            if (rc != MG_OK) {
                ctx->waiting = 0;
                return rc;
            }
            if (ctx->waiting) {
                return ECHO_WAIT;
            }
            break;
        case OP_LOCATION:
        case OP_SUBREQUEST:
            return make_subrequest(r, ctx, cmd, 1);
        case OP_LOCATION_ASYNC:
        case OP_SUBREQUEST_ASYNC:
            rc = make_subrequest(r, ctx, cmd, 0);
            break;
        case OP_FOREACH:
            v = eval_args(r, cmd, 0, &n);
            split(r, ctx, v[0], v[1]);
            ctx->it = 0;
            if (ctx->items.nelts == 0) {
                ctx->in_loop = 0;
                ctx->next = cmd->jump + 1;
            } else {
                ctx->in_loop = 1;
            }
            break;
        case OP_END:
            if (ctx->in_loop && ++ctx->it < ctx->items.nelts) {
                ctx->next = cmd->jump + 1;
            } else {
                ctx->in_loop = 0;
            }
            break;
        case OP_REQUEST_BODY: {
            mg_http_request_body_t *rb = r->request_body;
            mg_buf_t *out = NULL, **tail = &out;
            for (mg_buf_t *b = rb ? rb->bufs : NULL; b; b = b->next) {
                if (mg_buf_size(b) == 0) {
                    continue;
                }
                mg_buf_t *c = mg_pcalloc(r->pool, sizeof(*c));
                *c = *b;
                c->last_buf = c->flush = c->last_in_chain = 0;
                c->next = NULL;
                *tail = c;
                tail = &c->next;
            }
            rc = output(r, ctx, out);
            break;
        }
        case OP_EXEC:
            if (r->header_sent) {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                             "echo_exec is used after the response header has been sent");
                return MG_ERROR;
            }
            return exec(r, cmd) == MG_DONE ? MG_DONE : MG_ERROR;
        }
        if (rc != MG_OK) {
            return rc;
        }
    }
    return MG_OK;
}

/* The program ended: the response's end. */
static mg_int_t finish(mg_request_t *r, echo_ctx_t *ctx)
{
    mg_int_t rc = send_header_once(r, ctx);
    if (rc != MG_OK) {
        return rc;
    }
    mg_buf_t *last = mg_buf_mem(r->pool, "", 0); /* (a HEAD's end goes through too) */
    last->last_buf = 1;
    return mg_http_output(r, last);
}

static void run_from_event(mg_request_t *r, echo_ctx_t *ctx)
{
    ctx->waiting = 0;
    mg_int_t rc = run(r, ctx);
    if (rc == ECHO_WAIT || rc == MG_DONE) {
        return;
    }
    mg_http_finalize_request(r, rc == MG_OK ? finish(r, ctx) : rc);
}

static mg_int_t echo_handler(mg_request_t *r)
{
    echo_loc_conf_t *conf = mg_http_get_loc_conf(r, mg_echo_module);
    if (conf->cmds == NULL) {
        return MG_DECLINED;
    }
    echo_ctx_t *ctx = mg_echo_get_ctx(r);
    ctx->next = 0;
    mg_int_t rc = run(r, ctx);
    if (rc == ECHO_WAIT) {
        return MG_DONE;
    }
    if (rc != MG_OK) {
        return rc;
    }
    return finish(r, ctx);
}

/* ---- echo_before_body, echo_after_body ---- */

static mg_buf_t *filter_text(mg_request_t *r, mg_array_t *cmds)
{
    mg_buf_t *out = NULL, **tail = &out;
    echo_cmd_t *c = cmds->elts;
    for (size_t i = 0; i < cmds->nelts; i++) {
        mg_buf_t *b = echo_text(r, &c[i]);
        if (b) {
            *tail = b;
            tail = &b->next;
        }
    }
    return out;
}

static mg_int_t echo_header_filter(mg_request_t *r)
{
    echo_loc_conf_t *conf = mg_http_get_loc_conf(r, mg_echo_module);
    if (conf->before || conf->after) {
        echo_ctx_t *ctx = mg_echo_get_ctx(r);
        ctx->filter = 1;
        mg_http_clear_content_length(r);
        r->allow_ranges = 0;
    }
    return next_header_filter(r);
}

static mg_int_t echo_body_filter(mg_request_t *r, mg_buf_t *in)
{
    echo_ctx_t *ctx = mg_http_get_ctx(r, mg_echo_module);
    if (ctx == NULL || !ctx->filter || in == NULL || r->header_only) {
        return next_body_filter(r, in);
    }
    echo_loc_conf_t *conf = mg_http_get_loc_conf(r, mg_echo_module);
    if (!ctx->before_done) {
        ctx->before_done = 1;
        mg_buf_t *b = conf->before ? filter_text(r, conf->before) : NULL;
        if (b) {
            mg_buf_t *t = b;
            while (t->next) {
                t = t->next;
            }
            t->next = in;
            in = b;
        }
    }
    if (conf->after == NULL || ctx->after_done) {
        return next_body_filter(r, in);
    }
    /* the after-body text goes in before the end */
    mg_buf_t **link = &in;
    for (mg_buf_t *b = in; b; link = &b->next, b = b->next) {
        if (!b->last_buf) {
            continue;
        }
        ctx->after_done = 1;
        mg_buf_t *a = filter_text(r, conf->after);
        if (a == NULL) {
            break;
        }
        mg_buf_t *end = b;
        if (mg_buf_size(b)) {
            /* the end's own bytes stay before the text: a copy of b without the end */
            mg_buf_t *c = mg_pcalloc(r->pool, sizeof(*c));
            *c = *b;
            c->last_buf = 0;
            c->next = a;
            *link = c;
            end = mg_buf_mem(r->pool, "", 0);
            end->last_buf = 1;
        } else {
            *link = a;
        }
        mg_buf_t *t = a;
        while (t->next) {
            t = t->next;
        }
        t->next = end;
        end->next = NULL;
        break;
    }
    return next_body_filter(r, in);
}

static int filter_used(const void *loc_conf)
{
    const echo_loc_conf_t *conf = loc_conf;
    return conf->before || conf->after;
}

static void echo_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_echo_module, filter_used, echo_header_filter, echo_body_filter);
}

/* ---- configuration ---- */

static mg_int_t compile_args(mg_conf_t *cf, echo_cmd_t *cmd)
{
    cmd->nargs = cf->nargs - 1;
    if (cmd->nargs == 0) {
        return MG_OK;
    }
    cmd->args = mg_pcalloc(cf->pool, cmd->nargs * sizeof(mg_http_complex_value_t));
    for (size_t i = 0; i < cmd->nargs; i++) {
        if (mg_http_compile_complex_value(cf, cf->args[i + 1], &cmd->args[i]) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}

/* echo's options are read from the configuration's words, not from their values (a
 * variable holding "-n" is printed): leading "-x" words, up to a "--". */
static void read_options(echo_cmd_t *cmd, mg_conf_t *cf)
{
    size_t i = 1;
    for (; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        if (mg_str_eq(a, "--")) {
            i++;
            break;
        }
        if (a.len < 2 || a.data[0] != '-') {
            break;
        }
        if (mg_str_eq(a, "-n")) {
            cmd->no_newline = 1;
        }
    }
    cmd->first = i - 1;
}

static const char *echo_set_cmd(mg_conf_t *cf, const mg_command_t *c, void *conf)
{
    echo_loc_conf_t *elcf = conf;
    int op = (int)c->offset;
    if (elcf->cmds == NULL) {
        elcf->cmds = mg_array_create(cf->pool, 4, sizeof(echo_cmd_t));
        mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
        clcf->handler = echo_handler;
    }
    echo_cmd_t *cmd = mg_array_push(elcf->cmds);
    memset(cmd, 0, sizeof(*cmd));
    cmd->op = op;
    if (compile_args(cf, cmd) != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (op == OP_ECHO) {
        read_options(cmd, cf);
    }
    size_t idx = elcf->cmds->nelts - 1;
    if (op == OP_FOREACH) {
        if (elcf->open_foreach >= 0) {
            return "does not support nested loops";
        }
        elcf->open_foreach = (mg_int_t)idx;
    } else if (op == OP_END) {
        if (elcf->open_foreach < 0) {
            return MG_CONF_OK; /* a stray echo_end does nothing, as echo's */
        }
        echo_cmd_t *all = elcf->cmds->elts;
        cmd = &all[idx];
        cmd->jump = (size_t)elcf->open_foreach;
        all[elcf->open_foreach].jump = idx;
        elcf->open_foreach = -1;
    }
    return MG_CONF_OK;
}

static const char *echo_set_filter(mg_conf_t *cf, const mg_command_t *c, void *conf)
{
    mg_array_t **list = (mg_array_t **)((char *)conf + c->offset);
    if (*list == NULL) {
        *list = mg_array_create(cf->pool, 2, sizeof(echo_cmd_t));
    }
    echo_cmd_t *cmd = mg_array_push(*list);
    memset(cmd, 0, sizeof(*cmd));
    cmd->op = OP_ECHO;
    read_options(cmd, cf);
    return compile_args(cf, cmd) == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

static const char *echo_set_status(mg_conf_t *cf, const mg_command_t *c, void *conf)
{
    (void)c;
    echo_loc_conf_t *elcf = conf;
    int64_t n = mg_atoi(cf->args[1].data, cf->args[1].len);
    if (n < 100 || n > 999) {
        return "takes an invalid status code";
    }
    elcf->status = (mg_int_t)n;
    return MG_CONF_OK;
}

#define ECHO_CTX (MG_CTX_LOCATION | MG_CTX_LIF)
#define OP(name, op, args)                                                                         \
    {                                                                                              \
        name, ECHO_CTX, args, echo_set_cmd, MG_LOC_CONF, op, NULL                                  \
    }

static const mg_command_t echo_commands[] = {
    OP("echo", OP_ECHO, MG_ARGS(0, MG_MANY)),
    OP("echo_duplicate", OP_DUPLICATE, MG_ARGS(2, 2)),
    OP("echo_flush", OP_FLUSH, MG_ARGS(0, 0)),
    OP("echo_sleep", OP_SLEEP, MG_ARGS(1, 1)),
    OP("echo_blocking_sleep", OP_BLOCKING_SLEEP, MG_ARGS(1, 1)),
    OP("echo_reset_timer", OP_RESET_TIMER, MG_ARGS(0, 0)),
    OP("echo_read_request_body", OP_READ_BODY, MG_ARGS(0, 0)),
    OP("echo_location", OP_LOCATION, MG_ARGS(1, 2)),
    OP("echo_location_async", OP_LOCATION_ASYNC, MG_ARGS(1, 2)),
    OP("echo_subrequest", OP_SUBREQUEST, MG_ARGS(2, MG_MANY)),
    OP("echo_subrequest_async", OP_SUBREQUEST_ASYNC, MG_ARGS(2, MG_MANY)),
    OP("echo_foreach_split", OP_FOREACH, MG_ARGS(2, 2)),
    OP("echo_end", OP_END, MG_ARGS(0, 0)),
    OP("echo_request_body", OP_REQUEST_BODY, MG_ARGS(0, 0)),
    OP("echo_exec", OP_EXEC, MG_ARGS(1, 2)),
    {"echo_status", ECHO_CTX, MG_ARGS(1, 1), echo_set_status, MG_LOC_CONF, 0, NULL},
    {"echo_before_body", ECHO_CTX, MG_ARGS(0, MG_MANY), echo_set_filter, MG_LOC_CONF,
     offsetof(echo_loc_conf_t, before), NULL},
    {"echo_after_body", ECHO_CTX, MG_ARGS(0, MG_MANY), echo_set_filter, MG_LOC_CONF,
     offsetof(echo_loc_conf_t, after), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t echo_defaults[] = {
    {"echo_status", "200"},
    {"echo", MG_NO_DEFAULT},
    {"echo_duplicate", MG_NO_DEFAULT},
    {"echo_flush", MG_NO_DEFAULT},
    {"echo_sleep", MG_NO_DEFAULT},
    {"echo_blocking_sleep", MG_NO_DEFAULT},
    {"echo_reset_timer", MG_NO_DEFAULT},
    {"echo_read_request_body", MG_NO_DEFAULT},
    {"echo_location", MG_NO_DEFAULT},
    {"echo_location_async", MG_NO_DEFAULT},
    {"echo_subrequest", MG_NO_DEFAULT},
    {"echo_subrequest_async", MG_NO_DEFAULT},
    {"echo_foreach_split", MG_NO_DEFAULT},
    {"echo_end", MG_NO_DEFAULT},
    {"echo_request_body", MG_NO_DEFAULT},
    {"echo_exec", MG_NO_DEFAULT},
    {"echo_before_body", MG_NO_DEFAULT},
    {"echo_after_body", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_echo_module = {
    .name = "echo",
    .commands = echo_commands,
    .defaults = echo_defaults,
    .create_main_conf = mg_echo_create_main_conf,
    .init_main_conf = mg_echo_add_variables,
    .create_loc_conf = echo_create_conf,
    .merge_loc_conf = echo_merge_conf,
    .init_filters = echo_init_filters,
};
