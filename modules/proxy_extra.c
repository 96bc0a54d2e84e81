/*
 * What the proxy handler puts on each request's upstream besides its own: the family's
 * proxy_ignore_headers, proxy_bind and proxy_socket_keepalive (core/http/upstream_conf.c; the
 * engine acts on them: upstream_accel.c, upstream_socket.c), proxy_cookie_*, proxy_store.
 */
#include "proxy_extra.h"

void mg_proxy_extra_setup(mg_request_t *r, mg_upstream_t *u)
{
    mg_upstream_conf_apply(r, u);
    mg_proxy_cookie_setup(r, u);
    mg_upstream_store_setup(r, u, MG_UPSTREAM_STORE_PROXY);
}
