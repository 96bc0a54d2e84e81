/*
 * "match NAME { status ...; header ...; body ...; }" in http{}: the tests a health_check's
 * response must pass (nginx Plus's ngx_http_upstream_hc_module). Every line is one test and
 * all must hold:
 *   status [!] CODE|LOW-HIGH ...    the status is (not) one of these
 *   header [!] NAME                 the field is present (absent)
 *   header NAME = | != | ~ | !~ V   its value equals / differs / matches / does not match
 *   body ~ | !~ REGEX               the body's first 256k match (do not match)
 * Regexes are compiled at load, so a bad one is refused at -t with FILE:LINE.
 * In stream{} (nginx Plus's ngx_stream_upstream_hc_module) the block says what a check sends
 * and what the peer's first bytes must be:
 *   send STRING                     sent once connected (\xHH escapes)
 *   expect STRING | ~ REGEX         the data read begins with STRING, or matches REGEX
 */
#include "health_check.h"
#include "stream.h"
#include "variables.h"

enum { T_STATUS, T_HEADER, T_BODY };
enum { OP_PRESENT, OP_ABSENT, OP_EQ, OP_NE, OP_RE, OP_NRE };

typedef struct {
    int lo, hi;
} status_range_t;

typedef struct {
    int type;
    int op;            /* T_HEADER, T_BODY */
    int negate;        /* T_STATUS: "!" */
    mg_array_t ranges; /* T_STATUS: status_range_t */
    mg_str_t name;     /* T_HEADER */
    mg_str_t value;
    mg_regex_t *regex;
} match_test_t;

struct mg_hc_match_s {
    mg_str_t name;
    mg_array_t tests;      /* match_test_t */
    mg_str_t send;         /* stream: sent once connected */
    mg_str_t expect;       /* stream: the data's first bytes */
    mg_regex_t *expect_re; /* stream: or what it must match */
};

typedef struct {
    mg_array_t matches; /* mg_hc_match_t * */
} match_main_conf_t;

static void *match_create_main_conf(mg_conf_t *cf)
{
    match_main_conf_t *mmcf = mg_pcalloc(cf->pool, sizeof(*mmcf));
    mg_array_init(&mmcf->matches, cf->pool, 2, sizeof(mg_hc_match_t *));
    return mmcf;
}

mg_hc_match_t *mg_hc_match_find(mg_conf_t *cf, mg_str_t name)
{
    match_main_conf_t *mmcf = mg_http_conf_get_main(cf, mg_upstream_match_module);
    mg_hc_match_t **m = mmcf->matches.elts;
    for (size_t i = 0; i < mmcf->matches.nelts; i++) {
        if (mg_str_eq_str(m[i]->name, name)) {
            return m[i];
        }
    }
    return NULL;
}

static const char *parse_status(mg_conf_t *cf, match_test_t *t)
{
    size_t a = 1;
    if (a < cf->nargs && mg_str_eq(cf->args[a], "!")) {
        t->negate = 1;
        a++;
    }
    if (a == cf->nargs) {
        return "invalid number of arguments in \"status\" directive";
    }
    mg_array_init(&t->ranges, cf->pool, 2, sizeof(status_range_t));
    for (; a < cf->nargs; a++) {
        mg_str_t v = cf->args[a];
        const char *dash = memchr(v.data, '-', v.len);
        int64_t lo, hi;
        if (dash) {
            lo = mg_atoi(v.data, (size_t)(dash - v.data));
            hi = mg_atoi(dash + 1, (size_t)(v.data + v.len - dash - 1));
        } else {
            lo = hi = mg_atoi(v.data, v.len);
        }
        if (lo < 100 || hi > 599 || lo > hi) {
            mg_conf_error(cf, 0, "invalid status \"%.*s\"", (int)v.len, v.data);
            return MG_CONF_ERROR;
        }
        status_range_t *r = mg_array_push(&t->ranges);
        r->lo = (int)lo;
        r->hi = (int)hi;
    }
    return MG_CONF_OK;
}

static int parse_op(mg_str_t s)
{
    static const struct {
        const char *text;
        int op;
    } ops[] = {{"=", OP_EQ}, {"!=", OP_NE}, {"~", OP_RE}, {"!~", OP_NRE}};
    for (size_t i = 0; i < mg_nelems(ops); i++) {
        if (mg_str_eq(s, ops[i].text)) {
            return ops[i].op;
        }
    }
    return -1;
}

static const char *compile(mg_conf_t *cf, match_test_t *t)
{
    if (t->op == OP_RE || t->op == OP_NRE) {
        t->regex = mg_http_regex_compile(cf, t->value, 0);
        if (t->regex == NULL) {
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

/* "\xHH" escapes read, as nginx Plus's send and expect take them */
static mg_str_t unescape(mg_conf_t *cf, mg_str_t v)
{
    char *out = mg_pnalloc(cf->pool, v.len + 1), *q = out;
    for (size_t i = 0; i < v.len; i++) {
        int64_t b;
        if (v.data[i] == '\\' && i + 3 < v.len && v.data[i + 1] == 'x' &&
            (b = mg_hextoi(v.data + i + 2, 2)) >= 0) {
            *q++ = (char)b;
            i += 3;
        } else {
            *q++ = v.data[i];
        }
    }
    *q = '\0';
    return (mg_str_t){(size_t)(q - out), out};
}

static const char *stream_match_line(mg_conf_t *cf, mg_hc_match_t *m)
{
    mg_str_t *args = cf->args;
    if (mg_str_eq(args[0], "send") && cf->nargs == 2) {
        m->send = unescape(cf, args[1]);
        return MG_CONF_OK;
    }
    if (mg_str_eq(args[0], "expect") && cf->nargs == 2) {
        m->expect = unescape(cf, args[1]);
        return MG_CONF_OK;
    }
    if (mg_str_eq(args[0], "expect") && cf->nargs == 3 && mg_str_eq(args[1], "~")) {
        m->expect_re = mg_stream_regex_compile(cf, args[2], 0);
        return m->expect_re ? MG_CONF_OK : MG_CONF_ERROR;
    }
    if (mg_str_eq(args[0], "send") || mg_str_eq(args[0], "expect")) {
        return "invalid number of arguments";
    }
    mg_conf_error(cf, 0, "unknown directive \"%.*s\"", (int)args[0].len, args[0].data);
    return MG_CONF_ERROR;
}

static const char *match_line(mg_conf_t *cf, void *data)
{
    mg_hc_match_t *m = data;
    mg_str_t *args = cf->args;
    if (cf->ctx & MG_CTX_STREAM) {
        return stream_match_line(cf, m);
    }
    match_test_t *t = mg_array_push(&m->tests);
    memset(t, 0, sizeof(*t));
    if (mg_str_eq(args[0], "status")) {
        t->type = T_STATUS;
        return parse_status(cf, t);
    }
    if (mg_str_eq(args[0], "header")) {
        t->type = T_HEADER;
        if (cf->nargs == 2) {
            t->op = OP_PRESENT;
            t->name = args[1];
            return MG_CONF_OK;
        }
        if (cf->nargs == 3 && mg_str_eq(args[1], "!")) {
            t->op = OP_ABSENT;
            t->name = args[2];
            return MG_CONF_OK;
        }
        if (cf->nargs == 4 && (t->op = parse_op(args[2])) >= 0) {
            t->name = args[1];
            t->value = args[3];
            return compile(cf, t);
        }
        return "invalid parameters in \"header\" directive";
    }
    if (mg_str_eq(args[0], "body")) {
        t->type = T_BODY;
        if (cf->nargs != 3 || ((t->op = parse_op(args[1])) != OP_RE && t->op != OP_NRE)) {
            return "invalid parameters in \"body\" directive";
        }
        t->value = args[2];
        return compile(cf, t);
    }
    mg_conf_error(cf, 0, "unknown directive \"%.*s\"", (int)args[0].len, args[0].data);
    return MG_CONF_ERROR;
}

static const char *match_block(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    match_main_conf_t *mmcf = conf;
    if (mg_hc_match_find(cf, cf->args[1])) {
        mg_conf_error(cf, 0, "duplicate match \"%.*s\"", (int)cf->args[1].len, cf->args[1].data);
        return MG_CONF_ERROR;
    }
    mg_hc_match_t *m = mg_pcalloc(cf->pool, sizeof(*m));
    m->name = cf->args[1];
    mg_array_init(&m->tests, cf->pool, 4, sizeof(match_test_t));
    *(mg_hc_match_t **)mg_array_push(&mmcf->matches) = m;
    const char *(*saved_handler)(mg_conf_t *, void *) = cf->handler;
    void *saved_data = cf->handler_data;
    cf->handler = match_line;
    cf->handler_data = m;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->handler = saved_handler;
    cf->handler_data = saved_data;
    return rc == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

/* ---- at run time ---- */

static int re_match(mg_regex_t *re, mg_str_t s)
{
    int ov[2 * 32];
    return mg_regex_exec(re, s.data, s.len, ov, (int)mg_nelems(ov)) > 0;
}

static int test_header(const match_test_t *t, const mg_hc_response_t *resp)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (resp->names[i].len != t->name.len ||
            mg_strncasecmp(resp->names[i].data, t->name.data, t->name.len) != 0) {
            continue;
        }
        mg_str_t v = resp->values[i];
        switch (t->op) {
        case OP_PRESENT:
            return 1;
        case OP_ABSENT:
            return 0;
        case OP_EQ:
            if (mg_str_eq_str(v, t->value)) {
                return 1;
            }
            break;
        case OP_NE:
            if (!mg_str_eq_str(v, t->value)) {
                return 1;
            }
            break;
        case OP_RE:
            if (re_match(t->regex, v)) {
                return 1;
            }
            break;
        case OP_NRE:
            if (!re_match(t->regex, v)) {
                return 1;
            }
            break;
        }
    }
    return t->op == OP_ABSENT;
}

const char *mg_hc_match_test(const mg_hc_match_t *m, const mg_hc_response_t *resp)
{
    const match_test_t *t = m->tests.elts;
    for (size_t i = 0; i < m->tests.nelts; i++) {
        if (t[i].type == T_STATUS) {
            const status_range_t *r = t[i].ranges.elts;
            int in = 0;
            for (size_t k = 0; k < t[i].ranges.nelts && !in; k++) {
                in = resp->status >= r[k].lo && resp->status <= r[k].hi;
            }
            if (in == t[i].negate) {
                return "status";
            }
        } else if (t[i].type == T_HEADER) {
            if (!test_header(&t[i], resp)) {
                return "header";
            }
        } else if (re_match(t[i].regex, resp->body) != (t[i].op == OP_RE)) {
            return "body";
        }
    }
    return NULL;
}

mg_str_t mg_hc_match_send(const mg_hc_match_t *m)
{
    return m->send;
}

int mg_hc_match_expects(const mg_hc_match_t *m)
{
    return m->expect.len || m->expect_re;
}

int mg_hc_match_expect(const mg_hc_match_t *m, mg_str_t data, int eof)
{
    if (m->expect_re) {
        if (re_match(m->expect_re, data)) {
            return 1;
        }
        return eof ? -1 : 0;
    }
    size_t n = mg_min(data.len, m->expect.len);
    if (memcmp(data.data, m->expect.data, n) != 0) {
        return -1;
    }
    return n == m->expect.len ? 1 : eof ? -1 : 0;
}

static const mg_stream_module_t match_stream = {
    .create_main_conf = match_create_main_conf,
};

static const mg_command_t match_commands[] = {
    {"match", MG_CTX_HTTP | MG_CTX_STREAM, MG_BLOCK | MG_ARGS(1, 1), match_block, MG_MAIN_CONF, 0,
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t match_defaults[] = {
    {"match", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_upstream_match_module = {
    .name = "upstream_match",
    .commands = match_commands,
    .defaults = match_defaults,
    .create_main_conf = match_create_main_conf,
    .stream = &match_stream,
};
