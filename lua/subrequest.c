/*
 * ngx.location.capture / capture_multi: subrequests (core/http/subrequest.c) issued from a
 * rewrite, access or content coroutine, which waits until all of them finished; they run in
 * parallel. Each result ({status, header, body, truncated}) is built in the VM as its child
 * ends, and the coroutine is resumed with all of them once the last one did.
 */
#include "api.h"
#include "variables.h"

#define CAPTURE_PHASES (MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT)

/* One capture call: the waiting coroutine and the results gathered so far. */
typedef struct {
    mg_lua_co_t *co;
    mg_lua_ctx_t *ctx;
    mg_lua_main_conf_t *lmcf;
    int results_ref;          /* registry: an array of result tables */
    int n, pending;
    unsigned settled : 1;     /* resumed, or never started: late ends are ignored */
} capture_t;

/* One child of a capture call. */
typedef struct {
    capture_t *cap;
    mg_request_t *parent;
    int index;                /* 1-based place in the results */
    unsigned share_vars : 1;
} capture_item_t;

/* A child's options, read and checked before any child is made. */
typedef struct {
    mg_str_t uri, args;
    int method;               /* ngx.HTTP_* bit */
    int has_body;
    mg_str_t body;
    int vars_idx;             /* stack index of the vars table, or 0 */
    int ctx_idx;              /* stack index of the ctx table, or 0 */
    unsigned copy_all_vars : 1;
    unsigned share_all_vars : 1;
    unsigned always_forward_body : 1;
} capture_opts_t;

/* ngx.HTTP_GET (0x2) ... ngx.HTTP_TRACE (0x8000): one bit each, in the parser's id order */
static const char *const method_names[] = {
    "GET",      "HEAD",      "POST", "PUT",    "DELETE", "MKCOL", "COPY",  "MOVE",
    "OPTIONS",  "PROPFIND",  "PROPPATCH", "LOCK", "UNLOCK", "PATCH", "TRACE",
};

static int method_index(lua_Integer bit)
{
    for (int i = 0; i < (int)mg_nelems(method_names); i++) {
        if (bit == (lua_Integer)2 << i) {
            return i;
        }
    }
    return -1;
}

static void capture_cleanup(void *data)
{
    capture_t *cap = data;
    if (!cap->settled) {
        cap->settled = 1;
        luaL_unref(cap->lmcf->L, LUA_REGISTRYINDEX, cap->results_ref);
    }
}

/* ---- results ---- */

static void push_header(lua_State *L, int t, const char *key, size_t klen, const char *val,
                        size_t vlen)
{
    lua_pushlstring(L, key, klen);
    lua_rawget(L, t);
    switch (lua_type(L, -1)) {
    case LUA_TNIL:
        lua_pop(L, 1);
        lua_pushlstring(L, key, klen);
        lua_pushlstring(L, val, vlen);
        lua_rawset(L, t);
        return;
    case LUA_TSTRING:
        /* a second value: the values become an array */
        lua_createtable(L, 2, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
        lua_pushlstring(L, val, vlen);
        lua_rawseti(L, -2, 2);
        lua_pushlstring(L, key, klen);
        lua_insert(L, -2);
        lua_rawset(L, t);
        return;
    default:
        lua_pushlstring(L, val, vlen);
        lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
        lua_pop(L, 1);
    }
}

static void push_headers(lua_State *L, mg_request_t *sr)
{
    mg_http_headers_out_t *ho = &sr->headers_out;
    lua_createtable(L, 0, (int)ho->headers.nelts + 2);
    int t = lua_gettop(L);
    if (ho->content_type.len) {
        if (ho->charset.len) {
            lua_pushfstring(L, "%s; charset=%s",
                            mg_pstr(sr->pool, ho->content_type.data, ho->content_type.len).data,
                            mg_pstr(sr->pool, ho->charset.data, ho->charset.len).data);
        } else {
            lua_pushlstring(L, ho->content_type.data, ho->content_type.len);
        }
        lua_setfield(L, t, "Content-Type");
    }
    if (ho->content_length_n >= 0 && mg_http_content_length_line(sr) == NULL) {
        /* a number, as lua-nginx-module gives the length it knows without a header */
        lua_pushnumber(L, (lua_Number)ho->content_length_n);
        lua_setfield(L, t, "Content-Length");
    }
    if (ho->last_modified_time >= 0 && ho->last_modified == NULL) {
        char d[64];
        mg_time_http(d, ho->last_modified_time);
        lua_pushstring(L, d);
        lua_setfield(L, t, "Last-Modified");
    }
    mg_table_elt_t *h = ho->headers.elts;
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        if (h[i].hash) {
            push_header(L, t, h[i].key.data, h[i].key.len, h[i].value.data, h[i].value.len);
        }
    }
}

/* A shared variable array outlives the child: its values move to the creator's pool. */
static void keep_shared_vars(mg_request_t *parent)
{
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(parent, mg_http_core_module);
    for (size_t i = 0; i < cmcf->variables.nelts; i++) {
        mg_http_var_value_t *v = &parent->variables[i];
        if (v->valid && v->value.len) {
            v->value = mg_pstr(parent->pool, v->value.data, v->value.len);
        }
    }
}

static void capture_done(mg_request_t *sr, void *data)
{
    capture_item_t *item = data;
    capture_t *cap = item->cap;
    if (item->share_vars) {
        keep_shared_vars(item->parent);
    }
    if (cap->settled) {
        return;
    }
    lua_State *L = cap->lmcf->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, cap->results_ref);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)sr->headers_out.status);
    lua_setfield(L, -2, "status");
    push_headers(L, sr);
    lua_setfield(L, -2, "header");
    mg_str_t body = mg_http_subrequest_body(sr);
    lua_pushlstring(L, body.data ? body.data : "", body.len);
    lua_setfield(L, -2, "body");
    lua_pushboolean(L, mg_http_subrequest_truncated(sr));
    lua_setfield(L, -2, "truncated");
    lua_rawseti(L, -2, item->index);
    if (--cap->pending > 0) {
        lua_settop(L, top);
        return;
    }
    /* the last one: the coroutine goes on with every result */
    cap->settled = 1;
    cap->ctx->captures--;
    mg_lua_co_t *co = cap->co;
    co->capturing = 0;
    int results = lua_gettop(L);
    luaL_checkstack(L, cap->n, "too many results");
    for (int i = 1; i <= cap->n; i++) {
        lua_rawgeti(L, results, i);
    }
    lua_xmove(L, co->L, cap->n);
    lua_settop(L, top);
    luaL_unref(L, LUA_REGISTRYINDEX, cap->results_ref);
    mg_lua_resume_co(co, cap->n);
}

/* ---- options ---- */

static int opt_bool(lua_State *L, int t, const char *name)
{
    lua_getfield(L, t, name);
    int type = lua_type(L, -1);
    if (type != LUA_TNIL && type != LUA_TBOOLEAN) {
        return luaL_error(L, "Bad %s option value", name);
    }
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* The query {uri, options?} at stack index q (i: its 0-based number, as OpenResty's messages
 * count): its options checked; what the child needs later stays on the stack. */
static void read_query(lua_State *L, int q, int i, capture_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->method = 0x0002;
    int nelts = (int)lua_objlen(L, q);
    if (nelts != 1 && nelts != 2) {
        luaL_error(L, "query argument %d expecting one or two arguments", i);
    }
    lua_rawgeti(L, q, 1);
    size_t len;
    const char *uri = luaL_checklstring(L, -1, &len);
    /* as nginx, the path is %-decoded once and refused empty, with a NUL or a ".." segment */
    size_t args_at;
    o->uri.data = mg_pnalloc(mg_lua_request(L)->pool, len ? len : 1);
    ssize_t plen = mg_http_parse_unsafe_uri(uri, len, o->uri.data, &args_at);
    if (plen < 0) {
        luaL_error(L, "unsafe uri in argument #1: %s", uri);
    }
    o->uri.len = (size_t)plen;
    if (args_at <= len) {
        o->args.data = (char *)uri + args_at;
        o->args.len = len - args_at;
    }
    lua_rawgeti(L, q, 2);
    if (lua_isnil(L, -1)) {
        return;
    }
    if (!lua_istable(L, -1)) {
        luaL_error(L, "expecting table as the 2nd argument for subrequest %d, but got %s", i,
                   luaL_typename(L, -1));
    }
    int t = lua_gettop(L);

    lua_getfield(L, t, "args");
    switch (lua_type(L, -1)) {
    case LUA_TNIL:
        break;
    case LUA_TTABLE:
        lua_getglobal(L, "ngx");
        lua_getfield(L, -1, "encode_args");
        lua_pushvalue(L, -3);
        lua_call(L, 1, 1);
        lua_replace(L, -3);
        lua_pop(L, 1);
        /* fall through */
    case LUA_TNUMBER:
    case LUA_TSTRING: {
        size_t alen;
        const char *a = lua_tolstring(L, -1, &alen);
        if (alen && o->args.len) {
            /* "/uri?a=1" with args: both, joined by '&' */
            lua_pushlstring(L, o->args.data, o->args.len);
            lua_pushliteral(L, "&");
            lua_pushvalue(L, -3);
            lua_concat(L, 3);
            a = lua_tolstring(L, -1, &alen);
        }
        if (alen) {
            o->args.data = (char *)a;
            o->args.len = alen;
        }
        break; /* the string stays on the stack while the child is made */
    }
    default:
        luaL_error(L, "Bad args option value");
    }

    lua_getfield(L, t, "method");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER) {
            luaL_error(L, "Bad http request method");
        }
        o->method = (int)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);

    lua_getfield(L, t, "body");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
            luaL_error(L, "Bad http request body");
        }
        size_t blen;
        o->body.data = (char *)lua_tolstring(L, -1, &blen);
        o->body.len = blen;
        o->has_body = 1;
    }

    lua_getfield(L, t, "vars");
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1)) {
            luaL_error(L, "Bad vars option value");
        }
        o->vars_idx = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, o->vars_idx)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                luaL_error(L, "attempt to use a non-string key in the \"vars\" option table");
            }
            if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
                luaL_error(L, "attempt to use bad variable value type %s", luaL_typename(L, -1));
            }
            lua_pop(L, 1);
        }
    }

    lua_getfield(L, t, "ctx");
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1)) {
            luaL_error(L, "Bad ctx option value type %s, expected a Lua table",
                       luaL_typename(L, -1));
        }
        o->ctx_idx = lua_gettop(L);
    }

    o->copy_all_vars = (unsigned)opt_bool(L, t, "copy_all_vars");
    o->share_all_vars = (unsigned)opt_bool(L, t, "share_all_vars");
    lua_getfield(L, t, "always_forward_body");
    o->always_forward_body = (unsigned)lua_toboolean(L, -1); /* any true value, as OpenResty */
    lua_pop(L, 1);
}

/* ---- the child's request ---- */

/* Drop the header lines named `name` from the child's own copy. */
static void remove_input_header(mg_request_t *sr, const char *name)
{
    mg_table_elt_t *h = sr->headers_in.headers.elts;
    size_t k = 0;
    for (size_t i = 0; i < sr->headers_in.headers.nelts; i++) {
        if (!mg_str_caseeq(h[i].key, name)) {
            h[k++] = h[i];
        }
    }
    sr->headers_in.headers.nelts = k;
}

/* The child's body and its length header, as lua-nginx-module decides: the body option, else
 * no body for a method other than POST and PUT (unless always_forward_body), else the
 * creator's body as read. */
static void set_body(mg_request_t *r, mg_request_t *sr, capture_opts_t *o)
{
    int64_t len = -1;
    if (o->has_body) {
        mg_http_request_body_t *rb = mg_pcalloc(sr->pool, sizeof(*rb));
        if (o->body.len) {
            mg_str_t copy = mg_pstr(sr->pool, o->body.data, o->body.len);
            rb->bufs = mg_buf_mem(sr->pool, copy.data, copy.len);
        }
        rb->received = o->body.len;
        rb->done = 1;
        sr->request_body = rb;
        len = (int64_t)o->body.len;
    } else if (!o->always_forward_body && o->method != 0x0008 && o->method != 0x0010 &&
               r->headers_in.content_length_n > 0) {
        sr->request_body = NULL; /* and no length header at all, as OpenResty */
    } else {
        return;
    }
    remove_input_header(sr, "content-length");
    remove_input_header(sr, "transfer-encoding");
    if (len >= 0) {
        char *v = mg_psprintf(sr->pool, "%lld", (long long)len);
        mg_table_elt_t *h = mg_array_push(&sr->headers_in.headers);
        mg_str_set(&h->key, "Content-Length");
        h->value.data = v;
        h->value.len = strlen(v);
        h->hash = 1;
    }
    mg_http_headers_in_refresh(sr);
    sr->headers_in.content_length_n = len < 0 ? 0 : len;
    sr->headers_in.chunked = 0;
}

/* The child's variables (copied, shared or its own) and the vars option's values: MG_OK, or
 * what OpenResty reports as the failure to adjust the subrequest (logged). */
static mg_int_t set_vars(lua_State *L, mg_request_t *r, mg_request_t *sr, capture_opts_t *o)
{
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    if (o->share_all_vars) {
        sr->variables = r->variables;
    } else if (o->copy_all_vars) {
        memcpy(sr->variables, r->variables, cmcf->variables.nelts * sizeof(mg_http_var_value_t));
    }
    if (o->vars_idx == 0) {
        return MG_OK;
    }
    lua_pushnil(L);
    while (lua_next(L, o->vars_idx)) {
        size_t klen, vlen;
        const char *k = lua_tolstring(L, -2, &klen);
        const char *v = lua_tolstring(L, -1, &vlen);
        mg_str_t name = mg_pstr(sr->pool, k, klen);
        for (size_t i = 0; i < klen; i++) {
            name.data[i] = (char)(name.data[i] >= 'A' && name.data[i] <= 'Z' ? name.data[i] + 32
                                                                            : name.data[i]);
        }
        mg_str_t value = mg_pstr(o->share_all_vars ? r->pool : sr->pool, v, vlen);
        if (mg_http_set_variable(sr, name, &value) != MG_OK) {
            lua_pop(L, 2);
            if (mg_http_get_variable(sr, name) != NULL) {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                             "variable \"%s\" not changeable", k);
                return MG_HTTP_INTERNAL_SERVER_ERROR;
            }
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                         "variable \"%s\" cannot be assigned a value (maybe you forgot to "
                         "define it first?) ", k);
            return MG_ERROR;
        }
        lua_pop(L, 1);
    }
    return MG_OK;
}

/* ---- ngx.location.capture_multi / capture ---- */

static int capture(lua_State *L, int nq)
{
    /* the one rewrite-phase API lua-nginx-module leaves out of server_rewrite_by_lua */
    mg_lua_check_phase_words(L, mg_lua_cur.phase == MG_LUA_SERVER_REWRITE ? 0 : CAPTURE_PHASES,
                             MG_LUA_NO_REQ_OBJECT);
    mg_request_t *r = mg_lua_request(L);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    mg_lua_co_t *co = mg_lua_cur.co;
    if (ctx == NULL || co == NULL) {
        return luaL_error(L, "no request ctx found");
    }
    /* every query read and checked before a child exists: an error leaves none behind */
    capture_opts_t *opts = mg_palloc(r->pool, (size_t)nq * sizeof(capture_opts_t));
    for (int i = 1; i <= nq; i++) {
        luaL_checkstack(L, 16, "too many subrequests");
        lua_rawgeti(L, 1, i);
        if (!lua_istable(L, -1)) {
            return luaL_error(L, "the query argument %d is not a table, but a %s", i - 1,
                              luaL_typename(L, -1));
        }
        read_query(L, lua_gettop(L), i - 1, &opts[i - 1]);
    }
    capture_t *cap = mg_pcalloc(r->pool, sizeof(*cap));
    cap->co = co;
    cap->ctx = ctx;
    cap->lmcf = ctx->lmcf;
    cap->n = cap->pending = nq;
    lua_createtable(L, nq, 0);
    cap->results_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    mg_pool_cleanup_add(r->pool, capture_cleanup, cap);
    for (int i = 0; i < nq; i++) {
        capture_opts_t *o = &opts[i];
        capture_item_t *item = mg_pcalloc(r->pool, sizeof(*item));
        item->cap = cap;
        item->parent = r;
        item->index = i + 1;
        item->share_vars = o->share_all_vars;
        mg_request_t *sr;
        if (mg_http_subrequest(r, o->uri, o->args.data ? &o->args : NULL, capture_done, item,
                               &sr) != MG_OK) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                         "lua subrequests cycle while processing \"%.*s\"", (int)o->uri.len,
                         o->uri.data);
            /* the children made so far run on, unheard */
            capture_cleanup(cap);
            return luaL_error(L, "failed to issue subrequest: %d", (int)MG_ERROR);
        }
        sr->hold_body = 1; /* nginx's event pipe passes a capture's proxied body at its end */
        int m = method_index(o->method);
        mg_int_t rc = MG_OK;
        if (m < 0) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "unsupported HTTP method: %d",
                         o->method);
            rc = MG_ERROR;
        } else {
            sr->method = m + 1; /* MG_HTTP_GET is 1, in ngx.HTTP_*'s bit order */
            sr->method_name.data = (char *)method_names[m];
            sr->method_name.len = strlen(method_names[m]);
            set_body(r, sr, o);
            rc = set_vars(L, r, sr, o);
        }
        if (rc != MG_OK) {
            /* this one never runs, as lua-nginx-module cancels it; the children made so
             * far run on, unheard */
            mg_http_subrequest_cancel(sr);
            capture_cleanup(cap);
            return luaL_error(L, "failed to adjust the subrequest: %d", (int)rc);
        }
        if (o->ctx_idx) {
            mg_lua_ctx_t *sctx = mg_lua_get_ctx(sr);
            lua_pushvalue(L, o->ctx_idx);
            sctx->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        }
    }
    lua_settop(L, 0);
    ctx->captures++; /* ngx.exit is refused meanwhile, as OpenResty does */
    co->capturing = 1; /* and ngx.thread.kill of co */
    return mg_lua_wait(L, ctx);
}

static int capture_multi(lua_State *L)
{
    if (lua_gettop(L) != 1) {
        return luaL_error(L, "only one argument is expected, but got %d", lua_gettop(L));
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    int nq = (int)lua_objlen(L, 1);
    if (nq == 0) {
        return luaL_error(L, "at least one subrequest should be specified");
    }
    return capture(L, nq);
}

static int capture_one(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 1 && n != 2) {
        return luaL_error(L, "expecting one or two arguments");
    }
    /* the same as capture_multi({{uri, options}}) */
    lua_createtable(L, 1, 0);
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    if (n == 2) {
        lua_pushvalue(L, 2);
        lua_rawseti(L, -2, 2);
    }
    lua_rawseti(L, -2, 1);
    lua_replace(L, 1);
    lua_settop(L, 1);
    return capture(L, 1);
}

void mg_lua_inject_subrequest_api(lua_State *L)
{
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, capture_one);
    lua_setfield(L, -2, "capture");
    lua_pushcfunction(L, capture_multi);
    lua_setfield(L, -2, "capture_multi");
    lua_setfield(L, -2, "location");
}
