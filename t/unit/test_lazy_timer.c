/*
 * core/lazy_timer.c on a real event loop: the handler never runs before its deadline, a
 * deadline moved later leaves the timer where it is in the heap (it comes up early and waits
 * the rest), one moved earlier moves it, a removed one comes up for nothing or is reused by the
 * next set, free takes it out of the heap; several timers come up in their deadlines' order,
 * and a handler may free another timer or set its own again.
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

/* sets itself once more and frees `other` (unless other already ran) */
typedef struct {
    mg_lazy_timers_t *ts;
    mg_lazy_timer_t self, other;
    probe_t other_probe;
    int runs;
} chain_t;

static void on_chain(void *arg)
{
    chain_t *c = arg;
    if (++c->runs == 1) {
        mg_lazy_timer_free(&c->other);
        mg_lazy_timer_set(&c->self, 10);
    }
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
    mg_lazy_timers_t *ts = mg_lazy_timers_new(base);
    mg_lazy_timer_t t;
    probe_t p = {0, 0};

    mg_lazy_timer_init(&t, ts, on_due, &p);
    mg_msec_t start = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 30);
    ok(mg_lazy_timer_is_set(&t), "set");
    run(base, &p);
    is_int(p.calls, 1, "ran once");
    ok(p.at >= start + 30, "not before its deadline (%llu ms)", (unsigned long long)(p.at - start));
    ok(!mg_lazy_timer_is_set(&t) && t.fires == 0, "off after running");

    /* moved later while in the heap: it stays there, the handler waits for the new deadline
     * (400 ms against a 20 ms nap: a loaded machine may stall the nap, not by that much) */
    p.calls = 0;
    start = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 400);
    uint64_t fires = t.fires;
    sleep_ms(base, 20);
    is_int(p.calls, 0, "not yet");
    mg_msec_t moved = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 400);
    is_int((long long)t.fires, (long long)fires, "a later deadline leaves the timer where it is");
    run(base, &p);
    is_int(p.calls, 1, "ran once after the move");
    ok(p.at >= moved + 400, "at its moved deadline, not the first (%llu ms after the move)",
       (unsigned long long)(p.at - moved));

    /* moved earlier: re-armed */
    p.calls = 0;
    mg_lazy_timer_set(&t, 60000);
    fires = t.fires;
    start = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 20);
    ok(t.fires < fires, "an earlier deadline moves the timer");
    run(base, &p);
    is_int(p.calls, 1, "ran once");
    ok(p.at >= start + 20 && p.at - start < 60000, "at the earlier deadline");

    /* removed: stays in the heap, comes up for nothing */
    p.calls = 0;
    mg_lazy_timer_set(&t, 20);
    mg_lazy_timer_del(&t);
    ok(!mg_lazy_timer_is_set(&t) && t.fires != 0, "removed, still in the heap");
    sleep_ms(base, 60);
    is_int(p.calls, 0, "a removed timer does not run its handler");
    ok(t.fires == 0, "and is out once it came up");

    /* removed, then set again for later: the pending timer is reused */
    mg_lazy_timer_set(&t, 20);
    mg_lazy_timer_del(&t);
    fires = t.fires;
    start = mg_time_monotonic_ms();
    mg_lazy_timer_set(&t, 50);
    is_int((long long)t.fires, (long long)fires, "a set after a removal reuses its place");
    run(base, &p);
    is_int(p.calls, 1, "ran once");
    ok(p.at >= start + 50, "at the new deadline (%llu ms)", (unsigned long long)(p.at - start));

    /* free: out of the heap */
    p.calls = 0;
    mg_lazy_timer_set(&t, 10);
    mg_lazy_timer_free(&t);
    ok(t.fires == 0 && !mg_lazy_timer_is_set(&t), "free takes it out of the heap");
    sleep_ms(base, 30);
    is_int(p.calls, 0, "a freed timer does not run");

    /* several: in their deadlines' order, whatever the order they were set in */
    probe_t q[5] = {{0, 0}};
    mg_lazy_timer_t u[5];
    static const mg_msec_t after[5] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; i++) {
        mg_lazy_timer_init(&u[i], ts, on_due, &q[i]);
        mg_lazy_timer_set(&u[i], after[i]);
    }
    mg_lazy_timer_free(&u[2]); /* out of the middle of the heap */
    p.calls = 0;
    mg_lazy_timer_init(&t, ts, on_due, &p);
    mg_lazy_timer_set(&t, 80);
    run(base, &p);
    ok(q[0].calls == 1 && q[1].calls == 1 && q[2].calls == 0 && q[3].calls == 1 && q[4].calls == 1,
       "each ran once, the freed one not");
    ok(q[1].at <= q[3].at && q[3].at <= q[4].at && q[4].at <= q[0].at && q[0].at <= p.at,
       "in their deadlines' order");

    /* a handler frees a timer due at the same time and sets its own again */
    chain_t c = {.ts = ts};
    mg_lazy_timer_init(&c.self, ts, on_chain, &c);
    mg_lazy_timer_init(&c.other, ts, on_due, &c.other_probe);
    mg_lazy_timer_set(&c.self, 10);
    mg_lazy_timer_set(&c.other, 10);
    /* until it ran twice (a fixed wait could end first on a loaded machine), or nothing is
     * pending */
    while (c.runs < 2 && event_base_loop(base, EVLOOP_ONCE) == 0) {
    }
    is_int(c.runs, 2, "a handler that set its own timer again ran twice");
    ok(c.other_probe.calls <= 1, "the timer it freed ran at most once (before it)");

    mg_lazy_timers_free(ts);
    event_base_free(base);
    return done_testing();
}
