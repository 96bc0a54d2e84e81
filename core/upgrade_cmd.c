/*
 * `moongate -s upgrade`: the whole binary upgrade of the seed documents, driven from the
 * command line. USR2 to the running master; the old master starts the binary on disk and
 * reports through "<pid>.upgrade" (running, then serving once the new master's workers accept,
 * or failed with why: the new binary exited, crashed, or did not serve within upgrade_timeout,
 * in which case the old master stops it and takes its pid file back by itself); on "serving"
 * the command sends WINCH and QUIT to the old master and exits 0, else it prints why, with the
 * [emerg]/[alert] lines the error logs got meanwhile, and exits 1.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cycle.h"
#include "mgtime.h"
#include "proc.h"
#include "signals.h"
#include "upgrade.h"

static void state_path(mg_cycle_t *cycle, char *buf, size_t size)
{
    snprintf(buf, size, "%s.upgrade", mg_cycle_core_conf(cycle)->pid.data);
}

void mg_upgrade_write_state(mg_cycle_t *cycle, mg_uint_t seq, pid_t new_pid, const char *state,
                            const char *reason)
{
    char path[4200], text[1024];
    state_path(cycle, path, sizeof(path));
    snprintf(text, sizeof(text), "%lu %d %d %s\n%s%s", (unsigned long)seq, (int)getpid(),
             (int)new_pid, state, reason ? reason : "", reason ? "\n" : "");
    mg_state_file_write(cycle, path, text);
}

typedef struct {
    long seq;
    long pid;
    long new_pid;
    char state[16];
    char reason[512];
} state_t;

static int read_state(const char *path, state_t *st)
{
    char buf[1024];
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
    if (sscanf(buf, "%ld %ld %ld %15s", &st->seq, &st->pid, &st->new_pid, st->state) != 4) {
        return -1;
    }
    st->reason[0] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl && nl[1]) {
        snprintf(st->reason, sizeof(st->reason), "%s", nl + 1);
        st->reason[strcspn(st->reason, "\n")] = '\0';
    }
    return 0;
}

/* A log file we may read back: its name and its size before the upgrade. */
typedef struct {
    const char *name;
    off_t mark;
} tail_t;

static off_t file_size(const char *name)
{
    struct stat sb;
    return stat(name, &sb) == 0 ? sb.st_size : 0;
}

/* The [emerg], [alert] and [crit] lines a log got since its mark, on stderr: why the new
 * binary did not start is there (its own configuration errors) and nowhere else. */
static void print_errors(tail_t *t)
{
    int fd = open(t->name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    char buf[65536];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, t->mark);
    close(fd);
    if (n <= 0) {
        return;
    }
    buf[n] = '\0';
    for (char *line = buf, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (nl == NULL) {
            break; /* a line still being written */
        }
        *nl = '\0';
        if (strstr(line, "] ") &&
            (strstr(line, " [emerg] ") || strstr(line, " [alert] ") || strstr(line, " [crit] "))) {
            fprintf(stderr, "%s\n", line);
        }
    }
}

static int pid_file_names(const char *path, pid_t pid)
{
    return mg_signal_read_pid(path, NULL) == (int)pid;
}

/* Counts a child titled "...: worker process" and not shutting down (nginx's and moongate's
 * titles alike). */
static int count_worker(pid_t child, void *n)
{
    char buf[512];
    mg_proc_title(child, buf, sizeof(buf));
    *(int *)n += strstr(buf, ": worker process") != NULL && strstr(buf, "shutting down") == NULL;
    return 0;
}

/* Worker processes of master `pid`. */
static int count_workers(pid_t pid)
{
    int n = 0;
    mg_proc_each_child(pid, count_worker, &n);
    return n;
}

static void print_tails(tail_t *tails)
{
    for (size_t i = 0; i < 2; i++) {
        if (tails[i].name) {
            print_errors(&tails[i]);
        }
    }
}

/* A watch on the pid file's directory for files renamed, written or removed (-1: none, the
 * wait then sleeps). The plain dance needs it: a new binary that fails at once is gone, and
 * the pid file renamed back, within a ms or two, which a look at the files between waits can
 * miss entirely; the watch's events say that the rename to .oldbin happened all the same.
 * (Not for the common path: closing an inotify descriptor waits for an SRCU grace period,
 * 15-25 ms.) */
static int watch_open(const char *path)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else {
        slash[slash == dir] = '\0'; /* "/x.pid" watches "/" */
    }
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0 && inotify_add_watch(fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Wait until the directory changes or `ms` passed; 1 when a file named `name` (a base name)
 * was renamed into it meanwhile. */
static int watch_wait(int fd, int ms, const char *name)
{
    if (fd < 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        return 0;
    }
    int seen = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, ms) > 0) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
            for (char *p = buf; p < buf + n;) {
                struct inotify_event *ev = (struct inotify_event *)p;
                seen |= (ev->mask & IN_MOVED_TO) && ev->len && strcmp(ev->name, name) == 0;
                p += sizeof(*ev) + ev->len;
            }
        }
    }
    return seen;
}

/* How long a master that writes no state file (nginx) may take to rename its pid file after
 * USR2: it does so at once, so a longer silence is a USR2 it ignored. */
#define PLAIN_RENAME_TIMEOUT 5000

/* A master that writes no "<pid>.upgrade" (nginx: its pid file before a migration, or the old
 * master after one): the seeds' dance, watched through the pid files. USR2; the master renames
 * its pid file to .oldbin and the new binary writes the pid file; once the new master has a
 * worker process, WINCH and QUIT the old one. The new binary exiting gives the old master its
 * pid file back (nginx does that itself): a failure. */
static int upgrade_plain(mg_cycle_t *cycle, mg_log_t *log, int pid, const char *oldbin,
                         tail_t *tails, int watch)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    if (kill((pid_t)pid, SIGUSR2) != 0) {
        mg_log_error(MG_LOG_ALERT, log, errno, "kill(%d, %d) failed", pid, SIGUSR2);
        return 1;
    }
    mg_msec_t start = mg_time_monotonic_ms();
    int new_pid = 0, renamed = 0;
    const char *slash = strrchr(oldbin, '/');
    const char *oldbin_name = slash ? slash + 1 : oldbin;
    const char *why = NULL;
    for (;;) {
        int named = mg_signal_read_pid(ccf->pid.data, NULL);
        int moved = mg_signal_read_pid(oldbin, NULL) == pid;
        renamed |= moved;
        if (moved && named > 0 && named != pid) {
            new_pid = named;
        }
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            mg_log_stderr(0, "upgrade failed: process %d exited during the upgrade", pid);
            return 1;
        }
        mg_msec_t t = mg_time_monotonic_ms() - start;
        if (new_pid && kill((pid_t)new_pid, 0) != 0 && errno == ESRCH) {
            why = "the new binary exited";
        } else if (renamed && !moved && named == pid) {
            why = "the new binary exited"; /* the old master took its pid file back */
        } else if (!renamed && t >= PLAIN_RENAME_TIMEOUT) {
            why = "no new binary started (the pid file was not renamed to .oldbin)";
        } else if (t >= ccf->upgrade_timeout) {
            why = "the new binary did not serve within upgrade_timeout";
        } else if (new_pid && count_workers((pid_t)new_pid) > 0) {
            break;
        }
        if (why) {
            mg_log_stderr(0, "upgrade failed: %s; process %d serves on", why, pid);
            print_tails(tails);
            return 1;
        }
        renamed |= watch_wait(watch, 20, oldbin_name);
    }
    mg_log_error(MG_LOG_NOTICE, log, 0, "new master process %d serves, stopping old master %d",
                 new_pid, pid);
    if (kill((pid_t)pid, SIGWINCH) != 0 || kill((pid_t)pid, SIGQUIT) != 0) {
        mg_log_error(MG_LOG_ALERT, log, errno, "kill(%d) failed", pid);
        return 1;
    }
    return 0;
}

int mg_upgrade_command(mg_cycle_t *cycle, mg_log_t *log)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    int pid = mg_signal_master_pid(cycle, log);
    if (pid < 0) {
        return 1;
    }
    char oldbin[4200], path[4200];
    mg_upgrade_oldbin_path(cycle, oldbin, sizeof(oldbin));
    if (access(oldbin, F_OK) == 0) {
        mg_log_stderr(0, "upgrade refused: \"%s\" exists, an upgrade is already in progress",
                      oldbin);
        return 1;
    }
    state_path(cycle, path, sizeof(path));
    state_t before;
    if (read_state(path, &before) != 0 || before.pid != pid) {
        before.seq = 0;
    }
    tail_t tails[2] = {{log->file ? log->file->name : NULL, 0}, {NULL, 0}};
    if (cycle->error_log && cycle->error_log->file && cycle->error_log->file->name &&
        (tails[0].name == NULL || strcmp(tails[0].name, cycle->error_log->file->name) != 0)) {
        tails[1].name = cycle->error_log->file->name;
    }
    for (size_t i = 0; i < 2; i++) {
        if (tails[i].name && tails[i].name[0] == '/') {
            tails[i].mark = file_size(tails[i].name);
        } else {
            tails[i].name = NULL; /* stderr, syslog: nothing to read back */
        }
    }

    if (!mg_signal_speaks(cycle, pid)) {
        /* set before the USR2, so no rename comes unseen */
        int watch = watch_open(path);
        int rc = upgrade_plain(cycle, log, pid, oldbin, tails, watch);
        if (watch >= 0) {
            close(watch);
        }
        return rc;
    }
    /* answered (SIGURG) once the outcome is written */
    if (mg_signal_ask((pid_t)pid, SIGUSR2) != 0) {
        mg_log_error(MG_LOG_ALERT, log, errno, "kill(%d, %d) failed", pid, SIGUSR2);
        return 1;
    }
    /* the old master decides (upgrade_timeout, its own configuration's); this bound only
     * covers a master that never answers (one that ignores USR2, say) */
    mg_msec_t bound = ccf->upgrade_timeout + 15000;
    mg_msec_t start = mg_time_monotonic_ms();
    state_t st;
    int rc = -1;
    for (;;) {
        if (read_state(path, &st) == 0 && st.pid == pid && st.seq > before.seq &&
            strcmp(st.state, "running") != 0) {
            break;
        }
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            mg_log_stderr(0, "upgrade failed: process %d exited during the upgrade", pid);
            rc = 1;
            break;
        }
        if (mg_time_monotonic_ms() - start >= bound) {
            mg_log_stderr(0, "upgrade failed: no answer from process %d within %ld ms", pid,
                          (long)bound);
            rc = 1;
            break;
        }
        mg_signal_wait_answer(20); /* an answer ends it at once */
    }
    if (rc >= 0) {
        return rc;
    }
    if (strcmp(st.state, "serving") != 0) {
        /* the old master gave itself its pid file back before saying so */
        mg_log_stderr(0, "upgrade failed: %s; process %d serves on%s",
                      st.reason[0] ? st.reason : "the new binary did not start", pid,
                      pid_file_names(ccf->pid.data, pid) ? "" : " (its pid file is not back!)");
        print_tails(tails);
        return 1;
    }
    /* the new master's workers accept: the old workers stop accepting, then the old master
     * goes once its requests are done (the seeds' WINCH + QUIT) */
    mg_log_error(MG_LOG_NOTICE, log, 0, "new master process %ld serves, stopping old master %d",
                 st.new_pid, pid);
    if (kill((pid_t)pid, SIGWINCH) != 0 || kill((pid_t)pid, SIGQUIT) != 0) {
        mg_log_error(MG_LOG_ALERT, log, errno, "kill(%d) failed", pid);
        return 1;
    }
    return 0;
}
