/*
 * The stream{} block and ngx_stream_core_module: server{}, listen, the session's buffers and
 * timeouts; the listening sockets (one per address, or a wildcard one serving the addresses of
 * its port that do not say "bind"), and a session's run through the phases.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hash_size.h"
#include "proxy_protocol.h"
#include "server.h"
#include "stream.h"

static void **create_confs(mg_conf_t *cf, int srv)
{
    void **confs = mg_pcalloc(cf->pool, mg_modules_n * sizeof(void *));
    for (size_t i = 0; i < mg_modules_n; i++) {
        const mg_stream_module_t *sm = mg_modules[i]->stream;
        if (sm == NULL) {
            continue;
        }
        if (srv && sm->create_srv_conf) {
            confs[i] = sm->create_srv_conf(cf);
        } else if (!srv && sm->create_main_conf) {
            confs[i] = sm->create_main_conf(cf);
        }
    }
    return confs;
}

static mg_int_t conf_result(mg_conf_t *cf, const char *rv)
{
    if (rv == MG_CONF_OK) {
        return MG_OK;
    }
    if (rv != MG_CONF_ERROR) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "%s", rv);
    }
    return MG_ERROR;
}

static mg_int_t create_listening(mg_conf_t *cf, mg_stream_main_conf_t *cmcf);

static const char *stream_block(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    if (cf->cycle->stream) {
        return "is duplicate";
    }
    mg_conf_ctx_t *ctx = mg_pcalloc(cf->pool, sizeof(mg_conf_ctx_t));
    cf->cycle->stream = ctx;
    mg_conf_t saved = *cf;
    cf->ctx_data = ctx;
    ctx->main_conf = create_confs(cf, 0);
    ctx->srv_conf = create_confs(cf, 1);
    ctx->loc_conf = ctx->srv_conf;
    cf->ctx = MG_CTX_STREAM;
    if (mg_conf_parse(cf, NULL) != MG_OK) {
        *cf = saved;
        return MG_CONF_ERROR;
    }
    mg_stream_main_conf_t *cmcf = ctx->main_conf[mg_stream_core_module.index];
    mg_int_t rc = MG_OK;
    for (size_t m = 0; m < mg_modules_n && rc == MG_OK; m++) {
        const mg_stream_module_t *sm = mg_modules[m]->stream;
        if (sm && sm->init_main_conf) {
            rc = conf_result(cf, sm->init_main_conf(cf, ctx->main_conf[m]));
        }
    }
    mg_stream_srv_conf_t **servers = cmcf->servers.elts;
    for (size_t i = 0; i < cmcf->servers.nelts && rc == MG_OK; i++) {
        for (size_t m = 0; m < mg_modules_n && rc == MG_OK; m++) {
            const mg_stream_module_t *sm = mg_modules[m]->stream;
            if (sm && sm->merge_srv_conf) {
                rc = conf_result(
                    cf, sm->merge_srv_conf(cf, ctx->srv_conf[m], servers[i]->ctx->srv_conf[m]));
            }
        }
    }
    for (size_t m = 0; m < mg_modules_n && rc == MG_OK; m++) {
        const mg_stream_module_t *sm = mg_modules[m]->stream;
        if (sm && sm->init) {
            rc = sm->init(cf);
        }
    }
    if (rc == MG_OK) {
        rc = mg_stream_variables_check(cf);
    }
    if (rc == MG_OK) {
        rc = create_listening(cf, cmcf);
    }
    *cf = saved;
    return rc == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

/* ---- server{} ---- */

static const char *stream_server(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_conf_ctx_t *ctx = mg_pcalloc(cf->pool, sizeof(mg_conf_ctx_t));
    mg_conf_ctx_t *parent = cf->ctx_data;
    ctx->main_conf = parent->main_conf;
    mg_conf_t saved = *cf;
    cf->ctx_data = ctx;
    ctx->srv_conf = create_confs(cf, 1);
    ctx->loc_conf = ctx->srv_conf;
    mg_stream_srv_conf_t *cscf = ctx->srv_conf[mg_stream_core_module.index];
    cscf->ctx = ctx;
    cscf->file = mg_conf_file(cf);
    const char *where = mg_conf_where(cf), *colon = strrchr(where, ':');
    cscf->line = colon ? (mg_uint_t)strtoul(colon + 1, NULL, 10) : 0;
    mg_stream_main_conf_t *cmcf = parent->main_conf[mg_stream_core_module.index];
    *(mg_stream_srv_conf_t **)mg_array_push(&cmcf->servers) = cscf;
    cf->ctx = MG_CTX_STREAM_SRV;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    *cf = saved;
    if (rc != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (!cscf->listen) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "no \"listen\" is defined for server in %s:%lu",
                     cscf->file, (unsigned long)cscf->line);
        return MG_CONF_ERROR;
    }
    if (cscf->handler == NULL) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "no handler for server in %s:%lu", cscf->file,
                     (unsigned long)cscf->line);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

/* ---- listen ---- */

static int param(mg_str_t a, const char *name, mg_str_t *v)
{
    size_t n = strlen(name);
    if (a.len <= n || memcmp(a.data, name, n) != 0 || a.data[n] != '=') {
        return 0;
    }
    v->data = a.data + n + 1;
    v->len = a.len - n - 1;
    return 1;
}

/* so_keepalive=[idle]:[intvl]:[cnt] (idle may have a time suffix) */
static int keepalive_spec(mg_str_t v, mg_stream_listen_t *l)
{
    int *field[3] = {&l->keepidle, &l->keepintvl, &l->keepcnt};
    const char *p = v.data, *end = v.data + v.len;
    int any = 0;
    for (int i = 0; i < 3; i++) {
        const char *e = memchr(p, ':', (size_t)(end - p));
        if (e == NULL) {
            if (i < 2) {
                return -1;
            }
            e = end;
        }
        if (e > p) {
            mg_str_t part = {(size_t)(e - p), (char *)p};
            int64_t n = i == 2 ? mg_atoi(p, part.len) : mg_parse_time(part, 1);
            if (n <= 0) {
                return -1;
            }
            *field[i] = (int)n;
            any = 1;
        }
        p = e + 1;
    }
    return any ? 0 : -1;
}

static const char *stream_listen(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_stream_srv_conf_t *cscf = conf;
    mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
    mg_stream_listen_t l;
    memset(&l, 0, sizeof(l));
    int wildcard;
    const char *err = mg_listen_parse_addr(cf->args[1], &l.sockaddr, &l.socklen, &wildcard);
    if (err) {
        mg_conf_error(cf, 0, "%s in \"%s\" of the \"listen\" directive", err, cf->args[1].data);
        return MG_CONF_ERROR;
    }
    if (l.sockaddr.ss_family != AF_UNIX && mg_sockaddr_port((struct sockaddr *)&l.sockaddr) == 0 &&
        memchr(cf->args[1].data, ':', cf->args[1].len) == NULL &&
        (cf->args[1].data[0] < '0' || cf->args[1].data[0] > '9')) {
        mg_conf_error(cf, 0, "no port in \"%s\" of the \"listen\" directive", cf->args[1].data);
        return MG_CONF_ERROR;
    }
    l.wildcard = wildcard;
    mg_sockaddr_text((struct sockaddr *)&l.sockaddr, l.addr_text, sizeof(l.addr_text), 1);
    l.backlog = 511;
    l.rcvbuf = -1;
    l.sndbuf = -1;
    l.keepalive = -1;
    l.fastopen = -1;
    l.ipv6only = 1;
    int backlog = 0;
    for (size_t i = 2; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i], v;
        if (mg_str_eq(a, "proxy_protocol")) {
            l.proxy_protocol = 1;
        } else if (mg_str_eq(a, "udp")) {
            l.udp = 1;
        } else if (mg_str_eq(a, "bind")) {
            l.bind = 1;
        } else if (mg_str_eq(a, "reuseport")) {
            l.reuseport = 1;
            l.bind = 1;
        } else if (param(a, "backlog", &v)) {
            int64_t n = mg_atoi(v.data, v.len);
            if (n <= 0) {
                mg_conf_error(cf, 0, "invalid backlog \"%s\"", a.data);
                return MG_CONF_ERROR;
            }
            l.backlog = (int)mg_min(n, (int64_t)INT32_MAX);
            l.bind = 1;
            backlog = 1;
        } else if (param(a, "rcvbuf", &v) || param(a, "sndbuf", &v)) {
            int64_t n = mg_parse_size(v);
            if (n < 0 || n > INT32_MAX) {
                mg_conf_error(cf, 0, "invalid %.6s \"%s\"", a.data, a.data);
                return MG_CONF_ERROR;
            }
            *(a.data[0] == 'r' ? &l.rcvbuf : &l.sndbuf) = (int)n;
            l.bind = 1;
        } else if (param(a, "fastopen", &v)) {
            int64_t n = mg_atoi(v.data, v.len);
            if (n < 0 || n > INT32_MAX) {
                mg_conf_error(cf, 0, "invalid fastopen \"%s\"", a.data);
                return MG_CONF_ERROR;
            }
            l.fastopen = (int)n;
            l.bind = 1;
        } else if (mg_str_eq(a, "ipv6only=on") || mg_str_eq(a, "ipv6only=off")) {
            l.ipv6only = a.data[10] == 'n';
            l.bind = 1;
        } else if (param(a, "so_keepalive", &v)) {
            if (mg_str_eq(v, "on")) {
                l.keepalive = 1;
            } else if (mg_str_eq(v, "off")) {
                l.keepalive = 0;
            } else if (keepalive_spec(v, &l) == 0) {
                l.keepalive = 1;
            } else {
                mg_conf_error(cf, 0, "invalid so_keepalive value: \"%s\"", v.data);
                return MG_CONF_ERROR;
            }
            l.bind = 1;
        } else if (mg_str_eq(a, "ssl")) {
            l.ssl = 1;
        } else if (mg_str_eq(a, "default_server")) {
            l.default_server = 1;
        } else {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", a.data);
            return MG_CONF_ERROR;
        }
    }
    /* nginx's checks, in its order (so_keepalive=off too) */
    if (l.udp && backlog) {
        return "\"backlog\" parameter is incompatible with \"udp\"";
    }
    if (l.udp && l.ssl) {
        return "\"ssl\" parameter is incompatible with \"udp\"";
    }
    if (l.udp && l.keepalive != -1) {
        return "\"so_keepalive\" parameter is incompatible with \"udp\"";
    }
    if (l.udp && l.proxy_protocol) {
        return "\"proxy_protocol\" parameter is incompatible with \"udp\"";
    }
    /* several servers may listen on one address (nginx >= 1.25.5: server_name tells them
     * apart); its socket's options are given once, and one default server */
    mg_stream_listen_t *ls = cmcf->listen.elts;
    for (size_t i = 0; i < cmcf->listen.nelts; i++) {
        if (ls[i].udp != l.udp || !mg_sockaddr_equal((struct sockaddr *)&ls[i].sockaddr,
                                                     (struct sockaddr *)&l.sockaddr, 1)) {
            continue;
        }
        if (ls[i].srv == cscf) {
            mg_conf_error(cf, 0, "duplicate \"%s\" address and port pair", l.addr_text);
            return MG_CONF_ERROR;
        }
        if (ls[i].bind && l.bind) {
            mg_conf_error(cf, 0, "duplicate listen options for %s", l.addr_text);
            return MG_CONF_ERROR;
        }
        if (ls[i].default_server && l.default_server) {
            mg_conf_error(cf, 0, "a duplicate default server for %s", l.addr_text);
            return MG_CONF_ERROR;
        }
    }
    l.srv = cscf;
    const char *where = mg_conf_where(cf);
    l.where = mg_pstrdup(cf->pool, where, strlen(where));
    *(mg_stream_listen_t *)mg_array_push(&cmcf->listen) = l;
    cscf->listen = 1;
    return MG_CONF_OK;
}

/* ---- the listening sockets ---- */

static void init_connection(mg_connection_t *c);
void mg_stream_udp_read(mg_listening_t *ls, int all);

/* Another server listening on an address already made: it joins the address's list, its ssl
 * and proxy_protocol too. */
static void join_addr(mg_conf_t *cf, mg_stream_addr_t *a, mg_stream_listen_t *l)
{
    if (a->servers == NULL) {
        a->servers = mg_pcalloc(cf->pool, sizeof(mg_array_t));
        mg_array_init(a->servers, cf->pool, 2, sizeof(mg_stream_srv_conf_t *));
        *(mg_stream_srv_conf_t **)mg_array_push(a->servers) = a->srv;
    }
    *(mg_stream_srv_conf_t **)mg_array_push(a->servers) = l->srv;
    a->ssl |= l->ssl;
    a->proxy_protocol |= l->proxy_protocol;
}

/* The address of this generation's stream sockets equal to l's, or NULL. */
static mg_stream_addr_t *find_addr(mg_conf_t *cf, mg_stream_listen_t *l)
{
    mg_listening_t **ls = cf->cycle->listening.elts;
    for (size_t i = 0; i < cf->cycle->listening.nelts; i++) {
        if (ls[i]->handler != init_connection || ls[i]->udp != l->udp) {
            continue;
        }
        mg_stream_port_t *port = ls[i]->servers;
        mg_stream_addr_t *a = port->addrs.elts;
        for (size_t k = 0; k < port->addrs.nelts; k++) {
            if (mg_sockaddr_equal((struct sockaddr *)&a[k].sockaddr,
                                  (struct sockaddr *)&l->sockaddr, 1)) {
                return &a[k];
            }
        }
    }
    return NULL;
}

static void add_addr(mg_conf_t *cf, mg_stream_port_t *port, mg_stream_listen_t *l)
{
    mg_stream_addr_t *a = mg_array_push(&port->addrs);
    memset(a, 0, sizeof(*a));
    memcpy(&a->sockaddr, &l->sockaddr, l->socklen);
    a->socklen = l->socklen;
    strcpy(a->addr_text, l->addr_text);
    a->srv = l->srv;
    a->servers = NULL;
    a->proxy_protocol = l->proxy_protocol;
    a->ssl = l->ssl;
    (void)cf;
}

static mg_stream_port_t *new_listening(mg_conf_t *cf, mg_stream_listen_t *l)
{
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
    ls->wildcard = l->wildcard;
    mg_stream_port_t *port = mg_pcalloc(cf->pool, sizeof(mg_stream_port_t));
    mg_array_init(&port->addrs, cf->pool, 2, sizeof(mg_stream_addr_t));
    ls->servers = port;
    ls->handler = init_connection;
    if (l->udp) {
        ls->udp = 1;
        ls->read_datagrams = mg_stream_udp_read;
    }
    *(mg_listening_t **)mg_array_push(&cf->cycle->listening) = ls;
    return port;
}

/* As nginx: per port, a wildcard address takes the addresses of the port that do not need a
 * socket of their own ("bind" or a socket option), which are then told apart by the local
 * address of each accepted connection. */
static mg_int_t create_listening(mg_conf_t *cf, mg_stream_main_conf_t *cmcf)
{
    mg_stream_listen_t *l = cmcf->listen.elts;
    size_t n = cmcf->listen.nelts;
    char *done = mg_pcalloc(cf->pool, n + 1);
    /* a listen on an address an earlier one (with its options, if any) has: joined below */
    char *later = mg_pcalloc(cf->pool, n + 1);
    for (size_t j = 0; j < n; j++) {
        for (size_t i = 0; i < n && !later[j]; i++) {
            if (i != j && l[i].udp == l[j].udp && !later[i] &&
                mg_sockaddr_equal((struct sockaddr *)&l[i].sockaddr,
                                  (struct sockaddr *)&l[j].sockaddr, 1) &&
                (l[i].bind || (!l[j].bind && i < j))) {
                later[j] = done[j] = 1;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (done[i] || !l[i].wildcard || l[i].sockaddr.ss_family == AF_UNIX) {
            continue;
        }
        mg_stream_port_t *port = new_listening(cf, &l[i]);
        done[i] = 1;
        for (size_t j = 0; j < n; j++) {
            if (!done[j] && !l[j].bind && l[j].udp == l[i].udp &&
                l[j].sockaddr.ss_family == l[i].sockaddr.ss_family &&
                mg_sockaddr_port((struct sockaddr *)&l[j].sockaddr) ==
                    mg_sockaddr_port((struct sockaddr *)&l[i].sockaddr)) {
                add_addr(cf, port, &l[j]);
                done[j] = 1;
            }
        }
        add_addr(cf, port, &l[i]); /* the wildcard last */
    }
    for (size_t i = 0; i < n; i++) {
        if (!done[i]) {
            add_addr(cf, new_listening(cf, &l[i]), &l[i]);
        }
    }
    /* now that no address array grows any more */
    for (size_t j = 0; j < n; j++) {
        if (later[j]) {
            join_addr(cf, find_addr(cf, &l[j]), &l[j]);
        }
    }
    /* the default server: the default_server one, else the first listed (whichever listen
     * made the socket) */
    for (size_t j = n; j-- > 0;) {
        find_addr(cf, &l[j])->srv = l[j].srv;
    }
    for (size_t j = 0; j < n; j++) {
        if (l[j].default_server) {
            find_addr(cf, &l[j])->srv = l[j].srv;
        }
    }
    /* the names, in configuration order, of an address several servers share or whose one
     * server's (last) regex name captures, as http's (vhost.c) */
    for (size_t j = 0; j < n; j++) {
        mg_stream_addr_t *a = find_addr(cf, &l[j]);
        mg_stream_srv_conf_t *srv = l[j].srv;
        if (a->servers == NULL && !mg_server_names_captures(&srv->server_names)) {
            continue;
        }
        if (a->names == NULL) {
            a->names = mg_server_names_create(cf->pool);
        }
        if (mg_server_names_add(cf, a->names, &srv->server_names, a->addr_text) != MG_OK) {
            return MG_ERROR;
        }
    }
    mg_listening_t **ls = cf->cycle->listening.elts;
    for (size_t i = 0; i < cf->cycle->listening.nelts; i++) {
        mg_stream_port_t *port = ls[i]->servers;
        mg_stream_addr_t *a = ls[i]->handler == init_connection ? port->addrs.elts : NULL;
        for (size_t k = 0; a && k < port->addrs.nelts; k++) {
            if (a[k].names &&
                mg_server_names_check(cf, a[k].names, cmcf->server_names_hash_max_size,
                                      cmcf->server_names_hash_bucket_size) != MG_OK) {
                return MG_ERROR;
            }
        }
    }
    return MG_OK;
}

/* ---- core directives ---- */

static void *core_create_main_conf(mg_conf_t *cf)
{
    mg_stream_main_conf_t *cmcf = mg_pcalloc(cf->pool, sizeof(mg_stream_main_conf_t));
    mg_array_init(&cmcf->servers, cf->pool, 4, sizeof(mg_stream_srv_conf_t *));
    mg_array_init(&cmcf->listen, cf->pool, 4, sizeof(mg_stream_listen_t));
    mg_array_init(&cmcf->variables, cf->pool, 32, sizeof(mg_stream_var_t));
    cmcf->variables_hash_max_size = MG_CONF_UNSET;
    cmcf->variables_hash_bucket_size = MG_CONF_UNSET;
    cmcf->server_names_hash_max_size = MG_CONF_UNSET;
    cmcf->server_names_hash_bucket_size = MG_CONF_UNSET;
    for (int i = 0; i < MG_STREAM_PHASES; i++) {
        mg_array_init(&cmcf->phases[i], cf->pool, 2, sizeof(mg_stream_handler_pt));
    }
    return cmcf;
}

void mg_stream_variables_add_core(mg_conf_t *cf);

static const char *core_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)cf;
    mg_stream_main_conf_t *cmcf = conf;
    mg_conf_merge(cmcf->variables_hash_max_size, MG_CONF_UNSET, 1024);
    mg_conf_merge(cmcf->variables_hash_bucket_size, MG_CONF_UNSET, 64);
    mg_conf_merge(cmcf->server_names_hash_max_size, MG_CONF_UNSET, 512);
    mg_conf_merge(cmcf->server_names_hash_bucket_size, MG_CONF_UNSET, MG_HASH_CACHELINE);
    return MG_CONF_OK;
}

static void *core_create_srv_conf(mg_conf_t *cf)
{
    mg_stream_srv_conf_t *cscf = mg_pcalloc(cf->pool, sizeof(mg_stream_srv_conf_t));
    cscf->preread_timeout = MG_CONF_UNSET;
    cscf->preread_buffer_size = MG_CONF_UNSET_SIZE;
    cscf->proxy_protocol_timeout = MG_CONF_UNSET;
    cscf->tcp_nodelay = MG_CONF_UNSET;
    cscf->resolver_timeout = MG_CONF_UNSET;
    cscf->resolver = MG_CONF_UNSET_PTR;
    cscf->error_log = MG_CONF_UNSET_PTR;
    mg_array_init(&cscf->server_names, cf->pool, 1, sizeof(mg_server_name_t));
    return cscf;
}

static const char *core_merge_srv_conf(mg_conf_t *cf, void *parent, void *child)
{
    mg_stream_srv_conf_t *prev = parent, *conf = child;
    mg_server_names_default(cf, &conf->server_names, conf);
    mg_conf_merge(conf->preread_timeout, prev->preread_timeout, 30000);
    mg_conf_merge_size(conf->preread_buffer_size, prev->preread_buffer_size, 16384);
    mg_conf_merge(conf->proxy_protocol_timeout, prev->proxy_protocol_timeout, 30000);
    mg_conf_merge(conf->tcp_nodelay, prev->tcp_nodelay, 1);
    mg_conf_merge(conf->resolver_timeout, prev->resolver_timeout, 30000);
    mg_conf_merge_ptr(conf->error_log, prev->error_log, NULL);
    mg_conf_merge_ptr(conf->resolver, prev->resolver, NULL);
    return MG_CONF_OK;
}

static const char *core_error_log(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_stream_srv_conf_t *cscf = conf;
    if (cscf->error_log == MG_CONF_UNSET_PTR) {
        cscf->error_log = NULL;
    }
    return mg_log_set_from_conf(cf, &cscf->error_log);
}

/* resolver ADDRESS ... [valid=] [ipv4=] [ipv6=] [status_zone=]: http's (core/resolver.c) */
static const char *core_resolver(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_stream_srv_conf_t *cscf = conf;
    if (cscf->resolver != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    cscf->resolver = mg_resolver_conf(cf);
    return cscf->resolver ? MG_CONF_OK : MG_CONF_ERROR;
}

/* server_name (nginx >= 1.25.5): as http's */
static const char *core_server_name(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    return mg_server_name_directive(cf, &((mg_stream_srv_conf_t *)conf)->server_names, conf,
                                    mg_stream_regex_compile);
}

/* the session takes the server's configuration and error_log */
static void set_server(mg_stream_session_t *s, mg_stream_srv_conf_t *srv)
{
    s->srv_conf = srv->ctx->srv_conf;
    if (srv->error_log) {
        mg_log_use(&s->connection->log, srv->error_log);
    }
}

mg_int_t mg_stream_server_by_name(mg_stream_session_t *s, mg_str_t name)
{
    mg_server_names_t *t = s->addr->names;
    mg_str_t host;
    if (t == NULL || name.len == 0 || mg_server_name_validate(s->pool, name, &host) != MG_OK) {
        return MG_OK;
    }
    mg_stream_srv_conf_t *found = mg_server_names_find(t, host);
    mg_server_name_t *re = t->regex.elts;
    for (size_t i = 0; i < t->regex.nelts && found == NULL; i++) {
        mg_int_t rc = mg_stream_regex_exec(s, re[i].regex, host);
        if (rc == MG_ERROR) {
            return MG_ERROR;
        }
        if (rc == MG_OK) {
            found = re[i].server;
        }
    }
    if (found) {
        set_server(s, found);
    }
    return MG_OK;
}

#define SRV(f) MG_SRV_CONF, offsetof(mg_stream_srv_conf_t, f)
#define STREAM_SRV (MG_CTX_STREAM | MG_CTX_STREAM_SRV)

static const mg_command_t core_commands[] = {
    {"server", MG_CTX_STREAM, MG_BLOCK | MG_ARGS(0, 0), stream_server, MG_NO_CONF, 0, NULL},
    {"listen", MG_CTX_STREAM_SRV, MG_ARGS(1, MG_MANY), stream_listen, MG_SRV_CONF, 0, NULL},
    {"preread_buffer_size", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_size, SRV(preread_buffer_size),
     NULL},
    {"preread_timeout", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_msec, SRV(preread_timeout), NULL},
    {"proxy_protocol_timeout", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_msec,
     SRV(proxy_protocol_timeout), NULL},
    {"tcp_nodelay", STREAM_SRV, MG_FLAG, mg_conf_set_flag, SRV(tcp_nodelay), NULL},
    {"resolver", STREAM_SRV, MG_ARGS(1, MG_MANY), core_resolver, MG_SRV_CONF, 0, NULL},
    {"resolver_timeout", STREAM_SRV, MG_ARGS(1, 1), mg_conf_set_msec, SRV(resolver_timeout), NULL},
    {"error_log", STREAM_SRV, MG_ARGS(1, 2), core_error_log, MG_SRV_CONF, 0, NULL},
    {"server_name", MG_CTX_STREAM_SRV, MG_ARGS(1, MG_MANY), core_server_name, MG_SRV_CONF, 0, NULL},
    {"server_names_hash_max_size", MG_CTX_STREAM, MG_ARGS(1, 1), mg_conf_set_num, MG_MAIN_CONF,
     offsetof(mg_stream_main_conf_t, server_names_hash_max_size), NULL},
    {"server_names_hash_bucket_size", MG_CTX_STREAM, MG_ARGS(1, 1), mg_conf_set_num, MG_MAIN_CONF,
     offsetof(mg_stream_main_conf_t, server_names_hash_bucket_size), NULL},
    {"variables_hash_max_size", MG_CTX_STREAM, MG_ARGS(1, 1), mg_conf_set_num, MG_MAIN_CONF,
     offsetof(mg_stream_main_conf_t, variables_hash_max_size), NULL},
    {"variables_hash_bucket_size", MG_CTX_STREAM, MG_ARGS(1, 1), mg_conf_set_num, MG_MAIN_CONF,
     offsetof(mg_stream_main_conf_t, variables_hash_bucket_size), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static mg_int_t core_init(mg_conf_t *cf)
{
    mg_stream_variables_add_core(cf);
    return MG_OK;
}

static const mg_stream_module_t core_stream = {
    .create_main_conf = core_create_main_conf,
    .init_main_conf = core_init_main_conf,
    .create_srv_conf = core_create_srv_conf,
    .merge_srv_conf = core_merge_srv_conf,
    .init = core_init,
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t core_defaults[] = {
    {"error_log", "logs/error.log error"}, {"server", MG_NO_DEFAULT}, {"listen", MG_NO_DEFAULT},
    {"resolver", MG_NO_DEFAULT},           {"server_name", "\"\""},   {0},
};

mg_module_t mg_stream_core_module = {
    .name = "stream_core",
    .commands = core_commands,
    .defaults = core_defaults,
    .stream = &core_stream,
};

static const mg_command_t stream_commands[] = {
    {"stream", MG_CTX_MAIN, MG_BLOCK | MG_ARGS(0, 0), stream_block, MG_NO_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t stream_defaults[] = {
    {"stream", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_stream_module = {
    .name = "stream",
    .commands = stream_commands,
    .defaults = stream_defaults,
};

void mg_stream_add_handler(mg_conf_t *cf, int phase, mg_stream_handler_pt h)
{
    mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
    *(mg_stream_handler_pt *)mg_array_push(&cmcf->phases[phase]) = h;
}

void mg_stream_add_handler_first(mg_conf_t *cf, int phase, mg_stream_handler_pt h)
{
    mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
    mg_array_t *a = &cmcf->phases[phase];
    mg_array_push(a);
    mg_stream_handler_pt *hs = a->elts;
    memmove(hs + 1, hs, (a->nelts - 1) * sizeof(*hs));
    hs[0] = h;
}

/* ---- sessions ---- */

static size_t stream_log_handler(mg_log_t *log, char *buf, size_t len)
{
    mg_stream_session_t *s = log->data;
    char *p = buf, *end = buf + len;
    if (log->action) {
        p = mg_sprintf_end(p, end, " while %s", log->action);
    }
    p = mg_sprintf_end(p, end, ", %sclient: %s, server: %s", s->udp ? "udp " : "",
                       s->connection->addr_text, s->addr->addr_text);
    /* as nginx's: once the proxy runs, its byte counts, and the peer once there is one */
    if (s->upstream && !s->finalized) {
        if (s->log_upstream.len) {
            p = mg_sprintf_end(p, end, ", upstream: \"%.*s\"", (int)s->log_upstream.len,
                               s->log_upstream.data);
        }
        p = mg_sprintf_end(p, end,
                           ", bytes from/to client:%lld/%lld, bytes from/to upstream:%lld/%lld",
                           (long long)s->received, (long long)s->sent,
                           (long long)s->upstream_received, (long long)s->upstream_sent);
    }
    return (size_t)(p - buf);
}

void mg_stream_log_plain(mg_stream_session_t *s, int level, const char *fmt, ...)
{
    mg_log_t *log = &s->connection->log;
    if (level > log->level && !log->debug) {
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mg_log_handler_pt handler = log->handler;
    log->handler = NULL;
    mg_log_error(level, log, 0, "%s", msg);
    log->handler = handler;
}

static void close_session(mg_stream_session_t *s)
{
    if (s->cleanup) {
        void (*cleanup)(mg_stream_session_t *) = s->cleanup;
        s->cleanup = NULL;
        cleanup(s);
    }
    mg_conn_close(s->connection);
}

/* The connection closed under us (worker_shutdown_timeout, a forced close): the content's
 * upstream side goes with it. */
static void session_pool_cleanup(void *data)
{
    mg_stream_session_t *s = data;
    if (s->cleanup) {
        void (*cleanup)(mg_stream_session_t *) = s->cleanup;
        s->cleanup = NULL;
        cleanup(s);
    }
}

void mg_stream_finalize_session(mg_stream_session_t *s, mg_uint_t status)
{
    if (s->finalized) {
        return;
    }
    mg_debug_stream(&s->connection->log, "finalize stream session: %lu", (unsigned long)status);
    s->finalized = 1;
    s->status = status;
    mg_connection_t *c = s->connection;
    if (s->cleanup) {
        void (*cleanup)(mg_stream_session_t *) = s->cleanup;
        s->cleanup = NULL;
        cleanup(s);
    }
    c->log.action = NULL;
    s->log_upstream.len = 0;
    mg_stream_main_conf_t *cmcf = mg_stream_get_main_conf(s, mg_stream_core_module);
    mg_stream_handler_pt *h = cmcf->phases[MG_STREAM_LOG_PHASE].elts;
    for (size_t i = 0; i < cmcf->phases[MG_STREAM_LOG_PHASE].nelts; i++) {
        h[i](s);
    }
    close_session(s);
}

/* ---- the preread phase ---- */

static void preread_resume(mg_connection_t *c)
{
    mg_stream_core_run(c->data);
}

static void preread_timeout(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    s->preread_timedout = 1;
    mg_stream_core_run(s);
}

/* A preread handler looks at s->preread[0..preread_len) and answers MG_AGAIN while it needs
 * more: the client's next bytes are read (c->recv: after the ssl phase, the plaintext) and it
 * is asked again. As nginx's: a full buffer ends the session (400); the client's end, a read
 * error or preread_timeout (over the whole phase) end it too, as a normal end (200). */
static mg_int_t preread_run(mg_stream_session_t *s, mg_stream_handler_pt h)
{
    mg_connection_t *c = s->connection;
    mg_stream_srv_conf_t *cscf = mg_stream_get_srv_conf(s, mg_stream_core_module);
    if (s->preread_timedout) {
        return 200;
    }
    c->log.action = "prereading client data";
    mg_int_t rc = h(s);
    if (rc == MG_AGAIN && s->preread_size < cscf->preread_buffer_size) {
        /* only a handler that waits costs the buffer */
        char *b = mg_palloc(c->pool, cscf->preread_buffer_size);
        if (s->preread_len) {
            memcpy(b, s->preread, s->preread_len);
        }
        s->preread = b;
        s->preread_size = cscf->preread_buffer_size;
    }
    while (rc == MG_AGAIN) {
        s->preread_claimed = 1;
        if (s->preread_len == s->preread_size) {
            mg_log_error(MG_LOG_ERR, &c->log, 0, "preread buffer full");
            rc = 400;
            break;
        }
        ssize_t n = c->recv(c, s->preread + s->preread_len, s->preread_size - s->preread_len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!s->preread_wait) {
                s->preread_wait = 1;
                c->read_handler = preread_resume;
                c->timeout_handler = preread_timeout;
                mg_conn_timer_set(c, cscf->preread_timeout);
                mg_conn_read_on(c);
            }
            return MG_AGAIN;
        }
        if (n <= 0) {
            rc = 200;
            break;
        }
        s->preread_len += (size_t)n;
        rc = h(s);
    }
    if (s->preread_wait) {
        s->preread_wait = 0;
        mg_conn_timer_del(c);
        mg_conn_read_off(c);
        c->read_handler = NULL;
        c->timeout_handler = NULL;
    }
    c->log.action = "initializing session";
    return rc;
}

/* What a phase handler's answer means: 1 to go on with the phases, 0 to stop here. */
static int phase_next(mg_stream_session_t *s, mg_int_t rc)
{
    if (rc == MG_DECLINED) {
        s->handler++;
        return 1;
    }
    if (rc == MG_OK) {
        s->phase++;
        s->handler = 0;
        return 1;
    }
    if (rc == MG_AGAIN || rc == MG_DONE) {
        return 0;
    }
    mg_stream_finalize_session(s, rc == MG_ERROR ? 500 : (mg_uint_t)rc);
    return 0;
}

void mg_stream_phase_resume(mg_stream_session_t *s, mg_int_t rc)
{
    if (phase_next(s, rc)) {
        mg_stream_core_run(s);
    }
}

void mg_stream_core_run(mg_stream_session_t *s)
{
    mg_stream_main_conf_t *cmcf = mg_stream_get_main_conf(s, mg_stream_core_module);
    while (s->phase < MG_STREAM_CONTENT_PHASE) {
        mg_array_t *a = &cmcf->phases[s->phase];
        if (s->handler >= a->nelts) {
            s->phase++;
            s->handler = 0;
            continue;
        }
        /* the last registered first, as nginx's */
        mg_stream_handler_pt *h = a->elts;
        mg_stream_handler_pt fn = h[a->nelts - 1 - s->handler];
        mg_debug_stream(&s->connection->log, "generic phase: %d", (int)s->phase);
        mg_int_t rc = s->phase == MG_STREAM_PREREAD_PHASE ? preread_run(s, fn) : fn(s);
        if (!phase_next(s, rc)) {
            return;
        }
    }
    if (s->phase == MG_STREAM_CONTENT_PHASE) {
        s->phase++;
        /* what the PROXY header's read brought along: nginx leaves it in the socket (it takes
         * only the header), for the content's reads when no preread handler took it */
        if (!s->preread_claimed) {
            s->received += (off_t)s->preread_len;
        }
        mg_stream_srv_conf_t *cscf = mg_stream_get_srv_conf(s, mg_stream_core_module);
        s->connection->log.action = NULL;
        cscf->handler(s);
    }
}

/* ---- the PROXY protocol header ---- */

static void pp_timeout(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
    mg_stream_finalize_session(s, 200);
}

static void pp_read(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    /* before a TLS handshake the bytes are peeked and only the header's taken: the ClientHello
       after it stays in the socket for OpenSSL */
    int peek = s->addr->ssl;
    char *at = s->preread + s->preread_len;
    size_t room = s->preread_size - s->preread_len;
    ssize_t n = peek ? recv(c->fd, at, room, MSG_PEEK) : c->recv(c, at, room);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        mg_stream_finalize_session(s, 200);
        return;
    }
    size_t total = s->preread_len + (size_t)n;
    mg_proxy_protocol_t *pp = NULL;
    ssize_t hl = mg_proxy_protocol_read(c->pool, &c->log, s->preread, total, s->preread_size, &pp);
    size_t take = hl > 0 ? (size_t)hl - s->preread_len : (size_t)n;
    if (hl >= 0 && peek && recv(c->fd, at, take, 0) != (ssize_t)take) {
        mg_log_error(MG_LOG_INFO, &c->log, errno, "recv() failed");
        mg_stream_finalize_session(s, 500);
        return;
    }
    s->preread_len = peek ? s->preread_len + take : total;
    if (hl == 0) {
        return;
    }
    if (hl < 0) {
        mg_stream_finalize_session(s, 400);
        return;
    }
    c->proxy_protocol = pp;
    memmove(s->preread, s->preread + hl, s->preread_len - (size_t)hl);
    s->preread_len -= (size_t)hl;
    mg_conn_timer_del(c);
    mg_conn_read_off(c);
    c->read_handler = NULL;
    c->timeout_handler = NULL;
    c->log.action = "initializing session";
    mg_stream_core_run(s);
}

static void init_connection(mg_connection_t *c)
{
    mg_stream_port_t *port = c->listening->servers;
    mg_stream_addr_t *addrs = port->addrs.elts;
    mg_stream_addr_t *addr = &addrs[0];
    if (port->addrs.nelts > 1 && mg_conn_local_addr(c) == MG_OK) {
        for (size_t i = 0; i < port->addrs.nelts; i++) {
            addr = &addrs[i];
            if (mg_sockaddr_equal((struct sockaddr *)&addrs[i].sockaddr, c->local_sockaddr, 1)) {
                break;
            }
        }
    }
    /* a session is never idle: a drain or a quit waits for it, and no accept takes its slot */
    mg_server_conn_reusable(c, 0);
    c->debug_proto = MG_LOG_DEBUG_STREAM;
    mg_stream_session_t *s = mg_pcalloc(c->pool, sizeof(mg_stream_session_t));
    s->udp = c->listening->udp ? c->data : NULL;
    s->received = s->udp ? (off_t)mg_stream_udp_first_len(s->udp) : 0;
    s->connection = c;
    s->pool = c->pool;
    s->addr = addr;
    s->main_conf = addr->srv->ctx->main_conf;
    s->srv_conf = addr->srv->ctx->srv_conf;
    s->ctx = mg_pcalloc(c->pool, mg_modules_n * sizeof(void *));
    s->start_msec = mg_now.msec;
    s->start_mono = mg_now.monotonic;
    /* 0 until the session ends: $status reads "000" before, as nginx's */
    c->data = s;
    c->log.handler = stream_log_handler;
    c->log.data = s;
    mg_pool_cleanup_add(c->pool, session_pool_cleanup, s);
    mg_stream_srv_conf_t *cscf = addr->srv;
    if (cscf->error_log) {
        mg_log_use(&c->log, cscf->error_log);
    }
    if (c->sockaddr->sa_family == AF_UNIX) {
        mg_stream_log_plain(s, MG_LOG_INFO, "%sclient %s connected to %s",
                            c->listening->udp ? "udp " : "", c->addr_text, addr->addr_text);
    } else {
        mg_stream_log_plain(s, MG_LOG_INFO, "%sclient %s:%u connected to %s",
                            c->listening->udp ? "udp " : "", c->addr_text,
                            (unsigned)mg_sockaddr_port(c->sockaddr), addr->addr_text);
    }
    c->log.action = "initializing session";
    if (cscf->tcp_nodelay && c->sockaddr->sa_family != AF_UNIX && !c->listening->udp) {
        int one = 1;
        if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0) {
            c->tcp_nodelay = 1;
        }
    }
    if (addr->proxy_protocol) {
        s->preread_size = 108 + 216; /* a v1 line or a v2 block with its addresses */
        s->preread = mg_palloc(c->pool, s->preread_size);
        c->log.action = "reading PROXY protocol";
        c->read_handler = pp_read;
        c->timeout_handler = pp_timeout;
        mg_conn_timer_set(c, cscf->proxy_protocol_timeout);
        mg_conn_read_on(c);
        pp_read(c);
        return;
    }
    mg_stream_core_run(s);
}
