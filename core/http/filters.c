/*
 * The filter chains of one http{} block, built at its end. Each filter module, in the order of
 * modules/modules.c, names its filters and where they have anything to do
 * (mg_http_link_filters); then every location (server level, nested, named, "if" and
 * limit_except bodies) gets a chain of only the filters its merged conf uses, shared by the
 * locations that use the same set, and the generation gets the chain of all those any location
 * uses. A filter that only checks its location's conf and passes the response on then costs
 * nothing where it is not configured; the ones that act on what happens at run time (range,
 * not_modified, postpone, chunked and the writer) are in every chain. Chains are a
 * generation's: the old one keeps its own across a reload, and two servers in one process never
 * share one.
 */
#include "http.h"

/* One module's filters as mg_http_link_filters recorded them (config time only). */
typedef struct {
    const mg_module_t *module;
    int (*used)(const void *loc_conf);
    mg_http_header_filter_pt header;
    mg_http_body_filter_pt body;
    unsigned run_time : 1; /* in the generation's chain even where no location uses it */
} filter_link_t;

/* The chains built so far for one set of links, a bit each (bit i: links[i]). */
typedef struct {
    uint64_t set;
    mg_http_filters_t *chain;
} chain_set_t;

/* a location's set of filters is a 64-bit mask (today's modules link about 20) */
#define MAX_LINKS 64

typedef struct {
    mg_conf_t *cf;
    filter_link_t *links;
    size_t nlinks;
    uint64_t always; /* the links without `used` */
    uint64_t all;    /* what some location uses, and the run-time ones: the generation's chain */
    mg_array_t sets; /* chain_set_t */
} build_t;

static void push_link(mg_conf_t *cf, const mg_module_t *m, int (*used)(const void *loc_conf),
                      mg_http_header_filter_pt header, mg_http_body_filter_pt body,
                      unsigned run_time)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    filter_link_t *l = mg_array_push(cmcf->filter_links);
    *l = (filter_link_t){m, used, header, body, run_time};
}

void mg_http_link_filters(mg_conf_t *cf, const mg_module_t *m, int (*used)(const void *loc_conf),
                          mg_http_header_filter_pt header, mg_http_body_filter_pt body)
{
    push_link(cf, m, used, header, body, 0);
}

void mg_http_link_run_time_filters(mg_conf_t *cf, const mg_module_t *m,
                                   int (*used)(const void *loc_conf),
                                   mg_http_header_filter_pt header, mg_http_body_filter_pt body)
{
    push_link(cf, m, used, header, body, 1);
}

/* Filters go on top: the links are in modules.c's order, so a module listed later filters
 * first, as nginx's static next pointers make it. */
static mg_http_filters_t *build_chain(build_t *b, uint64_t set)
{
    mg_http_filters_t *f = mg_pcalloc(b->cf->pool, sizeof(*f));
    f->header_next = mg_pcalloc(b->cf->pool, mg_modules_n * sizeof(mg_http_header_filter_pt));
    f->body_next = mg_pcalloc(b->cf->pool, mg_modules_n * sizeof(mg_http_body_filter_pt));
    for (size_t i = 0; i < b->nlinks; i++) {
        const filter_link_t *l = &b->links[i];
        if (!(set & (uint64_t)1 << i)) {
            continue;
        }
        if (l->header) {
            f->header_next[l->module->index] = f->header_top;
            f->header_top = l->header;
        }
        if (l->body) {
            f->body_next[l->module->index] = f->body_top;
            f->body_top = l->body;
        }
    }
    return f;
}

static mg_http_filters_t *chain_for(build_t *b, uint64_t set)
{
    chain_set_t *s = b->sets.elts;
    for (size_t i = 0; i < b->sets.nelts; i++) {
        if (s[i].set == set) {
            return s[i].chain;
        }
    }
    chain_set_t *n = mg_array_push(&b->sets);
    n->set = set;
    n->chain = build_chain(b, set);
    return n->chain;
}

/* loc_conf: a server's or location's conf array; the locations nested in it get theirs too */
static void link_location(build_t *b, void **loc_conf)
{
    uint64_t set = b->always;
    for (size_t i = 0; i < b->nlinks; i++) {
        const filter_link_t *l = &b->links[i];
        if (l->used && l->used(loc_conf[l->module->index])) {
            set |= (uint64_t)1 << i;
        }
    }
    b->all |= set;
    mg_http_loc_conf_t *clcf = loc_conf[mg_http_core_module.index];
    clcf->filters = chain_for(b, set);
    if (clcf->locations == NULL) {
        return;
    }
    mg_http_loc_conf_t **locs = clcf->locations->elts;
    for (size_t i = 0; i < clcf->locations->nelts; i++) {
        link_location(b, locs[i]->loc_conf);
    }
}

mg_int_t mg_http_init_filters(mg_conf_t *cf)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    cmcf->filter_links = mg_array_create(cf->pool, 32, sizeof(filter_link_t));
    for (size_t m = 0; m < mg_modules_n; m++) {
        if (mg_modules[m]->init_filters) {
            mg_modules[m]->init_filters(cf);
        }
    }
    build_t b = {.cf = cf, .links = cmcf->filter_links->elts, .nlinks = cmcf->filter_links->nelts};
    if (b.nlinks > MAX_LINKS) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "%zu filter modules, more than %d", b.nlinks,
                     MAX_LINKS);
        return MG_ERROR;
    }
    mg_array_init(&b.sets, cf->pool, 8, sizeof(chain_set_t));
    for (size_t i = 0; i < b.nlinks; i++) {
        b.always |= b.links[i].used ? 0 : (uint64_t)1 << i;
        b.all |= b.links[i].run_time ? (uint64_t)1 << i : 0;
    }
    b.all |= b.always;
    mg_http_srv_conf_t **servers = cmcf->servers.elts;
    for (size_t s = 0; s < cmcf->servers.nelts; s++) {
        link_location(&b, servers[s]->ctx->loc_conf);
    }
    cmcf->filters = *chain_for(&b, b.all);
    return MG_OK;
}

const mg_http_filters_t *mg_http_response_filters(mg_request_t *r)
{
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    const mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (r->parent || r->headers_out.override_charset.len || clcf->filters == NULL) {
        return &cmcf->filters;
    }
    return clcf->filters;
}
