/*
 * proxy_pass https://: the proxy_ssl_* settings of a location (embedded in the proxy's
 * location configuration; the directives are in proxy.c's table), the client context made
 * when the location proxies to https, and what a request's upstream gets from them
 * (core/http/upstream_io.c does the handshake and the checks).
 */
#ifndef MG_MODULES_PROXY_SSL_H
#define MG_MODULES_PROXY_SSL_H

#include "script.h"
#include "ssl_client.h"
#include "upstream_io.h"

typedef struct {
    mg_ssl_client_conf_t client;
    mg_http_complex_value_t *name; /* proxy_ssl_name; NULL: $proxy_host */
    int server_name;               /* proxy_ssl_server_name */
    int verify;                    /* proxy_ssl_verify */
    int session_reuse;             /* proxy_ssl_session_reuse */
    /* proxy_ssl_certificate/_key with variables: evaluated per request, loaded per
     * connection (the context then holds none) */
    struct mg_http_ssl_cert_var_s *cert_var;
} mg_proxy_ssl_conf_t;

void mg_proxy_ssl_create_conf(mg_proxy_ssl_conf_t *c);
/* Merge, and make the context when the location proxies to https (or to a URL with
 * variables, which may): MG_CONF_OK or MG_CONF_ERROR (logged). */
const char *mg_proxy_ssl_merge_conf(mg_conf_t *cf, mg_proxy_ssl_conf_t *c,
                                    mg_proxy_ssl_conf_t *prev, int https);
/* proxy_ssl_name */
const char *mg_proxy_ssl_set_name(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* Put the request's TLS settings on u (the URL was https://). */
void mg_proxy_ssl_setup(mg_request_t *r, mg_upstream_t *u, mg_proxy_ssl_conf_t *c,
                        mg_str_t proxy_host);

#endif
