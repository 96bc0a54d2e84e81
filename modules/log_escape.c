/*
 * log_format's escaping for both layers' access logs (log_escape.h).
 */
#include "log_escape.h"
#include "str.h"

mg_int_t mg_log_escape_param(mg_conf_t *cf, size_t *first, int *escape)
{
    *escape = MG_LOG_ESCAPE_DEFAULT;
    if (*first >= cf->nargs) {
        return MG_OK;
    }
    mg_str_t a = cf->args[*first];
    if (a.len <= 7 || memcmp(a.data, "escape=", 7) != 0) {
        return MG_OK;
    }
    mg_str_t v = {a.len - 7, a.data + 7};
    if (mg_str_eq(v, "default")) {
        *escape = MG_LOG_ESCAPE_DEFAULT;
    } else if (mg_str_eq(v, "json")) {
        *escape = MG_LOG_ESCAPE_JSON;
    } else if (mg_str_eq(v, "none")) {
        *escape = MG_LOG_ESCAPE_NONE;
    } else {
        mg_conf_error(cf, 0, "unknown log format escaping \"%s\"", v.data);
        return MG_ERROR;
    }
    (*first)++;
    return MG_OK;
}

/* The bytes each byte adds when escaped (0: it goes as it is), per escaping: a table, not
 * tests per byte, so a line's values are measured and copied at a few instructions a byte
 * (the combined format's eight cost ~2,200 a request by tests, ~700 so) */
static const unsigned char escape_extra[2][256] = {
    {
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    },
    {
        5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 5, 1, 1, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
        5, 5, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    },
};

/* Whether any of the 8 bytes in w may need escaping: below 0x20, '"' or '\\', and with the
 * default escaping 0x7f and above too (a superset of the table's nonzero bytes, which
 * t/unit/test_log_escape.c checks for every byte at every place). The usual value has none,
 * and is then measured at ~2 instructions a byte instead of ~6. Each test is exact for "any"
 * (a borrow marks only bytes above one that matched). */
static inline uint64_t word_may_escape(uint64_t w, int json)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t m = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b);
    if (!json) {
        uint64_t d = w ^ (ones * 0x7f);
        m |= w | ((d - ones) & ~d);
    }
    return m & high;
}

size_t mg_log_escape_len(int escape, mg_str_t v)
{
    if (v.data == NULL) {
        return escape == MG_LOG_ESCAPE_DEFAULT ? 1 : 0;
    }
    if (escape == MG_LOG_ESCAPE_NONE) {
        return v.len;
    }
    int json = escape == MG_LOG_ESCAPE_JSON;
    const unsigned char *t = escape_extra[json];
    const unsigned char *p = (const unsigned char *)v.data;
    size_t len = v.len, i = 0;
    for (; i + 8 <= v.len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (word_may_escape(w, json)) {
            for (size_t k = i; k < i + 8; k++) {
                len += t[p[k]];
            }
        }
    }
    for (; i < v.len; i++) {
        len += t[p[i]];
    }
    return len;
}

/* escape=default writes "\xHH" and escape=json "\uHHHH" or a letter escape, as nginx: other
 * formats than parse.c's %XX escaper, so they stay here. */
static char *escape_byte(char *d, int escape, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    if (escape == MG_LOG_ESCAPE_DEFAULT) {
        *d++ = '\\';
        *d++ = 'x';
        *d++ = hex[c >> 4];
        *d++ = hex[c & 0xf];
        return d;
    }
    static const char letter[32] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
    if (c == '"' || c == '\\' || (c < 0x20 && letter[c])) {
        *d++ = '\\';
        *d++ = c < 0x20 ? letter[c] : (char)c;
        return d;
    }
    memcpy(d, "\\u00", 4);
    d += 4;
    *d++ = hex[c >> 4];
    *d++ = hex[c & 0xf];
    return d;
}

char *mg_log_escape_copy(char *d, int escape, mg_str_t v)
{
    if (v.data == NULL) {
        if (escape == MG_LOG_ESCAPE_DEFAULT) {
            *d++ = '-';
        }
        return d;
    }
    if (escape == MG_LOG_ESCAPE_NONE) {
        memcpy(d, v.data, v.len);
        return d + v.len;
    }
    /* runs of bytes that go as they are are copied whole */
    int json = escape == MG_LOG_ESCAPE_JSON;
    const unsigned char *t = escape_extra[json];
    const unsigned char *p = (const unsigned char *)v.data;
    size_t i = 0;
    while (i < v.len) {
        size_t j = i;
        for (uint64_t w; j + 8 <= v.len; j += 8) {
            memcpy(&w, p + j, 8);
            if (word_may_escape(w, json)) {
                break;
            }
        }
        while (j < v.len && t[p[j]] == 0) {
            j++;
        }
        memcpy(d, p + i, j - i);
        d += j - i;
        if (j == v.len) {
            break;
        }
        d = escape_byte(d, escape, p[j]);
        i = j + 1;
    }
    return d;
}
