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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cycle.h"
#include "signals.h"
#include "upgrade.h"

static void state_path(mg_cycle_t *cycle, char *buf, size_t size)
{
    snprintf(buf, size, "%s.upgrade", mg_cycle_core_conf(cycle)->pid.data);
}

void mg_upgrade_write_state(mg_cycle_t *cycle, mg_uint_t seq, pid_t new_pid, const char *state,
                            const char *reason)
{
    char path[4200], tmp[4300], text[1024];
    state_path(cycle, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
    int n = snprintf(text, sizeof(text), "%lu %d %d %s\n%s%s", (unsigned long)seq, (int)getpid(),
                     (int)new_pid, state, reason ? reason : "", reason ? "\n" : "");
    if (n < 0 || (size_t)n >= sizeof(text)) {
        n = (int)strlen(text);
    }
    /* written aside and renamed, so the command never reads half of it */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "open() \"%s\" failed", tmp);
        return;
    }
    ssize_t w = write(fd, text, (size_t)n);
    close(fd);
    if (w != n || rename(tmp, path) != 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "writing \"%s\" failed", path);
        unlink(tmp);
    }
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
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return atol(buf) == (long)pid;
}

static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

int mg_upgrade_command(mg_cycle_t *cycle, mg_log_t *log)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    mg_log_error(MG_LOG_NOTICE, log, 0, "signal process started");
    int pid = mg_signal_read_pid(ccf->pid.data, log);
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

    if (kill((pid_t)pid, SIGUSR2) != 0) {
        mg_log_error(MG_LOG_ALERT, log, errno, "kill(%d, %d) failed", pid, SIGUSR2);
        return 1;
    }
    /* the old master decides (upgrade_timeout, its own configuration's); this bound only
     * covers a master that never answers (one that ignores USR2, say) */
    mg_msec_t bound = ccf->upgrade_timeout + 15000;
    state_t st;
    for (mg_msec_t waited = 0;; waited += 10) {
        if (read_state(path, &st) == 0 && st.pid == pid && st.seq > before.seq &&
            strcmp(st.state, "running") != 0) {
            break;
        }
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            mg_log_stderr(0, "upgrade failed: process %d exited during the upgrade", pid);
            return 1;
        }
        if (waited >= bound) {
            mg_log_stderr(0, "upgrade failed: no answer from process %d within %ld ms", pid,
                          (long)bound);
            return 1;
        }
        nap(10);
    }
    if (strcmp(st.state, "serving") != 0) {
        /* the old master gave itself its pid file back before saying so */
        mg_log_stderr(0, "upgrade failed: %s; process %d serves on%s",
                      st.reason[0] ? st.reason : "the new binary did not start", pid,
                      pid_file_names(ccf->pid.data, pid) ? "" : " (its pid file is not back!)");
        for (size_t i = 0; i < 2; i++) {
            if (tails[i].name) {
                print_errors(&tails[i]);
            }
        }
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
