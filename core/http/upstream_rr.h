/*
 * Round robin internals shared by the balancers built on it (least_conn, hash, ip_hash), as
 * nginx's ngx_http_upstream_round_robin.h: the per-request state every balancer's pick->data
 * starts with, the tried bitmap (primary peers 0..n-1, then backup peers n..n+b-1) and the
 * bookkeeping of a chosen peer. The engine needs only upstream_peer.h.
 */
#ifndef MG_HTTP_UPSTREAM_RR_H
#define MG_HTTP_UPSTREAM_RR_H

#include "upstream_peer.h"

/* Every balancer's pick->data begins with this. */
typedef struct {
    unsigned backup : 1; /* no primary was usable: this request now chooses among backups */
    unsigned single : 1; /* the group has one primary peer and no backup (nginx's "single") */
} mg_upstream_rr_data_t;

/* Allocate pick->tried and a zeroed pick->data of `size` bytes (>= sizeof rr data); with r
 * NULL (a stream session) from pick->pool. */
mg_int_t mg_upstream_rr_init_request_size(mg_request_t *r, mg_upstream_pick_t *pick, size_t size);
mg_int_t mg_upstream_rr_get_peer(mg_upstream_pick_t *pick);
/* Choose one usable, untried peer of `list` (whose tried bits start at `base`), with its index. */
typedef mg_upstream_peer_t *(*mg_upstream_choose_pt)(mg_upstream_pick_t *pick, mg_array_t *list,
                                                      mg_uint_t base, mg_uint_t *index);
/* Primary peers through `choose`, then backup peers once no primary is usable: the selection
 * every balancer built on round robin shares. */
mg_int_t mg_upstream_rr_get_from(mg_upstream_pick_t *pick, mg_upstream_choose_pt choose);
void mg_upstream_rr_free_peer(mg_upstream_pick_t *pick, int outcome);
mg_int_t mg_upstream_rr_init_group(mg_conf_t *cf, mg_upstream_group_t *g);

int mg_upstream_rr_is_tried(mg_upstream_pick_t *pick, mg_uint_t i);
/* Bookkeeping of a chosen peer (index i in the combined numbering): tried bit, conns,
 * fail_timeout window start, pick->peer, pick->tries. */
void mg_upstream_rr_chosen(mg_upstream_pick_t *pick, mg_upstream_peer_t *peer, mg_uint_t i);
/* Sum of the primary peers' weights. */
mg_int_t mg_upstream_rr_total_weight(mg_upstream_group_t *g);
/* Whether a peer is temporarily out after max_fails failures within fail_timeout. */
int mg_upstream_rr_failed(mg_upstream_peer_t *peer, mg_msec_t now);

#endif
