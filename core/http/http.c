/*
 * The http{} block: create each module's conf at the http, server and location levels,
 * parse, merge parents into children, then wire the result: location lists, module init
 * (phase handlers, filters), variables, the phase engine and the listening sockets.
 */
#include "conn.h"
#include "variables.h"

mg_int_t mg_http_optimize_servers(mg_conf_t *cf);

static void **create_confs(mg_conf_t *cf, void *(*which)(mg_module_t *m, mg_conf_t *cf))
{
    void **confs = mg_pcalloc(cf->pool, mg_modules_n * sizeof(void *));
    for (size_t i = 0; i < mg_modules_n; i++) {
        confs[i] = which(mg_modules[i], cf);
    }
    return confs;
}

static void *make_main(mg_module_t *m, mg_conf_t *cf)
{
    return m->create_main_conf ? m->create_main_conf(cf) : NULL;
}

static void *make_srv(mg_module_t *m, mg_conf_t *cf)
{
    return m->create_srv_conf ? m->create_srv_conf(cf) : NULL;
}

static void *make_loc(mg_module_t *m, mg_conf_t *cf)
{
    return m->create_loc_conf ? m->create_loc_conf(cf) : NULL;
}

void **mg_http_create_loc_confs(mg_conf_t *cf)
{
    return create_confs(cf, make_loc);
}

void **mg_http_create_srv_confs(mg_conf_t *cf)
{
    return create_confs(cf, make_srv);
}

static mg_int_t merge_locations(mg_conf_t *cf, mg_http_loc_conf_t *parent, void **parent_confs)
{
    if (parent->locations == NULL) {
        return MG_OK;
    }
    mg_http_loc_conf_t **locs = parent->locations->elts;
    for (size_t i = 0; i < parent->locations->nelts; i++) {
        void **child = locs[i]->loc_conf;
        for (size_t m = 0; m < mg_modules_n; m++) {
            if (mg_modules[m]->merge_loc_conf) {
                const char *rv = mg_modules[m]->merge_loc_conf(cf, parent_confs[m], child[m]);
                if (rv != MG_CONF_OK) {
                    if (rv != MG_CONF_ERROR) {
                        mg_log_error(MG_LOG_EMERG, cf->log, 0, "%s", rv);
                    }
                    return MG_ERROR;
                }
            }
        }
        if (merge_locations(cf, locs[i], child) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}

static mg_int_t merge_servers(mg_conf_t *cf, mg_conf_ctx_t *http)
{
    mg_http_main_conf_t *cmcf = http->main_conf[mg_http_core_module.index];
    mg_http_srv_conf_t **servers = cmcf->servers.elts;
    for (size_t s = 0; s < cmcf->servers.nelts; s++) {
        mg_conf_ctx_t *ctx = servers[s]->ctx;
        for (size_t m = 0; m < mg_modules_n; m++) {
            const char *rv = MG_CONF_OK;
            if (mg_modules[m]->merge_srv_conf) {
                rv = mg_modules[m]->merge_srv_conf(cf, http->srv_conf[m], ctx->srv_conf[m]);
            }
            if (rv == MG_CONF_OK && mg_modules[m]->merge_loc_conf) {
                rv = mg_modules[m]->merge_loc_conf(cf, http->loc_conf[m], ctx->loc_conf[m]);
            }
            if (rv != MG_CONF_OK) {
                if (rv != MG_CONF_ERROR) {
                    mg_log_error(MG_LOG_EMERG, cf->log, 0, "%s", rv);
                }
                return MG_ERROR;
            }
        }
        mg_http_loc_conf_t *clcf = ctx->loc_conf[mg_http_core_module.index];
        if (merge_locations(cf, clcf, ctx->loc_conf) != MG_OK) {
            return MG_ERROR;
        }
        if (mg_http_init_locations(cf, servers[s], clcf) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}

static const char *http_block(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    if (cf->cycle->http) {
        return "is duplicate";
    }
    mg_conf_ctx_t *ctx = mg_pcalloc(cf->pool, sizeof(mg_conf_ctx_t));
    cf->cycle->http = ctx;
    mg_conf_t saved = *cf;
    cf->ctx_data = ctx;
    ctx->main_conf = create_confs(cf, make_main);
    ctx->srv_conf = create_confs(cf, make_srv);
    ctx->loc_conf = create_confs(cf, make_loc);
    mg_http_main_conf_t *cmcf = ctx->main_conf[mg_http_core_module.index];
    cmcf->cycle = cf->cycle;
    if (mg_http_variables_add_core(cf) != MG_OK) {
        return MG_CONF_ERROR;
    }
    cf->ctx = MG_CTX_HTTP;
    if (mg_conf_parse(cf, NULL) != MG_OK) {
        *cf = saved;
        return MG_CONF_ERROR;
    }
    /* the rest reports without FILE:LINE unless it names them itself, as nginx does */
    const char *end = mg_conf_where(cf);
    cmcf->block_end = mg_pstr(cf->pool, end, strlen(end)).data;
    conf_source_t *src = cf->src;
    cf->src = NULL;
    for (size_t m = 0; m < mg_modules_n; m++) {
        if (mg_modules[m]->init_main_conf) {
            const char *rv = mg_modules[m]->init_main_conf(cf, ctx->main_conf[m]);
            if (rv != MG_CONF_OK) {
                if (rv != MG_CONF_ERROR) {
                    mg_log_error(MG_LOG_EMERG, cf->log, 0, "%s", rv);
                }
                goto failed;
            }
        }
    }
    /* merging reports at the end of the http block, as nginx's merges do */
    cf->src = src;
    if (merge_servers(cf, ctx) != MG_OK) {
        goto failed;
    }
    cf->src = NULL;
    if (mg_http_ssl_init_servers(cf) != MG_OK) {
        goto failed;
    }
    for (size_t m = 0; m < mg_modules_n; m++) {
        if (mg_modules[m]->init && mg_modules[m]->init(cf) != MG_OK) {
            goto failed;
        }
    }
    if (mg_http_init_filters(cf) != MG_OK || mg_http_variables_init(cf) != MG_OK ||
        mg_http_init_phase_engine(cf) != MG_OK || mg_http_optimize_servers(cf) != MG_OK) {
        goto failed;
    }
    cf->src = src;
    *cf = saved;
    return MG_CONF_OK;

failed:
    cf->src = src;
    *cf = saved;
    return MG_CONF_ERROR;
}

static const mg_command_t http_commands[] = {
    { "http", MG_CTX_MAIN, MG_BLOCK | MG_ARGS(0, 0), http_block, MG_NO_CONF, 0, NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t http_defaults[] = {
    {"http", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_http_module = {
    .name = "http",
    .commands = http_commands,
    .defaults = http_defaults,
    .init_filters = mg_http_write_filters_init, /* listed before every filter module */
    .init_cycle_conf = mg_http_create_temp_paths,
};
