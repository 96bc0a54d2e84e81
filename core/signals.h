/*
 * Signals: nginx's table (names, -s words, what each one means), the flag-only handler the
 * master runs on, the `-s stop|quit|reopen|reload` sender, and the reload verdict file by
 * which a master tells `-s reload` whether the new configuration was taken.
 */
#ifndef MG_SIGNALS_H
#define MG_SIGNALS_H

#include <signal.h>
#include <sys/types.h>

#include "mg.h"

/* "SIGHUP" for SIGHUP; "" for a signal moongate does not handle. */
const char *mg_signal_name(int sig);
/* Install the master's handler for TERM INT QUIT HUP USR1 USR2 WINCH CHLD and block them:
 * they are delivered only while the master waits (ppoll with the mask `*wait_mask`), so
 * the handler never interrupts the master's own work. */
void mg_signal_master_init(sigset_t *wait_mask);
/* Take and clear the pending flag of `sig`; *from gets the sender's pid (0 when unknown). */
int mg_signal_take(int sig, pid_t *from);

/* `moongate -s NAME`: signal the process named by the pid file. For "reload", wait (at most
 * 10 s) for the master's verdict and print its error on stderr. Returns the exit code. */
int mg_signal_process(mg_cycle_t *cycle, mg_log_t *log, const char *name);

/* The pid a pid file names, or -1 (it cannot be read, or holds no pid: logged, unless `log`
 * is NULL). */
int mg_signal_read_pid(const char *path, mg_log_t *log);
/* A signalling command's master: the pid its configuration's pid file names, or -1 (logged).
 * Logs "signal process started" first, as nginx's signaller. */
int mg_signal_master_pid(mg_cycle_t *cycle, mg_log_t *log);

/* At exit: remove "<pid>.reload" when it is ours (not when a new binary wrote its own). */
void mg_signal_remove_verdict(mg_cycle_t *cycle);
/* Whether master `pid` is moongate's: it writes "<pid>.reload" from its start (nginx writes
 * no state files, nor did moongate before them). */
int mg_signal_speaks(mg_cycle_t *cycle, int pid);

/* Write a state file for a command that waits on it ("<pid>.reload", "<pid>.upgrade"):
 * written aside and renamed, so a reader sees the old text or the new one, whole. */
void mg_state_file_write(mg_cycle_t *cycle, const char *path, const char *text);
/* A watch (inotify) on the directory of `path` for renamed, written or removed files, or -1
 * when none can be set (then the wait sleeps). Opened before the signal whose answer it
 * waits for; closed with close(). */
int mg_state_watch_open(const char *path);
/* Wait until the watched directory changes, or `ms` passed. */
void mg_state_watch_wait(int fd, int ms);

/* Record the outcome of reload number `seq` (0: the start) next to the pid file, in
 * "<pid>.reload": "SEQ PID GENERATION ok" or "... failed" and the error line. This file is
 * the channel to `-s reload`: it polls it for a number higher than the one it saw before
 * sending HUP. */
void mg_signal_write_verdict(mg_cycle_t *cycle, mg_uint_t seq, mg_uint_t generation,
                             const char *error);
/* Record that reload number `seq` has started ("SEQ PID GENERATION running"): a `-s reload`
 * whose HUP arrives now waits for the next one, which reads the configuration afresh. */
void mg_signal_write_running(mg_cycle_t *cycle, mg_uint_t seq, mg_uint_t generation);

#endif
