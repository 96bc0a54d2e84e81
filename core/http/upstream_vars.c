/*
 * What the engine shows of a request's upstream tries: the $upstream_* variables (one value
 * per try, comma-separated, " : " before the exchange after an internal redirect, as nginx) and ",
 * upstream: "http://addr/uri"" in the error log's context after the request line.
 */
#include "cache.h"
#include "upstream_int.h"
#include "variables.h"

/* the protocols' accessors (proxy, fastcgi, ...): each finds its own exchange */
static mg_upstream_t *(*owners[8])(mg_request_t *r);

void mg_upstream_add_owner(mg_upstream_t *(*get)(mg_request_t *r))
{
    size_t i = 0;
    while (i < mg_nelems(owners) && owners[i] && owners[i] != get) {
        i++;
    }
    if (i < mg_nelems(owners)) {
        owners[i] = get;
    }
}

mg_upstream_t *mg_upstream_of(mg_request_t *r)
{
    for (size_t i = 0; i < mg_nelems(owners) && owners[i]; i++) {
        mg_upstream_t *u = owners[i](r);
        if (u) {
            return u;
        }
    }
    return NULL;
}

/* For the variables and the log: the exchange going on, else the last one the request had
 * (as nginx, they still tell of it after an X-Accel-Redirect) */
static mg_upstream_t *told_upstream(mg_request_t *r)
{
    mg_upstream_t *u = mg_upstream_of(r);
    return u ? u : r->upstream;
}

int mg_upstream_responds(mg_request_t *r)
{
    mg_upstream_t *u = mg_upstream_of(r);
    return u != NULL && u->header_sent && !mg_http_cache_cacheable(r);
}

/* ---- the error log's context ---- */

char *mg_upstream_log_text(mg_request_t *r, char *p, char *end)
{
    mg_upstream_t *u = told_upstream(r);
    if (u == NULL || u->state == NULL || u->state->addr.len == 0) {
        return p;
    }
    /* as nginx: a unix-domain socket's path and the URI are told apart by a colon, while the
     * peer is held (not once the exchange is over: after an X-Accel-Redirect, say) */
    mg_str_t addr = u->state->addr;
    mg_upstream_t *cur = mg_upstream_of(r);
    const char *sep =
        cur && !cur->done && addr.len > 5 && memcmp(addr.data, "unix:", 5) == 0 ? ":" : "";
    return mg_sprintf_end(p, end, ", upstream: \"%.*s%.*s%s%.*s\"", (int)u->schema.len,
                          u->schema.data, (int)addr.len, addr.data, sep, (int)u->uri.len,
                          u->uri.data);
}

/* ---- variables ---- */

enum {
    V_ADDR,
    V_STATUS,
    V_RESPONSE_TIME,
    V_CONNECT_TIME,
    V_HEADER_TIME,
    V_RESPONSE_LENGTH,
    V_BYTES_RECEIVED,
    V_BYTES_SENT
};

static mg_int_t var_state(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_upstream_t *u = told_upstream(r);
    if (u == NULL || u->states.nelts == 0) {
        v->not_found = 1;
        return MG_OK;
    }
    mg_upstream_state_t *st = u->states.elts;
    size_t cap = u->states.nelts * 80;
    for (size_t i = 0; i < u->states.nelts; i++) {
        cap += st[i].addr.len;
    }
    /* by hand, not through mg_sprintf_end: these are in most proxies' log formats, and
     * vsnprintf cost ~800 instructions a value (cap holds 80 bytes a try besides its address,
     * more than two separators and a 20-digit number with its sign) */
    char *buf = mg_pnalloc(r->pool, cap), *p = buf;
    for (size_t i = 0; i < u->states.nelts; i++) {
        if (i) {
            size_t n = st[i].redirected ? 3 : 2;
            memcpy(p, st[i].redirected ? " : " : ", ", n);
            p += n;
        }
        mg_msec_t t = -1;
        int64_t len;
        switch (data) {
        case V_ADDR:
            memcpy(p, st[i].addr.data, st[i].addr.len);
            p += st[i].addr.len;
            continue;
        case V_STATUS:
            if (st[i].status) {
                p = mg_put_uint(p, st[i].status);
            } else {
                *p++ = '-';
            }
            continue;
        case V_RESPONSE_TIME:
            t = st[i].response_time; /* "-" while the response is still on its way */
            break;
        case V_CONNECT_TIME:
            t = st[i].connect_time;
            break;
        case V_HEADER_TIME:
            t = st[i].header_time;
            break;
        case V_RESPONSE_LENGTH:
        case V_BYTES_RECEIVED:
        case V_BYTES_SENT:
            len = (int64_t)(data == V_RESPONSE_LENGTH  ? st[i].response_length
                            : data == V_BYTES_RECEIVED ? st[i].bytes_received
                                                       : st[i].bytes_sent);
            if (len < 0) {
                *p++ = '-';
            }
            p = mg_put_uint(p, len < 0 ? -(uint64_t)len : (uint64_t)len);
            continue;
        }
        if (t < 0) {
            *p++ = '-';
        } else {
            p = mg_put_msec(p, (uint64_t)t);
        }
    }
    v->value.data = buf;
    v->value.len = (size_t)(p - buf);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return MG_OK;
}

static mg_int_t var_upstream_http(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_str_t *name = (mg_str_t *)data;
    mg_upstream_t *u = told_upstream(r);
    size_t skip = sizeof("upstream_http_") - 1;
    /* an answer from the cache (HIT, a STALE or UPDATING one no upstream was asked for): the
     * stored head's lines, as nginx */
    int cached = u == NULL && r->cache && r->cache->status >= MG_CACHE_STALE;
    if (cached) {
        u = r->cache->u;
    }
    if (u == NULL || u->head.headers == NULL || (u->states.nelts == 0 && !cached) ||
        name->len <= skip) {
        v->not_found = 1;
        return MG_OK;
    }
    const char *want = name->data + skip;
    size_t wl = name->len - skip;
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        if (h->name.len != wl) {
            continue;
        }
        size_t k = 0;
        for (; k < wl; k++) {
            char a = mg_tolower(h->name.data[k]), b = want[k];
            if (a == '-') {
                a = '_';
            }
            if (a != mg_tolower(b)) {
                break;
            }
        }
        if (k == wl) {
            v->value.data = (char *)h->value.data;
            v->value.len = h->value.len;
            v->valid = 1;
            v->no_cacheable = 1;
            v->not_found = 0;
            return MG_OK;
        }
    }
    v->not_found = 1;
    return MG_OK;
}

/* $upstream_cookie_NAME: the value of the first of the upstream's Set-Cookie lines setting
 * NAME (the name without regard to case; the value up to ';', leading blanks skipped) */
static mg_int_t var_upstream_cookie(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    mg_str_t *name = (mg_str_t *)data;
    mg_upstream_t *u = told_upstream(r);
    size_t skip = sizeof("upstream_cookie_") - 1;
    v->not_found = 1;
    if (u == NULL || u->head.headers == NULL || u->states.nelts == 0 || name->len <= skip) {
        return MG_OK;
    }
    const char *want = name->data + skip;
    size_t wl = name->len - skip;
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        if (h->name.len != 10 || mg_strncasecmp(h->name.data, "set-cookie", 10) != 0) {
            continue;
        }
        const char *p = h->value.data, *end = p + h->value.len;
        while (p < end && *p == ' ') {
            p++;
        }
        if ((size_t)(end - p) <= wl || mg_strncasecmp(p, want, wl) != 0) {
            continue;
        }
        p += wl;
        while (p < end && *p == ' ') {
            p++;
        }
        if (p == end || *p != '=') {
            continue;
        }
        p++;
        while (p < end && *p == ' ') {
            p++;
        }
        const char *semi = memchr(p, ';', (size_t)(end - p));
        v->value.data = (char *)p;
        v->value.len = (size_t)((semi ? semi : end) - p);
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;
        return MG_OK;
    }
    return MG_OK;
}

/* $upstream_trailer_NAME: as nginx's proxy, which does not keep an upstream's trailer
 * fields (only its grpc module does), never found */
static mg_int_t var_upstream_trailer(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)r;
    (void)data;
    v->not_found = 1;
    return MG_OK;
}

mg_int_t mg_upstream_add_variables(mg_conf_t *cf, mg_upstream_t *(*get)(mg_request_t *r))
{
    static const struct {
        const char *name;
        uintptr_t data;
    } vars[] = {
        { "upstream_addr", V_ADDR },
        { "upstream_status", V_STATUS },
        { "upstream_response_time", V_RESPONSE_TIME },
        { "upstream_connect_time", V_CONNECT_TIME },
        { "upstream_header_time", V_HEADER_TIME },
        { "upstream_response_length", V_RESPONSE_LENGTH },
        { "upstream_bytes_received", V_BYTES_RECEIVED },
        { "upstream_bytes_sent", V_BYTES_SENT },
    };
    mg_upstream_add_owner(get);
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_str_t name = { strlen(vars[i].name), (char *)vars[i].name };
        mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return MG_ERROR;
        }
        v->get_handler = var_state;
        v->data = vars[i].data;
    }
    mg_str_t pname = mg_string("upstream_http_");
    mg_http_variable_t *v = mg_http_add_variable(cf, pname, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PREFIX);
    if (v == NULL) {
        return MG_ERROR;
    }
    v->get_handler = var_upstream_http;
    pname = (mg_str_t)mg_string("upstream_cookie_");
    v = mg_http_add_variable(cf, pname, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PREFIX);
    if (v == NULL) {
        return MG_ERROR;
    }
    v->get_handler = var_upstream_cookie;
    pname = (mg_str_t)mg_string("upstream_trailer_");
    v = mg_http_add_variable(cf, pname, MG_HTTP_VAR_NOCACHEABLE | MG_HTTP_VAR_PREFIX);
    if (v == NULL) {
        return MG_ERROR;
    }
    v->get_handler = var_upstream_trailer;
    return MG_OK;
}
