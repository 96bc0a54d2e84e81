/*
 * A new upstream socket's options before its connect, as nginx's connect does them:
 * SO_KEEPALIVE (proxy_socket_keepalive; a failure is only logged), then proxy_bind's local
 * address (with "transparent", IP_TRANSPARENT first, which needs CAP_NET_ADMIN; without a
 * port, IP_BIND_ADDRESS_NO_PORT so the port is picked at connect time). A failed
 * IP_TRANSPARENT or bind() fails the request with a 500, as nginx's. And TCP_NODELAY later, at
 * the moments nginx sets it on an upstream connection.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "listen.h"
#include "upstream_int.h"

mg_int_t mg_upstream_socket_options(mg_upstream_t *u, int fd, mg_upstream_peer_t *peer)
{
    int one = 1;
    if (u->so_keepalive && setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == -1) {
        mg_log_error(MG_LOG_ALERT, mg_upstream_log(u), errno,
                     "setsockopt(SO_KEEPALIVE) failed, ignored");
    }
    if (u->local == NULL) {
        return MG_OK;
    }
    int family = u->local->ss_family;
    if (u->transparent) {
        int rc = family == AF_INET6
                     ? setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof(one))
                     : setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
        if (rc == -1) {
            mg_log_error(MG_LOG_ALERT, mg_upstream_log(u), errno,
                         family == AF_INET6 ? "setsockopt(IPV6_TRANSPARENT) failed"
                                            : "setsockopt(IP_TRANSPARENT) failed");
            return MG_ERROR;
        }
    }
    if (peer->sockaddr.ss_family != AF_UNIX && mg_sockaddr_port((struct sockaddr *)u->local) == 0) {
        /* errors ignored: without it the kernel picks the port at bind() */
        (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    }
    if (bind(fd, (struct sockaddr *)u->local, u->local_len) == -1) {
        mg_log_error(MG_LOG_CRIT, mg_upstream_log(u), errno, "bind(%.*s) failed",
                     (int)u->local_name.len, u->local_name.data);
        return MG_ERROR;
    }
    return MG_OK;
}

void mg_upstream_conn_nodelay(mg_upstream_t *u)
{
    mg_upstream_conn_t *uc = u->conn;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(u->r, mg_http_core_module);
    if (!clcf->tcp_nodelay || uc->nodelay || uc->peer->sockaddr.ss_family == AF_UNIX) {
        return;
    }
    int one = 1;
    setsockopt(uc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    uc->nodelay = 1;
}
