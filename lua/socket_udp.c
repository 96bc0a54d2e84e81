/*
 * ngx.socket.udp: a connected datagram socket (an IP peer or "unix:/path") driven from Lua:
 * setpeername, send, receive, settimeout, close. A send never waits (the datagram goes whole
 * or fails); receive waits on the event loop under the read timeout, its coroutine yielded.
 * A socket belongs to the request or timer that named its peer: when that ends, the socket is
 * closed and its wait cancelled. Return values and log lines are lua-nginx-module 0.10.23's,
 * checked against Debian's nginx.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "socket_tcp.h"

/* where code may wait for a socket: as lua-nginx-module, also in the handshake's hooks */
#define UDP_PHASES MG_LUA_YIELDABLE
#define UDP_MAX_DATAGRAM 65536 /* what receive() takes at most, as lua-nginx-module */

typedef struct {
    int fd;                  /* -1: no peer */
    mg_lua_ctx_t *ctx;       /* the request or timer that named the peer */
    mg_lua_loc_conf_t *conf; /* its lua_socket_* settings */
    mg_msec_t read_timeout;  /* settimeout; 0: lua_socket_read_timeout */
    struct event rev;
    mg_lua_co_t *read_co;
    size_t rsize;
    unsigned reading : 1;
    unsigned connected : 1; /* had a peer once (the closed-socket log line shows it) */
    mg_lua_local_addr_t local; /* bind(ip); len 0: none */
} udp_t;

/* registry[&owners_key] = { [ctx] = { [socket object] = true } }: what each request or timer
 * must close when it ends; it also keeps a socket that waits alive. */
static char owners_key;

static mg_log_t *udp_log(udp_t *u)
{
    if (u->ctx == NULL) {
        return mg_lua_log();
    }
    return u->ctx->r     ? &u->ctx->r->connection->log
           : u->ctx->log ? u->ctx->log
                         : u->ctx->lmcf->cycle->log;
}

static int log_errors_now(udp_t *u)
{
    if (u && u->conf) {
        return u->conf->socket_log_errors;
    }
    return mg_lua_cur.ctx ? mg_lua_ctx_conf(mg_lua_cur.ctx)->socket_log_errors : 1;
}

static void udp_close(udp_t *u)
{
    if (u->reading) {
        event_del(&u->rev);
        u->reading = 0;
    }
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
}

static void owner_done(void *data)
{
    mg_lua_socket_udp_ctx_done(data);
}

/* The ctx's table of sockets pushed (created when `create`), or nothing and 0. */
static int push_owned(lua_State *L, mg_lua_ctx_t *ctx, int create)
{
    lua_pushlightuserdata(L, &owners_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        if (!create) {
            return 0;
        }
        lua_newtable(L);
        lua_pushlightuserdata(L, &owners_key);
        lua_pushvalue(L, -2);
        lua_rawset(L, LUA_REGISTRYINDEX);
    }
    lua_pushlightuserdata(L, ctx);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        if (!create) {
            lua_pop(L, 1);
            return 0;
        }
        lua_newtable(L);
        lua_pushlightuserdata(L, ctx);
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
        if (ctx->r) {
            /* registered after the context's own cleanup, so it runs first: the waits are
             * cancelled before the coroutines are freed */
            mg_pool_cleanup_add(ctx->r->pool, owner_done, ctx);
        }
    }
    lua_remove(L, -2);
    return 1;
}

static void own(lua_State *L, udp_t *u, mg_lua_ctx_t *ctx, int obj)
{
    push_owned(L, ctx, 1);
    lua_pushvalue(L, obj);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    u->ctx = ctx;
}

static void disown(lua_State *L, udp_t *u, int obj)
{
    if (u->ctx && push_owned(L, u->ctx, 0)) {
        lua_pushvalue(L, obj);
        lua_pushnil(L);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    }
    u->ctx = NULL;
}

void mg_lua_socket_udp_ctx_done(mg_lua_ctx_t *ctx)
{
    lua_State *L = ctx->lmcf->L;
    if (!push_owned(L, ctx, 0)) {
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_rawgeti(L, -1, 1);
        udp_t *u = lua_touserdata(L, -1);
        lua_pop(L, 1);
        if (u && u->ctx == ctx) {
            udp_close(u); /* nothing may resume the coroutines about to be freed */
            u->read_co = NULL;
            u->ctx = NULL;
        }
    }
    lua_pop(L, 1);
    lua_pushlightuserdata(L, &owners_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushlightuserdata(L, ctx);
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* ---- the object ---- */

static udp_t *udp_get(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 1);
    udp_t *u = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (u == NULL) {
        luaL_error(L, "socket is never created nor connected");
    }
    return u;
}

/* What may wait must run in a coroutine of a request or timer. */
static mg_lua_ctx_t *udp_ctx(lua_State *L)
{
    mg_lua_check_phase(L, UDP_PHASES);
    if (mg_lua_cur.ctx == NULL || mg_lua_cur.co == NULL || mg_lua_event_base() == NULL) {
        luaL_error(L, "no request ctx found");
    }
    return mg_lua_cur.ctx;
}

static int push_closed(lua_State *L, udp_t *u, const char *what)
{
    if (log_errors_now(u)) {
        mg_log_error(MG_LOG_ERR, mg_lua_log(), 0,
                     "attempt to %s data on a closed socket: u:%016" PRIXPTR ", c:%016" PRIXPTR,
                     what, u->connected ? (uintptr_t)u : 0, (uintptr_t)0);
    }
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
}

static int udp_gc(lua_State *L)
{
    udp_t *u = lua_touserdata(L, 1);
    if (u) {
        udp_close(u);
    }
    return 0;
}

/* upvalues: the object's metatable, the userdata's metatable */
static int udp_new(lua_State *L)
{
    if (lua_gettop(L) != 0) {
        return luaL_error(L, "expecting zero arguments, but got %d", lua_gettop(L));
    }
    mg_lua_check_phase(L, UDP_PHASES);
    udp_t *u = mg_lua_socket_object(L, sizeof(udp_t));
    u->fd = -1;
    return 1;
}

static int udp_setpeername(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 2 && n != 3) {
        return luaL_error(L,
                          "ngx.socket.udp setpeername: expecting 2 or 3 arguments (including the "
                          "object), but seen %d",
                          n);
    }
    mg_lua_ctx_t *ctx = udp_ctx(L);
    udp_t *u = udp_get(L);
    size_t hlen;
    const char *host = luaL_checklstring(L, 2, &hlen);
    if (u->ctx && u->ctx != ctx && u->fd >= 0) {
        return luaL_error(L, "bad request");
    }
    if (u->reading) {
        lua_pushnil(L);
        lua_pushliteral(L, "socket busy");
        return 2;
    }
    int port = -1;
    if (!(hlen >= 5 && memcmp(host, "unix:", 5) == 0)) {
        if (n < 3) {
            lua_pushnil(L);
            lua_pushliteral(L, "missing the port number");
            return 2;
        }
        port = (int)luaL_checkinteger(L, 3);
        if (port < 0 || port > 65535) {
            lua_pushnil(L);
            lua_pushfstring(L, "bad port number: %d", port);
            return 2;
        }
    }
    /* a socket with a peer starts over */
    udp_close(u);
    disown(L, u, 1);
    struct sockaddr_storage sa;
    socklen_t len;
    if (mg_lua_socket_parse_peer(L, &sa, &len, host, hlen, port) != 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        mg_log_error(MG_LOG_ALERT, mg_lua_log(), err, "socket() failed");
        lua_pushnil(L);
        mg_lua_tcp_push_errno(L, err);
        return 2;
    }
    /* a datagram unix socket needs a name of its own for the answers: Linux autobinds one */
    sa_family_t family = AF_UNIX;
    if (sa.ss_family == AF_UNIX && bind(fd, (struct sockaddr *)&family, sizeof(family)) == -1) {
        mg_log_error(MG_LOG_CRIT, mg_lua_log(), errno, "bind() failed");
    }
    if (sa.ss_family != AF_UNIX && mg_lua_socket_bind_local(&u->local, fd, mg_lua_log()) != 0) {
        int err = errno;
        close(fd);
        lua_pushnil(L);
        mg_lua_tcp_push_errno(L, err);
        return 2;
    }
    if (connect(fd, (struct sockaddr *)&sa, len) == -1) {
        int err = errno;
        close(fd);
        mg_log_error(mg_lua_socket_connect_level(err), mg_lua_log(), err, "connect() failed");
        lua_pushnil(L);
        mg_lua_tcp_push_errno(L, err);
        return 2;
    }
    u->fd = fd;
    u->connected = 1;
    u->conf = mg_lua_ctx_conf(ctx);
    own(L, u, ctx, 1);
    lua_pushinteger(L, 1);
    return 1;
}

static int udp_send(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 2) {
        return luaL_error(L, "expecting 2 arguments (including the object), but got %d", n);
    }
    mg_lua_ctx_t *ctx = udp_ctx(L);
    udp_t *u = udp_get(L);
    if (u->fd < 0) {
        return push_closed(L, u, "send");
    }
    if (u->ctx != ctx) {
        return luaL_error(L, "bad request");
    }
    size_t len = mg_lua_socket_bytes(L, 2, NULL, 1); /* raises on bad types: nothing held yet */
    char *buf = mg_alloc(len ? len : 1);
    mg_lua_socket_bytes(L, 2, buf, 1);
    ssize_t k = send(u->fd, buf, len, 0);
    int err = errno;
    free(buf);
    if (k >= 0) {
        lua_pushinteger(L, 1);
        return 1;
    }
    /* the peer's refusals (ICMP) are errors; anything else is the system's problem */
    int refused = err == ECONNREFUSED || err == ECONNRESET || err == ENETUNREACH ||
                  err == EHOSTUNREACH || err == ENETDOWN || err == EHOSTDOWN;
    mg_log_error(refused ? MG_LOG_ERR : MG_LOG_ALERT, udp_log(u), err, "send() failed");
    lua_pushnil(L);
    mg_lua_tcp_push_errno(L, err);
    return 2;
}

/* One recv() of up to u->rsize bytes: the datagram or nil and the error pushed on L (the count
 * of values), or 0 when nothing is there yet. */
static int read_datagram(lua_State *L, udp_t *u)
{
    char buf[UDP_MAX_DATAGRAM];
    ssize_t k;
    do {
        k = recv(u->fd, buf, u->rsize, 0);
    } while (k < 0 && errno == EINTR);
    if (k >= 0) {
        lua_pushlstring(L, buf, (size_t)k);
        return 1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return 0;
    }
    int err = errno;
    mg_log_error(MG_LOG_ERR, udp_log(u), err, "recv() failed");
    lua_pushnil(L);
    mg_lua_tcp_push_errno(L, err);
    return 2;
}

static void arm_read(udp_t *u)
{
    mg_lua_tcp_arm(&u->rev, u->read_timeout, u->conf->socket_read_timeout);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    udp_t *u = arg;
    mg_lua_co_t *co = u->read_co;
    lua_State *L = co->L;
    int n;
    if (what & EV_TIMEOUT) {
        if (u->conf->socket_log_errors) {
            mg_log_error(MG_LOG_ERR, udp_log(u), 0, "lua udp socket read timed out");
        }
        lua_pushnil(L);
        lua_pushliteral(L, "timeout");
        n = 2;
    } else {
        mg_time_update();
        n = read_datagram(L, u);
        if (n == 0) {
            arm_read(u); /* spurious: wait on */
            return;
        }
    }
    u->reading = 0;
    u->read_co = NULL;
    mg_lua_resume_co(co, n); /* u may be gone after this */
}

/* ngx.thread.kill of the coroutine in receive: the socket closes, as lua-nginx-module's */
static void udp_cancel(mg_lua_co_t *co, void *data)
{
    (void)co;
    udp_t *u = data;
    udp_close(u);
    u->read_co = NULL;
}

static int udp_receive(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 1 && n != 2) {
        return luaL_error(L, "expecting 1 or 2 arguments (including the object), but got %d", n);
    }
    mg_lua_ctx_t *ctx = udp_ctx(L);
    udp_t *u = udp_get(L);
    if (u->fd < 0) {
        return push_closed(L, u, "receive");
    }
    if (u->ctx != ctx) {
        return luaL_error(L, "bad request");
    }
    if (u->reading) {
        lua_pushnil(L);
        lua_pushliteral(L, "socket busy");
        return 2;
    }
    u->rsize = UDP_MAX_DATAGRAM;
    if (n == 2) {
        /* negative or larger sizes read a whole datagram, as nginx's unsigned minimum does */
        lua_Number size = luaL_checknumber(L, 2);
        if (size >= 0 && size < UDP_MAX_DATAGRAM) {
            u->rsize = (size_t)size;
        }
    }
    int k = read_datagram(L, u);
    if (k) {
        return k;
    }
    event_assign(&u->rev, mg_lua_event_base(), u->fd, EV_READ, on_read, u);
    arm_read(u);
    u->reading = 1;
    u->read_co = mg_lua_cur.co;
    return mg_lua_wait_with(L, ctx, udp_cancel, u);
}

static int udp_settimeout(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 2) {
        return luaL_error(L,
                          "ngx.socket settimeout: expecting at least 2 arguments (including the "
                          "object) but seen %d",
                          n);
    }
    udp_t *u = udp_get(L);
    lua_Number t = lua_tonumber(L, 2);
    u->read_timeout = t > 0 && t <= 0x7fffffff ? (mg_msec_t)t : 0;
    return 0;
}

static int udp_close_method(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 1) {
        return luaL_error(L, "expecting 1 argument (including the object) but seen %d", n);
    }
    mg_lua_check_phase(L, UDP_PHASES);
    udp_t *u = udp_get(L);
    if (u->fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (u->ctx != mg_lua_cur.ctx) {
        return luaL_error(L, "bad request");
    }
    if (u->reading) {
        lua_pushnil(L);
        lua_pushliteral(L, "socket busy"); /* another light thread waits in receive */
        return 2;
    }
    udp_close(u);
    disown(L, u, 1);
    lua_pushinteger(L, 1);
    return 1;
}

static int udp_bind(lua_State *L)
{
    udp_t *u = udp_get(L);
    mg_lua_local_addr_t local;
    if (!mg_lua_udp_parse_bind(L, &local)) {
        return 2;
    }
    u->local = local;
    lua_pushboolean(L, 1);
    return 1;
}

void mg_lua_inject_socket_udp_api(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"setpeername", udp_setpeername},
        {"send", udp_send},
        {"receive", udp_receive},
        {"settimeout", udp_settimeout},
        {"close", udp_close_method},
        {"bind", udp_bind},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_register(L, NULL, methods);
    mg_lua_socket_resolve_wrap(L, "setpeername", 0);
    mg_lua_socket_class(L, "__udp_cosocket_mt", udp_gc, udp_new);
    lua_setfield(L, -2, "udp");
}
