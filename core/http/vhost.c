/*
 * Virtual servers: turn every server's "listen" into listening sockets and per-address
 * tables of server names, and choose a server for a request's host the nginx way: exact
 * name, longest leading wildcard, longest trailing wildcard, first matching regex, default.
 */
#include "conn.h"
#include "v2.h"
#include "variables.h"

static mg_http_addr_conf_t *addr_conf_for(mg_conf_t *cf, mg_array_t *addrs, mg_http_listen_t *l)
{
    mg_http_addr_conf_t **a = addrs->elts;
    for (size_t i = 0; i < addrs->nelts; i++) {
        if (mg_sockaddr_equal((struct sockaddr *)&a[i]->sockaddr, (struct sockaddr *)&l->sockaddr, 1)) {
            return a[i];
        }
    }
    mg_http_addr_conf_t *ac = mg_pcalloc(cf->pool, sizeof(mg_http_addr_conf_t));
    memcpy(&ac->sockaddr, &l->sockaddr, l->socklen);
    ac->socklen = l->socklen;
    strcpy(ac->addr_text, l->addr_text);
    *(mg_http_addr_conf_t **)mg_array_push(addrs) = ac;
    return ac;
}

static int same_port(mg_http_listen_t *a, mg_http_listen_t *b);

static mg_listening_t *new_listening(mg_conf_t *cf, mg_http_listen_t *l, mg_http_port_t *port)
{
    /* the socket's options are those of the one listen of the address that gave any */
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    mg_http_listen_t *all = cmcf->listen.elts;
    for (size_t i = 0; i < cmcf->listen.nelts; i++) {
        if (all[i].set_options && mg_sockaddr_equal((struct sockaddr *)&all[i].sockaddr,
                                                    (struct sockaddr *)&l->sockaddr, 1)) {
            l = &all[i];
            break;
        }
    }
    mg_listening_t *ls = mg_pcalloc(cf->pool, sizeof(mg_listening_t));
    ls->fd = -1;
    memcpy(&ls->sockaddr, &l->sockaddr, l->socklen);
    ls->socklen = l->socklen;
    strcpy(ls->addr_text, l->addr_text);
    ls->backlog = l->backlog;
    ls->rcvbuf = l->rcvbuf;
    ls->sndbuf = l->sndbuf;
    ls->fastopen = l->fastopen;
    ls->keepalive = l->keepalive;
    ls->keepidle = l->keepidle;
    ls->keepintvl = l->keepintvl;
    ls->keepcnt = l->keepcnt;
    ls->reuseport = l->reuseport;
    ls->ipv6only = l->ipv6only;
    ls->deferred = l->deferred;
    ls->wildcard = l->wildcard;
    ls->servers = port;
    mg_http_addr_conf_t **ac = port->addrs.elts;
    ls->pool_size = ac[port->addrs.nelts - 1]->default_server->connection_pool_size;
    /* h2 may be spoken on a port where a listen says http2 or a server says "http2 on" */
    int h2 = 0;
    for (size_t i = 0; i < cmcf->listen.nelts; i++) {
        h2 |= same_port(&all[i], l) && (all[i].http2 || mg_http_v2_srv_on(all[i].server));
    }
    ls->pool_first = mg_http_conn_pool_first(l->sockaddr.ss_family, h2);
    ls->handler = mg_http_init_connection;
    *(mg_listening_t **)mg_array_push(&cf->cycle->listening) = ls;
    return ls;
}

static int same_port(mg_http_listen_t *a, mg_http_listen_t *b)
{
    struct sockaddr *x = (struct sockaddr *)&a->sockaddr, *y = (struct sockaddr *)&b->sockaddr;
    if (x->sa_family != y->sa_family) {
        return 0;
    }
    if (x->sa_family == AF_UNIX) {
        return mg_sockaddr_equal(x, y, 1);
    }
    return mg_sockaddr_port(x) == mg_sockaddr_port(y);
}

mg_int_t mg_http_optimize_servers(mg_conf_t *cf)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    mg_http_listen_t *ls = cmcf->listen.elts;
    size_t n = cmcf->listen.nelts;
    char *done = mg_pcalloc(cf->pool, n + 1);

    /* one group per port (and family): a wildcard socket there serves every address */
    for (size_t i = 0; i < n; i++) {
        if (done[i]) {
            continue;
        }
        mg_array_t addrs;
        mg_array_init(&addrs, cf->pool, 4, sizeof(mg_http_addr_conf_t *));
        int wildcard = -1;
        for (size_t j = i; j < n; j++) {
            if (done[j] || !same_port(&ls[i], &ls[j])) {
                continue;
            }
            done[j] = 1;
            mg_http_addr_conf_t *ac = addr_conf_for(cf, &addrs, &ls[j]);
            if (ls[j].ssl && !ac->ssl) {
                ac->ssl = 1;
                ac->ssl_file = ls[j].file;
                ac->ssl_line = ls[j].line;
            }
            ac->proxy_protocol |= ls[j].proxy_protocol;
            ac->http2 |= ls[j].http2;
            if (ls[j].default_server) {
                if (ac->default_server && ac->default_server != ls[j].server &&
                    ac->default_server->listen_seen == 2) {
                    mg_log_error(MG_LOG_EMERG, cf->log, 0, "a duplicate default server for %s in %s:%lu",
                                 ls[j].addr_text, ls[j].file, (unsigned long)ls[j].line);
                    return MG_ERROR;
                }
                ac->default_server = ls[j].server;
                ls[j].server->listen_seen = 2;
            } else if (ac->default_server == NULL) {
                ac->default_server = ls[j].server;
            }
            if (ls[j].wildcard) {
                wildcard = (int)j;
            }
        }
        mg_http_addr_conf_t **ac = addrs.elts;
        for (size_t k = 0; k < addrs.nelts; k++) {
            if (mg_http_ssl_check_addr(cf, ac[k]) != MG_OK) {
                return MG_ERROR;
            }
        }
        /* server names, in server order. nginx builds (and checks) the names of an address
         * only when several servers share it or its one server's regex name captures; alone,
         * the server answers every host anyway, and a name nginx would reject is accepted. */
        mg_http_addr_conf_t **a = addrs.elts;
        for (size_t k = 0; k < addrs.nelts; k++) {
            size_t nservers = 0;
            for (size_t j = i; j < n; j++) {
                if (same_port(&ls[i], &ls[j]) &&
                    mg_sockaddr_equal((struct sockaddr *)&ls[j].sockaddr,
                                      (struct sockaddr *)&a[k]->sockaddr, 1)) {
                    nservers++;
                }
            }
            if (nservers < 2 && !mg_server_names_captures(&a[k]->default_server->server_names)) {
                continue;
            }
            a[k]->names = mg_server_names_create(cf->pool);
            for (size_t j = i; j < n; j++) {
                if (same_port(&ls[i], &ls[j]) &&
                    mg_sockaddr_equal((struct sockaddr *)&ls[j].sockaddr,
                                      (struct sockaddr *)&a[k]->sockaddr, 1) &&
                    mg_server_names_add(cf, a[k]->names, &ls[j].server->server_names,
                                        a[k]->addr_text) != MG_OK) {
                    return MG_ERROR;
                }
            }
            if (mg_server_names_check(cf, a[k]->names, cmcf->server_names_hash_max_size,
                                      cmcf->server_names_hash_bucket_size) != MG_OK) {
                return MG_ERROR;
            }
        }
        if (wildcard >= 0) {
            /* bind the wildcard only (plus addresses asked to "bind"); the others are found
             * by getsockname() on accepted connections, wildcard entry last */
            mg_http_port_t *port = mg_pcalloc(cf->pool, sizeof(mg_http_port_t));
            mg_array_init(&port->addrs, cf->pool, addrs.nelts, sizeof(mg_http_addr_conf_t *));
            mg_http_addr_conf_t *wc = NULL;
            for (size_t k = 0; k < addrs.nelts; k++) {
                mg_http_listen_t *l = NULL; /* the address's listen with options, if any */
                for (size_t j = i; j < n; j++) {
                    if (same_port(&ls[i], &ls[j]) &&
                        mg_sockaddr_equal((struct sockaddr *)&ls[j].sockaddr,
                                          (struct sockaddr *)&a[k]->sockaddr, 1) &&
                        (l == NULL || ls[j].set_options)) {
                        l = &ls[j];
                    }
                }
                if (l->wildcard) {
                    wc = a[k];
                } else if (l->bind) {
                    mg_http_port_t *own = mg_pcalloc(cf->pool, sizeof(mg_http_port_t));
                    mg_array_init(&own->addrs, cf->pool, 1, sizeof(mg_http_addr_conf_t *));
                    *(mg_http_addr_conf_t **)mg_array_push(&own->addrs) = a[k];
                    new_listening(cf, l, own);
                } else {
                    *(mg_http_addr_conf_t **)mg_array_push(&port->addrs) = a[k];
                }
            }
            *(mg_http_addr_conf_t **)mg_array_push(&port->addrs) = wc;
            new_listening(cf, &ls[wildcard], port);
        } else {
            for (size_t k = 0; k < addrs.nelts; k++) {
                mg_http_port_t *own = mg_pcalloc(cf->pool, sizeof(mg_http_port_t));
                mg_array_init(&own->addrs, cf->pool, 1, sizeof(mg_http_addr_conf_t *));
                *(mg_http_addr_conf_t **)mg_array_push(&own->addrs) = a[k];
                for (size_t j = i; j < n; j++) {
                    if (same_port(&ls[i], &ls[j]) &&
                        mg_sockaddr_equal((struct sockaddr *)&ls[j].sockaddr,
                                          (struct sockaddr *)&a[k]->sockaddr, 1)) {
                        new_listening(cf, &ls[j], own);
                        break;
                    }
                }
            }
        }
    }
    return MG_OK;
}

mg_http_srv_conf_t *mg_http_host_server(mg_request_t *r, mg_http_addr_conf_t *addr, mg_str_t host,
                                        mg_str_t *name)
{
    size_t len = mg_server_name_check(host);
    if (len == 0) {
        return NULL;
    }
    mg_strlow(name->data, host.data, len);
    name->data[len] = '\0';
    name->len = len;
    mg_http_srv_conf_t *srv = mg_http_find_server(r, addr, *name);
    /* a name no server has (nginx 1.22: even when SNI chose another) is the default's */
    return srv ? srv : addr->default_server;
}

mg_http_srv_conf_t *mg_http_find_server(mg_request_t *r, mg_http_addr_conf_t *addr, mg_str_t host)
{
    if (addr->names == NULL) {
        return NULL;
    }
    mg_http_srv_conf_t *found = mg_server_names_find(addr->names, host);
    if (found || host.len == 0) {
        return found;
    }
    mg_http_server_name_t *e = addr->names->regex.elts;
    for (size_t i = 0; i < addr->names->regex.nelts; i++) {
        if (r == NULL) {
            /* SNI: no request to keep captures in */
            int ov[3 * (e[i].regex->captures + 1)];
            if (mg_regex_exec(e[i].regex, host.data, host.len, ov,
                              3 * (e[i].regex->captures + 1)) >= 0) {
                return e[i].server;
            }
            continue;
        }
        mg_int_t rc = mg_http_regex_exec(r, e[i].regex, host);
        if (rc == MG_OK) {
            return e[i].server;
        }
    }
    return NULL;
}
