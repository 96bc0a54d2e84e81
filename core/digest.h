/*
 * What MD5 and SHA-1 share (both are Merkle-Damgard over 64-byte blocks): feeding input of
 * any length through a block function, and the final padding (0x80, zeros, the message length
 * in bits in the hash's byte order).
 */
#ifndef MG_DIGEST_H
#define MG_DIGEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[5];     /* MD5 uses four words */
    uint64_t bytes;        /* message length so far */
    unsigned char buf[64]; /* a partial block, bytes % 64 of it in use */
} mg_digest64_t;

typedef void (*mg_digest64_block_pt)(uint32_t *state, const unsigned char *block);

/* Add len bytes (data may be NULL when len is 0). */
void mg_digest64_update(mg_digest64_t *ctx, const void *data, size_t len,
                        mg_digest64_block_pt block);
/* Pad the message (the context is spent: only its state is read after); big_endian: how the
 * bit length is written (SHA-1 yes, MD5 no). */
void mg_digest64_pad(mg_digest64_t *ctx, int big_endian, mg_digest64_block_pt block);

#endif
