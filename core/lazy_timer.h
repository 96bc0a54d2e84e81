/*
 * A deadline timer that is moved without touching the event loop when it can be: as nginx's
 * lazy timers, but exact. Connections re-arm their timeout once or twice a request (a client's
 * keepalive_timeout after each response and its removal when the next head is read, an
 * upstream connection's proxy_read_timeout); each move in a heap costs. Here a timer stays
 * where it is in its loop's heap when the new deadline is later than the time it comes up
 * there (it comes up early, finds its real deadline ahead and goes back for the rest: once per
 * timeout period at most), and a removed timer stays in the heap (it comes up for nothing, or
 * a later set reuses it). A deadline earlier than its place moves it at once, so no deadline
 * is ever missed or late. The heap is the loop's (mg_lazy_timers_t), one libevent timer
 * armed for its first, which is lazy the same way.
 */
#ifndef MG_LAZY_TIMER_H
#define MG_LAZY_TIMER_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "mg.h"

typedef struct mg_lazy_timer_s mg_lazy_timer_t;
typedef void (*mg_lazy_timer_fn)(void *arg);
/* A loop's timers (one per server): their own heap, under one libevent timer for the earliest,
 * so a timer is 48 bytes, not a struct event's 128 and more (every connection has one; an idle
 * keepalive connection is mostly its connection struct). */
typedef struct mg_lazy_timers_s mg_lazy_timers_t;

struct mg_lazy_timer_s {
    mg_lazy_timers_t *timers;
    uint64_t deadline; /* the monotonic clock's microsecond when the handler is due; 0: not set */
    uint64_t fires;    /* its place in the heap: when it comes up there; 0: not in the heap */
    mg_lazy_timer_fn handler;
    void *arg;
    size_t idx; /* its index in the heap while fires is not 0 */
};

/* The timers of a loop on base, and their end: close takes the libevent timer off (before base
 * is freed; a timer set afterwards never fires), free the memory, once every timer made with
 * them was freed (mg_lazy_timer_free) or is never looked at again. */
mg_lazy_timers_t *mg_lazy_timers_new(struct event_base *base);
void mg_lazy_timers_close(mg_lazy_timers_t *ts);
void mg_lazy_timers_free(mg_lazy_timers_t *ts);

void mg_lazy_timer_init(mg_lazy_timer_t *t, mg_lazy_timers_t *ts, mg_lazy_timer_fn handler,
                        void *arg);
/* Another handler and argument (a new owner's), set or not. */
static inline void mg_lazy_timer_bind(mg_lazy_timer_t *t, mg_lazy_timer_fn handler, void *arg)
{
    t->handler = handler;
    t->arg = arg;
}
/* The handler runs msec from now, once (the handler may set it again). */
void mg_lazy_timer_set(mg_lazy_timer_t *t, mg_msec_t msec);
/* The handler will not run (t may stay in the heap: mg_lazy_timer_free before its memory goes). */
static inline void mg_lazy_timer_del(mg_lazy_timer_t *t)
{
    t->deadline = 0;
}
static inline int mg_lazy_timer_is_set(const mg_lazy_timer_t *t)
{
    return t->deadline != 0;
}
/* Out of the heap for good (t may be initialized again). */
void mg_lazy_timer_free(mg_lazy_timer_t *t);

#endif
