/*
 * proxy_cookie_domain, proxy_cookie_path, proxy_cookie_flags: the upstream's Set-Cookie lines
 * rewritten on their way to the client (and across X-Accel-Redirect), as nginx does. A line is
 * split at ';' into trimmed attributes, the first being the cookie (NAME=VALUE; a line without
 * '=' there is left alone). Every Domain attribute whose value (less a leading dot, without
 * regard to case) equals a proxy_cookie_domain pattern, or matches its regex (always caseless),
 * gets the replacement (the dot kept); every Path attribute starting with a proxy_cookie_path
 * string, or matching its regex, gets the replacement for that prefix or the whole value. The
 * first proxy_cookie_flags whose cookie matches the name or regex (both without regard to case)
 * sets or removes Secure, HttpOnly and SameSite: present ones kept or the first SameSite
 * changed in place, missing ones appended in that order; a flag named with its "no" form too
 * is set, as nginx. A line something applied to is rebuilt with "; " between attributes.
 */
#include "proxy_extra.h"
#include "script.h"
#include "variables.h"

mg_module_t mg_proxy_cookie_module;

typedef struct {
    mg_http_complex_value_t pattern;
    mg_regex_t *regex;
    mg_http_complex_value_t replacement;
} cookie_rewrite_t;

enum {
    F_SECURE = 0x01,
    F_NOSECURE = 0x02,
    F_HTTPONLY = 0x04,
    F_NOHTTPONLY = 0x08,
    F_STRICT = 0x10,
    F_LAX = 0x20,
    F_NONE = 0x40,
    F_NOSAMESITE = 0x80,
};
#define F_SAMESITE (F_STRICT | F_LAX | F_NONE)

typedef struct {
    mg_http_complex_value_t name;
    mg_regex_t *regex;
    unsigned flags;
} cookie_flags_t;

typedef struct {
    mg_array_t *domains; /* cookie_rewrite_t; MG_CONF_UNSET_PTR, NULL: off */
    mg_array_t *paths;
    mg_array_t *flags; /* cookie_flags_t */
} cookie_conf_t;

typedef struct {
    mg_str_t key, value; /* value.data NULL: no '=' */
    mg_str_t text;       /* the whole attribute, trimmed */
    int changed;
    int removed;
} attr_t;

#define MAX_ATTRS 64

static mg_str_t trim(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t')) {
        p++;
    }
    while (e > p && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }
    mg_str_t s = {(size_t)(e - p), (char *)p};
    return s;
}

static size_t split(mg_str_t v, attr_t *a)
{
    size_t n = 0;
    const char *p = v.data, *end = v.data + v.len;
    while (n < MAX_ATTRS) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *e = semi ? semi : end;
        memset(&a[n], 0, sizeof(a[n]));
        a[n].text = trim(p, e);
        const char *eq = memchr(a[n].text.data, '=', a[n].text.len);
        if (eq) {
            a[n].key = trim(a[n].text.data, eq);
            a[n].value = trim(eq + 1, a[n].text.data + a[n].text.len);
        } else {
            a[n].key = a[n].text;
        }
        n++;
        if (semi == NULL) {
            return n;
        }
        p = semi + 1;
    }
    return 0; /* more attributes than we take apart: the line is left alone */
}

static mg_str_t concat(mg_request_t *r, mg_str_t a, mg_str_t b)
{
    char *p = mg_pnalloc(r->pool, a.len + b.len + 1);
    memcpy(p, a.data, a.len);
    memcpy(p + a.len, b.data, b.len);
    mg_str_t s = {a.len + b.len, p};
    return s;
}

/* A Domain value through the proxy_cookie_domain list: 1 when one applied. */
static int rewrite_domain(mg_request_t *r, mg_array_t *list, attr_t *at)
{
    mg_str_t v = at->value;
    int dot = v.len && v.data[0] == '.';
    if (dot) {
        v.data++;
        v.len--;
    }
    cookie_rewrite_t *rw = list->elts;
    for (size_t i = 0; i < list->nelts; i++) {
        if (rw[i].regex) {
            if (mg_http_regex_exec(r, rw[i].regex, v) != MG_OK) {
                continue;
            }
        } else {
            mg_str_t pat = mg_http_complex_value(r, &rw[i].pattern);
            if (pat.len && pat.data[0] == '.') {
                pat.data++;
                pat.len--;
            }
            if (pat.len != v.len || mg_strncasecmp(pat.data, v.data, v.len) != 0) {
                continue;
            }
        }
        mg_str_t to = mg_http_complex_value(r, &rw[i].replacement);
        if (to.len && to.data[0] == '.') {
            to.data++;
            to.len--;
        }
        mg_str_t d = {(size_t)dot, (char *)"."};
        at->value = concat(r, d, to);
        at->changed = 1;
        return 1;
    }
    return 0;
}

static int rewrite_path(mg_request_t *r, mg_array_t *list, attr_t *at)
{
    mg_str_t v = at->value;
    cookie_rewrite_t *rw = list->elts;
    for (size_t i = 0; i < list->nelts; i++) {
        if (rw[i].regex) {
            if (mg_http_regex_exec(r, rw[i].regex, v) != MG_OK) {
                continue;
            }
            at->value = mg_http_complex_value(r, &rw[i].replacement);
        } else {
            mg_str_t pat = mg_http_complex_value(r, &rw[i].pattern);
            if (pat.len > v.len || memcmp(pat.data, v.data, pat.len) != 0) {
                continue;
            }
            mg_str_t rest = {v.len - pat.len, v.data + pat.len};
            at->value = concat(r, mg_http_complex_value(r, &rw[i].replacement), rest);
        }
        at->changed = 1;
        return 1;
    }
    return 0;
}

static cookie_flags_t *find_flags(mg_request_t *r, mg_array_t *list, mg_str_t name)
{
    cookie_flags_t *cf = list->elts;
    for (size_t i = 0; i < list->nelts; i++) {
        if (cf[i].regex) {
            if (mg_http_regex_exec(r, cf[i].regex, name) == MG_OK) {
                return &cf[i];
            }
            continue;
        }
        mg_str_t n = mg_http_complex_value(r, &cf[i].name);
        if (n.len == name.len && mg_strncasecmp(n.data, name.data, n.len) == 0) {
            return &cf[i];
        }
    }
    return NULL;
}

/* the SameSite a rule sets: Strict over Lax over None when it names several, as nginx */
static const char *samesite_text(unsigned f)
{
    return (f & F_STRICT) ? "SameSite=Strict" : (f & F_LAX) ? "SameSite=Lax" : "SameSite=None";
}

static mg_str_t rewrite_cookie(mg_upstream_t *u, mg_str_t value)
{
    mg_request_t *r = u->r;
    cookie_conf_t *conf = mg_http_get_loc_conf(r, mg_proxy_cookie_module);
    attr_t a[MAX_ATTRS];
    size_t n = split(value, a);
    if (n == 0 || a[0].value.data == NULL) {
        return value; /* not NAME=VALUE */
    }
    int changed = 0;
    for (size_t i = 1; i < n; i++) {
        if (a[i].value.data == NULL) {
            continue;
        }
        if (conf->domains && mg_str_caseeq(a[i].key, "domain")) {
            changed |= rewrite_domain(r, conf->domains, &a[i]);
        } else if (conf->paths && mg_str_caseeq(a[i].key, "path")) {
            changed |= rewrite_path(r, conf->paths, &a[i]);
        }
    }
    cookie_flags_t *fl = conf->flags ? find_flags(r, conf->flags, a[0].key) : NULL;
    unsigned want = fl ? fl->flags : 0, have = 0;
    /* a rule naming a flag and its "no" form keeps the flag, as nginx */
    int nosecure = (want & (F_SECURE | F_NOSECURE)) == F_NOSECURE;
    int nohttponly = (want & (F_HTTPONLY | F_NOHTTPONLY)) == F_NOHTTPONLY;
    int nosamesite = (want & F_NOSAMESITE) && !(want & F_SAMESITE);
    if (fl) {
        changed = 1;
        for (size_t i = 1; i < n; i++) {
            if (mg_str_caseeq(a[i].key, "secure")) {
                have |= F_SECURE;
                a[i].removed = nosecure;
            } else if (mg_str_caseeq(a[i].key, "httponly")) {
                have |= F_HTTPONLY;
                a[i].removed = nohttponly;
            } else if (mg_str_caseeq(a[i].key, "samesite")) {
                /* as nginx: nosamesite removes every one; samesite= sets the first (written
                 * anew as "SameSite=Lax" unless its value already says that, in any case)
                 * and leaves the others as they are */
                int first = !(have & F_SAMESITE);
                have |= F_SAMESITE;
                if (nosamesite) {
                    a[i].removed = 1;
                } else if ((want & F_SAMESITE) && first) {
                    const char *t = samesite_text(want);
                    if (a[i].value.data == NULL || !mg_str_caseeq(a[i].value, t + 9)) {
                        a[i].text.data = (char *)t;
                        a[i].text.len = strlen(t);
                    }
                }
            }
        }
    }
    if (!changed) {
        return value;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        /* "; " + the text, or key=value when rewritten, or "SameSite=Strict" for a SameSite */
        len += a[i].text.len + a[i].value.len + 2 + sizeof("SameSite=Strict");
    }
    len += sizeof("; Secure; HttpOnly; SameSite=Strict");
    char *buf = mg_pnalloc(r->pool, len), *p = buf;
    for (size_t i = 0; i < n; i++) {
        if (a[i].removed) {
            continue;
        }
        if (p > buf) {
            *p++ = ';';
            *p++ = ' ';
        }
        if (a[i].changed) {
            p = mg_sprintf_end(p, buf + len, "%.*s=%.*s", (int)a[i].key.len, a[i].key.data,
                               (int)a[i].value.len, a[i].value.data);
        } else {
            memcpy(p, a[i].text.data, a[i].text.len);
            p += a[i].text.len;
        }
    }
    if ((want & F_SECURE) && !(have & F_SECURE)) {
        p = mg_sprintf_end(p, buf + len, "; Secure");
    }
    if ((want & F_HTTPONLY) && !(have & F_HTTPONLY)) {
        p = mg_sprintf_end(p, buf + len, "; HttpOnly");
    }
    if ((want & F_SAMESITE) && !(have & F_SAMESITE)) {
        p = mg_sprintf_end(p, buf + len, "; %s", samesite_text(want));
    }
    mg_str_t out = {(size_t)(p - buf), buf};
    return out;
}

void mg_proxy_cookie_setup(mg_request_t *r, mg_upstream_t *u)
{
    cookie_conf_t *conf = mg_http_get_loc_conf(r, mg_proxy_cookie_module);
    if (conf->domains || conf->paths || conf->flags) {
        u->rewrite_cookie = rewrite_cookie;
    }
}

/* ---- configuration ---- */

/* "~re" into *re: MG_OK, MG_DECLINED (not a regex), MG_ERROR. As nginx 1.22: a path's "~*re"
 * is caseless, "~re" not; a domain's and a cookie name's "~re" always caseless, and their "~*re"
 * no form of its own (the '*' is the regex's: an error) */
static mg_int_t compile_pattern(mg_conf_t *cf, mg_str_t v, int path, mg_regex_t **re)
{
    *re = NULL;
    if (v.len == 0 || v.data[0] != '~') {
        return MG_DECLINED;
    }
    int star = path && v.len > 1 && v.data[1] == '*';
    mg_str_t pat = {v.len - 1 - (size_t)star, v.data + 1 + star};
    *re = mg_http_regex_compile(cf, pat, star || !path);
    return *re ? MG_OK : MG_ERROR;
}

static const char *set_rewrite(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_array_t **list = (mg_array_t **)((char *)conf + cmd->offset);
    if (cf->nargs == 2) {
        if (!mg_str_eq(cf->args[1], "off")) {
            mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)cf->args[1].len,
                          cf->args[1].data);
            return MG_CONF_ERROR;
        }
        if (*list != MG_CONF_UNSET_PTR) {
            return "is duplicate";
        }
        *list = NULL;
        return MG_CONF_OK;
    }
    if (*list == NULL) {
        return "is duplicate"; /* after "off" */
    }
    if (*list == MG_CONF_UNSET_PTR) {
        *list = mg_array_create(cf->pool, 2, sizeof(cookie_rewrite_t));
    }
    cookie_rewrite_t *rw = mg_array_push(*list);
    memset(rw, 0, sizeof(*rw));
    int path = cmd->offset == offsetof(cookie_conf_t, paths);
    mg_int_t rc = compile_pattern(cf, cf->args[1], path, &rw->regex);
    if (rc == MG_ERROR) {
        return MG_CONF_ERROR;
    }
    if (rc == MG_DECLINED &&
        mg_http_compile_complex_value(cf, cf->args[1], &rw->pattern) != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (mg_http_compile_complex_value(cf, cf->args[2], &rw->replacement) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const char *set_flags(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    cookie_conf_t *cc = conf;
    if (cf->nargs == 2) {
        if (!mg_str_eq(cf->args[1], "off")) {
            mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)cf->args[1].len,
                          cf->args[1].data);
            return MG_CONF_ERROR;
        }
        if (cc->flags != MG_CONF_UNSET_PTR) {
            return "is duplicate";
        }
        cc->flags = NULL;
        return MG_CONF_OK;
    }
    if (cc->flags == NULL) {
        return "is duplicate";
    }
    if (cc->flags == MG_CONF_UNSET_PTR) {
        cc->flags = mg_array_create(cf->pool, 2, sizeof(cookie_flags_t));
    }
    cookie_flags_t *fl = mg_array_push(cc->flags);
    memset(fl, 0, sizeof(*fl));
    mg_int_t rc = compile_pattern(cf, cf->args[1], 0, &fl->regex);
    if (rc == MG_ERROR) {
        return MG_CONF_ERROR;
    }
    if (rc == MG_DECLINED && mg_http_compile_complex_value(cf, cf->args[1], &fl->name) != MG_OK) {
        return MG_CONF_ERROR;
    }
    static const struct {
        const char *name;
        unsigned flag;
    } names[] = {
        {"secure", F_SECURE},         {"nosecure", F_NOSECURE},      {"httponly", F_HTTPONLY},
        {"nohttponly", F_NOHTTPONLY}, {"samesite=strict", F_STRICT}, {"samesite=lax", F_LAX},
        {"samesite=none", F_NONE},    {"nosamesite", F_NOSAMESITE},
    };
    for (size_t i = 2; i < cf->nargs; i++) {
        /* as nginx 1.22: a word it does not know is not an error, it does nothing; the flags
         * add up whatever their order (rewrite_cookie says which of them wins) */
        for (size_t k = 0; k < mg_nelems(names); k++) {
            if (mg_str_caseeq(cf->args[i], names[k].name)) {
                fl->flags |= names[k].flag;
            }
        }
    }
    return MG_CONF_OK;
}

static void *cookie_create_conf(mg_conf_t *cf)
{
    cookie_conf_t *c = mg_pcalloc(cf->pool, sizeof(*c));
    c->domains = MG_CONF_UNSET_PTR;
    c->paths = MG_CONF_UNSET_PTR;
    c->flags = MG_CONF_UNSET_PTR;
    return c;
}

static const char *cookie_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    cookie_conf_t *prev = parent, *conf = child;
    mg_conf_merge_ptr(conf->domains, prev->domains, NULL);
    mg_conf_merge_ptr(conf->paths, prev->paths, NULL);
    mg_conf_merge_ptr(conf->flags, prev->flags, NULL);
    return MG_CONF_OK;
}

#define LOC MG_HTTP_ANY_LOC

static const mg_command_t cookie_commands[] = {
    {"proxy_cookie_domain", LOC, MG_ARGS(1, 2), set_rewrite, MG_LOC_CONF,
     offsetof(cookie_conf_t, domains), NULL},
    {"proxy_cookie_path", LOC, MG_ARGS(1, 2), set_rewrite, MG_LOC_CONF,
     offsetof(cookie_conf_t, paths), NULL},
    {"proxy_cookie_flags", LOC, MG_ARGS(1, MG_MANY), set_flags, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t cookie_defaults[] = {
    {"proxy_cookie_domain", "off"},
    {"proxy_cookie_path", "off"},
    {"proxy_cookie_flags", "off"},
    {0},
};

mg_module_t mg_proxy_cookie_module = {
    .name = "proxy_cookie",
    .commands = cookie_commands,
    .defaults = cookie_defaults,
    .create_loc_conf = cookie_create_conf,
    .merge_loc_conf = cookie_merge_conf,
};
