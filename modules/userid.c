/*
 * userid and userid_* (nginx's ngx_http_userid_module): a header filter that sets a cookie
 * identifying the client, and $uid_got, $uid_set, $uid_reset. The identifier is nginx's 16
 * bytes: service (the server's IPv4 address unless userid_service says), time, the worker's
 * start value and a sequence number, four 32-bit words in network order ("on") or the
 * machine's ("v1"), sent in base64 with "==" (or the userid_mark letter in place of the first
 * '='). The variables print the words as this machine reads them, as nginx does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/time.h>
#include <unistd.h>

#include "http.h"
#include "variables.h"

enum { UID_OFF, UID_LOG, UID_V1, UID_ON };

#define EXPIRES_MAX ((time_t)-2)

/* userid_flags: the samesite values share a bit, so a second one is a duplicate */
#define FLAG_OFF 0x01
#define FLAG_SECURE 0x02
#define FLAG_HTTPONLY 0x04
#define FLAG_SAMESITE 0x08
#define FLAG_STRICT (FLAG_SAMESITE | 0x10)
#define FLAG_LAX (FLAG_SAMESITE | 0x20)
#define FLAG_NONE (FLAG_SAMESITE | 0x40)
#define FLAGS_SET 0x80 /* a userid_flags line was read at this level */

typedef struct {
    mg_int_t enable;
    mg_int_t flags;   /* 0 until set, then FLAGS_SET and FLAG_* */
    mg_int_t service; /* MG_CONF_UNSET: the server's address */
    mg_int_t mark;    /* MG_CONF_UNSET, 0 for off, or the character */
    time_t expires;   /* MG_CONF_UNSET, 0 for off, EXPIRES_MAX, or seconds */
    mg_str_t name;
    mg_str_t domain; /* "; domain=..." or "" */
    mg_str_t path;   /* "; path=..." */
    mg_str_t p3p;    /* "" for none */
} userid_conf_t;

typedef struct {
    uint32_t got[4]; /* the client's identifier; got[3] == 0: none */
    uint32_t set[4]; /* the one to send; set[3] == 0: none */
    mg_str_t cookie; /* the cookie's value as sent */
    unsigned reset : 1;
} userid_ctx_t;

mg_module_t mg_userid_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_userid_module);
}

/* Per process, as nginx's: a worker's start value (part of its microseconds and its pid) and
 * the sequence numbers of the identifiers it made. */
static MG_THREAD_LOCAL uint32_t start_value; /* per thread: an embedded server's loop */
static MG_THREAD_LOCAL uint32_t sequence_v1 = 1;
static MG_THREAD_LOCAL uint32_t sequence_v2 = 0x03030302;

static const mg_conf_enum_t userid_values[] = {
    {"off", UID_OFF}, {"log", UID_LOG}, {"v1", UID_V1}, {"on", UID_ON}, {NULL, 0},
};

static void *userid_create_conf(mg_conf_t *cf)
{
    userid_conf_t *uc = mg_pcalloc(cf->pool, sizeof(userid_conf_t));
    uc->enable = MG_CONF_UNSET;
    uc->service = MG_CONF_UNSET;
    uc->mark = MG_CONF_UNSET;
    uc->expires = MG_CONF_UNSET;
    return uc;
}

static const char *userid_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    userid_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->enable, prev->enable, UID_OFF);
    if (conf->flags == 0) {
        conf->flags = prev->flags ? prev->flags : (FLAGS_SET | FLAG_OFF);
    }
    mg_conf_merge(conf->service, prev->service, MG_CONF_UNSET);
    mg_conf_merge(conf->mark, prev->mark, 0);
    mg_conf_merge(conf->expires, prev->expires, 0);
    mg_conf_merge_str(conf->name, prev->name, "uid");
    mg_conf_merge_str(conf->domain, prev->domain, "");
    mg_conf_merge_str(conf->path, prev->path, "; path=/");
    mg_conf_merge_str(conf->p3p, prev->p3p, "");
    return MG_CONF_OK;
}

/* userid_domain, userid_path: stored as the cookie attribute they add */
static const char *userid_attr(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_str_t *f = (mg_str_t *)((char *)conf + cmd->offset);
    if (f->data) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    const char *attr = cmd->post;
    if (strcmp(attr, "domain") == 0 && mg_str_eq(v, "none")) {
        *f = (mg_str_t)mg_string("");
        return MG_CONF_OK;
    }
    char *s = mg_psprintf(cf->pool, "; %s=%.*s", attr, (int)v.len, v.data);
    f->data = s;
    f->len = strlen(s);
    return MG_CONF_OK;
}

static const char *userid_p3p(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    userid_conf_t *uc = conf;
    if (uc->p3p.data) {
        return "is duplicate";
    }
    uc->p3p = mg_str_eq(cf->args[1], "none") ? (mg_str_t)mg_string("") : cf->args[1];
    return MG_CONF_OK;
}

static const char *userid_expires(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    userid_conf_t *uc = conf;
    if (uc->expires != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    if (mg_str_eq(v, "max")) {
        uc->expires = EXPIRES_MAX;
        return MG_CONF_OK;
    }
    if (mg_str_eq(v, "off")) {
        uc->expires = 0;
        return MG_CONF_OK;
    }
    int64_t t = mg_parse_time(v, 1);
    if (t < 0) {
        return "invalid value";
    }
    uc->expires = (time_t)t;
    return MG_CONF_OK;
}

static const char *userid_mark(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    userid_conf_t *uc = conf;
    if (uc->mark != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    if (mg_str_eq(v, "off")) {
        uc->mark = 0;
        return MG_CONF_OK;
    }
    char c = v.len == 1 ? v.data[0] : 0;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '=') {
        uc->mark = c;
        return MG_CONF_OK;
    }
    return "value must be \"off\" or a single letter, digit or \"=\"";
}

static const char *userid_flags(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    static const mg_conf_enum_t names[] = {
        {"off", FLAG_OFF},
        {"secure", FLAG_SECURE},
        {"httponly", FLAG_HTTPONLY},
        {"samesite=strict", FLAG_STRICT},
        {"samesite=lax", FLAG_LAX},
        {"samesite=none", FLAG_NONE},
        {NULL, 0},
    };
    /* lines add up, as nginx's bit masks do */
    userid_conf_t *uc = conf;
    uc->flags |= FLAGS_SET;
    for (size_t i = 1; i < cf->nargs; i++) {
        const mg_conf_enum_t *e = names;
        while (e->name && !mg_str_caseeq(cf->args[i], e->name)) {
            e++;
        }
        if (e->name == NULL) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", cf->args[i].data);
            return MG_CONF_ERROR;
        }
        if (uc->flags & e->value) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate value \"%s\"", cf->args[i].data);
            continue;
        }
        uc->flags |= e->value;
    }
    return MG_CONF_OK;
}

/* ---- the identifier ---- */

/* The cookie named name in the Cookie lines, read as the $cookie_ variables read it; the line
 * it was found in goes to *line (nginx logs the whole line). */
static int find_cookie(mg_request_t *r, mg_str_t name, mg_str_t *value, mg_str_t *line)
{
    mg_table_elt_t *h = r->headers_in.headers.elts;
    for (size_t i = 0; i < r->headers_in.headers.nelts; i++) {
        if (!h[i].hash || !mg_str_caseeq(h[i].key, "cookie")) {
            continue;
        }
        const char *p = h[i].value.data, *end = p + h[i].value.len;
        while (p < end) {
            if ((size_t)(end - p) >= name.len && mg_strncasecmp(p, name.data, name.len) == 0) {
                const char *q = p + name.len;
                while (q < end && *q == ' ') {
                    q++;
                }
                if (q < end && *q == '=') {
                    q++;
                    while (q < end && *q == ' ') {
                        q++;
                    }
                    const char *last = q;
                    while (last < end && *last != ';') {
                        last++;
                    }
                    *value = (mg_str_t){(size_t)(last - q), (char *)q};
                    *line = h[i].value;
                    return 1;
                }
            }
            while (p < end && *p != ';' && *p != ',') {
                p++;
            }
            p++;
            while (p < end && *p == ' ') {
                p++;
            }
        }
    }
    return 0;
}

static userid_ctx_t *get_uid(mg_request_t *r, userid_conf_t *uc)
{
    userid_ctx_t *ctx = mg_http_get_ctx(r, mg_userid_module);
    if (ctx) {
        return ctx;
    }
    ctx = mg_pcalloc(r->pool, sizeof(userid_ctx_t));
    mg_http_set_ctx(r, ctx, mg_userid_module);
    mg_str_t line;
    if (!find_cookie(r, uc->name, &ctx->cookie, &line)) {
        return ctx;
    }
    if (ctx->cookie.len < 22) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "client sent too short userid cookie \"%.*s\"", (int)line.len, line.data);
        return ctx;
    }
    unsigned char got[mg_base64_decoded_len(22)];
    size_t len;
    memset(got, 0, sizeof(got));
    mg_str_t src = {22, ctx->cookie.data};
    if (mg_base64_decode(src, got, &len) != MG_OK) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "client sent invalid userid cookie \"%.*s\"", (int)line.len, line.data);
        return ctx;
    }
    memcpy(ctx->got, got, sizeof(ctx->got));
    return ctx;
}

/* "name=" and the four words in hexadecimal as this machine reads them */
static char *uid_text(mg_request_t *r, mg_str_t name, const uint32_t uid[4])
{
    return mg_psprintf(r->pool, "%.*s=%08X%08X%08X%08X", (int)name.len, name.data, uid[0], uid[1],
                       uid[2], uid[3]);
}

static mg_int_t create_uid(mg_request_t *r, userid_ctx_t *ctx, userid_conf_t *uc)
{
    if (ctx->set[3] != 0) {
        return MG_OK;
    }
    if (ctx->got[3] != 0) {
        mg_str_t name = mg_string("uid_reset");
        mg_http_var_value_t *v = mg_http_get_variable(r, name);
        mg_str_t reset = v && !v->not_found ? v->value : (mg_str_t)mg_null_string;
        if (reset.len == 0 || (reset.len == 1 && reset.data[0] == '0')) {
            /* the client keeps its identifier; it gets it back only to add a missing mark */
            if (uc->mark == 0 || (ctx->cookie.len > 23 && ctx->cookie.data[22] == uc->mark &&
                                  ctx->cookie.data[23] == '=')) {
                return MG_OK;
            }
            memcpy(ctx->set, ctx->got, sizeof(ctx->set));
            return MG_OK;
        }
        ctx->reset = 1;
        if (mg_str_eq(reset, "log")) {
            mg_log_error(MG_LOG_NOTICE, &r->connection->log, 0, "userid cookie \"%s\" was reset",
                         uid_text(r, uc->name, ctx->got));
        }
    }
    if (uc->enable == UID_V1) {
        ctx->set[0] = uc->service == MG_CONF_UNSET ? 0 : (uint32_t)uc->service;
        ctx->set[1] = (uint32_t)mg_now.sec;
        ctx->set[2] = start_value;
        ctx->set[3] = sequence_v1;
        sequence_v1 += 0x100;
        return MG_OK;
    }
    if (uc->service == MG_CONF_UNSET) {
        mg_connection_t *c = r->connection;
        if (mg_conn_local_addr(c) != MG_OK) {
            return MG_ERROR;
        }
        struct sockaddr *sa = c->local_sockaddr;
        ctx->set[0] = 0;
        if (sa->sa_family == AF_INET) {
            ctx->set[0] = ((struct sockaddr_in *)sa)->sin_addr.s_addr;
        } else if (sa->sa_family == AF_INET6) {
            memcpy(&ctx->set[0], &((struct sockaddr_in6 *)sa)->sin6_addr.s6_addr[12], 4);
        }
    } else {
        ctx->set[0] = htonl((uint32_t)uc->service);
    }
    ctx->set[1] = htonl((uint32_t)mg_now.sec);
    ctx->set[2] = htonl(start_value);
    ctx->set[3] = htonl(sequence_v2);
    sequence_v2 += 0x100;
    if (sequence_v2 < 0x03030302) {
        sequence_v2 = 0x03030302;
    }
    return MG_OK;
}

/* "Thu, 31-Dec-37 23:55:55 GMT": the cookie date, with a four-digit year after 2037 */
static size_t cookie_time(char *buf, size_t size, time_t t)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    gmtime_r(&t, &tm);
    int year = tm.tm_year + 1900;
    return (size_t)snprintf(buf, size,
                            year > 2037 ? "%s, %02d-%s-%d %02d:%02d:%02d GMT"
                                        : "%s, %02d-%s-%02d %02d:%02d:%02d GMT",
                            days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                            year > 2037 ? year : year % 100, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void set_uid(mg_request_t *r, userid_ctx_t *ctx, userid_conf_t *uc)
{
    if (create_uid(r, ctx, uc) != MG_OK || ctx->set[3] == 0) {
        return;
    }
    char b64[mg_base64_encoded_len(16)];
    if (ctx->got[3] == 0 || ctx->reset) {
        mg_base64_encode((const unsigned char *)ctx->set, 16, b64);
        if (uc->mark) {
            b64[22] = (char)uc->mark;
        }
    } else {
        /* the client's own text, marked */
        memcpy(b64, ctx->cookie.data, 22);
        b64[22] = (char)uc->mark;
        b64[23] = '=';
    }
    char expires[64] = "";
    if (uc->expires == EXPIRES_MAX) {
        strcpy(expires, "; expires=Thu, 31-Dec-37 23:55:55 GMT");
    } else if (uc->expires) {
        strcpy(expires, "; expires=");
        cookie_time(expires + 10, sizeof(expires) - 10, mg_now.sec + uc->expires);
    }
    mg_int_t fl = uc->flags;
    char *cookie =
        mg_psprintf(r->pool, "%.*s=%.24s%s%.*s%.*s%s%s%s", (int)uc->name.len, uc->name.data, b64,
                    expires, (int)uc->domain.len, uc->domain.data, (int)uc->path.len, uc->path.data,
                    (fl & FLAG_SECURE) ? "; secure" : "", (fl & FLAG_HTTPONLY) ? "; httponly" : "",
                    (fl & FLAG_STRICT) == FLAG_STRICT ? "; samesite=strict"
                    : (fl & FLAG_LAX) == FLAG_LAX     ? "; samesite=lax"
                    : (fl & FLAG_NONE) == FLAG_NONE   ? "; samesite=none"
                                                      : "");
    mg_http_add_header_out(r, "Set-Cookie", 10, cookie, strlen(cookie));
    if (uc->p3p.len) {
        mg_http_add_header_out(r, "P3P", 3, uc->p3p.data, uc->p3p.len);
    }
}

static mg_int_t userid_filter(mg_request_t *r)
{
    userid_conf_t *uc = mg_http_get_loc_conf(r, mg_userid_module);
    if (r->parent == NULL && uc->enable >= UID_V1) {
        set_uid(r, get_uid(r, uc), uc);
    }
    return next_header_filter(r);
}

/* ---- variables ---- */

static mg_int_t uid_value(mg_request_t *r, mg_http_var_value_t *v, mg_str_t name,
                          const uint32_t *uid)
{
    if (uid == NULL) {
        v->valid = 0;
        v->not_found = 1;
        return MG_OK;
    }
    v->value.data = uid_text(r, name, uid);
    v->value.len = strlen(v->value.data);
    v->valid = 1;
    v->not_found = 0;
    return MG_OK;
}

static mg_int_t var_uid_got(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    userid_conf_t *uc = mg_http_get_loc_conf(r, mg_userid_module);
    if (uc->enable == UID_OFF) {
        return uid_value(r, v, uc->name, NULL);
    }
    userid_ctx_t *ctx = get_uid(r, uc);
    return uid_value(r, v, uc->name, ctx->got[3] ? ctx->got : NULL);
}

static mg_int_t var_uid_set(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    userid_conf_t *uc = mg_http_get_loc_conf(r, mg_userid_module);
    if (uc->enable < UID_V1) {
        return uid_value(r, v, uc->name, NULL);
    }
    userid_ctx_t *ctx = get_uid(r, uc);
    if (create_uid(r, ctx, uc) != MG_OK) {
        return MG_ERROR;
    }
    return uid_value(r, v, uc->name, ctx->set[3] ? ctx->set : NULL);
}

/* $uid_reset is "" until the configuration or Lua sets it */
static mg_int_t var_uid_reset(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)r;
    (void)data;
    v->value.data = "";
    v->value.len = 0;
    v->valid = 1;
    v->not_found = 0;
    return MG_OK;
}

static void *userid_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, 1);
}

static const char *userid_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    static const struct {
        const char *name;
        mg_http_get_variable_pt get;
        unsigned flags;
    } vars[] = {
        {"uid_got", var_uid_got, 0},
        {"uid_set", var_uid_set, 0},
        {"uid_reset", var_uid_reset, MG_HTTP_VAR_CHANGEABLE},
    };
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_str_t name = {strlen(vars[i].name), (char *)vars[i].name};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, vars[i].flags);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = vars[i].get;
    }
    return MG_CONF_OK;
}

static mg_int_t userid_init_worker(mg_cycle_t *cycle)
{
    (void)cycle;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    /* the part of the microseconds that fits in 16 bits, then the pid's low bits */
    start_value = ((uint32_t)(tv.tv_usec / 20) << 16) | (uint32_t)getpid();
    return MG_OK;
}

/* only "on" and "v1" set cookies; "log" needs no filter */
static int filter_used(const void *loc_conf)
{
    const userid_conf_t *conf = loc_conf;
    return conf->enable >= UID_V1;
}

static void userid_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_userid_module, filter_used, userid_filter, NULL);
}

static const mg_command_t userid_commands[] = {
    {"userid", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_enum, MG_LOC_CONF,
     offsetof(userid_conf_t, enable), userid_values},
    {"userid_service", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_num, MG_LOC_CONF,
     offsetof(userid_conf_t, service), NULL},
    {"userid_name", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_str, MG_LOC_CONF,
     offsetof(userid_conf_t, name), NULL},
    {"userid_domain", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), userid_attr, MG_LOC_CONF,
     offsetof(userid_conf_t, domain), "domain"},
    {"userid_path", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), userid_attr, MG_LOC_CONF,
     offsetof(userid_conf_t, path), "path"},
    {"userid_expires", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), userid_expires, MG_LOC_CONF, 0, NULL},
    {"userid_flags", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), userid_flags, MG_LOC_CONF, 0, NULL},
    {"userid_p3p", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), userid_p3p, MG_LOC_CONF, 0, NULL},
    {"userid_mark", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), userid_mark, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t userid_defaults[] = {
    {"userid_service", "IP address of the server"},
    {"userid_domain", "none"},
    {"userid_path", "/"},
    {"userid_expires", "off"},
    {"userid_flags", "off"},
    {"userid_p3p", "none"},
    {"userid_mark", "off"},
    {0},
};

mg_module_t mg_userid_module = {
    .name = "userid",
    .commands = userid_commands,
    .defaults = userid_defaults,
    .create_main_conf = userid_create_main_conf,
    .init_main_conf = userid_init_main_conf,
    .create_loc_conf = userid_create_conf,
    .merge_loc_conf = userid_merge_conf,
    .init_filters = userid_init_filters,
    .init_worker = userid_init_worker,
};
