/*
 * "server NAME resolve" in upstream{} (nginx 1.27.3+): the name is not resolved at load but at
 * run time through the http{} resolver, again when the answer expires (valid= or its TTL; 5 s
 * after a failure, which keeps the addresses it had), and its addresses become peers or stop
 * being peers without a reload. The group needs a zone: as in nginx, one worker resolves each
 * name (the name's place among the resolve servers, modulo worker_processes) and publishes the
 * addresses in the zone, a record per slot that ever held one (a serial and the count in the
 * first, made at load, so a zone costs what the answers use); every worker brings its slots in
 * line under the zone's lock before it chooses a peer, so all workers use the same addresses
 * at the same moment, the DNS is asked once per expiry rather than once per worker, and the
 * next generation starts with the addresses the zone holds. `resolver` and
 * `resolver_timeout` inside the upstream{} block (nginx 1.27.3+) take precedence over http{}'s
 * for its servers.
 *
 * Each such server owns a range of SLOTS peer slots in its list, reserved at load (down, weight
 * 0, so every balancer skips them): peers are never moved while requests point at them, and
 * the tried bitmaps keep their size. SLOTS is what evdns can report for one name (32 IPv4 and
 * 32 IPv6 addresses), so no address of an answer is left out. An address that goes away marks
 * its slot down; a new one takes a free slot and its zone record. hash ... consistent's ring is
 * made of the servers' names and weights, so it holds a resolved server's points from the
 * start (ring_weight) and needs no rebuilding: the addresses of a name share its points.
 */
#include <arpa/inet.h>

#include "health_check.h"
#include "resolver.h"
#include "server.h"
#include "upstream.h"

#define SLOTS 64
#define RETRY_MS 5000

typedef struct {
    mg_upstream_group_t *g;
    int list;      /* 0: primary, 1: backup */
    size_t first;  /* the first of its SLOTS slots in the list */
    mg_str_t host; /* the name, NUL-terminated */
    in_port_t port;
    mg_str_t server; /* as written */
    const char *file;
    mg_uint_t line;
    mg_upstream_peer_t tmpl; /* weight, max_fails, fail_timeout, max_conns, down */
    mg_resolver_t *resolver;
    mg_msec_t timeout;
    size_t index;                        /* among the http{} block's resolve servers */
    mg_upstream_addr_rec_t *recs[SLOTS]; /* its slots' records in the zone, once looked up */
    /* per worker */
    mg_server_t *srv;
    mg_cycle_t *cycle; /* its generation */
    mg_pool_t *pool;   /* the generation's: address texts live as long as requests can read them */
    struct event *timer; /* the worker that resolves the name */
    mg_resolve_t *rs;
    uint64_t seen;    /* the serial the slots were last brought in line with */
    char used[SLOTS]; /* slots holding the address of their record */
} dyn_server_t;

typedef struct {
    size_t n;
    dyn_server_t **servers;
} dyn_group_t;

typedef struct {
    mg_upstream_group_t *g;
    mg_resolver_t *resolver; /* NULL: http{}'s */
    mg_msec_t timeout;       /* MG_CONF_UNSET: http{}'s */
} group_resolver_t;

typedef struct {
    mg_array_t servers;   /* dyn_server_t */
    mg_array_t resolvers; /* group_resolver_t: resolver{,_timeout} inside upstream{} */
} dyn_main_conf_t;

mg_module_t mg_upstream_dynamic_module;

static void *dyn_create_main_conf(mg_conf_t *cf)
{
    dyn_main_conf_t *dmcf = mg_pcalloc(cf->pool, sizeof(*dmcf));
    mg_array_init(&dmcf->servers, cf->pool, 1, sizeof(dyn_server_t));
    mg_array_init(&dmcf->resolvers, cf->pool, 1, sizeof(group_resolver_t));
    return dmcf;
}

static group_resolver_t *group_resolver(dyn_main_conf_t *dmcf, mg_upstream_group_t *g, int add)
{
    group_resolver_t *gr = dmcf->resolvers.elts;
    for (size_t i = 0; i < dmcf->resolvers.nelts; i++) {
        if (gr[i].g == g) {
            return &gr[i];
        }
    }
    if (!add) {
        return NULL;
    }
    gr = mg_array_push(&dmcf->resolvers);
    gr->g = g;
    gr->resolver = NULL;
    gr->timeout = MG_CONF_UNSET;
    return gr;
}

static const char *dyn_resolver(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    group_resolver_t *gr = group_resolver(conf, mg_upstream_current(cf), 1);
    if (gr->resolver) {
        return "is duplicate";
    }
    gr->resolver = mg_resolver_conf(cf);
    return gr->resolver ? MG_CONF_OK : MG_CONF_ERROR;
}

static const char *dyn_resolver_timeout(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    group_resolver_t *gr = group_resolver(conf, mg_upstream_current(cf), 1);
    if (gr->timeout != MG_CONF_UNSET) {
        return "is duplicate";
    }
    int64_t ms = mg_parse_time(cf->args[1], 0);
    if (ms < 0) {
        return "invalid value";
    }
    gr->timeout = (mg_msec_t)ms;
    return MG_CONF_OK;
}

void mg_upstream_dynamic_server(mg_conf_t *cf, mg_upstream_group_t *g, mg_array_t *list,
                                mg_str_t host, in_port_t port, mg_str_t server,
                                const mg_upstream_peer_t *tmpl)
{
    dyn_main_conf_t *dmcf = mg_http_conf_get_main(cf, mg_upstream_dynamic_module);
    dyn_server_t *ds = mg_array_push(&dmcf->servers);
    memset(ds, 0, sizeof(*ds));
    ds->g = g;
    ds->list = list == &g->backup;
    ds->first = list->nelts;
    ds->host = mg_pstr(cf->pool, host.data, host.len);
    ds->port = port;
    ds->server = server;
    ds->file = mg_conf_file(cf);
    const char *w = mg_conf_where(cf);
    const char *colon = strrchr(w, ':');
    ds->line = colon ? (mg_uint_t)strtoul(colon + 1, NULL, 10) : 0;
    ds->tmpl = *tmpl;
    for (int i = 0; i < SLOTS; i++) {
        mg_upstream_peer_t *p = mg_array_push(list);
        *p = *tmpl;
        p->name.len = 0;
        p->name.data = NULL;
        p->server = server;
        p->down = 1;
        p->ring_weight = tmpl->weight;
        p->weight = 0;
        p->effective_weight = 0;
    }
}

/* Slot s's record in the zone, found by key or made (zeroed); NULL when the zone is full.
 * Under the zone's lock. Only slots that ever held an address have one. The first slot's is
 * the configuration's (looked up in the master), the others the worker's own, given back when
 * it ends (release_slots). */
static mg_upstream_addr_rec_t *slot_rec(dyn_server_t *ds, int s)
{
    if (ds->recs[s] == NULL) {
        char key[160];
        snprintf(key, sizeof(key), "%.*s %d %zu @%s:%u %d", (int)ds->g->name.len, ds->g->name.data,
                 ds->list, ds->first, ds->host.data, (unsigned)ds->port, s);
        ds->recs[s] = mg_upstream_zone_addr(ds->g, key, s == 0);
    }
    return ds->recs[s];
}

/* The first slot's record of g's resolve servers (made in the master: the workers and the next
 * generation find them by key) and the list of those servers on the group. */
static mg_int_t share(mg_conf_t *cf, dyn_main_conf_t *dmcf, mg_upstream_group_t *g)
{
    dyn_server_t *ds = dmcf->servers.elts;
    size_t n = 0;
    for (size_t i = 0; i < dmcf->servers.nelts; i++) {
        n += ds[i].g == g;
    }
    if (n == 0) {
        return MG_OK;
    }
    dyn_group_t *dg = mg_pcalloc(cf->pool, sizeof(*dg));
    dg->servers = mg_pcalloc(cf->pool, n * sizeof(dyn_server_t *));
    mg_upstream_zone_lock(g);
    for (size_t i = 0; i < dmcf->servers.nelts; i++) {
        if (ds[i].g != g) {
            continue;
        }
        dg->servers[dg->n++] = &ds[i];
        if (slot_rec(&ds[i], 0) == NULL) {
            mg_upstream_zone_unlock(g);
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "could not allocate memory in upstream zone \"%.*s\"",
                         (int)g->zone_name.len, g->zone_name.data);
            return MG_ERROR;
        }
    }
    mg_upstream_zone_unlock(g);
    g->dyn = dg;
    return MG_OK;
}

/* At the end of http{}, once the group's zone is set up: the group of each "resolve" server has
 * a zone, and there is a resolver. */
mg_int_t mg_upstream_dynamic_init(mg_conf_t *cf, mg_upstream_group_t *g)
{
    dyn_main_conf_t *dmcf = mg_http_conf_get_main(cf, mg_upstream_dynamic_module);
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    group_resolver_t *gr = group_resolver(dmcf, g, 0);
    mg_resolver_t *res = clcf->resolver == MG_CONF_UNSET_PTR ? NULL : clcf->resolver;
    mg_msec_t timeout = clcf->resolver_timeout == MG_CONF_UNSET ? 30000 : clcf->resolver_timeout;
    if (gr && gr->resolver) {
        res = gr->resolver;
    }
    if (gr && gr->timeout != MG_CONF_UNSET) {
        timeout = gr->timeout;
    }
    dyn_server_t *ds = dmcf->servers.elts;
    for (size_t i = 0; i < dmcf->servers.nelts; i++) {
        if (ds[i].g != g) {
            continue;
        }
        if (g->zone_name.len == 0) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "resolving names at run time requires upstream \"%.*s\" in %s:%lu to be "
                         "in shared memory",
                         (int)g->name.len, g->name.data, g->file, (unsigned long)g->line);
            return MG_ERROR;
        }
        if (res == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "no resolver defined to resolve %s in %s:%lu",
                         ds[i].host.data, ds[i].file, (unsigned long)ds[i].line);
            return MG_ERROR;
        }
        ds[i].resolver = res;
        ds[i].timeout = timeout;
        ds[i].index = i;
    }
    return share(cf, dmcf, g);
}

/* ---- run time, in each worker ---- */

static void arm(dyn_server_t *ds, mg_msec_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(ds->timer, &tv);
}

static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family) {
        return 0;
    }
    if (a->sa_family == AF_INET) {
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                      &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
    }
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static void recount(mg_upstream_group_t *g)
{
    mg_array_t *lists[2] = {&g->peers, &g->backup};
    mg_uint_t tries = 0;
    for (int l = 0; l < 2; l++) {
        mg_upstream_peer_t *p = lists[l]->elts;
        for (size_t i = 0; i < lists[l]->nelts; i++) {
            tries += !p[i].down;
        }
    }
    g->max_tries = tries;
}

/* Slot s takes its record's address, with fresh run-time state and its own zone record. */
static void fill_slot(dyn_server_t *ds, int s, const mg_upstream_addr_rec_t *rec)
{
    mg_upstream_group_t *g = ds->g;
    mg_array_t *list = ds->list ? &g->backup : &g->peers;
    mg_upstream_peer_t *p = (mg_upstream_peer_t *)list->elts + ds->first + s;
    memcpy(&p->sockaddr, &rec->addr, rec->len);
    p->socklen = rec->len;
    if (p->sockaddr.ss_family == AF_INET) {
        ((struct sockaddr_in *)&p->sockaddr)->sin_port = htons(ds->port);
    } else {
        ((struct sockaddr_in6 *)&p->sockaddr)->sin6_port = htons(ds->port);
    }
    char text[128];
    size_t n = mg_sockaddr_text((struct sockaddr *)&p->sockaddr, text, sizeof(text), 1);
    /* the old name may still be in a request's $upstream_addr: it goes with the generation */
    p->name.data = mg_pnalloc(ds->pool, n + 1);
    memcpy(p->name.data, text, n + 1);
    p->name.len = n;
    p->weight = ds->tmpl.weight;
    p->effective_weight = p->weight;
    p->current_weight = 0;
    p->fails = 0;
    p->checked = p->accessed = 0;
    p->down = ds->tmpl.down;
    mg_upstream_zone_peer(g, ds->list, ds->first + (size_t)s, p);
    mg_health_check_peer_set(ds->cycle, g, p);
}

/* Bring the server's slots in line with its records, slot by slot, so every worker has each
 * address in the same slot (and so the same zone record). Under the zone's lock. */
static void sync_server(dyn_server_t *ds)
{
    uint64_t serial = ds->recs[0]->serial;
    if (serial == ds->seen || ds->pool == NULL) {
        return;
    }
    ds->seen = serial;
    mg_upstream_group_t *g = ds->g;
    mg_array_t *list = ds->list ? &g->backup : &g->peers;
    mg_upstream_peer_t *slots = (mg_upstream_peer_t *)list->elts + ds->first;
    uint32_t nslots = ds->recs[0]->nslots;
    for (int s = 0; s < SLOTS; s++) {
        const mg_upstream_addr_rec_t *rec = (uint32_t)s < nslots ? slot_rec(ds, s) : NULL;
        uint32_t len = rec ? rec->len : 0;
        if (len && ds->used[s] &&
            same_addr((const struct sockaddr *)&slots[s].sockaddr,
                      (const struct sockaddr *)&rec->addr)) {
            continue;
        }
        if (len) {
            fill_slot(ds, s, rec);
            ds->used[s] = 1;
        } else if (ds->used[s]) {
            slots[s].down = 1;
            slots[s].weight = 0;
            ds->used[s] = 0;
        }
    }
    recount(g);
}

void mg_upstream_dynamic_sync(mg_upstream_group_t *g)
{
    dyn_group_t *dg = g->dyn;
    for (size_t i = 0; i < dg->n; i++) {
        sync_server(dg->servers[i]);
    }
}

/* The resolving worker: the answer into the records (an address keeps its slot; a new one takes
 * a free slot), the serial moved on when anything changed, and its own slots in line. */
static void publish(dyn_server_t *ds, mg_resolve_t *rs)
{
    char keep[SLOTS], placed[SLOTS];
    memset(keep, 0, sizeof(keep));
    memset(placed, 0, sizeof(placed));
    size_t naddrs = rs->naddrs < SLOTS ? rs->naddrs : SLOTS; /* evdns gives SLOTS at most */
    int changed = 0, full = 0;
    mg_upstream_zone_lock(ds->g);
    mg_upstream_addr_rec_t *first = ds->recs[0];
    uint32_t nslots = first->nslots;
    for (uint32_t s = 0; s < nslots; s++) {
        mg_upstream_addr_rec_t *rec = slot_rec(ds, (int)s);
        for (size_t a = 0; a < naddrs && rec && rec->len && !keep[s]; a++) {
            if (!placed[a] && same_addr((const struct sockaddr *)&rec->addr,
                                        (const struct sockaddr *)&rs->addrs[a])) {
                keep[s] = placed[a] = 1;
            }
        }
        if (rec && rec->len && !keep[s]) {
            rec->len = 0;
            changed = 1;
        }
    }
    uint32_t s = 0;
    for (size_t a = 0; a < naddrs; a++) {
        if (placed[a] || rs->lens[a] > sizeof(first->addr)) {
            continue;
        }
        while (s < nslots && (keep[s] || slot_rec(ds, (int)s) == NULL)) {
            s++;
        }
        if (s == nslots) {
            if (slot_rec(ds, (int)s) == NULL) { /* no more addresses than slots: s < SLOTS */
                full = 1;
                break;
            }
            first->nslots = ++nslots;
        }
        mg_upstream_addr_rec_t *rec = ds->recs[s];
        memcpy(&rec->addr, &rs->addrs[a], rs->lens[a]);
        rec->len = rs->lens[a];
        keep[s] = 1;
        changed = 1;
    }
    if (changed) {
        first->serial++;
    }
    sync_server(ds);
    mg_upstream_zone_unlock(ds->g);
    if (full) {
        mg_log_error(MG_LOG_ALERT, ds->srv->log, 0,
                     "could not allocate memory in upstream zone \"%.*s\" for the addresses of %s",
                     (int)ds->g->zone_name.len, ds->g->zone_name.data, ds->host.data);
    }
}

static void start(dyn_server_t *ds);

static void on_resolved(mg_resolve_t *rs)
{
    dyn_server_t *ds = rs->data;
    ds->rs = NULL;
    mg_time_update();
    if (rs->state) {
        mg_log_error(MG_LOG_ERR, ds->srv->log, 0, "%s could not be resolved (%d: %s)",
                     ds->host.data, rs->state, mg_resolve_strerror(rs->state));
        arm(ds, ds->resolver->valid ? ds->resolver->valid : RETRY_MS);
        return;
    }
    publish(ds, rs);
    arm(ds, rs->expire_in > 0 ? rs->expire_in : 1000);
}

static void start(dyn_server_t *ds)
{
    ds->rs = mg_resolve_name(ds->srv, ds->resolver, ds->host, ds->timeout, on_resolved, ds);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dyn_server_t *ds = arg;
    if (ds->srv->quitting) {
        return; /* a quitting worker asks no more */
    }
    /* the loop's clock is as old as the last event: read as is, the answer would look fresh and
     * the name be asked only every other TTL */
    mg_time_update();
    start(ds);
}

static dyn_main_conf_t *cycle_conf(mg_cycle_t *cycle)
{
    if (cycle->http == NULL) {
        return NULL;
    }
    return cycle->http->main_conf[mg_upstream_dynamic_module.index];
}

/* The worker reads the server's records no more: its slots' address records (not the first,
 * the configuration's) and the records of the addresses its slots took go back */
static void release_slots(dyn_server_t *ds)
{
    mg_upstream_group_t *g = ds->g;
    mg_array_t *list = ds->list ? &g->backup : &g->peers;
    mg_upstream_peer_t *slots = (mg_upstream_peer_t *)list->elts + ds->first;
    mg_upstream_zone_lock(g);
    for (int s = 0; s < SLOTS; s++) {
        if (s > 0 && ds->recs[s]) {
            mg_upstream_zone_release_addr(g, ds->recs[s]);
            ds->recs[s] = NULL;
        }
        mg_upstream_zone_release_peer(g, &slots[s]);
    }
    mg_upstream_zone_unlock(g);
}

static void stop_all(dyn_main_conf_t *dmcf)
{
    dyn_server_t *ds = dmcf->servers.elts;
    for (size_t i = 0; i < dmcf->servers.nelts; i++) {
        mg_resolve_cancel(ds[i].rs);
        ds[i].rs = NULL;
        if (ds[i].timer) {
            event_free(ds[i].timer);
            ds[i].timer = NULL;
        }
        if (ds[i].pool) {
            release_slots(&ds[i]);
            ds[i].pool = NULL; /* and syncs no more */
        }
    }
}

/* the generation goes while its server goes on (a single process's reload) */
static void cycle_gone(void *data)
{
    stop_all(data);
}

static mg_int_t dyn_init_worker(mg_cycle_t *cycle)
{
    dyn_main_conf_t *dmcf = cycle_conf(cycle);
    if (dmcf == NULL || dmcf->servers.nelts == 0 || cycle->server == NULL) {
        return MG_OK;
    }
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    mg_server_t *srv = cycle->server;
    size_t nworkers =
        ccf->master_process && ccf->worker_processes > 0 ? (size_t)ccf->worker_processes : 1;
    dyn_server_t *ds = dmcf->servers.elts;
    for (size_t i = 0; i < dmcf->servers.nelts; i++) {
        ds[i].srv = srv;
        ds[i].pool = cycle->pool;
        ds[i].cycle = cycle;
        mg_upstream_zone_lock(ds[i].g);
        sync_server(&ds[i]); /* what the zone holds already (the last generation's answer) */
        mg_upstream_zone_unlock(ds[i].g);
        if (srv->agent || ds[i].index % nworkers != srv->worker_id) {
            continue; /* another worker resolves this name */
        }
        ds[i].timer = evtimer_new(srv->base, on_timer, &ds[i]);
        if (ds[i].timer == NULL) {
            abort();
        }
        start(&ds[i]);
    }
    mg_pool_cleanup_add(cycle->pool, cycle_gone, dmcf);
    return MG_OK;
}

static void dyn_exit_worker(mg_cycle_t *cycle)
{
    dyn_main_conf_t *dmcf = cycle_conf(cycle);
    if (dmcf) {
        stop_all(dmcf);
    }
}

static const mg_command_t dyn_commands[] = {
    {"resolver", MG_CTX_UPSTREAM, MG_ARGS(1, MG_MANY), dyn_resolver, MG_MAIN_CONF, 0, NULL},
    {"resolver_timeout", MG_CTX_UPSTREAM, MG_ARGS(1, 1), dyn_resolver_timeout, MG_MAIN_CONF, 0,
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t dyn_defaults[] = {
    {"resolver_timeout", "30s"},
    {"resolver", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_upstream_dynamic_module = {
    .name = "upstream_dynamic",
    .commands = dyn_commands,
    .defaults = dyn_defaults,
    .create_main_conf = dyn_create_main_conf,
    .init_worker = dyn_init_worker,
    .exit_worker = dyn_exit_worker,
};
