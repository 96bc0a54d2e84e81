/*
 * Virtual servers: turn every server's "listen" into listening sockets and per-address
 * tables of server names, and choose a server for a request's host the nginx way: exact
 * name, longest leading wildcard, longest trailing wildcard, first matching regex, default.
 */
#include "conn.h"
#include "hash_size.h"
#include "variables.h"

/* nginx's wildcard rules: one '*' at most, no "..", and a star only as "*.x" or "x.*". */
static int valid_name(mg_str_t n)
{
    int stars = 0;
    for (size_t i = 0; i < n.len; i++) {
        if (n.data[i] == '*') {
            stars++;
        }
        if (n.data[i] == '.' && i + 1 < n.len && n.data[i + 1] == '.') {
            return 0;
        }
    }
    if (stars == 0 || (n.len > 1 && n.data[0] == '.')) {
        return stars == 0;
    }
    if (stars > 1 || n.len < 3) {
        return 0;
    }
    return (n.data[0] == '*' && n.data[1] == '.') ||
           (n.data[n.len - 2] == '.' && n.data[n.len - 1] == '*');
}

static mg_int_t add_name(mg_conf_t *cf, mg_http_addr_conf_t *addr, mg_http_server_name_t *sn)
{
    mg_array_t *list;
    mg_str_t key = sn->name;
    if (!sn->regex && !valid_name(key)) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "invalid server name or wildcard \"%.*s\" on %s",
                     (int)key.len, key.data, addr->addr_text);
        return MG_ERROR;
    }
    if (sn->regex) {
        list = &addr->regex;
    } else if (key.len && key.data[0] == '*') {
        list = &addr->wc_head;
        key.data++;
        key.len--;
    } else if (key.len > 1 && key.data[0] == '.') {
        /* ".example.com" is "example.com" and "*.example.com" together */
        mg_http_server_name_t plain = *sn;
        plain.name.data++;
        plain.name.len--;
        add_name(cf, addr, &plain);
        list = &addr->wc_head;
    } else if (key.len && key.data[key.len - 1] == '*') {
        list = &addr->wc_tail;
        key.len--;
    } else {
        list = &addr->exact;
    }
    if (!sn->regex) {
        mg_http_server_name_t *e = list->elts;
        for (size_t i = 0; i < list->nelts; i++) {
            if (mg_str_eq_str(e[i].name, key)) {
                if (e[i].server != sn->server) {
                    mg_log_error(MG_LOG_WARN, cf->log, 0,
                                 "conflicting server name \"%.*s\" on %s, ignored",
                                 (int)sn->name.len, sn->name.data, addr->addr_text);
                }
                return MG_OK;
            }
        }
    }
    mg_http_server_name_t *n = mg_array_push(list);
    *n = *sn;
    n->name = key;
    addr->has_names = 1;
    return MG_OK;
}

/* nginx's verdict on the server names hash of an address (core/hash_size.c) */
static mg_int_t check_names_hash(mg_conf_t *cf, mg_http_main_conf_t *cmcf, mg_http_addr_conf_t *a)
{
    mg_hash_keys_t keys;
    mg_hash_keys_init(&keys);
    mg_http_server_name_t *n = a->exact.elts;
    for (size_t i = 0; i < a->exact.nelts; i++) {
        mg_hash_keys_add(&keys, n[i].name);
    }
    /* head names are kept as ".example.com", tail names as "www.example." */
    n = a->wc_head.elts;
    for (size_t i = 0; i < a->wc_head.nelts; i++) {
        mg_hash_keys_add_head(cf, &keys, (mg_str_t){n[i].name.len - 1, n[i].name.data + 1});
    }
    n = a->wc_tail.elts;
    for (size_t i = 0; i < a->wc_tail.nelts; i++) {
        mg_hash_keys_add_tail(cf, &keys, (mg_str_t){n[i].name.len - 1, n[i].name.data});
    }
    mg_int_t rc =
        mg_hash_keys_check(cf, &keys, "server_names_hash", cmcf->server_names_hash_max_size,
                           cmcf->server_names_hash_bucket_size);
    mg_hash_keys_free(&keys);
    return rc;
}

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
    mg_array_init(&ac->exact, cf->pool, 4, sizeof(mg_http_server_name_t));
    mg_array_init(&ac->wc_head, cf->pool, 2, sizeof(mg_http_server_name_t));
    mg_array_init(&ac->wc_tail, cf->pool, 2, sizeof(mg_http_server_name_t));
    mg_array_init(&ac->regex, cf->pool, 2, sizeof(mg_http_server_name_t));
    *(mg_http_addr_conf_t **)mg_array_push(addrs) = ac;
    return ac;
}

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
    ls->handler = mg_http_init_connection;
    *(mg_listening_t **)mg_array_push(&cf->cycle->listening) = ls;
    return ls;
}

static int has_capturing_regex(mg_http_srv_conf_t *s)
{
    mg_http_server_name_t *sn = s->server_names.elts;
    for (size_t i = 0; i < s->server_names.nelts; i++) {
        if (sn[i].regex && sn[i].regex->captures) {
            return 1;
        }
    }
    return 0;
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
            if (nservers < 2 && !has_capturing_regex(a[k]->default_server)) {
                continue;
            }
            for (size_t j = i; j < n; j++) {
                if (!same_port(&ls[i], &ls[j]) ||
                    !mg_sockaddr_equal((struct sockaddr *)&ls[j].sockaddr,
                                       (struct sockaddr *)&a[k]->sockaddr, 1)) {
                    continue;
                }
                mg_http_srv_conf_t *s = ls[j].server;
                mg_http_server_name_t *sn = s->server_names.elts;
                for (size_t m = 0; m < s->server_names.nelts; m++) {
                    if (add_name(cf, a[k], &sn[m]) != MG_OK) {
                        return MG_ERROR;
                    }
                }
            }
            if (check_names_hash(cf, cmcf, a[k]) != MG_OK) {
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

mg_http_srv_conf_t *mg_http_find_server(mg_request_t *r, mg_http_addr_conf_t *addr, mg_str_t host)
{
    if (!addr->has_names) {
        return NULL;
    }
    mg_http_server_name_t *e = addr->exact.elts;
    for (size_t i = 0; i < addr->exact.nelts; i++) {
        if (mg_str_eq_str(e[i].name, host)) {
            return e[i].server;
        }
    }
    if (host.len == 0) {
        return NULL;
    }
    mg_http_srv_conf_t *best = NULL;
    size_t best_len = 0;
    e = addr->wc_head.elts;
    for (size_t i = 0; i < addr->wc_head.nelts; i++) {
        mg_str_t k = e[i].name; /* ".example.com" */
        if (host.len > k.len && memcmp(host.data + host.len - k.len, k.data, k.len) == 0 &&
            k.len > best_len) {
            best = e[i].server;
            best_len = k.len;
        }
    }
    if (best) {
        return best;
    }
    e = addr->wc_tail.elts;
    for (size_t i = 0; i < addr->wc_tail.nelts; i++) {
        mg_str_t k = e[i].name; /* "www.example." */
        if (host.len > k.len && memcmp(host.data, k.data, k.len) == 0 && k.len > best_len) {
            best = e[i].server;
            best_len = k.len;
        }
    }
    if (best) {
        return best;
    }
    e = addr->regex.elts;
    for (size_t i = 0; i < addr->regex.nelts; i++) {
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
