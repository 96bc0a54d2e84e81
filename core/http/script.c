/*
 * Complex values: compile "text $var ${var}text $1" into parts, evaluate per request.
 */
#include "script.h"
#include "parse.h"
#include "variables.h"

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

mg_uint_t mg_http_script_variables_count(mg_str_t s)
{
    mg_uint_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.data[i] == '$') {
            n++;
        }
    }
    return n;
}

mg_int_t mg_http_script_var_ref(mg_conf_t *cf, mg_str_t src, size_t *pos)
{
    size_t i = *pos;
    mg_str_t name;
    if (i < src.len && src.data[i] == '{') {
        size_t start = ++i;
        while (i < src.len && is_name_char(src.data[i])) {
            i++;
        }
        if (i >= src.len || src.data[i] != '}') {
            mg_conf_error(cf, 0, "the closing bracket in \"%.*s\" variable is missing",
                          (int)(i - start), src.data + start);
            return MG_ERROR;
        }
        name.data = src.data + start;
        name.len = i - start;
        i++;
    } else {
        size_t start = i;
        while (i < src.len && is_name_char(src.data[i])) {
            i++;
        }
        name.data = src.data + start;
        name.len = i - start;
    }
    if (name.len == 0) {
        mg_conf_error(cf, 0, "invalid variable name");
        return MG_ERROR;
    }
    *pos = i;
    return mg_http_get_variable_index(cf, name);
}

mg_int_t mg_http_compile_complex_value(mg_conf_t *cf, mg_str_t src, mg_http_complex_value_t *cv)
{
    memset(cv, 0, sizeof(*cv));
    cv->value = src;
    if (mg_http_script_variables_count(src) == 0) {
        return MG_OK;
    }
    mg_array_t parts;
    mg_array_init(&parts, cf->pool, 4, sizeof(mg_http_cv_part_t));
    size_t i = 0;
    while (i < src.len) {
        if (src.data[i] != '$') {
            size_t start = i;
            while (i < src.len && src.data[i] != '$') {
                i++;
            }
            mg_http_cv_part_t *p = mg_array_push(&parts);
            p->index = -1;
            p->literal.data = src.data + start;
            p->literal.len = i - start;
            continue;
        }
        i++;
        if (i < src.len && src.data[i] >= '1' && src.data[i] <= '9') {
            /* $1..$9: one digit, so "$10" is capture 1 then "0" as nginx reads it; only
             * this spelling is a capture: "${1}" and "$0" are unknown variables there */
            mg_http_cv_part_t *p = mg_array_push(&parts);
            p->index = -1;
            p->capture = src.data[i] - '0';
            i++;
            continue;
        }
        mg_int_t index = mg_http_script_var_ref(cf, src, &i);
        if (index < 0) {
            return MG_ERROR;
        }
        mg_http_cv_part_t *p = mg_array_push(&parts);
        p->index = index;
    }
    cv->parts = parts.elts;
    cv->nparts = parts.nelts;
    return MG_OK;
}

/* nginx's quoted_uri or plus_in_uri: the client's path (before '?') had a '%' or a '+'; a
 * subrequest's has neither */
static int path_quoted(mg_request_t *r)
{
    if (r->parent) {
        return 0;
    }
    for (size_t i = 0; i < r->unparsed_uri.len && r->unparsed_uri.data[i] != '?'; i++) {
        if (r->unparsed_uri.data[i] == '%' || r->unparsed_uri.data[i] == '+') {
            return 1;
        }
    }
    return 0;
}

static mg_str_t evaluate(mg_request_t *r, mg_http_complex_value_t *cv, int escape);

mg_str_t mg_http_complex_value(mg_request_t *r, mg_http_complex_value_t *cv)
{
    return evaluate(r, cv, 0);
}

mg_str_t mg_http_complex_value_args(mg_request_t *r, mg_http_complex_value_t *cv)
{
    return evaluate(r, cv, path_quoted(r));
}

static mg_str_t evaluate(mg_request_t *r, mg_http_complex_value_t *cv, int escape)
{
    if (cv->nparts == 0) {
        return cv->value;
    }
    if (cv->nparts == 1 && cv->parts[0].index >= 0) {
        /* one variable alone (a limit's key, "$host"): evaluated once, copied as below */
        mg_http_var_value_t *v = mg_http_get_flushed_variable(r, (mg_uint_t)cv->parts[0].index);
        size_t len = v && !v->not_found ? v->value.len : 0;
        mg_str_t out = {len, mg_pstrdup(r->pool, len ? v->value.data : NULL, len)};
        return out;
    }
    /* Non-cacheable values are dropped once, then every variable is evaluated before
     * anything is measured: one may run a regex (a map's) and so replace the captures,
     * which are therefore read only afterwards, for the size and the copy alike (nginx's
     * copy sees them so too). A variable named twice has one value. */
    for (size_t i = 0; i < cv->nparts; i++) {
        if (cv->parts[i].index >= 0) {
            mg_http_var_value_t *v = &r->variables[cv->parts[i].index];
            if (v->no_cacheable) {
                v->valid = 0;
                v->not_found = 0;
            }
        }
    }
    for (size_t i = 0; i < cv->nparts; i++) {
        if (cv->parts[i].index >= 0) {
            mg_http_get_indexed_variable(r, (mg_uint_t)cv->parts[i].index);
        }
    }
    size_t len = 0;
    for (size_t i = 0; i < cv->nparts; i++) {
        mg_http_cv_part_t *p = &cv->parts[i];
        if (p->capture) {
            mg_str_t c;
            mg_http_capture(r, p->capture, &c);
            len += escape ? mg_http_escape(c.data, c.len, NULL, MG_ESCAPE_ARGS) : c.len;
        } else if (p->index < 0) {
            len += p->literal.len;
        } else {
            mg_http_var_value_t *v = mg_http_get_indexed_variable(r, (mg_uint_t)p->index);
            if (v && !v->not_found) {
                len += v->value.len;
            }
        }
    }
    char *buf = mg_pnalloc(r->pool, len + 1);
    char *d = buf;
    for (size_t i = 0; i < cv->nparts; i++) {
        mg_http_cv_part_t *p = &cv->parts[i];
        if (p->capture) {
            mg_str_t c;
            mg_http_capture(r, p->capture, &c);
            if (escape) {
                d += mg_http_escape(c.data, c.len, d, MG_ESCAPE_ARGS);
            } else {
                memcpy(d, c.data, c.len);
                d += c.len;
            }
        } else if (p->index < 0) {
            memcpy(d, p->literal.data, p->literal.len);
            d += p->literal.len;
        } else {
            mg_http_var_value_t *v = mg_http_get_indexed_variable(r, (mg_uint_t)p->index);
            if (v && !v->not_found && v->value.len) {
                memcpy(d, v->value.data, v->value.len);
                d += v->value.len;
            }
        }
    }
    *d = '\0';
    mg_str_t out = {(size_t)(d - buf), buf};
    return out;
}
