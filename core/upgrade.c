/*
 * USR2: handing the listening sockets and the shared memory zones (shm.c: memfds) to a new
 * binary. The sockets are never re-bound, so the kernel keeps queueing connections on them
 * throughout, and whichever process accepts first (old or new workers) serves them: nothing
 * queued is lost. The zones keep their contents (shared dicts, limits, TLS sessions and keys).
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "cycle.h"
#include "listen.h"
#include "shm.h"
#include "upgrade.h"

extern char **environ;

static char **saved_argv;
static char binary[2 * PATH_MAX + 2];
static char *inherited;
static const char *inherited_var = "MOONGATE";
static int notify_fd = -1;

static void resolve_binary(const char *arg0)
{
    if (strchr(arg0, '/')) {
        if (arg0[0] == '/') {
            snprintf(binary, sizeof(binary), "%s", arg0);
            return;
        }
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            snprintf(binary, sizeof(binary), "%s", arg0);
            return;
        }
        snprintf(binary, sizeof(binary), "%s/%s", cwd, arg0);
        return;
    }
    /* started through $PATH: the file the shell found, by the name found there */
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        char cand[PATH_MAX];
        snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, len ? path : ".", arg0);
        if (access(cand, X_OK) == 0) {
            if (cand[0] == '/') {
                snprintf(binary, sizeof(binary), "%s", cand);
            } else {
                char cwd[PATH_MAX];
                snprintf(binary, sizeof(binary), "%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".",
                         cand);
            }
            return;
        }
        path = colon ? colon + 1 : NULL;
    }
    snprintf(binary, sizeof(binary), "%s", arg0);
}

void mg_upgrade_init(char **argv)
{
    saved_argv = argv;
    resolve_binary(argv[0]);
    const char *env = getenv("MOONGATE");
    if (env && *env) {
        inherited = mg_strdup(env);
    } else if ((env = getenv("NGINX")) && *env) {
        /* nginx's USR2 execs the binary on disk with its sockets in $NGINX, in the same
         * form: a moongate put there takes over a running nginx as it would an old moongate */
        inherited = mg_strdup(env);
        inherited_var = "NGINX";
    }
    unsetenv("MOONGATE");
    unsetenv("NGINX");
    /* before anything else maps memory: the zones go back where the old binary had them */
    env = getenv("MOONGATE_SHM");
    if (env && *env && inherited) {
        mg_shm_inherit(env);
    }
    unsetenv("MOONGATE_SHM");
    env = getenv("MOONGATE_UPGRADE");
    if (env && *env && inherited) {
        char *end;
        long fd = strtol(env, &end, 10);
        if (*end == '\0' && fd > STDERR_FILENO && fd < INT_MAX &&
            fcntl((int)fd, F_SETFD, FD_CLOEXEC) == 0) {
            notify_fd = (int)fd;
            /* at once: the old master then waits for MG_UPGRADE_SERVING, not for the sign of
             * life it takes from an older binary */
            if (write(notify_fd, (char[]){MG_UPGRADE_HELLO}, 1) != 1) {
                close(notify_fd);
                notify_fd = -1;
            }
        }
    }
    unsetenv("MOONGATE_UPGRADE");
}

void mg_upgrade_notify_serving(void)
{
    if (notify_fd < 0) {
        return;
    }
    if (write(notify_fd, (char[]){MG_UPGRADE_SERVING}, 1) != 1) {
        /* the old master is gone: nobody waits for the news */
    }
    close(notify_fd);
    notify_fd = -1;
}

int mg_upgrade_notify_fd(void)
{
    return notify_fd;
}

const char *mg_upgrade_inherited(void)
{
    return inherited;
}

const char *mg_upgrade_inherited_var(void)
{
    return inherited_var;
}

void mg_upgrade_oldbin_path(mg_cycle_t *cycle, char *buf, size_t size)
{
    snprintf(buf, size, "%s.oldbin", mg_cycle_core_conf(cycle)->pid.data);
}

void mg_upgrade_restore_pid(mg_cycle_t *cycle)
{
    char oldbin[4200];
    mg_upgrade_oldbin_path(cycle, oldbin, sizeof(oldbin));
    const char *pid = mg_cycle_core_conf(cycle)->pid.data;
    if (rename(oldbin, pid) != 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "rename() %s back to %s failed", oldbin, pid);
    }
}

pid_t mg_upgrade_exec(mg_cycle_t *cycle, int *serving)
{
    char oldbin[4200], fds[1024], var[1100], zones[1024], zvar[1100], uvar[64];
    *serving = -1;
    const char *pid_path = mg_cycle_core_conf(cycle)->pid.data;
    mg_upgrade_oldbin_path(cycle, oldbin, sizeof(oldbin));
    if (rename(pid_path, oldbin) != 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "rename() %s to %s failed", pid_path, oldbin);
        return -1;
    }
    mg_listen_fds_text(cycle, fds, sizeof(fds));
    snprintf(var, sizeof(var), "MOONGATE=%s", fds);
    mg_shm_fds_text(cycle, zones, sizeof(zones), 0);
    snprintf(zvar, sizeof(zvar), "MOONGATE_SHM=%s", zones);
    /* the new master writes a byte here once its workers accept: the old one then knows the
     * upgrade took (upgrade_timeout), without polling files or the process table */
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "pipe() failed while executing new binary");
        mg_upgrade_restore_pid(cycle);
        return -1;
    }
    snprintf(uvar, sizeof(uvar), "MOONGATE_UPGRADE=%d", pipefd[1]);
    size_t n = 0;
    while (environ[n]) {
        n++;
    }
    char **env = mg_alloc((n + 4) * sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "MOONGATE=", 9) != 0 && strncmp(environ[i], "MOONGATE_SHM=", 13) &&
            strncmp(environ[i], "MOONGATE_UPGRADE=", 17)) {
            env[k++] = environ[i];
        }
    }
    env[k++] = var;
    env[k++] = zvar;
    env[k++] = uvar;
    env[k] = NULL;

    pid_t pid = fork();
    if (pid == 0) {
        /* only the listening sockets and the shared memory zones cross the exec; everything
         * else is close-on-exec */
        mg_shm_fds_text(cycle, zones, sizeof(zones), 1);
        fcntl(pipefd[1], F_SETFD, 0);
        mg_listening_t **ls = cycle->listening.elts;
        for (size_t i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i]->fd >= 0) {
                fcntl(ls[i]->fd, F_SETFD, 0);
            }
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(binary, saved_argv, env);
        mg_log_error(MG_LOG_ALERT, cycle->log, errno,
                     "execve() failed while executing new binary process \"%s\"", binary);
        _exit(1);
    }
    free(env);
    close(pipefd[1]);
    if (pid < 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "fork() failed while executing new binary");
        close(pipefd[0]);
        mg_upgrade_restore_pid(cycle);
        return -1;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    *serving = pipefd[0];
    mg_log_error(MG_LOG_NOTICE, cycle->log, 0, "start new binary process %d", (int)pid);
    return pid;
}
