/*
 * "add_header name value [always]": a header filter adding response headers on the
 * statuses nginx adds them to (all with "always"). A level that has its own add_header
 * directives does not inherit the parent's, as in nginx.
 */
#include "http.h"
#include "script.h"

typedef struct {
    mg_str_t name;
    mg_http_complex_value_t value;
    int always;
} header_t;

typedef struct {
    mg_array_t *headers; /* header_t; NULL until set, then not inherited */
} headers_conf_t;

mg_module_t mg_headers_module;
static mg_http_header_filter_pt next_header_filter;

static void *headers_create_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(headers_conf_t));
}

static const char *headers_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    headers_conf_t *prev = parent, *conf = child;
    if (conf->headers == NULL) {
        conf->headers = prev->headers;
    }
    return MG_CONF_OK;
}

static const char *headers_add(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    headers_conf_t *hc = conf;
    if (hc->headers == NULL) {
        hc->headers = mg_array_create(cf->pool, 4, sizeof(header_t));
    }
    header_t *h = mg_array_push(hc->headers);
    h->name = cf->args[1];
    if (mg_http_compile_complex_value(cf, cf->args[2], &h->value) != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (cf->nargs == 4) {
        if (!mg_str_eq(cf->args[3], "always")) {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", cf->args[3].data);
            return MG_CONF_ERROR;
        }
        h->always = 1;
    }
    return MG_CONF_OK;
}

static int status_gets_headers(mg_uint_t status)
{
    switch (status) {
    case 200: case 201: case 204: case 206: case 301: case 302: case 303: case 304: case 307:
    case 308:
        return 1;
    }
    return 0;
}

static mg_int_t headers_filter(mg_request_t *r)
{
    headers_conf_t *hc = mg_http_get_loc_conf(r, mg_headers_module);
    if (hc->headers == NULL) {
        return next_header_filter(r);
    }
    int safe = status_gets_headers(r->headers_out.status);
    header_t *h = hc->headers->elts;
    for (size_t i = 0; i < hc->headers->nelts; i++) {
        if (!safe && !h[i].always) {
            continue;
        }
        mg_str_t value;
        mg_http_complex_value(r, &h[i].value, &value);
        if (value.len == 0) {
            continue; /* an empty value adds nothing, as in nginx */
        }
        mg_http_add_header_out(r, h[i].name.data, h[i].name.len, value.data, value.len);
    }
    return next_header_filter(r);
}

static mg_int_t headers_init(mg_conf_t *cf)
{
    (void)cf;
    next_header_filter = mg_http_top_header_filter;
    mg_http_top_header_filter = headers_filter;
    return MG_OK;
}

static const mg_command_t headers_commands[] = {
    { "add_header", MG_HTTP_ANY_LOC | MG_CTX_LIF, MG_ARGS(2, 3), headers_add, MG_LOC_CONF, 0, NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

mg_module_t mg_headers_module = {
    .name = "headers",
    .commands = headers_commands,
    .create_loc_conf = headers_create_conf,
    .merge_loc_conf = headers_merge_conf,
    .init = headers_init,
};
