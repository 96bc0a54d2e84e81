/*
 * Lazy deadline timers (see lazy_timer.h). Times are the monotonic clock's, in microseconds,
 * read at each set and each firing: not the loop turn's cached mg_now (timer_resolution leaves
 * that behind), nor libevent's own time (cached at the start of a
 * loop turn, perhaps a coarse clock), which is never ahead of this one: the libevent timer
 * added for d fires by `now + d` read here, plus the microsecond libevent's own read may come
 * after. Whenever it fires, the clock says which timers have come up; a timer whose deadline
 * has not come goes back into the heap for the rest.
 */
#include <time.h>

#include "lazy_timer.h"
#include "pool.h"

#include <event2/event_struct.h>

struct mg_lazy_timers_s {
    struct event ev;
    uint64_t armed; /* the microsecond by which ev fires; 0: ev not pending */
    mg_lazy_timer_t **heap;
    size_t n, cap;
    unsigned closed : 1;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- the heap, by fires ---- */

static void heap_put(mg_lazy_timers_t *ts, size_t i, mg_lazy_timer_t *t)
{
    ts->heap[i] = t;
    t->idx = i;
}

static void sift_up(mg_lazy_timers_t *ts, size_t i, mg_lazy_timer_t *t)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (ts->heap[parent]->fires <= t->fires) {
            break;
        }
        heap_put(ts, i, ts->heap[parent]);
        i = parent;
    }
    heap_put(ts, i, t);
}

static void sift_down(mg_lazy_timers_t *ts, size_t i, mg_lazy_timer_t *t)
{
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= ts->n) {
            break;
        }
        if (child + 1 < ts->n && ts->heap[child + 1]->fires < ts->heap[child]->fires) {
            child++;
        }
        if (t->fires <= ts->heap[child]->fires) {
            break;
        }
        heap_put(ts, i, ts->heap[child]);
        i = child;
    }
    heap_put(ts, i, t);
}

static void heap_remove(mg_lazy_timers_t *ts, mg_lazy_timer_t *t)
{
    size_t i = t->idx;
    mg_lazy_timer_t *last = ts->heap[--ts->n];
    t->fires = 0;
    if (last != t) {
        if (i > 0 && last->fires < ts->heap[(i - 1) / 2]->fires) {
            sift_up(ts, i, last);
        } else {
            sift_down(ts, i, last);
        }
    }
}

/* ev fires by the first's time: armed again only when that is earlier than it fires now */
static void arm(mg_lazy_timers_t *ts, uint64_t now)
{
    if (ts->n == 0 || ts->closed) {
        return; /* a pending ev fires for nothing */
    }
    uint64_t first = ts->heap[0]->fires;
    if (ts->armed && ts->armed <= first) {
        return;
    }
    uint64_t us = first > now ? first - now : 0;
    struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
    evtimer_add(&ts->ev, &tv);
    ts->armed = now + us + 1;
}

/* t into the heap to come up at `fires` (or earlier than it is there now) */
static void place(mg_lazy_timer_t *t, uint64_t fires, uint64_t now)
{
    mg_lazy_timers_t *ts = t->timers;
    if (t->fires == 0) {
        if (ts->n == ts->cap) {
            ts->cap = ts->cap ? 2 * ts->cap : 64;
            ts->heap = mg_realloc(ts->heap, ts->cap * sizeof(*ts->heap));
        }
        t->fires = fires;
        sift_up(ts, ts->n++, t);
    } else {
        t->fires = fires;
        sift_up(ts, t->idx, t);
    }
    if (t->idx == 0) {
        arm(ts, now);
    }
}

static void on_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_lazy_timers_t *ts = arg;
    ts->armed = 0;
    uint64_t now = now_us();
    /* a handler may set, delete or free any timer, its own too: the first is looked at anew */
    while (ts->n && ts->heap[0]->fires <= now) {
        mg_lazy_timer_t *t = ts->heap[0];
        heap_remove(ts, t);
        if (t->deadline == 0) {
            continue; /* deleted while in the heap */
        }
        if (now < t->deadline) {
            place(t, t->deadline, now); /* moved later since: comes up for the rest */
            continue;
        }
        t->deadline = 0;
        t->handler(t->arg);
    }
    arm(ts, now);
}

mg_lazy_timers_t *mg_lazy_timers_new(struct event_base *base)
{
    mg_lazy_timers_t *ts = mg_calloc(sizeof(*ts));
    evtimer_assign(&ts->ev, base, on_fire, ts);
    return ts;
}

void mg_lazy_timers_close(mg_lazy_timers_t *ts)
{
    if (ts && !ts->closed) {
        if (ts->armed) {
            evtimer_del(&ts->ev);
            ts->armed = 0;
        }
        ts->closed = 1;
    }
}

void mg_lazy_timers_free(mg_lazy_timers_t *ts)
{
    if (ts) {
        mg_lazy_timers_close(ts);
        free(ts->heap);
        free(ts);
    }
}

void mg_lazy_timer_init(mg_lazy_timer_t *t, mg_lazy_timers_t *ts, mg_lazy_timer_fn handler,
                        void *arg)
{
    t->timers = ts;
    t->deadline = t->fires = 0;
    t->idx = 0;
    t->handler = handler;
    t->arg = arg;
}

void mg_lazy_timer_set(mg_lazy_timer_t *t, mg_msec_t msec)
{
    uint64_t now = now_us();
    t->deadline = now + (uint64_t)msec * 1000;
    if (t->deadline == 0) {
        t->deadline = 1; /* 0 means unset (a clock at 0 is a machine booting) */
    }
    if (t->fires && t->fires <= t->deadline) {
        return; /* it comes up by then: on_fire looks at the deadline */
    }
    place(t, t->deadline, now);
}

void mg_lazy_timer_free(mg_lazy_timer_t *t)
{
    if (t->fires) {
        heap_remove(t->timers, t);
    }
    t->deadline = 0;
}
