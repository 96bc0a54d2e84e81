/*
 * "random [two [least_conn]]": a peer drawn at random in proportion to its weight; with "two",
 * two different peers are drawn and the one with fewer active connections relative to its
 * weight wins (least_conn, the only method without NGINX Plus). A draw that lands on a peer
 * that is down, failed, at max_conns or already tried is repeated; after 20 such draws the
 * choice falls back to round robin, as nginx's does. No backup servers, as in nginx.
 */
#include <stdlib.h>

#include "upstream.h"
#include "upstream_rr.h"

#define DRAWS 20

typedef struct {
    int two;
} random_conf_t;

static mg_int_t random_init_request(mg_request_t *r, mg_upstream_pick_t *pick)
{
    return mg_upstream_rr_init_request_size(r, pick, sizeof(mg_upstream_rr_data_t));
}

static int usable(mg_upstream_pick_t *pick, mg_upstream_peer_t *peer, mg_uint_t i)
{
    return !mg_upstream_rr_is_tried(pick, i) && !peer->down &&
           !mg_upstream_rr_failed(peer, mg_now.monotonic);
}

/* one weighted draw over every primary peer */
static mg_uint_t draw(mg_upstream_group_t *g, mg_int_t total)
{
    mg_upstream_peer_t *peers = g->peers.elts;
    mg_int_t x = (mg_int_t)(random() % total);
    mg_uint_t i = 0;
    while (x >= peers[i].weight) {
        x -= peers[i].weight;
        i++;
    }
    return i;
}

static mg_int_t random_get_peer(mg_upstream_pick_t *pick)
{
    mg_upstream_rr_data_t *d = pick->data;
    mg_upstream_group_t *g = pick->group;
    random_conf_t *rc = g->balancer_conf;
    if (d->single) {
        return mg_upstream_rr_get_peer(pick);
    }
    mg_upstream_peer_t *peers = g->peers.elts;
    mg_int_t total = mg_upstream_rr_total_weight(g);
    if (total == 0) {
        return mg_upstream_rr_get_peer(pick); /* only "resolve" slots without addresses */
    }
    mg_uint_t i = 0, j = 0;
    int n;
    for (n = 0; n < DRAWS; n++) {
        i = draw(g, total);
        if (usable(pick, &peers[i], i)) {
            break;
        }
    }
    if (n == DRAWS) {
        return mg_upstream_rr_get_peer(pick);
    }
    if (rc->two) {
        for (n = 0; n < DRAWS; n++) {
            j = draw(g, total);
            if (j != i && usable(pick, &peers[j], j)) {
                break;
            }
        }
        if (n < DRAWS && peers[j].conns * (mg_uint_t)peers[i].weight <
                             peers[i].conns * (mg_uint_t)peers[j].weight) {
            i = j;
        }
    }
    mg_upstream_rr_chosen(pick, &peers[i], i);
    return MG_OK;
}

static const mg_upstream_balancer_t mg_upstream_random = {
    .name = "random",
    .init_group = mg_upstream_rr_init_group,
    .init_request = random_init_request,
    .get_peer = random_get_peer,
    .free_peer = mg_upstream_rr_free_peer,
};

static const char *random_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    random_conf_t *rc = mg_pcalloc(cf->pool, sizeof(random_conf_t));
    if (cf->nargs > 1) {
        if (!mg_str_eq(cf->args[1], "two")) {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", cf->args[1].data);
            return MG_CONF_ERROR;
        }
        rc->two = 1;
        if (cf->nargs > 2 && !mg_str_eq(cf->args[2], "least_conn")) {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", cf->args[2].data);
            return MG_CONF_ERROR;
        }
    }
    mg_upstream_set_balancer(cf, &mg_upstream_random, rc,
                             MG_UPSTREAM_WEIGHT | MG_UPSTREAM_MAX_CONNS | MG_UPSTREAM_MAX_FAILS |
                                 MG_UPSTREAM_FAIL_TIMEOUT | MG_UPSTREAM_DOWN);
    return MG_CONF_OK;
}

static const mg_command_t random_commands[] = {
    {"random", MG_CTX_UPSTREAM | MG_CTX_STREAM_UPS, MG_ARGS(0, 2), random_set, MG_NO_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t random_defaults[] = {
    {"random", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_upstream_random_module = {
    .name = "upstream_random",
    .commands = random_commands,
    .defaults = random_defaults,
};
