/*
 * ngx.timer.at / ngx.timer.every and the counts: a timer is a libevent timer holding a Lua
 * table {callback, args...}; when it fires, the callback runs in a coroutine of its own with
 * no request (phase "timer"), so it may sleep and use cosockets. When the worker begins to
 * quit or drain (reload), every pending timer fires at once with premature = true, and the
 * worker waits for running timers before it exits (worker_shutdown_timeout bounds that).
 * Its code logs as OpenResty's fake connection does: a number of its own, the creating
 * request's error_log, ", context: ngx.timer" and the creator's client and server.
 */
#include <event2/event.h>
#include <math.h>

#include "api.h"
#include "list.h"
#include "server.h"
#include "stream.h"

typedef struct lua_timer_s lua_timer_t;

/* A VM's timers (one per generation in a worker). */
typedef struct mg_lua_timers_s {
    mg_lua_main_conf_t *lmcf;
    mg_server_t *srv;
    lua_timer_t *pending;    /* doubly linked, not yet fired */
    mg_uint_t npending;
    mg_uint_t nrunning;
    mg_server_hook_t quit;   /* fires the pending ones prematurely */
} timers_t;

struct lua_timer_s {
    timers_t *timers;
    struct event *ev;
    int fn_ref;              /* {callback, arg1, ..., n = count} in the registry */
    mg_msec_t delay;         /* every: the period */
    unsigned every : 1;
    unsigned premature : 1;
    mg_lua_ctx_t ctx;        /* while the callback runs */
    lua_timer_t *next, **prevp;
    /* the log its code writes to, as OpenResty's: the creating request's destination, its
     * lines saying ", context: ngx.timer" and the creator's client and server (a timer's
     * timers inherit them) */
    mg_log_t log;
    char client[MG_CONN_ADDR_TEXT_MAX];
    char server[128];
};

static void on_timer(evutil_socket_t fd, short what, void *arg);
static void timer_free(lua_timer_t *t);

static size_t log_handler(mg_log_t *log, char *buf, size_t len)
{
    lua_timer_t *t = log->data;
    char *p = mg_sprintf_end(buf, buf + len, ", context: ngx.timer");
    if (t->client[0]) {
        p = mg_sprintf_end(p, buf + len, ", client: %s", t->client);
    }
    if (t->server[0]) {
        p = mg_sprintf_end(p, buf + len, ", server: %s", t->server);
    }
    return (size_t)(p - buf);
}

/* What a new timer's log takes from where it was created (`from`: the timer creating it). */
static void inherit_log(lua_timer_t *t, const lua_timer_t *from)
{
    mg_request_t *r = mg_lua_cur.r;
    if (from) {
        t->log = from->log;
        memcpy(t->client, from->client, sizeof(t->client));
        memcpy(t->server, from->server, sizeof(t->server));
    } else if (r) {
        t->log = r->connection->log; /* (the location's error_log) */
        snprintf(t->client, sizeof(t->client), "%s", r->connection->addr_text);
        snprintf(t->server, sizeof(t->server), "%s",
                 r->connection->listening ? r->connection->listening->addr_text : "");
    } else if (mg_lua_cur.s) {
        mg_connection_t *c = mg_lua_cur.s->connection; /* a stream session's, likewise */
        t->log = c->log;
        snprintf(t->client, sizeof(t->client), "%s", c->addr_text);
        snprintf(t->server, sizeof(t->server), "%s", mg_lua_cur.s->addr->addr_text);
    } else {
        t->log = *t->timers->lmcf->cycle->log;
    }
    t->log.handler = log_handler;
    t->log.data = t;
    t->log.action = NULL;
}
static void timers_free(void *data)
{
    timers_t *ts = data;
    mg_server_hook_del(&ts->quit);
    free(ts);
}

static void unlink_pending(lua_timer_t *t)
{
    if (t->prevp) {
        mg_list_unlink(t);
        t->timers->npending--;
    }
}

static void fire_prematurely(mg_server_hook_t *hook)
{
    timers_t *ts = (timers_t *)((char *)hook - offsetof(timers_t, quit));
    if (ts->srv->single_quit) {
        /* nginx's single process quits without cancelling its timers: none runs (counted
         * first: the last one's release may free an old generation's ts) */
        for (mg_uint_t n = ts->npending; n > 0; n--) {
            lua_timer_t *t = ts->pending;
            unlink_pending(t);
            timer_free(t);
        }
        return;
    }
    while (ts->pending) {
        lua_timer_t *t = ts->pending;
        event_del(t->ev);
        t->premature = 1;
        on_timer(-1, 0, t);
    }
}

static timers_t *get_timers(lua_State *L, mg_lua_main_conf_t *lmcf)
{
    if (lmcf->timers) {
        return lmcf->timers;
    }
    mg_server_t *srv = lmcf->cycle->server;
    if (srv == NULL || srv->base == NULL) {
        luaL_error(L, "no event loop to run timers");
    }
    timers_t *ts = mg_calloc(sizeof(timers_t));
    ts->lmcf = lmcf;
    ts->srv = srv;
    ts->quit.handler = fire_prematurely;
    mg_server_hook_add(srv, &ts->quit);
    /* registered after the VM's own cleanup, so it runs before the VM is closed */
    mg_pool_cleanup_add(lmcf->cycle->pool, timers_free, ts);
    lmcf->timers = ts;
    return ts;
}

static void arm(lua_timer_t *t, mg_msec_t ms)
{
    timers_t *ts = t->timers;
    mg_list_push(&ts->pending, t);
    ts->npending++;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(t->ev, &tv);
}

static lua_timer_t *timer_new(timers_t *ts, int fn_ref, mg_msec_t delay, int every)
{
    lua_timer_t *t = mg_calloc(sizeof(lua_timer_t));
    t->timers = ts;
    t->fn_ref = fn_ref;
    t->ctx.ctx_ref = LUA_NOREF; /* timer_free unrefs it, run or not */
    t->delay = delay;
    t->every = every;
    t->ev = evtimer_new(ts->srv->base, on_timer, t);
    mg_server_hold(ts->srv, ts->lmcf->cycle);
    return t;
}

static void timer_free(lua_timer_t *t)
{
    timers_t *ts = t->timers;
    lua_State *L = ts->lmcf->L;
    luaL_unref(L, LUA_REGISTRYINDEX, t->fn_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, t->ctx.ctx_ref);
    if (t->ctx.lmcf) {
        mg_lua_socket_tcp_ctx_done(&t->ctx); /* its sockets stop waiting before the coroutines go */
        mg_lua_co_free_all(&t->ctx);
    }
    event_free(t->ev);
    mg_server_t *srv = ts->srv;
    mg_cycle_t *cycle = ts->lmcf->cycle;
    free(t);
    /* last: it may free the generation, the VM and ts with it */
    mg_server_release(srv, cycle);
}

static void timer_finished(mg_lua_ctx_t *ctx, int how)
{
    (void)how; /* errors were logged by the runner */
    lua_timer_t *t = ctx->owner;
    t->timers->nrunning--;
    timer_free(t);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    lua_timer_t *t = arg;
    timers_t *ts = t->timers;
    mg_lua_main_conf_t *lmcf = ts->lmcf;
    lua_State *L = lmcf->L;
    mg_time_update();
    unlink_pending(t);
    if (ts->nrunning >= (mg_uint_t)lmcf->max_running_timers) {
        mg_log_error(MG_LOG_ALERT, lmcf->cycle->log, 0, "%ld lua_max_running_timers are not enough",
                     (long)lmcf->max_running_timers);
        timer_free(t);
        return;
    }
    if (t->every && !t->premature) {
        /* the next run is scheduled as this one starts, as OpenResty does */
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->fn_ref);
        lua_timer_t *next = timer_new(ts, luaL_ref(L, LUA_REGISTRYINDEX), t->delay, 1);
        inherit_log(next, t);
        arm(next, t->delay);
    }
    mg_lua_ctx_t *ctx = &t->ctx;
    ctx->lmcf = lmcf;
    ctx->phase = MG_LUA_TIMER;
    ctx->ctx_ref = LUA_NOREF;
    ctx->co_map_ref = LUA_NOREF;
    ctx->finished = timer_finished;
    ctx->owner = t;
    /* OpenResty's fake connection takes a number ("*N") as it runs */
    t->log.connection = mg_conn_number(ts->srv, lmcf->cycle);
    ctx->log = &t->log;
    mg_lua_co_t *co = mg_lua_co_new(ctx, MG_LUA_KIND_ENTRY);
    lua_rawgeti(co->L, LUA_REGISTRYINDEX, t->fn_ref);
    int table = lua_gettop(co->L);
    lua_getfield(co->L, table, "n");
    int n = (int)lua_tointeger(co->L, -1);
    lua_pop(co->L, 1);
    lua_rawgeti(co->L, table, 1);
    lua_pushboolean(co->L, t->premature);
    for (int i = 2; i <= n; i++) {
        lua_rawgeti(co->L, table, i);
    }
    lua_remove(co->L, table);
    ts->nrunning++;
    int how = mg_lua_sched_run(co, n);
    if (how != MG_LUA_CO_WAIT) {
        timer_finished(ctx, how);
    }
}

static int create(lua_State *L, int every)
{
    /* as lua-nginx-module: the arguments before the request (init_by_lua has none) */
    int nargs = lua_gettop(L);
    if (nargs < 2) {
        return luaL_error(L, "expecting at least 2 arguments but got %d", nargs);
    }
    lua_Number delay = luaL_checknumber(L, 1);
    if (every && !(delay > 0)) {
        return luaL_error(L, "delay cannot be zero");
    }
    if (isnan(delay) || delay < 0) {
        delay = 0; /* OpenResty 0.10.23 runs it at once */
    }
    if (!lua_isfunction(L, 2) || lua_iscfunction(L, 2)) {
        luaL_argerror(L, 2, "Lua function expected"); /* as OpenResty: a C one neither */
    }
    mg_lua_check_phase_words(L,
                             MG_LUA_INIT_WORKER | MG_LUA_SET | MG_LUA_REWRITE | MG_LUA_ACCESS |
                                 MG_LUA_CONTENT | MG_LUA_HEADER_FILTER | MG_LUA_BODY_FILTER |
                                 MG_LUA_LOG | MG_LUA_TIMER | MG_LUA_SSL_CLIENT_HELLO |
                                 MG_LUA_SSL_CERT | MG_LUA_SSL_SESS_FETCH | MG_LUA_SSL_SESS_STORE |
                                 MG_LUA_BALANCER,
                             "no request");
    mg_lua_main_conf_t *lmcf = mg_lua_cur.lmcf;
    timers_t *ts = get_timers(L, lmcf);
    if (ts->srv->quitting) {
        lua_pushnil(L);
        lua_pushliteral(L, "process exiting");
        return 2;
    }
    if (ts->npending >= (mg_uint_t)lmcf->max_pending_timers) {
        lua_pushnil(L);
        lua_pushliteral(L, "too many pending timers");
        return 2;
    }
    /* {callback, args...} */
    lua_createtable(L, nargs - 1, 1);
    for (int i = 2; i <= nargs; i++) {
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, i - 1);
    }
    lua_pushinteger(L, nargs - 1);
    lua_setfield(L, -2, "n");
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    mg_msec_t ms = (mg_msec_t)(delay * 1000 + 0.5);
    lua_timer_t *t = timer_new(ts, ref, ms, every);
    mg_lua_ctx_t *cur = mg_lua_cur.ctx;
    inherit_log(t, cur && cur->phase == MG_LUA_TIMER ? cur->owner : NULL);
    arm(t, ms);
    lua_pushinteger(L, 1);
    return 1;
}

static int timer_at(lua_State *L)
{
    return create(L, 0);
}

static int timer_every(lua_State *L)
{
    return create(L, 1);
}

/* The counts need a request in lua-nginx-module, a fake one will do: in init_by_lua none. */
static int running_count(lua_State *L)
{
    mg_lua_check_phase_words(L, ~(unsigned)MG_LUA_INIT, "no request");
    timers_t *ts = mg_lua_cur.lmcf ? mg_lua_cur.lmcf->timers : NULL;
    lua_pushinteger(L, ts ? (lua_Integer)ts->nrunning : 0);
    return 1;
}

static int pending_count(lua_State *L)
{
    mg_lua_check_phase_words(L, ~(unsigned)MG_LUA_INIT, "no request");
    timers_t *ts = mg_lua_cur.lmcf ? mg_lua_cur.lmcf->timers : NULL;
    lua_pushinteger(L, ts ? (lua_Integer)ts->npending : 0);
    return 1;
}

void mg_lua_inject_timer_api(lua_State *L)
{
    lua_createtable(L, 0, 4);
    lua_pushcfunction(L, timer_at);
    lua_setfield(L, -2, "at");
    lua_pushcfunction(L, timer_every);
    lua_setfield(L, -2, "every");
    lua_pushcfunction(L, running_count);
    lua_setfield(L, -2, "running_count");
    lua_pushcfunction(L, pending_count);
    lua_setfield(L, -2, "pending_count");
    lua_setfield(L, -2, "timer");
}
