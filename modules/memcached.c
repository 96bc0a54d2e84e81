/*
 * memcached: nginx's memcached module on the upstream engine. "get KEY" with $memcached_key
 * (escaped as nginx does), then the answer: "VALUE KEY FLAGS LENGTH" and the data is a 200 of
 * that length (Content-Encoding: gzip when FLAGS has memcached_gzip_flag's bit), "END" a
 * 404, anything else a 502. The data's trailer ("\r\nEND\r\n") is checked and dropped by the
 * decode hook, so only a whole value is served as complete.
 */
#include "upstream_io.h"
#include "variables.h"

mg_module_t mg_memcached_module;

typedef struct {
    mg_upstream_conf_t upstream;
    int set;
    mg_upstream_group_t *group;
    mg_int_t gzip_flag;
    mg_uint_t key_index; /* $memcached_key's */
} memc_loc_conf_t;

typedef struct {
    mg_upstream_t u;
    int started;
    mg_str_t key;    /* as sent (escaped) */
    int state;       /* 0: the first line, 1: the data, 2: the trailer */
    size_t line_len; /* of the first line so far */
    char line[256];  /* its start, for the length */
    int64_t rest;    /* data bytes still to come */
    size_t trailer;  /* trailer bytes matched */
} memc_ctx_t;

static mg_upstream_t *get_u(mg_request_t *r)
{
    memc_ctx_t *ctx = mg_http_get_ctx(r, mg_memcached_module);
    return ctx && ctx->started ? &ctx->u : NULL;
}

/* nginx's memcached escaping: space, '%' and control bytes as %XX (DEL and bytes >= 0x80 as
 * they are) */
static mg_str_t escape_key(mg_request_t *r, mg_str_t key)
{
    char *p = mg_pnalloc(r->pool, key.len * 3 + 1);
    return (mg_str_t){mg_http_escape(key.data, key.len, p, MG_ESCAPE_MEMCACHED), p};
}

/* "VALUE key flags len" -> its fields; 0 when the line is not one */
static int value_line(const char *l, size_t n, mg_str_t *key, int64_t *flags, int64_t *len)
{
    if (n < 6 || memcmp(l, "VALUE ", 6) != 0) {
        return 0;
    }
    const char *p = l + 6, *end = l + n;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (sp == NULL) {
        return 0;
    }
    key->data = (char *)p;
    key->len = (size_t)(sp - p);
    p = sp + 1;
    sp = memchr(p, ' ', (size_t)(end - p));
    if (sp == NULL) {
        return 0;
    }
    *flags = mg_atoi(p, (size_t)(sp - p));
    p = sp + 1;
    const char *e = memchr(p, ' ', (size_t)(end - p)); /* a cas unique may follow */
    *len = mg_atoi(p, (size_t)((e ? e : end) - p));
    return *flags >= 0 && *len >= 0;
}

/* the first line through (the head parser reads it), the data through, the trailer dropped */
static mg_int_t decode(mg_upstream_t *u, char *buf, size_t *n)
{
    memc_ctx_t *ctx = (memc_ctx_t *)u;
    char *in = buf, *end = buf + *n, *out = buf;
    while (in < end && !u->decoded_end) {
        if (ctx->state == 0) {
            char ch = *in++;
            *out++ = ch;
            if (ctx->line_len < sizeof(ctx->line)) {
                ctx->line[ctx->line_len] = ch;
            }
            ctx->line_len++;
            if (ch != '\n') {
                continue;
            }
            size_t l = mg_min(ctx->line_len, sizeof(ctx->line));
            while (l && (ctx->line[l - 1] == '\n' || ctx->line[l - 1] == '\r')) {
                l--;
            }
            mg_str_t key;
            int64_t flags;
            if (value_line(ctx->line, l, &key, &flags, &ctx->rest)) {
                ctx->state = 1;
            } else {
                u->decoded_end = 1; /* END, or what the head parser refuses */
            }
        } else if (ctx->state == 1) {
            size_t take = (size_t)mg_min((int64_t)(end - in), ctx->rest);
            memmove(out, in, take);
            out += take;
            in += take;
            ctx->rest -= (int64_t)take;
            if (ctx->rest == 0) {
                ctx->state = 2;
            }
        } else {
            static const char trailer[] = "\r\nEND\r\n";
            if (*in++ != trailer[ctx->trailer++]) {
                /* as nginx: the value is whole, the connection not to be trusted */
                mg_log_error(MG_LOG_ERR, mg_http_request_log(u->r), 0,
                             "memcached sent invalid trailer");
                u->keepalive = 0;
                u->decoded_end = 1;
            } else if (ctx->trailer == sizeof(trailer) - 1) {
                u->decoded_end = 1;
            }
        }
    }
    *n = (size_t)(out - buf);
    return u->decoded_end ? MG_DONE : MG_OK;
}

static void reinit(mg_upstream_t *u)
{
    memc_ctx_t *ctx = (memc_ctx_t *)u;
    ctx->state = 0;
    ctx->line_len = 0;
    ctx->rest = 0;
    ctx->trailer = 0;
}

static ssize_t parse_head(mg_upstream_t *u, const char *buf, size_t len, mg_upstream_head_t *h)
{
    memc_ctx_t *ctx = (memc_ctx_t *)u;
    const char *nl = memchr(buf, '\n', len);
    if (nl == NULL) {
        return MG_PARSE_AGAIN;
    }
    size_t l = (size_t)(nl - buf);
    if (l && buf[l - 1] == '\r') {
        l--;
    }
    h->nheaders = 0;
    h->http_major = 1;
    h->http_minor = 1;
    h->status_line.len = 0;
    mg_str_t key;
    int64_t flags, dlen;
    if (l == 3 && memcmp(buf, "END", 3) == 0) {
        mg_log_error(MG_LOG_INFO, mg_http_request_log(u->r), 0,
                     "key: \"%.*s\" was not found by memcached", (int)ctx->key.len, ctx->key.data);
        h->status = MG_HTTP_NOT_FOUND;
        return (ssize_t)(nl + 1 - buf);
    }
    if (!value_line(buf, l, &key, &flags, &dlen)) {
        mg_log_error(MG_LOG_ERR, mg_http_request_log(u->r), 0,
                     "memcached sent invalid response: \"%.*s\"", (int)l, buf);
        h->error_at = (size_t)-1;
        return MG_PARSE_INVALID_HEADER;
    }
    if (key.len != ctx->key.len || memcmp(key.data, ctx->key.data, key.len) != 0) {
        mg_log_error(MG_LOG_ERR, mg_http_request_log(u->r), 0,
                     "memcached sent invalid key in response \"%.*s\" for key \"%.*s\"",
                     (int)key.len, key.data, (int)ctx->key.len, ctx->key.data);
        h->error_at = (size_t)-1;
        return MG_PARSE_INVALID_HEADER;
    }
    h->status = MG_HTTP_OK;
    memc_loc_conf_t *mlcf = mg_http_get_loc_conf(u->r, mg_memcached_module);
    mg_http_headers_out_t *ho = &u->r->headers_out;
    ho->content_length_n = dlen;
    if (mlcf->gzip_flag && (flags & mlcf->gzip_flag)) {
        ho->content_encoding = mg_http_add_header_out(u->r, "Content-Encoding", 16, "gzip", 4);
    }
    return (ssize_t)(nl + 1 - buf);
}

static mg_int_t process_header(mg_upstream_t *u)
{
    memc_ctx_t *ctx = (memc_ctx_t *)u;
    mg_http_headers_out_t *ho = &u->r->headers_out;
    if (u->head.status == MG_HTTP_NOT_FOUND) {
        return MG_HTTP_NOT_FOUND;
    }
    ho->status = MG_HTTP_OK;
    /* kept only once the whole value and its END came (decode) */
    u->keepalive = u->group && u->group->keepalive > 0 && ctx->state != 0;
    return MG_OK;
}

static mg_int_t memcached_handler(mg_request_t *r)
{
    memc_loc_conf_t *mlcf = mg_http_get_loc_conf(r, mg_memcached_module);
    if (!mlcf->set) {
        return MG_DECLINED;
    }
    if (r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD) {
        return MG_HTTP_NOT_ALLOWED;
    }
    mg_int_t rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    mg_http_var_value_t *vv = mg_http_get_indexed_variable(r, mlcf->key_index);
    if (vv == NULL || vv->not_found || vv->value.len == 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "the \"$memcached_key\" variable is not set");
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    mg_http_set_content_type(r);
    memc_ctx_t *ctx = mg_pcalloc(r->pool, sizeof(memc_ctx_t));
    mg_http_set_ctx(r, ctx, mg_memcached_module);
    mg_upstream_t *u = &ctx->u;
    u->r = r;
    u->conf = &mlcf->upstream;
    u->group = mlcf->group;
    u->process_header = process_header;
    u->parse_head = parse_head;
    u->decode = decode;
    u->reinit = reinit;
    mg_str_set(&u->schema, "memcached://");
    mg_upstream_conf_apply(r, u);
    ctx->key = escape_key(r, vv->value);
    size_t len = 4 + ctx->key.len + 2;
    char *req = mg_pnalloc(r->pool, len);
    memcpy(req, "get ", 4);
    memcpy(req + 4, ctx->key.data, ctx->key.len);
    memcpy(req + 4 + ctx->key.len, "\r\n", 2);
    u->request_bufs = mg_buf_mem(r->pool, req, len);
    ctx->started = 1;
    return mg_upstream_start(u);
}

static const char *memcached_pass(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    memc_loc_conf_t *mlcf = conf;
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    if (mlcf->set) {
        return "is duplicate";
    }
    mlcf->set = 1;
    clcf->handler = memcached_handler;
    /* as nginx: $memcached_key is looked up where memcached_pass is used, so a configuration
     * must "set" it somewhere */
    mg_int_t i = mg_http_get_variable_index(cf, (mg_str_t)mg_string("memcached_key"));
    if (i < 0) {
        return MG_CONF_ERROR;
    }
    mlcf->key_index = (mg_uint_t)i;
    if (clcf->name.len && clcf->name.data[clcf->name.len - 1] == '/') {
        clcf->auto_redirect = 1;
    }
    /* as nginx's: no scheme ("memcached://..." is an invalid host) */
    mlcf->group = mg_upstream_group_ref(cf, cf->args[1], 0);
    return mlcf->group ? MG_CONF_OK : MG_CONF_ERROR;
}

static void *memc_create_loc_conf(mg_conf_t *cf)
{
    memc_loc_conf_t *c = mg_pcalloc(cf->pool, sizeof(*c));
    mg_upstream_conf_init(&c->upstream);
    c->gzip_flag = MG_CONF_UNSET;
    return c;
}

static const char *memc_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    memc_loc_conf_t *prev = parent, *conf = child;
    /* no body buffers: the value goes out unbuffered through one buffer_size buffer */
    conf->upstream.buffering = 0;
    if (mg_upstream_conf_merge(cf, &conf->upstream, &prev->upstream, "memcached") != MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    mg_conf_merge(conf->gzip_flag, prev->gzip_flag, 0);
    /* as nginx's: a value is served in byte ranges (Accept-Ranges: bytes), no directive */
    conf->upstream.force_ranges = 1;
    if (!conf->set && prev->set) {
        conf->set = 1;
        conf->group = prev->group;
        conf->key_index = prev->key_index;
    }
    return MG_CONF_OK;
}

static const char *memc_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    (void)cf;
    mg_upstream_add_owner(get_u);
    return MG_CONF_OK;
}

static void *memc_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(int));
}

#define LOC MG_HTTP_ANY_LOC
#define MU offsetof(memc_loc_conf_t, upstream)

static const mg_command_t memcached_commands[] = {
    {"memcached_pass", MG_CTX_LOCATION | MG_CTX_LIF, MG_ARGS(1, 1), memcached_pass, MG_LOC_CONF, 0,
     NULL},
    {"memcached_gzip_flag", LOC, MG_ARGS(1, 1), mg_conf_set_num, MG_LOC_CONF,
     offsetof(memc_loc_conf_t, gzip_flag), NULL},
    {"memcached_next_upstream", LOC, MG_ARGS(1, MG_MANY), mg_upstream_set_next_upstream,
     MG_LOC_CONF, MU, "memcached"},
    MG_UPSTREAM_COMMANDS_BASE("memcached", MU),
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t memcached_defaults[] = {
    {"memcached_next_upstream", "error timeout"},
    {"memcached_pass", MG_NO_DEFAULT},
    {"memcached_bind", MG_NO_DEFAULT},
    {"memcached_gzip_flag", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_memcached_module = {
    .name = "memcached",
    .commands = memcached_commands,
    .defaults = memcached_defaults,
    .create_main_conf = memc_create_main_conf,
    .init_main_conf = memc_init_main_conf,
    .create_loc_conf = memc_create_loc_conf,
    .merge_loc_conf = memc_merge_loc_conf,
};
