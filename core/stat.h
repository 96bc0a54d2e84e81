/*
 * The connection and request counters nginx's stub_status shows: accepted, handled, active,
 * requests, and the connections reading a request head, writing a response or waiting (idle,
 * reusable). They live in the server's metrics zone (metrics.h), which every generation of the
 * server takes over and the master maps before any fork, so every worker adds to the same
 * numbers and a HUP keeps them, as nginx's do, and so does a USR2 (the new binary's workers
 * count into the same pages); two servers embedded in one process count apart. A counter is
 * split in shards by worker slot, each on its own cache line: a worker adds to its own with one
 * uncontended atomic instruction, and a reader sums the shards.
 */
#ifndef MG_STAT_H
#define MG_STAT_H

#include "cycle.h"
#include "mg.h"
#include "server.h"

enum {
    MG_STAT_NONE = 0, /* a connection's state: neither reading nor writing */
    MG_STAT_READING,
    MG_STAT_WRITING,
    MG_STAT_WAITING,
    MG_STAT_ACCEPTED,
    MG_STAT_HANDLED,
    MG_STAT_ACTIVE,
    MG_STAT_REQUESTS,
    MG_STAT_DRAINING, /* connections of draining (or quitting) workers */
    MG_STAT_N
};

#define MG_STAT_SHARDS 64

typedef struct mg_stat_shard_s {
    int64_t v[MG_STAT_N];
} __attribute__((aligned(64))) mg_stat_shard_t;

/* The sum of counter `which` over every process of the server `cycle` belongs to. */
int64_t mg_stat_get(mg_cycle_t *cycle, int which);

static inline void mg_stat_add(mg_server_t *srv, int which, int64_t n)
{
    mg_stat_shard_t *stat = srv->cycle ? srv->cycle->stat : NULL;
    if (stat) {
        __atomic_fetch_add(&stat[srv->worker_id % MG_STAT_SHARDS].v[which], n, __ATOMIC_RELAXED);
    }
}

/* A connection moves from state *state (MG_STAT_NONE, _READING or _WRITING) to `to`; leaving
 * MG_STAT_NONE starts a request, which is counted. */
static inline void mg_stat_state(mg_server_t *srv, unsigned char *state, int to)
{
    if (*state == to) {
        return;
    }
    mg_stat_add(srv, *state == MG_STAT_NONE ? MG_STAT_REQUESTS : *state,
                *state == MG_STAT_NONE ? 1 : -1);
    if (to != MG_STAT_NONE) {
        mg_stat_add(srv, to, 1);
    }
    *state = (unsigned char)to;
}

#endif
