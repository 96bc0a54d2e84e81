/*
 * Error log writer. One write(2) per message so lines from several processes never interleave.
 * A destination with a writer (syslog, a memory ring) gets the same line instead.
 */
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "mgtime.h"
#include "pool.h"
#include "str.h"

#define LOG_MAX 2048 /* a line with its newline, as nginx's NGX_MAX_ERROR_STR */

static const char *log_levels[] = {"",     "emerg",  "alert", "crit", "error",
                                   "warn", "notice", "info",  "debug"};

static int log_use_stderr = 1;
static pid_t log_pid;
static MG_THREAD_LOCAL pid_t log_tid;
static MG_THREAD_LOCAL char *capture_buf; /* a reload's verdict, on the thread that reloads */
static MG_THREAD_LOCAL size_t capture_size;

unsigned mg_log_debug_used;

void mg_log_capture(char *buf, size_t size)
{
    capture_buf = buf;
    capture_size = size;
    if (buf && size) {
        buf[0] = '\0';
    }
}

void mg_log_set_use_stderr(int on)
{
    log_use_stderr = on;
}

void mg_log_set_pid(void)
{
    log_pid = getpid();
    log_tid = (pid_t)syscall(SYS_gettid);
}

int mg_log_level_by_name(mg_str_t name)
{
    for (int i = 1; i <= MG_LOG_DEBUG; i++) {
        if (mg_str_eq(name, log_levels[i])) {
            return i;
        }
    }
    return -1;
}

void mg_log_use(mg_log_t *dst, const mg_log_t *src)
{
    dst->level = src->level;
    dst->file = src->file;
    dst->writer = src->writer;
    dst->wdata = src->wdata;
    dst->next = src->next;
    dst->debug_mask = src->debug_mask;
    dst->debug_any = dst->debug ? MG_LOG_DEBUG_ALL : src->debug_any;
    dst->scope = src->scope;
}

/* ---- error_log memory:SIZE ----
 * nginx keeps such a log for debuggers only; so does moongate. The buffer starts, as nginx's,
 * with "MEMLOG SIZE FILE:LINE\n" and the ring follows; its record starts with a magic string so
 * it can also be found in a core file or /proc/PID/mem. Every process writes its own copy
 * (forked workers inherit the configuration's, copy-on-write). */

#define RING_MAGIC "moongate_ring1"
/* nginx's rule: room for the marker and this much more (one 2048-byte message and some) */
#define RING_MIN 2084

typedef struct log_ring_s {
    char magic[16];
    char *start, *end; /* the whole buffer, the marker first: what a debugger dumps */
    char *pos;         /* where the next byte goes: the oldest byte once wrapped */
    uint64_t wrapped;  /* times the writer went round */
    char *ring;        /* the ring's first byte, after the marker */
    struct log_ring_s *next;
} log_ring_t;

/* every ring of this process, for a debugger: `p *log_rings` */
static log_ring_t *log_rings;

static void ring_free(void *data)
{
    for (log_ring_t **pp = &log_rings; *pp; pp = &(*pp)->next) {
        if (*pp == data) {
            *pp = ((log_ring_t *)data)->next;
            break;
        }
    }
}

void *mg_log_memory_create(mg_pool_t *pool, mg_str_t size, const char *where)
{
    /* nginx's sizes: k and m suffixes only */
    int64_t n = mg_parse_size(size);
    char marker[4200];
    int mlen = snprintf(marker, sizeof(marker), "MEMLOG %lld %s\n", (long long)n, where);
    if (n < 0 || mlen < 0 || (size_t)mlen >= sizeof(marker) || n < RING_MIN + mlen ||
        (uint64_t)n > SIZE_MAX / 2) {
        return NULL;
    }
    log_ring_t *ring = mg_pcalloc(pool, sizeof(log_ring_t));
    memcpy(ring->magic, RING_MAGIC, sizeof(RING_MAGIC));
    ring->start = mg_pcalloc(pool, (size_t)n);
    ring->end = ring->start + n;
    memcpy(ring->start, marker, (size_t)mlen);
    ring->ring = ring->pos = ring->start + mlen;
    ring->next = log_rings;
    log_rings = ring;
    mg_pool_cleanup_add(pool, ring_free, ring);
    return ring;
}

static void ring_put(log_ring_t *ring, const char *p, size_t len)
{
    while (len) {
        size_t n = mg_min(len, (size_t)(ring->end - ring->pos));
        memcpy(ring->pos, p, n);
        ring->pos += n;
        p += n;
        len -= n;
        if (ring->pos == ring->end) {
            ring->pos = ring->ring;
            ring->wrapped++;
        }
    }
}

void mg_log_memory_writer(mg_log_t *log, int level, const char *buf, size_t len)
{
    (void)level;
    ring_put(log->wdata, buf, len);
    ring_put(log->wdata, "\n", 1);
}

static char *log_errno(char *p, char *end, int err)
{
    char ebuf[128];
    const char *msg = strerror_r(err, ebuf, sizeof(ebuf));
    return mg_sprintf_end(p, end, " (%d: %s)", err, msg);
}

static void log_write(int fd, const char *buf, size_t len)
{
    /* A log write that fails has nowhere to be reported; drop it. */
    ssize_t n = write(fd, buf, len);
    (void)n;
}

/* Copy [src, end) to dst as a log line may hold it: a control byte a client (or a decoded URI,
 * or Lua) put into the message or the context could forge a line or hide one, so every byte
 * below 0x20 and DEL becomes "\xHH"; with lines set, LF and TAB stay (a Lua traceback).
 * Returns the end of what was written, at most dst_end. Not parse.c's %-escaper: a log's
 * format is "\xHH", as nginx's access log escaping, and the output is bounded. */
static char *escape_controls(char *dst, char *dst_end, const char *src, const char *end, int lines)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; src < end && dst < dst_end; src++) {
        unsigned char ch = (unsigned char)*src;
        if ((ch >= 0x20 && ch != 0x7f) || (lines && (ch == '\n' || ch == '\t'))) {
            *dst++ = (char)ch;
            continue;
        }
        if (dst_end - dst < 4) {
            break;
        }
        *dst++ = '\\';
        *dst++ = 'x';
        *dst++ = hex[ch >> 4];
        *dst++ = hex[ch & 0xf];
    }
    return dst;
}

/* Whether anything below would take this line (a debug line: its category cat): formatting
 * one (the message, the context handler's tail, the escaping) costs thousands of instructions,
 * and a stream proxy session's info lines were 40 % of its cost at the default "error" level
 * (nginx's ngx_log_error checks the level first too). */
static int log_wanted(int level, unsigned cat, const mg_log_t *log)
{
    if (level <= MG_LOG_WARN && (log == NULL || log_use_stderr)) {
        return 1;
    }
    if (capture_buf && capture_buf[0] == '\0' && level <= MG_LOG_ERR) {
        return 1;
    }
    for (const mg_log_t *l = log; l; l = l->next) {
        if (log->debug || (cat ? (l->debug_mask & cat) != 0 : level <= l->level)) {
            return 1;
        }
    }
    return 0;
}

/* A debug line has its category in cat (0 for a message of a level). */
static void log_va(int level, unsigned cat, const mg_log_t *log, int err, const char *fmt,
                   va_list ap) __attribute__((format(printf, 5, 0)));

void mg_log_error(int level, mg_log_t *log, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_va(level, 0, log, err, fmt, ap);
    va_end(ap);
}

void mg_log_debug_line(unsigned cat, const mg_log_t *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_va(MG_LOG_DEBUG, cat, log, 0, fmt, ap);
    va_end(ap);
}

static void log_va(int level, unsigned cat, const mg_log_t *log, int err, const char *fmt,
                   va_list ap)
{
    int lines = level & MG_LOG_LINES;
    level &= ~MG_LOG_LINES;
#if !MG_DEBUG
    if (level == MG_LOG_DEBUG) {
        return;
    }
#endif
    if (!log_wanted(level, cat, log)) {
        return;
    }
    if (log_pid == 0) {
        mg_log_set_pid();
    }
    if (log_tid == 0) {
        log_tid = (pid_t)syscall(SYS_gettid); /* a thread of an embedding program */
    }
    if (mg_now.sec == 0) {
        mg_time_update();
    }
    char buf[LOG_MAX];
    char *end = buf + sizeof(buf) - 1; /* room for the newline */
    char *p = mg_sprintf_end(buf, end, "%s [%s] %d#%d: ", mg_now.err_log, log_levels[level],
                             (int)log_pid, (int)log_tid);
    if (log && log->connection) {
        p = mg_sprintf_end(p, end, "*%lu ", (unsigned long)log->connection);
    }
    char *msg = p;
    /* message and context are put together aside, then copied in with their controls escaped */
    char raw[LOG_MAX];
    char *rend = raw + sizeof(raw), *q = raw;
    q = mg_vsprintf_end(q, rend, fmt, ap);
    if (err) {
        q = log_errno(q, rend, err);
    }
    char *ctx = q;
    if (log && log->handler && level != MG_LOG_DEBUG) {
        q += log->handler((mg_log_t *)log, q, (size_t)(rend - q));
    }
    p = escape_controls(p, end, raw, ctx, lines);
    p = escape_controls(p, end, ctx, q, 0);
    *p++ = '\n';

    if (capture_buf && capture_buf[0] == '\0' && level <= MG_LOG_ERR) {
        snprintf(capture_buf, capture_size, "[%s] %.*s", log_levels[level], (int)(p - 1 - msg),
                 msg);
    }

    int wrote_stderr = 0, taken = 0;
    for (const mg_log_t *l = log; l; l = l->next) {
        if (cat ? !(l->debug_mask & cat) && !log->debug : level > l->level && !log->debug) {
            continue;
        }
        taken = 1;
        if (l->writer) {
            l->writer((mg_log_t *)l, level, buf, (size_t)(p - 1 - buf));
            continue;
        }
        if (l->file == NULL) {
            continue;
        }
        log_write(l->file->fd, buf, (size_t)(p - buf));
        if (l->file->fd == STDERR_FILENO) {
            wrote_stderr = 1;
        }
    }
    if (log == NULL && level <= MG_LOG_WARN) {
        log_write(STDERR_FILENO, buf, (size_t)(p - buf));
        wrote_stderr = 1;
        taken = 1;
    }
    const mg_log_scope_t *scope = NULL;
    for (const mg_log_t *l = log; l && scope == NULL; l = l->next) {
        scope = l->scope;
    }
    if (taken && scope && scope->observe) {
        scope->observe(scope->data, level, buf, (size_t)(p - 1 - buf));
    }
    if (log_use_stderr && !(scope && scope->no_stderr) && !wrote_stderr && level <= MG_LOG_WARN) {
        /* nginx's early form: "moongate: [emerg] message" without the context tail */
        char sbuf[LOG_MAX];
        char *q =
            mg_sprintf_end(sbuf, sbuf + sizeof(sbuf) - 1, "moongate: [%s] ", log_levels[level]);
        size_t mlen = (size_t)(p - 1 - msg);
        if (mlen > (size_t)(sbuf + sizeof(sbuf) - 1 - q)) {
            mlen = (size_t)(sbuf + sizeof(sbuf) - 1 - q);
        }
        memcpy(q, msg, mlen);
        q += mlen;
        *q++ = '\n';
        log_write(STDERR_FILENO, sbuf, (size_t)(q - sbuf));
    }
}

void mg_log_stderr(int err, const char *fmt, ...)
{
    char buf[LOG_MAX];
    char *end = buf + sizeof(buf) - 1;
    char *p = mg_sprintf_end(buf, end, "moongate: ");
    va_list ap;
    va_start(ap, fmt);
    p = mg_vsprintf_end(p, end, fmt, ap);
    va_end(ap);
    if (err) {
        p = log_errno(p, end, err);
    }
    *p++ = '\n';
    log_write(STDERR_FILENO, buf, (size_t)(p - buf));
}
