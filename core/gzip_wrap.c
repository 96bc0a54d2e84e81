/*
 * The gzip member's header and trailer (gzip_wrap.h).
 */
#include <string.h>

#include "gzip_wrap.h"

void mg_gzip_head(unsigned char out[MG_GZIP_HEAD_LEN], int level)
{
    static const unsigned char head[MG_GZIP_HEAD_LEN] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    memcpy(out, head, sizeof(head));
    out[8] = level == 9 ? 2 : level < 2 ? 4 : 0;
}

void mg_gzip_trailer(unsigned char out[MG_GZIP_TRAILER_LEN], uint32_t crc, uint32_t len)
{
    uint32_t v[2] = {crc, len};
    for (int i = 0; i < MG_GZIP_TRAILER_LEN; i++) {
        out[i] = (unsigned char)(v[i / 4] >> (i % 4 * 8));
    }
}
