/*
 * libFuzzer target for core/crc32.c: mg_crc32 (the PCLMULQDQ folding path from 128 bytes where
 * the CPU has it) must give zlib's crc32 for any data, starting value and split. The input's
 * first 6 bytes are the starting CRC (3), two cut points and an alignment; the rest is the
 * message, copied to the end of a block at the alignment picked (reading past it is caught). The
 * folding path is also run alone on every message of 64 bytes or more.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=crc32)
 */
#include <stdlib.h>
#include <string.h>

#include "../../core/crc32.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6) {
        return 0;
    }
    uint32_t crc = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16;
    size_t align = data[5] % 16;
    data += 6;
    size -= 6;
    unsigned char *mem = malloc(size + align + 1); /* the message ends where the block does */
    unsigned char *msg = mem + align + 1;
    memcpy(msg, data, size);

    uint32_t want = (uint32_t)crc32(crc, msg, (uInt)size);
    if (mg_crc32(crc, msg, size) != want) {
        abort();
    }
    size_t cut1 = size ? (size_t)data[-3] * 7 % (size + 1) : 0;
    size_t cut2 = size ? (size_t)data[-2] * 13 % (size + 1) : 0;
    if (cut1 > cut2) {
        size_t t = cut1;
        cut1 = cut2;
        cut2 = t;
    }
    uint32_t c = mg_crc32(crc, msg, cut1);
    c = mg_crc32(c, msg + cut1, cut2 - cut1);
    c = mg_crc32(c, msg + cut2, size - cut2);
    if (c != want) {
        abort();
    }
#ifdef CRC32_HAVE_FOLD
    if (size >= 64 && __builtin_cpu_supports("pclmul") && crc32_fold(crc, msg, size) != want) {
        abort();
    }
#endif
    free(mem);
    return 0;
}
