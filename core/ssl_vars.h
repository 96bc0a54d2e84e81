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
};

/* The value of one MG_SSL_VAR_* for a connection's TLS (NULL: a plain connection), in pool or
 * static: a NULL data when nginx has it not found, else the text (possibly ""). */
mg_str_t mg_ssl_var(mg_pool_t *pool, mg_ssl_conn_t *sc, int which);

#endif
