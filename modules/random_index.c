/*
 * random_index (nginx's ngx_http_random_index_module): for a URI ending in "/", an internal
 * redirect to a file of the directory picked at random, before the index module looks. Names
 * starting with a dot are skipped; what counts is a regular file once symbolic links are
 * followed. A directory with none leaves the request to the index module.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "http.h"

typedef struct {
    int enable;
} random_index_conf_t;

typedef struct {
    int used;
} random_index_main_conf_t;

mg_module_t mg_random_index_module;

static mg_int_t random_index_handler(mg_request_t *r)
{
    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] != '/') {
        return MG_DECLINED;
    }
    random_index_conf_t *conf = mg_http_get_loc_conf(r, mg_random_index_module);
    if (!conf->enable) {
        return MG_DECLINED;
    }
    if (r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD && r->method != MG_HTTP_POST) {
        return MG_DECLINED;
    }
    mg_str_t path;
    size_t root_len;
    if (mg_http_map_uri_to_path(r, &path, &root_len, 0) == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    /* the directory, named without its trailing slash as nginx logs it */
    if (path.len > 1 && path.data[path.len - 1] == '/') {
        path.data[--path.len] = '\0';
    }
    DIR *dir = opendir(path.data);
    if (dir == NULL) {
        int err = errno;
        mg_int_t status = MG_HTTP_INTERNAL_SERVER_ERROR;
        int level = MG_LOG_CRIT;
        if (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) {
            status = MG_HTTP_NOT_FOUND;
            level = MG_LOG_ERR;
        } else if (err == EACCES) {
            status = MG_HTTP_FORBIDDEN;
            level = MG_LOG_ERR;
        }
        mg_log_error(level, &r->connection->log, err, "opendir() \"%s\" failed", path.data);
        return status;
    }
    mg_array_t *files = mg_array_create(r->pool, 16, sizeof(mg_str_t));
    mg_int_t rc = MG_OK;
    while (rc == MG_OK) {
        errno = 0;
        struct dirent *de = readdir(dir);
        if (de == NULL) {
            if (errno) {
                mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "readdir() \"%s\" failed",
                             path.data);
                rc = MG_HTTP_INTERNAL_SERVER_ERROR;
            }
            break;
        }
        if (de->d_name[0] == '.') {
            continue;
        }
        size_t nlen = strlen(de->d_name);
        if (de->d_type != DT_REG) {
            /* a link, or a file system that does not say: what it leads to counts */
            char *file = mg_psprintf(r->pool, "%s/%s", path.data, de->d_name);
            struct stat st;
            if (stat(file, &st) != 0) {
                if (errno == ENOENT) {
                    continue; /* a dangling link */
                }
                mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "stat() \"%s\" failed", file);
                rc = MG_HTTP_INTERNAL_SERVER_ERROR;
                break;
            }
            if (!S_ISREG(st.st_mode)) {
                continue;
            }
        }
        *(mg_str_t *)mg_array_push(files) = mg_pstr(r->pool, de->d_name, nlen);
    }
    closedir(dir);
    if (rc != MG_OK) {
        return rc;
    }
    if (files->nelts == 0) {
        return MG_DECLINED;
    }
    mg_str_t *name = (mg_str_t *)files->elts + arc4random_uniform((uint32_t)files->nelts);
    mg_str_t uri;
    uri.len = r->uri.len + name->len;
    uri.data = mg_pnalloc(r->pool, uri.len);
    memcpy(uri.data, r->uri.data, r->uri.len);
    memcpy(uri.data + r->uri.len, name->data, name->len);
    mg_str_t args = r->args;
    return mg_http_internal_redirect(r, uri, &args);
}

static void *random_index_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(random_index_main_conf_t));
}

static void *random_index_create_conf(mg_conf_t *cf)
{
    random_index_conf_t *rc = mg_pcalloc(cf->pool, sizeof(random_index_conf_t));
    rc->enable = MG_CONF_UNSET;
    return rc;
}

static const char *random_index_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    random_index_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->enable, prev->enable, 0);
    return MG_CONF_OK;
}

static const char *random_index_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const char *rv = mg_conf_set_flag(cf, cmd, conf);
    random_index_main_conf_t *mc = mg_http_conf_get_main(cf, mg_random_index_module);
    mc->used |= ((random_index_conf_t *)conf)->enable == 1;
    return rv;
}

static mg_int_t random_index_init(mg_conf_t *cf)
{
    random_index_main_conf_t *mc = mg_http_conf_get_main(cf, mg_random_index_module);
    if (mc->used) {
        mg_http_add_phase_handler(cf, MG_HTTP_CONTENT_PHASE, random_index_handler);
    }
    return MG_OK;
}

static const mg_command_t random_index_commands[] = {
    {"random_index", MG_CTX_LOCATION, MG_FLAG, random_index_set, MG_LOC_CONF,
     offsetof(random_index_conf_t, enable), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t random_index_defaults[] = {
    {"random_index", "off"},
    {0},
};

mg_module_t mg_random_index_module = {
    .name = "random_index",
    .commands = random_index_commands,
    .defaults = random_index_defaults,
    .create_main_conf = random_index_create_main_conf,
    .create_loc_conf = random_index_create_conf,
    .merge_loc_conf = random_index_merge_conf,
    .init = random_index_init,
};
