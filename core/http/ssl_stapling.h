/*
 * What the OCSP code shares: ssl_ocsp_fetch.c (a worker's HTTP request to a responder and the
 * check of its answer), ssl_stapling.c (ssl_stapling: one staple per certificate of a
 * server's TLS context, made while the configuration is read, living in the generation's
 * pool; each worker fills and refreshes its own copy as nginx's workers do) and ssl_ocsp.c
 * (ssl_ocsp: the client certificates' status, asked after the handshake).
 */
#ifndef MG_HTTP_SSL_STAPLING_H
#define MG_HTTP_SSL_STAPLING_H

#include <openssl/ocsp.h>
#include <openssl/ssl.h>

#include "http.h"
#include "resolver.h"

typedef struct mg_ocsp_fetch_s mg_ocsp_fetch_t;

/* An OCSP responder: "http://host[:port][/path]" read by mg_ocsp_responder_parse. */
typedef struct {
    char *url; /* as written, for the messages */
    char *host, *path;
    int port;
    mg_resolver_t *resolver; /* the server's; NULL: none (an address works, a name does not) */
    mg_msec_t resolver_timeout;
    /* a name resolved while reading the configuration (ssl_ocsp_responder, as nginx), with
     * the port set; none: the host is an address or is asked of the resolver */
    struct sockaddr_storage *addrs;
    socklen_t *lens;
    size_t naddrs;
} mg_ocsp_responder_t;

/* Reads url into r (its strings in pool): MG_OK, MG_DECLINED (not http://), or MG_ERROR
 * with *why "invalid port" or "no host" (the caller words the message). */
mg_int_t mg_ocsp_responder_parse(mg_pool_t *pool, const char *url, mg_ocsp_responder_t *r,
                                 const char **why);
/* Resolve r's host now (getaddrinfo, in pool): MG_OK (an address needs none), MG_ERROR when
 * the name is not found. */
mg_int_t mg_ocsp_responder_resolve(mg_pool_t *pool, mg_ocsp_responder_t *r);

typedef struct {
    unsigned char *der; /* the response sent; from the file (pool) or fetched (malloc) */
    size_t len;
    time_t valid;   /* sent until then (its nextUpdate); a file's: for ever */
    time_t refresh; /* the next fetch at or after this */
    unsigned from_file : 1;
    unsigned verify : 1; /* ssl_stapling_verify */
    X509 *cert, *issuer;
    SSL_CTX *ctx;                  /* its trusted certificates verify a response */
    STACK_OF(X509) * chain;        /* the certificate's chain (the context's) */
    const char *name;              /* the certificate file, for the messages */
    mg_ocsp_responder_t responder; /* ssl_stapling_responder or the certificate's OCSP URL */
    mg_log_t *log;
    mg_ocsp_fetch_t *fetch; /* in flight */
} mg_ssl_staple_t;

/* What a fetch asks and whom it tells. `check` gets the body of a 200 answer and returns
 * NULL when it takes it, else nginx's words for what is wrong (written into err), which the
 * fetch logs with its context; `done` comes last, after the fetch freed itself: ok is 1 when
 * check took an answer, 0 after a failure (logged). Failures log at error on log, with
 * "while requesting certificate status, responder: H, peer: A" and, when cert_name is not
 * NULL, ", certificate: \"cert_name\"". */
typedef struct {
    const mg_ocsp_responder_t *responder;
    X509 *cert, *issuer;
    mg_log_t *log;
    const char *cert_name;
    const char *(*check)(void *data, const unsigned char *der, size_t len, char *err,
                         size_t errlen);
    void (*done)(void *data, int ok);
    void *data;
} mg_ocsp_ask_t;

/* Starts a request (ask is copied): the fetch, which the caller may cancel until `done`
 * comes (done is then not called). `done` always comes from the event loop, never from
 * here, even when the request fails at once. */
mg_ocsp_fetch_t *mg_ocsp_fetch_start(mg_server_t *srv, const mg_ocsp_ask_t *ask);
/* Drops a fetch in flight (its events, socket, DNS question). */
void mg_ocsp_fetch_cancel(mg_ocsp_fetch_t *f);

/* Checks a DER response for cert (issued by issuer) as nginx does: status successful, the
 * signature (OCSP_basic_verify with the signer among chain, store's certificates; flags as
 * OCSP_basic_verify's), the certificate's entry and its thisUpdate/nextUpdate. NULL with
 * *status (V_OCSP_CERTSTATUS_*) and *valid (its nextUpdate, or 0 when it has none), or
 * nginx's words for what is wrong (in err). */
const char *mg_ocsp_check(const unsigned char *der, size_t len, X509 *cert, X509 *issuer,
                          STACK_OF(X509) * chain, X509_STORE *store, unsigned long flags,
                          int *status, time_t *valid, char *err, size_t errlen);

/* The issuer of cert among ctx's chain certificates and trusted store (a reference), or
 * NULL. */
X509 *mg_ocsp_find_issuer(SSL_CTX *ctx, X509 *cert);

#endif
