/*
 * proxy: nginx's proxy module on the upstream engine (core/http/upstream_io.c). proxy_pass
 * (http://host:port, http://upstream_name, with or without a URI part, with variables), the
 * request to the upstream (proxy_http_version, proxy_set_header with nginx's defaults and
 * inheritance, the client's headers without the hop-by-hop ones, the body), and the response
 * headers back (proxy_hide_header, proxy_pass_header, proxy_redirect).
 *
 * Request bodies are read whole into memory first (nginx's proxy_request_buffering on, without
 * a temporary file) and sent with a Content-Length, chunked ones included; with
 * proxy_request_buffering off they go on as they arrive (chunked ones chunked, which needs
 * proxy_http_version 1.1: with 1.0 they are buffered, as nginx does).
 */
#include <arpa/inet.h>
#include <sys/un.h>

#include "cache.h"
#include "parse.h"
#include "proxy_extra.h"
#include "proxy_ssl.h"
#include "script.h"
#include "upstream_io.h"
#include "upstream_resolve.h"
#include "variables.h"

mg_module_t mg_proxy_module;

typedef struct {
    mg_str_t key;
    mg_str_t lkey;                  /* lowercase */
    mg_http_complex_value_t value;  /* empty: the header is not sent */
    int body_length;                /* the default Content-Length: the body's, when one is sent */
    int constant; /* the value has no variables and no byte to escape: sent as it is */
} proxy_header_t;

typedef struct {
    mg_http_complex_value_t from;
    mg_regex_t *regex;              /* "~" / "~*" */
    mg_http_complex_value_t to;
} proxy_redirect_t;

enum { REDIRECT_UNSET = -1, REDIRECT_OFF = 0, REDIRECT_DEFAULT = 1, REDIRECT_LIST = 2 };

/* The client's fields a location does not pass: the hop-by-hop ones and those its
 * proxy_set_header lines (defaults included) set. Lowercase, by length: a client's name is
 * compared only with the names of its length, without being lowered. Names from 64 bytes are
 * never dropped (none of these is that long). */
#define DROP_MAXLEN 64
typedef struct {
    mg_str_t *names;
    uint16_t start[DROP_MAXLEN + 1]; /* the names of length L: [start[L], start[L + 1]) */
} proxy_drop_t;

typedef struct {
    mg_upstream_conf_t upstream;
    int set;                          /* proxy_pass given at this level (or inherited) */
    mg_upstream_group_t *group;
    mg_http_complex_value_t *url_cv;  /* proxy_pass with variables */
    mg_str_t url;                     /* as written */
    mg_str_t host_header;             /* $proxy_host */
    mg_str_t port_text;               /* $proxy_port */
    mg_str_t uri;                     /* the URI part */
    int has_uri;
    mg_str_t location;
    mg_array_t *headers_source;       /* proxy_header_t, this level's proxy_set_header */
    mg_array_t *headers;              /* merged with the defaults */
    proxy_header_t **sent; /* those of headers that may be sent: all but the constant "" ones */
    size_t nsent;
    proxy_drop_t *drop;
    mg_int_t http_version; /* 10, 11 */
    int redirect_mode;
    mg_array_t *redirects; /* proxy_redirect_t */
    mg_http_temp_path_t *temp_path;
    mg_http_complex_value_t *method;  /* proxy_method */
    mg_http_complex_value_t *body;    /* proxy_set_body */
    int https;                        /* proxy_pass https:// */
    mg_proxy_ssl_conf_t ssl;          /* proxy_ssl_* (proxy_ssl.c) */
} proxy_loc_conf_t;

typedef struct {
    mg_upstream_t u;
    int started;
    mg_str_t host;    /* $proxy_host */
    mg_str_t port;    /* $proxy_port */
    mg_str_t uri;     /* a variable proxy_pass's URI part */
    int has_uri;
    mg_str_t url;     /* the evaluated proxy_pass URL, for proxy_redirect default */
    mg_buf_t *head;   /* the request head, built once the body is read (or its reading began,
                         unbuffered), as nginx's: $request_body may be in it */
    size_t cl_at;     /* where the Content-Length line goes in it */
    int cl_slot;      /* ... when the default Content-Length is in force */
    mg_buf_t *set_body; /* proxy_set_body's value, sent instead of the client's body */
    mg_str_t resolve_host; /* a variable proxy_pass's host name, resolved before the start */
    in_port_t resolve_port;
    int https; /* a variable proxy_pass's URL is https:// */
} proxy_ctx_t;

mg_upstream_group_t *mg_proxy_loc_target(void *conf, mg_str_t *host, mg_msec_t *connect_timeout,
                                         mg_msec_t *read_timeout)
{
    proxy_loc_conf_t *plcf = conf;
    *host = plcf->host_header;
    *connect_timeout = plcf->upstream.connect_timeout;
    *read_timeout = plcf->upstream.read_timeout;
    return plcf->url_cv ? NULL : plcf->group;
}

mg_str_t mg_proxy_loc_check_headers(void *conf, mg_pool_t *pool, mg_str_t *host)
{
    proxy_loc_conf_t *plcf = conf;
    static const char *const own[] = {"connection", "content-length", "transfer-encoding",
                                      "te",         "keep-alive",     "expect",
                                      "upgrade"};
    if (plcf->headers == NULL) {
        return (mg_str_t)mg_null_string;
    }
    proxy_header_t *h = plcf->headers->elts;
    size_t len = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *out = pass ? mg_pnalloc(pool, len + 1) : NULL, *p = out;
        for (size_t i = 0; i < plcf->headers->nelts; i++) {
            int skip = 0;
            for (size_t k = 0; k < mg_nelems(own); k++) {
                skip |= mg_str_eq(h[i].lkey, own[k]);
            }
            if (skip) {
                continue; /* the check's own: HTTP/1.0, no body, "Connection: close" */
            }
            /* no request: the variables are empty, but $proxy_host, the default Host */
            mg_http_complex_value_t *cv = &h[i].value;
            int host_var = mg_str_eq(cv->value, "$proxy_host");
            size_t vlen = host_var ? plcf->host_header.len : cv->nparts ? 0 : cv->value.len;
            for (size_t k = 0; !host_var && k < cv->nparts; k++) {
                vlen +=
                    cv->parts[k].index < 0 && !cv->parts[k].capture ? cv->parts[k].literal.len : 0;
            }
            int is_host = mg_str_eq(h[i].lkey, "host");
            if (vlen == 0) {
                if (is_host && pass) {
                    host->len = 0;
                }
                continue; /* as the proxy: an empty value is not sent */
            }
            if (is_host && !host_var && pass) {
                /* the Host line is the check's: given the value */
                char *v = mg_pnalloc(pool, vlen);
                size_t n = 0;
                for (size_t k = 0; k < cv->nparts; k++) {
                    if (cv->parts[k].index < 0 && !cv->parts[k].capture) {
                        memcpy(v + n, cv->parts[k].literal.data, cv->parts[k].literal.len);
                        n += cv->parts[k].literal.len;
                    }
                }
                if (cv->nparts == 0) {
                    memcpy(v, cv->value.data, vlen);
                }
                *host = (mg_str_t){vlen, v};
            }
            if (is_host) {
                continue;
            }
            if (!pass) {
                len += h[i].key.len + 2 + vlen + 2;
                continue;
            }
            p = mempcpy(p, h[i].key.data, h[i].key.len);
            p = mempcpy(p, ": ", 2);
            if (cv->nparts == 0) {
                p = mempcpy(p, cv->value.data, cv->value.len);
            }
            for (size_t k = 0; k < cv->nparts; k++) {
                if (cv->parts[k].index < 0 && !cv->parts[k].capture) {
                    p = mempcpy(p, cv->parts[k].literal.data, cv->parts[k].literal.len);
                }
            }
            p = mempcpy(p, "\r\n", 2);
        }
        if (pass) {
            return (mg_str_t){(size_t)(p - out), out};
        }
    }
    return (mg_str_t)mg_null_string;
}

static mg_upstream_t *get_u(mg_request_t *r)
{
    proxy_ctx_t *ctx = mg_http_get_ctx(r, mg_proxy_module);
    return ctx && ctx->started ? &ctx->u : NULL;
}

/* ---- the URI sent upstream ---- */

static mg_str_t make_uri(mg_request_t *r, proxy_loc_conf_t *plcf, proxy_ctx_t *ctx)
{
    mg_str_t part = plcf->url_cv ? ctx->uri : plcf->uri;
    int has_uri = plcf->url_cv ? ctx->has_uri : plcf->has_uri;
    if (plcf->url_cv && has_uri && part.len) {
        return part; /* a variable proxy_pass with a URI: that URI as is */
    }
    if ((!has_uri || part.len == 0) && !r->internal && !r->args_changed) {
        return r->unparsed_uri; /* nothing replaced: the client's request target as sent */
    }
    size_t loc_len = 0;
    if (has_uri && part.len && !plcf->url_cv) {
        if (r->valid_location && r->uri.len >= plcf->location.len &&
            memcmp(r->uri.data, plcf->location.data, plcf->location.len) == 0) {
            loc_len = plcf->location.len;
        } else {
            /* the URI was changed in the location ("rewrite ... break", "break" after a
             * rewrite, ngx.req.set_uri without jump clear valid_location): nginx ignores the
             * URI part and sends the changed URI */
            part.len = 0;
        }
    }
    const char *rest = r->uri.data + loc_len;
    size_t rest_len = r->uri.len - loc_len;
    size_t len = part.len + mg_http_escape(rest, rest_len, NULL, MG_ESCAPE_URI) + 1 + r->args.len;
    char *p = mg_pnalloc(r->pool, len), *q = p;
    if (part.len) {
        memcpy(q, part.data, part.len);
        q += part.len;
    }
    q += mg_http_escape(rest, rest_len, q, MG_ESCAPE_URI);
    if (r->args.len) {
        *q++ = '?';
        memcpy(q, r->args.data, r->args.len);
        q += r->args.len;
    }
    mg_str_t s = { (size_t)(q - p), p };
    return s;
}

/* ---- proxy_pass with variables: the URL evaluated per request ---- */

/* How much of "unix:/path[:/uri]" (after the scheme) names the socket, or 0: not one. */
static size_t unix_host_len(mg_str_t rest)
{
    if (rest.len < 5 || mg_strncasecmp(rest.data, "unix:", 5) != 0) {
        return 0;
    }
    const char *colon = memchr(rest.data + 5, ':', rest.len - 5);
    return colon ? (size_t)(colon - rest.data) : rest.len;
}

static mg_int_t eval_url(mg_request_t *r, proxy_loc_conf_t *plcf, proxy_ctx_t *ctx)
{
    mg_str_t url;
    url = mg_http_complex_value(r, plcf->url_cv);
    size_t skip = 7;
    if (url.len >= 8 && mg_strncasecmp(url.data, "https://", 8) == 0) {
        ctx->https = 1;
        skip = 8;
    } else if (url.len < 7 || mg_strncasecmp(url.data, "http://", 7) != 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "invalid URL prefix in \"%.*s\"",
                     (int)url.len, url.data);
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    ctx->url = url;
    mg_str_t rest = {url.len - skip, url.data + skip};
    size_t i = unix_host_len(rest);
    int unix_sock = i > 0;
    while (!unix_sock && i < rest.len && rest.data[i] != '/' && rest.data[i] != '?') {
        i++;
    }
    mg_str_t hp = { i, rest.data };
    if (unix_sock && i < rest.len) {
        i++;
    }
    if (i < rest.len) {
        ctx->has_uri = 1;
        if (rest.data[i] == '?') {
            /* "http://h?x": the URI is "/?x", as nginx */
            char *u = mg_pnalloc(r->pool, rest.len - i + 1);
            u[0] = '/';
            memcpy(u + 1, rest.data + i, rest.len - i);
            ctx->uri.data = u;
            ctx->uri.len = rest.len - i + 1;
        } else {
            ctx->uri.data = rest.data + i;
            ctx->uri.len = rest.len - i;
        }
    }
    if (hp.len == 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "no host in upstream \"%.*s\"",
                     (int)url.len, url.data);
        return MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    ctx->host = hp;
    mg_upstream_group_t *g = mg_upstream_group_find(r, hp, ctx->https ? 443 : 80);
    if (g) {
        ctx->u.group = g;
        if (ctx->https) {
            mg_str_set(&ctx->port, "443");
        } else {
            mg_str_set(&ctx->port, "80");
        }
        return MG_OK;
    }
    mg_str_t port_text = mg_null_string;
    mg_upstream_peer_t *peer =
        unix_sock ? mg_upstream_unix_peer(r, hp)
                  : mg_upstream_literal_peer(r, hp, ctx->https ? 443 : 80, &port_text);
    if (unix_sock && peer) {
        ctx->u.single = peer;
        mg_str_set(&ctx->host, "localhost");
        ctx->port.len = 0;
        return MG_OK;
    }
    if (peer == NULL && (unix_sock || hp.data[0] == '[')) {
        /* a socket path too long, or a bracketed address that is not one */
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "no resolver defined to resolve %.*s",
                     (int)hp.len, hp.data);
        return MG_HTTP_BAD_GATEWAY;
    }
    if (peer == NULL) {
        /* a name: resolved once the body is read (proxy_start), as nginx */
        ctx->resolve_host = hp;
        ctx->resolve_port = ctx->https ? 443 : 80;
        if (ctx->https) {
            mg_str_set(&port_text, "443");
        } else {
            mg_str_set(&port_text, "80");
        }
        const char *colon = memchr(hp.data, ':', hp.len);
        if (colon) {
            ctx->resolve_host.len = (size_t)(colon - hp.data);
            port_text.data = (char *)colon + 1;
            port_text.len = (size_t)(hp.data + hp.len - colon - 1);
            int64_t n = mg_atoi(port_text.data, port_text.len);
            if (n < 1 || n > 65535) {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                             "invalid port in upstream \"%.*s\"", (int)url.len, url.data);
                return MG_HTTP_INTERNAL_SERVER_ERROR;
            }
            ctx->resolve_port = (in_port_t)n;
        }
    } else {
        ctx->u.single = peer;
    }
    ctx->port = port_text;
    if (mg_str_eq(port_text, ctx->https ? "443" : "80")) {
        const char *colon = hp.data[0] == '[' ? memchr(hp.data, ']', hp.len) : hp.data;
        colon = colon ? memchr(colon, ':', (size_t)(hp.data + hp.len - colon)) : NULL;
        if (colon) {
            ctx->host.len = (size_t)(colon - hp.data);
        }
    }
    return MG_OK;
}

/* ---- the request to the upstream ---- */

/* nginx's default proxy_set_header list: Trailer is not in it, so the client's goes on */
static const mg_str_t hop_names[] = {
    mg_string("connection"),        mg_string("keep-alive"), mg_string("te"),
    mg_string("transfer-encoding"), mg_string("upgrade"),    mg_string("expect"),
    mg_string("content-length"),    mg_string("host")};

/* Whether the client's field `key` is one the location drops (see proxy_drop_t) */
static int dropped(const proxy_drop_t *d, mg_str_t key)
{
    if (key.len >= DROP_MAXLEN) {
        return 0;
    }
    for (size_t i = d->start[key.len]; i < d->start[key.len + 1]; i++) {
        const char *n = d->names[i].data;
        size_t k = 0;
        while (k < key.len && mg_tolower((unsigned char)key.data[k]) == (unsigned char)n[k]) {
            k++;
        }
        if (k == key.len) {
            return 1;
        }
    }
    return 0;
}

/* The drop table of a merged header list h (proxy_header_t) */
static proxy_drop_t *drop_build(mg_conf_t *cf, mg_array_t *h)
{
    proxy_drop_t *d = mg_pcalloc(cf->pool, sizeof(*d));
    proxy_header_t *x = h->elts;
    size_t n = mg_nelems(hop_names) + h->nelts, k = 0;
    d->names = mg_palloc(cf->pool, n * sizeof(mg_str_t));
    for (size_t len = 0; len < DROP_MAXLEN; len++) {
        d->start[len] = (uint16_t)k;
        for (size_t i = 0; i < n; i++) {
            mg_str_t s = i < mg_nelems(hop_names) ? hop_names[i] : x[i - mg_nelems(hop_names)].lkey;
            if (s.len == len) {
                d->names[k++] = s;
            }
        }
    }
    d->start[DROP_MAXLEN] = (uint16_t)k;
    return d;
}

/* "KEY: VALUE\r\n" at p (room counted by the caller); memcpy, as printf's machinery cost a
 * sixth of a proxied request's instructions. The safe_* checks took NUL out already. */
static char *put_header(char *p, mg_str_t key, mg_str_t value)
{
    memcpy(p, key.data, key.len);
    p += key.len;
    *p++ = ':';
    *p++ = ' ';
    memcpy(p, value.data, value.len);
    p += value.len;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* The head is built before the body is read (the client's header lines live in the
 * connection buffer, which reading the body reuses); the Content-Length line is put in at
 * start_request, when the body's length is known. */
static mg_int_t create_request(mg_request_t *r, proxy_loc_conf_t *plcf, proxy_ctx_t *ctx)
{
    mg_upstream_t *u = &ctx->u;
    /* variables ($uri is decoded) and Lua (ngx.req.set_uri_args) may have put CR/LF here */
    mg_str_t uri = mg_http_safe_request_target(r, make_uri(r, plcf, ctx));
    u->uri = uri;
    mg_str_t method = r->method_name;
    if (r->cache && r->cache->u == u && r->cache->head_as_get) {
        mg_str_set(&method, "GET"); /* proxy_cache_convert_head: the entry needs the body */
    }
    if (plcf->method) {
        method = mg_http_complex_value(r, plcf->method);
    }
    if (!mg_http_is_token(method)) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "invalid proxy_method \"%.*s\"",
                     (int)method.len, method.data);
        return MG_ERROR;
    }
    u->head_method = mg_str_eq(method, "HEAD");
    /* the values first: their length decides the buffer (the headers set to a constant ""
     * are left out beforehand: most of the defaults, which drop a client's header) */
    size_t ns = plcf->nsent;
    proxy_header_t **sent = plcf->sent;
    mg_str_t *vals = mg_pcalloc(r->pool, (ns ? ns : 1) * sizeof(mg_str_t));
    size_t len = method.len + 1 + uri.len + sizeof(" HTTP/1.x\r\n") + 2;
    for (size_t i = 0; i < ns; i++) {
        proxy_header_t *s = sent[i];
        if (s->body_length) {
            continue;
        }
        if (s->constant) {
            vals[i] = s->value.value;
        } else {
            vals[i] = mg_http_complex_value(r, &s->value);
            vals[i] = mg_http_safe_header_value(r, s->key, vals[i]);
        }
        len += s->key.len + 2 + vals[i].len + 2;
        if (s->lkey.len == 7 && memcmp(s->lkey.data, "upgrade", 7) == 0 && vals[i].len &&
            mg_http_find_header_in(r, "upgrade", 7)) {
            u->upgrade = 1;
        }
    }
    mg_table_elt_t *h = r->headers_in.headers.elts;
    /* a Range past proxy_cache_max_range_offset goes upstream (cache.c's lookup) */
    mg_http_cache_req_t *creq = r->cache;
    int cached = (plcf->upstream.cache.zone || plcf->upstream.cache.zone_cv) &&
                 !(creq && creq->range_passed);
    if (plcf->upstream.pass_request_headers) {
        for (size_t i = 0; i < r->headers_in.headers.nelts; i++) {
            /* a client's lines are clean as parsed; those set since (more_set_input_headers
             * with $uri) may not be */
            if (h[i].hash != MG_HTTP_FIELD_PARSED) {
                h[i].key = mg_http_safe_header_name(r, h[i].key);
                h[i].value = mg_http_safe_header_value(r, h[i].key, h[i].value);
            }
            len += h[i].key.len + 2 + h[i].value.len + 2;
        }
    }
    mg_str_t ims = mg_null_string, inm = mg_null_string;
    if (cached) {
        /* proxy_cache_revalidate: the expired entry's validators */
        mg_http_cache_conditions(r, &ims, &inm);
        len +=
            sizeof("If-Modified-Since: \r\n") + ims.len + sizeof("If-None-Match: \r\n") + inm.len;
    }
    char *buf = mg_pnalloc(r->pool, len), *p = buf;
    memcpy(p, method.data, method.len);
    p += method.len;
    *p++ = ' ';
    memcpy(p, uri.data, uri.len);
    p += uri.len;
    memcpy(p, plcf->http_version == 11 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", 11);
    p += 11;
    for (size_t i = 0; i < ns; i++) {
        if (sent[i]->body_length) {
            ctx->cl_at = (size_t)(p - buf);
            ctx->cl_slot = 1;
            continue;
        }
        if (vals[i].len == 0) {
            continue;
        }
        p = put_header(p, sent[i]->key, vals[i]);
    }
    if (plcf->upstream.pass_request_headers) {
        for (size_t i = 0; i < r->headers_in.headers.nelts; i++) {
            if (dropped(plcf->drop, h[i].key) || (cached && mg_http_cache_drops_header(h[i].key))) {
                continue;
            }
            p = put_header(p, h[i].key, h[i].value);
        }
    }
    if (ims.len) {
        p = put_header(p, (mg_str_t)mg_string("If-Modified-Since"), ims);
    }
    if (inm.len) {
        p = put_header(p, (mg_str_t)mg_string("If-None-Match"), inm);
    }
    *p++ = '\r';
    *p++ = '\n';
    ctx->head = mg_buf_mem(r->pool, buf, (size_t)(p - buf));
    return MG_OK;
}

/* ---- the response headers ---- */

static mg_str_t rewrite_location(mg_request_t *r, proxy_loc_conf_t *plcf, proxy_ctx_t *ctx, mg_str_t v)
{
    if (plcf->redirect_mode == REDIRECT_OFF) {
        return v;
    }
    if (plcf->redirect_mode == REDIRECT_DEFAULT) {
        mg_str_t from = plcf->url_cv ? ctx->url : plcf->url;
        int add_slash = !(plcf->url_cv ? ctx->has_uri : plcf->has_uri);
        /* nginx's default: "URL LOCATION" when proxy_pass has a URI, else "URL/ /" */
        mg_str_t to = add_slash ? (mg_str_t)mg_string("/") : plcf->location;
        size_t fl = from.len + (size_t)add_slash;
        if (to.len == 0 || v.len < fl || mg_strncasecmp(v.data, from.data, from.len) != 0 ||
            (add_slash && v.data[from.len] != '/')) {
            return v;
        }
        char *p = mg_pnalloc(r->pool, to.len + v.len - fl);
        memcpy(p, to.data, to.len);
        memcpy(p + to.len, v.data + fl, v.len - fl);
        mg_str_t out = { to.len + v.len - fl, p };
        return out;
    }
    proxy_redirect_t *pr = plcf->redirects->elts;
    for (size_t i = 0; i < plcf->redirects->nelts; i++) {
        mg_str_t from, to;
        if (pr[i].regex) {
            if (mg_http_regex_exec(r, pr[i].regex, v) != MG_OK) {
                continue;
            }
            to = mg_http_complex_value(r, &pr[i].to);
            return to; /* the whole value is replaced, as nginx */
        }
        from = mg_http_complex_value(r, &pr[i].from);
        if (v.len < from.len || mg_strncasecmp(v.data, from.data, from.len) != 0) {
            continue;
        }
        to = mg_http_complex_value(r, &pr[i].to);
        char *p = mg_pnalloc(r->pool, to.len + v.len - from.len);
        memcpy(p, to.data, to.len);
        memcpy(p + to.len, v.data + from.len, v.len - from.len);
        mg_str_t out = { to.len + v.len - from.len, p };
        return out;
    }
    return v;
}

static mg_str_t rewrite_redirect(mg_upstream_t *u, mg_str_t v)
{
    proxy_loc_conf_t *plcf = mg_http_get_loc_conf(u->r, mg_proxy_module);
    return rewrite_location(u->r, plcf, (proxy_ctx_t *)u, v);
}

/* nginx's default-hidden lines: proxy_pass_header shows them */
static mg_int_t process_header(mg_upstream_t *u)
{
    return mg_upstream_copy_headers(u, MG_UPSTREAM_HIDE_DATE_SERVER | MG_UPSTREAM_HIDE_X_PAD |
                                           MG_UPSTREAM_HIDE_ACCEL);
}

/* ---- the handler ---- */

static void proxy_start(mg_request_t *r);
static void assemble(mg_request_t *r, proxy_loc_conf_t *plcf, proxy_ctx_t *ctx);

static void proxy_resolved(mg_request_t *r, mg_upstream_group_t *g)
{
    proxy_ctx_t *ctx = mg_http_get_ctx(r, mg_proxy_module);
    ctx->u.group = g;
    ctx->resolve_host.len = 0;
    proxy_start(r);
}

static void proxy_start(mg_request_t *r)
{
    proxy_ctx_t *ctx = mg_http_get_ctx(r, mg_proxy_module);
    proxy_loc_conf_t *plcf = mg_http_get_loc_conf(r, mg_proxy_module);
    if (mg_http_cache_after_body(r, &ctx->u, 1)) {
        return;
    }
    if (ctx->resolve_host.len) {
        mg_int_t rc = mg_upstream_resolve(r, ctx->resolve_host, ctx->resolve_port, proxy_resolved);
        if (rc != MG_DONE) {
            mg_http_finalize_request(r, rc);
        }
        return;
    }
    if (ctx->head == NULL) {
        if (create_request(r, plcf, ctx) != MG_OK) {
            mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        if (plcf->body) {
            /* proxy_set_body: its value is the body; the client's is not wanted */
            mg_str_t v = mg_http_complex_value(r, plcf->body);
            ctx->set_body = mg_buf_mem(r->pool, v.data, v.len);
        }
    }
    assemble(r, plcf, ctx);
    ctx->started = 1;
    mg_upstream_start(&ctx->u);
}

/* balancer_by_lua's recreate_request: the head made again (variables, Lua's changes) */
static mg_int_t recreate(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    proxy_loc_conf_t *plcf = mg_http_get_loc_conf(r, mg_proxy_module);
    proxy_ctx_t *ctx = (proxy_ctx_t *)u;
    if (create_request(r, plcf, ctx) != MG_OK) {
        return MG_ERROR;
    }
    assemble(r, plcf, ctx);
    return MG_OK;
}

/* u->request_bufs: the head with its Content-Length line, then the body */
static void assemble(mg_request_t *r, proxy_loc_conf_t *plcf, proxy_ctx_t *ctx)
{
    mg_upstream_t *u = &ctx->u;
    int64_t body_len = -1;
    mg_buf_t *body = r->request_body ? r->request_body->bufs : NULL;
    int te_chunked = 0;
    if (ctx->set_body) {
        body = ctx->set_body;
        body_len = (int64_t)(body->last - body->pos);
    } else if (r->request_body_no_buffering) {
        /* the stream is the chain's last link; the engine sends it as it fills */
        body = r->request_body->stream;
        te_chunked = r->headers_in.chunked;
        body_len = te_chunked ? 0 : r->headers_in.content_length_n;
    } else if (plcf->upstream.pass_request_body && r->request_body &&
               (r->headers_in.content_length_n >= 0 || r->headers_in.chunked)) {
        body_len = (int64_t)r->request_body->received;
    } else if (r->headers_in.content_length_n == 0 ||
               (!plcf->upstream.pass_request_body && r->headers_in.content_length_n > 0)) {
        /* as nginx: the client's length goes on, "Content-Length: 0" for an empty body, and
         * without the body when it is not passed (configurations say proxy_set_header
         * Content-Length "") */
        body_len = r->headers_in.content_length_n;
    }
    int send_body = ctx->set_body ? body_len > 0
                                  : (body_len > 0 || te_chunked) &&
                                        plcf->upstream.pass_request_body && r->request_body;
    mg_buf_t *head = ctx->head;
    if (!ctx->cl_slot) {
        /* proxy_set_header Content-Length given: the body still goes */
        if (send_body) {
            head->next = body;
        }
    } else if (body_len >= 0) {
        /* head = [..cl_at) "Content-Length: N" [cl_at..) */
        mg_buf_t *rest = mg_buf_mem(r->pool, head->pos + ctx->cl_at, (size_t)(head->last - head->pos) - ctx->cl_at);
        mg_buf_t *cl;
        if (te_chunked) {
            cl = mg_buf_mem(r->pool, "Transfer-Encoding: chunked\r\n",
                            sizeof("Transfer-Encoding: chunked\r\n") - 1);
        } else {
            /* (each request with a body: no printf) */
            char *line = mg_pnalloc(r->pool, sizeof("Content-Length: \r\n") + 20), *e = line;
            memcpy(e, "Content-Length: ", sizeof("Content-Length: ") - 1);
            e = mg_put_uint(e + sizeof("Content-Length: ") - 1, (uint64_t)body_len);
            *e++ = '\r';
            *e++ = '\n';
            cl = mg_buf_mem(r->pool, line, (size_t)(e - line));
        }
        head = mg_buf_mem(r->pool, head->pos, ctx->cl_at);
        head->next = cl;
        cl->next = rest;
        if (send_body) {
            rest->next = body;
        }
    }
    u->request_bufs = head;
}

static mg_int_t proxy_handler(mg_request_t *r)
{
    proxy_loc_conf_t *plcf = mg_http_get_loc_conf(r, mg_proxy_module);
    if (!plcf->set) {
        return MG_DECLINED;
    }
    proxy_ctx_t *ctx = mg_pcalloc(r->pool, sizeof(proxy_ctx_t));
    mg_http_set_ctx(r, ctx, mg_proxy_module);
    mg_upstream_t *u = &ctx->u;
    u->r = r;
    u->conf = &plcf->upstream;
    u->process_header = process_header;
    u->rewrite_redirect = rewrite_redirect;
    u->recreate_request = recreate;
    mg_str_set(&u->schema, "http://");
    if (plcf->url_cv) {
        mg_int_t rc = eval_url(r, plcf, ctx);
        if (rc != MG_OK) {
            return rc;
        }
    } else {
        u->group = plcf->group;
        ctx->host = plcf->host_header;
        ctx->port = plcf->port_text;
        ctx->https = plcf->https;
    }
    if (ctx->https) {
        mg_str_set(&u->schema, "https://");
        mg_proxy_ssl_setup(r, u, &plcf->ssl, ctx->host);
    }
    mg_proxy_extra_setup(r, u);
    int has_body = r->headers_in.content_length_n >= 0 || r->headers_in.chunked;
    /* as nginx: a chunked body is sent on chunked only with HTTP/1.1, else buffered */
    int unbuffered = has_body && !plcf->body && plcf->upstream.pass_request_body &&
                     !plcf->upstream.request_buffering &&
                     (!r->headers_in.chunked || plcf->http_version == 11);
    mg_int_t crc;
    if (mg_http_cache_before_body(r, u, 1, unbuffered, &crc) == MG_DONE) {
        return crc; /* answered from the cache */
    }
    if (has_body) {
        /* an empty body too: client_body_in_file_only gives it its (empty) file; and one
         * not sent (proxy_pass_request_body off, proxy_set_body), as nginx reads it */
        r->request_body_no_buffering = unbuffered;
        mg_int_t rc = mg_http_read_client_request_body(r, proxy_start);
        return rc >= MG_HTTP_SPECIAL_RESPONSE ? rc : MG_DONE;
    }
    mg_int_t rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    proxy_start(r);
    return MG_DONE;
}

/* ---- variables ---- */

static mg_int_t var_proxy(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    proxy_ctx_t *ctx = mg_http_get_ctx(r, mg_proxy_module);
    if (ctx == NULL) {
        v->not_found = 1;
        return MG_OK;
    }
    v->value = data ? ctx->port : ctx->host;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return MG_OK;
}

static mg_int_t var_xff(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    const char *addr = r->connection->addr_text;
    size_t al = strlen(addr), len = al;
    mg_table_elt_t *h = r->headers_in.headers.elts;
    for (size_t i = 0; i < r->headers_in.headers.nelts; i++) {
        if (mg_str_caseeq(h[i].key, "x-forwarded-for")) {
            len += h[i].value.len + 2;
        }
    }
    char *p = mg_pnalloc(r->pool, len + 1), *q = p;
    for (size_t i = 0; i < r->headers_in.headers.nelts; i++) {
        if (mg_str_caseeq(h[i].key, "x-forwarded-for")) {
            memcpy(q, h[i].value.data, h[i].value.len);
            q += h[i].value.len;
            *q++ = ',';
            *q++ = ' ';
        }
    }
    memcpy(q, addr, al);
    q += al;
    v->value.data = p;
    v->value.len = (size_t)(q - p);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return MG_OK;
}

/* ---- configuration ---- */

static void *proxy_create_loc_conf(mg_conf_t *cf)
{
    proxy_loc_conf_t *c = mg_pcalloc(cf->pool, sizeof(*c));
    mg_upstream_conf_init(&c->upstream);
    c->http_version = MG_CONF_UNSET;
    c->redirect_mode = REDIRECT_UNSET;
    mg_proxy_ssl_create_conf(&c->ssl);
    return c;
}

static mg_int_t add_header(mg_conf_t *cf, mg_array_t *a, const char *key, const char *value)
{
    proxy_header_t *h = mg_array_push(a);
    h->key.data = (char *)key;
    h->key.len = strlen(key);
    h->lkey.data = mg_pnalloc(cf->pool, h->key.len);
    mg_strlow(h->lkey.data, key, h->key.len);
    h->lkey.len = h->key.len;
    mg_str_t v = { strlen(value), (char *)value };
    return mg_http_compile_complex_value(cf, v, &h->value);
}

static const char *proxy_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    proxy_loc_conf_t *prev = parent, *conf = child;
    if (mg_upstream_conf_merge(cf, &conf->upstream, &prev->upstream, "proxy") != MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    mg_conf_merge(conf->http_version, prev->http_version, 10);
    if (mg_http_merge_temp_path(cf, &conf->temp_path, prev->temp_path, "proxy_temp") != MG_OK) {
        return MG_CONF_ERROR;
    }
    conf->upstream.temp_path = conf->temp_path;
    if (conf->method == NULL) {
        conf->method = prev->method;
    }
    if (conf->body == NULL) {
        conf->body = prev->body;
    }
    if (conf->redirect_mode == REDIRECT_UNSET) {
        conf->redirect_mode = prev->redirect_mode == REDIRECT_UNSET ? REDIRECT_DEFAULT : prev->redirect_mode;
        conf->redirects = prev->redirects;
    }
    /* proxy_pass itself: an "if" block (and a nested location, harmlessly: its content
     * handler is its own) sees the enclosing location's */
    if (!conf->set && prev->set) {
        conf->set = 1;
        conf->group = prev->group;
        conf->url_cv = prev->url_cv;
        conf->url = prev->url;
        conf->host_header = prev->host_header;
        conf->port_text = prev->port_text;
        conf->uri = prev->uri;
        conf->has_uri = prev->has_uri;
        conf->location = prev->location;
        conf->https = prev->https;
    }
    if (mg_proxy_ssl_merge_conf(cf, &conf->ssl, &prev->ssl,
                                conf->set && (conf->https || conf->url_cv),
                                "proxy") != MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    if (conf->redirect_mode == REDIRECT_DEFAULT && conf->url_cv && conf->redirects == NULL &&
        prev->redirect_mode != REDIRECT_DEFAULT) {
        /* nginx refuses "proxy_redirect default" with variables; as a default it is off */
    }
    /* proxy_set_header: a level with its own drops the parent's, as nginx */
    if (conf->headers_source == NULL) {
        conf->headers_source = prev->headers_source;
    }
    if (conf->headers_source == prev->headers_source && prev->headers) {
        conf->headers = prev->headers;
        conf->sent = prev->sent;
        conf->nsent = prev->nsent;
        conf->drop = prev->drop;
        return MG_CONF_OK;
    }
    mg_array_t *h = mg_array_create(cf->pool, 8, sizeof(proxy_header_t));
    static const char *const defaults[][2] = {
        { "Host", "$proxy_host" }, { "Connection", "close" }, { "Content-Length", "" },
        { "Transfer-Encoding", "" }, { "TE", "" }, { "Keep-Alive", "" }, { "Expect", "" },
        { "Upgrade", "" },
    };
    if (conf->headers_source) {
        proxy_header_t *src = conf->headers_source->elts;
        for (size_t i = 0; i < conf->headers_source->nelts; i++) {
            *(proxy_header_t *)mg_array_push(h) = src[i];
        }
    }
    for (size_t d = 0; d < mg_nelems(defaults); d++) {
        int user = 0;
        proxy_header_t *x = h->elts;
        size_t n = conf->headers_source ? conf->headers_source->nelts : 0;
        for (size_t i = 0; i < n; i++) {
            if (mg_str_caseeq(x[i].key, defaults[d][0])) {
                user = 1;
            }
        }
        if (!user) {
            if (add_header(cf, h, defaults[d][0], defaults[d][1]) != MG_OK) {
                return MG_CONF_ERROR;
            }
            proxy_header_t *added = (proxy_header_t *)h->elts + h->nelts - 1;
            added->body_length = d == 2;
        }
    }
    proxy_header_t *x = h->elts;
    conf->sent = mg_palloc(cf->pool, h->nelts * sizeof(proxy_header_t *));
    conf->nsent = 0;
    for (size_t i = 0; i < h->nelts; i++) {
        mg_str_t v = x[i].value.value;
        x[i].constant =
            x[i].value.nparts == 0 && (v.len == 0 || (memchr(v.data, '\r', v.len) == NULL &&
                                                      memchr(v.data, '\n', v.len) == NULL &&
                                                      memchr(v.data, '\0', v.len) == NULL));
        if (!x[i].constant || v.len || x[i].body_length) {
            conf->sent[conf->nsent++] = &x[i];
        }
    }
    conf->headers = h;
    conf->drop = drop_build(cf, h);
    return MG_CONF_OK;
}

static const char *proxy_pass(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    proxy_loc_conf_t *plcf = conf;
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    if (plcf->url.data) {
        return "is duplicate";
    }
    mg_str_t url = cf->args[1];
    plcf->url = url;
    plcf->set = 1;
    clcf->handler = proxy_handler;
    if (clcf->name.len && clcf->name.data[clcf->name.len - 1] == '/' && !clcf->regex && !clcf->named) {
        clcf->auto_redirect = 1;
    }
    if (mg_http_script_variables_count(url)) {
        plcf->url_cv = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
        if (mg_http_compile_complex_value(cf, url, plcf->url_cv) != MG_OK) {
            return MG_CONF_ERROR;
        }
        return MG_CONF_OK;
    }
    size_t skip = 7;
    if (url.len >= 8 && mg_strncasecmp(url.data, "https://", 8) == 0) {
        plcf->https = 1;
        skip = 8;
    } else if (url.len < 7 || mg_strncasecmp(url.data, "http://", 7) != 0) {
        mg_conf_error(cf, 0,
                      "invalid URL prefix"); /* nginx names no URL here (at run time it does) */
        return MG_CONF_ERROR;
    }
    mg_str_t rest = {url.len - skip, url.data + skip};
    size_t i = unix_host_len(rest);
    int unix_sock = i > 0;
    while (!unix_sock && i < rest.len && rest.data[i] != '/') {
        i++;
    }
    mg_str_t hp = { i, rest.data };
    if (unix_sock && i < rest.len) {
        i++; /* "unix:/path:/uri": the colon ends the path */
    }
    if (i < rest.len) {
        plcf->has_uri = 1;
        plcf->uri.data = rest.data + i;
        plcf->uri.len = rest.len - i;
        if (clcf->regex || clcf->named || clcf->is_if || clcf->lmt_except) {
            mg_conf_error(cf, 0, "\"proxy_pass\" cannot have URI part in location given by regular "
                                 "expression, or inside named location, or inside \"if\" statement, "
                                 "or inside \"limit_except\" block");
            return MG_CONF_ERROR;
        }
    }
    if (!clcf->regex && !clcf->named) {
        plcf->location = clcf->name;
    }
    if (hp.len == 0) {
        mg_conf_error(cf, 0, "no host in upstream \"%.*s\"", (int)url.len, url.data);
        return MG_CONF_ERROR;
    }
    plcf->group = mg_upstream_group_ref(cf, hp, plcf->https ? 443 : 80);
    if (plcf->group == NULL) {
        return MG_CONF_ERROR;
    }
    if (unix_sock) {
        /* as nginx: Host "localhost", an empty $proxy_port */
        mg_str_set(&plcf->host_header, "localhost");
        plcf->port_text.len = 0;
        return MG_CONF_OK;
    }
    /* $proxy_host: the host without ":80" (":443" for https); $proxy_port */
    const char *colon = NULL;
    if (hp.data[0] == '[') {
        const char *rb = memchr(hp.data, ']', hp.len);
        if (rb && rb + 1 < hp.data + hp.len && rb[1] == ':') {
            colon = rb + 1;
        }
    } else {
        colon = memchr(hp.data, ':', hp.len);
    }
    plcf->host_header = hp;
    if (colon) {
        plcf->port_text.data = (char *)colon + 1;
        plcf->port_text.len = (size_t)(hp.data + hp.len - colon - 1);
        if (mg_str_eq(plcf->port_text, plcf->https ? "443" : "80")) {
            plcf->host_header.len = (size_t)(colon - hp.data);
        }
    } else if (plcf->https) {
        mg_str_set(&plcf->port_text, "443");
    } else {
        mg_str_set(&plcf->port_text, "80");
    }
    return MG_CONF_OK;
}

static const char *proxy_set_header(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    proxy_loc_conf_t *plcf = conf;
    if (plcf->headers_source == NULL) {
        plcf->headers_source = mg_array_create(cf->pool, 4, sizeof(proxy_header_t));
    }
    proxy_header_t *h = mg_array_push(plcf->headers_source);
    h->key = cf->args[1];
    h->lkey.data = mg_pnalloc(cf->pool, h->key.len);
    h->lkey.len = h->key.len;
    mg_strlow(h->lkey.data, h->key.data, h->key.len);
    if (mg_http_compile_complex_value(cf, cf->args[2], &h->value) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

/* proxy_method, proxy_set_body: one value, variables allowed */
static const char *proxy_complex(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_http_complex_value_t **cv = (mg_http_complex_value_t **)((char *)conf + cmd->offset);
    if (*cv) {
        return "is duplicate";
    }
    *cv = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
    if (mg_http_compile_complex_value(cf, cf->args[1], *cv) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const char *proxy_http_version(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    proxy_loc_conf_t *plcf = conf;
    if (plcf->http_version != MG_CONF_UNSET) {
        return "is duplicate";
    }
    if (mg_str_caseeq(cf->args[1], "1.0")) {
        plcf->http_version = 10;
    } else if (mg_str_caseeq(cf->args[1], "1.1")) {
        plcf->http_version = 11;
    } else {
        mg_conf_error(cf, 0, "invalid value \"%.*s\" in \"%.*s\" directive, it must be \"1.0\" or \"1.1\"",
                      (int)cf->args[1].len, cf->args[1].data, (int)cf->args[0].len, cf->args[0].data);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const char *proxy_redirect(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    proxy_loc_conf_t *plcf = conf;
    if (cf->nargs == 2) {
        if (mg_str_caseeq(cf->args[1], "off")) {
            if (plcf->redirect_mode == REDIRECT_LIST) {
                return "is duplicate";
            }
            plcf->redirect_mode = REDIRECT_OFF;
            plcf->redirects = NULL;
            return MG_CONF_OK;
        }
        if (mg_str_caseeq(cf->args[1], "false")) {
            return MG_CONF_OK;
        }
        if (!mg_str_caseeq(cf->args[1], "default")) {
            mg_conf_error(cf, 0, "invalid parameter \"%.*s\"", (int)cf->args[1].len, cf->args[1].data);
            return MG_CONF_ERROR;
        }
        if (plcf->url_cv) {
            mg_conf_error(cf, 0, "\"proxy_redirect default\" cannot be used with \"proxy_pass\" directive with variables");
            return MG_CONF_ERROR;
        }
        if (!plcf->set) {
            mg_conf_error(cf, 0, "\"proxy_redirect default\" should be placed after the \"proxy_pass\" directive");
            return MG_CONF_ERROR;
        }
        if (plcf->redirect_mode == REDIRECT_UNSET) {
            plcf->redirect_mode = REDIRECT_DEFAULT;
            return MG_CONF_OK;
        }
    }
    if (cf->nargs != 3) {
        mg_conf_error(cf, 0, "invalid number of arguments in \"proxy_redirect\" directive");
        return MG_CONF_ERROR;
    }
    if (plcf->redirect_mode == REDIRECT_OFF) {
        return "is duplicate";
    }
    if (plcf->redirect_mode != REDIRECT_LIST) {
        plcf->redirect_mode = REDIRECT_LIST;
        plcf->redirects = mg_array_create(cf->pool, 2, sizeof(proxy_redirect_t));
    }
    proxy_redirect_t *pr = mg_array_push(plcf->redirects);
    memset(pr, 0, sizeof(*pr));
    mg_str_t from = cf->args[1];
    if (from.len > 1 && from.data[0] == '~') {
        int caseless = from.len > 2 && from.data[1] == '*';
        mg_str_t pat = { from.len - 1 - (size_t)caseless, from.data + 1 + caseless };
        pr->regex = mg_http_regex_compile(cf, pat, caseless);
        if (pr->regex == NULL) {
            return MG_CONF_ERROR;
        }
        if (mg_http_compile_complex_value(cf, cf->args[2], &pr->to) != MG_OK) {
            return MG_CONF_ERROR;
        }
        return MG_CONF_OK;
    }
    if (mg_http_compile_complex_value(cf, cf->args[1], &pr->from) != MG_OK ||
        mg_http_compile_complex_value(cf, cf->args[2], &pr->to) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const char *proxy_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    if (mg_upstream_add_variables(cf, get_u) != MG_OK) {
        return MG_CONF_ERROR;
    }
    static const struct {
        const char *name;
        mg_http_get_variable_pt get;
        uintptr_t data;
    } vars[] = {
        { "proxy_host", var_proxy, 0 },
        { "proxy_port", var_proxy, 1 },
        { "proxy_add_x_forwarded_for", var_xff, 0 },
    };
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_str_t name = { strlen(vars[i].name), (char *)vars[i].name };
        mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = vars[i].get;
        v->data = vars[i].data;
    }
    return MG_CONF_OK;
}

static void *proxy_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(int));
}

#define LOC MG_HTTP_ANY_LOC

static const mg_command_t proxy_commands[] = {
    {"proxy_pass", MG_CTX_LOCATION | MG_CTX_LIF | MG_CTX_LMT, MG_ARGS(1, 1), proxy_pass,
     MG_LOC_CONF, 0, NULL},
    {"proxy_set_header", LOC, MG_ARGS(2, 2), proxy_set_header, MG_LOC_CONF, 0, NULL},
    {"proxy_http_version", LOC, MG_ARGS(1, 1), proxy_http_version, MG_LOC_CONF, 0, NULL},
    MG_UPSTREAM_COMMANDS_BASE("proxy", offsetof(proxy_loc_conf_t, upstream)),
    MG_UPSTREAM_COMMANDS_BUFFERED("proxy", offsetof(proxy_loc_conf_t, upstream)),
    MG_UPSTREAM_COMMAND_SEND_LOWAT("proxy", offsetof(proxy_loc_conf_t, upstream)),
    MG_HTTP_CACHE_COMMANDS("proxy", offsetof(proxy_loc_conf_t, upstream) +
                                        offsetof(mg_upstream_conf_t, cache)),
    /* nginx has it for the proxy only: the CGI protocols send the client's method */
    {"proxy_cache_convert_head", MG_HTTP_ANY_LOC, MG_FLAG, mg_http_cache_set_flag, MG_LOC_CONF,
     offsetof(proxy_loc_conf_t, upstream) + offsetof(mg_upstream_conf_t, cache) +
         offsetof(mg_http_cache_conf_t, convert_head),
     NULL},
    {"proxy_redirect", LOC, MG_ARGS(1, 2), proxy_redirect, MG_LOC_CONF, 0, NULL},
    {"proxy_method", LOC, MG_ARGS(1, 1), proxy_complex, MG_LOC_CONF,
     offsetof(proxy_loc_conf_t, method), NULL},
    {"proxy_set_body", LOC, MG_ARGS(1, 1), proxy_complex, MG_LOC_CONF,
     offsetof(proxy_loc_conf_t, body), NULL},
    {"proxy_temp_path", LOC, MG_ARGS(1, 4), mg_http_set_temp_path, MG_LOC_CONF,
     offsetof(proxy_loc_conf_t, temp_path), NULL},
    MG_PROXY_SSL_COMMANDS("proxy", offsetof(proxy_loc_conf_t, ssl)),
    {"proxy_headers_hash_max_size", LOC, MG_ARGS(1, 1), mg_conf_set_ignored, MG_NO_CONF, 0, NULL},
    {"proxy_headers_hash_bucket_size", LOC, MG_ARGS(1, 1), mg_conf_set_ignored, MG_NO_CONF, 0,
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t proxy_defaults[] = {
    {"proxy_set_header", "Host $proxy_host; Connection close;"},
    {"proxy_http_version", "1.0"},
    {"proxy_next_upstream", "error timeout"},
    {"proxy_buffers", "8 4k|8k"},
    {"proxy_busy_buffers_size", "8k|16k"},
    {"proxy_temp_file_write_size", "8k|16k"},
    {"proxy_cache", "off"},
    {"proxy_cache_key", "$scheme$proxy_host$request_uri"},
    {"proxy_cache_methods", "GET HEAD"},
    {"proxy_cache_min_uses", "1"},
    {"proxy_cache_use_stale", "off"},
    {"proxy_cache_background_update", "off"},
    {"proxy_cache_lock", "off"},
    {"proxy_cache_revalidate", "off"},
    {"proxy_cache_convert_head", "on"},
    {"proxy_redirect", "default"},
    {"proxy_temp_path", "proxy_temp"},
    {"proxy_ssl_name", "$proxy_host"},
    {"proxy_ssl_protocols", "TLSv1 TLSv1.1 TLSv1.2"},
    {"proxy_headers_hash_max_size", "512"},
    {"proxy_headers_hash_bucket_size", "64"},
    {"proxy_send_lowat", "0"},
    {"proxy_pass", MG_NO_DEFAULT},
    {"proxy_bind", MG_NO_DEFAULT},
    {"proxy_hide_header", MG_NO_DEFAULT},
    {"proxy_pass_header", MG_NO_DEFAULT},
    {"proxy_ignore_headers", MG_NO_DEFAULT},
    {"proxy_cache_path", MG_NO_DEFAULT},
    {"proxy_cache_valid", MG_NO_DEFAULT},
    {"proxy_cache_bypass", MG_NO_DEFAULT},
    {"proxy_no_cache", MG_NO_DEFAULT},
    {"proxy_method", MG_NO_DEFAULT},
    {"proxy_set_body", MG_NO_DEFAULT},
    {"proxy_ssl_password_file", MG_NO_DEFAULT},
    {"proxy_ssl_conf_command", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_proxy_module = {
    .name = "proxy",
    .commands = proxy_commands,
    .defaults = proxy_defaults,
    .create_main_conf = proxy_create_main_conf,
    .init_main_conf = proxy_init_main_conf,
    .create_loc_conf = proxy_create_loc_conf,
    .merge_loc_conf = proxy_merge_loc_conf,
};
