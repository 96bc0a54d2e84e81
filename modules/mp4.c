/*
 * mp4 (nginx's ngx_http_mp4_module): a location's content handler sending MP4 files. With
 * "?start=S" and/or "?end=E" (seconds, three decimals kept) the file is rewritten by
 * mp4_parse.c: ftyp, a moov cut to the samples from S to E, and the mdat bytes those samples
 * use, read from the file as it is sent. Without them, the file whole. One byte range of the
 * rewritten response can be asked for (nginx's single_range).
 */
#include <unistd.h>

#include "mp4.h"

typedef struct {
    size_t buffer_size;
    size_t max_buffer_size;
    int start_key_frame;
} mp4_conf_t;

mg_module_t mg_mp4_module;

/* nginx's reading of start and end: digits with one optional dot, the digits after the third
 * decimal ignored (players send many), in milliseconds; -1 when not a number, or when the
 * milliseconds do not fit a signed 64-bit file offset (nginx's bound: a larger start is
 * ignored, one below it but past the file's end is refused as past its duration) */
static int64_t parse_ms(mg_str_t v)
{
    if (v.len == 0) {
        return -1;
    }
    int64_t value = 0;
    int dot = 0, point = 3;
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.data[i];
        if (ch == '.') {
            if (dot) {
                return -1;
            }
            dot = 1;
            continue;
        }
        if (ch < '0' || ch > '9') {
            return -1;
        }
        if (dot && point == 0) {
            continue;
        }
        if (value > (INT64_MAX - (ch - '0')) / 10) {
            return -1;
        }
        value = value * 10 + (ch - '0');
        if (dot) {
            point--;
        }
    }
    while (point--) {
        if (value > INT64_MAX / 10) {
            return -1;
        }
        value *= 10;
    }
    return value;
}

static ssize_t read_file(void *data, uint8_t *buf, size_t len, off_t offset)
{
    return pread(*(int *)data, buf, len, offset);
}

static mg_buf_t *mem(mg_request_t *r, mg_str_t s, mg_buf_t **last)
{
    mg_buf_t *b = mg_buf_mem(r->pool, s.data, s.len);
    (*last)->next = b;
    *last = b;
    return b;
}

static mg_int_t mp4_handler(mg_request_t *r)
{
    mg_str_t path;
    int fd;
    struct stat st;
    mg_int_t rc = mg_http_open_requested_file(r, &path, &fd, &st);
    if (rc != MG_OK) {
        return rc;
    }
    int64_t start = -1, end = -1, length = 0;
    mg_str_t v;
    if (r->args.len) {
        if (mg_http_arg(r, "start", 5, &v) == MG_OK) {
            start = parse_ms(v);
        }
        if (mg_http_arg(r, "end", 3, &v) == MG_OK) {
            end = parse_ms(v);
            if (end > 0) {
                if (start < 0) {
                    start = 0;
                }
                if (end > start) {
                    length = end - start;
                }
            }
        }
    }
    mp4_conf_t *conf = mg_http_get_loc_conf(r, mg_mp4_module);
    mg_mp4_t m = {.read = read_file,
                  .data = &fd,
                  .size = st.st_size,
                  .path = path.data,
                  .buffer_size = conf->buffer_size,
                  .max_buffer_size = conf->max_buffer_size,
                  .start_key_frame = conf->start_key_frame};
    rc = MG_DECLINED;
    if (start >= 0) {
        r->single_range = 1;
        m.start = (uint64_t)start;
        m.length = (uint64_t)length;
        rc = mg_mp4_rewrite(&m, r->pool);
        if (rc == MG_ERROR) {
            mg_log_error(m.read_errno ? MG_LOG_CRIT : MG_LOG_ERR, &r->connection->log, m.read_errno,
                         "%s", m.error);
            return MG_HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    off_t data_start = 0, data_end = st.st_size, head = 0;
    if (rc == MG_OK) {
        data_start = m.data_start;
        data_end = m.data_end;
        head = (off_t)(m.ftyp.len + m.moov.len + m.mdat_header.len);
    }
    r->headers_out.status = MG_HTTP_OK;
    r->headers_out.content_length_n = head + data_end - data_start;
    r->headers_out.last_modified_time = st.st_mtime;
    int body;
    rc = mg_http_send_file_header(r, "sending mp4 to client", &body);
    if (!body) {
        return rc;
    }
    mg_buf_t first, *last = &first;
    first.next = NULL;
    if (head) {
        mem(r, m.ftyp, &last);
        mem(r, m.moov, &last);
        mem(r, m.mdat_header, &last);
    }
    mg_buf_t *file = mem(r, (mg_str_t){0, NULL}, &last);
    file->in_file = data_end > data_start;
    file->fd = fd;
    file->file_pos = data_start;
    file->file_last = data_end;
    file->last_buf = 1;
    return mg_http_output(r, first.next);
}

static const char *mp4_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    clcf->handler = mp4_handler;
    return MG_CONF_OK;
}

static void *mp4_create_conf(mg_conf_t *cf)
{
    mp4_conf_t *c = mg_pcalloc(cf->pool, sizeof(mp4_conf_t));
    c->buffer_size = MG_CONF_UNSET_SIZE;
    c->max_buffer_size = MG_CONF_UNSET_SIZE;
    c->start_key_frame = MG_CONF_UNSET;
    return c;
}

static const char *mp4_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    mp4_conf_t *prev = parent, *conf = child;
    mg_conf_merge_size(conf->buffer_size, prev->buffer_size, 512 * 1024);
    mg_conf_merge_size(conf->max_buffer_size, prev->max_buffer_size, 10 * 1024 * 1024);
    mg_conf_merge(conf->start_key_frame, prev->start_key_frame, 0);
    return MG_CONF_OK;
}

static const mg_command_t mp4_commands[] = {
    {"mp4", MG_CTX_LOCATION, MG_ARGS(0, 0), mp4_set, MG_NO_CONF, 0, NULL},
    {"mp4_buffer_size", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size, MG_LOC_CONF,
     offsetof(mp4_conf_t, buffer_size), NULL},
    {"mp4_max_buffer_size", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size, MG_LOC_CONF,
     offsetof(mp4_conf_t, max_buffer_size), NULL},
    {"mp4_start_key_frame", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_flag, MG_LOC_CONF,
     offsetof(mp4_conf_t, start_key_frame), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t mp4_defaults[] = {
    {"mp4", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_mp4_module = {
    .name = "mp4",
    .commands = mp4_commands,
    .defaults = mp4_defaults,
    .create_loc_conf = mp4_create_conf,
    .merge_loc_conf = mp4_merge_conf,
};
