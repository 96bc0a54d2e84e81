/*
 * stub_status and $connections_active/_reading/_writing/_waiting (nginx's
 * ngx_http_stub_status_module): the counters every worker keeps in shared memory
 * (core/stat.h, counted where connections are accepted and closed and requests read and
 * answered), printed in nginx's exact text.
 */
#include "http.h"
#include "stat.h"
#include "variables.h"

mg_module_t mg_stub_status_module;

static mg_int_t stub_status_handler(mg_request_t *r)
{
    if (r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD) {
        return MG_HTTP_NOT_ALLOWED;
    }
    mg_int_t rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    char *text = mg_psprintf(r->pool,
                             "Active connections: %lld \n"
                             "server accepts handled requests\n"
                             " %lld %lld %lld \n"
                             "Reading: %lld Writing: %lld Waiting: %lld \n",
                             (long long)mg_stat_get(r->connection->cycle, MG_STAT_ACTIVE),
                             (long long)mg_stat_get(r->connection->cycle, MG_STAT_ACCEPTED),
                             (long long)mg_stat_get(r->connection->cycle, MG_STAT_HANDLED),
                             (long long)mg_stat_get(r->connection->cycle, MG_STAT_REQUESTS),
                             (long long)mg_stat_get(r->connection->cycle, MG_STAT_READING),
                             (long long)mg_stat_get(r->connection->cycle, MG_STAT_WRITING),
                             (long long)mg_stat_get(r->connection->cycle, MG_STAT_WAITING));
    mg_str_t body = {strlen(text), text};
    mg_str_t ct = mg_string("text/plain");
    return mg_http_send_response(r, MG_HTTP_OK, &ct, &body);
}

static mg_int_t var_connections(mg_request_t *r, mg_http_var_value_t *v, uintptr_t which)
{
    v->value.data =
        mg_psprintf(r->pool, "%lld", (long long)mg_stat_get(r->connection->cycle, (int)which));
    v->value.len = strlen(v->value.data);
    v->valid = 1;
    v->not_found = 0;
    v->no_cacheable = 0;
    return MG_OK;
}

/* stub_status [anything]: the argument is accepted and ignored, as nginx does since 1.7.5. */
static const char *stub_status(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    clcf->handler = stub_status_handler;
    return MG_CONF_OK;
}

static const char *stub_status_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    static const struct {
        const char *name;
        int which;
    } vars[] = {
        {"connections_active", MG_STAT_ACTIVE},
        {"connections_reading", MG_STAT_READING},
        {"connections_writing", MG_STAT_WRITING},
        {"connections_waiting", MG_STAT_WAITING},
    };
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_str_t name = {strlen(vars[i].name), (char *)vars[i].name};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = var_connections;
        v->data = (uintptr_t)vars[i].which;
    }
    return MG_CONF_OK;
}

static const mg_command_t stub_status_commands[] = {
    {"stub_status", MG_CTX_SERVER | MG_CTX_LOCATION, MG_ARGS(0, 1), stub_status, MG_LOC_CONF, 0,
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t stub_status_defaults[] = {
    {"stub_status", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_stub_status_module = {
    .name = "stub_status",
    .commands = stub_status_commands,
    .defaults = stub_status_defaults,
    .init_main_conf = stub_status_init_main_conf,
};
