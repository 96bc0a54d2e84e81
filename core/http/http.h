/*
 * The HTTP layer's shared types: the http_core module's configuration at each level, the
 * request, its headers in and out, the phase engine, the filter chain and the variable API.
 */
#ifndef MG_HTTP_H
#define MG_HTTP_H

#include <sys/stat.h>

#include "array.h"
#include "buf.h"
#include "conf.h"
#include "connection.h"
#include "cycle.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "mg.h"
#include "mgtime.h"
#include "parse.h"
#include "pool.h"
#include "regex.h"
#include "resolver.h"
#include "server_names.h"
#include "str.h"

#define MG_HTTP_MAX_URI_CHANGES 10

/* Statuses with names (others are numbers). */
#define MG_HTTP_CONTINUE 100
#define MG_HTTP_OK 200
#define MG_HTTP_CREATED 201
#define MG_HTTP_NO_CONTENT 204
#define MG_HTTP_PARTIAL_CONTENT 206
#define MG_HTTP_SPECIAL_RESPONSE 300
#define MG_HTTP_MOVED_PERMANENTLY 301
#define MG_HTTP_MOVED_TEMPORARILY 302
#define MG_HTTP_SEE_OTHER 303
#define MG_HTTP_NOT_MODIFIED 304
#define MG_HTTP_TEMPORARY_REDIRECT 307
#define MG_HTTP_PERMANENT_REDIRECT 308
#define MG_HTTP_BAD_REQUEST 400
#define MG_HTTP_UNAUTHORIZED 401
#define MG_HTTP_FORBIDDEN 403
#define MG_HTTP_NOT_FOUND 404
#define MG_HTTP_NOT_ALLOWED 405
#define MG_HTTP_REQUEST_TIME_OUT 408
#define MG_HTTP_CONFLICT 409
#define MG_HTTP_LENGTH_REQUIRED 411
#define MG_HTTP_PRECONDITION_FAILED 412
#define MG_HTTP_REQUEST_ENTITY_TOO_LARGE 413
#define MG_HTTP_REQUEST_URI_TOO_LARGE 414
#define MG_HTTP_RANGE_NOT_SATISFIABLE 416
#define MG_HTTP_CLOSE 444 /* close the connection without a response */
#define MG_HTTP_REQUEST_HEADER_TOO_LARGE 494
#define MG_HTTP_MISDIRECTED_REQUEST 421
#define MG_HTTP_CERT_ERROR 495 /* the client's certificate failed verification */
#define MG_HTTP_NO_CERT 496    /* ssl_verify_client on, no certificate sent */
#define MG_HTTP_TO_HTTPS 497   /* plain HTTP on a "listen ... ssl" port */
#define MG_HTTP_CLIENT_CLOSED_REQUEST 499
#define MG_HTTP_INTERNAL_SERVER_ERROR 500
#define MG_HTTP_NOT_IMPLEMENTED 501
#define MG_HTTP_BAD_GATEWAY 502
#define MG_HTTP_SERVICE_UNAVAILABLE 503
#define MG_HTTP_GATEWAY_TIME_OUT 504
#define MG_HTTP_VERSION_NOT_SUPPORTED 505

typedef mg_int_t (*mg_http_handler_pt)(mg_request_t *r);

/* Request phases, in order. */
typedef enum {
    MG_HTTP_POST_READ_PHASE = 0,
    MG_HTTP_SERVER_REWRITE_PHASE,
    MG_HTTP_FIND_CONFIG_PHASE,
    MG_HTTP_REWRITE_PHASE,
    MG_HTTP_POST_REWRITE_PHASE,
    MG_HTTP_PREACCESS_PHASE,
    MG_HTTP_ACCESS_PHASE,
    MG_HTTP_POST_ACCESS_PHASE,
    MG_HTTP_PRECONTENT_PHASE,
    MG_HTTP_CONTENT_PHASE,
    MG_HTTP_LOG_PHASE,
    MG_HTTP_NPHASES
} mg_http_phase_e;

/* A header line, in or out. hash 0 marks a removed header. */
typedef struct {
    mg_str_t key;
    mg_str_t value;
    mg_uint_t hash;
} mg_table_elt_t;

/* hash of a request field as the client sent it (headers_in.c, for HTTP/1 and h2): the parsers'
 * checks hold for it (no CTL, SP, DEL or ':' in the name; no CR, LF or NUL in the value), so the
 * proxy passes it without scanning it again. Whoever changes a field's name or value in place
 * sets hash 1, as an added field has. */
#define MG_HTTP_FIELD_PARSED 2

/* ---- configuration ---- */

typedef struct mg_http_srv_conf_s mg_http_srv_conf_t;
typedef struct mg_http_loc_conf_s mg_http_loc_conf_t;

typedef mg_server_name_t mg_http_server_name_t; /* server: the mg_http_srv_conf_t */

/* Servers reachable on one address (after "listen" resolution). */
typedef struct {
    struct sockaddr_storage sockaddr;
    socklen_t socklen;
    char addr_text[128];
    mg_http_srv_conf_t *default_server;
    mg_server_names_t *names; /* NULL: the default server answers every name */
    unsigned ssl : 1;         /* "listen ... ssl" on any of the address's listens, as nginx */
    const char *ssl_file;     /* the first such listen, for "no ssl_certificate" */
    mg_uint_t ssl_line;
    unsigned proxy_protocol : 1; /* connections start with a PROXY protocol header */
    unsigned http2 : 1;          /* "listen ... http2" on any of the address's listens */
} mg_http_addr_conf_t;

/* The per-listening-socket table: one addr conf, or several behind a wildcard socket. */
typedef struct {
    mg_array_t addrs; /* mg_http_addr_conf_t *; a wildcard socket looks up getsockname() */
} mg_http_port_t;

typedef struct {
    struct sockaddr_storage sockaddr;
    socklen_t socklen;
    char addr_text[128];
    int wildcard;
    unsigned default_server : 1;
    unsigned set_options : 1; /* backlog=, reuseport ... given */
    int backlog, rcvbuf, sndbuf, fastopen; /* -1: not given (backlog: 511) */
    int keepalive;                         /* so_keepalive: -1 not given, 0 off, 1 on */
    int keepidle, keepintvl, keepcnt;      /* so_keepalive=idle:intvl:cnt, 0 not given */
    unsigned reuseport : 1, ipv6only : 1, deferred : 1, bind : 1;
    unsigned ssl : 1;
    unsigned proxy_protocol : 1; /* an address option: one listen with it sets it for all */
    unsigned http2 : 1;          /* an address option too */
    mg_http_srv_conf_t *server;
    const char *file;
    mg_uint_t line;
} mg_http_listen_t;

/* A *_temp_path: a directory and up to 3 levels of subdirectories (temp_file.c) */
typedef struct {
    mg_str_t name;     /* absolute, NUL-terminated, no trailing slash */
    size_t level[3];   /* digits per level, 0 after the last */
    const char *where; /* "FILE:LINE" of its directive; NULL for a default path */
} mg_http_temp_path_t;

/* What opening a file found (open_file_cache.c): the descriptor (-1 for a directory or a
 * failure) and the file's facts, or the errno and the call that failed ("open()",
 * "openat()", "fstat()") */
typedef struct {
    int fd;
    int err;
    const char *failed;
    off_t size;
    time_t mtime;
    dev_t dev;
    ino_t ino;
    unsigned is_dir : 1;
    unsigned is_file : 1;
} mg_http_open_file_t;

typedef struct mg_http_file_cache_s mg_http_file_cache_t;

#define MG_HTTP_SYMLINKS_OFF 0
#define MG_HTTP_SYMLINKS_ON 1
#define MG_HTTP_SYMLINKS_NOT_OWNER 2

/* A request's temporary file: closed when the request ends, and removed unless persistent */
typedef struct {
    int fd;
    mg_str_t name; /* NUL-terminated */
    off_t offset;  /* bytes written */
    mg_log_t *log;
    unsigned persistent : 1;
} mg_http_temp_file_t;

typedef mg_int_t (*mg_http_header_filter_pt)(mg_request_t *r);
typedef mg_int_t (*mg_http_body_filter_pt)(mg_request_t *r, mg_buf_t *in);

/* Filter chains (core/http/filters.c): each location has one of only the filters its conf
 * uses, its generation one of all those some location uses. A filter passes the response on
 * with mg_http_next_*_filter, which looks up the filter put below its own in the chain the
 * request's response goes down (r->filters), so a reload that links more or fewer filters
 * leaves the old requests' chains. */
typedef struct {
    mg_http_header_filter_pt header_top;
    mg_http_body_filter_pt body_top;
    mg_http_header_filter_pt *header_next; /* by module index: the filter after the module's */
    mg_http_body_filter_pt *body_next;
} mg_http_filters_t;

/* From a filter module's init_filters(cf): its header and body filter (either may be NULL)
 * go into the chains of the locations where `used`, given the location's merged conf of the
 * module, says they have anything to do (NULL: every location). A filter must then pass every
 * main request's response on unchanged where `used` says no. */
void mg_http_link_filters(mg_conf_t *cf, const mg_module_t *m, int (*used)(const void *loc_conf),
                          mg_http_header_filter_pt header, mg_http_body_filter_pt body);
/* As mg_http_link_filters, for filters that can act where no conf of theirs asks for it
 * (charset: an upstream's X-Accel-Charset, a subrequest into its main request's charset): in
 * the generation's chain always, which such responses go down (mg_http_response_filters). */
void mg_http_link_run_time_filters(mg_conf_t *cf, const mg_module_t *m,
                                   int (*used)(const void *loc_conf),
                                   mg_http_header_filter_pt header, mg_http_body_filter_pt body);
/* The chains r's response goes down, chosen as its head is sent: its location's, but the
 * generation's for a subrequest (its filters act on its main request's state too: charset
 * recodes into the main request's charset) and for an upstream's X-Accel-Charset (charset acts
 * on it in any location). */
const mg_http_filters_t *mg_http_response_filters(mg_request_t *r);
mg_int_t mg_http_init_filters(mg_conf_t *cf);

typedef struct {
    mg_array_t servers;       /* mg_http_srv_conf_t * */
    mg_array_t listen;        /* mg_http_listen_t, every listen of every server */
    mg_array_t variables;     /* mg_http_variable_t: indexed variables referenced by config */
    mg_array_t all_variables; /* mg_http_variable_t *: every known variable */
    mg_array_t prefix_variables;
    /* names -> indexed variable and definition, built at http{}'s end (variables.c) */
    struct mg_http_var_slot_s *var_hash;
    size_t var_hash_mask, var_hash_nindexed, var_hash_nall;
    mg_array_t phases[MG_HTTP_NPHASES]; /* mg_http_handler_pt registered by modules */
    struct mg_http_phase_handler_s *phase_engine;
    mg_uint_t nphase_handlers;
    mg_uint_t find_config_index;
    mg_uint_t server_rewrite_index;
    mg_uint_t location_rewrite_index;
    mg_uint_t content_index;
    mg_uint_t log_index;
    mg_int_t ncaptures;
    mg_array_t *default_types; /* html, gif, jpg: what a location without `types` gets */
    /* nginx's hash sizes, checked as nginx builds its hashes (core/hash_size.c) */
    mg_int_t server_names_hash_max_size;
    mg_int_t server_names_hash_bucket_size;
    mg_int_t variables_hash_max_size;
    mg_int_t variables_hash_bucket_size;
    mg_array_t temp_paths; /* mg_http_temp_path_t *: every *_temp_path, created at start */
    mg_cycle_t *cycle;
    const char *block_end; /* "FILE:LINE" of http{}'s "}": where nginx's checks after the block
                              report (init_main_conf runs without a position) */
    /* every filter some location uses (filters.c); filter_links: at config time, what
     * mg_http_link_filters was given */
    mg_http_filters_t filters;
    mg_array_t *filter_links;
} mg_http_main_conf_t;

struct mg_http_srv_conf_s {
    mg_array_t server_names;  /* mg_http_server_name_t */
    mg_conf_ctx_t *ctx;       /* this server's conf arrays */
    const char *file;         /* where "server {" was */
    mg_uint_t line;
    size_t client_header_buffer_size;
    size_t large_client_header_buffers_size;
    mg_int_t large_client_header_buffers_num;
    mg_msec_t client_header_timeout;
    int merge_slashes;
    int underscores_in_headers;
    int ignore_invalid_headers;
    size_t connection_pool_size; /* a connection's pool blocks (the default server's counts) */
    size_t request_pool_size;
    int listen_seen;
    mg_array_t named_locations; /* mg_http_loc_conf_t * */
    mg_metrics_cache_t metrics; /* its requests' series entry (mg_metrics_http_request) */
};

typedef struct {
    mg_str_t exten;
    mg_str_t type;
} mg_http_type_t;

/* One "error_page" code and its target. */
typedef struct {
    mg_uint_t status;
    mg_int_t overwrite;  /* -1 keep the error's code, 0 ("=") the target's, else this code */
    struct mg_http_complex_value_s *value; /* "/uri", "@name" or a URL */
    mg_str_t args;       /* a constant URI's "?args" */
} mg_http_err_page_t;

struct mg_http_loc_conf_s {
    mg_str_t name;
    mg_regex_t *regex;
    unsigned exact_match : 1;
    unsigned noregex : 1; /* ^~ */
    unsigned named : 1;
    unsigned auto_redirect : 1;
    unsigned is_if : 1;
    unsigned
        lmt_except : 1; /* a limit_except body: merged like a nested location, never searched */
    int internal;
    mg_http_loc_conf_t *parent;
    mg_array_t *locations;   /* nested mg_http_loc_conf_t *, config order */
    struct loc_level_s *level; /* the same, sorted for the search (location.c) */
    void **loc_conf;         /* this location's conf array (for r->loc_conf) */
    const char *file;
    mg_uint_t line;

    mg_http_handler_pt handler; /* content handler set by a module, e.g. return */
    uint32_t limit_except;      /* methods (1 << MG_HTTP_*) that get the limit_except body */
    void **limit_except_loc_conf;
    mg_int_t satisfy; /* MG_HTTP_SATISFY_ALL or _ANY */

    mg_str_t root;            /* root or alias value (may hold variables) */
    int alias;                /* 1 when "alias" */
    /* what of the URI alias replaces: the length of the name of the location it is written in,
     * inherited as such by the locations nested in it (SIZE_MAX: in a regex location, the
     * whole URI) */
    size_t alias_skip;
    struct mg_http_complex_value_s *root_cv; /* when root has variables */
    mg_array_t *types;        /* mg_http_type_t */
    mg_int_t types_hash_max_size;
    mg_int_t types_hash_bucket_size;
    unsigned types_checked : 1; /* the types' hash verdict was given at this level or above */
    mg_str_t default_type;
    size_t client_max_body_size; /* 0 = unlimited */
    size_t client_body_buffer_size;
    mg_msec_t client_body_timeout;
    mg_msec_t send_timeout;
    mg_msec_t keepalive_timeout;
    time_t keepalive_header;
    mg_int_t keepalive_requests;
    mg_msec_t keepalive_time;
    mg_msec_t lingering_time;
    mg_msec_t lingering_timeout;
    mg_int_t lingering_close;   /* MG_HTTP_LINGERING_* */
    mg_int_t keepalive_disable; /* MG_HTTP_KEEPALIVE_DISABLE_* bits */
    int reset_timedout_connection;
    size_t send_lowat;      /* taken, and ignored with nginx's warning on Linux */
    mg_int_t server_tokens; /* MG_HTTP_TOKENS_* */
    struct mg_http_complex_value_s *server_tokens_string;
    int chunked_transfer_encoding;
    int absolute_redirect;
    int port_in_redirect;
    int server_name_in_redirect;
    int msie_padding;
    int msie_refresh;
    int log_subrequest;
    mg_msec_t auth_delay;
    size_t subrequest_output_buffer_size;
    int log_not_found;
    int tcp_nodelay;
    int sendfile;
    int tcp_nopush;
    size_t sendfile_max_chunk; /* bytes one flush may send with sendfile() (0: no bound) */
    size_t postpone_output;    /* the writer waits for this many bytes, but at a flush or the end */
    mg_int_t output_buffers_num; /* sendfile off: file pieces of output_buffers_size read ahead */
    size_t output_buffers_size;
    /* limit_rate, limit_rate_after: sizes, maybe from variables (MG_CONF_UNSET_PTR, NULL) */
    struct mg_http_complex_value_s *limit_rate;
    struct mg_http_complex_value_s *limit_rate_after;
    mg_http_temp_path_t *client_body_temp_path;
    /* fastcgi, uwsgi and scgi come later: their temp paths are created as nginx does */
    mg_http_temp_path_t *fastcgi_temp_path, *uwsgi_temp_path, *scgi_temp_path;
    mg_http_file_cache_t *open_file_cache; /* NULL: off */
    mg_msec_t open_file_cache_valid;
    mg_int_t open_file_cache_min_uses;
    int open_file_cache_errors;
    /* open_file_cache_events (undocumented in nginx): its cached files are watched with
     * kqueue's vnode events only, so on Linux (epoll) nginx takes it and it changes nothing;
     * read here for the same reason */
    int open_file_cache_events;
    /* post_action (undocumented in nginx): once the response is out, or given up, the request
     * goes on to this URI or @named location, its answer thrown away (empty: none) */
    mg_str_t post_action;
    mg_int_t disable_symlinks;                             /* MG_HTTP_SYMLINKS_* */
    struct mg_http_complex_value_s *disable_symlinks_from; /* the trusted prefix, or NULL */
    size_t read_ahead;
    mg_int_t aio;  /* MG_HTTP_AIO_* */
    int aio_write; /* aio threads: temporary files written in threads too */
    struct mg_thread_pool_s *thread_pool;
    struct mg_http_complex_value_s *thread_pool_name; /* aio threads=$variable */
    int64_t directio; /* files from this size on are read with O_DIRECT (INT64_MAX: off) */
    int64_t directio_alignment;
    mg_int_t client_body_in_file_only; /* MG_HTTP_BODY_FILE_* */
    int client_body_in_single_buffer;
    mg_log_t *error_log;
    mg_array_t *error_pages; /* mg_http_err_page_t; a level with its own drops the parent's */
    int recursive_error_pages;
    struct mg_resolver_s *resolver; /* NULL: none at this level or above */
    mg_msec_t resolver_timeout;
    const mg_http_filters_t *filters; /* only the filters this location uses (filters.c) */
};

#define MG_HTTP_AIO_OFF 0
#define MG_HTTP_AIO_THREADS 1 /* "aio on" too: Linux AIO needs O_DIRECT, threads do not */

#define MG_HTTP_BODY_FILE_OFF 0
#define MG_HTTP_BODY_FILE_ON 1    /* the body always goes to a file, which is kept */
#define MG_HTTP_BODY_FILE_CLEAN 2 /* ... which is removed when the request ends */

#define MG_HTTP_SATISFY_ALL 0
#define MG_HTTP_SATISFY_ANY 1

#define MG_HTTP_TOKENS_OFF 0
#define MG_HTTP_TOKENS_ON 1
#define MG_HTTP_TOKENS_BUILD 2
#define MG_HTTP_TOKENS_STRING 3 /* NGINX Plus's: any other value, variables allowed */

#define MG_HTTP_LINGERING_OFF 0
#define MG_HTTP_LINGERING_ON 1
#define MG_HTTP_LINGERING_ALWAYS 2

#define MG_HTTP_KEEPALIVE_DISABLE_NONE 0x01
#define MG_HTTP_KEEPALIVE_DISABLE_MSIE6 0x02
#define MG_HTTP_KEEPALIVE_DISABLE_SAFARI 0x04

/* The browsers nginx tells apart by User-Agent (keepalive_disable, msie_padding,
 * msie_refresh): bits of mg_http_user_agent(). */
#define MG_HTTP_UA_MSIE 0x01
#define MG_HTTP_UA_MSIE6 0x02 /* MSIE 4, 5, or 6 without SV1 */
#define MG_HTTP_UA_OPERA 0x04
#define MG_HTTP_UA_GECKO 0x08
#define MG_HTTP_UA_CHROME 0x10
#define MG_HTTP_UA_SAFARI 0x20 /* on Mac OS X */
#define MG_HTTP_UA_KONQUEROR 0x40

/* ---- request ---- */

typedef struct {
    mg_array_t headers; /* mg_table_elt_t, as received */
    /* the first line of each name, host to content_range adjacent: mg_http_header_push points
     * them at the copies */
    mg_table_elt_t *host;
    mg_table_elt_t *connection;
    mg_table_elt_t *content_length;
    mg_table_elt_t *transfer_encoding;
    mg_table_elt_t *content_type;
    mg_table_elt_t *user_agent;
    mg_table_elt_t *referer;
    mg_table_elt_t *expect;
    mg_table_elt_t *if_modified_since;
    mg_table_elt_t *if_unmodified_since;
    mg_table_elt_t *if_none_match;
    mg_table_elt_t *if_match;
    mg_table_elt_t *range;
    mg_table_elt_t *accept_encoding;
    mg_table_elt_t *authorization;
    mg_table_elt_t *if_range;
    mg_table_elt_t *content_range;
    mg_str_t server;      /* lowercase host without port, for server choice */
    int64_t content_length_n; /* -1 when absent */
    unsigned browser;         /* MG_HTTP_UA_* and 0x80 once read (mg_http_user_agent) */
    unsigned chunked : 1;
    unsigned connection_close : 1;
    unsigned connection_keep_alive : 1;
    unsigned connection_upgrade : 1;
} mg_http_headers_in_t;

typedef struct {
    mg_array_t headers; /* mg_table_elt_t, other headers in order */
    mg_uint_t status;
    mg_str_t status_line; /* custom status line, else from the status */
    mg_str_t content_type;
    mg_str_t charset;
    mg_str_t type_charset;    /* the charset= parameter of an upstream's Content-Type (nginx's
                                 upstream module reads it into the charset): an error page that
                                 replaces the type keeps it */
    int64_t content_length_n; /* -1 unknown */
    off_t content_offset;     /* where the body starts in the entity (slice: its first
                                 slice's start); the range filter counts from there */
    time_t last_modified_time; /* -1 none */
    /* the lines kept by pointer, adjacent: mg_http_header_push points them at the copies */
    mg_table_elt_t *content_length; /* the line ngx.header set: it keeps its place, as nginx's,
                                       while it tells content_length_n
                                       (mg_http_content_length_line); NULL: the length is
                                       printed after Content-Type */
    mg_table_elt_t *last_modified;  /* the line that says last_modified_time (a cached or
                                       cacheable upstream response's: it keeps its place, as
                                       nginx's); NULL: the time is printed after Content-Length */
    mg_table_elt_t *location;
    mg_table_elt_t *content_encoding;
    mg_table_elt_t *etag;
    mg_str_t override_charset; /* the upstream's X-Accel-Charset: the charset filter's target */
    mg_array_t *trailers;      /* mg_table_elt_t, sent after a chunked body (NULL: none) */
} mg_http_headers_out_t;

typedef struct {
    mg_str_t value;
    unsigned valid : 1;
    unsigned not_found : 1;
    unsigned no_cacheable : 1;
    unsigned failed : 1; /* this evaluation's handler failed (not_found is set too): where
                            nginx's lookup gives NULL, for the callers that tell (ssi echo) */
} mg_http_var_value_t;

typedef struct mg_http_request_body_s {
    mg_buf_t *bufs;        /* the body, in memory */
    mg_buf_t *fill;        /* body.c's last buffer of bufs, filled up to fill_end before the
                              next one is made: appending never walks the chain */
    char *fill_end;
    size_t received; /* bytes of body decoded so far */
    void (*post_handler)(mg_request_t *r);
    /* a body larger than client_body_buffer_size (or client_body_in_file_only): its bytes
     * are gathered in bufs, written out each time it fills, and once the body is read bufs
     * is one buffer over the whole file */
    mg_http_temp_file_t *temp_file;
    size_t raw;      /* bytes of a chunked body read, framing included */
    size_t spill_at; /* a chunked body in memory goes to a file once raw is beyond (0: never) */
    unsigned to_file : 1;
    /* unbuffered (proxy_request_buffering off): the body passes through this one bounded
     * buffer, chunked bodies re-framed as chunked (unless r->request_body_plain); the consumer
     * empties it and calls mg_http_read_unbuffered_request_body, and stream_handler runs when the
     * client sent more (or failed: status set) */
    mg_buf_t *stream;
    char *stream_start, *stream_end;
    void (*stream_handler)(mg_request_t *r);
    void *stream_data;     /* the consumer's */
    mg_int_t status;
    /* unbuffered, while the bytes that arrived when reading started are read: what the client
     * may send before the body counts as whole (body.c's stream_first) */
    size_t first_left;
    unsigned first : 1;
    unsigned done : 1;
} mg_http_request_body_t;

typedef struct mg_http_subrequest_s mg_http_subrequest_t;

struct mg_request_s {
    mg_connection_t *connection;
    struct mg_http_conn_s *hc;
    mg_pool_t *pool;
    mg_request_t *parent;    /* a subrequest's creator; NULL for the client's request */
    mg_request_t *main;      /* a subrequest's client request (unset for that one itself) */
    mg_http_subrequest_t *subrequest; /* a subrequest's capture and completion (subrequest.c) */
    struct mg_http_cache_req_s *cache; /* the proxy cache's dealings with it (cache.h), or NULL */
    struct mg_upstream_s *upstream;    /* the last upstream exchange started, kept across
                                          internal redirects for $upstream_* and the log */
    void **main_conf;
    void **srv_conf;
    void **loc_conf;
    void **ctx; /* per-module request state */
    /* the chains the response goes down: the generation's until the head is sent, then
     * mg_http_response_filters' */
    const mg_http_filters_t *filters;

    mg_str_t request_line;
    mg_str_t method_name;
    int method;
    int http_major, http_minor;
    mg_str_t http_protocol;  /* "HTTP/1.1" as sent; empty for 0.9 */
    mg_str_t unparsed_uri;   /* $request_uri */
    mg_str_t uri;            /* $uri: normalized, changes on rewrite */
    mg_str_t args;
    mg_str_t exten;
    mg_str_t schema;
    mg_str_t host_in_uri;

    mg_http_headers_in_t headers_in;
    mg_http_headers_out_t headers_out;
    mg_http_request_body_t *request_body;

    int *captures;           /* ovector pairs from the last regex match */
    mg_int_t ncaptures;      /* number of ints used in captures (pairs * 2) */
    char *captures_data;     /* the subject the offsets refer to */

    mg_http_var_value_t *variables;
    unsigned variable_depth; /* variables being computed inside each other (maps of maps) */

    mg_int_t phase_handler;
    mg_http_handler_pt content_handler;
    const struct mg_http_abort_s *abort_watch;    /* who waits for the client's close (abort.c) */
    void (*write_event_handler)(mg_request_t *r); /* producer waiting for socket room */
    mg_uint_t uri_changes;
    mg_msec_t start_msec;
    size_t request_length;   /* head bytes + body bytes received */
    size_t header_size;      /* bytes of the response head */
    size_t bytes_sent;       /* head + body bytes given to the socket */
    /* the writer's hold (write.c): postpone_output's bytes, or on TLS a record's tail, copied
     * here in the pool, and the queued buffer over them; the request's, not the connection's:
     * an idle connection holds neither */
    char *hold;
    mg_buf_t *hold_buf;
    /* the writer's queue (write.c), the client request's (a subrequest's output is its
     * creator's to give): a request's, not the connection's, since it is empty whenever no
     * request is (mg_http_conn_t 176 -> 160 bytes, what an idle connection holds) */
    mg_buf_t *out;
    mg_buf_t **out_tail;
    /* the end of its head in the connection's buffer (hc->buf): its strings point below it,
     * body reads keep it (0 once the buffer moved) */
    size_t head_end;
    mg_uint_t err_status;
    mg_uint_t
        access_code;      /* satisfy any: the denial (401 wins over 403) while no handler allowed */
    mg_uint_t background; /* background subrequests (mirrors) of this request still running */
    /* bytes a second the writer lets out after limit_rate_after bytes (0: no limit), taken from
     * the location when the response is first written unless set before ($limit_rate; the
     * proxy's X-Accel-Limit-Rate sets both and limit_rate_set) */
    size_t limit_rate;
    size_t limit_rate_after;

    unsigned http_09 : 1;
    unsigned status_09 : 1; /* an upstream's HTTP/0.9 answer: nginx has no status, $status "009" */
    unsigned keepalive : 1;
    unsigned lingering_close : 1;
    unsigned header_sent : 1;
    unsigned header_only : 1;
    unsigned last_given : 1;    /* the producer gave the body filters the last buffer */
    unsigned last_queued : 1;   /* the last buffer has reached the writer */
    /* a body filter sees each output call (body_filter_by_lua's ngx.arg): a producer whose nginx
     * counterpart passes the end in a call of its own does so too (the upstream engine's) */
    unsigned end_apart : 1;
    /* a buffered upstream body goes down the filters at its end, in one pass, as nginx's event
     * pipe holds the body of a subrequest that is not the connection's active request (a Lua
     * capture's child, whose body_filter_by_lua code sees it in one call); while it fits the
     * upstream's buffers (upstream_spool.c) */
    unsigned hold_body : 1;
    unsigned response_done : 1; /* ... and has been written */
    unsigned finalized : 1;
    unsigned internal : 1;
    unsigned post_action : 1;  /* in its post_action: nothing more reaches the client */
    unsigned reads_on : 1;     /* its producer goes on after the client went (a response being
                                  stored or cached, upstream_io.c): a failed write wakes it */
    unsigned args_changed : 1; /* $args set, ngx.req.set_uri_args: upstreams get $uri?$args */
    unsigned uri_changed : 1;
    unsigned valid_location : 1;
    unsigned chunked : 1;
    unsigned expect_tested : 1;
    unsigned continue_sent : 1;
    unsigned discard_body : 1;
    unsigned reading_body : 1;
    unsigned request_body_no_buffering : 1;
    unsigned request_body_plain : 1; /* unbuffered, a chunked body's payload only goes into the
                                        stream (FastCGI's records), not framed as chunks again */
    unsigned request_body_in_clean_file : 1; /* its temp file goes at the end, whatever
                                                client_body_in_file_only says (Lua's) */
    unsigned request_body_in_file_only : 1;  /* the body goes to a temp file whatever its size,
                                                with no log line (dav's PUT, as nginx's) */
    unsigned error_page : 1;
    unsigned logged : 1;
    unsigned root_tested : 1; /* static served a file: its root exists (access_log's check) */
    unsigned no_body_filter : 1;
    unsigned allow_ranges : 1;  /* the handler can serve byte ranges of its body (static) */
    unsigned single_range : 1;  /* one range at most; several get the whole 200 (mp4) */
    unsigned buffered : 1;      /* a body filter (gzip) holds input until the socket drains */
    /* ... or until an event of its own (SSI waiting for an include), after which it gives
     * output again: the writer may keep what postpone_output holds meanwhile, as nginx's */
    unsigned buffered_waits : 1;
    /* (the client's request) an in-memory subrequest was too big: it ends from the loop, as
     * nginx's ends at once, so no other subrequest starts meanwhile */
    unsigned subrequest_too_big : 1;
    unsigned done_deferred : 1;    /* finished, waiting for its background subrequests to end */
    unsigned cache_background : 1; /* the subrequest updating an expired cache entry */
    unsigned limit_rate_set : 1;
    unsigned limit_rate_after_set : 1;
    unsigned expect_trailers : 1; /* add_trailer: chunked on HTTP/1.1, even with a length */
    unsigned gzip_vary : 1;       /* gzip_vary: "Vary: Accept-Encoding" is one of the fixed lines
                                     after Connection, not among the others (nginx's place) */
    /* limit_req's and limit_conn's verdicts (their $*_status), on the client request: set, the
     * limits are not applied again after an internal redirect nor in subrequests */
    unsigned limit_req_status : 3;
    unsigned limit_conn_status : 2;
};

/* ---- phases and filters ---- */

typedef struct mg_http_phase_handler_s {
    mg_int_t (*checker)(mg_request_t *r, struct mg_http_phase_handler_s *ph);
    mg_http_handler_pt handler;
    /* the phase's rules for the handler's return code: MG_AGAIN runs the next entry */
    mg_int_t (*answer)(mg_request_t *r, struct mg_http_phase_handler_s *ph, mg_int_t rc);
    mg_uint_t next; /* index of the first handler of the next phase */
} mg_http_phase_handler_t;

extern mg_module_t mg_http_module;
extern mg_module_t mg_http_core_module;
extern mg_module_t mg_http_postpone_module;

#define mg_http_conf_get_main(cf, module) ((cf)->ctx_data->main_conf[(module).index])
#define mg_http_conf_get_srv(cf, module) ((cf)->ctx_data->srv_conf[(module).index])
#define mg_http_conf_get_loc(cf, module) ((cf)->ctx_data->loc_conf[(module).index])
#define mg_http_get_main_conf(r, module) ((r)->main_conf[(module).index])
#define mg_http_get_srv_conf(r, module) ((r)->srv_conf[(module).index])
#define mg_http_get_loc_conf(r, module) ((r)->loc_conf[(module).index])

/* Pass the response on to the filter below module m's in the request's chain. */
static inline mg_int_t mg_http_next_header_filter(mg_request_t *r, const mg_module_t *m)
{
    return r->filters->header_next[m->index](r);
}

static inline mg_int_t mg_http_next_body_filter(mg_request_t *r, const mg_module_t *m, mg_buf_t *in)
{
    return r->filters->body_next[m->index](r, in);
}

#define mg_http_get_ctx(r, module) ((r)->ctx[(module).index])
#define mg_http_set_ctx(r, c, module) ((r)->ctx[(module).index] = (c))

/* Register a phase handler (from a module's init). */
void mg_http_add_phase_handler(mg_conf_t *cf, mg_http_phase_e phase, mg_http_handler_pt h);
/* Register a handler that runs after (before) every other one registered so far for its
 * phase: nginx's postponed rewrite/access Lua handlers, and its Lua log handler that runs
 * before access_log. */
void mg_http_add_phase_handler_last(mg_conf_t *cf, mg_http_phase_e phase, mg_http_handler_pt h);
void mg_http_add_phase_handler_first(mg_conf_t *cf, mg_http_phase_e phase, mg_http_handler_pt h);

/* ---- fields that reach the wire (field.c) ---- */

/* The field itself when it is safe to send, else a request-pool copy with the unsafe bytes
 * percent-encoded (value: CR, LF, NUL; name: controls, space, ':'; request target: controls
 * and space) and a [warn] line. */
mg_str_t mg_http_safe_header_name(mg_request_t *r, mg_str_t name);
mg_str_t mg_http_safe_header_value(mg_request_t *r, mg_str_t name, mg_str_t value);
mg_str_t mg_http_safe_request_target(mg_request_t *r, mg_str_t target);
/* A non-empty RFC 9110 token (a method, a header name). */
int mg_http_is_token(mg_str_t s);

/* ---- request life (request.c) ---- */

/* Continue the phase engine from r->phase_handler. */
void mg_http_run_phases(mg_request_t *r);
/* A phase handler that returned MG_AGAIN or MG_DONE to wait for an event answers from that
 * event with rc, the code it would have returned at once: its phase's rules apply (next
 * handler or phase, wait again, finalize) and the engine goes on. This is how such a handler
 * (Lua code, a body read) continues its request; for the location's content handler it is
 * mg_http_finalize_request(r, rc). rc MG_DONE does nothing: the handler already finished the
 * request, which may be freed, or waits again. */
void mg_http_phase_resume(mg_request_t *r, mg_int_t rc);
/* The connection's log, with r as the request its lines speak of: a subrequest is named
 * (", subrequest: ...") and so is its upstream. Code logging for a subrequest from an event
 * of its own uses this; the phase engine and the upstream set it too. */
mg_log_t *mg_http_request_log(mg_request_t *r);
/* ", upstream: "..."" for r's error-log context (upstream_vars.c); p when r has none. */
char *mg_upstream_log_text(mg_request_t *r, char *p, char *end);
/* The one place a request's outcome is decided: MG_OK/MG_DONE/MG_AGAIN/MG_DECLINED, an error
 * code or an HTTP status (an error page is sent when nothing was sent yet). */
void mg_http_finalize_request(mg_request_t *r, mg_int_t rc);
/* nginx's end of a main request whose handler finished it with nothing sent (its NGX_OK, or a
 * code below 300 but 201): no response at all, "000" in the log, and the connection goes on
 * to its next request (an h2 stream is reset). Lua's ngx.exit(1..199) and a content
 * handler's ngx.exit(ngx.DECLINED) end so. */
void mg_http_finalize_unanswered(mg_request_t *r);
/* Restart processing with a new URI (and args), as rewrite ... last / error_page do. */
mg_int_t mg_http_internal_redirect(mg_request_t *r, mg_str_t uri, mg_str_t *args);
mg_int_t mg_http_named_location(mg_request_t *r, mg_str_t name);
/* Sort each level's locations and reject duplicates (end of http{}). */
mg_int_t mg_http_init_locations(mg_conf_t *cf, mg_http_srv_conf_t *cscf, mg_http_loc_conf_t *pclcf);
/* Select location config for r->uri; MG_OK, MG_DONE (redirect to uri/), MG_ERROR. */
mg_int_t mg_http_find_location(mg_request_t *r);
void mg_http_update_location_config(mg_request_t *r);
/* As nginx once a location is chosen (and the writer before the head): r->keepalive off when
 * the location's keepalive_timeout is 0, keepalive_requests or keepalive_time is reached,
 * keepalive_disable names the client, or the server shuts down; so $sent_http_connection in
 * the header filters says "close" already. */
void mg_http_keepalive_check(mg_request_t *r);
/* Choose the virtual server by name ("host" lowercase, no port); NULL = default. */
mg_http_srv_conf_t *mg_http_find_server(mg_request_t *r, mg_http_addr_conf_t *addr, mg_str_t host);
/* The server of a client's name (a Host line's value, an absolute-form target's host) on addr:
 * checked as nginx's validate_host, then lowercased without its port and trailing dot into
 * name->data (the caller's, host.len + 1 bytes) and looked up. NULL for a name nginx refuses,
 * the address's default server for one no server has; r (or NULL) keeps a regex's captures. */
mg_http_srv_conf_t *mg_http_host_server(mg_request_t *r, mg_http_addr_conf_t *addr, mg_str_t host,
                                        mg_str_t *name);
/* Set $exten from r->uri. */
void mg_http_set_exten(mg_request_t *r);
/* Content-Type from the location's types and the URI's extension. */
void mg_http_set_content_type(mg_request_t *r);
/* The head of a 200 whose status, Content-Length and Last-Modified the handler set: the ETag,
 * Content-Type and ranges of a file, then mg_http_send_header, under the log action the
 * handler names (nginx's: "sending response to client", flv's and mp4's own). *body says whether
 * the handler sends the body next; if not, the return is the handler's (a filter's 412/416, an
 * error, or the end of a HEAD response). */
mg_int_t mg_http_send_file_header(mg_request_t *r, const char *action, int *body);
/* A handler's way to the file its URI names (flv, mp4): GET and HEAD only, a URI ending in "/"
 * declined, the body discarded, the path mapped and opened through mg_http_open_file
 * (open_file_cache, disable_symlinks), a directory redirected to "uri/". MG_OK with *path, *fd
 * (closed with the request) and *st (size, mtime, mode, dev, ino); else what the handler
 * returns: the HTTP status logged as nginx logs it (404 quiet under log_not_found off; 403;
 * 500 and [crit]). */
mg_int_t mg_http_open_requested_file(mg_request_t *r, mg_str_t *path, int *fd, struct stat *st);
/* ETag from last_modified_time and content_length_n, as nginx's, unless "etag off" (static.c). */
void mg_http_set_etag(mg_request_t *r);
/* The value of the query argument name (matched without case) in r->args: MG_OK, or
 * MG_DECLINED when there is none. */
mg_int_t mg_http_arg(mg_request_t *r, const char *name, size_t len, mg_str_t *value);
/* Map r->uri to a file path under root/alias; returns the path (NUL-terminated) and its
 * length without the NUL; *root_len gets the length of the root part. NULL on error. */
char *mg_http_map_uri_to_path(mg_request_t *r, mg_str_t *path, size_t *root_len, size_t reserved);

/* Header helpers. */
/* One line more (zeroed) in a header array of owner (headers_in or headers_out). A full array is
 * copied to a larger block: the n adjacent line pointers at offset first in owner that pointed
 * into it are pointed at the copies. */
mg_table_elt_t *mg_http_header_push_grow(mg_array_t *a, void *owner, size_t first, size_t n);
static inline mg_table_elt_t *mg_http_header_push(mg_array_t *a, void *owner, size_t first,
                                                  size_t n)
{
    /* inline: every line of every request comes here, growing is rare */
    if (a->nelts == a->nalloc) {
        return mg_http_header_push_grow(a, owner, first, n);
    }
    mg_table_elt_t *h = (mg_table_elt_t *)a->elts + a->nelts++;
    memset(h, 0, sizeof(*h));
    return h;
}
/* No header line left in headers_out, and none kept by pointer: the slots are reused by the
 * next lines, which a kept pointer (Content-Length's ...) would otherwise take for its own. */
void mg_http_headers_out_clear(mg_request_t *r);
mg_table_elt_t *mg_http_add_header_out(mg_request_t *r, const char *key, size_t klen,
                                       const char *val, size_t vlen);
mg_table_elt_t *mg_http_find_header_in(mg_request_t *r, const char *lower_name, size_t len);
/* The first response header line named so (without case) still sent (an upstream's are kept in
 * the list as they came), or NULL. */
mg_table_elt_t *mg_http_find_header_out(mg_request_t *r, const char *name, size_t len);
/* After headers_in.headers was changed (elements replaced, removed or added): point the
 * cached headers (host, content_length ...) at the array again and re-read Connection's
 * tokens; the values derived from Host and Content-Length are the changer's to set. */
void mg_http_headers_in_refresh(mg_request_t *r);
/* The user and password of "Authorization: Basic ...", decoded into r->pool (passwd
 * NUL-terminated); MG_DECLINED when there is none or it is malformed. */
mg_int_t mg_http_auth_basic_user(mg_request_t *r, mg_str_t *user, mg_str_t *passwd);
/* The browser the User-Agent names, as nginx tells them apart: MG_HTTP_UA_* bits (read once). */
unsigned mg_http_user_agent(mg_request_t *r);
void mg_http_clear_content_length(mg_request_t *r);
/* The Content-Length line in headers_out that tells content_length_n, or NULL. nginx's code
 * that changes the length drops such a line; one that no longer tells it is dropped here. */
mg_table_elt_t *mg_http_content_length_line(mg_request_t *r);
/* As nginx's: also an upstream's Last-Modified / Accept-Ranges header goes (a filter that
 * changes the body: ssi, sub_filter, addition). */
void mg_http_clear_last_modified(mg_request_t *r);
void mg_http_clear_accept_ranges(mg_request_t *r);
/* Set Location to the URI plus "/" (and the args); returns 301 for the caller to finalize. */
mg_int_t mg_http_redirect_to_slash(mg_request_t *r);

/* Output: send the response head through the header filters, body through body filters. */
mg_int_t mg_http_send_header(mg_request_t *r);
mg_int_t mg_http_output(mg_request_t *r, mg_buf_t *in);
/* Whether output given to mg_http_output may still be referenced: the writer's queue is not
 * empty or a body filter holds input. When 0, a producer may reuse its buffers' memory. */
int mg_http_output_busy(mg_request_t *r);
/* The pace of limit_rate (the writer) and *_limit_rate (reading a buffered upstream
 * response), nginx's formula in whole seconds: the bytes that may go now once `done` went at
 * `rate` bytes a second since second `start` (that first second counts in full); when <= 0,
 * the wait before trying again is mg_http_rate_delay of it. */
static inline int64_t mg_http_rate_budget(size_t rate, int64_t start, int64_t done)
{
    return (int64_t)rate * ((int64_t)mg_now.sec - start + 1) - done;
}
static inline mg_msec_t mg_http_rate_delay(size_t rate, int64_t budget)
{
    return (mg_msec_t)(-budget * 1000 / (int64_t)rate + 1);
}
/* A whole response from a status and an optional text body with content type. */
mg_int_t mg_http_send_response(mg_request_t *r, mg_uint_t status, mg_str_t *ct, mg_str_t *body);
/* What server_tokens makes of the Server header and the error pages' signature:
 * "moongate/X.Y.Z", "moongate", the same with the --build name, or the string (request pool). */
mg_str_t mg_http_server_signature(mg_request_t *r);
/* The log phase of r (access_log, log_by_lua): once per request. */
void mg_http_log_request(mg_request_t *r);
/* nginx's built-in error page for a status (also used for redirect bodies). */
mg_int_t mg_http_special_response(mg_request_t *r, mg_int_t status);
const char *mg_http_status_line(mg_uint_t status, size_t *len);

/* ---- subrequests (subrequest.c) ---- */
/* A finished subrequest: its status and headers are in sr->headers_out, its body in
 * mg_http_subrequest_body(sr); sr is freed when this returns (copy what is kept). */
typedef void (*mg_http_subrequest_done_pt)(mg_request_t *sr, void *data);
/* Create a subrequest of r for uri (and args, may be NULL): a request on r's connection with
 * r's header lines (copied), request body, request line and $request_uri, method GET (the
 * caller may change method, method_name, headers_in, request_body and variables before the
 * loop turns), which then runs the phases from server rewrite with `internal` locations
 * allowed. Its response is captured in memory, never sent; `done` runs from the loop once it
 * finished. If r ends first the child is freed without `done`. MG_OK with *psr, or
 * MG_DECLINED (not logged) when r is nested too deep to make one (51 levels, as nginx). */
mg_int_t mg_http_subrequest(mg_request_t *r, mg_str_t uri, mg_str_t *args,
                            mg_http_subrequest_done_pt done, void *data, mg_request_t **psr);
/* Undo mg_http_subrequest before the loop turned: sr never runs and is freed (the caller
 * found it cannot be set up, as lua-nginx-module's cancelled subrequest). */
void mg_http_subrequest_cancel(mg_request_t *sr);
/* Make sr, just created, a background subrequest (nginx's mirror): its response is dropped as
 * it comes, and its creator, once finished, is logged and its connection reused or closed only
 * after every background subrequest of it ended (a creator that fails or loses its
 * connection takes them along, as any creator). `done` may be NULL for one. */
void mg_http_subrequest_background(mg_request_t *sr);
/* The captured body of a finished subrequest (valid in its `done`), and whether the response
 * was cut off (no end seen: an error status, a broken upstream, ngx.exit(ngx.ERROR)...). */
mg_str_t mg_http_subrequest_body(mg_request_t *sr);
int mg_http_subrequest_truncated(mg_request_t *sr);
/* The captured body (malloc'ed, *len bytes, NULL when empty) becomes the caller's, in `done`. */
char *mg_http_subrequest_take_body(mg_request_t *sr, size_t *len);
/* In `done`: the captured body becomes body (malloc'ed, taken over). */
void mg_http_subrequest_replace_body(mg_request_t *sr, char *body, size_t len);
/* An error status of sr gets its error page (error_page or nginx's), captured as its body. */
void mg_http_subrequest_error_pages(mg_request_t *sr);
/* sr, just created, is nginx's in-memory subrequest (SSI's include set=): its body must fit
 * its location's subrequest_output_buffer_size (and its Content-Length, when it has one),
 * else it ends with MG_ERROR, logged as nginx does, and mg_http_subrequest_too_big says so
 * in `done` (nginx then ends the client's request too). */
void mg_http_subrequest_in_memory(mg_request_t *sr);
int mg_http_subrequest_too_big(mg_request_t *sr);
/* Whether sr's body is the error page made for its status (error_pages), not its handler's. */
int mg_http_subrequest_error_page(mg_request_t *sr);
/* In `done`: sr ended with MG_ERROR (broken_by_error) or with MG_ERROR, 444, 408 or 499 (broken)
 * from its own handler (a Lua error after output, ngx.exit(ngx.ERROR), ngx.exit(444)), not from
 * a source cut off after the head (mg_http_subrequest_source_cut): nginx then ends the client's
 * request. A body put in its place (mg_http_subrequest_replace_body: SSI's stub) mends it. */
int mg_http_subrequest_broken(mg_request_t *sr);
int mg_http_subrequest_broken_by_error(mg_request_t *sr);
/* sr's response was cut off by its source after the head went (an upstream's error): it ends
 * cut (truncated), and only it: nginx's upstream ends it with a flush, not an error. Called
 * before sr is finalized with MG_ERROR. */
void mg_http_subrequest_source_cut(mg_request_t *sr);
/* fn runs (from sr's body filters) after each capture that added bytes or carried a flush
 * (flags: MG_HTTP_SUBREQUEST_FLUSH), until sr finished; it may take the body captured so far.
 * MG_DECLINED: sr is held (what it captured may be spilled), MG_ERROR fails sr's output. */
#define MG_HTTP_SUBREQUEST_FLUSH 1
typedef mg_int_t (*mg_http_subrequest_output_pt)(mg_request_t *sr, void *data, unsigned flags);
/* sr's held capture (its on_output declined) beyond `after` bytes is written to a temporary
 * file under tp, up to max bytes there, with nginx's warn line (its upstream engine calls this
 * for a buffered response). What was spilled comes before the body in memory: the caller
 * takes it first, a range of fd (the creator's: valid until the creator ends); 0: none. */
void mg_http_subrequest_spill(mg_request_t *sr, const mg_http_temp_path_t *tp, size_t after,
                              off_t max);
int mg_http_subrequest_take_file(mg_request_t *sr, int *fd, off_t *from, off_t *to);
/* ... or, beyond `after` bytes held (an unbuffered upstream's), sr is held: its output is
 * busy (mg_http_output_busy) so its producer stops, until mg_http_subrequest_resume (the
 * caller took what it captured) runs its write_event_handler from the loop. */
void mg_http_subrequest_hold(mg_request_t *sr, size_t after);
int mg_http_subrequest_held(mg_request_t *sr);
void mg_http_subrequest_resume(mg_request_t *sr);
void mg_http_subrequest_on_output(mg_request_t *sr, mg_http_subrequest_output_pt fn, void *data);

/* ---- in-stream subrequests (postpone.c) ---- */
/* A subrequest of r (as mg_http_subrequest, error statuses with their pages) whose body takes
 * its place in r's output: after what r gave its body filters so far, before what it gives
 * them next (what reaches the postpone filter meanwhile waits there, r->buffered set). The
 * body is held in memory until its turn. `done` (may be NULL) runs when sr ended, before its
 * body is taken (it may replace it) and passed on. MG_OK with *psr, or MG_DECLINED (nested too
 * deep, not logged). */
mg_int_t mg_http_subrequest_inline(mg_request_t *r, mg_str_t uri, mg_str_t *args,
                                   mg_http_subrequest_done_pt done, void *data, mg_request_t **psr);
/* sr, just made by mg_http_subrequest_inline, streams as nginx's active subrequest: once its
 * place is the first of r's queue (what r gave before it went on), what it outputs is passed
 * on as it comes instead of at its end; a later one waits in memory for its turn, then what it
 * captured meanwhile goes at once. keep_error_page: an error page made for its status is held
 * until its end (SSI's stub may stand for it). */
void mg_http_subrequest_stream(mg_request_t *sr, int keep_error_page);
/* Hooks of the request's life: finalize (an error or a status ends a subrequest at once:
 * returns 1), the end of a subrequest that completed normally, and the end of the body
 * filters, where a subrequest's output is captured instead of written. */
int mg_http_subrequest_finalize(mg_request_t *sr, mg_int_t rc);
void mg_http_subrequest_done(mg_request_t *sr);
mg_int_t mg_http_subrequest_capture(mg_request_t *sr, mg_buf_t *in);

/* ---- client aborts (abort.c) ---- */
/* Who waits for a client's close: called once, after the line "client prematurely closed
 * connection" with log_head before it and log_tail after it (nginx's upstream on Linux says
 * "epoll_wait() reported that " before, ", so upstream connection is closed too" after) is
 * logged at info and keepalive turned off. */
typedef struct mg_http_abort_s {
    void (*handler)(mg_request_t *r);
    const char *log_tail; /* NULL for none */
    const char *log_head; /* NULL for none */
} mg_http_abort_t;
/* r waits on something other than its client (an upstream, Lua code): its connection's close
 * is noticed (nginx's check_broken_connection). Bytes of a pipelined request stop the watch
 * (a later wait arms it again); EOF or an error reports to w. Not for a subrequest, nor while
 * the request body is read (the body reader has the read event). Arming again costs nothing. */
void mg_http_watch_client(mg_request_t *r, const mg_http_abort_t *w);
/* w no longer waits: a later report is dropped (the event goes off then, not now). */
void mg_http_unwatch_client(mg_request_t *r, const mg_http_abort_t *w);

/* ---- request body (body.c) ---- */
/* Read the whole body, then run post_handler (at once when it is already in). MG_OK, or an
 * HTTP status when reading failed before returning (post_handler does not run; the caller
 * finalizes with it); a later failure finalizes the request itself. */
mg_int_t mg_http_read_client_request_body(mg_request_t *r, void (*post_handler)(mg_request_t *r));
/* Copy bytes to the end of the request body in memory (what reading it does; also Lua's
 * ngx.req.append_body), or empty it (one empty buffer) to build a new one. Linear in the bytes
 * whatever the number of pieces. */
void mg_http_request_body_append(mg_request_t *r, const char *data, size_t len);
void mg_http_request_body_reset(mg_request_t *r);
mg_int_t mg_http_discard_request_body(mg_request_t *r);
/* With r->request_body_no_buffering set, mg_http_read_client_request_body reads into
 * rb->stream only as the consumer takes it; post_handler runs once, after what had already
 * arrived is in. A body that is whole by then (within client_body_buffer_size) is given as a
 * buffered one instead, as nginx does: request_body_no_buffering is cleared, rb->bufs holds it. The
 * consumer emptied rb->stream: refill it. MG_OK: the whole body is in rb->stream, MG_AGAIN: more to
 * come (stream_handler runs then), or an HTTP status. */
mg_int_t mg_http_read_unbuffered_request_body(mg_request_t *r);

/* ---- opening files (open_file_cache.c) ---- */
/* Open path (absolute, NUL-terminated) as r's location says: disable_symlinks, read_ahead,
 * open_file_cache. MG_OK with *of (a regular file's fd is valid until r's pool goes; do not
 * close it), or MG_ERROR with of->err and of->failed, for the caller to log and answer. */
mg_int_t mg_http_open_file(mg_request_t *r, mg_str_t path, mg_http_open_file_t *of);
/* An open_file_cache directive's table (its fds are closed with the generation's pool). */
mg_http_file_cache_t *mg_http_file_cache_create(mg_conf_t *cf, mg_uint_t max, mg_msec_t inactive);

/* A size directive whose socket option Linux lacks (send_lowat, *_send_lowat): read, then
 * nginx's warning '"NAME" is not supported, ignored', and 0 (core.c). */
const char *mg_http_set_send_lowat(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* A pool's size (connection_pool_size, http2_pool_size...): a size, at least 112 and a
 * multiple of 16 as nginx checks it (core.c). */
const char *mg_http_set_pool_size(mg_conf_t *cf, const mg_command_t *cmd, void *conf);

/* ---- temporary files (temp_file.c) ---- */
/* "*_temp_path path [level1 [level2 [level3]]]": the field is a mg_http_temp_path_t *, one
 * per directory name in the http{} block (another levels for it is an error). */
const char *mg_http_set_temp_path(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* Inherit prev, else the default directory dflt under the prefix. MG_ERROR is logged. */
mg_int_t mg_http_merge_temp_path(mg_conf_t *cf, mg_http_temp_path_t **conf,
                                 mg_http_temp_path_t *prev, const char *dflt);
/* The http module's end of configuration: every temp directory made, owned by the worker user
 * when the master is root. */
const char *mg_http_create_temp_paths(mg_cycle_t *cycle, void *conf);
/* A new file "PATH/L1/L2/0000000042" for r (levels' directories made as needed), closed, and
 * removed unless persistent, with r's pool. NULL after logging. */
mg_http_temp_file_t *mg_http_temp_file_create(mg_request_t *r, const mg_http_temp_path_t *tp,
                                              int persistent);
/* An existing file as r's body file (ngx.req.set_body_file): opened read-only, its size in
 * offset, closed with r's pool and removed then when clean. NULL with errno set and *what the
 * failed call ("stat()", "open()"). */
mg_http_temp_file_t *mg_http_temp_file_open(mg_request_t *r, const char *name, int clean,
                                            const char **what);
/* Append len bytes; MG_ERROR after logging. */
mg_int_t mg_http_temp_file_write(mg_http_temp_file_t *tf, const char *data, size_t len);
/* The file tf (its data written) copied to `to` when rename() cannot move it (EXDEV), by way of
 * a new name beside `to`; mode (-1: the copy's 0600) and mtime (-1: now) are the copy's. MG_OK,
 * or MG_ERROR after logging (nothing left at `to`'s side). The caller removes tf's file. */
mg_int_t mg_http_temp_file_copy(mg_request_t *r, mg_http_temp_file_t *tf, const char *to, int mode,
                                time_t mtime);

/* ---- connection (connection.c) ---- */
void mg_http_init_connection(mg_connection_t *c);
/* The request's end (request.c): its log phase, its pool freed, the connection kept, closed
 * or closed lingering. */
void mg_http_request_done(mg_request_t *r);

#endif
