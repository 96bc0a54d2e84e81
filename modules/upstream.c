/*
 * The upstream{} block and the registry of upstream groups (core/http/upstream_peer.h):
 * "server address [weight= max_fails= fail_timeout= backup down]" with the host resolved at
 * load (every address a peer), keepalive/keepalive_requests/keepalive_timeout/keepalive_time
 * stored for the engine's pool, and mg_upstream_group_ref(): proxy_pass's reference to a
 * group by name, matched as nginx's ngx_http_upstream_add() does (case-insensitive name, port
 * rules), implicit groups for host:port resolved at the end of http{}, when every upstream{}
 * block is known. Then each group's balancer prepares it (round robin by default).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/un.h>

#include "upstream.h"
#include "upstream_rr.h"

typedef struct {
    mg_upstream_group_t g;   /* first: a group pointer is a up_group_t pointer */
    unsigned flags;          /* "server" parameters allowed (MG_UPSTREAM_*) */
    unsigned created : 1;    /* an upstream{} block defines it */
    unsigned balancer_set : 1;
} up_group_t;

typedef struct {
    mg_array_t groups;       /* up_group_t *, in order of first reference or definition */
    up_group_t *current;     /* the upstream{} block being read */
} up_main_conf_t;

static up_main_conf_t *main_conf(mg_conf_t *cf)
{
    return mg_http_conf_get_main(cf, mg_upstream_module);
}

static void *up_create_main_conf(mg_conf_t *cf)
{
    up_main_conf_t *umcf = mg_pcalloc(cf->pool, sizeof(up_main_conf_t));
    mg_array_init(&umcf->groups, cf->pool, 4, sizeof(up_group_t *));
    return umcf;
}

static mg_uint_t conf_line(mg_conf_t *cf)
{
    const char *w = mg_conf_where(cf);
    const char *colon = strrchr(w, ':');
    return colon ? (mg_uint_t)strtoul(colon + 1, NULL, 10) : 0;
}

static up_group_t *group_new(mg_conf_t *cf)
{
    up_group_t *ug = mg_pcalloc(cf->pool, sizeof(up_group_t));
    mg_upstream_group_t *g = &ug->g;
    mg_array_init(&g->peers, cf->pool, 4, sizeof(mg_upstream_peer_t));
    mg_array_init(&g->backup, cf->pool, 1, sizeof(mg_upstream_peer_t));
    g->keepalive = MG_CONF_UNSET;
    g->keepalive_requests = MG_CONF_UNSET;
    g->keepalive_timeout = MG_CONF_UNSET;
    g->keepalive_time = MG_CONF_UNSET;
    g->file = mg_conf_file(cf);
    g->line = conf_line(cf);
    ug->flags = MG_UPSTREAM_ALL;
    *(up_group_t **)mg_array_push(&main_conf(cf)->groups) = ug;
    return ug;
}

/* ---- addresses ---- */

typedef struct {
    mg_str_t host;   /* without brackets for IPv6; "unix:/path" for a unix-domain socket */
    in_port_t port;
    unsigned no_port : 1;
    unsigned ipv6 : 1;
    unsigned unix_path : 1;
    struct in6_addr addr6;
} up_url_t;

/* "unix:/path": the whole of it is the host (and the group's and peer's name). */
static const char *parse_unix(mg_str_t s, up_url_t *u)
{
    size_t plen = s.len - 5;
    if (plen == 0) {
        return "no path in the unix domain socket";
    }
    if (plen >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        return "too long path in the unix domain socket";
    }
    u->host = s;
    u->unix_path = 1;
    u->no_port = 1;
    return NULL;
}

/* nginx's ngx_parse_url for upstream addresses: NULL or its error phrase. */
static const char *parse_url(mg_str_t s, in_port_t default_port, up_url_t *u)
{
    memset(u, 0, sizeof(*u));
    if (s.len >= 5 && mg_strncasecmp(s.data, "unix:", 5) == 0) {
        return parse_unix(s, u);
    }
    const char *p = s.data, *end = s.data + s.len;
    const char *port = NULL;
    if (s.len && *p == '[') {
        const char *rb = memchr(p, ']', s.len);
        if (rb == NULL) {
            return "invalid host";
        }
        if (memchr(rb, '/', (size_t)(end - rb))) {
            return "invalid host";
        }
        char buf[INET6_ADDRSTRLEN + 1];
        size_t n = (size_t)(rb - p - 1);
        if (n >= sizeof(buf)) {
            return "invalid IPv6 address";
        }
        memcpy(buf, p + 1, n);
        buf[n] = '\0';
        if (inet_pton(AF_INET6, buf, &u->addr6) != 1) {
            return "invalid IPv6 address";
        }
        u->ipv6 = 1;
        u->host.data = (char *)p + 1;
        u->host.len = n;
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                return "invalid host";
            }
            port = rb + 2;
        }
    } else {
        if (memchr(p, '/', s.len)) {
            return "invalid host";
        }
        const char *colon = memchr(p, ':', s.len);
        u->host.data = (char *)p;
        u->host.len = colon ? (size_t)(colon - p) : s.len;
        if (colon) {
            port = colon + 1;
        }
        if (u->host.len == 0) {
            return "no host";
        }
    }
    if (port) {
        int64_t n = mg_atoi(port, (size_t)(end - port));
        if (n < 1 || n > 65535) {
            return "invalid port";
        }
        u->port = (in_port_t)n;
    } else {
        u->port = default_port;
        u->no_port = 1;
    }
    return NULL;
}

static void add_peer(mg_conf_t *cf, mg_array_t *list, const struct sockaddr *sa, socklen_t len,
                     in_port_t port, mg_str_t server)
{
    mg_upstream_peer_t *peer = mg_array_push(list);
    memcpy(&peer->sockaddr, sa, len);
    peer->socklen = len;
    if (sa->sa_family == AF_UNIX) {
        peer->name = server;
    } else {
        if (sa->sa_family == AF_INET) {
            ((struct sockaddr_in *)&peer->sockaddr)->sin_port = htons(port);
        } else {
            ((struct sockaddr_in6 *)&peer->sockaddr)->sin6_port = htons(port);
        }
        char text[128];
        size_t n = mg_sockaddr_text((struct sockaddr *)&peer->sockaddr, text, sizeof(text), 1);
        peer->name = mg_pstr(cf->pool, text, n);
    }
    peer->server = server;
    peer->weight = 1;
    peer->effective_weight = 1;
    peer->max_fails = 1;
    peer->fail_timeout = 10000;
}

/* Append one peer per address of u (IPv4 first, as nginx); returns how many, or -1 when the
 * host does not resolve. */
static mg_int_t resolve(mg_conf_t *cf, up_url_t *u, mg_array_t *list, mg_str_t server)
{
    size_t before = list->nelts;
    if (u->unix_path) {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, u->host.data + 5, u->host.len - 5);
        add_peer(cf, list, (struct sockaddr *)&sun, sizeof(sun), 0, u->host);
        return 1;
    }
    if (u->ipv6) {
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = u->addr6;
        add_peer(cf, list, (struct sockaddr *)&sin6, sizeof(sin6), u->port, server);
        return 1;
    }
    char host[1024];
    if (u->host.len >= sizeof(host)) {
        return -1;
    }
    memcpy(host, u->host.data, u->host.len);
    host[u->host.len] = '\0';
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        add_peer(cf, list, (struct sockaddr *)&sin, sizeof(sin), u->port, server);
        return 1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
#ifdef AI_ADDRCONFIG
    hints.ai_flags = AI_ADDRCONFIG;
#endif
    if (getaddrinfo(host, NULL, &hints, &res) != 0) {
        return -1;
    }
    static const int families[2] = { AF_INET, AF_INET6 };
    for (int f = 0; f < 2; f++) {
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            if (ai->ai_family == families[f]) {
                add_peer(cf, list, ai->ai_addr, ai->ai_addrlen, u->port, server);
            }
        }
    }
    freeaddrinfo(res);
    return list->nelts > before ? (mg_int_t)(list->nelts - before) : -1;
}

/* ---- references ---- */

mg_upstream_group_t *mg_upstream_group_ref(mg_conf_t *cf, mg_str_t host_port, in_port_t default_port)
{
    up_url_t u;
    const char *err = parse_url(host_port, default_port, &u);
    if (err) {
        mg_conf_error(cf, 0, "%s in upstream \"%.*s\"", err, (int)host_port.len, host_port.data);
        return NULL;
    }
    up_main_conf_t *umcf = main_conf(cf);
    up_group_t **gs = umcf->groups.elts;
    for (size_t i = 0; i < umcf->groups.nelts; i++) {
        mg_upstream_group_t *g = &gs[i]->g;
        if (g->host.len != u.host.len || mg_strncasecmp(g->host.data, u.host.data, u.host.len) != 0) {
            continue;
        }
        if (gs[i]->created && !u.no_port) {
            mg_conf_error(cf, 0, "upstream \"%.*s\" may not have port %u", (int)u.host.len,
                          u.host.data, (unsigned)u.port);
            return NULL;
        }
        if (g->port && u.port && g->port != u.port) {
            continue;
        }
        return g;
    }
    up_group_t *ug = group_new(cf);
    mg_upstream_group_t *g = &ug->g;
    g->implicit = 1;
    g->host = mg_pstr(cf->pool, u.host.data, u.host.len);
    g->port = u.port;
    g->no_port = u.no_port;
    if (u.unix_path) {
        g->name = g->host;
        return g;
    }
    char name[1100];
    int n = snprintf(name, sizeof(name), "%.*s:%u", (int)u.host.len, u.host.data, (unsigned)u.port);
    g->name = mg_pstr(cf->pool, name, (size_t)n < sizeof(name) ? (size_t)n : sizeof(name) - 1);
    /* the address as written, for the peers' "server" (e.g. proxy's Host) */
    g->balancer_conf = NULL;
    (void)host_port;
    return g;
}

/* ---- upstream { } ---- */

static const char *up_block(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    up_main_conf_t *umcf = conf;
    mg_str_t name = cf->args[1];
    up_group_t *ug = NULL;
    up_group_t **gs = umcf->groups.elts;
    for (size_t i = 0; i < umcf->groups.nelts; i++) {
        mg_upstream_group_t *g = &gs[i]->g;
        if (g->host.len != name.len || mg_strncasecmp(g->host.data, name.data, name.len) != 0) {
            continue;
        }
        if (gs[i]->created) {
            mg_conf_error(cf, 0, "duplicate upstream \"%.*s\"", (int)name.len, name.data);
            return MG_CONF_ERROR;
        }
        if (!g->no_port) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "upstream \"%.*s\" may not have port %u in %s:%lu",
                         (int)name.len, name.data, (unsigned)g->port, g->file,
                         (unsigned long)g->line);
            return MG_CONF_ERROR;
        }
        ug = gs[i]; /* referenced before: this block defines it */
        break;
    }
    if (ug == NULL) {
        ug = group_new(cf);
    }
    mg_upstream_group_t *g = &ug->g;
    ug->created = 1;
    g->implicit = 0;
    g->port = 0;
    g->no_port = 1;
    g->host = name;
    g->name = name;
    g->file = mg_conf_file(cf);
    g->line = conf_line(cf);

    up_group_t *saved_current = umcf->current;
    unsigned saved_ctx = cf->ctx;
    umcf->current = ug;
    cf->ctx = (saved_ctx & MG_CTX_STREAM) ? MG_CTX_STREAM_UPS : MG_CTX_UPSTREAM;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->ctx = saved_ctx;
    umcf->current = saved_current;
    if (rc != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (g->peers.nelts == 0 && g->backup.nelts == 0) {
        mg_conf_error(cf, 0, "no servers are inside upstream");
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

mg_upstream_group_t *mg_upstream_current(mg_conf_t *cf)
{
    return &main_conf(cf)->current->g;
}

void mg_upstream_set_balancer(mg_conf_t *cf, const mg_upstream_balancer_t *b, void *bconf,
                              unsigned flags)
{
    up_group_t *ug = main_conf(cf)->current;
    if (ug->balancer_set) {
        mg_conf_log(cf, MG_LOG_WARN, 0, "load balancing method redefined");
    }
    ug->balancer_set = 1;
    ug->g.balancer = b;
    ug->g.balancer_conf = bconf;
    ug->flags = flags;
}

/* an address that needs no resolving ("resolve" has nothing to do) */
static int is_literal(up_url_t *u)
{
    char h[64];
    struct in_addr a;
    if (u->ipv6 || u->unix_path) {
        return 1;
    }
    if (u->host.len >= sizeof(h)) {
        return 0;
    }
    memcpy(h, u->host.data, u->host.len);
    h[u->host.len] = '\0';
    return inet_pton(AF_INET, h, &a) == 1;
}

static const char *up_server(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    up_main_conf_t *umcf = conf;
    up_group_t *ug = umcf->current;
    mg_int_t weight = 1, max_fails = 1, max_conns = 0;
    int64_t fail_timeout = 10;
    int backup = 0, down = 0, dynamic = 0;
    size_t i;
    mg_str_t *v = cf->args;
    for (i = 2; i < cf->nargs; i++) {
        unsigned need = 0;
        if (v[i].len >= 7 && memcmp(v[i].data, "weight=", 7) == 0) {
            need = MG_UPSTREAM_WEIGHT;
            weight = (mg_int_t)mg_atoi(v[i].data + 7, v[i].len - 7);
            if (weight <= 0) {
                goto invalid;
            }
        } else if (v[i].len >= 10 && memcmp(v[i].data, "max_conns=", 10) == 0) {
            need = MG_UPSTREAM_MAX_CONNS;
            max_conns = (mg_int_t)mg_atoi(v[i].data + 10, v[i].len - 10);
            if (max_conns < 0) {
                goto invalid;
            }
        } else if (v[i].len >= 10 && memcmp(v[i].data, "max_fails=", 10) == 0) {
            need = MG_UPSTREAM_MAX_FAILS;
            max_fails = (mg_int_t)mg_atoi(v[i].data + 10, v[i].len - 10);
            if (max_fails < 0) {
                goto invalid;
            }
        } else if (v[i].len >= 13 && memcmp(v[i].data, "fail_timeout=", 13) == 0) {
            need = MG_UPSTREAM_FAIL_TIMEOUT;
            mg_str_t t = { v[i].len - 13, v[i].data + 13 };
            fail_timeout = mg_parse_time(t, 1);
            if (fail_timeout < 0) {
                goto invalid;
            }
        } else if (mg_str_eq(v[i], "backup")) {
            need = MG_UPSTREAM_BACKUP;
            backup = 1;
        } else if (mg_str_eq(v[i], "down")) {
            need = MG_UPSTREAM_DOWN;
            down = 1;
        } else if (mg_str_eq(v[i], "resolve") && cf->ctx == MG_CTX_UPSTREAM) {
            dynamic = 1;
            continue;
        } else {
            goto invalid;
        }
        if (!(ug->flags & need)) {
            mg_conf_error(cf, 0, "balancing method does not support parameter \"%s\"", v[i].data);
            return MG_CONF_ERROR;
        }
    }

    up_url_t u;
    const char *err = parse_url(v[1], 80, &u);
    mg_array_t *list = backup ? &ug->g.backup : &ug->g.peers;
    size_t first = list->nelts;
    if (err == NULL && dynamic && !is_literal(&u)) {
        mg_upstream_peer_t tmpl;
        memset(&tmpl, 0, sizeof(tmpl));
        tmpl.weight = weight;
        tmpl.max_fails = max_fails;
        tmpl.max_conns = max_conns;
        tmpl.fail_timeout = fail_timeout * 1000;
        tmpl.down = down;
        tmpl.backup = backup;
        mg_upstream_dynamic_server(cf, &ug->g, list, u.host, u.port, v[1], &tmpl);
        return MG_CONF_OK;
    }
    if (err == NULL && resolve(cf, &u, list, v[1]) < 0) {
        err = "host not found";
    }
    if (err) {
        mg_conf_error(cf, 0, "%s in upstream \"%s\"", err, v[1].data);
        return MG_CONF_ERROR;
    }
    mg_upstream_peer_t *peers = list->elts;
    for (size_t k = first; k < list->nelts; k++) {
        peers[k].weight = weight;
        peers[k].effective_weight = weight;
        peers[k].max_fails = max_fails;
        peers[k].max_conns = max_conns;
        peers[k].fail_timeout = fail_timeout * 1000;
        peers[k].down = down;
        peers[k].backup = backup;
    }
    return MG_CONF_OK;

invalid:
    mg_conf_error(cf, 0, "invalid parameter \"%s\"", v[i].data);
    return MG_CONF_ERROR;
}

static const char *up_keepalive(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    up_main_conf_t *umcf = conf;
    mg_upstream_group_t *g = &umcf->current->g;
    if (g->keepalive != MG_CONF_UNSET) {
        return "is duplicate";
    }
    int64_t n = mg_atoi(cf->args[1].data, cf->args[1].len);
    if (n <= 0) {
        mg_conf_error(cf, 0, "invalid value \"%s\" in \"%s\" directive", cf->args[1].data,
                      cmd->name);
        return MG_CONF_ERROR;
    }
    g->keepalive = (mg_int_t)n;
    return MG_CONF_OK;
}

/* keepalive_requests/_timeout/_time: the generic setters on the current group */
static const char *up_group_setter(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    up_main_conf_t *umcf = conf;
    const mg_conf_set_pt set = (mg_conf_set_pt)(uintptr_t)cmd->post;
    return set(cf, cmd, &umcf->current->g);
}

/* ---- end of http{} ---- */

static const char *up_init_main_conf(mg_conf_t *cf, void *conf)
{
    up_main_conf_t *umcf = conf;
    up_group_t **gs = umcf->groups.elts;
    for (size_t i = 0; i < umcf->groups.nelts; i++) {
        mg_upstream_group_t *g = &gs[i]->g;
        if (!gs[i]->created) {
            up_url_t u;
            memset(&u, 0, sizeof(u));
            u.host = g->host;
            u.port = g->port;
            char v6[INET6_ADDRSTRLEN + 1];
            if (g->host.len > 5 && mg_strncasecmp(g->host.data, "unix:", 5) == 0) {
                u.unix_path = 1;
            } else if (g->host.len < sizeof(v6) && memchr(g->host.data, ':', g->host.len)) {
                memcpy(v6, g->host.data, g->host.len);
                v6[g->host.len] = '\0';
                u.ipv6 = inet_pton(AF_INET6, v6, &u.addr6) == 1;
            }
            if (!u.unix_path && u.port == 0) { /* stream's proxy_pass NAME, fastcgi_pass NAME */
                mg_log_error(MG_LOG_EMERG, cf->log, 0, "no port in upstream \"%s%.*s%s\" in %s:%lu",
                             u.ipv6 ? "[" : "", (int)g->host.len, g->host.data, u.ipv6 ? "]" : "",
                             g->file, (unsigned long)g->line);
                return MG_CONF_ERROR;
            }
            if (resolve(cf, &u, &g->peers, g->name) < 0) {
                mg_log_error(MG_LOG_EMERG, cf->log, 0, "host not found in upstream \"%.*s\" in %s:%lu",
                             (int)g->host.len, g->host.data, g->file, (unsigned long)g->line);
                return MG_CONF_ERROR;
            }
        } else if (g->peers.nelts == 0) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "no servers in upstream \"%.*s\" in %s:%lu",
                         (int)g->name.len, g->name.data, g->file, (unsigned long)g->line);
            return MG_CONF_ERROR;
        }
        mg_conf_merge(g->keepalive, MG_CONF_UNSET, 0);
        mg_conf_merge(g->keepalive_requests, MG_CONF_UNSET, 1000);
        mg_conf_merge(g->keepalive_timeout, MG_CONF_UNSET, 60000);
        mg_conf_merge(g->keepalive_time, MG_CONF_UNSET, 3600000);
        if (g->balancer == NULL) {
            g->balancer = &mg_upstream_round_robin;
        }
        if (g->balancer->init_group(cf, g) != MG_OK) {
            return MG_CONF_ERROR;
        }
        if (g->zone_name.len && mg_upstream_zone_init(cf, g) != MG_OK) {
            return MG_CONF_ERROR;
        }
        /* "server ... resolve" is http's only; its slots' records go in the zone */
        if (cf->ctx_data == cf->cycle->http && mg_upstream_dynamic_init(cf, g) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

#define GROUP_SET(setter) ((const void *)(uintptr_t)(setter))

static const mg_command_t up_commands[] = {
    {"upstream", MG_CTX_HTTP | MG_CTX_STREAM, MG_BLOCK | MG_ARGS(1, 1), up_block, MG_MAIN_CONF, 0,
     NULL},
    {"server", MG_CTX_UPSTREAM | MG_CTX_STREAM_UPS, MG_ARGS(1, MG_MANY), up_server, MG_MAIN_CONF, 0,
     NULL},
    {"keepalive", MG_CTX_UPSTREAM, MG_ARGS(1, 1), up_keepalive, MG_MAIN_CONF, 0, NULL},
    {"keepalive_requests", MG_CTX_UPSTREAM, MG_ARGS(1, 1), up_group_setter, MG_MAIN_CONF,
     offsetof(mg_upstream_group_t, keepalive_requests), GROUP_SET(mg_conf_set_num)},
    {"keepalive_timeout", MG_CTX_UPSTREAM, MG_ARGS(1, 1), up_group_setter, MG_MAIN_CONF,
     offsetof(mg_upstream_group_t, keepalive_timeout), GROUP_SET(mg_conf_set_msec)},
    {"keepalive_time", MG_CTX_UPSTREAM, MG_ARGS(1, 1), up_group_setter, MG_MAIN_CONF,
     offsetof(mg_upstream_group_t, keepalive_time), GROUP_SET(mg_conf_set_msec)},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* stream{} has its own upstream{} blocks, read by the same code into the stream's conf */
static const mg_stream_module_t up_stream = {
    .create_main_conf = up_create_main_conf,
    .init_main_conf = up_init_main_conf,
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t up_defaults[] = {
    {"keepalive_requests", "1000"},
    {"keepalive_timeout", "60s"},
    {"keepalive_time", "1h"},
    {"upstream", MG_NO_DEFAULT},
    {"server", MG_NO_DEFAULT},
    {"keepalive", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_upstream_module = {
    .name = "upstream",
    .commands = up_commands,
    .defaults = up_defaults,
    .stream = &up_stream,
    .create_main_conf = up_create_main_conf,
    .init_main_conf = up_init_main_conf,
};

/* proxy_pass with variables: an upstream{} block by name at run time (nginx looks only at
 * blocks, not at implicit groups, then falls back to resolving the name). */
mg_upstream_group_t *mg_upstream_group_find(mg_request_t *r, mg_str_t host_port,
                                            in_port_t default_port)
{
    up_url_t u;
    if (parse_url(host_port, default_port, &u) != NULL) {
        return NULL;
    }
    up_main_conf_t *umcf = mg_http_get_main_conf(r, mg_upstream_module);
    up_group_t **gs = umcf->groups.elts;
    for (size_t i = 0; i < umcf->groups.nelts; i++) {
        mg_upstream_group_t *g = &gs[i]->g;
        /* an upstream{} block by its name alone; an implicit group (a proxy_pass elsewhere
         * with this host) by host and port, the default port when none is written: nginx
         * then serves from the addresses found at load, with no resolver */
        if (g->host.len == u.host.len &&
            mg_strncasecmp(g->host.data, u.host.data, u.host.len) == 0 &&
            (gs[i]->created ? u.no_port : g->port == u.port)) {
            return g;
        }
    }
    return NULL;
}

mg_upstream_group_t *mg_upstream_group_at(void *main_conf, size_t i)
{
    up_main_conf_t *umcf = main_conf;
    if (umcf == NULL || i >= umcf->groups.nelts) {
        return NULL;
    }
    return &((up_group_t **)umcf->groups.elts)[i]->g;
}

mg_upstream_group_t *mg_upstream_group_in(void *main_conf, mg_str_t name)
{
    up_main_conf_t *umcf = main_conf;
    up_group_t **gs = umcf->groups.elts;
    for (size_t i = 0; i < umcf->groups.nelts; i++) {
        mg_upstream_group_t *g = &gs[i]->g;
        if (gs[i]->created && g->name.len == name.len &&
            mg_strncasecmp(g->name.data, name.data, name.len) == 0) {
            return g;
        }
    }
    return NULL;
}
