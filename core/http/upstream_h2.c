/*
 * An HTTP/2 client on the upstream engine (gRPC's grpc_pass): a driver (upstream_io.h) that
 * takes the connection once the engine has it up, runs one stream of a libnghttp2 client
 * session on it (the preface and SETTINGS, the request's HEADERS, the client's body as DATA
 * while it arrives, so both sides stream at once), and gives back the response head (through
 * mg_upstream_process_head: next upstream by status, intercept_errors, the owner's
 * process_header), its DATA as it comes and its trailer fields (r->headers_out.trailers).
 * Flow control is the backpressure: the stream's window is given back only once the client's
 * writer has sent what was delivered, so at most one window (64 KiB) is held. A connection
 * whose stream ended cleanly goes back to the keepalive pool with its session.
 */
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "upstream_int.h"

#define H2_WINDOW 65535

typedef struct h2_s h2_t;

/* What outlives a request on a kept connection: the session (its HPACK tables and stream
 * ids), malloc'ed, its owner the current request or the keepalive pool. */
typedef struct {
    nghttp2_session *session;
    h2_t *h; /* the request using it; NULL while idle */
} h2_session_t;

struct h2_s {
    mg_upstream_t *u;
    h2_session_t *hs;
    mg_upstream_conn_t *conn; /* the connection hs speaks on */
    int32_t id;
    const mg_upstream_h2_field_t *fields;
    size_t nfields;
    int has_body;
    /* bytes nghttp2 gave that the socket did not take yet */
    char *wbuf;
    size_t wlen, woff, wsize;
    /* the response */
    mg_array_t headers; /* mg_http_header_t */
    size_t header_bytes;
    mg_uint_t status;
    mg_array_t *trailers; /* mg_table_elt_t */
    char *data;           /* DATA not yet given back as window: [0, given) at the writer */
    size_t data_len, given;
    mg_buf_t out;
    mg_http_chunked_t chunked; /* the client's body as body.c frames it */
    mg_buf_t *held;            /* a body read before the upstream started: the buffer at hand */
    off_t held_off;            /* and how much of it went */
    uint32_t rst_code;
    const char *error; /* a protocol error seen in a callback, logged by the caller */
    int eof_err;       /* the read that ended the connection: its errno (0: a close) */
    unsigned head_done : 1, head_taken : 1, end_stream : 1, closed : 1, body_done : 1, deferred : 1,
        in_send : 1, resume : 1, too_big : 1, watching : 1, first : 1, eof : 1, eof_logged : 1,
        held_set : 1;
};

static void session_free(h2_session_t *hs)
{
    if (hs) {
        nghttp2_session_del(hs->session);
        free(hs);
    }
}

static void h2_cleanup(void *data)
{
    h2_t *h = data;
    if (h->hs && h->hs->h == h) {
        /* the connection was not kept: its session goes with the request */
        session_free(h->hs);
    }
    h->hs = NULL;
    free(h->wbuf);
    h->wbuf = NULL;
}

static h2_t *h2_of(nghttp2_session *session, void *user_data)
{
    (void)session;
    h2_session_t *hs = user_data;
    return hs->h;
}

/* ---- nghttp2's callbacks ---- */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    (void)frame;
    (void)session;
    (void)ud;
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)flags;
    h2_t *h = h2_of(session, ud);
    if (h == NULL || frame->hd.stream_id != h->id) {
        return 0;
    }
    mg_request_t *r = h->u->r;
    h->header_bytes += namelen + valuelen + 4;
    if (!h->head_done && h->header_bytes > h->u->conf->buffer_size) {
        h->too_big = 1;
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* the stream is reset */
    }
    if (!h->head_done && namelen == 7 && memcmp(name, ":status", 7) == 0) {
        h->status = valuelen == 3 ? (mg_uint_t)mg_atoi((const char *)value, 3) : 0;
        return 0;
    }
    if (namelen && name[0] == ':') {
        return 0;
    }
    char *nm = mg_pstrdup(r->pool, (const char *)name, namelen);
    char *val = mg_pstrdup(r->pool, (const char *)value, valuelen);
    if (!h->head_done) {
        mg_http_header_t *hd = mg_array_push(&h->headers);
        hd->name = (mg_span_t){nm, namelen};
        hd->value = (mg_span_t){val, valuelen};
        return 0;
    }
    if (h->trailers == NULL) {
        h->trailers = mg_array_create(r->pool, 4, sizeof(mg_table_elt_t));
    }
    mg_table_elt_t *t = mg_array_push(h->trailers);
    t->key.data = nm;
    t->key.len = namelen;
    t->value.data = val;
    t->value.len = valuelen;
    t->hash = 1;
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    h2_t *h = h2_of(session, ud);
    if (h == NULL || frame->hd.stream_id != h->id) {
        return 0;
    }
    if (frame->hd.type == NGHTTP2_HEADERS && !h->head_done) {
        if (h->status >= 100 && h->status < 200) {
            h->headers.nelts = 0; /* an interim response: the final one follows */
            h->header_bytes = 0;
            h->status = 0;
        } else {
            h->head_done = 1;
        }
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        h->end_stream = 1;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *ud)
{
    (void)flags;
    h2_t *h = h2_of(session, ud);
    if (h == NULL || stream_id != h->id) {
        return 0;
    }
    if (h->data_len + len > H2_WINDOW) {
        /* nghttp2 holds the peer to the window given: this cannot be */
        h->error = "upstream sent more DATA than the window allows";
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (h->data == NULL) {
        h->data = mg_pnalloc(h->u->r->pool, H2_WINDOW);
    }
    memcpy(h->data + h->data_len, data, len);
    h->data_len += len;
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *ud)
{
    h2_t *h = h2_of(session, ud);
    if (h == NULL || stream_id != h->id) {
        return 0;
    }
    h->closed = 1;
    h->rst_code = error_code;
    return 0;
}

/* A body that was read whole before the upstream started (body.c gives one that came whole
 * with its head so, as nginx's; or Lua read it): its buffers, in memory or in its file, in
 * turn. The number of bytes copied into buf, or -1 when the file cannot be read. */
static ssize_t held_read(h2_t *h, uint8_t *buf, size_t length)
{
    mg_http_request_body_t *rb = h->u->r->request_body;
    if (!h->held_set) {
        h->held_set = 1;
        h->held = rb ? rb->bufs : NULL;
        h->held_off = 0;
    }
    size_t n = 0;
    for (; h->held && n < length; h->held = h->held->next, h->held_off = 0) {
        mg_buf_t *b = h->held;
        off_t size = b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
        size_t take = (size_t)mg_min((off_t)(length - n), size - h->held_off);
        if (b->in_file) {
            ssize_t got = pread(b->fd, buf + n, take, b->file_pos + h->held_off);
            if (got < 0) {
                return -1;
            }
            take = (size_t)got;
        } else {
            memcpy(buf + n, b->pos + h->held_off, take);
        }
        n += take;
        h->held_off += (off_t)take;
        if (h->held_off < size) {
            break;
        }
    }
    return (ssize_t)n;
}

/* The client's body as the stream's DATA: what the body stream holds, refilled from the
 * client each time it is empty; deferred while the client has sent nothing more. */
static ssize_t body_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *source, void *ud)
{
    (void)stream_id;
    (void)source;
    h2_t *h = h2_of(session, ud);
    if (h == NULL) {
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    mg_upstream_t *u = h->u;
    mg_buf_t *s = mg_upstream_body_stream(u);
    if (s == NULL) {
        ssize_t n = held_read(h, buf, length);
        if (n < 0) {
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
        if (n) {
            u->body_sent = 1;
        }
        if (h->held == NULL) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        }
        return n;
    }
    if (s->pos == s->last && !h->body_done) {
        mg_int_t rc = mg_http_read_unbuffered_request_body(u->r);
        if (rc >= MG_HTTP_SPECIAL_RESPONSE) {
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* step() sees rb->status */
        }
        h->body_done = rc == MG_OK;
    }
    size_t n = 0;
    if (u->r->headers_in.chunked) {
        /* the stream holds the body framed as chunks again (body.c): the payload only */
        while (n < length && s->pos < s->last && !h->chunked.done) {
            size_t p = 0, dl;
            const char *d;
            size_t len = mg_min((size_t)(s->last - s->pos), length - n);
            int rc = mg_http_parse_chunked(&h->chunked, s->pos, len, &p, &d, &dl);
            s->pos += p;
            if (rc == MG_PARSE_AGAIN && p == 0) {
                break;
            }
            if (rc < 0 && rc != MG_PARSE_AGAIN) {
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* body.c checked it already */
            }
            if (rc == 0 && dl) {
                memcpy(buf + n, d, dl);
                n += dl;
            }
        }
        if (h->chunked.done && !h->body_done) {
            s->pos = s->last;
            /* the last chunk is in: body.c may not have said so yet */
            h->body_done = 1;
            mg_http_read_unbuffered_request_body(u->r);
        }
    } else {
        n = mg_min(length, (size_t)(s->last - s->pos));
        memcpy(buf, s->pos, n);
        s->pos += n;
    }
    if (n) {
        u->body_sent = 1; /* gone: no other upstream can be tried */
    }
    if (s->pos == s->last && h->body_done) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
        h->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

/* ---- the driver ---- */

static void fail(mg_upstream_t *u, mg_uint_t ft)
{
    if (u->header_sent) {
        u->keepalive = 0;
        mg_upstream_finalize(u, MG_ERROR); /* the client must not take it for complete */
    } else {
        mg_upstream_next(u, ft);
    }
}

/* Write what nghttp2 has: MG_OK (all out), MG_AGAIN (the socket is full, the write event
 * on) or MG_ERROR (logged). */
static mg_int_t flush(mg_upstream_t *u, h2_t *h)
{
    for (;;) {
        const char *data;
        size_t len;
        if (h->wlen) {
            data = h->wbuf + h->woff;
            len = h->wlen - h->woff;
        } else {
            const uint8_t *p;
            h->in_send = 1;
            ssize_t n = nghttp2_session_mem_send(h->hs->session, &p);
            h->in_send = 0;
            if (n < 0) {
                mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0,
                             "nghttp2_session_mem_send() failed: %s", nghttp2_strerror((int)n));
                return MG_ERROR;
            }
            if (n == 0) {
                return MG_OK;
            }
            data = (const char *)p;
            len = (size_t)n;
        }
        ssize_t s = mg_upstream_send(u, data, len);
        if (s < 0 && errno == EINTR) {
            continue;
        }
        if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            s = 0;
        } else if (s < 0) {
            if (!mg_upstream_io_logged(u)) {
                mg_log_error(MG_LOG_ERR, mg_upstream_log(u), errno, "send() failed");
            }
            return MG_ERROR;
        }
        u->state->bytes_sent += s;
        if (s) {
            u->sent_this_try = 1;
        }
        if (h->wlen) {
            h->woff += (size_t)s;
            if (h->woff == h->wlen) {
                h->wlen = h->woff = 0;
            }
        } else if ((size_t)s < len) {
            /* nghttp2's buffer is good until its next call: keep the rest */
            size_t rest = len - (size_t)s;
            if (h->wsize < rest) {
                free(h->wbuf);
                h->wsize = mg_max(rest, 16384);
                h->wbuf = mg_alloc(h->wsize);
            }
            memcpy(h->wbuf, data + s, rest);
            h->wlen = rest;
            h->woff = 0;
        }
        if (h->wlen) {
            mg_upstream_conn_write_on(u);
            return MG_AGAIN;
        }
    }
}

static void give_back(h2_t *h, size_t n)
{
    if (n && nghttp2_session_consume(h->hs->session, h->id, n) != 0) {
        nghttp2_session_consume_connection(h->hs->session, n); /* the stream is gone */
    }
}

/* The stream ended cleanly: the connection may serve the next request. */
static int reusable(mg_upstream_t *u, h2_t *h)
{
    nghttp2_session *s = h->hs->session;
    return u->group && u->group->keepalive > 0 && h->closed && h->rst_code == 0 && h->wlen == 0 &&
           nghttp2_session_want_read(s) && nghttp2_session_get_next_stream_id(s) < (1u << 30);
}

/* Pass the DATA received on to the client (when the writer is free) and, at the stream's
 * end, the trailers and the end. MG_DONE when the request was finalized. */
static mg_int_t deliver(mg_upstream_t *u, h2_t *h)
{
    mg_request_t *r = u->r;
    for (;;) {
        if (h->given && mg_http_output_busy(r)) {
            return MG_OK; /* on_drained comes back */
        }
        if (h->given) {
            give_back(h, h->given);
            memmove(h->data, h->data + h->given, h->data_len - h->given);
            h->data_len -= h->given;
            h->given = 0;
        }
        int last = h->end_stream;
        if (h->data_len == 0 && !last) {
            return MG_OK;
        }
        mg_buf_t *b = &h->out;
        memset(b, 0, sizeof(*b));
        b->fd = -1;
        b->pos = h->data; /* NULL when no DATA came at all */
        b->last = h->data ? h->data + h->data_len : NULL;
        b->flush = 1;
        h->given = h->data_len;
        u->state->response_length += (int64_t)h->data_len;
        if (!last) {
            if (mg_http_output(r, b) == MG_ERROR) {
                mg_upstream_finalize(u, MG_ERROR);
                return MG_DONE;
            }
            continue;
        }
        b->last_buf = 1;
        if (h->trailers && r->parent == NULL) {
            r->headers_out.trailers = h->trailers;
        }
        if (!h->closed && !u->done) {
            /* the response is whole while the request still goes: the rest is not sent */
            nghttp2_submit_rst_stream(h->hs->session, NGHTTP2_FLAG_NONE, h->id, NGHTTP2_NO_ERROR);
            if (flush(u, h) == MG_OK) {
                h->closed = 1;
            }
        }
        u->keepalive = !u->done && !r->reading_body && reusable(u, h);
        if (u->keepalive) {
            h->hs->h = NULL; /* the session now goes with the connection */
            u->conn->proto = h->hs;
            h->hs = NULL;
            mg_upstream_done(u, 1);
        } else {
            mg_upstream_release(u); /* the rest of the client's body is not read */
        }
        mg_int_t rc = mg_http_output(r, b);
        mg_upstream_finalize(u, rc == MG_ERROR ? MG_ERROR : MG_OK);
        return MG_DONE;
    }
}

static void step(mg_upstream_t *u);

static void on_drained(mg_request_t *r)
{
    mg_upstream_t *u = mg_upstream_of(r);
    if (u && !u->done && u->driver) {
        step(u);
    }
}

/* The head is whole: the engine checks it and sends it on (ending in h2_body). */
static void take_head(mg_upstream_t *u, h2_t *h)
{
    u->head.http_major = 2;
    u->head.http_minor = 0;
    u->head.status = h->status;
    u->head.status_line = (mg_span_t){"", 0};
    u->head.headers = h->headers.elts;
    u->head.nheaders = h->headers.nelts;
    u->pending = NULL;
    u->pending_len = 0;
    u->request_sent = 1;
    u->r->connection->log.action = "reading response header from upstream";
    mg_upstream_process_head(u);
}

/* Body bytes wait in the client's stream and the upstream's window for them is closed */
static int body_blocked(mg_upstream_t *u, h2_t *h)
{
    mg_buf_t *s = mg_upstream_body_stream(u);
    if (s == NULL || s->pos == s->last || h->id <= 0 || h->end_stream) {
        return 0;
    }
    nghttp2_session *session = h->hs->session;
    return nghttp2_session_get_stream_remote_window_size(session, h->id) <= 0 ||
           nghttp2_session_get_remote_window_size(session) <= 0;
}

/* After any event: errors, the head, the body, what nghttp2 has to send, the timer. */
static void step(mg_upstream_t *u)
{
    h2_t *h = u->driver_data;
    mg_request_t *r = u->r;
    if (h->error) {
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "%s", h->error);
        fail(u, MG_UPSTREAM_FT_INVALID_HEADER);
        return;
    }
    if (h->too_big) {
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream sent too big header");
        fail(u, MG_UPSTREAM_FT_INVALID_HEADER);
        return;
    }
    mg_http_request_body_t *rb = r->request_body;
    if (rb && rb->status && rb->stream_data == u) {
        mg_upstream_finalize(u, u->header_sent ? MG_ERROR : rb->status);
        return;
    }
    if (!h->watching && !r->reading_body) {
        h->watching = 1; /* the client's body is in: a client that goes away now is seen */
        mg_upstream_watch_client(u);
    }
    if (h->head_done && !h->head_taken) {
        if (h->status < 200 || h->status > 999) {
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream sent invalid :status \"%lu\"",
                         h->status);
            fail(u, MG_UPSTREAM_FT_INVALID_HEADER);
            return;
        }
        /* r may be gone after this (an error page, a redirect, another try): h2_body goes on
         * when the head was sent */
        take_head(u, h);
        return;
    }
    if (h->closed && !h->end_stream) {
        if (h->rst_code == NGHTTP2_NO_ERROR && h->head_taken) {
            h->end_stream = 1; /* reset with NO_ERROR after the response: as an end */
        } else {
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0,
                         "upstream rejected request with error %lu", (unsigned long)h->rst_code);
            fail(u, MG_UPSTREAM_FT_INVALID_HEADER);
            return;
        }
    }
    if (h->head_taken) {
        r->connection->log.action = "reading upstream";
        if (deliver(u, h) == MG_DONE) {
            return;
        }
    }
    if (h->eof && !h->end_stream) {
        if (h->eof_err && !h->eof_logged) {
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), h->eof_err, "recv() failed");
        } else if (!h->eof_err) {
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0,
                         "upstream prematurely closed connection");
        }
        fail(u, MG_UPSTREAM_FT_ERROR);
        return;
    }
    mg_int_t rc = flush(u, h);
    if (rc == MG_ERROR) {
        fail(u, MG_UPSTREAM_FT_ERROR);
        return;
    }
    if (!nghttp2_session_want_read(h->hs->session) && !h->end_stream) {
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream sent invalid http2 response");
        fail(u, MG_UPSTREAM_FT_INVALID_HEADER);
        return;
    }
    /* DATA that waits for the upstream's flow-control window is a send that blocks (nginx's
     * request_body_blocked): grpc_send_timeout, not grpc_read_timeout */
    int sending = rc == MG_AGAIN || body_blocked(u, h);
    if (sending && !h->head_taken) {
        r->connection->log.action = "sending request to upstream";
    }
    mg_upstream_conn_timer(u, sending ? u->conf->send_timeout : u->conf->read_timeout);
}

static void h2_start(mg_upstream_t *u)
{
    h2_t *h = u->driver_data;
    mg_request_t *r = u->r;
    if (h->hs && h->hs->h == h) {
        session_free(h->hs); /* the try before's connection is gone */
    }
    h->hs = NULL;
    h->conn = u->conn;
    h->headers.nelts = 0;
    h->header_bytes = 0;
    h->status = 0;
    h->trailers = NULL;
    h->data_len = h->given = 0;
    h->wlen = h->woff = 0;
    h->rst_code = 0;
    h->error = NULL;
    h->head_done = h->head_taken = h->end_stream = h->closed = h->deferred = h->resume = 0;
    h->too_big = h->eof = h->eof_logged = 0;
    h->eof_err = 0;

    h->first = 0;
    if (u->conn->proto) {
        h->hs = u->conn->proto; /* a kept connection's session */
        u->conn->proto = NULL;
    } else {
        h->first = 1;
        h->hs = mg_calloc(sizeof(h2_session_t));
        nghttp2_session_callbacks *cb;
        nghttp2_session_callbacks_new(&cb);
        nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
        nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
        nghttp2_option *opt;
        nghttp2_option_new(&opt);
        nghttp2_option_set_no_auto_window_update(opt, 1);
        nghttp2_session_client_new2(&h->hs->session, cb, h->hs, opt);
        nghttp2_option_del(opt);
        nghttp2_session_callbacks_del(cb);
        nghttp2_settings_entry iv[] = {
            {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
            {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
        };
        nghttp2_submit_settings(h->hs->session, NGHTTP2_FLAG_NONE, iv, mg_nelems(iv));
    }
    h->hs->h = h;

    nghttp2_nv *nv = mg_palloc(r->pool, (h->nfields ? h->nfields : 1) * sizeof(nghttp2_nv));
    for (size_t i = 0; i < h->nfields; i++) {
        nv[i].name = (uint8_t *)h->fields[i].name.data;
        nv[i].namelen = h->fields[i].name.len;
        nv[i].value = (uint8_t *)h->fields[i].value.data;
        nv[i].valuelen = h->fields[i].value.len;
        nv[i].flags = NGHTTP2_NV_FLAG_NONE;
    }
    nghttp2_data_provider prd = {.read_callback = body_read};
    h->id = nghttp2_submit_request(h->hs->session, NULL, nv, h->nfields, h->has_body ? &prd : NULL,
                                   NULL);
    if (h->id < 0) {
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "nghttp2_submit_request() failed: %s",
                     nghttp2_strerror(h->id));
        mg_upstream_finalize(u, MG_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    r->connection->log.action = "sending request to upstream";
    mg_upstream_conn_read_on(u);
    step(u);
}

static void h2_read(mg_upstream_t *u)
{
    h2_t *h = u->driver_data;
    u->r->connection->log.action =
        h->head_taken ? "reading upstream" : "reading response header from upstream";
    for (;;) {
        ssize_t n = mg_upstream_recv(u, u->hbuf, u->conf->buffer_size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (n <= 0) {
            /* what came before the end is used first (step): a head and DATA then the close
             * is a response broken off, not a 502 */
            h->eof = 1;
            h->eof_err = n < 0 ? errno : 0;
            h->eof_logged = n < 0 && mg_upstream_io_logged(u);
            break;
        }
        u->conn->got_bytes = 1;
        u->state->bytes_received += n;
        if (h->first) {
            /* an upstream that is not h2 (an HTTP/1.x answer, say): its first bytes, taken
             * as a frame header, announce a frame far too large, as nginx reports it */
            h->first = 0;
            uint32_t flen =
                n >= 3 ? (uint32_t)((unsigned char)u->hbuf[0] << 16 |
                                    (unsigned char)u->hbuf[1] << 8 | (unsigned char)u->hbuf[2])
                       : 0;
            if (flen > 16384) { /* SETTINGS_MAX_FRAME_SIZE, not raised */
                mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0,
                             "upstream sent too large http2 frame: %u", (unsigned)flen);
                fail(u, MG_UPSTREAM_FT_INVALID_HEADER);
                return;
            }
        }
        ssize_t rv = nghttp2_session_mem_recv(h->hs->session, (const uint8_t *)u->hbuf, (size_t)n);
        if (rv < 0 && h->error == NULL && !h->too_big) {
            h->error = "upstream sent invalid http2 response";
        }
        if (rv < 0 || h->error || h->too_big) {
            break;
        }
    }
    step(u);
}

static void h2_write(mg_upstream_t *u)
{
    step(u);
}

static void h2_timeout(mg_upstream_t *u)
{
    fail(u, MG_UPSTREAM_FT_TIMEOUT);
}

static void h2_body(mg_upstream_t *u)
{
    h2_t *h = u->driver_data;
    h->head_taken = 1;
    u->reading_body = 1;
    u->r->write_event_handler = on_drained;
    step(u); /* what came with the head, the end, the window */
}

static void h2_client_body(mg_upstream_t *u)
{
    h2_t *h = u->driver_data;
    if (h->in_send || h->hs == NULL) {
        return; /* the data source is reading it now */
    }
    if (h->deferred) {
        h->deferred = 0;
        nghttp2_session_resume_data(h->hs->session, h->id);
    }
    step(u);
}

static const mg_upstream_driver_t h2_driver = {
    .start = h2_start,
    .read = h2_read,
    .write = h2_write,
    .timeout = h2_timeout,
    .body = h2_body,
    .client_body = h2_client_body,
};

void mg_upstream_h2_setup(mg_upstream_t *u, const mg_upstream_h2_field_t *fields, size_t n,
                          int has_body)
{
    mg_request_t *r = u->r;
    h2_t *h = mg_pcalloc(r->pool, sizeof(h2_t));
    h->u = u;
    h->fields = fields;
    h->nfields = n;
    h->has_body = has_body;
    mg_array_init(&h->headers, r->pool, 16, sizeof(mg_http_header_t));
    mg_pool_cleanup_add(r->pool, h2_cleanup, h);
    u->driver = &h2_driver;
    u->driver_data = h;
}

void mg_upstream_h2_conn_free(void *proto)
{
    session_free(proto);
}

int mg_upstream_h2_idle(void *proto, int fd, mg_ssl_conn_t *ssl, mg_log_t *log)
{
    h2_session_t *hs = proto;
    char buf[4096];
    for (;;) {
        ssize_t n = ssl ? mg_ssl_recv(ssl, log, buf, sizeof(buf)) : recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || nghttp2_session_mem_recv(hs->session, (const uint8_t *)buf, (size_t)n) < 0) {
            return 0;
        }
    }
    if (!nghttp2_session_want_read(hs->session) ||
        nghttp2_session_get_remote_settings(hs->session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) ==
            0) {
        return 0; /* a GOAWAY */
    }
    for (;;) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(hs->session, &p);
        if (n <= 0) {
            return n == 0;
        }
        /* a few bytes of ACKs: a socket that cannot take them at once is not worth keeping */
        ssize_t s = ssl ? mg_ssl_send(ssl, log, (const char *)p, (size_t)n)
                        : send(fd, p, (size_t)n, MSG_NOSIGNAL);
        if (s != n) {
            return 0;
        }
    }
}
