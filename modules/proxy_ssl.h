/*
 * proxy_pass https://: the proxy_ssl_* settings of a location (embedded in the proxy's
 * location configuration; the directives' rows are MG_PROXY_SSL_COMMANDS), the client context made
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
 * variables, which may): MG_CONF_OK or MG_CONF_ERROR (logged, naming the directives of the
 * family p: "proxy", "grpc"). */
const char *mg_proxy_ssl_merge_conf(mg_conf_t *cf, mg_proxy_ssl_conf_t *c,
                                    mg_proxy_ssl_conf_t *prev, int https, const char *p);
/* proxy_ssl_name */
const char *mg_proxy_ssl_set_name(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* The P_ssl_* rows (proxy, grpc) of the mg_proxy_ssl_conf_t at offset B of the location conf */
#define MG_PROXY_SSL_F(B, f) ((B) + offsetof(mg_proxy_ssl_conf_t, f))
#define MG_PROXY_SSL_CF(B, f) (MG_PROXY_SSL_F(B, client) + offsetof(mg_ssl_client_conf_t, f))
#define MG_PROXY_SSL_COMMANDS(P, B)                                                                \
    MG_UPSTREAM_ROW(P, "_ssl_server_name", MG_FLAG, mg_conf_set_flag,                              \
                    MG_PROXY_SSL_F(B, server_name)),                                               \
        MG_UPSTREAM_ROW(P, "_ssl_name", MG_ARGS(1, 1), mg_proxy_ssl_set_name,                      \
                        MG_PROXY_SSL_F(B, name)),                                                  \
        MG_UPSTREAM_ROW(P, "_ssl_verify", MG_FLAG, mg_conf_set_flag, MG_PROXY_SSL_F(B, verify)),   \
        MG_UPSTREAM_ROW(P, "_ssl_verify_depth", MG_ARGS(1, 1), mg_conf_set_num,                    \
                        MG_PROXY_SSL_CF(B, verify_depth)),                                         \
        MG_UPSTREAM_ROW(P, "_ssl_session_reuse", MG_FLAG, mg_conf_set_flag,                        \
                        MG_PROXY_SSL_F(B, session_reuse)),                                         \
        MG_UPSTREAM_ROW(P, "_ssl_protocols", MG_ARGS(1, MG_MANY), mg_ssl_client_set_protocols,     \
                        MG_PROXY_SSL_CF(B, protocols)),                                            \
        MG_UPSTREAM_ROW(P, "_ssl_ciphers", MG_ARGS(1, 1), mg_conf_set_str,                         \
                        MG_PROXY_SSL_CF(B, ciphers)),                                              \
        MG_UPSTREAM_ROW(P, "_ssl_trusted_certificate", MG_ARGS(1, 1), mg_conf_set_str,             \
                        MG_PROXY_SSL_CF(B, trusted_certificate)),                                  \
        MG_UPSTREAM_ROW(P, "_ssl_crl", MG_ARGS(1, 1), mg_conf_set_str, MG_PROXY_SSL_CF(B, crl)),   \
        MG_UPSTREAM_ROW(P, "_ssl_certificate", MG_ARGS(1, 1), mg_conf_set_str,                     \
                        MG_PROXY_SSL_CF(B, certificate)),                                          \
        MG_UPSTREAM_ROW(P, "_ssl_certificate_key", MG_ARGS(1, 1), mg_conf_set_str,                 \
                        MG_PROXY_SSL_CF(B, certificate_key)),                                      \
        MG_UPSTREAM_ROW(P, "_ssl_password_file", MG_ARGS(1, 1), mg_ssl_client_set_password_file,   \
                        MG_PROXY_SSL_CF(B, passwords)),                                            \
        MG_UPSTREAM_ROW(P, "_ssl_conf_command", MG_ARGS(2, 2), mg_ssl_client_set_conf_command,     \
                        MG_PROXY_SSL_CF(B, conf_commands))

/* Put the request's TLS settings on u (the URL was https://). */
void mg_proxy_ssl_setup(mg_request_t *r, mg_upstream_t *u, mg_proxy_ssl_conf_t *c,
                        mg_str_t proxy_host);

#endif
