/*
 * ngx.ctx: one Lua table per request, shared by its phases, created on first use and
 * released with the request pool (an internal redirect starts a new one, as in OpenResty).
 * A stream session, a timer and a TLS handshake have one of their own, and so does an
 * init_worker or exit_worker handler for as long as it runs, as in OpenResty.
 * The handshake's table (shared by its phases, freed with the connection) is inherited by
 * every request or session on that connection, as OpenResty's since lua-resty-core 0.1.19:
 * it is the metatable of their tables, and its own __index (so reads fall through to it,
 * writes stay the request's).
 */
#include "api.h"
#include "lua_ssl.h"
#include "stream.h"

/* The registry key of the running worker hook's table (it has no mg_lua_ctx_t). */
static char hook_ctx_key;

static int in_worker_hook(void)
{
    return mg_lua_cur.r == NULL && mg_lua_cur.ctx == NULL &&
           (mg_lua_cur.phase & (MG_LUA_INIT_WORKER | MG_LUA_EXIT_WORKER));
}

/* The worker hook's table on the stack (with init at the top, the one it becomes). */
static int hook_ctx(lua_State *L, int init, int replace)
{
    lua_pushlightuserdata(L, &hook_ctx_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (!lua_isnil(L, -1) && !replace) {
        return 1;
    }
    lua_pop(L, 1);
    if (init) {
        lua_pushvalue(L, init);
    } else {
        lua_newtable(L);
    }
    lua_pushlightuserdata(L, &hook_ctx_key);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    return 1;
}

void mg_lua_ctx_hook_done(lua_State *L)
{
    lua_pushlightuserdata(L, &hook_ctx_key);
    lua_pushnil(L);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

static mg_lua_ctx_t *request_ctx(lua_State *L)
{
    if (mg_lua_cur.r == NULL && mg_lua_cur.ctx) {
        return mg_lua_cur.ctx; /* a stream session's, a timer's, a handshake's */
    }
    mg_lua_request(L);
    return mg_lua_cur.ctx ? mg_lua_cur.ctx : mg_lua_get_ctx(mg_lua_cur.r);
}

/* A new table of ctx (at the top) inherits from its connection's handshake table, or, being
 * the handshake's, becomes its own __index for them (as lua-resty-core, which replaces any
 * metatable the table given had, and trusts the code not to set the key __index). */
static void inherit(lua_State *L, mg_lua_ctx_t *ctx)
{
    if (mg_lua_cur.phase & (MG_LUA_SSL_YIELDABLE | MG_LUA_SSL_SESS_STORE)) {
        lua_pushliteral(L, "__index");
        lua_pushvalue(L, -2);
        lua_rawset(L, -3);
        return;
    }
    mg_connection_t *c = ctx->r ? ctx->r->connection : ctx->s ? ctx->s->connection : NULL;
    int ref = c ? mg_lua_ssl_ctx_ref(c, ctx->lmcf) : LUA_NOREF;
    if (ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        lua_setmetatable(L, -2);
    }
}

/* Push the context's table; when it has none, the table at index init becomes it (0: a new
 * one). */
static int push_ctx(lua_State *L, int init)
{
    mg_lua_no_request_from(L, "resty.core.ctx", 71); /* its get_ctx_table */
    if (in_worker_hook()) {
        return hook_ctx(L, init, 0);
    }
    mg_lua_ctx_t *ctx = request_ctx(L);
    if (ctx->ctx_ref == LUA_NOREF) {
        if (init) {
            lua_pushvalue(L, init);
        } else {
            lua_newtable(L);
        }
        inherit(L, ctx);
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
    /* lua-resty-core's set_ctx_table: the value's type, then the request */
    if (!lua_istable(L, 3)) {
        return mg_lua_raise_from(
            L, "resty.core.ctx", 123,
            lua_pushfstring(L, "ctx should be a table while getting a %s", luaL_typename(L, 3)));
    }
    mg_lua_no_request_from(L, "resty.core.ctx", 129);
    int hook = in_worker_hook();
    mg_lua_ctx_t *ctx = hook ? NULL : request_ctx(L);
    if (hook) {
        hook_ctx(L, 3, 1);
        return 0;
    }
    luaL_unref(L, LUA_REGISTRYINDEX, ctx->ctx_ref);
    lua_pushvalue(L, 3);
    ctx->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}
