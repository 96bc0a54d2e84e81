/*
 * ngx.run_worker_thread(pool, module, func, ...): func of module runs in a thread of the
 * thread_pool named pool, in a Lua VM of its own, while the calling coroutine waits. The VMs
 * are the server's (srv->lua_vms: a worker's, or an embedded server's; at most
 * lua_worker_thread_vm_pool_size, kept with their loaded modules for the next call); arguments and
 * results cross as copies (nil, booleans, numbers, strings and tables of them), and the thread VM's
 * ngx table has only the pure string functions.
 */
#include <pthread.h>

#include "api.h"
#include "cycle.h"
#include "server.h"
#include "thread_pool.h"

#define WT_MAX_DEPTH 100

/* A copied Lua value; a table is n key/value pairs in kv[0..2n). */
typedef struct wt_val_s {
    int type;
    lua_Number num;
    char *str;
    size_t len;
    struct wt_val_s *kv;
    size_t n;
} wt_val_t;

struct mg_lua_worker_task_s {
    mg_thread_task_t task;
    mg_lua_co_t *co; /* NULL once the coroutine went: the results are dropped */
    char *path, *cpath, *module, *func;
    wt_val_t *vals; /* the arguments, then the results */
    int nvals;
    int ok;
    char *err;
    struct mg_lua_vms_s *vms; /* the calling server's */
};

/* A server's idle VMs; `total` counts those lent out too. */
struct mg_lua_vms_s {
    pthread_mutex_t lock;
    lua_State **idle;
    mg_int_t nidle, cap, total, max;
};

static void vms_free(struct mg_lua_vms_s *vms)
{
    pthread_mutex_lock(&vms->lock);
    int lent = vms->total != vms->nidle;
    for (mg_int_t i = 0; i < vms->nidle; i++) {
        lua_close(vms->idle[i]);
    }
    vms->total -= vms->nidle;
    vms->nidle = 0;
    pthread_mutex_unlock(&vms->lock);
    if (!lent) { /* one still lent (a thread of an older generation) keeps the struct alive */
        free(vms->idle);
        pthread_mutex_destroy(&vms->lock);
        free(vms);
    }
}

static struct mg_lua_vms_s *server_vms(mg_server_t *srv)
{
    if (srv->lua_vms == NULL) {
        srv->lua_vms = mg_calloc(sizeof(struct mg_lua_vms_s));
        pthread_mutex_init(&srv->lua_vms->lock, NULL);
        srv->lua_vms_free = vms_free;
    }
    return srv->lua_vms;
}

static void val_free(wt_val_t *v)
{
    free(v->str);
    for (size_t i = 0; i < 2 * v->n; i++) {
        val_free(&v->kv[i]);
    }
    free(v->kv);
}

/* The value at idx of L into v; NULL, or what makes it impossible. */
static const char *val_get(lua_State *L, int idx, wt_val_t *v, int depth)
{
    memset(v, 0, sizeof(*v));
    v->type = lua_type(L, idx);
    switch (v->type) {
    case LUA_TNIL:
        return NULL;
    case LUA_TBOOLEAN:
        v->num = lua_toboolean(L, idx);
        return NULL;
    case LUA_TNUMBER:
        v->num = lua_tonumber(L, idx);
        return NULL;
    case LUA_TSTRING: {
        const char *s = lua_tolstring(L, idx, &v->len);
        v->str = mg_alloc(v->len + 1);
        memcpy(v->str, s, v->len + 1);
        return NULL;
    }
    case LUA_TTABLE:
        break;
    default:
        return lua_typename(L, v->type);
    }
    if (depth >= WT_MAX_DEPTH) {
        return "table nested too deep";
    }
    if (idx < 0) {
        idx = lua_gettop(L) + idx + 1;
    }
    size_t cap = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (v->n == cap) {
            cap = cap ? 2 * cap : 8;
            v->kv = mg_realloc(v->kv, 2 * cap * sizeof(wt_val_t));
        }
        wt_val_t *kv = &v->kv[2 * v->n];
        const char *bad = val_get(L, -2, &kv[0], depth + 1);
        if (bad == NULL) {
            bad = val_get(L, -1, &kv[1], depth + 1);
            if (bad) {
                val_free(&kv[0]);
            }
        }
        if (bad) {
            lua_pop(L, 2);
            return bad;
        }
        v->n++;
        lua_pop(L, 1);
    }
    return NULL;
}

static void val_push(lua_State *L, const wt_val_t *v)
{
    switch (v->type) {
    case LUA_TBOOLEAN:
        lua_pushboolean(L, (int)v->num);
        break;
    case LUA_TNUMBER:
        lua_pushnumber(L, v->num);
        break;
    case LUA_TSTRING:
        lua_pushlstring(L, v->str, v->len);
        break;
    case LUA_TTABLE:
        lua_createtable(L, 0, (int)v->n);
        for (size_t i = 0; i < v->n; i++) {
            val_push(L, &v->kv[2 * i]);
            val_push(L, &v->kv[2 * i + 1]);
            lua_rawset(L, -3);
        }
        break;
    default:
        lua_pushnil(L);
    }
}

static void task_free(struct mg_lua_worker_task_s *t)
{
    for (int i = 0; i < t->nvals; i++) {
        val_free(&t->vals[i]);
    }
    free(t->vals);
    free(t->path);
    free(t->cpath);
    free(t->module);
    free(t->func);
    free(t->err);
    free(t);
}

static char *dup_str(const char *s, size_t len)
{
    char *p = mg_alloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static lua_State *vm_new(struct mg_lua_worker_task_s *t)
{
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        return NULL;
    }
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_pushstring(L, t->path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, t->cpath);
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
    lua_createtable(L, 0, 16);
    mg_lua_inject_string_api(L);
    lua_setglobal(L, "ngx");
    return L;
}

/* In a pool thread: touches only the task and the VM it borrows. */
static void wt_handler(mg_thread_task_t *task)
{
    struct mg_lua_worker_task_s *t = (struct mg_lua_worker_task_s *)task;
    struct mg_lua_vms_s *vms = t->vms;
    lua_State *L = NULL;
    int create = 0;
    pthread_mutex_lock(&vms->lock);
    if (vms->nidle) {
        L = vms->idle[--vms->nidle];
    } else if (vms->total < vms->max) {
        vms->total++;
        create = 1;
    }
    pthread_mutex_unlock(&vms->lock);
    if (create && (L = vm_new(t)) == NULL) {
        pthread_mutex_lock(&vms->lock);
        vms->total--;
        pthread_mutex_unlock(&vms->lock);
    }
    if (L == NULL) {
        t->err = dup_str("no available Lua vm", 19);
        return;
    }
    lua_settop(L, 0);
    lua_getglobal(L, "require");
    lua_pushstring(L, t->module);
    int rc = lua_pcall(L, 1, 1, 0);
    if (rc == 0) {
        lua_getfield(L, -1, t->func);
        if (lua_type(L, -1) != LUA_TFUNCTION) {
            lua_pushfstring(L, "no such function: %s.%s", t->module, t->func);
            rc = 1;
        } else {
            for (int i = 0; i < t->nvals; i++) {
                val_push(L, &t->vals[i]);
            }
            rc = lua_pcall(L, t->nvals, LUA_MULTRET, 0);
        }
    }
    for (int i = 0; i < t->nvals; i++) {
        val_free(&t->vals[i]);
    }
    t->nvals = 0;
    if (rc != 0) {
        size_t len;
        const char *m = lua_tolstring(L, -1, &len);
        t->err = m ? dup_str(m, len) : dup_str("unknown error", 13);
    } else {
        /* the results: above the module table */
        int first = 2, n = lua_gettop(L) - first + 1;
        free(t->vals);
        t->vals = mg_calloc((size_t)(n > 0 ? n : 1) * sizeof(wt_val_t));
        for (int i = 0; i < n; i++) {
            const char *bad = val_get(L, first + i, &t->vals[i], 0);
            t->nvals = i + 1;
            if (bad) {
                lua_pushfstring(L, "unsupported return value type: %s", bad);
                t->err = dup_str(lua_tostring(L, -1), strlen(lua_tostring(L, -1)));
                break;
            }
        }
        t->ok = t->err == NULL;
    }
    lua_settop(L, 0);
    pthread_mutex_lock(&vms->lock);
    if (vms->nidle == vms->cap) {
        vms->cap = vms->cap ? 2 * vms->cap : 8;
        vms->idle = mg_realloc(vms->idle, (size_t)vms->cap * sizeof(lua_State *));
    }
    vms->idle[vms->nidle++] = L;
    pthread_mutex_unlock(&vms->lock);
}

/* Back in the loop: the waiting coroutine gets true and the results, or false and why. */
static void wt_done(mg_thread_task_t *task)
{
    struct mg_lua_worker_task_s *t = (struct mg_lua_worker_task_s *)task;
    mg_lua_co_t *co = t->co;
    if (co == NULL) {
        task_free(t);
        return;
    }
    co->worker_task = NULL;
    lua_State *L = co->L;
    int n;
    if (t->ok) {
        lua_checkstack(L, t->nvals + 1);
        lua_pushboolean(L, 1);
        for (int i = 0; i < t->nvals; i++) {
            val_push(L, &t->vals[i]);
        }
        n = t->nvals + 1;
    } else {
        lua_pushboolean(L, 0);
        lua_pushstring(L, t->err ? t->err : "failed");
        n = 2;
    }
    task_free(t);
    mg_lua_resume_co(co, n);
}

void mg_lua_worker_thread_cancel(mg_lua_co_t *co)
{
    if (co->worker_task) {
        co->worker_task->co = NULL;
        co->worker_task = NULL;
    }
}

static int run_worker_thread(lua_State *L)
{
    mg_lua_check_phase(L, MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    mg_lua_co_t *co = mg_lua_cur.co;
    if (ctx == NULL || co == NULL || ctx->r == NULL) {
        return luaL_error(L, "no request ctx found");
    }
    if (lua_gettop(L) < 3) {
        return luaL_error(L, "expecting at least 3 arguments");
    }
    size_t plen, mlen, flen;
    const char *pool = luaL_checklstring(L, 1, &plen);
    const char *module = luaL_checklstring(L, 2, &mlen);
    const char *func = luaL_checklstring(L, 3, &flen);
    mg_request_t *r = ctx->r;
    mg_str_t name = {plen, (char *)pool};
    mg_thread_pool_t *tp = mg_thread_pool_find(r->connection->cycle, name);
    if (tp == NULL) {
        lua_pushboolean(L, 0);
        lua_pushfstring(L, "thread pool %s not found", pool);
        return 2;
    }
    int nargs = lua_gettop(L) - 3;
    struct mg_lua_worker_task_s *t = mg_calloc(sizeof(*t));
    t->vals = mg_calloc((size_t)(nargs > 0 ? nargs : 1) * sizeof(wt_val_t));
    for (int i = 0; i < nargs; i++) {
        const char *bad = val_get(L, 4 + i, &t->vals[i], 0);
        t->nvals = i + 1;
        if (bad) {
            task_free(t);
            return luaL_error(L, "unsupported argument type: %s", bad);
        }
    }
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_getfield(L, -2, "cpath");
    size_t len;
    const char *s = lua_tolstring(L, -2, &len);
    t->path = dup_str(s ? s : "", s ? len : 0);
    s = lua_tolstring(L, -1, &len);
    t->cpath = dup_str(s ? s : "", s ? len : 0);
    lua_pop(L, 3);
    t->module = dup_str(module, mlen);
    t->func = dup_str(func, flen);
    t->task.handler = wt_handler;
    t->task.done = wt_done;
    t->co = co;
    t->vms = server_vms(r->connection->server);
    pthread_mutex_lock(&t->vms->lock);
    t->vms->max = ctx->lmcf->worker_thread_vm_pool_size;
    pthread_mutex_unlock(&t->vms->lock);
    if (mg_thread_task_post(tp, &t->task, r->connection->server->base, &r->connection->log) !=
        MG_OK) {
        task_free(t);
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "failed to post the task");
        return 2;
    }
    co->worker_task = t;
    return mg_lua_wait(L, ctx);
}

void mg_lua_inject_worker_thread_api(lua_State *L)
{
    lua_pushcfunction(L, run_worker_thread);
    lua_setfield(L, -2, "run_worker_thread");
}
