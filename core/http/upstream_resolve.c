/*
 * Upstream names resolved at run time (proxy_pass with variables naming a host that is no
 * upstream{} block): the location's resolver is asked, and the answer becomes a round-robin
 * group of the request's own, every address a peer, so proxy_next_upstream moves through
 * them as nginx's does. Errors are nginx's 502s and log lines.
 */
#include "upstream_resolve.h"
#include "server.h"
#include "upstream_rr.h"

typedef struct {
    mg_request_t *r;
    mg_resolve_t *rs;
    mg_str_t host;
    in_port_t port;
    void (*done)(mg_request_t *r, mg_upstream_group_t *g);
} wait_t;

static void wait_cleanup(void *data)
{
    wait_t *w = data;
    mg_resolve_cancel(w->rs);
    w->rs = NULL;
}

mg_upstream_group_t *mg_upstream_resolved_group(mg_pool_t *pool, mg_str_t host, in_port_t port,
                                                mg_resolve_t *rs)
{
    mg_upstream_group_t *g = mg_pcalloc(pool, sizeof(*g));
    g->name = host;
    g->host = host;
    g->port = port;
    g->implicit = 1;
    g->balancer = &mg_upstream_round_robin;
    g->keepalive_requests = 1000;
    g->keepalive_timeout = 60000;
    g->keepalive_time = 3600000;
    mg_array_init(&g->peers, pool, rs->naddrs, sizeof(mg_upstream_peer_t));
    mg_array_init(&g->backup, pool, 1, sizeof(mg_upstream_peer_t));
    for (size_t i = 0; i < rs->naddrs; i++) {
        mg_upstream_peer_t *peer = mg_array_push(&g->peers);
        memset(peer, 0, sizeof(*peer));
        memcpy(&peer->sockaddr, &rs->addrs[i], rs->lens[i]);
        peer->socklen = rs->lens[i];
        if (rs->addrs[i].ss_family == AF_INET) {
            ((struct sockaddr_in *)&peer->sockaddr)->sin_port = htons(port);
        } else {
            ((struct sockaddr_in6 *)&peer->sockaddr)->sin6_port = htons(port);
        }
        char text[128];
        size_t n = mg_sockaddr_text((struct sockaddr *)&peer->sockaddr, text, sizeof(text), 1);
        peer->name = mg_pstr(pool, text, n);
        peer->server = host;
        peer->weight = 1;
        peer->max_fails = 1;
        peer->fail_timeout = 10000;
    }
    mg_upstream_rr_init_group(NULL, g);
    return g;
}

static void on_resolved(mg_resolve_t *rs)
{
    wait_t *w = rs->data;
    mg_request_t *r = w->r;
    w->rs = NULL;
    if (rs->state) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "%.*s could not be resolved (%d: %s)",
                     (int)w->host.len, w->host.data, rs->state, mg_resolve_strerror(rs->state));
        mg_http_finalize_request(r, MG_HTTP_BAD_GATEWAY);
        return;
    }
    w->done(r, mg_upstream_resolved_group(r->pool, w->host, w->port, rs));
}

mg_int_t mg_upstream_resolve(mg_request_t *r, mg_str_t host, in_port_t port,
                             void (*done)(mg_request_t *r, mg_upstream_group_t *g))
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (clcf->resolver == NULL) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "no resolver defined to resolve %.*s",
                     (int)host.len, host.data);
        return MG_HTTP_BAD_GATEWAY;
    }
    wait_t *w = mg_pcalloc(r->pool, sizeof(*w));
    w->r = r;
    w->host = host;
    w->port = port;
    w->done = done;
    mg_pool_cleanup_add(r->pool, wait_cleanup, w);
    w->rs = mg_resolve_name(r->connection->server, clcf->resolver, host, clcf->resolver_timeout,
                            on_resolved, w);
    return MG_DONE;
}
