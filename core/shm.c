/*
 * Shared memory zones of a generation (see shm.h) and the process-shared lock. Zones are
 * malloc'ed, not pool memory: one zone may outlive the generation that created it.
 */
#include <sys/mman.h>

#include "cycle.h"
#include "pool.h"
#include "shm.h"

mg_shm_zone_t *mg_shm_zone_find(mg_cycle_t *cycle, mg_str_t name)
{
    if (cycle == NULL || cycle->shm_zones.elts == NULL) {
        return NULL;
    }
    mg_shm_zone_t **zones = cycle->shm_zones.elts;
    for (size_t i = 0; i < cycle->shm_zones.nelts; i++) {
        if (strlen(zones[i]->name) == name.len &&
            memcmp(zones[i]->name, name.data, name.len) == 0) {
            return zones[i];
        }
    }
    return NULL;
}

/* A generation's pool cleanup: the other processes that mapped the zone keep their own
 * mapping, so unmapping here only ends this process's use of it. */
static void zone_release(void *data)
{
    mg_shm_zone_t *zone = data;
    if (--zone->refs > 0) {
        return;
    }
    munmap(zone->addr, zone->size);
    free(zone->name);
    free(zone);
}

static mg_shm_zone_t *zone_attach(mg_cycle_t *cycle, mg_shm_zone_t *zone)
{
    zone->refs++;
    *(mg_shm_zone_t **)mg_array_push(&cycle->shm_zones) = zone;
    mg_pool_cleanup_add(cycle->pool, zone_release, zone);
    return zone;
}

mg_shm_zone_t *mg_shm_zone_add(mg_conf_t *cf, mg_str_t name, size_t size, const void *tag)
{
    mg_cycle_t *cycle = cf->cycle;
    mg_shm_zone_t *zone = mg_shm_zone_find(cycle, name);
    if (zone) {
        if (zone->tag != tag) {
            mg_conf_error(cf, 0,
                          "the shared memory zone \"%.*s\" is already declared for a "
                          "different use",
                          (int)name.len, name.data);
            return NULL;
        }
        if (zone->size != size) {
            mg_conf_error(cf, 0,
                          "the size %zu of shared memory zone \"%.*s\" conflicts with "
                          "already declared size %zu",
                          size, (int)name.len, name.data, zone->size);
            return NULL;
        }
        return zone;
    }
    zone = mg_shm_zone_find(cycle->old, name);
    if (zone && zone->tag == tag && zone->size == size) {
        return zone_attach(cycle, zone); /* a reload keeps the contents */
    }
    /* a new size (or a new name) gets fresh memory, as nginx does; the old zone stays with
     * the workers of the old generation until they are gone */
    void *addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (addr == MAP_FAILED) {
        mg_conf_error(cf, errno, "mmap(MAP_ANONYMOUS|MAP_SHARED, %zu) failed", size);
        return NULL;
    }
    zone = mg_calloc(sizeof(mg_shm_zone_t));
    zone->name = mg_alloc(name.len + 1);
    memcpy(zone->name, name.data, name.len);
    zone->name[name.len] = '\0';
    zone->size = size;
    zone->addr = addr;
    zone->tag = tag;
    return zone_attach(cycle, zone);
}

mg_int_t mg_shmtx_init(mg_shmtx_t *mtx)
{
    pthread_mutexattr_t attr;
    int err = pthread_mutexattr_init(&attr);
    if (err == 0) {
        err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    }
    if (err == 0) {
        err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    }
    if (err == 0) {
        err = pthread_mutex_init(&mtx->mutex, &attr);
    }
    pthread_mutexattr_destroy(&attr);
    if (err != 0) {
        errno = err;
        return MG_ERROR;
    }
    return MG_OK;
}

mg_int_t mg_shmtx_lock(mg_shmtx_t *mtx)
{
    int err = pthread_mutex_lock(&mtx->mutex);
    if (err == 0) {
        return MG_OK;
    }
    if (err == EOWNERDEAD) {
        /* the holder died inside its critical section: we own the lock now; marking it
         * consistent keeps it usable after our unlock (else it would be unrecoverable) */
        pthread_mutex_consistent(&mtx->mutex);
        return MG_ABORT;
    }
    /* EINVAL/ENOTRECOVERABLE: memory that is not a lock, which no caller can repair */
    mg_log_stderr(err, "[alert] pthread_mutex_lock() on a shared memory lock failed");
    abort();
}

void mg_shmtx_unlock(mg_shmtx_t *mtx)
{
    pthread_mutex_unlock(&mtx->mutex);
}
