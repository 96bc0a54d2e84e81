/*
 * The client-abort watch (nginx's check_broken_connection) of a request that waits on
 * something other than its client: the upstream engine while it awaits or relays a response,
 * Lua code under lua_check_client_abort. The connection's read event is armed with a one-byte
 * peek. Events behave level-triggered (a plain connection's edge-triggered ones through
 * connection.c's rechecks), so a report is acted on once and the event turned off.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "conn.h"
#include "ssl.h"
#include "v2.h"

/* Over TLS the peeked byte may be the client's close_notify, sent before its FIN: as nginx
 * (EPOLLRDHUP), a client that shut its side down is gone. */
static int client_half_closed(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

static void on_client_read(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_request_t *r = hc->r;
    char ch;
    /* an h2 stream has no socket: its state says whether the client went */
    ssize_t n = hc->stream ? mg_http_v2_stream_peek(c) : recv(c->fd, &ch, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n > 0 && c->ssl && client_half_closed(c->fd)) {
        n = 0; /* its close_notify: TLS bytes, but no request */
    }
    int err = n < 0 ? errno : 0;
    mg_conn_read_off(c);
    const mg_http_abort_t *w = r ? r->abort_watch : NULL;
    if (n > 0 || w == NULL) {
        return; /* a pipelined request, read after r's end; or nobody waits any more */
    }
    r->abort_watch = NULL;
    r->keepalive = 0;
    if (c->ssl && !hc->stream) {
        c->ssl->no_shutdown = 1; /* the client went: no close_notify, as nginx */
    }
    /* an h2 stream's RST_STREAM was logged when it came (v2_stream.c), as nginx's; a stream
     * closed otherwise (its connection went, or nghttp2 reset it) has no line of its own in
     * nginx: the connection's line (or nghttp2's reason) says it */
    if (!hc->stream) {
        mg_log_error(MG_LOG_INFO, &c->log, err, "%sclient prematurely closed connection%s",
                     w->log_head ? w->log_head : "", w->log_tail ? w->log_tail : "");
    }
    w->handler(r);
}

void mg_http_watch_client(mg_request_t *r, const mg_http_abort_t *w)
{
    mg_connection_t *c = r->connection;
    if (r->parent || r->reading_body || r->hc->r != r) {
        return;
    }
    r->abort_watch = w;
    if (c->read_handler == on_client_read && c->reading) {
        return; /* armed by an earlier wait: no system call */
    }
    c->read_handler = on_client_read;
    mg_conn_read_on(c);
}

void mg_http_unwatch_client(mg_request_t *r, const mg_http_abort_t *w)
{
    if (r->abort_watch == w) {
        r->abort_watch = NULL;
    }
}
