/*
 * Reading the request body (Content-Length or chunked) into memory for the handlers that
 * want it, with client_max_body_size, client_body_timeout and Expect: 100-continue; or,
 * unbuffered (proxy_request_buffering off), into one bounded stream buffer that is refilled
 * only as its consumer empties it (backpressure on the client); and marking it for
 * discarding for those that do not want it (the connection drops it afterwards).
 */
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "v2.h"

static void body_read_event(mg_connection_t *c);
static void body_timeout(mg_connection_t *c);

static void send_continue(mg_request_t *r)
{
    if (r->continue_sent || r->expect_tested) {
        return;
    }
    r->expect_tested = 1;
    mg_table_elt_t *e = r->headers_in.expect;
    if (e == NULL || (r->http_major == 1 && r->http_minor < 1) || r->http_major == 0 ||
        !mg_str_caseeq(e->value, "100-continue")) {
        return;
    }
    if (r->hc->stream) {
        r->continue_sent = mg_http_v2_send_continue(r) == MG_OK; /* a HEADERS :status 100 */
        return;
    }
    /* nginx sends it even when body bytes already arrived: an interim response is harmless */
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    ssize_t n = r->connection->send(r->connection, line, sizeof(line) - 1);
    if (n > 0) {
        r->bytes_sent += (size_t)n; /* nginx counts it in $bytes_sent and $body_bytes_sent */
    }
    if (n == (ssize_t)sizeof(line) - 1) {
        r->continue_sent = 1;
    }
}

/* The buffer body bytes go into now: the chain's last one while it has room, else a new one
 * of client_body_buffer_size (no more than a Content-Length leaves to come). Bytes are
 * copied, never linked piece by piece, so a body of many tiny chunks costs time and memory in
 * proportion to its size, not to its number of pieces. */
static mg_buf_t *body_fill(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    if (rb->fill && rb->fill->last < rb->fill_end) {
        return rb->fill;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    /* a tiny setting must not bring back a buffer per piece */
    size_t size = mg_max(clcf->client_body_buffer_size, 1024);
    if (!r->headers_in.chunked && r->headers_in.content_length_n > (int64_t)rb->received) {
        int64_t rest = r->headers_in.content_length_n - (int64_t)rb->received;
        /* a body read into memory is no larger than body_plan allows: one buffer holds it */
        size = r->reading_body && !rb->to_file ? (size_t)rest : (size_t)mg_min((int64_t)size, rest);
    }
    char *p = mg_pnalloc(r->pool, size);
    mg_buf_t *b = mg_buf_mem(r->pool, p, 0);
    if (rb->fill) {
        rb->fill->next = b;
    } else {
        rb->bufs = b;
    }
    rb->fill = b;
    rb->fill_end = p + size;
    return b;
}

void mg_http_request_body_append(mg_request_t *r, const char *data, size_t len)
{
    mg_http_request_body_t *rb = r->request_body;
    while (len) {
        mg_buf_t *b = body_fill(r);
        size_t n = mg_min(len, (size_t)(rb->fill_end - b->last));
        memcpy(b->last, data, n);
        b->last += n;
        rb->received += n;
        data += n;
        len -= n;
    }
}

void mg_http_request_body_reset(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    rb->bufs = NULL;
    rb->fill = NULL;
    rb->fill_end = NULL;
    rb->received = 0;
    /* a new body is built in memory; a file the old one had goes with the request */
    rb->temp_file = NULL;
    rb->to_file = 0;
    rb->spill_at = 0;
    body_fill(r); /* an empty first buffer: the body exists, and is empty */
}

/* ---- bodies in temporary files ---- */

/* Where a buffered body goes, decided when reading starts, as nginx decides: to a file when
 * client_body_in_file_only says so, or when what a Content-Length leaves to come (past the
 * bytes that came with the head) exceeds client_body_buffer_size by more than a quarter; a
 * chunked body stays in memory up to client_body_buffer_size, then moves to a file. */
static void body_plan(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    size_t size = clcf->client_body_buffer_size;
    mg_http_conn_t *hc = r->hc;
    if (clcf->client_body_in_file_only != MG_HTTP_BODY_FILE_OFF || r->request_body_in_file_only) {
        rb->to_file = 1;
    } else if (r->headers_in.chunked) {
        /* nginx reads a chunked body, framing and all, into one such buffer */
        rb->spill_at = hc->last - hc->start + size;
    } else {
        int64_t preread = mg_min((int64_t)(hc->last - hc->start), r->headers_in.content_length_n);
        rb->to_file = r->headers_in.content_length_n - preread >= (int64_t)(size + size / 4);
    }
}

/* The request's temporary file, made on first use: kept with client_body_in_file_only on
 * (unless Lua read the body: lua-nginx-module always cleans), and announced as nginx does. */
static mg_int_t body_file(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    if (rb->temp_file) {
        return MG_OK;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    int keep =
        clcf->client_body_in_file_only == MG_HTTP_BODY_FILE_ON && !r->request_body_in_clean_file;
    rb->temp_file = mg_http_temp_file_create(r, clcf->client_body_temp_path, keep);
    if (rb->temp_file == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (r->request_body_in_file_only) {
        return MG_OK; /* nginx's dav asks for no line */
    }
    /* nginx's levels: a warning when only the size put it there */
    mg_log_error(clcf->client_body_in_file_only ? MG_LOG_NOTICE : MG_LOG_WARN, &r->connection->log,
                 0, "a client request body is buffered to a temporary file %s",
                 rb->temp_file->name.data);
    return MG_OK;
}

/* Write what the memory buffers hold to the file and empty them: the last one is kept as
 * the buffer the next bytes gather in. */
static mg_int_t body_write_out(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    mg_int_t rc = body_file(r);
    if (rc != MG_OK) {
        return rc;
    }
    for (mg_buf_t *b = rb->bufs; b; b = b->next) {
        if (mg_http_temp_file_write(rb->temp_file, b->pos, (size_t)(b->last - b->pos)) != MG_OK) {
            return MG_HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (rb->fill) {
        rb->fill->last = rb->fill->pos;
        rb->fill->next = NULL;
        rb->bufs = rb->fill;
    }
    return MG_OK;
}

/* Body bytes read from the client: into memory, or gathered for the file. MG_OK or 500. */
static mg_int_t body_save(mg_request_t *r, const char *data, size_t len)
{
    mg_http_request_body_t *rb = r->request_body;
    if (!rb->to_file) {
        mg_http_request_body_append(r, data, len);
        return MG_OK;
    }
    while (len) {
        mg_buf_t *b = body_fill(r);
        size_t n = mg_min(len, (size_t)(rb->fill_end - b->last));
        memcpy(b->last, data, n);
        b->last += n;
        rb->received += n;
        data += n;
        len -= n;
        if (b->last == rb->fill_end) {
            mg_int_t rc = body_write_out(r);
            if (rc != MG_OK) {
                return rc;
            }
        }
    }
    return MG_OK;
}

/* The body is read: one that went to a file is that file from now on */
static mg_int_t body_complete(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    if (!rb->to_file) {
        return MG_OK;
    }
    mg_int_t rc = body_write_out(r);
    if (rc != MG_OK) {
        return rc;
    }
    mg_buf_t *b = mg_buf_mem(r->pool, NULL, 0);
    b->in_file = 1;
    b->fd = rb->temp_file->fd;
    b->file_pos = 0;
    b->file_last = rb->temp_file->offset;
    rb->bufs = b;
    rb->fill = NULL;
    rb->fill_end = NULL;
    return MG_OK;
}

/* Room left in the unbuffered stream (its consumer resets it once it took all). */
static size_t stream_room(mg_http_request_body_t *rb)
{
    mg_buf_t *s = rb->stream;
    if (s->pos == s->last) {
        s->pos = s->last = rb->stream_start;
    }
    return (size_t)(rb->stream_end - s->last);
}

/* A chunked body goes into the stream framed as chunks again (the upstream gets it
 * chunked), but as it is for a consumer that frames it its own way and while it may still
 * turn out whole (rb->first: stream_first frames it after) */
static int stream_framed(mg_request_t *r)
{
    return !r->request_body_plain && !r->request_body->first;
}

static void stream_chunk(mg_request_t *r, const char *data, size_t len)
{
    mg_http_request_body_t *rb = r->request_body;
    mg_buf_t *s = rb->stream;
    int framed = stream_framed(r);
    if (framed) {
        s->last = mg_sprintf_end(s->last, rb->stream_end, "%zx\r\n", len);
    }
    memcpy(s->last, data, len);
    s->last += len;
    if (framed) {
        *s->last++ = '\r';
        *s->last++ = '\n';
    }
    rb->received += len;
}

/* The most chunk framing a piece gets ("%zx\r\n" ... "\r\n") and the last chunk after it */
#define STREAM_CHUNK_SLACK 32

/* Consume what the connection buffer holds. MG_OK when the body is complete, MG_AGAIN,
 * or an HTTP status. Unbuffered, only as much as the stream has room for. */
static mg_int_t consume_buffered(mg_request_t *r)
{
    mg_http_conn_t *hc = r->hc;
    mg_http_request_body_t *rb = r->request_body;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (!r->headers_in.chunked) {
        size_t avail = hc->last - hc->start;
        size_t n = (size_t)hc->discard_rest < avail ? (size_t)hc->discard_rest : avail;
        if (rb->stream) {
            n = mg_min(n, stream_room(rb));
            memcpy(rb->stream->last, hc->buf + hc->start, n);
            rb->stream->last += n;
            rb->received += n;
        } else {
            mg_int_t rc = body_save(r, hc->buf + hc->start, n);
            if (rc != MG_OK) {
                r->keepalive = 0;
                return rc;
            }
        }
        hc->start += n;
        hc->discard_rest -= (int64_t)n;
        if (hc->stream == NULL) {
            r->request_length += n; /* (a stream's DATA bytes count as they come) */
        }
        return hc->discard_rest == 0 ? MG_OK : MG_AGAIN;
    }
    size_t pos = 0;
    mg_int_t result = MG_AGAIN;
    for (;;) {
        const char *data;
        size_t dlen;
        size_t len = hc->last - hc->start;
        if (rb->stream) {
            /* no more input than the stream can take framed */
            size_t room = stream_room(rb);
            if (room < 2 * STREAM_CHUNK_SLACK) {
                break;
            }
            len = mg_min(len, pos + room - STREAM_CHUNK_SLACK);
        }
        int rc = mg_http_parse_chunked(&hc->discard_chunked, hc->buf + hc->start, len, &pos, &data, &dlen);
        if (rc < 0 && rc != MG_PARSE_AGAIN) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "client sent invalid chunked body");
            result = MG_HTTP_BAD_REQUEST;
            break;
        }
        if (rc == MG_PARSE_AGAIN) {
            break;
        }
        if (dlen) {
            /* as nginx, the chunk's announced size counts from its first byte on, so a size
             * line beyond the limit is refused at once, not after the limit's worth of data */
            uint64_t chunk = dlen + hc->discard_chunked.size;
            if (clcf->client_max_body_size && rb->received + chunk > clcf->client_max_body_size) {
                if (hc->stream) {
                    /* an h2 body without a length: its chunks are the DATA frames, nginx's h2
                     * module says their sum */
                    mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                                 "client intended to send too large chunked body: %llu bytes",
                                 (unsigned long long)(rb->received + chunk));
                } else {
                    mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                                 "client intended to send too large chunked body: %zu+%llu bytes",
                                 rb->received, (unsigned long long)chunk);
                }
                result = MG_HTTP_REQUEST_ENTITY_TOO_LARGE;
                break;
            }
            if (rb->stream) {
                stream_chunk(r, data, dlen);
            } else if ((result = body_save(r, data, dlen)) != MG_OK) {
                break;
            } else {
                result = MG_AGAIN;
            }
        }
        if (hc->discard_chunked.done) {
            hc->discard_chunked_on = 0;
            if (rb->stream && stream_framed(r)) {
                memcpy(rb->stream->last, "0\r\n\r\n", 5);
                rb->stream->last += 5;
            }
            result = MG_OK;
            break;
        }
    }
    hc->start += pos;
    if (hc->stream == NULL) {
        r->request_length += pos;
    }
    rb->raw += pos;
    if (rb->spill_at && rb->raw > rb->spill_at) {
        rb->to_file = 1; /* what memory holds goes to the file with the next bytes */
    }
    if (result >= MG_HTTP_SPECIAL_RESPONSE) {
        /* the stream position is lost: nothing more can be read from it */
        hc->discard_chunked_on = 0;
        r->lingering_close = 1;
        r->keepalive = 0;
    }
    return result;
}

/* The unbuffered stream cannot take more before its consumer empties it */
static int stream_full(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    if (rb->stream == NULL) {
        return 0;
    }
    return stream_room(rb) < (r->headers_in.chunked ? 2 * STREAM_CHUNK_SLACK : 1);
}

static void body_stop(mg_request_t *r)
{
    mg_connection_t *c = r->connection;
    r->reading_body = 0;
    mg_conn_timer_del(c);
    if (r->hc->stream == NULL && c->reading) {
        mg_http_conn_reader_done(c); /* the watcher or the keepalive wait turns it on again */
    } else {
        mg_conn_read_off(c);
    }
}

static void body_done(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    rb->done = 1;
    body_stop(r);
    rb->post_handler(r);
}

static void body_fail(mg_request_t *r, mg_int_t status)
{
    body_stop(r);
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
    size_t keep = r->head_end;
    if (hc->start > keep) {
        memmove(hc->buf + keep, hc->buf + hc->start, hc->last - hc->start);
        hc->last -= hc->start - keep;
        hc->start = keep;
    }
    if (hc->size - hc->last >= mg_min(hc->size / 2, 4096) || keep == 0 || hc->buf_pooled) {
        return; /* (a pooled buffer's stream has no body to read) */
    }
    char *nb = mg_alloc(hc->size);
    memcpy(nb, hc->buf + hc->start, hc->last - hc->start);
    mg_pool_cleanup_add(r->pool, free_old_buf, hc->buf);
    hc->buf = nb;
    hc->last -= hc->start;
    hc->start = 0;
    r->head_end = 0;
}

/* Read until the body is complete (MG_OK), the client has nothing more for now or the
 * unbuffered stream is full (MG_AGAIN), or an HTTP status. Reading stops on all but
 * MG_AGAIN-waiting-on-the-client. */
static mg_int_t body_read(mg_request_t *r)
{
    mg_connection_t *c = r->connection;
    mg_http_conn_t *hc = r->hc;
    mg_http_request_body_t *rb = r->request_body;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    for (;;) {
        mg_int_t rc = consume_buffered(r);
        if (rc == MG_OK && hc->stream && !r->headers_in.chunked &&
            !mg_http_v2_body_whole(hc->stream)) {
            /* as nginx, an h2 body is whole at its stream's end (END_STREAM): a content-length's
             * worth before it waits for it, and DATA past it is a 400 (stream_recv's EMSGSIZE) */
            rc = MG_AGAIN;
        }
        if (rc == MG_OK && rb->stream == NULL) {
            rc = body_complete(r);
        }
        if (rc == MG_OK) {
            rb->done = 1;
            body_stop(r);
            return MG_OK;
        }
        if (rc != MG_AGAIN) {
            body_stop(r);
            return rc;
        }
        if (stream_full(r)) {
            /* backpressure: the client waits until the consumer took the stream; its
             * timer is the consumer's (proxy_send_timeout) meanwhile */
            mg_conn_timer_del(c);
            mg_conn_read_off(c);
            return MG_AGAIN;
        }
        /* the connection buffer is empty (or holds a partial chunk line): read into it */
        body_make_room(r);
        if (hc->last == hc->size) {
            /* a chunk-size line longer than the buffer is not a chunk-size line */
            body_stop(r);
            return MG_HTTP_BAD_REQUEST;
        }
        size_t want = hc->size - hc->last;
        if (rb->first) {
            if (rb->first_left == 0) {
                /* more than nginx's one buffer: not whole, the consumer starts (and reads on) */
                mg_conn_timer_del(c);
                mg_conn_read_off(c);
                return MG_AGAIN;
            }
            want = mg_min(want, rb->first_left);
        }
        ssize_t n = c->recv(c, hc->buf + hc->last, want);
        if (n > 0) {
            hc->last += (size_t)n;
            if (rb->first) {
                rb->first_left -= (size_t)n;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->read_handler = body_read_event;
            c->timeout_handler = body_timeout;
            mg_conn_timer_set(c, clcf->client_body_timeout);
            mg_conn_read_on(c);
            return MG_AGAIN;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        body_stop(r);
        if (hc->stream && n < 0 && errno == EMSGSIZE) {
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client intended to send body data larger than declared");
            return MG_HTTP_BAD_REQUEST;
        }
        if (hc->stream && n == 0) {
            /* an h2 stream ended before its content-length's worth (a body without one ends
             * with its stream): the stream can still take nginx's 400 */
            int64_t len = r->headers_in.content_length_n;
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client prematurely closed stream: only %lld out of %lld bytes of "
                         "request body received",
                         (long long)(len - hc->discard_rest), (long long)len);
            return MG_HTTP_BAD_REQUEST;
        }
        /* as nginx: a body cut short is the client's bad request (400 in the access log),
         * buffered or not, but an h2 stream the client reset is a 499; nothing is sent on
         * the closed connection */
        c->closed = 1;
        if (hc->stream) {
            mg_log_error(MG_LOG_INFO, &c->log, 0, "client prematurely closed stream");
            return MG_HTTP_CLIENT_CLOSED_REQUEST;
        }
        if (n == 0) {
            mg_log_error(MG_LOG_INFO, &c->log, 0, "client prematurely closed connection");
        } else {
            mg_log_error(MG_LOG_INFO, &c->log, errno, "recv() failed");
        }
        return MG_HTTP_BAD_REQUEST;
    }
}

static void body_read_more(mg_request_t *r)
{
    mg_int_t rc = body_read(r);
    if (rc == MG_OK) {
        body_done(r);
    } else if (rc != MG_AGAIN) {
        body_fail(r, rc);
    }
}

/* Unbuffered: the consumer learns of new bytes, the end or a failure (rb->status) */
static void stream_progress(mg_request_t *r, mg_int_t rc)
{
    mg_http_request_body_t *rb = r->request_body;
    if (rc >= MG_HTTP_SPECIAL_RESPONSE) {
        rb->status = rc;
    }
    rb->stream_handler(r);
}

static void body_read_event(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_request_t *r = hc->r;
    if (r->request_body->stream) {
        stream_progress(r, body_read(r));
    } else {
        body_read_more(r);
    }
}

static void body_timeout(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_request_t *r = hc->r;
    /* nginx logs nothing for it: the access log's 408 says it */
    c->closed = 1;
    c->timedout = 1;
    if (r->request_body->stream) {
        body_stop(r);
        stream_progress(r, MG_HTTP_REQUEST_TIME_OUT);
    } else {
        body_fail(r, MG_HTTP_REQUEST_TIME_OUT);
    }
}

/* One bounded buffer for an unbuffered body: client_body_buffer_size, and at least a full
 * connection buffer's worth (framed) so that a chunk-size line always fits. Reading starts
 * as nginx's does: what came with the head, then, read into one client_body_buffer_size
 * buffer (a Content-Length body's rest, under a quarter more, in one of its size), what the
 * client sent so far; a body whole by then is sent as a buffered one (with a Content-Length,
 * chunked or not). So the stream holds that much too, unframed until it is known. */
static void stream_init(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_http_conn_t *hc = r->hc;
    size_t cbbs = clcf->client_body_buffer_size, preread = hc->last - hc->start;
    rb->first = 1;
    rb->first_left = cbbs;
    if (!r->headers_in.chunked) {
        int64_t rest = r->headers_in.content_length_n - (int64_t)preread;
        rb->first = rest < (int64_t)(cbbs + cbbs / 4);
        rb->first_left = rest > 0 ? (size_t)rest : 0;
    }
    size_t size = mg_max(cbbs, hc->size + 4 * STREAM_CHUNK_SLACK);
    if (rb->first) {
        size = mg_max(size, preread + rb->first_left + 4 * STREAM_CHUNK_SLACK);
    }
    rb->stream_start = mg_pnalloc(r->pool, size);
    rb->stream_end = rb->stream_start + size;
    rb->stream = mg_buf_mem(r->pool, rb->stream_start, 0);
}

/* The first read is over: a whole body becomes a buffered one (the consumer sends it with
 * its length), the rest of a chunked one gets the chunk framing it went in without. */
static void stream_first(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    mg_buf_t *s = rb->stream;
    int first = rb->first;
    rb->first = 0;
    if (rb->done && first) {
        r->request_body_no_buffering = 0;
        r->request_body_plain = 0;
        rb->bufs = rb->fill = s;
        rb->fill_end = rb->stream_end;
        rb->stream = NULL;
        return;
    }
    size_t n = (size_t)(s->last - s->pos);
    if (n == 0 || !r->headers_in.chunked || !stream_framed(r)) {
        return;
    }
    char line[24];
    size_t ll = (size_t)(mg_sprintf_end(line, line + sizeof(line), "%zx\r\n", n) - line);
    memmove(s->pos + ll, s->pos, n);
    memcpy(s->pos, line, ll);
    s->last += ll;
    *s->last++ = '\r';
    *s->last++ = '\n';
}

mg_int_t mg_http_read_client_request_body(mg_request_t *r, void (*post_handler)(mg_request_t *r))
{
    if (r->parent && r->request_body == NULL) {
        /* a subrequest never reads the connection: it has the body its creator gave it */
        r->request_body = mg_pcalloc(r->pool, sizeof(mg_http_request_body_t));
        r->request_body->done = 1;
    }
    if (r->request_body) {
        /* already read (a mirror, Lua): whoever asks for a stream now gets it in memory */
        r->request_body_no_buffering = 0;
        r->request_body_plain = 0;
        post_handler(r);
        return MG_OK;
    }
    mg_http_request_body_t *rb = mg_pcalloc(r->pool, sizeof(mg_http_request_body_t));
    r->request_body = rb;
    rb->post_handler = post_handler;
    if (r->hc->stream == NULL) {
        send_continue(r); /* nginx 1.22 asks for the body before it looks at its length */
    }
    /* (an h2 stream still open may yet bring DATA past a content-length of 0: read as any) */
    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked &&
        !(r->hc->stream && r->headers_in.content_length_n == 0 &&
          !mg_http_v2_body_whole(r->hc->stream))) {
        mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
        if (r->headers_in.content_length_n == 0 && !r->request_body_no_buffering &&
            clcf->client_body_in_file_only != MG_HTTP_BODY_FILE_OFF) {
            /* as nginx, an empty body announced so still gets its (empty) file */
            rb->to_file = 1;
            mg_int_t rc = body_complete(r);
            if (rc != MG_OK) {
                return rc;
            }
        }
        rb->done = 1;
        post_handler(r);
        return MG_OK;
    }
    send_continue(r);
    r->reading_body = 1;
    mg_conn_timer_del(r->connection);
    /* a failure found now is returned, not finalized here: the caller is still running on
     * the request (a Lua coroutine, a phase handler) and finalizes it with the status */
    if (!r->request_body_no_buffering) {
        body_plan(r);
        mg_int_t rc = body_read(r);
        if (rc == MG_OK) {
            body_done(r);
        }
        return rc == MG_AGAIN ? MG_OK : rc;
    }
    /* unbuffered: what already arrived goes into the stream, then the consumer starts */
    stream_init(r);
    mg_int_t rc = body_read(r);
    if (rc >= MG_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }
    stream_first(r);
    post_handler(r);
    return MG_OK;
}

mg_int_t mg_http_read_unbuffered_request_body(mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    if (rb->status) {
        return rb->status;
    }
    if (rb->done) {
        return MG_OK;
    }
    mg_int_t rc = body_read(r);
    if (rc >= MG_HTTP_SPECIAL_RESPONSE) {
        rb->status = rc;
    }
    return rc;
}

mg_int_t mg_http_discard_request_body(mg_request_t *r)
{
    /* the connection drops the rest once the response is done (connection.c); a client
     * waiting on "Expect: 100-continue" is told to send it, as nginx does, so that the
     * connection can stay in sync and be kept alive */
    if (r->discard_body || r->request_body || r->parent) {
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
    if (hc->stream == NULL && hc->discard_rest == 0 && !hc->discard_chunked_on) {
        /* as nginx, a body gone in one go leaves no discarding mark. A length body leaves a
         * length of 0 (a later reader finds an empty body; Lua's body API says "no request
         * body" until then), a chunked one the empty body its parsing needed in nginx */
        r->discard_body = 0;
        if (r->headers_in.chunked) {
            r->request_body = mg_pcalloc(r->pool, sizeof(mg_http_request_body_t));
            r->request_body->done = 1;
        } else {
            r->headers_in.content_length_n = mg_min(r->headers_in.content_length_n, 0);
        }
    }
    return MG_OK;
}
