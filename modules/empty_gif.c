/*
 * empty_gif (nginx's ngx_http_empty_gif_module): a location's content handler answering GET
 * and HEAD with a 1x1 transparent GIF, the 43 bytes nginx sends, with nginx's fixed
 * Last-Modified, so If-Modified-Since gets a 304 from not_modified.
 */
#include "http.h"

mg_module_t mg_empty_gif_module;

/* GIF89a, 1x1, a two-color table (black, white), a graphic control extension making color 1
 * transparent, one image with a four-byte LZW stream. */
static const unsigned char gif[] = {
    'G',  'I',  'F',  '8',  '9',  'a',  0x01, 0x00, 0x01, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x01, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x4c, 0x01, 0x00, 0x3b,
};

/* "Mon, 28 Sep 1970 06:00:00 GMT": nginx's date for its built-in resources */
#define GIF_LAST_MODIFIED 23349600

static mg_int_t empty_gif_handler(mg_request_t *r)
{
    if (r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD) {
        return MG_HTTP_NOT_ALLOWED;
    }
    mg_int_t rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    r->headers_out.last_modified_time = GIF_LAST_MODIFIED;
    mg_str_t type = mg_string("image/gif");
    mg_str_t body = {sizeof(gif), (char *)gif};
    return mg_http_send_response(r, MG_HTTP_OK, &type, &body);
}

static const char *empty_gif_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    clcf->handler = empty_gif_handler;
    return MG_CONF_OK;
}

static const mg_command_t empty_gif_commands[] = {
    {"empty_gif", MG_CTX_LOCATION, MG_ARGS(0, 0), empty_gif_set, MG_NO_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t empty_gif_defaults[] = {
    {"empty_gif", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_empty_gif_module = {
    .name = "empty_gif",
    .commands = empty_gif_commands,
    .defaults = empty_gif_defaults,
};
