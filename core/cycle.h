/*
 * A cycle is one configuration generation: its pool (which owns every piece of configuration),
 * its logs and open files, its listening sockets and each module's top-level conf. HUP builds
 * a new cycle beside the running one and swaps only when it is complete; the old one is freed
 * whole once nothing uses it.
 */
#ifndef MG_CYCLE_H
#define MG_CYCLE_H

#include <sys/socket.h>

#include "array.h"
#include "conf.h"
#include "log.h"
#include "mg.h"
#include "shm.h"

/* debug_points */
#define MG_DEBUG_POINTS_NONE 0
#define MG_DEBUG_POINTS_STOP 1
#define MG_DEBUG_POINTS_ABORT 2

/* The top-level ("core") configuration: main and events contexts. */
typedef struct {
    int daemon;
    int master_process;
    mg_int_t worker_processes; /* -1 unset; "auto" resolved at init */
    mg_str_t pid;
    mg_str_t user;
    mg_str_t group;
    /* user/group resolved by the master before it forks (mg_worker_resolve_user), so a worker
     * drops privileges without NSS lookups of its own (they load modules: milliseconds) */
    int ids_resolved;
    uid_t uid;
    gid_t gid;
    int ngroups;
    gid_t *groups; /* the user's supplementary groups, the generation's pool */
    mg_int_t worker_rlimit_nofile;
    int64_t worker_rlimit_core; /* RLIMIT_CORE of workers; -1 unset */
    mg_int_t worker_priority;   /* nice value of workers; 0: left alone */
    mg_msec_t timer_resolution; /* the cached clock's update interval; 0: every event */
    mg_msec_t worker_shutdown_timeout;
    mg_msec_t upgrade_timeout; /* how long a new binary (USR2) may take to serve */
    mg_array_t env; /* mg_str_t: "NAME" (kept) or "NAME=value" (set); TZ is kept unless set */
    mg_int_t worker_connections;
    int multi_accept;
    int accept_mutex;
    mg_msec_t accept_mutex_delay;
    int pcre_jit;
    mg_int_t debug_points; /* MG_DEBUG_POINTS_*: what a worker that finds a leak at exit does */
    int events_seen;
    mg_str_t use; /* events { use NAME; }: the libevent backend (mg_server_event_base) */
    mg_array_t debug_connection; /* mg_cidr_t: clients whose connections log at debug */
    int debug_connection_unix;   /* "debug_connection unix:" */
    mg_str_t working_directory;
    mg_array_t cpu_affinity; /* mg_str_t bit masks, rightmost digit = CPU 0 */
    int cpu_affinity_auto;   /* "auto [mask]": one CPU per worker, from the mask if any */
    int cpu_affinity_set;
    mg_array_t load_module; /* mg_str_t: the modules load_module named (all built in) */
} mg_core_conf_t;

/* A process the master runs beside a generation's workers, with their user and environment
 * (the cache manager and loader, core/http/cache.c): `run` reads its channel (EOF, or the
 * master's drain or quit byte: it returns) and returns when it is done; `once`: not started
 * again after it returned (the master respawns the others if they die). */
typedef struct {
    const char *title;
    void (*run)(mg_cycle_t *cycle, int channel, void *data);
    void *data;
    unsigned once : 1;
} mg_cycle_helper_t;

struct mg_cycle_s {
    mg_pool_t *pool;
    mg_log_t *log;         /* the generation's error log chain (main-level error_log) */
    mg_log_t *error_log;   /* main-level error_log directives, in order */
    mg_log_scope_t log_scope; /* what every destination of the generation shares (log.h) */
    void **conf;           /* per-module top-level conf, indexed by module index */
    mg_conf_ctx_t *http;   /* the http{} block's conf arrays, NULL without http */
    mg_conf_ctx_t *stream; /* the stream{} block's (loc_conf == srv_conf), NULL without */
    mg_str_t prefix;       /* ends in '/' */
    mg_str_t conf_prefix;  /* directory of the main config file, ends in '/' */
    mg_str_t conf_file;
    mg_str_t conf_param;   /* -g directives */
    void *embed;           /* the embedding program's registry (core/embed.h), or NULL */
    mg_str_t hostname;
    mg_array_t listening;  /* mg_listening_t */
    mg_array_t open_files; /* mg_open_file_t * */
    mg_array_t conf_dump;  /* mg_conf_dump_t, for -T */
    mg_array_t shm_zones;  /* mg_shm_zone_t *, the shared memory this generation uses (shm.c) */
    mg_array_t metrics_sources; /* mg_metrics_source_t: gauges computed when shown (metrics.h) */
    /* the server's metrics zone (metrics.h), the same for all its generations; NULL under -t */
    struct mg_metrics_shm_s *metrics;
    struct mg_stat_shard_s *stat; /* its stub_status counters (stat.h) */
    mg_shmtx_t *accept_mutex;     /* accept_mutex on with several workers (accept_mutex.c) */
    mg_array_t regexes;    /* mg_regex_t *, the configuration's: JIT-compiled after the parse */
    mg_array_t helpers;    /* mg_cycle_helper_t (elts NULL: none), run by a master */
    mg_cycle_t *old;       /* while being built: the running generation, whose shared memory
                              zones it may take over; NULL afterwards */
    mg_server_t *server;
    int cur_module;        /* module whose directive is being handled */
    unsigned test_config : 1;
    unsigned signalling : 1;       /* built by -s to find the master, never to serve */
    unsigned privileged_agent : 1; /* the master runs a privileged agent process beside this
                                      generation's workers (ngx.process, lua/process.c) */
    mg_uint_t refs;        /* connections (in a worker) or workers (in the master) still on
                              this generation */
    mg_uint_t generation;  /* 1 for the first configuration a master loaded, +1 per reload */
};

extern mg_module_t mg_core_module;

/* Build a generation from its config file. On error everything is released, the reason has
 * been logged with FILE:LINE, and NULL is returned. `old` (may be NULL) is the running one,
 * whose listening sockets and log files the new one may inherit. */
typedef struct {
    const char *prefix;
    const char *conf_file;
    const char *conf_param;
    const char *error_log; /* -e */
    const char *conf_string; /* the configuration's text, named conf_file (embedding) */
    void *embed;             /* the embedding program's registry (core/embed.c), or NULL */
    mg_log_t *embed_log;     /* its log callback, chained to each generation's error log */
    int test_config;
    int signalling; /* -s: the configuration is checked and its pid file read, nothing serves */
} mg_cycle_params_t;

mg_cycle_t *mg_cycle_create(const mg_cycle_params_t *params, mg_cycle_t *old, mg_log_t *log);
void mg_cycle_destroy(mg_cycle_t *cycle);
/* The log used before a configuration is read: the default (or -e) error log file, with
 * warnings and worse also on stderr. */
mg_log_t *mg_cycle_early_log(const mg_cycle_params_t *params);
mg_core_conf_t *mg_cycle_core_conf(mg_cycle_t *cycle);
/* The environment of a process that serves (a worker, or the single process), as nginx's env
 * directive makes it: emptied but for TZ and the names listed, then the NAME=value ones set.
 * The master keeps its own (core_module.c). */
void mg_core_set_environment(mg_cycle_t *cycle);
/* Whether debug_connection names the client at sa (always 0 without --with-debug). */
int mg_core_debug_connection(mg_cycle_t *cycle, const struct sockaddr *sa);
/* Open (append) a log file by absolute name, shared within the cycle. */
mg_open_file_t *mg_cycle_open_file(mg_cycle_t *cycle, mg_str_t name);
/* Parse "error_log FILE [LEVEL]" arguments into log (used at every level that allows it). */
const char *mg_log_set_from_conf(mg_conf_t *cf, mg_log_t **head);
/* Reopen every log file of the cycle (USR1). */
void mg_cycle_reopen_files(mg_cycle_t *cycle);

#endif
