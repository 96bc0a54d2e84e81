/*
 * Active health checks (nginx Plus's ngx_http_upstream_hc_module): health_check.c runs the
 * checks and keeps each peer's verdict in its group's zone; upstream_match.c reads the
 * "match NAME { ... }" blocks a check's response is held against.
 */
#ifndef MG_MODULES_HEALTH_CHECK_H
#define MG_MODULES_HEALTH_CHECK_H

#include "http.h"
#include "upstream_peer.h"

#define MG_HC_MAX_HEADERS 64

/* A check's response as read: what a match block tests. */
typedef struct {
    int status;
    size_t nheaders;
    mg_str_t names[MG_HC_MAX_HEADERS];
    mg_str_t values[MG_HC_MAX_HEADERS];
    mg_str_t body; /* its first 256k */
} mg_hc_response_t;

typedef struct mg_hc_match_s mg_hc_match_t;

extern mg_module_t mg_upstream_match_module;

/* The match block of that name in http{} (it may follow its user), or NULL. */
mg_hc_match_t *mg_hc_match_find(mg_conf_t *cf, mg_str_t name);
/* NULL when the response passes every test of the block, else what failed ("status",
 * "header", "body") for the log. */
const char *mg_hc_match_test(const mg_hc_match_t *m, const mg_hc_response_t *resp);
/* stream's blocks: what a check sends; whether it waits for data; whether the data read so
 * far passes (1), fails (-1) or needs more (0; with eof nothing more comes). */
mg_str_t mg_hc_match_send(const mg_hc_match_t *m);
int mg_hc_match_expects(const mg_hc_match_t *m);
int mg_hc_match_expect(const mg_hc_match_t *m, mg_str_t data, int eof);

/* modules/upstream_dynamic.c, in a worker, with the zone's lock held: "resolve" slot `p` of
 * group `g` took an address: its checks take (or make) that address's record in the zone and
 * run at once. */
void mg_health_check_peer_set(mg_cycle_t *cycle, mg_upstream_group_t *g, mg_upstream_peer_t *p);

/* modules/stream_proxy.c: a stream server's proxy_pass group (NULL: none, or variables) and
 * its proxy_connect_timeout, for health_check in stream. */
mg_upstream_group_t *mg_stream_proxy_target(void *srv_conf, mg_msec_t *connect_timeout);

#endif
