/*
 * The master's loop: signals set flags (signals.c), the loop waits in ppoll() on the workers'
 * channels with those signals unblocked only there, and acts: spawn and respawn workers,
 * reload in steps (new generation -> its workers ready -> old workers stopped accepting ->
 * new workers accepting -> "reconfiguring done"), USR2/WINCH/rollback, graceful and fast
 * shutdown.
 */
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cycle.h"
#include "listen.h"
#include "master.h"
#include "metrics.h"
#include "mgtime.h"
#include "proc.h"
#include "proctitle.h"
#include "server.h"
#include "signals.h"
#include "upgrade.h"
#include "worker.h"

/* How long a reload waits for the new workers to be ready, for the old ones to stop, then
 * for the new ones to accept. */
#define READY_TIMEOUT 5000
#define STOP_TIMEOUT 5000
#define ACCEPT_TIMEOUT 5000
/* Draining generations that may keep their idle keepalive connections; older ones keep them
 * MG_SHED_GRACE at most (then only in-flight requests keep them alive). */
#define MAX_DRAINING 4
/* After TERM, workers still alive this long are killed. */
#define KILL_DELAY 2000

typedef struct {
    pid_t pid;
    int channel;       /* the master's end; -1 once the worker closed its end */
    mg_cycle_t *cycle; /* the generation it serves */
    mg_uint_t slot;
    unsigned ready : 1;     /* reported it is set up */
    unsigned told : 1;      /* told to accept (or started accepting) */
    unsigned accepting : 1; /* reported it accepts */
    unsigned stopping : 1; /* told to drain/quit: not respawned when it exits */
    unsigned stopped : 1;  /* reported it accepts no more */
    unsigned closing : 1;  /* told to close its idle connections too */
    unsigned shed : 1;     /* told to keep its idle connections MG_SHED_GRACE at most */
    unsigned helper : 1;   /* a helper process (cycle->helpers[slot]): no part in reloads */
    unsigned agent : 1;    /* the generation's privileged agent: never accepts, and the
                              reload steps do not wait for it */
} proc_t;

enum { IDLE, STARTING, SWITCHING, ACCEPTING };

typedef struct {
    mg_server_t *srv; /* srv->cycle: the generation new connections go to */
    sigset_t wait_mask;
    proc_t *procs;
    size_t nprocs, nalloc;
    mg_cycle_t **gens; /* every generation still referenced, oldest first */
    size_t ngens, galloc;
    mg_cycle_t *pending; /* a reload's generation until its workers accept */
    int phase;
    mg_msec_t deadline;
    int reload_again; /* HUPs that came during a reload coalesce into one more */
    mg_uint_t reload_seq;
    mg_signal_waiters_t hup_next; /* `-s reload`s whose HUP the next reload answers */
    mg_signal_waiters_t hup_now;  /* ... the running one (or none) answers */
    mg_signal_waiters_t usr2;     /* `-s upgrade`s waiting for the upgrade's outcome */
    mg_uint_t generations;
    pid_t new_binary;
    int upgrade_fd;             /* the new binary's "serving" pipe while we wait for it, else -1 */
    int upgrade_served;         /* the new binary said its workers accept */
    int upgrade_hello;          /* ... that it speaks the protocol (else: an older binary) */
    mg_msec_t upgrade_deadline; /* upgrade_timeout: then it is stopped (TERM, then KILL) */
    int upgrade_killed;
    mg_uint_t upgrade_seq; /* USR2s acted upon, for the .upgrade state file */
    pid_t parent; /* the old binary's master while it lives (we were upgraded to) */
    int daemonized, noaccepting, quitting, terminating;
    mg_msec_t kill_at;
    char error[1024];
    int metrics_slot; /* its gauges' slot in the metrics zone (mg_metrics_master_set) */
} master_t;

static void upgrade_wait_done(master_t *m);

static mg_log_t *mlog(master_t *m)
{
    return m->srv->cycle->log;
}

static void log_signal(master_t *m, int sig, pid_t from, const char *action)
{
    if (from > 0) {
        mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "signal %d (%s) received from %d%s%s", sig,
                     mg_signal_name(sig), (int)from, *action ? ", " : "", action);
    } else {
        mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "signal %d (%s) received%s%s", sig,
                     mg_signal_name(sig), *action ? ", " : "", action);
    }
}

static void add_gen(master_t *m, mg_cycle_t *cycle)
{
    if (m->ngens == m->galloc) {
        m->galloc = m->galloc ? m->galloc * 2 : 8;
        m->gens = mg_realloc(m->gens, m->galloc * sizeof(mg_cycle_t *));
    }
    m->gens[m->ngens++] = cycle;
    cycle->refs = 0;
}

/* A generation goes once no worker runs on it and it is neither serving nor starting. */
static void free_unused_gens(master_t *m)
{
    size_t k = 0;
    for (size_t i = 0; i < m->ngens; i++) {
        mg_cycle_t *c = m->gens[i];
        if (c->refs == 0 && c != m->srv->cycle && c != m->pending) {
            mg_listen_close_all(c, 0); /* its own sockets were closed at the switch */
            mg_cycle_destroy(c);
            continue;
        }
        m->gens[k++] = c;
    }
    m->ngens = k;
}

static void spawn_proc(master_t *m, mg_cycle_t *cycle, mg_uint_t slot, int helper);

static void spawn(master_t *m, mg_cycle_t *cycle, mg_uint_t slot)
{
    spawn_proc(m, cycle, slot, 0);
}

static void spawn_proc(master_t *m, mg_cycle_t *cycle, mg_uint_t slot, int helper)
{
    mg_cycle_helper_t *h = helper ? (mg_cycle_helper_t *)cycle->helpers.elts + slot : NULL;
    int agent = !helper && slot == MG_AGENT_SLOT;
    const char *title = h ? h->title : agent ? "privileged agent process" : "worker process";
    /* a reload's workers wait until the old generation stopped accepting, so that the
     * generation fresh connections see never goes back (start_accepting tells them); the
     * serving generation's accept at once, but not while it waits for the old one to stop */
    int accept_now = cycle == m->srv->cycle && m->phase != SWITCHING && !agent && !helper;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        mg_log_error(MG_LOG_ALERT, mlog(m), errno, "socketpair() failed while spawning \"%s\"",
                     title);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        mg_log_error(MG_LOG_ALERT, mlog(m), errno, "fork() failed while spawning \"%s\"", title);
        close(sv[0]);
        close(sv[1]);
        return;
    }
    if (pid == 0) {
        /* the worker keeps only its own channel end and its own generation's sockets: a
         * listener another generation still holds must close when that one is done */
        close(sv[0]);
        for (size_t i = 0; i < m->nprocs; i++) {
            if (m->procs[i].channel >= 0) {
                close(m->procs[i].channel);
            }
        }
        if (m->upgrade_fd >= 0) {
            close(m->upgrade_fd);
        }
        if (mg_upgrade_notify_fd() >= 0) {
            close(mg_upgrade_notify_fd());
        }
        for (size_t g = 0; g < m->ngens; g++) {
            if (m->gens[g] == cycle) {
                continue;
            }
            mg_listening_t **ls = m->gens[g]->listening.elts;
            for (size_t i = 0; i < m->gens[g]->listening.nelts; i++) {
                int mine = 0;
                mg_listening_t **own = cycle->listening.elts;
                for (size_t j = 0; j < cycle->listening.nelts; j++) {
                    mine |= own[j]->fd == ls[i]->fd;
                }
                if (ls[i]->fd >= 0 && !mine) {
                    close(ls[i]->fd);
                }
            }
            /* nor the log files of another generation (a reload's workers are forked while
             * the old one lives): a file rotated away or dropped from the configuration
             * would stay open, and its disk space taken, for the worker's life */
            mg_open_file_t **files = m->gens[g]->open_files.elts;
            for (size_t i = 0; i < m->gens[g]->open_files.nelts; i++) {
                int mine = 0;
                mg_open_file_t **own = cycle->open_files.elts;
                for (size_t j = 0; j < cycle->open_files.nelts; j++) {
                    mine |= own[j]->fd == files[i]->fd;
                }
                if (files[i]->fd > STDERR_FILENO && !mine) {
                    close(files[i]->fd);
                    files[i]->fd = -1;
                }
            }
        }
        if (h) {
            mg_worker_run_helper(cycle, sv[1], h);
        }
        mg_worker_run(cycle, sv[1], slot, accept_now);
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    if (m->nprocs == m->nalloc) {
        m->nalloc = m->nalloc ? m->nalloc * 2 : 16;
        m->procs = mg_realloc(m->procs, m->nalloc * sizeof(proc_t));
    }
    m->procs[m->nprocs++] = (proc_t){.pid = pid,
                                     .channel = sv[0],
                                     .cycle = cycle,
                                     .slot = slot,
                                     .told = accept_now || helper || agent,
                                     .helper = (unsigned)helper,
                                     .agent = (unsigned)agent};
    cycle->refs++;
    mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "start %s %d", title, (int)pid);
}

static void start_workers(master_t *m, mg_cycle_t *cycle)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    mg_worker_resolve_user(cycle);
    mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "start worker processes");
    for (mg_int_t i = 0; i < ccf->worker_processes; i++) {
        spawn(m, cycle, (mg_uint_t)i);
    }
    if (cycle->privileged_agent) {
        spawn(m, cycle, MG_AGENT_SLOT);
    }
    for (size_t i = 0; i < cycle->helpers.nelts; i++) {
        spawn_proc(m, cycle, (mg_uint_t)i, 1);
    }
}

static void send_cmd(proc_t *p, char cmd)
{
    if (p->channel >= 0 && write(p->channel, &cmd, 1) != 1) {
        /* a full or broken channel: the worker is gone or going; SIGCHLD tells */
    }
}

/* Tell workers (of `cycle`, or all when NULL; never those of `except`) to drain or quit. */
static void stop_workers(master_t *m, mg_cycle_t *cycle, mg_cycle_t *except, char cmd)
{
    for (size_t i = 0; i < m->nprocs; i++) {
        proc_t *p = &m->procs[i];
        if ((cycle && p->cycle != cycle) || (except && p->cycle == except)) {
            continue;
        }
        /* a draining worker may still be told to shed or close its idle connections */
        int more = !p->closing && (cmd == MG_CMD_QUIT || (cmd == MG_CMD_SHED && !p->shed));
        if (p->stopping && !more) {
            continue;
        }
        p->stopping = 1;
        p->closing |= cmd == MG_CMD_QUIT;
        p->shed |= cmd == MG_CMD_SHED;
        send_cmd(p, cmd);
    }
}

static void write_verdict(master_t *m, const char *error)
{
    mg_signal_write_verdict(m->srv->cycle, m->reload_seq, m->srv->cycle->generation, error);
    mg_signal_waiters_answer(&m->hup_now);
}

/* The upgrade state for `-s upgrade`; an outcome (not "running") answers its commands. */
static void upgrade_state(master_t *m, mg_uint_t seq, pid_t pid, const char *state, const char *why)
{
    mg_upgrade_write_state(m->srv->cycle, seq, pid, state, why);
    if (strcmp(state, "running") != 0) {
        mg_signal_waiters_answer(&m->usr2);
    }
}

static void set_generation(master_t *m)
{
    mg_metrics_shm_t *met = m->srv->cycle->metrics;
    if (met) {
        __atomic_store_n(&met->generation, (int64_t)m->srv->cycle->generation, __ATOMIC_RELAXED);
    }
}

/* The master's gauges in the metrics zone, after each turn of the loop. */
static void update_gauges(master_t *m)
{
    int64_t draining = 0;
    for (size_t i = 0; i < m->nprocs; i++) {
        draining += m->procs[i].stopping;
    }
    mg_metrics_master_set(m->srv->cycle->metrics, &m->metrics_slot, draining);
}

static void write_pid_file(mg_cycle_t *cycle)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    FILE *f = fopen(ccf->pid.data, "we");
    if (f == NULL) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "open() \"%s\" failed", ccf->pid.data);
        return;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
}

static void reload(master_t *m)
{
    mg_server_t *srv = m->srv;
    mg_cycle_t *cur = srv->cycle;
    m->reload_seq++;
    mg_signal_write_running(cur, m->reload_seq, cur->generation);
    mg_signal_waiters_move(&m->hup_now, &m->hup_next);
    mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "reconfiguring");
    mg_log_capture(m->error, sizeof(m->error));
    mg_cycle_t *cycle = mg_cycle_create(&srv->params, cur, cur->log);
    if (cycle && mg_listen_open_all(cycle, cur) != MG_OK) {
        mg_cycle_destroy(cycle);
        cycle = NULL;
    }
    mg_log_capture(NULL, 0);
    if (cycle == NULL) {
        /* the error is logged with FILE:LINE; nothing else changes */
        MG_METRICS_INC(m->srv->cycle->metrics, reloads_failed);
        write_verdict(m, m->error[0] ? m->error : "[emerg] reload failed");
        return;
    }
    cycle->server = srv;
    cycle->generation = ++m->generations;
    add_gen(m, cycle);
    m->pending = cycle;
    m->phase = STARTING;
    m->deadline = mg_now.monotonic + READY_TIMEOUT;
    start_workers(m, cycle);
}

/* Bound the draining generations: beyond MAX_DRAINING, the oldest keep idle connections
 * MG_SHED_GRACE at most (not closed at once: a client that just got a response promising
 * keep-alive may be sending its next request on it). */
static void cap_draining(master_t *m)
{
    size_t draining = 0;
    for (size_t g = m->ngens; g-- > 0;) {
        mg_cycle_t *c = m->gens[g];
        if (c == m->srv->cycle || c == m->pending || c->refs == 0) {
            continue;
        }
        if (++draining > MAX_DRAINING) {
            stop_workers(m, c, NULL, MG_CMD_SHED);
        }
    }
}

/* The old generation accepts no more: the new one's workers start (connections that came
 * meanwhile waited in the listen queue). */
static void start_accepting(master_t *m)
{
    for (size_t i = 0; i < m->nprocs; i++) {
        proc_t *p = &m->procs[i];
        if (p->cycle == m->srv->cycle && !p->told && !p->stopping) {
            p->told = 1;
            send_cmd(p, MG_CMD_ACCEPT);
        }
    }
    m->phase = ACCEPTING;
    m->deadline = mg_now.monotonic + ACCEPT_TIMEOUT;
    /* the verdict cannot change any more (the accept step only waits, and ends "done" even at
     * its deadline), and no old worker accepts: a connection made from now on waits in the
     * listen queue for the new workers. `-s reload` may return now, not after two more
     * wake-ups of loaded processes (the workers' 'A', then ours); the metrics say so
     * before it does, so that a scrape after `-s reload` returned sees the new generation */
    MG_METRICS_INC(m->srv->cycle->metrics, reloads_ok);
    set_generation(m);
    write_verdict(m, NULL);
}

static void switch_generation(master_t *m)
{
    mg_server_t *srv = m->srv;
    mg_cycle_t *old = srv->cycle, *cycle = m->pending;
    srv->cycle = cycle;
    srv->log = cycle->log;
    m->pending = NULL;
    /* the old workers stop accepting now; the sockets the new generation did not inherit
     * are closed here and in the old workers as they stop, so a removed port refuses */
    stop_workers(m, NULL, cycle, MG_CMD_DRAIN);
    mg_listen_close_unused(old, cycle);
    mg_core_conf_t *occf = mg_cycle_core_conf(old), *nccf = mg_cycle_core_conf(cycle);
    if (strcmp(occf->pid.data, nccf->pid.data) != 0 && !m->new_binary) {
        write_pid_file(cycle);
        unlink(occf->pid.data);
    }
    cap_draining(m);
    m->phase = SWITCHING;
    m->deadline = mg_now.monotonic + STOP_TIMEOUT;
}

static void abort_reload(master_t *m, const char *why)
{
    mg_log_error(MG_LOG_ALERT, mlog(m), 0, "%s, keeping generation %lu", why,
                 (unsigned long)m->srv->cycle->generation);
    stop_workers(m, m->pending, NULL, MG_CMD_QUIT);
    mg_listen_close_unused(m->pending, m->srv->cycle);
    m->pending = NULL;
    m->phase = IDLE;
    char error[256];
    snprintf(error, sizeof(error), "[alert] %s", why);
    MG_METRICS_INC(m->srv->cycle->metrics, reloads_failed);
    write_verdict(m, error);
}

static void advance_reload(master_t *m)
{
    if (m->phase == STARTING) {
        size_t alive = 0, ready = 0;
        for (size_t i = 0; i < m->nprocs; i++) {
            if (m->procs[i].cycle == m->pending && !m->procs[i].helper && !m->procs[i].agent) {
                alive++;
                ready += m->procs[i].ready;
            }
        }
        mg_int_t want = mg_cycle_core_conf(m->pending)->worker_processes;
        if (ready >= (size_t)want || (ready == alive && ready > 0 && alive < (size_t)want &&
                                      mg_now.monotonic >= m->deadline)) {
            switch_generation(m);
        } else if (mg_now.monotonic >= m->deadline) {
            if (ready) {
                switch_generation(m);
            } else {
                abort_reload(m, "new worker processes did not start");
            }
        }
    }
    if (m->phase == SWITCHING) {
        int waiting = 0;
        for (size_t i = 0; i < m->nprocs; i++) {
            proc_t *p = &m->procs[i];
            waiting |=
                p->cycle != m->srv->cycle && p->stopping && !p->stopped && !p->helper && !p->agent;
        }
        if (!waiting || mg_now.monotonic >= m->deadline) {
            start_accepting(m);
        }
    }
    if (m->phase == ACCEPTING) {
        int waiting = 0;
        for (size_t i = 0; i < m->nprocs; i++) {
            proc_t *p = &m->procs[i];
            waiting |= p->cycle == m->srv->cycle && p->told && !p->accepting && !p->stopping &&
                       p->channel >= 0 && !p->helper && !p->agent;
        }
        if (!waiting || mg_now.monotonic >= m->deadline) {
            /* no old worker accepts since the previous step: every new connection gets this
             * generation, and its workers accept */
            mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "reconfiguring done, generation %lu serving",
                         (unsigned long)m->srv->cycle->generation);
            m->phase = IDLE;
            free_unused_gens(m); /* with worker_processes 0 no SIGCHLD ever frees the old one */
        }
    }
    if (m->phase == IDLE && m->reload_again && !m->quitting && !m->terminating) {
        m->reload_again = 0;
        reload(m);
    }
}

static void read_channel(proc_t *p)
{
    char msgs[64];
    ssize_t n = read(p->channel, msgs, sizeof(msgs));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        close(p->channel);
        p->channel = -1;
        p->stopped = 1; /* exiting: it certainly accepts no more */
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (msgs[i] == MG_MSG_READY) {
            p->ready = 1;
        } else if (msgs[i] == MG_MSG_ACCEPTING) {
            p->accepting = 1;
        } else if (msgs[i] == MG_MSG_STOPPED) {
            p->stopped = 1;
        }
    }
}

static void reap(master_t *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        const char *what = pid == m->new_binary ? "new binary process" : "worker process";
        for (size_t i = 0; i < m->nprocs; i++) {
            if (m->procs[i].pid == pid && m->procs[i].helper) {
                what =
                    ((mg_cycle_helper_t *)m->procs[i].cycle->helpers.elts)[m->procs[i].slot].title;
            }
        }
        int fatal = 0;
        if (WIFSIGNALED(status)) {
            mg_log_error(MG_LOG_ALERT, mlog(m), 0, "%s %d exited on signal %d%s", what, (int)pid,
                         WTERMSIG(status), WCOREDUMP(status) ? " (core dumped)" : "");
        } else {
            mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "%s %d exited with code %d", what, (int)pid,
                         WEXITSTATUS(status));
            fatal = WEXITSTATUS(status) == 2;
        }
        if (pid == m->new_binary) {
            /* rollback: the new binary is gone, this master is the server again */
            m->new_binary = 0;
            MG_METRICS_INC(m->srv->cycle->metrics, upgrades_failed);
            mg_upgrade_restore_pid(m->srv->cycle);
            if (!m->upgrade_served) {
                char why[256];
                if (m->upgrade_killed) {
                    snprintf(why, sizeof(why),
                             "new binary process %d did not serve within upgrade_timeout "
                             "(%ld ms)",
                             (int)pid, (long)mg_cycle_core_conf(m->srv->cycle)->upgrade_timeout);
                } else if (WIFSIGNALED(status)) {
                    snprintf(why, sizeof(why), "new binary process %d exited on signal %d",
                             (int)pid, WTERMSIG(status));
                } else {
                    snprintf(why, sizeof(why), "new binary process %d exited with code %d",
                             (int)pid, WEXITSTATUS(status));
                }
                upgrade_state(m, m->upgrade_seq, pid, "failed", why);
            }
            upgrade_wait_done(m);
            if (m->noaccepting && !m->quitting && !m->terminating) {
                m->noaccepting = 0;
                start_workers(m, m->srv->cycle);
            }
            continue;
        }
        for (size_t i = 0; i < m->nprocs; i++) {
            proc_t p = m->procs[i];
            if (p.pid != pid) {
                continue;
            }
            if (p.channel >= 0) {
                close(p.channel);
            }
            m->procs[i] = m->procs[--m->nprocs];
            p.cycle->refs--;
            int current = p.cycle == m->srv->cycle || p.cycle == m->pending;
            if (p.helper && ((mg_cycle_helper_t *)p.cycle->helpers.elts)[p.slot].once &&
                WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                break; /* done (the cache loader) */
            }
            if (p.helper && !p.stopping && current && !m->quitting && !m->terminating) {
                spawn_proc(m, p.cycle, p.slot, 1);
            } else if (!p.stopping && current && !m->quitting && !m->terminating &&
                       !m->noaccepting) {
                if (fatal) {
                    mg_log_error(MG_LOG_ALERT, mlog(m), 0,
                                 "worker process %d exited with fatal "
                                 "code 2 and cannot be respawned",
                                 (int)pid);
                } else {
                    MG_METRICS_INC(m->srv->cycle->metrics, worker_restarts);
                    spawn(m, p.cycle, p.slot);
                }
            }
            break;
        }
    }
    free_unused_gens(m);
}

/* The wait for the new binary is over (it serves, or it is gone). */
static void upgrade_wait_done(master_t *m)
{
    if (m->upgrade_fd >= 0) {
        close(m->upgrade_fd);
        m->upgrade_fd = -1;
    }
    m->upgrade_deadline = 0;
}

static void upgrade_served(master_t *m)
{
    m->upgrade_served = 1;
    mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "new binary process %d serves", (int)m->new_binary);
    upgrade_state(m, m->upgrade_seq, m->new_binary, "serving", NULL);
    upgrade_wait_done(m);
}

/* The new binary's pipe is readable: MG_UPGRADE_HELLO (it speaks this protocol),
 * MG_UPGRADE_SERVING (its workers accept), or EOF (it is exiting: SIGCHLD tells the rest;
 * the deadline stays). */
static void upgrade_read(master_t *m)
{
    char buf[8];
    ssize_t n = read(m->upgrade_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        close(m->upgrade_fd);
        m->upgrade_fd = -1;
        return;
    }
    for (ssize_t i = 0; i < n && m->new_binary && !m->upgrade_served; i++) {
        if (buf[i] == MG_UPGRADE_HELLO) {
            m->upgrade_hello = 1;
        } else if (buf[i] == MG_UPGRADE_SERVING) {
            upgrade_served(m);
        }
    }
}

static int other_child(pid_t child, void *except)
{
    return child != *(pid_t *)except;
}

/* Whether process `pid` has children other than `except` (an older binary's workers). */
static int has_children(pid_t pid, pid_t except)
{
    return mg_proc_each_child(pid, other_child, &except);
}

/* upgrade_timeout passed without the new binary serving: stop it (TERM; KILL if it is still
 * there KILL_DELAY later); its exit gives this master its pid file back. */
static void upgrade_check_deadline(master_t *m)
{
    if (!m->new_binary || m->upgrade_served || !m->upgrade_deadline ||
        mg_now.monotonic < m->upgrade_deadline) {
        return;
    }
    if (!m->upgrade_killed && !m->upgrade_hello && has_children(m->new_binary, 0)) {
        /* a binary from before the pipe never says a word: its worker processes are the
         * best sign we have (a downgrade thus takes upgrade_timeout) */
        mg_log_error(MG_LOG_WARN, mlog(m), 0,
                     "new binary process %d did not report, it has child processes: taken as "
                     "serving",
                     (int)m->new_binary);
        upgrade_served(m);
        return;
    }
    if (!m->upgrade_killed) {
        mg_log_error(MG_LOG_ALERT, mlog(m), 0,
                     "new binary process %d did not serve within upgrade_timeout, stopping it",
                     (int)m->new_binary);
        m->upgrade_killed = 1;
        kill(m->new_binary, SIGTERM);
    } else {
        kill(m->new_binary, SIGKILL);
    }
    m->upgrade_deadline = mg_now.monotonic + KILL_DELAY;
}

/* New binary: once every worker of the first generation accepts, tell the old master. */
static void upgrade_check_serving(master_t *m)
{
    if (mg_upgrade_notify_fd() < 0) {
        return;
    }
    size_t accepting = 0;
    for (size_t i = 0; i < m->nprocs; i++) {
        accepting += m->procs[i].cycle == m->srv->cycle && m->procs[i].accepting;
    }
    if (accepting >= (size_t)mg_cycle_core_conf(m->srv->cycle)->worker_processes) {
        mg_upgrade_notify_serving();
    }
}

static void shut_listeners(master_t *m)
{
    /* a unix socket's file stays when a new binary serves it */
    for (size_t g = 0; g < m->ngens; g++) {
        mg_listen_close_all(m->gens[g], m->new_binary == 0);
    }
}

static void handle_signals(master_t *m)
{
    pid_t from = 0;
    if (mg_signal_take(SIGCHLD, &from)) {
        log_signal(m, SIGCHLD, from, "");
        reap(m);
    }
    int sig = mg_signal_take(SIGTERM, &from) ? SIGTERM : mg_signal_take(SIGINT, &from) ? SIGINT : 0;
    if (sig) {
        log_signal(m, sig, from, "exiting");
        if (!m->terminating) {
            m->terminating = 1;
            m->kill_at = mg_now.monotonic + KILL_DELAY;
            for (size_t i = 0; i < m->nprocs; i++) {
                kill(m->procs[i].pid, SIGTERM);
            }
            shut_listeners(m);
        }
    }
    if (mg_signal_take(SIGQUIT, &from)) {
        log_signal(m, SIGQUIT, from, "shutting down");
        if (!m->quitting && !m->terminating) {
            m->quitting = 1;
            /* with a new binary serving, or (a rollback) the old master we were upgraded from
             * serving again with its workers, a client's next request on an idle keepalive
             * connection can still be answered here: drain instead of closing it under it.
             * An old master without workers starts them only once we are gone. */
            int other_serves = m->new_binary || (m->parent && getppid() == m->parent &&
                                                 has_children(m->parent, getpid()));
            stop_workers(m, NULL, NULL, other_serves ? MG_CMD_DRAIN : MG_CMD_QUIT);
            shut_listeners(m);
        }
    }
    if (mg_signal_take(SIGHUP, &from)) {
        log_signal(m, SIGHUP, from, "reconfiguring");
        mg_signal_waiters_add(&m->hup_next, mg_signal_asker(SIGHUP));
        if (m->quitting || m->terminating) {
            /* shutting down: nothing to reconfigure */
        } else if (m->new_binary && m->noaccepting) {
            /* rollback after USR2 + WINCH: the old workers come back on the same generation,
             * without reading the configuration again (as nginx) */
            m->noaccepting = 0;
            start_workers(m, m->srv->cycle);
        } else if (m->phase != IDLE) {
            m->reload_again = 1;
        } else {
            m->noaccepting = 0;
            reload(m);
        }
    }
    if (mg_signal_take(SIGUSR1, &from)) {
        log_signal(m, SIGUSR1, from, "reopening logs");
        mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "reopening logs");
        mg_cycle_t *cur = m->srv->cycle;
        mg_cycle_reopen_files(cur);
        /* workers reopen after us, as the worker user: the files must be theirs */
        mg_core_conf_t *ccf = mg_cycle_core_conf(cur);
        if (geteuid() == 0 && ccf->user.len) {
            struct passwd *pw = getpwnam(ccf->user.data);
            mg_open_file_t **files = cur->open_files.elts;
            for (size_t i = 0; pw && i < cur->open_files.nelts; i++) {
                if (files[i]->fd > STDERR_FILENO && fchown(files[i]->fd, pw->pw_uid, (gid_t)-1)) {
                    mg_log_error(MG_LOG_EMERG, mlog(m), errno, "chown(\"%s\", %d) failed",
                                 files[i]->name, (int)pw->pw_uid);
                }
            }
        }
        for (size_t i = 0; i < m->nprocs; i++) {
            send_cmd(&m->procs[i], MG_CMD_REOPEN);
        }
    }
    if (mg_signal_take(SIGUSR2, &from)) {
        mg_signal_waiters_add(&m->usr2, mg_signal_asker(SIGUSR2));
        /* one upgrade at a time: not while our new binary runs, nor in a new binary whose
         * old master is still there */
        int old_there = m->parent && getppid() == m->parent;
        if (m->new_binary || old_there || m->quitting || m->terminating) {
            log_signal(m, SIGUSR2, from, "ignoring");
            if (old_there && !m->new_binary) {
                /* no upgrade of ours runs: `-s upgrade` hears why at once instead of waiting */
                char why[96];
                snprintf(why, sizeof(why), "the old master process %d has not exited yet",
                         (int)m->parent);
                upgrade_state(m, ++m->upgrade_seq, 0, "failed", why);
            }
        } else {
            log_signal(m, SIGUSR2, from, "changing binary");
            m->upgrade_seq++;
            pid_t pid = mg_upgrade_exec(m->srv->cycle, &m->upgrade_fd);
            m->new_binary = pid > 0 ? pid : 0;
            if (pid <= 0) {
                MG_METRICS_INC(m->srv->cycle->metrics, upgrades_failed);
                upgrade_state(m, m->upgrade_seq, 0, "failed",
                              "the new binary could not be started (see the error log)");
            } else {
                m->upgrade_served = 0;
                m->upgrade_hello = 0;
                m->upgrade_killed = 0;
                m->upgrade_deadline =
                    mg_now.monotonic + mg_cycle_core_conf(m->srv->cycle)->upgrade_timeout;
                upgrade_state(m, m->upgrade_seq, pid, "running", NULL);
            }
        }
    }
    if (mg_signal_take(SIGWINCH, &from)) {
        if (m->daemonized && !m->quitting && !m->terminating) {
            /* as nginx: only a daemon, whose terminal cannot send WINCH by resizing */
            log_signal(m, SIGWINCH, from, "stop accepting connections");
            m->noaccepting = 1;
            stop_workers(m, NULL, NULL, MG_CMD_DRAIN);
        } else {
            log_signal(m, SIGWINCH, from, "");
        }
    }
}

static int poll_timeout(master_t *m)
{
    mg_msec_t next = -1;
    if (m->phase != IDLE) {
        next = m->deadline;
    }
    if (m->new_binary && !m->upgrade_served && m->upgrade_deadline &&
        (next < 0 || m->upgrade_deadline < next)) {
        next = m->upgrade_deadline;
    }
    if (m->terminating && (next < 0 || m->kill_at < next)) {
        next = m->kill_at;
    }
    if (next < 0) {
        return -1;
    }
    mg_msec_t left = next - mg_now.monotonic;
    return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

int mg_master_run(mg_server_t *srv, int daemonized)
{
    master_t *m = mg_calloc(sizeof(master_t));
    m->srv = srv;
    m->upgrade_fd = -1;
    m->daemonized = daemonized;
    m->generations = 1;
    if (mg_upgrade_inherited()) {
        m->parent = getppid();
        /* the generations go on counting from the old binary's */
        mg_metrics_shm_t *met = srv->cycle->metrics;
        if (met) {
            m->generations = (mg_uint_t)__atomic_load_n(&met->generation, __ATOMIC_RELAXED) + 1;
        }
    }
    mg_proctitle_set("master process %s", mg_proctitle_args());
    mg_signal_master_init(&m->wait_mask);
    srv->cycle->generation = m->generations;
    add_gen(m, srv->cycle);
    write_verdict(m, NULL);
    set_generation(m);
    start_workers(m, srv->cycle);

    struct pollfd *pfds = NULL;
    size_t pfd_alloc = 0;
    for (;;) {
        if ((m->quitting || m->terminating) && m->nprocs == 0) {
            break;
        }
        if (pfd_alloc < m->nprocs + 1) {
            pfd_alloc = m->nprocs * 2 + 1;
            pfds = mg_realloc(pfds, pfd_alloc * sizeof(struct pollfd));
        }
        size_t n = 0;
        if (m->upgrade_fd >= 0) {
            pfds[n++] = (struct pollfd){.fd = m->upgrade_fd, .events = POLLIN};
        }
        for (size_t i = 0; i < m->nprocs; i++) {
            if (m->procs[i].channel >= 0) {
                pfds[n++] = (struct pollfd){.fd = m->procs[i].channel, .events = POLLIN};
            }
        }
        int timeout = poll_timeout(m);
        struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000};
        /* the only place our signals are unblocked: they interrupt the wait, never the work */
        int rc = ppoll(pfds, n, timeout < 0 ? NULL : &ts, &m->wait_mask);
        mg_time_update();
        if (rc > 0) {
            for (size_t k = 0; k < n; k++) {
                if (!pfds[k].revents) {
                    continue;
                }
                if (pfds[k].fd == m->upgrade_fd) {
                    upgrade_read(m);
                    continue;
                }
                for (size_t i = 0; i < m->nprocs; i++) {
                    if (m->procs[i].channel == pfds[k].fd) {
                        read_channel(&m->procs[i]);
                        break;
                    }
                }
            }
        }
        handle_signals(m);
        if (m->terminating && mg_now.monotonic >= m->kill_at) {
            for (size_t i = 0; i < m->nprocs; i++) {
                mg_log_error(MG_LOG_ALERT, mlog(m), 0,
                             "worker process %d did not exit in "
                             "time, sending SIGKILL",
                             (int)m->procs[i].pid);
                kill(m->procs[i].pid, SIGKILL);
            }
            m->kill_at = mg_now.monotonic + KILL_DELAY;
        }
        if (m->phase != IDLE && (m->quitting || m->terminating)) {
            m->phase = IDLE;
            m->pending = NULL;
        }
        advance_reload(m);
        upgrade_check_deadline(m);
        upgrade_check_serving(m);
        update_gauges(m);
    }
    free(pfds);
    free_unused_gens(m); /* generations no worker ran on (worker_processes 0) */
    if (m->new_binary) {
        /* the old master leaves its new binary serving: the upgrade is done */
        MG_METRICS_INC(m->srv->cycle->metrics, upgrades_ok);
    }
    mg_metrics_master_exit(srv->cycle->metrics, &m->metrics_slot);

    mg_log_error(MG_LOG_NOTICE, mlog(m), 0, "exit");
    char oldbin[4200];
    mg_upgrade_oldbin_path(srv->cycle, oldbin, sizeof(oldbin));
    unlink(m->new_binary ? oldbin : mg_cycle_core_conf(srv->cycle)->pid.data);
    /* our verdicts go with us (a new binary's master has written its own over them); after a
     * rollback to nginx, which writes none, the file would stay beside its pid file */
    mg_signal_remove_verdict(srv->cycle);
    /* the old generations' memory goes with the process; the current one stays for the
     * caller, which destroys the server */
    free(m->procs);
    free(m->gens);
    free(m);
    return 0;
}
