/*
 * The process table as /proc shows it: a master's children, for the upgrade code (is the new
 * binary running workers; how many workers does this master have).
 */
#ifndef MG_PROC_H
#define MG_PROC_H

#include <sys/types.h>

/* Call fn(child, arg) for each process whose parent is ppid, until fn returns non-zero;
 * returns that value, or 0. */
int mg_proc_each_child(pid_t ppid, int (*fn)(pid_t child, void *arg), void *arg);

#endif
