/*
 * Cosockets (ngx.socket.tcp), shared by socket_tcp.c (the object, connect, close, setkeepalive,
 * options), socket_tcp_io.c (send and the receive family) and socket_tcp_pool.c (who owns a
 * socket, the per-worker keepalive pools and their connect backlog). A socket waits on the
 * event loop with its coroutine yielded; its event resumes exactly that coroutine.
 */
#ifndef MG_LUA_SOCKET_TCP_H
#define MG_LUA_SOCKET_TCP_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <sys/socket.h>

#include "api.h"

/* lua-nginx-module's defaults for the lua_socket_* directives, which moongate lacks yet */
#define MG_LUA_TCP_TIMEOUT 60000   /* connect, send and read timeouts */
#define MG_LUA_TCP_KEEPALIVE 60000 /* idle connections in a pool */
#define MG_LUA_TCP_POOL_SIZE 30
#define MG_LUA_TCP_BUFFER 4096 /* what one recv() reads at most */

typedef struct mg_lua_tcp_s mg_lua_tcp_t;
typedef struct mg_lua_tcp_pool_s mg_lua_tcp_pool_t;
typedef struct mg_lua_tcp_state_s mg_lua_tcp_state_t;

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
    char *peer; /* "host:port" or "unix:/path", for log lines (malloc'ed) */
    char *key;  /* the pool's name (malloc'ed) */
    mg_msec_t connect_timeout, send_timeout, read_timeout; /* 0: the default */
    struct sockaddr_storage sa;                            /* the peer being connected to */
    socklen_t socklen;

    /* reading: the connection's buffer, the result being gathered, the pattern */
    struct event rev;
    mg_lua_co_t *read_co;
    int read_pin, until_pin; /* registry refs keeping the objects alive while waiting */
    char *rbuf;
    size_t rpos, rlast;
    char *acc;
    size_t alen, acap;
    int rmode;
    size_t rsize;
    mg_lua_tcp_until_t *until;

    /* connecting (also a queued connect's timer) and writing */
    struct event wev;
    mg_lua_co_t *write_co;
    int write_pin;
    char *wbuf;
    size_t wlen, wpos;
    int handed_fd; /* queued connect woken with a pooled connection, or -1 */
    mg_uint_t handed_reused;

    unsigned reading : 1;
    unsigned writing : 1;
    unsigned connecting : 1;
    unsigned queued : 1;
    unsigned woken : 1;        /* queued connect: a slot or a connection is free */
    unsigned read_closed : 1;  /* EOF or a read error: reads say "closed", sends go on */
    unsigned write_closed : 1; /* a send failed while another coroutine was reading */
};

/* ---- socket_tcp.c ---- */
mg_log_t *mg_lua_tcp_log(mg_lua_tcp_t *s);
/* The socket of the object at idx (a table holding the userdata at [1]). */
mg_lua_tcp_t *mg_lua_tcp_get(lua_State *L, int idx);
/* luaL_error "bad request" when the socket belongs to another request or timer. */
void mg_lua_tcp_check_owner(lua_State *L, mg_lua_tcp_t *s);
/* Yield the running coroutine; the value at idx (the socket object) is kept alive in *pin. */
int mg_lua_tcp_yield(lua_State *L, int idx, int *pin);
void mg_lua_tcp_unpin(mg_lua_tcp_t *s, int *pin);
/* Add ev with a timeout in milliseconds (0: the default). */
void mg_lua_tcp_arm(struct event *ev, mg_msec_t ms);
/* Close the connection (fatal errors, close(), the owner ending), cancelling what waits. */
void mg_lua_tcp_close(mg_lua_tcp_t *s);
/* "connection refused" and the like: strerror in lower case, as lua-nginx-module. */
void mg_lua_tcp_push_errno(lua_State *L, int err);

/* ---- socket_tcp_io.c ---- */
void mg_lua_tcp_io_methods(lua_State *L); /* send receive receiveany receiveuntil */

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
/* An idle connection of the pool (its reuse count in *reused), or -1. */
int mg_lua_tcp_pool_take(mg_lua_tcp_pool_t *p, mg_uint_t *reused);
/* A connect must wait for a slot: MG_OK (queued in the pool), MG_DECLINED (no backlog, or a
 * slot is free: connect now, counted), MG_BUSY (the backlog is full). */
mg_int_t mg_lua_tcp_pool_admit(mg_lua_tcp_pool_t *p, mg_lua_tcp_t *s);
/* Take a queued connect out of its pool's queue (its timeout, or its owner ending). */
void mg_lua_tcp_pool_dequeue(mg_lua_tcp_t *s);
/* A woken queued connect leaves the queue with what it was woken for: a kept-alive connection
 * (its fd; s->handed_reused its reuse count) or -1, a slot to connect in. s counts in the pool. */
int mg_lua_tcp_pool_claim(mg_lua_tcp_t *s);
/* Keep s's connection idle in p (or hand it to a queued connect); s has none after.
 * timeout 0: no limit. */
void mg_lua_tcp_pool_put(mg_lua_tcp_t *s, mg_lua_tcp_pool_t *p, mg_msec_t timeout);
/* s's connection is gone: its slot goes to a queued connect, if any. */
void mg_lua_tcp_pool_release(mg_lua_tcp_t *s);

#endif
