/*
 * The scheduler of a request's (or timer's) coroutines, as lua-nginx-module's: the entry
 * thread, light threads (ngx.thread.spawn/wait/kill) and the user's own coroutines
 * (coroutine.create/resume/yield/wrap/status replaced by versions that cooperate). Every
 * resume goes through mg_lua_sched_run, so a coroutine that waits for I/O anywhere in a chain
 * of user coroutines suspends the whole chain until its event resumes exactly it; a plain
 * coroutine.yield goes back to whoever resumed it. Outside a scheduled context (init_by_lua,
 * filters) the original coroutine functions are used.
 */
#include <event2/event.h>

#include "api.h"

enum { OP_NONE, OP_WAIT, OP_RESUME, OP_SPAWN, OP_THREAD_WAIT };

/* Finished entry threads are kept per VM, up to lua_thread_cache_max_entries (0: none): a new
 * thread and its registry ref for every request cost more than the request's Lua code itself
 * in a small handler. */

/* The context's list is doubly linked: a coroutine that ended is unlinked and freed as soon
 * as nothing can name it any more (release), so that a request or a timer spawning threads in
 * a loop keeps neither their Lua threads nor their records, and no walk of the list grows with
 * the coroutines that ended. */
static void link_co(mg_lua_ctx_t *ctx, mg_lua_co_t *co)
{
    co->id = ++ctx->co_ids;
    co->next = ctx->cos;
    if (co->next) {
        co->next->pprev = &co->next;
    }
    co->pprev = &ctx->cos;
    ctx->cos = co;
}

static mg_lua_co_t *from_cache(mg_lua_ctx_t *ctx)
{
    mg_lua_main_conf_t *lmcf = ctx->lmcf;
    mg_lua_co_t *co = lmcf->co_cache;
    lmcf->co_cache = co->next;
    lmcf->nco_cache--;
    lua_State *L = co->L;
    int ref = co->ref;
    memset(co, 0, sizeof(*co));
    co->L = L;
    co->ref = ref;
    co->ctx = ctx;
    co->kind = MG_LUA_KIND_ENTRY;
    co->status = MG_LUA_ST_SUSPENDED;
    link_co(ctx, co);
    return co;
}

void mg_lua_co_cache_free(mg_lua_main_conf_t *lmcf)
{
    for (mg_lua_co_t *co = lmcf->co_cache, *next; co; co = next) {
        next = co->next;
        free(co); /* the thread goes with the VM */
    }
    lmcf->co_cache = NULL;
    lmcf->nco_cache = 0;
}

/* The thread -> record map: weak keys, so that a freed coroutine's entry (a tombstone, see
 * release) goes with its thread once Lua code drops that; a live one's thread is held by its
 * registry ref. The metatable is one per VM, under a registry key. */
static char weak_keys_key;

static void new_map(lua_State *L)
{
    lua_newtable(L);
    lua_pushlightuserdata(L, &weak_keys_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_pushlightuserdata(L, &weak_keys_key);
        lua_pushvalue(L, -2);
        lua_rawset(L, LUA_REGISTRYINDEX);
    }
    lua_setmetatable(L, -2);
}

mg_lua_co_t *mg_lua_co_new(mg_lua_ctx_t *ctx, int kind)
{
    if (kind == MG_LUA_KIND_ENTRY && ctx->lmcf->co_cache) {
        return from_cache(ctx);
    }
    lua_State *L = ctx->lmcf->L;
    mg_lua_co_t *co = mg_calloc(sizeof(mg_lua_co_t));
    co->ctx = ctx;
    co->kind = kind;
    co->status = MG_LUA_ST_SUSPENDED;
    co->L = lua_newthread(L);
    if (kind != MG_LUA_KIND_ENTRY) {
        /* thread -> record, so coroutine.resume(thread) finds it (an entry thread is never
         * passed to Lua code: no map for the common case) */
        if (ctx->co_map_ref == LUA_NOREF) {
            new_map(L);
            ctx->co_map_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->co_map_ref);
        lua_pushvalue(L, -2);
        lua_pushlightuserdata(L, co);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    }
    co->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    link_co(ctx, co);
    if (kind == MG_LUA_KIND_THREAD) {
        ctx->nthreads++;
    }
    return co;
}

void mg_lua_co_free_all(mg_lua_ctx_t *ctx)
{
    mg_lua_main_conf_t *lmcf = ctx->lmcf;
    lua_State *L = lmcf->L;
    for (mg_lua_co_t *co = ctx->cos, *next; co; co = next) {
        next = co->next;
        if (co->sleep_ev) {
            event_free(co->sleep_ev);
        }
        mg_lua_socket_resolve_cancel(co);
        mg_lua_sema_cancel(co);
        mg_lua_pipe_cancel(co);
        mg_lua_worker_thread_cancel(co);
        /* a thread that returned (status 0) can run a new function; one that failed or was
         * stopped in a yield cannot */
        if (co->kind == MG_LUA_KIND_ENTRY && lua_status(co->L) == 0 &&
            lmcf->nco_cache < (mg_uint_t)lmcf->thread_cache_max) {
            lua_settop(co->L, 0);
            co->next = lmcf->co_cache;
            lmcf->co_cache = co;
            lmcf->nco_cache++;
            continue;
        }
        luaL_unref(L, LUA_REGISTRYINDEX, co->ref);
        free(co);
    }
    ctx->cos = NULL;
    ctx->abort_co = NULL;
    ctx->nthreads = 0;
    luaL_unref(L, LUA_REGISTRYINDEX, ctx->co_map_ref);
    ctx->co_map_ref = LUA_NOREF;
}

/* The record of the coroutine at idx, NULL if it is none of the context's. For one already
 * freed, *tomb is filled as what it was: a dead user coroutine, or a thread that was waited for
 * (or killed, or that nobody can wait for any more) and names its spawner. */
static mg_lua_co_t *lookup(lua_State *L, int idx, mg_lua_co_t *tomb)
{
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    if (ctx == NULL || mg_lua_cur.co == NULL || ctx->co_map_ref == LUA_NOREF ||
        lua_type(L, idx) != LUA_TTHREAD) {
        return NULL;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->co_map_ref);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    mg_lua_co_t *co = NULL;
    switch (lua_type(L, -1)) {
    case LUA_TLIGHTUSERDATA:
        co = lua_touserdata(L, -1);
        break;
    case LUA_TNUMBER:
        *tomb = (mg_lua_co_t){.kind = MG_LUA_KIND_THREAD,
                              .status = MG_LUA_ST_DEAD,
                              .reaped = 1,
                              .parent_id = (mg_uint_t)lua_tonumber(L, -1)};
        co = tomb;
        break;
    case LUA_TBOOLEAN:
        *tomb = (mg_lua_co_t){.kind = MG_LUA_KIND_USER, .status = MG_LUA_ST_DEAD};
        co = tomb;
        break;
    }
    lua_pop(L, 2);
    return co;
}

/* A coroutine that ended is freed: its registry ref (so its Lua thread, once Lua code drops
 * it) and its record. Its map entry stays as long as its thread does, as a tombstone: a
 * thread's spawner id (a number), false for a user coroutine. */
static void release(mg_lua_ctx_t *ctx, mg_lua_co_t *co)
{
    lua_State *L = ctx->lmcf->L;
    if (co->kid) {
        co->parent->nkids--;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->co_map_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, co->ref);
    if (co->kind == MG_LUA_KIND_THREAD) {
        lua_pushnumber(L, (lua_Number)co->parent_id);
    } else {
        lua_pushboolean(L, 0);
    }
    lua_rawset(L, -3);
    lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, co->ref);
    if (co->sleep_ev) {
        event_free(co->sleep_ev); /* not pending: it ended awake */
    }
    *co->pprev = co->next;
    if (co->next) {
        co->next->pprev = co->pprev;
    }
    free(co);
}

/* A thread that ended and that nobody can wait for any more: waited for (or killed before
 * its end), or whose spawner ended. ngx.on_abort's stays: the context names it. */
static int unwanted(mg_lua_ctx_t *ctx, mg_lua_co_t *t)
{
    return (t->reaped || t->parent == NULL) && t != ctx->abort_co;
}

/* co ended or was killed: its threads that ended unwaited are freed (only it could wait for
 * them), the others no longer name it and are freed when they end. */
static void parent_ended(mg_lua_ctx_t *ctx, mg_lua_co_t *co)
{
    for (mg_lua_co_t *t = ctx->cos, *next; t && co->nkids; t = next) {
        next = t->next; /* a kid is never co itself, nor has kids of its own left */
        if (t->kid && t->parent == co) {
            co->nkids--;
            t->kid = 0;
            t->parent = NULL;
            if (t->status == MG_LUA_ST_DEAD && !t->killed && unwanted(ctx, t)) {
                release(ctx, t);
            }
        }
    }
}

/* Everything of the context stops (ngx.exit, ngx.exec, an entry thread's error): late events
 * for these coroutines are ignored. */
static void kill_all(mg_lua_ctx_t *ctx)
{
    for (mg_lua_co_t *co = ctx->cos; co; co = co->next) {
        if (co->status != MG_LUA_ST_DEAD && co->kind == MG_LUA_KIND_THREAD) {
            ctx->nthreads--;
        }
        if (co->status != MG_LUA_ST_DEAD) {
            co->killed = 1;
        }
        co->status = MG_LUA_ST_DEAD;
        if (co->sleep_ev) {
            event_del(co->sleep_ev);
        }
        mg_lua_socket_resolve_cancel(co);
        mg_lua_sema_cancel(co);
        mg_lua_pipe_cancel(co);
        mg_lua_worker_thread_cancel(co);
    }
}

static void thread_died(mg_lua_ctx_t *ctx, mg_lua_co_t *co)
{
    co->status = MG_LUA_ST_DEAD;
    ctx->nthreads--;
}

/* A dead thread's outcome onto L for ngx.thread.wait: true + results, or false + message. */
static int reap(lua_State *L, mg_lua_co_t *t)
{
    t->reaped = 1;
    lua_pushboolean(L, !t->failed);
    int n = lua_gettop(t->L);
    lua_xmove(t->L, L, n);
    return n + 1;
}

/* w no longer waits in ngx.thread.wait (one of the threads ended, or w was killed) */
static void stop_waiting(mg_lua_co_t *w)
{
    for (mg_lua_co_t *t = w->waitees; t; t = t->wait_next) {
        t->waiter = NULL;
    }
    w->waitees = NULL;
}

/* A light thread returned or failed: the coroutine blocked in ngx.thread.wait on it (if any)
 * goes on with its outcome; it stops waiting for the others it named. */
static mg_lua_co_t *thread_ended(mg_lua_ctx_t *ctx, mg_lua_co_t *co, int *nargs)
{
    thread_died(ctx, co);
    if (co->waiter == NULL || co->spawning) {
        return NULL;
    }
    mg_lua_co_t *w = co->waiter;
    stop_waiting(w);
    *nargs = reap(w->L, co);
    return w;
}

static mg_log_t *ctx_log(mg_lua_ctx_t *ctx)
{
    return ctx->r ? mg_http_request_log(ctx->r) : ctx->log ? ctx->log : ctx->lmcf->cycle->log;
}

int mg_lua_sched_run(mg_lua_co_t *co, int nargs)
{
    mg_lua_ctx_t *ctx = co->ctx;
    mg_lua_current_t saved = mg_lua_cur;
    for (;;) {
        co->status = MG_LUA_ST_RUNNING;
        ctx->yield_op = OP_NONE;
        mg_lua_cur = (mg_lua_current_t){ctx->r, ctx, ctx->phase, ctx->lmcf, co, ctx->s};
        if (ctx->r) {
            mg_http_request_log(ctx->r); /* its lines speak of this request (a subrequest's) */
        }
        int rc = lua_resume(co->L, nargs);
        mg_lua_cur = saved;
        mg_lua_co_t *next = NULL;
        mg_lua_co_t *done = NULL; /* co ended and nothing can name it: freed below */
        if (ctx->exited || ctx->exec) {
            kill_all(ctx);
            lua_settop(co->L, 0);
            return ctx->exec ? MG_LUA_CO_EXEC : MG_LUA_CO_EXIT;
        }
        if (rc == LUA_YIELD) {
            int n = lua_gettop(co->L);
            switch (ctx->yield_op) {
            case OP_WAIT:
            case OP_THREAD_WAIT:
                co->status = MG_LUA_ST_WAITING;
                break;
            case OP_RESUME:
                next = ctx->yield_target;
                co->status = MG_LUA_ST_NORMAL;
                next->parent = co;
                lua_xmove(co->L, next->L, n);
                nargs = n;
                break;
            case OP_SPAWN:
                next = ctx->yield_target;
                co->status = MG_LUA_ST_NORMAL;
                nargs = ctx->spawn_nargs;
                lua_settop(co->L, 0);
                break;
            default:
                if (co->kind == MG_LUA_KIND_USER) {
                    /* coroutine.yield: back to the resumer, as coroutine.resume's results */
                    next = co->parent;
                    co->status = MG_LUA_ST_SUSPENDED;
                    lua_pushboolean(next->L, 1);
                    lua_xmove(co->L, next->L, n);
                    nargs = n + 1;
                } else {
                    /* a yield in an entry or light thread just goes on */
                    lua_settop(co->L, 0);
                    next = co;
                    nargs = 0;
                }
            }
        } else if (rc == 0) {
            int n = lua_gettop(co->L);
            if (co->kind == MG_LUA_KIND_USER) {
                next = co->parent;
                co->status = MG_LUA_ST_DEAD;
                lua_pushboolean(next->L, 1);
                lua_xmove(co->L, next->L, n);
                nargs = n + 1;
                done = co;
            } else if (co->kind == MG_LUA_KIND_THREAD) {
                next = thread_ended(ctx, co, &nargs);
                done = unwanted(ctx, co) ? co : NULL;
            } else {
                co->status = MG_LUA_ST_DEAD;
                ctx->entry_done = 1;
            }
            parent_ended(ctx, co);
        } else {
            if (co->kind == MG_LUA_KIND_USER) {
                /* coroutine.resume returns false and the message */
                next = co->parent;
                co->status = MG_LUA_ST_DEAD;
                lua_pushboolean(next->L, 0);
                lua_xmove(co->L, next->L, 1);
                nargs = 2;
                done = co;
                parent_ended(ctx, co);
            } else if (co->kind == MG_LUA_KIND_THREAD) {
                mg_lua_log_error(ctx->lmcf, co->L, ctx_log(ctx),
                                 "lua user thread aborted: runtime error: ");
                /* ngx.thread.wait returns false and all the dead coroutine holds, as
                 * OpenResty: the failing frame's values, the message last (error("x")
                 * leaves "x" itself before it) */
                co->failed = 1;
                next = thread_ended(ctx, co, &nargs);
                done = unwanted(ctx, co) ? co : NULL;
                parent_ended(ctx, co);
            } else {
                if (ctx->phase == MG_LUA_BALANCER) {
                    mg_lua_log_error_main(ctx->lmcf, co->L, ctx_log(ctx),
                                          "failed to run balancer_by_lua*: ");
                } else if (ctx->phase == MG_LUA_SSL_SESS_STORE) {
                    /* lua-nginx-module runs the store's code outside a coroutine too */
                    mg_lua_log_error_main(ctx->lmcf, co->L, ctx_log(ctx),
                                          "failed to run session_store_by_lua*: ");
                } else {
                    mg_lua_log_error(ctx->lmcf, co->L, ctx_log(ctx),
                                     "lua entry thread aborted: runtime error: ");
                }
                kill_all(ctx);
                return MG_LUA_CO_ERROR;
            }
        }
        if (next && next->status == MG_LUA_ST_DEAD) {
            /* a coroutine ended or yielded back to a thread killed meanwhile (lua-nginx-module
             * would run the killed thread on): its values are dropped */
            lua_settop(next->L, 0);
            next = NULL;
        }
        if (next == NULL) {
            /* the coroutine stopped: a light thread (or a chain of user coroutines under one)
             * whose spawner waits for ngx.thread.spawn to return lets it go on */
            mg_lua_co_t *t = co;
            while (t->kind == MG_LUA_KIND_USER && t->parent) {
                t = t->parent;
            }
            if (t->kind == MG_LUA_KIND_THREAD && t->spawning) {
                t->spawning = 0;
                next = t->parent;
                lua_rawgeti(next->L, LUA_REGISTRYINDEX, t->ref);
                nargs = 1;
            }
        }
        if (done) {
            release(ctx, done);
        }
        if (next == NULL) {
            return ctx->entry_done && ctx->nthreads == 0 ? MG_LUA_CO_DONE : MG_LUA_CO_WAIT;
        }
        co = next;
    }
}

int mg_lua_wait(lua_State *L, mg_lua_ctx_t *ctx)
{
    return mg_lua_wait_with(L, ctx, NULL, NULL);
}

int mg_lua_wait_with(lua_State *L, mg_lua_ctx_t *ctx, void (*cancel)(mg_lua_co_t *, void *),
                     void *data)
{
    if (mg_lua_cur.co == NULL || mg_lua_cur.co->L != L) {
        /* a coroutine made outside this context (kept from another request, or by the plain
         * library): its yield would not reach the scheduler */
        return luaL_error(L, "attempt to yield across a C-call boundary");
    }
    mg_lua_cur.co->cancel = cancel;
    mg_lua_cur.co->cancel_data = data;
    ctx->yield_op = OP_WAIT;
    ctx->waiting = 1;
    if (ctx->r) {
        mg_lua_watch_client(ctx);
    } else if (ctx->s) {
        mg_lua_stream_watch_client(ctx);
    }
    return lua_yield(L, 0);
}

/* ---- coroutine.* ---- */

/* The coroutine library's own function (upvalue 1), for what the scheduler does not run. */
static int call_original(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* coroutine.create and ngx.thread.spawn take a Lua function, as OpenResty (not a C one) */
static void check_lua_function(lua_State *L)
{
    if (!lua_isfunction(L, 1) || lua_iscfunction(L, 1)) {
        luaL_argerror(L, 1, "Lua function expected");
    }
}

/* lua-nginx-module's coroutine API works where code may yield, in the filters and in
 * init_by_lua (the library's own functions there); set_by_lua, log_by_lua, balancer_by_lua,
 * the worker hooks and ssl_session_store_by_lua refuse it. */
#define CO_PHASES (MG_LUA_YIELDABLE | MG_LUA_INIT | MG_LUA_HEADER_FILTER | MG_LUA_BODY_FILTER)

static void co_check_phase(lua_State *L)
{
    if (mg_lua_cur.phase) { /* 0: a VM of ngx.run_worker_thread, loading code */
        mg_lua_check_phase(L, CO_PHASES);
    }
}

static int co_create(lua_State *L)
{
    co_check_phase(L);
    if (mg_lua_cur.co == NULL) {
        return call_original(L);
    }
    check_lua_function(L);
    mg_lua_co_t *co = mg_lua_co_new(mg_lua_cur.ctx, MG_LUA_KIND_USER);
    lua_pushvalue(L, 1);
    lua_xmove(L, co->L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, co->ref);
    return 1;
}

static int co_resume(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTHREAD) { /* else the library's argument error first */
        co_check_phase(L);
    }
    mg_lua_co_t tomb;
    mg_lua_co_t *co = lookup(L, 1, &tomb);
    if (co == NULL) {
        return call_original(L);
    }
    if (co->status == MG_LUA_ST_DEAD) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "cannot resume dead coroutine");
        return 2;
    }
    if (co->status != MG_LUA_ST_SUSPENDED || co->kind != MG_LUA_KIND_USER) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "cannot resume non-suspended coroutine");
        return 2;
    }
    mg_lua_cur.ctx->yield_op = OP_RESUME;
    mg_lua_cur.ctx->yield_target = co;
    return lua_yield(L, lua_gettop(L) - 1);
}

static int co_yield(lua_State *L)
{
    co_check_phase(L);
    if (mg_lua_cur.co == NULL && (mg_lua_cur.phase & (MG_LUA_HEADER_FILTER | MG_LUA_BODY_FILTER))) {
        /* a filter's own code (run on the main thread, not a coroutine) cannot yield: LuaJIT's
         * words, with the caller's line as OpenResty's message has */
        int main_thread = lua_pushthread(L);
        lua_pop(L, 1);
        if (main_thread) {
            return luaL_error(L, "attempt to yield across C-call boundary");
        }
    }
    if (mg_lua_cur.co) {
        mg_lua_cur.ctx->yield_op = OP_NONE; /* a plain yield: back to the resumer */
    }
    return lua_yield(L, lua_gettop(L));
}

static int co_status(lua_State *L)
{
    mg_lua_co_t tomb;
    mg_lua_co_t *co = lookup(L, 1, &tomb);
    if (co == NULL) {
        return call_original(L);
    }
    if (co->kind == MG_LUA_KIND_THREAD && co->status == MG_LUA_ST_DEAD && !co->reaped &&
        !co->killed) {
        lua_pushliteral(L, "zombie"); /* lua-nginx-module's word: ended, not waited for yet */
        return 1;
    }
    /* one waiting for I/O or in ngx.thread.wait has not given up its turn (no
     * coroutine.yield): "running", as lua-nginx-module says */
    static const char *const names[] = {"suspended", "running", "normal", "running", "dead"};
    lua_pushstring(L, names[co->status]);
    return 1;
}

/* balancer_by_lua's code runs in an entry coroutine here, on the VM's main thread in
 * lua-nginx-module, whose coroutine.running gives nil there. */
static int co_running(lua_State *L)
{
    if (mg_lua_cur.phase == MG_LUA_BALANCER && mg_lua_cur.co && mg_lua_cur.co->L == L) {
        lua_pushnil(L);
        return 1;
    }
    return call_original(L);
}

/* coroutine.wrap on top of the replaced create/resume: the phase checked in C (co_wrap), so
 * a refusal names the caller's line and `wrap` in the traceback, as OpenResty's C wrap. As
 * there, a call that cannot resume (the coroutine is dead, running or normal) returns false
 * and the reason instead of raising it; an error of the coroutine itself is raised. */
static const char wrap_code[] =
    "local create, resume, status, error = ...\n"
    "local function ret(ok, ...)\n"
    "    if not ok then error((...), 2) end\n"
    "    return ...\n"
    "end\n"
    "return function(f)\n"
    "    local co = create(f)\n"
    "    return function(...)\n"
    "        local st = status(co)\n"
    "        if st ~= 'suspended' then return false, 'cannot resume ' .. st .. ' coroutine' end\n"
    "        return ret(resume(co, ...))\n"
    "    end\n"
    "end\n";

/* upvalues: the library's wrap (used where no coroutine is scheduled: init_by_lua, the
 * filters, as lua-nginx-module does there), wrap_code's factory */
static int co_wrap(lua_State *L)
{
    co_check_phase(L);
    if (mg_lua_cur.co == NULL) {
        return call_original(L);
    }
    if (!lua_isfunction(L, 1) || lua_iscfunction(L, 1)) {
        /* OpenResty's words: its wrap's check names no function and no line */
        return luaL_error(L, "bad argument #1 to '?' (Lua function expected)");
    }
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* ---- ngx.thread ---- */

#define THREAD_PHASES MG_LUA_YIELDABLE

static void adopt(mg_lua_co_t *parent, mg_lua_co_t *t)
{
    t->parent = parent;
    t->parent_id = parent->id;
    t->kid = 1;
    parent->nkids++;
}

static int thread_spawn(lua_State *L)
{
    mg_lua_check_phase(L, THREAD_PHASES);
    check_lua_function(L);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    if (ctx == NULL || mg_lua_cur.co == NULL) {
        return luaL_error(L, "no request ctx found");
    }
    mg_lua_co_t *t = mg_lua_co_new(ctx, MG_LUA_KIND_THREAD);
    adopt(mg_lua_cur.co, t);
    t->spawning = 1;
    int n = lua_gettop(L);
    lua_xmove(L, t->L, n); /* the function and its arguments */
    ctx->yield_op = OP_SPAWN;
    ctx->yield_target = t;
    ctx->spawn_nargs = n - 1;
    return lua_yield(L, 0);
}

static int thread_wait(lua_State *L)
{
    mg_lua_check_phase(L, THREAD_PHASES);
    int n = lua_gettop(L);
    if (n == 0) {
        return luaL_error(L, "at least one coroutine should be specified");
    }
    mg_lua_co_t *cur = mg_lua_cur.co;
    mg_lua_co_t tomb, *one = NULL; /* the common case, one thread: looked up once */
    for (int i = 1; i <= n; i++) {
        luaL_argcheck(L, lua_type(L, i) == LUA_TTHREAD, i, "lua thread expected");
        mg_lua_co_t *t = one = lookup(L, i, &tomb);
        if (t == NULL || t->kind != MG_LUA_KIND_THREAD) {
            return luaL_error(L, "attempt to wait on a coroutine that is not a user thread");
        }
        if (t->parent_id != cur->id) {
            return luaL_error(L, "only the parent coroutine can wait on the thread");
        }
    }
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    for (int i = 1; i <= n; i++) {
        mg_lua_co_t *t = n == 1 ? one : lookup(L, i, &tomb);
        if (t->status == MG_LUA_ST_DEAD && !t->reaped) {
            lua_settop(L, 0);
            int nret = reap(L, t);
            if (unwanted(ctx, t)) {
                release(ctx, t);
            }
            return nret;
        }
    }
    /* none has ended unwaited: as lua-nginx-module, one waited for (or killed) is passed over,
     * unless it is the last argument, which answers at once, whatever runs before it */
    if ((n == 1 ? one : lookup(L, n, &tomb))->status == MG_LUA_ST_DEAD) {
        lua_pushnil(L);
        lua_pushliteral(L, "already waited or killed");
        return 2;
    }
    for (int i = 1; i <= n; i++) {
        mg_lua_co_t *t = n == 1 ? one : lookup(L, i, &tomb);
        if (t->status != MG_LUA_ST_DEAD && t->waiter == NULL) { /* named twice: once */
            t->waiter = cur;
            t->wait_next = cur->waitees;
            cur->waitees = t;
        }
    }
    lua_settop(L, 0);
    mg_lua_cur.ctx->yield_op = OP_THREAD_WAIT;
    return lua_yield(L, 0);
}

static int thread_kill(lua_State *L)
{
    mg_lua_check_phase(L, THREAD_PHASES);
    luaL_argcheck(L, lua_type(L, 1) == LUA_TTHREAD, 1, "lua thread expected");
    mg_lua_co_t tomb;
    mg_lua_co_t *t = lookup(L, 1, &tomb);
    if (t == NULL || t->kind != MG_LUA_KIND_THREAD) {
        lua_pushnil(L);
        lua_pushliteral(L, "not user thread");
        return 2;
    }
    if (t->parent_id != mg_lua_cur.co->id) {
        lua_pushnil(L);
        lua_pushliteral(L, "killer not parent");
        return 2;
    }
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    if (t->status == MG_LUA_ST_DEAD) {
        lua_pushnil(L);
        if (t->reaped) {
            lua_pushliteral(L, "already waited or killed");
            return 2;
        }
        /* an ended thread not waited for: as lua-nginx-module, it is gone now (a wait after
         * this says "already waited or killed") */
        lua_pushliteral(L, "already terminated");
        t->reaped = 1;
        if (unwanted(ctx, t)) {
            release(ctx, t);
        }
        return 2;
    }
    if (t->status == MG_LUA_ST_WAITING && t->capturing) {
        /* as lua-nginx-module: a subrequest cannot be taken back, so neither can its waiter */
        lua_pushnil(L);
        lua_pushliteral(L, "pending subrequests");
        return 2;
    }
    /* waiting for what the kill cancels (a coroutine waits for one thing at a time), nothing
     * names it afterwards and it is freed; waiting for anything else (a user coroutine it
     * resumed), a late event may still name it */
    int cancelled = t->status == MG_LUA_ST_WAITING &&
                    ((t->sleep_ev && event_pending(t->sleep_ev, EV_TIMEOUT, NULL)) || t->resolve ||
                     t->sema_wait || t->pipe_op || t->worker_task || t->waitees || t->cancel);
    thread_died(ctx, t);
    t->reaped = 1;
    stop_waiting(t);
    parent_ended(ctx, t);
    if (t->sleep_ev) {
        event_del(t->sleep_ev);
    }
    mg_lua_socket_resolve_cancel(t);
    mg_lua_sema_cancel(t);
    mg_lua_pipe_cancel(t);
    mg_lua_worker_thread_cancel(t);
    if (t->cancel) {
        t->cancel(t, t->cancel_data);
        t->cancel = NULL;
    }
    if (cancelled && unwanted(ctx, t)) {
        release(ctx, t);
    } else {
        t->killed = 1;
    }
    lua_pushinteger(L, 1);
    return 1;
}

/* Made as a user coroutine nobody can reach, so neither the count of live threads nor
 * kill_all's bookkeeping sees it before it starts. */
mg_lua_co_t *mg_lua_thread_new(mg_lua_ctx_t *ctx, lua_State *L)
{
    mg_lua_co_t *t = mg_lua_co_new(ctx, MG_LUA_KIND_USER);
    adopt(mg_lua_cur.co, t);
    t->status = MG_LUA_ST_WAITING;
    lua_xmove(L, t->L, 1);
    return t;
}

void mg_lua_thread_start(mg_lua_co_t *t)
{
    if (t->kind != MG_LUA_KIND_USER || t->status != MG_LUA_ST_WAITING) {
        return;
    }
    t->kind = MG_LUA_KIND_THREAD;
    t->ctx->nthreads++;
    mg_lua_resume_co(t, 0);
}

void mg_lua_inject_coroutine_api(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, thread_spawn);
    lua_setfield(L, -2, "spawn");
    lua_pushcfunction(L, thread_wait);
    lua_setfield(L, -2, "wait");
    lua_pushcfunction(L, thread_kill);
    lua_setfield(L, -2, "kill");
    lua_setfield(L, -2, "thread");

    /* the coroutine library's functions, each keeping the original as an upvalue */
    lua_getglobal(L, "coroutine");
    static const struct {
        const char *name;
        lua_CFunction fn;
    } repl[] = {{"create", co_create},
                {"resume", co_resume},
                {"yield", co_yield },
                {"status", co_status},
                {"running", co_running}};
    for (size_t i = 0; i < mg_nelems(repl); i++) {
        lua_getfield(L, -1, repl[i].name);
        lua_pushcclosure(L, repl[i].fn, 1);
        lua_setfield(L, -2, repl[i].name);
    }
    lua_getfield(L, -1, "wrap");
    if (luaL_loadbuffer(L, wrap_code, sizeof(wrap_code) - 1, "=coroutine.wrap") == 0) {
        lua_getfield(L, -3, "create");
        lua_getfield(L, -4, "resume");
        lua_getfield(L, -5, "status");
        lua_getglobal(L, "error");
        lua_call(L, 4, 1);
        lua_pushcclosure(L, co_wrap, 2);
        lua_setfield(L, -2, "wrap");
    } else {
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
}
