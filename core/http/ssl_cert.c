/*
 * ssl_certificate / ssl_certificate_key with variables (nginx >= 1.15.9): the pair is compiled
 * while the configuration is read and loaded for every handshake, after SNI chose the server,
 * from the certificate callback (core/http/ssl.c), with a request made for the variables only
 * ($ssl_server_name and the like); in stream{} the pair is a stream complex value evaluated with
 * the handshaking session. Files are read each time, as nginx 1.22 does (no cache); a pair that
 * cannot be loaded aborts that handshake with nginx's line at [error].
 */
#include <openssl/pem.h>

#include "conn.h"
#include "script.h"
#include "server.h"
#include "ssl.h"
#include "stat.h"
#include "stream.h"

struct mg_http_ssl_cert_var_s {
    mg_http_complex_value_t cert; /* http's */
    mg_http_complex_value_t key;
    mg_stream_complex_t *scert; /* stream's (then the two above are unused) */
    mg_stream_complex_t *skey;
};

mg_http_ssl_cert_var_t *mg_http_ssl_cert_var(mg_conf_t *cf, mg_str_t cert, mg_str_t key)
{
    if (!mg_http_script_variables_count(cert) && !mg_http_script_variables_count(key)) {
        return NULL;
    }
    mg_http_ssl_cert_var_t *v = mg_pcalloc(cf->pool, sizeof(mg_http_ssl_cert_var_t));
    if (mg_http_compile_complex_value(cf, cert, &v->cert) != MG_OK ||
        mg_http_compile_complex_value(cf, key, &v->key) != MG_OK) {
        return MG_HTTP_SSL_CERT_VAR_ERROR;
    }
    return v;
}

mg_http_ssl_cert_var_t *mg_http_ssl_cert_var_stream(mg_conf_t *cf, mg_str_t cert, mg_str_t key)
{
    if (!memchr(cert.data, '$', cert.len) && !memchr(key.data, '$', key.len)) {
        return NULL;
    }
    mg_http_ssl_cert_var_t *v = mg_pcalloc(cf->pool, sizeof(mg_http_ssl_cert_var_t));
    v->scert = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
    v->skey = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
    if (mg_stream_complex_compile(cf, cert, v->scert) != MG_CONF_OK ||
        mg_stream_complex_compile(cf, key, v->skey) != MG_CONF_OK) {
        return MG_HTTP_SSL_CERT_VAR_ERROR;
    }
    return v;
}

void mg_http_ssl_cert_var_value(mg_request_t *r, mg_http_ssl_cert_var_t *v, mg_str_t *cert,
                                mg_str_t *key)
{
    *cert = mg_http_complex_value(r, &v->cert);
    *key = mg_http_complex_value(r, &v->key);
}

static void load_error(mg_connection_t *c, const char *fmt, const char *name)
{
    char q[1024], msg[1024];
    snprintf(msg, sizeof(msg), fmt, name);
    mg_log_error(MG_LOG_ERR, &c->log, 0, "%s%s", msg, mg_ssl_error_queue(q, sizeof(q)));
}

/* "data:PEM" or a file relative to the configuration's directory. */
static BIO *open_pem(mg_connection_t *c, mg_pool_t *pool, mg_str_t name, const char *what)
{
    if (name.len >= 5 && memcmp(name.data, "data:", 5) == 0) {
        return BIO_new_mem_buf(name.data + 5, (int)(name.len - 5));
    }
    mg_str_t path = mg_full_name(pool, c->cycle, name, 1);
    BIO *bio = BIO_new_file(path.data, "r");
    if (bio == NULL) {
        char fmt[64];
        snprintf(fmt, sizeof(fmt), "cannot load %s \"%%s\": BIO_new_file() failed", what);
        load_error(c, fmt, path.data);
    }
    return bio;
}

mg_int_t mg_http_ssl_use_pair(mg_connection_t *c, mg_pool_t *pool, SSL *ssl, mg_str_t cert,
                              mg_str_t key, mg_array_t *passwords)
{
    char *shown = mg_pstrdup(pool, cert.data, cert.len);
    BIO *bio = open_pem(c, pool, cert, "certificate");
    if (bio == NULL) {
        return MG_ERROR;
    }
    X509 *x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    if (x == NULL) {
        BIO_free(bio);
        load_error(c, "cannot load certificate \"%s\": PEM_read_bio_X509_AUX() failed", shown);
        return MG_ERROR;
    }
    STACK_OF(X509) *chain = sk_X509_new_null();
    for (X509 *ca; (ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL;) {
        sk_X509_push(chain, ca);
    }
    ERR_clear_error(); /* the end of the file */
    BIO_free(bio);
    if (SSL_use_certificate(ssl, x) != 1 || SSL_set0_chain(ssl, chain) != 1) {
        X509_free(x);
        sk_X509_pop_free(chain, X509_free);
        load_error(c, "SSL_use_certificate(\"%s\") failed", shown);
        return MG_ERROR;
    }
    X509_free(x);

    char *kshown = mg_pstrdup(pool, key.data, key.len);
    bio = open_pem(c, pool, key, "certificate key");
    if (bio == NULL) {
        return MG_ERROR;
    }
    EVP_PKEY *pkey = mg_ssl_read_key(bio, passwords);
    BIO_free(bio);
    if (pkey == NULL) {
        load_error(c, "cannot load certificate key \"%s\": PEM_read_bio_PrivateKey() failed",
                   kshown);
        return MG_ERROR;
    }
    int ok = SSL_use_PrivateKey(ssl, pkey);
    EVP_PKEY_free(pkey);
    if (ok != 1) {
        load_error(c, "SSL_use_PrivateKey(\"%s\") failed", kshown);
        return MG_ERROR;
    }
    return MG_OK;
}

mg_int_t mg_http_ssl_cert_load(mg_connection_t *c, mg_http_srv_conf_t *srv, SSL *ssl,
                               mg_array_t *vars, mg_array_t *passwords)
{
    mg_http_conn_t *hc = c->data;
    unsigned char stat = hc->stat;
    /* a request for the variables: the server SNI chose, no head; not one of the
     * connection's requests */
    mg_request_t *r = mg_http_create_request(c);
    c->requests--;
    hc->r = NULL; /* the lines speak of the handshake, as nginx's */
    r->main_conf = srv->ctx->main_conf;
    r->srv_conf = srv->ctx->srv_conf;
    r->loc_conf = srv->ctx->loc_conf;
    mg_int_t rc = MG_OK;
    mg_http_ssl_cert_var_t **v = vars->elts;
    for (size_t i = 0; i < vars->nelts && rc == MG_OK; i++) {
        mg_str_t cert = mg_http_complex_value(r, &v[i]->cert);
        mg_str_t key = mg_http_complex_value(r, &v[i]->key);
        rc = mg_http_ssl_use_pair(c, r->pool, ssl, cert, key, passwords);
    }
    mg_http_free_request(r);
    mg_stat_state(c->server, &hc->stat, stat);
    return rc;
}

mg_int_t mg_http_ssl_cert_load_stream(mg_connection_t *c, SSL *ssl, mg_array_t *vars,
                                      mg_array_t *passwords)
{
    mg_stream_session_t *s = c->data;
    mg_http_ssl_cert_var_t **v = vars->elts;
    for (size_t i = 0; i < vars->nelts; i++) {
        mg_str_t cert = mg_stream_complex_value(s, v[i]->scert);
        mg_str_t key = mg_stream_complex_value(s, v[i]->skey);
        if (mg_http_ssl_use_pair(c, s->pool, ssl, cert, key, passwords) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}
