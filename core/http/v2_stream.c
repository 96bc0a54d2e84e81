/*
 * An HTTP/2 stream as an ordinary request, as nginx runs one on a "fake" connection: the
 * stream's header block becomes HTTP/1.1 head text that the usual parser and headers_in.c take
 * (the version then reads 2.0), on a connection of its own without a socket whose recv gives
 * the DATA frames' bytes (chunked when no content-length tells their sum) and whose send_chain
 * feeds the stream's DATA (v2_output.c). Its events are fired by the h2 connection; closing it
 * resets the stream. The stream's window opens as the body reader takes its bytes.
 */
#include "proxy_protocol.h"
#include "scan.h"
#include "server.h"
#include "stat.h"
#include "v2.h"

#define STREAM_READ_SIZE 16384 /* room after the head for the body reader's reads */

static void stream_on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_connection_t *fc = arg;
    mg_time_update();
    fc->read_handler(fc);
}

static void stream_on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_connection_t *fc = arg;
    fc->writing = 0;
    mg_time_update();
    if (fc->write_handler) {
        fc->write_handler(fc);
    }
}

static void stream_on_timer(void *arg)
{
    mg_connection_t *fc = arg;
    mg_time_update();
    fc->timeout_handler(fc);
}

/* Read events while no one reads (a request between its body and its end): nothing to do. */
static void stream_read_idle(mg_connection_t *fc)
{
    mg_conn_read_off(fc);
}

static void stream_timeout_idle(mg_connection_t *fc)
{
    (void)fc;
}

/* The stream no longer counts against http2_max_concurrent_streams once nghttp2 closed it and
 * its request is done. */
static void stream_uncount(mg_http_v2_stream_t *st)
{
    if (st->counted && st->closed && (st->fc == NULL || st->fc->closed)) {
        st->counted = 0;
        st->h2->nactive--;
    }
}

static void stream_unlink(mg_http_v2_stream_t *st)
{
    mg_http_v2_conn_t *h2 = st->h2;
    if (st->counted) {
        st->counted = 0;
        h2->nactive--;
    }
    if (st->prev) {
        st->prev->next = st->next;
    } else {
        h2->streams = st->next;
    }
    if (st->next) {
        st->next->prev = st->prev;
    }
    mg_http_v2_stream_free(st);
}

static void free_pseudo(mg_http_v2_stream_t *st, mg_str_t *s)
{
    uintptr_t p = (uintptr_t)s->data, mem = (uintptr_t)st->pseudo_mem;
    if (s->data && (p < mem || p >= mem + sizeof(st->pseudo_mem))) {
        free(s->data);
    }
    s->data = NULL;
}

/* Most of a stream's buffers are gone or never were by now (the head and the pseudo-headers
 * went when its request started): only those there are freed, not a free(NULL) call each. */
void mg_http_v2_stream_free(mg_http_v2_stream_t *st)
{
    if (st->h2->hstream == st) {
        st->h2->hstream = NULL;
    }
    if (st->head) {
        free(st->head);
    }
    if (st->method.data || st->path.data || st->authority.data || st->scheme.data) {
        free_pseudo(st, &st->method);
        free_pseudo(st, &st->path);
        free_pseudo(st, &st->authority);
        free_pseudo(st, &st->scheme);
    }
    if (st->bad) {
        free(st->bad);
    }
    if (st->cookie) {
        free(st->cookie);
    }
    if (st->in) {
        free(st->in);
    }
    if (st->trailers) {
        free(st->trailers);
    }
    mg_server_t *srv = st->h2->server;
    if (MG_HTTP_V2_KEEP && srv->h2_nstreams < MG_SERVER_H2_STREAMS) {
        *(void **)st = srv->h2_streams; /* kept for the next stream (emptied then) */
        srv->h2_streams = st;
        srv->h2_nstreams++;
        return;
    }
    free(st);
}

mg_http_v2_stream_t *mg_http_v2_stream_create(mg_http_v2_conn_t *h2, int32_t id)
{
    mg_server_t *srv = h2->server;
    mg_http_v2_stream_t *st = srv->h2_streams;
    if (st) {
        srv->h2_streams = *(void **)st;
        srv->h2_nstreams--;
        memset(st, 0, sizeof(*st));
    } else {
        st = mg_calloc(sizeof(*st));
    }
    st->h2 = h2;
    st->id = id;
    st->next = h2->streams;
    if (st->next) {
        st->next->prev = st;
    }
    h2->streams = st;
    return st;
}

/* A field line "name: value\r\n" onto the head kept until the request starts (one room check
 * and one length update for the line's four pieces). */
static void head_line(mg_http_v2_stream_t *st, const char *name, size_t nlen, const char *value,
                      size_t vlen)
{
    size_t n = nlen + 2 + vlen + 2;
    if (st->head_len + n > st->head_size) {
        mg_server_t *srv = st->h2->server;
        if (st->head == NULL && srv->h2_head && srv->h2_head_size >= n) {
            st->head = srv->h2_head; /* the last started stream's (stream_start) */
            st->head_size = srv->h2_head_size;
            srv->h2_head = NULL;
        } else {
            st->head_size = mg_max(st->head_size * 2, st->head_len + n + 256);
            st->head = mg_realloc(st->head, st->head_size);
        }
    }
    char *p = st->head + st->head_len;
    memcpy(p, name, nlen);
    p += nlen;
    *p++ = ':';
    *p++ = ' ';
    memcpy(p, value, vlen);
    p += vlen;
    *p++ = '\r';
    *p = '\n';
    st->head_len += n;
}

/* The first reason to answer 400, kept for the log line when the request starts. */
static void stream_bad(mg_http_v2_stream_t *st, const char *fmt, const uint8_t *v, size_t vlen)
{
    if (st->bad == NULL) {
        st->bad_before_host = st->authority.data == NULL; /* nginx logs it at once */
        int n = (int)mg_min(vlen, 256);
        size_t size = strlen(fmt) + (size_t)n + 1;
        st->bad = mg_alloc(size);
        snprintf(st->bad, size, fmt, n, (const char *)v);
    }
}

/* A pseudo-header: kept until the head is built (nghttp2's memory is the frame's), or a reason
 * for a 400, checked as nginx checks them. */
static void stream_pseudo(mg_http_v2_stream_t *st, const uint8_t *name, size_t nlen,
                          const uint8_t *value, size_t vlen)
{
    mg_str_t n = {nlen, (char *)name};
    mg_str_t *slot = mg_str_eq(n, ":method")      ? &st->method
                     : mg_str_eq(n, ":path")      ? &st->path
                     : mg_str_eq(n, ":authority") ? &st->authority
                     : mg_str_eq(n, ":scheme")    ? &st->scheme
                                                  : NULL;
    if (slot == NULL) {
        stream_bad(st, "client sent unknown pseudo-header \"%.*s\"", name, nlen);
        return;
    }
    if (slot == &st->authority && slot->data && st->bad == NULL) {
        /* nginx 1.22 takes :authority as a host field: a second is a duplicate host */
        size_t n = (size_t)mg_min(vlen, 256);
        size_t size = sizeof("client sent duplicate host header: \"host: \", previous value: "
                             "\"host: \"") +
                      n + slot->len;
        st->bad_before_host = 0;
        st->bad = mg_alloc(size);
        snprintf(
            st->bad, size,
            "client sent duplicate host header: \"host: %.*s\", previous value: \"host: %.*s\"",
            (int)n, (const char *)value, (int)slot->len, slot->data);
        return;
    }
    if (slot->data) {
        stream_bad(st, "client sent duplicate %.*s header", name, nlen);
        return;
    }
    if (vlen == 0 && slot != &st->authority) {
        stream_bad(st, "client sent empty %.*s header", name, nlen);
        return;
    }
    if (slot == &st->method) {
        for (size_t i = 0; i < vlen; i++) {
            if ((value[i] < 'A' || value[i] > 'Z') && value[i] != '_' && value[i] != '-') {
                /* kept all the same: nginx's $request_method shows it in the 400's log line */
                stream_bad(st, "client sent invalid method: \"%.*s\"", value, vlen);
                break;
            }
        }
    } else if (slot == &st->path) {
        int ok = value[0] == '/'; /* "*" too is no path for nginx's URI parser */
        for (size_t i = 0; i < vlen && ok; i++) {
            ok = value[i] > ' ' && value[i] != 0x7f;
        }
        if (!ok) {
            stream_bad(st, "client sent invalid :path header: \"%.*s\"", value, vlen);
            return;
        }
    } else if (slot == &st->scheme) {
        /* RFC 3986's scheme: a letter, then letters, digits, '+', '-' and '.' */
        for (size_t i = 0; i < vlen; i++) {
            uint8_t ch = value[i] | 0x20;
            if ((ch < 'a' || ch > 'z') &&
                (i == 0 || !((value[i] >= '0' && value[i] <= '9') || value[i] == '+' ||
                             value[i] == '-' || value[i] == '.'))) {
                stream_bad(st, "client sent invalid :scheme header: \"%.*s\"", value, vlen);
                return;
            }
        }
    }
    char *p;
    if (st->pseudo_used + vlen + 1 <= sizeof(st->pseudo_mem)) {
        p = st->pseudo_mem + st->pseudo_used;
        st->pseudo_used += vlen + 1;
    } else {
        p = mg_alloc(vlen + 1);
    }
    memcpy(p, value, vlen);
    p[vlen] = '\0';
    *slot = (mg_str_t){vlen, p};
}

/* A stream's bad field, on the connection's log in nginx's context for a stream's lines (the
 * log's handler finds the connection from the log's address: no copy of it) */
#define stream_log_field(st, c, ...)                                                               \
    do {                                                                                           \
        const char *action_ = (c)->log.action;                                                     \
        (c)->log.action = "reading client request headers";                                        \
        (st)->h2->log_stream = (st);                                                               \
        mg_log_error(MG_LOG_INFO, &(c)->log, 0, __VA_ARGS__);                                      \
        (st)->h2->log_stream = NULL;                                                               \
        (c)->log.action = action_;                                                                 \
    } while (0)

/* What a field's name (past a pseudo-header's ':') may not hold: no blank, control, DEL, ':' or
 * uppercase letter (h2 names are lowercase); a value's CR, LF or NUL are scan.h's line stops.
 * A name of other bytes than [a-z0-9-] (and '_' with underscores_in_headers) is an invalid
 * one that ignore_invalid_headers drops. A table: every byte of every request field goes
 * through it. */
#define BAD_IN_NAME 1
#define NOT_TOKEN 4
#define UNDERSCORE 8
static const uint8_t field_bad[256] = {
    [0] = BAD_IN_NAME | NOT_TOKEN,
    [1 ... 9] = BAD_IN_NAME | NOT_TOKEN,
    ['\n'] = BAD_IN_NAME | NOT_TOKEN,
    [11 ... 12] = BAD_IN_NAME | NOT_TOKEN,
    ['\r'] = BAD_IN_NAME | NOT_TOKEN,
    [14 ... ' '] = BAD_IN_NAME | NOT_TOKEN,
    ['!' ... ','] = NOT_TOKEN,
    ['.' ... '/'] = NOT_TOKEN,
    [':'] = BAD_IN_NAME | NOT_TOKEN,
    [';' ... '@'] = NOT_TOKEN,
    ['A' ... 'Z'] = BAD_IN_NAME | NOT_TOKEN,
    ['[' ... '^'] = NOT_TOKEN,
    ['_'] = UNDERSCORE,
    ['`'] = NOT_TOKEN,
    ['{' ... '~'] = NOT_TOKEN,
    [0x7f] = BAD_IN_NAME | NOT_TOKEN,
    [0x80 ... 0xff] = NOT_TOKEN,
};

int mg_http_v2_stream_header(mg_http_v2_stream_t *st, const uint8_t *name, size_t nlen,
                             const uint8_t *value, size_t vlen)
{
    mg_http_srv_conf_t *cscf = st->h2->hc->srv;
    mg_connection_t *c = st->h2->c;
    /* large_client_header_buffers' total bounds the names' and values' sum over the list
     * (pseudo-headers too), decoded, as nginx >= 1.19.7 (its size bounds each name and value
     * as sent: v2.c's walk, before nghttp2 decodes them) */
    st->header_bytes += nlen + vlen;
    if (st->header_bytes >
        cscf->large_client_header_buffers_size * (size_t)cscf->large_client_header_buffers_num) {
        /* the list's bound also stops an HPACK bomb (a table entry referred to many times) */
        if (c) {
            mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent too large header");
        }
        /* as nginx: the connection ends, this stream the last one named (and logged) */
        mg_http_v2_stream_dropped(st);
        nghttp2_session_terminate_session2(st->h2->session, st->id, NGHTTP2_ENHANCE_YOUR_CALM);
        return NGHTTP2_ENHANCE_YOUR_CALM;
    }
    if (nlen == 0) {
        if (c) {
            mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent zero header name length");
        }
        nghttp2_session_terminate_session2(st->h2->session, st->id, NGHTTP2_PROTOCOL_ERROR);
        return NGHTTP2_PROTOCOL_ERROR;
    }
    /* names and values as nginx checks them (nghttp2's HTTP checks are off: see v2.c) */
    unsigned bad = 0;
    for (size_t i = name[0] == ':'; i < nlen; i++) {
        bad |= field_bad[name[i]];
    }
    if (bad & BAD_IN_NAME) {
        if (c) {
            stream_log_field(st, c, "client sent invalid header name: \"%.*s\"",
                             (int)mg_min(nlen, 256), (const char *)name);
        }
        mg_http_v2_stream_dropped(st);
        return NGHTTP2_PROTOCOL_ERROR;
    }
    unsigned name_bad = bad;
    /* the parser also sees CR, LF and NUL as the head's structure */
    if (mg_scan_value_stop(value, 0, vlen) < vlen) {
        if (c) {
            /* the whole value, as nginx quotes it: a NUL would end a "%.*s", so it is written
             * as the log writes the other control bytes, \x00 */
            char shown[256 * 4];
            size_t k = 0;
            for (size_t i = 0; i < vlen && i < 256; i++) {
                if (value[i] == '\0') {
                    memcpy(shown + k, "\\x00", 4);
                    k += 4;
                } else {
                    shown[k++] = (char)value[i];
                }
            }
            stream_log_field(st, c, "client sent header \"%.*s\" with invalid value: \"%.*s\"",
                             (int)mg_min(nlen, 256), (const char *)name, (int)k, shown);
        }
        mg_http_v2_stream_dropped(st);
        return NGHTTP2_PROTOCOL_ERROR;
    }
    if (st->bad) {
        return 0; /* answered 400: as nginx, the fields after the bad one are not read */
    }
    if (name[0] == ':') {
        stream_pseudo(st, name, nlen, value, vlen);
        return 0;
    }
    /* (the table's bits first: a plain name, the usual one, costs no second walk) */
    mg_str_t fname = {nlen, (char *)name};
    if ((name_bad & (NOT_TOKEN | UNDERSCORE)) && mg_http_header_skipped(cscf, fname)) {
        /* dropped as HTTP/1 drops a line, in nginx's h2 words (the default server's settings:
         * nginx reads them before the host chose another) */
        if (c) {
            st->h2->log_stream = st;
            mg_http_log_skipped(c, fname, (mg_str_t){vlen, (char *)value}, 1);
            st->h2->log_stream = NULL;
        }
        return 0;
    }
    /* names are lowercase here (checked above) */
    if (nlen == 6 && memcmp(name, "cookie", 6) == 0) {
        size_t sep = st->cookie ? 2 : 0;
        st->cookie = mg_realloc(st->cookie, st->cookie_len + sep + vlen);
        memcpy(st->cookie + st->cookie_len, "; ", sep);
        memcpy(st->cookie + st->cookie_len + sep, value, vlen);
        st->cookie_len += sep + vlen;
        return 0;
    }
    st->has_length |= nlen == 14 && memcmp(name, "content-length", 14) == 0;
    st->nfields++;
    head_line(st, (const char *)name, nlen, (const char *)value, vlen);
    return 0;
}

static void free_mem(void *data)
{
    free(*(char **)data);
}

/* The request connection goes (its request with it, as a client connection's). A request
 * still running (its h2 connection went under it) is logged first, as nginx's: 499 unless
 * some of a response went. */
static void stream_conn_gone(void *data)
{
    mg_connection_t *fc = data;
    mg_http_conn_t *hc = fc->data;
    mg_request_t *r = hc->r;
    if (r) {
        if (!r->logged) {
            if (!r->headers_out.status || r->bytes_sent == 0) {
                r->err_status = MG_HTTP_CLIENT_CLOSED_REQUEST;
            }
            mg_http_log_request(r);
        }
        mg_http_free_request(r);
    }
    mg_stat_state(fc->server, &hc->stat, MG_STAT_NONE);
}

static void stream_conn_free(mg_connection_t *fc)
{
    mg_http_v2_stream_t *st = ((mg_http_conn_t *)fc->data)->stream;
    mg_server_t *srv = fc->server;
    mg_cycle_t *cycle = fc->cycle;
    mg_http_v2_conn_t *h2 = st->h2;
    mg_lazy_timer_free(&fc->timer);
    /* (its cleanups run, fc with them: kept as one of the server's spares, emptied) */
    mg_pool_spare_give(&srv->h2_pools, fc->pool, MG_SERVER_H2_SPARE);
    mg_server_release(srv, cycle);
    st->fc = NULL;
    st->hc = NULL;
    if (st->closed) {
        stream_unlink(st);
    }
    mg_http_v2_release(h2);
}

void mg_http_v2_streams_reap(mg_http_v2_conn_t *h2)
{
    while (h2->dead) {
        mg_http_v2_stream_t *st = h2->dead;
        h2->dead = st->dead_next;
        stream_conn_free(st->fc);
    }
}

/* mg_conn_close for a stream's connection: the stream is reset unless its response is whole. */
static void stream_conn_close(mg_connection_t *fc)
{
    mg_http_conn_t *hc = fc->data;
    mg_http_v2_stream_t *st = hc->stream;
    if (st->fc != fc || fc->fd == -2) {
        return;
    }
    fc->fd = -2; /* closed: freed by the flush event */
    fc->closed = 1;
    /* each of the I/O events is pending or active only while its flag is set (the glue fires
     * them only then): most requests end with none; the timer knows whether it is pending */
    if (fc->reading) {
        event_del(&fc->rev);
    }
    if (fc->writing) {
        event_del(fc->wev);
    }
    mg_lazy_timer_free(&fc->timer);
    fc->reading = fc->writing = 0;
    mg_http_v2_data_drop(st); /* the request's pool goes */
    if (!st->out_eof) {
        mg_http_v2_output_end(st, 0);
    }
    stream_uncount(st);
    /* freed by the flush event, which then writes what the stream's end produced; it runs
     * after the connection is gone too (conn_gone leaves it) */
    st->dead_next = st->h2->dead;
    st->h2->dead = st;
    mg_http_v2_schedule(st->h2);
}

static ssize_t stream_recv(mg_connection_t *fc, char *buf, size_t len)
{
    mg_http_conn_t *hc = fc->data;
    mg_http_v2_stream_t *st = hc->stream;
    if (hc->r && st->has_length && st->in_total > (uint64_t)hc->r->headers_in.content_length_n) {
        errno = EMSGSIZE; /* more DATA than the content-length said: body.c answers 400 */
        return -1;
    }
    size_t have = st->in_last - st->in_start;
    if (have == 0) {
        if (st->reset) {
            errno = ECONNRESET;
            return -1;
        }
        if (st->in_eof) {
            return 0;
        }
        errno = EAGAIN;
        return -1;
    }
    size_t n = mg_min(have, len);
    memcpy(buf, st->in + st->in_start, n);
    st->in_start += n;
    if (st->in_start == st->in_last) {
        st->in_start = st->in_last = 0;
        /* all taken: the client may send the window's worth again */
        mg_http_v2_conn_t *h2 = st->h2;
        if (st->in_unacked && !st->closed && h2->c) {
            nghttp2_session_consume_stream(h2->session, st->id, st->in_unacked);
            mg_http_v2_schedule(h2);
        }
        st->in_unacked = 0;
    }
    return (ssize_t)n;
}

static ssize_t stream_send_plain(mg_connection_t *fc, const char *buf, size_t len)
{
    return mg_http_v2_send(fc, buf, len);
}

/* An address's room as mg_sockaddr_dup makes it, rounded for the next piece's alignment */
static size_t addr_room(const struct sockaddr *sa, socklen_t len)
{
    return (mg_sockaddr_room(sa, len) + 7) & ~(size_t)7;
}

/* The stream connection's copies of c's addresses and address text, in one allocation */
static void stream_addrs(mg_connection_t *fc, mg_connection_t *c)
{
    size_t a = addr_room(c->sockaddr, c->socklen);
    size_t b = addr_room(c->local_sockaddr, c->local_socklen);
    size_t t = strlen(c->addr_text) + 1;
    char *p = mg_palloc(fc->pool, a + b + t);
    memset(p, 0, a + b);
    memcpy(p, c->sockaddr, c->socklen);
    memcpy(p + a, c->local_sockaddr, c->local_socklen);
    memcpy(p + a + b, c->addr_text, t);
    fc->sockaddr = (struct sockaddr *)p;
    fc->socklen = c->socklen;
    fc->local_sockaddr = (struct sockaddr *)(p + a);
    fc->local_socklen = c->local_socklen;
    fc->addr_text = p + a + b;
}

static mg_connection_t *stream_conn_create(mg_http_v2_stream_t *st, size_t head_len)
{
    mg_http_v2_conn_t *h2 = st->h2;
    mg_connection_t *c = h2->c;
    mg_http_conn_t *chc = h2->hc;
    /* the stream's connection lives in its own pool, of http2_pool_size's blocks (nginx's
     * per-stream pool) */
    mg_http_v2_srv_conf_t *h2scf = chc->srv->ctx->srv_conf[mg_http_v2_module.index];
    mg_pool_t *pool = mg_pool_spare_take(&c->server->h2_pools, 0, h2scf->pool_size);
    mg_connection_t *fc = mg_pcalloc(pool, sizeof(*fc));
    fc->pool = pool;
    fc->fd = -1;
    fc->server = c->server;
    fc->cycle = c->cycle;
    mg_server_hold(c->server, c->cycle); /* a quitting worker waits for the request, which
                                            may outlive the connection (conn_gone) */
    fc->listening = c->listening;
    fc->log = c->log;
    fc->log.action = "reading client request headers"; /* a stream's lines, as nginx */
    mg_conn_local_addr(c);
    /* copies: the stream may outlive the connection's pool (the local address of the length
     * the connection's has: getsockname's failure left it zeros, socklen 0); as
     * mg_sockaddr_dup's, in one piece of the pool */
    stream_addrs(fc, c);
    fc->proxy_protocol = mg_proxy_protocol_dup(pool, c->proxy_protocol);
    fc->ssl = c->ssl; /* $scheme, $https, $ssl_*; no I/O goes through it here */
    fc->number = c->number;
    fc->start_msec = c->start_msec;
    fc->requests = st->nth - 1;
    fc->recv = stream_recv;
    fc->send = stream_send_plain;
    fc->send_chain = mg_http_v2_send_chain;
    static const mg_conn_sockless_t stream_io = {mg_http_v2_send_file, stream_conn_close};
    fc->sockless = &stream_io;
    fc->read_handler = stream_read_idle;
    fc->timeout_handler = stream_timeout_idle;
    fc->tcp_nodelay = 1;
    event_assign(&fc->rev, c->server->base, -1, EV_READ | EV_PERSIST, stream_on_read, fc);
    fc->wev = mg_palloc(pool, sizeof(struct event));
    event_assign(fc->wev, c->server->base, -1, EV_WRITE, stream_on_write, fc);
    mg_lazy_timer_init(&fc->timer, mg_server_timers(c->server), stream_on_timer, fc);

    mg_http_conn_t *hc = mg_pcalloc(fc->pool, sizeof(mg_http_conn_t));
    fc->data = hc;
    fc->log.data = hc;
    hc->addr_conf = chc->addr_conf;
    hc->srv = chc->srv;
    hc->ssl = chc->ssl;
    hc->ssl_sni_server = chc->ssl_sni_server;
    hc->stream = st;
    hc->piece_max = MG_HTTP_V2_PIECE_MAX; /* a directio file's pieces, framed from the scratch */
    /* a request without a body (END_STREAM came with its HEADERS) reads nothing but EOF */
    hc->size = head_len + (st->in_eof ? 256 : STREAM_READ_SIZE);
    if (st->in_eof) {
        /* no body comes (a content-length is a 400, headers_in.c): the head alone, in the pool
         * (a malloc and a free fewer a stream; body.c never replaces this one) */
        hc->buf = mg_pnalloc(fc->pool, hc->size);
        hc->buf_pooled = 1;
    } else {
        hc->buf = mg_alloc(hc->size);
        mg_pool_cleanup_add(fc->pool, free_mem, &hc->buf);
    }
    hc->head = mg_pcalloc(fc->pool, sizeof(*hc->head)); /* stream_start gives its array */
    mg_pool_cleanup_add(fc->pool, stream_conn_gone, fc);
    st->fc = fc;
    st->hc = hc;
    h2->refs++;
    return fc;
}

/* The stream could not become a request: reset it. */
static void stream_refuse(mg_http_v2_stream_t *st, uint32_t code, const char *why)
{
    mg_http_v2_conn_t *h2 = st->h2;
    if (why && h2->c) {
        mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "%s", why);
    }
    nghttp2_submit_rst_stream(h2->session, NGHTTP2_FLAG_NONE, st->id, code);
    mg_http_v2_schedule(h2);
}

static mg_str_t pool_copy(mg_pool_t *pool, mg_str_t v)
{
    char *p = mg_pnalloc(pool, v.len + 1);
    memcpy(p, v.data, v.len);
    p[v.len] = '\0';
    return (mg_str_t){v.len, p};
}

/* A request for a header block that did not become one (answered 400, or reset), whose log
 * line has what nginx had taken of it by then: the method, the path, :authority as the host
 * field, the protocol (not $request: nginx builds the request line last). */
static mg_request_t *stream_partial_request(mg_http_v2_stream_t *st, mg_connection_t *fc)
{
    mg_request_t *r = mg_http_create_request(fc);
    r->request_length = st->in_length;
    r->http_protocol = (mg_str_t){8, "HTTP/2.0"};
    if (st->method.data) {
        r->method_name = pool_copy(r->pool, st->method);
    }
    if (st->path.data) {
        r->unparsed_uri = pool_copy(r->pool, st->path);
    }
    if (st->authority.data) {
        mg_table_elt_t *h = mg_array_push(&r->headers_in.headers);
        h->key = (mg_str_t){4, "host"};
        h->value = pool_copy(r->pool, st->authority);
        h->hash = MG_HTTP_FIELD_PARSED;
        r->headers_in.host = h;
    }
    r->http_major = 2;
    r->http_minor = 0;
    return r;
}

/* A header block nginx answers 400 to: a request without a head, finalized with it. */
static void stream_reject(mg_http_v2_stream_t *st, const char *why)
{
    mg_connection_t *fc = stream_conn_create(st, 0);
    mg_log_error(MG_LOG_INFO, &fc->log, 0, "%s", why);
    mg_request_t *r = stream_partial_request(st, fc);
    r->keepalive = 0;
    mg_http_finalize_request(r, MG_HTTP_BAD_REQUEST);
}

void mg_http_v2_stream_dropped(mg_http_v2_stream_t *st)
{
    if (st->fc || st->h2->c == NULL || st->h2->c->closed) {
        return;
    }
    /* its request is this one, logged now: a start from the ready queue (its first header
     * block waiting there when a second one, trailers, was dropped) must not make another,
     * which would put the stream on the dead list twice */
    st->head_done = 1;
    mg_connection_t *fc = stream_conn_create(st, 0);
    mg_request_t *r = stream_partial_request(st, fc);
    r->keepalive = 0;
    mg_http_log_request(r);
    st->out_eof = 1; /* the reset is the stream's end */
    mg_conn_close(fc);
}

static void stream_start(mg_http_v2_stream_t *st);

static void log_client_reset(mg_http_v2_stream_t *st, uint32_t code)
{
    mg_log_t *log = &st->fc->log;
    if (code == NGHTTP2_CANCEL) {
        mg_log_error(MG_LOG_INFO, log, 0, "client canceled stream %d", (int)st->id);
    } else if (code == NGHTTP2_REFUSED_STREAM) {
        mg_log_error(MG_LOG_INFO, log, 0, "client refused stream %d", (int)st->id);
    } else if (code == NGHTTP2_INTERNAL_ERROR) {
        mg_log_error(MG_LOG_INFO, log, 0, "client terminated stream %d due to internal error",
                     (int)st->id);
    } else {
        mg_log_error(MG_LOG_INFO, log, 0, "client terminated stream %d with status %u", (int)st->id,
                     code);
    }
}

void mg_http_v2_stream_client_reset(mg_http_v2_stream_t *st, uint32_t code)
{
    /* (a stream whose request has not started has no line: nginx answered 400 to its head, and
     * had no stream left to reset; the walk feeds a reset after the requests before it start) */
    if (st->fc) {
        log_client_reset(st, code); /* nghttp2 then closes the stream: on_stream_close */
    }
}

void mg_http_v2_stream_ready(mg_http_v2_stream_t *st)
{
    mg_http_v2_conn_t *h2 = st->h2;
    if (st->head_done || st->queued) {
        return;
    }
    if (!st->in_eof) {
        /* a body follows: the request starts at once, as nginx's (with request buffering off
         * it goes to its upstream before the body's frames are read) */
        stream_start(st);
        return;
    }
    st->queued = 1;
    *h2->ready_tail = st;
    h2->ready_tail = &st->ready_next;
}

void mg_http_v2_streams_start(mg_http_v2_conn_t *h2)
{
    while (h2->ready) {
        mg_http_v2_stream_t *st = h2->ready;
        h2->ready = st->ready_next;
        if (h2->ready == NULL) {
            h2->ready_tail = &h2->ready;
        }
        st->ready_next = NULL;
        st->queued = 0;
        if (st->closed) {
            stream_unlink(st); /* the session went (or reset it) before its request started */
        } else if (h2->c && !h2->c->closed) {
            stream_start(st);
        }
    }
}

static void stream_start(mg_http_v2_stream_t *st)
{
    mg_http_v2_conn_t *h2 = st->h2;
    if (st->head_done || h2->c == NULL) {
        return;
    }
    st->head_done = 1;
    const char *missing = st->method.data == NULL   ? "client sent no :method header"
                          : st->scheme.data == NULL ? "client sent no :scheme header"
                          : st->path.data == NULL   ? "client sent no :path header"
                                                    : NULL;
    if (st->bad || missing) {
        /* CONNECT (no :scheme nor :path) too: nginx has no tunnel on h2 */
        stream_reject(st, st->bad ? st->bad : missing);
        goto done;
    }
    if (st->cookie) {
        st->nfields++;
        head_line(st, "cookie", 6, st->cookie, st->cookie_len);
        free(st->cookie);
        st->cookie = NULL;
    }
    /* "METHOD PATH HTTP/1.1", a host field from :authority, the fields */
    size_t hlen = st->method.len + 1 + st->path.len + sizeof(" HTTP/1.1\r\n") - 1 +
                  (st->authority.data ? sizeof("host: \r\n") - 1 + st->authority.len : 0) +
                  st->head_len + 2;
    mg_connection_t *fc = stream_conn_create(st, hlen);
    mg_http_conn_t *hc = fc->data;
    char *p = hc->buf;
    memcpy(p, st->method.data, st->method.len);
    p += st->method.len;
    *p++ = ' ';
    memcpy(p, st->path.data, st->path.len);
    p += st->path.len;
    memcpy(p, " HTTP/1.1\r\n", 11);
    p += 11;
    size_t line_len = (size_t)(p - hc->buf);
    /* a body without a length reaches the reader chunked (headers_in.c asks) */
    st->in_chunked = !st->in_eof && !st->has_length;
    /* :authority is a host field, the first (pseudo-headers come first), as nginx 1.22 takes
     * it: a host field too is a duplicate one (400) */
    int host_line = st->authority.data != NULL;
    if (host_line) {
        memcpy(p, "host: ", 6);
        p += 6;
        memcpy(p, st->authority.data, st->authority.len);
        p += st->authority.len;
        memcpy(p, "\r\n", 2);
        p += 2;
    }
    if (st->head_len) {
        memcpy(p, st->head, st->head_len);
        p += st->head_len;
    }
    memcpy(p, "\r\n", 2);
    p += 2;
    hc->last = (size_t)(p - hc->buf);
    mg_server_t *srv = st->h2->server;
    if (MG_HTTP_V2_KEEP && srv->h2_head == NULL && st->head_size <= 4096) {
        srv->h2_head = st->head; /* the next stream's head (head_line) */
        srv->h2_head_size = st->head_size;
    } else {
        free(st->head);
    }
    st->head = NULL;
    st->head_len = st->head_size = 0;

    /* The parser reads the request line (the method's id, the target's parts); the fields
     * need no parsing: each line is "name: value" as the header callback checked it (a name
     * of the parser's characters, a value without CR, LF or NUL), so the spans are set here,
     * as raw_values would find them (all after "name: ") */
    mg_http_request_head_t *head = hc->head;
    size_t nheaders = st->nfields + (size_t)host_line;
    mg_http_parse_init(head, mg_palloc(fc->pool, mg_max(nheaders, 1) * sizeof(mg_http_header_t)),
                       nheaders);
    head->raw_values = 1; /* an h2 value keeps its blanks, as nginx */
    ssize_t rc = mg_http_parse_request_head(hc->buf, line_len, head);
    if (rc != MG_PARSE_AGAIN || !head->request_line_done) {
        stream_refuse(st, NGHTTP2_PROTOCOL_ERROR, "client sent invalid request in http2 stream");
        mg_conn_close(fc);
        goto done;
    }
    for (char *l = hc->buf + line_len; l < p - 2;) {
        char *colon = memchr(l, ':', (size_t)(p - l));
        char *end = memchr(colon, '\r', (size_t)(p - colon));
        mg_http_header_t *hd = &head->headers[head->nheaders++];
        hd->name = (mg_span_t){l, (size_t)(colon - l)};
        hd->value = (mg_span_t){colon + 2, (size_t)(end - colon - 2)};
        l = end + 2;
    }
    head->pos = hc->last;
    rc = (ssize_t)hc->last;
    /* the version the request speaks: "HTTP/2.0" in $request and $server_protocol */
    memcpy((char *)head->request_line.data + head->request_line.len - 3, "2.0", 3);
    head->http_major = 2;
    head->http_minor = 0;
    mg_stat_state(fc->server, &hc->stat, MG_STAT_READING);
    mg_http_process_request_head(fc, head, (size_t)rc);
done:
    free_pseudo(st, &st->method);
    free_pseudo(st, &st->path);
    free_pseudo(st, &st->authority);
    free_pseudo(st, &st->scheme);
}

int mg_http_v2_body_unsized(mg_http_v2_stream_t *st)
{
    return st->in_chunked;
}

int mg_http_v2_body_whole(mg_http_v2_stream_t *st)
{
    return st->in_eof && st->in_start == st->in_last;
}

static void in_append(mg_http_v2_stream_t *st, const char *d, size_t len)
{
    if (st->in_last + len > st->in_size) {
        if (st->in_start) {
            memmove(st->in, st->in + st->in_start, st->in_last - st->in_start);
            st->in_last -= st->in_start;
            st->in_start = 0;
        }
        if (st->in_last + len > st->in_size) {
            st->in_size = mg_max(st->in_size * 2, st->in_last + len);
            st->in = mg_realloc(st->in, st->in_size);
        }
    }
    memcpy(st->in + st->in_last, d, len);
    st->in_last += len;
}

static void in_wake(mg_http_v2_stream_t *st)
{
    mg_connection_t *fc = st->fc;
    if (fc && fc->reading) {
        event_active(&fc->rev, EV_READ, 1);
    }
}

void mg_http_v2_stream_data(mg_http_v2_stream_t *st, const uint8_t *data, size_t len)
{
    if (st->fc == NULL || st->hc->r == NULL || len == 0) {
        /* no reader (the request ended): the bytes are dropped, the window given back */
        nghttp2_session_consume_stream(st->h2->session, st->id, len);
        return;
    }
    st->hc->r->request_length += len; /* the DATA bytes, as nginx counts them */
    st->in_total += len;
    if (st->in_chunked) {
        char line[32];
        int n = snprintf(line, sizeof(line), "%zx\r\n", len);
        in_append(st, line, (size_t)n);
        in_append(st, (const char *)data, len);
        in_append(st, "\r\n", 2);
    } else {
        in_append(st, (const char *)data, len);
    }
    st->in_unacked += len;
    in_wake(st);
}

void mg_http_v2_stream_eof(mg_http_v2_stream_t *st)
{
    if (st->in_eof) {
        return;
    }
    st->in_eof = 1;
    if (st->in_chunked) {
        in_append(st, "0\r\n\r\n", 5);
    }
    in_wake(st);
}

void mg_http_v2_stream_closed(mg_http_v2_stream_t *st, uint32_t error_code)
{
    st->closed = 1;
    stream_uncount(st);
    mg_connection_t *fc = st->fc;
    if (fc == NULL) {
        if (!st->queued) {
            stream_unlink(st); /* else h2->ready's walk frees it */
        }
        return;
    }
    /* reset by the client, or the session went: the request's reads and writes fail, which
     * ends it as a closed client connection ends a request */
    int reset = !(st->out_eof || st->data_eof) || error_code != NGHTTP2_NO_ERROR;
    if (reset) {
        st->reset = 1;
    }
    if (fc->writing && fc->write_handler && !st->offering && (st->ref_left || st->ref_taken)) {
        /* the writer waits for this stream's data source alone: it learns now that its bytes
         * went (or that the stream was reset), so the request of a closed stream ends, and
         * stops counting, at once, as nginx's: a client's next stream would be refused as
         * beyond http2_max_concurrent_streams, and a rapid-reset read keep hundreds waiting */
        event_del(fc->wev);
        fc->writing = 0;
        fc->write_handler(fc);
    } else if (reset && fc->writing) {
        event_active(fc->wev, EV_WRITE, 1);
    }
    if (reset && fc->reading && !fc->closed) {
        event_active(&fc->rev, EV_READ, 1);
    }
}

void mg_http_v2_streams_close(mg_http_v2_conn_t *h2)
{
    for (mg_http_v2_stream_t *st = h2->streams, *next; st; st = next) {
        next = st->next;
        st->closed = 1;
        st->reset = 1;
        if (st->fc) {
            mg_conn_close(st->fc);
        }
    }
}

void mg_http_v2_streams_abort(mg_http_v2_conn_t *h2)
{
    for (mg_http_v2_stream_t *st = h2->streams, *next; st; st = next) {
        next = st->next;
        if (!st->closed) {
            mg_http_v2_stream_closed(st, NGHTTP2_CANCEL);
        } else if (st->fc) {
            st->reset = 1;
        }
    }
}

ssize_t mg_http_v2_stream_peek(mg_connection_t *fc)
{
    mg_http_v2_stream_t *st = ((mg_http_conn_t *)fc->data)->stream;
    if (st->reset) {
        errno = ECONNRESET;
        return -1;
    }
    errno = EAGAIN;
    return -1;
}

void mg_http_v2_stream_done(mg_connection_t *fc, const mg_http_conn_next_t *next)
{
    mg_http_conn_t *hc = fc->data;
    mg_http_v2_stream_t *st = hc->stream;
    fc->log.action = NULL;
    mg_stat_state(fc->server, &hc->stat, MG_STAT_NONE);
    mg_http_v2_output_end(st, !next->reset && st->fc == fc && fc->fd == -1 && !fc->closed);
    mg_conn_close(fc);
}
