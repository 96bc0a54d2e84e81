/*
 * The error log, in nginx's format byte for byte:
 *   YYYY/MM/DD HH:MM:SS [level] PID#TID: *CONN message, client: ..., request: "..."
 * A log points at an open file shared by every log of a generation (so USR1 reopens in one
 * place), or at a writer (syslog, a memory ring); connections copy a log and set `connection`
 * and a context `handler`.
 */
#ifndef MG_LOG_H
#define MG_LOG_H

#include <stdint.h>

#include "mg.h"

enum {
    MG_LOG_STDERR = 0,
    MG_LOG_EMERG,
    MG_LOG_ALERT,
    MG_LOG_CRIT,
    MG_LOG_ERR,
    MG_LOG_WARN,
    MG_LOG_NOTICE,
    MG_LOG_INFO,
    MG_LOG_DEBUG,
};

typedef struct mg_open_file_s {
    int fd;
    char *name; /* NUL-terminated absolute path, or "stderr" */
    struct mg_open_file_s *next;
    /* a writer that buffers (access_log buffer=) empties its buffer here; called before the
     * file is reopened (USR1) or closed (exit, a replaced generation) */
    void (*flush)(struct mg_open_file_s *file);
    void *data;
} mg_open_file_t;

typedef size_t (*mg_log_handler_pt)(mg_log_t *log, char *buf, size_t len);
/* Called once for each message some destination of a chain takes, with the line without its
 * newline (lua_capture_error_log's ring). */
typedef void (*mg_log_observer_pt)(void *data, int level, const char *line, size_t len);

/* What every destination of one generation's chains shares (cycle->log_scope): so that two
 * servers of one embedding process keep their observers and stderr rule apart. */
typedef struct {
    mg_log_observer_pt observe; /* NULL: none */
    void *data;
    int no_stderr; /* an embedding program's callback hears the errors: no stderr copies */
} mg_log_scope_t;
/* A destination other than a file: gets each line it admits, without the newline. */
typedef void (*mg_log_writer_pt)(mg_log_t *log, int level, const char *buf, size_t len);

struct mg_log_s {
    mg_open_file_t *file;
    mg_log_writer_pt writer; /* instead of file (syslog:, memory:) */
    void *wdata;
    mg_log_t *next;        /* further error_log destinations at the same level of config */
    mg_uint_t connection;  /* connection number for "*N", 0 for none */
    mg_log_handler_pt handler; /* appends ", client: ..." context */
    void *data;
    const char *action; /* "while reading client request line" */
    /* the debug categories (MG_LOG_DEBUG_*) this destination takes: error_log's debug_http
     * etc., all of them for "debug" */
    uint16_t debug_mask;
    /* the categories some destination of the chain from here takes (all of them under
     * debug_connection): the one test a debug line costs when nobody reads it */
    uint16_t debug_any;
    /* the two small ones in the 4 bytes beside the masks: every connection holds a copy of
     * the log, 80 bytes with them, 88 with ints */
    unsigned char level;         /* MG_LOG_STDERR .. MG_LOG_DEBUG */
    unsigned char debug;         /* debug_connection: every destination takes debug lines */
    const mg_log_scope_t *scope; /* its generation's, NULL for the early log */
};

/* Debug categories, as nginx's error_log debug_core ... debug_stream select them. */
#define MG_LOG_DEBUG_CORE 0x010
#define MG_LOG_DEBUG_ALLOC 0x020
#define MG_LOG_DEBUG_MUTEX 0x040
#define MG_LOG_DEBUG_EVENT 0x080
#define MG_LOG_DEBUG_HTTP 0x100
#define MG_LOG_DEBUG_MAIL 0x200
#define MG_LOG_DEBUG_STREAM 0x400
#define MG_LOG_DEBUG_ALL 0x7f0
_Static_assert(MG_LOG_DEBUG_ALL <= UINT16_MAX, "the debug masks are 16 bits in mg_log_t");
_Static_assert(sizeof(mg_log_t) == 80 || sizeof(void *) != 8, "mg_log_t: 80 bytes on LP64");

/* The categories some log of this process ever took (error_log levels, debug_connection):
 * while a category is not in it, its debug lines cost one test of this word. */
extern unsigned mg_log_debug_used;

/* A debug line of category cat: formatted only when a destination takes that category.
 * Compiled out with ./configure --without-debug. */
#if MG_DEBUG
#define mg_log_debugc(cat, log, ...)                                                               \
    do {                                                                                           \
        if (__builtin_expect((mg_log_debug_used & (cat)) != 0, 0)) {                               \
            const mg_log_t *dl_ = (log);                                                           \
            if (dl_ && (dl_->debug_any & (cat))) {                                                 \
                mg_log_debug_line((cat), dl_, __VA_ARGS__);                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)
#else
#define mg_log_debugc(cat, log, ...) ((void)0)
#endif
#define mg_debug_core(log, ...) mg_log_debugc(MG_LOG_DEBUG_CORE, log, __VA_ARGS__)
#define mg_debug_event(log, ...) mg_log_debugc(MG_LOG_DEBUG_EVENT, log, __VA_ARGS__)
#define mg_debug_http(log, ...) mg_log_debugc(MG_LOG_DEBUG_HTTP, log, __VA_ARGS__)
#define mg_debug_stream(log, ...) mg_log_debugc(MG_LOG_DEBUG_STREAM, log, __VA_ARGS__)
/* Whether a debug line of category cat would be written on log (to skip preparing one). */
#if MG_DEBUG
#define mg_log_debug_on(cat, log)                                                                  \
    (__builtin_expect((mg_log_debug_used & (cat)) != 0, 0) && ((log)->debug_any & (cat)) != 0)
#else
#define mg_log_debug_on(cat, log) 0
#endif

/* Writes a debug line of category cat to the destinations of log that take it (call through
 * mg_log_debugc). */
void mg_log_debug_line(unsigned cat, const mg_log_t *log, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* OR'ed into mg_log_error's level: the message may span lines (LF and TAB are kept; every other
 * control byte, and all of them in the context, is written as \xHH). */
#define MG_LOG_LINES 0x100

void mg_log_error(int level, mg_log_t *log, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "moongate: message" to stderr, as nginx's early messages. */
void mg_log_stderr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* While set (before daemonizing), messages at warn and above also go to stderr, unless the
 * chain's scope says no_stderr. */
void mg_log_set_use_stderr(int on);
int mg_log_level_by_name(mg_str_t name);
/* Point dst (a connection's log) at src's destinations: level, file or writer, scope, debug
 * categories and the rest of src's chain; dst keeps its connection, context handler, action
 * and debug_connection. */
void mg_log_use(mg_log_t *dst, const mg_log_t *src);
/* error_log memory:SIZE at `where` ("FILE:LINE"): a buffer of SIZE bytes in this process's
 * memory, for a debugger (see ARCHITECTURE.md); NULL when SIZE is not one nginx takes. */
void *mg_log_memory_create(mg_pool_t *pool, mg_str_t size, const char *where);
void mg_log_memory_writer(mg_log_t *log, int level, const char *buf, size_t len);
/* Process id and thread id as printed in the log; refreshed after fork. */
void mg_log_set_pid(void);
/* While buf is set, the first message at `error` or worse is also kept there as
 * "[level] message" (no time, no context): the master reports why a reload failed to the
 * `-s reload` command that asked. mg_log_capture(NULL, 0) stops capturing. */
void mg_log_capture(char *buf, size_t size);

#endif
