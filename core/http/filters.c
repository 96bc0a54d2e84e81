/*
 * The filter chains of one http{} block, built at its end: each filter module, in the order of
 * modules/modules.c, links its filters on top (mg_http_link_filters) when some server or
 * location of this configuration can use them. A filter that only checks its location's conf
 * and passes the response on then costs nothing where it is configured nowhere; the ones that
 * act on what happens at run time (range, not_modified, charset, postpone, chunked and the
 * writer) are always linked. Chains are a generation's: the old one keeps its own across a
 * reload, and two servers in one process never share one.
 */
#include "http.h"

/* loc_conf: a server's or location's conf array; the locations nested in it are asked too */
static int any_location(void **loc_conf, size_t index, int (*used)(const void *loc_conf))
{
    if (used(loc_conf[index])) {
        return 1;
    }
    const mg_http_loc_conf_t *clcf = loc_conf[mg_http_core_module.index];
    if (clcf->locations == NULL) {
        return 0;
    }
    mg_http_loc_conf_t **locs = clcf->locations->elts;
    for (size_t i = 0; i < clcf->locations->nelts; i++) {
        if (any_location(locs[i]->loc_conf, index, used)) {
            return 1;
        }
    }
    return 0;
}

static int filter_used(mg_conf_t *cf, const mg_module_t *m, int (*used)(const void *loc_conf))
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    mg_http_srv_conf_t **servers = cmcf->servers.elts;
    for (size_t s = 0; s < cmcf->servers.nelts; s++) {
        if (any_location(servers[s]->ctx->loc_conf, (size_t)m->index, used)) {
            return 1;
        }
    }
    return 0;
}

void mg_http_link_filters(mg_conf_t *cf, const mg_module_t *m, int (*used)(const void *loc_conf),
                          mg_http_header_filter_pt header, mg_http_body_filter_pt body)
{
    if (used && !filter_used(cf, m, used)) {
        return;
    }
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    if (header) {
        cmcf->filters.header_next[m->index] = cmcf->filters.header_top;
        cmcf->filters.header_top = header;
    }
    if (body) {
        cmcf->filters.body_next[m->index] = cmcf->filters.body_top;
        cmcf->filters.body_top = body;
    }
}

mg_int_t mg_http_init_filters(mg_conf_t *cf)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    cmcf->filters.header_next =
        mg_pcalloc(cf->pool, mg_modules_n * sizeof(mg_http_header_filter_pt));
    cmcf->filters.body_next = mg_pcalloc(cf->pool, mg_modules_n * sizeof(mg_http_body_filter_pt));
    for (size_t m = 0; m < mg_modules_n; m++) {
        if (mg_modules[m]->init_filters) {
            mg_modules[m]->init_filters(cf);
        }
    }
    return MG_OK;
}
