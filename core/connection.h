/*
 * A client connection as the runtime sees it: socket, addresses, events, a deadline timer,
 * its pool, and a protocol handler that owns `data`. The http layer drives it.
 */
#ifndef MG_CONNECTION_H
#define MG_CONNECTION_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lazy_timer.h"
#include "log.h"
#include "mg.h"
#include "watch.h"

typedef void (*mg_conn_handler_pt)(mg_connection_t *c);
/* The connection's I/O, as recv(2)/send(2)/writev(2) answer: bytes, 0 at the peer's end, or -1
 * with errno (EAGAIN: wait for the events the operation turned on; for TLS a read may need
 * the socket writable and a write readable). TLS replaces the plain ones (core/ssl.c). */
typedef ssize_t (*mg_conn_recv_pt)(mg_connection_t *c, char *buf, size_t len);
typedef ssize_t (*mg_conn_send_pt)(mg_connection_t *c, const char *buf, size_t len);
typedef ssize_t (*mg_conn_send_chain_pt)(mg_connection_t *c, const struct iovec *iov, int cnt);
/* len bytes of file fd at off read straight into a socketless connection's own buffer (an
 * HTTP/2 stream's): bytes taken, -1 with errno as send, or -2 once a failed read was logged. */
typedef ssize_t (*mg_conn_send_file_pt)(mg_connection_t *c, int fd, off_t off, size_t len);
typedef struct mg_ssl_conn_s mg_ssl_conn_t;
/* What a connection without a socket of its own (an HTTP/2 stream's, fd -1) does instead of
 * the socket's: one pointer in every connection, not two (mg_connection_t's size is what an
 * idle keepalive connection costs the worker), set by the protocol that made it. */
typedef struct {
    mg_conn_send_file_pt send_file; /* a file's range into its own buffer */
    mg_conn_handler_pt close;       /* mg_conn_close calls this instead */
} mg_conn_sockless_t;

/* the longest addr_text, with its NUL (an IPv6 address's text, INET6_ADDRSTRLEN) */
#define MG_CONN_ADDR_TEXT_MAX 46

struct mg_connection_s {
    mg_server_t *server;
    mg_cycle_t *cycle;         /* the generation that accepted it; holds a reference */
    mg_listening_t *listening;
    mg_pool_t *pool;
    mg_log_t log;              /* copy of the cycle's log with our number and context */
    /* the client's address: socklen bytes in the pool (an IPv6 one takes 28, a unix peer's up
     * to 110: one inline would cost an idle connection a sockaddr_storage's 128 bytes); realip
     * points it at the request's copy for the request */
    struct sockaddr *sockaddr;
    socklen_t socklen;
    socklen_t local_socklen;         /* 0 until asked for */
    struct sockaddr *local_sockaddr; /* NULL until asked for (mg_conn_local_addr): local_socklen
                                        bytes and a NUL in the pool, most connections never
                                        needing it */
    char *addr_text;                 /* client address without port, a string in the pool (or
                                        static) which realip may replace for a request */
    struct mg_proxy_protocol_s *proxy_protocol; /* the PROXY protocol header's addresses */
    union {
        struct event rev; /* level: persistent read readiness */
        mg_watch_t watch; /* edge (mg_conn_edge): reads and the peer's close, with core/watch.c's
                             rule for input no read took; rev is not used then */
    };
    struct event *wev;     /* one-shot write readiness: malloc'ed at the first write that waits
                              (most connections' responses go out at once), kept until the free */
    mg_lazy_timer_t timer; /* the one deadline: header, keepalive, body or send timeout */
    mg_conn_handler_pt read_handler;
    mg_conn_handler_pt write_handler;
    mg_conn_handler_pt timeout_handler;
    void *data;                /* protocol state */
    mg_conn_recv_pt recv;
    mg_conn_send_pt send;
    mg_conn_send_chain_pt send_chain; /* several buffers at once (writev) */
    mg_ssl_conn_t *ssl;               /* TLS state (core/ssl.h), NULL for plain: then sendfile may
                                         be used, the kernel seeing the bytes as they are */
    /* NULL on sockets (sendfile or the scratch there) */
    const mg_conn_sockless_t *sockless;
    mg_uint_t number;
    mg_uint_t requests;
    mg_msec_t start_msec;  /* accepted at (keepalive_time) */
    mg_msec_t quiet_since; /* idle, all it sent taken by the client, since (mg_server_shed) */
    unsigned reading : 1;
    unsigned writing : 1;
    unsigned idle : 1;         /* keepalive-idle: may be closed on shutdown */
    unsigned reusable : 1;     /* closing it loses nothing (keepalive-idle, or no byte of its
                                  first request read yet): the server may take its slot */
    unsigned closed : 1;
    /* MG_LOG_DEBUG_HTTP or _STREAM: the protocol whose "close ... connection" debug line
     * mg_conn_close writes (0: none) */
    unsigned debug_proto : 11;
    unsigned tcp_nodelay : 1;
    unsigned timedout : 1;  /* a client timeout (or 444) ends it: reset_timedout_connection */
    unsigned passes : 4;    /* stream's pass: hand-overs so far (a loop ends at 10) */
    unsigned shared_fd : 1; /* fd is not its own (a UDP session's, udp.c): closing leaves it */
    unsigned edge : 1;      /* its events are edge-triggered (mg_conn_edge): c->watch */
    int fd;                 /* here: beside the bits, in what would be padding */
    struct mg_conn_unread_s *unread; /* mg_conn_unread's bytes, served by recv first (in the
                                        pool: stream's pass alone has them) */
    mg_connection_t *prev, *next; /* the server's list of connections */
    mg_connection_t *reuse_prev, *reuse_next; /* the server's queue of reusable ones */
};

/* A connection for an accepted socket of listening socket `ls` of generation `cycle`
 * (a reference on it is held until the connection is freed), added to the server's list.
 * It starts reusable: nothing of it was read yet; the protocol unmarks it on its first bytes
 * (mg_server_conn_reusable). */
/* The next connection number (see connection.c); an upstream connect takes one too, as nginx. */
mg_uint_t mg_conn_number(mg_server_t *srv, mg_cycle_t *cycle);
mg_connection_t *mg_conn_create(mg_server_t *srv, mg_cycle_t *cycle, mg_listening_t *ls, int fd,
                                const struct sockaddr_storage *ss, socklen_t len);
/* Edge-triggered events (as nginx registers its connections, EPOLLET): each report is not
 * polled again by the kernel on the next wait. Reads keep level-triggered behaviour for the
 * protocol (core/watch.c's rule): a read that may have left input, or a read event no read
 * took, runs the read handler again (from the loop) while reading is on. Before the first
 * mg_conn_read_on and before TLS is put on it (core/ssl.c then says what its reads leave: a
 * full buffer, or bytes before close_notify, may leave records in OpenSSL's buffer); a
 * connection already reading or with a shared fd stays level, as with `use poll`. */
void mg_conn_edge(mg_connection_t *c);
/* Turn read readiness notification on/off (persistent while on). */
void mg_conn_read_on(mg_connection_t *c);
void mg_conn_read_off(mg_connection_t *c);
/* A read through another layer (TLS) said whether input may be left that no event will report
 * (more: 1) or the socket was found empty (0); level-triggered connections ignore it. */
void mg_conn_read_said(mg_connection_t *c, int more);
/* Whether the peer may have sent what no read took yet (the lingering-close decision), known
 * without a system call where it can be, as nginx's read event's "ready": an edge-triggered
 * connection's watch says it (a report, or a read that did not find the socket empty, until a
 * read does), with what TLS holds (mg_ssl_input_left) and mg_conn_unread's bytes; a
 * level-triggered one (`use poll`, select, a shared fd) asks the socket (MSG_PEEK). */
int mg_conn_input_left(mg_connection_t *c);
/* The read handler from the loop at once, as for a read report: for bytes the socket will not
 * announce (pipelined ones already in the protocol's buffer, mg_conn_unread's). */
void mg_conn_read_kick(mg_connection_t *c);
/* Ask once for write readiness. */
void mg_conn_write_on(mg_connection_t *c);
void mg_conn_write_off(mg_connection_t *c);
/* (Re)arm or clear the connection's deadline; timeout_handler runs when it expires. */
void mg_conn_timer_set(mg_connection_t *c, mg_msec_t msec);
void mg_conn_timer_del(mg_connection_t *c);
/* Fill local_sockaddr (getsockname) on first use: MG_OK, or MG_ERROR (logged) with
 * local_sockaddr zeroed (AF_UNSPEC). */
mg_int_t mg_conn_local_addr(mg_connection_t *c);
/* Bytes a protocol read that the next one taking the connection (stream's pass) must read
 * first: copied, c->recv serves them before the socket; the caller makes sure the reader is
 * woken (mg_conn_unread_wake). */
void mg_conn_unread(mg_connection_t *c, const char *data, size_t len);
/* If unread bytes wait and the connection reads, run its read handler on the next turn. */
void mg_conn_unread_wake(mg_connection_t *c);
/* Close the socket (a TLS connection sends its close_notify first), free the pool and the
 * connection, release the cycle reference. */
void mg_conn_close(mg_connection_t *c);
/* Close with a reset (SO_LINGER 0: an RST, the unsent output dropped), as nginx's
 * reset_timedout_connection. */
void mg_conn_reset(mg_connection_t *c);

#endif
