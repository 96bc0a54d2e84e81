/*
 * The LuaJIT VM of a generation: created by the first Lua directive while the configuration
 * is read (in the master, so workers inherit it, init_by_lua's work included, by fork),
 * closed with the generation's pool. Also the code cache: chunks compiled once, at config
 * time, kept in the registry; files named with variables are cached by their path.
 */
#include "api.h"
#include "embed.h"
#include "script.h"

static char file_cache_key; /* registry[&file_cache_key]: path -> compiled chunk */
static char baseline_key;   /* registry[&baseline_key]: package.loaded's names after init */

static void vm_close(void *data)
{
    mg_lua_main_conf_t *lmcf = data;
    mg_lua_co_cache_free(lmcf);
    mg_lua_output_spare_free(lmcf);
    lua_close(lmcf->L);
}

void mg_lua_preload(lua_State *L, const char *name, lua_CFunction open)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, open);
    lua_setfield(L, -2, name);
    lua_pop(L, 2);
}

lua_State *mg_lua_vm(mg_conf_t *cf, mg_lua_main_conf_t *lmcf)
{
    if (lmcf->L) {
        return lmcf->L;
    }
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        mg_conf_error(cf, 0, "failed to create the Lua VM");
        return NULL;
    }
    luaL_openlibs(L);
    mg_lua_embed_preload(cf->cycle, L); /* an embedding program's modules */
    lua_createtable(L, 0, 160);
    mg_lua_inject_core_api(L);
    mg_lua_inject_log_api(L);
    mg_lua_inject_output_api(L);
    mg_lua_inject_sleep_api(L);
    mg_lua_inject_timer_api(L);
    mg_lua_inject_coroutine_api(L);
    mg_lua_inject_arg_api(L);
    mg_lua_inject_string_api(L);
    mg_lua_inject_time_api(L);
    mg_lua_inject_regex_api(L);
    mg_lua_inject_req_api(L);
    mg_lua_inject_header_api(L);
    mg_lua_inject_var_api(L);
    mg_lua_inject_shdict_api(L);
    mg_lua_inject_socket_tcp_api(L);
    mg_lua_inject_req_socket_api(L);
    mg_lua_inject_subrequest_api(L);
    mg_lua_inject_worker_thread_api(L);
    /* require("ngx") gives the same table, as some libraries expect */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "ngx");
    lua_pop(L, 2);
    lua_setglobal(L, "ngx");
    mg_lua_ssl_preload(L);
    mg_lua_ocsp_preload(L);
    mg_lua_errlog_preload(L);
    mg_lua_process_preload(L);
    mg_lua_ngx_libs_preload(L);
    mg_lua_balancer_preload(L);
    mg_lua_semaphore_preload(L);
    mg_lua_pipe_preload(L);
    mg_lua_upstream_preload(L);
    mg_lua_inject_ndk_api(L);
    mg_lua_resty_core_preload(L); /* after ngx and ndk: resty.core runs over them */

    lua_pushlightuserdata(L, &file_cache_key);
    lua_newtable(L);
    lua_rawset(L, LUA_REGISTRYINDEX);

    lmcf->L = L;
    lmcf->cycle = cf->cycle;
    mg_pool_cleanup_add(cf->cycle->pool, vm_close, lmcf);
    return L;
}

mg_int_t mg_lua_code_compile(mg_conf_t *cf, mg_lua_main_conf_t *lmcf, mg_lua_code_t *code)
{
    lua_State *L = lmcf->L;
    if (code->path_cv) {
        return MG_OK; /* the file is known per request only */
    }
    int rc;
    if (code->is_file) {
        rc = luaL_loadfile(L, code->src.data);
    } else {
        rc = luaL_loadbuffer(L, code->src.data, code->src.len, code->chunkname);
    }
    if (rc != 0) {
        const char *msg = lua_tostring(L, -1);
        if (code->is_file) {
            mg_conf_error(cf, 0, "failed to load Lua file \"%s\": %s", code->src.data,
                          msg ? msg : "unknown error");
        } else {
            mg_conf_error(cf, 0, "failed to load inlined Lua code: %s", msg ? msg : "unknown error");
        }
        lua_pop(L, 1);
        return MG_ERROR;
    }
    code->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return MG_OK;
}

/* Load a file onto L; on failure log OpenResty's line and return MG_ERROR. */
static mg_int_t load_file(lua_State *L, mg_request_t *r, const char *path)
{
    if (luaL_loadfile(L, path) == 0) {
        return MG_OK;
    }
    mg_log_error(MG_LOG_ERR, r ? &r->connection->log : mg_lua_cur.lmcf->cycle->log, 0,
                 "failed to load external Lua file \"%s\": %s", path, lua_tostring(L, -1));
    lua_pop(L, 1);
    return MG_ERROR;
}

mg_int_t mg_lua_code_push(lua_State *L, mg_request_t *r, mg_lua_code_t *code, int cache)
{
    if (code->path_cv) {
        mg_str_t name;
        name = mg_http_complex_value(r, code->path_cv);
        if (name.len == 0) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                         "failed to get the Lua file path from \"%.*s\"",
                         (int)code->path_cv->value.len, code->path_cv->value.data);
            return MG_ERROR;
        }
        mg_str_t path = mg_full_name(r->pool, r->connection->cycle, name, 0);
        if (!cache) {
            return load_file(L, r, path.data);
        }
        lua_pushlightuserdata(L, &file_cache_key);
        lua_rawget(L, LUA_REGISTRYINDEX);
        lua_getfield(L, -1, path.data);
        if (lua_isfunction(L, -1)) {
            lua_remove(L, -2);
            return MG_OK;
        }
        lua_pop(L, 1);
        if (load_file(L, r, path.data) != MG_OK) {
            lua_pop(L, 1);
            return MG_ERROR;
        }
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, path.data);
        lua_remove(L, -2);
        return MG_OK;
    }
    if (code->is_file && !cache) {
        return load_file(L, r, code->src.data);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, code->ref);
    return MG_OK;
}

/* ";;" in a lua_package_path stands for the default path; "$prefix" for the prefix. */
static void set_package_path(lua_State *L, mg_cycle_t *cycle, mg_str_t conf, const char *field)
{
    if (conf.data == NULL) {
        return;
    }
    lua_getglobal(L, "package");
    lua_getfield(L, -1, field);
    size_t dlen;
    const char *dflt = lua_tolstring(L, -1, &dlen);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < conf.len; i++) {
        if (conf.data[i] == ';' && i + 1 < conf.len && conf.data[i + 1] == ';') {
            luaL_addchar(&b, ';');
            luaL_addlstring(&b, dflt, dlen);
            luaL_addchar(&b, ';');
            i++;
        } else if (conf.data[i] == '$' && conf.len - i >= 7 &&
                   memcmp(conf.data + i, "$prefix", 7) == 0) {
            luaL_addlstring(&b, cycle->prefix.data, cycle->prefix.len);
            i += 6;
        } else {
            luaL_addchar(&b, conf.data[i]);
        }
    }
    luaL_pushresult(&b);
    lua_setfield(L, -3, field);
    lua_pop(L, 2);
}

/* A global written from request code is shared by every request of the worker: warn, as
 * OpenResty does, with where it happened. */
static const char write_guard[] =
    "local getmetatable, setmetatable, rawset, tostring = getmetatable, setmetatable, rawset, tostring\n"
    "local log, WARN, traceback, get_phase = ngx.log, ngx.WARN, debug.traceback, ngx.get_phase\n"
    "local quiet = { init = true, init_worker = true, exit_worker = true }\n"
    "local mt = getmetatable(_G) or {}\n"
    "mt.__newindex = function(t, k, v)\n"
    "    if not quiet[get_phase()] then\n"
    "        log(WARN, \"writing a global Lua variable ('\", tostring(k), \"') which may lead to \",\n"
    "            \"race conditions between concurrent requests, so prefer the use of 'local' \",\n"
    "            \"variables\", traceback('', 2))\n"
    "    end\n"
    "    rawset(t, k, v)\n"
    "end\n"
    "setmetatable(_G, mt)\n";

mg_int_t mg_lua_vm_ready(mg_conf_t *cf, mg_lua_main_conf_t *lmcf)
{
    lua_State *L = lmcf->L;
    set_package_path(L, cf->cycle, lmcf->package_path, "path");
    set_package_path(L, cf->cycle, lmcf->package_cpath, "cpath");
    if (lmcf->init) {
        int top = lua_gettop(L);
        mg_lua_current_t saved = mg_lua_cur;
        mg_lua_cur = (mg_lua_current_t){.phase = MG_LUA_INIT, .lmcf = lmcf};
        lua_pushcfunction(L, mg_lua_add_traceback);
        mg_lua_code_push(L, NULL, lmcf->init, 1);
        int rc = lua_pcall(L, 0, 0, top + 1);
        mg_lua_cur = saved;
        if (rc != 0) {
            /* as lua-nginx-module: at error level, with the traceback; the start fails */
            const char *msg = lua_tostring(L, -1);
            mg_conf_log(cf, MG_LOG_ERR | MG_LOG_LINES, 0, "init_by_lua error: %s",
                        msg ? msg : "unknown error");
            lua_settop(L, top);
            return MG_ERROR;
        }
        lua_settop(L, top);
    }
    /* the modules loaded by now stay loaded even where lua_code_cache is off */
    lua_pushlightuserdata(L, &baseline_key);
    lua_newtable(L);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_remove(L, -2);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 1);
        lua_rawset(L, -5);
    }
    lua_pop(L, 1);
    lua_rawset(L, LUA_REGISTRYINDEX);
    if (luaL_loadbuffer(L, write_guard, sizeof(write_guard) - 1, "=_G write guard") != 0 ||
        lua_pcall(L, 0, 0, 0) != 0) {
        mg_conf_error(cf, 0, "lua: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return MG_ERROR;
    }
    return MG_OK;
}

void mg_lua_forget_modules(lua_State *L)
{
    lua_pushlightuserdata(L, &baseline_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_remove(L, -2);
    /* keys are removed after the walk: lua_next must not see its table change */
    lua_newtable(L);
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawget(L, -5);
        int keep = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (!keep) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, -3, ++n);
        }
    }
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        lua_pushnil(L);
        lua_rawset(L, -4);
    }
    lua_pop(L, 3);
}
