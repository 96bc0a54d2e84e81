/*
 * flv (nginx's ngx_http_flv_module): a location's content handler sending FLV files, and for
 * "?start=N" (a byte offset, as Flash players seek) the file from byte N behind a 13-byte FLV
 * header (signature, version 1, audio and video flags, and an empty first previous-tag size),
 * so the player gets a stream it can start at the tag found there.
 */
#include "http.h"

mg_module_t mg_flv_module;

static const char flv_header[] = "FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00";
#define FLV_HEADER_LEN (sizeof(flv_header) - 1)

static mg_int_t flv_handler(mg_request_t *r)
{
    mg_str_t path;
    int fd;
    struct stat st;
    mg_int_t rc = mg_http_open_requested_file(r, &path, &fd, &st);
    if (rc != MG_OK) {
        return rc;
    }
    /* a start that is not a number, or not inside the file, sends the file whole */
    off_t start = 0;
    mg_str_t v;
    if (mg_http_arg(r, "start", 5, &v) == MG_OK) {
        int64_t n = mg_atoi(v.data, v.len);
        if (n > 0 && n < st.st_size) {
            start = (off_t)n;
        }
    }
    r->headers_out.status = MG_HTTP_OK;
    r->headers_out.content_length_n = st.st_size - start + (start ? (off_t)FLV_HEADER_LEN : 0);
    r->headers_out.last_modified_time = st.st_mtime;
    int body;
    rc = mg_http_send_file_header(r, "sending flv to client", &body);
    if (!body) {
        return rc;
    }
    mg_buf_t *file = mg_buf_mem(r->pool, NULL, 0);
    file->in_file = 1;
    file->fd = fd;
    file->file_pos = start;
    file->file_last = st.st_size;
    file->last_buf = 1;
    if (start == 0) {
        file->in_file = st.st_size > 0;
        return mg_http_output(r, file);
    }
    mg_buf_t *head = mg_buf_mem(r->pool, flv_header, FLV_HEADER_LEN);
    head->next = file;
    return mg_http_output(r, head);
}

static const char *flv_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    clcf->handler = flv_handler;
    return MG_CONF_OK;
}

static const mg_command_t flv_commands[] = {
    {"flv", MG_CTX_LOCATION, MG_ARGS(0, 0), flv_set, MG_NO_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t flv_defaults[] = {
    {"flv", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_flv_module = {
    .name = "flv",
    .commands = flv_commands,
    .defaults = flv_defaults,
};
