/*
 * Upstream names resolved per request through the location's resolver (core/resolver.c).
 */
#ifndef MG_HTTP_UPSTREAM_RESOLVE_H
#define MG_HTTP_UPSTREAM_RESOLVE_H

#include "resolver.h"
#include "upstream_peer.h"

/* A round-robin group of `pool` from a resolver's answer: every address a peer at `port`
 * (stream's proxy_pass with a name asks the same). */
mg_upstream_group_t *mg_upstream_resolved_group(mg_pool_t *pool, mg_str_t host, in_port_t port,
                                                mg_resolve_t *rs);

/* Resolve `host` (a name, not an upstream{} block) with the location's resolver: MG_DONE and
 * later `done` with a group of the request's own (every address a peer at `port`), or the
 * request finalized with 502 and nginx's line when the name could not be resolved; an HTTP
 * status at once when the location has no resolver ("no resolver defined to resolve"). */
mg_int_t mg_upstream_resolve(mg_request_t *r, mg_str_t host, in_port_t port,
                             void (*done)(mg_request_t *r, mg_upstream_group_t *g));

#endif
