/*
 * The last check before a header field or a request target reaches the wire: a value made
 * from decoded variables ($uri, $arg_ after unescaping, Lua strings) can hold CR, LF or NUL,
 * which would split the message (response splitting, a second request upstream). Such bytes
 * are sent percent-encoded and the field is named in a [warn] line; clean fields (all of them,
 * normally) cost one scan and no copy. The response serializer (write.c) and the proxy's
 * request builder call this, so every directive and API that sets a field is covered.
 */
#include "http.h"

static const char hex[] = "0123456789ABCDEF";

/* A name loses what would end it or the line: controls, space, ':' (nginx itself sends any
 * other byte a configuration gives, so those are left alone). */
static int bad_name_byte(unsigned char ch)
{
    return ch <= 0x20 || ch == ':' || ch == 0x7f;
}

static int tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        ch == '-' || ch == '_') {
        return 1;
    }
    return ch != 0 && strchr("!#$%&'*+.^`|~", ch) != NULL;
}

static int bad_value_byte(unsigned char ch)
{
    return ch == '\r' || ch == '\n' || ch == '\0';
}

/* In a request target: controls and space (the line's separator) */
static int bad_target_byte(unsigned char ch)
{
    return ch <= 0x20 || ch == 0x7f;
}

/* s itself when no byte is bad, else a copy with the bad bytes as %XX; inlined into each
 * caller so that the byte test is too (it runs over every field of every response) */
static inline __attribute__((always_inline)) mg_str_t escape(mg_request_t *r, mg_str_t s,
                                                             int (*bad)(unsigned char))
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        n += bad((unsigned char)s.data[i]);
    }
    if (n == 0) {
        return s;
    }
    char *p = mg_pnalloc(r->pool, s.len + 2 * n), *q = p;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.data[i];
        if (bad(ch)) {
            *q++ = '%';
            *q++ = hex[ch >> 4];
            *q++ = hex[ch & 0xf];
        } else {
            *q++ = (char)ch;
        }
    }
    mg_str_t out = {s.len + 2 * n, p};
    return out;
}

mg_str_t mg_http_safe_header_name(mg_request_t *r, mg_str_t name)
{
    mg_str_t out = escape(r, name, bad_name_byte);
    if (out.data != name.data) {
        mg_log_error(MG_LOG_WARN, &r->connection->log, 0,
                     "header name \"%.*s\" has unsafe bytes, sent percent-encoded", (int)out.len,
                     out.data);
    }
    return out;
}

mg_str_t mg_http_safe_header_value(mg_request_t *r, mg_str_t name, mg_str_t value)
{
    mg_str_t out = escape(r, value, bad_value_byte);
    if (out.data != value.data) {
        mg_log_error(MG_LOG_WARN, &r->connection->log, 0,
                     "value of header \"%.*s\" has CR, LF or NUL, sent percent-encoded",
                     (int)name.len, name.data);
    }
    return out;
}

mg_str_t mg_http_safe_request_target(mg_request_t *r, mg_str_t target)
{
    mg_str_t out = escape(r, target, bad_target_byte);
    if (out.data != target.data) {
        mg_log_error(MG_LOG_WARN, &r->connection->log, 0,
                     "upstream request target has control bytes or spaces, sent percent-encoded");
    }
    return out;
}

int mg_http_is_token(mg_str_t s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (!tchar((unsigned char)s.data[i])) {
            return 0;
        }
    }
    return s.len > 0;
}
