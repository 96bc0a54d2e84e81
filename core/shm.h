/*
 * Shared memory zones and the lock that guards them. A zone is one anonymous shared mapping
 * made by the master while it builds a generation, so every worker forked from it sees the
 * same pages. Zones belong to the generations that list them: a reload takes over a zone of
 * the running generation with the same name, owner and size (its contents survive), and a
 * zone is unmapped once no generation of the process lists it.
 */
#ifndef MG_SHM_H
#define MG_SHM_H

#include <pthread.h>

#include "mg.h"

typedef struct {
    char *name;
    size_t size;
    void *addr;      /* size bytes, zero-filled when the zone is new */
    const void *tag; /* the owner (its module), so two uses of one name are caught */
    mg_uint_t refs;  /* generations listing the zone */
} mg_shm_zone_t;

/* The zone NAME for the configuration being read: the one this generation already has (the
 * caller tells a repeated declaration), the running generation's when name, tag and size
 * match, or a new mapping. NULL after a config error was logged (a conflicting size or owner,
 * or mmap failed). The zone lives as long as a generation lists it. */
mg_shm_zone_t *mg_shm_zone_add(mg_conf_t *cf, mg_str_t name, size_t size, const void *tag);
/* The zone NAME of a generation, or NULL. */
mg_shm_zone_t *mg_shm_zone_find(mg_cycle_t *cycle, mg_str_t name);

/* A lock between processes, kept inside a zone: a robust, process-shared pthread mutex, so
 * that the kernel hands it over when its holder dies (a worker killed by SIGKILL) instead of
 * leaving everybody else waiting forever. Uncontended it costs one atomic instruction, as a
 * spinlock would, and a waiter sleeps in the kernel instead of spinning. */
typedef struct {
    pthread_mutex_t mutex;
} mg_shmtx_t;

/* Initialize the lock in fresh shared memory; MG_OK or MG_ERROR (errno set). */
mg_int_t mg_shmtx_init(mg_shmtx_t *mtx);
/* Take the lock. MG_OK, or MG_ABORT when the previous holder died holding it: the lock is
 * taken and usable again, but what it guards may be half-written and must be repaired. */
mg_int_t mg_shmtx_lock(mg_shmtx_t *mtx);
void mg_shmtx_unlock(mg_shmtx_t *mtx);

#endif
