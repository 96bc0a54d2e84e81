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

/* The whole-word tests (str.h) let a clean field, nearly all of them, be passed eight bytes a
 * step; a word they flag is looked at byte by byte. */

/* A name loses what would end it or the line: controls, space, ':' (nginx itself sends any
 * other byte a configuration gives, so those are left alone). */
static int bad_name_byte(unsigned char ch)
{
    return ch <= 0x20 || ch == ':' || ch == 0x7f;
}

static uint64_t bad_name_word(uint64_t w)
{
    return mg_word_has_below(w, 0x21) | mg_word_has_byte(w, ':') | mg_word_has_byte(w, 0x7f);
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

/* CR, LF and NUL are below 0x0e (so is a tab, which the bytes' own test lets through) */
static uint64_t bad_value_word(uint64_t w)
{
    return mg_word_has_below(w, 0x0e);
}

/* In a request target: controls and space (the line's separator) */
static int bad_target_byte(unsigned char ch)
{
    return ch <= 0x20 || ch == 0x7f;
}

static uint64_t bad_target_word(uint64_t w)
{
    return mg_word_has_below(w, 0x21) | mg_word_has_byte(w, 0x7f);
}

/* Whether a byte of p[0..len) may be bad: every byte goes through bad_word, in words that
 * overlap at the end rather than a byte loop (a short field's word is made of its own bytes,
 * some twice), so the answer is exact for a clean field. */
static inline __attribute__((always_inline)) int maybe_bad(const char *p, size_t len,
                                                           uint64_t (*bad_word)(uint64_t))
{
    uint64_t w;
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8) {
            memcpy(&w, p + i, 8);
            if (bad_word(w)) {
                return 1;
            }
        }
        memcpy(&w, p + len - 8, 8);
    } else if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + len - 4, 4);
        w = (uint64_t)hi << 32 | lo;
    } else if (len) {
        uint8_t a = (uint8_t)p[0], b = (uint8_t)p[len / 2], c = (uint8_t)p[len - 1];
        w = MG_BYTES_01 * a;
        w = (w & ~0xffffULL) | (uint64_t)b << 8 | c;
    } else {
        return 0;
    }
    return bad_word(w) != 0;
}

/* s itself when no byte is bad, else a copy with the bad bytes as %XX; inlined into each
 * caller so that the byte tests are too (they run over every field of every response). Not
 * parse.c's mg_http_escape: these sets are moongate's own last check, which nginx does not
 * make (so it has no escape type to follow), and the word-at-a-time scan first is the point. */
static inline __attribute__((always_inline)) mg_str_t
escape(mg_request_t *r, mg_str_t s, uint64_t (*bad_word)(uint64_t), int (*bad)(unsigned char))
{
    if (!maybe_bad(s.data, s.len, bad_word)) {
        return s;
    }
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
    mg_str_t out = escape(r, name, bad_name_word, bad_name_byte);
    if (out.data != name.data) {
        mg_log_error(MG_LOG_WARN, &r->connection->log, 0,
                     "header name \"%.*s\" has unsafe bytes, sent percent-encoded", (int)out.len,
                     out.data);
    }
    return out;
}

mg_str_t mg_http_safe_header_value(mg_request_t *r, mg_str_t name, mg_str_t value)
{
    mg_str_t out = escape(r, value, bad_value_word, bad_value_byte);
    if (out.data != value.data) {
        mg_log_error(MG_LOG_WARN, &r->connection->log, 0,
                     "value of header \"%.*s\" has CR, LF or NUL, sent percent-encoded",
                     (int)name.len, name.data);
    }
    return out;
}

mg_str_t mg_http_safe_request_target(mg_request_t *r, mg_str_t target)
{
    mg_str_t out = escape(r, target, bad_target_word, bad_target_byte);
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
