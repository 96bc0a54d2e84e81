/*
 * The stream layer (nginx's ngx_stream_core_module): TCP sessions accepted on the stream{}
 * block's listening sockets, run through phases (post_accept, preaccess, access, ssl, preread,
 * content, log) by the modules' handlers, on the same listening sockets, accept, drain and
 * upgrade machinery as http: a session is never idle, so a drain keeps it to its end or to
 * worker_shutdown_timeout.
 */
#ifndef MG_STREAM_H
#define MG_STREAM_H

#include <sys/socket.h>

#include "array.h"
#include "conf.h"
#include "connection.h"
#include "cycle.h"
#include "listen.h"
#include "log.h"
#include "mg.h"
#include "mgtime.h"
#include "pool.h"
#include "resolver.h"
#include "server_names.h"
#include "str.h"

typedef struct mg_stream_session_s mg_stream_session_t;

/* A phase handler: MG_OK (phase done, on to the next one), MG_DECLINED (the next handler of
 * this phase), MG_AGAIN/MG_DONE (it waits: MG_DONE when it gives its answer later to
 * mg_stream_phase_resume, as preread_by_lua), or a status (200, 400, 403, 500, 502, 503) that
 * ends the session. In the preread phase, MG_AGAIN asks the core for more of the client's bytes
 * in s->preread (the core reads and waits, under preread_timeout, and asks the handler again). */
typedef mg_int_t (*mg_stream_handler_pt)(mg_stream_session_t *s);
typedef void (*mg_stream_content_pt)(mg_stream_session_t *s);

enum {
    MG_STREAM_POST_ACCEPT_PHASE = 0,
    MG_STREAM_PREACCESS_PHASE,
    MG_STREAM_ACCESS_PHASE,
    MG_STREAM_SSL_PHASE,
    MG_STREAM_PREREAD_PHASE,
    MG_STREAM_CONTENT_PHASE,
    MG_STREAM_LOG_PHASE,
    MG_STREAM_PHASES
};

typedef struct {
    struct sockaddr_storage sockaddr;
    socklen_t socklen;
    char addr_text[128];
    int backlog;
    int rcvbuf, sndbuf;
    int keepalive, keepidle, keepintvl, keepcnt;
    int fastopen; /* -1: not given */
    unsigned bind : 1;
    unsigned wildcard : 1;
    unsigned reuseport : 1;
    unsigned ipv6only : 1;
    unsigned proxy_protocol : 1;
    unsigned udp : 1;
    unsigned ssl : 1;
    unsigned default_server : 1;
    const char *where; /* FILE:LINE of the listen, for messages */
    void *srv;         /* mg_stream_srv_conf_t */
} mg_stream_listen_t;

typedef struct {
    mg_array_t servers;               /* mg_stream_srv_conf_t * */
    mg_array_t listen;                /* mg_stream_listen_t */
    mg_array_t variables;             /* mg_stream_var_t */
    mg_array_t *used;                 /* mg_str_t: the names strings with variables use,
                                         each must be known when stream{} ends (NULL: none) */
    mg_int_t variables_hash_max_size; /* checked as nginx sizes its hash of the names */
    mg_int_t variables_hash_bucket_size;
    mg_int_t server_names_hash_max_size; /* checked as nginx sizes an address's names */
    mg_int_t server_names_hash_bucket_size;
    mg_array_t phases[MG_STREAM_PHASES]; /* mg_stream_handler_pt, run last-registered first
                                            (the log phase in registration order) */
} mg_stream_main_conf_t;

typedef struct {
    mg_conf_ctx_t *ctx;           /* this server's conf arrays */
    mg_stream_content_pt handler; /* proxy_pass, return, ... */
    const char *file;             /* where the server{} block is, for messages */
    mg_uint_t line;
    mg_msec_t preread_timeout;
    size_t preread_buffer_size;
    mg_msec_t proxy_protocol_timeout;
    int tcp_nodelay;
    mg_log_t *error_log;
    mg_resolver_t *resolver; /* NULL: none (proxy_pass with a name in variables asks it) */
    mg_msec_t resolver_timeout;
    mg_array_t server_names; /* mg_server_name_t (nginx >= 1.25.5), the first $server_name */
    unsigned listen : 1;
} mg_stream_srv_conf_t;

/* An address the listening sockets serve (one per listen address). */
typedef struct {
    struct sockaddr_storage sockaddr;
    socklen_t socklen;
    char addr_text[128];
    mg_stream_srv_conf_t *srv; /* the default server */
    mg_array_t *servers;       /* mg_stream_srv_conf_t *: all of them when several listen here,
                                  told apart by server_name; NULL: srv alone */
    mg_server_names_t *names;  /* their names (core/server_names.c); NULL: srv answers all */
    unsigned proxy_protocol : 1;
    unsigned ssl : 1; /* the ssl phase's handshake first (core/stream/ssl.c) */
} mg_stream_addr_t;

typedef struct {
    mg_array_t addrs;   /* mg_stream_addr_t: the wildcard one last */
    void *udp_sessions; /* udp: this process's sessions of the socket, a table (udp.c) */
} mg_stream_port_t;

struct mg_stream_session_s {
    mg_connection_t *connection;
    mg_pool_t *pool;
    void **main_conf;
    void **srv_conf;
    mg_stream_addr_t *addr;
    void **ctx;           /* per module */
    mg_msec_t start_msec; /* wall clock, for $session_time */
    mg_msec_t start_mono;
    mg_uint_t status; /* $status: 200, 400, 403, 500, 502, 503 */
    off_t received;   /* bytes from the client ($bytes_received) */
    off_t sent;       /* bytes to the client ($bytes_sent) */
    size_t phase;     /* the phase being run */
    size_t handler;   /* the handler of that phase next to run */
    char *preread;    /* preread buffer (PROXY protocol header, preread phase) */
    size_t preread_len, preread_size;
    void *upstream;       /* the proxy's state (modules/stream_proxy.c) */
    void *udp;            /* a UDP session's datagram queue (udp.c), NULL for TCP */
    mg_uint_t requests;   /* UDP: datagrams from the client */
    mg_array_t variables; /* mg_stream_set_var_t: "set" values */
    int *captures;        /* the last regex match's ($1..$9, named): offset pairs */
    int ncaptures;        /* ints in captures */
    const char *captures_data;
    mg_regex_t *captures_re;
    void (*cleanup)(mg_stream_session_t *s); /* the content's, run before the connection closes */
    mg_str_t log_upstream; /* the peer being talked to, for the error log's context */
    off_t upstream_sent, upstream_received; /* with that peer, for the same */
    unsigned finalized : 1;
    unsigned preread_wait : 1;     /* the preread phase waits for the client's bytes */
    unsigned preread_timedout : 1; /* preread_timeout passed: the phase is over */
    /* a preread handler asked for the client's bytes (MG_AGAIN, ssl_preread on, Lua's
     * sock:peek): those in s->preread are the preread phase's reads, which nginx leaves out of
     * $bytes_received (it counts what the content reads) */
    unsigned preread_claimed : 1;
};

/* UDP (core/stream/udp.c): a session per client address; its connection's recv takes the
 * next datagram queued for it (EAGAIN when none), send answers with one datagram. A session
 * leaves the lookup (later datagrams start a new one) when it closes or after `requests`. */
void mg_stream_udp_detach(mg_connection_t *c);
/* the size of the datagram that started a UDP session (its udp queue): nginx counts it in
 * $bytes_received as the session starts, whatever the session does with it */
size_t mg_stream_udp_first_len(void *udp);

/* A client's name (the TLS SNI, ssl_preread's server name: nginx >= 1.25.5) chooses the session's
 * server among its address's: checked as nginx's validate_host (a refused name chooses none),
 * then exact, the longest leading and trailing wildcards, the regexes in order (whose captures
 * the session keeps); the session takes the server's configuration. MG_OK (a server chosen or
 * the session's kept), MG_ERROR when a regex failed (logged): the session ends, as nginx's. */
mg_int_t mg_stream_server_by_name(mg_stream_session_t *s, mg_str_t name);

/* TLS handshake hooks (core/stream/ssl.c): fill h with srv, whose handshake resumes through
 * the ssl phase (a hook's code that waited). */
struct mg_ssl_hook_srv_s;
void mg_stream_ssl_hook_srv(struct mg_ssl_hook_srv_s *h, mg_stream_srv_conf_t *srv);

extern mg_module_t mg_stream_module;
extern mg_module_t mg_stream_core_module;

#define mg_stream_get_main_conf(s, module) ((s)->main_conf[(module).index])
#define mg_stream_get_srv_conf(s, module) ((s)->srv_conf[(module).index])
#define mg_stream_conf_get_main(cf, module) ((cf)->ctx_data->main_conf[(module).index])
#define mg_stream_conf_get_srv(cf, module) ((cf)->ctx_data->srv_conf[(module).index])

/* Register a phase handler at configuration time (from a module's stream init). */
void mg_stream_add_handler(mg_conf_t *cf, int phase, mg_stream_handler_pt h);
/* The same, before those registered so far: it runs after them in a phase, first in the log
 * phase (Lua's postponed preread, its log handler before access_log). */
void mg_stream_add_handler_first(mg_conf_t *cf, int phase, mg_stream_handler_pt h);
/* A handler that answered MG_AGAIN or MG_DONE has its answer now: the phases go on from it. */
void mg_stream_phase_resume(mg_stream_session_t *s, mg_int_t rc);
/* Log a line without the session's context, as nginx's stream lines of a session's start and
 * end ("client ... connected to ...", "... disconnected, bytes ...") are. */
void mg_stream_log_plain(mg_stream_session_t *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Go on with the phases where the session stopped (a handler that waited is asked again). */
void mg_stream_core_run(mg_stream_session_t *s);
/* End the session with that status: the log phase, then the connection is closed. */
void mg_stream_finalize_session(mg_stream_session_t *s, mg_uint_t status);

/* Variables (core/stream/variables.c): the value of $name (without '$') for the session, or
 * a NULL data when it is not found / not set. */
typedef struct {
    mg_str_t name;
    mg_str_t value;
} mg_stream_set_var_t;
int mg_stream_variable_known(mg_conf_t *cf, mg_str_t name);
mg_str_t mg_stream_variable(mg_stream_session_t *s, mg_str_t name);
/* A module's variables: get(s, data) returns the value (data NULL: not found) */
typedef mg_str_t (*mg_stream_var_get_pt)(mg_stream_session_t *s, uintptr_t data);
typedef struct {
    mg_str_t name;
    mg_stream_var_get_pt get;
    uintptr_t data;
    unsigned prefix : 1; /* the name is a prefix ("arg_"-like families) */
} mg_stream_var_t;
void mg_stream_variable_add(mg_conf_t *cf, const char *name, mg_stream_var_get_pt get,
                            uintptr_t data);
/* Once every module added its variables: refuse the names nginx's variables_hash_* would not
 * fit, with its words. MG_OK or MG_ERROR (logged). */
mg_int_t mg_stream_variables_check(mg_conf_t *cf);

/* A regex of the configuration whose (?<name>...) groups are stream variables; NULL on
 * error (logged). exec: MG_OK (the session's captures set), MG_DECLINED, MG_ERROR (logged);
 * str must live as long as the session. */
mg_regex_t *mg_stream_regex_compile(mg_conf_t *cf, mg_str_t pattern, int caseless);
mg_int_t mg_stream_regex_exec(mg_stream_session_t *s, mg_regex_t *re, mg_str_t str);

/* A string with variables ("$upstream_addr backend:$server_port"), compiled once. */
typedef struct {
    mg_array_t parts; /* mg_str_t: literal, or a name with data[-1] == '$' (len excludes it) */
    mg_str_t plain;   /* no variables: the text itself */
    unsigned has_vars : 1;
} mg_stream_complex_t;
const char *mg_stream_complex_compile(mg_conf_t *cf, mg_str_t text, mg_stream_complex_t *cv);
mg_str_t mg_stream_complex_value(mg_stream_session_t *s, mg_stream_complex_t *cv);

#endif
