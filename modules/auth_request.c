/*
 * auth_request, auth_request_set (nginx's ngx_http_auth_request_module) in the access phase:
 * a GET subrequest to the URI decides; 2xx allows, 401 and 403 deny with that status (a 401
 * passes the subrequest's WWW-Authenticate on), anything else is a 500. auth_request_set
 * values are evaluated in the subrequest ($upstream_http_*, $sent_http_* of its response)
 * once it ended, and set in the request whatever the outcome.
 */
#include "http.h"
#include "script.h"
#include "variables.h"

typedef struct {
    mg_uint_t index;
    mg_http_complex_value_t value;
} auth_request_var_t;

typedef struct {
    mg_str_t uri;     /* NULL data: unset; "" ("off"): none */
    mg_array_t *vars; /* auth_request_var_t; MG_CONF_UNSET_PTR: unset */
} auth_request_conf_t;

typedef struct {
    int used;
} auth_request_main_conf_t;

/* One request's check: pending until the subrequest reported. */
typedef struct {
    mg_request_t *r;
    unsigned done : 1;
    mg_uint_t status;
    mg_array_t challenges; /* mg_table_elt_t: the subrequest's WWW-Authenticate lines */
    mg_str_t *values;      /* auth_request_set values, in conf order */
} auth_request_ctx_t;

mg_module_t mg_auth_request_module;

static void *auth_request_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(auth_request_main_conf_t));
}

static void *auth_request_create_conf(mg_conf_t *cf)
{
    auth_request_conf_t *ac = mg_pcalloc(cf->pool, sizeof(auth_request_conf_t));
    ac->vars = MG_CONF_UNSET_PTR;
    return ac;
}

static const char *auth_request_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    auth_request_conf_t *prev = parent, *conf = child;
    mg_conf_merge_str(conf->uri, prev->uri, "");
    mg_conf_merge_ptr(conf->vars, prev->vars, NULL);
    return MG_CONF_OK;
}

static const char *auth_request_set_uri(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    auth_request_conf_t *ac = conf;
    if (ac->uri.data) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    if (mg_str_eq(v, "off")) {
        ac->uri = (mg_str_t)mg_string("");
        return MG_CONF_OK;
    }
    ac->uri = v;
    auth_request_main_conf_t *mc = mg_http_conf_get_main(cf, mg_auth_request_module);
    mc->used = 1;
    return MG_CONF_OK;
}

/* Before its request's check ended, an auth_request_set variable is not found. */
static mg_int_t var_not_set(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)r;
    (void)data;
    v->valid = 0;
    v->not_found = 1;
    return MG_OK;
}

static const char *auth_request_set_var(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    auth_request_conf_t *ac = conf;
    mg_str_t name = cf->args[1];
    if (name.len == 0 || name.data[0] != '$') {
        mg_conf_error(cf, 0, "invalid variable name \"%s\"", name.data);
        return MG_CONF_ERROR;
    }
    name.data++;
    name.len--;
    mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_CHANGEABLE);
    if (v == NULL) {
        return MG_CONF_ERROR;
    }
    if (v->get_handler == NULL) {
        v->get_handler = var_not_set;
    }
    mg_int_t index = mg_http_get_variable_index(cf, name);
    if (index == MG_ERROR) {
        return MG_CONF_ERROR;
    }
    if (ac->vars == MG_CONF_UNSET_PTR) {
        ac->vars = mg_array_create(cf->pool, 4, sizeof(auth_request_var_t));
    }
    auth_request_var_t *av = mg_array_push(ac->vars);
    memset(av, 0, sizeof(*av));
    av->index = (mg_uint_t)index;
    if (mg_http_compile_complex_value(cf, cf->args[2], &av->value) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

/* The subrequest ended (from the loop): keep what the request needs of it, which goes with
 * it, and run the request's access phase again. */
static void auth_request_done(mg_request_t *sr, void *data)
{
    auth_request_ctx_t *ctx = data;
    mg_request_t *r = ctx->r;
    ctx->done = 1;
    ctx->status = sr->headers_out.status;
    mg_array_init(&ctx->challenges, r->pool, 1, sizeof(mg_table_elt_t));
    if (ctx->status == MG_HTTP_UNAUTHORIZED) {
        mg_table_elt_t *h = sr->headers_out.headers.elts;
        for (size_t i = 0; i < sr->headers_out.headers.nelts; i++) {
            if (h[i].hash && h[i].key.len == 16 &&
                mg_strncasecmp(h[i].key.data, "www-authenticate", 16) == 0) {
                mg_table_elt_t *c = mg_array_push(&ctx->challenges);
                c->key = mg_pstr(r->pool, "WWW-Authenticate", 16);
                c->value = mg_pstr(r->pool, h[i].value.data, h[i].value.len);
                c->hash = 1;
            }
        }
    }
    auth_request_conf_t *ac = mg_http_get_loc_conf(r, mg_auth_request_module);
    if (ac->vars) {
        auth_request_var_t *av = ac->vars->elts;
        ctx->values = mg_pcalloc(r->pool, ac->vars->nelts * sizeof(mg_str_t));
        for (size_t i = 0; i < ac->vars->nelts; i++) {
            mg_str_t v = mg_http_complex_value(sr, &av[i].value);
            ctx->values[i] = mg_pstr(r->pool, v.data, v.len);
        }
    }
    mg_http_run_phases(r);
}

static mg_int_t auth_request_handler(mg_request_t *r)
{
    auth_request_conf_t *ac = mg_http_get_loc_conf(r, mg_auth_request_module);
    if (ac->uri.len == 0) {
        return MG_DECLINED;
    }
    auth_request_ctx_t *ctx = mg_http_get_ctx(r, mg_auth_request_module);
    if (ctx == NULL) {
        ctx = mg_pcalloc(r->pool, sizeof(auth_request_ctx_t));
        ctx->r = r;
        mg_request_t *sr;
        if (mg_http_subrequest(r, ac->uri, NULL, auth_request_done, ctx, &sr) != MG_OK) {
            return MG_ERROR;
        }
        /* an empty body of its own: the subrequest never waits for the client's */
        sr->request_body = mg_pcalloc(sr->pool, sizeof(mg_http_request_body_t));
        sr->request_body->done = 1;
        mg_http_set_ctx(r, ctx, mg_auth_request_module);
        return MG_AGAIN;
    }
    if (!ctx->done) {
        return MG_AGAIN;
    }
    /* set the variables in the request itself: they stay across internal redirects */
    if (ac->vars) {
        auth_request_var_t *av = ac->vars->elts;
        for (size_t i = 0; i < ac->vars->nelts; i++) {
            mg_http_set_indexed_variable(r, av[i].index, ctx->values[i]);
        }
    }
    if (ctx->status == MG_HTTP_FORBIDDEN) {
        return MG_HTTP_FORBIDDEN;
    }
    if (ctx->status == MG_HTTP_UNAUTHORIZED) {
        mg_table_elt_t *c = ctx->challenges.elts;
        for (size_t i = 0; i < ctx->challenges.nelts; i++) {
            *mg_http_add_header_out(r, NULL, 0, NULL, 0) = c[i];
        }
        return MG_HTTP_UNAUTHORIZED;
    }
    if (ctx->status >= MG_HTTP_OK && ctx->status < MG_HTTP_SPECIAL_RESPONSE) {
        return MG_OK;
    }
    mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "auth request unexpected status: %lu",
                 (unsigned long)ctx->status);
    return MG_HTTP_INTERNAL_SERVER_ERROR;
}

static mg_int_t auth_request_init(mg_conf_t *cf)
{
    auth_request_main_conf_t *mc = mg_http_conf_get_main(cf, mg_auth_request_module);
    if (mc->used) {
        mg_http_add_phase_handler(cf, MG_HTTP_ACCESS_PHASE, auth_request_handler);
    }
    return MG_OK;
}

static const mg_command_t auth_request_commands[] = {
    {"auth_request", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), auth_request_set_uri, MG_LOC_CONF, 0, NULL},
    {"auth_request_set", MG_HTTP_ANY_LOC, MG_ARGS(2, 2), auth_request_set_var, MG_LOC_CONF, 0,
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t auth_request_defaults[] = {
    {"auth_request", "off"},
    {"auth_request_set", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_auth_request_module = {
    .name = "auth_request",
    .commands = auth_request_commands,
    .defaults = auth_request_defaults,
    .create_main_conf = auth_request_create_main_conf,
    .create_loc_conf = auth_request_create_conf,
    .merge_loc_conf = auth_request_merge_conf,
    .init = auth_request_init,
};
