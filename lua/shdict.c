/*
 * lua_shared_dict NAME SIZE and ngx.shared.NAME. The directive gets the generation a shared
 * memory zone (core/shm.c: made by the master, inherited by the workers, kept over a reload
 * when name and size stay) and builds the store in it (shdict_store.c). The Lua side checks
 * arguments as lua-resty-core 0.1.25 does, calls the store once, and builds Lua values from
 * what it copied out, with the lock already released. Reachable from every phase. The hot
 * methods (get, set and the other stores, incr, ttl, expire) are Lua functions calling C through
 * the FFI for the common argument types (shdict_lua), so the JIT compiles them into the caller's
 * trace; the C methods answer the rest.
 */
#include "shdict.h"
#include "api.h"
#include "metrics.h"
#include "mgtime.h"
#include "shm.h"

struct mg_lua_shdict_s {
    mg_str_t name;
    mg_shm_zone_t *zone;
    mg_shdict_t *sh;
    struct mg_lua_shdict_s *next;
};

static char methods_key; /* registry[&methods_key]: the dicts' metatable */
/* registry[&zone_maker_key]: shdict_lua's function making a dict's zone pointer a cdata (nil where
 * the methods stayed C functions) */
static char zone_maker_key;

/* moongate_shdict_bytes{zone,kind}: read when shown, as ngx.shared.DICT:capacity() and
 * :free_space() do. */
static void shdict_metrics(void *data, mg_metrics_sink_t *sink)
{
    struct mg_lua_shdict_s *d = data;
    static const char *const names[] = {"zone", "kind"};
    size_t capacity = mg_shdict_capacity(d->sh), free_space = mg_shdict_free_space(d->sh);
    mg_str_t values[2] = {d->name, mg_string("capacity")};
    mg_metrics_sample(sink, 2, names, values, (double)capacity);
    values[1] = (mg_str_t)mg_string("free");
    mg_metrics_sample(sink, 2, names, values, (double)free_space);
    values[1] = (mg_str_t)mg_string("used");
    mg_metrics_sample(sink, 2, names, values,
                      (double)(capacity > free_space ? capacity - free_space : 0));
}

const char *mg_lua_set_shared_dict(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_lua_main_conf_t *lmcf = conf;
    mg_str_t name = cf->args[1], arg = cf->args[2];
    if (name.len == 0) {
        mg_conf_error(cf, 0, "invalid lua shared dict name \"%s\"", name.data);
        return MG_CONF_ERROR;
    }
    /* nginx's size syntax: bytes, k or m (no g); OpenResty's minimum of 8k */
    int64_t size = -1;
    if (arg.len && arg.data[arg.len - 1] != 'g' && arg.data[arg.len - 1] != 'G') {
        size = mg_parse_size(arg);
    }
    if (size <= 8191 || (uint64_t)size > SIZE_MAX) {
        mg_conf_error(cf, 0, "invalid lua shared dict size \"%s\"", arg.data);
        return MG_CONF_ERROR;
    }
    mg_shm_zone_t *zone = mg_shm_zone_add(cf, name, (size_t)size, &mg_lua_module);
    if (zone == NULL) {
        return MG_CONF_ERROR;
    }
    for (struct mg_lua_shdict_s *d = lmcf->shdicts; d; d = d->next) {
        if (d->zone == zone) {
            mg_conf_error(cf, 0, "lua_shared_dict \"%s\" is already defined as \"%s\"", name.data,
                          d->name.data);
            return MG_CONF_ERROR;
        }
    }
    struct mg_lua_shdict_s *d = mg_pcalloc(cf->pool, sizeof(*d));
    d->name = mg_pstr(cf->pool, name.data, name.len);
    d->zone = zone;
    d->sh = mg_shdict_attach(zone->addr, zone->size, d->name.data);
    if (d->sh == NULL) {
        mg_conf_error(cf, 0, "lua_shared_dict \"%s\" is too small", name.data);
        return MG_CONF_ERROR;
    }
    /* a new size (HUP, or USR2 with a changed config): the entries move over, where nginx
     * refuses such a reload */
    mg_shm_zone_t *prev = mg_shm_zone_previous(cf, name, &mg_lua_module);
    if (prev && prev != zone && prev->size != zone->size) {
        size_t n = mg_shdict_copy(d->sh, prev->addr, (uint64_t)mg_now.msec);
        mg_log_error(MG_LOG_NOTICE, cf->log, 0,
                     "lua_shared_dict \"%s\": %zu entries copied into the zone of the new size",
                     name.data, n);
    }
    d->next = lmcf->shdicts;
    lmcf->shdicts = d;
    mg_metrics_add_source(
        cf->cycle, "moongate_shdict_bytes",
        "lua_shared_dict zones: capacity (what items may take), free and used bytes",
        shdict_metrics, d);
    return MG_CONF_OK;
}

/* ---- arguments ---- */

static mg_shdict_t *get_dict(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_rawgeti(L, 1, 1);
        struct mg_lua_shdict_s *d = lua_touserdata(L, -1);
        lua_pop(L, 1);
        if (d) {
            return d->sh;
        }
    }
    luaL_error(L, "bad \"zone\" argument");
    return NULL;
}

/* The key at idx as a string (numbers and others through tostring); NULL with *err. */
static const char *get_key(lua_State *L, int idx, size_t *len, const char **err)
{
    int t = lua_type(L, idx);
    if (t == LUA_TNIL || t == LUA_TNONE) {
        *err = "nil key";
        return NULL;
    }
    if (t != LUA_TSTRING && t != LUA_TNUMBER) {
        lua_getglobal(L, "tostring");
        lua_pushvalue(L, idx);
        lua_call(L, 1, 1);
        lua_replace(L, idx);
    }
    const char *key = lua_tolstring(L, idx, len);
    if (key == NULL) {
        *err = "nil key";
    } else if (*len == 0) {
        *err = "empty key";
    } else if (*len > MG_SHDICT_MAX_KEY) {
        *err = "key too long";
    } else {
        return key;
    }
    return NULL;
}

/* The list methods are C functions in OpenResty: they count their arguments first and want a
 * string (or a number) key, raising an error for another type where the others convert it. */
static const char *get_list_key(lua_State *L, int nargs, mg_shdict_t **sh, size_t *len,
                                const char **err)
{
    int n = lua_gettop(L);
    if (n != nargs) {
        luaL_error(L, "expecting %d arguments, but only seen %d", nargs, n);
    }
    *sh = get_dict(L);
    if (lua_type(L, 2) != LUA_TNIL) {
        luaL_checklstring(L, 2, len);
    }
    return get_key(L, 2, len, err);
}

static int fail(lua_State *L, const char *err)
{
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

/* A duration in seconds -> milliseconds (0: none). nil or absent is 0. */
static uint64_t to_msec(lua_Number s)
{
    return s * 1000 >= 9.2e18 ? (uint64_t)9.2e18 : (uint64_t)(s * 1000);
}

/* A number of flags kept as OpenResty's C int: the low 32 bits */
static int32_t to_flags(lua_Number f)
{
    return (f >= -9.2e18 && f <= 9.2e18) ? (int32_t)(uint32_t)(int64_t)f : 0;
}

/* The exptime of set and the others, read as lua-resty-core does: nil or false is 0, a number
 * below 0 an error, and anything else is compared with 0 (the error Lua gives for that). */
static uint64_t get_store_exptime(lua_State *L, int idx)
{
    if (!lua_toboolean(L, idx)) {
        return 0;
    }
    if (lua_type(L, idx) != LUA_TNUMBER) {
        luaL_error(L, "attempt to compare %s with number", luaL_typename(L, idx));
    }
    lua_Number s = lua_tonumber(L, idx);
    if (s < 0) {
        luaL_error(L, "bad \"exptime\" argument");
    }
    return s > 0 ? to_msec(s) : 0;
}

/* A value to store; NIL for nil, -1 for a type that cannot be stored. */
static int get_value(lua_State *L, int idx, mg_shdict_value_t *v)
{
    switch (lua_type(L, idx)) {
    case LUA_TNONE:
    case LUA_TNIL:
        v->type = MG_SHDICT_NIL;
        return 0;
    case LUA_TNUMBER:
        v->type = MG_SHDICT_NUMBER;
        v->num = lua_tonumber(L, idx);
        return 0;
    case LUA_TBOOLEAN:
        v->type = MG_SHDICT_BOOLEAN;
        v->num = lua_toboolean(L, idx);
        return 0;
    case LUA_TSTRING:
        v->type = MG_SHDICT_STRING;
        v->str = lua_tolstring(L, idx, &v->len);
        return 0;
    default:
        return -1;
    }
}

static void push_value(lua_State *L, mg_shdict_out_t *out)
{
    switch (out->v.type) {
    case MG_SHDICT_NUMBER:
        lua_pushnumber(L, out->v.num);
        break;
    case MG_SHDICT_BOOLEAN:
        lua_pushboolean(L, out->v.num != 0);
        break;
    default:
        lua_pushlstring(L, out->v.str, out->v.len);
        break;
    }
    mg_shdict_out_free(out);
}

static uint64_t now_ms(void)
{
    return (uint64_t)mg_now.msec;
}

/* ---- methods ---- */

static int do_get(lua_State *L, int stale)
{
    mg_shdict_t *sh = get_dict(L);
    size_t klen;
    const char *err;
    const char *key = get_key(L, 2, &klen, &err);
    if (key == NULL) {
        return fail(L, err);
    }
    mg_shdict_out_t out;
    int rc = mg_shdict_get(sh, key, klen, now_ms(), stale, &out);
    if (rc == MG_SHDICT_IS_LIST) {
        return fail(L, "value is a list");
    }
    if (rc != MG_SHDICT_OK) {
        lua_pushnil(L);
        return 1;
    }
    push_value(L, &out);
    if (stale) {
        if (out.flags) {
            lua_pushinteger(L, out.flags);
        } else {
            lua_pushnil(L);
        }
        lua_pushboolean(L, out.stale);
        return 3;
    }
    if (out.flags) {
        lua_pushinteger(L, out.flags);
        return 2;
    }
    return 1;
}

static int shdict_get(lua_State *L)
{
    return do_get(L, 0);
}

static int shdict_get_stale(lua_State *L)
{
    return do_get(L, 1);
}

static const char *const store_errors[] = {
    [MG_SHDICT_EXISTS] = "exists",
    [MG_SHDICT_NOT_FOUND] = "not found",
    [MG_SHDICT_NO_MEMORY] = "no memory",
};

/* set, safe_set, add, safe_add, replace, delete: ok, err, forcible */
static int do_store(lua_State *L, int op)
{
    mg_shdict_t *sh = get_dict(L);
    uint64_t exptime = get_store_exptime(L, 4);
    size_t klen;
    const char *err;
    const char *key = get_key(L, 2, &klen, &err);
    if (key == NULL) {
        return fail(L, err);
    }
    mg_shdict_value_t v;
    if (get_value(L, 3, &v) != 0) {
        return fail(L, "bad value type");
    }
    if (v.type == MG_SHDICT_NIL && (op & (MG_SHDICT_ADD | MG_SHDICT_REPLACE))) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "attempt to add or replace nil values");
        lua_pushboolean(L, 0);
        return 3;
    }
    int32_t flags = 0;
    if (lua_type(L, 5) == LUA_TBOOLEAN) {
        flags = lua_toboolean(L, 5); /* the FFI's conversion of a boolean */
    } else if (!lua_isnil(L, 5) && !lua_isnone(L, 5)) {
        if (lua_type(L, 5) != LUA_TNUMBER) {
            /* lua-resty-core hands it to a C int through the FFI, which says this */
            return luaL_error(L,
                              "bad argument #10 to 'ngx_lua_ffi_shdict_store' (cannot convert "
                              "'%s' to 'int')",
                              luaL_typename(L, 5));
        }
        flags = to_flags(lua_tonumber(L, 5));
    }
    int forcible = 0;
    int rc = mg_shdict_store(sh, op, key, klen, &v, exptime, flags, now_ms(), &forcible);
    lua_pushboolean(L, rc == MG_SHDICT_OK);
    if (rc == MG_SHDICT_OK) {
        lua_pushnil(L);
    } else {
        lua_pushstring(L, store_errors[rc]);
    }
    lua_pushboolean(L, forcible);
    return 3;
}

static int shdict_set(lua_State *L)
{
    return do_store(L, MG_SHDICT_SET);
}

static int shdict_safe_set(lua_State *L)
{
    return do_store(L, MG_SHDICT_SET | MG_SHDICT_SAFE);
}

static int shdict_add(lua_State *L)
{
    return do_store(L, MG_SHDICT_ADD);
}

static int shdict_safe_add(lua_State *L)
{
    return do_store(L, MG_SHDICT_ADD | MG_SHDICT_SAFE);
}

static int shdict_replace(lua_State *L)
{
    return do_store(L, MG_SHDICT_REPLACE);
}

static int shdict_delete(lua_State *L)
{
    lua_settop(L, 2);
    lua_pushnil(L);
    return do_store(L, MG_SHDICT_SET);
}

static lua_Number get_number(lua_State *L, int idx, const char *what)
{
    if (!lua_isnumber(L, idx)) {
        luaL_error(L, "bad %s arg: number expected, got %s", what, luaL_typename(L, idx));
    }
    return lua_tonumber(L, idx);
}

/* incr(key, value, init?, init_ttl?): newval, or newval, nil, forcible when init is given */
static int shdict_incr(lua_State *L)
{
    mg_shdict_t *sh = get_dict(L);
    size_t klen;
    const char *err;
    const char *key = get_key(L, 2, &klen, &err);
    if (key == NULL) {
        return fail(L, err);
    }
    if (!lua_isnumber(L, 3)) {
        /* lua-resty-core stores tonumber(value) in a double: LuaJIT's FFI says this there */
        return mg_lua_raise_from(L, "resty.core.shdict", 760, "cannot convert 'nil' to 'double'");
    }
    double by = lua_tonumber(L, 3);
    double init, *initp = NULL;
    if (!lua_isnoneornil(L, 4)) {
        init = get_number(L, 4, "init");
        initp = &init;
    }
    uint64_t init_ttl = 0;
    if (!lua_isnoneornil(L, 5)) {
        if (initp == NULL) {
            return luaL_error(L, "must provide \"init\" when providing \"init_ttl\"");
        }
        /* a string holding a number is taken, as tonumber does */
        lua_Number s = get_number(L, 5, "init_ttl");
        if (s < 0) {
            return luaL_error(L, "bad \"init_ttl\" argument");
        }
        init_ttl = to_msec(s);
    }
    int forcible = 0;
    double result;
    int rc = mg_shdict_incr(sh, key, klen, by, initp, init_ttl, now_ms(), &result, &forcible);
    if (rc == MG_SHDICT_NOT_FOUND) {
        return fail(L, "not found");
    }
    if (rc == MG_SHDICT_NOT_NUMBER) {
        return fail(L, "not a number");
    }
    if (rc == MG_SHDICT_NO_MEMORY) {
        return fail(L, "no memory");
    }
    lua_pushnumber(L, result);
    if (initp == NULL) {
        return 1;
    }
    lua_pushnil(L);
    lua_pushboolean(L, forcible);
    return 3;
}

static int do_push(lua_State *L, int left)
{
    mg_shdict_t *sh;
    size_t klen;
    const char *err;
    const char *key = get_list_key(L, 3, &sh, &klen, &err);
    if (key == NULL) {
        return fail(L, err);
    }
    mg_shdict_value_t v;
    int t = lua_type(L, 3);
    if ((t != LUA_TSTRING && t != LUA_TNUMBER) || get_value(L, 3, &v) != 0) {
        return fail(L, "bad value type");
    }
    size_t len;
    int rc = mg_shdict_push(sh, key, klen, left, &v, now_ms(), &len);
    if (rc == MG_SHDICT_NOT_LIST) {
        return fail(L, "value not a list");
    }
    if (rc != MG_SHDICT_OK) {
        return fail(L, "no memory");
    }
    lua_pushinteger(L, (lua_Integer)len);
    return 1;
}

static int shdict_lpush(lua_State *L)
{
    return do_push(L, 1);
}

static int shdict_rpush(lua_State *L)
{
    return do_push(L, 0);
}

static int do_pop(lua_State *L, int left)
{
    mg_shdict_t *sh;
    size_t klen;
    const char *err;
    const char *key = get_list_key(L, 2, &sh, &klen, &err);
    if (key == NULL) {
        return fail(L, err);
    }
    mg_shdict_out_t out;
    int rc = mg_shdict_pop(sh, key, klen, left, now_ms(), &out);
    if (rc == MG_SHDICT_NOT_LIST) {
        return fail(L, "value not a list");
    }
    if (rc != MG_SHDICT_OK) {
        lua_pushnil(L);
        return 1;
    }
    push_value(L, &out);
    return 1;
}

static int shdict_lpop(lua_State *L)
{
    return do_pop(L, 1);
}

static int shdict_rpop(lua_State *L)
{
    return do_pop(L, 0);
}

static int shdict_llen(lua_State *L)
{
    mg_shdict_t *sh;
    size_t klen, len;
    const char *err;
    const char *key = get_list_key(L, 2, &sh, &klen, &err);
    if (key == NULL) {
        return fail(L, err);
    }
    if (mg_shdict_llen(sh, key, klen, now_ms(), &len) != MG_SHDICT_OK) {
        return fail(L, "value not a list");
    }
    lua_pushinteger(L, (lua_Integer)len);
    return 1;
}

static int shdict_ttl(lua_State *L)
{
    mg_shdict_t *sh = get_dict(L);
    size_t klen;
    const char *err;
    const char *key = get_key(L, 2, &klen, &err);
    if (key == NULL) {
        return fail(L, err);
    }
    int64_t ms;
    if (mg_shdict_ttl(sh, key, klen, now_ms(), &ms) != MG_SHDICT_OK) {
        return fail(L, "not found");
    }
    lua_pushnumber(L, (lua_Number)ms / 1000);
    return 1;
}

static int shdict_expire(lua_State *L)
{
    mg_shdict_t *sh = get_dict(L);
    if (!lua_toboolean(L, 3)) {
        return luaL_error(L, "bad \"exptime\" argument");
    }
    size_t klen;
    const char *err;
    const char *key = get_key(L, 2, &klen, &err);
    if (key == NULL) {
        return fail(L, err);
    }
    if (!lua_isnumber(L, 3)) { /* lua-resty-core multiplies it by 1000 */
        return luaL_error(L, "attempt to perform arithmetic on local 'exptime' (a %s value)",
                          luaL_typename(L, 3));
    }
    /* as OpenResty: a negative time means no expiry, like 0 */
    lua_Number s = lua_tonumber(L, 3);
    uint64_t ms = s > 0 ? to_msec(s) : 0;
    if (mg_shdict_expire(sh, key, klen, ms, now_ms()) != MG_SHDICT_OK) {
        return fail(L, "not found");
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int shdict_flush_all(lua_State *L)
{
    mg_shdict_flush_all(get_dict(L));
    return 0;
}

static size_t get_count(lua_State *L, int idx, size_t dflt)
{
    if (lua_isnoneornil(L, idx)) {
        return dflt;
    }
    lua_Number n = luaL_checknumber(L, idx);
    return n > 0 ? (size_t)n : 0;
}

/* flush_expired and get_keys are C functions in OpenResty too, counting their arguments */
static mg_shdict_t *get_dict_1_or_2(lua_State *L)
{
    int n = lua_gettop(L);
    if (n < 1 || n > 2) {
        luaL_error(L, "expecting 1 or 2 argument(s), but saw %d", n);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 1);
    int ok = lua_touserdata(L, -1) != NULL;
    lua_pop(L, 1);
    if (!ok) {
        luaL_error(L, "bad user data for the ngx_shm_zone_t pointer");
    }
    return get_dict(L);
}

static int shdict_flush_expired(lua_State *L)
{
    mg_shdict_t *sh = get_dict_1_or_2(L);
    size_t n = mg_shdict_flush_expired(sh, get_count(L, 2, 0), now_ms());
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

static int shdict_get_keys(lua_State *L)
{
    mg_shdict_t *sh = get_dict_1_or_2(L);
    char *keys;
    size_t n = mg_shdict_keys(sh, get_count(L, 2, 1024), now_ms(), &keys);
    lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
    char *p = keys;
    for (size_t i = 0; i < n; i++) {
        uint16_t len;
        memcpy(&len, p, sizeof(len));
        lua_pushlstring(L, p + sizeof(len), len);
        lua_rawseti(L, -2, (int)i + 1);
        p += sizeof(len) + len;
    }
    free(keys);
    return 1;
}

static int shdict_capacity(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)mg_shdict_capacity(get_dict(L)));
    return 1;
}

static int shdict_free_space(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)mg_shdict_free_space(get_dict(L)));
    return 1;
}

static const luaL_Reg methods[] = {
    {"get", shdict_get},
    {"get_stale", shdict_get_stale},
    {"set", shdict_set},
    {"safe_set", shdict_safe_set},
    {"add", shdict_add},
    {"safe_add", shdict_safe_add},
    {"replace", shdict_replace},
    {"delete", shdict_delete},
    {"incr", shdict_incr},
    {"lpush", shdict_lpush},
    {"rpush", shdict_rpush},
    {"lpop", shdict_lpop},
    {"rpop", shdict_rpop},
    {"llen", shdict_llen},
    {"ttl", shdict_ttl},
    {"expire", shdict_expire},
    {"flush_all", shdict_flush_all},
    {"flush_expired", shdict_flush_expired},
    {"get_keys", shdict_get_keys},
    {"capacity", shdict_capacity},
    {"free_space", shdict_free_space},
    {NULL, NULL},
};

/* ---- the FFI fast paths ---- */

/* shdict_lua spells these numbers out */
_Static_assert(MG_SHDICT_NIL == 0 && MG_SHDICT_NUMBER == 1 && MG_SHDICT_BOOLEAN == 2 &&
                   MG_SHDICT_STRING == 3 && MG_SHDICT_LIST == 4,
               "value types");
_Static_assert(MG_SHDICT_OK == 0 && MG_SHDICT_NOT_FOUND == 1 && MG_SHDICT_EXISTS == 2 &&
                   MG_SHDICT_NOT_NUMBER == 3 && MG_SHDICT_NO_MEMORY == 6,
               "results");
_Static_assert(MG_SHDICT_SET == 0 && MG_SHDICT_ADD == 1 && MG_SHDICT_REPLACE == 2 &&
                   MG_SHDICT_SAFE == 4,
               "store ops");
#define FFI_HEAP_STRING 5 /* get's answer for a string handed over malloc'ed */

/* The entry points the methods of shdict_lua call through the FFI, as lua-resty-core's call
 * ngx_http_lua_ffi_shdict_*: the JIT compiles the call into the caller's trace, where a C method
 * ends it. d is a dict's zone pointer (the cdata at the dict table's [2]); the Lua side has checked
 * the key (a string of 1 to 65535 bytes) and the value, so what is left to answer needs no
 * lua_State. */
int mg_lua_ffi_shdict_get(struct mg_lua_shdict_s *d, const char *key, size_t klen, int stale_ok,
                          char *buf, size_t size, char **str, double *num, int *flags);
int mg_lua_ffi_shdict_store(struct mg_lua_shdict_s *d, int op, const char *key, size_t klen,
                            int type, const char *str, size_t len, double num, double exptime,
                            double flags, int *forcible);
int mg_lua_ffi_shdict_incr(struct mg_lua_shdict_s *d, const char *key, size_t klen, double by,
                           int has_init, double init, double init_ttl, double *result,
                           int *forcible);
void mg_lua_ffi_shdict_free(char *str);
int mg_lua_ffi_shdict_ttl(struct mg_lua_shdict_s *d, const char *key, size_t klen, double *secs);
int mg_lua_ffi_shdict_expire(struct mg_lua_shdict_s *d, const char *key, size_t klen,
                             double exptime);

/* The value's type: MG_SHDICT_NUMBER or _BOOLEAN with the value in *num; _STRING copied into
 * buf, or FFI_HEAP_STRING for one longer than size in *str, malloc'ed, for
 * mg_lua_ffi_shdict_free, either with its length in *num; flags[0] the flags, flags[1] 1 when
 * stale. 0 for none (nil), -1 for a list ("value is a list"). */
int mg_lua_ffi_shdict_get(struct mg_lua_shdict_s *d, const char *key, size_t klen, int stale_ok,
                          char *buf, size_t size, char **str, double *num, int *flags)
{
    mg_shdict_out_t out;
    int rc = mg_shdict_get(d->sh, key, klen, now_ms(), stale_ok, &out);
    if (rc != MG_SHDICT_OK) {
        return rc == MG_SHDICT_IS_LIST ? -1 : 0;
    }
    flags[0] = out.flags;
    flags[1] = out.stale;
    if (out.v.type != MG_SHDICT_STRING) {
        *num = out.v.num;
        return out.v.type;
    }
    *num = (double)out.v.len;
    if (out.heap == NULL && out.v.len <= size) {
        memcpy(buf, out.v.str, out.v.len);
        return MG_SHDICT_STRING;
    }
    /* the store's malloc'ed copy, handed over, or one of the inline copy (a buf smaller) */
    *str = out.heap ? out.heap : memcpy(mg_alloc(out.v.len), out.v.str, out.v.len);
    return FFI_HEAP_STRING;
}

void mg_lua_ffi_shdict_free(char *str)
{
    free(str);
}

/* do_store past its argument checks: type is MG_SHDICT_* (NIL deletes), a boolean in num; exptime
 * in seconds (>= 0), flags a number as do_store takes it. MG_SHDICT_OK or the store's error. */
int mg_lua_ffi_shdict_store(struct mg_lua_shdict_s *d, int op, const char *key, size_t klen,
                            int type, const char *str, size_t len, double num, double exptime,
                            double flags, int *forcible)
{
    mg_shdict_value_t v = {.type = type, .num = num, .str = str, .len = len};
    *forcible = 0;
    return mg_shdict_store(d->sh, op, key, klen, &v, exptime > 0 ? to_msec(exptime) : 0,
                           to_flags(flags), now_ms(), forcible);
}

/* shdict_incr past its argument checks (init_ttl >= 0, 0 without init). MG_SHDICT_OK with
 * *result, or the store's error. */
int mg_lua_ffi_shdict_incr(struct mg_lua_shdict_s *d, const char *key, size_t klen, double by,
                           int has_init, double init, double init_ttl, double *result,
                           int *forcible)
{
    *forcible = 0;
    return mg_shdict_incr(d->sh, key, klen, by, has_init ? &init : NULL,
                          init_ttl > 0 ? to_msec(init_ttl) : 0, now_ms(), result, forcible);
}

/* MG_SHDICT_OK with the seconds left in *secs (0: no expiry), or MG_SHDICT_NOT_FOUND */
int mg_lua_ffi_shdict_ttl(struct mg_lua_shdict_s *d, const char *key, size_t klen, double *secs)
{
    int64_t ms = 0;
    int rc = mg_shdict_ttl(d->sh, key, klen, now_ms(), &ms);
    *secs = (double)ms / 1000;
    return rc;
}

/* shdict_expire past its argument checks: MG_SHDICT_OK or MG_SHDICT_NOT_FOUND */
int mg_lua_ffi_shdict_expire(struct mg_lua_shdict_s *d, const char *key, size_t klen,
                             double exptime)
{
    return mg_shdict_expire(d->sh, key, klen, exptime > 0 ? to_msec(exptime) : 0, now_ms());
}

/* Run with (the methods table); returns the maker of a dict table's [2] (below). Where ffi.C finds
 * the functions above (not in a program linked without its symbols exported: tools/docgen, an
 * embedding) and the JIT is on, get, get_stale, set, safe_set, add, safe_add, replace, delete,
 * incr, ttl and expire become Lua functions calling them. What they do not take (self not a dict
 * table, a key not a string or number of 1 to 65535 bytes, another value, exptime, flags or init
 * type, add or replace of nil) goes to the C method in a tail call, which answers or raises as
 * before, naming the caller's line. */
static const char shdict_lua[] =
    "local methods = ...\n"
    "if not (jit and jit.status()) then return end -- an FFI call costs more interpreted\n"
    "local ffi = require 'ffi'\n"
    "ffi.cdef[[\n"
    "struct mg_lua_shdict_s;\n"
    "int mg_lua_ffi_shdict_get(struct mg_lua_shdict_s *d, const char *key, size_t klen,\n"
    "    int stale_ok, char *buf, size_t size, char **str, double *num, int *flags);\n"
    "int mg_lua_ffi_shdict_store(struct mg_lua_shdict_s *d, int op, const char *key,\n"
    "    size_t klen, int type, const char *str, size_t len, double num, double exptime,\n"
    "    double flags, int *forcible);\n"
    "int mg_lua_ffi_shdict_incr(struct mg_lua_shdict_s *d, const char *key, size_t klen,\n"
    "    double by, int has_init, double init, double init_ttl, double *result,\n"
    "    int *forcible);\n"
    "void mg_lua_ffi_shdict_free(char *str);\n"
    "int mg_lua_ffi_shdict_ttl(struct mg_lua_shdict_s *d, const char *key, size_t klen,\n"
    "    double *secs);\n"
    "int mg_lua_ffi_shdict_expire(struct mg_lua_shdict_s *d, const char *key, size_t klen,\n"
    "    double exptime);\n"
    "]]\n"
    "local C, ffi_string, type, rawget, tostring = ffi.C, ffi.string, type, rawget, tostring\n"
    "local ct = ffi.typeof('struct mg_lua_shdict_s *')\n"
    "local ok, get = pcall(function() return C.mg_lua_ffi_shdict_get end)\n"
    "if not ok then return end\n"
    "local store, incr, free = C.mg_lua_ffi_shdict_store, C.mg_lua_ffi_shdict_incr,\n"
    "    C.mg_lua_ffi_shdict_free\n"
    "local ttl, expire = C.mg_lua_ffi_shdict_ttl, C.mg_lua_ffi_shdict_expire\n"
    "local SIZE = 4096\n"
    "local buf, str = ffi.new('char[?]', SIZE), ffi.new('char *[1]')\n"
    "local num, ints = ffi.new('double[1]'), ffi.new('int[2]')\n"
    "local errors = { [1] = 'not found', [2] = 'exists', [3] = 'not a number',\n"
    "    [6] = 'no memory' }\n"
    "-- self's zone pointer (a cdata at [2]: the JIT does not convert the lightuserdata at [1])\n"
    "-- and the key as a string (a number's as lua_tolstring makes it) when self is a dict\n"
    "-- table and key a string or number of 1 to 65535 bytes, else nil\n"
    "local function zone_key(self, key)\n"
    "    if type(self) == 'table' then\n"
    "        local t = type(key)\n"
    "        if t == 'number' then key = tostring(key) elseif t ~= 'string' then return end\n"
    "        local zone, n = rawget(self, 2), #key\n"
    "        if type(zone) == 'cdata' and n > 0 and n <= 65535 then return zone, key end\n"
    "    end\n"
    "end\n"
    "-- the value of a get whose answer rc was a value type\n"
    "local function value(rc)\n"
    "    if rc == 3 then return ffi_string(buf, num[0]) end\n"
    "    if rc == 1 then return num[0] end\n"
    "    if rc == 2 then return num[0] ~= 0 end\n"
    "    local s = ffi_string(str[0], num[0])\n"
    "    free(str[0])\n"
    "    return s\n"
    "end\n"
    "local cget, cget_stale = methods.get, methods.get_stale\n"
    "methods.get = function(self, key)\n"
    "    local zone, k = zone_key(self, key)\n"
    "    if not zone then return cget(self, key) end\n"
    "    local rc = get(zone, k, #k, 0, buf, SIZE, str, num, ints)\n"
    "    if rc > 0 then\n"
    "        local v, flags = value(rc), ints[0]\n"
    "        if flags ~= 0 then return v, flags end\n"
    "        return v\n"
    "    end\n"
    "    if rc == 0 then return nil end\n"
    "    return nil, 'value is a list'\n"
    "end\n"
    "methods.get_stale = function(self, key)\n"
    "    local zone, k = zone_key(self, key)\n"
    "    if not zone then return cget_stale(self, key) end\n"
    "    local rc = get(zone, k, #k, 1, buf, SIZE, str, num, ints)\n"
    "    if rc > 0 then\n"
    "        local v, flags = value(rc), ints[0]\n"
    "        return v, flags ~= 0 and flags or nil, ints[1] ~= 0\n"
    "    end\n"
    "    if rc == 0 then return nil end\n"
    "    return nil, 'value is a list'\n"
    "end\n"
    "-- set and the others for op (shdict.h's MG_SHDICT_*: 1 add, 2 replace, 4 safe)\n"
    "local function storer(op, cstore)\n"
    "    return function(self, key, v, exptime, flags)\n"
    "        local zone, k = zone_key(self, key)\n"
    "        if zone and (exptime == nil or type(exptime) == 'number' and exptime >= 0)\n"
    "                and (flags == nil or type(flags) == 'number') then\n"
    "            local t, rc = type(v)\n"
    "            if t == 'string' then\n"
    "                rc = store(zone, op, k, #k, 3, v, #v, 0, exptime or 0, flags or 0, ints)\n"
    "            elseif t == 'number' then\n"
    "                rc = store(zone, op, k, #k, 1, nil, 0, v, exptime or 0, flags or 0,\n"
    "                           ints)\n"
    "            elseif t == 'boolean' then\n"
    "                rc = store(zone, op, k, #k, 2, nil, 0, v and 1 or 0, exptime or 0,\n"
    "                           flags or 0, ints)\n"
    "            elseif t == 'nil' and op % 4 == 0 then\n"
    "                rc = store(zone, op, k, #k, 0, nil, 0, 0, 0, 0, ints)\n"
    "            end\n"
    "            if rc == 0 then return true, nil, ints[0] ~= 0 end\n"
    "            if rc then return false, errors[rc], ints[0] ~= 0 end\n"
    "        end\n"
    "        return cstore(self, key, v, exptime, flags)\n"
    "    end\n"
    "end\n"
    "methods.set = storer(0, methods.set)\n"
    "methods.safe_set = storer(4, methods.safe_set)\n"
    "methods.add = storer(1, methods.add)\n"
    "methods.safe_add = storer(5, methods.safe_add)\n"
    "methods.replace = storer(2, methods.replace)\n"
    "local cdelete = methods.delete\n"
    "methods.delete = function(self, key)\n"
    "    local zone, k = zone_key(self, key)\n"
    "    if not zone then return cdelete(self, key) end\n"
    "    store(zone, 0, k, #k, 0, nil, 0, 0, 0, 0, ints)\n"
    "    return true, nil, false\n"
    "end\n"
    "local cincr = methods.incr\n"
    "methods.incr = function(self, key, v, init, init_ttl)\n"
    "    local zone, k = zone_key(self, key)\n"
    "    if zone and type(v) == 'number' and (init == nil and init_ttl == nil\n"
    "            or type(init) == 'number' and (init_ttl == nil\n"
    "                or type(init_ttl) == 'number' and init_ttl >= 0)) then\n"
    "        local rc = incr(zone, k, #k, v, init and 1 or 0, init or 0, init_ttl or 0,\n"
    "                        num, ints)\n"
    "        if rc ~= 0 then return nil, errors[rc] end\n"
    "        if init == nil then return num[0] end\n"
    "        return num[0], nil, ints[0] ~= 0\n"
    "    end\n"
    "    return cincr(self, key, v, init, init_ttl)\n"
    "end\n"
    "local cttl, cexpire = methods.ttl, methods.expire\n"
    "methods.ttl = function(self, key)\n"
    "    local zone, k = zone_key(self, key)\n"
    "    if not zone then return cttl(self, key) end\n"
    "    if ttl(zone, k, #k, num) ~= 0 then return nil, 'not found' end\n"
    "    return num[0]\n"
    "end\n"
    "methods.expire = function(self, key, exptime)\n"
    "    local zone, k = zone_key(self, key)\n"
    "    if not zone or type(exptime) ~= 'number' then return cexpire(self, key, exptime) end\n"
    "    if expire(zone, k, #k, exptime) ~= 0 then return nil, 'not found' end\n"
    "    return true\n"
    "end\n"
    "return function(zone) return ffi.cast(ct, zone) end\n";

/* ngx.shared[name]: looked up in the configuration of the running code on first use, then
 * kept in ngx.shared (the VM belongs to that one generation). The VM may exist before the
 * lua_shared_dict lines are read, hence the lazy lookup. The dict is a table holding its zone
 * pointer at [1] as a lightuserdata (lua-resty-core's shape, which the C methods read) and, for
 * the FFI methods, at [2] as a cdata. */
static int shared_index(lua_State *L)
{
    mg_lua_main_conf_t *lmcf = mg_lua_cur.lmcf;
    size_t len;
    const char *name = lua_tolstring(L, 2, &len);
    if (lmcf == NULL || lua_type(L, 2) != LUA_TSTRING) {
        return 0;
    }
    struct mg_lua_shdict_s *d = lmcf->shdicts;
    while (d && !(d->name.len == len && memcmp(d->name.data, name, len) == 0)) {
        d = d->next;
    }
    if (d == NULL) {
        return 0;
    }
    lua_createtable(L, 2, 0);
    lua_pushlightuserdata(L, d);
    lua_rawseti(L, -2, 1);
    /* [2]: the same pointer as a cdata, for the FFI methods */
    lua_pushlightuserdata(L, &zone_maker_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (lua_isfunction(L, -1)) {
        lua_pushlightuserdata(L, d);
        lua_call(L, 1, 1);
        lua_rawseti(L, -2, 2);
    } else {
        lua_pop(L, 1);
    }
    lua_pushlightuserdata(L, &methods_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

void mg_lua_inject_shdict_api(lua_State *L)
{
    lua_pushlightuserdata(L, &methods_key);
    lua_createtable(L, 0, mg_nelems(methods));
    luaL_register(L, NULL, methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    if (luaL_loadbuffer(L, shdict_lua, sizeof(shdict_lua) - 1, "=ngx.shared") != 0) {
        lua_error(L); /* the chunk is ours: cannot fail */
    }
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    lua_pushlightuserdata(L, &zone_maker_key);
    lua_insert(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_rawset(L, LUA_REGISTRYINDEX);

    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, shared_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "shared");
}
