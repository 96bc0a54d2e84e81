/*
 * A socket's one registration, edge- or level-triggered (see watch.h): an upstream-side one's
 * that follows the fd between its owners (the HTTP upstream engine's, the stream proxy's, the
 * cosockets'), and a client connection's reads when edge-triggered (core/connection.c). The
 * rule that keeps edge-triggered reports as good as level-triggered ones lives here alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "mgtime.h"
#include "watch.h"

static void watch_act(evutil_socket_t fd, short what, void *arg);

/* An edge-triggered watch that writes too (mg_watch_new_et's, malloc'ed: an upstream side's):
 * its one-shot write handler beside it. An embedded watch (a client connection's reads, a
 * cosocket's) and a level-triggered one have none: 16 bytes less in every connection. */
typedef struct {
    mg_watch_t w;               /* first: the watch's address is this one's */
    event_callback_fn whandler; /* NULL: nobody writes */
    void *warg;
} watch_rw_t;

static watch_rw_t *rw_of(mg_watch_t *w)
{
    return w->rw ? (watch_rw_t *)w : NULL;
}

/* et: a call of the handlers for readiness already known, at the loop's next turn (a
 * zero timer: as a level-triggered event would report it then, and never a loop within
 * one turn). The timer is made at its first use and is pending exactly while act_what is
 * not 0, so that a watch that never needs it (the usual one) costs no timer calls. */
static void watch_defer(mg_watch_t *w, short what)
{
    static const struct timeval now = {0, 0};
    if (w->act_what == 0) {
        if (w->act == NULL) {
            w->act = evtimer_new(event_get_base(&w->ev), watch_act, w);
        }
        evtimer_add(w->act, &now);
    }
    w->act_what |= what;
}

static void act_cancel(mg_watch_t *w)
{
    if (w->act_what) {
        evtimer_del(w->act);
        w->act_what = 0;
    }
}

static void watch_release(mg_watch_t *w)
{
    if (w->act) {
        event_free(w->act);
    }
    free(w);
}

/* et: the write handler (one-shot), then the read handler; a handler may free w (freed) */
static void watch_dispatch(mg_watch_t *w, evutil_socket_t fd, short what)
{
    unsigned reads = w->reads, writes = w->writes;
    watch_rw_t *x = rw_of(w);
    w->calling = 1;
    if ((what & EV_WRITE) && x && x->whandler) {
        event_callback_fn h = x->whandler;
        void *arg = x->warg;
        x->whandler = NULL;
        /* one owner's handler for both: one call */
        short both = (what & EV_READ) && w->handler == h && w->arg == arg ? EV_READ : 0;
        what &= (short)~both;
        w->in_write = 1;
        w->in_read = both != 0;
        h(fd, (short)(EV_WRITE | both), arg);
        if (w->freed) {
            watch_release(w);
            return;
        }
        w->in_write = w->in_read = 0;
    }
    if ((what & EV_READ) && w->handler) {
        w->in_read = 1;
        w->handler(fd, EV_READ, w->arg);
        if (w->freed) {
            watch_release(w);
            return;
        }
        w->in_read = 0;
    }
    w->calling = 0;
    /* a handler that took what was there without finding the end and still waits: a
     * level-triggered event would report the rest */
    if (w->handler && w->rready && w->reads != reads) {
        watch_defer(w, EV_READ);
    }
    if (x && x->whandler && w->wready && w->writes != writes) {
        watch_defer(w, EV_WRITE);
    }
}

static void watch_event(evutil_socket_t fd, short what, void *arg)
{
    mg_watch_t *w = arg;
    /* the loop woke for this socket: its handlers stamp times ($upstream_response_time, the
     * request's end for $request_time) on the clock, which another worker's or a timer's event
     * may have left behind for as long as this worker slept */
    mg_time_update();
    if (w->et) {
        if (what & EV_CLOSED) {
            w->rdhup = 1;
            what |= EV_READ;
        }
        if (what & EV_READ) {
            w->rready = 1;
        }
        if (what & EV_WRITE) {
            w->wready = 1;
        }
        watch_dispatch(w, fd, what);
        return;
    }
    if (what & EV_CLOSED) {
        w->rdhup = 1; /* the FIN came: it stays to be read after any bytes */
    }
    if (w->handler) {
        w->handler(fd, what, w->arg); /* may free w */
        return;
    }
    if (w->edge) {
        w->rready = 1; /* no repeat to fear: the next owner learns it (mg_lua_tcp_adopt) */
        return;
    }
    mg_watch_stop(w);
}

static void watch_act(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_watch_t *w = arg;
    mg_time_update();
    short ask = w->act_what;
    w->act_what = 0;
    /* a read or write since it was asked found the socket empty or full: the next edge
     * reports it (no call that would only hear EAGAIN) */
    if (!w->rready) {
        ask &= (short)~EV_READ;
    }
    if (!w->wready) {
        ask &= (short)~EV_WRITE;
    }
    if (ask) {
        watch_dispatch(w, event_get_fd(&w->ev), ask);
    }
}

mg_watch_t *mg_watch_new(struct event_base *base, int fd)
{
    mg_watch_t *w = mg_calloc(sizeof(*w));
    mg_watch_init(w, base, fd, 0, 0);
    return w;
}

/* whether the backend reports edges and early closes (epoll; not `use poll`, select) */
static int et_possible(struct event_base *base)
{
    int need = EV_FEATURE_ET | EV_FEATURE_EARLY_CLOSE;
    return (event_base_get_features(base) & need) == need;
}

int mg_watch_et_possible(struct event_base *base)
{
    return et_possible(base);
}

void mg_watch_init(mg_watch_t *w, struct event_base *base, int fd, int closed, int edge)
{
    /* not with `use poll` or select */
    w->closed = closed && (event_base_get_features(base) & EV_FEATURE_EARLY_CLOSE) != 0;
    w->edge = edge && et_possible(base);
    event_assign(&w->ev, base, fd,
                 EV_READ | EV_PERSIST | (w->closed ? EV_CLOSED : 0) | (w->edge ? EV_ET : 0),
                 watch_event, w);
}

/* w zeroed; writes: w is a watch_rw_t's */
static void init_et(mg_watch_t *w, struct event_base *base, int fd, int writes)
{
    event_assign(&w->ev, base, fd,
                 EV_READ | (writes ? EV_WRITE : 0) | EV_CLOSED | EV_ET | EV_PERSIST, watch_event,
                 w);
    w->et = 1;
    w->rw = writes != 0;
}

int mg_watch_init_et(mg_watch_t *w, struct event_base *base, int fd)
{
    /* untouched when it cannot be: a connection's watch shares its memory with the
     * level-triggered read event that then serves instead */
    if (!et_possible(base)) {
        return 0;
    }
    memset(w, 0, sizeof(*w));
    init_et(w, base, fd, 0);
    return 1;
}

mg_watch_t *mg_watch_new_et(struct event_base *base, int fd)
{
    if (!et_possible(base)) {
        return NULL;
    }
    watch_rw_t *x = mg_calloc(sizeof(*x));
    init_et(&x->w, base, fd, 1);
    return &x->w;
}

void mg_watch_add(mg_watch_t *w, int connected)
{
    int err = errno; /* the caller still reads connect()'s */
    event_add(&w->ev, NULL);
    w->added = 1;
    w->wready = connected != 0;
    errno = err;
}

void mg_watch_read(mg_watch_t *w, event_callback_fn handler, void *arg)
{
    w->handler = handler;
    w->arg = arg;
    if (w->et && w->rdhup) {
        w->rready = 1; /* the peer closed before: no edge will say it again */
        watch_defer(w, EV_READ);
    }
    if (!w->added) {
        event_add(&w->ev, NULL);
        w->added = 1;
    }
}

void mg_watch_read_known(mg_watch_t *w)
{
    if (w->et && w->rready && !w->in_read) {
        watch_defer(w, EV_READ);
    }
}

void mg_watch_read_off(mg_watch_t *w)
{
    w->handler = NULL; /* the event stays until a report nobody wants */
}

void mg_watch_stop(mg_watch_t *w)
{
    event_del(&w->ev);
    w->added = 0;
}

void mg_watch_write(mg_watch_t *w, event_callback_fn handler, void *arg)
{
    watch_rw_t *x = rw_of(w);
    x->whandler = handler;
    x->warg = arg;
    if (w->wready && !w->in_write) {
        watch_defer(w, EV_WRITE); /* (in a handler: once it returns, if it wrote) */
    }
}

/* (NULL: a watch that never writes) */
static void write_off(mg_watch_t *w)
{
    watch_rw_t *x = rw_of(w);
    if (x) {
        x->whandler = NULL;
    }
}

void mg_watch_write_off(mg_watch_t *w)
{
    write_off(w);
}

void mg_watch_quiet(mg_watch_t *w)
{
    w->handler = NULL;
    if (w->et) {
        write_off(w);
        act_cancel(w);
    }
}

/* (static: -fPIC would call the exported one through the PLT from here) */
static void read_ready(mg_watch_t *w, int ready)
{
    w->reads++;
    w->rready = ready != 0;
    /* input left while reading is on: a level-triggered event would report it at the next
     * turn (in the read handler: once it returns, if reading is still on) */
    if (ready && w->et && w->handler && !w->in_read) {
        watch_defer(w, EV_READ);
    }
}

void mg_watch_read_ready(mg_watch_t *w, int ready)
{
    read_ready(w, ready);
}

void mg_watch_read_said(mg_watch_t *w, ssize_t n, size_t len)
{
    int ready = w->rready; /* an error: as it was */
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        ready = 0; /* empty now: the next bytes (or the FIN) raise an edge */
    } else if (n == 0) {
        ready = 0; /* the end was read (rdhup tells a reader turned on again) */
    } else if (n > 0) {
        /* a full buffer may have left more, and bytes before a reported FIN leave the FIN */
        ready = (size_t)n == len || w->rdhup;
    }
    read_ready(w, ready);
}

void mg_watch_kick(mg_watch_t *w)
{
    event_active(&w->ev, EV_READ, 1);
}

void mg_watch_close(mg_watch_t *w)
{
    if (w->added) {
        event_del(&w->ev);
        w->added = 0;
    }
    w->handler = NULL;
    write_off(w);
    act_cancel(w);
    if (w->act) {
        event_free(w->act); /* (its own callback may be running: libevent allows it) */
        w->act = NULL;
    }
}

void mg_watch_write_said(mg_watch_t *w, ssize_t n, size_t len)
{
    w->writes++;
    if ((n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) || (n >= 0 && (size_t)n < len)) {
        w->wready = 0; /* full now: room made raises an edge */
    }
}

void mg_watch_free(mg_watch_t *w)
{
    if (w) {
        event_del(&w->ev);
        if (w->et) {
            act_cancel(w);
            if (w->calling) {
                w->freed = 1; /* watch_dispatch frees it once the handler returns */
                return;
            }
        }
        watch_release(w);
    }
}
