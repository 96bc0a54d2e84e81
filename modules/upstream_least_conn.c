/*
 * "least_conn": the peer with the fewest active connections relative to its weight; ties are
 * broken by smooth weighted round robin among the tied peers (nginx's
 * ngx_http_upstream_least_conn_module). Backup peers when no primary is usable.
 */
#include "upstream.h"
#include "upstream_rr.h"

static mg_int_t lc_init_request(mg_request_t *r, mg_upstream_pick_t *pick)
{
    return mg_upstream_rr_init_request_size(r, pick, sizeof(mg_upstream_rr_data_t));
}

static mg_upstream_peer_t *lc_choose(mg_upstream_pick_t *pick, mg_array_t *list, mg_uint_t base,
                                     mg_uint_t *index)
{
    mg_msec_t now = mg_now.monotonic;
    mg_upstream_peer_t *peers = list->elts, *best = NULL;
    size_t p = 0;
    int many = 0;
    for (size_t i = 0; i < list->nelts; i++) {
        mg_upstream_peer_t *peer = &peers[i];
        if (mg_upstream_rr_is_tried(pick, base + i) || peer->down ||
            mg_upstream_rr_failed(peer, now)) {
            continue;
        }
        if (best == NULL ||
            peer->conns * (mg_uint_t)best->weight < best->conns * (mg_uint_t)peer->weight) {
            best = peer;
            many = 0;
            p = i;
        } else if (peer->conns * (mg_uint_t)best->weight == best->conns * (mg_uint_t)peer->weight) {
            many = 1;
        }
    }
    if (best == NULL) {
        return NULL;
    }
    if (many) {
        mg_int_t total = 0;
        mg_upstream_peer_t *first = best;
        for (size_t i = p; i < list->nelts; i++) {
            mg_upstream_peer_t *peer = &peers[i];
            if (mg_upstream_rr_is_tried(pick, base + i) || peer->down ||
                peer->conns * (mg_uint_t)first->weight != first->conns * (mg_uint_t)peer->weight ||
                mg_upstream_rr_failed(peer, now)) {
                continue;
            }
            peer->current_weight += peer->effective_weight;
            total += peer->effective_weight;
            if (peer->effective_weight < peer->weight) {
                peer->effective_weight++;
            }
            if (peer->current_weight > best->current_weight) {
                best = peer;
                p = i;
            }
        }
        best->current_weight -= total;
    }
    *index = base + (mg_uint_t)p;
    return best;
}

static mg_int_t lc_get_peer(mg_upstream_pick_t *pick)
{
    mg_upstream_rr_data_t *d = pick->data;
    if (d->single) {
        return mg_upstream_rr_get_peer(pick);
    }
    return mg_upstream_rr_get_from(pick, lc_choose);
}

const mg_upstream_balancer_t mg_upstream_least_conn = {
    .name = "least_conn",
    .init_group = mg_upstream_rr_init_group,
    .init_request = lc_init_request,
    .get_peer = lc_get_peer,
    .free_peer = mg_upstream_rr_free_peer,
};

static const char *lc_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_upstream_set_balancer(cf, &mg_upstream_least_conn, NULL, MG_UPSTREAM_ALL);
    return MG_CONF_OK;
}

static const mg_command_t lc_commands[] = {
    {"least_conn", MG_CTX_UPSTREAM | MG_CTX_STREAM_UPS, MG_ARGS(0, 0), lc_set, MG_NO_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t lc_defaults[] = {
    {"least_conn", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_upstream_least_conn_module = {
    .name = "upstream_least_conn",
    .commands = lc_commands,
    .defaults = lc_defaults,
};
