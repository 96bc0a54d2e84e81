/*
 * libFuzzer target for the CGI-style response head the FastCGI, SCGI and uwsgi upstreams send
 * (mg_upstream_parse_cgi_head in core/http/upstream_head.c: header lines with an optional
 * "Status:" line, and for SCGI and uwsgi an optional HTTP status line first). The input's first
 * byte picks the header capacity (its low 6 bits) and whether a status line is allowed (bit 6,
 * FastCGI's parse or the others'); the rest is parsed. Beyond crashes it checks invariants: a
 * complete head's length is within the input, its spans lie inside the head, its status is
 * set, and every proper prefix of a complete head asks for more.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=cgi_head)
 *
 * fuzz-link: libmoongate -Wl,--wrap=mg_log_error
 */
#include <stdlib.h>

#include "conn.h"
#include "upstream_int.h"

/* the invalid-status message needs a whole request's log; what is tested is the answer */
void __wrap_mg_log_error(int level, mg_log_t *log, int err, const char *fmt, ...)
{
    (void)level;
    (void)log;
    (void)err;
    (void)fmt;
}

static mg_http_header_t hdrs[64];

static ssize_t parse(const uint8_t *data, size_t len, size_t cap, int status_line_ok,
                     mg_upstream_head_t *h)
{
    static mg_connection_t c;
    static mg_http_conn_t hc;
    static mg_request_t r;
    static mg_upstream_t u;
    r.connection = &c; /* the invalid-status line's log (the request's) is asked for */
    r.hc = &hc;
    u.r = &r;
    memset(h, 0, sizeof(*h));
    h->headers = hdrs;
    h->nheaders = cap;
    return mg_upstream_parse_cgi_head(&u, (const char *)data, len, h, status_line_ok);
}

static void inside(const char *base, size_t len, mg_span_t s)
{
    if (s.len && (s.data < base || s.data + s.len > base + len)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t cap = data[0] % 64;
    int status_line_ok = (data[0] >> 6) & 1;
    data++;
    size--;
    /* an exactly sized copy: reading past the end is caught */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    mg_upstream_head_t h;
    ssize_t rc = parse(copy, size, cap, status_line_ok, &h);
    if (rc > 0) {
        size_t n = (size_t)rc;
        if (n > size || h.nheaders > cap || h.status_line.len == 0) {
            abort();
        }
        /* "200 OK" and "302 Moved Temporarily" are the parser's own text */
        if (h.status != 200 && h.status != 302) {
            inside((const char *)copy, n, h.status_line);
        }
        for (size_t i = 0; i < h.nheaders; i++) {
            inside((const char *)copy, n, h.headers[i].name);
            inside((const char *)copy, n, h.headers[i].value);
        }
        for (size_t i = 0; i < n; i += 1 + i / 8) {
            mg_upstream_head_t p;
            if (parse(copy, i, cap, status_line_ok, &p) != MG_PARSE_AGAIN) {
                abort();
            }
        }
    }
    free(copy);
    return 0;
}
