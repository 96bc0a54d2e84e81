/*
 * An HTTP connection's life: wait for and read a request head into the connection buffer
 * (growing it within client_header_buffer_size / large_client_header_buffers), hand complete
 * heads to request processing (headers_in.c, request.c), and once a request is done decide
 * between keepalive (with pipelining and body discarding), lingering close and close.
 */
#include <netinet/tcp.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "proxy_protocol.h"
#include "server.h"
#include "ssl.h"
#include "stat.h"
#include "v2.h"

static void read_head(mg_connection_t *c);

/* The most of a client's line an info message quotes (nginx: NGX_MAX_ERROR_STR - 300). */
#define LOG_LINE_MAX 1748
static void process_buffer(mg_connection_t *c);
static void keepalive_timeout(mg_connection_t *c);
static mg_request_t *head_request(mg_connection_t *c, int parsed);
static mg_http_srv_conf_t *head_srv(mg_http_conn_t *hc);

/* The request line of a head still being read: from its first byte up to CR/LF or what has
 * arrived (nginx shows the partial line as "request:" in its log). */
static mg_str_t partial_request_line(mg_http_conn_t *hc)
{
    mg_http_request_head_t *head = hc->head;
    if (head->request_line_done) {
        mg_str_t line = {head->request_line.len, (char *)head->request_line.data};
        return line;
    }
    /* the parser is on the request line (or still skipping the empty lines before it) */
    size_t p = hc->start + head->line_start, e = p;
    while (e < hc->last && hc->buf[e] != '\r' && hc->buf[e] != '\n') {
        e++;
    }
    mg_str_t line = { e - p, hc->buf + p };
    return line;
}

/* A head is being read (bytes of it arrived) but no request exists yet. */
static int reading_head(mg_http_conn_t *hc)
{
    return hc->r == NULL && !hc->discarding && !hc->keepalive_idle && !hc->proxy_protocol &&
           hc->last > hc->start;
}

/* A quoted field of the context with its bytes as they came, a NUL too (the log writes it as
 * \x00; %.*s would stop there and lose the rest of a request line nginx shows whole). */
static char *put_field(char *p, char *end, const char *label, const char *data, size_t len)
{
    p = mg_sprintf_end(p, end, "%s\"", label);
    size_t room = p < end ? (size_t)(end - p) - 1 : 0;
    size_t n = len < room ? len : room;
    memcpy(p, data, n);
    p += n;
    return mg_sprintf_end(p, end, "\"");
}

static size_t http_log_handler(mg_log_t *log, char *buf, size_t len)
{
    mg_http_conn_t *hc = log->data;
    char *p = buf, *end = buf + len;
    if (hc->keepalive_idle && hc->r == NULL) {
        return 0; /* "client ... closed keepalive connection" stands alone, as in nginx */
    }
    if (log->action) {
        p = mg_sprintf_end(p, end, " while %s", log->action);
    }
    mg_connection_t *conn = (mg_connection_t *)((char *)log - offsetof(mg_connection_t, log));
    p = mg_sprintf_end(p, end, ", client: %s", conn->addr_text);
    mg_request_t *r = hc->r;
    mg_http_v2_stream_t *st = hc->stream ? hc->stream : hc->v2 ? hc->v2->log_stream : NULL;
    if (r == NULL && st && (hc->v2 || !reading_head(hc))) {
        /* a stream before its request: nginx makes the request with the stream, so its lines
         * name the server and the :authority read so far */
        mg_http_srv_conf_t *cscf = hc->srv;
        mg_str_t name = mg_server_names_first(&cscf->server_names);
        p = mg_sprintf_end(p, end, ", server: %.*s", (int)name.len, name.data);
        if (st->authority.data && !(st->bad && st->bad_before_host)) {
            p = mg_sprintf_end(p, end, ", host: \"%.*s\"", (int)st->authority.len,
                               st->authority.data);
        }
        return (size_t)(p - buf);
    }
    if (r == NULL && !reading_head(hc)) {
        p = mg_sprintf_end(p, end, ", server: %s", hc->addr_conf->addr_text);
        return (size_t)(p - buf);
    }
    mg_http_srv_conf_t *cscf = r ? mg_http_get_srv_conf(r, mg_http_core_module) : head_srv(hc);
    mg_str_t name = mg_server_names_first(&cscf->server_names);
    p = mg_sprintf_end(p, end, ", server: %.*s", (int)name.len, name.data);
    if (r == NULL) {
        /* a head still arriving: what nginx would have parsed of it by now */
        mg_str_t line = partial_request_line(hc);
        if (line.len) {
            p = put_field(p, end, ", request: ", line.data, line.len);
        }
        /* the header lines the parser has finished so far */
        mg_http_request_head_t *head = hc->head;
        for (size_t i = 0; i < head->nheaders; i++) {
            if (mg_span_ieq(head->headers[i].name, "host")) {
                p = put_field(p, end, ", host: ", (const char *)head->headers[i].value.data,
                              head->headers[i].value.len);
                break;
            }
        }
        return (size_t)(p - buf);
    }
    if (r->request_line.len) {
        p = put_field(p, end, ", request: ", r->request_line.data, r->request_line.len);
    }
    /* nginx's order: the subrequest an event ran for, then its upstream */
    mg_request_t *cur = hc->current ? hc->current : r;
    if (cur != r) {
        p = put_field(p, end, ", subrequest: ", cur->uri.data, cur->uri.len);
    }
    p = mg_upstream_log_text(cur, p, end);
    if (r->headers_in.host) {
        p = put_field(p, end, ", host: ", r->headers_in.host->value.data,
                      r->headers_in.host->value.len);
    }
    if (r->headers_in.referer) {
        p = put_field(p, end, ", referrer: ", r->headers_in.referer->value.data,
                      r->headers_in.referer->value.len);
    }
    return (size_t)(p - buf);
}

mg_log_t *mg_http_request_log(mg_request_t *r)
{
    r->hc->current = r;
    return &r->connection->log;
}

/* The connection's pool goes: a connection closed under a request (client gone, shutdown)
 * takes the request with it, or the head it was reading, and its head buffer. One cleanup
 * for the three (two more were 64 bytes of every connection's pool's first block). */
static void http_conn_gone(void *data)
{
    mg_connection_t *c = data;
    mg_http_conn_t *hc = c->data;
    mg_http_conn_head_free(hc);
    if (hc->r) {
        mg_http_free_request(hc->r);
    }
    mg_stat_state(c->server, &hc->stat, MG_STAT_NONE);
    free(hc->buf);
}

static void use_error_log(mg_connection_t *c, mg_http_srv_conf_t *srv)
{
    mg_http_loc_conf_t *clcf = srv->ctx->loc_conf[mg_http_core_module.index];
    mg_log_use(&c->log, clcf->error_log ? clcf->error_log : c->cycle->log);
}

/* A head being read is a request in nginx, made on the connection's server and moved by its
 * Host: its lines go to that server's error_log, not the previous request's location's. */
static void head_log_use(mg_connection_t *c)
{
    use_error_log(c, head_srv(c->data));
}

/* nginx's log action for a head being read: which line it has got to. */
static void set_head_action(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    head_log_use(c);
    c->log.action = hc->head->request_line_done ? "reading client request headers"
                    : hc->pipelined             ? "reading client pipelined request line"
                                                : "reading client request line";
}

/* The head buffer (client_header_buffer_size) and the parser's state with its field list (one
 * block) a connection reads heads into are taken right before a read (edge-triggered events
 * report a socket with bytes in it) and given back to the server's spares when the connection
 * waits with nothing buffered: an idle keepalive connection holds neither, as nginx frees its
 * header buffer then, and a busy one takes the pair it gave back, no malloc. A large buffer
 * (large_client_header_buffers) and a grown field list are freed then. Bytes of a next request
 * in the buffer keep it. */
#define HEAD_FIELDS 32
/* How far head_layout_overflow laid the head's complete lines out in nginx's buffers: each
 * read goes on from there (a head trickled in costs its length once, not once a read). */
typedef struct {
    size_t lines; /* complete lines laid out: the request line is line 0; 0: none yet */
    size_t next;  /* the offset (from the head's start) of the next line */
    size_t prev;  /* the previous header line's offset; SIZE_MAX: none */
    size_t cap, used, large, max, num;
    unsigned host : 1;     /* max and num are the Host's server's */
    unsigned bad_host : 1; /* the name laid out last is invalid: the head is refused for it */
} head_layout_t;

typedef struct {
    mg_http_request_head_t head; /* first: the block is freed through hc->head */
    head_layout_t layout;
    mg_http_header_t fields[HEAD_FIELDS];
} head_block_t;

static void head_buf_take(mg_connection_t *c, mg_http_conn_t *hc)
{
    mg_server_t *srv = c->server;
    size_t size = hc->srv->client_header_buffer_size;
    if (srv->h1_nbufs && srv->h1_bufs[srv->h1_nbufs - 1].size == size) {
        hc->buf = srv->h1_bufs[--srv->h1_nbufs].buf;
    } else {
        hc->buf = mg_alloc(size);
    }
    hc->size = size;
    head_block_t *hb = srv->h1_nheads ? srv->h1_heads[--srv->h1_nheads] : mg_alloc(sizeof(*hb));
    mg_http_parse_init(&hb->head, hb->fields, HEAD_FIELDS);
    hb->layout.lines = 0;
    hc->head = &hb->head;
}

/* The field list outgrew its block (more than HEAD_FIELDS lines): twice as many. */
static void head_grow(mg_http_request_head_t *head)
{
    head_block_t *hb = (head_block_t *)head;
    size_t n = head->max_headers * 2;
    if (head->headers == hb->fields) {
        head->headers =
            memcpy(mg_alloc(n * sizeof(mg_http_header_t)), hb->fields, sizeof(hb->fields));
    } else {
        head->headers = mg_realloc(head->headers, n * sizeof(mg_http_header_t));
    }
    head->max_headers = n;
}

/* Free the head's block (NULL: none), unless the server's spares take it. */
static void head_free(mg_server_t *srv, mg_http_request_head_t *head)
{
    if (head == NULL) {
        return;
    }
    head_block_t *hb = (head_block_t *)head;
    if (head->headers != hb->fields) {
        free(head->headers);
    }
    if (srv && srv->h1_nheads < MG_SERVER_H1_SPARE) {
        srv->h1_heads[srv->h1_nheads++] = hb;
    } else {
        free(hb);
    }
}

static void head_buf_release(mg_connection_t *c, mg_http_conn_t *hc)
{
    mg_server_t *srv = c->server;
    if (hc->size == hc->srv->client_header_buffer_size && srv->h1_nbufs < MG_SERVER_H1_SPARE) {
        srv->h1_bufs[srv->h1_nbufs].buf = hc->buf;
        srv->h1_bufs[srv->h1_nbufs++].size = hc->size;
    } else {
        free(hc->buf);
    }
    head_free(srv, hc->head);
    hc->buf = NULL;
    hc->head = NULL;
    hc->size = hc->start = hc->last = 0;
}

void mg_http_conn_head_free(mg_http_conn_t *hc)
{
    head_free(NULL, hc->head);
    hc->head = NULL;
}

/* The next head starts at hc->start: forget the previous one's parse, keep its array (none
 * when the connection gave it back meanwhile: the request ended at once). */
static void head_reset(mg_http_conn_t *hc)
{
    if (hc->head) {
        mg_http_parse_init(hc->head, hc->head->headers, hc->head->max_headers);
        ((head_block_t *)hc->head)->layout.lines = 0;
    }
}

static void head_timeout(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    if (hc->proxy_protocol) {
        c->log.action = "reading PROXY protocol";
        mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
    } else if (reading_head(hc)) {
        set_head_action(c);
        mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
        /* nginx has a request by now: it logs a 408 and closes, no answer (with an RST when
         * its server says reset_timedout_connection) */
        mg_request_t *r = head_request(c, 1);
        c->timedout = 1;
        mg_http_finalize_request(r, MG_HTTP_REQUEST_TIME_OUT);
        return;
    } else if (c->requests == 0) {
        c->log.action = "waiting for request";
        mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
    }
    mg_conn_close(c);
}

void mg_http_init_connection(mg_connection_t *c)
{
    mg_http_conn_t *hc = mg_pcalloc(c->pool, sizeof(mg_http_conn_t));
    c->data = hc;
    c->debug_proto = MG_LOG_DEBUG_HTTP;
    /* the port's addresses choose addr_conf; the port is not kept (nothing asks it later) */
    mg_http_port_t *port = c->listening->servers;
    mg_http_addr_conf_t **addrs = port->addrs.elts;
    hc->addr_conf = addrs[0];
    if (port->addrs.nelts > 1 && mg_conn_local_addr(c) == MG_OK) {
        /* a wildcard socket serves several addresses: pick by the real local address;
         * the wildcard entry is last */
        for (size_t i = 0; i < port->addrs.nelts; i++) {
            hc->addr_conf = addrs[i];
            if (mg_sockaddr_equal((struct sockaddr *)&addrs[i]->sockaddr, c->local_sockaddr, 0)) {
                break;
            }
        }
    }
    c->log.handler = http_log_handler;
    c->log.data = hc;
    mg_http_srv_conf_t *cscf = hc->addr_conf->default_server;
    mg_http_conn_set_server(c, cscf);
    hc->proxy_protocol = hc->addr_conf->proxy_protocol;
    /* the head buffer and the parser's block come with the first read (head_buf_take) */
    mg_pool_cleanup_add(c->pool, http_conn_gone, c);
    c->read_handler = read_head;
    c->timeout_handler = head_timeout;
    mg_conn_timer_set(c, cscf->client_header_timeout);
    mg_conn_edge(c); /* (before TLS: core/ssl.c says what its reads leave) */
    if (hc->addr_conf->ssl) {
        hc->ssl = 1;
        mg_http_ssl_init_connection(c);
    } else {
        hc->v2_preface = mg_http_v2_enabled(hc, cscf);
    }
    mg_conn_read_on(c);
}

void mg_http_conn_set_server(mg_connection_t *c, mg_http_srv_conf_t *srv)
{
    mg_http_conn_t *hc = c->data;
    hc->srv = srv;
    use_error_log(c, srv);
}

void mg_http_conn_reader_done(mg_connection_t *c)
{
    c->read_handler = read_head;
}

void mg_http_wait_request_start(mg_connection_t *c)
{
    c->read_handler = read_head;
    c->timeout_handler = head_timeout;
    read_head(c);
}

/* The request that answers or logs a head refused or timed out before it was complete, on
 * the default server or the one its Host named; `parsed`: the request line is taken as parsed
 * (not when it is the line refused). */
static mg_request_t *head_request(mg_connection_t *c, int parsed)
{
    mg_http_conn_t *hc = c->data;
    mg_str_t line = partial_request_line(hc);
    const char *current = hc->buf + hc->start + hc->head->line_start;
    mg_conn_timer_del(c);
    mg_request_t *r = mg_http_create_request(c);
    r->keepalive = 0;
    if (parsed) {
        mg_http_partial_head(r, hc->head, current);
    }
    if (!parsed || !hc->head->request_line_done) {
        /* $request and later log lines show what arrived of the request line */
        r->request_line.data = mg_pnalloc(r->pool, line.len + 1);
        memcpy(r->request_line.data, line.data, line.len);
        r->request_line.len = line.len;
    }
    hc->start = hc->last;
    head_reset(hc);
    return r;
}

/* Reject a head before a request exists: log with the head's context (the caller set the
 * action), then answer from a minimal request. */
static void reject_head(mg_connection_t *c, mg_int_t status, int http09, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reject_head(mg_connection_t *c, mg_int_t status, int http09, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    head_log_use(c);
    mg_log_error(MG_LOG_INFO, &c->log, 0, "%s", msg);
    mg_request_t *r = head_request(c, status != MG_HTTP_REQUEST_URI_TOO_LARGE);
    if (http09) {
        r->http_major = 0;
        r->http_minor = 9;
        r->http_09 = 1; /* the page goes out without a head */
    }
    mg_http_finalize_request(r, status);
}

/* The bytes of the line being parsed, for "too long header line" and "invalid header line". */
static mg_str_t current_line(mg_http_conn_t *hc, size_t max)
{
    mg_http_request_head_t *head = hc->head;
    mg_str_t line = { 0, hc->buf + hc->start + head->line_start };
    size_t avail = hc->last - hc->start - head->line_start;
    line.len = avail < max ? avail : max;
    return line;
}

/* Drop body bytes of the request that are already in the buffer (during the request, when
 * a handler discards the body, and after it). MG_OK when the body is all gone, MG_AGAIN when
 * more is to come, MG_ERROR on an invalid chunked body. */
mg_int_t mg_http_discard_buffered(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    if (hc->discard_rest > 0) {
        size_t avail = hc->last - hc->start;
        size_t n = (size_t)hc->discard_rest < avail ? (size_t)hc->discard_rest : avail;
        hc->start += n;
        hc->discard_rest -= (int64_t)n;
    } else if (hc->discard_chunked_on) {
        size_t pos = 0;
        const char *data;
        size_t dlen;
        for (;;) {
            int rc = mg_http_parse_chunked(&hc->discard_chunked, hc->buf + hc->start,
                                           hc->last - hc->start, &pos, &data, &dlen);
            if (rc < 0 && rc != MG_PARSE_AGAIN) {
                return MG_ERROR;
            }
            if (rc == MG_PARSE_AGAIN || hc->discard_chunked.done) {
                break;
            }
        }
        hc->start += pos;
        if (hc->discard_chunked.done) {
            hc->discard_chunked_on = 0;
        }
    }
    if (hc->discard_rest > 0 || hc->discard_chunked_on) {
        return MG_AGAIN;
    }
    hc->discarding = 0;
    return MG_OK;
}

/* The server whose large_client_header_buffers take a head's lines after its Host: nginx
 * takes them from its request's server when a line needs one, which is the Host's once the
 * Host line (or a request line with a host) was read. Looks among the first nlines header
 * lines; NULL when no Host is there (the connection's server's then), else the server and in
 * *from the first line (0 the request line, k the k-th header line) it holds for. A name no
 * server has is the default server's; an invalid one is NULL (the connection's server's): the
 * head is refused for it at its line (head_layout_overflow stops there; an incomplete head as
 * soon as the line is complete, head_refused_early). */
static mg_http_srv_conf_t *host_lookup(mg_http_conn_t *hc, mg_span_t host);

static mg_http_srv_conf_t *host_srv(mg_http_conn_t *hc, size_t nlines, size_t *from)
{
    mg_http_request_head_t *head = hc->head;
    mg_span_t host = head->host;
    *from = 1;
    for (size_t i = 0; host.len == 0 && i < nlines && i < head->nheaders; i++) {
        if (mg_span_ieq(head->headers[i].name, "host")) {
            host = head->headers[i].value;
            *from = i + 2;
        }
    }
    return host_lookup(hc, host);
}

/* The server of a Host (or a request line's host), as headers_in.c chooses it: NULL when it
 * is invalid, the default server when no server has that name. */
static mg_http_srv_conf_t *host_lookup(mg_http_conn_t *hc, mg_span_t host)
{
    /* (rare: only a head larger than client_header_buffer_size asks) */
    mg_str_t name = {0, mg_alloc(host.len + 1)};
    mg_http_srv_conf_t *srv =
        mg_http_host_server(NULL, hc->addr_conf, (mg_str_t){host.len, (char *)host.data}, &name);
    free(name.data);
    return srv;
}

/* The server nginx's request for the head being read is on by now: the Host's once its line
 * (or a request line with a host) was read, else the connection's. Its large buffers take the
 * line being read; it names the head's log lines. */
static mg_http_srv_conf_t *head_srv(mg_http_conn_t *hc)
{
    size_t from;
    mg_http_request_head_t *head = hc->head;
    mg_http_srv_conf_t *srv = head->request_line_done ? host_srv(hc, head->nheaders, &from) : NULL;
    return srv ? srv : hc->srv;
}

static int head_layout_overflow(mg_http_conn_t *hc, mg_http_request_head_t *head, const char **at,
                                size_t *show);

/* An incomplete head's header lines as nginx's buffers hold them: the line being read may
 * have filled the last of them before this buffer is full (nginx refuses it then, without
 * waiting for more). MG_OK, or an HTTP status with *quote what nginx quotes. */
static mg_int_t head_overflow(mg_http_conn_t *hc, mg_str_t *quote)
{
    mg_http_request_head_t *head = hc->head;
    const char *line;
    if (hc->discarding || hc->last - hc->start <= hc->srv->client_header_buffer_size ||
        !head->request_line_done || !head_layout_overflow(hc, head, &line, &quote->len)) {
        return MG_OK;
    }
    quote->data = (char *)line;
    return line ? MG_HTTP_REQUEST_HEADER_TOO_LARGE : MG_HTTP_REQUEST_URI_TOO_LARGE;
}

/* Make room at the end of the buffer, growing it as nginx's large buffers allow. Returns
 * MG_OK, or an HTTP status when the head is too large (a header line's: *quote, the part of
 * it nginx quotes). */
static mg_int_t make_room(mg_connection_t *c, int have_head, mg_str_t *quote)
{
    mg_http_conn_t *hc = c->data;
    mg_http_request_head_t *head = hc->head;
    mg_http_srv_conf_t *cscf = hc->srv;
    if (hc->start > 0) {
        /* the parser's offsets are from hc->start: only its strings move */
        mg_http_parse_rebase(head, hc->buf + hc->start, hc->buf);
        memmove(hc->buf, hc->buf + hc->start, hc->last - hc->start);
        hc->last -= hc->start;
        hc->start = 0;
    }
    if (hc->last < hc->size) {
        return MG_OK;
    }
    /* the line being read takes a large buffer: the Host's server's after a Host line */
    mg_http_srv_conf_t *lcf = have_head ? head_srv(hc) : cscf;
    if (have_head && !hc->discarding && !head->request_line_done &&
        hc->last - head->line_start >= lcf->large_client_header_buffers_size) {
        return MG_HTTP_REQUEST_URI_TOO_LARGE;
    }
    *quote = current_line(hc, lcf->large_client_header_buffers_size);
    /* nginx's first buffer and its large ones: head_lines_too_long tells how much fits */
    size_t max = cscf->client_header_buffer_size + lcf->large_client_header_buffers_size *
                                                       (size_t)lcf->large_client_header_buffers_num;
    if (hc->discarding) {
        max = hc->size; /* just recycle the space */
        hc->last = hc->start = 0;
        return MG_OK;
    }
    if (hc->size >= max) {
        return MG_HTTP_REQUEST_HEADER_TOO_LARGE;
    }
    size_t nsize = hc->size < lcf->large_client_header_buffers_size
                       ? lcf->large_client_header_buffers_size
                       : hc->size + lcf->large_client_header_buffers_size;
    if (nsize > max) {
        nsize = max;
    }
    /* a new block rather than realloc: the parser's strings are rebased from the old one */
    char *nb = mg_alloc(nsize);
    memcpy(nb, hc->buf, hc->last);
    mg_http_parse_rebase(head, hc->buf, nb);
    free(hc->buf);
    hc->buf = nb;
    hc->size = nsize;
    return MG_OK;
}

/* nginx keeps each line of a head in one buffer: the lines fill client_header_buffer_size's,
 * and a line that does not fit what is left moves whole to the next large buffer, of which
 * there are large_client_header_buffers' number. This buffer grows in one piece, so the head
 * read so far is laid out that way here: the complete lines, and in an incomplete head the
 * line being read, which nginx moves once it fills its buffer to the end. A line is refused when
 * the part of it a buffer holds is a large buffer's size, or no large buffer is left; nginx quotes
 * that part (from the line's start to its buffer's end). Returns 0 when the head fits, else
 * 1 with the line (NULL: the request line, "too long URI") and the length quoted. */
static int head_layout_overflow(mg_http_conn_t *hc, mg_http_request_head_t *head, const char **at,
                                size_t *show)
{
    head_layout_t *l = &((head_block_t *)head)->layout;
    const char *base = hc->buf + hc->start;
    const char *end = hc->buf + hc->last;
    if (l->lines > 0 && l->bad_host) {
        return 0; /* (set for this head: the first call, lines 0, sets it anew) */
    }
    if (l->lines == 0) {
        /* a request line's host chooses the server for the header lines */
        mg_http_srv_conf_t *hsrv = head->host.len ? host_lookup(hc, head->host) : NULL;
        l->host = hsrv != NULL;
        l->bad_host = head->host.len && hsrv == NULL;
        hsrv = hsrv ? hsrv : hc->srv;
        l->max = hsrv->large_client_header_buffers_size;
        l->num = (size_t)hsrv->large_client_header_buffers_num;
        l->next = (size_t)(head->request_line.data - base);
        l->prev = SIZE_MAX;
        l->cap = hc->srv->client_header_buffer_size;
        l->used = l->next;
        l->large = 0;
    }
    /* the request line's large buffers are the connection's server's */
    size_t max = l->lines == 0 ? hc->srv->large_client_header_buffers_size : l->max;
    size_t num = l->lines == 0 ? (size_t)hc->srv->large_client_header_buffers_num : l->num;
    for (;;) {
        const char *line = base + l->next;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        size_t len = eol ? (size_t)(eol - line) + 1 : (size_t)(end - line);
        size_t cap = l->cap, used = l->used, large = l->large;
        if (used == cap) {
            /* the previous line ended the buffer: the next takes a large one at once; with
             * none left nginx quotes the line its parser still points at, the previous */
            if (large == num) {
                *at = l->prev != SIZE_MAX ? base + l->prev : line;
                *show = l->prev != SIZE_MAX ? l->next - l->prev : 0;
                return 1;
            }
            large++;
            cap = max;
            used = 0;
        }
        /* a complete line fits up to the buffer's end; one being read moves when it fills it */
        while (eol ? used + len > cap : used + len >= cap) {
            size_t held = cap - used;
            if (held >= max || large == num) {
                *at = l->lines == 0 ? NULL : line;
                *show = held;
                return 1;
            }
            large++;
            cap = max;
            used = 0;
        }
        if (eol == NULL || len == 1 || (len == 2 && line[0] == '\r')) {
            return 0; /* the line being read (laid out again with more bytes), or the end */
        }
        if (l->lines > 0) {
            l->prev = l->next;
            mg_http_header_t *h = l->lines <= head->nheaders ? &head->headers[l->lines - 1] : NULL;
            if (!l->host && h && mg_span_ieq(h->name, "host")) {
                /* the lines after the Host take its server's large buffers */
                mg_http_srv_conf_t *hsrv = host_lookup(hc, h->value);
                l->host = 1;
                l->bad_host = hsrv == NULL;
                if (hsrv) {
                    l->max = hsrv->large_client_header_buffers_size;
                    l->num = (size_t)hsrv->large_client_header_buffers_num;
                }
            }
        }
        l->cap = cap;
        l->used = used + len;
        l->large = large;
        l->next += len;
        l->lines++;
        if (l->bad_host) {
            /* nginx refuses the name at its line: what follows is not laid out */
            return 0;
        }
        max = l->max;
        num = l->num;
    }
}

static int head_refused_early(mg_connection_t *c, mg_http_request_head_t *head, size_t nlines);

/* A complete head larger than client_header_buffer_size: refused (1) when nginx's buffers
 * would not have held it (or at a line before the one they could not hold). */
static int head_lines_too_long(mg_connection_t *c, mg_http_request_head_t *head)
{
    mg_http_conn_t *hc = c->data;
    const char *line;
    size_t show;
    if (!head_layout_overflow(hc, head, &line, &show)) {
        return 0;
    }
    if (line == NULL) {
        c->log.action = "reading client request line";
        reject_head(c, MG_HTTP_REQUEST_URI_TOO_LARGE, 0, "client sent too long URI");
        return 1;
    }
    size_t before = 0; /* the header lines before the refused one */
    while (before < head->nheaders && head->headers[before].name.data < line) {
        before++;
    }
    if (head_refused_early(c, head, before)) {
        return 1;
    }
    show = show < LOG_LINE_MAX ? show : LOG_LINE_MAX;
    c->log.action = "reading client request headers";
    head->line_start = (size_t)(line - (hc->buf + hc->start));
    reject_head(c, MG_HTTP_REQUEST_HEADER_TOO_LARGE, 0,
                "client sent too long header line: \"%.*s...\"", (int)show, line);
    return 1;
}

/* Parse what the buffer holds; start a request when a head is complete.
 * Returns MG_AGAIN when more input is needed, MG_OK when a request took over, MG_ERROR when
 * the connection is gone. */
/* nginx's debug lines for a parsed head (the parser took it whole, so they come together) */
static void debug_head(mg_connection_t *c, const mg_http_request_head_t *head)
{
    mg_log_t *log = &c->log;
    mg_debug_http(log, "http process request line");
    mg_debug_http(log, "http request line: \"%.*s\"", (int)head->request_line.len,
                  head->request_line.data);
    mg_debug_http(log, "http uri: \"%.*s\"", (int)head->path.len, head->path.data);
    mg_debug_http(log, "http args: \"%.*s\"", (int)head->args.len,
                  head->args.data ? head->args.data : "");
    mg_debug_http(log, "http process request header line");
    for (size_t i = 0; i < head->nheaders; i++) {
        const mg_http_header_t *h = &head->headers[i];
        mg_debug_http(log, "http header: \"%.*s: %.*s\"", (int)h->name.len, h->name.data,
                      (int)h->value.len, h->value.data);
    }
    mg_debug_http(log, "http header done");
}

/* Hand the head's first `used` bytes (the whole head, or its complete lines when it is refused
 * at one of them) to a request. Inlined: as a call it cost every request ~25 instructions
 * more (callgrind, "return 200" keepalive). */
static inline __attribute__((always_inline)) void
take_head(mg_connection_t *c, mg_http_conn_t *hc, mg_http_request_head_t *head, size_t used)
{
    c->log.action = NULL;
    hc->head_pipelined = hc->pipelined;
    hc->pipelined = 0;
    hc->head_timer_due = 0;
    mg_conn_timer_del(c); /* the head's, or the keepalive wait's when the head came whole */
    c->idle = 0;
    if (mg_log_debug_on(MG_LOG_DEBUG_HTTP, &c->log)) {
        debug_head(c, head);
    }
    mg_http_process_request_head(c, head, used);
    /* the request took what it needs (its strings point into buf, not into head); the
     * connection's memory stays valid until the loop comes back, even if it was closed */
    head_reset(hc);
}

/* The header lines from..to (k the k-th) of a head still arriving that ignore_invalid_headers
 * skips, logged now, as nginx logs each when it comes: before what a later line, a timeout or
 * the client's close brings. Each under the server nginx's request is on by then (the Host's
 * after its line). */
static void log_skipped_lines(mg_connection_t *c, mg_http_request_head_t *head, size_t from,
                              size_t to)
{
    mg_http_conn_t *hc = c->data;
    mg_http_srv_conf_t *hsrv = NULL;
    size_t hfrom = 0; /* 0: the Host's server not looked up yet */
    for (size_t k = from; k < to && k <= head->nheaders; k++) {
        mg_http_header_t *h = &head->headers[k - 1];
        mg_str_t name = {h->name.len, (char *)h->name.data};
        if (mg_http_header_name_plain(name)) {
            continue; /* (no server skips it) */
        }
        if (hfrom == 0) {
            hsrv = host_srv(hc, head->nheaders, &hfrom);
        }
        mg_http_srv_conf_t *srv = hsrv && k >= hfrom ? hsrv : hc->srv;
        if (mg_http_header_skipped(srv, name)) {
            /* the line's context is the head as nginx had it then: its server and Host are
             * those of the lines up to this one (the log handler reads nheaders) */
            size_t n = head->nheaders;
            head->nheaders = k;
            use_error_log(c, srv);
            mg_http_log_skipped(c, name, (mg_str_t){h->value.len, (char *)h->value.data}, 0);
            head->nheaders = n;
        }
    }
}

/* A head still arriving (or refused at its line `nlines` + 1, too long or broken) whose first
 * `nlines` complete header lines nginx refuses one of (an invalid Host, a second unique
 * header, ...) is refused now, at that line, as nginx takes each line when it comes: 1 then.
 * Each line is checked once however the head trickles in (the skipped ones logged then); a
 * head that comes whole (the common case) never gets here. */
static int head_refused_early(mg_connection_t *c, mg_http_request_head_t *head, size_t nlines)
{
    mg_http_conn_t *hc = c->data;
    if (!head->request_line_done || head->checked == nlines + 1) {
        return 0;
    }
    size_t from = head->checked;
    head->checked = nlines + 1;
    size_t at = mg_http_head_refused_at(head, from, nlines, hc->srv->merge_slashes);
    log_skipped_lines(c, head, from ? from : 1, at);
    if (at == SIZE_MAX) {
        return 0;
    }
    take_head(c, hc, head, head->line_start); /* the complete lines: refused at one of them */
    return 1;
}

static mg_int_t parse_buffered(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_http_request_head_t *head = hc->head;
    for (;;) {
        /* the parser goes on from the first byte it has not seen */
        ssize_t rc = mg_http_parse_request_head(hc->buf + hc->start, hc->last - hc->start, head);
        if (rc == MG_PARSE_TOO_MANY_HEADERS) {
            head_grow(head);
            continue;
        }
        if (rc == MG_PARSE_AGAIN) {
            return head_refused_early(c, head, head->nheaders) ? MG_OK : MG_AGAIN;
        }
        if (rc < 0) {
            if (head_refused_early(c, head, head->nheaders)) {
                return MG_OK; /* at a line before the broken one */
            }
            set_head_action(c);
            switch (rc) {
            case MG_PARSE_INVALID_METHOD:
                if (head->method.len) {
                    /* a method was read, then the line ended: HTTP/0.9 allows GET only */
                    reject_head(c, MG_HTTP_BAD_REQUEST, 1,
                                "client sent invalid method in HTTP/0.9 request");
                } else {
                    reject_head(c, MG_HTTP_BAD_REQUEST, 0, "client sent invalid method");
                }
                break;
            case MG_PARSE_INVALID_VERSION:
                reject_head(c, head->http_major > 1 ? MG_HTTP_VERSION_NOT_SUPPORTED : MG_HTTP_BAD_REQUEST,
                            0, "client sent invalid version");
                break;
            case MG_PARSE_INVALID_HEADER: {
                /* nginx shows the line up to the offending byte, then that byte in hex */
                mg_str_t line = current_line(hc, LOG_LINE_MAX);
                size_t upto = head->error_at - head->line_start;
                unsigned char bad = upto < line.len ? (unsigned char)line.data[upto] : 0;
                reject_head(c, MG_HTTP_BAD_REQUEST, 0,
                            "client sent invalid header line: \"%.*s\\x%02x...\"",
                            (int)(upto < line.len ? upto : line.len), line.data, bad);
                break;
            }
            default:
                reject_head(c, MG_HTTP_BAD_REQUEST, 0, "client sent invalid request");
            }
            return MG_OK;
        }
        if ((size_t)rc > hc->srv->client_header_buffer_size && head_lines_too_long(c, head)) {
            return MG_OK;
        }
        take_head(c, hc, head, (size_t)rc);
        return MG_OK;
    }
}

/* The PROXY protocol header before the first request: MG_OK (read; the request may follow),
 * MG_AGAIN (more bytes needed) or MG_ERROR (broken: logged, the connection is to be closed). */
static mg_int_t read_proxy_protocol(mg_connection_t *c);

/* A head that began on a kept-alive connection waits for the rest: client_header_timeout from
 * now (until then the keepalive wait's timer, with head_timeout, was left as it was). */
static void head_timer_arm(mg_connection_t *c, mg_http_conn_t *hc)
{
    if (hc->head_timer_due) {
        hc->head_timer_due = 0;
        mg_conn_timer_set(c, hc->srv->client_header_timeout);
    }
}

static mg_int_t read_proxy_protocol(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    c->log.action = "reading PROXY protocol";
    ssize_t n = mg_proxy_protocol_read(c->pool, &c->log, hc->buf + hc->start, hc->last - hc->start,
                                       hc->size, &c->proxy_protocol);
    if (n <= 0) {
        return n == 0 ? MG_AGAIN : MG_ERROR;
    }
    c->log.action = NULL;
    hc->proxy_protocol = 0;
    hc->start += (size_t)n;
    return MG_OK;
}

static void process_buffer(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    /* a read that did not fill the buffer emptied the socket: the next bytes come with the
     * next read event, so asking again now would only cost a syscall */
    int drained = 0;
    for (;;) {
        if (hc->r) {
            return; /* a request is in progress; its end brings us back */
        }
        if (hc->discarding) {
            mg_int_t rc = mg_http_discard_buffered(c);
            if (rc == MG_ERROR) {
                mg_log_error(MG_LOG_ERR, &c->log, 0, "client sent invalid chunked body");
                mg_conn_close(c);
                return;
            }
            if (rc == MG_OK) {
                mg_stat_state(c->server, &hc->stat, MG_STAT_NONE); /* the request's end */
            }
            if (rc == MG_OK && hc->last == hc->start) {
                hc->keepalive_idle = 1; /* the body is gone: waiting for the next request */
            }
        }
        if (hc->proxy_protocol && hc->last > hc->start) {
            /* nginx wants the whole header in the first read; a header split over several
             * segments is taken here too */
            mg_int_t rc = read_proxy_protocol(c);
            if (rc == MG_ERROR) {
                mg_conn_close(c);
                return;
            }
        }
        if (hc->v2_preface && !hc->proxy_protocol && hc->last > hc->start) {
            /* cleartext h2 with prior knowledge: the preface decides (v2.c) */
            mg_int_t rc = mg_http_v2_preface(c);
            if (rc == MG_OK) {
                return;
            }
            hc->v2_preface = rc == MG_AGAIN;
        }
        if (!hc->discarding && !hc->proxy_protocol && !hc->v2_preface && hc->last > hc->start) {
            mg_int_t rc = parse_buffered(c);
            if (rc == MG_OK) {
                if (c->closed || c->read_handler != read_head) {
                    return; /* closed, or lingering */
                }
                continue;
            }
        }
        /* need more bytes */
        mg_str_t line;
        mg_int_t room = hc->buf && hc->head ? head_overflow(hc, &line) : MG_OK;
        if (room == MG_OK && drained) {
            head_timer_arm(c, hc);
            mg_conn_read_on(c);
            return;
        }
        if (hc->buf == NULL) {
            head_buf_take(c, hc);
        }
        if (room == MG_OK) {
            room = make_room(c, !hc->discarding && hc->last > hc->start, &line);
        }
        if (room != MG_OK) {
            set_head_action(c);
            if (room == MG_HTTP_REQUEST_URI_TOO_LARGE) {
                reject_head(c, room, 0, "client sent too long URI");
            } else {
                if (line.len > LOG_LINE_MAX) {
                    line.len = LOG_LINE_MAX;
                }
                reject_head(c, room, 0, "client sent too long header line: \"%.*s...\"",
                            (int)line.len, line.data);
            }
            return;
        }
        size_t space = hc->size - hc->last;
        /* a TLS read logs its own failure: with nginx's context when no request came yet */
        int waiting = c->ssl && c->requests == 0 && hc->last == hc->start && !hc->proxy_protocol;
        const char *action = c->log.action;
        if (waiting) {
            c->log.action = "waiting for request";
        }
        ssize_t n = c->recv(c, hc->buf + hc->last, space);
        if (waiting) {
            c->log.action = action;
        }
        if (n > 0) {
            drained = (size_t)n < space;
            hc->last += (size_t)n;
            hc->keepalive_idle = 0;
            mg_server_conn_reusable(c, 0); /* a request began: its slot is no longer free */
            if (!hc->discarding) {
                mg_stat_state(c->server, &hc->stat, MG_STAT_READING);
            }
            if (c->timeout_handler == keepalive_timeout) {
                /* the idle wait is over: the head now has client_header_timeout, armed
                 * only if it has to wait (head_timer_arm); one read whole costs no timer */
                c->timeout_handler = head_timeout;
                hc->head_timer_due = 1;
                c->idle = 0;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (hc->last == hc->start && !hc->discarding) {
                head_buf_release(c, hc); /* nothing came: wait without it */
            }
            head_timer_arm(c, hc);
            mg_conn_read_on(c);
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        int err = n < 0 ? errno : 0;
        if (n < 0 && c->ssl) {
            /* logged by the TLS layer, with OpenSSL's reason */
        } else if (hc->proxy_protocol) {
            c->log.action = "reading PROXY protocol";
            if (n == 0) {
                mg_log_error(MG_LOG_INFO, &c->log, 0, "client closed connection");
            } else {
                mg_log_error(MG_LOG_INFO, &c->log, err, "recv() failed");
            }
        } else if (reading_head(hc)) {
            set_head_action(c);
            if (n == 0) {
                mg_log_error(MG_LOG_INFO, &c->log, 0, "client prematurely closed connection");
            } else {
                mg_log_error(MG_LOG_INFO, &c->log, err, "recv() failed");
            }
            /* nginx had a request: it logs a 400 (nothing is sent, the client is gone) */
            mg_request_t *r = head_request(c, 1);
            c->closed = 1;
            mg_http_finalize_request(r, MG_HTTP_BAD_REQUEST);
            return;
        } else if (hc->keepalive_idle) {
            /* nginx says this of a reset too, with the error: "... (104: Connection reset by
             * peer)" */
            mg_log_error(MG_LOG_INFO, &c->log, err, "client %s closed keepalive connection",
                         c->addr_text);
        } else if (c->requests == 0 && hc->last == hc->start) {
            c->log.action = "waiting for request";
            if (n == 0) {
                mg_log_error(MG_LOG_INFO, &c->log, 0, "client closed connection");
            } else {
                mg_log_error(MG_LOG_INFO, &c->log, err, "recv() failed");
            }
        }
        mg_conn_close(c);
        return;
    }
}

static void read_head(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_debug_http(&c->log,
                  hc->keepalive_idle ? "http keepalive handler" : "http wait request handler");
    if (hc->r) {
        /* bytes or EOF while a request is in progress (a handler waiting on something):
         * events behave level-triggered and would report them again and again; the request's
         * end turns reading back on. Only here, so the common request costs no syscall. */
        mg_conn_read_off(c);
        return;
    }
    process_buffer(c);
}

static void lingering_read(mg_connection_t *c)
{
    char buf[4096];
    int got = 0;
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            got = 1;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            mg_http_conn_t *hc = c->data;
            if (mg_now.monotonic >= hc->lingering.deadline) {
                break;
            }
            if (got) {
                /* as nginx: lingering_timeout is the wait for the next bytes, within
                 * lingering_time; a client still sending is not reset under its response */
                mg_msec_t left = hc->lingering.deadline - mg_now.monotonic;
                mg_conn_timer_set(c, left < hc->lingering.timeout ? left : hc->lingering.timeout);
            }
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        break;
    }
    mg_conn_close(c);
}

static void lingering_timeout(mg_connection_t *c)
{
    mg_debug_http(&c->log, "http lingering close handler");
    mg_conn_close(c);
}

static void keepalive_timeout(mg_connection_t *c)
{
    mg_debug_http(&c->log, "http keepalive handler");
    mg_conn_close(c);
}

/* Close c lingering: our side's end is sent (close_notify under TLS, then the FIN) and what
 * the client still sends is read and dropped, up to `timeout` between reads and `time` in all,
 * so that closing with unread input does not make the kernel reset the connection under the
 * responses the client has not read yet. */
void mg_http_conn_linger(mg_connection_t *c, mg_msec_t timeout, mg_msec_t time)
{
    mg_http_conn_t *hc = c->data;
    if (c->ssl) {
        mg_ssl_shutdown(c); /* close_notify before the FIN */
    }
    shutdown(c->fd, SHUT_WR);
    hc->discard_chunked_on = 0; /* its parser's room is the lingering times' now */
    hc->discard_rest = 0;
    hc->lingering.deadline = mg_now.monotonic + time;
    hc->lingering.timeout = timeout;
    c->read_handler = lingering_read;
    c->timeout_handler = lingering_timeout;
    mg_conn_timer_set(c, timeout);
    mg_conn_read_on(c);
}

/* What becomes of the connection once r is done: keep it for the next request, close it at once,
 * or close it lingering (read and drop what the client still sends, so that closing with unread
 * input does not reset the connection under the response). Taken before r is freed. */
void mg_http_conn_decide(mg_request_t *r, mg_http_conn_next_t *next)
{
    mg_connection_t *c = r->connection;
    mg_http_conn_t *hc = r->hc;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    /* a draining server (keep_idle) keeps a connection whose response already promised
     * keep-alive: the client may be sending its next request right now, and that one gets
     * the "Connection: close" answer instead of a reset */
    next->keepalive = r->keepalive && !c->closed && r->response_done &&
                      (!c->server->quitting || c->server->keep_idle);
    next->body_left = hc->discard_rest > 0 || hc->discard_chunked_on;
    /* a client that got a final response instead of "100 Continue" must send the body or
     * close (RFC 9110 10.1.1): the body is discarded as it comes, as nginx does */
    /* as nginx's "lingering_close on": closing with unread input would make the kernel reset
     * the connection and the client could lose the response, so read and drop it first;
     * whether some came is known from the reads and the read reports, as nginx's read event's
     * ready flag, not from a recv(MSG_PEEK) that says EAGAIN almost always (an h2 stream,
     * fd -1, has no socket: its end ignores lingering) */
    next->lingering = !c->closed && !next->keepalive &&
                      (clcf->lingering_close == MG_HTTP_LINGERING_ALWAYS ||
                       (clcf->lingering_close == MG_HTTP_LINGERING_ON &&
                        (r->lingering_close || next->body_left || hc->last > hc->start ||
                         (c->fd >= 0 && mg_conn_input_left(c)))));
    next->reset = c->timedout && clcf->reset_timedout_connection;
    next->tcp_nodelay = clcf->tcp_nodelay != 0;
    next->keepalive_timeout = clcf->keepalive_timeout;
    next->lingering_timeout = clcf->lingering_timeout;
    next->lingering_time = clcf->lingering_time;
}

void mg_http_tcp_nodelay(mg_connection_t *c, int on)
{
    if (on && !c->tcp_nodelay && c->fd >= 0 && c->sockaddr->sa_family != AF_UNIX) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->tcp_nodelay = 1;
    }
}

/* The request is gone: act on the decision. */
void mg_http_conn_continue(mg_connection_t *c, const mg_http_conn_next_t *next)
{
    mg_http_conn_t *hc = c->data;
    if (hc->stream) {
        mg_http_v2_stream_done(c, next); /* an h2 stream ends; its connection goes on */
        return;
    }
    c->log.action = NULL;
    /* as nginx counts them, a request closing lingering or discarding its body still writes */
    if (!next->lingering && !(next->keepalive && next->body_left)) {
        mg_stat_state(c->server, &hc->stat, MG_STAT_NONE);
    }
    if (next->reset) {
        mg_conn_reset(c);
        return;
    }
    if (!next->keepalive) {
        if (next->lingering) {
            mg_http_conn_linger(c, next->lingering_timeout, next->lingering_time);
            return;
        }
        mg_conn_close(c);
        return;
    }
    if (next->body_left) {
        hc->discarding = 1;
    }
    mg_debug_http(&c->log, "set http keepalive handler");
    mg_http_tcp_nodelay(c, next->tcp_nodelay);
    c->read_handler = read_head;
    c->timeout_handler = keepalive_timeout;
    hc->head_timer_due = 0;
    mg_conn_timer_set(c, next->keepalive_timeout);
    mg_conn_read_on(c);
    if (hc->last == hc->start && !hc->discarding) {
        head_buf_release(c, hc);
        hc->keepalive_idle = 1;
        mg_server_conn_idle(c); /* may close it when the server is quitting */
        return;
    }
    /* pipelined bytes are waiting: handle them from the loop, not from this call stack */
    hc->pipelined = 1;
    if (!hc->discarding) {
        /* nginx's next request starts with them: a head left incomplete times out after
         * client_header_timeout with a 408, not silently after keepalive_timeout */
        c->timeout_handler = head_timeout;
        hc->head_timer_due = 1;
    }
    mg_conn_read_kick(c);
}
