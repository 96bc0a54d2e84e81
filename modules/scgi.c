/*
 * scgi: nginx's SCGI module on the upstream engine. The request is a netstring of
 * NUL-separated names and values (CONTENT_LENGTH first, as SCGI wants, then scgi_param and
 * the client's header lines as HTTP_*) and the body as it is; the answer is an HTTP
 * response, or a CGI head without a status line.
 */
#include "cache.h"
#include "cgi_params.h"

mg_module_t mg_scgi_module;

typedef struct {
    mg_cgi_loc_conf_t cgi; /* scgi_pass, scgi_param, the family's settings */
} scgi_loc_conf_t;

static mg_buf_t *frame_body(mg_request_t *r, mg_cgi_ctx_t *ctx, mg_buf_t *body)
{
    (void)ctx;
    /* the netstring's length was unknown until the body was read: CONTENT_LENGTH is its */
    size_t blen = r->request_body_no_buffering ? (size_t)r->headers_in.content_length_n
                  : body                       ? mg_chain_size(body)
                                               : 0;
    mg_buf_t *head = ctx->head;
    char cl[32];
    int cll = snprintf(cl, sizeof(cl), "%zu", blen);
    size_t vars = (size_t)(head->last - head->pos) + sizeof("CONTENT_LENGTH") + (size_t)cll + 1;
    char *buf = mg_pnalloc(r->pool, vars + 32), *p = buf;
    p += sprintf(p, "%zu:CONTENT_LENGTH", vars);
    *p++ = '\0';
    memcpy(p, cl, (size_t)cll);
    p += cll;
    *p++ = '\0';
    memcpy(p, head->pos, (size_t)(head->last - head->pos));
    p += head->last - head->pos;
    *p++ = ',';
    head->pos = buf;
    head->last = p;
    return body;
}

static ssize_t parse_head(mg_upstream_t *u, const char *buf, size_t len, mg_upstream_head_t *h)
{
    return mg_upstream_parse_cgi_head(u, buf, len, h, 1);
}

/* the vars without CONTENT_LENGTH, which frame_body puts first */
static mg_int_t create_request(mg_request_t *r, mg_cgi_ctx_t *c)
{
    scgi_loc_conf_t *slcf = mg_http_get_loc_conf(r, mg_scgi_module);
    mg_array_t *pairs = mg_cgi_params(r, slcf->cgi.params, slcf->cgi.upstream.pass_request_headers);
    mg_cgi_pair_t *pp = pairs->elts;
    size_t len = 0;
    for (size_t i = 0; i < pairs->nelts; i++) {
        len += pp[i].key.len + 1 + pp[i].value.len + 1;
    }
    char *buf = mg_pnalloc(r->pool, len + 1), *p = buf;
    for (size_t i = 0; i < pairs->nelts; i++) {
        if (mg_str_eq(pp[i].key, "CONTENT_LENGTH")) {
            continue;
        }
        memcpy(p, pp[i].key.data, pp[i].key.len);
        p += pp[i].key.len;
        *p++ = '\0';
        memcpy(p, pp[i].value.data, pp[i].value.len);
        p += pp[i].value.len;
        *p++ = '\0';
    }
    c->head = mg_buf_mem(r->pool, buf, (size_t)(p - buf));
    return MG_OK;
}

static const mg_cgi_protocol_t scgi_protocol = {
    .module = &mg_scgi_module,
    .schema = "scgi://",
    .ctx_size = sizeof(mg_cgi_ctx_t),
    .temp_path = offsetof(mg_http_loc_conf_t, scgi_temp_path),
    .store = MG_UPSTREAM_STORE_SCGI,
    .hide = MG_UPSTREAM_HIDE_STATUS | MG_UPSTREAM_HIDE_ACCEL,
    .parse_head = parse_head,
    .create_request = create_request,
    .frame_body = frame_body,
};

static mg_int_t scgi_handler(mg_request_t *r)
{
    return mg_cgi_handler(r, &scgi_protocol);
}

static void *scgi_create_loc_conf(mg_conf_t *cf)
{
    return mg_cgi_create_loc_conf(cf, sizeof(scgi_loc_conf_t));
}

static const char *scgi_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    return mg_cgi_merge_loc_conf(cf, child, parent, "scgi");
}

static const char *scgi_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)cf;
    (void)conf;
    mg_cgi_add_owner(&mg_scgi_module);
    return MG_CONF_OK;
}

#define LOC MG_HTTP_ANY_LOC
#define SU offsetof(scgi_loc_conf_t, cgi.upstream)

static const mg_command_t scgi_commands[] = {
    {"scgi_pass", MG_CTX_LOCATION | MG_CTX_LIF, MG_ARGS(1, 1), mg_cgi_set_pass, MG_LOC_CONF,
     offsetof(scgi_loc_conf_t, cgi.pass), (const void *)scgi_handler},
    {"scgi_param", LOC, MG_ARGS(2, 3), mg_cgi_set_param, MG_LOC_CONF,
     offsetof(scgi_loc_conf_t, cgi.params), NULL},
    MG_UPSTREAM_COMMANDS_BASE("scgi", SU),
    MG_UPSTREAM_COMMANDS_BUFFERED("scgi", SU),
    MG_HTTP_CACHE_COMMANDS("scgi", (SU) + offsetof(mg_upstream_conf_t, cache)),
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t scgi_defaults[] = {
    {"scgi_next_upstream", "error timeout"},
    {"scgi_buffers", "8 4k|8k"},
    {"scgi_busy_buffers_size", "8k|16k"},
    {"scgi_temp_file_write_size", "8k|16k"},
    {"scgi_cache", "off"},
    {"scgi_cache_methods", "GET HEAD"},
    {"scgi_cache_min_uses", "1"},
    {"scgi_cache_use_stale", "off"},
    {"scgi_cache_background_update", "off"},
    {"scgi_cache_lock", "off"},
    {"scgi_cache_revalidate", "off"},
    {"scgi_pass", MG_NO_DEFAULT},
    {"scgi_param", MG_NO_DEFAULT},
    {"scgi_bind", MG_NO_DEFAULT},
    {"scgi_hide_header", MG_NO_DEFAULT},
    {"scgi_pass_header", MG_NO_DEFAULT},
    {"scgi_ignore_headers", MG_NO_DEFAULT},
    {"scgi_cache_path", MG_NO_DEFAULT},
    {"scgi_cache_key", MG_NO_DEFAULT},
    {"scgi_cache_valid", MG_NO_DEFAULT},
    {"scgi_cache_bypass", MG_NO_DEFAULT},
    {"scgi_no_cache", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_scgi_module = {
    .name = "scgi",
    .commands = scgi_commands,
    .defaults = scgi_defaults,
    .create_main_conf = mg_cgi_create_main_conf,
    .init_main_conf = scgi_init_main_conf,
    .create_loc_conf = scgi_create_loc_conf,
    .merge_loc_conf = scgi_merge_loc_conf,
};
