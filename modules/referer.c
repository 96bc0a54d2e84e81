/*
 * valid_referers and $invalid_referer (nginx's ngx_http_referer_module): the Referer's host
 * (after "http://" or "https://", up to a port or path, at most 256 bytes) is looked up among
 * exact names, "*.example.com"/".example.com" and "www.example.*" wildcards (the most specific
 * wins; a name's URI prefix must then start the path), then the "~" regexes run on what follows
 * the scheme and the server's regex names on the host. "none" accepts a missing Referer,
 * "blocked" one that does not look like an http(s) URL. The names live in sorted-free arrays;
 * referer_hash_* get nginx's hash building checks so a config nginx refuses is refused here too.
 */
#include "hash_size.h"
#include "http.h"
#include "variables.h"

typedef struct {
    mg_str_t name;     /* exact: the host; head: ".example.com"; tail: "www.example." */
    mg_str_t uri;      /* the prefix the path must start with; data NULL: any */
    unsigned star : 1; /* head: "*.example.com" (at least one label before the suffix) */
} referer_name_t;

typedef struct {
    int set; /* valid_referers seen at this level: nothing is inherited */
    int no_referer;
    int blocked_referer;
    mg_http_srv_conf_t *server_names; /* "server_names": the server whose names count */
    mg_array_t *exact;                /* referer_name_t */
    mg_array_t *head;
    mg_array_t *tail;
    mg_array_t *dot_exact;    /* ".example.com" also claims "example.com" (conflicts only) */
    mg_array_t *regex;        /* mg_regex_t *, matched after the scheme */
    mg_array_t *server_regex; /* mg_regex_t *, the server's "~" names, matched on the host */
    mg_int_t hash_max_size;
    mg_int_t hash_bucket_size;
} referer_conf_t;

mg_module_t mg_referer_module;

#define HOST_MAX 256
#define CACHELINE 64

static void *referer_create_conf(mg_conf_t *cf)
{
    referer_conf_t *rc = mg_pcalloc(cf->pool, sizeof(referer_conf_t));
    rc->hash_max_size = MG_CONF_UNSET;
    rc->hash_bucket_size = MG_CONF_UNSET;
    return rc;
}

static mg_array_t *names(mg_conf_t *cf, mg_array_t **a)
{
    if (*a == NULL) {
        *a = mg_array_create(cf->pool, 4, sizeof(referer_name_t));
    }
    return *a;
}

static referer_name_t *find_name(mg_array_t *a, mg_str_t name)
{
    if (a == NULL) {
        return NULL;
    }
    referer_name_t *n = a->elts;
    for (size_t i = 0; i < a->nelts; i++) {
        if (mg_str_eq_str(n[i].name, name)) {
            return &n[i];
        }
    }
    return NULL;
}

/* Add a host name or wildcard (nginx's rules for what a wildcard may look like). The name is
 * lowercased in place, so a conflict is reported lowercase, as nginx does. */
static const char *add_name(mg_conf_t *cf, referer_conf_t *rc, mg_str_t host, mg_str_t uri)
{
    char *h = mg_pnalloc(cf->pool, host.len + 1);
    mg_strlow(h, host.data, host.len);
    h[host.len] = '\0';
    host.data = h;
    int stars = 0;
    for (size_t i = 0; i < host.len; i++) {
        if (h[i] == '*') {
            stars++;
        }
        if (stars > 1 || (h[i] == '.' && i + 1 < host.len && h[i + 1] == '.') || h[i] == '\0') {
            goto invalid;
        }
    }
    referer_name_t n = {host, uri, 0};
    mg_array_t **list;
    if (host.len > 1 && h[0] == '.') {
        mg_str_t bare = {host.len - 1, h + 1};
        if (find_name(rc->exact, bare) || find_name(rc->dot_exact, bare)) {
            goto conflict;
        }
        list = &rc->head;
        *(referer_name_t *)mg_array_push(names(cf, &rc->dot_exact)) =
            (referer_name_t){bare, uri, 0};
    } else if (host.len > 2 && h[0] == '*' && h[1] == '.') {
        n.name.data++;
        n.name.len--;
        n.star = 1;
        list = &rc->head;
    } else if (host.len > 2 && h[host.len - 2] == '.' && h[host.len - 1] == '*') {
        n.name.len--;
        list = &rc->tail;
    } else if (stars) {
        goto invalid;
    } else {
        if (find_name(rc->dot_exact, host)) {
            goto conflict;
        }
        list = &rc->exact;
    }
    if (find_name(*list, n.name)) {
        goto conflict;
    }
    *(referer_name_t *)mg_array_push(names(cf, list)) = n;
    return MG_CONF_OK;
invalid:
    mg_conf_error(cf, 0, "invalid hostname or wildcard \"%s\"", h);
    return MG_CONF_ERROR;
conflict:
    mg_conf_error(cf, 0, "conflicting parameter \"%s\"", h);
    return MG_CONF_ERROR;
}

static mg_regex_t *add_regex(mg_conf_t *cf, mg_array_t **list, mg_str_t pattern)
{
    mg_regex_t *re = mg_http_regex_compile(cf, pattern, 1);
    if (re) {
        if (*list == NULL) {
            *list = mg_array_create(cf->pool, 2, sizeof(mg_regex_t *));
        }
        *(mg_regex_t **)mg_array_push(*list) = re;
    }
    return re;
}

static const char *referer_valid(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    referer_conf_t *rc = conf;
    rc->set = 1;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t v = cf->args[i];
        if (v.len == 0) {
            mg_conf_error(cf, 0, "invalid referer \"\"");
            return MG_CONF_ERROR;
        }
        if (mg_str_eq(v, "none")) {
            rc->no_referer = 1;
            continue;
        }
        if (mg_str_eq(v, "blocked")) {
            rc->blocked_referer = 1;
            continue;
        }
        if (mg_str_eq(v, "server_names")) {
            /* the server's names as they are once the server is read (merge) */
            rc->server_names = mg_http_conf_get_srv(cf, mg_http_core_module);
            continue;
        }
        if (v.data[0] == '~') {
            if (v.len == 1) {
                mg_conf_error(cf, 0, "empty regex in \"%s\"", v.data);
                return MG_CONF_ERROR;
            }
            mg_str_t pattern = {v.len - 1, v.data + 1};
            if (add_regex(cf, &rc->regex, pattern) == NULL) {
                return MG_CONF_ERROR;
            }
            continue;
        }
        mg_str_t host = v, uri = mg_null_string;
        char *slash = memchr(v.data, '/', v.len);
        if (slash) {
            host.len = (size_t)(slash - v.data);
            uri.data = slash;
            uri.len = v.len - host.len;
        }
        if (add_name(cf, rc, host, uri) != MG_CONF_OK) {
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

/* nginx's verdict on the hashes it would build from these names (core/hash_size.c). */
static const char *check_hashes(mg_conf_t *cf, referer_conf_t *rc)
{
    mg_hash_keys_t keys;
    mg_hash_keys_init(&keys);
    referer_name_t *n = rc->exact ? rc->exact->elts : NULL;
    for (size_t i = 0; rc->exact && i < rc->exact->nelts; i++) {
        mg_hash_keys_add(&keys, n[i].name);
    }
    /* head names start with '.', tail names end with it */
    n = rc->head ? rc->head->elts : NULL;
    for (size_t i = 0; rc->head && i < rc->head->nelts; i++) {
        mg_hash_keys_add_head(cf, &keys, (mg_str_t){n[i].name.len - 1, n[i].name.data + 1});
    }
    n = rc->tail ? rc->tail->elts : NULL;
    for (size_t i = 0; rc->tail && i < rc->tail->nelts; i++) {
        mg_hash_keys_add_tail(cf, &keys, (mg_str_t){n[i].name.len - 1, n[i].name.data});
    }
    mg_int_t rv =
        mg_hash_keys_check(cf, &keys, "referer_hash", rc->hash_max_size, rc->hash_bucket_size);
    mg_hash_keys_free(&keys);
    return rv == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

static const char *referer_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    referer_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->hash_max_size, prev->hash_max_size, 2048);
    mg_conf_merge(conf->hash_bucket_size, prev->hash_bucket_size, 64);
    conf->hash_bucket_size = (conf->hash_bucket_size + CACHELINE - 1) & ~(mg_int_t)(CACHELINE - 1);
    if (!conf->set) {
        mg_int_t max = conf->hash_max_size, bucket = conf->hash_bucket_size;
        *conf = *prev;
        conf->hash_max_size = max;
        conf->hash_bucket_size = bucket;
        return MG_CONF_OK;
    }
    if (conf->server_names) {
        mg_http_server_name_t *sn = conf->server_names->server_names.elts;
        for (size_t i = 0; i < conf->server_names->server_names.nelts; i++) {
            if (sn[i].regex) {
                *(mg_regex_t **)mg_array_push(
                    conf->server_regex ? conf->server_regex
                                       : (conf->server_regex =
                                              mg_array_create(cf->pool, 2, sizeof(mg_regex_t *)))) =
                    sn[i].regex;
                continue;
            }
            if (add_name(cf, conf, sn[i].name, (mg_str_t)mg_null_string) != MG_CONF_OK) {
                return MG_CONF_ERROR;
            }
        }
    }
    size_t nnames = (conf->exact ? conf->exact->nelts : 0) + (conf->head ? conf->head->nelts : 0) +
                    (conf->tail ? conf->tail->nelts : 0);
    if ((conf->no_referer || conf->blocked_referer) && nnames == 0) {
        return "the \"none\" or \"blocked\" referers are specified in the \"valid_referers\" "
               "directive without any valid referer";
    }
    return check_hashes(cf, conf);
}

/* ---- the check ---- */

/* The most specific wildcard matching host: the longest suffix (head) or prefix (tail). */
static referer_name_t *find_wildcard(mg_array_t *list, mg_str_t host, int head)
{
    if (list == NULL) {
        return NULL;
    }
    referer_name_t *n = list->elts, *best = NULL;
    for (size_t i = 0; i < list->nelts; i++) {
        mg_str_t w = n[i].name;
        int match;
        if (head) {
            /* ".example.com": example.com itself too; "*.example.com": a label before it */
            match =
                (host.len > w.len && memcmp(host.data + host.len - w.len, w.data, w.len) == 0) ||
                (!n[i].star && host.len == w.len - 1 &&
                 memcmp(host.data, w.data + 1, host.len) == 0);
        } else {
            match = host.len > w.len && memcmp(host.data, w.data, w.len) == 0;
        }
        if (match && (best == NULL || w.len > best->name.len)) {
            best = &n[i];
        }
    }
    return best;
}

static int regex_list_matches(mg_request_t *r, mg_array_t *list, mg_str_t s)
{
    if (list == NULL) {
        return 0;
    }
    mg_regex_t **re = list->elts;
    for (size_t i = 0; i < list->nelts; i++) {
        mg_int_t rc = mg_http_regex_exec(r, re[i], s);
        if (rc == MG_OK) {
            return 1;
        }
    }
    return 0;
}

/* 1 when the Referer is valid for this level's list. */
static int referer_valid_for(mg_request_t *r, referer_conf_t *rc)
{
    if (!rc->set) {
        return 1; /* no valid_referers: nothing is invalid */
    }
    mg_table_elt_t *h = r->headers_in.referer;
    if (h == NULL) {
        return rc->no_referer;
    }
    mg_str_t ref = h->value;
    size_t skip = 0;
    /* shorter than "http://i.ru", or another scheme: what a proxy or firewall left */
    if (ref.len >= sizeof("http://i.ru") - 1) {
        if (mg_strncasecmp(ref.data, "http://", 7) == 0) {
            skip = 7;
        } else if (mg_strncasecmp(ref.data, "https://", 8) == 0) {
            skip = 8;
        }
    }
    if (skip == 0) {
        return rc->blocked_referer;
    }
    ref.data += skip;
    ref.len -= skip;
    char buf[HOST_MAX];
    size_t n = 0;
    while (n < ref.len && ref.data[n] != '/' && ref.data[n] != ':') {
        if (n == HOST_MAX) {
            return 0;
        }
        buf[n] = mg_tolower(ref.data[n]);
        n++;
    }
    mg_str_t host = {n, buf};
    referer_name_t *found = find_name(rc->exact, host);
    if (found == NULL) {
        found = find_wildcard(rc->head, host, 1);
    }
    if (found == NULL) {
        found = find_wildcard(rc->tail, host, 0);
    }
    if (found) {
        if (found->uri.data == NULL) {
            return 1;
        }
        /* the path after the host and a port; a host with a URI part decides alone */
        const char *p = memchr(ref.data + n, '/', ref.len - n);
        size_t len = p ? (size_t)(ref.data + ref.len - p) : 0;
        return p && len >= found->uri.len && memcmp(p, found->uri.data, found->uri.len) == 0;
    }
    if (regex_list_matches(r, rc->regex, ref)) {
        return 1;
    }
    mg_str_t lhost = mg_pstr(r->pool, buf, n);
    return regex_list_matches(r, rc->server_regex, lhost);
}

static mg_int_t var_invalid_referer(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    referer_conf_t *rc = mg_http_get_loc_conf(r, mg_referer_module);
    if (referer_valid_for(r, rc)) {
        v->value.data = "";
        v->value.len = 0;
    } else {
        v->value.data = "1";
        v->value.len = 1;
    }
    v->valid = 1;
    v->not_found = 0;
    return MG_OK;
}

static void *referer_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, 1);
}

/* Cacheable, as nginx's: a value computed with the server's list stays for the request. */
static const char *referer_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    mg_str_t name = mg_string("invalid_referer");
    mg_http_variable_t *v = mg_http_add_variable(cf, name, 0);
    if (v == NULL) {
        return MG_CONF_ERROR;
    }
    v->get_handler = var_invalid_referer;
    return MG_CONF_OK;
}

static const mg_command_t referer_commands[] = {
    {"valid_referers", MG_CTX_SERVER | MG_CTX_LOCATION, MG_ARGS(1, MG_MANY), referer_valid,
     MG_LOC_CONF, 0, NULL},
    {"referer_hash_max_size", MG_CTX_SERVER | MG_CTX_LOCATION, MG_ARGS(1, 1), mg_conf_set_num,
     MG_LOC_CONF, offsetof(referer_conf_t, hash_max_size), NULL},
    {"referer_hash_bucket_size", MG_CTX_SERVER | MG_CTX_LOCATION, MG_ARGS(1, 1), mg_conf_set_num,
     MG_LOC_CONF, offsetof(referer_conf_t, hash_bucket_size), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t referer_defaults[] = {
    {"valid_referers", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_referer_module = {
    .name = "referer",
    .commands = referer_commands,
    .defaults = referer_defaults,
    .create_main_conf = referer_create_main_conf,
    .init_main_conf = referer_init_main_conf,
    .create_loc_conf = referer_create_conf,
    .merge_loc_conf = referer_merge_conf,
};
