/*
 * HTTP/1.x request head parser, URI normalizer ($uri from the raw path), percent-unescaper,
 * percent-escaper (a type per byte set) and incremental chunked-body decoder. Pure functions
 * over caller buffers: libc and str.h's inline helpers only, no allocation, so they are
 * unit-tested in t/unit/test_parse.c (the escapers in test_escape*.c) and fuzzed by
 * t/fuzz/fuzz_parse.c. The head parser keeps its state in the head between reads and looks at
 * a byte once (but for a value's trailing spaces, stripped when its line ends); names and
 * values go eight bytes a step where a word holds none of the bytes that end them.
 */
#include "parse.h"

#include <string.h>

#include "scan.h"
#include "str.h"

/* Character classes, indexed by byte. GNU range designators keep the tables readable. */
#define C_METHOD 0x01 /* A-Z _ - */
#define C_NAME 0x02   /* allowed in a header name by the parser: not CTL, SP, DEL or ':' */
#define C_ALPHA 0x04  /* schema of an absolute-form target */
#define C_HOST 0x08   /* a host name in an absolute-form target, as nginx takes one */
#define C_URI 0x10    /* allowed in the target: not CTL, not SP, not DEL */
#define C_HEX 0x20
#define C_LINE_STOP 0x40  /* what ends a header value or refuses it: CR LF NUL */
#define C_IP_LITERAL 0x80 /* inside the [] of an absolute-form target's host (RFC 3986) */
/* C_URI but what a path's loop stops at ('/', '%', '?', '#'), and an argument's ('#'): a byte
 * of these is taken by one test */
#define C_PATH 0x100
#define C_ARGS 0x200
#define C_URI_ALL (C_URI | C_PATH | C_ARGS)

static const uint16_t cclass[256] = {
    ['A' ... 'F'] = C_NAME | C_METHOD | C_ALPHA | C_HOST | C_IP_LITERAL | C_URI_ALL | C_HEX,
    ['G' ... 'Z'] = C_NAME | C_METHOD | C_ALPHA | C_HOST | C_IP_LITERAL | C_URI_ALL,
    ['a' ... 'f'] = C_NAME | C_ALPHA | C_HOST | C_IP_LITERAL | C_URI_ALL | C_HEX,
    ['g' ... 'z'] = C_NAME | C_ALPHA | C_HOST | C_IP_LITERAL | C_URI_ALL,
    ['0' ... '9'] = C_NAME | C_HOST | C_IP_LITERAL | C_URI_ALL | C_HEX,
    ['_'] = C_NAME | C_METHOD | C_IP_LITERAL | C_URI_ALL,
    ['-'] = C_NAME | C_METHOD | C_HOST | C_IP_LITERAL | C_URI_ALL,
    ['.'] = C_NAME | C_HOST | C_IP_LITERAL | C_URI_ALL,
    [':'] = C_IP_LITERAL | C_URI_ALL,
    ['['] = C_NAME | C_URI_ALL,
    [']'] = C_NAME | C_URI_ALL,
    ['!'] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['#'] = C_NAME | C_URI,
    ['$'] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['%'] = C_NAME | C_URI | C_ARGS,
    ['&'] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['\''] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['*'] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['+'] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['^'] = C_NAME | C_URI_ALL,
    ['`'] = C_NAME | C_URI_ALL,
    ['|'] = C_NAME | C_URI_ALL,
    ['~'] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['"'] = C_NAME | C_URI_ALL,
    ['('] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    [')'] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    [','] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['/'] = C_NAME | C_URI | C_ARGS,
    [';'] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['<'] = C_NAME | C_URI_ALL,
    ['='] = C_NAME | C_IP_LITERAL | C_URI_ALL,
    ['>'] = C_NAME | C_URI_ALL,
    ['?'] = C_NAME | C_URI | C_ARGS,
    ['@'] = C_NAME | C_URI_ALL,
    ['\\'] = C_NAME | C_URI_ALL,
    ['{'] = C_NAME | C_URI_ALL,
    ['}'] = C_NAME | C_URI_ALL,
    /* nginx passes raw UTF-8 (and any high byte) through in the target */
    [0x80 ... 0xff] = C_NAME | C_URI_ALL,
    ['\r'] = C_LINE_STOP,
    ['\n'] = C_LINE_STOP,
    ['\0'] = C_LINE_STOP,
};

#define IS(c, cls) (cclass[(unsigned char)(c)] & (cls))
#define IS_DIGIT(c) ((unsigned char)((c) - '0') < 10)

/* The method by its length, then its bytes (memcmp of a constant length is a compare or two):
 * GET, nearly every request's, costs two tests and no call. */
static int method_id(const char *m, size_t len)
{
#define METHOD(name, id)                                                                           \
    if (memcmp(m, name, sizeof(name) - 1) == 0)                                                    \
    return id
    switch (len) {
    case 3:
        METHOD("GET", MG_HTTP_GET);
        METHOD("PUT", MG_HTTP_PUT);
        break;
    case 4:
        METHOD("HEAD", MG_HTTP_HEAD);
        METHOD("POST", MG_HTTP_POST);
        METHOD("COPY", MG_HTTP_COPY);
        METHOD("MOVE", MG_HTTP_MOVE);
        METHOD("LOCK", MG_HTTP_LOCK);
        break;
    case 5:
        METHOD("MKCOL", MG_HTTP_MKCOL);
        METHOD("PATCH", MG_HTTP_PATCH);
        METHOD("TRACE", MG_HTTP_TRACE);
        break;
    case 6:
        METHOD("DELETE", MG_HTTP_DELETE);
        METHOD("UNLOCK", MG_HTTP_UNLOCK);
        break;
    case 7:
        METHOD("OPTIONS", MG_HTTP_OPTIONS);
        METHOD("CONNECT", MG_HTTP_CONNECT);
        break;
    case 8:
        METHOD("PROPFIND", MG_HTTP_PROPFIND);
        break;
    case 9:
        METHOD("PROPPATCH", MG_HTTP_PROPPATCH);
        break;
    }
#undef METHOD
    return MG_HTTP_UNKNOWN;
}

/* Where a run of a path's plain bytes ends (C_PATH: not '/', '%', '?', '#', a control, space or
 * DEL), or len. */
static size_t path_run_end(const unsigned char *b, size_t p, size_t len)
{
    while (len - p >= 8) {
        uint64_t w = mg_load_word(b + p);
        uint64_t m = mg_word_has_below(w, 0x21) | mg_word_has_byte(w, 0x7f) |
                     mg_word_has_byte(w, '/') | mg_word_has_byte(w, '%') |
                     mg_word_has_byte(w, '?') | mg_word_has_byte(w, '#');
        if (m) {
            p += MG_FIRST_IN_WORD(m);
            break;
        }
        p += 8;
    }
    while (p < len && IS(b[p], C_PATH))
        p++;
    return p;
}

/* The head parser's states: each names what the byte at h->pos is expected to be. */
enum {
    S_START = 0, /* empty lines before the request line */
    S_METHOD,
    S_BEFORE_TARGET, /* spaces after the method */
    S_SCHEMA,        /* "http" of an absolute-form target */
    S_SLASHES,       /* the "//" after "schema:" */
    S_HOST,          /* a name or an IPv4 address */
    S_HOST_IP,       /* inside the [] of an IP literal */
    S_HOST_END,      /* after the host: ':' and a port, or the path */
    S_PORT,
    S_PATH,
    S_AFTER_PATH, /* '?', '#' or the target's end */
    S_ARGS,
    S_FRAGMENT, /* after a '#': part of $request_uri only, as nginx drops it from $uri and $args */
    S_AFTER_TARGET, /* spaces after the target, then "HTTP/" or the line's end (HTTP/0.9) */
    S_PROTO,        /* "HTTP/" */
    S_MAJOR,
    S_MINOR,
    S_AFTER_VERSION, /* spaces after the version */
    S_LINE_END,      /* CR or LF of the request line */
    S_LINE_LF,
    S_HEADER_START, /* a header line, or the blank line */
    S_NAME,
    S_BEFORE_VALUE, /* spaces after the ':' */
    S_VALUE,
    S_HEADER_LF, /* CR (one or more, as nginx takes) ending a header line seen */
    S_HEAD_LF,   /* CR of the blank line seen */
    S_DONE,
};

/* Inside the head parser: save where we are and wait for more input, or fail recording where.
 * A failed head is not parsed again, so FAIL keeps no state. */
#define NEED()                                                                                     \
    do {                                                                                           \
        if (p >= len) {                                                                            \
            h->pos = p;                                                                            \
            h->state = st;                                                                         \
            return MG_PARSE_AGAIN;                                                                 \
        }                                                                                          \
    } while (0)
#define FAIL_AT(at, code)                                                                          \
    do {                                                                                           \
        h->error_at = (at);                                                                        \
        return (code);                                                                             \
    } while (0)
#define FAIL(code) FAIL_AT(p, code)
#define SPAN(s, from, to)                                                                          \
    do {                                                                                           \
        (s).data = buf + (from);                                                                   \
        (s).len = (to) - (from);                                                                   \
    } while (0)

static int seg_is_dots(const unsigned char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

void mg_http_parse_init(mg_http_request_head_t *h, mg_http_header_t *headers, size_t max)
{
    memset(h, 0, sizeof(*h));
    h->headers = headers;
    h->max_headers = max;
}

/* One pass over the bytes not seen yet: each state's loop runs to the end of its token or of
 * the input, and the offsets it needs later (h->target_at, h->mark, ...) live in h, never
 * pointers, so nothing depends on where buf was the previous time. */
ssize_t mg_http_parse_request_head(const char *buf, size_t len, mg_http_request_head_t *h)
{
    const unsigned char *b = (const unsigned char *)buf;
    size_t p = h->pos;
    int st = h->state;
    unsigned char c;

    switch (st) {
    case S_START:
        while (p < len && (b[p] == '\r' || b[p] == '\n'))
            p++;
        h->line_start = p;
        NEED();
        st = S_METHOD;
        /* fall through */
    case S_METHOD:
        /* GET, nearly every request's, in one compare */
        if (p == h->line_start && len - p >= 4 && memcmp(b + p, "GET ", 4) == 0)
            p += 3;
        while (p < len && IS(b[p], C_METHOD))
            p++;
        NEED();
        if (b[p] != ' ' || p == h->line_start)
            FAIL(MG_PARSE_INVALID_METHOD);
        SPAN(h->method, h->line_start, p);
        h->method_id = method_id(h->method.data, h->method.len);
        st = S_BEFORE_TARGET;
        /* fall through */
    case S_BEFORE_TARGET:
        while (p < len && b[p] == ' ')
            p++;
        NEED();
        h->target_at = p;
        if (b[p] == '/') {
            h->path_at = p;
            h->seg_at = ++p;
            st = S_PATH;
            goto path;
        }
        if (!IS(b[p], C_ALPHA))
            FAIL(MG_PARSE_INVALID_REQUEST);
        st = S_SCHEMA;
        /* fall through */
    case S_SCHEMA:
        while (p < len && IS(b[p], C_ALPHA))
            p++;
        NEED();
        if (b[p] != ':')
            FAIL(MG_PARSE_INVALID_REQUEST);
        SPAN(h->schema, h->target_at, p);
        h->mark = ++p; /* the first '/' */
        st = S_SLASHES;
        /* fall through */
    case S_SLASHES:
        for (; p < h->mark + 2; p++) {
            NEED();
            if (b[p] != '/')
                FAIL(MG_PARSE_INVALID_REQUEST);
        }
        h->mark = p; /* the host */
        st = S_HOST;
        /* fall through */
    case S_HOST:
        NEED();
        if (p == h->mark && b[p] == '[') {
            p++;
            st = S_HOST_IP;
            goto host_ip;
        }
        /* an empty host is parsed: nginx refuses it as an invalid host (headers_in.c) */
        while (p < len && IS(b[p], C_HOST))
            p++;
        NEED();
        st = S_HOST_END;
        goto host_end;
    case S_HOST_IP:
    host_ip:
        while (p < len && IS(b[p], C_IP_LITERAL))
            p++;
        NEED();
        if (b[p] != ']')
            FAIL(MG_PARSE_INVALID_REQUEST);
        p++;
        st = S_HOST_END;
        /* fall through */
    case S_HOST_END:
    host_end:
        NEED();
        if (b[p] == ':') {
            p++;
            st = S_PORT;
            goto port;
        }
        goto host_done;
    case S_PORT:
    port:
        while (p < len && b[p] >= '0' && b[p] <= '9')
            p++;
        NEED();
    host_done:
        SPAN(h->host, h->mark, p);
        c = b[p];
        if (c == '/') {
            h->path_at = p;
            h->seg_at = ++p;
            st = S_PATH;
            goto path;
        }
        /* nginx: no HTTP/0.9 line ends right after the host */
        if (c != '?' && c != ' ')
            FAIL(MG_PARSE_INVALID_REQUEST);
        /* no path: "/" is the last slash of "://", so the span stays inside buf */
        SPAN(h->path, h->mark - 1, h->mark);
        h->no_path = 1;
        st = S_AFTER_PATH;
        goto after_path;
    case S_PATH:
    path:
        while ((p = path_run_end(b, p, len)) < len) {
            c = b[p];
            if (c == '/') {
                /* an empty segment is "//"; a "." or ".." segment needs resolving */
                if (p == h->seg_at || seg_is_dots(b + h->seg_at, p - h->seg_at))
                    h->complex_uri = 1;
                h->seg_at = ++p;
            } else if (c == '%') {
                h->complex_uri = 1;
                p++;
            } else if (c == '?' || c == '#' || c == ' ' || c == '\r' || c == '\n') {
                break;
            } else {
                FAIL(MG_PARSE_INVALID_REQUEST);
            }
        }
        NEED();
        if (seg_is_dots(b + h->seg_at, p - h->seg_at))
            h->complex_uri = 1;
        SPAN(h->path, h->path_at, p);
        st = S_AFTER_PATH;
        /* fall through */
    case S_AFTER_PATH:
    after_path:
        if (b[p] == '?') {
            h->mark = ++p;
            st = S_ARGS;
        } else if (b[p] == '#') {
            st = S_FRAGMENT;
            goto fragment;
        } else {
            SPAN(h->target, h->target_at, p);
            h->line_end = p;
            st = S_AFTER_TARGET;
            goto after_target;
        }
        /* fall through */
    case S_ARGS:
        while (p < len && IS(b[p], C_ARGS))
            p++;
        NEED();
        if (b[p] != ' ' && b[p] != '#' && b[p] != '\r' && b[p] != '\n')
            FAIL(MG_PARSE_INVALID_REQUEST);
        SPAN(h->args, h->mark, p);
        st = S_FRAGMENT;
        /* fall through */
    case S_FRAGMENT:
    fragment:
        while (p < len && IS(b[p], C_URI))
            p++;
        NEED();
        if (b[p] != ' ' && b[p] != '\r' && b[p] != '\n')
            FAIL(MG_PARSE_INVALID_REQUEST);
        SPAN(h->target, h->target_at, p);
        h->line_end = p;
        st = S_AFTER_TARGET;
        /* fall through */
    case S_AFTER_TARGET:
    after_target:
        while (p < len && b[p] == ' ')
            p++;
        NEED();
        if (b[p] == '\r' || b[p] == '\n') {
            /* HTTP/0.9 "simple request": GET only, no headers follow */
            if (h->method_id != MG_HTTP_GET)
                FAIL(MG_PARSE_INVALID_METHOD);
            h->http_major = 0;
            h->http_minor = 9;
            st = S_LINE_END;
            goto line_end;
        }
        h->mark = p;
        h->proto.data = buf + p;
        st = S_PROTO;
        /* fall through */
    case S_PROTO:
        /* the common case in one compare: "HTTP/1." is what the loops below take as major 1 */
        if (p == h->mark && len - p >= 7 && memcmp(b + p, "HTTP/1.", 7) == 0) {
            h->http_major = 1;
            p += 7;
            h->mark = p;
            if (len - p >= 2 && IS_DIGIT(b[p]) && !IS_DIGIT(b[p + 1])) {
                /* "1.1" or "1.0": the minor's loop would take this one digit */
                h->http_minor = b[p++] - '0';
                st = S_AFTER_VERSION;
                goto after_version;
            }
            st = S_MINOR;
            goto minor;
        }
        for (; p < h->mark + 5; p++) {
            NEED();
            if (b[p] != (unsigned char)"HTTP/"[p - h->mark])
                FAIL(MG_PARSE_INVALID_REQUEST);
        }
        h->mark = p;
        st = S_MAJOR;
        /* fall through */
    case S_MAJOR:
        /* nginx: the major version starts with 1-9 ("HTTP/01.1" is a 400) */
        if (p == h->mark && p < len && b[p] == '0')
            FAIL(MG_PARSE_INVALID_REQUEST);
        for (; p < len && b[p] >= '0' && b[p] <= '9'; p++) {
            h->http_major = h->http_major * 10 + (b[p] - '0');
            /* like nginx, refuse HTTP/2+ as soon as the digit shows it: 505, not 400 */
            if (h->http_major > 1)
                FAIL(MG_PARSE_INVALID_VERSION);
        }
        NEED();
        if (p == h->mark || h->http_major == 0 || b[p] != '.')
            FAIL(MG_PARSE_INVALID_REQUEST);
        h->mark = ++p;
        st = S_MINOR;
        /* fall through */
    case S_MINOR:
    minor:
        for (; p < len && b[p] >= '0' && b[p] <= '9'; p++) {
            h->http_minor = h->http_minor * 10 + (b[p] - '0');
            if (h->http_minor > 999)
                FAIL(MG_PARSE_INVALID_REQUEST);
        }
        NEED();
        if (p == h->mark)
            FAIL(MG_PARSE_INVALID_REQUEST);
        st = S_AFTER_VERSION;
        /* fall through */
    case S_AFTER_VERSION:
    after_version:
        while (p < len && b[p] == ' ')
            p++;
        NEED();
        /* nginx 1.22 keeps the blanks after the version in $request and $server_protocol */
        h->line_end = p;
        h->proto.len = (size_t)(buf + p - h->proto.data);
        st = S_LINE_END;
        /* fall through */
    case S_LINE_END:
    line_end:
        if (b[p] == '\r')
            p++;
        st = S_LINE_LF;
        /* fall through */
    case S_LINE_LF:
        NEED();
        if (b[p] != '\n')
            FAIL(MG_PARSE_INVALID_REQUEST);
        SPAN(h->request_line, h->line_start, h->line_end);
        h->request_line_done = 1;
        p++;
        if (h->http_major == 0) {
            st = S_DONE;
            break;
        }
        st = S_HEADER_START;
        /* fall through */
    case S_HEADER_START:
    header_start:
        h->line_start = p;
        NEED();
        c = b[p];
        if (c == '\n') {
            p++;
            st = S_DONE;
            break;
        }
        if (c == '\r') {
            p++;
            st = S_HEAD_LF;
            goto head_lf;
        }
        st = S_NAME;
        /* fall through */
    case S_NAME:
        p = mg_scan_name_end(b, p, len);
        NEED();
        c = b[p];
        /* nginx refuses what cannot be in a name (CTL, SP: also an obs-fold line, which RFC
         * 9112 lets a server reject) and a line starting with ':'; other odd names are parsed
         * and left to ignore_invalid_headers */
        if (p == h->line_start || (c != ':' && c != '\r' && c != '\n'))
            FAIL(MG_PARSE_INVALID_HEADER);
        if (h->nheaders == h->max_headers) {
            /* resumable: the caller grows the array and calls again */
            h->pos = p;
            h->state = st;
            FAIL(MG_PARSE_TOO_MANY_HEADERS);
        }
        h->name_end = p;
        /* nginx takes a line that is only a name as that header with an empty value */
        if (c == ':')
            p++;
        st = S_BEFORE_VALUE;
        /* fall through */
    case S_BEFORE_VALUE:
        if (!h->raw_values) {
            while (p < len && b[p] == ' ')
                p++;
            NEED();
        } else {
            NEED();
            if (b[p] == ' ')
                p++; /* the one space after the ':' */
        }
        h->value_at = h->value_end = p;
        st = S_VALUE;
        /* fall through */
    case S_VALUE:
        p = mg_scan_value_stop(b, p, len);
        NEED();
        if (b[p] == '\0')
            FAIL(MG_PARSE_INVALID_HEADER);
        /* the trailing spaces are not the value's (a raw value keeps them) */
        {
            size_t end = p;
            if (!h->raw_values) {
                /* (value_at > 0: a name and ':' are before it) */
                while (b[end - 1] == ' ' && end > h->value_at)
                    end--;
            }
            h->value_end = end;
        }
        if (b[p] == '\n')
            goto header_done;
        p++;
        st = S_HEADER_LF;
        /* fall through */
    case S_HEADER_LF:
        while (p < len && b[p] == '\r')
            p++;
        NEED();
        if (b[p] != '\n') {
            /* nginx shows the line up to its value's end */
            FAIL_AT(h->value_end, MG_PARSE_INVALID_HEADER);
        }
    header_done:
        p++;
        {
            mg_http_header_t *hd = &h->headers[h->nheaders++];
            SPAN(hd->name, h->line_start, h->name_end);
            SPAN(hd->value, h->value_at, h->value_end);
        }
        st = S_HEADER_START;
        goto header_start;
    case S_HEAD_LF:
    head_lf:
        NEED();
        if (b[p] != '\n')
            FAIL_AT(h->line_start, MG_PARSE_INVALID_HEADER);
        p++;
        st = S_DONE;
        break;
    case S_DONE:
        break;
    }
    h->pos = p;
    h->state = st;
    return (ssize_t)p;
}

void mg_http_parse_rebase(mg_http_request_head_t *h, const char *from, const char *to)
{
    mg_span_t *spans[] = {&h->request_line, &h->method, &h->target, &h->schema,
                          &h->host,         &h->path,   &h->args,   &h->proto};

    for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
        if (spans[i]->data)
            spans[i]->data = to + (spans[i]->data - from);
    }
    for (size_t i = 0; i < h->nheaders; i++) {
        h->headers[i].name.data = to + (h->headers[i].name.data - from);
        h->headers[i].value.data = to + (h->headers[i].value.data - from);
    }
}

#undef NEED
#undef FAIL
#undef FAIL_AT
#undef SPAN

/* Drop the segment just ended at out[o) if it is "." or ".."; *seg is its start (after its
 * '/'). Returns 1 when the segment was a dot segment (the caller then skips its '/'), 0 if not,
 * -1 when ".." would climb above the first '/'. */
static int resolve_dots(char *out, size_t *o, size_t *seg)
{
    size_t s = *seg, n = *o - s;

    if (n == 1 && out[s] == '.') {
        *o = s;
        return 1;
    }
    if (n == 2 && out[s] == '.' && out[s + 1] == '.') {
        /* out[s-1] is the '/' before ".."; the parent segment starts after the '/' before it */
        if (s < 2)
            return -1;
        size_t q = s - 1;
        while (q > 0 && out[q - 1] != '/')
            q--;
        if (q == 0)
            return -1;
        *o = q;
        *seg = q;
        return 1;
    }
    return 0;
}

ssize_t mg_http_normalize_uri(const char *path, size_t len, char *out, int merge_slashes)
{
    /* The write index never passes the read index, so out may alias path. */
    size_t o = 0, seg = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '%') {
            if (len - i < 3)
                return MG_PARSE_INVALID_REQUEST;
            int hi = mg_hex_digit((unsigned char)path[i + 1]),
                lo = mg_hex_digit((unsigned char)path[i + 2]);
            if (hi < 0 || lo < 0 || (hi | lo) == 0)
                return MG_PARSE_INVALID_REQUEST;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c != '/') {
            out[o++] = (char)c;
            continue;
        }
        if (o > 0) {
            int rc = resolve_dots(out, &o, &seg);
            if (rc < 0)
                return MG_PARSE_INVALID_REQUEST;
            if (rc > 0)
                continue;
        }
        if (merge_slashes && o > 0 && out[o - 1] == '/')
            continue;
        out[o++] = '/';
        seg = o;
    }
    if (o > 0 && resolve_dots(out, &o, &seg) < 0)
        return MG_PARSE_INVALID_REQUEST;
    return (ssize_t)o;
}

size_t mg_http_unescape(const char *in, size_t len, char *out, unsigned flags)
{
    size_t o = 0, i = 0;

    /* o never passes i, so out may alias in; what is copied unchanged goes by memmove */
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        if (c == '?' && (flags & MG_UNESCAPE_REDIRECT)) {
            memmove(out + o, in + i, len - i);
            return o + len - i;
        }
        if (c != '%') {
            out[o++] = c == '+' && (flags & MG_UNESCAPE_PLUS) ? ' ' : (char)c;
            i++;
            continue;
        }
        int hi = i + 1 < len ? mg_hex_digit((unsigned char)in[i + 1]) : -1;
        int lo = hi >= 0 && i + 2 < len ? mg_hex_digit((unsigned char)in[i + 2]) : -1;
        if (lo >= 0) {
            c = (unsigned char)(hi << 4 | lo);
            if (c == '?' && (flags & MG_UNESCAPE_REDIRECT)) {
                /* "%3F" ends the path as a '?' does: what follows stays as it is */
                out[o++] = '?';
                memmove(out + o, in + i + 3, len - i - 3);
                return o + len - i - 3;
            }
            if ((flags & MG_UNESCAPE_REDIRECT) && (c <= '%' || c >= 0x7f)) {
                memmove(out + o, in + i, 3);
                o += 3;
            } else {
                out[o++] = (char)c;
            }
            i += 3;
        } else if (flags & MG_UNESCAPE_KEEP_BAD) {
            out[o++] = '%';
            i++;
        } else if (hi < 0) {
            /* the '%' goes, the byte after it stays (even a '%' or a '?') */
            if (++i < len) {
                out[o++] = in[i++];
            }
        } else {
            /* the '%', the digit and the byte after them go */
            i = i + 3 < len ? i + 3 : len;
        }
    }
    return o;
}

ssize_t mg_http_parse_unsafe_uri(const char *uri, size_t len, char *out, size_t *args_at)
{
    const char *q = memchr(uri, '?', len);
    size_t plen = q ? (size_t)(q - uri) : len;
    *args_at = q ? plen + 1 : len + 1;
    size_t n = mg_http_unescape(uri, plen, out, MG_UNESCAPE_KEEP_BAD);
    if (n == 0 || memchr(out, '\0', n)) {
        return -1;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if ((i == 0 || out[i - 1] == '/') && out[i] == '.' && out[i + 1] == '.' &&
            (i + 2 == n || out[i + 2] == '/')) {
            return -1;
        }
    }
    return (ssize_t)n;
}

/*
 * Which bytes each escape type %-encodes: bit (1 << type) of a byte's entry. The controls and
 * the space are escaped by all but LUA_HEADER_VALUE (which keeps a tab and the space); DEL by
 * all but MEMCACHED and MAIL_AUTH; the bytes >= 0x80 by all but those and LUA_HEADER_VALUE.
 * t/unit/test_escape.c checks each type against the set it stands for, byte by byte.
 */
#define E(t) (1u << MG_ESCAPE_##t)
#define E_ALL ((1u << (MG_ESCAPE_SET_MISC + 1)) - 1) /* MG_ESCAPE_SET_MISC is the last type */
#define E_NOT(x) (E_ALL & ~(x))
#define E_PCT (E(MEMCACHED) | E(MAIL_AUTH)) /* the sets of '%', the space and controls only */
/* both URI component sets and set-misc's */
#define E_COMP (E(LUA_URI_COMPONENT) | E(URI_COMPONENT) | E(SET_MISC))
/* nginx's URI, ARGS and HTML sets: the bytes a URI may not hold */
#define E_NGX (E(URI) | E(ARGS) | E(HTML))
static const uint16_t escape_class[256] = {
    [0x00 ... 0x08] = E_ALL,
    ['\t'] = E_NOT(E(LUA_HEADER_VALUE)),
    [0x0a ... 0x1f] = E_ALL,
    [' '] = E_NOT(E(LUA_HEADER_VALUE)),
    ['!'] = E(URI_COMPONENT),
    ['"'] = E_COMP | E_NGX | E(LUA_HTML) | E(LUA_REFRESH) | E(REFRESH) | E(LUA_HEADER_NAME),
    ['#'] = E_COMP | E_NGX | E(LUA_URI) | E(LUA_ARGS) | E(LUA_HTML),
    ['$'] = E(LUA_URI_COMPONENT) | E(URI_COMPONENT),
    ['%'] = E_COMP | E_NGX | E_PCT | E(LUA_URI) | E(LUA_ARGS) | E(LUA_HTML),
    ['&'] = E_COMP | E(ARGS),
    ['\''] = E(URI_COMPONENT) | E(LUA_HTML) | E(LUA_REFRESH) | E(HTML) | E(REFRESH),
    ['('] = E(URI_COMPONENT) | E(LUA_HEADER_NAME),
    [')'] = E(URI_COMPONENT) | E(LUA_HEADER_NAME),
    ['*'] = E(URI_COMPONENT),
    ['+'] = E_COMP | E(ARGS) | E(LUA_ARGS),
    [','] = E(LUA_URI_COMPONENT) | E(URI_COMPONENT) | E(LUA_HEADER_NAME),
    ['/'] = E_COMP | E(LUA_HEADER_NAME),
    [':'] = E_COMP | E(LUA_HEADER_NAME),
    [';'] = E_COMP | E(ARGS) | E(LUA_HEADER_NAME),
    ['<'] = E_COMP | E_NGX | E(REFRESH) | E(LUA_HEADER_NAME),
    ['='] = E_COMP | E(LUA_HEADER_NAME),
    ['>'] = E_COMP | E_NGX | E(REFRESH) | E(LUA_HEADER_NAME),
    ['?'] = E_COMP | E(URI) | E(ARGS) | E(LUA_URI) | E(LUA_ARGS) | E(LUA_HEADER_NAME),
    ['@'] = E(LUA_URI_COMPONENT) | E(URI_COMPONENT) | E(LUA_HEADER_NAME),
    ['['] = E_COMP | E(LUA_HEADER_NAME),
    ['\\'] = E_COMP | E_NGX | E(REFRESH) | E(LUA_HEADER_NAME),
    [']'] = E_COMP | E(LUA_HEADER_NAME),
    ['^'] = E_COMP | E_NGX | E(REFRESH),
    ['`'] = E(LUA_URI_COMPONENT) | E(URI_COMPONENT) | E_NGX | E(REFRESH),
    ['{'] = E_COMP | E_NGX | E(REFRESH) | E(LUA_HEADER_NAME),
    ['|'] = E(LUA_URI_COMPONENT) | E(URI_COMPONENT) | E_NGX | E(REFRESH),
    ['}'] = E_COMP | E_NGX | E(LUA_HEADER_NAME),
    ['~'] = E(REFRESH),
    [0x7f] = E_NOT(E_PCT),
    [0x80 ... 0xff] = E_NOT(E_PCT | E(LUA_HEADER_VALUE)),
};

size_t mg_http_escape(const char *in, size_t len, char *out, mg_escape_t type)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned bit = 1u << type;
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (!(escape_class[c] & bit)) {
            if (out)
                out[o] = (char)c;
            o++;
            continue;
        }
        if (out) {
            out[o] = '%';
            out[o + 1] = hex[c >> 4];
            out[o + 2] = hex[c & 15];
        }
        o += 3;
    }
    return o;
}

/* Chunked decoder states. */
enum {
    CH_SIZE_START = 0, /* before the first hex digit of a chunk size */
    CH_SIZE,           /* in the hex digits */
    CH_EXT,            /* after the size: ";ext=val" or whitespace, up to the line end */
    CH_SIZE_LF,        /* CR seen on the size line */
    CH_DATA,
    CH_DATA_CR, /* data consumed: CRLF must follow */
    CH_DATA_LF,
    CH_TRAILER_START, /* after the last chunk: a trailer line or the final empty line */
    CH_TRAILER,       /* skipping a trailer field line */
    CH_LAST_LF,       /* CR of the final empty line seen */
    CH_DONE,
    CH_ERROR,
};

int mg_http_parse_chunked(mg_http_chunked_t *ctx, const char *buf, size_t len, size_t *pos,
                          const char **data, size_t *data_len)
{
    size_t p = *pos;
    int rc = MG_PARSE_AGAIN;

    *data = NULL;
    *data_len = 0;

    while (ctx->state != CH_DONE) {
        if (ctx->state == CH_ERROR) {
            rc = MG_PARSE_INVALID_CHUNK;
            goto out;
        }
        if (p >= len) {
            rc = MG_PARSE_AGAIN;
            goto out;
        }
        if (ctx->state == CH_DATA) {
            size_t n = len - p;
            if (n > ctx->size)
                n = (size_t)ctx->size;
            *data = buf + p;
            *data_len = n;
            p += n;
            ctx->size -= n;
            if (ctx->size == 0)
                ctx->state = CH_DATA_CR;
            rc = 0;
            goto out;
        }

        unsigned char c = (unsigned char)buf[p++];
        int d;
        switch (ctx->state) {
        case CH_SIZE_START:
        case CH_SIZE:
            d = mg_hex_digit(c);
            if (d >= 0) {
                /* as nginx 1.22: a size above off_t's top / 16 is an invalid body (400),
                 * not a too large one; sizes stay far within off_t for the body counters */
                ctx->size = ctx->size << 4 | (uint64_t)d;
                if (ctx->size > (uint64_t)INT64_MAX >> 4)
                    goto invalid;
                if (ctx->max_chunk && ctx->size > ctx->max_chunk)
                    goto invalid;
                ctx->state = CH_SIZE;
                break;
            }
            if (ctx->state == CH_SIZE_START)
                goto invalid;
            if (c == ';' || c == ' ' || c == '\t')
                ctx->state = CH_EXT;
            else if (c == '\r')
                ctx->state = CH_SIZE_LF;
            else if (c == '\n')
                goto size_line_done;
            else
                goto invalid;
            break;
        case CH_EXT:
            if (c == '\r')
                ctx->state = CH_SIZE_LF;
            else if (c == '\n')
                goto size_line_done;
            else if (c == '\0')
                goto invalid;
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                goto invalid;
        size_line_done:
            ctx->state = ctx->size == 0 ? CH_TRAILER_START : CH_DATA;
            break;
        case CH_DATA_CR:
            if (c == '\r')
                ctx->state = CH_DATA_LF;
            else if (c == '\n')
                ctx->state = CH_SIZE_START;
            else
                goto invalid;
            break;
        case CH_DATA_LF:
            if (c != '\n')
                goto invalid;
            ctx->state = CH_SIZE_START;
            break;
        case CH_TRAILER_START:
            if (c == '\r') {
                ctx->state = CH_LAST_LF;
                break;
            }
            if (c == '\n')
                goto finished;
            if (c == '\0')
                goto invalid;
            ctx->state = CH_TRAILER;
            break;
        case CH_TRAILER:
            if (c == '\n')
                ctx->state = CH_TRAILER_START;
            else if (c == '\0')
                goto invalid;
            break;
        case CH_LAST_LF:
            if (c != '\n')
                goto invalid;
        finished:
            ctx->state = CH_DONE;
            break;
        default:
            goto invalid;
        }
    }
    ctx->done = 1;
    rc = 0;
    goto out;

invalid:
    ctx->state = CH_ERROR;
    rc = MG_PARSE_INVALID_CHUNK;
out:
    *pos = p;
    return rc;
}

int mg_span_ieq(mg_span_t s, const char *lower)
{
    size_t i = 0;

    for (; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        if (lower[i] == '\0')
            return 0;
        if (c >= 'A' && c <= 'Z')
            c |= 0x20;
        if (c != (unsigned char)lower[i])
            return 0;
    }
    return lower[i] == '\0';
}
