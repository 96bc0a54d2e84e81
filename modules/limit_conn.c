/*
 * limit_conn_zone, limit_conn, limit_conn_dry_run, limit_conn_log_level, limit_conn_status
 * and $limit_conn_status (nginx's ngx_http_limit_conn_module): the requests in progress per
 * key, counted in a shared memory zone (core/shm_table.c) by every worker. A request is
 * counted in the preaccess phase, once per client request, and uncounted when its pool goes
 * (its end, however it ends: a client that went away included); a key whose count drops to
 * zero leaves the zone. In stream{} (ngx_stream_limit_conn_module) the same directives count
 * sessions, in the preaccess phase; a rejected session ends with 503.
 */
#include "http.h"
#include "script.h"
#include "shm.h"
#include "shm_table.h"
#include "stream.h"
#include "variables.h"

enum {
    LC_PASSED = 1,
    LC_REJECTED,
    LC_REJECTED_DRY_RUN,
};

static const mg_str_t lc_status_names[] = {
    mg_string("PASSED"),
    mg_string("REJECTED"),
    mg_string("REJECTED_DRY_RUN"),
};

typedef struct {
    uint32_t conn;
} lc_node_t;

typedef struct lc_zone_s {
    mg_str_t name;
    mg_shm_table_t *table; /* NULL until defined */
    /* after a HUP (or USR2) that resized the zone: the previous zone's table, where the old
     * generation's requests are counted (and given back) until they end; they count here too */
    mg_shm_table_t *prev;
    mg_http_complex_value_t key;
    mg_stream_complex_t stream_key; /* a stream{} zone's */
    mg_str_t key_text;
    struct lc_zone_s *next;
} lc_zone_t;

typedef struct {
    lc_zone_t *zone;
    uint32_t conn;
} lc_limit_t;

typedef struct {
    lc_zone_t *zones;
} lc_main_conf_t;

typedef struct {
    mg_array_t *limits; /* lc_limit_t; NULL: none at this level, inherit */
    mg_int_t log_level;
    mg_int_t status;
    int dry_run;
} lc_loc_conf_t;

/* What a request holds, given back by its pool's cleanup. */
typedef struct {
    mg_log_t *log;
    size_t n;
    struct {
        mg_shm_table_t *table;
        lc_node_t *node;
        uint32_t epoch;
    } held[];
} lc_held_t;

mg_module_t mg_limit_conn_module;

static lc_zone_t *zone_get(mg_conf_t *cf, mg_str_t name)
{
    lc_main_conf_t *mc = mg_http_conf_get_main(cf, mg_limit_conn_module);
    for (lc_zone_t *z = mc->zones; z; z = z->next) {
        if (z->name.len == name.len && memcmp(z->name.data, name.data, name.len) == 0) {
            return z;
        }
    }
    lc_zone_t *z = mg_pcalloc(cf->pool, sizeof(lc_zone_t));
    z->name = mg_pstr(cf->pool, name.data, name.len);
    z->next = mc->zones;
    mc->zones = z;
    return z;
}

/* The zone NAME for a limit (a reference: nginx's name for an unknown one is its
 * "zero size shared memory zone", said after http{}), NULL after the error when another module
 * owns that name. */
static lc_zone_t *zone_ref(mg_conf_t *cf, mg_str_t name)
{
    mg_shm_zone_t *zone = mg_shm_zone_find(cf->cycle, name);
    if (zone && zone->tag != &mg_limit_conn_module) {
        mg_conf_error(cf, 0,
                      "the shared memory zone \"%.*s\" is already declared for a different use",
                      (int)name.len, name.data);
        return NULL;
    }
    return zone_get(cf, name);
}

static void release(lc_held_t *h)
{
    while (h->n) {
        h->n--;
        mg_shm_table_t *t = h->held[h->n].table;
        lc_node_t *lc = h->held[h->n].node;
        mg_shm_table_lock(t, h->log);
        if (mg_shm_table_epoch(t) == h->held[h->n].epoch && --lc->conn == 0) {
            mg_shm_table_remove(t, lc);
        }
        mg_shm_table_unlock(t);
    }
}

static void held_cleanup(void *data)
{
    release(data);
}

/* The requests of key the previous generation still serves, in the zone before a resize. */
static uint32_t prev_count(lc_zone_t *z, mg_str_t key, mg_log_t *log)
{
    uint32_t hash = mg_shm_table_hash(z->prev, key.data, key.len);
    mg_shm_table_lock(z->prev, log);
    lc_node_t *lc = mg_shm_table_find(z->prev, key.data, key.len, hash);
    uint32_t n = lc ? lc->conn : 0;
    mg_shm_table_unlock(z->prev);
    return n;
}

/* Count a client of the limits of its level, with the key each zone gives: LC_PASSED (or 0 when
 * no key applied), LC_REJECTED or LC_REJECTED_DRY_RUN. What it took stays held until the pool
 * goes. Both layers' handlers run it. */
static int count(lc_loc_conf_t *lcf, mg_str_t (*key_of)(lc_zone_t *z, void *data), void *data,
                 mg_pool_t *pool, mg_log_t *log, mg_log_t *cycle_log)
{
    lc_limit_t *limits = lcf->limits->elts;
    lc_held_t *h = NULL;
    int status = 0;
    for (size_t i = 0; i < lcf->limits->nelts; i++) {
        lc_zone_t *z = limits[i].zone;
        mg_str_t key = key_of(z, data);
        if (key.len == 0) {
            continue;
        }
        if (key.len > 255) {
            mg_log_error(MG_LOG_ERR, log, 0,
                         "the value of the \"%.*s\" key is more than 255 bytes: \"%.*s\"",
                         (int)z->key_text.len, z->key_text.data, (int)key.len, key.data);
            continue;
        }
        status = LC_PASSED;
        uint32_t before = z->prev ? prev_count(z, key, log) : 0;
        uint32_t hash = mg_shm_table_hash(z->table, key.data, key.len);
        mg_shm_table_lock(z->table, log);
        lc_node_t *lc = mg_shm_table_find(z->table, key.data, key.len, hash);
        int full = 0;
        if ((lc ? lc->conn : 0) + before >= limits[i].conn) {
            mg_shm_table_unlock(z->table);
            mg_log_error((int)lcf->log_level, log, 0, "limiting connections%s by zone \"%s\"",
                         lcf->dry_run ? ", dry run," : "", z->name.data);
            goto rejected;
        }
        if (lc == NULL) {
            lc = mg_shm_table_insert(z->table, key.data, key.len, hash);
            full = lc == NULL;
        }
        if (full) {
            mg_shm_table_unlock(z->table);
            /* nginx's allocator's line, which is what an nginx user watches for */
            mg_log_error(MG_LOG_CRIT, cycle_log, 0,
                         "ngx_slab_alloc() failed: no memory in limit_conn_zone \"%s\"",
                         z->name.data);
            goto rejected;
        }
        lc->conn++;
        uint32_t epoch = mg_shm_table_epoch(z->table);
        mg_shm_table_unlock(z->table);
        if (h == NULL) {
            h = mg_pcalloc(pool, sizeof(lc_held_t) + lcf->limits->nelts * sizeof(h->held[0]));
            h->log = log;
            mg_pool_cleanup_add(pool, held_cleanup, h);
        }
        h->held[h->n].table = z->table;
        h->held[h->n].node = lc;
        h->held[h->n].epoch = epoch;
        h->n++;
    }
    return status;

rejected:
    if (h) {
        release(h); /* what this client took from the limits before */
    }
    return lcf->dry_run ? LC_REJECTED_DRY_RUN : LC_REJECTED;
}

static mg_str_t http_key(lc_zone_t *z, void *r)
{
    return mg_http_complex_value(r, &z->key);
}

static mg_int_t limit_conn_handler(mg_request_t *r)
{
    mg_request_t *m = r->main ? r->main : r;
    lc_loc_conf_t *lcf = mg_http_get_loc_conf(r, mg_limit_conn_module);
    if (m->limit_conn_status || lcf->limits == NULL) {
        return MG_DECLINED;
    }
    int status = count(lcf, http_key, r, r->pool, &r->connection->log, r->connection->cycle->log);
    m->limit_conn_status = status;
    return status == LC_REJECTED ? lcf->status : MG_DECLINED;
}

static mg_str_t stream_key(lc_zone_t *z, void *s)
{
    return mg_stream_complex_value(s, &z->stream_key);
}

static mg_int_t stream_limit_conn_handler(mg_stream_session_t *s)
{
    lc_loc_conf_t *lcf = mg_stream_get_srv_conf(s, mg_limit_conn_module);
    if (lcf->limits == NULL) {
        return MG_DECLINED;
    }
    mg_connection_t *c = s->connection;
    int status = count(lcf, stream_key, s, s->pool, &c->log, c->cycle->log);
    return status == LC_REJECTED ? 503 : MG_DECLINED;
}

static mg_int_t var_limit_conn_status(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_request_t *m = r->main ? r->main : r;
    if (m->limit_conn_status == 0) {
        v->not_found = 1;
        return MG_OK;
    }
    v->value = lc_status_names[m->limit_conn_status - 1];
    v->valid = 1;
    v->not_found = 0;
    v->no_cacheable = 0;
    return MG_OK;
}

/* ---- configuration ---- */

/* limit_conn_zone KEY zone=NAME:SIZE */
static const char *limit_conn_zone(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)conf;
    mg_http_complex_value_t key;
    mg_stream_complex_t skey;
    int stream = (cf->ctx & MG_CTX_STREAM) != 0;
    if (stream ? mg_stream_complex_compile(cf, cf->args[1], &skey) != MG_CONF_OK
               : mg_http_compile_complex_value(cf, cf->args[1], &key) != MG_OK) {
        return MG_CONF_ERROR;
    }
    mg_str_t key_text = cf->args[1];
    mg_str_t name = mg_null_string, a = cf->args[2];
    size_t size = 0;
    if (a.len < 5 || memcmp(a.data, "zone=", 5) != 0) {
        mg_conf_error(cf, 0, "invalid parameter \"%s\"", a.data);
        return MG_CONF_ERROR;
    }
    if (mg_shm_table_zone_arg(cf, a, &name, &size) != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (name.len == 0) {
        mg_conf_error(cf, 0, "\"%s\" must have \"zone\" parameter", cmd->name);
        return MG_CONF_ERROR;
    }
    mg_shm_zone_t *zone = mg_shm_zone_add(cf, name, size, &mg_limit_conn_module);
    if (zone == NULL) {
        return MG_CONF_ERROR;
    }
    lc_zone_t *z = zone_get(cf, name);
    if (z->table) {
        mg_conf_error(cf, 0, "%s \"%s\" is already bound to key \"%.*s\"", cmd->name, z->name.data,
                      (int)z->key_text.len, z->key_text.data);
        return MG_CONF_ERROR;
    }
    char what[300];
    snprintf(what, sizeof(what), "limit_conn_zone \"%.*s\"", (int)mg_min(name.len, 256), name.data);
    z->table = mg_shm_table_attach(zone->addr, zone->size, sizeof(lc_node_t), what, key_text);
    if (z->table == NULL) {
        mg_conf_error(cf, 0, "zone \"%s\" is too small", z->name.data);
        return MG_CONF_ERROR;
    }
    mg_str_t was = mg_shm_table_ident(z->table);
    if (!mg_str_eq_str(was, key_text)) {
        /* a zone kept over the reload: its counts are another key's */
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "limit_conn_zone \"%s\" uses the \"%.*s\" key while previously it used "
                     "the \"%.*s\" key",
                     z->name.data, (int)key_text.len, key_text.data, (int)was.len, was.data);
        return MG_CONF_ERROR;
    }
    /* a HUP that resizes the zone: the old generation's requests still count (nginx starts the
     * resized zone empty). They are given back in the old zone, so it is read, not copied */
    mg_shm_zone_t *prev = mg_shm_zone_previous(cf, name, &mg_limit_conn_module);
    if (prev && prev != zone && prev->size != zone->size) {
        mg_shm_table_t *t =
            mg_shm_table_attach(prev->addr, prev->size, sizeof(lc_node_t), what, key_text);
        if (t && mg_str_eq_str(mg_shm_table_ident(t), key_text)) {
            mg_shm_zone_keep(cf, prev);
            z->prev = t;
        }
    }
    if (stream) {
        z->stream_key = skey;
    } else {
        z->key = key;
    }
    z->key_text = mg_pstr(cf->pool, key_text.data, key_text.len);
    return MG_CONF_OK;
}

/* limit_conn ZONE NUMBER */
static const char *limit_conn(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    lc_loc_conf_t *lcf = conf;
    lc_zone_t *z = zone_ref(cf, cf->args[1]);
    if (z == NULL) {
        return MG_CONF_ERROR;
    }
    int64_t n = mg_atoi(cf->args[2].data, cf->args[2].len);
    if (n <= 0) {
        mg_conf_error(cf, 0, "invalid number of connections \"%s\"", cf->args[2].data);
        return MG_CONF_ERROR;
    }
    if (n > 65535) {
        mg_conf_error(cf, 0, "connection limit must be less 65536");
        return MG_CONF_ERROR;
    }
    if (lcf->limits == NULL) {
        lcf->limits = mg_array_create(cf->pool, 2, sizeof(lc_limit_t));
    }
    lc_limit_t *limits = lcf->limits->elts;
    for (size_t i = 0; i < lcf->limits->nelts; i++) {
        if (limits[i].zone == z) {
            return "is duplicate";
        }
    }
    lc_limit_t *l = mg_array_push(lcf->limits);
    l->zone = z;
    l->conn = (uint32_t)n;
    return MG_CONF_OK;
}

static void *lc_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(lc_main_conf_t));
}

static const char *lc_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    mg_str_t name = mg_string("limit_conn_status");
    mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return MG_CONF_ERROR;
    }
    v->get_handler = var_limit_conn_status;
    return MG_CONF_OK;
}

static void *lc_create_loc_conf(mg_conf_t *cf)
{
    lc_loc_conf_t *lcf = mg_pcalloc(cf->pool, sizeof(lc_loc_conf_t));
    lcf->log_level = MG_CONF_UNSET;
    lcf->status = MG_CONF_UNSET;
    lcf->dry_run = MG_CONF_UNSET;
    return lcf;
}

/* A level with limit_conn directives of its own replaces its parent's. */
static const char *lc_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    lc_loc_conf_t *prev = parent, *lcf = child;
    if (lcf->limits == NULL) {
        lcf->limits = prev->limits;
    }
    mg_conf_merge(lcf->log_level, prev->log_level, MG_LOG_ERR);
    mg_conf_merge(lcf->status, prev->status, MG_HTTP_SERVICE_UNAVAILABLE);
    mg_conf_merge(lcf->dry_run, prev->dry_run, 0);
    return MG_CONF_OK;
}

static mg_int_t lc_init(mg_conf_t *cf)
{
    lc_main_conf_t *mc = mg_http_conf_get_main(cf, mg_limit_conn_module);
    for (lc_zone_t *z = mc->zones; z; z = z->next) {
        if (z->table == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "zero size shared memory zone \"%s\"",
                         z->name.data);
            return MG_ERROR;
        }
    }
    if (mc->zones) {
        mg_http_add_phase_handler(cf, MG_HTTP_PREACCESS_PHASE, limit_conn_handler);
    }
    return MG_OK;
}

static mg_int_t lc_stream_init(mg_conf_t *cf)
{
    lc_main_conf_t *mc = mg_stream_conf_get_main(cf, mg_limit_conn_module);
    for (lc_zone_t *z = mc->zones; z; z = z->next) {
        if (z->table == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "zero size shared memory zone \"%s\"",
                         z->name.data);
            return MG_ERROR;
        }
    }
    if (mc->zones) {
        mg_stream_add_handler(cf, MG_STREAM_PREACCESS_PHASE, stream_limit_conn_handler);
    }
    return MG_OK;
}

static const mg_stream_module_t lc_stream = {
    .create_main_conf = lc_create_main_conf,
    .create_srv_conf = lc_create_loc_conf,
    .merge_srv_conf = lc_merge_loc_conf,
    .init = lc_stream_init,
};

#define LC_ANY (MG_HTTP_ANY_LOC | MG_CTX_STREAM | MG_CTX_STREAM_SRV)

static const mg_command_t limit_conn_commands[] = {
    {"limit_conn_zone", MG_CTX_HTTP | MG_CTX_STREAM, MG_ARGS(2, 2), limit_conn_zone, MG_MAIN_CONF,
     0, NULL},
    {"limit_conn", LC_ANY, MG_ARGS(2, 2), limit_conn, MG_LOC_CONF, 0, NULL},
    {"limit_conn_log_level", LC_ANY, MG_ARGS(1, 1), mg_conf_set_enum, MG_LOC_CONF,
     offsetof(lc_loc_conf_t, log_level), mg_conf_log_levels},
    {"limit_conn_status", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_error_status, MG_LOC_CONF,
     offsetof(lc_loc_conf_t, status), NULL},
    {"limit_conn_dry_run", LC_ANY, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(lc_loc_conf_t, dry_run), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t limit_conn_defaults[] = {
    {"limit_conn_status", "503"},
    {"limit_conn_zone", MG_NO_DEFAULT},
    {"limit_conn", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_limit_conn_module = {
    .name = "limit_conn",
    .commands = limit_conn_commands,
    .defaults = limit_conn_defaults,
    .create_main_conf = lc_create_main_conf,
    .init_main_conf = lc_init_main_conf,
    .create_loc_conf = lc_create_loc_conf,
    .merge_loc_conf = lc_merge_loc_conf,
    .init = lc_init,
    .stream = &lc_stream,
};
