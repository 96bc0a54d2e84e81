/*
 * The rewrite module: rewrite, return, set, if, break, rewrite_log and
 * uninitialized_variable_warn. A server's and each location's directives compile into ONE
 * list of operations in config order, run in the server-rewrite phase (server level) and the
 * rewrite phase (location level). As in nginx the lists are not inherited by nested
 * locations; an "if" body is a nested list run with the if's own location configuration.
 * Other modules add "set"s whose value they compute (set_by_lua: mg_http_rewrite_add_set).
 */
#include <sys/stat.h>

#include "http.h"
#include "rewrite.h"
#include "script.h"
#include "variables.h"

enum { OP_REWRITE, OP_RETURN, OP_SET, OP_BREAK, OP_IF };
enum { REWRITE_NONE, REWRITE_LAST, REWRITE_BREAK };
enum { COND_VAR, COND_EQ, COND_REGEX, COND_FILE };


typedef struct {
    int kind;
    int negate;                     /* !=, !~, !-f ... */
    char file_op;                   /* f d e x */
    mg_http_complex_value_t *left;  /* the variable, or the file name */
    mg_http_complex_value_t *right; /* = and != */
    mg_regex_t *regex;
} rewrite_cond_t;

/* One operation; the fields used depend on the type. */
typedef struct {
    int type;
    int flag;                       /* rewrite: REWRITE_* */
    unsigned redirect : 1;          /* rewrite answers with a redirect (code) */
    unsigned add_args : 1;          /* rewrite keeps the request's arguments */
    unsigned own_args : 1;          /* rewrite redirect: its replacement has a literal "?" */
    mg_int_t code;                  /* return, rewrite redirect */
    mg_http_complex_value_t *value; /* rewrite's URI, return's text, set's value */
    mg_http_complex_value_t *args;  /* rewrite's new arguments (after a literal "?") */
    mg_regex_t *regex;
    mg_int_t index;                 /* set: the variable */
    mg_http_rewrite_value_pt handler; /* set: another module's value instead of `value` */
    void *data;                     /* its argument */
    rewrite_cond_t *cond;           /* if */
    void **loc_conf;                /* if in a location: the configuration of its body */
    mg_array_t *ops;                /* if: the body */
} rewrite_op_t;

typedef struct {
    mg_array_t *ops; /* rewrite_op_t, this level's own; NULL when none */
    int log;
    int uninitialized_variable_warn;
} rewrite_conf_t;

mg_module_t mg_rewrite_module;

void **mg_http_create_loc_confs(mg_conf_t *cf);

/* Results of running a list besides a handler code. */
#define RUN_NEXT (-1000) /* go on with the next operation */
#define RUN_STOP (-1001) /* break, or rewrite ... last/break: end the lists */

static void *rewrite_create_conf(mg_conf_t *cf)
{
    rewrite_conf_t *rlcf = mg_pcalloc(cf->pool, sizeof(rewrite_conf_t));
    rlcf->log = MG_CONF_UNSET;
    rlcf->uninitialized_variable_warn = MG_CONF_UNSET;
    return rlcf;
}

static const char *rewrite_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    rewrite_conf_t *prev = parent, *conf = child;
    /* the operations themselves are not inherited: a location without any runs none */
    mg_conf_merge(conf->log, prev->log, 0);
    mg_conf_merge(conf->uninitialized_variable_warn, prev->uninitialized_variable_warn, 1);
    return MG_CONF_OK;
}

static rewrite_op_t *push_op(mg_conf_t *cf, rewrite_conf_t *rlcf, int type)
{
    if (rlcf->ops == NULL) {
        rlcf->ops = mg_array_create(cf->pool, 4, sizeof(rewrite_op_t));
    }
    rewrite_op_t *op = mg_array_push(rlcf->ops);
    memset(op, 0, sizeof(*op));
    op->type = type;
    return op;
}

static mg_http_complex_value_t *compile_cv(mg_conf_t *cf, mg_str_t s)
{
    mg_http_complex_value_t *cv = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
    if (mg_http_compile_complex_value(cf, s, cv) != MG_OK) {
        return NULL;
    }
    return cv;
}

static int starts_with(mg_str_t s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && memcmp(s.data, prefix, n) == 0;
}

/* ---- rewrite ---- */

static const char *rewrite_rewrite(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    rewrite_conf_t *rlcf = conf;
    rewrite_op_t *op = push_op(cf, rlcf, OP_REWRITE);
    op->regex = mg_http_regex_compile(cf, cf->args[1], 0);
    if (op->regex == NULL) {
        return MG_CONF_ERROR;
    }
    mg_str_t repl = cf->args[2];
    if (starts_with(repl, "http://") || starts_with(repl, "https://") ||
        starts_with(repl, "$scheme")) {
        op->redirect = 1;
        op->code = MG_HTTP_MOVED_TEMPORARILY;
    }
    if (cf->nargs == 4) {
        mg_str_t f = cf->args[3];
        if (mg_str_eq(f, "last")) {
            op->flag = REWRITE_LAST;
        } else if (mg_str_eq(f, "break")) {
            op->flag = REWRITE_BREAK;
        } else if (mg_str_eq(f, "redirect")) {
            op->redirect = 1;
            op->code = MG_HTTP_MOVED_TEMPORARILY;
        } else if (mg_str_eq(f, "permanent")) {
            op->redirect = 1;
            op->code = MG_HTTP_MOVED_PERMANENTLY;
        } else {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", f.data);
            return MG_CONF_ERROR;
        }
    }
    /* a final "?" means: drop the request's arguments; otherwise they follow the new ones */
    if (repl.len && repl.data[repl.len - 1] == '?') {
        repl.len--;
    } else {
        op->add_args = 1;
    }
    if (op->redirect) {
        op->own_args = memchr(repl.data, '?', repl.len) != NULL;
        op->value = compile_cv(cf, repl);
        return op->value ? MG_CONF_OK : MG_CONF_ERROR;
    }
    /* an internal rewrite splits at the first literal "?" into the URI and new arguments */
    char *q = memchr(repl.data, '?', repl.len);
    mg_str_t uri = repl;
    if (q) {
        uri.len = (size_t)(q - repl.data);
        mg_str_t args = { repl.len - uri.len - 1, q + 1 };
        op->args = compile_cv(cf, mg_pstr(cf->pool, args.data, args.len));
        if (op->args == NULL) {
            return MG_CONF_ERROR;
        }
    }
    op->value = compile_cv(cf, mg_pstr(cf->pool, uri.data, uri.len));
    return op->value ? MG_CONF_OK : MG_CONF_ERROR;
}

/* ---- return ---- */

static int is_url(mg_str_t s)
{
    return (s.len > 7 && memcmp(s.data, "http://", 7) == 0) ||
           (s.len > 8 && memcmp(s.data, "https://", 8) == 0) || starts_with(s, "$scheme");
}

static const char *rewrite_return(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    rewrite_conf_t *rlcf = conf;
    mg_str_t first = cf->args[1];
    int64_t code = mg_atoi(first.data, first.len);
    mg_str_t text = mg_null_string;
    if (code < 0) {
        if (cf->nargs == 3 || !is_url(first)) {
            mg_conf_error(cf, 0, "invalid return code \"%s\"", first.data);
            return MG_CONF_ERROR;
        }
        code = MG_HTTP_MOVED_TEMPORARILY;
        text = first;
    } else {
        if (code > 999) {
            mg_conf_error(cf, 0, "invalid return code \"%s\"", first.data);
            return MG_CONF_ERROR;
        }
        if (cf->nargs == 3) {
            text = cf->args[2];
        }
    }
    rewrite_op_t *op = push_op(cf, rlcf, OP_RETURN);
    op->code = (mg_int_t)code;
    if (text.data) {
        op->value = compile_cv(cf, text);
        if (op->value == NULL) {
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

/* ---- set ---- */

/* The getter of a variable only "set" gives values to: read before any set, it is empty. */
static mg_int_t var_unset(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_http_variable_t *var = (mg_http_variable_t *)data;
    rewrite_conf_t *rlcf = mg_http_get_loc_conf(r, mg_rewrite_module);
    if (rlcf->uninitialized_variable_warn) {
        mg_log_error(MG_LOG_WARN, &r->connection->log, 0, "using uninitialized \"%.*s\" variable",
                     (int)var->name.len, var->name.data);
    }
    v->value.data = "";
    v->value.len = 0;
    v->valid = 1;
    v->not_found = 0;
    v->no_cacheable = 0;
    return MG_OK;
}

/* A "set" of "$name" added to the list: the variable declared (changeable, empty until set). */
static rewrite_op_t *push_set(mg_conf_t *cf, rewrite_conf_t *rlcf, mg_str_t name)
{
    if (name.len < 2 || name.data[0] != '$') {
        mg_conf_error(cf, 0, "invalid variable name \"%.*s\"", (int)name.len, name.data);
        return NULL;
    }
    name.data++;
    name.len--;
    mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_CHANGEABLE);
    if (v == NULL) {
        return NULL;
    }
    if (v->get_handler == NULL && v->set_handler == NULL) {
        v->get_handler = var_unset;
        v->data = (uintptr_t)v;
    }
    rewrite_op_t *op = push_op(cf, rlcf, OP_SET);
    op->index = mg_http_get_variable_index(cf, name);
    return op->index < 0 ? NULL : op;
}

static const char *rewrite_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    rewrite_op_t *op = push_set(cf, conf, cf->args[1]);
    if (op == NULL) {
        return MG_CONF_ERROR;
    }
    op->value = compile_cv(cf, cf->args[2]);
    return op->value ? MG_CONF_OK : MG_CONF_ERROR;
}

/* The hook for other modules: called by a directive's setter, it adds the "set" to the list
 * of the level (server, location, if) being read. MG_OK or MG_ERROR (logged). */
mg_int_t mg_http_rewrite_add_set(mg_conf_t *cf, mg_str_t name, mg_http_rewrite_value_pt handler,
                                 void *data)
{
    rewrite_op_t *op = push_set(cf, mg_http_conf_get_loc(cf, mg_rewrite_module), name);
    if (op == NULL) {
        return MG_ERROR;
    }
    op->handler = handler;
    op->data = data;
    return MG_OK;
}

/* ---- break, rewrite_log ---- */

static const char *rewrite_break(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    push_op(cf, conf, OP_BREAK);
    return MG_CONF_OK;
}

/* ---- if ---- */

static const char *invalid_condition(mg_conf_t *cf, mg_str_t s)
{
    mg_conf_error(cf, 0, "invalid condition \"%.*s\"", (int)s.len, s.data);
    return MG_CONF_ERROR;
}

/* The words between "(" and ")": nginx's tokenizer leaves the parentheses on the first and
 * last words, or alone as words of their own. */
static const char *parse_condition(mg_conf_t *cf, rewrite_cond_t *c)
{
    size_t n = cf->nargs;
    mg_str_t *w = mg_palloc(cf->pool, n * sizeof(mg_str_t));
    memcpy(w, cf->args, n * sizeof(mg_str_t));
    if (w[1].len == 0 || w[1].data[0] != '(') {
        return invalid_condition(cf, w[1]);
    }
    size_t cur = 1, last = n - 1;
    if (w[1].len == 1) {
        cur = 2;
    } else {
        w[1].data++;
        w[1].len--;
    }
    if (w[last].len == 0 || w[last].data[w[last].len - 1] != ')') {
        return invalid_condition(cf, w[last]);
    }
    if (w[last].len == 1) {
        last--;
    } else {
        w[last] = mg_pstr(cf->pool, w[last].data, w[last].len - 1);
    }
    if (cur >= n) {
        return invalid_condition(cf, w[n - 1]);
    }
    size_t words = last >= cur ? last - cur + 1 : 0;
    mg_str_t a = w[cur];
    if (words == 1 && a.len > 1 && a.data[0] == '$') {
        c->kind = COND_VAR;
        c->left = compile_cv(cf, a);
        return c->left ? MG_CONF_OK : MG_CONF_ERROR;
    }
    if (words == 2 && a.len >= 2) {
        mg_str_t t = a;
        if (t.data[0] == '!') {
            c->negate = 1;
            t.data++;
            t.len--;
        }
        if (t.len == 2 && t.data[0] == '-' && strchr("fdex", t.data[1])) {
            c->kind = COND_FILE;
            c->file_op = t.data[1];
            c->left = compile_cv(cf, w[cur + 1]);
            return c->left ? MG_CONF_OK : MG_CONF_ERROR;
        }
        return invalid_condition(cf, a);
    }
    if (words != 3 || a.len < 2 || a.data[0] != '$') {
        return invalid_condition(cf, a);
    }
    c->left = compile_cv(cf, a);
    if (c->left == NULL) {
        return MG_CONF_ERROR;
    }
    mg_str_t o = w[cur + 1], right = w[cur + 2];
    if (mg_str_eq(o, "=") || mg_str_eq(o, "!=")) {
        c->kind = COND_EQ;
        c->negate = o.len == 2;
        c->right = compile_cv(cf, right);
        return c->right ? MG_CONF_OK : MG_CONF_ERROR;
    }
    if (mg_str_eq(o, "~") || mg_str_eq(o, "~*") || mg_str_eq(o, "!~") || mg_str_eq(o, "!~*")) {
        c->kind = COND_REGEX;
        c->negate = o.data[0] == '!';
        c->regex = mg_http_regex_compile(cf, right, o.data[o.len - 1] == '*');
        return c->regex ? MG_CONF_OK : MG_CONF_ERROR;
    }
    return invalid_condition(cf, a);
}

static const char *rewrite_if(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    rewrite_conf_t *rlcf = conf;
    rewrite_cond_t *cond = mg_pcalloc(cf->pool, sizeof(rewrite_cond_t));
    const char *rv = parse_condition(cf, cond);
    if (rv != MG_CONF_OK) {
        return rv;
    }
    /* the body gets a location-level configuration of its own, nested in the enclosing one:
     * inside a location it becomes the request's configuration when the condition holds
     * (merged with the location, so root, add_header ... apply); inside a server it only
     * holds the rewrite operations */
    mg_conf_ctx_t *parent = cf->ctx_data;
    mg_conf_ctx_t *ctx = mg_pcalloc(cf->pool, sizeof(mg_conf_ctx_t));
    ctx->main_conf = parent->main_conf;
    ctx->srv_conf = parent->srv_conf;
    ctx->loc_conf = mg_http_create_loc_confs(cf);
    mg_http_loc_conf_t *pclcf = parent->loc_conf[mg_http_core_module.index];
    mg_http_loc_conf_t *clcf = ctx->loc_conf[mg_http_core_module.index];
    clcf->loc_conf = ctx->loc_conf;
    clcf->parent = pclcf;
    clcf->is_if = 1;
    clcf->name = pclcf->name;   /* alias maps the URI against the enclosing location's name */
    clcf->regex = pclcf->regex;
    clcf->file = pclcf->file;
    clcf->line = pclcf->line;

    rewrite_op_t *op = push_op(cf, rlcf, OP_IF);
    op->cond = cond;
    unsigned ctx_type = cf->ctx == MG_CTX_LOCATION ? MG_CTX_LIF : MG_CTX_SIF;
    if (ctx_type == MG_CTX_LIF) {
        op->loc_conf = ctx->loc_conf;
        if (pclcf->locations == NULL) {
            pclcf->locations = mg_array_create(cf->pool, 4, sizeof(mg_http_loc_conf_t *));
        }
        *(mg_http_loc_conf_t **)mg_array_push(pclcf->locations) = clcf;
    }
    size_t index = (size_t)(op - (rewrite_op_t *)rlcf->ops->elts);

    unsigned saved = cf->ctx;
    cf->ctx = ctx_type;
    cf->ctx_data = ctx;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->ctx = saved;
    cf->ctx_data = parent;
    if (rc != MG_OK) {
        return MG_CONF_ERROR;
    }
    /* the body's operations belong to this op only (the array may have moved meanwhile) */
    rewrite_conf_t *nlcf = ctx->loc_conf[mg_rewrite_module.index];
    op = (rewrite_op_t *)rlcf->ops->elts + index;
    op->ops = nlcf->ops;
    nlcf->ops = NULL;
    return MG_CONF_OK;
}

/* ---- run time ---- */

static void log_notice(mg_request_t *r, const char *fmt, mg_str_t a, mg_str_t b)
{
    mg_log_error(MG_LOG_NOTICE, &r->connection->log, 0, fmt, (int)a.len, a.data, (int)b.len,
                 b.data);
}

static mg_int_t regex_match(mg_request_t *r, mg_regex_t *re, mg_str_t s, int log)
{
    mg_int_t rc = mg_http_regex_exec(r, re, s);
    if (log && rc != MG_ERROR) {
        log_notice(r, rc == MG_OK ? "\"%.*s\" matches \"%.*s\"" : "\"%.*s\" does not match \"%.*s\"",
                   re->pattern, s);
    }
    return rc;
}

static mg_str_t join(mg_request_t *r, mg_str_t a, char sep, mg_str_t b)
{
    char *p = mg_pnalloc(r->pool, a.len + 1 + b.len + 1);
    memcpy(p, a.data, a.len);
    p[a.len] = sep;
    memcpy(p + a.len + 1, b.data, b.len);
    p[a.len + 1 + b.len] = '\0';
    return (mg_str_t){ a.len + 1 + b.len, p };
}

/* A redirect's target as nginx sends it (mg_http_unescape's REDIRECT: "%2F" becomes "/",
 * "%20" and "%C3" stay, a malformed escape is dropped as nginx drops it), NUL-terminated */
static mg_str_t unescape_redirect(mg_request_t *r, mg_str_t v)
{
    char *out = mg_pnalloc(r->pool, v.len + 1);
    size_t n = mg_http_unescape(v.data, v.len, out, MG_UNESCAPE_REDIRECT);
    out[n] = '\0';
    return (mg_str_t){n, out};
}

static mg_int_t run_rewrite(mg_request_t *r, rewrite_op_t *op, int log)
{
    mg_int_t m = regex_match(r, op->regex, r->uri, log);
    if (m == MG_ERROR) {
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (m == MG_DECLINED) {
        return RUN_NEXT;
    }
    mg_str_t value;
    value = op->redirect ? mg_http_complex_value_args(r, op->value)
                         : mg_http_complex_value(r, op->value);
    if (op->redirect) {
        value = unescape_redirect(r, value);
        /* "?" or "&" by the replacement as written, not by what its variables hold: a
         * "$request_uri" with arguments gets a second "?", as nginx sends it */
        if (op->add_args && r->args.len) {
            value = join(r, value, op->own_args ? '&' : '?', r->args);
        }
        if (log) {
            log_notice(r, "rewritten redirect: \"%.*s\"%.*s", value, (mg_str_t)mg_string(""));
        }
        if (r->headers_out.location) {
            r->headers_out.location->hash = 0;
        }
        r->headers_out.location = mg_http_add_header_out(r, "Location", 8, value.data, value.len);
        return op->code;
    }
    if (value.len == 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "the rewritten URI has a zero length");
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (op->args) {
        mg_str_t args;
        args = mg_http_complex_value_args(r, op->args);
        if (op->add_args && r->args.len) {
            args = join(r, args, '&', r->args);
        }
        r->args = args;
    } else if (!op->add_args) {
        r->args.len = 0; /* as nginx: $args then reads "" if the request had arguments, else nil */
    }
    r->uri = value;
    mg_http_set_exten(r);
    if (log) {
        log_notice(r, "rewritten data: \"%.*s\", args: \"%.*s\"", r->uri, r->args);
    }
    /* a rewritten request may enter "internal" locations */
    r->internal = 1;
    if (op->flag == REWRITE_BREAK) {
        /* the request stays in the location found for the old URI: alias refuses to map it */
        r->uri_changed = 0;
        r->valid_location = 0;
        return RUN_STOP;
    }
    r->uri_changed = 1;
    return op->flag == REWRITE_LAST ? RUN_STOP : RUN_NEXT;
}

static int is_redirect(mg_int_t code)
{
    return code == MG_HTTP_MOVED_PERMANENTLY || code == MG_HTTP_MOVED_TEMPORARILY ||
           code == MG_HTTP_SEE_OTHER || code == MG_HTTP_TEMPORARY_REDIRECT ||
           code == MG_HTTP_PERMANENT_REDIRECT;
}

static mg_int_t run_return(mg_request_t *r, rewrite_op_t *op)
{
    mg_int_t code = op->code;
    if (code == MG_HTTP_CLOSE) {
        return MG_HTTP_CLOSE;
    }
    /* $status in the text or URL is the code being returned */
    r->headers_out.status = (mg_uint_t)code;
    if (code >= MG_HTTP_BAD_REQUEST && op->value == NULL) {
        return code; /* the error page; it does not ask for a held-back body */
    }
    mg_int_t drc = mg_http_discard_request_body(r);
    if (drc != MG_OK) {
        return drc;
    }
    mg_str_t text = mg_null_string;
    if (op->value) {
        text = mg_http_complex_value(r, op->value);
    }
    if (is_redirect(code)) {
        if (op->value) {
            r->headers_out.location = mg_http_add_header_out(r, "Location", 8, text.data, text.len);
        }
        return code;
    }
    mg_http_set_content_type(r);
    return mg_http_send_response(r, (mg_uint_t)code, NULL, &text);
}

static mg_int_t run_set(mg_request_t *r, rewrite_op_t *op)
{
    mg_str_t value;
    if (op->handler) {
        mg_int_t rc = op->handler(r, op->data, &value);
        if (rc != MG_OK) {
            return rc;
        }
    } else {
        value = mg_http_complex_value(r, op->value);
    }
    mg_http_set_indexed_variable(r, (mg_uint_t)op->index, value);
    return RUN_NEXT;
}

static int file_test(mg_request_t *r, rewrite_cond_t *c)
{
    mg_str_t path;
    path = mg_http_complex_value(r, c->left);
    struct stat st;
    if (stat(path.data, &st) != 0) {
        return 0;
    }
    switch (c->file_op) {
    case 'f':
        return S_ISREG(st.st_mode);
    case 'd':
        return S_ISDIR(st.st_mode);
    case 'x':
        return !S_ISDIR(st.st_mode) && (st.st_mode & S_IXUSR);
    }
    return 1;
}

/* 1 true, 0 false, -1 error */
static int run_condition(mg_request_t *r, rewrite_cond_t *c, int log)
{
    mg_str_t left;
    int v;
    switch (c->kind) {
    case COND_VAR:
        left = mg_http_complex_value(r, c->left);
        return !(left.len == 0 || (left.len == 1 && left.data[0] == '0'));
    case COND_FILE:
        v = file_test(r, c);
        break;
    case COND_EQ: {
        mg_str_t right;
        left = mg_http_complex_value(r, c->left);
        right = mg_http_complex_value(r, c->right);
        v = mg_str_eq_str(left, right);
        break;
    }
    default: {
        left = mg_http_complex_value(r, c->left);
        mg_int_t m = regex_match(r, c->regex, left, log);
        if (m == MG_ERROR) {
            return -1;
        }
        v = m == MG_OK;
    }
    }
    return c->negate ? !v : v;
}

static mg_int_t run_ops(mg_request_t *r, mg_array_t *ops, int log)
{
    if (ops == NULL) {
        return RUN_NEXT;
    }
    rewrite_op_t *op = ops->elts;
    for (size_t i = 0; i < ops->nelts; i++) {
        mg_int_t rc = RUN_NEXT;
        switch (op[i].type) {
        case OP_REWRITE:
            rc = run_rewrite(r, &op[i], log);
            break;
        case OP_RETURN:
            return run_return(r, &op[i]);
        case OP_SET:
            rc = run_set(r, &op[i]);
            break;
        case OP_BREAK:
            /* a URI rewritten before "break" is kept without a new location search, as
             * "rewrite ... break" does */
            if (r->uri_changed) {
                r->uri_changed = 0;
                r->valid_location = 0;
            }
            return RUN_STOP;
        case OP_IF: {
            int t = run_condition(r, op[i].cond, log);
            if (t < 0) {
                return MG_HTTP_INTERNAL_SERVER_ERROR;
            }
            if (t == 0) {
                break;
            }
            if (op[i].loc_conf) {
                r->loc_conf = op[i].loc_conf;
                mg_http_update_location_config(r);
            }
            rc = run_ops(r, op[i].ops, log);
            break;
        }
        }
        if (rc != RUN_NEXT) {
            return rc;
        }
    }
    return RUN_NEXT;
}

static mg_int_t rewrite_handler(mg_request_t *r)
{
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    mg_http_srv_conf_t *cscf = mg_http_get_srv_conf(r, mg_http_core_module);
    /* no location matched: the server's list already ran in the server-rewrite phase */
    if (r->phase_handler >= (mg_int_t)cmcf->location_rewrite_index &&
        r->loc_conf == cscf->ctx->loc_conf) {
        return MG_DECLINED;
    }
    rewrite_conf_t *rlcf = mg_http_get_loc_conf(r, mg_rewrite_module);
    if (rlcf->ops == NULL) {
        return MG_DECLINED;
    }
    mg_int_t rc = run_ops(r, rlcf->ops, rlcf->log);
    return rc == RUN_NEXT || rc == RUN_STOP ? MG_DECLINED : rc;
}

static mg_int_t rewrite_init(mg_conf_t *cf)
{
    mg_http_add_phase_handler(cf, MG_HTTP_SERVER_REWRITE_PHASE, rewrite_handler);
    mg_http_add_phase_handler(cf, MG_HTTP_REWRITE_PHASE, rewrite_handler);
    return MG_OK;
}

#define OPS_CTX (MG_CTX_SERVER | MG_CTX_SIF | MG_CTX_LOCATION | MG_CTX_LIF)

static const mg_command_t rewrite_commands[] = {
    { "rewrite", OPS_CTX, MG_ARGS(2, 3), rewrite_rewrite, MG_LOC_CONF, 0, NULL },
    { "return", OPS_CTX, MG_ARGS(1, 2), rewrite_return, MG_LOC_CONF, 0, NULL },
    { "set", OPS_CTX, MG_ARGS(2, 2), rewrite_set, MG_LOC_CONF, 0, NULL },
    { "break", OPS_CTX, MG_ARGS(0, 0), rewrite_break, MG_LOC_CONF, 0, NULL },
    { "if", MG_CTX_SERVER | MG_CTX_LOCATION, MG_BLOCK | MG_ARGS(1, MG_MANY), rewrite_if,
      MG_LOC_CONF, 0, NULL },
    { "rewrite_log", MG_CTX_HTTP | OPS_CTX, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
      offsetof(rewrite_conf_t, log), NULL },
    { "uninitialized_variable_warn", MG_CTX_HTTP | OPS_CTX, MG_FLAG, mg_conf_set_flag,
      MG_LOC_CONF, offsetof(rewrite_conf_t, uninitialized_variable_warn), NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t rewrite_defaults[] = {
    {"rewrite", MG_NO_DEFAULT}, {"return", MG_NO_DEFAULT}, {"set", MG_NO_DEFAULT},
    {"break", MG_NO_DEFAULT},   {"if", MG_NO_DEFAULT},     {0},
};

mg_module_t mg_rewrite_module = {
    .name = "rewrite",
    .commands = rewrite_commands,
    .defaults = rewrite_defaults,
    .create_loc_conf = rewrite_create_conf,
    .merge_loc_conf = rewrite_merge_conf,
    .init = rewrite_init,
};
