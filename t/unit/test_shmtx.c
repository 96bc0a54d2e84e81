/*
 * Unit tests for core/shmtx.c, the lock of the shared zones: processes and threads exclude each
 * other (their increments all count, with waiters that sleep), trylock says who has it, and a
 * holder killed with SIGKILL gives the lock back to the next locker (MG_ABORT): after it was
 * reaped, while a waiter already slept on it, to a trylock, and when the killed holder was a
 * fork of a process that had used the lock before (its pid, not its parent's, in the lock);
 * and a word naming a live process that started at another time than the holder (the dead
 * holder's pid reused) is taken over too. alarm() bounds a lock that would never come back.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mg.h"

#include "../../core/shmtx.c"

#include "tap.h"

typedef struct {
    mg_shmtx_t mtx;
    volatile uint64_t n;
} shared_t;

enum { INCRS = 50000 };

static void add(shared_t *s, int times)
{
    for (int i = 0; i < times; i++) {
        mg_shmtx_lock(&s->mtx);
        uint64_t n = s->n; /* a read and a write apart: lost updates if two get in */
        sched_yield();
        s->n = n + 1;
        mg_shmtx_unlock(&s->mtx);
    }
}

static void *thread_add(void *arg)
{
    add(arg, INCRS / 10);
    return NULL;
}

/* A child that takes the lock, says so on the pipe and waits to be killed. */
static pid_t holder(shared_t *s)
{
    int p[2];
    if (pipe(p) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        mg_shmtx_lock(&s->mtx);
        if (write(p[1], "h", 1) != 1) {
            _exit(1);
        }
        for (;;) {
            pause();
        }
    }
    char c;
    if (read(p[0], &c, 1) != 1) {
        pid = -1;
    }
    close(p[0]);
    close(p[1]);
    return pid;
}

static void test_exclusion(shared_t *s)
{
    enum { CHILDREN = 4 };
    for (int c = 0; c < CHILDREN; c++) {
        if (fork() == 0) {
            add(s, INCRS / 10);
            _exit(0);
        }
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&th[i], NULL, thread_add, s);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    int status, clean = 1;
    for (int c = 0; c < CHILDREN; c++) {
        wait(&status);
        clean &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    ok(clean, "4 processes ran");
    is_int((long long)s->n, (CHILDREN + 2) * (INCRS / 10),
           "4 processes and 2 threads: every increment counted");
    is_int((long long)s->mtx.lock, 0, "the lock is free at the end (no waiter left marked)");
}

static void test_dead_holders(shared_t *s)
{
    is_int(mg_shmtx_trylock(&s->mtx), MG_OK, "trylock of a free lock");
    mg_shmtx_unlock(&s->mtx);

    pid_t h = holder(s);
    ok(h > 0, "a child holds the lock");
    is_int(mg_shmtx_trylock(&s->mtx), MG_AGAIN, "trylock while a live process holds it");
    kill(h, SIGKILL);
    waitpid(h, NULL, 0);
    is_int(mg_shmtx_lock(&s->mtx), MG_ABORT, "its holder killed and reaped: lock takes it over");
    mg_shmtx_unlock(&s->mtx);
    is_int(mg_shmtx_lock(&s->mtx), MG_OK, "then it is an ordinary lock again");
    mg_shmtx_unlock(&s->mtx);

    h = holder(s);
    kill(h, SIGKILL);
    waitpid(h, NULL, 0);
    is_int(mg_shmtx_trylock(&s->mtx), MG_ABORT, "trylock takes over from a killed holder");
    mg_shmtx_unlock(&s->mtx);

    /* the waiter sleeps before or after the kill; either way nobody unlocks, and it must
     * find out by itself. SIG_IGN: the kernel reaps the children (no zombie to look alive) */
    signal(SIGCHLD, SIG_IGN);
    h = holder(s);
    pid_t killer = fork();
    if (killer == 0) {
        usleep(100 * 1000);
        kill(h, SIGKILL);
        _exit(0);
    }
    is_int(mg_shmtx_lock(&s->mtx), MG_ABORT,
           "a waiter asleep when the holder is killed takes over");
    mg_shmtx_unlock(&s->mtx);
    signal(SIGCHLD, SIG_DFL);
}

/* A dead holder's pid given to another process: the word names a live process, but with a
 * start time that is not that process's. */
static void test_reused_pid(shared_t *s)
{
    pid_t h = holder(s);
    uint64_t held = __atomic_load_n(&s->mtx.lock, __ATOMIC_RELAXED);
    ok((uint32_t)(held >> 32) == start_time(h) && start_time(h) != 0,
       "the word holds the holder's start time beside its pid");
    is_int(mg_shmtx_trylock(&s->mtx), MG_AGAIN, "the live holder keeps the lock");
    __atomic_store_n(&s->mtx.lock, held ^ ((uint64_t)1 << 40), __ATOMIC_RELAXED);
    is_int(mg_shmtx_trylock(&s->mtx), MG_ABORT, "its pid with another start time: taken over");
    mg_shmtx_unlock(&s->mtx);
    __atomic_store_n(&s->mtx.lock, held ^ ((uint64_t)1 << 40), __ATOMIC_RELAXED);
    is_int(mg_shmtx_lock(&s->mtx), MG_ABORT, "and by a waiter after its sleep timed out");
    mg_shmtx_unlock(&s->mtx);
    kill(h, SIGKILL);
    waitpid(h, NULL, 0);
}

int main(void)
{
    /* a bound for a lock that never comes back, not a speed check: on a loaded machine (a
     * parallel prove, load 35 on 2 cores) the 30000 contended hand-offs of test_exclusion,
     * each waking a sleeper, took more than 60 s */
    alarm(600);
    shared_t *s =
        mmap(NULL, sizeof(shared_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    mg_shmtx_init(&s->mtx);
    /* used here first, so that a child that kept this process's pid would lock as its parent */
    is_int(mg_shmtx_lock(&s->mtx), MG_OK, "lock of a free lock");
    mg_shmtx_unlock(&s->mtx);
    test_exclusion(s);
    test_dead_holders(s);
    test_reused_pid(s);
    return done_testing();
}
