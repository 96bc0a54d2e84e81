/*
 * The upstream engine (see upstream.h): connect, send, read the head, stream the body with
 * bounded buffers, next upstream, the keepalive pool, the 101 tunnel and $upstream_*.
 *
 * State lives in the request pool (mg_upstream_t and its connection); a pool cleanup closes
 * the upstream socket and releases the peer when the request ends for any reason (a client
 * that went away included). Idle keepalive connections are malloc'ed, per worker, per group.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"
#include "server.h"
#include "upstream_io.h"
#include "variables.h"

struct mg_upstream_conn_s {
    int fd;
    struct event rev;   /* persistent while reading */
    struct event wev;   /* one-shot */
    struct event tev;   /* the deadline */
    mg_upstream_peer_t *peer;
    mg_uint_t requests; /* requests made on this connection, this one included */
    unsigned reading : 1, writing : 1, timer : 1, reused : 1, got_bytes : 1;
};

static mg_upstream_t *(*get_upstream)(mg_request_t *r);
static mg_log_handler_pt orig_log_handler;

static void connect_try(mg_upstream_t *u);
static void send_request(mg_upstream_t *u);
static void read_head(mg_upstream_t *u);
static void read_body(mg_upstream_t *u);
static void tunnel_pump(mg_upstream_t *u);

static mg_log_t *ulog(mg_upstream_t *u)
{
    return &u->r->connection->log;
}

static struct event_base *ubase(mg_upstream_t *u)
{
    return u->r->connection->server->base;
}

/* ---- the response head parser ---- */

static int is_token(unsigned char ch)
{
    static const char sep[] = "()<>@,;:\\\"/[]?={} \t";
    return ch > 0x20 && ch < 0x7f && strchr(sep, ch) == NULL;
}

ssize_t mg_upstream_parse_response_head(const char *buf, size_t len, mg_upstream_head_t *h)
{
    size_t cap = h->nheaders, n = 0, p = 0;
    h->nheaders = 0;
    /* status line: HTTP/d.d SP ddd [SP reason] */
    const char *nl = memchr(buf, '\n', len);
    size_t avail = nl ? (size_t)(nl - buf) : len;
    if (avail >= 1 && buf[0] != 'H') {
        return MG_PARSE_INVALID_REQUEST;
    }
    if (avail < 12 && nl == NULL) {
        if (memcmp(buf, "HTTP/", avail < 5 ? avail : 5) != 0) {
            return MG_PARSE_INVALID_REQUEST;
        }
        return MG_PARSE_AGAIN;
    }
    if (avail < 12 || memcmp(buf, "HTTP/", 5) != 0 || buf[5] < '1' || buf[5] > '9' || buf[6] != '.' ||
        buf[7] < '0' || buf[7] > '9' || buf[8] != ' ') {
        return MG_PARSE_INVALID_REQUEST;
    }
    if (nl == NULL) {
        return MG_PARSE_AGAIN;
    }
    h->http_major = buf[5] - '0';
    h->http_minor = buf[7] - '0';
    size_t s = 9;
    while (s < avail && buf[s] == ' ') {
        s++;
    }
    if (s + 3 > avail || buf[s] < '1' || buf[s] > '9' || buf[s + 1] < '0' || buf[s + 1] > '9' ||
        buf[s + 2] < '0' || buf[s + 2] > '9' || (s + 3 < avail && buf[s + 3] != ' ' && buf[s + 3] != '\r')) {
        return MG_PARSE_INVALID_REQUEST;
    }
    h->status = (mg_uint_t)((buf[s] - '0') * 100 + (buf[s + 1] - '0') * 10 + (buf[s + 2] - '0'));
    size_t e = avail;
    if (e > s && buf[e - 1] == '\r') {
        e--;
    }
    h->status_line.data = buf + s;
    h->status_line.len = e - s;
    p = avail + 1;
    for (;;) {
        nl = memchr(buf + p, '\n', len - p);
        if (nl == NULL) {
            return MG_PARSE_AGAIN;
        }
        size_t le = (size_t)(nl - buf), ls = p;
        size_t end = le;
        if (end > ls && buf[end - 1] == '\r') {
            end--;
        }
        p = le + 1;
        if (end == ls) {
            h->nheaders = n;
            return (ssize_t)p;
        }
        h->error_at = ls;
        size_t c = ls;
        while (c < end && is_token((unsigned char)buf[c])) {
            c++;
        }
        if (c == ls || c == end || buf[c] != ':') {
            return MG_PARSE_INVALID_HEADER;
        }
        for (size_t i = c + 1; i < end; i++) {
            unsigned char ch = (unsigned char)buf[i];
            if (ch == '\0' || ch == '\r') {
                return MG_PARSE_INVALID_HEADER;
            }
        }
        if (n == cap) {
            return MG_PARSE_TOO_MANY_HEADERS;
        }
        size_t vs = c + 1, ve = end;
        while (vs < ve && (buf[vs] == ' ' || buf[vs] == '\t')) {
            vs++;
        }
        while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t')) {
            ve--;
        }
        h->headers[n].name.data = buf + ls;
        h->headers[n].name.len = c - ls;
        h->headers[n].value.data = buf + vs;
        h->headers[n].value.len = ve - vs;
        n++;
    }
}

/* ---- the log context: ", upstream: "http://addr/uri"" after the request line ---- */

static size_t upstream_log_handler(mg_log_t *log, char *buf, size_t len)
{
    size_t n = orig_log_handler(log, buf, len);
    mg_http_conn_t *hc = log->data;
    mg_request_t *r = hc ? hc->r : NULL;
    mg_upstream_t *u = r && get_upstream ? get_upstream(r) : NULL;
    if (u == NULL || u->state == NULL || u->state->addr.len == 0) {
        return n;
    }
    char ins[1024];
    int il = snprintf(ins, sizeof(ins), ", upstream: \"%.*s%.*s%.*s\"", (int)u->schema.len,
                      u->schema.data, (int)u->state->addr.len, u->state->addr.data, (int)u->uri.len,
                      u->uri.data);
    if (il <= 0 || (size_t)il >= sizeof(ins) || n + (size_t)il > len) {
        return n;
    }
    size_t at = n;
    char pat[64];
    int pl = snprintf(pat, sizeof(pat), ", request: \"");
    char *q = memmem(buf, n, pat, (size_t)pl);
    if (q && r->request_line.len) {
        size_t off = (size_t)(q - buf) + (size_t)pl + r->request_line.len + 1;
        if (off <= n) {
            at = off;
        }
    }
    memmove(buf + at + il, buf + at, n - at);
    memcpy(buf + at, ins, (size_t)il);
    return n + (size_t)il;
}

/* ---- the upstream connection's events ---- */

static void ev_read(evutil_socket_t fd, short what, void *arg);
static void ev_write(evutil_socket_t fd, short what, void *arg);
static void ev_timer(evutil_socket_t fd, short what, void *arg);

static void conn_read_on(mg_upstream_t *u)
{
    if (!u->conn->reading) {
        u->conn->reading = 1;
        event_add(&u->conn->rev, NULL);
    }
}

static void conn_read_off(mg_upstream_t *u)
{
    if (u->conn->reading) {
        u->conn->reading = 0;
        event_del(&u->conn->rev);
    }
}

static void conn_write_on(mg_upstream_t *u)
{
    u->conn->writing = 1;
    event_add(&u->conn->wev, NULL);
}

static void conn_timer(mg_upstream_t *u, mg_msec_t msec)
{
    struct timeval tv = { (time_t)(msec / 1000), (suseconds_t)(msec % 1000) * 1000 };
    evtimer_add(&u->conn->tev, &tv);
    u->conn->timer = 1;
}

static void conn_timer_del(mg_upstream_t *u)
{
    if (u->conn->timer) {
        evtimer_del(&u->conn->tev);
        u->conn->timer = 0;
    }
}

static void conn_events_off(mg_upstream_conn_t *uc)
{
    if (uc->reading) {
        event_del(&uc->rev);
    }
    if (uc->writing) {
        event_del(&uc->wev);
    }
    if (uc->timer) {
        evtimer_del(&uc->tev);
    }
    uc->reading = uc->writing = uc->timer = 0;
}

static mg_upstream_conn_t *conn_new(mg_upstream_t *u, int fd, mg_upstream_peer_t *peer)
{
    mg_upstream_conn_t *uc = mg_pcalloc(u->r->pool, sizeof(*uc));
    uc->fd = fd;
    uc->peer = peer;
    event_assign(&uc->rev, ubase(u), fd, EV_READ | EV_PERSIST, ev_read, u);
    event_assign(&uc->wev, ubase(u), fd, EV_WRITE, ev_write, u);
    evtimer_assign(&uc->tev, ubase(u), ev_timer, u);
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
    if (keep && u->group && uc->peer) {
        mg_upstream_keepalive_put(u->group, uc->peer, uc->fd, uc->requests, u->r);
    } else {
        close(uc->fd);
    }
}

static void free_peer(mg_upstream_t *u, int outcome)
{
    if (u->single == NULL && u->group && u->pick.peer) {
        u->group->balancer->free_peer(&u->pick, outcome);
    }
    u->pick.peer = NULL;
}

static void state_end(mg_upstream_t *u)
{
    if (u->state && u->state->response_time < 0) {
        u->state->response_time = mg_now.monotonic - u->state->start;
    }
}

static void cleanup(void *data)
{
    mg_upstream_t *u = data;
    if (u->done) {
        return;
    }
    u->done = 1;
    conn_release(u, 0);
    free_peer(u, MG_PEER_OK);
    if (u->tunnel) {
        mg_conn_read_off(u->r->connection);
    }
}

/* The exchange is over (the engine's part): nothing more happens on the upstream side. */
static void upstream_done(mg_upstream_t *u, int keep)
{
    state_end(u);
    conn_release(u, keep);
    free_peer(u, MG_PEER_OK);
    u->done = 1;
    u->r->write_event_handler = NULL;
}

/* Finalize the request: an HTTP status before the head went out, else the end of the
 * response (MG_OK) or a broken one (MG_ERROR). r may be gone afterwards. */
static void finalize(mg_upstream_t *u, mg_int_t rc)
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
    r->write_event_handler = NULL;
    if (u->finalize) {
        u->finalize(u, rc);
    }
    if (rc == MG_ERROR && r->header_sent) {
        r->keepalive = 0;
    }
    mg_http_finalize_request(r, rc == MG_OK ? MG_AGAIN : rc);
}

/* ---- next upstream ---- */

static int can_retry(mg_upstream_t *u, mg_uint_t ft)
{
    mg_upstream_conf_t *conf = u->conf;
    if (u->header_sent || u->single || u->body_sent || (conf->next_upstream & MG_UPSTREAM_FT_OFF) ||
        !(conf->next_upstream & ft)) {
        return 0;
    }
    if (!u->idempotent && u->sent_this_try && !(conf->next_upstream & MG_UPSTREAM_FT_NON_IDEMPOTENT)) {
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
    mg_uint_t max = u->group ? u->group->max_tries : 1;
    if (max == 0 && u->group) {
        max = u->group->peers.nelts + u->group->backup.nelts;
    }
    return u->tries < max;
}

/* A try failed before the response head was used: retry or answer 502/504. */
static void next_upstream(mg_upstream_t *u, mg_uint_t ft)
{
    mg_uint_t status = ft == MG_UPSTREAM_FT_TIMEOUT ? MG_HTTP_GATEWAY_TIME_OUT : MG_HTTP_BAD_GATEWAY;
    int reused = u->conn && u->conn->reused && !u->conn->got_bytes && !u->body_sent;
    mg_upstream_peer_t *peer = u->conn ? u->conn->peer : NULL;
    if (u->state && (u->state->status == 0 || ft & (MG_UPSTREAM_FT_ERROR | MG_UPSTREAM_FT_TIMEOUT |
                                                     MG_UPSTREAM_FT_INVALID_HEADER))) {
        u->state->status = status;
    }
    state_end(u);
    conn_release(u, 0);
    if (reused && ft == MG_UPSTREAM_FT_ERROR && peer) {
        /* an idle keepalive connection the upstream had closed: not the peer's fault, and
         * the request was not seen there; connect anew to the same peer (as nginx, a cached
         * connection's error does not use up a try) */
        u->pick.peer = peer;
        u->tries--;
        u->state = NULL;
        connect_try(u);
        return;
    }
    free_peer(u, ft == MG_UPSTREAM_FT_HTTP_403 || ft == MG_UPSTREAM_FT_HTTP_404 ? MG_PEER_NEXT
                                                                                : MG_PEER_FAILED);
    if (can_retry(u, ft)) {
        connect_try(u);
        return;
    }
    finalize(u, (mg_int_t)status);
}

/* ---- connect ---- */

static void on_connected(mg_upstream_t *u)
{
    u->state->connect_time = mg_now.monotonic - u->state->start;
    send_request(u);
}

static void connect_failed(mg_upstream_t *u, int err)
{
    mg_log_error(MG_LOG_ERR, ulog(u), err, "connect() failed");
    next_upstream(u, MG_UPSTREAM_FT_ERROR);
}

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
        mg_int_t rc = u->group->balancer->get_peer(&u->pick);
        if (rc != MG_OK || u->pick.peer == NULL) {
            u->pick.peer = NULL;
            r->connection->log.action = "connecting to upstream";
            mg_upstream_state_t *st = mg_array_push(&u->states);
            memset(st, 0, sizeof(*st));
            st->addr = u->group->name;
            st->status = MG_HTTP_BAD_GATEWAY;
            st->connect_time = st->header_time = st->response_time = -1;
            u->state = st;
            mg_log_error(MG_LOG_ERR, ulog(u), 0, "no live upstreams");
            st->response_time = 0;
            finalize(u, MG_HTTP_BAD_GATEWAY);
            return;
        }
        peer = u->pick.peer;
    }
    u->tries++;
    mg_upstream_state_t *st = mg_array_push(&u->states);
    memset(st, 0, sizeof(*st));
    st->addr = peer->name;
    st->start = mg_now.monotonic;
    st->connect_time = st->header_time = st->response_time = -1;
    u->state = st;
    u->hlen = 0;
    u->sent_this_try = 0;
    u->send_pos = u->request_bufs;
    u->send_off = u->request_bufs ? u->request_bufs->pos : NULL;
    r->connection->log.action = "connecting to upstream";

    mg_uint_t requests = 0;
    int fd = u->group ? mg_upstream_keepalive_get(u->group, peer, &requests, r) : -1;
    if (fd >= 0) {
        u->conn = conn_new(u, fd, peer);
        u->conn->reused = 1;
        u->conn->requests = requests + 1;
        st->connect_time = 0;
        send_request(u);
        return;
    }
    fd = socket(peer->sockaddr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mg_log_error(MG_LOG_ALERT, ulog(u), errno, "socket() failed");
        next_upstream(u, MG_UPSTREAM_FT_ERROR);
        return;
    }
    u->conn = conn_new(u, fd, peer);
    u->conn->requests = 1;
    if (peer->sockaddr.ss_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (connect(fd, (struct sockaddr *)&peer->sockaddr, peer->socklen) == 0) {
        on_connected(u);
        return;
    }
    if (errno != EINPROGRESS) {
        connect_failed(u, errno);
        return;
    }
    conn_write_on(u);
    conn_timer(u, u->conf->connect_timeout);
}

/* ---- send ---- */

/* A client's error while the body is being passed on: nothing more goes upstream */
static void body_failed(mg_upstream_t *u, mg_int_t status)
{
    finalize(u, u->header_sent ? MG_ERROR : status);
}

static void send_request(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    r->connection->log.action = "sending request to upstream";
    for (;;) {
        mg_int_t rc = mg_upstream_send_chain(u, u->conn->fd);
        if (rc == MG_AGAIN) {
            conn_write_on(u);
            conn_timer(u, u->conf->send_timeout);
            return;
        }
        if (rc == MG_ERROR) {
            next_upstream(u, MG_UPSTREAM_FT_ERROR);
            return;
        }
        rc = mg_upstream_next_body_part(u);
        if (rc == MG_OK) {
            break;
        }
        if (rc == MG_DECLINED) {
            /* the client's turn, under client_body_timeout; body_arrived resumes */
            conn_timer_del(u);
            u->body_wait = 1;
            return;
        }
        if (rc != MG_AGAIN) {
            body_failed(u, rc);
            return;
        }
    }
    u->request_sent = 1;
    conn_timer_del(u);
    if (u->hbuf == NULL) {
        u->hbuf = mg_pnalloc(r->pool, u->conf->buffer_size);
    }
    r->connection->log.action = "reading response header from upstream";
    conn_read_on(u);
    conn_timer(u, u->conf->read_timeout);
    read_head(u);
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
    if (u->body_wait) {
        /* otherwise the upstream's write event or the connect sends what came */
        u->body_wait = 0;
        send_request(u);
    }
}

/* ---- the response head ---- */

static void hdr(mg_upstream_t *u, const char *lower, size_t len, mg_http_header_t **out)
{
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        if (h->name.len == len && mg_strncasecmp(h->name.data, lower, len) == 0) {
            *out = h;
            return;
        }
    }
}

static int value_has_token(mg_span_t v, const char *tok)
{
    size_t n = strlen(tok);
    const char *p = v.data, *end = v.data + v.len;
    while ((p = mg_strlcasestrn(p, end, tok, n)) != NULL) {
        if ((p == v.data || p[-1] == ',' || p[-1] == ' ') &&
            (p + n == end || p[n] == ',' || p[n] == ' ' || p[n] == ';')) {
            return 1;
        }
        p += n;
    }
    return 0;
}

static int error_page_for(mg_request_t *r, mg_uint_t status)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (clcf->error_pages == NULL) {
        return 0;
    }
    mg_http_err_page_t *ep = clcf->error_pages->elts;
    for (size_t i = 0; i < clcf->error_pages->nelts; i++) {
        if (ep[i].status == status) {
            return 1;
        }
    }
    return 0;
}

static void start_body(mg_upstream_t *u);
static void start_tunnel(mg_upstream_t *u);

static void process_head(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_uint_t status = u->head.status;
    u->state->status = status;
    u->state->header_time = mg_now.monotonic - u->state->start;

    static const struct {
        mg_uint_t status, ft;
    } next_by_status[] = {
        { 500, MG_UPSTREAM_FT_HTTP_500 }, { 502, MG_UPSTREAM_FT_HTTP_502 },
        { 503, MG_UPSTREAM_FT_HTTP_503 }, { 504, MG_UPSTREAM_FT_HTTP_504 },
        { 403, MG_UPSTREAM_FT_HTTP_403 }, { 404, MG_UPSTREAM_FT_HTTP_404 },
        { 429, MG_UPSTREAM_FT_HTTP_429 },
    };
    for (size_t i = 0; i < mg_nelems(next_by_status); i++) {
        if (next_by_status[i].status == status && can_retry(u, next_by_status[i].ft)) {
            next_upstream(u, next_by_status[i].ft);
            return;
        }
    }

    /* framing */
    mg_http_header_t *cl = NULL, *te = NULL, *conn = NULL;
    hdr(u, "content-length", 14, &cl);
    hdr(u, "transfer-encoding", 17, &te);
    hdr(u, "connection", 10, &conn);
    u->length = -1;
    u->chunked_body = 0;
    if (te && cl) {
        mg_log_error(MG_LOG_ERR, ulog(u), 0,
                     "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time");
        if (can_retry(u, MG_UPSTREAM_FT_INVALID_HEADER)) {
            next_upstream(u, MG_UPSTREAM_FT_INVALID_HEADER);
        } else {
            u->state->status = MG_HTTP_BAD_GATEWAY;
            finalize(u, MG_HTTP_BAD_GATEWAY);
        }
        return;
    }
    if (te) {
        if (te->value.len != 7 || mg_strncasecmp(te->value.data, "chunked", 7) != 0) {
            mg_log_error(MG_LOG_ERR, ulog(u), 0, "upstream sent unknown \"Transfer-Encoding\": \"%.*s\"",
                         (int)te->value.len, te->value.data);
            u->state->status = MG_HTTP_BAD_GATEWAY;
            finalize(u, MG_HTTP_BAD_GATEWAY);
            return;
        }
        u->chunked_body = 1;
        memset(&u->chunked, 0, sizeof(u->chunked));
    } else if (cl) {
        int64_t n = mg_atoi(cl->value.data, cl->value.len);
        if (n < 0) {
            mg_log_error(MG_LOG_ERR, ulog(u), 0,
                         "upstream sent invalid \"Content-Length\" header: \"Content-Length: %.*s\"",
                         (int)cl->value.len, cl->value.data);
            u->state->status = MG_HTTP_BAD_GATEWAY;
            finalize(u, MG_HTTP_BAD_GATEWAY);
            return;
        }
        u->length = n;
    }
    u->header_only = r->method == MG_HTTP_HEAD || status == 204 || status == 304 ||
                     (status >= 100 && status < 200);
    int conn_close = conn && value_has_token(conn->value, "close");
    int conn_ka = conn && value_has_token(conn->value, "keep-alive");
    u->keepalive = u->group && u->group->keepalive > 0 && !conn_close &&
                   (u->head.http_minor >= 1 || u->head.http_major > 1 || conn_ka) &&
                   (u->header_only || u->chunked_body || u->length >= 0) && status != 101;

    if (u->conf->intercept_errors && status >= 300 && error_page_for(r, status)) {
        /* the error page replaces the response; the body is not read */
        finalize(u, (mg_int_t)status);
        return;
    }
    if (status == 101 && !u->upgrade) {
        mg_log_error(MG_LOG_ERR, ulog(u), 0, "upstream sent unexpected \"101 Switching Protocols\"");
        u->state->status = MG_HTTP_BAD_GATEWAY;
        finalize(u, MG_HTTP_BAD_GATEWAY);
        return;
    }
    mg_int_t rc = u->process_header ? u->process_header(u) : MG_OK;
    if (rc != MG_OK) {
        finalize(u, rc);
        return;
    }
    u->header_sent = 1;
    if (status == 101) {
        start_tunnel(u);
        return;
    }
    r->connection->log.action = "reading upstream";
    rc = mg_http_send_header(r);
    if (rc == MG_ERROR) {
        finalize(u, MG_ERROR);
        return;
    }
    start_body(u);
}

static void read_head(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    for (;;) {
        if (u->hlen == u->conf->buffer_size) {
            mg_log_error(MG_LOG_ERR, ulog(u), 0, "upstream sent too big header");
            next_upstream(u, MG_UPSTREAM_FT_INVALID_HEADER);
            return;
        }
        ssize_t n = recv(u->conn->fd, u->hbuf + u->hlen, u->conf->buffer_size - u->hlen, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return; /* read event and read timer are on */
        }
        if (n < 0) {
            mg_log_error(MG_LOG_ERR, ulog(u), errno, "recv() failed");
            next_upstream(u, MG_UPSTREAM_FT_ERROR);
            return;
        }
        if (n == 0) {
            mg_log_error(MG_LOG_ERR, ulog(u), 0, "upstream prematurely closed connection");
            next_upstream(u, MG_UPSTREAM_FT_ERROR);
            return;
        }
        u->conn->got_bytes = 1;
        u->hlen += (size_t)n;
        for (;;) {
            if (u->head.headers == NULL) {
                u->head.headers = mg_palloc(r->pool, 100 * sizeof(mg_http_header_t));
            }
            u->head.nheaders = 100;
            ssize_t used = mg_upstream_parse_response_head(u->hbuf, u->hlen, &u->head);
            if (used == MG_PARSE_AGAIN) {
                break;
            }
            if (used == MG_PARSE_INVALID_REQUEST) {
                /* as nginx: not HTTP/1.x, so an HTTP/0.9 answer: its bytes are the body, sent
                 * without a head until the upstream closes */
                mg_log_error(MG_LOG_ERR, ulog(u), 0, "upstream sent no valid HTTP/1.0 header");
                u->head.http_major = 0;
                u->head.http_minor = 9;
                u->head.status = MG_HTTP_OK;
                u->head.status_line.len = 0;
                u->head.nheaders = 0;
                u->http09 = 1;
                r->http_09 = 1;
                r->keepalive = 0;
                used = 0;
            }
            if (used < 0) {
                size_t at = u->head.error_at, e = at;
                while (e < u->hlen && u->hbuf[e] != '\n' && u->hbuf[e] != '\r' && e - at < 256) {
                    e++;
                }
                mg_log_error(MG_LOG_ERR, ulog(u), 0, "upstream sent invalid header: \"%.*s\"",
                             (int)(e - at), u->hbuf + at);
                next_upstream(u, MG_UPSTREAM_FT_INVALID_HEADER);
                return;
            }
            if (u->head.status >= 100 && u->head.status < 200 && u->head.status != 101) {
                /* an interim response: drop it, the final one follows */
                memmove(u->hbuf, u->hbuf + used, u->hlen - (size_t)used);
                u->hlen -= (size_t)used;
                continue;
            }
            conn_timer_del(u);
            conn_read_off(u);
            u->pending = u->hbuf + used;
            u->pending_len = u->hlen - (size_t)used;
            process_head(u);
            return;
        }
    }
}

/* ---- the body ---- */

/* Cut the next piece of body from data[0..n): buffers appended at *tail. Returns the bytes
 * consumed (the rest is after the body), or -1 on a broken chunked body. Sets u->length to 0
 * (or chunked.done) when the body is complete. */
static ssize_t body_input(mg_upstream_t *u, char *data, size_t n, mg_buf_t ***tail)
{
    mg_request_t *r = u->r;
    int flush = !u->conf->buffering;
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
    size_t take = n;
    if (u->length >= 0 && (int64_t)take > u->length) {
        take = (size_t)u->length;
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
    return (ssize_t)take;
}

static int body_complete(mg_upstream_t *u)
{
    return u->header_only || (u->chunked_body ? u->chunked.done : u->length == 0);
}

static void body_finish(mg_upstream_t *u, int extra)
{
    mg_request_t *r = u->r;
    if (extra) {
        mg_log_error(MG_LOG_WARN, ulog(u), 0, "upstream sent more data than specified in \"Content-Length\" header");
    }
    upstream_done(u, u->keepalive && !extra && u->request_sent);
    mg_buf_t *last = mg_buf_mem(r->pool, "", 0);
    last->last_buf = 1;
    if (mg_http_output(r, last) == MG_ERROR) {
        finalize(u, MG_ERROR);
        return;
    }
    finalize(u, MG_OK);
}

static void body_broken(mg_upstream_t *u)
{
    /* the client must not take this for a complete response: close without the end */
    u->keepalive = 0;
    finalize(u, MG_ERROR);
}

static void on_client_drained(mg_request_t *r)
{
    mg_upstream_t *u = get_upstream(r);
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
        mg_log_error(MG_LOG_ERR, ulog(u), 0, "upstream sent invalid chunked response");
        body_broken(u);
        return MG_DONE;
    }
    if (out && mg_http_output(u->r, out) == MG_ERROR) {
        finalize(u, MG_ERROR);
        return MG_DONE;
    }
    if (body_complete(u)) {
        body_finish(u, (size_t)used < n && !u->chunked_body);
        return MG_DONE;
    }
    return MG_OK;
}

static void start_body(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    if (u->header_only || body_complete(u)) {
        body_finish(u, 0);
        return;
    }
    u->nbufs = u->conf->buffering ? u->conf->bufs_num : 1;
    u->bufsize = u->conf->buffering ? u->conf->bufs_size : u->conf->buffer_size;
    u->mem = mg_pcalloc(r->pool, (size_t)u->nbufs * sizeof(char *));
    u->reading_body = 1;
    r->write_event_handler = on_client_drained;
    if (u->pending_len) {
        size_t n = u->pending_len;
        u->pending_len = 0;
        if (pass_body(u, u->pending, n) == MG_DONE) {
            return;
        }
    }
    read_body(u);
}

static void read_body(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_http_conn_t *hc = r->hc;
    for (;;) {
        if (hc->out == NULL && !r->buffered) {
            u->used = 0; /* every body buffer was written: all free again */
        }
        if (u->used == u->nbufs) {
            /* the client is slower: stop reading until the writer drains (on_client_drained) */
            conn_read_off(u);
            conn_timer_del(u);
            return;
        }
        size_t slot = (size_t)u->used;
        if (u->mem[slot] == NULL) {
            u->mem[slot] = mg_pnalloc(r->pool, u->bufsize);
        }
        size_t want = u->bufsize;
        if (!u->chunked_body && u->length > 0 && (int64_t)want > u->length + 1) {
            want = (size_t)u->length + 1; /* one more shows an upstream sending too much */
        }
        ssize_t n = recv(u->conn->fd, u->mem[slot], want, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_read_on(u);
            conn_timer(u, u->conf->read_timeout);
            return;
        }
        if (n < 0) {
            mg_log_error(MG_LOG_ERR, ulog(u), errno, "recv() failed");
            body_broken(u);
            return;
        }
        if (n == 0) {
            if (!u->chunked_body && u->length < 0) {
                u->length = 0;
                body_finish(u, 0);
                return;
            }
            mg_log_error(MG_LOG_ERR, ulog(u), 0, "upstream prematurely closed connection");
            body_broken(u);
            return;
        }
        u->used++;
        if (pass_body(u, u->mem[slot], (size_t)n) == MG_DONE) {
            return;
        }
    }
}

/* ---- the 101 tunnel ---- */

#define TUNNEL_BUF 16384

static void tunnel_finish(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_conn_read_off(r->connection);
    mg_conn_write_off(r->connection);
    finalize(u, MG_ERROR); /* closes the client connection; the access log says 101 */
}

static void tunnel_client_event(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_upstream_t *u = hc->r ? get_upstream(hc->r) : NULL;
    if (u && u->tunnel && !u->done) {
        tunnel_pump(u);
    }
}

static void tunnel_drained(mg_request_t *r)
{
    mg_upstream_t *u = get_upstream(r);
    if (u && u->tunnel && !u->done) {
        tunnel_pump(u);
    }
}

static void tunnel_pump(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_connection_t *c = r->connection;
    mg_http_conn_t *hc = r->hc;
    if (hc->out) {
        /* the 101 head is still on its way: the writer calls tunnel_drained */
        return;
    }
    c->read_handler = tunnel_client_event;
    c->write_handler = tunnel_client_event;
    c->timeout_handler = NULL;
    mg_conn_timer_del(c);
    int progress = 1, want_uw = 0, want_cw = 0;
    while (progress) {
        progress = 0;
        /* client -> upstream */
        if (u->tup_pos < u->tup_len) {
            ssize_t n = send(u->conn->fd, u->tbuf_up + u->tup_pos, u->tup_len - u->tup_pos, MSG_NOSIGNAL);
            if (n > 0) {
                u->tup_pos += (size_t)n;
                progress = 1;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                want_uw = 1;
            } else if (n < 0 && errno != EINTR) {
                tunnel_finish(u);
                return;
            }
        } else if (!u->tclient_eof) {
            ssize_t n = recv(c->fd, u->tbuf_up, TUNNEL_BUF, 0);
            if (n > 0) {
                u->tup_pos = 0;
                u->tup_len = (size_t)n;
                progress = 1;
            } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                u->tclient_eof = 1;
            }
        }
        /* upstream -> client */
        if (u->tdown_pos < u->tdown_len) {
            ssize_t n = send(c->fd, u->tbuf_down + u->tdown_pos, u->tdown_len - u->tdown_pos, MSG_NOSIGNAL);
            if (n > 0) {
                u->tdown_pos += (size_t)n;
                r->bytes_sent += (size_t)n;
                progress = 1;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                want_cw = 1;
            } else if (n < 0 && errno != EINTR) {
                tunnel_finish(u);
                return;
            }
        } else if (!u->tupstream_eof) {
            ssize_t n = recv(u->conn->fd, u->tbuf_down, TUNNEL_BUF, 0);
            if (n > 0) {
                u->tdown_pos = 0;
                u->tdown_len = (size_t)n;
                progress = 1;
            } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                u->tupstream_eof = 1;
            }
        }
    }
    if ((u->tclient_eof && u->tup_pos >= u->tup_len) || (u->tupstream_eof && u->tdown_pos >= u->tdown_len)) {
        tunnel_finish(u);
        return;
    }
    /* reading a side only while its way out has room */
    if (u->tup_pos >= u->tup_len && !u->tclient_eof) {
        mg_conn_read_on(c);
    } else {
        mg_conn_read_off(c);
    }
    if (u->tdown_pos >= u->tdown_len && !u->tupstream_eof) {
        conn_read_on(u);
    } else {
        conn_read_off(u);
    }
    if (want_uw && !u->conn->writing) {
        conn_write_on(u);
    }
    if (want_cw) {
        mg_conn_write_on(c);
    }
    conn_timer(u, u->conf->read_timeout);
}

static void start_tunnel(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_http_conn_t *hc = r->hc;
    u->tunnel = 1;
    r->keepalive = 0;
    r->connection->log.action = "proxying upgraded connection";
    u->tbuf_up = mg_pnalloc(r->pool, TUNNEL_BUF);
    /* the head buffer's leftovers (proxy_buffer_size may exceed TUNNEL_BUF) fit */
    u->tbuf_down = mg_pnalloc(r->pool, u->pending_len > TUNNEL_BUF ? u->pending_len : TUNNEL_BUF);
    /* what the client sent after its request, and what the upstream sent after its head */
    size_t early = hc->last - hc->start;
    if (early > TUNNEL_BUF) {
        early = TUNNEL_BUF;
    }
    memcpy(u->tbuf_up, hc->buf + hc->start, early);
    hc->start += early;
    u->tup_pos = 0;
    u->tup_len = early;
    memcpy(u->tbuf_down, u->pending, u->pending_len);
    u->tdown_pos = 0;
    u->tdown_len = u->pending_len;
    if (mg_http_send_header(r) == MG_ERROR) {
        finalize(u, MG_ERROR);
        return;
    }
    mg_int_t rc = mg_http_output(r, NULL);
    if (rc == MG_ERROR) {
        finalize(u, MG_ERROR);
        return;
    }
    r->write_event_handler = tunnel_drained;
    tunnel_pump(u);
}

/* ---- events ---- */

static void ev_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_upstream_t *u = arg;
    if (u->done) {
        return;
    }
    if (u->tunnel) {
        tunnel_pump(u);
    } else if (u->reading_body) {
        read_body(u);
    } else if (u->request_sent) {
        read_head(u);
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
    if (u->tunnel) {
        tunnel_pump(u);
        return;
    }
    if (u->state->connect_time < 0) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
            err = errno;
        }
        conn_timer_del(u);
        if (err) {
            connect_failed(u, err);
            return;
        }
        on_connected(u);
        return;
    }
    if (!u->request_sent) {
        conn_timer_del(u);
        send_request(u);
    }
}

static void ev_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_upstream_t *u = arg;
    if (u->done || u->conn == NULL) {
        return;
    }
    u->conn->timer = 0;
    mg_log_error(MG_LOG_ERR, ulog(u), ETIMEDOUT, "upstream timed out");
    if (u->tunnel) {
        tunnel_finish(u);
    } else if (u->reading_body) {
        body_broken(u);
    } else {
        next_upstream(u, MG_UPSTREAM_FT_TIMEOUT);
    }
}

/* ---- start ---- */


mg_int_t mg_upstream_start(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_connection_t *c = r->connection;
    u->start = mg_now.monotonic;
    mg_array_init(&u->states, r->pool, 1, sizeof(mg_upstream_state_t));
    if (c->log.handler != upstream_log_handler) {
        if (orig_log_handler == NULL) {
            orig_log_handler = c->log.handler;
        }
        if (c->log.handler == orig_log_handler) {
            c->log.handler = upstream_log_handler;
        }
    }
    mg_pool_cleanup_add(r->pool, cleanup, u);
    if (r->request_body && r->request_body->stream) {
        r->request_body->stream_handler = body_arrived;
        r->request_body->stream_data = u;
    }
    u->idempotent = r->method != MG_HTTP_POST && r->method != MG_HTTP_PATCH && r->method != MG_HTTP_LOCK;
    u->pick.r = r;
    u->pick.group = u->group;
    if (u->single == NULL) {
        if (u->group->balancer->init_request(r, &u->pick) != MG_OK) {
            finalize(u, MG_HTTP_INTERNAL_SERVER_ERROR);
            return MG_DONE;
        }
    }
    connect_try(u);
    return MG_DONE;
}

/* ---- the keepalive pool ---- */

typedef struct idle_s idle_t;
typedef struct {
    idle_t *head;
    mg_int_t n;
    mg_upstream_group_t *group;
} ka_pool_t;

struct idle_s {
    int fd;
    struct sockaddr_storage sa;
    socklen_t socklen;
    mg_uint_t requests;
    mg_msec_t created;
    struct event ev, tev;
    ka_pool_t *pool;
    idle_t *next, **prevp;
};

static void idle_close(idle_t *ic)
{
    event_del(&ic->ev);
    evtimer_del(&ic->tev);
    close(ic->fd);
    *ic->prevp = ic->next;
    if (ic->next) {
        ic->next->prevp = ic->prevp;
    }
    ic->pool->n--;
    free(ic);
}

static void idle_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    idle_close(arg); /* data or EOF on an idle connection, or keepalive_timeout: close it */
}

static void ka_pool_free(void *data)
{
    ka_pool_t *kp = data;
    while (kp->head) {
        idle_close(kp->head);
    }
    kp->group->pool_state = NULL;
    free(kp);
}

static mg_msec_t ka_timeout(mg_upstream_group_t *g)
{
    return g->keepalive_timeout > 0 ? g->keepalive_timeout : 60000;
}

int mg_upstream_keepalive_get(mg_upstream_group_t *g, mg_upstream_peer_t *peer, mg_uint_t *requests,
                              mg_request_t *r)
{
    ka_pool_t *kp = g->pool_state;
    if (kp == NULL) {
        return -1;
    }
    if (r->connection->server->quitting) {
        while (kp->head) {
            idle_close(kp->head);
        }
        return -1;
    }
    mg_msec_t ktime = g->keepalive_time > 0 ? g->keepalive_time : 3600000;
    for (idle_t *ic = kp->head, *next; ic; ic = next) {
        next = ic->next;
        if (mg_now.monotonic - ic->created >= ktime) {
            idle_close(ic);
            continue;
        }
        if (ic->socklen == peer->socklen && memcmp(&ic->sa, &peer->sockaddr, peer->socklen) == 0) {
            int fd = ic->fd;
            *requests = ic->requests;
            ic->fd = -1;
            event_del(&ic->ev);
            evtimer_del(&ic->tev);
            *ic->prevp = ic->next;
            if (ic->next) {
                ic->next->prevp = ic->prevp;
            }
            kp->n--;
            free(ic);
            return fd;
        }
    }
    return -1;
}

void mg_upstream_keepalive_put(mg_upstream_group_t *g, mg_upstream_peer_t *peer, int fd,
                               mg_uint_t requests, mg_request_t *r)
{
    mg_int_t kreq = g->keepalive_requests > 0 ? g->keepalive_requests : 1000;
    if (g->keepalive <= 0 || r->connection->server->quitting || (mg_int_t)requests >= kreq) {
        close(fd);
        return;
    }
    ka_pool_t *kp = g->pool_state;
    if (kp == NULL) {
        kp = mg_calloc(sizeof(*kp));
        kp->group = g;
        g->pool_state = kp;
        /* the group lives in its generation's pool: idle connections go with it */
        mg_pool_cleanup_add(r->connection->cycle->pool, ka_pool_free, kp);
    }
    if (kp->n >= g->keepalive) {
        /* the least recently used one makes room (the list's tail) */
        idle_t *last = kp->head;
        while (last->next) {
            last = last->next;
        }
        idle_close(last);
    }
    idle_t *ic = mg_calloc(sizeof(*ic));
    ic->fd = fd;
    memcpy(&ic->sa, &peer->sockaddr, peer->socklen);
    ic->socklen = peer->socklen;
    ic->requests = requests;
    ic->created = mg_now.monotonic;
    ic->pool = kp;
    ic->next = kp->head;
    ic->prevp = &kp->head;
    if (kp->head) {
        kp->head->prevp = &ic->next;
    }
    kp->head = ic;
    kp->n++;
    struct event_base *base = r->connection->server->base;
    event_assign(&ic->ev, base, fd, EV_READ, idle_event, ic);
    event_add(&ic->ev, NULL);
    evtimer_assign(&ic->tev, base, idle_event, ic);
    mg_msec_t t = ka_timeout(g);
    struct timeval tv = { (time_t)(t / 1000), (suseconds_t)(t % 1000) * 1000 };
    evtimer_add(&ic->tev, &tv);
}

/* ---- variables ---- */

enum { V_ADDR, V_STATUS, V_RESPONSE_TIME, V_CONNECT_TIME, V_HEADER_TIME };

static mg_int_t var_state(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_upstream_t *u = get_upstream ? get_upstream(r) : NULL;
    if (u == NULL || u->states.nelts == 0) {
        v->not_found = 1;
        return MG_OK;
    }
    mg_upstream_state_t *st = u->states.elts;
    size_t cap = u->states.nelts * 80;
    for (size_t i = 0; i < u->states.nelts; i++) {
        cap += st[i].addr.len;
    }
    char *buf = mg_pnalloc(r->pool, cap), *p = buf, *end = buf + cap;
    for (size_t i = 0; i < u->states.nelts; i++) {
        if (i) {
            p = mg_sprintf_end(p, end, ", ");
        }
        mg_msec_t t = -1;
        switch (data) {
        case V_ADDR:
            p = mg_sprintf_end(p, end, "%.*s", (int)st[i].addr.len, st[i].addr.data);
            continue;
        case V_STATUS:
            if (st[i].status) {
                p = mg_sprintf_end(p, end, "%lu", (unsigned long)st[i].status);
            } else {
                p = mg_sprintf_end(p, end, "-");
            }
            continue;
        case V_RESPONSE_TIME:
            t = st[i].response_time; /* "-" while the response is still on its way */
            break;
        case V_CONNECT_TIME:
            t = st[i].connect_time;
            break;
        case V_HEADER_TIME:
            t = st[i].header_time;
            break;
        }
        if (t < 0) {
            p = mg_sprintf_end(p, end, "-");
        } else {
            p = mg_sprintf_end(p, end, "%ld.%03ld", (long)(t / 1000), (long)(t % 1000));
        }
    }
    v->value.data = buf;
    v->value.len = (size_t)(p - buf);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return MG_OK;
}

static mg_int_t var_upstream_http(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_str_t *name = (mg_str_t *)data;
    mg_upstream_t *u = get_upstream ? get_upstream(r) : NULL;
    size_t skip = sizeof("upstream_http_") - 1;
    if (u == NULL || u->head.headers == NULL || u->states.nelts == 0 || name->len <= skip) {
        v->not_found = 1;
        return MG_OK;
    }
    const char *want = name->data + skip;
    size_t wl = name->len - skip;
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        if (h->name.len != wl) {
            continue;
        }
        size_t k = 0;
        for (; k < wl; k++) {
            char a = mg_tolower(h->name.data[k]), b = want[k];
            if (a == '-') {
                a = '_';
            }
            if (a != mg_tolower(b)) {
                break;
            }
        }
        if (k == wl) {
            v->value.data = (char *)h->value.data;
            v->value.len = h->value.len;
            v->valid = 1;
            v->no_cacheable = 1;
            v->not_found = 0;
            return MG_OK;
        }
    }
    v->not_found = 1;
    return MG_OK;
}

mg_int_t mg_upstream_add_variables(mg_conf_t *cf, mg_upstream_t *(*get)(mg_request_t *r))
{
    static const struct {
        const char *name;
        uintptr_t data;
    } vars[] = {
        { "upstream_addr", V_ADDR },
        { "upstream_status", V_STATUS },
        { "upstream_response_time", V_RESPONSE_TIME },
        { "upstream_connect_time", V_CONNECT_TIME },
        { "upstream_header_time", V_HEADER_TIME },
    };
    get_upstream = get;
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_str_t name = { strlen(vars[i].name), (char *)vars[i].name };
        mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return MG_ERROR;
        }
        v->get_handler = var_state;
        v->data = vars[i].data;
    }
    mg_str_t pname = mg_string("upstream_http_");
    mg_http_variable_t *v = mg_http_add_variable(cf, pname, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PREFIX);
    if (v == NULL) {
        return MG_ERROR;
    }
    v->get_handler = var_upstream_http;
    return MG_OK;
}
