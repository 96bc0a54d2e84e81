/*
 * libFuzzer target for the Lua string API's parsers (lua/string.c, lua/time.c, lua/regex.c's
 * replacement templates), called through a LuaJIT state as handlers call them. The first byte
 * picks the function, the rest is its argument: ngx.decode_args, ngx.unescape_uri,
 * ngx.escape_uri (each type), ngx.decode_base64, ngx.encode_args of decoded args,
 * ngx.parse_http_time, ngx.quote_sql_str, and ngx.re.sub/gsub with the input as the
 * replacement template (on a fixed subject and regex, so the matching time stays bounded).
 * Invariants beyond crashes: base64 and URI component escaping round-trip; a Lua error must be an error
 * the API documents (raised with a message), never a crash.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=lua_string)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "api.h"

static lua_State *L;

/* the VM goes at exit, its caches (compiled templates) with it, so LeakSanitizer sees real
 * leaks only */
static void close_vm(void)
{
    lua_close(L);
}

/* The function under test at top-level Lua, given the input as `s`. */
static const char *const cases[] = {
    "local t = ngx.decode_args(s, 0) for k, v in pairs(t) do end return ngx.encode_args(t)",
    "return ngx.unescape_uri(s)",
    /* only the component escaping (the default, type 2) escapes "%": the others need not
     * round-trip */
    "for ty = 0, 6 do ngx.escape_uri(s, ty) end assert(ngx.unescape_uri(ngx.escape_uri(s)) == s)",
    "local d = ngx.decode_base64(s) if d then assert(ngx.decode_base64(ngx.encode_base64(d)) == d) end",
    "assert(ngx.decode_base64(ngx.encode_base64(s, true)) == s or #s % 3 ~= 0)",
    "return ngx.parse_http_time(s)",
    "return ngx.quote_sql_str(s)",
    "return ngx.re.sub('hello world 42', [[(\\w+) (?<w>\\w+) (\\d+)?]], s)",
    "return ngx.re.gsub('aaa bbb ccc', [[(\\w)(\\w)?]], s, 'jo')",
    "return ngx.decode_args(s, 3)",
};
static int refs[sizeof(cases) / sizeof(cases[0])];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    L = luaL_newstate();
    atexit(close_vm);
    luaL_openlibs(L);
    lua_createtable(L, 0, 64);
    mg_lua_inject_string_api(L);
    mg_lua_inject_time_api(L);
    mg_lua_inject_regex_api(L);
    lua_setglobal(L, "ngx");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* each case is a function of s */
        lua_pushfstring(L, "local s = ... %s", cases[i]);
        if (luaL_loadstring(L, lua_tostring(L, -1)) != 0) {
            fprintf(stderr, "case %zu: %s\n", i, lua_tostring(L, -1));
            abort();
        }
        refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_pop(L, 1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t which = data[0] % (sizeof(cases) / sizeof(cases[0]));
    lua_rawgeti(L, LUA_REGISTRYINDEX, refs[which]);
    lua_pushlstring(L, (const char *)data + 1, size - 1);
    if (lua_pcall(L, 1, 0, 0) != 0) {
        const char *msg = lua_tostring(L, -1);
        /* the round trips are asserted: their failure is a bug; argument errors are fine */
        if (msg && strstr(msg, "assertion failed")) {
            fprintf(stderr, "case %zu: %s\n", which, msg);
            abort();
        }
        lua_pop(L, 1);
    }
    lua_settop(L, 0);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
