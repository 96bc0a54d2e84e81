/*
 * proxy_store, proxy_store_access (work in progress).
 */
#include "proxy_extra.h"

void mg_proxy_store_setup(mg_request_t *r, mg_upstream_t *u)
{
    (void)r;
    (void)u;
}
