/*
 * The master process: it owns the generations (configurations and their listening sockets)
 * and the log files, starts and watches the workers, and turns signals into actions (reload,
 * upgrade, WINCH, shutdown). It never serves a connection and runs no event loop.
 */
#ifndef MG_MASTER_H
#define MG_MASTER_H

#include "mg.h"

/* Run the master on the server's first generation (listeners open, pid file written).
 * Returns the process exit code once every worker is gone after QUIT/TERM/INT; the pid file
 * (or pid.oldbin) has been removed by then. */
int mg_master_run(mg_server_t *srv, int daemonized);

#endif
