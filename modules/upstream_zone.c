/*
 * "zone name [size]" in upstream{}: the group's run-time peer state (active connections, so
 * max_conns counts across workers; fails and their window; the round-robin weights) lives in
 * a shared memory zone, one record per peer, so every worker balances on the same numbers, as
 * nginx's upstream zone does. Several groups may share a zone; one of them gives the size.
 *
 * The balancers keep working on the peer structs of their worker: the group's balancer is
 * wrapped so that each choice and each outcome copies the records in under the zone's lock,
 * runs the balancer, and copies them back. Records are found by group, list, index and
 * address, so a reload that keeps the zone (same name and size) keeps the state, and old and
 * new workers share it while both run. Stream's upstream{} blocks are read by the same code
 * and take a zone the same way.
 *
 * A record counts who points at it: each generation whose configuration names it (taken by
 * the process that reads the configuration, given back when that process destroys the
 * generation, i.e. once its workers are gone) and each worker whose run-time state does (a
 * "resolve" slot's address, its checks, its slot records: given back when the slot takes
 * another address and when the worker ends). At zero nobody can read it any more and its
 * place is free for another, so addresses that come and go and reloads that change the peers
 * do not fill the zone. A worker that dies without giving back leaves its records counted.
 */
#include <unistd.h>

#include "shm.h"
#include "stream.h"
#include "upstream.h"

/* the records' layout: another value in a zone handed over by USR2 is refused, never read */
#define ZONE_MAGIC 0x6d67757cU
#define KEY_LEN 160

typedef struct {
    mg_shmtx_t lock;
    uint32_t magic;
    uint32_t nrec;
    uint32_t cap;
} zone_hdr_t;

typedef struct {
    char key[KEY_LEN]; /* "": a free record */
    uint32_t refs;
    uint64_t conns;
    uint64_t fails;
    int64_t current_weight;
    int64_t effective_weight;
    mg_msec_t checked;
    mg_msec_t accessed;
    mg_upstream_hc_rec_t hc;     /* a health_check's record (key ending " hc N") */
    mg_upstream_addr_rec_t addr; /* a "resolve" server's slot (key ending " @HOST:PORT N") */
} zone_rec_t;

typedef struct {
    const mg_upstream_balancer_t *inner;
    mg_upstream_balancer_t wrap;
    zone_hdr_t *hdr;
    mg_array_t held; /* zone_rec_t *: the records the configuration points at, one count each */
    pid_t reader;    /* the process that read the configuration: it gives them back */
} zone_state_t;

typedef struct {
    mg_str_t name;
    size_t size;
} zone_decl_t;

typedef struct {
    mg_array_t decls; /* zone_decl_t: every "zone" with a size, for the groups naming it alone */
} zone_main_conf_t;

mg_module_t mg_upstream_zone_module;

static void *zone_create_main_conf(mg_conf_t *cf)
{
    zone_main_conf_t *zmcf = mg_pcalloc(cf->pool, sizeof(*zmcf));
    mg_array_init(&zmcf->decls, cf->pool, 2, sizeof(zone_decl_t));
    return zmcf;
}

static const char *zone_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    zone_main_conf_t *zmcf = conf;
    mg_upstream_group_t *g = mg_upstream_current(cf); /* a second "zone" wins, as in nginx */
    mg_str_t name = cf->args[1];
    size_t size = 0;
    if (cf->nargs == 3) {
        int64_t n = mg_parse_size(cf->args[2]);
        if (n < 0) {
            mg_conf_error(cf, 0, "invalid zone size \"%s\"", cf->args[2].data);
            return MG_CONF_ERROR;
        }
        if (n < 8 * 4096) {
            mg_conf_error(cf, 0, "zone \"%s\" is too small", name.data);
            return MG_CONF_ERROR;
        }
        size = (size_t)n;
        zone_decl_t *d = mg_array_push(&zmcf->decls);
        d->name = name;
        d->size = size;
    }
    g->zone_name = name;
    g->zone_size = size;
    return MG_CONF_OK;
}

/* ---- records ---- */

static zone_rec_t *records(zone_hdr_t *h)
{
    return (zone_rec_t *)(h + 1);
}

/* The record of `key`, made when missing (its state from the peer, if any; *created set), with
 * one more count; NULL when the zone is full. `hold`: the configuration being read points at
 * it, and its generation gives the count back. Under the zone's lock. */
static zone_rec_t *record(zone_state_t *zs, const char *key, mg_upstream_peer_t *peer, int hold,
                          int *created)
{
    zone_hdr_t *h = zs->hdr;
    zone_rec_t *r = records(h), *z = NULL, *free_rec = NULL;
    *created = 0;
    for (uint32_t i = 0; i < h->nrec && z == NULL; i++) {
        if (r[i].key[0] == '\0') {
            free_rec = free_rec ? free_rec : &r[i];
        } else if (strcmp(r[i].key, key) == 0) {
            z = &r[i];
            if (peer && z->effective_weight > peer->weight) {
                z->effective_weight = peer->weight; /* the weight was lowered by a reload */
            }
        }
    }
    if (z == NULL) {
        if (free_rec == NULL && h->nrec == h->cap) {
            return NULL;
        }
        z = free_rec ? free_rec : &r[h->nrec++];
        memset(z, 0, sizeof(*z));
        snprintf(z->key, sizeof(z->key), "%s", key);
        z->effective_weight = peer ? peer->weight : 0;
        *created = 1;
    }
    z->refs++;
    if (hold) {
        *(zone_rec_t **)mg_array_push(&zs->held) = z;
    }
    return z;
}

/* One count given back; the last frees the record. Under the zone's lock. */
static void unref(zone_hdr_t *h, zone_rec_t *z)
{
    if (z->refs > 0 && --z->refs > 0) {
        return;
    }
    memset(z, 0, sizeof(*z));
    zone_rec_t *r = records(h);
    while (h->nrec > 0 && r[h->nrec - 1].key[0] == '\0') {
        h->nrec--;
    }
}

/* The generation is destroyed: its configuration's counts go back, from the process that took
 * them (its workers destroy their copies of it too) */
static void give_back(void *data)
{
    zone_state_t *zs = data;
    if (zs->reader != getpid()) {
        return;
    }
    mg_shmtx_lock(&zs->hdr->lock);
    zone_rec_t **z = zs->held.elts;
    for (size_t i = 0; i < zs->held.nelts; i++) {
        unref(zs->hdr, z[i]);
    }
    zs->held.nelts = 0;
    mg_shmtx_unlock(&zs->hdr->lock);
}

static void sync_in(mg_upstream_group_t *g)
{
    mg_array_t *lists[2] = {&g->peers, &g->backup};
    for (int l = 0; l < 2; l++) {
        mg_upstream_peer_t *p = lists[l]->elts;
        for (size_t i = 0; i < lists[l]->nelts; i++) {
            zone_rec_t *z = p[i].shared;
            if (z) {
                p[i].conns = (mg_uint_t)z->conns;
                p[i].fails = (mg_uint_t)z->fails;
                p[i].current_weight = (mg_int_t)z->current_weight;
                p[i].effective_weight = (mg_int_t)z->effective_weight;
                p[i].checked = z->checked;
                p[i].accessed = z->accessed;
            }
            unsigned down = 0;
            for (unsigned k = 0; k < p[i].nhc; k++) {
                down |= ((mg_upstream_hc_rec_t *)p[i].hc[k])->state != MG_HC_UP;
            }
            p[i].hc_down = down;
        }
    }
}

static void sync_out(mg_upstream_group_t *g)
{
    mg_array_t *lists[2] = {&g->peers, &g->backup};
    for (int l = 0; l < 2; l++) {
        mg_upstream_peer_t *p = lists[l]->elts;
        for (size_t i = 0; i < lists[l]->nelts; i++) {
            zone_rec_t *z = p[i].shared;
            if (z) {
                z->conns = p[i].conns;
                z->fails = p[i].fails;
                z->current_weight = p[i].current_weight;
                z->effective_weight = p[i].effective_weight;
                z->checked = p[i].checked;
                z->accessed = p[i].accessed;
            }
        }
    }
}

/* ---- the wrapping balancer ---- */

static mg_int_t zone_init_request(mg_request_t *r, mg_upstream_pick_t *pick)
{
    zone_state_t *zs = pick->group->zone;
    return zs->inner->init_request(r, pick);
}

static mg_int_t zone_get_peer(mg_upstream_pick_t *pick)
{
    mg_upstream_group_t *g = pick->group;
    zone_state_t *zs = g->zone;
    mg_shmtx_lock(&zs->hdr->lock); /* a holder that died left counters at worst */
    if (g->dyn) {
        mg_upstream_dynamic_sync(g);
    }
    sync_in(g);
    mg_int_t rc = zs->inner->get_peer(pick);
    sync_out(g);
    mg_shmtx_unlock(&zs->hdr->lock);
    return rc;
}

static void zone_free_peer(mg_upstream_pick_t *pick, int outcome)
{
    mg_upstream_group_t *g = pick->group;
    zone_state_t *zs = g->zone;
    mg_shmtx_lock(&zs->hdr->lock);
    sync_in(g);
    zs->inner->free_peer(pick, outcome);
    sync_out(g);
    mg_shmtx_unlock(&zs->hdr->lock);
}

static void peer_key(char *key, mg_upstream_group_t *g, int l, size_t i, mg_upstream_peer_t *p)
{
    snprintf(key, KEY_LEN, "%.*s %d %zu %.*s", (int)g->name.len, g->name.data, l, i,
             (int)p->name.len, p->name.data);
}

void mg_upstream_zone_lock(mg_upstream_group_t *g)
{
    mg_shmtx_lock(&((zone_state_t *)g->zone)->hdr->lock);
}

void mg_upstream_zone_unlock(mg_upstream_group_t *g)
{
    mg_shmtx_unlock(&((zone_state_t *)g->zone)->hdr->lock);
}

mg_upstream_hc_rec_t *mg_upstream_zone_hc(mg_upstream_group_t *g, int l, size_t i,
                                          mg_upstream_peer_t *p, unsigned n, int hold, int *created)
{
    zone_state_t *zs = g->zone;
    char key[KEY_LEN], hkey[KEY_LEN + 16];
    peer_key(key, g, l, i, p);
    snprintf(hkey, sizeof(hkey), "%.*s hc %u", KEY_LEN - 16, key, n);
    zone_rec_t *z = record(zs, hkey, p, hold, created);
    return z ? &z->hc : NULL;
}

mg_upstream_addr_rec_t *mg_upstream_zone_addr(mg_upstream_group_t *g, const char *key, int hold)
{
    int created;
    zone_rec_t *z = record(g->zone, key, NULL, hold, &created);
    return z ? &z->addr : NULL;
}

void mg_upstream_zone_release_hc(mg_upstream_group_t *g, mg_upstream_hc_rec_t *rec)
{
    zone_state_t *zs = g->zone;
    unref(zs->hdr, (zone_rec_t *)((char *)rec - offsetof(zone_rec_t, hc)));
}

void mg_upstream_zone_release_addr(mg_upstream_group_t *g, mg_upstream_addr_rec_t *rec)
{
    zone_state_t *zs = g->zone;
    unref(zs->hdr, (zone_rec_t *)((char *)rec - offsetof(zone_rec_t, addr)));
}

void mg_upstream_zone_release_peer(mg_upstream_group_t *g, mg_upstream_peer_t *p)
{
    zone_state_t *zs = g->zone;
    if (p->shared) {
        unref(zs->hdr, p->shared);
        p->shared = NULL;
    }
}

void mg_upstream_zone_peer(mg_upstream_group_t *g, int list, size_t i, mg_upstream_peer_t *p)
{
    zone_state_t *zs = g->zone;
    char key[KEY_LEN];
    int created;
    peer_key(key, g, list, i, p);
    /* the new address's record first: the same address again keeps its record */
    zone_rec_t *z = record(zs, key, p, 0, &created);
    mg_upstream_zone_release_peer(g, p);
    p->shared = z; /* NULL (a full zone): the worker's own numbers */
    if (z) {
        p->conns = (mg_uint_t)z->conns;
        z->effective_weight = p->weight;
    }
}

mg_int_t mg_upstream_zone_init(mg_conf_t *cf, mg_upstream_group_t *g)
{
    zone_main_conf_t *zmcf = mg_http_conf_get_main(cf, mg_upstream_zone_module);
    size_t size = g->zone_size;
    zone_decl_t *d = zmcf->decls.elts;
    for (size_t i = 0; i < zmcf->decls.nelts && size == 0; i++) {
        if (mg_str_eq_str(d[i].name, g->zone_name)) {
            size = d[i].size;
        }
    }
    if (size == 0) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "zero size shared memory zone \"%.*s\"",
                     (int)g->zone_name.len, g->zone_name.data);
        return MG_ERROR;
    }
    mg_shm_zone_t *zone = mg_shm_zone_add(cf, g->zone_name, size, &mg_upstream_zone_module);
    if (zone == NULL) {
        return MG_ERROR;
    }
    zone_hdr_t *h = zone->addr;
    if (h->magic != ZONE_MAGIC && h->magic != 0) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "upstream zone \"%.*s\" was made by a binary with another layout",
                     (int)g->zone_name.len, g->zone_name.data);
        return MG_ERROR;
    }
    if (h->magic != ZONE_MAGIC) {
        mg_shmtx_init(&h->lock);
        h->nrec = 0;
        h->cap = (uint32_t)((size - sizeof(*h)) / sizeof(zone_rec_t));
        h->magic = ZONE_MAGIC;
    }
    zone_state_t *zs = mg_pcalloc(cf->pool, sizeof(*zs));
    zs->hdr = h;
    zs->reader = getpid();
    mg_array_init(&zs->held, cf->pool, 8, sizeof(zone_rec_t *));
    mg_pool_cleanup_add(cf->pool, give_back, zs); /* after the zone's: runs before it */
    g->zone = zs;
    mg_shmtx_lock(&h->lock);
    mg_array_t *lists[2] = {&g->peers, &g->backup};
    for (int l = 0; l < 2; l++) {
        mg_upstream_peer_t *p = lists[l]->elts;
        for (size_t i = 0; i < lists[l]->nelts; i++) {
            if (p[i].name.len == 0) {
                continue; /* a "resolve" server's slot without an address yet */
            }
            char key[KEY_LEN];
            int created;
            peer_key(key, g, l, i, &p[i]);
            p[i].shared = record(zs, key, &p[i], 1, &created);
            if (p[i].shared == NULL) {
                mg_shmtx_unlock(&h->lock);
                mg_log_error(MG_LOG_EMERG, cf->log, 0,
                             "could not allocate memory in upstream zone \"%.*s\"",
                             (int)g->zone_name.len, g->zone_name.data);
                return MG_ERROR;
            }
        }
    }
    mg_shmtx_unlock(&h->lock);
    zs->inner = g->balancer;
    zs->wrap = *g->balancer;
    zs->wrap.init_request = zone_init_request;
    zs->wrap.get_peer = zone_get_peer;
    zs->wrap.free_peer = zone_free_peer;
    g->balancer = &zs->wrap;
    return MG_OK;
}

static const mg_command_t zone_commands[] = {
    {"zone", MG_CTX_UPSTREAM | MG_CTX_STREAM_UPS, MG_ARGS(1, 2), zone_set, MG_MAIN_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* stream's upstream{} blocks take it too: their groups are wrapped the same way */
static const mg_stream_module_t zone_stream = {
    .create_main_conf = zone_create_main_conf,
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t zone_defaults[] = {
    {"zone", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_upstream_zone_module = {
    .name = "upstream_zone",
    .commands = zone_commands,
    .defaults = zone_defaults,
    .create_main_conf = zone_create_main_conf,
    .stream = &zone_stream,
};
