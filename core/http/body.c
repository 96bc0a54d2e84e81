/*
 * Reading the request body (Content-Length or chunked) into memory for the handlers that
 * want it, with client_max_body_size, client_body_timeout and Expect: 100-continue; and
 * marking it for discarding for those that do not (the connection drops it afterwards).
 */
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

static void body_read_event(mg_connection_t *c);
static void body_timeout(mg_connection_t *c);

static void send_continue(mg_request_t *r)
{
    if (r->continue_sent || r->expect_tested) {
        return;
    }
    r->expect_tested = 1;
    mg_table_elt_t *e = r->headers_in.expect;
    if (e == NULL || r->http_major != 1 || r->http_minor < 1 ||
        !mg_str_caseeq(e->value, "100-continue")) {
        return;
    }
    /* nginx sends it even when body bytes already arrived: an interim response is harmless */
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    ssize_t n = send(r->connection->fd, line, sizeof(line) - 1, MSG_NOSIGNAL);
    if (n == (ssize_t)sizeof(line) - 1) {
        r->continue_sent = 1;
    }
}

static void append(mg_request_t *r, const char *data, size_t len)
{
    mg_http_request_body_t *rb = r->request_body;
    if (len == 0) {
        return;
    }
    mg_buf_t *last = rb->bufs;
    while (last && last->next) {
        last = last->next;
    }
    char *copy = mg_pnalloc(r->pool, len);
    memcpy(copy, data, len);
    mg_buf_t *b = mg_buf_mem(r->pool, copy, len);
    if (last) {
        last->next = b;
    } else {
        rb->bufs = b;
    }
    rb->received += len;
}

/* Consume what the connection buffer holds. MG_OK when the body is complete, MG_AGAIN,
 * or an HTTP status. */
static mg_int_t consume_buffered(mg_request_t *r)
{
    mg_http_conn_t *hc = r->hc;
    mg_http_request_body_t *rb = r->request_body;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (!r->headers_in.chunked) {
        size_t avail = hc->last - hc->start;
        size_t n = (size_t)hc->discard_rest < avail ? (size_t)hc->discard_rest : avail;
        append(r, hc->buf + hc->start, n);
        hc->start += n;
        hc->discard_rest -= (int64_t)n;
        r->request_length += n;
        return hc->discard_rest == 0 ? MG_OK : MG_AGAIN;
    }
    size_t pos = 0;
    mg_int_t result = MG_AGAIN;
    for (;;) {
        const char *data;
        size_t dlen;
        int rc = mg_http_parse_chunked(&hc->discard_chunked, hc->buf + hc->start,
                                       hc->last - hc->start, &pos, &data, &dlen);
        if (rc < 0 && rc != MG_PARSE_AGAIN) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "client sent invalid chunked body");
            result = MG_HTTP_BAD_REQUEST;
            break;
        }
        if (rc == MG_PARSE_AGAIN) {
            break;
        }
        if (dlen) {
            if (clcf->client_max_body_size && rb->received + dlen > clcf->client_max_body_size) {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                             "client intended to send too large chunked body: %zu+%zu bytes",
                             rb->received, dlen);
                result = MG_HTTP_REQUEST_ENTITY_TOO_LARGE;
                break;
            }
            append(r, data, dlen);
        }
        if (hc->discard_chunked.done) {
            hc->discard_chunked_on = 0;
            result = MG_OK;
            break;
        }
    }
    hc->start += pos;
    r->request_length += pos;
    if (result >= MG_HTTP_SPECIAL_RESPONSE) {
        /* the stream position is lost: nothing more can be read from it */
        hc->discard_chunked_on = 0;
        r->lingering_close = 1;
        r->keepalive = 0;
    }
    return result;
}

static void body_done(mg_request_t *r)
{
    mg_connection_t *c = r->connection;
    mg_http_request_body_t *rb = r->request_body;
    rb->done = 1;
    r->reading_body = 0;
    mg_conn_timer_del(c);
    mg_conn_read_off(c);
    c->log.action = NULL;
    rb->post_handler(r);
}

static void body_fail(mg_request_t *r, mg_int_t status)
{
    mg_conn_timer_del(r->connection);
    mg_conn_read_off(r->connection);
    r->reading_body = 0;
    mg_http_finalize_request(r, status);
}

static void free_old_buf(void *data)
{
    free(data);
}

/* Room to read more body bytes. The request's head (request line, header values) stays where
 * it is: r's strings point into it. When too little space is left after it, the unread bytes
 * move to a fresh buffer and the old one lives until the request ends. */
static void body_make_room(mg_request_t *r)
{
    mg_http_conn_t *hc = r->hc;
    size_t keep = hc->head_end;
    if (hc->start > keep) {
        memmove(hc->buf + keep, hc->buf + hc->start, hc->last - hc->start);
        hc->last -= hc->start - keep;
        hc->start = keep;
    }
    if (hc->size - hc->last >= mg_min(hc->size / 2, 4096) || keep == 0) {
        return;
    }
    char *nb = mg_alloc(hc->size);
    memcpy(nb, hc->buf + hc->start, hc->last - hc->start);
    mg_pool_cleanup_add(r->pool, free_old_buf, hc->buf);
    hc->buf = nb;
    hc->last -= hc->start;
    hc->start = 0;
    hc->head_end = 0;
}

static void body_read_more(mg_request_t *r)
{
    mg_connection_t *c = r->connection;
    mg_http_conn_t *hc = r->hc;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    for (;;) {
        mg_int_t rc = consume_buffered(r);
        if (rc == MG_OK) {
            body_done(r);
            return;
        }
        if (rc != MG_AGAIN) {
            body_fail(r, rc);
            return;
        }
        /* the connection buffer is empty (or holds a partial chunk line): read into it */
        body_make_room(r);
        if (hc->last == hc->size) {
            /* a chunk-size line longer than the buffer is not a chunk-size line */
            body_fail(r, MG_HTTP_BAD_REQUEST);
            return;
        }
        ssize_t n = recv(c->fd, hc->buf + hc->last, hc->size - hc->last, 0);
        if (n > 0) {
            hc->last += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->read_handler = body_read_event;
            c->timeout_handler = body_timeout;
            mg_conn_timer_set(c, clcf->client_body_timeout);
            mg_conn_read_on(c);
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        c->log.action = "reading client request body";
        if (n == 0) {
            mg_log_error(MG_LOG_INFO, &c->log, 0, "client prematurely closed connection");
        } else {
            mg_log_error(MG_LOG_INFO, &c->log, errno, "recv() failed");
        }
        c->closed = 1;
        body_fail(r, MG_HTTP_CLIENT_CLOSED_REQUEST);
        return;
    }
}

static void body_read_event(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    body_read_more(hc->r);
}

static void body_timeout(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    c->log.action = "reading client request body";
    mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
    c->closed = 1;
    body_fail(hc->r, MG_HTTP_REQUEST_TIME_OUT);
}

mg_int_t mg_http_read_client_request_body(mg_request_t *r, void (*post_handler)(mg_request_t *r))
{
    if (r->request_body) {
        post_handler(r);
        return MG_OK;
    }
    mg_http_request_body_t *rb = mg_pcalloc(r->pool, sizeof(mg_http_request_body_t));
    r->request_body = rb;
    rb->post_handler = post_handler;
    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        rb->done = 1;
        post_handler(r);
        return MG_OK;
    }
    send_continue(r);
    r->reading_body = 1;
    r->connection->log.action = "reading client request body";
    mg_conn_timer_del(r->connection);
    body_read_more(r);
    return MG_OK;
}

mg_int_t mg_http_discard_request_body(mg_request_t *r)
{
    /* the connection drops the rest once the response is done (connection.c); a client
     * waiting on "Expect: 100-continue" is told to send it, as nginx does, so that the
     * connection can stay in sync and be kept alive */
    if (r->discard_body || r->request_body) {
        return MG_OK;
    }
    r->discard_body = 1;
    send_continue(r);
    /* what already arrived goes now, as in nginx: a broken chunked body is a 400 while the
     * handler can still answer it */
    mg_http_conn_t *hc = r->hc;
    if (hc->last > hc->start && mg_http_discard_buffered(r->connection) == MG_ERROR) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "client sent invalid chunked body");
        hc->discard_chunked_on = 0;
        r->keepalive = 0;
        r->lingering_close = 1;
        return MG_HTTP_BAD_REQUEST;
    }
    return MG_OK;
}
