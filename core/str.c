/*
 * String helpers and nginx's value syntaxes for sizes and times.
 */
#include <stdarg.h>

#include "str.h"

int mg_strncasecmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] == b[i]) {
            continue; /* most bytes: header names are matched per request */
        }
        int ca = mg_tolower((unsigned char)a[i]);
        int cb = mg_tolower((unsigned char)b[i]);
        if (ca != cb) {
            return ca - cb;
        }
    }
    return 0;
}

/* Eight bytes lowered at once: a byte's 0x20 bit is set where its low seven bits are
 * 'A'..'Z' and its high bit is clear; the sums cannot carry into the next byte (zero bytes,
 * those above a shorter load, stay zero) */
static inline uint64_t low8(uint64_t x)
{
    uint64_t h = x & ~MG_BYTES_80;
    uint64_t ge_a = h + MG_BYTES_01 * (0x80 - 'A');
    uint64_t gt_z = h + MG_BYTES_01 * (0x80 - 'Z' - 1);
    uint64_t upper = ge_a & ~gt_z & ~x & MG_BYTES_80;
    return x | upper >> 2;
}

/* k (8, 4 or 2) bytes lowered: a constant k makes the copies single loads and stores;
 * little-endian or not, the bytes above a shorter load are zero and stay so */
static inline void low_k(char *dst, const char *src, size_t k)
{
    uint64_t x = 0;
    memcpy(&x, src, k);
    x = low8(x);
    memcpy(dst, &x, k);
}

void mg_strlow(char *dst, const char *src, size_t n)
{
    /* (header names, per request: the tail too goes by four and two bytes at once) */
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        low_k(dst + i, src + i, 8);
    }
    if (i + 4 <= n) {
        low_k(dst + i, src + i, 4);
        i += 4;
    }
    if (i + 2 <= n) {
        low_k(dst + i, src + i, 2);
        i += 2;
    }
    if (i < n) {
        dst[i] = (char)mg_tolower((unsigned char)src[i]);
    }
}

const char *mg_strlcasestrn(const char *s, const char *end, const char *needle, size_t n)
{
    if (n == 0) {
        return s;
    }
    /* the first byte is tested inline: most positions fail there */
    int first = mg_tolower((unsigned char)needle[0]);
    for (; s + n <= end; s++) {
        if (mg_tolower((unsigned char)*s) == first &&
            mg_strncasecmp(s + 1, needle + 1, n - 1) == 0) {
            return s;
        }
    }
    return NULL;
}

int64_t mg_atoi(const char *s, size_t len)
{
    if (len == 0) {
        return -1;
    }
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        int d = s[i] - '0';
        if (v > INT64_MAX / 10 || (v == INT64_MAX / 10 && d > INT64_MAX % 10)) {
            return -1;
        }
        v = v * 10 + d;
    }
    return v;
}

int64_t mg_hextoi(const char *s, size_t len)
{
    if (len == 0) {
        return -1;
    }
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = mg_hex_digit((unsigned char)s[i]);
        if (d < 0) {
            return -1;
        }
        if (v > (INT64_MAX >> 4)) {
            return -1;
        }
        v = (v << 4) | d;
    }
    return v;
}

static int64_t parse_size(mg_str_t s, int giga)
{
    if (s.len == 0) {
        return -1;
    }
    int64_t scale = 1;
    size_t len = s.len;
    switch (s.data[len - 1]) {
    case 'k':
    case 'K':
        scale = 1024;
        len--;
        break;
    case 'm':
    case 'M':
        scale = 1024 * 1024;
        len--;
        break;
    case 'g':
    case 'G':
        if (!giga) {
            return -1;
        }
        scale = 1024 * 1024 * 1024;
        len--;
        break;
    }
    int64_t v = mg_atoi(s.data, len);
    if (v < 0 || v > INT64_MAX / scale) {
        return -1;
    }
    return v * scale;
}

int64_t mg_parse_size(mg_str_t s)
{
    return parse_size(s, 0);
}

int64_t mg_parse_offset(mg_str_t s)
{
    return parse_size(s, 1);
}

int64_t mg_parse_time(mg_str_t s, int want_seconds)
{
    /* nginx's rules: units in decreasing order, each at most once, spaces allowed only after
     * a unit; a trailing bare number counts as seconds ("1h30" is 1h30s); months and years
     * only for values kept in seconds, "ms" only for values kept in milliseconds. */
    static const struct {
        char unit;
        int64_t msec;
    } units[] = {
        { 'y', 365LL * 24 * 3600 * 1000 }, { 'M', 30LL * 24 * 3600 * 1000 },
        { 'w', 7LL * 24 * 3600 * 1000 },   { 'd', 24LL * 3600 * 1000 },
        { 'h', 3600LL * 1000 },            { 'm', 60LL * 1000 },
        { 's', 1000 },                     { 'f', 1 }, /* 'f' stands for "ms" */
    };
    int64_t total = 0, value = 0;
    size_t next_unit = want_seconds ? 0 : 2; /* msec values start below 'M' */
    int valid = 0;
    const char *p = s.data, *end = s.data + s.len;
    while (p < end) {
        char c = *p++;
        if (c >= '0' && c <= '9') {
            int d = c - '0';
            if (value > INT64_MAX / 10 || (value == INT64_MAX / 10 && d > INT64_MAX % 10)) {
                return -1;
            }
            value = value * 10 + d;
            valid = 1;
            continue;
        }
        char u = c;
        if (c == 'm' && p < end && *p == 's') {
            u = 'f';
            p++;
        }
        size_t k = next_unit;
        while (k < mg_nelems(units) && units[k].unit != u) {
            k++;
        }
        if (k == mg_nelems(units) || (want_seconds && u == 'f')) {
            return -1;
        }
        next_unit = k + 1;
        int64_t scale = want_seconds ? units[k].msec / 1000 : units[k].msec;
        if (value > INT64_MAX / scale) {
            return -1;
        }
        value *= scale;
        if (total > INT64_MAX - value) {
            return -1;
        }
        total += value;
        value = 0;
        while (p < end && *p == ' ') {
            p++;
        }
    }
    if (!valid) {
        return -1;
    }
    if (!want_seconds) {
        if (value > INT64_MAX / 1000) {
            return -1;
        }
        value *= 1000;
    }
    if (total > INT64_MAX - value) {
        return -1;
    }
    return total + value;
}

char *mg_put_uint(char *p, uint64_t v)
{
    /* the digits are counted first and written from their end in place, two at a time: a
     * copy from a scratch buffer (a memcpy call) cost as much as the digits of a
     * Content-Length */
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";
    size_t n = 1;
    for (uint64_t x = v; x >= 10; x /= 10) {
        n++;
    }
    char *e = p + n;
    while (v >= 100) {
        uint64_t r = v % 100;
        v /= 100;
        e -= 2;
        memcpy(e, pairs + 2 * r, 2);
    }
    if (v >= 10) {
        memcpy(e - 2, pairs + 2 * v, 2);
    } else {
        e[-1] = (char)('0' + v);
    }
    return p + n;
}

char *mg_put_uint3(char *p, uint64_t v)
{
    v %= 1000;
    p[0] = (char)('0' + v / 100);
    p[1] = (char)('0' + v / 10 % 10);
    p[2] = (char)('0' + v % 10);
    return p + 3;
}

char *mg_put_msec(char *p, uint64_t ms)
{
    p = mg_put_uint(p, ms / 1000);
    *p++ = '.';
    return mg_put_uint3(p, ms % 1000);
}

/* each byte's two digits, "00" to "ff" ($request_id's 16 bytes a request, digests, md5 keys):
 * one two-byte copy a byte, four a step, not two lookups and shifts (~12 instructions a byte
 * -> ~4) */
#define HEX_ROW(h)                                                                                 \
    h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "a" h "b" h "c" h "d" h "e" h "f"
static const char hex_pairs[] = HEX_ROW("0") HEX_ROW("1") HEX_ROW("2") HEX_ROW("3") HEX_ROW("4")
    HEX_ROW("5") HEX_ROW("6") HEX_ROW("7") HEX_ROW("8") HEX_ROW("9") HEX_ROW("a") HEX_ROW("b")
        HEX_ROW("c") HEX_ROW("d") HEX_ROW("e") HEX_ROW("f");
_Static_assert(sizeof(hex_pairs) == 513, "two digits for each byte value");

char *mg_hex_dump(char *dst, const unsigned char *src, size_t len)
{
    size_t i = 0;
    for (; i + 4 <= len; i += 4, dst += 8) {
        memcpy(dst, hex_pairs + 2 * src[i], 2);
        memcpy(dst + 2, hex_pairs + 2 * src[i + 1], 2);
        memcpy(dst + 4, hex_pairs + 2 * src[i + 2], 2);
        memcpy(dst + 6, hex_pairs + 2 * src[i + 3], 2);
    }
    for (; i < len; i++, dst += 2) {
        memcpy(dst, hex_pairs + 2 * src[i], 2);
    }
    return dst;
}

char *mg_put_hex(char *p, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    /* the digits counted from the highest set bit and written in place from their end, as
     * mg_put_uint's (a static file's ETag writes two numbers a response) */
    size_t n = (size_t)(64 - __builtin_clzll(v | 1) + 3) / 4;
    char *e = p + n;
    do {
        *--e = digits[v & 0xf];
        v >>= 4;
    } while (v);
    return p + n;
}

char *mg_vsprintf_end(char *buf, char *end, const char *fmt, va_list ap)
{
    if (buf >= end) {
        return buf;
    }
    int n = vsnprintf(buf, (size_t)(end - buf), fmt, ap);
    if (n < 0) {
        return buf;
    }
    /* on truncation vsnprintf wrote end - buf - 1 bytes and a NUL */
    return (size_t)n >= (size_t)(end - buf) ? end - 1 : buf + n;
}

char *mg_sprintf_end(char *buf, char *end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = mg_vsprintf_end(buf, end, fmt, ap);
    va_end(ap);
    return p;
}

static int base64_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

mg_int_t mg_base64_decode(mg_str_t src, unsigned char *dst, size_t *dlen)
{
    size_t len = 0;
    while (len < src.len && src.data[len] != '=') {
        if (base64_digit((unsigned char)src.data[len]) < 0) {
            return MG_ERROR;
        }
        len++;
    }
    if (len % 4 == 1) {
        return MG_ERROR;
    }
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 6) | (unsigned)base64_digit((unsigned char)src.data[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (unsigned char)(acc >> bits);
        }
    }
    *dlen = o;
    return MG_OK;
}

size_t mg_base64_encode(const unsigned char *src, size_t len, char *dst)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)src[i] << 16;
        if (i + 1 < len) {
            v |= (unsigned)src[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= src[i + 2];
        }
        dst[o++] = digits[(v >> 18) & 0x3f];
        dst[o++] = digits[(v >> 12) & 0x3f];
        dst[o++] = i + 1 < len ? digits[(v >> 6) & 0x3f] : '=';
        dst[o++] = i + 2 < len ? digits[v & 0x3f] : '=';
    }
    return o;
}
