/*
 * The stub_status counters (stat.h), in the server's metrics zone.
 */
#include "stat.h"

int64_t mg_stat_get(mg_cycle_t *cycle, int which)
{
    mg_stat_shard_t *stat = cycle ? cycle->stat : NULL;
    int64_t sum = 0;
    for (size_t i = 0; stat && i < MG_STAT_SHARDS; i++) {
        sum += __atomic_load_n(&stat[i].v[which], __ATOMIC_RELAXED);
    }
    return sum;
}
