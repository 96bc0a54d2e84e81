/*
 * echo's variables: $echo_it, $echo_timer_elapsed, $echo_request_body,
 * $echo_client_request_headers, $echo_request_method, $echo_client_request_method,
 * $echo_request_uri, $echo_cacheable_request_uri, $echo_incr and $echo_response_status.
 */
#include "echo.h"

static mg_int_t found(mg_http_var_value_t *v, const char *s, size_t len)
{
    v->value.data = (char *)s;
    v->value.len = len;
    v->valid = 1;
    v->not_found = 0;
    return MG_OK;
}

static mg_int_t not_found(mg_http_var_value_t *v)
{
    v->valid = 0;
    v->not_found = 1;
    return MG_OK;
}

static mg_int_t var_it(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    echo_ctx_t *ctx = mg_http_get_ctx(r, mg_echo_module);
    if (ctx == NULL || !ctx->in_loop || ctx->it >= ctx->items.nelts) {
        return not_found(v);
    }
    mg_str_t *it = (mg_str_t *)ctx->items.elts + ctx->it;
    return found(v, it->data, it->len);
}

static mg_int_t var_timer_elapsed(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    echo_ctx_t *ctx = mg_echo_get_ctx(r);
    mg_time_refresh(); /* as echo's ngx_time_update(): now, not the turn's clock */
    mg_msec_t ms = mg_now.msec > ctx->timer_begin ? mg_now.msec - ctx->timer_begin : 0;
    char *s = mg_psprintf(r->pool, "%llu.%03llu", (unsigned long long)(ms / 1000),
                          (unsigned long long)(ms % 1000));
    return found(v, s, strlen(s));
}

/* The body when it is all in memory, as echo's (not found once a part is in a file). */
static mg_int_t var_request_body(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_http_request_body_t *rb = r->request_body;
    if (rb == NULL || rb->bufs == NULL) {
        return not_found(v);
    }
    size_t len = 0;
    for (mg_buf_t *b = rb->bufs; b; b = b->next) {
        if (b->in_file) {
            return not_found(v);
        }
        len += mg_buf_size(b);
    }
    char *s = mg_pnalloc(r->pool, len + 1), *p = s;
    for (mg_buf_t *b = rb->bufs; b; b = b->next) {
        memcpy(p, b->pos, mg_buf_size(b));
        p += mg_buf_size(b);
    }
    return found(v, s, len);
}

/* The client's request head: its request line and header lines, CRLF-ended, and the empty
 * line. */
static mg_int_t var_client_request_headers(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_request_t *m = r->parent ? r->main : r;
    if (m->request_line.len == 0) {
        return not_found(v);
    }
    size_t len = m->request_line.len + 4;
    mg_table_elt_t *h = m->headers_in.headers.elts;
    for (size_t i = 0; i < m->headers_in.headers.nelts; i++) {
        len += h[i].key.len + 2 + h[i].value.len + 2;
    }
    char *s = mg_pnalloc(r->pool, len), *p = s;
    memcpy(p, m->request_line.data, m->request_line.len);
    p += m->request_line.len;
    *p++ = '\r';
    *p++ = '\n';
    for (size_t i = 0; i < m->headers_in.headers.nelts; i++) {
        memcpy(p, h[i].key.data, h[i].key.len);
        p += h[i].key.len;
        *p++ = ':';
        *p++ = ' ';
        memcpy(p, h[i].value.data, h[i].value.len);
        p += h[i].value.len;
        *p++ = '\r';
        *p++ = '\n';
    }
    *p++ = '\r';
    *p++ = '\n';
    return found(v, s, (size_t)(p - s));
}

static mg_int_t var_request_method(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return r->method_name.len ? found(v, r->method_name.data, r->method_name.len) : not_found(v);
}

/* The client's request method, also in a subrequest (whose own is $echo_request_method). */
static mg_int_t var_client_request_method(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    return var_request_method(r->main ? r->main : r, v, data);
}

/* This request's URI (a subrequest's own), without its arguments, as echo's. */
static mg_int_t var_request_uri(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return found(v, r->uri.data, r->uri.len);
}

static mg_int_t var_incr(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    echo_ctx_t *ctx = mg_echo_get_ctx(r->parent ? r->main : r);
    char *s = mg_psprintf(r->pool, "%llu", (unsigned long long)++ctx->incr);
    return found(v, s, strlen(s));
}

static mg_int_t var_response_status(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->headers_out.status == 0) {
        return not_found(v);
    }
    char *s = mg_psprintf(r->pool, "%lu", (unsigned long)r->headers_out.status);
    return found(v, s, strlen(s));
}

void *mg_echo_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, 1);
}

const char *mg_echo_add_variables(mg_conf_t *cf, void *conf)
{
    (void)conf;
    static const struct {
        const char *name;
        mg_http_get_variable_pt get;
        unsigned flags;
    } vars[] = {
        {"echo_it", var_it, MG_HTTP_VAR_NOCACHEABLE},
        {"echo_timer_elapsed", var_timer_elapsed, MG_HTTP_VAR_NOCACHEABLE},
        {"echo_request_body", var_request_body, MG_HTTP_VAR_NOCACHEABLE},
        {"echo_client_request_headers", var_client_request_headers, 0},
        {"echo_request_method", var_request_method, MG_HTTP_VAR_NOCACHEABLE},
        {"echo_client_request_method", var_client_request_method, MG_HTTP_VAR_NOCACHEABLE},
        {"echo_request_uri", var_request_uri, MG_HTTP_VAR_NOCACHEABLE},
        {"echo_cacheable_request_uri", var_request_uri, 0},
        {"echo_incr", var_incr, MG_HTTP_VAR_NOCACHEABLE},
        {"echo_response_status", var_response_status, MG_HTTP_VAR_NOCACHEABLE},
    };
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_str_t name = {strlen(vars[i].name), (char *)vars[i].name};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, vars[i].flags);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = vars[i].get;
    }
    return MG_CONF_OK;
}
