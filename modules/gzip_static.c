/*
 * gzip_static on|off|always: a content handler that runs before static and serves "FILE.gz"
 * next to the requested file with Content-Encoding: gzip, when the client takes gzip ("on",
 * by nginx's rules in gzip.c) or whatever it says ("always"). The type is the original file's.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gzip.h"

enum { GZIP_STATIC_OFF, GZIP_STATIC_ON, GZIP_STATIC_ALWAYS };

typedef struct {
    mg_int_t enable;
} gzip_static_conf_t;

mg_module_t mg_gzip_static_module;

static void close_fd(void *data)
{
    close((int)(intptr_t)data);
}

static mg_int_t gzip_static_handler(mg_request_t *r)
{
    if ((r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD) || r->uri.len == 0 ||
        r->uri.data[r->uri.len - 1] == '/') {
        return MG_DECLINED;
    }
    gzip_static_conf_t *conf = mg_http_get_loc_conf(r, mg_gzip_static_module);
    if (conf->enable == GZIP_STATIC_OFF) {
        return MG_DECLINED;
    }
    /* "always" sends the .gz to anyone, and so says nothing about Vary */
    mg_int_t ok = conf->enable == GZIP_STATIC_ON ? mg_http_gzip_ok(r) : MG_OK;

    mg_str_t path;
    size_t root_len;
    char *p = mg_http_map_uri_to_path(r, &path, &root_len, 3);
    if (p == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    memcpy(path.data + path.len, ".gz", 4);
    path.len += 3;
    int fd = open(path.data, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err != ENOENT && err != ENOTDIR && err != ENAMETOOLONG) {
            mg_log_error(err == EACCES ? MG_LOG_ERR : MG_LOG_CRIT, &r->connection->log, err,
                         "open() \"%s\" failed", path.data);
        }
        return MG_DECLINED;
    }
    mg_pool_cleanup_add(r->pool, close_fd, (void *)(intptr_t)fd);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "fstat() \"%s\" failed", path.data);
        return MG_DECLINED;
    }
    if (conf->enable == GZIP_STATIC_ON) {
        /* the .gz exists: the answer depends on Accept-Encoding either way */
        mg_http_gzip_vary(r);
        if (ok != MG_OK) {
            return MG_DECLINED;
        }
    }
    if (S_ISDIR(st.st_mode)) {
        return MG_DECLINED;
    }
    if (!S_ISREG(st.st_mode)) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, 0, "\"%s\" is not a regular file", path.data);
        return MG_HTTP_NOT_FOUND;
    }
    mg_int_t rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    r->connection->log.action = "sending response to client"; /* as the static handler */
    r->headers_out.status = MG_HTTP_OK;
    r->headers_out.content_length_n = st.st_size;
    r->headers_out.last_modified_time = st.st_mtime;
    char *etag = mg_psprintf(r->pool, "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
                             (unsigned long long)st.st_size);
    r->headers_out.etag = mg_http_add_header_out(r, "ETag", 4, etag, strlen(etag));
    mg_http_set_content_type(r);
    r->headers_out.content_encoding =
        mg_http_add_header_out(r, "Content-Encoding", 16, "gzip", 4);
    /* no byte ranges (nor Accept-Ranges): nginx allows them for the static module's files only */
    rc = mg_http_send_header(r);
    if (rc == MG_ERROR || rc > MG_OK) {
        return rc;
    }
    mg_buf_t *b = mg_buf_mem(r->pool, "", 0);
    b->last_buf = 1;
    if (!r->header_only && st.st_size > 0) {
        b->in_file = 1;
        b->fd = fd;
        b->file_pos = 0;
        b->file_last = st.st_size;
    }
    return mg_http_output(r, b);
}

static void *gzip_static_create_conf(mg_conf_t *cf)
{
    gzip_static_conf_t *conf = mg_pcalloc(cf->pool, sizeof(gzip_static_conf_t));
    conf->enable = MG_CONF_UNSET;
    return conf;
}

static const char *gzip_static_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    gzip_static_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->enable, prev->enable, GZIP_STATIC_OFF);
    return MG_CONF_OK;
}

static mg_int_t gzip_static_init(mg_conf_t *cf)
{
    mg_http_add_phase_handler(cf, MG_HTTP_CONTENT_PHASE, gzip_static_handler);
    return MG_OK;
}

static const mg_conf_enum_t gzip_static_values[] = {
    { "off", GZIP_STATIC_OFF },
    { "on", GZIP_STATIC_ON },
    { "always", GZIP_STATIC_ALWAYS },
    { NULL, 0 },
};

static const mg_command_t gzip_static_commands[] = {
    { "gzip_static", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_enum, MG_LOC_CONF,
      offsetof(gzip_static_conf_t, enable), gzip_static_values },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

mg_module_t mg_gzip_static_module = {
    .name = "gzip_static",
    .commands = gzip_static_commands,
    .create_loc_conf = gzip_static_create_conf,
    .merge_loc_conf = gzip_static_merge_conf,
    .init = gzip_static_init,
};
