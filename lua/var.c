/*
 * ngx.var: nginx variables by name (lowercased, as nginx's names are), regex captures by
 * number (ngx.var[1]), and writes to changeable ones ("set" variables, $args ...). A value
 * written from Lua is copied into the request pool, since the Lua string may be collected.
 * With the JIT on, the metatable's functions are Lua code calling mg_lua_ffi_var_get/set
 * through the FFI (lua-resty-core's way): the JIT compiles such a call into a trace, where
 * a C __index ends the trace, so a read in a hot loop costs a C call and a string.
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
    mg_lua_no_request_from(L, "resty.core.var", 71);
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
    mg_http_var_value_t tmp, *v = mg_http_get_variable_in(r, name, &tmp);
    if (v == NULL || v->not_found) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, v->value.data, v->value.len);
    return 1;
}

/* The message for what mg_http_set_variable answered (NULL: written), with the name
 * lowercased as lua-resty-core's message has it; in r's pool. */
static const char *set_error(mg_request_t *r, mg_str_t name, mg_int_t rc)
{
    if (rc == MG_OK) {
        return NULL;
    }
    if (rc == MG_ERROR) {
        return mg_psprintf(r->pool, "variable \"%.*s\" not changeable", (int)name.len, name.data);
    }
    return mg_psprintf(r->pool,
                       "variable \"%.*s\" not found for writing; maybe it is a built-in variable "
                       "that is not changeable or you forgot to use \"set $%.*s '';\" in the "
                       "config file to define it first",
                       (int)name.len, name.data, (int)name.len, name.data);
}

static int var_set(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.var", 111);
    mg_lua_check_phase(L, VAR_PHASES);
    mg_request_t *r = mg_lua_request(L);
    if (lua_type(L, 2) != LUA_TSTRING) {
        return luaL_error(L, "bad variable name");
    }
    char buf[64];
    mg_str_t name = lower_name(L, 2, buf, sizeof(buf));
    mg_str_t value, *vp = NULL;
    if (!lua_isnil(L, 3)) {
        /* any other value is written as tostring() makes it, as lua-resty-core does */
        if (lua_type(L, 3) != LUA_TSTRING && lua_type(L, 3) != LUA_TNUMBER) {
            lua_getglobal(L, "tostring");
            lua_pushvalue(L, 3);
            lua_call(L, 1, 1);
            lua_replace(L, 3);
        }
        size_t len;
        const char *s = lua_tolstring(L, 3, &len);
        if (s == NULL) {
            return luaL_error(L, "'tostring' must return a string to be assigned to a variable");
        }
        value = mg_pstr(r->pool, s, len);
        vp = &value;
    }
    const char *err = set_error(r, name, mg_http_set_variable(r, name, vp));
    if (err) {
        return luaL_error(L, "%s", err);
    }
    return 0;
}

/* The FFI entry points: no lua_State, so errors come back as a message in *err (static or
 * request-pool storage) and the Lua side raises them. Return 0 with the value, -5 (nil: no
 * such variable, or not found), -1 with *err, or -2 in init_by_lua (no request: the Lua side
 * calls the C __index/__newindex, which raise). A name is read lowercased; capture >= 0
 * reads that regex capture instead (name NULL). */
int mg_lua_ffi_var_get(const char *name, size_t len, double capture, const char **value,
                       size_t *value_len, const char **err);
int mg_lua_ffi_var_set(const char *name, size_t len, const char *value, size_t value_len,
                       int is_nil, const char **err);

/* name lowercased into buf, or into r's pool when longer */
static mg_str_t ffi_lower(mg_request_t *r, const char *s, size_t len, char *buf, size_t size)
{
    mg_str_t name = {len, len > size ? mg_pnalloc(r->pool, len) : buf};
    for (size_t i = 0; i < len; i++) {
        name.data[i] = (char)tolower((unsigned char)s[i]);
    }
    return name;
}

/* 0 with the request, -1 with *err, or -2 in init_by_lua: the Lua side calls the C function,
 * which raises lua-resty-core's error at its line (mg_lua_no_request_from) */
static int ffi_request(mg_request_t **r, const char **err)
{
    if (mg_lua_cur.phase == MG_LUA_INIT && !mg_lua_probe) {
        return -2;
    }
    *err = mg_lua_phase_error(VAR_PHASES);
    if (*err) {
        return -1;
    }
    *r = mg_lua_cur.r;
    if (*r == NULL) {
        *err = mg_lua_probe ? "docgen: request" : "no request found";
        return -1;
    }
    return 0;
}

int mg_lua_ffi_var_get(const char *name, size_t len, double capture, const char **value,
                       size_t *value_len, const char **err)
{
    mg_request_t *r;
    int rc = ffi_request(&r, err);
    if (rc != 0) {
        return rc;
    }
    if (name == NULL) {
        /* as lua_tointeger truncates; NaN and out-of-range read as no capture */
        if (!(capture >= 0 && capture < 0x3fffffff) || r->captures == NULL) {
            return -5;
        }
        int n = (int)capture;
        if (2 * n + 1 >= r->ncaptures || r->captures[2 * n] < 0) {
            return -5;
        }
        *value = r->captures_data + r->captures[2 * n];
        *value_len = (size_t)(r->captures[2 * n + 1] - r->captures[2 * n]);
        return 0;
    }
    char buf[128];
    mg_http_var_value_t tmp,
        *v = mg_http_get_variable_in(r, ffi_lower(r, name, len, buf, sizeof(buf)), &tmp);
    if (v == NULL || v->not_found) {
        return -5;
    }
    *value = v->value.len ? v->value.data : "";
    *value_len = v->value.len;
    return 0;
}

int mg_lua_ffi_var_set(const char *name, size_t len, const char *value, size_t value_len,
                       int is_nil, const char **err)
{
    mg_request_t *r;
    int rc = ffi_request(&r, err);
    if (rc != 0) {
        return rc;
    }
    char buf[128];
    mg_str_t copy = is_nil ? (mg_str_t){0, ""} : mg_pstr(r->pool, value, value_len);
    mg_str_t lname = ffi_lower(r, name, len, buf, sizeof(buf));
    *err = set_error(r, lname, mg_http_set_variable(r, lname, is_nil ? NULL : &copy));
    return *err ? -1 : 0;
}

/* Run with (ngx.var, the C __index, the C __newindex): other key and value types than the
 * common ones go to the C functions, which raise the same errors as before. */
static const char ffi_var_lua[] =
    "local var, cget, cset = ...\n"
    "if not (jit and jit.status()) then return end -- an FFI call costs more interpreted\n"
    "local ffi = require 'ffi'\n"
    "ffi.cdef[[\n"
    "int mg_lua_ffi_var_get(const char *name, size_t len, double capture, const char **value,\n"
    "                       size_t *value_len, const char **err);\n"
    "int mg_lua_ffi_var_set(const char *name, size_t len, const char *value, size_t value_len,\n"
    "                       int is_nil, const char **err);\n"
    "]]\n"
    "local C, ffi_string, type, error = ffi.C, ffi.string, type, error\n"
    "-- a program linked without its symbols exported (docgen, an embedding) keeps the C ones\n"
    "local ok, get = pcall(function() return C.mg_lua_ffi_var_get end)\n"
    "if not ok then return end\n"
    "local set = C.mg_lua_ffi_var_set\n"
    "local value, value_len = ffi.new('const char *[1]'), ffi.new('size_t[1]')\n"
    "local err = ffi.new('const char *[1]')\n"
    "local mt = getmetatable(var)\n"
    "mt.__index = function(self, name)\n"
    "    local rc, t = nil, type(name)\n"
    "    if t == 'string' then\n"
    "        rc = get(name, #name, -1, value, value_len, err)\n"
    "    elseif t == 'number' then\n"
    "        rc = get(nil, 0, name, value, value_len, err)\n"
    "    else\n"
    "        return cget(self, name)\n"
    "    end\n"
    "    if rc == 0 then\n"
    "        return ffi_string(value[0], value_len[0])\n"
    "    elseif rc == -5 then\n"
    "        return nil\n"
    "    elseif rc == -2 then\n"
    "        return cget(self, name)\n"
    "    end\n"
    "    error(ffi_string(err[0]), 2)\n"
    "end\n"
    "mt.__newindex = function(self, name, v)\n"
    "    local rc\n"
    "    if type(name) ~= 'string' then\n"
    "        return cset(self, name, v)\n"
    "    elseif type(v) == 'string' then\n"
    "        rc = set(name, #name, v, #v, 0, err)\n"
    "    elseif v == nil then\n"
    "        rc = set(name, #name, nil, 0, 1, err)\n"
    "    else\n"
    "        return cset(self, name, v)\n"
    "    end\n"
    "    if rc == -2 then\n"
    "        return cset(self, name, v)\n"
    "    elseif rc ~= 0 then\n"
    "        error(ffi_string(err[0]), 2)\n"
    "    end\n"
    "end\n";

void mg_lua_inject_var_api(lua_State *L)
{
    lua_newtable(L);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, var_get);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, var_set);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    if (luaL_loadbuffer(L, ffi_var_lua, sizeof(ffi_var_lua) - 1, "=ngx.var") != 0) {
        lua_error(L); /* the chunk is ours: cannot fail */
    }
    lua_pushvalue(L, -2);
    lua_pushcfunction(L, var_get);
    lua_pushcfunction(L, var_set);
    lua_call(L, 3, 0);
    lua_setfield(L, -2, "var");
}
