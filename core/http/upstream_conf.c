/*
 * What every protocol on the upstream engine configures the same way (proxy_, fastcgi_,
 * uwsgi_, scgi_, memcached_ directives: timeouts, next upstream, buffers, hidden and passed
 * headers, ignored headers, bind, socket keepalive), their setters and merge with nginx's
 * defaults, and the copy of an upstream's header lines into the response.
 */
#include <arpa/inet.h>
#include <sys/un.h>

#include "cache.h"
#include "cidr.h"
#include "script.h"
#include "upstream_io.h"

struct mg_upstream_bind_s {
    int off; /* *_bind off */
    struct sockaddr_storage ss;
    socklen_t len;
    mg_str_t name;
    mg_http_complex_value_t *cv; /* an address from variables */
    int transparent;
};

#define UCONF(conf, cmd) ((mg_upstream_conf_t *)((char *)(conf) + (cmd)->offset))

void mg_upstream_conf_init(mg_upstream_conf_t *c)
{
    c->connect_timeout = MG_CONF_UNSET;
    c->send_timeout = MG_CONF_UNSET;
    c->read_timeout = MG_CONF_UNSET;
    c->next_upstream_tries = (mg_uint_t)MG_CONF_UNSET;
    c->next_upstream_timeout = MG_CONF_UNSET;
    c->buffer_size = MG_CONF_UNSET_SIZE;
    c->bufs_num = 0;
    c->buffering = MG_CONF_UNSET;
    c->intercept_errors = MG_CONF_UNSET;
    c->busy_buffers_conf = MG_CONF_UNSET_SIZE;
    c->temp_file_write_conf = MG_CONF_UNSET_SIZE;
    c->max_temp_file_size = MG_CONF_UNSET_SIZE;
    c->ignore_client_abort = MG_CONF_UNSET;
    c->bind = MG_CONF_UNSET_PTR;
    c->socket_keepalive = MG_CONF_UNSET;
    c->request_buffering = MG_CONF_UNSET;
    c->pass_request_headers = MG_CONF_UNSET;
    c->pass_request_body = MG_CONF_UNSET;
    c->limit_rate = MG_CONF_UNSET_SIZE;
    c->force_ranges = MG_CONF_UNSET;
    c->send_lowat = MG_CONF_UNSET_SIZE;
    mg_http_cache_conf_init(&c->cache);
}

const char *mg_upstream_conf_merge(mg_conf_t *cf, mg_upstream_conf_t *conf,
                                   mg_upstream_conf_t *prev, const char *p)
{
    mg_conf_merge(conf->connect_timeout, prev->connect_timeout, 60000);
    mg_conf_merge(conf->send_timeout, prev->send_timeout, 60000);
    mg_conf_merge(conf->read_timeout, prev->read_timeout, 60000);
    if (conf->next_upstream == 0) {
        conf->next_upstream = prev->next_upstream ? prev->next_upstream
                                                  : MG_UPSTREAM_FT_ERROR | MG_UPSTREAM_FT_TIMEOUT;
    }
    if (conf->next_upstream_tries == (mg_uint_t)MG_CONF_UNSET) {
        conf->next_upstream_tries =
            prev->next_upstream_tries == (mg_uint_t)MG_CONF_UNSET ? 0 : prev->next_upstream_tries;
    }
    mg_conf_merge(conf->next_upstream_timeout, prev->next_upstream_timeout, 0);
    mg_conf_merge_size(conf->buffer_size, prev->buffer_size, 4096);
    if (conf->bufs_num == 0) {
        conf->bufs_num = prev->bufs_num ? prev->bufs_num : 8;
        conf->bufs_size = prev->bufs_num ? prev->bufs_size : 4096;
    }
    mg_conf_merge(conf->buffering, prev->buffering, 1);
    mg_conf_merge(conf->intercept_errors, prev->intercept_errors, 0);
    mg_conf_merge(conf->ignore_client_abort, prev->ignore_client_abort, 0);
    mg_conf_merge(conf->request_buffering, prev->request_buffering, 1);
    mg_conf_merge(conf->pass_request_headers, prev->pass_request_headers, 1);
    mg_conf_merge(conf->pass_request_body, prev->pass_request_body, 1);
    if (conf->hide_headers == NULL) {
        conf->hide_headers = prev->hide_headers;
    }
    if (conf->pass_headers == NULL) {
        conf->pass_headers = prev->pass_headers;
    }
    if (conf->ignore_headers == 0) {
        conf->ignore_headers = prev->ignore_headers;
    }
    mg_conf_merge_ptr(conf->bind, prev->bind, NULL);
    mg_conf_merge(conf->socket_keepalive, prev->socket_keepalive, 0);
    mg_conf_merge_size(conf->limit_rate, prev->limit_rate, 0);
    mg_conf_merge(conf->force_ranges, prev->force_ranges, 0);
    mg_conf_merge_size(conf->send_lowat, prev->send_lowat, 0);
    /* as nginx: proxy_cache_key has a default, the other protocols' must be given */
    const char *key = strcmp(p, "proxy") == 0 ? "$scheme$proxy_host$request_uri" : NULL;
    if (mg_http_cache_conf_merge(cf, &conf->cache, &prev->cache, p, key) != MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    return mg_upstream_merge_buffers(cf, conf, prev, p);
}

/* ---- setters ---- */

/* *_next_upstream's names (and *_cache_use_stale's, cache.c) */
const mg_conf_enum_t mg_upstream_ft_names[] = {
    {"error", MG_UPSTREAM_FT_ERROR},
    {"timeout", MG_UPSTREAM_FT_TIMEOUT},
    {"invalid_header", MG_UPSTREAM_FT_INVALID_HEADER},
    {"http_500", MG_UPSTREAM_FT_HTTP_500},
    {"http_502", MG_UPSTREAM_FT_HTTP_502},
    {"http_503", MG_UPSTREAM_FT_HTTP_503},
    {"http_504", MG_UPSTREAM_FT_HTTP_504},
    {"http_403", MG_UPSTREAM_FT_HTTP_403},
    {"http_404", MG_UPSTREAM_FT_HTTP_404},
    {"http_429", MG_UPSTREAM_FT_HTTP_429},
    {"updating", 0},
    {"non_idempotent", MG_UPSTREAM_FT_NON_IDEMPOTENT},
    {"off", MG_UPSTREAM_FT_OFF},
    {NULL, 0},
};

const char *mg_upstream_set_next_upstream(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_upstream_conf_t *uc = UCONF(conf, cmd);
    if (uc->next_upstream) {
        return "is duplicate";
    }
    /* memcached_next_upstream has its own few names, as nginx's */
    static const mg_conf_enum_t memcached_bits[] = {
        {"error", MG_UPSTREAM_FT_ERROR},
        {"timeout", MG_UPSTREAM_FT_TIMEOUT},
        {"invalid_response", MG_UPSTREAM_FT_INVALID_HEADER},
        {"not_found", MG_UPSTREAM_FT_HTTP_404},
        {"off", MG_UPSTREAM_FT_OFF},
        {NULL, 0},
    };
    const mg_conf_enum_t *names = cmd->post ? memcached_bits : mg_upstream_ft_names;
    mg_uint_t v = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        size_t k = 0;
        for (; names[k].name; k++) {
            if (mg_str_caseeq(cf->args[i], names[k].name)) {
                break;
            }
        }
        if (names[k].name == NULL) {
            mg_conf_error(cf, 0, "invalid value \"%.*s\"", (int)cf->args[i].len, cf->args[i].data);
            return MG_CONF_ERROR;
        }
        v |= (mg_uint_t)names[k].value;
    }
    if ((v & MG_UPSTREAM_FT_OFF) && v != MG_UPSTREAM_FT_OFF) {
        mg_conf_error(cf, 0, "invalid value \"off\"");
        return MG_CONF_ERROR;
    }
    uc->next_upstream = v ? v : MG_UPSTREAM_FT_OFF;
    return MG_CONF_OK;
}

const char *mg_upstream_set_buffers(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_upstream_conf_t *uc = UCONF(conf, cmd);
    if (uc->bufs_num) {
        return "is duplicate";
    }
    int64_t n = mg_atoi(cf->args[1].data, cf->args[1].len);
    mg_command_t tmp = {cmd->name, 0, 0, NULL, 0, offsetof(mg_upstream_conf_t, bufs_size), NULL};
    uc->bufs_size = MG_CONF_UNSET_SIZE;
    mg_str_t saved = cf->args[1];
    cf->args[1] = cf->args[2];
    const char *rv = mg_conf_set_size(cf, &tmp, uc);
    cf->args[1] = saved;
    if (n <= 0 || rv != MG_CONF_OK || uc->bufs_size == 0) {
        mg_conf_error(cf, 0, "invalid value \"%.*s\"", (int)cf->args[n <= 0 ? 1 : 2].len,
                      cf->args[n <= 0 ? 1 : 2].data);
        return MG_CONF_ERROR;
    }
    uc->bufs_num = (mg_int_t)n;
    return MG_CONF_OK;
}

/* *_hide_header, *_pass_header: lowercase names */
const char *mg_upstream_set_header_list(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_array_t **a = (mg_array_t **)((char *)conf + cmd->offset);
    if (*a == NULL) {
        *a = mg_array_create(cf->pool, 4, sizeof(mg_str_t));
    }
    mg_str_t *s = mg_array_push(*a);
    s->data = mg_pnalloc(cf->pool, cf->args[1].len);
    s->len = cf->args[1].len;
    mg_strlow(s->data, cf->args[1].data, s->len);
    return MG_CONF_OK;
}

/* nginx's bitmask: values add up over repeated directives; one named twice is a warning */
const char *mg_upstream_set_ignore_headers(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_upstream_conf_t *uc = UCONF(conf, cmd);
    static const mg_conf_enum_t bits[] = {
        {"X-Accel-Redirect", MG_UPSTREAM_IGN_XA_REDIRECT},
        {"X-Accel-Expires", MG_UPSTREAM_IGN_XA_EXPIRES},
        {"X-Accel-Limit-Rate", MG_UPSTREAM_IGN_XA_LIMIT_RATE},
        {"X-Accel-Buffering", MG_UPSTREAM_IGN_XA_BUFFERING},
        {"X-Accel-Charset", MG_UPSTREAM_IGN_XA_CHARSET},
        {"Expires", MG_UPSTREAM_IGN_EXPIRES},
        {"Cache-Control", MG_UPSTREAM_IGN_CACHE_CONTROL},
        {"Set-Cookie", MG_UPSTREAM_IGN_SET_COOKIE},
        {"Vary", MG_UPSTREAM_IGN_VARY},
        {NULL, 0},
    };
    for (size_t i = 1; i < cf->nargs; i++) {
        size_t k = 0;
        while (bits[k].name && !mg_str_caseeq(cf->args[i], bits[k].name)) {
            k++;
        }
        if (bits[k].name == NULL) {
            mg_conf_error(cf, 0, "invalid value \"%.*s\"", (int)cf->args[i].len, cf->args[i].data);
            return MG_CONF_ERROR;
        }
        if (uc->ignore_headers & (mg_uint_t)bits[k].value) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate value \"%.*s\"", (int)cf->args[i].len,
                        cf->args[i].data);
        }
        uc->ignore_headers |= (mg_uint_t)bits[k].value | 1;
    }
    return MG_CONF_OK;
}

/* "addr", "addr:port", "[v6]" or "[v6]:port": an IP literal (nginx's local address form) */
mg_int_t mg_upstream_parse_local(mg_str_t text, struct sockaddr_storage *ss, socklen_t *len)
{
    mg_str_t host = text;
    int64_t port = 0;
    const char *colon = NULL;
    if (text.len && text.data[0] == '[') {
        const char *rb = memchr(text.data, ']', text.len);
        if (rb == NULL) {
            return MG_DECLINED;
        }
        host.data = text.data + 1;
        host.len = (size_t)(rb - text.data - 1);
        if (rb + 1 < text.data + text.len) {
            if (rb[1] != ':') {
                return MG_DECLINED;
            }
            colon = rb + 1;
        }
    } else {
        colon = memchr(text.data, ':', text.len);
        if (colon && memchr(colon + 1, ':', (size_t)(text.data + text.len - colon - 1))) {
            colon = NULL; /* a bare IPv6 address */
        } else if (colon) {
            host.len = (size_t)(colon - text.data);
        }
    }
    if (colon) {
        port = mg_atoi(colon + 1, (size_t)(text.data + text.len - colon - 1));
        if (port < 0 || port > 65535) {
            return MG_DECLINED;
        }
    }
    if (mg_addr_parse(host, ss, len) != MG_OK) {
        return MG_DECLINED;
    }
    if (ss->ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((in_port_t)port);
    } else {
        ((struct sockaddr_in *)ss)->sin_port = htons((in_port_t)port);
    }
    return MG_OK;
}

const char *mg_upstream_set_bind(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_upstream_conf_t *uc = UCONF(conf, cmd);
    if (uc->bind != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    mg_upstream_bind_t *b = mg_pcalloc(cf->pool, sizeof(*b));
    uc->bind = b;
    mg_str_t v = cf->args[1];
    if (cf->nargs == 2 && mg_str_eq(v, "off")) {
        b->off = 1;
        return MG_CONF_OK;
    }
    if (mg_http_script_variables_count(v)) {
        b->cv = mg_pcalloc(cf->pool, sizeof(*b->cv));
        if (mg_http_compile_complex_value(cf, v, b->cv) != MG_OK) {
            return MG_CONF_ERROR;
        }
    } else if (mg_upstream_parse_local(v, &b->ss, &b->len) != MG_OK) {
        mg_conf_error(cf, 0, "invalid address \"%.*s\"", (int)v.len, v.data);
        return MG_CONF_ERROR;
    }
    b->name = v;
    if (cf->nargs == 3) {
        if (!mg_str_eq(cf->args[2], "transparent")) {
            mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)cf->args[2].len,
                          cf->args[2].data);
            return MG_CONF_ERROR;
        }
        b->transparent = 1;
    }
    return MG_CONF_OK;
}

void mg_upstream_conf_apply(mg_request_t *r, mg_upstream_t *u)
{
    mg_upstream_conf_t *conf = u->conf;
    u->ignore_headers = conf->ignore_headers;
    u->so_keepalive = conf->socket_keepalive == 1;
    mg_upstream_bind_t *b = conf->bind;
    if (b == NULL || b->off) {
        return;
    }
    if (b->cv == NULL) {
        u->local = &b->ss;
        u->local_len = b->len;
        u->local_name = b->name;
    } else {
        mg_str_t v = mg_http_complex_value(r, b->cv);
        if (v.len) {
            struct sockaddr_storage *ss = mg_pcalloc(r->pool, sizeof(*ss));
            if (mg_upstream_parse_local(v, ss, &u->local_len) == MG_OK) {
                u->local = ss;
                u->local_name = v;
            } else {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "invalid local address \"%.*s\"",
                             (int)v.len, v.data);
            }
        }
    }
    u->transparent = b->transparent;
}

/* ---- the response's header lines ---- */

static int in_list(mg_array_t *a, const char *low, size_t len)
{
    if (a == NULL) {
        return 0;
    }
    mg_str_t *s = a->elts;
    for (size_t i = 0; i < a->nelts; i++) {
        if (s[i].len == len && memcmp(s[i].data, low, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* the lines hidden by default, each in its group (MG_UPSTREAM_HIDE_*); lengths kept, as this
 * runs for each line of each response */
static const struct {
    mg_str_t name;
    mg_uint_t group;
} hidden_names[] = {
    {mg_string("date"), MG_UPSTREAM_HIDE_DATE_SERVER},
    {mg_string("server"), MG_UPSTREAM_HIDE_DATE_SERVER},
    {mg_string("x-pad"), MG_UPSTREAM_HIDE_X_PAD},
    {mg_string("status"), MG_UPSTREAM_HIDE_STATUS},
    {mg_string("x-accel-expires"), MG_UPSTREAM_HIDE_ACCEL},
    {mg_string("x-accel-redirect"), MG_UPSTREAM_HIDE_ACCEL},
    {mg_string("x-accel-limit-rate"), MG_UPSTREAM_HIDE_ACCEL},
    {mg_string("x-accel-buffering"), MG_UPSTREAM_HIDE_ACCEL},
    {mg_string("x-accel-charset"), MG_UPSTREAM_HIDE_ACCEL},
};

static int hidden_by(mg_uint_t hide, const char *low, size_t len)
{
    for (size_t i = 0; i < mg_nelems(hidden_names); i++) {
        if ((hidden_names[i].group & hide) && len == hidden_names[i].name.len &&
            memcmp(low, hidden_names[i].name.data, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Refresh: "5; url=..." has its URL rewritten as a Location */
static mg_str_t rewrite_refresh(mg_upstream_t *u, mg_str_t val)
{
    const char *q = mg_strlcasestrn(val.data, val.data + val.len, "url=", 4);
    if (q == NULL) {
        return val;
    }
    size_t pre = (size_t)(q + 4 - val.data);
    mg_str_t tail = {val.len - pre, val.data + pre};
    mg_str_t nt = u->rewrite_redirect(u, tail);
    if (nt.data == tail.data) {
        return val;
    }
    char *np = mg_pnalloc(u->r->pool, pre + nt.len);
    memcpy(np, val.data, pre);
    memcpy(np + pre, nt.data, nt.len);
    mg_str_t out = {pre + nt.len, np};
    return out;
}

void mg_upstream_content_type(mg_request_t *r, mg_str_t val)
{
    r->headers_out.content_type = val;
    /* as nginx: the first parameter after a ';' that is charset=, its quotes off */
    const char *p = val.data, *end = val.data + val.len;
    while ((p = memchr(p, ';', (size_t)(end - p))) != NULL) {
        do {
            p++;
        } while (p < end && *p == ' ');
        if (end - p < 8 || mg_strncasecmp(p, "charset=", 8) != 0) {
            continue;
        }
        p += 8;
        const char *e = end;
        p += p < e && *p == '"';
        e -= e > p && e[-1] == '"';
        r->headers_out.type_charset = (mg_str_t){(size_t)(e - p), (char *)p};
        return;
    }
}

mg_int_t mg_upstream_copy_headers(mg_upstream_t *u, mg_uint_t hide)
{
    mg_request_t *r = u->r;
    mg_upstream_conf_t *conf = u->conf;
    mg_http_headers_out_t *ho = &r->headers_out;
    ho->status = u->head.status;
    if (u->head.status_line.len) {
        ho->status_line.data = (char *)u->head.status_line.data;
        ho->status_line.len = u->head.status_line.len;
    }
    ho->content_length_n = -1;
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        char low[128];
        size_t kl = h->name.len;
        if (kl >= sizeof(low)) {
            kl = sizeof(low) - 1;
        }
        mg_strlow(low, h->name.data, kl);
        mg_str_t val = {h->value.len, (char *)h->value.data};
#define IS(s) (kl == sizeof(s) - 1 && memcmp(low, s, kl) == 0)
        /* nginx passes an upstream's Trailer line; TE and Proxy-Connection it passes too, but
         * they are connection-specific, which an HTTP/2 client takes for a malformed answer */
        if (IS("connection") || IS("keep-alive") || IS("transfer-encoding") || IS("te") ||
            IS("proxy-connection")) {
            continue; /* a 101's Connection line is the server's own (write.c) */
        }
        if ((hidden_by(hide, low, kl) && !in_list(conf->pass_headers, low, kl)) ||
            in_list(conf->hide_headers, low, kl)) {
            continue;
        }
        if (IS("content-length")) {
            ho->content_length_n = mg_atoi(val.data, val.len);
            continue;
        }
        if (IS("content-type")) {
            mg_upstream_content_type(r, val);
            continue;
        }
        if (IS("set-cookie") && u->rewrite_cookie) {
            val = u->rewrite_cookie(u, val);
        }
        int rewritten = 0;
        if (u->rewrite_redirect && IS("location")) {
            mg_str_t nv = u->rewrite_redirect(u, val);
            rewritten = nv.data != val.data || nv.len != val.len;
            val = nv;
        } else if (u->rewrite_redirect && IS("refresh")) {
            val = rewrite_refresh(u, val);
        }
        mg_table_elt_t *e = mg_http_add_header_out(r, h->name.data, h->name.len, val.data, val.len);
        if (IS("location")) {
            /* as nginx: a relative Location is made absolute (write.c) only when
             * proxy_redirect rewrote it; as sent it stays relative */
            if (rewritten || val.len == 0 || val.data[0] != '/') {
                ho->location = e;
            }
        } else if (IS("content-encoding")) {
            ho->content_encoding = e;
        } else if (IS("etag")) {
            ho->etag = e;
        }
#undef IS
    }
    if (u->head.status == 101) {
        ho->content_length_n = -1;
    }
    return MG_OK;
}

/* ---- peers named per request (a *_pass with variables) ---- */

/* "unix:/path" as a peer, or NULL when the path does not fit. */
mg_upstream_peer_t *mg_upstream_unix_peer(mg_request_t *r, mg_str_t hp)
{
    mg_upstream_peer_t *peer = mg_pcalloc(r->pool, sizeof(*peer));
    struct sockaddr_un *sun = (struct sockaddr_un *)&peer->sockaddr;
    if (hp.len <= 5 || hp.len - 5 >= sizeof(sun->sun_path)) {
        return NULL;
    }
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, hp.data + 5, hp.len - 5);
    peer->socklen = sizeof(*sun);
    peer->name = mg_pstr(r->pool, hp.data, hp.len);
    peer->server = peer->name;
    peer->weight = 1;
    return peer;
}

/* An IP literal "a.b.c.d[:port]" or "[v6][:port]" as a peer. */
mg_upstream_peer_t *mg_upstream_literal_peer(mg_request_t *r, mg_str_t hp, in_port_t dflt,
                                             mg_str_t *port_text)
{
    char host[64];
    in_port_t port = dflt;
    const char *p = hp.data, *end = hp.data + hp.len, *colon = NULL;
    size_t hl;
    int v6 = 0;
    if (hp.len && p[0] == '[') {
        const char *rb = memchr(p, ']', hp.len);
        if (rb == NULL) {
            return NULL;
        }
        hl = (size_t)(rb - p - 1);
        if (hl >= sizeof(host)) {
            return NULL;
        }
        memcpy(host, p + 1, hl);
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        v6 = 1;
    } else {
        colon = memchr(p, ':', hp.len);
        hl = colon ? (size_t)(colon - p) : hp.len;
        if (hl >= sizeof(host)) {
            return NULL;
        }
        memcpy(host, p, hl);
    }
    host[hl] = '\0';
    if (colon) {
        int64_t n = mg_atoi(colon + 1, (size_t)(end - colon - 1));
        if (n < 1 || n > 65535) {
            return NULL;
        }
        port = (in_port_t)n;
        port_text->data = (char *)colon + 1;
        port_text->len = (size_t)(end - colon - 1);
    } else if (dflt == 0) {
        return NULL;
    } else {
        char *text = mg_psprintf(r->pool, "%u", (unsigned)dflt);
        port_text->data = text;
        port_text->len = strlen(text);
    }
    mg_upstream_peer_t *peer = mg_pcalloc(r->pool, sizeof(*peer));
    if (v6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&peer->sockaddr;
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
            return NULL;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        peer->socklen = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&peer->sockaddr;
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
            return NULL;
        }
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        peer->socklen = sizeof(*sin);
    }
    char *name = mg_psprintf(r->pool, v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
    peer->name.data = name;
    peer->name.len = strlen(name);
    peer->server = peer->name;
    peer->weight = 1;
    return peer;
}
