/*
 * Binary upgrade (USR2): the old master renames its pid file to "<pid>.oldbin" and forks and
 * execs the binary on disk with its listening sockets open and listed in $MOONGATE; the new
 * master adopts them by address instead of binding (listen.c: mg_listen_inherit).
 */
#ifndef MG_UPGRADE_H
#define MG_UPGRADE_H

#include <sys/types.h>

#include "mg.h"

/* At start: remember argv (for the exec) and the binary as an absolute path, as it was
 * started (argv[0] against the working directory, or found on $PATH). */
void mg_upgrade_init(char **argv);
/* $MOONGATE as this process found it at start ("3;4;"), or NULL; the variable is removed
 * from the environment so that workers and later upgrades do not see it. */
const char *mg_upgrade_inherited(void);
/* Rename the pid file to .oldbin and start the new binary; its pid, or -1 (logged, the pid
 * file is back in place). */
pid_t mg_upgrade_exec(mg_cycle_t *cycle);
/* The new binary exited: give the pid file its name back. */
void mg_upgrade_restore_pid(mg_cycle_t *cycle);
/* "<pid>.oldbin" for the cycle's pid file. */
void mg_upgrade_oldbin_path(mg_cycle_t *cycle, char *buf, size_t size);

#endif
