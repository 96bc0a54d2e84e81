/*
 * The stub_status counters (stat.h): one shared anonymous page, mapped once per process.
 */
#include <sys/mman.h>

#include "log.h"
#include "stat.h"

static mg_stat_shard_t local[MG_STAT_SHARDS];

mg_stat_shard_t *mg_stat = local;

void mg_stat_init(void)
{
    if (mg_stat != local) {
        return;
    }
    void *p = mmap(NULL, sizeof(local), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        /* the counters then stay per process: stub_status shows one worker's share */
        mg_log_stderr(errno, "[alert] mmap(MAP_ANONYMOUS|MAP_SHARED, %zu) failed", sizeof(local));
        return;
    }
    memcpy(p, local, sizeof(local));
    mg_stat = p;
}

int64_t mg_stat_get(int which)
{
    int64_t sum = 0;
    for (size_t i = 0; i < MG_STAT_SHARDS; i++) {
        sum += __atomic_load_n(&mg_stat[i].v[which], __ATOMIC_RELAXED);
    }
    return sum;
}
