/*
 * The metrics zone (metrics.h): made or taken over with each generation, and the counting
 * side of the labelled series. The table is lock-free so that counting a request costs a hash
 * and an atomic add: a series' slot is claimed once with a compare-and-swap, its key written,
 * then published; afterwards only its values change, atomically.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "cycle.h"
#include "metrics.h"
#include "mgtime.h"
#include "shm.h"
#include "str.h"

#define MAGIC "MGMET1"

enum { EMPTY = 0, CLAIMED, READY };

/* Give up waiting for a claimed slot after this many yields (its claimer may have died
 * between the claim and the publication): the series then takes a later slot. */
#define CLAIM_SPINS 1000
/* How far a series is looked for from its hash's slot. */
#define PROBES 256

const mg_msec_t mg_metrics_bucket_ms[MG_METRICS_BUCKETS] = {5,   10,   25,   50,   100,  250,
                                                            500, 1000, 2500, 5000, 10000};

mg_int_t mg_metrics_init(mg_conf_t *cf)
{
    mg_cycle_t *cycle = cf->cycle;
    if (cycle->test_config || cycle->signalling) {
        return MG_OK; /* nothing counts: -s would only fault in (and clear) half a megabyte */
    }
    mg_shm_zone_t *zone = mg_shm_zone_add(cf, (mg_str_t)mg_string("moongate:metrics"),
                                          sizeof(mg_metrics_shm_t), &mg_core_module);
    if (zone == NULL) {
        return MG_ERROR;
    }
    mg_metrics_shm_t *m = zone->addr;
    if (memcmp(m->magic, MAGIC, sizeof(MAGIC)) != 0) {
        /* fresh (zeros), or a zone of the same size from a binary that laid it out otherwise
         * (a magic of its own); a fresh one is not cleared: that would fault in its half
         * megabyte, resident from then on in a server that counts a few series */
        static const char zeros[sizeof(MAGIC)];
        if (memcmp(m->magic, zeros, sizeof(MAGIC)) != 0) {
            memset(m, 0, sizeof(*m));
        }
        memcpy(m->magic, MAGIC, sizeof(MAGIC));
        m->generation = 1;
    }
    /* every later generation of the server takes it over (same name, owner and size), so
     * the numbers stay where they are; another server of the process has a zone of its own */
    cycle->metrics = m;
    cycle->stat = m->stat;
    return MG_OK;
}

static uint32_t hash_key(int metric, const char *key, size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)metric;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    }
    return h;
}

mg_metrics_entry_t *mg_metrics_entry(mg_metrics_shm_t *m, int metric, size_t n,
                                     const mg_str_t *labels)
{
    if (m == NULL) {
        return NULL;
    }
    char key[MG_METRICS_KEY];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        /* a label too long for the key is cut: its series is then shared by the names that
         * begin alike, which beats losing the count */
        size_t l = mg_min(labels[i].len, sizeof(key) - len - (n - i));
        memcpy(key + len, labels[i].data, l);
        len += l;
        key[len++] = '\0';
    }
    uint32_t h = hash_key(metric, key, len);
    for (size_t probe = 0; probe < PROBES; probe++) {
        mg_metrics_entry_t *e = &m->entries[(h + probe) % MG_METRICS_ENTRIES];
        uint32_t st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
        for (int spins = 0; st == CLAIMED && spins < CLAIM_SPINS; spins++) {
            sched_yield();
            st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
        }
        if (st == EMPTY) {
            uint32_t expect = EMPTY;
            if (__atomic_compare_exchange_n(&e->state, &expect, CLAIMED, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                e->metric = (uint16_t)metric;
                e->keylen = (uint16_t)len;
                e->hash = h;
                memcpy(e->key, key, len);
                __atomic_store_n(&e->state, READY, __ATOMIC_RELEASE);
                return e;
            }
            /* another process claimed it first: it may be claiming this very series */
            probe--;
            continue;
        }
        if (st == READY && e->hash == h && e->metric == metric && e->keylen == len &&
            memcmp(e->key, key, len) == 0) {
            return e;
        }
    }
    mg_metrics_add(&m->dropped, 1);
    return NULL;
}

/* Whether e is the series (metric, labels...): its key compared with the labels in place (a
 * label cut to fit the key never matches: its series is then looked up each time) */
static int entry_is(const mg_metrics_entry_t *e, int metric, size_t n, const mg_str_t *labels)
{
    if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != READY || e->metric != metric) {
        return 0;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = labels[i].len;
        if (off + l >= e->keylen || e->key[off + l] != '\0' ||
            memcmp(e->key + off, labels[i].data, l) != 0) {
            return 0;
        }
        off += l + 1;
    }
    return off == e->keylen;
}

/* The cache's entry when the labels are the same storage and lengths as when it was found,
 * and num the same: a READY entry's key is written once, so it is still the series' without
 * building and comparing the key (~150 instructions a count; http's count runs every
 * request). NULL otherwise. */
static mg_metrics_entry_t *cache_hit(mg_metrics_shm_t *m, mg_metrics_cache_t *c, int metric,
                                     size_t n, const mg_str_t *labels, mg_uint_t num)
{
    if (c == NULL || c->e == NULL || c->m != m || c->num != num) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (c->label[i] != labels[i].data || c->len[i] != labels[i].len) {
            return NULL;
        }
    }
    if (__atomic_load_n(&c->e->state, __ATOMIC_ACQUIRE) != READY || c->e->metric != metric) {
        return NULL;
    }
    return c->e;
}

/* mg_metrics_entry through a cache (NULL: none): the cached entry is taken when it is this
 * series' (so that a struct copied with its cache, or a zone cleared for another layout,
 * cannot mislead it), which costs no key, hash or probe; `same` labels (n of them at most 2,
 * NULL: none) and num are remembered for cache_hit */
static mg_metrics_entry_t *entry_cached(mg_metrics_shm_t *m, mg_metrics_cache_t *c, int metric,
                                        size_t n, const mg_str_t *labels, size_t nsame,
                                        const mg_str_t *same, mg_uint_t num)
{
    mg_metrics_entry_t *e;
    if (c && c->e && c->m == m && entry_is(c->e, metric, n, labels)) {
        e = c->e;
    } else {
        e = mg_metrics_entry(m, metric, n, labels);
    }
    if (c && e) {
        c->m = m;
        c->e = e;
        c->num = num;
        for (size_t i = 0; i < 2; i++) {
            c->label[i] = i < nsame ? same[i].data : NULL;
            c->len[i] = i < nsame && same[i].len <= UINT32_MAX ? (uint32_t)same[i].len : 0;
        }
    }
    return e;
}

void mg_metrics_http_request(mg_metrics_shm_t *m, mg_metrics_cache_t *c, mg_str_t server,
                             mg_uint_t status)
{
    if (m == NULL) {
        return;
    }
    mg_metrics_entry_t *e = cache_hit(m, c, MG_METRIC_HTTP_REQUESTS, 1, &server, status);
    if (e == NULL) {
        char code[3];
        mg_put_uint3(code, status);
        mg_str_t labels[2] = {server, {3, code}};
        e = entry_cached(m, c, MG_METRIC_HTTP_REQUESTS, 2, labels, 1, &server, status);
    }
    if (e) {
        mg_metrics_add(&e->v[0], 1);
    }
}

void mg_metrics_upstream_try(mg_metrics_shm_t *m, mg_metrics_cache_t *c, mg_str_t upstream,
                             mg_msec_t ms)
{
    if (m == NULL) {
        return;
    }
    mg_metrics_entry_t *e = cache_hit(m, c, MG_METRIC_UPSTREAM_REQUESTS, 1, &upstream, 0);
    if (e == NULL) {
        e = entry_cached(m, c, MG_METRIC_UPSTREAM_REQUESTS, 1, &upstream, 1, &upstream, 0);
    }
    if (e) {
        mg_metrics_add(&e->v[0], 1);
    }
    if (ms < 0) {
        return;
    }
    c = c ? c + 1 : NULL;
    e = cache_hit(m, c, MG_METRIC_UPSTREAM_RESPONSE, 1, &upstream, 0);
    if (e == NULL) {
        e = entry_cached(m, c, MG_METRIC_UPSTREAM_RESPONSE, 1, &upstream, 1, &upstream, 0);
    }
    if (e == NULL) {
        return;
    }
    /* one bucket counts it (three atomic adds a try, not fourteen): the exposition sums
     * them into Prometheus's cumulative ones */
    size_t b = 0;
    while (b < MG_METRICS_BUCKETS && ms > mg_metrics_bucket_ms[b]) {
        b++;
    }
    mg_metrics_add(&e->v[b], 1);
    mg_metrics_add(&e->v[MG_METRICS_SUM], ms);
    mg_metrics_add(&e->v[MG_METRICS_COUNT], 1);
}

void mg_metrics_peer_state(mg_metrics_shm_t *m, mg_metrics_cache_t *c, mg_str_t upstream,
                           mg_str_t peer, mg_msec_t down_until)
{
    if (m == NULL) {
        return;
    }
    mg_str_t labels[2] = {upstream, peer};
    mg_metrics_entry_t *e = cache_hit(m, c, MG_METRIC_PEER_DOWN, 2, labels, 0);
    if (e == NULL) {
        e = entry_cached(m, c, MG_METRIC_PEER_DOWN, 2, labels, 2, labels, 0);
    }
    if (e) {
        __atomic_store_n(&e->v[0], (int64_t)down_until, __ATOMIC_RELAXED);
    }
}

void mg_metrics_master_set(mg_metrics_shm_t *m, int *slot, int64_t draining_workers)
{
    if (m == NULL) {
        return;
    }
    pid_t pid = getpid();
    if (*slot == 0) {
        for (int i = 0; i < MG_METRICS_MASTERS; i++) {
            pid_t cur = __atomic_load_n(&m->masters[i].pid, __ATOMIC_ACQUIRE);
            /* a slot of a master that died without giving it back is taken over */
            if (cur != 0 && (cur == pid || kill(cur, 0) == 0 || errno != ESRCH)) {
                continue;
            }
            if (__atomic_compare_exchange_n(&m->masters[i].pid, &cur, pid, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                *slot = i + 1;
                break;
            }
        }
        if (*slot == 0) {
            return;
        }
    }
    __atomic_store_n(&m->masters[*slot - 1].draining_workers, draining_workers, __ATOMIC_RELAXED);
}

void mg_metrics_master_exit(mg_metrics_shm_t *m, int *slot)
{
    if (m == NULL || *slot == 0) {
        return;
    }
    __atomic_store_n(&m->masters[*slot - 1].draining_workers, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&m->masters[*slot - 1].pid, 0, __ATOMIC_RELEASE);
    *slot = 0;
}

void mg_metrics_add_source(mg_cycle_t *cycle, const char *family, const char *help,
                           mg_metrics_read_pt read, void *data)
{
    mg_metrics_source_t *s = mg_array_push(&cycle->metrics_sources);
    *s = (mg_metrics_source_t){.family = family, .help = help, .read = read, .data = data};
}
