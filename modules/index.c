/*
 * "index": for a URI ending in "/", redirect internally to the first index file that
 * exists (the last may be an absolute URI used as a fallback), as nginx's index module.
 */

#include "http.h"
#include "script.h"

typedef struct {
    mg_array_t *indices; /* mg_http_complex_value_t */
} index_conf_t;

mg_module_t mg_index_module;

static void *index_create_conf(mg_conf_t *cf)
{
    index_conf_t *ic = mg_pcalloc(cf->pool, sizeof(index_conf_t));
    return ic;
}

static const char *index_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    index_conf_t *prev = parent, *conf = child;
    if (conf->indices == NULL) {
        conf->indices = prev->indices;
    }
    if (conf->indices == NULL) {
        conf->indices = mg_array_create(cf->pool, 1, sizeof(mg_http_complex_value_t));
        mg_http_complex_value_t *cv = mg_array_push(conf->indices);
        mg_str_t def = mg_string("index.html");
        cv->value = def;
    }
    return MG_CONF_OK;
}

static const char *index_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    index_conf_t *ic = conf;
    if (ic->indices == NULL) {
        ic->indices = mg_array_create(cf->pool, 2, sizeof(mg_http_complex_value_t));
    }
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t v = cf->args[i];
        if (v.len && v.data[0] == '/' && i != cf->nargs - 1) {
            /* nginx warns and keeps it: the handler redirects to it when it is reached */
            mg_conf_log(cf, MG_LOG_WARN, 0,
                        "only the last index in \"index\" directive should be absolute");
        }
        if (v.len == 0) {
            mg_conf_error(cf, 0, "index \"%s\" in \"index\" directive is invalid", v.data);
            return MG_CONF_ERROR;
        }
        mg_http_complex_value_t *cv = mg_array_push(ic->indices);
        if (mg_http_compile_complex_value(cf, v, cv) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

/* nginx's answers for an index file (or its directory) that cannot be had */
static mg_int_t index_error(mg_request_t *r, mg_str_t path, int err)
{
    if (err == EACCES) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, err, "\"%s\" is forbidden", path.data);
        return MG_HTTP_FORBIDDEN;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (clcf->log_not_found) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, err, "\"%s\" is not found", path.data);
    }
    return MG_HTTP_NOT_FOUND;
}

static mg_int_t index_handler(mg_request_t *r)
{
    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] != '/') {
        return MG_DECLINED;
    }
    if (r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD && r->method != MG_HTTP_POST) {
        return MG_DECLINED;
    }
    index_conf_t *ic = mg_http_get_loc_conf(r, mg_index_module);
    mg_http_complex_value_t *cv = ic->indices->elts;
    int dir_checked = 0;
    for (size_t i = 0; i < ic->indices->nelts; i++) {
        mg_str_t name;
        name = mg_http_complex_value(r, &cv[i]);
        if (name.len && name.data[0] == '/') {
            /* an absolute last index is an internal redirect whether or not it exists */
            mg_str_t uri = mg_pstr(r->pool, name.data, name.len);
            mg_str_t args = r->args;
            return mg_http_internal_redirect(r, uri, &args);
        }
        mg_str_t path;
        size_t root_len;
        if (mg_http_map_uri_to_path(r, &path, &root_len, name.len) == NULL) {
            return MG_HTTP_INTERNAL_SERVER_ERROR;
        }
        memcpy(path.data + path.len, name.data, name.len);
        path.data[path.len + name.len] = '\0';
        path.len += name.len;
        /* opened as static opens files: the cache and disable_symlinks apply */
        mg_http_open_file_t of;
        if (mg_http_open_file(r, path, &of) != MG_OK) {
            int err = of.err;
            if (err == ENOENT && !dir_checked) {
                /* a missing index file is the next one's turn, a missing directory is not */
                dir_checked = 1;
                mg_str_t dir = mg_pstr(r->pool, path.data, path.len - name.len);
                mg_http_open_file_t dof;
                if (mg_http_open_file(r, dir, &dof) != MG_OK && dof.err != EMLINK &&
                    dof.err != ELOOP) {
                    return index_error(r, path, dof.err);
                }
            }
            if (err == ENOENT) {
                continue;
            }
            if (err == ENOTDIR || err == ENAMETOOLONG || err == EACCES) {
                return index_error(r, path, err);
            }
            mg_log_error(err == ELOOP || err == EMLINK ? MG_LOG_ERR : MG_LOG_CRIT,
                         &r->connection->log, err, "%s \"%s\" failed", of.failed, path.data);
            return err == ELOOP || err == EMLINK ? MG_HTTP_FORBIDDEN
                                                 : MG_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (of.is_dir) {
            continue;
        }
        size_t len = r->uri.len + name.len;
        char *uri = mg_pnalloc(r->pool, len + 1);
        memcpy(uri, r->uri.data, r->uri.len);
        memcpy(uri + r->uri.len, name.data, name.len);
        uri[len] = '\0';
        mg_str_t nuri = { len, uri };
        mg_str_t args = r->args;
        return mg_http_internal_redirect(r, nuri, &args);
    }
    return MG_DECLINED;
}

static mg_int_t index_init(mg_conf_t *cf)
{
    mg_http_add_phase_handler(cf, MG_HTTP_CONTENT_PHASE, index_handler);
    return MG_OK;
}

static const mg_command_t index_commands[] = {
    { "index", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), index_set, MG_LOC_CONF, 0, NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t index_defaults[] = {
    {"index", "index.html"},
    {0},
};

mg_module_t mg_index_module = {
    .name = "index",
    .commands = index_commands,
    .defaults = index_defaults,
    .create_loc_conf = index_create_conf,
    .merge_loc_conf = index_merge_conf,
    .init = index_init,
};
