/*
 * The response head: the status line and header lines parsed (nginx's leniency: LF or CRLF,
 * no status line -> HTTP/0.9), read into the one proxy_buffer_size buffer, interim 1xx
 * responses dropped, then checked (framing, proxy_next_upstream by status,
 * proxy_intercept_errors) and handed to the owner's process_header before the body or the
 * tunnel starts.
 */
#include <sys/socket.h>

#include "cache.h"
#include "scan.h"
#include "upstream_int.h"

/* Header lines from buf[p] to the blank line (cap at most). As nginx's: an "HTTP/..." line
 * (IIS repeats its status line) is dropped, and only spaces around a value are not part of
 * it. A line without a colon is refused (nginx 1.22 passes "Name: " on; t/974 TEST 24). */
/* A field line's name (ls to the colon at c) and its value (vs to ve, less the blanks around it) */
static inline void put_header(mg_http_header_t *f, const char *buf, size_t ls, size_t c, size_t vs,
                              size_t ve)
{
    while (vs < ve && buf[vs] == ' ') {
        vs++;
    }
    while (ve > vs && buf[ve - 1] == ' ') {
        ve--;
    }
    f->name.data = buf + ls;
    f->name.len = c - ls;
    f->value.data = buf + vs;
    f->value.len = ve - vs;
}

static ssize_t parse_lines(const char *buf, size_t len, size_t p, mg_upstream_head_t *h, size_t cap)
{
    size_t n = 0;
    const char *nl;
    const unsigned char *b = (const unsigned char *)buf;
    for (;;) {
        /* the usual line first, by scan.h's word scans as the request parser's: a name, its
         * colon, a value without CR or NUL and its LF or CRLF; any other (a blank line, a
         * repeated status line, a bad byte, a line not whole yet) goes the byte-exact way below */
        size_t ls = p, c = mg_scan_name_end(b, ls, len);
        if (c > ls && c < len && b[c] == ':' &&
            !(c - ls >= 5 && memcmp(buf + ls, "HTTP/", 5) == 0)) {
            size_t q = mg_scan_value_stop(b, c + 1, len);
            if (q < len && (b[q] == '\n' || (b[q] == '\r' && q + 1 < len && b[q + 1] == '\n'))) {
                h->error_at = ls;
                if (n == cap) {
                    return MG_PARSE_TOO_MANY_HEADERS;
                }
                p = q + 1 + (b[q] == '\r');
                put_header(&h->headers[n++], buf, ls, c, c + 1, q);
                continue;
            }
        }
        nl = memchr(buf + p, '\n', len - p);
        if (nl == NULL) {
            /* nginx's parser, a byte at a time, refuses a NUL before its line ends: the
             * upstream may close next, and that is then an invalid header, not a close; but
             * not in a repeated status line, which it skips to its end whatever it holds */
            const char *nul = memchr(buf + p, '\0', len - p);
            if (nul && !(nul - (buf + p) >= 5 && memcmp(buf + p, "HTTP/", 5) == 0)) {
                h->error_at = p;
                h->error_byte = (size_t)(nul - buf);
                return MG_PARSE_INVALID_HEADER;
            }
            return MG_PARSE_AGAIN;
        }
        size_t le = (size_t)(nl - buf);
        size_t end = le;
        if (end > ls && buf[end - 1] == '\r') {
            end--;
        }
        p = le + 1;
        if (end == ls) {
            h->nheaders = n;
            return (ssize_t)p;
        }
        h->error_at = ls;
        /* (a name ends badly at a control byte, space or DEL; others outside RFC 9110's tchar,
         * '@' or bytes >= 0x80, are passed on as nginx does) */
        c = mg_scan_name_end(b, ls, end);
        if (c - ls >= 5 && memcmp(buf + ls, "HTTP/", 5) == 0) {
            continue;
        }
        if (c == ls || c == end || buf[c] != ':') {
            h->error_byte = c;
            return MG_PARSE_INVALID_HEADER;
        }
        size_t vs = c + 1, ve = end;
        /* (memchr's vector scans: a byte loop here cost more than the rest of the line) */
        const char *v = buf + vs, *cr = memchr(v, '\r', ve - vs);
        const char *nul = memchr(v, '\0', (size_t)((cr ? cr : buf + ve) - v));
        if (cr || nul) {
            h->error_byte = (size_t)((nul ? nul : cr) - buf); /* the first of them */
            return MG_PARSE_INVALID_HEADER;
        }
        if (n == cap) {
            return MG_PARSE_TOO_MANY_HEADERS;
        }
        put_header(&h->headers[n++], buf, ls, c, vs, ve);
    }
}

ssize_t mg_upstream_parse_response_head(const char *buf, size_t len, mg_upstream_head_t *h)
{
    size_t cap = h->nheaders;
    h->nheaders = 0;
    /* status line: HTTP/d.d SP ddd [SP reason] */
    const char *nl = memchr(buf, '\n', len);
    size_t avail = nl ? (size_t)(nl - buf) : len;
    if (avail >= 1 && buf[0] != 'H') {
        return MG_PARSE_INVALID_REQUEST;
    }
    if (avail < 12 && nl == NULL) {
        if (memcmp(buf, "HTTP/", avail < 5 ? avail : 5) != 0) {
            return MG_PARSE_INVALID_REQUEST;
        }
        return MG_PARSE_AGAIN;
    }
    if (avail < 12 || memcmp(buf, "HTTP/", 5) != 0 || buf[5] < '1' || buf[5] > '9' ||
        buf[6] != '.' || buf[7] < '0' || buf[7] > '9' || buf[8] != ' ') {
        return MG_PARSE_INVALID_REQUEST;
    }
    if (nl == NULL) {
        return MG_PARSE_AGAIN;
    }
    h->http_major = buf[5] - '0';
    h->http_minor = buf[7] - '0';
    size_t s = 9;
    while (s < avail && buf[s] == ' ') {
        s++;
    }
    if (s + 3 > avail || buf[s] < '1' || buf[s] > '9' || buf[s + 1] < '0' || buf[s + 1] > '9' ||
        buf[s + 2] < '0' || buf[s + 2] > '9' ||
        (s + 3 < avail && buf[s + 3] != ' ' && buf[s + 3] != '\r')) {
        return MG_PARSE_INVALID_REQUEST;
    }
    h->status = (mg_uint_t)((buf[s] - '0') * 100 + (buf[s + 1] - '0') * 10 + (buf[s + 2] - '0'));
    size_t e = avail;
    if (e > s && buf[e - 1] == '\r') {
        e--;
    }
    h->status_line.data = buf + s;
    h->status_line.len = e - s;
    return parse_lines(buf, len, avail + 1, h, cap);
}

ssize_t mg_upstream_parse_cgi_head(mg_upstream_t *u, const char *buf, size_t len,
                                   mg_upstream_head_t *h, int status_line_ok)
{
    size_t cap = h->nheaders;
    h->nheaders = 0;
    h->http_major = 1;
    h->http_minor = 0;
    h->status = 0;
    h->status_line.len = 0;
    if (status_line_ok && len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        h->nheaders = cap;
        ssize_t rc = mg_upstream_parse_response_head(buf, len, h);
        if (rc != MG_PARSE_INVALID_REQUEST) {
            return rc;
        }
        h->nheaders = 0;
    }
    if (status_line_ok && len < 5 && memcmp(buf, "HTTP/", len) == 0) {
        return MG_PARSE_AGAIN;
    }
    ssize_t rc = parse_lines(buf, len, 0, h, cap);
    if (rc < 0) {
        return rc;
    }
    int location = 0;
    for (size_t i = 0; i < h->nheaders; i++) {
        mg_span_t name = h->headers[i].name, v = h->headers[i].value;
        if (name.len == 8 && mg_known_eq(name.data, "location", 8)) {
            location = 1;
        }
        if (h->status || name.len != 6 || !mg_known_eq(name.data, "status", 6)) {
            continue;
        }
        int64_t st = v.len >= 3 ? mg_atoi(v.data, 3) : -1;
        if (st < 0) {
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream sent invalid status \"%.*s\"",
                         (int)v.len, v.data);
            h->error_at = (size_t)-1;
            return MG_PARSE_INVALID_HEADER;
        }
        h->status = (mg_uint_t)st;
        h->status_line = v;
    }
    if (h->status == 0 && location) {
        h->status = MG_HTTP_MOVED_TEMPORARILY;
        h->status_line.data = "302 Moved Temporarily";
        h->status_line.len = 21;
    } else if (h->status == 0) {
        h->status = MG_HTTP_OK;
        h->status_line.data = "200 OK";
        h->status_line.len = 6;
    }
    return rc;
}

/* ---- reading and checking it ---- */

/* The framing lines, the first of each, in one pass over the head; *cl2 a later
 * Content-Length with another value */
static void framing_headers(mg_upstream_t *u, mg_http_header_t **cl, mg_http_header_t **te,
                            mg_http_header_t **conn, mg_http_header_t **cl2)
{
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        mg_http_header_t **out = h->name.len == 14   ? cl
                                 : h->name.len == 17 ? te
                                 : h->name.len == 10 ? conn
                                                     : NULL;
        const char *name = h->name.len == 14   ? "content-length"
                           : h->name.len == 17 ? "transfer-encoding"
                                               : "connection";
        if (out == NULL || !mg_known_eq(h->name.data, name, h->name.len)) {
            continue;
        }
        if (*out == NULL) {
            *out = h;
        } else if (out == cl && *cl2 == NULL &&
                   ((*cl)->value.len != h->value.len ||
                    memcmp((*cl)->value.data, h->value.data, h->value.len) != 0)) {
            *cl2 = h;
        }
    }
}

/* A head whose framing is ambiguous: the next server (invalid_header), else 502 */
static void bad_framing(mg_upstream_t *u)
{
    if (mg_upstream_can_retry(u, MG_UPSTREAM_FT_INVALID_HEADER)) {
        mg_upstream_next(u, MG_UPSTREAM_FT_INVALID_HEADER);
        return;
    }
    u->state->status = MG_HTTP_BAD_GATEWAY;
    mg_upstream_finalize(u, MG_HTTP_BAD_GATEWAY);
}

static int value_has_token(mg_span_t v, const char *tok)
{
    size_t n = strlen(tok);
    const char *p = v.data, *end = v.data + v.len;
    while ((p = mg_strlcasestrn(p, end, tok, n)) != NULL) {
        if ((p == v.data || p[-1] == ',' || p[-1] == ' ') &&
            (p + n == end || p[n] == ',' || p[n] == ' ' || p[n] == ';')) {
            return 1;
        }
        p += n;
    }
    return 0;
}

static int error_page_for(mg_request_t *r, mg_uint_t status)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (clcf->error_pages == NULL) {
        return 0;
    }
    mg_http_err_page_t *ep = clcf->error_pages->elts;
    for (size_t i = 0; i < clcf->error_pages->nelts; i++) {
        if (ep[i].status == status) {
            return 1;
        }
    }
    return 0;
}

void mg_upstream_own_ranges(mg_request_t *r, int single)
{
    r->allow_ranges = 1;
    r->single_range = (unsigned)single;
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && h[i].key.len == 13 && mg_known_eq(h[i].key.data, "accept-ranges", 13)) {
            h[i].hash = 0;
        }
    }
}

void mg_upstream_process_head(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_uint_t status = u->head.status;
    u->state->status = status;
    u->state->header_time = mg_now.monotonic - u->state->start;

    static const struct {
        mg_uint_t status, ft;
    } next_by_status[] = {
        { 500, MG_UPSTREAM_FT_HTTP_500 }, { 502, MG_UPSTREAM_FT_HTTP_502 },
        { 503, MG_UPSTREAM_FT_HTTP_503 }, { 504, MG_UPSTREAM_FT_HTTP_504 },
        { 403, MG_UPSTREAM_FT_HTTP_403 }, { 404, MG_UPSTREAM_FT_HTTP_404 },
        { 429, MG_UPSTREAM_FT_HTTP_429 },
    };
    mg_int_t rc;
    if (status == 304 && r->cache && mg_http_cache_revalidated(u, &rc)) {
        if (rc != MG_DONE) {             /* MG_DONE: its X-Accel-Redirect redirected */
            mg_upstream_finalize(u, rc); /* the cache entry refreshed and sent */
        }
        return;
    }
    for (size_t i = 0; i < mg_nelems(next_by_status); i++) {
        if (next_by_status[i].status != status) {
            continue;
        }
        if (mg_upstream_can_retry(u, next_by_status[i].ft)) {
            u->state->response_length = 0; /* as nginx: a body not passed on is not counted */
            mg_upstream_next(u, next_by_status[i].ft);
            return;
        }
        if (r->cache && mg_http_cache_stale(u, next_by_status[i].ft, &rc)) {
            if (rc != MG_DONE) {
                mg_upstream_finalize(u, rc);
            }
            return;
        }
    }

    /* framing */
    mg_http_header_t *cl = NULL, *te = NULL, *conn = NULL, *cl2 = NULL;
    framing_headers(u, &cl, &te, &conn, &cl2);
    u->length = -1;
    u->chunked_body = 0;
    if (u->decode) {
        /* the protocol's framing ends the body; as nginx's FastCGI, a valid Content-Length
         * still bounds it (mg_upstream_body_input cuts, body_finish checks) */
        int64_t n = cl ? mg_atoi(cl->value.data, cl->value.len) : -1;
        u->length = status == 204 || status == 304 ? 0 : n;
        te = cl = cl2 = NULL;
    }
    if (te && cl) {
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0,
                     "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time");
        bad_framing(u);
        return;
    }
    if (cl2) {
        /* nginx 1.22 frames by the last and 1.23 refuses any second one; two equal ones are
         * harmless, two lengths are a 502 in nginx 1.23's words */
        mg_log_error(
            MG_LOG_ERR, mg_upstream_log(u), 0,
            "upstream sent duplicate header line: \"%.*s: %.*s\", previous value: \"%.*s: %.*s\"",
            (int)cl2->name.len, cl2->name.data, (int)cl2->value.len, cl2->value.data,
            (int)cl->name.len, cl->name.data, (int)cl->value.len, cl->value.data);
        bad_framing(u);
        return;
    }
    if (te) {
        if (te->value.len != 7 || !mg_known_eq(te->value.data, "chunked", 7)) {
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream sent unknown \"Transfer-Encoding\": \"%.*s\"",
                         (int)te->value.len, te->value.data);
            u->state->status = MG_HTTP_BAD_GATEWAY;
            mg_upstream_finalize(u, MG_HTTP_BAD_GATEWAY);
            return;
        }
        u->chunked_body = 1;
        memset(&u->chunked, 0, sizeof(u->chunked));
    } else if (cl) {
        int64_t n = mg_atoi(cl->value.data, cl->value.len);
        if (n < 0) {
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0,
                         "upstream sent invalid \"Content-Length\" header: \"Content-Length: %.*s\"",
                         (int)cl->value.len, cl->value.data);
            u->state->status = MG_HTTP_BAD_GATEWAY;
            mg_upstream_finalize(u, MG_HTTP_BAD_GATEWAY);
            return;
        }
        u->length = n;
    }
    u->header_only = u->head_method || status == 204 || status == 304 ||
                     (status >= 100 && status < 200);
    int conn_close = 0, conn_ka = 0;
    if (conn && conn->value.len == 10 && mg_known_eq(conn->value.data, "keep-alive", 10)) {
        conn_ka = 1; /* the usual value alone: no search */
    } else if (conn) {
        conn_close = value_has_token(conn->value, "close");
        conn_ka = value_has_token(conn->value, "keep-alive");
    }
    u->keepalive = u->group && (u->group->keepalive > 0 || u->pick.keepalive) && !conn_close &&
                   (u->head.http_minor >= 1 || u->head.http_major > 1 || conn_ka) &&
                   (u->header_only || u->chunked_body || u->length >= 0) && status != 101;

    if (u->conf->intercept_errors && status >= 300 && error_page_for(r, status)) {
        /* the error page replaces the response; the body is not read (nor counted) */
        u->state->response_length = 0;
        if (r->cache) {
            mg_http_cache_error(u, status);
        }
        mg_upstream_finalize(u, (mg_int_t)status);
        return;
    }
    if (status == 101 && !u->upgrade) {
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream sent unexpected \"101 Switching Protocols\"");
        u->state->status = MG_HTTP_BAD_GATEWAY;
        mg_upstream_finalize(u, MG_HTTP_BAD_GATEWAY);
        return;
    }
    if (mg_upstream_process_accel(u) == MG_DONE) {
        return;
    }
    rc = u->process_header ? u->process_header(u) : MG_OK;
    if (rc != MG_OK) {
        mg_upstream_finalize(u, rc);
        return;
    }
    /* the cache and the store filter ask */
    u->buffering = (unsigned)mg_upstream_spool_buffering(u);
    if (r->cache) {
        mg_http_cache_response(u);
        if (!r->connection->closed) {
            mg_upstream_watch_client(u); /* a stored one's is no longer ended by the client */
        }
    }
    if (u->conf->force_ranges) {
        /* the range filter cuts any 200 of known length, a single range only as the body
         * streams by (several: the whole 200) */
        mg_upstream_own_ranges(r, 1);
    }
    u->header_sent = 1;
    if (status == 101) {
        mg_upstream_start_tunnel(u);
        return;
    }
    /* as nginx's, $upstream_response_length counts from the body on: 0 while the head is
     * sent (add_header, header_filter_by_lua), what came with the head once it went */
    int64_t with_head = u->state->response_length;
    u->state->response_length = 0;
    /* header filters log in nginx's context of the head (charset's unknown override) */
    rc = mg_http_send_header(r);
    r->connection->log.action = "reading upstream";
    if (rc == MG_ERROR || rc > MG_OK) {
        /* as nginx's: the body is not passed on (a refused range's 416): not counted */
        /* a header filter's status (header_filter_by_lua's ngx.exit) replaces the response */
        mg_upstream_finalize(u, rc);
        return;
    }
    u->state->response_length = with_head;
    if (r->post_action) {
        /* as nginx: a post_action's answer goes nowhere, so its body is not read; the
         * upstream connection, in the middle of a response, closes */
        mg_buf_t *last = mg_buf_mem(r->pool, "", 0);
        last->last_buf = 1;
        mg_http_output(r, last);
        mg_upstream_finalize(u, MG_OK);
        return;
    }
    if (u->driver) {
        u->driver->body(u);
        return;
    }
    mg_upstream_start_body(u);
}

void mg_upstream_read_head(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    const char *sending = r->connection->log.action;
    r->connection->log.action = "reading response header from upstream";
    mg_debug_http(&r->connection->log, "http upstream process header");
    for (;;) {
        if (u->hlen == u->conf->buffer_size) {
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream sent too big header");
            mg_upstream_next(u, MG_UPSTREAM_FT_INVALID_HEADER);
            return;
        }
        ssize_t n = mg_upstream_recv(u, u->hbuf + u->hlen, u->conf->buffer_size - u->hlen);
        mg_debug_http(&r->connection->log, "http upstream recv(): %zd", n);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* the read event is on, and the read timer once the request went */
            r->connection->log.action = sending;
            return;
        }
        if (n < 0) {
            if (!mg_upstream_io_logged(u)) {
                mg_log_error(MG_LOG_ERR, mg_upstream_log(u), errno, "recv() failed");
            }
            mg_upstream_next(u, MG_UPSTREAM_FT_ERROR);
            return;
        }
        if (n == 0) {
            mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream prematurely closed connection");
            mg_upstream_next(u, MG_UPSTREAM_FT_ERROR);
            return;
        }
        u->conn->got_bytes = 1;
        u->state->bytes_received += n;
        size_t raw_n = (size_t)n;
        if (u->decode) {
            size_t m = (size_t)n;
            mg_int_t rc = u->decode(u, u->hbuf + u->hlen, &m);
            if (rc == MG_ERROR) {
                mg_upstream_next(u, MG_UPSTREAM_FT_INVALID_HEADER);
                return;
            }
            n = (ssize_t)m;
        }
        u->hlen += (size_t)n;
        for (;;) {
            if (u->head.headers == NULL) {
                u->head.headers = mg_palloc(r->pool, 100 * sizeof(mg_http_header_t));
            }
            u->head.nheaders = 100;
            ssize_t used = u->parse_head
                               ? u->parse_head(u, u->hbuf, u->hlen, &u->head)
                               : mg_upstream_parse_response_head(u->hbuf, u->hlen, &u->head);
            if (used == MG_PARSE_AGAIN && u->decoded_end) {
                mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0,
                             "upstream prematurely closed FastCGI stdout");
                mg_upstream_next(u, MG_UPSTREAM_FT_INVALID_HEADER);
                return;
            }
            if (used == MG_PARSE_AGAIN) {
                break;
            }
            if (used == MG_PARSE_INVALID_REQUEST) {
                /* as nginx: not HTTP/1.x, so an HTTP/0.9 answer: its bytes are the body, sent
                 * without a head until the upstream closes */
                mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "upstream sent no valid HTTP/1.0 header");
                u->head.http_major = 0;
                u->head.http_minor = 9;
                u->head.status = MG_HTTP_OK;
                u->head.status_line.len = 0;
                u->head.nheaders = 0;
                u->http09 = 1;
                r->http_09 = 1;
                r->status_09 = 1;
                r->keepalive = 0;
                used = 0;
            }
            if (used < 0 && u->head.error_at == (size_t)-1) {
                mg_upstream_next(u, MG_UPSTREAM_FT_INVALID_HEADER); /* logged by the parser */
                return;
            }
            if (used < 0) {
                /* as nginx: the line up to the offending byte, then that byte in hex */
                size_t at = u->head.error_at, bad = u->head.error_byte;
                mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0,
                             "upstream sent invalid header: \"%.*s\\x%02x...\"", (int)(bad - at),
                             u->hbuf + at, (unsigned)(unsigned char)u->hbuf[bad]);
                mg_upstream_next(u, MG_UPSTREAM_FT_INVALID_HEADER);
                return;
            }
            if (u->head.status >= 100 && u->head.status < 200 && u->head.status != 101) {
                /* an interim response: drop it, the final one follows */
                memmove(u->hbuf, u->hbuf + used, u->hlen - (size_t)used);
                u->hlen -= (size_t)used;
                continue;
            }
            mg_upstream_conn_timer_del(u);
            mg_upstream_conn_read_off(u);
            if (!u->request_sent) {
                /* an answer before the whole request: the rest is not sent, and the
                 * connection, in the middle of a request, is not kept */
                mg_upstream_conn_write_off(u);
                u->body_wait = 0;
                u->early = 1;
            }
            u->pending = u->hbuf + used;
            u->pending_len = u->hlen - (size_t)used;
            u->state->response_length = (int64_t)u->pending_len;
            if (u->decode && r->method == MG_HTTP_HEAD) {
                u->state->response_length = 0; /* nginx reads no HEAD's body: counts none */
            } else if (u->decode && u->pending_len <= (size_t)n) {
                /* the head ended in the last read: what came after it there, as received */
                size_t d = (size_t)n - u->pending_len;
                size_t at = u->raw_offset ? u->raw_offset(u, d) : d;
                u->state->response_length = (int64_t)(raw_n - mg_min(at, raw_n));
            }
            mg_upstream_process_head(u);
            return;
        }
    }
}

