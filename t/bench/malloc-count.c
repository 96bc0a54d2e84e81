/*
 * LD_PRELOAD library for t/bench/upstream-tls-mallocs.sh: counts the calls of malloc, calloc,
 * realloc and the aligned allocators; SIGRTMIN+4 writes the count so far to
 * /tmp/malloc-count.PID. Two counts around N requests give the allocations per request, which
 * no load on the machine changes. One thread (the servers' worker loop).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static unsigned long calls;

void *malloc(size_t n)
{
    calls++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    calls++;
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    calls++;
    return __libc_realloc(p, n);
}

void *memalign(size_t a, size_t n)
{
    calls++;
    return __libc_memalign(a, n);
}

void *aligned_alloc(size_t a, size_t n)
{
    calls++;
    return __libc_memalign(a, n);
}

int posix_memalign(void **p, size_t a, size_t n)
{
    calls++;
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}

static void dump(int sig)
{
    (void)sig;
    char name[64], line[32];
    snprintf(name, sizeof(name), "/tmp/malloc-count.%d", (int)getpid());
    int len = snprintf(line, sizeof(line), "%lu\n", calls); /* before open's own */
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        (void)!write(fd, line, (size_t)len);
        close(fd);
    }
}

__attribute__((constructor)) static void init(void)
{
    signal(SIGRTMIN + 4, dump);
}
