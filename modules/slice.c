/*
 * slice: nginx's ngx_http_slice_module. With "slice SIZE" the request asks its upstream for
 * the slice its $slice_range names ("bytes=S-E", SIZE bytes, the one holding the client's
 * range start), and every later slice is an in-stream subrequest of the same URI made when the
 * previous one has ended and the client took what was sent (so about two slices are held at
 * a time). The header filter, first in the chain, checks each slice's 206 (status, range,
 * ETag) and turns the first into a 200 of the complete length, which the range filter may cut
 * to the client's single range; the body filter moves the response's end behind the slices.
 */
#include "http.h"
#include "variables.h"

typedef struct {
    size_t size;
} slice_conf_t;

typedef struct {
    off_t start, end; /* the next slice's start; the end of what is sent */
    mg_str_t range;   /* $slice_range of the request it belongs to */
    mg_str_t etag;
    mg_request_t *sr;    /* the slice being fetched */
    unsigned active : 1; /* a slice's head was checked */
    unsigned last : 1;   /* the first response's end went by */
    unsigned sr_done : 1;
    unsigned held : 1; /* r->buffered is set until the writer drains */
} slice_ctx_t;

mg_module_t mg_slice_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_slice_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_slice_module, in);
}

/* Where the client's range starts, as nginx reads it (0 when unsure: If-Range, a list, a
 * suffix). */
static off_t client_start(mg_request_t *r)
{
    if (mg_http_find_header_in(r, "if-range", 8)) {
        return 0;
    }
    mg_table_elt_t *h = r->headers_in.range;
    if (h == NULL || h->value.len < 7 || mg_strncasecmp(h->value.data, "bytes=", 6) != 0 ||
        memchr(h->value.data, ',', h->value.len)) {
        return 0;
    }
    const char *p = h->value.data + 6, *end = h->value.data + h->value.len;
    while (p < end && *p == ' ') {
        p++;
    }
    off_t start = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (start > (off_t)(INT64_MAX / 10 - 10)) {
            return 0;
        }
        start = start * 10 + (*p - '0');
    }
    return start;
}

static void set_range(mg_request_t *r, slice_ctx_t *ctx, size_t size)
{
    char *s = mg_psprintf(r->pool, "bytes=%lld-%lld", (long long)ctx->start,
                          (long long)(ctx->start + (off_t)size - 1));
    ctx->range = (mg_str_t){strlen(s), s};
}

static mg_int_t var_slice_range(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    slice_ctx_t *ctx = mg_http_get_ctx(r, mg_slice_module);
    if (ctx == NULL) {
        slice_conf_t *conf = mg_http_get_loc_conf(r, mg_slice_module);
        if (r->parent || r->headers_out.status || conf->size == 0) {
            v->not_found = 1;
            return MG_OK;
        }
        ctx = mg_pcalloc(r->pool, sizeof(*ctx));
        mg_http_set_ctx(r, ctx, mg_slice_module);
        ctx->start = (off_t)conf->size * (client_start(r) / (off_t)conf->size);
        set_range(r, ctx, conf->size);
    }
    v->value = ctx->range;
    v->valid = 1;
    v->not_found = 0;
    v->no_cacheable = 1;
    return MG_OK;
}

/* "bytes S-E/L" of Content-Range; L may be "*" (-1). */
static int parse_content_range(mg_str_t v, off_t *s, off_t *e, off_t *len)
{
    const char *p = v.data, *end = v.data + v.len;
    if (v.len < 6 || mg_strncasecmp(p, "bytes ", 6) != 0) {
        return 0;
    }
    p += 6;
    while (p < end && *p == ' ') {
        p++;
    }
    off_t *out[3] = {s, e, len};
    const char seps[3] = {'-', '/', '\0'};
    for (int k = 0; k < 3; k++) {
        if (k == 2 && p < end && *p == '*' && p + 1 == end) {
            *len = -1;
            return *s <= *e; /* a reversed range is none, whatever the length */
        }
        if (p == end || *p < '0' || *p > '9') {
            return 0;
        }
        off_t n = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (n > (off_t)(INT64_MAX / 10 - 10)) {
                return 0;
            }
            n = n * 10 + (*p - '0');
        }
        *out[k] = n;
        if (seps[k]) {
            if (p == end || *p != seps[k]) {
                return 0;
            }
            p++;
        }
    }
    return p == end && *s <= *e;
}

static mg_table_elt_t *find_out(mg_request_t *r, const char *name, size_t len)
{
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && h[i].key.len == len && mg_strncasecmp(h[i].key.data, name, len) == 0) {
            return &h[i];
        }
    }
    return NULL;
}

static mg_int_t slice_header_filter(mg_request_t *r)
{
    slice_ctx_t *ctx = mg_http_get_ctx(r, mg_slice_module);
    if (ctx == NULL) {
        return next_header_filter(r);
    }
    mg_connection_t *c = r->connection;
    if (r->headers_out.status != MG_HTTP_PARTIAL_CONTENT) {
        if (r->parent == NULL) {
            mg_http_set_ctx(r, NULL, mg_slice_module);
            return next_header_filter(r);
        }
        mg_log_error(MG_LOG_ERR, &c->log, 0, "unexpected status code %lu in slice response",
                     (unsigned long)r->headers_out.status);
        return MG_ERROR;
    }
    mg_table_elt_t *etag =
        r->headers_out.etag && r->headers_out.etag->hash ? r->headers_out.etag : NULL;
    if (ctx->etag.len && (etag == NULL || etag->value.len != ctx->etag.len ||
                          memcmp(etag->value.data, ctx->etag.data, ctx->etag.len) != 0)) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "etag mismatch in slice response");
        return MG_ERROR;
    }
    if (etag && ctx->etag.len == 0) {
        /* the main request's pool: the ctx outlives the slices */
        mg_request_t *m = r->parent ? r->main : r;
        ctx->etag =
            (mg_str_t){etag->value.len, mg_pstr(m->pool, etag->value.data, etag->value.len).data};
    }
    mg_table_elt_t *crh = find_out(r, "Content-Range", 13);
    off_t s, e, len;
    if (crh == NULL || !parse_content_range(crh->value, &s, &e, &len)) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "invalid range in slice response");
        return MG_ERROR;
    }
    if (len == -1) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "no complete length in slice response");
        return MG_ERROR;
    }
    slice_conf_t *conf = mg_http_get_loc_conf(r, mg_slice_module);
    off_t end = ctx->start + (off_t)conf->size;
    if (end > len) {
        end = len;
    }
    if (s != ctx->start || e + 1 != end) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "unexpected range in slice response: %lld-%lld",
                     (long long)s, (long long)(e + 1));
        return MG_ERROR;
    }
    ctx->start = end;
    ctx->active = 1;
    r->headers_out.status = MG_HTTP_OK;
    r->headers_out.status_line.len = 0;
    r->headers_out.content_length_n = len;
    r->headers_out.content_offset = s;
    crh->hash = 0;
    /* as nginx: the range filter says Accept-Ranges, not the upstream */
    mg_http_clear_accept_ranges(r);
    if (r->parent) {
        return next_header_filter(r);
    }
    /* the client's range is the range filter's, one range only (nginx's single_range) */
    r->allow_ranges = r->headers_in.range == NULL ||
                      !memchr(r->headers_in.range->value.data, ',', r->headers_in.range->value.len);
    mg_int_t rc = next_header_filter(r);
    ctx->end = len;
    if (r->headers_out.status == MG_HTTP_PARTIAL_CONTENT) {
        mg_table_elt_t *cr = find_out(r, "Content-Range", 13);
        off_t cs, ce, cl;
        if (cr && parse_content_range(cr->value, &cs, &ce, &cl)) {
            if (ctx->start + (off_t)conf->size <= cs) {
                ctx->start = (off_t)conf->size * (cs / (off_t)conf->size);
            }
            ctx->end = ce + 1;
        }
    }
    return rc;
}

static void slice_done(mg_request_t *sr, void *data)
{
    (void)sr;
    slice_ctx_t *ctx = data;
    ctx->sr_done = 1;
}

static mg_int_t slice_body_filter(mg_request_t *r, mg_buf_t *in)
{
    slice_ctx_t *ctx = mg_http_get_ctx(r, mg_slice_module);
    if (ctx == NULL || r->parent || r->header_only) {
        return next_body_filter(r, in);
    }
    if (ctx->held) {
        ctx->held = 0;
        r->buffered = 0;
    }
    for (mg_buf_t *b = in; b; b = b->next) {
        if (b->last_buf) {
            b->last_buf = 0;
            b->last_in_chain = 1;
            ctx->last = 1;
        }
    }
    mg_int_t rc = next_body_filter(r, in);
    if (rc == MG_ERROR || !ctx->last) {
        return rc;
    }
    if (ctx->sr && !ctx->sr_done) {
        return rc;
    }
    if (!ctx->active) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "missing slice response");
        return MG_ERROR;
    }
    if (ctx->start >= ctx->end) {
        mg_http_set_ctx(r, NULL, mg_slice_module);
        mg_buf_t *b = mg_buf_mem(r->pool, "", 0);
        b->last_buf = 1;
        return next_body_filter(r, b);
    }
    if (mg_http_output_busy(r)) {
        /* the next slice once the client took this one: the writer calls back */
        ctx->held = 1;
        r->buffered = 1;
        return MG_AGAIN;
    }
    slice_conf_t *conf = mg_http_get_loc_conf(r, mg_slice_module);
    mg_request_t *sr;
    if (mg_http_subrequest_inline(r, r->uri, &r->args, slice_done, ctx, &sr) != MG_OK) {
        return MG_ERROR;
    }
    sr->method = r->method;
    sr->method_name = r->method_name;
    mg_http_set_ctx(sr, ctx, mg_slice_module);
    ctx->sr = sr;
    ctx->sr_done = 0;
    ctx->active = 0;
    set_range(r, ctx, conf->size);
    return MG_AGAIN;
}

/* ---- configuration ---- */

static void *slice_create_conf(mg_conf_t *cf)
{
    slice_conf_t *conf = mg_pcalloc(cf->pool, sizeof(*conf));
    conf->size = MG_CONF_UNSET_SIZE;
    return conf;
}

static const char *slice_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    slice_conf_t *prev = parent, *conf = child;
    mg_conf_merge_size(conf->size, prev->size, 0);
    return MG_CONF_OK;
}

static const char *slice_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    mg_http_variable_t *v =
        mg_http_add_variable(cf, (mg_str_t)mg_string("slice_range"), MG_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return MG_CONF_ERROR;
    }
    v->get_handler = var_slice_range;
    return MG_CONF_OK;
}

static void *slice_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, 1);
}

/* a response gets slices only where `slice` sets a size */
static int filter_used(const void *loc_conf)
{
    const slice_conf_t *conf = loc_conf;
    return conf->size != 0;
}

static void slice_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_slice_module, filter_used, slice_header_filter, slice_body_filter);
}

static const mg_command_t slice_commands[] = {
    {"slice", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size, MG_LOC_CONF,
     offsetof(slice_conf_t, size), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

mg_module_t mg_slice_module = {
    .name = "slice",
    .commands = slice_commands,
    .create_main_conf = slice_create_main_conf,
    .init_main_conf = slice_init_main_conf,
    .create_loc_conf = slice_create_conf,
    .merge_loc_conf = slice_merge_conf,
    .init_filters = slice_init_filters,
};
