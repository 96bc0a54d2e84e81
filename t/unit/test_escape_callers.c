/*
 * The %-escapers the callers of parse.c's mg_http_escape had before they called it, kept here
 * as models: each against mg_http_escape with the caller's type, over every byte, every pair
 * of bytes (the lengths), and a long string of all bytes. Where the old set was not nginx's
 * (memcached's DEL, DAV's Location, SSI's encoding="url"), the model is the new expected set
 * and the test names the bytes that changed, which t/603, t/185 and t/155 check against nginx.
 * Last, ngx.req.set_uri's and ngx.redirect's error messages, whose \xHH quoting is now the
 * access log's.
 */
#include <stdlib.h>

#include "log_escape.h"
#include "parse.h"

#include "tap.h"

static const char hex[] = "0123456789ABCDEF";

static size_t put(char *out, size_t o, unsigned char ch, int esc)
{
    if (!esc) {
        out[o] = (char)ch;
        return o + 1;
    }
    out[o] = '%';
    out[o + 1] = hex[ch >> 4];
    out[o + 2] = hex[ch & 0xf];
    return o + 3;
}

static int alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ---- the models: each caller's test before the merge ---- */

/* memcached.c escape_key (old: DEL too; nginx's set leaves it, see memcached_new) */
static int memcached_old(unsigned char ch)
{
    return ch <= 0x20 || ch == '%' || ch == 0x7f;
}

static int memcached_new(unsigned char ch)
{
    return ch <= 0x20 || ch == '%';
}

/* set_misc.c escape_uri */
static int set_misc(unsigned char c)
{
    return !(alnum(c) || (c && strchr("!$'()*,-.@_`|~", c)));
}

/* autoindex.c out_uri_component */
static int autoindex(unsigned char ch)
{
    return !(alnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~');
}

/* dav.c dav_location (old: only # % ?; nginx escapes its URI set, see dav_new) */
static int dav_old(unsigned char ch)
{
    return ch <= 0x20 || ch >= 0x7f || ch == '#' || ch == '%' || ch == '?';
}

static int dav_new(unsigned char ch)
{
    return dav_old(ch) || (ch && strchr("\"<>\\^`{|}", ch));
}

/* ssi.c put_encoded, encoding="url" (old: '?' too; nginx's HTML set leaves it) */
static int ssi_old(unsigned char c)
{
    return c <= ' ' || c >= 0x7f || c == '"' || c == '%' || c == '\'' || c == '<' || c == '>' ||
           c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c == '#' ||
           c == '?';
}

static int ssi_new(unsigned char c)
{
    return ssi_old(c) && c != '?';
}

/* special.c send_refresh */
static int refresh(unsigned char ch)
{
    return ch <= ' ' || ch >= 0x7f || strchr("\"'<>\\^`{|~", ch);
}

/* ssl_ocsp_fetch.c make_request, over base64's alphabet */
static int ocsp(unsigned char ch)
{
    return ch == '+' || ch == '/' || ch == '=';
}

/* lua/header.c name_unsafe (lua/req.c's !name_byte_ok was the same set) */
static int header_name(unsigned char c)
{
    return !(alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c))) || c >= 0x80;
}

/* lua/header.c value_unsafe (lua/req.c's !value_byte_ok was the same set) */
static int header_value(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* lua/req.c's name_byte_ok and value_byte_ok, as they were */
static int req_name(unsigned char c)
{
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             (c && strchr("!#$%&'*+-.^_`|~", c)));
}

static int req_value(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* lua/req.c set_uri's and lua/resp.c redirect's quoting of a URI in their error messages
 * (the same test, '"' and '\\' in another order) */
static size_t set_uri_quote(const char *uri, size_t len, char *out)
{
    size_t o = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)uri[k];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            char h[5];
            snprintf(h, sizeof(h), "\\x%02X", c);
            memcpy(out + o, h, 4);
            o += 4;
        } else {
            out[o++] = (char)c;
        }
    }
    return o;
}

/* ---- the comparison ---- */

static size_t model(int (*esc)(unsigned char), const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        o = put(out, o, (unsigned char)in[i], esc((unsigned char)in[i]));
    }
    return o;
}

/* 0 when the model and the type agree on every byte, every pair and all bytes in a row;
 * `alphabet` (NULL: all bytes) limits the input to the bytes the caller can be given */
static int differ(int (*esc)(unsigned char), mg_escape_t type, const char *alphabet)
{
    char all[256], want[768], got[768];
    size_t n = 0;
    for (int b = 0; b < 256; b++) {
        if (alphabet == NULL || (b && strchr(alphabet, b))) {
            all[n++] = (char)b;
        }
    }
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j <= n; j++) {
            char in[2] = {all[i], j < n ? all[j] : 0};
            size_t len = j < n ? 2 : 1, wn = model(esc, in, len, want);
            size_t gn = mg_http_escape(in, len, got, type);
            if (gn != wn || memcmp(got, want, wn) != 0 ||
                mg_http_escape(in, len, NULL, type) != wn) {
                if (wrong++ < 3) {
                    printf("# type %d differs on 0x%02x 0x%02x\n", (int)type, (unsigned char)in[0],
                           (unsigned char)in[1]);
                }
            }
        }
    }
    size_t wn = model(esc, all, n, want), gn = mg_http_escape(all, n, got, type);
    return wrong + (gn != wn || memcmp(got, want, wn) != 0);
}

/* the bytes two sets escape differently, as a string */
static const char *changed(int (*a)(unsigned char), int (*b)(unsigned char))
{
    static char buf[64];
    size_t n = 0;
    for (int c = 0; c < 256 && n + 5 < sizeof(buf); c++) {
        if (!a((unsigned char)c) != !b((unsigned char)c)) {
            n += (size_t)(c > 0x20 && c < 0x7f ? snprintf(buf + n, 5, "%c", c)
                                               : snprintf(buf + n, 6, "0x%02x", c));
            buf[n++] = ' ';
        }
    }
    buf[n ? n - 1 : 0] = '\0';
    return buf;
}

int main(void)
{
    static const char base64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

    is_int(differ(memcached_new, MG_ESCAPE_MEMCACHED, NULL), 0, "memcached key = MEMCACHED");
    is_str(changed(memcached_old, memcached_new), "0x7f",
           "memcached: only DEL changed (now as is)");
    is_int(differ(set_misc, MG_ESCAPE_SET_MISC, NULL), 0, "set_escape_uri = SET_MISC");
    is_int(differ(autoindex, MG_ESCAPE_URI_COMPONENT, NULL), 0, "autoindex = URI_COMPONENT");
    is_int(differ(dav_new, MG_ESCAPE_URI, NULL), 0, "DAV Location = URI");
    is_str(changed(dav_old, dav_new), "\" < > \\ ^ ` { | }", "DAV Location: nginx's URI set added");
    is_int(differ(ssi_new, MG_ESCAPE_HTML, NULL), 0, "SSI encoding=url = HTML");
    is_str(changed(ssi_old, ssi_new), "?", "SSI encoding=url: only '?' changed (now as is)");
    is_int(differ(refresh, MG_ESCAPE_REFRESH, NULL), 0, "msie_refresh = REFRESH");
    is_int(differ(ocsp, MG_ESCAPE_URI_COMPONENT, base64), 0,
           "OCSP request over base64's bytes = URI_COMPONENT");
    is_int(differ(header_name, MG_ESCAPE_LUA_HEADER_NAME, NULL), 0,
           "Lua header name (header.c) = LUA_HEADER_NAME");
    is_int(differ(req_name, MG_ESCAPE_LUA_HEADER_NAME, NULL), 0,
           "Lua request header name (req.c) = LUA_HEADER_NAME");
    is_int(differ(header_value, MG_ESCAPE_LUA_HEADER_VALUE, NULL), 0,
           "Lua header value (header.c) = LUA_HEADER_VALUE");
    is_int(differ(req_value, MG_ESCAPE_LUA_HEADER_VALUE, NULL), 0,
           "Lua request header value (req.c) = LUA_HEADER_VALUE");

    char all[256], want[1024], got[1024];
    for (int b = 0; b < 256; b++) {
        all[b] = (char)b;
    }
    mg_str_t v = {256, all};
    size_t wn = set_uri_quote(all, 256, want);
    size_t gn = (size_t)(mg_log_escape_copy(got, MG_LOG_ESCAPE_DEFAULT, v) - got);
    ok(wn == gn && gn == mg_log_escape_len(MG_LOG_ESCAPE_DEFAULT, v) && !memcmp(got, want, wn),
       "set_uri's and redirect's error message quoting = the access log's default escaping, all "
       "bytes");

    /* header.c's lua_transform_underscores_in_response_headers: '_' became '-' before the
     * test, now after the escaping: the same, as '_' is a token byte and no %XX holds one */
    char out[16];
    size_t n = mg_http_escape("a_b c", 5, out, MG_ESCAPE_LUA_HEADER_NAME);
    for (size_t i = 0; i < n; i++) {
        out[i] = out[i] == '_' ? '-' : out[i];
    }
    is_strn(out, n, "a-b%20c", "header name: '_' to '-' after the escaping");
    return done_testing();
}
