/*
 * OCSP stapling (ssl_stapling, ssl_stapling_file, ssl_stapling_responder,
 * ssl_stapling_verify), as nginx does it: each certificate of a server's TLS context gets a
 * staple. With ssl_stapling_file the DER response the file holds is read and checked while
 * the configuration is read (a reload re-reads it) and sent to every client that asks
 * (status_request). Without one, a worker asks the certificate's OCSP responder (its
 * authorityInfoAccess URL, or ssl_stapling_responder, whose name is looked up while the
 * configuration is read: stapling is ignored when it is not found) when a client first asks and
 * sends nothing until a checked answer came (ssl_ocsp_fetch.c); the answer is sent until its
 * nextUpdate and refreshed before then (an hour at most, five minutes after a failure).
 */
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "ssl.h"
#include "ssl_stapling.h"

static int name_index = -1;   /* X509 ex data: the certificate's file, for the messages */
static int staple_index = -1; /* X509 ex data: its mg_ssl_staple_t */

void mg_http_ssl_cert_name(SSL_CTX *ctx, const char *name)
{
    if (name_index < 0) {
        name_index = X509_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    }
    X509 *x = SSL_CTX_get0_certificate(ctx);
    if (x) {
        X509_set_ex_data(x, name_index, (void *)name);
    }
}

#define OCSP_RETRY 300 /* s after a failure */

/* Takes a checked "good" answer as the staple (sent until its nextUpdate), to be refreshed
 * an hour before it would be due, at the latest at its nextUpdate less five minutes. */
static const char *staple_check(void *data, const unsigned char *der, size_t len, char *err,
                                size_t errlen)
{
    mg_ssl_staple_t *st = data;
    int status;
    time_t valid;
    X509_STORE *store = SSL_CTX_get_cert_store(st->ctx);
    if (mg_ocsp_check(der, len, st->cert, st->issuer, st->chain, store,
                      st->verify ? OCSP_TRUSTOTHER : OCSP_NOVERIFY, &status, &valid, err,
                      errlen) != NULL) {
        return err;
    }
    if (status != V_OCSP_CERTSTATUS_GOOD) {
        snprintf(err, errlen, "certificate status \"%s\" in the OCSP response",
                 OCSP_cert_status_str(status));
        return err;
    }
    free(st->der);
    st->der = mg_alloc(len);
    memcpy(st->der, der, len);
    st->len = len;
    st->valid = valid ? valid : (time_t)INT64_MAX;
    mg_time_update();
    time_t now = mg_now.sec;
    time_t refresh = st->valid - 300 < now + 3600 ? st->valid - 300 : now + 3600;
    st->refresh = refresh > now + OCSP_RETRY ? refresh : now + OCSP_RETRY;
    return NULL;
}

static void staple_done(void *data, int ok)
{
    mg_ssl_staple_t *st = data;
    st->fetch = NULL;
    if (!ok) {
        mg_time_update();
        st->refresh = mg_now.sec + OCSP_RETRY;
    }
}

static void fetch(mg_ssl_staple_t *st, mg_server_t *srv)
{
    mg_ocsp_ask_t ask = {.responder = &st->responder,
                         .cert = st->cert,
                         .issuer = st->issuer,
                         .log = st->log,
                         .cert_name = st->name,
                         .check = staple_check,
                         .done = staple_done,
                         .data = st};
    st->fetch = mg_ocsp_fetch_start(srv, &ask);
}

static int status_cb(SSL *ssl, void *arg)
{
    (void)arg;
    unsigned char *given;
    if (SSL_get_tlsext_status_ocsp_resp(ssl, &given) > 0) {
        return SSL_TLSEXT_ERR_OK; /* ngx.ocsp.set_ocsp_status_resp's, from the certificate hook */
    }
    X509 *cert = SSL_get_certificate(ssl);
    mg_ssl_staple_t *st = cert && staple_index >= 0 ? X509_get_ex_data(cert, staple_index) : NULL;
    if (st == NULL) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    if (!st->from_file) {
        /* the loop's cached time: this runs in most handshakes */
        mg_connection_t *c = mg_ssl_conn_of(ssl);
        if (st->fetch == NULL && mg_now.sec >= st->refresh && c && c->server) {
            fetch(st, c->server);
        }
        if (st->len && mg_now.sec >= st->valid) {
            free(st->der); /* expired: nothing is sent until a new one came */
            st->der = NULL;
            st->len = 0;
        }
    }
    if (st->len == 0) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    /* OpenSSL frees what it is given */
    unsigned char *copy = OPENSSL_memdup(st->der, st->len);
    if (copy == NULL || SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)st->len) != 1) {
        OPENSSL_free(copy);
        return SSL_TLSEXT_ERR_NOACK;
    }
    return SSL_TLSEXT_ERR_OK;
}

static void staple_free(void *data)
{
    mg_ssl_staple_t *st = data;
    if (st->fetch) {
        mg_ocsp_fetch_cancel(st->fetch);
    }
    if (!st->from_file) {
        free(st->der);
    }
    X509_free(st->issuer);
}

/* The responder's URL: MG_DECLINED for another prefix than http:// (ignored, warned) */
static mg_int_t parse_responder(mg_conf_t *cf, mg_ssl_staple_t *st, const char *url)
{
    const char *why = NULL;
    mg_int_t rc = mg_ocsp_responder_parse(cf->pool, url, &st->responder, &why);
    if (rc == MG_DECLINED) {
        mg_log_error(MG_LOG_WARN, cf->log, 0,
                     "\"ssl_stapling\" ignored, invalid URL prefix in "
                     "OCSP responder \"%s\" in the certificate \"%s\"",
                     url, st->name);
    } else if (rc == MG_ERROR) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "%s in OCSP responder \"%s\" in the certificate \"%s\"", why, url, st->name);
    }
    return rc;
}

static mg_int_t read_file(mg_conf_t *cf, mg_ssl_staple_t *st, mg_str_t file, const char *where)
{
    mg_str_t path = mg_conf_full_name(cf->cycle, file, 1);
    BIO *bio = BIO_new_file(path.data, "rb");
    char q[1024];
    if (bio == NULL) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "BIO_new_file(\"%s\") failed%s in %s", path.data,
                     mg_ssl_error_queue(q, sizeof(q)), where);
        return MG_ERROR;
    }
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE_bio(bio, NULL);
    BIO_free(bio);
    if (resp == NULL) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "d2i_OCSP_RESPONSE_bio(\"%s\") failed%s in %s",
                     path.data, mg_ssl_error_queue(q, sizeof(q)), where);
        return MG_ERROR;
    }
    unsigned char *der = NULL;
    int len = i2d_OCSP_RESPONSE(resp, &der);
    OCSP_RESPONSE_free(resp);
    if (len <= 0) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "i2d_OCSP_RESPONSE(\"%s\") failed%s in %s",
                     path.data, mg_ssl_error_queue(q, sizeof(q)), where);
        return MG_ERROR;
    }
    st->der = mg_pnalloc(cf->pool, (size_t)len);
    memcpy(st->der, der, (size_t)len);
    st->len = (size_t)len;
    st->from_file = 1;
    OPENSSL_free(der);
    return MG_OK;
}

/* One certificate's staple; MG_DECLINED when stapling is ignored for it (warned). */
static mg_int_t staple_cert(mg_conf_t *cf, SSL_CTX *ctx, X509 *cert,
                            const mg_http_ssl_stapling_conf_t *sc)
{
    mg_ssl_staple_t *st = mg_pcalloc(cf->pool, sizeof(mg_ssl_staple_t));
    st->cert = cert;
    st->ctx = ctx;
    st->verify = (unsigned)sc->verify;
    st->log = cf->log;
    st->name = name_index >= 0 ? X509_get_ex_data(cert, name_index) : NULL;
    st->name = st->name ? st->name : "";
    if (sc->file.len) {
        if (read_file(cf, st, sc->file, sc->where) != MG_OK) {
            return MG_ERROR;
        }
        X509_set_ex_data(cert, staple_index, st);
        return MG_OK;
    }
    SSL_CTX_get0_chain_certs(ctx, &st->chain);
    st->issuer = mg_ocsp_find_issuer(ctx, cert);
    if (st->issuer == NULL) {
        mg_log_error(MG_LOG_WARN, cf->log, 0,
                     "\"ssl_stapling\" ignored, issuer certificate not found for certificate "
                     "\"%s\"",
                     st->name);
        return MG_DECLINED;
    }
    mg_pool_cleanup_add(cf->pool, staple_free, st);
    if (sc->responder.len) {
        char *url = mg_pstrdup(cf->pool, sc->responder.data, sc->responder.len);
        mg_int_t rc = parse_responder(cf, st, url);
        if (rc != MG_OK) {
            return rc;
        }
    } else {
        STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
        if (urls == NULL || sk_OPENSSL_STRING_num(urls) == 0) {
            X509_email_free(urls);
            mg_log_error(MG_LOG_WARN, cf->log, 0,
                         "\"ssl_stapling\" ignored, no OCSP responder URL in the certificate "
                         "\"%s\"",
                         st->name);
            return MG_DECLINED;
        }
        mg_int_t rc = parse_responder(cf, st, sk_OPENSSL_STRING_value(urls, 0));
        X509_email_free(urls);
        if (rc != MG_OK) {
            return rc;
        }
    }
    /* as nginx: the name is looked up now, with the system's resolver; `resolver` is still
     * asked at each fetch, and without one these addresses are used */
    if (mg_ocsp_responder_resolve(cf->pool, &st->responder) != MG_OK) {
        mg_log_error(MG_LOG_WARN, cf->log, 0,
                     "\"ssl_stapling\" ignored, host not found in OCSP responder \"%s\" in the "
                     "certificate \"%s\"",
                     st->responder.url + 7, st->name);
        return MG_DECLINED;
    }
    st->responder.resolver = sc->resolver;
    st->responder.resolver_timeout = sc->resolver_timeout;
    X509_set_ex_data(cert, staple_index, st);
    return MG_OK;
}

void mg_http_ssl_status_given(SSL_CTX *ctx)
{
    SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
}

mg_int_t mg_http_ssl_stapling(mg_conf_t *cf, SSL_CTX *ctx, const mg_http_ssl_stapling_conf_t *sc)
{
    if (staple_index < 0) {
        staple_index = X509_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    }
    int any = 0;
    for (int rc = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST); rc == 1;
         rc = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT)) {
        X509 *cert = SSL_CTX_get0_certificate(ctx);
        if (cert == NULL) {
            continue;
        }
        mg_int_t r = staple_cert(cf, ctx, cert, sc);
        if (r == MG_ERROR) {
            return MG_ERROR;
        }
        any |= r == MG_OK;
    }
    if (any) {
        SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
    }
    return MG_OK;
}
