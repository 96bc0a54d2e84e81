/*
 * Location lists per level and the search nginx does: exact match, else the longest prefix
 * (searching locations nested in it), "^~" skipping regexes, else regexes in config order
 * (their captures become $1..$9), else the longest prefix.
 */
#include "conn.h"
#include "variables.h"

/* The locations directly inside one level (server or location), sorted for the search. */
typedef struct loc_level_s {
    mg_array_t exact;  /* mg_http_loc_conf_t * */
    mg_array_t prefix; /* longest first */
    mg_array_t regex;  /* config order */
} loc_level_t;

static loc_level_t *level_of(mg_http_loc_conf_t *clcf)
{
    return clcf->level;
}

static int prefix_longer_first(const void *a, const void *b)
{
    const mg_http_loc_conf_t *x = *(mg_http_loc_conf_t *const *)a;
    const mg_http_loc_conf_t *y = *(mg_http_loc_conf_t *const *)b;
    if (x->name.len != y->name.len) {
        return x->name.len > y->name.len ? -1 : 1;
    }
    return 0;
}

static int same_kind(mg_http_loc_conf_t *a, mg_http_loc_conf_t *b)
{
    if (a->named != b->named || a->exact_match != b->exact_match) {
        return 0;
    }
    if ((a->regex != NULL) != (b->regex != NULL)) {
        return 0;
    }
    return 1;
}

/* For the duplicate check: a non-regex location's kind, name and place in the level. */
typedef struct {
    mg_http_loc_conf_t *l;
    size_t index;
} loc_ref_t;

static int ref_cmp(const void *a, const void *b)
{
    const loc_ref_t *x = a, *y = b;
    int kx = x->l->named * 2 + x->l->exact_match, ky = y->l->named * 2 + y->l->exact_match;
    if (kx != ky) {
        return kx < ky ? -1 : 1;
    }
    size_t n = mg_min(x->l->name.len, y->l->name.len);
    int c = memcmp(x->l->name.data, y->l->name.data, n);
    if (c != 0) {
        return c;
    }
    if (x->l->name.len != y->l->name.len) {
        return x->l->name.len < y->l->name.len ? -1 : 1;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The index of the first location (in config order) that repeats an earlier one's kind and
 * name, or n: sorted, so that 10,000 locations cost no 50 million comparisons. */
static size_t first_duplicate(mg_http_loc_conf_t **locs, size_t n)
{
    loc_ref_t *refs = mg_alloc(n * sizeof(loc_ref_t) + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!locs[i]->regex && !locs[i]->is_if && !locs[i]->lmt_except) {
            refs[k++] = (loc_ref_t){locs[i], i};
        }
    }
    qsort(refs, k, sizeof(loc_ref_t), ref_cmp);
    size_t first = n;
    for (size_t i = 1; i < k; i++) {
        mg_http_loc_conf_t *a = refs[i - 1].l, *b = refs[i].l;
        if (same_kind(a, b) && mg_str_eq_str(a->name, b->name) && refs[i].index < first) {
            first = refs[i].index;
        }
    }
    free(refs);
    return first;
}

mg_int_t mg_http_init_locations(mg_conf_t *cf, mg_http_srv_conf_t *cscf, mg_http_loc_conf_t *pclcf)
{
    if (pclcf->locations == NULL) {
        return MG_OK;
    }
    loc_level_t *lv = mg_pcalloc(cf->pool, sizeof(loc_level_t));
    mg_array_init(&lv->exact, cf->pool, 4, sizeof(void *));
    mg_array_init(&lv->prefix, cf->pool, 4, sizeof(void *));
    mg_array_init(&lv->regex, cf->pool, 4, sizeof(void *));
    pclcf->level = lv;
    mg_http_loc_conf_t **locs = pclcf->locations->elts;
    size_t dup = first_duplicate(locs, pclcf->locations->nelts);
    for (size_t i = 0; i < pclcf->locations->nelts; i++) {
        mg_http_loc_conf_t *l = locs[i];
        if (l->is_if || l->lmt_except) {
            continue; /* an "if" or limit_except body: merged like a location, never searched */
        }
        if (i == dup) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0, "duplicate location \"%.*s\" in %s:%lu",
                         (int)l->name.len, l->name.data, l->file, (unsigned long)l->line);
            return MG_ERROR;
        }
        if (l->named) {
            *(mg_http_loc_conf_t **)mg_array_push(&cscf->named_locations) = l;
        } else if (l->regex) {
            *(mg_http_loc_conf_t **)mg_array_push(&lv->regex) = l;
        } else if (l->exact_match) {
            *(mg_http_loc_conf_t **)mg_array_push(&lv->exact) = l;
        } else {
            *(mg_http_loc_conf_t **)mg_array_push(&lv->prefix) = l;
        }
        if (mg_http_init_locations(cf, cscf, l) != MG_OK) {
            return MG_ERROR;
        }
    }
    /* stable order among equal lengths does not matter: equal names were rejected above */
    qsort(lv->prefix.elts, lv->prefix.nelts, sizeof(void *), prefix_longer_first);
    return MG_OK;
}

static void set_loc(mg_request_t *r, mg_http_loc_conf_t *l)
{
    r->loc_conf = l->loc_conf;
}

static mg_int_t match_regex(mg_request_t *r, mg_http_loc_conf_t *l)
{
    return mg_http_regex_exec(r, l->regex, r->uri);
}

/* MG_OK: final (exact or regex); MG_AGAIN: a prefix was chosen; MG_DECLINED: nothing;
 * MG_DONE: auto-redirect to "uri/"; MG_ERROR. */
static mg_int_t find_in(mg_request_t *r, mg_http_loc_conf_t *pclcf)
{
    loc_level_t *lv = level_of(pclcf);
    if (lv == NULL) {
        return MG_DECLINED;
    }
    mg_http_loc_conf_t **ex = lv->exact.elts;
    for (size_t i = 0; i < lv->exact.nelts; i++) {
        mg_debug_http(&r->connection->log, "test location: \"%.*s\"", (int)ex[i]->name.len,
                      ex[i]->name.data);
        if (mg_str_eq_str(ex[i]->name, r->uri)) {
            set_loc(r, ex[i]);
            return MG_OK;
        }
    }
    mg_int_t rc = MG_DECLINED;
    int noregex = 0, redirect = 0;
    mg_http_loc_conf_t **px = lv->prefix.elts;
    for (size_t i = 0; i < lv->prefix.nelts; i++) {
        mg_http_loc_conf_t *l = px[i];
        mg_debug_http(&r->connection->log, "test location: \"%.*s\"", (int)l->name.len,
                      l->name.data);
        if (r->uri.len >= l->name.len && memcmp(r->uri.data, l->name.data, l->name.len) == 0) {
            set_loc(r, l);
            noregex = l->noregex;
            rc = MG_AGAIN;
            mg_int_t nrc = find_in(r, l);
            if (nrc == MG_OK || nrc == MG_DONE || nrc == MG_ERROR) {
                return nrc;
            }
            break;
        }
        if (l->auto_redirect && r->uri.len + 1 == l->name.len &&
            memcmp(r->uri.data, l->name.data, r->uri.len) == 0) {
            redirect = 1; /* "/dir" for "location /dir/": wins over shorter prefixes and regexes */
        }
    }
    if (redirect) {
        return MG_DONE;
    }
    if (noregex) {
        return rc;
    }
    mg_http_loc_conf_t **rx = lv->regex.elts;
    for (size_t i = 0; i < lv->regex.nelts; i++) {
        mg_debug_http(&r->connection->log, "test location: ~ \"%.*s\"", (int)rx[i]->name.len,
                      rx[i]->name.data);
        mg_int_t m = match_regex(r, rx[i]);
        if (m == MG_ERROR) {
            return MG_ERROR;
        }
        if (m == MG_OK) {
            set_loc(r, rx[i]);
            mg_int_t nrc = find_in(r, rx[i]);
            return nrc == MG_ERROR ? MG_ERROR : MG_OK;
        }
    }
    return rc;
}

mg_int_t mg_http_find_location(mg_request_t *r)
{
    mg_http_srv_conf_t *cscf = mg_http_get_srv_conf(r, mg_http_core_module);
    mg_http_loc_conf_t *srv_loc = cscf->ctx->loc_conf[mg_http_core_module.index];
    r->loc_conf = cscf->ctx->loc_conf;
    mg_int_t rc = find_in(r, srv_loc);
    if (rc == MG_ERROR) {
        return MG_ERROR;
    }
    if (mg_log_debug_on(MG_LOG_DEBUG_HTTP, &r->connection->log)) {
        mg_http_loc_conf_t *l = mg_http_get_loc_conf(r, mg_http_core_module);
        mg_debug_http(&r->connection->log, "using configuration \"%s%.*s\"",
                      l->exact_match ? "=" : "", (int)l->name.len, l->name.data);
    }
    return rc == MG_DONE ? MG_DONE : MG_OK;
}
