/*
 * Conditional requests, the first header filter: a 200 response that has validators
 * (Last-Modified, ETag) is turned into 304 Not Modified for If-Modified-Since /
 * If-None-Match, or into 412 Precondition Failed for If-Unmodified-Since / If-Match, with
 * nginx's rules ("if_modified_since off|exact|before"). Not for an upstream's response: the
 * client's conditions went to the upstream, which answered them (nginx without a cache).
 */
#include "http.h"
#include "upstream_io.h"

enum { IMS_OFF, IMS_EXACT, IMS_BEFORE };

typedef struct {
    mg_int_t if_modified_since;
} not_modified_conf_t;

mg_module_t mg_not_modified_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_not_modified_module);
}

/* Whether the entity changed since the If-Modified-Since date (1 = send it whole). */
static int modified_since(mg_request_t *r, not_modified_conf_t *nc)
{
    time_t lm = r->headers_out.last_modified_time;
    if (lm == -1 || nc->if_modified_since == IMS_OFF) {
        return 1;
    }
    mg_table_elt_t *h = r->headers_in.if_modified_since;
    time_t ims = mg_time_parse_http(h->value.data, h->value.len);
    if (ims == lm) {
        return 0;
    }
    /* "before": a client copy newer than the file is still current; a bad date is -1 */
    return nc->if_modified_since == IMS_EXACT || ims < lm;
}

/* If-Unmodified-Since holds when the entity is not newer than the date. An entity
 * without Last-Modified fails it, as in nginx. */
static int unmodified_since(mg_request_t *r)
{
    time_t lm = r->headers_out.last_modified_time;
    if (lm == -1) {
        return 0;
    }
    mg_table_elt_t *h = r->headers_in.if_unmodified_since;
    time_t iums = mg_time_parse_http(h->value.data, h->value.len);
    return iums != -1 && iums >= lm;
}

/* Whether the response's ETag is in the header's list ("*" matches anything). weak: If-None-Match's weak comparison, where "W/" on either side is ignored. */
static int etag_matches(mg_request_t *r, mg_table_elt_t *h, int weak)
{
    const char *p = h->value.data, *end = p + h->value.len;
    if (h->value.len == 1 && p[0] == '*') {
        return 1; /* nginx: even for a response without an ETag */
    }
    if (r->headers_out.etag == NULL || r->headers_out.etag->hash == 0) {
        return 0;
    }
    mg_str_t etag = r->headers_out.etag->value;
    if (weak && etag.len > 2 && etag.data[0] == 'W' && etag.data[1] == '/') {
        etag.data += 2;
        etag.len -= 2;
    }
    while (p < end) {
        if (weak && end - p > 2 && p[0] == 'W' && p[1] == '/') {
            p += 2;
        }
        if ((size_t)(end - p) >= etag.len && memcmp(p, etag.data, etag.len) == 0) {
            const char *q = p + etag.len;
            while (q < end && (*q == ' ' || *q == '\t')) {
                q++;
            }
            if (q == end || *q == ',') {
                return 1;
            }
        }
        /* on to the next list member */
        while (p < end && *p != ',') {
            p++;
        }
        while (p < end && (*p == ',' || *p == ' ' || *p == '\t')) {
            p++;
        }
    }
    return 0;
}

static mg_int_t not_modified_filter(mg_request_t *r)
{
    mg_http_headers_in_t *hi = &r->headers_in;
    /* the request's validators first: most requests have none, and mg_upstream_responds asks
     * each upstream module for its exchange (~100 instructions) */
    if ((!hi->if_unmodified_since && !hi->if_match && !hi->if_modified_since &&
         !hi->if_none_match) ||
        r->headers_out.status != MG_HTTP_OK || r->parent || mg_upstream_responds(r)) {
        return next_header_filter(r);
    }
    if (hi->if_unmodified_since && !unmodified_since(r)) {
        return MG_HTTP_PRECONDITION_FAILED;
    }
    if (hi->if_match && !etag_matches(r, hi->if_match, 0)) {
        return MG_HTTP_PRECONDITION_FAILED;
    }
    if (hi->if_modified_since || hi->if_none_match) {
        not_modified_conf_t *nc = mg_http_get_loc_conf(r, mg_not_modified_module);
        if (hi->if_modified_since && modified_since(r, nc)) {
            return next_header_filter(r);
        }
        if (hi->if_none_match && !etag_matches(r, hi->if_none_match, 1)) {
            return next_header_filter(r);
        }
        /* the validators stay (Last-Modified, ETag); the body and its description go */
        r->headers_out.status = MG_HTTP_NOT_MODIFIED;
        r->headers_out.status_line.len = 0;
        r->headers_out.content_type.len = 0;
        r->headers_out.charset.len = 0;
        mg_http_clear_content_length(r);
        r->allow_ranges = 0; /* no Accept-Ranges either */
        if (r->headers_out.content_encoding) {
            r->headers_out.content_encoding->hash = 0;
            r->headers_out.content_encoding = NULL;
        }
    }
    return next_header_filter(r);
}

static void *not_modified_create_conf(mg_conf_t *cf)
{
    not_modified_conf_t *nc = mg_pcalloc(cf->pool, sizeof(not_modified_conf_t));
    nc->if_modified_since = MG_CONF_UNSET;
    return nc;
}

static const char *not_modified_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    not_modified_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->if_modified_since, prev->if_modified_since, IMS_EXACT);
    return MG_CONF_OK;
}

static void not_modified_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_not_modified_module, NULL, not_modified_filter, NULL);
}

static const mg_conf_enum_t ims_values[] = {
    { "off", IMS_OFF },
    { "exact", IMS_EXACT },
    { "before", IMS_BEFORE },
    { NULL, 0 },
};

static const mg_command_t not_modified_commands[] = {
    { "if_modified_since", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_enum, MG_LOC_CONF,
      offsetof(not_modified_conf_t, if_modified_since), ims_values },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

mg_module_t mg_not_modified_module = {
    .name = "not_modified",
    .commands = not_modified_commands,
    .create_loc_conf = not_modified_create_conf,
    .merge_loc_conf = not_modified_merge_conf,
    .init_filters = not_modified_init_filters,
};
