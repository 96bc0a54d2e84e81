/*
 * Opening the file a request names for sending it (flv, mp4): nginx's statuses and error-log
 * lines for a file that is missing, forbidden or not a regular file, the descriptor closed
 * with the request.
 */
#include <fcntl.h>
#include <unistd.h>

#include "http.h"

static void close_fd(void *data)
{
    close((int)(intptr_t)data);
}

mg_int_t mg_http_open_file(mg_request_t *r, const char *path, int *fd, struct stat *st)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) {
        int err = errno;
        mg_int_t status = MG_HTTP_INTERNAL_SERVER_ERROR;
        int level = MG_LOG_CRIT;
        if (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) {
            status = MG_HTTP_NOT_FOUND;
            level = clcf->log_not_found ? MG_LOG_ERR : 0;
        } else if (err == EACCES) {
            status = MG_HTTP_FORBIDDEN;
            level = MG_LOG_ERR;
        }
        if (level) {
            mg_log_error(level, &r->connection->log, err, "open() \"%s\" failed", path);
        }
        return status;
    }
    if (fstat(f, st) != 0) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "fstat() \"%s\" failed", path);
        close(f);
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    mg_pool_cleanup_add(r->pool, close_fd, (void *)(intptr_t)f);
    *fd = f;
    if (S_ISDIR(st->st_mode)) {
        return MG_DECLINED;
    }
    if (!S_ISREG(st->st_mode)) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, 0, "\"%s\" is not a regular file", path);
        return MG_HTTP_NOT_FOUND;
    }
    return MG_OK;
}
