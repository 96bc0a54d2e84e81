/*
 * MD5 (RFC 1321): an incremental context and a one-call helper. Used by ngx.md5/md5_bin
 * (lua/string.c); MD5 is no security primitive here, only a checksum users expect.
 */
#ifndef MG_MD5_H
#define MG_MD5_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

#define MG_MD5_DIGEST_LEN 16

typedef mg_digest64_t mg_md5_t; /* state[0..3] used */

/* Start a digest; a context may be reused after mg_md5_final by calling this again. */
void mg_md5_init(mg_md5_t *ctx);
/* Add len bytes of data (any length, any number of calls). */
void mg_md5_update(mg_md5_t *ctx, const void *data, size_t len);
/* Pad, write the 16-byte digest to out; the context is spent afterwards. */
void mg_md5_final(mg_md5_t *ctx, unsigned char out[MG_MD5_DIGEST_LEN]);
/* The digest of one buffer. */
void mg_md5(const void *data, size_t len, unsigned char out[MG_MD5_DIGEST_LEN]);

#endif
