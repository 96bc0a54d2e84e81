/*
 * The signal table, the master's flag-only handler and the `-s` sender. The handler only
 * records that a signal came and from whom; the master acts on it from its loop, where it
 * may log, allocate and fork (none of which is async-signal-safe).
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cycle.h"
#include "mgtime.h"
#include "proc.h"
#include "signals.h"
#include "str.h"

static const struct {
    int sig;
    const char *name;
} signal_names[] = {
    {SIGHUP, "SIGHUP"},     {SIGUSR1, "SIGUSR1"},
    {SIGWINCH, "SIGWINCH"}, {SIGTERM, "SIGTERM"},
    {SIGQUIT, "SIGQUIT"},   {SIGUSR2, "SIGUSR2"},
    {SIGINT, "SIGINT"},     {SIGCHLD, "SIGCHLD"},
    {SIGPIPE, "SIGPIPE"},   {0, NULL},
};

static volatile sig_atomic_t pending[_NSIG];
static volatile sig_atomic_t senders[_NSIG];
static volatile sig_atomic_t asks[_NSIG]; /* the last sender asked for an answer */

/* The value a command puts on the signal it sends with sigqueue() to say that it waits for
 * an answer (SIGURG), and on that answer: "mg". */
#define MG_SIGNAL_ASK 0x6d67

const char *mg_signal_name(int sig)
{
    for (size_t i = 0; signal_names[i].name; i++) {
        if (signal_names[i].sig == sig) {
            return signal_names[i].name;
        }
    }
    return "";
}

static void on_signal(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    senders[sig] = si ? si->si_pid : 0;
    asks[sig] = si && si->si_code == SI_QUEUE && si->si_value.sival_int == MG_SIGNAL_ASK;
    pending[sig] = 1;
}

void mg_signal_master_init(sigset_t *wait_mask)
{
    static const int sigs[] = {SIGTERM, SIGINT,  SIGQUIT,  SIGHUP,
                               SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD};
    sigset_t set;
    sigemptyset(&set);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < mg_nelems(sigs); i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&set, sigs[i]);
    }
    signal(SIGPIPE, SIG_IGN);
    sigprocmask(SIG_BLOCK, &set, wait_mask);
    /* the wait mask is what was blocked before, minus ours */
    for (size_t i = 0; i < mg_nelems(sigs); i++) {
        sigdelset(wait_mask, sigs[i]);
    }
}

int mg_signal_take(int sig, pid_t *from)
{
    if (!pending[sig]) {
        return 0;
    }
    pending[sig] = 0;
    if (from) {
        *from = (pid_t)senders[sig];
    }
    return 1;
}

pid_t mg_signal_asker(int sig)
{
    return asks[sig] ? (pid_t)senders[sig] : 0;
}

void mg_signal_waiters_add(mg_signal_waiters_t *w, pid_t pid)
{
    if (pid > 0 && w->n < mg_nelems(w->pid)) {
        w->pid[w->n++] = pid; /* beyond: that command finds the state by polling */
    }
}

void mg_signal_waiters_move(mg_signal_waiters_t *to, mg_signal_waiters_t *from)
{
    for (size_t i = 0; i < from->n; i++) {
        mg_signal_waiters_add(to, from->pid[i]);
    }
    from->n = 0;
}

void mg_signal_waiters_answer(mg_signal_waiters_t *w)
{
    union sigval v = {.sival_int = MG_SIGNAL_ASK};
    for (size_t i = 0; i < w->n; i++) {
        /* SIGURG is ignored by default: should the command be gone and its pid reused, the
         * process that gets it is not disturbed */
        sigqueue(w->pid[i], SIGURG, v);
    }
    w->n = 0;
}

/* The set holding SIGURG alone: the answer's signal. */
static sigset_t answer_set(void)
{
    sigset_t urg;
    sigemptyset(&urg);
    sigaddset(&urg, SIGURG);
    return urg;
}

int mg_signal_ask(pid_t pid, int sig)
{
    sigset_t urg = answer_set();
    /* blocked before the question, so an answer that comes at once stays pending */
    sigprocmask(SIG_BLOCK, &urg, NULL);
    return sigqueue(pid, sig, (union sigval){.sival_int = MG_SIGNAL_ASK});
}

void mg_signal_wait_answer(int ms)
{
    sigset_t urg = answer_set();
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    siginfo_t si;
    /* a SIGURG from anyone else only ends this wait early: the caller reads the state again */
    sigtimedwait(&urg, &si, &ts);
}

static void verdict_path(mg_cycle_t *cycle, char *buf, size_t size)
{
    snprintf(buf, size, "%s.reload", mg_cycle_core_conf(cycle)->pid.data);
}

void mg_state_file_write(mg_cycle_t *cycle, const char *path, const char *text)
{
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
    size_t n = strlen(text);
    /* written aside and renamed, so a reader never sees half of it */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "open() \"%s\" failed", tmp);
        return;
    }
    ssize_t w = write(fd, text, n);
    close(fd);
    if (w == (ssize_t)n && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
        /* swapped: the old text is under the temporary name now. Not rename() over the old
         * file: ext4 then starts writing the new one's data out first (auto_da_alloc), 1-3 ms
         * and up to 10 on a busy disk, twice in each reload's path */
        unlink(tmp);
        return;
    }
    if (w != (ssize_t)n || rename(tmp, path) != 0) { /* the first one, or no exchange here */
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "writing \"%s\" failed", path);
        unlink(tmp);
    }
}

static void write_state(mg_cycle_t *cycle, mg_uint_t seq, mg_uint_t generation, const char *state,
                        const char *error)
{
    char path[4200], text[4400];
    verdict_path(cycle, path, sizeof(path));
    snprintf(text, sizeof(text), "%lu %d %lu %s\n%s%s", (unsigned long)seq, (int)getpid(),
             (unsigned long)generation, state, error ? error : "", error ? "\n" : "");
    mg_state_file_write(cycle, path, text);
}

void mg_signal_write_verdict(mg_cycle_t *cycle, mg_uint_t seq, mg_uint_t generation,
                             const char *error)
{
    write_state(cycle, seq, generation, error ? "failed" : "ok", error);
}

void mg_signal_write_running(mg_cycle_t *cycle, mg_uint_t seq, mg_uint_t generation)
{
    write_state(cycle, seq, generation, "running", NULL);
}

typedef struct {
    long seq;
    long pid;
    int ok;
    int running;
    char error[2048];
} verdict_t;

static int read_verdict(const char *path, verdict_t *v)
{
    char buf[2300];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    char word[16];
    long gen;
    if (sscanf(buf, "%ld %ld %ld %15s", &v->seq, &v->pid, &gen, word) != 4) {
        return -1;
    }
    v->ok = strcmp(word, "ok") == 0;
    v->running = strcmp(word, "running") == 0;
    v->error[0] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl && nl[1]) {
        snprintf(v->error, sizeof(v->error), "%s", nl + 1);
        size_t len = strlen(v->error);
        while (len && v->error[len - 1] == '\n') {
            v->error[--len] = '\0';
        }
    }
    return 0;
}

int mg_signal_read_pid(const char *path, mg_log_t *log)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (log) {
            mg_log_error(MG_LOG_ERR, log, errno, "open() \"%s\" failed", path);
        }
        return -1;
    }
    char buf[32];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        if (log) {
            mg_log_error(MG_LOG_ERR, log, errno, "read() \"%s\" failed", path);
        }
        return -1;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
        n--;
    }
    buf[n] = '\0';
    int64_t pid = mg_atoi(buf, (size_t)n);
    if (pid <= 0) {
        if (log) {
            mg_log_error(MG_LOG_ERR, log, 0, "invalid PID number \"%s\" in \"%s\"", buf, path);
        }
        return -1;
    }
    return (int)pid;
}

/* As nginx's signaller, speak through the early log (the default error log or -e), not the
 * configuration's error_log: it is the log a signalling command may always write. */
int mg_signal_master_pid(mg_cycle_t *cycle, mg_log_t *log)
{
    mg_log_error(MG_LOG_NOTICE, log, 0, "signal process started");
    return mg_signal_read_pid(mg_cycle_core_conf(cycle)->pid.data, log);
}

void mg_signal_remove_verdict(mg_cycle_t *cycle)
{
    char path[4200];
    verdict_path(cycle, path, sizeof(path));
    verdict_t v;
    if (read_verdict(path, &v) == 0 && v.pid == getpid()) {
        unlink(path);
    }
}

int mg_signal_speaks(mg_cycle_t *cycle, int pid)
{
    char path[4200];
    verdict_path(cycle, path, sizeof(path));
    verdict_t v;
    return read_verdict(path, &v) == 0 && v.pid == pid;
}

int mg_signal_process(mg_cycle_t *cycle, mg_log_t *log, const char *name)
{
    int pid = mg_signal_master_pid(cycle, log);
    if (pid < 0) {
        return 1;
    }
    int sig = strcmp(name, "stop") == 0     ? SIGTERM
              : strcmp(name, "quit") == 0   ? SIGQUIT
              : strcmp(name, "reopen") == 0 ? SIGUSR1
                                            : SIGHUP;
    char path[4200];
    verdict_path(cycle, path, sizeof(path));
    verdict_t before = {.seq = 0};
    if (sig == SIGHUP && (read_verdict(path, &before) != 0 || before.pid != pid)) {
        before.seq = 0; /* no verdict of this master yet: its first reload is number 1 */
    }
    /* a reload is answered (SIGURG) when its verdict is written; the other signals are sent
     * as nginx's signaller sends them */
    if ((sig == SIGHUP ? mg_signal_ask((pid_t)pid, sig) : kill((pid_t)pid, sig)) != 0) {
        mg_log_error(MG_LOG_ALERT, log, errno, "kill(%d, %d) failed", pid, sig);
        return 1;
    }
    char title[64];
    if (sig != SIGHUP ||
        strncmp(mg_proc_title((pid_t)pid, title, sizeof(title)), "nginx:", 6) == 0) {
        return 0; /* an nginx master (before a migration, after a rollback) writes no verdict */
    }
    /* nginx returns at once and reports success either way; moongate waits for the
     * master's verdict so scripts learn that the new configuration was rejected */
    /* a reload already running ("N running") may have read the configuration before it
     * changed: the verdict that counts is the next one's, N + 1, that of the reload our HUP
     * starts (the master runs one more when HUPs come during a reload); after "N ok" too.
     * (It waited for N + 2 after "N running": 10 s, then exit 1, when no other HUP came.) */
    long want = before.seq + 1;
    int rc = -1;
    mg_msec_t start = mg_time_monotonic_ms();
    /* woken by the master's answer; a single process (it does not answer), or a HUP that
     * came with another one (the master learns one sender), finds the verdict by reading the
     * file every 5 ms for the first 0.5 s, then every 20 ms. The master's life is checked
     * between waits. */
    /* 10 s for the master to get to it; once it says a reload runs, as long as that takes,
     * within 120 s (thousands of TLS servers read their certificates; a sanitizer build
     * under load took over 10 s for 1000) */
    int limit = 10000;
    for (int waited = 0; rc < 0 && waited < limit;) {
        verdict_t v;
        if (read_verdict(path, &v) == 0 && v.pid == pid) {
            if (v.seq >= want && !v.running) {
                if (!v.ok) {
                    mg_log_stderr(0, "%s", v.error[0] ? v.error : "[emerg] reload failed");
                }
                rc = v.ok ? 0 : 1;
                break;
            }
            if (v.running) {
                limit = 120000;
            }
        }
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            mg_log_error(MG_LOG_ALERT, log, 0, "process %d exited before reporting the reload",
                         pid);
            rc = 1;
            break;
        }
        mg_signal_wait_answer(waited < 500 ? 5 : 20);
        waited = (int)(mg_time_monotonic_ms() - start);
    }
    if (rc < 0) {
        mg_log_error(MG_LOG_ALERT, log, 0, "no reload verdict from process %d within %ds", pid,
                     limit / 1000);
        rc = 1;
    }
    return rc;
}
