/*
 * headers_more: OpenResty's headers-more-nginx-module. more_set_headers and more_clear_headers
 * change the response's header lines in a header filter (filtered by status, -s, and by the
 * type before its parameters, -t), built-in ones (Server, Date, Content-Type, Content-Length,
 * Last-Modified, Location, ETag, Content-Encoding) through the fields the serializer reads;
 * more_set_input_headers and more_clear_input_headers change the request's at the end of the
 * rewrite phase (-r: only replace lines that exist; -t: by the request's Content-Type). A
 * name ending in '*' (clearing only) matches every name it starts. A level inherits the
 * directives of the levels around it, which run first.
 */
#include "http.h"
#include "script.h"

typedef struct {
    mg_str_t name;
    mg_http_complex_value_t value;
    unsigned clear : 1;    /* no value: remove */
    unsigned wildcard : 1; /* name ends in '*': every name it starts */
} hm_header_t;

typedef struct {
    mg_array_t headers;        /* hm_header_t */
    mg_array_t *statuses;      /* mg_uint_t; NULL: any */
    mg_array_t *types;         /* mg_str_t; NULL: any */
    unsigned replace_only : 1; /* -r */
} hm_cmd_t;

typedef struct {
    mg_array_t *out; /* hm_cmd_t, the enclosing levels' first */
    mg_array_t *in;
} hm_conf_t;

mg_module_t mg_headers_more_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_headers_more_module);
}

static int same_name(const hm_header_t *h, mg_str_t key)
{
    if (h->wildcard) {
        return key.len >= h->name.len && mg_strncasecmp(key.data, h->name.data, h->name.len) == 0;
    }
    return key.len == h->name.len && mg_strncasecmp(key.data, h->name.data, h->name.len) == 0;
}

/* The response's type is compared without its parameters, the request's Content-Type whole
 * (as headers-more: "text/plain; charset=utf-8" is not "text/plain" there). */
static int type_matches(const hm_cmd_t *cmd, mg_str_t type, int whole)
{
    if (cmd->types == NULL) {
        return 1;
    }
    for (size_t i = 0; i < type.len && !whole; i++) {
        if (type.data[i] == ';' || type.data[i] == ' ') {
            type.len = i;
            break;
        }
    }
    mg_str_t *t = cmd->types->elts;
    for (size_t i = 0; i < cmd->types->nelts; i++) {
        if (t[i].len == type.len && mg_strncasecmp(t[i].data, type.data, type.len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- output headers ---- */

/* Remove the lines of that name; keep the first one's slot for value when given. */
static mg_table_elt_t *replace_out(mg_request_t *r, const hm_header_t *h, mg_str_t *value)
{
    mg_table_elt_t *e = r->headers_out.headers.elts, *kept = NULL;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (!e[i].hash || !same_name(h, e[i].key)) {
            continue;
        }
        if (value && kept == NULL) {
            kept = &e[i];
            kept->value = *value;
        } else {
            e[i].hash = 0;
        }
    }
    return kept;
}

static mg_table_elt_t *set_out_line(mg_request_t *r, const hm_header_t *h, mg_str_t *value)
{
    mg_table_elt_t *e = replace_out(r, h, value);
    if (value && e == NULL) {
        e = mg_http_add_header_out(r, h->name.data, h->name.len, value->data, value->len);
    }
    return e;
}

static void set_output_header(mg_request_t *r, const hm_header_t *h, mg_str_t *value)
{
    mg_http_headers_out_t *ho = &r->headers_out;
    if (value && value->len == 0) {
        value = NULL; /* an empty value removes, as headers-more */
    }
    if (h->wildcard) {
        replace_out(r, h, NULL);
        if (mg_strncasecmp("content-type", h->name.data, h->name.len) == 0) {
            ho->content_type = (mg_str_t)mg_null_string;
            ho->charset = (mg_str_t)mg_null_string;
        }
        return;
    }
    if (mg_str_caseeq(h->name, "server") || mg_str_caseeq(h->name, "date")) {
        /* a line of that name, even removed, replaces the serializer's own */
        replace_out(r, h, NULL);
        mg_table_elt_t *e = mg_http_add_header_out(
            r, h->name.data, h->name.len, value ? value->data : "", value ? value->len : 0);
        if (value == NULL) {
            e->hash = 0;
        }
    } else if (mg_str_caseeq(h->name, "content-type")) {
        ho->content_type = value ? *value : (mg_str_t)mg_null_string;
        ho->charset = (mg_str_t)mg_null_string;
    } else if (mg_str_caseeq(h->name, "content-length")) {
        int64_t n = value ? mg_atoi(value->data, value->len) : -1;
        ho->content_length_n = n < 0 ? -1 : n;
        replace_out(r, h, NULL);
    } else if (mg_str_caseeq(h->name, "last-modified")) {
        replace_out(r, h, NULL);
        ho->last_modified_time = value ? mg_time_parse_http(value->data, value->len) : -1;
        if (value && ho->last_modified_time < 0) {
            set_out_line(r, h, value);
        }
    } else if (mg_str_caseeq(h->name, "location")) {
        mg_table_elt_t *e = set_out_line(r, h, value);
        ho->location = e && e->value.data[0] != '/' ? e : NULL;
    } else if (mg_str_caseeq(h->name, "etag")) {
        ho->etag = set_out_line(r, h, value);
    } else if (mg_str_caseeq(h->name, "content-encoding")) {
        ho->content_encoding = set_out_line(r, h, value);
    } else {
        set_out_line(r, h, value);
    }
}

static void run_output(mg_request_t *r, mg_array_t *cmds)
{
    hm_cmd_t *cmd = cmds->elts;
    for (size_t i = 0; i < cmds->nelts; i++) {
        if (cmd[i].statuses) {
            mg_uint_t *s = cmd[i].statuses->elts;
            size_t k = 0;
            while (k < cmd[i].statuses->nelts && s[k] != r->headers_out.status) {
                k++;
            }
            if (k == cmd[i].statuses->nelts) {
                continue;
            }
        }
        if (!type_matches(&cmd[i], r->headers_out.content_type, 0)) {
            continue;
        }
        hm_header_t *h = cmd[i].headers.elts;
        for (size_t j = 0; j < cmd[i].headers.nelts; j++) {
            mg_str_t v;
            if (!h[j].clear) {
                v = mg_http_complex_value(r, &h[j].value);
            }
            set_output_header(r, &h[j], h[j].clear ? NULL : &v);
        }
    }
}

static mg_int_t headers_more_filter(mg_request_t *r)
{
    hm_conf_t *conf = mg_http_get_loc_conf(r, mg_headers_more_module);
    if (conf->out) {
        run_output(r, conf->out);
    }
    return next_header_filter(r);
}

/* ---- input headers ---- */

static void set_input_header(mg_request_t *r, const hm_cmd_t *cmd, const hm_header_t *h,
                             mg_str_t *value)
{
    mg_array_t *a = &r->headers_in.headers;
    mg_table_elt_t *e = a->elts;
    size_t k = 0;
    int found = 0;
    for (size_t i = 0; i < a->nelts; i++) {
        if (same_name(h, e[i].key)) {
            if (value && !found) {
                found = 1;
                e[i].value = *value;
                e[i].hash = 1; /* no longer as parsed: $uri may hold CR LF */
                e[k++] = e[i];
            }
            continue;
        }
        e[k++] = e[i];
    }
    a->nelts = k;
    if (value && !found && !cmd->replace_only && !h->wildcard) {
        mg_table_elt_t *n = mg_array_push(a);
        n->key = h->name;
        n->value = *value;
        n->hash = 1;
    }
    mg_http_headers_in_refresh(r);
    mg_http_headers_in_t *hin = &r->headers_in;
    if (mg_str_caseeq(h->name, "host")) {
        mg_str_t server = mg_null_string;
        if (hin->host && mg_server_name_validate(r->pool, hin->host->value, &server) == MG_OK) {
            hin->server = server;
        }
    } else if (mg_str_caseeq(h->name, "content-length")) {
        hin->content_length_n = hin->content_length ? mg_atoi(hin->content_length->value.data,
                                                              hin->content_length->value.len)
                                                    : -1;
    } else if (mg_str_caseeq(h->name, "user-agent")) {
        hin->browser = 0; /* read again */
    }
}

static mg_int_t headers_more_input_handler(mg_request_t *r)
{
    hm_conf_t *conf = mg_http_get_loc_conf(r, mg_headers_more_module);
    if (conf->in == NULL) {
        return MG_DECLINED;
    }
    hm_cmd_t *cmd = conf->in->elts;
    for (size_t i = 0; i < conf->in->nelts; i++) {
        mg_str_t type = r->headers_in.content_type ? r->headers_in.content_type->value
                                                   : (mg_str_t)mg_null_string;
        if (!type_matches(&cmd[i], type, 1)) {
            continue;
        }
        hm_header_t *h = cmd[i].headers.elts;
        for (size_t j = 0; j < cmd[i].headers.nelts; j++) {
            mg_str_t v;
            if (!h[j].clear) {
                v = mg_http_complex_value(r, &h[j].value);
            }
            set_input_header(r, &cmd[i], &h[j], h[j].clear || v.len == 0 ? NULL : &v);
        }
    }
    return MG_DECLINED;
}

/* ---- configuration ---- */

static void *hm_create_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(hm_conf_t));
}

/* The enclosing levels' commands run first, then the level's own. */
static mg_array_t *merge_cmds(mg_conf_t *cf, mg_array_t *prev, mg_array_t *own)
{
    if (prev == NULL || prev->nelts == 0) {
        return own;
    }
    if (own == NULL) {
        return prev;
    }
    mg_array_t *all = mg_array_create(cf->pool, prev->nelts + own->nelts, sizeof(hm_cmd_t));
    for (size_t i = 0; i < prev->nelts; i++) {
        *(hm_cmd_t *)mg_array_push(all) = ((hm_cmd_t *)prev->elts)[i];
    }
    for (size_t i = 0; i < own->nelts; i++) {
        *(hm_cmd_t *)mg_array_push(all) = ((hm_cmd_t *)own->elts)[i];
    }
    return all;
}

static const char *hm_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    hm_conf_t *prev = parent, *conf = child;
    conf->out = merge_cmds(cf, prev->out, conf->out);
    conf->in = merge_cmds(cf, prev->in, conf->in);
    return MG_CONF_OK;
}

/* Words of a list option ("-s '404 500'", "-t 'text/html text/plain'"). */
static void split_words(mg_conf_t *cf, mg_str_t s, mg_array_t **list, int numbers, const char **err)
{
    if (*list == NULL) {
        *list = mg_array_create(cf->pool, 4, numbers ? sizeof(mg_uint_t) : sizeof(mg_str_t));
    }
    size_t i = 0;
    while (i < s.len) {
        while (i < s.len && (s.data[i] == ' ' || s.data[i] == '\t')) {
            i++;
        }
        size_t start = i;
        while (i < s.len && s.data[i] != ' ' && s.data[i] != '\t') {
            i++;
        }
        if (i == start) {
            break;
        }
        mg_str_t w = {i - start, s.data + start};
        if (numbers) {
            int64_t n = mg_atoi(w.data, w.len);
            if (n < 100 || n > 999) {
                *err = "has an invalid status code";
                return;
            }
            *(mg_uint_t *)mg_array_push(*list) = (mg_uint_t)n;
        } else {
            *(mg_str_t *)mg_array_push(*list) = w;
        }
    }
}

static const char *hm_set(mg_conf_t *cf, const mg_command_t *c, void *conf)
{
    hm_conf_t *hc = conf;
    int input = c->offset == offsetof(hm_conf_t, in);
    int clear = c->post != NULL;
    mg_array_t **list = input ? &hc->in : &hc->out;
    if (*list == NULL) {
        *list = mg_array_create(cf->pool, 2, sizeof(hm_cmd_t));
    }
    hm_cmd_t *cmd = mg_array_push(*list);
    memset(cmd, 0, sizeof(*cmd));
    mg_array_init(&cmd->headers, cf->pool, 2, sizeof(hm_header_t));
    const char *err = NULL;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        if (a.len >= 2 && a.data[0] == '-') {
            if (a.len == 2 && a.data[1] == 'r' && input) {
                cmd->replace_only = 1;
                continue;
            }
            if (a.data[1] == 's' && input) {
                mg_conf_error(cf, 0, "invalid option name: \"%.*s\"", (int)a.len, a.data);
                return MG_CONF_ERROR;
            }
            if (a.len == 2 && (a.data[1] == 's' || a.data[1] == 't') && i + 1 < cf->nargs) {
                split_words(cf, cf->args[++i], a.data[1] == 's' ? &cmd->statuses : &cmd->types,
                            a.data[1] == 's', &err);
                if (err) {
                    return err;
                }
                continue;
            }
            if (a.len > 2 && (a.data[1] == 's' || a.data[1] == 't')) {
                mg_str_t rest = {a.len - 2, a.data + 2};
                split_words(cf, rest, a.data[1] == 's' ? &cmd->statuses : &cmd->types,
                            a.data[1] == 's', &err);
                if (err) {
                    return err;
                }
                continue;
            }
            mg_conf_error(cf, 0, "invalid option name: \"%.*s\"", (int)a.len, a.data);
            return MG_CONF_ERROR;
        }
        hm_header_t *h = mg_array_push(&cmd->headers);
        memset(h, 0, sizeof(*h));
        const char *colon = memchr(a.data, ':', a.len);
        mg_str_t name = a, value = mg_null_string;
        if (colon) {
            name.len = (size_t)(colon - a.data);
            value.data = (char *)colon + 1;
            value.len = a.len - name.len - 1;
            while (value.len && (value.data[0] == ' ' || value.data[0] == '\t')) {
                value.data++;
                value.len--;
            }
        }
        while (name.len && (name.data[name.len - 1] == ' ' || name.data[name.len - 1] == '\t')) {
            name.len--;
        }
        if (name.len == 0) {
            mg_conf_error(cf, 0, "invalid header name: \"%.*s\"", (int)a.len, a.data);
            return MG_CONF_ERROR;
        }
        if (name.data[name.len - 1] == '*') {
            name.len--;
            h->wildcard = 1;
        }
        h->name = name;
        h->clear = clear || value.len == 0 || h->wildcard;
        if (!h->clear && mg_http_compile_complex_value(cf, value, &h->value) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    if (cmd->headers.nelts == 0) {
        return "requires at least one header";
    }
    return MG_CONF_OK;
}

static mg_int_t hm_init(mg_conf_t *cf)
{
    /* at the end of the rewrite phase, before rewrite_by_lua (lua's init runs after ours) */
    mg_http_add_phase_handler_last(cf, MG_HTTP_REWRITE_PHASE, headers_more_input_handler);
    return MG_OK;
}

static int filter_used(const void *loc_conf)
{
    const hm_conf_t *conf = loc_conf;
    return conf->out != NULL;
}

static void hm_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_headers_more_module, filter_used, headers_more_filter, NULL);
}

#define HM_CTX (MG_HTTP_ANY_LOC | MG_CTX_LIF)

static const mg_command_t hm_commands[] = {
    {"more_set_headers", HM_CTX, MG_ARGS(1, MG_MANY), hm_set, MG_LOC_CONF, offsetof(hm_conf_t, out),
     NULL},
    {"more_clear_headers", HM_CTX, MG_ARGS(1, MG_MANY), hm_set, MG_LOC_CONF,
     offsetof(hm_conf_t, out), "clear"},
    {"more_set_input_headers", HM_CTX, MG_ARGS(1, MG_MANY), hm_set, MG_LOC_CONF,
     offsetof(hm_conf_t, in), NULL},
    {"more_clear_input_headers", HM_CTX, MG_ARGS(1, MG_MANY), hm_set, MG_LOC_CONF,
     offsetof(hm_conf_t, in), "clear"},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t hm_defaults[] = {
    {"more_set_headers", MG_NO_DEFAULT},
    {"more_clear_headers", MG_NO_DEFAULT},
    {"more_set_input_headers", MG_NO_DEFAULT},
    {"more_clear_input_headers", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_headers_more_module = {
    .name = "headers_more",
    .commands = hm_commands,
    .defaults = hm_defaults,
    .create_loc_conf = hm_create_conf,
    .merge_loc_conf = hm_merge_conf,
    .init = hm_init,
    .init_filters = hm_init_filters,
};
