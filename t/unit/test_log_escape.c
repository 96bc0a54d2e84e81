/*
 * log_escape.c's measuring and copying, which skip 8 bytes at a time when none may need
 * escaping, against a byte-at-a-time model of nginx's escape=default (\xHH for bytes below
 * 0x20, '"', '\\' and 0x7f and above) and escape=json (\" \\ \b \f \n \r \t, \u00HH for the
 * other bytes below 0x20): every byte, and every pair of bytes, at every place of a word and of
 * the tail, in values of 1 to 24 bytes.
 */
#include <stdio.h>

#include "log_escape.c"

#include "tap.h"

static size_t model(int escape, const unsigned char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (escape == MG_LOG_ESCAPE_DEFAULT && (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)) {
            o += (size_t)sprintf(out + o, "\\x%c%c", hex[c >> 4], hex[c & 0xf]);
        } else if (escape == MG_LOG_ESCAPE_JSON && (c == '"' || c == '\\')) {
            o += (size_t)sprintf(out + o, "\\%c", c);
        } else if (escape == MG_LOG_ESCAPE_JSON && c < 0x20) {
            const char *l = c == '\b'   ? "b"
                            : c == '\f' ? "f"
                            : c == '\n' ? "n"
                            : c == '\r' ? "r"
                            : c == '\t' ? "t"
                                        : NULL;
            o += l ? (size_t)sprintf(out + o, "\\%s", l)
                   : (size_t)sprintf(out + o, "\\u00%c%c", hex[c >> 4], hex[c & 0xf]);
        } else {
            out[o++] = (char)c;
        }
    }
    return o;
}

/* 0 when len and copy agree with the model for p, else 1 (and a diagnostic) */
static int check(int escape, const unsigned char *p, size_t n)
{
    char want[24 * 6], got[24 * 6];
    mg_str_t v = {n, (char *)p};
    size_t wn = model(escape, p, n, want);
    size_t ln = mg_log_escape_len(escape, v);
    size_t gn = (size_t)(mg_log_escape_copy(got, escape, v) - got);
    if (ln == wn && gn == wn && memcmp(got, want, wn) == 0) {
        return 0;
    }
    static int shown;
    if (shown++ < 5) {
        printf("# escape %d, %zu bytes, len %zu copy %zu, want %zu\n", escape, n, ln, gn, wn);
    }
    return 1;
}

int main(void)
{
    for (int escape = MG_LOG_ESCAPE_DEFAULT; escape <= MG_LOG_ESCAPE_JSON; escape++) {
        const char *name = escape == MG_LOG_ESCAPE_JSON ? "json" : "default";
        unsigned char s[24];
        int bad = 0;
        for (size_t n = 1; n <= 24; n++) {
            for (size_t at = 0; at < n; at++) {
                for (int b = 0; b < 256; b++) {
                    memset(s, 'a', sizeof(s));
                    s[at] = (unsigned char)b;
                    bad += check(escape, s, n);
                }
            }
        }
        ok(bad == 0, "%s: one byte of each value at each place, values of 1 to 24 bytes", name);
        /* two bytes in one word: a borrow from the lower must not hide nor make the upper */
        bad = 0;
        for (size_t i = 0; i < 8; i++) {
            for (size_t j = i + 1; j < 8; j++) {
                for (int b1 = 0; b1 < 256; b1++) {
                    for (int b2 = 0; b2 < 256; b2++) {
                        memset(s, 'a', sizeof(s));
                        s[i] = (unsigned char)b1;
                        s[j] = (unsigned char)b2;
                        bad += check(escape, s, 16);
                    }
                }
            }
        }
        ok(bad == 0, "%s: every pair of bytes at every two places of a word", name);
        mg_str_t none = {0, NULL};
        is_int((long)mg_log_escape_len(escape, none), escape == MG_LOG_ESCAPE_DEFAULT ? 1 : 0,
               "%s: a value not found", name);
    }
    return done_testing();
}
