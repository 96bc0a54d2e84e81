/*
 * Binary upgrade (USR2): the old master renames its pid file to "<pid>.oldbin" and forks and
 * execs the binary on disk with its listening sockets open and listed in $MOONGATE; the new
 * master adopts them by address instead of binding (listen.c: mg_listen_inherit).
 */
#ifndef MG_UPGRADE_H
#define MG_UPGRADE_H

#include <sys/types.h>

#include "mg.h"

/* What a new binary writes on the pipe its old master handed it ($MOONGATE_UPGRADE). */
#define MG_UPGRADE_HELLO 'H'   /* first thing: it speaks this protocol */
#define MG_UPGRADE_SERVING 'S' /* its first workers accept */

/* At start: remember argv (for the exec) and the binary as an absolute path, as it was
 * started (argv[0] against the working directory, or found on $PATH). */
void mg_upgrade_init(char **argv);
/* $MOONGATE (or, without it, nginx's $NGINX) as this process found it at start ("3;4;"), or
 * NULL; both variables are removed from the environment so that workers and later upgrades do
 * not see them. */
const char *mg_upgrade_inherited(void);
/* The name of the variable mg_upgrade_inherited came from, for messages. */
const char *mg_upgrade_inherited_var(void);
/* Rename the pid file to .oldbin and start the new binary; its pid, or -1 (logged, the pid
 * file is back in place). *serving gets the read end of a pipe (non-blocking) on which the new
 * master writes one byte once its workers accept, or -1. */
pid_t mg_upgrade_exec(mg_cycle_t *cycle, int *serving);
/* New binary: tell the old master that our workers accept (once; nothing when we were not
 * started by a USR2). */
void mg_upgrade_notify_serving(void);
/* The pipe to the old master (a forked worker closes it), or -1. */
int mg_upgrade_notify_fd(void);
/* The new binary exited: give the pid file its name back. */
void mg_upgrade_restore_pid(mg_cycle_t *cycle);
/* Old master: record the state of upgrade number `seq` in "<pid>.upgrade" for `-s upgrade`:
 * "SEQ PID NEWPID running|serving|failed" and the reason of a failure. */
void mg_upgrade_write_state(mg_cycle_t *cycle, mg_uint_t seq, pid_t new_pid, const char *state,
                            const char *reason);
/* `moongate -s upgrade` (upgrade_cmd.c): USR2, wait for the old master's verdict, then WINCH
 * and QUIT it. The exit code: 0 once the new binary serves, 1 (and why, on stderr) when it did
 * not and the old master serves on. */
int mg_upgrade_command(mg_cycle_t *cycle, mg_log_t *log);

/* "<pid>.oldbin" for the cycle's pid file. */
void mg_upgrade_oldbin_path(mg_cycle_t *cycle, char *buf, size_t size);

#endif
