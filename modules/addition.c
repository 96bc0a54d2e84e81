/*
 * addition: nginx's ngx_http_addition_module. add_before_body and add_after_body put the
 * response of a subrequest before and after the body of a client's 200 response of an
 * addition_types type, through in-stream subrequests (core/http/postpone.c): the before one is
 * made when the body starts, the after one when the body's end arrives, which then follows it.
 */
#include "filter_types.h"

typedef struct {
    mg_str_t before_body; /* "" when unset or disabled */
    mg_str_t after_body;
    int before_set, after_set;
    mg_filter_types_t types;
} addition_conf_t;

typedef struct {
    unsigned before_done : 1;
    unsigned after_pending : 1; /* the body ended: the after-body response follows once the
                                   filters after us took all of it */
    unsigned held : 1;          /* r->buffered is set for that */
} addition_ctx_t;

mg_module_t mg_addition_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_addition_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_addition_module, in);
}

static const char *const default_types[] = {NULL};

static mg_int_t addition_header_filter(mg_request_t *r)
{
    addition_conf_t *conf = mg_http_get_loc_conf(r, mg_addition_module);
    if (r->headers_out.status != MG_HTTP_OK || r->parent ||
        (conf->before_body.len == 0 && conf->after_body.len == 0) ||
        !mg_filter_types_test(r, &conf->types)) {
        return next_header_filter(r);
    }
    mg_http_set_ctx(r, mg_pcalloc(r->pool, sizeof(addition_ctx_t)), mg_addition_module);
    mg_http_clear_content_length(r);
    mg_http_clear_accept_ranges(r);
    mg_filter_weak_etag(r);
    return next_header_filter(r);
}

/* As nginx, the URI is taken whole: a "?" in it is part of the path, not arguments. */
static mg_int_t add_subrequest(mg_request_t *r, mg_str_t uri)
{
    mg_request_t *sr;
    if (mg_http_subrequest_inline(r, uri, NULL, NULL, NULL, &sr) != MG_OK) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "subrequests cycle while processing \"%.*s\"", (int)uri.len, uri.data);
        return MG_ERROR;
    }
    return MG_OK;
}

/* The body's end went by: once everything before it left the filters between us and the
 * postpone filter (they may keep input back while the socket is full), the after-body
 * subrequest takes its place and the end follows it. */
static mg_int_t after_body(mg_request_t *r, addition_ctx_t *ctx, mg_int_t rc)
{
    if (rc == MG_AGAIN) {
        ctx->held = 1;
        r->buffered = 1;
        return MG_AGAIN;
    }
    addition_conf_t *conf = mg_http_get_loc_conf(r, mg_addition_module);
    ctx->after_pending = 0;
    mg_http_set_ctx(r, NULL, mg_addition_module);
    if (add_subrequest(r, conf->after_body) != MG_OK) {
        return MG_ERROR;
    }
    mg_buf_t *end = mg_buf_mem(r->pool, "", 0);
    end->last_buf = 1;
    return next_body_filter(r, end);
}

static mg_int_t addition_body_filter(mg_request_t *r, mg_buf_t *in)
{
    addition_ctx_t *ctx = mg_http_get_ctx(r, mg_addition_module);
    if (ctx && ctx->held) {
        ctx->held = 0;
        r->buffered = 0;
    }
    if (ctx && ctx->after_pending) {
        mg_int_t rc = next_body_filter(r, in);
        return rc == MG_ERROR ? rc : after_body(r, ctx, rc);
    }
    if (in == NULL || ctx == NULL || r->header_only) {
        return next_body_filter(r, in);
    }
    addition_conf_t *conf = mg_http_get_loc_conf(r, mg_addition_module);
    if (!ctx->before_done) {
        ctx->before_done = 1;
        if (conf->before_body.len && add_subrequest(r, conf->before_body) != MG_OK) {
            return MG_ERROR;
        }
    }
    if (conf->after_body.len == 0) {
        mg_http_set_ctx(r, NULL, mg_addition_module);
        return next_body_filter(r, in);
    }
    for (mg_buf_t *b = in; b; b = b->next) {
        if (b->last_buf) {
            /* the end moves behind the after-body response; the text filters let go of
             * what they keep back for a match */
            b->last_buf = 0;
            b->last_in_chain = 1;
            b->flush = 1;
            ctx->after_pending = 1;
        }
    }
    mg_int_t rc = next_body_filter(r, in);
    if (rc == MG_ERROR || !ctx->after_pending) {
        return rc;
    }
    return after_body(r, ctx, rc);
}

/* ---- configuration ---- */

static void *addition_create_conf(mg_conf_t *cf)
{
    addition_conf_t *conf = mg_pcalloc(cf->pool, sizeof(*conf));
    return conf;
}

static const char *addition_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    addition_conf_t *prev = parent, *conf = child;
    if (!conf->before_set) {
        conf->before_body = prev->before_body;
        conf->before_set = prev->before_set;
    }
    if (!conf->after_set) {
        conf->after_body = prev->after_body;
        conf->after_set = prev->after_set;
    }
    mg_filter_types_merge(cf, &conf->types, &prev->types, default_types);
    return MG_CONF_OK;
}

static const char *addition_set_uri(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    addition_conf_t *ac = conf;
    int after = cmd->offset == offsetof(addition_conf_t, after_body);
    int *set = after ? &ac->after_set : &ac->before_set;
    if (*set) {
        return "is duplicate";
    }
    *set = 1;
    *(mg_str_t *)((char *)conf + cmd->offset) = cf->args[1];
    return MG_CONF_OK;
}

static int filter_used(const void *loc_conf)
{
    const addition_conf_t *conf = loc_conf;
    return conf->before_body.len || conf->after_body.len;
}

static void addition_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_addition_module, filter_used, addition_header_filter,
                         addition_body_filter);
}

#define LOC(f) MG_LOC_CONF, offsetof(addition_conf_t, f)

static const mg_command_t addition_commands[] = {
    {"add_before_body", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), addition_set_uri, LOC(before_body), NULL},
    {"add_after_body", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), addition_set_uri, LOC(after_body), NULL},
    {"addition_types", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), mg_filter_types_set, LOC(types), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t addition_defaults[] = {
    {"addition_types", "text/html"},
    {"add_before_body", MG_NO_DEFAULT},
    {"add_after_body", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_addition_module = {
    .name = "addition",
    .commands = addition_commands,
    .defaults = addition_defaults,
    .create_loc_conf = addition_create_conf,
    .merge_loc_conf = addition_merge_conf,
    .init_filters = addition_init_filters,
};
