/*
 * A lua_shared_dict's store, kept in its shared memory zone: a hash table of items over the
 * zone's allocator, a least-recently-used list for eviction, expiry times in wall-clock
 * milliseconds, list values. Every call takes the zone's lock for one short step and copies
 * what it returns out of shared memory before unlocking, so Lua values are built unlocked
 * (shdict.c). Semantics are lua-nginx-module's ngx.shared.DICT.
 */
#ifndef MG_LUA_SHDICT_H
#define MG_LUA_SHDICT_H

#include "mg.h"

typedef struct mg_shdict_s mg_shdict_t;

/* Value types, as stored. */
enum {
    MG_SHDICT_NIL = 0,
    MG_SHDICT_NUMBER,
    MG_SHDICT_BOOLEAN,
    MG_SHDICT_STRING,
    MG_SHDICT_LIST,
};

/* Results. */
enum {
    MG_SHDICT_OK = 0,
    MG_SHDICT_NOT_FOUND,
    MG_SHDICT_EXISTS,
    MG_SHDICT_NOT_NUMBER,
    MG_SHDICT_NOT_LIST, /* a list operation on another type */
    MG_SHDICT_IS_LIST,  /* get on a list */
    MG_SHDICT_NO_MEMORY,
};

/* How mg_shdict_store treats an existing item; SAFE (or'ed) forbids evicting others. */
enum {
    MG_SHDICT_SET = 0,
    MG_SHDICT_ADD = 1,
    MG_SHDICT_REPLACE = 2,
    MG_SHDICT_SAFE = 4,
};

#define MG_SHDICT_MAX_KEY 65535
#define MG_SHDICT_INLINE 4096

typedef struct {
    int type;        /* MG_SHDICT_* */
    double num;      /* number; a boolean is 0 or 1 */
    const char *str; /* string: in shared memory (input) or the copy (output) */
    size_t len;
} mg_shdict_value_t;

/* A value read out: the string is copied into buf, or into heap when longer. */
typedef struct {
    mg_shdict_value_t v;
    int32_t flags;
    unsigned stale : 1; /* expired (get_stale only) */
    char *heap;         /* malloc'ed copy; release with mg_shdict_out_free */
    char buf[MG_SHDICT_INLINE];
} mg_shdict_out_t;

/* The store of a zone of `size` bytes at addr: made there if the memory is fresh (zeros),
 * else the existing one (a zone kept over a reload). NULL if the zone is too small. */
mg_shdict_t *mg_shdict_attach(void *addr, size_t size, const char *name);
/* Copy the live items of the store at src_addr (a zone of another size that this one
 * replaces) into dst, keeping their LRU order, expiry and flags; when dst is smaller, the least
 * recently used give way. Returns the items copied (0 if src holds no store). */
size_t mg_shdict_copy(mg_shdict_t *dst, void *src_addr, uint64_t now);
size_t mg_shdict_capacity(mg_shdict_t *sh);
size_t mg_shdict_free_space(mg_shdict_t *sh);

/* `now` is wall-clock milliseconds (the caller's cached clock); exptime is a duration in
 * milliseconds, 0 for none. */
int mg_shdict_get(mg_shdict_t *sh, const char *key, size_t klen, uint64_t now, int stale_ok,
                  mg_shdict_out_t *out);
void mg_shdict_out_free(mg_shdict_out_t *out);
/* set/add/replace (op), or delete when value->type is NIL. *forcible is set when others
 * were evicted to make room. OK, EXISTS (add), NOT_FOUND (replace) or NO_MEMORY. */
int mg_shdict_store(mg_shdict_t *sh, int op, const char *key, size_t klen,
                    const mg_shdict_value_t *value, uint64_t exptime, int32_t flags, uint64_t now,
                    int *forcible);
/* Add `by` to a number; with init (not NULL) a missing or expired item is created as
 * *init + by, expiring after init_ttl. OK, NOT_FOUND, NOT_NUMBER or NO_MEMORY. */
int mg_shdict_incr(mg_shdict_t *sh, const char *key, size_t klen, double by, const double *init,
                   uint64_t init_ttl, uint64_t now, double *result, int *forcible);
/* Lists: push a string or number at the head (left) or tail; *len gets the new length. */
int mg_shdict_push(mg_shdict_t *sh, const char *key, size_t klen, int left,
                   const mg_shdict_value_t *value, uint64_t now, size_t *len);
/* NOT_FOUND for a missing, expired or empty list. */
int mg_shdict_pop(mg_shdict_t *sh, const char *key, size_t klen, int left, uint64_t now,
                  mg_shdict_out_t *out);
int mg_shdict_llen(mg_shdict_t *sh, const char *key, size_t klen, uint64_t now, size_t *len);
/* Time to live in ms (negative once expired but not yet removed), 0 without expiry. */
int mg_shdict_ttl(mg_shdict_t *sh, const char *key, size_t klen, uint64_t now, int64_t *ms);
int mg_shdict_expire(mg_shdict_t *sh, const char *key, size_t klen, uint64_t exptime, uint64_t now);
void mg_shdict_flush_all(mg_shdict_t *sh);
/* Remove expired items, at most max (0: all); returns how many. */
size_t mg_shdict_flush_expired(mg_shdict_t *sh, size_t max, uint64_t now);
/* Keys of unexpired items, most recently used first, at most max (0: all), packed in one
 * malloc'ed block as (uint16 length, bytes)... that the caller frees; returns the count. */
size_t mg_shdict_keys(mg_shdict_t *sh, size_t max, uint64_t now, char **keys);

#endif
