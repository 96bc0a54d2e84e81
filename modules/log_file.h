/*
 * An access log's file, for http's access_log.c and stream's stream_log.c: a line written
 * whole (nginx's alerts when it cannot be), and access_log's buffer=, flush= and gzip[=]
 * (one buffer per file, shared by every access_log to it; emptied when full, on the flush
 * timer, and through the open file's flush hook when it is reopened or closed; gzip makes
 * each buffer a gzip member of its own).
 */
#ifndef MG_LOG_FILE_H
#define MG_LOG_FILE_H

#include "conf.h"
#include "cycle.h"
#include "syslog.h"

struct event_base;

typedef struct {
    int64_t size;    /* buffer=, 0: none */
    mg_msec_t flush; /* flush=, 0: none */
    int gzip;        /* the compression level, 0: no gzip */
} mg_log_file_params_t;

/* access_log's parameters from cf->args[first] on: buffer=, flush= and gzip[=] into p, if= as
 * its text into *cond (data NULL: none; the caller compiles it), anything else an "invalid
 * parameter"; then nginx's checks: gzip's default buffer, "no buffer is defined for
 * access_log PATH", and no buffer for a syslog peer or a path with variables. */
const char *mg_log_file_args(mg_conf_t *cf, size_t first, const char *path, int syslog, int vars,
                             mg_log_file_params_t *p, mg_str_t *cond);

/* Buffers the file as p says (p->size > 0): the first access_log to it makes the buffer, the
 * others must agree ("already defined with conflicting parameters", name: the directive's). */
const char *mg_log_file_set_buffer(mg_conf_t *cf, mg_open_file_t *file,
                                   const mg_log_file_params_t *p, const char *name);

/* n bytes to the file, now (errors to log). */
void mg_log_file_write(mg_log_t *log, mg_open_file_t *file, const char *p, size_t n);

/* A message (a syslog header then the line, no newline) to an access_log's syslog peer;
 * nginx's warnings when it is not sent whole. */
void mg_log_file_syslog(mg_log_t *log, mg_syslog_peer_t *peer, const char *msg, size_t len);

/* A line to the file: into its buffer when it has one (a flush timer armed on base), else now. */
void mg_log_file_line(mg_log_t *log, struct event_base *base, mg_open_file_t *file, mg_str_t line);

#endif
