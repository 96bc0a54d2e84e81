/*
 * Built-in variables and their lookup. Config references a variable by index (resolved at
 * the end of http{}), and each request caches the values it computed.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "hash_size.h"
#include "proxy_protocol.h"
#include "script.h"
#include "variables.h"
#include "version.h"

#define VAR_VALUE(v, s, l)                                                                     \
    do {                                                                                       \
        (v)->value.data = (char *)(s);                                                         \
        (v)->value.len = (l);                                                                  \
        (v)->valid = 1;                                                                        \
        (v)->not_found = 0;                                                                    \
    } while (0)

static mg_int_t var_not_found(mg_http_var_value_t *v)
{
    v->not_found = 1;
    v->valid = 0;
    return MG_OK;
}

static mg_int_t var_str(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_str_t *s = (mg_str_t *)((char *)r + data);
    if (s->data == NULL) {
        return var_not_found(v);
    }
    VAR_VALUE(v, s->data, s->len);
    return MG_OK;
}

static mg_int_t var_printf(mg_request_t *r, mg_http_var_value_t *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* $request_method: the client's, also in a subrequest (as nginx) */
static mg_int_t var_request_method(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return var_str(r->parent ? r->main : r, v, offsetof(mg_request_t, method_name));
}

static mg_int_t var_printf(mg_request_t *r, mg_http_var_value_t *v, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    mg_str_t s = mg_pstr(r->pool, buf, (size_t)n);
    VAR_VALUE(v, s.data, s.len);
    return MG_OK;
}

/* a number's digits (three at least when three), without vsnprintf: the access log's
 * $status and $body_bytes_sent cost ~800 instructions each through it */
static mg_int_t var_uint(mg_request_t *r, mg_http_var_value_t *v, uint64_t n, int three)
{
    char *p = mg_pnalloc(r->pool, MG_INT_TEXT_MAX);
    char *e = three && n < 1000 ? mg_put_uint3(p, n) : mg_put_uint(p, n);
    VAR_VALUE(v, p, (size_t)(e - p));
    return MG_OK;
}

/* milliseconds as seconds with three decimals ("%lld.%03lld" by hand: $request_time and $msec
 * are in most log formats, and vsnprintf cost ~800 instructions a value) */
static mg_int_t var_msecs(mg_request_t *r, mg_http_var_value_t *v, mg_msec_t ms)
{
    uint64_t u = ms < 0 ? 0 : (uint64_t)ms;
    char *p = mg_pnalloc(r->pool, MG_INT_TEXT_MAX + 4);
    char *e = mg_put_msec(p, u);
    VAR_VALUE(v, p, (size_t)(e - p));
    return MG_OK;
}

/* a port's digits, without vsnprintf (they are asked for per request: fastcgi_params) */
static mg_int_t var_port(mg_request_t *r, mg_http_var_value_t *v, in_port_t port)
{
    char *p = mg_pnalloc(r->pool, sizeof("65535") - 1);
    VAR_VALUE(v, p, (size_t)(mg_put_uint(p, port) - p));
    return MG_OK;
}

/* A header line named like a variable suffix: case-insensitive, '_' and '-' alike. */
static int header_key_matches(const mg_table_elt_t *h, const char *name, size_t len)
{
    if (h->hash == 0 || h->key.len != len) {
        return 0;
    }
    for (size_t k = 0; k < len; k++) {
        char a = mg_tolower(h->key.data[k]);
        char b = mg_tolower(name[k]);
        if ((a == '_' ? '-' : a) != (b == '_' ? '-' : b)) {
            return 0;
        }
    }
    return 1;
}

/* $http_NAME: '_' in the name matches '-'; several lines are joined with ", " (cookies "; ") */
static mg_int_t headers_joined(mg_request_t *r, mg_http_var_value_t *v, mg_array_t *headers,
                               const char *name, size_t len)
{
    mg_table_elt_t *h = headers->elts;
    size_t total = 0, count = 0;
    int is_cookie = len == 6 && mg_strncasecmp(name, "cookie", 6) == 0;
    for (size_t i = 0; i < headers->nelts; i++) {
        if (header_key_matches(&h[i], name, len)) {
            total += h[i].value.len + 2;
            count++;
        }
    }
    if (count == 0) {
        return var_not_found(v);
    }
    char *buf = mg_pnalloc(r->pool, total);
    char *d = buf;
    for (size_t i = 0; i < headers->nelts; i++) {
        if (!header_key_matches(&h[i], name, len)) {
            continue;
        }
        if (d != buf) {
            *d++ = is_cookie ? ';' : ',';
            *d++ = ' ';
        }
        memcpy(d, h[i].value.data, h[i].value.len);
        d += h[i].value.len;
    }
    VAR_VALUE(v, buf, (size_t)(d - buf));
    return MG_OK;
}

static mg_int_t var_http_prefix(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_str_t *name = (mg_str_t *)data; /* full variable name */
    return headers_joined(r, v, &r->headers_in.headers, name->data + 5, name->len - 5);
}

static mg_int_t var_sent_http_prefix(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_str_t *name = (mg_str_t *)data;
    const char *n = name->data + 10;
    size_t len = name->len - 10;
    mg_http_headers_out_t *ho = &r->headers_out;
    if (len == 12 && memcmp(n, "content_type", 12) == 0) {
        if (ho->content_type.len == 0) {
            return var_not_found(v);
        }
        if (ho->charset.len) {
            char *s = mg_psprintf(r->pool, "%.*s; charset=%.*s", (int)ho->content_type.len,
                                  ho->content_type.data, (int)ho->charset.len, ho->charset.data);
            VAR_VALUE(v, s, strlen(s));
            return MG_OK;
        }
        VAR_VALUE(v, ho->content_type.data, ho->content_type.len);
        return MG_OK;
    }
    if (len == 14 && memcmp(n, "content_length", 14) == 0 && ho->content_length_n >= 0) {
        return var_uint(r, v, (uint64_t)ho->content_length_n, 0);
    }
    if (len == 13 && memcmp(n, "last_modified", 13) == 0 && ho->last_modified_time >= 0) {
        char *s = mg_pnalloc(r->pool, 32);
        mg_time_http(s, ho->last_modified_time);
        VAR_VALUE(v, s, strlen(s));
        return MG_OK;
    }
    /* Connection and Keep-Alive: what the head says or will say, at any time (nginx's
     * variables; a 101 says "upgrade"). Unlike nginx 1.22 in the log phase too, as sent:
     * nginx clears the keepalive flag of a kept request before it logs (t/747 TEST 5) */
    int kept = r->keepalive;
    if (len == 10 && memcmp(n, "connection", 10) == 0) {
        if (ho->status == 101) {
            VAR_VALUE(v, "upgrade", 7);
        } else if (kept) {
            VAR_VALUE(v, "keep-alive", 10);
        } else {
            VAR_VALUE(v, "close", 5);
        }
        return MG_OK;
    }
    if (len == 10 && memcmp(n, "keep_alive", 10) == 0) {
        mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
        if (!kept || clcf->keepalive_header == 0) {
            return var_not_found(v);
        }
        return var_printf(r, v, "timeout=%ld", (long)clcf->keepalive_header);
    }
    if (len == 17 && memcmp(n, "transfer_encoding", 17) == 0) {
        if (!r->chunked) {
            return var_not_found(v);
        }
        VAR_VALUE(v, "chunked", 7);
        return MG_OK;
    }
    return headers_joined(r, v, &ho->headers, n, len);
}

/* Value of argument `name` in r->args (case-insensitive name); MG_OK or MG_DECLINED. */
mg_int_t mg_http_arg(mg_request_t *r, const char *name, size_t len, mg_str_t *value)
{
    const char *p = r->args.data;
    if (p == NULL) {
        return MG_DECLINED;
    }
    const char *end = p + r->args.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        if ((size_t)(kend - p) == len && mg_strncasecmp(p, name, len) == 0) {
            value->data = eq ? (char *)eq + 1 : (char *)stop;
            value->len = eq ? (size_t)(stop - eq - 1) : 0;
            return MG_OK;
        }
        p = stop + 1;
    }
    return MG_DECLINED;
}

static mg_int_t var_arg_prefix(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_str_t *name = (mg_str_t *)data;
    mg_str_t val;
    if (mg_http_arg(r, name->data + 4, name->len - 4, &val) != MG_OK) {
        return var_not_found(v);
    }
    VAR_VALUE(v, val.data, val.len);
    return MG_OK;
}

/* $cookie_NAME, parsed as nginx does: pairs end at ';' or ',' when skipped, a value runs
 * to ';' (so "b=2,c=3" gives b "2,c=3"), spaces around '=' are skipped, trailing ones kept,
 * the name is matched without case. */
static mg_int_t var_cookie_prefix(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_str_t *name = (mg_str_t *)data;
    const char *want = name->data + 7;
    size_t wlen = name->len - 7;
    mg_table_elt_t *h = r->headers_in.headers.elts;
    for (size_t i = 0; i < r->headers_in.headers.nelts; i++) {
        if (!mg_str_caseeq(h[i].key, "cookie")) {
            continue;
        }
        const char *p = h[i].value.data, *end = p + h[i].value.len;
        while (p < end) {
            if ((size_t)(end - p) >= wlen && mg_strncasecmp(p, want, wlen) == 0) {
                const char *q = p + wlen;
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
                    VAR_VALUE(v, q, (size_t)(last - q));
                    return MG_OK;
                }
            }
            while (p < end) {
                char ch = *p++;
                if (ch == ';' || ch == ',') {
                    break;
                }
            }
            while (p < end && *p == ' ') {
                p++;
            }
        }
    }
    return var_not_found(v);
}

void mg_http_capture(mg_request_t *r, int n, mg_str_t *out)
{
    if ((mg_int_t)(2 * n + 1) >= r->ncaptures || r->captures[2 * n] < 0) {
        out->data = "";
        out->len = 0;
        return;
    }
    out->data = r->captures_data + r->captures[2 * n];
    out->len = (size_t)(r->captures[2 * n + 1] - r->captures[2 * n]);
}

static mg_int_t var_capture(mg_request_t *r, mg_http_var_value_t *v, uintptr_t n)
{
    mg_str_t c;
    mg_http_capture(r, (int)n, &c);
    VAR_VALUE(v, c.data, c.len);
    return MG_OK;
}

/* A named capture no regex has set yet: empty, as in nginx. */
static mg_int_t var_named_capture(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)r;
    (void)data;
    return var_not_found(v);
}

static mg_int_t var_is_args(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->args.len) {
        VAR_VALUE(v, "?", 1);
    } else {
        VAR_VALUE(v, "", 0);
    }
    return MG_OK;
}

static mg_int_t var_server_name(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data);

static mg_int_t var_host(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->headers_in.server.len) {
        VAR_VALUE(v, r->headers_in.server.data, r->headers_in.server.len);
        return MG_OK;
    }
    /* no Host: the server's name, as nginx says it (even a regex's source) */
    return var_server_name(r, v, data);
}

static mg_int_t var_hostname(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_cycle_t *cycle = r->connection->cycle;
    VAR_VALUE(v, cycle->hostname.data, cycle->hostname.len);
    return MG_OK;
}

static mg_int_t var_server_name(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_http_srv_conf_t *cscf = mg_http_get_srv_conf(r, mg_http_core_module);
    mg_str_t name = mg_server_names_first(&cscf->server_names);
    VAR_VALUE(v, name.data, name.len);
    return MG_OK;
}

static mg_int_t var_server_addr(mg_request_t *r, mg_http_var_value_t *v, uintptr_t port)
{
    mg_connection_t *c = r->connection;
    if (mg_conn_local_addr(c) != MG_OK) {
        return var_not_found(v);
    }
    if (port) {
        return var_port(r, v, mg_sockaddr_port(c->local_sockaddr));
    }
    char buf[128];
    size_t n = mg_sockaddr_text(c->local_sockaddr, buf, sizeof(buf), 0);
    mg_str_t s = mg_pstr(r->pool, buf, n);
    VAR_VALUE(v, s.data, s.len);
    return MG_OK;
}

static mg_int_t var_remote_addr(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_connection_t *c = r->connection;
    VAR_VALUE(v, c->addr_text, strlen(c->addr_text));
    return MG_OK;
}

static mg_int_t var_binary_remote_addr(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    struct sockaddr *sa = r->connection->sockaddr;
    if (sa->sa_family == AF_INET) {
        VAR_VALUE(v, &((struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        VAR_VALUE(v, &((struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else {
        /* a unix peer's is its text, "unix:", as nginx's: limit_req and limit_conn keyed on
         * it count unix clients together rather than skip an empty key */
        VAR_VALUE(v, r->connection->addr_text, strlen(r->connection->addr_text));
    }
    return MG_OK;
}

static mg_int_t var_remote_port(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    in_port_t port = mg_sockaddr_port(r->connection->sockaddr);
    if (port == 0) {
        VAR_VALUE(v, "", 0);
        return MG_OK;
    }
    return var_port(r, v, port);
}

static mg_int_t var_request(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    VAR_VALUE(v, r->request_line.data, r->request_line.len);
    return MG_OK;
}

static mg_int_t var_scheme(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->connection->ssl) {
        VAR_VALUE(v, "https", 5);
    } else {
        VAR_VALUE(v, "http", 4);
    }
    return MG_OK;
}

static mg_int_t var_https(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->connection->ssl) {
        VAR_VALUE(v, "on", 2);
    } else {
        VAR_VALUE(v, "", 0);
    }
    return MG_OK;
}

static mg_int_t var_server_protocol(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->http_protocol.data == NULL) {
        return var_not_found(v); /* HTTP/0.9: nginx has none (a log says "-") */
    }
    VAR_VALUE(v, r->http_protocol.data, r->http_protocol.len);
    return MG_OK;
}

static mg_int_t var_status(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_uint_t s = r->err_status ? r->err_status : r->headers_out.status;
    if (r->status_09 && !r->err_status) {
        VAR_VALUE(v, "009", 3);
        return MG_OK;
    }
    if (s == 0) {
        VAR_VALUE(v, "000", 3);
        return MG_OK;
    }
    /* digits without vsnprintf (~800 instructions): the access log asks for it every request */
    return var_uint(r, v, s, 1);
}

static mg_int_t var_body_bytes_sent(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    size_t sent = r->bytes_sent > r->header_size ? r->bytes_sent - r->header_size : 0;
    return var_uint(r, v, sent, 0);
}

static mg_int_t var_bytes_sent(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return var_uint(r, v, r->bytes_sent, 0);
}

static mg_int_t var_request_time(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_msec_t ms = mg_now.msec - r->start_msec;
    if (ms < 0) {
        ms = 0;
    }
    return var_msecs(r, v, ms);
}

/* $connection_time: seconds since the connection was accepted, with milliseconds */
static mg_int_t var_connection_time(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_msec_t ms = mg_now.msec - r->connection->start_msec;
    if (ms < 0) {
        ms = 0;
    }
    return var_msecs(r, v, ms);
}

/* $pipe: "p" for a request that came pipelined (its head was read with the one before) */
static mg_int_t var_pipe(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    int p = r->http_major < 2 && r->hc && r->hc->head_pipelined;
    VAR_VALUE(v, p ? "p" : ".", 1);
    return MG_OK;
}

static mg_int_t var_request_length(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return var_uint(r, v, r->request_length, 0);
}

static mg_int_t var_msec(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return var_msecs(r, v, mg_now.msec);
}

static mg_int_t var_time(mg_request_t *r, mg_http_var_value_t *v, uintptr_t which)
{
    const char *s = which ? mg_now.iso8601 : mg_now.local;
    mg_str_t t = mg_pstr(r->pool, s, strlen(s));
    VAR_VALUE(v, t.data, t.len);
    return MG_OK;
}

static mg_int_t var_header_in(mg_request_t *r, mg_http_var_value_t *v, uintptr_t offset)
{
    mg_table_elt_t *h = *(mg_table_elt_t **)((char *)&r->headers_in + offset);
    if (h == NULL) {
        return var_not_found(v);
    }
    VAR_VALUE(v, h->value.data, h->value.len);
    return MG_OK;
}

static mg_int_t var_content_length(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->headers_in.content_length) {
        VAR_VALUE(v, r->headers_in.content_length->value.data,
                  r->headers_in.content_length->value.len);
        return MG_OK;
    }
    if (r->request_body && r->request_body->done && r->headers_in.chunked) {
        return var_uint(r, v, r->request_body->received, 0);
    }
    return var_not_found(v);
}

static mg_int_t var_connection(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return var_uint(r, v, r->connection->number, 0);
}

static mg_int_t var_connection_requests(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return var_uint(r, v, r->connection->requests, 0);
}

static mg_int_t var_pid(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return var_uint(r, v, (uint64_t)getpid(), 0);
}

static mg_int_t var_version(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)r;
    (void)data;
    /* the nginx release moongate follows, as -V and ngx.config.nginx_version say: scripts
     * compare it with nginx's versions */
    VAR_VALUE(v, MG_NGINX_VERSION, sizeof(MG_NGINX_VERSION) - 1);
    return MG_OK;
}

static mg_int_t var_document_root(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_str_t root = clcf->root;
    if (clcf->root_cv) {
        root = mg_http_complex_value(r, clcf->root_cv);
    }
    VAR_VALUE(v, root.data, root.len);
    return MG_OK;
}

static mg_int_t var_request_filename(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_str_t path;
    size_t root_len;
    if (mg_http_map_uri_to_path(r, &path, &root_len, 0) == NULL) {
        return var_not_found(v);
    }
    VAR_VALUE(v, path.data, path.len);
    return MG_OK;
}

static mg_int_t var_realpath_root(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_http_var_value_t root;
    memset(&root, 0, sizeof(root));
    var_document_root(r, &root, data);
    char *zroot = mg_pstrdup(r->pool, root.value.data, root.value.len);
    char *real = realpath(zroot, NULL);
    if (real == NULL) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "realpath() \"%s\" failed", zroot);
        return MG_ERROR; /* failed, as nginx's: SSI fails the response on it */
    }
    mg_str_t s = mg_pstr(r->pool, real, strlen(real));
    free(real);
    VAR_VALUE(v, s.data, s.len);
    return MG_OK;
}

static mg_int_t var_uri(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    VAR_VALUE(v, r->uri.data, r->uri.len);
    return MG_OK;
}

static mg_int_t var_args(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    /* as nginx, absent arguments ("-" in access logs, nil for ngx.var.args) are not the
     * empty ones a rewrite to "/x?", ngx.exec("/x?") or ngx.req.set_uri_args("") leaves */
    if (r->args.data == NULL) {
        return var_not_found(v);
    }
    VAR_VALUE(v, r->args.data, r->args.len);
    return MG_OK;
}

static void var_set_args(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    r->args = v->value;
    r->args_changed = 1; /* as nginx's valid_unparsed_uri cleared: upstreams get $uri?$args */
}

/* $request_id's bytes come from getrandom() 512 at a time (32 ids a system call, not one),
 * kept per thread. A fork's child drops what its parent had left, so that two processes never
 * hand out the same bytes. (nginx takes the 16 bytes from RAND_bytes: OpenSSL's DRBG checks
 * for a fork with a getpid() each call, one system call and ~6,600 instructions an id.) */
static __thread unsigned char rid_pool[512];
static __thread size_t rid_left;
static pthread_once_t rid_once = PTHREAD_ONCE_INIT;

static void rid_forget(void)
{
    rid_left = 0;
}

static void rid_watch_forks(void)
{
    pthread_atfork(NULL, NULL, rid_forget);
}

/* n (at most 256: getrandom() gives that many whole) random bytes into out; -1 with errno set
 * when getrandom() failed */
static int rid_bytes(unsigned char *out, size_t n)
{
    if (rid_left < n) {
        pthread_once(&rid_once, rid_watch_forks);
        ssize_t got = getrandom(rid_pool, sizeof(rid_pool), 0);
        if (got < (ssize_t)n) {
            return -1;
        }
        rid_left = (size_t)got;
    }
    rid_left -= n;
    memcpy(out, rid_pool + rid_left, n);
    return 0;
}

static mg_int_t var_request_id(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    unsigned char id[16];
    if (rid_bytes(id, sizeof(id)) != 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, errno, "getrandom() failed");
        return var_not_found(v);
    }
    char *hex = mg_pnalloc(r->pool, 32);
    mg_hex_dump(hex, id, sizeof(id));
    VAR_VALUE(v, hex, 32);
    return MG_OK;
}

/* $remote_user: the user of "Authorization: Basic base64(user:password)", else not found */
static mg_int_t var_remote_user(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    mg_str_t user, passwd;
    if (mg_http_auth_basic_user(r, &user, &passwd) != MG_OK) {
        return var_not_found(v);
    }
    VAR_VALUE(v, user.data, user.len);
    return MG_OK;
}

/* $request_body: the body once read, when it is in memory (nginx: not found otherwise) */
static mg_int_t var_request_body(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->request_body && r->request_body->done && r->request_body->bufs == NULL &&
        (r->headers_in.content_length_n == 0 || r->headers_in.chunked)) {
        VAR_VALUE(v, "", 0); /* nginx: an empty body that was sent ("0" length, "0" chunk) */
        return MG_OK;
    }
    if (r->request_body == NULL || !r->request_body->done || r->request_body->bufs == NULL) {
        return var_not_found(v); /* nginx's too when there was no body */
    }
    size_t len = 0;
    for (mg_buf_t *b = r->request_body->bufs; b; b = b->next) {
        if (b->in_file) {
            return var_not_found(v);
        }
        len += (size_t)(b->last - b->pos);
    }
    char *buf = mg_pnalloc(r->pool, len + 1);
    char *d = buf;
    for (mg_buf_t *b = r->request_body->bufs; b; b = b->next) {
        memcpy(d, b->pos, (size_t)(b->last - b->pos));
        d += b->last - b->pos;
    }
    VAR_VALUE(v, buf, len);
    return MG_OK;
}

/* $request_body_file: the body's temporary file, while there is one */
static mg_int_t var_request_body_file(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->request_body == NULL || r->request_body->temp_file == NULL) {
        return var_not_found(v);
    }
    VAR_VALUE(v, r->request_body->temp_file->name.data, r->request_body->temp_file->name.len);
    return MG_OK;
}

/* $limit_rate: the request's rate, 0 until the writer took the location's (as nginx) unless
 * set; setting it is limit_rate for this request */
static mg_int_t var_limit_rate(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    return var_uint(r, v, r->limit_rate, 0);
}

static void var_set_limit_rate(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    int64_t rate = mg_parse_size(v->value);
    if (rate < 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "invalid $limit_rate \"%.*s\"",
                     (int)v->value.len, v->value.data);
        return;
    }
    r->limit_rate = (size_t)rate;
    r->limit_rate_set = 1;
}

/* $proxy_protocol_addr, _port, _server_addr, _server_port: what the connection's PROXY protocol
 * header said (data: 0 source, 1 destination; +2 the port); not found without one. */
static mg_int_t var_proxy_protocol(mg_request_t *r, mg_http_var_value_t *v, uintptr_t which)
{
    mg_proxy_protocol_t *pp = r->connection->proxy_protocol;
    if (pp == NULL) {
        return var_not_found(v);
    }
    if (which >= 2) {
        in_port_t port = which == 2 ? pp->src_port : pp->dst_port;
        return port ? var_port(r, v, port) : var_not_found(v);
    }
    mg_str_t addr = which == 0 ? pp->src_addr : pp->dst_addr;
    if (addr.len == 0) {
        return var_not_found(v);
    }
    VAR_VALUE(v, addr.data, addr.len);
    return MG_OK;
}

static mg_int_t var_request_completion(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    if (r->response_done) {
        VAR_VALUE(v, "OK", 2);
    } else {
        VAR_VALUE(v, "", 0);
    }
    return MG_OK;
}

static mg_int_t var_tcpinfo(mg_request_t *r, mg_http_var_value_t *v, uintptr_t which)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if (getsockopt(r->connection->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1) {
        return var_not_found(v);
    }
    uint32_t x = which == 0 ? ti.tcpi_rtt : which == 1 ? ti.tcpi_rttvar
                 : which == 2 ? ti.tcpi_snd_cwnd : ti.tcpi_rcv_space;
    return var_uint(r, v, x, 0);
}

typedef struct {
    const char *name;
    mg_http_get_variable_pt get;
    uintptr_t data;
    unsigned flags;
} core_var_t;

#define RSTR(field) var_str, offsetof(mg_request_t, field)
#define HIN(field) var_header_in, offsetof(mg_http_headers_in_t, field)

static const core_var_t core_vars[] = {
    {"uri", var_uri, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"document_uri", var_uri, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"request_uri", RSTR(unparsed_uri), 0},
    {"args", var_args, 0, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_CHANGEABLE},
    {"query_string", var_args, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"is_args", var_is_args, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"request_method", var_request_method, 0, 0},
    {"request", var_request, 0, 0},
    {"scheme", var_scheme, 0, 0},
    {"https", var_https, 0, 0},
    {"server_protocol", var_server_protocol, 0, 0},
    {"host", var_host, 0, 0},
    {"hostname", var_hostname, 0, 0},
    {"server_name", var_server_name, 0, 0},
    {"server_addr", var_server_addr, 0, 0},
    {"server_port", var_server_addr, 1, 0},
    {"remote_addr", var_remote_addr, 0, MG_HTTP_VAR_PLAIN},
    {"binary_remote_addr", var_binary_remote_addr, 0, 0},
    {"remote_port", var_remote_port, 0, MG_HTTP_VAR_PLAIN},
    {"status", var_status, 0, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PLAIN},
    {"body_bytes_sent", var_body_bytes_sent, 0, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PLAIN},
    {"bytes_sent", var_bytes_sent, 0, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PLAIN},
    {"request_time", var_request_time, 0, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PLAIN},
    {"request_length", var_request_length, 0, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PLAIN},
    {"msec", var_msec, 0, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PLAIN},
    {"time_local", var_time, 0, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PLAIN},
    {"time_iso8601", var_time, 1, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PLAIN},
    {"content_type", HIN(content_type), 0},
    {"content_length", var_content_length, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"http_host", HIN(host), 0},
    {"http_user_agent", HIN(user_agent), 0},
    {"http_referer", HIN(referer), 0},
    {"connection", var_connection, 0, MG_HTTP_VAR_PLAIN},
    {"connection_requests", var_connection_requests, 0, MG_HTTP_VAR_PLAIN},
    {"connection_time", var_connection_time, 0, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PLAIN},
    {"pipe", var_pipe, 0, 0},
    {"pid", var_pid, 0, MG_HTTP_VAR_PLAIN},
    {"nginx_version", var_version, 0, 0},
    {"moongate_version", var_version, 0, 0},
    {"document_root", var_document_root, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"realpath_root", var_realpath_root, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"request_filename", var_request_filename, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"request_id", var_request_id, 0, 0},
    {"remote_user", var_remote_user, 0, 0},
    {"request_body", var_request_body, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"request_body_file", var_request_body_file, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"request_completion", var_request_completion, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"limit_rate", var_limit_rate, 0, MG_HTTP_VAR_CHANGEABLE | MG_HTTP_VAR_NOCACHEABLE},
    {"proxy_protocol_addr", var_proxy_protocol, 0, 0},
    {"proxy_protocol_server_addr", var_proxy_protocol, 1, 0},
    {"proxy_protocol_port", var_proxy_protocol, 2, 0},
    {"proxy_protocol_server_port", var_proxy_protocol, 3, 0},
    {"tcpinfo_rtt", var_tcpinfo, 0, MG_HTTP_VAR_NOCACHEABLE},
    {"tcpinfo_rttvar", var_tcpinfo, 1, MG_HTTP_VAR_NOCACHEABLE},
    {"tcpinfo_snd_cwnd", var_tcpinfo, 2, MG_HTTP_VAR_NOCACHEABLE},
    {"tcpinfo_rcv_space", var_tcpinfo, 3, MG_HTTP_VAR_NOCACHEABLE},
    {NULL, NULL, 0, 0},
};

static const core_var_t prefix_vars[] = {
    { "http_", var_http_prefix, 0, 0 },
    { "sent_http_", var_sent_http_prefix, 0, MG_HTTP_VAR_NOCACHEABLE },
    { "arg_", var_arg_prefix, 0, MG_HTTP_VAR_NOCACHEABLE },
    { "cookie_", var_cookie_prefix, 0, 0 },
    { NULL, NULL, 0, 0 },
};

static mg_http_main_conf_t *main_conf(mg_conf_t *cf)
{
    return cf->cycle->http->main_conf[mg_http_core_module.index];
}

mg_http_variable_t *mg_http_add_variable(mg_conf_t *cf, mg_str_t name, unsigned flags)
{
    mg_http_main_conf_t *cmcf = main_conf(cf);
    mg_array_t *list = (flags & MG_HTTP_VAR_PREFIX) ? &cmcf->prefix_variables : &cmcf->all_variables;
    mg_http_variable_t **vars = list->elts;
    for (size_t i = 0; i < list->nelts; i++) {
        if (vars[i]->name.len == name.len &&
            mg_strncasecmp(vars[i]->name.data, name.data, name.len) == 0) {
            if (!(vars[i]->flags & MG_HTTP_VAR_CHANGEABLE)) {
                mg_conf_error(cf, 0, "the duplicate \"%.*s\" variable", (int)name.len, name.data);
                return NULL;
            }
            return vars[i];
        }
    }
    mg_http_variable_t *v = mg_pcalloc(cf->pool, sizeof(mg_http_variable_t));
    v->name.data = mg_pnalloc(cf->pool, name.len + 1);
    mg_strlow(v->name.data, name.data, name.len);
    v->name.data[name.len] = '\0';
    v->name.len = name.len;
    v->flags = flags;
    *(mg_http_variable_t **)mg_array_push(list) = v;
    return v;
}

mg_int_t mg_http_get_variable_index(mg_conf_t *cf, mg_str_t name)
{
    if (name.len == 0) {
        mg_conf_error(cf, 0, "invalid variable name \"$\"");
        return MG_ERROR;
    }
    mg_http_main_conf_t *cmcf = main_conf(cf);
    mg_http_variable_t *v = cmcf->variables.elts;
    for (size_t i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].name.len == name.len && mg_strncasecmp(v[i].name.data, name.data, name.len) == 0) {
            return (mg_int_t)i;
        }
    }
    mg_http_variable_t *nv = mg_array_push(&cmcf->variables);
    nv->name.data = mg_pnalloc(cf->pool, name.len + 1);
    mg_strlow(nv->name.data, name.data, name.len);
    nv->name.data[name.len] = '\0';
    nv->name.len = name.len;
    nv->index = cmcf->variables.nelts - 1;
    return (mg_int_t)nv->index;
}

static int all_digits(mg_str_t s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.data[i] < '0' || s.data[i] > '9') {
            return 0;
        }
    }
    return s.len > 0;
}

/* Find a variable definition for `name`; fills get/data/flags. Digits name a capture only
 * at run time (ngx.var[1]): the config spells captures "$1", which script.c compiles itself,
 * and nginx rejects "${1}" and "$0" as unknown variables. */
/* The names' hash, so that a lookup by name at run time (ngx.var.NAME, SSI's echo) costs no
 * scan of every variable: open addressing, at most half full. */
typedef struct mg_http_var_slot_s {
    mg_str_t name;           /* NULL data: an empty slot */
    mg_int_t index;          /* the indexed variable's, or -1 */
    mg_http_variable_t *def; /* all_variables' entry, or NULL */
} var_slot_t;

static size_t name_hash(mg_str_t name)
{
    size_t h = 2166136261u;
    for (size_t i = 0; i < name.len; i++) {
        h = (h ^ (unsigned char)name.data[i]) * 16777619u;
    }
    return h;
}

/* The hash knows every variable: built, and nothing added since (else the lists are
 * scanned) */
static int hash_current(mg_http_main_conf_t *cmcf)
{
    return cmcf->var_hash && cmcf->var_hash_nindexed == cmcf->variables.nelts &&
           cmcf->var_hash_nall == cmcf->all_variables.nelts;
}

static var_slot_t *hash_slot(mg_http_main_conf_t *cmcf, mg_str_t name)
{
    for (size_t i = name_hash(name) & cmcf->var_hash_mask;; i = (i + 1) & cmcf->var_hash_mask) {
        var_slot_t *s = &cmcf->var_hash[i];
        if (s->name.data == NULL || mg_str_eq_str(s->name, name)) {
            return s;
        }
    }
}

static var_slot_t *hash_find(mg_http_main_conf_t *cmcf, mg_str_t name)
{
    var_slot_t *s = hash_slot(cmcf, name);
    return s->name.data ? s : NULL;
}

static void hash_build(mg_http_main_conf_t *cmcf, mg_pool_t *pool)
{
    size_t n = cmcf->variables.nelts + cmcf->all_variables.nelts, size = 16;
    while (size < 2 * n) {
        size *= 2;
    }
    cmcf->var_hash = mg_pcalloc(pool, size * sizeof(var_slot_t));
    cmcf->var_hash_mask = size - 1;
    mg_http_variable_t *v = cmcf->variables.elts;
    for (size_t i = 0; i < cmcf->variables.nelts; i++) {
        var_slot_t *s = hash_slot(cmcf, v[i].name);
        s->name = v[i].name;
        s->index = (mg_int_t)i;
    }
    mg_http_variable_t **all = cmcf->all_variables.elts;
    for (size_t i = 0; i < cmcf->all_variables.nelts; i++) {
        var_slot_t *s = hash_slot(cmcf, all[i]->name);
        if (s->name.data == NULL) {
            s->name = all[i]->name;
            s->index = -1;
        }
        s->def = all[i];
    }
    cmcf->var_hash_nindexed = cmcf->variables.nelts;
    cmcf->var_hash_nall = cmcf->all_variables.nelts;
}

/* An indexed variable's index by name, or -1 */
static mg_int_t indexed(mg_http_main_conf_t *cmcf, mg_str_t name)
{
    if (hash_current(cmcf)) {
        var_slot_t *s = hash_find(cmcf, name);
        return s ? s->index : -1;
    }
    mg_http_variable_t *iv = cmcf->variables.elts;
    for (size_t i = 0; i < cmcf->variables.nelts; i++) {
        if (mg_str_eq_str(iv[i].name, name)) {
            return (mg_int_t)i;
        }
    }
    return -1;
}

static mg_http_variable_t *defined(mg_http_main_conf_t *cmcf, mg_str_t name)
{
    if (hash_current(cmcf)) {
        var_slot_t *s = hash_find(cmcf, name);
        return s ? s->def : NULL;
    }
    mg_http_variable_t **vars = cmcf->all_variables.elts;
    for (size_t i = 0; i < cmcf->all_variables.nelts; i++) {
        if (mg_str_eq_str(vars[i]->name, name)) {
            return vars[i];
        }
    }
    return NULL;
}

static void copy_def(mg_http_variable_t *out, const mg_http_variable_t *d)
{
    out->get_handler = d->get_handler;
    out->set_handler = d->set_handler;
    out->data = d->data;
    out->flags = d->flags;
}

/* A name no variable has: a capture number (at run time) or a prefix family's member. The
 * family's getter gets the full name as data: *full when given (the caller's storage, enough
 * for a getter called at once), else a copy in pool (kept with the configuration). */
static int resolve_family(mg_http_main_conf_t *cmcf, mg_pool_t *pool, mg_str_t name,
                          mg_http_variable_t *out, int runtime, mg_str_t *full)
{
    if (runtime && all_digits(name)) {
        out->get_handler = var_capture;
        out->data = (uintptr_t)mg_atoi(name.data, name.len);
        out->flags = MG_HTTP_VAR_NOCACHEABLE;
        return 1;
    }
    mg_http_variable_t **pv = cmcf->prefix_variables.elts;
    for (size_t i = 0; i < cmcf->prefix_variables.nelts; i++) {
        if (name.len > pv[i]->name.len &&
            memcmp(name.data, pv[i]->name.data, pv[i]->name.len) == 0) {
            if (full == NULL) {
                full = mg_palloc(pool, sizeof(mg_str_t));
                *full = mg_pstr(pool, name.data, name.len);
            }
            out->get_handler = pv[i]->get_handler;
            out->set_handler = NULL;
            out->data = pv[i]->data ? pv[i]->data : (uintptr_t)full;
            out->flags = pv[i]->flags;
            return 1;
        }
    }
    return 0;
}

static int resolve(mg_http_main_conf_t *cmcf, mg_pool_t *pool, mg_str_t name,
                   mg_http_variable_t *out, int runtime)
{
    mg_http_variable_t *d = defined(cmcf, name);
    if (d) {
        copy_def(out, d);
        return 1;
    }
    return resolve_family(cmcf, pool, name, out, runtime, NULL);
}

mg_int_t mg_http_variables_add_core(mg_conf_t *cf)
{
    for (const core_var_t *cv = core_vars; cv->name; cv++) {
        mg_str_t name = { strlen(cv->name), (char *)cv->name };
        mg_http_variable_t *v = mg_http_add_variable(cf, name, cv->flags);
        v->get_handler = cv->get;
        v->data = cv->data;
        if (strcmp(cv->name, "args") == 0) {
            v->set_handler = var_set_args;
        } else if (strcmp(cv->name, "limit_rate") == 0) {
            v->set_handler = var_set_limit_rate;
        }
    }
    for (const core_var_t *cv = prefix_vars; cv->name; cv++) {
        mg_str_t name = { strlen(cv->name), (char *)cv->name };
        mg_http_variable_t *v = mg_http_add_variable(cf, name, cv->flags | MG_HTTP_VAR_PREFIX);
        v->get_handler = cv->get;
        v->data = cv->data;
    }
    return MG_OK;
}

mg_int_t mg_http_variables_init(mg_conf_t *cf)
{
    mg_http_main_conf_t *cmcf = main_conf(cf);
    /* nginx hashes every variable's name (the prefix families aside) and refuses a
     * configuration whose names do not fit variables_hash_* */
    mg_hash_keys_t keys;
    mg_hash_keys_init(&keys);
    mg_http_variable_t **all = cmcf->all_variables.elts;
    for (size_t i = 0; i < cmcf->all_variables.nelts; i++) {
        mg_hash_keys_add(&keys, all[i]->name);
    }
    mg_int_t hrc = mg_hash_keys_check(cf, &keys, "variables_hash", cmcf->variables_hash_max_size,
                                      cmcf->variables_hash_bucket_size);
    mg_hash_keys_free(&keys);
    if (hrc != MG_OK) {
        return MG_ERROR;
    }
    mg_http_variable_t *v = cmcf->variables.elts;
    for (size_t i = 0; i < cmcf->variables.nelts; i++) {
        if (!resolve(cmcf, cf->pool, v[i].name, &v[i], 0)) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "unknown \"%.*s\" variable", (int)v[i].name.len,
                         v[i].name.data);
            return MG_ERROR;
        }
        if (v[i].get_handler == NULL) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "variable \"%.*s\" cannot be read",
                         (int)v[i].name.len, v[i].name.data);
            return MG_ERROR;
        }
    }
    hash_build(cmcf, cf->pool);
    return MG_OK;
}

mg_http_var_value_t *mg_http_get_indexed_variable(mg_request_t *r, mg_uint_t index)
{
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    if (index >= cmcf->variables.nelts) {
        return NULL;
    }
    mg_http_var_value_t *val = &r->variables[index];
    if (val->valid || val->not_found) {
        val->failed = 0; /* a kept answer, as nginx's */
        return val;
    }
    mg_http_variable_t *v = &((mg_http_variable_t *)cmcf->variables.elts)[index];
    /* a map whose source names itself, directly or through others, would recurse without
     * end: nginx gives up 100 levels deep, and so does this */
    if (r->variable_depth >= 100) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "cycle while evaluating variable \"%.*s\"",
                     (int)v->name.len, v->name.data);
        return NULL;
    }
    r->variable_depth++;
    val->failed = 0;
    mg_int_t rc = v->get_handler(r, val, v->data);
    r->variable_depth--;
    if (rc != MG_OK) {
        val->valid = 0;
        val->not_found = 1;
        val->failed = 1;
        return val;
    }
    if (v->flags & MG_HTTP_VAR_NOCACHEABLE) {
        val->no_cacheable = 1;
    }
    return val;
}

mg_http_var_value_t *mg_http_get_flushed_variable(mg_request_t *r, mg_uint_t index)
{
    mg_http_var_value_t *val = &r->variables[index];
    if ((val->valid || val->not_found) && val->no_cacheable) {
        val->valid = 0;
        val->not_found = 0;
    }
    return mg_http_get_indexed_variable(r, index);
}

mg_http_var_value_t *mg_http_get_variable(mg_request_t *r, mg_str_t name)
{
    return mg_http_get_variable_in(r, name, NULL);
}

mg_http_var_value_t *mg_http_get_variable_in(mg_request_t *r, mg_str_t name,
                                             mg_http_var_value_t *tmp)
{
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    mg_http_variable_t def;
    memset(&def, 0, sizeof(def));
    mg_str_t full = name; /* the getter below reads it during the call only */
    if (hash_current(cmcf)) {
        /* one probe answers what indexed() and resolve() would each look up again */
        var_slot_t *s = hash_find(cmcf, name);
        if (s && s->index >= 0) {
            return mg_http_get_flushed_variable(r, (mg_uint_t)s->index);
        }
        if (s) {
            copy_def(&def, s->def);
        } else if (!resolve_family(cmcf, r->pool, name, &def, 1, &full)) {
            return NULL;
        }
    } else {
        mg_int_t i = indexed(cmcf, name);
        if (i >= 0) {
            return mg_http_get_flushed_variable(r, (mg_uint_t)i);
        }
        if (!resolve(cmcf, r->pool, name, &def, 1)) {
            return NULL;
        }
    }
    if (def.get_handler == NULL) {
        return NULL;
    }
    mg_http_var_value_t *val = tmp ? tmp : mg_palloc(r->pool, sizeof(mg_http_var_value_t));
    memset(val, 0, sizeof(*val));
    if (def.get_handler(r, val, def.data) != MG_OK) {
        val->not_found = 1;
        val->failed = 1;
    }
    return val;
}

void mg_http_set_indexed_variable(mg_request_t *r, mg_uint_t index, mg_str_t value)
{
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    mg_http_variable_t *v = &((mg_http_variable_t *)cmcf->variables.elts)[index];
    mg_http_var_value_t *val = &r->variables[index];
    val->value = value;
    val->valid = 1;
    val->not_found = 0;
    val->no_cacheable = 0;
    if (v->set_handler) {
        v->set_handler(r, val, v->data);
        /* a variable with its own storage ($args) is read back from there */
        val->valid = 0;
    }
}

mg_int_t mg_http_set_variable(mg_request_t *r, mg_str_t name, mg_str_t *value)
{
    /* nil is no value: a variable with its own storage gets a NULL one ($args = nil reads nil
     * again, as in nginx, where "" is empty arguments), the others an empty one, not found */
    mg_str_t empty = {0, ""}, none = {0, NULL};
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    mg_int_t i = indexed(cmcf, name);
    if (i >= 0) {
        mg_http_variable_t *iv = cmcf->variables.elts;
        if (!(iv[i].flags & MG_HTTP_VAR_CHANGEABLE)) {
            return defined(cmcf, name) ? MG_ERROR : MG_DECLINED;
        }
        mg_http_set_indexed_variable(r, (mg_uint_t)i,
                                     value               ? *value
                                     : iv[i].set_handler ? none
                                                         : empty);
        r->variables[i].not_found = value == NULL;
        return MG_OK;
    }
    mg_http_variable_t def;
    memset(&def, 0, sizeof(def));
    if (!resolve(cmcf, r->pool, name, &def, 0)) {
        return MG_DECLINED;
    }
    if (!(def.flags & MG_HTTP_VAR_CHANGEABLE) || def.set_handler == NULL) {
        return defined(cmcf, name) ? MG_ERROR : MG_DECLINED;
    }
    mg_http_var_value_t val = {.value = value ? *value : none, .valid = 1};
    def.set_handler(r, &val, def.data);
    return MG_OK;
}

mg_regex_t *mg_http_regex_compile(mg_conf_t *cf, mg_str_t pattern, int caseless)
{
    char err[512];
    mg_regex_t *re = mg_regex_compile_conf(cf->cycle, pattern, caseless, err, sizeof(err));
    if (re == NULL) {
        mg_conf_error(cf, 0, "%s", err);
        return NULL;
    }
    mg_http_main_conf_t *cmcf = main_conf(cf);
    if (re->captures > cmcf->ncaptures) {
        cmcf->ncaptures = re->captures;
    }
    /* (?<name>...) declares $name, set by every successful match of this regex */
    for (int i = 0; i < re->nnames; i++) {
        mg_http_variable_t *v = mg_http_add_variable(cf, re->names[i].name, MG_HTTP_VAR_CHANGEABLE);
        if (v == NULL) {
            return NULL;
        }
        if (v->get_handler == NULL) {
            v->get_handler = var_named_capture;
        }
        mg_int_t index = mg_http_get_variable_index(cf, re->names[i].name);
        if (index < 0) {
            return NULL;
        }
        re->names[i].data = index;
    }
    return re;
}

mg_int_t mg_http_regex_exec(mg_request_t *r, mg_regex_t *re, mg_str_t s)
{
    int *ov, code;
    mg_int_t rc = mg_regex_exec_kept(r->pool, re, s, &ov, &code);
    if (rc == MG_ERROR) {
        mg_log_error(MG_LOG_ALERT, &r->connection->log, 0,
                     "pcre2_match() failed: %d on \"%.*s\" using \"%.*s\"", code, (int)s.len,
                     s.data, (int)re->pattern.len, re->pattern.data);
        return MG_ERROR;
    }
    if (rc == MG_DECLINED) {
        return MG_DECLINED;
    }
    /* every match replaces the captures, even one without groups (then $1 is empty, as in
     * nginx); a failed match leaves the earlier ones */
    r->captures = ov;
    r->ncaptures = rc * 2;
    r->captures_data = s.data;
    for (int i = 0; i < re->nnames; i++) {
        mg_http_var_value_t *v = &r->variables[re->names[i].data];
        int k = re->names[i].index;
        if (k < rc && ov[2 * k] >= 0) {
            VAR_VALUE(v, s.data + ov[2 * k], (size_t)(ov[2 * k + 1] - ov[2 * k]));
        } else {
            VAR_VALUE(v, "", 0);
        }
        v->no_cacheable = 0;
    }
    return MG_OK;
}
