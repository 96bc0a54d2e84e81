/*
 * set_real_ip_from, real_ip_header, real_ip_recursive (nginx's ngx_http_realip_module): when
 * the client is a trusted proxy, its address (and port, if given) becomes the one in a request
 * header or the connection's PROXY protocol header, for everything after: $remote_addr, allow/deny,
 * the logs. It runs in the post-read phase with the server's settings and, if that changed nothing,
 * in the preaccess phase with the location's; once per request (an internal redirect does not apply
 * it again). The connection's address is put back when the request ends. $realip_remote_addr/_port
 * keep the address the connection came from. In stream{} (ngx_stream_realip_module),
 * set_real_ip_from makes a trusted client's PROXY protocol source the session's address, in the
 * post_accept phase, for the whole session.
 */
#include <netdb.h>
#include <sys/socket.h>

#include "cidr.h"
#include "http.h"
#include "proxy_protocol.h"
#include "stream.h"
#include "variables.h"

enum {
    HEADER_UNSET = -1,
    HEADER_X_REAL_IP,
    HEADER_X_FORWARDED_FOR,
    HEADER_PROXY_PROTOCOL,
    HEADER_OTHER
};

typedef struct {
    int unix_sock; /* "unix:": every unix-domain client */
    mg_cidr_t cidr;
} realip_from_t;

typedef struct {
    mg_array_t *from; /* realip_from_t; NULL: none at this level, inherit */
    mg_int_t type;
    mg_str_t header; /* HEADER_OTHER: the name, lowercase */
    int recursive;
} realip_conf_t;

typedef struct {
    int used; /* some level trusts an address: register the phase handlers */
} realip_main_conf_t;

/* The connection's own address while a request carries another one. */
typedef struct {
    mg_connection_t *c;
    struct sockaddr *sockaddr; /* in the connection's pool */
    socklen_t socklen;
    char *addr_text;
} realip_saved_t;

mg_module_t mg_realip_module;

static void *realip_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(realip_main_conf_t));
}

static void *realip_create_conf(mg_conf_t *cf)
{
    realip_conf_t *rc = mg_pcalloc(cf->pool, sizeof(realip_conf_t));
    rc->type = HEADER_UNSET;
    rc->recursive = MG_CONF_UNSET;
    return rc;
}

static const char *realip_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    realip_conf_t *prev = parent, *conf = child;
    if (conf->from == NULL) {
        conf->from = prev->from;
    }
    mg_conf_merge(conf->recursive, prev->recursive, 0);
    if (conf->type == HEADER_UNSET) {
        conf->type = prev->type == HEADER_UNSET ? HEADER_X_REAL_IP : prev->type;
        conf->header = prev->header;
    }
    return MG_CONF_OK;
}

static realip_from_t *push_from(mg_conf_t *cf, realip_conf_t *rc)
{
    if (rc->from == NULL) {
        rc->from = mg_array_create(cf->pool, 4, sizeof(realip_from_t));
    }
    realip_from_t *f = mg_array_push(rc->from);
    memset(f, 0, sizeof(*f));
    return f;
}

/* set_real_ip_from address | CIDR | unix: | hostname (resolved now, every address it has) */
static const char *realip_set_from(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    realip_conf_t *rc = conf;
    realip_main_conf_t *mc = mg_http_conf_get_main(cf, mg_realip_module);
    mc->used = 1;
    mg_str_t v = cf->args[1];
    if (mg_str_eq(v, "unix:")) {
        push_from(cf, rc)->unix_sock = 1;
        return MG_CONF_OK;
    }
    mg_cidr_t cidr;
    mg_int_t prc = mg_cidr_parse(v, &cidr);
    if (prc != MG_ERROR) {
        if (prc == MG_DONE) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "low address bits of %s are meaningless", v.data);
        }
        push_from(cf, rc)->cidr = cidr;
        return MG_CONF_OK;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(v.data, NULL, &hints, &res) != 0) {
        mg_conf_error(cf, 0, "host not found in set_real_ip_from \"%s\"", v.data);
        return MG_CONF_ERROR;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char text[64];
        mg_sockaddr_text(ai->ai_addr, text, sizeof(text), 0);
        mg_str_t t = {strlen(text), text};
        if (mg_cidr_parse(t, &cidr) == MG_OK) {
            push_from(cf, rc)->cidr = cidr;
        }
    }
    freeaddrinfo(res);
    return MG_CONF_OK;
}

static const char *realip_set_header(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    realip_conf_t *rc = conf;
    if (rc->type != HEADER_UNSET) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    /* nginx's own names are matched exactly; any other spelling is a header like any other */
    if (mg_str_eq(v, "X-Real-IP")) {
        rc->type = HEADER_X_REAL_IP;
    } else if (mg_str_eq(v, "X-Forwarded-For")) {
        rc->type = HEADER_X_FORWARDED_FOR;
    } else if (mg_str_eq(v, "proxy_protocol")) {
        rc->type = HEADER_PROXY_PROTOCOL;
    } else {
        rc->type = HEADER_OTHER;
        rc->header.data = mg_pnalloc(cf->pool, v.len + 1);
        mg_strlow(rc->header.data, v.data, v.len);
        rc->header.data[v.len] = '\0';
        rc->header.len = v.len;
    }
    return MG_CONF_OK;
}

static int trusted(realip_conf_t *rc, const struct sockaddr *sa)
{
    realip_from_t *f = rc->from->elts;
    for (size_t i = 0; i < rc->from->nelts; i++) {
        if (f[i].unix_sock ? sa->sa_family == AF_UNIX : mg_cidr_match(&f[i].cidr, sa)) {
            return 1;
        }
    }
    return 0;
}

/* "addr", "addr:port", "[v6addr]:port" (RFC 3986); a port must be 1-65535. */
static int parse_addr_port(const char *p, size_t len, struct sockaddr_storage *ss, socklen_t *sl)
{
    mg_str_t whole = {len, (char *)p};
    if (mg_addr_parse(whole, ss, sl) == MG_OK) {
        return 1;
    }
    const char *end = p + len, *colon;
    mg_str_t host;
    if (len && p[0] == '[') {
        const char *rb = memchr(p, ']', len);
        if (rb == NULL || rb + 1 >= end || rb[1] != ':') {
            return 0;
        }
        host = (mg_str_t){(size_t)(rb - p - 1), (char *)p + 1};
        colon = rb + 1;
    } else {
        colon = memchr(p, ':', len);
        if (colon == NULL) {
            return 0;
        }
        host = (mg_str_t){(size_t)(colon - p), (char *)p};
    }
    int64_t port = mg_atoi(colon + 1, (size_t)(end - colon - 1));
    if (port < 1 || port > 65535 || mg_addr_parse(host, ss, sl) != MG_OK) {
        return 0;
    }
    if (ss->ss_family == AF_INET) {
        ((struct sockaddr_in *)ss)->sin_port = htons((in_port_t)port);
    } else {
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((in_port_t)port);
    }
    return 1;
}

/* One header value: while the current address is trusted, take the list's last entry (with
 * real_ip_recursive, go on leftwards). MG_OK: the leftmost entry was reached; MG_DONE: stopped
 * at an untrusted or unreadable entry after a change; MG_DECLINED: nothing changed. */
static mg_int_t forwarded_addr(realip_conf_t *rc, struct sockaddr_storage *addr, socklen_t *len,
                               const char *xff, size_t xfflen)
{
    int changed = 0;
    for (;;) {
        if (!trusted(rc, (struct sockaddr *)addr)) {
            return changed ? MG_DONE : MG_DECLINED;
        }
        /* the last entry: separators (' ', ',') after it dropped, but not one at the very
         * start, which then stays part of it (as nginx reads the list) */
        size_t end = xfflen, start = xfflen ? xfflen - 1 : 0;
        while (start > 0 && (xff[start] == ' ' || xff[start] == ',')) {
            start--;
            end--;
        }
        while (start > 0 && xff[start] != ' ' && xff[start] != ',') {
            start--;
        }
        if (start > 0) {
            start++;
        }
        struct sockaddr_storage parsed;
        socklen_t plen;
        if (!parse_addr_port(xff + start, end - start, &parsed, &plen)) {
            return changed ? MG_DONE : MG_DECLINED;
        }
        *addr = parsed;
        *len = plen;
        changed = 1;
        if (!rc->recursive || start == 0) {
            return MG_OK;
        }
        xfflen = start - 1;
    }
}

/* addr's text without the port, in pool */
static char *addr_text_copy(mg_pool_t *pool, const struct sockaddr_storage *addr)
{
    char text[MG_CONN_ADDR_TEXT_MAX];
    size_t n = mg_sockaddr_text((const struct sockaddr *)addr, text, sizeof(text), 0);
    return mg_pstrdup(pool, text, n);
}

static void realip_restore(void *data)
{
    realip_saved_t *s = data;
    s->c->sockaddr = s->sockaddr;
    s->c->socklen = s->socklen;
    s->c->addr_text = s->addr_text;
}

static mg_request_t *main_request(mg_request_t *r)
{
    return r->parent ? r->main : r;
}

static mg_int_t realip_handler(mg_request_t *r)
{
    realip_conf_t *rc = mg_http_get_loc_conf(r, mg_realip_module);
    if (rc->from == NULL) {
        return MG_DECLINED;
    }
    mg_request_t *m = main_request(r);
    if (mg_pool_cleanup_find(m->pool, realip_restore)) {
        return MG_DECLINED; /* applied already, in post-read or before an internal redirect */
    }
    mg_connection_t *c = r->connection;
    struct sockaddr_storage addr = {0};
    socklen_t len = c->socklen;
    memcpy(&addr, c->sockaddr, len);
    mg_int_t rv = MG_DECLINED;
    mg_table_elt_t *h = r->headers_in.headers.elts;
    size_t n = r->headers_in.headers.nelts;
    if (rc->type == HEADER_PROXY_PROTOCOL) {
        /* the balancer's header: one address, its port apart */
        mg_proxy_protocol_t *pp = c->proxy_protocol;
        if (pp == NULL || pp->src_addr.len == 0) {
            return MG_DECLINED;
        }
        rv = forwarded_addr(rc, &addr, &len, pp->src_addr.data, pp->src_addr.len);
        if (rv != MG_DECLINED && pp->src_port) {
            if (addr.ss_family == AF_INET) {
                ((struct sockaddr_in *)&addr)->sin_port = htons(pp->src_port);
            } else if (addr.ss_family == AF_INET6) {
                ((struct sockaddr_in6 *)&addr)->sin6_port = htons(pp->src_port);
            }
        }
    } else if (rc->type == HEADER_X_FORWARDED_FOR) {
        /* several X-Forwarded-For lines are one list, the last line its end */
        int found = 0;
        for (size_t i = n; i > 0; i--) {
            mg_table_elt_t *e = &h[i - 1];
            if (e->key.len != 15 || mg_strncasecmp(e->key.data, "x-forwarded-for", 15) != 0) {
                continue;
            }
            rv = forwarded_addr(rc, &addr, &len, e->value.data, e->value.len);
            if (!rc->recursive) {
                break;
            }
            if (rv == MG_DECLINED && found) {
                rv = MG_DONE;
                break;
            }
            if (rv != MG_OK) {
                break;
            }
            found = 1;
        }
    } else {
        mg_str_t name = rc->header;
        if (rc->type == HEADER_X_REAL_IP) {
            mg_str_set(&name, "x-real-ip");
        }
        for (size_t i = 0; i < n; i++) {
            if (h[i].key.len == name.len &&
                mg_strncasecmp(h[i].key.data, name.data, name.len) == 0) {
                rv = forwarded_addr(rc, &addr, &len, h[i].value.data, h[i].value.len);
                break; /* the first line of that name */
            }
        }
    }
    if (rv == MG_DECLINED) {
        return MG_DECLINED;
    }
    realip_saved_t *s = mg_palloc(m->pool, sizeof(realip_saved_t));
    s->c = c;
    s->sockaddr = c->sockaddr;
    s->socklen = c->socklen;
    s->addr_text = c->addr_text;
    mg_pool_cleanup_add(m->pool, realip_restore, s);
    /* in the request's pool: the cleanup above puts the connection's back before it goes */
    c->sockaddr = mg_sockaddr_dup(m->pool, &addr, len);
    c->socklen = len;
    c->addr_text = addr_text_copy(m->pool, &addr);
    return MG_DECLINED;
}

static mg_int_t var_realip(mg_request_t *r, mg_http_var_value_t *v, uintptr_t port)
{
    mg_connection_t *c = r->connection;
    realip_saved_t *s = mg_pool_cleanup_find(main_request(r)->pool, realip_restore);
    const struct sockaddr *sa = s ? s->sockaddr : c->sockaddr;
    const char *text = s ? s->addr_text : c->addr_text;
    if (port) {
        in_port_t p = mg_sockaddr_port(sa);
        text = p ? mg_psprintf(r->pool, "%u", (unsigned)p) : "";
    }
    v->value.data = (char *)text;
    v->value.len = strlen(text);
    v->valid = 1;
    v->not_found = 0;
    v->no_cacheable = 0;
    return MG_OK;
}

static const char *realip_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    static const char *names[] = {"realip_remote_addr", "realip_remote_port"};
    for (size_t i = 0; i < mg_nelems(names); i++) {
        mg_str_t name = {strlen(names[i]), (char *)names[i]};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, 0);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = var_realip;
        v->data = i;
    }
    return MG_CONF_OK;
}

static mg_int_t realip_init(mg_conf_t *cf)
{
    realip_main_conf_t *mc = mg_http_conf_get_main(cf, mg_realip_module);
    if (mc->used) {
        mg_http_add_phase_handler(cf, MG_HTTP_POST_READ_PHASE, realip_handler);
        mg_http_add_phase_handler(cf, MG_HTTP_PREACCESS_PHASE, realip_handler);
    }
    return MG_OK;
}

/* ---- stream ---- */

static mg_int_t stream_realip_handler(mg_stream_session_t *s)
{
    realip_conf_t *rc = mg_stream_get_srv_conf(s, mg_realip_module);
    mg_connection_t *c = s->connection;
    mg_proxy_protocol_t *pp = c->proxy_protocol;
    if (rc->from == NULL || pp == NULL || pp->src_addr.len == 0 || !trusted(rc, c->sockaddr)) {
        return MG_DECLINED;
    }
    struct sockaddr_storage addr;
    socklen_t len;
    if (mg_addr_parse(pp->src_addr, &addr, &len) != MG_OK) {
        return MG_DECLINED;
    }
    if (addr.ss_family == AF_INET) {
        ((struct sockaddr_in *)&addr)->sin_port = htons(pp->src_port);
    } else if (addr.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons(pp->src_port);
    }
    realip_saved_t *saved = mg_palloc(s->pool, sizeof(realip_saved_t));
    saved->c = c;
    saved->sockaddr = c->sockaddr;
    saved->socklen = c->socklen;
    saved->addr_text = c->addr_text;
    s->ctx[mg_realip_module.index] = saved;
    /* in the connection's pool: the session's lines (and the connection's close) use them */
    c->sockaddr = mg_sockaddr_dup(c->pool, &addr, len);
    c->socklen = len;
    c->addr_text = addr_text_copy(c->pool, &addr);
    return MG_DECLINED;
}

static mg_str_t stream_var_realip(mg_stream_session_t *s, uintptr_t port)
{
    mg_connection_t *c = s->connection;
    realip_saved_t *saved = s->ctx[mg_realip_module.index];
    const struct sockaddr *sa = saved ? saved->sockaddr : c->sockaddr;
    const char *text = saved ? saved->addr_text : c->addr_text;
    if (port) {
        in_port_t p = mg_sockaddr_port(sa);
        text = p ? mg_psprintf(s->pool, "%u", (unsigned)p) : "";
    }
    return mg_pstr(s->pool, text, strlen(text));
}

static mg_int_t stream_realip_init(mg_conf_t *cf)
{
    mg_stream_variable_add(cf, "realip_remote_addr", stream_var_realip, 0);
    mg_stream_variable_add(cf, "realip_remote_port", stream_var_realip, 1);
    realip_main_conf_t *mc = mg_stream_conf_get_main(cf, mg_realip_module);
    if (mc->used) {
        mg_stream_add_handler(cf, MG_STREAM_POST_ACCEPT_PHASE, stream_realip_handler);
    }
    return MG_OK;
}

static const mg_stream_module_t realip_stream = {
    .create_main_conf = realip_create_main_conf,
    .create_srv_conf = realip_create_conf,
    .merge_srv_conf = realip_merge_conf,
    .init = stream_realip_init,
};

static const mg_command_t realip_commands[] = {
    {"set_real_ip_from", MG_HTTP_ANY_LOC | MG_CTX_STREAM | MG_CTX_STREAM_SRV, MG_ARGS(1, 1),
     realip_set_from, MG_LOC_CONF, 0, NULL},
    {"real_ip_header", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), realip_set_header, MG_LOC_CONF, 0, NULL},
    {"real_ip_recursive", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(realip_conf_t, recursive), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t realip_defaults[] = {
    {"real_ip_header", "X-Real-IP"},
    {"set_real_ip_from", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_realip_module = {
    .name = "realip",
    .commands = realip_commands,
    .defaults = realip_defaults,
    .create_main_conf = realip_create_main_conf,
    .init_main_conf = realip_init_main_conf,
    .create_loc_conf = realip_create_conf,
    .merge_loc_conf = realip_merge_conf,
    .init = realip_init,
    .stream = &realip_stream,
};
