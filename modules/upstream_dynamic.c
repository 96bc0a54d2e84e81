/*
 * "server NAME resolve" in upstream{} (nginx 1.27.3+): the name is not resolved at load but by
 * each worker through the http{} resolver, again when the answer expires (valid= or its TTL;
 * 5 s after a failure, which keeps the addresses it had), and its addresses become peers or
 * stop being peers without a reload. The group needs a zone, so the peers' state is shared.
 * `resolver` and `resolver_timeout` inside the upstream{} block (nginx 1.27.3+) take
 * precedence over http{}'s for its servers.
 *
 * Each such server owns a range of SLOTS peer slots in its list, reserved at load (down, weight
 * 0, so every balancer skips them; a name with more addresses uses SLOTS of them, with a warning):
 * peers are never moved while requests point at them, and the tried bitmaps keep their size. An
 * address that goes away marks its slot down; a new one takes a free slot and its zone record. hash
 * ... consistent's ring is made of the servers' names and weights, so it holds a resolved server's
 * points from the start (ring_weight) and needs no rebuilding: the addresses of a name share its
 * points.
 */
#include <arpa/inet.h>

#include "resolver.h"
#include "server.h"
#include "upstream.h"

#define SLOTS 16
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
    /* per worker */
    mg_server_t *srv;
    mg_pool_t *pool; /* the generation's: address texts live as long as requests can read them */
    struct event *timer;
    mg_resolve_t *rs;
} dyn_server_t;

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

/* At the end of http{}: the group of each "resolve" server has a zone, and there is a resolver. */
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
    }
    return MG_OK;
}

/* ---- run time, in each worker ---- */

static void arm(dyn_server_t *ds, mg_msec_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(ds->timer, &tv);
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family) {
        return 0;
    }
    if (a->ss_family == AF_INET) {
        return memcmp(&((struct sockaddr_in *)a)->sin_addr, &((struct sockaddr_in *)b)->sin_addr,
                      4) == 0;
    }
    return memcmp(&((struct sockaddr_in6 *)a)->sin6_addr, &((struct sockaddr_in6 *)b)->sin6_addr,
                  16) == 0;
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

static void update(dyn_server_t *ds, mg_resolve_t *rs)
{
    mg_upstream_group_t *g = ds->g;
    mg_array_t *list = ds->list ? &g->backup : &g->peers;
    mg_upstream_peer_t *slots = (mg_upstream_peer_t *)list->elts + ds->first;
    char keep[SLOTS];
    memset(keep, 0, sizeof(keep));
    size_t unused = 0;
    for (size_t a = 0; a < rs->naddrs; a++) {
        int found = 0;
        for (int s = 0; s < SLOTS && !found; s++) {
            if (slots[s].name.len && !slots[s].down &&
                same_addr(&slots[s].sockaddr, &rs->addrs[a])) {
                keep[s] = found = 1;
            }
        }
        for (int s = 0; s < SLOTS && !found; s++) {
            if (!slots[s].down || keep[s]) {
                continue;
            }
            mg_upstream_peer_t *p = &slots[s];
            memcpy(&p->sockaddr, &rs->addrs[a], rs->lens[a]);
            p->socklen = rs->lens[a];
            if (p->sockaddr.ss_family == AF_INET) {
                ((struct sockaddr_in *)&p->sockaddr)->sin_port = htons(ds->port);
            } else {
                ((struct sockaddr_in6 *)&p->sockaddr)->sin6_port = htons(ds->port);
            }
            char text[128];
            size_t n = mg_sockaddr_text((struct sockaddr *)&p->sockaddr, text, sizeof(text), 1);
            /* the old name may still be in a request's $upstream_addr: it goes with the
             * generation */
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
            keep[s] = found = 1;
        }
        unused += !found;
    }
    if (unused) {
        mg_log_error(MG_LOG_WARN, ds->srv->log, 0, "%s has %zu addresses, only %d are used",
                     ds->host.data, rs->naddrs, SLOTS);
    }
    for (int s = 0; s < SLOTS; s++) {
        if (!keep[s] && slots[s].name.len && !slots[s].down) {
            slots[s].down = 1;
            slots[s].weight = 0;
        }
    }
    recount(g);
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
    update(ds, rs);
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
    start(ds);
}

static dyn_main_conf_t *cycle_conf(mg_cycle_t *cycle)
{
    if (cycle->http == NULL) {
        return NULL;
    }
    return cycle->http->main_conf[mg_upstream_dynamic_module.index];
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
    dyn_server_t *ds = dmcf->servers.elts;
    for (size_t i = 0; i < dmcf->servers.nelts; i++) {
        ds[i].srv = cycle->server;
        ds[i].pool = cycle->pool;
        ds[i].timer = evtimer_new(cycle->server->base, on_timer, &ds[i]);
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
