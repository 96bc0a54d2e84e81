/*
 * What ssl_stapling.c (the configuration and the handshake's status callback) and
 * ssl_ocsp_fetch.c (the OCSP request to the responder, in a worker) share: one staple per
 * certificate of a server's TLS context, made while the configuration is read, living in the
 * generation's pool; each worker fills and refreshes its own copy as nginx's workers do.
 */
#ifndef MG_HTTP_SSL_STAPLING_H
#define MG_HTTP_SSL_STAPLING_H

#include <openssl/ocsp.h>
#include <openssl/ssl.h>

#include "http.h"
#include "resolver.h"

typedef struct mg_ocsp_fetch_s mg_ocsp_fetch_t;

typedef struct {
    unsigned char *der; /* the response sent; from the file (pool) or fetched (malloc) */
    size_t len;
    time_t valid;   /* sent until then (its nextUpdate); a file's: for ever */
    time_t refresh; /* the next fetch at or after this */
    unsigned from_file : 1;
    unsigned verify : 1; /* ssl_stapling_verify */
    X509 *cert, *issuer;
    SSL_CTX *ctx;           /* its trusted certificates verify a response */
    STACK_OF(X509) * chain; /* the certificate's chain (the context's) */
    const char *name;       /* the certificate file, for the messages */
    /* the responder: ssl_stapling_responder or the certificate's OCSP URL */
    char *responder; /* as written, for the messages */
    char *host, *path;
    int port;
    mg_resolver_t *resolver; /* the server's; NULL: none */
    mg_msec_t resolver_timeout;
    mg_log_t *log;
    mg_ocsp_fetch_t *fetch; /* in flight */
} mg_ssl_staple_t;

/* Starts a fetch when the staple is due one and none is in flight (a handshake asked). */
void mg_ocsp_fetch_start(mg_ssl_staple_t *st, mg_server_t *srv);
/* The generation goes: a fetch in flight is dropped (its events, socket, DNS question). */
void mg_ocsp_fetch_cancel(mg_ssl_staple_t *st);
/* Checks a DER response for the staple's certificate as nginx does (status successful, the
 * signature when ssl_stapling_verify is on, the certificate "good", thisUpdate/nextUpdate);
 * sets *valid to its nextUpdate. NULL, or nginx's words for what is wrong (in err). */
const char *mg_ocsp_check(mg_ssl_staple_t *st, const unsigned char *der, size_t len, time_t *valid,
                          char *err, size_t errlen);

#endif
