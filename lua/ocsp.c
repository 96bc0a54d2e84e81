/*
 * require "ngx.ocsp": lua-resty-core's OCSP helpers in C, for ssl_certificate_by_lua code that
 * staples a response it got itself: the responder URL and the DER request for a DER chain
 * (the certificate, then its issuer: ngx.ssl.cert_pem_to_der's output), the check of a
 * response (core/http/ssl_ocsp_fetch.c's, as stapling's), and the response sent to a client
 * that asked for one (the status callback of ssl_stapling.c sends it). Answers and error
 * strings are lua-resty-core's.
 */
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "lua_ssl.h"
#include "ssl_stapling.h"

#define DEFAULT_BUF 4096 /* lua-resty-core's string buffer, the default maxlen */

/* The certificates of a DER chain, or NULL with *err (none read: the first failed). */
static STACK_OF(X509) * read_der_chain(const char *data, size_t len, const char **err)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    const unsigned char *p = (const unsigned char *)data, *end = p + len;
    while (p < end) {
        X509 *x = d2i_X509(NULL, &p, (long)(end - p));
        if (x == NULL) {
            break;
        }
        sk_X509_push(chain, x);
    }
    if (sk_X509_num(chain) == 0) {
        sk_X509_free(chain);
        *err = "d2i_X509_bio() failed";
        return NULL;
    }
    return chain;
}

static size_t opt_size(lua_State *L, int idx)
{
    lua_Integer n = luaL_optinteger(L, idx, DEFAULT_BUF);
    return n > 0 ? (size_t)n : 0;
}

/* The first two arguments of get_ocsp_responder_from_der_chain and create_ocsp_request: the
 * DER chain (NULL with nil, err pushed when none is read) and the answer's most bytes. */
static STACK_OF(X509) * chain_arg(lua_State *L, size_t *max)
{
    size_t len;
    const char *der = luaL_checklstring(L, 1, &len);
    *max = opt_size(L, 2);
    const char *err;
    STACK_OF(X509) *chain = read_der_chain(der, len, &err);
    if (chain == NULL) {
        mg_lua_ssl_fail(L, err);
    }
    return chain;
}

/* url | nil (the certificate names no responder) | url_truncated, "truncated" | nil, err */
static int ocsp_get_responder(lua_State *L)
{
    size_t max;
    STACK_OF(X509) *chain = chain_arg(L, &max);
    if (chain == NULL) {
        return 2;
    }
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(sk_X509_value(chain, 0));
    sk_X509_pop_free(chain, X509_free);
    if (urls == NULL || sk_OPENSSL_STRING_num(urls) == 0) {
        X509_email_free(urls);
        ERR_clear_error();
        lua_pushnil(L);
        return 1;
    }
    const char *url = sk_OPENSSL_STRING_value(urls, 0);
    size_t n = strlen(url);
    lua_pushlstring(L, url, n > max ? max : n);
    X509_email_free(urls);
    if (n > max) {
        lua_pushliteral(L, "truncated");
        return 2;
    }
    return 1;
}

/* The DER OCSP request for the chain's first certificate (issued by the second). */
static int ocsp_create_request(lua_State *L)
{
    size_t max;
    STACK_OF(X509) *chain = chain_arg(L, &max);
    if (chain == NULL) {
        return 2;
    }
    if (sk_X509_num(chain) < 2) {
        sk_X509_pop_free(chain, X509_free);
        return mg_lua_ssl_fail(L, "no issuer certificate in chain");
    }
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, sk_X509_value(chain, 0), sk_X509_value(chain, 1));
    sk_X509_pop_free(chain, X509_free);
    if (req == NULL || id == NULL || OCSP_request_add0_id(req, id) == NULL) {
        OCSP_CERTID_free(id);
        OCSP_REQUEST_free(req);
        return mg_lua_ssl_fail(L, "OCSP_cert_to_id() failed");
    }
    unsigned char *out = NULL;
    int n = i2d_OCSP_REQUEST(req, &out);
    OCSP_REQUEST_free(req);
    if (n <= 0) {
        return mg_lua_ssl_fail(L, "i2d_OCSP_REQUEST() failed");
    }
    if ((size_t)n > max) {
        OPENSSL_free(out);
        ERR_clear_error();
        lua_pushnil(L);
        lua_pushfstring(L, "output buffer too small: %d > %d", n, (int)max);
        return 2;
    }
    lua_pushlstring(L, (const char *)out, (size_t)n);
    OPENSSL_free(out);
    return 1;
}

/* true | nil, err (at most max_errmsg_len bytes of it) */
static int ocsp_validate_response(lua_State *L)
{
    size_t rlen, clen;
    const char *resp = luaL_checklstring(L, 1, &rlen);
    const char *der = luaL_checklstring(L, 2, &clen);
    size_t max = opt_size(L, 3);
    char err[512];
    const char *bad = NULL;
    STACK_OF(X509) *chain = read_der_chain(der, clen, &bad);
    if (chain && sk_X509_num(chain) < 2) {
        bad = "no issuer certificate in chain";
    }
    if (bad == NULL) {
        /* the responder's signature: its certificate among the chain's (the issuer, or one the
         * issuer delegated to), as stapling's check with ssl_stapling_verify */
        X509_STORE *store = X509_STORE_new();
        int status;
        time_t valid;
        bad = mg_ocsp_check((const unsigned char *)resp, rlen, sk_X509_value(chain, 0),
                            sk_X509_value(chain, 1), chain, store, OCSP_TRUSTOTHER, &status, &valid,
                            err, sizeof(err));
        X509_STORE_free(store);
        if (bad == NULL && status != V_OCSP_CERTSTATUS_GOOD) {
            snprintf(err, sizeof(err), "certificate status \"%s\" in the OCSP response",
                     OCSP_cert_status_str(status));
            bad = err;
        }
    }
    sk_X509_pop_free(chain, X509_free);
    ERR_clear_error();
    if (bad == NULL) {
        lua_pushboolean(L, 1);
        return 1;
    }
    size_t n = strlen(bad);
    lua_pushnil(L);
    lua_pushlstring(L, bad, n > max ? max : n);
    return 2;
}

/* Sends resp to a client that asked for a status (status_request): true | true, "no status
 * req" | nil, err. */
static int ocsp_set_status_resp(lua_State *L)
{
    size_t len;
    const char *resp = luaL_checklstring(L, 1, &len);
    mg_connection_t *c;
    const char *err = NULL;
    SSL *ssl = mg_lua_ssl_conn(L, &c, &err);
    if (ssl == NULL) {
        return mg_lua_ssl_fail(L, err);
    }
    if (SSL_get_tlsext_status_type(ssl) == -1) {
        lua_pushboolean(L, 1);
        lua_pushliteral(L, "no status req");
        return 2;
    }
    /* OpenSSL takes it over */
    unsigned char *copy = OPENSSL_memdup(resp, len);
    if (copy == NULL || SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)len) != 1) {
        OPENSSL_free(copy);
        return mg_lua_ssl_fail(L, "SSL_set_tlsext_status_ocsp_resp() failed");
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int open_ocsp(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"get_ocsp_responder_from_der_chain", ocsp_get_responder},
        {"create_ocsp_request", ocsp_create_request},
        {"validate_ocsp_response", ocsp_validate_response},
        {"set_ocsp_status_resp", ocsp_set_status_resp},
        {NULL, NULL},
    };
    return mg_lua_ssl_open_lib(L, fns);
}

void mg_lua_ocsp_preload(lua_State *L)
{
    mg_lua_preload(L, "ngx.ocsp", open_ocsp);
}
