/*
 * Byte ranges ("Range: bytes=..."), as nginx answers them: a header filter that turns a 200
 * response whose handler allows ranges (static files) into 206 with Content-Range, or into
 * multipart/byteranges for several ranges, or 416 with "Content-Range: bytes * /SIZE"; and a
 * body filter that cuts the body to the ranges. "max_ranges" bounds the list (more ranges:
 * the whole entity); If-Range decides whether the ranges apply.
 *
 * The two filters sit apart, as nginx's range_header and range_body modules: the header
 * filter last (after gzip, which drops the length of what it compresses), the body filter
 * first after not_modified (mg_range_body_module), so the filters between (body_filter_by_lua,
 * text filters) see the range's bytes or the multipart parts, as in nginx.
 */
#include "http.h"

typedef struct {
    off_t start, end; /* [start, end) */
    mg_str_t header;  /* multipart: the part's head, boundary to the blank line */
} range_t;

typedef struct {
    range_t *ranges;
    size_t nranges;
    off_t length;      /* the whole entity's length */
    off_t offset;      /* body bytes seen by the body filter */
    unsigned active : 1;        /* the response is a 206 being cut */
    unsigned multipart : 1;
    unsigned done : 1;          /* single range: its last byte has gone */
    mg_str_t boundary_end;      /* multipart: the closing delimiter */
} range_ctx_t;

typedef struct {
    mg_int_t max_ranges;
} range_conf_t;

enum { PARSE_OK, PARSE_WHOLE, PARSE_UNSATISFIABLE };

/* nginx documents no default of max_ranges (none: no limit; the merged value is INT_MAX) */
static const mg_conf_default_t range_defaults[] = {
    {"max_ranges", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_range_module;
mg_module_t mg_range_body_module;

static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_range_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_range_body_module, in);
}

#define OFF_MAX ((off_t)(((uint64_t)1 << 63) - 1))

/* nginx numbers its multipart boundaries with a per-process counter, from 1. */
static unsigned long boundary_counter;

static int is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

static const char *skip_spaces(const char *p, const char *end)
{
    while (p < end && *p == ' ') {
        p++;
    }
    return p;
}

/* Read a decimal number; -1 when it would not fit an off_t. */
static const char *read_number(const char *p, const char *end, off_t *out)
{
    off_t v = 0;
    const off_t max = OFF_MAX;
    while (is_digit(p, end)) {
        int d = *p++ - '0';
        if (v > (max - d) / 10) {
            *out = -1;
            return p;
        }
        v = v * 10 + d;
    }
    *out = v;
    return p;
}

/*
 * Parse the list after "bytes=". Ranges past the end are cut to it; a range starting past
 * the end is skipped; none left is 416. A syntax error is 416 too (nginx's choice). More than
 * max ranges, a "0-" style range over an empty entity, or ranges adding up to more than the
 * entity, mean the whole entity is sent (PARSE_WHOLE), as nginx does against range abuse.
 */
static int parse_ranges(mg_request_t *r, range_ctx_t *ctx, const char *p, const char *end,
                        mg_int_t max)
{
    off_t len = ctx->length, total = 0;
    size_t cap = 4;
    ctx->ranges = mg_palloc(r->pool, cap * sizeof(range_t));
    for (;;) {
        off_t start = 0, last;
        int suffix = 0;
        p = skip_spaces(p, end);
        if (p < end && *p == '-') {
            suffix = 1; /* "-N": the last N bytes */
            p++;
        } else {
            if (!is_digit(p, end)) {
                return PARSE_UNSATISFIABLE;
            }
            p = read_number(p, end, &start);
            if (start < 0) {
                return PARSE_UNSATISFIABLE;
            }
            p = skip_spaces(p, end);
            if (p == end || *p++ != '-') {
                return PARSE_UNSATISFIABLE;
            }
            p = skip_spaces(p, end);
        }
        if (!suffix && (p == end || *p == ',')) {
            last = len - 1; /* "N-": to the end */
        } else {
            if (!is_digit(p, end)) {
                return PARSE_UNSATISFIABLE;
            }
            p = read_number(p, end, &last);
            if (last < 0) {
                return PARSE_UNSATISFIABLE;
            }
            if (suffix) {
                start = last < len ? len - last : 0;
                last = len - 1;
            }
        }
        p = skip_spaces(p, end);
        if (p < end && *p != ',') {
            return PARSE_UNSATISFIABLE;
        }
        off_t stop = last >= len ? len : last + 1;
        if (start < stop) {
            if (ctx->nranges == cap) {
                range_t *n = mg_palloc(r->pool, 2 * cap * sizeof(range_t));
                memcpy(n, ctx->ranges, cap * sizeof(range_t));
                ctx->ranges = n;
                cap *= 2;
            }
            ctx->ranges[ctx->nranges].start = start;
            ctx->ranges[ctx->nranges].end = stop;
            ctx->nranges++;
            /* ranges of an entity near 2^63 bytes (an upstream's length) can add up past
             * off_t: 416, as nginx answers */
            if (stop - start > OFF_MAX - total) {
                return PARSE_UNSATISFIABLE;
            }
            total += stop - start;
            if ((mg_int_t)ctx->nranges > max) {
                return PARSE_WHOLE;
            }
        } else if (start == 0) {
            return PARSE_WHOLE;
        }
        if (p == end) {
            break;
        }
        p++; /* the ',' */
    }
    if (ctx->nranges == 0) {
        return PARSE_UNSATISFIABLE;
    }
    return total > len ? PARSE_WHOLE : PARSE_OK;
}

/* If-Range: an entity tag must equal the ETag; a date must equal Last-Modified. */
static int if_range_holds(mg_request_t *r)
{
    mg_table_elt_t *h = mg_http_find_header_in(r, "if-range", 8);
    if (h == NULL) {
        return 1;
    }
    mg_str_t v = h->value;
    if (v.len >= 2 && v.data[v.len - 1] == '"') {
        mg_table_elt_t *etag = r->headers_out.etag;
        return etag && etag->hash && etag->value.len == v.len &&
               memcmp(etag->value.data, v.data, v.len) == 0;
    }
    time_t lm = r->headers_out.last_modified_time;
    return lm != -1 && mg_time_parse_http(v.data, v.len) == lm;
}

static void set_single(mg_request_t *r, range_ctx_t *ctx)
{
    range_t *rg = &ctx->ranges[0];
    char *cr = mg_psprintf(r->pool, "bytes %lld-%lld/%lld", (long long)rg->start,
                           (long long)rg->end - 1, (long long)ctx->length);
    mg_http_add_header_out(r, "Content-Range", 13, cr, strlen(cr));
    r->headers_out.content_length_n = rg->end - rg->start;
}

static void set_multipart(mg_request_t *r, range_ctx_t *ctx)
{
    mg_http_headers_out_t *ho = &r->headers_out;
    unsigned long boundary = ++boundary_counter;
    /* each part: CRLF "--B" CRLF [Content-Type CRLF] "Content-Range: bytes S-E/L" CRLF CRLF */
    char *type;
    if (ho->content_type.len && ho->charset.len) {
        type = mg_psprintf(r->pool, "Content-Type: %.*s; charset=%.*s\r\n",
                           (int)ho->content_type.len, ho->content_type.data,
                           (int)ho->charset.len, ho->charset.data);
    } else if (ho->content_type.len) {
        type = mg_psprintf(r->pool, "Content-Type: %.*s\r\n", (int)ho->content_type.len,
                           ho->content_type.data);
    } else {
        type = "";
    }
    off_t total = 0;
    for (size_t i = 0; i < ctx->nranges; i++) {
        range_t *rg = &ctx->ranges[i];
        char *h = mg_psprintf(r->pool, "\r\n--%020lu\r\n%sContent-Range: bytes %lld-%lld/%lld\r\n\r\n",
                              boundary, type, (long long)rg->start, (long long)rg->end - 1,
                              (long long)ctx->length);
        rg->header.data = h;
        rg->header.len = strlen(h);
        total += (off_t)rg->header.len + (rg->end - rg->start);
    }
    char *closing = mg_psprintf(r->pool, "\r\n--%020lu--\r\n", boundary);
    ctx->boundary_end.data = closing;
    ctx->boundary_end.len = strlen(closing);
    total += (off_t)ctx->boundary_end.len;
    char *ct = mg_psprintf(r->pool, "multipart/byteranges; boundary=%020lu", boundary);
    ho->content_type.data = ct;
    ho->content_type.len = strlen(ct);
    ho->charset.len = 0;
    ho->content_length_n = total;
    ctx->multipart = 1;
}

static mg_int_t range_header_filter(mg_request_t *r)
{
    mg_http_headers_out_t *ho = &r->headers_out;
    if (ho->status != MG_HTTP_OK || !r->allow_ranges || ho->content_length_n < 0 || r->http_09 ||
        r->parent) {
        return next_header_filter(r);
    }
    range_conf_t *rc = mg_http_get_loc_conf(r, mg_range_module);
    if (rc->max_ranges == 0) {
        return next_header_filter(r); /* ranges off: not even Accept-Ranges */
    }
    mg_table_elt_t *h = r->headers_in.range;
    if (h && h->value.len >= 7 && mg_strncasecmp(h->value.data, "bytes=", 6) == 0 &&
        if_range_holds(r)) {
        range_ctx_t *ctx = mg_pcalloc(r->pool, sizeof(range_ctx_t));
        ctx->length = ho->content_length_n;
        ctx->offset = ho->content_offset; /* a body that starts further in (slice) */
        mg_http_set_ctx(r, ctx, mg_range_module);
        switch (parse_ranges(r, ctx, h->value.data + 6, h->value.data + h->value.len,
                             rc->max_ranges)) {
        case PARSE_OK:
            if (ctx->nranges > 1 && r->single_range) {
                break;
            }
            ctx->active = 1;
            ho->status = MG_HTTP_PARTIAL_CONTENT;
            ho->status_line.len = 0;
            if (ctx->nranges == 1) {
                set_single(r, ctx);
            } else {
                set_multipart(r, ctx);
            }
            return next_header_filter(r);
        case PARSE_UNSATISFIABLE: {
            /* the 416 page tells the entity's size: the line goes in now, before the page's
             * own pass through the filters adds theirs (nginx's order) */
            char *cr = mg_psprintf(r->pool, "bytes */%lld", (long long)ctx->length);
            mg_http_add_header_out(r, "Content-Range", 13, cr, strlen(cr));
            mg_http_clear_content_length(r);
            return MG_HTTP_RANGE_NOT_SATISFIABLE;
        }
        default:
            break;
        }
    }
    mg_http_add_header_out(r, "Accept-Ranges", 13, "bytes", 5);
    return next_header_filter(r);
}

/* A copy of the part of b that lies in [from, to) of the body; b starts at body offset at. */
static mg_buf_t *slice(mg_request_t *r, mg_buf_t *b, off_t at, off_t from, off_t to)
{
    off_t size = (off_t)mg_buf_size(b);
    off_t lo = from > at ? from : at;
    off_t hi = to < at + size ? to : at + size;
    if (lo >= hi) {
        return NULL;
    }
    mg_buf_t *s = mg_palloc(r->pool, sizeof(mg_buf_t));
    *s = *b;
    s->next = NULL;
    s->last_buf = 0;
    if (b->in_file) {
        s->file_pos = b->file_pos + (lo - at);
        s->file_last = s->file_pos + (hi - lo);
    } else {
        s->pos = b->pos + (lo - at);
        s->last = s->pos + (hi - lo);
    }
    return s;
}

static mg_int_t single_body(mg_request_t *r, range_ctx_t *ctx, mg_buf_t *in)
{
    if (ctx->done) {
        return in ? MG_OK : next_body_filter(r, NULL); /* what follows the range is dropped */
    }
    range_t *rg = &ctx->ranges[0];
    mg_buf_t *out = NULL, **tail = &out, *l = NULL; /* l: out's last buffer */
    int last = 0;
    for (mg_buf_t *b = in; b; b = b->next) {
        off_t at = ctx->offset;
        ctx->offset += (off_t)mg_buf_size(b);
        last |= b->last_buf;
        mg_buf_t *s = slice(r, b, at, rg->start, rg->end);
        if (s) {
            *tail = l = s;
            tail = &s->next;
        }
        if (ctx->offset >= rg->end) {
            ctx->done = 1;
            break;
        }
    }
    if (ctx->done && l) {
        /* the end on the range's last piece, as nginx, so a body filter after this one sees
         * the last bytes with the end in one call */
        l->last_buf = 1;
    } else if (ctx->done || last) {
        mg_buf_t *e = mg_buf_mem(r->pool, "", 0);
        e->last_buf = 1;
        *tail = e;
        ctx->done = 1;
    }
    return next_body_filter(r, out);
}

static mg_int_t multipart_body(mg_request_t *r, range_ctx_t *ctx, mg_buf_t *in)
{
    if (in == NULL || ctx->done) {
        return in ? MG_OK : next_body_filter(r, NULL);
    }
    /* the parts may come in any order: the whole body must be here (a static file is one
     * buffer), as nginx requires */
    int last = 0;
    for (mg_buf_t *b = in; b; b = b->next) {
        last |= b->last_buf;
    }
    if (ctx->offset != 0 || !last || (off_t)mg_chain_size(in) != ctx->length) {
        mg_log_error(MG_LOG_ALERT, &r->connection->log, 0,
                     "range in a response that is not one whole buffer");
        return MG_ERROR;
    }
    ctx->done = 1;
    mg_buf_t *out = NULL, **tail = &out;
    for (size_t i = 0; i < ctx->nranges; i++) {
        range_t *rg = &ctx->ranges[i];
        mg_buf_t *h = mg_buf_mem(r->pool, rg->header.data, rg->header.len);
        *tail = h;
        tail = &h->next;
        off_t at = 0;
        for (mg_buf_t *b = in; b; b = b->next) {
            mg_buf_t *s = slice(r, b, at, rg->start, rg->end);
            at += (off_t)mg_buf_size(b);
            if (s) {
                *tail = s;
                tail = &s->next;
            }
        }
    }
    mg_buf_t *e = mg_buf_mem(r->pool, ctx->boundary_end.data, ctx->boundary_end.len);
    e->last_buf = 1;
    *tail = e;
    return next_body_filter(r, out);
}

static mg_int_t range_body_filter(mg_request_t *r, mg_buf_t *in)
{
    range_ctx_t *ctx = mg_http_get_ctx(r, mg_range_module);
    if (ctx == NULL || !ctx->active || r->header_only) {
        return next_body_filter(r, in);
    }
    return ctx->multipart ? multipart_body(r, ctx, in) : single_body(r, ctx, in);
}

static void *range_create_conf(mg_conf_t *cf)
{
    range_conf_t *rc = mg_pcalloc(cf->pool, sizeof(range_conf_t));
    rc->max_ranges = MG_CONF_UNSET;
    return rc;
}

static const char *range_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    range_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->max_ranges, prev->max_ranges, 0x7fffffff);
    return MG_CONF_OK;
}

static void range_init_header_filter(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_range_module, NULL, range_header_filter, NULL);
}

static void range_init_body_filter(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_range_body_module, NULL, NULL, range_body_filter);
}

static const mg_command_t range_commands[] = {
    { "max_ranges", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_num, MG_LOC_CONF,
      offsetof(range_conf_t, max_ranges), NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

mg_module_t mg_range_module = {
    .name = "range",
    .commands = range_commands,
    .defaults = range_defaults,
    .create_loc_conf = range_create_conf,
    .merge_loc_conf = range_merge_conf,
    .init_filters = range_init_header_filter,
};

/* The body filter's place in the chain (modules.c); its state is mg_range_module's ctx. */
mg_module_t mg_range_body_module = {
    .name = "range_body",
    .init_filters = range_init_body_filter,
};
