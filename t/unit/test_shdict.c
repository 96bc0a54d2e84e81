/*
 * Unit tests for the shared dict's parts: core/slab.c (random allocations and frees checked
 * against the heap's invariants and the data written), lua/shdict_store.c (every operation,
 * expiry with a fake clock, LRU eviction, safe stores, lists, keys, a reload's re-attach) and
 * the process-shared lock: forked writers whose increments must all count, and writers killed
 * while holding the lock, in and out of the middle of a change.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mg.h"

#include "../../core/slab.c"
#include "../../lua/shdict_store.c"

#include "tap.h"

/* ---- allocator ---- */

/* Walk every block: sizes add up, no two free neighbours, flags agree, the free count and
 * the class lists hold exactly the free blocks. */
static int slab_consistent(mg_slab_t *s)
{
    size_t free_bytes = 0, free_blocks = 0, listed = 0;
    int prev_used = 1;
    char *p = s->start;
    while (p < s->end) {
        block_t *b = (block_t *)p;
        size_t size = bsize(b);
        if (size < MIN_BLOCK || p + size > s->end) {
            return 0;
        }
        if (!!(b->head & PREV_USED) != prev_used) {
            return 0;
        }
        if (!(b->head & USED)) {
            if (!prev_used || *(size_t *)(p + size - HDR) != size) {
                return 0;
            }
            free_bytes += size;
            free_blocks++;
        }
        prev_used = !!(b->head & USED);
        p += size;
    }
    if (p != s->end || free_bytes != s->free) {
        return 0;
    }
    for (size_t i = 0; i < NBINS; i++) {
        for (block_t *b = s->bins[i]; b; b = b->next) {
            if ((b->head & USED) || (i < NBINS - 1 && bin_of(bsize(b)) != i)) {
                return 0;
            }
            listed++;
        }
    }
    return listed == free_blocks;
}

static unsigned rnd_state = 12345;

static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static void test_slab(void)
{
    size_t size = 1 << 20;
    char *region = malloc(size);
    mg_slab_t *s = mg_slab_init(region, size);
    ok(s != NULL, "slab: init over 1 MB");
    size_t initial = mg_slab_free_space(s);
    ok(initial > size - 4096 && initial < size, "slab: almost all of it free (%zu)", initial);
    ok(mg_slab_init(region, 64) == NULL, "slab: a region too small for the state is refused");
    ok(mg_slab_alloc(s, size) == NULL, "slab: more than the region is refused");
    ok(mg_slab_alloc(s, SIZE_MAX - 4) == NULL, "slab: a size that would overflow is refused");

    enum { SLOTS = 512 };
    struct {
        unsigned char *p;
        size_t len;
        unsigned char fill;
    } slot[SLOTS] = {{0}};
    int aligned = 1, intact = 1, consistent = 1, failed = 0;
    for (int i = 0; i < 200000; i++) {
        int k = (int)(rnd() % SLOTS);
        if (slot[k].p) {
            for (size_t j = 0; j < slot[k].len; j++) {
                if (slot[k].p[j] != slot[k].fill) {
                    intact = 0;
                    break;
                }
            }
            mg_slab_free(s, slot[k].p);
            slot[k].p = NULL;
        } else {
            /* mostly small, sometimes up to 16 KB */
            size_t len = rnd() % 8 ? rnd() % 300 : rnd() % 16384;
            slot[k].p = mg_slab_alloc(s, len);
            if (slot[k].p == NULL) {
                failed++;
                continue;
            }
            aligned &= ((uintptr_t)slot[k].p % 16) == 0;
            slot[k].len = len;
            slot[k].fill = (unsigned char)rnd();
            memset(slot[k].p, slot[k].fill, len);
        }
        if (i % 5000 == 0) {
            consistent &= slab_consistent(s);
        }
    }
    ok(aligned, "slab: payloads are 16-byte aligned");
    ok(intact, "slab: no allocation overwrote another");
    ok(consistent && slab_consistent(s), "slab: heap invariants hold throughout");
    is_int(failed, 0, "slab: no allocation failed with room to spare");
    for (int k = 0; k < SLOTS; k++) {
        mg_slab_free(s, slot[k].p);
    }
    is_int((long long)mg_slab_free_space(s), (long long)initial, "slab: all free again");
    ok(slab_consistent(s) && s->start + bsize((block_t *)s->start) == s->end,
       "slab: merged back into one block");

    /* fill with 1 KB blocks until full, free every other one: a 2 KB request cannot fit in
     * the holes, a 1 KB one can */
    void *blocks[2048];
    size_t n = 0;
    while (n < 2048 && (blocks[n] = mg_slab_alloc(s, 1000)) != NULL) {
        n++;
    }
    ok(n > 900 && n < 1100, "slab: about 1000 blocks of 1000 bytes fit in 1 MB (%zu)", n);
    for (size_t i = 0; i < n; i += 2) {
        mg_slab_free(s, blocks[i]);
    }
    ok(mg_slab_alloc(s, 2000) == NULL, "slab: fragmented: 2000 bytes do not fit");
    void *again = mg_slab_alloc(s, 1000);
    ok(again != NULL, "slab: 1000 bytes fit in a hole");
    mg_slab_free(s, again);
    for (size_t i = 1; i < n; i += 2) {
        mg_slab_free(s, blocks[i]);
    }
    is_int((long long)mg_slab_free_space(s), (long long)initial, "slab: all free after that");
    free(region);
}

/* ---- store ---- */

static mg_shdict_t *new_dict(size_t size)
{
    void *addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return addr == MAP_FAILED ? NULL : mg_shdict_attach(addr, size, "test");
}

static mg_shdict_value_t str(const char *s)
{
    return (mg_shdict_value_t){.type = MG_SHDICT_STRING, .str = s, .len = strlen(s)};
}

static mg_shdict_value_t num(double n)
{
    return (mg_shdict_value_t){.type = MG_SHDICT_NUMBER, .num = n};
}

static int set(mg_shdict_t *sh, int op, const char *key, mg_shdict_value_t v, uint64_t exptime,
               uint64_t now, int *forcible)
{
    int dummy = 0;
    return mg_shdict_store(sh, op, key, strlen(key), &v, exptime, 0, now,
                           forcible ? forcible : &dummy);
}

/* The string value of key, or a marker for the result. */
static const char *get(mg_shdict_t *sh, const char *key, uint64_t now)
{
    static mg_shdict_out_t out;
    static char text[64];
    int rc = mg_shdict_get(sh, key, strlen(key), now, 0, &out);
    if (rc == MG_SHDICT_NOT_FOUND) {
        return "(nil)";
    }
    if (rc == MG_SHDICT_IS_LIST) {
        return "(list)";
    }
    if (out.v.type == MG_SHDICT_NUMBER) {
        snprintf(text, sizeof(text), "%g", out.v.num);
        return text;
    }
    if (out.v.type == MG_SHDICT_BOOLEAN) {
        return out.v.num ? "true" : "false";
    }
    snprintf(text, sizeof(text), "%.*s", (int)out.v.len, out.v.str);
    mg_shdict_out_free(&out);
    return text;
}

static void test_store(void)
{
    uint64_t now = 1000000;
    mg_shdict_t *sh = new_dict(64 * 1024);
    ok(sh != NULL, "store: attached to a fresh 64 KB zone");
    size_t empty = mg_shdict_free_space(sh);
    is_int((long long)mg_shdict_capacity(sh), 64 * 1024, "store: capacity is the zone size");

    is_int(set(sh, MG_SHDICT_SET, "a", str("x"), 0, now, NULL), MG_SHDICT_OK, "set");
    is_str(get(sh, "a", now), "x", "get");
    mg_shdict_value_t b = {.type = MG_SHDICT_BOOLEAN, .num = 0};
    set(sh, MG_SHDICT_SET, "b", b, 0, now, NULL);
    is_str(get(sh, "b", now), "false", "a boolean keeps its type");
    set(sh, MG_SHDICT_SET, "n", num(2.5), 0, now, NULL);
    is_str(get(sh, "n", now), "2.5", "a number keeps its type");
    set(sh, MG_SHDICT_SET, "n", str("12345678"), 0, now, NULL);
    is_str(get(sh, "n", now), "12345678", "a same-size value of another type, in place");
    is_int(set(sh, MG_SHDICT_ADD, "a", str("y"), 0, now, NULL), MG_SHDICT_EXISTS, "add: exists");
    is_int(set(sh, MG_SHDICT_REPLACE, "zz", str("y"), 0, now, NULL), MG_SHDICT_NOT_FOUND,
           "replace: not found");
    is_int(set(sh, MG_SHDICT_REPLACE, "a", str("longer value"), 0, now, NULL), MG_SHDICT_OK,
           "replace");
    is_str(get(sh, "a", now), "longer value", "replaced");
    mg_shdict_value_t nil = {.type = MG_SHDICT_NIL};
    set(sh, MG_SHDICT_SET, "a", nil, 0, now, NULL);
    is_str(get(sh, "a", now), "(nil)", "set nil deletes");

    double r;
    int forcible = 0;
    is_int(mg_shdict_incr(sh, "c", 1, 1, NULL, 0, now, &r, &forcible), MG_SHDICT_NOT_FOUND,
           "incr: not found");
    double init = 10;
    mg_shdict_incr(sh, "c", 1, 1, &init, 0, now, &r, &forcible);
    ok(r == 11, "incr with init");
    mg_shdict_incr(sh, "c", 1, -0.5, NULL, 0, now, &r, &forcible);
    ok(r == 10.5, "incr by a negative float");
    is_int(mg_shdict_incr(sh, "n", 1, 1, NULL, 0, now, &r, &forcible), MG_SHDICT_NOT_NUMBER,
           "incr: not a number");

    /* expiry */
    set(sh, MG_SHDICT_SET, "e", str("v"), 100, now, NULL);
    int64_t ms;
    mg_shdict_ttl(sh, "e", 1, now + 40, &ms);
    is_int(ms, 60, "ttl counts down in ms");
    is_str(get(sh, "e", now + 99), "v", "alive before its time");
    is_str(get(sh, "e", now + 100), "(nil)", "gone at its time");
    mg_shdict_out_t out;
    ok(mg_shdict_get(sh, "e", 1, now + 100, 1, &out) == MG_SHDICT_OK && out.stale,
       "get_stale still sees it, stale");
    is_int(set(sh, MG_SHDICT_ADD, "e", str("w"), 0, now + 100, NULL), MG_SHDICT_OK,
           "add over an expired item");
    mg_shdict_expire(sh, "e", 1, 5, now);
    is_int(mg_shdict_incr(sh, "e", 1, 1, NULL, 0, now + 5, &r, &forcible), MG_SHDICT_NOT_FOUND,
           "incr: an expired item is not found");
    is_int((long long)mg_shdict_flush_expired(sh, 0, now + 5), 1, "flush_expired counts");
    is_int(mg_shdict_ttl(sh, "e", 1, now, &ms), MG_SHDICT_NOT_FOUND, "flushed for real");

    /* lists */
    size_t len;
    mg_shdict_value_t one = num(1), two = str("two");
    mg_shdict_push(sh, "l", 1, 1, &one, now, &len);
    mg_shdict_push(sh, "l", 1, 0, &two, now, &len);
    is_int((long long)len, 2, "push: length");
    is_str(get(sh, "l", now), "(list)", "get on a list");
    is_int(mg_shdict_push(sh, "b", 1, 1, &one, now, &len), MG_SHDICT_NOT_LIST,
           "push on a non-list");
    mg_shdict_pop(sh, "l", 1, 0, now, &out);
    ok(out.v.type == MG_SHDICT_STRING && out.v.len == 3, "rpop: the tail");
    mg_shdict_pop(sh, "l", 1, 0, now, &out);
    ok(out.v.type == MG_SHDICT_NUMBER && out.v.num == 1, "rpop: then the head");
    is_int(mg_shdict_pop(sh, "l", 1, 1, now, &out), MG_SHDICT_NOT_FOUND, "an empty list is gone");

    char *keys;
    size_t nkeys = mg_shdict_keys(sh, 0, now, &keys);
    is_int((long long)nkeys, 3, "keys: b, n, c");
    free(keys);
    is_int((long long)mg_shdict_keys(sh, 2, now, &keys), 2, "keys: at most max");
    free(keys);

    /* LRU eviction: fill with 1 KB values, reading "k0" now and then */
    char big[1000], key[32];
    memset(big, 'v', sizeof(big));
    mg_shdict_value_t bv = {.type = MG_SHDICT_STRING, .str = big, .len = sizeof(big)};
    int first_forced = -1;
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        forcible = 0;
        int rc = set(sh, MG_SHDICT_SET, key, bv, 0, now, &forcible);
        if (rc != MG_SHDICT_OK) {
            break;
        }
        if (forcible && first_forced < 0) {
            first_forced = i;
        }
        get(sh, "k0", now);
    }
    ok(first_forced > 40 && first_forced < 64, "evicts once 64 KB are full (at %d)", first_forced);
    ok(strcmp(get(sh, "k0", now), "(nil)") != 0, "the item kept in use survives");
    is_str(get(sh, "k1", now), "(nil)", "the least recently used went first");
    ok(strcmp(get(sh, "k199", now), "(nil)") != 0, "the newest is there");
    is_int(set(sh, MG_SHDICT_SET | MG_SHDICT_SAFE, "safe", bv, 0, now, &forcible),
           MG_SHDICT_NO_MEMORY, "safe_set: no memory instead of evicting");
    is_int(set(sh, MG_SHDICT_ADD | MG_SHDICT_SAFE, "safe", bv, 0, now, &forcible),
           MG_SHDICT_NO_MEMORY, "safe_add: no memory instead of evicting");
    char *huge = calloc(1, 100000);
    mg_shdict_value_t hv = {.type = MG_SHDICT_STRING, .str = huge, .len = 100000};
    forcible = 0;
    is_int(set(sh, MG_SHDICT_SET, "huge", hv, 0, now, &forcible), MG_SHDICT_NO_MEMORY,
           "a value larger than the zone: no memory");
    ok(!forcible && strcmp(get(sh, "k199", now), "(nil)") != 0, "... and nothing evicted for it");
    free(huge);
    mg_shdict_value_t lv = {.type = MG_SHDICT_STRING, .str = big, .len = sizeof(big)};
    is_int(mg_shdict_push(sh, "list", 4, 1, &lv, now, &len), MG_SHDICT_NO_MEMORY,
           "a push never evicts");

    /* a long value comes out through the heap */
    mg_shdict_flush_all(sh);
    is_str(get(sh, "k199", now), "(nil)", "flush_all: items are gone");
    ok(mg_shdict_get(sh, "k199", 4, now, 1, &out) == MG_SHDICT_OK && out.stale,
       "... but get_stale sees them, as OpenResty's");
    mg_shdict_out_free(&out);
    mg_shdict_flush_expired(sh, 0, now);
    is_int((long long)mg_shdict_free_space(sh), (long long)empty, "flush_expired frees them");
    char *long_value = malloc(20000);
    memset(long_value, 'z', 20000);
    mg_shdict_value_t lv2 = {.type = MG_SHDICT_STRING, .str = long_value, .len = 20000};
    set(sh, MG_SHDICT_SET, "long", lv2, 0, now, NULL);
    mg_shdict_get(sh, "long", 4, now, 0, &out);
    ok(out.heap && out.v.len == 20000 && memcmp(out.v.str, long_value, 20000) == 0,
       "a 20 KB value read back whole");
    mg_shdict_out_free(&out);
    free(long_value);

    /* a reload attaches to what is there */
    set(sh, MG_SHDICT_SET, "kept", str("yes"), 0, now, NULL);
    mg_shdict_t *again = mg_shdict_attach(sh, 64 * 1024, "test");
    ok(again == sh, "attach to a built zone keeps it");
    is_str(get(again, "kept", now), "yes", "... with its contents");
    munmap(sh, 64 * 1024);
}

/* ---- the lock between processes ---- */

static void test_processes(void)
{
    mg_shdict_t *sh = new_dict(256 * 1024);
    enum { CHILDREN = 4, INCRS = 20000 };
    for (int c = 0; c < CHILDREN; c++) {
        if (fork() == 0) {
            double r, zero = 0;
            int f;
            for (int i = 0; i < INCRS; i++) {
                mg_shdict_incr(sh, "hits", 4, 1, &zero, 0, 1, &r, &f);
            }
            _exit(0);
        }
    }
    int status, clean = 1;
    for (int c = 0; c < CHILDREN; c++) {
        wait(&status);
        clean &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    ok(clean, "locking: 4 writer processes ran");
    is_str(get(sh, "hits", 1), "80000", "locking: every increment counted");

    /* killed between changes (holding the lock, the store consistent): the next locker gets
     * the lock and the contents */
    pid_t pid = fork();
    if (pid == 0) {
        lock(sh);
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status), "a holder killed with SIGKILL");
    is_str(get(sh, "hits", 1), "80000", "the lock came back, the contents kept");

    /* killed at any point of a busy loop of increments of one key: never mid-change, as the
     * counter stays at the head of the LRU list */
    pid = fork();
    if (pid == 0) {
        double r;
        int f;
        for (;;) {
            mg_shdict_incr(sh, "hits", 4, 1, NULL, 0, 1, &r, &f);
        }
    }
    /* killed once it is surely incrementing (a loaded machine may start it late), then at
     * some point of its loop */
    mg_shdict_out_t out;
    for (int waited = 0; waited < 10000; waited++) {
        if (mg_shdict_get(sh, "hits", 4, 1, 0, &out) == MG_SHDICT_OK && out.v.num > 80000) {
            break;
        }
        usleep(1000);
    }
    usleep(20000);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ok(mg_shdict_get(sh, "hits", 4, 1, 0, &out) == MG_SHDICT_OK && out.v.num > 80000,
       "an incrementing process killed: the counter kept (%g)", out.v.num);

    /* killed in the middle of a change: the next locker starts over empty */
    pid = fork();
    if (pid == 0) {
        lock(sh);
        changing(sh);
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    waitpid(pid, &status, 0);
    int devnull = open("/dev/null", O_WRONLY), saved = dup(2);
    dup2(devnull, 2); /* the alert line */
    const char *v = get(sh, "hits", 1);
    dup2(saved, 2);
    is_str(v, "(nil)", "killed mid-change: the store was reset");
    set(sh, MG_SHDICT_SET, "after", str("ok"), 0, 1, NULL);
    is_str(get(sh, "after", 1), "ok", "and works on");
    munmap(sh, 256 * 1024);
}

int main(void)
{
    test_slab();
    test_store();
    test_processes();
    return done_testing();
}
