/*
 * Unit tests for core/pool.c: a pool made with a larger first block (the request pool's)
 * serves from it, a buffer of the block size included, before it chains blocks of
 * block_size; what is too big for a fresh block goes to the large list once the current
 * block has no room for it. mg_pool_reset gives back all but the first block and runs the
 * cleanups, mg_pool_fits compares a pool's sizes (the server's spare request pool).
 */
#include "../../core/pool.c"

#include "tap.h"

static int nblocks(mg_pool_t *p)
{
    int n = 0;
    for (pool_block_t *b = &p->first; b; b = b->next) {
        n++;
    }
    return n;
}

static int nlarge(mg_pool_t *p)
{
    int n = 0;
    for (pool_large_t *l = p->large; l; l = l->next) {
        n++;
    }
    return n;
}

static void count_cleanup(void *data)
{
    (*(int *)data)++;
}

static int in_first(mg_pool_t *p, const void *q)
{
    return (const char *)q >= (const char *)(p + 1) && (const char *)q < p->first.end;
}

int main(void)
{
    mg_pool_t *p = mg_pool_create_sized(16384, 4096);
    char *a = mg_palloc(p, 10000);
    char *buf = mg_pnalloc(p, 4096); /* the block size: taken from the first block's room */
    memset(a, 1, 10000);
    memset(buf, 2, 4096);
    ok(in_first(p, a) && in_first(p, buf),
       "a 10000 and a 4096 byte allocation share the first block");
    is_int(nblocks(p), 1, "one block");
    is_int(nlarge(p), 0, "no large allocation");
    char *c = mg_pcalloc(p, 3000); /* 16384 - 14096 left: no room */
    ok(!in_first(p, c) && c[0] == 0 && c[2999] == 0,
       "what the first block has no room for is elsewhere, zeroed");
    is_int(nblocks(p), 2, "a second block of block_size");
    ok(p->first.next->end - (char *)p->first.next == 4096,
       "the second block has block_size bytes, its header counted in (as nginx's sizes)");
    char *d = mg_palloc(p, 4096);
    is_int(nlarge(p), 1, "4096 bytes without room left in the block: the large list");
    ok(((uintptr_t)d & (POOL_ALIGN - 1)) == 0, "a large allocation is aligned");
    char *e = mg_palloc(p, 100000);
    memset(e, 3, 100000);
    is_int(nlarge(p), 2, "100000 bytes: the large list");
    mg_pool_destroy(p);

    /* mg_pool_create: one size for all blocks, at least 256 */
    p = mg_pool_create(112);
    ok(p->first.end - (char *)p == 256, "a pool's blocks have at least 256 bytes, header and all");
    for (int i = 0; i < 20; i++) {
        char *s = mg_pnalloc(p, 100);
        memset(s, 'x', 100);
    }
    ok(nblocks(p) >= 8, "small blocks chain (%d)", nblocks(p));
    is_int(nlarge(p), 0, "100 bytes never go large");
    mg_pool_destroy(p);

    /* a first block smaller than block_size is taken as block_size (its header counted in) */
    p = mg_pool_create_sized(100, 1024);
    ok(p->first.end - (char *)p == 1024, "the first block is at least block_size");
    mg_pool_destroy(p);
    /* a larger first block holds `first` bytes of data after its header */
    p = mg_pool_create_sized(2000, 1024);
    ok(p->first.end - (char *)(p + 1) == 2000, "the first block holds first bytes of data");
    mg_pool_destroy(p);

    /* mg_pool_reset: the cleanups run, the chained blocks and the large list go, the first
     * block serves from its start again; mg_pool_fits tells the sizes it was made with */
    p = mg_pool_create_sized(16384, 4096);
    int ran = 0;
    char *first = mg_palloc(p, 16);
    mg_pool_cleanup_add(p, count_cleanup, &ran);
    mg_palloc(p, 16000);
    mg_palloc(p, 3000);   /* a second block */
    mg_palloc(p, 100000); /* large */
    mg_pool_reset(p);
    is_int(ran, 1, "reset runs the cleanups");
    is_int(nblocks(p), 1, "reset leaves the first block alone");
    is_int(nlarge(p), 0, "reset frees the large list");
    ok(mg_palloc(p, 16) == first, "the first block serves from its start again");
    mg_pool_destroy(p);
    is_int(ran, 1, "a cleanup runs once, not again at the destroy after a reset");
    ok(mg_pool_fits(p = mg_pool_create_sized(16384, 4096), 16384, 4096),
       "a pool fits the sizes it was made with");
    ok(!mg_pool_fits(p, 16384, 8192) && !mg_pool_fits(p, 8192, 4096),
       "and no other block size or first size");
    mg_pool_destroy(p);
    ok(mg_pool_fits(p = mg_pool_create_sized(100, 100), 100, 100),
       "the same after the sizes were rounded up (256 at least)");
    mg_pool_destroy(p);
    return done_testing();
}
