/*
 * The CGI variables FastCGI, uwsgi and SCGI send (cgi_params.c): the *_param directives
 * (values with variables, if_not_empty; a level with its own replaces the parent's, as nginx)
 * and the client's header lines as HTTP_NAME (unless a param has that name), evaluated per
 * request into one list each protocol encodes its way.
 */
#ifndef MG_MODULES_CGI_PARAMS_H
#define MG_MODULES_CGI_PARAMS_H

#include "script.h"

typedef struct {
    mg_str_t key;
    mg_http_complex_value_t value;
    int if_not_empty;
} mg_cgi_param_t;

typedef struct {
    mg_str_t key, value;
} mg_cgi_pair_t;

/* "*_param NAME VALUE [if_not_empty]": the command's offset is the mg_array_t *'s */
const char *mg_cgi_set_param(mg_conf_t *cf, const mg_command_t *cmd, void *conf);

/* The pairs to send, in order: the params (empty ones under if_not_empty left out), then with
 * headers the client's lines. Returns an array of mg_cgi_pair_t in r's pool. */
mg_array_t *mg_cgi_params(mg_request_t *r, mg_array_t *params, int headers);

#endif
