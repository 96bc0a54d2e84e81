/*
 * ssi: nginx's ngx_http_ssi_module. The body filter runs the SSI commands of a text/html (or
 * ssi_types) response as it streams: text is passed on as it came (file parts of at least
 * ssi_min_file_chunk as file buffers, the rest from the piece read), commands give their
 * output in place: echo, set, config, if/elif/else/endif (one level), block/endblock, and
 * include (file/virtual, wait, set, stub), whose subrequests are in-stream subrequests
 * (core/http/postpone.c) that run in parallel and come out in order. The parser is in
 * ssi_parse.c. SSI variables (set, include set=, named captures) belong to the client's
 * request and are seen by every included page (which runs once the parse of the input at hand
 * stopped, as nginx's posted subrequests: a file is read ahead into output_buffers as nginx's
 * copy filter reads it); $date_local and $date_gmt follow the current
 * "config timefmt".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "filter_queue.h"
#include "filter_types.h"
#include "script.h"
#include "server.h"
#include "ssi.h"
#include "variables.h"

#define DEFAULT_TIMEFMT "%A, %d-%b-%Y %H:%M:%S %Z"
#define DEFAULT_ERRMSG "[an error occurred while processing the directive]"
/* a command's answer when a variable's handler failed: the response fails (nginx's SSI
 * returns NGX_ERROR then: the client's connection is closed), no errmsg */
#define SSI_ABORT MG_ABORT

typedef struct {
    int enable;
    int silent_errors;
    int last_modified;
    int ignore_recycled; /* ssi_ignore_recycled_buffers */
    size_t value_len;
    size_t min_file_chunk;
    mg_filter_types_t types;
} ssi_conf_t;

typedef struct ssi_var_s {
    mg_str_t name; /* lowercase */
    mg_str_t value;
    struct ssi_var_s *next;
} ssi_var_t;

typedef struct ssi_block_s {
    mg_str_t name;
    char *text; /* the block's source, its commands written back as commands */
    size_t len, cap;
    struct ssi_block_s *next;
} ssi_block_t;

enum { ENC_NONE, ENC_URL, ENC_ENTITY };

typedef struct ssi_ctx_s ssi_ctx_t;

struct ssi_ctx_s {
    mg_request_t *r;
    ssi_ctx_t *main; /* the client's request's: its variables */
    ssi_var_t *vars;
    ssi_block_t *blocks;
    ssi_block_t *block; /* being collected */
    mg_ssi_parser_t parser;
    mg_str_t timefmt, errmsg;
    int encoding;
    mg_str_t captures[10]; /* $0..$9 of the last "if" regex */
    int ncaptures;
    /* if: in a conditional, its current branch's output, whether a branch was taken */
    unsigned conditional : 1;
    unsigned in_else : 1; /* past the "else": another else or elif is out of place */
    unsigned output : 1;
    unsigned matched : 1;
    /* input */
    mg_buf_t *in, **in_tail;
    const char *piece; /* the text being parsed (read buffer or the input's memory) */
    size_t piece_len, pos;
    off_t piece_file_pos; /* the piece's place in its file, when it is one */
    int piece_fd;
    unsigned piece_file : 1;
    unsigned piece_set : 1;
    unsigned piece_recycled : 1; /* its memory is reused once written (a file read, buf.h) */
    /* a file is read as nginx's copy filter reads it for a filter that needs memory: into
     * output_buffers (2 x 32k), the next read going ahead while a buffer is free even though
     * what the others gave waits (behind an include): so an include's page runs after that
     * much more of its page was parsed, as in nginx */
    char **rbufs;
    mg_uint_t rcur;  /* the buffer read last */
    mg_uint_t nheld; /* buffers whose output the filters after us may still hold */
    /* output */
    mg_buf_t *out, **out_tail;
    mg_buf_set_t bufs; /* output buffer structs (buf.h) */
    char *sync;        /* a stub run at once: its output gathered here (malloc'ed) */
    size_t sync_len, sync_cap;
    unsigned busy : 1;
    int held;
    unsigned waiting : 1; /* the parse resumes when a subrequest ended (wait, set, file) */
    unsigned done : 1;
    unsigned active : 1;
    unsigned aborted : 1;       /* SSI_ABORT: the body filter fails */
    unsigned error_pending : 1; /* a broken command's errmsg, due at its "-->" */
};

typedef struct {
    ssi_ctx_t *ctx;
    ssi_block_t *stub;
    ssi_var_t *set;
    unsigned wait : 1;
} ssi_include_t;

mg_module_t mg_ssi_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_ssi_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_ssi_module, in);
}

static const char *const default_types[] = {NULL};

/* nginx logs SSI errors while the response is sent */
static void ssi_log(mg_request_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ssi_log(mg_request_t *r, const char *fmt, ...)
{
    char msg[2048]; /* nginx's longest log line */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* this request's log: not the last one included; its context is the producer's (a
     * proxied body's "sending to client", a file's "sending response to client", none for a
     * handler's own bytes) */
    mg_log_error(MG_LOG_ERR, mg_http_request_log(r), 0, "%s", msg);
}

/* ---- output ---- */

static mg_buf_t *out_buf(ssi_ctx_t *ctx)
{
    mg_buf_t *b = mg_buf_set_get(&ctx->bufs, ctx->r->pool);
    *ctx->out_tail = b;
    ctx->out_tail = &b->next;
    return b;
}

/* Output bytes that stay valid until the filters after us took them (pool strings, the
 * piece being parsed). */
static void emit(ssi_ctx_t *ctx, const char *s, size_t len)
{
    if (len == 0) {
        return;
    }
    if (ctx->sync) {
        if (ctx->sync_cap - ctx->sync_len < len) {
            while (ctx->sync_cap - ctx->sync_len < len) {
                ctx->sync_cap *= 2;
            }
            ctx->sync = mg_realloc(ctx->sync, ctx->sync_cap);
        }
        memcpy(ctx->sync + ctx->sync_len, s, len);
        ctx->sync_len += len;
        return;
    }
    mg_buf_t *b = out_buf(ctx);
    b->pos = (char *)s;
    b->last = (char *)s + len;
}

static void block_append(ssi_ctx_t *ctx, const char *s, size_t len)
{
    ssi_block_t *bl = ctx->block;
    if (bl->cap - bl->len < len) {
        size_t cap = bl->cap ? bl->cap * 2 : 256;
        while (cap - bl->len < len) {
            cap *= 2;
        }
        char *t = mg_pnalloc(ctx->r->pool, cap);
        if (bl->len) {
            memcpy(t, bl->text, bl->len);
        }
        bl->text = t;
        bl->cap = cap;
    }
    memcpy(bl->text + bl->len, s, len);
    bl->len += len;
}

/* Text of the body: passed on unless a false branch or a block has it. A long enough part of
 * a file goes as a file buffer (ssi_min_file_chunk), without a copy. */
static void emit_text(ssi_ctx_t *ctx, const char *s, const char *e, int from_piece)
{
    if (ctx->block) {
        block_append(ctx, s, (size_t)(e - s));
        return;
    }
    if (!ctx->output || s == e) {
        return;
    }
    ssi_conf_t *conf = mg_http_get_loc_conf(ctx->r, mg_ssi_module);
    if (from_piece && ctx->piece_file && !ctx->sync && (size_t)(e - s) >= conf->min_file_chunk) {
        mg_buf_t *b = out_buf(ctx);
        b->in_file = 1;
        b->fd = ctx->piece_fd;
        b->file_pos = ctx->piece_file_pos + (s - ctx->piece);
        b->file_last = b->file_pos + (e - s);
        return;
    }
    emit(ctx, s, (size_t)(e - s));
}

/* The errmsg, as nginx: also in a false branch (an else or elif out of place there) and in a
 * block (a broken command there), where text is not passed on. */
static void emit_error(ssi_ctx_t *ctx)
{
    ssi_conf_t *conf = mg_http_get_loc_conf(ctx->r, mg_ssi_module);
    if (!conf->silent_errors) {
        emit(ctx, ctx->errmsg.data, ctx->errmsg.len);
    }
}

/* What was given on was taken: the output structs and the read buffers are free again, but
 * the one of the piece being parsed. */
static void bufs_free(ssi_ctx_t *ctx)
{
    mg_buf_set_reset(&ctx->bufs);
    ctx->nheld = ctx->piece_set && ctx->piece_file;
}

/* Give what was made so far to the filters after us. */
static mg_int_t pass_out(ssi_ctx_t *ctx)
{
    if (ctx->out == NULL) {
        return MG_OK;
    }
    mg_buf_t *out = ctx->out;
    ctx->out = NULL;
    ctx->out_tail = &ctx->out;
    mg_request_t *r = ctx->r;
    mg_int_t rc = next_body_filter(r, out);
    if (rc == MG_OK && !ctx->busy) {
        bufs_free(ctx);
    } else if (rc == MG_AGAIN) {
        ctx->busy = 1;
    }
    return rc;
}

/* ---- variables ---- */

static ssi_var_t *find_var(ssi_ctx_t *ctx, mg_str_t name)
{
    for (ssi_var_t *v = ctx->main->vars; v; v = v->next) {
        if (v->name.len == name.len && mg_strncasecmp(v->name.data, name.data, name.len) == 0) {
            return v;
        }
    }
    return NULL;
}

static void set_var(ssi_ctx_t *ctx, mg_str_t name, mg_str_t value)
{
    ssi_ctx_t *m = ctx->main;
    ssi_var_t *v = find_var(ctx, name);
    if (v == NULL) {
        v = mg_pcalloc(m->r->pool, sizeof(*v));
        char *low = mg_pnalloc(m->r->pool, name.len);
        mg_strlow(low, name.data, name.len);
        v->name = (mg_str_t){name.len, low};
        v->next = m->vars;
        m->vars = v;
    }
    v->value = mg_pstr(m->r->pool, value.data, value.len);
}

/* A variable's value for echo and expressions: SSI variables, the last regex's captures,
 * then the request's variables. 0 when it has none, -1 when its handler failed. */
static int get_var(ssi_ctx_t *ctx, mg_str_t name, mg_str_t *value)
{
    ssi_var_t *v = find_var(ctx, name);
    if (v) {
        *value = v->value;
        return 1;
    }
    if (name.len == 1 && name.data[0] >= '0' && name.data[0] <= '9') {
        int n = name.data[0] - '0';
        if (n < ctx->ncaptures) {
            *value = ctx->captures[n];
            return 1;
        }
        return 0;
    }
    char *low = mg_pnalloc(ctx->r->pool, name.len ? name.len : 1);
    mg_strlow(low, name.data, name.len);
    mg_http_var_value_t *vv = mg_http_get_variable(ctx->r, (mg_str_t){name.len, low});
    if (vv == NULL || vv->not_found) {
        return vv && vv->failed ? -1 : 0;
    }
    *value = vv->value;
    return 1;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A parameter's text with $name and ${name} replaced by their values, as nginx reads it: a
 * backslash before \ ' " $ gives that character, before any other it stays. MG_OK with *out
 * set; MG_ERROR for a "$" without a name or a "${" without its "}" (logged: the errmsg);
 * SSI_ABORT when a variable's handler failed (nginx then fails the response). */
static mg_int_t evaluate(ssi_ctx_t *ctx, mg_str_t s, mg_str_t *out)
{
    if (memchr(s.data, '$', s.len) == NULL && memchr(s.data, '\\', s.len) == NULL) {
        *out = s;
        return MG_OK;
    }
    size_t cap = s.len + 64, len = 0;
    char *buf = mg_alloc(cap);
    mg_int_t rc = MG_OK;
    for (size_t i = 0; i < s.len;) {
        mg_str_t add;
        if (s.data[i] == '\\' && i + 1 < s.len) {
            char n = s.data[i + 1];
            int drop = n == '\\' || n == '\'' || n == '"' || n == '$';
            add = (mg_str_t){drop ? 1 : 2, s.data + i + drop};
            i += 2;
        } else if (s.data[i] == '$') {
            size_t j = i + 1, e;
            int brace = j < s.len && s.data[j] == '{';
            if (brace) {
                j++;
            }
            for (e = j; e < s.len && is_name_char(s.data[e]); e++) {
            }
            mg_str_t name = {e - j, s.data + j};
            if (brace && (e == s.len || s.data[e] != '}')) {
                ssi_log(ctx->r, "the closing bracket in \"%.*s\" variable is missing",
                        (int)name.len, name.data);
                rc = MG_ERROR;
                break;
            }
            if (name.len == 0) {
                ssi_log(ctx->r, "invalid variable name in \"%.*s\"", (int)s.len, s.data);
                rc = MG_ERROR;
                break;
            }
            i = brace ? e + 1 : e;
            int got = get_var(ctx, name, &add);
            if (got < 0) {
                rc = SSI_ABORT;
                break;
            }
            if (got == 0) {
                continue;
            }
        } else {
            add = (mg_str_t){1, s.data + i};
            i++;
        }
        if (cap - len < add.len) {
            while (cap - len < add.len) {
                cap *= 2;
            }
            buf = mg_realloc(buf, cap);
        }
        memcpy(buf + len, add.data, add.len);
        len += add.len;
    }
    if (rc == MG_OK) {
        *out = mg_pstr(ctx->r->pool, buf, len);
    }
    free(buf);
    return rc;
}

/* $date_local, $date_gmt: now, in the current request's "config timefmt". A format that
 * gives nothing (timefmt="", or more than nginx's 2048 bytes) fails the variable, as nginx's:
 * echo then prints the errmsg. */
static mg_int_t var_date(mg_request_t *r, mg_http_var_value_t *v, uintptr_t gmt)
{
    ssi_ctx_t *ctx = mg_http_get_ctx(r, mg_ssi_module);
    mg_str_t fmt = ctx ? ctx->timefmt : (mg_str_t)mg_string(DEFAULT_TIMEFMT);
    time_t now = (time_t)mg_now.sec;
    char buf[2048];
    size_t len;
    if (fmt.len == 2 && fmt.data[0] == '%' && fmt.data[1] == 's') {
        len = (size_t)snprintf(buf, sizeof(buf), "%lld", (long long)now);
    } else {
        struct tm tm;
        if (gmt) {
            gmtime_r(&now, &tm);
        } else {
            localtime_r(&now, &tm);
        }
        char *f = mg_pnalloc(r->pool, fmt.len + 1);
        memcpy(f, fmt.data, fmt.len);
        f[fmt.len] = '\0';
        len = strftime(buf, sizeof(buf), f, &tm);
        if (len == 0) {
            return MG_ERROR;
        }
    }
    v->value = mg_pstr(r->pool, buf, len);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return MG_OK;
}

/* ---- commands ---- */

typedef struct {
    const char *name;
    const char *params[6]; /* the names it takes */
    unsigned mandatory;    /* bits of params */
    unsigned cond : 1;     /* runs inside a false branch too (if, elif, else, endif) */
    unsigned block : 1;    /* runs inside a block (block, endblock) */
    mg_int_t (*run)(ssi_ctx_t *ctx, mg_str_t *params);
} ssi_command_t;

/* An echo's value as its encoding asks: "url" is nginx's HTML escape set, "entity" the four
 * HTML entities. */
static void put_encoded(ssi_ctx_t *ctx, mg_str_t v)
{
    if (ctx->encoding == ENC_URL) {
        size_t n = mg_http_escape(v.data, v.len, NULL, MG_ESCAPE_HTML);
        if (n != v.len) {
            char *o = mg_pnalloc(ctx->r->pool, n);
            v = (mg_str_t){mg_http_escape(v.data, v.len, o, MG_ESCAPE_HTML), o};
        }
        emit(ctx, v.data, v.len);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < v.len && ctx->encoding == ENC_ENTITY; i++) {
        unsigned char c = (unsigned char)v.data[i];
        n += c == '<' || c == '>' ? 4 : c == '&' ? 5 : c == '"' ? 6 : 1;
    }
    if (ctx->encoding == ENC_NONE || n == v.len) {
        emit(ctx, v.data, v.len);
        return;
    }
    char *o = mg_pnalloc(ctx->r->pool, n), *p = o;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.data[i];
        const char *rep = c == '<'   ? "&lt;"
                          : c == '>' ? "&gt;"
                          : c == '&' ? "&amp;"
                          : c == '"' ? "&quot;"
                                     : NULL;
        if (rep) {
            size_t l = strlen(rep);
            memcpy(p, rep, l);
            p += l;
        } else {
            *p++ = (char)c;
        }
    }
    emit(ctx, o, (size_t)(p - o));
}

static mg_int_t cmd_echo(ssi_ctx_t *ctx, mg_str_t *pm)
{
    if (pm[1].data) {
        if (mg_str_eq(pm[1], "none")) {
            ctx->encoding = ENC_NONE;
        } else if (mg_str_eq(pm[1], "url")) {
            ctx->encoding = ENC_URL;
        } else if (mg_str_eq(pm[1], "entity")) {
            ctx->encoding = ENC_ENTITY;
        } else {
            /* as nginx: logged, and the echo goes on in the encoding it had */
            ssi_log(ctx->r, "unknown encoding \"%.*s\" in the \"echo\" command", (int)pm[1].len,
                    pm[1].data);
        }
    }
    mg_str_t value;
    int got = get_var(ctx, pm[0], &value);
    if (got < 0) {
        return MG_ERROR; /* the errmsg */
    }
    if (got == 0) {
        /* the parameter is the parser's: the next command overwrites it */
        value = pm[2].data ? mg_pstr(ctx->r->pool, pm[2].data, pm[2].len)
                           : (mg_str_t)mg_string("(none)");
    }
    put_encoded(ctx, value);
    return MG_OK;
}

static mg_int_t cmd_set(ssi_ctx_t *ctx, mg_str_t *pm)
{
    mg_str_t value;
    mg_int_t rc = evaluate(ctx, pm[1], &value);
    if (rc == MG_OK) {
        set_var(ctx, pm[0], value);
    }
    return rc;
}

static mg_int_t cmd_config(ssi_ctx_t *ctx, mg_str_t *pm)
{
    if (pm[0].data) {
        ctx->errmsg = mg_pstr(ctx->r->pool, pm[0].data, pm[0].len);
    }
    if (pm[1].data) {
        ctx->timefmt = mg_pstr(ctx->r->pool, pm[1].data, pm[1].len);
    }
    return MG_OK;
}

/* What nginx reads as the left side of an expression (its "'" included). */
static int is_left_char(char c)
{
    return is_name_char(c) || c == '$' || c == '{' || c == '}' || c == '\'';
}

/* "$a", "$a = text", "$a != text", "$a = /re/", "$a != /re/": 1, 0, MG_ERROR or SSI_ABORT.
 * As nginx: an empty left side is "" (expr="" is false), the right side runs to the end,
 * a right side of "/" alone is text, and a regex's text has its variables replaced. */
static mg_int_t expression(ssi_ctx_t *ctx, mg_str_t expr)
{
    const char *p = expr.data, *end = expr.data + expr.len;
    const char *l = p;
    while (p < end && is_left_char(*p)) {
        p++;
    }
    mg_str_t left;
    mg_int_t rc = evaluate(ctx, (mg_str_t){(size_t)(p - l), (char *)l}, &left);
    if (rc != MG_OK) {
        return rc;
    }
    while (p < end && *p == ' ') {
        p++;
    }
    if (p == end) {
        return left.len != 0;
    }
    int negate = 0;
    if (*p == '!' && p + 1 < end && p[1] == '=') {
        negate = 1;
        p++;
    } else if (*p != '=') {
        goto invalid;
    }
    p++;
    while (p < end && *p == ' ') {
        p++;
    }
    mg_str_t right = {(size_t)(end - p), (char *)p};
    int eq;
    if (right.len >= 2 && right.data[0] == '/') {
        if (right.data[right.len - 1] != '/') {
            goto invalid;
        }
        mg_str_t pat;
        rc = evaluate(ctx, (mg_str_t){right.len - 2, right.data + 1}, &pat);
        if (rc != MG_OK) {
            return rc;
        }
        char err[256];
        mg_regex_t *re = mg_regex_compile(ctx->r->pool, pat, 0, err, sizeof(err));
        if (re == NULL) {
            ssi_log(ctx->r, "%s", err);
            return MG_ERROR;
        }
        int ov[20];
        mg_int_t rc = mg_regex_exec(re, left.data, left.len, ov, 20);
        if (rc == MG_ERROR) {
            return MG_ERROR;
        }
        eq = rc > 0;
        if (eq) {
            /* the captures outlive the value they came from: copied */
            mg_str_t subj = mg_pstr(ctx->r->pool, left.data, left.len);
            ctx->ncaptures = (int)rc;
            for (int k = 0; k < rc && k < 10; k++) {
                ctx->captures[k] = ov[2 * k] < 0 ? (mg_str_t){0, ""}
                                                 : (mg_str_t){(size_t)(ov[2 * k + 1] - ov[2 * k]),
                                                              subj.data + ov[2 * k]};
            }
            for (int k = 0; k < re->nnames; k++) {
                int g = re->names[k].index;
                if (g < rc && ov[2 * g] >= 0) {
                    set_var(ctx, re->names[k].name,
                            (mg_str_t){(size_t)(ov[2 * g + 1] - ov[2 * g]), subj.data + ov[2 * g]});
                }
            }
        }
    } else {
        mg_str_t v;
        rc = evaluate(ctx, right, &v);
        if (rc != MG_OK) {
            return rc;
        }
        eq = mg_str_eq_str(left, v);
    }
    return negate ? !eq : eq;
invalid:
    ssi_log(ctx->r, "invalid expression in \"%.*s\"", (int)expr.len, expr.data);
    return MG_ERROR;
}

static mg_int_t cmd_if(ssi_ctx_t *ctx, mg_str_t *pm)
{
    if (ctx->conditional) {
        ssi_log(ctx->r, "the \"if\" command inside the \"if\" command");
        return MG_ERROR;
    }
    mg_int_t rc = expression(ctx, pm[0]);
    if (rc < 0) {
        return rc;
    }
    ctx->conditional = 1;
    ctx->output = rc != 0;
    ctx->matched = rc != 0;
    return MG_OK;
}

static mg_int_t cmd_elif(ssi_ctx_t *ctx, mg_str_t *pm)
{
    if (ctx->matched) {
        ctx->output = 0;
        return MG_OK;
    }
    mg_int_t rc = expression(ctx, pm[0]);
    if (rc < 0) {
        return rc;
    }
    ctx->output = rc != 0;
    ctx->matched = rc != 0;
    return MG_OK;
}

static mg_int_t cmd_else(ssi_ctx_t *ctx, mg_str_t *pm)
{
    (void)pm;
    ctx->output = !ctx->matched;
    ctx->matched = 1;
    ctx->in_else = 1;
    return MG_OK;
}

static mg_int_t cmd_endif(ssi_ctx_t *ctx, mg_str_t *pm)
{
    (void)pm;
    ctx->conditional = 0;
    ctx->in_else = 0;
    ctx->output = 1;
    ctx->matched = 0;
    return MG_OK;
}

static mg_int_t cmd_block(ssi_ctx_t *ctx, mg_str_t *pm)
{
    ssi_block_t *bl = mg_pcalloc(ctx->r->pool, sizeof(*bl));
    bl->name = mg_pstr(ctx->r->pool, pm[0].data, pm[0].len);
    bl->next = ctx->blocks;
    ctx->blocks = bl;
    ctx->block = bl;
    return MG_OK;
}

static mg_int_t cmd_endblock(ssi_ctx_t *ctx, mg_str_t *pm)
{
    (void)pm;
    ctx->block = NULL;
    return MG_OK;
}

static void run_sync(ssi_ctx_t *ctx, const char *text, size_t len);

/* The parse goes on from the loop (a subrequest it waited for ended); a response whose end
 * got through is finalized as the writer would (its producer's MG_AGAIN waits for that). */
static void redrive(ssi_ctx_t *ctx)
{
    mg_request_t *r = ctx->r;
    ctx->waiting = 0;
    if (mg_http_output(r, NULL) == MG_ERROR) {
        mg_http_finalize_request(r, MG_ERROR);
        return;
    }
    if (!r->buffered && r->last_queued && !r->finalized) {
        mg_http_finalize_request(r, MG_OK);
    }
}

/* An included request ended (in-stream: before its body is passed on). A stub stands for an
 * empty body or an error status, run in the included request's context when it is SSI
 * itself, as nginx sends the block through the included request's filters. */
static void include_done(mg_request_t *sr, void *data)
{
    ssi_include_t *inc = data;
    ssi_ctx_t *ctx = inc->ctx;
    if (mg_http_subrequest_too_big(sr)) {
        /* as nginx: a "set" include beyond subrequest_output_buffer_size ends the client's
         * request (what went out stays; the connection closes) */
        mg_request_t *r = ctx->r;
        mg_http_finalize_request(r->parent ? r->main : r, MG_ERROR);
        return;
    }
    int broken = mg_http_subrequest_broken(sr);
    if (inc->stub && !(broken && (sr->header_sent || mg_http_subrequest_broken_by_error(sr)))) {
        /* as nginx's: the stub stands for a response that gave nothing (its body may have
         * been passed on already) or for the error page made for its status; an error
         * status whose body came from its handler (a proxied 404) stays. Not for MG_ERROR,
         * nor for a 444 after output: they end the client's request (postpone.c) */
        if (sr->bytes_sent == 0 || mg_http_subrequest_error_page(sr)) {
            ssi_ctx_t *sctx = mg_http_get_ctx(sr, mg_ssi_module);
            char *text;
            size_t len;
            if (sctx && sctx->active) {
                run_sync(sctx, inc->stub->text, inc->stub->len);
                text = sctx->sync;
                len = sctx->sync_len;
                sctx->sync = NULL;
            } else {
                len = inc->stub->len;
                text = mg_alloc(len ? len : 1);
                memcpy(text, inc->stub->text, len);
            }
            mg_http_subrequest_replace_body(sr, text, len);
        }
    }
    if (inc->set) {
        /* "set": the body of a success becomes the variable; the request's pool keeps it.
         * No body or an error leaves the value it had, as nginx. */
        mg_str_t body = mg_http_subrequest_body(sr);
        if (sr->headers_out.status < MG_HTTP_SPECIAL_RESPONSE && body.len) {
            inc->set->value = mg_pstr(ctx->main->r->pool, body.data, body.len);
        }
    }
    if (inc->wait) {
        ctx->waiting = 0;
        if (inc->set) {
            /* not in the stream: the parse goes on from here (the loop called us); an
             * in-stream one goes on when the postpone filter passed its body on */
            redrive(ctx);
        }
    }
}

/* The unsafe URIs nginx refuses for an include: a "." or ".." path segment. */
static int unsafe_uri(mg_str_t u)
{
    for (size_t i = 0; i < u.len;) {
        size_t j = i;
        while (j < u.len && u.data[j] != '/') {
            j++;
        }
        size_t n = j - i;
        if ((n == 1 && u.data[i] == '.') || (n == 2 && u.data[i] == '.' && u.data[i + 1] == '.')) {
            return 1;
        }
        i = j + 1;
    }
    return 0;
}

static mg_int_t cmd_include(ssi_ctx_t *ctx, mg_str_t *pm)
{
    mg_request_t *r = ctx->r;
    mg_str_t uri = pm[0].data ? pm[0] : pm[1];
    if (pm[0].data && pm[1].data) {
        ssi_log(r, "inclusion may be either virtual=\"%.*s\" or file=\"%.*s\"", (int)pm[0].len,
                pm[0].data, (int)pm[1].len, pm[1].data);
        return MG_ERROR;
    }
    if (uri.data == NULL) {
        ssi_log(r, "no parameter in \"include\" SSI command");
        return MG_ERROR;
    }
    if (pm[2].data && pm[4].data) {
        ssi_log(r, "\"set\" and \"stub\" cannot be used together in \"include\" SSI command");
        return MG_ERROR;
    }
    int wait = 0;
    if (pm[3].data) {
        if (mg_str_eq(pm[3], "yes")) {
            wait = 1;
        } else if (!mg_str_eq(pm[3], "no")) {
            ssi_log(r, "invalid value \"%.*s\" in the \"wait\" parameter", (int)pm[3].len,
                    pm[3].data);
            return MG_ERROR;
        }
    }
    ssi_block_t *stub = NULL;
    if (pm[2].data) {
        for (stub = ctx->blocks; stub && !mg_str_eq_str(stub->name, pm[2]); stub = stub->next) {
        }
        if (stub == NULL) {
            ssi_log(r, "\"stub\"=\"%.*s\" for \"include\" not found", (int)pm[2].len, pm[2].data);
            return MG_ERROR;
        }
    }
    if (ctx->sync) {
        /* a stub being run after its request ended cannot start another */
        return MG_ERROR;
    }
    mg_int_t erc = evaluate(ctx, uri, &uri);
    if (erc != MG_OK) {
        return erc;
    }
    if (uri.len == 0 || uri.data[0] != '/') {
        /* relative to the current URI's directory */
        size_t dir = r->uri.len;
        while (dir && r->uri.data[dir - 1] != '/') {
            dir--;
        }
        char *abs = mg_pnalloc(r->pool, dir + uri.len);
        memcpy(abs, r->uri.data, dir);
        memcpy(abs + dir, uri.data, uri.len);
        uri = (mg_str_t){dir + uri.len, abs};
    }
    mg_str_t args = {0, NULL};
    char *q = memchr(uri.data, '?', uri.len);
    if (q) {
        args = (mg_str_t){uri.len - (size_t)(q - uri.data) - 1, q + 1};
        uri.len = (size_t)(q - uri.data);
    }
    if (unsafe_uri(uri)) {
        ssi_log(r, "unsafe URI \"%.*s\" was detected", (int)uri.len, uri.data);
        return MG_ERROR;
    }
    ssi_include_t *inc = mg_pcalloc(r->pool, sizeof(*inc));
    inc->ctx = ctx;
    inc->stub = stub;
    /* as nginx: "set" and "file" wait for the included response (file= always does) */
    inc->wait = wait || pm[4].data || pm[1].data;
    mg_request_t *sr;
    mg_int_t rc;
    if (pm[4].data) {
        /* set: the response goes into a variable, not the stream */
        inc->set = find_var(ctx, pm[4]);
        if (inc->set == NULL) {
            set_var(ctx, pm[4], (mg_str_t){0, ""});
            inc->set = find_var(ctx, pm[4]);
        }
        rc = mg_http_subrequest(r, uri, &args, include_done, inc, &sr);
        if (rc == MG_OK) {
            mg_http_subrequest_in_memory(sr);
        }
    } else {
        /* what was parsed before goes first, the included response after it */
        if (pass_out(ctx) == MG_ERROR) {
            return MG_ERROR;
        }
        rc = mg_http_subrequest_inline(r, uri, &args, include_done, inc, &sr);
        if (rc == MG_OK) {
            /* nginx's active subrequest: passed on as it comes once its turn came; with a
             * stub, an error page is held (the stub may stand for it) */
            mg_http_subrequest_stream(sr, stub != NULL);
        }
    }
    if (rc != MG_OK) {
        ssi_log(r, "subrequests cycle while processing \"%.*s\"", (int)uri.len, uri.data);
        return MG_ERROR;
    }
    if (inc->wait) {
        ctx->waiting = 1;
    }
    /* else the parse goes on through the input at hand, as nginx's: the subrequest starts
     * from the loop (nginx's posted requests) once this filter returned, so the included
     * page sees the SSI variables as they are then */
    return MG_OK;
}

static const ssi_command_t commands[] = {
    {"echo", {"var", "encoding", "default"}, 1, 0, 0, cmd_echo},
    {"set", {"var", "value"}, 3, 0, 0, cmd_set},
    {"config", {"errmsg", "timefmt"}, 0, 0, 0, cmd_config},
    {"include", {"virtual", "file", "stub", "wait", "set"}, 0, 0, 0, cmd_include},
    {"if", {"expr"}, 1, 1, 0, cmd_if},
    {"elif", {"expr"}, 1, 1, 0, cmd_elif},
    {"else", {NULL}, 0, 1, 0, cmd_else},
    {"endif", {NULL}, 0, 1, 0, cmd_endif},
    {"block", {"name"}, 1, 0, 1, cmd_block},
    {"endblock", {NULL}, 0, 0, 1, cmd_endblock},
    {NULL, {NULL}, 0, 0, 0, NULL},
};

/* The command as written, for a block's text. */
static void block_command(ssi_ctx_t *ctx)
{
    mg_ssi_parser_t *p = &ctx->parser;
    block_append(ctx, "<!--#", 5);
    block_append(ctx, p->command, p->command_len);
    for (size_t i = 0; i < p->nparams; i++) {
        block_append(ctx, " ", 1);
        block_append(ctx, p->params[i].name.data, p->params[i].name.len);
        block_append(ctx, "=\"", 2);
        /* as stored, escapes kept (ssi_parse.c), as nginx writes it back: a single-quoted
         * value's bare '"' stays bare */
        block_append(ctx, p->params[i].value.data, p->params[i].value.len);
        block_append(ctx, "\"", 1);
    }
    block_append(ctx, " -->", 4);
}

/* Run a complete command. */
static void run_command(ssi_ctx_t *ctx)
{
    mg_ssi_parser_t *p = &ctx->parser;
    const ssi_command_t *c;
    for (c = commands; c->name && strcmp(c->name, p->command) != 0; c++) {
    }
    if (ctx->block && c->name && !c->block) {
        block_command(ctx);
        return;
    }
    if (c->name == NULL) {
        /* in a false branch or a block: dropped without a word, as nginx */
        if (ctx->output && !ctx->block) {
            ssi_log(ctx->r, "invalid SSI command: \"%s\"", p->command);
            emit_error(ctx);
        }
        return;
    }
    if (!ctx->output && !c->cond) {
        return;
    }
    if (c->cond && c->run != cmd_if &&
        (!ctx->conditional || (ctx->in_else && c->run != cmd_endif))) {
        ssi_log(ctx->r, "invalid context of SSI command: \"%s\"", p->command);
        emit_error(ctx);
        return;
    }
    if (!ctx->output && c->run == cmd_if) {
        return; /* an "if" in a false branch: the nesting error is the true branch's */
    }
    mg_str_t pm[6];
    memset(pm, 0, sizeof(pm));
    for (size_t i = 0; i < p->nparams; i++) {
        size_t k;
        for (k = 0; k < 6 && c->params[k] && !mg_str_eq(p->params[i].name, c->params[k]); k++) {
        }
        if (k == 6 || c->params[k] == NULL) {
            ssi_log(ctx->r, "invalid parameter name: \"%.*s\" in \"%s\" SSI command",
                    (int)p->params[i].name.len, p->params[i].name.data, p->command);
            emit_error(ctx);
            return;
        }
        if (pm[k].data) {
            ssi_log(ctx->r, "duplicate \"%.*s\" parameter in \"%s\" SSI command",
                    (int)p->params[i].name.len, p->params[i].name.data, p->command);
            emit_error(ctx);
            return;
        }
        pm[k] = p->params[i].value;
        if (pm[k].data == NULL) {
            pm[k].data = "";
        }
    }
    for (size_t k = 0; k < 6 && c->params[k]; k++) {
        if ((c->mandatory & (1u << k)) && pm[k].data == NULL) {
            ssi_log(ctx->r, "mandatory \"%s\" parameter is absent in \"%s\" SSI command",
                    c->params[k], p->command);
            emit_error(ctx);
            return;
        }
    }
    mg_int_t rc = c->run(ctx, pm);
    if (rc == SSI_ABORT && !ctx->sync) {
        ctx->aborted = 1;
    } else if (rc != MG_OK) {
        emit_error(ctx); /* a stub's run after its request ended cannot fail that one */
    }
}

/* A broken command's errmsg once its "-->" went by (at the body's end: dropped, as nginx). */
static void broken_end(ssi_ctx_t *ctx, int body_end)
{
    if (ctx->error_pending && !mg_ssi_parse_skipping(&ctx->parser)) {
        emit_error(ctx);
    }
    if (body_end || !mg_ssi_parse_skipping(&ctx->parser)) {
        ctx->error_pending = 0;
    }
}

/* Parse the current piece on; stops at its end or when a command makes it wait. */
static void parse_piece(ssi_ctx_t *ctx)
{
    while (!ctx->waiting && !ctx->aborted) {
        const char *s, *e;
        int rc = mg_ssi_parse(&ctx->parser, ctx->piece, ctx->piece_len, &ctx->pos, &s, &e);
        broken_end(ctx, 0);
        if (rc == MG_SSI_AGAIN) {
            return;
        }
        if (rc == MG_SSI_TEXT) {
            emit_text(ctx, s, e, 1);
        } else if (rc == MG_SSI_PREFIX) {
            emit_text(ctx, s, e, 0);
        } else if (rc == MG_SSI_COMMAND) {
            run_command(ctx);
        } else {
            ssi_log(ctx->r, "%s", ctx->parser.error);
            ctx->error_pending = 1;
            broken_end(ctx, 0);
        }
    }
}

/* A stub's text run at once in an included request's context, its output gathered in
 * ctx->sync (malloc'ed, the caller's). */
static void run_sync(ssi_ctx_t *ctx, const char *text, size_t len)
{
    mg_ssi_parser_t saved = ctx->parser;
    const char *piece = ctx->piece;
    size_t piece_len = ctx->piece_len, pos = ctx->pos;
    ctx->sync_cap = len + 64;
    ctx->sync_len = 0;
    ctx->sync = mg_alloc(ctx->sync_cap);
    ssi_conf_t *conf = mg_http_get_loc_conf(ctx->r, mg_ssi_module);
    mg_ssi_parser_init(&ctx->parser, ctx->r->pool, conf->value_len);
    ctx->piece = text;
    ctx->piece_len = len;
    ctx->pos = 0;
    ctx->piece_file = 0;
    parse_piece(ctx);
    const char *s, *e;
    broken_end(ctx, 1);
    if (mg_ssi_parse_end(&ctx->parser, &s, &e) == MG_SSI_PREFIX) {
        emit_text(ctx, s, e, 0);
    }
    ctx->parser = saved;
    ctx->piece = piece;
    ctx->piece_len = piece_len;
    ctx->pos = pos;
}

/* ---- the filter ---- */

static mg_int_t ssi_header_filter(mg_request_t *r)
{
    ssi_conf_t *conf = mg_http_get_loc_conf(r, mg_ssi_module);
    if (!conf->enable || r->headers_out.content_length_n == 0 ||
        !mg_filter_types_test(r, &conf->types)) {
        return next_header_filter(r);
    }
    ssi_ctx_t *ctx = mg_pcalloc(r->pool, sizeof(*ctx));
    ctx->r = r;
    ctx->active = 1;
    ctx->main = ctx;
    if (r->parent) {
        ssi_ctx_t *m = mg_http_get_ctx(r->main, mg_ssi_module);
        if (m == NULL) {
            /* the client's response is not SSI: its ctx still holds the variables */
            m = mg_pcalloc(r->main->pool, sizeof(*m));
            m->r = r->main;
            m->main = m;
            mg_http_set_ctx(r->main, m, mg_ssi_module);
        }
        ctx->main = m->main;
    }
    mg_ssi_parser_init(&ctx->parser, r->pool, conf->value_len);
    ctx->timefmt = (mg_str_t)mg_string(DEFAULT_TIMEFMT);
    ctx->errmsg = (mg_str_t)mg_string(DEFAULT_ERRMSG);
    ctx->encoding = ENC_ENTITY;
    ctx->output = 1;
    ctx->in_tail = &ctx->in;
    ctx->out_tail = &ctx->out;
    mg_http_set_ctx(r, ctx, mg_ssi_module);
    if (r->parent == NULL) {
        mg_http_clear_content_length(r);
        mg_http_clear_accept_ranges(r);
        if (!conf->last_modified) {
            mg_http_clear_last_modified(r);
            mg_filter_clear_etag(r);
        } else {
            mg_filter_weak_etag(r);
        }
    }
    return next_header_filter(r);
}

/* Take the next piece of input to parse: a read of a file buffer, or a memory buffer whole.
 * 0 when the input is used up (its end handled), MG_ERROR. */
static mg_int_t next_piece(ssi_ctx_t *ctx)
{
    mg_request_t *r = ctx->r;
    while (ctx->in) {
        mg_buf_t *b = ctx->in;
        if (b->in_file && b->file_pos < b->file_last) {
            mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
            if (ctx->rbufs == NULL) {
                ctx->rbufs = mg_pcalloc(r->pool, (size_t)clcf->output_buffers_num * sizeof(char *));
            }
            ctx->rcur = (ctx->rcur + 1) % (mg_uint_t)clcf->output_buffers_num;
            ctx->nheld++;
            size_t size = clcf->output_buffers_size;
            size_t want = (size_t)(b->file_last - b->file_pos);
            /* as nginx's copy filter: a single buffer takes a file's last part whole when it
             * is less than 1.25 times its size */
            int whole = clcf->output_buffers_num == 1 && (b->last_buf || b->last_in_chain) &&
                        want < size + size / 4;
            want = whole ? want : mg_min(want, size);
            char *rbuf = ctx->rbufs[ctx->rcur];
            if (want > size) {
                rbuf = mg_pnalloc(r->pool, want);
            } else if (rbuf == NULL) {
                rbuf = ctx->rbufs[ctx->rcur] = mg_pnalloc(r->pool, size);
            }
            ssize_t n = pread(b->fd, rbuf, want, b->file_pos);
            if (n <= 0) {
                mg_log_error(MG_LOG_CRIT, &r->connection->log, n < 0 ? errno : 0,
                             n < 0 ? "pread() failed" : "pread() read only 0 of %zu", want);
                return MG_ERROR;
            }
            ctx->piece = rbuf;
            ctx->piece_len = (size_t)n;
            ctx->piece_file = 1;
            ctx->piece_fd = b->fd;
            ctx->piece_file_pos = b->file_pos;
            ctx->piece_recycled = 1; /* the read buffer: nginx's copy filter's are recycled */
            b->file_pos += n;
            ctx->pos = 0;
            ctx->piece_set = 1;
            return 1;
        }
        if (!b->in_file && b->pos < b->last) {
            ctx->piece = b->pos;
            ctx->piece_len = (size_t)(b->last - b->pos);
            ctx->piece_file = 0;
            ctx->piece_recycled = b->recycled;
            b->pos = b->last;
            ctx->pos = 0;
            ctx->piece_set = 1;
            return 1;
        }
        /* the buffer is used up: its flags */
        ctx->in = b->next;
        if (ctx->in == NULL) {
            ctx->in_tail = &ctx->in;
        }
        if (b->last_buf || b->last_in_chain) {
            const char *s, *e;
            broken_end(ctx, 1);
            if (mg_ssi_parse_end(&ctx->parser, &s, &e) == MG_SSI_PREFIX) {
                emit_text(ctx, s, e, 0);
            }
        }
        if (b->last_buf || b->flush || b->last_in_chain) {
            mg_buf_t *f = out_buf(ctx);
            f->last_buf = b->last_buf;
            f->flush = b->flush;
            f->last_in_chain = b->last_in_chain;
            if (b->last_buf) {
                ctx->done = 1;
                return 0;
            }
        }
    }
    return 0;
}

/* A recycled piece was parsed: as nginx, what it gave ends in a recycled buffer, so the
 * writer sends it now even when it is short of postpone_output, as the piece's producer
 * would. With ssi_ignore_recycled_buffers on it may be held and gathered instead (nginx then
 * also keeps the producer's buffer; moongate's writer copies what it holds: nothing waits). */
static void piece_done(ssi_ctx_t *ctx)
{
    ssi_conf_t *conf = mg_http_get_loc_conf(ctx->r, mg_ssi_module);
    if (!conf->ignore_recycled && !ctx->sync) {
        out_buf(ctx)->recycled = 1; /* empty: only the mark */
    }
}

static mg_int_t ssi_body_filter(mg_request_t *r, mg_buf_t *in)
{
    ssi_ctx_t *ctx = mg_http_get_ctx(r, mg_ssi_module);
    if (ctx == NULL || !ctx->active || r->header_only) {
        return next_body_filter(r, in);
    }
    if (ctx->aborted) {
        return MG_ERROR;
    }
    int given = in != NULL;
    mg_filter_queue_append(&ctx->in_tail, in);
    if (ctx->held) {
        mg_filter_release(r, &ctx->held);
        r->buffered_waits = 0;
    }
    mg_int_t rc = MG_OK;
    int passed = 0;
    for (;;) {
        if (ctx->waiting) {
            /* a "wait" or "set" include: what was parsed before it goes on (as nginx's
             * "flush" commands pass it: the writer may hold it for postpone_output) */
            if (pass_out(ctx) == MG_ERROR) {
                return MG_ERROR;
            }
            mg_filter_hold(r, &ctx->held);
            r->buffered_waits = 1; /* the include's end drives us again (redrive) */
            return MG_AGAIN;
        }
        if (ctx->piece_set && ctx->pos < ctx->piece_len) {
            parse_piece(ctx);
            if (ctx->aborted) {
                return MG_ERROR;
            }
            continue;
        }
        if (ctx->piece_set && ctx->piece_recycled) {
            piece_done(ctx);
        }
        ctx->piece_set = 0;
        int reads = ctx->in && ctx->in->in_file && ctx->in->file_pos < ctx->in->file_last;
        mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
        int room = reads && ctx->nheld < (mg_uint_t)clcf->output_buffers_num;
        if ((reads || ctx->in == NULL || ctx->done) && ctx->out) {
            /* the read buffer is reused: what points into it goes first, and it is free
             * again only once the filters after us took it (memory input is gathered: a
             * chain of small buffers makes one pass, not one each) */
            rc = pass_out(ctx);
            passed = 1;
            if (rc == MG_ERROR) {
                return MG_ERROR;
            }
        }
        if (ctx->busy && ((reads && !room) || ctx->in == NULL || ctx->done)) {
            rc = mg_filter_drain(r, next_body_filter, &ctx->held);
            passed = 1;
            if (rc == MG_ERROR || rc == MG_AGAIN) {
                return rc;
            }
            ctx->busy = 0;
            bufs_free(ctx);
        }
        if (ctx->done) {
            break;
        }
        mg_int_t got = next_piece(ctx);
        if (got == MG_ERROR) {
            return MG_ERROR;
        }
        if (got == 0) {
            break;
        }
    }
    if (ctx->out) {
        rc = pass_out(ctx);
        passed = 1;
    }
    if (ctx->done && ctx->in) {
        mg_filter_queue_clear(&ctx->in, &ctx->in_tail);
    }
    if (passed || given) {
        /* input that gave nothing is not passed on as a call without input: to the writer
         * that means "write what you hold", which would undo postpone_output (nginx's ssi
         * returns without calling on) */
        return rc;
    }
    return next_body_filter(r, NULL);
}

/* ---- configuration ---- */

static void *ssi_create_conf(mg_conf_t *cf)
{
    ssi_conf_t *conf = mg_pcalloc(cf->pool, sizeof(*conf));
    conf->enable = MG_CONF_UNSET;
    conf->silent_errors = MG_CONF_UNSET;
    conf->last_modified = MG_CONF_UNSET;
    conf->ignore_recycled = MG_CONF_UNSET;
    conf->value_len = MG_CONF_UNSET_SIZE;
    conf->min_file_chunk = MG_CONF_UNSET_SIZE;
    return conf;
}

static const char *ssi_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    ssi_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->enable, prev->enable, 0);
    mg_conf_merge(conf->silent_errors, prev->silent_errors, 0);
    mg_conf_merge(conf->last_modified, prev->last_modified, 0);
    mg_conf_merge(conf->ignore_recycled, prev->ignore_recycled, 0);
    /* nginx documents 256 and merges 255: a 256-byte value is "too long" by default */
    mg_conf_merge_size(conf->value_len, prev->value_len, 255);
    mg_conf_merge_size(conf->min_file_chunk, prev->min_file_chunk, 1024);
    mg_filter_types_merge(cf, &conf->types, &prev->types, default_types);
    return MG_CONF_OK;
}

static const char *ssi_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    static const char *names[] = {"date_local", "date_gmt"};
    for (uintptr_t i = 0; i < 2; i++) {
        mg_str_t name = {strlen(names[i]), (char *)names[i]};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = var_date;
        v->data = i;
    }
    return MG_CONF_OK;
}

static void *ssi_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, 1);
}

static int filter_used(const void *loc_conf)
{
    const ssi_conf_t *conf = loc_conf;
    return conf->enable;
}

static void ssi_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_ssi_module, filter_used, ssi_header_filter, ssi_body_filter);
}

#define LOC(f) MG_LOC_CONF, offsetof(ssi_conf_t, f)

static const mg_command_t ssi_commands[] = {
    {"ssi", MG_HTTP_ANY_LOC | MG_CTX_LIF, MG_FLAG, mg_conf_set_flag, LOC(enable), NULL},
    {"ssi_silent_errors", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(silent_errors), NULL},
    {"ssi_last_modified", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(last_modified), NULL},
    /* nginx has it and does not document it */
    {"ssi_ignore_recycled_buffers", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag,
     LOC(ignore_recycled), NULL},
    {"ssi_value_length", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size, LOC(value_len), NULL},
    {"ssi_min_file_chunk", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size, LOC(min_file_chunk),
     NULL},
    {"ssi_types", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), mg_filter_types_set, LOC(types), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t ssi_defaults[] = {
    {"ssi_types", "text/html"},
    {0},
};

mg_module_t mg_ssi_module = {
    .name = "ssi",
    .commands = ssi_commands,
    .defaults = ssi_defaults,
    .create_main_conf = ssi_create_main_conf,
    .init_main_conf = ssi_init_main_conf,
    .create_loc_conf = ssi_create_conf,
    .merge_loc_conf = ssi_merge_conf,
    .init_filters = ssi_init_filters,
};
