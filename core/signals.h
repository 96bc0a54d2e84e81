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
/* The sender of the `sig` just taken when it asked for an answer (mg_signal_ask), else 0. */
pid_t mg_signal_asker(int sig);

/* Commands waiting for the master's answer: the reload verdict or the upgrade's outcome is
 * written, then each gets SIGURG (a process signal, not a file watch: closing an inotify
 * descriptor waits for an SRCU grace period, 15-25 ms, which was most of `-s reload`'s time). */
typedef struct {
    pid_t pid[16];
    size_t n;
} mg_signal_waiters_t;
/* Add one (beyond 16, that command finds the state by reading it again, as without answer). */
void mg_signal_waiters_add(mg_signal_waiters_t *w, pid_t pid);
/* Move every waiter of `from` into `to`. */
void mg_signal_waiters_move(mg_signal_waiters_t *to, mg_signal_waiters_t *from);
/* Send each SIGURG, then forget them. */
void mg_signal_waiters_answer(mg_signal_waiters_t *w);
/* A command's side: send `sig` to `pid` saying that we wait for an answer (sigqueue with a
 * value the master recognizes; SIGURG blocked first). 0 or -1 (errno), as kill(). */
int mg_signal_ask(pid_t pid, int sig);
/* Wait for an answer (SIGURG), at most `ms`. */
void mg_signal_wait_answer(int ms);

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

/* Record the outcome of reload number `seq` (0: the start) next to the pid file, in
 * "<pid>.reload": "SEQ PID GENERATION ok" or "... failed" and the error line. This file is
 * the channel to `-s reload`: it reads it, when answered or every few ms, for a number higher
 * than the one it saw before sending HUP. */
void mg_signal_write_verdict(mg_cycle_t *cycle, mg_uint_t seq, mg_uint_t generation,
                             const char *error);
/* Record that reload number `seq` has started ("SEQ PID GENERATION running"): a `-s reload`
 * whose HUP arrives now waits for the next one, which reads the configuration afresh. */
void mg_signal_write_running(mg_cycle_t *cycle, mg_uint_t seq, mg_uint_t generation);

#endif
