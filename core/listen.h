/*
 * Listening sockets of a generation. The http module declares them while parsing (one per
 * bound address); the runtime opens them, reusing an equal socket of the previous generation
 * so a reload never re-binds a port that is already serving.
 */
#ifndef MG_LISTEN_H
#define MG_LISTEN_H

#include <event2/event.h>
#include <sys/socket.h>

#include "mg.h"

struct mg_listening_s {
    int fd;
    struct sockaddr_storage sockaddr;
    socklen_t socklen;
    char addr_text[128]; /* "127.0.0.1:8080", "[::1]:8080", "unix:/path" */
    int backlog;
    int rcvbuf; /* -1: not given, the system's */
    int sndbuf;
    int fastopen;  /* TCP_FASTOPEN queue length, -1 not given */
    int keepalive; /* so_keepalive: -1 unset, 0 off, 1 on */
    int keepidle, keepintvl, keepcnt; /* so_keepalive=idle:intvl:cnt, 0 not given */
    size_t pool_size;                 /* an accepted connection's pool blocks; 0: the default */
    size_t pool_first; /* its first block at least: what its protocol puts there on every one */
    unsigned reuseport : 1;
    unsigned ipv6only : 1;
    unsigned deferred : 1;
    unsigned wildcard : 1;
    unsigned inherited : 1; /* fd came from the previous generation or the old binary */
    unsigned udp : 1;       /* SOCK_DGRAM (stream's "listen ... udp"): no accept; each turn of
                               readiness calls read_datagrams */
    struct mg_listening_s *previous; /* while opening: the previous generation's socket taken */
    void *servers;          /* protocol data: the http address configs for this socket */
    void (*handler)(mg_connection_t *c); /* protocol entry for an accepted connection */
    /* udp: the protocol reads the socket, one datagram or (all) until it is empty */
    void (*read_datagrams)(mg_listening_t *ls, int all);
    struct event *accept_ev;
    mg_cycle_t *cycle;
};

/* Parse "addr:port", "port", "[v6]:port", "unix:/p" into ls->sockaddr; NULL or an error phrase. */
const char *mg_listen_parse_addr(mg_str_t text, struct sockaddr_storage *ss, socklen_t *len,
                                 int *wildcard);
/* Text form of an address ("127.0.0.1:80"). */
size_t mg_sockaddr_text(const struct sockaddr *sa, char *buf, size_t size, int with_port);
int mg_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b, int compare_port);
in_port_t mg_sockaddr_port(const struct sockaddr *sa);
/* A copy of address sa (len bytes) in pool, zeroes after it: a unix path is a string, and at
 * least a struct sockaddr's bytes may be read (an unnamed unix peer's is its family alone). */
struct sockaddr *mg_sockaddr_dup(mg_pool_t *pool, const void *sa, socklen_t len);
/* The bytes mg_sockaddr_dup takes for it (copies made elsewhere keep its layout). */
size_t mg_sockaddr_room(const void *sa, socklen_t len);

/* Open (or inherit from `old`) every listening socket of the cycle, and give each the options
 * its listen asked for, as nginx does at every (re)configuration: an inherited socket gets
 * rcvbuf, sndbuf, so_keepalive and fastopen again, a changed backlog (listen() again) and
 * deferred turned on or off; a failure there is an [alert] and ignored. MG_OK or MG_ERROR
 * (logged). */
mg_int_t mg_listen_open_all(mg_cycle_t *cycle, mg_cycle_t *old);
/* moongate -t's check, as nginx -t's: every address can be bound (one in use passes: it is the
 * running server's); an [emerg] on `log` and MG_ERROR for the first that cannot. Nothing is
 * left open or created. */
mg_int_t mg_listen_test_all(mg_cycle_t *cycle, mg_log_t *log);
/* Close the listening sockets of `cycle` that `keep` (may be NULL) did not inherit. */
void mg_listen_close_unused(mg_cycle_t *cycle, mg_cycle_t *keep);
/* Close this process's copy of every listening socket of `cycle`; a unix socket's file is
 * removed only with `unlink_unix` (not by a worker, nor by a master whose new binary runs). */
void mg_listen_close_all(mg_cycle_t *cycle, int unlink_unix);
/* Adopt listening sockets handed over by an old binary ("3;4;" in $MOONGATE, or nginx's $NGINX:
 * `var` names it in messages): each one whose address the configuration lists takes that
 * socket instead of binding; the others are closed. Call before mg_listen_open_all. */
void mg_listen_inherit(mg_cycle_t *cycle, const char *fds, const char *var);
/* "3;4;" for the cycle's open listening sockets, for the new binary's environment. */
void mg_listen_fds_text(mg_cycle_t *cycle, char *buf, size_t size);

#endif
