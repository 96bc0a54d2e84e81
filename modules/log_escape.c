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

size_t mg_log_escape_len(int escape, mg_str_t v)
{
    if (v.data == NULL) {
        return escape == MG_LOG_ESCAPE_DEFAULT ? 1 : 0;
    }
    size_t len = v.len;
    const unsigned char *p = (const unsigned char *)v.data;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = p[i];
        if (escape == MG_LOG_ESCAPE_DEFAULT) {
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
                len += 3; /* \xXX */
            }
        } else if (escape == MG_LOG_ESCAPE_JSON) {
            if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
                c == '\t') {
                len += 1;
            } else if (c < 0x20) {
                len += 5; /* \u00XX */
            }
        }
    }
    return len;
}

/* escape=default writes "\xHH" and escape=json "\uHHHH" or a letter escape, as nginx: other
 * formats than parse.c's %XX escaper, so they stay here. */
char *mg_log_escape_copy(char *d, int escape, mg_str_t v)
{
    static const char hex[] = "0123456789ABCDEF";
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
    const unsigned char *p = (const unsigned char *)v.data;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = p[i];
        if (escape == MG_LOG_ESCAPE_DEFAULT) {
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
                *d++ = '\\';
                *d++ = 'x';
                *d++ = hex[c >> 4];
                *d++ = hex[c & 0xf];
            } else {
                *d++ = (char)c;
            }
            continue;
        }
        switch (c) {
        case '"':
        case '\\':
            *d++ = '\\';
            *d++ = (char)c;
            break;
        case '\b':
            *d++ = '\\';
            *d++ = 'b';
            break;
        case '\f':
            *d++ = '\\';
            *d++ = 'f';
            break;
        case '\n':
            *d++ = '\\';
            *d++ = 'n';
            break;
        case '\r':
            *d++ = '\\';
            *d++ = 'r';
            break;
        case '\t':
            *d++ = '\\';
            *d++ = 't';
            break;
        default:
            if (c < 0x20) {
                memcpy(d, "\\u00", 4);
                d += 4;
                *d++ = hex[c >> 4];
                *d++ = hex[c & 0xf];
            } else {
                *d++ = (char)c;
            }
        }
    }
    return d;
}
