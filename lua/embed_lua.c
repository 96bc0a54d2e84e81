/*
 * Lua for an embedding program (moongate.h): the modules it registered are put in
 * package.preload of each VM a generation builds, and chunks it gives run in the serving
 * generation's VM as init_worker_by_lua code does (timers, shared dicts, logging).
 */
#include "api.h"
#include "embed.h"

static int load_source(lua_State *L)
{
    const moongate_lua_module_t *m = lua_touserdata(L, lua_upvalueindex(1));
    if (luaL_loadbuffer(L, m->source, strlen(m->source), m->name) != 0) {
        return lua_error(L);
    }
    lua_pushstring(L, m->name);
    lua_call(L, 1, 1);
    return 1;
}

void mg_lua_embed_preload(mg_cycle_t *cycle, lua_State *L)
{
    mg_embed_t *reg = cycle->embed;
    if (reg == NULL || reg->lua_modules == NULL || reg->lua_modules[0].name == NULL) {
        return;
    }
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    for (moongate_lua_module_t *m = reg->lua_modules; m->name; m++) {
        if (m->open) {
            lua_pushcfunction(L, m->open);
        } else {
            /* the registry outlives every generation that uses it */
            lua_pushlightuserdata(L, m);
            lua_pushcclosure(L, load_source, 1);
        }
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 2);
}

mg_int_t mg_lua_embed_run(mg_cycle_t *cycle, const char *chunk, char *error, size_t size)
{
    mg_lua_main_conf_t *lmcf = cycle->http ? cycle->http->main_conf[mg_lua_module.index] : NULL;
    if (lmcf == NULL || lmcf->L == NULL) {
        snprintf(error, size, "no Lua VM: the configuration has no *_by_lua directive");
        return MG_ERROR;
    }
    lua_State *L = lmcf->L;
    int top = lua_gettop(L);
    mg_int_t rc = MG_OK;
    mg_lua_current_t saved = mg_lua_cur;
    mg_lua_cur = (mg_lua_current_t){.phase = MG_LUA_INIT_WORKER, .lmcf = lmcf};
    if (luaL_loadbuffer(L, chunk, strlen(chunk), "=moongate_server_lua") != 0 ||
        lua_pcall(L, 0, 0, 0) != 0) {
        const char *msg = lua_tostring(L, -1);
        snprintf(error, size, "%s", msg ? msg : "unknown error");
        rc = MG_ERROR;
    }
    mg_lua_cur = saved;
    mg_lua_ctx_hook_done(L);
    lua_settop(L, top);
    return rc;
}
