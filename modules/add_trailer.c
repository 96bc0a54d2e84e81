/*
 * add_trailer (nginx's headers module): fields sent after the body of a chunked response, on
 * the statuses add_header uses less 304 (any status with "always"), their values evaluated
 * when the body ends. The header filter asks for chunked framing (core/http/write.c drops a
 * known Content-Length for it on HTTP/1.1; HTTP/1.0 gets no trailers); the body filter fills
 * r->headers_out.trailers ($sent_trailer_NAME) at the last buffer. A level with its own
 * add_trailer lines does not inherit the parent's, as in nginx; add_header lines do not count.
 */
#include "http.h"
#include "script.h"
#include "variables.h"

typedef struct {
    mg_str_t name;
    mg_http_complex_value_t value;
    int always;
} trailer_t;

typedef struct {
    mg_array_t *trailers; /* trailer_t; NULL until set, then not inherited */
} trailer_conf_t;

mg_module_t mg_add_trailer_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_add_trailer_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_add_trailer_module, in);
}

static int status_gets_trailers(mg_uint_t status)
{
    switch (status) {
    case 200:
    case 201:
    case 204:
    case 206:
    case 301:
    case 302:
    case 303:
    case 307:
    case 308:
        return 1;
    }
    return 0;
}

static int wanted(mg_request_t *r, trailer_conf_t *tc)
{
    if (tc->trailers == NULL || r->parent) {
        return 0;
    }
    if (status_gets_trailers(r->headers_out.status)) {
        return 1;
    }
    trailer_t *t = tc->trailers->elts;
    for (size_t i = 0; i < tc->trailers->nelts; i++) {
        if (t[i].always) {
            return 1;
        }
    }
    return 0;
}

static mg_int_t trailer_header_filter(mg_request_t *r)
{
    trailer_conf_t *tc = mg_http_get_loc_conf(r, mg_add_trailer_module);
    if (wanted(r, tc)) {
        r->expect_trailers = 1;
    }
    return next_header_filter(r);
}

static mg_int_t trailer_body_filter(mg_request_t *r, mg_buf_t *in)
{
    trailer_conf_t *tc = mg_http_get_loc_conf(r, mg_add_trailer_module);
    if (in == NULL || !r->expect_trailers || r->header_only || !wanted(r, tc)) {
        return next_body_filter(r, in);
    }
    int last = 0;
    for (mg_buf_t *b = in; b; b = b->next) {
        last |= b->last_buf;
    }
    if (!last) {
        return next_body_filter(r, in);
    }
    int safe = status_gets_trailers(r->headers_out.status);
    trailer_t *t = tc->trailers->elts;
    for (size_t i = 0; i < tc->trailers->nelts; i++) {
        if (!safe && !t[i].always) {
            continue;
        }
        mg_str_t v = mg_http_complex_value(r, &t[i].value);
        if (v.len == 0) {
            continue;
        }
        if (r->headers_out.trailers == NULL) {
            r->headers_out.trailers = mg_array_create(r->pool, 4, sizeof(mg_table_elt_t));
        }
        mg_table_elt_t *e = mg_array_push(r->headers_out.trailers);
        e->key = t[i].name;
        e->value = mg_http_safe_header_value(r, t[i].name, v);
        e->hash = 1;
    }
    return next_body_filter(r, in);
}

static int filter_used(const void *loc_conf)
{
    const trailer_conf_t *conf = loc_conf;
    return conf->trailers != NULL;
}

static void trailer_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_add_trailer_module, filter_used, trailer_header_filter,
                         trailer_body_filter);
}

static const char *add_trailer(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    trailer_conf_t *tc = conf;
    if (tc->trailers == NULL) {
        tc->trailers = mg_array_create(cf->pool, 2, sizeof(trailer_t));
    }
    trailer_t *t = mg_array_push(tc->trailers);
    memset(t, 0, sizeof(*t));
    t->name = cf->args[1];
    if (mg_http_compile_complex_value(cf, cf->args[2], &t->value) != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (cf->nargs == 4) {
        if (!mg_str_eq(cf->args[3], "always")) {
            mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)cf->args[3].len,
                          cf->args[3].data);
            return MG_CONF_ERROR;
        }
        t->always = 1;
    }
    return MG_CONF_OK;
}

static void *trailer_create_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(trailer_conf_t));
}

static const char *trailer_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    trailer_conf_t *prev = parent, *conf = child;
    if (conf->trailers == NULL) {
        conf->trailers = prev->trailers;
    }
    return MG_CONF_OK;
}

/* a field name as a variable's suffix: case aside, '_' for '-' */
static int var_name_is(mg_str_t key, mg_str_t want)
{
    if (key.len != want.len) {
        return 0;
    }
    for (size_t k = 0; k < key.len; k++) {
        char a = key.data[k] == '-' ? '_' : mg_tolower(key.data[k]);
        if (a != mg_tolower(want.data[k])) {
            return 0;
        }
    }
    return 1;
}

/* $sent_trailer_NAME: the fields sent (or, on HTTP/1.0, made) at the body's end; NAME
 * without regard to case, '_' for '-', several joined with ", " */
static mg_int_t var_sent_trailer(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_str_t *name = (mg_str_t *)data;
    size_t skip = sizeof("sent_trailer_") - 1;
    v->not_found = 1;
    if (r->headers_out.trailers == NULL || name->len <= skip) {
        return MG_OK;
    }
    mg_str_t want = {name->len - skip, name->data + skip};
    mg_table_elt_t *t = r->headers_out.trailers->elts;
    char *buf = NULL, *p = NULL;
    for (size_t i = 0; i < r->headers_out.trailers->nelts; i++) {
        if (t[i].hash == 0 || !var_name_is(t[i].key, want)) {
            continue;
        }
        if (buf == NULL) {
            buf = p = t[i].value.data;
            p += t[i].value.len;
            continue;
        }
        char *nb = mg_pnalloc(r->pool, (size_t)(p - buf) + 2 + t[i].value.len);
        memcpy(nb, buf, (size_t)(p - buf));
        p = nb + (p - buf);
        buf = nb;
        *p++ = ',';
        *p++ = ' ';
        memcpy(p, t[i].value.data, t[i].value.len);
        p += t[i].value.len;
    }
    if (buf) {
        v->value.data = buf;
        v->value.len = (size_t)(p - buf);
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;
    }
    return MG_OK;
}

static const char *trailer_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    mg_str_t name = mg_string("sent_trailer_");
    mg_http_variable_t *v =
        mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PREFIX);
    if (v == NULL) {
        return MG_CONF_ERROR;
    }
    v->get_handler = var_sent_trailer;
    return MG_CONF_OK;
}

static void *trailer_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(int));
}

static const mg_command_t trailer_commands[] = {
    {"add_trailer", MG_HTTP_ANY_LOC | MG_CTX_LIF, MG_ARGS(2, 3), add_trailer, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t trailer_defaults[] = {
    {"add_trailer", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_add_trailer_module = {
    .name = "add_trailer",
    .commands = trailer_commands,
    .defaults = trailer_defaults,
    .create_main_conf = trailer_create_main_conf,
    .init_main_conf = trailer_init_main_conf,
    .create_loc_conf = trailer_create_conf,
    .merge_loc_conf = trailer_merge_conf,
    .init_filters = trailer_init_filters,
};
