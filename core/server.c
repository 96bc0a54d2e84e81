/*
 * The event-loop runtime: accepting connections on the generation's listening sockets, the
 * list of open connections (core/connection.c has their events and close) and the queue of
 * reusable ones closed to make room when worker_connections run out, graceful and fast shutdown,
 * and single-process signal handling (TERM/INT fast, QUIT graceful, HUP reload, USR1 reopen).
 */
#include <linux/sockios.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "accept_mutex.h"
#include "connection.h"
#include "lazy_timer.h"
#include "list.h"
#include "listen.h"
#include "metrics.h"
#include "mgtime.h"
#include "module.h"
#include "pool.h"
#include "server.h"
#include "signals.h"
#include "stat.h"
#include "str.h"

/* The server has nothing left to do: its own loop breaks; a server attached to an embedding
 * program's event base tells the program instead (core/embed.c), whose loop goes on. */
static void loop_done(mg_server_t *srv)
{
    if (srv->on_done) {
        srv->on_done(srv);
    } else {
        event_base_loopbreak(srv->base);
    }
}

static void release_cycle(mg_server_t *srv, mg_cycle_t *cycle)
{
    if (--cycle->refs == 0 && cycle != srv->cycle) {
        mg_cycle_destroy(cycle);
    }
}

void mg_server_cycle_release(mg_server_t *srv, mg_cycle_t *cycle)
{
    release_cycle(srv, cycle);
}

void mg_server_conn_add(mg_server_t *srv, mg_connection_t *c)
{
    c->next = srv->connections;
    if (c->next) {
        c->next->prev = c;
    }
    srv->connections = c;
    srv->nconnections++;
    if (srv->quitting) {
        mg_stat_add(srv, MG_STAT_DRAINING, 1); /* the last accepts of a quitting worker */
    }
}

/* From now on this server's connections are draining ones (moongate_draining_connections). */
static void set_quitting(mg_server_t *srv)
{
    if (!srv->quitting) {
        srv->quitting = 1;
        mg_stat_add(srv, MG_STAT_DRAINING, (int64_t)srv->nconnections);
    }
}

/* The worker has been idle (no connection) for MG_TRIM_IDLE ms: give the heap's free pages
 * back. glibc keeps what a load freed (an h2 load's stream buffers: tens of MiB) mapped until
 * asked; nginx's pools go back to the same heap, but moongate's malloc'ed buffers fragment it
 * more. Once per idle period, never under load. */
#define MG_TRIM_IDLE 1000
static void on_trim(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_server_t *srv = arg;
#ifdef __GLIBC__
    if (srv->nconnections == 0) {
        malloc_trim(0);
    }
#else
    (void)srv;
#endif
}

/* the last connection went: trim once the worker has stayed idle a while (the loop is ours:
 * an attached server's program owns its heap policy) */
static void arm_trim(mg_server_t *srv)
{
    if (srv->on_done || srv->quitting || srv->terminating) {
        return;
    }
    if (srv->trim_ev == NULL) {
        srv->trim_ev = evtimer_new(srv->base, on_trim, srv);
    }
    if (!evtimer_pending(srv->trim_ev, NULL)) {
        struct timeval tv = {MG_TRIM_IDLE / 1000, (MG_TRIM_IDLE % 1000) * 1000};
        evtimer_add(srv->trim_ev, &tv);
    }
}

void mg_server_conn_remove(mg_server_t *srv, mg_connection_t *c)
{
    mg_server_conn_reusable(c, 0);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        srv->connections = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    srv->nconnections--;
    if (srv->quitting) {
        mg_stat_add(srv, MG_STAT_DRAINING, -1);
    }
    if (srv->quitting && srv->nconnections == 0) {
        loop_done(srv);
    } else if (srv->nconnections == 0) {
        arm_trim(srv);
    }
}

void mg_server_hold(mg_server_t *srv, mg_cycle_t *cycle)
{
    srv->nheld++;
    cycle->refs++;
}

void mg_server_release(mg_server_t *srv, mg_cycle_t *cycle)
{
    srv->nheld--;
    release_cycle(srv, cycle);
    if (srv->quitting && srv->nconnections == 0 && srv->nheld == 0) {
        loop_done(srv);
    }
}

void mg_server_conn_reusable(mg_connection_t *c, int on)
{
    mg_server_t *srv = c->server;
    mg_debug_core(&c->log, "reusable connection: %d", on);
    unsigned was = c->reusable;
    if (c->reusable) {
        if (c->reuse_prev) {
            c->reuse_prev->reuse_next = c->reuse_next;
        } else {
            srv->reusable = c->reuse_next;
        }
        if (c->reuse_next) {
            c->reuse_next->reuse_prev = c->reuse_prev;
        } else {
            srv->reusable_last = c->reuse_prev;
        }
        c->reuse_prev = c->reuse_next = NULL;
        c->reusable = 0;
        srv->nreusable--;
    }
    if (on && c->fd >= 0) {
        c->reuse_prev = srv->reusable_last;
        if (srv->reusable_last) {
            srv->reusable_last->reuse_next = c;
        } else {
            srv->reusable = c;
        }
        srv->reusable_last = c;
        c->reusable = 1;
        srv->nreusable++;
    }
    if (c->reusable != was) {
        mg_stat_add(srv, MG_STAT_WAITING, was ? -1 : 1); /* nginx's "Waiting" */
    }
}

/* Room for one more connection. As in nginx, the listening sockets and a worker's channel to
 * the master hold slots of worker_connections too (upstream connections are not counted
 * here); when none is free, an eighth of the reusable connections (1 to 32), oldest first,
 * are closed to make room, so that clients holding idle sockets cannot lock others out. */
static int room_for_one(mg_server_t *srv, mg_core_conf_t *ccf)
{
    mg_uint_t max = (mg_uint_t)ccf->worker_connections;
    mg_uint_t held = srv->cycle->listening.nelts + (srv->worker ? 1 : 0);
    if (srv->nconnections + held < max) {
        return 1;
    }
    if (srv->nreusable) {
        if (srv->reuse_warned != mg_now.sec) {
            srv->reuse_warned = mg_now.sec;
            mg_log_error(MG_LOG_WARN, srv->cycle->log, 0,
                         "%ld worker_connections are not enough, reusing connections",
                         (long)ccf->worker_connections);
        }
        mg_uint_t n = mg_max(mg_min(srv->nreusable / 8, 32), 1);
        while (n-- && srv->reusable) {
            mg_conn_close(srv->reusable);
        }
    }
    if (srv->nconnections + held < max) {
        return 1;
    }
    mg_log_error(MG_LOG_ALERT, srv->cycle->log, 0, "%ld worker_connections are not enough",
                 (long)ccf->worker_connections);
    return 0;
}

/* Accept from one listening socket: one connection, or (multi_accept, or `all`) until the
 * queue is empty. */
static void accept_from(int lfd, mg_listening_t *ls, int all)
{
    mg_cycle_t *cycle = ls->cycle;
    mg_server_t *srv = cycle->server;
    mg_core_conf_t *ccf = mg_cycle_core_conf(srv->cycle);
    mg_time_update();
    mg_debug_event(srv->cycle->log, "accept on %s, ready: %d", ls->addr_text, 1);
    if (ls->udp) {
        ls->read_datagrams(ls, ccf->multi_accept || all);
        return;
    }
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            if (errno == ECONNABORTED || errno == EINTR) {
                continue;
            }
            mg_log_error(errno == EMFILE || errno == ENFILE ? MG_LOG_CRIT : MG_LOG_ALERT,
                         srv->cycle->log, errno, "accept4() failed");
            return;
        }
        mg_stat_add(srv, MG_STAT_ACCEPTED, 1);
        if (!room_for_one(srv, ccf)) {
            close(fd);
            return;
        }
        mg_connection_t *c = mg_conn_create(srv, cycle, ls, fd, &ss, len);
        if (mg_log_debug_on(MG_LOG_DEBUG_EVENT, &c->log)) {
            char peer[128];
            mg_sockaddr_text((struct sockaddr *)&ss, peer, sizeof(peer), 1);
            mg_debug_event(&c->log, "accept: %s fd:%d", peer, fd);
        }
        ls->handler(c);
        if (!ccf->multi_accept && !all) {
            return;
        }
    }
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    mg_listening_t *ls = arg;
    mg_server_t *srv = ls->cycle->server;
    if (!mg_accept_mutex_used(srv)) {
        accept_from(lfd, ls, 0);
        return;
    }
    if (mg_accept_mutex_held(srv)) {
        accept_from(lfd, ls, 0);
        mg_accept_mutex_accepted(srv);
    }
}

void mg_server_accept_on(mg_server_t *srv)
{
    mg_listening_t **ls = srv->cycle->listening.elts;
    int mutex = mg_accept_mutex_used(srv);
    for (size_t i = 0; i < srv->cycle->listening.nelts; i++) {
        ls[i]->cycle = srv->cycle;
        if (ls[i]->accept_ev == NULL) {
            ls[i]->accept_ev = event_new(srv->base, ls[i]->fd, EV_READ | EV_PERSIST, on_accept, ls[i]);
        }
        if (!mutex) {
            event_add(ls[i]->accept_ev, NULL);
        }
    }
    srv->accepting = 1;
    if (mutex) {
        mg_accept_mutex_start(srv); /* listens once it holds the lock */
    }
}

static void accept_off(mg_server_t *srv)
{
    mg_listening_t **ls = srv->cycle->listening.elts;
    for (size_t i = 0; i < srv->cycle->listening.nelts; i++) {
        if (ls[i]->accept_ev) {
            event_del(ls[i]->accept_ev);
        }
    }
    srv->accepting = 0;
    if (mg_accept_mutex_used(srv)) {
        mg_accept_mutex_stop(srv);
    }
}

static void close_idle(mg_server_t *srv)
{
    for (mg_connection_t *c = srv->connections, *next; c; c = next) {
        next = c->next;
        if (c->idle) {
            mg_conn_close(c);
        }
    }
}

/* A shedding server closes an idle connection once the client has taken every byte sent on
 * it (the kernel's send queue is empty: the client read the response and may be sending the
 * next request only from then on) and MG_SHED_GRACE passed without a request. */
static void on_shed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_server_t *srv = arg;
    mg_time_update();
    for (mg_connection_t *c = srv->connections, *next; c; c = next) {
        next = c->next;
        int queued = 0;
        if (!c->idle || c->fd < 0) {
            continue;
        }
        if (ioctl(c->fd, SIOCOUTQ, &queued) == 0 && queued > 0) {
            c->quiet_since = mg_now.monotonic;
        } else if (mg_now.monotonic - c->quiet_since >= MG_SHED_GRACE) {
            mg_conn_close(c);
        }
    }
}

void mg_server_conn_idle(mg_connection_t *c)
{
    c->idle = 1;
    if (c->server->quitting && !c->server->keep_idle) {
        mg_conn_close(c);
        return;
    }
    c->quiet_since = mg_now.monotonic;
    mg_server_conn_reusable(c, 1);
}

/* Each hook once; a handler may remove its own hook. */
static void run_hooks(mg_server_hook_t *h)
{
    for (mg_server_hook_t *next; h; h = next) {
        next = h->next;
        h->handler(h);
    }
}

void mg_server_hook_add(mg_server_t *srv, mg_server_hook_t *hook)
{
    mg_list_push(&srv->quit_hooks, hook);
}

void mg_server_term_hook_add(mg_server_t *srv, mg_server_hook_t *hook)
{
    mg_list_push(&srv->term_hooks, hook);
}

char *mg_server_scratch(mg_server_t *srv)
{
    if (srv->scratch == NULL) {
        srv->scratch = mg_alloc(MG_SERVER_SCRATCH);
    }
    return srv->scratch;
}

struct mg_lazy_timers_s *mg_server_timers(mg_server_t *srv)
{
    if (srv->timers == NULL) {
        srv->timers = mg_lazy_timers_new(srv->base);
    }
    return srv->timers;
}

void mg_server_h2_flush_free(mg_server_t *srv)
{
    if (srv->h2_flush_ev) {
        event_free(srv->h2_flush_ev);
        srv->h2_flush_ev = NULL;
    }
}

/* A list of kept blocks linked through their first word (HTTP/2's), freed */
static void free_kept(void **head)
{
    while (*head) {
        void *b = *head;
        *head = *(void **)b;
        free(b);
    }
}

void mg_server_buffers_free(mg_server_t *srv)
{
    mg_lazy_timers_free(srv->timers);
    srv->timers = NULL;
    free(srv->scratch);
    free(srv->h2_rbuf);
    free(srv->h2_obuf);
    mg_server_h2_flush_free(srv);
    free(srv->ssl_wbuf);
    srv->scratch = srv->h2_rbuf = srv->h2_obuf = srv->ssl_wbuf = NULL;
    srv->ssl_wsize = 0;
    while (srv->h1_nbufs) {
        free(srv->h1_bufs[--srv->h1_nbufs].buf);
    }
    while (srv->h1_nheads) {
        free(srv->h1_heads[--srv->h1_nheads]);
    }
    mg_pool_spares_free(&srv->h2_pools);
    mg_pool_spares_free(&srv->request_pools);
    for (unsigned k = 0; k < MG_SERVER_H2_BLOCK_CLASSES; k++) {
        free_kept(&srv->h2_blocks[k]);
        srv->h2_nblocks[k] = 0;
    }
    free_kept(&srv->h2_streams);
    srv->h2_nstreams = 0;
    free(srv->h2_head);
    srv->h2_head = NULL;
    free(srv->h1_reader);
    srv->h1_reader = NULL;
}

void mg_server_hook_del(mg_server_hook_t *hook)
{
    mg_list_unlink(hook);
}

static void on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_server_t *srv = arg;
    mg_log_error(MG_LOG_NOTICE, srv->cycle->log, 0, "shutdown timeout");
    mg_server_terminate(srv);
}

void mg_server_quit(mg_server_t *srv)
{
    if (srv->quitting) {
        if (srv->keep_idle) {
            /* a drain turned into a shutdown: idle connections go now */
            srv->keep_idle = 0;
            close_idle(srv);
            if (srv->nconnections == 0) {
                loop_done(srv);
            }
        }
        return;
    }
    set_quitting(srv);
    accept_off(srv);
    if (srv->worker) {
        /* what the kernel queued already is served here: a socket this generation alone
         * used (a listener removed by the reload, or the last QUIT) dies with our copy,
         * and its queue with it; then only this process's copies close, the master and
         * newer workers keep theirs */
        mg_listening_t **ls = srv->cycle->listening.elts;
        for (size_t i = 0; i < srv->cycle->listening.nelts; i++) {
            if (ls[i]->fd >= 0) {
                accept_from(ls[i]->fd, ls[i], 1);
            }
        }
        mg_listen_close_all(srv->cycle, 0);
    } else {
        mg_listen_close_unused(srv->cycle, NULL);
    }
    if (!srv->keep_idle) {
        close_idle(srv);
    }
    /* what is not a client connection goes at once, drain or not: nothing is lost by
     * closing an idle upstream connection (the next generation opens its own) */
    run_hooks(srv->quit_hooks);
    mg_core_conf_t *ccf = mg_cycle_core_conf(srv->cycle);
    if (ccf->worker_shutdown_timeout > 0) {
        srv->shutdown_timer = evtimer_new(srv->base, on_shutdown_timeout, srv);
        struct timeval tv = { (time_t)(ccf->worker_shutdown_timeout / 1000),
                              (suseconds_t)(ccf->worker_shutdown_timeout % 1000) * 1000 };
        evtimer_add(srv->shutdown_timer, &tv);
    }
    if (srv->nconnections == 0) {
        loop_done(srv);
    }
}

void mg_server_drain(mg_server_t *srv)
{
    if (srv->quitting) {
        return; /* draining already, or quitting: a drain never closes idle connections */
    }
    srv->keep_idle = 1;
    mg_server_quit(srv);
}

void mg_server_shed(mg_server_t *srv)
{
    mg_server_drain(srv);
    if (!srv->keep_idle || srv->shed_ev) {
        return; /* closing idle connections already, or shedding */
    }
    /* the grace counts from now for a connection idle since long: its client may be sending
     * right now as well */
    for (mg_connection_t *c = srv->connections; c; c = c->next) {
        c->quiet_since = mg_now.monotonic;
    }
    srv->shed_ev = event_new(srv->base, -1, EV_PERSIST, on_shed, srv);
    struct timeval tv = {0, MG_SHED_GRACE * 1000 / 4};
    event_add(srv->shed_ev, &tv);
}

void mg_server_terminate(mg_server_t *srv)
{
    srv->terminating = 1;
    set_quitting(srv);
    accept_off(srv);
    while (srv->connections) {
        mg_conn_close(srv->connections);
    }
    run_hooks(srv->term_hooks);
    loop_done(srv);
}

mg_int_t mg_server_reload(mg_server_t *srv)
{
    mg_log_error(MG_LOG_NOTICE, srv->cycle->log, 0, "reconfiguring");
    mg_cycle_t *old = srv->cycle;
    mg_cycle_t *cycle = mg_cycle_create(&srv->params, old, old->log);
    if (cycle && mg_listen_open_all(cycle, old) != MG_OK) {
        mg_cycle_destroy(cycle);
        cycle = NULL;
    }
    if (cycle == NULL) {
        MG_METRICS_INC(old->metrics, reloads_failed);
        return MG_ERROR;
    }
    cycle->server = srv;
    MG_METRICS_INC(cycle->metrics, reloads_ok);
    MG_METRICS_INC(cycle->metrics, generation);
    accept_off(srv);
    mg_listen_close_unused(old, cycle);
    srv->cycle = cycle;
    srv->log = cycle->log;
    cycle->refs++; /* the server's own reference */
    mg_modules_init_worker(cycle);
    mg_server_accept_on(srv);
    release_cycle(srv, old);
    return MG_OK;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    mg_server_t *srv = arg;
    mg_time_update();
    switch (sig) {
    case SIGTERM:
    case SIGINT:
        mg_log_error(MG_LOG_NOTICE, srv->cycle->log, 0, "signal %d (%s) received, exiting", (int)sig,
                     sig == SIGTERM ? "SIGTERM" : "SIGINT");
        mg_server_terminate(srv);
        break;
    case SIGQUIT:
        mg_log_error(MG_LOG_NOTICE, srv->cycle->log, 0,
                     "signal %d (SIGQUIT) received, shutting down", (int)sig);
        srv->single_quit = 1;
        mg_server_quit(srv);
        break;
    case SIGHUP:
        mg_log_error(MG_LOG_NOTICE, srv->cycle->log, 0,
                     "signal %d (SIGHUP) received, reconfiguring", (int)sig);
        {
            char error[1024];
            mg_log_capture(error, sizeof(error));
            mg_int_t rc = mg_server_reload(srv);
            mg_log_capture(NULL, 0);
            srv->reloads++;
            mg_signal_write_verdict(srv->cycle, srv->reloads, srv->reloads + 1,
                                    rc == MG_OK ? NULL : error);
        }
        break;
    case SIGUSR1:
        mg_log_error(MG_LOG_NOTICE, srv->cycle->log, 0,
                     "signal %d (SIGUSR1) received, reopening logs", (int)sig);
        mg_cycle_reopen_files(srv->cycle);
        break;
    }
}

void mg_server_signals(mg_server_t *srv)
{
    static const int sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 };
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < mg_nelems(sigs); i++) {
        srv->signals[i] = evsignal_new(srv->base, sigs[i], on_signal, srv);
        event_add(srv->signals[i], NULL);
    }
    srv->nsignals = mg_nelems(sigs);
}

static void on_clock(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    mg_time_refresh();
}

struct event_base *mg_server_event_base(mg_cycle_t *cycle)
{
    mg_str_t use = mg_cycle_core_conf(cycle)->use;
    struct event_base *base;
    if (use.len == 0) {
        base = event_base_new();
    } else {
        /* libevent takes no backend by name: every other one is avoided */
        struct event_config *cfg = event_config_new();
        for (const char **m = event_get_supported_methods(); m && *m; m++) {
            if (!mg_str_eq(use, *m)) {
                event_config_avoid_method(cfg, *m);
            }
        }
        base = event_base_new_with_config(cfg);
        event_config_free(cfg);
    }
    if (base == NULL) {
        mg_log_error(MG_LOG_EMERG, cycle->log, 0, "event_base_new() failed");
    }
    return base;
}

mg_int_t mg_server_loop(mg_server_t *srv)
{
    mg_time_refresh();
    /* timer_resolution: the clock moves on this timer only (nginx's SIGALRM); the loop wakes
     * for it as nginx's epoll_wait() is interrupted by the signal */
    mg_msec_t res = mg_cycle_core_conf(srv->cycle)->timer_resolution;
    struct event *clock = NULL;
    if (res) {
        mg_time_set_resolution(res);
        clock = event_new(srv->base, -1, EV_PERSIST, on_clock, NULL);
        struct timeval tv = {(time_t)(res / 1000), (suseconds_t)(res % 1000) * 1000};
        event_add(clock, &tv);
    }
    mg_int_t rc = MG_OK;
    while (!(srv->quitting && srv->nconnections == 0 && srv->nheld == 0) && !srv->terminating) {
        mg_time_turn();
        if (event_base_loop(srv->base, EVLOOP_ONCE) < 0) {
            mg_log_error(MG_LOG_ALERT, srv->cycle->log, errno, "event loop failed");
            rc = MG_ERROR;
            break;
        }
    }
    if (clock) {
        event_free(clock);
        mg_time_set_resolution(0);
    }
    if (srv->shed_ev) {
        event_free(srv->shed_ev);
        srv->shed_ev = NULL;
    }
    if (srv->trim_ev) {
        event_free(srv->trim_ev);
        srv->trim_ev = NULL;
    }
    mg_time_turns_end();
    mg_time_refresh();
    return rc;
}
