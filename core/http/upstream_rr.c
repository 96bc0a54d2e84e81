/*
 * The default balancer: nginx's smooth weighted round robin over the usable primary peers,
 * then over the backup peers once no primary is usable; passive health checks
 * (max_fails/fail_timeout, with one trial try after fail_timeout); a per-request tried bitmap
 * so that a retry picks another peer. Peer state is per worker (no shared zone), as nginx
 * without "zone".
 */
#include "upstream_rr.h"

#define BITS (8 * sizeof(unsigned char))

static mg_int_t rr_init_request(mg_request_t *r, mg_upstream_pick_t *pick)
{
    return mg_upstream_rr_init_request_size(r, pick, sizeof(mg_upstream_rr_data_t));
}

static void init_pick(mg_pool_t *pool, mg_upstream_pick_t *pick, size_t size);

/* r NULL: a stream session's pick, from pick->pool */
mg_int_t mg_upstream_rr_init_request_size(mg_request_t *r, mg_upstream_pick_t *pick, size_t size)
{
    init_pick(r ? r->pool : pick->pool, pick, size);
    pick->r = r;
    return MG_OK;
}

static void init_pick(mg_pool_t *pool, mg_upstream_pick_t *pick, size_t size)
{
    mg_upstream_group_t *g = pick->group;
    size_t n = g->peers.nelts + g->backup.nelts;
    if (pick->tried == NULL) {
        pick->tried = mg_pcalloc(pool, (n + BITS - 1) / BITS + 1);
    }
    mg_upstream_rr_data_t *d = mg_pcalloc(pool, size);
    d->single = g->peers.nelts == 1 && g->backup.nelts == 0;
    pick->data = d;
}

int mg_upstream_rr_is_tried(mg_upstream_pick_t *pick, mg_uint_t i)
{
    return (pick->tried[i / BITS] >> (i % BITS)) & 1;
}

/* now (monotonic, the cached clock's) is within fail_timeout of the window's start. As nginx,
 * which compares whole seconds of its cached wall clock (ngx_time()): the seconds count of the
 * wall clock now against the one it showed at `checked`, so a window of 1s ends between 1 and
 * 2 s after the failure, at the same instant as nginx's. */
static int within_fail_timeout(const mg_upstream_peer_t *peer, mg_msec_t now)
{
    mg_msec_t wall_now = mg_now.msec - (mg_now.monotonic - now);
    mg_msec_t wall_checked = wall_now - (now - peer->checked);
    return wall_now / 1000 - wall_checked / 1000 <= peer->fail_timeout / 1000;
}

/* not to be chosen now: failed within fail_timeout, at max_conns, or failing its health
 * check (then even a lone peer) */
int mg_upstream_rr_failed(mg_upstream_peer_t *peer, mg_msec_t now)
{
    return peer->hc_down ||
           (peer->max_fails && peer->fails >= (mg_uint_t)peer->max_fails &&
            within_fail_timeout(peer, now)) ||
           (peer->max_conns && peer->conns >= (mg_uint_t)peer->max_conns);
}

int mg_upstream_peer_usable(mg_upstream_peer_t *peer)
{
    return !peer->down && !mg_upstream_rr_failed(peer, mg_now.monotonic);
}

void mg_upstream_rr_chosen(mg_upstream_pick_t *pick, mg_upstream_peer_t *peer, mg_uint_t i)
{
    mg_msec_t now = mg_now.monotonic;
    pick->tried[i / BITS] |= (unsigned char)(1u << (i % BITS));
    pick->peer = peer;
    pick->tries++;
    peer->conns++;
    /* a peer chosen after its window passed opens a new one: its next success clears fails */
    if (!within_fail_timeout(peer, now)) {
        peer->checked = now;
    }
}

mg_int_t mg_upstream_rr_total_weight(mg_upstream_group_t *g)
{
    mg_upstream_peer_t *p = g->peers.elts;
    mg_int_t w = 0;
    for (size_t i = 0; i < g->peers.nelts; i++) {
        w += p[i].weight;
    }
    return w;
}

/* ngx_http_upstream_get_peer: smooth weighted round robin among the untried usable peers of
 * one list; `base` is the list's first index in the tried bitmap. */
static mg_upstream_peer_t *rr_choose(mg_upstream_pick_t *pick, mg_array_t *list, mg_uint_t base,
                                     mg_uint_t *index)
{
    mg_msec_t now = mg_now.monotonic;
    mg_upstream_peer_t *peers = list->elts, *best = NULL;
    mg_int_t total = 0;
    for (size_t i = 0; i < list->nelts; i++) {
        mg_upstream_peer_t *peer = &peers[i];
        if (mg_upstream_rr_is_tried(pick, base + i) || peer->down ||
            mg_upstream_rr_failed(peer, now)) {
            continue;
        }
        peer->current_weight += peer->effective_weight;
        total += peer->effective_weight;
        if (peer->effective_weight < peer->weight) {
            peer->effective_weight++;
        }
        if (best == NULL || peer->current_weight > best->current_weight) {
            best = peer;
            *index = base + (mg_uint_t)i;
        }
    }
    if (best) {
        best->current_weight -= total;
    }
    return best;
}

mg_int_t mg_upstream_rr_get_peer(mg_upstream_pick_t *pick)
{
    mg_upstream_rr_data_t *d = pick->data;
    mg_upstream_group_t *g = pick->group;
    pick->peer = NULL;
    if (d->single) {
        /* nginx: a lone peer ignores max_fails and is tried once per request */
        mg_upstream_peer_t *peer = g->peers.elts;
        if (peer->down || peer->hc_down || mg_upstream_rr_is_tried(pick, 0) ||
            (peer->max_conns && peer->conns >= (mg_uint_t)peer->max_conns)) {
            return MG_BUSY;
        }
        mg_upstream_rr_chosen(pick, peer, 0);
        return MG_OK;
    }
    return mg_upstream_rr_get_from(pick, rr_choose);
}

mg_int_t mg_upstream_rr_get_from(mg_upstream_pick_t *pick, mg_upstream_choose_pt choose)
{
    mg_upstream_rr_data_t *d = pick->data;
    mg_upstream_group_t *g = pick->group;
    mg_uint_t index = 0;
    mg_upstream_peer_t *peer;
    pick->peer = NULL;
    if (!d->backup) {
        peer = choose(pick, &g->peers, 0, &index);
        if (peer) {
            mg_upstream_rr_chosen(pick, peer, index);
            return MG_OK;
        }
        if (g->backup.nelts == 0) {
            return MG_BUSY;
        }
        d->backup = 1; /* backups only once no primary is usable, for the rest of the request */
    }
    peer = choose(pick, &g->backup, (mg_uint_t)g->peers.nelts, &index);
    if (peer == NULL) {
        return MG_BUSY;
    }
    mg_upstream_rr_chosen(pick, peer, index);
    return MG_OK;
}

/* Mark the outcome of a try against max_fails/fail_timeout. */
static void peer_outcome(mg_upstream_peer_t *peer, int outcome)
{
    mg_msec_t now = mg_now.monotonic;
    if (outcome == MG_PEER_FAILED) {
        peer->fails++;
        peer->accessed = now;
        peer->checked = now;
        if (peer->max_fails) {
            peer->effective_weight -= peer->weight / peer->max_fails;
        }
        if (peer->effective_weight < 0) {
            peer->effective_weight = 0;
        }
    } else if (peer->accessed < peer->checked) {
        /* a success after the window was reopened: the peer is live again */
        peer->fails = 0;
    }
}

void mg_upstream_rr_free_peer(mg_upstream_pick_t *pick, int outcome)
{
    mg_upstream_rr_data_t *d = pick->data;
    mg_upstream_peer_t *peer = pick->peer;
    if (peer == NULL) {
        return;
    }
    if (peer->conns) {
        peer->conns--;
    }
    if (d->single) {
        return;
    }
    peer_outcome(peer, outcome);
    if (outcome == MG_PEER_FAILED && peer->max_fails && peer->fails >= (mg_uint_t)peer->max_fails &&
        (pick->r || pick->log)) {
        mg_log_error(MG_LOG_WARN, pick->r ? &pick->r->connection->log : pick->log, 0,
                     "upstream server temporarily disabled");
    }
}

/* Reset the run-time state and count the tries. "no servers in upstream" (all backup) is
 * checked by the upstream module before, as it knows FILE:LINE. */
mg_int_t mg_upstream_rr_init_group(mg_conf_t *cf, mg_upstream_group_t *g)
{
    (void)cf;
    mg_array_t *lists[2] = { &g->peers, &g->backup };
    mg_uint_t tries = 0;
    for (int l = 0; l < 2; l++) {
        mg_upstream_peer_t *p = lists[l]->elts;
        for (size_t i = 0; i < lists[l]->nelts; i++) {
            p[i].effective_weight = p[i].weight;
            p[i].current_weight = 0;
            p[i].conns = p[i].fails = 0;
            p[i].checked = p[i].accessed = 0;
            if (!p[i].down) {
                tries++;
            }
        }
    }
    g->max_tries = (g->peers.nelts == 1 && g->backup.nelts == 0) ? 1 : tries;
    return MG_OK;
}

const mg_upstream_balancer_t mg_upstream_round_robin = {
    .name = "round_robin",
    .init_group = mg_upstream_rr_init_group,
    .init_request = rr_init_request,
    .get_peer = mg_upstream_rr_get_peer,
    .free_peer = mg_upstream_rr_free_peer,
};
