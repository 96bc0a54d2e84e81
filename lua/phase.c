/*
 * The one runner for Lua code. Request entries (rewrite, access, content) run in a coroutine
 * of their own: a yield is either the end of the entry (ngx.exit, ngx.exec, ngx.redirect) or
 * a wait, resumed later by whatever the code waits for; how an entry ends becomes the phase
 * handler's return code, as lua-nginx-module decides it. Code that must not yield (filters,
 * log, set, init) runs through mg_lua_call under lua_pcall.
 */
#include <event2/event.h>

#include "api.h"

mg_lua_current_t mg_lua_cur;

/* ngx.exit in code that cannot yield raises this as its error value. */
static char exit_sentinel;

static const struct {
    unsigned phase;
    const char *name;     /* ngx.get_phase() */
    const char *context;  /* "API disabled in the context of ..." */
} phases[] = {
    {MG_LUA_INIT, "init", "init_by_lua*"},
    {MG_LUA_INIT_WORKER, "init_worker", "init_worker_by_lua*"},
    {MG_LUA_SET, "set", "set_by_lua*"},
    {MG_LUA_REWRITE, "rewrite", "rewrite_by_lua*"},
    {MG_LUA_ACCESS, "access", "access_by_lua*"},
    {MG_LUA_CONTENT, "content", "content_by_lua*"},
    {MG_LUA_LOG, "log", "log_by_lua*"},
    {MG_LUA_HEADER_FILTER, "header_filter", "header_filter_by_lua*"},
    {MG_LUA_BODY_FILTER, "body_filter", "body_filter_by_lua*"},
    {MG_LUA_TIMER, "timer", "ngx.timer"},
    {MG_LUA_EXIT_WORKER, "exit_worker", "exit_worker_by_lua*"},
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

void mg_lua_check_phase(lua_State *L, unsigned allowed)
{
    if (mg_lua_cur.phase & allowed) {
        return;
    }
    for (size_t i = 0; i < mg_nelems(phases); i++) {
        if (phases[i].phase == mg_lua_cur.phase) {
            luaL_error(L, "API disabled in the context of %s", phases[i].context);
        }
    }
    luaL_error(L, "API disabled in the current context");
}

mg_request_t *mg_lua_request(lua_State *L)
{
    if (mg_lua_cur.r == NULL) {
        luaL_error(L, "no request found");
    }
    return mg_lua_cur.r;
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

/* Log an error value with the traceback of `co` as OpenResty words it. */
void mg_lua_log_error(lua_State *L, lua_State *co, mg_log_t *log, const char *what)
{
    size_t len;
    const char *msg = lua_tolstring(co, -1, &len);
    char other[64];
    if (msg == NULL) {
        snprintf(other, sizeof(other), "(error object is a %s value)", luaL_typename(co, -1));
        msg = other;
        len = strlen(other);
    }
    luaL_traceback(L, co, NULL, 0);
    const char *tb = lua_tostring(L, -1);
    /* "stack traceback:\n\t..." -> OpenResty's "stack traceback:\ncoroutine 0:\n\t..." */
    const char *frames = tb ? strchr(tb, '\n') : NULL;
    mg_log_error(MG_LOG_ERR | MG_LOG_LINES, log, 0, "%s%.*s\nstack traceback:\ncoroutine 0:%s", what, (int)len,
                 msg, frames ? frames : "");
    lua_pop(L, 1);
}

/* The response was produced by an entry of the rewrite or access phase: it ends here. */
static mg_int_t finish_early(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    if (mg_lua_send_eof(r, ctx) == MG_ERROR) {
        return MG_ERROR;
    }
    mg_http_finalize_request(r, MG_OK);
    return MG_DONE;
}

/* The entry's code returned: what its phase does next. */
static mg_int_t entry_done(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    if (ctx->phase == MG_LUA_CONTENT) {
        /* the gathered output and the last buffer in one go */
        return mg_lua_send_eof(r, ctx) == MG_ERROR ? MG_ERROR : MG_OK;
    }
    if (r->header_sent) {
        return finish_early(r, ctx);
    }
    /* an access entry that ends allows, as lua-nginx-module's: it matters under "satisfy any" */
    return ctx->phase == MG_LUA_ACCESS ? MG_OK : MG_DECLINED;
}

/* ngx.exit(code): lua-nginx-module's rules per phase. */
static mg_int_t entry_exit(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    mg_int_t code = ctx->exit_code;
    if (code == MG_ERROR || code == MG_HTTP_CLOSE || code == MG_HTTP_CLIENT_CLOSED_REQUEST ||
        code == MG_HTTP_REQUEST_TIME_OUT) {
        return code;
    }
    if (code == MG_DECLINED) {
        return MG_DECLINED;
    }
    if (code == MG_OK) {
        return entry_done(r, ctx);
    }
    if (r->header_sent || (code >= MG_HTTP_OK && code < MG_HTTP_SPECIAL_RESPONSE)) {
        if (!r->header_sent) {
            r->headers_out.status = (mg_uint_t)code;
        }
        if (ctx->phase == MG_LUA_CONTENT) {
            return mg_lua_send_eof(r, ctx) == MG_ERROR ? MG_ERROR : MG_OK;
        }
        return finish_early(r, ctx);
    }
    return code; /* an error page or a redirect's body */
}

static mg_int_t entry_exec(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    mg_str_t uri = ctx->exec_uri, args = ctx->exec_args;
    if (uri.len && uri.data[0] == '@') {
        return mg_http_named_location(r, uri);
    }
    return mg_http_internal_redirect(r, uri, args.len ? &args : NULL);
}

/* The coroutines of a request entry stopped: what the phase handler returns. */
static mg_int_t entry_result(mg_lua_ctx_t *ctx, int how)
{
    mg_request_t *r = ctx->r;
    ctx->waiting = how == MG_LUA_CO_WAIT;
    switch (how) {
    case MG_LUA_CO_WAIT:
        /* MG_DONE, not MG_AGAIN: after ngx.eof the last buffer is queued, and finalization
         * would take MG_AGAIN for "the response is out, finish when written" while the code
         * still runs; the code finalizes the request itself when it ends */
        return MG_DONE;
    case MG_LUA_CO_EXEC:
        ctx->exec = 0;
        return entry_exec(r, ctx);
    case MG_LUA_CO_EXIT:
        return entry_exit(r, ctx);
    case MG_LUA_CO_ERROR:
        return r->header_sent ? MG_ERROR : MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    return entry_done(r, ctx);
}

mg_int_t mg_lua_run_entry(mg_request_t *r, mg_lua_code_t *code, unsigned phase)
{
    mg_lua_ctx_t *ctx = mg_lua_get_ctx(r);
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    /* the coroutines of an earlier phase have all ended, but stay until the request does:
     * a socket of a thread that ngx.exit stopped may still name one in an armed event */
    ctx->phase = phase;
    ctx->abort_co = NULL; /* ngx.on_abort registers per entry */
    ctx->exited = 0;
    ctx->exec = 0;
    ctx->entry_done = 0;
    if (!llcf->code_cache) {
        mg_lua_forget_modules(ctx->lmcf->L);
    }
    mg_lua_co_t *co = mg_lua_co_new(ctx, MG_LUA_KIND_ENTRY);
    if (mg_lua_code_push(co->L, r, code, llcf->code_cache) != MG_OK) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    return entry_result(ctx, mg_lua_sched_run(co, 0));
}

void mg_lua_resume_co(mg_lua_co_t *co, int nargs)
{
    mg_lua_ctx_t *ctx = co->ctx;
    if (co->status != MG_LUA_ST_WAITING) {
        lua_settop(co->L, 0); /* killed meanwhile: its late event is dropped */
        return;
    }
    ctx->waiting = 0;
    int how = mg_lua_sched_run(co, nargs);
    if (ctx->r == NULL) {
        /* a timer: its owner decides what the end means */
        if (how != MG_LUA_CO_WAIT) {
            ctx->finished(ctx, how);
        }
        return;
    }
    mg_request_t *r = ctx->r;
    mg_int_t rc = entry_result(ctx, how);
    if (rc == MG_AGAIN || rc == MG_DONE) {
        return;
    }
    if (ctx->phase == MG_LUA_CONTENT) {
        mg_http_finalize_request(r, rc);
        return;
    }
    if (ctx->phase == MG_LUA_ACCESS) {
        mg_http_access_done(r, rc); /* "satisfy any" counts it as allowing */
        return;
    }
    /* rewrite: what the phase checker would do with the handler's code */
    if (rc == MG_DECLINED) {
        r->phase_handler++;
        mg_http_run_phases(r);
        return;
    }
    mg_http_finalize_request(r, rc);
}

/* lua_pcall's message handler: the message with the stack it came from. */
static int add_traceback(lua_State *L)
{
    if (lua_touserdata(L, 1) == &exit_sentinel) {
        return 1;
    }
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int mg_lua_exit_nonyield(lua_State *L)
{
    lua_pushlightuserdata(L, &exit_sentinel);
    return lua_error(L);
}

mg_int_t mg_lua_call(mg_lua_main_conf_t *lmcf, mg_request_t *r, mg_lua_code_t *code,
                     unsigned phase, int nargs, int nres)
{
    lua_State *L = lmcf->L;
    mg_lua_ctx_t *ctx = r ? mg_lua_get_ctx(r) : NULL;
    mg_lua_loc_conf_t *llcf = r ? mg_http_get_loc_conf(r, mg_lua_module) : NULL;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, add_traceback);
    lua_insert(L, base + 1);
    if (mg_lua_code_push(L, r, code, llcf ? llcf->code_cache : 1) != MG_OK) {
        lua_settop(L, base);
        return MG_ERROR;
    }
    lua_insert(L, base + 2);
    mg_lua_current_t saved = mg_lua_cur;
    mg_lua_cur = (mg_lua_current_t){r, ctx, phase, lmcf, NULL}; /* nothing may yield here */
    if (ctx) {
        ctx->exited = 0;
    }
    int rc = lua_pcall(L, nargs, nres, base + 1);
    mg_lua_cur = saved;
    lua_remove(L, base + 1);
    if (rc == 0) {
        return MG_OK;
    }
    if (lua_touserdata(L, -1) == &exit_sentinel) {
        lua_pop(L, 1);
        return MG_DONE;
    }
    const char *ctxname = "lua";
    for (size_t i = 0; i < mg_nelems(phases); i++) {
        if (phases[i].phase == phase) {
            ctxname = phases[i].context;
        }
    }
    mg_log_error(MG_LOG_ERR | MG_LOG_LINES, r ? &r->connection->log : lmcf->cycle->log, 0, "failed to run %s: %s",
                 ctxname, lua_tostring(L, -1));
    lua_pop(L, 1);
    return MG_ERROR;
}
