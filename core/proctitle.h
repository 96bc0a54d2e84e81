/*
 * Process titles as `ps` shows them ("moongate: master process ./moongate -c x.conf",
 * "moongate: worker process"): the title is written over the argv memory of the process.
 */
#ifndef MG_PROCTITLE_H
#define MG_PROCTITLE_H

/* Call once, first thing in main: copies argv and the environment elsewhere so their memory
 * can hold the title, and keeps the original command line for mg_proctitle_args(). The argv
 * strings themselves must not be used afterwards; argv[i] pointers are redirected to copies. */
void mg_proctitle_init(int argc, char **argv);
/* "moongate: " + the formatted text, truncated to the room argv had. No-op before init. */
void mg_proctitle_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The command line as started, space separated ("./moongate -p /srv/"). */
const char *mg_proctitle_args(void);

#endif
