/*
 * The one ordered list of compiled-in modules. Order matters twice:
 * - directives are looked up in this order;
 * - phase handlers of one phase run in reverse order of this list (as nginx's), so a module
 *   listed later gets the first look: index runs before static in the content phase;
 * - filters: each filter module's init puts itself at the top of the chain, so a module
 *   listed later filters first; the chain ends in core/http/write.c's writer.
 */
#include "http.h"

extern mg_module_t mg_conf_module;
extern mg_module_t mg_static_module;
extern mg_module_t mg_index_module;
extern mg_module_t mg_return_module;
extern mg_module_t mg_headers_module;

mg_module_t *mg_modules[] = {
    &mg_conf_module,
    &mg_core_module,
    &mg_http_module,
    &mg_http_core_module,
    &mg_static_module,
    &mg_index_module,
    &mg_return_module,
    &mg_headers_module,
    NULL,
};
