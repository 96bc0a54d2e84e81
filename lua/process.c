/*
 * require "ngx.process" (lua-resty-core 0.1.25's API): the process type, the privileged agent
 * (enable_privileged_agent in init_by_lua: the master then runs one more process per
 * generation, core/master.c's MG_AGENT_SLOT, which runs init_worker_by_lua, never accepts and
 * keeps the master's user; respawned when it dies, replaced on a reload), the master's pid
 * and a graceful exit of the calling process.
 */
#include <signal.h>
#include <unistd.h>

#include "api.h"
#include "server.h"

static mg_server_t *running_server(void)
{
    return mg_lua_cur.lmcf ? mg_lua_cur.lmcf->cycle->server : NULL;
}

static int process_type(lua_State *L)
{
    mg_server_t *srv = running_server();
    mg_core_conf_t *ccf = mg_cycle_core_conf(mg_lua_cur.lmcf->cycle);
    if (srv && srv->agent) {
        lua_pushliteral(L, "privileged agent");
    } else if (srv && srv->worker) {
        lua_pushliteral(L, "worker");
    } else if (ccf->master_process && mg_lua_event_base() == NULL) {
        lua_pushliteral(L, "master"); /* init_by_lua, in the master that reads the config */
    } else {
        lua_pushliteral(L, "single");
    }
    return 1;
}

static int process_enable_privileged_agent(lua_State *L)
{
    if (mg_lua_cur.phase != MG_LUA_INIT) {
        lua_pushnil(L);
        lua_pushliteral(L, "API disabled in the current context");
        return 2;
    }
    if (!lua_isnoneornil(L, 1) && (lua_type(L, 1) != LUA_TNUMBER || lua_tonumber(L, 1) < 0)) {
        lua_pushnil(L);
        lua_pushliteral(L, "bad 'connections' argument: number expected and greater than 0");
        return 2;
    }
    mg_cycle_t *cycle = mg_lua_cur.lmcf->cycle;
    if (!mg_cycle_core_conf(cycle)->master_process) {
        lua_pushnil(L);
        lua_pushliteral(L, "master_process is off");
        return 2;
    }
    cycle->privileged_agent = 1;
    lua_pushboolean(L, 1);
    return 1;
}

static int process_signal_graceful_exit(lua_State *L)
{
    (void)L;
    if (mg_lua_probe) {
        return 0; /* docgen: it runs in every phase; never signal */
    }
    /* the worker's own SIGQUIT handler: stop accepting, finish, exit (the master then
     * starts another, as for any worker that exits) */
    raise(SIGQUIT);
    return 0;
}

static int process_get_master_pid(lua_State *L)
{
    mg_server_t *srv = running_server();
    lua_pushinteger(L, (lua_Integer)(srv && srv->worker ? getppid() : getpid()));
    return 1;
}

static int open_process(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"type", process_type},
        {"enable_privileged_agent", process_enable_privileged_agent},
        {"signal_graceful_exit", process_signal_graceful_exit},
        {"get_master_pid", process_get_master_pid},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 5);
    luaL_register(L, NULL, fns);
    lua_pushliteral(L, "0.1.25");
    lua_setfield(L, -2, "version");
    return 1;
}

void mg_lua_process_preload(lua_State *L)
{
    mg_lua_preload(L, "ngx.process", open_process);
}
