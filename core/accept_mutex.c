/*
 * The accept mutex (see accept_mutex.h). The listening events of a worker are registered
 * only while it holds the lock; between letting go after a round of accepts and its next
 * attempt (a zero timer: the next turn of the loop) they stay registered, and an event that
 * fires in that gap is left for later (level-triggered, it fires again).
 */
#include <event2/event.h>
#include <sys/mman.h>

#include "accept_mutex.h"
#include "cycle.h"
#include "listen.h"
#include "log.h"
#include "pool.h"
#include "server.h"
#include "shm.h"

static void mutex_unmap(void *data)
{
    munmap(data, sizeof(mg_shmtx_t));
}

mg_int_t mg_accept_mutex_create(mg_cycle_t *cycle)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    if (!ccf->accept_mutex || !ccf->master_process || ccf->worker_processes < 2 ||
        cycle->test_config) {
        return MG_OK;
    }
    void *addr =
        mmap(NULL, sizeof(mg_shmtx_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (addr == MAP_FAILED) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "mmap(MAP_ANONYMOUS|MAP_SHARED, %zu) failed",
                     sizeof(mg_shmtx_t));
        return MG_ERROR;
    }
    mg_shmtx_init(addr);
    mg_pool_cleanup_add(cycle->pool, mutex_unmap, addr);
    cycle->accept_mutex = addr;
    return MG_OK;
}

int mg_accept_mutex_used(mg_server_t *srv)
{
    return srv->worker && srv->cycle->accept_mutex != NULL;
}

static void listen_events(mg_server_t *srv, int on)
{
    mg_listening_t **ls = srv->cycle->listening.elts;
    for (size_t i = 0; i < srv->cycle->listening.nelts; i++) {
        if (on) {
            event_add(ls[i]->accept_ev, NULL);
        } else {
            event_del(ls[i]->accept_ev);
        }
    }
    srv->accept_listening = on;
}

static void retry_in(mg_server_t *srv, mg_msec_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(srv->accept_mutex_ev, &tv);
}

static void try_lock(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_server_t *srv = arg;
    mg_core_conf_t *ccf = mg_cycle_core_conf(srv->cycle);
    if (!srv->accepting) {
        return;
    }
    /* nginx's ngx_accept_disabled: a worker short of free connections leaves new ones to
     * the others */
    int busy = srv->nconnections > (mg_uint_t)(ccf->worker_connections / 8 * 7);
    if (!busy) {
        /* MG_ABORT: the holder died; the lock guards no data, it is simply ours now */
        if (mg_shmtx_trylock(srv->cycle->accept_mutex) != MG_AGAIN) {
            srv->accept_mutex_held = 1;
            if (!srv->accept_listening) {
                listen_events(srv, 1);
            }
            return;
        }
    }
    if (srv->accept_listening) {
        listen_events(srv, 0);
    }
    retry_in(srv, ccf->accept_mutex_delay);
}

void mg_accept_mutex_start(mg_server_t *srv)
{
    if (srv->accept_mutex_ev == NULL) {
        srv->accept_mutex_ev = evtimer_new(srv->base, try_lock, srv);
    }
    try_lock(-1, 0, srv);
}

void mg_accept_mutex_stop(mg_server_t *srv)
{
    if (srv->accept_mutex_ev) {
        evtimer_del(srv->accept_mutex_ev);
    }
    if (srv->accept_mutex_held) {
        srv->accept_mutex_held = 0;
        mg_shmtx_unlock(srv->cycle->accept_mutex);
    }
    srv->accept_listening = 0;
}

int mg_accept_mutex_held(mg_server_t *srv)
{
    return srv->accept_mutex_held;
}

void mg_accept_mutex_accepted(mg_server_t *srv)
{
    if (!srv->accept_mutex_held) {
        return;
    }
    srv->accept_mutex_held = 0;
    mg_shmtx_unlock(srv->cycle->accept_mutex);
    retry_in(srv, 0);
}
