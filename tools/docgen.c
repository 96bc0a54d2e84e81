/*
 * `make docs`: docs/directives.md from the modules' directive tables (modules/modules.c's
 * list, in its order). Each directive's module, contexts and arguments come from its table
 * row; its default is read from the configuration an empty http{} server leaves, for the
 * directives whose setter is one of core/conf.c's generic ones (the value's type is known);
 * the others' text comes from their module's table of defaults (mg_module_t.defaults; an
 * entry naming no directive of the module, or one whose generic setter gives a value, is an
 * error, and so is a directive with a setter of its own and no entry). MG_NO_DEFAULT there
 * says nginx documents none, also over a generic setter's internal value (INT_MAX).
 * With --lua, docs/lua-api.md: every function of the ngx table (and its sub-tables) and of
 * the ngx. modules of package.preload, with the phases it runs in, found by calling it as
 * code of each phase with the VM in probe mode: its phase check (mg_lua_check_phase) or its
 * request lookup stops it with "docgen: allowed" / "docgen: request" before it does
 * anything, or it says "API disabled". t/006-docs.t fails when either file is not what this
 * prints.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "api.h"
#include "conf.h"
#include "cycle.h"
#include "http.h"
#include "module.h"
#include "stream.h"

static void contexts(unsigned c, char *buf, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {MG_CTX_MAIN, "main"},
        {MG_CTX_EVENTS, "events"},
        {MG_CTX_HTTP, "http"},
        {MG_CTX_SERVER, "server"},
        {MG_CTX_LOCATION, "location"},
        {MG_CTX_SIF, "if in server"},
        {MG_CTX_LIF, "if in location"},
        {MG_CTX_UPSTREAM, "upstream"},
        {MG_CTX_LMT, "limit_except"},
        {MG_CTX_STREAM, "stream"},
        {MG_CTX_STREAM_SRV, "stream server"},
        {MG_CTX_STREAM_UPS, "stream upstream"},
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (c & names[i].bit) {
            snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? ", " : "",
                     names[i].name);
        }
    }
}

static void arguments(unsigned a, char *buf, size_t size)
{
    unsigned min = MG_ARGS_MIN(a), max = MG_ARGS_MAX(a);
    if (a & MG_FLAG) {
        snprintf(buf, size, "on \\| off");
    } else if (max == MG_MANY) {
        snprintf(buf, size, "%u or more", min);
    } else if (min == max) {
        snprintf(buf, size, "%u", min);
    } else {
        snprintf(buf, size, "%u to %u", min, max);
    }
    if (a & (MG_BLOCK | MG_RAW_BLOCK)) {
        snprintf(buf + strlen(buf), size - strlen(buf), ", then a { } block");
    }
}

static void size_text(int64_t v, char *buf, size_t size)
{
    if (v && v % (1024 * 1024) == 0) {
        snprintf(buf, size, "%lldm", (long long)(v / (1024 * 1024)));
    } else if (v && v % 1024 == 0) {
        snprintf(buf, size, "%lldk", (long long)(v / 1024));
    } else {
        snprintf(buf, size, "%lld", (long long)v);
    }
}

static void msec_text(mg_msec_t v, char *buf, size_t size)
{
    /* nginx's pages: "1h", "5m", "10m", but "60s" and "75s" */
    if (v == 0) {
        snprintf(buf, size, "0");
    } else if (v % 3600000 == 0) {
        snprintf(buf, size, "%lldh", (long long)(v / 3600000));
    } else if (v % 60000 == 0 && v > 60000) {
        snprintf(buf, size, "%lldm", (long long)(v / 60000));
    } else if (v % 1000 == 0) {
        snprintf(buf, size, "%llds", (long long)(v / 1000));
    } else {
        snprintf(buf, size, "%lldms", (long long)v);
    }
}

#define HTTP_CTX                                                                                   \
    (MG_CTX_HTTP | MG_CTX_SERVER | MG_CTX_LOCATION | MG_CTX_LIF | MG_CTX_SIF | MG_CTX_UPSTREAM |   \
     MG_CTX_LMT)

/* The merged value of a generic setter's field, or "—": http's empty server for a directive
 * of http{}, stream's for one of stream{} only (srv and loc are its server's conf there). */
static void default_value(mg_cycle_t *cycle, void **srv, void **loc, const mg_module_t *m,
                          const mg_command_t *c, char *buf, size_t size)
{
    snprintf(buf, size, "—");
    void *conf = NULL;
    mg_conf_ctx_t *layer = cycle->http;
    if (!(c->contexts & HTTP_CTX) && (c->contexts & (MG_CTX_STREAM | MG_CTX_STREAM_SRV))) {
        layer = cycle->stream;
        srv = loc = NULL;
        if (layer) {
            mg_stream_main_conf_t *smcf = layer->main_conf[mg_stream_core_module.index];
            if (smcf->servers.nelts) {
                mg_stream_srv_conf_t *sscf = ((mg_stream_srv_conf_t **)smcf->servers.elts)[0];
                srv = loc = sscf->ctx->srv_conf;
            }
        }
    }
    switch (c->slot) {
    case MG_CYCLE_CONF:
        conf = cycle->conf[m->index];
        break;
    case MG_MAIN_CONF:
        conf = layer ? layer->main_conf[m->index] : NULL;
        break;
    case MG_SRV_CONF:
        conf = srv ? srv[m->index] : NULL;
        break;
    case MG_LOC_CONF:
        conf = loc ? loc[m->index] : NULL;
        break;
    }
    if (conf == NULL) {
        return;
    }
    char *p = (char *)conf + c->offset;
    if (c->set == mg_conf_set_flag) {
        int v = *(int *)p;
        if (v == 0 || v == 1) {
            snprintf(buf, size, "%s", v ? "on" : "off");
        }
    } else if (c->set == mg_conf_set_num) {
        mg_int_t v = *(mg_int_t *)p;
        if (v != MG_CONF_UNSET) {
            snprintf(buf, size, "%ld", (long)v);
        }
    } else if (c->set == mg_conf_set_size) {
        size_t v = *(size_t *)p;
        if (v != MG_CONF_UNSET_SIZE) {
            size_text((int64_t)v, buf, size);
        }
    } else if (c->set == mg_conf_set_off) {
        off_t v = *(off_t *)p;
        if (v != MG_CONF_UNSET) {
            size_text((int64_t)v, buf, size);
        }
    } else if (c->set == mg_conf_set_msec) {
        mg_msec_t v = *(mg_msec_t *)p;
        if (v != MG_CONF_UNSET) {
            msec_text(v, buf, size);
        }
    } else if (c->set == mg_conf_set_enum && c->post) {
        mg_int_t v = *(mg_int_t *)p;
        for (const mg_conf_enum_t *e = c->post; e->name; e++) {
            if (e->value == v) {
                snprintf(buf, size, "%s", e->name);
                break;
            }
        }
    } else if (c->set == mg_conf_set_str) {
        mg_str_t *s = (mg_str_t *)p;
        if (s->len && s->len < 64 && memchr(s->data, '|', s->len) == NULL) {
            snprintf(buf, size, "%.*s", (int)s->len, s->data);
        }
    }
}

/* The module's entry for directive `name` in its table of defaults, or NULL. */
static const mg_conf_default_t *documented(const mg_module_t *m, const char *name)
{
    for (const mg_conf_default_t *d = m->defaults; d && d->name; d++) {
        if (strcmp(d->name, name) == 0) {
            return d;
        }
    }
    return NULL;
}

/* A setter default_value reads the merged value of: its directive needs no entry. */
static int generic(const mg_command_t *c)
{
    return c->set == mg_conf_set_flag || c->set == mg_conf_set_num || c->set == mg_conf_set_size ||
           c->set == mg_conf_set_off || c->set == mg_conf_set_msec ||
           (c->set == mg_conf_set_enum && c->post) || c->set == mg_conf_set_str;
}

static int has_command(const mg_module_t *m, const char *name)
{
    for (const mg_command_t *c = m->commands; c && c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* text as a markdown table cell: "|" escaped */
static void cell(const char *text, char *buf, size_t size)
{
    size_t n = 0;
    for (const char *p = text; *p && n + 3 < size; p++) {
        if (*p == '|') {
            buf[n++] = '\\';
        }
        buf[n++] = *p;
    }
    buf[n] = '\0';
}

typedef struct {
    unsigned phase;
    const char *name;
    int request; /* a request (or a stream session) exists there */
} lua_phase_t;

static const lua_phase_t lua_phases[] = {
    {MG_LUA_INIT, "init", 0},
    {MG_LUA_INIT_WORKER, "init_worker", 0},
    {MG_LUA_SET, "set", 1},
    {MG_LUA_REWRITE, "rewrite", 1},
    {MG_LUA_ACCESS, "access", 1},
    {MG_LUA_CONTENT, "content", 1},
    {MG_LUA_HEADER_FILTER, "header_filter", 1},
    {MG_LUA_BODY_FILTER, "body_filter", 1},
    {MG_LUA_LOG, "log", 1},
    {MG_LUA_TIMER, "timer", 0},
    {MG_LUA_EXIT_WORKER, "exit_worker", 0},
    {MG_LUA_BALANCER, "balancer", 1},
    {MG_LUA_SSL_CLIENT_HELLO, "ssl_client_hello", 0},
    {MG_LUA_SSL_CERT, "ssl_certificate", 0},
    {MG_LUA_SSL_SESS_FETCH, "ssl_session_fetch", 0},
    {MG_LUA_SSL_SESS_STORE, "ssl_session_store", 0},
};

/* stream{}'s VM (lua/stream.c) */
static const lua_phase_t stream_phases[] = {
    {MG_LUA_INIT, "init", 0},
    {MG_LUA_INIT_WORKER, "init_worker", 0},
    {MG_LUA_PREREAD, "preread", 1},
    {MG_LUA_CONTENT, "content", 1},
    {MG_LUA_LOG, "log", 1},
    {MG_LUA_TIMER, "timer", 0},
    {MG_LUA_BALANCER, "balancer", 1},
    {MG_LUA_SSL_CLIENT_HELLO, "ssl_client_hello", 0},
    {MG_LUA_SSL_CERT, "ssl_certificate", 0},
};

/* The modules `require` gives (lua-resty-core's ngx.*, lua-upstream-nginx-module's
 * ngx.upstream): the "ngx." names of the VM's package.preload, sorted (lua_modules_find). */
static char *lua_modules[64];
static size_t lua_modules_n;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lua_modules_find(lua_State *L)
{
    for (size_t i = 0; i < lua_modules_n; i++) {
        free(lua_modules[i]);
    }
    lua_modules_n = 0;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && strncmp(lua_tostring(L, -2), "ngx.", 4) == 0 &&
            lua_modules_n < mg_nelems(lua_modules)) {
            lua_modules[lua_modules_n++] = strdup(lua_tostring(L, -2));
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    qsort(lua_modules, lua_modules_n, sizeof(char *), cmp_str);
}

/* Names of the functions in the table on top of L ("ngx.say", "ngx.req.get_headers"), sorted,
 * recursing into sub-tables. */
static void collect(lua_State *L, const char *path, char ***names, size_t *n, int depth)
{
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            char name[256];
            snprintf(name, sizeof(name), "%s.%s", path, lua_tostring(L, -2));
            if (lua_type(L, -1) == LUA_TFUNCTION) {
                *names = realloc(*names, (*n + 1) * sizeof(char *));
                (*names)[(*n)++] = strdup(name);
            } else if (lua_type(L, -1) == LUA_TTABLE && depth < 2 &&
                       strcmp(lua_tostring(L, -2), "shared") != 0) {
                collect(L, name, names, n, depth + 1);
            }
        }
        lua_pop(L, 1);
    }
}

/* Walk the dotted path `rest` from the table on top of L, replacing it with what is found
 * (nil where a step is not a table). */
static void walk(lua_State *L, char *rest)
{
    for (char *part = strtok(rest, "."); part; part = strtok(NULL, ".")) {
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, part);
        } else {
            lua_pushnil(L);
        }
        lua_remove(L, -2);
    }
}

/* The function `name` names: a field of the ngx table, else one of the module its name
 * starts with (the longest: ngx.ssl.session before ngx.ssl). */
static void push_path(lua_State *L, const char *name)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", name);
    lua_getglobal(L, "_G");
    walk(L, buf);
    if (lua_isfunction(L, -1)) {
        return;
    }
    lua_pop(L, 1);
    size_t best = 0, len = 0;
    for (size_t m = 0; m < lua_modules_n; m++) {
        size_t l = strlen(lua_modules[m]);
        if (l > len && strncmp(name, lua_modules[m], l) == 0 && name[l] == '.') {
            best = m;
            len = l;
        }
    }
    lua_getglobal(L, "require");
    lua_pushstring(L, lua_modules[best]);
    lua_call(L, 1, 1);
    snprintf(buf, sizeof(buf), "%s", name + len + 1);
    walk(L, buf);
}

static int listed(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The functions of L's ngx table, sorted, then those of the modules `require` gives that the
 * ngx table does not have under the same name; *count gets how many there are. */
static char **api_names(lua_State *L, size_t *count)
{
    char **names = NULL;
    size_t n = 0;
    lua_getglobal(L, "ngx");
    collect(L, "ngx", &names, &n, 0);
    lua_pop(L, 1);
    qsort(names, n, sizeof(char *), cmp_str);
    size_t nngx = n;
    for (size_t m = 0; m < lua_modules_n; m++) {
        lua_getglobal(L, "require");
        lua_pushstring(L, lua_modules[m]);
        if (lua_pcall(L, 1, 1, 0) != 0) {
            lua_pop(L, 1); /* not in this subsystem ("unsupported subsystem: stream") */
            continue;
        }
        char **mod = NULL;
        size_t nmod = 0;
        collect(L, lua_modules[m], &mod, &nmod, 1);
        lua_pop(L, 1);
        for (size_t i = 0; i < nmod; i++) {
            if (listed(names, n, mod[i])) {
                free(mod[i]);
            } else {
                names = realloc(names, (n + 1) * sizeof(char *));
                names[n++] = mod[i];
            }
        }
        free(mod);
    }
    qsort(names + nngx, n - nngx, sizeof(char *), cmp_str);
    *count = n;
    return names;
}

/* One row per function: x where it runs in the phase (called as code of that phase). */
static void api_table(lua_State *L, mg_lua_main_conf_t *lmcf, char **names, size_t n,
                      const lua_phase_t *phases, size_t nphases)
{
    printf("| function |");
    for (size_t p = 0; p < nphases; p++) {
        printf(" %s |", phases[p].name);
    }
    printf("\n|---|");
    for (size_t p = 0; p < nphases; p++) {
        printf("---|");
    }
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        printf("| `%s` |", names[i]);
        for (size_t p = 0; p < nphases; p++) {
            /* without arguments first; a function that reads its arguments before the
             * phase gets plausible ones until it answers something else */
            static const char *argsets[] = {"", "s", "ss", "n", "ns", "sn", "t", "T", "snnn", "nf"};
            const char *mark = "?";
            for (size_t k = 0; k < mg_nelems(argsets); k++) {
                int top = lua_gettop(L);
                push_path(L, names[i]);
                for (const char *a = argsets[k]; *a; a++) {
                    if (*a == 's') {
                        lua_pushliteral(L, "/docgen");
                    } else if (*a == 'n') {
                        lua_pushinteger(L, 1);
                    } else if (*a == 'T') { /* a list of one query, capture_multi's */
                        lua_createtable(L, 1, 0);
                        lua_createtable(L, 1, 0);
                        lua_pushliteral(L, "/docgen");
                        lua_rawseti(L, -2, 1);
                        lua_rawseti(L, -2, 1);
                    } else if (*a == 'f') { /* a Lua function, ngx.timer.at's */
                        luaL_loadstring(L, "return");
                    } else {
                        lua_newtable(L);
                    }
                }
                mg_lua_current_t saved = mg_lua_cur;
                mg_lua_cur = (mg_lua_current_t){.phase = phases[p].phase, .lmcf = lmcf};
                int rc = lua_pcall(L, (int)strlen(argsets[k]), LUA_MULTRET, 0);
                mg_lua_cur = saved;
                const char *err = "";
                if (rc) {
                    err = lua_tostring(L, -1);
                } else if (lua_gettop(L) >= top + 2 && lua_isnil(L, top + 1)) {
                    err = lua_tostring(L, top + 2); /* the nil, err answer of a refusal */
                }
                if (err == NULL) {
                    err = "";
                }
                int argerr = strstr(err, "bad argument") || strstr(err, "expecting") ||
                             strstr(err, "expected") || strstr(err, "attempt to") ||
                             strstr(err, "should be specified");
                if (strstr(err, "API disabled in the") || strstr(err, "no request found") ||
                    (!phases[p].request && strstr(err, "docgen: request"))) {
                    mark = "";
                } else if (!argerr) {
                    mark = "x"; /* it ran, or went past any phase check it makes */
                }
                lua_settop(L, top);
                if (!argerr || mark[0] != '?') {
                    break;
                }
            }
            printf(" %s |", mark);
        }
        printf("\n");
        free(names[i]);
    }
    free(names);
}

static int lua_api(mg_cycle_t *cycle)
{
    mg_lua_main_conf_t *lmcf = cycle->http->main_conf[mg_lua_module.index];
    lua_State *L = lmcf->L;
    mg_lua_probe = 1;
    /* the probes call ngx.log too, with nothing to say: its lines go nowhere */
    fflush(stderr);
    int saved_stderr = dup(2), devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
        dup2(devnull, 2);
        close(devnull);
    }
    lua_modules_find(L);
    size_t n;
    char **names = api_names(L, &n);
    printf("# The ngx Lua API\n\n"
           "Generated by `make docs` (tools/docgen.c --lua) from a Lua VM of moongate; do not\n"
           "edit. Every function of the `ngx` table and its sub-tables, with the phases it may\n"
           "run in (x), found by calling it as code of each phase. ngx.shared.DICT objects\n"
           "have the methods of lua-nginx-module's shared dictionaries (t/410-lua-shdict.t).\n"
           "Then the functions of the modules `require` gives that the table has not (the\n"
           "`ngx.` modules of package.preload: lua-resty-core's, and `ngx.upstream`,\n"
           "lua-upstream-nginx-module's API, t/212-health-check-lua.t). The ssl_* columns are\n"
           "the TLS handshake's code (ssl_client_hello_by_lua*, ssl_certificate_by_lua*,\n"
           "ssl_session_fetch_by_lua*, ssl_session_store_by_lua*; t/506-508, t/517).\n\n");
    api_table(L, lmcf, names, n, lua_phases, mg_nelems(lua_phases));
    mg_lua_main_conf_t *smcf = cycle->stream->main_conf[mg_stream_lua_module.index];
    L = smcf->L;
    lua_modules_find(L);
    names = api_names(L, &n);
    printf("\n## stream{}\n\n"
           "The VM of stream{} (stream-lua-nginx-module's interface, lua/stream.c,\n"
           "t/910-stream-lua.t): the same table without http's functions, with the stream's\n"
           "output, ngx.var and ngx.req.socket (whose object adds peek, in preread only).\n\n");
    api_table(L, smcf, names, n, stream_phases, mg_nelems(stream_phases));
    if (saved_stderr >= 0) {
        dup2(saved_stderr, 2);
        close(saved_stderr);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int lua = argc > 1 && strcmp(argv[1], "--lua") == 0;
    char prefix[] = "/tmp/moongate-docgen-XXXXXX";
    if (mkdtemp(prefix) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char conf[4096];
    snprintf(conf, sizeof(conf), "%s/docgen.conf", prefix);
    static const char text[] = "error_log stderr; events { } http { access_log off; "
                               "init_by_lua_block { local docgen } "
                               "server { listen 127.0.0.1:1; } } "
                               "stream { init_by_lua_block { local docgen } "
                               "server { listen 127.0.0.1:2; return ok; } }";
    mg_cycle_params_t params = {.prefix = prefix,
                                .conf_file = conf,
                                .conf_string = text,
                                .error_log = "stderr",
                                .test_config = 1};
    mg_cycle_t *cycle = mg_cycle_create(&params, NULL, mg_cycle_early_log(&params));
    if (cycle == NULL) {
        return 1;
    }
    if (lua) {
        int rc = lua_api(cycle);
        mg_cycle_destroy(cycle);
        char cmd[sizeof(prefix) + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", prefix);
        return system(cmd) == 0 ? rc : 1;
    }
    void **srv = NULL, **loc = NULL;
    if (cycle->http) {
        mg_http_main_conf_t *cmcf = cycle->http->main_conf[mg_http_core_module.index];
        if (cmcf->servers.nelts) {
            mg_http_srv_conf_t *cscf = ((mg_http_srv_conf_t **)cmcf->servers.elts)[0];
            srv = cscf->ctx->srv_conf;
            loc = cscf->ctx->loc_conf;
        }
    }
    int rc = 0;
    printf("# Directives\n\n"
           "Generated by `make docs` (tools/docgen.c) from the directive tables; do not edit.\n"
           "Every directive moongate knows, by module in the order of modules/modules.c.\n"
           "Default: the value of an empty `server {}` (of http, or of stream for stream's\n"
           "directives) for directives kept by a generic setter; for the others, the text\n"
           "their module's table of defaults gives (nginx's documented default, or\n"
           "moongate's where it differs); \"—\": none, as nginx documents (MG_NO_DEFAULT\n"
           "in the table: every directive with a setter of its own has an entry).\n");
    for (size_t i = 0; i < mg_modules_n; i++) {
        const mg_module_t *m = mg_modules[i];
        if (m->commands == NULL || m->commands[0].name == NULL) {
            continue;
        }
        printf("\n## %s\n\n| directive | contexts | arguments | default |\n|---|---|---|---|\n",
               m->name);
        for (const mg_command_t *c = m->commands; c->name; c++) {
            char ctx[256], args[64], dflt[256];
            contexts(c->contexts, ctx, sizeof(ctx));
            arguments(c->args, args, sizeof(args));
            default_value(cycle, srv, loc, m, c, dflt, sizeof(dflt));
            const mg_conf_default_t *d = documented(m, c->name);
            if (d && d->text == MG_NO_DEFAULT) {
                /* none, as nginx documents it, whatever internal value the merge leaves */
                snprintf(dflt, sizeof(dflt), "—");
            } else if (d && strcmp(dflt, "—") != 0) {
                fprintf(stderr,
                        "docgen: %s: \"%s\" has a generic setter's default (%s) and a "
                        "documented one\n",
                        m->name, c->name, dflt);
                rc = 1;
            } else if (d) {
                cell(d->text, dflt, sizeof(dflt));
            } else if (d == NULL && !generic(c)) {
                fprintf(stderr,
                        "docgen: %s: \"%s\" has a setter of its own and no entry in the "
                        "module's defaults (nginx's default, or MG_NO_DEFAULT)\n",
                        m->name, c->name);
                rc = 1;
            }
            printf("| `%s` | %s | %s | %s |\n", c->name, ctx, args, dflt);
        }
        for (const mg_conf_default_t *d = m->defaults; d && d->name; d++) {
            if (!has_command(m, d->name)) {
                fprintf(stderr, "docgen: %s: the default of \"%s\", not a directive of it\n",
                        m->name, d->name);
                rc = 1;
            }
        }
    }
    mg_cycle_destroy(cycle);
    char cmd[sizeof(prefix) + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", prefix);
    return system(cmd) == 0 ? rc : 1;
}
