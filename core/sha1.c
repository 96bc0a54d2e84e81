/*
 * SHA-1 as FIPS 180-4 section 6.1 specifies it (big-endian words, an 80-word schedule kept
 * as a 16-word ring) and HMAC over it per RFC 2104. Written from the standards.
 */
#include "mg.h"

#include "sha1.h"

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t state[5], const unsigned char *p)
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++) {
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
    for (int t = 0; t < 80; t++) {
        if (t >= 16) {
            /* W[t] = ROTL1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]), in place of W[t-16] */
            w[t % 16] = rotl(w[(t - 3) % 16] ^ w[(t - 8) % 16] ^ w[(t - 14) % 16] ^ w[t % 16], 1);
        }
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t tmp = rotl(a, 5) + f + e + k + w[t % 16];
        e = d;
        d = c;
        c = rotl(b, 30);
        b = a;
        a = tmp;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
}

void mg_sha1_init(mg_sha1_t *ctx)
{
    ctx->state[0] = 0x67452301;
    ctx->state[1] = 0xefcdab89;
    ctx->state[2] = 0x98badcfe;
    ctx->state[3] = 0x10325476;
    ctx->state[4] = 0xc3d2e1f0;
    ctx->bytes = 0;
}

void mg_sha1_update(mg_sha1_t *ctx, const void *data, size_t len)
{
    mg_digest64_update(ctx, data, len, sha1_block);
}

void mg_sha1_final(mg_sha1_t *ctx, unsigned char out[MG_SHA1_DIGEST_LEN])
{
    mg_digest64_pad(ctx, 1, sha1_block);
    for (int i = 0; i < 5; i++) {
        for (int j = 0; j < 4; j++) {
            out[4 * i + j] = (unsigned char)(ctx->state[i] >> (24 - 8 * j));
        }
    }
}

void mg_sha1(const void *data, size_t len, unsigned char out[MG_SHA1_DIGEST_LEN])
{
    mg_sha1_t ctx;
    mg_sha1_init(&ctx);
    mg_sha1_update(&ctx, data, len);
    mg_sha1_final(&ctx, out);
}

void mg_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len,
                  unsigned char out[MG_SHA1_DIGEST_LEN])
{
    unsigned char k[64] = { 0 }, pad[64], inner[MG_SHA1_DIGEST_LEN];
    if (key_len > sizeof(k)) {
        mg_sha1(key, key_len, k);
    } else if (key_len) {
        memcpy(k, key, key_len);
    }
    mg_sha1_t ctx;
    for (int i = 0; i < 64; i++) {
        pad[i] = k[i] ^ 0x36;
    }
    mg_sha1_init(&ctx);
    mg_sha1_update(&ctx, pad, sizeof(pad));
    mg_sha1_update(&ctx, msg, msg_len);
    mg_sha1_final(&ctx, inner);
    for (int i = 0; i < 64; i++) {
        pad[i] = k[i] ^ 0x5c;
    }
    mg_sha1_init(&ctx);
    mg_sha1_update(&ctx, pad, sizeof(pad));
    mg_sha1_update(&ctx, inner, sizeof(inner));
    mg_sha1_final(&ctx, out);
}
