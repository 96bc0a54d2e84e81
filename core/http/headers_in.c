/*
 * From a parsed request head to a running request: take over the request line and header
 * lines into a new request (request.c creates it) with nginx's checks
 * (Host, Content-Length, Transfer-Encoding, Connection), choose the virtual server and
 * start the phase engine.
 */
#include <stdarg.h>

#include "conn.h"
#include "scan.h"
#include "v2.h"

static inline __attribute__((always_inline)) int header_name_ok(mg_str_t name, int underscores);

int mg_http_header_name_plain(mg_str_t name)
{
    return header_name_ok(name, 0);
}

/* (inlined in every request's every header line; connection.c calls it through the export) */
static inline int header_skipped(const mg_http_srv_conf_t *cscf, mg_str_t name)
{
    return cscf->ignore_invalid_headers && !header_name_ok(name, cscf->underscores_in_headers);
}

int mg_http_header_skipped(const mg_http_srv_conf_t *cscf, mg_str_t name)
{
    return header_skipped(cscf, name);
}

void mg_http_log_skipped(mg_connection_t *c, mg_str_t name, mg_str_t value, int h2)
{
    const char *action = c->log.action;
    c->log.action = "reading client request headers";
    if (h2) {
        /* the whole name, however long (the list's bound bounds it) */
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent invalid header: \"%.*s\"", (int)name.len,
                     name.data);
    } else {
        /* up to the value's end (an empty value is at the line's end) */
        size_t len = (size_t)(value.data + value.len - name.data);
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent invalid header line: \"%.*s\"", (int)len,
                     name.data);
    }
    c->log.action = action;
}

/* A header name's bytes: bit 1 for letters, digits and '-', bit 2 for those and '_' (allowed
 * with underscores_in_headers), so that the bytes' entries ANDed together keep a bit only when
 * every byte has it */
static const unsigned char name_byte[256] = {
    ['-'] = 3, ['0' ... '9'] = 3, ['A' ... 'Z'] = 3, ['a' ... 'z'] = 3, ['_'] = 2,
};

/* (inlined: every request's every header line asks; a call cost ~26 instructions a request of
 * 5 lines, callgrind; a table, not four range tests a byte: ~9 -> ~4 instructions a byte; four
 * bytes' entries ANDed a test, the last four overlapping: ~6.6 -> ~4 a byte of a browser's
 * names, with its loop) */
static inline __attribute__((always_inline)) int header_name_ok(mg_str_t name, int underscores)
{
    const unsigned char *p = (const unsigned char *)name.data;
    size_t n = name.len;
    unsigned char allowed = underscores ? 2 : 1;
    if (n >= 4) {
        for (size_t i = 0; i + 4 < n; i += 4) {
            if (!(name_byte[p[i]] & name_byte[p[i + 1]] & name_byte[p[i + 2]] &
                  name_byte[p[i + 3]] & allowed)) {
                return 0;
            }
        }
        p += n - 4;
        return (name_byte[p[0]] & name_byte[p[1]] & name_byte[p[2]] & name_byte[p[3]] & allowed) !=
               0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(name_byte[p[i]] & allowed)) {
            return 0;
        }
    }
    return 1;
}

static void bad_request(mg_request_t *r, mg_int_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bad_request(mg_request_t *r, mg_int_t status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->connection->log.action = "reading client request headers";
    mg_log_error(MG_LOG_INFO, &r->connection->log, 0, "%s", msg);
    r->keepalive = 0;
    mg_http_finalize_request(r, status);
}

/* Connection, as nginx 1.22 reads it: a value with "close" anywhere in it closes, else one with
 * "keep-alive" anywhere keeps alive, else the line changes neither, and a later line overrides
 * an earlier one (so "closex" closes, and "close" then "keep-alive" keeps alive). Upgrade is a
 * token of the list. */
static void parse_connection(mg_request_t *r, mg_str_t v)
{
    mg_http_headers_in_t *hin = &r->headers_in;
    if (mg_strlcasestrn(v.data, v.data + v.len, "close", 5)) {
        hin->connection_close = 1;
        hin->connection_keep_alive = 0;
    } else if (mg_strlcasestrn(v.data, v.data + v.len, "keep-alive", 10)) {
        hin->connection_close = 0;
        hin->connection_keep_alive = 1;
    }
    const char *p = v.data, *end = v.data + v.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }
        const char *s = p;
        while (p < end && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }
        if (mg_str_caseeq((mg_str_t){(size_t)(p - s), (char *)s}, "upgrade")) {
            hin->connection_upgrade = 1;
        }
    }
}

/* nginx reads these out of the User-Agent when it arrives; here on first use */
unsigned mg_http_user_agent(mg_request_t *r)
{
    mg_http_headers_in_t *hin = &r->headers_in;
    if (hin->browser & 0x80) {
        return hin->browser & 0x7f;
    }
    unsigned b = 0;
    mg_table_elt_t *ua = hin->user_agent;
    if (ua) {
        const char *s = ua->value.data, *end = s + ua->value.len;
        const char *msie = memmem(s, ua->value.len, "MSIE ", 5);
        if (msie && msie + 7 < end) {
            b |= MG_HTTP_UA_MSIE;
            /* "MSIE 4.", "MSIE 5.", or "MSIE 6." not followed by SV1 (XP SP2's fixed one) */
            if (msie[6] == '.' &&
                (msie[5] == '4' || msie[5] == '5' ||
                 (msie[5] == '6' &&
                  (msie + 8 >= end || !memmem(msie + 8, (size_t)(end - msie - 8), "SV1", 3))))) {
                b |= MG_HTTP_UA_MSIE6;
            }
        }
        if (memmem(s, ua->value.len, "Opera", 5)) {
            b = MG_HTTP_UA_OPERA; /* Opera said it was MSIE */
        }
        if (!(b & (MG_HTTP_UA_MSIE | MG_HTTP_UA_OPERA))) {
            if (memmem(s, ua->value.len, "Gecko/", 6)) {
                b |= MG_HTTP_UA_GECKO;
            } else if (memmem(s, ua->value.len, "Chrome/", 7)) {
                b |= MG_HTTP_UA_CHROME;
            } else if (memmem(s, ua->value.len, "Safari/", 7) &&
                       memmem(s, ua->value.len, "Mac OS X", 8)) {
                b |= MG_HTTP_UA_SAFARI;
            } else if (memmem(s, ua->value.len, "Konqueror", 9)) {
                b |= MG_HTTP_UA_KONQUEROR;
            }
        }
    }
    hin->browser = b | 0x80;
    return b;
}

typedef struct {
    const char *name;
    size_t len;
    size_t offset;
    int unique; /* a second one is a 400; HOST_LINE: the Host, whose first one's name is checked */
} known_header_t;

#define HOST_LINE 2
#define HOST_HEADER 0 /* the Host's row (the one HOST_LINE) */

#define HIN(name, f, unique)                                                                       \
    {                                                                                              \
        name, sizeof(name) - 1, offsetof(mg_http_headers_in_t, f), unique                          \
    }

static const known_header_t known_headers[] = {
    HIN("host", host, HOST_LINE),
    HIN("connection", connection, 0),
    HIN("content-length", content_length, 1),
    HIN("transfer-encoding", transfer_encoding, 1),
    HIN("content-type", content_type, 0),
    HIN("user-agent", user_agent, 0),
    HIN("referer", referer, 0),
    HIN("expect", expect, 1),
    HIN("if-modified-since", if_modified_since, 1),
    HIN("if-unmodified-since", if_unmodified_since, 1),
    HIN("if-none-match", if_none_match, 1),
    HIN("if-match", if_match, 1),
    HIN("range", range, 0),
    HIN("accept-encoding", accept_encoding, 0),
    HIN("authorization", authorization, 1),
    HIN("if-range", if_range, 1),
    HIN("content-range", content_range, 1),
};

/* the kept lines of headers_in: one per known header, host to content_range */
#define IN_KEPT offsetof(mg_http_headers_in_t, host), mg_nelems(known_headers)
_Static_assert(offsetof(mg_http_headers_in_t, content_range) ==
                   offsetof(mg_http_headers_in_t, host) +
                       (mg_nelems(known_headers) - 1) * sizeof(mg_table_elt_t *),
               "headers_in's kept lines are adjacent");

/* What nginx makes of a header line as it takes it: a refusal at that line, or LINE_TAKEN. */
typedef enum { LINE_TAKEN, LINE_DUPLICATE, LINE_DUPLICATE_HOST, LINE_BAD_HOST } line_verdict_t;

/* The one list of checks at a header line, read by mg_http_head_refused_at (a head still
 * arriving) and mg_http_process_request_head (a head taken), so that both refuse at the same
 * line: k the line's known header (-1: none), seen whether a line of it came before. A first
 * Host's name is checked here with check_host, else by the caller (take_host refuses the same
 * names as it chooses the server). */
static inline line_verdict_t line_verdict(int k, int seen, mg_str_t value, int check_host)
{
    if (k < 0 || !known_headers[k].unique) {
        return LINE_TAKEN;
    }
    if (seen) {
        return known_headers[k].unique == HOST_LINE ? LINE_DUPLICATE_HOST : LINE_DUPLICATE;
    }
    if (known_headers[k].unique == HOST_LINE && check_host && mg_server_name_check(value) == 0) {
        return LINE_BAD_HOST;
    }
    return LINE_TAKEN;
}

/* the index in known_headers of a header name, or -1: every request's every header asks, so
 * the length is compared before the letters */
/* known_headers' rows by the name's length, each plus one (0 ends a list): a line is compared
 * with the one to three names of its length, not looked for among all seventeen (~70
 * instructions a line, most of a browser's lines being none of them); t/unit/test_headers_in.c
 * checks it against the table */
#define KNOWN_MAX_LEN 20
static const unsigned char known_by_len[KNOWN_MAX_LEN][4] = {
    [4] = {1},  [5] = {13},          [6] = {8},  [7] = {7},   [8] = {12, 16}, [10] = {2, 6},
    [12] = {5}, [13] = {11, 15, 17}, [14] = {3}, [15] = {14}, [17] = {4, 9},  [19] = {10},
};

/* (scan.h's mg_known_eq: n >= 4, the shortest known name being "host") */
/* (inlined: a call saved and restored registers for ~13 instructions a line) */
static inline __attribute__((always_inline)) int known_header(mg_str_t name)
{
    if (name.len >= KNOWN_MAX_LEN) {
        return -1;
    }
    for (const unsigned char *c = known_by_len[name.len]; *c; c++) {
        int k = *c - 1;
        if (mg_known_eq(name.data, known_headers[k].name, name.len)) {
            return k;
        }
    }
    return -1;
}

void mg_http_headers_in_refresh(mg_request_t *r)
{
    mg_http_headers_in_t *hin = &r->headers_in;
    for (size_t k = 0; k < mg_nelems(known_headers); k++) {
        *(mg_table_elt_t **)((char *)hin + known_headers[k].offset) = NULL;
    }
    hin->connection_close = hin->connection_keep_alive = hin->connection_upgrade = 0;
    hin->browser = 0;
    mg_table_elt_t *h = hin->headers.elts;
    for (size_t i = 0; i < hin->headers.nelts; i++) {
        int k = known_header(h[i].key);
        if (k < 0) {
            continue;
        }
        mg_table_elt_t **slot = (mg_table_elt_t **)((char *)hin + known_headers[k].offset);
        if (*slot == NULL) {
            *slot = &h[i];
        }
        if (k == 1) {
            parse_connection(r, h[i].value);
        }
    }
}

/* nginx counts a head's bytes line by line from the request line on (not the empty lines
 * before it): a head refused at one of its lines logs the bytes up to that line's end. */
static void count_through(mg_request_t *r, const char *line, const char *end)
{
    if (r->hc->stream) {
        return; /* an h2 stream's length is its header block's, as it came */
    }
    const char *lf = memchr(line, '\n', (size_t)(end - line));
    r->request_length = (size_t)((lf ? lf + 1 : end) - r->request_line.data);
}

/* The virtual server for the name the request gives (an absolute-form target's host or the
 * first Host), chosen as soon as nginx knows it: a head refused later is logged there. */
static mg_int_t choose_server(mg_request_t *r, mg_http_srv_conf_t *srv)
{
    mg_http_conn_t *hc = r->hc;
    /* the Host chooses the request's server (nginx 1.22), except that a server checking client
     * certificates answers 421 to a name other than the negotiated one, when that name was a
     * server's (nginx: an SNI name no server has is no negotiated name) */
    if (hc->ssl_sni_server && mg_http_ssl_check_server(r, srv) != MG_OK) {
        return MG_ERROR;
    }
    if (srv != hc->srv) {
        r->srv_conf = srv->ctx->srv_conf;
        r->loc_conf = srv->ctx->loc_conf;
        mg_http_update_location_config(r); /* the chosen server's error_log */
    }
    return MG_OK;
}

/* The request line's parts into r, its strings left where they are. MG_ERROR when the path does
 * not normalize ($uri is then empty, as nginx leaves it). */
static mg_int_t take_request_line(mg_request_t *r, mg_http_request_head_t *head)
{
    mg_http_srv_conf_t *cscf = r->hc->srv; /* nginx's request line comes before the Host */
    r->request_line.data = (char *)head->request_line.data;
    r->request_line.len = head->request_line.len;
    r->method_name.data = (char *)head->method.data;
    r->method_name.len = head->method.len;
    r->method = head->method_id;
    r->http_major = head->http_major;
    r->http_minor = head->http_minor;
    r->http_09 = head->http_major == 0;
    /* as sent: "HTTP/1.10" too; none for HTTP/0.9 (nginx's $server_protocol is empty then) */
    r->http_protocol.data = (char *)head->proto.data;
    r->http_protocol.len = head->proto.len;
    if (head->schema.len) {
        r->schema.data = (char *)head->schema.data;
        r->schema.len = head->schema.len;
    }
    if (head->complex_uri) {
        char *out = mg_pnalloc(r->pool, head->path.len + 1);
        ssize_t n = mg_http_normalize_uri(head->path.data, head->path.len, out,
                                          cscf->merge_slashes);
        r->uri.data = out;
        if (n < 0) {
            r->uri.len = 0;
            return MG_ERROR;
        }
        out[n] = '\0';
        r->uri.len = (size_t)n;
    } else {
        r->uri.data = (char *)head->path.data;
        r->uri.len = head->path.len;
    }
    /* $request_uri is the path and args as sent, even for an absolute-form target; like $args,
     * set only once the path has been decoded (nginx logs "-" for both after a bad escape) */
    r->unparsed_uri.data = (char *)head->path.data;
    r->unparsed_uri.len = (size_t)(head->target.data + head->target.len - head->path.data);
    if (head->no_path) {
        /* nginx: "http://h" is "/" and "http://h?a" is "?a" */
        const char *after = head->host.data + head->host.len;
        const char *end = head->target.data + head->target.len;
        if (after < end) {
            r->unparsed_uri = (mg_str_t){(size_t)(end - after), (char *)after};
        } else {
            r->unparsed_uri = (mg_str_t){head->path.len, (char *)head->path.data};
        }
    }
    if (head->args.len) { /* as nginx: a bare "?" on the request line is no arguments */
        r->args.data = (char *)head->args.data;
        r->args.len = head->args.len;
    }
    mg_http_set_exten(r);
    return MG_OK;
}

/* The name the request gives, from an absolute-form target (take_host(r, head, NULL)) or a Host
 * line: validated into headers_in.server, then the virtual server it names is chosen. */
static mg_int_t take_host(mg_request_t *r, mg_http_request_head_t *head, mg_table_elt_t *host)
{
    mg_str_t in = {head->host.len, (char *)head->host.data};
    if (host) {
        in = host->value;
    }
    mg_str_t name = {0, mg_pnalloc(r->pool, in.len + 1)};
    mg_http_srv_conf_t *srv = mg_http_host_server(r, r->hc->addr_conf, in, &name);
    if (srv == NULL) {
        return MG_DECLINED;
    }
    r->headers_in.server = name;
    return choose_server(r, srv);
}

void mg_http_partial_head(mg_request_t *r, mg_http_request_head_t *head, const char *line)
{
    if (!head->request_line_done) {
        return;
    }
    /* the buffer is the connection's to reuse: the request keeps a copy of its lines */
    const char *from = head->request_line.data;
    size_t len = (size_t)(line - from);
    char *copy = mg_pnalloc(r->pool, len);
    memcpy(copy, from, len);
    mg_http_parse_rebase(head, from, copy);
    take_request_line(r, head);
    r->request_length = len;
    if (head->host.len) {
        take_host(r, head, NULL);
        return;
    }
    for (size_t i = 0; i < head->nheaders; i++) {
        if (mg_span_ieq(head->headers[i].name, "host")) {
            mg_table_elt_t *h = mg_array_push(&r->headers_in.headers);
            h->key = (mg_str_t){head->headers[i].name.len, (char *)head->headers[i].name.data};
            h->value = (mg_str_t){head->headers[i].value.len, (char *)head->headers[i].value.data};
            h->hash = MG_HTTP_FIELD_PARSED;
            r->headers_in.host = h;
            take_host(r, head, h);
            return;
        }
    }
}

size_t mg_http_head_refused_at(const mg_http_request_head_t *head, size_t from, size_t nlines,
                               int merge_slashes)
{
    if (from == 0) {
        mg_str_t host = {head->host.len, (char *)head->host.data};
        if (host.len && mg_server_name_check(host) == 0) {
            return 0; /* "client sent invalid host in request line" */
        }
        if (head->complex_uri) {
            /* (rare: a path with escapes or dot segments, in a head that came in pieces) */
            char *out = mg_alloc(head->path.len + 1);
            ssize_t n = mg_http_normalize_uri(head->path.data, head->path.len, out, merge_slashes);
            free(out);
            if (n < 0) {
                return 0; /* "client sent invalid request" */
            }
        }
        from = 1;
    }
    for (size_t i = from - 1; i < nlines; i++) {
        mg_str_t name = {head->headers[i].name.len, (char *)head->headers[i].name.data};
        int k = known_header(name);
        if (k < 0 || !known_headers[k].unique) {
            continue;
        }
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const mg_span_t *prev = &head->headers[j].name;
            seen = prev->len == name.len && mg_strncasecmp(prev->data, name.data, name.len) == 0;
        }
        mg_str_t value = {head->headers[i].value.len, (char *)head->headers[i].value.data};
        if (line_verdict(k, seen, value, 1) != LINE_TAKEN) {
            return i + 1;
        }
    }
    return SIZE_MAX;
}

/* The head refused at a header line (line_verdict's refusal v; prev: the earlier line of a
 * duplicate), with nginx's words and $request_length through that line. */
static void refuse_line(mg_request_t *r, line_verdict_t v, mg_str_t name, mg_str_t value,
                        const mg_table_elt_t *prev, const char *head_end)
{
    count_through(r, name.data, head_end);
    if (v == LINE_BAD_HOST) {
        bad_request(r, MG_HTTP_BAD_REQUEST, "client sent invalid host header");
        return;
    }
    bad_request(r, MG_HTTP_BAD_REQUEST,
                "client sent duplicate %s: \"%.*s: %.*s\", previous value: \"%.*s: %.*s\"",
                v == LINE_DUPLICATE_HOST ? "host header" : "header line", (int)name.len, name.data,
                (int)value.len, value.data, (int)prev->key.len, prev->key.data,
                (int)prev->value.len, prev->value.data);
}

void mg_http_process_request_head(mg_connection_t *c, mg_http_request_head_t *head, size_t used)
{
    mg_http_conn_t *hc = c->data;
    mg_request_t *r = mg_http_create_request(c);
    const char *head_end = hc->buf + hc->start + used;
    hc->start += used;
    r->head_end = hc->start;
    /* the empty lines before the request line are not the request's; an h2 stream's head is
     * its header block as it came (HPACK), its body's DATA bytes add to it (v2_stream.c) */
    r->request_length =
        hc->stream ? hc->stream->in_length : (size_t)(head_end - head->request_line.data);

    if (take_request_line(r, head) != MG_OK) {
        /* nginx finds this while still on the request line */
        count_through(r, r->request_line.data, head_end);
        c->log.action = "reading client request line";
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent invalid request");
        r->keepalive = 0;
        mg_http_finalize_request(r, MG_HTTP_BAD_REQUEST);
        return;
    }

    mg_http_headers_in_t *hin = &r->headers_in;
    /* the virtual server decides everything below, as in nginx: chosen as soon as the name is
     * known (the target's host here, else the first Host line) */
    int chosen = 0;
    if (head->schema.len) {
        mg_int_t rc = take_host(r, head, NULL);
        if (rc == MG_DECLINED) {
            /* nginx checks it while still on the request line */
            count_through(r, r->request_line.data, head_end);
            r->connection->log.action = "reading client request line";
            mg_log_error(MG_LOG_INFO, &r->connection->log, 0,
                         "client sent invalid host in request line");
            r->keepalive = 0;
            mg_http_finalize_request(r, MG_HTTP_BAD_REQUEST);
        }
        if (rc != MG_OK) {
            return;
        }
        chosen = 1;
    }

    /* an h2 stream's fields are taken before nginx builds its request line: a refusal among
     * them has none in its log line nor in $request */
    mg_str_t request_line = r->request_line;
    if (hc->stream) {
        r->request_line = (mg_str_t){0, NULL};
    }
    for (size_t i = 0; i < head->nheaders; i++) {
        mg_http_header_t *ph = &head->headers[i];
        mg_str_t name = {ph->name.len, (char *)ph->name.data};
        mg_str_t value = {ph->value.len, (char *)ph->value.data};
        /* each line is checked as the request's server by then says: the connection's, the
         * Host's after a Host line (or :authority), as nginx */
        mg_http_srv_conf_t *cscf = mg_http_get_srv_conf(r, mg_http_core_module);
        if (header_skipped(cscf, name)) {
            if (i + 1 >= head->checked) {
                /* (a line connection.c checked as it came was logged then) */
                mg_http_log_skipped(c, name, value, 0);
            }
            continue;
        }
        mg_table_elt_t *h = mg_http_header_push(&r->headers_in.headers, &r->headers_in, IN_KEPT);
        h->key = name;
        h->value = value;
        h->hash = MG_HTTP_FIELD_PARSED;
        int k = known_header(name);
        if (k < 0) {
            continue;
        }
        mg_table_elt_t **slot =
            (mg_table_elt_t **)((char *)&r->headers_in + known_headers[k].offset);
        if (*slot) {
            line_verdict_t v = line_verdict(k, 1, value, chosen);
            if (v != LINE_TAKEN) {
                refuse_line(r, v, name, value, *slot, head_end);
                return;
            }
        } else {
            *slot = h;
            if (k == HOST_HEADER) {
                /* nginx checks the first Host line also when the target named the server;
                 * else take_host checks it as it chooses the server with it */
                mg_int_t rc = !chosen                                      ? take_host(r, head, h)
                              : line_verdict(k, 0, value, 1) == LINE_TAKEN ? MG_OK
                                                                           : MG_DECLINED;
                if (rc == MG_DECLINED) {
                    refuse_line(r, LINE_BAD_HOST, name, value, NULL, head_end);
                }
                if (rc != MG_OK) {
                    return;
                }
                chosen = 1;
            }
        }
        if (k == 1) {
            parse_connection(r, value);
        }
    }
    r->request_line = request_line;
    if (!chosen) {
        /* no name: nginx looks the empty one up (a server_name "" takes it), else the default */
        mg_http_srv_conf_t *srv = mg_http_find_server(r, hc->addr_conf, r->headers_in.server);
        if (choose_server(r, srv ? srv : hc->addr_conf->default_server) != MG_OK) {
            return;
        }
    }

    if (hin->host == NULL && (r->http_major > 1 || (r->http_major == 1 && r->http_minor >= 1))) {
        /* nginx says "HTTP/1.1" for an h2 request without :authority nor host too */
        bad_request(r, MG_HTTP_BAD_REQUEST, "client sent HTTP/1.1 request without \"Host\" header");
        return;
    }
    if (hin->content_length) {
        hin->content_length_n = mg_atoi(hin->content_length->value.data, hin->content_length->value.len);
        if (hin->content_length_n < 0) {
            bad_request(r, MG_HTTP_BAD_REQUEST, "client sent invalid \"Content-Length\" header");
            return;
        }
    }
    if (hin->transfer_encoding) {
        if (r->http_major == 1 && r->http_minor == 0) {
            bad_request(r, MG_HTTP_BAD_REQUEST,
                        "client sent HTTP/1.0 request with \"Transfer-Encoding\" header");
            return;
        }
        if (!mg_str_caseeq(hin->transfer_encoding->value, "chunked")) {
            bad_request(r, MG_HTTP_NOT_IMPLEMENTED, "client sent unknown \"Transfer-Encoding\": \"%.*s\"",
                        (int)hin->transfer_encoding->value.len, hin->transfer_encoding->value.data);
            return;
        }
        if (hin->content_length) {
            bad_request(r, MG_HTTP_BAD_REQUEST,
                        "client sent \"Content-Length\" and \"Transfer-Encoding\" headers at the "
                        "same time");
            return;
        }
        hin->chunked = 1;
    }
    if (hc->stream && mg_http_v2_body_unsized(hc->stream)) {
        hin->chunked = 1; /* DATA frames without a content-length reach the reader chunked */
    }
    if (r->method == MG_HTTP_CONNECT) {
        /* a CONNECT with an origin-form target ("CONNECT /x", an h2 one with a :path): nginx
         * has no tunnel (an authority-form target is a bad request line already) */
        bad_request(r, MG_HTTP_NOT_ALLOWED, "client sent CONNECT method");
        return;
    }
    if (r->method == MG_HTTP_TRACE) {
        bad_request(r, MG_HTTP_NOT_ALLOWED, "client sent TRACE method");
        return;
    }
    if (hc->stream && hc->stream->in_eof && hin->content_length_n > 0) {
        /* the HEADERS ended the stream: the body said cannot come */
        bad_request(r, MG_HTTP_BAD_REQUEST, "client prematurely closed stream");
        return;
    }
    if (r->http_major == 1) {
        r->keepalive = r->http_minor >= 1 ? !hin->connection_close : hin->connection_keep_alive;
    }
    /* body bytes of this request: consumed by the body reader or dropped after it */
    hc->discard_rest = hin->content_length_n > 0 ? hin->content_length_n : 0;
    memset(&hc->discard_chunked, 0, sizeof(hc->discard_chunked));
    hc->discard_chunked_on = hin->chunked;
    if (hc->ssl && mg_http_ssl_check_request(r) != MG_OK) {
        return;
    }
    c->log.action = NULL; /* an h2 stream's head is read: its request's lines have none, as nginx */
    r->phase_handler = 0;
    r->valid_location = 1;
    mg_http_run_phases(r);
}
