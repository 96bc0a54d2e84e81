/*
 * The lock between processes of shm.h: one 64-bit word in shared memory holding the pid of
 * the process that has it (nginx's ngx_shmtx idea), taken and given back by one atomic
 * instruction each when nobody waits: 20 instructions a lock/unlock pair where glibc's robust
 * mutex took 138 (its robust-list bookkeeping); limit_conn takes a zone lock twice a request.
 *
 * A holder that died is found by its waiters, not by the kernel: a waiter spins briefly, then
 * sleeps on a futex; when a sleep times out (a dead holder wakes nobody) it asks whether the
 * pid in the word still exists (kill(pid, 0)) and, if not, takes the lock over (MG_ABORT). A
 * live holder's waiters make no system call but the futex's. A dead worker stays a zombie,
 * still "existing", until the master reaps it: the master does at once (SIGCHLD), and the pid
 * is only free for reuse after that. A pid given to a new process before any waiter asked (a
 * wrap-around of pids between the death and the next use of that lock) is told from the
 * holder by its start time (/proc/PID/stat), which the word keeps beside the pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"

/* The word: 0 when free, else the holder's pid, with WAITERS when someone may sleep on it
 * (the holder's unlock must wake one), and in the upper 32 bits the holder's start time (its
 * identity when its pid has been reused; 0: unknown). Linux pids are below 2^22. */
#define WAITERS 0x80000000u
#define PID_MASK 0x3fffffffu
/* Spins before a waiter sleeps: critical sections are a hash lookup or a few stores. */
#define SPINS 100
/* How long a sleeper waits before it checks again that the holder lives. */
#define RECHECK_NS (10 * 1000 * 1000)

/* This process's word (start time, pid), made once: getpid() is a system call. A fork's child
 * forgets it. */
static uint64_t self_word;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_self(void)
{
    __atomic_store_n(&self_word, 0, __ATOMIC_RELAXED);
}

static void watch_forks(void)
{
    pthread_atfork(NULL, NULL, forget_self);
}

/* The start time of process pid (clock ticks since boot, field 22 of /proc/PID/stat), the low
 * 32 bits; 0 when it cannot be read (no /proc). */
static uint32_t start_time(pid_t pid)
{
    char path[32], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* after the command name, which may hold anything */
    for (int field = 2; p && field < 22; field++) { /* to the space before field 22 */
        p = strchr(p + 1, ' ');
    }
    return p ? (uint32_t)strtoull(p + 1, NULL, 10) : 0;
}

static uint64_t self(void)
{
    uint64_t w = __atomic_load_n(&self_word, __ATOMIC_RELAXED);
    if (w == 0) {
        pthread_once(&atfork_once, watch_forks);
        pid_t pid = getpid();
        w = (uint64_t)start_time(pid) << 32 | (uint32_t)pid;
        __atomic_store_n(&self_word, w, __ATOMIC_RELAXED);
    }
    return w;
}

static int cas(mg_shmtx_t *mtx, uint64_t old, uint64_t new)
{
    return __atomic_compare_exchange_n(&mtx->lock, &old, new, 0, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* The holder of word w is gone: its pid names no process, or a process started at another time
 * than the holder (the pid reused). A zombie still counts as the holder. */
static int holder_gone(uint64_t w)
{
    pid_t pid = (pid_t)(w & PID_MASK);
    if (kill(pid, 0) == -1) {
        return errno == ESRCH;
    }
    uint32_t started = (uint32_t)(w >> 32), now = started ? start_time(pid) : 0;
    return now != 0 && now != started;
}

/* The futex is the 32 bits of the word with the pid and WAITERS. Shared (not FUTEX_PRIVATE):
 * the word is in memory several processes map. */
static uint32_t *futex_word(mg_shmtx_t *mtx)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (uint32_t *)&mtx->lock + 1;
#else
    return (uint32_t *)&mtx->lock;
#endif
}

/* 1 when nobody woke us within RECHECK_NS. */
static int futex_wait(mg_shmtx_t *mtx, uint32_t val)
{
    struct timespec ts = {0, RECHECK_NS};
    return syscall(SYS_futex, futex_word(mtx), FUTEX_WAIT, val, &ts, NULL, 0) == -1 &&
           errno == ETIMEDOUT;
}

static void futex_wake_one(mg_shmtx_t *mtx)
{
    syscall(SYS_futex, futex_word(mtx), FUTEX_WAKE, 1, NULL, NULL, 0);
}

void mg_shmtx_init(mg_shmtx_t *mtx)
{
    __atomic_store_n(&mtx->lock, 0, __ATOMIC_RELEASE);
}

static mg_int_t lock_slow(mg_shmtx_t *mtx, uint64_t me, int try)
{
    uint64_t slept = 0; /* once asleep, take the lock with WAITERS: others may sleep too */
    int timed_out = 0;  /* only then ask whether the holder lives: no system call per wait */
    for (int spin = 0;;) {
        uint64_t w = __atomic_load_n(&mtx->lock, __ATOMIC_RELAXED);
        if ((w & PID_MASK) == 0) {
            if (cas(mtx, w, me | slept | (w & WAITERS))) {
                return MG_OK;
            }
            continue;
        }
        if (!try && spin < SPINS) {
            spin++;
            cpu_relax();
            continue;
        }
        if ((try || timed_out) && holder_gone(w)) {
            if (cas(mtx, w, me | slept | (w & WAITERS))) {
                return MG_ABORT;
            }
            continue;
        }
        if (try) {
            return MG_AGAIN;
        }
        if (!(w & WAITERS) && !cas(mtx, w, w | WAITERS)) {
            continue;
        }
        timed_out = futex_wait(mtx, (uint32_t)(w | WAITERS));
        slept = WAITERS;
    }
}

mg_int_t mg_shmtx_lock(mg_shmtx_t *mtx)
{
    uint64_t me = self();
    if (cas(mtx, 0, me)) {
        return MG_OK;
    }
    return lock_slow(mtx, me, 0);
}

mg_int_t mg_shmtx_trylock(mg_shmtx_t *mtx)
{
    uint64_t me = self();
    if (cas(mtx, 0, me)) {
        return MG_OK;
    }
    return lock_slow(mtx, me, 1);
}

void mg_shmtx_unlock(mg_shmtx_t *mtx)
{
    if (__atomic_exchange_n(&mtx->lock, 0, __ATOMIC_RELEASE) & WAITERS) {
        futex_wake_one(mtx);
    }
}
