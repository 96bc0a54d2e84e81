/*
 * Word-at-a-time scans shared by the head parsers (parse.c's request head, upstream_head.c's
 * response head) and the case-insensitive compare with a known lowercase name (headers_in.c's
 * known request headers, the upstream's framing and X-Accel-* lines). Inline, libc and str.h
 * only, so the unit tests and fuzz targets that include a parser's .c get them too.
 */
#ifndef MG_HTTP_SCAN_H
#define MG_HTTP_SCAN_H

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "str.h"

/* Eight bytes a step over a run of a token's bytes: a word's mask (str.h's word tests) has the
 * high bit of each byte that may end the run set. On a little-endian machine its lowest set bit
 * is exactly the first such byte (a test's borrow runs only toward the higher bytes), so the
 * run ends there; elsewhere the word is looked at byte by byte. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MG_FIRST_IN_WORD(mask) ((size_t)__builtin_ctzll(mask) / 8)
#else
#define MG_FIRST_IN_WORD(mask) ((size_t)0)
#endif

static inline uint64_t mg_load_word(const unsigned char *b)
{
    uint64_t w;
    memcpy(&w, b, 8);
    return w;
}

/* A byte a header name may hold (both parsers): not a control, space, ':' or DEL */
static inline int mg_scan_name_byte(unsigned char c)
{
    return c > 0x20 && c != ':' && c != 0x7f;
}

/* A byte that ends a header value's line or refuses it: CR, LF or NUL */
static inline int mg_scan_line_stop(unsigned char c)
{
    /* (one compare and a bit test: the three compares cost a request parser ~4 instructions a
     * line) */
    return c <= '\r' && ((1u << '\r' | 1u << '\n' | 1u) >> c & 1);
}

/* Where a header name ends (its first byte that is not mg_scan_name_byte), or len. */
static inline size_t mg_scan_name_end(const unsigned char *b, size_t p, size_t len)
{
    while (len - p >= 8) {
        uint64_t w = mg_load_word(b + p);
        uint64_t m =
            mg_word_has_below(w, 0x21) | mg_word_has_byte(w, ':') | mg_word_has_byte(w, 0x7f);
        if (m) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + MG_FIRST_IN_WORD(m); /* exactly the first stop byte: no test again */
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < len && mg_scan_name_byte(b[p]))
        p++;
    return p;
}

/* Where a header value's line ends (its first CR, LF or NUL), or len. A word's bytes below 0x0e
 * are those and the rare tab or other control, which the value takes. */
static inline size_t mg_scan_value_stop(const unsigned char *b, size_t p, size_t len)
{
#ifdef __SSE2__
    /* sixteen bytes a step where the target has SSE2 (every x86-64): a byte at most 0x0d is
     * its own minimum with 0x0d, and the mask's lowest bit is the first such byte */
    const __m128i top = _mm_set1_epi8(0x0d);
    while (len - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, top), x));
        if (!m) {
            p += 16;
            continue;
        }
        size_t end = p + 16;
        for (p += (size_t)__builtin_ctz(m); p < end; p++) {
            if (mg_scan_line_stop(b[p]))
                return p;
        }
    }
#endif
    while (len - p >= 8) {
        uint64_t m = mg_word_has_below(mg_load_word(b + p), 0x0e);
        if (!m) {
            p += 8;
            continue;
        }
        size_t end = p + 8;
        for (p += MG_FIRST_IN_WORD(m); p < end; p++) {
            if (mg_scan_line_stop(b[p]))
                return p;
        }
    }
    while (p < len && !mg_scan_line_stop(b[p]))
        p++;
    return p;
}

/* Whether name (n bytes, n >= 4) is the known name low in any case, eight bytes a step (a short
 * name by two four-byte halves that overlap): low's bytes must be lowercase letters and '-'
 * only, so a letter's byte of name is compared with its 0x20 bit set (only that letter, in
 * either case, has it so) and a '-' as it is. Inline and no byte loop: mg_strncasecmp cost ~50
 * instructions for "Host", a byte loop here ~12 a byte. */
static inline uint64_t mg_known_letters(uint64_t low)
{
    /* 0x20 in each byte of low that is a letter: 'a'..'z' + 0x1f reach 0x80, '-' does not */
    return ((low + MG_BYTES_01 * 0x1f) & MG_BYTES_80) >> 2;
}

static inline int mg_known_eq(const char *name, const char *low, size_t n)
{
    uint64_t a, l;
    if (n < 8) {
        uint32_t a0, a1, l0, l1;
        memcpy(&a0, name, 4);
        memcpy(&a1, name + n - 4, 4);
        memcpy(&l0, low, 4);
        memcpy(&l1, low + n - 4, 4);
        a = (uint64_t)a1 << 32 | a0;
        l = (uint64_t)l1 << 32 | l0;
        return (a | mg_known_letters(l)) == l;
    }
    uint64_t diff = 0;
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&a, name + i, 8);
        memcpy(&l, low + i, 8);
        diff |= (a | mg_known_letters(l)) ^ l;
    }
    memcpy(&a, name + n - 8, 8);
    memcpy(&l, low + n - 8, 8);
    diff |= (a | mg_known_letters(l)) ^ l;
    return diff == 0;
}

#endif
