/*
 * TLS as a client: the settings shared by proxy_ssl_* and lua_ssl_*, the SSL_CTX they make
 * (read while the configuration is, so -t catches a bad file), a TLS state on a connected
 * socket, and the checks nginx makes once the handshake is done. The server's chain is
 * verified during the handshake with a callback that lets it go on whatever the verdict: the
 * caller decides (proxy_ssl_verify, sslhandshake's ssl_verify) and words the error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cycle.h"
#include "pool.h"
#include "ssl_client.h"
#include "str.h"

void mg_ssl_client_conf_init(mg_ssl_client_conf_t *c)
{
    memset(c, 0, sizeof(*c));
    c->protocols = MG_CONF_UNSET;
    c->passwords = MG_CONF_UNSET_PTR;
    c->verify_depth = MG_CONF_UNSET;
    c->conf_commands = MG_CONF_UNSET_PTR;
}

int mg_ssl_client_conf_unset(const mg_ssl_client_conf_t *c)
{
    return c->protocols == MG_CONF_UNSET && c->ciphers.data == NULL &&
           c->certificate.data == NULL && c->certificate_key.data == NULL &&
           c->passwords == MG_CONF_UNSET_PTR && c->trusted_certificate.data == NULL &&
           c->crl.data == NULL && c->verify_depth == MG_CONF_UNSET &&
           c->conf_commands == MG_CONF_UNSET_PTR;
}

void mg_ssl_client_conf_merge(mg_ssl_client_conf_t *c, mg_ssl_client_conf_t *prev,
                              mg_int_t protocols, const char *ciphers, mg_int_t depth)
{
    mg_conf_merge(c->protocols, prev->protocols, protocols);
    mg_conf_merge_str(c->ciphers, prev->ciphers, ciphers);
    if (c->certificate.data == NULL) {
        c->certificate = prev->certificate;
    }
    if (c->certificate_key.data == NULL) {
        c->certificate_key = prev->certificate_key;
    }
    mg_conf_merge_ptr(c->passwords, prev->passwords, NULL);
    if (c->trusted_certificate.data == NULL) {
        c->trusted_certificate = prev->trusted_certificate;
    }
    if (c->crl.data == NULL) {
        c->crl = prev->crl;
    }
    mg_conf_merge(c->verify_depth, prev->verify_depth, depth);
    mg_conf_merge_ptr(c->conf_commands, prev->conf_commands, NULL);
    if (c->where == NULL) {
        c->where = prev->where;
    }
}

const char *mg_ssl_client_set_protocols(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_int_t *field = (mg_int_t *)((char *)conf + cmd->offset);
    if (*field != MG_CONF_UNSET) {
        return "is duplicate";
    }
    static const mg_conf_enum_t names[] = {
        {"SSLv2", MG_SSL_SSLv2},     {"SSLv3", MG_SSL_SSLv3},     {"TLSv1", MG_SSL_TLSv1},
        {"TLSv1.1", MG_SSL_TLSv1_1}, {"TLSv1.2", MG_SSL_TLSv1_2}, {"TLSv1.3", MG_SSL_TLSv1_3},
    };
    mg_int_t bits = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        size_t k = 0;
        while (k < mg_nelems(names) && !mg_str_eq(cf->args[i], names[k].name)) {
            k++;
        }
        if (k == mg_nelems(names)) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", cf->args[i].data);
            return MG_CONF_ERROR;
        }
        bits |= names[k].value;
    }
    *field = bits;
    return MG_CONF_OK;
}

const char *mg_ssl_client_set_password_file(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_array_t **field = (mg_array_t **)((char *)conf + cmd->offset);
    if (*field != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    mg_str_t path = mg_conf_full_name(cf->cycle, cf->args[1], 1);
    FILE *f = fopen(path.data, "r");
    if (f == NULL) {
        mg_conf_error(cf, errno, "open() \"%s\" failed", path.data);
        return MG_CONF_ERROR;
    }
    mg_array_t *a = mg_array_create(cf->pool, 2, sizeof(mg_str_t));
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\r\n");
        mg_str_t *pw = mg_array_push(a);
        pw->data = mg_pstrdup(cf->pool, line, len);
        pw->len = len;
    }
    fclose(f);
    if (a->nelts == 0) {
        mg_conf_error(cf, 0, "empty file \"%s\"", path.data);
        return MG_CONF_ERROR;
    }
    *field = a;
    return MG_CONF_OK;
}

const char *mg_ssl_client_set_conf_command(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_array_t **field = (mg_array_t **)((char *)conf + cmd->offset);
    if (*field == MG_CONF_UNSET_PTR) {
        *field = mg_array_create(cf->pool, 2, sizeof(mg_str_t));
    }
    *(mg_str_t *)mg_array_push(*field) = cf->args[1];
    *(mg_str_t *)mg_array_push(*field) = cf->args[2];
    return MG_CONF_OK;
}

/* ---- the context ---- */

static mg_int_t ctx_error(mg_conf_t *cf, mg_ssl_client_conf_t *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static mg_int_t ctx_error(mg_conf_t *cf, mg_ssl_client_conf_t *c, const char *fmt, ...)
{
    char msg[1024], q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mg_log_error(MG_LOG_EMERG, cf->log, 0, "%s%s in %s", msg, mg_ssl_error_queue(q, sizeof(q)),
                 c->where ? c->where : mg_conf_where(cf));
    return MG_ERROR;
}

static void ctx_free(void *data)
{
    SSL_CTX_free(data);
}

/* The chain is checked, but the handshake goes on: the caller reads the verdict. */
static int verify_callback(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1;
}

/* The TLS state a client SSL object of mg_ssl_client_new belongs to, kept where the server
 * side keeps its connection (mg_ssl_conn_of: the record padding callback's argument, which
 * nothing reads while no such callback is set), not in app data: SSL_set_app_data would cost
 * every upstream connection an ex_data stack, two allocations. */
static mg_ssl_conn_t *client_state_of(const SSL *ssl)
{
    return SSL_get_record_padding_callback_arg(ssl);
}

static int new_session(SSL *ssl, SSL_SESSION *sess)
{
    mg_ssl_conn_t *sc = client_state_of(ssl);
    if (sc == NULL || sc->save_session == NULL) {
        return 0;
    }
    sc->save_session(sc, sess);
    return 1; /* the reference is the callee's */
}

static BIO *open_pem(mg_conf_t *cf, mg_ssl_client_conf_t *c, mg_str_t name, const char *what)
{
    if (name.len >= 5 && memcmp(name.data, "data:", 5) == 0) {
        return BIO_new_mem_buf(name.data + 5, (int)(name.len - 5));
    }
    mg_str_t path = mg_conf_full_name(cf->cycle, name, 1);
    BIO *bio = BIO_new_file(path.data, "r");
    if (bio == NULL) {
        ctx_error(cf, c, "cannot load %s \"%s\": BIO_new_file() failed", what, path.data);
    }
    return bio;
}

/* The client certificate (its chain after it) and its key, tried with each password. */
static mg_int_t load_certificate(mg_conf_t *cf, mg_ssl_client_conf_t *c)
{
    char *shown = mg_pstrdup(cf->pool, c->certificate.data, c->certificate.len);
    BIO *bio = open_pem(cf, c, c->certificate, "certificate");
    if (bio == NULL) {
        return MG_ERROR;
    }
    X509 *x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    if (x == NULL || SSL_CTX_use_certificate(c->ctx, x) != 1) {
        X509_free(x);
        BIO_free(bio);
        return ctx_error(cf, c, "cannot load certificate \"%s\": PEM_read_bio_X509_AUX() failed",
                         shown);
    }
    X509_free(x);
    /* the chain is the rest of the file, none when it has none: the context's
     * SSL_MODE_NO_AUTO_CHAIN (nginx's too) keeps OpenSSL from building one from the trusted
     * certificates at every handshake and sending what it found (t/531); an empty chain would
     * do the same at the cost of its copy in every connection's SSL object */
    X509 *ca;
    while ((ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        SSL_CTX_add0_chain_cert(c->ctx, ca);
    }
    ERR_clear_error();
    BIO_free(bio);
    char *kshown = mg_pstrdup(cf->pool, c->certificate_key.data, c->certificate_key.len);
    bio = open_pem(cf, c, c->certificate_key, "certificate key");
    if (bio == NULL) {
        return MG_ERROR;
    }
    EVP_PKEY *pkey = mg_ssl_read_key(bio, c->passwords);
    BIO_free(bio);
    if (pkey == NULL) {
        return ctx_error(
            cf, c, "cannot load certificate key \"%s\": PEM_read_bio_PrivateKey() failed", kshown);
    }
    ERR_clear_error();
    int ok = SSL_CTX_use_PrivateKey(c->ctx, pkey) == 1;
    EVP_PKEY_free(pkey);
    if (!ok) {
        return ctx_error(cf, c, "SSL_CTX_use_PrivateKey(\"%s\") failed", kshown);
    }
    return MG_OK;
}

static int same_str(mg_str_t a, mg_str_t b)
{
    return a.data == b.data && a.len == b.len;
}

/* The last context mg_ssl_client_ctx_shared made with nothing but protocols, ciphers and
 * depth (the Lua cosockets' http{}-level one, in every configuration): later generations take
 * it, since SSL_CTX_new costs more than the rest of a small configuration (~2M instructions
 * per reload in the master; ~10M in a fresh process, where OpenSSL fetches every algorithm
 * first). It keeps a reference of its own for the process's life. */
static struct {
    SSL_CTX *ctx;
    mg_int_t protocols, depth;
    char ciphers[256];
} plain;
static pthread_mutex_t plain_lock = PTHREAD_MUTEX_INITIALIZER; /* embedded servers' threads */

static int is_plain(const mg_ssl_client_conf_t *c)
{
    return (c->certificate.data == NULL || c->certificate.len == 0) &&
           (c->trusted_certificate.data == NULL || c->trusted_certificate.len == 0) &&
           (c->crl.data == NULL || c->crl.len == 0) && c->passwords == NULL &&
           (c->conf_commands == NULL || c->conf_commands->nelts == 0) &&
           c->ciphers.len < sizeof(plain.ciphers);
}

static int same_settings(const mg_ssl_client_conf_t *c, const mg_ssl_client_conf_t *prev)
{
    return c->protocols == prev->protocols && same_str(c->ciphers, prev->ciphers) &&
           same_str(c->certificate, prev->certificate) &&
           same_str(c->certificate_key, prev->certificate_key) && c->passwords == prev->passwords &&
           same_str(c->trusted_certificate, prev->trusted_certificate) &&
           same_str(c->crl, prev->crl) && c->verify_depth == prev->verify_depth &&
           c->conf_commands == prev->conf_commands && c->no_verify == prev->no_verify;
}

mg_int_t mg_ssl_client_ctx_shared(mg_conf_t *cf, mg_ssl_client_conf_t *c,
                                  mg_ssl_client_conf_t *prev)
{
    if (prev && same_settings(c, prev)) {
        c->ctx = prev->ctx; /* NULL only under -s, where nothing uses it */
        return MG_OK;
    }
    if (c->ctx || prev || !is_plain(c)) {
        return mg_ssl_client_ctx(cf, c, prev);
    }
    if (cf->cycle->signalling) {
        /* -s only reads the pid file: such a context cannot fail, and nothing will use it */
        return MG_OK;
    }
    pthread_mutex_lock(&plain_lock);
    if (plain.ctx && plain.protocols == c->protocols && plain.depth == c->verify_depth &&
        strlen(plain.ciphers) == c->ciphers.len &&
        memcmp(plain.ciphers, c->ciphers.data, c->ciphers.len) == 0) {
        SSL_CTX_up_ref(plain.ctx); /* this generation's, dropped with its pool */
        c->ctx = plain.ctx;
        pthread_mutex_unlock(&plain_lock);
        mg_pool_cleanup_add(cf->pool, ctx_free, c->ctx);
        return MG_OK;
    }
    pthread_mutex_unlock(&plain_lock);
    if (mg_ssl_client_ctx(cf, c, NULL) != MG_OK) {
        return MG_ERROR;
    }
    pthread_mutex_lock(&plain_lock);
    if (plain.ctx) {
        SSL_CTX_free(plain.ctx); /* other settings now: the cache's reference goes */
    }
    SSL_CTX_up_ref(c->ctx); /* the cache's own, for the process's life */
    plain.ctx = c->ctx;
    plain.protocols = c->protocols;
    plain.depth = c->verify_depth;
    memcpy(plain.ciphers, c->ciphers.data, c->ciphers.len);
    plain.ciphers[c->ciphers.len] = '\0';
    pthread_mutex_unlock(&plain_lock);
    return MG_OK;
}

mg_int_t mg_ssl_client_ctx(mg_conf_t *cf, mg_ssl_client_conf_t *c, mg_ssl_client_conf_t *prev)
{
    if (c->ctx) {
        return MG_OK;
    }
    if (prev && prev->ctx && same_settings(c, prev)) {
        c->ctx = prev->ctx; /* nothing of its own at this level: one context for both */
        return MG_OK;
    }
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        return ctx_error(cf, c, "SSL_CTX_new() failed");
    }
    mg_pool_cleanup_add(cf->pool, ctx_free, c->ctx);
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                    SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
    /* nginx's protocol switches: every protocol not listed is turned off */
    SSL_CTX_set_min_proto_version(c->ctx, 0);
    static const struct {
        mg_int_t proto;
        uint64_t op;
    } ops[] = {
        {MG_SSL_SSLv3, SSL_OP_NO_SSLv3},     {MG_SSL_TLSv1, SSL_OP_NO_TLSv1},
        {MG_SSL_TLSv1_1, SSL_OP_NO_TLSv1_1}, {MG_SSL_TLSv1_2, SSL_OP_NO_TLSv1_2},
        {MG_SSL_TLSv1_3, SSL_OP_NO_TLSv1_3},
    };
    for (size_t i = 0; i < mg_nelems(ops); i++) {
        if (!(c->protocols & ops[i].proto)) {
            SSL_CTX_set_options(c->ctx, ops[i].op);
        }
    }
    char *ciphers = mg_pstrdup(cf->pool, c->ciphers.data, c->ciphers.len);
    if (SSL_CTX_set_cipher_list(c->ctx, ciphers) != 1) {
        return ctx_error(cf, c, "SSL_CTX_set_cipher_list(\"%s\") failed", ciphers);
    }
    if (c->certificate.data && c->certificate.len) {
        if (c->certificate_key.data == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "no \"*_ssl_certificate_key\" is defined for certificate \"%.*s\" in %s",
                         (int)c->certificate.len, c->certificate.data,
                         c->where ? c->where : mg_conf_where(cf));
            return MG_ERROR;
        }
        if (load_certificate(cf, c) != MG_OK) {
            return MG_ERROR;
        }
    }
    SSL_CTX_set_verify_depth(c->ctx, (int)c->verify_depth);
    /* with no verdict to read, the upstream's chain is not verified at each full handshake
     * (~40 mallocs of one), and a file that cannot be read is no error, as nginx */
    if (c->trusted_certificate.data && c->trusted_certificate.len && !c->no_verify) {
        mg_str_t path = mg_conf_full_name(cf->cycle, c->trusted_certificate, 1);
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, verify_callback);
        if (SSL_CTX_load_verify_locations(c->ctx, path.data, NULL) != 1) {
            return ctx_error(cf, c, "SSL_CTX_load_verify_locations(\"%s\") failed", path.data);
        }
    }
    if (c->crl.data && c->crl.len && !c->no_verify) {
        mg_str_t path = mg_conf_full_name(cf->cycle, c->crl, 1);
        X509_STORE *store = SSL_CTX_get_cert_store(c->ctx);
        X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
        if (lookup == NULL || X509_LOOKUP_load_file(lookup, path.data, X509_FILETYPE_PEM) != 1) {
            return ctx_error(cf, c, "X509_LOOKUP_load_file(\"%s\") failed", path.data);
        }
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    /* sessions are kept by the caller (per peer, or by Lua code), not in OpenSSL's cache */
    SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(c->ctx, new_session);
    if (c->conf_commands && c->conf_commands->nelts) {
        SSL_CONF_CTX *cctx = SSL_CONF_CTX_new();
        SSL_CONF_CTX_set_flags(cctx, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_CLIENT |
                                         SSL_CONF_FLAG_CERTIFICATE | SSL_CONF_FLAG_SHOW_ERRORS);
        SSL_CONF_CTX_set_ssl_ctx(cctx, c->ctx);
        mg_str_t *cmd = c->conf_commands->elts;
        for (size_t i = 0; i + 1 < c->conf_commands->nelts; i += 2) {
            char *name = mg_pstrdup(cf->pool, cmd[i].data, cmd[i].len);
            char *value = mg_pstrdup(cf->pool, cmd[i + 1].data, cmd[i + 1].len);
            if (SSL_CONF_cmd(cctx, name, value) <= 0) {
                SSL_CONF_CTX_free(cctx);
                return ctx_error(cf, c, "SSL_CONF_cmd(\"%s\", \"%s\") failed", name, value);
            }
        }
        SSL_CONF_CTX_finish(cctx);
        SSL_CONF_CTX_free(cctx);
    }
    return MG_OK;
}

/* ---- a connection ---- */

mg_ssl_conn_t *mg_ssl_client_new(SSL_CTX *ctx, int fd, mg_log_t *log, const char *name,
                                 SSL_SESSION *session)
{
    mg_ssl_conn_t *sc = mg_ssl_new(ctx, fd, log, 0);
    sc->client = 1;
    SSL_set_connect_state(sc->ssl);
    SSL_set_record_padding_callback_arg(sc->ssl, sc); /* client_state_of */
    unsigned char ip[16];
    if (name && *name && inet_pton(AF_INET, name, ip) != 1 && inet_pton(AF_INET6, name, ip) != 1) {
        SSL_set_tlsext_host_name(sc->ssl, name);
    }
    if (session) {
        SSL_set_session(sc->ssl, session);
    }
    return sc;
}

/* X509_V_OK, or the chain's verify error (no certificate at all is one) */
static long verify_result(mg_ssl_conn_t *sc)
{
    X509 *cert = SSL_get0_peer_certificate(sc->ssl);
    long rc = SSL_get_verify_result(sc->ssl);
    if (rc == X509_V_OK && cert == NULL) {
        return X509_V_ERR_APPLICATION_VERIFICATION; /* no certificate at all */
    }
    return rc;
}

int mg_ssl_client_check_host(mg_ssl_conn_t *sc, const char *name, size_t len)
{
    X509 *cert = SSL_get0_peer_certificate(sc->ssl);
    if (cert == NULL) {
        return 0;
    }
    char buf[256];
    if (len >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (X509_check_ip_asc(cert, buf, 0) == 1) {
        return 1;
    }
    return X509_check_host(cert, name, len, 0, NULL) == 1;
}

mg_str_t mg_ssl_client_host(mg_str_t name)
{
    const char *colon = NULL;
    if (name.len && name.data[0] == '[') {
        const char *rb = memchr(name.data, ']', name.len);
        if (rb) {
            name.data++;
            name.len = (size_t)(rb - name.data);
        }
    } else {
        colon = memchr(name.data, ':', name.len);
    }
    if (colon) {
        name.len = (size_t)(colon - name.data);
    }
    return name;
}

static void peer_session_free(void *data)
{
    mg_ssl_client_session_t *keep = data;
    SSL_SESSION_free(keep->session);
    keep->session = NULL;
}

/* a session the peer gave (after the handshake with TLS 1.3): the next connection resumes it */
static void save_session(mg_ssl_conn_t *sc, SSL_SESSION *sess)
{
    mg_ssl_client_session_t *keep = sc->data;
    SSL_SESSION_free(keep->session);
    keep->session = sess;
    keep->ctx = SSL_get_SSL_CTX(sc->ssl);
}

void mg_ssl_client_keep_session(mg_ssl_conn_t *sc, mg_ssl_client_session_t *keep, mg_pool_t *owner)
{
    if (!keep->cleanup) {
        keep->cleanup = 1;
        mg_pool_cleanup_add(owner, peer_session_free, keep);
    }
    sc->save_session = save_session;
    sc->data = keep;
}

mg_ssl_conn_t *mg_ssl_client_peer_new(SSL_CTX *ctx, int fd, mg_log_t *log, const char *name,
                                      mg_ssl_client_session_t *keep, mg_pool_t *owner)
{
    mg_ssl_conn_t *sc =
        mg_ssl_client_new(ctx, fd, log, name, keep && keep->ctx == ctx ? keep->session : NULL);
    if (keep) {
        mg_ssl_client_keep_session(sc, keep, owner);
    }
    return sc;
}

mg_int_t mg_ssl_client_verify(mg_ssl_conn_t *sc, mg_log_t *log, mg_str_t name)
{
    long v = verify_result(sc);
    if (v != X509_V_OK) {
        mg_log_error(MG_LOG_ERR, log, 0, "upstream SSL certificate verify error: (%ld:%s)", v,
                     X509_verify_cert_error_string(v));
        return MG_ERROR;
    }
    if (!mg_ssl_client_check_host(sc, name.data, name.len)) {
        mg_log_error(MG_LOG_ERR, log, 0, "upstream SSL certificate does not match \"%.*s\"",
                     (int)name.len, name.data);
        return MG_ERROR;
    }
    return MG_OK;
}
