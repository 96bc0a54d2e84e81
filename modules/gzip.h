/*
 * What gzip.c shares with gzip_static.c and gunzip.c: nginx's gzip negotiation
 * (Accept-Encoding, gzip_http_version, gzip_proxied, gzip_disable), the once-per-request Vary
 * header, and the gzip_buffers / gunzip_buffers setting.
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

/* gzip_buffers, gunzip_buffers: how many output buffers of what size. */
typedef struct {
    mg_int_t num; /* 0 while unset */
    size_t size;
} mg_gzip_bufs_t;

/* The "*_buffers number size" setter for an mg_gzip_bufs_t at conf + cmd->offset. */
const char *mg_gzip_bufs_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* Inherit the parent's, else 32 4k. */
void mg_gzip_bufs_merge(mg_gzip_bufs_t *conf, const mg_gzip_bufs_t *prev);

#endif
