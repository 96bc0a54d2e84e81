/*
 * syslog peers: the "syslog:" parameters read with nginx's checks and wording, the RFC 3164
 * header, and one connected datagram socket per peer and process, opened at the first message
 * and reopened after a failed send (a UDP server that was down answers the send after the one
 * that reached it with ECONNREFUSED, as with nginx).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "cycle.h"
#include "listen.h"
#include "mgtime.h"
#include "pool.h"
#include "str.h"
#include "syslog.h"

#define SYSLOG_PORT 514
#define TAG_MAX 32

static const char *facilities[] = {
    "kern",   "user",     "mail",   "daemon", "auth",   "intern", "lpr",  "news",   "uucp",
    "clock",  "authpriv", "ftp",    "ntp",    "audit",  "alert",  "cron", "local0", "local1",
    "local2", "local3",   "local4", "local5", "local6", "local7", NULL};

static void peer_close(void *data)
{
    mg_syslog_peer_t *peer = data;
    if (peer->fd >= 0) {
        close(peer->fd);
        peer->fd = -1;
    }
    peer->busy = 1; /* a writer still pointing here (a copied log) sends nothing */
}

/* "server=" as nginx reads it: unix:PATH, [IPv6][:port], host[:port]; NULL or the phrase. */
static const char *parse_server(mg_str_t v, mg_syslog_peer_t *peer)
{
    char buf[512];
    if (v.len >= 5 && memcmp(v.data, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&peer->addr;
        if (v.len == 5) {
            return "no path in the unix domain socket";
        }
        if (v.len - 5 >= sizeof(un->sun_path)) {
            return "too long path in the unix domain socket";
        }
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, v.data + 5, v.len - 5);
        peer->addrlen = sizeof(struct sockaddr_un);
        return NULL;
    }
    if (v.len >= sizeof(buf)) {
        return "invalid host";
    }
    memcpy(buf, v.data, v.len);
    buf[v.len] = '\0';
    char *host = buf, *port = NULL;
    if (buf[0] == '[') {
        char *rb = strchr(buf, ']');
        if (rb == NULL || (rb[1] && rb[1] != ':')) {
            return "invalid host";
        }
        *rb = '\0';
        host = buf + 1;
        port = rb[1] ? rb + 2 : NULL;
    } else {
        char *colon = strchr(buf, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
    }
    if (*host == '\0') {
        return "no host";
    }
    int portn = SYSLOG_PORT;
    if (port) {
        int64_t n = mg_atoi(port, strlen(port));
        if (n < 1 || n > 65535) {
            return "invalid port";
        }
        portn = (int)n;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)&peer->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&peer->addr;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)portn);
        peer->addrlen = sizeof(*in);
        return NULL;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)portn);
        peer->addrlen = sizeof(*in6);
        return NULL;
    }
    /* a name is resolved once, at load, and its first address used (nginx's rule) */
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
        return "host not found";
    }
    memcpy(&peer->addr, res->ai_addr, res->ai_addrlen);
    peer->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    if (peer->addr.ss_family == AF_INET6) {
        in6->sin6_port = htons((uint16_t)portn);
    } else {
        in->sin_port = htons((uint16_t)portn);
    }
    return NULL;
}

static int param_is(mg_str_t p, const char *name, mg_str_t *value)
{
    size_t n = strlen(name);
    if (p.len < n || memcmp(p.data, name, n) != 0) {
        return 0;
    }
    value->data = p.data + n;
    value->len = p.len - n;
    return 1;
}

mg_syslog_peer_t *mg_syslog_parse(mg_conf_t *cf, mg_str_t params)
{
    mg_syslog_peer_t *peer = mg_pcalloc(cf->cycle->pool, sizeof(*peer));
    peer->fd = -1;
    peer->facility = -1;
    peer->severity = -1;
    peer->cycle = cf->cycle;
    int have_server = 0;
    const char *p = params.data, *end = params.data + params.len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        /* copied so a phrase can print it with %s */
        mg_str_t part = mg_pstr(cf->pool, p, (size_t)(stop - p));
        mg_str_t v;
        if (param_is(part, "server=", &v)) {
            if (have_server) {
                mg_conf_error(cf, 0, "duplicate syslog \"server\"");
                return NULL;
            }
            have_server = 1;
            const char *err = parse_server(v, peer);
            if (err) {
                mg_conf_error(cf, 0, "%s in syslog server \"%s\"", err, v.data);
                return NULL;
            }
        } else if (param_is(part, "facility=", &v)) {
            if (peer->facility >= 0) {
                mg_conf_error(cf, 0, "duplicate syslog \"facility\"");
                return NULL;
            }
            for (int i = 0; facilities[i]; i++) {
                if (mg_str_eq(v, facilities[i])) {
                    peer->facility = i;
                }
            }
            if (peer->facility < 0) {
                mg_conf_error(cf, 0, "unknown syslog facility \"%s\"", v.data);
                return NULL;
            }
        } else if (param_is(part, "severity=", &v)) {
            if (peer->severity >= 0) {
                mg_conf_error(cf, 0, "duplicate syslog \"severity\"");
                return NULL;
            }
            int level = mg_log_level_by_name(v);
            if (level <= 0) {
                mg_conf_error(cf, 0, "unknown syslog severity \"%s\"", v.data);
                return NULL;
            }
            peer->severity = level - 1;
        } else if (param_is(part, "tag=", &v)) {
            if (peer->tag.data) {
                mg_conf_error(cf, 0, "duplicate syslog \"tag\"");
                return NULL;
            }
            if (v.len > TAG_MAX) {
                mg_conf_error(cf, 0, "syslog tag length exceeds %d", TAG_MAX);
                return NULL;
            }
            for (size_t i = 0; i < v.len; i++) {
                char ch = v.data[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_')) {
                    mg_conf_error(cf, 0,
                                  "syslog \"tag\" only allows alphanumeric characters and "
                                  "underscore");
                    return NULL;
                }
            }
            peer->tag = v;
        } else if (mg_str_eq(part, "nohostname")) {
            peer->nohostname = 1;
        } else {
            mg_conf_error(cf, 0, "unknown syslog parameter \"%s\"", part.data);
            return NULL;
        }
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    if (!have_server) {
        mg_conf_error(cf, 0, "no syslog server specified");
        return NULL;
    }
    if (peer->facility < 0) {
        peer->facility = 23; /* local7 */
    }
    if (peer->severity < 0) {
        peer->severity = MG_LOG_INFO - 1;
    }
    if (peer->tag.data == NULL) {
        mg_str_set(&peer->tag, "nginx"); /* nginx's: what syslog filters look for */
    }
    mg_sockaddr_text((struct sockaddr *)&peer->addr, peer->name, sizeof(peer->name), 1);
    mg_pool_cleanup_add(cf->cycle->pool, peer_close, peer);
    return peer;
}

size_t mg_syslog_header(mg_syslog_peer_t *peer, int severity, char *buf)
{
    if (mg_now.sec == 0) {
        mg_time_update();
    }
    int pri = peer->facility * 8 + severity;
    char *end = buf + MG_SYSLOG_HEADER_MAX, *p;
    if (peer->nohostname) {
        p = mg_sprintf_end(buf, end, "<%d>%s %.*s: ", pri, mg_now.syslog, (int)peer->tag.len,
                           peer->tag.data);
    } else {
        mg_str_t *host = &peer->cycle->hostname;
        p = mg_sprintf_end(buf, end, "<%d>%s %.*s %.*s: ", pri, mg_now.syslog, (int)host->len,
                           host->data, (int)peer->tag.len, peer->tag.data);
    }
    return (size_t)(p - buf);
}

/* " while logging to syslog, server: ADDR" (newer nginx's context for the peer's errors) */
static size_t peer_log_context(mg_log_t *log, char *buf, size_t len)
{
    mg_syslog_peer_t *peer = log->data;
    int n = snprintf(buf, len, " while logging to syslog, server: %s", peer->name);
    return n < 0 ? 0 : mg_min((size_t)n, len ? len - 1 : 0);
}

static void peer_error(mg_syslog_peer_t *peer, int level, int err, const char *what)
{
    mg_log_t log = *peer->cycle->log;
    log.connection = 0;
    log.handler = peer_log_context;
    log.data = peer;
    log.action = NULL;
    /* busy: when this peer is in that log, the line does not come back to it */
    unsigned busy = peer->busy;
    peer->busy = 1;
    mg_log_error(level, &log, err, "%s", what);
    peer->busy = busy;
}

static int peer_open(mg_syslog_peer_t *peer)
{
    int fd = socket(peer->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        peer_error(peer, MG_LOG_ALERT, errno, "socket() failed");
        return MG_ERROR;
    }
    if (connect(fd, (struct sockaddr *)&peer->addr, peer->addrlen) < 0) {
        peer_error(peer, MG_LOG_ALERT, errno, "connect() failed");
        close(fd);
        return MG_ERROR;
    }
    peer->fd = fd;
    return MG_OK;
}

ssize_t mg_syslog_send(mg_syslog_peer_t *peer, const char *buf, size_t len)
{
    if (peer->fd < 0 && peer_open(peer) != MG_OK) {
        return -1;
    }
    ssize_t n;
    do {
        n = send(peer->fd, buf, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        return n;
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
        return -1; /* the receiver is behind: this message is lost, the socket is fine */
    }
    /* nginx's levels for a failed send: the peer's absence is an error, the rest alerts */
    int level = err == ECONNREFUSED || err == ECONNRESET || err == ENOTCONN || err == EPIPE ||
                        err == ETIMEDOUT || err == ENETDOWN || err == ENETUNREACH ||
                        err == EHOSTDOWN || err == EHOSTUNREACH
                    ? MG_LOG_ERR
                    : MG_LOG_ALERT;
    peer_error(peer, level, err, "send() failed");
    close(peer->fd);
    peer->fd = -1;
    return -1;
}

void mg_syslog_writer(mg_log_t *log, int level, const char *buf, size_t len)
{
    mg_syslog_peer_t *peer = log->wdata;
    if (peer->busy) {
        return;
    }
    peer->busy = 1;
    char msg[MG_SYSLOG_HEADER_MAX + MG_SYSLOG_ERROR_MAX];
    size_t h = mg_syslog_header(peer, level > MG_LOG_STDERR ? level - 1 : 0, msg);
    len = mg_min(len, MG_SYSLOG_ERROR_MAX);
    memcpy(msg + h, buf, len);
    (void)mg_syslog_send(peer, msg, h + len);
    peer->busy = 0;
}
