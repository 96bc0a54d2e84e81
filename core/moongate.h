/*
 * The embedding API: build a server from a config file, run it on its own event loop,
 * reload and stop it. The moongate binary (core/main.c) is the first user of this API.
 * Everything else under core/ is internal.
 */
#ifndef MOONGATE_H
#define MOONGATE_H

typedef struct mg_server_s mg_server_t;

typedef struct {
    const char *prefix;     /* directory relative paths resolve against; "/" terminated or not */
    const char *conf_file;  /* absolute, or relative to prefix */
    const char *directives; /* extra top-level directives, parsed before the file (-g) */
    const char *error_log;  /* early error log: a path or "stderr"; NULL = logs/error.log */
} moongate_options_t;

/* Parse and check the configuration and open the listening sockets. NULL on error (logged). */
mg_server_t *moongate_server_create(const moongate_options_t *opts);
/* Serve until stopped: returns 0 after a graceful or fast stop, -1 on a loop failure. */
int moongate_server_run(mg_server_t *srv);
/* Re-read the configuration; on error the running one stays. 0 or -1. */
int moongate_server_reload(mg_server_t *srv);
/* Ask the loop to stop: gracefully (finish requests) or at once. Callable from the loop. */
void moongate_server_stop(mg_server_t *srv, int graceful);
void moongate_server_destroy(mg_server_t *srv);

#endif
