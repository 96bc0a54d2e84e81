/*
 * Serving files: map the URI under root/alias, open (open_file_cache.c: the cache,
 * disable_symlinks), answer 404/403/301/405 as nginx does,
 * and send the file with Content-Type, Content-Length, Last-Modified and ETag ("etag"). The
 * response allows byte ranges (range.c) and conditional answers (not_modified.c).
 */
#include <fcntl.h>
#include <unistd.h>

#include "http.h"

typedef struct {
    int etag;
} static_conf_t;

mg_module_t mg_static_module;

/* Open path as the location says (open_file_cache, disable_symlinks); on failure returns the
 * HTTP status and logs as nginx does. */
static mg_int_t static_open(mg_request_t *r, mg_str_t path, mg_http_open_file_t *of)
{
    if (mg_http_open_file(r, path, of) == MG_OK) {
        return MG_OK;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_int_t status;
    int level = MG_LOG_ERR;
    switch (of->err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        status = MG_HTTP_NOT_FOUND;
        if (!clcf->log_not_found) {
            return status;
        }
        break;
    case EACCES:
    case ELOOP: /* disable_symlinks */
    case EMLINK:
        status = MG_HTTP_FORBIDDEN;
        break;
    default:
        status = MG_HTTP_INTERNAL_SERVER_ERROR;
        level = MG_LOG_CRIT;
    }
    mg_log_error(level, &r->connection->log, of->err, "%s \"%s\" failed", of->failed, path.data);
    return status;
}

static void close_fd(void *data)
{
    close((int)(intptr_t)data);
}

/* directio: the writer reads b through a descriptor of its own with O_DIRECT (the one the
 * cache or the filters share stays as it is); a file system without it keeps the page cache */
static void directio_on(mg_request_t *r, mg_buf_t *b, mg_str_t path)
{
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", b->fd);
    int fd = open(proc, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        mg_log_error(MG_LOG_ALERT, &r->connection->log, errno, "fcntl(O_DIRECT) \"%s\" failed",
                     path.data);
        return;
    }
    mg_pool_cleanup_add(r->pool, close_fd, (void *)(intptr_t)fd);
    b->directio = 1;
    b->dio_fd = fd;
}

void mg_http_set_etag(mg_request_t *r)
{
    static_conf_t *sc = mg_http_get_loc_conf(r, mg_static_module);
    if (sc->etag) {
        /* nginx's strong validator: hex mtime and the length sent */
        char *etag = mg_pnalloc(r->pool, 2 * MG_INT_TEXT_MAX + 3), *p = etag;
        *p++ = '"';
        p = mg_put_hex(p, (uint64_t)r->headers_out.last_modified_time);
        *p++ = '-';
        p = mg_put_hex(p, (uint64_t)r->headers_out.content_length_n);
        *p++ = '"';
        r->headers_out.etag = mg_http_add_header_out(r, "ETag", 4, etag, (size_t)(p - etag));
    }
}

static mg_int_t static_handler(mg_request_t *r)
{
    if (r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD && r->method != MG_HTTP_POST) {
        return MG_HTTP_NOT_ALLOWED;
    }
    if (r->uri.len && r->uri.data[r->uri.len - 1] == '/') {
        return MG_DECLINED;
    }
    mg_str_t path;
    size_t root_len;
    if (mg_http_map_uri_to_path(r, &path, &root_len, 0) == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    mg_http_open_file_t of;
    mg_int_t rc = static_open(r, path, &of);
    if (rc != MG_OK) {
        return rc;
    }
    if (of.is_dir) {
        /* "/dir" names a directory: send the client to "/dir/" */
        rc = mg_http_discard_request_body(r);
        return rc != MG_OK ? rc : mg_http_redirect_to_slash(r);
    }
    if (!of.is_file) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, 0, "\"%s\" is not a regular file", path.data);
        return MG_HTTP_NOT_FOUND;
    }
    if (r->method == MG_HTTP_POST) {
        return MG_HTTP_NOT_ALLOWED;
    }
    r->root_tested = !r->error_page; /* as nginx: an error page's root says nothing of r's */
    rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    r->headers_out.status = MG_HTTP_OK;
    r->headers_out.content_length_n = of.size;
    r->headers_out.last_modified_time = of.mtime;
    int body;
    rc = mg_http_send_file_header(r, "sending response to client", &body);
    if (!body) {
        return rc;
    }
    mg_buf_t *b = mg_buf_mem(r->pool, NULL, 0);
    b->in_file = of.size > 0;
    b->fd = of.fd;
    b->file_pos = 0;
    b->file_last = of.size;
    b->last_buf = 1;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (b->in_file && of.size >= clcf->directio) {
        directio_on(r, b, path);
    }
    return mg_http_output(r, b);
}

static mg_int_t static_init(mg_conf_t *cf)
{
    mg_http_add_phase_handler(cf, MG_HTTP_CONTENT_PHASE, static_handler);
    return MG_OK;
}

static void *static_create_conf(mg_conf_t *cf)
{
    static_conf_t *sc = mg_pcalloc(cf->pool, sizeof(static_conf_t));
    sc->etag = MG_CONF_UNSET;
    return sc;
}

static const char *static_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    static_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->etag, prev->etag, 1);
    return MG_CONF_OK;
}

static const mg_command_t static_commands[] = {
    { "etag", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF, offsetof(static_conf_t, etag), NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

mg_module_t mg_static_module = {
    .name = "static",
    .commands = static_commands,
    .create_loc_conf = static_create_conf,
    .merge_loc_conf = static_merge_conf,
    .init = static_init,
};
