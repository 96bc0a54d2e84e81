/*
 * ngx.req: the request as the client sent it and as Lua changes it. Method, URI and args;
 * the header lines, changed in r->headers_in itself so that $http_*, $host and what
 * proxy_pass sends see the change; the raw head; the body, read while the coroutine waits,
 * then inspected, discarded or replaced. A body larger than client_body_buffer_size is in a
 * temporary file (body.c): get_body_file names it and get_body_data is nil, as OpenResty's.
 */
#include <limits.h>

#include "api.h"
#include "conn.h"
#include "log_escape.h"

#define MAX_ARGS 100    /* lua-nginx-module's default for get_uri_args / get_post_args */
#define MAX_HEADERS 100 /* and for get_headers */

static mg_request_t *req_get(lua_State *L)
{
    mg_lua_check_phase(L, MG_LUA_REQUEST_PHASES);
    mg_request_t *r = mg_lua_request(L);
    return r;
}

/* The same, with the words init_by_lua gets from lua-nginx-module's function. */
static mg_request_t *req_get_words(lua_State *L, const char *no_request)
{
    mg_lua_check_phase_words(L, MG_LUA_REQUEST_PHASES, no_request);
    return mg_lua_request(L);
}

static void check_nargs(lua_State *L, int want)
{
    int n = lua_gettop(L);
    if (n != want) {
        luaL_error(L, "expecting %d arguments but seen %d", want, n);
    }
}

/* The value at idx as a string, converted by the global tostring() as OpenResty's FFI does. */
static const char *to_string(lua_State *L, int idx, size_t *len)
{
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
        return lua_tolstring(L, idx, len);
    }
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    lua_getglobal(L, "tostring");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    lua_replace(L, idx);
    const char *s = lua_tolstring(L, idx, len);
    if (s == NULL) {
        luaL_error(L, "'tostring' must return a string");
    }
    return s;
}

/* ---- method ---- */

/* ngx.HTTP_* numbers are nginx's method bits; r->method is the parser's id (parse.h). */
static const struct {
    int bit;
    int id;
    const char *name;
} methods[] = {
    {0x0002, MG_HTTP_GET, "GET"},
    {0x0004, MG_HTTP_HEAD, "HEAD"},
    {0x0008, MG_HTTP_POST, "POST"},
    {0x0010, MG_HTTP_PUT, "PUT"},
    {0x0020, MG_HTTP_DELETE, "DELETE"},
    {0x0040, MG_HTTP_MKCOL, "MKCOL"},
    {0x0080, MG_HTTP_COPY, "COPY"},
    {0x0100, MG_HTTP_MOVE, "MOVE"},
    {0x0200, MG_HTTP_OPTIONS, "OPTIONS"},
    {0x0400, MG_HTTP_PROPFIND, "PROPFIND"},
    {0x0800, MG_HTTP_PROPPATCH, "PROPPATCH"},
    {0x1000, MG_HTTP_LOCK, "LOCK"},
    {0x2000, MG_HTTP_UNLOCK, "UNLOCK"},
    {0x4000, MG_HTTP_PATCH, "PATCH"},
    {0x8000, MG_HTTP_TRACE, "TRACE"},
};

static int mg_lua_req_get_method(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.request", 286);
    mg_request_t *r = req_get(L);
    lua_pushlstring(L, r->method_name.data, r->method_name.len);
    return 1;
}

static int mg_lua_req_set_method(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.request", 315);
    mg_request_t *r = req_get(L);
    if (lua_type(L, 1) != LUA_TNUMBER) {
        return luaL_error(L, "bad method number");
    }
    lua_Integer bit = lua_tointeger(L, 1);
    for (size_t i = 0; i < mg_nelems(methods); i++) {
        if (methods[i].bit == bit) {
            r->method = methods[i].id;
            r->method_name.data = (char *)methods[i].name;
            r->method_name.len = strlen(methods[i].name);
            return 0;
        }
    }
    return luaL_error(L, "unsupported HTTP method: %d", (int)bit);
}

/* ---- args ---- */

/*
 * Parse "a=1&b&a=2" into the table t; returns 1 when max stopped it early. The two callers
 * count as lua-nginx-module 0.10.23's two parsers do. URI args (its FFI one): there are as
 * many args as '&'s plus one, and more than max truncates; then args are taken until max
 * of them are kept (empty pieces and empty keys do not count). POST args (its C one): every
 * piece that ends in '&' counts, empty or not, and reaching max there truncates. max <= 0:
 * no limit.
 */
static int parse_args(lua_State *L, int t, const char *s, size_t len, int max, int post)
{
    char *scratch = lua_newuserdata(L, len ? len : 1); /* collected with the call */
    size_t start = 0, count = 0;
    if (post) {
        for (size_t i = 0; i < len; i++) {
            if (s[i] != '&') {
                continue;
            }
            mg_lua_args_pair(L, t, scratch, s + start, i - start);
            start = i + 1;
            if (max > 0 && ++count == (size_t)max) {
                lua_pop(L, 1);
                return 1;
            }
        }
        if (start < len) {
            mg_lua_args_pair(L, t, scratch, s + start, len - start);
        }
        lua_pop(L, 1);
        return 0;
    }
    size_t total = 0;
    if (len) {
        total = 1;
        for (size_t i = 0; i < len; i++) {
            total += s[i] == '&';
        }
    }
    int truncated = max > 0 && total > (size_t)max;
    size_t limit = truncated ? (size_t)max : total;
    for (size_t i = 0; i <= len && count < limit; i++) {
        if (i < len && s[i] != '&') {
            continue;
        }
        if (i > start) {
            count += (size_t)mg_lua_args_pair(L, t, scratch, s + start, i - start);
        }
        start = i + 1;
    }
    lua_pop(L, 1);
    return truncated;
}

/* A count argument as OpenResty's FFI functions take it: a number (cut to a C int), a boolean
 * (0 or 1); anything else, a numeric string included, is refused in the FFI's words. */
static int ffi_int_arg(lua_State *L, int idx, const char *fname)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER: {
        lua_Number n = lua_tonumber(L, idx);
        return n >= INT_MIN && n <= INT_MAX ? (int)n : INT_MIN;
    }
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx);
    }
    return luaL_error(L, "bad argument #2 to '%s' (cannot convert '%s' to 'int')", fname,
                      luaL_typename(L, idx));
}

static int mg_lua_req_get_uri_args(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.request", 199);
    mg_request_t *r = req_get(L);
    int max = MAX_ARGS;
    if (!lua_isnoneornil(L, 1)) {
        max = ffi_int_arg(L, 1, "ngx_http_lua_ffi_req_get_uri_args_count");
        if (max < 0) {
            max = MAX_ARGS;
        }
    }
    int t;
    if (lua_istable(L, 2)) {
        /* the caller's table, emptied and filled: no garbage per request */
        t = 2;
        lua_pushnil(L);
        while (lua_next(L, t)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, t);
        }
        lua_pushvalue(L, t);
    } else {
        lua_createtable(L, 0, 4);
    }
    t = lua_gettop(L);
    if (parse_args(L, t, r->args.data, r->args.len, max, 0)) {
        lua_pushliteral(L, "truncated");
        return 2;
    }
    return 1;
}

static int mg_lua_req_set_uri_args(lua_State *L)
{
    mg_request_t *r = req_get_words(L, MG_LUA_NO_REQ_OBJECT);
    if (lua_gettop(L) != 1) {
        return luaL_error(L, "expecting 1 argument but seen %d", lua_gettop(L));
    }
    switch (lua_type(L, 1)) {
    case LUA_TNUMBER:
    case LUA_TSTRING:
        break;
    case LUA_TTABLE:
        lua_getglobal(L, "ngx");
        lua_getfield(L, -1, "encode_args");
        lua_pushvalue(L, 1);
        lua_call(L, 1, 1);
        lua_replace(L, 1);
        lua_pop(L, 1);
        break;
    default:
        return luaL_argerror(L, 1,
                             lua_pushfstring(L, "string, number, or table expected, but got %s",
                                             luaL_typename(L, 1)));
    }
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    r->args = mg_pstr(r->pool, s, len);
    r->args_changed = 1;
    return 0;
}

/* ---- the URI ---- */

static int unsafe_uri_byte(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int mg_lua_req_set_uri(lua_State *L)
{
    mg_request_t *r = req_get(L);
    int n = lua_gettop(L);
    if (n < 1 || n > 3) {
        return luaL_error(L, "expecting 1, 2 or 3 arguments but seen %d", n);
    }
    size_t len;
    const char *uri = luaL_checklstring(L, 1, &len);
    if (len == 0) {
        return luaL_error(L, "attempt to use zero-length uri");
    }
    int binary = 0, jump = 0;
    if (n >= 3) {
        luaL_checktype(L, 3, LUA_TBOOLEAN);
        binary = lua_toboolean(L, 3);
    }
    for (size_t i = 0; i < len && !binary; i++) {
        if (!unsafe_uri_byte((unsigned char)uri[i])) {
            continue;
        }
        /* the URI quoted as an access log quotes a value: controls, '"', '\\' and bytes from
         * DEL on as \xHH */
        mg_str_t v = {len, (char *)uri};
        char *quoted = lua_newuserdata(L, mg_log_escape_len(MG_LOG_ESCAPE_DEFAULT, v) + 1);
        *mg_log_escape_copy(quoted, MG_LOG_ESCAPE_DEFAULT, v) = '\0';
        char byte[3];
        snprintf(byte, sizeof(byte), "%02x", (unsigned char)uri[i]);
        return luaL_error(L,
                          "unsafe byte \"0x%s\" in uri \"%s\" (maybe you want to set the "
                          "'binary' argument?)",
                          byte, quoted);
    }
    if (n >= 2) {
        luaL_checktype(L, 2, LUA_TBOOLEAN);
        jump = lua_toboolean(L, 2);
        if (jump) {
            mg_lua_check_phase(L, MG_LUA_REWRITE);
        }
    }
    r->uri = mg_pstr(r->pool, uri, len);
    mg_http_set_exten(r);
    /* as OpenResty: a changed URI may enter internal locations, and an upstream gets it */
    r->internal = 1;
    if (!jump) {
        r->uri_changed = 0;
        r->valid_location = 0;
        return 0;
    }
    /* "rewrite ... last": the entry ends, the post-rewrite phase searches the locations
     * again and the new location's Lua runs from scratch, with a fresh ngx.ctx */
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    r->uri_changed = 1;
    luaL_unref(L, LUA_REGISTRYINDEX, ctx->ctx_ref);
    ctx->ctx_ref = LUA_NOREF;
    ctx->entered_server_rewrite = ctx->entered_rewrite = ctx->entered_access = 0;
    ctx->entered_content = 0;
    ctx->exited = 1;
    ctx->exit_code = MG_DECLINED;
    return lua_yield(L, 0);
}

static int mg_lua_req_is_internal(lua_State *L)
{
    /* lua-resty-core's is Lua (resty/core/misc.lua): its errors name that file */
    const char *err = mg_lua_probe ? NULL : mg_lua_phase_error(MG_LUA_REQUEST_PHASES);
    if (err) {
        int no_request = mg_lua_cur.phase == MG_LUA_INIT;
        return mg_lua_raise_from(L, "resty.core.misc", no_request ? 175 : 181, err);
    }
    mg_request_t *r = req_get(L);
    lua_pushboolean(L, r->internal);
    return 1;
}

static int mg_lua_req_start_time(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.request", 60);
    mg_lua_check_phase(L, MG_LUA_REQUEST_PHASES | MG_LUA_FAKE_REQUEST_PHASES);
    if (mg_lua_cur.r == NULL && (mg_lua_cur.phase & MG_LUA_FAKE_REQUEST_PHASES)) {
        lua_pushnumber(L, 0); /* OpenResty's fake request: its start is never set */
        return 1;
    }
    mg_request_t *r = req_get(L);
    lua_pushnumber(L, (lua_Number)r->start_msec / 1000.0);
    return 1;
}

static int mg_lua_req_http_version(lua_State *L)
{
    mg_request_t *r = req_get_words(L, MG_LUA_NO_REQ_OBJECT);
    if (r->http_major == 0 && r->http_minor == 9) {
        lua_pushnumber(L, 0.9);
    } else if (r->http_major == 1 && r->http_minor <= 1) {
        lua_pushnumber(L, r->http_minor ? 1.1 : 1.0);
    } else if (r->http_major == 2) {
        lua_pushnumber(L, 2.0);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

/* ---- headers ---- */

/* get_headers()'s metatable __index: "Foo_Bar" and "FOO-BAR" find "foo-bar". */
static int headers_index(lua_State *L)
{
    int t = lua_type(L, 2);
    if (t != LUA_TSTRING && t != LUA_TNUMBER) {
        lua_pushnil(L);
        return 1;
    }
    size_t len;
    const char *k = lua_tolstring(L, 2, &len);
    char *low = lua_newuserdata(L, len ? len : 1);
    for (size_t i = 0; i < len; i++) {
        char c = mg_tolower(k[i]);
        low[i] = c == '_' ? '-' : c;
    }
    lua_pushlstring(L, low, len);
    lua_rawget(L, 1);
    return 1;
}

static int mg_lua_req_get_headers(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.request", 125);
    mg_request_t *r = req_get(L);
    int max = MAX_HEADERS;
    if (!lua_isnoneornil(L, 1)) {
        max = ffi_int_arg(L, 1, "ngx_http_lua_ffi_req_get_headers_count");
        if (max < 0) {
            max = MAX_HEADERS;
        }
    }
    int raw = lua_toboolean(L, 2);
    mg_table_elt_t *h = r->headers_in.headers.elts;
    size_t n = r->headers_in.headers.nelts;
    int truncated = max > 0 && n > (size_t)max;
    if (truncated) {
        n = (size_t)max;
    }
    lua_createtable(L, 0, (int)n);
    int t = lua_gettop(L);
    size_t longest = 0;
    for (size_t i = 0; i < n; i++) {
        longest = mg_max(longest, h[i].key.len);
    }
    char *low = raw ? NULL : lua_newuserdata(L, longest ? longest : 1);
    for (size_t i = 0; i < n; i++) {
        if (raw) {
            lua_pushlstring(L, h[i].key.data, h[i].key.len);
        } else {
            mg_strlow(low, h[i].key.data, h[i].key.len);
            lua_pushlstring(L, low, h[i].key.len);
        }
        lua_pushlstring(L, h[i].value.data, h[i].value.len);
        mg_lua_args_set(L, t);
    }
    lua_settop(L, t);
    if (!raw) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_setmetatable(L, t);
    }
    if (truncated) {
        lua_pushliteral(L, "truncated");
        return 2;
    }
    return 1;
}

/* A copy in the request pool with the bytes `type` escapes as %XX, as OpenResty does: a
 * header name keeps RFC 9110's token bytes, a value all but controls (tab is fine), so CR
 * and LF cannot split the head. */
static mg_str_t escaped_copy(mg_request_t *r, const char *s, size_t len, mg_escape_t type)
{
    size_t n = mg_http_escape(s, len, NULL, type);
    mg_str_t out = {n, mg_pnalloc(r->pool, n + 1)};
    mg_http_escape(s, len, out.data, type);
    out.data[n] = '\0';
    return out;
}

/*
 * Replace every `name` line of the request with the n values (none: remove them), as
 * OpenResty does: the first line keeps its place (and the case of its name) and takes the
 * first value, the other lines go, further values are added at the end. The values Host and
 * Content-Length determine are checked first, so a bad one changes nothing. An empty first
 * value removes the lines as none does (the further values are added). Raises a Lua error on a
 * bad value.
 */
static void set_input_header(lua_State *L, mg_request_t *r, mg_str_t name, mg_str_t *vals, size_t n)
{
    mg_http_headers_in_t *hin = &r->headers_in;
    mg_str_t server = {0, NULL};
    int64_t clen = -1;
    int is_host = mg_str_caseeq(name, "host");
    int is_clen = mg_str_caseeq(name, "content-length");
    int clear = n == 0 || vals[0].len == 0;
    if (!clear && is_host && mg_server_name_validate(r->pool, vals[0], &server) != MG_OK) {
        luaL_error(L, "failed to set header");
    }
    if (!clear && is_clen && (clen = mg_atoi(vals[0].data, vals[0].len)) < 0) {
        luaL_error(L, "failed to set header");
    }
    mg_table_elt_t *h = hin->headers.elts;
    size_t kept = 0;
    int replaced = 0;
    for (size_t i = 0; i < hin->headers.nelts; i++) {
        if (h[i].key.len == name.len && mg_strncasecmp(h[i].key.data, name.data, name.len) == 0) {
            if (clear || replaced) {
                continue;
            }
            h[i].value = vals[0];
            h[i].hash = 1; /* no longer as parsed */
            replaced = 1;
        }
        h[kept++] = h[i];
    }
    hin->headers.nelts = kept;
    for (size_t k = clear ? 1 : (size_t)replaced; k < n; k++) {
        mg_table_elt_t *e = mg_array_push(&hin->headers);
        e->key = name;
        e->value = vals[k];
        e->hash = 1;
    }
    if (is_host) {
        hin->server = server; /* $host; the virtual server stays the one chosen */
    }
    if (is_clen) {
        hin->content_length_n = clen;
    }
    mg_http_headers_in_refresh(r);
}

static int mg_lua_req_set_header(lua_State *L)
{
    mg_request_t *r = req_get(L);
    if (lua_isnoneornil(L, 1)) {
        return luaL_error(L, "bad 'name' argument: string expected, got nil");
    }
    size_t len;
    const char *s = to_string(L, 1, &len);
    mg_str_t name = escaped_copy(r, s, len, MG_ESCAPE_LUA_HEADER_NAME);
    mg_str_t one, *vals = &one;
    size_t n = 0;
    if (lua_type(L, 2) == LUA_TTABLE) {
        n = lua_objlen(L, 2);
        vals = n ? mg_palloc(r->pool, n * sizeof(mg_str_t)) : NULL;
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, 2, (int)i + 1);
            s = to_string(L, -1, &len);
            vals[i] = escaped_copy(r, s, len, MG_ESCAPE_LUA_HEADER_VALUE);
            lua_pop(L, 1);
        }
    } else if (!lua_isnoneornil(L, 2)) {
        s = to_string(L, 2, &len);
        one = escaped_copy(r, s, len, MG_ESCAPE_LUA_HEADER_VALUE);
        n = 1;
    }
    set_input_header(L, r, name, vals, n);
    return 0;
}

/* require("ngx.req").add_header(name, value or {values}): lines added after the request's own,
 * none replaced (lua-resty-core's ngx.req) */
static int mg_lua_req_add_header(lua_State *L)
{
    mg_request_t *r = req_get(L);
    if (lua_type(L, 1) != LUA_TSTRING) {
        return luaL_error(L, "bad 'name' argument: string expected, got %s", luaL_typename(L, 1));
    }
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    mg_str_t name = escaped_copy(r, s, len, MG_ESCAPE_LUA_HEADER_NAME);
    int many = lua_type(L, 2) == LUA_TTABLE;
    size_t n = many ? lua_objlen(L, 2) : 1;
    for (size_t i = 0; i < n; i++) {
        if (many) {
            lua_rawgeti(L, 2, (int)i + 1);
        } else {
            lua_pushvalue(L, 2);
        }
        if (lua_isnil(L, -1)) {
            return luaL_error(L, "bad 'value' argument: string or table expected, got nil");
        }
        s = to_string(L, -1, &len);
        mg_table_elt_t *e = mg_array_push(&r->headers_in.headers);
        e->key = name;
        e->value = escaped_copy(r, s, len, MG_ESCAPE_LUA_HEADER_VALUE);
        e->hash = 1;
        lua_pop(L, 1);
    }
    mg_http_headers_in_refresh(r);
    return 0;
}

static int mg_lua_req_clear_header(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.request", 433);
    mg_request_t *r = req_get(L);
    lua_settop(L, 1);
    size_t len;
    const char *s = to_string(L, 1, &len);
    set_input_header(L, r, escaped_copy(r, s, len, MG_ESCAPE_LUA_HEADER_NAME), NULL, 0);
    return 0;
}

/* The head as the client sent it: it stays where the parser saw it for the request's life
 * (body.c moves only what follows it, and keeps a replaced buffer until the request ends). */
static int mg_lua_req_raw_header(lua_State *L)
{
    mg_request_t *r = req_get_words(L, MG_LUA_NO_REQ_OBJECT);
    if (r->hc->stream) {
        /* lua-nginx-module has no raw head for an h2 stream (nor has moongate: the text its
         * fields were turned into is not what came, HPACK) */
        return luaL_error(L, "http2 requests not supported yet");
    }
    int no_request_line = lua_toboolean(L, 1);
    const char *start = r->request_line.data;
    if (start == NULL || r->request_length == 0) {
        lua_pushliteral(L, ""); /* a request refused before its head was taken (log phase) */
        return 1;
    }
    const char *line_end = start + r->request_line.len;
    line_end += *line_end == '\r' ? 2 : 1;
    const char *end = line_end;
    if (!r->http_09) {
        /* the first empty line ends it (only the terminator can be empty); the head is
         * shorter than request_length, which counts it and any body bytes */
        const char *p = start, *limit = start + r->request_length;
        while ((p = memchr(p, '\n', (size_t)(limit - p))) != NULL && ++p < limit) {
            if (*p == '\n' || (*p == '\r' && p + 1 < limit && p[1] == '\n')) {
                end = p + (*p == '\n' ? 1 : 2);
                break;
            }
        }
    }
    if (no_request_line) {
        start = line_end;
    }
    lua_pushlstring(L, start, (size_t)(end - start));
    return 1;
}

/* ---- the body ---- */

static void body_post_read(mg_request_t *r)
{
    mg_lua_ctx_t *ctx = mg_lua_get_ctx(r);
    ctx->body_read = 1;
    mg_lua_co_t *co = ctx->body_co;
    if (co) {
        ctx->body_co = NULL;
        mg_lua_resume_co(co, 0); /* it arrived after read_body yielded */
    }
}

/* ngx.thread.kill of the coroutine in ngx.req.read_body: the body is still read (body.c
 * cannot stop halfway), and nobody is resumed with it */
static void body_cancel(mg_lua_co_t *co, void *data)
{
    (void)co;
    mg_lua_ctx_t *ctx = data;
    ctx->body_co = NULL;
}

static int mg_lua_req_read_body(lua_State *L)
{
    check_nargs(L, 0);
    mg_lua_check_phase_words(L, MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT,
                             MG_LUA_REQ_OBJECT_NOT_FOUND);
    mg_request_t *r = mg_lua_request(L);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    if (r->request_body || r->discard_body) {
        return 0; /* read before (lua_need_request_body), or dropped: as nginx, nothing to do */
    }
    r->request_body_in_clean_file = 1; /* lua-nginx-module removes the file whatever happens */
    mg_int_t rc = mg_http_read_client_request_body(r, body_post_read);
    if (rc >= MG_HTTP_SPECIAL_RESPONSE) {
        /* 413, 400, 408, 499: the entry ends as with ngx.exit(rc) */
        ctx->exited = 1;
        ctx->exit_code = rc;
        return lua_yield(L, 0);
    }
    if (r->request_body->done) {
        return 0;
    }
    /* body.c calls body_post_read once the rest arrived, or finalizes the request itself
     * with its error (the waiting coroutine goes with the request's Lua state) */
    ctx->body_co = mg_lua_cur.co;
    return mg_lua_wait_with(L, ctx, body_cancel, ctx);
}

static int mg_lua_req_discard_body(lua_State *L)
{
    check_nargs(L, 0);
    mg_request_t *r = req_get_words(L, MG_LUA_REQ_OBJECT_NOT_FOUND);
    if (mg_http_discard_request_body(r) != MG_OK) {
        return luaL_error(L, "failed to discard request body");
    }
    return 0;
}

/* The body as one Lua string on the stack, or nothing (returns 0) when there is none. */
static int push_body(lua_State *L, mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    if (rb == NULL || rb->temp_file || mg_chain_size(rb->bufs) == 0) {
        return 0;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (mg_buf_t *buf = rb->bufs; buf; buf = buf->next) {
        luaL_addlstring(&b, buf->pos, mg_buf_size(buf));
    }
    luaL_pushresult(&b);
    return 1;
}

static int mg_lua_req_get_body_data(lua_State *L)
{
    check_nargs(L, 0);
    mg_request_t *r = req_get_words(L, MG_LUA_REQ_OBJECT_NOT_FOUND);
    if (!push_body(L, r)) {
        lua_pushnil(L);
    }
    return 1;
}

static int mg_lua_req_get_body_file(lua_State *L)
{
    check_nargs(L, 0);
    mg_request_t *r = req_get_words(L, MG_LUA_REQ_OBJECT_NOT_FOUND);
    mg_http_request_body_t *rb = r->request_body;
    if (rb == NULL || rb->temp_file == NULL) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, rb->temp_file->name.data, rb->temp_file->name.len);
    }
    return 1;
}

static int mg_lua_req_get_post_args(lua_State *L)
{
    mg_request_t *r = req_get_words(L, MG_LUA_NO_REQ_OBJECT);
    int n = lua_gettop(L);
    if (n > 1) {
        return luaL_error(L, "expecting 0 or 1 arguments but seen %d", n);
    }
    int max = n == 1 ? (int)luaL_checkinteger(L, 1) : MAX_ARGS;
    if (r->discard_body) {
        lua_createtable(L, 0, 0);
        return 1;
    }
    if (r->request_body == NULL) {
        return luaL_error(L, "no request body found; maybe you should turn on "
                             "lua_need_request_body?");
    }
    if (r->request_body->temp_file) {
        lua_pushnil(L);
        lua_pushliteral(L, "request body in temp file not supported");
        return 2;
    }
    lua_createtable(L, 0, 4);
    int t = lua_gettop(L);
    if (!push_body(L, r)) {
        return 1;
    }
    size_t len;
    const char *body = lua_tolstring(L, -1, &len);
    int truncated = parse_args(L, t, body, len, max, 1);
    lua_settop(L, t);
    if (truncated) {
        lua_pushliteral(L, "truncated");
        return 2;
    }
    return 1;
}

/* A new body: Content-Length follows it, so that an upstream gets the right framing. */
static void body_set_length(lua_State *L, mg_request_t *r)
{
    int64_t n = r->headers_in.content_length_n < 0 ? 0 : r->headers_in.content_length_n;
    char *v = mg_psprintf(r->pool, "%lld", (long long)n);
    mg_str_t value = {strlen(v), v};
    set_input_header(L, r, (mg_str_t)mg_string("Content-Length"), &value, 1);
}

static mg_http_request_body_t *body_for_change(lua_State *L, mg_request_t *r)
{
    if (r->discard_body) {
        luaL_error(L, "request body already discarded asynchronously");
    }
    if (r->request_body == NULL) {
        luaL_error(L, "request body not read yet");
    }
    return r->request_body;
}

static int mg_lua_req_set_body_data(lua_State *L)
{
    check_nargs(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    mg_request_t *r = req_get_words(L, MG_LUA_REQ_OBJECT_NOT_FOUND);
    body_for_change(L, r);
    r->headers_in.content_length_n = (int64_t)len; /* what proxy_pass sends as the length */
    mg_http_request_body_reset(r);
    mg_http_request_body_append(r, data, len);
    body_set_length(L, r);
    return 0;
}

/* ngx.req.set_body_file(path, auto_clean?): the file is the body from now on (the
 * Content-Length says its size); auto_clean removes it when the request ends. */
static int mg_lua_req_set_body_file(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 1 && n != 2) {
        return luaL_error(L, "expecting 1 or 2 arguments but seen %d", n);
    }
    const char *name = luaL_checkstring(L, 1);
    int clean = n == 2 && lua_toboolean(L, 2);
    mg_request_t *r = req_get(L);
    mg_http_request_body_t *rb = body_for_change(L, r);
    const char *what;
    mg_http_temp_file_t *tf = mg_http_temp_file_open(r, name, clean, &what);
    if (tf == NULL) {
        return luaL_error(L, "%s \"%s\" failed", what, name);
    }
    mg_http_request_body_reset(r);
    mg_buf_t *b = mg_buf_mem(r->pool, NULL, 0);
    b->in_file = 1;
    b->fd = tf->fd;
    b->file_pos = 0;
    b->file_last = tf->offset;
    rb->bufs = b;
    rb->fill = NULL;
    rb->fill_end = NULL;
    rb->temp_file = tf;
    rb->received = (size_t)tf->offset;
    r->headers_in.content_length_n = tf->offset;
    body_set_length(L, r);
    return 0;
}

/* init_body's size (where nginx starts a temporary file) means nothing here: the new body
 * is built in memory whatever its size. */
static int mg_lua_req_init_body(lua_State *L)
{
    int n = lua_gettop(L);
    if (n > 1) {
        return luaL_error(L, "expecting 0 or 1 argument but seen %d", n);
    }
    mg_request_t *r = req_get(L);
    body_for_change(L, r);
    if (n == 1 && luaL_checkinteger(L, 1) < 0) {
        return luaL_error(L, "bad size argument: %d", (int)lua_tointeger(L, 1));
    }
    r->headers_in.content_length_n = 0;
    mg_http_request_body_reset(r); /* its empty first buffer marks it as begun */
    return 0;
}

static mg_http_request_body_t *body_begun(lua_State *L, mg_request_t *r)
{
    mg_http_request_body_t *rb = r->request_body;
    if (rb == NULL || rb->bufs == NULL) {
        luaL_error(L, "request_body not initialized");
    }
    return rb;
}

static int mg_lua_req_append_body(lua_State *L)
{
    check_nargs(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    mg_request_t *r = req_get(L);
    body_begun(L, r);
    mg_http_request_body_append(r, data, len);
    if (r->headers_in.content_length_n < 0) {
        r->headers_in.content_length_n = 0;
    }
    r->headers_in.content_length_n += (int64_t)len;
    return 0;
}

static int mg_lua_req_finish_body(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 0) {
        return luaL_error(L, "expecting 0 argument but seen %d", n);
    }
    mg_request_t *r = req_get(L);
    body_begun(L, r);
    body_set_length(L, r);
    return 0;
}

void mg_lua_inject_req_api(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"get_method", mg_lua_req_get_method},
        {"set_method", mg_lua_req_set_method},
        {"get_uri_args", mg_lua_req_get_uri_args},
        {"get_query_args", mg_lua_req_get_uri_args},
        {"set_uri_args", mg_lua_req_set_uri_args},
        {"set_uri", mg_lua_req_set_uri},
        {"is_internal", mg_lua_req_is_internal},
        {"start_time", mg_lua_req_start_time},
        {"http_version", mg_lua_req_http_version},
        {"set_header", mg_lua_req_set_header},
        {"clear_header", mg_lua_req_clear_header},
        {"raw_header", mg_lua_req_raw_header},
        {"read_body", mg_lua_req_read_body},
        {"discard_body", mg_lua_req_discard_body},
        {"get_body_data", mg_lua_req_get_body_data},
        {"get_body_file", mg_lua_req_get_body_file},
        {"set_body_file", mg_lua_req_set_body_file},
        {"get_post_args", mg_lua_req_get_post_args},
        {"set_body_data", mg_lua_req_set_body_data},
        {"init_body", mg_lua_req_init_body},
        {"append_body", mg_lua_req_append_body},
        {"finish_body", mg_lua_req_finish_body},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 24);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    /* one metatable for every get_headers() result */
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, headers_index);
    lua_setfield(L, -2, "__index");
    lua_pushcclosure(L, mg_lua_req_get_headers, 1);
    lua_setfield(L, -2, "get_headers");
    lua_setfield(L, -2, "req");
    /* for require "ngx.req" (ngx_libs.c) */
    lua_pushcfunction(L, mg_lua_req_add_header);
    lua_setfield(L, LUA_REGISTRYINDEX, "mg.req.add_header");
}
