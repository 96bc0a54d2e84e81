/*
 * set_by_lua, set_by_lua_block, set_by_lua_file: a "set" whose value is what Lua code returns.
 * The rewrite module runs it in order with its own set/if/return (a hook in modules/rewrite.c,
 * so core/ and modules/ know nothing of Lua); the arguments, with their variables evaluated,
 * are ngx.arg[1..n] (filter.c's ngx.arg asks mg_lua_set_arg).
 */
#include "api.h"
#include "rewrite.h"
#include "script.h"


typedef struct {
    mg_lua_code_t *code;
    mg_http_complex_value_t *args;
    size_t nargs;
} set_op_t;

/* The arguments of the set_by_lua running now. */
static MG_THREAD_LOCAL mg_str_t *cur_args;
static MG_THREAD_LOCAL size_t cur_nargs;

int mg_lua_set_arg(lua_State *L, lua_Integer n)
{
    if (n < 1 || (size_t)n > cur_nargs) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, cur_args[n - 1].data, cur_args[n - 1].len);
    }
    return 1;
}

static mg_int_t set_value(mg_request_t *r, void *data, mg_str_t *value)
{
    set_op_t *op = data;
    mg_str_t *args = op->nargs ? mg_palloc(r->pool, op->nargs * sizeof(mg_str_t)) : NULL;
    for (size_t i = 0; i < op->nargs; i++) {
        args[i] = mg_http_complex_value(r, &op->args[i]);
    }
    mg_lua_main_conf_t *lmcf = mg_http_get_main_conf(r, mg_lua_module);
    lua_State *L = lmcf->L;
    int top = lua_gettop(L);
    mg_str_t *saved = cur_args;
    size_t saved_n = cur_nargs;
    cur_args = args;
    cur_nargs = op->nargs;
    mg_int_t rc = mg_lua_call(lmcf, r, op->code, MG_LUA_SET, 0, 1);
    cur_args = saved;
    cur_nargs = saved_n;
    if (rc != MG_OK) {
        lua_settop(L, top);
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    /* a string or a number; anything else (nil, a boolean, a table) sets "" as OpenResty */
    *value = (mg_str_t)mg_string("");
    int t = lua_type(L, -1);
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        *value = mg_pstr(r->pool, s, len);
    }
    lua_settop(L, top);
    return MG_OK;
}

const char *mg_lua_set_add(mg_conf_t *cf, mg_str_t var, mg_lua_code_t *code, mg_str_t *args,
                           size_t nargs)
{
    set_op_t *op = mg_pcalloc(cf->pool, sizeof(set_op_t));
    op->code = code;
    op->nargs = nargs;
    if (nargs) {
        op->args = mg_pcalloc(cf->pool, nargs * sizeof(mg_http_complex_value_t));
    }
    for (size_t i = 0; i < nargs; i++) {
        if (mg_http_compile_complex_value(cf, args[i], &op->args[i]) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    if (mg_http_rewrite_add_set(cf, var, set_value, op) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}
