/*
 * Who a cosocket belongs to, and the keepalive pools. Per VM (so per worker and generation) a
 * state lists the sockets in use, each tied to the request or timer that connected it: when
 * the request's pool is destroyed their waits are cancelled and their connections closed.
 * Pools are named ("host:port", "unix:/path" or connect's pool option) and malloc'ed; idle
 * connections are closed on their timeout, on data or EOF from the peer, when the pool is
 * full (the least recently used), when the worker stops serving and with the generation.
 * With a backlog, connects beyond pool_size wait in a queue for a connection to be released
 * or kept alive.
 */
#include <string.h>
#include <unistd.h>

#include "list.h"
#include "server.h"
#include "socket_tcp.h"

struct mg_lua_tcp_state_s {
    mg_server_hook_t quit; /* first: the hook is the state */
    mg_lua_main_conf_t *lmcf;
    mg_server_t *srv;
    mg_lua_tcp_t *owned;
    mg_lua_tcp_pool_t *pools;
};

typedef struct idle_s idle_t;
struct idle_s {
    int fd;
    mg_lua_tcp_watch_t *watch; /* data or EOF: close */
    mg_uint_t reused;
    struct event timer; /* the keepalive timeout: close */
    mg_lua_tcp_pool_t *pool;
    idle_t *next, **prevp; /* most recently used first */
};

struct mg_lua_tcp_pool_s {
    mg_lua_tcp_state_t *state;
    mg_lua_tcp_pool_t *next, **prevp;
    mg_int_t size;
    mg_int_t backlog;     /* -1: connects are not queued */
    mg_int_t connections; /* sockets connected through the pool, and idle ones */
    idle_t *idle;
    mg_int_t nidle;
    mg_lua_tcp_t *queue, **queue_tail;
    mg_int_t nqueued;
    size_t keylen;
    char key[];
};

static void idle_close(idle_t *ic);
static void unqueue(mg_lua_tcp_pool_t *p, mg_lua_tcp_t *s);
static int wake_first(mg_lua_tcp_pool_t *p, int fd, mg_lua_tcp_watch_t *w, mg_uint_t reused);

static void pool_free_if_unused(mg_lua_tcp_pool_t *p)
{
    if (p->connections > 0 || p->nqueued > 0) {
        return;
    }
    mg_list_unlink(p);
    free(p);
}

static void close_idle_all(mg_lua_tcp_state_t *st)
{
    for (mg_lua_tcp_pool_t *p = st->pools, *next; p; p = next) {
        next = p->next;
        for (mg_int_t n = p->nidle; n > 0; n--) {
            idle_close(p->idle); /* the last one may free p */
        }
    }
}

/* As the upstream keepalive pool: a worker that stops serving closes idle connections at
 * once, so peers see them go while the worker still drains its clients. */
static void state_on_quit(mg_server_hook_t *hook)
{
    close_idle_all((mg_lua_tcp_state_t *)hook);
}

/* The generation ends (its pool is destroyed before the VM is closed): sockets still owned
 * forget the state, their __gc closes them when the VM goes. */
static void state_free(void *data)
{
    mg_lua_tcp_state_t *st = data;
    close_idle_all(st);
    for (mg_lua_tcp_t *s = st->owned; s; s = s->next) {
        if (s->queued) {
            mg_lua_tcp_pool_dequeue(s);
        }
        mg_lua_tcp_close(s);
        s->state = NULL;
        s->pool = NULL;
        s->prevp = NULL;
        s->queued = 0;
    }
    for (mg_lua_tcp_pool_t *p = st->pools, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    if (st->srv) {
        mg_server_hook_del(&st->quit);
    }
    st->lmcf->tcp_state = NULL;
    free(st);
}

static mg_lua_tcp_state_t *get_state(mg_lua_main_conf_t *lmcf)
{
    mg_lua_tcp_state_t *st = lmcf->tcp_state;
    if (st) {
        return st;
    }
    st = mg_calloc(sizeof(*st));
    st->lmcf = lmcf;
    st->srv = lmcf->cycle->server;
    if (st->srv) {
        st->quit.handler = state_on_quit;
        mg_server_hook_add(st->srv, &st->quit);
    }
    /* registered after the VM's own cleanup, so it runs before the VM is closed */
    mg_pool_cleanup_add(lmcf->cycle->pool, state_free, st);
    lmcf->tcp_state = st;
    return st;
}

/* ---- owners ---- */

static void owner_done(void *data)
{
    mg_lua_socket_tcp_ctx_done(data);
}

void mg_lua_tcp_own(mg_lua_tcp_t *s, mg_lua_ctx_t *ctx)
{
    if (s->ctx == ctx && s->prevp) {
        return;
    }
    mg_lua_tcp_disown(s);
    mg_lua_tcp_state_t *st = get_state(ctx->lmcf);
    int known = 0;
    for (mg_lua_tcp_t *t = st->owned; t; t = t->next) {
        if (t->ctx == ctx) {
            known = 1;
            break;
        }
    }
    /* once per request (a second one finds nothing left to do); ctx lives in the same pool
     * and was made first, so this cleanup runs before the context's own */
    if (!known && ctx->r) {
        mg_pool_cleanup_add(ctx->r->pool, owner_done, ctx);
    }
    s->ctx = ctx;
    s->state = st;
    mg_list_push(&st->owned, s);
}

void mg_lua_tcp_disown(mg_lua_tcp_t *s)
{
    mg_list_unlink(s);
    s->ctx = NULL;
    s->state = NULL;
}

int mg_lua_socket_tcp_downstream_reading(mg_lua_ctx_t *ctx)
{
    mg_lua_tcp_state_t *st = ctx->lmcf->tcp_state;
    for (mg_lua_tcp_t *s = st ? st->owned : NULL; s; s = s->next) {
        if (s->ctx == ctx && s->downstream && s->reading) {
            return 1;
        }
    }
    return 0;
}

void mg_lua_socket_tcp_ctx_done(mg_lua_ctx_t *ctx)
{
    if (ctx->r == NULL) {
        /* a timer's, a session's or a handshake's owner calls this one for both kinds; a
         * request's UDP sockets have a cleanup of their own on its pool (socket_udp.c) */
        mg_lua_socket_udp_ctx_done(ctx);
    }
    mg_lua_tcp_state_t *st = ctx->lmcf->tcp_state;
    if (st == NULL) {
        return;
    }
    for (mg_lua_tcp_t *s = st->owned, *next; s; s = next) {
        next = s->next;
        if (s->ctx != ctx) {
            continue;
        }
        /* the coroutines are about to be freed: nothing may resume them */
        mg_lua_tcp_close(s);
        s->read_co = s->write_co = NULL;
        mg_lua_tcp_unpin(s, &s->read_pin);
        mg_lua_tcp_unpin(s, &s->until_pin);
        mg_lua_tcp_unpin(s, &s->write_pin);
        mg_lua_tcp_disown(s);
    }
}

/* ---- pools ---- */

mg_lua_tcp_pool_t *mg_lua_tcp_pool_find(mg_lua_main_conf_t *lmcf, const char *key, size_t len)
{
    mg_lua_tcp_state_t *st = get_state(lmcf);
    for (mg_lua_tcp_pool_t *p = st->pools; p; p = p->next) {
        if (p->keylen == len && memcmp(p->key, key, len) == 0) {
            return p;
        }
    }
    return NULL;
}

mg_lua_tcp_pool_t *mg_lua_tcp_pool_new(mg_lua_main_conf_t *lmcf, const char *key, size_t len,
                                       mg_int_t size, mg_int_t backlog)
{
    mg_lua_tcp_state_t *st = get_state(lmcf);
    mg_lua_tcp_pool_t *p = mg_calloc(sizeof(*p) + len + 1);
    p->state = st;
    p->size = size;
    p->backlog = backlog;
    p->queue_tail = &p->queue;
    memcpy(p->key, key, len);
    p->keylen = len;
    mg_list_push(&st->pools, p);
    return p;
}

static int idle_unlink(idle_t *ic, mg_lua_tcp_watch_t **w)
{
    int fd = ic->fd;
    *w = ic->watch;
    event_del(&ic->timer);
    mg_list_unlink(ic);
    ic->pool->nidle--;
    free(ic);
    return fd;
}

static void idle_close(idle_t *ic)
{
    mg_lua_tcp_pool_t *p = ic->pool;
    mg_lua_tcp_watch_t *w;
    int fd = idle_unlink(ic, &w);
    mg_lua_tcp_watch_free(w);
    close(fd);
    p->connections--;
    pool_free_if_unused(p);
}

static void idle_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    idle_close(arg); /* the peer closed it or sent something */
}

static void idle_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    idle_close(arg);
}

int mg_lua_tcp_pool_take(mg_lua_tcp_pool_t *p, mg_uint_t *reused, mg_lua_tcp_watch_t **w)
{
    if (p->idle == NULL) {
        return -1;
    }
    *reused = p->idle->reused;
    return idle_unlink(p->idle, w); /* the watch stays registered: the socket takes it */
}

mg_int_t mg_lua_tcp_pool_admit(mg_lua_tcp_pool_t *p, mg_lua_tcp_t *s)
{
    if (p->backlog < 0 || p->connections < p->size) {
        p->connections++;
        s->pool = p;
        return MG_DECLINED;
    }
    if (p->nqueued >= p->backlog) {
        return MG_BUSY;
    }
    s->pool = p;
    s->queued = 1;
    s->woken = 0;
    s->handed_fd = -1;
    s->wnext = NULL;
    *p->queue_tail = s;
    p->queue_tail = &s->wnext;
    p->nqueued++;
    return MG_OK;
}

void mg_lua_tcp_pool_dequeue(mg_lua_tcp_t *s)
{
    mg_lua_tcp_pool_t *p = s->pool;
    s->queued = 0;
    s->pool = NULL;
    if (p == NULL) {
        return;
    }
    unqueue(p, s);
    if (s->woken) {
        /* woken with a connection or a slot, but gone before taking it */
        if (s->handed_fd >= 0) {
            mg_lua_tcp_watch_free(s->handed_watch);
            s->handed_watch = NULL;
            close(s->handed_fd);
            s->handed_fd = -1;
        }
        s->woken = 0;
        p->connections--;
        if (p->connections < p->size) {
            wake_first(p, -1, NULL, 0);
        }
    }
    pool_free_if_unused(p);
}

static void unqueue(mg_lua_tcp_pool_t *p, mg_lua_tcp_t *s)
{
    for (mg_lua_tcp_t **pp = &p->queue; *pp; pp = &(*pp)->wnext) {
        if (*pp == s) {
            *pp = s->wnext;
            if (p->queue_tail == &s->wnext) {
                p->queue_tail = pp;
            }
            p->nqueued--;
            return;
        }
    }
}

int mg_lua_tcp_pool_claim(mg_lua_tcp_t *s)
{
    unqueue(s->pool, s);
    s->queued = 0;
    s->woken = 0;
    int fd = s->handed_fd;
    s->handed_fd = -1;
    return fd;
}

/* The first queued connect goes on: with fd (a kept-alive connection) and its watch, or -1
 * and a slot counted for it. Its coroutine resumes from the loop, not from inside the
 * caller's Lua call. */
static int wake_first(mg_lua_tcp_pool_t *p, int fd, mg_lua_tcp_watch_t *wa, mg_uint_t reused)
{
    mg_lua_tcp_t *w = p->queue;
    while (w && w->woken) {
        w = w->wnext;
    }
    if (w == NULL) {
        return 0;
    }
    w->woken = 1;
    w->handed_fd = fd;
    w->handed_watch = wa;
    if (wa) {
        mg_watch_read_off(&wa->w); /* nobody's until claimed: a report only turns it off */
    }
    w->handed_reused = reused;
    if (fd < 0) {
        p->connections++;
    }
    event_del(mg_lua_tcp_wev(w));
    event_active(mg_lua_tcp_wev(w), EV_TIMEOUT, 1);
    return 1;
}

void mg_lua_tcp_pool_put(mg_lua_tcp_t *s, mg_lua_tcp_pool_t *p, mg_msec_t timeout)
{
    int fd = s->fd;
    mg_lua_tcp_watch_t *w = s->watch; /* moves with the fd, still registered */
    if (s->pool == NULL) {
        p->connections++; /* connected without a pool: it counts from now on */
    }
    s->fd = -1;
    s->watch = NULL;
    s->pool = NULL;
    if (p->state->srv == NULL || p->state->srv->quitting) {
        mg_lua_tcp_watch_free(w);
        close(fd);
        p->connections--;
        pool_free_if_unused(p);
        return;
    }
    if (wake_first(p, fd, w, s->reused)) {
        return;
    }
    if (p->nidle >= p->size) {
        idle_t *last = p->idle;
        while (last->next) {
            last = last->next;
        }
        idle_close(last);
    }
    idle_t *ic = mg_calloc(sizeof(*ic));
    ic->fd = fd;
    ic->watch = w ? w : mg_lua_tcp_watch_new(p->state->srv->base, fd, 1);
    ic->reused = s->reused;
    ic->pool = p;
    mg_list_push(&p->idle, ic);
    p->nidle++;
    mg_watch_read(&ic->watch->w, idle_readable, ic);
    evtimer_assign(&ic->timer, p->state->srv->base, idle_timeout, ic);
    if (timeout > 0) {
        struct timeval tv = {(time_t)(timeout / 1000), (suseconds_t)(timeout % 1000) * 1000};
        event_add(&ic->timer, &tv);
    }
}

void mg_lua_tcp_pool_release(mg_lua_tcp_t *s)
{
    mg_lua_tcp_pool_t *p = s->pool;
    s->pool = NULL;
    if (p == NULL) {
        return;
    }
    p->connections--;
    if (p->connections < p->size) {
        wake_first(p, -1, NULL, 0);
    }
    pool_free_if_unused(p);
}
