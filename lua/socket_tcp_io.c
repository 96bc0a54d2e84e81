/*
 * A cosocket's data: send (a string or a nested array of strings and numbers, written whole
 * before it returns), receive ("*l", "*a", a size), receiveany and receiveuntil's iterator.
 * Each call takes what the socket's buffer holds, reads more while the socket has some and
 * otherwise waits on the event loop under the socket's timeout. Errors as lua-nginx-module's:
 * a read timeout keeps the socket usable, EOF and read errors close its reading side only,
 * a failed send closes it; receive's third value is what arrived before the error.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "socket_tcp.h"

/* where code may wait for a socket: as lua-nginx-module, also in the handshake's hooks */
#define TCP_PHASES MG_LUA_YIELDABLE

enum { R_DONE, R_AGAIN, R_CLOSED, R_ERRNO, R_TIMEOUT };

static void on_read_timeout(evutil_socket_t fd, short what, void *arg);

static void acc_append(mg_lua_tcp_t *s, const char *p, size_t n)
{
    if (n == 0) {
        return;
    }
    if (s->alen + n > s->acap) {
        size_t cap = s->acap ? s->acap : 256;
        while (cap < s->alen + n) {
            cap *= 2;
        }
        s->acc = mg_realloc(s->acc, cap);
        s->acap = cap;
    }
    memcpy(s->acc + s->alen, p, n);
    s->alen += n;
}

/* receiveuntil: feed the buffered bytes through the pattern matcher; 1 when the call is done
 * (the pattern came, or `size` bytes of data are there). */
static int consume_until(mg_lua_tcp_t *s)
{
    mg_lua_tcp_until_t *u = s->until;
    while (s->rpos < s->rlast) {
        if (u->matched == 0) {
            /* fast path: everything before the pattern's first byte is data */
            size_t avail = s->rlast - s->rpos;
            if (s->rsize && s->rsize - s->alen < avail) {
                avail = s->rsize - s->alen;
            }
            const char *p = memchr(s->rbuf + s->rpos, u->pat[0], avail);
            size_t take = p ? (size_t)(p - (s->rbuf + s->rpos)) : avail;
            acc_append(s, s->rbuf + s->rpos, take);
            s->rpos += take;
            if (s->rsize && s->alen >= s->rsize) {
                return 1;
            }
            if (s->rpos == s->rlast) {
                return 0;
            }
        }
        char c = s->rbuf[s->rpos++];
        while (u->matched > 0 && u->pat[u->matched] != c) {
            /* the oldest bytes of the partial match cannot start the pattern: data */
            size_t k = u->fail[u->matched - 1];
            acc_append(s, u->pat, u->matched - k);
            u->matched = k;
        }
        if (u->pat[u->matched] == c) {
            u->matched++;
        } else if (s->rsize && s->alen >= s->rsize) {
            /* the bytes given back filled the size: c, which starts nothing, is the next
             * call's, as lua-nginx-module leaves it */
            s->rpos--;
            return 1;
        } else {
            acc_append(s, &c, 1);
        }
        if (u->matched == u->len) {
            u->matched = 0;
            if (u->inclusive) {
                acc_append(s, u->pat, u->len);
            }
            if (s->rsize) {
                u->found = 1;
            }
            return 1;
        }
        if (s->rsize && s->alen >= s->rsize) {
            return 1;
        }
    }
    return 0;
}

/* The call's whole result is n bytes at p in the buffer: pushed from there (s->view), not
 * gathered; 1 (done). */
static int take_view(mg_lua_tcp_t *s, const char *p, size_t n, size_t used)
{
    s->view = p;
    s->vlen = n;
    s->rpos += used;
    return 1;
}

/* Take from the buffer what the pattern wants; 1 when the call is done. */
static int consume(mg_lua_tcp_t *s)
{
    char *p = s->rbuf + s->rpos;
    size_t avail = s->rlast - s->rpos;
    switch (s->rmode) {
    case MG_LUA_TCP_LINE: {
        char *nl = memchr(p, '\n', avail);
        size_t end = nl ? (size_t)(nl - p) : avail;
        size_t len = end > 0 && p[end - 1] == '\r' ? end - 1 : end;
        if (nl && s->alen == 0 && memchr(p, '\r', len) == NULL) {
            return take_view(s, p, len, end + 1); /* the usual line, whole, CRLF or LF */
        }
        /* every CR is dropped, as lua-nginx-module's "*l" does */
        for (size_t start = 0; start <= end;) {
            char *cr = memchr(p + start, '\r', end - start);
            size_t stop = cr ? (size_t)(cr - p) : end;
            acc_append(s, p + start, stop - start);
            start = stop + 1;
        }
        s->rpos += nl ? end + 1 : end;
        return nl != NULL;
    }
    case MG_LUA_TCP_SIZE: {
        if (s->alen == 0 && avail >= s->rsize) {
            return take_view(s, p, s->rsize, s->rsize);
        }
        size_t take = s->rsize - s->alen < avail ? s->rsize - s->alen : avail;
        acc_append(s, p, take);
        s->rpos += take;
        return s->alen == s->rsize;
    }
    case MG_LUA_TCP_ANY: {
        size_t take = s->rsize < avail ? s->rsize : avail;
        if (s->alen == 0 && take > 0) {
            return take_view(s, p, take, take);
        }
        acc_append(s, p, take);
        s->rpos += take;
        return take > 0;
    }
    case MG_LUA_TCP_UNTIL:
        return consume_until(s);
    default: /* "*a" */
        acc_append(s, p, avail);
        s->rpos = s->rlast;
        return 0;
    }
}

/* Read until the pattern is satisfied, the socket has nothing more for now, EOF or an error. */
static int read_more(mg_lua_tcp_t *s, int *err)
{
    if (s->rbuf == NULL) {
        s->rbuf_size = s->conf->socket_buffer_size;
        s->rbuf = mg_alloc(s->rbuf_size);
    }
    for (;;) {
        if (s->rpos < s->rlast && consume(s)) {
            return R_DONE;
        }
        s->rpos = s->rlast = 0;
        if (s->rdry) {
            return R_AGAIN; /* a recv() now would only say EAGAIN */
        }
        mg_ssl_conn_t *sc = mg_lua_tcp_ssl(s);
        ssize_t n = s->downstream ? mg_lua_req_socket_recv(s, s->rbuf, s->rbuf_size)
                    : sc          ? mg_ssl_recv(sc, mg_lua_tcp_log(s), s->rbuf, s->rbuf_size)
                                  : recv(s->fd, s->rbuf, s->rbuf_size, 0);
        if (n > 0) {
            s->rlast = (size_t)n;
            /* a plain recv() that did not fill the buffer emptied the socket: what comes
             * next raises the registered watch, so no recv() to hear EAGAIN (nginx's short
             * read clearing read->ready); unless the watch saw the FIN, which a recv() must
             * still find */
            mg_lua_tcp_watch_t *w = s->watch;
            if ((size_t)n < s->rbuf_size && !s->downstream && sc == NULL && w && w->w.added &&
                w->w.closed && !w->w.rdhup) {
                s->rdry = 1;
            }
            continue;
        }
        if (n == 0) {
            return s->rmode == MG_LUA_TCP_ALL ? R_DONE : R_CLOSED;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->rdry = 1;
            return R_AGAIN;
        }
        *err = errno;
        return R_ERRNO;
    }
}

/* The outcome of a receive onto L: the data, or nil, the error and what came before it. */
static int push_read_result(lua_State *L, mg_lua_tcp_t *s, int rc, int err)
{
    mg_lua_tcp_until_t *u = s->rmode == MG_LUA_TCP_UNTIL ? s->until : NULL;
    if (rc == R_DONE) {
        if (s->view) {
            lua_pushlstring(L, s->view, s->vlen);
            s->view = NULL;
        } else {
            lua_pushlstring(L, s->acc ? s->acc : "", s->alen);
        }
        s->alen = 0;
        return 1;
    }
    lua_pushnil(L);
    switch (rc) {
    case R_TIMEOUT:
        if (s->conf->socket_log_errors) {
            mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), 0, "lua tcp socket read timed out");
        }
        lua_pushliteral(L, "timeout");
        break;
    case R_CLOSED:
        s->read_closed = 1;
        lua_pushliteral(L, "closed");
        break;
    default:
        if (mg_lua_tcp_ssl(s) == NULL) { /* TLS logged its own (SSL_read() failed) */
            mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), err, "recv() failed");
        }
        s->read_closed = 1;
        mg_lua_tcp_push_errno(L, err);
    }
    if (u && u->matched) {
        acc_append(s, u->pat, u->matched);
        u->matched = 0;
    }
    lua_pushlstring(L, s->acc ? s->acc : "", s->alen);
    s->alen = 0;
    return 3;
}

static void on_read_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_lua_tcp_t *s = arg;
    if (s->reading) {
        mg_lua_tcp_readable(fd, EV_READ, s);
    }
}

/* A TLS read waiting to write (read_wants_write): the socket's writability retries it, else
 * it would wait for the peer's next bytes, which may never come. */
static void tls_read_waits(mg_lua_tcp_t *s)
{
    mg_ssl_conn_t *sc = mg_lua_tcp_ssl(s);
    if (sc == NULL || !sc->turn_on || !sc->read_wants_write) {
        return;
    }
    sc->turn_on = 0;
    sc->read_wants_write = 0;
    mg_lua_tcp_tls_ev_del(s, rw);
    if (s->tls_ev == NULL) {
        s->tls_ev = mg_calloc(sizeof(*s->tls_ev));
    }
    event_assign(&s->tls_ev->rw, mg_lua_event_base(), s->fd, EV_WRITE | mg_lua_tcp_et(s),
                 on_read_writable, s);
    event_add(&s->tls_ev->rw, NULL);
}

/* Run a receive: done at once, or wait with the objects at obj (the socket) and until (the
 * iterator's state, 0: none) kept alive. */
static int start_read(lua_State *L, mg_lua_tcp_t *s, int obj, int until)
{
    int err = 0;
    s->alen = 0;
    s->view = NULL;
    int rc = read_more(s, &err);
    if (rc != R_AGAIN) {
        return push_read_result(L, s, rc, err);
    }
    if (s->watch == NULL) {
        mg_lua_tcp_adopt(s, s->fd,
                         mg_lua_tcp_watch_new(mg_lua_event_base(), s->fd, s->downstream == NULL));
    }
    mg_watch_read(&s->watch->w, mg_lua_tcp_readable, s); /* a syscall only if it was off */
    tls_read_waits(s);
    evtimer_assign(&s->watch->rtimer, mg_lua_event_base(), on_read_timeout, s);
    mg_lua_tcp_arm(&s->watch->rtimer, s->read_timeout, s->conf->socket_read_timeout);
    s->reading = 1;
    s->read_co = mg_lua_cur.co;
    if (until) {
        lua_pushvalue(L, until);
        s->until_pin = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return mg_lua_tcp_yield(L, s, obj, &s->read_pin);
}

static void read_done(mg_lua_tcp_t *s, int rc, int err);

void mg_lua_tcp_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_lua_tcp_t *s = arg;
    s->rdry = 0;
    if (!s->reading) {
        /* between reads: the next receive will recv(); until it waits, no more reports (an
         * edge-triggered watch has none to repeat: it stays) */
        if (!s->watch->w.edge) {
            mg_watch_stop(&s->watch->w);
        }
        return;
    }
    int err = 0;
    int rc = read_more(s, &err);
    if (rc == R_AGAIN) {
        tls_read_waits(s);
        /* the timeout counts from the last data */
        mg_lua_tcp_arm(&s->watch->rtimer, s->read_timeout, s->conf->socket_read_timeout);
        return;
    }
    event_del(&s->watch->rtimer);
    read_done(s, rc, err);
}

/* The read timeout; the watch stays registered (it is the connection's, not this wait's). */
static void on_read_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    read_done(arg, R_TIMEOUT, 0);
}

static void read_done(mg_lua_tcp_t *s, int rc, int err)
{
    mg_lua_tcp_tls_ev_del(s, rw);
    mg_lua_co_t *co = s->read_co;
    s->read_co = NULL;
    s->reading = 0;
    int n = co ? push_read_result(co->L, s, rc, err) : 0;
    s->view = NULL; /* pushed, or nobody's */
    /* unpinned only now: pushing the result may run the GC */
    mg_lua_tcp_unpin(s, &s->read_pin);
    mg_lua_tcp_unpin(s, &s->until_pin);
    if (co) {
        mg_lua_resume_co(co, n); /* s may be gone after this */
    }
}

/* "closed" for a call on a socket that cannot read, with lua-nginx-module's log line */
static int closed_for_reading(lua_State *L, mg_lua_tcp_t *s)
{
    if (mg_lua_socket_log_errors(s)) {
        mg_log_error(MG_LOG_ERR, mg_lua_log(), 0,
                     "attempt to receive data on a closed socket: u:%016" PRIXPTR ", c:%016" PRIXPTR
                     ", ft:%d eof:%d",
                     (uintptr_t)s, s->fd >= 0 ? (uintptr_t)s : 0, 0, (int)s->read_closed);
    }
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
}

/* nil + "socket busy ..." when another coroutine uses the same direction, else 0 */
static int busy(lua_State *L, mg_lua_tcp_t *s, int reading)
{
    const char *what = s->connecting            ? "socket busy connecting"
                       : reading && s->reading  ? "socket busy reading"
                       : !reading && s->writing ? "socket busy writing"
                                                : NULL;
    if (what == NULL) {
        return 0;
    }
    lua_pushnil(L);
    lua_pushstring(L, what);
    return 2;
}

static mg_lua_tcp_t *check_reader(lua_State *L, int idx, int *ret)
{
    mg_lua_check_phase(L, TCP_PHASES);
    if (mg_lua_cur.co == NULL || mg_lua_event_base() == NULL) {
        luaL_error(L, "no request ctx found");
    }
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, idx);
    *ret = 0;
    if (s->fd < 0 || s->read_closed) {
        *ret = closed_for_reading(L, s);
        return s;
    }
    mg_lua_tcp_check_owner(L, s);
    *ret = busy(L, s, 1);
    return s;
}

static int tcp_receive(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 1 && n != 2) {
        return luaL_error(L, "expecting 1 or 2 arguments (including the object), but got %d", n);
    }
    int ret;
    mg_lua_tcp_t *s = check_reader(L, 1, &ret);
    if (ret) {
        return ret;
    }
    int mode = MG_LUA_TCP_LINE;
    size_t size = 0;
    int t = n == 2 ? lua_type(L, 2) : LUA_TNIL;
    /* "*l" and "*a" first: asking lua_isnumber of them tries a conversion (~100 instructions
     * a call, seven a keepalive round trip reading a head by lines); a string starting with
     * '*' is no number, so the order answers as before */
    const char *pat = t == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    if (t != LUA_TNIL) {
        if (t == LUA_TNUMBER || ((pat == NULL || pat[0] != '*') && lua_isnumber(L, 2))) {
            lua_Integer v = lua_tointeger(L, 2);
            if (v < 0) {
                return luaL_argerror(L, 2, "bad pattern argument");
            }
            mode = MG_LUA_TCP_SIZE;
            size = (size_t)v;
        } else if (t == LUA_TSTRING) {
            const char *p = pat;
            if (p[0] != '*') {
                return luaL_argerror(L, 2, lua_pushfstring(L, "bad pattern argument: %s", p));
            }
            if (p[1] == 'l') {
                mode = MG_LUA_TCP_LINE;
            } else if (p[1] == 'a') {
                mode = MG_LUA_TCP_ALL;
            } else {
                return luaL_argerror(L, 2, "bad pattern argument");
            }
        } else {
            return luaL_argerror(L, 2, "bad pattern argument");
        }
    }
    if (mode == MG_LUA_TCP_SIZE && size == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    s->rmode = mode;
    s->rsize = size;
    return start_read(L, s, 1, 0);
}

static int tcp_receiveany(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 2) {
        return luaL_error(L, "expecting 2 arguments (including the object), but got %d", n);
    }
    int ret;
    mg_lua_tcp_t *s = check_reader(L, 1, &ret);
    if (ret) {
        return ret;
    }
    if (!lua_isnumber(L, 2) || lua_tointeger(L, 2) <= 0) {
        return luaL_argerror(L, 2, "bad max argument");
    }
    s->rmode = MG_LUA_TCP_ANY;
    s->rsize = (size_t)lua_tointeger(L, 2);
    return start_read(L, s, 1, 0);
}

/* upvalues: the socket object, the iterator's state */
static int until_iterate(lua_State *L)
{
    int n = lua_gettop(L);
    if (n > 1) {
        return luaL_error(L, "expecting 0 or 1 arguments, but seen %d", n);
    }
    lua_Integer size = 0;
    if (n == 1 && !lua_isnil(L, 1)) {
        size = luaL_checkinteger(L, 1);
        if (size < 0) {
            size = 0;
        }
    }
    int ret;
    mg_lua_tcp_t *s = check_reader(L, lua_upvalueindex(1), &ret);
    if (ret) {
        return ret;
    }
    mg_lua_tcp_until_t *u = lua_touserdata(L, lua_upvalueindex(2));
    if (u->found) {
        /* size mode: the call after the pattern ends the iteration; the next one starts over */
        u->found = 0;
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
        return 3;
    }
    s->rmode = MG_LUA_TCP_UNTIL;
    s->rsize = (size_t)size;
    s->until = u;
    return start_read(L, s, lua_upvalueindex(1), lua_upvalueindex(2));
}

/* An iterator's state for a pattern of len bytes: the struct, the pattern, its failure table */
static size_t until_fail_off(size_t len)
{
    return (sizeof(mg_lua_tcp_until_t) + len + sizeof(size_t)) & ~(sizeof(size_t) - 1);
}

static size_t until_size(size_t len)
{
    return until_fail_off(len) + len * sizeof(size_t);
}

/* Fill u (until_size(len) bytes that do not move, as Lua's userdata) for the pattern. */
static void until_init(mg_lua_tcp_until_t *u, const char *pat, size_t len, int inclusive)
{
    memset(u, 0, sizeof(*u));
    u->len = len;
    u->inclusive = inclusive;
    memcpy(u->pat, pat, len);
    u->fail = (size_t *)((char *)u + until_fail_off(len));
    u->fail[0] = 0;
    for (size_t i = 1, k = 0; i < len; i++) {
        while (k > 0 && pat[i] != pat[k]) {
            k = u->fail[k - 1];
        }
        if (pat[i] == pat[k]) {
            k++;
        }
        u->fail[i] = k;
    }
}

static int tcp_receiveuntil(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 2 && n != 3) {
        return luaL_error(L, "expecting 2 or 3 arguments (including the object), but got %d", n);
    }
    mg_lua_check_phase(L, TCP_PHASES);
    mg_lua_tcp_get(L, 1);
    size_t len;
    const char *pat = luaL_checklstring(L, 2, &len);
    if (len == 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "pattern is empty");
        return 2;
    }
    int inclusive = 0;
    if (n == 3) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "inclusive");
        int t = lua_type(L, -1);
        if (t == LUA_TBOOLEAN) {
            inclusive = lua_toboolean(L, -1);
        } else if (t != LUA_TNIL) {
            return luaL_error(L, "bad \"inclusive\" option value type: %s", lua_typename(L, t));
        }
        lua_pop(L, 1);
    }
    lua_pushvalue(L, 1);
    until_init(lua_newuserdata(L, until_size(len)), pat, len, inclusive);
    lua_pushcclosure(L, until_iterate, 2);
    return 1;
}

/* ---- send ---- */

size_t mg_lua_socket_bytes(lua_State *L, int idx, char *out, int top)
{
    int t = lua_type(L, idx);
    size_t len = 0;
    const char *p;
    switch (t) {
    case LUA_TSTRING:
    case LUA_TNUMBER:
        p = lua_tolstring(L, idx, &len);
        break;
    case LUA_TNIL:
        if (!top) {
            luaL_argerror(L, 2, "bad data type nil found");
        }
        p = "nil";
        len = 3;
        break;
    case LUA_TBOOLEAN:
        if (!top) {
            luaL_argerror(L, 2, "bad data type boolean found");
        }
        p = lua_toboolean(L, idx) ? "true" : "false";
        len = strlen(p);
        break;
    case LUA_TTABLE: {
        luaL_checkstack(L, 4, "nested too deep");
        /* an array: positive integer keys only, up to the largest (a hole is a nil found) */
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            lua_pop(L, 1);
            lua_Number k = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
            if (k < 1 || k != (lua_Number)(size_t)k) {
                luaL_argerror(L, 2, "non-array table found");
            }
            if ((size_t)k > n) {
                n = (size_t)k;
            }
        }
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (int)i);
            size_t k = mg_lua_socket_bytes(L, lua_gettop(L), out ? out + len : NULL, 0);
            len += k;
            lua_pop(L, 1);
        }
        return len;
    }
    default:
        if (top) {
            luaL_argerror(L, 2,
                          lua_pushfstring(L,
                                          "string, number, boolean, nil, or array table "
                                          "expected, got %s",
                                          lua_typename(L, t)));
        }
        luaL_argerror(L, 2, lua_pushfstring(L, "bad data type %s found", lua_typename(L, t)));
        return 0;
    }
    if (out) {
        memcpy(out, p, len);
    }
    return len;
}

static int write_more(mg_lua_tcp_t *s, int *err)
{
    while (s->wpos < s->wlen) {
        mg_ssl_conn_t *sc = mg_lua_tcp_ssl(s);
        const char *p = s->wdata + s->wpos;
        size_t len = s->wlen - s->wpos;
        ssize_t n = s->downstream
                        ? (s->ctx && s->ctx->s ? mg_lua_stream_send(s->ctx->s, p, len)
                                               : s->downstream->send(s->downstream, p, len))
                    : sc ? mg_ssl_send(sc, mg_lua_tcp_log(s), p, len)
                         : send(s->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            s->wpos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return R_AGAIN;
        }
        *err = n < 0 ? errno : EPIPE;
        return R_ERRNO;
    }
    return R_DONE;
}

/* A failed send closes the connection (unless another coroutine reads it: then only sends
 * stop), as lua-nginx-module's send errors are fatal. */
static int push_write_result(lua_State *L, mg_lua_tcp_t *s, int rc, int err)
{
    if (rc == R_DONE) {
        lua_pushinteger(L, (lua_Integer)s->wlen);
        return 1;
    }
    if (rc == R_TIMEOUT) {
        if (s->conf->socket_log_errors) {
            mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), 0, "lua tcp socket write timed out");
        }
    } else if (mg_lua_tcp_ssl(s) == NULL) {
        mg_log_error(MG_LOG_ERR, mg_lua_tcp_log(s), err, "send() failed");
    }
    if (s->reading) {
        s->write_closed = 1;
    } else {
        mg_lua_tcp_close(s);
    }
    lua_pushnil(L);
    if (rc == R_TIMEOUT) {
        lua_pushliteral(L, "timeout");
    } else {
        mg_lua_tcp_push_errno(L, err);
    }
    return 2;
}

static void on_write(mg_lua_tcp_t *s, short what);

static void on_write_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_lua_tcp_t *s = arg;
    if (s->writing) {
        on_write(s, EV_WRITE);
    }
}

/* A TLS write waiting to read (write_wants_read): the socket's readability retries it. */
static void tls_write_waits(mg_lua_tcp_t *s)
{
    mg_ssl_conn_t *sc = mg_lua_tcp_ssl(s);
    if (sc == NULL || !sc->turn_on || !sc->write_wants_read) {
        return;
    }
    sc->turn_on = 0;
    sc->write_wants_read = 0;
    mg_lua_tcp_tls_ev_del(s, wr);
    if (s->tls_ev == NULL) {
        s->tls_ev = mg_calloc(sizeof(*s->tls_ev));
    }
    event_assign(&s->tls_ev->wr, mg_lua_event_base(), s->fd, EV_READ | mg_lua_tcp_et(s),
                 on_write_readable, s);
    event_add(&s->tls_ev->wr, NULL);
}

static void on_write(mg_lua_tcp_t *s, short what)
{
    int rc = R_TIMEOUT, err = 0;
    if (!(what & EV_TIMEOUT)) {
        rc = write_more(s, &err);
        if (rc == R_AGAIN) {
            tls_write_waits(s);
            mg_lua_tcp_arm(mg_lua_tcp_wev(s), s->send_timeout, s->conf->socket_send_timeout);
            return;
        }
    }
    mg_lua_tcp_tls_ev_del(s, wr);
    mg_lua_co_t *co = s->write_co;
    s->write_co = NULL;
    s->writing = 0;
    int n = co ? push_write_result(co->L, s, rc, err) : 0;
    if (!co && rc != R_DONE) {
        mg_lua_tcp_close(s);
    }
    mg_lua_tcp_unpin(s, &s->write_pin);
    if (co) {
        mg_lua_resume_co(co, n); /* s may be gone after this */
    }
}

static void on_write_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    on_write(arg, what);
}

static int tcp_send(lua_State *L)
{
    int n = lua_gettop(L);
    if (n != 2) {
        return luaL_error(L, "expecting 2 arguments (including the object), but got %d", n);
    }
    mg_lua_check_phase(L, TCP_PHASES);
    if (mg_lua_cur.co == NULL || mg_lua_event_base() == NULL) {
        return luaL_error(L, "no request ctx found");
    }
    mg_lua_tcp_t *s = mg_lua_tcp_get(L, 1);
    if (s->fd < 0 || s->write_closed) {
        if (mg_lua_socket_log_errors(s)) {
            mg_log_error(MG_LOG_ERR, mg_lua_log(), 0,
                         "attempt to send data on a closed socket: u:%016" PRIXPTR
                         ", c:%016" PRIXPTR ", ft:%d eof:%d",
                         (uintptr_t)s, s->fd >= 0 ? (uintptr_t)s : 0, 0, (int)s->read_closed);
        }
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    mg_lua_tcp_check_owner(L, s);
    int ret = busy(L, s, 0);
    if (ret) {
        return ret;
    }
    size_t len;
    if (lua_type(L, 2) == LUA_TSTRING) {
        /* a string is written from where it is; copied only if the socket cannot take it all */
        s->wdata = lua_tolstring(L, 2, &len);
    } else {
        len = mg_lua_socket_bytes(L, 2, NULL, 1);
        if (len > 0) {
            free(s->wbuf);
            s->wbuf = mg_alloc(len);
            mg_lua_socket_bytes(L, 2, s->wbuf, 1);
            s->wdata = s->wbuf;
        }
    }
    if (len == 0) {
        lua_pushinteger(L, 0);
        return 1;
    }
    s->wlen = len;
    s->wpos = 0;
    int err = 0;
    int rc = write_more(s, &err);
    if (rc != R_AGAIN) {
        return push_write_result(L, s, rc, err);
    }
    if (s->wdata != s->wbuf) {
        free(s->wbuf);
        s->wbuf = mg_alloc(len);
        memcpy(s->wbuf, s->wdata, len);
        s->wdata = s->wbuf;
    }
    event_assign(mg_lua_tcp_wev(s), mg_lua_event_base(), s->fd, EV_WRITE | mg_lua_tcp_et(s),
                 on_write_event, s);
    mg_lua_tcp_arm(mg_lua_tcp_wev(s), s->send_timeout, s->conf->socket_send_timeout);
    tls_write_waits(s);
    s->writing = 1;
    s->write_co = mg_lua_cur.co;
    return mg_lua_tcp_yield(L, s, 1, &s->write_pin);
}

void mg_lua_tcp_io_methods(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"send", tcp_send},
        {"receive", tcp_receive},
        {"receiveany", tcp_receiveany},
        {"receiveuntil", tcp_receiveuntil},
        {NULL, NULL},
    };
    luaL_register(L, NULL, methods);
}
