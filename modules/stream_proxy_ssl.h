/*
 * proxy_ssl in stream (ngx_stream_proxy_module's proxy_ssl_* directives): the settings of a
 * server{} (modules/stream_proxy_ssl.c, a module of its own), the client context made while
 * the configuration is read, a TLS state for a connected peer and the checks after the
 * handshake. modules/stream_proxy.c drives the handshake and the I/O (core/ssl.c's).
 */
#ifndef MG_MODULES_STREAM_PROXY_SSL_H
#define MG_MODULES_STREAM_PROXY_SSL_H

#include "ssl.h"
#include "stream.h"
#include "upstream_peer.h"

/* Whether the session's server proxies over TLS (proxy_ssl on). */
int mg_stream_proxy_ssl_enabled(mg_stream_session_t *s);
/* A client TLS state on the connected fd to peer, named (SNI, checks) by proxy_ssl_name or
 * the proxy_pass host `host`; the peer's last session is offered and a new one kept when
 * proxy_ssl_session_reuse is on and `reuse` (peers that outlive the session). */
mg_ssl_conn_t *mg_stream_proxy_ssl_new(mg_stream_session_t *s, int fd, mg_upstream_peer_t *peer,
                                       mg_str_t host, int reuse);
/* After the handshake, proxy_ssl_verify's checks: MG_OK, or MG_ERROR (logged as nginx). */
mg_int_t mg_stream_proxy_ssl_check(mg_stream_session_t *s, mg_ssl_conn_t *sc);

#endif
