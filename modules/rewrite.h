/*
 * What other modules may ask of the rewrite module: a "set" of their own, whose value they
 * compute (set_by_lua), run in order with the rewrite module's set/if/return.
 */
#ifndef MG_MODULES_REWRITE_H
#define MG_MODULES_REWRITE_H

#include "http.h"

/* The value of such a "set": MG_OK with *value (in r's pool), or an HTTP status / MG_ERROR
 * that ends the list as "return" would. */
typedef mg_int_t (*mg_http_rewrite_value_pt)(mg_request_t *r, void *data, mg_str_t *value);
/* Add, at the current place of the current level's list, a set of $name computed by handler. */
mg_int_t mg_http_rewrite_add_set(mg_conf_t *cf, mg_str_t name, mg_http_rewrite_value_pt handler,
                                 void *data);

#endif
