/*
 * Cosockets (ngx.socket.tcp), shared by socket_tcp.c (the object, connect, close, setkeepalive,
 * options), socket_tcp_io.c (send and the receive family) and socket_tcp_pool.c (who owns a
 * socket, the per-worker keepalive pools and their connect backlog), socket_ssl.c
 * (sslhandshake: TLS on the connection, kept with its watch); socket_udp.c
 * (ngx.socket.udp) borrows the peer parser and the send argument's flattening. A socket waits
 * on the event loop with its coroutine yielded; its event resumes exactly that coroutine.
 */
#ifndef MG_LUA_SOCKET_TCP_H
#define MG_LUA_SOCKET_TCP_H

#include <event2/event.h>

#include "watch.h"
#include <event2/event_struct.h>
#include <sys/socket.h>

#include "api.h"

typedef struct mg_lua_tcp_s mg_lua_tcp_t;

/* bind(ip): the local address a socket connects from */
typedef struct {
    struct sockaddr_storage sa;
    socklen_t len;
    char text[64];
} mg_lua_local_addr_t;
typedef struct mg_lua_tcp_pool_s mg_lua_tcp_pool_t;
typedef struct mg_lua_tcp_state_s mg_lua_tcp_state_t;

/* A connection's read readiness: core/watch.h's level-triggered watch (one EV_READ|EV_PERSIST
 * event without a timeout, registered once for the fd and handed on with it: socket, idle
 * pool entry, queued connect), so that keepalive reuse costs no epoll_ctl; timeouts are
 * timer-only events beside it. Edge-triggered on epoll (mg_watch_init's edge: rdry is the
 * readiness the socket keeps; mg_lua_tcp_et for the fd's other events), so that answers are
 * reported in the order they came. With no handler, a report sets w.rready (edge; the next
 * owner reads it as readable) or deletes the event, which the next wait adds back. Malloc'ed; freed
 * before its fd is closed. The connection's TLS state (sslhandshake) travels with it, so a pooled
 * connection keeps its TLS; freeing the watch sends close_notify and frees that too. The watch asks
 * for the peer's close too where the event method can (w.closed, EPOLLRDHUP), so that a short read
 * is known to have emptied the socket without a pending EOF (see rdry). */
typedef struct {
    mg_watch_t w;
    mg_ssl_conn_t *ssl;  /* NULL: plain */
    struct event rtimer; /* the read timeout of the socket reading it (a timer only): here, not
                            in every socket object, which the Lua GC steps over */
    char *spare; /* the read buffer of the socket that pooled the connection (malloc'ed), for
                    the next one that takes it (spare_size bytes) */
    size_t spare_size;
} mg_lua_tcp_watch_t;

enum { MG_LUA_TCP_LINE, MG_LUA_TCP_ALL, MG_LUA_TCP_SIZE, MG_LUA_TCP_ANY, MG_LUA_TCP_UNTIL };

/* A receiveuntil iterator: the pattern, its failure table (KMP) and how much of the pattern the
 * last bytes read matched, so a pattern split across reads is still found. */
typedef struct {
    size_t len;
    size_t matched;
    size_t *fail;
    unsigned inclusive : 1;
    unsigned found : 1; /* size mode: the pattern came; the next call returns nil */
    char pat[];
} mg_lua_tcp_until_t;

struct mg_lua_tcp_s {
    int fd;                      /* -1: not connected */
    lua_State *vm;               /* the VM's main state, for registry refs */
    mg_lua_tcp_state_t *state;   /* while owned */
    mg_lua_ctx_t *ctx;           /* the request or timer using the socket, NULL when free */
    mg_lua_tcp_t *next, **prevp; /* state->owned */
    mg_lua_tcp_pool_t *pool;     /* the pool the connection counts in */
    mg_lua_tcp_t *wnext;         /* the pool's queue of connects waiting for a slot */
    mg_uint_t reused;
    char *peer;              /* "host:port" or "unix:/path", for log lines (malloc'ed) */
    char *key;               /* the pool's name: peer, or after it in peer's block */
    mg_lua_loc_conf_t *conf; /* lua_socket_* of the context that connected it */
    mg_msec_t connect_timeout, send_timeout, read_timeout; /* 0: conf's */
    struct sockaddr_storage sa;                            /* the peer being connected to */
    socklen_t socklen;

    /* reading: the connection's buffer, the result being gathered, the pattern */
    mg_lua_tcp_watch_t *watch; /* fd's read readiness, made at the first wait; NULL: none */

    mg_lua_co_t *read_co;
    int read_pin, until_pin; /* registry refs keeping the objects alive while waiting */
    char *rbuf;
    size_t rbuf_size; /* lua_socket_buffer_size */
    size_t rpos, rlast;
    char *acc;
    size_t alen, acap;
    const char *view; /* a result whole in rbuf, pushed from there (else acc's alen bytes) */
    size_t vlen;
    int rmode;
    size_t rsize;
    mg_lua_tcp_until_t *until;

    /* connecting (also a queued connect's timer) and writing */
    struct event *wev; /* a connect's or send's wait (calloc'ed at the first: mg_lua_tcp_wev) */
    mg_lua_co_t *write_co;
    int write_pin;
    char *wbuf;        /* a send's bytes while it waits (malloc'ed) */
    const char *wdata; /* the bytes being sent: wbuf, or the string argument during the call */
    size_t wlen, wpos;
    int handed_fd; /* queued connect woken with a pooled connection, or -1 */
    mg_lua_tcp_watch_t *handed_watch;
    mg_uint_t handed_reused;
    /* TLS: a read that must write first (the answer to a peer's KeyUpdate, into a full
     * socket) waits for writability too, a write that must read first for readability;
     * made at the first such wait (calloc'ed), so that the object every ngx.socket.tcp()
     * makes, which the Lua GC must step over, stays small */
    struct {
        struct event rw, wr;
    } * tls_ev;

    unsigned reading : 1;
    unsigned writing : 1;
    unsigned connecting : 1;
    unsigned queued : 1;
    unsigned woken : 1;        /* queued connect: a slot or a connection is free */
    unsigned read_closed : 1;  /* EOF or a read error: reads say "closed", sends go on */
    unsigned rdry : 1;         /* the socket had nothing to read (recv() said EAGAIN, or a
                                  plain recv() came back short under a registered watch that
                                  reported no EOF): wait for an event before asking recv()
                                  again (nginx's read->ready, inverted) */
    unsigned write_closed : 1; /* a send failed while another coroutine was reading */
    unsigned handshaking : 1;  /* sslhandshake waits (on wev and the watch, with write_co) */
    unsigned ssl_session : 1;  /* ... and returns the session (reused_session was not false) */
    unsigned ssl_verify : 1;
    char *ssl_name; /* sslhandshake's server_name (malloc'ed), NULL: none */
    /* ngx.req.socket (req_socket.c): the client's connection, read and written through its
     * own recv/send (TLS included) and never closed here; a plain request socket reads no
     * further than the body (the connection's discard_rest), a raw one has no limit */
    mg_connection_t *downstream;
    unsigned raw : 1;
    mg_lua_local_addr_t *local; /* bind(ip) (malloc'ed), NULL: none */
};

/* ---- socket_tcp.c ---- */
/* s->wev, made at its first use: a socket taken from the pool that sends without waiting
 * never needs it, and the smaller object costs the Lua GC less */
static inline struct event *mg_lua_tcp_wev(mg_lua_tcp_t *s)
{
    if (s->wev == NULL) {
        s->wev = mg_calloc(sizeof(struct event));
    }
    return s->wev;
}
/* EV_ET for the events on s->fd beside its watch, where that one is edge-triggered (a
 * connection's, not the request socket's: mg_lua_tcp_watch_new's edge), else 0 */
static inline short mg_lua_tcp_et(mg_lua_tcp_t *s)
{
    return s->downstream == NULL && mg_watch_et_possible(mg_lua_event_base()) ? EV_ET : 0;
}
/* Delete ev (s->tls_ev->rw or ->wr) if it was ever set. */
#define mg_lua_tcp_tls_ev_del(s, f)                                                                \
    do {                                                                                           \
        if ((s)->tls_ev && event_initialized(&(s)->tls_ev->f)) {                                   \
            event_del(&(s)->tls_ev->f);                                                            \
        }                                                                                          \
    } while (0)
/* A new watch for fd (not registered yet: handler NULL). */
mg_lua_tcp_watch_t *mg_lua_tcp_watch_new(struct event_base *base, int fd, int edge);
/* Delete w's event and free it (NULL: nothing); before its fd is closed. */
void mg_lua_tcp_watch_free(mg_lua_tcp_watch_t *w);
/* s gets the connection fd and its watch (NULL: made at the first wait). */
void mg_lua_tcp_adopt(mg_lua_tcp_t *s, int fd, mg_lua_tcp_watch_t *w);
mg_log_t *mg_lua_tcp_log(mg_lua_tcp_t *s);
/* The socket of the object at idx (a table holding the userdata at [1]). */
mg_lua_tcp_t *mg_lua_tcp_get(lua_State *L, int idx);
/* luaL_error "bad request" when the socket belongs to another request or timer. */
void mg_lua_tcp_check_owner(lua_State *L, mg_lua_tcp_t *s);
/* Yield the running coroutine waiting on s; the value at idx (the socket object) is kept alive
 * in *pin. A kill of the coroutine (ngx.thread.kill) closes s (or the direction it waits on). */
int mg_lua_tcp_yield(lua_State *L, mg_lua_tcp_t *s, int idx, int *pin);
void mg_lua_tcp_unpin(mg_lua_tcp_t *s, int *pin);
/* Add ev with a timeout in milliseconds (0: dflt, the lua_socket_*_timeout). */
void mg_lua_tcp_arm(struct event *ev, mg_msec_t ms, mg_msec_t dflt);
/* lua_socket_log_errors for s (NULL: a socket never connected) where Lua code runs now. */
int mg_lua_socket_log_errors(mg_lua_tcp_t *s);
/* Close the connection (fatal errors, close(), the owner ending), cancelling what waits. */
void mg_lua_tcp_close(mg_lua_tcp_t *s);
/* "connection refused" and the like: strerror in lower case, as lua-nginx-module. */
void mg_lua_tcp_push_errno(lua_State *L, int err);
/* The address of host (hlen bytes: an IP literal, [v6], "localhost", a name in /etc/hosts, or
 * "unix:/path" with port -1) into sa; 0, or -1 with the error message pushed on L. */
int mg_lua_socket_parse_peer(lua_State *L, struct sockaddr_storage *sa, socklen_t *len,
                             const char *host, size_t hlen, int port);
/* Whether a downstream socket (ngx.req.socket) of ctx waits for the client's bytes: its read
 * sees the client's close itself (lua_check_client_abort leaves it alone). */
int mg_lua_socket_tcp_downstream_reading(mg_lua_ctx_t *ctx);
/* need(host): whether host is a name only the context's resolver can answer, and there is
 * one (socket_resolve.c). resolve(host): its address as text (one at random), or nil and
 * lua-nginx-module's message; the running coroutine waits for it. */
int mg_lua_socket_need_resolve(lua_State *L);
int mg_lua_socket_resolve(lua_State *L);
/* A new cosocket object on L: a table holding at [1] a zeroed userdata of size bytes (returned).
 * Called from a constructor made by mg_lua_socket_class, whose upvalues give the metatables. */
void *mg_lua_socket_object(lua_State *L, size_t size);
/* With the methods table on top of L: replace it by a constructor (upvalues: the object's
 * metatable, whose __index is that table, also kept at registry[mt_name]; the userdata's,
 * with __gc = gc). */
void mg_lua_socket_class(lua_State *L, const char *mt_name, lua_CFunction gc, lua_CFunction ctor);
/* Wrap the method `method` of the methods table on the stack's top so that it resolves names
 * through the context's resolver first (socket_resolve.c); tcp: keep the name in the pool key. */
void mg_lua_socket_resolve_wrap(lua_State *L, const char *method, int tcp);
/* connect() failed: the level nginx logs it at (refusals and unreachable peers: error). */
int mg_lua_socket_connect_level(int err);

/* ---- socket_tcp_io.c ---- */
void mg_lua_tcp_io_methods(lua_State *L); /* send receive receiveany receiveuntil */
/* The watch handler of a socket (arg): its read goes on, or the report is noted for later. */
void mg_lua_tcp_readable(evutil_socket_t fd, short what, void *arg);
/* The bytes of send's argument at idx (a string, number, nil, boolean, or an array of strings,
 * numbers and such arrays): measured when out is NULL, else copied there. Bad types raise
 * lua-nginx-module's argument errors. top: idx is the argument itself, not an element. */
size_t mg_lua_socket_bytes(lua_State *L, int idx, char *out, int top);

/* The connection's TLS state, or NULL. */
static inline mg_ssl_conn_t *mg_lua_tcp_ssl(mg_lua_tcp_t *s)
{
    return s->watch ? s->watch->ssl : NULL;
}

/* wev's handler: a queued connect, a connect, an sslhandshake (socket_tcp.c) */
void mg_lua_tcp_on_wev(evutil_socket_t fd, short what, void *arg);

/* ---- socket_ssl.c ---- */
int mg_lua_tcp_sslhandshake(lua_State *L); /* tcpsock:sslhandshake */
/* wev's event while the handshake waits to write, or its timeout */
void mg_lua_tcp_ssl_event(mg_lua_tcp_t *s, short what);

/* ---- req_socket.c ---- */
/* ngx.req.socket's reads: what the connection buffered first, then its recv(); 0 at the
 * body's end (a plain request socket), else as recv(). */
ssize_t mg_lua_req_socket_recv(mg_lua_tcp_t *s, char *buf, size_t size);

/* ---- stream.c: a stream session's downstream (ngx.req.socket in stream{}) ---- */
/* What sock:peek left in the preread buffer first, then the connection's recv; both count in
 * $bytes_received / $bytes_sent. */
ssize_t mg_lua_stream_recv(struct mg_stream_session_s *s, char *buf, size_t size);
ssize_t mg_lua_stream_send(struct mg_stream_session_s *s, const char *buf, size_t len);

/* ---- socket_bind.c ---- */
void mg_lua_tcp_bind_methods(lua_State *L); /* bind getfd, into the methods table on top */
/* Bind fd to local (NULL or empty: nothing to do): 0, or -1 with errno set, logged at crit. */
int mg_lua_socket_bind_local(const mg_lua_local_addr_t *local, int fd, mg_log_t *log);
/* udpsock:bind's argument check and parse (index 2): 1, or 0 with nil, "bad address" pushed. */
int mg_lua_udp_parse_bind(lua_State *L, mg_lua_local_addr_t *local);

/* ---- socket_udp.c ---- */
void mg_lua_inject_socket_udp_api(lua_State *L); /* ngx.socket.udp, into the socket table */
/* The request or timer of ctx ends: its udp sockets are closed, their waits cancelled. */
void mg_lua_socket_udp_ctx_done(mg_lua_ctx_t *ctx);

/* ---- socket_tcp_pool.c ---- */
/* Tie s to ctx: when the request (its pool) ends, s's waits are cancelled and its connection
 * closed (mg_lua_socket_tcp_ctx_done). */
void mg_lua_tcp_own(mg_lua_tcp_t *s, mg_lua_ctx_t *ctx);
/* Untie s once it has neither a connection nor a wait. */
void mg_lua_tcp_disown(mg_lua_tcp_t *s);
/* The pool named key, or NULL; a new pool of size connections, backlog -1: no queue. */
mg_lua_tcp_pool_t *mg_lua_tcp_pool_find(mg_lua_main_conf_t *lmcf, const char *key, size_t len);
mg_lua_tcp_pool_t *mg_lua_tcp_pool_new(mg_lua_main_conf_t *lmcf, const char *key, size_t len,
                                       mg_int_t size, mg_int_t backlog);
/* An idle connection of the pool (its reuse count in *reused, its watch in *w), or -1. */
int mg_lua_tcp_pool_take(mg_lua_tcp_pool_t *p, mg_uint_t *reused, mg_lua_tcp_watch_t **w);
/* A connect must wait for a slot: MG_OK (queued in the pool), MG_DECLINED (no backlog, or a
 * slot is free: connect now, counted), MG_BUSY (the backlog is full). */
mg_int_t mg_lua_tcp_pool_admit(mg_lua_tcp_pool_t *p, mg_lua_tcp_t *s);
/* Take a queued connect out of its pool's queue (its timeout, or its owner ending). */
void mg_lua_tcp_pool_dequeue(mg_lua_tcp_t *s);
/* A woken queued connect leaves the queue with what it was woken for: a kept-alive connection
 * (its fd; s->handed_reused its reuse count, s->handed_watch its watch, which the caller
 * takes) or -1, a slot to connect in. s counts in the pool. */
int mg_lua_tcp_pool_claim(mg_lua_tcp_t *s);
/* Keep s's connection idle in p (or hand it to a queued connect); s has none after.
 * timeout 0: no limit. */
void mg_lua_tcp_pool_put(mg_lua_tcp_t *s, mg_lua_tcp_pool_t *p, mg_msec_t timeout);
/* s's connection is gone: its slot goes to a queued connect, if any. */
void mg_lua_tcp_pool_release(mg_lua_tcp_t *s);

#endif
