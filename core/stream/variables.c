/*
 * The stream layer's variables (nginx's ngx_stream_variables.c): the core ones, those modules
 * add ($upstream_*), "set" values, and strings with variables compiled once at configuration.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <unistd.h>

#include "hash_size.h"
#include "proxy_protocol.h"
#include "regex.h"
#include "stream.h"
#include "version.h"

static mg_str_t printf_value(mg_stream_session_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static mg_str_t printf_value(mg_stream_session_t *s, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return mg_pstr(s->pool, buf, (size_t)mg_min(n, (int)sizeof(buf) - 1));
}

static mg_str_t v_remote_addr(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    mg_connection_t *c = s->connection;
    return mg_pstr(s->pool, c->addr_text, strlen(c->addr_text));
}

static mg_str_t v_remote_port(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    mg_connection_t *c = s->connection;
    if (c->sockaddr->sa_family == AF_UNIX) {
        return (mg_str_t)mg_string("");
    }
    return printf_value(s, "%u", (unsigned)mg_sockaddr_port(c->sockaddr));
}

static mg_str_t v_binary_remote_addr(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    mg_connection_t *c = s->connection;
    if (c->sockaddr->sa_family == AF_INET) {
        return mg_pstr(s->pool, (char *)&((struct sockaddr_in *)c->sockaddr)->sin_addr, 4);
    }
    if (c->sockaddr->sa_family == AF_INET6) {
        return mg_pstr(s->pool, (char *)&((struct sockaddr_in6 *)c->sockaddr)->sin6_addr, 16);
    }
    return mg_pstr(s->pool, c->addr_text, strlen(c->addr_text)); /* "unix:", as nginx */
}

static mg_str_t v_server_addr(mg_stream_session_t *s, uintptr_t port)
{
    mg_connection_t *c = s->connection;
    if (mg_conn_local_addr(c) != MG_OK) {
        return (mg_str_t)mg_null_string;
    }
    char buf[128];
    if (port) {
        if (c->local_sockaddr->sa_family == AF_UNIX) {
            return (mg_str_t)mg_string("");
        }
        return printf_value(s, "%u", (unsigned)mg_sockaddr_port(c->local_sockaddr));
    }
    size_t n = mg_sockaddr_text(c->local_sockaddr, buf, sizeof(buf), 0);
    return mg_pstr(s->pool, buf, n);
}

/* the first server_name of the session's server (nginx >= 1.25.5) */
static mg_str_t v_server_name(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    mg_stream_srv_conf_t *cscf = s->srv_conf[mg_stream_core_module.index];
    return mg_server_names_first(&cscf->server_names);
}

static mg_str_t v_bytes(mg_stream_session_t *s, uintptr_t sent)
{
    return printf_value(s, "%lld", (long long)(sent ? s->sent : s->received));
}

static mg_str_t v_connection(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    return printf_value(s, "%lu", (unsigned long)s->connection->number);
}

static mg_str_t v_hostname(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    return s->connection->cycle->hostname;
}

static mg_str_t v_msec(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    return printf_value(s, "%lld.%03lld", (long long)(mg_now.msec / 1000),
                        (long long)(mg_now.msec % 1000));
}

static mg_str_t v_pid(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    return printf_value(s, "%d", (int)getpid());
}

static mg_str_t v_nginx_version(mg_stream_session_t *s, uintptr_t data)
{
    (void)s;
    (void)data;
    return (mg_str_t)mg_string(MG_NGINX_VERSION);
}

static mg_str_t v_protocol(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    return s->connection->listening->udp ? (mg_str_t)mg_string("UDP") : (mg_str_t)mg_string("TCP");
}

static mg_str_t v_session_time(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    mg_msec_t ms = mg_now.msec - s->start_msec;
    if (ms < 0) {
        ms = 0;
    }
    return printf_value(s, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

static mg_str_t v_status(mg_stream_session_t *s, uintptr_t data)
{
    (void)data;
    return printf_value(s, "%03u", (unsigned)s->status);
}

static mg_str_t v_time(mg_stream_session_t *s, uintptr_t iso)
{
    const char *t = iso ? mg_now.iso8601 : mg_now.local;
    return mg_pstr(s->pool, t, strlen(t));
}

/* 0 src addr, 1 src port, 2 dst addr, 3 dst port */
static mg_str_t v_proxy_protocol(mg_stream_session_t *s, uintptr_t which)
{
    mg_proxy_protocol_t *pp = s->connection->proxy_protocol;
    if (pp == NULL) {
        return (mg_str_t)mg_null_string;
    }
    switch (which) {
    case 0:
        return pp->src_addr;
    case 2:
        return pp->dst_addr;
    default: {
        in_port_t port = which == 1 ? pp->src_port : pp->dst_port;
        return port ? printf_value(s, "%u", (unsigned)port) : (mg_str_t)mg_string("");
    }
    }
}

void mg_stream_variable_add(mg_conf_t *cf, const char *name, mg_stream_var_get_pt get,
                            uintptr_t data)
{
    mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
    mg_stream_var_t *v = mg_array_push(&cmcf->variables);
    memset(v, 0, sizeof(*v));
    v->name.data = (char *)name;
    v->name.len = strlen(name);
    v->get = get;
    v->data = data;
}

void mg_stream_variables_add_core(mg_conf_t *cf)
{
    static const struct {
        const char *name;
        mg_stream_var_get_pt get;
        uintptr_t data;
    } core[] = {
        {"remote_addr", v_remote_addr, 0},
        {"remote_port", v_remote_port, 0},
        {"binary_remote_addr", v_binary_remote_addr, 0},
        {"server_addr", v_server_addr, 0},
        {"server_port", v_server_addr, 1},
        {"server_name", v_server_name, 0},
        {"bytes_received", v_bytes, 0},
        {"bytes_sent", v_bytes, 1},
        {"connection", v_connection, 0},
        {"hostname", v_hostname, 0},
        {"msec", v_msec, 0},
        {"pid", v_pid, 0},
        {"nginx_version", v_nginx_version, 0},
        {"protocol", v_protocol, 0},
        {"session_time", v_session_time, 0},
        {"status", v_status, 0},
        {"time_local", v_time, 0},
        {"time_iso8601", v_time, 1},
        {"proxy_protocol_addr", v_proxy_protocol, 0},
        {"proxy_protocol_port", v_proxy_protocol, 1},
        {"proxy_protocol_server_addr", v_proxy_protocol, 2},
        {"proxy_protocol_server_port", v_proxy_protocol, 3},
    };
    for (size_t i = 0; i < mg_nelems(core); i++) {
        mg_stream_variable_add(cf, core[i].name, core[i].get, core[i].data);
    }
}

static mg_stream_var_t *find(mg_stream_main_conf_t *cmcf, mg_str_t name)
{
    mg_stream_var_t *v = cmcf->variables.elts;
    for (size_t i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].name.len == name.len && mg_strncasecmp(v[i].name.data, name.data, name.len) == 0) {
            return &v[i];
        }
    }
    return NULL;
}

mg_int_t mg_stream_variables_check(mg_conf_t *cf)
{
    mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
    /* as nginx's: a name used that nothing defines fails the configuration, said without
     * FILE:LINE (all modules have defined theirs by now) */
    mg_str_t *used = cmcf->used ? cmcf->used->elts : NULL;
    for (size_t i = 0; used && i < cmcf->used->nelts; i++) {
        if (find(cmcf, used[i]) == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "unknown \"%.*s\" variable", (int)used[i].len,
                         used[i].data);
            return MG_ERROR;
        }
    }
    mg_hash_keys_t keys;
    mg_hash_keys_init(&keys);
    mg_stream_var_t *v = cmcf->variables.elts;
    for (size_t i = 0; i < cmcf->variables.nelts; i++) {
        if (!v[i].prefix) {
            mg_hash_keys_add(&keys, v[i].name);
        }
    }
    mg_int_t rc = mg_hash_keys_check(cf, &keys, "variables_hash", cmcf->variables_hash_max_size,
                                     cmcf->variables_hash_bucket_size);
    mg_hash_keys_free(&keys);
    return rc;
}

int mg_stream_variable_known(mg_conf_t *cf, mg_str_t name)
{
    return find(mg_stream_conf_get_main(cf, mg_stream_core_module), name) != NULL;
}

/* group k of the last match, "" when it did not take part or there was no match */
static mg_str_t capture(mg_stream_session_t *s, int k)
{
    if (2 * k + 1 >= s->ncaptures || s->captures[2 * k] < 0) {
        return (mg_str_t)mg_string("");
    }
    return (mg_str_t){(size_t)(s->captures[2 * k + 1] - s->captures[2 * k]),
                      (char *)s->captures_data + s->captures[2 * k]};
}

static mg_str_t v_named_capture(mg_stream_session_t *s, uintptr_t data)
{
    const mg_str_t *name = (const mg_str_t *)data;
    mg_regex_t *re = s->captures_re;
    for (int i = 0; re && i < re->nnames; i++) {
        if (re->names[i].name.len == name->len &&
            memcmp(re->names[i].name.data, name->data, name->len) == 0) {
            return capture(s, re->names[i].index);
        }
    }
    return (mg_str_t)mg_string("");
}

mg_regex_t *mg_stream_regex_compile(mg_conf_t *cf, mg_str_t pattern, int caseless)
{
    char err[512];
    mg_regex_t *re = mg_regex_compile_conf(cf->cycle, pattern, caseless, err, sizeof(err));
    if (re == NULL) {
        mg_conf_error(cf, 0, "%s", err);
        return NULL;
    }
    mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
    for (int i = 0; i < re->nnames; i++) {
        if (find(cmcf, re->names[i].name) == NULL) {
            mg_str_t *name = mg_palloc(cf->pool, sizeof(mg_str_t));
            *name = re->names[i].name;
            mg_stream_variable_add(cf, mg_pstrdup(cf->pool, name->data, name->len), v_named_capture,
                                   (uintptr_t)name);
        }
    }
    return re;
}

mg_int_t mg_stream_regex_exec(mg_stream_session_t *s, mg_regex_t *re, mg_str_t str)
{
    int *ov, code;
    mg_int_t rc = mg_regex_exec_kept(s->pool, re, str, &ov, &code);
    if (rc == MG_ERROR) {
        mg_log_error(MG_LOG_ALERT, &s->connection->log, 0,
                     "pcre2_match() failed: %d on \"%.*s\" using \"%.*s\"", code, (int)str.len,
                     str.data, (int)re->pattern.len, re->pattern.data);
        return MG_ERROR;
    }
    if (rc == MG_DECLINED) {
        return MG_DECLINED;
    }
    /* as http's: every match replaces the captures, a failed one leaves the earlier ones */
    s->captures = ov;
    s->ncaptures = (int)rc * 2;
    s->captures_data = str.data;
    s->captures_re = re;
    return MG_OK;
}

mg_str_t mg_stream_variable(mg_stream_session_t *s, mg_str_t name)
{
    if (name.len == 1 && name.data[0] >= '1' && name.data[0] <= '9') {
        return capture(s, name.data[0] - '0');
    }
    mg_stream_set_var_t *sv = s->variables.elts;
    for (size_t i = s->variables.nelts; i-- > 0;) {
        if (sv[i].name.len == name.len &&
            mg_strncasecmp(sv[i].name.data, name.data, name.len) == 0) {
            return sv[i].value;
        }
    }
    mg_stream_var_t *v = find(mg_stream_get_main_conf(s, mg_stream_core_module), name);
    if (v == NULL) {
        return (mg_str_t)mg_null_string;
    }
    return v->get(s, v->data);
}

/* ---- strings with variables ---- */

static int name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* Variables may be named at configuration before the module defining them was initialized
 * (log_format before proxy_pass): names are checked when the stream{} block ends. */
const char *mg_stream_complex_compile(mg_conf_t *cf, mg_str_t text, mg_stream_complex_t *cv)
{
    memset(cv, 0, sizeof(*cv));
    mg_array_init(&cv->parts, cf->pool, 4, sizeof(mg_str_t));
    cv->plain = text;
    size_t i = 0, lit = 0;
    while (i < text.len) {
        if (text.data[i] != '$') {
            i++;
            continue;
        }
        if (i > lit) {
            *(mg_str_t *)mg_array_push(&cv->parts) = (mg_str_t){i - lit, text.data + lit};
        }
        size_t start = i + 1, end;
        if (start < text.len && text.data[start] == '{') {
            start++;
            end = start;
            while (end < text.len && text.data[end] != '}') {
                end++;
            }
            if (end == text.len) {
                mg_conf_error(cf, 0, "the closing bracket in \"%.*s\" variable is missing",
                              (int)(end - start), text.data + start);
                return MG_CONF_ERROR;
            }
            i = end + 1;
        } else if (start < text.len && text.data[start] >= '1' && text.data[start] <= '9') {
            /* a capture takes one digit, as nginx's: "$10" is $1 then "0" */
            end = start + 1;
            i = end;
        } else {
            end = start;
            while (end < text.len && name_char(text.data[end])) {
                end++;
            }
            i = end;
        }
        if (end == start) {
            mg_conf_error(cf, 0, "invalid variable name"); /* as nginx says it in stream */
            return MG_CONF_ERROR;
        }
        /* a name part is marked by a NULL-length literal before it: store as {len, data} with
         * data pointing at the name and a marker entry {0, NULL} first */
        *(mg_str_t *)mg_array_push(&cv->parts) = (mg_str_t)mg_null_string;
        *(mg_str_t *)mg_array_push(&cv->parts) = (mg_str_t){end - start, text.data + start};
        if (!(text.data[start] >= '1' && text.data[start] <= '9')) {
            mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
            if (cmcf->used == NULL) {
                cmcf->used = mg_array_create(cf->pool, 8, sizeof(mg_str_t));
            }
            *(mg_str_t *)mg_array_push(cmcf->used) = (mg_str_t){end - start, text.data + start};
        }
        cv->has_vars = 1;
        lit = i;
    }
    if (text.len > lit) {
        *(mg_str_t *)mg_array_push(&cv->parts) = (mg_str_t){text.len - lit, text.data + lit};
    }
    return MG_CONF_OK;
}

mg_str_t mg_stream_complex_value(mg_stream_session_t *s, mg_stream_complex_t *cv)
{
    if (!cv->has_vars) {
        return cv->plain;
    }
    mg_str_t *p = cv->parts.elts;
    size_t n = cv->parts.nelts;
    mg_str_t *vals = mg_palloc(s->pool, n * sizeof(mg_str_t));
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].data == NULL && i + 1 < n) {
            vals[i] = (mg_str_t)mg_null_string;
            vals[i + 1] = mg_stream_variable(s, p[i + 1]);
            if (vals[i + 1].data == NULL) {
                vals[i + 1].len = 0;
            }
            len += vals[i + 1].len;
            i++;
            continue;
        }
        vals[i] = p[i];
        len += p[i].len;
    }
    char *out = mg_pnalloc(s->pool, len + 1), *q = out;
    for (size_t i = 0; i < n; i++) {
        if (vals[i].len) {
            memcpy(q, vals[i].data, vals[i].len);
            q += vals[i].len;
        }
    }
    *q = '\0';
    return (mg_str_t){len, out};
}
