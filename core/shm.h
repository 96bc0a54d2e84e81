/*
 * Shared memory zones and the lock that guards them. A zone is one shared mapping of a memfd,
 * made by the master while it builds a generation, so every worker forked from it sees the
 * same pages. The mapping starts with a header page (magic, MG_SHM_LAYOUT, owner, name, size,
 * address) before the owner's bytes. Zones belong to the generations that list them: a reload
 * takes over a zone of the running generation with the same name, owner and size (its
 * contents survive), and a zone is unmapped once no generation of the process lists it. A USR2
 * hands the memfds to the new binary, which maps them at the same address.
 */
#ifndef MG_SHM_H
#define MG_SHM_H

#include <stdint.h>

#include "mg.h"

/* The layout of what zones hold (this header, shdict_store.c, shm_table.c, slab.c,
 * upstream_zone.c, the ticket keys of core/http/ssl.c): a binary adopts zones handed over by
 * a USR2 only when they say this number. Bump it when any of them changes. */
#define MG_SHM_LAYOUT 4 /* 4: mg_shmtx_t is a pid word, not a pthread mutex */

typedef struct {
    char *name;
    size_t size;
    void *addr;      /* size bytes, zero-filled when the zone is new */
    const void *tag; /* the owner (its mg_module_t), so two uses of one name are caught */
    mg_uint_t refs;  /* generations listing the zone */
    int fd;          /* the memfd behind the mapping, handed to a new binary on USR2 */
} mg_shm_zone_t;

/* The zone NAME for the configuration being read: the one this generation already has (the
 * caller tells a repeated declaration), the running generation's when name, tag and size
 * match, or a new mapping. NULL after a config error was logged (a conflicting size or owner,
 * or mmap failed). The zone lives as long as a generation lists it. */
mg_shm_zone_t *mg_shm_zone_add(mg_conf_t *cf, mg_str_t name, size_t size, const void *tag);
/* The zone NAME of a generation, or NULL. */
mg_shm_zone_t *mg_shm_zone_find(mg_cycle_t *cycle, mg_str_t name);
/* The zone NAME of the same owner that a new zone of another size replaces: the running
 * generation's (a HUP) or the old binary's (a USR2), or NULL. Its contents can be copied into
 * the new zone while the configuration is read. */
mg_shm_zone_t *mg_shm_zone_previous(mg_conf_t *cf, mg_str_t name, const void *tag);
/* Keep a previous zone mapped for as long as the generation being read lives, without listing
 * it (its name is the new zone's): for state the old generation's workers still give back
 * there (limit_conn's counts of the requests they serve). */
void mg_shm_zone_keep(mg_conf_t *cf, mg_shm_zone_t *zone);

/* USR2, old binary: "FD;FD;" of the zones of a generation, whose fds are made inheritable in
 * the child about to exec (call there). */
void mg_shm_fds_text(mg_cycle_t *cycle, char *buf, size_t size, int for_exec);
/* New binary, first thing in main: map the zones listed in $MOONGATE_SHM where the old binary
 * had them (their pointers are absolute). A zone is adopted by the configuration that declares
 * it with the same name, owner and size; one whose layout this binary cannot read fails that
 * configuration (the new binary exits, the old master resumes). */
void mg_shm_inherit(const char *fds);
/* After the first configuration: unmap the handed-over zones no declaration took. */
void mg_shm_inherit_done(void);

/* A lock between processes, kept inside a zone (shmtx.c): a word holding the holder's pid
 * and start time, taken by one atomic compare-and-swap when free; a waiter spins briefly, then
 * sleeps on a futex. A holder that died (a worker killed by SIGKILL) is found by its waiters,
 * who take the lock over from it, instead of leaving everybody else waiting forever. Threads
 * of one process exclude each other too (any of them may unlock). */
typedef struct {
    uint64_t lock; /* the holder's pid and start time (shmtx.c) */
} mg_shmtx_t;

/* Initialize the lock in fresh shared memory: free. */
void mg_shmtx_init(mg_shmtx_t *mtx);
/* Take the lock. MG_OK, or MG_ABORT when the previous holder died holding it: the lock is
 * taken and usable again, but what it guards may be half-written and must be repaired. */
mg_int_t mg_shmtx_lock(mg_shmtx_t *mtx);
/* Take the lock if it is free: MG_OK, MG_ABORT (taken from a holder that died, as above), or
 * MG_AGAIN (someone holds it). */
mg_int_t mg_shmtx_trylock(mg_shmtx_t *mtx);
void mg_shmtx_unlock(mg_shmtx_t *mtx);

#endif
