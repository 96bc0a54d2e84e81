/*
 * The ndk table: ndk.set_var.DIRECTIVE(value) runs a directive of NDK's "value" kind on a
 * value, as lua-nginx-module does with the Nginx Devel Kit: set-misc's quoting, escaping,
 * encoding and digest directives (modules/set_misc.c). Other names raise OpenResty's error.
 */
#include "api.h"
#include "set_misc.h"

static int set_var_call(lua_State *L)
{
    mg_lua_check_phase(L, MG_LUA_REQUEST_PHASES);
    mg_request_t *r = mg_lua_request(L);
    const mg_set_misc_fn_t *fn = lua_touserdata(L, lua_upvalueindex(1));
    if (lua_gettop(L) != 1) {
        return luaL_error(L, "expecting one argument");
    }
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    mg_str_t in = mg_pstr(r->pool, s, len), out;
    if (mg_set_misc_call(r, fn, &in, &out) != MG_OK) {
        return luaL_error(L, "calling directive %s failed with code -1",
                          lua_tostring(L, lua_upvalueindex(2)));
    }
    lua_pushlstring(L, out.data, out.len);
    return 1;
}

/* ndk.set_var.NAME: a function, made once per name and kept in the table */
static int set_var_index(lua_State *L)
{
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    const mg_set_misc_fn_t *fn = mg_set_misc_find(name, len);
    if (fn == NULL) {
        return luaL_error(L,
                          "ndk.set_var: directive \"%s\" not found or does not use "
                          "ndk_set_var_value",
                          name);
    }
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, set_var_call, 2);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

void mg_lua_inject_ndk_api(lua_State *L)
{
    lua_createtable(L, 0, 1); /* ndk */
    lua_newtable(L);          /* ndk.set_var */
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, set_var_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "set_var");
    lua_setglobal(L, "ndk");
}
