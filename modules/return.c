/*
 * "return code [text|URL]" and "return URL": stop processing and answer, in the server
 * rewrite phase (server level) or the rewrite phase (location level). Not inherited by
 * nested locations, as nginx's rewrite-module directives are not.
 */
#include "http.h"
#include "script.h"

typedef struct {
    mg_int_t code; /* -1: none */
    mg_http_complex_value_t *text;
} return_conf_t;

mg_module_t mg_return_module;

static void *return_create_conf(mg_conf_t *cf)
{
    return_conf_t *rc = mg_pcalloc(cf->pool, sizeof(return_conf_t));
    rc->code = -1;
    return rc;
}

static int is_url(mg_str_t s)
{
    return (s.len > 7 && memcmp(s.data, "http://", 7) == 0) ||
           (s.len > 8 && memcmp(s.data, "https://", 8) == 0) ||
           (s.len >= 7 && memcmp(s.data, "$scheme", 7) == 0);
}

static const char *return_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    /* server-level return lives in the srv conf, location-level in the loc conf */
    return_conf_t *rc = cf->ctx == MG_CTX_SERVER
                            ? cf->ctx_data->srv_conf[mg_return_module.index]
                            : conf;
    if (rc->code != -1) {
        /* nginx lets later returns exist but never reach them; keep the first */
        return MG_CONF_OK;
    }
    mg_str_t first = cf->args[1];
    int64_t code = mg_atoi(first.data, first.len);
    mg_str_t text = mg_null_string;
    if (code < 0) {
        if (cf->nargs == 3 || !is_url(first)) {
            mg_conf_error(cf, 0, "invalid return code \"%s\"", first.data);
            return MG_CONF_ERROR;
        }
        code = MG_HTTP_MOVED_TEMPORARILY;
        text = first;
    } else {
        if (code > 999) {
            mg_conf_error(cf, 0, "invalid return code \"%s\"", first.data);
            return MG_CONF_ERROR;
        }
        if (cf->nargs == 3) {
            text = cf->args[2];
        }
    }
    rc->code = (mg_int_t)code;
    if (text.data) {
        rc->text = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
        if (mg_http_compile_complex_value(cf, text, rc->text) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

static int is_redirect(mg_int_t code)
{
    return code == MG_HTTP_MOVED_PERMANENTLY || code == MG_HTTP_MOVED_TEMPORARILY ||
           code == MG_HTTP_SEE_OTHER || code == MG_HTTP_TEMPORARY_REDIRECT ||
           code == MG_HTTP_PERMANENT_REDIRECT;
}

static mg_int_t return_run(mg_request_t *r, return_conf_t *rc)
{
    if (rc->code < 0) {
        return MG_DECLINED;
    }
    mg_int_t code = rc->code;
    if (code == MG_HTTP_CLOSE) {
        return MG_HTTP_CLOSE;
    }
    /* $status in the text or URL is the code being returned */
    r->headers_out.status = (mg_uint_t)code;
    if (code >= MG_HTTP_BAD_REQUEST && rc->text == NULL) {
        return code; /* the error page; it does not ask for a held-back body */
    }
    mg_int_t drc = mg_http_discard_request_body(r);
    if (drc != MG_OK) {
        return drc;
    }
    mg_str_t text = mg_null_string;
    if (rc->text) {
        mg_http_complex_value(r, rc->text, &text);
    }
    if (is_redirect(code)) {
        if (rc->text) {
            r->headers_out.location = mg_http_add_header_out(r, "Location", 8, text.data, text.len);
        }
        return code;
    }
    mg_http_set_content_type(r);
    return mg_http_send_response(r, (mg_uint_t)code, NULL, &text);
}

static mg_int_t return_server_handler(mg_request_t *r)
{
    return return_run(r, mg_http_get_srv_conf(r, mg_return_module));
}

static mg_int_t return_location_handler(mg_request_t *r)
{
    return return_run(r, mg_http_get_loc_conf(r, mg_return_module));
}

static mg_int_t return_init(mg_conf_t *cf)
{
    mg_http_add_phase_handler(cf, MG_HTTP_SERVER_REWRITE_PHASE, return_server_handler);
    mg_http_add_phase_handler(cf, MG_HTTP_REWRITE_PHASE, return_location_handler);
    return MG_OK;
}

static const mg_command_t return_commands[] = {
    { "return", MG_CTX_SERVER | MG_CTX_LOCATION | MG_CTX_SIF | MG_CTX_LIF, MG_ARGS(1, 2),
      return_set, MG_LOC_CONF, 0, NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL },
};

mg_module_t mg_return_module = {
    .name = "return",
    .commands = return_commands,
    .create_srv_conf = return_create_conf,
    .create_loc_conf = return_create_conf,
    .init = return_init,
};
