/*
 * The asynchronous DNS client behind nginx's `resolver` (libevent's evdns). A resolver's
 * configuration (its name servers, valid=, ipv4=, ipv6=) lives in a generation's pool; its
 * run-time state (one evdns base, the answers cached for valid= or their TTL, the questions in
 * flight) belongs to the server object (mg_server_t: one per worker) and is found by the
 * servers' addresses, so a reload that keeps them keeps the cache.
 */
#ifndef MG_RESOLVER_H
#define MG_RESOLVER_H

#include <sys/socket.h>

#include "conf.h"
#include "mg.h"

typedef struct mg_server_s mg_server_t;

typedef struct mg_resolver_s {
    struct sockaddr_storage *addrs; /* the name servers */
    socklen_t *lens;
    size_t naddrs;
    mg_msec_t valid; /* how long an answer is kept; 0: its TTL */
    unsigned ipv4 : 1;
    unsigned ipv6 : 1;
    char *key; /* the servers' addresses as text: finds the run-time state */
} mg_resolver_t;

/* nginx's resolver states (ngx_resolver_strerror's numbers) */
#define MG_RESOLVE_FORMERR 1
#define MG_RESOLVE_SERVFAIL 2
#define MG_RESOLVE_NXDOMAIN 3
#define MG_RESOLVE_NOTIMP 4
#define MG_RESOLVE_REFUSED 5
#define MG_RESOLVE_TIMEDOUT 110

typedef struct mg_resolve_s mg_resolve_t;
typedef void (*mg_resolve_handler_pt)(mg_resolve_t *rs);

/* One question of a caller. The handler is called once, always from the event loop (a cached
 * answer too), unless mg_resolve_cancel came first; rs is freed when the handler returns, so
 * the addresses must be copied out. */
struct mg_resolve_s {
    mg_str_t name;
    int state;                      /* 0, or MG_RESOLVE_* */
    struct sockaddr_storage *addrs; /* IPv4 first, then IPv6; port 0 */
    socklen_t *lens;
    size_t naddrs;
    mg_msec_t expire_in; /* how long the answer is kept (valid= or its TTL) */
    mg_resolve_handler_pt handler;
    void *data;
    /* the resolver's own */
    struct mg_resolve_s *next; /* the question's waiters */
    struct mg_resolve_query_s *query;
    struct event *timer;
};

/* `resolver address ... [valid=time] [ipv4=on|off] [ipv6=on|off] [status_zone=zone]` from
 * cf->args: NULL after logging nginx's error with FILE:LINE. */
mg_resolver_t *mg_resolver_conf(mg_conf_t *cf);

/* Ask for the addresses of `name` (copied) within `timeout`. */
mg_resolve_t *mg_resolve_name(mg_server_t *srv, mg_resolver_t *res, mg_str_t name,
                              mg_msec_t timeout, mg_resolve_handler_pt handler, void *data);
/* The caller went away: its handler will not be called. */
void mg_resolve_cancel(mg_resolve_t *rs);
/* nginx's words for a state: "Host not found", "Operation timed out", ... */
const char *mg_resolve_strerror(int state);

/* The server's resolvers (evdns bases, caches, questions) go; before its event base does. */
void mg_resolver_server_free(mg_server_t *srv);

#endif
