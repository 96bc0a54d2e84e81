/*
 * Thread pools (thread_pool name threads=N [max_queue=M]): a few threads per serving process
 * that run blocking work (reading file pieces for `aio threads`) and hand each finished task
 * back to the event loop through an eventfd.
 */
#ifndef MG_THREAD_POOL_H
#define MG_THREAD_POOL_H

#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "mg.h"

typedef struct mg_thread_pool_s mg_thread_pool_t;
typedef struct mg_thread_task_s mg_thread_task_t;

/* A task: `handler` runs in one of the pool's threads and must touch nothing the loop uses;
 * `done` runs afterwards in the event loop that posted it. The task's memory is the poster's
 * until `done` runs. */
struct mg_thread_task_s {
    mg_thread_task_t *next;
    void (*handler)(mg_thread_task_t *t);
    void (*done)(mg_thread_task_t *t);
};

/* The pool named `name` ("default" when name is empty) for a directive being read; a name no
 * thread_pool defines by the end of the configuration is nginx's error there. */
mg_thread_pool_t *mg_thread_pool_get(mg_conf_t *cf, mg_str_t name);
/* The pool named `name` in a running generation, or NULL. */
mg_thread_pool_t *mg_thread_pool_find(mg_cycle_t *cycle, mg_str_t name);
/* Queue t; the pool's threads start with its first task in this process, its events on
 * `base`. MG_ERROR (logged on log) when max_queue tasks already wait. */
mg_int_t mg_thread_task_post(mg_thread_pool_t *tp, mg_thread_task_t *t, struct event_base *base,
                             mg_log_t *log);

#endif
