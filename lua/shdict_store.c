/*
 * The store of a lua_shared_dict (shdict.h), all of it inside the zone: a header (lock,
 * hash buckets, the LRU list), the dict's name, then the allocator's region. Pointers are
 * plain addresses: every process maps the zone where the master did, by fork.
 *
 * Expired items stay until something removes them: a write removes up to two expired items
 * at the cold end of the LRU list, an item's own key being written replaces it, eviction and
 * flush_expired take them; get_stale, ttl and expire still see them meanwhile (as OpenResty).
 */
#include <unistd.h>

#include "api.h"
#include "shdict.h"
#include "shm.h"
#include "slab.h"

#define MAGIC 0x316364687367ULL /* marks a zone whose store is built */
#define EVICT_MAX 30            /* items a set may evict before it gives up */
#define EXPIRE_ON_WRITE 2
#define FLUSHED 1 /* the expiry flush_all gives: expired, and found by nobody */

typedef struct lru_s {
    struct lru_s *prev;
    struct lru_s *next;
} lru_t;

typedef struct node_s {
    lru_t lru; /* first, so a link is its node */
    struct node_s *hnext;
    uint64_t expires; /* wall-clock ms, 0 for never */
    uint32_t hash;
    int32_t flags;
    uint32_t vlen; /* value bytes; a list: its length */
    uint16_t klen;
    uint8_t type;
    /* the key, then the value 8-aligned (a list: its lru_t of elements); aligned itself so
     * that "8-aligned" holds for the address, not only the offset */
    char data[] __attribute__((aligned(8)));
} node_t;

typedef struct {
    lru_t link;
    uint32_t len;
    uint8_t type;
    char data[];
} elem_t;

struct mg_shdict_s {
    uint64_t magic; /* written last: a zone without it is fresh memory */
    mg_shmtx_t lock;
    uint32_t dirty; /* set while a change is under way (changing()), so a holder that dies
                       mid-change is told from one that died between changes */
    uint32_t seed;
    size_t size;     /* the zone */
    size_t nbuckets; /* a power of two */
    node_t **buckets;
    lru_t lru; /* next: most recently used */
    char *name;
    void *arena; /* the allocator's region, rebuilt by a reset */
    size_t arena_size;
    mg_slab_t *slab;
};

#define align8(n) (((n) + 7) & ~(size_t)7)

static char *value_of(node_t *n)
{
    return n->data + align8(n->klen);
}

static lru_t *list_of(node_t *n)
{
    return (lru_t *)value_of(n);
}

static void lru_init(lru_t *h)
{
    h->prev = h->next = h;
}

static void lru_unlink(lru_t *x)
{
    x->prev->next = x->next;
    x->next->prev = x->prev;
}

static void lru_insert_after(lru_t *at, lru_t *x)
{
    x->prev = at;
    x->next = at->next;
    at->next->prev = x;
    at->next = x;
}

static int expired(const node_t *n, uint64_t now)
{
    return n->expires != 0 && n->expires <= now;
}

static size_t value_bytes(const mg_shdict_value_t *v)
{
    switch (v->type) {
    case MG_SHDICT_NUMBER:
        return sizeof(double);
    case MG_SHDICT_BOOLEAN:
        return 1;
    case MG_SHDICT_STRING:
        return v->len;
    default:
        return 0;
    }
}

static void write_value(char *dst, const mg_shdict_value_t *v)
{
    if (v->type == MG_SHDICT_NUMBER) {
        memcpy(dst, &v->num, sizeof(double));
    } else if (v->type == MG_SHDICT_BOOLEAN) {
        dst[0] = v->num != 0;
    } else if (v->len) {
        memcpy(dst, v->str, v->len);
    }
}

/* Under the lock: a copy the caller reads after unlocking. A long string is malloc'ed here,
 * which costs less than unlocking, allocating and looking the item up again. */
static void copy_out(mg_shdict_out_t *out, int type, const char *src, size_t len)
{
    out->heap = NULL;
    out->v.type = type;
    if (type == MG_SHDICT_NUMBER) {
        memcpy(&out->v.num, src, sizeof(double));
    } else if (type == MG_SHDICT_BOOLEAN) {
        out->v.num = src[0];
    } else {
        char *dst = len <= sizeof(out->buf) ? out->buf : (out->heap = mg_alloc(len));
        memcpy(dst, src, len);
        out->v.str = dst;
        out->v.len = len;
    }
}

void mg_shdict_out_free(mg_shdict_out_t *out)
{
    free(out->heap);
    out->heap = NULL;
}

static uint32_t hash_key(const mg_shdict_t *sh, const char *key, size_t len)
{
    uint32_t h = 2166136261u ^ sh->seed; /* FNV-1a, seeded per zone */
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    }
    return h;
}

/* A flushed item is found as an expired one (get_stale sees it, a store replaces it). */
static node_t *lookup(mg_shdict_t *sh, const char *key, size_t klen, uint32_t hash)
{
    for (node_t *n = sh->buckets[hash & (sh->nbuckets - 1)]; n; n = n->hnext) {
        if (n->hash == hash && n->klen == klen && memcmp(n->data, key, klen) == 0) {
            return n;
        }
    }
    return NULL;
}

/* Before the first store that a process killed halfway would leave inconsistent (links,
 * the allocator's lists, a value being rewritten). A counter at the head of the LRU list being
 * incremented changes one aligned 8-byte word, which a kill cannot tear: no mark. */
static void changing(mg_shdict_t *sh)
{
    sh->dirty = 1;
}

static void touch(mg_shdict_t *sh, node_t *n)
{
    if (sh->lru.next == &n->lru) {
        return;
    }
    changing(sh);
    lru_unlink(&n->lru);
    lru_insert_after(&sh->lru, &n->lru);
}

/* As lua-nginx-module's lookup: the item found, expired or not, becomes the most recently used
 * (ttl and expire look without touching). */
static node_t *lookup_touch(mg_shdict_t *sh, const char *key, size_t klen, uint32_t hash)
{
    node_t *n = lookup(sh, key, klen, hash);
    if (n) {
        touch(sh, n);
    }
    return n;
}

static void node_free(mg_shdict_t *sh, node_t *n)
{
    changing(sh);
    node_t **pp = &sh->buckets[n->hash & (sh->nbuckets - 1)];
    while (*pp != n) {
        pp = &(*pp)->hnext;
    }
    *pp = n->hnext;
    lru_unlink(&n->lru);
    if (n->type == MG_SHDICT_LIST) {
        lru_t *list = list_of(n);
        while (list->next != list) {
            lru_t *e = list->next;
            lru_unlink(e);
            mg_slab_free(sh->slab, e);
        }
    }
    mg_slab_free(sh->slab, n);
}

static void node_link(mg_shdict_t *sh, node_t *n)
{
    changing(sh);
    node_t **bucket = &sh->buckets[n->hash & (sh->nbuckets - 1)];
    n->hnext = *bucket;
    *bucket = n;
    lru_insert_after(&sh->lru, &n->lru);
}

/* Expired items at the cold end of the LRU list, at most max of them. */
static void expire_tail(mg_shdict_t *sh, uint64_t now, int max)
{
    while (max-- > 0 && sh->lru.prev != &sh->lru) {
        node_t *n = (node_t *)sh->lru.prev;
        if (!expired(n, now)) {
            return;
        }
        node_free(sh, n);
    }
}

/* Memory for an item; unless safe, the least recently used items make room. A request
 * larger than the zone evicts nothing. */
static void *alloc_item(mg_shdict_t *sh, size_t size, int safe, int *forcible)
{
    void *p = mg_slab_alloc(sh->slab, size);
    if (p || safe || size > mg_slab_max_alloc(sh->slab)) {
        return p;
    }
    for (int i = 0; i < EVICT_MAX && sh->lru.prev != &sh->lru; i++) {
        node_free(sh, (node_t *)sh->lru.prev);
        *forcible = 1;
        if ((p = mg_slab_alloc(sh->slab, size))) {
            return p;
        }
    }
    return NULL;
}

static node_t *node_new(mg_shdict_t *sh, const char *key, size_t klen, uint32_t hash, size_t vbytes,
                        int safe, int *forcible)
{
    changing(sh);
    node_t *n = alloc_item(sh, sizeof(node_t) + align8(klen) + vbytes, safe, forcible);
    if (n == NULL) {
        return NULL;
    }
    n->hash = hash;
    n->klen = (uint16_t)klen;
    memcpy(n->data, key, klen);
    return n;
}

static void reset(mg_shdict_t *sh)
{
    changing(sh);
    memset(sh->buckets, 0, sh->nbuckets * sizeof(node_t *));
    lru_init(&sh->lru);
    sh->slab = mg_slab_init(sh->arena, sh->arena_size);
}

static void lock(mg_shdict_t *sh)
{
    if (mg_shmtx_lock(&sh->lock) != MG_ABORT) {
        return;
    }
    if (!sh->dirty) {
        mg_log_error(MG_LOG_NOTICE, mg_lua_log(), 0,
                     "lua_shared_dict \"%s\": took over the lock of a process that died "
                     "holding it",
                     sh->name);
        return;
    }
    /* its last holder was killed in the middle of a change: links may be half-made, so the
     * contents cannot be trusted; start over empty rather than crash later */
    reset(sh);
    mg_log_error(MG_LOG_ALERT, mg_lua_log(), 0,
                 "lua_shared_dict \"%s\": a process died while changing it, its contents "
                 "were dropped",
                 sh->name);
}

static void unlock(mg_shdict_t *sh)
{
    sh->dirty = 0;
    mg_shmtx_unlock(&sh->lock);
}

mg_shdict_t *mg_shdict_attach(void *addr, size_t size, const char *name)
{
    mg_shdict_t *sh = addr;
    if (sh->magic == MAGIC) {
        return sh; /* kept over a reload */
    }
    char *p = (char *)addr + align8(sizeof(mg_shdict_t));
    size_t nlen = strlen(name);
    sh->name = p;
    memcpy(p, name, nlen + 1);
    p += align8(nlen + 1);
    /* about one bucket per 256 bytes: chains stay short for small items, the table costs 3% */
    size_t nb = 16;
    while (nb < (1u << 24) && nb * 2 * 256 <= size) {
        nb *= 2;
    }
    if ((size_t)(p - (char *)addr) + nb * sizeof(node_t *) >= size) {
        return NULL;
    }
    sh->nbuckets = nb;
    sh->buckets = (node_t **)p;
    p += nb * sizeof(node_t *);
    sh->arena = p;
    sh->arena_size = size - (size_t)(p - (char *)addr);
    sh->size = size;
    sh->seed = (uint32_t)getpid() * 2654435761u ^ (uint32_t)(uintptr_t)addr;
    reset(sh);
    if (sh->slab == NULL) {
        return NULL;
    }
    mg_shmtx_init(&sh->lock);
    sh->magic = MAGIC;
    return sh;
}

/* Coldest first, so that the copy's LRU order is the source's and, when the new zone is
 * smaller, evicting its least recently used items keeps the most recent ones. The source's
 * lock is held throughout: the old generation's workers still write to it. */
size_t mg_shdict_copy(mg_shdict_t *dst, void *src_addr, uint64_t now)
{
    mg_shdict_t *src = src_addr;
    if (src->magic != MAGIC || src == dst) {
        return 0;
    }
    size_t copied = 0;
    lock(src);
    lock(dst);
    for (lru_t *q = src->lru.prev; q != &src->lru; q = q->prev) {
        node_t *sn = (node_t *)q;
        if (expired(sn, now)) {
            continue;
        }
        int list = sn->type == MG_SHDICT_LIST, forcible = 0;
        uint32_t hash = hash_key(dst, sn->data, sn->klen);
        node_t *old = lookup(dst, sn->data, sn->klen, hash);
        if (old) {
            node_free(dst, old);
        }
        node_t *n =
            node_new(dst, sn->data, sn->klen, hash, list ? sizeof(lru_t) : sn->vlen, 0, &forcible);
        if (n == NULL) {
            continue; /* larger than the new zone can hold */
        }
        n->type = sn->type;
        n->flags = sn->flags;
        n->expires = sn->expires;
        n->vlen = sn->vlen;
        if (!list) {
            memcpy(value_of(n), value_of(sn), sn->vlen);
            node_link(dst, n);
            copied++;
            continue;
        }
        lru_init(list_of(n));
        node_link(dst, n);
        uint32_t kept = 0;
        lru_t *from = list_of(sn);
        for (lru_t *e = from->next; e != from; e = e->next) {
            elem_t *se = (elem_t *)e, *de = mg_slab_alloc(dst->slab, sizeof(elem_t) + se->len);
            if (de == NULL) {
                break;
            }
            de->type = se->type;
            de->len = se->len;
            memcpy(de->data, se->data, se->len);
            lru_insert_after(list_of(n)->prev, &de->link);
            kept++;
        }
        n->vlen = kept;
        if (kept == 0 && sn->vlen) {
            node_free(dst, n);
            continue;
        }
        copied++;
    }
    unlock(dst);
    unlock(src);
    return copied;
}

size_t mg_shdict_capacity(mg_shdict_t *sh)
{
    return sh->size;
}

size_t mg_shdict_free_space(mg_shdict_t *sh)
{
    lock(sh);
    size_t n = mg_slab_free_space(sh->slab);
    unlock(sh);
    return n;
}

int mg_shdict_get(mg_shdict_t *sh, const char *key, size_t klen, uint64_t now, int stale_ok,
                  mg_shdict_out_t *out)
{
    uint32_t hash = hash_key(sh, key, klen);
    lock(sh);
    if (!stale_ok) {
        /* as OpenResty's get (not get_stale): a write's cleaning of the cold end */
        expire_tail(sh, now, EXPIRE_ON_WRITE);
    }
    node_t *n = lookup_touch(sh, key, klen, hash);
    int rc = MG_SHDICT_OK;
    if (n == NULL || (!stale_ok && expired(n, now))) {
        rc = MG_SHDICT_NOT_FOUND;
    } else if (n->type == MG_SHDICT_LIST) {
        rc = MG_SHDICT_IS_LIST;
    } else {
        out->stale = expired(n, now);
        if (!out->stale) {
            touch(sh, n);
        }
        out->flags = n->flags;
        copy_out(out, n->type, value_of(n), n->vlen);
    }
    unlock(sh);
    return rc;
}

int mg_shdict_store(mg_shdict_t *sh, int op, const char *key, size_t klen,
                    const mg_shdict_value_t *value, uint64_t exptime, int32_t flags, uint64_t now,
                    int *forcible)
{
    uint32_t hash = hash_key(sh, key, klen);
    size_t vbytes = value_bytes(value);
    if (vbytes > UINT32_MAX) {
        return MG_SHDICT_NO_MEMORY;
    }
    int rc = MG_SHDICT_OK;
    lock(sh);
    expire_tail(sh, now, EXPIRE_ON_WRITE);
    node_t *n = lookup_touch(sh, key, klen, hash);
    int live = n && !expired(n, now);
    if ((op & MG_SHDICT_ADD) && live) {
        rc = MG_SHDICT_EXISTS;
        goto done;
    }
    if ((op & MG_SHDICT_REPLACE) && !live) {
        rc = MG_SHDICT_NOT_FOUND;
        goto done;
    }
    if (value->type == MG_SHDICT_NIL) {
        if (n) {
            node_free(sh, n);
        }
        goto done;
    }
    if (n && n->type != MG_SHDICT_LIST && n->vlen == vbytes) {
        touch(sh, n); /* same size: rewritten in place */
        changing(sh);
    } else {
        /* the old item goes first, as nginx: it must not be an eviction victim we still
         * point to, and its memory may be what the new one needs */
        if (n) {
            node_free(sh, n);
        }
        n = node_new(sh, key, klen, hash, vbytes, op & MG_SHDICT_SAFE, forcible);
        if (n == NULL) {
            rc = MG_SHDICT_NO_MEMORY;
            goto done;
        }
        n->vlen = (uint32_t)vbytes;
        node_link(sh, n);
    }
    n->type = (uint8_t)value->type;
    n->flags = flags;
    n->expires = exptime ? now + exptime : 0;
    write_value(value_of(n), value);
done:
    unlock(sh);
    return rc;
}

int mg_shdict_incr(mg_shdict_t *sh, const char *key, size_t klen, double by, const double *init,
                   uint64_t init_ttl, uint64_t now, double *result, int *forcible)
{
    uint32_t hash = hash_key(sh, key, klen);
    int rc = MG_SHDICT_OK;
    lock(sh);
    expire_tail(sh, now, EXPIRE_ON_WRITE);
    node_t *n = lookup_touch(sh, key, klen, hash);
    if (n == NULL || expired(n, now)) {
        if (init == NULL) {
            rc = MG_SHDICT_NOT_FOUND;
            goto done;
        }
        if (n) {
            node_free(sh, n);
        }
        n = node_new(sh, key, klen, hash, sizeof(double), 0, forcible);
        if (n == NULL) {
            rc = MG_SHDICT_NO_MEMORY;
            goto done;
        }
        n->type = MG_SHDICT_NUMBER;
        n->vlen = sizeof(double);
        n->flags = 0;
        n->expires = init_ttl ? now + init_ttl : 0;
        *result = *init + by;
        memcpy(value_of(n), result, sizeof(double));
        node_link(sh, n);
        goto done;
    }
    if (n->type != MG_SHDICT_NUMBER) {
        rc = MG_SHDICT_NOT_NUMBER;
        goto done;
    }
    double v;
    memcpy(&v, value_of(n), sizeof(double));
    *result = v + by;
    memcpy(value_of(n), result, sizeof(double));
    touch(sh, n);
done:
    unlock(sh);
    return rc;
}

/* Lists never evict: a push that does not fit fails with "no memory", as OpenResty's. */
int mg_shdict_push(mg_shdict_t *sh, const char *key, size_t klen, int left,
                   const mg_shdict_value_t *value, uint64_t now, size_t *len)
{
    uint32_t hash = hash_key(sh, key, klen);
    size_t vbytes = value_bytes(value);
    int rc = MG_SHDICT_OK, unused = 0;
    if (vbytes > UINT32_MAX) {
        return MG_SHDICT_NO_MEMORY;
    }
    lock(sh);
    expire_tail(sh, now, EXPIRE_ON_WRITE);
    node_t *n = lookup_touch(sh, key, klen, hash);
    if (n && expired(n, now)) {
        node_free(sh, n);
        n = NULL;
    }
    if (n && n->type != MG_SHDICT_LIST) {
        rc = MG_SHDICT_NOT_LIST;
        goto done;
    }
    if (n == NULL) {
        n = node_new(sh, key, klen, hash, sizeof(lru_t), 1, &unused);
        if (n == NULL) {
            rc = MG_SHDICT_NO_MEMORY;
            goto done;
        }
        n->type = MG_SHDICT_LIST;
        n->vlen = 0;
        n->flags = 0;
        n->expires = 0;
        lru_init(list_of(n));
        node_link(sh, n);
    }
    changing(sh);
    elem_t *e = mg_slab_alloc(sh->slab, sizeof(elem_t) + vbytes);
    if (e == NULL) {
        if (n->vlen == 0) {
            node_free(sh, n); /* made for this push */
        }
        rc = MG_SHDICT_NO_MEMORY;
        goto done;
    }
    e->type = (uint8_t)value->type;
    e->len = (uint32_t)vbytes;
    write_value(e->data, value);
    lru_t *list = list_of(n);
    lru_insert_after(left ? list : list->prev, &e->link);
    *len = ++n->vlen;
    touch(sh, n);
done:
    unlock(sh);
    return rc;
}

int mg_shdict_pop(mg_shdict_t *sh, const char *key, size_t klen, int left, uint64_t now,
                  mg_shdict_out_t *out)
{
    uint32_t hash = hash_key(sh, key, klen);
    int rc = MG_SHDICT_OK;
    lock(sh);
    node_t *n = lookup_touch(sh, key, klen, hash);
    if (n == NULL || expired(n, now)) {
        rc = MG_SHDICT_NOT_FOUND;
    } else if (n->type != MG_SHDICT_LIST) {
        rc = MG_SHDICT_NOT_LIST;
    } else {
        lru_t *list = list_of(n);
        elem_t *e = (elem_t *)(left ? list->next : list->prev);
        changing(sh);
        lru_unlink(&e->link);
        copy_out(out, e->type, e->data, e->len);
        out->flags = 0;
        out->stale = 0;
        mg_slab_free(sh->slab, e);
        if (--n->vlen == 0) {
            node_free(sh, n); /* an empty list is no item */
        } else {
            touch(sh, n);
        }
    }
    unlock(sh);
    return rc;
}

int mg_shdict_llen(mg_shdict_t *sh, const char *key, size_t klen, uint64_t now, size_t *len)
{
    uint32_t hash = hash_key(sh, key, klen);
    int rc = MG_SHDICT_OK;
    *len = 0;
    lock(sh);
    node_t *n = lookup_touch(sh, key, klen, hash);
    if (n && !expired(n, now)) {
        if (n->type != MG_SHDICT_LIST) {
            rc = MG_SHDICT_NOT_LIST;
        } else {
            *len = n->vlen;
            touch(sh, n);
        }
    }
    unlock(sh);
    return rc;
}

int mg_shdict_ttl(mg_shdict_t *sh, const char *key, size_t klen, uint64_t now, int64_t *ms)
{
    uint32_t hash = hash_key(sh, key, klen);
    lock(sh);
    node_t *n = lookup(sh, key, klen, hash);
    if (n) {
        *ms = n->expires ? (int64_t)(n->expires - now) : 0;
    }
    unlock(sh);
    return n ? MG_SHDICT_OK : MG_SHDICT_NOT_FOUND;
}

/* As OpenResty, an expired item not yet removed can be given a new life. */
int mg_shdict_expire(mg_shdict_t *sh, const char *key, size_t klen, uint64_t exptime, uint64_t now)
{
    uint32_t hash = hash_key(sh, key, klen);
    lock(sh);
    node_t *n = lookup(sh, key, klen, hash);
    if (n) {
        n->expires = exptime ? now + exptime : 0;
    }
    unlock(sh);
    return n ? MG_SHDICT_OK : MG_SHDICT_NOT_FOUND;
}

/* As OpenResty, the items are marked expired and the three least recently used freed; writes,
 * get, eviction and flush_expired free the others (a get_stale still sees them). */
void mg_shdict_flush_all(mg_shdict_t *sh)
{
    lock(sh);
    for (lru_t *q = sh->lru.next; q != &sh->lru; q = q->next) {
        ((node_t *)q)->expires = FLUSHED;
    }
    expire_tail(sh, FLUSHED, 1 + EXPIRE_ON_WRITE);
    unlock(sh);
}

size_t mg_shdict_flush_expired(mg_shdict_t *sh, size_t max, uint64_t now)
{
    size_t count = 0;
    lock(sh);
    for (lru_t *q = sh->lru.prev; q != &sh->lru && (max == 0 || count < max);) {
        node_t *n = (node_t *)q;
        q = q->prev;
        if (expired(n, now)) {
            node_free(sh, n);
            count++;
        }
    }
    unlock(sh);
    return count;
}

size_t mg_shdict_keys(mg_shdict_t *sh, size_t max, uint64_t now, char **keys)
{
    size_t count = 0, bytes = 0;
    lock(sh);
    /* the least recently used first, as OpenResty lists them (get_keys(N): the N oldest) */
    for (lru_t *q = sh->lru.prev; q != &sh->lru && (max == 0 || count < max); q = q->prev) {
        node_t *n = (node_t *)q;
        if (!expired(n, now)) {
            count++;
            bytes += sizeof(uint16_t) + n->klen;
        }
    }
    char *p = *keys = mg_alloc(bytes + 1);
    size_t left = count;
    for (lru_t *q = sh->lru.prev; left; q = q->prev) {
        node_t *n = (node_t *)q;
        if (!expired(n, now)) {
            memcpy(p, &n->klen, sizeof(uint16_t));
            memcpy(p + sizeof(uint16_t), n->data, n->klen);
            p += sizeof(uint16_t) + n->klen;
            left--;
        }
    }
    unlock(sh);
    return count;
}
