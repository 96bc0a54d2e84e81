/*
 * The keepalive pool: idle upstream connections, malloc'ed (keyless records taken out are kept
 * for the next puts: no malloc once as many were idle at once), per worker and group, reused by
 * address (TLS ones apart, by client context, with their TLS state; a balancer's keyed ones apart,
 * by key: balancer_by_lua's enable_keepalive pools); closed on data or EOF while idle,
 * keepalive_timeout, keepalive_time, a full pool (the least recently used goes, at the end of the
 * loop's turn: see ka_trim), when the worker stops serving, and with their generation. A
 * connection's object (mg_upstream_conn_t: its read watch, still registered, and its lazy timer,
 * moved on from the last try's timeout to keepalive_timeout and back to the next try's without the
 * event loop) stays whole in the pool and goes to the next request.
 */
#include "list.h"
#include "server.h"
#include "upstream_int.h"

typedef struct idle_s idle_t;
typedef struct {
    mg_server_hook_t hook;  /* first: the hook is the pool */
    mg_server_hook_t term;  /* the fast shutdown's: trim_ev goes before the event base */
    idle_t *head;           /* most recently used first */
    idle_t *spares; /* keyless records taken out, for the next puts (linked by next; at most as
                       many as were idle at once) */
    struct event *trim_ev; /* ka_trim at the end of the loop's turn (made at its first use) */
    mg_int_t n;
    mg_upstream_group_t *group;
    mg_log_t *log; /* the server's, for what an idle connection's TLS reports */
} ka_pool_t;

struct idle_s {
    mg_upstream_conn_t *uc; /* its TLS state, HTTP/2 session, watch (data or EOF: close), timer */
    SSL_CTX *ssl_ctx;
    struct sockaddr_storage sa;
    socklen_t socklen;
    ka_pool_t *pool;
    idle_t *next, **prevp;
    unsigned keyed : 1; /* put by a balancer's keepalive (key below), not the directive's */
    size_t keylen;
    char key[]; /* malloc'ed with the struct */
};

/* Whether ic belongs to the pool a try with ka (NULL: the keepalive directive's) uses. */
static int same_pool(const idle_t *ic, const mg_upstream_keepalive_t *ka)
{
    if (ka == NULL) {
        return !ic->keyed;
    }
    return ic->keyed && ic->keylen == ka->key.len && memcmp(ic->key, ka->key.data, ic->keylen) == 0;
}

/* Take ic out of its pool and free it; returns its connection, still open, its watch still
 * registered, its timer off. */
static mg_upstream_conn_t *idle_unlink(idle_t *ic)
{
    mg_upstream_conn_t *uc = ic->uc;
    mg_lazy_timer_del(&uc->timer);
    mg_list_unlink(ic);
    ka_pool_t *kp = ic->pool;
    kp->n--;
    if (!ic->keyed) {
        ic->next = kp->spares;
        kp->spares = ic;
    } else {
        free(ic);
    }
    return uc;
}

static void idle_close(idle_t *ic)
{
    mg_upstream_conn_close(idle_unlink(ic));
}

static void idle_event(evutil_socket_t fd, short what, void *arg)
{
    idle_t *ic = arg;
    if ((what & EV_READ) && ic->uc->proto &&
        mg_upstream_h2_idle(ic->uc->proto, (int)fd, ic->uc->ssl, ic->pool->log)) {
        /* HTTP/2 frames between requests (a PING, SETTINGS) were answered: still idle (the
         * watch stays) */
        return;
    }
    idle_close(ic); /* data or EOF on an idle connection: close it */
}

static void idle_timeout(void *arg)
{
    idle_close(arg); /* keepalive_timeout */
}

static void ka_close_all(ka_pool_t *kp)
{
    while (kp->head) {
        idle_close(kp->head);
    }
}

/* The worker stops serving (reload, WINCH, QUIT): as nginx, idle upstream connections go at
 * once rather than at keepalive_timeout, so the upstream sees them closed while the worker
 * still drains its clients. */
static void ka_on_quit(mg_server_hook_t *hook)
{
    ka_pool_t *kp = (ka_pool_t *)hook;
    ka_close_all(kp);
    /* a quitting server's puts close (mg_upstream_keepalive_put): no trim from now on, and the
     * worker frees its event base before its cycle's pool */
    if (kp->trim_ev) {
        event_free(kp->trim_ev);
        kp->trim_ev = NULL;
    }
}

static void ka_on_term(mg_server_hook_t *hook)
{
    ka_on_quit((mg_server_hook_t *)((char *)hook - offsetof(ka_pool_t, term)));
}

static void ka_pool_free(void *data)
{
    ka_pool_t *kp = data;
    if (kp->trim_ev) {
        event_free(kp->trim_ev);
    }
    ka_close_all(kp);
    while (kp->spares) {
        idle_t *next = kp->spares->next;
        free(kp->spares);
        kp->spares = next;
    }
    mg_server_hook_del(&kp->hook);
    mg_server_hook_del(&kp->term);
    kp->group->pool_state = NULL;
    free(kp);
}

/* The keepalive directive's pool back to its size once the loop's turn has handled what its
 * epoll_wait reported: the least recently used beyond it are closed. Put into a full pool, a
 * connection closed the least recently used at once (as nginx's cache does), while a request
 * later in the same turn connected anew: when a turn handles a run of answers before a run of
 * client requests (their order in the ready list, which a closed loop keeps turn after turn),
 * each turn closed and reopened up to (in use at the peak - size) connections though as many
 * stood idle as the requests took. Trimmed at the turn's end, those requests take them; the
 * loop never sleeps with more than the directive's number idle. (Keyed pools, balancer_by_lua's,
 * still make room at once: their size is the put's.) */
static void ka_trim(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ka_pool_t *kp = arg;
    mg_int_t n = 0;
    for (idle_t *ic = kp->head, *next; ic; ic = next) {
        next = ic->next;
        if (!ic->keyed && ++n > kp->group->keepalive) {
            idle_close(ic);
        }
    }
}

mg_upstream_conn_t *mg_upstream_keepalive_get(mg_upstream_group_t *g, mg_upstream_peer_t *peer,
                                              mg_request_t *r, const mg_upstream_keepalive_t *ka,
                                              SSL_CTX *ssl_ctx, int h2)
{
    ka_pool_t *kp = g->pool_state;
    if (kp == NULL) {
        return NULL;
    }
    if (r->connection->server->quitting) {
        ka_close_all(kp);
        return NULL;
    }
    for (idle_t *ic = kp->head, *next; ic; ic = next) {
        next = ic->next;
        if (mg_now.monotonic - ic->uc->created >= g->keepalive_time) {
            idle_close(ic);
            continue;
        }
        if (ic->socklen == peer->socklen && memcmp(&ic->sa, &peer->sockaddr, peer->socklen) == 0 &&
            ic->ssl_ctx == ssl_ctx && (ic->uc->proto != NULL) == (h2 != 0) && same_pool(ic, ka)) {
            mg_upstream_conn_t *uc = idle_unlink(ic);
            mg_watch_read_off(uc->watch); /* the taker's, as soon as it reads */
            return uc;
        }
    }
    return NULL;
}

void mg_upstream_keepalive_put(mg_upstream_group_t *g, mg_upstream_peer_t *peer, mg_request_t *r,
                               mg_upstream_conn_t *uc, const mg_upstream_keepalive_t *ka)
{
    mg_server_t *srv = r->connection->server;
    mg_upstream_keepalive_t group = {
        g->keepalive, g->keepalive_requests, g->keepalive_timeout, {0, NULL}};
    const mg_upstream_keepalive_t *pool_ka = ka;
    if (ka == NULL) {
        ka = &group;
    }
    if (ka->size <= 0 || srv->quitting ||
        (ka->requests && (mg_int_t)uc->requests >= ka->requests) ||
        mg_now.monotonic - uc->created >= g->keepalive_time) {
        mg_upstream_conn_close(uc);
        return;
    }
    ka_pool_t *kp = g->pool_state;
    if (kp == NULL) {
        kp = mg_calloc(sizeof(*kp));
        kp->group = g;
        kp->log = srv->log;
        kp->hook.handler = ka_on_quit;
        mg_server_hook_add(srv, &kp->hook);
        kp->term.handler = ka_on_term;
        mg_server_term_hook_add(srv, &kp->term);
        g->pool_state = kp;
        /* the group lives in its generation's pool: idle connections go with it */
        mg_pool_cleanup_add(r->connection->cycle->pool, ka_pool_free, kp);
    }
    /* the least recently used one of the same pool makes room (the last in the list); the
     * directive's pool at the end of the turn */
    mg_int_t n = 0;
    idle_t *last = NULL;
    for (idle_t *ic = kp->head; ic; ic = ic->next) {
        if (same_pool(ic, pool_ka)) {
            n++;
            last = ic;
        }
    }
    if (n >= ka->size && pool_ka) {
        idle_close(last);
    } else if (n >= ka->size) {
        if (kp->trim_ev == NULL) {
            kp->trim_ev = event_new(srv->base, -1, 0, ka_trim, kp);
            if (kp->trim_ev == NULL) {
                abort(); /* out of memory, fatal as in mg_alloc */
            }
        }
        /* after the events already reported: the turn's end */
        event_active(kp->trim_ev, EV_TIMEOUT, 1);
    }
    idle_t *ic = kp->spares;
    if (pool_ka == NULL && ic) {
        kp->spares = ic->next; /* every field is set below */
    } else {
        ic = mg_calloc(sizeof(*ic) + ka->key.len);
        if (pool_ka) {
            ic->keyed = 1;
            ic->keylen = ka->key.len;
            memcpy(ic->key, ka->key.data, ka->key.len);
        }
    }
    ic->uc = uc;
    ic->ssl_ctx = uc->ssl ? SSL_get_SSL_CTX(uc->ssl->ssl) : NULL;
    memcpy(&ic->sa, &peer->sockaddr, peer->socklen);
    ic->socklen = peer->socklen;
    ic->pool = kp;
    mg_list_push(&kp->head, ic);
    kp->n++;
    mg_watch_read(uc->watch, idle_event, ic);
    mg_lazy_timer_bind(&uc->timer, idle_timeout, ic);
    if (ka->timeout || ka == &group) {
        mg_lazy_timer_set(&uc->timer, ka->timeout);
    }
}
