/*
 * header_filter_by_lua and body_filter_by_lua: the lua module's places in the filter chains
 * (after not_modified, before add_header: nginx's order for an addon filter module), and
 * ngx.arg, which is set_by_lua's arguments or the body filter's chunk and eof flag.
 *
 * The body filter gives the code each run of memory buffers as one chunk and a file buffer in
 * pieces of output_buffers' size (piece_size), its last piece with the memory buffers after
 * it, read only when the code reads ngx.arg[1], one
 * piece at a time: a piece is passed on before the next is taken, and when the socket is full
 * the rest waits (r->buffered) until the writer drains, so a large static file never sits in
 * memory.
 * As in OpenResty, Content-Length stays unless the header filter clears it; a filter that
 * then changes the length gets its connection closed after the response, so that the extra
 * or missing bytes cannot be taken for the start of the next response.
 */
#include <unistd.h>

#include "api.h"

static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_lua_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_lua_module, in);
}

/* A request's body filter state. */
struct mg_lua_body_s {
    mg_buf_t *in; /* input the code has not seen yet */
    mg_buf_t **in_tail;
    int64_t length;    /* the Content-Length the filter's input has, -1 none, -2 not yet taken */
    int64_t sent;      /* bytes the filter passed on */
    unsigned held : 1; /* r->buffered is set for our input */
    unsigned done : 1; /* the end went out (the code may set it early): later input is dropped */
    unsigned failed : 1; /* the code failed: the response is broken off */
    unsigned pieced : 1; /* a file piece was taken */
};

/* The chunk the body filter code runs on (ngx.arg[1], ngx.arg[2]). */
static struct {
    mg_request_t *r;
    mg_buf_t *file; /* a file buffer, of which `len` bytes from file_pos, and/or */
    mg_buf_t *mem;  /* a run of memory buffers (after the file buffer's last piece) */
    size_t len;
    int data_ref;    /* the chunk as a Lua string once read or replaced, else LUA_NOREF */
    unsigned eof : 1;
    unsigned replaced : 1;
} chunk;

/* ---- header filter ---- */

static struct mg_lua_body_s *body_state(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    if (ctx->body == NULL) {
        ctx->body = mg_pcalloc(r->pool, sizeof(struct mg_lua_body_s));
        ctx->body->in_tail = &ctx->body->in;
        ctx->body->length = -2; /* taken at the first input */
    }
    return ctx->body;
}

static mg_int_t lua_header_filter(mg_request_t *r);

/* ngx.exit(status) in the header filter: the response, headers included, gives way to what
 * nginx sends for that status (its ngx_http_filter_finalize_request), and the filter runs again
 * on that one, where another ngx.exit is ignored. A 2xx goes out here without a body (the
 * producer's is dropped as a HEAD's); a status from 300 goes back to the producer, which
 * returns it for finalization to send the page (or the error_page). */
static mg_int_t replace_response(mg_request_t *r, mg_lua_ctx_t *ctx, mg_int_t status)
{
    ctx->filter_replaced = 1;
    mg_http_headers_out_t *ho = &r->headers_out;
    mg_http_headers_out_clear(r);
    ho->status_line.len = 0;
    ho->content_type.len = 0;
    ho->charset.len = 0;
    ho->content_length_n = -1;
    ho->last_modified_time = -1;
    if (status >= MG_HTTP_SPECIAL_RESPONSE) {
        return status;
    }
    ho->status = (mg_uint_t)status;
    ho->content_length_n = 0;
    r->header_only = 1;
    return lua_header_filter(r);
}

static mg_int_t lua_header_filter(mg_request_t *r)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    if (llcf->header_filter) {
        mg_lua_main_conf_t *lmcf = mg_http_get_main_conf(r, mg_lua_module);
        int top = lua_gettop(lmcf->L);
        mg_int_t rc = mg_lua_call(lmcf, r, llcf->header_filter, MG_LUA_HEADER_FILTER, 0, 0);
        lua_settop(lmcf->L, top);
        mg_lua_ctx_t *ctx = mg_lua_get_ctx(r);
        if (rc == MG_ERROR || (rc == MG_DONE && ctx->exit_code == MG_ERROR)) {
            return MG_ERROR;
        }
        if (rc == MG_DONE && ctx->exit_code >= MG_HTTP_OK && !ctx->filter_replaced) {
            return replace_response(r, ctx, ctx->exit_code);
        }
    }
    if (llcf->body_filter) {
        r->end_apart = 1; /* the code counts calls and acts on the end as in nginx */
    }
    return next_header_filter(r);
}

/* ---- ngx.arg ---- */

/* Push the chunk's bytes as a string, reading a file piece now. */
static void push_chunk(lua_State *L)
{
    if (chunk.data_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, chunk.data_ref);
        return;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (chunk.file) {
        mg_buf_t *f = chunk.file;
        size_t done = 0;
        while (done < chunk.len) {
            size_t want = chunk.len - done < LUAL_BUFFERSIZE ? chunk.len - done : LUAL_BUFFERSIZE;
            ssize_t n = pread(f->fd, luaL_prepbuffer(&b), want, f->file_pos + (off_t)done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                mg_log_error(MG_LOG_CRIT, &chunk.r->connection->log, n < 0 ? errno : 0,
                             n < 0 ? "pread() failed" : "file was truncated while filtering");
                luaL_pushresult(&b);
                luaL_error(L, "failed to read the response body");
            }
            luaL_addsize(&b, (size_t)n);
            done += (size_t)n;
        }
    }
    for (mg_buf_t *m = chunk.mem; m; m = m->next) {
        if (m->last > m->pos) {
            luaL_addlstring(&b, m->pos, (size_t)(m->last - m->pos));
        }
    }
    luaL_pushresult(&b);
    lua_pushvalue(L, -1);
    chunk.data_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

static int arg_get(lua_State *L)
{
    if (mg_lua_cur.phase == MG_LUA_SET) {
        return lua_type(L, 2) == LUA_TNUMBER ? mg_lua_set_arg(L, lua_tointeger(L, 2)) : 0;
    }
    if (mg_lua_cur.phase != MG_LUA_BODY_FILTER && !mg_lua_probe) {
        /* lua-resty-core's ngx.arg (a Lua __index) knows its two phases and words every
         * other so, from its own file */
        if (mg_lua_cur.phase == MG_LUA_INIT) {
            return mg_lua_raise_from(L, "resty.core.param", 81, "no request found");
        }
        return mg_lua_raise_from(L, "resty.core.param", 93, "API disabled in the current context");
    }
    mg_lua_check_phase(L, MG_LUA_BODY_FILTER);
    if (lua_type(L, 2) != LUA_TNUMBER) {
        return 0;
    }
    switch (lua_tointeger(L, 2)) {
    case 1:
        push_chunk(L);
        return 1;
    case 2:
        lua_pushboolean(L, chunk.eof);
        return 1;
    }
    return 0;
}

/* The array size of a table given as ngx.arg[1]: its largest key, every key a positive
 * integer (else "non-array table found"), as OpenResty counts it (a hole is a nil value). */
static int array_size(lua_State *L, int idx)
{
    lua_Number max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        lua_Number k = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
        if (k < 1 || k != (lua_Number)(lua_Integer)k) {
            luaL_argerror(L, 3, "non-array table found");
        }
        if (k > max) {
            max = k;
        }
    }
    return (int)max;
}

/* Check the values (strings, numbers, such tables) and append them in order to the array
 * at `flat`, so that luaL_Buffer later finds each on the stack top as it wants. */
static void flatten(lua_State *L, int idx, int flat, int *k, int depth)
{
    if (depth > 64) {
        luaL_argerror(L, 3, "table nested too deeply");
    }
    int n = array_size(L, idx);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        int t = lua_type(L, -1);
        if (t == LUA_TTABLE) {
            flatten(L, lua_gettop(L), flat, k, depth + 1);
            lua_pop(L, 1);
        } else if (t == LUA_TSTRING || t == LUA_TNUMBER) {
            lua_rawseti(L, flat, ++*k);
        } else {
            luaL_argerror(L, 3, lua_pushfstring(L, "bad data type %s found", luaL_typename(L, -1)));
        }
    }
}

static int arg_set(lua_State *L)
{
    if (mg_lua_cur.phase == MG_LUA_INIT && !mg_lua_probe) {
        return 0; /* lua-nginx-module's setter does nothing without a request */
    }
    mg_lua_check_phase(L, MG_LUA_BODY_FILTER);
    lua_Integer i = lua_type(L, 2) == LUA_TNUMBER ? lua_tointeger(L, 2) : 0;
    if (i == 2) {
        chunk.eof = lua_toboolean(L, 3);
        return 0;
    }
    if (i != 1) {
        return luaL_error(L, "bad index: %d", (int)i);
    }
    switch (lua_type(L, 3)) {
    case LUA_TNIL:
        lua_pushliteral(L, "");
        break;
    case LUA_TSTRING:
    case LUA_TNUMBER:
        lua_tostring(L, 3);
        lua_pushvalue(L, 3);
        break;
    case LUA_TTABLE: {
        lua_newtable(L);
        int flat = lua_gettop(L), n = 0;
        flatten(L, 3, flat, &n, 0);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int k = 1; k <= n; k++) {
            lua_rawgeti(L, flat, k);
            luaL_addvalue(&b);
        }
        luaL_pushresult(&b);
        break;
    }
    default:
        return luaL_error(L, "bad chunk data type: %s", luaL_typename(L, 3));
    }
    luaL_unref(L, LUA_REGISTRYINDEX, chunk.data_ref);
    chunk.data_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    chunk.replaced = 1;
    return 0;
}

void mg_lua_inject_arg_api(lua_State *L)
{
    lua_newtable(L);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, arg_get);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, arg_set);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "arg");
}

/* ---- body filter ---- */

static void consume(mg_buf_t *in)
{
    for (; in; in = in->next) {
        in->pos = in->last;
        in->file_pos = in->file_last;
    }
}

/* The size of the next piece of file buffer f, `left` bytes: nginx's copy filter reads a
 * file into output_buffers, so the code sees pieces of their size; a single buffer, the
 * first one made, takes a whole file under 1.25 times its size; a directio file's rest
 * under twice the size is one piece. */
static size_t piece_size(mg_request_t *r, struct mg_lua_body_s *bf, mg_buf_t *f, size_t left)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    size_t size = clcf->output_buffers_size;
    if (f->directio ? left < 2 * size
                    : !bf->pieced && clcf->output_buffers_num == 1 && left < size + size / 4) {
        size = left;
    }
    bf->pieced = 1;
    return left < size ? left : size;
}

/* Take the run of memory buffers at the head of bf->in as the chunk's memory part (none when
 * a file buffer is next); its flags go to the chunk. */
static void take_mem_run(struct mg_lua_body_s *bf, int *flush)
{
    mg_buf_t *first = bf->in, *m = first, *prev = NULL;
    for (; m && !m->in_file; prev = m, m = m->next) {
        chunk.eof |= m->last_buf;
        *flush |= m->flush;
    }
    if (prev == NULL) {
        return;
    }
    prev->next = NULL;
    bf->in = m;
    if (m == NULL) {
        bf->in_tail = &bf->in;
    }
    chunk.mem = first;
}

/* Run the code on the next chunk of bf->in and build what goes on (*out, may be NULL).
 * MG_OK or MG_ERROR. A chunk is a run of memory buffers, a file buffer's piece, or its last
 * piece with the memory buffers after it: nginx's copy filter reads that piece into a buffer
 * of its own and passes the buffers in memory after it along in the same call (multipart
 * ranges: a part's bytes, then the next part's head). */
static mg_int_t filter_chunk(mg_request_t *r, mg_lua_ctx_t *ctx, struct mg_lua_body_s *bf,
                             mg_buf_t **out)
{
    mg_buf_t *first = bf->in;
    int flush = 0;
    chunk.r = r;
    chunk.mem = chunk.file = NULL;
    chunk.len = 0;
    chunk.data_ref = LUA_NOREF;
    chunk.replaced = 0;
    chunk.eof = 0;
    if (first->in_file) {
        size_t left = (size_t)(first->file_last - first->file_pos);
        chunk.file = first;
        chunk.len = piece_size(r, bf, first, left);
        if (chunk.len == left) {
            chunk.eof = first->last_buf;
            flush = first->flush;
            bf->in = first->next;
            first->next = NULL;
            if (bf->in == NULL) {
                bf->in_tail = &bf->in;
            } else {
                take_mem_run(bf, &flush);
            }
        }
    } else {
        take_mem_run(bf, &flush);
    }

    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    lua_State *L = ctx->lmcf->L;
    int top = lua_gettop(L);
    mg_int_t rc = mg_lua_call(ctx->lmcf, r, llcf->body_filter, MG_LUA_BODY_FILTER, 0, 0);
    lua_settop(L, top);

    mg_buf_t *o = NULL;
    if (chunk.replaced) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, chunk.data_ref);
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (len) {
            char *p = mg_lua_output_alloc(ctx, len);
            memcpy(p, s, len);
            o = mg_buf_mem(r->pool, p, len);
        }
        lua_pop(L, 1);
    }
    luaL_unref(L, LUA_REGISTRYINDEX, chunk.data_ref);
    chunk.data_ref = LUA_NOREF;
    /* a file buffer's last piece was taken off bf->in with the memory run after it */
    mg_buf_t *f = chunk.file;
    int whole = f && chunk.len == (size_t)(f->file_last - f->file_pos);
    if (rc == MG_ERROR) {
        if (whole) {
            f->next = chunk.mem;
            *out = f;
        } else {
            *out = chunk.mem; /* a file piece is still on bf->in */
        }
        /* as nginx: code that failed on the end is not run again (the flush before the close,
         * ngx.eof's end sent again by the request's) */
        bf->done = chunk.eof;
        return MG_ERROR;
    }

    if (f && !chunk.replaced) {
        if (whole) {
            f->next = chunk.mem;
            o = f;
        } else {
            o = mg_buf_mem(r->pool, NULL, 0);
            o->in_file = 1;
            o->fd = f->fd;
            o->file_pos = f->file_pos;
            o->file_last = f->file_pos + (off_t)chunk.len;
        }
    }
    if (f && o != f) {
        f->file_pos += (off_t)chunk.len;
    }
    if (chunk.replaced) {
        consume(chunk.mem);
    } else if (f == NULL) {
        o = chunk.mem;
    }

    /* the flags go on the last buffer passed on; the code may have moved the end */
    mg_buf_t *last = o;
    for (mg_buf_t *b = o; b; b = b->next) {
        b->last_buf = 0;
        last = b;
    }
    if (chunk.eof || flush) {
        if (last == NULL) {
            last = o = mg_buf_mem(r->pool, "", 0);
        }
        last->last_buf = chunk.eof;
        last->flush = flush;
    }
    /* an end the code took away comes again: finalizing the request sends a last buffer */
    bf->done = chunk.eof;
    *out = o;
    return MG_OK;
}

/* Whether the code does not see the body: a HEAD's, or a response without one. nginx's header
 * filter makes a 204 or 304 header-only only when it words the status line itself: one relayed
 * with its own (an upstream's) still passes the body filters, so the code sees its empty end
 * (what it adds is dropped here as for any such response). */
static int no_body_filter(mg_request_t *r)
{
    mg_uint_t status = r->headers_out.status;
    return r->header_only &&
           (r->parent || r->method == MG_HTTP_HEAD || r->headers_out.status_line.len == 0 ||
            (status != MG_HTTP_NO_CONTENT && status != MG_HTTP_NOT_MODIFIED));
}

static mg_int_t lua_body_filter(mg_request_t *r, mg_buf_t *in)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    if (llcf->body_filter == NULL || no_body_filter(r)) {
        return next_body_filter(r, in);
    }
    mg_lua_ctx_t *ctx = mg_lua_get_ctx(r);
    struct mg_lua_body_s *bf = body_state(r, ctx);
    if (bf->length == -2) {
        /* the header filters after this one have run: the length is the range filter's (its
         * body filter is before this one) or none where a later filter changes the body */
        bf->length = r->headers_out.content_length_n;
    }
    if (bf->done) {
        consume(in);
        /* after a failed end nothing more goes out */
        return bf->failed ? MG_ERROR : next_body_filter(r, NULL);
    }
    *bf->in_tail = in;
    for (; in; in = in->next) {
        bf->in_tail = &in->next;
    }
    mg_int_t rc = MG_OK;
    int passed = 0;
    while (bf->in && !bf->done) {
        mg_buf_t *out;
        if (filter_chunk(r, ctx, bf, &out) != MG_OK || bf->failed) {
            /* as nginx: after an error the response is broken off, without its end and with
             * the connection closed, so that no client takes it for whole; the code still
             * runs on what comes later (the end), which goes nowhere */
            bf->failed = 1;
            r->keepalive = 0;
            consume(out);
            consume(bf->in);
            bf->in = NULL;
            bf->in_tail = &bf->in;
            return MG_ERROR;
        }
        bf->sent += (int64_t)mg_chain_size(out);
        if (bf->done && bf->length >= 0 && bf->sent != bf->length && r->keepalive &&
            !r->header_only) {
            mg_log_error(MG_LOG_INFO, &r->connection->log, 0,
                         "body_filter_by_lua sent %lld bytes for a Content-Length of %lld: "
                         "closing the connection", (long long)bf->sent, (long long)bf->length);
            r->keepalive = 0;
        }
        if (bf->held) {
            /* the filters after this one say for themselves whether they hold input */
            bf->held = 0;
            r->buffered = 0;
        }
        rc = next_body_filter(r, out);
        passed = 1;
        if (rc == MG_ERROR) {
            return MG_ERROR;
        }
        if (rc == MG_AGAIN && bf->in && !bf->done) {
            /* the socket is full: the rest waits for the writer (write.c calls back) */
            bf->held = 1;
            r->buffered = 1;
            return MG_AGAIN;
        }
    }
    if (bf->done && bf->in) {
        consume(bf->in);
        bf->in = NULL;
        bf->in_tail = &bf->in;
    }
    return passed ? rc : next_body_filter(r, NULL);
}

static int filter_used(const void *loc_conf)
{
    const mg_lua_loc_conf_t *conf = loc_conf;
    return conf->header_filter || conf->body_filter;
}

void mg_lua_filters_init(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_lua_module, filter_used, lua_header_filter, lua_body_filter);
}
