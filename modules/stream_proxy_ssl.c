/*
 * proxy_ssl_* in stream: nginx 1.22's defaults (protocols TLSv1 TLSv1.1 TLSv1.2, ciphers
 * DEFAULT, verify off with depth 1, no SNI, sessions reused), one client context per server{}
 * made while the configuration is read (core/ssl_client.c, as http's proxy_ssl), the name
 * (proxy_ssl_name, else the proxy_pass host) and the peer's session to resume.
 */
#include <openssl/x509.h>

#include "ssl_client.h"
#include "stream_proxy_ssl.h"

extern mg_module_t mg_stream_proxy_ssl_module;

typedef struct {
    int enable;
    mg_ssl_client_conf_t client;
    mg_stream_complex_t *name; /* proxy_ssl_name; NULL: the proxy_pass host */
    int server_name;
    int verify;
    int session_reuse;
} pssl_conf_t;

int mg_stream_proxy_ssl_enabled(mg_stream_session_t *s)
{
    pssl_conf_t *pc = mg_stream_get_srv_conf(s, mg_stream_proxy_ssl_module);
    return pc->enable && s->udp == NULL;
}

mg_ssl_conn_t *mg_stream_proxy_ssl_new(mg_stream_session_t *s, int fd, mg_upstream_peer_t *peer,
                                       mg_str_t host, int reuse)
{
    pssl_conf_t *pc = mg_stream_get_srv_conf(s, mg_stream_proxy_ssl_module);
    mg_str_t *name = mg_palloc(s->pool, sizeof(mg_str_t));
    *name = mg_ssl_client_host(pc->name ? mg_stream_complex_value(s, pc->name) : host);
    s->ctx[mg_stream_proxy_ssl_module.index] = name;
    char *sni = pc->server_name && name->len ? mg_pstrdup(s->pool, name->data, name->len) : NULL;
    SSL_CTX *ctx = pc->client.ctx;
    reuse = reuse && pc->session_reuse;
    return mg_ssl_client_peer_new(ctx, fd, &s->connection->log, sni,
                                  reuse ? mg_upstream_peer_session(peer) : NULL,
                                  s->connection->cycle->pool);
}

mg_int_t mg_stream_proxy_ssl_check(mg_stream_session_t *s, mg_ssl_conn_t *sc)
{
    pssl_conf_t *pc = mg_stream_get_srv_conf(s, mg_stream_proxy_ssl_module);
    if (!pc->verify) {
        return MG_OK;
    }
    mg_str_t *name = s->ctx[mg_stream_proxy_ssl_module.index];
    return mg_ssl_client_verify(sc, &s->connection->log, *name);
}

/* ---- configuration ---- */

static void *pssl_create_conf(mg_conf_t *cf)
{
    pssl_conf_t *pc = mg_pcalloc(cf->pool, sizeof(pssl_conf_t));
    pc->enable = MG_CONF_UNSET;
    mg_ssl_client_conf_init(&pc->client);
    pc->name = MG_CONF_UNSET_PTR;
    pc->server_name = MG_CONF_UNSET;
    pc->verify = MG_CONF_UNSET;
    pc->session_reuse = MG_CONF_UNSET;
    return pc;
}

static const char *pssl_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    pssl_conf_t *prev = parent, *pc = child;
    mg_conf_merge(pc->enable, prev->enable, 0);
    mg_ssl_client_conf_merge(&pc->client, &prev->client,
                             MG_SSL_TLSv1 | MG_SSL_TLSv1_1 | MG_SSL_TLSv1_2, "DEFAULT", 1);
    mg_conf_merge_ptr(pc->name, prev->name, NULL);
    mg_conf_merge(pc->server_name, prev->server_name, 0);
    mg_conf_merge(pc->verify, prev->verify, 0);
    mg_conf_merge(pc->session_reuse, prev->session_reuse, 1);
    if (!pc->enable) {
        return MG_CONF_OK;
    }
    if (pc->verify &&
        (pc->client.trusted_certificate.data == NULL || pc->client.trusted_certificate.len == 0)) {
        /* as nginx (and http's proxy_ssl.c): said without FILE:LINE */
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "no proxy_ssl_trusted_certificate for proxy_ssl_verify");
        return MG_CONF_ERROR;
    }
    pc->client.no_verify = !pc->verify;
    return mg_ssl_client_ctx(cf, &pc->client, &prev->client) == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

static const char *pssl_set_name(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    pssl_conf_t *pc = conf;
    if (pc->name != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    pc->name = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
    return mg_stream_complex_compile(cf, cf->args[1], pc->name);
}

#define STREAM_SRV (MG_CTX_STREAM | MG_CTX_STREAM_SRV)
#define PS(f) MG_SRV_CONF, offsetof(pssl_conf_t, f)
#define PSC(f) MG_SRV_CONF, offsetof(pssl_conf_t, client) + offsetof(mg_ssl_client_conf_t, f)

static const mg_command_t pssl_commands[] = {
    {"proxy_ssl", STREAM_SRV, MG_FLAG, mg_conf_set_flag, PS(enable), NULL},
    {"proxy_ssl_server_name", STREAM_SRV, MG_FLAG, mg_conf_set_flag, PS(server_name), NULL},
    {"proxy_ssl_name", STREAM_SRV, MG_ARGS(1, 1), pssl_set_name, PS(name), NULL},
    {"proxy_ssl_verify", STREAM_SRV, MG_FLAG, mg_conf_set_flag, PS(verify), NULL},
    {"proxy_ssl_verify_depth", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_num, PSC(verify_depth), NULL},
    {"proxy_ssl_session_reuse", STREAM_SRV, MG_FLAG, mg_conf_set_flag, PS(session_reuse), NULL},
    {"proxy_ssl_protocols", STREAM_SRV, MG_ARGS(1, MG_MANY), mg_ssl_client_set_protocols,
     PSC(protocols), NULL},
    {"proxy_ssl_ciphers", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_str, PSC(ciphers), NULL},
    {"proxy_ssl_trusted_certificate", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_str,
     PSC(trusted_certificate), NULL},
    {"proxy_ssl_crl", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_str, PSC(crl), NULL},
    {"proxy_ssl_certificate", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_str, PSC(certificate), NULL},
    {"proxy_ssl_certificate_key", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_str, PSC(certificate_key),
     NULL},
    {"proxy_ssl_password_file", STREAM_SRV, MG_ARGS(1, 1), mg_ssl_client_set_password_file,
     PSC(passwords), NULL},
    {"proxy_ssl_conf_command", STREAM_SRV, MG_ARGS(2, 2), mg_ssl_client_set_conf_command,
     PSC(conf_commands), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const mg_stream_module_t pssl_stream = {
    .create_srv_conf = pssl_create_conf,
    .merge_srv_conf = pssl_merge_conf,
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t pssl_defaults[] = {
    {"proxy_ssl_name", "host from proxy_pass"},
    {"proxy_ssl_protocols", "TLSv1 TLSv1.1 TLSv1.2"},
    {"proxy_ssl_password_file", MG_NO_DEFAULT},
    {"proxy_ssl_conf_command", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_stream_proxy_ssl_module = {
    .name = "stream_proxy_ssl",
    .commands = pssl_commands,
    .defaults = pssl_defaults,
    .stream = &pssl_stream,
};
