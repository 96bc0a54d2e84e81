/*
 * A location's *_cache* settings, kept in its mg_upstream_conf_t (upstream_io.h includes this,
 * so it stays apart from cache.h, which includes upstream_io.h).
 */
#ifndef MG_HTTP_CACHE_CONF_H
#define MG_HTTP_CACHE_CONF_H

#include "http.h"

typedef struct mg_http_cache_zone_s mg_http_cache_zone_t;

/* $upstream_cache_status */
enum {
    MG_CACHE_NONE = 0,
    MG_CACHE_MISS,
    MG_CACHE_BYPASS,
    MG_CACHE_EXPIRED,
    MG_CACHE_STALE,
    MG_CACHE_UPDATING,
    MG_CACHE_REVALIDATED,
    MG_CACHE_HIT,
};

/* *_cache_use_stale's "updating", beside the MG_UPSTREAM_FT_* bits of the rest */
#define MG_HTTP_CACHE_STALE_UPDATING 0x10000

typedef struct {
    mg_uint_t status; /* 0: any */
    time_t sec;
} mg_http_cache_valid_t;

/* A location's *_cache* settings (inside its mg_upstream_conf_t) */
typedef struct {
    mg_http_cache_zone_t *zone; /* MG_CONF_UNSET_PTR; NULL: off */
    struct mg_http_complex_value_s
        *zone_cv;                        /* *_cache with variables: the zone named per request */
    struct mg_http_complex_value_s *key; /* MG_CONF_UNSET_PTR */
    mg_array_t *valid;                   /* mg_http_cache_valid_t, MG_CONF_UNSET_PTR */
    mg_uint_t methods;                   /* 1 << MG_HTTP_*; 0: unset */
    mg_int_t min_uses;
    mg_array_t *bypass;   /* mg_http_complex_value_t, MG_CONF_UNSET_PTR */
    mg_array_t *no_cache; /* ... */
    int convert_head;
    mg_uint_t use_stale; /* MG_UPSTREAM_FT_* | MG_HTTP_CACHE_STALE_UPDATING; 0: unset */
    int background_update;
    int lock;
    mg_msec_t lock_age, lock_timeout;
    int revalidate;
    off_t max_range_offset; /* -1: none (MG_CONF_UNSET, kept by the merge) */
} mg_http_cache_conf_t;

#endif
