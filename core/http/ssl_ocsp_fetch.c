/*
 * A worker asks an OCSP responder for a certificate's status, as nginx does for stapling and
 * for ssl_ocsp: an HTTP/1.0 GET of the base64 DER request (the responder's name through the
 * server's resolver), the answer read to the connection's end and handed to the asker's
 * check; a failure is logged with the responder and the peer. Also the check of a response
 * (mg_ocsp_check) and the responder URL's parse, which both askers share.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
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

enum { CONNECTING, SENDING, READING };

struct mg_ocsp_fetch_s {
    mg_ocsp_ask_t ask;
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
    unsigned starting : 1; /* in mg_ocsp_fetch_start: a failure waits for the loop */
    mg_uint_t failed_level;
    char failed[1024]; /* that failure's message */
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
    free(f);
}

void mg_ocsp_fetch_cancel(mg_ocsp_fetch_t *f)
{
    fetch_free(f);
}

/* The fetch goes first: done may start another, or close what owns the asker. */
static void finish(mg_ocsp_fetch_t *f, int ok)
{
    void (*done)(void *, int) = f->ask.done;
    void *data = f->ask.data;
    fetch_free(f);
    done(data, ok);
}

/* A message with the fetch's context, the fetch going on. */
__attribute__((format(printf, 3, 4))) static void log_fetch(mg_ocsp_fetch_t *f, mg_uint_t level,
                                                            const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const mg_ocsp_ask_t *a = &f->ask;
    mg_log_error(level, a->log, 0,
                 "%s while requesting certificate status, responder: %s%s%s%s%s%s", msg,
                 a->responder->host, f->peer[0] ? ", peer: " : "", f->peer,
                 a->cert_name ? ", certificate: \"" : "", a->cert_name ? a->cert_name : "",
                 a->cert_name ? "\"" : "");
}

static void report(mg_ocsp_fetch_t *f, mg_uint_t level, const char *msg)
{
    log_fetch(f, level, "%s", msg);
    finish(f, 0);
}

static void on_event(evutil_socket_t fd, short what, void *arg);

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
    if (!f->starting) {
        report(f, level, msg);
        return;
    }
    /* the asker hears of it from the loop, as of any other outcome */
    memcpy(f->failed, msg, sizeof(msg));
    f->failed_level = level;
    if (f->ev) {
        event_free(f->ev);
    }
    f->ev = evtimer_new(f->srv->base, on_event, f);
    struct timeval tv = {0, 0};
    event_add(f->ev, &tv);
}

#define fail(f, err, ...) fail_at(f, MG_LOG_ERR, err, __VA_ARGS__)

static void done(mg_ocsp_fetch_t *f)
{
    unsigned char *in = f->in;
    size_t n = f->in_len;
    /* "HTTP/1.x ddd", as nginx reads it: three digits, within the n bytes received (the
     * buffer has no terminator; sscanf's reading went on past them) */
    int status = 0;
    int ok = n >= 12 && memcmp(in, "HTTP/1.", 7) == 0 && in[8] == ' ' &&
             (n == 12 || in[12] == ' ' || in[12] == '\r' || in[12] == '\n');
    for (size_t i = 9; ok && i < 12; i++) {
        ok = in[i] >= '0' && in[i] <= '9';
        status = status * 10 + (in[i] - '0');
    }
    if (!ok) {
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
    char err[512];
    if (f->ask.check(f->ask.data, body, n - (size_t)(body - in), err, sizeof(err)) != NULL) {
        fail(f, 0, "%s", err);
        return;
    }
    finish(f, 1);
}

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
    if (f->failed[0]) {
        report(f, f->failed_level, f->failed);
        return;
    }
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
        fail(f, 0, "%s could not be resolved (%d: %s)", f->ask.responder->host, rs->state,
             mg_resolve_strerror(rs->state ? rs->state : MG_RESOLVE_NXDOMAIN));
        return;
    }
    f->addrs = mg_calloc(rs->naddrs * sizeof(*f->addrs));
    f->lens = mg_calloc(rs->naddrs * sizeof(*f->lens));
    memcpy(f->addrs, rs->addrs, rs->naddrs * sizeof(*f->addrs));
    memcpy(f->lens, rs->lens, rs->naddrs * sizeof(*f->lens));
    f->naddrs = rs->naddrs;
    for (size_t i = 0; i < f->naddrs; i++) {
        set_port(&f->addrs[i], f->ask.responder->port);
    }
    connect_next(f);
}

/* "GET <path>/<base64 of the DER request, URL-escaped> HTTP/1.0" */
static char *make_request(const mg_ocsp_ask_t *a, size_t *len)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, a->cert, a->issuer);
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
    /* of base64's bytes, nginx's URI component set escapes '+', '/' and '=' */
    char *esc = mg_alloc(bl * 3 + 1);
    esc[mg_http_escape(b64, bl, esc, MG_ESCAPE_URI_COMPONENT)] = '\0';
    free(b64);
    const mg_ocsp_responder_t *rp = a->responder;
    size_t pl = strlen(rp->path);
    const char *sep = pl && rp->path[pl - 1] == '/' ? "" : "/";
    size_t cap = pl + strlen(esc) + strlen(rp->host) + 64;
    char *out = mg_alloc(cap);
    int n =
        snprintf(out, cap, "GET %s%s%s HTTP/1.0\r\nHost: %s\r\n\r\n", rp->path, sep, esc, rp->host);
    free(esc);
    *len = (size_t)n;
    return out;
}

static void start(mg_ocsp_fetch_t *f)
{
    const mg_ocsp_responder_t *rp = f->ask.responder;
    f->out = make_request(&f->ask, &f->out_len);
    if (f->out == NULL) {
        char q[512];
        fail(f, 0, "OCSP request failed%s", mg_ssl_error_queue(q, sizeof(q)));
        return;
    }
    struct sockaddr_storage sa = {0};
    socklen_t len = 0;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
    if (inet_pton(AF_INET, rp->host, &s4->sin_addr) == 1) {
        sa.ss_family = AF_INET;
        len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, rp->host, &s6->sin6_addr) == 1) {
        sa.ss_family = AF_INET6;
        len = sizeof(*s6);
    }
    if (len == 0 && rp->resolver == NULL && rp->naddrs) {
        /* nginx: a name resolved with the configuration is still asked of `resolver`; with
         * none, a warning and the addresses found then */
        f->addrs = mg_alloc(rp->naddrs * sizeof(*f->addrs));
        f->lens = mg_alloc(rp->naddrs * sizeof(*f->lens));
        memcpy(f->addrs, rp->addrs, rp->naddrs * sizeof(*f->addrs));
        memcpy(f->lens, rp->lens, rp->naddrs * sizeof(*f->lens));
        f->naddrs = rp->naddrs;
        log_fetch(f, MG_LOG_WARN, "no resolver defined to resolve %s", rp->host);
        connect_next(f);
        return;
    }
    if (len) {
        set_port(&sa, rp->port);
        f->addrs = mg_alloc(sizeof(sa));
        f->lens = mg_alloc(sizeof(len));
        f->addrs[0] = sa;
        f->lens[0] = len;
        f->naddrs = 1;
        connect_next(f);
        return;
    }
    if (rp->resolver == NULL) {
        /* a client certificate's own URL (nothing resolved before): nginx's error (stapling
         * names were looked up with the configuration: they have addresses) */
        fail_at(f, f->ask.cert_name ? MG_LOG_WARN : MG_LOG_ERR, 0,
                "no resolver defined to resolve %s", rp->host);
        return;
    }
    mg_str_t name = {strlen(rp->host), rp->host};
    f->rs = mg_resolve_name(f->srv, rp->resolver, name, rp->resolver_timeout, resolved, f);
}

mg_ocsp_fetch_t *mg_ocsp_fetch_start(mg_server_t *srv, const mg_ocsp_ask_t *ask)
{
    mg_ocsp_fetch_t *f = mg_calloc(sizeof(mg_ocsp_fetch_t));
    f->ask = *ask;
    f->srv = srv;
    f->fd = -1;
    f->in = mg_alloc(OCSP_MAX_RESPONSE);
    f->starting = 1;
    start(f);
    f->starting = 0;
    return f;
}

static time_t asn1_time(const ASN1_GENERALIZEDTIME *t)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    return timegm(&tm);
}

const char *mg_ocsp_check(const unsigned char *der, size_t len, X509 *cert, X509 *issuer,
                          STACK_OF(X509) * chain, X509_STORE *store, unsigned long flags,
                          int *status, time_t *valid, char *err, size_t errlen)
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
    if (OCSP_basic_verify(basic, chain, store, flags) != 1) {
        snprintf(err, errlen, "OCSP_basic_verify() failed%s", mg_ssl_error_queue(q, sizeof(q)));
        goto out;
    }
    id = OCSP_cert_to_id(NULL, cert, issuer);
    ASN1_GENERALIZEDTIME *thisupdate = NULL, *nextupdate = NULL;
    if (id == NULL ||
        OCSP_resp_find_status(basic, id, &n, NULL, NULL, &thisupdate, &nextupdate) != 1) {
        snprintf(err, errlen, "certificate status not found in the OCSP response");
        goto out;
    }
    if (OCSP_check_validity(thisupdate, nextupdate, 300, -1) != 1) {
        snprintf(err, errlen, "OCSP_check_validity() failed%s", mg_ssl_error_queue(q, sizeof(q)));
        goto out;
    }
    *status = n;
    *valid = nextupdate ? asn1_time(nextupdate) : 0;
    bad = NULL;
out:
    ERR_clear_error();
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(resp);
    return bad;
}

/* "http://host[:port][/path]": the only form nginx takes */
mg_int_t mg_ocsp_responder_parse(mg_pool_t *pool, const char *url, mg_ocsp_responder_t *r,
                                 const char **why)
{
    r->url = mg_pstrdup(pool, url, strlen(url));
    if (strncasecmp(url, "http://", 7) != 0) {
        return MG_DECLINED;
    }
    const char *h = url + 7, *end = h + strcspn(h, "/?");
    const char *colon = NULL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        colon = rb && rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
    }
    const char *hend = colon ? colon : end;
    r->port = 80;
    if (colon) {
        int64_t p = mg_atoi(colon + 1, (size_t)(end - colon - 1));
        if (p <= 0 || p > 65535) {
            *why = "invalid port";
            return MG_ERROR;
        }
        r->port = (int)p;
    }
    if (*h == '[' && hend > h + 1 && hend[-1] == ']') {
        r->host = mg_pstrdup(pool, h + 1, (size_t)(hend - h - 2));
    } else {
        r->host = mg_pstrdup(pool, h, (size_t)(hend - h));
    }
    if (r->host[0] == '\0') {
        *why = "no host";
        return MG_ERROR;
    }
    r->path = *end == '/' ? mg_pstrdup(pool, end, strlen(end)) : "/";
    return MG_OK;
}

mg_int_t mg_ocsp_responder_resolve(mg_pool_t *pool, mg_ocsp_responder_t *r)
{
    unsigned char a[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, r->host, a) == 1 || inet_pton(AF_INET6, r->host, a) == 1) {
        return MG_OK;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(r->host, NULL, &hints, &res) != 0 || res == NULL) {
        return MG_ERROR;
    }
    size_t n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        n += ai->ai_family == AF_INET || ai->ai_family == AF_INET6;
    }
    r->addrs = mg_pcalloc(pool, (n ? n : 1) * sizeof(*r->addrs));
    r->lens = mg_pcalloc(pool, (n ? n : 1) * sizeof(*r->lens));
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) {
            memcpy(&r->addrs[r->naddrs], ai->ai_addr, ai->ai_addrlen);
            r->lens[r->naddrs] = ai->ai_addrlen;
            set_port(&r->addrs[r->naddrs], r->port);
            r->naddrs++;
        }
    }
    freeaddrinfo(res);
    return r->naddrs ? MG_OK : MG_ERROR;
}

X509 *mg_ocsp_find_issuer(SSL_CTX *ctx, X509 *cert)
{
    STACK_OF(X509) *chain = NULL;
    SSL_CTX_get0_chain_certs(ctx, &chain);
    for (int i = 0; chain && i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        if (X509_check_issued(x, cert) == X509_V_OK) {
            X509_up_ref(x);
            return x;
        }
    }
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    for (int i = 0; objs && i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (x && X509_check_issued(x, cert) == X509_V_OK) {
            X509_up_ref(x);
            return x;
        }
    }
    return NULL;
}
