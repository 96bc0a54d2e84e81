/*
 * The configuration parser: nginx's token rules (quotes, escapes, comments, blocks, include
 * with globs), directive dispatch through the modules' tables with context and argument-count
 * checks, nginx's error wording with FILE:LINE, and the generic value setters.
 */
#ifndef MG_CONF_H
#define MG_CONF_H

#include "mg.h"
#include "array.h"
#include "module.h"

#define MG_CONF_OK NULL
#define MG_CONF_ERROR ((const char *)-1) /* already reported */

#define MG_CONF_UNSET -1
#define MG_CONF_UNSET_PTR ((void *)-1)
#define MG_CONF_UNSET_SIZE ((size_t)-1)

#define mg_conf_merge(conf, prev, dflt)                                                          \
    do {                                                                                       \
        if ((conf) == MG_CONF_UNSET) {                                                         \
            (conf) = ((prev) == MG_CONF_UNSET) ? (dflt) : (prev);                              \
        }                                                                                      \
    } while (0)
#define mg_conf_merge_ptr(conf, prev, dflt)                                                      \
    do {                                                                                       \
        if ((conf) == MG_CONF_UNSET_PTR) {                                                     \
            (conf) = ((prev) == MG_CONF_UNSET_PTR) ? (dflt) : (prev);                          \
        }                                                                                      \
    } while (0)
#define mg_conf_merge_size(conf, prev, dflt)                                                     \
    do {                                                                                       \
        if ((conf) == MG_CONF_UNSET_SIZE) {                                                    \
            (conf) = ((prev) == MG_CONF_UNSET_SIZE) ? (dflt) : (prev);                         \
        }                                                                                      \
    } while (0)
#define mg_conf_merge_str(conf, prev, dflt)                                                      \
    do {                                                                                       \
        if ((conf).data == NULL) {                                                             \
            if ((prev).data) {                                                                 \
                (conf) = (prev);                                                               \
            } else {                                                                           \
                (conf).len = sizeof(dflt) - 1;                                                 \
                (conf).data = (char *)(dflt);                                                  \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* The http levels' configuration arrays, one slot per module (see mg_module_t.index). */
typedef struct {
    void **main_conf;
    void **srv_conf;
    void **loc_conf;
} mg_conf_ctx_t;

typedef struct conf_source_s conf_source_t;

struct mg_conf_s {
    mg_cycle_t *cycle;
    mg_pool_t *pool;
    mg_log_t *log;
    unsigned ctx;          /* MG_CTX_* of the block being read */
    mg_conf_ctx_t *ctx_data; /* http levels' conf arrays */
    mg_str_t *args;        /* args[0] is the directive name */
    size_t nargs;
    /* When set, every directive of the current block goes here (types { }). */
    const char *(*handler)(mg_conf_t *cf, void *data);
    void *handler_data;
    conf_source_t *src;    /* file or string being tokenized */
    mg_uint_t raw_line;    /* MG_RAW_BLOCK: line of the block's first character */
    mg_array_t args_buf;
};

/* Parse a file (name given) or, with name NULL, the rest of the current block up to "}".
 * Returns MG_OK or MG_ERROR (already logged with FILE:LINE). */
mg_int_t mg_conf_parse(mg_conf_t *cf, const char *filename);
/* Read a file or glob (relative to the configuration directory) into the current block,
 * as "include" does; a block with its own line handler (map) calls it for its "include"
 * lines. */
const char *mg_conf_include(mg_conf_t *cf, mg_str_t name);
/* Parse directives from a string, as -g does; errors say "in command line". */
mg_int_t mg_conf_parse_string(mg_conf_t *cf, const char *text, size_t len);
/* A configuration given as text (embedding): parsed as a file named `name` would be. */
mg_int_t mg_conf_parse_text(mg_conf_t *cf, const char *name, const char *text, size_t len);

/* Log "[emerg] <message> in FILE:LINE". */
void mg_conf_error(mg_conf_t *cf, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void mg_conf_log(mg_conf_t *cf, int level, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "FILE:LINE" of the directive being processed. */
const char *mg_conf_where(mg_conf_t *cf);
const char *mg_conf_file(mg_conf_t *cf);

/* Resolve a path against the prefix (or the conf dir when conf_prefix). Result NUL-terminated. */
mg_str_t mg_conf_full_name(mg_cycle_t *cycle, mg_str_t name, int conf_prefix);
/* The same in another pool: a request's (a path made per request must not grow the cycle's). */
mg_str_t mg_full_name(mg_pool_t *pool, mg_cycle_t *cycle, mg_str_t name, int conf_prefix);

/* Generic setters; conf + cmd->offset is the field. */
const char *mg_conf_set_flag(mg_conf_t *cf, const mg_command_t *cmd, void *conf);    /* int */
const char *mg_conf_set_str(mg_conf_t *cf, const mg_command_t *cmd, void *conf);     /* mg_str_t */
const char *mg_conf_set_num(mg_conf_t *cf, const mg_command_t *cmd, void *conf);     /* mg_int_t */
const char *mg_conf_set_size(mg_conf_t *cf, const mg_command_t *cmd, void *conf); /* size_t: k, m */
const char *mg_conf_set_off(mg_conf_t *cf, const mg_command_t *cmd,
                            void *conf); /* size_t: k, m, g */
/* "number size", the two arguments of a *_buffers directive (output_buffers, gzip_buffers...):
 * both set and MG_CONF_OK, or neither and nginx's phrase when one is not a positive value. */
const char *mg_conf_parse_bufs(mg_conf_t *cf, mg_int_t *num, size_t *size);
const char *mg_conf_set_msec(mg_conf_t *cf, const mg_command_t *cmd, void *conf);    /* mg_msec_t */
const char *mg_conf_set_path(mg_conf_t *cf, const mg_command_t *cmd, void *conf);    /* mg_str_t, prefixed */
/* Accept and ignore (with the cmd->post string logged at warn if non-NULL). */
const char *mg_conf_set_ignored(mg_conf_t *cf, const mg_command_t *cmd, void *conf);

typedef struct {
    const char *name;
    mg_int_t value;
} mg_conf_enum_t;
/* cmd->post points at a {NULL}-terminated mg_conf_enum_t table; field is mg_int_t. */
const char *mg_conf_set_enum(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* info, notice, warn, error: the levels a *_log_level directive takes (limit_req, limit_conn). */
extern const mg_conf_enum_t mg_conf_log_levels[];
/* An error status a module answers with (limit_req_status, limit_conn_status): 400 to 599 in
 * an mg_int_t, nginx's words otherwise. */
const char *mg_conf_set_error_status(mg_conf_t *cf, const mg_command_t *cmd, void *conf);

/* Files read while parsing, for -T. */
typedef struct {
    char *name;
    char *text;
    size_t len;
} mg_conf_dump_t;

#endif
