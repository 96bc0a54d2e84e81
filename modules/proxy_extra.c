/*
 * proxy_ignore_headers, proxy_bind and proxy_socket_keepalive: their configuration, put on
 * each request's upstream by mg_proxy_extra_setup (the engine acts on them:
 * core/http/upstream_accel.c, upstream_socket.c).
 */
#include "proxy_extra.h"
#include "cidr.h"
#include "script.h"

mg_module_t mg_proxy_extra_module;

typedef struct {
    int off; /* proxy_bind off */
    struct sockaddr_storage ss;
    socklen_t len;
    mg_str_t name;
    mg_http_complex_value_t *cv; /* an address from variables */
    int transparent;
} extra_bind_t;

typedef struct {
    mg_uint_t ignore_headers; /* 0: unset; bit 0 marks "set" */
    extra_bind_t *bind;       /* MG_CONF_UNSET_PTR */
    int socket_keepalive;
} extra_conf_t;

/* "addr", "addr:port", "[v6]" or "[v6]:port": an IP literal (nginx's local address form) */
static mg_int_t parse_local(mg_str_t text, struct sockaddr_storage *ss, socklen_t *len)
{
    mg_str_t host = text;
    int64_t port = 0;
    const char *colon = NULL;
    if (text.len && text.data[0] == '[') {
        const char *rb = memchr(text.data, ']', text.len);
        if (rb == NULL) {
            return MG_DECLINED;
        }
        host.data = text.data + 1;
        host.len = (size_t)(rb - text.data - 1);
        if (rb + 1 < text.data + text.len) {
            if (rb[1] != ':') {
                return MG_DECLINED;
            }
            colon = rb + 1;
        }
    } else {
        colon = memchr(text.data, ':', text.len);
        if (colon && memchr(colon + 1, ':', (size_t)(text.data + text.len - colon - 1))) {
            colon = NULL; /* a bare IPv6 address */
        } else if (colon) {
            host.len = (size_t)(colon - text.data);
        }
    }
    if (colon) {
        port = mg_atoi(colon + 1, (size_t)(text.data + text.len - colon - 1));
        if (port < 0 || port > 65535) {
            return MG_DECLINED;
        }
    }
    if (mg_addr_parse(host, ss, len) != MG_OK) {
        return MG_DECLINED;
    }
    if (ss->ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((in_port_t)port);
    } else {
        ((struct sockaddr_in *)ss)->sin_port = htons((in_port_t)port);
    }
    return MG_OK;
}

void mg_proxy_extra_setup(mg_request_t *r, mg_upstream_t *u)
{
    extra_conf_t *conf = mg_http_get_loc_conf(r, mg_proxy_extra_module);
    u->ignore_headers = conf->ignore_headers;
    u->so_keepalive = conf->socket_keepalive == 1;
    extra_bind_t *b = conf->bind;
    if (b && !b->off) {
        if (b->cv == NULL) {
            u->local = &b->ss;
            u->local_len = b->len;
            u->local_name = b->name;
        } else {
            mg_str_t v = mg_http_complex_value(r, b->cv);
            if (v.len) {
                struct sockaddr_storage *ss = mg_pcalloc(r->pool, sizeof(*ss));
                if (parse_local(v, ss, &u->local_len) == MG_OK) {
                    u->local = ss;
                    u->local_name = v;
                } else {
                    mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                                 "invalid local address \"%.*s\"", (int)v.len, v.data);
                }
            }
        }
        u->transparent = b->transparent;
    }
    mg_proxy_cookie_setup(r, u);
    mg_proxy_store_setup(r, u);
}

/* nginx's bitmask: values add up over repeated directives; one named twice is a warning */
static const char *set_ignore_headers(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    extra_conf_t *ec = conf;
    static const mg_conf_enum_t bits[] = {
        {"X-Accel-Redirect", MG_UPSTREAM_IGN_XA_REDIRECT},
        {"X-Accel-Expires", MG_UPSTREAM_IGN_XA_EXPIRES},
        {"X-Accel-Limit-Rate", MG_UPSTREAM_IGN_XA_LIMIT_RATE},
        {"X-Accel-Buffering", MG_UPSTREAM_IGN_XA_BUFFERING},
        {"X-Accel-Charset", MG_UPSTREAM_IGN_XA_CHARSET},
        {"Expires", MG_UPSTREAM_IGN_EXPIRES},
        {"Cache-Control", MG_UPSTREAM_IGN_CACHE_CONTROL},
        {"Set-Cookie", MG_UPSTREAM_IGN_SET_COOKIE},
        {"Vary", MG_UPSTREAM_IGN_VARY},
        {NULL, 0},
    };
    for (size_t i = 1; i < cf->nargs; i++) {
        size_t k = 0;
        while (bits[k].name && !mg_str_caseeq(cf->args[i], bits[k].name)) {
            k++;
        }
        if (bits[k].name == NULL) {
            mg_conf_error(cf, 0, "invalid value \"%.*s\"", (int)cf->args[i].len, cf->args[i].data);
            return MG_CONF_ERROR;
        }
        if (ec->ignore_headers & (mg_uint_t)bits[k].value) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate value \"%.*s\"", (int)cf->args[i].len,
                        cf->args[i].data);
        }
        ec->ignore_headers |= (mg_uint_t)bits[k].value | 1;
    }
    return MG_CONF_OK;
}

static const char *set_bind(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    extra_conf_t *ec = conf;
    if (ec->bind != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    extra_bind_t *b = mg_pcalloc(cf->pool, sizeof(*b));
    ec->bind = b;
    mg_str_t v = cf->args[1];
    if (cf->nargs == 2 && mg_str_eq(v, "off")) {
        b->off = 1;
        return MG_CONF_OK;
    }
    if (mg_http_script_variables_count(v)) {
        b->cv = mg_pcalloc(cf->pool, sizeof(*b->cv));
        if (mg_http_compile_complex_value(cf, v, b->cv) != MG_OK) {
            return MG_CONF_ERROR;
        }
    } else if (parse_local(v, &b->ss, &b->len) != MG_OK) {
        mg_conf_error(cf, 0, "invalid address \"%.*s\"", (int)v.len, v.data);
        return MG_CONF_ERROR;
    }
    b->name = v;
    if (cf->nargs == 3) {
        if (!mg_str_eq(cf->args[2], "transparent")) {
            mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)cf->args[2].len,
                          cf->args[2].data);
            return MG_CONF_ERROR;
        }
        b->transparent = 1;
    }
    return MG_CONF_OK;
}

static void *extra_create_conf(mg_conf_t *cf)
{
    extra_conf_t *c = mg_pcalloc(cf->pool, sizeof(*c));
    c->bind = MG_CONF_UNSET_PTR;
    c->socket_keepalive = MG_CONF_UNSET;
    return c;
}

static const char *extra_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    extra_conf_t *prev = parent, *conf = child;
    if (conf->ignore_headers == 0) {
        conf->ignore_headers = prev->ignore_headers;
    }
    mg_conf_merge_ptr(conf->bind, prev->bind, NULL);
    mg_conf_merge(conf->socket_keepalive, prev->socket_keepalive, 0);
    return MG_CONF_OK;
}

#define LOC MG_HTTP_ANY_LOC

static const mg_command_t extra_commands[] = {
    {"proxy_ignore_headers", LOC, MG_ARGS(1, MG_MANY), set_ignore_headers, MG_LOC_CONF, 0, NULL},
    {"proxy_bind", LOC, MG_ARGS(1, 2), set_bind, MG_LOC_CONF, 0, NULL},
    {"proxy_socket_keepalive", LOC, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(extra_conf_t, socket_keepalive), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

mg_module_t mg_proxy_extra_module = {
    .name = "proxy_extra",
    .commands = extra_commands,
    .create_loc_conf = extra_create_conf,
    .merge_loc_conf = extra_merge_conf,
};
