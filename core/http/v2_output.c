/*
 * A stream's response: the last header filter submits HEADERS (the fields write.c's serializer
 * would write, lowercase, without the connection's own), the writer's send_chain copies the
 * body into the stream's buffer (allocated as bytes come, up to MG_HTTP_V2_OUT_MAX: a full one
 * is EAGAIN to the writer, so a stream whose client stops reading holds only that), and
 * nghttp2's data source takes it out as DATA frames of at most http2_chunk_size as the
 * flow-control windows allow; add_trailer's fields follow as a trailing HEADERS frame.
 */
#include <unistd.h>

#include "v2.h"

static void nv_add(nghttp2_nv *nv, size_t *n, const char *name, size_t nlen, const char *value,
                   size_t vlen)
{
    nv[*n].name = (uint8_t *)name;
    nv[*n].namelen = nlen;
    nv[*n].value = (uint8_t *)value;
    nv[*n].valuelen = vlen;
    nv[*n].flags = NGHTTP2_NV_FLAG_NONE;
    (*n)++;
}

/* Fields HTTP/2 forbids (RFC 9113 8.2.2): the connection's, not the response's. */
static int connection_specific(mg_str_t name)
{
    return mg_str_caseeq(name, "connection") || mg_str_caseeq(name, "keep-alive") ||
           mg_str_caseeq(name, "proxy-connection") || mg_str_caseeq(name, "transfer-encoding") ||
           mg_str_caseeq(name, "upgrade");
}

/* nghttp2 asks for a DATA frame's length and flags; the bytes stay in st->out until
 * mg_http_v2_send_data copies them into the connection's output (NO_COPY: they are copied once,
 * not into nghttp2's frame and then out of it). */
static ssize_t data_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
    (void)buf;
    (void)user_data;
    mg_http_v2_stream_t *st = source->ptr;
    size_t have = st->out_last - st->out_start;
    if (have == 0 && !st->out_eof) {
        st->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = mg_min(mg_min(have, length), st->chunk_size);
    *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (n == have && st->out_eof) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (st->trailers) {
            /* the trailers' HEADERS end the stream (nghttp2 copies the fields) */
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            nghttp2_submit_trailer(session, stream_id, st->trailers, st->ntrailers);
            free(st->trailers);
            st->trailers = NULL;
        }
        if (!st->in_eof) {
            /* the response is whole while the client still sends: nginx's way, a reset
             * with NO_ERROR after it (RFC 9113 8.1) */
            nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_NO_ERROR);
        }
    }
    return (ssize_t)n;
}

int mg_http_v2_send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
                         size_t length, nghttp2_data_source *source, void *user_data)
{
    (void)session;
    mg_http_v2_conn_t *h2 = user_data;
    mg_http_v2_stream_t *st = source->ptr;
    size_t pad = frame->data.padlen;
    size_t need = 9 + length + pad;
    if (h2->olast + need > h2->osize) {
        if (h2->olast > h2->ostart) {
            /* the output is full: nghttp2 asks again with the same frame once it went out
             * (st->out keeps its bytes meanwhile: only this callback takes them) */
            return NGHTTP2_ERR_WOULDBLOCK;
        }
        h2->ostart = h2->olast = 0;
        if (need > h2->osize) {
            h2->osize = need;
            h2->obuf = mg_realloc(h2->obuf, h2->osize);
        }
    }
    char *p = h2->obuf + h2->olast;
    memcpy(p, framehd, 9);
    p += 9;
    if (pad) {
        *p++ = (char)(pad - 1);
    }
    if (length) {
        memcpy(p, st->out + st->out_start, length);
        p += length;
        st->out_start += length;
    }
    if (pad > 1) {
        memset(p, 0, pad - 1);
        p += pad - 1;
    }
    h2->olast = (size_t)(p - h2->obuf);
    if (st->out_start == st->out_last) {
        st->out_start = st->out_last = 0;
        if (st->out_eof) {
            /* all given: the buffer goes before the stream does (which may wait for the
             * client's END_STREAM or for nghttp2 to close it) */
            free(st->out);
            st->out = NULL;
            st->out_size = 0;
        }
    }
    mg_connection_t *fc = st->fc;
    if (length && fc && fc->writing) {
        event_active(&fc->wev, EV_WRITE, 1); /* room for the writer */
    }
    return 0;
}

mg_int_t mg_http_v2_send_header(mg_request_t *r, mg_str_t status_line, mg_str_t server,
                                mg_str_t location)
{
    (void)status_line;
    mg_http_v2_stream_t *st = r->hc->stream;
    mg_http_v2_conn_t *h2 = st->h2;
    mg_http_headers_out_t *ho = &r->headers_out;
    if (st->closed || h2->c == NULL) {
        r->connection->closed = 1;
        return MG_ERROR;
    }
    mg_table_elt_t *h = ho->headers.elts;
    nghttp2_nv *nv = mg_palloc(r->pool, (ho->headers.nelts + 8) * sizeof(nghttp2_nv));
    size_t n = 0;
    char *status = mg_pnalloc(r->pool, 3);
    mg_put_uint3(status, ho->status);
    nv_add(nv, &n, ":status", 7, status, 3);
    int own_server = 0, own_date = 0;
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        own_server |= mg_str_caseeq(h[i].key, "server");
        own_date |= mg_str_caseeq(h[i].key, "date");
    }
    if (!own_server && server.len) {
        nv_add(nv, &n, "server", 6, server.data, server.len);
    }
    if (!own_date) {
        nv_add(nv, &n, "date", 4, mg_now.http, strlen(mg_now.http));
    }
    if (ho->content_type.len) {
        mg_str_t ct = ho->content_type;
        if (ho->charset.len) {
            char *p = mg_pnalloc(r->pool, ct.len + 10 + ho->charset.len);
            memcpy(p, ct.data, ct.len);
            memcpy(p + ct.len, "; charset=", 10);
            memcpy(p + ct.len + 10, ho->charset.data, ho->charset.len);
            ct.data = p;
            ct.len += 10 + ho->charset.len;
        }
        nv_add(nv, &n, "content-type", 12, ct.data, ct.len);
    }
    if (ho->content_length_n >= 0) {
        char *p = mg_pnalloc(r->pool, 24);
        size_t len = (size_t)(mg_put_uint(p, (uint64_t)ho->content_length_n) - p);
        nv_add(nv, &n, "content-length", 14, p, len);
    }
    if (ho->last_modified_time >= 0) {
        char *p = mg_pnalloc(r->pool, 40);
        mg_time_http(p, ho->last_modified_time);
        nv_add(nv, &n, "last-modified", 13, p, strlen(p));
    }
    if (location.len) {
        nv_add(nv, &n, "location", 8, location.data, location.len);
    }
    size_t size = 0;
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        if (h[i].hash == 0 || &h[i] == ho->location) {
            continue;
        }
        mg_str_t key = mg_http_safe_header_name(r, h[i].key);
        if (connection_specific(key)) {
            continue;
        }
        mg_str_t value = mg_http_safe_header_value(r, key, h[i].value);
        char *lower = mg_pnalloc(r->pool, key.len);
        for (size_t k = 0; k < key.len; k++) {
            lower[k] = (char)mg_tolower(key.data[k]);
        }
        nv_add(nv, &n, lower, key.len, value.data, value.len);
    }
    for (size_t i = 0; i < n; i++) {
        size += nv[i].namelen + nv[i].valuelen + 4;
    }
    r->header_size = size;
    r->bytes_sent += size; /* as the head's bytes on HTTP/1: $body_bytes_sent leaves them out */

    mg_http_v2_loc_conf_t *vlcf = mg_http_get_loc_conf(r, mg_http_v2_module);
    st->chunk_size = vlcf->chunk_size;
    st->out_hint = ho->content_length_n > 0 ? (size_t)ho->content_length_n : 0; /* 64-bit size_t */
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read};
    int rv = nghttp2_submit_response(h2->session, st->id, nv, n, r->header_only ? NULL : &prd);
    if (rv != 0) {
        mg_log_error(MG_LOG_ALERT, &r->connection->log, 0, "nghttp2_submit_response() failed: %s",
                     nghttp2_strerror(rv));
        r->connection->closed = 1;
        return MG_ERROR;
    }
    st->submitted = 1;
    if (r->header_only) {
        st->out_eof = 1; /* HEADERS end the stream; what the writer gives is dropped */
        if (!st->in_eof) {
            nghttp2_submit_rst_stream(h2->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
        }
    }
    mg_http_v2_schedule(h2);
    return MG_OK;
}

mg_int_t mg_http_v2_send_continue(mg_request_t *r)
{
    mg_http_v2_stream_t *st = r->hc->stream;
    if (st->closed || st->submitted || st->h2->c == NULL) {
        return MG_ERROR;
    }
    nghttp2_nv nv;
    size_t n = 0;
    nv_add(&nv, &n, ":status", 7, "100", 3);
    if (nghttp2_submit_headers(st->h2->session, NGHTTP2_FLAG_NONE, st->id, NULL, &nv, 1, NULL) !=
        0) {
        return MG_ERROR;
    }
    mg_http_v2_schedule(st->h2);
    return MG_OK;
}

/* The stream's output, when it can take bytes: NULL with errno set (EPIPE: reset) or st. */
static mg_http_v2_stream_t *out_stream(mg_connection_t *fc)
{
    mg_http_v2_stream_t *st = ((mg_http_conn_t *)fc->data)->stream;
    if (st->reset || st->closed || st->h2->c == NULL) {
        errno = EPIPE;
        return NULL;
    }
    return st;
}

/* Room at the end of st->out for up to `offered` bytes (0: none, wait for the data source). */
static size_t out_room(mg_http_v2_stream_t *st, size_t offered)
{
    size_t held = st->out_last - st->out_start;
    /* the bytes held move to the front once at most half the buffer: a client whose window
     * lets a few KiB out at a time would otherwise have the rest moved for each */
    if (st->out_start &&
        (held == 0 || (st->out_last + offered > st->out_size && held <= st->out_size / 2))) {
        memmove(st->out, st->out + st->out_start, held);
        st->out_last = held;
        st->out_start = 0;
    }
    if (held + offered > st->out_size && st->out_size < MG_HTTP_V2_OUT_MAX) {
        /* allocated when bytes come, as large as they need up to the stream's budget: a
         * file read in small pieces keeps it small; a proxied response, which would otherwise
         * go to a temporary file while the stream waits, gets the whole budget */
        size_t size = st->out_size ? st->out_size : mg_min(2 * st->chunk_size, 16384);
        if (st->out_size == 0 && st->out_hint) {
            /* as large as the response at once: growing by steps copies what it holds */
            size = mg_min(st->out_hint, MG_HTTP_V2_OUT_MAX);
        }
        while (size < held + offered && size < MG_HTTP_V2_OUT_MAX) {
            size *= 2;
        }
        st->out_size = mg_min(size, MG_HTTP_V2_OUT_MAX);
        st->out = mg_realloc(st->out, st->out_size);
    }
    return st->out_size - st->out_last;
}

/* Bytes came into st->out: the data source, if it waits, has them. */
static void out_added(mg_http_v2_stream_t *st)
{
    if (st->deferred && st->submitted) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->h2->session, st->id);
    }
    mg_http_v2_schedule(st->h2);
}

ssize_t mg_http_v2_send_chain(mg_connection_t *fc, const struct iovec *iov, int cnt)
{
    mg_http_v2_stream_t *st = out_stream(fc);
    if (st == NULL) {
        return -1;
    }
    size_t offered = 0;
    for (int i = 0; i < cnt; i++) {
        offered += iov[i].iov_len;
    }
    if (st->out_eof) {
        return (ssize_t)offered; /* a head-only response: the body has nowhere to go */
    }
    size_t room = out_room(st, offered), copied = 0;
    for (int i = 0; i < cnt && copied < room; i++) {
        size_t k = mg_min(iov[i].iov_len, room - copied);
        memcpy(st->out + st->out_last + copied, iov[i].iov_base, k);
        copied += k;
    }
    if (copied == 0) {
        errno = EAGAIN; /* the data source wakes the writer once it took some */
        return -1;
    }
    st->out_last += copied;
    out_added(st);
    return (ssize_t)copied;
}

ssize_t mg_http_v2_send_file(mg_connection_t *fc, int fd, off_t off, size_t len)
{
    mg_http_v2_stream_t *st = out_stream(fc);
    if (st == NULL) {
        return -1;
    }
    if (st->out_eof) {
        return (ssize_t)len;
    }
    size_t room = mg_min(out_room(st, len), len);
    if (room == 0) {
        errno = EAGAIN;
        return -1;
    }
    ssize_t n;
    do {
        n = pread(fd, st->out + st->out_last, room, off);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        fc->log.action = "sending response to client";
        if (n < 0) {
            mg_log_error(MG_LOG_CRIT, &fc->log, errno, "pread() failed");
        } else {
            mg_log_error(MG_LOG_ALERT, &fc->log, 0,
                         "file was truncated while sending the response");
        }
        errno = EIO;
        return -2;
    }
    st->out_last += (size_t)n;
    out_added(st);
    return n;
}

ssize_t mg_http_v2_send(mg_connection_t *fc, const char *buf, size_t len)
{
    struct iovec iov = {(void *)buf, len};
    return mg_http_v2_send_chain(fc, &iov, 1);
}

void mg_http_v2_output_end(mg_http_v2_stream_t *st, int ok)
{
    mg_http_v2_conn_t *h2 = st->h2;
    if (st->out_eof && ok) {
        return;
    }
    if (ok && st->submitted) {
        st->out_eof = 1;
        if (st->deferred) {
            st->deferred = 0;
            nghttp2_session_resume_data(h2->session, st->id);
        }
    } else if (!st->closed && h2->c) {
        st->out_eof = 1;
        /* as nginx: PROTOCOL_ERROR when the client let send_timeout pass (a window kept shut) */
        uint32_t code =
            st->fc && st->fc->timedout ? NGHTTP2_PROTOCOL_ERROR : NGHTTP2_INTERNAL_ERROR;
        nghttp2_submit_rst_stream(h2->session, NGHTTP2_FLAG_NONE, st->id, code);
    }
    mg_http_v2_schedule(h2);
}

void mg_http_v2_set_trailers(mg_request_t *r)
{
    mg_http_v2_stream_t *st = r->hc->stream;
    mg_array_t *a = r->headers_out.trailers;
    if (a == NULL || st->trailers || st->out_eof) {
        return;
    }
    mg_table_elt_t *t = a->elts;
    size_t n = 0, bytes = 0;
    for (size_t i = 0; i < a->nelts; i++) {
        if (t[i].hash && !connection_specific(t[i].key)) {
            n++;
            bytes += t[i].key.len + t[i].value.len;
        }
    }
    if (n == 0) {
        return;
    }
    nghttp2_nv *nv = mg_alloc(n * sizeof(nghttp2_nv) + bytes);
    char *p = (char *)(nv + n);
    size_t k = 0;
    for (size_t i = 0; i < a->nelts; i++) {
        if (!t[i].hash || connection_specific(t[i].key)) {
            continue;
        }
        mg_strlow(p, t[i].key.data, t[i].key.len); /* h2 field names are lowercase */
        memcpy(p + t[i].key.len, t[i].value.data, t[i].value.len);
        nv_add(nv, &k, p, t[i].key.len, p + t[i].key.len, t[i].value.len);
        p += t[i].key.len + t[i].value.len;
    }
    st->trailers = nv;
    st->ntrailers = n;
}
