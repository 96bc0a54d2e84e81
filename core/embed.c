/*
 * The embedding API over the runtime: create (config + listeners), run, reload, stop.
 */
#include <unistd.h>

#include "listen.h"
#include "module.h"
#include "moongate.h"
#include "pool.h"
#include "resolver.h"
#include "server.h"
#include "upgrade.h"

static char *abs_path(const char *prefix, const char *path)
{
    if (path[0] == '/') {
        return mg_strdup(path);
    }
    size_t n = strlen(prefix) + strlen(path) + 2;
    char *p = mg_alloc(n);
    snprintf(p, n, "%s%s%s", prefix, prefix[strlen(prefix) - 1] == '/' ? "" : "/", path);
    return p;
}

mg_server_t *moongate_server_create(const moongate_options_t *opts)
{
    mg_server_t *srv = mg_calloc(sizeof(mg_server_t));
    srv->params.prefix = mg_strdup(opts->prefix);
    srv->params.conf_file = abs_path(opts->prefix, opts->conf_file);
    srv->params.conf_param = opts->directives ? mg_strdup(opts->directives) : NULL;
    srv->params.error_log = opts->error_log ? mg_strdup(opts->error_log) : NULL;
    mg_cycle_t *cycle = mg_cycle_create(&srv->params, NULL, mg_cycle_early_log(&srv->params));
    if (cycle == NULL) {
        moongate_server_destroy(srv);
        return NULL;
    }
    cycle->server = srv;
    const char *inherited = mg_upgrade_inherited();
    if (inherited) {
        mg_log_error(MG_LOG_NOTICE, cycle->log, 0, "using inherited sockets from \"%s\"",
                     inherited);
        mg_listen_inherit(cycle, inherited);
    }
    if (mg_listen_open_all(cycle, NULL) != MG_OK) {
        mg_cycle_destroy(cycle);
        moongate_server_destroy(srv);
        return NULL;
    }
    srv->cycle = cycle;
    srv->log = cycle->log;
    cycle->refs = 1;
    return srv;
}

int moongate_server_run(mg_server_t *srv)
{
    if (srv->base == NULL) {
        srv->base = mg_server_event_base(srv->cycle);
        if (srv->base == NULL) {
            return -1;
        }
    }
    mg_modules_init_worker(srv->cycle);
    mg_server_accept_on(srv);
    mg_int_t rc = mg_server_loop(srv);
    mg_modules_exit_worker(srv->cycle);
    return rc == MG_OK ? 0 : -1;
}

int moongate_server_reload(mg_server_t *srv)
{
    return mg_server_reload(srv) == MG_OK ? 0 : -1;
}

void moongate_server_stop(mg_server_t *srv, int graceful)
{
    if (graceful) {
        mg_server_quit(srv);
    } else {
        mg_server_terminate(srv);
    }
}

void moongate_server_destroy(mg_server_t *srv)
{
    if (srv->base) {
        /* deferred frees of closed connections first: they release their cycle reference */
        event_base_loop(srv->base, EVLOOP_NONBLOCK);
    }
    if (srv->cycle) {
        mg_listen_close_unused(srv->cycle, NULL);
        mg_cycle_destroy(srv->cycle);
    }
    for (size_t i = 0; i < srv->nsignals; i++) {
        event_free(srv->signals[i]);
    }
    if (srv->shutdown_timer) {
        event_free(srv->shutdown_timer);
    }
    mg_resolver_server_free(srv);
    if (srv->base) {
        event_base_free(srv->base);
    }
    free((void *)srv->params.prefix);
    free((void *)srv->params.conf_file);
    free((void *)srv->params.conf_param);
    free((void *)srv->params.error_log);
    free(srv);
}
