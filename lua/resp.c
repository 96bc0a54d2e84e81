/*
 * The response from Lua: ngx.say/print (through the body filters, with the head sent first),
 * ngx.flush (optionally waiting for the writer), ngx.eof, ngx.exit, ngx.redirect, ngx.exec,
 * ngx.status and ngx.headers_sent. Output memory is malloc'ed in blocks and freed as soon as
 * the writer has nothing queued, so a long-running handler does not grow with its output.
 * An HTTP/1.0 response's output is held to its end for its Content-Length
 * (lua_http10_buffering).
 */
#include <limits.h>

#include "api.h"
#include "log_escape.h"

#define OUTPUT_PHASES (MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT)

typedef struct out_block_s {
    struct out_block_s *next;
    size_t size;
    char data[];
} out_block_t;

/* the block small ngx.say/print calls are gathered in */
#define PENDING_SIZE 4096

void mg_lua_output_free(mg_lua_ctx_t *ctx)
{
    out_block_t *b = ctx->out_blocks;
    mg_lua_main_conf_t *lmcf = ctx->lmcf;
    while (b) {
        out_block_t *next = b->next;
        /* one gathering block is kept for the next request: a small answer's malloc and free
         * of 4 KiB cost ~320 instructions a request */
        if (lmcf && lmcf->out_spare == NULL && b->size == PENDING_SIZE) {
            lmcf->out_spare = b;
        } else {
            free(b);
        }
        b = next;
    }
    ctx->out_blocks = NULL;
}

void mg_lua_output_spare_free(mg_lua_main_conf_t *lmcf)
{
    free(lmcf->out_spare);
    lmcf->out_spare = NULL;
}

char *mg_lua_output_alloc(mg_lua_ctx_t *ctx, size_t len)
{
    if (ctx->out_blocks && ctx->pend == NULL && !mg_http_output_busy(ctx->r)) {
        mg_lua_output_free(ctx); /* everything given before is written */
    }
    out_block_t *b;
    if (len == PENDING_SIZE && ctx->lmcf && ctx->lmcf->out_spare) {
        b = ctx->lmcf->out_spare;
        ctx->lmcf->out_spare = NULL;
    } else {
        b = mg_alloc(sizeof(out_block_t) + len);
        b->size = len;
    }
    b->next = ctx->out_blocks;
    ctx->out_blocks = b;
    return b->data;
}

/* Send the response head now if not yet sent (status from ngx.status, 200 default). MG_OK,
 * MG_ERROR, or an HTTP status a header filter chose instead (header_filter_by_lua's ngx.exit):
 * nothing was sent, and the caller ends its output and finalizes with it. */
/* The head's status (200 unless set) and default type, as output makes them: when the head
 * goes out, or when HTTP/1.0 output starts being held (ngx.status and $sent_http_content_type
 * read them from then on, as in OpenResty). */
static void prepare_header(mg_request_t *r)
{
    if (r->headers_out.status == 0) {
        r->headers_out.status = MG_HTTP_OK;
    }
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    if (!mg_lua_get_ctx(r)->mime_set && llcf->use_default_type) {
        mg_http_set_content_type(r);
    }
}

static mg_int_t send_header(mg_request_t *r)
{
    if (r->header_sent) {
        return MG_OK;
    }
    prepare_header(r);
    return mg_http_send_header(r);
}

/* Small outputs are gathered up to the location's postpone_output (1460 by default), where
 * the writer would hold them anyway: one buffer and one write for a typical small response
 * instead of one per ngx.say. */

/* Give the gathered output (and `extra`: a flush or last buffer, may be NULL) to the filters. */
static mg_int_t send_pending(mg_request_t *r, mg_lua_ctx_t *ctx, mg_buf_t *extra)
{
    mg_buf_t *chain = extra;
    if (ctx->pend_len) {
        chain = mg_buf_mem(r->pool, ctx->pend, ctx->pend_len);
        chain->next = extra;
    }
    ctx->pend = NULL;
    ctx->pend_len = ctx->pend_cap = 0;
    if (chain == NULL) {
        return MG_OK;
    }
    return mg_http_output(r, chain) == MG_ERROR ? MG_ERROR : MG_OK;
}

/* lua_http10_buffering (on by default, as in lua-nginx-module): an HTTP/1.0 response has no
 * chunked framing, so without a Content-Length its connection must close after it; its output
 * is held until the end, where its size is known. Meanwhile the head is not sent, ngx.flush
 * answers "buffering" and ngx.send_headers does nothing. A subrequest of an HTTP/1.0 request
 * holds too, as in lua-nginx-module: its capture gets a Content-Length. */
static int buffering(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    if (ctx->held) {
        return 1;
    }
    if (r->header_sent || r->header_only || r->method == MG_HTTP_HEAD || r->http_major != 1 ||
        r->http_minor != 0 || r->headers_out.content_length_n >= 0) {
        return 0;
    }
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    return llcf->http10_buffering;
}

static void hold(mg_request_t *r, mg_lua_ctx_t *ctx, char *data, size_t size)
{
    mg_buf_t *b = mg_buf_mem(r->pool, data, size);
    if (ctx->held == NULL) {
        prepare_header(r);
        ctx->held_last = &ctx->held;
    }
    *ctx->held_last = b;
    ctx->held_last = &b->next;
    ctx->held_size += size;
}

mg_int_t mg_lua_send_eof(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    if (ctx->eof || r->last_queued) {
        ctx->eof = 1;
        return MG_OK;
    }
    if (buffering(r, ctx)) {
        r->headers_out.content_length_n = (int64_t)ctx->held_size; /* 0 when none was held */
    }
    mg_int_t rc = send_header(r);
    if (rc != MG_OK) {
        return rc;
    }
    ctx->eof = 1;
    mg_buf_t *last = mg_buf_mem(r->pool, "", 0);
    last->last_buf = 1;
    if (ctx->held) {
        /* as lua-nginx-module, the held output and the last buffer go through the body
         * filters apart: a body_filter_by_lua sees the output with ngx.arg[2] false, then
         * an empty last call (what it drops is gone, the Content-Length stays) */
        mg_buf_t *held = ctx->held;
        ctx->held = NULL;
        if (send_pending(r, ctx, held) != MG_OK) {
            return MG_ERROR;
        }
    }
    return send_pending(r, ctx, last);
}

/* ---- ngx.say / ngx.print ---- */

static int is_null(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/* Bytes one argument prints as; tables are arrays whose elements print in order. */
static size_t arg_size(lua_State *L, int idx, int argn, const char *fn, int depth)
{
    size_t len;
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        mg_lua_num_text(L, idx, &len);
        return len;
    case LUA_TSTRING:
        lua_tolstring(L, idx, &len);
        return len;
    case LUA_TNIL:
        return 3;
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? 4 : 5;
    case LUA_TLIGHTUSERDATA:
        if (is_null(L, idx)) {
            return 4;
        }
        break;
    case LUA_TTABLE: {
        if (depth > 64) {
            luaL_error(L, "table nested too deeply");
        }
        size_t n = lua_objlen(L, idx), total = 0;
        /* only a proper array: every key a positive integer within the length */
        lua_pushnil(L);
        while (lua_next(L, idx < 0 ? idx - 1 : idx)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < 1 ||
                (size_t)lua_tonumber(L, -1) > n) {
                lua_pop(L, 1);
                return (size_t)luaL_argerror(L, argn, "non-array table found");
            }
        }
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (int)i);
            int t = lua_type(L, -1);
            if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TTABLE && t != LUA_TBOOLEAN &&
                t != LUA_TNIL && !is_null(L, -1)) {
                lua_pop(L, 1);
                return (size_t)luaL_argerror(L, argn, lua_pushfstring(L, "bad data type %s found",
                                                                      luaL_typename(L, -1)));
            }
            total += arg_size(L, lua_gettop(L), argn, fn, depth + 1);
            lua_pop(L, 1);
        }
        return total;
    }
    default:
        break;
    }
    return (size_t)luaL_argerror(
        L, argn,
        lua_pushfstring(L, "string, number, boolean, nil, ngx.null, or array table expected, but got %s",
                        luaL_typename(L, idx)));
}

static char *arg_copy(lua_State *L, int idx, char *p)
{
    size_t len;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
    case LUA_TSTRING:
        s = lua_type(L, idx) == LUA_TNUMBER ? mg_lua_num_text(L, idx, &len)
                                            : lua_tolstring(L, idx, &len);
        memcpy(p, s, len);
        return p + len;
    case LUA_TNIL:
        memcpy(p, "nil", 3);
        return p + 3;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx)) {
            memcpy(p, "true", 4);
            return p + 4;
        }
        memcpy(p, "false", 5);
        return p + 5;
    case LUA_TLIGHTUSERDATA:
        memcpy(p, "null", 4);
        return p + 4;
    case LUA_TTABLE: {
        size_t n = lua_objlen(L, idx);
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (int)i);
            p = arg_copy(L, lua_gettop(L), p);
            lua_pop(L, 1);
        }
        return p;
    }
    }
    return p;
}

/* A header filter replaced the response with `status` (see send_header): the code's
 * output ends as with ngx.exit(status). */
static int output_replaced(lua_State *L, mg_int_t status)
{
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    ctx->exited = 1;
    ctx->exit_code = status;
    return lua_yield(L, 0);
}

static int output(lua_State *L, int newline, const char *fn)
{
    mg_lua_check_phase_words(L, OUTPUT_PHASES, MG_LUA_NO_REQ_OBJECT);
    mg_request_t *r = mg_lua_request(L);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    if (ctx->eof) {
        lua_pushnil(L);
        lua_pushliteral(L, "seen eof");
        return 2;
    }
    int n = lua_gettop(L);
    size_t size = newline;
    for (int i = 1; i <= n; i++) {
        size += arg_size(L, i, i, fn, 0);
    }
    ctx->seen_body |= size > 0;
    if (size && buffering(r, ctx)) {
        char *data = mg_pnalloc(r->pool, size), *p = data;
        for (int i = 1; i <= n; i++) {
            p = arg_copy(L, i, p);
        }
        if (newline) {
            *p = '\n';
        }
        hold(r, ctx, data, size);
        lua_pushinteger(L, 1);
        return 1;
    }
    if (size == 0 && ctx->held) {
        lua_pushinteger(L, 1); /* the head goes with the held output */
        return 1;
    }
    mg_int_t hrc = send_header(r);
    if (hrc > MG_OK) {
        return output_replaced(L, hrc);
    }
    if (hrc == MG_ERROR) {
        lua_pushnil(L);
        lua_pushliteral(L, "nginx output filter error");
        return 2;
    }
    if (r->header_only || size == 0) {
        lua_pushinteger(L, 1);
        return 1;
    }
    mg_int_t rc = MG_OK;
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    size_t postpone = mg_min(clcf->postpone_output, PENDING_SIZE);
    /* body_filter_by_lua sees each output call as a chunk, as in OpenResty, where gathering
     * happens after the body filters */
    if (size >= postpone || llcf->body_filter) {
        /* large: its own buffer, after what was gathered */
        char *data = mg_lua_output_alloc(ctx, size);
        char *p = data;
        for (int i = 1; i <= n; i++) {
            p = arg_copy(L, i, p);
        }
        if (newline) {
            *p++ = '\n';
        }
        rc = send_pending(r, ctx, mg_buf_mem(r->pool, data, size));
    } else {
        if (ctx->pend_cap - ctx->pend_len < size) {
            rc = send_pending(r, ctx, NULL);
            ctx->pend = mg_lua_output_alloc(ctx, PENDING_SIZE);
            ctx->pend_cap = PENDING_SIZE;
        }
        char *p = ctx->pend + ctx->pend_len;
        for (int i = 1; i <= n; i++) {
            p = arg_copy(L, i, p);
        }
        if (newline) {
            *p++ = '\n';
        }
        ctx->pend_len += size;
        if (rc == MG_OK && ctx->pend_len >= postpone) {
            rc = send_pending(r, ctx, NULL);
        }
    }
    if (rc == MG_ERROR) {
        lua_pushnil(L);
        lua_pushliteral(L, "nginx output filter error");
        return 2;
    }
    lua_pushinteger(L, 1);
    return 1;
}

static int lua_say(lua_State *L)
{
    return output(L, 1, "say");
}

static int lua_print(lua_State *L)
{
    return output(L, 0, "print");
}

/* ---- ngx.flush / ngx.eof ---- */

static void flush_resume(mg_request_t *r)
{
    mg_lua_ctx_t *ctx = mg_lua_get_ctx(r);
    if (mg_http_output_busy(r)) {
        return;
    }
    r->write_event_handler = NULL;
    ctx->flush_wait = 0;
    mg_lua_co_t *co = ctx->flush_co;
    lua_pushinteger(co->L, 1);
    mg_lua_resume_co(co, 1);
}

/* ngx.thread.kill of the coroutine in ngx.flush(true): the output goes on, unwaited for */
static void flush_cancel(mg_lua_co_t *co, void *data)
{
    (void)co;
    mg_request_t *r = data;
    r->write_event_handler = NULL;
    mg_lua_ctx_t *ctx = mg_lua_get_ctx(r);
    ctx->flush_wait = 0;
    ctx->flush_co = NULL;
}

static int lua_flush(lua_State *L)
{
    mg_lua_check_phase(L, OUTPUT_PHASES);
    mg_request_t *r = mg_lua_request(L);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    int n = lua_gettop(L);
    if (n > 1) {
        return luaL_error(L, "attempt to pass %d arguments, but accepted 0 or 1", n);
    }
    if (n == 1) {
        luaL_checktype(L, 1, LUA_TBOOLEAN);
    }
    int wait = n == 1 && lua_toboolean(L, 1);
    if (ctx->eof) {
        lua_pushnil(L);
        lua_pushliteral(L, "seen eof");
        return 2;
    }
    if (ctx->held) {
        lua_pushnil(L);
        lua_pushliteral(L, "buffering");
        return 2;
    }
    /* as OpenResty: without body bytes only ngx.flush(true) pushes the head out; a plain
     * ngx.flush() leaves it to postpone_output */
    if (!r->header_sent || (!ctx->seen_body && !wait)) {
        lua_pushnil(L);
        lua_pushliteral(L, "nothing to flush");
        return 2;
    }
    mg_buf_t *b = mg_buf_mem(r->pool, NULL, 0);
    b->flush = 1;
    if (send_pending(r, ctx, b) == MG_ERROR) {
        lua_pushnil(L);
        lua_pushliteral(L, "nginx output filter error");
        return 2;
    }
    if (wait && mg_http_output_busy(r)) {
        ctx->flush_wait = 1;
        ctx->flush_co = mg_lua_cur.co;
        r->write_event_handler = flush_resume;
        return mg_lua_wait_with(L, ctx, flush_cancel, r);
    }
    lua_pushinteger(L, 1);
    return 1;
}

/* ngx.send_headers(): the head now (1), or nil and the error; 1 when it went out before */
static int lua_send_headers(lua_State *L)
{
    mg_lua_check_phase(L, OUTPUT_PHASES);
    mg_request_t *r = mg_lua_request(L);
    if (mg_lua_cur.ctx->held) {
        lua_pushinteger(L, 1); /* the head goes with the held output */
        return 1;
    }
    mg_int_t rc = send_header(r);
    if (rc > MG_OK) {
        return output_replaced(L, rc);
    }
    if (rc == MG_ERROR) {
        lua_pushnil(L);
        lua_pushliteral(L, "nginx output filter error");
        return 2;
    }
    lua_pushinteger(L, 1);
    return 1;
}

static int lua_eof(lua_State *L)
{
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    int request = ctx != NULL && ctx->r != NULL;
    if (request && lua_gettop(L) != 0) {
        return luaL_error(L, "no argument is expected");
    }
    if (request && ctx->eof) {
        /* before the context check, as lua-nginx-module: a body filter or log code after
         * the Lua output ended is told so, not refused */
        lua_pushnil(L);
        lua_pushliteral(L, "seen eof");
        return 2;
    }
    mg_lua_check_phase_words(L, OUTPUT_PHASES, MG_LUA_NO_REQ_OBJECT);
    mg_request_t *r = mg_lua_request(L);
    if (lua_gettop(L) != 0) {
        return luaL_error(L, "no argument is expected");
    }
    mg_int_t rc = mg_lua_send_eof(r, ctx);
    if (rc > MG_OK) {
        return output_replaced(L, rc);
    }
    if (rc == MG_ERROR) {
        lua_pushnil(L);
        lua_pushliteral(L, "nginx output filter error");
        return 2;
    }
    lua_pushinteger(L, 1);
    return 1;
}

/* ---- ngx.exit / ngx.redirect / ngx.exec ---- */

static int do_exit(lua_State *L, mg_int_t code)
{
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    if (mg_lua_cur.phase & (MG_LUA_HEADER_FILTER | MG_LUA_BALANCER)) {
        /* as lua-nginx-module: the code goes on, the filter (the balancer) acts on the exit
         * once it ends */
        if (ctx) {
            ctx->exited = 1;
            ctx->exit_code = code;
        }
        return 0;
    }
    if (ctx->captures) {
        return luaL_error(L, "attempt to abort with pending subrequests");
    }
    mg_request_t *r = ctx->r;
    if (r && r->header_sent && code >= MG_HTTP_SPECIAL_RESPONSE &&
        code != MG_HTTP_REQUEST_TIME_OUT && code != MG_HTTP_CLIENT_CLOSED_REQUEST &&
        code != MG_HTTP_CLOSE) {
        /* too late for that status: the request just ends, as lua-nginx-module says */
        if ((mg_uint_t)code != r->headers_out.status) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                         "attempt to set status %ld via ngx.exit after sending out the "
                         "response status %lu",
                         (long)code, (unsigned long)r->headers_out.status);
        }
        code = MG_HTTP_OK;
    }
    ctx->exited = 1;
    ctx->exit_code = code;
    return lua_yield(L, 0);
}

static int lua_exit(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.exit", 49);
    mg_lua_check_phase(L, MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT | MG_LUA_HEADER_FILTER |
                              MG_LUA_TIMER | MG_LUA_SSL_YIELDABLE | MG_LUA_BALANCER);
    mg_int_t code = (mg_int_t)luaL_checkinteger(L, 1);
    if (code == MG_AGAIN || code == MG_DONE) {
        /* no phase could finish with them: the request would wait for nothing */
        return luaL_error(L, "bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE");
    }
    return do_exit(L, code);
}

static int lua_redirect(lua_State *L)
{
    mg_lua_check_phase_words(L, MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT,
                             MG_LUA_NO_REQ_OBJECT);
    mg_request_t *r = mg_lua_request(L);
    int n = lua_gettop(L);
    if (n != 1 && n != 2) {
        return luaL_error(L, "expecting one or two arguments");
    }
    size_t len;
    const char *uri = luaL_checklstring(L, 1, &len);
    mg_int_t status = n == 2 ? (mg_int_t)luaL_checkinteger(L, 2) : MG_HTTP_MOVED_TEMPORARILY;
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
        return luaL_error(L, "only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, "
                             "ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and "
                             "ngx.HTTP_TEMPORARY_REDIRECT are allowed");
    }
    if (r->header_sent) {
        return luaL_error(L, "attempt to call ngx.redirect after sending out the headers");
    }
    /* a control byte (tab aside) would split the header or the log line: refused, as
     * OpenResty does, with the URI shown escaped */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)uri[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            mg_str_t u = {len, (char *)uri}; /* quoted as the access log quotes a value */
            char *quoted = lua_newuserdata(L, mg_log_escape_len(MG_LOG_ESCAPE_DEFAULT, u) + 1);
            *mg_log_escape_copy(quoted, MG_LOG_ESCAPE_DEFAULT, u) = '\0';
            return luaL_error(L, "unsafe byte \"0x%02x\" in redirect uri \"%s\"", ch, quoted);
        }
    }
    char *v = mg_pnalloc(r->pool, len + 1);
    memcpy(v, uri, len);
    v[len] = '\0';
    /* a plain header, not headers_out.location: OpenResty leaves "/path" relative */
    mg_http_add_header_out(r, "Location", 8, v, len);
    if (mg_lua_cur.ctx->held) {
        /* as OpenResty: held HTTP/1.0 output goes out with the redirect's status */
        r->headers_out.status = (mg_uint_t)status;
    }
    return do_exit(L, status);
}

static int lua_exec(lua_State *L)
{
    mg_lua_check_phase_words(L, MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT,
                             MG_LUA_NO_REQ_OBJECT);
    mg_request_t *r = mg_lua_request(L);
    int n = lua_gettop(L);
    if (n != 1 && n != 2) {
        return luaL_error(L, "expecting one or two arguments, but got %d", n);
    }
    size_t len, alen = 0;
    const char *uri = luaL_checklstring(L, 1, &len);
    const char *args = NULL;
    if (len == 0) {
        return luaL_error(L, "The uri argument is empty");
    }
    if (n == 2 && !lua_isnil(L, 2)) {
        if (lua_type(L, 2) == LUA_TTABLE) {
            lua_getglobal(L, "ngx");
            lua_getfield(L, -1, "encode_args");
            lua_pushvalue(L, 2);
            lua_call(L, 1, 1);
            lua_replace(L, 2);
            lua_pop(L, 1);
        }
        args = luaL_checklstring(L, 2, &alen);
    }
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    mg_str_t u = mg_pstr(r->pool, uri, len);
    const char *q = NULL;
    if (uri[0] != '@') {
        /* as nginx, the path is %-decoded once and refused with a ".." segment or a NUL */
        size_t args_at;
        ssize_t plen = mg_http_parse_unsafe_uri(uri, len, u.data, &args_at);
        if (plen < 0) {
            return luaL_error(L, "unsafe uri");
        }
        u.len = (size_t)plen;
        q = memchr(uri, '?', len);
    }
    if (r->header_sent) {
        return luaL_error(L, "attempt to call ngx.exec after sending out response headers");
    }
    mg_str_t a = {0, NULL};
    if (q && alen) {
        a.data = mg_psprintf(r->pool, "%.*s&%.*s", (int)(len - (size_t)(q - uri) - 1), q + 1,
                             (int)alen, args);
        a.len = strlen(a.data);
    } else if (q) {
        a = mg_pstr(r->pool, q + 1, len - (size_t)(q - uri) - 1);
    } else if (alen) {
        a = mg_pstr(r->pool, args, alen);
    }
    ctx->exec_uri = u;
    ctx->exec_args = a;
    ctx->exec = 1;
    return lua_yield(L, 0);
}

/* ---- ngx.status, ngx.headers_sent (through the ngx table's metatable) ---- */

int mg_lua_status_get(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.misc", 207);
    mg_request_t *r = mg_lua_request_data(L);
    /* an error page's code is the status while its location runs */
    lua_pushinteger(L, (int)(r->err_status ? r->err_status : r->headers_out.status));
    return 1;
}

int mg_lua_status_set(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.misc", 107);
    mg_lua_check_phase(L, MG_LUA_REQUEST_PHASES);
    mg_request_t *r = mg_lua_request(L);
    if (r->header_sent) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "attempt to set ngx.status after sending out response headers");
        return 0;
    }
    /* as OpenResty 0.10.23, any number is taken, as the C int its FFI makes of it (out of
     * range: INT_MIN); the status line and $status then carry it as it is ("099", "1000") */
    lua_Number n = luaL_checknumber(L, -1);
    int status = n >= INT_MIN && n <= INT_MAX ? (int)n : INT_MIN;
    r->headers_out.status = (mg_uint_t)(mg_int_t)status;
    r->headers_out.status_line.len = 0;
    r->err_status = 0; /* as OpenResty: in an error_page location, the status set is sent */
    return 0;
}

int mg_lua_headers_sent(lua_State *L)
{
    mg_lua_no_request_from(L, "resty.core.misc", 151);
    mg_request_t *r = mg_lua_request_data(L);
    lua_pushboolean(L, r->header_sent);
    return 1;
}

void mg_lua_inject_output_api(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"say", lua_say},     {"print", lua_print},
        {"flush", lua_flush}, {"eof", lua_eof},
        {"exit", lua_exit},   {"redirect", lua_redirect},
        {"exec", lua_exec},   {"send_headers", lua_send_headers},
        {NULL, NULL},
    };
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
}
