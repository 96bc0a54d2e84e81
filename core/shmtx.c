/*
 * The lock between processes of shm.h: one 32-bit word in shared memory holding the pid of
 * the process that has it (nginx's ngx_shmtx idea), taken and given back by one atomic
 * instruction each when nobody waits: 16 instructions a lock/unlock pair where glibc's robust
 * mutex took 138 (its robust-list bookkeeping); limit_conn takes a zone lock twice a request.
 *
 * A holder that died is found by its waiters, not by the kernel: a waiter spins briefly, then
 * sleeps on a futex; when a sleep times out (a dead holder wakes nobody) it asks whether the
 * pid in the word still exists (kill(pid, 0)) and, if not, takes the lock over (MG_ABORT). A
 * live holder's waiters make no system call but the futex's. A dead worker stays a zombie,
 * still "existing", until the master reaps it: the master does at once (SIGCHLD), and the pid
 * is only free for reuse after that. So the lock of a dead holder is recovered unless its pid
 * is given to a new process before any waiter asked (a pid wrap-around between the death and
 * the next use of that lock).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"

/* The word: 0 when free, else the holder's pid, with WAITERS when someone may sleep on it
 * (the holder's unlock must wake one). Linux pids are below 2^22. */
#define WAITERS 0x80000000u
#define PID_MASK 0x3fffffffu
/* Spins before a waiter sleeps: critical sections are a hash lookup or a few stores. */
#define SPINS 100
/* How long a sleeper waits before it checks again that the holder lives. */
#define RECHECK_NS (10 * 1000 * 1000)

/* This process's pid, read once: getpid() is a system call. A fork's child forgets it. */
static pid_t self_pid;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_pid(void)
{
    __atomic_store_n(&self_pid, 0, __ATOMIC_RELAXED);
}

static void watch_forks(void)
{
    pthread_atfork(NULL, NULL, forget_pid);
}

static uint32_t self(void)
{
    pid_t pid = __atomic_load_n(&self_pid, __ATOMIC_RELAXED);
    if (pid == 0) {
        pthread_once(&atfork_once, watch_forks);
        pid = getpid();
        __atomic_store_n(&self_pid, pid, __ATOMIC_RELAXED);
    }
    return (uint32_t)pid;
}

static int cas(mg_shmtx_t *mtx, uint32_t old, uint32_t new)
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

/* The holder of word w is gone (its pid names no process). */
static int holder_dead(uint32_t w)
{
    return kill((pid_t)(w & PID_MASK), 0) == -1 && errno == ESRCH;
}

/* Shared (not FUTEX_PRIVATE): the word is in memory several processes map. 1 when nobody
 * woke us within RECHECK_NS. */
static int futex_wait(mg_shmtx_t *mtx, uint32_t val)
{
    struct timespec ts = {0, RECHECK_NS};
    return syscall(SYS_futex, &mtx->lock, FUTEX_WAIT, val, &ts, NULL, 0) == -1 &&
           errno == ETIMEDOUT;
}

static void futex_wake_one(mg_shmtx_t *mtx)
{
    syscall(SYS_futex, &mtx->lock, FUTEX_WAKE, 1, NULL, NULL, 0);
}

void mg_shmtx_init(mg_shmtx_t *mtx)
{
    __atomic_store_n(&mtx->lock, 0, __ATOMIC_RELEASE);
}

static mg_int_t lock_slow(mg_shmtx_t *mtx, uint32_t me, int try)
{
    uint32_t slept = 0; /* once asleep, take the lock with WAITERS: others may sleep too */
    int timed_out = 0;  /* only then ask whether the holder lives: no system call per wait */
    for (int spin = 0;;) {
        uint32_t w = __atomic_load_n(&mtx->lock, __ATOMIC_RELAXED);
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
        if ((try || timed_out) && holder_dead(w)) {
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
        timed_out = futex_wait(mtx, w | WAITERS);
        slept = WAITERS;
    }
}

mg_int_t mg_shmtx_lock(mg_shmtx_t *mtx)
{
    uint32_t me = self();
    if (cas(mtx, 0, me)) {
        return MG_OK;
    }
    return lock_slow(mtx, me, 0);
}

mg_int_t mg_shmtx_trylock(mg_shmtx_t *mtx)
{
    uint32_t me = self();
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
