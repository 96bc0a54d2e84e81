/*
 * Socket address parsing and the opening, inheriting and closing of listening sockets.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <stdlib.h>
#include <unistd.h>

#include "cycle.h"
#include "listen.h"
#include "pool.h"
#include "str.h"

in_port_t mg_sockaddr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    }
    if (sa->sa_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    }
    return 0;
}

size_t mg_sockaddr_room(const void *sa, socklen_t len)
{
    /* a unix path may fill sun_path without its NUL: one follows the copy; the other families
     * need none (an IPv4 client's address and its text then take 32 bytes of the connection's
     * pool, not 48) */
    int unix_path = ((const struct sockaddr *)sa)->sa_family == AF_UNIX;
    return mg_max((size_t)len, sizeof(struct sockaddr)) + (size_t)unix_path;
}

struct sockaddr *mg_sockaddr_dup(mg_pool_t *pool, const void *sa, socklen_t len)
{
    struct sockaddr *copy = mg_pcalloc(pool, mg_sockaddr_room(sa, len));
    memcpy(copy, sa, len);
    return copy;
}

size_t mg_sockaddr_text(const struct sockaddr *sa, char *buf, size_t size, int with_port)
{
    char ip[INET6_ADDRSTRLEN];
    int n = 0;
    if (sa->sa_family == AF_INET && size > sizeof("255.255.255.255:65535")) {
        /* by hand: variables ($server_addr) and logs ask for it per request, and inet_ntop
         * with snprintf cost twenty times more */
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        const unsigned char *a = (const unsigned char *)&in->sin_addr;
        size_t len = 0;
        for (int i = 0; i < 4; i++) {
            if (i) {
                buf[len++] = '.';
            }
            len = (size_t)(mg_put_uint(buf + len, a[i]) - buf);
        }
        if (with_port) {
            buf[len++] = ':';
            len = (size_t)(mg_put_uint(buf + len, ntohs(in->sin_port)) - buf);
        }
        buf[len] = '\0';
        return len;
    }
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        n = with_port ? snprintf(buf, size, "%s:%u", ip, ntohs(in->sin_port))
                      : snprintf(buf, size, "%s", ip);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        n = with_port ? snprintf(buf, size, "[%s]:%u", ip, ntohs(in6->sin6_port))
                      : snprintf(buf, size, "%s", ip);
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        n = snprintf(buf, size, "unix:%s", un->sun_path);
    } else {
        n = snprintf(buf, size, "unknown");
    }
    if (n < 0) {
        n = 0;
    }
    return (size_t)n >= size ? size - 1 : (size_t)n;
}

int mg_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b, int compare_port)
{
    if (a->sa_family != b->sa_family) {
        return 0;
    }
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_addr.s_addr == y->sin_addr.s_addr &&
               (!compare_port || x->sin_port == y->sin_port);
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 &&
               (!compare_port || x->sin6_port == y->sin6_port);
    }
    if (a->sa_family == AF_UNIX) {
        return strcmp(((const struct sockaddr_un *)a)->sun_path,
                      ((const struct sockaddr_un *)b)->sun_path) == 0;
    }
    return 0;
}

static int parse_port(const char *s, size_t len)
{
    int64_t port = mg_atoi(s, len);
    return (port < 1 || port > 65535) ? -1 : (int)port;
}

const char *mg_listen_parse_addr(mg_str_t text, struct sockaddr_storage *ss, socklen_t *len,
                                 int *wildcard)
{
    memset(ss, 0, sizeof(*ss));
    *wildcard = 0;
    char buf[512];
    if (text.len == 0 || text.len >= sizeof(buf)) {
        return "invalid host";
    }
    memcpy(buf, text.data, text.len);
    buf[text.len] = '\0';

    if (text.len > 5 && memcmp(buf, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        if (text.len - 5 >= sizeof(un->sun_path) || text.len == 5) {
            return "too long path in the unix domain socket";
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, buf + 5);
        *len = sizeof(struct sockaddr_un);
        return NULL;
    }
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (close == NULL) {
            return "invalid host";
        }
        *close = '\0';
        int port = 80;
        if (close[1] == ':') {
            port = parse_port(close + 2, strlen(close + 2));
            if (port < 0) {
                return "invalid port";
            }
        } else if (close[1] != '\0') {
            return "invalid host";
        }
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, buf + 1, &in6->sin6_addr) != 1) {
            return "invalid IPv6 address";
        }
        *wildcard = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
        *len = sizeof(struct sockaddr_in6);
        return NULL;
    }
    char *colon = strrchr(buf, ':');
    const char *host = buf;
    int port;
    if (colon) {
        *colon = '\0';
        port = parse_port(colon + 1, strlen(colon + 1));
        if (port < 0) {
            return "invalid port";
        }
    } else if (mg_atoi(buf, text.len) >= 0) {
        /* a bare number is a port on every address */
        port = parse_port(buf, text.len);
        if (port < 0) {
            return "invalid port";
        }
        host = "*";
    } else {
        port = 80;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    *len = sizeof(struct sockaddr_in);
    if (strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0) {
        in->sin_addr.s_addr = htonl(INADDR_ANY);
        *wildcard = 1;
        return NULL;
    }
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        return NULL;
    }
    /* a host name is resolved once, at load, as nginx does */
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
        return "host not found";
    }
    in->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return NULL;
}

/* A socket for ls, bound and listening. test (moongate -t, as nginx -t): an address in use
 * is the running server's, so it passes (MG_DECLINED, nothing bound); a unix socket's file is
 * neither removed before nor kept after. */
static int open_one(mg_log_t *log, mg_listening_t *ls, int test)
{
    int fd = socket(ls->sockaddr.ss_family,
                    (ls->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mg_log_error(MG_LOG_EMERG, log, errno, "socket() %s failed", ls->addr_text);
        return -1;
    }
    int one = 1;
    const char *unix_path =
        ls->sockaddr.ss_family == AF_UNIX ? ((struct sockaddr_un *)&ls->sockaddr)->sun_path : NULL;
    if (unix_path == NULL) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (ls->reuseport) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    }
    if (ls->sockaddr.ss_family == AF_INET6) {
        int v6only = ls->ipv6only;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (unix_path && !test) {
        unlink(unix_path);
    }
    /* nginx retries a busy address a few times: a previous server may still be exiting */
    for (int tries = 5;; tries--) {
        if (bind(fd, (struct sockaddr *)&ls->sockaddr, ls->socklen) == 0) {
            break;
        }
        int err = errno;
        if (test && err == EADDRINUSE) {
            close(fd);
            return MG_DECLINED;
        }
        mg_log_error(MG_LOG_EMERG, log, err, "bind() to %s failed", ls->addr_text);
        if (err != EADDRINUSE || tries <= 1) {
            if (err == EADDRINUSE) {
                mg_log_error(MG_LOG_EMERG, log, 0, "still could not bind()");
            }
            close(fd);
            return -1;
        }
        usleep(500 * 1000);
    }
    if (unix_path && test) {
        unlink(unix_path);
    }
    if (!ls->udp && listen(fd, ls->backlog) != 0) {
        mg_log_error(MG_LOG_EMERG, log, errno, "listen() to %s, backlog %d failed", ls->addr_text,
                     ls->backlog);
        close(fd);
        return -1;
    }
    return fd;
}

mg_int_t mg_listen_test_all(mg_cycle_t *cycle, mg_log_t *log)
{
    mg_listening_t **ls = cycle->listening.elts;
    for (size_t i = 0; i < cycle->listening.nelts; i++) {
        int fd = open_one(log, ls[i], 1);
        if (fd == -1) {
            return MG_ERROR;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    return MG_OK;
}

static void set_option(mg_cycle_t *cycle, mg_listening_t *ls, int level, int name, const char *what,
                       int value)
{
    if (setsockopt(ls->fd, level, name, &value, sizeof(value)) != 0) {
        /* nginx's words, "for" included where it has one */
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "setsockopt(%s, %d) %s%s failed, ignored",
                     what, value, name == TCP_DEFER_ACCEPT ? "for " : "", ls->addr_text);
    }
}

/* The options a listen asked for, on a socket just opened (old NULL), taken over from the
 * previous generation (old: its settings) or handed over by an old binary (old NULL,
 * ls->inherited: what it had is read back). What a listen leaves out is left as it is. */
static void configure(mg_cycle_t *cycle, mg_listening_t *ls, const mg_listening_t *old)
{
    if (ls->rcvbuf != -1) {
        set_option(cycle, ls, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", ls->rcvbuf);
    }
    if (ls->sndbuf != -1) {
        set_option(cycle, ls, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", ls->sndbuf);
    }
    if (ls->keepalive != -1) {
        set_option(cycle, ls, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", ls->keepalive);
    }
    if (ls->keepidle) {
        set_option(cycle, ls, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", ls->keepidle);
    }
    if (ls->keepintvl) {
        set_option(cycle, ls, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", ls->keepintvl);
    }
    if (ls->keepcnt) {
        set_option(cycle, ls, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", ls->keepcnt);
    }
    if (ls->udp) {
        return; /* nothing below applies to a datagram socket */
    }
    if (ls->fastopen != -1) {
        set_option(cycle, ls, IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN", ls->fastopen);
    }
    if (!ls->inherited) {
        if (ls->deferred) {
            set_option(cycle, ls, IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT", 1);
        }
        return;
    }
    /* a socket that serves already: a new backlog takes a listen() again (an old binary's
     * backlog is unknown: asked again as well) */
    if ((old == NULL || old->backlog != ls->backlog) && listen(ls->fd, ls->backlog) != 0) {
        mg_log_error(MG_LOG_ALERT, cycle->log, errno, "listen() to %s, backlog %d failed, ignored",
                     ls->addr_text, ls->backlog);
    }
    int was = 0;
    if (old) {
        was = old->deferred;
    } else if (ls->sockaddr.ss_family != AF_UNIX) {
        socklen_t len = sizeof(was);
        getsockopt(ls->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &was, &len);
    }
    if (!!was != ls->deferred) {
        set_option(cycle, ls, IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT", ls->deferred);
    }
}

mg_int_t mg_listen_open_all(mg_cycle_t *cycle, mg_cycle_t *old)
{
    mg_listening_t **ls = cycle->listening.elts;
    for (size_t i = 0; i < cycle->listening.nelts; i++) {
        ls[i]->cycle = cycle;
        if (ls[i]->fd >= 0) {
            continue; /* handed over by an old binary */
        }
        if (old) {
            mg_listening_t **ols = old->listening.elts;
            for (size_t j = 0; j < old->listening.nelts; j++) {
                if (ols[j]->fd >= 0 && ols[j]->reuseport == ls[i]->reuseport &&
                    ols[j]->udp == ls[i]->udp &&
                    mg_sockaddr_equal((struct sockaddr *)&ols[j]->sockaddr,
                                      (struct sockaddr *)&ls[i]->sockaddr, 1)) {
                    ls[i]->fd = ols[j]->fd;
                    ls[i]->inherited = 1;
                    ls[i]->previous = ols[j];
                    break;
                }
            }
            if (ls[i]->fd >= 0) {
                continue;
            }
        }
        ls[i]->fd = open_one(cycle->log, ls[i], 0);
        if (ls[i]->fd < 0) {
            goto failed;
        }
    }
    /* only once every socket is there: a reload that fails leaves the serving ones alone */
    for (size_t i = 0; i < cycle->listening.nelts; i++) {
        configure(cycle, ls[i], ls[i]->previous);
        ls[i]->previous = NULL;
    }
    return MG_OK;

failed:
    for (size_t i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i]->fd >= 0 && !ls[i]->inherited) {
            close(ls[i]->fd);
        }
        ls[i]->fd = -1;
        ls[i]->inherited = 0;
        ls[i]->previous = NULL;
    }
    return MG_ERROR;
}

void mg_listen_close_unused(mg_cycle_t *cycle, mg_cycle_t *keep)
{
    mg_listening_t **ls = cycle->listening.elts;
    for (size_t i = 0; i < cycle->listening.nelts; i++) {
        int used = 0;
        if (keep) {
            mg_listening_t **kls = keep->listening.elts;
            for (size_t j = 0; j < keep->listening.nelts; j++) {
                if (kls[j]->fd == ls[i]->fd) {
                    used = 1;
                }
            }
        }
        if (ls[i]->accept_ev) {
            event_free(ls[i]->accept_ev);
            ls[i]->accept_ev = NULL;
        }
        if (!used && ls[i]->fd >= 0) {
            if (ls[i]->sockaddr.ss_family == AF_UNIX && !keep) {
                unlink(((struct sockaddr_un *)&ls[i]->sockaddr)->sun_path);
            }
            close(ls[i]->fd);
        }
        ls[i]->fd = -1;
    }
}

void mg_listen_close_all(mg_cycle_t *cycle, int unlink_unix)
{
    mg_listening_t **ls = cycle->listening.elts;
    for (size_t i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i]->accept_ev) {
            event_free(ls[i]->accept_ev);
            ls[i]->accept_ev = NULL;
        }
        if (ls[i]->fd < 0) {
            continue;
        }
        if (unlink_unix && ls[i]->sockaddr.ss_family == AF_UNIX) {
            unlink(((struct sockaddr_un *)&ls[i]->sockaddr)->sun_path);
        }
        close(ls[i]->fd);
        ls[i]->fd = -1;
    }
}

void mg_listen_inherit(mg_cycle_t *cycle, const char *fds, const char *var)
{
    mg_listening_t **ls = cycle->listening.elts;
    for (const char *p = fds; *p;) {
        char *end;
        long fd = strtol(p, &end, 10);
        if (end == p) {
            mg_log_error(MG_LOG_EMERG, cycle->log, 0,
                         "invalid socket number \"%s\" in %s environment variable, "
                         "ignoring the rest of the variable",
                         p, var);
            return;
        }
        p = *end == ';' || *end == ':' ? end + 1 : end; /* nginx reads either */
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        if (getsockname((int)fd, (struct sockaddr *)&ss, &len) != 0) {
            mg_log_error(MG_LOG_CRIT, cycle->log, errno, "getsockname() of the inherited "
                         "socket #%ld failed", fd);
            continue;
        }
        int reuseport = 0;
        socklen_t olen = sizeof(reuseport);
        getsockopt((int)fd, SOL_SOCKET, SO_REUSEPORT, &reuseport, &olen);
        int type = SOCK_STREAM;
        olen = sizeof(type);
        getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &olen);
        int taken = 0;
        for (size_t i = 0; i < cycle->listening.nelts && !taken; i++) {
            if (ls[i]->fd < 0 && !!ls[i]->reuseport == !!reuseport &&
                !!ls[i]->udp == (type == SOCK_DGRAM) &&
                mg_sockaddr_equal((struct sockaddr *)&ss, (struct sockaddr *)&ls[i]->sockaddr, 1)) {
                ls[i]->fd = (int)fd;
                ls[i]->inherited = 1;
                taken = 1;
            }
        }
        /* the old binary's exec cleared close-on-exec for the hand-over; set it back */
        fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        if (!taken) {
            close((int)fd); /* the new configuration no longer listens there */
        }
    }
}

void mg_listen_fds_text(mg_cycle_t *cycle, char *buf, size_t size)
{
    mg_listening_t **ls = cycle->listening.elts;
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i]->fd >= 0 && n + 16 < size) {
            n += (size_t)snprintf(buf + n, size - n, "%d;", ls[i]->fd);
        }
    }
}
