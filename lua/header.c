/*
 * ngx.header and ngx.resp.get_headers: the response head as Lua reads and writes it, until the
 * head is sent. Names match without case, with "_" standing for "-" (unless
 * lua_transform_underscores_in_response_headers is off). What the core keeps as
 * fields (Content-Type, Content-Length, Last-Modified; the Location, ETag and Content-Encoding
 * pointers) is written there; other lines live in headers_out.headers, where a removed line
 * keeps its slot with hash 0. Values are copied into the request pool, unsafe bytes escaped
 * as %XX the way lua-nginx-module 0.10.23 does, so a value cannot split the head.
 */
#include <ctype.h>

#include "api.h"

#define MAX_RESP_HEADERS 100 /* ngx.resp.get_headers() without a limit */

enum { H_PLAIN, H_SINGLE, H_CONTENT_TYPE, H_CONTENT_LENGTH, H_LAST_MODIFIED, H_LOCATION,
       H_ETAG, H_CONTENT_ENCODING };

/* Headers nginx keeps one of: a table sets the last of its values. Location is not among
 * them: after a relative value OpenResty has no Location pointer, so a table adds a line per
 * value. */
static const struct {
    const char *name;
    int kind;
} specials[] = {
    {"content-type", H_CONTENT_TYPE},
    {"content-length", H_CONTENT_LENGTH},
    {"last-modified", H_LAST_MODIFIED},
    {"location", H_LOCATION},
    {"etag", H_ETAG},
    {"content-encoding", H_CONTENT_ENCODING},
    {"server", H_SINGLE},
    {"date", H_SINGLE},
    {"expires", H_SINGLE},
    {"refresh", H_SINGLE},
    {"content-range", H_SINGLE},
    {"accept-ranges", H_SINGLE},
    {"www-authenticate", H_SINGLE},
};

/* A value copied into the pool, its control bytes but HT (and DEL) escaped. */
static mg_str_t value_copy(mg_request_t *r, const char *s, size_t len)
{
    size_t n = mg_http_escape(s, len, NULL, MG_ESCAPE_LUA_HEADER_VALUE);
    if (n == len) {
        return mg_pstr(r->pool, s, len);
    }
    char *p = mg_pnalloc(r->pool, n + 1);
    mg_http_escape(s, len, p, MG_ESCAPE_LUA_HEADER_VALUE);
    p[n] = '\0';
    return (mg_str_t){n, p};
}

/* A key as text: strings and numbers as they are, anything else through tostring (the
 * function is upvalue 1 of the metamethods), as resty.core does. */
static const char *to_text(lua_State *L, int idx, size_t *len)
{
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
        return lua_tolstring(L, idx, len);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    lua_replace(L, idx);
    const char *s = lua_tolstring(L, idx, len);
    if (s == NULL) {
        luaL_error(L, "'tostring' must return a string");
    }
    return s;
}

/* The normalized name of the key at idx, in buf when it fits (else in Lua memory that lives
 * as long as the call). */
static mg_str_t key_name(lua_State *L, mg_request_t *r, int idx, char *buf, size_t size)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    size_t len;
    const char *s = to_text(L, idx, &len);
    char *out = 3 * len <= size ? buf : lua_newuserdata(L, 3 * len);
    /* a name keeps a token's bytes (RFC 7230), the rest as %XX; '_' is one and stays, so it
     * can become '-' after the escaping */
    size_t n = mg_http_escape(s, len, out, MG_ESCAPE_LUA_HEADER_NAME);
    for (size_t i = 0; i < n && llcf->transform_underscores; i++) {
        if (out[i] == '_') {
            out[i] = '-';
        }
    }
    return (mg_str_t){n, out};
}

static int kind_of(mg_str_t name)
{
    for (size_t i = 0; i < mg_nelems(specials); i++) {
        if (mg_str_caseeq(name, specials[i].name)) {
            return specials[i].kind;
        }
    }
    return H_PLAIN;
}

static int same_name(mg_table_elt_t *h, mg_str_t name)
{
    return h->hash && h->key.len == name.len && mg_strncasecmp(h->key.data, name.data, name.len) == 0;
}

/* ---- reading ---- */

static int header_get(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.response", 185);
    mg_lua_check_phase(L, MG_LUA_REQUEST_PHASES);
    mg_request_t *r = mg_lua_request(L);
    mg_http_headers_out_t *ho = &r->headers_out;
    char buf[256];
    mg_str_t name = key_name(L, r, 2, buf, sizeof(buf));
    switch (kind_of(name)) {
    case H_CONTENT_TYPE:
        if (ho->content_type.len) {
            lua_pushlstring(L, ho->content_type.data, ho->content_type.len);
            return 1;
        }
        break;
    case H_CONTENT_LENGTH:
        if (ho->content_length_n >= 0) {
            char n[24];
            snprintf(n, sizeof(n), "%lld", (long long)ho->content_length_n);
            lua_pushstring(L, n);
            return 1;
        }
        break;
    case H_LAST_MODIFIED:
        /* only the time counts, as in OpenResty: a value that was no date reads as nil */
        if (ho->last_modified_time >= 0) {
            char t[40];
            mg_time_http(t, ho->last_modified_time);
            lua_pushstring(L, t);
        } else {
            lua_pushnil(L);
        }
        return 1;
    }
    mg_table_elt_t *h = ho->headers.elts;
    int found = 0;
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        if (!same_name(&h[i], name)) {
            continue;
        }
        if (found == 1) {
            /* a second line: the first value moves into a table */
            lua_createtable(L, 4, 0);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
        }
        lua_pushlstring(L, h[i].value.data, h[i].value.len);
        if (found >= 1) {
            lua_rawseti(L, -2, found + 1);
        }
        found++;
    }
    if (found == 0) {
        lua_pushnil(L);
    }
    return 1;
}

/* ---- writing ---- */

/* Remove every line of that name but reuse the first one's slot for `value` when given (its
 * place and spelling stay, as nginx overrides a header); returns that slot or NULL. */
static mg_table_elt_t *replace_lines(mg_request_t *r, mg_str_t name, const mg_str_t *value)
{
    mg_table_elt_t *h = r->headers_out.headers.elts, *kept = NULL;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (!same_name(&h[i], name)) {
            continue;
        }
        if (value && kept == NULL) {
            kept = &h[i];
            kept->value = *value;
        } else {
            h[i].hash = 0;
        }
    }
    return kept;
}

/* Set lines of that name to the values (none = remove): the first replaces what is there,
 * the others are added. Returns the last line written, or NULL. */
static mg_table_elt_t *set_lines(mg_request_t *r, mg_str_t name, mg_str_t *v, int n)
{
    /* an empty value removes, in a table too (nginx keeps no empty line) */
    int first = 0;
    while (first < n && v[first].len == 0) {
        first++;
    }
    mg_table_elt_t *last = replace_lines(r, name, first < n ? &v[first] : NULL);
    if (first < n && last == NULL) {
        last = mg_http_add_header_out(r, name.data, name.len, v[first].data, v[first].len);
    }
    for (int i = first + 1; i < n; i++) {
        if (v[i].len) {
            last = mg_http_add_header_out(r, name.data, name.len, v[i].data, v[i].len);
        }
    }
    return last;
}

/* The values of an assignment, tostring'ed into the pool: nil none, a table its array part
 * (a table without one, like {}, removes), anything else one. */
static int collect_values(lua_State *L, mg_request_t *r, mg_str_t **out)
{
    int t = lua_type(L, 3);
    if (t == LUA_TNIL) {
        *out = NULL;
        return 0;
    }
    if (t != LUA_TTABLE) {
        size_t len;
        const char *s = to_text(L, 3, &len);
        *out = mg_palloc(r->pool, sizeof(mg_str_t));
        **out = value_copy(r, s, len);
        return 1;
    }
    int n = (int)lua_objlen(L, 3);
    *out = n ? mg_palloc(r->pool, (size_t)n * sizeof(mg_str_t)) : NULL;
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, 3, i + 1);
        size_t len;
        const char *s = to_text(L, lua_gettop(L), &len);
        (*out)[i] = value_copy(r, s, len);
        lua_pop(L, 1);
    }
    return n;
}

/* ngx.header[key] = value, or (add) require("ngx.resp").add_header(key, value), which adds
 * lines to a header that may have several instead of replacing them. Key at 2, value at 3. */
static int header_assign(lua_State *L, int add)
{
    mg_lua_no_request_from(L, "resty.core.response", 106);
    mg_lua_check_phase(L, MG_LUA_REQUEST_PHASES);
    mg_request_t *r = mg_lua_request(L);
    if (r->header_sent) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "attempt to set ngx.header.HEADER after sending out response headers");
        return 0;
    }
    char buf[256];
    mg_str_t key = key_name(L, r, 2, buf, sizeof(buf));
    if (key.len == 0) {
        return 0; /* nginx ignores an empty name */
    }
    mg_str_t name = mg_pstr(r->pool, key.data, key.len);
    mg_str_t *v;
    int n = collect_values(L, r, &v);
    int kind = kind_of(name);
    mg_http_headers_out_t *ho = &r->headers_out;
    if (kind != H_PLAIN && kind != H_LOCATION && n > 1) {
        v += n - 1; /* one value: the last */
        n = 1;
    }
    if (n == 1 && v[0].len == 0) {
        n = 0;
    }
    if (add && kind == H_PLAIN) {
        for (int i = 0; i < n; i++) {
            if (v[i].len) {
                mg_http_add_header_out(r, name.data, name.len, v[i].data, v[i].len);
            }
        }
        return 0;
    }
    switch (kind) {
    case H_CONTENT_TYPE:
        /* set, even to nothing: no default type is added when the head goes out */
        mg_lua_get_ctx(r)->mime_set = 1;
        ho->content_type = n ? v[0] : (mg_str_t)mg_null_string;
        return 0;
    case H_CONTENT_LENGTH: {
        int64_t len = n ? mg_atoi(v[0].data, v[0].len) : -1;
        if (n && len < 0) {
            return luaL_error(L, "failed to set header");
        }
        /* a line in its place, as OpenResty's (the core's field otherwise) */
        ho->content_length_n = len;
        ho->content_length = set_lines(r, name, v, n ? 1 : 0);
        return 0;
    }
    case H_LAST_MODIFIED:
        /* a line in its place, as OpenResty's; a date is its time too (If-Modified-Since
         * checks it), another value only the line (and reads as nil, as in OpenResty) */
        replace_lines(r, name, NULL);
        ho->last_modified_time = n ? mg_time_parse_http(v[0].data, v[0].len) : -1;
        ho->last_modified = set_lines(r, name, v, n);
        if (ho->last_modified_time < 0) {
            ho->last_modified = NULL;
        }
        return 0;
    case H_LOCATION: {
        mg_table_elt_t *h = set_lines(r, name, v, n);
        /* a relative Location is sent as it is: only an absolute one is the core's pointer
         * (which would make "/x" absolute), as OpenResty does */
        ho->location = h && h->value.data[0] != '/' ? h : NULL;
        return 0;
    }
    case H_ETAG:
        ho->etag = set_lines(r, name, v, n);
        return 0;
    case H_CONTENT_ENCODING:
        ho->content_encoding = set_lines(r, name, v, n);
        return 0;
    }
    set_lines(r, name, v, n);
    return 0;
}

static int header_set(lua_State *L)
{
    return header_assign(L, 0);
}

/* upvalue 1: tostring */
static int resp_add_header(lua_State *L)
{
    if (lua_gettop(L) != 2) {
        return luaL_error(L, "expecting 2 arguments, but got %d", lua_gettop(L));
    }
    if (lua_isnil(L, 2)) {
        return luaL_error(L, "invalid header value"); /* nothing to add: OpenResty's error */
    }
    /* lua-resty-core's is Lua: a request missing is its set_resp_header's error, a phase
     * refused the same at level 2, ngx/resp.lua's call */
    const char *err = mg_lua_probe ? NULL : mg_lua_phase_error(MG_LUA_REQUEST_PHASES);
    if (err) {
        if (mg_lua_cur.phase == MG_LUA_INIT) {
            return mg_lua_raise_from(L, "resty.core.response", 106, err);
        }
        return mg_lua_raise_from(L, "ngx.resp", 14, err);
    }
    lua_pushnil(L);
    lua_insert(L, 1); /* key and value where the metamethod has them */
    return header_assign(L, 1);
}

/* ---- ngx.resp.get_headers(max?, raw?) ---- */

static char headers_mt_key; /* registry: the metatable of a get_headers() result */

/* A result's __index: "Content_Type" finds "content-type". */
static int headers_index(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING) {
        lua_pushnil(L);
        return 1;
    }
    size_t len;
    const char *s = lua_tolstring(L, 2, &len);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < len; i++) {
        luaL_addchar(&b, s[i] == '_' ? '-' : (char)tolower((unsigned char)s[i]));
    }
    luaL_pushresult(&b);
    lua_rawget(L, 1);
    return 1;
}

/* t[key] = value for the key on the top of the stack (t just below it); a key seen before
 * gets a table of its values. */
static void add_value(lua_State *L, const char *val, size_t vlen)
{
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    switch (lua_type(L, -1)) {
    case LUA_TNIL:
        lua_pop(L, 1);
        lua_pushlstring(L, val, vlen);
        lua_rawset(L, -3);
        return;
    case LUA_TSTRING:
        lua_createtable(L, 4, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
        break;
    }
    lua_pushlstring(L, val, vlen);
    lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
    lua_rawset(L, -3);
}

static void add_field(lua_State *L, const char *key, const char *val, size_t vlen)
{
    lua_pushstring(L, key);
    add_value(L, val, vlen);
}

static int resp_get_headers(lua_State *L)
{
    mg_lua_check_phase_words(L, MG_LUA_REQUEST_PHASES, MG_LUA_NO_REQ_OBJECT);
    mg_request_t *r = mg_lua_request(L);
    lua_Integer max = MAX_RESP_HEADERS;
    if (lua_gettop(L) >= 1 && !lua_isnil(L, 1)) {
        max = luaL_checkinteger(L, 1);
    }
    int raw = lua_toboolean(L, 2);
    mg_http_headers_out_t *ho = &r->headers_out;
    lua_createtable(L, 0, 16);
    if (!raw) {
        lua_pushlightuserdata(L, &headers_mt_key);
        lua_rawget(L, LUA_REGISTRYINDEX);
        lua_setmetatable(L, -2);
    }
    /* what the core prints from fields comes first and is never cut off, but counts against
     * the limit; the limit is checked after each line (so one always fits), as OpenResty */
    lua_Integer count = 0;
    if (ho->content_type.len) {
        add_field(L, "content-type", ho->content_type.data, ho->content_type.len);
        count++;
    }
    if (ho->content_length_n >= 0 && mg_http_content_length_line(r) == NULL) {
        char n[24];
        int len = snprintf(n, sizeof(n), "%lld", (long long)ho->content_length_n);
        add_field(L, "content-length", n, (size_t)len);
        count++;
    }
    const char *conn = ho->status == 101 ? "upgrade" : r->keepalive ? "keep-alive" : "close";
    add_field(L, "connection", conn, strlen(conn));
    count++;
    if (r->chunked) {
        add_field(L, "transfer-encoding", "chunked", 7);
        count++;
    }
    mg_table_elt_t *h = ho->headers.elts;
    int added = 0;
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        if (h[i].hash == 0) {
            continue;
        }
        if (max > 0 && added && count >= max) {
            lua_pushliteral(L, "truncated");
            return 2;
        }
        added = 1;
        count++;
        if (raw) {
            lua_pushlstring(L, h[i].key.data, h[i].key.len);
        } else {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (size_t k = 0; k < h[i].key.len; k++) {
                luaL_addchar(&b, (char)tolower((unsigned char)h[i].key.data[k]));
            }
            luaL_pushresult(&b);
        }
        add_value(L, h[i].value.data, h[i].value.len);
    }
    return 1;
}

void mg_lua_inject_header_api(lua_State *L)
{
    lua_getglobal(L, "tostring");
    int tostring_idx = lua_gettop(L);

    lua_newtable(L); /* ngx.header: empty, all through the metatable */
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, tostring_idx);
    lua_pushcclosure(L, header_get, 1);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, tostring_idx);
    lua_pushcclosure(L, header_set, 1);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_setfield(L, tostring_idx - 1, "header");

    lua_pushlightuserdata(L, &headers_mt_key);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, headers_index);
    lua_setfield(L, -2, "__index");
    lua_rawset(L, LUA_REGISTRYINDEX);

    lua_getfield(L, tostring_idx - 1, "resp");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, tostring_idx - 1, "resp");
    }
    lua_pushcfunction(L, resp_get_headers);
    lua_setfield(L, -2, "get_headers");
    /* for require "ngx.resp" (ngx_libs.c) */
    lua_pushvalue(L, tostring_idx);
    lua_pushcclosure(L, resp_add_header, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "mg.resp.add_header");
    lua_pop(L, 2); /* resp, tostring */
}
