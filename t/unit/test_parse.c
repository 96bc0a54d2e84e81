/*
 * Unit tests for core/http/parse.c: request head parsing (valid forms, every error code, the
 * progress fields used for 414/400 limits), URI normalization, unescaping and chunked decoding.
 * Build: cc -std=gnu11 -Wall -Wextra -O1 -g -fsanitize=address,undefined \
 *           -o /tmp/test_parse t/unit/test_parse.c && /tmp/test_parse
 */
#include "../../core/http/parse.c"

#include <stdlib.h>

#include "tap.h"

#define is_span(s, want, ...) is_strn((s).data, (s).len, (want), __VA_ARGS__)

#define MAXH 16
static mg_http_header_t hdrs[MAXH];

/* Parse a NUL-terminated request (or the first n bytes when n != 0), copied into an exactly
 * sized heap block so ASan catches any read past the end. */
static ssize_t parse_n(const char *req, size_t n, size_t cap, mg_http_request_head_t *h)
{
    static char *copy;
    free(copy);
    copy = malloc(n ? n : 1);
    memcpy(copy, req, n);
    mg_http_parse_init(h, hdrs, cap);
    return mg_http_parse_request_head(copy, n, h);
}

static ssize_t parse(const char *req, mg_http_request_head_t *h)
{
    return parse_n(req, strlen(req), MAXH, h);
}

/* Feed every proper prefix; all must say AGAIN and the full input must give `want`. */
static int bytewise(const char *req, size_t n, ssize_t want)
{
    mg_http_request_head_t h;
    for (size_t i = 0; i < n; i++) {
        if (parse_n(req, i, MAXH, &h) != MG_PARSE_AGAIN)
            return 0;
    }
    return parse_n(req, n, MAXH, &h) == want;
}

static void test_valid(void)
{
    mg_http_request_head_t h;
    const char *req = "GET /index.html?a=1&b=%20 HTTP/1.1\r\n"
                      "Host: example.com\r\n"
                      "X-Trailing: value \t \r\n"
                      "Empty:\r\n"
                      "Accept:   */*\r\n"
                      "\r\n";
    is_int(parse(req, &h), (long long)strlen(req), "GET: consumes the whole head");
    is_span(h.method, "GET", "GET: method");
    is_int(h.method_id, MG_HTTP_GET, "GET: method id");
    is_span(h.request_line, "GET /index.html?a=1&b=%20 HTTP/1.1", "GET: request line");
    is_span(h.target, "/index.html?a=1&b=%20", "GET: target");
    is_span(h.path, "/index.html", "GET: path");
    is_span(h.args, "a=1&b=%20", "GET: args");
    is_int(h.schema.len + h.host.len, 0, "GET: no schema/host");
    is_int(h.http_major * 1000 + h.http_minor, 1001, "GET: HTTP/1.1");
    is_int(h.complex_uri, 0, "GET: simple uri");
    is_int(h.request_line_done, 1, "GET: request line done");
    is_int((long long)h.nheaders, 4, "GET: 4 headers");
    is_span(h.headers[0].name, "Host", "header 0 name");
    is_span(h.headers[0].value, "example.com", "header 0 value");
    is_span(h.headers[1].value, "value \t", "trailing spaces stripped, a tab kept (nginx)");
    is_span(h.headers[2].name, "Empty", "empty header name");
    is_span(h.headers[2].value, "", "empty header value");
    is_span(h.headers[3].value, "*/*", "leading whitespace stripped");

    is_int(parse("HEAD / HTTP/1.0\r\n\r\n", &h), 19, "HEAD HTTP/1.0");
    is_int(h.method_id, MG_HTTP_HEAD, "HEAD id");
    is_int(h.http_minor, 0, "HTTP/1.0 minor");
    ok(h.args.data == NULL, "no '?': args data NULL");

    parse("POST /form HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", &h);
    is_int(h.method_id, MG_HTTP_POST, "POST id");
    is_int(parse("PROPPATCH / HTTP/1.1\r\n\r\n", &h), 24, "PROPPATCH");
    is_int(h.method_id, MG_HTTP_PROPPATCH, "PROPPATCH id");
    is_int(parse("MY_VERB-X / HTTP/1.1\r\n\r\n", &h), 24, "unknown method accepted");
    is_int(h.method_id, MG_HTTP_UNKNOWN, "unknown method id");

    parse("GET /a? HTTP/1.1\r\n\r\n", &h);
    ok(h.args.data != NULL && h.args.len == 0, "'?' with nothing after: empty, non-NULL args");

    req = "GET http://example.com:8080/x/y?q=1 HTTP/1.1\r\nHost: other\r\n\r\n";
    is_int(parse(req, &h), (long long)strlen(req), "absolute-form target");
    is_span(h.schema, "http", "absolute: schema");
    is_span(h.host, "example.com:8080", "absolute: host");
    is_span(h.path, "/x/y", "absolute: path");
    is_span(h.args, "q=1", "absolute: args");
    is_span(h.target, "http://example.com:8080/x/y?q=1", "absolute: target as sent");
    parse("GET http://[::1]:80 HTTP/1.1\r\n\r\n", &h);
    is_span(h.host, "[::1]:80", "absolute: IPv6 host");
    is_span(h.path, "/", "absolute without path: path is /");
    ok(h.no_path, "absolute without path: marked");
    parse("GET HTTPS://h?x=1 HTTP/1.1\r\n\r\n", &h);
    is_span(h.path, "/", "absolute with only args: path is /");
    is_span(h.args, "x=1", "absolute with only args: args");
    req = "GET http:///x HTTP/1.1\r\n\r\n";
    is_int(parse(req, &h), (long long)strlen(req), "absolute with an empty host: parsed");
    ok(h.host.data != NULL && h.host.len == 0 && !h.no_path,
       "empty host (refused later as an invalid host, as nginx)");
    parse("GET http://[a_b~!$&'()*+,;=.-:1]:8/ HTTP/1.1\r\n\r\n", &h);
    is_span(h.host, "[a_b~!$&'()*+,;=.-:1]:8", "absolute: IP literal's bytes and a port");

    req = "GET /index.html\r\n";
    is_int(parse(req, &h), (long long)strlen(req), "HTTP/0.9 request");
    is_int(h.http_major * 1000 + h.http_minor, 9, "HTTP/0.9 version");
    is_int(h.request_line_done, 1, "HTTP/0.9 request line done");
    is_int((long long)h.nheaders, 0, "HTTP/0.9 has no headers");
    is_int(parse("GET /x   \n", &h), 10, "HTTP/0.9 with trailing spaces and LF");
    is_span(h.request_line, "GET /x", "HTTP/0.9 request line");

    req = "GET    /x    HTTP/1.1   \r\nA: b\r\n\r\n";
    is_int(parse(req, &h), (long long)strlen(req), "multiple spaces tolerated");
    /* the blanks after the version stay in $request, as nginx 1.22's */
    is_span(h.request_line, "GET    /x    HTTP/1.1   ", "request line keeps inner spaces");
    is_span(h.path, "/x", "path between multiple spaces");

    req = "GET / HTTP/1.1\nHost: a\nX: y\n\n";
    is_int(parse(req, &h), (long long)strlen(req), "bare LF line ends");
    is_span(h.headers[1].value, "y", "bare LF: value");

    req = "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n";
    is_int(parse(req, &h), (long long)strlen(req), "leading empty lines skipped");
    is_span(h.method, "GET", "leading empty lines: method");

    /* as nginx: a major version starts with 1-9, a minor one may have leading zeros */
    is_int(parse("GET / HTTP/001.01\r\n\r\n", &h) < 0, 1, "leading zeros in the major version");
    is_int(parse("GET / HTTP/1.01\r\n\r\n", &h), 19, "leading zeros in the minor version");
    is_int(h.http_major * 1000 + h.http_minor, 1001, "leading zeros: 1.1");

    parse("GET / HTTP/1.1\r\nX!#$%&'*+.^_`|~9: v\r\n\r\n", &h);
    is_span(h.headers[0].name, "X!#$%&'*+.^_`|~9", "all tchars in a header name");

    const char *pipe = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: y\r\n\r\n";
    ssize_t first = parse(pipe, &h);
    is_int(first, 28, "pipelined: stops at the first blank line");
    is_int(parse(pipe + first, &h), 28, "pipelined: second head");
    is_span(h.path, "/b", "pipelined: second path");
    is_span(h.headers[0].value, "y", "pipelined: second header");

    /* nginx takes a bare name as a header with an empty value */
    req = "GET / HTTP/1.1\r\nNoColon\r\nLF\nA: b\r\n\r\n";
    is_int(parse(req, &h), (long long)strlen(req), "name-only lines accepted");
    is_int((long long)h.nheaders, 3, "name-only lines: three headers");
    is_span(h.headers[0].name, "NoColon", "name-only line: name");
    is_int((long long)h.headers[0].value.len, 0, "name-only line: empty value");
    is_span(h.headers[1].name, "LF", "name-only line with bare LF: name");
    ok(bytewise(req, strlen(req), (ssize_t)strlen(req)), "byte at a time: name-only lines");

    req = "GET /p?q HTTP/1.1\r\nHost: a\r\nCookie: c=1\r\n\r\n";
    ok(bytewise(req, strlen(req), (ssize_t)strlen(req)), "byte at a time: AGAIN until complete");
    req = "\r\nGET http://h:1/x HTTP/1.0\nA:\n\n";
    ok(bytewise(req, strlen(req), (ssize_t)strlen(req)), "byte at a time: absolute, LF");
    req = "GET /09\r\n";
    ok(bytewise(req, strlen(req), (ssize_t)strlen(req)), "byte at a time: HTTP/0.9");
}

static void test_errors(void)
{
    mg_http_request_head_t h;
    static const struct {
        const char *req;
        int rc;
    } cases[] = {
        {"get / HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_METHOD},
        {"G@T / HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_METHOD},
        {" GET / HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_METHOD},
        {"GET\r\n\r\n", MG_PARSE_INVALID_METHOD},
        {"GET\t/ HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_METHOD},
        {"POST /x\r\n", MG_PARSE_INVALID_METHOD},
        {"GET x HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET /a\x01z HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET /a\x7f HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET /a\tb HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET /?a\x1b HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / http/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/1.x\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/1.\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/0.9\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/1.1000\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET /a b HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/1.1 x\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/1.1\rX\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET * HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET http:/x HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET http://h_x/ HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET http://h:x/ HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET http://[::1/ HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET http://[::1]x/ HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET http://h\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET http://u@h/ HTTP/1.1\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/2.0\r\n\r\n", MG_PARSE_INVALID_VERSION},
        {"GET / HTTP/10.1\r\n\r\n", MG_PARSE_INVALID_VERSION},
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\nNo Colon\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\n: novalue\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\nA\x01b: c\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\nA\x7f: c\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\nA\tb: c\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\n\tA: b\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\n:x: c\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\nA\rb: c\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\nA: b\r\rc\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\nA: b\r\n\r\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\r\n\r\n", MG_PARSE_INVALID_REQUEST},
        {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", MG_PARSE_INVALID_HEADER},
        {"GET / HTTP/1.1\r\nA: b\r\n\rx", MG_PARSE_INVALID_HEADER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[80];
        snprintf(name, sizeof(name), "%.40s", cases[i].req);
        for (char *c = name; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '.';
        is_int(parse(cases[i].req, &h), cases[i].rc, "error %d: %s", cases[i].rc, name);
    }

    static const char nul_value[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
    is_int(parse_n(nul_value, sizeof(nul_value) - 1, MAXH, &h), MG_PARSE_INVALID_HEADER,
           "NUL in header value");
    is_int((long long)h.error_at, 20, "error_at points at the NUL");
    static const char nul_name[] = "GET / HTTP/1.1\r\nA\0: b\r\n\r\n";
    is_int(parse_n(nul_name, sizeof(nul_name) - 1, MAXH, &h), MG_PARSE_INVALID_HEADER,
           "NUL in header name");
    static const char nul_uri[] = "GET /a\0 HTTP/1.1\r\n\r\n";
    is_int(parse_n(nul_uri, sizeof(nul_uri) - 1, MAXH, &h), MG_PARSE_INVALID_REQUEST,
           "NUL in target");

    is_int(parse("GET / HTTP/2.0\r\n\r\n", &h), MG_PARSE_INVALID_VERSION, "HTTP/2.0");
    is_int(h.http_major, 2, "HTTP/2.0: http_major reported");
    is_int(parse("GET / HTTP/2", &h), MG_PARSE_INVALID_VERSION, "HTTP/2 refused before line end");

    const char *three = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    is_int(parse_n(three, strlen(three), 2, &h), MG_PARSE_TOO_MANY_HEADERS, "too many headers");
    is_int((long long)h.nheaders, 2, "too many headers: the first two kept");
    h.max_headers = 3; /* hdrs has room: the caller grows the array and goes on */
    is_int(mg_http_parse_request_head(three, strlen(three), &h), (long long)strlen(three),
           "too many headers: goes on once the array is larger");
    is_span(h.headers[2].name, "C", "too many headers: the third after growing");
    is_int(parse_n(three, strlen(three), 3, &h), (long long)strlen(three), "exactly enough");
    is_int(parse_n(three, strlen(three), 0, &h), MG_PARSE_TOO_MANY_HEADERS, "capacity 0");
    is_int(parse_n("", 0, MAXH, &h), MG_PARSE_AGAIN, "empty input: AGAIN");
}

static void test_progress(void)
{
    mg_http_request_head_t h;

    is_int(parse("GET /very/long/uri/still/goi", &h), MG_PARSE_AGAIN, "partial request line");
    is_int(h.request_line_done, 0, "partial request line: not done");
    is_int((long long)h.line_start, 0, "partial request line: line_start 0");
    parse("\r\n\r\nGET /x HTTP/1.", &h);
    is_int((long long)h.line_start, 4, "line_start after skipped empty lines");
    is_int(parse("\r\n\r\n", &h), MG_PARSE_AGAIN, "only empty lines: AGAIN");
    is_int((long long)h.line_start, 4, "only empty lines: line_start at end");

    is_int(parse("GET / HTTP/1.1\r", &h), MG_PARSE_AGAIN, "request line CR without LF");
    is_int(h.request_line_done, 0, "CR alone does not finish the request line");
    is_int(parse("GET / HTTP/1.1\r\nHost: exa", &h), MG_PARSE_AGAIN, "partial header");
    is_int(h.request_line_done, 1, "partial header: request line done");
    is_int((long long)h.line_start, 16, "partial header: line_start at header");
    parse("GET / HTTP/1.1\r\nHost: a\r\nCookie: aaaa", &h);
    is_int((long long)h.line_start, 25, "line_start follows to the second header");
    is_int((long long)h.nheaders, 1, "headers counted so far");
    parse("GET / HTTP/1.1\r\nHost: a\r\n\r", &h);
    is_int((long long)h.line_start, 25, "final CR alone: still AGAIN at the blank line");
    is_int(parse("GET / HTTP/1.1\r\nA: b\r\nbad header\r\n", &h), MG_PARSE_INVALID_HEADER,
           "bad header line");
    is_int((long long)h.error_at, 25, "error_at at the space in the name");
}

/* What nginx (1.22) does with odd bytes in header lines, checked against it. */
static void test_nginx_lines(void)
{
    mg_http_request_head_t h;
    const char *req = "GET / HTTP/1.1\r\nTransfer-Encoding:\tchunked\t\r\nX:  \t a b \t  \r\n\r\n";
    is_int(parse(req, &h), (long long)strlen(req), "tabs around values");
    is_span(h.headers[0].value, "\tchunked\t", "tabs are part of the value");
    is_span(h.headers[1].value, "\t a b \t", "only spaces are stripped");

    req = "GET / HTTP/1.1\r\nA(b): 1\r\nX\xc3\xa9: 2\r\nA_b{}\"/@=: 3\r\n\r\n";
    is_int(parse(req, &h), (long long)strlen(req),
           "odd name bytes parsed (ignore_invalid_headers decides)");
    is_span(h.headers[0].name, "A(b)", "name with (");
    is_span(h.headers[1].name, "X\xc3\xa9", "name with bytes >= 0x80");
    is_span(h.headers[2].value, "3", "name with separators: value");

    req = "GET / HTTP/1.1\r\nX: 1 \r\r\r\nY\r\r\nZ:\r\r\n\r\n";
    is_int(parse(req, &h), (long long)strlen(req), "several CRs before a header line's LF");
    is_span(h.headers[0].value, "1", "CRs: value");
    is_int((long long)h.nheaders, 3, "CRs: three headers");

    /* an empty value points at the line's end, so name..value end is the line nginx quotes */
    req = "GET / HTTP/1.1\r\nA(b):   \r\nC\r\n\r\n";
    parse(req, &h);
    is_int(h.headers[0].value.data - h.headers[0].name.data, 8, "empty value: at the line's end");
    is_int(h.headers[1].value.data - h.headers[1].name.data, 1, "bare name: value at the CR");

    /* where nginx puts the bad byte of "client sent invalid header line" */
    static const struct {
        const char *req;
        size_t at; /* from the header line's start */
    } where[] = {
        {"X: 1  \r\rY\r\n", 4}, /* after the value: the first trailing space */
        {"X:   \r\rY\r\n", 5},  /* no value: the CR */
        {"X: a\rb\r\n", 4},     {"X\r\rY\r\n", 1}, {"X: a\tb\t\r\rY\r\n", 7},
        {"\r\rY", 0}, /* the blank line's CR */
        {"A b: c\r\n", 1},      {": c\r\n", 0},    {" folded\r\n", 0},
    };
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n%s", where[i].req);
        is_int(parse_n(buf, (size_t)n, MAXH, &h), MG_PARSE_INVALID_HEADER, "invalid line %zu", i);
        is_int((long long)h.error_at, 16 + (long long)where[i].at, "invalid line %zu: error_at", i);
    }
    static const char nul_after[] = "GET / HTTP/1.1\r\nX: 1  \0\r\n\r\n";
    parse_n(nul_after, sizeof(nul_after) - 1, MAXH, &h);
    is_int((long long)h.error_at, 22, "NUL after spaces: at the NUL");
}

/* Parse req[0..n) fed as the pieces cuts[] say (increasing lengths, the last one n), each call
 * on a new exact-size copy after a rebase, as when the connection's buffer moves or grows;
 * the header array starts small and grows on MG_PARSE_TOO_MANY_HEADERS as the connection's.
 * The result is checked against the whole-head parse; 1 when everything matched. */
static int split_same(const char *req, size_t n, const size_t *cuts, size_t ncuts)
{
    static mg_http_header_t wh[MAXH * 4], sh[MAXH * 4];
    mg_http_request_head_t w, s;
    char *whole = malloc(n ? n : 1), *cur = NULL;
    memcpy(whole, req, n);
    mg_http_parse_init(&w, wh, sizeof(wh) / sizeof(wh[0]));
    ssize_t wrc = mg_http_parse_request_head(whole, n, &w), src = MG_PARSE_AGAIN;

    mg_http_parse_init(&s, sh, 1);
    for (size_t i = 0; i < ncuts; i++) {
        char *nb = malloc(cuts[i] ? cuts[i] : 1);
        memcpy(nb, req, cuts[i]);
        if (cur)
            mg_http_parse_rebase(&s, cur, nb);
        free(cur);
        cur = nb;
        while ((src = mg_http_parse_request_head(cur, cuts[i], &s)) == MG_PARSE_TOO_MANY_HEADERS)
            s.max_headers++;
        if (src != MG_PARSE_AGAIN)
            break;
    }
    int same = wrc == src && w.request_line_done == s.request_line_done &&
               w.line_start == s.line_start && w.nheaders == s.nheaders;
#define SAME_SPAN(a, b)                                                                            \
    ((a).len == (b).len && ((a).data == NULL) == ((b).data == NULL) &&                             \
     ((a).data == NULL || (a).data - whole == (b).data - cur))
    for (size_t i = 0; same && i < w.nheaders; i++)
        same = SAME_SPAN(w.headers[i].name, s.headers[i].name) &&
               SAME_SPAN(w.headers[i].value, s.headers[i].value);
    if (same && wrc < 0 && wrc != MG_PARSE_AGAIN)
        same = w.error_at == s.error_at;
    if (same && wrc >= 0)
        same = SAME_SPAN(w.request_line, s.request_line) && SAME_SPAN(w.method, s.method) &&
               SAME_SPAN(w.target, s.target) && SAME_SPAN(w.schema, s.schema) &&
               SAME_SPAN(w.host, s.host) && SAME_SPAN(w.path, s.path) &&
               SAME_SPAN(w.args, s.args) && w.method_id == s.method_id &&
               w.http_major == s.http_major && w.http_minor == s.http_minor &&
               w.complex_uri == s.complex_uri;
#undef SAME_SPAN
    free(whole);
    free(cur);
    return same;
}

static void test_splits(void)
{
    static const char *heads[] = {
        /* one head in two pieces of literal (parenthesized: clang warns otherwise) */
        ("GET /index.html?a=1&b=%20 HTTP/1.1\r\nHost: example.com\r\nX-Trailing: value \t \r\n"
         "Empty:\r\nAccept:   */*\r\n\r\n"),
        "\r\n\nGET http://[::1]:8080/a/../b//c?x#y HTTP/1.0\nA:\nB\r\n\r\nbody",
        "GET HTTPS://h?x=1 HTTP/1.1\r\nA(b): 1\r\nX: 1 \r\r\r\nY\r\r\nZ:\r\r\n\r\n",
        "GET /09/./x\r\n",
        "POST /x HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n",
        "GET / HTTP/1.1\r\nX: 1  \r\rY\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n\r\rx",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.1000\r\n\r\n",
        "G@T / HTTP/1.1\r\n\r\n",
        "GET http://u@h/ HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nA b: c\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
        "GET /very/long/uri/still/goi",
        "GET / HTTP/1.1\r\nHost: a\r\nCookie: aaaa",
    };
    int all = 1;
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        size_t n = strlen(heads[i]);
        int every = 1;
        /* every split point, then every pair of them */
        for (size_t k = 0; k <= n; k++) {
            size_t cuts[] = {k, n};
            every &= split_same(heads[i], n, cuts, 2);
            for (size_t j = k; j <= n && n < 80; j++) {
                size_t cuts3[] = {k, j, n};
                every &= split_same(heads[i], n, cuts3, 3);
            }
        }
        all &= ok(every, "split %zu at every point: same result as whole", i);
    }
    /* random multi-splits, from a fixed seed so a failure reproduces */
    unsigned x = 12345;
    int rnd = 1;
    for (int round = 0; round < 2000; round++) {
        const char *req = heads[round % (sizeof(heads) / sizeof(heads[0]))];
        size_t n = strlen(req), cuts[64], ncuts = 0, at = 0;
        while (at < n && ncuts < 63) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            at += x % 7;
            cuts[ncuts++] = at < n ? at : n;
        }
        cuts[ncuts++] = n;
        rnd &= split_same(req, n, cuts, ncuts);
    }
    ok(rnd, "2000 random multi-splits: same results as whole");
    (void)all;
}

static void test_complex(void)
{
    static const struct {
        const char *path;
        int complex;
    } cases[] = {
        {"/a/b.html", 0}, {"/a%20b", 1}, {"/a//b", 1}, {"//", 1},          {"/a/./b", 1},
        {"/a/../b", 1},   {"/a/.", 1},   {"/a/..", 1}, {"/.", 1},          {"/a/.b", 0},
        {"/a/..b", 0},    {"/a../b", 0}, {"/.../", 0}, {"/a?x=//&y=%", 0}, {"/", 0},
        {"/a/", 0},       {"/..?x", 1},
    };
    mg_http_request_head_t h;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char req[128];
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", cases[i].path);
        parse(req, &h);
        is_int(h.complex_uri, cases[i].complex, "complex_uri of %s", cases[i].path);
    }
    parse("GET http://h/a//b HTTP/1.1\r\n\r\n", &h);
    is_int(h.complex_uri, 1, "complex_uri in absolute-form path");
}

static void test_normalize(void)
{
    static const struct {
        const char *in;
        int merge;
        const char *out; /* NULL: MG_PARSE_INVALID_REQUEST */
    } cases[] = {
        {"/a/b", 1, "/a/b"},
        {"/a%20b", 1, "/a b"},
        {"/%41%4a%4A", 1, "/AJJ"},
        {"/a//b///c", 1, "/a/b/c"},
        {"/a//b", 0, "/a//b"},
        {"/a/./b/.", 1, "/a/b/"},
        {"/./", 1, "/"},
        {"/.", 1, "/"},
        {"/a/../b", 1, "/b"},
        {"/a/b/..", 1, "/a/"},
        {"/a/b/../../c/", 1, "/c/"},
        {"/a/..", 1, "/"},
        {"/..", 1, NULL},
        {"/../a", 1, NULL},
        {"/a/../../b", 1, NULL},
        {"/%2e%2e/etc/passwd", 1, NULL},
        {"/a/%2E%2e/%2e/b", 1, "/b"},
        {"/a%2Fb", 1, "/a/b"},
        {"/a%2f..%2fb", 1, "/b"},
        {"/a%2F%2Fb", 1, "/a/b"},
        {"/a%00b", 1, NULL},
        {"/a%zzb", 1, NULL},
        {"/a%4", 1, NULL},
        {"/a%", 1, NULL},
        {"/a/.b/..c/...", 1, "/a/.b/..c/..."},
        {"/a//../b", 0, "/a/b"},
        {"/a//../b", 1, "/b"},
        {"//..", 0, "/"},
        {"/a%3Fb", 1, "/a?b"},
        {"/%E4%B8%AD", 1, "/\xe4\xb8\xad"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].in);
        char *in = malloc(n), *out = malloc(n);
        memcpy(in, cases[i].in, n);
        ssize_t rc = mg_http_normalize_uri(in, n, out, cases[i].merge);
        if (cases[i].out == NULL)
            is_int(rc, MG_PARSE_INVALID_REQUEST, "normalize %s: invalid", cases[i].in);
        else
            is_strn(out, rc < 0 ? 0 : (size_t)rc, cases[i].out, "normalize %s%s", cases[i].in,
                    cases[i].merge ? "" : " (no merge)");
        free(in);
        free(out);
    }
    char buf[] = "/x/%2e/y/../z";
    ssize_t rc = mg_http_normalize_uri(buf, strlen(buf), buf, 1);
    is_strn(buf, rc < 0 ? 0 : (size_t)rc, "/x/z", "normalize in place");
}

static void test_unescape(void)
{
    char out[64];
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a%20b", "a b"}, {"%41%62%7e", "Ab~"}, {"a+b", "a+b"}, {"%zz%4", "%zz%4"},
        {"100%", "100%"}, {"%%41", "%A"},       {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = mg_http_unescape(cases[i].in, strlen(cases[i].in), out, MG_UNESCAPE_KEEP_BAD);
        is_strn(out, n, cases[i].out, "unescape '%s'", cases[i].in);
    }
    char inplace[] = "x%3Dy%26z";
    size_t n = mg_http_unescape(inplace, strlen(inplace), inplace, MG_UNESCAPE_KEEP_BAD);
    is_strn(inplace, n, "x=y&z", "unescape in place");
    n = mg_http_unescape("a%00b", 5, out, MG_UNESCAPE_KEEP_BAD);
    ok(n == 3 && out[1] == '\0', "unescape keeps a decoded NUL (length-delimited)");
}

static void test_escape_args(void)
{
    char out[128];
    const char *in = "a b\"#%&+;<>?\\^`{|}=/:@!$'()*,~\x01\x7f\xc3\xa9";
    size_t n = mg_http_escape(in, strlen(in), out, MG_ESCAPE_ARGS);
    is_strn(out, n, "a%20b%22%23%25%26%2B%3B%3C%3E%3F%5C%5E%60%7B%7C%7D=/:@!$'()*,~%01%7F%C3%A9",
            "escape_args escapes as nginx's query arguments");
    is_int((long)mg_http_escape(in, strlen(in), NULL, MG_ESCAPE_ARGS), (long)n,
           "escape_args counts");
    n = mg_http_escape(in, strlen(in), out, MG_ESCAPE_URI);
    is_strn(out, n, "a%20b%22%23%25&+;%3C%3E%3F%5C%5E%60%7B%7C%7D=/:@!$'()*,~%01%7F%C3%A9",
            "escape_uri escapes as nginx's URIs");
}

/* A '#' ends the path, and the arguments: what follows is in the target only */
static void test_fragment(void)
{
    mg_http_request_head_t h;
    parse("GET /a/..#b?c=1 HTTP/1.1\r\n\r\n", &h);
    is_span(h.path, "/a/..", "fragment: the path ends at '#'");
    ok(h.args.data == NULL, "fragment: a '?' after '#' starts no arguments");
    is_span(h.target, "/a/..#b?c=1", "fragment: the target keeps it");
    is_int(h.complex_uri, 1, "fragment: \"..\" before '#' is a dot segment");
    parse("GET /x?y=1#z%zz HTTP/1.1\r\n\r\n", &h);
    is_span(h.args, "y=1", "fragment: the arguments end at '#'");
    is_span(h.target, "/x?y=1#z%zz", "fragment after arguments: in the target");
}

/* Decode `in` feeding it in pieces of `step` bytes (0: all at once). Returns the last return
 * code, appends data to out/outlen, and stores where the decoder stopped in *end. */
static int dechunk(const char *in, size_t len, size_t step, uint64_t max_chunk, char *out,
                   size_t *outlen, size_t *end)
{
    mg_http_chunked_t ctx = {.max_chunk = max_chunk};
    size_t avail = step ? 0 : len, pos = 0;
    int rc = MG_PARSE_AGAIN;
    *outlen = 0;
    for (;;) {
        const char *d;
        size_t dl;
        rc = mg_http_parse_chunked(&ctx, in, avail, &pos, &d, &dl);
        if (rc == 0 && dl > 0) {
            if (d < in + pos - dl || d + dl > in + avail)
                return -100;
            memcpy(out + *outlen, d, dl);
            *outlen += dl;
            continue;
        }
        if (rc != MG_PARSE_AGAIN || avail == len)
            break;
        avail = avail + step > len ? len : avail + step;
    }
    if (rc == 0 && !ctx.done)
        return -101;
    *end = pos;
    return rc;
}

static void test_chunked(void)
{
    char out[256];
    size_t n, end;
    const char *body = "5\r\nhello\r\n6;name=val;x\r\n world\r\nA\r\n0123456789\r\n"
                       "0\r\nExpires: never\r\nX: y\r\n\r\nNEXT";
    size_t blen = strlen(body);
    is_int(dechunk(body, blen, 0, 0, out, &n, &end), 0, "chunked: all at once");
    is_strn(out, n, "hello world0123456789", "chunked: data");
    is_int((long long)end, (long long)blen - 4, "chunked: stops after the final CRLF");
    int all_ok = 1;
    for (size_t step = 1; step < blen; step++) {
        if (dechunk(body, blen, step, 0, out, &n, &end) != 0 || n != 21 ||
            memcmp(out, "hello world0123456789", 21) != 0 || end != blen - 4)
            all_ok = 0;
    }
    ok(all_ok, "chunked: every feed size from 1 byte gives the same result");

    const char *lf = "3\nabc\nb; ext\nhello world\n0\n\n";
    is_int(dechunk(lf, strlen(lf), 1, 0, out, &n, &end), 0, "chunked: bare LF, 1 byte at a time");
    is_strn(out, n, "abchello world", "chunked: bare LF data");
    const char *hex = "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n1A\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
                      "000\r\n\r\n";
    is_int(dechunk(hex, strlen(hex), 0, 0, out, &n, &end), 0, "chunked: hex either case");
    is_int((long long)n, 52, "chunked: 26+26 bytes");
    is_int(dechunk("0\r\n\r\n", 5, 0, 0, out, &n, &end), 0, "chunked: empty body");
    is_int((long long)n, 0, "chunked: empty body has no data");
    is_int(dechunk("5\r\nhel", 6, 0, 0, out, &n, &end), MG_PARSE_AGAIN, "chunked: incomplete");
    is_strn(out, n, "hel", "chunked: partial data handed out");

    static const struct {
        const char *in;
        size_t len; /* 0: strlen */
        const char *name;
    } bad[] = {
        {"zz\r\n", 0, "non-hex size"},
        {"\r\n", 0, "empty size"},
        {";x\r\n", 0, "extension without size"},
        {"5\r\nhelloX\r\n0\r\n\r\n", 0, "no CRLF after data"},
        {"5\r\nhello\rX", 0, "CR without LF after data"},
        {"5\rX", 0, "CR without LF after size"},
        {"5x\r\n", 0, "junk after size"},
        {"-5\r\n", 0, "negative size"},
        {"fffffffffffffffff\r\n", 0, "size overflowing 64 bits"},
        {"8000000000000000\r\n", 0, "size above off_t"},
        {"800000000000000\r\n", 0, "size above off_t / 16 (nginx)"},
        {"0\r\n\rX", 0, "final CR without LF"},
        {"0\r\nA: b\0\r\n\r\n", 12, "NUL in trailer"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].in);
        is_int(dechunk(bad[i].in, len, 1, 0, out, &n, &end), MG_PARSE_INVALID_CHUNK,
               "chunked error: %s", bad[i].name);
    }
    is_int(dechunk("7ffffffffffffff\r\n", 17, 0, 0, out, &n, &end), MG_PARSE_AGAIN,
           "chunked: largest size accepted, off_t / 16");
    is_int(dechunk("0000000000000000000000001\r\nx\r\n0\r\n\r\n", 35, 0, 0, out, &n, &end), 0,
           "chunked: leading zeros do not overflow");
    is_int(dechunk("401\r\n", 5, 0, 1024, out, &n, &end), MG_PARSE_INVALID_CHUNK,
           "chunked: max_chunk enforced");
    is_int(dechunk("400\r\n", 5, 0, 1024, out, &n, &end), MG_PARSE_AGAIN,
           "chunked: max_chunk itself allowed");

    mg_http_chunked_t ctx = {0};
    size_t pos = 0;
    const char *d;
    size_t dl;
    mg_http_parse_chunked(&ctx, "x", 1, &pos, &d, &dl);
    is_int(mg_http_parse_chunked(&ctx, "0\r\n\r\n", 5, &pos, &d, &dl), MG_PARSE_INVALID_CHUNK,
           "chunked: an error is sticky");
}

static void test_span_ieq(void)
{
    mg_span_t s = {"Content-Length", 14};
    ok(mg_span_ieq(s, "content-length"), "span_ieq: mixed case equal");
    ok(!mg_span_ieq(s, "content-lengths"), "span_ieq: longer literal");
    ok(!mg_span_ieq(s, "content-lengt"), "span_ieq: shorter literal");
    mg_span_t e = {NULL, 0};
    ok(mg_span_ieq(e, ""), "span_ieq: empty");
    mg_span_t x = {"HOST", 4};
    ok(!mg_span_ieq(x, "hosu"), "span_ieq: different");
}

/* raw_values (an h2 stream's head): a value is what follows "name: ", blanks included */
static void test_raw_values(void)
{
    mg_http_request_head_t h;
    const char *req = "GET / HTTP/1.1\r\nA:  lead\r\nB: trail  \r\nC: \r\nD: x y\r\n\r\n";
    char *copy = strdup(req);
    mg_http_parse_init(&h, hdrs, MAXH);
    h.raw_values = 1;
    is_int(mg_http_parse_request_head(copy, strlen(copy), &h), (long long)strlen(req),
           "raw values: the whole head");
    is_span(h.headers[0].value, " lead", "raw values: a leading blank kept");
    is_span(h.headers[1].value, "trail  ", "raw values: trailing blanks kept");
    is_span(h.headers[2].value, "", "raw values: an empty value");
    is_span(h.headers[3].value, "x y", "raw values: inner blanks");
    free(copy);
}

/* The classes say what their comments say, and the word-at-a-time scans stop where a byte loop
 * over the class would, whatever the bytes around the stop (borrows of the word tests) */
static void test_word_scans(void)
{
    int bad = 0;
    for (int c = 0; c < 256; c++) {
        int uri = c > 0x20 && c != 0x7f;
        bad += !IS(c, C_NAME) != !(uri && c != ':');
        bad += !IS(c, C_URI) != !uri;
        bad += !IS(c, C_PATH) != !(uri && !strchr("/%?#", c));
        bad += !IS(c, C_ARGS) != !(uri && c != '#');
        bad += !IS(c, C_LINE_STOP) != !(c == 0 || c == '\r' || c == '\n');
    }
    is_int(bad, 0, "byte classes as documented");

    static const unsigned char pick[] = {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x0e, 0x1f, 0x20,
                                         0x21, '#',  '%',  '/',  ':',  '?',  'A',  'a',
                                         0x7e, 0x7f, 0x80, 0x81, 0xa0, 0xdf, 0xfe, 0xff};
    unsigned seed = 1;
    bad = 0;
    for (int n = 0; n < 200000; n++) {
        unsigned char b[24];
        size_t len = 1 + n % 24;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245 + 12345;
            /* mostly plain bytes, so that the runs are long enough to span words */
            b[i] = (seed >> 16) % 4 ? 'x' : pick[(seed >> 20) % sizeof(pick)];
        }
        for (size_t from = 0; from < len; from += 3) {
            size_t q = from;
            while (q < len && IS(b[q], C_NAME))
                q++;
            bad += mg_scan_name_end(b, from, len) != q;
            q = from;
            while (q < len && !IS(b[q], C_LINE_STOP))
                q++;
            bad += mg_scan_value_stop(b, from, len) != q;
            q = from;
            while (q < len && IS(b[q], C_PATH))
                q++;
            bad += path_run_end(b, from, len) != q;
        }
    }
    is_int(bad, 0, "word scans stop where byte loops do");
}

int main(void)
{
    test_word_scans();
    test_valid();
    test_raw_values();
    test_errors();
    test_progress();
    test_nginx_lines();
    test_splits();
    test_complex();
    test_normalize();
    test_unescape();
    test_escape_args();
    test_fragment();
    test_chunked();
    test_span_ieq();
    return done_testing();
}
