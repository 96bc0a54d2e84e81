/*
 * grpc: nginx's gRPC proxy (grpc_pass grpc://, grpcs://, an upstream{} name) on the upstream
 * engine's HTTP/2 driver (core/http/upstream_h2.c). The request goes as one HTTP/2 stream:
 * the pseudo-headers, grpc_set_header's fields (nginx's defaults: TE only when the client
 * accepts trailers; Host, if set, becomes :authority, else grpc_pass's host), the client's
 * lines; its body always unbuffered, so client, server and bidi streaming pass as they come.
 * The answer's head, DATA and trailers (grpc-status, grpc-message) go back as they arrive.
 * Timeouts, next upstream, hidden headers, intercept_errors and grpc_buffer_size are the
 * family's (core/http/upstream_conf.c); grpc_ssl_* are proxy_ssl.c's with ALPN "h2".
 */
#include <openssl/ssl.h>

#include "cgi_params.h"
#include "proxy_ssl.h"
#include "upstream_resolve.h"
#include "variables.h"

mg_module_t mg_grpc_module;

typedef struct {
    mg_str_t key; /* lowercase */
    mg_http_complex_value_t value;
    int te; /* nginx's $grpc_internal_trailers: "trailers" when the client sent it */
} grpc_header_t;

typedef struct {
    mg_cgi_loc_conf_t cgi; /* grpc_pass, the family's settings (no params) */
    int https;
    mg_str_t host;              /* grpc_pass's host[:port]: :authority and the TLS name */
    mg_array_t *headers_source; /* grpc_header_t: this level's grpc_set_header */
    mg_array_t *headers;        /* with nginx's defaults */
    mg_proxy_ssl_conf_t ssl;
} grpc_loc_conf_t;

typedef struct {
    mg_cgi_ctx_t c;
    int has_body;
} grpc_ctx_t;

/* nginx's default-hidden lines: grpc_pass_header shows them */
static mg_int_t process_header(mg_upstream_t *u)
{
    return mg_upstream_copy_headers(u, MG_UPSTREAM_HIDE_DATE_SERVER | MG_UPSTREAM_HIDE_ACCEL);
}

static int client_accepts_trailers(mg_request_t *r)
{
    mg_table_elt_t *te = mg_http_find_header_in(r, "te", 2);
    return te && mg_strlcasestrn(te->value.data, te->value.data + te->value.len, "trailers", 8);
}

static int is_hop(mg_str_t k)
{
    return mg_str_caseeq(k, "connection") || mg_str_caseeq(k, "keep-alive") ||
           mg_str_caseeq(k, "proxy-connection") || mg_str_caseeq(k, "transfer-encoding") ||
           mg_str_caseeq(k, "upgrade") || mg_str_caseeq(k, "te") || mg_str_caseeq(k, "host");
}

/* The stream's header fields: pseudo-headers, grpc_set_header's, the client's. */
static void create_request(mg_request_t *r, grpc_loc_conf_t *glcf, grpc_ctx_t *ctx, int https)
{
    size_t nh = glcf->headers->nelts;
    grpc_header_t *gh = glcf->headers->elts;
    mg_table_elt_t *in = r->headers_in.headers.elts;
    size_t nin = glcf->cgi.upstream.pass_request_headers ? r->headers_in.headers.nelts : 0;
    mg_upstream_h2_field_t *f = mg_pcalloc(r->pool, (4 + nh + nin) * sizeof(*f));
    size_t n = 4;
    mg_str_t authority = glcf->host;
    for (size_t i = 0; i < nh; i++) {
        mg_str_t v = gh[i].te ? (client_accepts_trailers(r) ? (mg_str_t)mg_string("trailers")
                                                            : (mg_str_t)mg_null_string)
                              : mg_http_complex_value(r, &gh[i].value);
        if (v.len == 0) {
            continue;
        }
        if (mg_str_eq(gh[i].key, "host")) {
            authority = v;
            continue;
        }
        f[n].name = gh[i].key;
        f[n].value = v;
        n++;
    }
    for (size_t i = 0; i < nin; i++) {
        if (in[i].hash == 0 || is_hop(in[i].key)) {
            continue;
        }
        int set = 0;
        for (size_t k = 0; k < nh && !set; k++) {
            set = in[i].key.len == gh[k].key.len &&
                  mg_strncasecmp(in[i].key.data, gh[k].key.data, gh[k].key.len) == 0;
        }
        if (set) {
            continue;
        }
        char *low = mg_pnalloc(r->pool, in[i].key.len);
        mg_strlow(low, in[i].key.data, in[i].key.len);
        f[n].name.data = low;
        f[n].name.len = in[i].key.len;
        f[n].value = in[i].value;
        n++;
    }
    mg_str_t path = r->unparsed_uri;
    size_t plen = path.len;
    const char *q = memchr(path.data, '?', path.len);
    if (q) {
        plen = (size_t)(q - path.data);
    }
    if (plen != r->uri.len || memcmp(path.data, r->uri.data, plen) != 0 || r->args_changed) {
        /* rewritten: the URI as it is now */
        size_t len = r->uri.len + 1 + r->args.len;
        char *p = mg_pnalloc(r->pool, len);
        memcpy(p, r->uri.data, r->uri.len);
        path.data = p;
        path.len = r->uri.len;
        if (r->args.len) {
            p[path.len++] = '?';
            memcpy(p + path.len, r->args.data, r->args.len);
            path.len += r->args.len;
        }
    }
    f[0].name = (mg_str_t)mg_string(":method");
    f[0].value = r->method_name;
    f[1].name = (mg_str_t)mg_string(":scheme");
    f[1].value = https ? (mg_str_t)mg_string("https") : (mg_str_t)mg_string("http");
    f[2].name = (mg_str_t)mg_string(":path");
    f[2].value = path;
    f[3].name = (mg_str_t)mg_string(":authority");
    f[3].value = authority;
    mg_upstream_h2_setup(&ctx->c.u, f, n, ctx->has_body);
}

static void grpc_start(mg_request_t *r);

static void grpc_resolved(mg_request_t *r, mg_upstream_group_t *g)
{
    grpc_ctx_t *ctx = (grpc_ctx_t *)r->upstream;
    ctx->c.u.group = g;
    ctx->c.resolve_host.len = 0;
    grpc_start(r);
}

static void grpc_start(mg_request_t *r)
{
    grpc_ctx_t *ctx = (grpc_ctx_t *)r->upstream;
    if (ctx->c.resolve_host.len) {
        mg_int_t rc =
            mg_upstream_resolve(r, ctx->c.resolve_host, ctx->c.resolve_port, grpc_resolved);
        if (rc != MG_DONE) {
            mg_http_finalize_request(r, rc);
        }
        return;
    }
    ctx->c.u.request_bufs = NULL;
    ctx->c.started = 1;
    mg_upstream_start(&ctx->c.u);
}

static mg_int_t grpc_handler(mg_request_t *r)
{
    grpc_loc_conf_t *glcf = mg_http_get_loc_conf(r, mg_grpc_module);
    if (!glcf->cgi.pass.set) {
        return MG_DECLINED;
    }
    mg_cgi_ctx_t *c;
    mg_int_t rc = mg_cgi_ctx_init(r, &c, sizeof(grpc_ctx_t), &mg_grpc_module, &glcf->cgi.pass,
                                  &glcf->cgi.upstream, NULL, glcf->https ? "grpcs://" : "grpc://");
    if (rc != MG_OK) {
        return rc;
    }
    grpc_ctx_t *ctx = (grpc_ctx_t *)c;
    int https = glcf->https;
    if (glcf->cgi.pass.url_cv) {
        mg_str_t url = mg_http_complex_value(r, glcf->cgi.pass.url_cv);
        https = url.len > 8 && mg_strncasecmp(url.data, "grpcs://", 8) == 0;
        if (https && glcf->ssl.client.ctx == NULL) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "no grpc_ssl settings for \"%.*s\"",
                         (int)url.len, url.data);
            return MG_HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    c->u.process_header = process_header;
    if (https) {
        mg_proxy_ssl_setup(r, &c->u, &glcf->ssl, glcf->host);
    }
    ctx->has_body = glcf->cgi.upstream.pass_request_body &&
                    (r->headers_in.content_length_n > 0 || r->headers_in.chunked);
    create_request(r, glcf, ctx, https);
    r->upstream = &c->u;
    if (ctx->has_body) {
        /* always unbuffered, as nginx's: a stream's messages go as they come */
        r->request_body_no_buffering = 1;
        rc = mg_http_read_client_request_body(r, grpc_start);
        return rc >= MG_HTTP_SPECIAL_RESPONSE ? rc : MG_DONE;
    }
    rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    grpc_start(r);
    return MG_DONE;
}

/* ---- configuration ---- */

static const char *grpc_pass(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    grpc_loc_conf_t *glcf = conf;
    mg_str_t url = cf->args[1];
    if (!glcf->cgi.pass.set) {
        glcf->https = 0;
        if (url.len > 8 && mg_strncasecmp(url.data, "grpcs://", 8) == 0) {
            glcf->https = 1;
            glcf->host = (mg_str_t){url.len - 8, url.data + 8};
        } else if (url.len > 7 && mg_strncasecmp(url.data, "grpc://", 7) == 0) {
            glcf->host = (mg_str_t){url.len - 7, url.data + 7};
        } else {
            glcf->host = url;
        }
    }
    return mg_cgi_set_pass(cf, cmd, conf);
}

static const char *grpc_set_header(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    grpc_loc_conf_t *glcf = conf;
    if (glcf->headers_source == NULL) {
        glcf->headers_source = mg_array_create(cf->pool, 4, sizeof(grpc_header_t));
    }
    grpc_header_t *h = mg_array_push(glcf->headers_source);
    memset(h, 0, sizeof(*h));
    h->key.data = mg_pnalloc(cf->pool, cf->args[1].len);
    h->key.len = cf->args[1].len;
    mg_strlow(h->key.data, cf->args[1].data, cf->args[1].len);
    if (mg_http_compile_complex_value(cf, cf->args[2], &h->value) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static void *grpc_create_loc_conf(mg_conf_t *cf)
{
    grpc_loc_conf_t *c = mg_cgi_create_loc_conf(cf, sizeof(*c));
    mg_proxy_ssl_create_conf(&c->ssl);
    return c;
}

/* nginx's grpc_set_header defaults, then this level's (or the parent's) lines */
static const char *merge_headers(mg_conf_t *cf, grpc_loc_conf_t *conf, grpc_loc_conf_t *prev)
{
    if (conf->headers_source == NULL) {
        conf->headers_source = prev->headers_source;
    }
    if (conf->headers_source == prev->headers_source && prev->headers) {
        conf->headers = prev->headers;
        return MG_CONF_OK;
    }
    static const char *const defaults[][2] = {
        {"content-length", "$content_length"},
        {"te", NULL},
        {"host", ""},
        {"connection", ""},
        {"transfer-encoding", ""},
        {"keep-alive", ""},
        {"expect", ""},
        {"upgrade", ""},
    };
    mg_array_t *src = conf->headers_source;
    grpc_header_t *s = src ? src->elts : NULL;
    size_t ns = src ? src->nelts : 0;
    conf->headers = mg_array_create(cf->pool, 8 + ns, sizeof(grpc_header_t));
    for (size_t i = 0; i < mg_nelems(defaults); i++) {
        int overridden = 0;
        for (size_t k = 0; k < ns && !overridden; k++) {
            overridden = mg_str_eq(s[k].key, defaults[i][0]);
        }
        if (overridden) {
            continue;
        }
        grpc_header_t *h = mg_array_push(conf->headers);
        memset(h, 0, sizeof(*h));
        h->key.data = (char *)defaults[i][0];
        h->key.len = strlen(defaults[i][0]);
        if (defaults[i][1] == NULL) {
            h->te = 1;
            continue;
        }
        mg_str_t v = {strlen(defaults[i][1]), (char *)defaults[i][1]};
        if (mg_http_compile_complex_value(cf, v, &h->value) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    for (size_t k = 0; k < ns; k++) {
        *(grpc_header_t *)mg_array_push(conf->headers) = s[k];
    }
    return MG_CONF_OK;
}

static const char *grpc_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    grpc_loc_conf_t *prev = parent, *conf = child;
    if (!conf->cgi.pass.set && prev->cgi.pass.set) {
        conf->https = prev->https;
        conf->host = prev->host;
    }
    if (mg_cgi_merge_loc_conf(cf, conf, prev, "grpc") != MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    int tls = conf->cgi.pass.set && (conf->https || conf->cgi.pass.url_cv);
    if (mg_proxy_ssl_merge_conf(cf, &conf->ssl, &prev->ssl, tls, "grpc") != MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    if (tls && conf->ssl.client.ctx) {
        /* an HTTP/2 upstream: the server must pick h2 */
        static const unsigned char alpn[] = "\x02h2";
        SSL_CTX_set_alpn_protos(conf->ssl.client.ctx, alpn, sizeof(alpn) - 1);
    }
    return merge_headers(cf, conf, prev);
}

static const char *grpc_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)cf;
    (void)conf;
    mg_cgi_add_owner(&mg_grpc_module);
    return MG_CONF_OK;
}

#define GU offsetof(grpc_loc_conf_t, cgi.upstream)

static const mg_command_t grpc_commands[] = {
    {"grpc_pass", MG_CTX_LOCATION | MG_CTX_LIF, MG_ARGS(1, 1), grpc_pass, MG_LOC_CONF,
     offsetof(grpc_loc_conf_t, cgi.pass), (const void *)grpc_handler},
    {"grpc_set_header", MG_HTTP_ANY_LOC, MG_ARGS(2, 2), grpc_set_header, MG_LOC_CONF, 0, NULL},
    MG_UPSTREAM_COMMANDS_BASE("grpc", GU),
    MG_UPSTREAM_COMMANDS_HEADERS("grpc", GU),
    MG_PROXY_SSL_COMMANDS("grpc", offsetof(grpc_loc_conf_t, ssl)),
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t grpc_defaults[] = {
    {"grpc_set_header", "Content-Length $content_length;"},
    {"grpc_next_upstream", "error timeout"},
    {"grpc_ssl_name", "host from grpc_pass"},
    {"grpc_ssl_protocols", "TLSv1 TLSv1.1 TLSv1.2"},
    {"grpc_pass", MG_NO_DEFAULT},
    {"grpc_bind", MG_NO_DEFAULT},
    {"grpc_hide_header", MG_NO_DEFAULT},
    {"grpc_pass_header", MG_NO_DEFAULT},
    {"grpc_ignore_headers", MG_NO_DEFAULT},
    {"grpc_ssl_password_file", MG_NO_DEFAULT},
    {"grpc_ssl_conf_command", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_grpc_module = {
    .name = "grpc",
    .commands = grpc_commands,
    .defaults = grpc_defaults,
    .create_main_conf = mg_cgi_create_main_conf,
    .init_main_conf = grpc_init_main_conf,
    .create_loc_conf = grpc_create_loc_conf,
    .merge_loc_conf = grpc_merge_loc_conf,
};
