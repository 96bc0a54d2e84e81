/*
 * The asynchronous DNS client (see resolver.h). A question for a name goes out once per
 * server and resolver however many callers wait for it (A, and AAAA unless ipv6=off: two
 * evdns requests answered together); each caller has its own timer (its resolver_timeout), so
 * a caller that gives up leaves the question running for the others and for the cache.
 * Answers with addresses are kept for valid= or the smallest TTL; errors are not kept.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <strings.h>

#include <event2/dns.h>

#include "listen.h"
#include "mgtime.h"
#include "resolver.h"
#include "server.h"
#include "str.h"

typedef struct cache_s {
    struct cache_s *next;
    char *name;
    struct sockaddr_storage *addrs;
    size_t naddrs;
    mg_msec_t expire; /* monotonic */
} cache_t;

typedef struct mg_resolve_query_s query_t;

/* one evdns request of a question: A or AAAA */
/* evdns's wait for one answer, in seconds: as text for its option, in ms for on_answer */
#define EVDNS_TIMEOUT_TEXT "5"
#define EVDNS_TIMEOUT_MS 5000

typedef struct {
    query_t *q;
    int state;
    struct sockaddr_storage *addrs;
    size_t naddrs;
} half_t;

struct mg_resolve_query_s {
    query_t *next;
    struct mg_resolver_rt_s *rt;
    char *name;
    int pending; /* evdns requests not answered yet */
    half_t h4, h6;
    mg_msec_t valid; /* valid=, or 0: the smallest TTL */
    uint32_t ttl;
    mg_resolve_t *waiters;
    mg_msec_t started; /* monotonic, to tell a SERVFAIL from a timeout (on_answer) */
};

struct mg_resolver_rt_s {
    struct mg_resolver_rt_s *next;
    mg_server_t *srv;
    char *key;
    struct evdns_base *dns;
    cache_t *cache;
    query_t *queries;
};
typedef struct mg_resolver_rt_s rt_t;

/* ---- configuration ---- */

static int parse_server(mg_conf_t *cf, mg_str_t a, mg_resolver_t *res, mg_array_t *addrs)
{
    char host[256];
    const char *port = NULL;
    size_t hl;
    if (a.len && a.data[0] == '[') {
        const char *rb = memchr(a.data, ']', a.len);
        if (rb == NULL || (size_t)(rb - a.data - 1) >= sizeof(host)) {
            mg_conf_error(cf, 0, "invalid host in resolver \"%.*s\"", (int)a.len, a.data);
            return -1;
        }
        hl = (size_t)(rb - a.data - 1);
        memcpy(host, a.data + 1, hl);
        if (rb + 1 < a.data + a.len) {
            if (rb[1] != ':') {
                mg_conf_error(cf, 0, "invalid host in resolver \"%.*s\"", (int)a.len, a.data);
                return -1;
            }
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(a.data, ':', a.len);
        hl = colon ? (size_t)(colon - a.data) : a.len;
        if (hl >= sizeof(host)) {
            mg_conf_error(cf, 0, "invalid host in resolver \"%.*s\"", (int)a.len, a.data);
            return -1;
        }
        memcpy(host, a.data, hl);
        port = colon ? colon + 1 : NULL;
    }
    host[hl] = '\0';
    int64_t pn = 53;
    if (port) {
        pn = mg_atoi(port, (size_t)(a.data + a.len - port));
        if (pn < 1 || pn > 65535) {
            mg_conf_error(cf, 0, "invalid port in resolver \"%.*s\"", (int)a.len, a.data);
            return -1;
        }
    }
    if (hl == 0) {
        mg_conf_error(cf, 0, "no host in resolver \"%.*s\"", (int)a.len, a.data);
        return -1;
    }
    char pt[8];
    snprintf(pt, sizeof(pt), "%d", (int)pn);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, pt, &hints, &ai) != 0 || ai == NULL) {
        mg_conf_error(cf, 0, "host not found in resolver \"%.*s\"", (int)a.len, a.data);
        return -1;
    }
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        if (p->ai_family != AF_INET && p->ai_family != AF_INET6) {
            continue;
        }
        struct sockaddr_storage *ss = mg_array_push(addrs);
        memset(ss, 0, sizeof(*ss));
        memcpy(ss, p->ai_addr, p->ai_addrlen);
        res->naddrs++;
    }
    freeaddrinfo(ai);
    return 0;
}

static int on_off(mg_str_t v, size_t skip, int *out)
{
    mg_str_t s = {v.len - skip, v.data + skip};
    if (mg_str_eq(s, "on")) {
        *out = 1;
    } else if (mg_str_eq(s, "off")) {
        *out = 0;
    } else {
        return -1;
    }
    return 0;
}

mg_resolver_t *mg_resolver_conf(mg_conf_t *cf)
{
    mg_resolver_t *res = mg_pcalloc(cf->pool, sizeof(*res));
    mg_array_t addrs;
    mg_array_init(&addrs, cf->pool, 2, sizeof(struct sockaddr_storage));
    int ipv4 = 1, ipv6 = 1;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t v = cf->args[i];
        if (v.len > 6 && memcmp(v.data, "valid=", 6) == 0) {
            mg_str_t t = {v.len - 6, v.data + 6};
            int64_t s = mg_parse_time(t, 1);
            if (s < 0) {
                goto invalid;
            }
            res->valid = (mg_msec_t)s * 1000;
        } else if (v.len > 5 && memcmp(v.data, "ipv4=", 5) == 0) {
            if (on_off(v, 5, &ipv4) < 0) {
                goto invalid;
            }
        } else if (v.len > 5 && memcmp(v.data, "ipv6=", 5) == 0) {
            if (on_off(v, 5, &ipv6) < 0) {
                goto invalid;
            }
        } else if (v.len > 12 && memcmp(v.data, "status_zone=", 12) == 0) {
            /* NGINX Plus's statistics: moongate has no API to show them */
        } else if (parse_server(cf, v, res, &addrs) < 0) {
            return NULL;
        }
        continue;
    invalid:
        mg_conf_error(cf, 0, "invalid parameter: %.*s", (int)v.len, v.data);
        return NULL;
    }
    if (!ipv4 && !ipv6) {
        mg_conf_error(cf, 0, "\"ipv4\" and \"ipv6\" cannot both be \"off\"");
        return NULL;
    }
    res->ipv4 = ipv4;
    res->ipv6 = ipv6;
    res->addrs = addrs.elts;
    res->lens = mg_pcalloc(cf->pool, (res->naddrs + 1) * sizeof(socklen_t));
    size_t klen = 1;
    char text[128];
    for (size_t i = 0; i < res->naddrs; i++) {
        res->lens[i] = res->addrs[i].ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                          : sizeof(struct sockaddr_in6);
        klen += mg_sockaddr_text((struct sockaddr *)&res->addrs[i], text, sizeof(text), 1) + 1;
    }
    res->key = mg_pnalloc(cf->pool, klen);
    char *p = res->key;
    for (size_t i = 0; i < res->naddrs; i++) {
        size_t n = mg_sockaddr_text((struct sockaddr *)&res->addrs[i], p,
                                    klen - (size_t)(p - res->key), 1);
        p += n;
        *p++ = ' ';
    }
    *p = '\0';
    return res;
}

/* ---- run time ---- */

const char *mg_resolve_strerror(int state)
{
    switch (state) {
    case MG_RESOLVE_FORMERR:
        return "Format error";
    case MG_RESOLVE_SERVFAIL:
        return "Server failure";
    case MG_RESOLVE_NXDOMAIN:
        return "Host not found";
    case MG_RESOLVE_NOTIMP:
        return "Unimplemented";
    case MG_RESOLVE_REFUSED:
        return "Operation refused";
    case MG_RESOLVE_TIMEDOUT:
        return "Operation timed out";
    }
    return "Unknown error";
}

static rt_t *rt_get(mg_server_t *srv, mg_resolver_t *res)
{
    for (rt_t *rt = srv->resolvers; rt; rt = rt->next) {
        if (strcmp(rt->key, res->key) == 0) {
            return rt;
        }
    }
    rt_t *rt = mg_calloc(sizeof(*rt));
    rt->srv = srv;
    rt->key = mg_alloc(strlen(res->key) + 1);
    strcpy(rt->key, res->key);
    /* no resolv.conf, and the socket watched only while questions are out */
    rt->dns = evdns_base_new(srv->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (rt->dns == NULL) {
        abort(); /* out of memory, as mg_alloc */
    }
    evdns_base_set_option(rt->dns, "randomize-case:", "0");
    evdns_base_set_option(rt->dns, "timeout:", EVDNS_TIMEOUT_TEXT);
    evdns_base_set_option(rt->dns, "attempts:", "6");
    for (size_t i = 0; i < res->naddrs; i++) {
        evdns_base_nameserver_sockaddr_add(rt->dns, (struct sockaddr *)&res->addrs[i], res->lens[i],
                                           0);
    }
    rt->next = srv->resolvers;
    srv->resolvers = rt;
    return rt;
}

static void addrs_copy(mg_resolve_t *rs, const struct sockaddr_storage *a, size_t n)
{
    rs->naddrs = n;
    rs->addrs = mg_alloc((n ? n : 1) * sizeof(*a));
    rs->lens = mg_alloc((n ? n : 1) * sizeof(socklen_t));
    memcpy(rs->addrs, a, n * sizeof(*a));
    for (size_t i = 0; i < n; i++) {
        rs->lens[i] =
            a[i].ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    }
}

static void rs_free(mg_resolve_t *rs)
{
    if (rs->timer) {
        event_free(rs->timer);
    }
    free(rs->addrs);
    free(rs->lens);
    free(rs->name.data);
    free(rs);
}

static void waiter_unlink(mg_resolve_t *rs)
{
    query_t *q = rs->query;
    if (q == NULL) {
        return;
    }
    for (mg_resolve_t **pp = &q->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == rs) {
            *pp = rs->next;
            break;
        }
    }
    rs->query = NULL;
}

static void deliver(mg_resolve_t *rs)
{
    waiter_unlink(rs);
    rs->handler(rs);
    rs_free(rs);
}

/* the caller's timer: its resolver_timeout passed, or a cached answer is due */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_resolve_t *rs = arg;
    if (rs->query) {
        rs->state = MG_RESOLVE_TIMEDOUT;
    }
    deliver(rs);
}

static int dns_state(int result)
{
    switch (result) {
    case DNS_ERR_NONE:
    case DNS_ERR_NODATA:
        return 0;
    case DNS_ERR_FORMAT:
        return MG_RESOLVE_FORMERR;
    case DNS_ERR_SERVERFAILED:
        return MG_RESOLVE_SERVFAIL;
    case DNS_ERR_NOTEXIST:
        return MG_RESOLVE_NXDOMAIN;
    case DNS_ERR_NOTIMPL:
        return MG_RESOLVE_NOTIMP;
    case DNS_ERR_REFUSED:
        return MG_RESOLVE_REFUSED;
    case DNS_ERR_TIMEOUT:
        return MG_RESOLVE_TIMEDOUT;
    }
    return 0xffff;
}

static void query_free(query_t *q)
{
    rt_t *rt = q->rt;
    for (query_t **pp = &rt->queries; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    }
    free(q->h4.addrs);
    free(q->h6.addrs);
    free(q->name);
    free(q);
}

static void query_done(query_t *q)
{
    rt_t *rt = q->rt;
    size_t n = q->h4.naddrs + q->h6.naddrs;
    /* the IPv4 question's error first, as nginx reports it; no address at all is "not found" */
    int state = n ? 0 : q->h4.state ? q->h4.state : q->h6.state ? q->h6.state : MG_RESOLVE_NXDOMAIN;
    struct sockaddr_storage *a = mg_alloc((n ? n : 1) * sizeof(*a));
    if (q->h4.naddrs) {
        memcpy(a, q->h4.addrs, q->h4.naddrs * sizeof(*a));
    }
    if (q->h6.naddrs) {
        memcpy(a + q->h4.naddrs, q->h6.addrs, q->h6.naddrs * sizeof(*a));
    }
    if (state == 0) {
        cache_t *c = mg_calloc(sizeof(*c));
        c->name = mg_alloc(strlen(q->name) + 1);
        strcpy(c->name, q->name);
        c->naddrs = n;
        c->addrs = a;
        c->expire = mg_now.monotonic + (q->valid ? q->valid : (mg_msec_t)q->ttl * 1000);
        c->next = rt->cache;
        rt->cache = c;
    }
    while (q->waiters) {
        mg_resolve_t *rs = q->waiters;
        rs->state = state;
        if (state == 0) {
            addrs_copy(rs, a, n);
            rs->expire_in = q->valid ? q->valid : (mg_msec_t)q->ttl * 1000;
        }
        deliver(rs);
    }
    if (state != 0) {
        free(a);
    }
    query_free(q);
}

static void on_answer(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    half_t *h = arg;
    query_t *q = h->q;
    /* the loop may have slept until the answer: the wait is told from the clock (below) and
     * the waiters stamp times on it, as a socket's handlers do (core/watch.c) */
    mg_time_update();
    h->state = dns_state(result);
    if (result == DNS_ERR_TIMEOUT && mg_now.monotonic - q->started < EVDNS_TIMEOUT_MS) {
        /* evdns turns a SERVFAIL answer into its retries and then a timeout, at once: a
         * timeout before its own timer could fire was the server failing (nginx's
         * "2: Server failure") */
        h->state = MG_RESOLVE_SERVFAIL;
    }
    if (h->state == 0 && count > 0 && (type == DNS_IPv4_A || type == DNS_IPv6_AAAA)) {
        if ((uint32_t)ttl < q->ttl) {
            q->ttl = (uint32_t)ttl;
        }
        h->addrs = mg_alloc((size_t)count * sizeof(*h->addrs));
        for (int i = 0; i < count; i++) {
            struct sockaddr_storage *ss = &h->addrs[i];
            memset(ss, 0, sizeof(*ss));
            if (type == DNS_IPv4_A) {
                struct sockaddr_in *sin = (struct sockaddr_in *)ss;
                sin->sin_family = AF_INET;
                memcpy(&sin->sin_addr, (char *)addresses + 4 * i, 4);
            } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
                sin6->sin6_family = AF_INET6;
                memcpy(&sin6->sin6_addr, (char *)addresses + 16 * i, 16);
            }
        }
        h->naddrs = (size_t)count;
    }
    if (--q->pending == 0) {
        query_done(q);
    }
}

mg_resolve_t *mg_resolve_name(mg_server_t *srv, mg_resolver_t *res, mg_str_t name,
                              mg_msec_t timeout, mg_resolve_handler_pt handler, void *data)
{
    rt_t *rt = rt_get(srv, res);
    mg_resolve_t *rs = mg_calloc(sizeof(*rs));
    rs->name.data = mg_alloc(name.len + 1);
    memcpy(rs->name.data, name.data, name.len);
    rs->name.data[name.len] = '\0';
    rs->name.len = name.len;
    rs->handler = handler;
    rs->data = data;
    rs->timer = evtimer_new(srv->base, on_timer, rs);
    if (rs->timer == NULL) {
        abort();
    }
    /* the cache: expired entries go as they are met */
    for (cache_t **pp = &rt->cache; *pp;) {
        cache_t *c = *pp;
        if (c->expire <= mg_now.monotonic) {
            *pp = c->next;
            free(c->name);
            free(c->addrs);
            free(c);
            continue;
        }
        if (strcasecmp(c->name, rs->name.data) == 0) {
            addrs_copy(rs, c->addrs, c->naddrs);
            rs->expire_in = c->expire - mg_now.monotonic;
            event_active(rs->timer, EV_TIMEOUT, 1);
            return rs;
        }
        pp = &c->next;
    }
    query_t *q;
    for (q = rt->queries; q; q = q->next) {
        if (strcasecmp(q->name, rs->name.data) == 0) {
            break;
        }
    }
    if (q == NULL) {
        q = mg_calloc(sizeof(*q));
        q->rt = rt;
        q->name = mg_alloc(name.len + 1);
        memcpy(q->name, rs->name.data, name.len + 1);
        q->valid = res->valid;
        q->ttl = UINT32_MAX;
        q->h4.q = q->h6.q = q;
        q->next = rt->queries;
        rt->queries = q;
        q->pending = res->ipv4 + res->ipv6;
        q->started = mg_now.monotonic;
        if (res->ipv4) {
            evdns_base_resolve_ipv4(rt->dns, q->name, DNS_QUERY_NO_SEARCH, on_answer, &q->h4);
        }
        if (res->ipv6) {
            evdns_base_resolve_ipv6(rt->dns, q->name, DNS_QUERY_NO_SEARCH, on_answer, &q->h6);
        }
    }
    rs->query = q;
    rs->next = q->waiters;
    q->waiters = rs;
    struct timeval tv = {(time_t)(timeout / 1000), (suseconds_t)(timeout % 1000) * 1000};
    evtimer_add(rs->timer, &tv);
    return rs;
}

void mg_resolve_cancel(mg_resolve_t *rs)
{
    if (rs) {
        waiter_unlink(rs);
        rs_free(rs);
    }
}

void mg_resolver_server_free(mg_server_t *srv)
{
    while (srv->resolvers) {
        rt_t *rt = srv->resolvers;
        srv->resolvers = rt->next;
        /* the pending evdns requests go without their callbacks */
        evdns_base_free(rt->dns, 0);
        while (rt->queries) {
            query_t *q = rt->queries;
            while (q->waiters) {
                mg_resolve_t *rs = q->waiters;
                waiter_unlink(rs);
                rs_free(rs);
            }
            query_free(q);
        }
        while (rt->cache) {
            cache_t *c = rt->cache;
            rt->cache = c->next;
            free(c->name);
            free(c->addrs);
            free(c);
        }
        free(rt->key);
        free(rt);
    }
}
