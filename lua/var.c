/*
 * ngx.var: nginx variables by name (lowercased, as nginx's names are), regex captures by
 * number (ngx.var[1]), and writes to changeable ones ("set" variables, $args ...). A value
 * written from Lua is copied into the request pool, since the Lua string may be collected.
 */
#include <ctype.h>

#include "api.h"
#include "variables.h"

#define VAR_PHASES                                                                                 \
    (MG_LUA_SET | MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT | MG_LUA_HEADER_FILTER |         \
     MG_LUA_BODY_FILTER | MG_LUA_LOG | MG_LUA_BALANCER)

static mg_str_t lower_name(lua_State *L, int idx, char *buf, size_t size)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    mg_str_t name = {len, buf};
    if (len > size) {
        name.data = lua_newuserdata(L, len); /* collected with the call */
    }
    for (size_t i = 0; i < len; i++) {
        name.data[i] = (char)tolower((unsigned char)s[i]);
    }
    return name;
}

static int var_get(lua_State *L)
{
    mg_lua_check_phase(L, VAR_PHASES);
    mg_request_t *r = mg_lua_request(L);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        lua_Integer n = lua_tointeger(L, 2);
        if (n < 0 || r->captures == NULL || 2 * n + 1 >= r->ncaptures ||
            r->captures[2 * n] < 0) {
            lua_pushnil(L);
            return 1;
        }
        lua_pushlstring(L, r->captures_data + r->captures[2 * n],
                        (size_t)(r->captures[2 * n + 1] - r->captures[2 * n]));
        return 1;
    }
    if (lua_type(L, 2) != LUA_TSTRING) {
        return luaL_error(L, "bad variable name");
    }
    char buf[64];
    mg_str_t name = lower_name(L, 2, buf, sizeof(buf));
    mg_http_var_value_t *v = mg_http_get_variable(r, name);
    if (v == NULL || v->not_found) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, v->value.data, v->value.len);
    return 1;
}

static int var_set(lua_State *L)
{
    mg_lua_check_phase(L, VAR_PHASES);
    mg_request_t *r = mg_lua_request(L);
    if (lua_type(L, 2) != LUA_TSTRING) {
        return luaL_error(L, "bad variable name");
    }
    char buf[64];
    mg_str_t name = lower_name(L, 2, buf, sizeof(buf));
    mg_str_t value, *vp = NULL;
    switch (lua_type(L, 3)) {
    case LUA_TNUMBER:
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, 3, &len);
        value = mg_pstr(r->pool, s, len);
        vp = &value;
        break;
    }
    case LUA_TNIL:
        break; /* reads back as nil */
    default:
        return luaL_error(L, "bad variable value type: %s", luaL_typename(L, 3));
    }
    if (mg_http_set_variable(r, name, vp) != MG_OK) {
        return luaL_error(L,
                          "variable \"%s\" not found for writing; maybe it is a built-in "
                          "variable that is not changeable or you forgot to use \"set $%s '';\" "
                          "in the config file to define it first",
                          lua_tostring(L, 2), lua_tostring(L, 2));
    }
    return 0;
}

void mg_lua_inject_var_api(lua_State *L)
{
    lua_newtable(L);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, var_get);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, var_set);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "var");
}
