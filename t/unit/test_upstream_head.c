/*
 * Unit tests for the upstream response-head parser (core/http/upstream_head.c,
 * mg_upstream_parse_response_head): status lines and their leniency, LF and CRLF, header
 * spans, every error code, the header capacity, and that every proper prefix of a complete
 * head asks for more. Linked with libmoongate.a (make unit).
 */
#include <stdlib.h>

#include "upstream_io.h"

#include "tap.h"

#define MAXH 8
static mg_http_header_t hdrs[MAXH];

/* Parse the first n bytes of s from an exactly sized heap copy (ASan catches overreads). */
static ssize_t parse_n(const char *s, size_t n, size_t cap, mg_upstream_head_t *h)
{
    static char *copy;
    free(copy);
    copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    memset(h, 0, sizeof(*h));
    h->headers = hdrs;
    h->nheaders = cap;
    return mg_upstream_parse_response_head(copy, n, h);
}

static ssize_t parse(const char *s, mg_upstream_head_t *h)
{
    return parse_n(s, strlen(s), MAXH, h);
}

/* Every proper prefix of the head (its first n bytes) asks for more. */
static int prefixes_again(const char *s, size_t n)
{
    mg_upstream_head_t h;
    for (size_t i = 0; i < n; i++) {
        ssize_t rc = parse_n(s, i, MAXH, &h);
        if (rc != MG_PARSE_AGAIN) {
            printf("# a prefix of %zu bytes gave %zd\n", i, rc);
            return 0;
        }
    }
    return 1;
}

int main(void)
{
    mg_upstream_head_t h;
    const char *full = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A:  spaced  \r\n\r\nabc";
    ssize_t rc = parse(full, &h);
    is_int(rc, (ssize_t)(strlen(full) - 3), "a complete head: its length, the body not included");
    is_int(h.status, 200, "status");
    is_int(h.http_major * 10 + h.http_minor, 11, "version");
    is_strn(h.status_line.data, h.status_line.len, "200 OK", "status line");
    is_int(h.nheaders, 2, "two headers");
    is_strn(h.headers[0].name.data, h.headers[0].name.len, "Content-Length", "name");
    is_strn(h.headers[1].value.data, h.headers[1].value.len, "spaced", "value trimmed");
    ok(prefixes_again(full, strlen(full) - 3), "every proper prefix is AGAIN");

    rc = parse("HTTP/1.0 404 Not Found\nServer: x\n\n", &h);
    is_int(rc, 34, "LF-only lines");
    is_int(h.status, 404, "status with LF");
    is_int(h.nheaders, 1, "one header with LF");

    rc = parse("HTTP/1.1 204\r\n\r\n", &h);
    is_int(h.status, 204, "no reason phrase");
    is_strn(h.status_line.data, h.status_line.len, "204", "status line without reason");

    is_int(parse("HTTP/1.1   302 Found\r\n\r\n", &h) > 0, 1, "several spaces before the code");
    is_int(parse("hello world\r\n\r\n", &h), MG_PARSE_INVALID_REQUEST, "no status line");
    is_int(parse("HTTP/1.1 20 OK\r\n\r\n", &h), MG_PARSE_INVALID_REQUEST, "two-digit code");
    is_int(parse("HTTP/1.1 2000 OK\r\n\r\n", &h), MG_PARSE_INVALID_REQUEST, "four-digit code");
    is_int(parse("HTTP/1.1 099 X\r\n\r\n", &h), MG_PARSE_INVALID_REQUEST, "code below 100");
    is_int(parse("HTTP/x.1 200 OK\r\n\r\n", &h), MG_PARSE_INVALID_REQUEST, "bad version");
    is_int(parse("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", &h), MG_PARSE_INVALID_HEADER,
           "a space in a header name");
    is_int(parse("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", &h), MG_PARSE_INVALID_HEADER,
           "a header line without a colon");
    is_int(h.error_at, 17, "error_at is the bad line's offset");
    is_int(parse("HTTP/1.1 200 OK\r\n: empty\r\n\r\n", &h), MG_PARSE_INVALID_HEADER,
           "an empty header name");
    is_int(parse_n("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n", 27, MAXH, &h), MG_PARSE_INVALID_HEADER,
           "a NUL in a value");
    is_int(parse("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", &h), MG_PARSE_INVALID_HEADER,
           "a CR inside a value");
    is_int(parse("HTTP/1.1 200 OK\r\nA: bc\r\r\n\r\n", &h), MG_PARSE_INVALID_HEADER,
           "two CRs before the LF");
    /* every byte a name may hold (nginx's upstream parser: all but controls, space and DEL,
     * so '@' and bytes >= 0x80 too), then each one it may not */
    is_int(parse("HTTP/1.1 200 OK\r\nazAZ09!#$%&'*+-.^_`|~@\x80\xff: x\r\n\r\n", &h) > 0, 1,
           "every byte but a control, space or DEL in a name");
    is_strn(h.headers[0].name.data, h.headers[0].name.len, "azAZ09!#$%&'*+-.^_`|~@\x80\xff",
            "the name whole");
    int all_refused = 1, others_taken = 1;
    for (unsigned ch = 1; ch < 256; ch++) {
        char line[64];
        snprintf(line, sizeof(line), "HTTP/1.1 200 OK\r\nA%cB: x\r\n\r\n", (char)ch);
        if (ch == ':' || ch == '\n') {
            continue;
        }
        int refused = parse(line, &h) == MG_PARSE_INVALID_HEADER;
        if (ch <= 0x20 || ch == 0x7f) {
            if (!refused) {
                printf("# byte 0x%02x taken in a name\n", ch);
                all_refused = 0;
            }
        } else if (refused) {
            printf("# byte 0x%02x refused in a name\n", ch);
            others_taken = 0;
        }
    }
    ok(all_refused, "every control byte, space and DEL in a name is refused");
    ok(others_taken, "every other byte in a name is taken");
    /* an "HTTP/..." line among the header lines is dropped, as nginx's */
    is_int(parse("HTTP/1.1 200 OK\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\n", &h) > 0, 1,
           "a repeated status line");
    is_int((int)h.nheaders, 1, "... dropped");
    /* only spaces around a value are cut (a tab is the value's, as nginx's) */
    is_int(parse("HTTP/1.1 200 OK\r\nA:  \t b\t \r\n\r\n", &h) > 0, 1, "tabs in a value");
    is_strn(h.headers[0].value.data, h.headers[0].value.len, "\t b\t", "... kept");
    is_int(parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &h), 37, "three headers fit");
    is_int(parse_n("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 37, 2, &h),
           MG_PARSE_TOO_MANY_HEADERS, "but not into two slots");
    is_int(parse("H", &h), MG_PARSE_AGAIN, "one byte of a status line");
    is_int(parse("X", &h), MG_PARSE_INVALID_REQUEST, "one byte that cannot start one");
    is_int(parse("HTTP/1.1 200 OK\r\nA: 1\r\n", &h), MG_PARSE_AGAIN, "no blank line yet");
    /* the word scans' edges: a name and a value of every length to 40, a NUL or a CR at each
     * place of the value (the first byte refused, the line's start quoted), the head whole or
     * cut before its blank line */
    int bad = 0;
    for (size_t nl = 1; nl <= 40; nl++) {
        for (size_t vl = 0; vl <= 40; vl++) {
            char head[160];
            size_t at = 17;
            memcpy(head, "HTTP/1.1 200 OK\r\n", at);
            memset(head + at, 'n', nl);
            head[at + nl] = ':';
            memset(head + at + nl + 1, 'v', vl);
            size_t le = at + nl + 1 + vl;
            memcpy(head + le, "\r\n\r\n", 4);
            ssize_t rc = parse_n(head, le + 4, MAXH, &h);
            bad += rc != (ssize_t)(le + 4) || h.nheaders != 1 || h.headers[0].name.len != nl ||
                   h.headers[0].value.len != vl;
            bad += parse_n(head, le + 2, MAXH, &h) != MG_PARSE_AGAIN;
            for (size_t i = 0; i < vl; i++) {
                for (int k = 0; k < 2; k++) {
                    char c[160];
                    memcpy(c, head, le + 4);
                    c[at + nl + 1 + i] = k ? '\r' : '\0';
                    rc = parse_n(c, le + 4, MAXH, &h);
                    bad += rc != MG_PARSE_INVALID_HEADER || h.error_at != at ||
                           h.error_byte != at + nl + 1 + i;
                }
            }
        }
    }
    is_int(bad, 0, "names and values of 1..40 bytes, a NUL or CR at each place of a value");
    return done_testing();
}
