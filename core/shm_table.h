/*
 * A keyed table inside a shared memory zone, for state that every worker updates (the
 * limit_req and limit_conn zones): a hash table of nodes, each a fixed-size value and its key,
 * on a least-recently-used list, allocated from the zone with core/slab.c and guarded by the
 * zone's lock (shm.h; taken over from a holder that died). The table holds no policy: its users
 * decide what to evict, when and how a value changes.
 */
#ifndef MG_SHM_TABLE_H
#define MG_SHM_TABLE_H

#include "mg.h"

typedef struct mg_shm_table_s mg_shm_table_t;

/* Read a "zone=NAME:SIZE" argument as nginx's keyed zones take it (k and m suffixes, at least
 * eight pages): MG_OK with name (possibly empty) and size, or MG_ERROR after logging "invalid
 * zone size" or "zone ... is too small" with FILE:LINE. */
mg_int_t mg_shm_table_zone_arg(mg_conf_t *cf, mg_str_t arg, mg_str_t *name, size_t *size);

/* The table of a zone of `size` bytes at addr, whose nodes carry vsize bytes of value: made
 * there if the memory is fresh (zeros), else the one already there (a zone kept over a
 * reload). `what` names the zone in log lines ("limit_req zone \"one\""); `ident` is what the
 * contents depend on (a key's source text), kept in the zone so that a reload can compare
 * (mg_shm_table_ident). NULL if the zone is too small to hold a table, or (errno EPROTO) if
 * the table there has nodes of another size (an older binary's, handed over by a USR2). */
mg_shm_table_t *mg_shm_table_attach(void *addr, size_t size, size_t vsize, const char *what,
                                    mg_str_t ident);
mg_str_t mg_shm_table_ident(mg_shm_table_t *t);

/* Take the lock. A holder that died between changes leaves the table as it was (logged at
 * notice to log); one that died in the middle of a change leaves it empty, with an alert, and
 * a new epoch. */
void mg_shm_table_lock(mg_shm_table_t *t, mg_log_t *log);
void mg_shm_table_unlock(mg_shm_table_t *t);
/* Changes when the table is emptied after a crash: a value pointer kept unlocked (a count to
 * give back later) is valid only while the epoch it was taken in lasts. Read under the lock. */
uint32_t mg_shm_table_epoch(mg_shm_table_t *t);

/* The rest is called with the lock held. Values are 8-byte aligned. */
uint32_t mg_shm_table_hash(mg_shm_table_t *t, const char *key, size_t klen);
/* The value of key, or NULL. */
void *mg_shm_table_find(mg_shm_table_t *t, const char *key, size_t klen, uint32_t hash);
/* A new node for key (not looked up first: the caller knows it is absent) at the recently
 * used end, its value zeroed; NULL when the zone has no room (nothing is evicted). */
void *mg_shm_table_insert(mg_shm_table_t *t, const char *key, size_t klen, uint32_t hash);
/* The same with a value of vsize bytes (at most the table's: a table of values whose size
 * varies, each node taking only its own); NULL also when vsize is larger. */
void *mg_shm_table_insert_size(mg_shm_table_t *t, const char *key, size_t klen, uint32_t hash,
                               size_t vsize);
/* The room a value has (its insert's vsize, 8-aligned). */
size_t mg_shm_table_vsize(void *value);
/* Move a value's node to the recently used end. */
void mg_shm_table_touch(mg_shm_table_t *t, void *value);
void mg_shm_table_remove(mg_shm_table_t *t, void *value);
/* The least recently used value, or NULL when the table is empty. */
void *mg_shm_table_oldest(mg_shm_table_t *t);
/* The value used next after this one (towards the recently used end), or NULL. */
void *mg_shm_table_newer(mg_shm_table_t *t, void *value);
/* A value's key (klen bytes, in the zone). */
const char *mg_shm_table_key(mg_shm_table_t *t, void *value, size_t *klen);

/* A HUP that gives a zone a new size: copy the entries of the previous generation's table at
 * from_addr (a zone of the same owner and name) into `to`, a fresh one, if both hold values of
 * the same size for the same ident; the most recently used stay when not all fit. Called
 * without `to`'s lock (nobody else has the new zone yet); takes the old table's. Returns how
 * many entries the new table holds. */
size_t mg_shm_table_copy(mg_shm_table_t *to, void *from_addr, mg_log_t *log);

#endif
