/*
 * MIME type lists of the text filters and the response-head helpers they share (see
 * filter_types.h).
 */
#include "filter_types.h"

static void push_type(mg_conf_t *cf, mg_array_t *a, mg_str_t v, int warn)
{
    mg_str_t *t = a->elts;
    for (size_t k = 0; k < a->nelts; k++) {
        if (mg_str_eq_str(t[k], v)) {
            if (warn) {
                mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate MIME type \"%.*s\"", (int)v.len, v.data);
            }
            return;
        }
    }
    *(mg_str_t *)mg_array_push(a) = v;
}

const char *mg_filter_types_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_filter_types_t *ft = (mg_filter_types_t *)((char *)conf + cmd->offset);
    if (ft->types == NULL) {
        /* a second directive at the same level adds to the first, as in nginx */
        ft->types = mg_array_create(cf->pool, 4, sizeof(mg_str_t));
        push_type(cf, ft->types, (mg_str_t)mg_string("text/html"), 0);
    }
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t v = cf->args[i];
        if (v.len == 1 && v.data[0] == '*') {
            ft->any = 1;
            continue;
        }
        char *low = mg_pnalloc(cf->pool, v.len + 1);
        mg_strlow(low, v.data, v.len);
        low[v.len] = '\0';
        push_type(cf, ft->types, (mg_str_t){v.len, low}, 1);
    }
    return MG_CONF_OK;
}

void mg_filter_types_merge(mg_conf_t *cf, mg_filter_types_t *conf, mg_filter_types_t *prev,
                           const char *const *defaults)
{
    if (conf->types || conf->any) {
        return;
    }
    if (prev->types || prev->any) {
        *conf = *prev;
        return;
    }
    /* the defaults are made once, at the level that has no parent, and inherited from there */
    conf->types = mg_array_create(cf->pool, 4, sizeof(mg_str_t));
    push_type(cf, conf->types, (mg_str_t)mg_string("text/html"), 0);
    for (; defaults && *defaults; defaults++) {
        push_type(cf, conf->types, (mg_str_t){strlen(*defaults), (char *)*defaults}, 0);
    }
    *prev = *conf;
}

int mg_filter_types_test(mg_request_t *r, mg_filter_types_t *t)
{
    mg_str_t ct = r->headers_out.content_type;
    if (ct.len == 0) {
        return 0;
    }
    if (t->any) {
        return 1;
    }
    size_t len = 0;
    while (len < ct.len && ct.data[len] != ';' && ct.data[len] != ' ') {
        len++;
    }
    mg_str_t *v = t->types->elts;
    for (size_t i = 0; i < t->types->nelts; i++) {
        if (v[i].len == len && mg_strncasecmp(v[i].data, ct.data, len) == 0) {
            return 1;
        }
    }
    return 0;
}

void mg_filter_weak_etag(mg_request_t *r)
{
    mg_table_elt_t *etag = r->headers_out.etag;
    if (etag == NULL || !etag->hash) {
        return;
    }
    if (etag->value.len > 2 && etag->value.data[0] == 'W' && etag->value.data[1] == '/') {
        return;
    }
    if (etag->value.len < 1 || etag->value.data[0] != '"') {
        mg_filter_clear_etag(r);
        return;
    }
    char *p = mg_pnalloc(r->pool, etag->value.len + 2);
    p[0] = 'W';
    p[1] = '/';
    memcpy(p + 2, etag->value.data, etag->value.len);
    etag->value.data = p;
    etag->value.len += 2;
}

void mg_filter_clear_etag(mg_request_t *r)
{
    if (r->headers_out.etag) {
        r->headers_out.etag->hash = 0;
        r->headers_out.etag = NULL;
    }
}
