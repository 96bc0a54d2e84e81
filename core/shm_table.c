/*
 * A keyed table in a shared memory zone (shm_table.h): a header (lock, hash buckets, the LRU
 * list), the zone's name and ident, then the allocator's region. Pointers are plain addresses:
 * every process maps the zone where the master did, by fork. lua/shdict_store.c is the same
 * shape for typed, expiring values; this one holds fixed-size values and no policy.
 */
#include <errno.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "shm.h"
#include "shm_table.h"
#include "slab.h"
#include "str.h"

#define MAGIC 0x6c626174686dULL /* marks a zone whose table is built */

typedef struct lru_s {
    struct lru_s *prev;
    struct lru_s *next;
} lru_t;

typedef struct node_s {
    lru_t lru; /* first, so a link is its node */
    struct node_s *hnext;
    uint32_t hash;
    uint16_t klen;
    uint16_t vlen; /* the value's room: the table's vsize, or less (insert_size) */
    /* the value (vlen, 8-aligned), then the key */
    char data[] __attribute__((aligned(8)));
} node_t;

struct mg_shm_table_s {
    uint64_t magic; /* written last: a zone without it is fresh memory */
    mg_shmtx_t lock;
    uint32_t dirty; /* set while links or the allocator change: a holder that dies then
                       leaves them half-made */
    uint32_t epoch;
    uint32_t seed;
    size_t vsize;
    size_t nbuckets; /* a power of two */
    node_t **buckets;
    lru_t lru; /* next: most recently used */
    char *what;
    mg_str_t ident;
    void *arena;
    size_t arena_size;
    mg_slab_t *slab;
};

#define align8(n) (((n) + 7) & ~(size_t)7)

mg_int_t mg_shm_table_zone_arg(mg_conf_t *cf, mg_str_t arg, mg_str_t *name, size_t *size)
{
    char *colon = memchr(arg.data + 5, ':', arg.len - 5);
    int64_t n = -1;
    if (colon) {
        mg_str_t s = {(size_t)(arg.data + arg.len - colon - 1), colon + 1};
        char last = s.len ? s.data[s.len - 1] : 0;
        if (last != 'g' && last != 'G') { /* nginx's sizes stop at m */
            n = mg_parse_size(s);
        }
    }
    if (n < 0 || (uint64_t)n > SIZE_MAX) {
        mg_conf_error(cf, 0, "invalid zone size \"%s\"", arg.data);
        return MG_ERROR;
    }
    if (n < 8 * sysconf(_SC_PAGESIZE)) {
        mg_conf_error(cf, 0, "zone \"%s\" is too small", arg.data);
        return MG_ERROR;
    }
    name->data = arg.data + 5;
    name->len = (size_t)(colon - name->data);
    *size = (size_t)n;
    return MG_OK;
}

static node_t *node_of(void *value)
{
    return (node_t *)((char *)value - offsetof(node_t, data));
}

static void lru_insert_head(mg_shm_table_t *t, lru_t *x)
{
    x->prev = &t->lru;
    x->next = t->lru.next;
    t->lru.next->prev = x;
    t->lru.next = x;
}

static void lru_unlink(lru_t *x)
{
    x->prev->next = x->next;
    x->next->prev = x->prev;
}

static void reset(mg_shm_table_t *t, int fresh)
{
    t->dirty = 1;
    if (!fresh) {
        /* a fresh zone is zeros already: clearing would fault in every bucket's page (128
         * KiB in a 10m zone), resident from then on whether used or not */
        memset(t->buckets, 0, t->nbuckets * sizeof(node_t *));
    }
    t->lru.prev = t->lru.next = &t->lru;
    t->slab = mg_slab_init(t->arena, t->arena_size);
    t->epoch++;
}

mg_shm_table_t *mg_shm_table_attach(void *addr, size_t size, size_t vsize, const char *what,
                                    mg_str_t ident)
{
    mg_shm_table_t *t = addr;
    if (t->magic == MAGIC) {
        if (t->vsize != align8(vsize)) {
            /* handed over by a binary whose nodes are laid out otherwise (a USR2) */
            errno = EPROTO;
            return NULL;
        }
        return t; /* kept over a reload */
    }
    char *p = (char *)addr + align8(sizeof(mg_shm_table_t));
    size_t wlen = strlen(what);
    if (align8(sizeof(mg_shm_table_t)) + align8(wlen + 1) + align8(ident.len + 1) >= size) {
        return NULL;
    }
    t->what = p;
    memcpy(p, what, wlen + 1);
    p += align8(wlen + 1);
    t->ident.data = p;
    t->ident.len = ident.len;
    memcpy(p, ident.data, ident.len);
    p[ident.len] = '\0';
    p += align8(ident.len + 1);
    /* about one bucket per 256 bytes: a full zone of small nodes keeps chains of two or three */
    size_t nb = 16;
    while (nb < (1u << 24) && nb * 2 * 256 <= size) {
        nb *= 2;
    }
    if ((size_t)(p - (char *)addr) + nb * sizeof(node_t *) >= size) {
        return NULL;
    }
    t->nbuckets = nb;
    t->buckets = (node_t **)p;
    p += nb * sizeof(node_t *);
    t->arena = p;
    t->arena_size = size - (size_t)(p - (char *)addr);
    if (align8(vsize) > UINT16_MAX) {
        return NULL;
    }
    t->vsize = align8(vsize);
    t->seed = (uint32_t)getpid() * 2654435761u ^ (uint32_t)(uintptr_t)addr;
    reset(t, 1);
    t->dirty = 0;
    if (t->slab == NULL) {
        return NULL;
    }
    mg_shmtx_init(&t->lock);
    t->magic = MAGIC;
    return t;
}

mg_str_t mg_shm_table_ident(mg_shm_table_t *t)
{
    return t->ident;
}

void mg_shm_table_lock(mg_shm_table_t *t, mg_log_t *log)
{
    if (mg_shmtx_lock(&t->lock) != MG_ABORT) {
        return;
    }
    if (!t->dirty) {
        mg_log_error(MG_LOG_NOTICE, log, 0,
                     "%s: took over the lock of a process that died holding it", t->what);
        return;
    }
    reset(t, 0);
    mg_log_error(MG_LOG_ALERT, log, 0,
                 "%s: a process died while changing it, its contents were dropped", t->what);
}

void mg_shm_table_unlock(mg_shm_table_t *t)
{
    t->dirty = 0;
    mg_shmtx_unlock(&t->lock);
}

uint32_t mg_shm_table_epoch(mg_shm_table_t *t)
{
    return t->epoch;
}

uint32_t mg_shm_table_hash(mg_shm_table_t *t, const char *key, size_t klen)
{
    uint32_t h = 2166136261u ^ t->seed; /* FNV-1a, seeded per zone */
    for (size_t i = 0; i < klen; i++) {
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    }
    return h;
}

void *mg_shm_table_find(mg_shm_table_t *t, const char *key, size_t klen, uint32_t hash)
{
    for (node_t *n = t->buckets[hash & (t->nbuckets - 1)]; n; n = n->hnext) {
        if (n->hash == hash && n->klen == klen && memcmp(n->data + n->vlen, key, klen) == 0) {
            return n->data;
        }
    }
    return NULL;
}

void *mg_shm_table_insert(mg_shm_table_t *t, const char *key, size_t klen, uint32_t hash)
{
    return mg_shm_table_insert_size(t, key, klen, hash, t->vsize);
}

void *mg_shm_table_insert_size(mg_shm_table_t *t, const char *key, size_t klen, uint32_t hash,
                               size_t vsize)
{
    vsize = align8(vsize);
    if (klen > UINT16_MAX || vsize > t->vsize) {
        return NULL;
    }
    t->dirty = 1;
    node_t *n = mg_slab_alloc(t->slab, sizeof(node_t) + vsize + klen);
    if (n == NULL) {
        return NULL;
    }
    n->hash = hash;
    n->klen = (uint16_t)klen;
    n->vlen = (uint16_t)vsize;
    memset(n->data, 0, vsize);
    memcpy(n->data + vsize, key, klen);
    node_t **bucket = &t->buckets[hash & (t->nbuckets - 1)];
    n->hnext = *bucket;
    *bucket = n;
    lru_insert_head(t, &n->lru);
    return n->data;
}

void mg_shm_table_touch(mg_shm_table_t *t, void *value)
{
    node_t *n = node_of(value);
    if (t->lru.next == &n->lru) {
        return;
    }
    t->dirty = 1;
    lru_unlink(&n->lru);
    lru_insert_head(t, &n->lru);
}

void mg_shm_table_remove(mg_shm_table_t *t, void *value)
{
    node_t *n = node_of(value);
    t->dirty = 1;
    node_t **pp = &t->buckets[n->hash & (t->nbuckets - 1)];
    while (*pp != n) {
        pp = &(*pp)->hnext;
    }
    *pp = n->hnext;
    lru_unlink(&n->lru);
    mg_slab_free(t->slab, n);
}

void *mg_shm_table_oldest(mg_shm_table_t *t)
{
    if (t->lru.prev == &t->lru) {
        return NULL;
    }
    return ((node_t *)t->lru.prev)->data;
}

const char *mg_shm_table_key(mg_shm_table_t *t, void *value, size_t *klen)
{
    (void)t;
    node_t *n = node_of(value);
    *klen = n->klen;
    return n->data + n->vlen;
}

size_t mg_shm_table_vsize(void *value)
{
    return node_of(value)->vlen;
}

void *mg_shm_table_newer(mg_shm_table_t *t, void *value)
{
    lru_t *prev = node_of(value)->lru.prev;
    return prev == &t->lru ? NULL : ((node_t *)prev)->data;
}

size_t mg_shm_table_copy(mg_shm_table_t *to, void *from_addr, mg_log_t *log)
{
    mg_shm_table_t *from = from_addr;
    if (from->magic != MAGIC || from->vsize != to->vsize ||
        !mg_str_eq_str(from->ident, to->ident)) {
        return 0; /* not a table, nodes of another layout, or another key's values */
    }
    size_t n = 0;
    /* the old generation's workers still update it: under its lock. The oldest go first, so
     * that the new list keeps the order; when the new zone is smaller, the oldest give way */
    mg_shm_table_lock(from, log);
    for (void *v = mg_shm_table_oldest(from); v; v = mg_shm_table_newer(from, v)) {
        size_t klen;
        const char *key = mg_shm_table_key(from, v, &klen);
        uint32_t hash = mg_shm_table_hash(to, key, klen);
        size_t vlen = node_of(v)->vlen;
        void *dst = mg_shm_table_insert_size(to, key, klen, hash, vlen);
        while (dst == NULL && mg_shm_table_oldest(to)) {
            mg_shm_table_remove(to, mg_shm_table_oldest(to));
            n--;
            dst = mg_shm_table_insert_size(to, key, klen, hash, vlen);
        }
        if (dst) {
            memcpy(dst, v, vlen);
            n++;
        }
    }
    mg_shm_table_unlock(from);
    to->dirty = 0;
    return n;
}
