/*
 * HTTP/1.x request head parser, URI normalizer ($uri from the raw path), percent-unescaper and
 * incremental chunked-body decoder. Pure functions over caller buffers: libc only, no
 * allocation, so they are unit-tested in t/unit/test_parse.c and fuzzed by t/fuzz/fuzz_parse.c.
 * The head parser is re-run from the buffer start on every read, hence one forward pass.
 */
#include "parse.h"

#include <string.h>

/* Character classes, indexed by byte. GNU range designators keep the tables readable. */
#define C_METHOD 0x01 /* A-Z _ - */
#define C_TCHAR 0x02  /* RFC 9110 token char: header names */
#define C_ALPHA 0x04  /* schema of an absolute-form target */
#define C_HOST 0x08   /* host[:port] of an absolute-form target, incl. [v6] literals */
#define C_URI 0x10    /* allowed in the target: not CTL, not SP, not DEL */
#define C_HEX 0x20

static const unsigned char cclass[256] = {
    ['A' ... 'F'] = C_METHOD | C_TCHAR | C_ALPHA | C_HOST | C_URI | C_HEX,
    ['G' ... 'Z'] = C_METHOD | C_TCHAR | C_ALPHA | C_HOST | C_URI,
    ['a' ... 'f'] = C_TCHAR | C_ALPHA | C_HOST | C_URI | C_HEX,
    ['g' ... 'z'] = C_TCHAR | C_ALPHA | C_HOST | C_URI,
    ['0' ... '9'] = C_TCHAR | C_HOST | C_URI | C_HEX,
    ['_'] = C_METHOD | C_TCHAR | C_HOST | C_URI,
    ['-'] = C_METHOD | C_TCHAR | C_HOST | C_URI,
    ['.'] = C_TCHAR | C_HOST | C_URI,
    [':'] = C_HOST | C_URI,
    ['['] = C_HOST | C_URI,
    [']'] = C_HOST | C_URI,
    ['!'] = C_TCHAR | C_URI,
    ['#'] = C_TCHAR | C_URI,
    ['$'] = C_TCHAR | C_URI,
    ['%'] = C_TCHAR | C_URI,
    ['&'] = C_TCHAR | C_URI,
    ['\''] = C_TCHAR | C_URI,
    ['*'] = C_TCHAR | C_URI,
    ['+'] = C_TCHAR | C_URI,
    ['^'] = C_TCHAR | C_URI,
    ['`'] = C_TCHAR | C_URI,
    ['|'] = C_TCHAR | C_URI,
    ['~'] = C_TCHAR | C_URI,
    ['"'] = C_URI,
    ['('] = C_URI,
    [')'] = C_URI,
    [','] = C_URI,
    ['/'] = C_URI,
    [';'] = C_URI,
    ['<'] = C_URI,
    ['='] = C_URI,
    ['>'] = C_URI,
    ['?'] = C_URI,
    ['@'] = C_URI,
    ['\\'] = C_URI,
    ['{'] = C_URI,
    ['}'] = C_URI,
    /* nginx passes raw UTF-8 (and any high byte) through in the target */
    [0x80 ... 0xff] = C_URI,
};

#define IS(c, cls) (cclass[(unsigned char)(c)] & (cls))

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static const struct {
    const char *name;
    size_t len;
    int id;
} methods[] = {
    {"GET", 3, MG_HTTP_GET},
    {"HEAD", 4, MG_HTTP_HEAD},
    {"POST", 4, MG_HTTP_POST},
    {"PUT", 3, MG_HTTP_PUT},
    {"DELETE", 6, MG_HTTP_DELETE},
    {"MKCOL", 5, MG_HTTP_MKCOL},
    {"COPY", 4, MG_HTTP_COPY},
    {"MOVE", 4, MG_HTTP_MOVE},
    {"OPTIONS", 7, MG_HTTP_OPTIONS},
    {"PROPFIND", 8, MG_HTTP_PROPFIND},
    {"PROPPATCH", 9, MG_HTTP_PROPPATCH},
    {"LOCK", 4, MG_HTTP_LOCK},
    {"UNLOCK", 6, MG_HTTP_UNLOCK},
    {"PATCH", 5, MG_HTTP_PATCH},
    {"TRACE", 5, MG_HTTP_TRACE},
    {"CONNECT", 7, MG_HTTP_CONNECT},
};

static int method_id(const char *m, size_t len)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (methods[i].len == len && memcmp(methods[i].name, m, len) == 0)
            return methods[i].id;
    }
    return MG_HTTP_UNKNOWN;
}

/* Inside the head parser: bail out for more input, or fail recording where. */
#define NEED()                                                                                     \
    do {                                                                                           \
        if (p >= len)                                                                              \
            return MG_PARSE_AGAIN;                                                                 \
    } while (0)
#define FAIL(code)                                                                                 \
    do {                                                                                           \
        h->error_at = p;                                                                           \
        return (code);                                                                             \
    } while (0)

static int seg_is_dots(const unsigned char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* Scan the path from b[*pp] (a '/') up to '?', SP, CR or LF; flag what needs normalizing. */
static ssize_t scan_path(const unsigned char *b, size_t len, size_t *pp, mg_http_request_head_t *h)
{
    size_t p = *pp, start = p, seg = p + 1;
    int complex = 0;

    for (p = start + 1; p < len; p++) {
        unsigned char c = b[p];
        if (c == '/') {
            /* an empty segment is "//"; a "." or ".." segment needs resolving */
            if (p == seg || seg_is_dots(b + seg, p - seg))
                complex = 1;
            seg = p + 1;
        } else if (c == '%') {
            complex = 1;
        } else if (c == '?' || c == ' ' || c == '\r' || c == '\n') {
            break;
        } else if (!IS(c, C_URI)) {
            FAIL(MG_PARSE_INVALID_REQUEST);
        }
    }
    NEED();
    if (seg_is_dots(b + seg, p - seg))
        complex = 1;
    h->path.data = (const char *)b + start;
    h->path.len = p - start;
    h->complex_uri = complex;
    *pp = p;
    return 0;
}

/* Parse "METHOD SP target [SP HTTP/x.y] SP* CRLF" starting at b[*pp]; on success *pp is past
 * the LF. */
static ssize_t parse_request_line(const unsigned char *b, size_t len, size_t *pp,
                                  mg_http_request_head_t *h)
{
    size_t p = *pp, line = p;

    while (p < len && IS(b[p], C_METHOD))
        p++;
    NEED();
    if (b[p] != ' ' || p == line)
        FAIL(MG_PARSE_INVALID_METHOD);
    h->method.data = (const char *)b + line;
    h->method.len = p - line;
    h->method_id = method_id(h->method.data, h->method.len);

    while (p < len && b[p] == ' ')
        p++;
    NEED();

    size_t target = p;
    if (b[p] == '/') {
        ssize_t rc = scan_path(b, len, &p, h);
        if (rc != 0)
            return rc;
    } else if (IS(b[p], C_ALPHA)) {
        while (p < len && IS(b[p], C_ALPHA))
            p++;
        NEED();
        if (b[p] != ':')
            FAIL(MG_PARSE_INVALID_REQUEST);
        h->schema.data = (const char *)b + target;
        h->schema.len = p - target;
        for (int i = 0; i < 2; i++) {
            p++;
            NEED();
            if (b[p] != '/')
                FAIL(MG_PARSE_INVALID_REQUEST);
        }
        size_t host = ++p;
        while (p < len && IS(b[p], C_HOST))
            p++;
        NEED();
        if (p == host)
            FAIL(MG_PARSE_INVALID_REQUEST);
        h->host.data = (const char *)b + host;
        h->host.len = p - host;
        if (b[p] == '/') {
            ssize_t rc = scan_path(b, len, &p, h);
            if (rc != 0)
                return rc;
        } else if (b[p] == '?' || b[p] == ' ' || b[p] == '\r' || b[p] == '\n') {
            /* no path: "/" is the last slash of "://", so the span stays inside buf */
            h->path.data = (const char *)b + host - 1;
            h->path.len = 1;
        } else {
            FAIL(MG_PARSE_INVALID_REQUEST);
        }
    } else {
        FAIL(MG_PARSE_INVALID_REQUEST);
    }

    if (b[p] == '?') {
        size_t args = ++p;
        while (p < len && b[p] != ' ' && b[p] != '\r' && b[p] != '\n') {
            if (!IS(b[p], C_URI))
                FAIL(MG_PARSE_INVALID_REQUEST);
            p++;
        }
        NEED();
        h->args.data = (const char *)b + args;
        h->args.len = p - args;
    }
    h->target.data = (const char *)b + target;
    h->target.len = p - target;

    size_t line_end = p;
    while (p < len && b[p] == ' ')
        p++;
    NEED();

    if (b[p] == '\r' || b[p] == '\n') {
        /* HTTP/0.9 "simple request": GET only, no headers follow */
        if (h->method_id != MG_HTTP_GET)
            FAIL(MG_PARSE_INVALID_METHOD);
        h->http_major = 0;
        h->http_minor = 9;
    } else {
        static const char proto[] = "HTTP/";
        for (int i = 0; i < 5; i++, p++) {
            NEED();
            if (b[p] != (unsigned char)proto[i])
                FAIL(MG_PARSE_INVALID_REQUEST);
        }
        int major = 0, minor = 0;
        size_t d = p;
        for (; p < len && b[p] >= '0' && b[p] <= '9'; p++) {
            major = major * 10 + (b[p] - '0');
            /* like nginx, refuse HTTP/2+ as soon as the digit shows it: 505, not 400 */
            if (major > 1) {
                h->http_major = major;
                FAIL(MG_PARSE_INVALID_VERSION);
            }
        }
        NEED();
        if (p == d || major == 0 || b[p] != '.')
            FAIL(MG_PARSE_INVALID_REQUEST);
        d = ++p;
        for (; p < len && b[p] >= '0' && b[p] <= '9'; p++) {
            minor = minor * 10 + (b[p] - '0');
            if (minor > 999)
                FAIL(MG_PARSE_INVALID_REQUEST);
        }
        NEED();
        if (p == d)
            FAIL(MG_PARSE_INVALID_REQUEST);
        h->http_major = major;
        h->http_minor = minor;
        line_end = p;
        while (p < len && b[p] == ' ')
            p++;
        NEED();
    }

    if (b[p] == '\r') {
        p++;
        NEED();
    }
    if (b[p] != '\n')
        FAIL(MG_PARSE_INVALID_REQUEST);
    h->request_line.data = (const char *)b + line;
    h->request_line.len = line_end - line;
    *pp = p + 1;
    return 0;
}

ssize_t mg_http_parse_request_head(const char *buf, size_t len, mg_http_request_head_t *h)
{
    const unsigned char *b = (const unsigned char *)buf;
    mg_http_header_t *headers = h->headers;
    size_t cap = h->nheaders, p = 0;

    memset(h, 0, sizeof(*h));
    h->headers = headers;

    while (p < len && (b[p] == '\r' || b[p] == '\n'))
        p++;
    h->line_start = p;
    NEED();

    ssize_t rc = parse_request_line(b, len, &p, h);
    if (rc != 0)
        return rc;
    h->request_line_done = 1;
    if (h->http_major == 0)
        return (ssize_t)p;

    for (;;) {
        h->line_start = p;
        NEED();
        unsigned char c = b[p];
        if (c == '\r') {
            p++;
            NEED();
            if (b[p] != '\n')
                FAIL(MG_PARSE_INVALID_HEADER);
            return (ssize_t)p + 1;
        }
        if (c == '\n')
            return (ssize_t)p + 1;

        size_t name = p;
        while (p < len && IS(b[p], C_TCHAR))
            p++;
        NEED();
        /* an empty name also catches a line starting with SP/HTAB: an obs-fold continuation,
         * which RFC 9112 lets a server reject */
        if (p == name || (b[p] != ':' && b[p] != '\r' && b[p] != '\n'))
            FAIL(MG_PARSE_INVALID_HEADER);
        if (h->nheaders == cap)
            FAIL(MG_PARSE_TOO_MANY_HEADERS);
        size_t name_end = p;
        /* nginx takes a line that is only a name as that header with an empty value */
        if (b[p] == ':')
            p++;

        while (p < len && (b[p] == ' ' || b[p] == '\t'))
            p++;
        size_t value = p, value_end = p;
        for (; p < len; p++) {
            c = b[p];
            if (c == '\r' || c == '\n')
                break;
            if (c == '\0')
                FAIL(MG_PARSE_INVALID_HEADER);
            if (c != ' ' && c != '\t')
                value_end = p + 1;
        }
        NEED();
        if (c == '\r') {
            p++;
            NEED();
            if (b[p] != '\n')
                FAIL(MG_PARSE_INVALID_HEADER);
        }
        p++;

        mg_http_header_t *hd = &headers[h->nheaders++];
        hd->name.data = buf + name;
        hd->name.len = name_end - name;
        hd->value.data = buf + value;
        hd->value.len = value_end - value;
    }
}

#undef NEED
#undef FAIL

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
            int hi = hexval((unsigned char)path[i + 1]), lo = hexval((unsigned char)path[i + 2]);
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

size_t mg_http_unescape(const char *in, size_t len, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (in[i] == '%' && len - i >= 3 && (hi = hexval((unsigned char)in[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)in[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = in[i];
        }
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
            d = hexval(c);
            if (d >= 0) {
                /* keep the size within off_t so the caller can add it to body counters */
                if (ctx->size > (uint64_t)INT64_MAX >> 4)
                    goto invalid;
                ctx->size = ctx->size << 4 | (uint64_t)d;
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
