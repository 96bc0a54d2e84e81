/*
 * What the lua/ files share: the VM of a generation, the per-request Lua state, the phase
 * bits an ngx.* function checks, and one injector per API area, each adding its fields to
 * the `ngx` table at the top of the stack when a VM is built (vm.c calls them in order).
 */
#ifndef MG_LUA_API_H
#define MG_LUA_API_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "http.h"
#include "ssl_client.h"

/* Where Lua code runs; one bit each so an API can list the places it is allowed. */
enum {
    MG_LUA_INIT = 0x0001,
    MG_LUA_INIT_WORKER = 0x0002,
    MG_LUA_SET = 0x0004,
    MG_LUA_REWRITE = 0x0008,
    MG_LUA_ACCESS = 0x0010,
    MG_LUA_CONTENT = 0x0020,
    MG_LUA_LOG = 0x0040,
    MG_LUA_HEADER_FILTER = 0x0080,
    MG_LUA_BODY_FILTER = 0x0100,
    MG_LUA_TIMER = 0x0200,
    MG_LUA_EXIT_WORKER = 0x0400,
    /* during a TLS handshake, without a request (ssl.c) */
    MG_LUA_SSL_CLIENT_HELLO = 0x0800,
    MG_LUA_SSL_CERT = 0x1000,
    MG_LUA_SSL_SESS_FETCH = 0x2000,
    MG_LUA_SSL_SESS_STORE = 0x4000,
    /* choosing an upstream peer, within a request (balancer.c) */
    MG_LUA_BALANCER = 0x8000,
    /* server_rewrite_by_lua: the server's rewrite phase; every API of the rewrite phase works
     * there (mg_lua_check_phase) */
    MG_LUA_SERVER_REWRITE = 0x10000,
    /* preread_by_lua in stream{} (lua/stream.c): every API of the access phase works there
     * (mg_lua_check_phase), as stream-lua's preread is its access-like phase */
    MG_LUA_PREREAD = 0x20000,
};
/* The handshake phases whose code may yield (the handshake waits for it). */
#define MG_LUA_SSL_YIELDABLE (MG_LUA_SSL_CLIENT_HELLO | MG_LUA_SSL_CERT | MG_LUA_SSL_SESS_FETCH)
#define MG_LUA_REQUEST_PHASES                                                                      \
    (MG_LUA_SET | MG_LUA_SERVER_REWRITE | MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT |        \
     MG_LUA_LOG | MG_LUA_HEADER_FILTER | MG_LUA_BODY_FILTER | MG_LUA_BALANCER)
/* Where OpenResty runs the code with a fake request (a timer, the worker hooks, the TLS
 * handshake): the functions of request data find it and refuse in words of their own
 * (context.c), ngx.req.start_time gives its start, never set: 0 (req.c). */
#define MG_LUA_FAKE_REQUEST_PHASES                                                                 \
    (MG_LUA_INIT_WORKER | MG_LUA_EXIT_WORKER | MG_LUA_TIMER | MG_LUA_SSL_CLIENT_HELLO |            \
     MG_LUA_SSL_CERT | MG_LUA_SSL_SESS_FETCH | MG_LUA_SSL_SESS_STORE)
/* Phases whose code runs in a coroutine that may yield (wait, ngx.exit, ngx.exec). */
#define MG_LUA_YIELDABLE                                                                           \
    (MG_LUA_SERVER_REWRITE | MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT | MG_LUA_TIMER |      \
     MG_LUA_SSL_YIELDABLE | MG_LUA_PREREAD)

/* A piece of Lua code a directive names: inline text or a file. */
typedef struct {
    int ref;                 /* the compiled chunk in the VM's registry, or LUA_NOREF */
    mg_str_t src;            /* the code, or the file's full path (NUL-terminated) */
    const char *chunkname;   /* "=content_by_lua(nginx.conf:12)" or "@/path/x.lua" */
    struct mg_http_complex_value_s *path_cv; /* a file name with variables: per request */
    unsigned is_file : 1;
} mg_lua_code_t;

/* http{}-level state: the generation's VM and what runs outside requests. */
typedef struct {
    lua_State *L;            /* created by the first Lua directive; closed with the cycle */
    mg_cycle_t *cycle;
    mg_log_t init_log; /* the early log with the generation's scope (mg_lua_log) */
    /* init_worker_by_lua's lines, as lua-nginx-module's fake connection writes them: a
     * connection number and ", context: init_worker_by_lua*" (lua_module.c) */
    mg_log_t worker_log;
    mg_str_t package_path;
    mg_str_t package_cpath;
    mg_lua_code_t *init;
    mg_lua_code_t *init_worker;
    mg_lua_code_t *exit_worker;
    unsigned phases;         /* MG_LUA_* of every request phase some location uses */
    int rewrite_no_postpone;
    int access_no_postpone; /* access_by_lua_no_postpone */
    /* lua_sa_restart: the worker's signal handlers restart system calls */
    int sa_restart;
    /* lua_capture_error_log's ring (errlog.c), NULL when not given */
    struct mg_lua_errlog_ring_s *errlog_ring;
    mg_int_t regex_cache_max_entries;
    mg_int_t regex_match_limit; /* lua_regex_match_limit: pcre2's match limit (0: its own) */
    mg_int_t max_pending_timers;
    mg_int_t max_running_timers;
    mg_int_t worker_thread_vm_pool_size; /* ngx.run_worker_thread's VMs per process */
    struct mg_lua_timers_s *timers; /* timer.c, in a worker once a timer was made */
    struct mg_lua_co_s *co_cache;   /* finished entry coroutines kept for reuse (coroutine.c) */
    void *out_spare; /* a written output gathering block kept for the next request (resp.c) */
    /* the VM's cosocket state (socket_tcp_pool.c), made at first use: a field, not a registry
     * entry, as each request's connect, pool lookup and end look it up */
    struct mg_lua_tcp_state_s *tcp_state;
    mg_uint_t nco_cache;
    mg_int_t thread_cache_max;       /* lua_thread_cache_max_entries: co_cache's bound */
    mg_int_t malloc_trim;            /* lua_malloc_trim: requests between two malloc_trim(1) */
    mg_int_t trim_nreq;              /* requests logged since the last one, in this worker */
    struct mg_lua_shdict_s *shdicts; /* lua_shared_dict zones (shdict.c) */
    struct mg_lua_pipes_s *pipes;    /* ngx.pipe's processes in this worker (pipe.c) */
    /* the lua_socket_* settings of code without a request or session (timers): the http{}
     * or stream{} level's, defaults filled in */
    struct mg_lua_loc_conf_s *conf;
    mg_array_t *add_variables; /* stream{}: lua_add_variable's names (mg_str_t), declared
                                  once the other modules declared theirs (built-ins win) */
    unsigned stream : 1; /* stream{}'s VM (lua/stream.c): OpenResty's stream subsystem has a VM
                            of its own too */
} mg_lua_main_conf_t;

/* A location's settings (in stream{}: a server's, with preread/content/log in place of the
 * http phases). */
typedef struct mg_lua_loc_conf_s {
    mg_lua_code_t *server_rewrite; /* http{} or server{}: the server's rewrite phase */
    mg_lua_code_t *rewrite;
    mg_lua_code_t *access;
    mg_lua_code_t *content;
    mg_lua_code_t *log;
    mg_lua_code_t *header_filter;
    mg_lua_code_t *body_filter;
    mg_lua_code_t *preread; /* stream{} only */
    int code_cache;
    int need_request_body;
    int transform_underscores; /* lua_transform_underscores_in_response_headers */
    int use_default_type;      /* lua_use_default_type: default_type for Lua's responses */
    size_t socket_send_lowat;  /* lua_socket_send_lowat: read, warned about, 0 (as nginx) */
    int http10_buffering;      /* lua_http10_buffering (resp.c) */
    /* lua_socket_*: the cosockets' defaults (settimeout and connect/setkeepalive arguments
     * override them) */
    mg_msec_t socket_connect_timeout;
    mg_msec_t socket_send_timeout;
    mg_msec_t socket_read_timeout;
    mg_msec_t socket_keepalive_timeout;
    size_t socket_buffer_size;       /* what one recv() of a tcp cosocket reads at most */
    mg_int_t socket_pool_size;
    int socket_log_errors;
    int check_client_abort;          /* lua_check_client_abort */
    mg_ssl_client_conf_t ssl;        /* lua_ssl_*: the cosockets' sslhandshake */
} mg_lua_loc_conf_t;

/* A coroutine the scheduler runs (coroutine.c): the entry thread of a phase or timer, a
 * light thread (ngx.thread.spawn) or a user coroutine (coroutine.create). */
enum { MG_LUA_KIND_ENTRY, MG_LUA_KIND_THREAD, MG_LUA_KIND_USER };
enum {
    MG_LUA_ST_SUSPENDED, /* not started, or yielded to its resumer */
    MG_LUA_ST_RUNNING,
    MG_LUA_ST_NORMAL,    /* resumed another coroutine (or spawned a thread) and waits for it */
    MG_LUA_ST_WAITING,   /* yielded to the event loop (I/O, sleep, ngx.thread.wait) */
    MG_LUA_ST_DEAD,
};
typedef struct mg_lua_co_s mg_lua_co_t;
struct mg_lua_co_s {
    lua_State *L;
    int ref;                 /* keeps the thread alive */
    struct mg_lua_ctx_s *ctx;
    mg_lua_co_t *parent;     /* user coroutine: its resumer; thread: its spawner, NULL once
                                that ended (a `kid` is counted in its spawner's nkids) */
    mg_lua_co_t *waiter;     /* thread: who waits for it in ngx.thread.wait */
    mg_lua_co_t *waitees;    /* in ngx.thread.wait: the live threads it waits for ... */
    mg_lua_co_t *wait_next;  /* ... through this link */
    mg_lua_co_t *next;       /* the context's list */
    mg_lua_co_t **pprev;
    mg_uint_t id;            /* unique in the context: a thread names its spawner by it */
    mg_uint_t parent_id;     /* thread: its spawner's id (also once the spawner is freed) */
    mg_uint_t nkids;         /* its light threads not freed and not told it ended */
    struct event *sleep_ev;  /* ngx.sleep's timer (sleep.c) */
    struct mg_resolve_s *resolve;     /* a cosocket's name being resolved (socket_resolve.c) */
    struct sema_wait_s *sema_wait;    /* its place in a semaphore's queue (semaphore.c) */
    struct mg_lua_pipe_op_s *pipe_op; /* the ngx.pipe stream or exit it waits for (pipe.c) */
    struct mg_lua_worker_task_s *worker_task; /* ngx.run_worker_thread's (worker_thread.c) */
    /* what else it waits for that ngx.thread.kill tears down (a cosocket's read or write,
     * ngx.req.read_body, ngx.flush(true)): set with the wait (mg_lua_wait_with), cleared when
     * its event resumes it */
    void (*cancel)(mg_lua_co_t *co, void *data);
    void *cancel_data;
    int kind;
    int status;
    unsigned spawning : 1;   /* thread: ngx.thread.spawn has not returned to the spawner */
    unsigned failed : 1;     /* thread died of an error (the message is on L) */
    unsigned reaped : 1;     /* thread: waited for or killed */
    unsigned killed : 1;     /* stopped (ngx.thread.kill, ngx.exit, an error): an armed event
                                may still name it, so it stays until the context ends */
    unsigned kid : 1;        /* thread: counted in parent->nkids */
    unsigned capturing : 1;  /* waits for its ngx.location.capture* subrequests: not killable */
};

/* One request's (or stream session's) Lua state, shared by its phases (r->ctx slot of the lua
 * module; a session's s->ctx slot of mg_stream_lua_module). Without either, a timer's or a TLS
 * handshake's. */
typedef struct mg_lua_ctx_s {
    mg_request_t *r;
    struct mg_stream_session_s *s; /* stream{}: the session (r is NULL) */
    mg_lua_main_conf_t *lmcf;
    mg_lua_co_t *cos;        /* every coroutine of the context */
    mg_lua_co_t *flush_co;   /* the coroutine in ngx.flush(true) */
    mg_lua_co_t *body_co;    /* the coroutine in ngx.req.read_body */
    mg_lua_co_t *abort_co;   /* ngx.on_abort's light thread (started when the client goes) */
    mg_lua_co_t *yield_target;
    int co_map_ref;   /* thread -> record (weak keys; a freed one's tombstone) */
    mg_uint_t co_ids; /* the last id given */
    int yield_op;
    int spawn_nargs;
    mg_uint_t nthreads;      /* light threads alive */
    mg_uint_t captures;      /* ngx.location.capture* calls waiting for their subrequests */
    unsigned entry_done : 1; /* the entry thread returned (threads may still run) */
    int ctx_ref;             /* ngx.ctx table, LUA_NOREF until first used */
    unsigned phase;          /* MG_LUA_* being run */
    mg_int_t exit_code;      /* ngx.exit's argument */
    mg_str_t exec_uri;       /* ngx.exec target */
    mg_str_t exec_args;
    void *out_blocks;        /* malloc'ed output memory, freed once written (resp.c) */
    char *pend;              /* small outputs gathered before they go to the filters */
    size_t pend_len;
    size_t pend_cap;
    /* lua_http10_buffering: an HTTP/1.0 response's output held (in the request pool) until
     * its end, so that its head can say Content-Length (resp.c) */
    mg_buf_t *held, **held_last;
    size_t held_size;
    /* a coroutine without a request (a timer) ended: MG_LUA_CO_DONE/EXIT/ERROR */
    void (*finished)(struct mg_lua_ctx_s *ctx, int how);
    void *owner;   /* the timer (or TLS connection, ssl.c) that runs this ctx */
    mg_log_t *log; /* without a request: the log its lines go to (NULL: the generation's) */
    struct mg_lua_body_s *body; /* body_filter_by_lua's state (filter.c) */
    unsigned exited : 1;     /* ngx.exit / ngx.redirect called */
    unsigned exec : 1;       /* ngx.exec called */
    unsigned eof : 1;        /* the last buffer was sent (ngx.eof or the end) */
    unsigned waiting : 1;    /* yielded until an event resumes it */
    unsigned flush_wait : 1; /* ngx.flush(true) waits for the writer */
    unsigned seen_body : 1;  /* ngx.print/say had bytes: ngx.flush() has something to push */
    unsigned entered_server_rewrite : 1;
    unsigned entered_rewrite : 1;
    unsigned entered_access : 1;
    unsigned entered_content : 1;
    unsigned body_read : 1;  /* lua_need_request_body / ngx.req.read_body done */
    unsigned body_waiting : 1; /* a phase handler waits for lua_need_request_body */
    unsigned mime_set : 1;   /* ngx.header set Content-Type (even to nil): no default type */
    unsigned filter_replaced : 1; /* header_filter_by_lua's ngx.exit replaced the response */
    unsigned raw_socket : 1;      /* ngx.req.socket(true) was given: the code owns the
                                     connection, the output API writes nothing more */
} mg_lua_ctx_t;

/* What Lua code runs now: set by the runners around every call into the VM. */
typedef struct {
    mg_request_t *r;         /* NULL outside a request */
    mg_lua_ctx_t *ctx;
    unsigned phase;
    mg_lua_main_conf_t *lmcf;
    mg_lua_co_t *co;         /* the coroutine running, NULL where nothing may yield */
    struct mg_stream_session_s *s; /* a stream session's code (r is NULL then) */
} mg_lua_current_t;

extern mg_module_t mg_lua_module;
extern mg_module_t mg_stream_lua_module;
extern MG_THREAD_LOCAL mg_lua_current_t mg_lua_cur;
/* tools/docgen.c's probe: the phase check and the request lookup raise "docgen: ..." instead
 * of letting the function run on. */
extern int mg_lua_probe;

/* ---- context.c ---- */
/* The running request, or luaL_error "no request found" outside one (a stream session's code
 * included: its APIs ask for mg_lua_session). */
mg_request_t *mg_lua_request(lua_State *L);
/* The same for a read of request data with no phase check of its own (ngx.status,
 * ngx.headers_sent): where OpenResty has a fake request (a timer, the worker hooks, the TLS
 * handshake) it refuses with "API disabled in the current context". */
mg_request_t *mg_lua_request_data(lua_State *L);
/* The running stream session, or luaL_error "no session found". */
struct mg_stream_session_s *mg_lua_session(lua_State *L);
/* resty.core.base's get_request (resty_base.c, through the FFI): non-NULL where OpenResty's
 * gives a request, its fake one included: the request, the stream session, a timer's or TLS
 * handshake's context, the VM in init_worker and exit_worker; NULL elsewhere (init_by_lua).
 * An opaque token: no function takes it. */
void *mg_lua_request_token(void);
/* The Lua main conf of the block being read: http{}'s, or stream{}'s in a stream context. */
mg_lua_main_conf_t *mg_lua_conf_main(mg_conf_t *cf);
/* luaL_error "API disabled in the context of <phase>" unless the running phase is allowed. */
void mg_lua_check_phase(lua_State *L, unsigned allowed);
/* The same, with the words of lua-nginx-module's C function for init_by_lua, where no request
 * exists: each function words it as its own source does ("no request object found" for
 * ngx.say, "request object not found" for ngx.req.read_body, "no request" for ngx.timer.at). */
void mg_lua_check_phase_words(lua_State *L, unsigned allowed, const char *no_request);
#define MG_LUA_NO_REQ_OBJECT "no request object found"
#define MG_LUA_REQ_OBJECT_NOT_FOUND "request object not found"
/* The same check without a lua_State (FFI functions): NULL when allowed, else the message
 * (static storage, valid until the next call). */
const char *mg_lua_phase_error(unsigned allowed);
/* lua_error with msg as lua-resty-core's Lua code raises it where OpenResty's function is
 * Lua: "<file>:<line>: msg", the file the one package.path finds for module (where OpenResty
 * would load it from: "/usr/local/openresty/lualib/resty/core/param.lua"), else module's own
 * relative name ("resty/core/param.lua"); line is lua-resty-core 0.1.25's. A user's pcall gets
 * OpenResty's text, a test's regex on the file's name matches. */
int mg_lua_raise_from(lua_State *L, const char *module, int line, const char *msg);
/* In init_by_lua, where OpenResty has no request at all (not even a fake one), raise
 * "no request found" as lua-resty-core's function raises it first thing, at module's line
 * (mg_lua_raise_from); elsewhere return. Inline: it heads ngx.ctx, ngx.status, ngx.header
 * reads (a call and return were half its cost under callgrind). */
static inline void mg_lua_no_request_from(lua_State *L, const char *module, int line)
{
    if (mg_lua_cur.phase == MG_LUA_INIT && !mg_lua_probe) {
        mg_lua_raise_from(L, module, line, "no request found");
    }
}
/* A phase's ngx.get_phase() name, and its directive as messages name it ("access_by_lua*";
 * NULL for an unknown phase). */
const char *mg_lua_phase_name(unsigned phase);
const char *mg_lua_phase_context(unsigned phase);
/* A number's text in ngx.say/ngx.print/ngx.log output, as lua-nginx-module writes it: Lua's
 * own, but "0" for -0 and "-nan" for a negative NaN (a C printf's). */
const char *mg_lua_num_text(lua_State *L, int idx, size_t *len);
/* The request's Lua state, created on first use; the request pool's cleanup frees its
 * coroutines, ngx.ctx and output memory. */
mg_lua_ctx_t *mg_lua_get_ctx(mg_request_t *r);
/* The lua_socket_* and lua_check_client_abort settings that apply to ctx: its request's
 * location, its session's server, or the VM's top level for a timer (which has neither). */
mg_lua_loc_conf_t *mg_lua_ctx_conf(mg_lua_ctx_t *ctx);

/* The event loop of the process running the Lua code (NULL in the master, e.g. init_by_lua;
 * api.c). */
struct event_base *mg_lua_event_base(void);

/* ---- vm.c ---- */
/* The VM of the configuration being read, created with the ngx API on first use. */
lua_State *mg_lua_vm(mg_conf_t *cf, mg_lua_main_conf_t *lmcf);
/* Compile code (cf: errors are config errors with FILE:LINE); MG_OK or MG_ERROR. */
mg_int_t mg_lua_code_compile(mg_conf_t *cf, mg_lua_main_conf_t *lmcf, mg_lua_code_t *code);
/* Push the code's function on L (cached, or loaded afresh); nil + message on failure. */
mg_int_t mg_lua_code_push(lua_State *L, mg_request_t *r, mg_lua_code_t *code, int cache);
/* lua_code_cache off: forget the modules `require` loaded since init, so the next require
 * reads their files again (OpenResty gives such requests a fresh VM). */
void mg_lua_forget_modules(lua_State *L);
/* After init_by_lua: package paths in place, writes to globals from requests warned about. */
mg_int_t mg_lua_vm_ready(mg_conf_t *cf, mg_lua_main_conf_t *lmcf);

/* ---- phase.c: the one runner ---- */
/* Run a rewrite/access/content entry in a new coroutine; returns the phase handler's code. */
mg_int_t mg_lua_run_entry(mg_request_t *r, mg_lua_code_t *code, unsigned phase);
/* How a context's coroutines stopped (mg_lua_sched_run). */
enum { MG_LUA_CO_DONE, MG_LUA_CO_WAIT, MG_LUA_CO_EXIT, MG_LUA_CO_EXEC, MG_LUA_CO_ERROR };
/* ---- coroutine.c ---- */
/* A new coroutine of ctx (its thread on the VM, empty stack). */
mg_lua_co_t *mg_lua_co_new(mg_lua_ctx_t *ctx, int kind);
/* Release every coroutine of ctx (the request or timer ends); finished entry threads are
 * kept for the next entry, as OpenResty does. */
void mg_lua_co_free_all(mg_lua_ctx_t *ctx);
/* Free the kept ones (the VM closes). */
void mg_lua_co_cache_free(mg_lua_main_conf_t *lmcf);
/* Resume co with nargs values on co->L and run the context's coroutines until none can go
 * on: MG_LUA_CO_DONE (the entry and all light threads returned), _WAIT, _EXIT / _EXEC
 * (ngx.exit / ngx.exec; all stopped), _ERROR (the entry thread failed; logged). */
int mg_lua_sched_run(mg_lua_co_t *co, int nargs);
/* Resume a coroutine that waited (from its event), with nargs values pushed on co->L, and
 * let the context's owner act on the outcome. Late events of a dead coroutine are ignored. */
void mg_lua_resume_co(mg_lua_co_t *co, int nargs);
/* Yield the running coroutine to the event loop (from a C function:
 * `mg_lua_co_t *co = mg_lua_cur.co; ...arm an event...; return mg_lua_wait(L, ctx);`);
 * the event calls mg_lua_resume_co(co, n). */
int mg_lua_wait(lua_State *L, mg_lua_ctx_t *ctx);
/* mg_lua_wait for a wait that a kill of its coroutine can tear down: ngx.thread.kill calls
 * cancel(co, data) instead of leaving the event to find a dead coroutine, and frees co at
 * once; cancel must make sure nothing resumes co afterwards. */
int mg_lua_wait_with(lua_State *L, mg_lua_ctx_t *ctx, void (*cancel)(mg_lua_co_t *, void *),
                     void *data);
/* A coroutine that goes stops waiting for a cosocket's name (socket_resolve.c). */
void mg_lua_socket_resolve_cancel(mg_lua_co_t *co);
/* Run code that may not yield (set, header/body filter, log, init_worker) with nargs
 * arguments on lmcf->L's stack; nres results left on success. MG_OK, MG_ERROR (logged with
 * the traceback), or MG_DONE when ngx.exit was called (ctx->exit_code; it returns, the code goes
 * on). r may be NULL. */
mg_int_t mg_lua_call(mg_lua_main_conf_t *lmcf, mg_request_t *r, mg_lua_code_t *code,
                     unsigned phase, int nargs, int nres);
/* lua_pcall's message handler of those calls: the message with its traceback. */
int mg_lua_add_traceback(lua_State *L);
/* The same for a context that is not a request's (a stream session's); ctx may be NULL. */
mg_int_t mg_lua_call_ctx(mg_lua_main_conf_t *lmcf, mg_lua_ctx_t *ctx, mg_lua_code_t *code,
                         unsigned phase, int nargs, int nres);

/* A light thread of ctx for the function on top of L (popped), not started and not counted
 * until mg_lua_thread_start: ngx.on_abort's handler. */
mg_lua_co_t *mg_lua_thread_new(mg_lua_ctx_t *ctx, lua_State *L);
/* Start it from an event; it runs with the context's coroutines as mg_lua_resume_co's do.
 * Nothing happens when the context stopped meanwhile or it already started. */
void mg_lua_thread_start(mg_lua_co_t *t);

/* ---- stream.c ---- */
/* A stream session's Lua context, made on first use (freed with the session's pool). */
mg_lua_ctx_t *mg_lua_stream_ctx(struct mg_stream_session_s *s);

/* ---- lua_module.c ---- */
/* The confs as the http{} levels make them; stream{} (lua/stream.c) makes its own with these
 * and merges them with mg_lua_merge_common. */
void *mg_lua_create_main_conf(mg_conf_t *cf);
void *mg_lua_create_loc_conf(mg_conf_t *cf);
/* lua-nginx-module's defaults of the main conf's settings (timers, regex cache, postponing). */
void mg_lua_init_main_defaults(mg_lua_main_conf_t *lmcf);
/* The phases' code, lua_code_cache, lua_socket_* and lua_ssl_* of c from p, and c's TLS
 * client context (shared with p's when they are the same settings; none when lmcf has no VM:
 * no Lua code, so no cosocket); p NULL: the top level, from the defaults. */
const char *mg_lua_merge_common(mg_conf_t *cf, const mg_lua_main_conf_t *lmcf, mg_lua_loc_conf_t *c,
                                mg_lua_loc_conf_t *p);

/* What a *_by_lua* directive feeds (a command row's post): its phase and the label OpenResty
 * names chunks with. */
typedef struct {
    unsigned phase;
    const char *label;
} mg_lua_code_directive_t;
/* The setter of a code directive (inline, block or file) of either VM: the code into the conf
 * slot; a content one becomes the location's (http) or server's (stream) content handler. */
const char *mg_lua_set_code(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* lua_code_cache: a flag, with OpenResty's alert when off. */
const char *mg_lua_set_code_cache(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* lua_load_resty_core: a no-op with its deprecation warning. */
const char *mg_lua_set_load_resty_core(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* stream.c: content_by_lua* makes the stream server's content handler ("is duplicate" when it
 * has one). */
const char *mg_lua_stream_set_content(mg_conf_t *cf);

/* The command rows both VMs have, for a module's table (ctxs: where they may appear): the
 * settings of the main conf, and of the location (a stream server's: loc_conf == srv_conf). */
#define MG_LUA_MAIN_ROW(name, ctxs, args, set, field)                                              \
    {                                                                                              \
        name, ctxs, args, set, MG_MAIN_CONF, offsetof(mg_lua_main_conf_t, field), NULL             \
    }
#define MG_LUA_LOC_ROW(name, ctxs, args, set, field)                                               \
    {                                                                                              \
        name, ctxs, args, set, MG_LOC_CONF, offsetof(mg_lua_loc_conf_t, field), NULL               \
    }
#define MG_LUA_SSL_ROW(name, ctxs, args, set, field)                                               \
    {                                                                                              \
        name, ctxs, args, set, MG_LOC_CONF,                                                        \
            offsetof(mg_lua_loc_conf_t, ssl) + offsetof(mg_ssl_client_conf_t, field), NULL         \
    }
/* init_by_lua* and init_worker_by_lua* (lua_module.c's labels): the same rows in both tables */
extern const mg_lua_code_directive_t mg_lua_d_init, mg_lua_d_init_worker;
#define MG_LUA_CODE_MAIN_ROW(name, ctxs, args, field, d)                                           \
    {                                                                                              \
        name, ctxs, args, mg_lua_set_code, MG_MAIN_CONF, offsetof(mg_lua_main_conf_t, field), &d   \
    }
#define MG_LUA_INIT_COMMANDS(ctxs)                                                                 \
    MG_LUA_CODE_MAIN_ROW("init_by_lua", ctxs, MG_ARGS(1, 1), init, mg_lua_d_init),                 \
        MG_LUA_CODE_MAIN_ROW("init_by_lua_block", ctxs, MG_RAW_BLOCK, init, mg_lua_d_init),        \
        MG_LUA_CODE_MAIN_ROW("init_by_lua_file", ctxs, MG_ARGS(1, 1), init, mg_lua_d_init),        \
        MG_LUA_CODE_MAIN_ROW("init_worker_by_lua", ctxs, MG_ARGS(1, 1), init_worker,               \
                             mg_lua_d_init_worker),                                                \
        MG_LUA_CODE_MAIN_ROW("init_worker_by_lua_block", ctxs, MG_RAW_BLOCK, init_worker,          \
                             mg_lua_d_init_worker),                                                \
        MG_LUA_CODE_MAIN_ROW("init_worker_by_lua_file", ctxs, MG_ARGS(1, 1), init_worker,          \
                             mg_lua_d_init_worker)
/* a main conf's directive whose setter finds its field itself */
#define MG_LUA_MAIN_SET(name, ctxs, args, set)                                                     \
    {                                                                                              \
        name, ctxs, args, set, MG_MAIN_CONF, 0, NULL                                               \
    }
#define MG_LUA_MAIN_COMMANDS(ctxs)                                                                 \
    MG_LUA_MAIN_ROW("lua_package_path", ctxs, MG_ARGS(1, 1), mg_conf_set_str, package_path),       \
        MG_LUA_MAIN_ROW("lua_package_cpath", ctxs, MG_ARGS(1, 1), mg_conf_set_str, package_cpath), \
        MG_LUA_MAIN_SET("lua_load_resty_core", ctxs, MG_ARGS(1, 1), mg_lua_set_load_resty_core),   \
        MG_LUA_MAIN_ROW("lua_regex_cache_max_entries", ctxs, MG_ARGS(1, 1), mg_conf_set_num,       \
                        regex_cache_max_entries),                                                  \
        MG_LUA_MAIN_ROW("lua_regex_match_limit", ctxs, MG_ARGS(1, 1), mg_conf_set_num,             \
                        regex_match_limit),                                                        \
        MG_LUA_MAIN_ROW("lua_max_pending_timers", ctxs, MG_ARGS(1, 1), mg_conf_set_num,            \
                        max_pending_timers),                                                       \
        MG_LUA_MAIN_ROW("lua_max_running_timers", ctxs, MG_ARGS(1, 1), mg_conf_set_num,            \
                        max_running_timers),                                                       \
        MG_LUA_MAIN_SET("lua_capture_error_log", ctxs, MG_ARGS(1, 1),                              \
                        mg_lua_set_capture_error_log),                                             \
        MG_LUA_MAIN_ROW("lua_sa_restart", ctxs, MG_FLAG, mg_conf_set_flag, sa_restart),            \
        MG_LUA_MAIN_SET("lua_shared_dict", ctxs, MG_ARGS(2, 2), mg_lua_set_shared_dict)
#define MG_LUA_LOC_COMMANDS(ctxs)                                                                  \
    MG_LUA_LOC_ROW("lua_code_cache", ctxs, MG_FLAG, mg_lua_set_code_cache, code_cache),            \
        MG_LUA_LOC_ROW("lua_socket_connect_timeout", ctxs, MG_ARGS(1, 1), mg_conf_set_msec,        \
                       socket_connect_timeout),                                                    \
        MG_LUA_LOC_ROW("lua_socket_send_timeout", ctxs, MG_ARGS(1, 1), mg_conf_set_msec,           \
                       socket_send_timeout),                                                       \
        MG_LUA_LOC_ROW("lua_socket_read_timeout", ctxs, MG_ARGS(1, 1), mg_conf_set_msec,           \
                       socket_read_timeout),                                                       \
        MG_LUA_LOC_ROW("lua_socket_keepalive_timeout", ctxs, MG_ARGS(1, 1), mg_conf_set_msec,      \
                       socket_keepalive_timeout),                                                  \
        MG_LUA_LOC_ROW("lua_socket_buffer_size", ctxs, MG_ARGS(1, 1), mg_conf_set_size,            \
                       socket_buffer_size),                                                        \
        MG_LUA_LOC_ROW("lua_socket_pool_size", ctxs, MG_ARGS(1, 1), mg_conf_set_num,               \
                       socket_pool_size),                                                          \
        MG_LUA_LOC_ROW("lua_socket_log_errors", ctxs, MG_FLAG, mg_conf_set_flag,                   \
                       socket_log_errors)
#define MG_LUA_SSL_COMMANDS(ctxs)                                                                  \
    MG_LUA_SSL_ROW("lua_ssl_protocols", ctxs, MG_ARGS(1, MG_MANY), mg_ssl_client_set_protocols,    \
                   protocols),                                                                     \
        MG_LUA_SSL_ROW("lua_ssl_ciphers", ctxs, MG_ARGS(1, 1), mg_conf_set_str, ciphers),          \
        MG_LUA_SSL_ROW("lua_ssl_trusted_certificate", ctxs, MG_ARGS(1, 1), mg_conf_set_str,        \
                       trusted_certificate),                                                       \
        MG_LUA_SSL_ROW("lua_ssl_verify_depth", ctxs, MG_ARGS(1, 1), mg_conf_set_num,               \
                       verify_depth),                                                              \
        MG_LUA_SSL_ROW("lua_ssl_crl", ctxs, MG_ARGS(1, 1), mg_conf_set_str, crl),                  \
        MG_LUA_SSL_ROW("lua_ssl_certificate", ctxs, MG_ARGS(1, 1), mg_conf_set_str, certificate),  \
        MG_LUA_SSL_ROW("lua_ssl_certificate_key", ctxs, MG_ARGS(1, 1), mg_conf_set_str,            \
                       certificate_key),                                                           \
        MG_LUA_SSL_ROW("lua_ssl_password_file", ctxs, MG_ARGS(1, 1),                               \
                       mg_ssl_client_set_password_file, passwords),                                \
        MG_LUA_SSL_ROW("lua_ssl_conf_command", ctxs, MG_ARGS(2, 2),                                \
                       mg_ssl_client_set_conf_command, conf_commands)
/* A request's Lua code yields to the event loop: with lua_check_client_abort on, the client's
 * connection is watched (core/http/abort.c) so that its close runs ngx.on_abort's handler or
 * ends the request with 499. Unwatched once the code stops waiting. */
void mg_lua_watch_client(mg_lua_ctx_t *ctx);
void mg_lua_unwatch_client(mg_lua_ctx_t *ctx);
/* ngx.on_abort(fn), for both VMs: fn runs in a light thread when the client goes. */
int mg_lua_on_abort(lua_State *L);
/* stream.c: the same watch for a stream session's code (a TCP client's close runs
 * ngx.on_abort's handler or ends the session with 499). */
void mg_lua_stream_watch_client(mg_lua_ctx_t *ctx);

/* The code a *_by_lua* directive names in arg (inline, block or file by cf->args[0]'s ending),
 * compiled with chunk names "=label(file:line)"; NULL with *err (a phrase or MG_CONF_ERROR). */
mg_lua_code_t *mg_lua_code_from_arg(mg_conf_t *cf, unsigned phase, const char *label, mg_str_t arg,
                                    const char **err);

/* ---- resp.c ---- */
/* Send the last buffer unless already sent (and the head first): MG_OK, MG_ERROR, or an HTTP
 * status a header filter chose instead (header_filter_by_lua's ngx.exit): nothing was sent,
 * and the caller ends its output and finalizes with it. */
mg_int_t mg_lua_send_eof(mg_request_t *r, mg_lua_ctx_t *ctx);
/* Output memory: `len` bytes that live until written (freed once the writer is idle). */
char *mg_lua_output_alloc(mg_lua_ctx_t *ctx, size_t len);
void mg_lua_output_free(mg_lua_ctx_t *ctx);
/* The generation's kept output block goes (its VM closes). */
void mg_lua_output_spare_free(mg_lua_main_conf_t *lmcf);
/* ngx.status / ngx.headers_sent through the ngx table's metatable (api.c). */
int mg_lua_status_get(lua_State *L);
int mg_lua_status_set(lua_State *L);
int mg_lua_headers_sent(lua_State *L);
/* ngx.ctx (ctx.c) */
int mg_lua_ctx_get(lua_State *L);
int mg_lua_ctx_set(lua_State *L);
/* resty.core.ctx's get_ctx_table([t]): ngx.ctx, which t becomes when there is none yet. */
int mg_lua_ctx_get_table(lua_State *L);
/* An init_worker or exit_worker handler ended: its ngx.ctx goes. */
void mg_lua_ctx_hook_done(lua_State *L);

/* ---- string.c: what ngx.req's argument parsing shares with ngx.decode_args ---- */
/* t[key] = value (key and value on top, popped); a repeated key collects its values in a list. */
void mg_lua_args_set(lua_State *L, int t);
/* One "key=value" (or "key": true) of s[0..len) into t, through buf (len bytes); an empty key
 * is dropped: returns 0, else 1. */
int mg_lua_args_pair(lua_State *L, int t, char *buf, const char *s, size_t len);

/* ---- filter.c ---- */
/* Put header_filter_by_lua and body_filter_by_lua into the filter chains (module init). */
void mg_lua_filters_init(mg_conf_t *cf);
/* ngx.arg: set_by_lua's arguments, or the body filter's chunk and eof flag. */
void mg_lua_inject_arg_api(lua_State *L);

/* ---- set.c ---- */
/* set_by_lua*: $var gets what `code` returns, with args (variables allowed) as ngx.arg, run
 * in order with the rewrite module's directives of the level being read. NULL or a phrase. */
const char *mg_lua_set_add(mg_conf_t *cf, mg_str_t var, mg_lua_code_t *code, mg_str_t *args,
                           size_t nargs);
/* Push ngx.arg[n] of the set_by_lua running now (nil when there is no such argument). */
int mg_lua_set_arg(lua_State *L, lua_Integer n);

/* ---- shdict.c ---- */
/* lua_shared_dict NAME SIZE: a zone of the generation, its store built (http main conf). */
const char *mg_lua_set_shared_dict(mg_conf_t *cf, const mg_command_t *cmd, void *conf);

/* ---- log.c ---- */
/* The error log of what runs now: the request's (with its context) or the generation's. */
mg_log_t *mg_lua_log(void);
/* Log a Lua error with its traceback, as OpenResty's "lua entry thread aborted" line. */
void mg_lua_log_error(mg_lua_main_conf_t *lmcf, lua_State *co, mg_log_t *log, const char *what);
/* ... without the "coroutine 0:" line: code OpenResty runs outside a coroutine (balancer). */
void mg_lua_log_error_main(mg_lua_main_conf_t *lmcf, lua_State *co, mg_log_t *log,
                           const char *what);

/* ---- injectors: ngx table at the top of L's stack; each adds its area's fields ---- */
void mg_lua_inject_core_api(lua_State *L);   /* api.c: constants, ngx.null, config, worker */
void mg_lua_inject_output_api(lua_State *L); /* resp.c: say print flush eof exit status ... */
void mg_lua_inject_header_api(lua_State *L); /* header.c: ngx.header */
void mg_lua_inject_ndk_api(lua_State *L);    /* ndk.c: the ndk global, ndk.set_var */
void mg_lua_inject_var_api(lua_State *L);    /* var.c: ngx.var */
void mg_lua_inject_log_api(lua_State *L);    /* log.c: ngx.log, print, level constants */
void mg_lua_inject_req_api(lua_State *L);    /* req.c: ngx.req */
void mg_lua_inject_string_api(lua_State *L); /* string.c: escape/args/hash/base64 */
void mg_lua_inject_time_api(lua_State *L);   /* time.c: ngx.time now today ... */
void mg_lua_inject_regex_api(lua_State *L);  /* regex.c: ngx.re */
void mg_lua_inject_shdict_api(lua_State *L); /* shdict.c: ngx.shared */
void mg_lua_inject_sleep_api(lua_State *L);  /* sleep.c: ngx.sleep */
void mg_lua_inject_timer_api(lua_State *L);  /* timer.c: ngx.timer */
void mg_lua_inject_coroutine_api(lua_State *L); /* coroutine.c: ngx.thread, coroutine.* */
void mg_lua_inject_socket_tcp_api(lua_State *L); /* socket_tcp.c: ngx.socket.tcp/connect */
void mg_lua_inject_subrequest_api(lua_State *L); /* subrequest.c: ngx.location.capture* */
void mg_lua_inject_req_socket_api(lua_State *L); /* req_socket.c: ngx.req.socket (after req
                                                    and socket.tcp) */

/* lua_sa_restart of http{} and stream{} applied to the worker's signal handlers (each
 * block's init_worker calls it; the same answer twice). */
void mg_lua_sa_restart(mg_cycle_t *cycle);

/* errlog.c: lua_capture_error_log SIZE; require "ngx.errlog" */
const char *mg_lua_set_capture_error_log(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
void mg_lua_errlog_preload(lua_State *L);
/* process.c: require "ngx.process" */
void mg_lua_process_preload(lua_State *L);
/* ngx_libs.c: require "ngx.base64" and "ngx.resp" */
void mg_lua_ngx_libs_preload(lua_State *L);

/* vm.c: package.preload[name] = open, so `require name` finds moongate's module first */
void mg_lua_preload(lua_State *L, const char *name, lua_CFunction open);
/* ssl_api.c: require "ngx.ssl" (and .clienthello, .session) finds moongate's first */
void mg_lua_ssl_preload(lua_State *L);
/* ocsp.c: require "ngx.ocsp" */
void mg_lua_ocsp_preload(lua_State *L);
/* balancer.c: require "ngx.balancer" */
void mg_lua_balancer_preload(lua_State *L);
/* semaphore.c: require "ngx.semaphore"; a coroutine that goes leaves a semaphore's queue */
void mg_lua_semaphore_preload(lua_State *L);
void mg_lua_sema_cancel(mg_lua_co_t *co);
/* pipe.c: require "ngx.pipe"; a coroutine that goes stops waiting for a process */
void mg_lua_pipe_preload(lua_State *L);
void mg_lua_pipe_cancel(mg_lua_co_t *co);
/* A worker exits: ngx.pipe's processes killed and their events gone while the loop exists. */
void mg_lua_pipe_exit_worker(mg_lua_main_conf_t *lmcf);
/* worker_thread.c: ngx.run_worker_thread; a coroutine that goes drops its thread's results */
void mg_lua_inject_worker_thread_api(lua_State *L);
void mg_lua_worker_thread_cancel(mg_lua_co_t *co);
/* upstream_api.c: require "ngx.upstream" (lua-upstream-nginx-module's API) */
void mg_lua_upstream_preload(lua_State *L);
/* resty_core.c: resty.core and resty.core.* (no-ops over the native API), loaded */
void mg_lua_resty_core_preload(lua_State *L);
/* resty_base.c: the resty.core.base module (package.preload's loader) */
int mg_lua_resty_base_open(lua_State *L);
/* regex.c: push require("ngx.re").opt, bound to this VM's regex state */
void mg_lua_re_push_opt(lua_State *L);

/* ---- socket_tcp_pool.c ---- */
/* The request or timer of ctx ends: its cosockets' waits (tcp and udp) are cancelled (their
 * coroutines are never resumed) and their connections closed. Requests get it from a pool cleanup; a timer's
 * owner calls it before freeing the context's coroutines. */
void mg_lua_socket_tcp_ctx_done(mg_lua_ctx_t *ctx);

#endif
