/*
 * tcpsock:sslhandshake(reused_session, server_name, ssl_verify, send_status_req), as
 * lua-nginx-module's: TLS on a connected cosocket with the context of lua_ssl_* (core's
 * ssl_client.c), the coroutine yielded while the handshake waits (under the connect
 * timeout), then the chain's verdict and the name when ssl_verify asks. The answer is a
 * session userdata (another handshake may resume it) or true when reused_session is false;
 * nil and "handshake failed", "N: text" (the verify error) or "certificate host mismatch".
 * The TLS state is kept with the connection's watch, so it goes into the keepalive pool
 * with it and a connection taken back from there answers at once.
 */
#include <string.h>

#include "socket_tcp.h"

#define SESSION_MT "__mg_ssl_session_mt"

static int session_gc(lua_State *L)
{
    SSL_SESSION **p = luaL_checkudata(L, 1, SESSION_MT);
    SSL_SESSION_free(*p);
    *p = NULL;
    return 0;
}

static void push_session(lua_State *L, SSL_SESSION *sess)
{
    SSL_SESSION **p = lua_newuserdata(L, sizeof(*p));
    *p = sess;
    if (luaL_newmetatable(L, SESSION_MT)) {
        lua_pushcfunction(L, session_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
}

/* The result of a handshake that succeeded: the session, or true. */
static int push_ok(lua_State *L, mg_lua_tcp_t *s)
{
    if (!s->ssl_session) {
        lua_pushboolean(L, 1);
        return 1;
    }
    SSL_SESSION *sess = SSL_get1_session(mg_lua_tcp_ssl(s)->ssl);
    if (sess == NULL) {
        lua_pushnil(L);
        return 1;
    }
    push_session(L, sess);
    return 1;
}

/* After the handshake: MG_OK, or the error pushed on L (nil, err) and the socket closed. */
static mg_int_t check_peer(lua_State *L, mg_lua_tcp_t *s)
{
    mg_ssl_conn_t *sc = mg_lua_tcp_ssl(s);
    if (!s->ssl_verify) {
        return MG_OK;
    }
    long rc = SSL_get_verify_result(sc->ssl);
    if (rc != X509_V_OK) {
        const char *text = X509_verify_cert_error_string(rc);
        if (s->conf->socket_log_errors) {
            mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), 0,
                         "lua ssl certificate verify error: (%ld: %s)", rc, text);
        }
        lua_pushnil(L);
        lua_pushfstring(L, "%d: %s", (int)rc, text);
        return MG_ERROR;
    }
    if (s->ssl_name && !mg_ssl_client_check_host(sc, s->ssl_name, strlen(s->ssl_name))) {
        if (s->conf->socket_log_errors) {
            mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), 0,
                         "lua ssl certificate does not match host \"%s\"", s->ssl_name);
        }
        lua_pushnil(L);
        lua_pushliteral(L, "certificate host mismatch");
        return MG_ERROR;
    }
    return MG_OK;
}

static void hs_readable(evutil_socket_t fd, short what, void *arg);

/* One step: MG_OK (done), MG_AGAIN (the events it waits for are on), MG_ERROR (logged). */
static mg_int_t step(mg_lua_tcp_t *s)
{
    mg_ssl_conn_t *sc = mg_lua_tcp_ssl(s);
    mg_int_t rc = mg_ssl_handshake_step(sc, mg_lua_tcp_log(s));
    if (rc != MG_AGAIN) {
        return rc;
    }
    /* wev carries the timeout (the connect timeout, as lua-nginx-module) and, when OpenSSL
     * wants to write, the write readiness; reads come through the watch */
    event_del(mg_lua_tcp_wev(s));
    if (sc->want_write) {
        event_assign(mg_lua_tcp_wev(s), mg_lua_event_base(), s->fd, EV_WRITE | mg_lua_tcp_et(s),
                     mg_lua_tcp_on_wev, s);
        mg_watch_stop(&s->watch->w);
    } else {
        event_assign(mg_lua_tcp_wev(s), mg_lua_event_base(), -1, 0, mg_lua_tcp_on_wev, s);
        mg_watch_read(&s->watch->w, hs_readable, s);
    }
    mg_lua_tcp_arm(mg_lua_tcp_wev(s), s->connect_timeout, s->conf->socket_connect_timeout);
    return MG_AGAIN;
}

/* The handshake that waited ends: its result goes to the coroutine. */
static void hs_done(mg_lua_tcp_t *s, mg_int_t rc, const char *err)
{
    lua_State *co_L = s->write_co ? s->write_co->L : NULL;
    mg_lua_co_t *co = s->write_co;
    s->write_co = NULL;
    s->handshaking = 0;
    s->connecting = 0;
    event_del(mg_lua_tcp_wev(s));
    s->watch->w.handler = mg_lua_tcp_readable; /* between reads again */
    s->watch->w.arg = s;
    mg_watch_stop(&s->watch->w);
    s->rdry = 0;
    int n = 0;
    if (co_L) {
        if (rc == MG_OK && check_peer(co_L, s) == MG_OK) {
            n = push_ok(co_L, s);
        } else if (rc == MG_OK) {
            n = 2;
            mg_lua_tcp_close(s);
        } else {
            lua_pushnil(co_L);
            lua_pushstring(co_L, err);
            n = 2;
            mg_lua_tcp_close(s);
        }
    } else if (rc != MG_OK) {
        mg_lua_tcp_close(s);
    }
    mg_lua_tcp_unpin(s, &s->write_pin);
    if (co) {
        mg_lua_resume_co(co, n); /* s may be gone after this */
    }
}

static void hs_go_on(mg_lua_tcp_t *s)
{
    mg_int_t rc = step(s);
    if (rc != MG_AGAIN) {
        hs_done(s, rc, "handshake failed");
    }
}

static void hs_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hs_go_on(arg);
}

void mg_lua_tcp_ssl_event(mg_lua_tcp_t *s, short what)
{
    if (what & EV_TIMEOUT) {
        if (s->conf->socket_log_errors) {
            mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), 0,
                         "lua tcp socket connect timed out, when connecting to %s", s->peer);
        }
        hs_done(s, MG_ERROR, "timeout");
        return;
    }
    hs_go_on(s);
}

int mg_lua_tcp_sslhandshake(lua_State *L)
{
    int n = lua_gettop(L);
    if (n < 1 || n > 5) {
        return luaL_error(L,
                          "ngx.socket sslhandshake: expecting 1 ~ 5 arguments (including the "
                          "object), but seen %d",
                          n);
    }
    mg_lua_check_phase(L, MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT | MG_LUA_TIMER);
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    if (s->fd < 0) {
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
    SSL_SESSION *reuse = NULL;
    s->ssl_session = 1;
    if (n >= 2 && lua_isboolean(L, 2) && !lua_toboolean(L, 2)) {
        s->ssl_session = 0;
    } else if (n >= 2 && !lua_isnil(L, 2)) {
        SSL_SESSION **p = luaL_checkudata(L, 2, SESSION_MT);
        reuse = *p;
    }
    free(s->ssl_name);
    s->ssl_name = NULL;
    if (n >= 3 && !lua_isnil(L, 3)) {
        size_t len;
        const char *name = luaL_checklstring(L, 3, &len);
        if (len) {
            s->ssl_name = mg_alloc(len + 1);
            memcpy(s->ssl_name, name, len + 1);
        }
    }
    s->ssl_verify = n >= 4 && lua_toboolean(L, 4);
    int status_req = n >= 5 && lua_toboolean(L, 5);

    if (mg_lua_tcp_ssl(s) && mg_lua_tcp_ssl(s)->handshaked) {
        /* a connection from the pool that speaks TLS already */
        return push_ok(L, s);
    }
    if (s->watch == NULL) {
        mg_lua_tcp_adopt(s, s->fd, mg_lua_tcp_watch_new(mg_lua_event_base(), s->fd, 1));
    }
    SSL_CTX *ctx = s->conf->ssl.ctx;
    s->watch->ssl = mg_ssl_client_new(ctx, s->fd, mg_lua_tcp_log(s), s->ssl_name, reuse);
    if (status_req) {
        SSL_set_tlsext_status_type(s->watch->ssl->ssl, TLSEXT_STATUSTYPE_ocsp);
    }
    /* wev's callback is the socket's: it comes back here while handshaking */
    s->handshaking = 1;
    s->connecting = 1;
    mg_int_t rc = step(s);
    if (rc == MG_AGAIN) {
        s->write_co = mg_lua_cur.co;
        return mg_lua_tcp_yield(L, s, 1, &s->write_pin);
    }
    s->handshaking = 0;
    s->connecting = 0;
    event_del(mg_lua_tcp_wev(s));
    if (rc == MG_OK && check_peer(L, s) == MG_OK) {
        return push_ok(L, s);
    }
    if (rc != MG_OK) {
        lua_pushnil(L);
        lua_pushliteral(L, "handshake failed");
    }
    mg_lua_tcp_close(s);
    return 2;
}
