/*
 * The ngx table's fixed part: lua-nginx-module's constants (return codes, statuses, methods),
 * ngx.null, ngx.config, ngx.worker, ngx.get_phase, and the ngx table's metatable, through
 * which ngx.status, ngx.ctx, ngx.headers_sent and ngx.is_subrequest are read and written.
 */
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "server.h"

static const struct {
    const char *name;
    int value;
} constants[] = {
    {"OK", 0},
    {"ERROR", -1},
    {"AGAIN", -2},
    {"DONE", -4},
    {"DECLINED", -5},
    {"HTTP_CONTINUE", 100},
    {"HTTP_SWITCHING_PROTOCOLS", 101},
    {"HTTP_OK", 200},
    {"HTTP_CREATED", 201},
    {"HTTP_ACCEPTED", 202},
    {"HTTP_NO_CONTENT", 204},
    {"HTTP_PARTIAL_CONTENT", 206},
    {"HTTP_SPECIAL_RESPONSE", 300},
    {"HTTP_MOVED_PERMANENTLY", 301},
    {"HTTP_MOVED_TEMPORARILY", 302},
    {"HTTP_SEE_OTHER", 303},
    {"HTTP_NOT_MODIFIED", 304},
    {"HTTP_TEMPORARY_REDIRECT", 307},
    {"HTTP_PERMANENT_REDIRECT", 308},
    {"HTTP_BAD_REQUEST", 400},
    {"HTTP_UNAUTHORIZED", 401},
    {"HTTP_PAYMENT_REQUIRED", 402},
    {"HTTP_FORBIDDEN", 403},
    {"HTTP_NOT_FOUND", 404},
    {"HTTP_NOT_ALLOWED", 405},
    {"HTTP_NOT_ACCEPTABLE", 406},
    {"HTTP_REQUEST_TIMEOUT", 408},
    {"HTTP_CONFLICT", 409},
    {"HTTP_GONE", 410},
    {"HTTP_UPGRADE_REQUIRED", 426},
    {"HTTP_TOO_MANY_REQUESTS", 429},
    {"HTTP_CLOSE", 444},
    {"HTTP_ILLEGAL", 451},
    {"HTTP_INTERNAL_SERVER_ERROR", 500},
    {"HTTP_METHOD_NOT_IMPLEMENTED", 501},
    {"HTTP_NOT_IMPLEMENTED", 501},
    {"HTTP_BAD_GATEWAY", 502},
    {"HTTP_SERVICE_UNAVAILABLE", 503},
    {"HTTP_GATEWAY_TIMEOUT", 504},
    {"HTTP_VERSION_NOT_SUPPORTED", 505},
    {"HTTP_INSUFFICIENT_STORAGE", 507},
    /* methods as nginx's bit values, for ngx.req.set_method and subrequests */
    {"HTTP_GET", 0x0002},
    {"HTTP_HEAD", 0x0004},
    {"HTTP_POST", 0x0008},
    {"HTTP_PUT", 0x0010},
    {"HTTP_DELETE", 0x0020},
    {"HTTP_MKCOL", 0x0040},
    {"HTTP_COPY", 0x0080},
    {"HTTP_MOVE", 0x0100},
    {"HTTP_OPTIONS", 0x0200},
    {"HTTP_PROPFIND", 0x0400},
    {"HTTP_PROPPATCH", 0x0800},
    {"HTTP_LOCK", 0x1000},
    {"HTTP_UNLOCK", 0x2000},
    {"HTTP_PATCH", 0x4000},
    {"HTTP_TRACE", 0x8000},
};

static int lua_get_phase(lua_State *L)
{
    lua_pushstring(L, mg_lua_phase_name(mg_lua_cur.phase));
    return 1;
}

/* ---- ngx.config ---- */

static int config_prefix(lua_State *L)
{
    mg_cycle_t *cycle = mg_lua_cur.lmcf->cycle;
    lua_pushlstring(L, cycle->prefix.data, cycle->prefix.len);
    return 1;
}

static int config_configure(lua_State *L)
{
    lua_pushstring(L, MG_CONFIGURE);
    return 1;
}

/* ---- ngx.worker ---- */

static mg_server_t *current_server(void)
{
    return mg_lua_cur.lmcf ? mg_lua_cur.lmcf->cycle->server : NULL;
}

struct event_base *mg_lua_event_base(void)
{
    mg_server_t *srv = current_server();
    return srv ? srv->base : NULL;
}

static int worker_pid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

static int worker_id(lua_State *L)
{
    mg_server_t *srv = current_server();
    /* 0 in the master too (init_by_lua), as OpenResty 0.10.23 answers */
    lua_pushinteger(L, srv ? (lua_Integer)srv->worker_id : 0);
    return 1;
}

static int worker_count(lua_State *L)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(mg_lua_cur.lmcf->cycle);
    lua_pushinteger(L, ccf->master_process ? (lua_Integer)ccf->worker_processes : 1);
    return 1;
}

static int worker_exiting(lua_State *L)
{
    mg_server_t *srv = current_server();
    lua_pushboolean(L, srv && (srv->quitting || srv->terminating));
    return 1;
}

/* The pids of the serving processes: the master's children (read from /proc, as the
 * master keeps no list the workers can see; during a reload, old workers still running are
 * among them), or this process alone without a master. */
static int worker_pids(lua_State *L)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(mg_lua_cur.lmcf->cycle);
    lua_newtable(L);
    int n = 0;
    if (ccf->master_process) {
        char path[64];
        pid_t master = getppid();
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)master, (int)master);
        FILE *f = fopen(path, "r");
        long pid;
        while (f && fscanf(f, "%ld", &pid) == 1) {
            lua_pushinteger(L, (lua_Integer)pid);
            lua_rawseti(L, -2, ++n);
        }
        if (f) {
            fclose(f);
        }
    }
    if (n == 0) {
        lua_pushinteger(L, (lua_Integer)getpid());
        lua_rawseti(L, -2, 1);
    }
    return 1;
}

/* ---- the ngx table's metatable ---- */

static int ngx_index(lua_State *L)
{
    size_t len;
    const char *k = lua_tolstring(L, 2, &len);
    if (k == NULL) {
        return 0;
    }
    if (len == 6 && memcmp(k, "status", 6) == 0) {
        return mg_lua_status_get(L);
    }
    if (len == 3 && memcmp(k, "ctx", 3) == 0) {
        return mg_lua_ctx_get(L);
    }
    if (len == 12 && memcmp(k, "headers_sent", 12) == 0) {
        return mg_lua_headers_sent(L);
    }
    if (len == 13 && memcmp(k, "is_subrequest", 13) == 0) {
        mg_lua_no_request_from(L, "resty.core.misc", 130);
        lua_pushboolean(L, mg_lua_request_data(L)->parent != NULL);
        return 1;
    }
    return 0;
}

static int ngx_newindex(lua_State *L)
{
    size_t len;
    const char *k = lua_tolstring(L, 2, &len);
    if (k && len == 6 && memcmp(k, "status", 6) == 0) {
        return mg_lua_status_set(L);
    }
    if (k && len == 3 && memcmp(k, "ctx", 3) == 0) {
        return mg_lua_ctx_set(L);
    }
    lua_rawset(L, 1);
    return 0;
}

void mg_lua_inject_core_api(lua_State *L)
{
    for (size_t i = 0; i < mg_nelems(constants); i++) {
        lua_pushinteger(L, constants[i].value);
        lua_setfield(L, -2, constants[i].name);
    }
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_pushcfunction(L, lua_get_phase);
    lua_setfield(L, -2, "get_phase");

    lua_createtable(L, 0, 8);
    lua_pushliteral(L, "http");
    lua_setfield(L, -2, "subsystem");
    lua_pushboolean(L, MG_DEBUG);
    lua_setfield(L, -2, "debug");
    lua_pushinteger(L, 10023); /* the lua-nginx-module whose API this follows: 0.10.23 */
    lua_setfield(L, -2, "ngx_lua_version");
    lua_pushinteger(L, 1022001); /* nginx 1.22.1's, for code that checks features by version */
    lua_setfield(L, -2, "nginx_version");
    lua_pushcfunction(L, config_prefix);
    lua_setfield(L, -2, "prefix");
    lua_pushcfunction(L, config_configure);
    lua_setfield(L, -2, "nginx_configure");
    lua_setfield(L, -2, "config");

    lua_createtable(L, 0, 4);
    lua_pushcfunction(L, worker_pid);
    lua_setfield(L, -2, "pid");
    lua_pushcfunction(L, worker_id);
    lua_setfield(L, -2, "id");
    lua_pushcfunction(L, worker_count);
    lua_setfield(L, -2, "count");
    lua_pushcfunction(L, worker_exiting);
    lua_setfield(L, -2, "exiting");
    lua_pushcfunction(L, worker_pids);
    lua_setfield(L, -2, "pids");
    lua_setfield(L, -2, "worker");

    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, ngx_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ngx_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
}
