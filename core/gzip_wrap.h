/*
 * The gzip member's wrapper (RFC 1952) around zlib's raw deflate, for the writers that
 * compress with negative window bits and take the CRC-32 with core/crc32.c's mg_crc32 (faster
 * than zlib's table code, which its own gzip wrapper would run): the gzip filter, which
 * streams it, and access_log's gzip, which writes a member at once.
 */
#ifndef MG_GZIP_WRAP_H
#define MG_GZIP_WRAP_H

#include <stdint.h>

#define MG_GZIP_HEAD_LEN 10
#define MG_GZIP_TRAILER_LEN 8

/* The header zlib's own wrapper writes for that level: no name or time, extra flags 4 for
 * the fastest level and 2 for the best, OS 3 (Unix). */
void mg_gzip_head(unsigned char out[MG_GZIP_HEAD_LEN], int level);
/* The trailer: the CRC-32 and the length of the input mod 2^32, both little-endian. */
void mg_gzip_trailer(unsigned char out[MG_GZIP_TRAILER_LEN], uint32_t crc, uint32_t len);

#endif
