/*
 * mirror, mirror_request_body (nginx's ngx_http_mirror_module): in the precontent phase (after
 * try_files), a background subrequest per mirror URI with the client's method, arguments and,
 * unless mirror_request_body is off, its body, read first. Their responses are dropped; the
 * client's response does not wait for them, but the request is logged and its connection goes
 * on only once they ended (subrequest.c), as in nginx.
 */
#include "http.h"

typedef struct {
    mg_array_t *uris; /* mg_str_t; MG_CONF_UNSET_PTR until set, NULL for "off" */
    int request_body;
} mirror_conf_t;

typedef struct {
    int used;
} mirror_main_conf_t;

typedef struct {
    mg_int_t status;      /* the handler's answer once the mirrors are out; MG_AGAIN before */
    unsigned waiting : 1; /* the handler returned: the body's end resumes the phases */
} mirror_ctx_t;

mg_module_t mg_mirror_module;

static void *mirror_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(mirror_main_conf_t));
}

static void *mirror_create_conf(mg_conf_t *cf)
{
    mirror_conf_t *mc = mg_pcalloc(cf->pool, sizeof(mirror_conf_t));
    mc->uris = MG_CONF_UNSET_PTR;
    mc->request_body = MG_CONF_UNSET;
    return mc;
}

static const char *mirror_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    mirror_conf_t *prev = parent, *conf = child;
    mg_conf_merge_ptr(conf->uris, prev->uris, NULL);
    mg_conf_merge(conf->request_body, prev->request_body, 1);
    return MG_CONF_OK;
}

static const char *mirror_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mirror_conf_t *mc = conf;
    if (mg_str_eq(cf->args[1], "off")) {
        if (mc->uris != MG_CONF_UNSET_PTR) {
            return "is duplicate";
        }
        mc->uris = NULL;
        return MG_CONF_OK;
    }
    if (mc->uris == NULL) {
        return "is duplicate";
    }
    if (mc->uris == MG_CONF_UNSET_PTR) {
        mc->uris = mg_array_create(cf->pool, 2, sizeof(mg_str_t));
    }
    *(mg_str_t *)mg_array_push(mc->uris) = cf->args[1];
    mirror_main_conf_t *mmc = mg_http_conf_get_main(cf, mg_mirror_module);
    mmc->used = 1;
    return MG_CONF_OK;
}

static mg_int_t start_mirrors(mg_request_t *r, mirror_conf_t *mc)
{
    mg_str_t *uri = mc->uris->elts;
    for (size_t i = 0; i < mc->uris->nelts; i++) {
        mg_request_t *sr;
        if (mg_http_subrequest(r, uri[i], &r->args, NULL, NULL, &sr) != MG_OK) {
            return MG_HTTP_INTERNAL_SERVER_ERROR;
        }
        sr->method = r->method;
        sr->method_name = r->method_name;
        mg_http_subrequest_background(sr);
    }
    return MG_DECLINED;
}

static void mirror_body_read(mg_request_t *r)
{
    mirror_ctx_t *ctx = mg_http_get_ctx(r, mg_mirror_module);
    mirror_conf_t *mc = mg_http_get_loc_conf(r, mg_mirror_module);
    ctx->status = start_mirrors(r, mc);
    if (ctx->waiting) {
        mg_http_phase_resume(r, ctx->status);
    }
}

static mg_int_t mirror_handler(mg_request_t *r)
{
    if (r->parent) {
        return MG_DECLINED;
    }
    mirror_conf_t *mc = mg_http_get_loc_conf(r, mg_mirror_module);
    if (mc->uris == NULL) {
        return MG_DECLINED;
    }
    mirror_ctx_t *ctx = mg_http_get_ctx(r, mg_mirror_module);
    if (ctx) {
        return ctx->status;
    }
    ctx = mg_pcalloc(r->pool, sizeof(mirror_ctx_t));
    mg_http_set_ctx(r, ctx, mg_mirror_module);
    if (!mc->request_body) {
        ctx->status = start_mirrors(r, mc);
        return ctx->status;
    }
    /* the mirrors get the body: the request waits for all of it first, as in nginx */
    ctx->status = MG_AGAIN;
    mg_int_t rc = mg_http_read_client_request_body(r, mirror_body_read);
    if (rc >= MG_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }
    if (ctx->status == MG_AGAIN) {
        ctx->waiting = 1;
    }
    return ctx->status;
}

static mg_int_t mirror_init(mg_conf_t *cf)
{
    mirror_main_conf_t *mmc = mg_http_conf_get_main(cf, mg_mirror_module);
    if (mmc->used) {
        mg_http_add_phase_handler(cf, MG_HTTP_PRECONTENT_PHASE, mirror_handler);
    }
    return MG_OK;
}

static const mg_command_t mirror_commands[] = {
    {"mirror", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mirror_set, MG_LOC_CONF, 0, NULL},
    {"mirror_request_body", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(mirror_conf_t, request_body), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t mirror_defaults[] = {
    {"mirror", "off"},
    {0},
};

mg_module_t mg_mirror_module = {
    .name = "mirror",
    .commands = mirror_commands,
    .defaults = mirror_defaults,
    .create_main_conf = mirror_create_main_conf,
    .create_loc_conf = mirror_create_conf,
    .merge_loc_conf = mirror_merge_conf,
    .init = mirror_init,
};
