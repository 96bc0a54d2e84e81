/*
 * The end of the output path: the last header filter serializes the response head; the last
 * body filters apply chunked framing and hand buffers to the writer, which writes with
 * writev/sendfile and waits for the socket when it would block (send_timeout bounds it).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "script.h"
#include "server.h"
#include "ssl.h"
#include "v2.h"
#include "variables.h"

mg_int_t mg_http_send_header(mg_request_t *r)
{
    if (r->post_action) {
        return MG_OK; /* the client had its response: the post_action's answer goes nowhere */
    }
    if (r->header_sent) {
        mg_log_error(MG_LOG_ALERT, &r->connection->log, 0, "header already sent");
        return MG_ERROR;
    }
    if (r->err_status) {
        /* error_page's code, and its status line: not an upstream's "200 OK" */
        r->headers_out.status = r->err_status;
        r->headers_out.status_line.len = 0;
    }
    r->filters = mg_http_response_filters(r);
    return r->filters->header_top(r);
}

static mg_int_t http_flush(mg_request_t *r, int hold);
static mg_int_t rate_wait(mg_request_t *r, mg_msec_t msec);

mg_int_t mg_http_output(mg_request_t *r, mg_buf_t *in)
{
    for (mg_buf_t *b = in; b; b = b->next) {
        if (b->last_buf) {
            r->last_given = 1;
            r->last_queued |= r->post_action;
        }
    }
    if (r->post_action && r->parent == NULL) {
        return MG_OK; /* thrown away, as nginx's header_only does */
    }
    mg_int_t rc = r->filters->body_top(r, in);
    if (rc != MG_ERROR && r->buffered && !r->buffered_waits && r->parent == NULL && r->out &&
        !r->connection->writing && !r->hc->delayed && !r->hc->aio_busy && !r->connection->closed) {
        /* a filter keeps input until the writer drains: what the writer postponed must go
         * now, or nothing would ever drain it; written at once, the filter goes on from the
         * loop (a timer of 0 ms) as after any drain */
        mg_int_t frc = http_flush(r, 0);
        if (frc == MG_OK) {
            rate_wait(r, 0);
        }
        rc = frc == MG_OK ? rc : frc;
    }
    return rc;
}

int mg_http_output_busy(mg_request_t *r)
{
    if (r->parent) {
        /* its output is copied as it comes (the writer is not its), unless it is held */
        return r->buffered || mg_http_subrequest_held(r);
    }
    /* what the writer holds back alone (postpone_output's bytes, a TLS record's tail) is its
     * own copy: the producer's buffers are free, and it goes with the producer's next output */
    int held = r->out && r->out == r->hold_buf && r->out->next == NULL;
    return (r->out != NULL && !held) || r->buffered;
}

static size_t put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return n;
}

/* Location made absolute as nginx's absolute_redirect does. */
mg_str_t mg_http_server_signature(mg_request_t *r)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    switch (clcf->server_tokens) {
    case MG_HTTP_TOKENS_OFF:
        return (mg_str_t)mg_string(MOONGATE_NAME);
    case MG_HTTP_TOKENS_BUILD:
        if (MG_BUILD[0]) {
            return (mg_str_t)mg_string(MOONGATE_VER " (" MG_BUILD ")");
        }
        break;
    case MG_HTTP_TOKENS_STRING:
        return mg_http_complex_value(r, clcf->server_tokens_string);
    }
    return (mg_str_t)mg_string(MOONGATE_VER);
}

static mg_str_t absolute_location(mg_request_t *r, mg_str_t loc)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (!clcf->absolute_redirect || loc.len == 0 || loc.data[0] != '/') {
        return loc;
    }
    mg_connection_t *c = r->connection;
    mg_str_t host = r->headers_in.server;
    char hostbuf[128];
    if (clcf->server_name_in_redirect) {
        mg_http_srv_conf_t *cscf = mg_http_get_srv_conf(r, mg_http_core_module);
        host = mg_server_names_first(&cscf->server_names);
    }
    if (host.len == 0) {
        if (mg_conn_local_addr(c) != MG_OK) {
            return loc;
        }
        host.len = mg_sockaddr_text(c->local_sockaddr, hostbuf, sizeof(hostbuf), 0);
        host.data = hostbuf;
    }
    char portbuf[16] = "";
    if (clcf->port_in_redirect && mg_conn_local_addr(c) == MG_OK) {
        in_port_t port = mg_sockaddr_port(c->local_sockaddr);
        if (port != (c->ssl ? 443 : 80) && port != 0) {
            snprintf(portbuf, sizeof(portbuf), ":%u", port);
        }
    }
    char *s = mg_psprintf(r->pool, "%s://%.*s%s%.*s", c->ssl ? "https" : "http", (int)host.len,
                          host.data, portbuf, (int)loc.len, loc.data);
    mg_str_t out = { strlen(s), s };
    return out;
}

static mg_int_t header_write_filter(mg_request_t *r)
{
    if (r->parent) {
        /* a subrequest's head stays in headers_out for its creator */
        r->header_sent = 1;
        r->header_only = r->method == MG_HTTP_HEAD || r->headers_out.status == MG_HTTP_NO_CONTENT ||
                         r->headers_out.status == MG_HTTP_NOT_MODIFIED;
        if (r->headers_out.status == 0) {
            r->headers_out.status = MG_HTTP_OK;
        }
        return MG_OK;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_http_headers_out_t *ho = &r->headers_out;
    r->header_sent = 1;
    if (r->method == MG_HTTP_HEAD) {
        r->header_only = 1;
    }
    if (ho->status == 0) {
        ho->status = MG_HTTP_OK;
    }
    if (ho->status != MG_HTTP_OK && ho->status != MG_HTTP_PARTIAL_CONTENT &&
        ho->status != MG_HTTP_NOT_MODIFIED) {
        ho->last_modified_time = -1; /* a date only describes the resource itself (nginx) */
        ho->last_modified = NULL;
    }
    mg_connection_t *conn = r->connection;
    if (ho->status == MG_HTTP_NO_CONTENT || ho->status == MG_HTTP_NOT_MODIFIED) {
        r->header_only = 1;
        /* a 304 keeps its Content-Length, as in nginx: it describes the representation; so
         * does a 204 relayed with its own status line (an upstream's), as nginx's header
         * filter clears those fields only for a status it words itself */
        if (ho->status == MG_HTTP_NO_CONTENT && ho->status_line.len == 0) {
            ho->content_type.len = 0;
            ho->last_modified_time = -1;
            ho->last_modified = NULL;
            ho->content_length_n = -1;
        }
    }
    if (r->http_09) {
        return MG_OK;
    }
    mg_http_conn_t *hc = r->hc;

    /* the keepalive decision is final here (an answer before any location, a server
     * shutting down since) */
    mg_http_keepalive_check(r);
    if ((ho->content_length_n < 0 || r->expect_trailers) && !r->header_only && ho->status >= 200 &&
        ho->status != MG_HTTP_NO_CONTENT && ho->status != MG_HTTP_NOT_MODIFIED) {
        if (r->http_major == 1 && r->http_minor >= 1 && clcf->chunked_transfer_encoding) {
            if (r->expect_trailers) {
                mg_http_clear_content_length(r); /* trailers need the chunked framing */
            }
            r->chunked = 1;
        } else if (ho->content_length_n < 0) {
            r->keepalive = 0; /* the end of the body is the end of the connection */
        }
    }

    char status_buf[64];
    /* what variables or Lua put into a field may hold bytes that would split the response (the
     * status table's lines and empty fields need no look) */
    static const mg_str_t ct_name = {12, "Content-Type"}, loc_name = {8, "Location"};
    mg_str_t status_line = ho->status_line;
    if (status_line.len == 0) {
        status_line.data = (char *)mg_http_status_line(ho->status, &status_line.len);
        if (status_line.data == NULL) {
            status_line.len = (size_t)snprintf(status_buf, sizeof(status_buf), "%03lu ",
                                               (unsigned long)ho->status);
            status_line.data = status_buf;
        }
    } else {
        status_line = mg_http_safe_header_value(r, (mg_str_t){6, "Status"}, status_line);
    }
    mg_str_t location = ho->location && ho->location->hash
                            ? absolute_location(r, ho->location->value)
                            : (mg_str_t)mg_null_string;
    /* nginx writes a Location it made absolute in its own place, after Last-Modified; any
     * other (a URL, or absolute_redirect off) keeps its place among the headers */
    int loc_made_absolute = location.len && ho->location->value.len &&
                            ho->location->value.data[0] == '/' && clcf->absolute_redirect;
    if (location.len) {
        ho->location->value = location; /* $sent_http_location is what was sent, as nginx's */
    }
    if (ho->content_type.len) {
        ho->content_type = mg_http_safe_header_value(r, ct_name, ho->content_type);
    }
    if (ho->charset.len) {
        ho->charset = mg_http_safe_header_value(r, ct_name, ho->charset);
    }
    if (location.len) {
        location = mg_http_safe_header_value(r, loc_name, location);
    }

    mg_str_t server = mg_http_server_signature(r);
    if (clcf->server_tokens == MG_HTTP_TOKENS_STRING) {
        server = mg_http_safe_header_value(r, (mg_str_t)mg_string("Server"), server);
    }
    if (hc->stream) {
        return mg_http_v2_send_header(r, status_line, server, location); /* HEADERS */
    }
    mg_table_elt_t *fixed_loc = NULL;
    /* a Content-Length line ngx.header set is written in its place among the others */
    mg_table_elt_t *cl_line = mg_http_content_length_line(r);
    if (loc_made_absolute) {
        fixed_loc = ho->location;
    } else if (location.len) {
        ho->location->value = location;
        location.len = 0;
    }
    size_t len = sizeof("HTTP/1.1 \r\n") + status_line.len + sizeof("Server: \r\n") + server.len +
                 sizeof("Date: Mon, 28 Sep 1970 06:00:00 GMT\r\n") +
                 sizeof("Content-Type: ; charset=\r\n") + ho->content_type.len + ho->charset.len +
                 sizeof("Content-Length: 18446744073709551615\r\n") +
                 sizeof("Last-Modified: \r\n") + 32 /* mg_time_http */ + sizeof("Location: \r\n") +
                 location.len + sizeof("Transfer-Encoding: chunked\r\n") +
                 sizeof("Connection: keep-alive\r\n") +
                 sizeof("Keep-Alive: timeout=18446744073709551615\r\n") +
                 sizeof("Vary: Accept-Encoding\r\n") + sizeof("\r\n");
    mg_table_elt_t *h = ho->headers.elts;
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        if (h[i].hash && &h[i] != ho->location) {
            h[i].key = mg_http_safe_header_name(r, h[i].key);
            h[i].value = mg_http_safe_header_value(r, h[i].key, h[i].value);
            len += h[i].key.len + 2 + h[i].value.len + 2;
        } else if (h[i].hash && &h[i] != fixed_loc) {
            len += h[i].key.len + 2 + h[i].value.len + 2; /* (made safe above) */
        }
    }
    /* a handler's own Server or Date line (proxy_pass_header) replaces ours; one it removed
     * (ngx.header.Server = nil) leaves none, as in nginx */
    int own_server = 0, own_date = 0;
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        own_server |= mg_str_caseeq(h[i].key, "server");
        own_date |= mg_str_caseeq(h[i].key, "date");
    }
    char *buf = mg_pnalloc(r->pool, len);
    char *p = buf;
    p += put(p, "HTTP/1.1 ", 9);
    p += put(p, status_line.data, status_line.len);
    p += put(p, "\r\n", 2);
    if (!own_server && server.len) {
        /* (a handler's own line follows with the others; an empty server_tokens string
         * leaves the header out) */
        p += put(p, "Server: ", 8);
        p += put(p, server.data, server.len);
        p += put(p, "\r\n", 2);
    }
    if (!own_date) {
        p += put(p, "Date: ", 6);
        p += put(p, mg_now.http, strlen(mg_now.http));
        p += put(p, "\r\n", 2);
    }
    if (ho->content_type.len) {
        p += put(p, "Content-Type: ", 14);
        p += put(p, ho->content_type.data, ho->content_type.len);
        if (ho->charset.len) {
            p += put(p, "; charset=", 10);
            p += put(p, ho->charset.data, ho->charset.len);
        }
        p += put(p, "\r\n", 2);
    }
    if (ho->content_length_n >= 0 && cl_line == NULL) {
        p += put(p, "Content-Length: ", 16);
        p = mg_put_uint(p, (uint64_t)ho->content_length_n);
        p += put(p, "\r\n", 2);
    }
    if (ho->last_modified_time >= 0 && ho->last_modified == NULL) {
        p += put(p, "Last-Modified: ", 15);
        mg_time_http(p, ho->last_modified_time);
        p += strlen(p);
        p += put(p, "\r\n", 2);
    }
    if (location.len) {
        p += put(p, "Location: ", 10);
        p += put(p, location.data, location.len);
        p += put(p, "\r\n", 2);
    }
    if (r->chunked) {
        p += put(p, "Transfer-Encoding: chunked\r\n", 28);
    }
    if (ho->status == 101) {
        /* nginx's own line, whatever the upstream's said */
        p += put(p, "Connection: upgrade\r\n", 21);
    } else if (r->keepalive) {
        p += put(p, "Connection: keep-alive\r\n", 24);
        if (clcf->keepalive_header) {
            p += sprintf(p, "Keep-Alive: timeout=%ld\r\n", (long)clcf->keepalive_header);
        }
    } else {
        p += put(p, "Connection: close\r\n", 19);
    }
    if (r->gzip_vary) {
        p += put(p, "Vary: Accept-Encoding\r\n", 23);
    }
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        if (h[i].hash == 0 || &h[i] == fixed_loc) {
            continue;
        }
        p += put(p, h[i].key.data, h[i].key.len);
        p += put(p, ": ", 2);
        p += put(p, h[i].value.data, h[i].value.len);
        p += put(p, "\r\n", 2);
    }
    p += put(p, "\r\n", 2);
    r->header_size = (size_t)(p - buf);
    if (conn->closed) {
        return MG_ERROR; /* the client went (nginx's write filter: c->error) */
    }

    mg_buf_t *b = mg_buf_mem(r->pool, buf, (size_t)(p - buf));
    *r->out_tail = b;
    r->out_tail = &b->next;
    return MG_OK;
}

/* ---- body filters ---- */

static mg_int_t write_filter(mg_request_t *r, mg_buf_t *in);

/* The last chunk with the trailer fields (add_trailer), after the data's CRLF when there is
 * data in this call. */
static const char *last_chunk(mg_request_t *r, int after_data)
{
    mg_array_t *a = r->headers_out.trailers;
    mg_table_elt_t *t = a->elts;
    size_t len = sizeof("\r\n0\r\n\r\n");
    for (size_t i = 0; i < a->nelts; i++) {
        len += t[i].key.len + t[i].value.len + 4;
    }
    char *buf = mg_pnalloc(r->pool, len), *p = buf;
    p = mg_sprintf_end(p, buf + len, "%s0\r\n", after_data ? "\r\n" : "");
    for (size_t i = 0; i < a->nelts; i++) {
        if (t[i].hash) {
            p = mg_sprintf_end(p, buf + len, "%.*s: %.*s\r\n", (int)t[i].key.len, t[i].key.data,
                               (int)t[i].value.len, t[i].value.data);
        }
    }
    mg_sprintf_end(p, buf + len, "\r\n");
    return buf;
}

static mg_int_t chunked_filter(mg_request_t *r, mg_buf_t *in)
{
    if (r->hc->stream && r->headers_out.trailers && in) {
        for (mg_buf_t *b = in; b; b = b->next) {
            if (b->last_buf) {
                mg_http_v2_set_trailers(r);
            }
        }
    }
    if (!r->chunked || in == NULL) {
        return write_filter(r, in);
    }
    mg_buf_t *out = NULL, **tail = &out;
    size_t size = 0;
    int last = 0;
    mg_buf_t *data_start = NULL, **data_tail = &data_start;
    for (mg_buf_t *b = in, *next; b; b = next) {
        next = b->next;
        b->next = NULL;
        size += mg_buf_size(b);
        if (b->last_buf) {
            last = 1;
            b->last_buf = 0;
        }
        *data_tail = b;
        data_tail = &b->next;
    }
    if (size) {
        char *hdr = mg_pnalloc(r->pool, MG_INT_TEXT_MAX + 2);
        char *e = mg_put_hex(hdr, size);
        *e++ = '\r';
        *e++ = '\n';
        mg_buf_t *h = mg_buf_mem(r->pool, hdr, (size_t)(e - hdr));
        *tail = h;
        tail = &h->next;
        *tail = data_start;
        tail = data_tail;
    }
    if (size || last) {
        const char *trailer = size ? (last ? "\r\n0\r\n\r\n" : "\r\n") : "0\r\n\r\n";
        if (last && r->headers_out.trailers) {
            trailer = last_chunk(r, size != 0);
        }
        mg_buf_t *t = mg_buf_mem(r->pool, trailer, strlen(trailer));
        t->last_buf = last;
        *tail = t;
        tail = &t->next;
    }
    if (out == NULL) {
        return write_filter(r, NULL);
    }
    return write_filter(r, out);
}

static mg_int_t body_head_filter(mg_request_t *r, mg_buf_t *in)
{
    /* header-only responses (HEAD, 204, 304) and HTTP/0.9-less cases keep just the end mark */
    if (!r->header_only || in == NULL) {
        return chunked_filter(r, in);
    }
    int last = 0;
    for (mg_buf_t *b = in; b; b = b->next) {
        last |= b->last_buf;
    }
    if (!last) {
        return MG_OK;
    }
    mg_buf_t *b = mg_buf_mem(r->pool, "", 0);
    b->last_buf = 1;
    r->chunked = 0;
    return write_filter(r, b);
}

/* ---- writer ---- */

/*
 * The queue (r->out) holds memory and file buffers in response order. With "sendfile on" a
 * file buffer goes out with sendfile() (a directio file excepted); with nginx's default
 * "sendfile off" its bytes are read into the scratch (write_file.c: output_buffers' number of
 * pieces of its size, in a thread with aio) and written with writev together with the memory
 * buffers around them, so a small file and its head leave in a single system call. The
 * scratch is reused once the last buffer pointing into it has been written.
 */
#define IOV_MAX_USED 64

static void on_write_timeout(mg_connection_t *c);
static void writer_event(mg_connection_t *c);
static void client_gone(mg_request_t *r);

static void set_cork(mg_connection_t *c, mg_http_conn_t *hc, int on)
{
    int v = on;
    /* as nginx, a failure only costs an extra packet: it is not worth failing the response */
    if (setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)) == 0) {
        hc->corked = (unsigned)on;
    }
}

/* ---- limit_rate ---- */

static void on_rate_timer(mg_connection_t *c);

/* A size from limit_rate or limit_rate_after (k, m: nginx's sizes); 0 when unset or wrong. */
static size_t rate_value(mg_request_t *r, mg_http_complex_value_t *cv)
{
    if (cv == NULL) {
        return 0;
    }
    mg_str_t v = mg_http_complex_value(r, cv);
    int64_t n = mg_parse_size(v);
    if (n < 0) {
        mg_connection_t *c = r->connection;
        const char *action = c->log.action;
        c->log.action = "sending response to client";
        mg_log_error(MG_LOG_ERR, &c->log, 0, "invalid size \"%.*s\"", (int)v.len, v.data);
        c->log.action = action;
        return 0;
    }
    return (size_t)n;
}

/* The request's rate (bytes a second, 0: none), taken from the location the first time the
 * writer runs unless $limit_rate or the proxy set it before. */
static size_t rate_of(mg_request_t *r, mg_http_loc_conf_t *clcf)
{
    if (!r->limit_rate_set) {
        r->limit_rate = rate_value(r, clcf->limit_rate);
        r->limit_rate_set = 1;
    }
    if (r->limit_rate && !r->limit_rate_after_set) {
        r->limit_rate_after = rate_value(r, clcf->limit_rate_after);
        r->limit_rate_after_set = 1;
    }
    return r->limit_rate;
}

/* Bytes past limit_rate_after among the first `sent` of the response */
static size_t rated(mg_request_t *r, size_t sent)
{
    return sent > r->limit_rate_after ? sent - r->limit_rate_after : 0;
}

/* Wait msec before writing again (a timer, not the socket); MG_AGAIN for the caller. */
static mg_int_t rate_wait(mg_request_t *r, mg_msec_t msec)
{
    mg_connection_t *c = r->connection;
    r->hc->delayed = 1;
    mg_conn_write_off(c);
    c->timeout_handler = on_rate_timer;
    mg_conn_timer_set(c, msec);
    return MG_AGAIN;
}

/* As nginx: what went out costs its time at the rate before the next write (the timer stays
 * armed for a producer's next buffers even when the queue is empty now). 1 when delayed. */
static int rate_pause(mg_request_t *r, size_t rate, size_t sent_before)
{
    mg_msec_t msec = (mg_msec_t)((rated(r, r->bytes_sent) - rated(r, sent_before)) * 1000 / rate);
    if (msec <= 0) {
        return 0;
    }
    rate_wait(r, msec);
    return 1;
}

/* The request's hold: postpone_output's bytes, or on TLS a write unit's when more (what
 * tls_tail keeps is shorter). Made once, and again larger should the location's
 * postpone_output have grown since (its size is kept in the word before it); the queue's
 * buffers, the old hold among them, are then copied into the new one. */
static char *hold_mem(mg_request_t *r)
{
    mg_http_conn_t *hc = r->hc;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_connection_t *c = r->connection;
    size_t size = clcf->postpone_output;
    if (c->ssl && hc->stream == NULL) {
        size = mg_max(size, mg_ssl_write_unit(c->ssl));
    }
    if (r->hold == NULL || ((size_t *)(void *)r->hold)[-1] < size) {
        size_t *mem = mg_palloc(r->pool, sizeof(size_t) + size);
        mem[0] = size;
        r->hold = (char *)(mem + 1);
        if (r->hold_buf == NULL) {
            r->hold_buf = mg_buf_mem(r->pool, r->hold, 0);
        }
    }
    return r->hold;
}

/* TLS output as nginx's buffer of ssl_buffer_size makes its records: full ones but the last
 * before a flush or the end. Of what iov[0..*cnt) holds, the tail short of a whole unit
 * (mg_ssl_write_unit) is taken off to wait for the bytes that follow it; the bytes kept. */
static size_t tls_tail(mg_connection_t *c, struct iovec *iov, int *cnt)
{
    size_t total = 0;
    for (int i = 0; i < *cnt; i++) {
        total += iov[i].iov_len;
    }
    size_t keep = total % mg_ssl_write_unit(c->ssl);
    for (size_t cut = keep; cut;) {
        struct iovec *v = &iov[*cnt - 1];
        if (v->iov_len > cut) {
            v->iov_len -= cut;
            break;
        }
        cut -= v->iov_len;
        (*cnt)--;
    }
    return keep;
}

/* The queue's bytes before `stop` (the tail tls_tail kept; NULL: all, postponed's) into the
 * request's hold, as one buffer in their place: the producer may reuse its memory, the file reader
 * its scratch. */
static void stash(mg_request_t *r, mg_buf_t *stop)
{
    mg_http_conn_t *hc = r->hc;
    char *hold = hold_mem(r);
    size_t used = 0;
    for (mg_buf_t *b = r->out; b != stop; b = b->next) {
        size_t n = b->in_file ? 0 : (size_t)(b->last - b->pos);
        if (n) {
            memmove(hold + used, b->pos, n); /* (the hold, when queued, comes first) */
            used += n;
        }
        mg_http_file_reader_written(hc, b);
    }
    mg_buf_t *h = r->hold_buf;
    memset(h, 0, sizeof(*h));
    h->fd = -1;
    h->pos = hold;
    h->last = hold + used;
    h->next = stop;
    r->out = h;
    if (stop == NULL) {
        r->out_tail = &h->next;
    }
}

/* Write the queue until it is empty or the socket full. hold: the producer gives more later
 * (output it just gave, or the write event's drain): on TLS a tail short of a whole record
 * may wait for it (tls_tail); a drain forced for a filter's sake writes everything. */
static mg_int_t http_flush(mg_request_t *r, int hold)
{
    mg_http_conn_t *hc = r->hc;
    mg_connection_t *c = r->connection;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    /* sendfile hands the kernel the file as it is: plain connections with a socket, or TLS
     * ones whose records the kernel makes (KTLS: SSL_sendfile), as nginx */
    int use_sendfile = clcf->sendfile && c->fd >= 0 && (c->ssl == NULL || c->ssl->ktls_send);
    /* a connection that takes a file's range itself (an h2 stream's: it preads the bytes
     * into its frames) skips the scratch, whatever "sendfile" says */
    int direct = use_sendfile || c->sockless;
    /* limit_rate: limit_rate_after bytes, then the rate for each second since the request
     * began, the first one included (nginx's formula, in whole seconds) */
    size_t rate = rate_of(r, clcf), budget = SIZE_MAX, sent_before = r->bytes_sent;
    if (rate && r->out) {
        int64_t limit = mg_http_rate_budget(rate, (int64_t)(r->start_msec / 1000),
                                            (int64_t)r->bytes_sent - (int64_t)r->limit_rate_after);
        if (limit <= 0) {
            return rate_wait(r, mg_http_rate_delay(rate, limit));
        }
        budget = (size_t)limit;
    }
    /* sendfile_max_chunk: what one turn of the loop may send with sendfile() before the
     * others get theirs (nginx then waits a millisecond) */
    size_t chunk = clcf->sendfile_max_chunk ? clcf->sendfile_max_chunk : SIZE_MAX;
    while (r->out && budget) {
        mg_buf_t *b = r->out;
        ssize_t n;
        const char *op = "writev";
        if (b->in_file && b->file_pos == b->file_last) {
            goto consumed;
        }
        if (b->in_file && direct && !b->directio) {
            if (chunk == 0) {
                return rate_wait(r, 1);
            }
            op = "sendfile";
            off_t off = b->file_pos;
            size_t want = mg_min(mg_min((size_t)(b->file_last - b->file_pos), budget), chunk);
            want = mg_min(want, 0x7ffff000);
            mg_int_t prc = mg_http_preload(r, b, want);
            if (prc == MG_AGAIN) {
                return MG_AGAIN; /* a thread reads it ahead (aio): the writer resumes then */
            }
            if (prc == MG_ERROR) {
                op = NULL;
                n = 0;
                goto failed;
            }
            if (c->sockless) {
                op = "writev"; /* what a reset stream's failure is logged as, as below */
                n = c->sockless->send_file(c, b->fd, off, want);
                if (n == -2) {
                    op = NULL; /* the read failed: logged */
                }
            } else if (c->ssl) {
                op = "SSL_sendfile";
                n = mg_ssl_sendfile(c, b->fd, off, want);
            } else {
                n = sendfile(c->fd, b->fd, &off, want);
            }
            if (n > 0) {
                b->file_pos += n;
                r->bytes_sent += (size_t)n;
                budget -= rate ? (size_t)n : 0;
                chunk -= chunk == SIZE_MAX ? 0 : (size_t)n;
                if (hc->corked) {
                    /* the head left in full packets with the file's start: uncork now, as
                     * a peer whose window is below one segment would stall a corked
                     * socket (nginx keeps the cork until the response ends) */
                    set_cork(c, hc, 0);
                }
                continue;
            }
        } else {
            if (use_sendfile && clcf->tcp_nopush && !hc->corked) {
                /* tcp_nopush: hold the head back until the file's first bytes join it */
                for (mg_buf_t *x = b; x; x = x->next) {
                    if (x->in_file && x->file_pos < x->file_last) {
                        set_cork(c, hc, 1);
                        break;
                    }
                }
            }
            struct iovec iov[IOV_MAX_USED];
            int cnt = 0, pending = 0, ends = 0;
            size_t room = budget;
            mg_buf_t **link = &r->out, *x = b;
            for (; x && cnt < IOV_MAX_USED && room; link = &x->next, x = x->next) {
                if (x->in_file) {
                    if (x->file_pos == x->file_last) {
                        ends |= x->flush || x->last_buf;
                        continue;
                    }
                    if (direct && !x->directio) {
                        break;
                    }
                    x = mg_http_read_piece(r, link);
                    if (x == MG_HTTP_PIECE_PENDING) {
                        pending = 1; /* what is before it goes now */
                        break;
                    }
                    if (x == NULL) {
                        op = NULL;
                        n = 0;
                        goto failed;
                    }
                    if (x->in_file) {
                        break; /* the scratch is full until what it holds is written */
                    }
                }
                ends |= x->flush || x->last_buf;
                if (x->last > x->pos) {
                    iov[cnt].iov_base = x->pos;
                    iov[cnt].iov_len = mg_min((size_t)(x->last - x->pos), room);
                    room -= rate ? iov[cnt].iov_len : 0;
                    cnt++;
                }
            }
            if (cnt == 0) {
                if (pending) {
                    return MG_AGAIN; /* a thread reads the piece: the writer resumes then */
                }
                goto consumed;
            }
            /* TLS: a tail short of a whole record waits for what follows it, when that is
             * more of the queue (x: where the loop stopped) or, given `hold`, the producer's
             * next output; neither a flush nor the end among what is written */
            size_t keep = 0, ask = 0;
            if (c->ssl && !hc->stream && !direct && !rate && !pending && !ends && (x || hold)) {
                keep = tls_tail(c, iov, &cnt);
                for (int i = 0; i < cnt; i++) {
                    ask += iov[i].iov_len;
                }
                if (cnt == 0) {
                    stash(r, x);
                    if (x == NULL) {
                        break;
                    }
                    continue;
                }
            }
            n = c->send_chain(c, iov, cnt);
            if (n > 0) {
                r->bytes_sent += (size_t)n;
                budget -= rate ? (size_t)n : 0;
                size_t left = (size_t)n;
                /* drop what went out; empty file buffers between pieces go too */
                while (r->out) {
                    mg_buf_t *x = r->out;
                    if (x->in_file) {
                        if (x->file_pos < x->file_last) {
                            break;
                        }
                    } else {
                        size_t sz = (size_t)(x->last - x->pos);
                        if (left < sz) {
                            x->pos += left;
                            break;
                        }
                        if (sz && left == 0) {
                            break;
                        }
                        left -= sz;
                        x->pos = x->last;
                        mg_http_file_reader_written(hc, x);
                    }
                    if (x->last_buf) {
                        r->response_done = 1;
                    }
                    r->out = x->next;
                }
                if (r->out == NULL) {
                    r->out_tail = &r->out;
                }
                if (keep && (size_t)n == ask) {
                    stash(r, x);
                    if (x == NULL) {
                        break;
                    }
                }
                continue;
            }
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (rate && rate_pause(r, rate, sent_before)) {
                return MG_AGAIN; /* the socket is tried again after the pause */
            }
            c->write_handler = writer_event;
            c->timeout_handler = on_write_timeout;
            mg_conn_write_on(c);
            mg_conn_timer_set(c, clcf->send_timeout);
            return MG_AGAIN;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
    failed:
        if (op == NULL || (c->ssl && n < 0)) {
            /* already logged (TLS: with OpenSSL's reason) */
        } else if (n < 0 && hc->stream && errno == EPIPE) {
            /* an h2 stream reset, or its connection gone: logged as such already (the client's
             * RST_STREAM, the connection's close), nginx's stream writes fail silently */
        } else if (n < 0) {
            int err = errno;
            c->log.action = "sending response to client";
            mg_log_error(err == EPIPE || err == ECONNRESET ? MG_LOG_INFO : MG_LOG_CRIT, &c->log,
                         err, "%s() failed", op);
        } else {
            mg_log_error(MG_LOG_ALERT, &c->log, 0, "%s() reported that \"%d\" was truncated", op,
                         b->fd);
        }
        c->closed = 1;
        r->out = NULL;
        r->out_tail = &r->out;
        return MG_ERROR;
    consumed:
        if (b->last_buf) {
            r->response_done = 1;
        }
        r->out = b->next;
    }
    if (r->out == NULL) {
        r->out_tail = &r->out;
    }
    if (rate) {
        int paused = rate_pause(r, rate, sent_before);
        if (r->out) {
            /* the budget is spent: the rest waits, at least for the next loop turn */
            return paused ? MG_AGAIN : rate_wait(r, 1);
        }
    }
    if (hc->corked && r->response_done) {
        set_cork(c, hc, 0); /* push the last partial packet now */
    }
    return MG_OK;
}

/* The request's pool is going away: forget the scratch that lived in it. */
void mg_http_writer_reset(mg_http_conn_t *hc)
{
    mg_http_file_reader_reset(hc);
    hc->delayed = 0;
}

static void on_rate_timer(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    hc->delayed = 0;
    if (hc->r) {
        writer_event(c);
    }
}

static void on_write_timeout(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    c->log.action = "sending response to client";
    mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
    c->closed = 1;
    c->timedout = 1;
    if (hc->r) {
        hc->r->keepalive = 0;
        hc->r->out = NULL;
        hc->r->out_tail = &hc->r->out;
        client_gone(hc->r);
    } else {
        mg_conn_close(c);
    }
}

/* The client's connection failed under r's response: r ends, unless its producer reads on
 * (r->reads_on), which learns it from its next output and ends r itself. */
static void client_gone(mg_request_t *r)
{
    if (r->reads_on && r->write_event_handler) {
        r->write_event_handler(r);
        return;
    }
    mg_http_request_done(r);
}

/* Write event on the connection: flush the queue, finish or wake the producer. */
static void writer_event(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_request_t *r = hc->r;
    mg_conn_timer_del(c);
    mg_int_t rc = http_flush(r, 1);
    if (rc == MG_AGAIN) {
        return;
    }
    if (rc == MG_ERROR) {
        r->keepalive = 0;
        client_gone(r);
        return;
    }
    if (r->finalized) {
        mg_http_request_done(r);
        return;
    }
    if (r->buffered) {
        /* a body filter kept input back while the socket was full: let it go on; when the
         * last buffer gets through, the handler's earlier MG_AGAIN is finished here */
        rc = mg_http_output(r, NULL);
        if (rc == MG_ERROR) {
            r->keepalive = 0;
            client_gone(r);
            return;
        }
        if (!r->buffered && r->last_queued) {
            mg_http_finalize_request(r, MG_OK);
            return;
        }
        if (r->buffered) {
            return;
        }
    }
    /* a producer waiting for room (the upstream engine, Lua's ngx.flush(true)) is told here */
    if (r->hc->r == r && r->write_event_handler) {
        r->write_event_handler(r);
    }
}

/* postpone_output: fewer bytes than that queued, all in memory, and neither a flush, a
 * recycled buffer nor the end among them, wait for more (nginx's write filter), so small
 * pieces leave in one write. The producer may reuse its memory once we return MG_OK, so what is
 * held is copied into one buffer of the request's. */
static int postponed(mg_request_t *r)
{
    mg_http_conn_t *hc = r->hc;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    size_t size = 0;
    for (mg_buf_t *b = r->out; b; b = b->next) {
        if (b->flush || b->recycled || b->last_buf || b->in_file ||
            mg_http_file_reader_holds(hc, b)) {
            return 0;
        }
        size += mg_buf_size(b);
        if (size >= clcf->postpone_output) {
            return 0;
        }
    }
    stash(r, NULL); /* all of it (memory only, as checked above) */
    return 1;
}

void mg_http_writer_resume(mg_connection_t *c)
{
    writer_event(c);
}

void mg_http_drop_postponed(mg_request_t *r)
{
    mg_http_conn_t *hc = r->hc;
    if (!r->connection->writing && !hc->delayed && !hc->aio_busy) {
        r->out = NULL;
        r->out_tail = &r->out;
    }
}

static mg_int_t write_filter(mg_request_t *r, mg_buf_t *in)
{
    if (r->parent) {
        return mg_http_subrequest_capture(r, in);
    }
    mg_http_conn_t *hc = r->hc;
    if (r->connection->closed) {
        return MG_ERROR;
    }
    for (mg_buf_t *b = in, *next; b; b = next) {
        next = b->next;
        b->next = NULL;
        if (b->last_buf) {
            r->last_queued = 1;
        }
        *r->out_tail = b;
        r->out_tail = &b->next;
    }
    if (r->out == NULL) {
        return MG_OK;
    }
    if (hc->delayed || hc->aio_busy) {
        return MG_AGAIN; /* waiting for limit_rate's timer or a thread */
    }
    if (r->connection->writing && hc->stream) {
        /* an h2 stream's writer waits for its data source, not a socket: what comes meanwhile
         * joins what it offered (v2_data.c frames whole frames from several pieces) */
        mg_conn_timer_del(r->connection);
        mg_conn_write_off(r->connection);
        return http_flush(r, 0);
    }
    if (r->connection->writing) {
        return MG_AGAIN; /* already waiting for the socket */
    }
    if (in && postponed(r)) {
        return MG_OK;
    }
    return http_flush(r, in != NULL);
}

/* the chains' ends, in every chain: the first the chains are built on */
void mg_http_write_filters_init(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_http_module, NULL, header_write_filter, body_head_filter);
}
