/*
 * tcpsock:bind(ip) and udpsock:bind(ip) (lua-nginx-module's: the local address the next
 * connect or setpeername binds to before it connects; a bind that fails then is that call's
 * error, logged at crit as nginx's "bind(ADDR) failed"), and tcpsock:getfd().
 */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "socket_tcp.h"

/* The bind(ip) argument at index 2 into *local: 1, or 0 with nil, "bad address" pushed. */
static int parse_local(lua_State *L, mg_lua_local_addr_t *local)
{
    if (lua_gettop(L) != 2) {
        luaL_error(L, "expecting 2 arguments, but got %d", lua_gettop(L));
    }
    size_t len;
    const char *ip = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&local->sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&local->sa;
    memset(local, 0, sizeof(*local));
    if (ip && len < sizeof(local->text) && inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        local->len = sizeof(*in4);
    } else if (ip && len < sizeof(local->text) && inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        local->len = sizeof(*in6);
    } else {
        lua_pushnil(L);
        lua_pushliteral(L, "bad address");
        return 0;
    }
    memcpy(local->text, ip, len + 1);
    return 1;
}

int mg_lua_socket_bind_local(const mg_lua_local_addr_t *local, int fd, mg_log_t *log)
{
    if (local == NULL || local->len == 0 ||
        bind(fd, (const struct sockaddr *)&local->sa, local->len) == 0) {
        return 0;
    }
    int err = errno;
    mg_log_error(MG_LOG_CRIT, log, err, "bind(%s) failed", local->text);
    errno = err;
    return -1;
}

static int tcp_bind(lua_State *L)
{
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    mg_lua_local_addr_t local;
    if (!parse_local(L, &local)) {
        return 2;
    }
    free(s->local);
    s->local = mg_alloc(sizeof(local));
    *s->local = local;
    lua_pushboolean(L, 1);
    return 1;
}

static int tcp_getfd(lua_State *L)
{
    if (lua_gettop(L) != 1) {
        return luaL_error(L, "expecting 1 argument (including the object), but got %d",
                          lua_gettop(L));
    }
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    if (s->fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    lua_pushinteger(L, s->fd);
    return 1;
}

void mg_lua_tcp_bind_methods(lua_State *L)
{
    lua_pushcfunction(L, tcp_bind);
    lua_setfield(L, -2, "bind");
    lua_pushcfunction(L, tcp_getfd);
    lua_setfield(L, -2, "getfd");
}

int mg_lua_udp_parse_bind(lua_State *L, mg_lua_local_addr_t *local)
{
    return parse_local(L, local);
}
