/*
 * nginx sizes its hashes (server names, types, variables, map, referers, proxy headers) with
 * *_hash_max_size and *_hash_bucket_size and refuses a configuration whose keys do not fit.
 * moongate keeps other tables, but checks the same keys the same way (hash_size.c), so a
 * configuration nginx refuses is refused with nginx's words, and one it warns about warns.
 */
#ifndef MG_HASH_SIZE_H
#define MG_HASH_SIZE_H

#include "array.h"
#include "conf.h"

/* The keys one of nginx's hashes would hold: exact keys, and the wildcards of a combined hash
 * ("*.x" or ".x" heads, "x.*" tails), given without their star and dot. */
typedef struct {
    mg_array_t exact; /* mg_str_t */
    mg_array_t head;  /* label lists of the "*.x" masks, last label first */
    mg_array_t tail;  /* label lists of the "x.*" masks */
} mg_hash_keys_t;

void mg_hash_keys_init(mg_hash_keys_t *k);
void mg_hash_keys_free(mg_hash_keys_t *k);
void mg_hash_keys_add(mg_hash_keys_t *k, mg_str_t key);
void mg_hash_keys_add_head(mg_conf_t *cf, mg_hash_keys_t *k, mg_str_t suffix);
void mg_hash_keys_add_tail(mg_conf_t *cf, mg_hash_keys_t *k, mg_str_t prefix);
/* What nginx's hash builder says for these keys: MG_ERROR after its emerg line (no size can
 * work: "could not build NAME, you should increase NAME_bucket_size: N"), else MG_OK, after
 * its warning when it had to give up on the bucket size. `name` is "server_names_hash" ... */
mg_int_t mg_hash_keys_check(mg_conf_t *cf, mg_hash_keys_t *k, const char *name, mg_int_t max_size,
                            mg_int_t bucket_size);

/* nginx's default bucket size: its cache line (64 on x86-64). */
#define MG_HASH_CACHELINE 64

#endif
