/*
 * TLS on a connection (OpenSSL 3): the handshake driven by the connection's events, and the
 * recv/send/send_chain operations that replace the plain ones once a connection speaks TLS,
 * so the protocol code above never knows which it has. Protocol-neutral: the HTTP side
 * (core/http/ssl.c) holds the directives, SNI and the variables.
 */
#ifndef MG_SSL_H
#define MG_SSL_H

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "connection.h"

struct mg_ssl_conn_s {
    SSL *ssl;
    size_t buffer_size; /* ssl_buffer_size: small writes are gathered up to this */
    char *wbuf;         /* the gathering buffer (malloc'ed on first use) */
    size_t pending;     /* a write that would block: retried with exactly these bytes */
    mg_conn_handler_pt handshake_done; /* called once the handshake succeeded */
    unsigned handshaked : 1;
    unsigned read_wants_write : 1; /* SSL_read needs the socket writable (a key update) */
    unsigned write_wants_read : 1; /* SSL_write needs to read first */
    unsigned no_shutdown : 1;      /* a fatal error: no close_notify */
    /* TLS 1.3 early data (ssl_early_data on): read before the handshake ends, kept here and
     * given by the first reads */
    unsigned early_try : 1; /* the context accepts early data: read it first */
    char *early;            /* malloc'ed */
    size_t early_len, early_pos;
};

/* OpenSSL's queued errors as nginx shows them, " (SSL: error:...)" or "", into buf; the
 * queue is emptied. */
const char *mg_ssl_error_queue(char *buf, size_t size);
/* Put TLS (server side) on c: an SSL object of ctx with c as its app data; c's I/O operations
 * become the TLS ones. The SSL object is freed when c closes. */
void mg_ssl_conn_create(mg_connection_t *c, SSL_CTX *ctx, size_t buffer_size);
/* Go on with the handshake: MG_OK when done, MG_AGAIN when waiting (the events that it waits
 * for are on, or none when a callback's code waits and resumes it), MG_ERROR (logged; close c). */
mg_int_t mg_ssl_handshake(mg_connection_t *c);
/* Send close_notify once, without waiting for the peer's (closing and lingering). */
void mg_ssl_shutdown(mg_connection_t *c);
/* Free the TLS state (mg_conn_close). */
void mg_ssl_conn_free(mg_connection_t *c);

#endif
