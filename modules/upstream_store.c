/*
 * proxy_store, fastcgi_store, scgi_store, uwsgi_store and their *_store_access: an upstream's
 * 200 response is also saved to a file, as nginx does: the body as the upstream sent it (this
 * filter is near the chain's start, before any filter changes it) goes into a temporary file
 * under the protocol's *_temp_path, which is renamed to the target once the whole body went
 * through (copied when the two are on different file systems): with "on" the location's root
 * or alias plus the URI, else the directive's value (variables allowed). The file gets
 * *_store_access's permissions and the upstream's Last-Modified as its mtime; missing
 * directories are made (with x where r is allowed). A response broken off, or not 200, leaves
 * nothing behind. As in nginx only a buffered response is stored, and the client's going does
 * not stop it: the client is not watched and the upstream is read to the end all the same
 * (u->store, core/http/upstream_io.c). One module for the four: each protocol's pair of directives
 * fills its own slot of the location's conf, and its handler names the slot
 * (mg_upstream_store_setup).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy_extra.h"
#include "script.h"

mg_module_t mg_upstream_store_module;

/* one protocol's *_store and *_store_access */
typedef struct {
    mg_int_t store; /* MG_CONF_UNSET, 0 off, 1 on or a path */
    mg_http_complex_value_t *path;
    mg_int_t access; /* MG_CONF_UNSET */
} store_one_t;

typedef struct {
    store_one_t p[MG_UPSTREAM_STORE_N]; /* by MG_UPSTREAM_STORE_* */
} store_conf_t;

typedef struct {
    mg_upstream_t *u;        /* set by the handler: the response is an upstream's */
    const store_one_t *conf; /* its protocol's */
    mg_http_temp_file_t *tf; /* under *_temp_path; its pool cleanup unlinks it */
    mg_str_t target;
    int64_t expected; /* the upstream's Content-Length, -1 */
    int64_t written;
    time_t mtime;     /* -1: none */
    size_t dirs_made; /* make_dirs's answer, undone when nothing is stored */
    unsigned failed : 1;
} store_ctx_t;

static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_upstream_store_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_upstream_store_module, in);
}

void mg_upstream_store_setup(mg_request_t *r, mg_upstream_t *u, int proto)
{
    store_conf_t *conf = mg_http_get_loc_conf(r, mg_upstream_store_module);
    if (conf->p[proto].store != 1) {
        return;
    }
    u->store = 1;
    store_ctx_t *ctx = mg_pcalloc(r->pool, sizeof(*ctx));
    ctx->u = u;
    ctx->conf = &conf->p[proto];
    mg_http_set_ctx(r, ctx, mg_upstream_store_module);
}

/* mkdir -p of the target's directories (as nginx: with the access asked for, x added);
 * returns where the first one made starts in path (0: none), for undoing */
static size_t make_dirs(char *path, mode_t mode)
{
    size_t first = 0;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(path, mode) == 0 && first == 0) {
            first = (size_t)(p - path);
        }
        *p = '/';
    }
    return first;
}

/* the directories make_dirs made, deepest first (only empty ones go) */
static void remove_dirs(char *path, size_t first)
{
    char *p = strrchr(path, '/');
    while (first && p && (size_t)(p - path) >= first) {
        *p = '\0';
        int rc = rmdir(path);
        char *up = strrchr(path, '/');
        *p = '/';
        if (rc == -1) {
            return;
        }
        p = up;
    }
}

static void cleanup(void *data)
{
    store_ctx_t *ctx = data;
    if (ctx->tf && !ctx->tf->persistent) {
        remove_dirs(ctx->target.data, ctx->dirs_made); /* nothing was stored */
    }
}

static mg_int_t store_header_filter(mg_request_t *r)
{
    store_ctx_t *ctx = mg_http_get_ctx(r, mg_upstream_store_module);
    if (ctx == NULL || r->parent || ctx->u->head.status != MG_HTTP_OK || ctx->u->head_method ||
        r->header_only || r->headers_out.status != MG_HTTP_OK || !ctx->u->buffering) {
        return next_header_filter(r);
    }
    const store_one_t *conf = ctx->conf;
    mg_str_t target;
    if (conf->path) {
        target = mg_http_complex_value(r, conf->path);
        if (target.len && target.data[0] != '/') {
            target = mg_full_name(r->pool, r->connection->cycle, target, 0);
        }
    } else {
        size_t root_len;
        if (mg_http_map_uri_to_path(r, &target, &root_len, 0) == NULL) {
            return next_header_filter(r);
        }
        if (target.len && target.data[target.len - 1] == '\0') {
            target.len--;
        }
    }
    if (target.len == 0) {
        return next_header_filter(r);
    }
    ctx->target = mg_pstr(r->pool, target.data, target.len);
    mode_t dir_mode = (mode_t)(conf->access | ((conf->access & 0444) >> 2));
    ctx->dirs_made = make_dirs(ctx->target.data, dir_mode);
    const mg_http_temp_path_t *tp = ctx->u->conf->temp_path;
    ctx->tf = tp ? mg_http_temp_file_create(r, tp, 0) : NULL; /* logs a failure */
    if (ctx->tf == NULL) {
        remove_dirs(ctx->target.data, ctx->dirs_made);
        return next_header_filter(r);
    }
    mg_pool_cleanup_add(r->pool, cleanup, ctx);
    ctx->expected = r->headers_out.content_length_n;
    ctx->mtime = r->headers_out.last_modified_time;
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; ctx->mtime < 0 && i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && mg_str_caseeq(h[i].key, "last-modified")) {
            ctx->mtime = mg_time_parse_http(h[i].value.data, h[i].value.len);
        }
    }
    return next_header_filter(r);
}

static void write_all(store_ctx_t *ctx, const char *p, size_t n)
{
    if (!ctx->failed && mg_http_temp_file_write(ctx->tf, p, n) != MG_OK) {
        ctx->failed = 1;
    }
    ctx->written += (int64_t)n;
}

static void finish(mg_request_t *r, store_ctx_t *ctx)
{
    const store_one_t *conf = ctx->conf;
    if (ctx->failed || (ctx->expected >= 0 && ctx->written != ctx->expected)) {
        return; /* the cleanup drops the temporary file */
    }
    mg_http_temp_file_t *tf = ctx->tf;
    if (fchmod(tf->fd, (mode_t)conf->access) == -1) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "fchmod() \"%s\" failed",
                     tf->name.data);
    }
    if (ctx->mtime >= 0) {
        struct timespec ts[2] = {{ctx->mtime, 0}, {ctx->mtime, 0}};
        if (futimens(tf->fd, ts) == -1) {
            mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "futimens() \"%s\" failed",
                         tf->name.data);
        }
    }
    close(tf->fd);
    tf->fd = -1;
    if (rename(tf->name.data, ctx->target.data) == 0) {
        tf->persistent = 1; /* gone from its name: the cleanup must not unlink a later file */
        return;
    }
    if (errno != EXDEV) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "rename() \"%s\" to \"%s\" failed",
                     tf->name.data, ctx->target.data);
        return;
    }
    if (mg_http_temp_file_copy(r, tf, ctx->target.data, (int)conf->access, ctx->mtime) == MG_OK) {
        tf->persistent = 1; /* stored: keeps the made directories; the copy's source goes now */
        unlink(tf->name.data);
    }
}

static mg_int_t store_body_filter(mg_request_t *r, mg_buf_t *in)
{
    store_ctx_t *ctx = mg_http_get_ctx(r, mg_upstream_store_module);
    if (ctx == NULL || ctx->tf == NULL || ctx->tf->fd < 0 || in == NULL) {
        return next_body_filter(r, in);
    }
    int last = 0;
    for (mg_buf_t *b = in; b; b = b->next) {
        if (b->in_file) {
            char tmp[16384];
            off_t pos = b->file_pos;
            while (pos < b->file_last && !ctx->failed) {
                size_t want = (size_t)(b->file_last - pos);
                ssize_t n = pread(b->fd, tmp, want < sizeof(tmp) ? want : sizeof(tmp), pos);
                if (n <= 0) {
                    ctx->failed = 1;
                    break;
                }
                write_all(ctx, tmp, (size_t)n);
                pos += n;
            }
        } else if (b->pos) {
            write_all(ctx, b->pos, (size_t)(b->last - b->pos));
        }
        last |= b->last_buf;
    }
    if (last) {
        finish(r, ctx);
    }
    return next_body_filter(r, in);
}

static int filter_used(const void *loc_conf)
{
    const store_conf_t *conf = loc_conf;
    for (int i = 0; i < MG_UPSTREAM_STORE_N; i++) {
        if (conf->p[i].store == 1) {
            return 1; /* what mg_upstream_store_setup asks before it makes the filter's ctx */
        }
    }
    return 0;
}

static void store_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_upstream_store_module, filter_used, store_header_filter,
                         store_body_filter);
}

/* ---- configuration ---- */

static const char *set_store(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    store_one_t *sc = (store_one_t *)((char *)conf + cmd->offset);
    if (sc->store != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    if (mg_str_eq(v, "off")) {
        sc->store = 0;
        return MG_CONF_OK;
    }
    sc->store = 1;
    if (mg_str_eq(v, "on")) {
        return MG_CONF_OK;
    }
    sc->path = mg_pcalloc(cf->pool, sizeof(*sc->path));
    return mg_http_compile_complex_value(cf, v, sc->path) == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

/* "user:rw group:rw all:r": user gets what is named, group and all what they name */
static const char *set_access(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    store_one_t *sc = (store_one_t *)((char *)conf + cmd->offset);
    if (sc->access != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_int_t mode = 0;
    int user_set = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t v = cf->args[i];
        int shift;
        size_t skip;
        if (v.len > 5 && memcmp(v.data, "user:", 5) == 0) {
            shift = 6;
            skip = 5;
            user_set = 1;
        } else if (v.len > 6 && memcmp(v.data, "group:", 6) == 0) {
            shift = 3;
            skip = 6;
        } else if (v.len > 4 && memcmp(v.data, "all:", 4) == 0) {
            shift = 0;
            skip = 4;
        } else {
            goto invalid;
        }
        mg_str_t perm = {v.len - skip, v.data + skip};
        if (mg_str_eq(perm, "rw")) {
            mode |= 6u << shift;
        } else if (mg_str_eq(perm, "r")) {
            mode |= 4u << shift;
        } else {
            goto invalid;
        }
        continue;
    invalid:
        mg_conf_error(cf, 0, "invalid value \"%.*s\"", (int)v.len, v.data);
        return MG_CONF_ERROR;
    }
    if (!user_set) {
        mode |= 0600; /* as nginx: the user may always read and write */
    }
    sc->access = mode;
    return MG_CONF_OK;
}

static void *store_create_conf(mg_conf_t *cf)
{
    store_conf_t *c = mg_pcalloc(cf->pool, sizeof(*c));
    for (int i = 0; i < MG_UPSTREAM_STORE_N; i++) {
        c->p[i].store = MG_CONF_UNSET;
        c->p[i].access = MG_CONF_UNSET;
    }
    return c;
}

static const char *store_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    store_conf_t *prevs = parent, *confs = child;
    for (int i = 0; i < MG_UPSTREAM_STORE_N; i++) {
        store_one_t *prev = &prevs->p[i], *conf = &confs->p[i];
        if (conf->store == MG_CONF_UNSET) {
            conf->store = prev->store == MG_CONF_UNSET ? 0 : prev->store;
            conf->path = prev->path;
        }
        mg_conf_merge(conf->access, prev->access, 0600);
    }
    return MG_CONF_OK;
}

#define LOC MG_HTTP_ANY_LOC
#define SLOT(i) offsetof(store_conf_t, p) + (i) * sizeof(store_one_t)
#define STORE_COMMANDS(P, I)                                                                       \
    {P "_store", LOC, MG_ARGS(1, 1), set_store, MG_LOC_CONF, SLOT(I), NULL},                       \
    {                                                                                              \
        P "_store_access", LOC, MG_ARGS(1, 3), set_access, MG_LOC_CONF, SLOT(I), NULL              \
    }

static const mg_command_t store_commands[] = {
    STORE_COMMANDS("proxy", MG_UPSTREAM_STORE_PROXY),
    STORE_COMMANDS("fastcgi", MG_UPSTREAM_STORE_FASTCGI),
    STORE_COMMANDS("scgi", MG_UPSTREAM_STORE_SCGI),
    STORE_COMMANDS("uwsgi", MG_UPSTREAM_STORE_UWSGI),
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t store_defaults[] = {
    {"proxy_store", "off"},
    {"proxy_store_access", "user:rw"},
    {"fastcgi_store", "off"},
    {"fastcgi_store_access", "user:rw"},
    {"scgi_store", "off"},
    {"scgi_store_access", "user:rw"},
    {"uwsgi_store", "off"},
    {"uwsgi_store_access", "user:rw"},
    {0},
};

mg_module_t mg_upstream_store_module = {
    .name = "upstream_store",
    .commands = store_commands,
    .defaults = store_defaults,
    .init_filters = store_init_filters,
    .create_loc_conf = store_create_conf,
    .merge_loc_conf = store_merge_conf,
};
