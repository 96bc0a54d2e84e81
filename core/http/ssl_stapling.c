/*
 * OCSP stapling (ssl_stapling, ssl_stapling_file): the DER response a file holds is read and
 * checked while the configuration is read (a reload re-reads it) and sent to every client that
 * asks (status_request). Without a file nginx fetches the response from the certificate's
 * OCSP responder; moongate does not yet, and says so as nginx says it ignores stapling.
 */
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "ssl.h"

typedef struct {
    unsigned char *der;
    size_t len;
} staple_t;

static int status_cb(SSL *ssl, void *arg)
{
    staple_t *st = arg;
    if (st == NULL || st->len == 0) {
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

/* The certificate's issuer among the chain and the trusted certificates, as nginx looks. */
static int has_issuer(SSL_CTX *ctx, X509 *cert)
{
    STACK_OF(X509) *chain = NULL;
    SSL_CTX_get0_chain_certs(ctx, &chain);
    for (int i = 0; chain && i < sk_X509_num(chain); i++) {
        if (X509_check_issued(sk_X509_value(chain, i), cert) == X509_V_OK) {
            return 1;
        }
    }
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    for (int i = 0; objs && i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (x && X509_check_issued(x, cert) == X509_V_OK) {
            return 1;
        }
    }
    return 0;
}

mg_int_t mg_http_ssl_stapling(mg_conf_t *cf, SSL_CTX *ctx, mg_str_t file, const char *name,
                              const char *where)
{
    if (file.len == 0) {
        X509 *cert = SSL_CTX_get0_certificate(ctx);
        if (cert == NULL) {
            return MG_OK;
        }
        if (!has_issuer(ctx, cert)) {
            mg_log_error(MG_LOG_WARN, cf->log, 0,
                         "\"ssl_stapling\" ignored, issuer certificate not found for certificate "
                         "\"%s\"",
                         name);
            return MG_OK;
        }
        STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
        if (urls == NULL) {
            mg_log_error(MG_LOG_WARN, cf->log, 0,
                         "\"ssl_stapling\" ignored, no OCSP responder URL in the certificate "
                         "\"%s\"",
                         name);
        } else {
            X509_email_free(urls);
            mg_log_error(MG_LOG_WARN, cf->log, 0,
                         "\"ssl_stapling\" ignored, moongate does not query OCSP responders yet: "
                         "use \"ssl_stapling_file\" for the certificate \"%s\"",
                         name);
        }
        return MG_OK;
    }
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
    staple_t *st = mg_pcalloc(cf->pool, sizeof(staple_t));
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
    OPENSSL_free(der);
    SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
    SSL_CTX_set_tlsext_status_arg(ctx, st);
    return MG_OK;
}
