/*
 * The worker process: per-process setup after fork (title, limits, CPU affinity, privileges,
 * a new event base: libevent bases do not survive fork), the channel to the master, and the
 * serving loop of server.c until the worker drains or stops.
 */
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "connection.h"
#include "cycle.h"
#include "lazy_timer.h"
#include "listen.h"
#include "mgtime.h"
#include "module.h"
#include "proctitle.h"
#include "resolver.h"
#include "server.h"
#include "worker.h"

typedef struct {
    mg_server_t *srv;
    int channel;
    struct event *channel_ev;
    struct event *signals[4];
} worker_t;

static void tell_master(worker_t *w, char msg)
{
    if (w->channel >= 0 && write(w->channel, &msg, 1) != 1) {
        /* the master is gone; its end of the channel reports that on its own */
    }
}

static void stop_accepting(worker_t *w, int drain)
{
    mg_server_t *srv = w->srv;
    if (!srv->quitting) {
        mg_log_error(MG_LOG_NOTICE, srv->cycle->log, 0, "gracefully shutting down");
        mg_proctitle_set(srv->agent ? "privileged agent process is shutting down"
                                    : "worker process is shutting down");
    }
    if (drain) {
        mg_server_drain(srv);
    } else {
        mg_server_quit(srv);
    }
    /* the master waits for this before it declares a reload done: from then on no new
     * connection can reach this (old) generation */
    tell_master(w, MG_MSG_STOPPED);
}

static void on_channel(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    worker_t *w = arg;
    char cmds[64];
    mg_time_update();
    ssize_t n = read(fd, cmds, sizeof(cmds));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        /* the master died: nobody would respawn or stop us; finish what we have and go */
        mg_log_error(MG_LOG_ALERT, w->srv->cycle->log, 0, "master process is gone, exiting");
        event_del(w->channel_ev);
        close(w->channel);
        w->channel = -1;
        stop_accepting(w, 0);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        switch (cmds[i]) {
        case MG_CMD_DRAIN:
            stop_accepting(w, 1);
            break;
        case MG_CMD_QUIT:
            stop_accepting(w, 0);
            break;
        case MG_CMD_SHED:
            stop_accepting(w, 1);
            mg_server_shed(w->srv);
            break;
        case MG_CMD_ACCEPT:
            if (!w->srv->accepting && !w->srv->quitting && !w->srv->agent) {
                mg_server_accept_on(w->srv);
                tell_master(w, MG_MSG_ACCEPTING);
            }
            break;
        case MG_CMD_REOPEN:
            mg_log_error(MG_LOG_NOTICE, w->srv->cycle->log, 0, "reopening logs");
            mg_cycle_reopen_files(w->srv->cycle);
            break;
        }
    }
}

/* A worker that ends with a client connection still open has leaked it: nginx's alert, and
 * debug_points stops or aborts the process there for a debugger or a core file. */
static void check_leaks(mg_server_t *srv)
{
    int leaked = 0;
    for (mg_connection_t *c = srv->connections; c; c = c->next) {
        if (c->fd >= 0) {
            mg_log_error(MG_LOG_ALERT, srv->cycle->log, 0,
                         "*%lu open socket #%d left in connection", (unsigned long)c->number,
                         c->fd);
            leaked = 1;
        }
    }
    if (!leaked) {
        return;
    }
    mg_log_error(MG_LOG_ALERT, srv->cycle->log, 0, "aborting");
    switch (mg_cycle_core_conf(srv->cycle)->debug_points) {
    case MG_DEBUG_POINTS_STOP:
        raise(SIGSTOP);
        break;
    case MG_DEBUG_POINTS_ABORT:
        abort();
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    worker_t *w = arg;
    mg_time_update();
    switch (sig) {
    case SIGTERM:
    case SIGINT:
        mg_server_terminate(w->srv);
        break;
    case SIGQUIT:
        stop_accepting(w, 0);
        break;
    case SIGUSR1:
        mg_log_error(MG_LOG_NOTICE, w->srv->cycle->log, 0, "reopening logs");
        mg_cycle_reopen_files(w->srv->cycle);
        break;
    }
}

static void set_affinity(mg_cycle_t *cycle, mg_core_conf_t *ccf, mg_uint_t slot)
{
    if (!ccf->cpu_affinity_set) {
        return;
    }
    mg_str_t *masks = ccf->cpu_affinity.elts;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (ccf->cpu_affinity_auto) {
        /* auto: the slot-th CPU among those allowed (all, or the mask's), wrapping around */
        cpu_set_t allowed;
        CPU_ZERO(&allowed);
        if (ccf->cpu_affinity.nelts) {
            for (size_t k = 0; k < masks[0].len; k++) {
                if (masks[0].data[masks[0].len - 1 - k] == '1') {
                    CPU_SET(k, &allowed);
                }
            }
        } else {
            long n = sysconf(_SC_NPROCESSORS_ONLN);
            for (long k = 0; k < n && k < CPU_SETSIZE; k++) {
                CPU_SET(k, &allowed);
            }
        }
        int count = CPU_COUNT(&allowed);
        if (count == 0) {
            return;
        }
        int want = (int)(slot % (mg_uint_t)count);
        for (int k = 0; k < CPU_SETSIZE; k++) {
            if (CPU_ISSET(k, &allowed) && want-- == 0) {
                CPU_SET(k, &set);
                break;
            }
        }
    } else {
        /* as nginx: more workers than masks reuse the last one */
        mg_str_t m = masks[slot < ccf->cpu_affinity.nelts ? slot : ccf->cpu_affinity.nelts - 1];
        for (size_t k = 0; k < m.len; k++) {
            if (m.data[m.len - 1 - k] == '1') {
                CPU_SET(k, &set);
            }
        }
    }
    if (CPU_COUNT(&set) && sched_setaffinity(0, sizeof(set), &set) != 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "sched_setaffinity() failed");
    }
}

void mg_worker_resolve_user(mg_cycle_t *cycle)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    if (ccf->ids_resolved || geteuid() != 0 || ccf->user.len == 0) {
        return;
    }
    struct passwd *pw = getpwnam(ccf->user.data);
    struct group *gr = pw ? getgrnam(ccf->group.data) : NULL;
    if (gr == NULL) {
        return;
    }
    ccf->uid = pw->pw_uid;
    ccf->gid = gr->gr_gid;
    int n = 32;
    gid_t *groups = mg_palloc(cycle->pool, (size_t)n * sizeof(gid_t));
    if (getgrouplist(ccf->user.data, ccf->gid, groups, &n) < 0) {
        groups = mg_palloc(cycle->pool, (size_t)n * sizeof(gid_t));
        if (getgrouplist(ccf->user.data, ccf->gid, groups, &n) < 0) {
            return;
        }
    }
    ccf->groups = groups;
    ccf->ngroups = n;
    ccf->ids_resolved = 1;
}

static int drop_privileges(mg_cycle_t *cycle, mg_core_conf_t *ccf)
{
    if (geteuid() != 0 || ccf->user.len == 0) {
        return 0;
    }
    if (ccf->ids_resolved) {
        if (setgid(ccf->gid) != 0) {
            mg_log_error(MG_LOG_EMERG, cycle->log, errno, "setgid(%d) failed", (int)ccf->gid);
            return -1;
        }
        if (setgroups((size_t)ccf->ngroups, ccf->groups) != 0) {
            mg_log_error(MG_LOG_EMERG, cycle->log, errno, "initgroups(%s, %d) failed",
                         ccf->user.data, (int)ccf->gid);
            return -1;
        }
        if (setuid(ccf->uid) != 0) {
            mg_log_error(MG_LOG_EMERG, cycle->log, errno, "setuid(%d) failed", (int)ccf->uid);
            return -1;
        }
        return 0;
    }
    errno = 0;
    struct passwd *pw = getpwnam(ccf->user.data);
    if (pw == NULL) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "getpwnam(\"%s\") failed", ccf->user.data);
        return -1;
    }
    uid_t uid = pw->pw_uid;
    errno = 0;
    struct group *gr = getgrnam(ccf->group.data);
    if (gr == NULL) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "getgrnam(\"%s\") failed", ccf->group.data);
        return -1;
    }
    if (setgid(gr->gr_gid) != 0) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "setgid(%d) failed", (int)gr->gr_gid);
        return -1;
    }
    if (initgroups(ccf->user.data, gr->gr_gid) != 0) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "initgroups(%s, %d) failed", ccf->user.data,
                     (int)gr->gr_gid);
        return -1;
    }
    if (setuid(uid) != 0) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "setuid(%d) failed", (int)uid);
        return -1;
    }
    return 0;
}

void mg_worker_run_helper(mg_cycle_t *cycle, int channel, const mg_cycle_helper_t *h)
{
    mg_log_set_pid();
    mg_time_update();
    mg_proctitle_set("%s", h->title);
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    mg_core_set_environment(cycle);
    if (drop_privileges(cycle, ccf) != 0) {
        exit(2);
    }
    h->run(cycle, channel, h->data);
    exit(0);
}

void mg_worker_run(mg_cycle_t *cycle, int channel, mg_uint_t slot, int accept_now)
{
    mg_log_set_pid();
    mg_time_update();
    int agent = slot == MG_AGENT_SLOT;
    mg_proctitle_set(agent ? "privileged agent process" : "worker process");
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    if (agent) {
        /* it serves no client: the listening sockets go, so a port a reload removes closes */
        mg_listening_t **ls = cycle->listening.elts;
        for (size_t i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i]->fd >= 0) {
                close(ls[i]->fd);
                ls[i]->fd = -1;
            }
        }
        accept_now = 0;
    }

    mg_core_set_environment(cycle);
    /* everything that needs root comes before the privileges go */
    if (ccf->worker_priority != 0 && setpriority(PRIO_PROCESS, 0, (int)ccf->worker_priority) != 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "setpriority(%ld) failed",
                     (long)ccf->worker_priority);
    }
    if (ccf->worker_rlimit_core != MG_CONF_UNSET) {
        struct rlimit rl = {(rlim_t)ccf->worker_rlimit_core, (rlim_t)ccf->worker_rlimit_core};
        if (setrlimit(RLIMIT_CORE, &rl) != 0) {
            mg_log_error(MG_LOG_ALERT, cycle->log, errno, "setrlimit(RLIMIT_CORE, %lld) failed",
                         (long long)ccf->worker_rlimit_core);
        }
    }
    if (ccf->worker_rlimit_nofile != MG_CONF_UNSET) {
        struct rlimit rl = {(rlim_t)ccf->worker_rlimit_nofile, (rlim_t)ccf->worker_rlimit_nofile};
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            mg_log_error(MG_LOG_ALERT, cycle->log, errno, "setrlimit(RLIMIT_NOFILE, %ld) failed",
                         (long)ccf->worker_rlimit_nofile);
        }
    }
    if (!agent) {
        set_affinity(cycle, ccf, slot);
    }
    /* the agent keeps the master's user: that is what it is for */
    if (!agent && drop_privileges(cycle, ccf) != 0) {
        exit(2);
    }
    if (ccf->working_directory.len && chdir(ccf->working_directory.data) != 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "chdir(\"%s\") failed",
                     ccf->working_directory.data);
    }

    worker_t w = {.channel = channel};
    mg_server_t *srv = mg_calloc(sizeof(mg_server_t));
    srv->worker = 1;
    srv->agent = (unsigned)agent;
    srv->worker_id = agent ? 0 : slot;
    srv->cycle = cycle;
    srv->log = cycle->log;
    cycle->server = srv;
    cycle->refs = 1; /* the server's own reference, as in a single process */
    w.srv = srv;
    srv->base = mg_server_event_base(cycle);
    if (srv->base == NULL) {
        exit(2);
    }

    /* the master's handlers and mask came with fork: put ours in place, then unblock, so a
     * signal sent meanwhile is delivered to libevent, not to a default action */
    signal(SIGHUP, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    signal(SIGWINCH, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    static const int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1};
    for (size_t i = 0; i < mg_nelems(sigs); i++) {
        w.signals[i] = evsignal_new(srv->base, sigs[i], on_signal, &w);
        event_add(w.signals[i], NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    evutil_make_socket_nonblocking(channel);
    w.channel_ev = event_new(srv->base, channel, EV_READ | EV_PERSIST, on_channel, &w);
    event_add(w.channel_ev, NULL);

    mg_modules_init_worker(cycle);
    tell_master(&w, MG_MSG_READY);
    if (accept_now) {
        mg_server_accept_on(srv);
        tell_master(&w, MG_MSG_ACCEPTING);
    }

    mg_server_loop(srv);
    check_leaks(srv);
    mg_modules_exit_worker(cycle);
    mg_log_error(MG_LOG_NOTICE, cycle->log, 0, "exiting");
    mg_log_error(MG_LOG_NOTICE, cycle->log, 0, "exit");
    /* the events go before the base; the cycle flushes buffered access logs */
    for (size_t i = 0; i < mg_nelems(sigs); i++) {
        event_free(w.signals[i]);
    }
    event_free(w.channel_ev);
    if (srv->shutdown_timer) {
        event_free(srv->shutdown_timer);
    }
    if (srv->accept_mutex_ev) {
        event_free(srv->accept_mutex_ev);
    }
    mg_listening_t **ls = cycle->listening.elts;
    for (size_t i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i]->accept_ev) {
            event_free(ls[i]->accept_ev); /* not the socket: a unix one's path is the master's */
            ls[i]->accept_ev = NULL;
        }
    }
    event_base_loop(srv->base, EVLOOP_NONBLOCK); /* deferred frees of closed connections */
    mg_resolver_server_free(srv);
    mg_lazy_timers_close(srv->timers); /* its event before the base; timers freed with the
                                          cycle's pools (upstream keepalive) still use its heap */
    mg_server_h2_flush_free(srv);      /* its event before the base, as the timers' */
    event_base_free(srv->base);
    mg_cycle_destroy(cycle);
    mg_server_buffers_free(srv);
    free(srv);
    exit(0);
}
