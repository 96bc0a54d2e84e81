/*
 * ngx.req.socket(raw?): a cosocket over the client's connection (socket_tcp.h's object with
 * `downstream` set). The plain one reads the request body as a stream, the bytes the head's
 * read already buffered first, and sees its end as the peer's close; the raw one (after the
 * response head went out) reads and writes the connection freely, and the request's own
 * output stops. HTTP/2 streams are refused, as lua-nginx-module 0.10.23 does.
 */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "socket_tcp.h"

ssize_t mg_lua_req_socket_recv(mg_lua_tcp_t *s, char *buf, size_t size)
{
    if (s->ctx->s) {
        return mg_lua_stream_recv(s->ctx->s, buf, size);
    }
    mg_request_t *r = s->ctx->r;
    mg_http_conn_t *hc = r->hc;
    if (!s->raw) {
        /* the body's rest: the connection drops what is left once the request ends */
        if (hc->discard_rest <= 0) {
            return 0;
        }
        size = (size_t)mg_min((int64_t)size, hc->discard_rest);
    }
    ssize_t n;
    if (hc->last > hc->start) {
        n = (ssize_t)mg_min(size, hc->last - hc->start);
        memcpy(buf, hc->buf + hc->start, (size_t)n);
        hc->start += (size_t)n;
    } else {
        n = s->downstream->recv(s->downstream, buf, size);
        if (n <= 0) {
            return n;
        }
    }
    hc->discard_rest = mg_max(hc->discard_rest - n, 0);
    r->request_length += (size_t)n;
    return n;
}

static int push_error(lua_State *L, const char *err)
{
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

/* Why the raw socket cannot be had now, or NULL. */
static const char *raw_refused(mg_request_t *r, mg_lua_ctx_t *ctx)
{
    if (ctx->raw_socket) {
        return "duplicate call";
    }
    if (r->request_body && !r->request_body->done) {
        /* ngx.req.read_body waits in another coroutine, or did in a thread killed meanwhile:
         * body.c reads on either way */
        return "pending request body reading in some other thread";
    }
    if (!r->header_sent && (ctx->pend_len || ctx->held) && r->http_major == 1 &&
        r->http_minor == 0) {
        /* HTTP/1.0 output waits for its length to be known (gathered, or already held) */
        return "http 1.0 buffering";
    }
    return NULL;
}

/* Why the plain socket cannot be had now, or NULL. */
static const char *plain_refused(mg_request_t *r)
{
    if (r->headers_in.chunked) {
        return "chunked request bodies not supported yet";
    }
    if (r->request_body) {
        return "request body already exists";
    }
    if (r->discard_body || r->headers_in.content_length_n <= 0) {
        return "no body";
    }
    return NULL;
}

/* upvalues: the plain object's metatable, the userdata's, the raw object's */
static int req_socket(lua_State *L)
{
    int n = lua_gettop(L);
    if (n > 1) {
        return luaL_error(L, "expecting zero arguments, but got %d", n);
    }
    int raw = n == 1 && lua_toboolean(L, 1);
    mg_lua_check_phase(L, MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT);
    mg_request_t *r = mg_lua_request(L);
    if (r->parent) {
        return luaL_error(L, "attempt to read the request body in a subrequest");
    }
    if (r->hc->stream) {
        return luaL_error(L, "http v2 not supported yet");
    }
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    const char *why = raw ? raw_refused(r, ctx) : plain_refused(r);
    if (why) {
        return push_error(L, why);
    }
    if (r->request_body == NULL) {
        /* read_body and discard_body find the body taken */
        r->request_body = mg_pcalloc(r->pool, sizeof(mg_http_request_body_t));
        r->request_body->done = 1;
    }
    if (raw) {
        /* the code owns the connection: what the output API and postpone_output hold back
         * is dropped, as in lua-nginx-module (even a head: nginx's write filter keeps it for
         * good), and nothing more is sent for the response; it cannot be reused */
        ctx->raw_socket = 1;
        ctx->pend = NULL;
        ctx->pend_len = ctx->pend_cap = 0;
        mg_http_drop_postponed(r);
        ctx->eof = 1;
        r->header_sent = 1;
        r->header_only = 1;
        r->keepalive = 0;
    }
    mg_lua_tcp_t *s = mg_lua_socket_object(L, sizeof(mg_lua_tcp_t));
    if (raw) {
        lua_pushvalue(L, lua_upvalueindex(3));
        lua_setmetatable(L, -2);
    }
    s->handed_fd = -1;
    s->read_pin = s->until_pin = s->write_pin = LUA_NOREF;
    s->vm = mg_lua_cur.lmcf->L;
    s->conf = mg_lua_ctx_conf(ctx);
    s->downstream = r->connection;
    s->raw = raw;
    s->fd = r->connection->fd;
    mg_lua_tcp_own(s, ctx);
    return 1;
}

/* methods[name] = the tcp cosocket's, for each name (tcp: the tcp methods table's index) */
static void copy_methods(lua_State *L, int tcp, const char *const *names)
{
    for (; *names; names++) {
        lua_getfield(L, tcp, *names);
        lua_setfield(L, -2, *names);
    }
}

void mg_lua_inject_req_socket_api(lua_State *L)
{
    static const char *const plain[] = {"receive",    "receiveany",  "receiveuntil",
                                        "settimeout", "settimeouts", NULL};
    int ngx = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "__tcp_cosocket_mt");
    int tcp = lua_gettop(L);
    lua_getfield(L, ngx, "req");
    lua_newtable(L); /* the plain object's metatable */
    lua_newtable(L);
    copy_methods(L, tcp, plain);
    lua_setfield(L, -2, "__index");
    /* the userdata's metatable (its __gc frees the socket): ngx.socket.tcp's 2nd upvalue */
    lua_getfield(L, ngx, "socket");
    lua_getfield(L, -1, "tcp");
    lua_getupvalue(L, -1, 2);
    lua_replace(L, -3);
    lua_pop(L, 1);
    lua_newtable(L); /* the raw object's metatable: send as well */
    lua_newtable(L);
    copy_methods(L, tcp, plain);
    copy_methods(L, tcp, (const char *const[]){"send", NULL});
    lua_setfield(L, -2, "__index");
    lua_pushcclosure(L, req_socket, 3);
    lua_setfield(L, -2, "socket");
    lua_settop(L, ngx);
}
