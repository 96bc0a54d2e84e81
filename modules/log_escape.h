/*
 * log_format's escape= (nginx's default, json and none), shared by http's access_log.c and
 * stream's stream_log.c: the parameter, and a variable's value as it goes into a line.
 */
#ifndef MG_MODULES_LOG_ESCAPE_H
#define MG_MODULES_LOG_ESCAPE_H

#include "conf.h"

enum { MG_LOG_ESCAPE_DEFAULT, MG_LOG_ESCAPE_JSON, MG_LOG_ESCAPE_NONE };

/* log_format's arguments from `*first` (the name before it): an "escape=" among them is read
 * into *escape (MG_LOG_ESCAPE_DEFAULT without) and *first moved past it. MG_OK, or MG_ERROR
 * after nginx's message for an unknown one. */
mg_int_t mg_log_escape_param(mg_conf_t *cf, size_t *first, int *escape);
/* Bytes a value takes in the line: v.data NULL is a value not found ("-" with the default
 * escaping, nothing with json or none, as nginx). */
size_t mg_log_escape_len(int escape, mg_str_t v);
/* Write it at d; returns the end. */
char *mg_log_escape_copy(char *d, int escape, mg_str_t v);

#endif
