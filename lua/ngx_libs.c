/*
 * lua-resty-core 0.1.25's small ngx.* modules, native: require "ngx.base64"
 * (encode_base64url, decode_base64url: RFC 4648's URL alphabet without padding, as nginx's
 * ngx_encode_base64url), require "ngx.resp" (add_header, header.c's) and require "ngx.req"
 * (add_header, req.c's). In package.preload, so they are found before Debian's FFI files.
 */
#include <string.h>

#include "api.h"

#define RESTY_CORE_VERSION "0.1.25"

static int base64url_encode(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING) {
        lua_pushnil(L);
        lua_pushliteral(L, "must provide a string");
        return 2;
    }
    size_t len;
    const unsigned char *s = (const unsigned char *)lua_tolstring(L, 1, &len);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char *out = mg_alloc(mg_base64_encoded_len(len) + 1);
    size_t n = mg_base64_encode(s, len, out);
    while (n && out[n - 1] == '=') {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    luaL_addlstring(&b, out, n);
    free(out);
    luaL_pushresult(&b);
    return 1;
}

static int base64url_decode(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING) {
        lua_pushnil(L);
        lua_pushliteral(L, "must provide a string");
        return 2;
    }
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    /* as nginx: the data ends at the first '='; a character outside the URL alphabet, or a
     * length that leaves a lone 6-bit group, is invalid */
    const char *eq = memchr(s, '=', len);
    if (eq) {
        len = (size_t)(eq - s);
    }
    char *std = mg_alloc(len + 4);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+' || c == '/') {
            free(std);
            goto invalid;
        }
        std[k++] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    if (k % 4 == 1) {
        free(std);
        goto invalid;
    }
    while (k % 4) {
        std[k++] = '=';
    }
    unsigned char *out = mg_alloc(mg_base64_decoded_len(k) + 1);
    size_t dlen;
    mg_int_t rc = mg_base64_decode((mg_str_t){k, std}, out, &dlen);
    free(std);
    if (rc != MG_OK) {
        free(out);
        goto invalid;
    }
    lua_pushlstring(L, (const char *)out, dlen);
    free(out);
    return 1;
invalid:
    lua_pushnil(L);
    lua_pushliteral(L, "invalid input");
    return 2;
}

static int open_base64(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushliteral(L, RESTY_CORE_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushcfunction(L, base64url_encode);
    lua_setfield(L, -2, "encode_base64url");
    lua_pushcfunction(L, base64url_decode);
    lua_setfield(L, -2, "decode_base64url");
    return 1;
}

/* ngx.resp and ngx.req: a version and the add_header the registry holds under `key` */
static int open_add_header_module(lua_State *L, const char *key)
{
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, RESTY_CORE_VERSION);
    lua_setfield(L, -2, "version");
    lua_getfield(L, LUA_REGISTRYINDEX, key);
    lua_setfield(L, -2, "add_header");
    return 1;
}

static int open_resp(lua_State *L)
{
    return open_add_header_module(L, "mg.resp.add_header");
}

static int open_req(lua_State *L)
{
    return open_add_header_module(L, "mg.req.add_header");
}

void mg_lua_ngx_libs_preload(lua_State *L)
{
    mg_lua_preload(L, "ngx.base64", open_base64);
    mg_lua_preload(L, "ngx.resp", open_resp);
    mg_lua_preload(L, "ngx.req", open_req);
}
