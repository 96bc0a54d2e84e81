/*
 * What FastCGI, uwsgi and SCGI requests share (see cgi_params.h).
 */
#include "cgi_params.h"
#include "cache.h"
#include "upstream_resolve.h"

const char *mg_cgi_set_param(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_array_t **a = (mg_array_t **)((char *)conf + cmd->offset);
    if (*a == NULL) {
        *a = mg_array_create(cf->pool, 16, sizeof(mg_cgi_param_t));
    }
    if (cf->nargs == 4 && !mg_str_eq(cf->args[3], "if_not_empty")) {
        mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)cf->args[3].len, cf->args[3].data);
        return MG_CONF_ERROR;
    }
    mg_cgi_param_t *p = mg_array_push(*a);
    memset(p, 0, sizeof(*p));
    p->key = cf->args[1];
    p->if_not_empty = cf->nargs == 4;
    if (mg_http_compile_complex_value(cf, cf->args[2], &p->value) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static int param_named(mg_array_t *params, const char *name, size_t len)
{
    mg_cgi_param_t *p = params ? params->elts : NULL;
    for (size_t i = 0; p && i < params->nelts; i++) {
        if (p[i].key.len == len && memcmp(p[i].key.data, name, len) == 0) {
            return 1;
        }
    }
    return 0;
}

mg_array_t *mg_cgi_params(mg_request_t *r, mg_array_t *params, int headers)
{
    size_t np = params ? params->nelts : 0;
    size_t nh = headers ? r->headers_in.headers.nelts : 0;
    mg_array_t *out = mg_array_create(r->pool, np + nh + 3, sizeof(mg_cgi_pair_t));
    mg_cgi_param_t *pp = np ? params->elts : NULL;
    for (size_t i = 0; i < np; i++) {
        mg_str_t v = mg_http_complex_value(r, &pp[i].value);
        if (pp[i].if_not_empty && v.len == 0) {
            continue;
        }
        mg_cgi_pair_t *pair = mg_array_push(out);
        pair->key = pp[i].key;
        pair->value = v;
    }
    mg_table_elt_t *h = r->headers_in.headers.elts;
    if (r->cache) {
        /* as nginx: with a cache the client's conditions and ranges are the cache's to
         * answer; the upstream gets the expired entry's validators (*_cache_revalidate) */
        mg_str_t ims, inm;
        mg_http_cache_conditions(r, &ims, &inm);
        if (ims.len && !param_named(params, "HTTP_IF_MODIFIED_SINCE", 22)) {
            mg_cgi_pair_t *pair = mg_array_push(out);
            mg_str_set(&pair->key, "HTTP_IF_MODIFIED_SINCE");
            pair->value = ims;
        }
        if (inm.len && !param_named(params, "HTTP_IF_NONE_MATCH", 18)) {
            mg_cgi_pair_t *pair = mg_array_push(out);
            mg_str_set(&pair->key, "HTTP_IF_NONE_MATCH");
            pair->value = inm;
        }
    }
    for (size_t i = 0; i < nh; i++) {
        if (r->cache && !r->cache->range_passed && mg_http_cache_drops_header(h[i].key)) {
            continue;
        }
        /* Accept-Language: HTTP_ACCEPT_LANGUAGE */
        char *name = mg_pnalloc(r->pool, 5 + h[i].key.len);
        memcpy(name, "HTTP_", 5);
        for (size_t k = 0; k < h[i].key.len; k++) {
            char ch = h[i].key.data[k];
            name[5 + k] = ch == '-' ? '_' : (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
        }
        if (param_named(params, name, 5 + h[i].key.len)) {
            continue;
        }
        mg_cgi_pair_t *pair = mg_array_push(out);
        pair->key.data = name;
        pair->key.len = 5 + h[i].key.len;
        pair->value = h[i].value;
    }
    return out;
}

/* ---- *_pass ---- */

/* The address after the scheme nginx takes before it: "uwsgi://" and "suwsgi://" (*tls set)
 * for uwsgi_pass, "grpc://" and "grpcs://" for grpc_pass (family: the directive's name or
 * the schema, "uwsgi..." or "grpc..."), none for fastcgi_pass and scgi_pass: another
 * "scheme://" stays and is an invalid host, as nginx's. */
static mg_str_t pass_address(mg_str_t url, const char *family, int *tls)
{
    static const struct {
        const char *family, *prefix;
        int tls;
    } schemes[] = {
        {"uwsgi", "uwsgi://", 0},
        {"uwsgi", "suwsgi://", 1},
        {"grpc", "grpc://", 0},
        {"grpc", "grpcs://", 0},
    };
    *tls = 0;
    for (size_t i = 0; i < mg_nelems(schemes); i++) {
        size_t fl = strlen(schemes[i].family), pl = strlen(schemes[i].prefix);
        if (strncmp(family, schemes[i].family, fl) == 0 && url.len > pl &&
            mg_strncasecmp(url.data, schemes[i].prefix, pl) == 0) {
            *tls = schemes[i].tls;
            return (mg_str_t){url.len - pl, url.data + pl};
        }
    }
    return url;
}

const char *mg_cgi_set_pass(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_cgi_pass_t *pass = (mg_cgi_pass_t *)((char *)conf + cmd->offset);
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    if (pass->set) {
        return "is duplicate";
    }
    pass->set = 1;
    clcf->handler = (mg_int_t(*)(mg_request_t *))cmd->post;
    if (clcf->name.len && clcf->name.data[clcf->name.len - 1] == '/' && !clcf->regex &&
        !clcf->named) {
        clcf->auto_redirect = 1;
    }
    mg_str_t url = cf->args[1];
    if (mg_http_script_variables_count(url)) {
        pass->url_cv = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
        return mg_http_compile_complex_value(cf, url, pass->url_cv) == MG_OK ? MG_CONF_OK
                                                                             : MG_CONF_ERROR;
    }
    int tls;
    url = pass_address(url, cmd->name, &tls);
    pass->tls = tls;
    pass->group = mg_upstream_group_ref(cf, url, 0);
    return pass->group ? MG_CONF_OK : MG_CONF_ERROR;
}

/* an "if" block sees the enclosing location's *_pass */
static void merge_pass(mg_cgi_pass_t *conf, mg_cgi_pass_t *prev)
{
    if (!conf->set && prev->set) {
        *conf = *prev;
    }
}

/* ---- the module hooks' shared part ---- */

void *mg_cgi_create_loc_conf(mg_conf_t *cf, size_t size)
{
    mg_cgi_loc_conf_t *c = mg_pcalloc(cf->pool, size);
    mg_upstream_conf_init(&c->upstream);
    return c;
}

const char *mg_cgi_merge_loc_conf(mg_conf_t *cf, void *conf, void *prev, const char *name)
{
    mg_cgi_loc_conf_t *c = conf, *p = prev;
    if (mg_upstream_conf_merge(cf, &c->upstream, &p->upstream, name) != MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    /* *_param: a level with its own drops the parent's, as nginx */
    if (c->params == NULL) {
        c->params = p->params;
    }
    merge_pass(&c->pass, &p->pass);
    return MG_CONF_OK;
}

void *mg_cgi_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(int));
}

/* the modules whose request contexts start with mg_cgi_ctx_t: one accessor finds them all */
static mg_module_t *owners[8];

static mg_upstream_t *cgi_owner(mg_request_t *r)
{
    for (size_t i = 0; i < mg_nelems(owners) && owners[i]; i++) {
        mg_cgi_ctx_t *ctx = mg_http_get_ctx(r, (*owners[i]));
        if (ctx && ctx->started) {
            return &ctx->u;
        }
    }
    return NULL;
}

void mg_cgi_add_owner(mg_module_t *module)
{
    size_t i = 0;
    while (i < mg_nelems(owners) && owners[i] && owners[i] != module) {
        i++;
    }
    if (i < mg_nelems(owners)) {
        owners[i] = module;
    }
    mg_upstream_add_owner(cgi_owner);
}

/* a *_pass with variables: an upstream{} name, "unix:/path", an address or a name */
static mg_int_t eval_pass(mg_request_t *r, mg_cgi_pass_t *pass, mg_cgi_ctx_t *ctx)
{
    int tls;
    mg_str_t hp = pass_address(mg_http_complex_value(r, pass->url_cv), ctx->u.schema.data, &tls);
    ctx->tls = (unsigned)tls;
    ctx->pass_host = hp;
    mg_upstream_group_t *g = mg_upstream_group_find(r, hp, 0);
    if (g) {
        ctx->u.group = g;
        return MG_OK;
    }
    mg_str_t port_text = mg_null_string;
    int unix_sock = hp.len > 5 && mg_strncasecmp(hp.data, "unix:", 5) == 0;
    mg_upstream_peer_t *peer =
        unix_sock ? mg_upstream_unix_peer(r, hp) : mg_upstream_literal_peer(r, hp, 0, &port_text);
    if (peer) {
        ctx->u.single = peer;
        return MG_OK;
    }
    const char *colon = memchr(hp.data, ':', hp.len);
    int64_t port = colon ? mg_atoi(colon + 1, (size_t)(hp.data + hp.len - colon - 1)) : -1;
    if (unix_sock || hp.len == 0 || hp.data[0] == '[' || port < 1 || port > 65535) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "no port in upstream \"%.*s\"",
                     (int)hp.len, hp.data);
        return MG_HTTP_BAD_GATEWAY;
    }
    ctx->resolve_host.data = hp.data;
    ctx->resolve_host.len = (size_t)(colon - hp.data);
    ctx->resolve_port = (in_port_t)port;
    return MG_OK;
}

mg_int_t mg_cgi_ctx_init(mg_request_t *r, mg_cgi_ctx_t **ctxp, size_t size, mg_module_t *module,
                         mg_cgi_pass_t *pass, mg_upstream_conf_t *conf,
                         mg_http_temp_path_t *temp_path, const char *schema)
{
    mg_cgi_ctx_t *ctx = mg_pcalloc(r->pool, size);
    *ctxp = ctx;
    mg_http_set_ctx(r, ctx, (*module));
    ctx->module = module;
    mg_upstream_t *u = &ctx->u;
    u->r = r;
    ctx->uconf = *conf;
    ctx->uconf.temp_path = temp_path;
    u->conf = &ctx->uconf;
    u->schema.data = (char *)schema;
    u->schema.len = strlen(schema);
    if (pass->url_cv) {
        mg_int_t rc = eval_pass(r, pass, ctx);
        if (rc != MG_OK) {
            return rc;
        }
    } else {
        u->group = pass->group;
        ctx->tls = (unsigned)pass->tls;
        ctx->pass_host = pass->group ? pass->group->name : (mg_str_t)mg_null_string;
    }
    mg_upstream_conf_apply(r, u);
    return MG_OK;
}

static void cgi_start(mg_request_t *r);

/* the body reader's callback knows only r: r->upstream, set early, finds the context */
static mg_cgi_ctx_t *cgi_ctx(mg_request_t *r)
{
    return (mg_cgi_ctx_t *)r->upstream;
}

static void cgi_resolved(mg_request_t *r, mg_upstream_group_t *g)
{
    mg_cgi_ctx_t *ctx = cgi_ctx(r);
    ctx->u.group = g;
    ctx->resolve_host.len = 0;
    cgi_start(r);
}

static void cgi_start(mg_request_t *r)
{
    mg_cgi_ctx_t *ctx = cgi_ctx(r);
    if (mg_http_cache_after_body(r, &ctx->u, 0)) {
        return;
    }
    if (ctx->resolve_host.len) {
        mg_int_t rc = mg_upstream_resolve(r, ctx->resolve_host, ctx->resolve_port, cgi_resolved);
        if (rc != MG_DONE) {
            mg_http_finalize_request(r, rc);
        }
        return;
    }
    if (ctx->head == NULL) {
        mg_int_t rc = ctx->proto->create_request(r, ctx);
        if (rc != MG_OK) {
            mg_http_finalize_request(r, rc);
            return;
        }
    }
    mg_buf_t *body = NULL;
    if (r->request_body_no_buffering && ctx->u.frame_stream) {
        /* what arrived so far in the protocol's frame; the engine frames the rest */
        mg_buf_t *stream = r->request_body->stream;
        size_t n = (size_t)(stream->last - stream->pos);
        ctx->head->next = n ? ctx->u.frame_stream(&ctx->u, stream, n) : NULL;
        ctx->u.request_bufs = ctx->head;
        ctx->started = 1;
        mg_upstream_start(&ctx->u);
        return;
    }
    if (r->request_body_no_buffering) {
        body = r->request_body->stream; /* the chain's last link; the engine refills it */
    } else if (ctx->uconf.pass_request_body && r->request_body) {
        body = r->request_body->bufs;
    }
    ctx->head->next = ctx->proto->frame_body ? ctx->proto->frame_body(r, ctx, body) : body;
    ctx->u.request_bufs = ctx->head;
    ctx->started = 1;
    mg_upstream_start(&ctx->u);
}

static mg_int_t process_header(mg_upstream_t *u)
{
    mg_cgi_ctx_t *ctx = (mg_cgi_ctx_t *)u; /* u is its first member */
    return mg_upstream_copy_headers(u, ctx->proto->hide);
}

mg_int_t mg_cgi_handler(mg_request_t *r, const mg_cgi_protocol_t *proto)
{
    mg_cgi_loc_conf_t *lcf = mg_http_get_loc_conf(r, (*proto->module));
    if (!lcf->pass.set) {
        return MG_DECLINED;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_http_temp_path_t *temp_path = *(mg_http_temp_path_t **)((char *)clcf + proto->temp_path);
    mg_cgi_ctx_t *ctx;
    mg_int_t rc = mg_cgi_ctx_init(r, &ctx, proto->ctx_size, proto->module, &lcf->pass,
                                  &lcf->upstream, temp_path, proto->schema);
    if (rc != MG_OK) {
        return rc;
    }
    ctx->proto = proto;
    ctx->u.process_header = proto->process_header ? proto->process_header : process_header;
    ctx->u.parse_head = proto->parse_head;
    ctx->u.decode = proto->decode;
    ctx->u.reinit = proto->reinit;
    ctx->u.raw_offset = proto->raw_offset;
    ctx->u.frame_stream = proto->frame_stream;
    mg_upstream_store_setup(r, &ctx->u, proto->store);
    if (ctx->tls && proto->ssl) {
        /* suwsgi://: the uwsgi_ssl_* settings, the name from the pass (its port cut off) */
        mg_proxy_ssl_conf_t *sc = (mg_proxy_ssl_conf_t *)((char *)lcf + proto->ssl);
        mg_proxy_ssl_setup(r, &ctx->u, sc, ctx->pass_host);
        mg_str_set(&ctx->u.schema, "suwsgi://");
    }
    int has_body = r->headers_in.content_length_n >= 0 || r->headers_in.chunked;
    int streamed = has_body && ctx->uconf.pass_request_body && !ctx->uconf.request_buffering &&
                   (!r->headers_in.chunked || proto->frame_stream);
    /* the cache lookup comes before the request is built (its params depend on it), after a
     * body read whole (as nginx's: a key may name $request_body): cgi_start's then */
    if (mg_http_cache_before_body(r, &ctx->u, 0, streamed, &rc) == MG_DONE) {
        return rc; /* the cache answered, or the request waits for *_cache_lock */
    }
    r->upstream = &ctx->u;
    if (has_body) {
        /* as nginx's: the body is read also when it is not passed (*_pass_request_body
         * off), so $request_body and $request_length count it in the params */
        r->request_body_no_buffering = streamed;
        r->request_body_plain = streamed && r->headers_in.chunked;
        rc = mg_http_read_client_request_body(r, cgi_start);
        return rc >= MG_HTTP_SPECIAL_RESPONSE ? rc : MG_DONE;
    }
    rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    cgi_start(r);
    return MG_DONE;
}
