/*
 * The CGI variables of FastCGI, uwsgi and SCGI requests (see cgi_params.h).
 */
#include "cgi_params.h"

const char *mg_cgi_set_param(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_array_t **a = (mg_array_t **)((char *)conf + cmd->offset);
    if (*a == NULL) {
        *a = mg_array_create(cf->pool, 16, sizeof(mg_cgi_param_t));
    }
    if (cf->nargs == 4 && !mg_str_eq(cf->args[3], "if_not_empty")) {
        mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)cf->args[3].len,
                      cf->args[3].data);
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
    mg_array_t *out = mg_array_create(r->pool, np + nh + 1, sizeof(mg_cgi_pair_t));
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
    for (size_t i = 0; i < nh; i++) {
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
