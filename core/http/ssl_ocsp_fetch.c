/*
 * A worker asks a certificate's OCSP responder for its status, as nginx's stapling does: an
 * HTTP/1.0 GET of the base64 DER request (the responder's name through the server's
 * resolver), the answer read to the connection's end, checked (ocsp_check) and kept in
 * the staple. A failure is logged with the responder, the peer and the certificate, and the
 * next try comes five minutes later; a response is refreshed an hour before it would be due,
 * at the latest at its nextUpdate less five minutes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "mgtime.h"
#include "server.h"
#include "ssl.h"
#include "ssl_stapling.h"
#include "str.h"

#define OCSP_TIMEOUT 60000      /* ms: connect, send and read together, nginx's */
#define OCSP_MAX_RESPONSE 65536 /* bytes of an HTTP answer kept */
#define OCSP_RETRY 300          /* s after a failure */

enum { CONNECTING, SENDING, READING };

static const char *ocsp_check(mg_ssl_staple_t *st, const unsigned char *der, size_t len,
                              time_t *valid, char *err, size_t errlen);

struct mg_ocsp_fetch_s {
    mg_ssl_staple_t *st;
    mg_server_t *srv;
    mg_resolve_t *rs;
    struct sockaddr_storage *addrs;
    socklen_t *lens;
    size_t naddrs, next;
    int fd;
    int state;
    struct event *ev;
    char *out;
    size_t out_len, sent;
    unsigned char *in;
    size_t in_len;
    char peer[INET6_ADDRSTRLEN + 8];
};

static void fetch_free(mg_ocsp_fetch_t *f)
{
    if (f->rs) {
        mg_resolve_cancel(f->rs);
    }
    if (f->ev) {
        event_free(f->ev);
    }
    if (f->fd >= 0) {
        close(f->fd);
    }
    free(f->addrs);
    free(f->lens);
    free(f->out);
    free(f->in);
    f->st->fetch = NULL;
    free(f);
}

void mg_ocsp_fetch_cancel(mg_ssl_staple_t *st)
{
    if (st->fetch) {
        fetch_free(st->fetch);
    }
}

__attribute__((format(printf, 4, 5))) static void fail_at(mg_ocsp_fetch_t *f, mg_uint_t level,
                                                          int err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (err) { /* before the context, where nginx puts it */
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof(msg) - n, " (%d: %s)", err, strerror(err));
    }
    mg_ssl_staple_t *st = f->st;
    mg_log_error(level, st->log, 0,
                 "%s while requesting certificate status, responder: %s%s%s, certificate: "
                 "\"%s\"",
                 msg, st->host, f->peer[0] ? ", peer: " : "", f->peer, st->name);
    mg_time_update();
    st->refresh = mg_now.sec + OCSP_RETRY;
    fetch_free(f);
}

#define fail(f, err, ...) fail_at(f, MG_LOG_ERR, err, __VA_ARGS__)

static void done(mg_ocsp_fetch_t *f)
{
    mg_ssl_staple_t *st = f->st;
    unsigned char *in = f->in;
    size_t n = f->in_len;
    int status = 0;
    if (n < 12 || memcmp(in, "HTTP/1.", 7) != 0 || sscanf((char *)in + 9, "%3d", &status) != 1) {
        fail(f, 0, "OCSP responder sent invalid response");
        return;
    }
    if (status != 200) {
        fail(f, 0, "OCSP responder sent unexpected HTTP response status \"%d\"", status);
        return;
    }
    unsigned char *body = NULL;
    for (size_t i = 0; i + 3 < n; i++) {
        if (in[i] == '\r' && in[i + 1] == '\n' && in[i + 2] == '\r' && in[i + 3] == '\n') {
            body = in + i + 4;
            break;
        }
    }
    if (body == NULL) {
        fail(f, 0, "OCSP responder prematurely closed connection");
        return;
    }
    size_t len = n - (size_t)(body - in);
    char err[512];
    time_t valid;
    if (ocsp_check(st, body, len, &valid, err, sizeof(err)) != NULL) {
        fail(f, 0, "%s", err);
        return;
    }
    free(st->der);
    st->der = malloc(len);
    if (st->der == NULL) {
        st->len = 0;
        fail(f, ENOMEM, "malloc() failed");
        return;
    }
    memcpy(st->der, body, len);
    st->len = len;
    st->valid = valid;
    mg_time_update();
    time_t now = mg_now.sec;
    time_t refresh = valid - 300 < now + 3600 ? valid - 300 : now + 3600;
    st->refresh = refresh > now + OCSP_RETRY ? refresh : now + OCSP_RETRY;
    fetch_free(f);
}

static void on_event(evutil_socket_t fd, short what, void *arg);

static void arm(mg_ocsp_fetch_t *f, short what)
{
    if (f->ev) {
        event_free(f->ev);
    }
    f->ev = event_new(f->srv->base, f->fd, what, on_event, f);
    struct timeval tv = {OCSP_TIMEOUT / 1000, 0};
    event_add(f->ev, &tv);
}

static void connect_next(mg_ocsp_fetch_t *f);

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    mg_ocsp_fetch_t *f = arg;
    if (what & EV_TIMEOUT) {
        fail(f, ETIMEDOUT, "OCSP responder timed out");
        return;
    }
    if (f->state == CONNECTING) {
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            if (f->next < f->naddrs) {
                connect_next(f);
                return;
            }
            fail(f, err, "connect() failed");
            return;
        }
        f->state = SENDING;
    }
    if (f->state == SENDING) {
        while (f->sent < f->out_len) {
            ssize_t n = send(f->fd, f->out + f->sent, f->out_len - f->sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && errno == EAGAIN) {
                arm(f, EV_WRITE);
                return;
            }
            if (n < 0) {
                fail(f, errno, "send() failed");
                return;
            }
            f->sent += (size_t)n;
        }
        f->state = READING;
        arm(f, EV_READ | EV_PERSIST);
        return;
    }
    for (;;) {
        if (f->in_len == OCSP_MAX_RESPONSE) {
            fail(f, 0, "OCSP responder sent too large response");
            return;
        }
        ssize_t n = recv(f->fd, f->in + f->in_len, OCSP_MAX_RESPONSE - f->in_len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return; /* the persistent event comes back */
        }
        if (n < 0) {
            fail(f, errno, "recv() failed");
            return;
        }
        if (n == 0) {
            done(f);
            return;
        }
        f->in_len += (size_t)n;
    }
}

static void connect_next(mg_ocsp_fetch_t *f)
{
    struct sockaddr_storage *sa = &f->addrs[f->next];
    socklen_t len = f->lens[f->next];
    f->next++;
    mg_sockaddr_text((struct sockaddr *)sa, f->peer, sizeof(f->peer), 1);
    if (f->fd >= 0) {
        close(f->fd);
    }
    f->fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->fd < 0) {
        fail(f, errno, "socket() failed");
        return;
    }
    f->state = CONNECTING;
    if (connect(f->fd, (struct sockaddr *)sa, len) == 0 || errno == EINPROGRESS) {
        arm(f, EV_WRITE);
        return;
    }
    if (f->next < f->naddrs) {
        connect_next(f);
        return;
    }
    fail(f, errno, "connect() failed");
}

static void set_port(struct sockaddr_storage *sa, int port)
{
    if (sa->ss_family == AF_INET) {
        ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
    } else if (sa->ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
    }
}

static void resolved(mg_resolve_t *rs)
{
    mg_ocsp_fetch_t *f = rs->data;
    f->rs = NULL;
    if (rs->state || rs->naddrs == 0) {
        fail(f, 0, "%s could not be resolved (%d: %s)", f->st->host, rs->state,
             mg_resolve_strerror(rs->state ? rs->state : MG_RESOLVE_NXDOMAIN));
        return;
    }
    f->addrs = mg_calloc(rs->naddrs * sizeof(*f->addrs));
    f->lens = mg_calloc(rs->naddrs * sizeof(*f->lens));
    memcpy(f->addrs, rs->addrs, rs->naddrs * sizeof(*f->addrs));
    memcpy(f->lens, rs->lens, rs->naddrs * sizeof(*f->lens));
    f->naddrs = rs->naddrs;
    for (size_t i = 0; i < f->naddrs; i++) {
        set_port(&f->addrs[i], f->st->port);
    }
    connect_next(f);
}

/* "GET <path>/<base64 of the DER request, URL-escaped> HTTP/1.0" */
static char *make_request(mg_ssl_staple_t *st, size_t *len)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, st->cert, st->issuer);
    if (req == NULL || id == NULL || OCSP_request_add0_id(req, id) == NULL) {
        OCSP_CERTID_free(id);
        OCSP_REQUEST_free(req);
        return NULL;
    }
    unsigned char *der = NULL;
    int dl = i2d_OCSP_REQUEST(req, &der);
    OCSP_REQUEST_free(req);
    if (dl <= 0) {
        return NULL;
    }
    char *b64 = mg_alloc(mg_base64_encoded_len((size_t)dl));
    size_t bl = mg_base64_encode(der, (size_t)dl, b64);
    OPENSSL_free(der);
    static const char hex[] = "0123456789ABCDEF";
    char *esc = mg_alloc(bl * 3 + 1), *e = esc;
    for (size_t i = 0; i < bl; i++) {
        unsigned char ch = (unsigned char)b64[i];
        if (ch == '+' || ch == '/' || ch == '=') {
            *e++ = '%';
            *e++ = hex[ch >> 4];
            *e++ = hex[ch & 15];
        } else {
            *e++ = (char)ch;
        }
    }
    *e = '\0';
    free(b64);
    size_t pl = strlen(st->path);
    const char *sep = pl && st->path[pl - 1] == '/' ? "" : "/";
    size_t cap = pl + strlen(esc) + strlen(st->host) + 64;
    char *out = mg_alloc(cap);
    int n =
        snprintf(out, cap, "GET %s%s%s HTTP/1.0\r\nHost: %s\r\n\r\n", st->path, sep, esc, st->host);
    free(esc);
    *len = (size_t)n;
    return out;
}

void mg_ocsp_fetch_start(mg_ssl_staple_t *st, mg_server_t *srv)
{
    mg_ocsp_fetch_t *f = mg_calloc(sizeof(mg_ocsp_fetch_t));
    f->st = st;
    f->srv = srv;
    f->fd = -1;
    st->fetch = f;
    f->out = make_request(st, &f->out_len);
    f->in = mg_alloc(OCSP_MAX_RESPONSE);
    if (f->out == NULL) {
        char q[512];
        fail(f, 0, "OCSP request failed%s", mg_ssl_error_queue(q, sizeof(q)));
        return;
    }
    struct sockaddr_storage sa = {0};
    socklen_t len = 0;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
    if (inet_pton(AF_INET, st->host, &s4->sin_addr) == 1) {
        sa.ss_family = AF_INET;
        len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, st->host, &s6->sin6_addr) == 1) {
        sa.ss_family = AF_INET6;
        len = sizeof(*s6);
    }
    if (len) {
        set_port(&sa, st->port);
        f->addrs = mg_alloc(sizeof(sa));
        f->lens = mg_alloc(sizeof(len));
        f->addrs[0] = sa;
        f->lens[0] = len;
        f->naddrs = 1;
        connect_next(f);
        return;
    }
    if (st->resolver == NULL) {
        fail_at(f, MG_LOG_WARN, 0, "no resolver defined to resolve %s", st->host);
        return;
    }
    mg_str_t name = {strlen(st->host), st->host};
    f->rs = mg_resolve_name(srv, st->resolver, name, st->resolver_timeout, resolved, f);
}

static time_t asn1_time(const ASN1_GENERALIZEDTIME *t)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    return timegm(&tm);
}

/* Checks a DER response for the staple's certificate as nginx does (status successful, the
 * signature when ssl_stapling_verify is on, the certificate "good", thisUpdate/nextUpdate);
 * sets *valid to its nextUpdate. NULL, or nginx's words for what is wrong (in err). */
static const char *ocsp_check(mg_ssl_staple_t *st, const unsigned char *der, size_t len,
                              time_t *valid, char *err, size_t errlen)
{
    char q[512];
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    OCSP_BASICRESP *basic = NULL;
    OCSP_CERTID *id = NULL;
    const char *bad = err;
    if (resp == NULL) {
        snprintf(err, errlen, "d2i_OCSP_RESPONSE() failed%s", mg_ssl_error_queue(q, sizeof(q)));
        goto out;
    }
    int n = OCSP_response_status(resp);
    if (n != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        snprintf(err, errlen, "OCSP response not successful (%d: %s)", n,
                 OCSP_response_status_str(n));
        goto out;
    }
    basic = OCSP_response_get1_basic(resp);
    if (basic == NULL) {
        snprintf(err, errlen, "OCSP_response_get1_basic() failed%s",
                 mg_ssl_error_queue(q, sizeof(q)));
        goto out;
    }
    X509_STORE *store = SSL_CTX_get_cert_store(st->ctx);
    if (OCSP_basic_verify(basic, st->chain, store, st->verify ? OCSP_TRUSTOTHER : OCSP_NOVERIFY) !=
        1) {
        snprintf(err, errlen, "OCSP_basic_verify() failed%s", mg_ssl_error_queue(q, sizeof(q)));
        goto out;
    }
    id = OCSP_cert_to_id(NULL, st->cert, st->issuer);
    ASN1_GENERALIZEDTIME *thisupdate = NULL, *nextupdate = NULL;
    if (id == NULL ||
        OCSP_resp_find_status(basic, id, &n, NULL, NULL, &thisupdate, &nextupdate) != 1) {
        snprintf(err, errlen, "certificate status not found in the OCSP response");
        goto out;
    }
    if (n != V_OCSP_CERTSTATUS_GOOD) {
        snprintf(err, errlen, "certificate status \"%s\" in the OCSP response",
                 OCSP_cert_status_str(n));
        goto out;
    }
    if (OCSP_check_validity(thisupdate, nextupdate, 300, -1) != 1) {
        snprintf(err, errlen, "OCSP_check_validity() failed%s", mg_ssl_error_queue(q, sizeof(q)));
        goto out;
    }
    *valid = nextupdate ? asn1_time(nextupdate) : (time_t)INT64_MAX;
    bad = NULL;
out:
    ERR_clear_error();
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(resp);
    return bad;
}
