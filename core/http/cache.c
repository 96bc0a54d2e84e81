/*
 * The proxy cache (see cache.h): *_cache_path zones, the lookup before an upstream starts, a
 * HIT served from its file, and the store: a cacheable response goes into a temporary file
 * (under *_temp_path, or in the cache directory with use_temp_path=off) as it streams to the
 * client, through a body filter at the head of the chain (it sees the upstream's body before
 * any filter changes it); at its end the file's header is written and the file renamed into
 * place, and the index in shared memory says it exists. A response broken off, a failed write
 * (a full disk) or a client gone leave nothing behind. The index is a shm_table.c table keyed
 * by the key's MD5: a node per key (uses, validity, size on disk), on an LRU list.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cache.h"
#include "md5.h"
#include "server.h"
#include "shm.h"
#include "shm_table.h"
#include "signals.h"
#include "upstream_int.h"
#include "variables.h"

mg_module_t mg_http_cache_module;

/* the index's value per key */
typedef struct {
    int64_t valid_sec;
    int64_t expire;   /* dropped when unused until then (inactive) */
    uint64_t fs_size; /* the file's size on disk (disk_size), 0 while it does not exist */
    uint32_t uses;
    uint8_t exists;
    /* one request (of any worker) fetches the entry: *_cache_lock's lock on a new entry, an
     * expired one's update; lock_time (wall clock, ms) is when a lock is given up for lost
     * (*_cache_lock_age) */
    uint8_t updating;
    /* an intercepted error's status (*_intercept_errors with an error_page for it), kept
     * until valid_sec instead of a file, as nginx's: a lookup answers it (a HIT) */
    uint16_t error;
    int64_t lock_time;
} cache_node_t;

/* the zone's totals, in a node of its own under a key no MD5 has: fs_size is the files' sum,
 * uses 1 while the zone is "cold" (new, and the loader has not gone through the files on
 * disk yet: until then a key the index does not know is looked for on disk) */
static const char totals_key[] = "#totals";

struct mg_http_cache_zone_s {
    mg_str_t name;
    mg_str_t path; /* absolute, NUL-terminated, no trailing slash */
    size_t level[3];
    mg_http_temp_path_t temp; /* use_temp_path=off: temporary files in the cache directory */
    int use_temp_path;
    time_t inactive;
    int64_t max_size; /* 0: none */
    int64_t min_free;
    mg_uint_t manager_files, loader_files;
    mg_msec_t manager_sleep, manager_threshold, loader_sleep, loader_threshold;
    mg_shm_table_t *table; /* NULL while only named by a *_cache */
    const char *used_by;   /* the directive of the first *_cache naming it */
    mg_http_cache_zone_t *next;
};

typedef struct {
    mg_http_cache_zone_t *zones;
} cache_main_conf_t;

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_http_cache_module, in);
}

static const mg_str_t status_names[] = {
    mg_null_string,     mg_string("MISS"),     mg_string("BYPASS"),      mg_string("EXPIRED"),
    mg_string("STALE"), mg_string("UPDATING"), mg_string("REVALIDATED"), mg_string("HIT"),
};

/* ---- the index ---- */

static cache_node_t *totals(mg_http_cache_zone_t *z)
{
    uint32_t hash = mg_shm_table_hash(z->table, totals_key, sizeof(totals_key) - 1);
    cache_node_t *t = mg_shm_table_find(z->table, totals_key, sizeof(totals_key) - 1, hash);
    if (t == NULL) {
        t = mg_shm_table_insert(z->table, totals_key, sizeof(totals_key) - 1, hash);
    }
    return t;
}

/* A file's size as the totals and max_size count it: in 4 KiB blocks, as nginx counts a
 * file's blocks on disk (the "bsize: 4096" of the loader's line), so that many small files
 * count the disk they take, not their bytes. */
static uint64_t disk_size(uint64_t bytes)
{
    return (bytes + 4095) & ~(uint64_t)4095;
}

/* the file of an MD5: PATH/c/ba/HEX with levels=1:2 (the hex digits' end, as nginx's) */
static char *file_name(mg_pool_t *pool, mg_http_cache_zone_t *z, const unsigned char *md5)
{
    char hex[32];
    mg_hex_dump(hex, md5, 16);
    size_t len = z->path.len + 1 + 32 + 1 + 3 * 3;
    char *name = mg_pnalloc(pool, len), *p = name;
    memcpy(p, z->path.data, z->path.len);
    p += z->path.len;
    size_t end = 32;
    for (int i = 0; i < 3 && z->level[i]; i++) {
        end -= z->level[i];
        *p++ = '/';
        memcpy(p, hex + end, z->level[i]);
        p += z->level[i];
    }
    *p++ = '/';
    memcpy(p, hex, 32);
    p[32] = '\0';
    return name;
}

/* Remove a node and its file (the zone is locked); the totals follow. */
static void drop_node(mg_http_cache_zone_t *z, cache_node_t *n, mg_pool_t *pool)
{
    size_t klen;
    const char *key = mg_shm_table_key(z->table, n, &klen);
    if (n->exists && klen == 16) {
        unlink(file_name(pool, z, (const unsigned char *)key));
    }
    cache_node_t *t = totals(z);
    if (t && n->exists && t->fs_size >= n->fs_size) {
        t->fs_size -= n->fs_size;
    }
    mg_shm_table_remove(z->table, n);
}

/* A node for md5, made room for by dropping the least recently used ones (their files go
 * too); NULL when even an empty zone has no room. */
static cache_node_t *node_get(mg_http_cache_zone_t *z, const unsigned char *md5, mg_log_t *log,
                              mg_pool_t *pool, int create)
{
    uint32_t hash = mg_shm_table_hash(z->table, (const char *)md5, 16);
    cache_node_t *n = mg_shm_table_find(z->table, (const char *)md5, 16, hash);
    if (n || !create) {
        if (n) {
            mg_shm_table_touch(z->table, n);
        }
        return n;
    }
    for (int tries = 0; tries < 64; tries++) {
        n = mg_shm_table_insert(z->table, (const char *)md5, 16, hash);
        if (n) {
            return n;
        }
        cache_node_t *old = mg_shm_table_oldest(z->table);
        cache_node_t *t = totals(z);
        if (old == t) {
            mg_shm_table_touch(z->table, t);
            old = mg_shm_table_oldest(z->table);
        }
        if (old == NULL || old == t) {
            break;
        }
        if (tries == 0) {
            mg_log_error(MG_LOG_ALERT, log, 0, "could not allocate node in cache keys zone \"%s\"",
                         z->name.data);
        }
        drop_node(z, old, pool);
    }
    return NULL;
}

/* ---- the lookup ---- */

static mg_http_cache_zone_t *zone_named(mg_request_t *r, mg_str_t name)
{
    cache_main_conf_t *mc = mg_http_get_main_conf(r, mg_http_cache_module);
    for (mg_http_cache_zone_t *z = mc->zones; z; z = z->next) {
        if (z->table && mg_str_eq_str(z->name, name)) {
            return z;
        }
    }
    return NULL;
}

/* *_cache_bypass, *_no_cache: any value that is not empty and not "0" */
static int predicates(mg_request_t *r, mg_array_t *a)
{
    if (a == NULL || a == MG_CONF_UNSET_PTR) {
        return 0;
    }
    mg_http_complex_value_t *cv = a->elts;
    for (size_t i = 0; i < a->nelts; i++) {
        mg_str_t v = mg_http_complex_value(r, &cv[i]);
        if (v.len && !(v.len == 1 && v.data[0] == '0')) {
            return 1;
        }
    }
    return 0;
}

/* The MD5 of the request's values of the header lines a Vary value names */
static void variant_of(mg_request_t *r, const char *vary, size_t len, unsigned char out[16])
{
    mg_md5_t md5;
    mg_md5_init(&md5);
    const char *p = vary, *end = vary + len;
    while (p < end) {
        while (p < end && (*p == ',' || *p == ' ' || *p == '\t')) {
            p++;
        }
        const char *s = p;
        while (p < end && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }
        size_t n = (size_t)(p - s);
        if (n == 0 || n > 64) {
            continue;
        }
        char low[64];
        mg_strlow(low, s, n);
        mg_md5_update(&md5, low, n);
        mg_md5_update(&md5, ":", 1);
        for (mg_table_elt_t *h = r->headers_in.headers.elts, *he = h + r->headers_in.headers.nelts;
             h < he; h++) {
            if (h->key.len == n && mg_strncasecmp(h->key.data, low, n) == 0) {
                mg_md5_update(&md5, h->value.data, h->value.len);
                mg_md5_update(&md5, "\n", 1);
            }
        }
    }
    mg_md5_final(&md5, out);
}

static void close_fd(void *data)
{
    close((int)(intptr_t)data);
}

/* The file's start, parsed: MG_OK, MG_DECLINED (logged; a bad file is removed). A file of up
 * to 16 KiB is read whole, so its body is served from that one read (m->body) with no second
 * one; of a larger one the first 4 KiB, which hold the parts of a usual response head, then
 * all the parts when they are longer. */
static mg_int_t read_meta(mg_request_t *r, mg_http_cache_req_t *c, int fd, struct stat *st,
                          mg_cache_file_meta_t *m)
{
    size_t size = st->st_size <= 16384 ? (size_t)mg_max(st->st_size, 1) : 4096;
    for (int round = 0; round < 2; round++) {
        char *buf = mg_pnalloc(r->pool, size);
        ssize_t n = pread(fd, buf, size, 0);
        if (n < 0) {
            mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "pread() \"%s\" failed", c->path);
            return MG_DECLINED;
        }
        const char *why = NULL;
        int rc = mg_cache_file_parse(buf, (size_t)n, (uint64_t)st->st_size, m, &why);
        if (rc == MG_OK) {
            return MG_OK;
        }
        if (rc == MG_AGAIN && round == 0) {
            size = m->meta_len;
            continue;
        }
        /* as nginx, a file of another version (one an older moongate wrote) is a miss
         * logged at info, not a broken file */
        int other = memcmp(m->h.magic, MG_CACHE_FILE_MAGIC, 8) == 0 &&
                    m->h.version != MG_CACHE_FILE_VERSION;
        mg_log_error(other ? MG_LOG_INFO : MG_LOG_CRIT, &r->connection->log, 0,
                     "cache file \"%s\" %s", c->path, why ? why : "is truncated");
        unlink(c->path);
        return MG_DECLINED;
    }
    return MG_DECLINED;
}

/* ---- what the upstream's head says ---- */

static mg_http_header_t *head_line(mg_upstream_t *u, const char *lower)
{
    size_t n = strlen(lower);
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        if (h->name.len == n && mg_strncasecmp(h->name.data, lower, n) == 0) {
            return h;
        }
    }
    return NULL;
}

/* The upstream's Vary lines as one value, ", " between them (nginx 1.23's fix: 1.22 took
 * the last); empty when there is none or *_ignore_headers Vary */
static mg_str_t vary_of(mg_upstream_t *u, mg_pool_t *pool)
{
    mg_str_t v = mg_null_string;
    if (u->ignore_headers & MG_UPSTREAM_IGN_VARY) {
        return v;
    }
    size_t len = 0, n = 0;
    mg_http_header_t *one = NULL;
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        if (h->name.len == 4 && mg_strncasecmp(h->name.data, "vary", 4) == 0) {
            len += (n++ ? 2 : 0) + h->value.len;
            one = h;
        }
    }
    if (n == 1) {
        return (mg_str_t){one->value.len, (char *)one->value.data};
    }
    if (n > 1) {
        v.data = mg_pnalloc(pool, len);
        for (size_t i = 0; i < u->head.nheaders; i++) {
            mg_http_header_t *h = &u->head.headers[i];
            if (h->name.len == 4 && mg_strncasecmp(h->name.data, "vary", 4) == 0) {
                if (v.len) {
                    memcpy(v.data + v.len, ", ", 2);
                    v.len += 2;
                }
                memcpy(v.data + v.len, h->value.data, h->value.len);
                v.len += h->value.len;
            }
        }
    }
    return v;
}

/* As nginx for a cached or cacheable response: the copied Last-Modified line (none when
 * *_hide_header hid it) gives the date that answers If-Modified-Since, and stays in its place */
static void take_last_modified(mg_request_t *r)
{
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && h[i].key.len == 13 &&
            mg_strncasecmp(h[i].key.data, "last-modified", 13) == 0) {
            r->headers_out.last_modified = &h[i];
            r->headers_out.last_modified_time = mg_time_parse_http(h[i].value.data, h[i].value.len);
            return;
        }
    }
}

/* A fresh entry: its head through the owner's process_header, the body from the file. */
static mg_int_t serve(mg_request_t *r, mg_upstream_t *u, int fd, mg_cache_file_meta_t *m)
{
    u->hbuf = mg_pnalloc(r->pool, m->h.head_len);
    memcpy(u->hbuf, m->head, m->h.head_len);
    u->hlen = m->h.head_len;
    u->head.headers = mg_palloc(r->pool, 100 * sizeof(mg_http_header_t));
    u->head.nheaders = 100;
    ssize_t used = u->parse_head ? u->parse_head(u, u->hbuf, u->hlen, &u->head)
                                 : mg_upstream_parse_response_head(u->hbuf, u->hlen, &u->head);
    if (used <= 0) {
        return MG_DECLINED;
    }
    /* as nginx: the stored head's X-Accel-* act on a HIT too (a redirect: MG_DONE) */
    if (mg_upstream_process_accel(u) == MG_DONE) {
        return MG_DONE;
    }
    mg_int_t rc = u->process_header ? u->process_header(u) : MG_OK;
    if (rc != MG_OK) {
        return rc;
    }
    rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    /* the stored head's Content-Length, as nginx: none for a chunked answer, a 304 */
    take_last_modified(r);
    /* a cached response: any ranges, with the upstream's Accept-Ranges or *_force_ranges */
    if (u->conf->force_ranges || head_line(u, "accept-ranges") != NULL) {
        mg_upstream_own_ranges(r, 0);
    } else {
        r->allow_ranges = 0;
    }
    rc = mg_http_send_header(r);
    if (rc == MG_ERROR || rc > MG_OK) {
        return rc;
    }
    mg_buf_t *b = mg_buf_mem(r->pool, NULL, 0);
    if (r->header_only || m->h.body_len == 0) {
        b->pos = b->last = "";
    } else if (m->body) {
        b->pos = (char *)m->body;
        b->last = b->pos + m->h.body_len;
    } else {
        b->in_file = 1;
        b->fd = fd;
        b->file_pos = (off_t)m->meta_len;
        b->file_last = (off_t)(m->meta_len + m->h.body_len);
    }
    b->last_buf = 1;
    return mg_http_output(r, b);
}

static int64_t validity(mg_upstream_t *u, mg_http_cache_conf_t *conf);
static int64_t status_validity(mg_upstream_t *u, mg_http_cache_conf_t *conf);

/* ---- the lock and the updating flag ---- */

static int64_t now_ms(void)
{
    return (int64_t)mg_now.msec;
}

/* The request no longer fetches the entry: others may (the zone is not locked) */
static void release_updating(mg_http_cache_req_t *c, mg_log_t *log, mg_pool_t *pool)
{
    if (!c->updating) {
        return;
    }
    c->updating = 0;
    mg_http_cache_zone_t *z = c->zone;
    mg_shm_table_lock(z->table, log);
    cache_node_t *n = node_get(z, c->md5, log, pool, 0);
    if (n) {
        n->updating = 0;
        n->lock_time = 0;
    }
    mg_shm_table_unlock(z->table);
}

typedef struct {
    mg_request_t *r;
    mg_http_cache_req_t *c;
} cache_owner_t;

static void release_on_end(void *data)
{
    cache_owner_t *o = data;
    /* the pool goes: its log is the connection's, still there */
    release_updating(o->c, &o->r->connection->log, o->r->pool);
}

static void take_updating(mg_request_t *r, mg_http_cache_req_t *c)
{
    c->updating = 1;
    cache_owner_t *o = mg_palloc(r->pool, sizeof(*o));
    o->r = r;
    o->c = c;
    mg_pool_cleanup_add(r->pool, release_on_end, o);
}

/* a request waiting for another's fetch of the same new entry (*_cache_lock) */
typedef struct {
    mg_request_t *r;
    struct event ev;
    int64_t until; /* *_cache_lock_timeout, wall clock ms */
    unsigned timed_out : 1;
} cache_wait_t;

static void wait_cancel(void *data)
{
    cache_wait_t *w = data;
    evtimer_del(&w->ev);
}

static void wait_aborted(mg_request_t *r);
static const mg_http_abort_t wait_abort = {wait_aborted, NULL, NULL};

static void wait_aborted(mg_request_t *r)
{
    cache_wait_t *w = mg_pool_cleanup_find(r->pool, wait_cancel);
    if (w) {
        evtimer_del(&w->ev);
    }
    mg_http_finalize_request(r, MG_HTTP_CLIENT_CLOSED_REQUEST);
}

/* The lock was released or the wait is over: the content handler runs again and looks the
 * entry up anew (a HIT now, or this request's turn to fetch it). */
static void wait_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cache_wait_t *w = arg;
    mg_request_t *r = w->r;
    mg_time_update();
    mg_http_unwatch_client(r, &wait_abort);
    r->cache = NULL;
    mg_http_phase_resume(r, r->content_handler(r));
}

/* A MISS: with *_cache_lock, the first request takes the node's lock and fetches, the others
 * wait (polling the shared node) until the entry exists, the lock is released or lost
 * (lock_age), or lock_timeout passed: then they go upstream and what they get is not stored. */
static mg_int_t lock_or_fetch(mg_request_t *r, mg_http_cache_req_t *c, mg_int_t *rc)
{
    mg_http_cache_conf_t *conf = c->conf;
    if (!conf->lock) {
        return MG_OK;
    }
    cache_wait_t *w = mg_pool_cleanup_find(r->pool, wait_cancel);
    if (w && w->timed_out) {
        c->no_store = 1;
        return MG_OK;
    }
    mg_http_cache_zone_t *z = c->zone;
    mg_log_t *log = &r->connection->log;
    int64_t now = now_ms();
    mg_shm_table_lock(z->table, log);
    cache_node_t *n = node_get(z, c->md5, log, r->pool, 1);
    int wait = 0;
    if (n && (!n->updating || n->lock_time <= now)) {
        n->updating = 1;
        n->lock_time = now + conf->lock_age;
    } else if (n) {
        wait = 1;
    }
    mg_shm_table_unlock(z->table);
    if (n == NULL) {
        return MG_OK;
    }
    if (!wait) {
        take_updating(r, c);
        return MG_OK;
    }
    if (w == NULL) {
        w = mg_pcalloc(r->pool, sizeof(*w));
        w->r = r;
        w->until = now + conf->lock_timeout;
        evtimer_assign(&w->ev, r->connection->server->base, wait_done, w);
        mg_pool_cleanup_add(r->pool, wait_cancel, w);
    }
    if (now >= w->until) {
        mg_log_error(MG_LOG_INFO, log, 0, "cache lock timeout");
        w->timed_out = 1;
        c->no_store = 1;
        c->lock_timed_out = 1;
        return MG_OK;
    }
    /* the shared node is polled: a worker cannot be woken by another's event */
    int64_t ms = mg_min(w->until - now, 50);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(&w->ev, &tv);
    mg_http_watch_client(r, &wait_abort);
    *rc = MG_DONE;
    return MG_DONE;
}

/* Serve the kept expired entry (STALE, UPDATING, REVALIDATED) */
static mg_int_t serve_kept(mg_request_t *r, mg_upstream_t *u, mg_http_cache_req_t *c)
{
    mg_int_t rc = serve(r, u, c->fd, &c->meta);
    if (rc == MG_DECLINED) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, 0,
                     "cache file \"%s\" has a bad response head", c->path);
        return MG_HTTP_BAD_GATEWAY;
    }
    return rc;
}

static void background_update(mg_request_t *r)
{
    mg_request_t *sr;
    if (mg_http_subrequest(r, r->uri, &r->args, NULL, NULL, &sr) != MG_OK) {
        return;
    }
    mg_http_subrequest_background(sr);
    sr->cache_background = 1;
    /* as nginx's clone: the request's method (a POST's body is shared already) */
    sr->method = r->method;
    sr->method_name = r->method_name;
}

/* An expired entry (its file open as fd, m read from it): served stale while another request
 * updates it (*_cache_use_stale updating, stale-while-revalidate), or updated in the
 * background (*_cache_background_update), or fetched again (EXPIRED) with the file kept for
 * an error's stale answer and for *_cache_revalidate. */
static mg_int_t expired(mg_request_t *r, mg_upstream_t *u, mg_http_cache_req_t *c, int fd,
                        mg_cache_file_meta_t *m, mg_int_t *rc)
{
    mg_http_cache_conf_t *conf = c->conf;
    mg_http_cache_zone_t *z = c->zone;
    mg_log_t *log = &r->connection->log;
    int64_t now = (int64_t)mg_now.sec;
    c->fd = fd;
    c->meta = *m;
    c->stale_updating = m->h.valid_sec + (int64_t)m->h.updating_sec >= now;
    c->stale_error = m->h.valid_sec + (int64_t)m->h.error_sec >= now;
    c->status = MG_CACHE_EXPIRED;
    int other = 0;
    mg_shm_table_lock(z->table, log);
    cache_node_t *n = node_get(z, c->md5, log, r->pool, 1);
    if (n && n->updating) {
        other = 1;
    } else if (n) {
        n->updating = 1;
        n->lock_time = 0;
    }
    mg_shm_table_unlock(z->table);
    if (n && !other) {
        take_updating(r, c);
    }
    int may_stale = (conf->use_stale & MG_HTTP_CACHE_STALE_UPDATING) || c->stale_updating;
    if (may_stale && !r->cache_background) {
        if (other) {
            c->status = MG_CACHE_UPDATING;
            *rc = serve_kept(r, u, c);
            return MG_DONE;
        }
        if (conf->background_update) {
            /* as nginx: this request answers at once from the entry, a subrequest of it
             * (which finds the entry updating and fetches it) refreshes it */
            c->status = MG_CACHE_STALE;
            release_updating(c, log, r->pool);
            background_update(r);
            *rc = serve_kept(r, u, c);
            return MG_DONE;
        }
    }
    c->revalidate = conf->revalidate && (m->h.etag_len || m->h.last_modified != -1);
    return MG_OK;
}

static mg_int_t lookup(mg_request_t *r, mg_upstream_t *u, mg_http_cache_req_t *c, mg_int_t *rc);

static int range_passed(mg_request_t *r, const mg_http_cache_conf_t *conf);

/* The lookup itself (mg_http_cache_before_body/_after_body say when). */
static mg_int_t cache_lookup(mg_request_t *r, mg_upstream_t *u, int as_get, mg_int_t *rc)
{
    mg_http_cache_conf_t *conf = &u->conf->cache;
    mg_http_cache_zone_t *z = conf->zone == MG_CONF_UNSET_PTR ? NULL : conf->zone;
    if (conf->zone_cv) {
        z = zone_named(r, mg_http_complex_value(r, conf->zone_cv));
    }
    if (z == NULL || z->table == NULL || !(conf->methods & (1u << r->method))) {
        return MG_DECLINED;
    }
    mg_http_cache_req_t *c = mg_pcalloc(r->pool, sizeof(*c));
    c->zone = z;
    c->conf = conf;
    c->u = u;
    c->expected = -1;
    c->fd = -1;
    r->cache = c;
    c->key = mg_http_complex_value(r, conf->key);
    mg_md5(c->key.data, c->key.len, c->md5);
    c->path = file_name(r->pool, z, c->md5);
    c->head_as_get = r->method == MG_HTTP_HEAD && conf->convert_head && as_get;
    c->no_store = (unsigned)predicates(r, conf->no_cache);
    if (predicates(r, conf->bypass)) {
        c->status = MG_CACHE_BYPASS;
        c->uses = (mg_uint_t)conf->min_uses; /* as nginx: what it fetches is stored */
        return MG_OK;
    }
    c->status = MG_CACHE_MISS;
    mg_int_t lrc = lookup(r, u, c, rc);
    if (lrc == MG_OK && range_passed(r, conf)) {
        /* as nginx: an entry answers any range, but a request that goes upstream with a range
         * past *_cache_max_range_offset takes its Range along and is not stored */
        c->no_store = 1;
        c->range_passed = 1;
    }
    return lrc;
}

mg_int_t mg_http_cache_before_body(mg_request_t *r, mg_upstream_t *u, int as_get, int streamed,
                                   mg_int_t *rc)
{
    if (!u->conf->cache.zone && !u->conf->cache.zone_cv) {
        return MG_DECLINED;
    }
    u->cache_after_body =
        !streamed && (r->headers_in.content_length_n > 0 || r->headers_in.chunked);
    return u->cache_after_body ? MG_DECLINED : cache_lookup(r, u, as_get, rc);
}

int mg_http_cache_after_body(mg_request_t *r, mg_upstream_t *u, int as_get)
{
    if (!u->cache_after_body) {
        return 0;
    }
    u->cache_after_body = 0;
    mg_int_t rc;
    if (cache_lookup(r, u, as_get, &rc) != MG_DONE) {
        return 0;
    }
    if (rc != MG_DONE) {
        mg_http_finalize_request(r, rc); /* answered from the cache */
    }
    return 1;
}

/* *_cache_max_range_offset: 1 when the request's Range starts at the bound or past it (or is a
 * suffix range, whose start is unknown): going upstream, it takes its Range along and what comes
 * back is not stored (a cached entry still answers it). */
static int range_passed(mg_request_t *r, const mg_http_cache_conf_t *conf)
{
    mg_table_elt_t *h = r->headers_in.range;
    if (conf->max_range_offset < 0 || h == NULL || h->value.len < 6 ||
        mg_strncasecmp(h->value.data, "bytes=", 6) != 0) {
        return 0;
    }
    const char *p = h->value.data + 6, *end = h->value.data + h->value.len;
    while (p < end && *p == ' ') {
        p++;
    }
    if (p < end && *p == '-') {
        return 1;
    }
    off_t offset = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (offset > (INT64_MAX - 9) / 10) {
            return 1; /* past any bound */
        }
        offset = offset * 10 + (*p - '0');
    }
    /* nginx's documentation says "greater than"; nginx 1.22 passes one at the bound too */
    return offset >= conf->max_range_offset;
}

/* The MD5 under which the variant of the request's Vary header values is kept beside the
 * key's first variant (nginx's secondary key) */
static void secondary_md5(const unsigned char *main, const unsigned char *variant,
                          unsigned char out[16])
{
    mg_md5_t md5;
    mg_md5_init(&md5);
    mg_md5_update(&md5, main, 16);
    mg_md5_update(&md5, variant, 16);
    mg_md5_final(&md5, out);
}

/* The node and file of c->md5: a HIT served (MG_DONE), or MG_OK to fetch */
static mg_int_t lookup(mg_request_t *r, mg_upstream_t *u, mg_http_cache_req_t *c, mg_int_t *rc)
{
    mg_http_cache_zone_t *z = c->zone;
    mg_log_t *log = &r->connection->log;
    /* a request that waited for the lock looks up again: its use was counted */
    int again = mg_pool_cleanup_find(r->pool, wait_cancel) != NULL;
    mg_shm_table_lock(z->table, log);
    cache_node_t *n = node_get(z, c->md5, log, r->pool, 1);
    int exists = 0, error = 0;
    if (n) {
        n->uses += !again;
        n->expire = (int64_t)mg_now.sec + z->inactive;
        c->uses = n->uses;
        exists = n->exists;
        if (n->error && n->valid_sec < (int64_t)mg_now.sec) {
            n->error = 0; /* fetched again */
        }
        error = n->error;
    }
    if (error) {
        mg_shm_table_unlock(z->table);
        c->status = MG_CACHE_HIT;
        *rc = error; /* its error_page, as when it was fetched */
        return MG_DONE;
    }
    /* the totals' "cold" only matters for a key without a file (a HIT skips that lookup) */
    cache_node_t *t = exists ? NULL : totals(z);
    int cold = t && t->uses;
    mg_shm_table_unlock(z->table);
    if (!exists && !cold) {
        return lock_or_fetch(r, c, rc);
    }
    int fd = open(c->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (!exists) {
            if (fd >= 0) {
                close(fd);
            }
            return lock_or_fetch(r, c, rc); /* cold: not on disk either */
        }
        if (fd < 0 && errno != ENOENT) {
            mg_log_error(MG_LOG_CRIT, log, errno, "open() \"%s\" failed", c->path);
        }
        if (fd >= 0) {
            close(fd);
        }
        goto gone;
    }
    mg_pool_cleanup_add(r->pool, close_fd, (void *)(intptr_t)fd);
    mg_cache_file_meta_t m;
    if (read_meta(r, c, fd, &st, &m) != MG_OK) {
        goto gone;
    }
    if (m.h.key_len != c->key.len || memcmp(m.key, c->key.data, c->key.len) != 0) {
        mg_log_error(MG_LOG_CRIT, log, 0, "cache file \"%s\" has md5 collision", c->path);
        c->no_store = 1;
        return MG_OK;
    }
    if (m.h.vary_len) {
        variant_of(r, m.vary, m.h.vary_len, c->variant);
        if (memcmp(c->variant, m.h.variant, 16) != 0) {
            if (c->secondary) {
                return MG_OK; /* fetched; start_store decides where it goes */
            }
            /* as nginx: another variant is looked for under a key of its own */
            c->secondary = 1;
            memcpy(c->main, c->md5, 16);
            secondary_md5(c->main, c->variant, c->md5);
            c->path = file_name(r->pool, z, c->md5);
            return lookup(r, u, c, rc);
        }
    }
    if (!exists) {
        /* a file from before a restart the loader has not reached yet: indexed now */
        mg_shm_table_lock(z->table, log);
        n = node_get(z, c->md5, log, r->pool, 1);
        if (n && !n->exists) {
            n->exists = 1;
            n->fs_size = disk_size((uint64_t)st.st_size);
            n->valid_sec = m.h.valid_sec;
            t = totals(z);
            if (t) {
                t->fs_size += n->fs_size;
            }
        }
        mg_shm_table_unlock(z->table);
    }
    if (r->method != MG_HTTP_HEAD && (m.h.flags & MG_CACHE_FILE_HEADER_ONLY)) {
        /* nginx would send it as it is: a Content-Length and no body (its documentation
         * asks for $request_method in the key); fetched instead, and stored over it */
        return lock_or_fetch(r, c, rc);
    }
    if (m.h.valid_sec < (int64_t)mg_now.sec) {
        return expired(r, u, c, fd, &m, rc);
    }
    c->status = MG_CACHE_HIT;
    *rc = serve(r, u, fd, &m);
    if (*rc == MG_DECLINED) {
        mg_log_error(MG_LOG_CRIT, log, 0, "cache file \"%s\" has a bad response head", c->path);
        c->status = MG_CACHE_MISS;
        unlink(c->path);
        goto gone;
    }
    return MG_DONE;

gone:
    mg_shm_table_lock(z->table, log);
    n = node_get(z, c->md5, log, r->pool, 0);
    if (n && n->exists) {
        cache_node_t *t = totals(z);
        if (t && t->fs_size >= n->fs_size) {
            t->fs_size -= n->fs_size;
        }
        n->exists = 0;
        n->fs_size = 0;
    }
    mg_shm_table_unlock(z->table);
    return lock_or_fetch(r, c, rc);
}

int mg_http_cache_storing(mg_request_t *r)
{
    return r->cache && r->cache->store;
}

int mg_http_cache_wanted(mg_request_t *r)
{
    mg_http_cache_req_t *c = r->cache;
    if (c == NULL || c->head_seen) {
        return c && c->store;
    }
    return (c->status == MG_CACHE_MISS || c->status == MG_CACHE_EXPIRED ||
            c->status == MG_CACHE_BYPASS) &&
           c->uses >= (mg_uint_t)c->conf->min_uses;
}

int mg_http_cache_cacheable(mg_request_t *r)
{
    mg_http_cache_req_t *c = r->cache;
    return c && (c->store || c->cacheable || c->status >= MG_CACHE_STALE);
}

int mg_http_cache_stale(mg_upstream_t *u, mg_uint_t ft, mg_int_t *rc)
{
    mg_request_t *r = u->r;
    mg_http_cache_req_t *c = r->cache;
    if (c == NULL || c->u != u || c->fd < 0 || c->status != MG_CACHE_EXPIRED || u->header_sent ||
        r->header_sent) {
        return 0;
    }
    /* as nginx: no live peer counts as an error */
    mg_uint_t use = c->conf->use_stale;
    if (use & MG_UPSTREAM_FT_ERROR) {
        use |= MG_UPSTREAM_FT_NOLIVE;
    }
    /* stale-if-error: when no peer answered (error, timeout, invalid header), not for an
     * answer's status, which only *_cache_use_stale names (nginx since 1.19.3) */
    if (!(use & ft) && !(c->stale_error && !(ft & MG_UPSTREAM_FT_STATUSES))) {
        return 0;
    }
    c->status = MG_CACHE_STALE;
    *rc = serve_kept(r, u, c);
    return 1;
}

int mg_http_cache_revalidated(mg_upstream_t *u, mg_int_t *rc)
{
    mg_request_t *r = u->r;
    mg_http_cache_req_t *c = r->cache;
    if (c == NULL || c->u != u || c->fd < 0 || !c->revalidate || c->status != MG_CACHE_EXPIRED) {
        return 0;
    }
    /* the 304's own X-Accel-Expires, Cache-Control, Expires, else (none, or one that would
     * refuse a response: nginx only looks at the time they give) *_cache_valid for the
     * entry's status */
    mg_uint_t status = u->head.status;
    u->head.status = c->meta.h.status;
    int64_t valid = validity(u, c->conf);
    if (valid < 0) {
        valid = status_validity(u, c->conf);
    }
    u->head.status = status;
    mg_log_t *log = &r->connection->log;
    if (valid > 0) {
        mg_cache_file_header_t h = c->meta.h;
        h.valid_sec = valid;
        h.date = (int64_t)mg_now.sec;
        size_t parts = h.key_len + h.etag_len + h.vary_len + h.head_len;
        h.crc = mg_cache_file_crc(&h, c->meta.key, parts);
        int fd = open(c->path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
            mg_log_error(MG_LOG_CRIT, log, errno, "pwrite() \"%s\" failed", c->path);
        } else {
            mg_http_cache_zone_t *z = c->zone;
            mg_shm_table_lock(z->table, log);
            cache_node_t *n = node_get(z, c->md5, log, r->pool, 0);
            if (n) {
                n->valid_sec = valid;
            }
            mg_shm_table_unlock(z->table);
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    release_updating(c, log, r->pool);
    u->head.status = c->meta.h.status;
    c->status = MG_CACHE_REVALIDATED;
    *rc = serve_kept(r, u, c);
    return 1;
}

void mg_http_cache_conditions(mg_request_t *r, mg_str_t *ims, mg_str_t *inm)
{
    mg_http_cache_req_t *c = r->cache;
    ims->len = inm->len = 0;
    if (c == NULL || !c->revalidate) {
        return;
    }
    if (c->meta.h.last_modified != -1) {
        ims->data = mg_pnalloc(r->pool, 64);
        mg_time_http(ims->data, (time_t)c->meta.h.last_modified);
        ims->len = strlen(ims->data);
    }
    inm->data = (char *)c->meta.etag;
    inm->len = c->meta.h.etag_len;
}

int mg_http_cache_drops_header(mg_str_t key)
{
    static const char *const names[] = {
        "if-modified-since", "if-unmodified-since", "if-none-match", "if-match", "range",
        "if-range"};
    for (size_t i = 0; i < mg_nelems(names); i++) {
        if (key.len == strlen(names[i]) && mg_strncasecmp(key.data, names[i], key.len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* What the upstream's Cache-Control lines say, each line in turn as nginx 1.22 reads them
 * (a later max-age replaces an earlier one, any refusal holds) */
typedef struct {
    int refuse;           /* no-cache, no-store, private, or a number that is not one */
    int64_t max_age;      /* s-maxage, else max-age, in seconds; -1 when none */
    int64_t updating_sec; /* stale-while-revalidate, 0 when none */
    int64_t error_sec;    /* stale-if-error */
} cache_control_t;

/* "NAME=N" anywhere in a value, as nginx finds it (no token boundary): N, -1 when absent,
 * -2 when N is not digits up to a ',', ';', ' ' or the end */
static int64_t cc_number(mg_span_t v, const char *name)
{
    size_t n = strlen(name);
    const char *end = v.data + v.len;
    const char *p = mg_strlcasestrn(v.data, end, name, n);
    if (p == NULL) {
        return -1;
    }
    int64_t num = 0;
    for (p += n; p < end && *p != ',' && *p != ';' && *p != ' '; p++) {
        if (*p < '0' || *p > '9') {
            return -2;
        }
        num = num < INT32_MAX / 10 ? num * 10 + (*p - '0') : INT32_MAX; /* a year is plenty */
    }
    return num;
}

static int cc_has(mg_span_t v, const char *name)
{
    return mg_strlcasestrn(v.data, v.data + v.len, name, strlen(name)) != NULL;
}

static void cache_control(mg_upstream_t *u, cache_control_t *cc)
{
    *cc = (cache_control_t){.max_age = -1};
    if (u->ignore_headers & MG_UPSTREAM_IGN_CACHE_CONTROL) {
        return;
    }
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        if (h->name.len != 13 || mg_strncasecmp(h->name.data, "cache-control", 13) != 0) {
            continue;
        }
        if (cc_has(h->value, "no-cache") || cc_has(h->value, "no-store") ||
            cc_has(h->value, "private")) {
            cc->refuse = 1;
            continue;
        }
        int64_t n = cc_number(h->value, "s-maxage=");
        if (n == -1) {
            n = cc_number(h->value, "max-age=");
        }
        if (n == 0 || n == -2) {
            cc->refuse = 1; /* max-age=0, or not a number */
        } else if (n > 0) {
            cc->max_age = n;
        }
        n = cc_number(h->value, "stale-while-revalidate=");
        cc->refuse |= n == -2;
        cc->updating_sec = n >= 0 ? n : cc->updating_sec;
        n = cc_number(h->value, "stale-if-error=");
        cc->refuse |= n == -2;
        cc->error_sec = n >= 0 ? n : cc->error_sec;
    }
}

/* Until when the response may be served: -1 when its head refuses it, 0 when nothing gives
 * it a validity (*_cache_valid has none for its status). As nginx 1.22 but
 * for the order of the lines, which does not matter here (nginx 1.23's fix, ticket #964):
 * Set-Cookie and "Vary: *" refuse whatever else; a positive X-Accel-Expires overrides
 * Cache-Control and Expires; Cache-Control's max-age overrides Expires. */
static int64_t validity(mg_upstream_t *u, mg_http_cache_conf_t *conf)
{
    mg_uint_t ign = u->ignore_headers;
    int64_t now = (int64_t)mg_now.sec;
    mg_http_header_t *h;
    if (!(ign & MG_UPSTREAM_IGN_SET_COOKIE) && head_line(u, "set-cookie")) {
        return -1;
    }
    /* nginx keeps at most 128 bytes of Vary in the file's header */
    mg_str_t vary = vary_of(u, u->r->pool);
    if ((vary.len == 1 && vary.data[0] == '*') || vary.len > 128) {
        return -1;
    }
    /* X-Accel-Expires: "@T" is a time (@0 as if absent), N seconds from now, 0 refuses (on
     * any of its lines); not a number: as if absent. The last one that gives a time counts. */
    int64_t xae = 0;
    for (size_t i = 0; !(ign & MG_UPSTREAM_IGN_XA_EXPIRES) && i < u->head.nheaders; i++) {
        h = &u->head.headers[i];
        if (h->name.len != 15 || mg_strncasecmp(h->name.data, "x-accel-expires", 15) != 0) {
            continue;
        }
        int at = h->value.len && h->value.data[0] == '@';
        int64_t v = mg_atoi(h->value.data + at, h->value.len - (size_t)at);
        if (v == 0 && !at) {
            return -1;
        }
        if (v > 0) {
            /* seconds past the largest time are the largest time, not a negative one */
            xae = at ? v : v > INT64_MAX - now ? INT64_MAX : now + v;
        }
    }
    if (xae > 0) {
        return xae;
    }
    cache_control_t cc;
    cache_control(u, &cc);
    if (cc.refuse) {
        return -1;
    }
    if (cc.max_age > 0) {
        return now + cc.max_age;
    }
    if (!(ign & MG_UPSTREAM_IGN_EXPIRES) && (h = head_line(u, "expires")) != NULL) {
        time_t t = mg_time_parse_http(h->value.data, h->value.len);
        if (t == (time_t)-1 || (int64_t)t < now) {
            return -1;
        }
        return (int64_t)t;
    }
    return status_validity(u, conf);
}

/* *_cache_valid for the head's status: until when, 0 for none */
static int64_t status_validity(mg_upstream_t *u, mg_http_cache_conf_t *conf)
{
    if (conf->valid == NULL || conf->valid == MG_CONF_UNSET_PTR) {
        return 0;
    }
    mg_http_cache_valid_t *cv = conf->valid->elts;
    for (size_t i = 0; i < conf->valid->nelts; i++) {
        if (cv[i].status == u->head.status || cv[i].status == 0) {
            return cv[i].sec > 0 ? (int64_t)mg_now.sec + cv[i].sec : 0;
        }
    }
    return 0;
}

static void store_abort(mg_http_cache_req_t *c)
{
    c->store = 0;
    c->failed = 1;
    /* the temporary file goes with the request's pool (not persistent) */
}

static int start_store(mg_upstream_t *u, mg_http_cache_req_t *c);

void mg_http_cache_error(mg_upstream_t *u, mg_uint_t status)
{
    mg_request_t *r = u->r;
    mg_http_cache_req_t *c = r->cache;
    if (c == NULL || c->u != u) {
        return;
    }
    mg_log_t *log = &r->connection->log;
    /* as nginx: a status its lines let be cached, for their time or *_cache_valid's; not
     * *_no_cache's business (nginx asks it only of a response it sends) */
    int64_t valid = validity(u, c->conf);
    if (valid > 0 && c->uses >= (mg_uint_t)c->conf->min_uses && !c->lock_timed_out) {
        mg_http_cache_zone_t *z = c->zone;
        mg_shm_table_lock(z->table, log);
        cache_node_t *n = node_get(z, c->md5, log, r->pool, 1);
        if (n) {
            n->error = (uint16_t)status;
            n->valid_sec = valid;
        }
        mg_shm_table_unlock(z->table);
    }
    release_updating(c, log, r->pool);
}

void mg_http_cache_response(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_http_cache_req_t *c = r->cache;
    if (c == NULL || c->u != u) {
        return;
    }
    c->head_seen = 1;
    if (!start_store(u, c)) {
        /* as nginx: a response not stored releases the lock now, so the requests waiting
         * for it go on */
        release_updating(c, &r->connection->log, r->pool);
    }
    if (c->store || c->cacheable) {
        take_last_modified(r);
    }
}

/* 1 when the response goes into the cache (its file started) */
static int start_store(mg_upstream_t *u, mg_http_cache_req_t *c)
{
    mg_request_t *r = u->r;
    int64_t valid = validity(u, c->conf);
    int scarce = c->uses < (mg_uint_t)c->conf->min_uses;
    c->cacheable = valid >= 0 && !scarce && !c->lock_timed_out && !u->head_method;
    /* as nginx, an unbuffered response (*_buffering off, X-Accel-Buffering: no) is not
     * stored. An answer to a HEAD that went upstream as HEAD (proxy_cache_convert_head off) is,
     * as nginx, marked header-only (a GET finding it fetches: lookup); a client's HEAD that
     * went upstream as anything else (the CGI protocols' HEAD answers) is not. */
    int head_answer = r->method == MG_HTTP_HEAD && !c->head_as_get;
    if (c->no_store || !u->buffering || u->http09 || u->head.status == 101 || valid <= 0 ||
        scarce || (head_answer && !u->head_method)) {
        return 0;
    }
    mg_http_cache_zone_t *z = c->zone;
    const mg_http_temp_path_t *tp = z->use_temp_path ? u->conf->temp_path : &z->temp;
    c->tf = mg_http_temp_file_create(r, tp, 0);
    if (c->tf == NULL) {
        return 0;
    }
    mg_cache_file_header_t *h = &c->h;
    memcpy(h->magic, MG_CACHE_FILE_MAGIC, 8);
    h->version = MG_CACHE_FILE_VERSION;
    h->header_size = sizeof(*h);
    h->flags = u->head_method ? MG_CACHE_FILE_HEADER_ONLY : 0;
    h->valid_sec = valid;
    h->date = (int64_t)mg_now.sec;
    h->last_modified = -1;
    memcpy(h->md5, c->md5, 16);
    h->status = (uint32_t)u->head.status;
    mg_http_header_t *lm = head_line(u, "last-modified");
    if (lm) {
        h->last_modified = (int64_t)mg_time_parse_http(lm->value.data, lm->value.len);
    }
    mg_http_header_t *etag = head_line(u, "etag");
    mg_str_t vary = vary_of(u, r->pool);
    cache_control_t cc;
    cache_control(u, &cc);
    h->updating_sec = (uint32_t)cc.updating_sec; /* Cache-Control's extensions of stale use */
    h->error_sec = (uint32_t)cc.error_sec;
    mg_span_t head = {u->hbuf, (size_t)(u->pending - u->hbuf)};
    if (c->key.len > MG_CACHE_FILE_MAX_KEY) {
        return 0;
    }
    h->key_len = (uint32_t)c->key.len;
    h->etag_len = etag ? (uint32_t)etag->value.len : 0;
    h->vary_len = (uint32_t)vary.len;
    h->head_len = (uint32_t)head.len;
    if (vary.len) {
        variant_of(r, vary.data, vary.len, h->variant);
    }
    if (c->secondary) {
        /* a variant's own file only for a response varying as the first one did; else it
         * replaces the key's first variant, as nginx */
        unsigned char md5[16];
        if (vary.len) {
            secondary_md5(c->main, h->variant, md5);
        }
        if (vary.len == 0 || memcmp(md5, c->md5, 16) != 0) {
            release_updating(c, &r->connection->log, r->pool);
            memcpy(c->md5, c->main, 16);
            c->path = file_name(r->pool, z, c->md5);
            c->secondary = 0;
        }
    }
    memcpy(h->md5, c->md5, 16);
    size_t parts = h->key_len + h->etag_len + h->vary_len + h->head_len;
    char *meta = mg_pnalloc(r->pool, sizeof(*h) + parts), *p = meta + sizeof(*h);
    memcpy(p, c->key.data, h->key_len);
    p += h->key_len;
    if (etag) {
        memcpy(p, etag->value.data, h->etag_len);
        p += h->etag_len;
    }
    if (vary.len) {
        memcpy(p, vary.data, h->vary_len);
        p += h->vary_len;
    }
    memcpy(p, head.data, h->head_len);
    memcpy(meta, h, sizeof(*h)); /* written again once the body's length is known */
    if (mg_http_temp_file_write(c->tf, meta, sizeof(*h) + parts) != MG_OK) {
        store_abort(c);
        return 0;
    }
    /* a HEAD's answer has no body whatever its Content-Length says */
    c->expected = u->head_method ? 0 : u->chunked_body || u->decode ? -1 : u->length;
    c->store = 1;
    /* as nginx: ranges of an upstream's response only when it is cacheable and the upstream
     * allows them, and one only: the range filter can answer several from one whole buffer
     * or a file, not from a body that streams by (several get the whole 200) */
    if (head_line(u, "accept-ranges") != NULL) {
        mg_upstream_own_ranges(r, 1);
    } else {
        r->allow_ranges = 0;
    }
    return 1;
}

/* ---- the body into the file ---- */

static mg_int_t store_bytes(mg_request_t *r, mg_http_cache_req_t *c, mg_buf_t *b)
{
    if (!b->in_file) {
        return b->pos && b->last > b->pos
                   ? mg_http_temp_file_write(c->tf, b->pos, (size_t)(b->last - b->pos))
                   : MG_OK;
    }
    char tmp[16384];
    for (off_t pos = b->file_pos; pos < b->file_last;) {
        size_t want = (size_t)(b->file_last - pos);
        ssize_t n = pread(b->fd, tmp, want < sizeof(tmp) ? want : sizeof(tmp), pos);
        if (n <= 0) {
            mg_log_error(MG_LOG_CRIT, &r->connection->log, n < 0 ? errno : 0,
                         "pread() of a buffered response failed");
            return MG_ERROR;
        }
        if (mg_http_temp_file_write(c->tf, tmp, (size_t)n) != MG_OK) {
            return MG_ERROR;
        }
        pos += n;
    }
    return MG_OK;
}

/* mkdir of the file's level directories */
static int make_levels(mg_http_cache_zone_t *z, char *name)
{
    for (char *p = name + z->path.len + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        int rc = mkdir(name, 0700);
        int err = errno;
        *p = '/';
        if (rc != 0 && err != EEXIST) {
            errno = err;
            return -1;
        }
    }
    return 0;
}

static void store_finish(mg_request_t *r, mg_http_cache_req_t *c)
{
    mg_log_t *log = &r->connection->log;
    mg_cache_file_header_t *h = &c->h;
    size_t parts = h->key_len + h->etag_len + h->vary_len + h->head_len;
    uint64_t meta = sizeof(*h) + parts;
    uint64_t body = (uint64_t)c->tf->offset - meta;
    c->store = 0;
    if (c->expected >= 0 && (uint64_t)c->expected != body) {
        return; /* not all of it: nothing is kept */
    }
    h->body_len = body;
    char *buf = mg_pnalloc(r->pool, parts);
    if (pread(c->tf->fd, buf, parts, (off_t)sizeof(*h)) != (ssize_t)parts) {
        mg_log_error(MG_LOG_CRIT, log, errno, "pread() \"%s\" failed", c->tf->name.data);
        return;
    }
    h->crc = mg_cache_file_crc(h, buf, parts);
    if (pwrite(c->tf->fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h)) {
        mg_log_error(MG_LOG_CRIT, log, errno, "pwrite() \"%s\" failed", c->tf->name.data);
        return;
    }
    mg_http_cache_zone_t *z = c->zone;
    int rc = rename(c->tf->name.data, c->path);
    if (rc != 0 && errno == ENOENT && make_levels(z, c->path) == 0) {
        rc = rename(c->tf->name.data, c->path);
    }
    if (rc != 0 && errno == EXDEV) {
        /* the temp path on another file system than the cache */
        if (mg_http_temp_file_copy(r, c->tf, c->path, -1, -1) != MG_OK) {
            return;
        }
        unlink(c->tf->name.data);
        rc = 0;
    } else if (rc != 0) {
        mg_log_error(MG_LOG_CRIT, log, errno, "rename() \"%s\" to \"%s\" failed", c->tf->name.data,
                     c->path);
        return;
    }
    c->tf->persistent = 1; /* its name is free again: another request's file may take it */
    uint64_t size = disk_size(meta + body);
    mg_shm_table_lock(z->table, log);
    cache_node_t *n = node_get(z, c->md5, log, r->pool, 1);
    if (n) {
        cache_node_t *t = totals(z);
        if (t) {
            t->fs_size = t->fs_size - (n->exists ? n->fs_size : 0) + size;
        }
        n->exists = 1;
        n->error = 0;
        n->fs_size = size;
        n->valid_sec = h->valid_sec;
        n->expire = (int64_t)mg_now.sec + z->inactive;
        if (c->updating) {
            n->updating = 0;
            n->lock_time = 0;
            c->updating = 0;
        }
    }
    mg_shm_table_unlock(z->table);
}

static mg_int_t cache_body_filter(mg_request_t *r, mg_buf_t *in)
{
    mg_http_cache_req_t *c = r->cache;
    if (c == NULL || !c->store || in == NULL) {
        return next_body_filter(r, in);
    }
    int last = 0;
    for (mg_buf_t *b = in; b && c->store; b = b->next) {
        if (store_bytes(r, c, b) != MG_OK) {
            store_abort(c);
            break;
        }
        last |= b->last_buf;
    }
    if (last && c->store) {
        store_finish(r, c);
    }
    return next_body_filter(r, in);
}

/* a response is stored only into one of this http{} block's *_cache_path zones */
static void cache_init_filters(mg_conf_t *cf)
{
    cache_main_conf_t *mc = mg_http_conf_get_main(cf, mg_http_cache_module);
    if (mc->zones == NULL) {
        return;
    }
    mg_http_link_filters(cf, &mg_http_cache_module, NULL, NULL, cache_body_filter);
}

/* ---- the cache manager and loader processes ---- */

/* Wait up to ms on the master's channel: 1 when the process is to stop (EOF, drain, quit, or
 * the master's SIGTERM at its own TERM or INT). The master's handlers and mask came with fork:
 * its signals are blocked but for this wait, as in the master, so a TERM ends the wait and is
 * taken here (blocked for good, it stayed pending and the master had to SIGKILL us 2 s later). */
static int helper_wait(int channel, int ms)
{
    struct pollfd p = {channel, POLLIN, 0};
    sigset_t wait_mask;
    sigprocmask(SIG_SETMASK, NULL, &wait_mask);
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGINT);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    int rc = ppoll(&p, 1, &ts, &wait_mask);
    mg_time_update(); /* for the "exiting" line's time */
    if (mg_signal_take(SIGTERM, NULL) | mg_signal_take(SIGINT, NULL)) {
        return 1;
    }
    if (rc <= 0) {
        return 0;
    }
    char b[16];
    ssize_t n = read(channel, b, sizeof(b));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return 0;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (b[i] != 'r') { /* anything but a log reopen stops it */
            return 1;
        }
    }
    return n <= 0;
}

/* One round over a zone: entries unused for `inactive` go, then the least recently used ones
 * while the files pass max_size or the disk has less than min_free. At most manager_files
 * files per round; 1 when more is left to do. */
static int manage_zone(mg_http_cache_zone_t *z, mg_log_t *log, mg_pool_t *pool)
{
    int64_t now = (int64_t)mg_now.sec;
    mg_uint_t done = 0;
    int more = 0;
    mg_shm_table_lock(z->table, log);
    cache_node_t *t = totals(z);
    for (cache_node_t *n = mg_shm_table_oldest(z->table); n && done < z->manager_files;) {
        cache_node_t *next = mg_shm_table_newer(z->table, n);
        if (n != t) {
            if (n->expire >= now) {
                break; /* the list is in use order: the rest were used later */
            }
            drop_node(z, n, pool);
            done++;
        }
        n = next;
    }
    for (;;) {
        int over = z->max_size && t && t->fs_size > (uint64_t)z->max_size;
        if (!over && z->min_free) {
            struct statvfs fs;
            over = statvfs(z->path.data, &fs) == 0 &&
                   (int64_t)fs.f_bavail * (int64_t)fs.f_frsize < z->min_free;
        }
        if (!over) {
            break;
        }
        if (done == z->manager_files) {
            more = 1;
            break;
        }
        cache_node_t *n = mg_shm_table_oldest(z->table);
        if (n == t) {
            mg_shm_table_touch(z->table, t);
            n = mg_shm_table_oldest(z->table);
        }
        if (n == NULL || n == t) {
            break;
        }
        drop_node(z, n, pool);
        done++;
    }
    mg_shm_table_unlock(z->table);
    return more;
}

static void run_manager(mg_cycle_t *cycle, int channel, void *data)
{
    cache_main_conf_t *mc = data;
    for (;;) {
        mg_time_update();
        mg_pool_t *pool = mg_pool_create(4096);
        int more = 0;
        mg_msec_t sleep = 1000;
        for (mg_http_cache_zone_t *z = mc->zones; z; z = z->next) {
            more |= manage_zone(z, cycle->log, pool);
            sleep = mg_min(sleep, z->manager_sleep);
        }
        mg_pool_destroy(pool);
        /* a round with work left goes on after manager_sleep, an idle one a second later */
        if (helper_wait(channel, (int)(more ? sleep : 1000))) {
            mg_log_error(MG_LOG_NOTICE, cycle->log, 0, "exiting"); /* as nginx's helpers */
            return;
        }
    }
}

static int is_hex_name(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return i == 32;
}

/* Remove the file read as *st, unless a worker has stored another under its name since (a
 * rename over it: its inode differs); what is left of that race (a store between the check
 * and the unlink) only costs a fetch, as lookups find the file gone. */
static void remove_file(const char *path, const struct stat *st, mg_log_t *log)
{
    struct stat now;
    if (lstat(path, &now) != 0 || now.st_ino != st->st_ino || now.st_dev != st->st_dev) {
        return;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        mg_log_error(MG_LOG_CRIT, log, errno, "unlink() \"%s\" failed", path);
    }
}

/* A file found on disk into the index: its header checked (not its checksum: a lookup reads
 * the whole start before serving it). A file no lookup could serve (another version, too
 * small, truncated or grown, a header that is not this version's, or a name that is not its
 * key's MD5) is removed with the line a lookup would log: the index would never know it, so it
 * would neither count toward max_size nor ever go (nginx's loader indexes every file by its
 * name and removes those it cannot: too small, not a cache file's name). */
static void load_file(mg_http_cache_zone_t *z, const char *path, const char *name, mg_log_t *log,
                      mg_pool_t *pool)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    struct stat st;
    mg_cache_file_header_t buf;
    ssize_t got = fstat(fd, &st) == 0 ? pread(fd, &buf, sizeof(buf), 0) : -1;
    close(fd);
    if (got < 0 || !S_ISREG(st.st_mode)) {
        return;
    }
    /* the header alone: MG_AGAIN says it is good and the parts follow */
    mg_cache_file_meta_t m;
    const char *why = NULL;
    int rc = mg_cache_file_parse((const char *)&buf, (size_t)got, (uint64_t)st.st_size, &m, &why);
    unsigned char md5[16];
    for (int i = 0; i < 16; i++) {
        md5[i] = (unsigned char)mg_hextoi(name + 2 * i, 2);
    }
    if (rc != MG_OK && rc != MG_AGAIN) {
        int other =
            memcmp(m.h.magic, MG_CACHE_FILE_MAGIC, 8) == 0 && m.h.version != MG_CACHE_FILE_VERSION;
        mg_log_error(other ? MG_LOG_INFO : MG_LOG_CRIT, log, 0, "cache file \"%s\" %s", path,
                     why ? why : "is truncated");
        remove_file(path, &st, log);
        return;
    }
    if (memcmp(md5, m.h.md5, 16) != 0) {
        mg_log_error(MG_LOG_CRIT, log, 0, "cache file \"%s\" has md5 collision", path);
        remove_file(path, &st, log);
        return;
    }
    mg_shm_table_lock(z->table, log);
    cache_node_t *n = node_get(z, md5, log, pool, 1);
    if (n && !n->exists) {
        n->exists = 1;
        n->fs_size = disk_size((uint64_t)st.st_size);
        n->valid_sec = m.h.valid_sec;
        n->expire = (int64_t)mg_now.sec + z->inactive;
        cache_node_t *t = totals(z);
        if (t) {
            t->fs_size += n->fs_size;
        }
    }
    mg_shm_table_unlock(z->table);
}

/* where the loader is in its walk: an iteration loads at most loader_files files and lasts at
 * most loader_threshold, then loader_sleep passes (nginx's three parameters) */
typedef struct {
    int channel;
    mg_uint_t files;
    mg_msec_t start; /* the iteration's, monotonic */
} load_pace_t;

/* Walk a directory (the levels' subdirectories under it), pacing the files; 1 when told to
 * stop. */
static int load_dir(mg_http_cache_zone_t *z, char *path, size_t len, int depth, load_pace_t *pace,
                    mg_log_t *log, mg_pool_t *pool)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        return 0;
    }
    struct dirent *e;
    int stop = 0;
    while (!stop && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        size_t nl = strlen(e->d_name);
        if (len + 1 + nl + 1 > PATH_MAX) {
            continue;
        }
        path[len] = '/';
        memcpy(path + len + 1, e->d_name, nl + 1);
        if (depth < 3 && z->level[depth] && nl == z->level[depth]) {
            stop = load_dir(z, path, len + 1 + nl, depth + 1, pace, log, pool);
        } else if (is_hex_name(e->d_name)) {
            load_file(z, path, e->d_name, log, pool);
            if (++pace->files >= z->loader_files ||
                mg_time_monotonic_ms() - pace->start >= z->loader_threshold) {
                stop = helper_wait(pace->channel, (int)z->loader_sleep);
                mg_time_update();
                pace->files = 0;
                pace->start = mg_time_monotonic_ms();
            }
        }
        path[len] = '\0';
    }
    closedir(d);
    return stop;
}

/* One zone's files into its index, which is then warm, and nginx's line on it; 1 when told
 * to stop on the way. */
static int load_zone(mg_http_cache_zone_t *z, int channel, mg_log_t *log, mg_pool_t *pool)
{
    char path[PATH_MAX + 1];
    if (z->path.len >= PATH_MAX) {
        return 0;
    }
    memcpy(path, z->path.data, z->path.len + 1);
    load_pace_t pace = {.channel = channel, .start = mg_time_monotonic_ms()};
    if (load_dir(z, path, z->path.len, 0, &pace, log, pool)) {
        return 1;
    }
    mg_shm_table_lock(z->table, log);
    cache_node_t *t = totals(z);
    uint64_t size = t ? t->fs_size : 0;
    if (t) {
        t->uses = 0; /* warm: the index knows every file */
    }
    mg_shm_table_unlock(z->table);
    mg_log_error(MG_LOG_NOTICE, log, 0, "http file cache: %s %.3fM, bsize: 4096", z->path.data,
                 (double)size / 1048576);
    return 0;
}

/* nginx's loader starts a minute after the master: until it is done, lookups look on disk */
#define LOADER_DELAY 60000

static void run_loader(mg_cycle_t *cycle, int channel, void *data)
{
    cache_main_conf_t *mc = data;
    if (helper_wait(channel, LOADER_DELAY)) {
        /* (told to stop while loading, nginx's loader exits without a word) */
        mg_log_error(MG_LOG_NOTICE, cycle->log, 0, "exiting");
        return;
    }
    mg_time_update();
    mg_pool_t *pool = mg_pool_create(4096);
    for (mg_http_cache_zone_t *z = mc->zones; z; z = z->next) {
        if (load_zone(z, channel, cycle->log, pool)) {
            break;
        }
    }
    mg_pool_destroy(pool);
}

/* ---- $upstream_cache_status ---- */

static mg_int_t var_cache_status(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->cache == NULL || r->cache->status == MG_CACHE_NONE) {
        v->not_found = 1;
        return MG_OK;
    }
    v->value = status_names[r->cache->status];
    v->valid = 1;
    v->not_found = 0;
    v->no_cacheable = 0;
    return MG_OK;
}

/* ---- configuration ---- */

static mg_http_cache_zone_t *zone_get(mg_conf_t *cf, mg_str_t name)
{
    cache_main_conf_t *mc = mg_http_conf_get_main(cf, mg_http_cache_module);
    for (mg_http_cache_zone_t *z = mc->zones; z; z = z->next) {
        if (mg_str_eq_str(z->name, name)) {
            return z;
        }
    }
    mg_http_cache_zone_t *z = mg_pcalloc(cf->pool, sizeof(*z));
    z->name = mg_pstr(cf->pool, name.data, name.len);
    z->next = mc->zones;
    mc->zones = z;
    return z;
}

/* a *_cache_path parameter's time (arg: "name=T", named whole in the error, as nginx) */
static int time_arg(mg_conf_t *cf, mg_str_t arg, int sec, int64_t *out)
{
    const char *eq = memchr(arg.data, '=', arg.len);
    mg_str_t v = {arg.len - (size_t)(eq + 1 - arg.data), (char *)eq + 1};
    *out = mg_parse_time(v, sec);
    if (*out < 0) {
        mg_conf_error(cf, 0, "invalid %.*s value \"%.*s\"", (int)(eq - arg.data), arg.data,
                      (int)arg.len, arg.data);
        return -1;
    }
    return 0;
}

/* *_cache_path PATH [levels=1:2] keys_zone=NAME:SIZE [use_temp_path=on|off] [inactive=T]
 * [max_size=N] [min_free=N] [manager_*=...] [loader_*=...] */
const char *mg_http_cache_set_path(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)conf;
    mg_http_cache_zone_t tmp = {0};
    mg_str_t path = mg_full_name(cf->pool, cf->cycle, cf->args[1], 0);
    while (path.len > 1 && path.data[path.len - 1] == '/') {
        path.data[--path.len] = '\0';
    }
    tmp.path = path;
    tmp.use_temp_path = 1;
    tmp.inactive = 600;
    tmp.manager_files = 100;
    tmp.manager_sleep = 50;
    tmp.manager_threshold = 200;
    tmp.loader_files = 100;
    tmp.loader_sleep = 50;
    tmp.loader_threshold = 200;
    mg_str_t name = mg_null_string;
    size_t size = 0;
    for (size_t i = 2; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        int64_t v;
#define PARAM(s) (a.len > sizeof(s) - 1 && memcmp(a.data, s, sizeof(s) - 1) == 0)
#define VALUE(s) ((mg_str_t){a.len - (sizeof(s) - 1), a.data + sizeof(s) - 1})
        if (PARAM("levels=")) {
            mg_str_t l = VALUE("levels=");
            size_t n = 0, total = 0;
            for (size_t k = 0; k < l.len; k++) {
                if ((k % 2) == 0 && n < 3 && (l.data[k] == '1' || l.data[k] == '2')) {
                    tmp.level[n] = (size_t)(l.data[k] - '0');
                    total += tmp.level[n++];
                } else if ((k % 2) == 1 && l.data[k] == ':' && k + 1 < l.len) {
                    continue;
                } else {
                    goto invalid;
                }
            }
            if (n == 0 || total > 32) {
                goto invalid;
            }
        } else if (PARAM("use_temp_path=")) {
            mg_str_t b = VALUE("use_temp_path=");
            if (mg_str_eq(b, "on")) {
                tmp.use_temp_path = 1;
            } else if (mg_str_eq(b, "off")) {
                tmp.use_temp_path = 0;
            } else {
                mg_conf_error(cf, 0,
                              "invalid use_temp_path value \"%.*s\", it must be \"on\" or "
                              "\"off\"",
                              (int)a.len, a.data);
                return MG_CONF_ERROR;
            }
        } else if (PARAM("keys_zone=")) {
            /* nginx's words; the table needs 8 pages where nginx takes 2 */
            const char *colon = memchr(a.data, ':', a.len);
            v = -1;
            if (colon) {
                mg_str_t s = {a.len - (size_t)(colon + 1 - a.data), (char *)colon + 1};
                char last = s.len ? s.data[s.len - 1] : 0;
                v = last != 'g' && last != 'G' ? mg_parse_size(s) : -1;
            }
            if (v < 0) {
                mg_conf_error(cf, 0, "invalid keys zone size \"%.*s\"", (int)a.len, a.data);
                return MG_CONF_ERROR;
            }
            if (v < 8 * sysconf(_SC_PAGESIZE)) {
                mg_conf_error(cf, 0, "keys zone \"%.*s\" is too small", (int)a.len, a.data);
                return MG_CONF_ERROR;
            }
            mg_str_t zarg = {a.len - 5, a.data + 5}; /* "zone=NAME:SIZE" for the shared reader */
            if (mg_shm_table_zone_arg(cf, zarg, &name, &size) != MG_OK) {
                return MG_CONF_ERROR;
            }
        } else if (PARAM("inactive=")) {
            if (time_arg(cf, a, 1, &v) != 0) {
                return MG_CONF_ERROR;
            }
            tmp.inactive = (time_t)v;
        } else if (PARAM("max_size=") || PARAM("min_free=")) {
            int max = PARAM("max_size=");
            mg_str_t s = max ? VALUE("max_size=") : VALUE("min_free=");
            v = mg_parse_offset(s);
            if (v < 0) {
                mg_conf_error(cf, 0, "invalid %s value \"%.*s\"", max ? "max_size" : "min_free",
                              (int)a.len, a.data);
                return MG_CONF_ERROR;
            }
            *(max ? &tmp.max_size : &tmp.min_free) = v;
        } else if (PARAM("manager_files=") || PARAM("loader_files=")) {
            int mgr = PARAM("manager_files=");
            mg_str_t s = mgr ? VALUE("manager_files=") : VALUE("loader_files=");
            v = mg_atoi(s.data, s.len);
            if (v <= 0) {
                mg_conf_error(cf, 0, "invalid %s value \"%.*s\"",
                              mgr ? "manager_files" : "loader_files", (int)a.len, a.data);
                return MG_CONF_ERROR;
            }
            *(mgr ? &tmp.manager_files : &tmp.loader_files) = (mg_uint_t)v;
        } else if (PARAM("manager_sleep=") || PARAM("manager_threshold=") ||
                   PARAM("loader_sleep=") || PARAM("loader_threshold=")) {
            if (time_arg(cf, a, 0, &v) != 0) {
                return MG_CONF_ERROR;
            }
            mg_msec_t *f = PARAM("manager_sleep=")       ? &tmp.manager_sleep
                           : PARAM("manager_threshold=") ? &tmp.manager_threshold
                           : PARAM("loader_sleep=")      ? &tmp.loader_sleep
                                                         : &tmp.loader_threshold;
            *f = (mg_msec_t)v;
        } else {
            mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)a.len, a.data);
            return MG_CONF_ERROR;
        }
        continue;
    invalid:
        mg_conf_error(cf, 0, "invalid \"levels\" \"%.*s\"", (int)a.len, a.data);
        return MG_CONF_ERROR;
#undef PARAM
#undef VALUE
    }
    if (name.len == 0) {
        mg_conf_error(cf, 0, "\"%s\" must have \"keys_zone\" parameter", cmd->name);
        return MG_CONF_ERROR;
    }
    mg_http_cache_zone_t *z = zone_get(cf, name);
    if (z->table) {
        mg_conf_error(cf, 0, "duplicate zone \"%.*s\"", (int)name.len, name.data);
        return MG_CONF_ERROR;
    }
    cache_main_conf_t *mc = mg_http_conf_get_main(cf, mg_http_cache_module);
    for (mg_http_cache_zone_t *o = mc->zones; o; o = o->next) {
        if (o->table && mg_str_eq_str(o->path, path)) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "the same path name \"%s\" used in %s and in %s",
                         path.data, o->temp.where, mg_conf_where(cf));
            return MG_CONF_ERROR;
        }
    }
    mg_shm_zone_t *zone = mg_shm_zone_add(cf, name, size, &mg_http_cache_module);
    if (zone == NULL) {
        return MG_CONF_ERROR;
    }
    char what[300];
    snprintf(what, sizeof(what), "cache zone \"%.*s\"", (int)mg_min(name.len, 256), name.data);
    mg_http_cache_zone_t *next = z->next;
    mg_str_t zname = z->name;
    *z = tmp;
    z->name = zname;
    z->next = next;
    errno = 0;
    z->table = mg_shm_table_attach(zone->addr, zone->size, sizeof(cache_node_t), what, path);
    if (z->table == NULL && errno == EPROTO) {
        /* the new binary exits and the old master serves on (an older cache node layout) */
        mg_conf_error(cf, 0, "cache zone \"%s\" was made by a binary with another layout",
                      z->name.data);
        return MG_CONF_ERROR;
    }
    if (z->table == NULL) {
        mg_conf_error(cf, 0, "zone \"%s\" is too small", z->name.data);
        return MG_CONF_ERROR;
    }
    mg_str_t was = mg_shm_table_ident(z->table);
    if (!mg_str_eq_str(was, path)) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "cache \"%s\" uses the \"%s\" cache path while previously it used the "
                     "\"%.*s\" cache path",
                     z->name.data, path.data, (int)was.len, was.data);
        return MG_CONF_ERROR;
    }
    mg_shm_table_lock(z->table, cf->log);
    uint32_t hash = mg_shm_table_hash(z->table, totals_key, sizeof(totals_key) - 1);
    if (mg_shm_table_find(z->table, totals_key, sizeof(totals_key) - 1, hash) == NULL) {
        cache_node_t *t = totals(z); /* a new zone: cold until the loader went through */
        if (t) {
            t->uses = 1;
        }
    }
    mg_shm_table_unlock(z->table);
    /* the cache directory is made at start like the temp paths (cache.c's temp files go
     * directly in it with use_temp_path=off) */
    z->temp.name = path;
    const char *where = mg_conf_where(cf);
    z->temp.where = mg_pstr(cf->pool, where, strlen(where)).data;
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    if (cmcf->temp_paths.elts == NULL) {
        mg_array_init(&cmcf->temp_paths, cf->pool, 8, sizeof(mg_http_temp_path_t *));
    }
    *(mg_http_temp_path_t **)mg_array_push(&cmcf->temp_paths) = &z->temp;
    return MG_CONF_OK;
}

#define CACHE_CONF(conf, cmd) ((mg_http_cache_conf_t *)((char *)(conf) + (cmd)->offset))

/* *_cache ZONE | off */
const char *mg_http_cache_set_cache(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_http_cache_conf_t *c = CACHE_CONF(conf, cmd);
    if (c->zone != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    if (mg_str_eq(v, "off")) {
        c->zone = NULL;
        return MG_CONF_OK;
    }
    if (mg_http_script_variables_count(v)) {
        c->zone = NULL;
        c->zone_cv = mg_pcalloc(cf->pool, sizeof(*c->zone_cv));
        return mg_http_compile_complex_value(cf, v, c->zone_cv) == MG_OK ? MG_CONF_OK
                                                                         : MG_CONF_ERROR;
    }
    c->zone = zone_get(cf, v);
    if (c->zone->used_by == NULL) {
        c->zone->used_by = cmd->name;
    }
    return MG_CONF_OK;
}

const char *mg_http_cache_set_key(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_http_complex_value_t **f = (mg_http_complex_value_t **)((char *)conf + cmd->offset);
    if (*f != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    *f = mg_pcalloc(cf->pool, sizeof(**f));
    return mg_http_compile_complex_value(cf, cf->args[1], *f) == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

/* *_cache_valid [CODE ... | any] TIME */
const char *mg_http_cache_set_valid(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_array_t **f = (mg_array_t **)((char *)conf + cmd->offset);
    if (*f == MG_CONF_UNSET_PTR) {
        *f = mg_pcalloc(cf->pool, sizeof(mg_array_t));
        mg_array_init(*f, cf->pool, 4, sizeof(mg_http_cache_valid_t));
    }
    mg_str_t t = cf->args[cf->nargs - 1];
    int64_t sec = mg_parse_time(t, 1);
    if (sec < 0) {
        mg_conf_error(cf, 0, "invalid time value \"%.*s\"", (int)t.len, t.data);
        return MG_CONF_ERROR;
    }
    if (cf->nargs == 2) {
        static const mg_uint_t dflt[] = {200, 301, 302};
        for (size_t i = 0; i < 3; i++) {
            mg_http_cache_valid_t *v = mg_array_push(*f);
            v->status = dflt[i];
            v->sec = (time_t)sec;
        }
        return MG_CONF_OK;
    }
    for (size_t i = 1; i < cf->nargs - 1; i++) {
        mg_str_t a = cf->args[i];
        mg_http_cache_valid_t *v = mg_array_push(*f);
        v->sec = (time_t)sec;
        if (mg_str_eq(a, "any")) {
            v->status = 0;
            continue;
        }
        int64_t s = mg_atoi(a.data, a.len);
        if (s < 100 || s > 599) {
            mg_conf_error(cf, 0, "invalid status \"%.*s\"", (int)a.len, a.data);
            return MG_CONF_ERROR;
        }
        v->status = (mg_uint_t)s;
    }
    return MG_CONF_OK;
}

const char *mg_http_cache_set_methods(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    static const struct {
        const char *name;
        int id;
    } names[] = {
        /* nginx's: the methods whose answers a cache may keep */
        {"GET", MG_HTTP_GET},
        {"HEAD", MG_HTTP_HEAD},
        {"POST", MG_HTTP_POST},
    };
    mg_uint_t *f = (mg_uint_t *)((char *)conf + cmd->offset);
    if (*f) {
        return "is duplicate";
    }
    for (size_t i = 1; i < cf->nargs; i++) {
        size_t k = 0;
        while (k < mg_nelems(names) && !mg_str_caseeq(cf->args[i], names[k].name)) {
            k++;
        }
        if (k == mg_nelems(names)) {
            mg_conf_error(cf, 0, "invalid value \"%.*s\"", (int)cf->args[i].len, cf->args[i].data);
            return MG_CONF_ERROR;
        }
        if (*f & (1u << names[k].id)) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate value \"%.*s\"", (int)cf->args[i].len,
                        cf->args[i].data);
        }
        *f |= 1u << names[k].id;
    }
    return MG_CONF_OK;
}

/* *_cache_bypass, *_no_cache: values added to the list, repeated directives included */
const char *mg_http_cache_set_predicates(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_array_t **f = (mg_array_t **)((char *)conf + cmd->offset);
    if (*f == MG_CONF_UNSET_PTR) {
        *f = mg_pcalloc(cf->pool, sizeof(mg_array_t));
        mg_array_init(*f, cf->pool, 4, sizeof(mg_http_complex_value_t));
    }
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_http_complex_value_t *cv = mg_array_push(*f);
        if (mg_http_compile_complex_value(cf, cf->args[i], cv) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

const char *mg_http_cache_set_num(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_int_t *f = (mg_int_t *)((char *)conf + cmd->offset);
    if (*f != MG_CONF_UNSET) {
        return "is duplicate";
    }
    int64_t v = mg_atoi(cf->args[1].data, cf->args[1].len);
    if (v < 1) {
        return "invalid number";
    }
    *f = (mg_int_t)v;
    return MG_CONF_OK;
}

const char *mg_http_cache_set_flag(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    return mg_conf_set_flag(cf, cmd, conf);
}

/* *_cache_use_stale: *_next_upstream's names, "updating", "off" */
const char *mg_http_cache_set_use_stale(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_uint_t *f = (mg_uint_t *)((char *)conf + cmd->offset);
    if (*f) {
        return "is duplicate";
    }
    mg_uint_t v = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        const mg_conf_enum_t *e = mg_upstream_ft_names;
        while (e->name && !mg_str_caseeq(cf->args[i], e->name)) {
            e++;
        }
        if (e->name == NULL) {
            mg_conf_error(cf, 0, "invalid value \"%.*s\"", (int)cf->args[i].len, cf->args[i].data);
            return MG_CONF_ERROR;
        }
        mg_uint_t bit = e->value ? (mg_uint_t)e->value : MG_HTTP_CACHE_STALE_UPDATING;
        if (v & bit) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate value \"%.*s\"", (int)cf->args[i].len,
                        cf->args[i].data);
        }
        v |= bit;
    }
    *f = v;
    return MG_CONF_OK;
}

void mg_http_cache_conf_init(mg_http_cache_conf_t *c)
{
    c->zone = MG_CONF_UNSET_PTR;
    c->key = MG_CONF_UNSET_PTR;
    c->valid = MG_CONF_UNSET_PTR;
    c->methods = 0;
    c->min_uses = MG_CONF_UNSET;
    c->bypass = MG_CONF_UNSET_PTR;
    c->no_cache = MG_CONF_UNSET_PTR;
    c->convert_head = MG_CONF_UNSET;
    c->use_stale = 0;
    c->background_update = MG_CONF_UNSET;
    c->lock = MG_CONF_UNSET;
    c->lock_age = MG_CONF_UNSET;
    c->lock_timeout = MG_CONF_UNSET;
    c->revalidate = MG_CONF_UNSET;
    c->max_range_offset = MG_CONF_UNSET;
}

const char *mg_http_cache_conf_merge(mg_conf_t *cf, mg_http_cache_conf_t *conf,
                                     mg_http_cache_conf_t *prev, const char *p,
                                     const char *dflt_key)
{
    (void)p;
    if (conf->zone == MG_CONF_UNSET_PTR) {
        conf->zone = prev->zone;
        conf->zone_cv = prev->zone_cv;
    }
    if (conf->zone == MG_CONF_UNSET_PTR) {
        conf->zone = NULL;
    }
    mg_conf_merge_ptr(conf->key, prev->key, NULL);
    if (conf->key == NULL) {
        /* proxy's default; the CGI protocols have none, and nginx then takes the empty key
         * (every request shares one entry) */
        const char *k = dflt_key ? dflt_key : "";
        conf->key = mg_pcalloc(cf->pool, sizeof(*conf->key));
        mg_str_t ks = {strlen(k), (char *)k};
        if (mg_http_compile_complex_value(cf, ks, conf->key) != MG_OK) {
            return MG_CONF_ERROR;
        }
        if (prev->key == MG_CONF_UNSET_PTR || prev->key == NULL) {
            prev->key = conf->key; /* compiled once for the levels below */
        }
    }
    mg_conf_merge_ptr(conf->valid, prev->valid, NULL);
    if (conf->methods == 0) {
        conf->methods = prev->methods;
    }
    /* as nginx: GET and HEAD are always cached */
    conf->methods |= (1u << MG_HTTP_GET) | (1u << MG_HTTP_HEAD);
    mg_conf_merge(conf->min_uses, prev->min_uses, 1);
    mg_conf_merge_ptr(conf->bypass, prev->bypass, NULL);
    mg_conf_merge_ptr(conf->no_cache, prev->no_cache, NULL);
    mg_conf_merge(conf->convert_head, prev->convert_head, 1);
    if (conf->use_stale == 0) {
        conf->use_stale = prev->use_stale;
    }
    if (conf->use_stale & MG_UPSTREAM_FT_OFF) {
        conf->use_stale = MG_UPSTREAM_FT_OFF; /* "off" with others: off, as nginx */
    }
    mg_conf_merge(conf->background_update, prev->background_update, 0);
    mg_conf_merge(conf->lock, prev->lock, 0);
    mg_conf_merge(conf->lock_age, prev->lock_age, 5000);
    mg_conf_merge(conf->lock_timeout, prev->lock_timeout, 5000);
    mg_conf_merge(conf->revalidate, prev->revalidate, 0);
    mg_conf_merge(conf->max_range_offset, prev->max_range_offset, MG_CONF_UNSET);
    return MG_CONF_OK;
}

static void *cache_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(cache_main_conf_t));
}

static const char *cache_init_main_conf(mg_conf_t *cf, void *conf)
{
    /* a zone named by a *_cache must have been declared by a *_cache_path (nginx's words, at
     * the http block's end, where nginx finds it) */
    cache_main_conf_t *mc = conf;
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    for (mg_http_cache_zone_t *z = mc->zones; z; z = z->next) {
        if (z->table == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "\"%s\" zone \"%s\" is unknown in %s",
                         z->used_by, z->name.data, cmcf->block_end);
            return MG_CONF_ERROR;
        }
    }
    mg_str_t name = mg_string("upstream_cache_status");
    mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return MG_CONF_ERROR;
    }
    v->get_handler = var_cache_status;
    return MG_CONF_OK;
}

/* After http{}: the cache helper processes. */
static mg_int_t cache_init(mg_conf_t *cf)
{
    cache_main_conf_t *mc = mg_http_conf_get_main(cf, mg_http_cache_module);
    if (mc->zones == NULL) {
        return MG_OK;
    }
    /* as nginx: a manager and a loader for all the zones, started by the master */
    mg_cycle_t *cycle = cf->cycle;
    if (cycle->helpers.elts == NULL) {
        mg_array_init(&cycle->helpers, cycle->pool, 2, sizeof(mg_cycle_helper_t));
    }
    mg_cycle_helper_t *h = mg_array_push(&cycle->helpers);
    *h = (mg_cycle_helper_t){.title = "cache manager process", .run = run_manager, .data = mc};
    h = mg_array_push(&cycle->helpers);
    *h = (mg_cycle_helper_t){
        .title = "cache loader process", .run = run_loader, .data = mc, .once = 1};
    return MG_OK;
}

mg_module_t mg_http_cache_module = {
    .name = "http_cache",
    .init_filters = cache_init_filters,
    .create_main_conf = cache_create_main_conf,
    .init_main_conf = cache_init_main_conf,
    .init = cache_init,
};
