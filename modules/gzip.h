/*
 * What gzip.c shares with gzip_static.c: nginx's gzip negotiation (Accept-Encoding,
 * gzip_http_version, gzip_proxied, gzip_disable) and the once-per-request Vary header.
 */
#ifndef MG_GZIP_H
#define MG_GZIP_H

#include "http.h"

/* MG_OK when the client takes a gzip'ed response under this location's gzip_* rules, else
 * MG_DECLINED. The answer is computed once per request (it reads response headers for
 * gzip_proxied, so call it when they are set). */
mg_int_t mg_http_gzip_ok(mg_request_t *r);
/* Add "Vary: Accept-Encoding" when gzip_vary is on, at most once per request. */
void mg_http_gzip_vary(mg_request_t *r);

#endif
