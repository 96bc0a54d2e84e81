/*
 * The 101 tunnel: after an upgrade the client and upstream connections carry bytes both ways
 * through two fixed buffers, each side read only while its way out has room; either side's
 * EOF (once what it sent went through) or proxy_read_timeout of silence ends it.
 */
#include <sys/socket.h>

#include "upstream_int.h"

#define TUNNEL_BUF 16384

void mg_upstream_tunnel_finish(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_conn_read_off(r->connection);
    mg_conn_write_off(r->connection);
    mg_upstream_finalize(u, MG_ERROR); /* closes the client connection; the access log says 101 */
}

static void tunnel_client_event(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_upstream_t *u = hc->r ? mg_upstream_of(hc->r) : NULL;
    if (u && u->tunnel && !u->done) {
        mg_upstream_tunnel_pump(u);
    }
}

static void tunnel_drained(mg_request_t *r)
{
    mg_upstream_t *u = mg_upstream_of(r);
    if (u && u->tunnel && !u->done) {
        mg_upstream_tunnel_pump(u);
    }
}

void mg_upstream_tunnel_pump(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_connection_t *c = r->connection;
    if (r->out) {
        /* the 101 head is still on its way: the writer calls tunnel_drained */
        return;
    }
    c->read_handler = tunnel_client_event;
    c->write_handler = tunnel_client_event;
    c->timeout_handler = NULL;
    mg_conn_timer_del(c);
    int progress = 1, want_uw = 0, want_cw = 0;
    while (progress) {
        progress = 0;
        /* client -> upstream */
        if (u->tup_pos < u->tup_len) {
            ssize_t n = mg_upstream_send(u, u->tbuf_up + u->tup_pos, u->tup_len - u->tup_pos);
            if (n > 0) {
                u->tup_pos += (size_t)n;
                u->state->bytes_sent += n;
                progress = 1;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                want_uw = 1;
            } else if (n < 0 && errno != EINTR) {
                mg_upstream_tunnel_finish(u);
                return;
            }
        } else if (!u->tclient_eof) {
            ssize_t n = c->recv(c, u->tbuf_up, TUNNEL_BUF);
            if (n > 0) {
                u->tup_pos = 0;
                u->tup_len = (size_t)n;
                progress = 1;
            } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                u->tclient_eof = 1;
            }
        }
        /* upstream -> client */
        if (u->tdown_pos < u->tdown_len) {
            ssize_t n = c->send(c, u->tbuf_down + u->tdown_pos, u->tdown_len - u->tdown_pos);
            if (n > 0) {
                u->tdown_pos += (size_t)n;
                r->bytes_sent += (size_t)n;
                progress = 1;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                want_cw = 1;
            } else if (n < 0 && errno != EINTR) {
                mg_upstream_tunnel_finish(u);
                return;
            }
        } else if (!u->tupstream_eof) {
            ssize_t n = mg_upstream_recv(u, u->tbuf_down, TUNNEL_BUF);
            if (n > 0) {
                u->state->bytes_received += n;
                u->tdown_pos = 0;
                u->tdown_len = (size_t)n;
                progress = 1;
            } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                u->tupstream_eof = 1;
            }
        }
    }
    if ((u->tclient_eof && u->tup_pos >= u->tup_len) || (u->tupstream_eof && u->tdown_pos >= u->tdown_len)) {
        mg_upstream_tunnel_finish(u);
        return;
    }
    /* reading a side only while its way out has room */
    if (u->tup_pos >= u->tup_len && !u->tclient_eof) {
        mg_conn_read_on(c);
    } else {
        mg_conn_read_off(c);
    }
    if (u->tdown_pos >= u->tdown_len && !u->tupstream_eof) {
        mg_upstream_conn_read_on(u);
    } else {
        mg_upstream_conn_read_off(u);
    }
    if (want_uw && !u->conn->writing) {
        mg_upstream_conn_write_on(u);
    }
    if (want_cw) {
        mg_conn_write_on(c);
    }
    mg_upstream_conn_timer(u, u->conf->read_timeout);
}

void mg_upstream_start_tunnel(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_http_conn_t *hc = r->hc;
    u->tunnel = 1;
    r->connection->log.action = "proxying upgraded connection";
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_http_tcp_nodelay(r->connection, clcf->tcp_nodelay);
    mg_upstream_conn_nodelay(u); /* both ends pass bytes on as they come */
    u->tbuf_up = mg_pnalloc(r->pool, TUNNEL_BUF);
    /* the head buffer's leftovers (proxy_buffer_size may exceed TUNNEL_BUF) fit */
    u->tbuf_down = mg_pnalloc(r->pool, u->pending_len > TUNNEL_BUF ? u->pending_len : TUNNEL_BUF);
    /* what the client sent after its request, and what the upstream sent after its head */
    size_t early = hc->last - hc->start;
    if (early > TUNNEL_BUF) {
        early = TUNNEL_BUF;
    }
    memcpy(u->tbuf_up, hc->buf + hc->start, early);
    hc->start += early;
    u->tup_pos = 0;
    u->tup_len = early;
    memcpy(u->tbuf_down, u->pending, u->pending_len);
    u->tdown_pos = 0;
    u->tdown_len = u->pending_len;
    mg_int_t rc = mg_http_send_header(r);
    /* the connection ends with the tunnel; as nginx, only once the head is out ($sent_http_*
     * in the header filters see the connection as it was) */
    r->keepalive = 0;
    if (rc == MG_ERROR) {
        mg_upstream_finalize(u, MG_ERROR);
        return;
    }
    rc = mg_http_output(r, NULL);
    if (rc == MG_ERROR) {
        mg_upstream_finalize(u, MG_ERROR);
        return;
    }
    r->write_event_handler = tunnel_drained;
    mg_upstream_tunnel_pump(u);
}

