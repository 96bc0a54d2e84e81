/*
 * CRC-32 (the gzip/zlib polynomial), zlib's crc32() with a faster path: on x86-64 CPUs with
 * PCLMULQDQ, long buffers are folded 64 bytes a step with carry-less multiplies (crc32.c).
 * Used by the gzip filter, which writes the gzip trailer itself over raw deflate.
 */
#ifndef MG_CRC32_H
#define MG_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of crc's message followed by len bytes at p, as zlib's crc32(crc, p, len):
 * start with 0; any split of the message gives the same result. */
uint32_t mg_crc32(uint32_t crc, const void *p, size_t len);

#endif
