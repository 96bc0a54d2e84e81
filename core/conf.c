/*
 * Configuration parser: tokenizer over a whole file in memory, block recursion, directive
 * dispatch with nginx's checks and wording, include with globs, and the generic setters.
 */
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "cycle.h"
#include "log.h"
#include "str.h"

struct conf_source_s {
    const char *name;   /* file name, or NULL for the command line */
    const char *p;
    const char *end;
    mg_uint_t line;
    unsigned depth;     /* files being read around this one: a self-include must not recurse */
};

/* nginx is stopped by running out of descriptors, as it keeps every file of the chain open;
 * this reader closes each file once read, so it needs its own bound. */
#define CONF_MAX_INCLUDE_DEPTH 64

enum { TOK_WORD, TOK_SEMI, TOK_OPEN, TOK_CLOSE, TOK_EOF, TOK_ERROR };

const char *mg_conf_file(mg_conf_t *cf)
{
    return cf->src && cf->src->name ? cf->src->name : "command line";
}

const char *mg_conf_where(mg_conf_t *cf)
{
    static MG_THREAD_LOCAL char buf[4096 + 32];
    if (cf->src == NULL) {
        return "";
    }
    if (cf->src->name == NULL) {
        return "command line";
    }
    snprintf(buf, sizeof(buf), "%s:%lu", cf->src->name, (unsigned long)cf->src->line);
    return buf;
}

void mg_conf_log(mg_conf_t *cf, int level, int err, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (err) {
        char ebuf[128];
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof(msg) - n, " (%d: %s)", err, strerror_r(err, ebuf, sizeof(ebuf)));
    }
    if (cf->src == NULL) {
        mg_log_error(level, cf->log, 0, "%s", msg);
    } else {
        mg_log_error(level, cf->log, 0, "%s in %s", msg, mg_conf_where(cf));
    }
}

void mg_conf_error(mg_conf_t *cf, int err, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mg_conf_log(cf, MG_LOG_EMERG, err, "%s", msg);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy a raw token into the pool, applying nginx's escapes: \" \' \\ \t \r \n. */
static mg_str_t token_unescape(mg_conf_t *cf, const char *s, size_t len)
{
    char *out = mg_pnalloc(cf->pool, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len) {
            char c = s[i + 1];
            if (c == '"' || c == '\'' || c == '\\') {
                out[n++] = c;
                i++;
                continue;
            }
            if (c == 't' || c == 'r' || c == 'n') {
                out[n++] = c == 't' ? '\t' : c == 'r' ? '\r' : '\n';
                i++;
                continue;
            }
        }
        out[n++] = s[i];
    }
    out[n] = '\0';
    mg_str_t r = { n, out };
    return r;
}

/* The text ended in the middle of a directive; -g's text has no blocks to close, hence
 * nginx's different wording for it. */
static void eof_in_directive(mg_conf_t *cf)
{
    if (cf->src->name == NULL) {
        mg_conf_error(cf, 0, "unexpected end of parameter, expecting \";\"");
    } else {
        mg_conf_error(cf, 0, "unexpected end of file, expecting \";\" or \"}\"");
    }
}

/* Read one directive's words into cf->args; returns what ended it. */
static int read_directive(mg_conf_t *cf)
{
    conf_source_t *src = cf->src;
    cf->args_buf.nelts = 0;
    for (;;) {
        /* skip blanks and comments */
        while (src->p < src->end) {
            char c = *src->p;
            if (c == '\n') {
                src->line++;
                src->p++;
            } else if (is_space(c)) {
                src->p++;
            } else if (c == '#') {
                while (src->p < src->end && *src->p != '\n') {
                    src->p++;
                }
            } else {
                break;
            }
        }
        if (src->p >= src->end) {
            if (cf->args_buf.nelts) {
                eof_in_directive(cf);
                return TOK_ERROR;
            }
            return TOK_EOF;
        }
        char c = *src->p;
        if (c == ';' || c == '{') {
            src->p++;
            if (cf->args_buf.nelts == 0) {
                mg_conf_error(cf, 0, "unexpected \"%c\"", c);
                return TOK_ERROR;
            }
            return c == ';' ? TOK_SEMI : TOK_OPEN;
        }
        if (c == '}') {
            src->p++;
            if (cf->args_buf.nelts) {
                mg_conf_error(cf, 0, "unexpected \"}\"");
                return TOK_ERROR;
            }
            return TOK_CLOSE;
        }
        mg_str_t *arg = mg_array_push(&cf->args_buf);
        if (c == '"' || c == '\'') {
            const char *start = ++src->p;
            while (src->p < src->end && *src->p != c) {
                if (*src->p == '\\' && src->p + 1 < src->end) {
                    if (src->p[1] == '\n') {
                        src->line++;
                    }
                    src->p += 2;
                    continue;
                }
                if (*src->p == '\n') {
                    src->line++;
                }
                src->p++;
            }
            if (src->p >= src->end) {
                eof_in_directive(cf);
                return TOK_ERROR;
            }
            *arg = token_unescape(cf, start, (size_t)(src->p - start));
            src->p++;
            /* a quoted word must be followed by a separator */
            if (src->p < src->end) {
                char n = *src->p;
                if (!is_space(n) && n != ';' && n != '{' && n != ')' && n != '}') {
                    mg_conf_error(cf, 0, "unexpected \"%c\"", n);
                    return TOK_ERROR;
                }
            }
            continue;
        }
        const char *start = src->p;
        int in_var_braces = 0;
        while (src->p < src->end) {
            char w = *src->p;
            if (w == '\\' && src->p + 1 < src->end) {
                src->p += 2;
                continue;
            }
            if (w == '{' && src->p > start && src->p[-1] == '$') {
                in_var_braces = 1;
            } else if (w == '}' && in_var_braces) {
                in_var_braces = 0;
            } else if (is_space(w) || w == ';' || w == '{' || w == '}') {
                break;
            }
            src->p++;
        }
        *arg = token_unescape(cf, start, (size_t)(src->p - start));
    }
}

/* "[" then zero or more "=" then "[": a Lua long bracket; returns its level or -1. */
static int long_bracket_level(const char *p, const char *end)
{
    if (p >= end || *p != '[') {
        return -1;
    }
    int level = 0;
    for (p++; p < end && *p == '='; p++) {
        level++;
    }
    return (p < end && *p == '[') ? level : -1;
}

/* Skip a long string/comment body that opened at level `level`; p is after the opening
 * bracket. Returns the position after the closing one, or NULL at the end of the text. */
static const char *skip_long_bracket(conf_source_t *src, const char *p, int level)
{
    for (; p < src->end; p++) {
        if (*p == '\n') {
            src->line++;
        } else if (*p == ']') {
            const char *q = p + 1;
            int n = 0;
            while (q < src->end && *q == '=') {
                q++;
                n++;
            }
            if (n == level && q < src->end && *q == ']') {
                return q + 1;
            }
        }
    }
    return NULL;
}

/* Take the Lua text of an MG_RAW_BLOCK up to its matching "}" as one more argument. */
static mg_int_t read_raw_block(mg_conf_t *cf)
{
    conf_source_t *src = cf->src;
    const char *start = src->p;
    const char *p = src->p;
    int depth = 1;
    cf->raw_line = src->line;
    while (p < src->end) {
        char c = *p;
        int level;
        if (c == '\n') {
            src->line++;
            p++;
        } else if (c == '-' && p + 1 < src->end && p[1] == '-') {
            p += 2;
            if ((level = long_bracket_level(p, src->end)) >= 0) {
                p = skip_long_bracket(src, p + level + 2, level);
                if (p == NULL) {
                    break;
                }
            } else {
                while (p < src->end && *p != '\n') {
                    p++;
                }
            }
        } else if ((level = long_bracket_level(p, src->end)) >= 0) {
            p = skip_long_bracket(src, p + level + 2, level);
            if (p == NULL) {
                break;
            }
        } else if (c == '"' || c == '\'') {
            for (p++; p < src->end && *p != c && *p != '\n'; p++) {
                if (*p == '\\' && p + 1 < src->end) {
                    if (p[1] == '\n') {
                        src->line++;
                    }
                    p++;
                }
            }
            if (p < src->end && *p == c) {
                p++;
            }
        } else if (c == '{') {
            depth++;
            p++;
        } else if (c == '}') {
            if (--depth == 0) {
                mg_str_t *arg = mg_array_push(&cf->args_buf);
                size_t len = (size_t)(p - start);
                arg->data = mg_pnalloc(cf->pool, len + 1);
                memcpy(arg->data, start, len);
                arg->data[len] = '\0';
                arg->len = len;
                cf->args = cf->args_buf.elts;
                cf->nargs = cf->args_buf.nelts;
                src->p = p + 1;
                return MG_OK;
            }
            p++;
        } else {
            p++;
        }
    }
    src->p = src->end;
    mg_conf_error(cf, 0, "unexpected end of file, expecting terminating characters for lua code "
                         "block");
    return MG_ERROR;
}

static const char *directive_context_ok(mg_conf_t *cf, const mg_command_t *cmd, void **conf)
{
    *conf = NULL;
    switch (cmd->slot) {
    case MG_CYCLE_CONF:
        *conf = cf->cycle->conf[cf->cycle->cur_module];
        break;
    case MG_MAIN_CONF:
        *conf = cf->ctx_data->main_conf[cf->cycle->cur_module];
        break;
    case MG_SRV_CONF:
        *conf = cf->ctx_data->srv_conf[cf->cycle->cur_module];
        break;
    case MG_LOC_CONF:
        *conf = cf->ctx_data->loc_conf[cf->cycle->cur_module];
        break;
    }
    return NULL;
}

static mg_int_t dispatch(mg_conf_t *cf, int tok)
{
    mg_str_t name = cf->args[0];
    int found_name = 0;
    for (size_t m = 0; mg_modules[m]; m++) {
        const mg_command_t *cmd = mg_modules[m]->commands;
        for (; cmd && cmd->name; cmd++) {
            if (!mg_str_eq(name, cmd->name)) {
                continue;
            }
            found_name = 1;
            if (!(cmd->contexts & cf->ctx)) {
                continue;
            }
            if (!(cmd->args & (MG_BLOCK | MG_RAW_BLOCK)) && tok != TOK_SEMI) {
                mg_conf_error(cf, 0, "directive \"%s\" is not terminated by \";\"", cmd->name);
                return MG_ERROR;
            }
            if ((cmd->args & (MG_BLOCK | MG_RAW_BLOCK)) && tok != TOK_OPEN) {
                mg_conf_error(cf, 0, "directive \"%s\" has no opening \"{\"", cmd->name);
                return MG_ERROR;
            }
            size_t n = cf->nargs - 1;
            int bad = (cmd->args & MG_FLAG) ? n != 1
                                            : (n < MG_ARGS_MIN(cmd->args) ||
                                               (MG_ARGS_MAX(cmd->args) != MG_MANY &&
                                                n > MG_ARGS_MAX(cmd->args)));
            if (bad) {
                mg_conf_error(cf, 0, "invalid number of arguments in \"%s\" directive", cmd->name);
                return MG_ERROR;
            }
            if ((cmd->args & MG_RAW_BLOCK) && read_raw_block(cf) != MG_OK) {
                return MG_ERROR;
            }
            void *conf;
            cf->cycle->cur_module = (int)m;
            directive_context_ok(cf, cmd, &conf);
            /* a raw block's errors name the line the directive starts on; other blocks are
             * read by their setters, which move the line on */
            int raw = (cmd->args & MG_RAW_BLOCK) != 0;
            mg_uint_t end_line = cf->src->line;
            if (raw) {
                cf->src->line = cf->raw_line;
            }
            const char *rv = cmd->set(cf, cmd, conf);
            if (rv != MG_CONF_OK && rv != MG_CONF_ERROR) {
                mg_conf_error(cf, 0, "\"%s\" directive %s", cmd->name, rv);
            }
            if (raw) {
                cf->src->line = end_line;
            }
            return rv == MG_CONF_OK ? MG_OK : MG_ERROR;
        }
    }
    if (found_name) {
        mg_conf_error(cf, 0, "\"%.*s\" directive is not allowed here", (int)name.len, name.data);
        return MG_ERROR;
    }
    for (size_t m = 0; mg_modules[m]; m++) {
        if (mg_modules[m]->other_directive) {
            cf->cycle->cur_module = (int)m;
            mg_int_t rc = mg_modules[m]->other_directive(cf, tok == TOK_SEMI);
            if (rc != MG_DECLINED) {
                return rc;
            }
        }
    }
    mg_conf_error(cf, 0, "unknown directive \"%.*s\"", (int)name.len, name.data);
    return MG_ERROR;
}

/* Parse from the current source; `in_block` says whether a "}" ends it. */
static mg_int_t parse_source(mg_conf_t *cf, int in_block)
{
    mg_array_t saved = cf->args_buf;
    mg_array_init(&cf->args_buf, cf->pool, 8, sizeof(mg_str_t));
    mg_int_t rc = MG_OK;
    for (;;) {
        int tok = read_directive(cf);
        if (tok == TOK_ERROR) {
            rc = MG_ERROR;
            break;
        }
        if (tok == TOK_EOF) {
            if (in_block) {
                mg_conf_error(cf, 0, "unexpected end of file, expecting \"}\"");
                rc = MG_ERROR;
            }
            break;
        }
        if (tok == TOK_CLOSE) {
            if (!in_block) {
                mg_conf_error(cf, 0, "unexpected \"}\"");
                rc = MG_ERROR;
            }
            break;
        }
        cf->args = cf->args_buf.elts;
        cf->nargs = cf->args_buf.nelts;
        if (tok == TOK_OPEN && cf->src->name == NULL) {
            mg_conf_error(cf, 0, "block directives are not supported in -g option");
            rc = MG_ERROR;
            break;
        }
        if (cf->handler) {
            if (tok != TOK_SEMI) {
                mg_conf_error(cf, 0, "unexpected \"{\"");
                rc = MG_ERROR;
                break;
            }
            const char *rv = cf->handler(cf, cf->handler_data);
            if (rv != MG_CONF_OK) {
                if (rv != MG_CONF_ERROR) {
                    mg_conf_error(cf, 0, "%s", rv);
                }
                rc = MG_ERROR;
                break;
            }
            continue;
        }
        if (dispatch(cf, tok) != MG_OK) {
            rc = MG_ERROR;
            break;
        }
    }
    cf->args_buf = saved;
    cf->args = saved.elts;
    cf->nargs = saved.nelts;
    return rc;
}

static mg_int_t read_file(mg_conf_t *cf, const char *filename, char **text, size_t *len)
{
    int fd = open(filename, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mg_conf_error(cf, errno, "open() \"%s\" failed", filename);
        return MG_ERROR;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        mg_conf_error(cf, errno, "fstat() \"%s\" failed", filename);
        close(fd);
        return MG_ERROR;
    }
    char *buf = mg_pnalloc(cf->pool, (size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            mg_conf_error(cf, n < 0 ? errno : 0, "read() \"%s\" failed", filename);
            close(fd);
            return MG_ERROR;
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return MG_OK;
}

static mg_int_t parse_named(mg_conf_t *cf, const char *name, char *text, size_t len, unsigned depth)
{
    mg_conf_dump_t *d = mg_array_push(&cf->cycle->conf_dump);
    d->name = mg_pstrdup(cf->pool, name, strlen(name));
    d->text = text;
    d->len = len;

    conf_source_t src = {d->name, text, text + len, 1, depth};
    conf_source_t *prev = cf->src;
    cf->src = &src;
    mg_int_t rc = parse_source(cf, 0);
    cf->src = prev;
    return rc;
}

mg_int_t mg_conf_parse_text(mg_conf_t *cf, const char *name, const char *text, size_t len)
{
    return parse_named(cf, name, mg_pstrdup(cf->pool, text, len), len, 0);
}

mg_int_t mg_conf_parse(mg_conf_t *cf, const char *filename)
{
    if (filename == NULL) {
        return parse_source(cf, 1);
    }
    unsigned depth = cf->src ? cf->src->depth + 1 : 0;
    if (depth > CONF_MAX_INCLUDE_DEPTH) {
        mg_conf_error(cf, 0, "too deep nesting of includes (more than %d files)",
                      CONF_MAX_INCLUDE_DEPTH);
        return MG_ERROR;
    }
    char *text;
    size_t len;
    if (read_file(cf, filename, &text, &len) != MG_OK) {
        return MG_ERROR;
    }
    return parse_named(cf, filename, text, len, depth);
}

mg_int_t mg_conf_parse_string(mg_conf_t *cf, const char *text, size_t len)
{
    conf_source_t src = { NULL, text, text + len, 1, cf->src ? cf->src->depth : 0 };
    conf_source_t *prev = cf->src;
    cf->src = &src;
    mg_int_t rc = parse_source(cf, 0);
    cf->src = prev;
    return rc;
}

mg_str_t mg_conf_full_name(mg_cycle_t *cycle, mg_str_t name, int conf_prefix)
{
    return mg_full_name(cycle->pool, cycle, name, conf_prefix);
}

mg_str_t mg_full_name(mg_pool_t *pool, mg_cycle_t *cycle, mg_str_t name, int conf_prefix)
{
    if (name.len && name.data[0] == '/') {
        return mg_pstr(pool, name.data, name.len);
    }
    mg_str_t prefix = conf_prefix ? cycle->conf_prefix : cycle->prefix;
    mg_str_t r;
    r.len = prefix.len + name.len;
    r.data = mg_pnalloc(pool, r.len + 1);
    memcpy(r.data, prefix.data, prefix.len);
    memcpy(r.data + prefix.len, name.data, name.len);
    r.data[r.len] = '\0';
    return r;
}

const char *mg_conf_include(mg_conf_t *cf, mg_str_t name)
{
    mg_str_t path = mg_conf_full_name(cf->cycle, name, 1);
    if (strpbrk(path.data, "*?[") == NULL) {
        return mg_conf_parse(cf, path.data) == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
    }
    glob_t g;
    int rc = glob(path.data, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        return MG_CONF_OK;
    }
    if (rc != 0) {
        mg_conf_error(cf, errno, "glob() \"%s\" failed", path.data);
        return MG_CONF_ERROR;
    }
    const char *rv = MG_CONF_OK;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct stat st;
        if (stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            continue;
        }
        if (mg_conf_parse(cf, g.gl_pathv[i]) != MG_OK) {
            rv = MG_CONF_ERROR;
            break;
        }
    }
    globfree(&g);
    return rv;
}

/* include file|glob; relative to the configuration directory */
static const char *conf_include(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    return mg_conf_include(cf, cf->args[1]);
}

static const mg_command_t conf_commands[] = {
    { "include", ~0u, MG_ARGS(1, 1), conf_include, MG_NO_CONF, 0, NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t conf_defaults[] = {
    {"include", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_conf_module = {
    .name = "conf",
    .commands = conf_commands,
    .defaults = conf_defaults,
};

/* ---- generic setters ---- */

#define FIELD(type) ((type *)((char *)conf + cmd->offset))

const char *mg_conf_set_flag(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    int *f = FIELD(int);
    if (*f != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    if (mg_str_caseeq(v, "on")) {
        *f = 1;
    } else if (mg_str_caseeq(v, "off")) {
        *f = 0;
    } else {
        mg_conf_error(cf, 0, "invalid value \"%s\" in \"%s\" directive, it must be \"on\" or \"off\"",
                      v.data, cmd->name);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

const char *mg_conf_set_str(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_str_t *f = FIELD(mg_str_t);
    if (f->data) {
        return "is duplicate";
    }
    *f = cf->args[1];
    return MG_CONF_OK;
}

const char *mg_conf_set_path(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_str_t *f = FIELD(mg_str_t);
    if (f->data) {
        return "is duplicate";
    }
    *f = mg_conf_full_name(cf->cycle, cf->args[1], 0);
    return MG_CONF_OK;
}

const char *mg_conf_set_num(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_int_t *f = FIELD(mg_int_t);
    if (*f != MG_CONF_UNSET) {
        return "is duplicate";
    }
    int64_t v = mg_atoi(cf->args[1].data, cf->args[1].len);
    if (v < 0) {
        return "invalid number";
    }
    *f = (mg_int_t)v;
    return MG_CONF_OK;
}

static const char *set_size(mg_conf_t *cf, const mg_command_t *cmd, void *conf, int giga)
{
    size_t *f = FIELD(size_t);
    if (*f != MG_CONF_UNSET_SIZE) {
        return "is duplicate";
    }
    int64_t v = giga ? mg_parse_offset(cf->args[1]) : mg_parse_size(cf->args[1]);
    if (v < 0) {
        return "invalid value";
    }
    *f = (size_t)v;
    return MG_CONF_OK;
}

/* nginx's sizes take k and m; its offsets (off_t values: client_max_body_size...) g too */
const char *mg_conf_set_size(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    return set_size(cf, cmd, conf, 0);
}

const char *mg_conf_set_off(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    return set_size(cf, cmd, conf, 1);
}

const char *mg_conf_parse_bufs(mg_conf_t *cf, mg_int_t *num, size_t *size)
{
    int64_t n = mg_atoi(cf->args[1].data, cf->args[1].len);
    int64_t s = mg_parse_size(cf->args[2]);
    if (n <= 0 || s <= 0) {
        return "invalid value"; /* nginx names neither argument */
    }
    *num = (mg_int_t)n;
    *size = (size_t)s;
    return MG_CONF_OK;
}

const char *mg_conf_set_msec(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_msec_t *f = FIELD(mg_msec_t);
    if (*f != MG_CONF_UNSET) {
        return "is duplicate";
    }
    int64_t v = mg_parse_time(cf->args[1], 0);
    if (v < 0) {
        return "invalid value";
    }
    *f = v;
    return MG_CONF_OK;
}

const char *mg_conf_set_enum(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_int_t *f = FIELD(mg_int_t);
    if (*f != MG_CONF_UNSET) {
        return "is duplicate";
    }
    for (const mg_conf_enum_t *e = cmd->post; e->name; e++) {
        if (mg_str_caseeq(cf->args[1], e->name)) {
            *f = e->value;
            return MG_CONF_OK;
        }
    }
    mg_conf_error(cf, 0, "invalid value \"%s\"", cf->args[1].data);
    return MG_CONF_ERROR;
}

const mg_conf_enum_t mg_conf_log_levels[] = {
    {"info", MG_LOG_INFO},
    {"notice", MG_LOG_NOTICE},
    {"warn", MG_LOG_WARN},
    {"error", MG_LOG_ERR},
    {NULL, 0},
};

const char *mg_conf_set_error_status(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_int_t *f = FIELD(mg_int_t);
    if (*f != MG_CONF_UNSET) {
        return "is duplicate";
    }
    int64_t v = mg_atoi(cf->args[1].data, cf->args[1].len);
    if (v < 0) {
        return "invalid number";
    }
    if (v < 400 || v > 599) {
        mg_conf_error(cf, 0, "value must be between 400 and 599");
        return MG_CONF_ERROR;
    }
    *f = (mg_int_t)v;
    return MG_CONF_OK;
}

const char *mg_conf_set_ignored(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)conf;
    if (cmd->post) {
        mg_conf_log(cf, MG_LOG_WARN, 0, "%s", (const char *)cmd->post);
    }
    return MG_CONF_OK;
}
