/*
 * String helpers over mg_str_t and the nginx-compatible value parsers
 * (numbers, sizes "8k", times "1h 30m").
 */
#ifndef MG_STR_H
#define MG_STR_H

#include <stdarg.h>

#include "mg.h"

static inline int mg_str_eq(mg_str_t a, const char *lit)
{
    size_t n = strlen(lit);
    return a.len == n && memcmp(a.data, lit, n) == 0;
}

static inline int mg_str_eq_str(mg_str_t a, mg_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

int mg_strncasecmp(const char *a, const char *b, size_t n);
/* inline, as mg_str_eq: with a literal the length is a constant and a name of another length
 * (most, in a loop over header lines) costs a compare, not a call, strlen and a loop */
static inline int mg_str_caseeq(mg_str_t a, const char *lit)
{
    size_t n = strlen(lit);
    return a.len == n && mg_strncasecmp(a.data, lit, n) == 0;
}
void mg_strlow(char *dst, const char *src, size_t n);
/* Eight bytes of a word at a time: MG_BYTES_01/_80 hold 0x01/0x80 in each byte;
 * mg_word_has_below says whether a byte of w is below n (n <= 0x80; exact as a yes or no, not
 * which byte), mg_word_has_byte whether one equals c. */
#define MG_BYTES_01 0x0101010101010101ULL
#define MG_BYTES_80 0x8080808080808080ULL
static inline uint64_t mg_word_has_below(uint64_t w, unsigned n)
{
    return (w - MG_BYTES_01 * n) & ~w & MG_BYTES_80;
}
static inline uint64_t mg_word_has_byte(uint64_t w, unsigned c)
{
    return mg_word_has_below(w ^ (MG_BYTES_01 * c), 1);
}
const char *mg_strlcasestrn(const char *s, const char *end, const char *needle, size_t n);

/* Decimal number; -1 if not all digits or on overflow. */
int64_t mg_atoi(const char *s, size_t len);
/* The value of a hex digit (either case), or -1 for any other byte. */
static inline int mg_hex_digit(unsigned char c)
{
    if ((unsigned)(c - '0') < 10) {
        return c - '0';
    }
    c |= 0x20;
    return (unsigned)(c - 'a') < 6 ? c - 'a' + 10 : -1;
}
/* Hex number; -1 on error. */
int64_t mg_hextoi(const char *s, size_t len);
/* Size with optional k/K/m/M suffix, as nginx's sizes; -1 on error. */
int64_t mg_parse_size(mg_str_t s);
/* Offset (nginx's off_t values): g/G too; -1 on error. */
int64_t mg_parse_offset(mg_str_t s);
/* nginx time syntax ("30", "68000ms", "1h 30m", "7d", "1h30"); msec or sec result; -1 on
 * error. A bare number is seconds; "M" and "y" only with want_seconds, "ms" only without. */
int64_t mg_parse_time(mg_str_t s, int want_seconds);

/* Base64 (RFC 4648, standard alphabet) as nginx reads it: the input ends at the first '=';
 * any other byte outside the alphabet, or a length that cannot encode whole bytes, is an
 * error. dst needs mg_base64_decoded_len(src.len) bytes. MG_OK with *dlen, or MG_ERROR. */
#define mg_base64_decoded_len(n) (((n) + 3) / 4 * 3)
mg_int_t mg_base64_decode(mg_str_t src, unsigned char *dst, size_t *dlen);
/* Encode with '=' padding; dst needs mg_base64_encoded_len(len) bytes; returns the length. */
#define mg_base64_encoded_len(n) (((n) + 2) / 3 * 4)
size_t mg_base64_encode(const unsigned char *src, size_t len, char *dst);

/* Numbers written where printf's machinery costs too much per request (response headers,
 * ETags): decimal or lowercase hex digits at p, no NUL; returns the pointer after them.
 * p needs MG_INT_TEXT_MAX bytes. */
#define MG_INT_TEXT_MAX 20
char *mg_put_uint(char *p, uint64_t v);
char *mg_put_hex(char *p, uint64_t v);
/* Three digits, zero-padded, of v % 1000 (a status code, as "%03u" without printf's cost) at p;
 * returns p + 3. */
char *mg_put_uint3(char *p, uint64_t v);
/* Milliseconds as seconds with three decimals ("%llu.%03llu" without printf's cost: $request_time,
 * $msec, $upstream_response_time) at p; p needs MG_INT_TEXT_MAX + 4 bytes; returns the end. */
char *mg_put_msec(char *p, uint64_t ms);
/* The lowercase hex of src[0..len) at dst (2 * len bytes, no NUL); returns the end. */
char *mg_hex_dump(char *dst, const unsigned char *src, size_t len);

/* Format into buf; returns pointer after the last written char (no NUL). */
char *mg_vsprintf_end(char *buf, char *end, const char *fmt, va_list ap);
char *mg_sprintf_end(char *buf, char *end, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
