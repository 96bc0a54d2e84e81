/*
 * What the lua/ssl*.c files share: the Lua state of a TLS connection whose handshake runs Lua
 * code (ssl.c), and how the ngx.ssl functions find the connection they are about.
 */
#ifndef MG_LUA_LUA_SSL_H
#define MG_LUA_LUA_SSL_H

#include <openssl/ssl.h>

#include "api.h"
#include "conn.h"

/* A connection's handshake code: one phase at a time (client hello, certificate, session
 * fetch or store), its context reused; kept in the connection's pool. */
typedef struct {
    mg_lua_ctx_t ctx;
    mg_connection_t *c;
    SSL *ssl; /* c's: the state is its ex data until c's pool goes (the SSL may outlive it) */
    const mg_ssl_hook_srv_t *srv; /* the server whose code runs (http's or stream's) */
    mg_log_t log;                 /* c's log, with the phase as its context */
    int hook;                     /* MG_SSL_HOOK_* running or last run */
    int state;   /* IDLE, WAITING (the handshake waits), DONE (the answer is in rc) */
    mg_int_t rc; /* MG_OK or MG_ERROR */
    unsigned char sid[SSL_MAX_SSL_SESSION_ID_LENGTH]; /* fetch: the session id asked for */
    size_t sid_len;
    SSL_SESSION *sess;     /* fetch: set_serialized_session's session, until handed over */
    SSL_SESSION *new_sess; /* store: the session being stored */
} mg_lua_ssl_conn_t;

/* The registry ref of the ngx.ctx table the handshake's code of c (a TLS connection, of http
 * or stream) made in lmcf's VM, or LUA_NOREF: the requests and session on c inherit it
 * (ctx.c). */
int mg_lua_ssl_ctx_ref(mg_connection_t *c, const mg_lua_main_conf_t *lmcf);
/* The handshake whose code runs now, or NULL (a request's code, a timer...). */
mg_lua_ssl_conn_t *mg_lua_ssl_running(void);
/* The TLS connection of the running code: a handshake's, or a request's connection. Raises
 * "no request found" where there is neither; NULL with *err "bad request" on a plain
 * connection. */
SSL *mg_lua_ssl_conn(lua_State *L, mg_connection_t **c, const char **err);

/* nil, err: a ngx.ssl* function's failure, OpenSSL's error queue emptied (it is not logged). */
int mg_lua_ssl_fail(lua_State *L, const char *err);
/* A ngx.ssl* module's table (fns and lua-resty-core's version), left on the stack: returns 1. */
int mg_lua_ssl_open_lib(lua_State *L, const luaL_Reg *fns);

/* The ngx.ssl.clienthello and ngx.ssl.session tables (package.preload's, ssl_api.c). */
int mg_lua_ssl_open_clienthello(lua_State *L);
int mg_lua_ssl_open_session(lua_State *L);

#endif
