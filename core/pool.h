/*
 * Region allocator. A pool owns everything allocated from it and is freed whole:
 * the cycle pool holds a generation's configuration, the connection pool a connection's
 * state and buffers, the request pool everything else of one request.
 * Cleanups run in reverse order of registration when the pool is destroyed.
 */
#ifndef MG_POOL_H
#define MG_POOL_H

#include "mg.h"

typedef void (*mg_pool_cleanup_pt)(void *data);

/* Blocks of block_size bytes, their headers counted in, as nginx's pool sizes count them
 * (connection_pool_size, request_pool_size; 256 at least). */
mg_pool_t *mg_pool_create(size_t block_size);
/* The same with a first block that holds first bytes of data at least (its header apart).
 * Its data starts right after the header, MG_POOL_HEADER bytes from the pool's address (a
 * multiple of 8): an mg_pnalloc there holds a struct of pointers and integers, without the
 * padding that mg_palloc's 16-byte alignment would put first. */
#define MG_POOL_HEADER 56
mg_pool_t *mg_pool_create_sized(size_t first, size_t block_size);
void mg_pool_destroy(mg_pool_t *pool);
/* Run the cleanups now, the memory staying until mg_pool_destroy: for an owner that lives in
 * its own pool (a connection) and has more to release after them. */
void mg_pool_run_cleanups(mg_pool_t *pool);
/* Run the cleanups and free all but the first block, which is emptied: the pool is as
 * mg_pool_create_sized left it, for an owner that keeps spares (HTTP/2's stream pools, the
 * server's spare request pool, mg_pool_fits) instead of a free and a malloc. Returns the first
 * block's size, what mg_pool_create was asked for. */
size_t mg_pool_reset(mg_pool_t *pool);
/* Whether mg_pool_create_sized(first, block_size) would have made a pool of this one's sizes. */
int mg_pool_fits(const mg_pool_t *pool, size_t first, size_t block_size);

/* Emptied pools of one size kept for the next owner that asks for that size (a server's
 * request pools and HTTP/2 stream pools): a take costs no malloc, a give no free (glibc serves
 * 4-16 KiB from its sorted bins, ~250-700 instructions a pair). Up to the giver's max; a pool
 * of other sizes goes. None is kept under ASan, which then sees each owner's memory freed. */
#define MG_POOL_SPARES_MAX 32
typedef struct {
    mg_pool_t *pools[MG_POOL_SPARES_MAX];
    unsigned n;
} mg_pool_spares_t;
/* a spare of these sizes, or mg_pool_create_sized(first, block_size) */
mg_pool_t *mg_pool_spare_take(mg_pool_spares_t *s, size_t first, size_t block_size);
/* the pool's cleanups run and it is kept, emptied, or destroyed */
void mg_pool_spare_give(mg_pool_spares_t *s, mg_pool_t *pool, unsigned max);
void mg_pool_spares_free(mg_pool_spares_t *s);

void *mg_palloc(mg_pool_t *pool, size_t size);  /* aligned */
void *mg_pnalloc(mg_pool_t *pool, size_t size); /* unaligned, for strings */
void *mg_pcalloc(mg_pool_t *pool, size_t size);
char *mg_pstrdup(mg_pool_t *pool, const char *s, size_t len); /* NUL-terminates */
mg_str_t mg_pstr(mg_pool_t *pool, const char *s, size_t len);
char *mg_psprintf(mg_pool_t *pool, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What a cleanup record takes of a pool, for sizing a pool's first block (records are 8-byte
 * aligned, not 16 as mg_palloc's: pointers only); _ALIGNED: the record alone, after an
 * allocation that ends 8-byte aligned */
#define MG_POOL_CLEANUP_SIZE 32
#define MG_POOL_CLEANUP_ALIGNED 24
/* Run fn(data) when the pool is destroyed or reset. */
void mg_pool_cleanup_add(mg_pool_t *pool, mg_pool_cleanup_pt fn, void *data);
/* The data of the most recently added cleanup fn still pending in the pool, or NULL: state
 * that must outlive a request's module contexts (realip after an internal redirect). */
void *mg_pool_cleanup_find(mg_pool_t *pool, mg_pool_cleanup_pt fn);

#endif
