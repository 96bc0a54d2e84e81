/*
 * Upstream groups and peer selection: the contract between the upstream engine (which
 * connects, sends and reads) and the balancers (which choose the peer). An upstream{} block,
 * or the implicit group of a "proxy_pass http://host:port", is an mg_upstream_group_t; a
 * balancer attaches its per-request state to an mg_upstream_pick_t.
 *
 * Call order for one request: init_request once, then for each try: get_peer, connect/exchange,
 * free_peer with the outcome. Peers are shared by all requests of one worker (counters are
 * per worker, as in nginx without a zone; with "zone" every worker's choices go through the
 * zone's records, core/http/upstream_zone.c).
 */
#ifndef MG_HTTP_UPSTREAM_PEER_H
#define MG_HTTP_UPSTREAM_PEER_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "http.h"
#include "ssl_client.h"

typedef struct mg_upstream_peer_s {
    struct sockaddr_storage sockaddr;
    socklen_t socklen;
    mg_str_t name;           /* "127.0.0.1:8080", as $upstream_addr shows it */
    mg_str_t server;         /* the "server" directive's address as written (Host for proxy) */
    mg_int_t weight;
    mg_int_t ring_weight;    /* a "resolve" server's slot: its weight= while it waits for an
                                address (weight is 0 then), for hash consistent's ring */
    mg_int_t max_fails;      /* 0: never marked down */
    mg_msec_t fail_timeout;
    mg_int_t max_conns;      /* 0: no limit (per worker, or per zone with "zone") */
    unsigned down : 1;       /* "down" in the config */
    unsigned backup : 1;
    void *shared; /* the peer's record in the group's zone (upstream_zone.c) */
    void **hc;    /* its health_check records in the zone (modules/health_check.c) */
    unsigned nhc;
    unsigned hc_down : 1; /* a health_check finds it unhealthy or still checking (copied
                             from the zone with the rest of the run-time state) */
    /* run-time state, per worker (copied from and to the zone around each choice) */
    mg_int_t current_weight; /* smooth weighted round robin */
    mg_int_t effective_weight;
    mg_uint_t conns;         /* active connections, for least_conn */
    mg_uint_t fails;         /* failures within the current fail_timeout window */
    mg_msec_t checked;       /* monotonic time of the first failure of the window */
    mg_msec_t accessed;
    mg_ssl_client_session_t ssl; /* https: the last TLS session, resumed next time */
    unsigned transient : 1;      /* the request's memory (balancer_by_lua's): keeps no session */
    mg_metrics_cache_t metrics;  /* its moongate_upstream_peer_up entry, per process */
} mg_upstream_peer_t;

/* Where the peer keeps its TLS session, or NULL: a session outlives the request, and a
 * balancer_by_lua peer is the request's (or stream session's) memory, which the generation's
 * cleanup must not reach. */
static inline mg_ssl_client_session_t *mg_upstream_peer_session(mg_upstream_peer_t *peer)
{
    return peer->transient ? NULL : &peer->ssl;
}

typedef struct mg_upstream_group_s mg_upstream_group_t;
typedef struct mg_upstream_pick_s mg_upstream_pick_t;

/* A balancer's keepalive for a try's connection, in place of the group's keepalive
 * directives (balancer_by_lua's enable_keepalive). */
typedef struct {
    mg_int_t size;     /* idle connections of this key the group's pool keeps at most */
    mg_int_t requests; /* requests a connection serves at most; 0: no limit */
    mg_msec_t timeout; /* idle time at most; 0: no limit */
    mg_str_t key;      /* the pool: its connections serve only tries with the same key (and
                          address), never those of the group's keepalive directive */
} mg_upstream_keepalive_t;

/* Outcome reported to free_peer. */
#define MG_PEER_OK 0
#define MG_PEER_FAILED 1   /* counts towards max_fails */
#define MG_PEER_NEXT 2     /* not the peer's fault (e.g. http_404 next_upstream): no fail */

typedef struct {
    const char *name; /* "round_robin", "least_conn", "hash", "ip_hash" */
    /* At the end of configuration: validate and prepare the group (MG_OK / MG_ERROR logged). */
    mg_int_t (*init_group)(mg_conf_t *cf, mg_upstream_group_t *g);
    /* Per request: set pick->data. */
    mg_int_t (*init_request)(mg_request_t *r, mg_upstream_pick_t *pick);
    /* MG_OK with pick->peer set, or MG_BUSY when every peer is down or already tried
     * (the engine answers 502 with nginx's "no live upstreams" log line); a balancer that
     * runs code (balancer_by_lua) may also answer MG_ERROR (500, logged already) or
     * MG_DECLINED (this try failed: next upstream or 502), or MG_AGAIN: it waits (its code
     * resolves a name) and calls mg_upstream_peer_ready with its answer from the loop. */
    mg_int_t (*get_peer)(mg_upstream_pick_t *pick);
    void (*free_peer)(mg_upstream_pick_t *pick, int outcome);
} mg_upstream_balancer_t;

struct mg_upstream_group_s {
    mg_str_t name;            /* the upstream block's name, or "host:port" for an implicit group */
    mg_array_t peers;         /* mg_upstream_peer_t: primary peers */
    mg_array_t backup;        /* mg_upstream_peer_t: "backup" peers */
    const mg_upstream_balancer_t *balancer; /* round robin unless a directive chose another */
    void *balancer_conf;      /* e.g. the hash key and "consistent" flag */
    unsigned implicit : 1;    /* from proxy_pass host:port, not an upstream{} block */
    const char *file;         /* where it was defined, for messages */
    mg_uint_t line;
    /* keepalive pool of idle upstream connections (per worker) */
    mg_int_t keepalive;       /* max idle connections kept; 0: none */
    mg_int_t keepalive_requests;
    mg_msec_t keepalive_timeout;
    mg_msec_t keepalive_time;
    void *pool_state;         /* owned by the upstream engine */
    /* set by init_group: how many tries a request may make (nginx's peer.tries): the peers
     * not marked "down", primary and backup; 1 for a single peer. The engine stops retrying
     * there (min with proxy_next_upstream_tries) and answers with the last try's error. */
    mg_uint_t max_tries;
    unsigned no_port : 1;     /* upstream{} name, or a reference written without a port */
    mg_str_t zone_name;       /* "zone name [size]" */
    size_t zone_size;         /* 0: the size is given by another upstream naming the zone */
    void *zone;               /* the zone's state once set up (upstream_zone.c) */
    void *dyn;                /* its "server ... resolve" servers (modules/upstream_dynamic.c) */
    in_port_t port;           /* an implicit group's port */
    mg_str_t host;            /* an implicit group's host (as written, for messages) */
    mg_metrics_cache_t metrics[2]; /* its series' entries (mg_metrics_upstream_try) */
};

struct mg_upstream_pick_s {
    mg_request_t *r; /* NULL for a stream session: then log is its connection's, pool
                        its pool, session the mg_stream_session_t (init_request gets
                        r NULL) */
    mg_log_t *log;
    mg_pool_t *pool;
    void *session;
    mg_upstream_group_t *group;
    mg_upstream_peer_t *peer; /* the chosen one, after get_peer */
    mg_uint_t tries;          /* how many peers were tried so far */
    unsigned char *tried;     /* bitmap over peers then backup peers */
    void *data;               /* balancer's request state */
    mg_uint_t max_tries;      /* the request's own limit on tries (balancer_by_lua's
                                 set_more_tries); 0: the group's max_tries */
    const mg_upstream_keepalive_t *keepalive; /* the last try's, set by get_peer (NULL: the
                                                 group's) */
    /* stream: balancer_by_lua's set_timeouts, for proxy_connect_timeout and proxy_timeout
     * (0: the server's) */
    mg_msec_t connect_timeout, timeout;
    /* stream: what mg_upstream_peer_ready hands a get_peer's late answer to (the proxy's) */
    void (*ready)(mg_upstream_pick_t *pick, mg_int_t rc);
};

/* The group a proxy_pass (or later a Lua balancer) names, at configuration time: an upstream{}
 * block of that name (it may be defined further down the file: the group is filled in at the
 * end of http{}), else an implicit group for "host[:port]" (port default_port when absent;
 * the host resolved at load, every address a peer, as nginx does). NULL after logging
 * nginx's error ("host not found in upstream "x" in FILE:LINE"). Implemented by the upstream
 * module (modules/upstream.c). */
mg_upstream_group_t *mg_upstream_group_ref(mg_conf_t *cf, mg_str_t host_port, in_port_t default_port);

/* At run time, the group a proxy_pass with variables names by "host[:port]", as nginx finds
 * it: an upstream{} block of that name (no port written), or an implicit group of another
 * proxy_pass with the same host and port (default_port when none is written); else NULL.
 * Implemented by the upstream module. */
mg_upstream_group_t *mg_upstream_group_find(mg_request_t *r, mg_str_t host_port,
                                            in_port_t default_port);
/* The same in the upstream module's main conf of a layer (stream{} has its own). */
mg_upstream_group_t *mg_upstream_group_in(void *main_conf, mg_str_t name);

/* A balancer that answered MG_AGAIN: what get_peer would have answered (the engine goes on
 * with the try, or ends it as for that answer). Nothing happens when the request's exchange
 * ended meanwhile. */
void mg_upstream_peer_ready(mg_upstream_pick_t *pick, mg_int_t rc);

/* The round-robin balancer is the default and the base others fall back to. */
extern const mg_upstream_balancer_t mg_upstream_round_robin;
/* Whether a peer may be chosen now (not down, not failed within fail_timeout). */
int mg_upstream_peer_usable(mg_upstream_peer_t *peer);

#endif
