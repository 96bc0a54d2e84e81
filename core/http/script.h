/*
 * Complex values: strings with variables in them ("$scheme://$host$request_uri"), compiled
 * once at config time into literal and variable parts, evaluated per request into its pool.
 */
#ifndef MG_HTTP_SCRIPT_H
#define MG_HTTP_SCRIPT_H

#include "http.h"

typedef struct {
    mg_str_t literal;  /* when index < 0 and capture == 0 */
    mg_int_t index;    /* variable index, or -1 */
    int capture;       /* $1..$9, or 0 */
} mg_http_cv_part_t;

typedef struct mg_http_complex_value_s {
    mg_str_t value;           /* the source text; the result when nparts == 0 */
    mg_http_cv_part_t *parts;
    size_t nparts;
} mg_http_complex_value_t;

/* Count of '$' references; 0 means the text is a constant. */
mg_uint_t mg_http_script_variables_count(mg_str_t s);
/* Read a variable reference right after a '$' at src[*pos] ("name" or "{name}"), advance
 * *pos past it and return the variable's index; MG_ERROR (logged) on a bad name. */
mg_int_t mg_http_script_var_ref(mg_conf_t *cf, mg_str_t src, size_t *pos);
/* Compile; logs the error with FILE:LINE and returns MG_ERROR on a bad variable name. */
mg_int_t mg_http_compile_complex_value(mg_conf_t *cf, mg_str_t src, mg_http_complex_value_t *cv);
/* The value for r: the literal itself, or a NUL-terminated string in r->pool (a variable
 * that is not found contributes nothing). Cannot fail. */
mg_str_t mg_http_complex_value(mg_request_t *r, mg_http_complex_value_t *cv);
/* The same for rewrite's arguments and redirects: $1..$9 come %-escaped as query arguments
 * when the client's path had a '%' or '+' (nginx's quoted_uri/plus_in_uri), so that a decoded
 * "a&b" cannot split an argument. */
mg_str_t mg_http_complex_value_args(mg_request_t *r, mg_http_complex_value_t *cv);

#endif
