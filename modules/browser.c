/*
 * modern_browser, ancient_browser and their _value directives, $modern_browser,
 * $ancient_browser and $msie (nginx's ngx_http_browser_module). A modern_browser line names a
 * browser of nginx's list and a version; a User-Agent is looked up in the list's order
 * (Opera, Opera's "Version/", MSIE, Gecko's "rv:", Safari, Konqueror; lines of one browser in
 * the order given) and the first browser found decides by its version. Otherwise an
 * ancient_browser substring (or netscape4, "Mozilla/1-4") makes it ancient, and what is left
 * is modern only with "modern_browser unlisted".
 */
#include "http.h"
#include "variables.h"

/* Where nginx looks for a browser: from `skip` bytes into the User-Agent, the text `find`,
 * whose version starts `add` bytes after it. */
typedef struct {
    const char *browser;
    size_t skip;
    size_t add;
    const char *find;
} browser_mask_t;

static const browser_mask_t masks[] = {
    /* "Opera 7.50", "Opera/9.80 (...)": Opera first, it may also say MSIE */
    {"opera", 0, sizeof("Opera ") - 1, "Opera"},
    /* "Opera/9.80 (...) Version/10.00" */
    {"opera", sizeof("Opera ") - 1, sizeof("Version/") - 1, "Version/"},
    /* "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)" */
    {"msie", sizeof("Mozilla/4.0 (compatible; ") - 1, sizeof("MSIE ") - 1, "MSIE "},
    /* "Mozilla/5.0 (X11; U; Linux; rv:1.7.8) Gecko/20050511" */
    {"gecko", sizeof("Mozilla/5.0 (") - 1, sizeof("rv:") - 1, "rv:"},
    /* "Mozilla/5.0 (Macintosh) AppleWebKit/125.2 (KHTML, like Gecko) Safari/125.7" */
    {"safari", sizeof("Mozilla/5.0 (") - 1, sizeof("Safari/") - 1, "Safari/"},
    /* "Mozilla/5.0 (compatible; Konqueror/3.1; Linux)" */
    {"konqueror", sizeof("Mozilla/5.0 (compatible; ") - 1, sizeof("Konqueror/") - 1, "Konqueror/"},
};

typedef struct {
    size_t mask; /* index in masks[] */
    uint64_t version;
} modern_t;

typedef struct {
    mg_array_t *modern;  /* modern_t, in lookup order once merged; NULL: none */
    mg_array_t *ancient; /* mg_str_t substrings */
    mg_int_t modern_unlisted;
    mg_int_t netscape4;
    mg_str_t modern_value; /* data NULL: unset */
    mg_str_t ancient_value;
} browser_conf_t;

mg_module_t mg_browser_module;

enum { ANCIENT, MODERN };

static void *browser_create_conf(mg_conf_t *cf)
{
    browser_conf_t *bc = mg_pcalloc(cf->pool, sizeof(browser_conf_t));
    bc->modern_unlisted = MG_CONF_UNSET;
    bc->netscape4 = MG_CONF_UNSET;
    return bc;
}

static const char *browser_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    browser_conf_t *prev = parent, *conf = child;
    /* either list comes whole from the parent only when the level has no line of its kind */
    if (conf->modern == NULL && conf->modern_unlisted == MG_CONF_UNSET) {
        conf->modern = prev->modern;
        conf->modern_unlisted = prev->modern_unlisted;
    } else if (conf->modern) {
        /* lookup order: nginx's list of browsers, lines of one browser as given */
        mg_array_t *sorted = mg_array_create(cf->pool, conf->modern->nelts, sizeof(modern_t));
        modern_t *m = conf->modern->elts;
        for (size_t k = 0; k < mg_nelems(masks); k++) {
            for (size_t i = 0; i < conf->modern->nelts; i++) {
                if (m[i].mask == k) {
                    *(modern_t *)mg_array_push(sorted) = m[i];
                }
            }
        }
        conf->modern = sorted;
    }
    if (conf->ancient == NULL && conf->netscape4 == MG_CONF_UNSET) {
        conf->ancient = prev->ancient;
        conf->netscape4 = prev->netscape4;
    }
    mg_conf_merge(conf->modern_unlisted, MG_CONF_UNSET, 0);
    mg_conf_merge(conf->netscape4, MG_CONF_UNSET, 0);
    mg_conf_merge_str(conf->modern_value, prev->modern_value, "1");
    mg_conf_merge_str(conf->ancient_value, prev->ancient_value, "1");
    return MG_CONF_OK;
}

static const char *browser_modern(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    browser_conf_t *bc = conf;
    if (cf->nargs == 2) {
        if (mg_str_eq(cf->args[1], "unlisted")) {
            bc->modern_unlisted = 1;
            return MG_CONF_OK;
        }
        return MG_CONF_ERROR; /* nginx says nothing more */
    }
    mg_str_t name = cf->args[1], ver = cf->args[2];
    uint64_t version = 0, part = 0, scale = 1000000;
    for (size_t i = 0; i < ver.len; i++) {
        char c = ver.data[i];
        if (c >= '0' && c <= '9') {
            part = part * 10 + (uint64_t)(c - '0');
        } else if (c == '.') {
            version += part * scale;
            part = 0;
            scale /= 100;
        } else {
            mg_conf_error(cf, 0, "invalid browser version \"%s\"", ver.data);
            return MG_CONF_ERROR;
        }
    }
    version += part * scale;
    int known = 0;
    for (size_t k = 0; k < mg_nelems(masks); k++) {
        if (!mg_str_caseeq(name, masks[k].browser)) {
            continue;
        }
        if (bc->modern == NULL) {
            bc->modern = mg_array_create(cf->pool, 4, sizeof(modern_t));
        }
        modern_t *m = mg_array_push(bc->modern);
        m->mask = k;
        m->version = version;
        known = 1;
    }
    if (!known) {
        mg_conf_error(cf, 0, "unknown browser name \"%s\"", name.data);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const char *browser_ancient(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    browser_conf_t *bc = conf;
    for (size_t i = 1; i < cf->nargs; i++) {
        if (mg_str_eq(cf->args[i], "netscape4")) {
            bc->netscape4 = 1;
            continue;
        }
        if (bc->ancient == NULL) {
            bc->ancient = mg_array_create(cf->pool, 4, sizeof(mg_str_t));
        }
        *(mg_str_t *)mg_array_push(bc->ancient) = cf->args[i];
    }
    return MG_CONF_OK;
}

/* A plain string; a later line replaces an earlier one, as in nginx. */
static const char *browser_value(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    *(mg_str_t *)((char *)conf + cmd->offset) = cf->args[1];
    return MG_CONF_OK;
}

/* The version after a browser's name, compared as nginx does: each dot-separated part is
 * worth a hundredth of the one before; a part already above the wanted one decides. */
static int version_at_least(const char *p, const char *last, uint64_t want)
{
    uint64_t version = 0, part = 0, scale = 1000000;
    while (p < last) {
        char c = *p++;
        if (c >= '0' && c <= '9') {
            part = part * 10 + (uint64_t)(c - '0');
            continue;
        }
        if (c != '.') {
            break;
        }
        version += part * scale;
        if (version > want) {
            return 1;
        }
        part = 0;
        scale /= 100;
    }
    version += part * scale;
    return version >= want;
}

static int classify(mg_request_t *r, browser_conf_t *bc)
{
    mg_table_elt_t *h = r->headers_in.user_agent;
    if (h == NULL) {
        return bc->modern_unlisted ? MODERN : ANCIENT;
    }
    const char *ua = h->value.data, *last = ua + h->value.len;
    size_t len = h->value.len;
    if (bc->modern) {
        modern_t *m = bc->modern->elts;
        for (size_t i = 0; i < bc->modern->nelts; i++) {
            const browser_mask_t *mk = &masks[m[i].mask];
            if (mk->skip >= len) {
                continue;
            }
            const char *found = memmem(ua + mk->skip, len - mk->skip, mk->find, strlen(mk->find));
            if (found == NULL || found + mk->add >= last) {
                continue;
            }
            return version_at_least(found + mk->add, last, m[i].version) ? MODERN : ANCIENT;
        }
        if (!bc->modern_unlisted) {
            return ANCIENT;
        }
    }
    if (bc->netscape4 && len > sizeof("Mozilla/x.x (") - 1 && memcmp(ua, "Mozilla/", 8) == 0 &&
        ua[8] > '0' && ua[8] < '5') {
        return ANCIENT;
    }
    if (bc->ancient) {
        mg_str_t *a = bc->ancient->elts;
        for (size_t i = 0; i < bc->ancient->nelts; i++) {
            if (a[i].len <= len && memmem(ua, len, a[i].data, a[i].len)) {
                return ANCIENT;
            }
        }
    }
    return bc->modern_unlisted ? MODERN : ANCIENT;
}

static mg_int_t var_browser(mg_request_t *r, mg_http_var_value_t *v, uintptr_t which)
{
    browser_conf_t *bc = mg_http_get_loc_conf(r, mg_browser_module);
    v->valid = 1;
    v->not_found = 0;
    if (classify(r, bc) != (int)which) {
        v->value.data = "";
        v->value.len = 0;
        return MG_OK;
    }
    v->value = which == MODERN ? bc->modern_value : bc->ancient_value;
    return MG_OK;
}

/* "MSIE " with at least "MSIE x.x" there, and no "Opera" anywhere (Opera said it was MSIE). */
static mg_int_t var_msie(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_table_elt_t *h = r->headers_in.user_agent;
    if (h) {
        const char *ua = h->value.data;
        size_t len = h->value.len;
        const char *msie = memmem(ua, len, "MSIE ", 5);
        if (msie && msie + 7 < ua + len && memmem(ua, len, "Opera", 5) == NULL) {
            v->value.data = "1";
            v->value.len = 1;
            v->valid = 1;
            v->not_found = 0;
            return MG_OK;
        }
    }
    v->valid = 0;
    v->not_found = 1;
    return MG_OK;
}

static void *browser_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, 1);
}

static const char *browser_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    static const struct {
        const char *name;
        mg_http_get_variable_pt get;
        uintptr_t data;
    } vars[] = {
        {"modern_browser", var_browser, MODERN},
        {"ancient_browser", var_browser, ANCIENT},
        {"msie", var_msie, 0},
    };
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_str_t name = {strlen(vars[i].name), (char *)vars[i].name};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, 0);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = vars[i].get;
        v->data = vars[i].data;
    }
    return MG_CONF_OK;
}

static const mg_command_t browser_commands[] = {
    {"modern_browser", MG_HTTP_ANY_LOC, MG_ARGS(1, 2), browser_modern, MG_LOC_CONF, 0, NULL},
    {"ancient_browser", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), browser_ancient, MG_LOC_CONF, 0,
     NULL},
    {"modern_browser_value", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), browser_value, MG_LOC_CONF,
     offsetof(browser_conf_t, modern_value), NULL},
    {"ancient_browser_value", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), browser_value, MG_LOC_CONF,
     offsetof(browser_conf_t, ancient_value), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t browser_defaults[] = {
    {"modern_browser_value", "1"},
    {"ancient_browser_value", "1"},
    {"modern_browser", MG_NO_DEFAULT},
    {"ancient_browser", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_browser_module = {
    .name = "browser",
    .commands = browser_commands,
    .defaults = browser_defaults,
    .create_main_conf = browser_create_main_conf,
    .init_main_conf = browser_init_main_conf,
    .create_loc_conf = browser_create_conf,
    .merge_loc_conf = browser_merge_conf,
};
