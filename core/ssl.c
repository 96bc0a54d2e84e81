/*
 * TLS on a connection with OpenSSL 3: a non-blocking handshake whose
 * SSL_ERROR_WANT_READ/WANT_WRITE turn the connection's events on, and the recv/send/send_chain
 * operations that take the plain ones' place, with recv(2)'s answers (EAGAIN when waiting), so
 * the HTTP code reads and writes through c->recv/c->send/c->send_chain alike. Renegotiation is
 * refused (SSL_OP_NO_RENEGOTIATION, set on every context); closing sends close_notify once,
 * unless the peer ended first or the connection failed (nginx's no_send_shutdown).
 * The operations also work on an mg_ssl_conn_t without a connection (the upstream's and the
 * cosockets' client side, core/ssl_client.c), whose owner turns its own events on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "server.h"
#include "ssl.h"

const mg_ssl_hooks_t *mg_ssl_hooks;

static int password_cb(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    mg_str_t *pw = userdata;
    if (pw == NULL) {
        return 0;
    }
    int n = (int)pw->len < size ? (int)pw->len : size;
    memcpy(buf, pw->data, (size_t)n);
    return n;
}

EVP_PKEY *mg_ssl_read_key(BIO *bio, mg_array_t *passwords)
{
    mg_str_t *pw = passwords ? passwords->elts : NULL;
    size_t npw = passwords ? passwords->nelts : 0;
    for (size_t i = 0; i == 0 || i < npw; i++) {
        if (i > 0) {
            BIO_reset(bio);
            ERR_clear_error();
        }
        EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, password_cb, npw ? &pw[i] : NULL);
        if (pkey) {
            return pkey;
        }
    }
    return NULL;
}

const char *mg_ssl_error_queue(char *buf, size_t size)
{
    size_t len = 0;
    const char *sep = " (SSL:";
    unsigned long e;
    const char *data;
    int flags;
    buf[0] = '\0';
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        if (len + 2 >= size) {
            continue; /* keep emptying the queue */
        }
        char one[256];
        ERR_error_string_n(e, one, sizeof(one));
        int text = (flags & ERR_TXT_STRING) && data && *data;
        int n = snprintf(buf + len, size - len, "%s %s%s%s", sep, one, text ? ":" : "",
                         text ? data : "");
        len += n < 0 ? 0 : (size_t)n < size - len ? (size_t)n : size - len - 1;
        sep = "";
    }
    if (sep[0] == '\0' && len + 1 < size) {
        buf[len++] = ')';
        buf[len] = '\0';
    }
    return buf;
}

/* Log `fmt` followed by OpenSSL's queued errors as nginx does. */
static void ssl_error(int level, mg_log_t *log, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ssl_error(int level, mg_log_t *log, int err, const char *fmt, ...)
{
    char msg[1024], q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mg_log_error(level, log, err, "%s%s", msg, mg_ssl_error_queue(q, sizeof(q)));
}

/* Before a TLS call whose outcome SSL_get_error reads, which an older error in the queue would
 * turn into SSL_ERROR_SSL. The queue is nearly always empty: ERR_peek_error finds that in
 * ~200 instructions, ERR_clear_error walks all its slots in ~840 (three calls a keepalive
 * HTTPS request: 1,900 of its 26,400). */
static void clear_stale(void)
{
    if (ERR_peek_error() != 0) {
        ERR_clear_error();
    }
}

/* A failed TLS call: peers that break the protocol (or go away) are the client's problem and
 * logged at info as nginx does (at error on our own client side: an upstream's or a
 * cosocket's peer); anything else is ours (crit). */
static void conn_error(mg_ssl_conn_t *sc, mg_log_t *log, int sslerr, const char *call)
{
    int err = sslerr == SSL_ERROR_SYSCALL ? errno : 0;
    sc->no_shutdown = 1;
    unsigned long e = ERR_peek_error();
    int level = sc->client ? MG_LOG_ERR : MG_LOG_INFO;
    if (sc->rejected) {
        ERR_clear_error();
        mg_log_error(level, log, 0, "handshake rejected");
        return;
    }
    if (sslerr == SSL_ERROR_SSL && ERR_GET_LIB(e) != ERR_LIB_SSL) {
        level = MG_LOG_CRIT;
    }
    if (sslerr == SSL_ERROR_SYSCALL && err == 0 && e == 0) {
        mg_log_error(level, log, 0, "peer closed connection in SSL handshake");
        return;
    }
    ssl_error(level, log, err, "%s() failed", call);
}

/* TLS 1.3 early data (a context with max early data): read as it comes into sc->early. Once
 * some came and the client has not ended it yet, the handshake is declared done (in_early),
 * as nginx does: the request it holds is read and answered at once, the answer written as
 * 0.5-RTT data; the reads that follow take more early data until the client ends it, then
 * SSL_read finishes the handshake. */
#define EARLY_MAX 16384 /* what a context accepts (SSL_CTX_set_max_early_data) */

/* 0 once the early data ended, else SSL_get_error's answer (WANT_READ: more may come). */
static int read_early(mg_ssl_conn_t *sc)
{
    if (sc->early == NULL) {
        sc->early = mg_alloc(EARLY_MAX + 1); /* one more: OpenSSL enforces the limit */
    }
    for (;;) {
        size_t n = 0;
        clear_stale();
        int rc = SSL_read_early_data(sc->ssl, sc->early + sc->early_len,
                                     EARLY_MAX + 1 - sc->early_len, &n);
        if (rc == SSL_READ_EARLY_DATA_SUCCESS) {
            sc->early_len += n;
            if (sc->early_len > EARLY_MAX) {
                return SSL_ERROR_SSL;
            }
            if (n && !SSL_has_pending(sc->ssl)) {
                /* served before the client's end of early data is read, even when it is
                 * already in the socket: $ssl_early_data says "1" for a request that came as
                 * early data whatever the timing (the socket stays readable for the rest: not
                 * rd_empty, so an edge-triggered connection reads again by itself) */
                sc->rd_empty = 0;
                return SSL_ERROR_WANT_READ;
            }
            continue;
        }
        if (rc == SSL_READ_EARLY_DATA_FINISH) {
            sc->early_try = 0;
            sc->in_early = 0;
            return 0;
        }
        int e = SSL_get_error(sc->ssl, -1);
        sc->rd_empty = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        return e;
    }
}

ssize_t mg_ssl_recv(mg_ssl_conn_t *sc, mg_log_t *log, char *buf, size_t len)
{
    struct iovec iov = {buf, len};
    return mg_ssl_recv_chain(sc, log, &iov, 1);
}

/* Into each buffer in turn as SSL_read fills them: the records a socket holds go into several
 * free buffers in one call (an upstream's proxy_buffers, as readv fills them on a plain
 * connection), not one buffer per event. */
ssize_t mg_ssl_recv_chain(mg_ssl_conn_t *sc, mg_log_t *log, const struct iovec *iov, int cnt)
{
    size_t got = 0;
    char *buf = iov[0].iov_base;
    size_t len = iov[0].iov_len;
    sc->rd_empty = 0;
    if (sc->in_early && sc->early_pos == sc->early_len) {
        int e = read_early(sc);
        if (e == SSL_ERROR_WANT_READ && sc->early_pos == sc->early_len) {
            errno = EAGAIN;
            return -1;
        }
        if (e != 0 && e != SSL_ERROR_WANT_READ) {
            conn_error(sc, log, e, "SSL_read_early_data");
            errno = ECONNRESET;
            return -1;
        }
    }
    if (sc->early_pos < sc->early_len) {
        got = mg_min(len, sc->early_len - sc->early_pos);
        memcpy(buf, sc->early + sc->early_pos, got);
        sc->early_pos += got;
    }
    if (sc->in_early) {
        return (ssize_t)got; /* SSL_read would wait for the end of the early data */
    }
    /* read until the buffers are full or the socket is empty, so that a short read means what
     * it means for a plain socket: nothing is left but what the next read event brings */
    sc->more = 0;
    size_t done = 0; /* the bytes of the buffers before buf */
    for (int i = 0;;) {
        if (got == len) {
            if (++i == cnt) {
                break;
            }
            done += len;
            buf = iov[i].iov_base;
            len = iov[i].iov_len;
            got = 0;
            continue;
        }
        int want = len - got > 0x7fffffff ? 0x7fffffff : (int)(len - got);
        clear_stale();
        int n = SSL_read(sc->ssl, buf + got, want);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        int e = SSL_get_error(sc->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            /* the socket said EAGAIN (with read-ahead, whatever OpenSSL keeps is a record's
             * start that needs more bytes): the next ones raise an event; or the write event
             * takes the read over */
            sc->rd_empty = 1;
            if (e == SSL_ERROR_WANT_WRITE) {
                sc->read_wants_write = 1;
                sc->turn_on = 1;
            }
            if (done + got) {
                return (ssize_t)(done + got);
            }
            errno = EAGAIN;
            return -1;
        }
        if (done + got) {
            return (ssize_t)(done + got); /* the end or the error comes with the next call */
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            /* close_notify (or, with IGNORE_UNEXPECTED_EOF, a plain end): none goes back, as
             * nginx; after a TCP close it would only make the peer's kernel send a reset */
            sc->no_shutdown = 1;
            return 0;
        }
        conn_error(sc, log, e, "SSL_read");
        errno = ECONNRESET;
        return -1;
    }
    sc->more = 1;
    return (ssize_t)(done + got);
}

/* One SSL_write of len bytes at buf (SSL_MODE_ENABLE_PARTIAL_WRITE: it may take fewer). A
 * write that would block must be repeated with the same bytes: sc->pending remembers how
 * many, and the caller gives the same data again (nothing of it was consumed). */
static ssize_t write_once(mg_ssl_conn_t *sc, mg_log_t *log, const char *buf, size_t len)
{
    clear_stale();
    int n;
    if (sc->in_early) {
        size_t w = 0;
        n = SSL_write_early_data(sc->ssl, buf, len, &w) == 1 ? (int)w : -1;
    } else {
        n = SSL_write(sc->ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);
    }
    if (n > 0) {
        sc->pending = 0;
        return n;
    }
    int e = SSL_get_error(sc->ssl, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        sc->pending = len;
        if (e == SSL_ERROR_WANT_READ) {
            sc->write_wants_read = 1;
            sc->turn_on = 1;
        }
        errno = EAGAIN;
        return -1;
    }
    conn_error(sc, log, e, "SSL_write");
    errno = EPIPE;
    return -1;
}

static ssize_t sendfile_once(mg_ssl_conn_t *sc, mg_log_t *log, int fd, off_t off, size_t size)
{
    clear_stale();
    errno = 0;
    ossl_ssize_t n = SSL_sendfile(sc->ssl, fd, off, size, 0);
    if (n > 0) {
        mg_debug_event(log, "SSL_sendfile: %zd", (ssize_t)n);
        return (ssize_t)n;
    }
    if (n == 0) {
        return 0;
    }
    int e = SSL_get_error(sc->ssl, (int)n);
    if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNINITIALIZED &&
        errno != 0) {
        /* OpenSSL 3 reports a failed sendfile(2) this way, with its errno kept */
        e = SSL_ERROR_SYSCALL;
        if (errno == EAGAIN || errno == EINTR) {
            e = SSL_ERROR_WANT_WRITE;
        }
        ERR_clear_error();
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_WANT_READ) {
        mg_debug_event(log, "SSL_sendfile: want read");
        sc->write_wants_read = 1;
        sc->turn_on = 1;
        errno = EAGAIN;
        return -1;
    }
    conn_error(sc, log, e, "SSL_sendfile");
    errno = EPIPE;
    return -1;
}

size_t mg_ssl_write_unit(const mg_ssl_conn_t *sc)
{
    return sc->buffer_size % SSL3_RT_MAX_PLAIN_LENGTH ? sc->buffer_size : SSL3_RT_MAX_PLAIN_LENGTH;
}

/* Each SSL_write takes at most ssl_buffer_size bytes, so no record is larger (nginx copies
 * the output into a buffer of that size and writes it when full: a small ssl_buffer_size
 * means small records, which a client can decrypt as they come). Small buffers are gathered
 * up to that size (a record per header line would cost a MAC and 22+ bytes each); a buffer
 * at least that large is written from where it is, a piece of that size at a time, and what
 * is left of it short of a whole unit (mg_ssl_write_unit) is gathered with the next buffers,
 * so records stay full across the caller's buffers, as in nginx's one buffer. The gathering
 * buffer holds nothing across calls (a write that blocked is retried with the same bytes,
 * gathered again from the caller's buffers), so a connection's is the server's (gather:
 * buffer_size bytes); NULL: the connection's own, made on first use. */
static ssize_t send_chain(mg_ssl_conn_t *sc, mg_log_t *log, const struct iovec *iov, int cnt,
                          char *gather)
{
    size_t total = 0;
    int i = 0;
    size_t off = 0; /* within iov[i] */
    /* a size that is a multiple of the largest record (the default 16k) cuts nothing
     * OpenSSL's own cutting does not: such a buffer is written whole */
    size_t unit = mg_ssl_write_unit(sc);
    size_t most = sc->buffer_size % SSL3_RT_MAX_PLAIN_LENGTH ? sc->buffer_size : SIZE_MAX;
    while (i < cnt) {
        if (off == iov[i].iov_len) {
            i++;
            off = 0;
            continue;
        }
        const char *p = (const char *)iov[i].iov_base + off;
        size_t avail = iov[i].iov_len - off, len;
        if (i + 1 == cnt) {
            len = mg_min(avail, most);
        } else if (avail >= sc->buffer_size) {
            len = mg_min(avail - avail % unit, most);
        } else {
            if (gather == NULL && sc->wbuf == NULL) {
                sc->wbuf = mg_alloc(sc->buffer_size);
            }
            char *wbuf = gather ? gather : sc->wbuf;
            len = 0;
            for (int k = i; k < cnt && len < sc->buffer_size; k++) {
                size_t from = k == i ? off : 0;
                size_t take = iov[k].iov_len - from;
                if (take > sc->buffer_size - len) {
                    take = sc->buffer_size - len;
                }
                memcpy(wbuf + len, (const char *)iov[k].iov_base + from, take);
                len += take;
            }
            p = wbuf;
        }
        if (sc->pending && sc->pending < len) {
            /* the same bytes as the write that blocked: the caller consumed nothing since
             * and only ever appends, so they are the first `pending` of this chunk */
            len = sc->pending;
        }
        /* the chunk whole, though OpenSSL (partial writes on) takes a record a call: a chunk
         * of 20k is records of 16k and 4k, as nginx's buffer makes them, not 16k ones */
        size_t done = 0;
        ssize_t n = 0;
        while (done < len && (n = write_once(sc, log, p + done, len - done)) > 0) {
            done += (size_t)n;
        }
        if (done == 0) {
            return total ? (ssize_t)total : -1;
        }
        total += done;
        /* advance over the bytes written */
        size_t left = done;
        while (left && i < cnt) {
            size_t here = iov[i].iov_len - off;
            if (left < here) {
                off += left;
                left = 0;
            } else {
                left -= here;
                i++;
                off = 0;
            }
        }
        if (n < 0) {
            return (ssize_t)total; /* the rest of the chunk waits: sc->pending says how much */
        }
    }
    return (ssize_t)total;
}

ssize_t mg_ssl_send(mg_ssl_conn_t *sc, mg_log_t *log, const char *buf, size_t len)
{
    struct iovec iov = {(void *)buf, len};
    return send_chain(sc, log, &iov, 1, NULL); /* (one buffer: nothing to gather) */
}

ssize_t mg_ssl_send_chain(mg_ssl_conn_t *sc, mg_log_t *log, const struct iovec *iov, int cnt)
{
    return send_chain(sc, log, iov, cnt, NULL);
}

/* The server's gathering buffer, at least size bytes: an idle TLS connection holds none (as
 * nginx frees its ssl_buffer_size buffer on keepalive), a busy one costs no malloc. */
static char *server_gather(mg_server_t *srv, size_t size)
{
    if (srv->ssl_wsize < size) {
        free(srv->ssl_wbuf);
        srv->ssl_wbuf = mg_alloc(size);
        srv->ssl_wsize = size;
    }
    return srv->ssl_wbuf;
}

/* The connection's operations: the other event an operation waits for is turned on here. */
static void turn_on(mg_connection_t *c)
{
    mg_ssl_conn_t *sc = c->ssl;
    if (sc->turn_on) {
        sc->turn_on = 0;
        if (sc->read_wants_write) {
            mg_conn_write_on(c);
        }
        if (sc->write_wants_read) {
            mg_conn_read_on(c);
        }
    }
}

int mg_ssl_read_pending(mg_connection_t *c)
{
    return c->ssl->more && SSL_has_pending(c->ssl->ssl);
}

int mg_ssl_input_left(mg_connection_t *c)
{
    mg_ssl_conn_t *sc = c->ssl;
    return sc->early_pos < sc->early_len || (sc->ssl && SSL_has_pending(sc->ssl));
}

static ssize_t ssl_recv(mg_connection_t *c, char *buf, size_t len)
{
    ssize_t n = mg_ssl_recv(c->ssl, &c->log, buf, len);
    int err = errno;
    if (c->edge) {
        /* a full buffer, or bytes before the peer's close_notify or an error (the next read
         * says it), may leave input in OpenSSL's buffer or the socket that no edge will
         * report: unless the socket said EAGAIN, the read handler runs again from the loop */
        mg_conn_read_said(c, (n > 0 || (n < 0 && err == EAGAIN)) && !c->ssl->rd_empty);
    }
    turn_on(c);
    errno = err;
    if (!c->edge && c->reading && mg_ssl_read_pending(c)) {
        /* a full buffer: a caller that reads again on the next event gets one */
        event_active(&c->rev, EV_READ, 1);
    }
    return n;
}

static ssize_t ssl_send(mg_connection_t *c, const char *buf, size_t len)
{
    ssize_t n = mg_ssl_send(c->ssl, &c->log, buf, len);
    turn_on(c);
    return n;
}

static ssize_t ssl_send_chain(mg_connection_t *c, const struct iovec *iov, int cnt)
{
    ssize_t n =
        send_chain(c->ssl, &c->log, iov, cnt, server_gather(c->server, c->ssl->buffer_size));
    turn_on(c);
    return n;
}

ssize_t mg_ssl_sendfile(mg_connection_t *c, int fd, off_t off, size_t size)
{
    ssize_t n = sendfile_once(c->ssl, &c->log, fd, off, size);
    turn_on(c);
    return n;
}

mg_ssl_conn_t *mg_ssl_new(SSL_CTX *ctx, int fd, mg_log_t *log, size_t buffer_size)
{
    mg_ssl_conn_t *sc = mg_calloc(sizeof(mg_ssl_conn_t));
    sc->ssl = SSL_new(ctx);
    if (sc->ssl == NULL) {
        ssl_error(MG_LOG_EMERG, log, 0, "SSL_new() failed");
        abort(); /* out of memory: as every allocation */
    }
    SSL_set_fd(sc->ssl, fd);
    sc->buffer_size = buffer_size ? buffer_size : 16384;
    return sc;
}

mg_int_t mg_ssl_handshake_step(mg_ssl_conn_t *sc, mg_log_t *log)
{
    clear_stale();
    int n = SSL_do_handshake(sc->ssl);
    if (n == 1) {
        sc->handshaked = 1;
        return MG_OK;
    }
    int e = SSL_get_error(sc->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        sc->want_write = e == SSL_ERROR_WANT_WRITE;
        return MG_AGAIN;
    }
    conn_error(sc, log, e, "SSL_do_handshake");
    return MG_ERROR;
}

/* The end of a connection whose handshake completed: a close_notify, once, unless the peer
 * ended first or the connection failed. Either way it counts as shut down from here: SSL_free
 * drops from the session cache the session of a connection freed otherwise, as if it had
 * failed (a client that resets after the handshake would find its session gone); nginx sets
 * the same flags. A fatal TLS error has removed the session already. */
static void shut(mg_ssl_conn_t *sc)
{
    if (!sc->handshaked) {
        return;
    }
    if (sc->no_shutdown) {
        SSL_set_shutdown(sc->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        return;
    }
    sc->no_shutdown = 1;
    /* one try: a peer that does not read its socket does not hold the worker */
    clear_stale();
    SSL_set_quiet_shutdown(sc->ssl, 0);
    if (SSL_shutdown(sc->ssl) < 0) {
        ERR_clear_error();
    }
}

void mg_ssl_close(mg_ssl_conn_t *sc)
{
    shut(sc);
    SSL_free(sc->ssl);
    free(sc->wbuf);
    free(sc->early);
    free(sc->servername.data);
    free(sc);
}

void mg_ssl_conn_create(mg_connection_t *c, SSL_CTX *ctx, size_t buffer_size)
{
    mg_ssl_conn_t *sc = mg_ssl_new(ctx, c->fd, &c->log, buffer_size);
    SSL_set_accept_state(sc->ssl);
    SSL_set_record_padding_callback_arg(sc->ssl, c);
    sc->early_try = SSL_CTX_get_max_early_data(ctx) > 0;
    c->ssl = sc;
    c->recv = ssl_recv;
    c->send = ssl_send;
    c->send_chain = ssl_send_chain;
}

mg_int_t mg_ssl_handshake(mg_connection_t *c)
{
    mg_ssl_conn_t *sc = c->ssl;
    int early = sc->early_try;
    int e = early ? read_early(sc) : 0;
    if (e == SSL_ERROR_WANT_READ && sc->early_len) {
        mg_conn_read_said(c, !sc->rd_empty);
        sc->in_early = 1;
        sc->handshaked = 1;
        mg_conn_write_off(c);
        return MG_OK;
    }
    if (e == 0) {
        early = 0;
        clear_stale();
        int n = SSL_do_handshake(sc->ssl);
        mg_debug_event(&c->log, "SSL_do_handshake: %d", n);
        e = n == 1 ? 0 : SSL_get_error(sc->ssl, n);
        if (e) {
            mg_debug_event(&c->log, "SSL_get_error: %d", e);
        }
    }
    if (e == 0) {
        sc->handshaked = 1;
        sc->more = 1; /* the first request may have come with the client's Finished */
        mg_conn_read_said(c, 1);
        mg_conn_write_off(c);
        if (mg_log_debug_on(MG_LOG_DEBUG_EVENT, &c->log)) {
            char desc[256];
            SSL_CIPHER_description(SSL_get_current_cipher(sc->ssl), desc, sizeof(desc));
            desc[strcspn(desc, "\n")] = '\0';
            mg_debug_event(&c->log, "SSL: %s, cipher: \"%s\"", SSL_get_version(sc->ssl), desc);
            if (SSL_session_reused(sc->ssl)) {
                mg_debug_event(&c->log, "SSL reused session");
            }
        }
        /* kernel TLS (ssl_conf_command Options KTLS): OpenSSL moved sending to the kernel
         * once the keys were known, so files can go with SSL_sendfile */
        if (BIO_get_ktls_send(SSL_get_wbio(sc->ssl)) == 1) {
            mg_debug_event(&c->log, "BIO_get_ktls_send(): 1");
            sc->ktls_send = 1;
        }
        return MG_OK;
    }
    if (e == SSL_ERROR_WANT_READ) {
        mg_conn_read_said(c, 0); /* the socket said EAGAIN: the client's next flight is an edge */
        mg_conn_write_off(c);
        mg_conn_read_on(c);
        return MG_AGAIN;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        mg_conn_read_off(c);
        mg_conn_write_on(c);
        return MG_AGAIN;
    }
    if (e == SSL_ERROR_WANT_X509_LOOKUP || e == SSL_ERROR_WANT_CLIENT_HELLO_CB) {
        /* a callback's code waits for an event of its own; it resumes the handshake */
        mg_conn_read_off(c);
        mg_conn_write_off(c);
        return MG_AGAIN;
    }
    conn_error(sc, &c->log, e, early ? "SSL_read_early_data" : "SSL_do_handshake");
    return MG_ERROR;
}

void mg_ssl_shutdown(mg_connection_t *c)
{
    shut(c->ssl);
}

void mg_ssl_conn_close(mg_connection_t *c)
{
    mg_ssl_conn_t *sc = c->ssl;
    shut(sc);
    BIO *b = SSL_get_rbio(sc->ssl);
    if (b) {
        BIO_set_fd(b, -1, BIO_NOCLOSE);
    }
}

void mg_ssl_free(mg_ssl_conn_t *sc)
{
    SSL_free(sc->ssl);
    free(sc->wbuf);
    free(sc->early);
    free(sc->servername.data);
    free(sc);
}

void mg_ssl_conn_free(mg_connection_t *c)
{
    mg_ssl_free(c->ssl);
    c->ssl = NULL;
}
