/*
 * The one runner for Lua code. Request entries (rewrite, access, content) run in a coroutine
 * of their own: a yield is either the end of the entry (ngx.exit, ngx.exec, ngx.redirect) or
 * a wait, resumed later by whatever the code waits for; how an entry ends becomes the phase
 * handler's return code, as lua-nginx-module decides it. Code that must not yield (filters,
 * log, set, init) runs through mg_lua_call under lua_pcall.
 */
#include "api.h"
#include "metrics.h"

/* The response was produced by an entry of the rewrite or access phase: it ends here. */
static mg_int_t finish_early(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    mg_int_t rc = mg_lua_send_eof(r, ctx);
    if (rc != MG_OK) {
        return rc; /* an error, or the status a header filter chose */
    }
    mg_http_finalize_request(r, MG_OK);
    return MG_DONE;
}

/* The entry's code returned: what its phase does next. */
static mg_int_t entry_done(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    if (ctx->phase == MG_LUA_CONTENT) {
        /* the gathered output and the last buffer in one go */
        return mg_lua_send_eof(r, ctx);
    }
    if (r->header_sent) {
        return finish_early(r, ctx);
    }
    /* an access entry that ends allows, as lua-nginx-module's: it matters under "satisfy any".
     * HTTP/1.0 output it held waits: content_by_lua adds to it, another content handler's
     * response replaces it */
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
    if (code == MG_DECLINED && ctx->phase != MG_LUA_CONTENT) {
        return MG_DECLINED;
    }
    if (code == MG_OK) {
        /* unlike the code's end, ngx.exit(ngx.OK) sends held HTTP/1.0 output, as OpenResty */
        return ctx->held && ctx->phase != MG_LUA_CONTENT ? finish_early(r, ctx)
                                                         : entry_done(r, ctx);
    }
    if ((code == MG_DECLINED || (code > 0 && code < MG_HTTP_OK)) && !r->header_sent && !ctx->held &&
        r->parent == NULL) {
        /* as lua-nginx-module: no response; nginx finalizes such a code as its NGX_OK, and
         * the content handler turns a DECLINED into NGX_OK */
        mg_http_finalize_unanswered(r);
        return MG_DONE;
    }
    /* as lua-nginx-module: the code becomes the response status unless one was set
     * (ngx.status = 201; ngx.exit(200) answers 201), and an error page reached through
     * "error_page N = @name" or "= /uri" still sees it in ngx.status and answers with it */
    if (!r->header_sent && !ctx->held && r->headers_out.status == 0 && code >= MG_HTTP_OK) {
        r->headers_out.status = (mg_uint_t)code;
    }
    int success = code >= MG_HTTP_OK && code < MG_HTTP_SPECIAL_RESPONSE;
    if (r->header_sent || ctx->held || success) {
        if (ctx->phase == MG_LUA_CONTENT) {
            return mg_lua_send_eof(r, ctx);
        }
        return finish_early(r, ctx);
    }
    return code; /* an error page or a redirect's body */
}

static mg_int_t entry_exec(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    mg_str_t uri = ctx->exec_uri, args = ctx->exec_args;
    if (uri.len && uri.data[0] == '@') {
        if (args.len) {
            /* a named location keeps the request's own arguments: say so, as OpenResty */
            mg_log_error(MG_LOG_WARN, &r->connection->log, 0,
                         "query strings %.*s ignored when exec'ing named location %.*s",
                         (int)args.len, args.data, (int)uri.len, uri.data);
        }
        return mg_http_named_location(r, uri);
    }
    return mg_http_internal_redirect(r, uri, &args);
}

/* The coroutines of a request entry stopped: what the phase handler returns. */
static mg_int_t entry_result(mg_lua_ctx_t *ctx, int how)
{
    mg_request_t *r = ctx->r;
    ctx->waiting = how == MG_LUA_CO_WAIT;
    if (!ctx->waiting) {
        mg_lua_unwatch_client(ctx); /* the client's close is no longer this code's business */
    }
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
    co->cancel = NULL; /* its wait is over */
    if (co->status != MG_LUA_ST_WAITING) {
        lua_settop(co->L, 0); /* killed meanwhile: its late event is dropped */
        return;
    }
    ctx->waiting = 0;
    int how = mg_lua_sched_run(co, nargs);
    if (ctx->r == NULL || ctx->finished) {
        /* a timer (or a request's balancer_by_lua): its owner decides what the end means */
        if (how != MG_LUA_CO_WAIT) {
            ctx->finished(ctx, how);
        }
        return;
    }
    /* the phase handler that returned MG_DONE answers now; ctx lives in the request's pool,
     * which the entry's end may free: r is read first */
    mg_request_t *r = ctx->r;
    mg_int_t rc = entry_result(ctx, how);
    mg_http_phase_resume(r, rc);
}

/* lua_pcall's message handler: the message with the stack it came from; an error value that
 * is no string stays as it is (logged as "unknown reason", as lua-nginx-module does). */
int mg_lua_add_traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        lua_settop(L, 1);
        return 1;
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

mg_int_t mg_lua_call(mg_lua_main_conf_t *lmcf, mg_request_t *r, mg_lua_code_t *code, unsigned phase,
                     int nargs, int nres)
{
    return mg_lua_call_ctx(lmcf, r ? mg_lua_get_ctx(r) : NULL, code, phase, nargs, nres);
}

mg_int_t mg_lua_call_ctx(mg_lua_main_conf_t *lmcf, mg_lua_ctx_t *ctx, mg_lua_code_t *code,
                         unsigned phase, int nargs, int nres)
{
    lua_State *L = lmcf->L;
    mg_request_t *r = ctx ? ctx->r : NULL;
    mg_lua_loc_conf_t *llcf = ctx && (r || ctx->s) ? mg_lua_ctx_conf(ctx) : NULL;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, mg_lua_add_traceback);
    lua_insert(L, base + 1);
    if (mg_lua_code_push(L, r, code, llcf ? llcf->code_cache : 1) != MG_OK) {
        lua_settop(L, base);
        return MG_ERROR;
    }
    lua_insert(L, base + 2);
    mg_lua_current_t saved = mg_lua_cur;
    /* nothing may yield here */
    mg_lua_cur = (mg_lua_current_t){r, ctx, phase, lmcf, NULL, ctx ? ctx->s : NULL};
    if (ctx) {
        ctx->exited = 0;
    }
    int rc = lua_pcall(L, nargs, nres, base + 1);
    mg_lua_cur = saved;
    if (ctx == NULL && (phase & (MG_LUA_INIT_WORKER | MG_LUA_EXIT_WORKER))) {
        mg_lua_ctx_hook_done(L);
    }
    lua_remove(L, base + 1);
    if (rc == 0) {
        /* ngx.exit returned to the code (a header filter's, as in lua-nginx-module) */
        return ctx && ctx->exited ? MG_DONE : MG_OK;
    }
    const char *ctxname = mg_lua_phase_context(phase);
    MG_METRICS_INC(lmcf->cycle->metrics, lua_errors);
    mg_log_t *log = r ? &r->connection->log : ctx && ctx->log ? ctx->log : lmcf->cycle->log;
    const char *msg = lua_tostring(L, -1);
    if (phase & (MG_LUA_INIT_WORKER | MG_LUA_EXIT_WORKER)) {
        /* lua-nginx-module words the worker hooks' failures apart */
        mg_log_error(MG_LOG_ERR | MG_LOG_LINES, log, 0, "%s_by_lua error: %s",
                     mg_lua_phase_name(phase), msg ? msg : "unknown reason");
    } else {
        mg_log_error(MG_LOG_ERR | MG_LOG_LINES, log, 0, "failed to run %s: %s",
                     ctxname ? ctxname : "lua", msg ? msg : "unknown reason");
    }
    lua_pop(L, 1);
    return MG_ERROR;
}
