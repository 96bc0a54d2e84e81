/*
 * Forward declarations, return codes and the few helpers every file uses.
 * Included first by every .c under core/, modules/ and lua/.
 */
#ifndef MG_H
#define MG_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"

#define MOONGATE_NAME "moongate"
#define MOONGATE_VERSION "0.1.0"
#define MOONGATE_VER MOONGATE_NAME "/" MOONGATE_VERSION

/* State of the thread running a server's loop: an embedding program may run several servers,
 * each on a thread of its own (initial-exec: no lookup call per access in libmoongate.so). */
#define MG_THREAD_LOCAL __thread __attribute__((tls_model("initial-exec")))

/* Return codes shared by handlers and helpers (HTTP statuses are positive and > 99). */
#define MG_OK 0
#define MG_ERROR -1
#define MG_AGAIN -2
#define MG_BUSY -3
#define MG_DONE -4
#define MG_DECLINED -5
#define MG_ABORT -6

typedef intptr_t mg_int_t;
typedef uintptr_t mg_uint_t;
typedef int64_t mg_msec_t;

typedef struct mg_pool_s mg_pool_t;
typedef struct mg_log_s mg_log_t;
typedef struct mg_conf_s mg_conf_t;
typedef struct mg_command_s mg_command_t;
typedef struct mg_module_s mg_module_t;
typedef struct mg_cycle_s mg_cycle_t;
typedef struct mg_server_s mg_server_t;
typedef struct mg_listening_s mg_listening_t;
typedef struct mg_connection_s mg_connection_t;
typedef struct mg_request_s mg_request_t;
typedef struct mg_buf_s mg_buf_t;
typedef struct mg_regex_s mg_regex_t;

/* A length-counted string; data is not necessarily NUL-terminated. */
typedef struct {
    size_t len;
    char *data;
} mg_str_t;

#define mg_string(s) { sizeof(s) - 1, (char *)(s) }
#define mg_null_string { 0, NULL }
#define mg_str_set(str, text) ((str)->len = sizeof(text) - 1, (str)->data = (char *)(text))

#define mg_min(a, b) ((a) < (b) ? (a) : (b))
#define mg_max(a, b) ((a) > (b) ? (a) : (b))
#define mg_nelems(a) (sizeof(a) / sizeof((a)[0]))
#define mg_tolower(c) ((c) >= 'A' && (c) <= 'Z' ? (c) | 0x20 : (c))
#define mg_toupper(c) ((c) >= 'a' && (c) <= 'z' ? (c) & ~0x20 : (c))

/* Out of memory is fatal in one place (here), so call sites never NULL-check. */
void *mg_alloc(size_t size);
void *mg_calloc(size_t size);
void *mg_realloc(void *p, size_t size);
char *mg_strdup(const char *s);

#endif
