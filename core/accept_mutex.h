/*
 * accept_mutex: the workers of a generation take turns at accepting, as nginx's do. The
 * holder of a process-shared lock listens; the others retry every accept_mutex_delay. The
 * holder lets go after each round of accepts and competes again at its loop's next turn, so
 * a busy worker does not keep the lock from the others for long; a worker with 7/8 of its
 * worker_connections in use does not compete. A holder that dies is replaced at the others'
 * next try (a trylock that finds no process with the holder's pid takes the lock over).
 */
#ifndef MG_ACCEPT_MUTEX_H
#define MG_ACCEPT_MUTEX_H

#include "mg.h"

/* The lock for a generation whose workers use one (accept_mutex on, worker_processes > 1):
 * made in shared memory while the master builds it. MG_OK or MG_ERROR (logged). */
mg_int_t mg_accept_mutex_create(mg_cycle_t *cycle);
/* Whether the server's accepting goes through the lock: a worker of such a generation. */
int mg_accept_mutex_used(mg_server_t *srv);
/* Start competing (instead of listening at once) / stop, letting the lock go if held. */
void mg_accept_mutex_start(mg_server_t *srv);
void mg_accept_mutex_stop(mg_server_t *srv);
/* A listening socket is readable: whether this worker may accept now (it holds the lock);
 * after the accepts it calls mg_accept_mutex_accepted. */
int mg_accept_mutex_held(mg_server_t *srv);
void mg_accept_mutex_accepted(mg_server_t *srv);

#endif
