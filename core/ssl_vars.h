/*
 * The $ssl_* values both layers have (http's core/http/ssl.c, stream's core/stream/ssl.c),
 * read from a connection's SSL object, as nginx's ngx_ssl_get_* give them.
 */
#ifndef MG_SSL_VARS_H
#define MG_SSL_VARS_H

#include <openssl/ssl.h>

#include "pool.h"
#include "ssl.h"
#include "str.h"

enum {
    MG_SSL_VAR_PROTOCOL,
    MG_SSL_VAR_CIPHER,
    MG_SSL_VAR_CIPHERS,
    MG_SSL_VAR_CURVES,
    MG_SSL_VAR_CURVE,
    MG_SSL_VAR_SESSION_ID,
    MG_SSL_VAR_SESSION_REUSED,
    MG_SSL_VAR_CLIENT_VERIFY,
    MG_SSL_VAR_CLIENT_S_DN,
    MG_SSL_VAR_CLIENT_I_DN,
    MG_SSL_VAR_CLIENT_SERIAL,
    MG_SSL_VAR_CLIENT_FINGERPRINT,
    MG_SSL_VAR_CLIENT_RAW_CERT,
    MG_SSL_VAR_CLIENT_CERT,
    MG_SSL_VAR_CLIENT_ESCAPED_CERT,
    MG_SSL_VAR_CLIENT_S_DN_LEGACY,
    MG_SSL_VAR_CLIENT_I_DN_LEGACY,
    MG_SSL_VAR_CLIENT_V_START,
    MG_SSL_VAR_CLIENT_V_END,
    MG_SSL_VAR_CLIENT_V_REMAIN,
};

/* The $ssl_* names whose value is mg_ssl_var's, for both layers: each registers every one with
 * its own getter (data: the MG_SSL_VAR_* number); ends with a NULL name. The few that differ
 * ($ssl_server_name, $ssl_alpn_protocol, http's $ssl_early_data) each layer adds itself. */
typedef struct {
    const char *name;
    int which;
} mg_ssl_var_name_t;

extern const mg_ssl_var_name_t mg_ssl_var_names[];

/* The value of one MG_SSL_VAR_* for a connection's TLS (NULL: a plain connection), in pool or
 * static: a NULL data when nginx has it not found, else the text (possibly ""). */
mg_str_t mg_ssl_var(mg_pool_t *pool, mg_ssl_conn_t *sc, int which);

/* The ALPN protocol the handshake chose ("" when none or a plain connection). */
mg_str_t mg_ssl_alpn(mg_ssl_conn_t *sc);

/* nginx's checks of a client's certificate after the handshake, for ssl_verify_client `verify`
 * (0 off, 1 on, 2 optional, 3 optional_no_ca): a verify error (or ssl_ocsp's verdict) and a
 * missing required certificate are logged at info and the TLS session is forgotten. */
enum { MG_SSL_CLIENT_OK, MG_SSL_CLIENT_CERT_ERROR, MG_SSL_CLIENT_NO_CERT };
int mg_ssl_check_client(mg_connection_t *c, int verify);

#endif
