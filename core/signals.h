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

/* The pid a pid file names, or -1 (logged: it cannot be read, or holds no pid). */
int mg_signal_read_pid(const char *path, mg_log_t *log);

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
