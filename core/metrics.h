/*
 * The numbers the `metrics` handler shows (modules/metrics.c): process-model counters the
 * master keeps (reloads, upgrades, generation, worker restarts, draining workers), the
 * stub_status counters (stat.h), and labelled series counted where requests end (per server
 * and status), where upstream tries end (per group: count, response-time histogram, peer
 * state) and where Lua code fails. They live in one shared memory zone of the core (shm.c),
 * so they survive a HUP (the zone is taken over) and a USR2 (its memfd goes to the new binary,
 * whose workers then count into the same pages as the old ones).
 */
#ifndef MG_METRICS_H
#define MG_METRICS_H

#include "mg.h"
#include "stat.h"

/* Labelled series, the table's keys (metric, label values). */
enum {
    MG_METRIC_HTTP_REQUESTS = 1, /* server, code */
    MG_METRIC_UPSTREAM_REQUESTS, /* upstream */
    MG_METRIC_UPSTREAM_RESPONSE, /* upstream: histogram */
    MG_METRIC_PEER_DOWN,         /* upstream, peer: monotonic ms until which it is failed */
};

/* The histogram's upper bounds, in milliseconds (then +Inf). */
#define MG_METRICS_BUCKETS 11
extern const mg_msec_t mg_metrics_bucket_ms[MG_METRICS_BUCKETS];
/* v[0..MG_METRICS_BUCKETS]: the tries of each bucket alone (above the previous bound, up to
 * its own; the last above every bound), summed when shown; then the sum in ms, then the count */
#define MG_METRICS_SUM (MG_METRICS_BUCKETS + 1)
#define MG_METRICS_COUNT (MG_METRICS_BUCKETS + 2)
#define MG_METRICS_VALUES (MG_METRICS_BUCKETS + 3)

#define MG_METRICS_KEY 116
#define MG_METRICS_MASTERS 4

typedef struct {
    uint32_t state; /* 0 empty, 1 being claimed, 2 ready (key written, read-only) */
    uint16_t metric;
    uint16_t keylen;
    uint32_t hash;
    char key[MG_METRICS_KEY]; /* the label values, each ended by '\0' */
    int64_t v[MG_METRICS_VALUES];
} mg_metrics_entry_t;

typedef struct {
    pid_t pid; /* 0: free */
    int64_t draining_workers;
} mg_metrics_master_t;

#define MG_METRICS_ENTRIES 2048

typedef struct mg_metrics_shm_s {
    char magic[8];
    int64_t reloads_ok, reloads_failed;
    int64_t upgrades_ok, upgrades_failed;
    int64_t generation;
    int64_t worker_restarts;
    int64_t lua_errors;
    int64_t dropped; /* series that found the table full */
    mg_metrics_master_t masters[MG_METRICS_MASTERS];
    /* the last connection number given out (mg_conn_number); in what was the padding before
     * stat, so an older binary's layout (USR2) is unchanged and its zone kept */
    int64_t conn_serial;
    /* the last temp file number given out (core/http/temp_file.c), in the same padding */
    int64_t temp_number;
    mg_stat_shard_t stat[MG_STAT_SHARDS];
    mg_metrics_entry_t entries[MG_METRICS_ENTRIES];
} mg_metrics_shm_t;

/* While a generation is built (cycle.c, after its configuration was read): take over the
 * running generation's zone (or the old binary's), else make it; cycle->metrics and
 * cycle->stat point into it (NULL under -t). A server's numbers are its own: every metrics_*
 * function takes the zone (NULL: nothing to count). MG_OK, or MG_ERROR logged. */
mg_int_t mg_metrics_init(mg_conf_t *cf);

static inline void mg_metrics_add(int64_t *counter, int64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

#define MG_METRICS_INC(m, field)                                                                   \
    do {                                                                                           \
        if (m) {                                                                                   \
            mg_metrics_add(&(m)->field, 1);                                                        \
        }                                                                                          \
    } while (0)

/* The entry of series (metric, labels...) with n label values, made on first use; NULL when
 * the table is full (counted in `dropped`) or before the zone exists. */
mg_metrics_entry_t *mg_metrics_entry(mg_metrics_shm_t *m, int metric, size_t n,
                                     const mg_str_t *labels);

/* A counting site's memory of the entry it found last (zeroed memory: none), so that the
 * same series counted again costs no hash or probe: taken when the labels are the storage it
 * was found for (labels that live as long as the cache, unchanged: a configuration's names)
 * and, else, when its key is the series' (a copied or stale one is not). Per process, in the
 * object the labels come from. */
typedef struct {
    mg_metrics_shm_t *m;
    mg_metrics_entry_t *e;
    const char *label[2]; /* the labels' storage and lengths when e was found */
    uint32_t len[2];
    mg_uint_t num; /* a label given as a number (http's status) */
} mg_metrics_cache_t;

/* A request was logged: moongate_http_requests_total{server,code}; c (NULL: none) is the
 * server's cache. */
void mg_metrics_http_request(mg_metrics_shm_t *m, mg_metrics_cache_t *c, mg_str_t server,
                             mg_uint_t status);
/* An upstream try ended after ms milliseconds (ms < 0: no response time); c (NULL: none) is
 * the upstream's two caches. */
void mg_metrics_upstream_try(mg_metrics_shm_t *m, mg_metrics_cache_t *c, mg_str_t upstream,
                             mg_msec_t ms);
/* A peer's state after a try: failed until down_until (monotonic ms), 0 when usable; c (NULL:
 * none) is the peer's cache. */
void mg_metrics_peer_state(mg_metrics_shm_t *m, mg_metrics_cache_t *c, mg_str_t upstream,
                           mg_str_t peer, mg_msec_t down_until);

/* The master's own gauges: its slot (*slot: index + 1, 0 before the first update; taken then,
 * given back at exit). */
void mg_metrics_master_set(mg_metrics_shm_t *m, int *slot, int64_t draining_workers);
void mg_metrics_master_exit(mg_metrics_shm_t *m, int *slot);

/* A source of gauge samples computed when shown (lua_shared_dict sizes): `read` calls
 * mg_metrics_sample for each. Registered while a generation is built, for that generation. */
typedef struct mg_metrics_sink_s mg_metrics_sink_t;
typedef void (*mg_metrics_read_pt)(void *data, mg_metrics_sink_t *sink);
typedef struct {
    const char *family; /* "moongate_shdict_bytes" */
    const char *help;
    mg_metrics_read_pt read;
    void *data;
} mg_metrics_source_t;

void mg_metrics_add_source(mg_cycle_t *cycle, const char *family, const char *help,
                           mg_metrics_read_pt read, void *data);
/* The sink's owner (the metrics module) prints a sample: label names and values alternate
 * in names[]/values[]. */
struct mg_metrics_sink_s {
    void (*sample)(mg_metrics_sink_t *sink, size_t n, const char *const *names,
                   const mg_str_t *values, double value);
};
static inline void mg_metrics_sample(mg_metrics_sink_t *sink, size_t n, const char *const *names,
                                     const mg_str_t *values, double value)
{
    sink->sample(sink, n, names, values, value);
}

#endif
