/*
 * lua_capture_error_log SIZE and require "ngx.errlog" (lua-resty-core 0.1.25's API): the
 * generation's error log lines, as written, kept in a ring of SIZE bytes (the oldest go when
 * it is full) through the observer of its log scope (core/log.h). The ring is made when the
 * directive is read, so the master's lines (init_by_lua) are there too and each worker
 * inherits a copy by fork; a reload's configuration brings a new ring, and two servers of an
 * embedding program have one each. http{} and stream{} each have a ring of their own (as
 * lua-nginx-module and stream-lua do), both fed every line: the scope's observer walks them.
 */
#include <string.h>

#include "api.h"

typedef struct {
    int level;
    double time;
    size_t len;
} entry_t; /* in the ring, followed by its len bytes; both may wrap around its end */

typedef struct mg_lua_errlog_ring_s ring_t;

struct mg_lua_errlog_ring_s {
    struct mg_lua_errlog_ring_s *next; /* the other block's, on the same scope */
    char *buf;
    size_t size, head, used; /* bytes: the oldest entry's offset, how many are taken */
    size_t count;
    int filter_level; /* set_filter_level: only this level and more severe */
};

static void ring_write(ring_t *rg, const void *data, size_t len)
{
    size_t pos = (rg->head + rg->used) % rg->size;
    size_t n = mg_min(len, rg->size - pos);
    memcpy(rg->buf + pos, data, n);
    memcpy(rg->buf, (const char *)data + n, len - n);
    rg->used += len;
}

/* Copy len bytes from offset `at` past the head out (wrapping). */
static void ring_read(ring_t *rg, size_t at, void *out, size_t len)
{
    size_t pos = (rg->head + at) % rg->size;
    size_t n = mg_min(len, rg->size - pos);
    memcpy(out, rg->buf + pos, n);
    memcpy((char *)out + n, rg->buf, len - n);
}

static void drop_oldest(ring_t *rg)
{
    entry_t e;
    ring_read(rg, 0, &e, sizeof(e));
    size_t n = sizeof(e) + e.len;
    rg->head = (rg->head + n) % rg->size;
    rg->used -= n;
    rg->count--;
}

static void ring_add(ring_t *rg, int level, const char *line, size_t len)
{
    if (level > rg->filter_level || sizeof(entry_t) + len > rg->size) {
        return;
    }
    while (rg->size - rg->used < sizeof(entry_t) + len) {
        drop_oldest(rg);
    }
    entry_t e = {level, (double)mg_now.msec / 1000, len};
    ring_write(rg, &e, sizeof(e));
    ring_write(rg, line, len);
    rg->count++;
}

static void observe(void *data, int level, const char *line, size_t len)
{
    for (ring_t *rg = data; rg; rg = rg->next) {
        ring_add(rg, level, line, len);
    }
}

/* Move the oldest entry into t[n+1..n+3]: 1, or 0 when there is none. */
static int take(ring_t *rg, lua_State *L, lua_Integer *n, int t)
{
    if (rg->count == 0) {
        return 0;
    }
    entry_t e;
    ring_read(rg, 0, &e, sizeof(e));
    lua_pushinteger(L, e.level);
    lua_rawseti(L, t, (int)++*n);
    lua_pushnumber(L, e.time);
    lua_rawseti(L, t, (int)++*n);
    char *line = mg_alloc(e.len + 1);
    ring_read(rg, sizeof(e), line, e.len);
    lua_pushlstring(L, line, e.len);
    free(line);
    lua_rawseti(L, t, (int)++*n);
    drop_oldest(rg);
    return 1;
}

/* The generation's pool goes, and its log scope with it. */
static void ring_gone(void *data)
{
    ring_t *rg = data;
    free(rg->buf);
}

/* The ring of the block (http{} or stream{}) whose Lua code runs, or NULL. */
static ring_t *cur_ring(void)
{
    mg_lua_main_conf_t *lmcf = mg_lua_cur.lmcf;
    if (lmcf == NULL || lmcf->cycle == NULL || lmcf->cycle->log_scope.observe != observe) {
        return NULL;
    }
    return lmcf->errlog_ring;
}

const char *mg_lua_set_capture_error_log(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_lua_main_conf_t *lmcf = conf;
    if (lmcf->errlog_ring) {
        return "is duplicate";
    }
    int64_t size = mg_parse_size(cf->args[1]);
    if (size <= 0 || (uint64_t)size > SIZE_MAX / 2) {
        mg_conf_error(cf, 0, "invalid buffer size \"%.*s\"", (int)cf->args[1].len,
                      cf->args[1].data);
        return MG_CONF_ERROR;
    }
    ring_t *rg = mg_pcalloc(cf->pool, sizeof(ring_t));
    rg->buf = mg_alloc((size_t)size);
    rg->size = (size_t)size;
    rg->filter_level = MG_LOG_DEBUG;
    lmcf->errlog_ring = rg;
    mg_log_scope_t *scope = &cf->cycle->log_scope;
    rg->next = scope->observe == observe ? scope->data : NULL;
    scope->observe = observe;
    scope->data = rg;
    mg_pool_cleanup_add(cf->pool, ring_gone, rg);
    return MG_CONF_OK;
}

static int not_set(lua_State *L)
{
    lua_pushnil(L);
    lua_pushliteral(L, "directive \"lua_capture_error_log\" is not set");
    return 2;
}

static int errlog_set_filter_level(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushnil(L);
        lua_pushliteral(L, "missing \"level\" argument");
        return 2;
    }
    ring_t *ring = cur_ring();
    if (ring == NULL) {
        return not_set(L);
    }
    lua_Integer level = luaL_checkinteger(L, 1);
    if (level < MG_LOG_STDERR || level > MG_LOG_DEBUG) {
        lua_pushnil(L);
        lua_pushfstring(L, "bad log level: %d", (int)level);
        return 2;
    }
    ring->filter_level = (int)level;
    lua_pushboolean(L, 1);
    return 1;
}

static int errlog_get_logs(lua_State *L)
{
    lua_Integer max = luaL_optinteger(L, 1, 10);
    ring_t *ring = cur_ring();
    if (ring == NULL) {
        return not_set(L);
    }
    if (lua_istable(L, 2)) {
        lua_settop(L, 2);
    } else {
        lua_settop(L, 1);
        lua_createtable(L, max > 0 ? (int)mg_min(max, 1024) * 3 + 1 : 0, 0);
    }
    int t = lua_gettop(L);
    lua_Integer n = 0;
    for (lua_Integer i = 0; (max <= 0 || i < max) && take(ring, L, &n, t); i++) {
    }
    lua_pushnil(L);
    lua_rawseti(L, t, (int)n + 1);
    return 1;
}

static int errlog_get_sys_filter_level(lua_State *L)
{
    mg_log_t *log = mg_lua_log();
    lua_pushinteger(L, log ? log->level : MG_LOG_ERR);
    return 1;
}

static int errlog_raw_log(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TNUMBER) {
        return luaL_error(L, "bad argument #1 to 'raw_log' (must be a number)");
    }
    if (lua_type(L, 2) != LUA_TSTRING) {
        return luaL_error(L, "bad argument #2 to 'raw_log' (must be a string)");
    }
    lua_Integer level = lua_tointeger(L, 1);
    if (level < MG_LOG_STDERR || level > MG_LOG_DEBUG) {
        return luaL_error(L, "bad log level");
    }
    size_t len;
    const char *msg = lua_tolstring(L, 2, &len);
    /* nginx's stderr level is written as [emerg]'s neighbour: moongate has no such line */
    mg_log_error(level == MG_LOG_STDERR ? MG_LOG_EMERG : (int)level, mg_lua_log(), 0, "%.*s",
                 (int)len, msg);
    return 0;
}

static int open_errlog(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"set_filter_level", errlog_set_filter_level},
        {"get_logs", errlog_get_logs},
        {"get_sys_filter_level", errlog_get_sys_filter_level},
        {"raw_log", errlog_raw_log},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 5);
    luaL_register(L, NULL, fns);
    lua_pushliteral(L, "0.1.25");
    lua_setfield(L, -2, "version");
    return 1;
}

void mg_lua_errlog_preload(lua_State *L)
{
    mg_lua_preload(L, "ngx.errlog", open_errlog);
}
