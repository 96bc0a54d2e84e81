/*
 * set_misc: OpenResty's set-misc-nginx-module. Each set_* directive is a "set" of the rewrite
 * module's list (modules/rewrite.h), so it runs in order with set/if/return: "set_X $dst src"
 * or, for the one-value filters, "set_X $dst" changing $dst in place. The value functions are
 * also Lua's ndk.set_var.set_X (lua/ndk.c). Digests and HMACs come from OpenSSL's libcrypto.
 */
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "rewrite.h"
#include "script.h"
#include "set_misc.h"
#include "variables.h"

typedef struct {
    int base32_padding;
    mg_str_t base32_alphabet;      /* 32 bytes */
    unsigned char base32_rev[256]; /* 0: also for bytes not in the alphabet */
} set_misc_conf_t;

typedef struct {
    mg_str_t name;
    mg_array_t upstreams; /* mg_str_t */
} upstream_list_t;

typedef struct {
    mg_array_t lists; /* upstream_list_t */
} set_misc_main_conf_t;

mg_module_t mg_set_misc_module;

typedef mg_int_t (*set_misc_pt)(mg_request_t *r, mg_str_t *v, mg_str_t *out);

struct set_misc_fn_s {
    const char *name;
    set_misc_pt fn;
    size_t nargs; /* values after $dst */
    int in_place; /* "set_X $dst" filters $dst itself */
};

/* ---- quoting and escaping ---- */

static mg_str_t alloc_str(mg_request_t *r, size_t len)
{
    return (mg_str_t){0, mg_pnalloc(r->pool, len + 1)};
}

/* MySQL's escapes, which PostgreSQL's E'' strings read too. */
static char *sql_escape(char *p, unsigned char c)
{
    static const char from[] = {'\0', '\b', '\t', '\n', '\r', '\x1a', '\'', '"', '\\'};
    static const char to[] = {'0', 'b', 't', 'n', 'r', 'Z', '\'', '"', '\\'};
    for (size_t i = 0; i < sizeof(from); i++) {
        if ((char)c == from[i]) {
            *p++ = '\\';
            *p++ = to[i];
            return p;
        }
    }
    *p++ = (char)c;
    return p;
}

static mg_int_t quote_sql(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    mg_str_t s = alloc_str(r, v[0].len * 2 + 2);
    char *p = s.data;
    *p++ = '\'';
    for (size_t i = 0; i < v[0].len; i++) {
        p = sql_escape(p, (unsigned char)v[0].data[i]);
    }
    *p++ = '\'';
    *out = (mg_str_t){(size_t)(p - s.data), s.data};
    return MG_OK;
}

/* The length of a valid UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t min;
    if (s[0] < 0x80) {
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    uint32_t cp = s[0] & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    return cp < min || cp > 0x10ffff ? 0 : len;
}

/* E'...' with the same escapes; in a value that is not valid UTF-8 every byte from 0x80 on
 * becomes \\ooo. */
static mg_int_t quote_pgsql(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    if (v[0].len == 0) {
        *out = (mg_str_t)mg_string("''");
        return MG_OK;
    }
    mg_str_t s = alloc_str(r, v[0].len * 5 + 3);
    char *p = s.data;
    const unsigned char *d = (const unsigned char *)v[0].data;
    int utf8 = 1;
    for (size_t i = 0, n; i < v[0].len && utf8; i += n) {
        n = utf8_len(d + i, v[0].len - i);
        utf8 = n > 0;
    }
    *p++ = 'E';
    *p++ = '\'';
    for (size_t i = 0; i < v[0].len; i++) {
        if (d[i] >= 0x80 && !utf8) {
            p += sprintf(p, "\\\\%03o", d[i]);
        } else if (d[i] >= 0x80) {
            *p++ = (char)d[i];
        } else {
            p = sql_escape(p, d[i]);
        }
    }
    *p++ = '\'';
    *out = (mg_str_t){(size_t)(p - s.data), s.data};
    return MG_OK;
}

/* an empty value is null, as set-misc's */
static mg_int_t quote_json(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    if (v[0].len == 0) {
        *out = (mg_str_t)mg_string("null");
        return MG_OK;
    }
    mg_str_t s = alloc_str(r, v[0].len * 6 + 2);
    char *p = s.data;
    *p++ = '"';
    for (size_t i = 0; i < v[0].len; i++) {
        unsigned char c = (unsigned char)v[0].data[i];
        switch (c) {
        case '"':
        case '\\':
            *p++ = '\\';
            *p++ = (char)c;
            break;
        case '\n':
            p += sprintf(p, "\\n");
            break;
        case '\r':
            p += sprintf(p, "\\r");
            break;
        case '\t':
            p += sprintf(p, "\\t");
            break;
        case '\b':
            p += sprintf(p, "\\b");
            break;
        case '\f':
            p += sprintf(p, "\\f");
            break;
        default:
            if (c < 0x20) {
                p += sprintf(p, "\\u%04x", c);
            } else {
                *p++ = (char)c;
            }
        }
    }
    *p++ = '"';
    *out = (mg_str_t){(size_t)(p - s.data), s.data};
    return MG_OK;
}

/* %XX decoded and '+' a space, as nginx's unescaping: a '%' before a byte that is not a hex
 * digit is dropped (the byte kept); after "%X", such a byte is dropped with them */
static mg_int_t unescape_uri(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    mg_str_t s = alloc_str(r, v[0].len);
    s.len = mg_http_unescape(v[0].data, v[0].len, s.data, MG_UNESCAPE_PLUS);
    *out = s;
    return MG_OK;
}

/* every byte but letters, digits and "!$'()*,-.@_`|~" as %XX, the set set-misc keeps */
static mg_int_t escape_uri(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    mg_str_t s = alloc_str(r, v[0].len * 3);
    *out = (mg_str_t){mg_http_escape(v[0].data, v[0].len, s.data, MG_ESCAPE_SET_MISC), s.data};
    return MG_OK;
}

/* ---- base32, base64, hex ---- */

static mg_int_t encode_base32(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    set_misc_conf_t *conf = mg_http_get_loc_conf(r, mg_set_misc_module);
    const char *abc = conf->base32_alphabet.data;
    const unsigned char *d = (const unsigned char *)v[0].data;
    mg_str_t s = alloc_str(r, (v[0].len + 4) / 5 * 8);
    char *p = s.data;
    for (size_t i = 0; i < v[0].len; i += 5) {
        size_t n = v[0].len - i < 5 ? v[0].len - i : 5;
        uint64_t bits = 0;
        for (size_t k = 0; k < 5; k++) {
            bits = (bits << 8) | (k < n ? d[i + k] : 0);
        }
        static const size_t chars[] = {0, 2, 4, 5, 7, 8};
        for (size_t k = 0; k < 8; k++) {
            if (k < chars[n]) {
                *p++ = abc[(bits >> (35 - 5 * k)) & 31];
            } else if (conf->base32_padding) {
                *p++ = '=';
            }
        }
    }
    *out = (mg_str_t){(size_t)(p - s.data), s.data};
    return MG_OK;
}

static mg_int_t decode_base32(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    set_misc_conf_t *conf = mg_http_get_loc_conf(r, mg_set_misc_module);
    size_t len = v[0].len;
    while (len && v[0].data[len - 1] == '=') {
        len--;
    }
    /* 1, 3 or 6 characters past a group of 8 cannot end a byte string: the value is empty, as
     * set-misc's */
    if (len % 8 == 1 || len % 8 == 3 || len % 8 == 6) {
        *out = (mg_str_t){0, NULL};
        return MG_OK;
    }
    mg_str_t s = alloc_str(r, len * 5 / 8 + 1);
    char *p = s.data;
    uint32_t bits = 0;
    int nbits = 0;
    for (size_t i = 0; i < len; i++) {
        /* a byte outside the alphabet counts as 0, as set-misc's decoder */
        unsigned char c = conf->base32_rev[(unsigned char)v[0].data[i]];
        bits = (bits << 5) | c;
        nbits += 5;
        if (nbits >= 8) {
            nbits -= 8;
            *p++ = (char)((bits >> nbits) & 0xff);
        }
    }
    *out = (mg_str_t){(size_t)(p - s.data), s.data};
    return MG_OK;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void base64_encode(mg_request_t *r, mg_str_t in, const char *abc, int pad, mg_str_t *out)
{
    const unsigned char *d = (const unsigned char *)in.data;
    mg_str_t s = alloc_str(r, (in.len + 2) / 3 * 4);
    char *p = s.data;
    size_t i = 0;
    for (; i + 2 < in.len; i += 3) {
        *p++ = abc[d[i] >> 2];
        *p++ = abc[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *p++ = abc[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
        *p++ = abc[d[i + 2] & 63];
    }
    if (i < in.len) {
        *p++ = abc[d[i] >> 2];
        if (i + 1 < in.len) {
            *p++ = abc[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
            *p++ = abc[(d[i + 1] & 15) << 2];
        } else {
            *p++ = abc[(d[i] & 3) << 4];
            if (pad) {
                *p++ = '=';
            }
        }
        if (pad) {
            *p++ = '=';
        }
    }
    *out = (mg_str_t){(size_t)(p - s.data), s.data};
}

/* MG_ERROR for bytes outside the alphabet or a length no encoding gives */
static mg_int_t base64_decode(mg_request_t *r, mg_str_t in, const char *abc, mg_str_t *out)
{
    size_t len = in.len;
    while (len && in.data[len - 1] == '=') {
        len--;
    }
    if (len % 4 == 1) {
        return MG_ERROR;
    }
    mg_str_t s = alloc_str(r, len * 3 / 4 + 1);
    char *p = s.data;
    uint32_t bits = 0;
    int nbits = 0;
    for (size_t i = 0; i < len; i++) {
        const char *q = memchr(abc, in.data[i], 64);
        if (q == NULL || in.data[i] == '\0') {
            return MG_ERROR;
        }
        bits = (bits << 6) | (uint32_t)(q - abc);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            *p++ = (char)((bits >> nbits) & 0xff);
        }
    }
    *out = (mg_str_t){(size_t)(p - s.data), s.data};
    return MG_OK;
}

static mg_int_t encode_base64(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    base64_encode(r, v[0], b64, 1, out);
    return MG_OK;
}

static mg_int_t encode_base64url(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    base64_encode(r, v[0], b64url, 0, out);
    return MG_OK;
}

static mg_int_t decode_base64_with(mg_request_t *r, mg_str_t *v, mg_str_t *out, const char *abc)
{
    if (base64_decode(r, v[0], abc, out) != MG_OK) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "set_decode_base64: invalid value \"%.*s\"", (int)v[0].len, v[0].data);
        return MG_ERROR;
    }
    return MG_OK;
}

static mg_int_t decode_base64(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    return decode_base64_with(r, v, out, b64);
}

static mg_int_t decode_base64url(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    return decode_base64_with(r, v, out, b64url);
}

static void to_hex(mg_request_t *r, const unsigned char *d, size_t len, mg_str_t *out)
{
    mg_str_t s = alloc_str(r, len * 2);
    mg_hex_dump(s.data, d, len);
    *out = (mg_str_t){len * 2, s.data};
}

static mg_int_t encode_hex(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    to_hex(r, (const unsigned char *)v[0].data, v[0].len, out);
    return MG_OK;
}

static mg_int_t decode_hex(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    if (v[0].len % 2) {
        goto invalid;
    }
    mg_str_t s = alloc_str(r, v[0].len / 2);
    for (size_t i = 0; i < v[0].len; i += 2) {
        int hi = mg_hex_digit((unsigned char)v[0].data[i]);
        int lo = mg_hex_digit((unsigned char)v[0].data[i + 1]);
        if (hi < 0 || lo < 0) {
            goto invalid;
        }
        s.data[i / 2] = (char)(hi * 16 + lo);
    }
    *out = (mg_str_t){v[0].len / 2, s.data};
    return MG_OK;
invalid:
    mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "set_decode_hex: invalid value \"%.*s\"",
                 (int)v[0].len, v[0].data);
    return MG_ERROR;
}

/* ---- digests ---- */

static mg_int_t digest_hex(mg_request_t *r, mg_str_t in, const EVP_MD *md, mg_str_t *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(in.data, in.len, d, &n, md, NULL)) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "EVP_Digest() failed");
        return MG_ERROR;
    }
    to_hex(r, d, n, out);
    return MG_OK;
}

static mg_int_t sha1(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    return digest_hex(r, v[0], EVP_sha1(), out);
}

static mg_int_t md5(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    return digest_hex(r, v[0], EVP_md5(), out);
}

static mg_int_t hmac(mg_request_t *r, mg_str_t *v, const EVP_MD *md, mg_str_t *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (HMAC(md, v[0].data, (int)v[0].len, (const unsigned char *)v[1].data, v[1].len, d, &n) ==
        NULL) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "HMAC() failed");
        return MG_ERROR;
    }
    *out = mg_pstr(r->pool, (const char *)d, n);
    return MG_OK;
}

static mg_int_t hmac_sha1(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    return hmac(r, v, EVP_sha1(), out);
}

static mg_int_t hmac_sha256(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    return hmac(r, v, EVP_sha256(), out);
}

/* ---- random, time ---- */

/* A non-negative decimal, -1 otherwise. */
static int64_t number(mg_str_t s)
{
    return s.len ? mg_atoi(s.data, s.len) : -1;
}

static mg_int_t random_int(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    int64_t from = number(v[0]), to = number(v[1]);
    if (from < 0 || to < 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "set_random: bad \"%s\" argument: %.*s",
                     from < 0 ? "from" : "to", (int)(from < 0 ? v[0].len : v[1].len),
                     from < 0 ? v[0].data : v[1].data);
        return MG_ERROR;
    }
    if (from > to) {
        int64_t t = from;
        from = to;
        to = t;
    }
    int64_t n = from + (int64_t)((uint64_t)random() % (uint64_t)(to - from + 1));
    char *s = mg_psprintf(r->pool, "%lld", (long long)n);
    *out = (mg_str_t){strlen(s), s};
    return MG_OK;
}

static mg_int_t secure_random(mg_request_t *r, mg_str_t *v, mg_str_t *out, const char *abc,
                              size_t n)
{
    int64_t len = number(v[0]);
    if (len < 1 || len > 64) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "set_secure_random: invalid length \"%.*s\"", (int)v[0].len, v[0].data);
        return MG_ERROR;
    }
    unsigned char rnd[64];
    if (RAND_bytes(rnd, (int)len) != 1) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "RAND_bytes() failed");
        return MG_ERROR;
    }
    mg_str_t s = alloc_str(r, (size_t)len);
    for (int64_t i = 0; i < len; i++) {
        s.data[i] = abc[rnd[i] % n];
    }
    *out = (mg_str_t){(size_t)len, s.data};
    return MG_OK;
}

static mg_int_t secure_random_alphanum(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    return secure_random(r, v, out, abc, sizeof(abc) - 1);
}

static mg_int_t secure_random_lcalpha(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyz";
    return secure_random(r, v, out, abc, sizeof(abc) - 1);
}

static mg_int_t local_today(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    (void)v;
    time_t now = (time_t)(mg_now.msec / 1000);
    struct tm tm;
    localtime_r(&now, &tm);
    char *s = mg_psprintf(r->pool, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    *out = (mg_str_t){strlen(s), s};
    return MG_OK;
}

static mg_int_t formatted_time(mg_request_t *r, mg_str_t *v, mg_str_t *out, int gmt)
{
    time_t now = (time_t)(mg_now.msec / 1000);
    struct tm tm;
    if (gmt) {
        gmtime_r(&now, &tm);
    } else {
        localtime_r(&now, &tm);
    }
    char *fmt = mg_pstr(r->pool, v[0].data, v[0].len).data;
    size_t cap = v[0].len * 4 + 256;
    char *s = mg_pnalloc(r->pool, cap);
    size_t n = strftime(s, cap, fmt, &tm);
    *out = (mg_str_t){n, s};
    return MG_OK;
}

static mg_int_t formatted_gmt_time(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    return formatted_time(r, v, out, 1);
}

static mg_int_t formatted_local_time(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    return formatted_time(r, v, out, 0);
}

/* ---- set_hashed_upstream ---- */

static mg_int_t hashed_upstream(mg_request_t *r, mg_str_t *v, mg_str_t *out)
{
    set_misc_main_conf_t *mcf = mg_http_get_main_conf(r, mg_set_misc_module);
    upstream_list_t *ul = mcf->lists.elts, *list = NULL;
    for (size_t i = 0; i < mcf->lists.nelts; i++) {
        if (mg_str_eq_str(ul[i].name, v[0])) {
            list = &ul[i];
        }
    }
    if (list == NULL) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "set_hashed_upstream: upstream list \"%.*s\" not defined yet", (int)v[0].len,
                     v[0].data);
        return MG_ERROR;
    }
    mg_str_t *u = list->upstreams.elts;
    if (list->upstreams.nelts == 1) {
        *out = u[0];
        return MG_OK;
    }
    /* nginx's lowercase key hash, modulo the list's length: the same key picks the same
     * upstream there */
    uintptr_t key = 0;
    for (size_t i = 0; i < v[1].len; i++) {
        unsigned char c = (unsigned char)v[1].data[i];
        key = key * 31 + (uintptr_t)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
    *out = u[key % list->upstreams.nelts];
    return MG_OK;
}

/* ---- the functions by name ---- */

static const mg_set_misc_fn_t fns[] = {
    {"set_quote_sql_str", quote_sql, 1, 1},
    {"set_quote_pgsql_str", quote_pgsql, 1, 1},
    {"set_quote_json_str", quote_json, 1, 1},
    {"set_unescape_uri", unescape_uri, 1, 1},
    {"set_escape_uri", escape_uri, 1, 1},
    {"set_encode_base32", encode_base32, 1, 1},
    {"set_decode_base32", decode_base32, 1, 1},
    {"set_encode_base64", encode_base64, 1, 1},
    {"set_decode_base64", decode_base64, 1, 1},
    {"set_encode_base64url", encode_base64url, 1, 1},
    {"set_decode_base64url", decode_base64url, 1, 1},
    {"set_encode_hex", encode_hex, 1, 1},
    {"set_decode_hex", decode_hex, 1, 1},
    {"set_sha1", sha1, 1, 1},
    {"set_md5", md5, 1, 1},
    {"set_hmac_sha1", hmac_sha1, 2, 0},
    {"set_hmac_sha256", hmac_sha256, 2, 0},
    {"set_random", random_int, 2, 0},
    {"set_secure_random_alphanum", secure_random_alphanum, 1, 0},
    {"set_secure_random_lcalpha", secure_random_lcalpha, 1, 0},
    {"set_local_today", local_today, 0, 0},
    {"set_formatted_gmt_time", formatted_gmt_time, 1, 0},
    {"set_formatted_local_time", formatted_local_time, 1, 0},
    {"set_hashed_upstream", hashed_upstream, 2, 0},
};

static const mg_set_misc_fn_t *find(const char *name, size_t len)
{
    for (size_t i = 0; i < mg_nelems(fns); i++) {
        if (strlen(fns[i].name) == len && memcmp(fns[i].name, name, len) == 0) {
            return &fns[i];
        }
    }
    return NULL;
}

const mg_set_misc_fn_t *mg_set_misc_find(const char *name, size_t len)
{
    const mg_set_misc_fn_t *fn = find(name, len);
    return fn && fn->in_place ? fn : NULL;
}

mg_int_t mg_set_misc_call(mg_request_t *r, const mg_set_misc_fn_t *fn, mg_str_t *args,
                          mg_str_t *out)
{
    *out = (mg_str_t)mg_null_string;
    return fn->fn(r, args, out);
}

/* ---- the "set"s ---- */

typedef struct {
    const mg_set_misc_fn_t *fn;
    mg_http_complex_value_t *args;
    size_t nargs;
    /* set_if_empty, set_rotate: the variable itself */
    mg_int_t index;
    int64_t rotate_from, rotate_to;
    int64_t rotate_saved; /* this location's last value in this process (-1: none) */
} set_op_t;

static mg_str_t *eval(mg_request_t *r, set_op_t *op)
{
    mg_str_t *v = mg_palloc(r->pool, (op->nargs + 1) * sizeof(mg_str_t));
    for (size_t i = 0; i < op->nargs; i++) {
        v[i] = mg_http_complex_value(r, &op->args[i]);
    }
    return v;
}

static mg_int_t set_value(mg_request_t *r, void *data, mg_str_t *value)
{
    set_op_t *op = data;
    mg_str_t *v = eval(r, op);
    if (op->fn->fn(r, v, value) != MG_OK) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    return MG_OK;
}

static mg_str_t current(mg_request_t *r, mg_int_t index)
{
    mg_http_var_value_t *vv = mg_http_get_flushed_variable(r, (mg_uint_t)index);
    return vv && !vv->not_found ? vv->value : (mg_str_t)mg_null_string;
}

static mg_int_t set_if_empty(mg_request_t *r, void *data, mg_str_t *value)
{
    set_op_t *op = data;
    mg_str_t cur = current(r, op->index);
    *value = cur.len ? cur : mg_http_complex_value(r, &op->args[0]);
    return MG_OK;
}

static mg_int_t set_rotate(mg_request_t *r, void *data, mg_str_t *value)
{
    set_op_t *op = data;
    mg_str_t *v = eval(r, op);
    int64_t from = number(v[0]), to = number(v[1]);
    if (from < 0 || to < 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "set_rotate: bad \"%s\" argument",
                     from < 0 ? "from" : "to");
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (from > to) {
        int64_t t = from;
        from = to;
        to = t;
    }
    int64_t cur = number(current(r, op->index));
    if (cur < 0) {
        cur = op->rotate_saved >= 0 ? op->rotate_saved : from - 1;
    }
    cur++;
    if (cur > to || cur < from) {
        cur = from;
    }
    op->rotate_saved = cur;
    char *s = mg_psprintf(r->pool, "%lld", (long long)cur);
    *value = (mg_str_t){strlen(s), s};
    return MG_OK;
}

static mg_int_t compile_args(mg_conf_t *cf, set_op_t *op, mg_str_t *args, size_t n)
{
    op->nargs = n;
    op->args = n ? mg_pcalloc(cf->pool, n * sizeof(mg_http_complex_value_t)) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (mg_http_compile_complex_value(cf, args[i], &op->args[i]) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}

static const char *set_misc_set(mg_conf_t *cf, const mg_command_t *c, void *conf)
{
    (void)conf;
    set_op_t *op = mg_pcalloc(cf->pool, sizeof(*op));
    op->rotate_saved = -1;
    mg_str_t dst = cf->args[1];
    size_t given = cf->nargs - 2;
    mg_http_rewrite_value_pt handler = set_value;
    if (strcmp(c->name, "set_if_empty") == 0 || strcmp(c->name, "set_rotate") == 0) {
        int rotate = c->name[4] == 'r';
        if (given != (rotate ? 2u : 1u)) {
            return "has a wrong number of arguments";
        }
        handler = rotate ? set_rotate : set_if_empty;
        if (dst.len < 2 || dst.data[0] != '$') {
            mg_conf_error(cf, 0, "invalid variable name \"%.*s\"", (int)dst.len, dst.data);
            return MG_CONF_ERROR;
        }
        if (compile_args(cf, op, cf->args + 2, given) != MG_OK) {
            return MG_CONF_ERROR;
        }
        if (mg_http_rewrite_add_set(cf, dst, handler, op) != MG_OK) {
            return MG_CONF_ERROR;
        }
        op->index = mg_http_get_variable_index(cf, (mg_str_t){dst.len - 1, dst.data + 1});
        return op->index < 0 ? MG_CONF_ERROR : MG_CONF_OK;
    }
    op->fn = find(c->name, strlen(c->name));
    size_t nargs = op->fn->nargs;
    if (given == 0 && op->fn->in_place) {
        /* "set_X $dst": $dst's own value is the input */
        if (compile_args(cf, op, &dst, 1) != MG_OK) {
            return MG_CONF_ERROR;
        }
    } else if (given != nargs) {
        return "has a wrong number of arguments";
    } else if (compile_args(cf, op, cf->args + 2, given) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return mg_http_rewrite_add_set(cf, dst, handler, op) == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

/* ---- configuration ---- */

static const char default_alphabet[] = "0123456789abcdefghijklmnopqrstuv";

static void *set_misc_create_main_conf(mg_conf_t *cf)
{
    set_misc_main_conf_t *mcf = mg_pcalloc(cf->pool, sizeof(*mcf));
    mg_array_init(&mcf->lists, cf->pool, 2, sizeof(upstream_list_t));
    return mcf;
}

static void *set_misc_create_conf(mg_conf_t *cf)
{
    set_misc_conf_t *conf = mg_pcalloc(cf->pool, sizeof(*conf));
    conf->base32_padding = MG_CONF_UNSET;
    return conf;
}

static const char *set_misc_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    set_misc_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->base32_padding, prev->base32_padding, 1);
    mg_conf_merge_str(conf->base32_alphabet, prev->base32_alphabet, default_alphabet);
    memset(conf->base32_rev, 0, sizeof(conf->base32_rev));
    for (unsigned i = 0; i < 32; i++) {
        conf->base32_rev[(unsigned char)conf->base32_alphabet.data[i]] = (unsigned char)i;
    }
    return MG_CONF_OK;
}

static const char *set_base32_alphabet(mg_conf_t *cf, const mg_command_t *c, void *conf)
{
    set_misc_conf_t *smcf = conf;
    if (smcf->base32_alphabet.data) {
        return "is duplicate";
    }
    if (cf->args[1].len != 32) {
        mg_conf_error(cf, 0, "\"%s\" directive takes an alphabet of %zu bytes but 32 expected",
                      c->name, cf->args[1].len);
        return MG_CONF_ERROR;
    }
    smcf->base32_alphabet = cf->args[1];
    return MG_CONF_OK;
}

/* set-misc's old name of set_base32_padding, kept with a warning (there is no old name of
 * set_base32_alphabet) */
static const char *set_old_base32_padding(mg_conf_t *cf, const mg_command_t *c, void *conf)
{
    const char *rv = mg_conf_set_flag(cf, c, conf);
    if (rv == MG_CONF_OK) {
        mg_conf_log(cf, MG_LOG_WARN, 0,
                    "the \"%s\" directive is deprecated, use the \"set_base32_padding\" "
                    "directive instead",
                    c->name);
    }
    return rv;
}

static const char *set_upstream_list(mg_conf_t *cf, const mg_command_t *c, void *conf)
{
    (void)c;
    set_misc_main_conf_t *mcf = conf;
    upstream_list_t *ul = mg_array_push(&mcf->lists);
    ul->name = cf->args[1];
    mg_array_init(&ul->upstreams, cf->pool, cf->nargs - 2, sizeof(mg_str_t));
    for (size_t i = 2; i < cf->nargs; i++) {
        *(mg_str_t *)mg_array_push(&ul->upstreams) = cf->args[i];
    }
    return MG_CONF_OK;
}

#define SET_CTX (MG_CTX_SERVER | MG_CTX_SIF | MG_CTX_LOCATION | MG_CTX_LIF)
#define SET(name, min, max)                                                                        \
    {                                                                                              \
        name, SET_CTX, MG_ARGS(min, max), set_misc_set, MG_NO_CONF, 0, NULL                        \
    }
#define CONF_CTX (MG_HTTP_ANY_LOC | MG_CTX_SIF | MG_CTX_LIF)

static const mg_command_t set_misc_commands[] = {
    SET("set_if_empty", 2, 2),
    SET("set_quote_sql_str", 1, 2),
    SET("set_quote_pgsql_str", 1, 2),
    SET("set_quote_json_str", 1, 2),
    SET("set_unescape_uri", 1, 2),
    SET("set_escape_uri", 1, 2),
    SET("set_encode_base32", 1, 2),
    SET("set_decode_base32", 1, 2),
    SET("set_encode_base64", 1, 2),
    SET("set_decode_base64", 1, 2),
    SET("set_encode_base64url", 1, 2),
    SET("set_decode_base64url", 1, 2),
    SET("set_encode_hex", 1, 2),
    SET("set_decode_hex", 1, 2),
    SET("set_sha1", 1, 2),
    SET("set_md5", 1, 2),
    SET("set_hmac_sha1", 3, 3),
    SET("set_hmac_sha256", 3, 3),
    SET("set_random", 3, 3),
    SET("set_secure_random_alphanum", 2, 2),
    SET("set_secure_random_lcalpha", 2, 2),
    SET("set_rotate", 3, 3),
    SET("set_local_today", 1, 1),
    SET("set_formatted_gmt_time", 2, 2),
    SET("set_formatted_local_time", 2, 2),
    SET("set_hashed_upstream", 3, 3),
    {"upstream_list", MG_CTX_HTTP, MG_ARGS(2, MG_MANY), set_upstream_list, MG_MAIN_CONF, 0, NULL},
    {"set_base32_padding", CONF_CTX, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(set_misc_conf_t, base32_padding), NULL},
    {"set_misc_base32_padding", CONF_CTX, MG_FLAG, set_old_base32_padding, MG_LOC_CONF,
     offsetof(set_misc_conf_t, base32_padding), NULL},
    {"set_base32_alphabet", CONF_CTX, MG_ARGS(1, 1), set_base32_alphabet, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t set_misc_defaults[] = {
    {"set_base32_alphabet", "\"0123456789abcdefghijklmnopqrstuv\""},
    {"set_if_empty", MG_NO_DEFAULT},
    {"set_quote_sql_str", MG_NO_DEFAULT},
    {"set_quote_pgsql_str", MG_NO_DEFAULT},
    {"set_quote_json_str", MG_NO_DEFAULT},
    {"set_unescape_uri", MG_NO_DEFAULT},
    {"set_escape_uri", MG_NO_DEFAULT},
    {"set_encode_base32", MG_NO_DEFAULT},
    {"set_decode_base32", MG_NO_DEFAULT},
    {"set_encode_base64", MG_NO_DEFAULT},
    {"set_decode_base64", MG_NO_DEFAULT},
    {"set_encode_base64url", MG_NO_DEFAULT},
    {"set_decode_base64url", MG_NO_DEFAULT},
    {"set_encode_hex", MG_NO_DEFAULT},
    {"set_decode_hex", MG_NO_DEFAULT},
    {"set_sha1", MG_NO_DEFAULT},
    {"set_md5", MG_NO_DEFAULT},
    {"set_hmac_sha1", MG_NO_DEFAULT},
    {"set_hmac_sha256", MG_NO_DEFAULT},
    {"set_random", MG_NO_DEFAULT},
    {"set_secure_random_alphanum", MG_NO_DEFAULT},
    {"set_secure_random_lcalpha", MG_NO_DEFAULT},
    {"set_rotate", MG_NO_DEFAULT},
    {"set_local_today", MG_NO_DEFAULT},
    {"set_formatted_gmt_time", MG_NO_DEFAULT},
    {"set_formatted_local_time", MG_NO_DEFAULT},
    {"set_hashed_upstream", MG_NO_DEFAULT},
    {"upstream_list", MG_NO_DEFAULT},
    {"set_misc_base32_padding", "on"},
    {0},
};

mg_module_t mg_set_misc_module = {
    .name = "set_misc",
    .commands = set_misc_commands,
    .defaults = set_misc_defaults,
    .create_main_conf = set_misc_create_main_conf,
    .create_loc_conf = set_misc_create_conf,
    .merge_loc_conf = set_misc_merge_conf,
};
