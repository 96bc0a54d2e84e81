/*
 * A socket's registration with the event loop. An upstream-side socket's is malloc'ed, made
 * once per connection and handed with the fd from owner to owner (a request, the keepalive pool):
 * the HTTP upstream engine's connections (core/http/upstream_io.c), the stream proxy's
 * peers (modules/stream_proxy.c) and the Lua cosockets' connections (lua/socket_tcp.c). Nginx keeps
 * its upstream connections registered edge-triggered for their life; so does this, and re-arming
 * reading or writing is a change of handler here, never an epoll_ctl.
 *
 * Edge-triggered (mg_watch_new_et: a plain socket, on epoll): one event for reading, writing
 * and the peer's close. Its readiness is remembered (rready, wready, rdhup) until a recv or a
 * send finds the socket empty or full (EAGAIN, or short: mg_watch_read_said/write_said say
 * so); reading or writing turned on while it is known ready, or a read that left the socket
 * not found empty while reading is on (in the read handler: once it returns), gets a deferred
 * call (act) at the loop's next turn, as a level-triggered event would have fired again; a
 * deferred call that a later read or write made stale (empty, full) is dropped.
 *
 * A client connection's edge-triggered reads are one too, inside the connection
 * (mg_watch_init_et, reads only: its writes keep their own one-shot event; core/connection.c),
 * so the rule above is this file's alone, for both sides.
 *
 * Level-triggered (mg_watch_new: TLS, whose library buffers, and the other event methods; the
 * cosockets' connections, lua/socket_tcp.c): a persistent read event; reading off only forgets
 * the handler, and a report that comes while nobody reads takes the event off then, as it
 * would repeat; writes have their own events. The cosockets' is edge-triggered on epoll under
 * these rules (mg_watch_init's edge: their rdry keeps readiness), a report nobody wants only
 * noted (rready).
 */
#ifndef MG_WATCH_H
#define MG_WATCH_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <sys/types.h>

typedef struct mg_watch_s mg_watch_t;

struct mg_watch_s {
    struct event ev;
    struct event *act;         /* et: a deferred call for readiness known (made at need) */
    event_callback_fn handler; /* reads (NULL: nobody reads) */
    void *arg;
    /* (an edge-triggered watch that writes, mg_watch_new_et's, has its write handler beside
     * it, watch.c's watch_rw_t: the others never write through it) */
    unsigned reads, writes; /* et: recv and send calls so far (progress in a handler) */
    short act_what;         /* et: what the pending act reports */
    /* bytes, not bit-fields: set and cleared around every handler call of a client
     * connection's request, a plain store each */
    unsigned char rready, wready, rdhup;
    unsigned char calling, freed; /* et: in its handlers; freed meanwhile */
    unsigned char in_read, in_write;
    unsigned added : 1;
    unsigned et : 1;
    unsigned closed : 1; /* the event asks for EV_CLOSED (the peer's close) */
    unsigned rw : 1;     /* mg_watch_new_et's: writes too */
    unsigned edge : 1;   /* mg_watch_init's edge: an edge-triggered event under the
                            level-triggered rules, its owner keeping readiness (rready: a
                            report that came while nobody read) */
};

/* Whether base's event method has edge-triggered events (epoll): then every other event on
 * an edge watch's fd must be edge-triggered too (libevent will not mix them on one fd). */
int mg_watch_et_possible(struct event_base *base);
/* A level-triggered read watch for fd, not added yet. */
mg_watch_t *mg_watch_new(struct event_base *base, int fd);
/* The same in place, for a watch inside its owner's own malloc'ed struct (the cosocket's,
 * lua/socket_tcp.h, which carries its TLS state beside it); closed: the event also asks for
 * the peer's close where the event method can (EV_CLOSED: then w->closed, and a report of it
 * sets rdhup). edge: edge-triggered where the event method can (w->edge) for an owner that
 * knows when a read found the socket empty and waits only then (the cosockets' rdry): the
 * event stays registered for good, and a report that comes while nobody reads sets rready
 * instead of taking the event off. Epoll then reports sockets in the order their bytes came
 * (nginx registers every socket so), where a level-triggered socket reported once is queued
 * again at once and keeps that old place for its next bytes. */
void mg_watch_init(mg_watch_t *w, struct event_base *base, int fd, int closed, int edge);
/* An edge-triggered watch for a plain socket's new fd, not added yet (mg_watch_add once
 * connect() was called: its only epoll_ctl until the close), or NULL when the event method
 * has no edge-triggered events (`use poll`, select). */
mg_watch_t *mg_watch_new_et(struct event_base *base, int fd);
/* The same in place (memory the caller owns, zeroed here; untouched when 0 is returned) for reads
 * and the peer's close only (mg_watch_write is not for it: writes have an event of their own), or 0
 * when the event method has no edge-triggered events. mg_watch_close ends it. */
int mg_watch_init_et(mg_watch_t *w, struct event_base *base, int fd);
/* et: register it, once connect() was called (a socket not connected yet polls as hung up);
 * connected says whether connect() finished at once (then it is known writable). */
void mg_watch_add(mg_watch_t *w, int connected);
/* handler(fd, what, arg) on each read report from now on; adds the event if it is off. */
void mg_watch_read(mg_watch_t *w, event_callback_fn handler, void *arg);
/* et: reading is on and the socket is known ready: a call at the loop's next turn (in the read
 * handler, once it returns, if it read). */
void mg_watch_read_known(mg_watch_t *w);
/* Nobody reads for now (the event stays). */
void mg_watch_read_off(mg_watch_t *w);
/* Level-triggered: take the event off now (the next mg_watch_read adds it back), as a report
 * that comes while nobody reads does; before an embedded watch's memory goes. */
void mg_watch_stop(mg_watch_t *w);
/* et, mg_watch_new_et's: handler once, at the next write report (at the loop's next turn if
 * known writable). The same handler and arg as the read one get one call for both. */
void mg_watch_write(mg_watch_t *w, event_callback_fn handler, void *arg);
void mg_watch_write_off(mg_watch_t *w);
/* Nobody reads nor writes, no deferred call: between owners. */
void mg_watch_quiet(mg_watch_t *w);
/* et: what a plain recv of len bytes (n, errno) or a send said of the socket's readiness: a
 * read that filled len, or bytes before a reported FIN, leave it ready (mg_watch_read_ready);
 * EAGAIN, a short read or the end found it empty. */
void mg_watch_read_said(mg_watch_t *w, ssize_t n, size_t len);
/* et: a read through another layer (TLS) said whether input may be left that no edge will
 * report (ready: 1) or the socket was found empty (0), as mg_watch_read_said does for a plain
 * recv. */
void mg_watch_read_ready(mg_watch_t *w, int ready);
/* A read report from the loop at once, as if the socket said it (et: known ready): bytes that
 * the socket will not announce (kept by the owner) are to be read from the loop. */
void mg_watch_kick(mg_watch_t *w);
void mg_watch_write_said(mg_watch_t *w, ssize_t n, size_t len);
/* An embedded et watch's end, before the fd is closed: the event off, no handler, no deferred
 * call (in a handler too: its memory must stay until the loop comes back). */
void mg_watch_close(mg_watch_t *w);
/* Frees w and takes its event off: before the fd is closed; in a handler, once it returns.
 * NULL is a no-op. */
void mg_watch_free(mg_watch_t *w);

#endif
