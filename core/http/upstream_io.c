/*
 * The upstream engine (see upstream_io.h): one try after another, each a connection (an idle
 * keepalive one or a nonblocking connect, then for https the TLS handshake under
 * proxy_connect_timeout), the request sent, the response head read
 * (upstream_head.c), then the body streamed to the client with bounded buffers, or the tunnel
 * (upstream_tunnel.c); next upstream and the request's end.
 *
 * State lives in the request pool (mg_upstream_t; its connection, malloc'ed, goes on to the
 * keepalive pool or is freed at close); a pool cleanup closes the upstream socket and releases
 * the peer when the request ends for any reason (a client
 * that went away included).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cache.h"
#include "conn.h"
#include "metrics.h"
#include "server.h"
#include "ssl_client.h"
#include "upstream_int.h"

static void connect_try(mg_upstream_t *u);
static void body_broken(mg_upstream_t *u);
static void body_cut(mg_upstream_t *u, int failed);
static void send_request(mg_upstream_t *u);
static void read_body(mg_upstream_t *u);
static void watch_client(mg_upstream_t *u);
static void unwatch_client(mg_request_t *r);

static struct event_base *ubase(mg_upstream_t *u)
{
    return u->r->connection->server->base;
}

/* ---- the upstream connection's events ---- */

static void ev_read(evutil_socket_t fd, short what, void *arg);
static void ev_write(evutil_socket_t fd, short what, void *arg);
static void on_timer(void *arg);

void mg_upstream_conn_read_on(mg_upstream_t *u)
{
    if (!u->conn->reading) {
        u->conn->reading = 1;
        mg_watch_read(u->conn->watch, ev_read, u);
    }
    mg_watch_read_known(u->conn->watch);
}

void mg_upstream_conn_read_off(mg_upstream_t *u)
{
    u->conn->reading = 0;
    mg_watch_read_off(u->conn->watch);
}

void mg_upstream_conn_write_on(mg_upstream_t *u)
{
    mg_upstream_conn_t *uc = u->conn;
    uc->writing = 1;
    if (!uc->watch->et) {
        if (!uc->wev_set) { /* a level-triggered watch's (TLS, drivers): made when first used
                             * by the owner (a kept connection's next try sets it again) */
            event_assign(&uc->wev, ubase(u), uc->fd, EV_WRITE, ev_write, u);
            uc->wev_set = 1;
        }
        event_add(&uc->wev, NULL);
        return;
    }
    mg_watch_write(u->conn->watch, ev_write, u);
}

void mg_upstream_conn_write_off(mg_upstream_t *u)
{
    if (u->conn->writing) {
        u->conn->writing = 0;
        if (u->conn->watch->et) {
            mg_watch_write_off(u->conn->watch);
        } else {
            event_del(&u->conn->wev);
        }
    }
}

void mg_upstream_conn_timer(mg_upstream_t *u, mg_msec_t msec)
{
    mg_lazy_timer_set(&u->conn->timer, msec);
}

void mg_upstream_conn_timer_del(mg_upstream_t *u)
{
    mg_lazy_timer_del(&u->conn->timer);
}

static void conn_events_off(mg_upstream_conn_t *uc)
{
    mg_watch_quiet(uc->watch);
    if (uc->writing) {
        event_del(&uc->wev);
    }
    mg_lazy_timer_del(&uc->timer);
    uc->reading = uc->writing = 0;
}

void mg_upstream_conn_close(mg_upstream_conn_t *uc)
{
    mg_watch_free(uc->watch);
    mg_upstream_h2_conn_free(uc->proto);
    if (uc->ssl) {
        mg_ssl_close(uc->ssl); /* close_notify, as nginx's */
    }
    close(uc->fd);
    mg_lazy_timer_free(&uc->timer);
    free(uc);
}

/* A new connection's (a socket not connected yet) */
static mg_upstream_conn_t *conn_new(mg_upstream_t *u, int fd, mg_upstream_peer_t *peer)
{
    mg_upstream_conn_t *uc = mg_calloc(sizeof(*uc));
    uc->fd = fd;
    uc->peer = peer;
    uc->watch = u->ssl_ctx == NULL && u->driver == NULL
                    ? mg_watch_new_et(ubase(u), fd) /* added once connect() was called */
                    : NULL;
    if (uc->watch == NULL) {
        uc->watch = mg_watch_new(ubase(u), fd);
    }
    mg_lazy_timer_init(&uc->timer, mg_server_timers(u->r->connection->server), on_timer, u);
    return uc;
}

/* A kept connection's next try: the same object, the handlers the new owner's */
static mg_upstream_conn_t *conn_take(mg_upstream_t *u, mg_upstream_conn_t *uc,
                                     mg_upstream_peer_t *peer)
{
    uc->peer = peer;
    uc->reading = uc->writing = uc->got_bytes = uc->handshaking = uc->wev_set = 0;
    uc->reused = 1;
    uc->requests++;
    mg_lazy_timer_bind(&uc->timer, on_timer, u);
    return uc;
}

/* Close the try's connection, or keep it for the next request when it is clean. */
static void conn_release(mg_upstream_t *u, int keep)
{
    mg_upstream_conn_t *uc = u->conn;
    if (uc == NULL) {
        return;
    }
    conn_events_off(uc);
    u->conn = NULL;
    /* a connection made with a request's own certificate (proxy_ssl_certificate with
     * variables) is nobody else's */
    if (keep && u->group && uc->peer && !u->ssl_certificate.len) {
        mg_debug_http(&u->r->connection->log, "free keepalive peer: saving connection %p",
                      (void *)uc);
        if (uc->ssl) {
            uc->ssl->save_session = NULL; /* while idle, nobody's */
        }
        mg_upstream_keepalive_put(u->group, uc->peer, u->r, uc, u->pick.keepalive);
    } else {
        mg_debug_http(&u->r->connection->log, "close http upstream connection: %d", uc->fd);
        mg_upstream_conn_close(uc);
    }
}

/* ---- the connection's I/O, plain or TLS ---- */

/* A TLS operation that waits for the other event too (a key update) turns it on. */
static void ssl_turn_on(mg_upstream_t *u)
{
    mg_ssl_conn_t *sc = u->conn->ssl;
    if (sc->turn_on) {
        sc->turn_on = 0;
        if (sc->read_wants_write) {
            mg_upstream_conn_write_on(u);
        }
        if (sc->write_wants_read) {
            mg_upstream_conn_read_on(u);
        }
    }
}

void mg_upstream_write_blocked(mg_upstream_t *u)
{
    u->conn->watch->wready = 0;
}

ssize_t mg_upstream_recv(mg_upstream_t *u, char *buf, size_t len)
{
    if (u->conn->ssl == NULL) {
        ssize_t n = recv(u->conn->fd, buf, len, 0);
        if (u->conn->watch->et) {
            mg_watch_read_said(u->conn->watch, n, len);
        }
        return n;
    }
    ssize_t n = mg_ssl_recv(u->conn->ssl, mg_upstream_log(u), buf, len);
    ssl_turn_on(u);
    return n;
}

/* (static, and the two exported readers below around one static body: -fPIC would call the
 * exported ones through the PLT, and an unbuffered body makes a read per proxy_buffer_size) */
static ssize_t recvv(mg_upstream_t *u, struct iovec *iov, int cnt)
{
    if (cnt == 1) {
        return mg_upstream_recv(u, iov[0].iov_base, iov[0].iov_len);
    }
    if (u->conn->ssl != NULL) {
        /* SSL_read into each buffer in turn, until the socket is empty or they are full */
        ssize_t n = mg_ssl_recv_chain(u->conn->ssl, mg_upstream_log(u), iov, cnt);
        ssl_turn_on(u);
        return n;
    }
    ssize_t n = readv(u->conn->fd, iov, cnt);
    if (u->conn->watch->et) {
        size_t len = 0;
        for (int i = 0; i < cnt; i++) {
            len += iov[i].iov_len;
        }
        mg_watch_read_said(u->conn->watch, n, len);
    }
    return n;
}

ssize_t mg_upstream_send(mg_upstream_t *u, const char *buf, size_t len)
{
    if (u->conn->ssl == NULL) {
        ssize_t n = send(u->conn->fd, buf, len, MSG_NOSIGNAL);
        if (u->conn->watch->et) {
            mg_watch_write_said(u->conn->watch, n, len);
        }
        return n;
    }
    ssize_t n = mg_ssl_send(u->conn->ssl, mg_upstream_log(u), buf, len);
    ssl_turn_on(u);
    return n;
}

ssize_t mg_upstream_sendv(mg_upstream_t *u, const struct iovec *iov, int cnt)
{
    if (u->conn->ssl == NULL) {
        struct msghdr mh;
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = (struct iovec *)iov;
        mh.msg_iovlen = (size_t)cnt;
        ssize_t n = sendmsg(u->conn->fd, &mh, MSG_NOSIGNAL);
        if (u->conn->watch->et) {
            size_t len = 0;
            for (int i = 0; i < cnt; i++) {
                len += iov[i].iov_len;
            }
            mg_watch_write_said(u->conn->watch, n, len);
        }
        return n;
    }
    ssize_t n = mg_ssl_send_chain(u->conn->ssl, mg_upstream_log(u), iov, cnt);
    ssl_turn_on(u);
    return n;
}

static void free_peer(mg_upstream_t *u, int outcome)
{
    if (u->single == NULL && u->group && u->pick.peer) {
        mg_upstream_peer_t *peer = u->pick.peer;
        u->group->balancer->free_peer(&u->pick, outcome);
        /* moongate_upstream_peer_up: the state this worker now sees, for all to show */
        int failed = peer->max_fails && peer->fails >= (mg_uint_t)peer->max_fails;
        mg_metrics_peer_state(u->r->connection->cycle->metrics, &peer->metrics, u->group->name,
                              peer->name, failed ? peer->checked + peer->fail_timeout : 0);
    }
    u->pick.peer = NULL;
}

static void state_end(mg_upstream_t *u)
{
    if (u->state && u->state->response_time < 0) {
        u->state->response_time = mg_now.monotonic - u->state->start;
        mg_metrics_upstream_try(u->r->connection->cycle->metrics,
                                u->group ? u->group->metrics : NULL,
                                u->group ? u->group->name : u->state->addr,
                                u->state->status ? u->state->response_time : -1);
    }
}

static void cleanup(void *data)
{
    mg_upstream_t *u = data;
    if (u->done) {
        return;
    }
    u->done = 1;
    unwatch_client(u->r);
    conn_release(u, 0);
    free_peer(u, MG_PEER_OK);
    if (u->tunnel) {
        mg_conn_read_off(u->r->connection);
    }
}

/* The exchange is over (the engine's part): nothing more happens on the upstream side. */
void mg_upstream_done(mg_upstream_t *u, int keep)
{
    state_end(u);
    conn_release(u, keep);
    free_peer(u, MG_PEER_OK);
    u->done = 1;
    unwatch_client(u->r);
    u->r->write_event_handler = NULL;
}

/* An empty flush buffer down the filters: what the writer holds back for postpone_output
 * goes out. The output's result. */
static mg_int_t flush_output(mg_request_t *r)
{
    mg_buf_t *f = mg_buf_mem(r->pool, "", 0);
    f->flush = 1;
    return mg_http_output(r, f);
}

void mg_upstream_release(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    if (r->reading_body && mg_upstream_body_stream(u)) {
        /* as in finalize: the rest of an unbuffered body is not read, nor the connection kept */
        r->reading_body = 0;
        r->keepalive = 0;
        mg_conn_timer_del(r->connection);
        mg_conn_read_off(r->connection);
    }
    mg_upstream_done(u, 0);
}

void mg_upstream_finalize(mg_upstream_t *u, mg_int_t rc)
{
    mg_request_t *r = u->r;
    if (r->reading_body && mg_upstream_body_stream(u)) {
        /* an unbuffered body's rest is the connection's to drop now */
        r->reading_body = 0;
        mg_conn_timer_del(r->connection);
        mg_conn_read_off(r->connection);
    }
    if (!u->done) {
        state_end(u);
        conn_release(u, 0);
        free_peer(u, MG_PEER_OK);
        u->done = 1;
    }
    unwatch_client(r);
    r->write_event_handler = NULL;
    if (u->finalize) {
        u->finalize(u, rc);
    }
    if (rc == MG_ERROR && r->header_sent) {
        r->keepalive = 0;
        if (r->parent) {
            /* nginx's upstream ends such a response with a flush, not an error: an include
             * cut off ends cut, the page goes on */
            mg_http_subrequest_source_cut(r);
        }
        if (r->parent == NULL && !r->connection->closed && !u->invalid_body &&
            !u->downstream_error) {
            /* as nginx, what the writer holds back for postpone_output goes out before the
             * connection is closed */
            flush_output(r);
        }
    }
    /* nginx's context from here on: what a named location an error_page sends the request to
     * logs says "while sending to client" (an internal redirect clears it) */
    r->connection->log.action = "sending to client";
    mg_http_finalize_request(r, rc == MG_OK ? MG_AGAIN : rc);
}

/* ---- next upstream ---- */

int mg_upstream_can_retry(mg_upstream_t *u, mg_uint_t ft)
{
    mg_upstream_conf_t *conf = u->conf;
    if (u->header_sent || u->single || u->body_sent || (conf->next_upstream & MG_UPSTREAM_FT_OFF) ||
        !(conf->next_upstream & ft)) {
        return 0;
    }
    if (!u->idempotent && u->sent_this_try &&
        !(conf->next_upstream & MG_UPSTREAM_FT_NON_IDEMPOTENT)) {
        return 0;
    }
    if (conf->next_upstream_tries && u->tries >= conf->next_upstream_tries) {
        return 0;
    }
    if (conf->next_upstream_timeout && mg_now.monotonic - u->start >= conf->next_upstream_timeout) {
        return 0;
    }
    /* the group's limit (peers not "down"); the balancer also answers MG_BUSY when all
     * were tried */
    mg_uint_t max = u->pick.max_tries ? u->pick.max_tries : u->group ? u->group->max_tries : 1;
    if (max == 0 && u->group) {
        max = u->group->peers.nelts + u->group->backup.nelts;
    }
    return u->tries < max;
}

/* timed_out: the timer's; its error is logged after the peer's verdict, as nginx's order
 * ("upstream server temporarily disabled" first) */
static void next_try(mg_upstream_t *u, mg_uint_t ft, int timed_out)
{
    mg_uint_t status =
        ft == MG_UPSTREAM_FT_TIMEOUT ? MG_HTTP_GATEWAY_TIME_OUT : MG_HTTP_BAD_GATEWAY;
    int cached = u->conn && u->conn->reused;
    mg_upstream_peer_t *peer = u->conn ? u->conn->peer : NULL;
    if (u->state && (u->state->status == 0 || ft & (MG_UPSTREAM_FT_ERROR | MG_UPSTREAM_FT_TIMEOUT |
                                                    MG_UPSTREAM_FT_INVALID_HEADER))) {
        u->state->status = status;
    }
    state_end(u);
    conn_release(u, 0);
    free_peer(u, ft == MG_UPSTREAM_FT_HTTP_403 || ft == MG_UPSTREAM_FT_HTTP_404 ? MG_PEER_NEXT
                                                                                : MG_PEER_FAILED);
    if (cached && ft == MG_UPSTREAM_FT_ERROR) {
        /* as nginx: a kept connection's error (closed while idle, or in the middle of a
         * response head) does not use up a try; the peer is told all the same, and the
         * rules of *_next_upstream (error, non_idempotent) still decide */
        u->tries--;
    }
    if (timed_out) {
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), ETIMEDOUT, "upstream timed out");
    }
    if (mg_upstream_can_retry(u, ft)) {
        if (cached && ft == MG_UPSTREAM_FT_ERROR && u->group->peers.nelts == 1 &&
            u->group->backup.nelts == 0) {
            u->pick.peer = peer; /* a lone peer is tried again (the balancer calls it tried) */
        }
        connect_try(u);
        return;
    }
    mg_int_t rc;
    if (u->r->cache && mg_http_cache_stale(u, ft, &rc)) {
        if (rc != MG_DONE) {             /* MG_DONE: its X-Accel-Redirect redirected */
            mg_upstream_finalize(u, rc); /* an expired cache entry answered */
        }
        return;
    }
    mg_upstream_finalize(u, (mg_int_t)status);
}

void mg_upstream_next(mg_upstream_t *u, mg_uint_t ft)
{
    next_try(u, ft, 0);
}

/* ---- connect ---- */

/* The name nginx sends and checks: proxy_ssl_name's value without a port. */
static mg_str_t ssl_name(mg_upstream_t *u)
{
    return mg_ssl_client_host(u->ssl_name);
}

static void ssl_handshake(mg_upstream_t *u)
{
    mg_upstream_conn_t *uc = u->conn;
    mg_request_t *r = u->r;
    r->connection->log.action = "SSL handshaking to upstream";
    mg_int_t rc = mg_ssl_handshake_step(uc->ssl, mg_upstream_log(u));
    if (rc == MG_AGAIN) {
        if (uc->ssl->want_write) {
            mg_upstream_conn_read_off(u);
            mg_upstream_conn_write_on(u);
        } else {
            mg_upstream_conn_write_off(u);
            mg_upstream_conn_read_on(u);
        }
        return; /* under proxy_connect_timeout, armed at the start */
    }
    uc->handshaking = 0;
    mg_upstream_conn_timer_del(u);
    mg_upstream_conn_read_off(u);
    mg_upstream_conn_write_off(u);
    if (rc != MG_OK) {
        mg_upstream_next(u, MG_UPSTREAM_FT_ERROR);
        return;
    }
    if (u->ssl_verify && mg_ssl_client_verify(uc->ssl, mg_upstream_log(u), ssl_name(u)) != MG_OK) {
        mg_upstream_next(u, MG_UPSTREAM_FT_ERROR);
        return;
    }
    u->state->connect_time = mg_now.monotonic - u->state->start;
    send_request(u);
}

/* https: a TLS state on the new connection (the peer's last session offered), then the
 * handshake, which proxy_connect_timeout covers as nginx's */
static void ssl_start(mg_upstream_t *u)
{
    mg_upstream_conn_t *uc = u->conn;
    mg_request_t *r = u->r;
    mg_str_t name = ssl_name(u);
    char *sni = NULL;
    if (u->ssl_server_name && name.len) {
        sni = mg_pstrdup(r->pool, name.data, name.len);
    }
    mg_upstream_peer_t *peer = uc->peer;
    int reuse = u->ssl_session_reuse && u->single == NULL;
    /* Unlike nginx, a location with other proxy_ssl_* settings (another client certificate, or
     * none) does not resume the peer's session: it carries the identity it was made with. */
    uc->ssl = mg_ssl_client_peer_new(u->ssl_ctx, uc->fd, mg_upstream_log(u), sni,
                                     reuse ? mg_upstream_peer_session(peer) : NULL,
                                     r->connection->cycle->pool);
    /* as nginx's contexts: OpenSSL reads the socket as far as its buffer goes, not a record's
     * header then its body (a 64 KiB response: 6 reads, not 12); a read that fills the
     * caller's buffers may leave bytes in OpenSSL, which the caller reads next as it does a
     * record's rest (a short read still means the socket was empty) */
    SSL_set_read_ahead(uc->ssl->ssl, 1);
    if (u->ssl_certificate.len &&
        mg_http_ssl_use_pair(r->connection, r->pool, uc->ssl->ssl, u->ssl_certificate,
                             u->ssl_certificate_key, u->ssl_passwords) != MG_OK) {
        /* nginx's answer to a pair it cannot load */
        mg_upstream_finalize(u, MG_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    if (u->ssl_session_reuse) {
        /* as nginx: a resumed handshake's client speaks last (its Finished, then the request
         * in a second write); it is set whether or not a session is offered */
        mg_upstream_conn_nodelay(u);
    }
    uc->handshaking = 1;
    mg_upstream_conn_timer(u, u->conf->connect_timeout);
    ssl_handshake(u);
}

static void on_connected(mg_upstream_t *u)
{
    if (u->ssl_ctx) {
        ssl_start(u);
        return;
    }
    u->state->connect_time = mg_now.monotonic - u->state->start;
    send_request(u);
}

static void connect_failed(mg_upstream_t *u, int err)
{
    mg_log_error(MG_LOG_ERR, mg_upstream_log(u), err, "connect() failed");
    mg_upstream_next(u, MG_UPSTREAM_FT_ERROR);
}

/* A try's entry for the $upstream_* variables, made the current one. */
static mg_upstream_state_t *push_state(mg_upstream_t *u)
{
    mg_upstream_state_t *st = mg_array_push(&u->states);
    memset(st, 0, sizeof(*st));
    st->connect_time = st->header_time = st->response_time = -1;
    st->redirected = u->states_before > 0 && u->states.nelts == u->states_before + 1;
    u->state = st;
    return st;
}

/* What a balancer's get_peer answered other than a peer: 1 when the try ended here. */
static int peer_failed(mg_upstream_t *u, mg_int_t rc)
{
    if (rc == MG_ERROR) {
        u->pick.peer = NULL;
        mg_upstream_finalize(u, MG_HTTP_INTERNAL_SERVER_ERROR);
        return 1;
    }
    if (rc == MG_DECLINED) {
        /* the balancer's code gave up on this try (ngx.exit(ngx.DECLINED)) */
        u->pick.peer = NULL;
        u->tries++;
        mg_upstream_state_t *st = push_state(u);
        st->addr = u->group->name;
        st->start = mg_now.monotonic;
        mg_upstream_next(u, MG_UPSTREAM_FT_ERROR);
        return 1;
    }
    if (rc != MG_OK || u->pick.peer == NULL) {
        u->pick.peer = NULL;
        mg_upstream_state_t *st = push_state(u);
        st->addr = u->group->name;
        st->status = MG_HTTP_BAD_GATEWAY;
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "no live upstreams");
        st->response_time = 0;
        mg_upstream_finalize(u, MG_HTTP_BAD_GATEWAY);
        return 1;
    }
    return 0;
}

static void connect_peer(mg_upstream_t *u, mg_upstream_peer_t *peer);

static void connect_try(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_upstream_peer_t *peer;
    if (u->pick.peer) {
        peer = u->pick.peer; /* a retry on the same peer after a stale keepalive connection */
    } else if (u->single) {
        peer = u->single;
        u->pick.peer = peer;
    } else {
        r->connection->log.action = "connecting to upstream";
        mg_int_t rc = u->group->balancer->get_peer(&u->pick);
        if (rc == MG_AGAIN) {
            return; /* the balancer calls mg_upstream_peer_ready */
        }
        if (peer_failed(u, rc)) {
            return;
        }
        peer = u->pick.peer;
    }
    connect_peer(u, peer);
}

void mg_upstream_peer_ready(mg_upstream_pick_t *pick, mg_int_t rc)
{
    if (pick->r == NULL) {
        pick->ready(pick, rc); /* a stream session's */
        return;
    }
    mg_upstream_t *u = pick->r->upstream;
    if (u == NULL || u->done || peer_failed(u, rc)) {
        return;
    }
    connect_peer(u, u->pick.peer);
}

static void connect_peer(mg_upstream_t *u, mg_upstream_peer_t *peer)
{
    mg_request_t *r = u->r;
    u->tries++;
    mg_upstream_state_t *st = push_state(u);
    st->addr = peer->name;
    st->start = mg_now.monotonic;
    u->hlen = 0;
    u->sent_this_try = 0;
    u->request_sent = 0;
    u->early = 0;
    u->decoded_end = 0;
    if (u->reinit) {
        u->reinit(u);
    }
    u->send_pos = u->request_bufs;
    u->send_off = u->request_bufs ? u->request_bufs->pos : NULL;
    u->send_file_pos = u->request_bufs ? u->request_bufs->file_pos : 0;
    r->connection->log.action = "connecting to upstream";

    mg_upstream_conn_t *kept = u->group && !u->ssl_certificate.len
                                   ? mg_upstream_keepalive_get(u->group, peer, r, u->pick.keepalive,
                                                               u->ssl_ctx, u->driver != NULL)
                                   : NULL;
    if (kept) {
        u->conn = conn_take(u, kept, peer);
        mg_debug_http(&r->connection->log, "get keepalive peer: using connection %p",
                      (void *)u->conn);
        mg_ssl_conn_t *ssl = u->conn->ssl;
        mg_ssl_client_session_t *keep = mg_upstream_peer_session(peer);
        if (ssl && u->ssl_session_reuse && u->single == NULL && keep) {
            mg_ssl_client_keep_session(ssl, keep, r->connection->cycle->pool);
        }
        st->connect_time = 0;
        send_request(u);
        return;
    }
    int fd = socket(peer->sockaddr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mg_log_error(MG_LOG_ALERT, mg_upstream_log(u), errno, "socket() failed");
        mg_upstream_next(u, MG_UPSTREAM_FT_ERROR);
        return;
    }
    /* nginx numbers an upstream connection like an accepted one: the next client's $connection
     * is one further on */
    (void)mg_conn_number(r->connection->server, r->connection->cycle);
    u->conn = conn_new(u, fd, peer);
    u->conn->requests = 1;
    u->conn->created = mg_now.monotonic;
    if (mg_upstream_socket_options(u, fd, peer) != MG_OK) {
        mg_upstream_finalize(u, MG_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    mg_debug_event(&r->connection->log, "connect to %.*s, fd:%d #%lu", (int)peer->name.len,
                   peer->name.data, fd, (unsigned long)r->connection->number);
    int rc = connect(fd, (struct sockaddr *)&peer->sockaddr, peer->socklen);
    if (u->conn->watch->et && (rc == 0 || errno == EINPROGRESS)) {
        mg_watch_add(u->conn->watch, rc == 0);
    }
    if (rc == 0) {
        mg_debug_http(&r->connection->log, "http upstream connect: %d", 0);
        on_connected(u);
        return;
    }
    /* nginx's NGX_AGAIN (-2) when the connect is in progress */
    mg_debug_http(&r->connection->log, "http upstream connect: %d", errno == EINPROGRESS ? -2 : -1);
    if (errno != EINPROGRESS) {
        /* as nginx: a connect() that fails at once names the peer (unix-domain sockets
         * fail so, e.g. a missing path), at crit level unless the error is the network's */
        int err = errno;
        int net = err == ECONNREFUSED || err == EAGAIN || err == ECONNRESET || err == ENETDOWN ||
                  err == ENETUNREACH || err == EHOSTDOWN || err == EHOSTUNREACH;
        mg_log_error(net ? MG_LOG_ERR : MG_LOG_CRIT, mg_upstream_log(u), err,
                     "connect() to %.*s failed", (int)peer->name.len, peer->name.data);
        mg_upstream_next(u, MG_UPSTREAM_FT_ERROR);
        return;
    }
    mg_upstream_conn_write_on(u);
    mg_upstream_conn_timer(u, u->conf->connect_timeout);
}

/* ---- send ---- */

/* A client's error while the body is being passed on: nothing more goes upstream */
static void body_failed(mg_upstream_t *u, mg_int_t status)
{
    mg_upstream_finalize(u, u->header_sent ? MG_ERROR : status);
}

static void send_request(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    if (r->request_body_no_buffering) {
        /* as nginx: the body goes on in pieces as they come, each one at once */
        mg_upstream_conn_nodelay(u);
    }
    if (u->driver) {
        if (u->hbuf == NULL) {
            u->hbuf = mg_pnalloc(r->pool, u->conf->buffer_size);
            u->hsize = u->conf->buffer_size;
        }
        u->driver->start(u);
        return;
    }
    if (u->early) {
        return; /* the upstream answered already: nothing more goes on this connection */
    }
    r->connection->log.action = "sending request to upstream";
    mg_debug_http(&r->connection->log, "http upstream send request");
    if (u->hbuf == NULL) {
        u->hbuf = mg_pnalloc(r->pool, u->conf->buffer_size);
        u->hsize = u->conf->buffer_size;
    }
    /* the upstream may answer before it has the whole request (a 413 before the body,
     * say): its head is read while sending, so the answer is relayed, not a 502 */
    mg_upstream_conn_read_on(u);
    for (;;) {
        mg_int_t rc = mg_upstream_send_chain(u, u->conn->fd);
        if (rc == MG_AGAIN) {
            mg_upstream_conn_write_on(u);
            mg_upstream_conn_timer(u, u->conf->send_timeout);
            return;
        }
        if (rc == MG_ERROR) {
            /* an upstream that answered early and closed resets the connection under the
             * rest of the request; its answer may still wait in the socket: relay it */
            int err = errno;
            char ch;
            if (recv(u->conn->fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
                if (!mg_upstream_io_logged(u)) {
                    mg_log_error(MG_LOG_INFO, mg_upstream_log(u), err, "writev() failed");
                }
                mg_upstream_read_head(u);
                return;
            }
            if (!mg_upstream_io_logged(u)) {
                mg_log_error(MG_LOG_ERR, mg_upstream_log(u), err, "writev() failed");
            }
            mg_upstream_next(u, MG_UPSTREAM_FT_ERROR);
            return;
        }
        rc = mg_upstream_next_body_part(u);
        if (rc == MG_OK) {
            break;
        }
        if (rc == MG_DECLINED) {
            /* the client's turn, under client_body_timeout; body_arrived resumes */
            mg_upstream_conn_timer_del(u);
            u->body_wait = 1;
            return;
        }
        if (rc != MG_AGAIN) {
            body_failed(u, rc);
            return;
        }
    }
    u->request_sent = 1;
    watch_client(u);
    mg_upstream_conn_timer_del(u);
    /* the action stays "sending request to upstream" until the upstream's read event or the
     * read timeout (as nginx's process_header sets it): a client gone before then says so */
    mg_upstream_conn_timer(u, u->conf->read_timeout);
    if (u->conn->ssl) {
        mg_upstream_read_head(u); /* the TLS layer may hold bytes the socket no longer shows */
    }
    /* plain: the upstream has not answered a request it got this instant (a recv would say
     * EAGAIN); the read event, level-triggered and on since the send began, reports the answer,
     * even one that came before, as nginx waits for its read event */
}

/* The client sent more of an unbuffered body (or failed) */
static void body_arrived(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    mg_upstream_t *u = rb->stream_data;
    if (u->done) {
        return;
    }
    if (rb->status) {
        body_failed(u, rb->status);
        return;
    }
    if (u->driver) {
        if (u->conn && u->state->connect_time >= 0 && !u->conn->handshaking) {
            u->driver->client_body(u);
        }
        return;
    }
    if (u->body_wait) {
        /* otherwise the upstream's write event or the connect sends what came */
        u->body_wait = 0;
        send_request(u);
    }
}

/* ---- the body ---- */

/* Cut the next piece of body from data[0..n): buffers appended at *tail. Returns the bytes
 * consumed (the rest is after the body), or -1 on a broken chunked body. Sets u->length to 0
 * (or chunked.done) when the body is complete. */
static ssize_t body_input(mg_upstream_t *u, char *data, size_t n, mg_buf_t ***tail)
{
    mg_request_t *r = u->r;
    int flush = !u->buffering;
    if (u->chunked_body) {
        size_t pos = 0;
        while (!u->chunked.done) {
            const char *d;
            size_t dl;
            int rc = mg_http_parse_chunked(&u->chunked, data, n, &pos, &d, &dl);
            if (rc == MG_PARSE_AGAIN) {
                break;
            }
            if (rc < 0) {
                return -1;
            }
            if (dl) {
                mg_buf_t *b = mg_buf_mem(r->pool, d, dl);
                b->flush = (unsigned)flush;
                **tail = b;
                *tail = &b->next;
            }
        }
        return (ssize_t)pos;
    }
    size_t take = n, used = n;
    if (u->length >= 0 && (int64_t)take > u->length) {
        take = (size_t)u->length;
        if (u->decode) {
            /* as nginx's FastCGI: the payload past Content-Length is dropped (used), warned
             * of for each piece; the record stream still ends the response */
            mg_log_error(MG_LOG_WARN, mg_upstream_log(u), 0,
                         "upstream sent more data than specified in \"Content-Length\" header");
        } else {
            used = take;
        }
    }
    if (take) {
        mg_buf_t *b = mg_buf_mem(r->pool, data, take);
        b->flush = (unsigned)flush;
        **tail = b;
        *tail = &b->next;
    }
    if (u->length >= 0) {
        u->length -= (int64_t)take;
    }
    return (ssize_t)used;
}

static int body_complete(mg_upstream_t *u)
{
    if (u->decode) {
        return u->header_only || u->decoded_end;
    }
    return u->header_only || (u->chunked_body ? u->chunked.done : u->length == 0);
}

static mg_int_t pipe_output(mg_upstream_t *u, mg_buf_t *in, int read_on);

static void body_finish(mg_upstream_t *u, int extra)
{
    mg_request_t *r = u->r;
    if (u->decode && u->length > 0 && !u->header_only) {
        /* the records ended before the Content-Length did (only FastCGI has both) */
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0,
                     "upstream prematurely closed FastCGI stdout");
        body_cut(u, 0);
        return;
    }
    if (extra) {
        mg_log_error(MG_LOG_WARN, mg_upstream_log(u), 0, "upstream sent more data than specified in \"Content-Length\" header");
    }
    mg_upstream_done(u,
                     u->keepalive && !extra && u->request_sent && (!u->decode || u->decoded_end));
    /* as nginx's: the event pipe passes what it holds, then the request's end sends the last
     * buffer on its own, which body_filter_by_lua's code sees (r->end_apart); else one pass
     * through the filters costs less */
    mg_buf_t *last = mg_buf_mem(r->pool, "", 0);
    last->last_buf = 1;
    mg_buf_t *out = mg_upstream_spool_rest(u, r->end_apart ? NULL : last);
    if (r->end_apart) {
        if (out && pipe_output(u, out, 0) == MG_ERROR) {
            mg_upstream_finalize(u, MG_ERROR);
            return;
        }
        out = last;
    }
    if (pipe_output(u, out, 0) == MG_ERROR) {
        mg_upstream_finalize(u, MG_ERROR);
        return;
    }
    mg_upstream_finalize(u, MG_OK);
}

static void body_broken(mg_upstream_t *u)
{
    /* the client must not take this for a complete response: close without the end */
    u->keepalive = 0;
    mg_upstream_finalize(u, MG_ERROR);
}

/* The upstream went (closed, failed, timed out) before the body's end: as nginx's event
 * pipe, what the buffers hold goes to the client first; after a read error or a timeout
 * (failed) not the buffer being filled (Debian's nginx 1.22 drops it: an SSI include of a
 * page cut off so gives nothing, and its stub stands for it) */
static void body_cut(mg_upstream_t *u, int failed)
{
    if (failed) {
        mg_upstream_spool_drop_open(u);
    }
    mg_buf_t *held = mg_upstream_spool_rest(u, NULL);
    if (held && pipe_output(u, held, 0) == MG_ERROR) {
        mg_upstream_finalize(u, MG_ERROR);
        return;
    }
    body_broken(u);
}

static void on_client_drained(mg_request_t *r)
{
    mg_upstream_t *u = mg_upstream_of(r);
    if (u && !u->done && u->reading_body) {
        read_body(u);
    }
}

/* Pass data (the head buffer's leftovers or a fresh read) downstream. MG_OK, MG_DONE (the
 * request is finalized), MG_ERROR (finalized too). */
static mg_int_t pass_body(mg_upstream_t *u, char *data, size_t n)
{
    mg_buf_t *out = NULL, **tail = &out;
    ssize_t used = body_input(u, data, n, &tail);
    if (used < 0) {
        mg_upstream_body_invalid(u);
        return MG_DONE;
    }
    if (out && mg_upstream_output(u, out) == MG_ERROR) {
        mg_upstream_finalize(u, MG_ERROR);
        return MG_DONE;
    }
    if (body_complete(u)) {
        body_finish(u, (size_t)used < n && !u->chunked_body);
        return MG_DONE;
    }
    return MG_OK;
}

/* nginx's event pipe: the body filters' lines say "while sending to client" (the context
 * stays so when the output failed, for what the request's end logs). read_on: a response
 * being stored (proxy_store) or cached is read on after the client went (its write failed),
 * its bytes reaching the store and cache filters, as nginx's event pipe does; not for the
 * end's output (body_finish), which fails */
static mg_int_t pipe_output(mg_upstream_t *u, mg_buf_t *in, int read_on)
{
    mg_request_t *r = u->r;
    const char *action = r->connection->log.action;
    r->connection->log.action = "sending to client";
    mg_int_t rc = mg_http_output(r, in);
    if (rc == MG_ERROR && read_on && (u->store || mg_http_cache_storing(r)) && u->buffering &&
        r->connection->closed) {
        rc = MG_OK;
    }
    if (rc != MG_ERROR) {
        r->connection->log.action = action;
    }
    u->downstream_error |= rc == MG_ERROR && u->buffering;
    return rc;
}

mg_int_t mg_upstream_output(mg_upstream_t *u, mg_buf_t *in)
{
    return pipe_output(u, in, 1);
}

void mg_upstream_start_body(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    if (!u->buffering) {
        /* as nginx: what comes unbuffered goes out as it comes */
        mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
        mg_http_tcp_nodelay(r->connection, clcf->tcp_nodelay);
    }
    /* as nginx's: a client's HEAD sent on as another method (uwsgi's and SCGI's
     * REQUEST_METHOD, proxy_method) ends with the head too when nothing stores the body:
     * it is not read (the connection not kept unless it is all in) */
    int unread =
        r->header_only && !u->header_only && !u->decode && !u->store && !mg_http_cache_storing(r);
    if (u->header_only || unread || (body_complete(u) && u->pending_len == 0)) {
        /* as nginx's proxy: a body read with the head of a 204 or 304 is too much data, and
         * the connection is not kept; a HEAD's response ends with its head, what came with
         * it not counted */
        int extra = u->header_only && u->pending_len;
        if (u->head_method || unread) {
            u->state->response_length = 0;
            extra = 0;
        }
        if (unread && !(body_complete(u) && u->pending_len == 0)) {
            u->keepalive = 0;
        }
        /* as nginx: unbuffered, a head that came alone is flushed even when the body is
         * complete already (a 204, 304, Content-Length 0), a pass body_filter_by_lua sees */
        if (!u->buffering && u->pending_len == 0 && !unread && r->method != MG_HTTP_HEAD &&
            flush_output(r) == MG_ERROR) {
            mg_upstream_finalize(u, MG_ERROR);
            return;
        }
        body_finish(u, extra);
        return;
    }
    /* as nginx's event pipe: a response to store or cache is read to its end even when the
     * client goes (mg_upstream_output, and the writer's errors wake on_client_drained) */
    r->reads_on = u->buffering && (u->store || mg_http_cache_storing(r));
    u->nbufs = u->buffering ? u->conf->bufs_num : 1;
    u->bufsize = u->buffering ? u->conf->bufs_size : u->conf->buffer_size;
    if (u->buffering) {
        mg_upstream_spool_init(u); /* u->mem with it */
    } else {
        u->mem = mg_pcalloc(r->pool, sizeof(char *));
        if (r->parent) {
            /* as nginx's: an include waiting its turn holds one buffer, reading stops */
            mg_http_subrequest_hold(r, u->bufsize);
        }
    }
    u->reading_body = 1;
    r->write_event_handler = on_client_drained;
    if (u->spool) {
        read_body(u); /* buffered: the spool takes what came with the head too */
        return;
    }
    if (u->pending_len) {
        size_t n = u->pending_len;
        u->pending_len = 0;
        /* as nginx: unbuffered, what came with the head goes on in the head's context */
        const char *action = r->connection->log.action;
        r->connection->log.action = "reading response header from upstream";
        if (pass_body(u, u->pending, n) == MG_DONE) {
            return;
        }
        r->connection->log.action = action;
    } else {
        /* as nginx: unbuffered, a head that came alone is flushed, not held for the body */
        if (flush_output(r) == MG_ERROR) {
            mg_upstream_finalize(u, MG_ERROR);
            return;
        }
    }
    read_body(u);
}

/* The body's pieces for the spool (upstream_spool.c) */
ssize_t mg_upstream_body_input(mg_upstream_t *u, char *data, size_t n, mg_buf_t ***tail)
{
    return body_input(u, data, n, tail);
}

int mg_upstream_body_complete(mg_upstream_t *u)
{
    return body_complete(u);
}

void mg_upstream_body_finish(mg_upstream_t *u, int extra)
{
    body_finish(u, extra);
}

void mg_upstream_body_invalid(mg_upstream_t *u)
{
    mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream sent invalid chunked response");
    u->invalid_body = 1;
    body_broken(u);
}

/* iov cut to at most max bytes: how many iovecs are left (at least one) */
static int iov_cut(struct iovec *iov, int cnt, size_t max)
{
    for (int i = 0; i < cnt; i++) {
        if (iov[i].iov_len >= max) {
            iov[i].iov_len = max;
            return i + 1;
        }
        max -= iov[i].iov_len;
    }
    return cnt;
}

static mg_int_t recv_bodyv(mg_upstream_t *u, struct iovec *iov, int cnt, size_t *got)
{
    char *buf = iov[0].iov_base;
    for (;;) {
        /* one more than the body's rest shows an upstream sending too much */
        if (!u->decode && !u->chunked_body && u->length > 0) {
            cnt = iov_cut(iov, cnt, (size_t)u->length + 1);
        }
        ssize_t n = recvv(u, iov, cnt);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            mg_upstream_conn_read_on(u);
            mg_upstream_conn_timer(u, u->conf->read_timeout);
            return MG_AGAIN;
        }
        if (n < 0) {
            if (!mg_upstream_io_logged(u)) {
                /* nginx's event pipe reads a buffered body with readv() */
                mg_log_error(MG_LOG_ERR, mg_upstream_log(u), errno,
                             u->spool ? "readv() failed" : "recv() failed");
            }
            body_cut(u, 1);
            return MG_DONE;
        }
        if (n == 0) {
            if (!u->decode && !u->chunked_body && u->length < 0) {
                u->length = 0;
                body_finish(u, 0);
                return MG_DONE;
            }
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream prematurely closed connection");
            body_cut(u, 0);
            return MG_DONE;
        }
        u->state->bytes_received += n;
        u->state->response_length += n;
        *got = (size_t)n;
        if (u->decode) {
            mg_int_t rc = u->decode(u, buf, got);
            if (rc == MG_ERROR) {
                body_broken(u);
                return MG_DONE;
            }
            if (*got == 0 && rc == MG_DONE) {
                body_finish(u, 0);
                return MG_DONE;
            }
            if (*got == 0) {
                continue; /* records without payload (stderr, padding) */
            }
        }
        return MG_OK;
    }
}

mg_int_t mg_upstream_recv_bodyv(mg_upstream_t *u, struct iovec *iov, int cnt, size_t *got)
{
    return recv_bodyv(u, iov, cnt, got);
}

static void read_body(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    if (u->spool) {
        mg_upstream_spool_read(u);
        return;
    }
    for (;;) {
        if (!mg_http_output_busy(r)) {
            u->used = 0; /* every body buffer was written: all free again */
        }
        if (u->used == u->nbufs && !u->flushed) {
            /* every buffer is queued: the writer may hold them back for postpone_output, and
             * only a flush makes it write them */
            u->flushed = 1;
            if (flush_output(r) == MG_ERROR) {
                mg_upstream_finalize(u, MG_ERROR);
                return;
            }
            continue;
        }
        if (u->used == u->nbufs) {
            /* the client is slower: stop reading until the writer drains (on_client_drained) */
            mg_upstream_conn_read_off(u);
            mg_upstream_conn_timer_del(u);
            return;
        }
        size_t slot = (size_t)u->used;
        if (u->mem[slot] == NULL) {
            u->mem[slot] = mg_pnalloc(r->pool, u->bufsize);
        }
        size_t n;
        struct iovec iov = {u->mem[slot], u->bufsize};
        mg_int_t rc = recv_bodyv(u, &iov, 1, &n);
        if (rc != MG_OK) {
            return;
        }
        u->used++;
        u->flushed = 0;
        if (pass_body(u, u->mem[slot], n) == MG_DONE) {
            return;
        }
    }
}

/* ---- a client that goes away first ---- */

static void client_aborted(mg_request_t *r)
{
    mg_upstream_t *u = mg_upstream_of(r);
    if (u && !u->done) {
        mg_upstream_finalize(u, MG_HTTP_CLIENT_CLOSED_REQUEST);
    }
}

/* nginx's words where epoll reports the close (EPOLLRDHUP, Linux) */
#define EPOLL_REPORTED "epoll_wait() reported that "
static const mg_http_abort_t client_abort = {
    client_aborted, ", so upstream connection is closed too", EPOLL_REPORTED};

/* a response that may be cached: as nginx, only logged. Before its head the upstream is
 * still awaited, and the head's send then fails (nginx's c->error): the request ends with its
 * status, nothing cached; after it, the writes to the client fail from now on and a stored
 * response is read to its end all the same (mg_upstream_output) */
static void client_gone_caching(mg_request_t *r)
{
    mg_upstream_t *u = mg_upstream_of(r);
    if (u && !u->header_sent) {
        r->connection->closed = 1;
    }
}

static const mg_http_abort_t client_abort_caching = {client_gone_caching, NULL, EPOLL_REPORTED};

static void unwatch_client(mg_request_t *r)
{
    mg_http_unwatch_client(r, &client_abort);
    mg_http_unwatch_client(r, &client_abort_caching);
}

/* Once the client's body is read (or while there is none), the client's close while the
 * response is awaited or relayed ends the request with 499 (nginx's check_broken_connection),
 * unless the response may be cached; with proxy_ignore_client_abort nothing watches, as in
 * nginx. Called again once the head says whether it is cached. */
void mg_upstream_watch_client(mg_upstream_t *u)
{
    watch_client(u);
}

static void watch_client(mg_upstream_t *u)
{
    /* as nginx, not in a post_action either (the client had its response), nor for a
     * response to store (it is read to its end all the same) */
    if (!u->conf->ignore_client_abort && !u->r->post_action && !u->store) {
        mg_http_watch_client(u->r,
                             mg_http_cache_wanted(u->r) ? &client_abort_caching : &client_abort);
    }
}

/* ---- events ---- */

static void ev_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_upstream_t *u = arg;
    if (u->done || u->conn == NULL) {
        return;
    }
    mg_ssl_conn_t *sc = u->conn->ssl;
    if (u->conn->handshaking) {
        ssl_handshake(u);
        return;
    }
    if (sc && sc->write_wants_read) {
        /* a TLS write waited for this read event: the writing side goes on first */
        sc->write_wants_read = 0;
        if (u->driver) {
            u->driver->write(u);
            if (u->done || u->conn == NULL) {
                return;
            }
        } else if (u->tunnel) {
            mg_upstream_tunnel_pump(u);
            return;
        } else if (!u->request_sent) {
            send_request(u);
            if (u->done || u->conn == NULL) {
                return;
            }
        }
    }
    if (u->driver) {
        u->driver->read(u);
    } else if (u->tunnel) {
        mg_upstream_tunnel_pump(u);
    } else if (u->reading_body) {
        read_body(u);
    } else {
        mg_upstream_read_head(u); /* also while the request is still being sent */
    }
}

static void ev_write(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    mg_upstream_t *u = arg;
    if (u->done || u->conn == NULL) {
        return;
    }
    u->conn->writing = 0;
    if (u->conn->handshaking) {
        ssl_handshake(u);
        return;
    }
    mg_ssl_conn_t *sc = u->conn->ssl;
    if (sc && sc->read_wants_write) {
        /* a TLS read waited for this write event */
        sc->read_wants_write = 0;
        ev_read(fd, EV_READ, u);
        return;
    }
    if (u->tunnel) {
        mg_upstream_tunnel_pump(u);
        return;
    }
    if (u->state->connect_time < 0) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
            err = errno;
        }
        mg_upstream_conn_timer_del(u);
        if (err) {
            connect_failed(u, err);
            return;
        }
        on_connected(u);
        return;
    }
    if (u->driver) {
        u->driver->write(u);
        return;
    }
    if (!u->request_sent) {
        mg_upstream_conn_timer_del(u);
        send_request(u);
    }
}

static void on_timer(void *arg)
{
    mg_upstream_t *u = arg;
    if (u->done || u->conn == NULL) {
        return;
    }
    mg_time_update(); /* a timer alone woke the loop: *_limit_rate's pace reads the clock */
    if (u->reading_body && mg_upstream_spool_timer(u)) {
        return;
    }
    int driver = u->driver && u->state->connect_time >= 0 && !u->conn->handshaking;
    if (!driver && !u->tunnel && !u->reading_body) {
        if (u->request_sent) {
            u->r->connection->log.action = "reading response header from upstream";
        }
        next_try(u, MG_UPSTREAM_FT_TIMEOUT, 1);
        return;
    }
    if (!driver && !u->tunnel) {
        /* the body's context, as nginx's: the connection's log may meanwhile speak of another
         * request's end (an SSI include after this one: "sending to client") */
        u->r->connection->log.action = "reading upstream";
    }
    mg_log_error(MG_LOG_ERR, mg_upstream_log(u), ETIMEDOUT, "upstream timed out");
    if (driver) {
        u->driver->timeout(u);
    } else if (u->tunnel) {
        mg_upstream_tunnel_finish(u);
    } else {
        body_cut(u, 1);
    }
}

/* ---- start ---- */

mg_int_t mg_upstream_start(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    u->start = mg_now.monotonic;
    /* as nginx, the variables tell of every exchange the request had: an error_page or
     * X-Accel-Redirect that proxies again starts after the tries of the one before */
    mg_upstream_t *before = r->upstream;
    size_t n = before ? before->states.nelts : 0;
    mg_array_init(&u->states, r->pool, n + 1, sizeof(mg_upstream_state_t));
    if (n) {
        memcpy(u->states.elts, before->states.elts, n * sizeof(mg_upstream_state_t));
        u->states.nelts = n;
        u->states_before = n;
    }
    mg_pool_cleanup_add(r->pool, cleanup, u);
    r->upstream = u;
    if (r->request_body && r->request_body->stream) {
        r->request_body->stream_handler = body_arrived;
        r->request_body->stream_data = u;
    }
    u->idempotent =
        r->method != MG_HTTP_POST && r->method != MG_HTTP_PATCH && r->method != MG_HTTP_LOCK;
    u->pick.r = r;
    u->pick.group = u->group;
    if (u->single == NULL) {
        if (u->group->balancer->init_request(r, &u->pick) != MG_OK) {
            mg_upstream_finalize(u, MG_HTTP_INTERNAL_SERVER_ERROR);
            return MG_DONE;
        }
    }
    watch_client(u);
    connect_try(u);
    return MG_DONE;
}
