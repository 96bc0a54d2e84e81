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
#define MG_CMD_SHED                                                                                \
    'c'                   /* beyond the bound of draining generations: as drain, idle              \
                             connections wait MG_SHED_GRACE at most for a next request */
#define MG_CMD_REOPEN 'r' /* USR1: reopen the log files */
#define MG_CMD_ACCEPT 'a' /* a reload's worker: the old generation stopped accepting, start */
/* Worker -> master. */
#define MG_MSG_READY 'R'     /* set up (modules' init_worker done), able to accept */
#define MG_MSG_ACCEPTING 'A' /* accepting on every listening socket of its generation */
#define MG_MSG_STOPPED 'S'   /* accepts no more connections */

/* In the master, before forking a generation's workers: look the user and group up once
 * (uid, gid, supplementary groups), so the workers need no NSS lookup. Errors are left for the
 * worker to report, which then looks them up itself. */
void mg_worker_resolve_user(mg_cycle_t *cycle);
/* The slot of a generation's privileged agent (cycle->privileged_agent): a process run like a
 * worker that never accepts, keeps the master's user and gets no CPU affinity. */
#define MG_AGENT_SLOT ((mg_uint_t)-1)

/* Run the worker in the freshly forked child; never returns. `slot` is the worker's index
 * in its generation (CPU affinity). With accept_now 0 it waits for MG_CMD_ACCEPT before it
 * accepts (a reload's worker: the old generation still accepts). Exit code 2 means a fatal
 * setup error (not respawned). */
/* A helper process of the generation (cycle.h): title, environment and user as a worker's,
 * then its run; exits with 0 when run returns. */
void mg_worker_run_helper(mg_cycle_t *cycle, int channel, const mg_cycle_helper_t *h)
    __attribute__((noreturn));
void mg_worker_run(mg_cycle_t *cycle, int channel, mg_uint_t slot, int accept_now)
    __attribute__((noreturn));

#endif
