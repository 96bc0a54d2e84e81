/*
 * limit_req_zone, limit_req, limit_req_dry_run, limit_req_log_level, limit_req_status and
 * $limit_req_status (nginx's ngx_http_limit_req_module): a leaky bucket per key, kept in a
 * shared memory zone (core/shm_table.c) that every worker updates under its lock and a reload
 * keeps when name and size stay. Counted in milli-requests as nginx does: each request adds
 * 1000 to the key's excess, which drains at the zone's rate; above burst the request is
 * rejected, above delay it waits (a timer, the worker goes on) until the excess would have
 * drained to it. Runs in the preaccess phase, once per client request.
 */
#include "http.h"
#include "script.h"
#include "server.h"
#include "shm.h"
#include "shm_table.h"
#include "variables.h"

enum {
    LR_PASSED = 1,
    LR_DELAYED,
    LR_REJECTED,
    LR_DELAYED_DRY_RUN,
    LR_REJECTED_DRY_RUN,
};

static const mg_str_t lr_status_names[] = {
    mg_string("PASSED"),          mg_string("DELAYED"),          mg_string("REJECTED"),
    mg_string("DELAYED_DRY_RUN"), mg_string("REJECTED_DRY_RUN"),
};

/* A key's bucket, in the zone. */
typedef struct {
    mg_msec_t last; /* monotonic ms of the last accounted request */
    int64_t excess; /* milli-requests above the rate */
    uint32_t count; /* requests between lookup and accounting that pin it */
} lr_node_t;

/* A zone, defined by limit_req_zone or only named by limit_req so far. */
typedef struct lr_zone_s {
    mg_str_t name;
    mg_shm_table_t *table; /* NULL until defined */
    mg_http_complex_value_t key;
    int64_t rate; /* milli-requests per second */
    struct lr_zone_s *next;
} lr_zone_t;

typedef struct {
    lr_zone_t *zone;
    int64_t burst; /* milli-requests */
    int64_t delay;
} lr_limit_t;

typedef struct {
    lr_zone_t *zones;
} lr_main_conf_t;

typedef struct {
    mg_array_t *limits; /* lr_limit_t; NULL: none at this level, inherit */
    mg_int_t log_level;
    mg_int_t status;
    int dry_run;
} lr_loc_conf_t;

/* A request being delayed. */
typedef struct {
    mg_request_t *r;
    struct event ev;
} lr_delay_t;

mg_module_t mg_limit_req_module;

#define NODELAY (INT64_MAX / 2000) /* a delay threshold no excess reaches */

static lr_zone_t *zone_get(mg_conf_t *cf, mg_str_t name)
{
    lr_main_conf_t *mc = mg_http_conf_get_main(cf, mg_limit_req_module);
    for (lr_zone_t *z = mc->zones; z; z = z->next) {
        if (z->name.len == name.len && memcmp(z->name.data, name.data, name.len) == 0) {
            return z;
        }
    }
    lr_zone_t *z = mg_pcalloc(cf->pool, sizeof(lr_zone_t));
    z->name = mg_pstr(cf->pool, name.data, name.len);
    z->next = mc->zones;
    mc->zones = z;
    return z;
}

/* The zone NAME for a limit (a reference: nginx's name for an unknown one is its
 * "zero size shared memory zone", said after http{}), NULL after the error when another module
 * owns that name. */
static lr_zone_t *zone_ref(mg_conf_t *cf, mg_str_t name)
{
    mg_shm_zone_t *zone = mg_shm_zone_find(cf->cycle, name);
    if (zone && zone->tag != &mg_limit_req_module) {
        mg_conf_error(cf, 0,
                      "the shared memory zone \"%.*s\" is already declared for a different use",
                      (int)name.len, name.data);
        return NULL;
    }
    return zone_get(cf, name);
}

/* ---- the bucket, under the zone's lock ---- */

/* The bucket after ms at rate (milli-requests per second) and `add` more, as nginx counts it:
 * drained, added to, then never below zero. */
static int64_t drain(int64_t excess, int64_t rate, mg_msec_t ms, int64_t add)
{
    if (ms > 0 && rate > INT64_MAX / ms) {
        return 0; /* drained whatever it held (and rate * ms would overflow) */
    }
    int64_t e = excess - rate * ms / 1000 + add;
    return e < 0 ? 0 : e;
}

/* Milliseconds since last, as nginx reads a clock that went back (another process's cached
 * time may be a little ahead of ours). */
static mg_msec_t since(mg_msec_t now, mg_msec_t last)
{
    mg_msec_t ms = now - last;
    return ms < -60000 ? 1 : ms < 0 ? 0 : ms;
}

/* nginx's LRU upkeep: up to two of the oldest buckets go if idle for a minute and drained;
 * forced (the zone is full), the oldest goes first whatever its state. A pinned bucket stops
 * it (lookups move buckets to the front, so nothing older is free). */
static void expire(lr_zone_t *z, int forced)
{
    mg_msec_t now = mg_now.monotonic;
    for (int n = forced ? 0 : 1; n < 3; n++) {
        lr_node_t *lr = mg_shm_table_oldest(z->table);
        if (lr == NULL || lr->count) {
            return;
        }
        if (n != 0) {
            mg_msec_t ms = now - lr->last;
            ms = ms < 0 ? -ms : ms;
            if (ms < 60000 || drain(lr->excess, z->rate, ms, 0) > 0) {
                return;
            }
        }
        mg_shm_table_remove(z->table, lr);
    }
}

/* The request's bucket for limit l: MG_BUSY (over burst), MG_ERROR (no room), MG_OK
 * (accounted: the last limit) or MG_AGAIN (pinned in *held, accounted later). *excess gets
 * the bucket's excess with this request. */
static mg_int_t lookup(mg_request_t *r, lr_limit_t *l, mg_str_t key, int account, int64_t *excess,
                       lr_node_t **held)
{
    lr_zone_t *z = l->zone;
    mg_msec_t now = mg_now.monotonic;
    uint32_t hash = mg_shm_table_hash(z->table, key.data, key.len);
    lr_node_t *lr = mg_shm_table_find(z->table, key.data, key.len, hash);
    if (lr) {
        mg_shm_table_touch(z->table, lr);
        mg_msec_t ms = since(now, lr->last);
        int64_t e = *excess = drain(lr->excess, z->rate, ms, 1000);
        if (e > l->burst) {
            return MG_BUSY;
        }
        if (account) {
            lr->excess = e;
            if (ms) {
                lr->last = now;
            }
            return MG_OK;
        }
        lr->count++;
        *held = lr;
        return MG_AGAIN;
    }
    *excess = 0;
    expire(z, 0);
    lr = mg_shm_table_insert(z->table, key.data, key.len, hash);
    if (lr == NULL) {
        expire(z, 1);
        lr = mg_shm_table_insert(z->table, key.data, key.len, hash);
        if (lr == NULL) {
            mg_log_error(MG_LOG_ALERT, r->connection->cycle->log, 0,
                         "could not allocate node in limit_req zone \"%s\"", z->name.data);
            return MG_ERROR;
        }
    }
    if (account) {
        lr->last = now;
        return MG_OK;
    }
    lr->count = 1;
    *held = lr;
    return MG_AGAIN;
}

/* The buckets pinned for limits[0..n) take the request now that every limit let it through;
 * returns the longest delay any of them asks (and that limit and its excess), nginx's rule. */
static mg_msec_t account(mg_request_t *r, lr_limit_t *limits, size_t n, lr_node_t **held,
                         uint32_t *epochs, int64_t *excess, lr_limit_t **limit)
{
    mg_msec_t max = 0;
    if (*excess > (*limit)->delay) {
        max = (*excess - (*limit)->delay) * 1000 / (*limit)->zone->rate;
    }
    while (n--) {
        lr_node_t *lr = held[n];
        if (lr == NULL) {
            continue;
        }
        lr_zone_t *z = limits[n].zone;
        mg_shm_table_lock(z->table, &r->connection->log);
        if (mg_shm_table_epoch(z->table) != epochs[n]) {
            mg_shm_table_unlock(z->table); /* emptied after a crash: the bucket is gone */
            continue;
        }
        mg_msec_t now = mg_now.monotonic, ms = since(now, lr->last);
        int64_t e = drain(lr->excess, z->rate, ms, 1000);
        if (ms) {
            lr->last = now;
        }
        lr->excess = e;
        lr->count--;
        mg_shm_table_unlock(z->table);
        if (e <= limits[n].delay) {
            continue;
        }
        mg_msec_t d = (e - limits[n].delay) * 1000 / z->rate;
        if (d > max) {
            max = d;
            *excess = e;
            *limit = &limits[n];
        }
    }
    return max;
}

/* A limit rejected the request: the buckets pinned before it are let go unchanged. */
static void unpin(mg_request_t *r, lr_limit_t *limits, size_t n, lr_node_t **held, uint32_t *epochs)
{
    while (n--) {
        if (held[n] == NULL) {
            continue;
        }
        mg_shm_table_t *t = limits[n].zone->table;
        mg_shm_table_lock(t, &r->connection->log);
        if (mg_shm_table_epoch(t) == epochs[n]) {
            held[n]->count--;
        }
        mg_shm_table_unlock(t);
    }
}

/* ---- the delay ---- */

static void delay_cancel(void *data)
{
    lr_delay_t *d = data;
    evtimer_del(&d->ev);
}

static void delay_aborted(mg_request_t *r);

static const mg_http_abort_t delay_abort = {delay_aborted, NULL, NULL};

static void delay_aborted(mg_request_t *r)
{
    lr_delay_t *d = mg_pool_cleanup_find(r->pool, delay_cancel);
    if (d) {
        evtimer_del(&d->ev);
    }
    mg_http_finalize_request(r, MG_HTTP_CLIENT_CLOSED_REQUEST);
}

static void delay_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    lr_delay_t *d = arg;
    mg_time_update();
    mg_http_unwatch_client(d->r, &delay_abort);
    mg_http_phase_resume(d->r, MG_DECLINED); /* on to the next preaccess handler */
}

static mg_int_t delay(mg_request_t *r, mg_msec_t ms)
{
    lr_delay_t *d = mg_pool_cleanup_find(r->pool, delay_cancel);
    if (d == NULL) {
        d = mg_pcalloc(r->pool, sizeof(lr_delay_t));
        d->r = r;
        evtimer_assign(&d->ev, r->connection->server->base, delay_done, d);
        mg_pool_cleanup_add(r->pool, delay_cancel, d);
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(&d->ev, &tv);
    mg_http_watch_client(r, &delay_abort);
    return MG_AGAIN;
}

/* ---- the phase handler ---- */

static mg_int_t limit_req_handler(mg_request_t *r)
{
    mg_request_t *m = r->main ? r->main : r;
    lr_loc_conf_t *lc = mg_http_get_loc_conf(r, mg_limit_req_module);
    if (m->limit_req_status || lc->limits == NULL) {
        return MG_DECLINED;
    }
    lr_limit_t *limits = lc->limits->elts;
    size_t nlimits = lc->limits->nelts, n;
    lr_node_t *held[nlimits];
    uint32_t epochs[nlimits];
    int64_t excess = 0;
    mg_int_t rc = MG_DECLINED;
    lr_limit_t *limit = NULL;
    for (n = 0; n < nlimits; n++) {
        limit = &limits[n];
        held[n] = NULL;
        mg_str_t key = mg_http_complex_value(r, &limit->zone->key);
        if (key.len == 0) {
            continue;
        }
        if (key.len > 65535) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                         "the value of the \"%.*s\" key is more than 65535 bytes: \"%.*s\"",
                         (int)limit->zone->key.value.len, limit->zone->key.value.data, (int)key.len,
                         key.data);
            continue;
        }
        mg_shm_table_t *t = limit->zone->table;
        mg_shm_table_lock(t, &r->connection->log);
        epochs[n] = mg_shm_table_epoch(t);
        rc = lookup(r, limit, key, n == nlimits - 1, &excess, &held[n]);
        mg_shm_table_unlock(t);
        if (rc != MG_AGAIN) {
            break;
        }
    }
    if (rc == MG_DECLINED) {
        return MG_DECLINED;
    }
    if (rc == MG_BUSY || rc == MG_ERROR) {
        if (rc == MG_BUSY) {
            mg_log_error((int)lc->log_level, &r->connection->log, 0,
                         "limiting requests%s, excess: %lld.%03lld by zone \"%s\"",
                         lc->dry_run ? ", dry run" : "", (long long)(excess / 1000),
                         (long long)(excess % 1000), limit->zone->name.data);
        }
        unpin(r, limits, n, held, epochs);
        if (lc->dry_run) {
            m->limit_req_status = LR_REJECTED_DRY_RUN;
            return MG_DECLINED;
        }
        m->limit_req_status = LR_REJECTED;
        return lc->status;
    }
    if (rc == MG_AGAIN) {
        excess = 0; /* the last limit had no key: only the pinned buckets count */
    }
    mg_msec_t ms = account(r, limits, n, held, epochs, &excess, &limit);
    if (ms == 0) {
        m->limit_req_status = LR_PASSED;
        return MG_DECLINED;
    }
    /* the delay is told one level below the rejections, as nginx does */
    int level = lc->log_level == MG_LOG_INFO ? MG_LOG_INFO : (int)lc->log_level + 1;
    mg_log_error(level, &r->connection->log, 0,
                 "delaying request%s, excess: %lld.%03lld, by zone \"%s\"",
                 lc->dry_run ? ", dry run" : "", (long long)(excess / 1000),
                 (long long)(excess % 1000), limit->zone->name.data);
    if (lc->dry_run) {
        m->limit_req_status = LR_DELAYED_DRY_RUN;
        return MG_DECLINED;
    }
    m->limit_req_status = LR_DELAYED;
    return delay(r, ms);
}

static mg_int_t var_limit_req_status(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_request_t *m = r->main ? r->main : r;
    if (m->limit_req_status == 0) {
        v->not_found = 1;
        return MG_OK;
    }
    v->value = lr_status_names[m->limit_req_status - 1];
    v->valid = 1;
    v->not_found = 0;
    v->no_cacheable = 0;
    return MG_OK;
}

/* ---- configuration ---- */

/* limit_req_zone KEY zone=NAME:SIZE rate=RATE */
static const char *limit_req_zone(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)conf;
    mg_http_complex_value_t key;
    if (mg_http_compile_complex_value(cf, cf->args[1], &key) != MG_OK) {
        return MG_CONF_ERROR;
    }
    mg_str_t name = mg_null_string;
    size_t size = 0;
    int64_t rate = 1, scale = 1;
    for (size_t i = 2; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        if (a.len >= 5 && memcmp(a.data, "zone=", 5) == 0) {
            if (mg_shm_table_zone_arg(cf, a, &name, &size) != MG_OK) {
                return MG_CONF_ERROR;
            }
            continue;
        }
        if (a.len >= 5 && memcmp(a.data, "rate=", 5) == 0) {
            size_t len = a.len - 5;
            scale = 1;
            if (len >= 3 && memcmp(a.data + a.len - 3, "r/s", 3) == 0) {
                len -= 3;
            } else if (len >= 3 && memcmp(a.data + a.len - 3, "r/m", 3) == 0) {
                scale = 60;
                len -= 3;
            }
            rate = mg_atoi(a.data + 5, len);
            if (rate <= 0 || rate > INT32_MAX) {
                mg_conf_error(cf, 0, "invalid rate \"%s\"", a.data);
                return MG_CONF_ERROR;
            }
            continue;
        }
        mg_conf_error(cf, 0, "invalid parameter \"%s\"", a.data);
        return MG_CONF_ERROR;
    }
    if (name.len == 0) {
        mg_conf_error(cf, 0, "\"%s\" must have \"zone\" parameter", cmd->name);
        return MG_CONF_ERROR;
    }
    lr_zone_t *z = zone_get(cf, name);
    if (z->table) {
        mg_shm_zone_t *zone = mg_shm_zone_add(cf, name, size, &mg_limit_req_module);
        if (zone == NULL) {
            return MG_CONF_ERROR; /* the size conflicts */
        }
        mg_conf_error(cf, 0, "%s \"%s\" is already bound to key \"%.*s\"", cmd->name, z->name.data,
                      (int)z->key.value.len, z->key.value.data);
        return MG_CONF_ERROR;
    }
    mg_shm_zone_t *zone = mg_shm_zone_add(cf, name, size, &mg_limit_req_module);
    if (zone == NULL) {
        return MG_CONF_ERROR;
    }
    char what[300];
    snprintf(what, sizeof(what), "limit_req zone \"%.*s\"", (int)mg_min(name.len, 256), name.data);
    z->table = mg_shm_table_attach(zone->addr, zone->size, sizeof(lr_node_t), what, key.value);
    if (z->table == NULL) {
        mg_conf_error(cf, 0, "zone \"%s\" is too small", z->name.data);
        return MG_CONF_ERROR;
    }
    mg_str_t was = mg_shm_table_ident(z->table);
    if (!mg_str_eq_str(was, key.value)) {
        /* a zone kept over the reload: its buckets are another key's */
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "limit_req \"%s\" uses the \"%.*s\" key while previously it used the "
                     "\"%.*s\" key",
                     z->name.data, (int)key.value.len, key.value.data, (int)was.len, was.data);
        return MG_CONF_ERROR;
    }
    /* a HUP that resizes the zone: the clients' state moves over (nginx starts it empty) */
    mg_shm_zone_t *prev = mg_shm_zone_previous(cf, name, &mg_limit_req_module);
    if (prev && prev != zone && prev->size != zone->size) {
        size_t n = mg_shm_table_copy(z->table, prev->addr, cf->log);
        mg_log_error(MG_LOG_NOTICE, cf->log, 0,
                     "%s: %zu entries copied into the zone of the new size", what, n);
    }
    z->key = key;
    z->rate = rate * 1000 / scale;
    return MG_CONF_OK;
}

/* limit_req zone=NAME [burst=N] [nodelay | delay=N] */
static const char *limit_req(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    lr_loc_conf_t *lc = conf;
    lr_zone_t *z = NULL;
    int64_t burst = 0, delay = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        if (a.len >= 5 && memcmp(a.data, "zone=", 5) == 0) {
            mg_str_t name = {a.len - 5, a.data + 5};
            z = zone_ref(cf, name);
            if (z == NULL) {
                return MG_CONF_ERROR;
            }
            continue;
        }
        if (a.len >= 6 && memcmp(a.data, "burst=", 6) == 0) {
            burst = mg_atoi(a.data + 6, a.len - 6);
            if (burst <= 0 || burst > INT32_MAX) {
                mg_conf_error(cf, 0, "invalid burst value \"%s\"", a.data);
                return MG_CONF_ERROR;
            }
            continue;
        }
        if (a.len >= 6 && memcmp(a.data, "delay=", 6) == 0) {
            delay = mg_atoi(a.data + 6, a.len - 6);
            if (delay <= 0 || delay > INT32_MAX) {
                mg_conf_error(cf, 0, "invalid delay value \"%s\"", a.data);
                return MG_CONF_ERROR;
            }
            continue;
        }
        if (mg_str_eq(a, "nodelay")) {
            delay = NODELAY;
            continue;
        }
        mg_conf_error(cf, 0, "invalid parameter \"%s\"", a.data);
        return MG_CONF_ERROR;
    }
    if (z == NULL) {
        mg_conf_error(cf, 0, "\"%s\" must have \"zone\" parameter", cmd->name);
        return MG_CONF_ERROR;
    }
    if (lc->limits == NULL) {
        lc->limits = mg_array_create(cf->pool, 2, sizeof(lr_limit_t));
    }
    lr_limit_t *limits = lc->limits->elts;
    for (size_t i = 0; i < lc->limits->nelts; i++) {
        if (limits[i].zone == z) {
            return "is duplicate";
        }
    }
    lr_limit_t *l = mg_array_push(lc->limits);
    l->zone = z;
    l->burst = burst * 1000;
    l->delay = delay * 1000;
    return MG_CONF_OK;
}

static void *lr_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(lr_main_conf_t));
}

static const char *lr_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    mg_str_t name = mg_string("limit_req_status");
    mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return MG_CONF_ERROR;
    }
    v->get_handler = var_limit_req_status;
    return MG_CONF_OK;
}

static void *lr_create_loc_conf(mg_conf_t *cf)
{
    lr_loc_conf_t *lc = mg_pcalloc(cf->pool, sizeof(lr_loc_conf_t));
    lc->log_level = MG_CONF_UNSET;
    lc->status = MG_CONF_UNSET;
    lc->dry_run = MG_CONF_UNSET;
    return lc;
}

/* A level with limit_req directives of its own replaces its parent's. */
static const char *lr_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    lr_loc_conf_t *prev = parent, *lc = child;
    if (lc->limits == NULL) {
        lc->limits = prev->limits;
    }
    mg_conf_merge(lc->log_level, prev->log_level, MG_LOG_ERR);
    mg_conf_merge(lc->status, prev->status, MG_HTTP_SERVICE_UNAVAILABLE);
    mg_conf_merge(lc->dry_run, prev->dry_run, 0);
    return MG_CONF_OK;
}

/* After http{}: every zone named by limit_req must have been defined (nginx's words for a
 * shared zone that was only referenced). */
static mg_int_t lr_init(mg_conf_t *cf)
{
    lr_main_conf_t *mc = mg_http_conf_get_main(cf, mg_limit_req_module);
    for (lr_zone_t *z = mc->zones; z; z = z->next) {
        if (z->table == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "zero size shared memory zone \"%s\"",
                         z->name.data);
            return MG_ERROR;
        }
    }
    if (mc->zones) {
        mg_http_add_phase_handler(cf, MG_HTTP_PREACCESS_PHASE, limit_req_handler);
    }
    return MG_OK;
}

static const mg_command_t limit_req_commands[] = {
    {"limit_req_zone", MG_CTX_HTTP, MG_ARGS(3, 3), limit_req_zone, MG_MAIN_CONF, 0, NULL},
    {"limit_req", MG_HTTP_ANY_LOC, MG_ARGS(1, 3), limit_req, MG_LOC_CONF, 0, NULL},
    {"limit_req_log_level", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_enum, MG_LOC_CONF,
     offsetof(lr_loc_conf_t, log_level), mg_conf_log_levels},
    {"limit_req_status", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_error_status, MG_LOC_CONF,
     offsetof(lr_loc_conf_t, status), NULL},
    {"limit_req_dry_run", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(lr_loc_conf_t, dry_run), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t limit_req_defaults[] = {
    {"limit_req_status", "503"},
    {"limit_req_zone", MG_NO_DEFAULT},
    {"limit_req", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_limit_req_module = {
    .name = "limit_req",
    .commands = limit_req_commands,
    .defaults = limit_req_defaults,
    .create_main_conf = lr_create_main_conf,
    .init_main_conf = lr_init_main_conf,
    .create_loc_conf = lr_create_loc_conf,
    .merge_loc_conf = lr_merge_loc_conf,
    .init = lr_init,
};
