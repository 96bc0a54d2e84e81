/*
 * "autoindex on": a directory listing for a URI ending in "/" that the index module did not
 * serve, in nginx's formats byte for byte: the HTML page (names padded to 50 columns, date,
 * exact or rounded size), JSON, JSONP (the JSON inside ?callback=NAME(...), plain JSON without
 * one) or XML. Directories come first, then names in byte order;
 * hidden entries (".name") are left out. Runs after index, before static.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "http.h"
#include "log_escape.h"

enum { FORMAT_HTML, FORMAT_XML, FORMAT_JSON, FORMAT_JSONP };

#define NAME_COLUMNS 50
#define CALLBACK_MAX 128 /* the longest ?callback= name taken, as in nginx */

typedef struct {
    int enable;
    int exact_size;
    int localtime;
    mg_int_t format;
} autoindex_conf_t;

typedef struct {
    char *name;
    size_t len;
    int dir;
    int file; /* a regular file; neither: "other" in JSON and XML, with no size */
    time_t mtime;
    off_t size;
} entry_t;

mg_module_t mg_autoindex_module;

static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* A growing output string in the request pool. */
typedef struct {
    mg_pool_t *pool;
    char *data;
    size_t len, cap;
} out_t;

static void out_reserve(out_t *o, size_t n)
{
    if (o->len + n <= o->cap) {
        return;
    }
    size_t cap = o->cap ? o->cap * 2 : 4096;
    while (cap < o->len + n) {
        cap *= 2;
    }
    char *d = mg_pnalloc(o->pool, cap);
    if (o->len) {
        memcpy(d, o->data, o->len);
    }
    o->data = d;
    o->cap = cap;
}

static void out_add(out_t *o, const char *s, size_t n)
{
    out_reserve(o, n);
    memcpy(o->data + o->len, s, n);
    o->len += n;
}

static void out_str(out_t *o, const char *s)
{
    out_add(o, s, strlen(s));
}

static void out_fmt(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(out_t *o, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    out_add(o, tmp, n < 0 ? 0 : mg_min((size_t)n, sizeof(tmp) - 1));
}

static void out_pad(out_t *o, size_t n)
{
    out_reserve(o, n);
    memset(o->data + o->len, ' ', n);
    o->len += n;
}

/* & < > " as entities: text and attribute values. */
static void out_html(out_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': out_str(o, "&amp;"); break;
        case '<': out_str(o, "&lt;"); break;
        case '>': out_str(o, "&gt;"); break;
        case '"': out_str(o, "&quot;"); break;
        default: out_add(o, &s[i], 1);
        }
    }
}

/* A link target: all but letters, digits and "-._~" as %XX, as nginx escapes a URI
 * component. */
static void out_uri_component(out_t *o, const char *s, size_t n)
{
    out_reserve(o, 3 * n);
    o->len += mg_http_escape(s, n, o->data + o->len, MG_ESCAPE_URI_COMPONENT);
}

/* A JSON string's bytes: log_format escape=json's escaper, the one nginx uses for both */
static void out_json_string(out_t *o, const char *s, size_t n)
{
    mg_str_t v = {n, (char *)s};
    size_t len = mg_log_escape_len(MG_LOG_ESCAPE_JSON, v);
    out_reserve(o, len);
    o->len = (size_t)(mg_log_escape_copy(o->data + o->len, MG_LOG_ESCAPE_JSON, v) - o->data);
}

static int entry_cmp(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->dir != y->dir) {
        return x->dir ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

static void html_size(out_t *o, const autoindex_conf_t *ac, const entry_t *e)
{
    if (ac->exact_size) {
        if (e->dir) {
            out_str(o, "                  -");
        } else {
            out_fmt(o, "%19lld", (long long)e->size);
        }
        return;
    }
    if (e->dir) {
        out_str(o, "      -");
        return;
    }
    /* rounded to the nearest unit, as nginx: plain bytes up to 9999 */
    static const struct {
        off_t unit;
        char scale;
    } units[] = { { 1024LL * 1024 * 1024, 'G' }, { 1024 * 1024, 'M' }, { 1024, 'K' } };
    off_t len = e->size;
    for (size_t i = 0; i < 3; i++) {
        off_t u = units[i].unit;
        if (len > (u == 1024 ? 9999 : u - 1)) {
            long long n = len / u + (len % u > u / 2 - 1 ? 1 : 0);
            out_fmt(o, "%6lld%c", n, units[i].scale);
            return;
        }
    }
    out_fmt(o, " %6lld", (long long)len);
}

static void render_html(mg_request_t *r, out_t *o, const autoindex_conf_t *ac, entry_t *e,
                        size_t n)
{
    out_str(o, "<html>\r\n<head><title>Index of ");
    out_html(o, r->uri.data, r->uri.len);
    out_str(o, "</title></head>\r\n<body>\r\n<h1>Index of ");
    out_html(o, r->uri.data, r->uri.len);
    out_str(o, "</h1><hr><pre><a href=\"../\">../</a>\r\n");
    for (size_t i = 0; i < n; i++) {
        out_str(o, "<a href=\"");
        out_uri_component(o, e[i].name, e[i].len);
        if (e[i].dir) {
            out_str(o, "/");
        }
        out_str(o, "\">");
        size_t len = e[i].len;
        if (len > NAME_COLUMNS) {
            /* cut to 47 columns and "..>" */
            out_html(o, e[i].name, NAME_COLUMNS - 3);
            out_str(o, "..&gt;</a>");
        } else {
            out_html(o, e[i].name, len);
            if (e[i].dir && len < NAME_COLUMNS) {
                out_str(o, "/");
                len++;
            }
            out_str(o, "</a>");
            out_pad(o, NAME_COLUMNS - len);
        }
        struct tm tm;
        if (ac->localtime) {
            localtime_r(&e[i].mtime, &tm);
        } else {
            gmtime_r(&e[i].mtime, &tm);
        }
        out_fmt(o, " %02d-%s-%d %02d:%02d ", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
                tm.tm_hour, tm.tm_min);
        html_size(o, ac, &e[i]);
        out_str(o, "\r\n");
    }
    out_str(o, "</pre><hr></body>\r\n</html>\r\n");
}

/* JSON's type, XML's element: a fifo, socket or dangling symlink is "other" */
static const char *entry_kind(const entry_t *e)
{
    return e->dir ? "directory" : e->file ? "file" : "other";
}

static void render_json(out_t *o, entry_t *e, size_t n)
{
    out_str(o, "[\r\n");
    for (size_t i = 0; i < n; i++) {
        char t[32];
        mg_time_http(t, e[i].mtime);
        out_str(o, "{ \"name\":\"");
        out_json_string(o, e[i].name, e[i].len);
        out_str(o, "\", \"type\":\"");
        out_str(o, entry_kind(&e[i]));
        out_str(o, "\", \"mtime\":\"");
        out_str(o, t);
        if (!e[i].file) {
            out_str(o, "\" }");
        } else {
            out_fmt(o, "\", \"size\":%lld }", (long long)e[i].size);
        }
        out_str(o, i + 1 < n ? ",\r\n" : "\r\n");
    }
    out_str(o, "]");
}

static void render_xml(out_t *o, entry_t *e, size_t n)
{
    out_str(o, "<?xml version=\"1.0\"?>\r\n<list>\r\n");
    for (size_t i = 0; i < n; i++) {
        struct tm tm;
        gmtime_r(&e[i].mtime, &tm);
        out_fmt(o, "<%s mtime=\"%04d-%02d-%02dT%02d:%02d:%02dZ\"", entry_kind(&e[i]),
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (e[i].file) {
            out_fmt(o, " size=\"%lld\"", (long long)e[i].size);
        }
        out_str(o, ">");
        out_html(o, e[i].name, e[i].len);
        out_fmt(o, "</%s>\r\n", entry_kind(&e[i]));
    }
    out_str(o, "</list>\r\n");
}

/* The ?callback= name of a jsonp listing: MG_OK (empty when there is none) or MG_DECLINED, logged,
 * for a name too long or with a byte other than a letter, a digit, '_' or '.'. */
static mg_int_t jsonp_callback(mg_request_t *r, mg_str_t *cb)
{
    if (mg_http_arg(r, "callback", 8, cb) != MG_OK) {
        cb->len = 0;
        return MG_OK;
    }
    if (cb->len > CALLBACK_MAX) {
        mg_log_error(MG_LOG_INFO, &r->connection->log, 0,
                     "client sent too long callback name: \"%.*s\"", (int)cb->len, cb->data);
        return MG_DECLINED;
    }
    for (size_t i = 0; i < cb->len; i++) {
        unsigned char ch = (unsigned char)cb->data[i];
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
            ch != '_' && ch != '.') {
            mg_log_error(MG_LOG_INFO, &r->connection->log, 0,
                         "client sent invalid callback name: \"%.*s\"", (int)cb->len, cb->data);
            return MG_DECLINED;
        }
    }
    return MG_OK;
}

static void close_dir(void *data)
{
    closedir(data);
}

/* Read the directory's visible entries; MG_OK or an HTTP status after logging. */
static mg_int_t read_entries(mg_request_t *r, const char *path, DIR *dir, mg_array_t *entries)
{
    size_t plen = strlen(path);
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(dir);
        if (de == NULL) {
            if (errno) {
                mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "readdir() \"%s\" failed",
                             path);
                return MG_HTTP_INTERNAL_SERVER_ERROR;
            }
            return MG_OK;
        }
        if (de->d_name[0] == '.') {
            continue;
        }
        size_t len = strlen(de->d_name);
        char *full = mg_pnalloc(r->pool, plen + 1 + len + 1);
        memcpy(full, path, plen);
        full[plen] = '/';
        memcpy(full + plen + 1, de->d_name, len + 1);
        struct stat st;
        if (stat(full, &st) != 0) {
            int err = errno;
            /* a dangling symlink is listed as itself */
            if ((err != ENOENT && err != ELOOP) || lstat(full, &st) != 0) {
                mg_log_error(MG_LOG_CRIT, &r->connection->log, err, "stat() \"%s\" failed", full);
                if (err == EACCES) {
                    continue;
                }
                return MG_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        entry_t *e = mg_array_push(entries);
        e->name = full + plen + 1;
        e->len = len;
        e->dir = S_ISDIR(st.st_mode);
        e->file = S_ISREG(st.st_mode);
        e->mtime = st.st_mtime;
        e->size = st.st_size;
    }
}

static mg_int_t autoindex_handler(mg_request_t *r)
{
    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] != '/') {
        return MG_DECLINED;
    }
    if (r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD) {
        return MG_DECLINED;
    }
    autoindex_conf_t *ac = mg_http_get_loc_conf(r, mg_autoindex_module);
    if (!ac->enable) {
        return MG_DECLINED;
    }
    mg_int_t rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    mg_str_t path;
    size_t root_len;
    if (mg_http_map_uri_to_path(r, &path, &root_len, 0) == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (path.len > 1) {
        path.data[--path.len] = '\0'; /* the directory without its slash, as nginx logs it */
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
    mg_pool_cleanup_add(r->pool, close_dir, dir);

    mg_int_t format = ac->format;
    mg_str_t callback = mg_null_string;
    if (format == FORMAT_JSONP) {
        if (jsonp_callback(r, &callback) != MG_OK) {
            return MG_HTTP_BAD_REQUEST;
        }
        if (callback.len == 0) {
            format = FORMAT_JSON;
        }
    }
    r->headers_out.status = MG_HTTP_OK;
    switch (format) {
    case FORMAT_JSONP:
        r->headers_out.content_type = (mg_str_t)mg_string("application/javascript");
        break;
    case FORMAT_JSON:
        r->headers_out.content_type = (mg_str_t)mg_string("application/json");
        break;
    case FORMAT_XML:
        r->headers_out.content_type = (mg_str_t)mg_string("text/xml");
        r->headers_out.charset = (mg_str_t)mg_string("utf-8");
        break;
    default:
        r->headers_out.content_type = (mg_str_t)mg_string("text/html");
    }
    /* the head goes before the directory is read, so the listing is sent without a length
     * (chunked), as nginx does */
    rc = mg_http_send_header(r);
    if (rc == MG_ERROR || rc > MG_OK || r->header_only) {
        if (rc == MG_ERROR || rc > MG_OK) {
            return rc;
        }
        mg_buf_t *b = mg_buf_mem(r->pool, "", 0);
        b->last_buf = 1;
        return mg_http_output(r, b);
    }
    mg_array_t *entries = mg_array_create(r->pool, 32, sizeof(entry_t));
    rc = read_entries(r, path.data, dir, entries);
    if (rc != MG_OK) {
        return MG_ERROR; /* the head is out: the connection is closed */
    }
    qsort(entries->elts, entries->nelts, sizeof(entry_t), entry_cmp);
    out_t o = { .pool = r->pool };
    if (format == FORMAT_JSONP) {
        out_str(&o, "/* callback */\r\n");
        out_add(&o, callback.data, callback.len);
        out_str(&o, "(");
        render_json(&o, entries->elts, entries->nelts);
        out_str(&o, ");");
    } else if (format == FORMAT_JSON) {
        render_json(&o, entries->elts, entries->nelts);
    } else if (format == FORMAT_XML) {
        render_xml(&o, entries->elts, entries->nelts);
    } else {
        render_html(r, &o, ac, entries->elts, entries->nelts);
    }
    mg_buf_t *b = mg_buf_mem(r->pool, o.data, o.len);
    b->last_buf = 1;
    return mg_http_output(r, b);
}

static void *autoindex_create_conf(mg_conf_t *cf)
{
    autoindex_conf_t *ac = mg_pcalloc(cf->pool, sizeof(autoindex_conf_t));
    ac->enable = MG_CONF_UNSET;
    ac->exact_size = MG_CONF_UNSET;
    ac->localtime = MG_CONF_UNSET;
    ac->format = MG_CONF_UNSET;
    return ac;
}

static const char *autoindex_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    autoindex_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->enable, prev->enable, 0);
    mg_conf_merge(conf->exact_size, prev->exact_size, 1);
    mg_conf_merge(conf->localtime, prev->localtime, 0);
    mg_conf_merge(conf->format, prev->format, FORMAT_HTML);
    return MG_CONF_OK;
}

static mg_int_t autoindex_init(mg_conf_t *cf)
{
    mg_http_add_phase_handler(cf, MG_HTTP_CONTENT_PHASE, autoindex_handler);
    return MG_OK;
}

static const mg_conf_enum_t formats[] = {
    {"html", FORMAT_HTML},   {"xml", FORMAT_XML}, {"json", FORMAT_JSON},
    {"jsonp", FORMAT_JSONP}, {NULL, 0},
};

#define AI(f) MG_LOC_CONF, offsetof(autoindex_conf_t, f)

static const mg_command_t autoindex_commands[] = {
    { "autoindex", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, AI(enable), NULL },
    { "autoindex_exact_size", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, AI(exact_size), NULL },
    { "autoindex_localtime", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, AI(localtime), NULL },
    { "autoindex_format", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_enum, AI(format), formats },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

mg_module_t mg_autoindex_module = {
    .name = "autoindex",
    .commands = autoindex_commands,
    .create_loc_conf = autoindex_create_conf,
    .merge_loc_conf = autoindex_merge_conf,
    .init = autoindex_init,
};
