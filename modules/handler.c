/*
 * `handler NAME;` in a location: the content handler an embedding program registered under
 * NAME (moongate.h, core/embed.c) answers, through the request API of moongate.h
 * implemented here. `filter NAME;`: the program's header and body filter for the location's
 * responses, one filter of the chains (its place: modules/modules.c). The handle a handler gets
 * (moongate_request_t) is malloc'ed: a handler that returned MOONGATE_AGAIN may hold it after its
 * client went away (the request's pool is then gone), until it calls moongate_request_finish, which
 * frees it.
 */
#include <unistd.h>

#include "embed.h"
#include "http.h"
#include "pool.h"
#include "str.h"

mg_module_t mg_handler_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_handler_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_handler_module, in);
}

typedef struct {
    const moongate_handler_t *h;
    const moongate_filter_t *f; /* MG_CONF_UNSET_PTR until merged */
} handler_loc_conf_t;

struct moongate_request_s {
    mg_request_t *r; /* NULL once the request is gone */
    int status;
    mg_int_t final_rc; /* finished inside the handler: what it returns */
    void (*body_done)(moongate_request_t *r, void *data);
    void *body_data;
    unsigned in_handler : 1;
    unsigned held : 1;      /* returned MOONGATE_AGAIN: the program holds it */
    unsigned body_wait : 1; /* the body is being read: the program holds nothing */
    unsigned finished : 1;
    unsigned wrote : 1;
    unsigned aborted : 1;
    unsigned in_filter : 1;      /* a header filter runs: status and headers go to headers_out */
    mg_buf_t *fout, **fout_last; /* what a body filter writes */
};

static void request_gone(void *data)
{
    moongate_request_t *w = data;
    if (w->finished || !w->held || w->body_wait) {
        free(w);
        return;
    }
    w->r = NULL;
    w->aborted = 1;
}

static void client_gone(mg_request_t *r);
static const mg_http_abort_t handler_abort = {client_gone, NULL, NULL};

static void client_gone(mg_request_t *r)
{
    mg_http_finalize_request(r, MG_HTTP_CLIENT_CLOSED_REQUEST);
}

static mg_int_t send_head(moongate_request_t *w)
{
    mg_request_t *r = w->r;
    r->headers_out.status = w->status ? (mg_uint_t)w->status : MG_HTTP_OK;
    mg_http_set_content_type(r);
    mg_int_t rc = mg_http_send_header(r);
    return rc == MG_ERROR || rc > MG_OK ? MG_ERROR : MG_OK;
}

/* What the request ends with: the rest of the response, or a status for finalize to answer. */
static mg_int_t end_response(moongate_request_t *w, int rc)
{
    mg_request_t *r = w->r;
    if (rc == MOONGATE_ERROR) {
        return MG_ERROR;
    }
    if (!r->header_sent) {
        if (rc >= MG_HTTP_SPECIAL_RESPONSE || rc == MG_HTTP_CREATED || rc == MG_HTTP_NO_CONTENT) {
            return rc;
        }
        if (rc >= 100 && !w->status) {
            w->status = rc;
        }
        if (r->headers_out.content_length_n < 0) {
            r->headers_out.content_length_n = 0;
        }
        if (send_head(w) != MG_OK) {
            return MG_ERROR;
        }
    }
    if (r->header_only) {
        return MG_OK;
    }
    mg_buf_t *b = mg_buf_mem(r->pool, NULL, 0);
    b->last_buf = 1;
    return mg_http_output(r, b);
}

static mg_int_t handler_content(mg_request_t *r)
{
    handler_loc_conf_t *lc = mg_http_get_loc_conf(r, mg_handler_module);
    moongate_request_t *w = mg_calloc(sizeof(moongate_request_t));
    w->r = r;
    mg_pool_cleanup_add(r->pool, request_gone, w);
    w->in_handler = 1;
    int rc = lc->h->handler(w, lc->h->data);
    w->in_handler = 0;
    if (w->finished) {
        return w->final_rc;
    }
    if (rc == MOONGATE_AGAIN) {
        w->held = 1;
        if (!w->body_wait) {
            mg_http_watch_client(r, &handler_abort);
        }
        return MG_DONE;
    }
    if (rc == MOONGATE_DECLINED && !w->wrote) {
        return MG_DECLINED;
    }
    w->finished = 1;
    return end_response(w, rc);
}

void moongate_request_finish(moongate_request_t *w, int rc)
{
    mg_request_t *r = w->r;
    if (r == NULL) {
        free(w);
        return;
    }
    if (w->finished) {
        return;
    }
    w->finished = 1;
    mg_int_t out = end_response(w, rc);
    if (w->in_handler) {
        w->final_rc = out;
        return;
    }
    mg_http_unwatch_client(r, &handler_abort);
    mg_http_finalize_request(r, out); /* may free r, and w with it */
}

int moongate_request_aborted(moongate_request_t *w)
{
    return w->aborted;
}

moongate_server_t *moongate_request_server(moongate_request_t *w)
{
    return w->r ? w->r->connection->server : NULL;
}

static const char *str_out(mg_str_t s, size_t *len)
{
    if (len) {
        *len = s.len;
    }
    return s.data;
}

const char *moongate_request_method(moongate_request_t *w, size_t *len)
{
    return str_out(w->r->method_name, len);
}

const char *moongate_request_uri(moongate_request_t *w, size_t *len)
{
    return str_out(w->r->uri, len);
}

const char *moongate_request_args(moongate_request_t *w, size_t *len)
{
    return str_out(w->r->args, len);
}

const char *moongate_request_arg(moongate_request_t *w, const char *name, size_t *len)
{
    mg_str_t v;
    if (mg_http_arg(w->r, name, strlen(name), &v) != MG_OK) {
        return NULL;
    }
    return str_out(v, len);
}

const char *moongate_request_header(moongate_request_t *w, const char *name, size_t *len)
{
    mg_table_elt_t *h = mg_http_find_header_in(w->r, name, strlen(name));
    return h ? str_out(h->value, len) : NULL;
}

static void body_read(mg_request_t *r)
{
    moongate_request_t *w = mg_pool_cleanup_find(r->pool, request_gone);
    w->body_wait = 0;
    if (w->held && !w->in_handler) {
        mg_http_watch_client(r, &handler_abort);
    }
    w->body_done(w, w->body_data);
}

int moongate_request_read_body(moongate_request_t *w,
                               void (*done)(moongate_request_t *r, void *data), void *data)
{
    w->body_done = done;
    w->body_data = data;
    w->body_wait = 1;
    mg_int_t rc = mg_http_read_client_request_body(w->r, body_read);
    if (rc != MG_OK) {
        w->body_wait = 0;
        return (int)rc;
    }
    return 0;
}

const char *moongate_request_body(moongate_request_t *w, size_t *len)
{
    mg_http_request_body_t *rb = w->r->request_body;
    *len = 0;
    if (rb == NULL || rb->bufs == NULL) {
        return NULL;
    }
    size_t n = 0;
    for (mg_buf_t *b = rb->bufs; b; b = b->next) {
        n += b->in_file ? (size_t)(b->file_last - b->file_pos) : mg_buf_size(b);
    }
    if (n == 0) {
        return NULL;
    }
    char *p = mg_pnalloc(w->r->pool, n), *q = p;
    for (mg_buf_t *b = rb->bufs; b; b = b->next) {
        if (!b->in_file) {
            memcpy(q, b->pos, mg_buf_size(b));
            q += mg_buf_size(b);
            continue;
        }
        ssize_t got = pread(b->fd, q, (size_t)(b->file_last - b->file_pos), b->file_pos);
        if (got != b->file_last - b->file_pos) {
            mg_log_error(MG_LOG_ERR, &w->r->connection->log, errno,
                         "pread() of the request body failed");
            return NULL;
        }
        q += got;
    }
    *len = n;
    return p;
}

void moongate_response_status(moongate_request_t *w, int status)
{
    w->status = status;
    if (w->in_filter) {
        w->r->headers_out.status = (mg_uint_t)status;
    }
}

int moongate_response_get_status(moongate_request_t *w)
{
    return (int)w->r->headers_out.status;
}

const char *moongate_response_get_header(moongate_request_t *w, const char *name, size_t *len)
{
    mg_request_t *r = w->r;
    size_t nlen = strlen(name);
    if (nlen == 12 && mg_strncasecmp(name, "Content-Type", 12) == 0) {
        return r->headers_out.content_type.len ? str_out(r->headers_out.content_type, len) : NULL;
    }
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && h[i].key.len == nlen && mg_strncasecmp(h[i].key.data, name, nlen) == 0) {
            return str_out(h[i].value, len);
        }
    }
    return NULL;
}

int moongate_filter_write(moongate_request_t *w, const void *data, size_t len)
{
    if (w->fout_last == NULL || len == 0) {
        return w->fout_last ? 0 : -1;
    }
    char *copy = mg_pnalloc(w->r->pool, len);
    memcpy(copy, data, len);
    *w->fout_last = mg_buf_mem(w->r->pool, copy, len);
    w->fout_last = &(*w->fout_last)->next;
    return 0;
}

/* The handle of r for a filter: the handler's when a handler answers, else a new one that the
 * request's pool frees. */
static moongate_request_t *filter_handle(mg_request_t *r)
{
    moongate_request_t *w = mg_pool_cleanup_find(r->pool, request_gone);
    if (w == NULL) {
        w = mg_calloc(sizeof(moongate_request_t));
        w->r = r;
        mg_pool_cleanup_add(r->pool, request_gone, w);
    }
    return w;
}

static mg_int_t filter_header(mg_request_t *r)
{
    handler_loc_conf_t *lc = mg_http_get_loc_conf(r, mg_handler_module);
    const moongate_filter_t *f = lc->f;
    if (f == NULL || r->parent) {
        return next_header_filter(r);
    }
    moongate_request_t *w = filter_handle(r);
    if (f->header) {
        w->in_filter = 1;
        int rc = f->header(w, f->data);
        w->in_filter = 0;
        if (rc != MOONGATE_OK) {
            return MG_ERROR;
        }
    }
    if (f->body) {
        mg_http_clear_content_length(r);
    }
    return next_header_filter(r);
}

/* The bytes of a buffer, read in when they are in a file. */
static const char *buf_bytes(mg_request_t *r, mg_buf_t *b, size_t *len)
{
    if (!b->in_file) {
        *len = mg_buf_size(b);
        return b->pos ? b->pos : ""; /* an empty last or flush buffer */
    }
    size_t n = (size_t)(b->file_last - b->file_pos);
    char *p = mg_pnalloc(r->pool, n ? n : 1);
    if (pread(b->fd, p, n, b->file_pos) != (ssize_t)n) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "pread() failed in filter");
        return NULL;
    }
    *len = n;
    return p;
}

static mg_int_t filter_body(mg_request_t *r, mg_buf_t *in)
{
    handler_loc_conf_t *lc = mg_http_get_loc_conf(r, mg_handler_module);
    const moongate_filter_t *f = lc->f;
    if (f == NULL || f->body == NULL || r->parent || in == NULL) {
        return next_body_filter(r, in);
    }
    moongate_request_t *w = filter_handle(r);
    mg_buf_t *out = NULL;
    w->fout = NULL;
    w->fout_last = &w->fout;
    int flush = 0, last = 0;
    for (mg_buf_t *b = in; b; b = b->next) {
        size_t len;
        const char *p = buf_bytes(r, b, &len);
        if (p == NULL || f->body(w, p, len, b->last_buf, f->data) != MOONGATE_OK) {
            w->fout_last = NULL;
            return MG_ERROR;
        }
        flush |= b->flush;
        last |= b->last_buf;
        if (b->in_file) {
            b->file_pos = b->file_last;
        } else {
            b->pos = b->last;
        }
    }
    out = w->fout;
    w->fout_last = NULL;
    if (flush || last) {
        mg_buf_t *end = mg_buf_mem(r->pool, NULL, 0);
        end->flush = flush;
        end->last_buf = last;
        mg_buf_t **pp = &out;
        while (*pp) {
            pp = &(*pp)->next;
        }
        *pp = end;
    }
    if (out == NULL) {
        return MG_OK;
    }
    return next_body_filter(r, out);
}

static int filter_used(const void *loc_conf)
{
    const handler_loc_conf_t *conf = loc_conf;
    return conf->f != NULL;
}

static void handler_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_handler_module, filter_used, filter_header, filter_body);
}

int moongate_response_header(moongate_request_t *w, const char *name, const char *value)
{
    mg_request_t *r = w->r;
    if (r->header_sent) {
        return -1;
    }
    size_t nlen = strlen(name);
    char *v = value ? mg_pstrdup(r->pool, value, strlen(value)) : NULL;
    if (nlen == 12 && mg_strncasecmp(name, "Content-Type", 12) == 0) {
        r->headers_out.content_type = v ? (mg_str_t){strlen(v), v} : (mg_str_t){0, NULL};
        return 0;
    }
    if (nlen == 14 && mg_strncasecmp(name, "Content-Length", 14) == 0) {
        r->headers_out.content_length_n = v ? strtoll(v, NULL, 10) : -1;
        return 0;
    }
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && h[i].key.len == nlen && mg_strncasecmp(h[i].key.data, name, nlen) == 0) {
            h[i].hash = 0;
        }
    }
    if (v) {
        mg_http_add_header_out(r, mg_pstrdup(r->pool, name, nlen), nlen, v, strlen(v));
    }
    return 0;
}

int moongate_response_write(moongate_request_t *w, const void *data, size_t len)
{
    mg_request_t *r = w->r;
    if (r == NULL || w->finished) {
        return -1;
    }
    if (!r->header_sent && send_head(w) != MG_OK) {
        return -1;
    }
    w->wrote = 1;
    if (r->header_only || len == 0) {
        return 0;
    }
    char *copy = mg_pnalloc(r->pool, len);
    memcpy(copy, data, len);
    mg_buf_t *b = mg_buf_mem(r->pool, copy, len);
    b->flush = 1; /* streaming: out now, not held back for postpone_output */
    return mg_http_output(r, b) == MG_ERROR ? -1 : 0;
}

static void *handler_create_loc_conf(mg_conf_t *cf)
{
    handler_loc_conf_t *lc = mg_pcalloc(cf->pool, sizeof(handler_loc_conf_t));
    lc->f = MG_CONF_UNSET_PTR;
    return lc;
}

static const char *handler_merge_loc_conf(mg_conf_t *cf, void *prev, void *conf)
{
    (void)cf;
    handler_loc_conf_t *p = prev, *c = conf;
    if (c->f == MG_CONF_UNSET_PTR) {
        c->f = p->f == MG_CONF_UNSET_PTR ? NULL : p->f;
    }
    return MG_CONF_OK;
}

static const char *filter_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    handler_loc_conf_t *lc = conf;
    mg_str_t *name = &cf->args[1];
    if (lc->f != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    if (mg_str_eq(*name, "off")) {
        lc->f = NULL;
        return MG_CONF_OK;
    }
    lc->f = mg_embed_filter(cf->cycle, name->data, name->len);
    if (lc->f == NULL) {
        mg_conf_error(cf, 0, "unknown filter \"%.*s\"", (int)name->len, name->data);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

/* The location's content handler is the one registered as name. */
static const char *use_handler(mg_conf_t *cf, handler_loc_conf_t *lc, mg_str_t name)
{
    if (lc->h) {
        return "is duplicate";
    }
    lc->h = mg_embed_handler(cf->cycle, name.data, name.len);
    if (lc->h == NULL) {
        mg_conf_error(cf, 0, "unknown handler \"%.*s\"", (int)name.len, name.data);
        return MG_CONF_ERROR;
    }
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    clcf->handler = handler_content;
    return MG_CONF_OK;
}

static const char *handler_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    return use_handler(cf, conf, cf->args[1]);
}

/* `location /x { NAME; }`: a registered handler's name used as a directive of its own, as
 * nginx modules name their content handlers (stub_status;). A directive of a module wins. */
static mg_int_t handler_other_directive(mg_conf_t *cf, int semi)
{
    mg_str_t name = cf->args[0];
    if (!(cf->ctx & MG_CTX_LOCATION) || mg_embed_handler(cf->cycle, name.data, name.len) == NULL) {
        return MG_DECLINED;
    }
    if (!semi || cf->nargs != 1) {
        mg_conf_error(cf, 0, "handler \"%.*s\" takes no arguments and ends with \";\"",
                      (int)name.len, name.data);
        return MG_ERROR;
    }
    const char *rv = use_handler(cf, mg_http_conf_get_loc(cf, mg_handler_module), name);
    if (rv != MG_CONF_OK && rv != MG_CONF_ERROR) {
        mg_conf_error(cf, 0, "\"%.*s\" directive %s", (int)name.len, name.data, rv);
    }
    return rv == MG_CONF_OK ? MG_OK : MG_ERROR;
}

static const mg_command_t handler_commands[] = {
    {"handler", MG_CTX_LOCATION, MG_ARGS(1, 1), handler_set, MG_LOC_CONF, 0, NULL},
    {"filter", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), filter_set, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t handler_defaults[] = {
    {"handler", MG_NO_DEFAULT},
    {"filter", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_handler_module = {
    .name = "handler",
    .commands = handler_commands,
    .defaults = handler_defaults,
    .create_loc_conf = handler_create_loc_conf,
    .merge_loc_conf = handler_merge_loc_conf,
    .init_filters = handler_init_filters,
    .other_directive = handler_other_directive,
};
