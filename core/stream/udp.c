/*
 * UDP sessions of stream{}: the listening socket is read here (no accept), one datagram a
 * readiness as nginx does (it is level-triggered: what is left raises it again), or up to
 * UDP_READS with multi_accept; a datagram from a client address that has a session in this
 * process goes to that session's queue, any other starts a session on a connection of its
 * own. The sessions of a socket send on one dup of it (close-on-exec, as the socket), made
 * once per process and closed with the generation (so that they outlive the listener's own
 * fd, which a quitting worker or a reload closes; the generation lives as long as its
 * connections); their connections do not close it (shared_fd). The session's recv takes
 * datagrams one at a time; its send answers with sendto() to the client.
 */
#include <fcntl.h>
#include <unistd.h>

#include "server.h"
#include "stream.h"

#define UDP_MAX 65535
_Static_assert(UDP_MAX <= MG_SERVER_SCRATCH, "a datagram fits the server's scratch buffer");
#define UDP_READS 64 /* datagrams read per readiness, so that one flood cannot hold the loop */

typedef struct udp_dgram_s {
    struct udp_dgram_s *next;
    size_t len;
    char data[];
} udp_dgram_t;

typedef struct udp_conn_s {
    mg_connection_t *c;
    mg_listening_t *ls;
    udp_dgram_t *head, *tail;
    /* the datagram being handed over, still in the read buffer: recv takes it from there,
     * else it is queued (copied) once the handler returns (deliver) */
    const char *lent;
    size_t lent_len;
    struct udp_conn_s *prev, *next; /* its bucket of the socket's table, for the lookup */
    unsigned linked : 1;
} udp_conn_t;

/* per listening socket, per process: its sessions by client address and port, so that a
 * datagram finds its session in constant time however many clients there are */
typedef struct {
    udp_conn_t **buckets;
    size_t size; /* a power of two; grown to keep one session a bucket at most on average */
    size_t n;
    int fd; /* the sessions' dup of the socket, -1 until the first one */
} udp_table_t;

static void table_free(void *data)
{
    udp_table_t *t = data;
    if (t->fd >= 0) {
        close(t->fd);
    }
    free(t->buckets);
    free(t);
}

static udp_table_t *table_of(mg_listening_t *ls)
{
    mg_stream_port_t *port = ls->servers;
    if (port->udp_sessions == NULL) {
        /* made by the process that reads the socket; freed with its generation */
        udp_table_t *t = mg_calloc(sizeof(udp_table_t));
        t->size = 64;
        t->fd = -1;
        t->buckets = mg_calloc(t->size * sizeof(udp_conn_t *));
        mg_pool_cleanup_add(ls->cycle->pool, table_free, t);
        port->udp_sessions = t;
    }
    return port->udp_sessions;
}

/* FNV-1a over the address and the port */
static size_t addr_hash(const struct sockaddr *sa)
{
    const unsigned char *p = NULL;
    size_t len = 0;
    in_port_t port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        p = (const unsigned char *)&sin->sin_addr;
        len = sizeof(sin->sin_addr);
        port = sin->sin_port;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        p = (const unsigned char *)&sin6->sin6_addr;
        len = sizeof(sin6->sin6_addr);
        port = sin6->sin6_port;
    }
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    h = (h ^ (port & 0xff)) * 16777619u;
    h = (h ^ (port >> 8)) * 16777619u;
    return h;
}

static void bucket_add(udp_table_t *t, udp_conn_t *u)
{
    udp_conn_t **b = &t->buckets[addr_hash(u->c->sockaddr) & (t->size - 1)];
    u->prev = NULL;
    u->next = *b;
    if (*b) {
        (*b)->prev = u;
    }
    *b = u;
}

static void table_add(udp_table_t *t, udp_conn_t *u)
{
    if (t->n >= t->size) {
        udp_conn_t **old = t->buckets;
        size_t osize = t->size;
        t->size *= 2;
        t->buckets = mg_calloc(t->size * sizeof(udp_conn_t *));
        for (size_t i = 0; i < osize; i++) {
            for (udp_conn_t *v = old[i], *next; v; v = next) {
                next = v->next;
                bucket_add(t, v);
            }
        }
        free(old);
    }
    bucket_add(t, u);
    t->n++;
    u->linked = 1;
}

static udp_conn_t *table_find(udp_table_t *t, const struct sockaddr_storage *ss)
{
    udp_conn_t *u = t->buckets[addr_hash((const struct sockaddr *)ss) & (t->size - 1)];
    /* a session closed in this turn of the loop stays listed until its connection is freed:
     * the next datagram from its client starts a new one instead of being lost */
    while (u &&
           (u->c->closed || !mg_sockaddr_equal(u->c->sockaddr, (const struct sockaddr *)ss, 1))) {
        u = u->next;
    }
    return u;
}

static udp_conn_t *udp_of(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    return s ? s->udp : NULL;
}

size_t mg_stream_udp_first_len(void *udp)
{
    udp_conn_t *u = udp;
    return u->lent ? u->lent_len : u->head ? u->head->len : 0;
}

static ssize_t udp_recv(mg_connection_t *c, char *buf, size_t len)
{
    udp_conn_t *u = udp_of(c);
    if (u && u->lent) {
        size_t n = mg_min(len, u->lent_len); /* as recv(2): the rest is dropped */
        memcpy(buf, u->lent, n);
        u->lent = NULL;
        return (ssize_t)n;
    }
    udp_dgram_t *d = u ? u->head : NULL;
    if (d == NULL) {
        errno = EAGAIN;
        return -1;
    }
    u->head = d->next;
    if (u->head == NULL) {
        u->tail = NULL;
    }
    size_t n = mg_min(len, d->len); /* as recv(2) on a datagram socket: the rest is dropped */
    memcpy(buf, d->data, n);
    free(d);
    return (ssize_t)n;
}

static ssize_t udp_send(mg_connection_t *c, const char *buf, size_t len)
{
    return sendto(c->fd, buf, len, MSG_NOSIGNAL, c->sockaddr, c->socklen);
}

void mg_stream_udp_detach(mg_connection_t *c)
{
    udp_conn_t *u = udp_of(c);
    if (u == NULL || !u->linked) {
        return;
    }
    udp_table_t *t = table_of(u->ls);
    if (u->prev) {
        u->prev->next = u->next;
    } else {
        t->buckets[addr_hash(u->c->sockaddr) & (t->size - 1)] = u->next;
    }
    if (u->next) {
        u->next->prev = u->prev;
    }
    t->n--;
    u->linked = 0;
}

static void udp_cleanup(void *data)
{
    udp_conn_t *u = data;
    mg_stream_udp_detach(u->c);
    for (udp_dgram_t *d = u->head, *next; d; d = next) {
        next = d->next;
        free(d);
    }
    u->head = u->tail = NULL;
}

static void queue(udp_conn_t *u, const char *buf, size_t len)
{
    udp_dgram_t *d = mg_alloc(sizeof(udp_dgram_t) + len);
    d->next = NULL;
    d->len = len;
    memcpy(d->data, buf, len);
    if (u->tail) {
        u->tail->next = d;
    } else {
        u->head = d;
    }
    u->tail = d;
}

/* A datagram for u, and the handler that may read it at once: read from the buffer it came
 * in, no copy; what is left unread (or comes behind queued ones) waits in the queue. */
static void deliver(udp_conn_t *u, char *buf, size_t len, void (*handler)(mg_connection_t *c))
{
    if (u->head || handler == NULL) {
        queue(u, buf, len);
    } else {
        u->lent = buf;
        u->lent_len = len;
    }
    if (handler) {
        handler(u->c); /* (a closed connection's memory stays until the loop comes back) */
    }
    if (u->lent) {
        u->lent = NULL;
        if (!u->c->closed) {
            queue(u, buf, len);
        }
    }
}

void mg_stream_udp_read(mg_listening_t *ls, int all)
{
    mg_cycle_t *cycle = ls->cycle;
    mg_server_t *srv = cycle->server;
    char *buf = mg_server_scratch(srv); /* not static: servers on two threads read at once */
    if (srv->quitting) {
        /* (the quit's last look at the listening sockets) what is queued stays for the newer
         * workers, who read the same socket: read here, a datagram would be dropped, or start
         * a session that holds this worker until its proxy_timeout */
        return;
    }
    for (int i = 0; i < (all ? UDP_READS : 1); i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        ssize_t n = recvfrom(ls->fd, buf, UDP_MAX, 0, (struct sockaddr *)&ss, &len);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                mg_log_error(MG_LOG_ALERT, cycle->log, errno, "recvmsg() failed");
            }
            return;
        }
        udp_table_t *t = table_of(ls);
        udp_conn_t *u = table_find(t, &ss);
        if (u) {
            deliver(u, buf, (size_t)n, u->c->read_handler);
            continue;
        }
        if (t->fd < 0 && (t->fd = fcntl(ls->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
            mg_log_error(MG_LOG_ALERT, cycle->log, errno, "fcntl(F_DUPFD_CLOEXEC) failed");
            return;
        }
        mg_connection_t *c = mg_conn_create(srv, cycle, ls, t->fd, &ss, len);
        c->shared_fd = 1;
        c->recv = udp_recv;
        c->send = udp_send;
        u = mg_pcalloc(c->pool, sizeof(udp_conn_t));
        u->c = c;
        u->ls = ls;
        table_add(t, u);
        mg_pool_cleanup_add(c->pool, udp_cleanup, u);
        c->data = u; /* the session takes it (stream.c) */
        deliver(u, buf, (size_t)n, ls->handler);
    }
}
