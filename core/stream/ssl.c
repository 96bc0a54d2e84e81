/*
 * ngx_stream_ssl_module: "listen ... ssl" in stream{}. The ssl_* directives and each server's
 * SSL_CTX are core/http/ssl.c's (one conf, both layers); here are the ssl phase's handshake
 * (ssl_handshake_timeout), ssl_alpn, the client certificate's check after it, and the $ssl_*
 * variables (core/ssl_vars.c's values). Once the handshake is done the connection's recv/send are
 * the TLS ones, so preread and the proxy read plaintext.
 */
#include <openssl/x509.h>

#include "ssl.h"
#include "ssl_vars.h"
#include "stream.h"

extern mg_module_t mg_stream_ssl_module;

typedef struct {
    mg_msec_t handshake_timeout;
    mg_str_t alpn; /* ssl_alpn: the protocols in ALPN's wire form (1-byte lengths); len 0: none */
} stream_ssl_conf_t;

static void on_handshake(mg_connection_t *c)
{
    mg_stream_core_run(c->data);
}

static void on_handshake_timeout(mg_connection_t *c)
{
    c->ssl->no_shutdown = 1;
    mg_stream_finalize_session(c->data, 500);
}

static const char *addr_text(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    return s->addr->addr_text;
}

void mg_stream_ssl_hook_srv(struct mg_ssl_hook_srv_s *h, mg_stream_srv_conf_t *srv)
{
    *h = (mg_ssl_hook_srv_t){.main_conf = srv->ctx->main_conf,
                             .srv_conf = srv->ctx->srv_conf,
                             .addr_text = addr_text,
                             .resume = on_handshake,
                             .stream = 1};
}

static mg_int_t ssl_handler(mg_stream_session_t *s)
{
    mg_connection_t *c = s->connection;
    if (!s->addr->ssl) {
        return MG_DECLINED;
    }
    int verify;
    SSL_CTX *ctx = mg_ssl_server_ctx(s->srv_conf, &verify);
    if (c->ssl == NULL) {
        stream_ssl_conf_t *sc = mg_stream_get_srv_conf(s, mg_stream_ssl_module);
        mg_ssl_conn_create(c, ctx, 16384);
        c->log.action = "SSL handshaking";
        c->read_handler = on_handshake;
        c->write_handler = on_handshake;
        c->timeout_handler = on_handshake_timeout;
        mg_conn_timer_set(c, sc->handshake_timeout);
    }
    if (!c->ssl->handshaked) {
        mg_int_t rc = mg_ssl_handshake(c);
        if (rc == MG_AGAIN) {
            return MG_AGAIN;
        }
        if (rc != MG_OK) {
            return 500;
        }
    }
    mg_conn_timer_del(c);
    mg_conn_read_off(c);
    mg_conn_write_off(c);
    c->read_handler = NULL;
    c->write_handler = NULL;
    c->timeout_handler = NULL;
    if (mg_ssl_check_client(c, verify) != MG_SSL_CLIENT_OK) {
        return 500;
    }
    c->log.action = "initializing session";
    return MG_OK;
}

/* ssl_alpn: one of ours in the client's list, or the handshake fails (no_application_protocol),
 * as nginx's; a client that sends no ALPN is not asked */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    stream_ssl_conf_t *sc = arg;
    if (SSL_select_next_proto((unsigned char **)out, outlen, (const unsigned char *)sc->alpn.data,
                              (unsigned int)sc->alpn.len, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

static const char *set_alpn(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    stream_ssl_conf_t *sc = conf;
    if (sc->alpn.data) {
        return "is duplicate";
    }
    size_t len = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        if (cf->args[i].len == 0 || cf->args[i].len > 255) {
            return "invalid value"; /* a protocol name is 1-255 bytes */
        }
        len += 1 + cf->args[i].len;
    }
    char *p = mg_palloc(cf->pool, len);
    sc->alpn.data = p;
    sc->alpn.len = len;
    for (size_t i = 1; i < cf->nargs; i++) {
        *p++ = (char)cf->args[i].len;
        memcpy(p, cf->args[i].data, cf->args[i].len);
        p += cf->args[i].len;
    }
    return MG_CONF_OK;
}

/* ---- variables ---- */

/* as nginx's stream: an empty value (no TLS, no ALPN, ...) is not found, "-" in a log */
static mg_str_t found(mg_str_t v)
{
    return v.len ? v : (mg_str_t)mg_null_string;
}

static mg_str_t v_ssl(mg_stream_session_t *s, uintptr_t which)
{
    mg_connection_t *c = s->connection;
    return c->ssl ? found(mg_ssl_var(s->pool, c->ssl, (int)which)) : (mg_str_t)mg_null_string;
}

static mg_str_t v_server_name(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    mg_connection_t *c = s->connection;
    const char *name = c->ssl ? SSL_get_servername(c->ssl->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
    if (name == NULL) {
        return (mg_str_t)mg_null_string;
    }
    return (mg_str_t){strlen(name), (char *)name};
}

static mg_str_t v_alpn(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    return s->connection->ssl ? found(mg_ssl_alpn(s->connection->ssl)) : (mg_str_t)mg_null_string;
}

/* ---- configuration ---- */

static void *stream_ssl_create_conf(mg_conf_t *cf)
{
    stream_ssl_conf_t *sc = mg_pcalloc(cf->pool, sizeof(stream_ssl_conf_t));
    sc->handshake_timeout = MG_CONF_UNSET;
    return sc;
}

static const char *stream_ssl_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    stream_ssl_conf_t *prev = parent, *sc = child;
    mg_conf_merge(sc->handshake_timeout, prev->handshake_timeout, 60000);
    if (sc->alpn.data == NULL) {
        sc->alpn = prev->alpn;
    }
    return MG_CONF_OK;
}

static mg_int_t stream_ssl_init(mg_conf_t *cf)
{
    mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
    mg_stream_listen_t *l = cmcf->listen.elts;
    for (size_t i = 0; i < cmcf->listen.nelts; i++) {
        if (l[i].ssl) {
            mg_stream_add_handler(cf, MG_STREAM_SSL_PHASE, ssl_handler);
            break;
        }
    }
    /* the contexts were made by core/http/ssl.c's stream init, which runs before this one */
    mg_stream_srv_conf_t **servers = cmcf->servers.elts;
    for (size_t i = 0; i < cmcf->servers.nelts; i++) {
        stream_ssl_conf_t *sc = servers[i]->ctx->srv_conf[mg_stream_ssl_module.index];
        SSL_CTX *ctx = mg_ssl_server_ctx(servers[i]->ctx->srv_conf, NULL);
        if (ctx && sc->alpn.len) {
            SSL_CTX_set_alpn_select_cb(ctx, alpn_select, sc);
        }
    }
    static const struct {
        const char *name;
        mg_stream_var_get_pt get;
        uintptr_t data;
    } vars[] = {
        {"ssl_server_name", v_server_name, 0},
        {"ssl_alpn_protocol", v_alpn, 0},
    };
    for (const mg_ssl_var_name_t *n = mg_ssl_var_names; n->name; n++) {
        mg_stream_variable_add(cf, n->name, v_ssl, (uintptr_t)n->which);
    }
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_stream_variable_add(cf, vars[i].name, vars[i].get, vars[i].data);
    }
    return MG_OK;
}

static const mg_command_t stream_ssl_commands[] = {
    {"ssl_handshake_timeout", MG_CTX_STREAM | MG_CTX_STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_msec,
     MG_SRV_CONF, offsetof(stream_ssl_conf_t, handshake_timeout), NULL},
    {"ssl_alpn", MG_CTX_STREAM | MG_CTX_STREAM_SRV, MG_ARGS(1, MG_MANY), set_alpn, MG_SRV_CONF, 0,
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const mg_stream_module_t stream_ssl_stream = {
    .create_srv_conf = stream_ssl_create_conf,
    .merge_srv_conf = stream_ssl_merge_conf,
    .init = stream_ssl_init,
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t stream_ssl_defaults[] = {
    {"ssl_alpn", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_stream_ssl_module = {
    .name = "stream_ssl",
    .commands = stream_ssl_commands,
    .defaults = stream_ssl_defaults,
    .stream = &stream_ssl_stream,
};
