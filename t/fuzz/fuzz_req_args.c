/*
 * libFuzzer target for the request argument parser behind ngx.req.get_uri_args and
 * get_post_args (lua/req.c parse_args), included for its static function and called through
 * a LuaJIT state. The input's first byte picks max (-2 to 9; 0 and below: no limit), the rest
 * is the arguments. Beyond crashes it checks, in Lua, against a model of lua-nginx-module's
 * counting: without a limit the two parsers and ngx.decode_args agree; with one, the URI
 * parser is truncated when there are more '&'-separated pieces than max and keeps the
 * pieces until max non-empty keys are in, the POST parser is truncated when max pieces end in
 * '&' and keeps those; what is kept is what the parser makes of the kept pieces alone.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=req_args)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../lua/req.c"

static lua_State *L;
static int check_ref;

static void close_vm(void)
{
    lua_close(L);
}

/* P(s, max, post): the table and whether it was truncated; s from an exactly sized copy, so
 * that reading past it is caught */
static int args(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int max = (int)luaL_checkinteger(L, 2);
    int post = lua_toboolean(L, 3);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, s, len);
    lua_createtable(L, 0, 4);
    int t = lua_gettop(L);
    int truncated = parse_args(L, t, copy, len, max, post);
    free(copy);
    lua_pushboolean(L, truncated);
    return 2;
}

static const char check[] =
    "local P, s, max = ...\n"
    "local function eq(a, b)\n"
    "  for k, v in pairs(a) do\n"
    "    local w = b[k]\n"
    "    if type(v) == 'table' then\n"
    "      if type(w) ~= 'table' or #v ~= #w then return false end\n"
    "      for i = 1, #v do if v[i] ~= w[i] then return false end end\n"
    "    elseif v ~= w then return false end\n"
    "  end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local all = P(s, 0, false)\n"
    "assert(eq(all, (P(s, 0, true))), 'uri ~= post')\n"
    "assert(eq(all, ngx.decode_args(s, 0)), 'uri ~= decode_args')\n"
    "local pieces = {}\n"
    "if #s > 0 then for p in (s .. '&'):gmatch('([^&]*)&') do pieces[#pieces + 1] = p end end\n"
    "local t, tr = P(s, max, false)\n"
    "local trunc = max > 0 and #pieces > max\n"
    "assert(tr == trunc, 'uri truncated')\n"
    "local limit, kept, count = trunc and max or #pieces, {}, 0\n"
    "for _, p in ipairs(pieces) do\n"
    "  if count >= limit then break end\n"
    "  if p ~= '' then\n"
    "    kept[#kept + 1] = p\n"
    "    if next((P(p, 0, false))) ~= nil then count = count + 1 end\n"
    "  end\n"
    "end\n"
    "assert(eq(t, (P(table.concat(kept, '&'), 0, false))), 'uri kept')\n"
    "local t2, tr2 = P(s, max, true)\n"
    "local amps = select(2, s:gsub('&', ''))\n"
    "local ptr = max > 0 and amps >= max\n"
    "assert(tr2 == ptr, 'post truncated')\n"
    "assert(eq(t2, (P(ptr and table.concat(pieces, '&', 1, max) or s, 0, true))), 'post kept')\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    L = luaL_newstate();
    atexit(close_vm);
    luaL_openlibs(L);
    lua_createtable(L, 0, 64);
    mg_lua_inject_string_api(L);
    lua_setglobal(L, "ngx");
    if (luaL_loadstring(L, check) != 0) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        abort();
    }
    check_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int max = data[0] % 12 - 2;
    lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);
    lua_pushcfunction(L, args);
    lua_pushlstring(L, (const char *)data + 1, size - 1);
    lua_pushinteger(L, max);
    if (lua_pcall(L, 3, 0, 0) != 0) {
        fprintf(stderr, "max %d, args \"%.*s\": %s\n", max, (int)size - 1, data + 1,
                lua_tostring(L, -1));
        abort();
    }
    lua_settop(L, 0);
    return 0;
}
