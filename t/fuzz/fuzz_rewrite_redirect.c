/*
 * libFuzzer target for a rewrite redirect's target (modules/rewrite.c unescape_redirect, over
 * mg_http_unescape's REDIRECT mode), included for its static function. Beyond crashes it
 * compares the result with a byte-at-a-time model of nginx's unescaping of a redirect, written
 * here as a state machine: "%XY" of a printable byte after '%' is decoded, other escapes stay,
 * a malformed one is dropped, and a '?' (literal or "%3F") ends the decoding, the rest copied.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=rewrite_redirect)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/rewrite.c"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* the model: returns the output length */
static size_t model(const unsigned char *in, size_t len, unsigned char *out)
{
    enum { PLAIN, PCT, PCT_HI } st = PLAIN;
    size_t o = 0;
    int hi = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];
        if (st == PLAIN) {
            if (c == '%') {
                st = PCT;
                continue;
            }
            out[o++] = c;
            if (c == '?') {
                memcpy(out + o, in + i + 1, len - i - 1);
                return o + len - i - 1;
            }
        } else if (st == PCT) {
            hi = hexval(c);
            if (hi < 0) {
                out[o++] = c; /* the '%' goes, this byte stays */
                st = PLAIN;
            } else {
                st = PCT_HI;
            }
        } else {
            st = PLAIN;
            int lo = hexval(c);
            if (lo < 0) {
                continue; /* "%X" and this byte go */
            }
            unsigned char d = (unsigned char)(hi << 4 | lo);
            if (d == '?') {
                out[o++] = d;
                memcpy(out + o, in + i + 1, len - i - 1);
                return o + len - i - 1;
            }
            if (d > '%' && d < 0x7f) {
                out[o++] = d;
            } else {
                memcpy(out + o, in + i - 2, 3);
                o += 3;
            }
        }
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exactly sized copy: reading past it is caught */
    char *in = malloc(size ? size : 1);
    memcpy(in, data, size);
    unsigned char *want = malloc(size + 1);
    size_t wn = model((const unsigned char *)in, size, want);

    mg_connection_t c;
    mg_request_t r;
    memset(&c, 0, sizeof(c));
    memset(&r, 0, sizeof(r));
    r.connection = &c;
    r.pool = mg_pool_create(1024);
    mg_str_t got = unescape_redirect(&r, (mg_str_t){size, in});
    if (got.len > size || got.data[got.len] != '\0' || got.len != wn ||
        memcmp(got.data, want, wn) != 0) {
        fprintf(stderr, "input \"%.*s\": got \"%.*s\", want \"%.*s\"\n", (int)size, in,
                (int)got.len, got.data, (int)wn, want);
        abort();
    }
    mg_pool_destroy(r.pool);
    free(want);
    free(in);
    return 0;
}
