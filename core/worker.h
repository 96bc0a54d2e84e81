/*
 * A worker process: forked by the master on one generation, it builds its own event loop,
 * drops privileges, accepts and serves until told to drain, quit or stop. It talks to the
 * master over a socketpair (the "channel"), one byte per message.
 */
#ifndef MG_WORKER_H
#define MG_WORKER_H

#include "mg.h"

/* Master -> worker. */
#define MG_CMD_DRAIN                                                                               \
    'q'                   /* reload/upgrade/WINCH: stop accepting, keep idle keepalive             \
                             connections for their next request, exit when none is left */
#define MG_CMD_QUIT 'Q'   /* graceful shutdown: as drain, idle connections closed at once */
#define MG_CMD_REOPEN 'r' /* USR1: reopen the log files */
/* Worker -> master. */
#define MG_MSG_READY 'R'   /* accepting on every listening socket of its generation */
#define MG_MSG_STOPPED 'S' /* accepts no more connections */

/* Run the worker in the freshly forked child; never returns. `slot` is the worker's index
 * in its generation (CPU affinity). Exit code 2 means a fatal setup error (not respawned). */
void mg_worker_run(mg_cycle_t *cycle, int channel, mg_uint_t slot) __attribute__((noreturn));

#endif
