/*
 * core/watch.c on a real event loop (epoll) and a socketpair: an edge-triggered watch remembers
 * readiness and makes up for the reports a level-triggered event would repeat (a deferred call
 * at the next turn), its write handler is one-shot, one owner's handler for both gets one call,
 * a handler may free the watch; the embedded read-only kind a client connection holds (a read
 * outside the handler that may have left input gets a call, a later read that empties the
 * socket cancels it, the end read empties it); a level-triggered one takes its event off when
 * a report comes that nobody wants. Order: two level-triggered sockets reported once are
 * reported again in that old order whatever order their next bytes come in (epoll queues a
 * level-triggered socket again as it reports it); mg_watch_init's edge ones in the order the
 * bytes came (the cosockets' answers, t/bench/tail.sh lua-cosocket), and one reported while
 * nobody reads keeps its event and says so (rready).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "watch.h"

/* the order of reports: each read handler appends its tag and empties its socket */
static char order[8];
static size_t norder;

typedef struct {
    int fd;
    char tag;
} tagged_t;

static void on_tagged(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    tagged_t *t = arg;
    char buf[16];
    while (recv((int)fd, buf, sizeof(buf), 0) > 0) {
    }
    if (norder < sizeof(order) - 1) {
        order[norder++] = t->tag;
    }
}

/* two sockets of one kind (edge or not): bytes to x then y, a turn, then to y then x, a turn;
 * the tags of the second turn's reports */
static const char *second_order(struct event_base *base, int edge)
{
    int a[2], b[2];
    mg_watch_t wx, wy;
    tagged_t tx = {.tag = 'x'}, ty = {.tag = 'y'};
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b) != 0) {
        perror("socketpair");
        _exit(1);
    }
    memset(&wx, 0, sizeof(wx));
    memset(&wy, 0, sizeof(wy));
    mg_watch_init(&wx, base, a[0], 1, edge);
    mg_watch_init(&wy, base, b[0], 1, edge);
    mg_watch_read(&wx, on_tagged, &tx);
    mg_watch_read(&wy, on_tagged, &ty);
    (void)!write(a[1], "1", 1);
    (void)!write(b[1], "1", 1);
    event_base_loop(base, EVLOOP_ONCE);
    norder = 0;
    (void)!write(b[1], "2", 1);
    (void)!write(a[1], "2", 1);
    event_base_loop(base, EVLOOP_ONCE);
    order[norder] = '\0';
    mg_watch_stop(&wx);
    mg_watch_stop(&wy);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    return order;
}

typedef struct {
    mg_watch_t *w;
    int fd;
    int calls;
    short what;
    size_t take; /* recv this much a call (0: none) */
    int free_it; /* mg_watch_free in the handler */
} probe_t;

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    probe_t *p = arg;
    p->calls++;
    p->what = what;
    if (p->take) {
        char buf[64];
        ssize_t n = recv((int)fd, buf, p->take, 0);
        mg_watch_read_said(p->w, n, p->take);
    }
    if (p->free_it) {
        mg_watch_free(p->w);
        p->w = NULL;
    }
}

/* one turn of the loop that waits for something; three turns that do not wait */
static void turn(struct event_base *base)
{
    event_base_loop(base, EVLOOP_ONCE);
}

static void turns_nonblock(struct event_base *base)
{
    for (int i = 0; i < 3; i++) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    }
}

static void pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) {
        perror("socketpair");
        _exit(1);
    }
}

int main(void)
{
    struct event_config *cfg = event_config_new();
    event_config_require_features(cfg, EV_FEATURE_ET | EV_FEATURE_EARLY_CLOSE);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (base == NULL) {
        printf("1..0 # SKIP no edge-triggered event method\n");
        return 0;
    }
    int sv[2];

    /* edge-triggered: readiness remembered, no repeated report, a deferred call for it */
    pair(sv);
    probe_t p = {.fd = sv[0]};
    p.w = mg_watch_new_et(base, sv[0]);
    ok(p.w != NULL, "an edge-triggered watch on epoll");
    mg_watch_add(p.w, 1);
    is_int(p.w->wready, 1, "connected at once: known writable");
    mg_watch_read(p.w, on_event, &p);
    (void)!write(sv[1], "12345678", 8);
    turn(base);
    is_int(p.calls, 1, "the bytes' report");
    is_int(p.w->rready, 1, "remembered: nothing read");
    turns_nonblock(base);
    is_int(p.calls, 1, "edge-triggered: no second report for the same bytes");
    mg_watch_read_known(p.w);
    turns_nonblock(base);
    is_int(p.calls, 2, "reading on while known ready: a call at the next turn");

    /* a handler that fills its buffer and still reads: called again until the socket is empty */
    p.take = 4;
    mg_watch_read_known(p.w);
    turns_nonblock(base);
    is_int(p.calls, 5, "4 + 4 bytes, then EAGAIN: three calls");
    is_int(p.w->rready, 0, "EAGAIN: not ready any more");
    turns_nonblock(base);
    is_int(p.calls, 5, "and no more");

    /* the write handler is one-shot; the same handler for both gets one call */
    p.calls = 0;
    p.take = 0;
    mg_watch_write(p.w, on_event, &p);
    turns_nonblock(base);
    is_int(p.calls, 1, "known writable: the write handler at the next turn");
    ok(p.what & EV_WRITE, "with EV_WRITE");
    turns_nonblock(base);
    is_int(p.calls, 1, "one-shot");
    p.w->wready = 0;
    mg_watch_write(p.w, on_event, &p);
    (void)!write(sv[1], "x", 1);
    turn(base);
    is_int(p.calls, 2, "read and write reported at once: one call");
    ok((p.what & (EV_READ | EV_WRITE)) == (EV_READ | EV_WRITE), "with both");

    /* the peer's close, seen while nobody read, is said again to the next reader */
    p.take = 0;
    mg_watch_read_off(p.w);
    shutdown(sv[1], SHUT_WR);
    turns_nonblock(base);
    is_int(p.calls, 2, "nobody reads: no call");
    is_int(p.w->rdhup, 1, "the peer's close remembered");
    mg_watch_read(p.w, on_event, &p);
    turns_nonblock(base);
    is_int(p.calls, 3, "the next reader hears of it");

    /* a handler that frees the watch (the fd's close follows) */
    p.free_it = 1;
    mg_watch_read_known(p.w);
    turns_nonblock(base);
    is_int(p.calls, 4, "the handler ran and freed the watch");
    ok(p.w == NULL, "freed");
    turns_nonblock(base);
    is_int(p.calls, 4, "nothing after");
    close(sv[0]);
    close(sv[1]);

    /* embedded and read-only, as a client connection's (core/connection.c) */
    pair(sv);
    mg_watch_t e;
    probe_t r = {.fd = sv[0], .w = &e};
    ok(mg_watch_init_et(&e, base, sv[0]), "an embedded edge-triggered watch");
    mg_watch_read(&e, on_event, &r);
    (void)!write(sv[1], "12345678", 8);
    turn(base);
    is_int(r.calls, 1, "the bytes' report");
    char buf[64];
    ssize_t n = recv(sv[0], buf, 4, 0);
    mg_watch_read_said(&e, n, 4);
    turns_nonblock(base);
    is_int(r.calls, 2, "a full read outside the handler: a call at the next turn");
    mg_watch_read_known(&e);
    n = recv(sv[0], buf, sizeof(buf), 0);
    mg_watch_read_said(&e, n, sizeof(buf));
    is_int(e.rready, 0, "a short read: empty");
    turns_nonblock(base);
    is_int(r.calls, 2, "the call asked before it is dropped");
    r.take = 4;
    shutdown(sv[1], SHUT_WR);
    turn(base);
    is_int(r.calls, 3, "the peer's close reported");
    is_int(e.rready, 0, "the end read: empty");
    turns_nonblock(base);
    is_int(r.calls, 3, "no call after the end was read");
    mg_watch_read_off(&e);
    mg_watch_read(&e, on_event, &r);
    turns_nonblock(base);
    is_int(r.calls, 4, "a reader turned on again hears of the close");
    mg_watch_close(&e);
    turns_nonblock(base);
    is_int(r.calls, 4, "closed: nothing after");
    close(sv[0]);
    close(sv[1]);

    /* level-triggered: a report nobody wants takes the event off; reading on adds it back */
    pair(sv);
    probe_t q = {.fd = sv[0]};
    q.w = mg_watch_new(base, sv[0]);
    mg_watch_read(q.w, on_event, &q);
    is_int(q.w->added, 1, "added by the first reader");
    (void)!write(sv[1], "ab", 2);
    turn(base);
    is_int(q.calls, 1, "level-triggered report");
    turns_nonblock(base);
    is_int(q.calls, 4, "repeated while the bytes stay");
    mg_watch_read_off(q.w);
    turns_nonblock(base);
    is_int(q.calls, 4, "nobody reads: no call");
    is_int(q.w->added, 0, "and the event is off");
    q.take = 2;
    mg_watch_read(q.w, on_event, &q);
    turn(base);
    is_int(q.calls, 5, "the next reader: added back, reported");
    mg_watch_free(q.w);
    close(sv[0]);
    close(sv[1]);

    /* the order of reports: level-triggered keeps the old one, edge-triggered the bytes' */
    is_str(second_order(base, 0), "xy", "level-triggered: reported again in the old order");
    is_str(second_order(base, 1), "yx", "edge: in the order the bytes came");

    /* edge, nobody reads: the event stays, the report is remembered */
    pair(sv);
    mg_watch_t e2;
    memset(&e2, 0, sizeof(e2));
    mg_watch_init(&e2, base, sv[0], 1, 1);
    is_int(e2.edge, 1, "edge-triggered where epoll is");
    probe_t r2 = {.fd = sv[0]};
    mg_watch_read(&e2, on_event, &r2);
    mg_watch_read_off(&e2);
    (void)!write(sv[1], "ab", 2);
    turn(base);
    is_int(r2.calls, 0, "nobody reads: no call");
    is_int(e2.added, 1, "the event stays");
    is_int(e2.rready, 1, "the report is remembered");
    mg_watch_stop(&e2);
    close(sv[0]);
    close(sv[1]);

    event_base_free(base);
    return done_testing();
}
