/*
 * The process table as /proc shows it: a master's children and titles, for the upgrade code
 * (is the new binary running workers; how many workers does this master have) and the
 * signaller (is the master nginx's).
 */
#ifndef MG_PROC_H
#define MG_PROC_H

#include <sys/types.h>

/* Call fn(child, arg) for each process whose parent is ppid, until fn returns non-zero;
 * returns that value, or 0. */
int mg_proc_each_child(pid_t ppid, int (*fn)(pid_t child, void *arg), void *arg);
/* The title of process pid as `ps` shows it (its /proc cmdline up to the first NUL) in buf, ""
 * when it cannot be read; returns buf. */
char *mg_proc_title(pid_t pid, char *buf, size_t size);

#endif
