/*
 * Opening the file a request names for sending it (flv, mp4) through mg_http_open_file
 * (open_file_cache, disable_symlinks): nginx's statuses and error-log lines for a file that is
 * missing, forbidden or not a regular file; the descriptor is the request's until it ends.
 */
#include <sys/stat.h>

#include "http.h"

/* MG_OK, MG_DECLINED for a directory, or the HTTP status */
static mg_int_t open_send_file(mg_request_t *r, const char *path, int *fd, struct stat *st)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_http_open_file_t of;
    mg_str_t p = {strlen(path), (char *)path};
    if (mg_http_open_file(r, p, &of) != MG_OK) {
        mg_int_t status = MG_HTTP_INTERNAL_SERVER_ERROR;
        int level = MG_LOG_CRIT;
        if (of.err == ENOENT || of.err == ENOTDIR || of.err == ENAMETOOLONG) {
            status = MG_HTTP_NOT_FOUND;
            level = clcf->log_not_found ? MG_LOG_ERR : 0;
        } else if (of.err == EACCES || of.err == ELOOP || of.err == EMLINK) {
            status = MG_HTTP_FORBIDDEN; /* ELOOP, EMLINK: disable_symlinks */
            level = MG_LOG_ERR;
        }
        if (level) {
            mg_log_error(level, &r->connection->log, of.err, "%s \"%s\" failed", of.failed, path);
        }
        return status;
    }
    if (of.is_dir) {
        return MG_DECLINED;
    }
    if (!of.is_file) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, 0, "\"%s\" is not a regular file", path);
        return MG_HTTP_NOT_FOUND;
    }
    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFREG | 0644;
    st->st_size = of.size;
    st->st_mtime = of.mtime;
    st->st_dev = of.dev;
    st->st_ino = of.ino;
    *fd = of.fd;
    return MG_OK;
}

mg_int_t mg_http_open_requested_file(mg_request_t *r, mg_str_t *path, int *fd, struct stat *st)
{
    if (r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD) {
        return MG_HTTP_NOT_ALLOWED;
    }
    if (r->uri.len && r->uri.data[r->uri.len - 1] == '/') {
        return MG_DECLINED;
    }
    mg_int_t rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    size_t root_len;
    if (mg_http_map_uri_to_path(r, path, &root_len, 0) == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    rc = open_send_file(r, path->data, fd, st);
    return rc == MG_DECLINED ? mg_http_redirect_to_slash(r) : rc;
}

mg_int_t mg_http_send_file_header(mg_request_t *r, const char *action, int *body)
{
    *body = 0;
    /* nginx's handlers say so as they send the head: the filters' lines from here on (Lua's,
     * gunzip's, SSI's) carry it, until the next request or an internal redirect clears it */
    r->connection->log.action = action;
    mg_http_set_etag(r);
    mg_http_set_content_type(r);
    r->allow_ranges = 1;
    mg_int_t rc = mg_http_send_header(r);
    if (rc > MG_OK) {
        return rc; /* 412 or 416 chosen by a header filter */
    }
    if (rc == MG_ERROR || r->header_only) {
        mg_buf_t *b = mg_buf_mem(r->pool, "", 0);
        b->last_buf = 1;
        return rc == MG_ERROR ? rc : mg_http_output(r, b);
    }
    *body = 1;
    return MG_OK;
}
