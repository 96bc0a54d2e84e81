/*
 * The ngx.* string helpers: URI escaping, query-args encoding and decoding, SQL quoting,
 * MD5/SHA-1/HMAC-SHA1, CRC-32 and base64, as lua-nginx-module 0.10.23 with lua-resty-core
 * behaves: where resty.core replaced a C function, nil and false become "" and other
 * non-strings go through tostring; the rest check their arguments with luaL_* as its C does.
 */
#include <zlib.h>

#include "mg.h"

#include "api.h"
#include "md5.h"
#include "sha1.h"

/* ---- argument helpers ---- */

/*
 * Argument i as resty.core's wrappers take it: nil, false or absent -> "", numbers in their
 * Lua form, anything else through tostring (upvalue 1, Lua's own tostring as it was when the
 * VM was built). The result replaces the argument, so it lives as long as the call.
 */
static const char *arg_tostring(lua_State *L, int i, size_t *len)
{
    switch (lua_type(L, i)) {
    case LUA_TSTRING:
    case LUA_TNUMBER:
        return lua_tolstring(L, i, len);
    case LUA_TNONE:
    case LUA_TNIL:
        *len = 0;
        return "";
    case LUA_TBOOLEAN:
        if (!lua_toboolean(L, i)) {
            *len = 0;
            return "";
        }
        break;
    }
    if (lua_isfunction(L, lua_upvalueindex(1))) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_pushvalue(L, i);
        lua_call(L, 1, 1);
    } else if (!luaL_callmeta(L, i, "__tostring")) {
        /* no tostring when the VM was built: its format, for the types that get here */
        lua_pushfstring(L, "%s: %p", luaL_typename(L, i), lua_topointer(L, i));
    }
    lua_replace(L, i);
    return luaL_checklstring(L, i, len);
}

/* Raise msg (at the top) with the position of the caller's caller: error(msg, 3) in Lua. */
static int error_at_level2(lua_State *L)
{
    luaL_where(L, 2);
    lua_insert(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
}

static void *scratch(lua_State *L, size_t len)
{
    /* a userdata: collected with the call's stack even when a luaL_error cuts it short */
    return lua_newuserdata(L, len ? len : 1);
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static signed char b64_value[256]; /* -1: not in the alphabet */

/* The base64 lookup table, filled once, by the first VM (the process's own, before any thread:
 * ngx.run_worker_thread's VMs call it again from threads and must find the table built). */
static void tables_init(void)
{
    static int done;
    if (done) {
        return;
    }
    done = 1;
    memset(b64_value, -1, sizeof(b64_value));
    for (int i = 0; i < 64; i++) {
        b64_value[(unsigned char)b64_alphabet[i]] = (signed char)i;
    }
}

/* ---- URI escaping (parse.c's escaper and unescaper) ---- */

static int mg_lua_string_escape_uri(lua_State *L)
{
    lua_settop(L, 2);
    size_t len;
    const char *s = arg_tostring(L, 1, &len);
    mg_escape_t type = MG_ESCAPE_LUA_URI_COMPONENT;
    if (!lua_isnil(L, 2)) {
        if (lua_type(L, 2) != LUA_TNUMBER) {
            lua_pushliteral(L, "\"type\" is not a number");
            return error_at_level2(L);
        }
        lua_Number t = lua_tonumber(L, 2);
        if (!(t >= 0 && t <= MG_ESCAPE_LUA_TYPES - 1)) {
            lua_pushfstring(L, "\"type\" %s out of range", lua_tostring(L, 2));
            return error_at_level2(L);
        }
        type = (mg_escape_t)(int)t; /* 1.5 is type 1, as the C int it becomes in resty.core */
    }
    size_t dlen = mg_http_escape(s, len, NULL, type);
    if (dlen == len) {
        /* nothing to escape: the argument itself (a number was made a string in place) */
        if (lua_type(L, 1) == LUA_TSTRING) {
            lua_pushvalue(L, 1);
        } else {
            lua_pushlstring(L, s, len);
        }
        return 1;
    }
    char *dst = scratch(L, dlen);
    mg_http_escape(s, len, dst, type);
    lua_pushlstring(L, dst, dlen);
    return 1;
}

/* A URI component decoded: '+' a space, %XX a byte, a malformed escape kept; dst may be src,
 * len bytes at most. */
static size_t unescape_component(char *dst, const char *src, size_t len)
{
    return mg_http_unescape(src, len, dst, MG_UNESCAPE_KEEP_BAD | MG_UNESCAPE_PLUS);
}

static int mg_lua_string_unescape_uri(lua_State *L)
{
    lua_settop(L, 1);
    size_t len;
    const char *s = arg_tostring(L, 1, &len);
    char *dst = scratch(L, len);
    lua_pushlstring(L, dst, unescape_component(dst, s, len));
    return 1;
}

/* ---- query arguments ---- */

/*
 * One pass over the args table at index t: with dst NULL it checks every key and value and
 * returns the length; with dst it writes "k=v&k&k=v2" there. Keys must be strings; a value
 * is a string or number, true (the key alone), false (skipped) or a list of those.
 */
static size_t encode_args(lua_State *L, int t, char *dst)
{
    size_t n = 0;
    int first = 1;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            luaL_error(L, "attempt to use a non-string key in the \"args\" option table");
        }
        size_t klen;
        const char *k = lua_tolstring(L, -2, &klen);
        int list = lua_type(L, -1) == LUA_TTABLE;
        if (list) {
            lua_pushnil(L);
        }
        /* for a list, iterate its items: the value is at -1, the list at -3 */
        while (!list || lua_next(L, -2) != 0) {
            size_t vlen = 0;
            const char *v = NULL;
            int skip = 0;
            switch (lua_type(L, -1)) {
            case LUA_TSTRING:
            case LUA_TNUMBER:
                v = lua_tolstring(L, -1, &vlen); /* converts the stack copy only */
                break;
            case LUA_TBOOLEAN:
                skip = !lua_toboolean(L, -1);
                break;
            default:
                luaL_error(L, "attempt to use %s as query arg value", luaL_typename(L, -1));
            }
            if (!skip) {
                if (!first) {
                    if (dst) {
                        dst[n] = '&';
                    }
                    n++;
                }
                first = 0;
                n += mg_http_escape(k, klen, dst ? dst + n : NULL, MG_ESCAPE_LUA_URI_COMPONENT);
                if (v) {
                    if (dst) {
                        dst[n] = '=';
                    }
                    n++;
                    n += mg_http_escape(v, vlen, dst ? dst + n : NULL, MG_ESCAPE_LUA_URI_COMPONENT);
                }
            }
            lua_pop(L, 1);
            if (!list) {
                break;
            }
        }
        if (list) {
            lua_pop(L, 1);
        }
    }
    return n;
}

static int mg_lua_string_encode_args(lua_State *L)
{
    if (lua_gettop(L) != 1) {
        return luaL_error(L, "expecting 1 argument but seen %d", lua_gettop(L));
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t len = encode_args(L, 1, NULL);
    char *dst = scratch(L, len);
    encode_args(L, 1, dst);
    lua_pushlstring(L, dst, len);
    return 1;
}

void mg_lua_args_set(lua_State *L, int t)
{
    lua_pushvalue(L, -2);
    lua_rawget(L, t);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_rawset(L, t);
        return;
    }
    if (lua_istable(L, -1)) {
        lua_insert(L, -2); /* key list value */
        lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
        lua_pop(L, 2);
        return;
    }
    lua_createtable(L, 4, 0); /* key value old list */
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    lua_insert(L, -2); /* key list value */
    lua_rawseti(L, -2, 2);
    lua_rawset(L, t);
}

int mg_lua_args_pair(lua_State *L, int t, char *buf, const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    size_t klen = unescape_component(buf, s, eq ? (size_t)(eq - s) : len);
    if (klen == 0) {
        return 0;
    }
    lua_pushlstring(L, buf, klen);
    if (eq) {
        size_t vlen = (size_t)(s + len - eq - 1);
        lua_pushlstring(L, buf, unescape_component(buf, eq + 1, vlen));
    } else {
        lua_pushboolean(L, 1);
    }
    mg_lua_args_set(L, t);
    return 1;
}

/*
 * Parse "a=1&b&a=2" into the table at t: keys and values unescaped as URI components, a key
 * without '=' is true, empty keys are dropped; after max pairs (counting dropped ones, as
 * lua-nginx-module does) parsing stops, and 1 is returned when input was left; max <= 0 means
 * no limit.
 */
static int decode_args(lua_State *L, int t, const char *s, size_t len, int max, char *buf)
{
    size_t start = 0;
    int count = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '&') {
            continue;
        }
        if (i == len && start == len) {
            break; /* nothing after the last '&' (or no input) */
        }
        mg_lua_args_pair(L, t, buf, s + start, i - start);
        start = i + 1;
        if (max > 0 && ++count == max) {
            return i < len; /* more input, even a lone '&': "truncated" */
        }
    }
    return 0;
}

static int mg_lua_string_decode_args(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 1 && n != 2) {
        return luaL_error(L, "expecting 1 or 2 arguments but seen %d", n);
    }
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int max = n == 2 ? luaL_checkint(L, 2) : 100;
    char *buf = scratch(L, len);
    lua_createtable(L, 0, 4);
    if (decode_args(L, lua_gettop(L), s, len, max, buf)) {
        lua_pushliteral(L, "truncated");
        return 2;
    }
    return 1;
}

/* ---- SQL quoting ---- */

static int mg_lua_string_quote_sql_str(lua_State *L)
{
    if (lua_gettop(L) != 1) {
        return luaL_error(L, "expecting one argument");
    }
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    /* MySQL's escapes (\0 \b \t \n \r \Z \" \' \\); bytes >= 0x80 pass, UTF-8 stays intact */
    char *dst = scratch(L, 2 * len + 2), *p = dst;
    *p++ = '\'';
    for (size_t i = 0; i < len; i++) {
        char e = 0;
        switch (s[i]) {
        case '\0':
            e = '0';
            break;
        case '\b':
            e = 'b';
            break;
        case '\t':
            e = 't';
            break;
        case '\n':
            e = 'n';
            break;
        case '\r':
            e = 'r';
            break;
        case '\032':
            e = 'Z';
            break;
        case '"':
        case '\'':
        case '\\':
            e = s[i];
            break;
        }
        if (e) {
            *p++ = '\\';
            *p++ = e;
        } else {
            *p++ = s[i];
        }
    }
    *p++ = '\'';
    lua_pushlstring(L, dst, (size_t)(p - dst));
    return 1;
}

/* ---- digests ---- */

static int mg_lua_string_md5(lua_State *L)
{
    size_t len;
    const char *s = arg_tostring(L, 1, &len);
    unsigned char d[MG_MD5_DIGEST_LEN];
    char out[2 * MG_MD5_DIGEST_LEN];
    mg_md5(s, len, d);
    mg_hex_dump(out, d, sizeof(d));
    lua_pushlstring(L, out, sizeof(out));
    return 1;
}

static int mg_lua_string_md5_bin(lua_State *L)
{
    size_t len;
    const char *s = arg_tostring(L, 1, &len);
    unsigned char d[MG_MD5_DIGEST_LEN];
    mg_md5(s, len, d);
    lua_pushlstring(L, (char *)d, sizeof(d));
    return 1;
}

static int mg_lua_string_sha1_bin(lua_State *L)
{
    size_t len;
    const char *s = arg_tostring(L, 1, &len);
    unsigned char d[MG_SHA1_DIGEST_LEN];
    mg_sha1(s, len, d);
    lua_pushlstring(L, (char *)d, sizeof(d));
    return 1;
}

static int mg_lua_string_hmac_sha1(lua_State *L)
{
    if (lua_gettop(L) != 2) {
        return luaL_error(L, "expecting 2 arguments, but got %d", lua_gettop(L));
    }
    size_t klen, mlen;
    const char *key = luaL_checklstring(L, 1, &klen);
    const char *msg = luaL_checklstring(L, 2, &mlen);
    unsigned char d[MG_SHA1_DIGEST_LEN];
    mg_hmac_sha1(key, klen, msg, mlen, d);
    lua_pushlstring(L, (char *)d, sizeof(d));
    return 1;
}

/* crc32_short and crc32_long are one CRC-32; nginx only picks a table size by length */
static int mg_lua_string_crc32(lua_State *L)
{
    size_t len;
    const char *s = arg_tostring(L, 1, &len);
    uLong crc = crc32(0L, Z_NULL, 0);
    /* zlib takes uInt lengths: feed a huge string in pieces */
    while (len) {
        uInt n = len > 0x40000000 ? 0x40000000 : (uInt)len;
        crc = crc32(crc, (const Bytef *)s, n);
        s += n;
        len -= n;
    }
    lua_pushnumber(L, (lua_Number)crc);
    return 1;
}

/* ---- base64 ---- */

static int mg_lua_string_encode_base64(lua_State *L)
{
    lua_settop(L, 2);
    size_t len;
    const char *s = arg_tostring(L, 1, &len);
    int pad = 1;
    if (lua_toboolean(L, 2)) {
        if (!lua_isboolean(L, 2)) {
            return luaL_error(L, "bad no_padding: boolean expected, got %s", luaL_typename(L, 2));
        }
        pad = 0;
    }
    const unsigned char *src = (const unsigned char *)s;
    char *dst = scratch(L, (len + 2) / 3 * 4), *p = dst;
    for (; len >= 3; src += 3, len -= 3) {
        *p++ = b64_alphabet[src[0] >> 2];
        *p++ = b64_alphabet[(src[0] & 3) << 4 | src[1] >> 4];
        *p++ = b64_alphabet[(src[1] & 0xf) << 2 | src[2] >> 6];
        *p++ = b64_alphabet[src[2] & 0x3f];
    }
    if (len) {
        *p++ = b64_alphabet[src[0] >> 2];
        if (len == 1) {
            *p++ = b64_alphabet[(src[0] & 3) << 4];
        } else {
            *p++ = b64_alphabet[(src[0] & 3) << 4 | src[1] >> 4];
            *p++ = b64_alphabet[(src[1] & 0xf) << 2];
        }
        if (pad) {
            *p++ = '=';
            if (len == 1) {
                *p++ = '=';
            }
        }
    }
    lua_pushlstring(L, dst, (size_t)(p - dst));
    return 1;
}

/*
 * nginx's rules: the input ends at the first '=' (what follows is ignored, so padding is
 * optional), every byte before it must be in the alphabet, and a lone sixth bit group
 * (length % 4 == 1) is an error. Returns the decoded length or -1.
 */
static long decode_base64(unsigned char *dst, const char *src, size_t len)
{
    const char *eq = memchr(src, '=', len);
    if (eq) {
        len = (size_t)(eq - src);
    }
    if (len % 4 == 1) {
        return -1;
    }
    unsigned long acc = 0;
    int bits = 0;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value[(unsigned char)src[i]];
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6 | (unsigned long)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

static int mg_lua_string_decode_base64(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING) {
        return luaL_error(L, "string argument only");
    }
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    unsigned char *dst = scratch(L, len / 4 * 3 + 3);
    long n = decode_base64(dst, s, len);
    if (n < 0) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, (char *)dst, (size_t)n);
    }
    return 1;
}

/* RFC 2045's reading: bytes outside the alphabet (line breaks, spaces) are skipped, then the
 * rest decodes as decode_base64 does; nil when it does not */
static int mg_lua_string_decode_base64mime(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING) {
        return luaL_error(L, "string argument only");
    }
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    char *kept = (char *)scratch(L, len / 4 * 3 + 3 + len);
    size_t k = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        if (b64_value[(unsigned char)s[i]] >= 0) {
            kept[k++] = s[i];
        }
    }
    unsigned char *dst = (unsigned char *)kept + len;
    long n = decode_base64(dst, kept, k);
    if (n < 0) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, (char *)dst, (size_t)n);
    }
    return 1;
}

void mg_lua_inject_string_api(lua_State *L)
{
    static const struct {
        const char *name;
        lua_CFunction fn;
        int coerces; /* takes its string the resty.core way: needs tostring as upvalue */
    } fns[] = {
        { "escape_uri", mg_lua_string_escape_uri, 1 },
        { "unescape_uri", mg_lua_string_unescape_uri, 1 },
        { "encode_args", mg_lua_string_encode_args, 0 },
        { "decode_args", mg_lua_string_decode_args, 0 },
        { "quote_sql_str", mg_lua_string_quote_sql_str, 0 },
        { "md5", mg_lua_string_md5, 1 },
        { "md5_bin", mg_lua_string_md5_bin, 1 },
        { "sha1_bin", mg_lua_string_sha1_bin, 1 },
        { "hmac_sha1", mg_lua_string_hmac_sha1, 0 },
        { "crc32_short", mg_lua_string_crc32, 1 },
        { "crc32_long", mg_lua_string_crc32, 1 },
        { "encode_base64", mg_lua_string_encode_base64, 1 },
        { "decode_base64", mg_lua_string_decode_base64, 0 },
    };
    tables_init();
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        if (fns[i].coerces) {
            lua_getglobal(L, "tostring");
            lua_pushcclosure(L, fns[i].fn, 1);
        } else {
            lua_pushcfunction(L, fns[i].fn);
        }
        lua_setfield(L, -2, fns[i].name);
    }
    lua_pushcfunction(L, mg_lua_string_decode_base64mime);
    lua_setfield(L, -2, "decode_base64mime");
}
