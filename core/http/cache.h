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
    unsigned char md5[16];  /* the file's: the key's, or its variant's (secondary) */
    unsigned char main[16]; /* the key's, with secondary */
    unsigned char variant[16];
    char *path; /* the file's name */
    int status; /* MG_CACHE_* */
    mg_uint_t uses;
    /* storing the response */
    mg_upstream_t *u;
    mg_http_temp_file_t *tf;
    mg_cache_file_header_t h;
    int64_t expected; /* the body's length, -1 unknown */
    /* an expired entry being fetched again: its file, kept open to be served stale (on an
     * error, *_cache_use_stale) or refreshed (a 304 to *_cache_revalidate's conditions) */
    int fd;
    mg_cache_file_meta_t meta;
    unsigned head_as_get : 1; /* proxy_cache_convert_head: the upstream gets GET for a HEAD */
    unsigned no_store : 1;    /* *_no_cache said so */
    unsigned store : 1;       /* the response is being written */
    unsigned head_seen : 1;   /* the upstream's head came: store says whether it is cached */
    unsigned cacheable : 1;   /* nginx's u->cacheable when the head goes out: its lines did not
                                 refuse it (*_cache_valid and *_no_cache aside), min_uses
                                 reached: the client's If-* are answered here (not_modified) */
    unsigned lock_timed_out : 1;
    unsigned failed : 1;
    unsigned updating : 1;       /* this request holds the node's updating flag (the lock) */
    unsigned stale_updating : 1; /* Cache-Control stale-while-revalidate still allows it */
    unsigned stale_error : 1;    /* ... stale-if-error */
    unsigned revalidate : 1;     /* the upstream gets If-Modified-Since / If-None-Match */
    unsigned secondary : 1;      /* looked up under a Vary variant's own key */
    unsigned range_passed : 1;   /* *_cache_max_range_offset: the upstream gets the Range */
} mg_http_cache_req_t;

/* The lookup, from a protocol's handler once its upstream u is set up (hooks, conf) and
 * before its request is made: MG_DECLINED (no caching for this request: go upstream as
 * without a cache), MG_OK (go upstream; the response may be stored: r->cache is set), MG_DONE
 * (answered from the cache: the handler returns *rc). as_get: the protocol can send a HEAD
 * upstream as GET (*_cache_convert_head). As nginx's, a body read whole comes before the lookup (a
 * key may name $request_body), so when there is one to read (streamed: it goes on unbuffered, not
 * read first) this only marks u and returns MG_DECLINED; the body's callback then calls
 * mg_http_cache_after_body. */
mg_int_t mg_http_cache_before_body(mg_request_t *r, mg_upstream_t *u, int as_get, int streamed,
                                   mg_int_t *rc);
/* The lookup u waits for, once the body is in: 1 when it answered (the request is finalized)
 * or waits for *_cache_lock (the content handler runs again), 0 when the request goes on. */
int mg_http_cache_after_body(mg_request_t *r, mg_upstream_t *u, int as_get);
/* The upstream's head was taken into headers_out: decide whether the response is stored and
 * start its file (upstream_head.c, before the head is sent). */
void mg_http_cache_response(mg_upstream_t *u);
/* The upstream's status is answered by an error_page (*_intercept_errors): kept in the index
 * when its head and *_cache_valid give it a time (a lookup then answers the status). */
void mg_http_cache_error(mg_upstream_t *u, mg_uint_t status);
/* The upstream failed (ft: MG_UPSTREAM_FT_*, no other peer to try) before its head was
 * sent: 1 when an expired entry may stand in for its answer (*_cache_use_stale, stale-if-error)
 * and was sent, *rc what the request finishes with (the engine released the upstream). */
int mg_http_cache_stale(mg_upstream_t *u, mg_uint_t ft, mg_int_t *rc);
/* A 304 head arrived: 1 when it answers *_cache_revalidate's conditions, the entry then
 * refreshed and sent (*rc as above; the caller releases the upstream first). */
int mg_http_cache_revalidated(mg_upstream_t *u, mg_int_t *rc);
/* The conditions an upstream request carries for *_cache_revalidate (empty when none):
 * If-Modified-Since's value and If-None-Match's. */
void mg_http_cache_conditions(mg_request_t *r, mg_str_t *ims, mg_str_t *inm);
/* Whether the client's header line named key (any case) stays out of the upstream request when
 * a cache serves the location: its conditions and ranges are the cache's to answer, as nginx. */
int mg_http_cache_drops_header(mg_str_t key);
/* Whether r's response is (or comes from) a cache entry: conditional requests are then
 * answered by moongate (not_modified), as nginx does for cacheable responses. */
int mg_http_cache_cacheable(mg_request_t *r);

/* Whether r's upstream response is being written into the cache. */
int mg_http_cache_storing(mg_request_t *r);
/* 1 while the response awaited or being read may go into the cache (nginx's u->cacheable):
 * before the head, a request the lookup sent upstream (a miss, an expired entry, a bypass)
 * with *_cache_min_uses reached; then, one being stored. */
int mg_http_cache_wanted(mg_request_t *r);

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
const char *mg_http_cache_set_use_stale(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
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
        {P "_no_cache",                                                                            \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, MG_MANY),                                                                      \
         mg_http_cache_set_predicates,                                                             \
         MG_LOC_CONF,                                                                              \
         MG_CACHE_F(B, no_cache),                                                                  \
         NULL},                                                                                    \
        {P "_cache_use_stale",                                                                     \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, MG_MANY),                                                                      \
         mg_http_cache_set_use_stale,                                                              \
         MG_LOC_CONF,                                                                              \
         MG_CACHE_F(B, use_stale),                                                                 \
         NULL},                                                                                    \
        {P "_cache_background_update",                                                             \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_FLAG,                                                                                  \
         mg_http_cache_set_flag,                                                                   \
         MG_LOC_CONF,                                                                              \
         MG_CACHE_F(B, background_update),                                                         \
         NULL},                                                                                    \
        {P "_cache_lock", MG_HTTP_ANY_LOC,     MG_FLAG, mg_http_cache_set_flag,                    \
         MG_LOC_CONF,     MG_CACHE_F(B, lock), NULL},                                              \
        {P "_cache_lock_age", MG_HTTP_ANY_LOC,         MG_ARGS(1, 1), mg_conf_set_msec,            \
         MG_LOC_CONF,         MG_CACHE_F(B, lock_age), NULL},                                      \
        {P "_cache_lock_timeout",                                                                  \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, 1),                                                                            \
         mg_conf_set_msec,                                                                         \
         MG_LOC_CONF,                                                                              \
         MG_CACHE_F(B, lock_timeout),                                                              \
         NULL},                                                                                    \
        {P "_cache_revalidate", MG_HTTP_ANY_LOC,           MG_FLAG, mg_http_cache_set_flag,        \
         MG_LOC_CONF,           MG_CACHE_F(B, revalidate), NULL},                                  \
    {                                                                                              \
        P "_cache_max_range_offset", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_off, MG_LOC_CONF, \
            MG_CACHE_F(B, max_range_offset), NULL                                                  \
    }

#endif
