/*
 * LD_PRELOAD library for t/bench/heap-trace.sh: every block malloc, calloc, realloc and the
 * aligned allocators hand out is noted with its requested size and the call stack above the
 * allocator (6 frames); SIGRTMIN+3 writes the live ones to /tmp/heap-trace.PID.SEQ as lines
 * "size usable-size pc pc ...". A dump before and one after N idle connections, diffed by
 * stack, say what each connection holds, to the malloc chunk. One thread (the servers' worker
 * loop); the table is fixed (2^20 slots: enough for a few thousand connections).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

#define SLOTS (1 << 20)
#define DEPTH 6
#define GONE ((void *)1)
typedef struct {
    void *p;
    size_t n;
    void *pc[DEPTH];
} slot_t;
static slot_t *tab;
static __thread int busy; /* backtrace may allocate: not noted */

static unsigned hash(void *p)
{
    return (unsigned)(((uintptr_t)p >> 4) * 2654435761u) & (SLOTS - 1);
}

static void note(void *p, size_t n)
{
    if (p == NULL || tab == NULL || busy) {
        return;
    }
    busy = 1;
    unsigned i = hash(p);
    while (tab[i].p && tab[i].p != GONE) {
        i = (i + 1) & (SLOTS - 1);
    }
    void *pc[DEPTH + 2];
    int k = backtrace(pc, DEPTH + 2);
    tab[i].p = p;
    tab[i].n = n;
    memset(tab[i].pc, 0, sizeof(tab[i].pc));
    for (int j = 2; j < k; j++) { /* above this file's two frames */
        tab[i].pc[j - 2] = pc[j];
    }
    busy = 0;
}

static void forget(void *p)
{
    if (p == NULL || tab == NULL) {
        return;
    }
    for (unsigned i = hash(p); tab[i].p; i = (i + 1) & (SLOTS - 1)) {
        if (tab[i].p == p) {
            tab[i].p = GONE;
            return;
        }
    }
}

static void dump(int sig)
{
    (void)sig;
    static int seq;
    char name[64];
    snprintf(name, sizeof(name), "/tmp/heap-trace.%d.%d", (int)getpid(), seq++);
    busy = 1;
    FILE *f = fopen(name, "w");
    for (unsigned i = 0; f && i < SLOTS; i++) {
        if (tab[i].p && tab[i].p != GONE) {
            fprintf(f, "%zu %zu", tab[i].n, malloc_usable_size(tab[i].p));
            for (int j = 0; j < DEPTH; j++) {
                fprintf(f, " %p", tab[i].pc[j]);
            }
            fputc('\n', f);
        }
    }
    if (f) {
        fclose(f);
    }
    busy = 0;
}

__attribute__((constructor)) static void init(void)
{
    void *pc[4];
    busy = 1;
    backtrace(pc, 4); /* loads libgcc's unwinder now, not inside a malloc */
    busy = 0;
    tab = __libc_calloc(SLOTS, sizeof(slot_t));
    signal(SIGRTMIN + 3, dump);
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    note(p, n);
    return p;
}

void free(void *p)
{
    forget(p);
    __libc_free(p);
}

void *calloc(size_t a, size_t b)
{
    void *p = __libc_calloc(a, b);
    note(p, a * b);
    return p;
}

void *realloc(void *o, size_t n)
{
    forget(o);
    void *p = __libc_realloc(o, n);
    note(p ? p : o, p ? n : 0);
    return p;
}

int posix_memalign(void **r, size_t a, size_t n)
{
    void *p = __libc_memalign(a, n);
    if (p == NULL) {
        return ENOMEM;
    }
    note(p, n);
    *r = p;
    return 0;
}

void *aligned_alloc(size_t a, size_t n)
{
    void *p = __libc_memalign(a, n);
    note(p, n);
    return p;
}

void *memalign(size_t a, size_t n)
{
    void *p = __libc_memalign(a, n);
    note(p, n);
    return p;
}
