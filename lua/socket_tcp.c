/*
 * ngx.socket.tcp and ngx.socket.connect: the cosocket object (a table holding the socket's
 * userdata at [1], as lua-nginx-module's, whose __gc closes the connection), connect (IP
 * literals, "localhost" and names from /etc/hosts, never a blocking DNS query; "unix:/path"),
 * close, setkeepalive, getreusedtimes, the timeouts, setoption/getoption and sslhandshake.
 * Sends and receives are in socket_tcp_io.c, ownership and pools in socket_tcp_pool.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "socket_tcp.h"

/* where code may wait for a socket: as lua-nginx-module, also in the handshake's hooks */
#define TCP_PHASES MG_LUA_YIELDABLE

/* ---- shared helpers ---- */

mg_log_t *mg_lua_tcp_log(mg_lua_tcp_t *s)
{
    if (s->ctx && s->ctx->r) {
        return &s->ctx->r->connection->log;
    }
    if (s->ctx) {
        return s->ctx->log ? s->ctx->log : s->ctx->lmcf->cycle->log; /* a stream session's */
    }
    return mg_lua_log();
}

mg_lua_tcp_t *mg_lua_tcp_get(lua_State *L, int idx)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_rawgeti(L, idx, 1);
    mg_lua_tcp_t *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (s == NULL) {
        luaL_error(L, "socket is never created nor connected");
    }
    return s;
}

void mg_lua_tcp_check_owner(lua_State *L, mg_lua_tcp_t *s)
{
    if (s->ctx != mg_lua_cur.ctx) {
        luaL_error(L, "bad request");
    }
}

/* ngx.thread.kill of the coroutine waiting on s: as lua-nginx-module, the socket is closed,
 * so its next call says "closed"; while another coroutine reads (or sends) on it, only the
 * killed one's direction closes, so that the other's wait still ends by its own event. */
static void tcp_cancel(mg_lua_co_t *co, void *data)
{
    mg_lua_tcp_t *s = data;
    if (s->read_co == co) {
        s->read_co = NULL;
        if (s->write_co) {
            mg_lua_tcp_tls_ev_del(s, rw);
            event_del(&s->watch->rtimer);
            s->reading = 0;
            s->read_closed = 1;
        } else {
            mg_lua_tcp_close(s);
        }
        mg_lua_tcp_unpin(s, &s->read_pin);
        mg_lua_tcp_unpin(s, &s->until_pin);
        return;
    }
    if (s->write_co != co) {
        return; /* nothing of s names co any more */
    }
    s->write_co = NULL;
    if (s->read_co) { /* a plain send: a connect or handshake has no reader beside it */
        mg_lua_tcp_tls_ev_del(s, wr);
        event_del(mg_lua_tcp_wev(s));
        s->writing = 0;
        s->write_closed = 1;
    } else {
        mg_lua_tcp_close(s);
    }
    mg_lua_tcp_unpin(s, &s->write_pin);
}

int mg_lua_tcp_yield(lua_State *L, mg_lua_tcp_t *s, int idx, int *pin)
{
    lua_pushvalue(L, idx);
    *pin = luaL_ref(L, LUA_REGISTRYINDEX);
    return mg_lua_wait_with(L, mg_lua_cur.ctx, tcp_cancel, s);
}

void mg_lua_tcp_unpin(mg_lua_tcp_t *s, int *pin)
{
    if (*pin != LUA_NOREF) {
        luaL_unref(s->vm, LUA_REGISTRYINDEX, *pin);
        *pin = LUA_NOREF;
    }
}

void mg_lua_tcp_arm(struct event *ev, mg_msec_t ms, mg_msec_t dflt)
{
    if (ms <= 0) {
        ms = dflt;
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(ev, &tv);
}

int mg_lua_socket_log_errors(mg_lua_tcp_t *s)
{
    if (s && s->conf) {
        return s->conf->socket_log_errors;
    }
    return mg_lua_cur.ctx ? mg_lua_ctx_conf(mg_lua_cur.ctx)->socket_log_errors : 1;
}

mg_lua_tcp_watch_t *mg_lua_tcp_watch_new(struct event_base *base, int fd, int edge)
{
    mg_lua_tcp_watch_t *w = mg_calloc(sizeof(*w));
    mg_watch_init(&w->w, base, fd, 1, edge);
    return w;
}

void mg_lua_tcp_watch_free(mg_lua_tcp_watch_t *w)
{
    if (w) {
        mg_watch_stop(&w->w);
        if (event_initialized(&w->rtimer)) {
            event_del(&w->rtimer);
        }
        if (w->ssl) {
            mg_ssl_close(w->ssl); /* close_notify while the fd is still open */
        }
        free(w->spare);
        free(w);
    }
}

void mg_lua_tcp_adopt(mg_lua_tcp_t *s, int fd, mg_lua_tcp_watch_t *w)
{
    s->fd = fd;
    s->watch = w;
    if (w) {
        /* stays registered: reports until the next wait only mark the socket readable */
        w->w.handler = mg_lua_tcp_readable;
        w->w.arg = s;
        if (w->w.rready) { /* an edge reported while it was handed over: no other comes */
            w->w.rready = 0;
            s->rdry = 0;
        }
    }
}

void mg_lua_tcp_close(mg_lua_tcp_t *s)
{
    mg_lua_tcp_tls_ev_del(s, rw);
    mg_lua_tcp_tls_ev_del(s, wr);
    if (s->reading) {
        event_del(&s->watch->rtimer); /* (a socket reads with its watch) */
        s->reading = 0;
    }
    if (s->writing || s->connecting || s->queued) {
        event_del(mg_lua_tcp_wev(s));
        s->writing = 0;
        s->connecting = 0;
        s->handshaking = 0;
    }
    if (s->queued) {
        mg_lua_tcp_pool_dequeue(s);
    }
    mg_lua_tcp_watch_free(s->watch); /* its event goes before the fd does */
    s->watch = NULL;
    if (s->fd >= 0 && s->downstream == NULL) {
        close(s->fd);
    }
    s->fd = -1;
    mg_lua_tcp_pool_release(s);
    s->read_closed = 0;
    s->write_closed = 0;
    s->rpos = s->rlast = 0;
    s->alen = 0;
}

void mg_lua_tcp_push_errno(lua_State *L, int err)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", strerror(err));
    for (char *p = buf; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    lua_pushstring(L, buf);
}

/* What may wait must run in a coroutine of a request or timer. */
static mg_lua_ctx_t *waiting_ctx(lua_State *L)
{
    mg_lua_check_phase(L, TCP_PHASES);
    if (mg_lua_cur.ctx == NULL || mg_lua_cur.co == NULL || mg_lua_event_base() == NULL) {
        luaL_error(L, "no request ctx found");
    }
    return mg_lua_cur.ctx;
}

/* ---- the object ---- */

static void tcp_free(mg_lua_tcp_t *s)
{
    mg_lua_tcp_close(s);
    mg_lua_tcp_disown(s);
    free(s->rbuf);
    free(s->acc);
    free(s->wbuf);
    free(s->peer); /* and the key */
    free(s->ssl_name);
    free(s->local);
    free(s->tls_ev); /* deleted by the close */
    free(s->wev);
    s->local = NULL;
    s->tls_ev = NULL;
    s->wev = NULL;
    s->rbuf = s->acc = s->wbuf = s->peer = s->key = s->ssl_name = NULL;
}

static int tcp_gc(lua_State *L)
{
    mg_lua_tcp_t *s = lua_touserdata(L, 1);
    if (s) {
        tcp_free(s);
    }
    return 0;
}

/* upvalues: the object's metatable, the userdata's metatable */
static int tcp_new(lua_State *L)
{
    if (lua_gettop(L) != 0) {
        return luaL_error(L, "expecting zero arguments, but got %d", lua_gettop(L));
    }
    mg_lua_check_phase(L, TCP_PHASES);
    mg_lua_tcp_t *s = mg_lua_socket_object(L, sizeof(mg_lua_tcp_t));
    s->fd = -1;
    s->handed_fd = -1;
    s->read_pin = s->until_pin = s->write_pin = LUA_NOREF;
    s->vm = mg_lua_cur.lmcf->L;
    return 1;
}

void *mg_lua_socket_object(lua_State *L, size_t size)
{
    lua_createtable(L, 3, 1);
    void *p = lua_newuserdata(L, size);
    memset(p, 0, size);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_setmetatable(L, -2);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_setmetatable(L, -2);
    return p;
}

void mg_lua_socket_class(lua_State *L, const char *mt_name, lua_CFunction gc, lua_CFunction ctor)
{
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, mt_name);
    lua_newtable(L); /* the object's metatable */
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_newtable(L); /* the userdata's */
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcclosure(L, ctor, 2);
}

/* ---- connect ---- */

/* addr of a name in /etc/hosts; read each time (a local file, no network). */
static int hosts_lookup(const char *name, struct sockaddr_storage *sa, socklen_t *len)
{
    FILE *f = fopen("/etc/hosts", "re");
    if (f == NULL) {
        return -1;
    }
    char line[1024];
    int found = -1;
    while (found < 0 && fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        char *save, *addr = strtok_r(line, " \t\r\n", &save);
        if (addr == NULL) {
            continue;
        }
        for (char *n = strtok_r(NULL, " \t\r\n", &save); n; n = strtok_r(NULL, " \t\r\n", &save)) {
            if (strcasecmp(n, name) != 0) {
                continue;
            }
            struct sockaddr_in *sin = (struct sockaddr_in *)sa;
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;
            if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
                sin->sin_family = AF_INET;
                *len = sizeof(*sin);
                found = 0;
            } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
                sin6->sin6_family = AF_INET6;
                *len = sizeof(*sin6);
                found = 0;
            }
            break;
        }
    }
    fclose(f);
    return found;
}

int mg_lua_socket_parse_peer(lua_State *L, struct sockaddr_storage *sa, socklen_t *len,
                             const char *host, size_t hlen, int port)
{
    memset(sa, 0, sizeof(*sa));
    if (port < 0) {
        struct sockaddr_un *sun = (struct sockaddr_un *)sa;
        const char *path = host + 5;
        size_t plen = hlen - 5;
        if (plen == 0) {
            lua_pushfstring(
                L, "failed to parse host name \"%s\": no path in the unix domain socket", host);
            return -1;
        }
        if (plen >= sizeof(sun->sun_path)) {
            lua_pushfstring(
                L, "failed to parse host name \"%s\": too long path in the unix domain socket",
                host);
            return -1;
        }
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, plen);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);
        return 0;
    }
    char name[256];
    if (hlen >= sizeof(name)) {
        lua_pushfstring(L, "failed to parse host name \"%s\"", host);
        return -1;
    }
    memcpy(name, host, hlen);
    name[hlen] = '\0';
    struct sockaddr_in *sin = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;
    if (hlen > 2 && name[0] == '[' && name[hlen - 1] == ']') {
        name[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, name + 1, &sin6->sin6_addr) != 1) {
            lua_pushfstring(L, "failed to parse host name \"%s\": invalid host", host);
            return -1;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*sin6);
        return 0;
    }
    if (strchr(name, ':')) {
        /* nginx's URL parser takes the text after a colon as the port */
        lua_pushfstring(L, "failed to parse host name \"%s\": invalid port", host);
        return -1;
    }
    if (inet_pton(AF_INET, name, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        *len = sizeof(*sin);
    } else if (strcasecmp(name, "localhost") == 0) {
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof(*sin);
    } else if (hosts_lookup(name, sa, len) != 0) {
        /* no DNS resolver: what nginx says without a `resolver` directive */
        lua_pushfstring(L, "no resolver defined to resolve \"%s\"", name);
        return -1;
    }
    if (sa->ss_family == AF_INET6) {
        sin6->sin6_port = htons((uint16_t)port);
    } else {
        sin->sin_port = htons((uint16_t)port);
    }
    return 0;
}

int mg_lua_socket_connect_level(int err)
{
    return (err == ECONNREFUSED || err == EAGAIN || err == ECONNRESET || err == ENETDOWN ||
            err == ENETUNREACH || err == EHOSTDOWN || err == EHOSTUNREACH)
               ? MG_LOG_ERR
               : MG_LOG_CRIT;
}

/* Start a connect to s->sa (its pool slot, if any, already counted): MG_OK (connected),
 * MG_AGAIN (wev armed) or MG_ERROR (logged, *err set, the slot released). */
static mg_int_t start_connect(mg_lua_tcp_t *s, int *err)
{
    int fd = socket(s->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        mg_log_error(MG_LOG_ALERT, mg_lua_tcp_log(s), *err, "socket() failed");
        mg_lua_tcp_pool_release(s);
        return MG_ERROR;
    }
    if (s->ctx && s->ctx->lmcf) { /* numbered as nginx numbers a cosocket's connection */
        (void)mg_conn_number(NULL, s->ctx->lmcf->cycle);
    }
    if (mg_lua_socket_bind_local(s->local, fd, mg_lua_tcp_log(s)) != 0) {
        *err = errno;
        close(fd);
        mg_lua_tcp_pool_release(s);
        return MG_ERROR;
    }
    if (connect(fd, (struct sockaddr *)&s->sa, s->socklen) == 0) {
        s->fd = fd;
        return MG_OK;
    }
    if (errno == EINPROGRESS) {
        s->fd = fd;
        return MG_AGAIN;
    }
    *err = errno;
    close(fd);
    if (s->conf->socket_log_errors) {
        mg_log_error(mg_lua_socket_connect_level(*err), mg_lua_tcp_log(s), *err,
                     "connect() to %s failed", s->peer);
    }
    mg_lua_tcp_pool_release(s);
    return MG_ERROR;
}

static void wait_connect(mg_lua_tcp_t *s)
{
    event_assign(mg_lua_tcp_wev(s), mg_lua_event_base(), s->fd, EV_WRITE | mg_lua_tcp_et(s),
                 mg_lua_tcp_on_wev, s);
    mg_lua_tcp_arm(mg_lua_tcp_wev(s), s->connect_timeout, s->conf->socket_connect_timeout);
    s->connecting = 1;
}

/* The outcome of a connect that waited, onto the coroutine that waits for it. */
static void connect_done(mg_lua_tcp_t *s, int ok, int err, const char *msg)
{
    mg_lua_co_t *co = s->write_co;
    s->write_co = NULL;
    s->connecting = 0;
    if (!ok) {
        mg_lua_tcp_close(s);
    }
    if (co == NULL) {
        mg_lua_tcp_unpin(s, &s->write_pin);
        return;
    }
    int n = 1;
    if (ok) {
        lua_pushinteger(co->L, 1);
    } else {
        lua_pushnil(co->L);
        if (msg) {
            lua_pushstring(co->L, msg);
        } else {
            mg_lua_tcp_push_errno(co->L, err);
        }
        n = 2;
    }
    mg_lua_tcp_unpin(s, &s->write_pin);
    mg_lua_resume_co(co, n); /* s may be gone after this */
}

static void connect_event(mg_lua_tcp_t *s, short what)
{
    if (what & EV_TIMEOUT) {
        if (s->conf->socket_log_errors) {
            mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), 0,
                         "lua tcp socket connect timed out, when connecting to %s", s->peer);
        }
        connect_done(s, 0, 0, "timeout");
        return;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
        err = errno;
    }
    if (err) {
        if (s->conf->socket_log_errors) {
            mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), err, "connect() failed");
        }
        connect_done(s, 0, err, NULL);
        return;
    }
    connect_done(s, 1, 0, NULL);
}

/* A queued connect: its timeout, or woken with a connection or a slot. */
static void queue_event(mg_lua_tcp_t *s)
{
    if (!s->woken) {
        mg_lua_tcp_pool_dequeue(s);
        if (s->conf->socket_log_errors) {
            mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), 0,
                         "lua tcp socket queued connect timed out, when trying to connect to %s",
                         s->peer);
        }
        connect_done(s, 0, 0, "timeout");
        return;
    }
    int fd = mg_lua_tcp_pool_claim(s);
    if (fd >= 0) {
        mg_lua_tcp_adopt(s, fd, s->handed_watch);
        s->handed_watch = NULL;
        s->reused = s->handed_reused + 1;
        connect_done(s, 1, 0, NULL);
        return;
    }
    int err = 0;
    switch (start_connect(s, &err)) {
    case MG_OK:
        connect_done(s, 1, 0, NULL);
        break;
    case MG_AGAIN:
        wait_connect(s);
        break;
    default:
        connect_done(s, 0, err, NULL);
    }
}

void mg_lua_tcp_on_wev(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    mg_lua_tcp_t *s = arg;
    if (s->queued) {
        queue_event(s);
    } else if (s->handshaking) {
        mg_lua_tcp_ssl_event(s, what);
    } else if (s->connecting) {
        connect_event(s, what);
    }
}

/* connect's options table: pool, pool_size, backlog. */
static void connect_options(lua_State *L, int idx, const char **key, size_t *klen, mg_int_t *size,
                            mg_int_t *backlog)
{
    lua_getfield(L, idx, "pool");
    int t = lua_type(L, -1);
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
        *key = lua_tolstring(L, -1, klen); /* stays referenced by the table */
    } else if (t != LUA_TNIL) {
        luaL_error(L, "bad \"pool\" option type: %s", lua_typename(L, t));
    }
    lua_pop(L, 1);
    lua_getfield(L, idx, "pool_size");
    t = lua_type(L, -1);
    if (t == LUA_TNUMBER) {
        *size = (mg_int_t)lua_tointeger(L, -1);
        if (*size <= 0) {
            const char *m = lua_pushfstring(L, "bad \"pool_size\" option value: %d", (int)*size);
            luaL_argerror(L, idx, m);
        }
    } else if (t != LUA_TNIL) {
        luaL_error(L, "bad \"pool_size\" option type: %s", lua_typename(L, t));
    }
    lua_pop(L, 1);
    lua_getfield(L, idx, "backlog");
    t = lua_type(L, -1);
    if (t == LUA_TNUMBER) {
        *backlog = (mg_int_t)lua_tointeger(L, -1);
        if (*backlog < 0) {
            const char *m = lua_pushfstring(L, "bad \"backlog\" option value: %d", (int)*backlog);
            luaL_argerror(L, idx, m);
        }
    } else if (t != LUA_TNIL) {
        luaL_error(L, "bad \"backlog\" option type: %s", lua_typename(L, t));
    }
    lua_pop(L, 1);
}

static int tcp_connect(lua_State *L)
{
    int n = lua_gettop(L);
    if (n < 2 || n > 4) {
        return luaL_error(L,
                          "ngx.socket connect: expecting 2, 3, or 4 arguments (including the "
                          "object), but seen %d",
                          n);
    }
    mg_lua_ctx_t *ctx = waiting_ctx(L);
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    size_t hlen;
    const char *host = luaL_checklstring(L, 2, &hlen);
    if (s->ctx && s->ctx != ctx && (s->fd >= 0 || s->reading || s->writing || s->connecting)) {
        return luaL_error(L, "bad request");
    }
    if (s->connecting || s->reading || s->writing) {
        lua_pushnil(L);
        lua_pushstring(L, s->connecting ? "socket busy connecting"
                          : s->reading  ? "socket busy reading"
                                        : "socket busy writing");
        return 2;
    }
    int port = -1, opts = 0;
    if (hlen >= 5 && memcmp(host, "unix:", 5) == 0) {
        opts = n >= 3 && lua_istable(L, 3) ? 3 : 0;
    } else {
        if (n < 3 || !lua_isnumber(L, 3)) {
            lua_pushnil(L);
            lua_pushliteral(L, "missing the port number");
            return 2;
        }
        port = (int)lua_tointeger(L, 3);
        if (port < 0 || port > 65535) {
            lua_pushnil(L);
            lua_pushfstring(L, "bad port number: %d", port);
            return 2;
        }
        opts = n == 4 && lua_istable(L, 4) ? 4 : 0;
    }
    const char *key = NULL;
    size_t klen = 0;
    mg_int_t size = 0, backlog = -1;
    if (opts) {
        connect_options(L, opts, &key, &klen, &size, &backlog);
    }

    /* a connected socket is closed first */
    if (s->fd >= 0) {
        mg_lua_tcp_close(s);
    }
    if (mg_lua_socket_parse_peer(L, &s->sa, &s->socklen, host, hlen, port) != 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    free(s->peer);
    /* "host:port" (or the unix path) and the pool option's name after it, in one block; without
     * the option the pool is named by the peer */
    char pbuf[1 + MG_INT_TEXT_MAX];
    size_t plen = 0;
    if (port >= 0) {
        pbuf[0] = ':';
        plen = (size_t)(mg_put_uint(pbuf + 1, (uint64_t)port) - pbuf);
    }
    s->peer = mg_alloc(hlen + plen + 1 + (key ? klen + 1 : 0));
    memcpy(s->peer, host, hlen);
    memcpy(s->peer + hlen, pbuf, plen);
    s->peer[hlen + plen] = '\0';
    s->key = s->peer;
    if (key) {
        s->key = s->peer + hlen + plen + 1;
        memcpy(s->key, key, klen);
        s->key[klen] = '\0';
    }
    s->reused = 0;
    s->read_closed = 0;
    s->write_closed = 0;
    s->rpos = s->rlast = 0;
    s->rdry = 1; /* nothing was asked yet; a greeting peer's bytes raise the event at once */
    s->alen = 0;
    s->conf = mg_lua_ctx_conf(ctx);
    if (s->rbuf && s->rbuf_size != s->conf->socket_buffer_size) {
        free(s->rbuf); /* made in a location with another lua_socket_buffer_size */
        s->rbuf = NULL;
    }
    mg_lua_tcp_own(s, ctx);

    /* an idle connection of the pool first; with a backlog, wait for a slot */
    mg_lua_tcp_pool_t *p = mg_lua_tcp_pool_find(ctx->lmcf, s->key, strlen(s->key));
    if (p == NULL && (size > 0 || backlog >= 0)) {
        p = mg_lua_tcp_pool_new(ctx->lmcf, s->key, strlen(s->key),
                                size > 0 ? size : s->conf->socket_pool_size, backlog);
    }
    if (p) {
        mg_uint_t reused;
        mg_lua_tcp_watch_t *w;
        int fd = mg_lua_tcp_pool_take(p, &reused, &w);
        if (fd >= 0) {
            mg_lua_tcp_adopt(s, fd, w);
            if (w && w->spare && s->rbuf == NULL && w->spare_size == s->conf->socket_buffer_size) {
                s->rbuf = w->spare; /* the buffer the connection was pooled with */
                s->rbuf_size = w->spare_size;
                w->spare = NULL;
            }
            s->reused = reused + 1;
            s->pool = p; /* the idle connection counted already */
            lua_pushinteger(L, 1);
            return 1;
        }
        switch (mg_lua_tcp_pool_admit(p, s)) {
        case MG_BUSY:
            lua_pushnil(L);
            lua_pushliteral(L, "too many waiting connect operations");
            return 2;
        case MG_OK:
            event_assign(mg_lua_tcp_wev(s), mg_lua_event_base(), -1, 0, mg_lua_tcp_on_wev, s);
            mg_lua_tcp_arm(mg_lua_tcp_wev(s), s->connect_timeout, s->conf->socket_connect_timeout);
            s->write_co = mg_lua_cur.co;
            return mg_lua_tcp_yield(L, s, 1, &s->write_pin);
        default:
            break;
        }
    }
    int err = 0;
    switch (start_connect(s, &err)) {
    case MG_OK:
        lua_pushinteger(L, 1);
        return 1;
    case MG_AGAIN:
        wait_connect(s);
        s->write_co = mg_lua_cur.co;
        return mg_lua_tcp_yield(L, s, 1, &s->write_pin);
    default:
        lua_pushnil(L);
        mg_lua_tcp_push_errno(L, err);
        return 2;
    }
}

/* ---- close, keepalive, reuse ---- */

static int tcp_close(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 1) {
        return luaL_error(L, "expecting 1 argument (including the object) but seen %d", n);
    }
    mg_lua_check_phase(L, TCP_PHASES);
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    if (s->fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    mg_lua_tcp_check_owner(L, s);
    if (s->reading || s->writing) {
        lua_pushnil(L);
        lua_pushstring(L, s->reading ? "socket busy reading" : "socket busy writing");
        return 2;
    }
    mg_lua_tcp_close(s);
    mg_lua_tcp_disown(s);
    lua_pushinteger(L, 1);
    return 1;
}

static int tcp_setkeepalive(lua_State *L)
{
    int n = lua_gettop(L);
    if (n < 1 || n > 3) {
        return luaL_error(L, "expecting 1 to 3 arguments (including the object), but got %d", n);
    }
    mg_lua_check_phase(L, TCP_PHASES);
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    if (s->fd < 0 || s->read_closed || s->write_closed) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    mg_lua_tcp_check_owner(L, s);
    if (s->connecting || s->reading || s->writing) {
        lua_pushnil(L);
        lua_pushstring(L, s->connecting ? "socket busy connecting"
                          : s->reading  ? "socket busy reading"
                                        : "socket busy writing");
        return 2;
    }
    mg_msec_t timeout = s->conf->socket_keepalive_timeout;
    if (n >= 2 && !lua_isnil(L, 2)) {
        timeout = (mg_msec_t)luaL_checkinteger(L, 2);
        if (timeout < 0) {
            timeout = 0; /* nginx reads it unsigned: practically no limit */
        }
    }
    mg_int_t size = s->conf->socket_pool_size;
    if (n >= 3 && !lua_isnil(L, 3)) {
        size = (mg_int_t)luaL_checkinteger(L, 3);
    }
    if (s->rpos < s->rlast) {
        lua_pushnil(L);
        lua_pushliteral(L, "unread data in buffer");
        return 2;
    }
    /* bytes or EOF the last exchange left behind: the next user would read them. When the
     * last recv() found the socket empty, what came since makes the idle watch close it. */
    char c;
    ssize_t k = s->rdry ? -1 : recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (s->rdry) {
        errno = EAGAIN;
    }
    if (k >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        mg_lua_tcp_close(s);
        mg_lua_tcp_disown(s);
        lua_pushnil(L);
        lua_pushstring(L, k > 0 ? "connection in dubious state" : "invalid connection");
        return 2;
    }
    mg_lua_tcp_pool_t *p = s->pool;
    if (p == NULL) {
        p = mg_lua_tcp_pool_find(s->ctx->lmcf, s->key, strlen(s->key));
    }
    if (p == NULL) {
        if (size <= 0) {
            /* the argument, or lua_socket_pool_size's value (nginx takes any number there) */
            const char *m = lua_pushfstring(L, "bad \"pool_size\" option value: %d", (int)size);
            return luaL_argerror(L, n >= 3 && !lua_isnil(L, 3) ? 3 : 1, m);
        }
        p = mg_lua_tcp_pool_new(s->ctx->lmcf, s->key, strlen(s->key), size, -1);
    }
    if (s->watch && s->rbuf && s->watch->spare == NULL) {
        /* the buffer (empty: checked above) goes with the connection, so the socket object
         * that takes it next needs no buffer of its own */
        s->watch->spare = s->rbuf;
        s->watch->spare_size = s->rbuf_size;
        s->rbuf = NULL;
    }
    mg_lua_tcp_pool_put(s, p, timeout);
    mg_lua_tcp_close(s); /* resets the read state; the connection went to the pool */
    mg_lua_tcp_disown(s);
    lua_pushinteger(L, 1);
    return 1;
}

static int tcp_getreusedtimes(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 1) {
        return luaL_error(L, "expecting 1 argument (including the object), but got %d", n);
    }
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    if (s->fd < 0 || s->read_closed || s->write_closed) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    mg_lua_tcp_check_owner(L, s);
    lua_pushinteger(L, (lua_Integer)s->reused);
    return 1;
}

/* ---- timeouts and options ---- */

static mg_msec_t check_timeout(lua_State *L, int idx)
{
    lua_Number t = lua_tonumber(L, idx);
    if (t < 0 || t > 0x7fffffff) {
        luaL_error(L, "bad timeout value");
    }
    return (mg_msec_t)t;
}

static int tcp_settimeout(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 2) {
        return luaL_error(L,
                          "ngx.socket settimeout: expecting 2 arguments (including the object) "
                          "but seen %d",
                          n);
    }
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    mg_msec_t t = check_timeout(L, 2);
    s->connect_timeout = s->send_timeout = s->read_timeout = t;
    return 0;
}

static int tcp_settimeouts(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 4) {
        return luaL_error(L,
                          "ngx.socket settimeout: expecting 4 arguments (including the object) "
                          "but seen %d",
                          n);
    }
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    s->connect_timeout = check_timeout(L, 2);
    s->send_timeout = check_timeout(L, 3);
    s->read_timeout = check_timeout(L, 4);
    return 0;
}

static const struct {
    const char *name;
    int level, opt;
} options[] = {
    {"keepalive", SOL_SOCKET, SO_KEEPALIVE},   {"reuseaddr", SOL_SOCKET, SO_REUSEADDR},
    {"tcp-nodelay", IPPROTO_TCP, TCP_NODELAY}, {"sndbuf", SOL_SOCKET, SO_SNDBUF},
    {"rcvbuf", SOL_SOCKET, SO_RCVBUF},
};

/* The option named at index 2, or -1 with nil + message pushed. */
static int find_option(lua_State *L)
{
    if (lua_isnoneornil(L, 2)) {
        lua_pushnil(L);
        lua_pushliteral(L, "missing the \"option\" argument");
        return -1;
    }
    const char *name = lua_tostring(L, 2);
    for (size_t i = 0; name && i < mg_nelems(options); i++) {
        if (strcmp(options[i].name, name) == 0) {
            return (int)i;
        }
    }
    lua_pushnil(L);
    lua_pushfstring(L, "unsupported option %s",
                    lua_isstring(L, 2) ? lua_tostring(L, 2) : luaL_typename(L, 2));
    return -1;
}

static int tcp_setoption(lua_State *L)
{
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    int i = find_option(L);
    if (i < 0) {
        return 2;
    }
    if (lua_isnoneornil(L, 3)) {
        lua_pushnil(L);
        lua_pushliteral(L, "missing the \"value\" argument");
        return 2;
    }
    int v = lua_isboolean(L, 3) ? lua_toboolean(L, 3) : (int)lua_tointeger(L, 3);
    if (s->fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (setsockopt(s->fd, options[i].level, options[i].opt, &v, sizeof(v)) == -1) {
        lua_pushnil(L);
        mg_lua_tcp_push_errno(L, errno);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int tcp_getoption(lua_State *L)
{
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    int i = find_option(L);
    if (i < 0) {
        return 2;
    }
    if (s->fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    int v = 0;
    socklen_t len = sizeof(v);
    if (getsockopt(s->fd, options[i].level, options[i].opt, &v, &len) == -1) {
        lua_pushnil(L);
        mg_lua_tcp_push_errno(L, errno);
        return 2;
    }
    lua_pushinteger(L, v);
    return 1;
}

/* ngx.socket.connect(...): a new socket and its connect, as lua-nginx-module defines it; on
 * one line, as there: a refusal of tcp() says "ngx.socket.connect:1:" */
static const char connect_shortcut[] = "local tcp = ... return function(...) local sock = tcp() "
                                       "local ok, err = sock:connect(...) if not ok then "
                                       "return nil, err end return sock end";

void mg_lua_inject_socket_tcp_api(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"connect", tcp_connect},
        {"close", tcp_close},
        {"setkeepalive", tcp_setkeepalive},
        {"getreusedtimes", tcp_getreusedtimes},
        {"settimeout", tcp_settimeout},
        {"settimeouts", tcp_settimeouts},
        {"setoption", tcp_setoption},
        {"getoption", tcp_getoption},
        {"sslhandshake", mg_lua_tcp_sslhandshake},
        {NULL, NULL},
    };
    lua_getfield(L, -1, "socket");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "socket");
    }
    lua_newtable(L);
    luaL_register(L, NULL, methods);
    mg_lua_socket_resolve_wrap(L, "connect", 1);
    mg_lua_tcp_io_methods(L);
    mg_lua_tcp_bind_methods(L);
    /* resty.core's socket module adds its methods here */
    mg_lua_socket_class(L, "__tcp_cosocket_mt", tcp_gc, tcp_new);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "tcp");
    /* lua-nginx-module's other name of the same constructor */
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "stream");
    if (luaL_loadbuffer(L, connect_shortcut, sizeof(connect_shortcut) - 1, "=ngx.socket.connect") !=
        0) {
        lua_error(L);
    }
    lua_insert(L, -2);
    lua_call(L, 1, 1);
    lua_setfield(L, -2, "connect");
    mg_lua_inject_socket_udp_api(L);
    lua_pop(L, 1);
}
