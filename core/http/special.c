/*
 * Status lines and nginx's built-in response pages (errors and redirect bodies), and the
 * helper that sends a whole small response.
 */
#include "conn.h"
#include "script.h"

typedef struct {
    mg_uint_t code;
    const char *line; /* "404 Not Found" */
} status_t;

static const status_t statuses[] = {
    { 100, "100 Continue" },
    { 101, "101 Switching Protocols" },
    { 200, "200 OK" },
    { 201, "201 Created" },
    { 202, "202 Accepted" },
    { 204, "204 No Content" },
    { 206, "206 Partial Content" },
    { 301, "301 Moved Permanently" },
    { 302, "302 Moved Temporarily" },
    { 303, "303 See Other" },
    { 304, "304 Not Modified" },
    { 307, "307 Temporary Redirect" },
    { 308, "308 Permanent Redirect" },
    { 400, "400 Bad Request" },
    { 401, "401 Unauthorized" },
    { 402, "402 Payment Required" },
    { 403, "403 Forbidden" },
    { 404, "404 Not Found" },
    { 405, "405 Not Allowed" },
    { 406, "406 Not Acceptable" },
    { 408, "408 Request Time-out" },
    { 409, "409 Conflict" },
    { 410, "410 Gone" },
    { 411, "411 Length Required" },
    { 412, "412 Precondition Failed" },
    { 413, "413 Request Entity Too Large" },
    { 414, "414 Request-URI Too Large" },
    { 415, "415 Unsupported Media Type" },
    { 416, "416 Requested Range Not Satisfiable" },
    { 421, "421 Misdirected Request" },
    { 429, "429 Too Many Requests" },
    { 500, "500 Internal Server Error" },
    { 501, "501 Not Implemented" },
    { 502, "502 Bad Gateway" },
    { 503, "503 Service Temporarily Unavailable" },
    { 504, "504 Gateway Time-out" },
    { 505, "505 HTTP Version Not Supported" },
    { 507, "507 Insufficient Storage" },
};

const char *mg_http_status_line(mg_uint_t status, size_t *len)
{
    for (size_t i = 0; i < mg_nelems(statuses); i++) {
        if (statuses[i].code == status) {
            *len = strlen(statuses[i].line);
            return statuses[i].line;
        }
    }
    return NULL;
}

/* nginx's internal 4xx codes answer 400 with a page naming the real reason. */
static const char *internal_reason(mg_uint_t status)
{
    switch (status) {
    case 494:
        return "Request Header Or Cookie Too Large";
    case 495:
        return "The SSL certificate error";
    case 496:
        return "No required SSL certificate was sent";
    case 497:
        return "The plain HTTP request was sent to HTTPS port";
    }
    return NULL;
}

/* Title of nginx's built-in page for a status, or NULL when nginx has no page for it (the
 * response then has an empty body). Mostly the status line; two differ. */
static const char *page_title(mg_uint_t status)
{
    size_t len;
    switch (status) {
    case 302:
        return "302 Found";
    case 401:
        return "401 Authorization Required";
    case 301:
    case 303:
    case 307:
    case 308:
    case 421:
    case 429:
    case 507:
        return mg_http_status_line(status, &len);
    }
    if ((status >= 400 && status <= 416 && status != 407) || (status >= 500 && status <= 505)) {
        return mg_http_status_line(status, &len);
    }
    return NULL;
}

mg_int_t mg_http_send_response(mg_request_t *r, mg_uint_t status, mg_str_t *ct, mg_str_t *body)
{
    r->headers_out.status = status;
    if (ct) {
        r->headers_out.content_type = *ct;
    }
    if (body == NULL || status == MG_HTTP_NO_CONTENT || status == MG_HTTP_NOT_MODIFIED) {
        /* a 304 keeps the length of the text it would have had, as in nginx (the header filter
         * drops it for a 204) */
        r->headers_out.content_length_n = body ? (int64_t)body->len : 0;
        if (status == MG_HTTP_NO_CONTENT || status == MG_HTTP_NOT_MODIFIED) {
            r->header_only = 1;
        }
        mg_int_t rc = mg_http_send_header(r);
        if (rc == MG_ERROR || rc > MG_OK) {
            return rc;
        }
        mg_buf_t *b = mg_buf_mem(r->pool, "", 0);
        b->last_buf = 1;
        return mg_http_output(r, b);
    }
    r->headers_out.content_length_n = (int64_t)body->len;
    mg_int_t rc = mg_http_send_header(r);
    if (rc > MG_OK) {
        return rc; /* a header filter chose another status (412, 416): the caller finalizes */
    }
    if (rc == MG_ERROR || r->header_only) {
        mg_buf_t *b = mg_buf_mem(r->pool, "", 0);
        b->last_buf = 1;
        return rc == MG_ERROR ? rc : mg_http_output(r, b);
    }
    mg_buf_t *b = mg_buf_mem(r->pool, body->data, body->len);
    b->last_buf = 1;
    return mg_http_output(r, b);
}

static mg_int_t builtin_page(mg_request_t *r, mg_uint_t code, mg_int_t status);

#define PADDING_LINE "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"
#define PADDING PADDING_LINE PADDING_LINE PADDING_LINE PADDING_LINE PADDING_LINE PADDING_LINE

/* msie_refresh: MSIE gets its redirect as a page that refreshes to the URL (as sent, not made
 * absolute), with 200 and no Location; the bytes that could end the attribute or are not
 * ASCII are %-escaped as nginx does (its REFRESH set). */
static mg_int_t send_refresh(mg_request_t *r)
{
    static const char head[] = "<html><head><meta http-equiv=\"Refresh\" content=\"0; URL=";
    static const char foot[] = "\"></head><body></body></html>\r\n";
    mg_str_t loc = r->headers_out.location->value;
    char *page = mg_pnalloc(r->pool, sizeof(head) + 3 * loc.len + sizeof(foot));
    char *p = page;
    memcpy(p, head, sizeof(head) - 1);
    p += sizeof(head) - 1;
    p += mg_http_escape(loc.data, loc.len, p, MG_ESCAPE_REFRESH);
    memcpy(p, foot, sizeof(foot) - 1);
    p += sizeof(foot) - 1;
    r->headers_out.location->hash = 0;
    r->headers_out.location = NULL;
    r->err_status = MG_HTTP_OK;
    mg_str_t body = {(size_t)(p - page), page};
    mg_str_t ct = mg_string("text/html");
    return mg_http_send_response(r, MG_HTTP_OK, &ct, &body);
}

/* error_page: an internal redirect to a local URI (GET unless HEAD), a named location, or a
 * redirect to a URL (302 unless the "=code" is a redirect code). */
static mg_int_t send_error_page(mg_request_t *r, mg_http_err_page_t *ep, mg_int_t status)
{
    mg_int_t overwrite = ep->overwrite;
    if (overwrite && overwrite != MG_HTTP_OK) {
        r->expect_tested = 1;
    }
    if (overwrite >= 0) {
        r->err_status = (mg_uint_t)overwrite;
    } else if (status >= 494 && status <= 497) {
        r->err_status = MG_HTTP_BAD_REQUEST; /* nginx's internal codes go out as 400 */
    }
    mg_str_t uri;
    uri = mg_http_complex_value(r, ep->value);
    if (uri.len && uri.data[0] == '/') {
        mg_str_t args = ep->args;
        if (ep->value->nparts) {
            char *q = memchr(uri.data, '?', uri.len);
            if (q) {
                args.data = q + 1;
                args.len = uri.len - (size_t)(q + 1 - uri.data);
                uri.len = (size_t)(q - uri.data);
            }
        }
        if (r->method != MG_HTTP_HEAD) {
            r->method = MG_HTTP_GET;
            r->method_name = (mg_str_t)mg_string("GET");
        }
        return mg_http_internal_redirect(r, uri, &args);
    }
    if (uri.len && uri.data[0] == '@') {
        return mg_http_named_location(r, uri);
    }
    r->expect_tested = 1;
    if (mg_http_discard_request_body(r) != MG_OK) {
        r->keepalive = 0;
    }
    r->headers_out.location = mg_http_add_header_out(r, "Location", 8, uri.data, uri.len);
    mg_uint_t code = (mg_uint_t)overwrite;
    if (code != MG_HTTP_MOVED_PERMANENTLY && code != MG_HTTP_MOVED_TEMPORARILY &&
        code != MG_HTTP_SEE_OTHER && code != MG_HTTP_TEMPORARY_REDIRECT &&
        code != MG_HTTP_PERMANENT_REDIRECT) {
        code = MG_HTTP_MOVED_TEMPORARILY;
    }
    r->err_status = code;
    return builtin_page(r, code, (mg_int_t)code);
}

mg_int_t mg_http_special_response(mg_request_t *r, mg_int_t status)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    /* the body is dropped, but a client waiting to send it is not asked to (nginx) */
    r->expect_tested = 1;
    mg_http_discard_request_body(r);
    r->err_status = (mg_uint_t)status;
    /* nginx stops keepalive after these: the stream may not be trustworthy */
    switch (status) {
    case MG_HTTP_BAD_REQUEST:
    case MG_HTTP_REQUEST_ENTITY_TOO_LARGE:
    case MG_HTTP_REQUEST_URI_TOO_LARGE:
    case 495:
    case 496:
    case 497:
    case MG_HTTP_INTERNAL_SERVER_ERROR:
    case MG_HTTP_NOT_IMPLEMENTED:
        /* (a head that was too large or had a bad version never gets this far with
         * keepalive on) */
        r->keepalive = 0;
    }
    /* headers a handler set stay (nginx: `ngx.header.X = v; ngx.exit(403)` sends X), the
     * Location too (nginx's 404 page for an error_page a redirect went to has it), but what
     * described the body goes */
    /* an upstream's status line would name its status, not this one (a header filter's 416
     * for a proxied 200: nginx cleans the head so) */
    r->headers_out.status_line.len = 0;
    r->headers_out.content_type.len = 0;
    /* nginx's page keeps the charset its upstream module read from an upstream's type */
    r->headers_out.charset = r->headers_out.type_charset;
    mg_http_clear_accept_ranges(r);
    r->headers_out.last_modified_time = -1;
    if (r->headers_out.last_modified) {
        r->headers_out.last_modified->hash = 0;
        r->headers_out.last_modified = NULL;
    }
    r->headers_out.content_length_n = -1;
    if (r->headers_out.etag) {
        r->headers_out.etag->hash = 0;
        r->headers_out.etag = NULL;
    }
    if (r->headers_out.content_encoding) {
        r->headers_out.content_encoding->hash = 0;
        r->headers_out.content_encoding = NULL;
    }

    if (!r->error_page && clcf->error_pages && r->uri_changes != 0) {
        /* one error page per request unless recursive_error_pages; a request that ran out
         * of URI changes (a rewrite cycle) gets the built-in page */
        if (!clcf->recursive_error_pages) {
            r->error_page = 1;
        }
        mg_http_err_page_t *ep = clcf->error_pages->elts;
        for (size_t i = 0; i < clcf->error_pages->nelts; i++) {
            if (ep[i].status == (mg_uint_t)status) {
                return send_error_page(r, &ep[i], status);
            }
        }
    }

    mg_uint_t code = (mg_uint_t)status;
    if (code >= 494 && code <= 497) {
        /* nginx's internal codes keep their own page title but go out (and are logged) as 400 */
        code = MG_HTTP_BAD_REQUEST;
    }
    return builtin_page(r, code, status);
}

/* nginx's page for `code` (`status` may be an internal code naming the reason). */
static mg_int_t builtin_page(mg_request_t *r, mg_uint_t code, mg_int_t status)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    r->err_status = code;
    r->headers_out.status = code;
    if (code == MG_HTTP_NO_CONTENT || code == MG_HTTP_NOT_MODIFIED || code == MG_HTTP_CREATED) {
        return mg_http_send_response(r, code, NULL, NULL);
    }
    if ((code == MG_HTTP_MOVED_PERMANENTLY || code == MG_HTTP_MOVED_TEMPORARILY) &&
        clcf->msie_refresh && r->headers_out.location && r->headers_out.location->hash &&
        (mg_http_user_agent(r) & MG_HTTP_UA_MSIE)) {
        return send_refresh(r);
    }
    const char *title = page_title(code);
    if (title == NULL) {
        return mg_http_send_response(r, code, NULL, NULL);
    }
    mg_str_t tail = mg_http_server_signature(r);
    const char *reason = internal_reason((mg_uint_t)status);
    /* msie_padding: MSIE and Chrome show their own page for a short error page */
    int pad = clcf->msie_padding && code >= 400 && !r->http_09 &&
              (mg_http_user_agent(r) & (MG_HTTP_UA_MSIE | MG_HTTP_UA_CHROME));
    char *page;
    if (reason) {
        page = mg_psprintf(r->pool,
                           "<html>\r\n<head><title>400 %s</title></head>\r\n<body>\r\n"
                           "<center><h1>%s</h1></center>\r\n<center>%s</center>\r\n"
                           "<hr><center>%.*s</center>\r\n</body>\r\n</html>\r\n%s",
                           reason, title, reason, (int)tail.len, tail.data, pad ? PADDING : "");
    } else {
        page = mg_psprintf(r->pool,
                           "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n"
                           "<center><h1>%s</h1></center>\r\n<hr><center>%.*s</center>\r\n"
                           "</body>\r\n</html>\r\n%s",
                           title, title, (int)tail.len, tail.data, pad ? PADDING : "");
    }
    mg_str_t body = { strlen(page), page };
    mg_str_t ct = mg_string("text/html");
    return mg_http_send_response(r, code, &ct, &body);
}
