/*
 * header_filter_by_lua and body_filter_by_lua: the lua module's places in the filter chains
 * (after not_modified, before add_header: nginx's order for an addon filter module).
 */
#include "api.h"

static mg_http_header_filter_pt next_header_filter;

static mg_int_t lua_header_filter(mg_request_t *r)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    if (llcf->header_filter == NULL) {
        return next_header_filter(r);
    }
    mg_lua_main_conf_t *lmcf = mg_http_get_main_conf(r, mg_lua_module);
    int top = lua_gettop(lmcf->L);
    mg_int_t rc = mg_lua_call(lmcf, r, llcf->header_filter, MG_LUA_HEADER_FILTER, 0, 0);
    lua_settop(lmcf->L, top);
    if (rc == MG_ERROR || (rc == MG_DONE && mg_lua_get_ctx(r)->exit_code == MG_ERROR)) {
        return MG_ERROR;
    }
    return next_header_filter(r);
}

void mg_lua_filters_init(void)
{
    next_header_filter = mg_http_top_header_filter;
    mg_http_top_header_filter = lua_header_filter;
}
