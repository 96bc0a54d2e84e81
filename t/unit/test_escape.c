/*
 * parse.c's one escaper and one unescaper against the code they replaced, kept here as models:
 * the escaper's type table against the byte sets each caller had (nginx's URI and ARGS sets,
 * ngx.escape_uri's seven), over every byte; the unescaper with each flag set against the
 * unescaper that caller had (args/X-Accel-Redirect/DAV, ngx.unescape_uri, set_unescape_uri,
 * a redirect's target), over every string of up to five bytes of an alphabet of the bytes that
 * matter, and random strings.
 */
#include <stdlib.h>

#include "parse.h"
#include "str.h"

#include "tap.h"

/* ---- the models: the code before the merge ---- */

/* high: 1 DEL and the bytes >= 0x80 escaped too, 2 DEL only and not the tab or the space */
static int in_set(unsigned char c, const char *ascii, int high)
{
    if (high == 2 && (c == '\t' || c == ' ')) {
        return 0;
    }
    return c <= 0x20 || (high == 1 && c >= 0x7f) || c == (high == 2 ? 0x7f : -1) ||
           (c < 0x7f && strchr(ascii, c) != NULL);
}

static const struct {
    mg_escape_t type;
    const char *ascii;
    int high;
} sets[] = {
    {MG_ESCAPE_LUA_URI, " #%?", 1},
    {MG_ESCAPE_LUA_ARGS, " #%+?", 1},
    {MG_ESCAPE_LUA_URI_COMPONENT, " \"#$%&+,/:;<=>?@[\\]^`{|}", 1},
    {MG_ESCAPE_LUA_HTML, " \"#%'", 1},
    {MG_ESCAPE_LUA_REFRESH, " \"'", 1},
    {MG_ESCAPE_MEMCACHED, " %", 0},
    {MG_ESCAPE_MAIL_AUTH, " %", 0},
    {MG_ESCAPE_URI, "\"#%<>?\\^`{|}", 1},
    {MG_ESCAPE_ARGS, "\"#%&+;<>?\\^`{|}", 1},
    /* nginx's ngx_escape_uri tables, read bit by bit */
    {MG_ESCAPE_URI_COMPONENT, "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}", 1},
    {MG_ESCAPE_HTML, "\"#%'<>\\^`{|}", 1},
    {MG_ESCAPE_REFRESH, "\"'<>\\^`{|~", 1},
    /* lua-nginx-module's header tables: a name keeps a token's bytes, a value all but controls */
    {MG_ESCAPE_LUA_HEADER_NAME, "\"(),/:;<=>?@[\\]{}", 1},
    {MG_ESCAPE_LUA_HEADER_VALUE, "", 2},
    /* set-misc's set_escape_uri, as Debian's module escapes every byte */
    {MG_ESCAPE_SET_MISC, "\"#%&+/:;<=>?[\\]^{}", 1},
};

/* parse.c's mg_http_unescape (ngx.unescape_uri's after turning '+' into spaces) */
static size_t old_keep(const char *in, size_t len, char *out, int plus)
{
    char tmp[64];
    for (size_t i = 0; i < len; i++) {
        tmp[i] = plus && in[i] == '+' ? ' ' : in[i];
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (tmp[i] == '%' && len - i >= 3 && (hi = mg_hex_digit((unsigned char)tmp[i + 1])) >= 0 &&
            (lo = mg_hex_digit((unsigned char)tmp[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = tmp[i];
        }
    }
    return o;
}

/* set_misc.c's unescape_uri */
static size_t old_set_misc(const char *d, size_t len, char *out)
{
    char *p = out;
    int state = 0, hi = 0;
    for (size_t i = 0; i < len; i++) {
        int h = mg_hex_digit((unsigned char)d[i]);
        if (state == 1 && h >= 0) {
            hi = h;
            state = 2;
        } else if (state == 2) {
            if (h >= 0) {
                *p++ = (char)(hi * 16 + h);
            }
            state = 0;
        } else if (state == 1) {
            *p++ = d[i];
            state = 0;
        } else if (d[i] == '%') {
            state = 1;
        } else {
            *p++ = d[i] == '+' ? ' ' : d[i];
        }
    }
    return (size_t)(p - out);
}

/* rewrite.c's unescape_redirect (with the "%3F" fix) */
static size_t old_redirect(const char *s, size_t len, char *out)
{
    char *d = out;
    size_t i = 0;
    while (i < len && s[i] != '?') {
        if (s[i] != '%') {
            *d++ = s[i++];
            continue;
        }
        int hi = i + 1 < len ? mg_hex_digit((unsigned char)s[i + 1]) : -1;
        int lo = hi >= 0 && i + 2 < len ? mg_hex_digit((unsigned char)s[i + 2]) : -1;
        if (hi < 0) {
            if (++i < len) {
                *d++ = s[i++];
            }
            continue;
        }
        if (lo < 0) {
            i = i + 3 < len ? i + 3 : len;
            continue;
        }
        unsigned char c = (unsigned char)(hi << 4 | lo);
        if (c == '?') {
            /* nginx's "%3F": a '?' that ends the path like a literal one */
            *d++ = (char)c;
            i += 3;
            break;
        }
        if (c > '%' && c < 0x7f) {
            *d++ = (char)c;
        } else {
            memcpy(d, s + i, 3);
            d += 3;
        }
        i += 3;
    }
    memcpy(d, s + i, len - i);
    return (size_t)(d + len - i - out);
}

/* ---- the comparison ---- */

static long mismatches[4];

static void compare(const char *in, size_t len)
{
    char want[64], got[64], alias[64];
    size_t wn, gn;
    static const unsigned flags[4] = {MG_UNESCAPE_KEEP_BAD, MG_UNESCAPE_KEEP_BAD | MG_UNESCAPE_PLUS,
                                      MG_UNESCAPE_PLUS, MG_UNESCAPE_REDIRECT};
    for (int k = 0; k < 4; k++) {
        switch (k) {
        case 0:
        case 1:
            wn = old_keep(in, len, want, k);
            break;
        case 2:
            wn = old_set_misc(in, len, want);
            break;
        default:
            wn = old_redirect(in, len, want);
        }
        gn = mg_http_unescape(in, len, got, flags[k]);
        memcpy(alias, in, len);
        size_t an = mg_http_unescape(alias, len, alias, flags[k]); /* in place */
        if (gn != wn || memcmp(got, want, wn) != 0 || an != wn || memcmp(alias, want, wn) != 0) {
            if (mismatches[k]++ < 3) {
                printf("# flags %u differ on \"%.*s\"\n", flags[k], (int)len, in);
            }
        }
    }
}

int main(void)
{
    is_int((int)(sizeof(sets) / sizeof(sets[0])), MG_ESCAPE_SET_MISC + 1, "every type has its set");
    for (size_t t = 0; t < sizeof(sets) / sizeof(sets[0]); t++) {
        int wrong = 0;
        for (int b = 0; b < 256; b++) {
            char in = (char)b, out[4];
            size_t n = mg_http_escape(&in, 1, out, sets[t].type);
            int esc = in_set((unsigned char)b, sets[t].ascii, sets[t].high);
            char want[4];
            snprintf(want, sizeof(want), "%%%02X", b);
            if (esc ? n != 3 || memcmp(out, want, 3) != 0 : n != 1 || out[0] != in) {
                printf("# type %d byte 0x%02x\n", (int)sets[t].type, b);
                wrong++;
            }
            if (mg_http_escape(&in, 1, NULL, sets[t].type) != n) {
                wrong++;
            }
        }
        is_int(wrong, 0, "escape type %d over all bytes: the set \"%s\"%s", (int)sets[t].type,
               sets[t].ascii, sets[t].high == 1 ? " and DEL, >= 0x80" : "");
    }
    size_t n = mg_http_escape("a b/\xc3\xa9?", 7, NULL, MG_ESCAPE_URI);
    char out[32];
    mg_http_escape("a b/\xc3\xa9?", 7, out, MG_ESCAPE_URI);
    is_strn(out, n, "a%20b/%C3%A9%3F", "escape: a string, uppercase hex");

    /* every string of up to 5 bytes over the bytes that matter */
    static const char alpha[] = {'%', '+', '?', '0',  '9',  'a',        'F', 'g',
                                 '2', '5', 'e', 0x10, 0x7f, (char)0xc3, ' '};
    enum { A = sizeof(alpha) };
    char s[8];
    long count = 0;
    for (size_t len = 0; len <= 5; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++) {
            total *= A;
        }
        for (size_t x = 0; x < total; x++) {
            size_t v = x;
            for (size_t i = 0; i < len; i++, v /= A) {
                s[i] = alpha[v % A];
            }
            compare(s, len);
            count++;
        }
    }
    /* random strings, any byte, biased towards '%' and digits */
    char buf[40];
    srand(1);
    for (int r = 0; r < 200000; r++) {
        size_t len = (size_t)(rand() % 40);
        for (size_t i = 0; i < len; i++) {
            int k = rand() % 4;
            char c = k == 0 ? '%' : k == 1 ? "0123456789abcdefABCDEF"[rand() % 22] : (char)rand();
            buf[i] = c;
        }
        compare(buf, len);
        count++;
    }
    is_int(mismatches[0], 0, "KEEP_BAD = the old mg_http_unescape (%ld strings)", count);
    is_int(mismatches[1], 0, "KEEP_BAD|PLUS = the old ngx.unescape_uri");
    is_int(mismatches[2], 0, "PLUS = the old set_unescape_uri");
    is_int(mismatches[3], 0, "REDIRECT = the old rewrite redirect unescaper");

    char b[16];
    is_strn(b, mg_http_unescape("%41%2f%zz%4", 11, b, MG_UNESCAPE_KEEP_BAD), "A/%zz%4",
            "KEEP_BAD: malformed kept");
    is_strn(b, mg_http_unescape("%41%2f%zz+%4", 12, b, MG_UNESCAPE_PLUS), "A/zz ",
            "PLUS: malformed dropped as nginx, '+' a space");
    is_strn(b, mg_http_unescape("/%2F%20%?x%41?%41", 17, b, MG_UNESCAPE_REDIRECT), "//%20?xA?%41",
            "REDIRECT: printable only, up to '?'");
    is_strn(b, mg_http_unescape("/a%3f%41%3F", 11, b, MG_UNESCAPE_REDIRECT), "/a?%41%3F",
            "REDIRECT: an escaped '?' ends the decoding as nginx's");
    return done_testing();
}
