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

#include "array.h"
#include "connection.h"

struct mg_ssl_conn_s {
    SSL *ssl;
    size_t buffer_size; /* ssl_buffer_size: small writes are gathered up to this */
    char *wbuf;         /* mg_ssl_send_chain's gathering buffer (an upstream connection's,
                           malloc'ed on first use); c->send_chain gathers in the server's */
    size_t pending;     /* a write that would block: retried with exactly these bytes */
    /* the client side: a session the server gave (the callee takes the reference), its data */
    void (*save_session)(mg_ssl_conn_t *sc, SSL_SESSION *sess);
    void *data;
    unsigned handshaked : 1;
    unsigned read_wants_write : 1; /* SSL_read needs the socket writable (a key update) */
    unsigned write_wants_read : 1; /* SSL_write needs to read first */
    unsigned no_shutdown : 1;      /* a fatal error or the peer's end: no close_notify */
    unsigned client : 1;           /* our client side: a peer's errors log at error, not info */
    unsigned rejected : 1;         /* ssl_reject_handshake refused it (the SNI callback): the
                                      failed handshake logs "handshake rejected" alone */
    unsigned want_write : 1;       /* the handshake step waits for the socket writable */
    unsigned turn_on : 1;          /* the last operation set read_wants_write/write_wants_read:
                                      the owner turns that event on */
    unsigned ktls_send : 1;        /* OpenSSL put sending in the kernel (Options KTLS, a
                                      kernel with tls): files go by SSL_sendfile */
    unsigned more : 1;     /* the last read stopped with the buffer full (or the handshake just
                              ended): OpenSSL may hold bytes that no read event will announce */
    unsigned rd_empty : 1; /* the last read (or early data read) stopped because the socket
                              said EAGAIN (WANT_READ; WANT_WRITE: the write event takes it
                              over): all else may leave input no edge reports (mg_conn_edge) */
    /* TLS 1.3 early data (ssl_early_data on): read before the handshake ends, kept here and
     * given by the first reads */
    unsigned early_try : 1; /* the context accepts early data: read it first */
    unsigned in_early : 1;  /* the handshake is done for the protocol, but the client has not
                               ended its early data: reads take early data, writes are
                               0.5-RTT data (SSL_write_early_data) */
    char *early;            /* malloc'ed */
    size_t early_len, early_pos;
    /* ssl_ocsp: why the client certificate's OCSP check failed ("certificate revoked"), a
     * static string; NULL when it passed or was not asked */
    const char *ocsp_error;
    /* the client's SNI name, lowercase (http/ssl.c's, malloc'ed, freed with this): here, not
     * in each HTTP connection's state, and shared with the h2 streams' connections */
    mg_str_t servername;
};

/* OpenSSL's queued errors as nginx shows them, " (SSL: error:...)" or "", into buf; the
 * queue is emptied. */
const char *mg_ssl_error_queue(char *buf, size_t size);
/* A private key from PEM in bio, trying each password of `passwords` (mg_str_t, from an
 * ssl_password_file; NULL: none) in turn, as nginx; NULL when none opens it. */
EVP_PKEY *mg_ssl_read_key(BIO *bio, mg_array_t *passwords);
/* Put TLS (server side) on c: an SSL object of ctx that knows c (mg_ssl_conn_of); c's I/O
 * operations become the TLS ones. The SSL object is freed when c closes. */
void mg_ssl_conn_create(mg_connection_t *c, SSL_CTX *ctx, size_t buffer_size);
/* The connection an SSL object of mg_ssl_conn_create belongs to: the callbacks' way back.
 * It is kept as the argument of the record padding callback, a pointer of the SSL object's
 * own that nothing reads while no such callback is set (none is: ssl_conf_command
 * RecordPadding pads by block size, without one). SSL_set_app_data would cost every
 * connection an ex_data stack, two allocations (96 bytes of an idle connection's heap). */
static inline mg_connection_t *mg_ssl_conn_of(const SSL *ssl)
{
    return SSL_get_record_padding_callback_arg(ssl);
}
/* Go on with the handshake: MG_OK when done, MG_AGAIN when waiting (the events that it waits
 * for are on, or none when a callback's code waits and resumes it), MG_ERROR (logged; close c). */
mg_int_t mg_ssl_handshake(mg_connection_t *c);
/* Send close_notify once, without waiting for the peer's (closing and lingering), unless the
 * peer ended first or the connection failed; the session stays in the cache either way. */
void mg_ssl_shutdown(mg_connection_t *c);
/* 1 when OpenSSL holds bytes read ahead from c's socket that the last read did not take:
 * the kernel will not report them, so whoever turns reading on a level-triggered connection
 * makes the read event fire (an edge-triggered one knows it from its reads: rd_empty). */
int mg_ssl_read_pending(mg_connection_t *c);
/* 1 when c's input is not all taken: OpenSSL holds bytes read ahead (a whole record or a
 * record's start: the client is still sending) or early data not given yet. */
int mg_ssl_input_left(mg_connection_t *c);
/* The bytes one SSL_write of the output makes into whole records: ssl_buffer_size, or 16 KiB
 * (the largest record) when it is a multiple of that. Output cut at multiples of it leaves
 * in records as nginx's buffer of ssl_buffer_size makes them: full ones but the last. */
size_t mg_ssl_write_unit(const mg_ssl_conn_t *sc);
/* The socket is closing (mg_conn_close): close_notify as mg_ssl_shutdown, then the SSL object
 * no longer names the descriptor, so no stray read or write reaches a reused one. The object
 * itself stays until the connection's memory goes: what still runs in that turn, and the
 * pool's cleanups (an HTTP/2 connection's streams' requests, whose connections share it),
 * read the TLS facts ($ssl_*) from it. */
void mg_ssl_conn_close(mg_connection_t *c);
/* Free the TLS state (when the connection's memory goes, after its pool). */
void mg_ssl_conn_free(mg_connection_t *c);
/* The same for a state a connection handed on (an HTTP/2 connection's streams share it). */
void mg_ssl_free(mg_ssl_conn_t *sc);

/* stream{}'s use of the ssl_* directives' server contexts (made by core/http/ssl.c for both
 * layers): the context of a server (srv_conf: its conf array; NULL when it has no
 * certificates) and its ssl_verify_client (0 off, 1 on, 2 optional, 3 optional_no_ca). */
SSL_CTX *mg_ssl_server_ctx(void **srv_conf, int *verify);

/* Handshake hooks a module puts in (lua/ssl.c: ssl_client_hello_by_lua, ssl_certificate_by_lua,
 * ssl_session_fetch_by_lua, ssl_session_store_by_lua), for an http server{} or a stream one:
 * core/http/ssl.c's callbacks call them with the server the context belongs to. `has` says
 * whether a server has code for a hook (asked while its TLS context is made). `run` answers
 * MG_OK (go on), MG_ERROR (abort the handshake) or MG_AGAIN (not for STORE): the handshake
 * waits, the connection's events off, until the hook calls srv->resume(c); OpenSSL then calls
 * `run` again for the answer. arg: FETCH an mg_ssl_hook_fetch_t, STORE the new SSL_SESSION,
 * else NULL. */
enum {
    MG_SSL_HOOK_CLIENT_HELLO,
    MG_SSL_HOOK_CERT,
    MG_SSL_HOOK_SESS_FETCH,
    MG_SSL_HOOK_SESS_STORE,
};
typedef struct mg_ssl_hook_srv_s {
    void **main_conf; /* the server's block's conf arrays (http{}'s or stream{}'s) */
    void **srv_conf;  /* the server's own; a hook finds its conf by its module's index */
    const char *(*addr_text)(mg_connection_t *c); /* the address, for log lines */
    void (*resume)(mg_connection_t *c);           /* the layer's handshake goes on (c may close) */
    unsigned stream : 1;
} mg_ssl_hook_srv_t;
typedef struct {
    const unsigned char *id; /* the session id the client offers */
    size_t id_len;
    void *sess; /* the SSL_SESSION found (its reference handed over), or NULL */
} mg_ssl_hook_fetch_t;
typedef struct {
    int (*has)(const mg_ssl_hook_srv_t *srv, int hook);
    mg_int_t (*run)(mg_connection_t *c, const mg_ssl_hook_srv_t *srv, int hook, void *arg);
} mg_ssl_hooks_t;
extern const mg_ssl_hooks_t *mg_ssl_hooks;

/* The same on a socket without a connection (the client side, core/ssl_client.h): a new TLS
 * state for fd (its SSL object's role is the caller's to set); one handshake step (MG_AGAIN:
 * sc->want_write tells which event it waits for; MG_ERROR logged on log); recv/send/send_chain
 * as the connection's, where EAGAIN with sc->turn_on set means the other event is wanted
 * too (read_wants_write / write_wants_read, cleared by the owner); close_notify once (unless
 * an error forbids it) and free. */
mg_ssl_conn_t *mg_ssl_new(SSL_CTX *ctx, int fd, mg_log_t *log, size_t buffer_size);
mg_int_t mg_ssl_handshake_step(mg_ssl_conn_t *sc, mg_log_t *log);
ssize_t mg_ssl_recv(mg_ssl_conn_t *sc, mg_log_t *log, char *buf, size_t len);
ssize_t mg_ssl_recv_chain(mg_ssl_conn_t *sc, mg_log_t *log, const struct iovec *iov, int cnt);
ssize_t mg_ssl_send(mg_ssl_conn_t *sc, mg_log_t *log, const char *buf, size_t len);
ssize_t mg_ssl_send_chain(mg_ssl_conn_t *sc, mg_log_t *log, const struct iovec *iov, int cnt);
void mg_ssl_close(mg_ssl_conn_t *sc);
/* SSL_sendfile of size bytes of fd from off on c, whose c->ssl->ktls_send is set: bytes
 * sent, or -1 with errno EAGAIN (the other event turned on if the operation needs it, as
 * c->send) or another errno after logging; 0 when the file ended early. */
ssize_t mg_ssl_sendfile(mg_connection_t *c, int fd, off_t off, size_t size);

#endif
