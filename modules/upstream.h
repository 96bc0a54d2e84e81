/*
 * What the balancer modules (upstream_least_conn.c, upstream_hash.c) need from the upstream
 * module while an upstream{} block is read. The engine side is core/http/upstream_peer.h.
 */
#ifndef MG_MODULES_UPSTREAM_H
#define MG_MODULES_UPSTREAM_H

#include <netinet/in.h>

#include "http.h"
#include "upstream_peer.h"

/* "server" parameters a balancing method supports (nginx's NGX_HTTP_UPSTREAM_* flags). */
#define MG_UPSTREAM_WEIGHT 0x01
#define MG_UPSTREAM_MAX_FAILS 0x02
#define MG_UPSTREAM_FAIL_TIMEOUT 0x04
#define MG_UPSTREAM_DOWN 0x08
#define MG_UPSTREAM_BACKUP 0x10
#define MG_UPSTREAM_MAX_CONNS 0x20
#define MG_UPSTREAM_ALL 0x3f

extern mg_module_t mg_upstream_module;

/* Choose the block's balancing method: warns "load balancing method redefined" as nginx when
 * one was already chosen, and restricts the "server" parameters that follow to `flags`. */
void mg_upstream_set_balancer(mg_conf_t *cf, const mg_upstream_balancer_t *b, void *conf,
                              unsigned flags);

/* Group number i of an http{} block's upstream main conf (upstream{} blocks and the implicit
 * groups of proxy_pass host:port, in order of first reference), or NULL past the last. */
mg_upstream_group_t *mg_upstream_group_at(void *main_conf, size_t i);

/* The upstream{} block being read (for the directives of other modules inside it). */
mg_upstream_group_t *mg_upstream_current(mg_conf_t *cf);

/* "zone": share the group's peer state through its zone (modules/upstream_zone.c), once the
 * balancer prepared the group; MG_OK or MG_ERROR logged. */
mg_int_t mg_upstream_zone_init(mg_conf_t *cf, mg_upstream_group_t *g);

/* "server NAME resolve" (modules/upstream_dynamic.c): reserve the server's peer slots in
 * `list` at load; mg_upstream_dynamic_init checks the group at the end of http{}. */
void mg_upstream_dynamic_server(mg_conf_t *cf, mg_upstream_group_t *g, mg_array_t *list,
                                mg_str_t host, in_port_t port, mg_str_t server,
                                const mg_upstream_peer_t *tmpl);
mg_int_t mg_upstream_dynamic_init(mg_conf_t *cf, mg_upstream_group_t *g);

/* A "resolve" server's slot as the one worker that resolves the name published it, a record
 * in the group's zone read by every worker (serial: the server's first slot counts changes). */
typedef struct {
    uint64_t serial;
    uint32_t len;             /* 0: no address */
    uint32_t nslots;          /* the first slot's: how many of the server's slots have records */
    struct sockaddr_in6 addr; /* a sockaddr_in or sockaddr_in6 of `len` bytes */
} mg_upstream_addr_rec_t;

/* The address record `key` of a zoned group, made zeroed when missing; NULL when the zone is
 * full. The caller holds the zone's lock. Each call counts one more user of the record: `hold`
 * 1 while reading the configuration (the generation gives it back), else the caller gives it
 * back with mg_upstream_zone_release_addr when it stops reading the record. */
mg_upstream_addr_rec_t *mg_upstream_zone_addr(mg_upstream_group_t *g, const char *key, int hold);
void mg_upstream_zone_release_addr(mg_upstream_group_t *g, mg_upstream_addr_rec_t *rec);

/* Bring a group's "resolve" slots in line with what its zone says; the caller holds the
 * zone's lock (every choice of a peer does this first). */
void mg_upstream_dynamic_sync(mg_upstream_group_t *g);
/* A peer's state under one health_check (modules/health_check.c), a record in the group's
 * zone so that every worker, and the workers of the next generation, see the same. */
#define MG_HC_UP 0
#define MG_HC_DOWN 1     /* failed `fails` checks in a row, until `passes` pass */
#define MG_HC_CHECKING 2 /* "mandatory": not served until its first check passes */
typedef struct {
    uint32_t state;
    uint32_t fails;  /* checks failed in a row */
    uint32_t passes; /* checks passed in a row */
    int32_t owner;   /* pid of the process checking it now, 0: none */
    mg_msec_t next;  /* monotonic time the next check is due (CLOCK_MONOTONIC is system-wide) */
    mg_msec_t started;
    uint64_t checks; /* checks finished, ever */
} mg_upstream_hc_rec_t;

/* The health_check record `n` of peer i of list l (0 primary, 1 backup) of a zoned group,
 * made when missing (*created set, state zeroed); NULL when the zone is full. The caller
 * holds the zone's lock (mg_upstream_zone_lock). Counted as mg_upstream_zone_addr's. */
mg_upstream_hc_rec_t *mg_upstream_zone_hc(mg_upstream_group_t *g, int l, size_t i,
                                          mg_upstream_peer_t *p, unsigned n, int hold,
                                          int *created);
void mg_upstream_zone_release_hc(mg_upstream_group_t *g, mg_upstream_hc_rec_t *rec);
void mg_upstream_zone_lock(mg_upstream_group_t *g);
void mg_upstream_zone_unlock(mg_upstream_group_t *g);

/* The groups of an upstream module main conf, in order of definition or first reference
 * (ngx.upstream); NULL past the end. */
mg_upstream_group_t *mg_upstream_group_at(void *main_conf, size_t i);

/* A peer slot that got an address at run time takes its record in the group's zone (and gives
 * back its former address's); the caller holds the zone's lock. _release_peer gives it back
 * (p->shared NULL after) when the worker stops using the slot. */
void mg_upstream_zone_peer(mg_upstream_group_t *g, int list, size_t i, mg_upstream_peer_t *p);
void mg_upstream_zone_release_peer(mg_upstream_group_t *g, mg_upstream_peer_t *p);

#endif
