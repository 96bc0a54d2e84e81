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

#include "proxy_extra.h"
#include "proxy_ssl.h"
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
    int tls; /* "suwsgi://": uwsgi over TLS */
    mg_upstream_group_t *group;
    mg_http_complex_value_t *url_cv; /* with variables */
} mg_cgi_pass_t;

const char *mg_cgi_set_pass(mg_conf_t *cf, const mg_command_t *cmd, void *conf);

/* The start of each protocol's location conf (FastCGI, uwsgi, SCGI; gRPC's, without params) */
typedef struct {
    mg_upstream_conf_t upstream;
    mg_cgi_pass_t pass;
    mg_array_t *params; /* mg_cgi_param_t: this level's, else the parent's */
} mg_cgi_loc_conf_t;

/* The module hooks' shared part: create_loc_conf makes size bytes (a struct that starts with
 * mg_cgi_loc_conf_t, the rest zero) with the family's unset values; merge_loc_conf merges the
 * family's settings (name: "fastcgi", for the messages), *_param and *_pass, MG_CONF_OK or
 * MG_CONF_ERROR; create_main_conf's conf exists so that init_main_conf runs, which makes the
 * module's exchanges known to the engine (mg_upstream_add_owner). */
void *mg_cgi_create_loc_conf(mg_conf_t *cf, size_t size);
const char *mg_cgi_merge_loc_conf(mg_conf_t *cf, void *conf, void *prev, const char *name);
void *mg_cgi_create_main_conf(mg_conf_t *cf);
void mg_cgi_add_owner(mg_module_t *module);

typedef struct mg_cgi_ctx_s mg_cgi_ctx_t;

/* What a protocol (FastCGI, uwsgi, SCGI) gives mg_cgi_handler: one constant table each */
typedef struct {
    mg_module_t *module; /* its location conf starts with mg_cgi_loc_conf_t */
    const char *schema;  /* "fastcgi://", for the log's upstream address */
    size_t ctx_size;     /* its request context, which starts with mg_cgi_ctx_t */
    size_t temp_path;    /* offsetof its *_temp_path in the core's location conf */
    int store;           /* its *_store directives' slot (MG_UPSTREAM_STORE_*, proxy_extra.h) */
    size_t ssl;          /* offsetof its mg_proxy_ssl_conf_t in its location conf (uwsgi_ssl_*,
                            for suwsgi://); 0: the protocol has no TLS */
    /* the answer's head into the response: its own, else the default lines of the hide
     * groups (MG_UPSTREAM_HIDE_*) hidden */
    mg_int_t (*process_header)(mg_upstream_t *u);
    mg_uint_t hide;
    ssize_t (*parse_head)(mg_upstream_t *u, const char *buf, size_t len, mg_upstream_head_t *h);
    mg_int_t (*decode)(mg_upstream_t *u, char *buf, size_t *n); /* NULL: the bytes as they are */
    void (*reinit)(mg_upstream_t *u);                 /* decode's state reset before each try */
    size_t (*raw_offset)(mg_upstream_t *u, size_t d); /* see mg_upstream_t */
    /* builds ctx->head once the body is read (so $content_length is a chunked body's length,
     * as nginx's), or at once when it goes on as it arrives: MG_OK or an HTTP status */
    mg_int_t (*create_request)(mg_request_t *r, mg_cgi_ctx_t *ctx);
    /* the body (NULL: none) with the protocol's framing, the chain to send after the head;
     * NULL: the body as it is */
    mg_buf_t *(*frame_body)(mg_request_t *r, mg_cgi_ctx_t *ctx, mg_buf_t *body);
    /* with *_request_buffering off a Content-Length body goes on as it arrives: as it is
     * (uwsgi, SCGI), or framed by this (FastCGI), which takes a chunked body so too (its
     * payload, as nginx's FastCGI; uwsgi and SCGI read it first) */
    mg_buf_t *(*frame_stream)(mg_upstream_t *u, mg_buf_t *stream, size_t n);
} mg_cgi_protocol_t;

/* A request's exchange; a protocol's own context starts with it. */
struct mg_cgi_ctx_s {
    mg_upstream_t u;
    mg_upstream_conf_t uconf; /* the location's, with the protocol's temp path */
    int started;
    mg_module_t *module;
    const mg_cgi_protocol_t *proto; /* NULL: gRPC's, which runs its own course */
    mg_buf_t *head;                 /* the request before the body, built by the protocol */
    mg_str_t resolve_host;          /* a variable *_pass's host name */
    mg_str_t pass_host;             /* "host:port" as the pass names it (the TLS name) */
    unsigned tls : 1;               /* suwsgi:// */
    in_port_t resolve_port;
};

/* A protocol's content handler: MG_DECLINED without its *_pass, else the handler's answer */
mg_int_t mg_cgi_handler(mg_request_t *r, const mg_cgi_protocol_t *proto);

/* Make the context (size bytes, at least sizeof(mg_cgi_ctx_t)) and its upstream on pass's
 * target: MG_OK, or an HTTP status. The caller then sets its hooks. */
mg_int_t mg_cgi_ctx_init(mg_request_t *r, mg_cgi_ctx_t **ctxp, size_t size, mg_module_t *module,
                         mg_cgi_pass_t *pass, mg_upstream_conf_t *conf,
                         mg_http_temp_path_t *temp_path, const char *schema);

#endif
