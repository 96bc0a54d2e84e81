/*
 * SHA-1 (FIPS 180-4) and HMAC-SHA1 (RFC 2104): an incremental context and one-call helpers,
 * behind ngx.sha1_bin and ngx.hmac_sha1 (lua/string.c).
 */
#ifndef MG_SHA1_H
#define MG_SHA1_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

#define MG_SHA1_DIGEST_LEN 20

typedef mg_digest64_t mg_sha1_t; /* state[0..4] used */

/* Start a digest; a context may be reused after mg_sha1_final by calling this again. */
void mg_sha1_init(mg_sha1_t *ctx);
/* Add len bytes of data (any length, any number of calls). */
void mg_sha1_update(mg_sha1_t *ctx, const void *data, size_t len);
/* Pad, write the 20-byte digest to out; the context is spent afterwards. */
void mg_sha1_final(mg_sha1_t *ctx, unsigned char out[MG_SHA1_DIGEST_LEN]);
/* The digest of one buffer. */
void mg_sha1(const void *data, size_t len, unsigned char out[MG_SHA1_DIGEST_LEN]);
/* HMAC-SHA1 of msg under key (a key longer than a block is hashed first, as RFC 2104 says). */
void mg_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len,
                  unsigned char out[MG_SHA1_DIGEST_LEN]);

#endif
