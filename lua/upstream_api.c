/*
 * require "ngx.upstream": lua-upstream-nginx-module's API over the upstream{} groups of the
 * generation (modules/upstream.c), so that lua-resty-upstream-healthcheck and status pages
 * written for OpenResty run unchanged: get_upstreams, get_servers, get_primary_peers,
 * get_backup_peers, set_peer_down, current_upstream_name. Peer numbers are those of the
 * calling worker (its copy of the zone's, with a zone); set_peer_down marks the peer in this
 * worker only, as lua-upstream does without a zone (the healthcheck library tells the other
 * workers through its shared dict).
 */
#include <lauxlib.h>
#include <lua.h>

#include "api.h"
#include "upstream.h"
#include "upstream_io.h"

static void *main_conf(void)
{
    mg_lua_main_conf_t *lmcf = mg_lua_cur.lmcf;
    if (lmcf == NULL || lmcf->cycle == NULL || lmcf->cycle->http == NULL) {
        return NULL;
    }
    return lmcf->cycle->http->main_conf[mg_upstream_module.index];
}

static mg_upstream_group_t *find(lua_State *L, int arg)
{
    size_t len;
    const char *name = luaL_checklstring(L, arg, &len);
    void *umcf = main_conf();
    if (umcf == NULL) {
        return NULL;
    }
    return mg_upstream_group_in(umcf, (mg_str_t){len, (char *)name});
}

/* upstream{} blocks only: the groups proxy_pass makes for host:port are left out */
static int get_upstreams(lua_State *L)
{
    void *umcf = main_conf();
    lua_newtable(L);
    mg_upstream_group_t *g;
    int n = 0;
    for (size_t i = 0; umcf && (g = mg_upstream_group_at(umcf, i)); i++) {
        if (!g->implicit) {
            lua_pushlstring(L, g->name.data, g->name.len);
            lua_rawseti(L, -2, ++n);
        }
    }
    return 1;
}

static int not_found(lua_State *L)
{
    lua_pushnil(L);
    lua_pushliteral(L, "upstream not found");
    return 2;
}

/* One table per "server" line: its addresses (a string, or a list when the name gave several)
 * and its parameters. */
static int get_servers(lua_State *L)
{
    mg_upstream_group_t *g = find(L, 1);
    if (g == NULL) {
        return not_found(L);
    }
    lua_newtable(L);
    int n = 0;
    mg_array_t *lists[2] = {&g->peers, &g->backup};
    for (int l = 0; l < 2; l++) {
        mg_upstream_peer_t *p = lists[l]->elts;
        for (size_t i = 0; i < lists[l]->nelts;) {
            size_t j = i + 1;
            while (j < lists[l]->nelts && p[j].server.len &&
                   mg_str_eq_str(p[j].server, p[i].server)) {
                j++;
            }
            if (p[i].name.len == 0) { /* a "resolve" slot without an address */
                i = j;
                continue;
            }
            lua_createtable(L, 0, 7);
            if (j - i == 1) {
                lua_pushlstring(L, p[i].name.data, p[i].name.len);
            } else {
                lua_createtable(L, (int)(j - i), 0);
                for (size_t k = i; k < j; k++) {
                    lua_pushlstring(L, p[k].name.data, p[k].name.len);
                    lua_rawseti(L, -2, (int)(k - i + 1));
                }
            }
            lua_setfield(L, -2, "addr");
            lua_pushlstring(L, p[i].server.data, p[i].server.len);
            lua_setfield(L, -2, "name");
            lua_pushinteger(L, (lua_Integer)p[i].weight);
            lua_setfield(L, -2, "weight");
            lua_pushinteger(L, (lua_Integer)p[i].max_fails);
            lua_setfield(L, -2, "max_fails");
            lua_pushinteger(L, (lua_Integer)(p[i].fail_timeout / 1000));
            lua_setfield(L, -2, "fail_timeout");
            if (l == 1) {
                lua_pushboolean(L, 1);
                lua_setfield(L, -2, "backup");
            }
            if (p[i].down) {
                lua_pushboolean(L, 1);
                lua_setfield(L, -2, "down");
            }
            lua_rawseti(L, -2, ++n);
            i = j;
        }
    }
    return 1;
}

/* a monotonic time of the peer's as seconds since the Epoch */
static lua_Integer wall(mg_msec_t t)
{
    return (lua_Integer)(mg_now.sec - (time_t)((mg_now.monotonic - t) / 1000));
}

static int push_peers(lua_State *L, int backup)
{
    mg_upstream_group_t *g = find(L, 1);
    if (g == NULL) {
        return not_found(L);
    }
    mg_array_t *list = backup ? &g->backup : &g->peers;
    mg_upstream_peer_t *p = list->elts;
    lua_createtable(L, (int)list->nelts, 0);
    for (size_t i = 0; i < list->nelts; i++) {
        lua_createtable(L, 0, 12);
        lua_pushinteger(L, (lua_Integer)i);
        lua_setfield(L, -2, "id");
        lua_pushlstring(L, p[i].name.data, p[i].name.len);
        lua_setfield(L, -2, "name");
        static const struct {
            const char *key;
            size_t off;
        } ints[] = {
            {"weight", offsetof(mg_upstream_peer_t, weight)},
            {"current_weight", offsetof(mg_upstream_peer_t, current_weight)},
            {"effective_weight", offsetof(mg_upstream_peer_t, effective_weight)},
            {"max_fails", offsetof(mg_upstream_peer_t, max_fails)},
        };
        for (size_t k = 0; k < mg_nelems(ints); k++) {
            lua_pushinteger(L, (lua_Integer) * (mg_int_t *)((char *)&p[i] + ints[k].off));
            lua_setfield(L, -2, ints[k].key);
        }
        lua_pushinteger(L, (lua_Integer)p[i].conns);
        lua_setfield(L, -2, "conns");
        lua_pushinteger(L, (lua_Integer)p[i].fails);
        lua_setfield(L, -2, "fails");
        lua_pushinteger(L, (lua_Integer)(p[i].fail_timeout / 1000));
        lua_setfield(L, -2, "fail_timeout");
        if (p[i].accessed) {
            lua_pushinteger(L, wall(p[i].accessed));
            lua_setfield(L, -2, "accessed");
        }
        if (p[i].checked) {
            lua_pushinteger(L, wall(p[i].checked));
            lua_setfield(L, -2, "checked");
        }
        if (p[i].down) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "down");
        }
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

static int get_primary_peers(lua_State *L)
{
    return push_peers(L, 0);
}

static int get_backup_peers(lua_State *L)
{
    return push_peers(L, 1);
}

/* set_peer_down(upstream, is_backup, id, down) */
static int set_peer_down(lua_State *L)
{
    if (lua_gettop(L) != 4) {
        return luaL_error(L, "exactly 4 arguments expected");
    }
    mg_upstream_group_t *g = find(L, 1);
    if (g == NULL) {
        return not_found(L);
    }
    mg_array_t *list = lua_toboolean(L, 2) ? &g->backup : &g->peers;
    lua_Integer id = luaL_checkinteger(L, 3);
    if (id < 0 || (size_t)id >= list->nelts) {
        lua_pushnil(L);
        lua_pushliteral(L, "bad peer id");
        return 2;
    }
    ((mg_upstream_peer_t *)list->elts)[id].down = lua_toboolean(L, 4) ? 1 : 0;
    lua_pushboolean(L, 1);
    return 1;
}

/* the group of the request's upstream exchange: nil before proxy_pass starts one */
static int current_upstream_name(lua_State *L)
{
    mg_request_t *r = mg_lua_request(L);
    mg_upstream_t *u = r->upstream;
    if (u == NULL || u->group == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, u->group->name.data, u->group->name.len);
    return 1;
}

static int open_upstream(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"get_upstreams", get_upstreams},
        {"get_servers", get_servers},
        {"get_primary_peers", get_primary_peers},
        {"get_backup_peers", get_backup_peers},
        {"set_peer_down", set_peer_down},
        {"current_upstream_name", current_upstream_name},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 7);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_pushliteral(L, "0.07");
    lua_setfield(L, -2, "_VERSION");
    return 1;
}

void mg_lua_upstream_preload(lua_State *L)
{
    mg_lua_preload(L, "ngx.upstream", open_upstream);
}
