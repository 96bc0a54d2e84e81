/*
 * MD5 as RFC 1321 specifies it: 64-byte blocks, four rounds of 16 steps over a little-endian
 * message schedule. Written from the RFC's description; a loop per round, no per-step macros.
 */
#include "mg.h"

#include "md5.h"

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4 */
static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* the message word each step reads: i, 5i + 1, 3i + 5, 7i (mod 16) in rounds 1 to 4 */
static const unsigned char md5_k[64] = {
    0,  1,  2,  3,  4, 5, 6,  7, 8,  9,  10, 11, 12, 13, 14, 15, 1, 6,  11, 0, 5, 10,
    15, 4,  9,  14, 3, 8, 13, 2, 7,  12, 5,  8,  11, 14, 1,  4,  7, 10, 13, 0, 3, 6,
    9,  12, 15, 2,  0, 7, 14, 5, 12, 3,  10, 1,  8,  15, 6,  13, 4, 11, 2,  9,
};

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

/* One step: the new value of a (RFC 1321's "a = b + ((a + F(b,c,d) + X[k] + T[i]) <<< s)") */
static inline uint32_t step(uint32_t a, uint32_t b, uint32_t f, uint32_t xt, unsigned s)
{
    return b + rotl(a + f + xt, s);
}

/* Each round is a loop of four steps whose shifts are constants and whose registers take
 * turns in place (no rotation of a, b, c, d through temporaries), unrolled so that the word
 * indexes and constants are immediates: the per-step switch and division this replaced cost
 * three times the instructions per block. */
static void md5_block(uint32_t state[4], const unsigned char *p)
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++) {
        x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    const uint32_t *t = md5_t;
    const unsigned char *k = md5_k;
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4, t += 4, k += 4) {
        a = step(a, b, (b & c) | (~b & d), x[k[0]] + t[0], 7);
        d = step(d, a, (a & b) | (~a & c), x[k[1]] + t[1], 12);
        c = step(c, d, (d & a) | (~d & b), x[k[2]] + t[2], 17);
        b = step(b, c, (c & d) | (~c & a), x[k[3]] + t[3], 22);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4, t += 4, k += 4) {
        a = step(a, b, (b & d) | (c & ~d), x[k[0]] + t[0], 5);
        d = step(d, a, (a & c) | (b & ~c), x[k[1]] + t[1], 9);
        c = step(c, d, (d & b) | (a & ~b), x[k[2]] + t[2], 14);
        b = step(b, c, (c & a) | (d & ~a), x[k[3]] + t[3], 20);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4, t += 4, k += 4) {
        a = step(a, b, b ^ c ^ d, x[k[0]] + t[0], 4);
        d = step(d, a, a ^ b ^ c, x[k[1]] + t[1], 11);
        c = step(c, d, d ^ a ^ b, x[k[2]] + t[2], 16);
        b = step(b, c, c ^ d ^ a, x[k[3]] + t[3], 23);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4, t += 4, k += 4) {
        a = step(a, b, c ^ (b | ~d), x[k[0]] + t[0], 6);
        d = step(d, a, b ^ (a | ~c), x[k[1]] + t[1], 10);
        c = step(c, d, a ^ (d | ~b), x[k[2]] + t[2], 15);
        b = step(b, c, d ^ (c | ~a), x[k[3]] + t[3], 21);
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

void mg_md5_init(mg_md5_t *ctx)
{
    ctx->state[0] = 0x67452301;
    ctx->state[1] = 0xefcdab89;
    ctx->state[2] = 0x98badcfe;
    ctx->state[3] = 0x10325476;
    ctx->bytes = 0;
}

void mg_md5_update(mg_md5_t *ctx, const void *data, size_t len)
{
    mg_digest64_update(ctx, data, len, md5_block);
}

void mg_md5_final(mg_md5_t *ctx, unsigned char out[MG_MD5_DIGEST_LEN])
{
    mg_digest64_pad(ctx, 0, md5_block);
    for (int i = 0; i < 4; i++) {
        uint32_t v = ctx->state[i];
        out[4 * i] = (unsigned char)v;
        out[4 * i + 1] = (unsigned char)(v >> 8);
        out[4 * i + 2] = (unsigned char)(v >> 16);
        out[4 * i + 3] = (unsigned char)(v >> 24);
    }
}

void mg_md5(const void *data, size_t len, unsigned char out[MG_MD5_DIGEST_LEN])
{
    mg_md5_t ctx;
    mg_md5_init(&ctx);
    mg_md5_update(&ctx, data, len);
    mg_md5_final(&ctx, out);
}
