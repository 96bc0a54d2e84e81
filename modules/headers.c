/*
 * "expires" and "add_header": a header filter that sets Expires/Cache-Control and adds
 * response headers on the statuses nginx touches (any status with "always"). It runs after
 * not_modified and before gzip, so gzip_proxied sees the Expires it sets. A level with its own
 * add_header directives does not inherit the parent's, as in nginx.
 */
#include <time.h>

#include "http.h"
#include "script.h"

typedef struct header_s header_t;
typedef void (*header_set_pt)(mg_request_t *r, header_t *h, mg_str_t value);

struct header_s {
    mg_str_t name;
    mg_http_complex_value_t value;
    header_set_pt set;
    int always;
};

enum {
    EXPIRES_OFF,
    EXPIRES_EPOCH,
    EXPIRES_MAX,
    EXPIRES_ACCESS,
    EXPIRES_MODIFIED,
    EXPIRES_DAILY,
};

typedef struct {
    mg_array_t *headers; /* header_t; NULL until set, then not inherited */
    mg_int_t expires;    /* EXPIRES_*, MG_CONF_UNSET */
    time_t expires_time; /* seconds; negative for "-1h"; time of day for DAILY */
    mg_http_complex_value_t *expires_value; /* "expires $var": parsed per request */
} headers_conf_t;

mg_module_t mg_headers_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_headers_module);
}

static void *headers_create_conf(mg_conf_t *cf)
{
    headers_conf_t *hc = mg_pcalloc(cf->pool, sizeof(headers_conf_t));
    hc->expires = MG_CONF_UNSET;
    return hc;
}

static const char *headers_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    headers_conf_t *prev = parent, *conf = child;
    if (conf->headers == NULL) {
        conf->headers = prev->headers;
    }
    if (conf->expires == MG_CONF_UNSET) {
        conf->expires = prev->expires;
        conf->expires_time = prev->expires_time;
        conf->expires_value = prev->expires_value;
        if (conf->expires == MG_CONF_UNSET) {
            conf->expires = EXPIRES_OFF;
        }
    }
    return MG_CONF_OK;
}

/* ---- expires ---- */

/* nginx's expires value grammar: epoch, max, off (not after "modified"), "@time of day",
 * "+time", "-time", "time". *expires comes in as ACCESS or MODIFIED. NULL or an error phrase. */
static const char *parse_expires(mg_str_t v, mg_int_t *expires, time_t *t)
{
    if (*expires != EXPIRES_MODIFIED) {
        if (mg_str_eq(v, "epoch")) {
            *expires = EXPIRES_EPOCH;
            return NULL;
        }
        if (mg_str_eq(v, "max")) {
            *expires = EXPIRES_MAX;
            return NULL;
        }
        if (mg_str_eq(v, "off")) {
            *expires = EXPIRES_OFF;
            return NULL;
        }
    }
    int minus = 0;
    if (v.len && v.data[0] == '@') {
        if (*expires == EXPIRES_MODIFIED) {
            return "daily time cannot be used with \"modified\" parameter";
        }
        *expires = EXPIRES_DAILY;
        v.data++;
        v.len--;
    } else if (v.len && (v.data[0] == '+' || v.data[0] == '-')) {
        minus = v.data[0] == '-';
        v.data++;
        v.len--;
    }
    int64_t n = mg_parse_time(v, 1);
    if (n < 0) {
        return "invalid value";
    }
    if (*expires == EXPIRES_DAILY && n > 24 * 60 * 60) {
        return "daily time value must be less than 24 hours";
    }
    *t = minus ? -(time_t)n : (time_t)n;
    return NULL;
}

static const char *headers_expires(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    headers_conf_t *hc = conf;
    if (hc->expires != MG_CONF_UNSET) {
        return "is duplicate";
    }
    hc->expires = EXPIRES_ACCESS;
    mg_str_t v = cf->args[1];
    if (cf->nargs == 3) {
        if (!mg_str_eq(cf->args[1], "modified")) {
            return "invalid value";
        }
        hc->expires = EXPIRES_MODIFIED;
        v = cf->args[2];
    }
    if (mg_http_script_variables_count(v)) {
        hc->expires_value = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
        if (mg_http_compile_complex_value(cf, v, hc->expires_value) != MG_OK) {
            return MG_CONF_ERROR;
        }
        return MG_CONF_OK;
    }
    return parse_expires(v, &hc->expires, &hc->expires_time);
}

/* The next wall-clock occurrence of a time of day (local time), as nginx's ngx_next_time. */
static time_t next_daily(time_t when)
{
    time_t now = mg_now.sec;
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = (int)(when / 3600);
    tm.tm_min = (int)(when % 3600 / 60);
    tm.tm_sec = (int)(when % 60);
    time_t next = mktime(&tm);
    if (next == -1 || next - now > 0) {
        return next;
    }
    tm.tm_mday++; /* mktime normalizes the day past the month's end */
    return mktime(&tm);
}

/* The output header named so (first of them), or a new one. Later ones are hidden when
 * "only" is set: Expires and Cache-Control replace whatever a handler put there. */
static mg_table_elt_t *header_replace(mg_request_t *r, const char *name, size_t len)
{
    mg_table_elt_t *h = r->headers_out.headers.elts, *found = NULL;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && h[i].key.len == len && mg_strncasecmp(h[i].key.data, name, len) == 0) {
            if (found) {
                h[i].hash = 0;
            } else {
                found = &h[i];
            }
        }
    }
    if (found) {
        return found;
    }
    return mg_http_add_header_out(r, name, len, "", 0);
}

/* The response's date for "expires modified": a file's, else an upstream's Last-Modified line
 * (nginx parses that one when it copies it), -1 when none. */
static time_t last_modified(mg_request_t *r)
{
    if (r->headers_out.last_modified_time != -1) {
        return r->headers_out.last_modified_time;
    }
    mg_table_elt_t *h = mg_http_find_header_out(r, "Last-Modified", 13);
    return h ? mg_time_parse_http(h->value.data, h->value.len) : -1;
}

static void set_expires(mg_request_t *r, headers_conf_t *hc)
{
    mg_int_t expires = hc->expires;
    time_t t = hc->expires_time;
    if (hc->expires_value) {
        mg_str_t v;
        v = mg_http_complex_value(r, hc->expires_value);
        if (parse_expires(v, &expires, &t) != NULL || expires == EXPIRES_OFF) {
            return; /* a bad runtime value sets nothing, as in nginx */
        }
    }
    header_replace(r, "Expires", 7); /* the first of the two when both are new */
    mg_table_elt_t *cc = header_replace(r, "Cache-Control", 13);
    /* found again: adding Cache-Control may have moved the lines to a larger block */
    mg_table_elt_t *e = header_replace(r, "Expires", 7);
    if (expires == EXPIRES_EPOCH) {
        mg_str_set(&e->value, "Thu, 01 Jan 1970 00:00:01 GMT");
        mg_str_set(&cc->value, "no-cache");
        return;
    }
    if (expires == EXPIRES_MAX) {
        mg_str_set(&e->value, "Thu, 31 Dec 2037 23:55:55 GMT");
        mg_str_set(&cc->value, "max-age=315360000"); /* ten years */
        return;
    }
    char *date = mg_pnalloc(r->pool, 32);
    e->value.data = date;
    if (t == 0 && expires != EXPIRES_DAILY) {
        e->value.len = strlen(mg_now.http);
        memcpy(date, mg_now.http, e->value.len);
        mg_str_set(&cc->value, "max-age=0");
        return;
    }
    time_t now = mg_now.sec, max_age, lm;
    if (expires == EXPIRES_DAILY) {
        t = next_daily(t);
        max_age = t - now;
    } else if (expires == EXPIRES_ACCESS || (lm = last_modified(r)) == -1) {
        max_age = t;
        t += now;
    } else {
        t += lm;
        max_age = t - now;
    }
    mg_time_http(date, t);
    e->value.len = strlen(date);
    /* nginx tests the configured time, not a variable's: "-1h" from a variable still gives
     * a negative max_age, so the result is the same */
    if (hc->expires_time < 0 || max_age < 0) {
        mg_str_set(&cc->value, "no-cache");
        return;
    }
    char *ma = mg_psprintf(r->pool, "max-age=%lld", (long long)max_age);
    cc->value.data = ma;
    cc->value.len = strlen(ma);
}

/* ---- add_header ---- */

static void set_plain(mg_request_t *r, header_t *h, mg_str_t value)
{
    if (value.len) {
        mg_http_add_header_out(r, h->name.data, h->name.len, value.data, value.len);
    }
}

/* ETag replaces the handler's (an empty value removes it). */
static void set_etag(mg_request_t *r, header_t *h, mg_str_t value)
{
    mg_table_elt_t *old = r->headers_out.etag;
    if (value.len == 0) {
        if (old) {
            old->hash = 0;
            r->headers_out.etag = NULL;
        }
        return;
    }
    if (old == NULL) {
        r->headers_out.etag = mg_http_add_header_out(r, h->name.data, h->name.len, value.data,
                                                     value.len);
        return;
    }
    old->key = h->name;
    old->value = value;
}

/* Last-Modified replaces the handler's; the core prints it from the time, so a value that is
 * not an HTTP date goes out as a plain header line (nginx prints the text either way). */
static void set_last_modified(mg_request_t *r, header_t *h, mg_str_t value)
{
    r->headers_out.last_modified_time = -1;
    if (r->headers_out.last_modified) {
        r->headers_out.last_modified->hash = 0; /* replaced */
        r->headers_out.last_modified = NULL;
    }
    if (value.len == 0) {
        return;
    }
    time_t t = mg_time_parse_http(value.data, value.len);
    if (t >= 0) {
        r->headers_out.last_modified_time = t;
        return;
    }
    mg_http_add_header_out(r, h->name.data, h->name.len, value.data, value.len);
}

static const char *headers_add(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    headers_conf_t *hc = conf;
    if (hc->headers == NULL) {
        hc->headers = mg_array_create(cf->pool, 4, sizeof(header_t));
    }
    header_t *h = mg_array_push(hc->headers);
    memset(h, 0, sizeof(*h));
    h->name = cf->args[1];
    h->set = set_plain;
    if (mg_str_caseeq(h->name, "ETag")) {
        h->set = set_etag;
    } else if (mg_str_caseeq(h->name, "Last-Modified")) {
        h->set = set_last_modified;
    }
    if (mg_http_compile_complex_value(cf, cf->args[2], &h->value) != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (cf->nargs == 4) {
        if (!mg_str_eq(cf->args[3], "always")) {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", cf->args[3].data);
            return MG_CONF_ERROR;
        }
        h->always = 1;
    }
    return MG_CONF_OK;
}

/* The statuses nginx adds headers and Expires to without "always". */
static int status_gets_headers(mg_uint_t status)
{
    switch (status) {
    case 200: case 201: case 204: case 206: case 301: case 302: case 303: case 304: case 307:
    case 308:
        return 1;
    }
    return 0;
}

static mg_int_t headers_filter(mg_request_t *r)
{
    headers_conf_t *hc = mg_http_get_loc_conf(r, mg_headers_module);
    if ((hc->headers == NULL && hc->expires == EXPIRES_OFF) || r->parent) {
        return next_header_filter(r); /* nginx adds nothing to a subrequest's response */
    }
    int safe = status_gets_headers(r->headers_out.status);
    if (hc->expires != EXPIRES_OFF && safe) {
        set_expires(r, hc);
    }
    if (hc->headers) {
        header_t *h = hc->headers->elts;
        for (size_t i = 0; i < hc->headers->nelts; i++) {
            if (!safe && !h[i].always) {
                continue;
            }
            mg_str_t value;
            value = mg_http_complex_value(r, &h[i].value);
            h[i].set(r, &h[i], value);
        }
    }
    return next_header_filter(r);
}

static int filter_used(const void *loc_conf)
{
    const headers_conf_t *conf = loc_conf;
    return conf->headers || conf->expires != EXPIRES_OFF;
}

static void headers_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_headers_module, filter_used, headers_filter, NULL);
}

static const mg_command_t headers_commands[] = {
    { "expires", MG_HTTP_ANY_LOC | MG_CTX_LIF, MG_ARGS(1, 2), headers_expires, MG_LOC_CONF, 0,
      NULL },
    { "add_header", MG_HTTP_ANY_LOC | MG_CTX_LIF, MG_ARGS(2, 3), headers_add, MG_LOC_CONF, 0, NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t headers_defaults[] = {
    {"expires", "off"},
    {"add_header", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_headers_module = {
    .name = "headers",
    .commands = headers_commands,
    .defaults = headers_defaults,
    .create_loc_conf = headers_create_conf,
    .merge_loc_conf = headers_merge_conf,
    .init_filters = headers_init_filters,
};
