/*
 * What runs now and the request's Lua state: mg_lua_cur (set by the runners around every
 * call into the VM), the phase names and the phase check every ngx.* function makes, and the
 * per-request context (created on first use, freed with the request pool).
 */
#include "api.h"
#include "stream.h"

MG_THREAD_LOCAL mg_lua_current_t mg_lua_cur;
int mg_lua_probe;

static const struct {
    unsigned phase;
    const char *name;    /* ngx.get_phase() */
    const char *context; /* "API disabled in the context of ..." */
} phases[] = {
    {MG_LUA_INIT, "init", "init_by_lua*"},
    {MG_LUA_INIT_WORKER, "init_worker", "init_worker_by_lua*"},
    {MG_LUA_SET, "set", "set_by_lua*"},
    {MG_LUA_SERVER_REWRITE, "server_rewrite", "server_rewrite_by_lua*"},
    {MG_LUA_REWRITE, "rewrite", "rewrite_by_lua*"},
    {MG_LUA_ACCESS, "access", "access_by_lua*"},
    {MG_LUA_CONTENT, "content", "content_by_lua*"},
    {MG_LUA_LOG, "log", "log_by_lua*"},
    {MG_LUA_HEADER_FILTER, "header_filter", "header_filter_by_lua*"},
    {MG_LUA_BODY_FILTER, "body_filter", "body_filter_by_lua*"},
    {MG_LUA_TIMER, "timer", "ngx.timer"},
    {MG_LUA_EXIT_WORKER, "exit_worker", "exit_worker_by_lua*"},
    {MG_LUA_SSL_CLIENT_HELLO, "ssl_client_hello", "ssl_client_hello_by_lua*"},
    {MG_LUA_SSL_CERT, "ssl_cert", "ssl_certificate_by_lua*"},
    {MG_LUA_SSL_SESS_FETCH, "ssl_session_fetch", "ssl_session_fetch_by_lua*"},
    {MG_LUA_SSL_SESS_STORE, "ssl_session_store", "ssl_session_store_by_lua*"},
    {MG_LUA_BALANCER, "balancer", "balancer_by_lua*"},
    {MG_LUA_PREREAD, "preread", "preread_by_lua*"},
};

const char *mg_lua_phase_name(unsigned phase)
{
    for (size_t i = 0; i < mg_nelems(phases); i++) {
        if (phases[i].phase == phase) {
            return phases[i].name;
        }
    }
    return "unknown";
}

const char *mg_lua_phase_context(unsigned phase)
{
    for (size_t i = 0; i < mg_nelems(phases); i++) {
        if (phases[i].phase == phase) {
            return phases[i].context;
        }
    }
    return NULL;
}

const char *mg_lua_phase_error(unsigned allowed)
{
    static MG_THREAD_LOCAL char msg[96];
    if (allowed & MG_LUA_REWRITE) {
        allowed |= MG_LUA_SERVER_REWRITE; /* as in lua-nginx-module */
    }
    if (allowed & MG_LUA_ACCESS) {
        allowed |= MG_LUA_PREREAD; /* stream-lua's access-like phase */
    }
    if (mg_lua_probe && (mg_lua_cur.phase & allowed)) {
        return "docgen: allowed";
    }
    if (mg_lua_cur.phase & allowed) {
        return NULL;
    }
    /* an API of request data (allowed in set_by_lua and log_by_lua alike, and in no phase of a
     * fake request: ngx.req.*, ngx.var, ngx.header, ngx.status) checks for the fake request,
     * not the context */
    unsigned data = MG_LUA_SET | MG_LUA_LOG;
    if ((mg_lua_cur.phase & MG_LUA_FAKE_REQUEST_PHASES) && (allowed & data) == data &&
        !(allowed & MG_LUA_FAKE_REQUEST_PHASES)) {
        return "API disabled in the current context";
    }
    if (mg_lua_cur.phase == MG_LUA_INIT) {
        return "no request found"; /* OpenResty has no request there, not even a fake one */
    }
    const char *context = mg_lua_phase_context(mg_lua_cur.phase);
    if (context) {
        snprintf(msg, sizeof(msg), "API disabled in the context of %s", context);
        return msg;
    }
    return "API disabled in the current context";
}

int mg_lua_raise_from(lua_State *L, const char *module, int line, const char *msg)
{
    /* package.searchpath(module, package.path), in a pcall: the user may have changed both */
    const char *file = NULL;
    lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
    lua_getfield(L, -1, "package");
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "searchpath");
        lua_pushstring(L, module);
        lua_getfield(L, -3, "path");
        if (lua_isfunction(L, -3) && lua_isstring(L, -1) && lua_pcall(L, 2, 1, 0) == 0 &&
            lua_type(L, -1) == LUA_TSTRING) {
            file = lua_tostring(L, -1);
        }
    }
    if (file == NULL) {
        lua_pushstring(L, module);
        lua_pushstring(L, luaL_gsub(L, lua_tostring(L, -1), ".", "/"));
        lua_pushliteral(L, ".lua");
        lua_concat(L, 2);
        file = lua_tostring(L, -1);
    }
    lua_pushfstring(L, "%s:%d: %s", file, line, msg);
    return lua_error(L);
}

void mg_lua_check_phase(lua_State *L, unsigned allowed)
{
    const char *err = mg_lua_phase_error(allowed);
    if (err) {
        luaL_error(L, "%s", err);
    }
}

void mg_lua_check_phase_words(lua_State *L, unsigned allowed, const char *no_request)
{
    if (mg_lua_cur.phase == MG_LUA_INIT && !(allowed & MG_LUA_INIT) && !mg_lua_probe) {
        luaL_error(L, "%s", no_request);
    }
    mg_lua_check_phase(L, allowed);
}

mg_request_t *mg_lua_request(lua_State *L)
{
    if (mg_lua_cur.r == NULL) {
        /* docgen's probe: a request of http{} would be there; stream{}'s code never has one */
        int http = mg_lua_cur.lmcf == NULL || !mg_lua_cur.lmcf->stream;
        luaL_error(L, mg_lua_probe && http ? "docgen: request" : "no request found");
    }
    return mg_lua_cur.r;
}

mg_request_t *mg_lua_request_data(lua_State *L)
{
    if (mg_lua_cur.r == NULL && !mg_lua_probe && (mg_lua_cur.phase & MG_LUA_FAKE_REQUEST_PHASES)) {
        luaL_error(L, "API disabled in the current context");
    }
    return mg_lua_request(L);
}

void *mg_lua_request_token(void)
{
    if (mg_lua_cur.r) {
        return mg_lua_cur.r;
    }
    if (mg_lua_cur.s) {
        return mg_lua_cur.s;
    }
    if (mg_lua_cur.ctx) {
        return mg_lua_cur.ctx; /* a timer's or a TLS handshake's */
    }
    /* OpenResty's worker hooks run with a fake request too */
    if (mg_lua_cur.phase & (MG_LUA_INIT_WORKER | MG_LUA_EXIT_WORKER)) {
        return mg_lua_cur.lmcf;
    }
    return NULL;
}

mg_stream_session_t *mg_lua_session(lua_State *L)
{
    if (mg_lua_cur.s == NULL) {
        luaL_error(L, mg_lua_probe ? "docgen: request" : "no request found");
    }
    return mg_lua_cur.s;
}

mg_lua_main_conf_t *mg_lua_conf_main(mg_conf_t *cf)
{
    if (cf->ctx & (MG_CTX_STREAM | MG_CTX_STREAM_SRV | MG_CTX_STREAM_UPS)) {
        return mg_stream_conf_get_main(cf, mg_stream_lua_module);
    }
    return mg_http_conf_get_main(cf, mg_lua_module);
}

static void ctx_cleanup(void *data)
{
    mg_lua_ctx_t *ctx = data;
    lua_State *L = ctx->lmcf->L;
    luaL_unref(L, LUA_REGISTRYINDEX, ctx->ctx_ref);
    ctx->ctx_ref = LUA_NOREF;
    mg_lua_co_free_all(ctx);
    mg_lua_output_free(ctx);
}

mg_lua_ctx_t *mg_lua_get_ctx(mg_request_t *r)
{
    mg_lua_ctx_t *ctx = mg_http_get_ctx(r, mg_lua_module);
    if (ctx) {
        return ctx;
    }
    ctx = mg_pcalloc(r->pool, sizeof(mg_lua_ctx_t));
    ctx->r = r;
    ctx->lmcf = mg_http_get_main_conf(r, mg_lua_module);
    ctx->ctx_ref = LUA_NOREF;
    ctx->co_map_ref = LUA_NOREF;
    mg_pool_cleanup_add(r->pool, ctx_cleanup, ctx);
    mg_http_set_ctx(r, ctx, mg_lua_module);
    return ctx;
}

mg_lua_loc_conf_t *mg_lua_ctx_conf(mg_lua_ctx_t *ctx)
{
    if (ctx->r) {
        return mg_http_get_loc_conf(ctx->r, mg_lua_module);
    }
    if (ctx->s) {
        return mg_stream_get_srv_conf(ctx->s, mg_stream_lua_module);
    }
    return ctx->lmcf->conf;
}
