/*
 * What FastCGI, uwsgi and SCGI share (cgi_params.c): the CGI variables (the *_param
 * directives: values with variables, if_not_empty, a level with its own replaces the
 * parent's, as nginx; the client's header lines as HTTP_NAME unless a param has that name),
 * evaluated per request into one list each protocol encodes its way; *_pass (an address,
 * unix:, an upstream{} name, variables); and the handler's course: the head built, the body
 * read, the protocol's framing put around it, the engine started.
 */
#ifndef MG_MODULES_CGI_PARAMS_H
#define MG_MODULES_CGI_PARAMS_H

#include "script.h"
#include "upstream_io.h"

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

/* *_pass: in the location's conf at the command's offset; cmd->post is the content handler */
typedef struct {
    int set;
    mg_upstream_group_t *group;
    mg_http_complex_value_t *url_cv; /* with variables */
} mg_cgi_pass_t;

const char *mg_cgi_set_pass(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* an "if" block sees the enclosing location's *_pass */
void mg_cgi_merge_pass(mg_cgi_pass_t *conf, mg_cgi_pass_t *prev);

typedef struct mg_cgi_ctx_s mg_cgi_ctx_t;

/* A request's exchange; a protocol's own context starts with it. */
struct mg_cgi_ctx_s {
    mg_upstream_t u;
    mg_upstream_conf_t uconf; /* the location's, with the protocol's temp path */
    int started;
    mg_module_t *module;
    mg_buf_t *head; /* the request before the body, built by the protocol */
    /* builds head once the body is read (so $content_length is a chunked body's length, as
     * nginx's), or at once when it goes on as it arrives: MG_OK or an HTTP status */
    mg_int_t (*create_request)(mg_request_t *r, mg_cgi_ctx_t *ctx);
    /* the body (NULL: none) with the protocol's framing; the chain to send after the head */
    mg_buf_t *(*frame_body)(mg_request_t *r, mg_cgi_ctx_t *ctx, mg_buf_t *body);
    mg_str_t resolve_host; /* a variable *_pass's host name */
    in_port_t resolve_port;
    /* the body may go on as it arrives (*_request_buffering off, a Content-Length body): as
     * it is (uwsgi, SCGI), or framed by u->frame_stream (FastCGI), which takes a chunked body
     * so too (stream_chunked: its payload, as nginx's FastCGI; uwsgi and SCGI read it first) */
    unsigned stream_body : 1;
    unsigned stream_chunked : 1;
};

/* Make the context (size bytes, at least sizeof(mg_cgi_ctx_t)) and its upstream on pass's
 * target: MG_OK, or an HTTP status. The caller then sets its hooks. */
mg_int_t mg_cgi_ctx_init(mg_request_t *r, mg_cgi_ctx_t **ctxp, size_t size, mg_module_t *module,
                         mg_cgi_pass_t *pass, mg_upstream_conf_t *conf,
                         mg_http_temp_path_t *temp_path, const char *schema);
/* The cache lookup (*_cache), before the request is built (its params depend on it): 1 when
 * the cache answered (or the request waits for *_cache_lock), *rc the handler's answer. */
int mg_cgi_cache(mg_request_t *r, mg_cgi_ctx_t *ctx, mg_int_t *rc);
/* Read the body (when the protocol passes it), build the request (ctx->create_request) and
 * start: the handler's answer. */
mg_int_t mg_cgi_run(mg_request_t *r, mg_cgi_ctx_t *ctx);
/* The request's exchange for mg_upstream_add_owner's accessors */
mg_upstream_t *mg_cgi_upstream(mg_request_t *r, mg_module_t *module);

#endif
