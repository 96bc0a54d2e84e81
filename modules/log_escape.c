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

size_t mg_log_escape_len(int escape, mg_str_t v)
{
    if (v.data == NULL) {
        return escape == MG_LOG_ESCAPE_DEFAULT ? 1 : 0;
    }
    if (escape == MG_LOG_ESCAPE_NONE) {
        return v.len;
    }
    const unsigned char *t = escape_extra[escape == MG_LOG_ESCAPE_JSON];
    const unsigned char *p = (const unsigned char *)v.data;
    size_t len = v.len;
    for (size_t i = 0; i < v.len; i++) {
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
    const unsigned char *t = escape_extra[escape == MG_LOG_ESCAPE_JSON];
    const unsigned char *p = (const unsigned char *)v.data;
    size_t i = 0;
    while (i < v.len) {
        size_t j = i;
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
