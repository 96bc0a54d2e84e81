/*
 * A stream's response body, pulled: the writer's send_chain/send_file offers the bytes at its
 * queue's front (memory pieces or a file's range) and the stream keeps references to them, not
 * a copy; nghttp2's data source frames them (DATA frames of at most http2_chunk_size as the
 * flow-control windows allow, NGHTTP2_DATA_FLAG_NO_COPY) and its send_data callback copies them
 * (or preads the file's) once, straight into the connection's output. A later call of the
 * writer is answered with the bytes taken since, which it then drops from its queue: a producer
 * (an upstream read, Lua's ngx.print) whose buffers are not taken yet waits as on a full
 * socket, so a stream whose client stops reading holds only the writer's own buffers.
 */
#include <unistd.h>

#include "v2.h"

/* Bytes framed since the writer's last call: it drops them now (the rest stays referenced). */
static ssize_t taken(mg_http_v2_stream_t *st)
{
    ssize_t n = (ssize_t)st->ref_taken;
    st->ref_taken = 0;
    return n;
}

/* Whether the offer is all the response has left: its last frame then ends the stream. */
static int offer_is_last(mg_http_v2_stream_t *st, mg_http_conn_t *hc)
{
    return hc->r && hc->r->last_queued && mg_chain_size(hc->r->out) == st->ref_left;
}

/* The offer is made: the data source (waiting for bytes, or not yet asked) frames what the
 * windows let out now, unless nghttp2 is the caller's caller (the request started from a
 * HEADERS frame) or it is less than a frame and not the end: then on the loop turn's flush,
 * and the writer is woken for what was taken. */
static ssize_t offer(mg_http_v2_stream_t *st, mg_http_conn_t *hc)
{
    mg_http_v2_conn_t *h2 = st->h2;
    st->ref_last = (unsigned)offer_is_last(st, hc);
    if (st->deferred && st->submitted) {
        st->deferred = 0;
        nghttp2_session_resume_data(h2->session, st->id);
    }
    if (st->ref_left >= st->chunk_size || st->ref_last) {
        /* a frame's worth, or the end: framed now; less waits for the loop turn's flush,
         * which frames it with what the producer adds meanwhile (a frame per piece costs
         * nghttp2's work per frame many times over) */
        st->offering = 1;
        mg_http_v2_gather(h2);
        st->offering = 0;
    }
    mg_http_v2_schedule(h2);
    if (st->ref_taken) {
        return taken(st);
    }
    if (st->ref_failed) {
        errno = EIO;
        return -2; /* the file's read failed (logged) as it was framed */
    }
    if (st->reset) {
        errno = EPIPE; /* reset as it was framed */
        return -1;
    }
    errno = EAGAIN;
    return -1;
}

/* The stream the writer may offer to: NULL with errno set (EPIPE: reset) or st. */
static mg_http_v2_stream_t *out_stream(mg_connection_t *fc)
{
    mg_http_v2_stream_t *st = ((mg_http_conn_t *)fc->data)->stream;
    if (st->reset || st->closed || st->h2->c == NULL) {
        errno = EPIPE;
        return NULL;
    }
    return st;
}

/* A read-ahead goes unused (the frames came otherwise, or the offer changed): the stream's
 * next ones read fewer frames ahead, so streams whose frames interleave (each moves the
 * output's end) do not read their files several times over. */
static void pre_drop(mg_http_v2_stream_t *st)
{
    if (st->pre_len && st->pre_cut < 4) {
        st->pre_cut++;
    }
    st->pre_len = 0;
}

ssize_t mg_http_v2_send_chain(mg_connection_t *fc, const struct iovec *iov, int cnt)
{
    mg_http_conn_t *hc = fc->data;
    mg_http_v2_stream_t *st = hc->stream;
    if (st->ref_taken) {
        return taken(st);
    }
    if (out_stream(fc) == NULL) {
        return -1;
    }
    size_t offered = 0;
    for (int i = 0; i < cnt; i++) {
        offered += iov[i].iov_len;
    }
    if (st->out_eof) {
        return (ssize_t)offered; /* a head-only response: the body has nowhere to go */
    }
    /* the first pieces are referenced (the writer offers them again with the rest) */
    st->nref = (unsigned)mg_min(cnt, MG_HTTP_V2_REFS);
    st->ref_i = 0;
    st->ref_file = 0;
    st->ref_left = 0;
    for (unsigned i = 0; i < st->nref; i++) {
        st->ref[i] = iov[i];
        st->ref_left += iov[i].iov_len;
    }
    return offer(st, hc);
}

ssize_t mg_http_v2_send_file(mg_connection_t *fc, int fd, off_t off, size_t len)
{
    mg_http_conn_t *hc = fc->data;
    mg_http_v2_stream_t *st = hc->stream;
    if (st->ref_taken) {
        return taken(st);
    }
    if (st->ref_failed) {
        errno = EIO;
        return -2; /* the read failed: logged (the stream was reset) */
    }
    if (out_stream(fc) == NULL) {
        return -1;
    }
    if (st->out_eof) {
        return (ssize_t)len;
    }
    st->nref = st->ref_i = 0;
    st->ref_file = 1;
    st->ref_fd = fd;
    st->ref_off = off;
    st->ref_left = len;
    pre_drop(st); /* a read-ahead is the offer's own */
    return offer(st, hc);
}

ssize_t mg_http_v2_send(mg_connection_t *fc, const char *buf, size_t len)
{
    struct iovec iov = {(void *)buf, len};
    return mg_http_v2_send_chain(fc, &iov, 1);
}

void mg_http_v2_data_drop(mg_http_v2_stream_t *st)
{
    st->nref = st->ref_i = 0;
    st->ref_file = 0;
    st->ref_left = st->ref_taken = 0;
    st->ref_last = 0;
    st->pre_len = 0;
}

ssize_t mg_http_v2_data_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                             size_t length, uint32_t *flags, nghttp2_data_source *source,
                             void *user_data)
{
    (void)buf;
    (void)user_data;
    mg_http_v2_stream_t *st = source->ptr;
    if (st->ref_left == 0 && !st->out_eof) {
        st->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = mg_min(mg_min(st->ref_left, length), st->chunk_size);
    *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (n == st->ref_left && (st->out_eof || st->ref_last)) {
        /* the response's last bytes: the writer learns they went on its next call */
        st->data_eof = 1;
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

#define PRE_SLOTS 16 /* a read-ahead's frames at most (8 KiB frames fill 64 KiB with 8) */

/* The file's bytes of the offer into p (a frame's `length` at the output's olast + 9): 0, or -1
 * once the failure was logged. The frames that follow, as the data source will size them when
 * the windows allow (http2_chunk_size, the offer's end), are read with them into their places
 * in the output's room, each after its header's 9 bytes: one preadv for what nginx reads in
 * 32 KiB buffers, where a read per frame cost four times its system calls. */
static int file_read(mg_http_v2_conn_t *h2, mg_http_v2_stream_t *st, char *p, size_t length)
{
    struct iovec iov[PRE_SLOTS];
    iov[0] = (struct iovec){p, length};
    int k = 1, slots = PRE_SLOTS >> st->pre_cut;
    size_t left = 0;
    if (slots > 1 && length == mg_min(st->chunk_size, st->ref_left)) {
        /* a frame sized as planned (not cut by a window or the peer's frame size): the next
         * ones likely are too, as far as the windows let them go */
        nghttp2_session *session = h2->session;
        int32_t win = mg_min(nghttp2_session_get_stream_remote_window_size(session, st->id),
                             nghttp2_session_get_remote_window_size(session));
        left = mg_min(st->ref_left - length, win > 0 ? (size_t)win : 0);
    }
    char *q = p + length, *end = h2->obuf + h2->osize;
    while (left && k < slots) {
        size_t n = mg_min(st->chunk_size, left);
        if ((size_t)(end - q) < 9 + n) {
            break;
        }
        iov[k++] = (struct iovec){q + 9, n};
        q += 9 + n;
        left -= n;
    }
    ssize_t got = k > 1 ? preadv(st->ref_fd, iov, k, st->ref_off) : -1;
    if (got < 0) {
        got = 0; /* (or one frame alone) read below */
    }
    st->pre_len = (size_t)got > length ? (size_t)got - length : 0;
    st->pre_at = (size_t)(p + length - h2->obuf);
    st->pre_gen = h2->ogen;
    while ((size_t)got < length) {
        ssize_t n = pread(st->ref_fd, p + got, length - (size_t)got, st->ref_off + (off_t)got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            mg_connection_t *fc = st->fc;
            fc->log.action = "sending response to client";
            if (n < 0) {
                mg_log_error(MG_LOG_CRIT, &fc->log, errno, "pread() failed");
            } else {
                mg_log_error(MG_LOG_ALERT, &fc->log, 0,
                             "file was truncated while sending the response");
            }
            return -1;
        }
        got += n;
    }
    st->ref_off += (off_t)length;
    return 0;
}

/* Whether the frame's bytes were read ahead into their place (the output unchanged since, the
 * frame sized as planned): then they are the frame's, the next frame's place follows. */
static int file_ahead(mg_http_v2_conn_t *h2, mg_http_v2_stream_t *st, size_t length)
{
    if (st->pre_len < length || st->pre_gen != h2->ogen || st->pre_at != h2->olast ||
        length != mg_min(st->chunk_size, st->ref_left)) {
        pre_drop(st);
        return 0;
    }
    st->pre_len -= length;
    st->pre_at += 9 + length;
    st->ref_off += (off_t)length;
    if (st->pre_len == 0 && st->pre_cut) {
        st->pre_cut--; /* all of it was used */
    }
    return 1;
}

/* The memory pieces' next `length` bytes into p. */
static void mem_copy(mg_http_v2_stream_t *st, char *p, size_t length)
{
    while (length) {
        struct iovec *v = &st->ref[st->ref_i];
        size_t k = mg_min(v->iov_len, length);
        memcpy(p, v->iov_base, k);
        p += k;
        length -= k;
        v->iov_base = (char *)v->iov_base + k;
        v->iov_len -= k;
        if (v->iov_len == 0) {
            st->ref_i++;
        }
    }
}

int mg_http_v2_send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
                         size_t length, nghttp2_data_source *source, void *user_data)
{
    (void)session;
    mg_http_v2_conn_t *h2 = user_data;
    mg_http_v2_stream_t *st = source->ptr;
    if (length > st->ref_left) {
        /* the request ended (failed) with the frame waiting: its bytes went with it */
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    size_t pad = frame->data.padlen;
    size_t need = 9 + length + pad;
    if (h2->olast + need > h2->osize) {
        if (h2->olast > h2->ostart) {
            /* the output is full: nghttp2 asks again with the same frame once it went out
             * (the offer keeps its bytes meanwhile: only this callback takes them) */
            h2->oblocked = 1;
            return NGHTTP2_ERR_WOULDBLOCK;
        }
        h2->ostart = h2->olast = 0;
        h2->ogen++;
        if (need > h2->osize) {
            h2->osize = need;
            h2->obuf = mg_realloc(h2->obuf, h2->osize);
        }
    }
    char *p = h2->obuf + h2->olast;
    int ahead = length && st->ref_file && pad == 0 && file_ahead(h2, st, length);
    memcpy(p, framehd, 9);
    p += 9;
    if (pad) {
        *p++ = (char)(pad - 1);
    }
    if (ahead) {
        /* the bytes were read ahead into their place after the header */
    } else if (length && st->ref_file) {
        if (file_read(h2, st, p, length) != 0) {
            st->ref_failed = 1;
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* a reset, INTERNAL_ERROR */
        }
    } else if (length) {
        mem_copy(st, p, length);
    }
    p += length;
    if (pad > 1) {
        memset(p, 0, pad - 1);
        p += pad - 1;
    }
    h2->olast = (size_t)(p - h2->obuf);
    st->ref_left -= length;
    st->ref_taken += length;
    mg_connection_t *fc = st->fc;
    if (fc && st->hc->r) {
        /* the frame's header and padding (the writer counts its bytes) */
        st->hc->r->bytes_sent += 9 + pad;
        st->hc->r->header_size += 9 + pad;
    }
    if (length && fc && fc->writing && !st->offering) {
        event_active(fc->wev, EV_WRITE, 1); /* the writer drops what was taken */
    }
    return 0;
}
