/*
 * dav (nginx's ngx_http_dav_module): PUT, DELETE, MKCOL, COPY and MOVE on the files under a
 * location's root, for the methods dav_methods lists; a content-phase handler that declines
 * every other method (static answers them). PUT writes the request body, read into memory,
 * to a file in client_body_temp_path and renames it into place with dav_access's mode (and
 * the Date header's time), as nginx renames its temporary body file; statuses, checks and
 * error-log lines are nginx's, in nginx's order.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "http.h"

#define DAV_SET 1 /* dav_methods was given ("off" alone sets only this) */
#define DAV_BIT(m) (1u << (m))
#define DAV_INFINITY -1
#define DAV_INVALID -2

typedef struct {
    mg_uint_t methods; /* DAV_SET | DAV_BIT(MG_HTTP_PUT) ...; 0 unset */
    mg_int_t access;   /* file mode of what is created; MG_CONF_UNSET */
    int create_full_put_path;
    mg_int_t min_delete_depth;
} dav_conf_t;

mg_module_t mg_dav_module;

static const mg_conf_enum_t dav_method_names[] = {
    {"off", 0},
    {"put", MG_HTTP_PUT},
    {"delete", MG_HTTP_DELETE},
    {"mkcol", MG_HTTP_MKCOL},
    {"copy", MG_HTTP_COPY},
    {"move", MG_HTTP_MOVE},
    {NULL, 0},
};

/* A directory gets x wherever its file mode has r. */
static mode_t dir_access(mode_t m)
{
    return m | ((m & 0444) >> 2);
}

/* nginx's statuses for a failed file operation; logged as "OP "PATH" failed (errno)" */
static mg_int_t dav_error(mg_request_t *r, int err, mg_int_t not_found, const char *op,
                          const char *path)
{
    mg_int_t status;
    int level = MG_LOG_ERR;
    switch (err) {
    case ENOENT:
        status = not_found;
        break;
    case ENOTDIR:
        status = MG_HTTP_CONFLICT;
        break;
    case EACCES:
    case EPERM:
        status = MG_HTTP_FORBIDDEN;
        break;
    case EEXIST:
        status = MG_HTTP_NOT_ALLOWED;
        break;
    case ENOSPC:
        status = 507;
        break;
    default:
        status = MG_HTTP_INTERNAL_SERVER_ERROR;
        level = MG_LOG_CRIT;
    }
    mg_log_error(level, &r->connection->log, err, "%s \"%s\" failed", op, path);
    return status;
}

/* The Depth header: 0, 1, DAV_INFINITY (also when absent) or DAV_INVALID (logged). */
static mg_int_t dav_depth(mg_request_t *r)
{
    mg_table_elt_t *h = mg_http_find_header_in(r, "depth", 5);
    if (h == NULL) {
        return DAV_INFINITY;
    }
    if (h->value.len == 1 && (h->value.data[0] == '0' || h->value.data[0] == '1')) {
        return h->value.data[0] - '0';
    }
    if (mg_str_caseeq(h->value, "infinity")) {
        return DAV_INFINITY;
    }
    mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                 "client sent invalid \"Depth\" header: \"%.*s\"", (int)h->value.len,
                 h->value.data);
    return DAV_INVALID;
}

static int has_body(mg_request_t *r)
{
    return r->headers_in.content_length_n > 0 || r->headers_in.chunked;
}

static int uri_is_collection(mg_str_t uri)
{
    return uri.len && uri.data[uri.len - 1] == '/';
}

/* Location of a created resource: the URI, escaped as nginx escapes one (made absolute by the
 * header writer). */
static void dav_location(mg_request_t *r)
{
    char *loc = mg_pnalloc(r->pool, r->uri.len * 3 + 1);
    size_t n = mg_http_escape(r->uri.data, r->uri.len, loc, MG_ESCAPE_URI);
    r->headers_out.location = mg_http_add_header_out(r, "Location", 8, loc, n);
}

/* mkdir every missing directory above path (the last component is left alone) */
static int create_full_path(char *path, mode_t mode)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        int rc = mkdir(path, mode);
        int err = errno;
        *p = '/';
        if (rc != 0 && err != EEXIST) {
            errno = err;
            return -1;
        }
    }
    return 0;
}

/* ---- copying and deleting files and trees ---- */

/* Copy the file src (st its stat) to dst, with its mode and mtime unless given others;
 * logs nginx's lines and returns MG_OK or MG_ERROR. */
static mg_int_t copy_file(mg_request_t *r, const char *src, const char *dst, mode_t mode,
                          time_t mtime)
{
    mg_log_t *log = &r->connection->log;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        mg_log_error(MG_LOG_CRIT, log, errno, "open() \"%s\" failed", src);
        return MG_ERROR;
    }
    struct stat st;
    if (fstat(in, &st) != 0) {
        mg_log_error(MG_LOG_CRIT, log, errno, "fstat() \"%s\" failed", src);
        close(in);
        return MG_ERROR;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (out < 0) {
        mg_log_error(MG_LOG_CRIT, log, errno, "open() \"%s\" failed", dst);
        close(in);
        return MG_ERROR;
    }
    mg_int_t rc = MG_OK;
    char buf[65536];
    for (off_t left = st.st_size; left > 0 && rc == MG_OK;) {
        ssize_t n = read(in, buf, (size_t)mg_min((off_t)sizeof(buf), left));
        if (n <= 0) {
            if (n < 0) {
                mg_log_error(MG_LOG_CRIT, log, errno, "read() \"%s\" failed", src);
            } else {
                mg_log_error(MG_LOG_ALERT, log, 0, "read() has read only 0 of %lld from %s",
                             (long long)left, src);
            }
            rc = MG_ERROR;
            break;
        }
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(out, buf + w, (size_t)(n - w));
            if (k < 0) {
                mg_log_error(MG_LOG_CRIT, log, errno, "write() \"%s\" failed", dst);
                rc = MG_ERROR;
                break;
            }
            w += k;
        }
        left -= n;
    }
    if (rc == MG_OK && fchmod(out, mode) != 0) {
        mg_log_error(MG_LOG_CRIT, log, errno, "chmod() \"%s\" failed", dst);
        rc = MG_ERROR;
    }
    if (rc == MG_OK && mtime != -1) {
        struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};
        if (futimes(out, tv) != 0) {
            mg_log_error(MG_LOG_CRIT, log, errno, "utimes() \"%s\" failed", dst);
            rc = MG_ERROR;
        }
    }
    close(in);
    if (close(out) != 0 && rc == MG_OK) {
        mg_log_error(MG_LOG_ALERT, log, errno, "close() \"%s\" failed", dst);
        rc = MG_ERROR;
    }
    return rc;
}

/* Walk the tree under dir (no trailing slash): copy it to to (when to is set: directories
 * made with their modes, files copied with theirs) or delete it. MG_OK, or the status after
 * the failing call was logged. */
static mg_int_t walk_tree(mg_request_t *r, const char *dir, const char *to)
{
    if (to) {
        struct stat st;
        if (stat(dir, &st) != 0) {
            return dav_error(r, errno, MG_HTTP_NOT_FOUND, "stat()", dir);
        }
        if (mkdir(to, st.st_mode & 07777) != 0 && errno != EEXIST) {
            return dav_error(r, errno, MG_HTTP_NOT_FOUND, "mkdir()", to);
        }
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        return dav_error(r, errno, MG_HTTP_NOT_FOUND, "opendir()", dir);
    }
    mg_int_t err = MG_OK;
    struct dirent *de;
    while (err == MG_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        char *from = mg_psprintf(r->pool, "%s/%s", dir, de->d_name);
        char *dst = to ? mg_psprintf(r->pool, "%s/%s", to, de->d_name) : NULL;
        struct stat st;
        if (lstat(from, &st) != 0) {
            err = dav_error(r, errno, MG_HTTP_NOT_FOUND, "lstat()", from);
        } else if (S_ISDIR(st.st_mode)) {
            err = walk_tree(r, from, dst);
        } else if (dst) {
            if (copy_file(r, from, dst, st.st_mode & 07777, st.st_mtime) != MG_OK) {
                err = MG_HTTP_INTERNAL_SERVER_ERROR;
            }
        } else if (unlink(from) != 0) {
            err = dav_error(r, errno, MG_HTTP_NOT_FOUND, "unlink()", from);
        }
    }
    closedir(d);
    if (err == MG_OK && to == NULL && rmdir(dir) != 0) {
        err = dav_error(r, errno, MG_HTTP_NOT_FOUND, "rmdir()", dir);
    }
    return err;
}

/* Delete a file or (dir) a tree: MG_OK or the status (logged) */
static mg_int_t delete_path(mg_request_t *r, const char *path, int dir)
{
    if (dir) {
        return walk_tree(r, path, NULL);
    }
    if (unlink(path) != 0) {
        return dav_error(r, errno, MG_HTTP_NOT_FOUND, "unlink()", path);
    }
    return MG_OK;
}

/* ---- PUT ---- */

/* A new file of client_body_temp_path, named and numbered as the request bodies' (nginx puts
 * the body there and renames that file); its path, or NULL after logging. The descriptor is
 * the caller's to close; the file is removed when the request ends unless renamed. */
static char *write_temp_file(mg_request_t *r, int *fdp)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_http_temp_file_t *tf = mg_http_temp_file_create(r, clcf->client_body_temp_path, 0);
    if (tf == NULL) {
        return NULL;
    }
    *fdp = tf->fd;
    tf->fd = -1;
    return tf->name.data;
}

/* Bytes [from, to) of file in appended to out (named name for the log): MG_OK or MG_ERROR. */
static mg_int_t copy_range(mg_request_t *r, int in, off_t from, off_t to, int out, const char *name)
{
    char buf[65536];
    while (from < to) {
        ssize_t n = pread(in, buf, (size_t)mg_min((off_t)sizeof(buf), to - from), from);
        if (n <= 0) {
            mg_log_error(MG_LOG_CRIT, &r->connection->log, n < 0 ? errno : 0,
                         "pread() of the request body failed");
            return MG_ERROR;
        }
        for (char *p = buf; p < buf + n;) {
            ssize_t w = write(out, p, (size_t)(buf + n - p));
            if (w < 0) {
                mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "write() \"%s\" failed",
                             name);
                return MG_ERROR;
            }
            p += w;
        }
        from += n;
    }
    return MG_OK;
}

static void dav_put_body(mg_request_t *r)
{
    dav_conf_t *conf = mg_http_get_loc_conf(r, mg_dav_module);
    mg_log_t *log = &r->connection->log;
    if (r->headers_in.content_length_n < 0 && !r->headers_in.chunked) {
        mg_log_error(MG_LOG_ERR, log, 0, "PUT request body must be in a file");
        mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    mg_str_t path;
    size_t root_len;
    if (mg_http_map_uri_to_path(r, &path, &root_len, 0) == NULL) {
        mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    mg_int_t status = MG_HTTP_CREATED;
    struct stat st;
    if (stat(path.data, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            mg_log_error(MG_LOG_ERR, log, EISDIR, "\"%s\" could not be created", path.data);
            mg_http_finalize_request(r, MG_HTTP_CONFLICT);
            return;
        }
        status = MG_HTTP_NO_CONTENT;
    }
    int fd;
    char *temp;
    mg_http_request_body_t *rb = r->request_body;
    mg_buf_t *bufs = NULL;
    if (rb && rb->temp_file) {
        /* the body's own file, renamed into place as nginx does: its descriptor is ours */
        temp = rb->temp_file->name.data;
        fd = rb->temp_file->fd;
        rb->temp_file->fd = -1;
    } else {
        temp = write_temp_file(r, &fd); /* no body was read (none came) */
        bufs = rb ? rb->bufs : NULL;
    }
    if (temp == NULL) {
        mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    mg_int_t rc = MG_OK;
    for (mg_buf_t *b = bufs; b && rc == MG_OK; b = b->next) {
        if (b->in_file) {
            /* a body that went to its own temporary file (client_body_buffer_size) */
            rc = copy_range(r, b->fd, b->file_pos, b->file_last, fd, temp);
            continue;
        }
        for (char *p = b->pos; p < b->last;) {
            ssize_t n = write(fd, p, (size_t)(b->last - p));
            if (n < 0) {
                mg_log_error(MG_LOG_CRIT, log, errno, "write() \"%s\" failed", temp);
                rc = MG_ERROR;
                break;
            }
            p += n;
        }
    }
    mode_t mode = (mode_t)conf->access;
    if (rc == MG_OK && fchmod(fd, mode) != 0) {
        mg_log_error(MG_LOG_CRIT, log, errno, "chmod() \"%s\" failed", temp);
        rc = MG_ERROR;
    }
    /* the client's Date becomes the file's time, as nginx does */
    time_t date = -1;
    mg_table_elt_t *h = mg_http_find_header_in(r, "date", 4);
    if (h) {
        date = mg_time_parse_http(h->value.data, h->value.len);
    }
    if (rc == MG_OK && date != -1) {
        struct timeval tv[2] = {{date, 0}, {date, 0}};
        if (futimes(fd, tv) != 0) {
            mg_log_error(MG_LOG_CRIT, log, errno, "utimes() \"%s\" failed", temp);
            rc = MG_ERROR;
        }
    }
    close(fd);
    if (rc == MG_OK) {
        int renamed = rename(temp, path.data);
        if (renamed != 0 && errno == ENOENT && conf->create_full_put_path) {
            if (create_full_path(path.data, dir_access(mode)) == 0) {
                renamed = rename(temp, path.data);
            }
        }
        if (renamed != 0 && errno == EXDEV) {
            renamed = copy_file(r, temp, path.data, mode, date) == MG_OK ? 0 : -1;
            errno = 0;
        }
        if (renamed != 0) {
            if (errno) {
                mg_log_error(MG_LOG_CRIT, log, errno, "rename() \"%s\" to \"%s\" failed", temp,
                             path.data);
            }
            rc = MG_ERROR;
        }
    }
    if ((rc != MG_OK || access(temp, F_OK) == 0) && unlink(temp) != 0 && errno != ENOENT) {
        mg_log_error(MG_LOG_CRIT, log, errno, "unlink() \"%s\" failed", temp);
    }
    if (rc != MG_OK) {
        mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    if (status == MG_HTTP_CREATED) {
        dav_location(r);
    }
    mg_http_finalize_request(r, status);
}

static mg_int_t dav_put(mg_request_t *r)
{
    if (uri_is_collection(r->uri)) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "cannot PUT to a collection");
        return MG_HTTP_CONFLICT;
    }
    if (mg_http_find_header_in(r, "content-range", 13)) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "PUT with range is unsupported");
        return MG_HTTP_NOT_IMPLEMENTED;
    }
    r->request_body_in_file_only = 1;
    mg_int_t rc = mg_http_read_client_request_body(r, dav_put_body);
    return rc >= MG_HTTP_SPECIAL_RESPONSE ? rc : MG_DONE;
}

/* ---- DELETE, MKCOL ---- */

static mg_int_t dav_delete(mg_request_t *r)
{
    mg_log_t *log = &r->connection->log;
    if (has_body(r)) {
        mg_log_error(MG_LOG_ERR, log, 0, "DELETE with body is unsupported");
        return 415;
    }
    dav_conf_t *conf = mg_http_get_loc_conf(r, mg_dav_module);
    if (conf->min_delete_depth) {
        /* a collection needs one slash more than a file for the same depth */
        mg_int_t d = 0;
        for (size_t i = 0; i < r->uri.len; i++) {
            d += r->uri.data[i] == '/';
        }
        if (d < conf->min_delete_depth + uri_is_collection(r->uri)) {
            mg_log_error(MG_LOG_ERR, log, 0, "insufficient URI depth:%ld to DELETE", (long)d);
            return MG_HTTP_CONFLICT;
        }
    }
    mg_str_t path;
    size_t root_len;
    if (mg_http_map_uri_to_path(r, &path, &root_len, 0) == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    struct stat st;
    if (lstat(path.data, &st) != 0) {
        return dav_error(r, errno, MG_HTTP_NOT_FOUND, "lstat()", path.data);
    }
    int dir = S_ISDIR(st.st_mode);
    mg_int_t depth = dav_depth(r);
    if (dir) {
        if (!uri_is_collection(r->uri)) {
            mg_log_error(MG_LOG_ERR, log, EISDIR, "DELETE \"%s\" failed", path.data);
            return MG_HTTP_CONFLICT;
        }
        if (depth != DAV_INFINITY) {
            mg_log_error(MG_LOG_ERR, log, 0, "\"Depth\" header must be infinity");
            return MG_HTTP_BAD_REQUEST;
        }
        path.data[--path.len] = '\0';
    } else if (depth != 0 && depth != DAV_INFINITY) {
        mg_log_error(MG_LOG_ERR, log, 0, "\"Depth\" header must be 0 or infinity");
        return MG_HTTP_BAD_REQUEST;
    }
    mg_int_t rc = delete_path(r, path.data, dir);
    return rc == MG_OK ? MG_HTTP_NO_CONTENT : rc;
}

static mg_int_t dav_mkcol(mg_request_t *r)
{
    mg_log_t *log = &r->connection->log;
    if (has_body(r)) {
        mg_log_error(MG_LOG_ERR, log, 0, "MKCOL with body is unsupported");
        return 415;
    }
    if (!uri_is_collection(r->uri)) {
        mg_log_error(MG_LOG_ERR, log, 0, "MKCOL can create a collection only");
        return MG_HTTP_CONFLICT;
    }
    mg_str_t path;
    size_t root_len;
    if (mg_http_map_uri_to_path(r, &path, &root_len, 0) == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    path.data[--path.len] = '\0';
    dav_conf_t *conf = mg_http_get_loc_conf(r, mg_dav_module);
    if (mkdir(path.data, dir_access((mode_t)conf->access)) != 0) {
        return dav_error(r, errno, MG_HTTP_CONFLICT, "mkdir()", path.data);
    }
    dav_location(r);
    return MG_HTTP_CREATED;
}

/* ---- COPY, MOVE ---- */

/* "." or ".." as a path segment, or a NUL: what nginx refuses in a URI a client names */
static int unsafe_uri(mg_str_t u)
{
    for (size_t i = 0; i < u.len; i++) {
        if (u.data[i] == '\0') {
            return 1;
        }
        if (u.data[i] == '.' && (i == 0 || u.data[i - 1] == '/')) {
            size_t j = i + 1;
            if (j < u.len && u.data[j] == '.') {
                j++;
            }
            if (j == u.len || u.data[j] == '/') {
                return 1;
            }
        }
    }
    return 0;
}

/* The Destination header's path (decoded, without its query), or NULL after the 400's log */
static mg_str_t *dav_destination(mg_request_t *r)
{
    mg_log_t *log = &r->connection->log;
    mg_table_elt_t *h = mg_http_find_header_in(r, "destination", 11);
    if (h == NULL) {
        mg_log_error(MG_LOG_ERR, log, 0, "client sent no \"Destination\" header");
        return NULL;
    }
    mg_str_t v = h->value;
    const char *p = v.data, *end = v.data + v.len;
    if (v.len == 0 || *p != '/') {
        if (v.len > 7 && mg_strncasecmp(p, "http://", 7) == 0) {
            /* only this server's name: the rest of the host (a port) is not compared */
            p += 7;
            mg_str_t host = r->headers_in.server;
            if ((size_t)(end - p) < host.len || (host.len && memcmp(p, host.data, host.len) != 0)) {
                mg_log_error(MG_LOG_ERR, log, 0,
                             "\"Destination\" URI \"%.*s\" is handled by different repository "
                             "than the source URI",
                             (int)v.len, v.data);
                return NULL;
            }
            p = memchr(p + host.len, '/', (size_t)(end - p - host.len));
        } else {
            p = NULL;
        }
        if (p == NULL) {
            mg_log_error(MG_LOG_ERR, log, 0, "client sent invalid \"Destination\" header: \"%.*s\"",
                         (int)v.len, v.data);
            return NULL;
        }
    }
    const char *q = memchr(p, '?', (size_t)(end - p));
    size_t len = (size_t)((q ? q : end) - p);
    mg_str_t *duri = mg_palloc(r->pool, sizeof(mg_str_t));
    duri->data = mg_pnalloc(r->pool, len + 1);
    duri->len = mg_http_unescape(p, len, duri->data, MG_UNESCAPE_KEEP_BAD);
    duri->data[duri->len] = '\0';
    if (unsafe_uri(*duri)) {
        mg_log_error(MG_LOG_ERR, log, 0, "unsafe URI \"%.*s\" was detected", (int)duri->len,
                     duri->data);
        mg_log_error(MG_LOG_ERR, log, 0, "client sent invalid \"Destination\" header: \"%.*s\"",
                     (int)v.len, v.data);
        return NULL;
    }
    return duri;
}

static mg_int_t dav_copy_move(mg_request_t *r)
{
    mg_log_t *log = &r->connection->log;
    if (has_body(r)) {
        mg_log_error(MG_LOG_ERR, log, 0, "COPY and MOVE with body are unsupported");
        return 415;
    }
    mg_str_t *duri = dav_destination(r);
    if (duri == NULL) {
        return MG_HTTP_BAD_REQUEST;
    }
    /* the header's last byte, as nginx looks at it: "/d/y%2F" is no collection, a query's last
     * byte counts ("/d/y?x=/" is one); the header is logged as the client sent it */
    mg_str_t dv = mg_http_find_header_in(r, "destination", 11)->value;
    if (uri_is_collection(r->uri) != uri_is_collection(dv)) {
        mg_log_error(MG_LOG_ERR, log, 0,
                     "both URI \"%.*s\" and \"Destination\" URI \"%.*s\" should be either "
                     "collections or non-collections",
                     (int)r->uri.len, r->uri.data, (int)dv.len, dv.data);
        return MG_HTTP_CONFLICT;
    }
    mg_int_t depth = dav_depth(r);
    if (r->method == MG_HTTP_COPY && depth != 0 && depth != DAV_INFINITY) {
        mg_log_error(MG_LOG_ERR, log, 0, "\"Depth\" header must be 0 or infinity");
        return MG_HTTP_BAD_REQUEST;
    }
    if (r->method == MG_HTTP_MOVE && depth != DAV_INFINITY) {
        mg_log_error(MG_LOG_ERR, log, 0, "\"Depth\" header must be infinity");
        return MG_HTTP_BAD_REQUEST;
    }
    int overwrite = 1;
    mg_table_elt_t *ow = mg_http_find_header_in(r, "overwrite", 9);
    if (ow) {
        char ch = ow->value.len == 1 ? (char)(ow->value.data[0] | 0x20) : 0;
        if (ch != 't' && ch != 'f') {
            mg_log_error(MG_LOG_ERR, log, 0, "client sent invalid \"Overwrite\" header: \"%.*s\"",
                         (int)ow->value.len, ow->value.data);
            return MG_HTTP_BAD_REQUEST;
        }
        overwrite = ch == 't';
    }
    /* the destination is mapped by this location, as nginx maps it */
    mg_str_t src, dst, uri = r->uri;
    size_t root_len;
    r->uri = *duri;
    char *mapped = mg_http_map_uri_to_path(r, &dst, &root_len, 0);
    r->uri = uri;
    if (mapped == NULL || mg_http_map_uri_to_path(r, &src, &root_len, 0) == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (dst.len > 1 && dst.data[dst.len - 1] == '/') {
        dst.data[--dst.len] = '\0';
    }
    struct stat st;
    int dst_exists = lstat(dst.data, &st) == 0;
    int dst_dir = dst_exists && S_ISDIR(st.st_mode);
    if (!dst_exists && errno != ENOENT) {
        return dav_error(r, errno, MG_HTTP_NOT_FOUND, "lstat()", dst.data);
    }
    if (dst_exists && !overwrite) {
        mg_log_error(MG_LOG_ERR, log, EEXIST, "\"%s\" could not be created", dst.data);
        return MG_HTTP_PRECONDITION_FAILED;
    }
    if (lstat(src.data, &st) != 0) {
        return dav_error(r, errno, MG_HTTP_NOT_FOUND, "lstat()", src.data);
    }
    int dir = S_ISDIR(st.st_mode);
    if (dir && src.len > 1 && src.data[src.len - 1] == '/') {
        src.data[--src.len] = '\0';
    }
    if (dst_exists) {
        mg_int_t rc = delete_path(r, dst.data, dst_dir);
        if (rc != MG_OK) {
            return rc;
        }
    }
    dav_conf_t *conf = mg_http_get_loc_conf(r, mg_dav_module);
    if (r->method == MG_HTTP_MOVE) {
        /* a file's move makes the directories above its destination, as nginx's does; a
         * directory that cannot be renamed is copied, then the source deleted below */
        int rc = rename(src.data, dst.data);
        if (rc != 0 && !dir && errno == ENOENT &&
            create_full_path(dst.data, dir_access((mode_t)conf->access)) == 0) {
            rc = rename(src.data, dst.data);
        }
        if (rc == 0) {
            return dir ? MG_HTTP_CREATED : MG_HTTP_NO_CONTENT;
        }
        if (!dir && errno != EXDEV) {
            mg_log_error(MG_LOG_CRIT, log, errno, "rename() \"%s\" to \"%s\" failed", src.data,
                         dst.data);
            return MG_HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (dir) {
        mg_int_t rc = walk_tree(r, src.data, dst.data);
        if (rc != MG_OK) {
            return rc;
        }
    } else if (copy_file(r, src.data, dst.data, st.st_mode & 07777, st.st_mtime) != MG_OK) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (r->method == MG_HTTP_MOVE) {
        mg_int_t rc = delete_path(r, src.data, dir);
        if (rc != MG_OK) {
            return rc;
        }
    }
    return dir ? MG_HTTP_CREATED : MG_HTTP_NO_CONTENT;
}

static mg_int_t dav_handler(mg_request_t *r)
{
    dav_conf_t *conf = mg_http_get_loc_conf(r, mg_dav_module);
    if (r->method <= 0 || r->method >= 32 || !(conf->methods & DAV_BIT(r->method))) {
        return MG_DECLINED;
    }
    switch (r->method) {
    case MG_HTTP_PUT:
        return dav_put(r);
    case MG_HTTP_DELETE:
        return dav_delete(r);
    case MG_HTTP_MKCOL:
        return dav_mkcol(r);
    default:
        return dav_copy_move(r);
    }
}

/* ---- configuration ---- */

static const char *dav_set_methods(mg_conf_t *cf, const mg_command_t *cmd, void *c)
{
    (void)cmd;
    dav_conf_t *conf = c;
    /* as nginx's bitmask: a second dav_methods adds to the first */
    for (size_t i = 1; i < cf->nargs; i++) {
        const mg_conf_enum_t *e = dav_method_names;
        while (e->name && !mg_str_caseeq(cf->args[i], e->name)) {
            e++;
        }
        if (e->name == NULL) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", cf->args[i].data);
            return MG_CONF_ERROR;
        }
        mg_uint_t bit = e->value ? DAV_BIT(e->value) : 0;
        if (bit && (conf->methods & bit)) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate value \"%s\"", cf->args[i].data);
        }
        conf->methods |= DAV_SET | bit;
    }
    return MG_CONF_OK;
}

/* "user:rw group:r all:r": the mode of created files (user rw unless named) */
static const char *dav_set_access(mg_conf_t *cf, const mg_command_t *cmd, void *c)
{
    (void)cmd;
    dav_conf_t *conf = c;
    if (conf->access != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_int_t mode = 0600, user = -1;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        int shift = -1, user_part = 0;
        size_t n = 0;
        if (a.len > 5 && memcmp(a.data, "user:", 5) == 0) {
            shift = 6, n = 5, user_part = 1;
        } else if (a.len > 6 && memcmp(a.data, "group:", 6) == 0) {
            shift = 3, n = 6;
        } else if (a.len > 4 && memcmp(a.data, "all:", 4) == 0) {
            shift = 0, n = 4;
        }
        mg_str_t perm = {a.len - n, a.data + n};
        mg_int_t bits = shift < 0 ? -1 : mg_str_eq(perm, "rw") ? 6 : mg_str_eq(perm, "r") ? 4 : -1;
        if (bits < 0) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", a.data);
            return MG_CONF_ERROR;
        }
        if (user_part) {
            user = bits << shift;
        } else {
            mode |= bits << shift;
        }
    }
    conf->access = user >= 0 ? (mode & 077) | user : mode;
    return MG_CONF_OK;
}

static mg_int_t dav_init(mg_conf_t *cf)
{
    mg_http_add_phase_handler(cf, MG_HTTP_CONTENT_PHASE, dav_handler);
    return MG_OK;
}

static void *dav_create_conf(mg_conf_t *cf)
{
    dav_conf_t *conf = mg_pcalloc(cf->pool, sizeof(dav_conf_t));
    conf->access = MG_CONF_UNSET;
    conf->create_full_put_path = MG_CONF_UNSET;
    conf->min_delete_depth = MG_CONF_UNSET;
    return conf;
}

static const char *dav_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    dav_conf_t *prev = parent, *conf = child;
    if (conf->methods == 0) {
        conf->methods = prev->methods ? prev->methods : DAV_SET;
    }
    mg_conf_merge(conf->access, prev->access, 0600);
    mg_conf_merge(conf->create_full_put_path, prev->create_full_put_path, 0);
    mg_conf_merge(conf->min_delete_depth, prev->min_delete_depth, 0);
    return MG_CONF_OK;
}

#define LOC(field) MG_LOC_CONF, offsetof(dav_conf_t, field)

static const mg_command_t dav_commands[] = {
    {"dav_methods", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), dav_set_methods, MG_LOC_CONF, 0, NULL},
    {"dav_access", MG_HTTP_ANY_LOC, MG_ARGS(1, 3), dav_set_access, MG_LOC_CONF, 0, NULL},
    {"create_full_put_path", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(create_full_put_path),
     NULL},
    {"min_delete_depth", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_num, LOC(min_delete_depth),
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t dav_defaults[] = {
    {"dav_methods", "off"},
    {"dav_access", "user:rw"},
    {0},
};

mg_module_t mg_dav_module = {
    .name = "dav",
    .commands = dav_commands,
    .defaults = dav_defaults,
    .create_loc_conf = dav_create_conf,
    .merge_loc_conf = dav_merge_conf,
    .init = dav_init,
};
