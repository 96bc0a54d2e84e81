/*
 * access_log and log_format: one line per request, written in the log phase (from
 * mg_http_request_done, once the status and byte counts are final). Formats are compiled at
 * config time into literal and variable parts; files come from the cycle's open files so
 * USR1 reopens them; "buffer=", "flush=" and "gzip" (each buffer a gzip member of its own,
 * so that zcat reads the file whole) are log_file.c's, shared with stream. "syslog:" targets
 * send each line as a datagram (core/syslog.c). A path with variables names a file per request,
 * opened for the line and closed after it, unless open_log_file_cache keeps its descriptor in this
 * process.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "log_escape.h"
#include "log_file.h"
#include "script.h"
#include "server.h"
#include "syslog.h"
#include "variables.h"

#define ACCESS_LOG_PATH "logs/access.log"
#define COMBINED_FORMAT                                                                          \
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "          \
    "\"$http_referer\" \"$http_user_agent\""

typedef struct {
    mg_str_t literal; /* when index < 0 */
    mg_int_t index;   /* variable index */
    /* a literal of 8 bytes at most, padded: copied as one word (the combined format's eight
     * separators cost a memcpy call each) */
    char small[8];
} log_op_t;

typedef struct {
    mg_str_t name;
    int escape;
    mg_array_t ops; /* log_op_t */
} log_fmt_t;

typedef struct {
    mg_open_file_t *file;
    mg_syslog_peer_t *syslog;      /* instead of a file */
    mg_http_complex_value_t *path; /* instead of a file: its name has variables */
    log_fmt_t *fmt;
    mg_http_complex_value_t *filter; /* if=: empty or "0" skips the line */
} access_log_t;

typedef struct {
    mg_array_t formats;   /* log_fmt_t, "combined" first */
    mg_array_t *deflt;    /* the implicit logs/access.log, made on first need */
} log_main_conf_t;

/* open_log_file_cache: descriptors of files named by variables, per process; a node is made
 * at a name's first use (counting uses toward min_uses) and keeps the descriptor from then on.
 * Nodes not used for `inactive` are dropped lazily (two at most per lookup, from the cold end),
 * the least recently used when `max` is reached; `valid` says how long a descriptor is trusted
 * before the name is checked to still be the same file (so a rotated log is reopened). */
typedef struct log_cached_s {
    struct log_cached_s *hnext;       /* hash chain */
    struct log_cached_s *prev, *next; /* recency list, the most recent first */
    int fd;                           /* -1 until min_uses is reached */
    dev_t dev;
    ino_t ino;
    mg_uint_t uses;
    mg_msec_t accessed, validated;
    uint32_t hash;
    char name[];
} log_cached_t;

typedef struct {
    mg_uint_t max, min_uses;
    mg_msec_t inactive, valid;
    mg_uint_t n;
    log_cached_t **buckets; /* max rounded up to a power of two (4096 at most), at first use */
    mg_uint_t mask;
    log_cached_t lru; /* sentinel: lru.next the most recent, lru.prev the least */
} log_cache_t;

typedef struct {
    mg_array_t *logs;   /* access_log_t; NULL when this level has no access_log */
    int off;            /* "access_log off" at this level: wins over the level's other lines */
    log_cache_t *cache; /* open_log_file_cache; NULL off */
} log_loc_conf_t;

mg_module_t mg_access_log_module;

/* ---- formats ---- */

static void push_literal(log_fmt_t *fmt, const char *p, size_t n)
{
    if (n == 0) {
        return;
    }
    log_op_t *op = mg_array_push(&fmt->ops);
    memset(op, 0, sizeof(*op));
    op->index = -1;
    op->literal.data = (char *)p;
    op->literal.len = n;
    if (n <= sizeof(op->small)) {
        memcpy(op->small, p, n);
    }
}

/* Append the parts of one format string; its text lives in the cycle pool (cf->args). */
static mg_int_t compile_format(mg_conf_t *cf, log_fmt_t *fmt, mg_str_t s)
{
    size_t i = 0;
    while (i < s.len) {
        size_t start = i;
        while (i < s.len && s.data[i] != '$') {
            i++;
        }
        push_literal(fmt, s.data + start, i - start);
        if (i >= s.len) {
            break;
        }
        i++; /* '$' */
        mg_int_t index = mg_http_script_var_ref(cf, s, &i);
        if (index < 0) {
            return MG_ERROR;
        }
        log_op_t *op = mg_array_push(&fmt->ops);
        memset(op, 0, sizeof(*op));
        op->index = index;
    }
    return MG_OK;
}

static log_fmt_t *find_format(log_main_conf_t *lmcf, mg_str_t name)
{
    log_fmt_t *f = lmcf->formats.elts;
    for (size_t i = 0; i < lmcf->formats.nelts; i++) {
        if (mg_str_eq_str(f[i].name, name)) {
            return &f[i];
        }
    }
    return NULL;
}

/* The line for r after `head` (hlen bytes), newline included, in r's pool. */
static mg_str_t render(mg_request_t *r, log_fmt_t *fmt, const char *head, size_t hlen)
{
    log_op_t *ops = fmt->ops.elts;
    size_t n = fmt->ops.nelts;
    /* each variable is read once: $request_time or $msec must not differ between passes; a
     * value whose escaped length is its own needs no escaping and is copied whole */
    struct {
        mg_str_t v;
        size_t len; /* escaped */
    } stack[32], *vals = n <= 32 ? stack : mg_palloc(r->pool, n * sizeof(*vals));
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    mg_http_variable_t *vars = cmcf->variables.elts;
    size_t len = hlen + 1;
    for (size_t i = 0; i < n; i++) {
        if (ops[i].index < 0) {
            len += ops[i].literal.len;
            continue;
        }
        mg_http_var_value_t *v = mg_http_get_flushed_variable(r, (mg_uint_t)ops[i].index);
        vals[i].v = v == NULL || v->not_found ? (mg_str_t)mg_null_string : v->value;
        if (vals[i].v.data == NULL) {
            /* not found: "-" with the default escaping, nothing else (log_escape.h) */
            vals[i].len = fmt->escape == MG_LOG_ESCAPE_DEFAULT;
        } else if (vars[ops[i].index].flags & MG_HTTP_VAR_PLAIN) {
            vals[i].len = vals[i].v.len;
        } else {
            vals[i].len = mg_log_escape_len(fmt->escape, vals[i].v);
        }
        len += vals[i].len;
    }
    /* (8 bytes more: a small literal is copied as a whole word) */
    char *line = mg_pnalloc(r->pool, len + 8);
    if (hlen) {
        memcpy(line, head, hlen); /* head is NULL when there is none (memcpy's contract) */
    }
    char *d = line + hlen;
    for (size_t i = 0; i < n; i++) {
        if (ops[i].index < 0) {
            if (ops[i].literal.len <= sizeof(ops[i].small)) {
                memcpy(d, ops[i].small, sizeof(ops[i].small));
            } else {
                memcpy(d, ops[i].literal.data, ops[i].literal.len);
            }
            d += ops[i].literal.len;
        } else if (vals[i].v.data == NULL) {
            if (vals[i].len) {
                *d++ = '-';
            }
        } else if (vals[i].len == vals[i].v.len) {
            memcpy(d, vals[i].v.data, vals[i].len);
            d += vals[i].len;
        } else {
            d = mg_log_escape_copy(d, fmt->escape, vals[i].v);
        }
    }
    *d++ = '\n';
    return (mg_str_t){ (size_t)(d - line), line };
}

/* ---- writing ---- */

/* ---- files named by variables ---- */

static int open_append(const char *name)
{
    return open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
}

static uint32_t name_hash(const char *p)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *p; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    return h;
}

static void lru_unlink(log_cached_t *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void lru_push(log_cache_t *c, log_cached_t *e)
{
    e->next = c->lru.next;
    e->prev = &c->lru;
    c->lru.next->prev = e;
    c->lru.next = e;
}

static void cache_drop(log_cache_t *c, log_cached_t *e)
{
    for (log_cached_t **pp = &c->buckets[e->hash & c->mask]; *pp; pp = &(*pp)->hnext) {
        if (*pp == e) {
            *pp = e->hnext;
            break;
        }
    }
    lru_unlink(e);
    if (e->fd >= 0) {
        close(e->fd);
    }
    free(e);
    c->n--;
}

/* the configuration goes (its generation is freed): so do the descriptors */
static void cache_free(void *data)
{
    log_cache_t *c = data;
    while (c->buckets && c->lru.prev != &c->lru) {
        cache_drop(c, c->lru.prev);
    }
    free(c->buckets);
    c->buckets = NULL;
}

/* A descriptor for name: the cached one (*keep set), or one the caller closes after writing;
 * -1 with errno when it cannot be opened. */
static int cache_open(log_cache_t *c, const char *name, int *keep)
{
    mg_msec_t now = mg_now.monotonic;
    if (c->buckets == NULL) {
        mg_uint_t n = 1;
        while (n < c->max && n < 4096) { /* a chain per bucket beyond: max may be huge */
            n <<= 1;
        }
        c->buckets = mg_calloc(n * sizeof(log_cached_t *));
        c->mask = n - 1;
    }
    for (int i = 0; i < 2 && c->lru.prev != &c->lru; i++) {
        log_cached_t *old = c->lru.prev;
        if (now - old->accessed <= c->inactive) {
            break;
        }
        cache_drop(c, old);
    }
    uint32_t hash = name_hash(name);
    log_cached_t *e = c->buckets[hash & c->mask];
    while (e && (e->hash != hash || strcmp(e->name, name) != 0)) {
        e = e->hnext;
    }
    if (e) {
        lru_unlink(e);
        lru_push(c, e);
        e->accessed = now;
        e->uses++;
        if (e->fd >= 0) {
            struct stat st;
            if (now - e->validated < c->valid) {
                *keep = 1;
                return e->fd;
            }
            if (stat(name, &st) == 0 && st.st_dev == e->dev && st.st_ino == e->ino) {
                e->validated = now;
                *keep = 1;
                return e->fd;
            }
            close(e->fd); /* renamed or removed: the name is a new file now */
            e->fd = -1;
        }
    }
    int fd = open_append(name);
    if (fd < 0) {
        return -1; /* failures are not cached */
    }
    if (e == NULL) {
        if (c->n >= c->max) {
            cache_drop(c, c->lru.prev);
        }
        size_t len = strlen(name);
        e = mg_calloc(sizeof(log_cached_t) + len + 1);
        memcpy(e->name, name, len + 1);
        e->hash = hash;
        e->fd = -1;
        e->uses = 1;
        e->accessed = now;
        e->hnext = c->buckets[hash & c->mask];
        c->buckets[hash & c->mask] = e;
        lru_push(c, e);
        c->n++;
    }
    struct stat st;
    if (e->uses >= c->min_uses && fstat(fd, &st) == 0) {
        e->fd = fd;
        e->dev = st.st_dev;
        e->ino = st.st_ino;
        e->validated = now;
        *keep = 1;
    }
    return fd;
}

/* nginx's rule for such logs: nothing is written while the request's root does not exist */
static int root_exists(mg_request_t *r)
{
    mg_str_t path;
    size_t root_len;
    if (mg_http_map_uri_to_path(r, &path, &root_len, 0) == NULL) {
        return 0;
    }
    path.data[root_len] = '\0';
    struct stat st;
    if (stat(path.data, &st) != 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, errno, "testing \"%s\" existence failed",
                     path.data);
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, ENOTDIR, "testing \"%s\" existence failed",
                     path.data);
        return 0;
    }
    return 1;
}

static void write_named(mg_request_t *r, log_loc_conf_t *llcf, access_log_t *log, mg_str_t line)
{
    if (!r->root_tested && !root_exists(r)) {
        return;
    }
    mg_str_t v = mg_http_complex_value(r, log->path);
    char *name = mg_pstrdup(r->pool, v.data, v.len);
    int keep = 0;
    int fd = llcf->cache ? cache_open(llcf->cache, name, &keep) : open_append(name);
    if (fd < 0) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "open() \"%s\" failed", name);
        return;
    }
    mg_open_file_t file = {.fd = fd, .name = name};
    mg_log_file_write(&r->connection->log, &file, line.data, line.len);
    if (!keep) {
        close(fd);
    }
}

static void log_syslog(mg_request_t *r, access_log_t *log)
{
    char head[MG_SYSLOG_HEADER_MAX];
    size_t hlen = mg_syslog_header(log->syslog, log->syslog->severity, head);
    mg_str_t line = render(r, log->fmt, head, hlen);
    line.len--; /* a datagram is the message: no newline */
    mg_log_file_syslog(&r->connection->log, log->syslog, line.data, line.len);
}

static mg_int_t access_log_handler(mg_request_t *r)
{
    log_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_access_log_module);
    if (llcf->off || llcf->logs == NULL) {
        return MG_OK;
    }
    access_log_t *log = llcf->logs->elts;
    for (size_t i = 0; i < llcf->logs->nelts; i++) {
        if (log[i].filter) {
            mg_str_t v;
            v = mg_http_complex_value(r, log[i].filter);
            if (v.len == 0 || (v.len == 1 && v.data[0] == '0')) {
                continue;
            }
        }
        if (log[i].syslog) {
            log_syslog(r, &log[i]);
            continue;
        }
        mg_str_t line = render(r, log[i].fmt, NULL, 0);
        if (log[i].path) {
            write_named(r, llcf, &log[i], line);
            continue;
        }
        mg_open_file_t *file = log[i].file;
        /* a file that any access_log buffers is buffered for all of them, as in nginx */
        mg_log_file_line(&r->connection->log, r->connection->server->base, file, line);
    }
    return MG_OK;
}

/* ---- configuration ---- */

static void *log_create_main_conf(mg_conf_t *cf)
{
    log_main_conf_t *lmcf = mg_pcalloc(cf->pool, sizeof(log_main_conf_t));
    mg_array_init(&lmcf->formats, cf->pool, 4, sizeof(log_fmt_t));
    /* "combined" exists from the start so a log_format of that name is a duplicate; its
     * variables are resolved in init_main_conf, when the variable table exists */
    log_fmt_t *fmt = mg_array_push(&lmcf->formats);
    memset(fmt, 0, sizeof(*fmt));
    fmt->name = mg_pstr(cf->pool, "combined", 8);
    mg_array_init(&fmt->ops, cf->pool, 20, sizeof(log_op_t));
    return lmcf;
}

static const char *log_init_main_conf(mg_conf_t *cf, void *conf)
{
    log_main_conf_t *lmcf = conf;
    log_fmt_t *combined = lmcf->formats.elts;
    mg_str_t s = { sizeof(COMBINED_FORMAT) - 1, (char *)COMBINED_FORMAT };
    return compile_format(cf, combined, s) == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

static void *log_create_loc_conf(mg_conf_t *cf)
{
    log_loc_conf_t *llcf = mg_pcalloc(cf->pool, sizeof(log_loc_conf_t));
    llcf->off = MG_CONF_UNSET;
    llcf->cache = MG_CONF_UNSET_PTR;
    return llcf;
}

static const char *log_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    log_loc_conf_t *prev = parent, *conf = child;
    mg_conf_merge_ptr(conf->cache, prev->cache, NULL);
    /* a level with any access_log line (or "off") keeps only its own, as nginx */
    if (conf->logs || conf->off != MG_CONF_UNSET) {
        mg_conf_merge(conf->off, 0, 0);
        return MG_CONF_OK;
    }
    conf->logs = prev->logs;
    conf->off = prev->off;
    if (conf->logs || conf->off != MG_CONF_UNSET) {
        mg_conf_merge(conf->off, 0, 0);
        return MG_CONF_OK;
    }
    conf->off = 0;
    /* nothing anywhere above: logs/access.log in "combined", one shared list */
    log_main_conf_t *lmcf = mg_http_conf_get_main(cf, mg_access_log_module);
    if (lmcf->deflt == NULL) {
        lmcf->deflt = mg_array_create(cf->pool, 1, sizeof(access_log_t));
        access_log_t *log = mg_array_push(lmcf->deflt);
        memset(log, 0, sizeof(*log));
        mg_str_t name = { sizeof(ACCESS_LOG_PATH) - 1, ACCESS_LOG_PATH };
        log->file = mg_cycle_open_file(cf->cycle, mg_conf_full_name(cf->cycle, name, 0));
        log->fmt = lmcf->formats.elts;
    }
    conf->logs = lmcf->deflt;
    return MG_CONF_OK;
}

static const char *log_set_format(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    log_main_conf_t *lmcf = conf;
    if (find_format(lmcf, cf->args[1])) {
        mg_conf_error(cf, 0, "duplicate \"log_format\" name \"%s\"", cf->args[1].data);
        return MG_CONF_ERROR;
    }
    log_fmt_t *fmt = mg_array_push(&lmcf->formats);
    memset(fmt, 0, sizeof(*fmt));
    fmt->name = cf->args[1];
    mg_array_init(&fmt->ops, cf->pool, 16, sizeof(log_op_t));
    size_t i = 2;
    if (mg_log_escape_param(cf, &i, &fmt->escape) != MG_OK) {
        return MG_CONF_ERROR;
    }
    /* the strings are concatenated as written, without separators */
    for (; i < cf->nargs; i++) {
        if (compile_format(cf, fmt, cf->args[i]) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

static const char *log_set_log(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    log_loc_conf_t *llcf = conf;
    mg_str_t path = cf->args[1];
    if (mg_str_eq(path, "off")) {
        llcf->off = 1;
        if (cf->nargs == 2) {
            return MG_CONF_OK;
        }
        mg_conf_error(cf, 0, "invalid parameter \"%s\"", cf->args[2].data);
        return MG_CONF_ERROR;
    }
    mg_syslog_peer_t *peer = NULL;
    if (path.len >= 7 && memcmp(path.data, "syslog:", 7) == 0) {
        mg_str_t params = {path.len - 7, path.data + 7};
        peer = mg_syslog_parse(cf, params);
        if (peer == NULL) {
            return MG_CONF_ERROR;
        }
    }
    log_main_conf_t *lmcf = mg_http_conf_get_main(cf, mg_access_log_module);
    if (llcf->logs == NULL) {
        llcf->logs = mg_array_create(cf->pool, 2, sizeof(access_log_t));
    }
    access_log_t *log = mg_array_push(llcf->logs);
    memset(log, 0, sizeof(*log));
    if (peer) {
        log->syslog = peer;
    } else if (mg_http_script_variables_count(path)) {
        /* relative to the prefix, as a file's; nginx names it so in its messages too */
        path = mg_conf_full_name(cf->cycle, path, 0);
        log->path = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
        if (mg_http_compile_complex_value(cf, path, log->path) != MG_OK) {
            return MG_CONF_ERROR;
        }
    } else {
        log->file = mg_cycle_open_file(cf->cycle, mg_conf_full_name(cf->cycle, path, 0));
    }
    log->fmt = lmcf->formats.elts; /* combined */
    if (cf->nargs >= 3) {
        log->fmt = find_format(lmcf, cf->args[2]);
        if (log->fmt == NULL) {
            mg_conf_error(cf, 0, "unknown log format \"%s\"", cf->args[2].data);
            return MG_CONF_ERROR;
        }
    }
    mg_log_file_params_t bp = {0};
    mg_str_t cond;
    if (mg_log_file_args(cf, 3, path.data, peer != NULL, log->path != NULL, &bp, &cond) !=
        MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    if (cond.data) {
        log->filter = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
        if (mg_http_compile_complex_value(cf, cond, log->filter) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    if (bp.size) {
        return mg_log_file_set_buffer(cf, log->file, &bp, cf->args[1].data);
    }
    return MG_CONF_OK;
}

static const char *log_set_cache(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    log_loc_conf_t *llcf = conf;
    if (llcf->cache != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    int64_t max = 0, min_uses = 1, inactive = 10, valid = 60;
    int off = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        int64_t *dst = NULL;
        size_t skip = 0;
        int time = 0;
        if (a.len >= 4 && memcmp(a.data, "max=", 4) == 0) {
            dst = &max, skip = 4;
        } else if (a.len >= 9 && memcmp(a.data, "inactive=", 9) == 0) {
            dst = &inactive, skip = 9, time = 1;
        } else if (a.len >= 9 && memcmp(a.data, "min_uses=", 9) == 0) {
            dst = &min_uses, skip = 9;
        } else if (a.len >= 6 && memcmp(a.data, "valid=", 6) == 0) {
            dst = &valid, skip = 6, time = 1;
        } else if (mg_str_eq(a, "off")) {
            off = 1;
            continue;
        }
        mg_str_t v = {a.len - skip, a.data + skip};
        if (dst) {
            *dst = time ? mg_parse_time(v, 1) : mg_atoi(v.data, v.len);
        }
        if (dst == NULL || *dst < 0) {
            mg_conf_error(cf, 0, "invalid \"open_log_file_cache\" parameter \"%s\"", a.data);
            return MG_CONF_ERROR;
        }
    }
    if (off) {
        llcf->cache = NULL;
        return MG_CONF_OK;
    }
    if (max == 0) {
        mg_conf_error(cf, 0, "\"open_log_file_cache\" must have \"max\" parameter");
        return MG_CONF_ERROR;
    }
    log_cache_t *c = mg_pcalloc(cf->pool, sizeof(log_cache_t));
    c->max = (mg_uint_t)max;
    c->min_uses = (mg_uint_t)mg_max(min_uses, 1);
    c->inactive = (mg_msec_t)inactive * 1000;
    c->valid = (mg_msec_t)valid * 1000;
    c->lru.next = c->lru.prev = &c->lru;
    mg_pool_cleanup_add(cf->pool, cache_free, c);
    llcf->cache = c;
    return MG_CONF_OK;
}

static mg_int_t log_init(mg_conf_t *cf)
{
    mg_http_add_phase_handler(cf, MG_HTTP_LOG_PHASE, access_log_handler);
    return MG_OK;
}

static const mg_command_t log_commands[] = {
    {"log_format", MG_CTX_HTTP, MG_ARGS(2, MG_MANY), log_set_format, MG_MAIN_CONF, 0, NULL},
    {"access_log", MG_HTTP_ANY_LOC | MG_CTX_LIF | MG_CTX_LMT, MG_ARGS(1, MG_MANY), log_set_log,
     MG_LOC_CONF, 0, NULL},
    {"open_log_file_cache", MG_HTTP_ANY_LOC, MG_ARGS(1, 4), log_set_cache, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t log_defaults[] = {
    {"log_format", "combined \"...\""},
    {"access_log", "logs/access.log combined"},
    {"open_log_file_cache", "off"},
    {0},
};

mg_module_t mg_access_log_module = {
    .name = "access_log",
    .commands = log_commands,
    .defaults = log_defaults,
    .create_main_conf = log_create_main_conf,
    .init_main_conf = log_init_main_conf,
    .create_loc_conf = log_create_loc_conf,
    .merge_loc_conf = log_merge_loc_conf,
    .init = log_init,
};
