/*
 * libFuzzer target for the charset module's recoder (modules/charset.c's recode and its UTF-8
 * reader, included here for their static functions) on a made-up charset_map: bytes 0x80-0xff
 * are U+0400 + (byte - 0x80), so UTF-8 in both directions and 8 -> 8 are exercised. The
 * input's first byte picks the mode and the piece size the rest is fed in, as body buffers
 * cut it (a UTF-8 sequence may be cut anywhere). Beyond reading only inside each piece, its
 * output must fit the room recode promises (4n + 16, an exactly sized buffer here), and
 * without invalid sequences the result must be the one of the input fed whole. Buffers
 * without data (NULL, as a flush's) come between pieces of even sizes.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=charset)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/charset.c"

static cs_table_t table;

static void make_table(void)
{
    static unsigned char fwd_utf8[256 * 5];
    static uint32_t ucode[128];
    static unsigned char ubyte[128];
    for (int b = 0; b < 256; b++) {
        table.fwd[b] = (unsigned char)(b < 0x80 ? b : b ^ 0x20);
        table.back[b] = (unsigned char)(b < 0x80 ? b : b ^ 0x20);
        unsigned char *e = &fwd_utf8[b * 5];
        if (b < 0x80) {
            e[0] = 1;
            e[1] = (unsigned char)b;
        } else {
            uint32_t u = 0x400 + (uint32_t)(b - 0x80);
            e[0] = 2;
            e[1] = (unsigned char)(0xc0 | (u >> 6));
            e[2] = (unsigned char)(0x80 | (u & 0x3f));
            ucode[b - 0x80] = u;
            ubyte[b - 0x80] = (unsigned char)b;
        }
    }
    table.fwd_utf8 = fwd_utf8;
    table.ucode = ucode;
    table.ubyte = ubyte;
    table.nu = 128;
}

typedef struct {
    char *buf;
    size_t len;
} out_t;

static void feed(const uint8_t *d, size_t n, size_t step, int mode, int reverse, out_t *res)
{
    cs_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.table = &table;
    ctx.mode = mode;
    ctx.reverse = reverse;
    res->buf = malloc(4 * n + 16 * (n / step + 2));
    res->len = 0;
    size_t at = 0;
    do {
        size_t len = n - at < step ? n - at : step;
        /* exactly sized: reading before or past the piece is caught */
        unsigned char *piece = malloc(len ? len : 1);
        memcpy(piece, d + at, len);
        char *o = malloc(4 * len + 16);
        /* a buffer without data (a flush, an empty last one) has no pointer */
        char *e = recode(&ctx, len ? piece : NULL, len, at + len == n, o);
        if (e < o || e > o + 4 * len + 16) {
            abort();
        }
        if (step % 2 == 0 && at + len < n && recode(&ctx, NULL, 0, 0, e) != e) {
            abort(); /* a flush between pieces adds nothing */
        }
        memcpy(res->buf + res->len, o, (size_t)(e - o));
        res->len += (size_t)(e - o);
        free(o);
        free(piece);
        at += len;
    } while (at < n);
    if (ctx.npart) {
        abort(); /* the end must flush a cut sequence */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if (table.nu == 0) {
        make_table();
    }
    int mode = data[0] % 3, reverse = (data[0] >> 5) & 1;
    size_t step = 1 + (data[0] >> 2) % 8;
    data++;
    size--;
    out_t whole, pieces;
    feed(data, size, size ? size : 1, mode, reverse, &whole);
    feed(data, size, step, mode, reverse, &pieces);
    /* an invalid sequence cut between pieces loses the earlier piece's bytes of it (as in
     * nginx), so the cut matters only when there is one ("?" out, none in) */
    int invalid = memchr(whole.buf, '?', whole.len) || memchr(data, '?', size);
    if (!invalid && (whole.len != pieces.len || memcmp(whole.buf, pieces.buf, whole.len) != 0)) {
        abort();
    }
    free(whole.buf);
    free(pieces.buf);
    return 0;
}
