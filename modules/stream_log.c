/*
 * ngx_stream_log_module: log_format NAME [escape=default|json|none] STRING...; access_log
 * PATH FORMAT [buffer=SIZE [flush=TIME]] [gzip[=LEVEL]] [if=CONDITION] | off, one line per
 * session written in the log phase once its counters are final (if=: not when the condition
 * is empty or "0"). Files come from the cycle's open files, so USR1 reopens them; buffers and
 * gzip are log_file.c's, as http's access_log; "syslog:" sends each line as a datagram, and a
 * path with variables names a file opened for the line.
 */
#include <fcntl.h>
#include <unistd.h>

#include "log_escape.h"
#include "log_file.h"
#include "server.h"
#include "stream.h"

extern mg_module_t mg_stream_log_module;

typedef struct {
    mg_str_t name;
    int escape;
    mg_stream_complex_t text;
} slog_fmt_t;

typedef struct {
    mg_array_t formats; /* slog_fmt_t */
} slog_main_conf_t;

typedef struct {
    mg_open_file_t *file;
    mg_syslog_peer_t *syslog;  /* instead of a file */
    mg_stream_complex_t *path; /* instead of a file: its name has variables (a file per line) */
    slog_fmt_t *fmt;
    mg_stream_complex_t *filter; /* if=, NULL: none */
} slog_t;

typedef struct {
    mg_array_t *logs; /* slog_t; NULL: unset (inherit); empty: off */
} slog_conf_t;

static void *slog_create_main_conf(mg_conf_t *cf)
{
    slog_main_conf_t *m = mg_pcalloc(cf->pool, sizeof(slog_main_conf_t));
    mg_array_init(&m->formats, cf->pool, 2, sizeof(slog_fmt_t));
    return m;
}

static void *slog_create_srv_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(slog_conf_t));
}

static const char *slog_merge_srv_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    slog_conf_t *prev = parent, *conf = child;
    if (conf->logs == NULL) {
        conf->logs = prev->logs;
    }
    return MG_CONF_OK;
}

static const char *slog_format(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    slog_main_conf_t *m = conf;
    slog_fmt_t *f = m->formats.elts;
    for (size_t i = 0; i < m->formats.nelts; i++) {
        if (mg_str_eq_str(f[i].name, cf->args[1])) {
            mg_conf_error(cf, 0, "duplicate \"log_format\" name \"%s\"", cf->args[1].data);
            return MG_CONF_ERROR;
        }
    }
    slog_fmt_t *nf = mg_array_push(&m->formats);
    memset(nf, 0, sizeof(*nf));
    nf->name = cf->args[1];
    size_t first = 2;
    if (mg_log_escape_param(cf, &first, &nf->escape) != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (cf->nargs <= first) {
        return "has no format string"; /* not reached: counts are checked */
    }
    size_t len = 0;
    for (size_t i = first; i < cf->nargs; i++) {
        len += cf->args[i].len;
    }
    char *text = mg_pnalloc(cf->pool, len + 1), *p = text;
    for (size_t i = first; i < cf->nargs; i++) {
        memcpy(p, cf->args[i].data, cf->args[i].len);
        p += cf->args[i].len;
    }
    *p = '\0';
    return mg_stream_complex_compile(cf, (mg_str_t){len, text}, &nf->text);
}

static const char *slog_access_log(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    slog_conf_t *sc = conf;
    if (sc->logs == NULL) {
        sc->logs = mg_array_create(cf->pool, 1, sizeof(slog_t));
    }
    if (mg_str_eq(cf->args[1], "off")) {
        if (cf->nargs > 2) {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", cf->args[2].data);
            return MG_CONF_ERROR;
        }
        sc->logs->nelts = 0;
        return MG_CONF_OK;
    }
    if (cf->nargs < 3) {
        mg_conf_error(cf, 0, "log format is not specified in \"access_log\" directive");
        return MG_CONF_ERROR;
    }
    slog_main_conf_t *m = mg_stream_conf_get_main(cf, mg_stream_log_module);
    slog_fmt_t *f = m->formats.elts, *fmt = NULL;
    for (size_t i = 0; i < m->formats.nelts; i++) {
        if (mg_str_eq_str(f[i].name, cf->args[2])) {
            fmt = &f[i];
        }
    }
    if (fmt == NULL) {
        mg_conf_error(cf, 0, "unknown log format \"%s\"", cf->args[2].data);
        return MG_CONF_ERROR;
    }
    slog_t *l = mg_array_push(sc->logs);
    memset(l, 0, sizeof(*l));
    l->fmt = fmt;
    mg_str_t path = cf->args[1];
    if (path.len >= 7 && memcmp(path.data, "syslog:", 7) == 0) {
        l->syslog = mg_syslog_parse(cf, (mg_str_t){path.len - 7, path.data + 7});
        if (l->syslog == NULL) {
            return MG_CONF_ERROR;
        }
    } else if (memchr(path.data, '$', path.len)) {
        /* relative to the prefix, as a file's */
        path = mg_conf_full_name(cf->cycle, path, 0);
        l->path = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
        const char *rv = mg_stream_complex_compile(cf, path, l->path);
        if (rv != MG_CONF_OK) {
            return rv;
        }
    } else {
        path = mg_conf_full_name(cf->cycle, path, 0);
        l->file = mg_cycle_open_file(cf->cycle, path);
        if (l->file == NULL) {
            return MG_CONF_ERROR;
        }
    }
    mg_log_file_params_t bp = {0};
    mg_str_t cond;
    if (mg_log_file_args(cf, 3, path.data, l->syslog != NULL, l->path != NULL, &bp, &cond) !=
        MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    if (cond.data) {
        l->filter = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
        const char *rv = mg_stream_complex_compile(cf, cond, l->filter);
        if (rv != MG_CONF_OK) {
            return rv;
        }
    }
    return bp.size ? mg_log_file_set_buffer(cf, l->file, &bp, cf->args[1].data) : MG_CONF_OK;
}

static mg_int_t slog_handler(mg_stream_session_t *s)
{
    slog_conf_t *sc = mg_stream_get_srv_conf(s, mg_stream_log_module);
    if (sc->logs == NULL) {
        return MG_OK;
    }
    slog_t *l = sc->logs->elts;
    for (size_t i = 0; i < sc->logs->nelts; i++) {
        if (l[i].filter) {
            mg_str_t v = mg_stream_complex_value(s, l[i].filter);
            if (v.len == 0 || (v.len == 1 && v.data[0] == '0')) {
                continue;
            }
        }
        /* each variable read once: $msec or $session_time must not differ between passes */
        mg_stream_complex_t *cv = &l[i].fmt->text;
        mg_str_t *p = cv->parts.elts;
        size_t n = cv->parts.nelts;
        mg_str_t *vals = mg_palloc(s->pool, (n + 1) * sizeof(mg_str_t));
        char head[MG_SYSLOG_HEADER_MAX];
        size_t hlen = l[i].syslog ? mg_syslog_header(l[i].syslog, l[i].syslog->severity, head) : 0;
        size_t len = hlen + 1;
        int esc = l[i].fmt->escape;
        for (size_t k = 0; k < n; k++) {
            if (p[k].data == NULL && k + 1 < n) { /* a variable's name follows */
                vals[k] = mg_stream_variable(s, p[k + 1]);
                len += mg_log_escape_len(esc, vals[k]);
                k++;
            } else {
                len += p[k].len;
            }
        }
        char *line = mg_pnalloc(s->pool, len), *q = line;
        memcpy(q, head, hlen);
        q += hlen;
        for (size_t k = 0; k < n; k++) {
            if (p[k].data == NULL && k + 1 < n) {
                q = mg_log_escape_copy(q, esc, vals[k]);
                k++;
            } else {
                memcpy(q, p[k].data, p[k].len);
                q += p[k].len;
            }
        }
        mg_log_t *log = &s->connection->log;
        if (l[i].syslog) { /* a datagram is the message: no newline */
            mg_log_file_syslog(log, l[i].syslog, line, (size_t)(q - line));
            continue;
        }
        *q++ = '\n';
        if (l[i].path) { /* opened for the line, as nginx's without open_log_file_cache */
            mg_str_t v = mg_stream_complex_value(s, l[i].path);
            int fd = open(v.data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
            if (fd < 0) {
                mg_log_error(MG_LOG_CRIT, log, errno, "open() \"%s\" failed", v.data);
                continue;
            }
            mg_open_file_t file = {.fd = fd, .name = v.data};
            mg_log_file_write(log, &file, line, (size_t)(q - line));
            close(fd);
            continue;
        }
        mg_log_file_line(log, s->connection->server->base, l[i].file,
                         (mg_str_t){(size_t)(q - line), line});
    }
    return MG_OK;
}

static mg_int_t slog_init(mg_conf_t *cf)
{
    mg_stream_add_handler(cf, MG_STREAM_LOG_PHASE, slog_handler);
    return MG_OK;
}

static const mg_command_t slog_commands[] = {
    {"log_format", MG_CTX_STREAM, MG_ARGS(2, MG_MANY), slog_format, MG_MAIN_CONF, 0, NULL},
    {"access_log", MG_CTX_STREAM | MG_CTX_STREAM_SRV, MG_ARGS(1, MG_MANY), slog_access_log,
     MG_SRV_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const mg_stream_module_t slog_stream = {
    .create_main_conf = slog_create_main_conf,
    .create_srv_conf = slog_create_srv_conf,
    .merge_srv_conf = slog_merge_srv_conf,
    .init = slog_init,
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t slog_defaults[] = {
    {"access_log", "off"},
    {"log_format", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_stream_log_module = {
    .name = "stream_log",
    .commands = slog_commands,
    .defaults = slog_defaults,
    .stream = &slog_stream,
};
