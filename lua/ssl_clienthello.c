/*
 * require "ngx.ssl.clienthello": what ssl_client_hello_by_lua* reads from the ClientHello
 * before SNI chose a server (the server name, any extension's raw bytes, the versions the
 * client supports) and the protocols it may still allow or refuse for this connection, with
 * lua-resty-core's answers (core/ssl_hello.c reads the extensions).
 */
#include "lua_ssl.h"
#include "ssl.h"

#include "ssl_hello.h"

/* The handshake's SSL in the client hello phase, else a Lua error as lua-resty-core's. */
static SSL *hello_ssl(lua_State *L)
{
    if (mg_lua_probe) {
        mg_lua_check_phase(L, MG_LUA_SSL_CLIENT_HELLO); /* docgen: its one phase */
    }
    mg_lua_ssl_conn_t *sc = mg_lua_ssl_running();
    if (sc == NULL) {
        mg_lua_request(L); /* "no request found" outside a request */
    }
    if (mg_lua_cur.phase != MG_LUA_SSL_CLIENT_HELLO) {
        luaL_error(L, "API disabled in the current context");
    }
    return sc->c->ssl->ssl;
}

static int get_server_name(lua_State *L)
{
    SSL *ssl = hello_ssl(L);
    const unsigned char *ext, *name;
    size_t len, name_len;
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) ||
        mg_ssl_hello_server_name(ext, len, &name, &name_len) != 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, (const char *)name, name_len);
    return 1;
}

static int get_ext(lua_State *L)
{
    lua_Integer type = luaL_checkinteger(L, 1);
    SSL *ssl = hello_ssl(L);
    const unsigned char *ext;
    size_t len;
    if (type < 0 || type > 0xffff || !SSL_client_hello_get0_ext(ssl, (unsigned)type, &ext, &len)) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, (const char *)ext, len);
    return 1;
}

static const char *version_name(unsigned v)
{
    switch (v) {
    case 0x0002:
        return "SSLv2";
    case SSL3_VERSION:
        return "SSLv3";
    case TLS1_VERSION:
        return "TLSv1";
    case TLS1_1_VERSION:
        return "TLSv1.1";
    case TLS1_2_VERSION:
        return "TLSv1.2";
    case TLS1_3_VERSION:
        return "TLSv1.3";
    }
    return NULL;
}

static int get_supported_versions(lua_State *L)
{
    SSL *ssl = hello_ssl(L);
    const unsigned char *ext;
    size_t len;
    unsigned versions[128];
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &ext, &len)) {
        lua_pushnil(L);
        return 1;
    }
    size_t n = mg_ssl_hello_versions(ext, len, versions, mg_nelems(versions));
    if (n == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, (int)n, 0);
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = version_name(versions[i]);
        if (name) {
            lua_pushstring(L, name);
            lua_rawseti(L, -2, ++k);
        }
    }
    return 1;
}

static int set_protocols(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    SSL *ssl = hello_ssl(L);
    static const struct {
        const char *name;
        uint64_t no; /* the option that turns it off (SSLv2: none in OpenSSL 3) */
    } protos[] = {
        {"SSLv2", 0},
        {"SSLv3", SSL_OP_NO_SSLv3},
        {"TLSv1", SSL_OP_NO_TLSv1},
        {"TLSv1.1", SSL_OP_NO_TLSv1_1},
        {"TLSv1.2", SSL_OP_NO_TLSv1_2},
        {"TLSv1.3", SSL_OP_NO_TLSv1_3},
    };
    uint64_t off = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2 |
                   SSL_OP_NO_TLSv1_3;
    size_t n = lua_objlen(L, 1);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, (int)i);
        const char *name = lua_tostring(L, -1);
        size_t k = 0;
        while (k < mg_nelems(protos) && (name == NULL || strcmp(name, protos[k].name) != 0)) {
            k++;
        }
        lua_pop(L, 1);
        if (k == mg_nelems(protos)) {
            lua_pushnil(L);
            lua_pushliteral(L, "invalid protocols failed");
            return 2;
        }
        off &= ~protos[k].no;
    }
    SSL_clear_options(ssl, SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                               SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3);
    SSL_set_options(ssl, off);
    lua_pushboolean(L, 1);
    return 1;
}

int mg_lua_ssl_open_clienthello(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"get_client_hello_server_name", get_server_name},
        {"get_client_hello_ext", get_ext},
        {"get_supported_versions", get_supported_versions},
        {"set_protocols", set_protocols},
        {NULL, NULL},
    };
    return mg_lua_ssl_open_lib(L, fns);
}
