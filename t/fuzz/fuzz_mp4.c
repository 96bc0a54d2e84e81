/*
 * libFuzzer target for the mp4 rewriter (modules/mp4_parse.c), which reads untrusted files:
 * the input's first 9 bytes are the request (a flag byte: bit 0 mp4_start_key_frame, bit 1 a
 * 2 KB mp4_max_buffer_size, bit 2 a 24-byte mp4_buffer_size read-ahead; start and end - start
 * in ms, 32 bits each), the rest is the file,
 * read through the callback in pieces of at most 7 bytes. A rewrite must describe bytes inside
 * the file and a moov whose atoms nest inside it.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=mp4)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "mp4.h"

typedef struct {
    const uint8_t *data;
    size_t size;
} file_t;

static ssize_t read_mem(void *data, uint8_t *buf, size_t len, off_t offset)
{
    file_t *f = data;
    if (offset < 0) {
        abort();
    }
    if ((size_t)offset >= f->size) {
        return 0;
    }
    size_t n = f->size - (size_t)offset;
    if (n > len) {
        n = len;
    }
    if (n > 7) {
        n = 7;
    }
    memcpy(buf, f->data + offset, n);
    return (ssize_t)n;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* the atoms in [p, p + len) fill it exactly; containers are walked */
static void check_atoms(const uint8_t *p, size_t len, int depth)
{
    static const char *containers[] = {"moov", "trak", "mdia", "minf", "stbl", "edts"};
    size_t at = 0;
    while (at < len) {
        if (len - at < 8) {
            abort();
        }
        uint64_t size = get32(p + at);
        size_t hdr = 8;
        if (size == 1 && len - at >= 16) { /* a leaf copied with its 64-bit size */
            size = (uint64_t)get32(p + at + 8) << 32 | get32(p + at + 12);
            hdr = 16;
        }
        if (size < hdr || size > len - at) {
            abort();
        }
        for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++) {
            if (depth < 8 && hdr == 8 && memcmp(p + at + 4, containers[i], 4) == 0) {
                check_atoms(p + at + 8, (size_t)size - 8, depth + 1);
            }
        }
        at += size;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9) {
        return 0;
    }
    file_t f = {data + 9, size - 9};
    mg_mp4_t m = {.read = read_mem,
                  .data = &f,
                  .size = (off_t)f.size,
                  .path = "/fuzz.mp4",
                  .buffer_size = data[0] & 4 ? 24 : 0,
                  .max_buffer_size = data[0] & 2 ? 2048 : 10 * 1024 * 1024,
                  .start_key_frame = data[0] & 1,
                  .start = get32(data + 1),
                  .length = get32(data + 5)};
    mg_pool_t *pool = mg_pool_create(4096);
    mg_int_t rc = mg_mp4_rewrite(&m, pool);
    if (rc == MG_ERROR && (m.error == NULL || m.error[0] == '\0')) {
        abort();
    }
    if (rc == MG_OK) {
        if (m.data_start < 0 || m.data_start >= m.data_end || m.data_end > m.size ||
            m.ftyp.len > f.size || m.moov.len < 8 || get32((uint8_t *)m.moov.data) != m.moov.len ||
            (m.mdat_header.len != 8 && m.mdat_header.len != 16)) {
            abort();
        }
        check_atoms((uint8_t *)m.moov.data, m.moov.len, 0);
    }
    mg_pool_destroy(pool);
    return 0;
}
