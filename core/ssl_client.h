/*
 * TLS as a client (OpenSSL 3), shared by the proxy's https upstreams and the Lua cosockets:
 * the client settings every *_ssl_* family has (protocols, ciphers, a certificate for mTLS,
 * trusted CAs, CRL, verify depth, conf commands), the SSL_CTX made from them while the
 * configuration is read, a TLS state for a connected socket (SNI, a session to resume) and the
 * checks after the handshake (the chain's verdict, the name). The I/O is core/ssl.c's.
 */
#ifndef MG_SSL_CLIENT_H
#define MG_SSL_CLIENT_H

#include "conf.h"
#include "ssl.h"

/* protocol bits, as the ssl_protocols family writes them */
#define MG_SSL_SSLv2 0x02
#define MG_SSL_SSLv3 0x04
#define MG_SSL_TLSv1 0x08
#define MG_SSL_TLSv1_1 0x10
#define MG_SSL_TLSv1_2 0x20
#define MG_SSL_TLSv1_3 0x40

typedef struct {
    mg_int_t protocols; /* MG_SSL_* bits */
    mg_str_t ciphers;
    mg_str_t certificate; /* data NULL: none (mTLS off) */
    mg_str_t certificate_key;
    mg_array_t *passwords;        /* mg_str_t, from *_password_file */
    mg_str_t trusted_certificate; /* data NULL: none */
    mg_str_t crl;
    mg_int_t verify_depth;
    mg_array_t *conf_commands; /* mg_str_t pairs */
    const char *where;         /* FILE:LINE blamed for a context error */
    SSL_CTX *ctx;              /* made by mg_ssl_client_ctx */
    /* the proxies' *_ssl_verify off: the trusted certificates and the CRL are neither loaded
     * nor checked against (nginx's proxy modules load them only for *_ssl_verify on) */
    unsigned no_verify : 1;
} mg_ssl_client_conf_t;

/* Everything unset (the create_*_conf step). */
void mg_ssl_client_conf_init(mg_ssl_client_conf_t *c);
/* 1 when no directive set anything in c (before its merge). */
int mg_ssl_client_conf_unset(const mg_ssl_client_conf_t *c);
/* Merge with the enclosing level's, then nginx's defaults (protocols, ciphers, depth given). */
void mg_ssl_client_conf_merge(mg_ssl_client_conf_t *c, mg_ssl_client_conf_t *prev,
                              mg_int_t protocols, const char *ciphers, mg_int_t depth);
/* Make c->ctx (shared with prev's when nothing differs): MG_OK, or MG_ERROR logged with
 * nginx's words " in FILE:LINE". The context is freed with the generation. */
mg_int_t mg_ssl_client_ctx(mg_conf_t *cf, mg_ssl_client_conf_t *c, mg_ssl_client_conf_t *prev);
/* As mg_ssl_client_ctx for contexts nobody changes afterwards (Lua's): a level with its
 * parent's settings takes its context; a top level (prev NULL) without files or commands
 * shares the one the generations before made with the same protocols, ciphers and depth; -s
 * makes no such context at all. */
mg_int_t mg_ssl_client_ctx_shared(mg_conf_t *cf, mg_ssl_client_conf_t *c,
                                  mg_ssl_client_conf_t *prev);

/* Directive setters for an mg_ssl_client_conf_t field at cmd->offset: protocols (mg_int_t),
 * a password file (mg_array_t *), conf commands (mg_array_t *, two values a line). */
const char *mg_ssl_client_set_protocols(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_ssl_client_set_password_file(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_ssl_client_set_conf_command(mg_conf_t *cf, const mg_command_t *cmd, void *conf);

/* A client TLS state on connected socket fd: SNI name (NULL: none; IP literals are not sent,
 * as nginx), a session to resume (NULL: none). New sessions the server gives go to
 * sc->save_session when set (which takes the reference). */
mg_ssl_conn_t *mg_ssl_client_new(SSL_CTX *ctx, int fd, mg_log_t *log, const char *name,
                                 SSL_SESSION *session);
/* A peer's last TLS session, which the next connection to it with the same client context
 * resumes (proxy_ssl_session_reuse); the pool given with it first frees it. */
typedef struct {
    SSL_SESSION *session;
    SSL_CTX *ctx;
    unsigned cleanup : 1;
} mg_ssl_client_session_t;

/* mg_ssl_client_new for an upstream peer: with keep (NULL: no reuse), its session of the same
 * context offered and a new one the peer gives kept there, freed with `owner` (the cycle's
 * pool: the peers' generation). */
mg_ssl_conn_t *mg_ssl_client_peer_new(SSL_CTX *ctx, int fd, mg_log_t *log, const char *name,
                                      mg_ssl_client_session_t *keep, mg_pool_t *owner);
/* The sessions sc's peer gives from now on replace keep's (a kept-alive connection's). */
void mg_ssl_client_keep_session(mg_ssl_conn_t *sc, mg_ssl_client_session_t *keep, mg_pool_t *owner);
/* *_ssl_verify's checks after the handshake, the chain then the name: MG_OK, or MG_ERROR
 * logged at error as nginx's ("upstream SSL certificate verify error: (N:text)", "upstream SSL
 * certificate does not match \"name\""). */
mg_int_t mg_ssl_client_verify(mg_ssl_conn_t *sc, mg_log_t *log, mg_str_t name);
/* A *_ssl_name's host: the name without a port ("[::1]:443" -> "::1"), in name's memory. */
mg_str_t mg_ssl_client_host(mg_str_t name);
/* Whether the server's certificate is for name (a DNS name or an IP literal). */
int mg_ssl_client_check_host(mg_ssl_conn_t *sc, const char *name, size_t len);

#endif
