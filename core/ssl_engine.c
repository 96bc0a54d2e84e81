/*
 * ssl_engine (the main context, nginx's ngx_openssl_module): an OpenSSL engine made the
 * default for every algorithm it provides, as the directive is read, in the master (the
 * workers inherit it). An engine OpenSSL cannot load stops the configuration with OpenSSL's
 * reasons, in nginx's words: ENGINE_by_id("NAME") failed (SSL: ...).
 */
/* the ENGINE API is deprecated in OpenSSL 3 but still there, and nginx 1.22 uses it */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/engine.h>
#include <openssl/err.h>

#include "cycle.h"
#include "log.h"
#include "pool.h"
#include "ssl.h"

typedef struct {
    int engine; /* ssl_engine was given */
} ssl_engine_conf_t;

static void *ssl_engine_create_conf(mg_cycle_t *cycle)
{
    return mg_pcalloc(cycle->pool, sizeof(ssl_engine_conf_t));
}

static const char *ssl_engine_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    ssl_engine_conf_t *ec = conf;
    if (ec->engine) {
        return "is duplicate";
    }
    ec->engine = 1;
    mg_str_t id = cf->args[1];
    char q[1024];
    ENGINE *e = ENGINE_by_id(id.data);
    if (e == NULL) {
        /* as nginx: OpenSSL's reasons, without the file and line */
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "ENGINE_by_id(\"%s\") failed%s", id.data,
                     mg_ssl_error_queue(q, sizeof(q)));
        return MG_CONF_ERROR;
    }
    if (ENGINE_set_default(e, ENGINE_METHOD_ALL) == 0) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "ENGINE_set_default(\"%s\", ENGINE_METHOD_ALL) failed%s", id.data,
                     mg_ssl_error_queue(q, sizeof(q)));
        ENGINE_free(e);
        return MG_CONF_ERROR;
    }
    ENGINE_free(e); /* the defaults hold their own references */
    return MG_CONF_OK;
}

static const mg_command_t ssl_engine_commands[] = {
    {"ssl_engine", MG_CTX_MAIN, MG_ARGS(1, 1), ssl_engine_set, MG_CYCLE_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const mg_conf_default_t ssl_engine_defaults[] = {
    {"ssl_engine", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_ssl_engine_module = {
    .name = "openssl",
    .commands = ssl_engine_commands,
    .defaults = ssl_engine_defaults,
    .create_cycle_conf = ssl_engine_create_conf,
};
