/*
 * ngx_stream_proxy_module: a session's bytes to and from a peer of an upstream group (an
 * upstream{} block, an address, or a name from variables), with connect/idle timeouts,
 * next_upstream retries over the group's balancer, one buffer each way of proxy_buffer_size,
 * rate limits per direction, the PROXY protocol v1 line before the client's bytes, and nginx's
 * end of a session: once one side has closed and what it sent is delivered (or, with
 * proxy_half_close, once both have).
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "health_check.h"
#include "proxy_protocol.h"
#include "server.h"
#include "stream.h"
#include "stream_proxy_ssl.h"
#include "upstream_peer.h"
#include "upstream_resolve.h"
#include "upstream_rr.h"
#include "watch.h"

extern mg_module_t mg_stream_proxy_module;
extern mg_module_t mg_upstream_module;

typedef struct {
    mg_upstream_group_t *group; /* proxy_pass to an address or a block */
    mg_stream_complex_t *value; /* proxy_pass with variables */
    mg_msec_t connect_timeout;
    mg_msec_t timeout;
    mg_msec_t next_upstream_timeout;
    mg_int_t next_upstream_tries;
    int next_upstream;
    size_t buffer_size;
    size_t download_rate;
    size_t upload_rate;
    int proxy_protocol;
    int socket_keepalive;
    int half_close;
    mg_int_t responses;        /* UDP: datagrams expected per request; -1 unlimited */
    mg_int_t requests;         /* UDP: datagrams a session takes; 0 unlimited */
    mg_stream_complex_t *bind; /* NULL: none; "off" kept as NULL too */
    int bind_set;
    unsigned bind_transparent : 1;
} proxy_conf_t;

typedef struct {
    char *data;
    size_t pos, last, size;
} pbuf_t;

/* A finished try, for $upstream_addr and friends (", " between tries) */
typedef struct {
    mg_str_t name;
    off_t sent, received;
    mg_msec_t connect_time; /* -1: none */
    mg_msec_t first_byte_time;
    mg_msec_t session_time;
} proxy_try_t;

typedef struct {
    mg_stream_session_t *s;
    mg_upstream_group_t *group;
    mg_upstream_pick_t pick;
    int fd;
    struct event *rev, *wev, *timer; /* timer: connect timeout, then the download delay */
    struct event *up_delay;          /* the upload (client read) delay */
    struct event *down_delay;        /* the download (peer read) delay */
    pbuf_t to_up, to_client;
    mg_msec_t start;     /* monotonic: first connect, for next_upstream_timeout */
    mg_msec_t try_start; /* this try's connect */
    mg_array_t tries;    /* proxy_try_t */
    proxy_try_t *cur;
    off_t sent, received; /* this try's bytes to / from the peer */
    mg_msec_t rate_start;
    mg_uint_t responses; /* UDP: datagrams from the peer */
    mg_ssl_conn_t *ssl;  /* proxy_ssl: the peer's TLS (stream_proxy_ssl.c) */
    mg_resolve_t *rs;    /* the name being resolved */
    mg_str_t host;       /* and its port */
    in_port_t port;
    unsigned connected : 1;
    unsigned own_group : 1; /* the group is the session's (proxy_pass with variables) */
    unsigned client_eof : 1;
    unsigned upstream_eof : 1;
    unsigned upstream_shut : 1; /* proxy_half_close: the peer's write side shut */
    unsigned client_shut : 1;
    unsigned client_delayed : 1;
    unsigned upstream_delayed : 1;
    unsigned upstream_reading : 1;
    unsigned up_rready : 1;     /* UDP: the peer's (level-triggered) read event came */
    unsigned client_rready : 1; /* the client's (level-triggered) read event came */
    /* A plain TCP peer's socket has an edge-triggered watch (core/watch.h), registered once
     * for the try's life (as nginx's), and is read or written only when its events said so
     * since the last EAGAIN or short read or write: no epoll_ctl and no recv that finds
     * nothing. TLS peers (whose library buffers) and UDP ones keep level-triggered events
     * (rev, wev). */
    mg_watch_t *watch;
} proxy_t;

static void proxy_connect(proxy_t *u);
static void proxy_process(proxy_t *u);

static void free_events(proxy_t *u)
{
    struct event **evs[5] = {&u->rev, &u->wev, &u->timer, &u->up_delay, &u->down_delay};
    for (int i = 0; i < 5; i++) {
        if (*evs[i]) {
            event_free(*evs[i]);
            *evs[i] = NULL;
        }
    }
}

static void close_peer(proxy_t *u)
{
    free_events(u);
    mg_watch_free(u->watch); /* (in its handler: once that returns) */
    u->watch = NULL;
    if (u->ssl) {
        mg_ssl_close(u->ssl);
        u->ssl = NULL;
    }
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
    u->upstream_reading = 0;
    u->up_rready = 0;
}

static void end_try(proxy_t *u, int outcome)
{
    if (u->cur) {
        u->cur->sent = u->sent;
        u->cur->received = u->received;
        u->cur->session_time = mg_now.monotonic - u->try_start;
        u->cur = NULL;
    }
    if (u->pick.peer) {
        u->group->balancer->free_peer(&u->pick, outcome);
        u->pick.peer = NULL;
    }
}

/* The session ends (finalize or a forced close): the peer goes. */
static void proxy_cleanup(mg_stream_session_t *s)
{
    proxy_t *u = s->upstream;
    if (u->rs) {
        mg_resolve_cancel(u->rs);
        u->rs = NULL;
    }
    end_try(u, MG_PEER_OK);
    close_peer(u);
}

static void finalize(proxy_t *u, mg_uint_t status)
{
    mg_debug_stream(&u->s->connection->log, "finalize stream proxy: %lu", (unsigned long)status);
    mg_stream_finalize_session(u->s, status);
}

/* ---- the next peer ---- */

static void next_upstream(proxy_t *u)
{
    mg_stream_session_t *s = u->s;
    proxy_conf_t *pcf = mg_stream_get_srv_conf(s, mg_stream_proxy_module);
    end_try(u, MG_PEER_FAILED);
    close_peer(u);
    /* balancer_by_lua's set_more_tries gives the session its own limit */
    mg_uint_t max = u->pick.max_tries ? u->pick.max_tries : u->group->max_tries;
    if (pcf->next_upstream_tries && (mg_uint_t)pcf->next_upstream_tries < max) {
        max = (mg_uint_t)pcf->next_upstream_tries;
    }
    if (!pcf->next_upstream || u->pick.tries >= max ||
        (pcf->next_upstream_timeout && mg_now.monotonic - u->start >= pcf->next_upstream_timeout)) {
        finalize(u, 502);
        return;
    }
    proxy_connect(u);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    proxy_t *u = arg;
    mg_time_update();
    mg_log_error(MG_LOG_ERR, &u->s->connection->log, ETIMEDOUT, "upstream timed out");
    next_upstream(u);
}

/* the PROXY v1 line for the session into line (300 bytes): its length. As nginx's: the
 * connection's addresses, the client's as set_real_ip_from left it (a PROXY header received
 * is passed on only through realip, and then with our own address as the destination) */
static int proxy_protocol_line(proxy_t *u, char *line)
{
    mg_connection_t *c = u->s->connection;
    char src[128] = "", dst[128] = "";
    mg_conn_local_addr(c);
    int family = c->sockaddr->sa_family;
    if (family == AF_INET || family == AF_INET6) {
        mg_sockaddr_text(c->sockaddr, src, sizeof(src), 0);
        mg_sockaddr_text(c->local_sockaddr, dst, sizeof(dst), 0);
        in_port_t sport = mg_sockaddr_port(c->sockaddr);
        in_port_t dport = mg_sockaddr_port(c->local_sockaddr);
        return snprintf(line, 300, "PROXY %s %s %s %u %u\r\n", family == AF_INET ? "TCP4" : "TCP6",
                        src, dst, (unsigned)sport, (unsigned)dport);
    }
    return snprintf(line, 300, "PROXY UNKNOWN\r\n");
}

static void put_proxy_protocol(proxy_t *u)
{
    char line[300];
    int n = proxy_protocol_line(u, line);
    /* before whatever the client sent already */
    pbuf_t *b = &u->to_up;
    size_t have = b->last - b->pos;
    if ((size_t)n + have > b->size) {
        char *nb = mg_palloc(u->s->pool, (size_t)n + have);
        memcpy(nb + n, b->data + b->pos, have);
        b->data = nb;
        b->size = (size_t)n + have;
    } else {
        memmove(b->data + n, b->data + b->pos, have);
    }
    memcpy(b->data, line, (size_t)n);
    b->pos = 0;
    b->last = (size_t)n + have;
}

static void on_upstream_event(evutil_socket_t fd, short what, void *arg);

/* an I/O error while proxying, said with nginx's action for it ("proxying and reading from
 * upstream", ...), the session's "proxying connection" again after */
static void io_error(mg_connection_t *c, int level, int err, const char *action, const char *what)
{
    const char *saved = c->log.action;
    c->log.action = action;
    mg_log_error(level, &c->log, err, "%s", what);
    c->log.action = saved;
}

/* proxy_ssl: the PROXY line goes first, in the clear (as nginx's), then the handshake, under
 * proxy_connect_timeout. MG_OK once done and checked; MG_AGAIN (its events are on); MG_ERROR
 * (the next peer was asked for). */
static mg_int_t ssl_connect(proxy_t *u)
{
    mg_stream_session_t *s = u->s;
    mg_connection_t *c = s->connection;
    if (u->ssl == NULL) {
        proxy_conf_t *pcf = mg_stream_get_srv_conf(s, mg_stream_proxy_module);
        if (pcf->proxy_protocol) {
            char line[300];
            int n = proxy_protocol_line(u, line);
            if (send(u->fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
                mg_log_error(MG_LOG_ERR, &c->log, errno, "send() failed");
                next_upstream(u);
                return MG_ERROR;
            }
        }
        mg_str_t host = u->group->name.len ? u->group->name : u->pick.peer->name;
        u->ssl = mg_stream_proxy_ssl_new(s, u->fd, u->pick.peer, host, !u->own_group);
    }
    c->log.action = "SSL handshaking to upstream";
    mg_int_t rc = mg_ssl_handshake_step(u->ssl, &c->log);
    if (rc == MG_AGAIN) {
        if (u->ssl->want_write) {
            event_add(u->wev, NULL);
        } else if (!u->upstream_reading) {
            event_add(u->rev, NULL);
            u->upstream_reading = 1;
        }
        return MG_AGAIN;
    }
    if (u->upstream_reading) {
        event_del(u->rev);
        u->upstream_reading = 0;
    }
    if (rc != MG_OK || mg_stream_proxy_ssl_check(s, u->ssl) != MG_OK) {
        next_upstream(u);
        return MG_ERROR;
    }
    return MG_OK;
}

static void proxy_connected(proxy_t *u)
{
    mg_stream_session_t *s = u->s;
    mg_connection_t *c = s->connection;
    proxy_conf_t *pcf = mg_stream_get_srv_conf(s, mg_stream_proxy_module);
    if (mg_stream_proxy_ssl_enabled(s) && ssl_connect(u) != MG_OK) {
        return;
    }
    u->connected = 1;
    u->cur->connect_time = mg_now.monotonic - u->try_start;
    if (u->timer) {
        event_del(u->timer);
    }
    mg_stream_srv_conf_t *cscf = mg_stream_get_srv_conf(s, mg_stream_core_module);
    int udp = c->listening->udp;
    if (cscf->tcp_nodelay && u->pick.peer->sockaddr.ss_family != AF_UNIX && !udp) {
        int one = 1;
        (void)setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (MG_LOG_INFO <= c->log.level || c->log.debug) {
        /* the local address is asked for this line alone, as nginx does */
        char local[128] = "";
        struct sockaddr_storage ls;
        socklen_t len = sizeof(ls);
        if (getsockname(u->fd, (struct sockaddr *)&ls, &len) == 0) {
            mg_sockaddr_text((struct sockaddr *)&ls, local, sizeof(local), 1);
        }
        mg_stream_log_plain(s, MG_LOG_INFO, "%sproxy %s connected to %.*s", udp ? "udp " : "",
                            local, (int)u->pick.peer->name.len, u->pick.peer->name.data);
    }
    if (pcf->proxy_protocol && !udp && u->ssl == NULL) {
        put_proxy_protocol(u);
    }
    c->log.action = "proxying connection";
    u->rate_start = mg_now.monotonic;
    proxy_process(u);
}

static void peer_chosen(proxy_t *u, mg_int_t prc);

static void proxy_connect(proxy_t *u)
{
    mg_stream_session_t *s = u->s;
    s->connection->log.action = "connecting to upstream";
    s->log_upstream.len = 0;
    mg_int_t prc = u->group->balancer->get_peer(&u->pick);
    if (prc != MG_AGAIN) {
        peer_chosen(u, prc);
    }
}

/* balancer_by_lua waited (set_current_peer resolving a name): its answer now. */
static void peer_ready(mg_upstream_pick_t *pick, mg_int_t prc)
{
    peer_chosen(((mg_stream_session_t *)pick->session)->upstream, prc);
}

static void peer_chosen(proxy_t *u, mg_int_t prc)
{
    mg_stream_session_t *s = u->s;
    mg_connection_t *c = s->connection;
    proxy_conf_t *pcf = mg_stream_get_srv_conf(s, mg_stream_proxy_module);
    if (prc == MG_ERROR) {
        finalize(u, 500); /* balancer_by_lua failed (logged) */
        return;
    }
    if (prc == MG_DECLINED) {
        /* balancer_by_lua gave up on this try (ngx.exit(ngx.DECLINED)): the next one */
        u->pick.peer = NULL;
        u->pick.tries++;
        next_upstream(u);
        return;
    }
    if (prc != MG_OK) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "no live upstreams");
        finalize(u, 502);
        return;
    }
    mg_upstream_peer_t *peer = u->pick.peer;
    s->log_upstream = peer->name;
    u->connected = 0;
    u->sent = u->received = 0;
    s->upstream_sent = s->upstream_received = 0;
    u->try_start = mg_now.monotonic;
    u->cur = mg_array_push(&u->tries);
    memset(u->cur, 0, sizeof(*u->cur));
    u->cur->name = peer->name;
    u->cur->connect_time = -1;
    u->cur->first_byte_time = -1;
    int udp = c->listening->udp;
    int fd = socket(peer->sockaddr.ss_family,
                    (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mg_log_error(MG_LOG_ALERT, &c->log, errno, "socket() failed");
        end_try(u, MG_PEER_OK);
        finalize(u, 500);
        return;
    }
    u->fd = fd;
    (void)mg_conn_number(c->server, c->cycle); /* as nginx numbers an upstream connection */
    int one = 1;
    if (pcf->socket_keepalive) {
        (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    if (pcf->bind) {
        mg_str_t addr = mg_stream_complex_value(s, pcf->bind);
        struct sockaddr_storage ss;
        socklen_t len;
        int wildcard;
        if (addr.len) {
            const char *err = mg_listen_parse_addr(addr, &ss, &len, &wildcard);
            if (err) {
                mg_log_error(MG_LOG_ERR, &c->log, 0, "invalid local address \"%.*s\"",
                             (int)addr.len, addr.data);
            } else {
                if (pcf->bind_transparent) {
                    (void)setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
                }
                if (mg_sockaddr_port((struct sockaddr *)&ss) == 0) {
                    (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
                }
                if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
                    mg_log_error(MG_LOG_CRIT, &c->log, errno, "bind(%.*s) failed", (int)addr.len,
                                 addr.data);
                    end_try(u, MG_PEER_OK);
                    finalize(u, 502);
                    return;
                }
            }
        }
    }
    mg_server_t *srv = c->server;
    /* (`use poll` or select: no edge-triggered events, the level-triggered ones then) */
    if (!c->listening->udp && !mg_stream_proxy_ssl_enabled(s)) {
        u->watch = mg_watch_new_et(srv->base, fd);
    }
    if (u->watch == NULL) {
        u->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, on_upstream_event, u);
    }
    /* a UDP socket's connect() is done at once (no handshake): no write event nor connect
     * timer to wait for it with, unless TLS comes next */
    int waits = !c->listening->udp || mg_stream_proxy_ssl_enabled(s);
    if (u->watch == NULL && waits) {
        u->wev = event_new(srv->base, fd, EV_WRITE, on_upstream_event, u);
    }
    if (waits) {
        u->timer = evtimer_new(srv->base, on_connect_timeout, u);
    }
    mg_debug_event(&c->log, "connect to %.*s, fd:%d #%lu", (int)peer->name.len, peer->name.data, fd,
                   (unsigned long)c->number);
    int rc = connect(fd, (struct sockaddr *)&peer->sockaddr, peer->socklen);
    if (u->watch && (rc == 0 || errno == EINPROGRESS)) {
        mg_watch_add(u->watch, rc == 0);
    }
    mg_debug_stream(&c->log, "proxy connect: %d", rc == 0 ? 0 : errno == EINPROGRESS ? -2 : -1);
    if (rc == 0) {
        proxy_connected(u);
        return;
    }
    if (errno != EINPROGRESS || !waits) {
        mg_log_error(MG_LOG_ERR, &c->log, errno, "connect() failed");
        next_upstream(u);
        return;
    }
    if (u->watch) {
        mg_watch_write(u->watch, on_upstream_event, u); /* the connect's end (or failure) */
    } else {
        event_add(u->wev, NULL);
    }
    mg_msec_t ct = u->pick.connect_timeout ? u->pick.connect_timeout : pcf->connect_timeout;
    struct timeval tv = {ct / 1000, (ct % 1000) * 1000};
    event_add(u->timer, &tv);
}

/* ---- proxying ---- */

static void on_client_read(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    proxy_t *u = s->upstream;
    u->client_rready = 1;
    proxy_process(u);
}

static void on_client_write(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    proxy_process(s->upstream);
}

static void on_client_timeout(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "connection timed out");
    mg_stream_finalize_session(s, 200);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    proxy_t *u = arg;
    mg_time_update();
    u->client_delayed = 0;
    u->upstream_delayed = 0;
    proxy_process(u);
}

static void on_upstream_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    proxy_t *u = arg;
    mg_time_update();
    if (what & EV_READ) {
        u->up_rready = 1; /* (the watch keeps its own) */
    }
    if (!u->connected) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (u->ssl == NULL && getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
        if (err) {
            mg_log_error(MG_LOG_ERR, &u->s->connection->log, err, "connect() failed");
            next_upstream(u);
            return;
        }
        proxy_connected(u);
        return;
    }
    proxy_process(u);
}

/* How many bytes the rate lets through now (SIZE_MAX without one); 0 arms the delay. */
static size_t rate_allows(proxy_t *u, size_t rate, off_t done, struct event **ev)
{
    if (rate == 0) {
        return SIZE_MAX;
    }
    mg_msec_t elapsed = mg_now.monotonic - u->rate_start;
    int64_t limit = (int64_t)rate * (elapsed + 1000) / 1000 - done;
    if (limit > 0) {
        return (size_t)limit;
    }
    if (*ev == NULL) {
        *ev = evtimer_new(u->s->connection->server->base, on_delay, u);
    }
    mg_msec_t wait = (mg_msec_t)((-limit) * 1000 / (int64_t)rate) + 1;
    struct timeval tv = {wait / 1000, (wait % 1000) * 1000};
    event_add(*ev, &tv);
    return 0;
}

/* the peer's bytes, through TLS with proxy_ssl */
static ssize_t up_send(proxy_t *u, const char *buf, size_t len)
{
    if (u->ssl) {
        return mg_ssl_send(u->ssl, &u->s->connection->log, buf, len);
    }
    return send(u->fd, buf, len, MSG_NOSIGNAL);
}

static ssize_t up_recv(proxy_t *u, char *buf, size_t len)
{
    if (u->ssl) {
        return mg_ssl_recv(u->ssl, &u->s->connection->log, buf, len);
    }
    return recv(u->fd, buf, len, 0);
}

/* UDP: each datagram goes on as one datagram, at once (one that cannot is dropped, as the
 * network may drop it); the session ends when the peer sent proxy_responses for each request,
 * or at proxy_timeout */
static void proxy_process_udp(proxy_t *u)
{
    mg_stream_session_t *s = u->s;
    mg_connection_t *c = s->connection;
    proxy_conf_t *pcf = mg_stream_get_srv_conf(s, mg_stream_proxy_module);
    char *buf = u->to_up.data;
    for (;;) {
        if (pcf->requests && s->requests >= (mg_uint_t)pcf->requests) {
            break;
        }
        ssize_t n = c->recv(c, buf, u->to_up.size);
        if (n < 0) {
            break;
        }
        if (s->requests++) { /* the first datagram was counted as the session began */
            s->received += n;
        }
        if (pcf->requests && s->requests >= (mg_uint_t)pcf->requests) {
            mg_stream_udp_detach(c); /* the client's next datagrams start a new session */
        }
        if (send(u->fd, buf, (size_t)n, 0) == n) {
            u->sent += n;
            s->upstream_sent = u->sent;
        } else {
            io_error(c, MG_LOG_ERR, errno, "proxying and sending to upstream", "send() failed");
        }
    }
    /* the peer is read only once its (level-triggered) read event came, not at once after a
     * send, and no further than the responses still expected: no recv that finds nothing in
     * the usual exchange; what is left there raises the event again */
    mg_uint_t expected = pcf->responses >= 0 ? (mg_uint_t)pcf->responses * s->requests : 0;
    /* (no request passed yet, a preread phase having taken the datagram: what the peer says
     * goes on, and is read, or its level-triggered event would repeat) */
    while (u->up_rready && (pcf->responses < 0 || s->requests == 0 || u->responses < expected)) {
        ssize_t n = recv(u->fd, buf, u->to_up.size, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                u->up_rready = 0;
                break;
            }
            io_error(c, MG_LOG_ERR, errno, "proxying and reading from upstream", "recv() failed");
            if (u->responses == 0) {
                next_upstream(u);
            } else {
                finalize(u, 200);
            }
            return;
        }
        if (u->received == 0 && u->cur) {
            u->cur->first_byte_time = mg_now.monotonic - u->try_start;
        }
        u->responses++;
        u->received += n;
        s->upstream_received = u->received;
        if (c->send(c, buf, (size_t)n) == n) {
            s->sent += n;
        }
    }
    if (pcf->responses >= 0 && s->requests &&
        u->responses >= (mg_uint_t)pcf->responses * s->requests) {
        mg_stream_log_plain(s, MG_LOG_INFO,
                            "udp done, packets from/to client:%lu/%lu, bytes from/to "
                            "client:%lld/%lld, bytes from/to upstream:%lld/%lld",
                            (unsigned long)s->requests, (unsigned long)u->responses,
                            (long long)s->received, (long long)s->sent, (long long)u->received,
                            (long long)u->sent);
        finalize(u, 200);
        return;
    }
    if (!u->upstream_reading) {
        event_add(u->rev, NULL);
        u->upstream_reading = 1;
    }
    mg_conn_timer_set(c, u->pick.timeout ? u->pick.timeout : pcf->timeout);
}

static void proxy_process(proxy_t *u)
{
    mg_stream_session_t *s = u->s;
    mg_connection_t *c = s->connection;
    proxy_conf_t *pcf = mg_stream_get_srv_conf(s, mg_stream_proxy_module);
    int progress;
    if (c->listening->udp) {
        proxy_process_udp(u);
        return;
    }
    do {
        progress = 0;
        /* client -> upstream */
        pbuf_t *b = &u->to_up;
        if (b->last > b->pos && (u->watch == NULL || u->watch->wready)) {
            ssize_t n = up_send(u, b->data + b->pos, b->last - b->pos);
            if (u->watch) {
                mg_watch_write_said(u->watch, n, b->last - b->pos);
            }
            if (n > 0) {
                b->pos += (size_t)n;
                u->sent += n;
                s->upstream_sent = u->sent;
                progress = 1;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                if (u->ssl == NULL) { /* else core/ssl.c said it */
                    io_error(c, MG_LOG_ERR, errno, "proxying and sending to upstream",
                             "send() failed");
                }
                finalize(u, 502);
                return;
            }
        }
        if (b->pos == b->last) {
            b->pos = b->last = 0;
        }
        if (!u->client_eof && !u->client_delayed && u->client_rready && b->last < b->size) {
            size_t room = b->size - b->last;
            size_t allow = rate_allows(u, pcf->upload_rate, s->received, &u->up_delay);
            if (allow == 0) {
                u->client_delayed = 1;
            } else {
                size_t want = mg_min(room, allow);
                ssize_t n = c->recv(c, b->data + b->last, want);
                /* a short read of a plain socket emptied it: its level-triggered event says
                 * when more comes (TLS may hold a record back: only EAGAIN says empty) */
                if ((n < 0 && errno == EAGAIN) || (n > 0 && (size_t)n < want && c->ssl == NULL)) {
                    u->client_rready = 0;
                }
                if (n > 0) {
                    b->last += (size_t)n;
                    s->received += n;
                    progress = 1;
                } else if (n == 0) {
                    u->client_eof = 1;
                    progress = 1;
                } else if (errno != EAGAIN && errno != EINTR) {
                    u->client_eof = 1;
                    progress = 1;
                    io_error(c, MG_LOG_INFO, errno, "proxying and reading from client",
                             "recv() failed");
                }
            }
        }
        if (u->client_eof && b->pos == b->last && pcf->half_close && !u->upstream_shut) {
            shutdown(u->fd, SHUT_WR);
            u->upstream_shut = 1;
        }
        /* upstream -> client */
        b = &u->to_client;
        if (b->last > b->pos) {
            ssize_t n = c->send(c, b->data + b->pos, b->last - b->pos);
            if (n > 0) {
                b->pos += (size_t)n;
                s->sent += n;
                progress = 1;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                io_error(c, MG_LOG_INFO, errno, "proxying and sending to client", "send() failed");
                finalize(u, 200);
                return;
            }
        }
        if (b->pos == b->last) {
            b->pos = b->last = 0;
        }
        if (!u->upstream_eof && !u->upstream_delayed && (u->watch == NULL || u->watch->rready) &&
            b->last < b->size) {
            size_t room = b->size - b->last;
            size_t allow = rate_allows(u, pcf->download_rate, u->received, &u->down_delay);
            if (allow == 0) {
                u->upstream_delayed = 1;
            } else {
                size_t want = mg_min(room, allow);
                ssize_t n = up_recv(u, b->data + b->last, want);
                if (u->watch) {
                    mg_watch_read_said(u->watch, n, want);
                }
                if (n > 0) {
                    if (u->received == 0 && u->cur) {
                        u->cur->first_byte_time = mg_now.monotonic - u->try_start;
                    }
                    b->last += (size_t)n;
                    u->received += n;
                    s->upstream_received = u->received;
                    progress = 1;
                } else if (n == 0) {
                    u->upstream_eof = 1;
                    progress = 1;
                } else if (errno != EAGAIN && errno != EINTR) {
                    u->upstream_eof = 1;
                    progress = 1;
                    if (u->ssl == NULL) {
                        io_error(c, MG_LOG_ERR, errno, "proxying and reading from upstream",
                                 "recv() failed");
                    }
                }
            }
        }
        if (u->upstream_eof && b->pos == b->last && pcf->half_close && !u->client_shut) {
            shutdown(c->fd, SHUT_WR);
            u->client_shut = 1;
        }
    } while (progress);

    int client_done = u->client_eof && u->to_up.pos == u->to_up.last;
    int upstream_done = u->upstream_eof && u->to_client.pos == u->to_client.last;
    if (pcf->half_close ? (client_done && upstream_done) : (client_done || upstream_done)) {
        mg_stream_log_plain(s, MG_LOG_INFO,
                            "%s disconnected, bytes from/to client:%lld/%lld, bytes from/to "
                            "upstream:%lld/%lld",
                            upstream_done ? "upstream" : "client", (long long)s->received,
                            (long long)s->sent, (long long)u->received, (long long)u->sent);
        finalize(u, 200);
        return;
    }
    /* wait for what can go on */
    if (!u->client_eof && !u->client_delayed && u->to_up.last < u->to_up.size) {
        mg_conn_read_on(c);
    } else {
        mg_conn_read_off(c);
    }
    if (u->to_client.last > u->to_client.pos) {
        mg_conn_write_on(c);
    }
    int want_up_read =
        !u->upstream_eof && !u->upstream_delayed && u->to_client.last < u->to_client.size;
    if (u->watch) {
        /* (no readiness left unused here: the loop above read and wrote while it lasted) */
        if (!want_up_read) {
            mg_watch_read_off(u->watch);
        } else if (u->watch->handler == NULL) {
            mg_watch_read(u->watch, on_upstream_event, u);
        }
        if (u->to_up.last > u->to_up.pos) {
            mg_watch_write(u->watch, on_upstream_event, u);
        } else {
            mg_watch_write_off(u->watch);
        }
    } else if (want_up_read && !u->upstream_reading) {
        event_add(u->rev, NULL);
        u->upstream_reading = 1;
    } else if (!want_up_read && u->upstream_reading) {
        event_del(u->rev);
        u->upstream_reading = 0;
    }
    if (u->to_up.last > u->to_up.pos && u->watch == NULL) {
        event_add(u->wev, NULL);
    }
    if (u->ssl && u->ssl->turn_on) {
        /* TLS: a read that must write first (a key update), a write that must read */
        u->ssl->turn_on = 0;
        if (u->ssl->read_wants_write) {
            event_add(u->wev, NULL);
        }
        if (u->ssl->write_wants_read && !u->upstream_reading) {
            event_add(u->rev, NULL);
            u->upstream_reading = 1;
        }
        u->ssl->read_wants_write = u->ssl->write_wants_read = 0;
    }
    mg_conn_timer_set(c, u->pick.timeout ? u->pick.timeout : pcf->timeout);
}

static void proxy_start(proxy_t *u)
{
    mg_stream_session_t *s = u->s;
    mg_connection_t *c = s->connection;
    u->pick.group = u->group;
    u->pick.log = &c->log;
    u->pick.pool = s->pool;
    u->pick.session = s;
    u->pick.ready = peer_ready;
    if (u->group->balancer->init_request(NULL, &u->pick) != MG_OK) {
        mg_stream_finalize_session(s, 500);
        return;
    }
    u->start = mg_now.monotonic;
    c->read_handler = on_client_read;
    c->write_handler = on_client_write;
    u->client_rready = 1; /* bytes may wait already: one read finds out */
    c->timeout_handler = on_client_timeout;
    proxy_connect(u);
}

static void on_resolved(mg_resolve_t *rs)
{
    proxy_t *u = rs->data;
    u->rs = NULL;
    if (rs->state) {
        mg_log_error(MG_LOG_ERR, &u->s->connection->log, 0, "%.*s could not be resolved (%d: %s)",
                     (int)u->host.len, u->host.data, rs->state, mg_resolve_strerror(rs->state));
        mg_stream_finalize_session(u->s, 500);
        return;
    }
    u->group = mg_upstream_resolved_group(u->s->pool, u->host, u->port, rs);
    u->own_group = 1;
    proxy_start(u);
}

/* proxy_pass with variables: an upstream{} block of that name, an address, or "host:port"
 * asked of the server's resolver. MG_OK (u->group set), MG_DONE (resolving, or the session
 * ended). */
static mg_int_t name_group(proxy_t *u, mg_str_t name)
{
    mg_stream_session_t *s = u->s;
    mg_connection_t *c = s->connection;
    u->group = mg_upstream_group_in(mg_stream_get_main_conf(s, mg_upstream_module), name);
    if (u->group) {
        return MG_OK;
    }
    struct sockaddr_storage ss;
    socklen_t len;
    int wildcard;
    if (mg_listen_parse_addr(name, &ss, &len, &wildcard) == NULL &&
        (ss.ss_family == AF_UNIX || mg_sockaddr_port((struct sockaddr *)&ss) != 0)) {
        mg_upstream_group_t *g = mg_pcalloc(s->pool, sizeof(*g));
        mg_array_init(&g->peers, s->pool, 1, sizeof(mg_upstream_peer_t));
        mg_array_init(&g->backup, s->pool, 1, sizeof(mg_upstream_peer_t));
        mg_upstream_peer_t *p = mg_array_push(&g->peers);
        memset(p, 0, sizeof(*p));
        memcpy(&p->sockaddr, &ss, len);
        p->socklen = len;
        p->name = mg_pstr(s->pool, name.data, name.len);
        p->weight = 1;
        p->max_fails = 1;
        p->fail_timeout = 10000;
        g->balancer = &mg_upstream_round_robin;
        g->balancer->init_group(NULL, g);
        u->group = g;
        u->own_group = 1;
        return MG_OK;
    }
    const char *colon = name.len ? memrchr(name.data, ':', name.len) : NULL;
    int64_t port = colon ? mg_atoi(colon + 1, (size_t)(name.data + name.len - colon - 1)) : -1;
    if (colon == NULL || colon == name.data || port < 1 || port > 65535) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "no port in upstream \"%.*s\"", (int)name.len,
                     name.data);
        mg_stream_finalize_session(s, 500);
        return MG_DONE;
    }
    mg_stream_srv_conf_t *cscf = mg_stream_get_srv_conf(s, mg_stream_core_module);
    u->host = (mg_str_t){(size_t)(colon - name.data), name.data};
    u->port = (in_port_t)port;
    if (cscf->resolver == NULL) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "no resolver defined to resolve %.*s",
                     (int)u->host.len, u->host.data);
        mg_stream_finalize_session(s, 500); /* stream's nginx: 500 (http's says 502) */
        return MG_DONE;
    }
    u->rs =
        mg_resolve_name(c->server, cscf->resolver, u->host, cscf->resolver_timeout, on_resolved, u);
    return MG_DONE;
}

static void proxy_handler(mg_stream_session_t *s)
{
    proxy_conf_t *pcf = mg_stream_get_srv_conf(s, mg_stream_proxy_module);
    proxy_t *u = mg_pcalloc(s->pool, sizeof(proxy_t));
    u->s = s;
    u->fd = -1;
    s->upstream = u;
    s->cleanup = proxy_cleanup;
    mg_array_init(&u->tries, s->pool, 2, sizeof(proxy_try_t));
    u->to_up.size = u->to_client.size = pcf->buffer_size;
    u->to_up.data = mg_palloc(s->pool, pcf->buffer_size);
    if (!s->connection->listening->udp) { /* UDP passes each datagram through to_up's */
        u->to_client.data = mg_palloc(s->pool, pcf->buffer_size);
    }
    if (s->preread_len) {
        /* what the preread phase (or the PROXY protocol header's read) took */
        if (s->preread_len > pcf->buffer_size) {
            mg_log_error(MG_LOG_ERR, &s->connection->log, 0, "no enough space for initial data");
            mg_stream_finalize_session(s, 500);
            return;
        }
        memcpy(u->to_up.data, s->preread, s->preread_len);
        u->to_up.last = s->preread_len;
    }
    u->group = pcf->group;
    if (pcf->value && name_group(u, mg_stream_complex_value(s, pcf->value)) != MG_OK) {
        return;
    }
    proxy_start(u);
}

/* ---- configuration ---- */

mg_upstream_group_t *mg_stream_proxy_target(void *srv_conf, mg_msec_t *connect_timeout)
{
    proxy_conf_t *pcf = srv_conf;
    *connect_timeout = pcf->connect_timeout;
    return pcf->value ? NULL : pcf->group;
}

static void *proxy_create_srv_conf(mg_conf_t *cf)
{
    proxy_conf_t *p = mg_pcalloc(cf->pool, sizeof(proxy_conf_t));
    p->connect_timeout = MG_CONF_UNSET;
    p->timeout = MG_CONF_UNSET;
    p->next_upstream_timeout = MG_CONF_UNSET;
    p->next_upstream_tries = MG_CONF_UNSET;
    p->next_upstream = MG_CONF_UNSET;
    p->buffer_size = MG_CONF_UNSET_SIZE;
    p->download_rate = MG_CONF_UNSET_SIZE;
    p->upload_rate = MG_CONF_UNSET_SIZE;
    p->proxy_protocol = MG_CONF_UNSET;
    p->socket_keepalive = MG_CONF_UNSET;
    p->half_close = MG_CONF_UNSET;
    p->responses = MG_CONF_UNSET;
    p->requests = MG_CONF_UNSET;
    return p;
}

static const char *proxy_merge_srv_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    proxy_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->connect_timeout, prev->connect_timeout, 60000);
    mg_conf_merge(conf->timeout, prev->timeout, 600000);
    mg_conf_merge(conf->next_upstream_timeout, prev->next_upstream_timeout, 0);
    mg_conf_merge(conf->next_upstream_tries, prev->next_upstream_tries, 0);
    mg_conf_merge(conf->next_upstream, prev->next_upstream, 1);
    mg_conf_merge_size(conf->buffer_size, prev->buffer_size, 16384);
    mg_conf_merge_size(conf->download_rate, prev->download_rate, 0);
    mg_conf_merge_size(conf->upload_rate, prev->upload_rate, 0);
    mg_conf_merge(conf->proxy_protocol, prev->proxy_protocol, 0);
    mg_conf_merge(conf->socket_keepalive, prev->socket_keepalive, 0);
    mg_conf_merge(conf->half_close, prev->half_close, 0);
    mg_conf_merge(conf->responses, prev->responses, -2);
    mg_conf_merge(conf->requests, prev->requests, 0);
    if (!conf->bind_set) {
        conf->bind = prev->bind;
        conf->bind_transparent = prev->bind_transparent;
    }
    return MG_CONF_OK;
}

static const char *proxy_pass(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    proxy_conf_t *pcf = conf;
    mg_stream_srv_conf_t *cscf = mg_stream_conf_get_srv(cf, mg_stream_core_module);
    if (pcf->group || pcf->value) {
        return "is duplicate";
    }
    /* as nginx's: beside return, the later of the two is the server's handler */
    cscf->handler = proxy_handler;
    mg_str_t v = cf->args[1];
    if (memchr(v.data, '$', v.len)) {
        pcf->value = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
        return mg_stream_complex_compile(cf, v, pcf->value);
    }
    pcf->group = mg_upstream_group_ref(cf, v, 0);
    return pcf->group ? MG_CONF_OK : MG_CONF_ERROR;
}

static const char *proxy_bind(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    proxy_conf_t *pcf = conf;
    if (pcf->bind_set) {
        return "is duplicate";
    }
    pcf->bind_set = 1;
    if (mg_str_eq(cf->args[1], "off")) {
        return MG_CONF_OK;
    }
    if (cf->nargs == 3) {
        if (!mg_str_eq(cf->args[2], "transparent")) {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", cf->args[2].data);
            return MG_CONF_ERROR;
        }
        pcf->bind_transparent = 1;
    }
    pcf->bind = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
    const char *rv = mg_stream_complex_compile(cf, cf->args[1], pcf->bind);
    if (rv != MG_CONF_OK || pcf->bind->has_vars) {
        return rv;
    }
    struct sockaddr_storage ss;
    socklen_t len;
    int wildcard;
    if (mg_listen_parse_addr(cf->args[1], &ss, &len, &wildcard) != NULL) {
        mg_conf_error(cf, 0, "invalid address \"%s\"", cf->args[1].data);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static mg_str_t v_upstream(mg_stream_session_t *s, uintptr_t which)
{
    proxy_t *u = s->upstream;
    if (u == NULL || u->tries.nelts == 0) {
        return (mg_str_t)mg_null_string;
    }
    if (u->cur) {
        u->cur->sent = u->sent;
        u->cur->received = u->received;
    }
    proxy_try_t *t = u->tries.elts;
    size_t len = 0;
    for (size_t i = 0; i < u->tries.nelts; i++) {
        len += t[i].name.len + 32;
    }
    char *out = mg_pnalloc(s->pool, len + 1), *p = out, *end = out + len;
    for (size_t i = 0; i < u->tries.nelts; i++) {
        if (i) {
            p = mg_sprintf_end(p, end, ", ");
        }
        switch (which) {
        case 0:
            p = mg_sprintf_end(p, end, "%.*s", (int)t[i].name.len, t[i].name.data);
            break;
        case 1:
            p = mg_sprintf_end(p, end, "%lld", (long long)t[i].sent);
            break;
        case 2:
            p = mg_sprintf_end(p, end, "%lld", (long long)t[i].received);
            break;
        default: {
            mg_msec_t ms = which == 3   ? t[i].connect_time
                           : which == 4 ? t[i].first_byte_time
                                        : t[i].session_time;
            if (ms < 0) {
                p = mg_sprintf_end(p, end, "-");
            } else {
                p = mg_sprintf_end(p, end, "%lld.%03lld", (long long)(ms / 1000),
                                   (long long)(ms % 1000));
            }
        }
        }
    }
    return (mg_str_t){(size_t)(p - out), out};
}

static mg_int_t proxy_init(mg_conf_t *cf)
{
    static const char *names[] = {
        "upstream_addr",         "upstream_bytes_sent",      "upstream_bytes_received",
        "upstream_connect_time", "upstream_first_byte_time", "upstream_session_time"};
    for (size_t i = 0; i < mg_nelems(names); i++) {
        mg_stream_variable_add(cf, names[i], v_upstream, i);
    }
    return MG_OK;
}

#define SRV(f) MG_SRV_CONF, offsetof(proxy_conf_t, f)
#define STREAM_SRV (MG_CTX_STREAM | MG_CTX_STREAM_SRV)

static const mg_command_t proxy_commands[] = {
    {"proxy_pass", MG_CTX_STREAM_SRV, MG_ARGS(1, 1), proxy_pass, MG_SRV_CONF, 0, NULL},
    {"proxy_bind", STREAM_SRV, MG_ARGS(1, 2), proxy_bind, MG_SRV_CONF, 0, NULL},
    {"proxy_connect_timeout", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_msec, SRV(connect_timeout),
     NULL},
    {"proxy_timeout", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_msec, SRV(timeout), NULL},
    {"proxy_next_upstream", STREAM_SRV, MG_FLAG, mg_conf_set_flag, SRV(next_upstream), NULL},
    {"proxy_next_upstream_tries", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_num,
     SRV(next_upstream_tries), NULL},
    {"proxy_next_upstream_timeout", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_msec,
     SRV(next_upstream_timeout), NULL},
    {"proxy_buffer_size", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_size, SRV(buffer_size), NULL},
    {"proxy_download_rate", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_size, SRV(download_rate), NULL},
    {"proxy_upload_rate", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_size, SRV(upload_rate), NULL},
    {"proxy_protocol", STREAM_SRV, MG_FLAG, mg_conf_set_flag, SRV(proxy_protocol), NULL},
    {"proxy_socket_keepalive", STREAM_SRV, MG_FLAG, mg_conf_set_flag, SRV(socket_keepalive), NULL},
    {"proxy_half_close", STREAM_SRV, MG_FLAG, mg_conf_set_flag, SRV(half_close), NULL},
    {"proxy_responses", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_num, SRV(responses), NULL},
    {"proxy_requests", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_num, SRV(requests), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const mg_stream_module_t proxy_stream = {
    .create_srv_conf = proxy_create_srv_conf,
    .merge_srv_conf = proxy_merge_srv_conf,
    .init = proxy_init,
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t proxy_defaults[] = {
    {"proxy_pass", MG_NO_DEFAULT},
    {"proxy_bind", MG_NO_DEFAULT},
    {"proxy_responses", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_stream_proxy_module = {
    .name = "stream_proxy",
    .commands = proxy_commands,
    .defaults = proxy_defaults,
    .stream = &proxy_stream,
};
