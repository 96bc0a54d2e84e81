/*
 * The top-level directives (main and events contexts): processes, daemon, pid, error_log,
 * user, env, worker limits, load_module, and the events { } block.
 */
#include <event2/event.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <unistd.h>

#include "accept_mutex.h"
#include "cidr.h"
#include "cycle.h"
#include "pool.h"
#include "regex.h"
#include "str.h"
#include "version.h"

/* "auto" until the machine's CPU count replaces it at init */
#define WORKER_PROCESSES_AUTO (-2)

static void *core_create_conf(mg_cycle_t *cycle)
{
    mg_core_conf_t *ccf = mg_pcalloc(cycle->pool, sizeof(mg_core_conf_t));
    ccf->daemon = MG_CONF_UNSET;
    ccf->master_process = MG_CONF_UNSET;
    ccf->worker_processes = MG_CONF_UNSET;
    ccf->worker_rlimit_nofile = MG_CONF_UNSET;
    ccf->worker_rlimit_core = MG_CONF_UNSET;
    ccf->timer_resolution = MG_CONF_UNSET;
    ccf->worker_shutdown_timeout = MG_CONF_UNSET;
    ccf->upgrade_timeout = MG_CONF_UNSET;
    ccf->worker_connections = MG_CONF_UNSET;
    ccf->multi_accept = MG_CONF_UNSET;
    ccf->accept_mutex = MG_CONF_UNSET;
    ccf->accept_mutex_delay = MG_CONF_UNSET;
    ccf->pcre_jit = MG_CONF_UNSET;
    ccf->debug_points = MG_CONF_UNSET;
    mg_array_init(&ccf->env, cycle->pool, 4, sizeof(mg_str_t));
    mg_array_init(&ccf->cpu_affinity, cycle->pool, 4, sizeof(mg_str_t));
    mg_array_init(&ccf->load_module, cycle->pool, 4, sizeof(mg_str_t));
    mg_array_init(&ccf->debug_connection, cycle->pool, 2, sizeof(mg_cidr_t));
    return ccf;
}

static const char *core_init_conf(mg_cycle_t *cycle, void *conf)
{
    mg_core_conf_t *ccf = conf;
    if (!ccf->events_seen) {
        /* as nginx: the events block is mandatory, and the message has no FILE:LINE */
        return "no \"events\" section in configuration";
    }
    mg_conf_merge(ccf->daemon, MG_CONF_UNSET, 1);
    mg_conf_merge(ccf->master_process, MG_CONF_UNSET, 1);
    mg_conf_merge(ccf->worker_processes, MG_CONF_UNSET, 1);
    mg_conf_merge(ccf->worker_shutdown_timeout, MG_CONF_UNSET, 0);
    mg_conf_merge(ccf->upgrade_timeout, MG_CONF_UNSET, 30000);
    mg_conf_merge(ccf->worker_connections, MG_CONF_UNSET, 512);
    if ((size_t)ccf->worker_connections <= cycle->listening.nelts) {
        /* each listening socket holds a connection slot of every worker, as in nginx */
        char *msg = mg_pnalloc(cycle->pool, 96);
        snprintf(msg, 96, "%ld worker_connections are not enough for %zu listening sockets",
                 (long)ccf->worker_connections, cycle->listening.nelts);
        return msg;
    }
    mg_conf_merge(ccf->multi_accept, MG_CONF_UNSET, 0);
    mg_conf_merge(ccf->accept_mutex, MG_CONF_UNSET, 0);
    mg_conf_merge(ccf->accept_mutex_delay, MG_CONF_UNSET, 500);
    mg_conf_merge(ccf->pcre_jit, MG_CONF_UNSET, 0);
    if (ccf->pcre_jit) {
        mg_regex_jit_cycle(cycle);
    }
    mg_conf_merge(ccf->debug_points, MG_CONF_UNSET, MG_DEBUG_POINTS_NONE);
    mg_conf_merge(ccf->timer_resolution, MG_CONF_UNSET, 0);
    if (ccf->worker_processes == WORKER_PROCESSES_AUTO) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        ccf->worker_processes = n > 0 ? n : 1;
    }
    if (mg_accept_mutex_create(cycle) != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (ccf->user.data == NULL && geteuid() == 0) {
        /* nginx's default for a privileged master: workers run as nobody, in the group
         * Debian calls nogroup (or nobody where that one does not exist) */
        ccf->user = (mg_str_t)mg_string("nobody");
        ccf->group = getgrnam("nogroup") ? (mg_str_t)mg_string("nogroup")
                                         : (mg_str_t)mg_string("nobody");
    }
    if (ccf->pid.data == NULL) {
        mg_str_t def = mg_string(MG_PID_PATH);
        ccf->pid = mg_conf_full_name(cycle, def, 0);
    }
    return MG_CONF_OK;
}

static const char *core_set_worker_processes(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    if (ccf->worker_processes != MG_CONF_UNSET) {
        return "is duplicate";
    }
    if (mg_str_eq(cf->args[1], "auto")) {
        ccf->worker_processes = WORKER_PROCESSES_AUTO;
        return MG_CONF_OK;
    }
    /* 0 is accepted as nginx does: a master that starts no worker (the sockets listen, nothing
     * serves) */
    int64_t n = mg_atoi(cf->args[1].data, cf->args[1].len);
    if (n < 0) {
        return "invalid value";
    }
    ccf->worker_processes = (mg_int_t)n;
    return MG_CONF_OK;
}

static const char *core_set_error_log(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    return mg_log_set_from_conf(cf, &cf->cycle->error_log);
}

static const char *core_set_user(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    if (ccf->user.data) {
        return "is duplicate";
    }
    if (geteuid() != 0) {
        /* nginx's wording: the directive is harmless for an unprivileged master */
        mg_conf_log(cf, MG_LOG_WARN, 0,
                    "the \"user\" directive makes sense only if the master process runs with "
                    "super-user privileges, ignored");
        ccf->user = mg_pstr(cf->pool, "", 0);
        return MG_CONF_OK;
    }
    ccf->user = cf->args[1];
    ccf->group = cf->nargs > 2 ? cf->args[2] : cf->args[1];
    /* resolve now, as nginx does, so -t catches a user or group the system does not have;
     * errno stays 0 for a plain "not found" and then no "(N: ...)" tail is printed */
    errno = 0;
    if (getpwnam(ccf->user.data) == NULL) {
        mg_conf_error(cf, errno, "getpwnam(\"%s\") failed", ccf->user.data);
        return MG_CONF_ERROR;
    }
    errno = 0;
    if (getgrnam(ccf->group.data) == NULL) {
        mg_conf_error(cf, errno, "getgrnam(\"%s\") failed", ccf->group.data);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const char *core_set_cpu_affinity(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    if (ccf->cpu_affinity_set) {
        return "is duplicate";
    }
    ccf->cpu_affinity_set = 1;
    size_t first = 1;
    if (mg_str_eq(cf->args[1], "auto")) {
        if (cf->nargs > 3) {
            return "has too many parameters";
        }
        ccf->cpu_affinity_auto = 1;
        first = 2;
    }
    for (size_t i = first; i < cf->nargs; i++) {
        mg_str_t m = cf->args[i];
        if (m.len > 64) {
            mg_conf_error(cf, 0, "\"worker_cpu_affinity\" supports up to 64 CPUs only");
            return MG_CONF_ERROR;
        }
        for (size_t k = 0; k < m.len; k++) {
            if (m.data[k] != '0' && m.data[k] != '1') {
                mg_conf_error(cf, 0, "invalid character \"%c\" in \"worker_cpu_affinity\"",
                              m.data[k]);
                return MG_CONF_ERROR;
            }
        }
        *(mg_str_t *)mg_array_push(&ccf->cpu_affinity) = m;
    }
    return MG_CONF_OK;
}

static const char *core_ignore(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cf;
    (void)cmd;
    (void)conf;
    return MG_CONF_OK; /* lock_file: moongate needs no accept lock file */
}

/* load_module PATH: moongate is built in one piece, so a module nginx would load is either
 * built in (the line is checked and kept) or missing, which is an error naming it. */
static const char *core_load_module(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    if (ccf->events_seen || cf->cycle->http) {
        return "is specified too late";
    }
    mg_str_t path = cf->args[1];
    const char *base = path.data + path.len;
    while (base > path.data && base[-1] != '/') {
        base--;
    }
    size_t len = (size_t)(path.data + path.len - base);
    if (len > 3 && memcmp(base + len - 3, ".so", 3) == 0) {
        len -= 3;
    }
    mg_str_t name = mg_pstr(cf->pool, base, len);
    mg_str_t *seen = ccf->load_module.elts;
    for (size_t i = 0; i < ccf->load_module.nelts; i++) {
        if (mg_str_eq_str(seen[i], name)) {
            mg_conf_error(cf, 0, "module \"%.*s\" is already loaded", (int)name.len, name.data);
            return MG_CONF_ERROR;
        }
    }
    if (!mg_version_builtin(name.data)) {
        mg_conf_error(cf, 0, "module \"%.*s\" is not built into moongate (load_module \"%.*s\")",
                      (int)name.len, name.data, (int)path.len, path.data);
        return MG_CONF_ERROR;
    }
    *(mg_str_t *)mg_array_push(&ccf->load_module) = name;
    return MG_CONF_OK;
}

static const char *core_set_env(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    *(mg_str_t *)mg_array_push(&ccf->env) = cf->args[1];
    return MG_CONF_OK;
}

/* worker_priority [-+]N: a nice value (the kernel keeps it within -20..19) */
static const char *core_set_priority(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    if (ccf->worker_priority != 0) {
        return "is duplicate"; /* (nginx's test: 0 twice is no duplicate) */
    }
    mg_str_t v = cf->args[1];
    int minus = v.len && v.data[0] == '-';
    size_t skip = v.len && (v.data[0] == '-' || v.data[0] == '+');
    int64_t n = mg_atoi(v.data + skip, v.len - skip);
    if (n < 0 || n > INT32_MAX) {
        return "invalid number";
    }
    ccf->worker_priority = minus ? -(mg_int_t)n : (mg_int_t)n;
    return MG_CONF_OK;
}

/* worker_rlimit_core SIZE: an offset (k, m, g) */
static const char *core_set_rlimit_core(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    if (ccf->worker_rlimit_core != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    int64_t unit = 1;
    size_t len = v.len;
    switch (len ? mg_tolower(v.data[len - 1]) : 0) {
    case 'k':
        unit = 1024;
        len--;
        break;
    case 'm':
        unit = 1024 * 1024;
        len--;
        break;
    case 'g':
        unit = 1024 * 1024 * 1024;
        len--;
        break;
    }
    int64_t n = mg_atoi(v.data, len);
    if (n < 0 || n > INT64_MAX / unit) {
        return "invalid value";
    }
    ccf->worker_rlimit_core = n * unit;
    return MG_CONF_OK;
}

void mg_core_set_environment(mg_cycle_t *cycle)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    mg_str_t *env = ccf->env.elts;
    size_t n = ccf->env.nelts;
    /* what is kept is copied out first: clearenv() may free the strings setenv() made */
    char **keep = mg_calloc((n + 1) * 2 * sizeof(char *));
    size_t k = 0;
    int tz_named = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *name = i < n ? env[i].data : "TZ";
        if (i == n && tz_named) {
            break;
        }
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        tz_named |= nlen == 2 && memcmp(name, "TZ", 2) == 0;
        if (eq) {
            keep[k++] = mg_strdup(name);
            keep[k - 1][nlen] = '\0';
            keep[k++] = mg_strdup(eq + 1);
            continue;
        }
        const char *value = getenv(name);
        if (value) {
            keep[k++] = mg_strdup(name);
            keep[k++] = mg_strdup(value);
        }
    }
    clearenv();
    for (size_t i = 0; i < k; i += 2) {
        if (keep[i][0] != '\0') {
            setenv(keep[i], keep[i + 1], 1);
        }
        free(keep[i]);
        free(keep[i + 1]);
    }
    free(keep);
}

static const char *core_set_events(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    if (ccf->events_seen) {
        return "is duplicate";
    }
    ccf->events_seen = 1;
    unsigned saved = cf->ctx;
    cf->ctx = MG_CTX_EVENTS;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->ctx = saved;
    return rc == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

static const char *core_set_use(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    if (ccf->use.data) {
        return "is duplicate";
    }
    /* the backends this libevent has (nginx on Linux builds epoll only, unless told) */
    for (const char **m = event_get_supported_methods(); m && *m; m++) {
        if (mg_str_eq(cf->args[1], *m)) {
            ccf->use = cf->args[1];
            return MG_CONF_OK;
        }
    }
    mg_conf_error(cf, 0, "invalid event type \"%s\"", cf->args[1].data);
    return MG_CONF_ERROR;
}

static const char *core_set_worker_connections(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    if (ccf->worker_connections != MG_CONF_UNSET) {
        return "is duplicate";
    }
    /* nginx words this one differently from the generic number setter */
    int64_t n = mg_atoi(cf->args[1].data, cf->args[1].len);
    if (n < 0 || n > INT32_MAX) {
        mg_conf_error(cf, 0, "invalid number \"%s\"", cf->args[1].data);
        return MG_CONF_ERROR;
    }
    ccf->worker_connections = (mg_int_t)n;
    return MG_CONF_OK;
}

/* debug_connection ADDRESS | CIDR | unix: | HOSTNAME (each of its addresses) */
static const char *core_debug_connection(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_core_conf_t *ccf = conf;
    mg_str_t v = cf->args[1];
    if (mg_str_eq(v, "unix:")) {
        ccf->debug_connection_unix = 1;
    } else {
        mg_cidr_t cidr;
        mg_int_t rc = mg_cidr_parse(v, &cidr);
        if (rc != MG_ERROR) {
            if (rc == MG_DONE) {
                mg_conf_log(cf, MG_LOG_WARN, 0, "low address bits of %s are meaningless", v.data);
            }
            *(mg_cidr_t *)mg_array_push(&ccf->debug_connection) = cidr;
        } else {
            struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
            if (getaddrinfo(v.data, NULL, &hints, &res) != 0) {
                mg_conf_error(cf, 0, "host not found in debug_connection \"%s\"", v.data);
                return MG_CONF_ERROR;
            }
            for (struct addrinfo *a = res; a; a = a->ai_next) {
                char host[64];
                if (getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof(host), NULL, 0,
                                NI_NUMERICHOST) == 0 &&
                    mg_cidr_parse((mg_str_t){strlen(host), host},
                                  mg_array_push(&ccf->debug_connection)) == MG_ERROR) {
                    ccf->debug_connection.nelts--; /* a scoped IPv6 address */
                }
            }
            freeaddrinfo(res);
        }
    }
    mg_log_debug_used |= MG_LOG_DEBUG_ALL; /* its connections take every debug line */
#if !MG_DEBUG
    mg_conf_log(cf, MG_LOG_WARN, 0,
                "\"debug_connection\" is ignored, you need to rebuild moongate using "
                "--with-debug option to enable it");
#endif
    return MG_CONF_OK;
}

int mg_core_debug_connection(mg_cycle_t *cycle, const struct sockaddr *sa)
{
#if MG_DEBUG
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    if (sa->sa_family == AF_UNIX) {
        return ccf->debug_connection_unix;
    }
    mg_cidr_t *c = ccf->debug_connection.elts;
    for (size_t i = 0; i < ccf->debug_connection.nelts; i++) {
        if (mg_cidr_match(&c[i], sa)) {
            return 1;
        }
    }
#else
    (void)cycle;
    (void)sa;
#endif
    return 0;
}

static const mg_conf_enum_t debug_points_values[] = {
    {"stop", MG_DEBUG_POINTS_STOP},
    {"abort", MG_DEBUG_POINTS_ABORT},
    {NULL, 0},
};

#define CORE(field) MG_CYCLE_CONF, offsetof(mg_core_conf_t, field)

static const mg_command_t core_commands[] = {
    {"daemon", MG_CTX_MAIN, MG_FLAG, mg_conf_set_flag, CORE(daemon), NULL},
    {"master_process", MG_CTX_MAIN, MG_FLAG, mg_conf_set_flag, CORE(master_process), NULL},
    {"worker_processes", MG_CTX_MAIN, MG_ARGS(1, 1), core_set_worker_processes,
     CORE(worker_processes), NULL},
    {"pid", MG_CTX_MAIN, MG_ARGS(1, 1), mg_conf_set_path, CORE(pid), NULL},
    {"error_log", MG_CTX_MAIN, MG_ARGS(1, MG_MANY), core_set_error_log, CORE(daemon), NULL},
    {"user", MG_CTX_MAIN, MG_ARGS(1, 2), core_set_user, CORE(user), NULL},
    {"env", MG_CTX_MAIN, MG_ARGS(1, 1), core_set_env, CORE(env), NULL},
    {"worker_rlimit_nofile", MG_CTX_MAIN, MG_ARGS(1, 1), mg_conf_set_num,
     CORE(worker_rlimit_nofile), NULL},
    {"worker_rlimit_core", MG_CTX_MAIN, MG_ARGS(1, 1), core_set_rlimit_core,
     CORE(worker_rlimit_core), NULL},
    {"worker_priority", MG_CTX_MAIN, MG_ARGS(1, 1), core_set_priority, CORE(worker_priority), NULL},
    {"timer_resolution", MG_CTX_MAIN, MG_ARGS(1, 1), mg_conf_set_msec, CORE(timer_resolution),
     NULL},
    {"worker_shutdown_timeout", MG_CTX_MAIN, MG_ARGS(1, 1), mg_conf_set_msec,
     CORE(worker_shutdown_timeout), NULL},
    {"upgrade_timeout", MG_CTX_MAIN, MG_ARGS(1, 1), mg_conf_set_msec, CORE(upgrade_timeout), NULL},
    {"worker_cpu_affinity", MG_CTX_MAIN, MG_ARGS(1, MG_MANY), core_set_cpu_affinity,
     CORE(cpu_affinity), NULL},
    {"working_directory", MG_CTX_MAIN, MG_ARGS(1, 1), mg_conf_set_path, CORE(working_directory),
     NULL},
    {"lock_file", MG_CTX_MAIN, MG_ARGS(1, 1), core_ignore, CORE(daemon), NULL},
    {"pcre_jit", MG_CTX_MAIN, MG_FLAG, mg_conf_set_flag, CORE(pcre_jit), NULL},
    {"debug_points", MG_CTX_MAIN, MG_ARGS(1, 1), mg_conf_set_enum, CORE(debug_points),
     debug_points_values},
    {"load_module", MG_CTX_MAIN, MG_ARGS(1, 1), core_load_module, CORE(load_module), NULL},
    {"events", MG_CTX_MAIN, MG_BLOCK | MG_ARGS(0, 0), core_set_events, CORE(events_seen), NULL},
    {"worker_connections", MG_CTX_EVENTS, MG_ARGS(1, 1), core_set_worker_connections,
     CORE(worker_connections), NULL},
    {"multi_accept", MG_CTX_EVENTS, MG_FLAG, mg_conf_set_flag, CORE(multi_accept), NULL},
    {"accept_mutex", MG_CTX_EVENTS, MG_FLAG, mg_conf_set_flag, CORE(accept_mutex), NULL},
    {"accept_mutex_delay", MG_CTX_EVENTS, MG_ARGS(1, 1), mg_conf_set_msec, CORE(accept_mutex_delay),
     NULL},
    {"use", MG_CTX_EVENTS, MG_ARGS(1, 1), core_set_use, CORE(use), NULL},
    {"debug_connection", MG_CTX_EVENTS, MG_ARGS(1, 1), core_debug_connection,
     CORE(debug_connection), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t core_defaults[] = {
    {"worker_processes", "1"},
    {"pid", "logs/moongate.pid"},
    {"error_log", "logs/error.log error"},
    {"user", "nobody nogroup"},
    {"env", "TZ"},
    {"worker_priority", "0"},
    {"lock_file", "none (moongate needs no lock file)"},
    {"worker_connections", "512"},
    {"worker_rlimit_core", MG_NO_DEFAULT},
    {"worker_cpu_affinity", MG_NO_DEFAULT},
    {"working_directory", MG_NO_DEFAULT},
    {"load_module", MG_NO_DEFAULT},
    {"events", MG_NO_DEFAULT},
    {"use", MG_NO_DEFAULT},
    {"debug_connection", MG_NO_DEFAULT},
    {"timer_resolution", MG_NO_DEFAULT},
    {"worker_shutdown_timeout", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_core_module = {
    .name = "core",
    .commands = core_commands,
    .defaults = core_defaults,
    .create_cycle_conf = core_create_conf,
    .init_cycle_conf = core_init_conf,
};
