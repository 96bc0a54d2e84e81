/*
 * Unit tests for core/crc32.c: the check value, the fold constants recomputed from the
 * polynomial, and mg_crc32 against zlib's crc32 over random lengths, alignments, starting
 * values and splits (the folding path itself too, from 64 bytes, where the CPU has it).
 */
#include "mg.h"

#include "../../core/crc32.c"

#include "tap.h"

/* x^n mod P (P = x^32 + 0x04C11DB7), bits reversed, shifted up by 1 */
static uint64_t fold_constant(int n)
{
    uint64_t r = 1;
    for (int i = 0; i < n; i++) {
        r <<= 1;
        if (r & 0x100000000ULL) {
            r ^= 0x104C11DB7ULL;
        }
    }
    uint64_t v = 0;
    for (int i = 0; i < 32; i++) {
        v |= ((r >> i) & 1) << (31 - i);
    }
    return v << 1;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void test_constants(void)
{
    is_int((long long)fold_constant(544), (long long)CRC32_K544, "x^544 mod P");
    is_int((long long)fold_constant(480), (long long)CRC32_K480, "x^480 mod P");
    is_int((long long)fold_constant(160), (long long)CRC32_K160, "x^160 mod P");
    is_int((long long)fold_constant(96), (long long)CRC32_K96, "x^96 mod P");
}

static void test_check_value(void)
{
    is_int(mg_crc32(0, "123456789", 9), 0xcbf43926, "the CRC-32 check value");
    is_int(mg_crc32(0, NULL, 0), 0, "nothing");
    unsigned char z[1000] = {0};
    is_int(mg_crc32(0, z, sizeof(z)), (long long)crc32(0, z, sizeof(z)), "1000 zero bytes");
    memset(z, 0xff, sizeof(z));
    is_int(mg_crc32(0xffffffff, z, sizeof(z)), (long long)crc32(0xffffffff, z, sizeof(z)),
           "1000 0xff bytes from ~0");
}

/* every length to 600 at every alignment to 64, then random ones to 64 KiB */
static void test_random(void)
{
    size_t size = 65536 + 64;
    unsigned char *buf = malloc(size);
    for (size_t i = 0; i < size; i++) {
        buf[i] = (unsigned char)rnd();
    }
    int bad = 0, n = 0;
    for (size_t len = 0; len <= 600; len++) {
        for (size_t off = 0; off < 64; off++, n++) {
            uint32_t c = len & 1 ? rnd() : 0;
            bad += mg_crc32(c, buf + off, len) != crc32(c, buf + off, (uInt)len);
        }
    }
    for (int i = 0; i < 3000; i++, n++) {
        size_t len = rnd() % 65537, off = rnd() % 64;
        uint32_t c = rnd();
        bad += mg_crc32(c, buf + off, len) != crc32(c, buf + off, (uInt)len);
    }
    is_int(bad, 0, "%d lengths and alignments agree with zlib", n);

    bad = 0;
    for (int i = 0; i < 500; i++) {
        size_t len = rnd() % 65537, off = rnd() % 64, done = 0;
        uint32_t c = 0;
        while (done < len) {
            size_t piece = rnd() % 3 ? rnd() % 300 : rnd() % 9000;
            piece = piece > len - done ? len - done : piece;
            c = mg_crc32(c, buf + off + done, piece);
            done += piece;
        }
        bad += c != crc32(0, buf + off, (uInt)len);
    }
    is_int(bad, 0, "500 messages in random pieces agree with one zlib call");

#ifdef CRC32_HAVE_FOLD
    if (__builtin_cpu_supports("pclmul")) {
        bad = 0;
        for (size_t len = 64; len <= 1100; len++) {
            uint32_t c = rnd();
            bad += crc32_fold(c, buf + len % 61, len) != crc32(c, buf + len % 61, (uInt)len);
        }
        is_int(bad, 0, "the folding path from 64 bytes agrees with zlib");
    } else {
        ok(1, "# skip: this CPU has no PCLMULQDQ, zlib's code is used");
    }
#else
    ok(1, "# skip: no folding path on this architecture");
#endif
    free(buf);
}

int main(void)
{
    test_constants();
    test_check_value();
    test_random();
    return done_testing();
}
