/*
 * Lua code in the TLS handshake, as lua-nginx-module's ssl_client_hello_by_lua*,
 * ssl_certificate_by_lua* (http or server; and in stream{} or its servers, as stream-lua's),
 * ssl_session_fetch_by_lua* and ssl_session_store_by_lua* (http): the directives, and the hooks
 * core/http/ssl.c calls from OpenSSL's callbacks for a server of either layer. The code runs in a
 * coroutine without a request, as a timer's; when it waits (ngx.sleep, a cosocket), the hook
 * answers MG_AGAIN and the handshake waits with the connection's events off; the code's end resumes
 * the handshake, which asks the hook again. The connection's context (and so its ngx.ctx) is one
 * for all its handshake phases; its requests or session inherit that table (ctx.c).
 */
#include "ssl.h"
#include "conn.h"
#include "lua_ssl.h"
#include "stream.h"

typedef struct {
    mg_lua_code_t *client_hello;
    mg_lua_code_t *cert;
} lua_ssl_srv_conf_t;

typedef struct {
    mg_lua_code_t *sess_fetch;
    mg_lua_code_t *sess_store;
} lua_ssl_main_conf_t;

mg_module_t mg_lua_ssl_module;

enum { ST_IDLE, ST_WAITING, ST_DONE };

static int conn_index = -1; /* SSL ex data: the connection's mg_lua_ssl_conn_t */

static const struct {
    unsigned phase;
    const char *label;  /* the chunk names' */
    const char *action; /* the connection's log action while it runs (a timeout's line) */
} hooks[] = {
    [MG_SSL_HOOK_CLIENT_HELLO] = {MG_LUA_SSL_CLIENT_HELLO, "ssl_client_hello_by_lua",
                                  "loading SSL client hello by lua"},
    [MG_SSL_HOOK_CERT] = {MG_LUA_SSL_CERT, "ssl_certificate_by_lua",
                          "loading SSL certificate by lua"},
    [MG_SSL_HOOK_SESS_FETCH] = {MG_LUA_SSL_SESS_FETCH, "ssl_session_fetch_by_lua",
                                "fetching SSL session by lua"},
    [MG_SSL_HOOK_SESS_STORE] = {MG_LUA_SSL_SESS_STORE, "ssl_session_store_by_lua",
                                "storing SSL session by lua"},
};

/* ---- directives ---- */

static const char *set_code(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_lua_code_t **slot = (mg_lua_code_t **)((char *)conf + cmd->offset);
    if (*slot) {
        return "is duplicate";
    }
    int hook = (int)(intptr_t)cmd->post;
    const char *err;
    *slot = mg_lua_code_from_arg(cf, hooks[hook].phase, hooks[hook].label, cf->args[cf->nargs - 1],
                                 &err);
    return *slot ? MG_CONF_OK : err;
}

#define SRV_CODE(name, args, hook, field)                                                          \
    {                                                                                              \
        name, MG_HTTP_SRV | MG_CTX_STREAM | MG_CTX_STREAM_SRV, args, set_code, MG_SRV_CONF,        \
            offsetof(lua_ssl_srv_conf_t, field), (void *)(intptr_t)(hook)                          \
    }
#define MAIN_CODE(name, args, hook, field)                                                         \
    {                                                                                              \
        name, MG_CTX_HTTP, args, set_code, MG_MAIN_CONF, offsetof(lua_ssl_main_conf_t, field),     \
            (void *)(intptr_t)(hook)                                                               \
    }

static const mg_command_t lua_ssl_commands[] = {
    SRV_CODE("ssl_client_hello_by_lua_block", MG_RAW_BLOCK, MG_SSL_HOOK_CLIENT_HELLO, client_hello),
    SRV_CODE("ssl_client_hello_by_lua_file", MG_ARGS(1, 1), MG_SSL_HOOK_CLIENT_HELLO, client_hello),
    SRV_CODE("ssl_certificate_by_lua_block", MG_RAW_BLOCK, MG_SSL_HOOK_CERT, cert),
    SRV_CODE("ssl_certificate_by_lua_file", MG_ARGS(1, 1), MG_SSL_HOOK_CERT, cert),
    MAIN_CODE("ssl_session_fetch_by_lua_block", MG_RAW_BLOCK, MG_SSL_HOOK_SESS_FETCH, sess_fetch),
    MAIN_CODE("ssl_session_fetch_by_lua_file", MG_ARGS(1, 1), MG_SSL_HOOK_SESS_FETCH, sess_fetch),
    MAIN_CODE("ssl_session_store_by_lua_block", MG_RAW_BLOCK, MG_SSL_HOOK_SESS_STORE, sess_store),
    MAIN_CODE("ssl_session_store_by_lua_file", MG_ARGS(1, 1), MG_SSL_HOOK_SESS_STORE, sess_store),
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static void *create_srv_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(lua_ssl_srv_conf_t));
}

static const char *merge_srv_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    lua_ssl_srv_conf_t *prev = parent, *conf = child;
    if (conf->client_hello == NULL) {
        conf->client_hello = prev->client_hello;
    }
    if (conf->cert == NULL) {
        conf->cert = prev->cert;
    }
    return MG_CONF_OK;
}

static const mg_ssl_hooks_t lua_hooks;

static void *create_main_conf(mg_conf_t *cf)
{
    /* the core asks these hooks while it makes the servers' contexts */
    mg_ssl_hooks = &lua_hooks;
    /* made here, under embed.c's lock, not by a first handshake: two embedded servers'
     * threads would race to make it */
    if (conn_index < 0) {
        conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    }
    return mg_pcalloc(cf->pool, sizeof(lua_ssl_main_conf_t));
}

static mg_lua_code_t *hook_code(const mg_ssl_hook_srv_t *srv, int hook)
{
    lua_ssl_srv_conf_t *lscf = srv->srv_conf[mg_lua_ssl_module.index];
    lua_ssl_main_conf_t *lmain = srv->main_conf[mg_lua_ssl_module.index];
    switch (hook) {
    case MG_SSL_HOOK_CLIENT_HELLO:
        return lscf->client_hello;
    case MG_SSL_HOOK_CERT:
        return lscf->cert;
    case MG_SSL_HOOK_SESS_FETCH:
        return lmain->sess_fetch;
    case MG_SSL_HOOK_SESS_STORE:
        return lmain->sess_store;
    }
    return NULL;
}

static int hook_has(const mg_ssl_hook_srv_t *srv, int hook)
{
    return hook_code(srv, hook) != NULL;
}

/* ---- running the code ---- */

/* The phase's lines: lua-nginx-module's context, without a request. */
static size_t log_handler(mg_log_t *log, char *buf, size_t len)
{
    mg_lua_ssl_conn_t *sc = log->data;
    char *end = mg_sprintf_end(buf, buf + len, ", context: %s, client: %s, server: %s",
                               mg_lua_phase_context(sc->ctx.phase), sc->c->addr_text,
                               sc->srv->addr_text(sc->c));
    return (size_t)(end - buf);
}

/* The code's coroutines go (it ended, or the connection closed while it waited). */
static void stop(mg_lua_ssl_conn_t *sc)
{
    if (sc->ctx.cos) {
        mg_lua_socket_tcp_ctx_done(&sc->ctx);
        mg_lua_co_free_all(&sc->ctx);
    }
}

/* The connection's pool goes (it closed): code still waiting is stopped, its late events
 * dropped, and the SSL object, which may outlive the pool (an HTTP/2 connection's streams keep
 * it), forgets the state. */
static void conn_gone(void *data)
{
    mg_lua_ssl_conn_t *sc = data;
    stop(sc);
    luaL_unref(sc->ctx.lmcf->L, LUA_REGISTRYINDEX, sc->ctx.ctx_ref);
    sc->ctx.ctx_ref = LUA_NOREF;
    SSL_SESSION_free(sc->sess);
    sc->sess = NULL;
    SSL_set_ex_data(sc->ssl, conn_index, NULL);
}

static void phase_finished(mg_lua_ctx_t *ctx, int how);

static mg_lua_ssl_conn_t *conn_state(mg_connection_t *c, mg_lua_main_conf_t *lmcf)
{
    mg_lua_ssl_conn_t *sc = SSL_get_ex_data(c->ssl->ssl, conn_index);
    if (sc) {
        return sc;
    }
    sc = mg_pcalloc(c->pool, sizeof(mg_lua_ssl_conn_t));
    sc->c = c;
    sc->ssl = c->ssl->ssl;
    sc->ctx.lmcf = lmcf;
    sc->ctx.ctx_ref = LUA_NOREF;
    sc->ctx.co_map_ref = LUA_NOREF;
    sc->ctx.finished = phase_finished;
    sc->ctx.owner = sc;
    sc->ctx.log = &sc->log;
    SSL_set_ex_data(c->ssl->ssl, conn_index, sc);
    mg_pool_cleanup_add(c->pool, conn_gone, sc);
    return sc;
}

/* How the code ended: it returned or called ngx.exit(ngx.OK) or with a 2xx status -> go on
 * (lua-nginx-module finishes its fake request with the code: only an error or a special
 * response fails); an error or another code (ngx.ERROR, 403) -> the handshake is aborted
 * (the error was logged). */
static mg_int_t outcome(mg_lua_ssl_conn_t *sc, int how)
{
    mg_int_t code = sc->ctx.exit_code;
    if (how == MG_LUA_CO_DONE ||
        (how == MG_LUA_CO_EXIT && (code == MG_OK || (code >= 200 && code < 300)))) {
        return MG_OK;
    }
    return MG_ERROR;
}

/* The hook's answer to OpenSSL once the code ended. */
static mg_int_t answer(mg_lua_ssl_conn_t *sc, void *arg)
{
    sc->state = ST_IDLE;
    if (sc->hook == MG_SSL_HOOK_SESS_FETCH) {
        mg_ssl_hook_fetch_t *f = arg;
        f->sess = sc->rc == MG_OK ? sc->sess : NULL;
        if (f->sess == NULL) {
            SSL_SESSION_free(sc->sess);
        }
        sc->sess = NULL;
        return MG_OK; /* a failed fetch is a full handshake */
    }
    sc->new_sess = NULL;
    return sc->rc;
}

/* The code waited and now ended (from its event): the handshake goes on. */
static void phase_finished(mg_lua_ctx_t *ctx, int how)
{
    mg_lua_ssl_conn_t *sc = ctx->owner;
    sc->rc = outcome(sc, how);
    sc->state = ST_DONE;
    stop(sc);
    sc->c->log.action = "SSL handshaking";
    sc->srv->resume(sc->c); /* may close c: sc is not touched after */
}

static mg_int_t hook_run(mg_connection_t *c, const mg_ssl_hook_srv_t *srv, int hook, void *arg)
{
    /* the VM of the server's block */
    mg_lua_main_conf_t *lmcf =
        srv->main_conf[srv->stream ? mg_stream_lua_module.index : mg_lua_module.index];
    mg_lua_ssl_conn_t *sc = conn_state(c, lmcf);
    if (sc->state == ST_WAITING) {
        return MG_AGAIN;
    }
    if (sc->state == ST_DONE && sc->hook == hook) {
        return answer(sc, arg); /* OpenSSL asks again after the code that waited ended */
    }
    mg_lua_code_t *code = hook_code(srv, hook);
    mg_lua_ctx_t *ctx = &sc->ctx;
    sc->hook = hook;
    sc->srv = srv;
    sc->state = ST_IDLE;
    sc->log = c->log;
    sc->log.handler = log_handler;
    sc->log.data = sc;
    sc->log.action = NULL;
    if (hook == MG_SSL_HOOK_SESS_FETCH) {
        mg_ssl_hook_fetch_t *f = arg;
        sc->sid_len = mg_min(f->id_len, sizeof(sc->sid));
        memcpy(sc->sid, f->id, sc->sid_len);
    } else if (hook == MG_SSL_HOOK_SESS_STORE) {
        sc->new_sess = arg;
    }
    ctx->phase = hooks[hook].phase;
    ctx->exited = 0;
    ctx->exec = 0;
    ctx->entry_done = 0;
    ctx->waiting = 0;
    ctx->exit_code = MG_OK;
    mg_lua_co_t *co = mg_lua_co_new(ctx, MG_LUA_KIND_ENTRY);
    int how = MG_LUA_CO_ERROR;
    const char *action = c->log.action;
    c->log.action = hooks[hook].action;
    if (mg_lua_code_push(co->L, NULL, code, 1) == MG_OK) {
        how = mg_lua_sched_run(co, 0);
    }
    if (how == MG_LUA_CO_WAIT && hook != MG_SSL_HOOK_SESS_STORE) {
        sc->state = ST_WAITING;
        return MG_AGAIN;
    }
    c->log.action = action;
    /* (the store's code cannot wait: what it left waiting is stopped) */
    sc->rc = outcome(sc, how);
    stop(sc);
    return answer(sc, arg);
}

static const mg_ssl_hooks_t lua_hooks = {
    .has = hook_has,
    .run = hook_run,
};

int mg_lua_ssl_ctx_ref(mg_connection_t *c, const mg_lua_main_conf_t *lmcf)
{
    if (c->ssl == NULL || conn_index < 0) {
        return LUA_NOREF;
    }
    mg_lua_ssl_conn_t *sc = SSL_get_ex_data(c->ssl->ssl, conn_index);
    return sc && sc->ctx.lmcf == lmcf ? sc->ctx.ctx_ref : LUA_NOREF;
}

mg_lua_ssl_conn_t *mg_lua_ssl_running(void)
{
    if (mg_lua_cur.ctx == NULL ||
        !(mg_lua_cur.phase & (MG_LUA_SSL_YIELDABLE | MG_LUA_SSL_SESS_STORE))) {
        return NULL;
    }
    return mg_lua_cur.ctx->owner;
}

SSL *mg_lua_ssl_conn(lua_State *L, mg_connection_t **c, const char **err)
{
    mg_lua_ssl_conn_t *sc = mg_lua_ssl_running();
    if (sc) {
        *c = sc->c;
        return sc->c->ssl->ssl;
    }
    if (mg_lua_probe && (mg_lua_cur.phase & (MG_LUA_SSL_YIELDABLE | MG_LUA_SSL_SESS_STORE))) {
        luaL_error(L, "docgen: allowed"); /* a handshake's code finds its connection */
    }
    if (mg_lua_cur.r == NULL && (mg_lua_cur.phase & MG_LUA_FAKE_REQUEST_PHASES)) {
        /* OpenResty's fake request (a timer, the worker hooks) has a connection without TLS */
        *err = "bad request";
        return NULL;
    }
    mg_request_t *r = mg_lua_request(L);
    *c = r->connection;
    if (r->connection->ssl == NULL) {
        *err = "bad request";
        return NULL;
    }
    return r->connection->ssl->ssl;
}

int mg_lua_ssl_fail(lua_State *L, const char *err)
{
    ERR_clear_error();
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

int mg_lua_ssl_open_lib(lua_State *L, const luaL_Reg *fns)
{
    int n = 0;
    while (fns[n].name) {
        n++;
    }
    lua_createtable(L, 0, n + 1);
    luaL_register(L, NULL, fns);
    lua_pushliteral(L, "0.1.25");
    lua_setfield(L, -2, "version");
    return 1;
}

/* stream{}: the same server conf (ssl_client_hello_by_lua*, ssl_certificate_by_lua*); the
 * main conf stays empty (no session hooks in stream-lua) */
static const mg_stream_module_t lua_ssl_stream = {
    .create_main_conf = create_main_conf,
    .create_srv_conf = create_srv_conf,
    .merge_srv_conf = merge_srv_conf,
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t lua_ssl_defaults[] = {
    {"ssl_client_hello_by_lua_block", MG_NO_DEFAULT},
    {"ssl_client_hello_by_lua_file", MG_NO_DEFAULT},
    {"ssl_certificate_by_lua_block", MG_NO_DEFAULT},
    {"ssl_certificate_by_lua_file", MG_NO_DEFAULT},
    {"ssl_session_fetch_by_lua_block", MG_NO_DEFAULT},
    {"ssl_session_fetch_by_lua_file", MG_NO_DEFAULT},
    {"ssl_session_store_by_lua_block", MG_NO_DEFAULT},
    {"ssl_session_store_by_lua_file", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_lua_ssl_module = {
    .name = "lua_ssl",
    .commands = lua_ssl_commands,
    .defaults = lua_ssl_defaults,
    .create_main_conf = create_main_conf,
    .create_srv_conf = create_srv_conf,
    .merge_srv_conf = merge_srv_conf,
    .stream = &lua_ssl_stream,
};
