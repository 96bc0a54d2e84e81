/*
 * proxy_ssl_*: nginx's defaults (nginx 1.22's protocols TLSv1 TLSv1.1 TLSv1.2, ciphers
 * DEFAULT, verify off with depth 1, no SNI, sessions reused), the context made while the
 * configuration is read, and each request's name (proxy_ssl_name, $proxy_host by default,
 * its port cut off by the engine).
 */
#include "proxy_ssl.h"
#include "conn.h"

void mg_proxy_ssl_create_conf(mg_proxy_ssl_conf_t *c)
{
    mg_ssl_client_conf_init(&c->client);
    c->name = MG_CONF_UNSET_PTR;
    c->server_name = MG_CONF_UNSET;
    c->verify = MG_CONF_UNSET;
    c->session_reuse = MG_CONF_UNSET;
}

const char *mg_proxy_ssl_merge_conf(mg_conf_t *cf, mg_proxy_ssl_conf_t *c,
                                    mg_proxy_ssl_conf_t *prev, int https, const char *p)
{
    mg_ssl_client_conf_merge(&c->client, &prev->client,
                             MG_SSL_TLSv1 | MG_SSL_TLSv1_1 | MG_SSL_TLSv1_2, "DEFAULT", 1);
    mg_conf_merge_ptr(c->name, prev->name, NULL);
    mg_conf_merge(c->server_name, prev->server_name, 0);
    mg_conf_merge(c->verify, prev->verify, 0);
    mg_conf_merge(c->session_reuse, prev->session_reuse, 1);
    if (!https) {
        return MG_CONF_OK;
    }
    if (c->client.certificate.len && c->client.certificate_key.len) {
        /* nginx >= 1.21: a pair with variables is read for each connection */
        c->cert_var = mg_http_ssl_cert_var(cf, c->client.certificate, c->client.certificate_key);
        if (c->cert_var == MG_HTTP_SSL_CERT_VAR_ERROR) {
            return MG_CONF_ERROR;
        }
        if (c->cert_var) {
            mg_str_t none = {0, NULL};
            c->client.certificate = none;
            c->client.certificate_key = none;
        }
    }
    if (c->verify &&
        (c->client.trusted_certificate.data == NULL || c->client.trusted_certificate.len == 0)) {
        /* nginx says so without the file and line */
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "no %s_ssl_trusted_certificate for %s_ssl_verify", p,
                     p);
        return MG_CONF_ERROR;
    }
    c->client.no_verify = !c->verify;
    if (mg_ssl_client_ctx(cf, &c->client, &prev->client) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

const char *mg_proxy_ssl_set_name(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_http_complex_value_t **field = (mg_http_complex_value_t **)((char *)conf + cmd->offset);
    if (*field != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    *field = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
    if (mg_http_compile_complex_value(cf, cf->args[1], *field) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

void mg_proxy_ssl_setup(mg_request_t *r, mg_upstream_t *u, mg_proxy_ssl_conf_t *c,
                        mg_str_t proxy_host)
{
    u->ssl_ctx = c->client.ctx;
    u->ssl_name = c->name ? mg_http_complex_value(r, c->name) : proxy_host;
    u->ssl_server_name = (unsigned)c->server_name;
    u->ssl_verify = (unsigned)c->verify;
    u->ssl_session_reuse = (unsigned)c->session_reuse;
    if (c->cert_var) {
        mg_http_ssl_cert_var_value(r, c->cert_var, &u->ssl_certificate, &u->ssl_certificate_key);
        u->ssl_passwords = c->client.passwords;
        /* a session resumed would present another request's certificate */
        u->ssl_session_reuse = 0;
    }
}
