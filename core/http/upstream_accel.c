/*
 * The upstream's X-Accel-* response headers, acted on before its head becomes the response's
 * (nginx's upstream module; each can be turned off by proxy_ignore_headers, and all are hidden
 * from the client by default, proxy.c's business): X-Accel-Limit-Rate sets the request's rate,
 * X-Accel-Charset the charset filter's target, and X-Accel-Redirect drops the upstream's
 * response for an internal redirect to a URI (method GET unless HEAD, the header's own args)
 * or a named location (method and args kept); a cache HIT's stored head goes through here too
 * (cache.c). X-Accel-Expires only matters to a cache (cache.c reads it); X-Accel-Buffering
 * belongs to the body's spooling.
 */
#include "parse.h"
#include "scan.h"
#include "upstream_int.h"

/* The first X-Accel-Limit-Rate, X-Accel-Charset and X-Accel-Redirect lines, in one pass over
 * the head (most have none: a length test a line, where three searches cost ~170 instructions
 * a proxied response) */
static void find_accel(mg_upstream_t *u, mg_http_header_t **rate, mg_http_header_t **charset,
                       mg_http_header_t **redirect)
{
    *rate = *charset = *redirect = NULL;
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        size_t len = h->name.len;
        mg_http_header_t **slot = len == 18   ? rate
                                  : len == 15 ? charset
                                  : len == 16 ? redirect
                                              : NULL;
        if (slot == NULL || *slot != NULL || (h->name.data[0] | 0x20) != 'x') {
            continue;
        }
        const char *name = len == 18   ? "x-accel-limit-rate"
                           : len == 15 ? "x-accel-charset"
                                       : "x-accel-redirect";
        if (mg_known_eq(h->name.data, name, len)) {
            *slot = h;
        }
    }
}

/* The upstream's headers that survive its X-Accel-Redirect (nginx's list). */
static void copy_for_redirect(mg_upstream_t *u)
{
    static const char *const names[] = {
        "content-type",  "set-cookie", "content-disposition", "cache-control", "expires",
        "accept-ranges", NULL};
    mg_request_t *r = u->r;
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        mg_str_t val = {h->value.len, (char *)h->value.data};
        for (int k = 0; names[k]; k++) {
            if (h->name.len != strlen(names[k]) ||
                !mg_known_eq(h->name.data, names[k], h->name.len)) {
                continue;
            }
            if (k == 0) {
                mg_upstream_content_type(r, val);
            } else {
                if (k == 1 && u->rewrite_cookie) {
                    val = u->rewrite_cookie(u, val);
                }
                mg_http_add_header_out(r, h->name.data, h->name.len, val.data, val.len);
            }
            break;
        }
    }
}

mg_int_t mg_upstream_process_accel(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_uint_t ign = u->ignore_headers;
    mg_http_header_t *h, *rate, *charset, *redirect;
    find_accel(u, &rate, &charset, &redirect);
    if (!(ign & MG_UPSTREAM_IGN_XA_LIMIT_RATE) && (h = rate) != NULL) {
        int64_t n = mg_atoi(h->value.data, h->value.len);
        if (n >= 0) {
            r->limit_rate = (size_t)n;
            r->limit_rate_set = 1;
        }
    }
    if (!(ign & MG_UPSTREAM_IGN_XA_CHARSET) && (h = charset) != NULL) {
        r->headers_out.override_charset.data = mg_pstr(r->pool, h->value.data, h->value.len).data;
        r->headers_out.override_charset.len = h->value.len;
    }
    if ((ign & MG_UPSTREAM_IGN_XA_REDIRECT) || (h = redirect) == NULL || h->value.len == 0) {
        return MG_OK;
    }
    /* the upstream's response is not used: its connection is not kept (the body is unread,
     * and as nginx's not counted in $upstream_response_length; a cache HIT has no try) */
    if (u->state) {
        u->state->response_length = 0;
    }
    mg_upstream_release(u);
    copy_for_redirect(u);
    mg_str_t uri = mg_pstr(r->pool, h->value.data, h->value.len);
    /* (the internal redirect clears the log's context; a named location keeps the upstream's,
     * as nginx's) */
    if (uri.data[0] == '@') {
        mg_http_named_location(r, uri);
        return MG_DONE;
    }
    mg_str_t args = mg_null_string;
    size_t args_at;
    ssize_t plen = mg_http_parse_unsafe_uri(h->value.data, h->value.len, uri.data, &args_at);
    if (args_at <= h->value.len) {
        args = mg_pstr(r->pool, h->value.data + args_at, h->value.len - args_at);
    }
    uri.len = plen < 0 ? 0 : (size_t)plen;
    if (plen < 0) {
        mg_log_error(MG_LOG_ERR, mg_upstream_log(u), 0, "unsafe URI \"%.*s\" was detected",
                     (int)h->value.len, h->value.data);
        mg_http_finalize_request(r, MG_HTTP_NOT_FOUND);
        return MG_DONE;
    }
    if (r->method != MG_HTTP_HEAD) {
        mg_str_set(&r->method_name, "GET");
        r->method = MG_HTTP_GET;
    }
    mg_http_internal_redirect(r, uri, &args);
    return MG_DONE;
}
