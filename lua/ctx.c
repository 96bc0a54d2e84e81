/*
 * ngx.ctx: one Lua table per request, shared by its phases, created on first use and
 * released with the request pool (an internal redirect starts a new one, as in OpenResty).
 * A stream session, a timer and a TLS handshake have one of their own, as in OpenResty.
 */
#include "api.h"

static mg_lua_ctx_t *request_ctx(lua_State *L)
{
    if (mg_lua_cur.r == NULL && mg_lua_cur.ctx) {
        return mg_lua_cur.ctx; /* a stream session's, a timer's, a handshake's */
    }
    mg_lua_request(L);
    return mg_lua_cur.ctx ? mg_lua_cur.ctx : mg_lua_get_ctx(mg_lua_cur.r);
}

/* Push the context's table; when it has none, the table at index init becomes it (0: a new
 * one). */
static int push_ctx(lua_State *L, int init)
{
    mg_lua_ctx_t *ctx = request_ctx(L);
    if (ctx->ctx_ref == LUA_NOREF) {
        if (init) {
            lua_pushvalue(L, init);
        } else {
            lua_newtable(L);
        }
        lua_pushvalue(L, -1);
        ctx->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        return 1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->ctx_ref);
    return 1;
}

int mg_lua_ctx_get(lua_State *L)
{
    return push_ctx(L, 0);
}

int mg_lua_ctx_get_table(lua_State *L)
{
    return push_ctx(L, lua_istable(L, 1) ? 1 : 0);
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
