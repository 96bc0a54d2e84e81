/*
 * The upstream engine's internals, shared by its files and by nobody else: upstream_io.c
 * (connect, send, the events, next upstream, the response body, finalize), upstream_head.c
 * (the response head), upstream_tunnel.c (101), upstream_keepalive.c (idle connections) and
 * upstream_vars.c ($upstream_*, the error log's upstream context).
 */
#ifndef MG_HTTP_UPSTREAM_INT_H
#define MG_HTTP_UPSTREAM_INT_H

#include "conn.h"
#include "lazy_timer.h"
#include "ssl.h"
#include "upstream_io.h"

/* An upstream connection, malloc'ed, kept whole with its socket from owner to owner (a
 * request's try, the keepalive pool), which rebind its handlers: its watch's, its timer's. */
struct mg_upstream_conn_s {
    int fd;
    mg_watch_t *watch;     /* core/watch.h: the read side, the write side too when et */
    struct event wev;      /* one-shot, for a watch that is not edge-triggered (wev_set) */
    mg_lazy_timer_t timer; /* the deadline: the try's timeouts, then in the pool keepalive_timeout
                              (lazy: moved on from one to the next without the event loop) */
    mg_upstream_peer_t *peer;
    mg_uint_t requests; /* requests made on this connection, this one included */
    mg_msec_t created;  /* when it was connected (keepalive_time) */
    mg_ssl_conn_t *ssl; /* https: the TLS state (core/ssl.h), NULL for plain */
    void *proto;        /* an HTTP/2 session to keep with the connection (upstream_h2.c) */
    unsigned reading : 1, writing : 1, reused : 1, got_bytes : 1;
    unsigned handshaking : 1; /* the TLS handshake is under way */
    unsigned wev_set : 1;     /* wev is assigned */
    unsigned nodelay : 1;     /* TCP_NODELAY is set (kept with the connection, as nginx's) */
};

/* the log of the request the upstream works for (a subrequest's lines name it) */
static inline mg_log_t *mg_upstream_log(mg_upstream_t *u)
{
    return mg_http_request_log(u->r);
}

/* The upstream connection's events: reading (persistent), one write event, the deadline. */
void mg_upstream_conn_read_on(mg_upstream_t *u);
void mg_upstream_conn_read_off(mg_upstream_t *u);
void mg_upstream_conn_write_on(mg_upstream_t *u);
void mg_upstream_conn_write_off(mg_upstream_t *u);
void mg_upstream_conn_timer(mg_upstream_t *u, mg_msec_t msec);
void mg_upstream_conn_timer_del(mg_upstream_t *u);
/* Close the connection (its TLS with close_notify) and free it, idle or a try's after
 * conn_events_off. */
void mg_upstream_conn_close(mg_upstream_conn_t *uc);

/* The connection's I/O, plain or TLS, with recv(2)/send(2)'s answers (EAGAIN: the events are
 * on, a TLS operation's other event included). A TLS failure is logged already (SSL_read()
 * failed ...): then mg_upstream_io_logged says so and the caller logs nothing more. */
ssize_t mg_upstream_recv(mg_upstream_t *u, char *buf, size_t len);
ssize_t mg_upstream_send(mg_upstream_t *u, const char *buf, size_t len);
ssize_t mg_upstream_sendv(mg_upstream_t *u, const struct iovec *iov, int cnt);
/* A write other than those (sendfile) found the socket full (for an edge-triggered watch). */
void mg_upstream_write_blocked(mg_upstream_t *u);
static inline int mg_upstream_io_logged(mg_upstream_t *u)
{
    return u->conn->ssl != NULL;
}

/* Finalize the request: an HTTP status before the head went out, else the end of the
 * response (MG_OK) or a broken one (MG_ERROR). r may be gone afterwards. */
void mg_upstream_finalize(mg_upstream_t *u, mg_int_t rc);
/* Whether a failure of kind ft (MG_UPSTREAM_FT_*) may go to the next upstream. */
int mg_upstream_can_retry(mg_upstream_t *u, mg_uint_t ft);
/* A try failed before the response head was used: retry or answer 502/504. */
void mg_upstream_next(mg_upstream_t *u, mg_uint_t ft);

/* Read (more of) the response head, on the upstream's read event; once it is whole, hand it
 * to the owner and start the body or the tunnel (upstream_head.c). */
void mg_upstream_read_head(mg_upstream_t *u);
/* Watch the client for its going away (not while its body is read): 499 when it does. */
void mg_upstream_watch_client(mg_upstream_t *u);
/* The exchange is over on the upstream side: the connection kept when keep (and clean), the
 * peer freed; the request goes on. */
void mg_upstream_done(mg_upstream_t *u, int keep);
/* A parsed head (u->head, u->pending) checked (next upstream by status, intercept_errors),
 * handed to the owner and sent to the client, then the body started (a driver's body()). */
void mg_upstream_process_head(mg_upstream_t *u);
/* The head went to the client: stream the body (u->pending holds its first bytes). */
void mg_upstream_start_body(mg_upstream_t *u);
/* mg_http_output of body buffers, but MG_OK for a stored response's once its client went
 * (u->store: it is read to its end). */
mg_int_t mg_upstream_output(mg_upstream_t *u, mg_buf_t *in);
/* The range filter answers ranges of r's upstream response (single: one range at most, as
 * the body streams by; several get the whole 200), and the upstream's Accept-Ranges gives
 * way to the filter's own, as nginx drops it then (*_force_ranges, the cache). */
void mg_upstream_own_ranges(mg_request_t *r, int single);
/* A 101: send the head, then carry bytes both ways (upstream_tunnel.c). */
void mg_upstream_start_tunnel(mg_upstream_t *u);
void mg_upstream_tunnel_pump(mg_upstream_t *u);
void mg_upstream_tunnel_finish(mg_upstream_t *u);

/* A buffered response (upstream_spool.c): whether this one is (proxy_buffering, unless the
 * upstream's X-Accel-Buffering says otherwise); its state (with u->mem, nbufs slots); the read loop
 * that takes the place of the unbuffered one; at the body's end, what still waits (the file's rest,
 * the reads in memory) chained before `last`. */
typedef struct mg_upstream_spool_s mg_upstream_spool_t;
int mg_upstream_spool_buffering(mg_upstream_t *u);
void mg_upstream_spool_init(mg_upstream_t *u);
void mg_upstream_spool_read(mg_upstream_t *u);
mg_buf_t *mg_upstream_spool_rest(mg_upstream_t *u, mg_buf_t *last);
/* The upstream failed (an error, a timeout): the buffer being filled, not full yet, is dropped,
 * as nginx's event pipe never passes it then (a premature close passes it). */
void mg_upstream_spool_drop_open(mg_upstream_t *u);
/* The connection's timer fired: 1 when it was *_limit_rate's delay (reading goes on), 0 when
 * it is a timeout. */
int mg_upstream_spool_timer(mg_upstream_t *u);
/* The body's pieces (upstream_io.c), for the spool: cut buffers from a read (bytes consumed,
 * -1 on a broken chunked body), whether it is all there, its end, a broken one. */
/* Read the body's next bytes (decoded, for a protocol that frames them) into iov's buffers in
 * turn (one readv; over TLS, or with u->decode, the first buffer only), cut to the body's rest
 * and one byte more: MG_OK with *got > 0 bytes filling them in order; MG_AGAIN (the read event
 * and timer are on); MG_DONE (the request was finalized: the body's end, a broken one). */
mg_int_t mg_upstream_recv_bodyv(mg_upstream_t *u, struct iovec *iov, int cnt, size_t *got);
ssize_t mg_upstream_body_input(mg_upstream_t *u, char *data, size_t n, mg_buf_t ***tail);
int mg_upstream_body_complete(mg_upstream_t *u);
void mg_upstream_body_finish(mg_upstream_t *u, int extra);
/* "upstream sent invalid chunked response": broken, what the writer holds back dropped */
void mg_upstream_body_invalid(mg_upstream_t *u);

/* proxy_socket_keepalive and proxy_bind on a new socket before its connect
 * (upstream_socket.c): MG_OK, or MG_ERROR (logged as nginx; the request gets a 500). */
mg_int_t mg_upstream_socket_options(mg_upstream_t *u, int fd, mg_upstream_peer_t *peer);
/* TCP_NODELAY on u's connection where the request's tcp_nodelay is on, once per connection, at
 * nginx's moments only: a 101 tunnel, an unbuffered request body going up, a TLS start that
 * may resume a session. Not at connect: a buffered request goes up in one write (a body in
 * a file: the head, then sendfile, as nginx's), so Nagle has no small segment to hold back. */
void mg_upstream_conn_nodelay(mg_upstream_t *u);

/* The mg_upstream_t of a request, through the owner's accessor (NULL: none). */
mg_upstream_t *mg_upstream_of(mg_request_t *r);

#endif
