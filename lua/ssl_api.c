/*
 * require "ngx.ssl": lua-resty-core's ngx.ssl API in C, on the TLS connection of the running
 * code (a handshake's, or a request's): certificates and keys (DER strings, or parsed PEM
 * objects: userdata freed by the GC), addresses, the SNI name, the protocol version, client
 * certificate verification, keying material. Answers and error strings are lua-resty-core's.
 */
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/un.h>

#include "lua_ssl.h"
#include "ssl.h"

#define CERT_MT "ngx.ssl.cert"
#define PKEY_MT "ngx.ssl.pkey"

/* The connection's SSL, or nil + err pushed (returns NULL). */
static SSL *get_ssl(lua_State *L, mg_connection_t **c)
{
    const char *err = NULL;
    mg_connection_t *dummy;
    SSL *ssl = mg_lua_ssl_conn(L, c ? c : &dummy, &err);
    if (ssl == NULL) {
        mg_lua_ssl_fail(L, err);
    }
    return ssl;
}

static int ssl_clear_certs(lua_State *L)
{
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    SSL_certs_clear(ssl);
    lua_pushboolean(L, 1);
    return 1;
}

static int ssl_set_der_cert(lua_State *L)
{
    size_t len;
    const char *der = luaL_checklstring(L, 1, &len);
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    const unsigned char *p = (const unsigned char *)der, *end = p + len;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        return mg_lua_ssl_fail(L, "d2i_X509_bio() failed");
    }
    if (SSL_use_certificate(ssl, x) == 0) {
        X509_free(x);
        return mg_lua_ssl_fail(L, "SSL_use_certificate() failed");
    }
    X509_free(x);
    /* the rest is the chain */
    while (p < end) {
        x = d2i_X509(NULL, &p, (long)(end - p));
        if (x == NULL) {
            return mg_lua_ssl_fail(L, "d2i_X509_bio() failed");
        }
        if (SSL_add0_chain_cert(ssl, x) == 0) {
            X509_free(x);
            return mg_lua_ssl_fail(L, "SSL_add0_chain_cert() failed");
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int ssl_set_der_priv_key(lua_State *L)
{
    size_t len;
    const char *der = luaL_checklstring(L, 1, &len);
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    const unsigned char *p = (const unsigned char *)der;
    EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
    if (pkey == NULL) {
        return mg_lua_ssl_fail(L, "d2i_PrivateKey_bio() failed");
    }
    int ok = SSL_use_PrivateKey(ssl, pkey);
    EVP_PKEY_free(pkey);
    if (!ok) {
        return mg_lua_ssl_fail(L, "SSL_use_PrivateKey() failed");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* A PEM text's certificate then its chain; NULL with *err. */
static STACK_OF(X509) * read_chain(const char *pem, size_t len, const char **err)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    if (x == NULL) {
        BIO_free(bio);
        *err = "PEM_read_bio_X509_AUX() failed";
        return NULL;
    }
    STACK_OF(X509) *chain = sk_X509_new_null();
    sk_X509_push(chain, x);
    for (;;) {
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x == NULL) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
                break;
            }
            sk_X509_pop_free(chain, X509_free);
            BIO_free(bio);
            *err = "PEM_read_bio_X509() failed";
            return NULL;
        }
        sk_X509_push(chain, x);
    }
    BIO_free(bio);
    return chain;
}

static int ssl_cert_pem_to_der(lua_State *L)
{
    size_t len;
    const char *pem = luaL_checklstring(L, 1, &len);
    const char *err;
    STACK_OF(X509) *chain = read_chain(pem, len, &err);
    if (chain == NULL) {
        return mg_lua_ssl_fail(L, err);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < sk_X509_num(chain); i++) {
        unsigned char *der = NULL;
        int n = i2d_X509(sk_X509_value(chain, i), &der);
        if (n < 0) {
            sk_X509_pop_free(chain, X509_free);
            return mg_lua_ssl_fail(L, "i2d_X509() failed");
        }
        luaL_addlstring(&b, (const char *)der, (size_t)n);
        OPENSSL_free(der);
    }
    sk_X509_pop_free(chain, X509_free);
    luaL_pushresult(&b);
    return 1;
}

static int password_cb(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    const char *pw = userdata;
    if (pw == NULL) {
        return 0;
    }
    int n = (int)strlen(pw);
    n = n < size ? n : size;
    memcpy(buf, pw, (size_t)n);
    return n;
}

static EVP_PKEY *read_pkey(const char *pem, size_t len, const char *passphrase)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, password_cb, (void *)passphrase);
    BIO_free(bio);
    return pkey;
}

static int ssl_priv_key_pem_to_der(lua_State *L)
{
    size_t len;
    const char *pem = luaL_checklstring(L, 1, &len);
    const char *passphrase = luaL_optstring(L, 2, NULL);
    EVP_PKEY *pkey = read_pkey(pem, len, passphrase);
    if (pkey == NULL) {
        return mg_lua_ssl_fail(L, "PEM_read_bio_PrivateKey() failed");
    }
    unsigned char *der = NULL;
    int n = i2d_PrivateKey(pkey, &der);
    EVP_PKEY_free(pkey);
    if (n < 0) {
        return mg_lua_ssl_fail(L, "i2d_PrivateKey() failed");
    }
    lua_pushlstring(L, (const char *)der, (size_t)n);
    OPENSSL_free(der);
    return 1;
}

static int cert_gc(lua_State *L)
{
    STACK_OF(X509) **chain = luaL_checkudata(L, 1, CERT_MT);
    sk_X509_pop_free(*chain, X509_free);
    *chain = NULL;
    return 0;
}

static int pkey_gc(lua_State *L)
{
    EVP_PKEY **pkey = luaL_checkudata(L, 1, PKEY_MT);
    EVP_PKEY_free(*pkey);
    *pkey = NULL;
    return 0;
}

static int ssl_parse_pem_cert(lua_State *L)
{
    size_t len;
    const char *pem = luaL_checklstring(L, 1, &len);
    STACK_OF(X509) **ud = lua_newuserdata(L, sizeof(*ud));
    *ud = NULL;
    luaL_getmetatable(L, CERT_MT);
    lua_setmetatable(L, -2);
    const char *err;
    *ud = read_chain(pem, len, &err);
    return *ud ? 1 : mg_lua_ssl_fail(L, err);
}

static int ssl_parse_pem_priv_key(lua_State *L)
{
    size_t len;
    const char *pem = luaL_checklstring(L, 1, &len);
    EVP_PKEY **ud = lua_newuserdata(L, sizeof(*ud));
    *ud = NULL;
    luaL_getmetatable(L, PKEY_MT);
    lua_setmetatable(L, -2);
    *ud = read_pkey(pem, len, NULL);
    return *ud ? 1 : mg_lua_ssl_fail(L, "PEM_read_bio_PrivateKey() failed");
}

static int ssl_set_cert(lua_State *L)
{
    /* the connection first, as lua-resty-core's ("no request found" before the argument) */
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    STACK_OF(X509) **chain = luaL_checkudata(L, 1, CERT_MT);
    if (*chain == NULL || sk_X509_num(*chain) < 1) {
        return mg_lua_ssl_fail(L, "invalid certificate chain");
    }
    if (SSL_use_certificate(ssl, sk_X509_value(*chain, 0)) == 0) {
        return mg_lua_ssl_fail(L, "SSL_use_certificate() failed");
    }
    for (int i = 1; i < sk_X509_num(*chain); i++) {
        if (SSL_add1_chain_cert(ssl, sk_X509_value(*chain, i)) == 0) {
            return mg_lua_ssl_fail(L, "SSL_add1_chain_cert() failed");
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int ssl_set_priv_key(lua_State *L)
{
    /* the connection first, as lua-resty-core's ("no request found" before the argument) */
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    EVP_PKEY **pkey = luaL_checkudata(L, 1, PKEY_MT);
    if (*pkey == NULL) {
        return mg_lua_ssl_fail(L, "invalid private key failed");
    }
    if (SSL_use_PrivateKey(ssl, *pkey) == 0) {
        return mg_lua_ssl_fail(L, "SSL_use_PrivateKey() failed");
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int ssl_server_name(lua_State *L)
{
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, name);
    return 1;
}

static int ssl_server_port(lua_State *L)
{
    mg_connection_t *c;
    SSL *ssl = get_ssl(L, &c);
    if (ssl == NULL) {
        return 2;
    }
    if (mg_conn_local_addr(c) != MG_OK) {
        return mg_lua_ssl_fail(L, "getsockname() failed");
    }
    lua_pushinteger(L, mg_sockaddr_port(c->local_sockaddr));
    return 1;
}

/* An address's raw bytes and lua-resty-core's type name. */
static int push_raw_addr(lua_State *L, const struct sockaddr *sa, socklen_t len)
{
    switch (sa->sa_family) {
    case AF_INET6:
        lua_pushlstring(L, (const char *)&((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        lua_pushliteral(L, "inet6");
        return 2;
    case AF_UNIX: {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
        if (len <= (socklen_t)offsetof(struct sockaddr_un, sun_path)) {
            lua_pushliteral(L, "");
        } else {
            lua_pushstring(L, sun->sun_path);
        }
        lua_pushliteral(L, "unix");
        return 2;
    }
    default:
        lua_pushlstring(L, (const char *)&((const struct sockaddr_in *)sa)->sin_addr, 4);
        lua_pushliteral(L, "inet");
        return 2;
    }
}

static int ssl_raw_server_addr(lua_State *L)
{
    mg_connection_t *c;
    SSL *ssl = get_ssl(L, &c);
    if (ssl == NULL) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 3;
    }
    if (mg_conn_local_addr(c) != MG_OK) {
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushliteral(L, "getsockname() failed");
        return 3;
    }
    return push_raw_addr(L, c->local_sockaddr, c->local_socklen);
}

static int ssl_raw_client_addr(lua_State *L)
{
    mg_connection_t *c;
    SSL *ssl = get_ssl(L, &c);
    if (ssl == NULL) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 3;
    }
    return push_raw_addr(L, c->sockaddr, c->socklen);
}

static int ssl_get_tls1_version(lua_State *L)
{
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    lua_pushinteger(L, SSL_version(ssl));
    return 1;
}

static int ssl_get_tls1_version_str(lua_State *L)
{
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    static const struct {
        int version;
        const char *name;
    } names[] = {
        {SSL3_VERSION, "SSLv3"},     {TLS1_VERSION, "TLSv1"},     {TLS1_1_VERSION, "TLSv1.1"},
        {TLS1_2_VERSION, "TLSv1.2"}, {TLS1_3_VERSION, "TLSv1.3"},
    };
    int v = SSL_version(ssl);
    for (size_t i = 0; i < mg_nelems(names); i++) {
        if (names[i].version == v) {
            lua_pushstring(L, names[i].name);
            return 1;
        }
    }
    return mg_lua_ssl_fail(L, "unknown version");
}

static int verify_accept(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1; /* the handshake goes on; $ssl_client_verify tells the verdict, as nginx */
}

/* verify_client(ca_certs?, depth?): ask for a client certificate, verified against the parsed
 * chain's certificates (only for this connection) or the server's CAs. */
static int ssl_verify_client(lua_State *L)
{
    STACK_OF(X509) **chain = lua_isnoneornil(L, 1) ? NULL : luaL_checkudata(L, 1, CERT_MT);
    lua_Integer depth = luaL_optinteger(L, 2, -1);
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_accept);
    if (depth < 0) {
        /* the server's ssl_verify_depth when it verifies, else its default (1) */
        SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
        depth = SSL_CTX_get_verify_mode(ctx) != SSL_VERIFY_NONE ? SSL_CTX_get_verify_depth(ctx) : 1;
    }
    SSL_set_verify_depth(ssl, (int)depth);
    if (chain && *chain) {
        X509_STORE *store = X509_STORE_new();
        STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
        for (int i = 0; i < sk_X509_num(*chain); i++) {
            X509 *x = sk_X509_value(*chain, i);
            X509_STORE_add_cert(store, x);
            sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(x)));
        }
        SSL_set0_verify_cert_store(ssl, store);
        SSL_set_client_CA_list(ssl, names);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int ssl_export_keying_material(lua_State *L)
{
    lua_Integer length = luaL_checkinteger(L, 1);
    size_t llen, clen = 0;
    const char *label = luaL_checklstring(L, 2, &llen);
    const char *context = luaL_optlstring(L, 3, NULL, &clen);
    SSL *ssl = get_ssl(L, NULL);
    if (ssl == NULL) {
        return 2;
    }
    if (length <= 0 || length > 65536) {
        return mg_lua_ssl_fail(L, "bad length");
    }
    unsigned char *out = lua_newuserdata(L, (size_t)length);
    if (SSL_export_keying_material(ssl, out, (size_t)length, label, llen,
                                   (const unsigned char *)context, clen, context != NULL) != 1) {
        return mg_lua_ssl_fail(L, "SSL_export_keying_material() failed");
    }
    lua_pushlstring(L, (const char *)out, (size_t)length);
    return 1;
}

static int open_ssl(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"clear_certs", ssl_clear_certs},
        {"set_der_cert", ssl_set_der_cert},
        {"set_der_priv_key", ssl_set_der_priv_key},
        {"cert_pem_to_der", ssl_cert_pem_to_der},
        {"priv_key_pem_to_der", ssl_priv_key_pem_to_der},
        {"parse_pem_cert", ssl_parse_pem_cert},
        {"parse_pem_priv_key", ssl_parse_pem_priv_key},
        {"set_cert", ssl_set_cert},
        {"set_priv_key", ssl_set_priv_key},
        {"server_name", ssl_server_name},
        {"server_port", ssl_server_port},
        {"raw_server_addr", ssl_raw_server_addr},
        {"raw_client_addr", ssl_raw_client_addr},
        {"get_tls1_version", ssl_get_tls1_version},
        {"get_tls1_version_str", ssl_get_tls1_version_str},
        {"verify_client", ssl_verify_client},
        {"export_keying_material", ssl_export_keying_material},
        {NULL, NULL},
    };
    if (luaL_newmetatable(L, CERT_MT)) {
        lua_pushcfunction(L, cert_gc);
        lua_setfield(L, -2, "__gc");
    }
    if (luaL_newmetatable(L, PKEY_MT)) {
        lua_pushcfunction(L, pkey_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 2);
    lua_createtable(L, 0, (int)mg_nelems(fns) + 6);
    luaL_register(L, NULL, fns);
    static const struct {
        const char *name;
        int value;
    } versions[] = {
        {"SSL3_VERSION", SSL3_VERSION},     {"TLS1_VERSION", TLS1_VERSION},
        {"TLS1_1_VERSION", TLS1_1_VERSION}, {"TLS1_2_VERSION", TLS1_2_VERSION},
        {"TLS1_3_VERSION", TLS1_3_VERSION},
    };
    for (size_t i = 0; i < mg_nelems(versions); i++) {
        lua_pushinteger(L, versions[i].value);
        lua_setfield(L, -2, versions[i].name);
    }
    lua_pushliteral(L, "0.1.25");
    lua_setfield(L, -2, "version");
    return 1;
}

void mg_lua_ssl_preload(lua_State *L)
{
    mg_lua_preload(L, "ngx.ssl", open_ssl);
    mg_lua_preload(L, "ngx.ssl.clienthello", mg_lua_ssl_open_clienthello);
    mg_lua_preload(L, "ngx.ssl.session", mg_lua_ssl_open_session);
}
