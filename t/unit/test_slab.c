/*
 * Unit tests for core/slab.c, the allocator of shared memory zones: random allocations and
 * frees of mixed sizes checked against a model (no two live blocks overlap, each keeps the
 * bytes written into it, alignment), the free space back to its start after everything is
 * freed (all blocks merged: the largest allocation succeeds again), and allocations that must
 * come from the classes above the size's own (the class bitmap) or from the last class.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mg.h"

#include "slab.h"

#include "tap.h"

#define REGION (4u << 20)
#define LIVE 2000

static unsigned char region[REGION] __attribute__((aligned(16)));

static struct {
    unsigned char *p;
    size_t size;
    unsigned char fill;
} live[LIVE];

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static size_t pick_size(void)
{
    switch (rnd() % 4) {
    case 0:
        return 1 + rnd() % 64;
    case 1:
        return 64 + rnd() % 1024;
    case 2:
        return 1024 + rnd() % 16384;
    default:
        return 16 + rnd() % 200;
    }
}

static int check_live(void)
{
    for (size_t i = 0; i < LIVE; i++) {
        if (live[i].p == NULL) {
            continue;
        }
        for (size_t k = 0; k < live[i].size; k++) {
            if (live[i].p[k] != live[i].fill) {
                return 0;
            }
        }
    }
    return 1;
}

static void test_random(void)
{
    mg_slab_t *s = mg_slab_init(region, REGION / 2); /* small enough that some calls fail */
    ok(s != NULL, "a 2 MiB region");
    size_t start = mg_slab_free_space(s), max = mg_slab_max_alloc(s);
    int aligned = 1, failed = 0, allocs = 0;
    for (int step = 0; step < 200000; step++) {
        size_t i = rnd() % LIVE;
        if (live[i].p) {
            mg_slab_free(s, live[i].p);
            live[i].p = NULL;
            continue;
        }
        size_t size = pick_size();
        unsigned char *p = mg_slab_alloc(s, size);
        if (p == NULL) {
            failed++;
            continue;
        }
        allocs++;
        aligned &= ((uintptr_t)p % 16) == 0;
        live[i].p = p;
        live[i].size = size;
        live[i].fill = (unsigned char)rnd();
        memset(p, live[i].fill, size);
        if (step % 20000 == 0 && !check_live()) {
            ok(0, "live blocks keep their bytes at step %d", step);
            return;
        }
    }
    ok(check_live(), "every live block kept its bytes (%d allocations, %d refused)", allocs,
       failed);
    ok(aligned, "payloads 16-byte aligned");
    for (size_t i = 0; i < LIVE; i++) {
        mg_slab_free(s, live[i].p);
        live[i].p = NULL;
    }
    is_int((long long)mg_slab_free_space(s), (long long)start, "all freed: the free space is back");
    void *all = mg_slab_alloc(s, max);
    ok(all != NULL, "the freed blocks merged: the largest allocation fits again");
    ok(mg_slab_alloc(s, 1) == NULL, "and nothing is left beside it");
    mg_slab_free(s, all);
    ok(mg_slab_alloc(s, max + 1) == NULL, "more than the region: NULL");
}

static void test_classes(void)
{
    mg_slab_t *s = mg_slab_init(region, 1u << 20);
    /* many small blocks, every other one freed: the small classes fill with holes that a
     * larger request cannot use, so it must come from the big block's class */
    void *p[1000];
    for (int i = 0; i < 1000; i++) {
        p[i] = mg_slab_alloc(s, 40);
    }
    for (int i = 0; i < 1000; i += 2) {
        mg_slab_free(s, p[i]);
    }
    void *big = mg_slab_alloc(s, 5000);
    ok(big != NULL, "a block from a class far above the holes'");
    void *small = mg_slab_alloc(s, 40);
    int in_hole = 0;
    for (int i = 0; i < 1000; i += 2) {
        in_hole |= small == p[i];
    }
    ok(in_hole, "a small request reuses a hole of its own class");
    size_t free_before = mg_slab_free_space(s);
    mg_slab_free(s, big);
    mg_slab_free(s, small);
    for (int i = 1; i < 1000; i += 2) {
        mg_slab_free(s, p[i]);
    }
    ok(mg_slab_free_space(s) > free_before, "frees counted");
    ok(mg_slab_alloc(s, mg_slab_max_alloc(s)) != NULL, "everything merged again");
}

int main(void)
{
    test_random();
    test_classes();
    return done_testing();
}
