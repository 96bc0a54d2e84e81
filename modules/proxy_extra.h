/*
 * The proxy's directives kept out of proxy.c (proxy_extra.c, proxy_cookie.c, proxy_store.c):
 * each file is a module of its own with its directives; the proxy handler calls
 * mg_proxy_extra_setup once the upstream is made, before it starts.
 */
#ifndef MG_MODULES_PROXY_EXTRA_H
#define MG_MODULES_PROXY_EXTRA_H

#include "upstream_io.h"

/* proxy_ignore_headers, proxy_bind, proxy_socket_keepalive, proxy_cookie_*, proxy_store on
 * the request's upstream. */
void mg_proxy_extra_setup(mg_request_t *r, mg_upstream_t *u);
/* proxy_cookie_path/domain/flags: sets u->rewrite_cookie when the location has any. */
void mg_proxy_cookie_setup(mg_request_t *r, mg_upstream_t *u);
/* proxy_store: starts storing the response when the location says so. */
void mg_proxy_store_setup(mg_request_t *r, mg_upstream_t *u);

#endif
