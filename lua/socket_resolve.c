/*
 * Cosockets connecting to names through the `resolver` of the context (the request's
 * location, or http{} for a timer; a stream session's server{}, or stream{}), as lua-nginx-module
 * does: tcpsock:connect and udpsock:setpeername are wrapped in Lua so that a name no local source
 * knows (an IP literal, "localhost" and /etc/hosts come first) is resolved before the C method runs
 * with one of its addresses, chosen at random. A tcp connection's pool keeps the name
 * ("host:port"), as lua-nginx-module's does. Without a resolver the C method answers as before ("no
 * resolver defined to resolve").
 */
#include <arpa/inet.h>

#include "resolver.h"
#include "server.h"
#include "socket_tcp.h"
#include "stream.h"

/* The stream context's: the session's server{}, or for a timer the stream{} level. */
static mg_resolver_t *stream_resolver(mg_lua_ctx_t *ctx, mg_msec_t *timeout)
{
    mg_stream_srv_conf_t *cscf =
        ctx->s ? mg_stream_get_srv_conf(ctx->s, mg_stream_core_module)
               : ctx->lmcf->cycle->stream->srv_conf[mg_stream_core_module.index];
    if (timeout) {
        *timeout = cscf->resolver_timeout == MG_CONF_UNSET ? 30000 : cscf->resolver_timeout;
    }
    return cscf->resolver == MG_CONF_UNSET_PTR ? NULL : cscf->resolver;
}

/* The context's resolver and resolver_timeout: the request's location, or for a timer the
 * http{} level (not merged: unset values are the defaults); in stream{} the server's. */
static mg_resolver_t *ctx_resolver(mg_lua_ctx_t *ctx, mg_msec_t *timeout)
{
    if (ctx->lmcf->stream) {
        return stream_resolver(ctx, timeout);
    }
    mg_http_loc_conf_t *clcf = ctx->r ? mg_http_get_loc_conf(ctx->r, mg_http_core_module)
                                      : ctx->lmcf->cycle->http->loc_conf[mg_http_core_module.index];
    if (timeout) {
        *timeout = clcf->resolver_timeout == MG_CONF_UNSET ? 30000 : clcf->resolver_timeout;
    }
    return clcf->resolver == MG_CONF_UNSET_PTR ? NULL : clcf->resolver;
}

int mg_lua_socket_need_resolve(lua_State *L)
{
    size_t hlen;
    const char *host = luaL_checklstring(L, 1, &hlen);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    if (ctx == NULL || (hlen >= 5 && memcmp(host, "unix:", 5) == 0) ||
        ctx_resolver(ctx, NULL) == NULL) {
        lua_pushboolean(L, 0);
        return 1;
    }
    struct sockaddr_storage sa;
    socklen_t len;
    int top = lua_gettop(L);
    int unknown = 0;
    if (mg_lua_socket_parse_peer(L, &sa, &len, host, hlen, 0) != 0) {
        size_t ml;
        const char *m = lua_tolstring(L, -1, &ml);
        unknown = m && ml > 11 && memcmp(m, "no resolver", 11) == 0;
    }
    lua_settop(L, top);
    lua_pushboolean(L, unknown);
    return 1;
}

static void on_answer(mg_resolve_t *rs)
{
    mg_lua_co_t *co = rs->data;
    co->resolve = NULL;
    mg_time_update();
    if (rs->state) {
        lua_pushnil(co->L);
        lua_pushfstring(co->L, "%s could not be resolved (%d: %s)", rs->name.data, rs->state,
                        mg_resolve_strerror(rs->state));
        mg_lua_resume_co(co, 2);
        return;
    }
    struct sockaddr_storage *ss = &rs->addrs[rs->naddrs > 1 ? (size_t)random() % rs->naddrs : 0];
    char text[INET6_ADDRSTRLEN + 2];
    if (ss->ss_family == AF_INET6) {
        text[0] = '[';
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ss)->sin6_addr, text + 1, INET6_ADDRSTRLEN);
        strcat(text, "]");
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr, text, sizeof(text));
    }
    lua_pushstring(co->L, text);
    mg_lua_resume_co(co, 1);
}

int mg_lua_socket_resolve(lua_State *L)
{
    size_t hlen;
    const char *host = luaL_checklstring(L, 1, &hlen);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    mg_lua_co_t *co = mg_lua_cur.co;
    if (ctx == NULL || co == NULL) {
        return luaL_error(L, "no request ctx found");
    }
    mg_msec_t timeout;
    mg_resolver_t *res = ctx_resolver(ctx, &timeout);
    mg_str_t name = {hlen, (char *)host};
    co->resolve = mg_resolve_name(ctx->lmcf->cycle->server, res, name, timeout, on_answer, co);
    return mg_lua_wait(L, ctx);
}

static const char wrapper[] =
    "local raw, need, resolve, tcp = ...\n"
    "local type, pairs, tostring = type, pairs, tostring\n"
    "return function(self, ...)\n"
    "    local host, port, opts = ...\n"
    "    if type(host) ~= 'string' or type(port) ~= 'number' or not need(host) then\n"
    "        return raw(self, ...)\n"
    "    end\n"
    "    local addr, err = resolve(host)\n"
    "    if not addr then\n"
    "        return nil, err\n"
    "    end\n"
    "    if not tcp then\n"
    "        return raw(self, addr, port)\n"
    "    end\n"
    "    if opts == nil or type(opts) == 'table' and opts.pool == nil then\n"
    "        local o = {}\n"
    "        if opts then\n"
    "            for k, v in pairs(opts) do o[k] = v end\n"
    "        end\n"
    "        o.pool = host .. ':' .. tostring(port)\n"
    "        opts = o\n"
    "    end\n"
    "    return raw(self, addr, port, opts)\n"
    "end\n";

void mg_lua_socket_resolve_wrap(lua_State *L, const char *method, int tcp)
{
    if (luaL_loadbuffer(L, wrapper, sizeof(wrapper) - 1, "=ngx.socket.resolve") != 0) {
        lua_error(L);
    }
    lua_getfield(L, -2, method);
    lua_pushcfunction(L, mg_lua_socket_need_resolve);
    lua_pushcfunction(L, mg_lua_socket_resolve);
    lua_pushboolean(L, tcp);
    lua_call(L, 4, 1);
    lua_setfield(L, -2, method);
}

void mg_lua_socket_resolve_cancel(mg_lua_co_t *co)
{
    mg_resolve_cancel(co->resolve);
    co->resolve = NULL;
}
