/*
 * A growable array of fixed-size elements, allocated with malloc or from a pool.
 * Config uses pool arrays (freed with the cycle); runtime structures use malloc'ed ones.
 */
#ifndef MG_ARRAY_H
#define MG_ARRAY_H

#include "mg.h"
#include "pool.h"

typedef struct {
    void *elts;
    size_t nelts;
    size_t size;
    size_t nalloc;
    mg_pool_t *pool; /* NULL: malloc'ed, free with mg_array_free */
} mg_array_t;

static inline void mg_array_init(mg_array_t *a, mg_pool_t *pool, size_t n, size_t size)
{
    a->nelts = 0;
    a->size = size;
    a->nalloc = n ? n : 4;
    a->pool = pool;
    a->elts = pool ? mg_palloc(pool, a->nalloc * size) : mg_alloc(a->nalloc * size);
}

static inline mg_array_t *mg_array_create(mg_pool_t *pool, size_t n, size_t size)
{
    mg_array_t *a = mg_palloc(pool, sizeof(mg_array_t));
    mg_array_init(a, pool, n, size);
    return a;
}

/* Append one zeroed element and return it. */
static inline void *mg_array_push(mg_array_t *a)
{
    if (a->nelts == a->nalloc) {
        size_t n = a->nalloc * 2;
        if (a->pool) {
            void *p = mg_palloc(a->pool, n * a->size);
            memcpy(p, a->elts, a->nelts * a->size);
            a->elts = p;
        } else {
            a->elts = mg_realloc(a->elts, n * a->size);
        }
        a->nalloc = n;
    }
    void *e = (char *)a->elts + a->nelts * a->size;
    memset(e, 0, a->size);
    a->nelts++;
    return e;
}

static inline void mg_array_free(mg_array_t *a)
{
    if (a->pool == NULL) {
        free(a->elts);
    }
    a->elts = NULL;
    a->nelts = a->nalloc = 0;
}

#endif
