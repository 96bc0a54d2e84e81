/*
 * The runtime object: an event base, the current generation, the connections and the
 * process-level state (signals, shutting down). Single-process mode runs one of these; a
 * worker runs one per process; an embedding program may run its own.
 */
#ifndef MG_SERVER_H
#define MG_SERVER_H

#include <event2/event.h>

#include "mg.h"
#include "cycle.h"

/* Something a server holds besides client connections that must go as soon as it stops
 * serving (idle upstream keepalive connections): `handler` runs once, when a quit or drain
 * begins. The owner embeds the hook and removes it before freeing it. */
typedef struct mg_server_hook_s mg_server_hook_t;
struct mg_server_hook_s {
    void (*handler)(mg_server_hook_t *hook);
    mg_server_hook_t *next, **prevp;
};

/* How many spare HTTP/1 head buffers (and parser blocks) a server keeps (mg_server_t). */
#define MG_SERVER_H1_SPARE 32
/* How many spare HTTP/2 stream pools a server keeps (mg_server_t). */
#define MG_SERVER_H2_SPARE 32
/* nghttp2's small blocks kept for the next stream (http/v2_mem.c): the classes of malloc's
 * chunks up to MG_SERVER_H2_BLOCK_MAX bytes, at most MG_SERVER_H2_BLOCKS of each */
#define MG_SERVER_H2_BLOCK_CLASSES 19
#define MG_SERVER_H2_BLOCK_MAX 280
#define MG_SERVER_H2_BLOCKS 16
/* ... and of HTTP/2 stream objects (http/v2_stream.c) */
#define MG_SERVER_H2_STREAMS 16
/* How many spare request pools: the last freed one (one first block per worker more) */
#define MG_SERVER_REQUEST_SPARE 1

struct mg_server_s {
    struct event_base *base;
    mg_cycle_t *cycle;       /* current generation: new connections use it */
    mg_cycle_params_t params;
    mg_log_t *log;
    mg_uint_t conn_number; /* "*N" when no metrics zone counts for all (mg_conn_number) */
    uint32_t temp_number;  /* temp file names, the same way (core/http/temp_file.c) */
    mg_uint_t nconnections;
    mg_connection_t *connections; /* doubly linked list of open connections */
    mg_connection_t *reusable, *reusable_last; /* reusable connections, oldest first */
    mg_uint_t nreusable;
    time_t reuse_warned; /* when "reusing connections" was last logged (once a second) */
    struct event *signals[8];
    size_t nsignals;
    struct event *shutdown_timer;
    struct event *shed_ev; /* mg_server_shed's scan of idle connections */
    struct event *trim_ev; /* malloc_trim once the worker has stayed without connections */
    mg_server_hook_t *quit_hooks;
    mg_server_hook_t *term_hooks; /* run when the server terminates (fast shutdown) */
    unsigned quitting : 1;    /* graceful: no accepts, close idle, exit when empty */
    unsigned terminating : 1; /* fast: close everything and exit */
    unsigned accepting : 1;
    unsigned keep_idle : 1;   /* draining for a reload or an upgrade: an idle keepalive
                                 connection stays until its next request (answered with
                                 "Connection: close") or its timeout, so no request a client
                                 sends on it at that moment is lost */
    unsigned worker : 1;      /* a worker process: the master owns the listening sockets */
    unsigned single_quit : 1; /* QUIT in a single process, where nginx exits without a worker's
                                 graceful steps: Lua's pending timers go without running */
    unsigned agent : 1;       /* ... the privileged agent: it never accepts */
    unsigned accept_mutex_held : 1; /* accept_mutex (accept_mutex.c): this worker's turn */
    unsigned accept_listening : 1;  /* ... and its listening events are registered */
    struct event *accept_mutex_ev;  /* its next attempt at the lock */
    mg_uint_t reloads;        /* HUPs handled (single process), for the reload verdict */
    mg_uint_t nheld;          /* things besides connections a quitting server waits for */
    mg_uint_t worker_id;      /* a worker's slot (0..worker_processes-1); 0 in a single process */
    struct mg_resolver_rt_s *resolvers; /* DNS clients (core/resolver.c) */
    /* ngx.run_worker_thread's idle Lua VMs (lua/worker_thread.c, which sets the free function
     * the embedding API calls when it destroys the server; a worker process exits with them) */
    struct mg_lua_vms_s *lua_vms;
    void (*lua_vms_free)(struct mg_lua_vms_s *vms);
    void (*on_done)(mg_server_t *srv); /* set: the loop is not ours (embedding, attached) */
    char *scratch; /* mg_server_scratch's buffer, made on first use; freed with the server */
    struct mg_lazy_timers_s *timers; /* the lazy timers' heap (mg_server_timers), made on first
                                        use; freed with the server */
    /* HTTP/2's buffers (http/v2.c), the server's rather than each connection's: the input
     * buffer (http2_recv_buffer_size, "per worker" as nginx's), taken for one read and what
     * nghttp2 makes of it; and an output buffer no connection holds (a connection takes one
     * only while it has frames to write) */
    char *h2_rbuf;
    size_t h2_rsize;
    char *h2_obuf;
    /* HTTP/2 connections whose frames are to be written later in this loop turn (http/v2.c),
     * in order, and the one event that runs them (made on first use; freed with the server) */
    struct mg_http_v2_conn_s *h2_flush, **h2_flush_tail;
    struct event *h2_flush_ev;
    /* HTTP/1's head buffers and parser blocks (the state and its field list;
     * http/connection.c) given back by connections that went idle with nothing buffered, taken
     * again by the next connection that reads a head: an idle keepalive connection holds
     * neither (as nginx frees its header buffer then), and a busy one costs no malloc per
     * request. Bounded; the rest are freed. */
    struct {
        char *buf;
        size_t size;
    } h1_bufs[MG_SERVER_H1_SPARE];
    void *h1_heads[MG_SERVER_H1_SPARE];
    unsigned h1_nbufs, h1_nheads;
    /* HTTP/2 streams' pools (http/v2_stream.c, http2_pool_size) and requests' pools
     * (http/request.c), emptied as their owners went, for the next ones */
    mg_pool_spares_t h2_pools, request_pools;
    /* nghttp2's small blocks (a stream's object, its frames' queue items, the copy of a
     * response's fields...) its sessions freed, by malloc's chunk size (http/v2_mem.c): the
     * next stream's take them back without malloc's and free's work. Each class a list
     * through the blocks' first word, bounded; freed with the server */
    void *h2_blocks[MG_SERVER_H2_BLOCK_CLASSES];
    uint8_t h2_nblocks[MG_SERVER_H2_BLOCK_CLASSES];
    /* HTTP/2 stream objects (http/v2_stream.c) gone with their streams, for the next ones: a
     * list through their first word, at most MG_SERVER_H2_STREAMS; freed with the server */
    void *h2_streams;
    unsigned h2_nstreams;
    /* and the head buffer of the last stream that started (its header block as HTTP/1 text) */
    char *h2_head;
    size_t h2_head_size;
    /* a file reader (its scratch and thread task; http/write_file.c) a request gave back, for
     * the next one that reads a file: connections hold none between requests, and a file
     * response costs no malloc */
    void *h1_reader;
    /* TLS connections' gathering buffer (core/ssl.c: it holds nothing across calls), the
     * largest ssl_buffer_size asked for */
    char *ssl_wbuf;
    size_t ssl_wsize;
};

/* A buffer of the server's, MG_SERVER_SCRATCH bytes, for bytes used within one call and never
 * across a return to the loop (a UDP datagram read, a piece of a file written through TLS): a
 * server runs on one thread, so two embedded servers on two threads never share it, as they
 * would a static buffer. */
#define MG_SERVER_SCRATCH 65536
char *mg_server_scratch(mg_server_t *srv);
/* The heap of the server's lazy timers (core/lazy_timer.h), on srv->base: made on first use. */
struct mg_lazy_timers_s *mg_server_timers(mg_server_t *srv);
/* Free HTTP/2's flush event (srv->h2_flush_ev, http/v2.c), if made: before the base when that
 * goes first (a worker's exit), else mg_server_buffers_free does it. Callable twice. */
void mg_server_h2_flush_free(mg_server_t *srv);
/* Free the server's buffers (the scratch, HTTP/2's, HTTP/1's spares, TLS's), HTTP/2's flush
 * event and its timers' heap, when it is destroyed: after every timer is freed; the heap's
 * libevent timer and the flush event are taken off first if the base goes before
 * (mg_lazy_timers_close, mg_server_h2_flush_free). */
void mg_server_buffers_free(mg_server_t *srv);

/* Start accepting on every socket of the current cycle (quit, terminate and reload stop it). */
void mg_server_accept_on(mg_server_t *srv);
/* Begin graceful shutdown: stop accepting, close idle connections, exit when none remain. */
void mg_server_quit(mg_server_t *srv);
/* Begin draining for a reload, upgrade or WINCH: as quit, but idle keepalive connections are
 * kept until their next request or timeout. A later mg_server_quit closes them at once. */
void mg_server_drain(mg_server_t *srv);
/* Drain, and as a server beyond the bound of draining generations: an idle keepalive
 * connection is closed once the client has taken all it was sent and MG_SHED_GRACE passed
 * without its next request (one a client sends right after a response that promised
 * keep-alive is still answered, with "Connection: close"). */
#define MG_SHED_GRACE 1000
void mg_server_shed(mg_server_t *srv);
void mg_server_terminate(mg_server_t *srv);
/* Register / remove a hook run when the server begins to quit or drain. */
void mg_server_hook_add(mg_server_t *srv, mg_server_hook_t *hook);
/* Register a hook run when the server terminates (TERM, worker_shutdown_timeout): work held
 * with mg_server_hold that no client connection carries ends there (remove: hook_del). */
void mg_server_term_hook_add(mg_server_t *srv, mg_server_hook_t *hook);
void mg_server_hook_del(mg_server_hook_t *hook);
/* Called by the protocol layer when a connection becomes idle (keepalive), so a quitting
 * server can close it; it becomes reusable too. */
void mg_server_conn_idle(mg_connection_t *c);
/* Mark (on) or unmark a connection as reusable: when an accept finds worker_connections
 * taken, the oldest reusable connections are closed to make room, as nginx does. Marking
 * again makes it the youngest. The protocol unmarks a connection as soon as it reads bytes
 * of a request; closing it unmarks it. */
void mg_server_conn_reusable(mg_connection_t *c, int on);
/* Something besides client connections (a running Lua timer) keeps the server from exiting
 * and its generation from being freed until released. */
void mg_server_hold(mg_server_t *srv, mg_cycle_t *cycle);
void mg_server_release(mg_server_t *srv, mg_cycle_t *cycle);
/* The list of open connections (core/connection.c adds at creation, removes at close) and
 * the reference a connection holds on its generation, dropped when it is freed. */
void mg_server_conn_add(mg_server_t *srv, mg_connection_t *c);
void mg_server_conn_remove(mg_server_t *srv, mg_connection_t *c);
void mg_server_cycle_release(mg_server_t *srv, mg_cycle_t *cycle);
/* Run the loop until quit/terminate finishes; returns MG_OK. */
mg_int_t mg_server_loop(mg_server_t *srv);
/* The event base of a server of this generation: the backend "use" names, libevent's choice
 * otherwise; NULL (logged) on failure. */
struct event_base *mg_server_event_base(mg_cycle_t *cycle);
/* Set up signal handling for single-process mode on the server's base. */
void mg_server_signals(mg_server_t *srv);
/* Replace the running generation with a new one built from the same params (HUP in single
 * process mode). On failure the old one stays and the error is logged. */
mg_int_t mg_server_reload(mg_server_t *srv);

#endif
