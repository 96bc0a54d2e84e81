/*
 * The stub_status counters (stat.h): process-local until the metrics zone takes them over.
 */
#include "stat.h"

static mg_stat_shard_t local[MG_STAT_SHARDS];

mg_stat_shard_t *mg_stat = local;

int64_t mg_stat_get(int which)
{
    int64_t sum = 0;
    for (size_t i = 0; i < MG_STAT_SHARDS; i++) {
        sum += __atomic_load_n(&mg_stat[i].v[which], __ATOMIC_RELAXED);
    }
    return sum;
}
