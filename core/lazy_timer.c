/*
 * Lazy deadline timers (see lazy_timer.h). Times are the monotonic clock's, in microseconds,
 * read at each set and each firing: not the cached mg_now (timer_resolution leaves that
 * behind), nor libevent's own time (cached at the start of a
 * loop turn, perhaps a coarse clock), which is never ahead of this one: a timer added for d
 * fires by `now + d` read here, plus the microsecond libevent's own read may come after.
 * Whenever it fires, the clock says whether the deadline has come; if not it waits the rest.
 */
#include <time.h>

#include "lazy_timer.h"

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void arm(mg_lazy_timer_t *t, uint64_t now, uint64_t us)
{
    struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
    evtimer_add(&t->ev, &tv);
    t->fires = now + us + 1;
}

static void on_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_lazy_timer_t *t = arg;
    t->fires = 0;
    if (t->deadline == 0) {
        return; /* deleted while pending */
    }
    uint64_t now = now_us();
    if (now < t->deadline) {
        arm(t, now, t->deadline - now); /* moved later since it was armed: wait for the rest */
        return;
    }
    t->deadline = 0;
    t->handler(t->arg);
}

void mg_lazy_timer_init(mg_lazy_timer_t *t, struct event_base *base, mg_lazy_timer_fn handler,
                        void *arg)
{
    evtimer_assign(&t->ev, base, on_fire, t);
    t->deadline = t->fires = 0;
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
        return; /* it fires by then: on_fire looks at the deadline */
    }
    arm(t, now, (uint64_t)msec * 1000);
}

void mg_lazy_timer_free(mg_lazy_timer_t *t)
{
    if (t->fires) {
        evtimer_del(&t->ev);
        t->fires = 0;
    }
    t->deadline = 0;
}
