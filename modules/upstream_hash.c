/*
 * "hash KEY [consistent]" and "ip_hash", as nginx's ngx_http_upstream_hash_module and
 * ngx_http_upstream_ip_hash_module:
 * - hash: ((crc32([REHASH] KEY) >> 16) & 0x7fff) + previous hash, modulo the total weight
 *   (Cache::Memcached compatible); rehashed on a tried or unusable peer;
 * - hash consistent: a ketama ring of 160 points per weight unit, each point
 *   crc32(HOST \0 PORT PREV_HASH) of the server as written (Cache::Memcached::Fast), the key's
 *   crc32 searched on it, the next point on an unusable server;
 * - ip_hash: the first three bytes of a client IPv4 address (its /24) or the whole IPv6
 *   address, hash = (hash * 113 + byte) % 6271 from 89.
 * After 20 unlucky rounds, an empty key or a single peer, round robin chooses.
 */
#include <zlib.h>

#include "script.h"
#include "stream.h"
#include "upstream.h"
#include "upstream_rr.h"

typedef struct {
    uint32_t hash;
    mg_str_t *server;
} chash_point_t;

typedef struct {
    mg_http_complex_value_t key;
    mg_stream_complex_t stream_key; /* in stream{}'s upstream{} */
    int consistent;
    chash_point_t *points;
    mg_uint_t npoints;
} hash_conf_t;

typedef struct {
    mg_upstream_rr_data_t rr;
    mg_str_t key;
    uint64_t hash;
    mg_uint_t rehash;
    mg_uint_t tries;
    const unsigned char *addr; /* ip_hash */
    size_t addrlen;
} hash_data_t;

static uint32_t crc32_update(uint32_t crc, const void *p, size_t n)
{
    return (uint32_t)crc32(crc, p, (uInt)n);
}

/* The primary peer that weight position w falls on, and its index. */
static mg_upstream_peer_t *peer_at(mg_upstream_group_t *g, mg_int_t w, mg_uint_t *index)
{
    mg_upstream_peer_t *peers = g->peers.elts;
    mg_uint_t p = 0;
    while (w >= peers[p].weight) {
        w -= peers[p].weight;
        p++;
    }
    *index = p;
    return &peers[p];
}

static int peer_skip(mg_upstream_pick_t *pick, mg_upstream_peer_t *peer, mg_uint_t i)
{
    return mg_upstream_rr_is_tried(pick, i) || peer->down ||
           mg_upstream_rr_failed(peer, mg_now.monotonic);
}

/* ---- hash ---- */

static mg_int_t hash_init_request(mg_request_t *r, mg_upstream_pick_t *pick)
{
    hash_conf_t *hc = pick->group->balancer_conf;
    if (mg_upstream_rr_init_request_size(r, pick, sizeof(hash_data_t)) != MG_OK) {
        return MG_ERROR;
    }
    hash_data_t *hd = pick->data;
    hd->key = r ? mg_http_complex_value(r, &hc->key)
                : mg_stream_complex_value(pick->session, &hc->stream_key);
    if (hc->consistent && hc->npoints) {
        /* the first point at or after the key's hash */
        uint32_t h = crc32_update(0, hd->key.data, hd->key.len);
        mg_uint_t i = 0, j = hc->npoints;
        while (i < j) {
            mg_uint_t k = (i + j) / 2;
            if (h > hc->points[k].hash) {
                i = k + 1;
            } else if (h < hc->points[k].hash) {
                j = k;
            } else {
                i = k;
                break;
            }
        }
        hd->hash = i;
    }
    return MG_OK;
}

static mg_int_t hash_get_peer(mg_upstream_pick_t *pick)
{
    hash_data_t *hd = pick->data;
    mg_upstream_group_t *g = pick->group;
    if (hd->tries > 20 || hd->rr.single || hd->key.len == 0 || hd->rr.backup) {
        return mg_upstream_rr_get_peer(pick);
    }
    mg_int_t total = mg_upstream_rr_total_weight(g);
    mg_upstream_peer_t *peer;
    mg_uint_t p;
    for (;;) {
        uint32_t h = 0;
        if (hd->rehash > 0) {
            char buf[32];
            int n = snprintf(buf, sizeof(buf), "%lu", (unsigned long)hd->rehash);
            h = crc32_update(h, buf, (size_t)n);
        }
        h = crc32_update(h, hd->key.data, hd->key.len);
        h = (h >> 16) & 0x7fff;
        hd->hash += h;
        hd->rehash++;
        peer = peer_at(g, (mg_int_t)(hd->hash % (uint64_t)total), &p);
        if (!peer_skip(pick, peer, p)) {
            break;
        }
        if (++hd->tries > 20) {
            return mg_upstream_rr_get_peer(pick);
        }
    }
    mg_upstream_rr_chosen(pick, peer, p);
    return MG_OK;
}

static mg_int_t chash_get_peer(mg_upstream_pick_t *pick)
{
    hash_data_t *hd = pick->data;
    mg_upstream_group_t *g = pick->group;
    hash_conf_t *hc = g->balancer_conf;
    if (hd->tries > 20 || hd->rr.single || hd->key.len == 0 || hd->rr.backup) {
        return mg_upstream_rr_get_peer(pick);
    }
    mg_upstream_peer_t *peers = g->peers.elts, *best;
    mg_uint_t best_i = 0;
    for (;;) {
        mg_str_t *server = hc->points[hd->hash % hc->npoints].server;
        best = NULL;
        mg_int_t total = 0;
        for (mg_uint_t i = 0; i < g->peers.nelts; i++) {
            mg_upstream_peer_t *peer = &peers[i];
            if (!mg_str_eq_str(peer->server, *server) || peer_skip(pick, peer, i)) {
                continue;
            }
            /* several addresses of one server share its points: round robin among them */
            peer->current_weight += peer->effective_weight;
            total += peer->effective_weight;
            if (peer->effective_weight < peer->weight) {
                peer->effective_weight++;
            }
            if (best == NULL || peer->current_weight > best->current_weight) {
                best = peer;
                best_i = i;
            }
        }
        if (best) {
            best->current_weight -= total;
            break;
        }
        hd->hash++;
        if (++hd->tries > 20) {
            return mg_upstream_rr_get_peer(pick);
        }
    }
    mg_upstream_rr_chosen(pick, best, best_i);
    return MG_OK;
}

static int point_cmp(const void *a, const void *b)
{
    const chash_point_t *x = a, *y = b;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static mg_int_t hash_init_group(mg_conf_t *cf, mg_upstream_group_t *g)
{
    if (mg_upstream_rr_init_group(cf, g) != MG_OK) {
        return MG_ERROR;
    }
    hash_conf_t *hc = g->balancer_conf;
    if (!hc->consistent) {
        return MG_OK;
    }
    mg_upstream_peer_t *peers = g->peers.elts;
    mg_uint_t n = 0;
    for (size_t i = 0; i < g->peers.nelts; i++) {
        n += (mg_uint_t)(peers[i].weight + peers[i].ring_weight) * 160;
    }
    hc->points = mg_palloc(cf->pool, (n ? n : 1) * sizeof(chash_point_t));
    hc->npoints = 0;
    for (size_t i = 0; i < g->peers.nelts; i++) {
        mg_str_t *server = &peers[i].server;
        const char *host = server->data, *port = NULL;
        size_t host_len = server->len, port_len = 0;
        if (server->len >= 5 && mg_strncasecmp(server->data, "unix:", 5) == 0) {
            host += 5;
            host_len -= 5;
        } else {
            for (size_t j = 0; j < server->len; j++) {
                if (server->data[server->len - j - 1] == ':') {
                    host_len = server->len - j - 1;
                    port = server->data + server->len - j;
                    port_len = j;
                    break;
                }
            }
        }
        uint32_t base = crc32_update(0, host, host_len);
        base = crc32_update(base, "", 1);
        base = crc32_update(base, port ? port : "", port_len);
        unsigned char prev[4] = { 0, 0, 0, 0 };
        for (mg_int_t j = 0; j < (peers[i].weight + peers[i].ring_weight) * 160; j++) {
            uint32_t h = crc32_update(base, prev, 4);
            hc->points[hc->npoints].hash = h;
            hc->points[hc->npoints].server = server;
            hc->npoints++;
            /* nginx stores the previous hash in memory order: little-endian bytes */
            prev[0] = (unsigned char)(h & 0xff);
            prev[1] = (unsigned char)((h >> 8) & 0xff);
            prev[2] = (unsigned char)((h >> 16) & 0xff);
            prev[3] = (unsigned char)((h >> 24) & 0xff);
        }
    }
    qsort(hc->points, hc->npoints, sizeof(chash_point_t), point_cmp);
    mg_uint_t i = 0;
    for (mg_uint_t j = 1; j < hc->npoints; j++) {
        if (hc->points[i].hash != hc->points[j].hash) {
            hc->points[++i] = hc->points[j];
        }
    }
    if (hc->npoints) {
        hc->npoints = i + 1;
    }
    return MG_OK;
}

const mg_upstream_balancer_t mg_upstream_hash = {
    .name = "hash",
    .init_group = hash_init_group,
    .init_request = hash_init_request,
    .get_peer = hash_get_peer,
    .free_peer = mg_upstream_rr_free_peer,
};

const mg_upstream_balancer_t mg_upstream_chash = {
    .name = "hash",
    .init_group = hash_init_group,
    .init_request = hash_init_request,
    .get_peer = chash_get_peer,
    .free_peer = mg_upstream_rr_free_peer,
};

/* ---- ip_hash ---- */

static const unsigned char pseudo_addr[3] = { 0, 0, 0 };

static mg_int_t ip_hash_init_request(mg_request_t *r, mg_upstream_pick_t *pick)
{
    if (mg_upstream_rr_init_request_size(r, pick, sizeof(hash_data_t)) != MG_OK) {
        return MG_ERROR;
    }
    hash_data_t *hd = pick->data;
    struct sockaddr *sa = r->connection->sockaddr;
    if (sa->sa_family == AF_INET) {
        hd->addr = (const unsigned char *)&((struct sockaddr_in *)sa)->sin_addr.s_addr;
        hd->addrlen = 3;
    } else if (sa->sa_family == AF_INET6) {
        hd->addr = ((struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        hd->addrlen = 16;
    } else {
        hd->addr = pseudo_addr;
        hd->addrlen = 3;
    }
    hd->hash = 89;
    return MG_OK;
}

static mg_int_t ip_hash_get_peer(mg_upstream_pick_t *pick)
{
    hash_data_t *hd = pick->data;
    mg_upstream_group_t *g = pick->group;
    if (hd->tries > 20 || hd->rr.single || hd->rr.backup) {
        return mg_upstream_rr_get_peer(pick);
    }
    mg_int_t total = mg_upstream_rr_total_weight(g);
    uint64_t hash = hd->hash;
    mg_upstream_peer_t *peer;
    mg_uint_t p;
    for (;;) {
        for (size_t i = 0; i < hd->addrlen; i++) {
            hash = (hash * 113 + hd->addr[i]) % 6271;
        }
        peer = peer_at(g, (mg_int_t)(hash % (uint64_t)total), &p);
        if (!peer_skip(pick, peer, p)) {
            break;
        }
        if (++hd->tries > 20) {
            return mg_upstream_rr_get_peer(pick);
        }
    }
    hd->hash = hash;
    mg_upstream_rr_chosen(pick, peer, p);
    return MG_OK;
}

const mg_upstream_balancer_t mg_upstream_ip_hash = {
    .name = "ip_hash",
    .init_group = mg_upstream_rr_init_group,
    .init_request = ip_hash_init_request,
    .get_peer = ip_hash_get_peer,
    .free_peer = mg_upstream_rr_free_peer,
};

/* ---- directives ---- */

#define HASH_FLAGS                                                                                 \
    (MG_UPSTREAM_WEIGHT | MG_UPSTREAM_MAX_FAILS | MG_UPSTREAM_FAIL_TIMEOUT | MG_UPSTREAM_DOWN |    \
     MG_UPSTREAM_MAX_CONNS)

static const char *hash_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    hash_conf_t *hc = mg_pcalloc(cf->pool, sizeof(hash_conf_t));
    if (cf->ctx == MG_CTX_STREAM_UPS
            ? mg_stream_complex_compile(cf, cf->args[1], &hc->stream_key) != MG_CONF_OK
            : mg_http_compile_complex_value(cf, cf->args[1], &hc->key) != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (cf->nargs == 3) {
        if (!mg_str_eq(cf->args[2], "consistent")) {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", cf->args[2].data);
            return MG_CONF_ERROR;
        }
        hc->consistent = 1;
    }
    mg_upstream_set_balancer(cf, hc->consistent ? &mg_upstream_chash : &mg_upstream_hash, hc,
                             HASH_FLAGS);
    return MG_CONF_OK;
}

static const char *ip_hash_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_upstream_set_balancer(cf, &mg_upstream_ip_hash, NULL, HASH_FLAGS);
    return MG_CONF_OK;
}

static const mg_command_t hash_commands[] = {
    {"hash", MG_CTX_UPSTREAM | MG_CTX_STREAM_UPS, MG_ARGS(1, 2), hash_set, MG_NO_CONF, 0, NULL},
    {"ip_hash", MG_CTX_UPSTREAM, MG_ARGS(0, 0), ip_hash_set, MG_NO_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t hash_defaults[] = {
    {"hash", MG_NO_DEFAULT},
    {"ip_hash", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_upstream_hash_module = {
    .name = "upstream_hash",
    .commands = hash_commands,
    .defaults = hash_defaults,
};
