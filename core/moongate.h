/*
 * moongate's embedding API: the one public header (installed as <moongate.h>, linked with
 * `pkg-config --cflags --libs moongate`). A program builds a server from a config file or
 * string, runs it on moongate's loop, on its own libevent event_base or on a thread, reloads
 * and stops it, and plugs C content handlers and Lua modules into it. Several servers may
 * live in one process. The moongate binary (core/main.c) is built on this API.
 */
#ifndef MOONGATE_H
#define MOONGATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOONGATE_VERSION_MAJOR 0
#define MOONGATE_VERSION_MINOR 1
#define MOONGATE_VERSION_PATCH 0
#define MOONGATE_VERSION_NUMBER                                                                    \
    (MOONGATE_VERSION_MAJOR * 10000 + MOONGATE_VERSION_MINOR * 100 + MOONGATE_VERSION_PATCH)

/* The library's version at run time ("0.1.0"), and as MOONGATE_VERSION_NUMBER gives it. */
const char *moongate_version(void);
int moongate_version_number(void);

struct event_base;
struct lua_State;

typedef struct mg_server_s moongate_server_t;
typedef struct moongate_request_s moongate_request_t;

/* Return codes; a content handler may also return an HTTP status (>= 100). */
#define MOONGATE_OK 0
#define MOONGATE_ERROR -1
#define MOONGATE_AGAIN -2    /* a handler: the request goes on later (moongate_request_finish) */
#define MOONGATE_DECLINED -5 /* a handler: let the next content handler (index, static) answer */

/* Error log levels, as nginx's. */
#define MOONGATE_LOG_EMERG 1
#define MOONGATE_LOG_ALERT 2
#define MOONGATE_LOG_CRIT 3
#define MOONGATE_LOG_ERR 4
#define MOONGATE_LOG_WARN 5
#define MOONGATE_LOG_NOTICE 6
#define MOONGATE_LOG_INFO 7
#define MOONGATE_LOG_DEBUG 8

/* A C content handler, named in a location by `handler NAME;` or by `NAME;` (a directive of
 * its own, unless a module has a directive of that name). It answers with
 * the request API below and returns MOONGATE_OK (done: the response ends), MOONGATE_AGAIN (it
 * calls moongate_request_finish later, from an event of the server's loop), MOONGATE_DECLINED
 * or an HTTP status (nothing written yet: the error page, or error_page, answers). */
typedef int (*moongate_handler_pt)(moongate_request_t *r, void *data);

typedef struct {
    const char *name;
    moongate_handler_pt handler;
    void *data;
} moongate_handler_t;

/* A Lua module `require(name)` gives, in package.preload of every Lua VM the server builds
 * (each reload builds one): either `open` (a lua_CFunction returning the module) or
 * `source` (Lua code returning it). */
typedef struct {
    const char *name;
    int (*open)(struct lua_State *L);
    const char *source;
} moongate_lua_module_t;

/* A response filter, named in the config by `filter NAME;` (one per location, inherited by
 * nested ones) and run for every response the location sends (not subrequests): `header` (may
 * be NULL) sees the head before it goes out, reads and changes the status and the headers
 * (moongate_response_get_status/_get_header, moongate_response_status/_header); `body` (may be
 * NULL) gets the body in pieces, `last` set with the final one (which may be empty), and
 * replaces the body with what it gives moongate_filter_write, so a piece it gives nothing for
 * is dropped (with a body filter, Content-Length goes: the length may change). Both return
 * MOONGATE_OK or MOONGATE_ERROR (the response is cut off). */
typedef struct {
    const char *name;
    int (*header)(moongate_request_t *r, void *data);
    int (*body)(moongate_request_t *r, const char *chunk, size_t len, int last, void *data);
    void *data;
} moongate_filter_t;

/* Gets every error log line at `log_level` or more severe, as written to the error log
 * (without the newline), besides the error_log destinations of the config. */
typedef void (*moongate_log_pt)(void *data, int level, const char *line, size_t len);

typedef struct {
    const char *prefix;      /* directory relative paths resolve against */
    const char *conf_file;   /* absolute, or relative to prefix; ignored with conf_string */
    const char *conf_string; /* the whole configuration as text (include paths: prefix) */
    const char *directives;  /* extra top-level directives, parsed first (as -g) */
    const char *error_log;   /* error log before the config's own: a path or "stderr";
                                NULL = logs/error.log */
    const moongate_handler_t *handlers;       /* ends with a NULL name; NULL = none */
    const moongate_lua_module_t *lua_modules; /* ends with a NULL name; NULL = none */
    moongate_log_pt log;
    void *log_data;
    int log_level;                    /* 0 = MOONGATE_LOG_NOTICE */
    const moongate_filter_t *filters; /* ends with a NULL name; NULL = none */
} moongate_options_t;

/* Parse and check the configuration and open its listening sockets. NULL on error, with the
 * first error line in `error` (may be NULL) and in the log. The options' strings and arrays
 * are copied, but not what handlers and lua_modules point to (code, data). */
moongate_server_t *moongate_server_create(const moongate_options_t *opts, char *error,
                                          size_t error_size);

/* Serve on moongate's own loop in the calling thread until stopped: 0 after a stop, -1 on a
 * loop failure. */
int moongate_server_run(moongate_server_t *srv);
/* Serve on the caller's event_base: the server adds its events and returns 0; the caller runs
 * the base. After a stop the server removes its events once its connections are gone;
 * moongate_server_stopped() then says 1. Destroy it before freeing the base. */
int moongate_server_attach(moongate_server_t *srv, struct event_base *base);
int moongate_server_stopped(moongate_server_t *srv);
/* Serve on a thread of the server's own; moongate_server_join waits for it to end after a
 * stop and returns what moongate_server_run would. */
int moongate_server_start_thread(moongate_server_t *srv);
int moongate_server_join(moongate_server_t *srv);

/* Re-read the configuration (file or string) and switch new connections to it; on error the
 * running one stays. 0, or -1 with the first error line in `error`. From any thread (another
 * thread waits for the server's loop to do it). */
int moongate_server_reload(moongate_server_t *srv, char *error, size_t error_size);
/* Replace the configuration string (a server created from conf_string), then reload. */
int moongate_server_reload_string(moongate_server_t *srv, const char *conf_string, char *error,
                                  size_t error_size);
/* Stop: gracefully (stop accepting, finish the requests in flight) or at once. From any
 * thread, and from a signal handler's thread context (it only writes to a pipe). */
void moongate_server_stop(moongate_server_t *srv, int graceful);
/* Run fn(data) on the server's loop thread soon: how another thread finishes a request. 0 or
 * -1 (the server has stopped). */
int moongate_server_post(moongate_server_t *srv, void (*fn)(void *data), void *data);
/* Run a Lua chunk in the server's current Lua VM (as init_worker_by_lua code runs: ngx.timer,
 * ngx.shared, ngx.log), on its loop thread. 0, or -1 with the error in `error`. The config
 * must use Lua (some *_by_lua directive) for the VM to exist. */
int moongate_server_lua(moongate_server_t *srv, const char *chunk, char *error, size_t error_size);
void moongate_server_destroy(moongate_server_t *srv);

/* ---- the request, inside a handler (and until moongate_request_finish) ---- */
moongate_server_t *moongate_request_server(moongate_request_t *r);
/* Strings of the request, not NUL-terminated; *len gets their length. */
const char *moongate_request_method(moongate_request_t *r, size_t *len);
const char *moongate_request_uri(moongate_request_t *r, size_t *len); /* decoded: $uri */
const char *moongate_request_args(moongate_request_t *r, size_t *len);
/* An argument of the query string ("name"), or a request header by name (any case); NULL
 * when absent. */
const char *moongate_request_arg(moongate_request_t *r, const char *name, size_t *len);
const char *moongate_request_header(moongate_request_t *r, const char *name, size_t *len);
/* Read the request body, then call done (at once when it is there already); the handler
 * returns MOONGATE_AGAIN and done answers. 0, or an HTTP status to return. */
int moongate_request_read_body(moongate_request_t *r,
                               void (*done)(moongate_request_t *r, void *data), void *data);
/* The body read, in memory (a body spooled to a file is read in); NULL with 0 when empty. */
const char *moongate_request_body(moongate_request_t *r, size_t *len);
/* The response: status (default 200), headers (set: replaces a header of that name; NULL
 * value removes it; Content-Type and Content-Length included), then the body in pieces, each
 * copied and sent as the socket takes it; the head goes with the first write. */
void moongate_response_status(moongate_request_t *r, int status);
int moongate_response_header(moongate_request_t *r, const char *name, const char *value);
int moongate_response_write(moongate_request_t *r, const void *data, size_t len);
/* The end of the response of a handler that returned MOONGATE_AGAIN, or of one that returns
 * MOONGATE_OK (optional then). `rc` is MOONGATE_OK or an HTTP status to answer with when
 * nothing was written. r is gone afterwards. Call it from the server's loop thread. When the
 * client went away meanwhile, it only frees r. */
void moongate_request_finish(moongate_request_t *r, int rc);
/* In a filter: the response's status and headers as they are now. */
int moongate_response_get_status(moongate_request_t *r);
const char *moongate_response_get_header(moongate_request_t *r, const char *name, size_t *len);
/* In a body filter: bytes of the new body (copied). 0 or -1. */
int moongate_filter_write(moongate_request_t *r, const void *data, size_t len);
/* 1 when the client closed its connection while the handler waited. */
int moongate_request_aborted(moongate_request_t *r);

#ifdef __cplusplus
}
#endif

#endif
