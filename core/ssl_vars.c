/*
 * $ssl_* values from an SSL object, shared by http's and stream's variables: one function,
 * the variable chosen by its MG_SSL_VAR_* number.
 */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "connection.h"
#include "ssl_vars.h"

const mg_ssl_var_name_t mg_ssl_var_names[] = {
    {"ssl_protocol", MG_SSL_VAR_PROTOCOL},
    {"ssl_cipher", MG_SSL_VAR_CIPHER},
    {"ssl_ciphers", MG_SSL_VAR_CIPHERS},
    {"ssl_curves", MG_SSL_VAR_CURVES},
    {"ssl_curve", MG_SSL_VAR_CURVE},
    {"ssl_session_id", MG_SSL_VAR_SESSION_ID},
    {"ssl_session_reused", MG_SSL_VAR_SESSION_REUSED},
    {"ssl_client_verify", MG_SSL_VAR_CLIENT_VERIFY},
    {"ssl_client_s_dn", MG_SSL_VAR_CLIENT_S_DN},
    {"ssl_client_i_dn", MG_SSL_VAR_CLIENT_I_DN},
    {"ssl_client_serial", MG_SSL_VAR_CLIENT_SERIAL},
    {"ssl_client_fingerprint", MG_SSL_VAR_CLIENT_FINGERPRINT},
    {"ssl_client_raw_cert", MG_SSL_VAR_CLIENT_RAW_CERT},
    {"ssl_client_cert", MG_SSL_VAR_CLIENT_CERT},
    {"ssl_client_escaped_cert", MG_SSL_VAR_CLIENT_ESCAPED_CERT},
    {"ssl_client_s_dn_legacy", MG_SSL_VAR_CLIENT_S_DN_LEGACY},
    {"ssl_client_i_dn_legacy", MG_SSL_VAR_CLIENT_I_DN_LEGACY},
    {"ssl_client_v_start", MG_SSL_VAR_CLIENT_V_START},
    {"ssl_client_v_end", MG_SSL_VAR_CLIENT_V_END},
    {"ssl_client_v_remain", MG_SSL_VAR_CLIENT_V_REMAIN},
    {NULL, 0},
};

static mg_str_t value(const char *s, size_t len)
{
    return (mg_str_t){len, (char *)s};
}

static mg_str_t cstr(const char *s)
{
    return value(s, strlen(s));
}

/* A list joined with ':' into the pool. */
typedef struct {
    mg_pool_t *pool;
    char *buf;
    size_t len, size;
} joiner_t;

static void join(joiner_t *j, const char *s, size_t len)
{
    if (j->len + len + 1 > j->size) {
        size_t nsize = (j->size + len + 1) * 2;
        char *nb = mg_pnalloc(j->pool, nsize);
        if (j->len) {
            memcpy(nb, j->buf, j->len);
        }
        j->buf = nb;
        j->size = nsize;
    }
    if (j->len) {
        j->buf[j->len++] = ':';
    }
    memcpy(j->buf + j->len, s, len);
    j->len += len;
}

/* A group as nginx names it: OpenSSL's short name ("X25519", "prime256v1"), or 0xXXXX. */
static void group_name(int nid, char *buf, size_t size)
{
    const char *name = (nid & TLSEXT_nid_unknown) ? NULL : OBJ_nid2sn(nid);
    if (name == NULL) {
        snprintf(buf, size, "0x%04x", nid & 0xffff);
    } else {
        snprintf(buf, size, "%s", name);
    }
}

static mg_str_t hex(mg_pool_t *pool, const unsigned char *p, size_t n)
{
    char *s = mg_pnalloc(pool, 2 * n + 1);
    mg_hex_dump(s, p, n);
    return value(s, 2 * n);
}

static mg_str_t bio_value(mg_pool_t *pool, BIO *bio)
{
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    mg_str_t v = value(mg_pstrdup(pool, p, n > 0 ? (size_t)n : 0), n > 0 ? (size_t)n : 0);
    BIO_free(bio);
    return v;
}

static mg_str_t client_cert(mg_pool_t *pool, X509 *cert, int which)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    if (which == MG_SSL_VAR_CLIENT_RAW_CERT) {
        return bio_value(pool, bio);
    }
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    size_t len = n > 0 ? (size_t)n : 0;
    /* at most three bytes for one */
    char *out = mg_pnalloc(pool, 3 * len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (which == MG_SSL_VAR_CLIENT_CERT) {
            if (ch == '\n' && i + 1 < len) {
                *o++ = '\n';
                *o++ = '\t'; /* the old header-friendly form: lines after the first indented */
                continue;
            }
            if (ch == '\n') {
                continue; /* the last newline is dropped */
            }
            *o++ = (char)ch;
        } else if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                   (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            *o++ = (char)ch;
        } else {
            o += sprintf(o, "%%%02X", ch);
        }
    }
    BIO_free(bio);
    return value(out, (size_t)(o - out));
}

/* the client certificate's values: "" without one */
static mg_str_t client_value(mg_pool_t *pool, SSL *ssl, int which)
{
    X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    if (cert == NULL) {
        return value("", 0);
    }
    switch (which) {
    case MG_SSL_VAR_CLIENT_S_DN:
    case MG_SSL_VAR_CLIENT_I_DN: {
        BIO *bio = BIO_new(BIO_s_mem());
        X509_NAME_print_ex(bio,
                           which == MG_SSL_VAR_CLIENT_I_DN ? X509_get_issuer_name(cert)
                                                           : X509_get_subject_name(cert),
                           0, XN_FLAG_RFC2253);
        return bio_value(pool, bio);
    }
    case MG_SSL_VAR_CLIENT_S_DN_LEGACY:
    case MG_SSL_VAR_CLIENT_I_DN_LEGACY: {
        /* the old one-line form: "/C=US/CN=name" */
        char *s =
            X509_NAME_oneline(which == MG_SSL_VAR_CLIENT_I_DN_LEGACY ? X509_get_issuer_name(cert)
                                                                     : X509_get_subject_name(cert),
                              NULL, 0);
        mg_str_t v = s ? value(mg_pstrdup(pool, s, strlen(s)), strlen(s)) : value("", 0);
        OPENSSL_free(s);
        return v;
    }
    case MG_SSL_VAR_CLIENT_V_START:
    case MG_SSL_VAR_CLIENT_V_END: {
        /* "Sep 20 12:00:00 2016 GMT", as ASN1_TIME_print writes it */
        BIO *bio = BIO_new(BIO_s_mem());
        ASN1_TIME_print(bio, which == MG_SSL_VAR_CLIENT_V_START ? X509_get0_notBefore(cert)
                                                                : X509_get0_notAfter(cert));
        return bio_value(pool, bio);
    }
    case MG_SSL_VAR_CLIENT_V_REMAIN: {
        /* whole days until it expires, 0 when less than one is left */
        int days = 0, secs = 0;
        if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) || days < 0 ||
            (days == 0 && secs < 0)) {
            days = 0;
        }
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%d", days);
        return value(mg_pstrdup(pool, buf, (size_t)n), (size_t)n);
    }
    case MG_SSL_VAR_CLIENT_SERIAL: {
        BIO *bio = BIO_new(BIO_s_mem());
        i2a_ASN1_INTEGER(bio, X509_get_serialNumber(cert));
        return bio_value(pool, bio);
    }
    case MG_SSL_VAR_CLIENT_FINGERPRINT: {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len;
        if (!X509_digest(cert, EVP_sha1(), md, &len)) {
            return value("", 0);
        }
        return hex(pool, md, len);
    }
    default:
        return client_cert(pool, cert, which);
    }
}

mg_str_t mg_ssl_var(mg_pool_t *pool, mg_ssl_conn_t *sc, int which)
{
    SSL *ssl = sc ? sc->ssl : NULL;
    if (which >= MG_SSL_VAR_CLIENT_S_DN) {
        return client_value(pool, ssl, which);
    }
    if (ssl == NULL) {
        return which == MG_SSL_VAR_SESSION_REUSED ? value("", 0) : (mg_str_t)mg_null_string;
    }
    switch (which) {
    case MG_SSL_VAR_PROTOCOL:
        return cstr(SSL_get_version(ssl));
    case MG_SSL_VAR_CIPHER:
        return cstr(SSL_get_cipher_name(ssl));
    case MG_SSL_VAR_CIPHERS: {
        joiner_t j = {pool, NULL, 0, 0};
        /* the client's list, as OpenSSL knows it */
        STACK_OF(SSL_CIPHER) *sk = SSL_get_client_ciphers(ssl);
        for (int i = 0; sk && i < sk_SSL_CIPHER_num(sk); i++) {
            join(&j, SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)),
                 strlen(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i))));
        }
        return value(j.buf ? j.buf : "", j.len);
    }
    case MG_SSL_VAR_CURVES: {
        int n = SSL_get1_curves(ssl, NULL);
        if (n <= 0) {
            return value("", 0);
        }
        int *curves = mg_palloc(pool, (size_t)n * sizeof(int));
        SSL_get1_curves(ssl, curves);
        joiner_t j = {pool, NULL, 0, 0};
        for (int i = 0; i < n; i++) {
            char name[64];
            group_name(curves[i], name, sizeof(name));
            join(&j, name, strlen(name));
        }
        return value(j.buf, j.len);
    }
    case MG_SSL_VAR_CURVE: {
        int nid = SSL_get_negotiated_group(ssl);
        if (nid == 0) {
            return value("", 0);
        }
        char name[64];
        group_name(nid, name, sizeof(name));
        return value(mg_pstrdup(pool, name, strlen(name)), strlen(name));
    }
    case MG_SSL_VAR_SESSION_ID: {
        SSL_SESSION *sess = SSL_get0_session(ssl);
        if (sess == NULL) {
            return (mg_str_t)mg_null_string;
        }
        unsigned int len;
        const unsigned char *id = SSL_SESSION_get_id(sess, &len);
        return hex(pool, id, len);
    }
    case MG_SSL_VAR_SESSION_REUSED:
        return value(SSL_session_reused(ssl) ? "r" : ".", 1);
    case MG_SSL_VAR_CLIENT_VERIFY: {
        if (SSL_get0_peer_certificate(ssl) == NULL) {
            return value("NONE", 4);
        }
        long rc = SSL_get_verify_result(ssl);
        if (rc == X509_V_OK && sc->ocsp_error == NULL) {
            return value("SUCCESS", 7);
        }
        /* a chain that verified can still fail ssl_ocsp (revoked, or no answer) */
        char *s = mg_psprintf(pool, "FAILED:%s",
                              rc != X509_V_OK ? X509_verify_cert_error_string(rc) : sc->ocsp_error);
        return cstr(s);
    }
    }
    return (mg_str_t)mg_null_string;
}

mg_str_t mg_ssl_alpn(mg_ssl_conn_t *sc)
{
    const unsigned char *proto = NULL;
    unsigned int len = 0;
    if (sc) {
        SSL_get0_alpn_selected(sc->ssl, &proto, &len);
    }
    return value(len ? (const char *)proto : "", len);
}

/* the errors ssl_verify_client optional_no_ca lets through (as nginx's) */
static int verify_error_optional(long rc)
{
    return rc == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
           rc == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
           rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
           rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
           rc == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

int mg_ssl_check_client(mg_connection_t *c, int verify)
{
    if (verify == 0) {
        return MG_SSL_CLIENT_OK;
    }
    SSL *ssl = c->ssl->ssl;
    int rc = MG_SSL_CLIENT_OK;
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK && (verify != 3 || !verify_error_optional(vr))) {
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client SSL certificate verify error: (%ld:%s)", vr,
                     X509_verify_cert_error_string(vr));
        rc = MG_SSL_CLIENT_CERT_ERROR;
    } else if (c->ssl->ocsp_error) {
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client SSL certificate verify error: %s",
                     c->ssl->ocsp_error);
        rc = MG_SSL_CLIENT_CERT_ERROR;
    } else if (verify == 1 && SSL_get0_peer_certificate(ssl) == NULL) {
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent no required SSL certificate");
        rc = MG_SSL_CLIENT_NO_CERT;
    }
    if (rc != MG_SSL_CLIENT_OK) {
        /* a resumed session must not skip the check that failed */
        SSL_CTX_remove_session(SSL_get_SSL_CTX(ssl), SSL_get0_session(ssl));
    }
    return rc;
}
