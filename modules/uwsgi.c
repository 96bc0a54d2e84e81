/*
 * uwsgi: nginx's uwsgi module on the upstream engine. The request is the uwsgi packet
 * header (uwsgi_modifier1, the vars' size, uwsgi_modifier2), the vars (uwsgi_param and the
 * client's header lines as HTTP_*, each a 16-bit little-endian length and the bytes) and
 * the body as it is; the answer is an HTTP response, or a CGI head without a status line.
 * "uwsgi_pass suwsgi://" speaks it over TLS with the uwsgi_ssl_* settings (proxy_ssl.c's).
 */
#include "cache.h"
#include "cgi_params.h"

mg_module_t mg_uwsgi_module;

typedef struct {
    mg_cgi_loc_conf_t cgi; /* uwsgi_pass, uwsgi_param, the family's settings */
    mg_int_t modifier1, modifier2;
    mg_proxy_ssl_conf_t ssl; /* uwsgi_ssl_*: proxy_ssl.c's, for "uwsgi_pass suwsgi://" */
} uwsgi_loc_conf_t;

static ssize_t parse_head(mg_upstream_t *u, const char *buf, size_t len, mg_upstream_head_t *h)
{
    return mg_upstream_parse_cgi_head(u, buf, len, h, 1);
}

static char *put_le16(char *p, size_t n)
{
    p[0] = (char)(n & 0xff);
    p[1] = (char)((n >> 8) & 0xff);
    return p + 2;
}

/* the packet header and the vars */
static mg_int_t create_request(mg_request_t *r, mg_cgi_ctx_t *c)
{
    uwsgi_loc_conf_t *ulcf = mg_http_get_loc_conf(r, mg_uwsgi_module);
    mg_array_t *pairs = mg_cgi_params(r, ulcf->cgi.params, ulcf->cgi.upstream.pass_request_headers);
    mg_cgi_pair_t *pp = pairs->elts;
    size_t len = 0;
    for (size_t i = 0; i < pairs->nelts; i++) {
        len += 2 + mg_min(pp[i].key.len, 0xffff) + 2 + mg_min(pp[i].value.len, 0xffff);
    }
    if (len > 0xffff) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "uwsgi request is too big: %zu", len);
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    char *buf = mg_pnalloc(r->pool, 4 + len), *p = buf;
    *p++ = (char)ulcf->modifier1;
    p = put_le16(p, len);
    *p++ = (char)ulcf->modifier2;
    for (size_t i = 0; i < pairs->nelts; i++) {
        size_t kl = mg_min(pp[i].key.len, 0xffff), vl = mg_min(pp[i].value.len, 0xffff);
        p = put_le16(p, kl);
        memcpy(p, pp[i].key.data, kl);
        p += kl;
        p = put_le16(p, vl);
        memcpy(p, pp[i].value.data, vl);
        p += vl;
    }
    c->head = mg_buf_mem(r->pool, buf, (size_t)(p - buf));
    return MG_OK;
}

static const mg_cgi_protocol_t uwsgi_protocol = {
    .module = &mg_uwsgi_module,
    .schema = "uwsgi://",
    .ctx_size = sizeof(mg_cgi_ctx_t),
    .temp_path = offsetof(mg_http_loc_conf_t, uwsgi_temp_path),
    .store = MG_UPSTREAM_STORE_UWSGI,
    .ssl = offsetof(uwsgi_loc_conf_t, ssl),
    .hide = MG_UPSTREAM_HIDE_ACCEL,
    .parse_head = parse_head,
    .create_request = create_request,
};

static mg_int_t uwsgi_handler(mg_request_t *r)
{
    return mg_cgi_handler(r, &uwsgi_protocol);
}

/* uwsgi_modifier1/2: 0 to 255 */
static const char *set_modifier(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_int_t *m = (mg_int_t *)((char *)conf + cmd->offset);
    if (*m != MG_CONF_UNSET) {
        return "is duplicate";
    }
    int64_t n = mg_atoi(cf->args[1].data, cf->args[1].len);
    if (n < 0) {
        return "invalid number";
    }
    if (n > 255) {
        /* nginx's bounds check words it without the directive's name */
        mg_conf_error(cf, 0, "value must be between 0 and 255");
        return MG_CONF_ERROR;
    }
    *m = (mg_int_t)n;
    return MG_CONF_OK;
}

static void *uwsgi_create_loc_conf(mg_conf_t *cf)
{
    uwsgi_loc_conf_t *c = mg_cgi_create_loc_conf(cf, sizeof(*c));
    c->modifier1 = MG_CONF_UNSET;
    c->modifier2 = MG_CONF_UNSET;
    mg_proxy_ssl_create_conf(&c->ssl);
    return c;
}

static const char *uwsgi_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    uwsgi_loc_conf_t *prev = parent, *conf = child;
    if (mg_cgi_merge_loc_conf(cf, conf, prev, "uwsgi") != MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    mg_conf_merge(conf->modifier1, prev->modifier1, 0);
    mg_conf_merge(conf->modifier2, prev->modifier2, 0);
    /* the TLS context is made where it may be used: suwsgi://, or a pass with variables */
    int tls = conf->cgi.pass.set && (conf->cgi.pass.tls || conf->cgi.pass.url_cv);
    return mg_proxy_ssl_merge_conf(cf, &conf->ssl, &prev->ssl, tls, "uwsgi");
}

static const char *uwsgi_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)cf;
    (void)conf;
    mg_cgi_add_owner(&mg_uwsgi_module);
    return MG_CONF_OK;
}

#define LOC MG_HTTP_ANY_LOC
#define UU offsetof(uwsgi_loc_conf_t, cgi.upstream)

static const mg_command_t uwsgi_commands[] = {
    {"uwsgi_pass", MG_CTX_LOCATION | MG_CTX_LIF, MG_ARGS(1, 1), mg_cgi_set_pass, MG_LOC_CONF,
     offsetof(uwsgi_loc_conf_t, cgi.pass), (const void *)uwsgi_handler},
    {"uwsgi_param", LOC, MG_ARGS(2, 3), mg_cgi_set_param, MG_LOC_CONF,
     offsetof(uwsgi_loc_conf_t, cgi.params), NULL},
    {"uwsgi_modifier1", LOC, MG_ARGS(1, 1), set_modifier, MG_LOC_CONF,
     offsetof(uwsgi_loc_conf_t, modifier1), NULL},
    {"uwsgi_modifier2", LOC, MG_ARGS(1, 1), set_modifier, MG_LOC_CONF,
     offsetof(uwsgi_loc_conf_t, modifier2), NULL},
    MG_UPSTREAM_COMMANDS_BASE("uwsgi", UU),
    MG_UPSTREAM_COMMANDS_BUFFERED("uwsgi", UU),
    MG_HTTP_CACHE_COMMANDS("uwsgi", (UU) + offsetof(mg_upstream_conf_t, cache)),
    MG_PROXY_SSL_COMMANDS("uwsgi", offsetof(uwsgi_loc_conf_t, ssl)),
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t uwsgi_defaults[] = {
    {"uwsgi_modifier1", "0"},
    {"uwsgi_modifier2", "0"},
    {"uwsgi_next_upstream", "error timeout"},
    {"uwsgi_buffers", "8 4k|8k"},
    {"uwsgi_busy_buffers_size", "8k|16k"},
    {"uwsgi_temp_file_write_size", "8k|16k"},
    {"uwsgi_cache", "off"},
    {"uwsgi_cache_methods", "GET HEAD"},
    {"uwsgi_cache_min_uses", "1"},
    {"uwsgi_cache_use_stale", "off"},
    {"uwsgi_cache_background_update", "off"},
    {"uwsgi_cache_lock", "off"},
    {"uwsgi_cache_revalidate", "off"},
    {"uwsgi_pass", MG_NO_DEFAULT},
    {"uwsgi_param", MG_NO_DEFAULT},
    {"uwsgi_bind", MG_NO_DEFAULT},
    {"uwsgi_hide_header", MG_NO_DEFAULT},
    {"uwsgi_pass_header", MG_NO_DEFAULT},
    {"uwsgi_ignore_headers", MG_NO_DEFAULT},
    {"uwsgi_cache_path", MG_NO_DEFAULT},
    {"uwsgi_cache_key", MG_NO_DEFAULT},
    {"uwsgi_cache_valid", MG_NO_DEFAULT},
    {"uwsgi_cache_bypass", MG_NO_DEFAULT},
    {"uwsgi_no_cache", MG_NO_DEFAULT},
    {"uwsgi_ssl_name", "host from uwsgi_pass"},
    {"uwsgi_ssl_protocols", "TLSv1 TLSv1.1 TLSv1.2"},
    {"uwsgi_ssl_password_file", MG_NO_DEFAULT},
    {"uwsgi_ssl_conf_command", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_uwsgi_module = {
    .name = "uwsgi",
    .commands = uwsgi_commands,
    .defaults = uwsgi_defaults,
    .create_main_conf = mg_cgi_create_main_conf,
    .init_main_conf = uwsgi_init_main_conf,
    .create_loc_conf = uwsgi_create_loc_conf,
    .merge_loc_conf = uwsgi_merge_loc_conf,
};
