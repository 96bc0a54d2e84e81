/*
 * CRC-32 by folding (x86-64 with PCLMULQDQ), zlib's table code elsewhere.
 *
 * The CRC is the message as a polynomial over GF(2), times x^32, modulo P (0x104C11DB7),
 * bits taken least significant first (reflected), with the register inverted before and
 * after. Without those inversions the remainder is linear: the CRC of A followed by B is that
 * of (A * x^|B| mod P) followed by B. Folding uses it: four 16-byte accumulators each stand for
 * a part of the message already read, and moving one 64 bytes further on multiplies it by
 * x^512 modulo P. A 16-byte accumulator's two halves are multiplied separately by the constant
 * x^(512+32) or x^(512-32) mod P (carry-less, PCLMULQDQ), which keeps each product within 128
 * bits at the same alignment as the next block it is XORed with; why those exponents: a
 * reflected 64x64 product comes out one bit up (x^1), the constant is kept 33 bits wide
 * shifted by one, and the first half of a block is 64 bits higher than the second. The four
 * are then folded into one (x^(128+-32): 16 bytes apart), blocks of 16 go on the same way, and
 * what stays is a 16-byte message with the same remainder as everything before it: zlib's
 * crc32() finishes it and the tail of under 16 bytes, so no Barrett reduction is needed. The
 * initial register goes in by XORing it (inverted) into the first 4 bytes, which is what the
 * table code does with it too. The constants were computed for this file (x^n mod P, bits
 * reversed, shifted by 1): see t/unit/test_crc32.c, which recomputes them.
 */
#include <zlib.h>

#include "crc32.h"

/* x^n mod P with the bits reversed, shifted up by 1 (33 bits): n = 512+32, 512-32, 128+32,
 * 128-32, the fold constants for blocks 64 and 16 bytes apart */
#define CRC32_K544 0x154442bd4ULL
#define CRC32_K480 0x1c6e41596ULL
#define CRC32_K160 0x1751997d0ULL
#define CRC32_K96 0x0ccaa009eULL

/* Below this zlib's code is as quick: the fold's setup and the 16-byte finish cost the same. */
#define CRC32_FOLD_MIN 128

static uint32_t crc32_portable(uint32_t crc, const void *p, size_t len)
{
    const unsigned char *s = p;
    while (len > 0) {
        uInt n = len > 0x40000000 ? 0x40000000 : (uInt)len; /* uInt lengths */
        crc = (uint32_t)crc32(crc, s, n);
        s += n;
        len -= n;
    }
    return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define CRC32_HAVE_FOLD 1

#define CRC32_FOLD_TARGET __attribute__((target("pclmul,sse2")))

/* x * x^(d) folded onto the block d bits later: low half times k_lo, high half times k_hi. */
CRC32_FOLD_TARGET static inline __m128i fold(__m128i x, __m128i k)
{
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* len >= 64 */
CRC32_FOLD_TARGET static uint32_t crc32_fold(uint32_t crc, const unsigned char *p, size_t len)
{
    /* {low half, high half}: x^(512+32), x^(512-32); x^(128+32), x^(128-32) mod P */
    const __m128i k512 = _mm_set_epi64x((long long)CRC32_K480, (long long)CRC32_K544);
    const __m128i k128 = _mm_set_epi64x((long long)CRC32_K96, (long long)CRC32_K160);
    __m128i x0 = _mm_loadu_si128((const __m128i *)p);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)~crc));
    p += 64;
    len -= 64;
    while (len >= 64) {
        x0 = _mm_xor_si128(fold(x0, k512), _mm_loadu_si128((const __m128i *)p));
        x1 = _mm_xor_si128(fold(x1, k512), _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = _mm_xor_si128(fold(x2, k512), _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = _mm_xor_si128(fold(x3, k512), _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        len -= 64;
    }
    __m128i x = _mm_xor_si128(fold(x0, k128), x1);
    x = _mm_xor_si128(fold(x, k128), x2);
    x = _mm_xor_si128(fold(x, k128), x3);
    while (len >= 16) {
        x = _mm_xor_si128(fold(x, k128), _mm_loadu_si128((const __m128i *)p));
        p += 16;
        len -= 16;
    }
    unsigned char rest[16];
    _mm_storeu_si128((__m128i *)rest, x);
    /* the register is in the data now: zlib's pre-inversion of ~0 leaves it at 0 */
    crc = (uint32_t)crc32(0xffffffff, rest, sizeof(rest));
    return (uint32_t)crc32(crc, p, (uInt)len);
}

uint32_t mg_crc32(uint32_t crc, const void *p, size_t len)
{
    /* cpuid's answer, read once by libgcc's constructor: a load and a test */
    if (len >= CRC32_FOLD_MIN && __builtin_cpu_supports("pclmul")) {
        return crc32_fold(crc, p, len);
    }
    return crc32_portable(crc, p, len);
}

#else

uint32_t mg_crc32(uint32_t crc, const void *p, size_t len)
{
    return crc32_portable(crc, p, len);
}

#endif
