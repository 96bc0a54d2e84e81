/*
 * Region allocator: small allocations bump a pointer in chained blocks, large ones are
 * malloc'ed and listed so the pool frees them too.
 */
#include <stdarg.h>

#include "pool.h"
#include "log.h"

#define POOL_ALIGN 16
#define POOL_LARGE_MIN 4096

typedef struct pool_block_s {
    struct pool_block_s *next;
    char *last;
    char *end;
} pool_block_t;

typedef struct pool_large_s {
    struct pool_large_s *next;
} pool_large_t;

typedef struct pool_cleanup_s {
    struct pool_cleanup_s *next;
    mg_pool_cleanup_pt fn;
    void *data;
} pool_cleanup_t;
_Static_assert((sizeof(pool_cleanup_t) + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN <=
                   MG_POOL_CLEANUP_SIZE,
               "MG_POOL_CLEANUP_SIZE holds a cleanup record");
_Static_assert(sizeof(pool_cleanup_t) <= MG_POOL_CLEANUP_ALIGNED && _Alignof(pool_cleanup_t) <= 8,
               "MG_POOL_CLEANUP_ALIGNED holds a cleanup record after an 8-aligned end");

struct mg_pool_s {
    pool_block_t first;
    pool_block_t *current;
    pool_large_t *large;
    pool_cleanup_t *cleanups;
    size_t block_size;
};
_Static_assert(sizeof(mg_pool_t) == MG_POOL_HEADER, "MG_POOL_HEADER is the pool's header");

void *mg_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "moongate: out of memory allocating %zu bytes\n", size);
        abort();
    }
    return p;
}

void *mg_calloc(size_t size)
{
    void *p = mg_alloc(size);
    memset(p, 0, size);
    return p;
}

void *mg_realloc(void *old, size_t size)
{
    void *p = realloc(old, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "moongate: out of memory allocating %zu bytes\n", size);
        abort();
    }
    return p;
}

char *mg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(mg_alloc(n), s, n);
}

mg_pool_t *mg_pool_create_sized(size_t first, size_t block_size)
{
    if (block_size < 256) {
        block_size = 256;
    }
    /* the headers count in block_size, as in nginx's sizes (connection_pool_size 512: one
     * allocation of 512 bytes, 456 of them for data in the first block) */
    size_t size = mg_max(sizeof(mg_pool_t) + first, block_size);
    mg_pool_t *pool = mg_alloc(size);
    pool->first.next = NULL;
    pool->first.last = (char *)(pool + 1);
    pool->first.end = (char *)pool + size;
    pool->current = &pool->first;
    pool->large = NULL;
    pool->cleanups = NULL;
    pool->block_size = block_size;
    return pool;
}

mg_pool_t *mg_pool_create(size_t block_size)
{
    return mg_pool_create_sized(0, block_size);
}

void mg_pool_run_cleanups(mg_pool_t *pool)
{
    /* Cleanups may allocate from nothing and register nothing: they only release. */
    pool_cleanup_t *c = pool->cleanups;
    pool->cleanups = NULL;
    for (; c; c = c->next) {
        c->fn(c->data);
    }
}

static void pool_free_memory(mg_pool_t *pool)
{
    for (pool_large_t *l = pool->large, *next; l; l = next) {
        next = l->next;
        free(l);
    }
    pool->large = NULL;
    for (pool_block_t *b = pool->first.next, *next; b; b = next) {
        next = b->next;
        free(b);
    }
}

size_t mg_pool_reset(mg_pool_t *pool)
{
    mg_pool_run_cleanups(pool);
    pool_free_memory(pool);
    pool->first.next = NULL;
    pool->first.last = (char *)(pool + 1);
    pool->current = &pool->first;
    return (size_t)(pool->first.end - (char *)pool);
}

void mg_pool_destroy(mg_pool_t *pool)
{
    if (pool == NULL) {
        return;
    }
    mg_pool_run_cleanups(pool);
    pool_free_memory(pool);
    free(pool);
}

int mg_pool_fits(const mg_pool_t *pool, size_t first, size_t block_size)
{
    block_size = mg_max(block_size, 256);
    return pool->block_size == block_size && (size_t)(pool->first.end - (const char *)pool) ==
                                                 mg_max(sizeof(mg_pool_t) + first, block_size);
}

mg_pool_t *mg_pool_spare_take(mg_pool_spares_t *s, size_t first, size_t block_size)
{
    if (s->n && mg_pool_fits(s->pools[s->n - 1], first, block_size)) {
        return s->pools[--s->n];
    }
    return mg_pool_create_sized(first, block_size);
}

void mg_pool_spare_give(mg_pool_spares_t *s, mg_pool_t *pool, unsigned max)
{
    size_t first = mg_pool_reset(pool);
    const mg_pool_t *kept = s->n ? s->pools[0] : pool;
    if (MG_HAVE_ASAN || s->n >= mg_min(max, MG_POOL_SPARES_MAX) ||
        kept->block_size != pool->block_size ||
        (size_t)(kept->first.end - (const char *)kept) != first) {
        mg_pool_destroy(pool);
        return;
    }
    s->pools[s->n++] = pool;
}

void mg_pool_spares_free(mg_pool_spares_t *s)
{
    while (s->n) {
        mg_pool_destroy(s->pools[--s->n]);
    }
}

static void *pool_alloc_large(mg_pool_t *pool, size_t size)
{
    pool_large_t *l = mg_alloc(sizeof(pool_large_t) + POOL_ALIGN + size);
    l->next = pool->large;
    pool->large = l;
    return (char *)l + POOL_ALIGN;
}

static void *pool_alloc(mg_pool_t *pool, size_t size, size_t align)
{
    for (;;) {
        pool_block_t *b = pool->current;
        char *p = (char *)(((uintptr_t)b->last + (align - 1)) & ~(uintptr_t)(align - 1));
        if (p <= b->end && size <= (size_t)(b->end - p)) {
            b->last = p + size;
            return p;
        }
        if (b->next) {
            pool->current = b->next;
            continue;
        }
        /* a block's data starts aligned a little past its header: anything close to the
         * block size would never fit a fresh block, so it goes to the large path (a larger
         * first block takes it while it has the room) */
        if (size > pool->block_size - sizeof(pool_block_t) - POOL_ALIGN ||
            size > POOL_LARGE_MIN * 4) {
            return pool_alloc_large(pool, size);
        }
        pool_block_t *nb = mg_alloc(pool->block_size);
        nb->next = NULL;
        nb->last = (char *)(nb + 1);
        nb->end = (char *)nb + pool->block_size;
        b->next = nb;
        pool->current = nb;
    }
}

void *mg_palloc(mg_pool_t *pool, size_t size)
{
    return pool_alloc(pool, size, POOL_ALIGN);
}

void *mg_pnalloc(mg_pool_t *pool, size_t size)
{
    return pool_alloc(pool, size, 1);
}

void *mg_pcalloc(mg_pool_t *pool, size_t size)
{
    void *p = pool_alloc(pool, size, POOL_ALIGN);
    memset(p, 0, size);
    return p;
}

char *mg_pstrdup(mg_pool_t *pool, const char *s, size_t len)
{
    char *p = pool_alloc(pool, len + 1, 1);
    if (len) {
        memcpy(p, s, len);
    }
    p[len] = '\0';
    return p;
}

mg_str_t mg_pstr(mg_pool_t *pool, const char *s, size_t len)
{
    mg_str_t r = { len, mg_pstrdup(pool, s, len) };
    return r;
}

char *mg_psprintf(mg_pool_t *pool, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = pool_alloc(pool, (size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void mg_pool_cleanup_add(mg_pool_t *pool, mg_pool_cleanup_pt fn, void *data)
{
    pool_cleanup_t *c = pool_alloc(pool, sizeof(pool_cleanup_t), _Alignof(pool_cleanup_t));
    c->fn = fn;
    c->data = data;
    c->next = pool->cleanups;
    pool->cleanups = c;
}

void *mg_pool_cleanup_find(mg_pool_t *pool, mg_pool_cleanup_pt fn)
{
    for (pool_cleanup_t *c = pool->cleanups; c; c = c->next) {
        if (c->fn == fn) {
            return c->data;
        }
    }
    return NULL;
}
