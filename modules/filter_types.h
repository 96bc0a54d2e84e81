/*
 * The "*_types" lists of the text filters (sub_filter_types, addition_types, charset_types,
 * ssi_types): MIME types matched against the response's Content-Type without its parameters,
 * text/html always in, "*" for any, nginx's warning for a duplicate.
 */
#ifndef MG_FILTER_TYPES_H
#define MG_FILTER_TYPES_H

#include "http.h"

typedef struct {
    mg_array_t *types; /* mg_str_t, lowercase; NULL while unset */
    int any;
} mg_filter_types_t;

/* The directive's setter body for a list at conf + cmd->offset. */
const char *mg_filter_types_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* Inherit the parent's list, else the defaults (NULL-terminated; text/html is added). */
void mg_filter_types_merge(mg_conf_t *cf, mg_filter_types_t *conf, mg_filter_types_t *prev,
                           const char *const *defaults);
/* Whether the response's Content-Type is in the list. */
int mg_filter_types_test(mg_request_t *r, mg_filter_types_t *t);

/* The last-step helpers every text filter needs on the response head. */
/* ETag made weak (an ETag that is not a quoted string is dropped), as nginx's weak_etag. */
void mg_filter_weak_etag(mg_request_t *r);
void mg_filter_clear_etag(mg_request_t *r);

#endif
