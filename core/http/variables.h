/*
 * The variable subsystem shared by config scripts, modules and Lua: named getters, a
 * per-request cache for variables the configuration references by index, prefix families
 * ($http_*, $arg_*, $cookie_*, $sent_http_*) and regex captures ($1..$9, named).
 */
#ifndef MG_HTTP_VARIABLES_H
#define MG_HTTP_VARIABLES_H

#include "http.h"

#define MG_HTTP_VAR_CHANGEABLE 1
#define MG_HTTP_VAR_NOCACHEABLE 2
#define MG_HTTP_VAR_PREFIX 4
#define MG_HTTP_VAR_NOHASH 8
/* its values are numbers, times or a client's address (digits, hex digits, '.', ':', '+',
 * '-', ' ', month names, "unix:"; $remote_addr is an address printed by mg_sockaddr_text,
 * realip's too, or "unix:"): no log escaping changes them, so access_log copies them without
 * measuring */
#define MG_HTTP_VAR_PLAIN 16

typedef struct mg_http_variable_s mg_http_variable_t;
typedef mg_int_t (*mg_http_get_variable_pt)(mg_request_t *r, mg_http_var_value_t *v,
                                            uintptr_t data);
typedef void (*mg_http_set_variable_pt)(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data);

struct mg_http_variable_s {
    mg_str_t name; /* lowercase */
    mg_http_get_variable_pt get_handler;
    mg_http_set_variable_pt set_handler;
    uintptr_t data;
    unsigned flags;
    mg_uint_t index;
};

/* Declare a variable (a module's own, or "set"'s); returns the existing one when the name is
 * already declared and changeable, NULL (logged) on a conflict. */
mg_http_variable_t *mg_http_add_variable(mg_conf_t *cf, mg_str_t name, unsigned flags);
/* Index of a variable referenced by config; resolved and checked at the end of http{}. */
mg_int_t mg_http_get_variable_index(mg_conf_t *cf, mg_str_t name);
/* The value, computed once and then cached (unless non-cacheable); NULL for a bad index or
 * when variables computed inside each other go 100 deep (a cycle, logged). */
mg_http_var_value_t *mg_http_get_indexed_variable(mg_request_t *r, mg_uint_t index);
/* Like get_indexed, but re-evaluates non-cacheable ones. */
mg_http_var_value_t *mg_http_get_flushed_variable(mg_request_t *r, mg_uint_t index);
/* Look up by lowercase name at run time (Lua's ngx.var). NULL if no such variable. */
mg_http_var_value_t *mg_http_get_variable(mg_request_t *r, mg_str_t name);
/* The same, with a variable that has no per-request slot computed into *tmp instead of a
 * pool allocation (for a caller that copies the value at once: Lua's ngx.var). */
mg_http_var_value_t *mg_http_get_variable_in(mg_request_t *r, mg_str_t name,
                                             mg_http_var_value_t *tmp);

/* Give an indexed variable a value ("set", ngx.var.x = v); value must live as long as r. */
void mg_http_set_indexed_variable(mg_request_t *r, mg_uint_t index, mg_str_t value);
/* Write a changeable variable by lowercase name (value NULL: "not found", as Lua's nil):
 * MG_OK; MG_ERROR when a declared variable (built in, set, map ...) cannot be written;
 * MG_DECLINED when no variable is declared by that name (a prefix family's member included). */
mg_int_t mg_http_set_variable(mg_request_t *r, mg_str_t name, mg_str_t *value);

/* Register the built-in variables (http{} start) and resolve the indexed ones (http{} end). */
mg_int_t mg_http_variables_add_core(mg_conf_t *cf);
mg_int_t mg_http_variables_init(mg_conf_t *cf);

/* Capture n of the last regex match ($1..$9), "" when unset. */
void mg_http_capture(mg_request_t *r, int n, mg_str_t *out);
/* Compile a config regex: logs errors as config errors, widens the capture count and declares
 * its named captures as variables. NULL on error. */
mg_regex_t *mg_http_regex_compile(mg_conf_t *cf, mg_str_t pattern, int caseless);
/* Match s: MG_OK (captures and named-capture variables set), MG_DECLINED, MG_ERROR (logged). */
mg_int_t mg_http_regex_exec(mg_request_t *r, mg_regex_t *re, mg_str_t s);

#endif
