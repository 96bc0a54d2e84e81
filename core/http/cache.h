/*
 * The caching reverse proxy (nginx's proxy_cache and its fastcgi/uwsgi/scgi twins) on the
 * upstream engine: *_cache_path zones (an index in shared memory, files on disk), the lookup
 * a protocol's handler makes before it starts the upstream, a HIT served from the file, and a
 * cacheable response written to a temporary file while it streams to the client, renamed into
 * place once whole (cache.c; the file format is cache_file.h's).
 */
#ifndef MG_HTTP_CACHE_H
#define MG_HTTP_CACHE_H

#include "cache_conf.h"
#include "cache_file.h"
#include "script.h"
#include "upstream_io.h"

/* A request's dealings with the cache (r->cache) */
typedef struct mg_http_cache_req_s {
    mg_http_cache_zone_t *zone;
    mg_http_cache_conf_t *conf;
    mg_str_t key;
    unsigned char md5[16];
    unsigned char variant[16];
    char *path; /* the file's name */
    int status; /* MG_CACHE_* */
    mg_uint_t uses;
    /* storing the response */
    mg_upstream_t *u;
    mg_http_temp_file_t *tf;
    mg_cache_file_header_t h;
    int64_t expected;         /* the body's length, -1 unknown */
    unsigned head_as_get : 1; /* proxy_cache_convert_head: the upstream gets GET for a HEAD */
    unsigned no_store : 1;    /* *_no_cache said so */
    unsigned store : 1;       /* the response is being written */
    unsigned failed : 1;
} mg_http_cache_req_t;

/* The lookup, from a protocol's handler once its upstream u is set up (hooks, conf) and
 * before its request is made: MG_DECLINED (no caching for this request: go upstream as
 * without a cache), MG_OK (go upstream; the response may be stored: r->cache is set), MG_DONE
 * (answered from the cache: the handler returns *rc). as_get: the protocol can send a HEAD
 * upstream as GET (*_cache_convert_head). */
mg_int_t mg_http_cache_handler(mg_request_t *r, mg_upstream_t *u, int as_get, mg_int_t *rc);
/* The upstream's head was taken into headers_out: decide whether the response is stored and
 * start its file (upstream_head.c, before the head is sent). */
void mg_http_cache_response(mg_upstream_t *u);
/* Whether r's response is (or comes from) a cache entry: conditional requests are then
 * answered by moongate (not_modified), as nginx does for cacheable responses. */
int mg_http_cache_cacheable(mg_request_t *r);

/* Directive setters. *_cache_path (the http{} level; conf ignored). */
const char *mg_http_cache_set_path(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* The rest take the mg_http_cache_conf_t's offset in the location conf. */
const char *mg_http_cache_set_cache(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_http_cache_set_key(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_http_cache_set_valid(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_http_cache_set_methods(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_http_cache_set_predicates(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_http_cache_set_num(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_http_cache_set_flag(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
void mg_http_cache_conf_init(mg_http_cache_conf_t *c);
/* dflt_key: the protocol's default *_cache_key (NULL: none, the empty key as nginx; p names
 * the directive family in the error). */
const char *mg_http_cache_conf_merge(mg_conf_t *cf, mg_http_cache_conf_t *conf,
                                     mg_http_cache_conf_t *prev, const char *p,
                                     const char *dflt_key);

#define MG_CACHE_F(B, f) ((B) + offsetof(mg_http_cache_conf_t, f))

/* The cache directives of protocol P ("proxy"), B the mg_http_cache_conf_t's offset. */
#define MG_HTTP_CACHE_COMMANDS(P, B)                                                               \
    {P "_cache_path",                                                                              \
     MG_CTX_HTTP,                                                                                  \
     MG_ARGS(2, MG_MANY),                                                                          \
     mg_http_cache_set_path,                                                                       \
     MG_MAIN_CONF,                                                                                 \
     0,                                                                                            \
     NULL},                                                                                        \
        {P "_cache", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_http_cache_set_cache, MG_LOC_CONF, (B),    \
         NULL},                                                                                    \
        {P "_cache_key", MG_HTTP_ANY_LOC,    MG_ARGS(1, 1), mg_http_cache_set_key,                 \
         MG_LOC_CONF,    MG_CACHE_F(B, key), NULL},                                                \
        {P "_cache_valid",                                                                         \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, MG_MANY),                                                                      \
         mg_http_cache_set_valid,                                                                  \
         MG_LOC_CONF,                                                                              \
         MG_CACHE_F(B, valid),                                                                     \
         NULL},                                                                                    \
        {P "_cache_methods",                                                                       \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, MG_MANY),                                                                      \
         mg_http_cache_set_methods,                                                                \
         MG_LOC_CONF,                                                                              \
         MG_CACHE_F(B, methods),                                                                   \
         NULL},                                                                                    \
        {P "_cache_min_uses", MG_HTTP_ANY_LOC,         MG_ARGS(1, 1), mg_http_cache_set_num,       \
         MG_LOC_CONF,         MG_CACHE_F(B, min_uses), NULL},                                      \
        {P "_cache_bypass",                                                                        \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, MG_MANY),                                                                      \
         mg_http_cache_set_predicates,                                                             \
         MG_LOC_CONF,                                                                              \
         MG_CACHE_F(B, bypass),                                                                    \
         NULL},                                                                                    \
    {                                                                                              \
        P "_no_cache", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), mg_http_cache_set_predicates,         \
            MG_LOC_CONF, MG_CACHE_F(B, no_cache), NULL                                             \
    }

#endif
