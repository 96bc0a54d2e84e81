/*
 * The block feeding and padding MD5 and SHA-1 share (digest.h).
 */
#include "mg.h"

#include "digest.h"

void mg_digest64_update(mg_digest64_t *ctx, const void *data, size_t len,
                        mg_digest64_block_pt block)
{
    if (len == 0) {
        return; /* data may be NULL then */
    }
    const unsigned char *p = data;
    size_t used = ctx->bytes % 64;
    ctx->bytes += len;
    if (used) {
        size_t n = mg_min(64 - used, len);
        memcpy(ctx->buf + used, p, n);
        p += n;
        len -= n;
        if (used + n < 64) {
            return;
        }
        block(ctx->state, ctx->buf);
    }
    for (; len >= 64; p += 64, len -= 64) {
        block(ctx->state, p);
    }
    if (len) {
        memcpy(ctx->buf, p, len);
    }
}

void mg_digest64_pad(mg_digest64_t *ctx, int big_endian, mg_digest64_block_pt block)
{
    /* 0x80, zeros up to 56 mod 64, then the length in bits, written into the block buffer in
     * place: fed through mg_digest64_update they cost a fifth of a short key's whole hash */
    uint64_t bits = ctx->bytes * 8;
    size_t used = ctx->bytes % 64;
    ctx->buf[used++] = 0x80;
    if (used > 56) {
        memset(ctx->buf + used, 0, 64 - used);
        block(ctx->state, ctx->buf);
        used = 0;
    }
    memset(ctx->buf + used, 0, 56 - used);
    for (int i = 0; i < 8; i++) {
        ctx->buf[56 + i] = (unsigned char)(bits >> (big_endian ? 56 - 8 * i : 8 * i));
    }
    block(ctx->state, ctx->buf);
}
