/*
 * "try_files file ... uri|=code|@name" in the precontent phase, as nginx: the first file
 * that exists (a name ending in "/" wants a directory) becomes the request's URI, in the
 * same location, for the content phase; otherwise the last parameter decides: an internal
 * redirect to a URI (with the args it carries), a named location, or a status code.
 * Not inherited by nested locations (nginx's rule).
 */
#include <sys/stat.h>

#include "http.h"
#include "script.h"

typedef struct {
    mg_http_complex_value_t name;
    unsigned test_dir : 1;
    unsigned has_vars : 1;
} try_file_t;

typedef struct {
    try_file_t *files; /* all but the last parameter */
    size_t nfiles;
    mg_http_complex_value_t fallback; /* the last: URI or @name, when code is 0 */
    mg_int_t code;                    /* "=404" */
} try_files_conf_t;

typedef struct {
    int used; /* some level has try_files: register the phase handler */
} try_files_main_conf_t;

mg_module_t mg_try_files_module;

static void *try_files_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(try_files_main_conf_t));
}

static void *try_files_create_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(try_files_conf_t));
}

static const char *try_files_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    try_files_conf_t *tc = conf;
    if (tc->files) {
        return "is duplicate";
    }
    try_files_main_conf_t *mc = mg_http_conf_get_main(cf, mg_try_files_module);
    mc->used = 1;
    tc->nfiles = cf->nargs - 2;
    tc->files = mg_pcalloc(cf->pool, tc->nfiles * sizeof(try_file_t));
    for (size_t i = 0; i < tc->nfiles; i++) {
        mg_str_t v = cf->args[i + 1];
        try_file_t *tf = &tc->files[i];
        if (v.len > 0 && v.data[v.len - 1] == '/') {
            tf->test_dir = 1;
            v.len--;
        }
        tf->has_vars = mg_http_script_variables_count(v) > 0;
        if (mg_http_compile_complex_value(cf, v, &tf->name) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    mg_str_t last = cf->args[cf->nargs - 1];
    if (last.len && last.data[0] == '=') {
        mg_int_t code = 0;
        size_t k = 1;
        for (; k < last.len && last.data[k] >= '0' && last.data[k] <= '9' && code <= 999; k++) {
            code = code * 10 + (last.data[k] - '0');
        }
        if (k == 1 || k != last.len || code > 999) {
            mg_conf_error(cf, 0, "invalid code \"%s\"", last.data);
            return MG_CONF_ERROR;
        }
        tc->code = code;
        return MG_CONF_OK;
    }
    if (mg_http_compile_complex_value(cf, last, &tc->fallback) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

/* Map the tried name under root/alias as nginx does: the name replaces the URI after the
 * root; with a prefix alias, a name that repeats the location's prefix loses it. */
static mg_int_t tried_path(mg_request_t *r, try_file_t *tf, mg_str_t name, mg_str_t *path,
                           size_t *root_len, size_t *alias_skip)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    *alias_skip = 0;
    if (clcf->alias && !clcf->regex && tf->has_vars) {
        size_t a = clcf->name.len;
        if (name.len >= a && r->uri.len >= a && memcmp(name.data, r->uri.data, a) == 0) {
            *alias_skip = a;
        }
    }
    if (mg_http_map_uri_to_path(r, path, root_len, name.len) == NULL) {
        return MG_ERROR;
    }
    size_t n = name.len - *alias_skip;
    memcpy(path->data + *root_len, name.data + *alias_skip, n);
    path->len = *root_len + n;
    path->data[path->len] = '\0';
    return MG_OK;
}

static mg_int_t try_files_handler(mg_request_t *r)
{
    try_files_conf_t *tc = mg_http_get_loc_conf(r, mg_try_files_module);
    if (tc->files == NULL) {
        return MG_DECLINED;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    for (size_t i = 0; i < tc->nfiles; i++) {
        try_file_t *tf = &tc->files[i];
        mg_str_t name, path;
        size_t root_len, alias_skip;
        name = mg_http_complex_value(r, &tf->name);
        if (tried_path(r, tf, name, &path, &root_len, &alias_skip) != MG_OK) {
            return MG_HTTP_INTERNAL_SERVER_ERROR;
        }
        struct stat st;
        if (stat(path.data, &st) != 0) {
            int err = errno;
            if (err != ENOENT && err != ENOTDIR && err != ENAMETOOLONG) {
                mg_log_error(MG_LOG_CRIT, &r->connection->log, err, "stat() \"%s\" failed",
                             path.data);
            }
            continue;
        }
        if ((S_ISDIR(st.st_mode) != 0) != tf->test_dir) {
            continue;
        }
        /* found: it is now the request's URI, in this same location */
        size_t keep = clcf->alias && !clcf->regex ? clcf->name.len : 0;
        if (keep > r->uri.len) {
            keep = r->uri.len;
        }
        size_t tail = path.len - root_len;
        if (!clcf->alias) {
            keep = 0;
        }
        /* a directory found as "$uri/" keeps nginx's form: "/dir" then gets the static
         * module's 301 to "/dir/", and "/dir/" goes to the index module */
        char *uri = mg_pnalloc(r->pool, keep + tail + 1);
        memcpy(uri, r->uri.data, keep);
        memcpy(uri + keep, path.data + root_len, tail);
        size_t len = keep + tail;
        uri[len] = '\0';
        r->uri.data = uri;
        r->uri.len = len;
        mg_http_set_exten(r);
        return MG_DECLINED;
    }
    if (tc->code) {
        return tc->code;
    }
    mg_str_t target;
    target = mg_http_complex_value(r, &tc->fallback);
    if (target.len && target.data[0] == '@') {
        return mg_http_named_location(r, target);
    }
    /* the fallback URI carries its own args ("/index.php?$args"); none means none */
    mg_str_t args = mg_null_string;
    char *q = memchr(target.data, '?', target.len);
    if (q) {
        args.data = q + 1;
        args.len = (size_t)(target.data + target.len - args.data);
        target.len = (size_t)(q - target.data);
    }
    return mg_http_internal_redirect(r, target, &args);
}

static mg_int_t try_files_init(mg_conf_t *cf)
{
    try_files_main_conf_t *mc = mg_http_conf_get_main(cf, mg_try_files_module);
    if (mc->used) {
        mg_http_add_phase_handler(cf, MG_HTTP_PRECONTENT_PHASE, try_files_handler);
    }
    return MG_OK;
}

static const mg_command_t try_files_commands[] = {
    { "try_files", MG_CTX_SERVER | MG_CTX_LOCATION, MG_ARGS(2, MG_MANY), try_files_set, MG_LOC_CONF,
      0, NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t try_files_defaults[] = {
    {"try_files", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_try_files_module = {
    .name = "try_files",
    .commands = try_files_commands,
    .defaults = try_files_defaults,
    .create_main_conf = try_files_create_main_conf,
    .create_loc_conf = try_files_create_conf,
    .init = try_files_init,
};
