/*
 * require "ngx.ssl.session": the session id a client offers (ssl_session_fetch_by_lua*) or a
 * new session gets (ssl_session_store_by_lua*), as hex; the new session serialized (DER, as
 * OpenSSL's i2d_SSL_SESSION) for the store's code to keep where it likes, and a serialized
 * session handed back by the fetch's code to resume from. lua-resty-core's answers.
 */
#include "lua_ssl.h"
#include "ssl.h"

/* The handshake's state; `phases`: where the call has one to work on, for docgen's probe. */
static mg_lua_ssl_conn_t *running(lua_State *L, unsigned phases)
{
    if (mg_lua_probe) {
        mg_lua_check_phase(L, phases);
    }
    mg_lua_ssl_conn_t *sc = mg_lua_ssl_running();
    if (sc == NULL) {
        mg_lua_request(L); /* "no request found" outside a request */
    }
    return sc;
}

static int get_session_id(lua_State *L)
{
    mg_lua_ssl_conn_t *sc = running(L, MG_LUA_SSL_SESS_FETCH | MG_LUA_SSL_SESS_STORE);
    const unsigned char *id = NULL;
    unsigned int len = 0;
    if (sc && sc->hook == MG_SSL_HOOK_SESS_FETCH) {
        id = sc->sid;
        len = (unsigned int)sc->sid_len;
    } else if (sc && sc->new_sess) {
        id = SSL_SESSION_get_id(sc->new_sess, &len);
    } else {
        return mg_lua_ssl_fail(L, "bad session in lua context");
    }
    char hex[2 * SSL_MAX_SSL_SESSION_ID_LENGTH];
    mg_hex_dump(hex, id, len);
    lua_pushlstring(L, hex, 2 * (size_t)len);
    return 1;
}

static int get_serialized_session(lua_State *L)
{
    mg_lua_ssl_conn_t *sc = running(L, MG_LUA_SSL_SESS_STORE);
    if (sc == NULL || sc->new_sess == NULL) {
        return mg_lua_ssl_fail(L, "bad session in lua context");
    }
    int len = i2d_SSL_SESSION(sc->new_sess, NULL);
    if (len <= 0) {
        return mg_lua_ssl_fail(L, "i2d_SSL_SESSION() failed");
    }
    if (len > 4096) {
        return mg_lua_ssl_fail(L, "session too big to serialize");
    }
    unsigned char *buf = lua_newuserdata(L, (size_t)len), *p = buf;
    i2d_SSL_SESSION(sc->new_sess, &p);
    lua_pushlstring(L, (const char *)buf, (size_t)len);
    return 1;
}

static int set_serialized_session(lua_State *L)
{
    size_t len;
    const char *der = luaL_checklstring(L, 1, &len);
    mg_lua_ssl_conn_t *sc = running(L, MG_LUA_SSL_SESS_FETCH);
    if (sc == NULL || sc->hook != MG_SSL_HOOK_SESS_FETCH) {
        return mg_lua_ssl_fail(L, "bad session in lua context");
    }
    const unsigned char *p = (const unsigned char *)der;
    SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, (long)len);
    if (sess == NULL) {
        return mg_lua_ssl_fail(L, "failed to de-serialize session");
    }
    SSL_SESSION_free(sc->sess);
    sc->sess = sess;
    lua_pushboolean(L, 1);
    return 1;
}

int mg_lua_ssl_open_session(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"get_session_id", get_session_id},
        {"get_serialized_session", get_serialized_session},
        {"set_serialized_session", set_serialized_session},
        {NULL, NULL},
    };
    return mg_lua_ssl_open_lib(L, fns);
}
