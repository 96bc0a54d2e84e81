/*
 * An access log's file: the write of a line and access_log's buffer=/flush=/gzip (see
 * log_file.h), one piece of code for http's access_log.c and stream's stream_log.c.
 */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <unistd.h>
#include <zlib.h>

#include "crc32.h"
#include "gzip_wrap.h"
#include "log_file.h"
#include "str.h"

#define GZIP_BUFFER (64 * 1024) /* nginx's buffer when gzip has none */

/* One per file that has "buffer=", shared by every access_log writing to that file. */
typedef struct {
    mg_open_file_t *file;
    char *start, *pos, *end;
    mg_msec_t flush; /* 0: only when full or at reopen/exit */
    struct event ev;
    unsigned ev_assigned : 1;
    unsigned ev_armed : 1;
    mg_cycle_t *cycle; /* its error log reports write failures */
    int gzip;          /* compression level, 0 without gzip */
} log_buf_t;

void mg_log_file_write(mg_log_t *log, mg_open_file_t *file, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(file->fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            mg_log_error(MG_LOG_ALERT, log, errno, "write() to \"%s\" failed", file->name);
            return;
        }
        if ((size_t)w < n) {
            mg_log_error(MG_LOG_ALERT, log, 0, "write() to \"%s\" was incomplete: %zd of %zu",
                         file->name, w, n);
            return;
        }
        n -= (size_t)w;
        p += w;
    }
}

/* One gzip member holding the buffer, written at once: raw deflate in the wrapper
 * core/gzip_wrap.c writes, with mg_crc32's CRC (the same bytes zlib's wrapper would write). */
static void write_gzip(log_buf_t *b, const char *p, size_t n)
{
    z_stream zs = {0};
    int rc = deflateInit2(&zs, b->gzip, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        mg_log_error(MG_LOG_ALERT, b->cycle->log, 0, "deflateInit2() failed: %d", rc);
        return;
    }
    size_t cap = MG_GZIP_HEAD_LEN + deflateBound(&zs, (uLong)n) + MG_GZIP_TRAILER_LEN;
    unsigned char *out = mg_alloc(cap);
    mg_gzip_head(out, b->gzip);
    zs.next_in = (Bytef *)p;
    zs.avail_in = (uInt)n;
    zs.next_out = out + MG_GZIP_HEAD_LEN;
    zs.avail_out = (uInt)(cap - MG_GZIP_HEAD_LEN - MG_GZIP_TRAILER_LEN);
    rc = deflate(&zs, Z_FINISH);
    if (rc != Z_STREAM_END) {
        mg_log_error(MG_LOG_ALERT, b->cycle->log, 0, "deflate(Z_FINISH) failed: %d", rc);
    } else {
        mg_gzip_trailer(zs.next_out, mg_crc32(0, p, n), (uint32_t)n);
        mg_log_file_write(b->cycle->log, b->file, (char *)out,
                          (size_t)(zs.next_out - out) + MG_GZIP_TRAILER_LEN);
    }
    deflateEnd(&zs);
    free(out);
}

static void buf_flush(log_buf_t *b)
{
    if (b->ev_armed) {
        event_del(&b->ev);
        b->ev_armed = 0;
    }
    if (b->pos > b->start) {
        if (b->gzip) {
            write_gzip(b, b->start, (size_t)(b->pos - b->start));
        } else {
            mg_log_file_write(b->cycle->log, b->file, b->start, (size_t)(b->pos - b->start));
        }
        b->pos = b->start;
    }
}

static void on_file_flush(mg_open_file_t *file)
{
    buf_flush(file->data);
}

static void on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    log_buf_t *b = arg;
    b->ev_armed = 0;
    buf_flush(b);
}

static void buf_write(struct event_base *base, log_buf_t *b, mg_str_t line)
{
    if (line.len > (size_t)(b->end - b->pos)) {
        buf_flush(b);
    }
    if (line.len > (size_t)(b->end - b->start)) {
        /* longer than the whole buffer: on its own */
        if (b->gzip) {
            write_gzip(b, line.data, line.len);
        } else {
            mg_log_file_write(b->cycle->log, b->file, line.data, line.len);
        }
        return;
    }
    memcpy(b->pos, line.data, line.len);
    b->pos += line.len;
    if (b->flush && !b->ev_armed) {
        /* the timer lives on the loop of whoever writes first; it is removed by the
         * flush that empties the buffer, also the one run when the generation closes */
        if (!b->ev_assigned) {
            event_assign(&b->ev, base, -1, 0, on_flush_timer, b);
            b->ev_assigned = 1;
        }
        struct timeval tv = {(time_t)(b->flush / 1000), (suseconds_t)(b->flush % 1000) * 1000};
        event_add(&b->ev, &tv);
        b->ev_armed = 1;
    }
}

void mg_log_file_syslog(mg_log_t *log, mg_syslog_peer_t *peer, const char *msg, size_t len)
{
    ssize_t n = mg_syslog_send(peer, msg, len);
    if (n < 0) {
        mg_log_error(MG_LOG_WARN, log, 0, "send() to syslog failed");
    } else if ((size_t)n != len) {
        mg_log_error(MG_LOG_WARN, log, 0, "send() to syslog has written only %zd of %zu", n, len);
    }
}

void mg_log_file_line(mg_log_t *log, struct event_base *base, mg_open_file_t *file, mg_str_t line)
{
    if (file->flush == on_file_flush) {
        buf_write(base, file->data, line);
    } else {
        mg_log_file_write(log, file, line.data, line.len);
    }
}

/* 1 buffer=/flush=/gzip[=] read into p, 0 not one of them, -1 a bad value (said) */
static int buffer_param(mg_conf_t *cf, mg_str_t a, mg_log_file_params_t *p)
{
    if (a.len >= 7 && memcmp(a.data, "buffer=", 7) == 0) {
        mg_str_t v = {a.len - 7, a.data + 7};
        /* nginx's sizes: k and m suffixes only */
        p->size = mg_parse_size(v);
        if (p->size <= 0) {
            mg_conf_error(cf, 0, "invalid buffer size \"%s\"", v.data);
            return -1;
        }
    } else if (a.len >= 6 && memcmp(a.data, "flush=", 6) == 0) {
        mg_str_t v = {a.len - 6, a.data + 6};
        int64_t t = mg_parse_time(v, 0);
        if (t <= 0) {
            mg_conf_error(cf, 0, "invalid flush time \"%s\"", v.data);
            return -1;
        }
        p->flush = (mg_msec_t)t;
    } else if (mg_str_eq(a, "gzip")) {
        p->gzip = Z_BEST_SPEED;
    } else if (a.len >= 5 && memcmp(a.data, "gzip=", 5) == 0) {
        mg_str_t v = {a.len - 5, a.data + 5};
        int64_t level = mg_atoi(v.data, v.len);
        if (level < 1 || level > 9) {
            mg_conf_error(cf, 0, "invalid compression level \"%s\"", v.data);
            return -1;
        }
        p->gzip = (int)level;
    } else {
        return 0;
    }
    return 1;
}

const char *mg_log_file_args(mg_conf_t *cf, size_t first, const char *path, int syslog, int vars,
                             mg_log_file_params_t *p, mg_str_t *cond)
{
    *cond = (mg_str_t){0, NULL};
    for (size_t i = first; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        int taken = buffer_param(cf, a, p);
        if (taken < 0) {
            return MG_CONF_ERROR;
        }
        if (taken) {
            continue;
        }
        if (a.len >= 3 && memcmp(a.data, "if=", 3) == 0) {
            *cond = (mg_str_t){a.len - 3, a.data + 3};
        } else {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", a.data);
            return MG_CONF_ERROR;
        }
    }
    if (p->gzip && p->size == 0) {
        p->size = GZIP_BUFFER;
    }
    if (p->flush && p->size == 0) {
        mg_conf_error(cf, 0, "no buffer is defined for access_log \"%s\"", path);
        return MG_CONF_ERROR;
    }
    if (p->size && syslog) {
        mg_conf_error(cf, 0, "logs to syslog cannot be buffered");
        return MG_CONF_ERROR;
    }
    if (p->size && vars) {
        mg_conf_error(cf, 0, "buffered logs cannot have variables in name");
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

const char *mg_log_file_set_buffer(mg_conf_t *cf, mg_open_file_t *file,
                                   const mg_log_file_params_t *p, const char *name)
{
    size_t size = (size_t)p->size;
    if (file->flush == on_file_flush) {
        log_buf_t *b = file->data;
        if ((size_t)(b->end - b->start) != size || b->flush != p->flush || b->gzip != p->gzip) {
            mg_conf_error(cf, 0, "access_log \"%s\" already defined with conflicting parameters",
                          name);
            return MG_CONF_ERROR;
        }
        return MG_CONF_OK;
    }
    log_buf_t *b = mg_pcalloc(cf->pool, sizeof(log_buf_t));
    b->file = file;
    b->start = b->pos = mg_pnalloc(cf->pool, size);
    b->end = b->start + size;
    b->flush = p->flush;
    b->gzip = p->gzip;
    b->cycle = cf->cycle;
    file->data = b;
    file->flush = on_file_flush;
    return MG_CONF_OK;
}
