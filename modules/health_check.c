/*
 * "health_check [interval= jitter= fails= passes= uri= port= match= mandatory [persistent]]"
 * in a proxying location: nginx Plus's active health checks of the location's upstream group,
 * which must have a zone. Each (check, peer) has a record in the zone: its verdict (up, down,
 * checking), the run of fails and passes, when the next check is due and which process runs
 * it. Every worker arms a timer for each record; whoever finds the check due first claims it
 * under the zone's lock, so one check per peer per interval runs for the whole server, and
 * after a HUP or USR2 the records (kept with the zone) still say which peers are down.
 *
 * The balancers skip a peer whose any check says down or checking (peer->hc_down, copied from
 * the zone with the rest of the run-time state; core/http/upstream_rr.c). A check is
 * "GET uri HTTP/1.0" with the location's proxy Host and proxy_set_header lines (variables
 * empty but $proxy_host), its proxy_connect_timeout and proxy_read_timeout; it passes on a
 * 2xx or 3xx, or on what its match block says (upstream_match.c). A "server NAME resolve" slot
 * is checked once a worker's resolver gives it an address (mg_health_check_peer_set): its
 * record is that address's.
 *
 * In a stream server{} (nginx Plus's ngx_stream_upstream_hc_module) the same records, claims
 * and verdicts check the server's proxy_pass group with health_check_timeout: a TCP check
 * passes once connected, or with a match block once its `send` is sent and the data read
 * passes its `expect`; a UDP check ("udp") sends the match's string (else "nginx health
 * check") and passes on the expected answer, or without `expect` when no ICMP error came
 * back within the timeout.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "health_check.h"
#include "proxy_extra.h"
#include "server.h"
#include "stream.h"
#include "upstream.h"

#define HC_MAX_HEAD (64 * 1024)
#define HC_MAX_BODY (256 * 1024)

enum { S_CONNECT, S_SEND, S_READ };

typedef struct {
    mg_str_t uri;
    mg_msec_t interval;
    mg_msec_t jitter;
    mg_int_t fails;
    mg_int_t passes;
    in_port_t port; /* 0: the peer's */
    mg_str_t match_name;
    mg_hc_match_t *match;
    unsigned mandatory : 1;
    unsigned persistent : 1;
    void *plcf; /* the location's proxy conf, read once http{} is merged */
    const char *where;
    mg_upstream_group_t *g;
    mg_str_t request;
    mg_msec_t connect_timeout;
    mg_msec_t read_timeout;
    mg_msec_t *stream_timeout; /* stream: the server's health_check_timeout, merged */
    unsigned stream : 1;
    unsigned udp : 1;
} hc_t;

typedef struct {
    hc_t *hc;
    mg_upstream_peer_t *peer;
    mg_upstream_group_t *g;
    mg_upstream_hc_rec_t *rec; /* NULL: a "resolve" slot without an address yet */
    int list;                  /* where the peer is, for its record's key */
    size_t index;
    unsigned nth;         /* the check's number in its group */
    unsigned k;           /* its record's place in peer->hc */
    unsigned dynamic : 1; /* a "resolve" slot: its record follows its address */
    mg_server_t *srv;
    mg_log_t *log;
    struct event *timer;
    struct event *io;
    int fd;
    int stage;
    size_t sent;
    char *buf;
    size_t len;
    size_t cap;
    /* what evaluate() reads the answer into: allocated at the check's first read event and
     * reused by the next ones (an answer may come in many), freed with buf */
    mg_hc_response_t *resp;
} hc_peer_t;

typedef struct {
    mg_array_t checks; /* hc_t * */
    mg_array_t peers;  /* hc_peer_t */
} hc_main_conf_t;

mg_module_t mg_health_check_module;
extern mg_module_t mg_proxy_module;
extern mg_module_t mg_stream_proxy_module;

static void *hc_create_main_conf(mg_conf_t *cf)
{
    hc_main_conf_t *hmcf = mg_pcalloc(cf->pool, sizeof(*hmcf));
    mg_array_init(&hmcf->checks, cf->pool, 2, sizeof(hc_t *));
    mg_array_init(&hmcf->peers, cf->pool, 4, sizeof(hc_peer_t));
    return hmcf;
}

static int param(mg_str_t a, const char *name, mg_str_t *v)
{
    size_t n = strlen(name);
    if (a.len > n && memcmp(a.data, name, n) == 0 && a.data[n] == '=') {
        v->data = a.data + n + 1;
        v->len = a.len - n - 1;
        return 1;
    }
    return 0;
}

static const char *hc_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    hc_main_conf_t *hmcf = conf;
    int stream = (cf->ctx & MG_CTX_STREAM_SRV) != 0;
    hc_t *hc = mg_pcalloc(cf->pool, sizeof(*hc));
    hc->stream = stream;
    mg_str_set(&hc->uri, "/");
    hc->interval = 5000;
    hc->fails = 1;
    hc->passes = 1;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i], v;
        int64_t n;
        if (param(a, "interval", &v) || param(a, "jitter", &v)) {
            n = mg_parse_time(v, 0);
            if (n < 0 || (a.data[0] == 'i' && n == 0)) {
                goto invalid;
            }
            *(a.data[0] == 'i' ? &hc->interval : &hc->jitter) = (mg_msec_t)n;
        } else if (param(a, "fails", &v) || param(a, "passes", &v)) {
            n = mg_atoi(v.data, v.len);
            if (n <= 0) {
                goto invalid;
            }
            *(a.data[0] == 'f' ? &hc->fails : &hc->passes) = (mg_int_t)n;
        } else if (stream && mg_str_eq(a, "udp")) {
            hc->udp = 1;
        } else if (!stream && param(a, "uri", &v)) {
            if (v.len == 0 || v.data[0] != '/') {
                goto invalid;
            }
            hc->uri = v;
        } else if (param(a, "port", &v)) {
            n = mg_atoi(v.data, v.len);
            if (n <= 0 || n > 65535) {
                goto invalid;
            }
            hc->port = (in_port_t)n;
        } else if (param(a, "match", &v)) {
            hc->match_name = v;
        } else if (mg_str_eq(a, "mandatory")) {
            hc->mandatory = 1;
        } else if (mg_str_eq(a, "persistent")) {
            hc->persistent = 1;
        } else {
            goto invalid;
        }
        continue;
    invalid:
        mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)a.len, a.data);
        return MG_CONF_ERROR;
    }
    if (hc->persistent && !hc->mandatory) {
        mg_conf_error(cf, 0, "\"persistent\" requires \"mandatory\"");
        return MG_CONF_ERROR;
    }
    if (stream) {
        hc->plcf = mg_stream_conf_get_srv(cf, mg_stream_proxy_module);
        hc->stream_timeout = mg_stream_conf_get_srv(cf, mg_health_check_module);
    } else {
        hc->plcf = mg_http_conf_get_loc(cf, mg_proxy_module);
    }
    const char *w = mg_conf_where(cf);
    hc->where = mg_pstr(cf->pool, w, strlen(w)).data;
    *(hc_t **)mg_array_push(&hmcf->checks) = hc;
    return MG_CONF_OK;
}

/* ---- at the end of http{}: the groups, their zone records ---- */

/* What a "resolve" slot's balancer sees until it has an address (it is down until then). */
static mg_upstream_hc_rec_t unused_rec = {.state = MG_HC_UP};

static void peer_add_hc(mg_pool_t *pool, mg_upstream_peer_t *p, mg_upstream_hc_rec_t *rec)
{
    void **a = mg_palloc(pool, (p->nhc + 1) * sizeof(void *));
    if (p->nhc) {
        memcpy(a, p->hc, p->nhc * sizeof(void *));
    }
    a[p->nhc++] = rec;
    p->hc = a;
}

/* The check's records: a new peer starts up, or checking with "mandatory"; a kept record keeps
 * its verdict over a reload, except that "mandatory" without "persistent" checks again. */
static mg_int_t hc_records(mg_conf_t *cf, hc_main_conf_t *hmcf, hc_t *hc, unsigned n)
{
    mg_upstream_group_t *g = hc->g;
    mg_array_t *lists[2] = {&g->peers, &g->backup};
    for (int l = 0; l < 2; l++) {
        mg_upstream_peer_t *p = lists[l]->elts;
        for (size_t i = 0; i < lists[l]->nelts; i++) {
            if (p[i].name.len == 0) {
                /* a "resolve" slot: checked once a worker's resolver gives it an address */
                peer_add_hc(cf->pool, &p[i], &unused_rec);
                hc_peer_t *hp = mg_array_push(&hmcf->peers);
                *hp = (hc_peer_t){.hc = hc,
                                  .g = g,
                                  .peer = &p[i],
                                  .list = l,
                                  .index = i,
                                  .nth = n,
                                  .k = p[i].nhc - 1,
                                  .dynamic = 1,
                                  .fd = -1};
                continue;
            }
            if (p[i].down) {
                continue; /* down in the configuration: never served */
            }
            int created;
            mg_upstream_zone_lock(g);
            mg_upstream_hc_rec_t *rec = mg_upstream_zone_hc(g, l, i, &p[i], n, 1, &created);
            if (rec && (created || (hc->mandatory && !hc->persistent))) {
                rec->state = hc->mandatory ? MG_HC_CHECKING : MG_HC_UP;
                rec->fails = rec->passes = 0;
                rec->next = 0;
            } else if (rec && hc->mandatory && rec->state == MG_HC_CHECKING) {
                rec->next = 0;
            }
            mg_upstream_zone_unlock(g);
            if (rec == NULL) {
                mg_log_error(MG_LOG_EMERG, cf->log, 0,
                             "could not allocate memory in upstream zone \"%.*s\"",
                             (int)g->zone_name.len, g->zone_name.data);
                return MG_ERROR;
            }
            peer_add_hc(cf->pool, &p[i], rec);
            hc_peer_t *hp = mg_array_push(&hmcf->peers);
            memset(hp, 0, sizeof(*hp));
            hp->hc = hc;
            hp->g = g;
            hp->peer = &p[i];
            hp->rec = rec;
            hp->fd = -1;
        }
    }
    return MG_OK;
}

static mg_int_t hc_init(mg_conf_t *cf)
{
    hc_main_conf_t *hmcf = mg_http_conf_get_main(cf, mg_health_check_module);
    hc_t **hcs = hmcf->checks.elts;
    for (size_t k = 0; k < hmcf->checks.nelts; k++) {
        hc_t *hc = hcs[k];
        mg_str_t host;
        if (hc->stream) {
            hc->g = mg_stream_proxy_target(hc->plcf, &hc->connect_timeout);
            hc->read_timeout = *hc->stream_timeout;
        } else {
            hc->g = mg_proxy_loc_target(hc->plcf, &host, &hc->connect_timeout, &hc->read_timeout);
        }
        if (hc->g == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "\"health_check\" requires \"proxy_pass\" to an upstream group in %s",
                         hc->where);
            return MG_ERROR;
        }
        if (hc->g->zone == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "\"health_check\" requires upstream \"%.*s\" to be in shared memory in %s",
                         (int)hc->g->name.len, hc->g->name.data, hc->where);
            return MG_ERROR;
        }
        if (hc->match_name.len) {
            hc->match = mg_hc_match_find(cf, hc->match_name);
            if (hc->match == NULL) {
                mg_log_error(MG_LOG_EMERG, cf->log, 0, "match \"%.*s\" not found in %s",
                             (int)hc->match_name.len, hc->match_name.data, hc->where);
                return MG_ERROR;
            }
        }
        if (hc->stream) {
            hc->request = hc->match ? mg_hc_match_send(hc->match) : (mg_str_t)mg_null_string;
            if (hc->udp && hc->request.len == 0) {
                mg_str_set(&hc->request, "nginx health check");
            }
        } else {
            /* the location's proxy_set_header lines go along, as nginx Plus's checks use the
             * location's proxy settings (variables empty: there is no request) */
            mg_str_t extra = mg_proxy_loc_check_headers(hc->plcf, cf->pool, &host);
            size_t len = hc->uri.len + host.len + extra.len + 64;
            char *req = mg_palloc(cf->pool, len);
            int n =
                snprintf(req, len, "GET %.*s HTTP/1.0\r\n%s%.*s%s%.*sConnection: close\r\n\r\n",
                         (int)hc->uri.len, hc->uri.data, host.len ? "Host: " : "", (int)host.len,
                         host.data, host.len ? "\r\n" : "", (int)extra.len, extra.data);
            hc->request = (mg_str_t){(size_t)n, req};
        }
        unsigned nth = 0; /* the record key: the group's checks in configuration order */
        for (size_t j = 0; j < k; j++) {
            nth += hcs[j]->g == hc->g;
        }
        if (hc_records(cf, hmcf, hc, nth) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}

/* ---- a check ---- */

static void schedule(hc_peer_t *hp);
static void on_io(evutil_socket_t fd, short what, void *arg);

static void log_ctx(hc_peer_t *hp, char *buf, size_t len)
{
    snprintf(buf, len, ", health check \"%.*s\" of peer %.*s in upstream \"%.*s\"",
             (int)hp->hc->match_name.len, hp->hc->match_name.data, (int)hp->peer->name.len,
             hp->peer->name.data, (int)hp->g->name.len, hp->g->name.data);
}

static void close_check(hc_peer_t *hp)
{
    if (hp->io) {
        event_free(hp->io);
        hp->io = NULL;
    }
    if (hp->fd >= 0) {
        close(hp->fd);
        hp->fd = -1;
    }
    free(hp->buf);
    hp->buf = NULL;
    hp->len = hp->cap = 0;
    free(hp->resp);
    hp->resp = NULL;
}

/* The verdict: `what` NULL passed; else the stage for the log ("connecting to upstream").
 * Logged after the lock is given back. */
static void finish(hc_peer_t *hp, const char *what)
{
    close_check(hp);
    hc_t *hc = hp->hc;
    mg_upstream_hc_rec_t *rec = hp->rec;
    int changed = 0;
    mg_upstream_zone_lock(hp->g);
    rec->checks++;
    if (rec->owner == (int32_t)getpid()) {
        rec->owner = 0;
    }
    if (what == NULL) {
        rec->fails = 0;
        rec->passes++;
        if (rec->state == MG_HC_CHECKING ||
            (rec->state == MG_HC_DOWN && rec->passes >= (uint32_t)hc->passes)) {
            rec->state = MG_HC_UP;
            changed = 1;
        }
    } else {
        rec->passes = 0;
        rec->fails++;
        if (rec->state == MG_HC_CHECKING ||
            (rec->state == MG_HC_UP && rec->fails >= (uint32_t)hc->fails)) {
            rec->state = MG_HC_DOWN;
            changed = 1;
        }
    }
    mg_upstream_zone_unlock(hp->g);
    if (changed) {
        char ctx[512];
        log_ctx(hp, ctx, sizeof(ctx));
        if (what) {
            mg_log_error(MG_LOG_WARN, hp->log, 0, "peer is unhealthy while %s%s", what, ctx);
        } else {
            mg_log_error(MG_LOG_NOTICE, hp->log, 0, "peer is healthy%s", ctx);
        }
    }
}

/* An I/O failure or an answer that is no HTTP response: logged as nginx logs an upstream's. */
static void fail(hc_peer_t *hp, int err, const char *msg, const char *what)
{
    char ctx[512];
    log_ctx(hp, ctx, sizeof(ctx));
    if (err) {
        mg_log_error(MG_LOG_ERR, hp->log, 0, "%s (%d: %s) while %s%s", msg, err, strerror(err),
                     what, ctx);
    } else {
        mg_log_error(MG_LOG_ERR, hp->log, 0, "%s while %s%s", msg, what, ctx);
    }
    finish(hp, what);
}

static const char *const reading = "reading response header from upstream";

/* The HTTP response read so far: MG_AGAIN for more, MG_OK with resp filled, MG_ERROR with *err
 * the log's words. The body (up to eof, Content-Length or 256k) is waited for only when
 * want_body: a check without a match block looks at the status alone. */
static mg_int_t parse_response(const char *buf, size_t len, int eof, int want_body,
                               mg_hc_response_t *resp, const char **err)
{
    const char *p = buf, *end = buf + len;
    const char *more = eof ? "upstream prematurely closed connection" : NULL;
    if (len >= HC_MAX_HEAD && !eof) {
        more = "upstream sent too big header";
    }
    if (len >= 5 && memcmp(p, "HTTP/", 5) != 0) {
        *err = "upstream sent invalid status line";
        return MG_ERROR;
    }
    const char *nl = memchr(p, '\n', len);
    if (nl == NULL) {
        *err = more;
        return more ? MG_ERROR : MG_AGAIN;
    }
    resp->nheaders = 0;
    /* "HTTP/d.d SSS" */
    const char *sp = memchr(p, ' ', (size_t)(nl - p));
    int status = -1;
    if (sp && nl - sp >= 4 && sp - p >= 8) {
        status = (int)mg_atoi(sp + 1, 3);
    }
    if (status < 100 || status > 999 || (nl - sp > 4 && sp[4] != ' ' && sp[4] != '\r')) {
        *err = "upstream sent invalid status line";
        return MG_ERROR;
    }
    resp->status = status;
    const char *line = nl + 1;
    for (;;) {
        nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL) {
            *err = more;
            return more ? MG_ERROR : MG_AGAIN;
        }
        const char *le = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
        if (le == line) {
            line = nl + 1;
            break;
        }
        const char *colon = memchr(line, ':', (size_t)(le - line));
        if (colon == NULL || colon == line) {
            *err = "upstream sent invalid header";
            return MG_ERROR;
        }
        if (resp->nheaders < MG_HC_MAX_HEADERS) {
            const char *v = colon + 1;
            while (v < le && (*v == ' ' || *v == '\t')) {
                v++;
            }
            resp->names[resp->nheaders] = (mg_str_t){(size_t)(colon - line), (char *)line};
            resp->values[resp->nheaders] = (mg_str_t){(size_t)(le - v), (char *)v};
            resp->nheaders++;
        }
        line = nl + 1;
    }
    int64_t clen = -1;
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (resp->names[i].len == 14 &&
            mg_strncasecmp(resp->names[i].data, "content-length", 14) == 0) {
            clen = mg_atoi(resp->values[i].data, resp->values[i].len);
        }
    }
    size_t body = (size_t)(end - line);
    if (want_body && !eof && body < HC_MAX_BODY && (clen < 0 || body < (size_t)clen)) {
        return MG_AGAIN;
    }
    if (clen >= 0 && body > (size_t)clen) {
        body = (size_t)clen;
    }
    resp->body = (mg_str_t){body < HC_MAX_BODY ? body : HC_MAX_BODY, (char *)line};
    return MG_OK;
}

/* Parse what was read: MG_AGAIN for more, MG_OK with a verdict given, MG_ERROR failed. */
static mg_int_t evaluate(hc_peer_t *hp, int eof)
{
    if (hp->resp == NULL) {
        hp->resp = mg_alloc(sizeof(*hp->resp));
    }
    mg_hc_response_t *resp = hp->resp;
    const char *err = NULL;
    mg_int_t rc = parse_response(hp->buf, hp->len, eof, hp->hc->match != NULL, resp, &err);
    if (rc != MG_OK) {
        if (rc == MG_ERROR) {
            fail(hp, 0, err, reading);
        }
        return rc;
    }
    const char *bad = NULL;
    if (hp->hc->match) {
        bad = mg_hc_match_test(hp->hc->match, resp);
    } else if (resp->status < 200 || resp->status > 399) {
        bad = "status";
    }
    if (bad == NULL) {
        finish(hp, NULL);
    } else {
        finish(hp, bad[0] == 's'   ? "checking status code"
                   : bad[0] == 'h' ? "checking headers"
                                   : "checking body");
    }
    return MG_OK;
}

/* stream: the data read so far against the match's expect (UDP: one datagram, whole) */
static mg_int_t evaluate_stream(hc_peer_t *hp, int eof)
{
    int rc = hp->hc->match && mg_hc_match_expects(hp->hc->match)
                 ? mg_hc_match_expect(hp->hc->match, (mg_str_t){hp->len, hp->buf}, eof)
                 : 1;
    if (rc == 0) {
        return MG_AGAIN;
    }
    finish(hp, rc > 0 ? NULL : "checking response");
    return MG_OK;
}

static int waits_for_data(hc_t *hc)
{
    return hc->udp || (hc->match && mg_hc_match_expects(hc->match));
}

static void arm(hc_peer_t *hp, short what, mg_msec_t timeout)
{
    if (hp->io == NULL) {
        hp->io = event_new(hp->srv->base, hp->fd, what, on_io, hp);
    } else {
        event_del(hp->io);
        event_assign(hp->io, hp->srv->base, hp->fd, what, on_io, hp);
    }
    struct timeval tv = {(time_t)(timeout / 1000), (suseconds_t)(timeout % 1000) * 1000};
    event_add(hp->io, &tv);
}

static void do_read(hc_peer_t *hp)
{
    for (;;) {
        if (hp->cap - hp->len < 4096) {
            hp->cap = hp->cap ? hp->cap * 2 : 8192;
            hp->buf = mg_realloc(hp->buf, hp->cap);
        }
        ssize_t n = recv(hp->fd, hp->buf + hp->len, hp->cap - hp->len, 0);
        if (n >= 0 && hp->hc->udp) {
            hp->len += (size_t)n;
            evaluate_stream(hp, 1);
            return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if ((hp->hc->stream ? evaluate_stream(hp, 0) : evaluate(hp, 0)) == MG_AGAIN) {
                arm(hp, EV_READ, hp->hc->read_timeout);
            }
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail(hp, errno, "recv() failed", hp->hc->stream ? "reading from upstream" : reading);
            return;
        }
        hp->len += (size_t)n;
        if (n == 0 || hp->len >= HC_MAX_HEAD + HC_MAX_BODY) {
            hp->hc->stream ? evaluate_stream(hp, 1) : evaluate(hp, 1);
            return;
        }
    }
}

static void do_send(hc_peer_t *hp)
{
    mg_str_t req = hp->hc->request;
    while (hp->sent < req.len) {
        ssize_t n = send(hp->fd, req.data + hp->sent, req.len - hp->sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            arm(hp, EV_WRITE, hp->hc->read_timeout);
            return;
        }
        if (n < 0 && errno != EINTR) {
            fail(hp, errno, "send() failed", "sending request to upstream");
            return;
        }
        if (n > 0) {
            hp->sent += (size_t)n;
        }
    }
    if (hp->hc->stream && !waits_for_data(hp->hc)) {
        finish(hp, NULL); /* a TCP check without expect: connected (and sent) is enough */
        return;
    }
    hp->stage = S_READ;
    arm(hp, EV_READ, hp->hc->read_timeout);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    hc_peer_t *hp = arg;
    mg_time_update();
    static const char *const stages[] = {"connecting to upstream", "sending request to upstream",
                                         "reading response header from upstream"};
    if (what & EV_TIMEOUT) {
        if (hp->hc->udp && hp->stage == S_READ &&
            !(hp->hc->match && mg_hc_match_expects(hp->hc->match))) {
            finish(hp, NULL); /* UDP without expect: no ICMP error came back */
            return;
        }
        fail(hp, ETIMEDOUT, "upstream timed out",
             hp->hc->stream && hp->stage == S_READ ? "reading from upstream" : stages[hp->stage]);
        return;
    }
    if (hp->stage == S_CONNECT) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(hp->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            fail(hp, err, "connect() failed", stages[S_CONNECT]);
            return;
        }
        hp->stage = S_SEND;
    }
    if (hp->stage == S_SEND) {
        do_send(hp);
    } else {
        do_read(hp);
    }
}

static void start_check(hc_peer_t *hp)
{
    struct sockaddr_storage sa = hp->peer->sockaddr;
    if (hp->hc->port && sa.ss_family == AF_INET) {
        ((struct sockaddr_in *)&sa)->sin_port = htons(hp->hc->port);
    } else if (hp->hc->port && sa.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&sa)->sin6_port = htons(hp->hc->port);
    }
    hp->stage = S_CONNECT;
    hp->sent = 0;
    hp->fd = socket(sa.ss_family,
                    (hp->hc->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (hp->fd < 0) {
        fail(hp, errno, "socket() failed", "connecting to upstream");
        return;
    }
    if (connect(hp->fd, (struct sockaddr *)&sa, hp->peer->socklen) < 0 && errno != EINPROGRESS) {
        fail(hp, errno, "connect() failed", "connecting to upstream");
        return;
    }
    arm(hp, EV_WRITE, hp->hc->connect_timeout);
}

/* The claim: the check is due and nobody runs it (or its runner died or hangs). */
static int claim(hc_peer_t *hp, mg_msec_t now)
{
    mg_upstream_hc_rec_t *rec = hp->rec;
    if (now < rec->next) {
        return 0;
    }
    if (rec->owner && (rec->owner == (int32_t)getpid() || kill(rec->owner, 0) == 0) &&
        now - rec->started < hp->hc->connect_timeout + 2 * hp->hc->read_timeout + 1000) {
        return 0;
    }
    rec->owner = (int32_t)getpid();
    rec->started = now;
    rec->next = now + hp->hc->interval;
    return 1;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hc_peer_t *hp = arg;
    mg_time_update();
    if (hp->srv->quitting) {
        return; /* a draining or quitting worker checks no more: the next generation does */
    }
    if (hp->rec == NULL || (hp->dynamic && hp->peer->down)) {
        schedule(hp); /* a slot without an address, or one its name no longer has */
        return;
    }
    mg_upstream_zone_lock(hp->g);
    int mine = hp->fd < 0 && claim(hp, mg_now.monotonic);
    mg_upstream_zone_unlock(hp->g);
    if (mine) {
        start_check(hp);
    }
    schedule(hp);
}

static void schedule(hc_peer_t *hp)
{
    mg_msec_t now = mg_now.monotonic;
    mg_msec_t next = now + hp->hc->interval;
    if (hp->rec) {
        mg_upstream_zone_lock(hp->g);
        next = hp->rec->next;
        mg_upstream_zone_unlock(hp->g);
    }
    /* not before it is due; while another process's check runs late, look again soon */
    mg_msec_t delay = next > now ? next - now : 100;
    if (hp->hc->jitter) {
        delay += (mg_msec_t)random() % hp->hc->jitter;
    }
    struct timeval tv = {(time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000};
    evtimer_add(hp->timer, &tv);
}

/* ---- workers ---- */

static hc_main_conf_t *cycle_conf(mg_cycle_t *cycle, int layer);

void mg_health_check_peer_set(mg_cycle_t *cycle, mg_upstream_group_t *g, mg_upstream_peer_t *p)
{
    hc_main_conf_t *hmcf = cycle_conf(cycle, 0);
    if (hmcf == NULL) {
        return;
    }
    hc_peer_t *hp = hmcf->peers.elts;
    for (size_t i = 0; i < hmcf->peers.nelts; i++) {
        if (!hp[i].dynamic || hp[i].peer != p) {
            continue;
        }
        if (hp[i].fd >= 0) {
            close_check(&hp[i]); /* the slot's former address: its verdict is its own */
            if (hp[i].rec && hp[i].rec->owner == (int32_t)getpid()) {
                hp[i].rec->owner = 0;
            }
        }
        hc_t *hc = hp[i].hc;
        int created;
        /* keyed by the address: every worker resolving the name finds the same record, and
         * one kept over a reload keeps its verdict; the former address's goes back after
         * (the same address again keeps its record) */
        mg_upstream_hc_rec_t *rec =
            mg_upstream_zone_hc(g, hp[i].list, hp[i].index, p, hp[i].nth, 0, &created);
        if (hp[i].rec) {
            mg_upstream_zone_release_hc(g, hp[i].rec);
            hp[i].rec = NULL;
            p->hc[hp[i].k] = &unused_rec;
        }
        if (rec && created) {
            rec->state = hc->mandatory ? MG_HC_CHECKING : MG_HC_UP;
            rec->fails = rec->passes = 0;
            rec->next = 0;
        }
        if (rec == NULL) {
            mg_log_error(MG_LOG_ERR, cycle->log, 0,
                         "could not allocate memory in upstream zone \"%.*s\", peer %.*s is not "
                         "checked",
                         (int)g->zone_name.len, g->zone_name.data, (int)p->name.len, p->name.data);
            continue;
        }
        hp[i].rec = rec;
        p->hc[hp[i].k] = rec;
        if (hp[i].timer) {
            /* check it now: with "mandatory" it gets no request until it passes */
            evtimer_del(hp[i].timer);
            struct timeval tv = {0, 0};
            evtimer_add(hp[i].timer, &tv);
        }
    }
}

/* layer 0: http{}, 1: stream{} */
static hc_main_conf_t *cycle_conf(mg_cycle_t *cycle, int layer)
{
    mg_conf_ctx_t *ctx = layer ? cycle->stream : cycle->http;
    return ctx ? ctx->main_conf[mg_health_check_module.index] : NULL;
}

static void stop_all(void *data)
{
    hc_main_conf_t *hmcf = data;
    hc_peer_t *hp = hmcf->peers.elts;
    for (size_t i = 0; i < hmcf->peers.nelts; i++) {
        if (hp[i].timer) {
            event_free(hp[i].timer);
            hp[i].timer = NULL;
        }
        if (hp[i].fd >= 0 && hp[i].rec) {
            /* a check cut short: give it back, so another process runs it at once */
            mg_upstream_zone_lock(hp[i].g);
            if (hp[i].rec->owner == (int32_t)getpid()) {
                hp[i].rec->owner = 0;
                hp[i].rec->next = 0;
            }
            mg_upstream_zone_unlock(hp[i].g);
        }
        close_check(&hp[i]);
        if (hp[i].dynamic && hp[i].rec) {
            /* a resolved address's record: this worker reads it no more */
            mg_upstream_zone_lock(hp[i].g);
            mg_upstream_zone_release_hc(hp[i].g, hp[i].rec);
            mg_upstream_zone_unlock(hp[i].g);
            hp[i].rec = NULL;
            hp[i].peer->hc[hp[i].k] = &unused_rec;
        }
    }
}

static mg_int_t hc_init_worker(mg_cycle_t *cycle)
{
    srandom((unsigned)getpid() ^ (unsigned)mg_now.monotonic);
    for (int layer = 0; layer < 2; layer++) {
        hc_main_conf_t *hmcf = cycle_conf(cycle, layer);
        if (hmcf == NULL || hmcf->peers.nelts == 0 || cycle->server == NULL) {
            continue;
        }
        hc_peer_t *hp = hmcf->peers.elts;
        for (size_t i = 0; i < hmcf->peers.nelts; i++) {
            hp[i].srv = cycle->server;
            hp[i].log = cycle->log;
            hp[i].timer = evtimer_new(cycle->server->base, on_timer, &hp[i]);
            schedule(&hp[i]);
        }
        mg_pool_cleanup_add(cycle->pool, stop_all, hmcf);
    }
    return MG_OK;
}

static void hc_exit_worker(mg_cycle_t *cycle)
{
    for (int layer = 0; layer < 2; layer++) {
        hc_main_conf_t *hmcf = cycle_conf(cycle, layer);
        if (hmcf) {
            stop_all(hmcf);
        }
    }
}

/* stream: health_check_timeout, per server */
static void *hc_create_srv_conf(mg_conf_t *cf)
{
    mg_msec_t *t = mg_palloc(cf->pool, sizeof(*t));
    *t = MG_CONF_UNSET;
    return t;
}

static const char *hc_merge_srv_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    mg_msec_t *prev = parent, *conf = child;
    mg_conf_merge(*conf, *prev, 5000);
    return MG_CONF_OK;
}

static const mg_stream_module_t hc_stream = {
    .create_main_conf = hc_create_main_conf,
    .create_srv_conf = hc_create_srv_conf,
    .merge_srv_conf = hc_merge_srv_conf,
    .init = hc_init,
};

static const mg_command_t hc_commands[] = {
    {"health_check", MG_CTX_LOCATION | MG_CTX_STREAM_SRV, MG_ARGS(0, MG_MANY), hc_set, MG_MAIN_CONF,
     0, NULL},
    {"health_check_timeout", MG_CTX_STREAM | MG_CTX_STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_msec,
     MG_SRV_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t hc_defaults[] = {
    {"health_check", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_health_check_module = {
    .name = "health_check",
    .commands = hc_commands,
    .defaults = hc_defaults,
    .create_main_conf = hc_create_main_conf,
    .init = hc_init,
    .init_worker = hc_init_worker,
    .exit_worker = hc_exit_worker,
    .stream = &hc_stream,
};
