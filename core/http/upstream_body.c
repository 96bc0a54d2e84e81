/*
 * Sending the request upstream (the engine's part in upstream_io.c drives it): the prepared
 * chain (a body in a temporary file goes with sendfile), and with proxy_request_buffering off
 * the body's stream (body.c), refilled from the client each time it went out whole, so that
 * the client is read no faster than the upstream takes it and memory stays at one stream
 * buffer.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "server.h"
#include "upstream_int.h"

mg_buf_t *mg_upstream_body_stream(mg_upstream_t *u)
{
    mg_http_request_body_t *rb = u->r->request_body;
    return rb && rb->stream_data == u ? rb->stream : NULL;
}

/* The buffer at send_pos went out whole; the body's stream is then free for the reader
 * (bytes it appends meanwhile are beyond what was sent) */
static void send_next(mg_upstream_t *u, mg_buf_t *stream)
{
    if (u->send_pos == stream) {
        stream->pos = stream->last;
    } else if (stream && u->send_pos == u->stream_slice) {
        stream->pos = u->stream_slice->last; /* a framed protocol's piece of it */
    }
    u->send_pos = u->send_pos->next;
    u->send_off = u->send_pos ? u->send_pos->pos : NULL;
    u->send_file_pos = u->send_pos ? u->send_pos->file_pos : 0;
}

/* Under TLS the file's bytes are read into a buffer and written through the connection: a
 * write that would block is retried with the same bytes, read again from the same offset. */
static ssize_t send_file_tls(mg_upstream_t *u, mg_buf_t *b, size_t left)
{
    /* the server's buffer, not a static one (servers on two threads); a retried write reads
     * the bytes again (the client contexts accept a moved write buffer) */
    char *buf = mg_server_scratch(u->r->connection->server);
    ssize_t got = pread(b->fd, buf, mg_min(left, 16384), u->send_file_pos);
    if (got <= 0) {
        return got;
    }
    return mg_upstream_send(u, buf, (size_t)got);
}

/* A file buffer at send_pos (the body in its temporary file): MG_OK when more may follow */
static mg_int_t send_file(mg_upstream_t *u, int fd)
{
    mg_buf_t *b = u->send_pos;
    size_t left = (size_t)(b->file_last - u->send_file_pos);
    if (left == 0) {
        send_next(u, NULL);
        return MG_OK;
    }
    off_t off = u->send_file_pos;
    ssize_t n = u->conn->ssl ? send_file_tls(u, b, left)
                             : sendfile(fd, b->fd, &off, mg_min(left, 0x7ffff000));
    if (n < 0 && errno == EINTR) {
        return MG_OK;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        mg_upstream_write_blocked(u);
        return MG_AGAIN;
    }
    if (n <= 0) {
        if (n == 0) {
            errno = EIO; /* the file got shorter under us */
        }
        return MG_ERROR;
    }
    u->sent_this_try = 1;
    u->state->bytes_sent += n;
    u->send_file_pos += n;
    if (u->send_file_pos == b->file_last) {
        send_next(u, NULL);
    }
    return MG_OK;
}

mg_int_t mg_upstream_send_chain(mg_upstream_t *u, int fd)
{
    mg_buf_t *stream = mg_upstream_body_stream(u);
    while (u->send_pos) {
        if (u->send_pos->in_file) {
            mg_int_t rc = send_file(u, fd);
            if (rc != MG_OK) {
                return rc;
            }
            continue;
        }
        struct iovec iov[64];
        int cnt = 0;
        for (mg_buf_t *b = u->send_pos; b && !b->in_file && cnt < 64; b = b->next) {
            char *from = b == u->send_pos ? u->send_off : b->pos;
            if (b->last > from) {
                iov[cnt].iov_base = from;
                iov[cnt].iov_len = (size_t)(b->last - from);
                cnt++;
            }
        }
        if (cnt == 0) {
            while (u->send_pos && !u->send_pos->in_file) {
                send_next(u, stream);
            }
            continue;
        }
        ssize_t n = mg_upstream_sendv(u, iov, cnt);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return MG_AGAIN;
        }
        if (n < 0) {
            return MG_ERROR;
        }
        u->sent_this_try = 1;
        u->state->bytes_sent += n;
        size_t left = (size_t)n;
        while (u->send_pos && !u->send_pos->in_file && left) {
            size_t sz = (size_t)(u->send_pos->last - u->send_off);
            u->body_sent |=
                stream && (u->send_pos == stream || u->send_pos == u->stream_slice) && sz > 0;
            if (left < sz) {
                u->send_off += left;
                left = 0;
                break;
            }
            left -= sz;
            send_next(u, stream);
        }
        while (u->send_pos && !u->send_pos->in_file && u->send_off == u->send_pos->last) {
            send_next(u, stream);
        }
    }
    return MG_OK;
}

/* An unbuffered body: the stream went out, refill it from the client. MG_OK: the whole
 * body is sent, MG_AGAIN: more is queued, MG_DECLINED: waiting on the client, or the
 * client's HTTP status. */
mg_int_t mg_upstream_next_body_part(mg_upstream_t *u)
{
    mg_buf_t *stream = mg_upstream_body_stream(u);
    if (stream == NULL) {
        return MG_OK;
    }
    mg_int_t rc = mg_http_read_unbuffered_request_body(u->r);
    if (rc >= MG_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }
    if (stream->last > stream->pos) {
        u->send_pos = u->frame_stream
                          ? u->frame_stream(u, stream, (size_t)(stream->last - stream->pos))
                          : stream;
        u->send_off = u->send_pos->pos;
        return MG_AGAIN;
    }
    if (rc == MG_OK && u->frame_stream && !u->stream_ended) {
        /* the protocol's end of the body (FastCGI's empty FCGI_STDIN record) */
        u->stream_ended = 1;
        u->send_pos = u->frame_stream(u, stream, 0);
        u->send_off = u->send_pos->pos;
        return MG_AGAIN;
    }
    return rc == MG_OK ? MG_OK : MG_DECLINED;
}
