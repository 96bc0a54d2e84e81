/*
 * core/lazy_timer.c on a real event loop: the handler never runs before its deadline, a
 * deadline moved later leaves the libevent timer alone (it fires early and waits the rest), one
 * moved earlier re-arms it, a removed one fires for nothing or is reused by the next set, and
 * free takes it off the loop.
 */
#include "lazy_timer.h"
#include "mgtime.h"
#include "tap.h"

typedef struct {
    int calls;
    mg_msec_t at; /* when the handler ran */
} probe_t;

static void on_due(void *arg)
{
    probe_t *p = arg;
    p->calls++;
    p->at = mg_time_monotonic_ms();
}

/* run the loop until the probe's handler ran or nothing is pending */
static void run(struct event_base *base, probe_t *p)
{
    while (p->calls == 0 && event_base_loop(base, EVLOOP_ONCE) == 0) {
    }
}

static void sleep_ms(struct event_base *base, mg_msec_t ms)
{
    struct timeval tv = {0, (suseconds_t)ms * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

int main(void)
{
    struct event_base *base = event_base_new();
    mg_lazy_timer_t t;
    probe_t p = {0, 0};

    mg_lazy_timer_init(&t, base, on_due, &p);
    mg_msec_t start = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 30);
    ok(mg_lazy_timer_is_set(&t), "set");
    run(base, &p);
    is_int(p.calls, 1, "ran once");
    ok(p.at >= start + 30, "not before its deadline (%llu ms)", (unsigned long long)(p.at - start));
    ok(!mg_lazy_timer_is_set(&t) && !evtimer_pending(&t.ev, NULL), "off after running");

    /* moved later while pending: the libevent timer stays, the handler waits for the new
     * deadline */
    p.calls = 0;
    start = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 40);
    uint64_t fires = t.fires;
    sleep_ms(base, 20);
    is_int(p.calls, 0, "not yet");
    mg_msec_t moved = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 40);
    is_int((long long)t.fires, (long long)fires, "a later deadline leaves the timer where it is");
    run(base, &p);
    is_int(p.calls, 1, "ran once after the move");
    ok(p.at >= moved + 40, "at its moved deadline, not the first (%llu ms after the move)",
       (unsigned long long)(p.at - moved));

    /* moved earlier: re-armed */
    p.calls = 0;
    mg_lazy_timer_set(&t, 60000);
    fires = t.fires;
    start = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 20);
    ok(t.fires < fires, "an earlier deadline re-arms the timer");
    run(base, &p);
    is_int(p.calls, 1, "ran once");
    ok(p.at >= start + 20 && p.at - start < 60000, "at the earlier deadline");

    /* removed: stays pending, fires for nothing */
    p.calls = 0;
    mg_lazy_timer_set(&t, 20);
    mg_lazy_timer_del(&t);
    ok(!mg_lazy_timer_is_set(&t) && evtimer_pending(&t.ev, NULL), "removed, still pending");
    sleep_ms(base, 60);
    is_int(p.calls, 0, "a removed timer does not run its handler");
    ok(!evtimer_pending(&t.ev, NULL), "and is off once it fired");

    /* removed, then set again for later: the pending timer is reused */
    mg_lazy_timer_set(&t, 20);
    mg_lazy_timer_del(&t);
    fires = t.fires;
    start = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 50);
    is_int((long long)t.fires, (long long)fires, "a set after a removal reuses the pending timer");
    run(base, &p);
    is_int(p.calls, 1, "ran once");
    ok(p.at >= start + 50, "at the new deadline (%llu ms)", (unsigned long long)(p.at - start));

    /* free: off the loop */
    p.calls = 0;
    mg_lazy_timer_set(&t, 10);
    mg_lazy_timer_free(&t);
    ok(!evtimer_pending(&t.ev, NULL) && !mg_lazy_timer_is_set(&t), "free takes it off the loop");
    sleep_ms(base, 30);
    is_int(p.calls, 0, "a freed timer does not run");

    event_base_free(base);
    return done_testing();
}
