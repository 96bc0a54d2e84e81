/*
 * require "ngx.semaphore" (lua-resty-core's API): new(n), sema:post(n), sema:wait(timeout),
 * sema:count(). A semaphore is what lua-resty-core's is to a user's code: a table { sem = ... }
 * whose metatable's __index is the module (type() "table", tostring "table: 0x...", sema.new
 * and sema.version there too); its sem is an FFI cdata pointer (type() "cdata", as
 * lua-resty-core's) to the state, malloc'ed here and freed by the cdata's ffi.gc finalizer, so the
 * light threads of a request and the requests and timers of a worker can share it (a module-level
 * variable). wait takes a resource at once when one is free and nobody waits before it, else
 * the coroutine waits in the semaphore's FIFO queue under its timeout; post adds resources and
 * wakes waiters from the event loop (never from inside post), in order. A coroutine that goes
 * away while waiting (its request ended, ngx.thread.kill) leaves the queue.
 */
#include "api.h"
#include "list.h"

/* Run with (the module, the weak table of the cdatas new() made); returns the cdata maker:
 * (pointer, finalizer) -> ffi.gc(ffi.cast(ct, pointer), finalizer), ct a pointer to an opaque
 * struct of moongate's own name. Where ffi.C finds the mg_lua_ffi_sema_* functions (not in a
 * program linked without its symbols exported: tools/docgen, an embedding) post, wait and
 * count become Lua functions calling them, as lua-resty-core's call its C functions: the JIT
 * compiles them into the caller's trace (with the JIT off when the module loads, the C methods
 * stay: interpreted, they cost less). What they cannot answer (a bad self or argument, a
 * phase that cannot wait, a wait that must yield) goes to the C method in a tail call, so its
 * error names the caller's line as before. */
static const char sema_lua[] =
    "local module, live = ...\n"
    "local ffi = require 'ffi'\n"
    "local C, cast, gc, type = ffi.C, ffi.cast, ffi.gc, type\n"
    "-- (declared again by a second load: package.loaded cleared; the FFI takes the same lines)\n"
    "ffi.cdef[[\n"
    "struct mg_lua_sema_s;\n"
    "int mg_lua_ffi_sema_wait(struct mg_lua_sema_s *sem, double secs);\n"
    "int mg_lua_ffi_sema_post(struct mg_lua_sema_s *sem, double n);\n"
    "double mg_lua_ffi_sema_count(const struct mg_lua_sema_s *sem);\n"
    "]]\n"
    "local ct = ffi.typeof('struct mg_lua_sema_s *')\n"
    "local function make(p, free) return gc(cast(ct, p), free) end\n"
    "local ok, sema_wait = pcall(function() return C.mg_lua_ffi_sema_wait end)\n"
    "if not ok then return make end\n"
    "-- interpreted, an FFI call costs more than a C function (t/bench/sema-instr.sh JIT=off)\n"
    "if not (jit and jit.status()) then return make end\n"
    "local sema_post, sema_count = C.mg_lua_ffi_sema_post, C.mg_lua_ffi_sema_count\n"
    "local cwait, cpost, ccount = module.wait, module.post, module.count\n"
    "-- self's state when self holds a cdata new() made, not finalized (NULL)\n"
    "local function state(self)\n"
    "    if type(self) == 'table' then\n"
    "        local sem = self.sem\n"
    "        if live[sem] and sem ~= nil then return sem end\n"
    "    end\n"
    "end\n"
    "module.wait = function(self, seconds)\n"
    "    local sem = state(self)\n"
    "    if sem and type(seconds) == 'number' then\n"
    "        local rc = sema_wait(sem, seconds)\n"
    "        if rc == 1 then return true elseif rc == 0 then return nil, 'timeout' end\n"
    "    end\n"
    "    return cwait(self, seconds)\n"
    "end\n"
    "module.post = function(self, n)\n"
    "    local sem = state(self)\n"
    "    if sem and (n == nil or type(n) == 'number') and sema_post(sem, n or 1) == 0 then\n"
    "        return true\n"
    "    end\n"
    "    return cpost(self, n)\n"
    "end\n"
    "module.count = function(self)\n"
    "    local sem = state(self)\n"
    "    if sem then return sema_count(sem) end\n"
    "    return ccount(self)\n"
    "end\n"
    "return make\n";

typedef struct mg_lua_sema_s sema_t;

typedef struct sema_wait_s {
    mg_lua_co_t *co;
    sema_t *sem;
    struct event tev; /* the timeout */
    struct sema_wait_s *next, **prevp;
} sema_wait_t;

struct mg_lua_sema_s {
    lua_Integer resources;
    lua_Integer waiting;
    sema_wait_t *head, **tail;
    struct event post_ev; /* wakes waiters from the loop after a post */
    lua_State *L;         /* the module's own thread of the VM, for the pin */
    int pin;              /* the cdata kept alive while post_ev is pending or anyone waits */
    unsigned post_set : 1, post_pending : 1;
};

/* The cdata at idx kept from collection while something of the semaphore is pending (a post's
 * event, a waiter): its user may drop every reference meanwhile (s.sem = nil) */
static void pin(sema_t *sem, lua_State *L, int idx)
{
    if (sem->pin == LUA_NOREF) {
        lua_pushvalue(L, idx);
        lua_xmove(L, sem->L, 1);
        sem->pin = luaL_ref(sem->L, LUA_REGISTRYINDEX);
    }
}

/* ... and released once nothing is (sem may be freed by then: the last thing done with it) */
static void unpin(sema_t *sem)
{
    if (sem->pin != LUA_NOREF && sem->head == NULL && !sem->post_pending) {
        int ref = sem->pin;
        sem->pin = LUA_NOREF;
        luaL_unref(sem->L, LUA_REGISTRYINDEX, ref);
    }
}

static void wait_unlink(sema_wait_t *w)
{
    sema_t *sem = w->sem;
    mg_queue_unlink(&sem->tail, w);
    sem->waiting--;
    evtimer_del(&w->tev);
    w->co->sema_wait = NULL;
}

void mg_lua_sema_cancel(mg_lua_co_t *co)
{
    sema_wait_t *w = co->sema_wait;
    if (w) {
        sema_t *sem = w->sem;
        wait_unlink(w);
        free(w);
        unpin(sem);
    }
}

/* post's wake-up: each waiter in order while resources last */
static void on_post(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sema_t *sem = arg;
    sem->post_pending = 0;
    while (sem->head && sem->resources > 0) {
        sema_wait_t *w = sem->head;
        mg_lua_co_t *co = w->co;
        sem->resources--;
        wait_unlink(w);
        free(w);
        mg_time_update();
        lua_pushboolean(co->L, 1);
        lua_pushnil(co->L); /* true, nil after a wait, as lua-resty-core's yield gives */
        mg_lua_resume_co(co, 2);
    }
    /* the resumed code may have posted again or waited: then the pin stays */
    unpin(sem);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sema_wait_t *w = arg;
    mg_lua_co_t *co = w->co;
    sema_t *sem = w->sem;
    wait_unlink(w);
    free(w);
    unpin(sem);
    mg_time_update();
    lua_pushboolean(co->L, 0); /* false after a wait, nil when it did not wait */
    lua_pushliteral(co->L, "timeout");
    mg_lua_resume_co(co, 2);
}

/* msg at the caller's line, as lua-resty-core's error(msg, 2) from its Lua function: level 1
 * is the C function's caller (none when that is pcall itself) */
static int raise_at_caller(lua_State *L, const char *msg)
{
    luaL_where(L, 1);
    lua_pushstring(L, msg);
    lua_concat(L, 2);
    return lua_error(L);
}

/* self's sema_t, its cdata pushed on the stack (*cd its index: the arguments are to be read
 * before, a missing one would be that slot): self is a table whose sem (the methods' upvalue 2, an
 * interned key) is a cdata new() made, one of the keys of the weak table of them (upvalue 1), so
 * another cdata, even of the same type, is not taken for one; its payload is the pointer (NULL once
 * finalized); else "not a semaphore instance" at the caller's line, as lua-resty-core's error(...,
 * 2) */
static sema_t *check_sema(lua_State *L, int *cd)
{
    sema_t *sem = NULL;
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_gettable(L, 1);
        *cd = lua_gettop(L);
        lua_pushvalue(L, *cd);
        lua_rawget(L, lua_upvalueindex(1));
        if (lua_toboolean(L, -1)) {
            sem = *(sema_t *const *)lua_topointer(L, *cd);
        }
        lua_pop(L, 1);
    }
    if (sem == NULL) {
        raise_at_caller(L, "not a semaphore instance");
    }
    return sem;
}

static int sema_gc(lua_State *L);

/* new(n?): a semaphore with n resources (0 by default); upvalues: the weak table of the
 * cdatas, an instance's metatable, the cdata maker (sema_lua's), the module's thread */
static int sema_new(lua_State *L)
{
    lua_Number n = lua_isnoneornil(L, 1) ? 0 : lua_tonumber(L, 1);
    if (n < 0) {
        return raise_at_caller(L, "no negative number");
    }
    lua_createtable(L, 0, 1);
    int self = lua_gettop(L);
    sema_t *sem = mg_calloc(sizeof(sema_t));
    lua_pushvalue(L, lua_upvalueindex(3));
    lua_pushlightuserdata(L, sem);
    lua_pushcfunction(L, sema_gc);
    lua_call(L, 2, 1);
    sem->resources = (lua_Integer)n;
    sem->tail = &sem->head;
    sem->pin = LUA_NOREF;
    sem->L = lua_tothread(L, lua_upvalueindex(4));
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, lua_upvalueindex(1));
    lua_setfield(L, self, "sem");
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_setmetatable(L, self);
    return 1;
}

/* n resources more; waiters wake from the loop. No pin here: the event is armed only while
 * someone waits, and a waiter's pin (wait) stays while the event is pending (unpin) */
static void post_add(sema_t *sem, lua_Integer n)
{
    sem->resources += n;
    if (sem->head && !sem->post_pending) {
        struct event_base *base = mg_lua_event_base();
        if (base) {
            if (!sem->post_set) {
                event_assign(&sem->post_ev, base, -1, 0, on_post, sem);
                sem->post_set = 1;
            }
            sem->post_pending = 1;
            event_active(&sem->post_ev, 0, 0);
        }
    }
}

/* sema:post(n?): n resources (1 by default) more */
static int sema_post(lua_State *L)
{
    /* the argument read before check_sema pushes onto the stack */
    lua_Number n = lua_isnoneornil(L, 2) ? 1 : lua_tonumber(L, 2);
    int cd;
    sema_t *sem = check_sema(L, &cd);
    if (n < 1) {
        return raise_at_caller(L, "positive number required");
    }
    post_add(sem, (lua_Integer)n);
    lua_pushboolean(L, 1);
    return 1;
}

/* wait's answer where it need not wait: 1 a resource taken (free, and nobody queues before),
 * 0 none and under a millisecond to wait ("timeout" at once), -1 the coroutine must wait */
static int try_take(sema_t *sem, lua_Number ms)
{
    if (sem->head == NULL && sem->resources > 0) {
        sem->resources--;
        return 1;
    }
    return ms < 1 ? 0 : -1;
}

/* sema:wait(timeout): true, or nil and "timeout" at once (or the phase's message where code
 * cannot wait, as lua-nginx-module answers); after waiting true, nil or false, "timeout" */
static int sema_wait(lua_State *L)
{
    if (mg_lua_probe) {
        mg_lua_check_phase(L, MG_LUA_YIELDABLE); /* docgen, before the instance check */
    }
    /* the argument read before check_sema pushes onto the stack */
    int is_number = lua_isnumber(L, 2);
    lua_Number secs = lua_tonumber(L, 2);
    int cd;
    sema_t *sem = check_sema(L, &cd);
    if (mg_lua_cur.r == NULL && mg_lua_cur.ctx == NULL &&
        !(mg_lua_cur.phase & MG_LUA_INIT_WORKER) && !(mg_lua_cur.phase & MG_LUA_EXIT_WORKER)) {
        if (mg_lua_probe) {
            return luaL_error(L, "docgen: request");
        }
        /* lua-resty-core's error at its own line (init_by_lua: no request, not even a fake) */
        return mg_lua_raise_from(L, "ngx.semaphore", 126, "no request found");
    }
    if (!is_number) {
        /* lua-resty-core's tonumber(seconds) * 1000 */
        return mg_lua_raise_from(L, "ngx.semaphore", 129,
                                 "attempt to perform arithmetic on a nil value");
    }
    lua_Number ms = secs * 1000;
    if (ms < 0) {
        return raise_at_caller(L, "no negative number");
    }
    if (!(mg_lua_cur.phase & MG_LUA_YIELDABLE) || mg_lua_cur.co == NULL) {
        const char *context = mg_lua_phase_context(mg_lua_cur.phase);
        lua_pushnil(L);
        lua_pushfstring(L, "API disabled in the context of %s", context ? context : "unknown");
        return 2;
    }
    int took = try_take(sem, ms);
    if (took == 1) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (took == 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "timeout");
        return 2;
    }
    mg_lua_co_t *co = mg_lua_cur.co;
    sema_wait_t *w = mg_calloc(sizeof(*w));
    w->co = co;
    w->sem = sem;
    pin(sem, L, cd);
    mg_queue_append(&sem->tail, w);
    sem->waiting++;
    co->sema_wait = w;
    evtimer_assign(&w->tev, mg_lua_event_base(), on_timeout, w);
    mg_msec_t msec = (mg_msec_t)ms;
    struct timeval tv = {(time_t)(msec / 1000), (suseconds_t)(msec % 1000) * 1000};
    evtimer_add(&w->tev, &tv);
    return mg_lua_wait(L, mg_lua_cur.ctx);
}

/* sema:count(): resources free minus coroutines waiting */
static int sema_count(lua_State *L)
{
    int cd;
    sema_t *sem = check_sema(L, &cd);
    lua_pushinteger(L, sem->resources - sem->waiting);
    return 1;
}

/* The FFI entry points the module's Lua methods call (sema_lua): the JIT compiles those calls
 * into the caller's trace, where a C method ends it. sem is a cdata new() made (a key of the
 * weak table, the Lua side checks) whose payload is not NULL. Each answers what it can
 * without a lua_State; -1 sends the Lua side to the C method, which raises (a bad argument, no
 * request), answers the phase's message or waits. */
int mg_lua_ffi_sema_wait(sema_t *sem, double secs);
int mg_lua_ffi_sema_post(sema_t *sem, double n);
double mg_lua_ffi_sema_count(const sema_t *sem);

/* 1 (true), 0 (nil, "timeout") or -1, as try_take, where the C method would get that far */
int mg_lua_ffi_sema_wait(sema_t *sem, double secs)
{
    if (sem == NULL || mg_lua_probe || !(secs >= 0) ||
        (mg_lua_cur.r == NULL && mg_lua_cur.ctx == NULL) ||
        !(mg_lua_cur.phase & MG_LUA_YIELDABLE) || mg_lua_cur.co == NULL) {
        return -1;
    }
    return try_take(sem, secs * 1000);
}

/* 0 (true) with n resources more, or -1 for an n under 1 (or NaN) */
int mg_lua_ffi_sema_post(sema_t *sem, double n)
{
    if (sem == NULL || !(n >= 1)) {
        return -1;
    }
    post_add(sem, (lua_Integer)n);
    return 0;
}

/* a double: a Lua number, where an int64_t would be a boxed cdata */
double mg_lua_ffi_sema_count(const sema_t *sem)
{
    return (double)(sem->resources - sem->waiting);
}

/* The cdata's finalizer (ffi.gc): the pin keeps a semaphore with waiters or a pending post
 * alive, so here none is left but at lua_close; the payload is cleared so that a cdata
 * resurrected by another finalizer is no longer taken for a semaphore */
static int sema_gc(lua_State *L)
{
    sema_t **p = (sema_t **)lua_topointer(L, 1);
    sema_t *sem = p ? *p : NULL;
    if (sem == NULL) {
        return 0;
    }
    *p = NULL;
    if (sem->post_pending) {
        event_del(&sem->post_ev);
    }
    while (sem->head) {
        sema_wait_t *w = sem->head;
        wait_unlink(w);
        free(w);
    }
    free(sem);
    return 0;
}

static char pin_thread_key; /* its address: the registry's key of the pins' thread */

/* the module: the methods and new share the weak-keyed table of the cdatas new() made as an
 * upvalue (the methods the key "sem" too); an instance's metatable has the module as its
 * __index, as lua-resty-core's */
static int open_semaphore(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"post", sema_post},
        {"wait", sema_wait},
        {"count", sema_count},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    int live = lua_gettop(L);
    lua_createtable(L, 0, 5);
    int module = lua_gettop(L);
    for (const luaL_Reg *m = methods; m->name; m++) {
        lua_pushvalue(L, live);
        lua_pushliteral(L, "sem");
        lua_pushcclosure(L, m->func, 2);
        lua_setfield(L, module, m->name);
    }
    lua_pushliteral(L, "0.1.25");
    lua_setfield(L, module, "version");
    lua_pushvalue(L, live);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, module);
    lua_setfield(L, -2, "__index");
    if (luaL_loadbuffer(L, sema_lua, sizeof(sema_lua) - 1, "=ngx.semaphore") != 0) {
        return lua_error(L);
    }
    lua_pushvalue(L, module);
    lua_pushvalue(L, live);
    lua_call(L, 2, 1);
    /* the pins' registry refs are made and dropped through a thread of the module's own,
     * alive as long as the VM (a coroutine that posted may be gone by then): one per VM,
     * found again when the module loads again (each request under lua_code_cache off) */
    lua_pushlightuserdata(L, &pin_thread_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (!lua_isthread(L, -1)) {
        lua_pop(L, 1);
        lua_newthread(L);
        lua_pushlightuserdata(L, &pin_thread_key);
        lua_pushvalue(L, -2);
        lua_rawset(L, LUA_REGISTRYINDEX);
    }
    lua_pushcclosure(L, sema_new, 4);
    lua_setfield(L, module, "new");
    return 1;
}

void mg_lua_semaphore_preload(lua_State *L)
{
    mg_lua_preload(L, "ngx.semaphore", open_semaphore);
}
