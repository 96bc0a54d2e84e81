/*
 * lua-resty-core's modules as moongate's own: resty.core and its resty.core.* submodules in
 * package.preload, so require finds them before the FFI files on package.path (Debian's want
 * nginx's symbols). moongate's ngx.* API is native already, so loading them changes nothing;
 * each returns the fields of lua-resty-core 0.1.25's table that libraries use: base's helpers
 * (resty_base.c), ctx's get_ctx_table, misc's ngx magic key hooks, utils' str_replace_char,
 * time's monotonic clock. The VM loads resty.core when it is made, as lua-nginx-module
 * 0.10.16+ does.
 */
#include "api.h"

#define RESTY_CORE_VERSION "0.1.25"

/* The submodules resty.core requires, in its order (the stream subsystem skips none here). */
static const char *const submodules[] = {
    "var",     "worker",   "regex", "shdict", "time",   "hash",      "uri",   "exit", "base64",
    "request", "response", "phase", "ndk",    "socket", "coroutine", "param", "misc", "ctx",
};

/* Push a module table: the version under vfield ("version", or "_VERSION" for ctx, misc and
 * worker) and the functions fns (NULL: none). */
static int push_module(lua_State *L, const char *vfield, const luaL_Reg *fns)
{
    lua_newtable(L);
    lua_pushliteral(L, RESTY_CORE_VERSION);
    lua_setfield(L, -2, vfield);
    for (; fns && fns->name; fns++) {
        lua_pushcfunction(L, fns->func);
        lua_setfield(L, -2, fns->name);
    }
    return 1;
}

/* Upvalue 1: the name of the version field. */
static int open_plain(lua_State *L)
{
    return push_module(L, lua_tostring(L, lua_upvalueindex(1)), NULL);
}

/* time.monotonic_msec(): the cached monotonic clock, in milliseconds, as nginx's current msec */
static int monotonic_msec(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)mg_now.monotonic);
    return 1;
}

static int monotonic_time(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)mg_now.monotonic / 1000);
    return 1;
}

static int open_time(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"monotonic_msec", monotonic_msec}, {"monotonic_time", monotonic_time}, {NULL, NULL}};
    return push_module(L, "version", fns);
}

/* resty.core.ctx: get_ctx_table([t]) is ngx.ctx's table (ctx.c) */
static int open_ctx(lua_State *L)
{
    static const luaL_Reg fns[] = {{"get_ctx_table", mg_lua_ctx_get_table}, {NULL, NULL}};
    return push_module(L, "_VERSION", fns);
}

/*
 * resty.core.misc: register_ngx_magic_key_getter(key, fn) / _setter(key, fn) make ngx[key]
 * call fn() / fn(value). Test tools mock ngx.status so and put the old function back, found by
 * its upvalue's name in lua-resty-core (ngx_magic_key_getters/_setters), hence those names and
 * entries for the keys the metatable serves. The metatable is wrapped at the first
 * registration only, so ngx.ctx and ngx.status stay one C call otherwise.
 */
static const char misc_source[] =
    "local mt = getmetatable(ngx)\n"
    "local index, newindex = mt.__index, mt.__newindex\n"
    "local ngx_magic_key_getters, ngx_magic_key_setters = {}, {}\n"
    "for _, k in ipairs({ 'status', 'ctx', 'headers_sent', 'is_subrequest' }) do\n"
    "  ngx_magic_key_getters[k] = function() return index(ngx, k) end\n"
    "end\n"
    "for _, k in ipairs({ 'status', 'ctx' }) do\n"
    "  ngx_magic_key_setters[k] = function(v) return newindex(ngx, k, v) end\n"
    "end\n"
    "local wrapped = false\n"
    "local function wrap()\n"
    "  if wrapped then return end\n"
    "  wrapped = true\n"
    "  mt.__index = function(t, k)\n"
    "    local get = ngx_magic_key_getters[k]\n"
    "    if get then return get() end\n"
    "    return index(t, k)\n"
    "  end\n"
    "  mt.__newindex = function(t, k, v)\n"
    "    local set = ngx_magic_key_setters[k]\n"
    "    if set then return set(v) end\n"
    "    return newindex(t, k, v)\n"
    "  end\n"
    "end\n"
    "return {\n"
    "  _VERSION = '" RESTY_CORE_VERSION "',\n"
    "  register_ngx_magic_key_getter = function(k, f)\n"
    "    wrap()\n"
    "    ngx_magic_key_getters[k] = f\n"
    "  end,\n"
    "  register_ngx_magic_key_setter = function(k, f)\n"
    "    wrap()\n"
    "    ngx_magic_key_setters[k] = f\n"
    "  end,\n"
    "}\n";

/* Push what one of the chunks here returns (they are ours: a load error is a bug, raised). */
static void run_chunk(lua_State *L, const char *source, size_t len, const char *name)
{
    if (luaL_loadbuffer(L, source, len, name) != 0) {
        lua_error(L);
    }
    lua_call(L, 0, 1);
}

static int open_misc(lua_State *L)
{
    run_chunk(L, misc_source, sizeof(misc_source) - 1, "=resty.core.misc");
    return 1;
}

/*
 * utils.str_replace_char(str, find, replace): str with every byte find[0] made replace[0],
 * when find occurs in it (str itself otherwise), as lua-resty-core's.
 */
static int str_replace_char(lua_State *L)
{
    size_t len, flen, rlen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *find = luaL_checklstring(L, 2, &flen);
    const char *rep = luaL_checklstring(L, 3, &rlen);
    if (flen == 0 || memmem(s, len, find, flen) == NULL) {
        lua_settop(L, 1);
        return 1;
    }
    luaL_argcheck(L, rlen > 0, 3, "empty replacement");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *end = s + len, *p;
    for (; (p = memchr(s, find[0], (size_t)(end - s))) != NULL; s = p + 1) {
        luaL_addlstring(&b, s, (size_t)(p - s));
        luaL_addchar(&b, rep[0]);
    }
    luaL_addlstring(&b, s, (size_t)(end - s));
    luaL_pushresult(&b);
    return 1;
}

static int open_utils(lua_State *L)
{
    static const luaL_Reg fns[] = {{"str_replace_char", str_replace_char}, {NULL, NULL}};
    return push_module(L, "version", fns);
}

static int open_core(lua_State *L)
{
    char name[64];
    for (size_t i = 0; i < mg_nelems(submodules); i++) {
        snprintf(name, sizeof(name), "resty.core.%s", submodules[i]);
        lua_getglobal(L, "require");
        lua_pushstring(L, name);
        lua_call(L, 1, 0);
    }
    return push_module(L, "version", NULL);
}

/*
 * require "ngx.re": split over ngx.re.match (each field from where the last match ended; the
 * first capture, when the regex has one, goes in after its field; a zero-width match at a
 * field's start is skipped, so an empty regex splits between characters; without max, empty
 * fields at the end are dropped, as Perl's split); opt is regex.c's.
 */
static const char re_source[] =
    "local match, tostring, type, sub = ngx.re.match, tostring, type, string.sub\n"
    "local M = { version = '" RESTY_CORE_VERSION "' }\n"
    "function M.split(subj, regex, opts, ctx, max, res)\n"
    "  subj = tostring(subj)\n"
    "  max = max or 0\n"
    "  if res == nil then res = {} elseif type(res) ~= 'table' then\n"
    "    error('res is not a table', 2) end\n"
    "  local len, n = #subj, 0\n"
    "  local start = ctx and ctx.pos or 1\n"
    "  if start > len then res[1] = nil return res end\n"
    "  local mctx, search, fields = {}, start, 1\n"
    "  while (max <= 0 or fields < max) and search <= len + 1 do\n"
    "    mctx.pos = search\n"
    "    local m, err = match(subj, regex, opts, mctx)\n"
    "    if err then return nil, err end\n"
    "    if not m then break end\n"
    "    local to = mctx.pos\n"
    "    local from = to - #m[0]\n"
    "    if from == to and from == start then\n"
    "      search = from + 1\n"
    "    else\n"
    "      n = n + 1 res[n] = sub(subj, start, from - 1)\n"
    "      if type(m[1]) == 'string' then n = n + 1 res[n] = m[1] end\n"
    "      fields = fields + 1\n"
    "      start, search = to, to\n"
    "      if start > len then break end\n"
    "    end\n"
    "  end\n"
    "  if max <= 0 and start > len then\n"
    "    while n > 0 and res[n] == '' do res[n] = nil n = n - 1 end\n"
    "  else\n"
    "    n = n + 1 res[n] = sub(subj, start)\n"
    "  end\n"
    "  res[n + 1] = nil\n"
    "  return res\n"
    "end\n"
    "return M\n";

static int open_re(lua_State *L)
{
    run_chunk(L, re_source, sizeof(re_source) - 1, "=ngx.re");
    mg_lua_re_push_opt(L);
    lua_setfield(L, -2, "opt");
    return 1;
}

void mg_lua_resty_core_preload(lua_State *L)
{
    char name[64];
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    for (size_t i = 0; i < mg_nelems(submodules); i++) {
        const char *sub = submodules[i];
        if (strcmp(sub, "time") == 0) {
            lua_pushcfunction(L, open_time);
        } else if (strcmp(sub, "ctx") == 0) {
            lua_pushcfunction(L, open_ctx);
        } else if (strcmp(sub, "misc") == 0) {
            lua_pushcfunction(L, open_misc);
        } else {
            lua_pushstring(L, strcmp(sub, "worker") == 0 ? "_VERSION" : "version");
            lua_pushcclosure(L, open_plain, 1);
        }
        snprintf(name, sizeof(name), "resty.core.%s", sub);
        lua_setfield(L, -2, name);
    }
    lua_pushcfunction(L, mg_lua_resty_base_open);
    lua_setfield(L, -2, "resty.core.base");
    /* resty.core.utils is not among resty.core's requires but ships with it */
    lua_pushcfunction(L, open_utils);
    lua_setfield(L, -2, "resty.core.utils");
    lua_pushcfunction(L, open_core);
    lua_setfield(L, -2, "resty.core");
    lua_pushcfunction(L, open_re);
    lua_setfield(L, -2, "ngx.re");
    lua_pop(L, 2);

    lua_getglobal(L, "require");
    lua_pushliteral(L, "resty.core");
    lua_call(L, 1, 0);
}
