/*
 * ngx.ctx: one Lua table per request, shared by its phases, created on first use and
 * released with the request pool (an internal redirect starts a new one, as in OpenResty).
 */
#include "api.h"

static mg_lua_ctx_t *request_ctx(lua_State *L)
{
    if (mg_lua_cur.s) {
        return mg_lua_cur.ctx; /* a stream session's */
    }
    mg_lua_request(L);
    return mg_lua_cur.ctx ? mg_lua_cur.ctx : mg_lua_get_ctx(mg_lua_cur.r);
}

int mg_lua_ctx_get(lua_State *L)
{
    mg_lua_ctx_t *ctx = request_ctx(L);
    if (ctx->ctx_ref == LUA_NOREF) {
        lua_newtable(L);
        lua_pushvalue(L, -1);
        ctx->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        return 1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->ctx_ref);
    return 1;
}

int mg_lua_ctx_set(lua_State *L)
{
    mg_lua_ctx_t *ctx = request_ctx(L);
    if (!lua_istable(L, 3)) {
        return luaL_error(L, "ctx should be a table while getting a %s", luaL_typename(L, 3));
    }
    luaL_unref(L, LUA_REGISTRYINDEX, ctx->ctx_ref);
    lua_pushvalue(L, 3);
    ctx->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}
