/*
 * HTTPS (nginx's ngx_http_ssl_module): the ssl_* directives, an SSL_CTX per server{} that has
 * certificates (made while the configuration is read, so -t and a reload catch every bad
 * file), the start of a connection on a "listen ... ssl" address (plain HTTP is told apart by
 * its first byte and answered 497 once its head is read), SNI choosing the server's context,
 * the client certificate check (495/496) and the $ssl_* variables. The TLS I/O itself is
 * core/ssl.c's.
 */
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "proxy_protocol.h"
#include "server.h"
#include "shm.h"
#include "shm_table.h"
#include "ssl.h"
#include "ssl_hello.h"
#include "ssl_vars.h"
#include "stream.h"
#include "v2.h"
#include "variables.h"

#define PROTO_SSLv2 0x02
#define PROTO_SSLv3 0x04
#define PROTO_TLSv1 0x08
#define PROTO_TLSv1_1 0x10
#define PROTO_TLSv1_2 0x20
#define PROTO_TLSv1_3 0x40

enum { CACHE_UNSET = -2, CACHE_OFF = -1, CACHE_NONE = 0 };
enum { VERIFY_OFF = 0, VERIFY_ON, VERIFY_OPTIONAL, VERIFY_OPTIONAL_NO_CA };
enum { OCSP_OFF = 0, OCSP_ON, OCSP_LEAF };

typedef struct {
    mg_array_t *certificates;     /* mg_str_t, MG_CONF_UNSET_PTR until set */
    mg_array_t *certificate_keys; /* mg_str_t */
    const char *cert_where;       /* FILE:LINE of the first ssl_certificate */
    mg_array_t *passwords;        /* mg_str_t, from ssl_password_file */
    const char *passwords_where;
    mg_int_t protocols;
    mg_str_t ciphers;
    int prefer_server_ciphers;
    mg_str_t ecdh_curve;
    mg_str_t dhparam;
    const char *dhparam_where;
    mg_array_t *conf_commands; /* mg_str_t pairs */
    size_t buffer_size;
    mg_int_t session_cache;  /* CACHE_*, or the builtin size (> 0) */
    mg_shm_zone_t *shm_zone; /* shared:NAME:SIZE */
    mg_shm_table_t *cache;   /* its table, attached while the configuration is read */
    mg_msec_t session_timeout;
    int session_tickets;
    mg_array_t *ticket_keys; /* mg_str_t paths */
    mg_array_t *tkeys;       /* ticket_key_t, the first encrypts; NULL: the shared keys */
    mg_shm_zone_t *tk_zone;  /* no ssl_session_ticket_key: the keys the master made */
    const char *tk_where;    /* FILE:LINE of the first ssl_session_ticket_key */
    mg_int_t verify;
    mg_int_t verify_depth;
    mg_str_t client_certificate;
    mg_str_t trusted_certificate;
    mg_str_t crl;
    int reject_handshake;
    int enable; /* the deprecated "ssl on" */
    const char *enable_where;
    const char *where; /* FILE:LINE of the directive a context error is blamed on */
    mg_log_t *log;     /* the generation's, for the session cache's lock outside a connection */
    SSL_CTX *ctx;
    mg_http_srv_conf_t *cscf;   /* the http server it belongs to, NULL for a stream one */
    mg_ssl_hook_srv_t hook_srv; /* the server, for the handshake hooks (either layer) */
    mg_array_t *cert_vars;      /* mg_http_ssl_cert_var_t *: pairs loaded per handshake */
    int stapling;
    mg_str_t stapling_file;
    int stapling_verify;
    mg_str_t stapling_responder;
    int early_data;
    mg_int_t ocsp; /* OCSP_* */
    const char *ocsp_where;
    mg_str_t ocsp_responder;
    mg_shm_table_t *ocsp_cache;
    mg_http_ssl_ocsp_conf_t *ocsp_conf; /* ssl_ocsp on a server that verifies clients */
} ssl_srv_conf_t;

mg_module_t mg_http_ssl_module;

/* An ssl_session_ticket_key file: 48 bytes (name, AES-128 key, HMAC key) or 80 bytes (name,
 * HMAC key, AES-256 key), laid out as nginx reads them so that both servers share tickets. */
typedef struct {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    size_t size; /* 48 or 80 */
} ticket_key_t;

/* Where the connection and the configuration hang on OpenSSL's objects. */
static int conf_index = -1; /* SSL_CTX ex data: its ssl_srv_conf_t */

static ssl_srv_conf_t *srv_ssl(mg_http_srv_conf_t *cscf)
{
    return cscf->ctx->srv_conf[mg_http_ssl_module.index];
}

static void *ssl_create_srv_conf(mg_conf_t *cf)
{
    ssl_srv_conf_t *s = mg_pcalloc(cf->pool, sizeof(ssl_srv_conf_t));
    s->certificates = MG_CONF_UNSET_PTR;
    s->certificate_keys = MG_CONF_UNSET_PTR;
    s->passwords = MG_CONF_UNSET_PTR;
    s->conf_commands = MG_CONF_UNSET_PTR;
    s->ticket_keys = MG_CONF_UNSET_PTR;
    s->protocols = MG_CONF_UNSET;
    s->prefer_server_ciphers = MG_CONF_UNSET;
    s->buffer_size = MG_CONF_UNSET_SIZE;
    s->session_cache = CACHE_UNSET;
    s->shm_zone = MG_CONF_UNSET_PTR;
    s->session_timeout = (mg_msec_t)MG_CONF_UNSET;
    s->session_tickets = MG_CONF_UNSET;
    s->verify = MG_CONF_UNSET;
    s->verify_depth = MG_CONF_UNSET;
    s->reject_handshake = MG_CONF_UNSET;
    s->enable = MG_CONF_UNSET;
    s->stapling = MG_CONF_UNSET;
    s->stapling_verify = MG_CONF_UNSET;
    s->early_data = MG_CONF_UNSET;
    s->ocsp = MG_CONF_UNSET;
    s->ocsp_cache = MG_CONF_UNSET_PTR;
    return s;
}

/* A session in the zone: what OpenSSL serializes (i2d_SSL_SESSION), up to nginx's 4096 bytes
 * (larger ones are not cached); each node holds only its own length (a session without a
 * client certificate is ~150 bytes: a node per session of SESSION_MAX would hold a tenth as
 * many in the zone, and fault in that much more of it). */
#define SESSION_MAX 4096
typedef struct {
    int64_t expires; /* seconds since the epoch */
    uint32_t len;
    unsigned char der[SESSION_MAX];
} cached_session_t;

/* ---- directives ---- */

static const char *where_copy(mg_conf_t *cf)
{
    const char *w = mg_conf_where(cf);
    return mg_pstrdup(cf->pool, w, strlen(w));
}

static const char *set_str_list(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_array_t **field = (mg_array_t **)((char *)conf + cmd->offset);
    if (*field == MG_CONF_UNSET_PTR) {
        *field = mg_pcalloc(cf->pool, sizeof(mg_array_t));
        mg_array_init(*field, cf->pool, 2, sizeof(mg_str_t));
    }
    for (size_t i = 1; i < cf->nargs; i++) {
        *(mg_str_t *)mg_array_push(*field) = cf->args[i];
    }
    ssl_srv_conf_t *s = conf;
    if (cmd->offset == offsetof(ssl_srv_conf_t, certificates) && s->cert_where == NULL) {
        s->cert_where = where_copy(cf);
    }
    if (cmd->offset == offsetof(ssl_srv_conf_t, ticket_keys) && s->tk_where == NULL) {
        s->tk_where = where_copy(cf);
    }
    return MG_CONF_OK;
}

static const char *set_protocols(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    ssl_srv_conf_t *s = conf;
    if (s->protocols != MG_CONF_UNSET) {
        return "is duplicate";
    }
    static const mg_conf_enum_t names[] = {
        {"SSLv2", PROTO_SSLv2},     {"SSLv3", PROTO_SSLv3},     {"TLSv1", PROTO_TLSv1},
        {"TLSv1.1", PROTO_TLSv1_1}, {"TLSv1.2", PROTO_TLSv1_2}, {"TLSv1.3", PROTO_TLSv1_3},
    };
    s->protocols = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        size_t k = 0;
        while (k < mg_nelems(names) && !mg_str_eq(cf->args[i], names[k].name)) {
            k++;
        }
        if (k == mg_nelems(names)) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", cf->args[i].data);
            return MG_CONF_ERROR;
        }
        s->protocols |= names[k].value;
    }
    return MG_CONF_OK;
}

static const char *set_password_file(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    ssl_srv_conf_t *s = conf;
    if (s->passwords != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    mg_str_t path = mg_conf_full_name(cf->cycle, cf->args[1], 1);
    FILE *f = fopen(path.data, "r");
    if (f == NULL) {
        mg_conf_error(cf, errno, "open() \"%s\" failed", path.data);
        return MG_CONF_ERROR;
    }
    s->passwords = mg_pcalloc(cf->pool, sizeof(mg_array_t));
    mg_array_init(s->passwords, cf->pool, 2, sizeof(mg_str_t));
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\r\n");
        mg_str_t *pw = mg_array_push(s->passwords);
        pw->data = mg_pstrdup(cf->pool, line, len);
        pw->len = len;
    }
    fclose(f);
    if (s->passwords->nelts == 0) {
        mg_conf_error(cf, 0, "empty file \"%s\"", path.data);
        return MG_CONF_ERROR;
    }
    s->passwords_where = where_copy(cf);
    return MG_CONF_OK;
}

static const char *set_path(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_str_t *field = (mg_str_t *)((char *)conf + cmd->offset);
    if (field->data) {
        return "is duplicate";
    }
    *field = cf->args[1];
    if (cmd->offset == offsetof(ssl_srv_conf_t, dhparam)) {
        ((ssl_srv_conf_t *)conf)->dhparam_where = where_copy(cf);
    }
    return MG_CONF_OK;
}

static const char *set_session_cache(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    ssl_srv_conf_t *s = conf;
    if (s->session_cache != CACHE_UNSET) {
        return "is duplicate";
    }
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        if (mg_str_eq(a, "off")) {
            s->session_cache = CACHE_OFF;
            continue;
        }
        if (mg_str_eq(a, "none")) {
            s->session_cache = CACHE_NONE;
            continue;
        }
        if (mg_str_eq(a, "builtin")) {
            s->session_cache = 20480; /* OpenSSL's default size */
            continue;
        }
        if (a.len > 8 && memcmp(a.data, "builtin:", 8) == 0) {
            int64_t n = mg_atoi(a.data + 8, a.len - 8);
            if (n <= 0) {
                goto invalid;
            }
            s->session_cache = (mg_int_t)n;
            continue;
        }
        if (a.len > 7 && memcmp(a.data, "shared:", 7) == 0) {
            const char *colon = memchr(a.data + 7, ':', a.len - 7);
            if (colon == NULL || colon == a.data + 7) {
                goto invalid;
            }
            mg_str_t name = {(size_t)(colon - a.data - 7), a.data + 7};
            mg_str_t sz = {(size_t)(a.data + a.len - colon - 1), (char *)colon + 1};
            int64_t size = mg_parse_size(sz);
            if (size < 0) {
                goto invalid;
            }
            if (size < 8 * 4096) {
                mg_conf_error(cf, 0, "session cache \"%s\" is too small", a.data);
                return MG_CONF_ERROR;
            }
            s->shm_zone = mg_shm_zone_add(cf, name, (size_t)size, &mg_http_ssl_module);
            if (s->shm_zone == NULL) {
                return MG_CONF_ERROR;
            }
            /* in the master, before the workers fork: they find it made */
            char what[300];
            snprintf(what, sizeof(what), "SSL session cache \"%.*s\"", (int)mg_min(name.len, 256),
                     name.data);
            s->cache =
                mg_shm_table_attach(s->shm_zone->addr, s->shm_zone->size, sizeof(cached_session_t),
                                    what, (mg_str_t)mg_string("ssl"));
            if (s->cache == NULL) {
                mg_conf_error(cf, 0, "session cache \"%s\" is too small", a.data);
                return MG_CONF_ERROR;
            }
            if (s->session_cache == CACHE_UNSET) {
                s->session_cache = CACHE_NONE;
            }
            continue;
        }
        goto invalid;
    }
    if (s->shm_zone == MG_CONF_UNSET_PTR) {
        s->shm_zone = NULL;
    }
    return MG_CONF_OK;
invalid:
    mg_conf_error(cf, 0, "invalid session cache \"%s\"", cf->args[cf->nargs - 1].data);
    return MG_CONF_ERROR;
}

static const mg_conf_enum_t ocsp_values[] = {
    {"off", OCSP_OFF}, {"on", OCSP_ON}, {"leaf", OCSP_LEAF}, {NULL, 0}};

static const char *set_ocsp(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    ssl_srv_conf_t *s = conf;
    const char *rc = mg_conf_set_enum(cf, cmd, conf);
    if (rc == MG_CONF_OK) {
        s->ocsp_where = where_copy(cf);
    }
    return rc;
}

/* "ssl on": the addresses this server is the default of speak TLS, as "listen ... ssl" */
static const char *set_enable(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    ssl_srv_conf_t *s = conf;
    const char *rv = mg_conf_set_flag(cf, cmd, conf);
    if (rv != MG_CONF_OK) {
        return rv;
    }
    s->enable_where = where_copy(cf);
    mg_conf_log(
        cf, MG_LOG_WARN, 0,
        "the \"ssl\" directive is deprecated, use the \"listen ... ssl\" directive instead");
    return MG_CONF_OK;
}

static const mg_conf_enum_t verify_values[] = {
    {"off", VERIFY_OFF},
    {"on", VERIFY_ON},
    {"optional", VERIFY_OPTIONAL},
    {"optional_no_ca", VERIFY_OPTIONAL_NO_CA},
    {NULL, 0},
};

/* the directives ngx_stream_ssl_module has too: the same conf in stream{} servers */
#define SSL_SRV (MG_HTTP_SRV | MG_CTX_STREAM | MG_CTX_STREAM_SRV)

static const mg_command_t ssl_commands[] = {
    {"ssl", MG_HTTP_SRV, MG_FLAG, set_enable, MG_SRV_CONF, offsetof(ssl_srv_conf_t, enable), NULL},
    {"ssl_certificate", SSL_SRV, MG_ARGS(1, 1), set_str_list, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, certificates), NULL},
    {"ssl_certificate_key", SSL_SRV, MG_ARGS(1, 1), set_str_list, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, certificate_keys), NULL},
    {"ssl_password_file", SSL_SRV, MG_ARGS(1, 1), set_password_file, MG_SRV_CONF, 0, NULL},
    {"ssl_protocols", SSL_SRV, MG_ARGS(1, MG_MANY), set_protocols, MG_SRV_CONF, 0, NULL},
    {"ssl_ciphers", SSL_SRV, MG_ARGS(1, 1), mg_conf_set_str, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, ciphers), NULL},
    {"ssl_prefer_server_ciphers", SSL_SRV, MG_FLAG, mg_conf_set_flag, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, prefer_server_ciphers), NULL},
    {"ssl_ecdh_curve", SSL_SRV, MG_ARGS(1, 1), mg_conf_set_str, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, ecdh_curve), NULL},
    {"ssl_dhparam", SSL_SRV, MG_ARGS(1, 1), set_path, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, dhparam), NULL},
    {"ssl_conf_command", SSL_SRV, MG_ARGS(2, 2), set_str_list, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, conf_commands), NULL},
    {"ssl_buffer_size", MG_HTTP_SRV, MG_ARGS(1, 1), mg_conf_set_size, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, buffer_size), NULL},
    {"ssl_session_cache", SSL_SRV, MG_ARGS(1, 2), set_session_cache, MG_SRV_CONF, 0, NULL},
    {"ssl_session_timeout", SSL_SRV, MG_ARGS(1, 1), mg_conf_set_msec, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, session_timeout), NULL},
    {"ssl_session_tickets", SSL_SRV, MG_FLAG, mg_conf_set_flag, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, session_tickets), NULL},
    {"ssl_session_ticket_key", SSL_SRV, MG_ARGS(1, 1), set_str_list, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, ticket_keys), NULL},
    {"ssl_verify_client", SSL_SRV, MG_ARGS(1, 1), mg_conf_set_enum, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, verify), verify_values},
    {"ssl_verify_depth", SSL_SRV, MG_ARGS(1, 1), mg_conf_set_num, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, verify_depth), NULL},
    {"ssl_client_certificate", SSL_SRV, MG_ARGS(1, 1), set_path, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, client_certificate), NULL},
    {"ssl_trusted_certificate", SSL_SRV, MG_ARGS(1, 1), set_path, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, trusted_certificate), NULL},
    {"ssl_crl", SSL_SRV, MG_ARGS(1, 1), set_path, MG_SRV_CONF, offsetof(ssl_srv_conf_t, crl), NULL},
    {"ssl_reject_handshake", SSL_SRV, MG_FLAG, mg_conf_set_flag, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, reject_handshake), NULL},
    {"ssl_stapling", MG_HTTP_SRV, MG_FLAG, mg_conf_set_flag, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, stapling), NULL},
    {"ssl_stapling_file", MG_HTTP_SRV, MG_ARGS(1, 1), mg_conf_set_str, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, stapling_file), NULL},
    {"ssl_stapling_verify", MG_HTTP_SRV, MG_FLAG, mg_conf_set_flag, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, stapling_verify), NULL},
    {"ssl_stapling_responder", MG_HTTP_SRV, MG_ARGS(1, 1), mg_conf_set_str, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, stapling_responder), NULL},
    {"ssl_early_data", MG_HTTP_SRV, MG_FLAG, mg_conf_set_flag, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, early_data), NULL},
    {"ssl_ocsp", MG_HTTP_SRV, MG_ARGS(1, 1), set_ocsp, MG_SRV_CONF, offsetof(ssl_srv_conf_t, ocsp),
     ocsp_values},
    {"ssl_ocsp_responder", MG_HTTP_SRV, MG_ARGS(1, 1), mg_conf_set_str, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, ocsp_responder), NULL},
    {"ssl_ocsp_cache", MG_HTTP_SRV, MG_ARGS(1, 1), mg_http_ssl_set_ocsp_cache, MG_SRV_CONF,
     offsetof(ssl_srv_conf_t, ocsp_cache), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* ---- building a server's context ---- */

/* "data:PEM" or a file name (relative to the configuration directory, as nginx's). */
static BIO *open_pem(mg_conf_t *cf, mg_str_t name, const char *what, const char *where)
{
    if (name.len >= 5 && memcmp(name.data, "data:", 5) == 0) {
        return BIO_new_mem_buf(name.data + 5, (int)(name.len - 5));
    }
    mg_str_t path = mg_conf_full_name(cf->cycle, name, 1);
    BIO *bio = BIO_new_file(path.data, "r");
    if (bio == NULL) {
        char q[1024];
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "cannot load %s \"%s\": BIO_new_file() failed%s in %s", what, path.data,
                     mg_ssl_error_queue(q, sizeof(q)), where);
    }
    return bio;
}

/* A failed OpenSSL call while the configuration is read: nginx's words, then where. */
static mg_int_t conf_ssl_error(mg_conf_t *cf, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static mg_int_t conf_ssl_error(mg_conf_t *cf, const char *where, const char *fmt, ...)
{
    char msg[1024], q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mg_log_error(MG_LOG_EMERG, cf->log, 0, "%s%s in %s", msg, mg_ssl_error_queue(q, sizeof(q)),
                 where);
    return MG_ERROR;
}

static mg_int_t load_certificate(mg_conf_t *cf, ssl_srv_conf_t *s, mg_str_t cert, mg_str_t key)
{
    const char *where = s->cert_where;
    char *shown = mg_pstrdup(cf->pool, cert.data, cert.len);
    BIO *bio = open_pem(cf, cert, "certificate", where);
    if (bio == NULL) {
        return MG_ERROR;
    }
    X509 *x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    if (x == NULL) {
        BIO_free(bio);
        return conf_ssl_error(
            cf, where, "cannot load certificate \"%s\": PEM_read_bio_X509_AUX() failed", shown);
    }
    if (SSL_CTX_use_certificate(s->ctx, x) != 1) {
        X509_free(x);
        BIO_free(bio);
        return conf_ssl_error(cf, where, "SSL_CTX_use_certificate(\"%s\") failed", shown);
    }
    X509_free(x);
    mg_http_ssl_cert_name(s->ctx, mg_conf_full_name(cf->cycle, cert, 1).data);
    /* the rest of the file is the chain, for this certificate only; none when the file has
     * none: the context's SSL_MODE_NO_AUTO_CHAIN (nginx's too) keeps OpenSSL from building
     * one from the trusted certificates at every full handshake and sending what it found.
     * An empty chain would do the same for this certificate, at the cost of its copy in
     * every connection's SSL object (48 bytes of an idle connection's heap), but not for one
     * that ssl_certificate_by_lua sets without a chain (t/530) */
    for (;;) {
        X509 *ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (ca == NULL) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
                break;
            }
            BIO_free(bio);
            return conf_ssl_error(
                cf, where, "cannot load certificate \"%s\": PEM_read_bio_X509() failed", shown);
        }
        if (SSL_CTX_add0_chain_cert(s->ctx, ca) != 1) {
            X509_free(ca);
            BIO_free(bio);
            return conf_ssl_error(cf, where, "SSL_CTX_add0_chain_cert(\"%s\") failed", shown);
        }
    }
    BIO_free(bio);

    char *kshown = mg_pstrdup(cf->pool, key.data, key.len);
    bio = open_pem(cf, key, "certificate key", where);
    if (bio == NULL) {
        return MG_ERROR;
    }
    EVP_PKEY *pkey = mg_ssl_read_key(bio, s->passwords);
    BIO_free(bio);
    if (pkey == NULL) {
        return conf_ssl_error(
            cf, where, "cannot load certificate key \"%s\": PEM_read_bio_PrivateKey() failed",
            kshown);
    }
    ERR_clear_error();
    if (SSL_CTX_use_PrivateKey(s->ctx, pkey) != 1) {
        EVP_PKEY_free(pkey);
        return conf_ssl_error(cf, where, "SSL_CTX_use_PrivateKey(\"%s\") failed", kshown);
    }
    EVP_PKEY_free(pkey);
    return MG_OK;
}

static void ctx_free(void *data)
{
    SSL_CTX_free(data);
}

static int verify_callback(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1;
}

static int ticket_callback(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *ectx,
                           EVP_MAC_CTX *hctx, int enc);

static mg_int_t load_ticket_keys(mg_conf_t *cf, ssl_srv_conf_t *s)
{
    if (s->ticket_keys == NULL) {
        return MG_OK;
    }
    s->tkeys = mg_pcalloc(cf->pool, sizeof(mg_array_t));
    mg_array_init(s->tkeys, cf->pool, s->ticket_keys->nelts, sizeof(ticket_key_t));
    mg_str_t *path = s->ticket_keys->elts;
    for (size_t i = 0; i < s->ticket_keys->nelts; i++) {
        mg_str_t full = mg_conf_full_name(cf->cycle, path[i], 1);
        unsigned char buf[81];
        FILE *f = fopen(full.data, "rb");
        if (f == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, errno, "open() \"%s\" failed in %s", full.data,
                         s->tk_where);
            return MG_ERROR;
        }
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        if (n != 48 && n != 80) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "\"%s\" must be 48 or 80 bytes in %s", full.data,
                         s->tk_where);
            return MG_ERROR;
        }
        ticket_key_t *k = mg_array_push(s->tkeys);
        memset(k, 0, sizeof(*k));
        k->size = n;
        memcpy(k->name, buf, 16);
        if (n == 48) {
            memcpy(k->aes, buf + 16, 16);
            memcpy(k->hmac, buf + 32, 16);
        } else {
            memcpy(k->hmac, buf + 16, 32);
            memcpy(k->aes, buf + 48, 32);
        }
        OPENSSL_cleanse(buf, sizeof(buf));
    }
    SSL_CTX_set_tlsext_ticket_key_evp_cb(s->ctx, ticket_callback);
    return MG_OK;
}

/* Without ssl_session_ticket_key, the keys live in a shared memory zone the master makes
 * once: every worker of every generation, and a new binary after USR2 (the zone is handed
 * over), decrypts every other's tickets, so sessions resume across HUP and upgrades. The first
 * key encrypts; it is replaced every ssl_session_timeout (the server's that finds it due), the
 * two before it still decrypt (their tickets are renewed). */
#define TK_ZONE "ssl_session_ticket_keys"
#define TK_MAGIC 0x73796b74676dULL
#define TK_KEYS 3

typedef struct {
    uint64_t magic; /* written last */
    mg_shmtx_t lock;
    mg_msec_t rotated; /* wall clock of the first key's making */
    ticket_key_t keys[TK_KEYS];
} shared_keys_t;

static int new_key(ticket_key_t *k)
{
    k->size = 80;
    return RAND_bytes(k->name, sizeof(k->name)) == 1 && RAND_bytes(k->aes, sizeof(k->aes)) == 1 &&
           RAND_bytes(k->hmac, sizeof(k->hmac)) == 1;
}

static int shared_ticket_callback(SSL *ssl, unsigned char *name, unsigned char *iv,
                                  EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc);

static mg_int_t shared_ticket_keys(mg_conf_t *cf, ssl_srv_conf_t *s)
{
    s->tk_zone = mg_shm_zone_add(cf, (mg_str_t)mg_string(TK_ZONE), sizeof(shared_keys_t),
                                 &mg_http_ssl_module);
    if (s->tk_zone == NULL) {
        return MG_ERROR;
    }
    shared_keys_t *sk = s->tk_zone->addr;
    if (sk->magic != TK_MAGIC) {
        /* in the master, before any worker forks */
        mg_shmtx_init(&sk->lock);
        for (int i = 0; i < TK_KEYS; i++) {
            if (!new_key(&sk->keys[i])) {
                return conf_ssl_error(cf, s->where ? s->where : "", "RAND_bytes() failed");
            }
        }
        sk->rotated = mg_now.msec;
        sk->magic = TK_MAGIC;
    }
    SSL_CTX_set_tlsext_ticket_key_evp_cb(s->ctx, shared_ticket_callback);
    return MG_OK;
}

static int sni_callback(SSL *ssl, int *ad, void *arg);
static int stream_sni_callback(SSL *ssl, int *ad, void *arg);
static int alpn_callback(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                         const unsigned char *in, unsigned int inlen, void *arg);
static void setup_session_cache(ssl_srv_conf_t *s);
static int client_hello_callback(SSL *ssl, int *ad, void *arg);
static int cert_callback(SSL *ssl, void *arg);
static void hello_index_init(void);
static void ssl_resume(mg_connection_t *c);

static int hook_has(const mg_ssl_hook_srv_t *srv, int hook)
{
    return srv->srv_conf && mg_ssl_hooks && mg_ssl_hooks->has(srv, hook);
}

static const char *http_addr_text(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    return hc->addr_conf->addr_text;
}

static mg_int_t make_ctx(mg_conf_t *cf, ssl_srv_conf_t *s, mg_http_srv_conf_t *cscf)
{
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (s->ctx == NULL) {
        return conf_ssl_error(cf, s->cert_where ? s->cert_where : "", "SSL_CTX_new() failed");
    }
    mg_pool_cleanup_add(cf->pool, ctx_free, s->ctx);
    SSL_CTX_set_ex_data(s->ctx, conf_index, s);
    s->cscf = cscf;
    if (cscf) {
        /* a stream server's was set by its caller */
        s->hook_srv = (mg_ssl_hook_srv_t){.main_conf = cscf->ctx->main_conf,
                                          .srv_conf = cscf->ctx->srv_conf,
                                          .addr_text = http_addr_text,
                                          .resume = ssl_resume};
    }
    s->log = cf->log;
    const char *where = s->cert_where ? s->cert_where : s->where ? s->where : "";
    /* renegotiation refused; a peer's end without close_notify is an end, not an error */
    SSL_CTX_set_options(s->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                    SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_DH_USE |
                                    SSL_OP_SINGLE_ECDH_USE);
    SSL_CTX_set_mode(s->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
    /* a record in one read(2), not its header and then its body (one syscall per request
     * less, as nginx); what it takes beyond the caller's buffer: mg_ssl_read_pending */
    SSL_CTX_set_read_ahead(s->ctx, 1);
    /* nginx's protocol switches: every protocol not listed is turned off */
    SSL_CTX_set_min_proto_version(s->ctx, 0);
    static const struct {
        mg_int_t proto;
        uint64_t op;
    } ops[] = {
        {PROTO_SSLv3, SSL_OP_NO_SSLv3},     {PROTO_TLSv1, SSL_OP_NO_TLSv1},
        {PROTO_TLSv1_1, SSL_OP_NO_TLSv1_1}, {PROTO_TLSv1_2, SSL_OP_NO_TLSv1_2},
        {PROTO_TLSv1_3, SSL_OP_NO_TLSv1_3},
    };
    for (size_t i = 0; i < mg_nelems(ops); i++) {
        if (!(s->protocols & ops[i].proto)) {
            SSL_CTX_set_options(s->ctx, ops[i].op);
        }
    }
    mg_str_t *cert = s->certificates->elts;
    for (size_t i = 0; i < s->certificates->nelts; i++) {
        mg_str_t *key = s->certificate_keys->elts;
        mg_http_ssl_cert_var_t *v = cscf ? mg_http_ssl_cert_var(cf, cert[i], key[i])
                                         : mg_http_ssl_cert_var_stream(cf, cert[i], key[i]);
        if (v == MG_HTTP_SSL_CERT_VAR_ERROR) {
            return MG_ERROR;
        }
        if (v) {
            if (s->cert_vars == NULL) {
                s->cert_vars = mg_pcalloc(cf->pool, sizeof(mg_array_t));
                mg_array_init(s->cert_vars, cf->pool, 1, sizeof(mg_http_ssl_cert_var_t *));
            }
            *(mg_http_ssl_cert_var_t **)mg_array_push(s->cert_vars) = v;
            continue;
        }
        if (load_certificate(cf, s, cert[i], key[i]) != MG_OK) {
            return MG_ERROR;
        }
    }
    char *ciphers = mg_pstrdup(cf->pool, s->ciphers.data, s->ciphers.len);
    if (SSL_CTX_set_cipher_list(s->ctx, ciphers) != 1) {
        return conf_ssl_error(cf, where, "SSL_CTX_set_cipher_list(\"%s\") failed", ciphers);
    }
    if (s->prefer_server_ciphers) {
        SSL_CTX_set_options(s->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    }
    if (!mg_str_eq(s->ecdh_curve, "auto")) {
        char *curves = mg_pstrdup(cf->pool, s->ecdh_curve.data, s->ecdh_curve.len);
        if (SSL_CTX_set1_curves_list(s->ctx, curves) != 1) {
            return conf_ssl_error(cf, where, "SSL_CTX_set1_curves_list(\"%s\") failed", curves);
        }
    }
    if (s->dhparam.data) {
        BIO *bio = open_pem(cf, s->dhparam, "DH parameters", s->dhparam_where);
        if (bio == NULL) {
            return MG_ERROR;
        }
        EVP_PKEY *dh = PEM_read_bio_Parameters(bio, NULL);
        BIO_free(bio);
        if (dh == NULL || SSL_CTX_set0_tmp_dh_pkey(s->ctx, dh) != 1) {
            EVP_PKEY_free(dh);
            return conf_ssl_error(cf, s->dhparam_where, "PEM_read_bio_Parameters(\"%.*s\") failed",
                                  (int)s->dhparam.len, s->dhparam.data);
        }
    }
    /* client certificates */
    if (s->verify != VERIFY_OFF) {
        /* the handshake goes on whatever the verdict: the request answers it (495/496) */
        SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, verify_callback);
        SSL_CTX_set_verify_depth(s->ctx, (int)s->verify_depth);
    }
    if (s->client_certificate.data) {
        mg_str_t path = mg_conf_full_name(cf->cycle, s->client_certificate, 1);
        if (SSL_CTX_load_verify_locations(s->ctx, path.data, NULL) != 1) {
            return conf_ssl_error(cf, where, "SSL_CTX_load_verify_locations(\"%s\") failed",
                                  path.data);
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(path.data);
        if (names == NULL) {
            return conf_ssl_error(cf, where, "SSL_load_client_CA_file(\"%s\") failed", path.data);
        }
        SSL_CTX_set_client_CA_list(s->ctx, names);
    }
    if (s->trusted_certificate.data) {
        mg_str_t path = mg_conf_full_name(cf->cycle, s->trusted_certificate, 1);
        if (SSL_CTX_load_verify_locations(s->ctx, path.data, NULL) != 1) {
            return conf_ssl_error(cf, where, "SSL_CTX_load_verify_locations(\"%s\") failed",
                                  path.data);
        }
    }
    if (s->crl.data) {
        mg_str_t path = mg_conf_full_name(cf->cycle, s->crl, 1);
        X509_STORE *store = SSL_CTX_get_cert_store(s->ctx);
        X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
        if (lookup == NULL || X509_LOOKUP_load_file(lookup, path.data, X509_FILETYPE_PEM) != 1) {
            return conf_ssl_error(cf, where, "X509_LOOKUP_load_file(\"%s\") failed", path.data);
        }
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    /* sessions: the id context ties a session to this server's certificates (a stream
     * server{} has no name: its first certificate's) */
    mg_str_t idname = cscf == NULL && s->certificates->nelts ? cert[0] : (mg_str_t)mg_string("");
    if (cscf && cscf->server_names.nelts) {
        idname = ((mg_http_server_name_t *)cscf->server_names.elts)[0].name;
    }
    unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
    unsigned int sidlen = 0;
    EVP_Digest(idname.data, idname.len, sid, &sidlen, EVP_sha1(), NULL);
    SSL_CTX_set_session_id_context(s->ctx, sid, sidlen);
    SSL_CTX_set_timeout(s->ctx, (long)(s->session_timeout / 1000));
    setup_session_cache(s);
    if (!s->session_tickets) {
        SSL_CTX_set_options(s->ctx, SSL_OP_NO_TICKET);
    } else if (s->ticket_keys ? load_ticket_keys(cf, s) : shared_ticket_keys(cf, s)) {
        return MG_ERROR;
    }
    if (cscf) {
        SSL_CTX_set_tlsext_servername_callback(s->ctx, sni_callback);
    } else {
        SSL_CTX_set_tlsext_servername_callback(s->ctx, stream_sni_callback);
    }
    if (s->early_data) {
        /* TLS 1.3 0-RTT; replays are the application's to refuse ($ssl_early_data), as with
         * nginx, so OpenSSL's single-use check (which needs its own cache) is off */
        SSL_CTX_set_max_early_data(s->ctx, 16384);
        SSL_CTX_set_options(s->ctx, SSL_OP_NO_ANTI_REPLAY);
    }
    if (s->stapling && cscf && !s->cert_vars && s->certificates->nelts) {
        mg_http_loc_conf_t *clcf = cscf->ctx->loc_conf[mg_http_core_module.index];
        mg_http_ssl_stapling_conf_t sc = {.file = s->stapling_file,
                                          .responder = s->stapling_responder,
                                          .verify = s->stapling_verify,
                                          .resolver = clcf->resolver,
                                          .resolver_timeout = clcf->resolver_timeout,
                                          .where = where};
        if (mg_http_ssl_stapling(cf, s->ctx, &sc) != MG_OK) {
            return MG_ERROR;
        }
    }
    hello_index_init();
    if (hook_has(&s->hook_srv, MG_SSL_HOOK_CLIENT_HELLO) ||
        hook_has(&s->hook_srv, MG_SSL_HOOK_SESS_FETCH)) {
        SSL_CTX_set_client_hello_cb(s->ctx, client_hello_callback, NULL);
    }
    if (s->cert_vars || hook_has(&s->hook_srv, MG_SSL_HOOK_CERT)) {
        SSL_CTX_set_cert_cb(s->ctx, cert_callback, NULL);
    }
    if (hook_has(&s->hook_srv, MG_SSL_HOOK_CERT)) {
        mg_http_ssl_status_given(s->ctx); /* the hook may staple (ngx.ocsp) */
    }
    if (cscf) {
        SSL_CTX_set_alpn_select_cb(s->ctx, alpn_callback, NULL);
    }
    /* ssl_conf_command last, as nginx: it may override all of the above */
    if (s->conf_commands->nelts) {
        SSL_CONF_CTX *cctx = SSL_CONF_CTX_new();
        SSL_CONF_CTX_set_flags(cctx, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_SERVER |
                                         SSL_CONF_FLAG_CERTIFICATE | SSL_CONF_FLAG_SHOW_ERRORS);
        SSL_CONF_CTX_set_ssl_ctx(cctx, s->ctx);
        mg_str_t *c = s->conf_commands->elts;
        for (size_t i = 0; i + 1 < s->conf_commands->nelts; i += 2) {
            char *name = mg_pstrdup(cf->pool, c[i].data, c[i].len);
            char *value = mg_pstrdup(cf->pool, c[i + 1].data, c[i + 1].len);
            if (SSL_CONF_cmd(cctx, name, value) <= 0) {
                SSL_CONF_CTX_free(cctx);
                return conf_ssl_error(cf, where, "SSL_CONF_cmd(\"%s\", \"%s\") failed", name,
                                      value);
            }
        }
        SSL_CONF_CTX_finish(cctx);
        SSL_CONF_CTX_free(cctx);
    }
    return MG_OK;
}

static const char *ssl_merge_srv_conf(mg_conf_t *cf, void *parent, void *child)
{
    ssl_srv_conf_t *prev = parent, *s = child;
    if (s->certificates == MG_CONF_UNSET_PTR) {
        s->certificates = prev->certificates;
        s->cert_where = prev->cert_where;
    }
    mg_conf_merge_ptr(s->certificate_keys, prev->certificate_keys, MG_CONF_UNSET_PTR);
    mg_conf_merge_ptr(s->passwords, prev->passwords, NULL);
    /* nginx 1.22's default (1.23.4 added TLSv1.3) */
    mg_conf_merge(s->protocols, prev->protocols, PROTO_TLSv1 | PROTO_TLSv1_1 | PROTO_TLSv1_2);
    mg_conf_merge_str(s->ciphers, prev->ciphers, "HIGH:!aNULL:!MD5");
    mg_conf_merge(s->prefer_server_ciphers, prev->prefer_server_ciphers, 0);
    mg_conf_merge_str(s->ecdh_curve, prev->ecdh_curve, "auto");
    if (s->dhparam.data == NULL) {
        s->dhparam = prev->dhparam;
        s->dhparam_where = prev->dhparam_where;
    }
    mg_conf_merge_ptr(s->conf_commands, prev->conf_commands, NULL);
    if (s->conf_commands == NULL) {
        s->conf_commands = mg_pcalloc(cf->pool, sizeof(mg_array_t));
        mg_array_init(s->conf_commands, cf->pool, 1, sizeof(mg_str_t));
    }
    mg_conf_merge_size(s->buffer_size, prev->buffer_size, 16384);
    if (s->session_cache == CACHE_UNSET) {
        s->session_cache = prev->session_cache == CACHE_UNSET ? CACHE_NONE : prev->session_cache;
        s->shm_zone = prev->shm_zone;
        s->cache = prev->cache;
    }
    mg_conf_merge_ptr(s->shm_zone, prev->shm_zone, NULL);
    if (s->session_timeout == (mg_msec_t)MG_CONF_UNSET) {
        s->session_timeout =
            prev->session_timeout == (mg_msec_t)MG_CONF_UNSET ? 300000 : prev->session_timeout;
    }
    mg_conf_merge(s->session_tickets, prev->session_tickets, 1);
    if (s->ticket_keys == MG_CONF_UNSET_PTR) {
        s->ticket_keys = prev->ticket_keys == MG_CONF_UNSET_PTR ? NULL : prev->ticket_keys;
        s->tk_where = prev->tk_where;
    }
    mg_conf_merge(s->verify, prev->verify, VERIFY_OFF);
    mg_conf_merge(s->verify_depth, prev->verify_depth, 1);
    mg_conf_merge_str(s->client_certificate, prev->client_certificate, "");
    if (s->client_certificate.len == 0) {
        s->client_certificate.data = NULL;
    }
    mg_conf_merge_str(s->trusted_certificate, prev->trusted_certificate, "");
    if (s->trusted_certificate.len == 0) {
        s->trusted_certificate.data = NULL;
    }
    mg_conf_merge_str(s->crl, prev->crl, "");
    if (s->crl.len == 0) {
        s->crl.data = NULL;
    }
    mg_conf_merge(s->reject_handshake, prev->reject_handshake, 0);
    mg_conf_merge(s->stapling, prev->stapling, 0);
    mg_conf_merge_str(s->stapling_file, prev->stapling_file, "");
    mg_conf_merge(s->stapling_verify, prev->stapling_verify, 0);
    mg_conf_merge_str(s->stapling_responder, prev->stapling_responder, "");
    mg_conf_merge(s->early_data, prev->early_data, 0);
    if (s->ocsp == MG_CONF_UNSET) {
        s->ocsp = prev->ocsp == MG_CONF_UNSET ? OCSP_OFF : prev->ocsp;
        s->ocsp_where = prev->ocsp_where;
    }
    mg_conf_merge_str(s->ocsp_responder, prev->ocsp_responder, "");
    mg_conf_merge_ptr(s->ocsp_cache, prev->ocsp_cache, NULL);
    if (s->enable == MG_CONF_UNSET) {
        s->enable = prev->enable == MG_CONF_UNSET ? 0 : prev->enable;
        s->enable_where = prev->enable_where;
    }
    return MG_CONF_OK;
}

/* After the servers were merged (the http{} block's end, from mg_http_ssl_init_servers): a
 * context for every server with certificates or ssl_reject_handshake, and nginx's checks. */
static mg_int_t init_server(mg_conf_t *cf, mg_http_srv_conf_t *cscf)
{
    ssl_srv_conf_t *s = srv_ssl(cscf);
    if (s->certificates == MG_CONF_UNSET_PTR) {
        s->certificates = NULL;
    }
    if (s->certificates == NULL && !s->reject_handshake) {
        if (s->enable) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "no \"ssl_certificate\" is defined for the \"ssl\" directive in %s",
                         s->enable_where);
            return MG_ERROR;
        }
        return MG_OK;
    }
    if (s->certificates == NULL) {
        s->certificates = mg_pcalloc(cf->pool, sizeof(mg_array_t));
        mg_array_init(s->certificates, cf->pool, 1, sizeof(mg_str_t));
    }
    size_t nkeys = s->certificate_keys == MG_CONF_UNSET_PTR ? 0 : s->certificate_keys->nelts;
    if (nkeys < s->certificates->nelts) {
        mg_str_t *c = s->certificates->elts;
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "no \"ssl_certificate_key\" is defined for certificate \"%.*s\"",
                     (int)c[nkeys].len, c[nkeys].data);
        return MG_ERROR;
    }
    /* nginx 1.22: ssl_trusted_certificate alone is not enough */
    if (s->verify != VERIFY_OFF && s->verify != VERIFY_OPTIONAL_NO_CA &&
        s->client_certificate.data == NULL) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "no ssl_client_certificate for ssl_verify_client");
        return MG_ERROR;
    }
    if (s->ocsp != OCSP_OFF && s->verify != VERIFY_OFF) {
        if (s->verify == VERIFY_OPTIONAL_NO_CA) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "\"ssl_ocsp\" is incompatible with \"ssl_verify_client optional_no_ca\" "
                         "in %s",
                         s->ocsp_where);
            return MG_ERROR;
        }
        mg_http_loc_conf_t *clcf = cscf->ctx->loc_conf[mg_http_core_module.index];
        s->ocsp_conf =
            mg_http_ssl_ocsp_conf(cf, s->ocsp == OCSP_LEAF, s->ocsp_responder, s->ocsp_cache,
                                  clcf->resolver, clcf->resolver_timeout, s->ocsp_where);
        if (s->ocsp_conf == NULL) {
            return MG_ERROR;
        }
    }
    return make_ctx(cf, s, cscf);
}

mg_int_t mg_http_ssl_init_servers(mg_conf_t *cf)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    mg_http_srv_conf_t **servers = cmcf->servers.elts;
    for (size_t i = 0; i < cmcf->servers.nelts; i++) {
        if (init_server(cf, servers[i]) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}

/* stream{}: a context for every server{} with a "listen ... ssl", when the block ends
 * (core/stream/ssl.c does the handshakes) */
static mg_int_t ssl_stream_init(mg_conf_t *cf)
{
    if (conf_index < 0) {
        conf_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    }
    mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
    mg_stream_srv_conf_t **servers = cmcf->servers.elts;
    for (size_t i = 0; i < cmcf->servers.nelts; i++) {
        ssl_srv_conf_t *s = servers[i]->ctx->srv_conf[mg_http_ssl_module.index];
        if (s->certificates == MG_CONF_UNSET_PTR) {
            s->certificates = NULL;
        }
        /* its first "listen ... ssl": the server needs certificates then, else none */
        mg_stream_listen_t *l = cmcf->listen.elts, *ssl = NULL;
        for (size_t k = 0; k < cmcf->listen.nelts && ssl == NULL; k++) {
            ssl = l[k].ssl && l[k].srv == servers[i] ? &l[k] : NULL;
        }
        /* or a listen on an address another server's "listen ... ssl" makes TLS */
        for (size_t k = 0; k < cmcf->listen.nelts && ssl == NULL; k++) {
            for (size_t m = 0; m < cmcf->listen.nelts && ssl == NULL && l[k].srv == servers[i];
                 m++) {
                ssl = l[m].ssl && l[m].udp == l[k].udp &&
                              mg_sockaddr_equal((struct sockaddr *)&l[m].sockaddr,
                                                (struct sockaddr *)&l[k].sockaddr, 1)
                          ? &l[m]
                          : NULL;
            }
        }
        if (ssl == NULL) {
            continue;
        }
        if (s->certificates == NULL && s->reject_handshake) {
            /* nginx >= 1.25.5: a context that only refuses, with no certificate */
            s->certificates = mg_pcalloc(cf->pool, sizeof(mg_array_t));
            mg_array_init(s->certificates, cf->pool, 1, sizeof(mg_str_t));
        }
        size_t nkeys = s->certificate_keys == MG_CONF_UNSET_PTR ? 0 : s->certificate_keys->nelts;
        if (s->certificates == NULL || (nkeys == 0 && s->certificates->nelts)) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "no \"%s\" is defined for the \"listen ... ssl\" directive in %s",
                         s->certificates ? "ssl_certificate_key" : "ssl_certificate", ssl->where);
            return MG_ERROR;
        }
        if (nkeys < s->certificates->nelts) {
            mg_str_t *c = s->certificates->elts;
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "no \"ssl_certificate_key\" is defined for certificate \"%.*s\" and "
                         "the \"listen ... ssl\" directive in %s",
                         (int)c[nkeys].len, c[nkeys].data, ssl->where);
            return MG_ERROR;
        }
        if (s->verify != VERIFY_OFF && s->verify != VERIFY_OPTIONAL_NO_CA &&
            s->client_certificate.data == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "no ssl_client_certificate for ssl_verify_client");
            return MG_ERROR;
        }
        mg_stream_ssl_hook_srv(&s->hook_srv, servers[i]);
        if (make_ctx(cf, s, NULL) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}

SSL_CTX *mg_ssl_server_ctx(void **srv_conf, int *verify)
{
    ssl_srv_conf_t *s = srv_conf[mg_http_ssl_module.index];
    if (verify) {
        *verify = (int)s->verify;
    }
    return s->ctx;
}

mg_int_t mg_http_ssl_check_addr(mg_conf_t *cf, mg_http_addr_conf_t *addr)
{
    ssl_srv_conf_t *s = srv_ssl(addr->default_server);
    if (s->enable) {
        addr->ssl = 1; /* "ssl on" in the address's default server */
    }
    if (!addr->ssl) {
        return MG_OK;
    }
    if (s->ctx == NULL) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive in "
                     "%s:%lu",
                     addr->default_server->file, (unsigned long)addr->default_server->line);
        return MG_ERROR;
    }
    return MG_OK;
}

/* ---- the shared session cache ---- */

static mg_log_t *ssl_log(SSL *ssl)
{
    mg_connection_t *c = mg_ssl_conn_of(ssl);
    return &c->log;
}

static int cache_new(SSL *ssl, SSL_SESSION *sess)
{
    ssl_srv_conf_t *s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), conf_index);
    int len = i2d_SSL_SESSION(sess, NULL);
    if (s == NULL || s->cache == NULL || len <= 0 || len > SESSION_MAX) {
        return 0;
    }
    mg_shm_table_t *t = s->cache;
    unsigned int idlen;
    const unsigned char *id = SSL_SESSION_get_id(sess, &idlen);
    mg_shm_table_lock(t, ssl_log(ssl));
    uint32_t hash = mg_shm_table_hash(t, (const char *)id, idlen);
    size_t need = offsetof(cached_session_t, der) + (size_t)len;
    cached_session_t *cs = mg_shm_table_find(t, (const char *)id, idlen, hash);
    if (cs && mg_shm_table_vsize(cs) < need) {
        mg_shm_table_remove(t, cs); /* the same id, a longer session: a node of its size */
        cs = NULL;
    }
    if (cs == NULL) {
        /* expired ones first, then the least recently used, as nginx makes room */
        for (int tries = 0; tries < 2; tries++) {
            cached_session_t *old = mg_shm_table_oldest(t);
            if (old && (old->expires <= mg_now.sec || tries == 1)) {
                if (tries == 1 &&
                    (cs = mg_shm_table_insert_size(t, (const char *)id, idlen, hash, need))) {
                    break;
                }
                mg_shm_table_remove(t, old);
            }
        }
        if (cs == NULL) {
            cs = mg_shm_table_insert_size(t, (const char *)id, idlen, hash, need);
        }
    }
    if (cs) {
        unsigned char *p = cs->der;
        cs->len = (uint32_t)i2d_SSL_SESSION(sess, &p);
        cs->expires = (int64_t)mg_now.sec + SSL_SESSION_get_timeout(sess);
    }
    mg_shm_table_unlock(t);
    return 0; /* we keep no reference on sess */
}

static SSL_SESSION *cache_get(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    *copy = 0;
    ssl_srv_conf_t *s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), conf_index);
    if (s == NULL || s->cache == NULL) {
        return NULL;
    }
    mg_shm_table_t *t = s->cache;
    unsigned char der[SESSION_MAX];
    long dlen = 0;
    mg_shm_table_lock(t, ssl_log(ssl));
    uint32_t hash = mg_shm_table_hash(t, (const char *)id, (size_t)len);
    cached_session_t *cs = mg_shm_table_find(t, (const char *)id, (size_t)len, hash);
    if (cs && cs->expires > (int64_t)mg_now.sec) {
        dlen = cs->len;
        memcpy(der, cs->der, cs->len);
        mg_shm_table_touch(t, cs);
    } else if (cs) {
        mg_shm_table_remove(t, cs);
    }
    mg_shm_table_unlock(t);
    if (dlen == 0) {
        return NULL;
    }
    const unsigned char *p = der;
    return d2i_SSL_SESSION(NULL, &p, dlen);
}

static void cache_remove(SSL_CTX *ctx, SSL_SESSION *sess)
{
    ssl_srv_conf_t *s = SSL_CTX_get_ex_data(ctx, conf_index);
    if (s == NULL || s->cache == NULL) {
        return;
    }
    mg_shm_table_t *t = s->cache;
    unsigned int idlen;
    const unsigned char *id = SSL_SESSION_get_id(sess, &idlen);
    mg_shm_table_lock(t, s->log);
    uint32_t hash = mg_shm_table_hash(t, (const char *)id, idlen);
    cached_session_t *cs = mg_shm_table_find(t, (const char *)id, idlen, hash);
    if (cs) {
        mg_shm_table_remove(t, cs);
    }
    mg_shm_table_unlock(t);
}

/* ---- the handshake hooks ---- */

static ssl_srv_conf_t *ssl_conf(SSL *ssl)
{
    return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), conf_index);
}

static int hook_sess_new(SSL *ssl, SSL_SESSION *sess)
{
    if (SSL_version(ssl) == TLS1_3_VERSION && !(SSL_get_options(ssl) & SSL_OP_NO_TICKET)) {
        /* a TLS 1.3 ticket carries its session: no fetch will ask for this one (nginx's
         * lua-nginx-module runs no store for TLS 1.3 at all; moongate's, for the stateful
         * tickets of ssl_session_tickets off, which name the session by its id) */
        return 0;
    }
    mg_ssl_hooks->run(mg_ssl_conn_of(ssl), &ssl_conf(ssl)->hook_srv, MG_SSL_HOOK_SESS_STORE, sess);
    return 0; /* no reference kept */
}

/* A connection's way through the ClientHello hooks, and the session the fetch hook found: the
 * fetch runs in the ClientHello callback, where it may wait (OpenSSL's session lookup, later in
 * the same ClientHello, cannot), and the lookup takes what it found. */
typedef struct {
    unsigned hello_done : 1;
    unsigned fetch_done : 1;
    unsigned certs_done : 1; /* the certificates with variables are loaded */
    unsigned char id[SSL_MAX_SSL_SESSION_ID_LENGTH];
    size_t id_len;
    SSL_SESSION *sess;
} hello_state_t;

static int hello_index = -1; /* SSL ex data: its hello_state_t */

static void hello_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                             void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    hello_state_t *hs = ptr;
    if (hs) {
        SSL_SESSION_free(hs->sess);
        free(hs);
    }
}

static SSL_SESSION *hook_sess_get(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    *copy = 0;
    hello_state_t *hs = SSL_get_ex_data(ssl, hello_index);
    if (hs == NULL || hs->sess == NULL || (size_t)len != hs->id_len ||
        memcmp(id, hs->id, hs->id_len) != 0) {
        return NULL;
    }
    SSL_SESSION *sess = hs->sess;
    hs->sess = NULL; /* its reference goes to OpenSSL */
    return sess;
}

/* Whether this server has TLS version v, as OpenSSL's version choice asks: not turned off by
 * ssl_protocols (or an ssl_conf_command's MinProtocol/MaxProtocol), allowed by the security
 * level. SSLv3 is not built into Debian's OpenSSL 3: never. */
static int version_on(SSL *ssl, unsigned v)
{
    static const struct {
        unsigned v;
        uint64_t off;
    } ops[] = {{TLS1_VERSION, SSL_OP_NO_TLSv1},
               {TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
               {TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
               {TLS1_3_VERSION, SSL_OP_NO_TLSv1_3}};
    long min = SSL_get_min_proto_version(ssl), max = SSL_get_max_proto_version(ssl);
    int level = SSL_get_security_level(ssl);
    for (size_t i = 0; i < mg_nelems(ops); i++) {
        if (ops[i].v == v) {
            return !(SSL_get_options(ssl) & ops[i].off) && (min == 0 || (long)v >= min) &&
                   (max == 0 || (long)v <= max) && !(v <= TLS1_VERSION && level >= 3) &&
                   !(v <= TLS1_1_VERSION && level >= 4);
        }
    }
    return 0;
}

/* The version OpenSSL will choose for this ClientHello, 0 for none (the handshake fails with a
 * protocol_version alert before any session is looked up, so nginx's fetch never runs: a
 * TLS 1.3-only client against ssl_protocols TLSv1.2, t/897). As OpenSSL's server: the highest
 * of supported_versions that the server has; without that extension, the highest one not above
 * the legacy version (TLS 1.2 at most). */
static unsigned chosen_version(SSL *ssl)
{
    const unsigned char *p;
    size_t len;
    unsigned legacy = SSL_client_hello_get0_legacy_version(ssl), best = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &p, &len)) {
        unsigned versions[128];
        size_t n = mg_ssl_hello_versions(p, len, versions, mg_nelems(versions));
        if (legacy <= SSL3_VERSION) {
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            if (versions[i] > best && version_on(ssl, versions[i])) {
                best = versions[i];
            }
        }
        return best;
    }
    for (unsigned v = mg_min(legacy, TLS1_2_VERSION); v >= TLS1_VERSION; v--) {
        if (version_on(ssl, v)) {
            return v;
        }
    }
    return 0;
}

/* The session id OpenSSL will look up: a TLS 1.3 handshake's first pre-shared key identity (a
 * stateful ticket is a session id), else the legacy session id of TLS 1.2 and older; none when
 * the handshake will fail on its version. */
static int offered_session_id(SSL *ssl, hello_state_t *hs)
{
    const unsigned char *p, *id = NULL;
    size_t len, id_len = 0;
    unsigned version = chosen_version(ssl);
    if (version == 0) {
        return 0;
    }
    if (version == TLS1_3_VERSION) {
        /* OpenSSL looks an identity up only as a stateful ticket (tickets off, or early data
         * with anti-replay): a session id's 32 bytes, and only with a key exchange mode it
         * knows; otherwise it decrypts the identity as a ticket, whatever its length. */
        uint64_t opts = SSL_get_options(ssl);
        if (!(opts & SSL_OP_NO_TICKET) &&
            !(SSL_get_max_early_data(ssl) > 0 && !(opts & SSL_OP_NO_ANTI_REPLAY))) {
            return 0;
        }
        if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk_kex_modes, &p, &len) ||
            !mg_ssl_hello_psk_modes_known(p, len) ||
            !SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &p, &len) ||
            mg_ssl_hello_psk_identity(p, len, &id, &id_len) != 0 ||
            id_len != SSL_MAX_SSL_SESSION_ID_LENGTH) {
            return 0;
        }
    } else if (!(SSL_get_options(ssl) & SSL_OP_NO_TICKET) &&
               SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_session_ticket, &p, &len) && len) {
        /* OpenSSL resumes by the ticket and looks no id up, also when it cannot open the
         * ticket (garbage, or a key it no longer has: SSL_TICKET_NO_DECRYPT, then a full
         * handshake without a lookup); nginx's fetch is not called either (t/897). Only an
         * empty ticket falls back to the id. */
        return 0;
    } else {
        id_len = SSL_client_hello_get0_session_id(ssl, &id);
    }
    if (id == NULL || id_len == 0 || id_len > sizeof(hs->id)) {
        return 0;
    }
    memcpy(hs->id, id, id_len);
    hs->id_len = id_len;
    return 1;
}

/* Made while a configuration is read (embed.c's lock serializes that), not by a first
 * handshake: two embedded servers' threads would race to make it. */
static void hello_index_init(void)
{
    if (hello_index < 0) {
        hello_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, hello_state_free);
    }
}

/* Before SNI: the code of the context the handshake started with (the address's default
 * server), as lua-nginx-module's; then the session fetch's. */
static hello_state_t *hello_state(SSL *ssl)
{
    hello_state_t *hs = SSL_get_ex_data(ssl, hello_index);
    if (hs == NULL) {
        hs = mg_calloc(sizeof(hello_state_t));
        SSL_set_ex_data(ssl, hello_index, hs);
    }
    return hs;
}

static int client_hello_callback(SSL *ssl, int *ad, void *arg)
{
    (void)arg;
    mg_connection_t *c = mg_ssl_conn_of(ssl);
    const mg_ssl_hook_srv_t *srv = &ssl_conf(ssl)->hook_srv;
    hello_state_t *hs = hello_state(ssl);
    if (!hs->hello_done && hook_has(srv, MG_SSL_HOOK_CLIENT_HELLO)) {
        mg_int_t rc = mg_ssl_hooks->run(c, srv, MG_SSL_HOOK_CLIENT_HELLO, NULL);
        if (rc == MG_AGAIN) {
            return SSL_CLIENT_HELLO_RETRY;
        }
        if (rc != MG_OK) {
            *ad = SSL_AD_INTERNAL_ERROR;
            return SSL_CLIENT_HELLO_ERROR;
        }
    }
    hs->hello_done = 1;
    if (!hs->fetch_done && hook_has(srv, MG_SSL_HOOK_SESS_FETCH) &&
        (hs->id_len || offered_session_id(ssl, hs))) {
        mg_ssl_hook_fetch_t f = {hs->id, hs->id_len, NULL};
        if (mg_ssl_hooks->run(c, srv, MG_SSL_HOOK_SESS_FETCH, &f) == MG_AGAIN) {
            return SSL_CLIENT_HELLO_RETRY;
        }
        hs->sess = f.sess;
    }
    hs->fetch_done = 1;
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* After SNI chose the context: that server's certificates with variables, then its code. */
static int cert_callback(SSL *ssl, void *arg)
{
    (void)arg;
    mg_connection_t *c = mg_ssl_conn_of(ssl);
    ssl_srv_conf_t *s = ssl_conf(ssl);
    hello_state_t *hs = hello_state(ssl);
    if (s->cert_vars && !hs->certs_done) {
        mg_int_t rc = s->cscf ? mg_http_ssl_cert_load(c, s->cscf, ssl, s->cert_vars, s->passwords)
                              : mg_http_ssl_cert_load_stream(c, ssl, s->cert_vars, s->passwords);
        if (rc != MG_OK) {
            return 0;
        }
        hs->certs_done = 1; /* not again when the code below waits and OpenSSL asks again */
    }
    if (!hook_has(&s->hook_srv, MG_SSL_HOOK_CERT)) {
        return 1;
    }
    mg_int_t rc = mg_ssl_hooks->run(c, &s->hook_srv, MG_SSL_HOOK_CERT, NULL);
    return rc == MG_AGAIN ? -1 : rc == MG_OK ? 1 : 0;
}

static void setup_session_cache(ssl_srv_conf_t *s)
{
    if (s->session_cache == CACHE_OFF) {
        SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_OFF);
        return;
    }
    long mode = SSL_SESS_CACHE_SERVER;
    if (s->shm_zone && s->session_cache <= 0) {
        mode |= SSL_SESS_CACHE_NO_INTERNAL;
    }
    if (s->session_cache == CACHE_NONE && !s->shm_zone) {
        /* "none": the client is told it may reuse, nothing is stored */
        mode |= SSL_SESS_CACHE_NO_INTERNAL_STORE;
    }
    SSL_CTX_set_session_cache_mode(s->ctx, mode);
    if (s->session_cache > 0) {
        SSL_CTX_sess_set_cache_size(s->ctx, s->session_cache);
    }
    if (s->shm_zone) {
        SSL_CTX_sess_set_new_cb(s->ctx, cache_new);
        SSL_CTX_sess_set_get_cb(s->ctx, cache_get);
        SSL_CTX_sess_set_remove_cb(s->ctx, cache_remove);
    }
    /* ssl_session_fetch/store_by_lua take the place of the shared cache, as in OpenResty */
    if (hook_has(&s->hook_srv, MG_SSL_HOOK_SESS_STORE)) {
        SSL_CTX_sess_set_new_cb(s->ctx, hook_sess_new);
    }
    if (hook_has(&s->hook_srv, MG_SSL_HOOK_SESS_FETCH)) {
        SSL_CTX_sess_set_get_cb(s->ctx, hook_sess_get);
    }
}

/* A ticket key set up for sealing (enc) or opening a ticket. */
static int seal(const ticket_key_t *k, unsigned char *iv, EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx,
                int enc)
{
    size_t klen = k->size == 48 ? 16 : 32;
    const EVP_CIPHER *cipher = k->size == 48 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(hctx, k->hmac, klen, params) != 1) {
        return 0;
    }
    return (enc ? EVP_EncryptInit_ex(ectx, cipher, NULL, k->aes, iv)
                : EVP_DecryptInit_ex(ectx, cipher, NULL, k->aes, iv)) == 1;
}

/* What a ticket callback answers for a ticket it could open: 2 asks OpenSSL for a new one. A
 * ticket of an older key is renewed under the first; in TLS 1.3 every resumption gets one, as
 * nginx does: OpenSSL sends none on a resumption it was not asked to renew, and a client that
 * uses each ticket once (RFC 8446 C.4, as browsers do) would fall back to a full handshake
 * once the two tickets of the first one are spent. */
static int opened(SSL *ssl, int first_key)
{
    return first_key && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2;
}

/* Tickets under the ssl_session_ticket_key keys: the first encrypts, any decrypts. */
static int ticket_callback(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *ectx,
                           EVP_MAC_CTX *hctx, int enc)
{
    ssl_srv_conf_t *s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), conf_index);
    if (s == NULL || s->tkeys == NULL || s->tkeys->nelts == 0) {
        return -1;
    }
    ticket_key_t *keys = s->tkeys->elts, *k = NULL;
    size_t i = 0;
    if (enc) {
        k = &keys[0];
        if (RAND_bytes(iv, 16) != 1) {
            return -1;
        }
        memcpy(name, k->name, 16);
    } else {
        for (i = 0; i < s->tkeys->nelts; i++) {
            if (memcmp(keys[i].name, name, 16) == 0) {
                k = &keys[i];
                break;
            }
        }
        if (k == NULL) {
            return 0; /* unknown key: a full handshake */
        }
    }
    if (!seal(k, iv, ectx, hctx, enc)) {
        return -1;
    }
    return enc ? 1 : opened(ssl, i == 0);
}

/* The master's keys (shared_ticket_keys): copied out under the zone's lock, rotated by the
 * first encryption that finds the first key older than ssl_session_timeout. */
static int shared_ticket_callback(SSL *ssl, unsigned char *name, unsigned char *iv,
                                  EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
    ssl_srv_conf_t *s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), conf_index);
    if (s == NULL || s->tk_zone == NULL) {
        return -1;
    }
    shared_keys_t *sk = s->tk_zone->addr;
    ticket_key_t k;
    int found = -1;
    mg_shmtx_lock(&sk->lock); /* a holder that died mid-rotation leaves at worst a bad key */
    if (enc) {
        if (mg_now.msec - sk->rotated >= s->session_timeout) {
            ticket_key_t fresh;
            if (new_key(&fresh)) {
                memmove(&sk->keys[1], &sk->keys[0], (TK_KEYS - 1) * sizeof(ticket_key_t));
                sk->keys[0] = fresh;
                sk->rotated = mg_now.msec;
                OPENSSL_cleanse(&fresh, sizeof(fresh));
            }
        }
        k = sk->keys[0];
        found = 0;
    } else {
        for (int i = 0; i < TK_KEYS; i++) {
            if (memcmp(sk->keys[i].name, name, 16) == 0) {
                k = sk->keys[i];
                found = i;
                break;
            }
        }
    }
    mg_shmtx_unlock(&sk->lock);
    if (found < 0) {
        return 0; /* unknown or retired key: a full handshake */
    }
    int rc = -1;
    if (enc) {
        memcpy(name, k.name, 16);
        if (RAND_bytes(iv, 16) == 1 && seal(&k, iv, ectx, hctx, 1)) {
            rc = 1;
        }
    } else if (seal(&k, iv, ectx, hctx, 0)) {
        rc = opened(ssl, found == 0);
    }
    OPENSSL_cleanse(&k, sizeof(k));
    return rc;
}

/* ---- connections ---- */

/* SNI: the server of that name on this address, as a Host would choose it; a server with
 * certificates of its own switches the handshake to its context. Called without a name
 * too (OpenSSL calls it for every ClientHello). */
/* The context of the server SNI chose, if it has one of its own. */
static void switch_ctx(SSL *ssl, SSL_CTX *ctx)
{
    if (ctx && ctx != SSL_get_SSL_CTX(ssl)) {
        SSL_set_SSL_CTX(ssl, ctx);
        /* what SSL_set_SSL_CTX leaves as the first context set it */
        SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
        SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
        SSL_clear_options(ssl, SSL_get_options(ssl) & ~SSL_CTX_get_options(ctx));
        SSL_set_options(ssl, SSL_CTX_get_options(ctx));
    }
}

static int sni_callback(SSL *ssl, int *ad, void *arg)
{
    (void)arg;
    mg_connection_t *c = mg_ssl_conn_of(ssl);
    mg_http_conn_t *hc = c->data;
    mg_http_srv_conf_t *cscf = hc->addr_conf->default_server;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == NULL) {
        mg_debug_event(&c->log, "SSL server name: null");
    } else {
        mg_debug_event(&c->log, "SSL server name: \"%s\"", name);
    }
    if (name && *name) {
        size_t len = strlen(name);
        char *lower = mg_alloc(len + 1);
        if (mg_ssl_hello_sni_name(name, len, lower, &len) != 0) {
            free(lower);
            *ad = SSL_AD_UNRECOGNIZED_NAME;
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
        /* (a second ClientHello, after a HelloRetryRequest, names it again) */
        free(c->ssl->servername.data);
        c->ssl->servername = (mg_str_t){len, lower};
        mg_http_srv_conf_t *found = mg_http_find_server(NULL, hc->addr_conf, c->ssl->servername);
        if (found) {
            cscf = found;
            hc->ssl_sni_server = 1;
            /* the connection is that server's until a Host chooses (nginx's conf_ctx) */
            mg_http_conn_set_server(c, found);
        }
    }
    ssl_srv_conf_t *s = srv_ssl(cscf);
    if (s->buffer_size) {
        c->ssl->buffer_size = s->buffer_size; /* (0: mg_ssl_new's default stays) */
    }
    if (s->reject_handshake) {
        c->ssl->rejected = 1; /* logged by the handshake's failure, as nginx */
        *ad = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    switch_ctx(ssl, s->ctx);
    return SSL_TLSEXT_ERR_OK;
}

/* stream{} (nginx >= 1.25.5): on an address several servers listen on, the name chooses the
 * session's server and its context (a regex that fails: an internal_error alert, as nginx's);
 * then that server's ssl_reject_handshake refuses, with http's alert (logged as http's) */
static int stream_sni_callback(SSL *ssl, int *ad, void *arg)
{
    (void)arg;
    mg_connection_t *c = mg_ssl_conn_of(ssl);
    mg_stream_session_t *ss = c->data;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name && mg_stream_server_by_name(ss, (mg_str_t){strlen(name), (char *)name}) != MG_OK) {
        *ad = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    ssl_srv_conf_t *s = ss->srv_conf[mg_http_ssl_module.index];
    if (s->reject_handshake) {
        c->ssl->rejected = 1; /* logged by the handshake's failure, as nginx */
        *ad = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    switch_ctx(ssl, s->ctx);
    return SSL_TLSEXT_ERR_OK;
}

/* ALPN: "h2" where the address or the server SNI chose has HTTP/2 (core/http/v2.c), else
 * HTTP/1 by any of its three names, as nginx's list (curl --http1.0 offers "http/1.0" alone); a
 * client offering none of them is refused, as nginx >= 1.21.4. */
static int alpn_callback(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                         const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)arg;
    mg_connection_t *c = mg_ssl_conn_of(ssl);
    mg_http_conn_t *hc = c->data;
    int h2 = mg_http_v2_enabled(hc, hc->srv); /* (SNI has chosen it by now) */
#define H1_ALPN "\x08http/1.1\x08http/1.0\x08http/0.9"
    static const unsigned char with_h2[] = "\x02h2" H1_ALPN, without[] = H1_ALPN;
#undef H1_ALPN
    const unsigned char *ours = h2 ? with_h2 : without;
    unsigned int ourlen = h2 ? sizeof(with_h2) - 1 : sizeof(without) - 1;
    if (SSL_select_next_proto((unsigned char **)out, outlen, ours, ourlen, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

static void handshake_timeout(mg_connection_t *c)
{
    if (c->log.action == NULL) {
        c->log.action = "SSL handshaking"; /* (a hook's code that waits has its own) */
    }
    mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
    c->ssl->no_shutdown = 1;
    mg_conn_close(c);
}

static void handshaked(mg_connection_t *c);

/* ssl_ocsp's answers came: the connection reads again */
static void ocsp_done(mg_connection_t *c)
{
    mg_conn_read_on(c);
    handshaked(c);
}

static void handshake_handler(mg_connection_t *c)
{
    mg_int_t rc = mg_ssl_handshake(c);
    if (rc == MG_AGAIN) {
        return;
    }
    if (rc == MG_ERROR) {
        mg_conn_close(c);
        return;
    }
    ssl_srv_conf_t *s = ssl_conf(c->ssl->ssl);
    if (s && s->ocsp_conf) {
        /* as nginx: the status is known before the first request is read (the handshake's
         * timer still runs) */
        c->read_handler = NULL;
        c->write_handler = NULL;
        if (mg_http_ssl_ocsp_validate(c, s->ocsp_conf, ocsp_done) == MG_AGAIN) {
            mg_conn_read_off(c);
            return;
        }
    }
    handshaked(c);
}

static void handshaked(mg_connection_t *c)
{
    c->log.action = NULL;
    c->write_handler = NULL; /* the writer sets its own when it waits */
    mg_conn_timer_del(c);
    mg_http_conn_t *hc = c->data;
    /* the server SNI chose, as nginx's conf_ctx */
    const unsigned char *proto;
    unsigned int plen;
    SSL_get0_alpn_selected(c->ssl->ssl, &proto, &plen);
    if (plen == 2 && memcmp(proto, "h2", 2) == 0) {
        mg_http_v2_init(c);
        return;
    }
    /* the head gets its client_header_timeout from now: the default server's, as nginx's
     * first head runs on the timer its accept set, before SNI was known */
    mg_conn_timer_set(c, hc->addr_conf->default_server->client_header_timeout);
    mg_http_wait_request_start(c);
}

/* The first byte decides: a TLS record (handshake, 0x16) or an SSLv2-style hello (0x80) starts
 * a handshake; anything else is taken for plain HTTP, answered 497 once its head is read. */
/* `listen ... ssl proxy_protocol`: the header comes before the handshake, whole in the first
 * bytes (as nginx wants it); peeked, then exactly its bytes are read, so the ClientHello stays
 * for OpenSSL. 1 with *b the byte after it, 0 when none came yet, -1 when the connection was
 * closed (a broken header, logged). */
static ssize_t first_after_proxy_protocol(mg_connection_t *c, unsigned char *b)
{
    mg_http_conn_t *hc = c->data;
    char buf[4096];
    ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_PEEK);
    c->log.action = "reading PROXY protocol";
    ssize_t len = n > 0 ? mg_proxy_protocol_read(c->pool, &c->log, buf, (size_t)n, sizeof(buf),
                                                 &c->proxy_protocol)
                        : -1;
    if (len == 0) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "broken header: \"%.*s\"", (int)n, buf);
    }
    if (len <= 0 || recv(c->fd, buf, (size_t)len, 0) != len) {
        mg_conn_close(c);
        return -1;
    }
    c->log.action = NULL;
    hc->proxy_protocol = 0;
    if (n == len) {
        return 0; /* the read event brings the handshake */
    }
    *b = (unsigned char)buf[len];
    return 1;
}

static void first_byte(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    unsigned char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        c->log.action = "SSL handshaking";
        if (n == 0) {
            mg_log_error(MG_LOG_INFO, &c->log, 0, "client closed connection");
        } else {
            mg_log_error(MG_LOG_INFO, &c->log, errno, "recv() failed");
        }
        mg_conn_close(c);
        return;
    }
    mg_server_conn_reusable(c, 0);
    if (hc->proxy_protocol) {
        n = first_after_proxy_protocol(c, &b);
        if (n <= 0) {
            return; /* closed, or the handshake's bytes are still to come */
        }
    }
    if (b != 0x16 && b != 0x80) {
        mg_http_wait_request_start(c);
        return;
    }
    /* as nginx 1.22: TCP_NODELAY from the handshake's first byte, by the default server's
     * tcp_nodelay (the handshake's flights then go out without waiting for an ACK) */
    mg_http_loc_conf_t *clcf = hc->srv->ctx->loc_conf[mg_http_core_module.index];
    mg_http_tcp_nodelay(c, clcf->tcp_nodelay);
    ssl_srv_conf_t *s = srv_ssl(hc->srv); /* the default server's (SNI switches it) */
    mg_ssl_conn_create(c, s->ctx, s->buffer_size);
    c->log.action = "SSL handshaking";
    c->read_handler = handshake_handler;
    c->write_handler = handshake_handler;
    c->timeout_handler = handshake_timeout;
    handshake_handler(c);
}

/* a handshake hook's code that waited has ended (mg_ssl_hook_srv_t's resume) */
static void ssl_resume(mg_connection_t *c)
{
    handshake_handler(c);
}

void mg_http_ssl_init_connection(mg_connection_t *c)
{
    c->read_handler = first_byte;
}

mg_int_t mg_http_ssl_check_server(mg_request_t *r, mg_http_srv_conf_t *srv)
{
    mg_connection_t *c = r->connection;
    ssl_srv_conf_t *s = srv_ssl(srv);
    mg_str_t host = r->headers_in.server;
    if (c->ssl == NULL || s->verify == VERIFY_OFF ||
        (host.len == c->ssl->servername.len &&
         mg_strncasecmp(host.data, c->ssl->servername.data, host.len) == 0)) {
        return MG_OK;
    }
    /* refused as the server SNI chose, which r is still on (hc->srv): its name in the log
     * line, its error_page 421 */
    r->headers_in.server.len =
        0; /* nginx never takes a Host it refuses: $host is the server's name */
    c->log.action = "reading client request headers";
    mg_log_error(MG_LOG_INFO, &c->log, 0,
                 "client attempted to request the server name different from the one that was "
                 "negotiated");
    r->keepalive = 0;
    mg_http_finalize_request(r, MG_HTTP_MISDIRECTED_REQUEST);
    return MG_ERROR;
}

mg_int_t mg_http_ssl_check_request(mg_request_t *r)
{
    mg_connection_t *c = r->connection;
    /* nginx's context for what follows */
    c->log.action = "reading client request headers";
    if (c->ssl == NULL) {
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent plain HTTP request to HTTPS port");
        r->keepalive = 0;
        mg_http_finalize_request(r, MG_HTTP_TO_HTTPS);
        return MG_ERROR;
    }
    ssl_srv_conf_t *s = mg_http_get_srv_conf(r, mg_http_ssl_module);
    int rc = mg_ssl_check_client(c, (int)s->verify); /* (ssl_verify_client off: OK) */
    if (rc != MG_SSL_CLIENT_OK) {
        r->keepalive = 0;
        mg_http_finalize_request(r, rc == MG_SSL_CLIENT_NO_CERT ? MG_HTTP_NO_CERT
                                                                : MG_HTTP_CERT_ERROR);
        return MG_ERROR;
    }
    c->log.action = NULL;
    return MG_OK;
}

/* ---- variables ---- */

static mg_int_t not_found(mg_http_var_value_t *v)
{
    v->valid = 0;
    v->not_found = 1;
    return MG_OK;
}

static mg_int_t set_value(mg_http_var_value_t *v, const char *s, size_t len)
{
    v->value.data = (char *)s;
    v->value.len = len;
    v->valid = 1;
    v->not_found = 0;
    return MG_OK;
}

static SSL *req_ssl(mg_request_t *r)
{
    return r->connection->ssl ? r->connection->ssl->ssl : NULL;
}

/* the values both layers have (core/ssl_vars.c) */
static mg_int_t var_ssl(mg_request_t *r, mg_http_var_value_t *v, uintptr_t which)
{
    mg_str_t val = mg_ssl_var(r->pool, r->connection->ssl, (int)which);
    return val.data ? set_value(v, val.data, val.len) : not_found(v);
}

static mg_int_t var_server_name(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_ssl_conn_t *sc = r->connection->ssl;
    if (req_ssl(r) == NULL || sc->servername.data == NULL) {
        return not_found(v);
    }
    return set_value(v, sc->servername.data, sc->servername.len);
}

/* "1" while the request is served in TLS 1.3 early data, before the client's Finished (as
 * nginx: early data was taken and the handshake is not over). */
static mg_int_t var_early_data(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_connection_t *c = r->connection;
    int early = c->ssl && c->ssl->early_len && !SSL_is_init_finished(c->ssl->ssl);
    return set_value(v, early ? "1" : "", early);
}

static mg_int_t var_alpn(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_str_t val = mg_ssl_alpn(r->connection->ssl);
    return set_value(v, val.data, val.len);
}

static void *ssl_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, 1);
}

static const char *ssl_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    static const struct {
        const char *name;
        mg_http_get_variable_pt get;
        uintptr_t data;
    } vars[] = {
        {"ssl_server_name", var_server_name, 0},
        {"ssl_alpn_protocol", var_alpn, 0},
        {"ssl_early_data", var_early_data, 0},
    };
    for (const mg_ssl_var_name_t *n = mg_ssl_var_names; n->name; n++) {
        mg_str_t name = {strlen(n->name), (char *)n->name};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, 0);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = var_ssl;
        v->data = (uintptr_t)n->which;
    }
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_str_t name = {strlen(vars[i].name), (char *)vars[i].name};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, 0);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = vars[i].get;
        v->data = vars[i].data;
    }
    if (conf_index < 0) {
        conf_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    }
    return MG_CONF_OK;
}

static const mg_stream_module_t ssl_stream = {
    .create_srv_conf = ssl_create_srv_conf,
    .merge_srv_conf = ssl_merge_srv_conf,
    .init = ssl_stream_init,
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t ssl_defaults[] = {
    {"ssl", "off"},
    {"ssl_protocols", "TLSv1 TLSv1.1 TLSv1.2"},
    {"ssl_session_cache", "none"},
    {"ssl_ocsp", "off"},
    {"ssl_ocsp_cache", "off"},
    {"ssl_certificate", MG_NO_DEFAULT},
    {"ssl_certificate_key", MG_NO_DEFAULT},
    {"ssl_password_file", MG_NO_DEFAULT},
    {"ssl_dhparam", MG_NO_DEFAULT},
    {"ssl_conf_command", MG_NO_DEFAULT},
    {"ssl_session_ticket_key", MG_NO_DEFAULT},
    {"ssl_client_certificate", MG_NO_DEFAULT},
    {"ssl_trusted_certificate", MG_NO_DEFAULT},
    {"ssl_crl", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_http_ssl_module = {
    .name = "ssl",
    .commands = ssl_commands,
    .defaults = ssl_defaults,
    .stream = &ssl_stream,
    .create_main_conf = ssl_create_main_conf,
    .init_main_conf = ssl_init_main_conf,
    .create_srv_conf = ssl_create_srv_conf,
    .merge_srv_conf = ssl_merge_srv_conf,
};
