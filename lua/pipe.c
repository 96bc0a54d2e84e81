/*
 * require "ngx.pipe" (lua-resty-core's API): spawn(args, opts) starts a process with its
 * stdin, stdout and stderr on non-blocking pipes, and the process object's reads, writes and
 * wait yield the calling coroutine to the event loop until their fd is ready, the child exits
 * (a pidfd, or a short poll where there is none) or their timeout passes: the worker never
 * blocks. A missing program is nil and "execvp failed: ..." from spawn (the child reports
 * its exec's errno through a close-on-exec pipe). One reader per stream, one writer and one
 * waiter at a time ("pipe busy ..."); a coroutine that goes away while it waits (its request
 * ended) stops waiting. A process object collected while its process runs kills it (SIGKILL)
 * and reaps it.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "list.h"

#define PROC_MT "ngx.pipe.proc"

enum { RD_LINE, RD_ALL, RD_BYTES, RD_ANY };
enum { S_STDIN, S_STDOUT, S_STDERR };

typedef struct proc_s proc_t;

/* a stream's state, and the coroutine waiting on it */
typedef struct mg_lua_pipe_op_s {
    proc_t *proc;
    int fd;    /* -1: closed (shut down) */
    int which; /* S_* */
    struct event ev, tev;
    unsigned ev_set : 1, eof : 1, merged : 1;
    mg_lua_co_t *co; /* waiting, or NULL */
    int mode;        /* RD_* */
    size_t want;
    char *buf; /* read but not yet returned */
    size_t len, cap;
    const char *wdata; /* a write's rest */
    size_t wlen, wdone;
    int wref; /* the data's string, pinned while written */
} pipe_op_t;

/* the exit, watched by a pidfd (or polled) */
typedef struct reaper_s {
    proc_t *proc; /* NULL once the object was collected: reap and free */
    pid_t pid;
    int pidfd;
    struct event ev, tev;
    unsigned ev_set : 1;
    pipe_op_t wop; /* wait()'s coroutine (wop.co) and timeout; fd unused */
    /* in its VM's orphans once proc is NULL and the process not yet reaped */
    struct reaper_s *next, **prevp;
} reaper_t;

struct proc_s {
    pid_t pid;
    pipe_op_t s[3];
    reaper_t *reaper;
    size_t buffer_size;
    mg_msec_t timeout[4]; /* write, stdout, stderr, wait */
    int status;
    unsigned exited : 1, waited : 1;
    unsigned detached : 1; /* the worker exits: no events any more (mg_lua_pipe_exit_worker) */
    struct mg_lua_pipes_s *list; /* its VM's, or NULL */
    proc_t *next, **prevp;
};

/* A VM's live processes and orphaned reapers (lmcf->pipes): a worker that exits ends them while
 * its event loop still exists, not at lua_close, which comes after the loop is freed. */
struct mg_lua_pipes_s {
    proc_t *procs;
    reaper_t *orphans;
};

static void op_stop(pipe_op_t *op)
{
    if (op->ev_set) {
        event_del(&op->ev);
    }
    evtimer_del(&op->tev);
    if (op->co) {
        op->co->pipe_op = NULL;
        op->co = NULL;
    }
}

void mg_lua_pipe_cancel(mg_lua_co_t *co)
{
    pipe_op_t *op = co->pipe_op;
    if (op) {
        op_stop(op);
        if (op->wref != LUA_NOREF) {
            luaL_unref(co->L, LUA_REGISTRYINDEX, op->wref);
            op->wref = LUA_NOREF;
        }
    }
}

static void timer_add(struct event *ev, mg_msec_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

/* ---- the exit ---- */

static int reap(reaper_t *rp)
{
    int st;
    pid_t p = waitpid(rp->pid, &st, WNOHANG);
    if (p == 0) {
        return 0;
    }
    if (rp->proc) {
        rp->proc->exited = 1;
        rp->proc->status = p < 0 ? 0 : st;
    }
    return 1;
}

static void reaper_free(reaper_t *rp)
{
    mg_list_unlink(rp);
    if (rp->ev_set) {
        event_del(&rp->ev);
    }
    evtimer_del(&rp->tev);
    evtimer_del(&rp->wop.tev);
    if (rp->pidfd >= 0) {
        close(rp->pidfd);
    }
    free(rp);
}

static int push_exit(lua_State *L, proc_t *p)
{
    p->waited = 1;
    if (WIFSIGNALED(p->status)) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "signal");
        lua_pushinteger(L, WTERMSIG(p->status));
    } else {
        lua_pushboolean(L, WEXITSTATUS(p->status) == 0);
        lua_pushliteral(L, "exit");
        lua_pushinteger(L, WEXITSTATUS(p->status));
    }
    return 3;
}

static void on_exit_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reaper_t *rp = arg;
    if (!reap(rp)) {
        if (rp->pidfd < 0) {
            timer_add(&rp->tev, 20); /* no pidfd: poll */
        }
        return;
    }
    if (rp->proc == NULL) {
        reaper_free(rp);
        return;
    }
    if (rp->ev_set) {
        event_del(&rp->ev);
    }
    mg_lua_co_t *co = rp->wop.co;
    if (co) {
        rp->wop.co = NULL;
        co->pipe_op = NULL;
        evtimer_del(&rp->wop.tev);
        mg_time_update();
        mg_lua_resume_co(co, push_exit(co->L, rp->proc));
    }
}

static void on_wait_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reaper_t *rp = arg;
    mg_lua_co_t *co = rp->wop.co;
    if (co == NULL) {
        return;
    }
    rp->wop.co = NULL;
    co->pipe_op = NULL;
    lua_pushnil(co->L);
    lua_pushliteral(co->L, "timeout");
    mg_lua_resume_co(co, 2);
}

static void reaper_watch(reaper_t *rp)
{
    struct event_base *base = mg_lua_event_base();
    if (rp->pidfd >= 0) {
        event_assign(&rp->ev, base, rp->pidfd, EV_READ | EV_PERSIST, on_exit_event, rp);
        rp->ev_set = 1;
        event_add(&rp->ev, NULL);
    } else {
        timer_add(&rp->tev, 20);
    }
}

/* ---- reads ---- */

static void buf_take(pipe_op_t *op, size_t n)
{
    memmove(op->buf, op->buf + n, op->len - n);
    op->len -= n;
}

/* What the read can answer now, pushed on L (its count), or 0 to wait. */
static int read_result(lua_State *L, pipe_op_t *op)
{
    switch (op->mode) {
    case RD_LINE: {
        char *nl = op->len ? memchr(op->buf, '\n', op->len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - op->buf);
            lua_pushlstring(L, op->buf, n);
            buf_take(op, n + 1);
            return 1;
        }
        break;
    }
    case RD_ALL:
        if (op->eof) {
            lua_pushlstring(L, op->buf ? op->buf : "", op->len);
            op->len = 0;
            return 1;
        }
        return 0;
    case RD_BYTES:
        if (op->len >= op->want) {
            lua_pushlstring(L, op->buf ? op->buf : "", op->want);
            buf_take(op, op->want);
            return 1;
        }
        break;
    case RD_ANY:
        if (op->len) {
            size_t n = op->len < op->want ? op->len : op->want;
            lua_pushlstring(L, op->buf, n);
            buf_take(op, n);
            return 1;
        }
        break;
    }
    if (!op->eof) {
        return 0;
    }
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    if (op->mode == RD_ANY) {
        return 2;
    }
    lua_pushlstring(L, op->buf ? op->buf : "", op->len);
    op->len = 0;
    return 3;
}

/* read what the pipe has; pushes the answer on L (count) or 0 to wait; -1 with errno */
static int read_some(lua_State *L, pipe_op_t *op)
{
    for (;;) {
        int n = read_result(L, op);
        if (n) {
            return n;
        }
        size_t room = op->proc->buffer_size;
        if (op->cap - op->len < room) {
            op->cap = op->len + room;
            op->buf = mg_realloc(op->buf, op->cap);
        }
        ssize_t got = read(op->fd, op->buf + op->len, room);
        if (got > 0) {
            op->len += (size_t)got;
            continue;
        }
        if (got == 0) {
            op->eof = 1;
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN) {
            return 0;
        }
        return -1;
    }
}

static void op_error(lua_State *L, int err)
{
    lua_pushnil(L);
    lua_pushstring(L, strerror(err));
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    pipe_op_t *op = arg;
    mg_lua_co_t *co = op->co;
    if (co == NULL) {
        return;
    }
    int n;
    if (what & EV_TIMEOUT) {
        lua_pushnil(co->L);
        lua_pushliteral(co->L, "timeout");
        lua_pushlstring(co->L, op->buf ? op->buf : "", op->len);
        op->len = 0;
        n = 3;
    } else {
        n = read_some(co->L, op);
        if (n == 0) {
            return; /* the event stays */
        }
        if (n < 0) {
            op_error(co->L, errno);
            n = 2;
        }
    }
    op_stop(op);
    mg_time_update();
    mg_lua_resume_co(co, n);
}

static proc_t *check_proc(lua_State *L)
{
    proc_t *p = lua_touserdata(L, 1);
    int ok = p && lua_getmetatable(L, 1);
    if (ok) {
        luaL_getmetatable(L, PROC_MT);
        ok = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    if (!ok) {
        luaL_where(L, 2);
        lua_pushliteral(L, "not a process instance");
        lua_concat(L, 2);
        lua_error(L);
    }
    return p;
}

/* wait on op's fd (EV_READ or EV_WRITE) under ms, resumed by cb */
static int op_wait(lua_State *L, pipe_op_t *op, short what, event_callback_fn cb, mg_msec_t ms)
{
    struct event_base *base = mg_lua_event_base();
    if (!op->ev_set) {
        event_assign(&op->ev, base, op->fd, what | EV_PERSIST, cb, op);
        op->ev_set = 1;
    }
    event_add(&op->ev, NULL);
    evtimer_assign(&op->tev, base, cb, op);
    if (ms) {
        timer_add(&op->tev, ms);
    }
    op->co = mg_lua_cur.co;
    op->co->pipe_op = op;
    return mg_lua_wait(L, mg_lua_cur.ctx);
}

static int do_read(lua_State *L, int which, int mode)
{
    proc_t *p = check_proc(L);
    mg_lua_check_phase(L, MG_LUA_YIELDABLE);
    pipe_op_t *op = &p->s[which];
    size_t want = 0;
    if (mode == RD_BYTES || mode == RD_ANY) {
        lua_Integer n = luaL_checkinteger(L, 2);
        if (n <= 0 && mode == RD_ANY) {
            luaL_where(L, 1);
            lua_pushliteral(L, "bad max argument");
            lua_concat(L, 2);
            return lua_error(L);
        }
        if (n < 0) {
            luaL_where(L, 1);
            lua_pushliteral(L, "bad len argument");
            lua_concat(L, 2);
            return lua_error(L);
        }
        if (n == 0) {
            lua_pushliteral(L, "");
            return 1;
        }
        want = (size_t)n;
    }
    if (op->merged) {
        lua_pushnil(L);
        lua_pushliteral(L, "merged to stdout");
        return 2;
    }
    if (op->fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (op->co) {
        lua_pushnil(L);
        lua_pushliteral(L, "pipe busy reading");
        return 2;
    }
    op->mode = mode;
    op->want = want;
    int n = read_some(L, op);
    if (n > 0) {
        return n;
    }
    if (n < 0) {
        op_error(L, errno);
        return 2;
    }
    return op_wait(L, op, EV_READ, on_read, p->timeout[which]);
}

static int proc_stdout_read_line(lua_State *L)
{
    return do_read(L, S_STDOUT, RD_LINE);
}
static int proc_stdout_read_all(lua_State *L)
{
    return do_read(L, S_STDOUT, RD_ALL);
}
static int proc_stdout_read_bytes(lua_State *L)
{
    return do_read(L, S_STDOUT, RD_BYTES);
}
static int proc_stdout_read_any(lua_State *L)
{
    return do_read(L, S_STDOUT, RD_ANY);
}
static int proc_stderr_read_line(lua_State *L)
{
    return do_read(L, S_STDERR, RD_LINE);
}
static int proc_stderr_read_all(lua_State *L)
{
    return do_read(L, S_STDERR, RD_ALL);
}
static int proc_stderr_read_bytes(lua_State *L)
{
    return do_read(L, S_STDERR, RD_BYTES);
}
static int proc_stderr_read_any(lua_State *L)
{
    return do_read(L, S_STDERR, RD_ANY);
}

/* ---- write ---- */

/* write what is left; 1 when all went, 0 to wait, -1 with errno */
static int write_some(pipe_op_t *op)
{
    while (op->wdone < op->wlen) {
        ssize_t n = write(op->fd, op->wdata + op->wdone, op->wlen - op->wdone);
        if (n > 0) {
            op->wdone += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return n < 0 && errno == EAGAIN ? 0 : -1;
    }
    return 1;
}

static int push_write_error(lua_State *L, int err)
{
    lua_pushnil(L);
    if (err == EPIPE) {
        lua_pushliteral(L, "closed");
    } else {
        lua_pushstring(L, strerror(err));
    }
    return 2;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    pipe_op_t *op = arg;
    mg_lua_co_t *co = op->co;
    if (co == NULL) {
        return;
    }
    int n;
    if (what & EV_TIMEOUT) {
        lua_pushnil(co->L);
        lua_pushliteral(co->L, "timeout");
        n = 2;
    } else {
        int rc = write_some(op);
        if (rc == 0) {
            return;
        }
        if (rc < 0) {
            n = push_write_error(co->L, errno);
        } else {
            lua_pushinteger(co->L, (lua_Integer)op->wlen);
            n = 1;
        }
    }
    luaL_unref(co->L, LUA_REGISTRYINDEX, op->wref);
    op->wref = LUA_NOREF;
    op_stop(op);
    mg_time_update();
    mg_lua_resume_co(co, n);
}

/* proc:write(data): the bytes written, once all went */
static int proc_write(lua_State *L)
{
    proc_t *p = check_proc(L);
    mg_lua_check_phase(L, MG_LUA_YIELDABLE);
    int t = lua_type(L, 2);
    if (t == LUA_TTABLE) {
        lua_getglobal(L, "table");
        lua_getfield(L, -1, "concat");
        lua_pushvalue(L, 2);
        lua_call(L, 1, 1);
        lua_replace(L, 2);
        lua_pop(L, 1);
    } else if (t == LUA_TNUMBER) {
        lua_tostring(L, 2);
    } else if (t != LUA_TSTRING) {
        return luaL_error(L, "bad data arg: string, number, or table expected, got %s",
                          luaL_typename(L, 2));
    }
    pipe_op_t *op = &p->s[S_STDIN];
    if (op->fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (op->co) {
        lua_pushnil(L);
        lua_pushliteral(L, "pipe busy writing");
        return 2;
    }
    op->wdata = lua_tolstring(L, 2, &op->wlen);
    op->wdone = 0;
    int rc = write_some(op);
    if (rc > 0) {
        lua_pushinteger(L, (lua_Integer)op->wlen);
        return 1;
    }
    if (rc < 0) {
        return push_write_error(L, errno);
    }
    lua_pushvalue(L, 2);
    op->wref = luaL_ref(L, LUA_REGISTRYINDEX);
    return op_wait(L, op, EV_WRITE, on_write, p->timeout[0]);
}

/* ---- shutdown, wait, kill, pid, set_timeouts ---- */

static void op_close(pipe_op_t *op)
{
    op_stop(op);
    if (op->fd >= 0) {
        close(op->fd);
        op->fd = -1;
    }
}

static int proc_shutdown(lua_State *L)
{
    proc_t *p = check_proc(L);
    const char *d = luaL_optstring(L, 2, "");
    int which = strcmp(d, "stdin") == 0    ? S_STDIN
                : strcmp(d, "stdout") == 0 ? S_STDOUT
                : strcmp(d, "stderr") == 0 ? S_STDERR
                                           : -1;
    if (which < 0) {
        return luaL_error(L, "bad shutdown arg: %s", d);
    }
    pipe_op_t *op = &p->s[which];
    if (op->merged) {
        lua_pushnil(L);
        lua_pushliteral(L, "merged to stdout");
        return 2;
    }
    if (op->fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (op->co) {
        lua_pushnil(L);
        lua_pushstring(L, which == S_STDIN ? "pipe busy writing" : "pipe busy reading");
        return 2;
    }
    op_close(op);
    lua_pushboolean(L, 1);
    return 1;
}

/* proc:wait(): ok, "exit"|"signal", code; nil and "exited" the second time */
static int proc_wait(lua_State *L)
{
    proc_t *p = check_proc(L);
    mg_lua_check_phase(L, MG_LUA_YIELDABLE);
    if (p->waited) {
        lua_pushnil(L);
        lua_pushliteral(L, "exited");
        return 2;
    }
    reaper_t *rp = p->reaper;
    if (p->exited || reap(rp)) {
        return push_exit(L, p);
    }
    if (rp->wop.co) {
        lua_pushnil(L);
        lua_pushliteral(L, "pipe busy waiting");
        return 2;
    }
    if (p->timeout[3]) {
        timer_add(&rp->wop.tev, p->timeout[3]);
    }
    rp->wop.co = mg_lua_cur.co;
    rp->wop.co->pipe_op = &rp->wop;
    return mg_lua_wait(L, mg_lua_cur.ctx);
}

static int proc_kill(lua_State *L)
{
    proc_t *p = check_proc(L);
    if (lua_type(L, 2) != LUA_TNUMBER) {
        return luaL_error(L, "bad signal arg: number expected, got %s",
                          lua_isnil(L, 2) ? "nil" : luaL_typename(L, 2));
    }
    if (p->exited || reap(p->reaper)) {
        lua_pushnil(L);
        lua_pushliteral(L, "exited");
        return 2;
    }
    if (kill(p->pid, (int)lua_tointeger(L, 2)) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int proc_pid(lua_State *L)
{
    proc_t *p = check_proc(L);
    lua_pushinteger(L, p->pid);
    return 1;
}

static mg_msec_t timeout_opt(lua_State *L, int idx, mg_msec_t dflt, const char *what)
{
    if (lua_isnoneornil(L, idx)) {
        return dflt;
    }
    lua_Number v = lua_tonumber(L, idx);
    if (lua_type(L, idx) != LUA_TNUMBER || v < 0 || v > 0x7fffffff) {
        return luaL_error(L, "bad %s", what);
    }
    return (mg_msec_t)v;
}

/* proc:set_timeouts(write, stdout, stderr, wait) in ms (nil: unchanged; 0: no limit) */
static int proc_set_timeouts(lua_State *L)
{
    proc_t *p = check_proc(L);
    static const char *names[] = {"timeout value", "timeout value", "timeout value",
                                  "timeout value"};
    for (int i = 0; i < 4; i++) {
        p->timeout[i] = timeout_opt(L, i + 2, p->timeout[i], names[i]);
    }
    return 0;
}

static void proc_unlink(proc_t *p)
{
    mg_list_unlink(p);
}

/* The process object goes (collected, or its worker exits): its pipes closed, the process
 * killed unless it ended; a reaper left to collect the exit is kept in the VM's orphans. */
static void proc_end(proc_t *p)
{
    proc_unlink(p);
    for (int i = 0; i < 3; i++) {
        if (!p->s[i].merged) {
            op_close(&p->s[i]);
        }
        free(p->s[i].buf);
        p->s[i].buf = NULL;
    }
    reaper_t *rp = p->reaper;
    p->reaper = NULL;
    if (rp == NULL) {
        return;
    }
    evtimer_del(&rp->wop.tev);
    rp->proc = NULL;
    if (p->exited || reap(rp)) {
        reaper_free(rp);
        return;
    }
    /* a process nobody waits for any more: killed, and reaped from the loop */
    kill(p->pid, SIGKILL);
    if (p->list) {
        mg_list_push(&p->list->orphans, rp);
    }
}

static int proc_gc(lua_State *L)
{
    proc_t *p = lua_touserdata(L, 1);
    if (!p->detached) {
        proc_end(p);
    }
    return 0;
}

void mg_lua_pipe_exit_worker(mg_lua_main_conf_t *lmcf)
{
    struct mg_lua_pipes_s *pl = lmcf->pipes;
    if (pl == NULL) {
        return;
    }
    lua_gc(lmcf->L, LUA_GCCOLLECT, 0); /* objects nothing refers to: collected now */
    while (pl->procs) {
        proc_t *p = pl->procs;
        proc_end(p);
        p->detached = 1; /* still referenced: its collection at lua_close touches nothing */
    }
    while (pl->orphans) {
        reaper_t *rp = pl->orphans;
        reap(rp); /* a killed process is gone by now, or init reaps it after this worker */
        reaper_free(rp);
    }
    free(pl);
    lmcf->pipes = NULL;
}

static int set_nonblock(int fd)
{
    return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int pipe_spawn(lua_State *L)
{
    if (mg_lua_probe) {
        mg_lua_check_phase(L, ~(unsigned)MG_LUA_INIT); /* docgen: never fork */
    }
    if ((mg_lua_cur.phase & MG_LUA_INIT) || mg_lua_event_base() == NULL) {
        return luaL_error(L, "API disabled in the current context");
    }
    int nargs = 0;
    const char **argv;
    int t = lua_type(L, 1);
    if (t == LUA_TTABLE) {
        nargs = (int)lua_objlen(L, 1);
        if (nargs == 0) {
            return luaL_error(L, "bad args arg: non-empty table expected");
        }
        argv = lua_newuserdata(L, sizeof(char *) * (size_t)(nargs + 1));
        for (int i = 0; i < nargs; i++) {
            lua_rawgeti(L, 1, i + 1);
            if (!lua_isstring(L, -1)) {
                lua_getglobal(L, "tostring");
                lua_insert(L, -2);
                lua_call(L, 1, 1);
            }
            argv[i] = lua_tostring(L, -1);
            lua_rawseti(L, 1, i + 1); /* keeps the string, as lua-resty-core does */
        }
        argv[nargs] = NULL;
    } else if (t == LUA_TSTRING) {
        argv = lua_newuserdata(L, sizeof(char *) * 4);
        argv[0] = "/bin/sh";
        argv[1] = "-c";
        argv[2] = lua_tostring(L, 1);
        argv[3] = NULL;
    } else {
        return luaL_error(L, "bad args arg: table expected, got %s", luaL_typename(L, 1));
    }
    int merge = 0;
    size_t bufsize = 4096;
    mg_msec_t timeouts[4] = {10000, 10000, 10000, 10000};
    const char **envp = NULL;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "merge_stderr");
        merge = lua_toboolean(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, 2, "buffer_size");
        if (!lua_isnil(L, -1)) {
            lua_Number b = lua_tonumber(L, -1);
            if (b < 1) {
                return luaL_error(L, "bad buffer_size option");
            }
            bufsize = (size_t)b;
        }
        lua_pop(L, 1);
        static const char *topts[] = {"write_timeout", "stdout_read_timeout", "stderr_read_timeout",
                                      "wait_timeout"};
        for (int i = 0; i < 4; i++) {
            lua_getfield(L, 2, topts[i]);
            char what[64];
            snprintf(what, sizeof(what), "%s option", topts[i]);
            timeouts[i] = timeout_opt(L, -1, timeouts[i], what);
            lua_pop(L, 1);
        }
        lua_getfield(L, 2, "environ");
        if (!lua_isnil(L, -1)) {
            if (!lua_istable(L, -1)) {
                return luaL_error(L, "bad environ option: table expected, got %s",
                                  luaL_typename(L, -1));
            }
            int env = lua_gettop(L);
            int nenv = (int)lua_objlen(L, env);
            envp = lua_newuserdata(L, sizeof(char *) * (size_t)(nenv + 1));
            for (int i = 0; i < nenv; i++) {
                lua_rawgeti(L, env, i + 1);
                if (lua_type(L, -1) != LUA_TSTRING) {
                    return luaL_error(L,
                                      "bad value at index %d of environ option: string expected, "
                                      "got %s",
                                      i + 1, luaL_typename(L, -1));
                }
                const char *e = lua_tostring(L, -1);
                if (e[0] == '\0' || strchr(e + 1, '=') == NULL) {
                    return luaL_error(L,
                                      "bad value at index %d of environ option: 'name=[value]' "
                                      "format expected, got '%s'",
                                      i + 1, e);
                }
                envp[i] = e;
                lua_pop(L, 1);
            }
            envp[nenv] = NULL;
        }
    }
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rep[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || (!merge && pipe2(err, O_CLOEXEC)) ||
        pipe2(rep, O_CLOEXEC)) {
        int e = errno;
        int fds[] = {in[0], in[1], out[0], out[1], err[0], err[1], rep[0], rep[1]};
        for (size_t i = 0; i < mg_nelems(fds); i++) {
            if (fds[i] >= 0) {
                close(fds[i]);
            }
        }
        lua_pushnil(L);
        lua_pushfstring(L, "pipe failed: %s", strerror(e));
        return 2;
    }
    const char *call = envp ? "execvpe" : "execvp";
    pid_t pid = fork();
    if (pid == 0) {
        /* the child: its pipes on 0, 1, 2; the signals a worker blocks unblocked */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; s < NSIG; s++) {
            signal(s, SIG_DFL);
        }
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(merge ? out[1] : err[1], 2);
        if (envp) {
            execvpe(argv[0], (char *const *)argv, (char *const *)envp);
        } else {
            execvp(argv[0], (char *const *)argv);
        }
        int e = errno;
        ssize_t w = write(rep[1], &e, sizeof(e));
        (void)w;
        _exit(127);
    }
    int e = errno;
    close(in[0]);
    close(out[1]);
    if (!merge) {
        close(err[1]);
    }
    close(rep[1]);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        if (!merge) {
            close(err[0]);
        }
        close(rep[0]);
        lua_pushnil(L);
        lua_pushfstring(L, "fork failed: %s", strerror(e));
        return 2;
    }
    /* the exec's verdict: EOF (exec'd, the pipe closed on exec) or its errno */
    int child_err = 0;
    ssize_t got;
    do {
        got = read(rep[0], &child_err, sizeof(child_err));
    } while (got < 0 && errno == EINTR);
    close(rep[0]);
    if (got == (ssize_t)sizeof(child_err)) {
        waitpid(pid, NULL, 0);
        close(in[1]);
        close(out[0]);
        if (!merge) {
            close(err[0]);
        }
        lua_pushnil(L);
        lua_pushfstring(L, "%s failed: %s", call, strerror(child_err));
        return 2;
    }
    proc_t *p = lua_newuserdata(L, sizeof(proc_t));
    memset(p, 0, sizeof(*p));
    mg_lua_main_conf_t *lmcf = mg_lua_cur.lmcf;
    if (lmcf) {
        if (lmcf->pipes == NULL) {
            lmcf->pipes = mg_calloc(sizeof(*lmcf->pipes));
        }
        p->list = lmcf->pipes;
        mg_list_push(&p->list->procs, p);
    }
    p->pid = pid;
    p->buffer_size = bufsize;
    memcpy(p->timeout, timeouts, sizeof(timeouts));
    int fds[3] = {in[1], out[0], merge ? -1 : err[0]};
    for (int i = 0; i < 3; i++) {
        pipe_op_t *op = &p->s[i];
        op->proc = p;
        op->which = i;
        op->fd = fds[i];
        op->merged = fds[i] < 0;
        op->wref = LUA_NOREF;
        evtimer_assign(&op->tev, mg_lua_event_base(), on_read, op);
        if (op->fd >= 0) {
            set_nonblock(op->fd);
        }
    }
    reaper_t *rp = mg_calloc(sizeof(*rp));
    rp->proc = p;
    rp->pid = pid;
    rp->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    rp->wop.wref = LUA_NOREF;
    rp->wop.fd = -1;
    evtimer_assign(&rp->wop.tev, mg_lua_event_base(), on_wait_timeout, rp);
    evtimer_assign(&rp->tev, mg_lua_event_base(), on_exit_event, rp);
    p->reaper = rp;
    reaper_watch(rp);
    luaL_getmetatable(L, PROC_MT);
    lua_setmetatable(L, -2);
    return 1;
}

static int open_pipe(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"pid", proc_pid},
        {"kill", proc_kill},
        {"set_timeouts", proc_set_timeouts},
        {"wait", proc_wait},
        {"shutdown", proc_shutdown},
        {"write", proc_write},
        {"stdout_read_line", proc_stdout_read_line},
        {"stdout_read_all", proc_stdout_read_all},
        {"stdout_read_bytes", proc_stdout_read_bytes},
        {"stdout_read_any", proc_stdout_read_any},
        {"stderr_read_line", proc_stderr_read_line},
        {"stderr_read_all", proc_stderr_read_all},
        {"stderr_read_bytes", proc_stderr_read_bytes},
        {"stderr_read_any", proc_stderr_read_any},
        {NULL, NULL},
    };
    if (luaL_newmetatable(L, PROC_MT)) {
        lua_newtable(L);
        luaL_register(L, NULL, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, proc_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, pipe_spawn);
    lua_setfield(L, -2, "spawn");
    lua_pushliteral(L, "0.1.25");
    lua_setfield(L, -2, "version");
    return 1;
}

void mg_lua_pipe_preload(lua_State *L)
{
    mg_lua_preload(L, "ngx.pipe", open_pipe);
}
