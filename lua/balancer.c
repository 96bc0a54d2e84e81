/*
 * balancer_by_lua_block / balancer_by_lua_file in an upstream{} block, and require
 * "ngx.balancer" (lua-resty-core's API): the block's peer selection becomes Lua code that
 * runs on every try (the first one and each proxy_next_upstream retry) within the request,
 * so ngx.var and ngx.ctx are the request's. The code cannot yield (as in OpenResty); it
 * names the peer with set_current_peer, and a try it names none for goes to the block's
 * "server" lines by round robin, as lua-nginx-module does. A Lua error, or ngx.exit with
 * ngx.ERROR or a status, gives 500; ngx.exit(ngx.DECLINED) fails the try (next upstream).
 * In a stream{} upstream{} block the same balancer runs within the session (stream-lua's
 * balancer_by_lua), on the stream VM, for the stream proxy's tries.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <sys/un.h>

#include "api.h"
#include "socket_tcp.h"
#include "stream.h"
#include "upstream.h"
#include "upstream_io.h"
#include "upstream_rr.h"

mg_module_t mg_lua_balancer_module;

typedef struct {
    mg_upstream_rr_data_t rr; /* first: round robin's state, for tries without a Lua peer */
    mg_upstream_peer_t peer;  /* the peer set_current_peer named for this try */
    unsigned has_peer : 1;    /* ... named during this try's code */
    unsigned conf_copied : 1; /* set_timeouts gave the request its own upstream conf */
    unsigned tls_saved : 1;   /* set_upstream_tls kept the location's TLS context in tls */
    struct ssl_ctx_st *tls;
    int last_state;       /* the last finished try's outcome (MG_PEER_*), -1: none */
    unsigned saved_phase; /* the request's Lua phase before the code ran */
    void (*saved_finished)(mg_lua_ctx_t *ctx, int how); /* the context's hooks meanwhile */
    void *saved_owner;
    mg_int_t pool_size; /* set_current_peer's pool_size option, for enable_keepalive */
    mg_str_t pool;      /* ... its pool option (data NULL: none) */
    mg_str_t host;      /* ... its host argument (data NULL: none) */
    mg_str_t ssl_name;  /* the request's own TLS name, while a host replaces it */
    unsigned ssl_name_saved : 1;
    mg_upstream_keepalive_t ka; /* enable_keepalive's, for this try's connection */
    mg_upstream_pick_t *pick;
    mg_uint_t last_status;
    char name[INET6_ADDRSTRLEN + 8 + sizeof(((struct sockaddr_un *)0)->sun_path)];
} lb_data_t;

/* ---- the balancer ---- */

static mg_int_t lb_init_group(mg_conf_t *cf, mg_upstream_group_t *g)
{
    return mg_upstream_rr_init_group(cf, g);
}

static mg_int_t lb_init_request(mg_request_t *r, mg_upstream_pick_t *pick)
{
    mg_int_t rc = mg_upstream_rr_init_request_size(r, pick, sizeof(lb_data_t));
    if (rc == MG_OK) {
        ((lb_data_t *)pick->data)->last_state = -1;
    }
    return rc;
}

/* enable_keepalive's pool, known once the code has run (set_upstream_tls and
 * bind_to_local_addr may come after it): the pool option, else the host argument, else the
 * TLS name of a TLS try (so a connection never serves another SNI), and the local address
 * the connection is bound to. The peer's address is compared besides. */
static void pool_key(mg_upstream_pick_t *pick)
{
    lb_data_t *d = pick->data;
    mg_upstream_t *u = pick->r->upstream;
    mg_str_t name = d->pool;
    char kind = 'p';
    if (name.data == NULL) {
        kind = 'h';
        name = d->host.data ? d->host : u->ssl_ctx ? mg_ssl_client_host(u->ssl_name) : name;
    }
    mg_str_t local = u->local ? u->local_name : (mg_str_t){0, NULL};
    size_t len = 1 + name.len + 1 + local.len;
    char *key = mg_palloc(pick->r->pool, len);
    key[0] = kind;
    if (name.len) { /* memcpy's pointers must not be NULL, even for no bytes */
        memcpy(key + 1, name.data, name.len);
    }
    key[1 + name.len] = '\n';
    if (local.len) {
        memcpy(key + 2 + name.len, local.data, local.len);
    }
    if (kind == 'h') {
        for (size_t i = 1; i <= name.len; i++) {
            key[i] = (char)tolower((unsigned char)key[i]);
        }
    }
    d->ka.key = (mg_str_t){.len = len, .data = key};
}

/* The code's end: what get_peer answers. */
static mg_int_t code_outcome(mg_upstream_pick_t *pick, mg_lua_ctx_t *ctx, int how)
{
    lb_data_t *d = pick->data;
    ctx->finished = d->saved_finished;
    ctx->owner = d->saved_owner;
    ctx->phase = d->saved_phase;
    if (how == MG_LUA_CO_ERROR) {
        return MG_ERROR;
    }
    if (how == MG_LUA_CO_EXIT || ctx->exited) { /* ngx.exit returns there (resp.c) */
        mg_int_t code = ctx->exit_code;
        ctx->exited = 0;
        if (code == MG_DECLINED || code == MG_BUSY) {
            return code;
        }
        if (code != MG_OK) {
            return MG_ERROR; /* ngx.ERROR, or a status: lua-nginx-module makes them 500 */
        }
    }
    if (d->has_peer) {
        pick->peer = &d->peer;
        pick->tries++;
        if (pick->keepalive) {
            pool_key(pick);
        }
        return MG_OK;
    }
    return mg_upstream_rr_get_peer(pick);
}

/* The code waited (a name being resolved) and ended now: the engine goes on. */
static void code_finished(mg_lua_ctx_t *ctx, int how)
{
    mg_upstream_pick_t *pick = ((lb_data_t *)ctx->owner)->pick;
    mg_upstream_peer_ready(pick, code_outcome(pick, ctx, how));
}

/* The code runs in a coroutine of the request so that set_current_peer may wait for the
 * resolver; the phase check keeps everything else that would yield out, as in OpenResty. */
static mg_int_t lb_get_peer(mg_upstream_pick_t *pick)
{
    mg_request_t *r = pick->r;
    lb_data_t *d = pick->data;
    /* a stream session's context otherwise (pick->session) */
    mg_lua_ctx_t *ctx = r ? mg_lua_get_ctx(r) : mg_lua_stream_ctx(pick->session);
    mg_lua_loc_conf_t *llcf = mg_lua_ctx_conf(ctx);
    d->has_peer = 0;
    d->pick = pick;
    pick->keepalive = NULL;
    d->saved_phase = ctx->phase;
    ctx->phase = MG_LUA_BALANCER;
    ctx->exited = 0;
    ctx->entry_done = 0;
    mg_lua_co_t *co = mg_lua_co_new(ctx, MG_LUA_KIND_ENTRY);
    if (mg_lua_code_push(co->L, r, pick->group->balancer_conf, llcf->code_cache) != MG_OK) {
        ctx->phase = d->saved_phase;
        return MG_ERROR;
    }
    d->saved_finished = ctx->finished;
    d->saved_owner = ctx->owner;
    ctx->finished = code_finished;
    ctx->owner = d;
    int how = mg_lua_sched_run(co, 0);
    if (how == MG_LUA_CO_WAIT) {
        return MG_AGAIN;
    }
    return code_outcome(pick, ctx, how);
}

static void lb_free_peer(mg_upstream_pick_t *pick, int outcome)
{
    lb_data_t *d = pick->data;
    mg_upstream_t *u = pick->r ? pick->r->upstream : NULL;
    d->last_state = outcome;
    d->last_status = u && u->state ? u->state->status : 0;
    if (pick->peer != &d->peer) {
        mg_upstream_rr_free_peer(pick, outcome);
    }
}

static const mg_upstream_balancer_t lua_balancer = {
    .name = "balancer_by_lua",
    .init_group = lb_init_group,
    .init_request = lb_init_request,
    .get_peer = lb_get_peer,
    .free_peer = lb_free_peer,
};

/* ---- directives ---- */

static const char *set_balancer(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_upstream_group_t *g = mg_upstream_current(cf);
    if (g->balancer == &lua_balancer) {
        return "is duplicate";
    }
    const char *err;
    mg_lua_code_t *code =
        mg_lua_code_from_arg(cf, MG_LUA_BALANCER, "balancer_by_lua", cf->args[cf->nargs - 1], &err);
    if (code == NULL) {
        return err;
    }
    mg_upstream_set_balancer(cf, &lua_balancer, code, MG_UPSTREAM_ALL);
    return MG_CONF_OK;
}

static const mg_command_t lua_balancer_commands[] = {
    {"balancer_by_lua_block", MG_CTX_UPSTREAM | MG_CTX_STREAM_UPS, MG_RAW_BLOCK, set_balancer,
     MG_NO_CONF, 0, NULL},
    {"balancer_by_lua_file", MG_CTX_UPSTREAM | MG_CTX_STREAM_UPS, MG_ARGS(1, 1), set_balancer,
     MG_NO_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t lua_balancer_defaults[] = {
    {"balancer_by_lua_block", MG_NO_DEFAULT},
    {"balancer_by_lua_file", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_lua_balancer_module = {
    .name = "lua_balancer",
    .commands = lua_balancer_commands,
    .defaults = lua_balancer_defaults,
};

/* ---- require "ngx.balancer" ---- */

static int fail(lua_State *L, const char *err)
{
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

/* The running try's state, or NULL with *err as lua-resty-core's functions answer elsewhere in
 * a request or OpenResty's fake one (as nil, err: "no upstream found" without an upstream); no
 * request at all (init_by_lua) raises "no request found". */
static mg_upstream_pick_t *current(lua_State *L, const char **err)
{
    if (mg_lua_probe) {
        mg_lua_check_phase(L, MG_LUA_BALANCER); /* docgen */
    }
    if (mg_lua_cur.s) {
        /* a stream session's: the try is the one the balancer's data names while it runs */
        if (mg_lua_cur.phase == MG_LUA_BALANCER) {
            return ((lb_data_t *)mg_lua_cur.ctx->owner)->pick;
        }
        *err = "no upstream found";
        return NULL;
    }
    if (mg_lua_cur.r == NULL && (mg_lua_cur.phase & MG_LUA_FAKE_REQUEST_PHASES)) {
        /* OpenResty's fake request (a timer, the worker hooks, the handshake) has none */
        *err = "no upstream found";
        return NULL;
    }
    mg_request_t *r = mg_lua_request(L);
    if (mg_lua_cur.phase == MG_LUA_BALANCER && r->upstream) {
        return &r->upstream->pick; /* the try whose code runs */
    }
    *err = r->upstream ? "API disabled in the current context" : "no upstream found";
    return NULL;
}

/* set_current_peer(host, port?, sni_host_or_options?): an IP address (port from the host's
 * ":port", else the argument), [v6], "unix:/path", or a name of /etc/hosts ("localhost" too). */
static int lb_set_current_peer(lua_State *L)
{
    const char *err;
    mg_upstream_pick_t *pick = current(L, &err);
    if (pick == NULL) {
        return fail(L, err);
    }
    lb_data_t *d = pick->data;
    size_t hlen;
    const char *host = luaL_checklstring(L, 1, &hlen);
    lua_Integer port = 0;
    if (!lua_isnoneornil(L, 2)) {
        port = lua_tointeger(L, 2);
    }
    char buf[300];
    if (hlen >= sizeof(buf)) {
        return fail(L, "invalid host");
    }
    memcpy(buf, host, hlen);
    buf[hlen] = '\0';
    size_t namelen = hlen;
    int is_unix = hlen >= 5 && memcmp(buf, "unix:", 5) == 0;
    if (!is_unix) {
        /* nginx's URL parser: the text after the last colon outside brackets is the port */
        char *rb = buf[0] == '[' ? strchr(buf, ']') : NULL;
        char *colon = rb ? (rb[1] == ':' ? rb + 1 : NULL) : strrchr(buf, ':');
        if (rb && rb[1] != '\0' && rb[1] != ':') {
            return fail(L, "invalid host");
        }
        if (colon) {
            char *end;
            long p = strtol(colon + 1, &end, 10);
            if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535) {
                return fail(L, "invalid port");
            }
            port = p;
            namelen = (size_t)(colon - buf);
        }
    }
    /* the third argument: the host (lua-resty-core 0.1.28: the TLS name, and part of the
     * keepalive pool's key), or the options table its enable_keepalive text names (pool,
     * pool_size) */
    mg_int_t pool_size = 30;
    mg_str_t pool = {0, NULL}, sni = {0, NULL};
    mg_pool_t *mp = pick->r ? pick->r->pool : pick->pool;
    int t3 = lua_type(L, 3);
    if (t3 == LUA_TSTRING) {
        size_t n;
        const char *h = lua_tolstring(L, 3, &n);
        if (n) {
            sni = mg_pstr(mp, h, n);
        }
    } else if (t3 == LUA_TTABLE) {
        lua_getfield(L, 3, "pool_size");
        if (!lua_isnil(L, -1)) {
            if (lua_type(L, -1) != LUA_TNUMBER || lua_tointeger(L, -1) <= 0) {
                return luaL_error(L, "bad option 'pool_size' to 'set_current_peer' (expected > 0)");
            }
            pool_size = lua_tointeger(L, -1);
        }
        lua_pop(L, 1);
        lua_getfield(L, 3, "pool");
        if (!lua_isnil(L, -1)) {
            if (lua_type(L, -1) != LUA_TSTRING) {
                return luaL_error(L,
                                  "bad option 'pool' to 'set_current_peer' (string expected, "
                                  "got %s)",
                                  luaL_typename(L, -1));
            }
            size_t n;
            const char *pn = lua_tolstring(L, -1, &n);
            pool = mg_pstr(mp, pn, n);
        }
        lua_pop(L, 1);
    } else if (t3 != LUA_TNONE && t3 != LUA_TNIL) {
        return luaL_error(L, "bad argument #3 to 'set_current_peer' (string expected, got %s)",
                          luaL_typename(L, 3));
    }
    mg_upstream_peer_t *peer = &d->peer;
    memset(peer, 0, sizeof(*peer));
    int top = lua_gettop(L);
    if (mg_lua_socket_parse_peer(L, &peer->sockaddr, &peer->socklen, buf, namelen,
                                 is_unix ? -1 : (int)(uint16_t)port) != 0) {
        /* its message is cosockets' wording; the balancer's is nginx's URL parser's */
        size_t ml;
        const char *m = lua_tolstring(L, -1, &ml);
        if (m && ml > 11 && memcmp(m, "no resolver", 11) == 0) {
            lua_settop(L, top);
            return fail(L, "no host allowed");
        }
        /* "failed to parse host name \"x\": invalid port": the balancer's says the reason */
        const char *reason = m ? strstr(m, "\": ") : NULL;
        lua_pushnil(L);
        if (reason) {
            lua_pushstring(L, reason + 3);
        } else {
            lua_pushvalue(L, -2);
        }
        return 2;
    }
    if (peer->sockaddr.ss_family == AF_INET6 || peer->sockaddr.ss_family == AF_INET) {
        /* parse_peer sets the port of a [v6] only */
        ((struct sockaddr_in *)&peer->sockaddr)->sin_port = htons((uint16_t)port);
        if (peer->sockaddr.ss_family == AF_INET6) {
            ((struct sockaddr_in6 *)&peer->sockaddr)->sin6_port = htons((uint16_t)port);
        }
    }
    /* $upstream_addr's text, kept in the request pool: each try has its own */
    char ip[INET6_ADDRSTRLEN];
    int n;
    if (peer->sockaddr.ss_family == AF_UNIX) {
        n = snprintf(d->name, sizeof(d->name), "unix:%s",
                     ((struct sockaddr_un *)&peer->sockaddr)->sun_path);
    } else if (peer->sockaddr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer->sockaddr)->sin6_addr, ip, sizeof(ip));
        n = snprintf(d->name, sizeof(d->name), "[%s]:%u", ip, (unsigned)(uint16_t)port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&peer->sockaddr)->sin_addr, ip, sizeof(ip));
        n = snprintf(d->name, sizeof(d->name), "%s:%u", ip, (unsigned)(uint16_t)port);
    }
    peer->name = mg_pstr(pick->r ? pick->r->pool : pick->pool, d->name, (size_t)n);
    peer->server = peer->name;
    peer->weight = 1;
    peer->transient = 1;
    d->has_peer = 1;
    d->pool_size = pool_size;
    d->pool = pool;
    d->host = sni;
    if (pick->r) {
        /* the host is this try's TLS name (in proxy_ssl_name's place); a try without one
         * has the request's own again */
        mg_upstream_t *u = pick->r->upstream;
        if (sni.data && !d->ssl_name_saved) {
            d->ssl_name = u->ssl_name;
            d->ssl_name_saved = 1;
        }
        if (d->ssl_name_saved) {
            u->ssl_name = sni.data ? sni : d->ssl_name;
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* set_more_tries(count): after this try, count more (within proxy_next_upstream_tries) */
static int lb_set_more_tries(lua_State *L)
{
    const char *err;
    mg_upstream_pick_t *pick = current(L, &err);
    if (pick == NULL) {
        return fail(L, err);
    }
    lua_Integer count = luaL_checkinteger(L, 1);
    mg_upstream_t *u = pick->r ? pick->r->upstream : NULL;
    if (count < 0) {
        count = 0;
    }
    /* stream: the proxy cuts it to proxy_next_upstream_tries itself */
    mg_uint_t total = (u ? u->tries : pick->tries) + 1 + (mg_uint_t)count;
    const char *warn = NULL;
    if (u && u->conf->next_upstream_tries && total > u->conf->next_upstream_tries) {
        total = u->conf->next_upstream_tries;
        warn = "reduced tries due to limit";
    }
    pick->max_tries = total;
    lua_pushboolean(L, 1);
    if (warn) {
        lua_pushstring(L, warn);
        return 2;
    }
    return 1;
}

/* get_last_failure(): "failed" or "next" and the status of the try before this one */
static int lb_get_last_failure(lua_State *L)
{
    const char *err;
    mg_upstream_pick_t *pick = current(L, &err);
    if (pick == NULL) {
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 3;
    }
    lb_data_t *d = pick->data;
    if ((pick->r ? pick->r->upstream->tries : pick->tries) == 0 || d->last_state <= MG_PEER_OK) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, d->last_state == MG_PEER_NEXT ? "next" : "failed");
    lua_pushinteger(L, (lua_Integer)d->last_status);
    return 2;
}

/* enable_keepalive(idle_timeout?, max_requests?): this try's connection goes to the group's
 * pool once the response is read (60 s idle, 100 requests by default; 0: no limit), in the
 * pool set_current_peer named (pool_key): pool_size connections of that pool at most, taken
 * only by tries of the same pool and address */
static int lb_enable_keepalive(lua_State *L)
{
    lua_Number timeout = 60;
    lua_Integer requests = 100;
    if (!lua_isnoneornil(L, 1)) {
        if (lua_type(L, 1) != LUA_TNUMBER) {
            return luaL_error(L, "bad argument #1 to 'enable_keepalive' (number expected, got %s)",
                              luaL_typename(L, 1));
        }
        timeout = lua_tonumber(L, 1);
        if (timeout < 0) {
            return luaL_error(L, "bad argument #1 to 'enable_keepalive' (expected >= 0)");
        }
    }
    if (!lua_isnoneornil(L, 2)) {
        if (lua_type(L, 2) != LUA_TNUMBER) {
            return luaL_error(L, "bad argument #2 to 'enable_keepalive' (number expected, got %s)",
                              luaL_typename(L, 2));
        }
        requests = lua_tointeger(L, 2);
        if (requests < 0) {
            return luaL_error(L, "bad argument #2 to 'enable_keepalive' (expected >= 0)");
        }
    }
    const char *err;
    mg_upstream_pick_t *pick = current(L, &err);
    if (pick == NULL) {
        return fail(L, err);
    }
    lb_data_t *d = pick->data;
    if (pick->r == NULL) {
        return fail(L, "not supported in stream{}"); /* the stream proxy keeps no connections */
    }
    if (!d->has_peer) {
        return fail(L, "no current peer set");
    }
    d->ka.size = d->pool_size;
    d->ka.requests = (mg_int_t)requests;
    d->ka.timeout = (mg_msec_t)(timeout * 1000);
    pick->keepalive = &d->ka;
    lua_pushboolean(L, 1);
    return 1;
}

/* recreate_request(): the request for the upstream made again (ngx.var changes since) */
static int lb_recreate_request(lua_State *L)
{
    const char *err;
    mg_upstream_pick_t *pick = current(L, &err);
    if (pick == NULL) {
        return fail(L, err);
    }
    if (pick->r == NULL) {
        return fail(L, "not supported in stream{}");
    }
    mg_upstream_t *u = pick->r->upstream;
    if (u->recreate_request == NULL || u->recreate_request(u) != MG_OK) {
        return fail(L, "failed to recreate the upstream request");
    }
    lua_pushboolean(L, 1);
    return 1;
}

static mg_msec_t timeout_arg(lua_State *L, int i, const char *what)
{
    if (lua_isnoneornil(L, i)) {
        return 0;
    }
    if (lua_type(L, i) != LUA_TNUMBER || lua_tonumber(L, i) <= 0) {
        luaL_where(L, 1);
        lua_pushfstring(L, "bad %s timeout", what);
        lua_concat(L, 2);
        lua_error(L);
    }
    mg_msec_t ms = (mg_msec_t)(lua_tonumber(L, i) * 1000);
    return ms > 0 ? ms : 1;
}

/* set_timeouts(connect, send, read) in seconds (nil: the configuration's), for this try and
 * the next ones of the request */
static int lb_set_timeouts(lua_State *L)
{
    mg_msec_t c = timeout_arg(L, 1, "connect");
    mg_msec_t s = timeout_arg(L, 2, "send");
    mg_msec_t rd = timeout_arg(L, 3, "read");
    const char *err;
    mg_upstream_pick_t *pick = current(L, &err);
    if (pick == NULL) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, err);
        return 2;
    }
    lb_data_t *d = pick->data;
    if (pick->r == NULL) {
        /* the stream proxy's: connect, and proxy_timeout for send or read (read first) */
        pick->connect_timeout = c ? c : pick->connect_timeout;
        pick->timeout = rd ? rd : s ? s : pick->timeout;
        lua_pushboolean(L, 1);
        return 1;
    }
    mg_upstream_t *u = pick->r->upstream;
    if (!d->conf_copied) {
        /* the location's conf is shared by every request: this one gets its own copy */
        mg_upstream_conf_t *conf = mg_palloc(pick->r->pool, sizeof(*conf));
        *conf = *u->conf;
        u->conf = conf;
        d->conf_copied = 1;
    }
    if (c) {
        u->conf->connect_timeout = c;
    }
    if (s) {
        u->conf->send_timeout = s;
    }
    if (rd) {
        u->conf->read_timeout = rd;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* set_upstream_tls(on): false: this request's tries go plain even with proxy_pass https://;
 * true: back to the location's TLS (nothing changes without one). Pooled connections are
 * kept apart by TLS context, so a plain one is never taken for a TLS try or the reverse. */
static int lb_set_upstream_tls(lua_State *L)
{
    int on = !(lua_type(L, 1) == LUA_TBOOLEAN && !lua_toboolean(L, 1)) &&
             !(lua_type(L, 1) == LUA_TNUMBER && lua_tonumber(L, 1) == 0);
    const char *err;
    mg_upstream_pick_t *pick = current(L, &err);
    if (pick == NULL) {
        return fail(L, err);
    }
    lb_data_t *d = pick->data;
    mg_upstream_t *u = pick->r->upstream;
    if (!d->tls_saved) {
        d->tls = u->ssl_ctx;
        d->tls_saved = 1;
    }
    u->ssl_ctx = on ? d->tls : NULL;
    if (u->ssl_ctx) {
        mg_str_set(&u->schema, "https://");
    } else {
        mg_str_set(&u->schema, "http://");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* bind_to_local_addr(addr): this request's next connections bind to addr ("IP", "IP:port",
 * "[IPv6]:port") before connecting, as proxy_bind does (a bind() failure is its 500) */
static int lb_bind_to_local_addr(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING) {
        return luaL_error(L, "bad argument #1 to 'bind_to_local_addr' (string expected, got %s)",
                          luaL_typename(L, 1));
    }
    const char *err;
    mg_upstream_pick_t *pick = current(L, &err);
    if (pick == NULL) {
        return fail(L, err);
    }
    mg_request_t *r = pick->r;
    size_t len;
    const char *addr = lua_tolstring(L, 1, &len);
    mg_str_t text = mg_pstr(r->pool, addr, len);
    struct sockaddr_storage *ss = mg_pcalloc(r->pool, sizeof(*ss));
    socklen_t sslen;
    if (len == 0 || mg_upstream_parse_local(text, ss, &sslen) != MG_OK) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid addr %s", addr);
        return 2;
    }
    mg_upstream_t *u = r->upstream;
    u->local = ss;
    u->local_len = sslen;
    u->local_name = text;
    lua_pushboolean(L, 1);
    return 1;
}

/* set_current_peer with a name only the resolver knows: resolved first (the code waits), then
 * the C function with the address; an unknown name is nil and the resolver's message. */
static const char wrapper[] = "local raw, need, resolve = ...\n"
                              "local type, match, get_phase = type, string.match, ngx.get_phase\n"
                              "return function(host, port, ...)\n"
                              "    if type(host) == 'string' and get_phase() == 'balancer' then\n"
                              "        local name, p = match(host, '^([^:%[%]/]+):(%d+)$')\n"
                              "        local h = name or host\n"
                              "        if need(h) then\n"
                              "            local addr, err = resolve(h)\n"
                              "            if not addr then\n"
                              "                return nil, err\n"
                              "            end\n"
                              "            return raw(addr, p or port, ...)\n"
                              "        end\n"
                              "    end\n"
                              "    return raw(host, port, ...)\n"
                              "end\n";

static int open_balancer(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"set_current_peer", lb_set_current_peer},
        {"set_more_tries", lb_set_more_tries},
        {"get_last_failure", lb_get_last_failure},
        {"set_timeouts", lb_set_timeouts},
        {"recreate_request", lb_recreate_request},
        {"enable_keepalive", lb_enable_keepalive},
        {"set_upstream_tls", lb_set_upstream_tls},
        {"bind_to_local_addr", lb_bind_to_local_addr},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_register(L, NULL, fns);
    if (luaL_loadbuffer(L, wrapper, sizeof(wrapper) - 1, "=ngx.balancer") != 0) {
        return lua_error(L);
    }
    lua_pushcfunction(L, lb_set_current_peer);
    lua_pushcfunction(L, mg_lua_socket_need_resolve);
    lua_pushcfunction(L, mg_lua_socket_resolve);
    lua_call(L, 3, 1);
    lua_setfield(L, -2, "set_current_peer");
    lua_pushliteral(L, "0.1.25");
    lua_setfield(L, -2, "version");
    return 1;
}

void mg_lua_balancer_preload(lua_State *L)
{
    mg_lua_preload(L, "ngx.balancer", open_balancer);
}
