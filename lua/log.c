/*
 * ngx.log, print and the log level constants: the message goes to the request's error log
 * (with its client/server/request context) or the generation's, prefixed as OpenResty's:
 * "[lua] FILE:LINE: FUNCTION(): message"; and the error lines of failed Lua code with
 * OpenResty's traceback layout.
 */
#include <math.h>

#include "api.h"
#include "metrics.h"

static const char *const level_names[] = {"STDERR", "EMERG", "ALERT", "CRIT", "ERR",
                                          "WARN",   "NOTICE", "INFO", "DEBUG"};

const char *mg_lua_num_text(lua_State *L, int idx, size_t *len)
{
    lua_Number v = lua_tonumber(L, idx);
    if (v == 0 && signbit(v)) {
        *len = 1;
        return "0";
    }
    if (isnan(v)) {
        *len = signbit(v) ? 4 : 3;
        return signbit(v) ? "-nan" : "nan";
    }
    return lua_tolstring(L, idx, len);
}

mg_log_t *mg_lua_log(void)
{
    if (mg_lua_cur.r) {
        return &mg_lua_cur.r->connection->log;
    }
    if (mg_lua_cur.ctx && mg_lua_cur.ctx->log) {
        return mg_lua_cur.ctx->log; /* a TLS handshake's or a stream session's code */
    }
    mg_lua_main_conf_t *lmcf = mg_lua_cur.lmcf;
    if (lmcf == NULL) {
        return NULL;
    }
    if (mg_lua_cur.phase == MG_LUA_INIT_WORKER && lmcf->worker_log.handler) {
        return &lmcf->worker_log;
    }
    mg_log_t *log = lmcf->cycle->log;
    if (log && log->scope == NULL) {
        /* init_by_lua runs while the configuration is read, on the early log: its lines go
         * there, heard by this generation's observer (lua_capture_error_log) */
        mg_log_use(&lmcf->init_log, log);
        lmcf->init_log.scope = &lmcf->cycle->log_scope;
        return &lmcf->init_log;
    }
    return log;
}

static int log_enabled(mg_log_t *log, int level)
{
    for (; log; log = log->next) {
        if (level <= log->level) {
            return 1;
        }
    }
    return 0;
}

static int do_log(lua_State *L, int level, int first)
{
    mg_log_t *log = mg_lua_log();
    if (log == NULL || !log_enabled(log, level)) {
        return 0;
    }
    int top = lua_gettop(L); /* before the buffer uses the stack */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sln", &ar)) {
        char where[LUA_IDSIZE + 64];
        /* a Lua function's name only, as OpenResty (not pcall's when it calls ngx.log) */
        int n = ar.name && *ar.namewhat && ar.what[0] == 'L'
                    ? snprintf(where, sizeof(where), "[lua] %s:%d: %s(): ", ar.short_src,
                               ar.currentline, ar.name)
                    : snprintf(where, sizeof(where), "[lua] %s:%d: ", ar.short_src, ar.currentline);
        luaL_addlstring(&b, where, (size_t)n < sizeof(where) ? (size_t)n : sizeof(where) - 1);
    }
    for (int i = first; i <= top; i++) {
        switch (lua_type(L, i)) {
        case LUA_TNIL:
            luaL_addlstring(&b, "nil", 3);
            break;
        case LUA_TBOOLEAN:
            luaL_addstring(&b, lua_toboolean(L, i) ? "true" : "false");
            break;
        case LUA_TNUMBER:
        case LUA_TSTRING: {
            size_t len;
            const char *s = lua_type(L, i) == LUA_TNUMBER ? mg_lua_num_text(L, i, &len)
                                                          : lua_tolstring(L, i, &len);
            luaL_addlstring(&b, s, len);
            break;
        }
        case LUA_TLIGHTUSERDATA:
            if (lua_touserdata(L, i) == NULL) {
                luaL_addlstring(&b, "null", 4);
                break;
            }
            /* fall through */
        default:
            if (luaL_callmeta(L, i, "__tostring") && lua_isstring(L, -1)) {
                luaL_addvalue(&b);
                break;
            }
            /* counted from the message's first piece, as OpenResty's messages count */
            if (lua_istable(L, i)) {
                return luaL_argerror(L, i - first + 1,
                                     "expected table to have __tostring metamethod");
            }
            return luaL_argerror(L, i - first + 1,
                                 lua_pushfstring(L,
                                                 "string, number, boolean, or nil expected, got %s",
                                                 luaL_typename(L, i)));
        }
    }
    luaL_pushresult(&b);
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    mg_log_error(level | MG_LOG_LINES, log, 0, "%.*s", (int)len, msg);
    return 0;
}

static int lua_log(lua_State *L)
{
    lua_Integer level = luaL_checkinteger(L, 1);
    if (level < MG_LOG_STDERR || level > MG_LOG_DEBUG) {
        return luaL_argerror(L, 1, lua_pushfstring(L, "bad log level: %d", (int)level));
    }
    return do_log(L, (int)level, 2);
}

static int lua_print(lua_State *L)
{
    return do_log(L, MG_LOG_NOTICE, 1);
}

void mg_lua_inject_log_api(lua_State *L)
{
    for (int i = 0; i < (int)mg_nelems(level_names); i++) {
        lua_pushinteger(L, i);
        lua_setfield(L, -2, level_names[i]);
    }
    lua_pushcfunction(L, lua_log);
    lua_setfield(L, -2, "log");
    lua_pushcfunction(L, lua_print);
    lua_setglobal(L, "print");
}

/* lua-nginx-module's traceback of a coroutine names a C function it has no name for "?",
 * where LuaJIT's says "at 0x...": the frames with that rewritten. */
static const char *c_frames_unnamed(lua_State *L, const char *frames)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *p;
    while ((p = strstr(frames, "[C]: at 0x")) != NULL) {
        luaL_addlstring(&b, frames, (size_t)(p - frames));
        luaL_addstring(&b, "[C]: ?");
        frames = p + sizeof("[C]: at 0x") - 1;
        frames += strspn(frames, "0123456789abcdefABCDEF");
    }
    luaL_addstring(&b, frames);
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

/* An error value with co's traceback; `thread`: code OpenResty runs in a coroutine (its own
 * traceback, with a "coroutine 0:" line), not with lua_pcall (balancer). An error value that
 * is no string is "unknown reason", and lua_pcall's handler gives it no traceback. */
static void log_error(mg_lua_main_conf_t *lmcf, lua_State *co, mg_log_t *log, const char *what,
                      int thread)
{
    lua_State *L = lmcf->L;
    MG_METRICS_INC(lmcf->cycle->metrics, lua_errors);
    size_t len;
    const char *msg = lua_tolstring(co, -1, &len);
    if (msg == NULL && !thread) {
        mg_log_error(MG_LOG_ERR, log, 0, "%sunknown reason", what);
        return;
    }
    if (msg == NULL) {
        msg = "unknown reason";
        len = strlen(msg);
    }
    int top = lua_gettop(L);
    luaL_traceback(L, co, NULL, 0);
    const char *tb = lua_tostring(L, -1);
    const char *frames = tb ? strchr(tb, '\n') : NULL;
    if (frames && thread) {
        frames = c_frames_unnamed(L, frames);
    }
    mg_log_error(MG_LOG_ERR | MG_LOG_LINES, log, 0, "%s%.*s\nstack traceback:%s%s", what, (int)len,
                 msg, thread ? "\ncoroutine 0:" : "", frames ? frames : "");
    lua_settop(L, top);
}

void mg_lua_log_error(mg_lua_main_conf_t *lmcf, lua_State *co, mg_log_t *log, const char *what)
{
    log_error(lmcf, co, log, what, 1);
}

void mg_lua_log_error_main(mg_lua_main_conf_t *lmcf, lua_State *co, mg_log_t *log, const char *what)
{
    log_error(lmcf, co, log, what, 0);
}
