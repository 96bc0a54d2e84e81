/*
 * The PROXY protocol header (HAProxy's, versions 1 and 2) an L4 balancer puts before a client's
 * bytes on a `listen ... proxy_protocol` socket: the client's and the balancer's addresses.
 */
#ifndef MG_PROXY_PROTOCOL_H
#define MG_PROXY_PROTOCOL_H

#include <netinet/in.h>

#include "log.h"
#include "mg.h"
#include "pool.h"

/* What a header said (nginx's c->proxy_protocol). Addresses are text (v1: as sent, which nginx
 * does not check further; v2: formatted), ports 0 when the header gave none. A header naming no
 * addresses (v1 UNKNOWN, v2 LOCAL or another family) leaves them empty. */
typedef struct mg_proxy_protocol_s {
    mg_str_t src_addr;
    mg_str_t dst_addr;
    in_port_t src_port;
    in_port_t dst_port;
} mg_proxy_protocol_t;

/* Read a header at the start of buf[0..len), in a buffer that can hold `room` bytes at most.
 * Returns the header's length (> 0) with *pp allocated from pool, 0 when the bytes so far are
 * the beginning of a header that more bytes may complete, or -1 when it is broken, logged on
 * `log` at error in nginx's words ("broken header: ...", "header is too large", "unknown
 * PROXY protocol version: N"; a v2 address block shorter than its family needs is refused
 * without a line, as nginx does). */
ssize_t mg_proxy_protocol_read(mg_pool_t *pool, mg_log_t *log, const char *buf, size_t len,
                               size_t room, mg_proxy_protocol_t **pp);

/* A copy of pp (or NULL) in pool, its addresses too: for a connection that may outlive the one
 * whose pool holds pp (an h2 stream's). */
mg_proxy_protocol_t *mg_proxy_protocol_dup(mg_pool_t *pool, const mg_proxy_protocol_t *pp);

#endif
