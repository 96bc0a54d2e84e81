/*
 * The one ordered list of compiled-in modules. Order matters three ways:
 * - directives are looked up in this order;
 * - phase handlers of one phase run in reverse order of this list (as nginx's), so a module
 *   listed later gets the first look: index runs before static in the content phase;
 * - filters: each filter module's init_filters links itself (mg_http_link_filters) at the top
 *   of the chains of the locations that use it (core/http/filters.c), so a module listed later
 *   filters first. The chains end in core/http/write.c
 *   (response head serialization; chunked framing and the writer). Filters therefore run, from
 *   the content out: cache (core/http/cache.c) -> slice -> *_store -> not_modified -> range
 *   (body) -> lua -> echo (echo_before/ after_body) -> headers_more -> add_trailer -> headers
 *   (add_header, expires) -> userid -> gunzip -> addition -> sub_filter -> charset -> ssi ->
 *   postpone (core/http/postpone.c) -> gzip -> range (header) -> core, nginx's order (its
 *   ngx_modules list, filters: ... range_header, gzip, postpone, ssi, charset, sub, addition,
 *   gunzip, userid, headers, [addons], copy, range_body, not_modified, slice): gzip drops the
 *   length before the range header filter could answer 206; the filters between the range's
 *   two see the range's bytes (or the multipart parts) as nginx's do; text filters see the body
 *   before gzip compresses it; the postpone filter puts in-stream subrequests (addition) in
 *   place before gzip, so the whole stream is compressed once; *_store sees the upstream's body
 *   before any filter changes it.
 */
#include "http.h"

extern mg_module_t mg_conf_module;
extern mg_module_t mg_ssl_engine_module;
extern mg_module_t mg_http_ssl_module;
extern mg_module_t mg_http_v2_module;
extern mg_module_t mg_static_module;
extern mg_module_t mg_stub_status_module;
extern mg_module_t mg_metrics_module;
extern mg_module_t mg_dav_module;
extern mg_module_t mg_autoindex_module;
extern mg_module_t mg_index_module;
extern mg_module_t mg_random_index_module;
extern mg_module_t mg_mirror_module;
extern mg_module_t mg_try_files_module;
extern mg_module_t mg_auth_request_module;
extern mg_module_t mg_auth_basic_module;
extern mg_module_t mg_access_module;
extern mg_module_t mg_realip_module;
extern mg_module_t mg_limit_conn_module;
extern mg_module_t mg_limit_req_module;
extern mg_module_t mg_range_module;
extern mg_module_t mg_range_body_module;
extern mg_module_t mg_not_modified_module;
extern mg_module_t mg_slice_module;
extern mg_module_t mg_rewrite_module;
extern mg_module_t mg_access_log_module;
extern mg_module_t mg_set_misc_module;
extern mg_module_t mg_map_module;
extern mg_module_t mg_geo_module;
extern mg_module_t mg_split_clients_module;
extern mg_module_t mg_headers_module;
extern mg_module_t mg_add_trailer_module;
extern mg_module_t mg_gzip_module;
extern mg_module_t mg_userid_module;
extern mg_module_t mg_ssi_module;
extern mg_module_t mg_charset_module;
extern mg_module_t mg_sub_filter_module;
extern mg_module_t mg_addition_module;
extern mg_module_t mg_gunzip_module;
extern mg_module_t mg_gzip_static_module;
extern mg_module_t mg_upstream_module;
extern mg_module_t mg_upstream_least_conn_module;
extern mg_module_t mg_upstream_random_module;
extern mg_module_t mg_upstream_zone_module;
extern mg_module_t mg_upstream_dynamic_module;
extern mg_module_t mg_upstream_hash_module;
extern mg_module_t mg_proxy_module;
extern mg_module_t mg_upstream_match_module;
extern mg_module_t mg_health_check_module;
extern mg_module_t mg_proxy_cookie_module;
extern mg_module_t mg_upstream_store_module;
extern mg_module_t mg_http_cache_module;
extern mg_module_t mg_fastcgi_module;
extern mg_module_t mg_uwsgi_module;
extern mg_module_t mg_scgi_module;
extern mg_module_t mg_memcached_module;
extern mg_module_t mg_grpc_module;
extern mg_module_t mg_empty_gif_module;
extern mg_module_t mg_handler_module;
extern mg_module_t mg_flv_module;
extern mg_module_t mg_mp4_module;
extern mg_module_t mg_referer_module;
extern mg_module_t mg_secure_link_module;
extern mg_module_t mg_browser_module;
extern mg_module_t mg_headers_more_module;
extern mg_module_t mg_echo_module;
extern mg_module_t mg_lua_module;
extern mg_module_t mg_lua_ssl_module;
extern mg_module_t mg_lua_balancer_module;
extern mg_module_t mg_thread_pool_module;
extern mg_module_t mg_stream_module;
extern mg_module_t mg_stream_core_module;
extern mg_module_t mg_stream_proxy_module;
extern mg_module_t mg_stream_return_module;
extern mg_module_t mg_stream_log_module;
extern mg_module_t mg_stream_ssl_module;
extern mg_module_t mg_stream_proxy_ssl_module;
extern mg_module_t mg_stream_ssl_preread_module;
extern mg_module_t mg_stream_lua_module;
extern mg_module_t mg_stream_pass_module;

mg_module_t *mg_modules[] = {
    &mg_conf_module,
    &mg_core_module,
    &mg_thread_pool_module, /* thread_pool: before the http{} directives that name pools */
    &mg_ssl_engine_module,  /* ssl_engine: set as read, before any TLS context is made */
    &mg_http_module,
    &mg_http_core_module,
    &mg_http_ssl_module, /* core/http/ssl.c: no phase handler, no filter */
    &mg_http_v2_module,  /* core/http/v2.c: HTTP/2 on client connections; no phase, no filter */
    /* content and phase handlers */
    &mg_static_module,
    &mg_stub_status_module, /* content handler set per location (clcf->handler) */
    &mg_metrics_module,     /* the same */
    &mg_gzip_static_module,
    &mg_dav_module,       /* content: after index and autoindex, before gzip_static and static */
    &mg_autoindex_module, /* content: random_index, index, autoindex, then static */
    &mg_index_module,
    &mg_random_index_module, /* before index */
    &mg_mirror_module,       /* precontent: try_files, then mirror */
    &mg_try_files_module,
    &mg_auth_request_module, /* access: allow/deny, then auth_basic, then auth_request */
    &mg_auth_basic_module,
    &mg_access_module,
    &mg_limit_conn_module, /* preaccess: realip, then limit_req, then limit_conn, as nginx */
    &mg_limit_req_module,
    &mg_realip_module, /* post-read, and first in preaccess */
    &mg_rewrite_module,
    &mg_access_log_module,
    &mg_set_misc_module, /* set_* directives: "set"s of the rewrite module's list */
    /* variables only (no phase handlers, no filters) */
    &mg_map_module,
    &mg_geo_module,
    &mg_split_clients_module,
    /* upstream{} groups and balancers (no phase handlers, no filters) */
    &mg_upstream_module,
    &mg_upstream_least_conn_module,
    &mg_upstream_random_module,
    &mg_upstream_zone_module,
    &mg_upstream_dynamic_module,
    &mg_upstream_hash_module,
    &mg_proxy_module,          /* content handler set per location (clcf->handler) */
    &mg_proxy_cookie_module,   /* directives only (*_store is a filter, below) */
    &mg_upstream_match_module, /* match{} blocks for health_check */
    &mg_health_check_module,   /* active checks of proxied groups (timers in the workers) */
    &mg_fastcgi_module,        /* content handlers set per location (clcf->handler) */
    &mg_uwsgi_module,
    &mg_scgi_module,
    &mg_memcached_module,
    &mg_grpc_module,
    &mg_empty_gif_module,
    &mg_handler_module, /* handler NAME: an embedding program's C content handler */
    &mg_flv_module,     /* content handlers set per location (clcf->handler) */
    &mg_mp4_module,
    &mg_referer_module, /* $invalid_referer */
    &mg_secure_link_module,
    &mg_browser_module,
    /* filters, in the order described above (later = earlier in the chain) */
    &mg_range_module,
    &mg_gzip_module,
    &mg_http_postpone_module, /* in-stream subrequests' output in place (core/http/postpone.c) */
    &mg_ssi_module,
    &mg_charset_module,
    &mg_sub_filter_module,
    &mg_addition_module,
    &mg_gunzip_module,
    &mg_userid_module, /* Set-Cookie after add_header's lines */
    &mg_headers_module,
    &mg_add_trailer_module,  /* nginx's headers filter adds trailers at the same place */
    &mg_headers_more_module, /* more_*_headers: its input handler goes before rewrite_by_lua at
                                the rewrite phase's end (its init runs before Lua's) */
    &mg_echo_module,         /* echo's program (content handler per location); its
                                before/after-body filter runs after Lua's, as in OpenResty */
    &mg_lua_module,     /* content_by_lua per location; rewrite/access_by_lua postponed to the end
                           of their phases, log_by_lua before access_log; its filters see the
                           response before add_header, as nginx's addon filters do */
    &mg_lua_ssl_module, /* ssl_*_by_lua*: Lua code in the TLS handshake */
    &mg_lua_balancer_module, /* balancer_by_lua* in upstream{}: after upstream (its block) */
    &mg_range_body_module,   /* the range's bytes to the filters above, as nginx's range_body */
    &mg_not_modified_module,
    &mg_upstream_store_module, /* *_store: the upstream's body as it came, before the filters change
                                  it */
    &mg_slice_module,      /* first: its slices' heads are checked before anything else sees them */
    &mg_http_cache_module, /* core/http/cache.c: the upstream's body into the cache file, as it
                              came (before slice: each slice is an entry of its own) */
    /* stream{} (core/stream/): its own conf arrays and phases; upstream{} and access above
       serve it too (their mg_stream_module_t hooks) */
    &mg_stream_module,
    &mg_stream_core_module,
    &mg_stream_proxy_module,
    &mg_stream_return_module,
    &mg_stream_log_module,
    &mg_stream_ssl_module, /* core/stream/ssl.c: after ssl, which makes the contexts */
    &mg_stream_ssl_preread_module,
    &mg_stream_proxy_ssl_module, /* proxy_ssl_*: what stream_proxy.c's peers get */
    &mg_stream_lua_module,       /* lua/stream.c: after the other preread handlers (ssl_preread),
                                    its log handler put before access_log's */
    &mg_stream_pass_module,
    NULL,
};
