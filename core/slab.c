/*
 * The region allocator of shared memory zones (slab.h): boundary tags and segregated free
 * lists. A block is a header word (its size, USED, PREV_USED) and its payload; a free block
 * also holds its list links and repeats its size in its last word, which is how the block
 * after it finds it to merge. Two free blocks are never neighbours.
 */
#include "slab.h"

#define ALIGN 16
#define HDR sizeof(size_t)
#define MIN_BLOCK 32 /* header, two links, footer */
#define USED ((size_t)1)
#define PREV_USED ((size_t)2)
#define SIZE_MASK (~(size_t)(ALIGN - 1))
#define FL_MIN 5  /* 32-byte blocks */
#define FL_MAX 40 /* larger blocks share the last class, searched with a size check */
#define SL 4      /* classes per power of two */
#define NBINS ((FL_MAX - FL_MIN + 1) * SL)
#define FIRST_SCAN 16

typedef struct block_s {
    size_t head;
    struct block_s *next; /* while free: the class list */
    struct block_s *prev;
} block_t;

struct mg_slab_s {
    char *start; /* the first block */
    char *end;   /* the sentinel: a used block of size 0 that stops merging */
    size_t free;
    uint64_t nonempty[(NBINS + 63) / 64]; /* a bit per class with a block in it */
    block_t *bins[NBINS];
};

static size_t bsize(const block_t *b)
{
    return b->head & SIZE_MASK;
}

static block_t *at(void *p, size_t off)
{
    return (block_t *)((char *)p + off);
}

static size_t bin_of(size_t size)
{
    unsigned fl = 63 - (unsigned)__builtin_clzll((unsigned long long)size);
    if (fl > FL_MAX) {
        return NBINS - 1;
    }
    return (fl - FL_MIN) * SL + ((size >> (fl - 2)) & (SL - 1));
}

static void bin_insert(mg_slab_t *s, block_t *b)
{
    size_t i = bin_of(bsize(b));
    s->nonempty[i / 64] |= (uint64_t)1 << (i % 64);
    b->prev = NULL;
    b->next = s->bins[i];
    if (b->next) {
        b->next->prev = b;
    }
    s->bins[i] = b;
}

static void bin_remove(mg_slab_t *s, block_t *b)
{
    if (b->prev) {
        b->prev->next = b->next;
    } else {
        size_t i = bin_of(bsize(b));
        s->bins[i] = b->next;
        if (b->next == NULL) {
            s->nonempty[i / 64] &= ~((uint64_t)1 << (i % 64));
        }
    }
    if (b->next) {
        b->next->prev = b->prev;
    }
}

/* A free block of `size` bytes at b: header, footer and the next block's PREV_USED. */
static void make_free(mg_slab_t *s, block_t *b, size_t size)
{
    b->head = size | PREV_USED; /* the block before a free one is always in use */
    *(size_t *)((char *)b + size - HDR) = size;
    at(b, size)->head &= ~PREV_USED;
    bin_insert(s, b);
}

/* b (free or about to be) becomes a free block of `size` bytes in the place of old, a listed
 * free block it absorbed or split from (b itself when it grew): when the size stays in old's
 * class, b takes over old's links instead of a removal and an insertion (a limit_conn node is
 * cut from the big free block and merged back into it per request). */
static void settle(mg_slab_t *s, block_t *b, size_t size, block_t *old)
{
    size_t i = bin_of(bsize(old));
    if (bin_of(size) != i) {
        bin_remove(s, old);
        make_free(s, b, size);
        return;
    }
    block_t *next = old->next, *prev = old->prev;
    b->head = size | PREV_USED;
    *(size_t *)((char *)b + size - HDR) = size;
    at(b, size)->head &= ~PREV_USED;
    b->next = next;
    b->prev = prev;
    if (prev) {
        prev->next = b;
    } else {
        s->bins[i] = b;
    }
    if (next) {
        next->prev = b;
    }
}

mg_slab_t *mg_slab_init(void *addr, size_t size)
{
    uintptr_t a = ((uintptr_t)addr + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
    uintptr_t limit = (uintptr_t)addr + size;
    /* headers sit 8 bytes before a 16-byte boundary, so payloads are aligned */
    uintptr_t first = ((a + sizeof(mg_slab_t) + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1)) + HDR;
    if (first + MIN_BLOCK + HDR > limit) {
        return NULL;
    }
    size_t total = (limit - HDR - first) & SIZE_MASK;
    if (total < MIN_BLOCK) {
        return NULL;
    }
    mg_slab_t *s = (mg_slab_t *)a;
    memset(s, 0, sizeof(*s));
    s->start = (char *)first;
    s->end = s->start + total;
    ((block_t *)s->end)->head = USED;
    make_free(s, (block_t *)s->start, total);
    s->free = total;
    return s;
}

/* the first class above i with a block in it, or NBINS (an allocation needs one step, not a
 * walk over the empty classes: a limit_conn node is made and freed per request) */
static size_t next_nonempty(const mg_slab_t *s, size_t i)
{
    for (size_t w = (i + 1) / 64; w < mg_nelems(s->nonempty); w++) {
        uint64_t bits = s->nonempty[w];
        if (w == (i + 1) / 64) {
            bits &= ~(uint64_t)0 << ((i + 1) % 64);
        }
        if (bits) {
            size_t j = w * 64 + (size_t)__builtin_ctzll(bits);
            return j < NBINS ? j : NBINS;
        }
    }
    return NBINS;
}

static block_t *fit_in(block_t *b, size_t need, size_t limit)
{
    for (size_t n = 0; b && n < limit; b = b->next, n++) {
        if (bsize(b) >= need) {
            return b;
        }
    }
    return NULL;
}

void *mg_slab_alloc(mg_slab_t *s, size_t size)
{
    if (size > (size_t)(s->end - s->start)) {
        return NULL;
    }
    size_t need = (size + HDR + ALIGN - 1) & SIZE_MASK;
    if (need < MIN_BLOCK) {
        need = MIN_BLOCK;
    }
    /* every block of a higher class fits; the need's own class holds some that do not, so
     * look at a few of them first (keeping large blocks whole), then up, then all of them */
    size_t i = bin_of(need);
    block_t *b = fit_in(s->bins[i], need, FIRST_SCAN);
    for (size_t j = i; b == NULL && (j = next_nonempty(s, j)) < NBINS;) {
        b = j == NBINS - 1 ? fit_in(s->bins[j], need, SIZE_MAX) : s->bins[j];
    }
    if (b == NULL) {
        b = fit_in(s->bins[i], need, SIZE_MAX);
        if (b == NULL) {
            return NULL;
        }
    }
    size_t have = bsize(b);
    if (have - need >= MIN_BLOCK) {
        settle(s, at(b, need), have - need, b); /* with PREV_USED: b is in use */
        b->head = need | USED | (b->head & PREV_USED);
        s->free -= need;
    } else {
        bin_remove(s, b);
        b->head |= USED;
        at(b, have)->head |= PREV_USED;
        s->free -= have;
    }
    return (char *)b + HDR;
}

void mg_slab_free(mg_slab_t *s, void *p)
{
    if (p == NULL) {
        return;
    }
    block_t *b = (block_t *)((char *)p - HDR);
    size_t size = bsize(b);
    s->free += size;
    block_t *next = at(b, size), *listed = NULL; /* a free neighbour b merges with */
    if (!(next->head & USED)) {
        listed = next;
        size += bsize(next);
    }
    if (!(b->head & PREV_USED)) {
        size_t psize = *(size_t *)((char *)b - HDR);
        b = (block_t *)((char *)b - psize);
        size += psize;
        if (listed) {
            bin_remove(s, listed);
        }
        listed = b;
    }
    if (listed) {
        settle(s, b, size, listed);
    } else {
        make_free(s, b, size);
    }
}

size_t mg_slab_free_space(const mg_slab_t *s)
{
    return s->free;
}

size_t mg_slab_max_alloc(const mg_slab_t *s)
{
    return (size_t)(s->end - s->start) - HDR;
}
