/*
 * stream-lua-nginx-module's interface in stream{}: preread_by_lua*, content_by_lua*,
 * log_by_lua*, init(_worker)_by_lua* and the lua_* settings, on a VM of stream{}'s own (as
 * OpenResty's stream subsystem has one apart from http's). A session's Lua context is the
 * runner's mg_lua_ctx_t with `s` set: its entries run in coroutine.c's scheduler, its
 * cosockets, timers, ngx.sleep and shared dicts (a lua_shared_dict of the same name as http's is
 * the same zone) are http's code; ngx.say/print/flush/eof, ngx.var and ngx.req.socket are the
 * stream's own, put in that VM in place of http's, and the http-only APIs are left out of it.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "socket_tcp.h"
#include "stream.h"

typedef struct udp_sock_s udp_sock_t;

/* A session's Lua state beside its mg_lua_ctx_t (ctx->owner). */
typedef struct {
    mg_lua_ctx_t *ctx;
    mg_stream_session_t *s;
    char *out; /* output not sent yet (malloc'ed) */
    size_t out_len, out_pos, out_cap;
    mg_lua_co_t *flush_co; /* in ngx.flush(true) */
    mg_lua_co_t *peek_co;  /* in sock:peek(n) */
    size_t peek_size;
    mg_uint_t status;       /* the session's end once the output is out */
    unsigned closing : 1;   /* content ended: finalize once the output is out */
    unsigned eof : 1;       /* ngx.eof: shut the write side once the output is out */
    unsigned out_error : 1; /* a send failed: output goes nowhere */
    unsigned consumed : 1;  /* the downstream was read from: no peek any more */
    unsigned socket : 1;    /* ngx.req.socket was given in this entry */
    unsigned preread_done : 1;
    udp_sock_t *udp_sock; /* the UDP downstream's Lua object, while both live */
    char *dgram;          /* UDP: the datagram being read (session pool, UDP_DGRAM_MAX) */
    size_t dgram_len, dgram_pos;
} sl_t;

#define UDP_DGRAM_MAX 65535

/* ngx.req.socket's object in a UDP session: its session's state until either goes. */
struct udp_sock_s {
    sl_t *st;
};

/* ---- the session's context ---- */

static void session_done(mg_stream_session_t *s);

/* (not ctx->owner: a balancer_by_lua waiting for the resolver holds it meanwhile) */
static void session_free(void *data)
{
    sl_t *st = data;
    mg_lua_ctx_t *ctx = st->ctx;
    mg_lua_socket_tcp_ctx_done(ctx); /* its sockets stop waiting before the coroutines go */
    if (st->udp_sock) {
        st->udp_sock->st = NULL;
        st->udp_sock = NULL;
    }
    luaL_unref(ctx->lmcf->L, LUA_REGISTRYINDEX, ctx->ctx_ref);
    ctx->ctx_ref = LUA_NOREF;
    mg_lua_co_free_all(ctx);
    free(st->out);
    st->out = NULL;
}

static void entry_finished(mg_lua_ctx_t *ctx, int how);

mg_lua_ctx_t *mg_lua_stream_ctx(mg_stream_session_t *s)
{
    mg_lua_ctx_t *ctx = s->ctx[mg_stream_lua_module.index];
    if (ctx) {
        return ctx;
    }
    ctx = mg_pcalloc(s->pool, sizeof(mg_lua_ctx_t));
    sl_t *st = mg_pcalloc(s->pool, sizeof(sl_t));
    st->ctx = ctx;
    st->s = s;
    ctx->s = s;
    ctx->lmcf = mg_stream_get_main_conf(s, mg_stream_lua_module);
    ctx->ctx_ref = LUA_NOREF;
    ctx->co_map_ref = LUA_NOREF;
    ctx->log = &s->connection->log;
    ctx->finished = entry_finished;
    ctx->owner = st;
    mg_pool_cleanup_add(s->pool, session_free, st);
    s->ctx[mg_stream_lua_module.index] = ctx;
    return ctx;
}

/* Run an entry (preread or content) in a new coroutine: how its coroutines stopped. */
static int run_entry(mg_lua_ctx_t *ctx, mg_lua_code_t *code, unsigned phase)
{
    mg_lua_loc_conf_t *llcf = mg_lua_ctx_conf(ctx);
    ctx->phase = phase;
    ctx->exited = 0;
    ctx->entry_done = 0;
    ((sl_t *)ctx->owner)->socket = 0; /* each phase's code may ask for the downstream */
    if (!llcf->code_cache) {
        mg_lua_forget_modules(ctx->lmcf->L);
    }
    mg_lua_co_t *co = mg_lua_co_new(ctx, MG_LUA_KIND_ENTRY);
    if (mg_lua_code_push(co->L, NULL, code, llcf->code_cache) != MG_OK) {
        return MG_LUA_CO_ERROR;
    }
    return mg_lua_sched_run(co, 0);
}

/* ngx.exit's code as a session status: stream-lua's ngx.OK ends a content as 200, ngx.ERROR
 * as 500; a status is the session's. */
static mg_uint_t exit_status(mg_int_t code)
{
    if (code == MG_OK || code == MG_DECLINED) {
        return 200;
    }
    if (code < 0 || code > 999) {
        return 500;
    }
    return (mg_uint_t)code;
}

/* ---- output: ngx.say/print/flush/eof write to the downstream ---- */

ssize_t mg_lua_stream_recv(mg_stream_session_t *s, char *buf, size_t size)
{
    mg_lua_ctx_t *ctx = s->ctx[mg_stream_lua_module.index];
    if (ctx) {
        ((sl_t *)ctx->owner)->consumed = 1;
    }
    ssize_t n;
    if (s->preread_len) {
        /* what sock:peek (or the PROXY protocol's read) took first */
        n = (ssize_t)mg_min(size, s->preread_len);
        memcpy(buf, s->preread, (size_t)n);
        memmove(s->preread, s->preread + n, s->preread_len - (size_t)n);
        s->preread_len -= (size_t)n;
        return n;
    }
    n = s->connection->recv(s->connection, buf, size);
    if (n > 0 && s->udp == NULL) { /* a UDP session's datagram counted as it began */
        s->received += n;
    }
    return n;
}

ssize_t mg_lua_stream_send(mg_stream_session_t *s, const char *buf, size_t len)
{
    ssize_t n = s->connection->send(s->connection, buf, len);
    if (n > 0) {
        s->sent += n;
    }
    return n;
}

/* Send what is queued: MG_OK (all out), MG_AGAIN (the write event is armed), MG_ERROR. */
static mg_int_t out_flush(sl_t *st)
{
    mg_connection_t *c = st->s->connection;
    if (st->out_error) {
        return MG_ERROR;
    }
    while (st->out_pos < st->out_len) {
        ssize_t n = mg_lua_stream_send(st->s, st->out + st->out_pos, st->out_len - st->out_pos);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            mg_lua_loc_conf_t *llcf = mg_lua_ctx_conf(st->ctx);
            mg_conn_write_on(c);
            mg_conn_timer_set(c, llcf->socket_send_timeout);
            return MG_AGAIN;
        }
        if (n <= 0) {
            mg_log_error(MG_LOG_INFO, &c->log, n < 0 ? errno : EPIPE, "send() failed");
            st->out_error = 1;
            st->out_pos = st->out_len = 0;
            mg_conn_timer_del(c);
            return MG_ERROR;
        }
        st->out_pos += (size_t)n;
    }
    st->out_pos = st->out_len = 0;
    mg_conn_timer_del(c);
    if (st->eof) {
        shutdown(c->fd, SHUT_WR);
    }
    return MG_OK;
}

/* The queue ran dry (or failed): whoever waits for it goes on. */
static void out_settled(sl_t *st, mg_int_t rc)
{
    if (st->flush_co) {
        mg_lua_co_t *co = st->flush_co;
        st->flush_co = NULL;
        if (rc == MG_OK) {
            lua_pushinteger(co->L, 1);
            mg_lua_resume_co(co, 1);
        } else {
            lua_pushnil(co->L);
            lua_pushstring(co->L, rc == MG_DONE ? "timeout" : "closed");
            mg_lua_resume_co(co, 2);
        }
        return;
    }
    if (st->closing) {
        mg_stream_finalize_session(st->s, st->status);
    }
}

static void out_write(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    sl_t *st = ((mg_lua_ctx_t *)s->ctx[mg_stream_lua_module.index])->owner;
    mg_int_t rc = out_flush(st);
    if (rc != MG_AGAIN) {
        out_settled(st, rc);
    }
}

static void out_timeout(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    sl_t *st = ((mg_lua_ctx_t *)s->ctx[mg_stream_lua_module.index])->owner;
    mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
    st->out_error = 1;
    st->out_pos = st->out_len = 0;
    mg_conn_write_off(c);
    out_settled(st, MG_DONE);
}

/* Append the value at idx (what ngx.print takes: strings, numbers, booleans, nil, ngx.null
 * and arrays of those) to b. */
static void out_arg(lua_State *L, luaL_Buffer *b, int idx, int argn, const char *fn, int depth)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: {
        size_t len;
        const char *p = lua_tolstring(L, idx, &len);
        luaL_addlstring(b, p, len);
        return;
    }
    case LUA_TNIL:
        luaL_addstring(b, "nil");
        return;
    case LUA_TBOOLEAN:
        luaL_addstring(b, lua_toboolean(L, idx) ? "true" : "false");
        return;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) {
            luaL_addstring(b, "null");
            return;
        }
        break;
    case LUA_TTABLE:
        if (depth < 100) {
            size_t n = lua_objlen(L, idx);
            for (size_t i = 1; i <= n; i++) {
                lua_rawgeti(L, idx, (int)i);
                /* the buffer may hold a piece on the stack: the element goes below it */
                out_arg(L, b, lua_gettop(L), argn, fn, depth + 1);
                lua_pop(L, 1);
            }
            return;
        }
        break;
    }
    luaL_error(L,
               "bad argument #%d to '%s' (string, number, boolean, nil, ngx.null, or array "
               "table expected, got %s)",
               argn, fn, luaL_typename(L, idx));
}

static int output(lua_State *L, int newline, const char *fn)
{
    mg_lua_check_phase(L, MG_LUA_CONTENT);
    mg_lua_session(L);
    sl_t *st = mg_lua_cur.ctx->owner;
    int n = lua_gettop(L);
    /* the pieces are gathered in a table first: a luaL_Buffer may not see the stack change */
    lua_createtable(L, n, 0);
    int t = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        luaL_Buffer b;
        lua_pushvalue(L, i);
        int v = lua_gettop(L);
        luaL_buffinit(L, &b);
        out_arg(L, &b, v, i, fn, 0);
        luaL_pushresult(&b);
        lua_rawseti(L, t, i);
        lua_settop(L, t);
    }
    if (st->out_error) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (st->eof) {
        lua_pushnil(L);
        lua_pushliteral(L, "seen eof");
        return 2;
    }
    for (int i = 1; i <= n + newline; i++) {
        size_t len = 1;
        const char *p = "\n";
        if (i <= n) {
            lua_rawgeti(L, t, i);
            p = lua_tolstring(L, -1, &len);
            lua_pop(L, 1); /* still referenced by t */
        }
        if (st->out_len + len > st->out_cap) {
            st->out_cap = mg_max(st->out_cap * 2, st->out_len + len + 1024);
            st->out = mg_realloc(st->out, st->out_cap);
        }
        memcpy(st->out + st->out_len, p, len);
        st->out_len += len;
    }
    if (out_flush(st) == MG_ERROR) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    lua_pushinteger(L, 1);
    return 1;
}

static int stream_say(lua_State *L)
{
    return output(L, 1, "say");
}

static int stream_print(lua_State *L)
{
    return output(L, 0, "print");
}

static int stream_flush(lua_State *L)
{
    mg_lua_check_phase(L, MG_LUA_CONTENT);
    mg_lua_session(L);
    int wait = lua_gettop(L) >= 1 && lua_toboolean(L, 1);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    sl_t *st = ctx->owner;
    if (st->out_error) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (!wait || st->out_len == 0) {
        lua_pushinteger(L, 1);
        return 1;
    }
    if (st->flush_co) {
        return luaL_error(L, "already waiting for ngx.flush(true)");
    }
    st->flush_co = mg_lua_cur.co;
    return mg_lua_wait(L, ctx);
}

static int stream_eof(lua_State *L)
{
    mg_lua_check_phase(L, MG_LUA_CONTENT);
    mg_lua_session(L);
    sl_t *st = mg_lua_cur.ctx->owner;
    if (lua_gettop(L) != 0) {
        return luaL_error(L, "no argument is expected");
    }
    if (st->eof) {
        lua_pushnil(L);
        lua_pushliteral(L, "seen eof");
        return 2;
    }
    st->eof = 1;
    if (st->out_len == 0 && !st->out_error) {
        shutdown(st->s->connection->fd, SHUT_WR);
    }
    lua_pushinteger(L, 1);
    return 1;
}

/* ---- ngx.var ---- */

static int var_get(lua_State *L)
{
    mg_stream_session_t *s = mg_lua_session(L);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    mg_str_t v = mg_stream_variable(s, (mg_str_t){len, (char *)name});
    if (v.data == NULL) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, v.data, v.len);
    }
    return 1;
}

/* A lua_add_variable variable: not found until ngx.var gives it a value in the session. */
static mg_str_t added_var(mg_stream_session_t *s, uintptr_t data)
{
    (void)s;
    (void)data;
    return (mg_str_t)mg_null_string;
}

static int is_added_var(mg_stream_session_t *s, const char *name, size_t len)
{
    mg_stream_main_conf_t *cmcf = mg_stream_get_main_conf(s, mg_stream_core_module);
    mg_stream_var_t *v = cmcf->variables.elts;
    for (size_t i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].get == added_var && v[i].name.len == len &&
            mg_strncasecmp(v[i].name.data, name, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Only a variable "set" made for this session, or one lua_add_variable declared, takes a new
 * value, as stream-lua allows only changeable variables. */
static int var_set(lua_State *L)
{
    mg_stream_session_t *s = mg_lua_session(L);
    size_t len, vlen = 0;
    const char *name = luaL_checklstring(L, 2, &len);
    const char *value = NULL;
    if (!lua_isnil(L, 3)) {
        value = luaL_checklstring(L, 3, &vlen);
    }
    mg_stream_set_var_t *sv = s->variables.elts;
    for (size_t i = s->variables.nelts; i-- > 0;) {
        if (sv[i].name.len == len && mg_strncasecmp(sv[i].name.data, name, len) == 0) {
            char *p = mg_pnalloc(s->pool, vlen + 1);
            memcpy(p, value ? value : "", vlen);
            p[vlen] = '\0';
            sv[i].value = (mg_str_t){vlen, p};
            return 0;
        }
    }
    if (is_added_var(s, name, len)) {
        if (s->variables.elts == NULL) {
            mg_array_init(&s->variables, s->pool, 2, sizeof(mg_stream_set_var_t));
        }
        mg_stream_set_var_t *v = mg_array_push(&s->variables);
        v->name = mg_pstr(s->pool, name, len);
        v->value = mg_pstr(s->pool, value ? value : "", vlen);
        return 0;
    }
    return luaL_error(L,
                      "variable \"%s\" not found for writing; maybe it is a built-in variable "
                      "that is not changeable or you forgot to use \"set $%s '';\" in the config "
                      "file to define it",
                      name, name);
}

/* ---- ngx.req.socket: the downstream ---- */

/* upvalues: the raw socket object's metatable (http's ngx.req.socket(true)'s), the
 * userdata's (mg_lua_socket_object), the UDP downstream's */
static int req_socket(lua_State *L)
{
    int n = lua_gettop(L);
    if (n > 1) {
        return luaL_error(L, "expecting zero arguments, but got %d", n);
    }
    mg_lua_check_phase(L, MG_LUA_PREREAD | MG_LUA_CONTENT);
    mg_stream_session_t *s = mg_lua_session(L);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    sl_t *st = ctx->owner;
    if (st->socket) {
        lua_pushnil(L);
        lua_pushliteral(L, "duplicate call");
        return 2;
    }
    st->socket = 1;
    if (s->udp) {
        /* one object at a time: an earlier phase's answers "closed" from now on */
        if (st->udp_sock) {
            st->udp_sock->st = NULL;
        }
        st->udp_sock = lua_newuserdata(L, sizeof(udp_sock_t));
        st->udp_sock->st = st;
        lua_pushvalue(L, lua_upvalueindex(3));
        lua_setmetatable(L, -2);
        return 1;
    }
    mg_lua_tcp_t *sock = mg_lua_socket_object(L, sizeof(mg_lua_tcp_t));
    sock->handed_fd = -1;
    sock->read_pin = sock->until_pin = sock->write_pin = LUA_NOREF;
    sock->vm = mg_lua_cur.lmcf->L;
    sock->conf = mg_lua_ctx_conf(ctx);
    sock->downstream = s->connection;
    sock->raw = 1;
    sock->fd = s->connection->fd;
    mg_lua_tcp_own(sock, ctx);
    return 1;
}

/* ---- the UDP downstream: datagrams, never waiting (stream-lua's) ---- */

static sl_t *udp_check(lua_State *L)
{
    udp_sock_t *u = luaL_checkudata(L, 1, "mg_stream_udp_downstream");
    mg_lua_check_phase(L, MG_LUA_PREREAD | MG_LUA_CONTENT);
    mg_lua_session(L);
    /* only the running session's own object reads and writes its client */
    return u->st && u->st == mg_lua_cur.ctx->owner ? u->st : NULL;
}

/* sock:receive(size?): the datagram's bytes (at most size), the next queued datagram once
 * one is read whole; nil, "no more data" when none is there: a UDP read never waits. */
static int udp_receive(lua_State *L)
{
    sl_t *st = udp_check(L);
    lua_Integer size = UDP_DGRAM_MAX;
    if (!lua_isnoneornil(L, 2)) {
        size = luaL_checkinteger(L, 2);
        if (size <= 0) {
            return luaL_argerror(L, 2, "bad size");
        }
    }
    if (st == NULL) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (st->dgram_pos == st->dgram_len) {
        mg_stream_session_t *s = st->s;
        if (st->dgram == NULL) {
            st->dgram = mg_pnalloc(s->pool, UDP_DGRAM_MAX);
        }
        ssize_t n = mg_lua_stream_recv(s, st->dgram, UDP_DGRAM_MAX);
        if (n < 0) {
            lua_pushnil(L);
            lua_pushliteral(L, "no more data");
            return 2;
        }
        st->dgram_len = (size_t)n;
        st->dgram_pos = 0;
    }
    size_t n = mg_min((size_t)size, st->dgram_len - st->dgram_pos);
    lua_pushlstring(L, st->dgram + st->dgram_pos, n);
    st->dgram_pos += n;
    return 1;
}

/* sock:send(data): one datagram to the client (a string, or what ngx.print takes). */
static int udp_send(lua_State *L)
{
    sl_t *st = udp_check(L);
    if (lua_gettop(L) != 2) {
        return luaL_error(L, "expecting 2 arguments (including the object), but got %d",
                          lua_gettop(L));
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    out_arg(L, &b, 2, 1, "send", 0);
    luaL_pushresult(&b);
    if (st == NULL) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    size_t len;
    const char *data = lua_tolstring(L, -1, &len);
    if (mg_lua_stream_send(st->s, data, len) < 0) {
        int err = errno;
        mg_log_error(MG_LOG_ERR, &st->s->connection->log, err, "sendto() failed");
        mg_lua_tcp_push_errno(L, err);
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushinteger(L, 1);
    return 1;
}

/* sock:settimeout(ms): accepted; nothing on this socket waits. */
static int udp_settimeout(lua_State *L)
{
    luaL_checkudata(L, 1, "mg_stream_udp_downstream");
    luaL_checknumber(L, 2);
    return 0;
}

static int udp_gc(lua_State *L)
{
    udp_sock_t *u = lua_touserdata(L, 1);
    if (u->st) {
        u->st->udp_sock = NULL;
    }
    return 0;
}

/* Pushes the UDP object's metatable. */
static void udp_metatable(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"receive", udp_receive},
        {"send", udp_send},
        {"settimeout", udp_settimeout},
        {NULL, NULL},
    };
    luaL_newmetatable(L, "mg_stream_udp_downstream");
    lua_newtable(L);
    luaL_register(L, NULL, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, udp_gc);
    lua_setfield(L, -2, "__gc");
}

static void peek_stop(mg_connection_t *c)
{
    mg_conn_read_off(c);
    mg_conn_timer_del(c);
    c->read_handler = NULL;
    c->timeout_handler = NULL;
}

static void peek_read(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    sl_t *st = ((mg_lua_ctx_t *)s->ctx[mg_stream_lua_module.index])->owner;
    mg_lua_co_t *co = st->peek_co;
    ssize_t n = c->recv(c, s->preread + s->preread_len, s->preread_size - s->preread_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n > 0) {
        s->preread_len += (size_t)n; /* the preread phase's: not in $bytes_received */
        if (s->preread_len < st->peek_size) {
            return;
        }
        peek_stop(c);
        st->peek_co = NULL;
        lua_pushlstring(co->L, s->preread, st->peek_size);
        mg_lua_resume_co(co, 1);
        return;
    }
    peek_stop(c);
    st->peek_co = NULL;
    lua_pushnil(co->L);
    if (n == 0) {
        lua_pushliteral(co->L, "closed");
    } else {
        mg_log_error(MG_LOG_ERR, &c->log, errno, "recv() failed");
        mg_lua_tcp_push_errno(co->L, errno);
    }
    mg_lua_resume_co(co, 2);
}

static void peek_timeout(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    sl_t *st = ((mg_lua_ctx_t *)s->ctx[mg_stream_lua_module.index])->owner;
    mg_lua_co_t *co = st->peek_co;
    peek_stop(c);
    st->peek_co = NULL;
    if (mg_lua_ctx_conf(st->ctx)->socket_log_errors) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "lua tcp socket read timed out");
    }
    lua_pushnil(co->L);
    lua_pushliteral(co->L, "timeout");
    mg_lua_resume_co(co, 2);
}

/* sock:peek(size): the first size bytes the client sent, left for what reads next (the
 * content's receives or proxy_pass); waits for them under the read timeout. */
static int sock_peek(lua_State *L)
{
    mg_lua_check_phase(L, MG_LUA_PREREAD);
    mg_stream_session_t *s = mg_lua_session(L);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    sl_t *st = ctx->owner;
    mg_lua_tcp_t *sock = mg_lua_tcp_get(L, 1);
    lua_Integer size = luaL_checkinteger(L, 2);
    if (size <= 0) {
        return luaL_argerror(L, 2, "size must be a positive integer");
    }
    if (st->consumed) {
        return luaL_error(L, "attempt to peek on a consumed socket");
    }
    if (st->peek_co) {
        return luaL_error(L, "socket busy peeking");
    }
    mg_stream_srv_conf_t *cscf = mg_stream_get_srv_conf(s, mg_stream_core_module);
    size_t want = mg_max(cscf->preread_buffer_size, s->preread_len);
    if ((size_t)size > want) {
        return luaL_error(L, "peeking more than preread_buffer_size (%d > %d)", (int)size,
                          (int)want);
    }
    if (s->preread_size < want) {
        char *p = mg_palloc(s->pool, want);
        if (s->preread_len) {
            memcpy(p, s->preread, s->preread_len);
        }
        s->preread = p;
        s->preread_size = want;
    }
    s->preread_claimed = 1;
    if (s->preread_len >= (size_t)size) {
        lua_pushlstring(L, s->preread, (size_t)size);
        return 1;
    }
    mg_connection_t *c = s->connection;
    mg_msec_t timeout = sock->read_timeout ? sock->read_timeout : sock->conf->socket_read_timeout;
    st->peek_co = mg_lua_cur.co;
    st->peek_size = (size_t)size;
    c->read_handler = peek_read;
    c->timeout_handler = peek_timeout;
    mg_conn_read_on(c);
    mg_conn_timer_set(c, timeout);
    return mg_lua_wait(L, ctx);
}

/* ---- lua_check_client_abort ---- */

static void abort_read(mg_connection_t *c);

static void abort_stop(mg_connection_t *c)
{
    if (c->read_handler == abort_read) {
        mg_conn_read_off(c);
        c->read_handler = NULL;
    }
}

/* The client's connection became readable while the code waits: bytes stay for the code; its
 * close (a TLS client's close_notify too: it shut its side) aborts. */
static void abort_read(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    mg_lua_ctx_t *ctx = s->ctx[mg_stream_lua_module.index];
    char ch;
    ssize_t n = recv(c->fd, &ch, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n > 0 && c->ssl) {
        struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};
        if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP))) {
            n = 0;
        }
    }
    int err = n < 0 ? errno : 0;
    abort_stop(c);
    if (n > 0 || mg_lua_socket_tcp_downstream_reading(ctx)) {
        return; /* bytes for the code; or its own read of the client sees the close */
    }
    mg_log_error(MG_LOG_INFO, &c->log, err, "client prematurely closed connection");
    if (ctx->abort_co) {
        mg_lua_thread_start(ctx->abort_co);
        return;
    }
    mg_stream_finalize_session(s, 499);
}

void mg_lua_stream_watch_client(mg_lua_ctx_t *ctx)
{
    mg_stream_session_t *s = ctx->s;
    mg_connection_t *c = s->connection;
    /* not while a peek or the core reads the client (their handler), nor in a balancer */
    if (s->udp || c->read_handler || !(ctx->phase & (MG_LUA_PREREAD | MG_LUA_CONTENT)) ||
        !mg_lua_ctx_conf(ctx)->check_client_abort) {
        return;
    }
    c->read_handler = abort_read;
    mg_conn_read_on(c);
}

/* ---- phases ---- */

static mg_int_t preread_result(mg_lua_ctx_t *ctx, int how)
{
    switch (how) {
    case MG_LUA_CO_EXIT:
        if (ctx->exit_code == MG_OK) {
            return MG_OK; /* on to the next phase */
        }
        if (ctx->exit_code == MG_DECLINED) {
            return MG_DECLINED;
        }
        return (mg_int_t)exit_status(ctx->exit_code);
    case MG_LUA_CO_ERROR:
        return MG_ERROR;
    }
    return MG_DECLINED;
}

static void content_result(mg_lua_ctx_t *ctx, int how)
{
    sl_t *st = ctx->owner;
    abort_stop(st->s->connection);
    mg_uint_t status = how == MG_LUA_CO_ERROR  ? 500
                       : how == MG_LUA_CO_EXIT ? exit_status(ctx->exit_code)
                                               : 200;
    if (status < 500 && st->out_len && !st->out_error) {
        /* what ngx.say queued goes out first */
        st->closing = 1;
        st->status = status;
        return;
    }
    mg_stream_finalize_session(st->s, status);
}

/* The context's coroutines stopped after a wait (mg_lua_resume_co). */
static void entry_finished(mg_lua_ctx_t *ctx, int how)
{
    if (ctx->phase == MG_LUA_PREREAD) {
        abort_stop(ctx->s->connection);
        mg_stream_phase_resume(ctx->s, preread_result(ctx, how));
        return;
    }
    content_result(ctx, how);
}

static mg_int_t preread_handler(mg_stream_session_t *s)
{
    mg_lua_loc_conf_t *llcf = mg_stream_get_srv_conf(s, mg_stream_lua_module);
    if (llcf->preread == NULL) {
        return MG_DECLINED;
    }
    mg_lua_ctx_t *ctx = mg_lua_stream_ctx(s);
    sl_t *st = ctx->owner;
    if (st->preread_done) {
        return MG_DECLINED;
    }
    st->preread_done = 1;
    int how = run_entry(ctx, llcf->preread, MG_LUA_PREREAD);
    if (how == MG_LUA_CO_WAIT) {
        return MG_DONE;
    }
    abort_stop(s->connection);
    return preread_result(ctx, how);
}

/* The content's end or the connection's: the cosockets go before the client connection does. */
static void session_done(mg_stream_session_t *s)
{
    mg_lua_ctx_t *ctx = s->ctx[mg_stream_lua_module.index];
    if (ctx) {
        mg_lua_socket_tcp_ctx_done(ctx);
    }
}

static void content_handler(mg_stream_session_t *s)
{
    mg_lua_loc_conf_t *llcf = mg_stream_get_srv_conf(s, mg_stream_lua_module);
    mg_lua_ctx_t *ctx = mg_lua_stream_ctx(s);
    mg_connection_t *c = s->connection;
    s->cleanup = session_done;
    c->write_handler = out_write;
    c->timeout_handler = out_timeout;
    int how = run_entry(ctx, llcf->content, MG_LUA_CONTENT);
    if (how != MG_LUA_CO_WAIT) {
        content_result(ctx, how);
    }
}

static mg_int_t log_handler(mg_stream_session_t *s)
{
    mg_lua_loc_conf_t *llcf = mg_stream_get_srv_conf(s, mg_stream_lua_module);
    if (llcf->log == NULL) {
        return MG_DECLINED;
    }
    mg_lua_main_conf_t *lmcf = mg_stream_get_main_conf(s, mg_stream_lua_module);
    int top = lua_gettop(lmcf->L);
    mg_lua_call_ctx(lmcf, mg_lua_stream_ctx(s), llcf->log, MG_LUA_LOG, 0, 0);
    lua_settop(lmcf->L, top);
    return MG_OK;
}

/* ---- the stream VM's ngx table ---- */

static int http_only_module(lua_State *L)
{
    return luaL_error(L, "unsupported subsystem: stream");
}

/* http's functions that have no meaning in stream{} are left out, as stream-lua has none;
 * the output, ngx.var and ngx.req are the stream's. */
static void inject_stream_api(lua_State *L)
{
    static const char *const http_only[] = {"header",       "location", "exec", "redirect",
                                            "send_headers", "arg",      "resp", NULL};
    lua_getglobal(L, "ngx");
    int ngx = lua_gettop(L);
    for (const char *const *f = http_only; *f; f++) {
        lua_pushnil(L);
        lua_setfield(L, ngx, *f);
    }
    static const luaL_Reg fns[] = {
        {"say", stream_say}, {"print", stream_print},       {"flush", stream_flush},
        {"eof", stream_eof}, {"on_abort", mg_lua_on_abort}, {NULL, NULL},
    };
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, ngx, f->name);
    }
    lua_getfield(L, ngx, "config");
    lua_pushliteral(L, "stream");
    lua_setfield(L, -2, "subsystem");
    lua_pop(L, 1);

    lua_newtable(L); /* ngx.var */
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, var_get);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, var_set);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_setfield(L, ngx, "var");

    /* ngx.req holds the socket only; its object is http's raw one with peek added */
    lua_getfield(L, ngx, "req");
    lua_getfield(L, -1, "socket");
    int http_socket = lua_gettop(L);
    lua_createtable(L, 0, 1);          /* the new ngx.req */
    lua_getupvalue(L, http_socket, 3); /* the raw object's metatable */
    lua_getfield(L, -1, "__index");
    lua_pushcfunction(L, sock_peek);
    lua_setfield(L, -2, "peek");
    lua_pop(L, 1);
    lua_getupvalue(L, http_socket, 2); /* the userdata's (its __gc) */
    udp_metatable(L);
    lua_pushcclosure(L, req_socket, 3);
    lua_setfield(L, -2, "socket");
    lua_setfield(L, ngx, "req");
    lua_settop(L, ngx - 1);

    /* the http-only modules of package.preload: ngx.resp and ngx.req answer as
     * lua-resty-core's files do in stream, ngx.upstream (lua-upstream-nginx-module's) is not
     * there at all */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, http_only_module);
    lua_setfield(L, -2, "ngx.resp");
    lua_pushcfunction(L, http_only_module);
    lua_setfield(L, -2, "ngx.req");
    lua_pushnil(L);
    lua_setfield(L, -2, "ngx.upstream");
    lua_pop(L, 2);
}

/* ---- directives ---- */

static const mg_lua_code_directive_t d_preread = {MG_LUA_PREREAD, "preread_by_lua"};
static const mg_lua_code_directive_t d_content = {MG_LUA_CONTENT, "content_by_lua"};
static const mg_lua_code_directive_t d_log = {MG_LUA_LOG, "log_by_lua"};

const char *mg_lua_stream_set_content(mg_conf_t *cf)
{
    mg_stream_srv_conf_t *cscf = mg_stream_conf_get_srv(cf, mg_stream_core_module);
    if (cscf->handler) {
        return "is duplicate";
    }
    cscf->handler = content_handler;
    return MG_CONF_OK;
}

/* lua_add_variable $name: a variable ngx.var may set (nothing when the name exists). */
static const char *set_add_variable(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_lua_main_conf_t *lmcf = conf;
    mg_str_t name = cf->args[1];
    if (name.len < 2 || name.data[0] != '$') {
        mg_conf_error(cf, 0, "invalid variable name \"%s\"", name.data);
        return MG_CONF_ERROR;
    }
    if (lmcf->add_variables == NULL) {
        lmcf->add_variables = mg_array_create(cf->pool, 4, sizeof(mg_str_t));
    }
    mg_str_t *n = mg_array_push(lmcf->add_variables);
    *n = mg_pstr(cf->pool, name.data + 1, name.len - 1);
    return MG_CONF_OK;
}

#define STREAM_SRV (MG_CTX_STREAM | MG_CTX_STREAM_SRV)
#define CODE(name, ctxs, args, conf, type, field, d)                                               \
    {                                                                                              \
        name, ctxs, args, mg_lua_set_code, conf, offsetof(type, field), &d                         \
    }
#define SRV(name, ctxs, args, field, d)                                                            \
    CODE(name, ctxs, args, MG_SRV_CONF, mg_lua_loc_conf_t, field, d)

static const mg_command_t stream_lua_commands[] = {
    MG_LUA_INIT_COMMANDS(MG_CTX_STREAM),
    SRV("preread_by_lua_block", STREAM_SRV, MG_RAW_BLOCK, preread, d_preread),
    SRV("preread_by_lua_file", STREAM_SRV, MG_ARGS(1, 1), preread, d_preread),
    SRV("content_by_lua_block", MG_CTX_STREAM_SRV, MG_RAW_BLOCK, content, d_content),
    SRV("content_by_lua_file", MG_CTX_STREAM_SRV, MG_ARGS(1, 1), content, d_content),
    SRV("log_by_lua_block", STREAM_SRV, MG_RAW_BLOCK, log, d_log),
    SRV("log_by_lua_file", STREAM_SRV, MG_ARGS(1, 1), log, d_log),
    MG_LUA_MAIN_ROW("preread_by_lua_no_postpone", MG_CTX_STREAM, MG_FLAG, mg_conf_set_flag,
                    rewrite_no_postpone),
    {"lua_add_variable", MG_CTX_STREAM, MG_ARGS(1, 1), set_add_variable, MG_MAIN_CONF, 0, NULL},
    MG_LUA_MAIN_COMMANDS(MG_CTX_STREAM),
    MG_LUA_LOC_COMMANDS(STREAM_SRV),
    MG_LUA_SSL_COMMANDS(STREAM_SRV),
    MG_LUA_LOC_ROW("lua_check_client_abort", STREAM_SRV, MG_FLAG, mg_conf_set_flag,
                   check_client_abort),
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static void *sl_create_main_conf(mg_conf_t *cf)
{
    mg_lua_main_conf_t *lmcf = mg_lua_create_main_conf(cf);
    lmcf->stream = 1;
    return lmcf;
}

static const char *sl_init_main_conf(mg_conf_t *cf, void *conf)
{
    mg_lua_main_conf_t *lmcf = conf;
    mg_lua_init_main_defaults(lmcf);
    /* timers take the stream{} level's lua_socket_* and lua_ssl_* settings, defaults filled
     * in here */
    mg_lua_loc_conf_t *top = cf->ctx_data->srv_conf[mg_stream_lua_module.index];
    lmcf->conf = top;
    return mg_lua_merge_common(cf, lmcf, top, NULL);
}

static const char *sl_merge_srv_conf(mg_conf_t *cf, void *prev, void *conf)
{
    return mg_lua_merge_common(cf, mg_stream_conf_get_main(cf, mg_stream_lua_module), conf, prev);
}

static mg_int_t sl_init(mg_conf_t *cf)
{
    mg_lua_main_conf_t *lmcf = mg_stream_conf_get_main(cf, mg_stream_lua_module);
    /* this module's init runs after those of the modules with variables */
    mg_str_t *names = lmcf->add_variables ? lmcf->add_variables->elts : NULL;
    for (size_t i = 0; names && i < lmcf->add_variables->nelts; i++) {
        if (!mg_stream_variable_known(cf, names[i])) {
            mg_stream_variable_add(cf, names[i].data, added_var, 0);
        }
    }
    if (lmcf->L == NULL) {
        return MG_OK;
    }
    if (lmcf->phases & MG_LUA_PREREAD) {
        /* stream-lua's postponing: after the other preread handlers (ssl_preread), unless
         * preread_by_lua_no_postpone */
        if (lmcf->rewrite_no_postpone) {
            mg_stream_add_handler(cf, MG_STREAM_PREREAD_PHASE, preread_handler);
        } else {
            mg_stream_add_handler_first(cf, MG_STREAM_PREREAD_PHASE, preread_handler);
        }
    }
    if (lmcf->phases & MG_LUA_LOG) {
        /* before access_log, so what it sets is logged */
        mg_stream_add_handler_first(cf, MG_STREAM_LOG_PHASE, log_handler);
    }
    inject_stream_api(lmcf->L);
    return mg_lua_vm_ready(cf, lmcf);
}

static mg_int_t sl_init_worker(mg_cycle_t *cycle)
{
    if (cycle->stream == NULL) {
        return MG_OK;
    }
    mg_lua_sa_restart(cycle);
    mg_lua_main_conf_t *lmcf = cycle->stream->main_conf[mg_stream_lua_module.index];
    if (lmcf->L == NULL || lmcf->init_worker == NULL) {
        return MG_OK;
    }
    int top = lua_gettop(lmcf->L);
    mg_lua_call(lmcf, NULL, lmcf->init_worker, MG_LUA_INIT_WORKER, 0, 0);
    lua_settop(lmcf->L, top);
    return MG_OK;
}

/* ngx.pipe's processes end while the event loop exists (as http's exit hook does) */
static void sl_exit_worker(mg_cycle_t *cycle)
{
    if (cycle->stream == NULL) {
        return;
    }
    mg_lua_main_conf_t *lmcf = cycle->stream->main_conf[mg_stream_lua_module.index];
    if (lmcf->L) {
        mg_lua_pipe_exit_worker(lmcf);
    }
}

static const mg_stream_module_t sl_stream = {
    .create_main_conf = sl_create_main_conf,
    .init_main_conf = sl_init_main_conf,
    .create_srv_conf = mg_lua_create_loc_conf,
    .merge_srv_conf = sl_merge_srv_conf,
    .init = sl_init,
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t stream_lua_defaults[] = {
    {"lua_capture_error_log", "none"},
    {"lua_package_path", "the content of LUA_PATH or Lua's compiled-in defaults"},
    {"lua_package_cpath", "the content of LUA_CPATH or Lua's compiled-in defaults"},
    {"init_by_lua", MG_NO_DEFAULT},
    {"init_by_lua_block", MG_NO_DEFAULT},
    {"init_by_lua_file", MG_NO_DEFAULT},
    {"init_worker_by_lua", MG_NO_DEFAULT},
    {"init_worker_by_lua_block", MG_NO_DEFAULT},
    {"init_worker_by_lua_file", MG_NO_DEFAULT},
    {"preread_by_lua_block", MG_NO_DEFAULT},
    {"preread_by_lua_file", MG_NO_DEFAULT},
    {"content_by_lua_block", MG_NO_DEFAULT},
    {"content_by_lua_file", MG_NO_DEFAULT},
    {"log_by_lua_block", MG_NO_DEFAULT},
    {"log_by_lua_file", MG_NO_DEFAULT},
    {"lua_add_variable", MG_NO_DEFAULT},
    {"lua_load_resty_core", "on"},
    {"lua_shared_dict", MG_NO_DEFAULT},
    {"lua_code_cache", "on"},
    {"lua_ssl_protocols", "TLSv1 TLSv1.1 TLSv1.2"},
    {"lua_ssl_password_file", MG_NO_DEFAULT},
    {"lua_ssl_conf_command", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_stream_lua_module = {
    .name = "stream_lua",
    .commands = stream_lua_commands,
    .defaults = stream_lua_defaults,
    .stream = &sl_stream,
    .init_worker = sl_init_worker,
    .exit_worker = sl_exit_worker,
};
