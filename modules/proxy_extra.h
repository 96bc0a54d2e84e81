/*
 * The proxy's directives kept out of proxy.c (proxy_extra.c, proxy_cookie.c, upstream_store.c):
 * each file is a module of its own with its directives; the proxy handler calls
 * mg_proxy_extra_setup once the upstream is made, before it starts. upstream_store.c serves
 * FastCGI, SCGI and uwsgi too (cgi_params.c calls its setup).
 */
#ifndef MG_MODULES_PROXY_EXTRA_H
#define MG_MODULES_PROXY_EXTRA_H

#include "upstream_io.h"

/* proxy_ignore_headers, proxy_bind, proxy_socket_keepalive, proxy_cookie_*, proxy_store on
 * the request's upstream. */
void mg_proxy_extra_setup(mg_request_t *r, mg_upstream_t *u);
/* proxy_cookie_path/domain/flags: sets u->rewrite_cookie when the location has any. */
void mg_proxy_cookie_setup(mg_request_t *r, mg_upstream_t *u);
/* *_store (upstream_store.c, shared by proxy, FastCGI, SCGI and uwsgi): starts storing the
 * response when the location's directives of protocol proto (MG_UPSTREAM_STORE_*) say so. */
enum {
    MG_UPSTREAM_STORE_PROXY,
    MG_UPSTREAM_STORE_FASTCGI,
    MG_UPSTREAM_STORE_SCGI,
    MG_UPSTREAM_STORE_UWSGI,
    MG_UPSTREAM_STORE_N
};
void mg_upstream_store_setup(mg_request_t *r, mg_upstream_t *u, int proto);
/* What health_check needs of its location's proxy_pass (a location's proxy conf, once
 * merged): the group (NULL without proxy_pass or with variables in it), its Host and the
 * connect and read timeouts. */
mg_upstream_group_t *mg_proxy_loc_target(void *plcf, mg_str_t *host, mg_msec_t *connect_timeout,
                                         mg_msec_t *read_timeout);
/* What health_check sends of its location's proxy_set_header lines (nginx Plus's checks use the
 * location's proxy settings): "Name: value\r\n" for each, the variables empty (there is no
 * request) but $proxy_host, empty values and the proxy's own hop-by-hop lines left out. A Host
 * line sets *host instead (to nothing when its value is empty). */
mg_str_t mg_proxy_loc_check_headers(void *plcf, mg_pool_t *pool, mg_str_t *host);

#endif
