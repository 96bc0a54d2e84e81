/*
 * A deadline timer that is moved without touching the event loop when it can be: as nginx's
 * lazy timers, but exact. Connections re-arm their timeout once or twice a request (a client's
 * keepalive_timeout after each response and its removal when the next head is read, an
 * upstream connection's proxy_read_timeout); each libevent event_add/event_del of a timer
 * costs a heap operation. Here the libevent timer stays where it is when the new deadline is
 * later than the time it fires (it fires early, finds its real deadline ahead and re-arms for
 * the rest: one extra wake-up per timeout period at most), and a removed timer stays pending
 * (it fires for nothing, or a later set reuses it). A deadline earlier than the pending fire
 * time re-arms at once, so no deadline is ever missed or late.
 */
#ifndef MG_LAZY_TIMER_H
#define MG_LAZY_TIMER_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdint.h>

#include "mg.h"

typedef struct mg_lazy_timer_s mg_lazy_timer_t;
typedef void (*mg_lazy_timer_fn)(void *arg);

struct mg_lazy_timer_s {
    struct event ev;
    uint64_t deadline; /* the monotonic clock's microsecond when the handler is due; 0: not set */
    uint64_t fires;    /* the microsecond by which ev fires; 0: ev not pending */
    mg_lazy_timer_fn handler;
    void *arg;
};

void mg_lazy_timer_init(mg_lazy_timer_t *t, struct event_base *base, mg_lazy_timer_fn handler,
                        void *arg);
/* Another handler and argument (a new owner's), set or not. */
static inline void mg_lazy_timer_bind(mg_lazy_timer_t *t, mg_lazy_timer_fn handler, void *arg)
{
    t->handler = handler;
    t->arg = arg;
}
/* The handler runs msec from now, once (the handler may set it again). */
void mg_lazy_timer_set(mg_lazy_timer_t *t, mg_msec_t msec);
/* The handler will not run (ev may stay pending: mg_lazy_timer_free before t's memory goes). */
static inline void mg_lazy_timer_del(mg_lazy_timer_t *t)
{
    t->deadline = 0;
}
static inline int mg_lazy_timer_is_set(const mg_lazy_timer_t *t)
{
    return t->deadline != 0;
}
/* Off the event loop for good (t may be initialized again). */
void mg_lazy_timer_free(mg_lazy_timer_t *t);

#endif
