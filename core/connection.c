/*
 * A client connection's runtime side: creation from an accepted socket, its read/write
 * events and deadline timer (dispatched to the protocol's handlers), and close. The server
 * (server.c) keeps the list of open connections; the protocol layer (core/http/connection.c)
 * owns c->data and decides when to close.
 */
#include <unistd.h>

#include "connection.h"
#include "cycle.h"
#include "listen.h"
#include "metrics.h"
#include "mgtime.h"
#include "pool.h"
#include "server.h"
#include "ssl.h"
#include "stat.h"

static void conn_read(mg_connection_t *c)
{
    mg_time_update();
    if (c->ssl && c->ssl->write_wants_read) {
        /* a TLS write waited for input (its record layer reads first) */
        c->ssl->write_wants_read = 0;
        c->write_handler(c);
        if (c->closed) {
            return;
        }
    }
    c->read_handler(c);
}

/* rev's handler, or an edge-triggered connection's watch's (core/watch.c: it keeps the socket's
 * readiness, and calls this again at the loop's next turn, where a level-triggered event would
 * have come, for input no read took; not within this turn: a client that keeps the buffer full
 * does not starve the others) */
static void on_conn_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_read(arg);
}

static void on_conn_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_connection_t *c = arg;
    c->writing = 0;
    mg_time_update();
    if (c->ssl && c->ssl->read_wants_write) {
        c->ssl->read_wants_write = 0;
        c->read_handler(c);
        if (c->closed || c->writing || c->write_handler == NULL) {
            return;
        }
    }
    c->write_handler(c);
}

static void on_conn_timer(void *arg)
{
    mg_connection_t *c = arg;
    mg_time_update();
    c->timeout_handler(c);
}

static ssize_t recv_plain(mg_connection_t *c, char *buf, size_t len)
{
    ssize_t n = recv(c->fd, buf, len, 0);
    if (c->edge) {
        mg_watch_read_said(&c->watch, n, len);
    }
    return n;
}

static ssize_t send_plain(mg_connection_t *c, const char *buf, size_t len)
{
    return send(c->fd, buf, len, MSG_NOSIGNAL);
}

static ssize_t send_chain_plain(mg_connection_t *c, const struct iovec *iov, int cnt)
{
    return writev(c->fd, iov, cnt);
}

struct mg_conn_unread_s {
    char *data;
    size_t len;
    mg_conn_recv_pt next; /* the recv to go back to once they are read */
};

static ssize_t recv_unread(mg_connection_t *c, char *buf, size_t len)
{
    struct mg_conn_unread_s *u = c->unread;
    size_t n = mg_min(len, u->len);
    memcpy(buf, u->data, n);
    u->data += n;
    u->len -= n;
    if (u->len == 0) {
        c->recv = u->next;
    }
    return (ssize_t)n;
}

void mg_conn_unread(mg_connection_t *c, const char *data, size_t len)
{
    if (len == 0) {
        return;
    }
    if (c->unread == NULL) {
        c->unread = mg_palloc(c->pool, sizeof(struct mg_conn_unread_s));
    }
    struct mg_conn_unread_s *u = c->unread;
    u->data = mg_pnalloc(c->pool, len);
    memcpy(u->data, data, len);
    u->len = len;
    if (c->recv != recv_unread) {
        u->next = c->recv; /* (not itself: a second pass before the first's bytes were read) */
    }
    c->recv = recv_unread;
}

void mg_conn_unread_wake(mg_connection_t *c)
{
    /* the socket may have nothing more to say: readiness would never come */
    if (c->unread && c->unread->len && c->reading && !c->closed) {
        mg_conn_read_kick(c);
    }
}

void mg_conn_read_said(mg_connection_t *c, int more)
{
    if (c->edge) {
        mg_watch_read_ready(&c->watch, more);
    }
}

int mg_conn_input_left(mg_connection_t *c)
{
    if ((c->unread && c->unread->len) || (c->ssl && mg_ssl_input_left(c))) {
        return 1;
    }
    if (c->edge) {
        return c->watch.rready; /* a FIN alone counts too: nginx's ready with pending_eof */
    }
    char ch;
    return c->fd >= 0 && recv(c->fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

void mg_conn_read_kick(mg_connection_t *c)
{
    if (c->edge) {
        mg_watch_kick(&c->watch);
    } else {
        event_active(&c->rev, EV_READ, 1);
    }
}

/* nginx's connection serial ("*N", $connection): one counter for every process of the server,
 * in its metrics zone, so a number names one connection across workers (each worker counting
 * its own gave two connections the same *N); a process without the zone (-t) counts alone. */
mg_uint_t mg_conn_number(mg_server_t *srv, mg_cycle_t *cycle)
{
    if (cycle && cycle->metrics) {
        return (mg_uint_t)__atomic_add_fetch(&cycle->metrics->conn_serial, 1, __ATOMIC_RELAXED);
    }
    return srv ? ++srv->conn_number : 0;
}

mg_connection_t *mg_conn_create(mg_server_t *srv, mg_cycle_t *cycle, mg_listening_t *ls, int fd,
                                const struct sockaddr_storage *ss, socklen_t len)
{
    /* the connection is its pool's first bytes, right after the header: one allocation (two
     * cost an idle connection malloc's rounding and header twice, and a malloc and a free
     * more); what follows it starts 16-byte aligned */
    size_t block = ls->pool_size ? ls->pool_size : 2048;
    size_t head =
        sizeof(mg_connection_t) + (16 - (MG_POOL_HEADER + sizeof(mg_connection_t)) % 16) % 16;
    mg_pool_t *pool = mg_pool_create_sized(head + (ls->pool_first ? ls->pool_first : block), block);
    mg_connection_t *c =
        memset(mg_pnalloc(pool, sizeof(mg_connection_t)), 0, sizeof(mg_connection_t));
    c->pool = pool;
    c->fd = fd;
    c->server = srv;
    c->cycle = cycle;
    cycle->refs++;
    c->listening = ls;
    c->start_msec = mg_now.msec;
    c->sockaddr = mg_sockaddr_dup(c->pool, ss, len);
    c->socklen = len;
    /* from the copy: an unnamed unix peer's address is its family alone (len 2), and what
     * follows it in ss is not a NUL-terminated path */
    char text[MG_CONN_ADDR_TEXT_MAX];
    size_t n = mg_sockaddr_text(c->sockaddr, text, sizeof(text), 0);
    c->addr_text = ss->ss_family == AF_UNIX ? "unix:" : mg_pstrdup(c->pool, text, n);
    c->log = *cycle->log;
    c->number = mg_conn_number(srv, cycle);
    c->log.connection = c->number;
    c->recv = recv_plain;
    c->send = send_plain;
    c->send_chain = send_chain_plain;
    c->log.debug = mg_core_debug_connection(cycle, (struct sockaddr *)ss);
    if (c->log.debug) {
        c->log.debug_any = MG_LOG_DEBUG_ALL;
    }
    event_assign(&c->rev, srv->base, fd, EV_READ | EV_PERSIST, on_conn_read, c);
    mg_lazy_timer_init(&c->timer, mg_server_timers(srv), on_conn_timer, c);
    mg_server_conn_add(srv, c);
    mg_stat_add(srv, MG_STAT_HANDLED, 1);
    mg_stat_add(srv, MG_STAT_ACTIVE, 1);
    mg_server_conn_reusable(c, 1);
    return c;
}

void mg_conn_edge(mg_connection_t *c)
{
    if (c->reading || c->writing || c->shared_fd || c->ssl || c->recv != recv_plain) {
        return;
    }
    /* reads, with EV_CLOSED (EPOLLRDHUP: a FIN that came with the last bytes read is known to
     * wait), replace rev; writes keep their own one-shot event, added when a write waits, so
     * that a response that goes out at once costs no epoll_ctl */
    if (!mg_watch_init_et(&c->watch, c->server->base, c->fd)) {
        return; /* `use poll`, select: no edge-triggered events, rev stays */
    }
    c->edge = 1;
    if (c->wev) {
        event_assign(c->wev, c->server->base, c->fd, EV_WRITE | EV_ET, on_conn_write, c);
    }
}

void mg_conn_read_on(mg_connection_t *c)
{
    if (c->edge) {
        if (!c->reading) {
            c->reading = 1;
            mg_watch_read(&c->watch, on_conn_read, c); /* the first adds the event */
        }
        if (c->watch.rready) {
            mg_watch_read_known(&c->watch); /* input no read took: a call at the next turn */
        }
        return;
    }
    if (!c->reading) {
        c->reading = 1;
        event_add(&c->rev, NULL); /* the kernel reports what is there already */
    }
    if (c->ssl && mg_ssl_read_pending(c)) {
        /* TLS reads ahead: what OpenSSL took from the socket raises no event */
        event_active(&c->rev, EV_READ, 1);
    }
}

void mg_conn_read_off(mg_connection_t *c)
{
    if (c->reading) {
        c->reading = 0;
        if (c->edge) {
            mg_watch_read_off(&c->watch); /* the event stays: reports only note readiness */
        } else {
            event_del(&c->rev);
        }
    }
}

void mg_conn_write_on(mg_connection_t *c)
{
    if (!c->writing) {
        c->writing = 1;
        if (c->wev == NULL) {
            c->wev = mg_alloc(sizeof(struct event));
            event_assign(c->wev, c->server->base, c->fd, c->edge ? EV_WRITE | EV_ET : EV_WRITE,
                         on_conn_write, c);
        }
        event_add(c->wev, NULL);
    }
}

void mg_conn_write_off(mg_connection_t *c)
{
    if (c->writing) {
        c->writing = 0;
        event_del(c->wev);
    }
}

void mg_conn_timer_set(mg_connection_t *c, mg_msec_t msec)
{
    mg_lazy_timer_set(&c->timer, msec);
    mg_debug_event(&c->log, "event timer add: %d: %ld:%llu", c->fd, (long)msec,
                   (unsigned long long)(mg_now.monotonic + msec));
}

void mg_conn_timer_del(mg_connection_t *c)
{
    if (mg_lazy_timer_is_set(&c->timer)) {
        mg_debug_event(&c->log, "event timer del: %d", c->fd);
        mg_lazy_timer_del(&c->timer);
    }
}

mg_int_t mg_conn_local_addr(mg_connection_t *c)
{
    if (c->local_socklen) {
        return MG_OK;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(c->fd, (struct sockaddr *)&ss, &len) != 0) {
        mg_log_error(MG_LOG_ERR, &c->log, errno, "getsockname() failed");
        if (c->local_sockaddr == NULL) {
            c->local_sockaddr = mg_pcalloc(c->pool, sizeof(struct sockaddr) + 1);
        }
        return MG_ERROR;
    }
    c->local_sockaddr = mg_sockaddr_dup(c->pool, &ss, len);
    c->local_socklen = len;
    return MG_OK;
}

static void conn_free(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_connection_t *c = arg;
    mg_server_t *srv = c->server;
    mg_cycle_t *cycle = c->cycle;
    mg_pool_run_cleanups(c->pool);
    if (c->ssl) {
        mg_ssl_conn_free(c); /* after the cleanups: they may read the TLS facts */
    }
    free(c->wev);
    mg_pool_destroy(c->pool); /* c with it */
    mg_server_cycle_release(srv, cycle);
}

void mg_conn_reset(mg_connection_t *c)
{
    if (c->fd >= 0 && !c->shared_fd) {
        struct linger l = {1, 0};
        if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) != 0) {
            mg_log_error(MG_LOG_CRIT, &c->log, errno, "setsockopt(SO_LINGER) failed");
        }
    }
    mg_conn_close(c);
}

void mg_conn_close(mg_connection_t *c)
{
    if (c->sockless) {
        c->sockless->close(c);
        return;
    }
    if (c->fd < 0) {
        return; /* already closed, waiting to be freed */
    }
    mg_server_t *srv = c->server;
    if (c->debug_proto) {
        mg_log_debugc(c->debug_proto, &c->log, "close %s connection: %d",
                      c->debug_proto == MG_LOG_DEBUG_STREAM ? "stream" : "http", c->fd);
    }
    if (c->edge) {
        mg_watch_close(&c->watch);
    } else {
        event_del(&c->rev);
    }
    if (c->wev) {
        event_del(c->wev);
    }
    mg_lazy_timer_free(&c->timer);
    if (c->ssl) {
        mg_ssl_conn_close(c);
    }
    if (!c->shared_fd) {
        close(c->fd);
    }
    c->fd = -1;
    c->closed = 1;
    mg_stat_add(srv, MG_STAT_ACTIVE, -1);
    mg_server_conn_remove(srv, c);
    /* the memory stays valid until the loop comes back, so every caller up the stack may
     * still look at c->closed */
    struct timeval now = { 0, 0 };
    event_base_once(srv->base, -1, EV_TIMEOUT, conn_free, c, &now);
}
