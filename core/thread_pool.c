/*
 * thread_pool (main context) and the pools' run time. A pool is configuration until a serving
 * process posts its first task: then its threads start (all signals blocked in them, so they
 * go to the loop's thread), and an eventfd on that process's event base brings finished
 * tasks back. The threads take tasks from one mutex-guarded queue and put them on a done list;
 * the loop empties the list and runs each task's `done`. The generation's pool cleanup stops
 * the threads once the queue is empty and runs what finished, so no task is lost.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cycle.h"
#include "mgtime.h"
#include "pool.h"
#include "str.h"
#include "thread_pool.h"

struct mg_thread_pool_s {
    mg_str_t name;
    mg_int_t threads; /* 0: named by aio but not defined (yet) */
    mg_int_t max_queue;
    const char *where; /* "FILE:LINE" of the first directive naming it */
    /* run time, in the process that serves */
    pthread_mutex_t mtx;
    pthread_cond_t cond;
    mg_thread_task_t *queue, **queue_tail;
    mg_int_t waiting;
    mg_thread_task_t *finished, **finished_tail;
    pthread_t *tids;
    mg_int_t started;
    int efd;
    struct event *ev;
    unsigned running : 1;
    unsigned stopping : 1;
};

typedef struct {
    mg_array_t pools; /* mg_thread_pool_t * */
} thread_pool_conf_t;

mg_module_t mg_thread_pool_module;

/* ---- run time ---- */

static void *worker(void *arg)
{
    mg_thread_pool_t *tp = arg;
    pthread_mutex_lock(&tp->mtx);
    for (;;) {
        while (tp->queue == NULL && !tp->stopping) {
            pthread_cond_wait(&tp->cond, &tp->mtx);
        }
        mg_thread_task_t *t = tp->queue;
        if (t == NULL) {
            break; /* stopping, and nothing left to do */
        }
        tp->queue = t->next;
        if (tp->queue == NULL) {
            tp->queue_tail = &tp->queue;
        }
        tp->waiting--;
        pthread_mutex_unlock(&tp->mtx);
        t->handler(t);
        pthread_mutex_lock(&tp->mtx);
        t->next = NULL;
        *tp->finished_tail = t;
        tp->finished_tail = &t->next;
        uint64_t one = 1;
        /* a full counter still wakes the loop: nothing is lost by ignoring the result */
        if (write(tp->efd, &one, sizeof(one)) < 0) {
        }
    }
    pthread_mutex_unlock(&tp->mtx);
    return NULL;
}

static void run_finished(mg_thread_pool_t *tp)
{
    pthread_mutex_lock(&tp->mtx);
    mg_thread_task_t *t = tp->finished;
    tp->finished = NULL;
    tp->finished_tail = &tp->finished;
    pthread_mutex_unlock(&tp->mtx);
    while (t) {
        mg_thread_task_t *next = t->next;
        t->done(t);
        t = next;
    }
}

static void on_finished(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    /* the loop may have slept the whole task long: the finished handlers stamp times on the
     * clock ($request_time, ngx.now()), as a socket's do (core/watch.c) */
    mg_time_update();
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: another wake-up read it; the list is what counts */
    }
    run_finished(arg);
}

static mg_int_t pool_start(mg_thread_pool_t *tp, struct event_base *base, mg_log_t *log)
{
    tp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (tp->efd < 0) {
        mg_log_error(MG_LOG_ALERT, log, errno, "eventfd() failed");
        return MG_ERROR;
    }
    pthread_mutex_init(&tp->mtx, NULL);
    pthread_cond_init(&tp->cond, NULL);
    tp->queue_tail = &tp->queue;
    tp->finished_tail = &tp->finished;
    tp->ev = event_new(base, tp->efd, EV_READ | EV_PERSIST, on_finished, tp);
    event_add(tp->ev, NULL);
    tp->running = 1;
    tp->tids = mg_calloc((size_t)tp->threads * sizeof(pthread_t));
    /* the threads inherit this mask: every signal stays with the loop's thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (mg_int_t i = 0; i < tp->threads; i++) {
        int err = pthread_create(&tp->tids[i], NULL, worker, tp);
        if (err) {
            mg_log_error(MG_LOG_ALERT, log, err, "pthread_create() failed");
            break;
        }
        tp->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return tp->started ? MG_OK : MG_ERROR;
}

/* The generation goes: the threads finish what is queued and exit, what finished is run */
static void pool_stop(void *data)
{
    mg_thread_pool_t *tp = data;
    if (!tp->running) {
        return;
    }
    pthread_mutex_lock(&tp->mtx);
    tp->stopping = 1;
    pthread_cond_broadcast(&tp->cond);
    pthread_mutex_unlock(&tp->mtx);
    for (mg_int_t i = 0; i < tp->started; i++) {
        pthread_join(tp->tids[i], NULL);
    }
    run_finished(tp);
    event_free(tp->ev);
    close(tp->efd);
    free(tp->tids);
    pthread_mutex_destroy(&tp->mtx);
    pthread_cond_destroy(&tp->cond);
    tp->running = 0;
}

mg_int_t mg_thread_task_post(mg_thread_pool_t *tp, mg_thread_task_t *t, struct event_base *base,
                             mg_log_t *log)
{
    if (!tp->running && pool_start(tp, base, log) != MG_OK) {
        return MG_ERROR;
    }
    pthread_mutex_lock(&tp->mtx);
    if (tp->waiting >= tp->max_queue) {
        mg_int_t waiting = tp->waiting;
        pthread_mutex_unlock(&tp->mtx);
        mg_log_error(MG_LOG_ERR, log, 0, "thread pool \"%s\" queue overflow: %ld tasks waiting",
                     tp->name.data, (long)waiting);
        return MG_ERROR;
    }
    t->next = NULL;
    *tp->queue_tail = t;
    tp->queue_tail = &t->next;
    tp->waiting++;
    pthread_cond_signal(&tp->cond);
    pthread_mutex_unlock(&tp->mtx);
    return MG_OK;
}

/* ---- configuration ---- */

static mg_thread_pool_t *lookup(thread_pool_conf_t *tcf, mg_str_t name)
{
    mg_thread_pool_t **p = tcf->pools.elts;
    for (size_t i = 0; i < tcf->pools.nelts; i++) {
        if (mg_str_eq_str(p[i]->name, name)) {
            return p[i];
        }
    }
    return NULL;
}

static mg_thread_pool_t *add(mg_conf_t *cf, thread_pool_conf_t *tcf, mg_str_t name)
{
    mg_thread_pool_t *tp = mg_pcalloc(cf->pool, sizeof(mg_thread_pool_t));
    tp->name = mg_pstr(cf->pool, name.data, name.len);
    const char *where = mg_conf_where(cf);
    tp->where = mg_pstr(cf->pool, where, strlen(where)).data;
    tp->efd = -1;
    mg_pool_cleanup_add(cf->pool, pool_stop, tp);
    *(mg_thread_pool_t **)mg_array_push(&tcf->pools) = tp;
    return tp;
}

mg_thread_pool_t *mg_thread_pool_get(mg_conf_t *cf, mg_str_t name)
{
    thread_pool_conf_t *tcf = cf->cycle->conf[mg_thread_pool_module.index];
    if (name.len == 0) {
        name = (mg_str_t)mg_string("default");
    }
    mg_thread_pool_t *tp = lookup(tcf, name);
    return tp ? tp : add(cf, tcf, name);
}

mg_thread_pool_t *mg_thread_pool_find(mg_cycle_t *cycle, mg_str_t name)
{
    thread_pool_conf_t *tcf = cycle->conf[mg_thread_pool_module.index];
    return lookup(tcf, name);
}

/* thread_pool name threads=N [max_queue=M] */
static const char *thread_pool_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    thread_pool_conf_t *tcf = conf;
    mg_thread_pool_t *tp = lookup(tcf, cf->args[1]);
    if (tp && tp->threads) {
        mg_conf_error(cf, 0, "duplicate thread pool \"%s\"", cf->args[1].data);
        return MG_CONF_ERROR;
    }
    if (tp == NULL) {
        tp = add(cf, tcf, cf->args[1]);
    }
    tp->max_queue = 65536;
    for (size_t i = 2; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        if (a.len > 8 && strncmp(a.data, "threads=", 8) == 0) {
            tp->threads = (mg_int_t)mg_atoi(a.data + 8, a.len - 8);
            if (tp->threads <= 0) {
                tp->threads = 0;
                mg_conf_error(cf, 0, "invalid threads value \"%s\"", a.data);
                return MG_CONF_ERROR;
            }
        } else if (a.len > 10 && strncmp(a.data, "max_queue=", 10) == 0) {
            tp->max_queue = (mg_int_t)mg_atoi(a.data + 10, a.len - 10);
            if (tp->max_queue < 0) {
                mg_conf_error(cf, 0, "invalid max_queue value \"%s\"", a.data);
                return MG_CONF_ERROR;
            }
        }
        /* nginx passes over other parameters in silence */
    }
    if (tp->threads == 0) {
        mg_conf_error(cf, 0, "\"%s\" must have \"threads\" parameter", cmd->name);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static void *thread_pool_create_conf(mg_cycle_t *cycle)
{
    thread_pool_conf_t *tcf = mg_pcalloc(cycle->pool, sizeof(thread_pool_conf_t));
    mg_array_init(&tcf->pools, cycle->pool, 4, sizeof(mg_thread_pool_t *));
    return tcf;
}

/* Every pool a directive named is defined; "default" is nginx's 32 threads if it is not */
static const char *thread_pool_init_conf(mg_cycle_t *cycle, void *conf)
{
    thread_pool_conf_t *tcf = conf;
    mg_thread_pool_t **p = tcf->pools.elts;
    for (size_t i = 0; i < tcf->pools.nelts; i++) {
        if (p[i]->threads) {
            continue;
        }
        if (mg_str_eq(p[i]->name, "default")) {
            p[i]->threads = 32;
            p[i]->max_queue = 65536;
            continue;
        }
        mg_log_error(MG_LOG_EMERG, cycle->log, 0, "unknown thread pool \"%s\" in %s",
                     p[i]->name.data, p[i]->where);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

/* A worker's loop ended: its threads go before its event base does */
static void thread_pool_exit_worker(mg_cycle_t *cycle)
{
    thread_pool_conf_t *tcf = cycle->conf[mg_thread_pool_module.index];
    mg_thread_pool_t **p = tcf->pools.elts;
    for (size_t i = 0; i < tcf->pools.nelts; i++) {
        pool_stop(p[i]);
    }
}

static const mg_command_t thread_pool_commands[] = {
    {"thread_pool", MG_CTX_MAIN, MG_ARGS(2, 3), thread_pool_set, MG_CYCLE_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t thread_pool_defaults[] = {
    {"thread_pool", "default threads=32 max_queue=65536"},
    {0},
};

mg_module_t mg_thread_pool_module = {
    .name = "thread_pool",
    .commands = thread_pool_commands,
    .defaults = thread_pool_defaults,
    .create_cycle_conf = thread_pool_create_conf,
    .init_cycle_conf = thread_pool_init_conf,
    .exit_worker = thread_pool_exit_worker,
};
