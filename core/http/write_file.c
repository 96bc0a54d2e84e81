/*
 * Reading file buffers for the writer (write.c): with sendfile off (or for a directio file) a
 * file is read in pieces of output_buffers' size into the connection's scratch, aligned to
 * directio_alignment when the file is read with O_DIRECT; with aio (threads, or "on", which
 * uses the default pool) the read runs in a thread of the pool and the writer waits for it as
 * it waits for the socket; with sendfile on, aio reads the next chunk ahead in a thread
 * (readahead(2)) so that sendfile() finds it in the page cache.
 */
#include <fcntl.h>
#include <unistd.h>

#include "conn.h"
#include "script.h"
#include "server.h"
#include "thread_pool.h"

/* The read a piece needs: `len` bytes at `off` of `fd` into `dst`, of which the piece is the
 * `limit` bytes after the first `skip` (an O_DIRECT read starts at an aligned offset) */
typedef struct {
    int fd;
    off_t off;
    size_t len;
    char *dst;
    size_t skip;
    size_t limit;
} piece_t;

enum { AIO_IDLE, AIO_BUSY, AIO_DONE };

/* The connection's file reading while a request reads a file (hc->reader, taken at its first
 * piece or read ahead, given back when the request ends, to the server's spare or freed: an
 * idle connection holds none): the thread task, one at a time, and the scratch, aligned to
 * scratch_align, in the same allocation after it. A reader whose request ended while its task was
 * in a thread (orphan) owns its descriptor and frees itself when the task comes back. */
struct mg_http_file_reader_s {
    mg_thread_task_t task; /* first: the task's callbacks cast it back */
    char *scratch;
    size_t scratch_size;
    size_t scratch_align;
    size_t scratch_used;   /* bytes of it queued buffers point into */
    mg_buf_t *scratch_buf; /* the last queued buffer that points into scratch, or NULL */
    mg_connection_t *c;
    int state;
    int readahead; /* sendfile: read ahead only */
    mg_buf_t *fb;  /* what it reads for */
    piece_t p;     /* p.fd is our own dup() */
    ssize_t n;
    int err;
    unsigned orphan : 1;
};

static void aio_handler(mg_thread_task_t *t);
static void aio_done(mg_thread_task_t *t);

/* A reader given back with a scratch up to this size waits in the server for the next request
 * that reads a file (srv->h1_reader, one): a file response costs no malloc */
#define READER_SPARE_MAX (64 * 1024)

/* c's reader with a scratch of need bytes aligned to align at least (need 0: any, or none),
 * unless queued buffers point into the one it has (plan finds it full then): the server's
 * spare, or made; one made anew over a smaller scratch keeps what the old one held (no task
 * is out: read_piece and preload return before while one is) */
static mg_http_file_reader_t *reader_get(mg_connection_t *c, size_t need, size_t align)
{
    mg_http_conn_t *hc = c->data;
    mg_http_file_reader_t *rd = hc->reader;
    if (rd == NULL && c->server->h1_reader) {
        rd = hc->reader = c->server->h1_reader;
        c->server->h1_reader = NULL;
        rd->c = c;
    }
    if (rd && (need == 0 || rd->scratch_used ||
               (rd->scratch_size >= need && rd->scratch_align % align == 0))) {
        return rd;
    }
    mg_http_file_reader_t *n = mg_alloc(sizeof(*n) + (need ? need + align : 0));
    if (rd) {
        *n = *rd;
        free(rd);
    } else {
        memset(n, 0, sizeof(*n));
        n->c = c;
        n->task.handler = aio_handler;
        n->task.done = aio_done;
    }
    /* O_DIRECT reads want an aligned address too */
    char *mem = (char *)(n + 1);
    n->scratch = need ? mem + (align - (uintptr_t)mem % align) % align : NULL;
    n->scratch_size = need;
    n->scratch_align = need ? align : 0;
    hc->reader = n;
    return n;
}

void mg_http_file_reader_written_slow(mg_http_conn_t *hc, const mg_buf_t *b)
{
    if (b == hc->reader->scratch_buf) {
        hc->reader->scratch_buf = NULL;
        hc->reader->scratch_used = 0;
    }
}

int mg_http_file_reader_holds_slow(const mg_http_conn_t *hc, const mg_buf_t *b)
{
    return b == hc->reader->scratch_buf;
}

static size_t round_up(size_t n, size_t align)
{
    return (n + align - 1) / align * align;
}

/* ---- planning a piece ---- */

/* Where the next piece of fb goes and what to read; 0 when the scratch is full of bytes not
 * written yet */
static int plan(mg_connection_t *c, mg_http_loc_conf_t *clcf, mg_buf_t *fb, piece_t *p)
{
    mg_http_conn_t *hc = c->data;
    size_t align = fb->directio ? (size_t)mg_max(clcf->directio_alignment, 1) : 1;
    size_t piece = clcf->output_buffers_size;
    if (hc->piece_max && hc->piece_max < piece) {
        piece = hc->piece_max; /* bytes read only to wait in a copy of their own: no */
    }
    size_t left = (size_t)(fb->file_last - fb->file_pos);
    size_t want = mg_min(piece, left);
    off_t start = fb->file_pos - fb->file_pos % (off_t)align;
    size_t skip = (size_t)(fb->file_pos - start);
    size_t len = round_up(skip + want, align);
    size_t slack = align > 1 ? 2 * align : 0;
    size_t need = mg_min((piece + slack) * (size_t)clcf->output_buffers_num,
                         round_up(skip + left, align) + slack);
    /* a small file gets a small scratch; a larger one later gets a new one (the old one is
     * free: nothing queued points into it) */
    mg_http_file_reader_t *rd = reader_get(c, need, align);
    size_t at = round_up(rd->scratch_used, align);
    if (rd->scratch_align % align || at + len > rd->scratch_size) {
        return 0;
    }
    p->fd = fb->directio ? fb->dio_fd : fb->fd;
    p->off = start;
    p->len = len;
    p->dst = rd->scratch + at;
    p->skip = skip;
    p->limit = want;
    return 1;
}

/* n bytes (or errno err) came for piece p of *link: queue them before it */
static mg_buf_t *piece_in(mg_request_t *r, mg_buf_t **link, piece_t *p, ssize_t n, int err)
{
    mg_http_conn_t *hc = r->hc;
    mg_buf_t *fb = *link;
    if (n < 0) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, err, "pread() failed");
        return NULL;
    }
    size_t got = (size_t)n > p->skip ? mg_min((size_t)n - p->skip, p->limit) : 0;
    if (got == 0) {
        mg_log_error(MG_LOG_ALERT, &r->connection->log, 0,
                     "file was truncated while sending the response");
        return NULL;
    }
    mg_buf_t *m = mg_buf_mem(r->pool, p->dst + p->skip, got);
    fb->file_pos += (off_t)got;
    m->next = fb;
    *link = m;
    mg_http_file_reader_t *rd = hc->reader;
    rd->scratch_used = (size_t)(p->dst - rd->scratch) + p->skip + got;
    rd->scratch_buf = m;
    return m;
}

/* ---- aio: the thread's part ---- */

static void aio_handler(mg_thread_task_t *t)
{
    mg_http_file_reader_t *a = (mg_http_file_reader_t *)t;
    if (a->readahead) {
        a->n = readahead(a->p.fd, a->p.off, a->p.len) == 0 ? (ssize_t)a->p.len : -1;
    } else {
        do {
            a->n = pread(a->p.fd, a->p.dst, a->p.len, a->p.off);
        } while (a->n < 0 && errno == EINTR);
    }
    a->err = a->n < 0 ? errno : 0;
}

/* back in the loop: the writer takes the result where it asked for it */
static void aio_done(mg_thread_task_t *t)
{
    mg_http_file_reader_t *a = (mg_http_file_reader_t *)t;
    close(a->p.fd);
    a->p.fd = -1;
    if (a->orphan) {
        free(a);
        return;
    }
    a->state = AIO_DONE;
    mg_http_conn_t *hc = a->c->data;
    hc->aio_busy = 0;
    if (hc->r && !a->c->writing && !hc->delayed && !a->c->closed) {
        mg_http_writer_resume(a->c);
    }
}

/* The pool for r: aio's, or threads=$name's */
static mg_thread_pool_t *pool_of(mg_request_t *r, mg_http_loc_conf_t *clcf)
{
    if (clcf->thread_pool_name == NULL) {
        return clcf->thread_pool;
    }
    mg_str_t name = mg_http_complex_value(r, clcf->thread_pool_name);
    mg_thread_pool_t *tp = mg_thread_pool_find(r->connection->cycle, name);
    if (tp == NULL) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "thread pool \"%.*s\" not found",
                     (int)name.len, name.data);
    }
    return tp;
}

struct mg_thread_pool_s *mg_http_aio_pool(mg_request_t *r)
{
    return pool_of(r, mg_http_get_loc_conf(r, mg_http_core_module));
}

/* Hand p (for fb) to a thread. MG_AGAIN: the writer waits; MG_ERROR: logged. */
static mg_int_t aio_post(mg_request_t *r, mg_http_loc_conf_t *clcf, mg_buf_t *fb, piece_t *p,
                         int readahead)
{
    mg_http_conn_t *hc = r->hc;
    r->connection->log.action = "sending response to client";
    mg_thread_pool_t *tp = pool_of(r, clcf);
    if (tp == NULL) {
        return MG_ERROR;
    }
    mg_http_file_reader_t *a = reader_get(r->connection, 0, 1);
    a->p = *p;
    /* a descriptor of its own: the request may end, and its file be closed, meanwhile */
    a->p.fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 0);
    if (a->p.fd < 0) {
        mg_log_error(MG_LOG_ALERT, &r->connection->log, errno, "dup() failed");
        return MG_ERROR;
    }
    a->fb = fb;
    a->readahead = readahead;
    if (mg_thread_task_post(tp, &a->task, r->connection->server->base, &r->connection->log) !=
        MG_OK) {
        close(a->p.fd);
        return MG_ERROR;
    }
    a->state = AIO_BUSY;
    hc->aio_busy = 1;
    return MG_AGAIN;
}

/* ---- the writer's side ---- */

mg_buf_t *mg_http_read_piece(mg_request_t *r, mg_buf_t **link)
{
    mg_http_conn_t *hc = r->hc;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_buf_t *fb = *link;
    mg_http_file_reader_t *a = hc->reader;
    if (a && a->state == AIO_BUSY) {
        return MG_HTTP_PIECE_PENDING;
    }
    if (a && a->state == AIO_DONE && !a->readahead) {
        a->state = AIO_IDLE;
        if (a->fb == fb && a->p.off + (off_t)a->p.skip == fb->file_pos) {
            return piece_in(r, link, &a->p, a->n, a->err);
        }
    }
    piece_t p;
    if (!plan(r->connection, clcf, fb, &p)) {
        return fb;
    }
    if (clcf->aio != MG_HTTP_AIO_OFF) {
        return aio_post(r, clcf, fb, &p, 0) == MG_AGAIN ? MG_HTTP_PIECE_PENDING : NULL;
    }
    ssize_t n;
    do {
        n = pread(p.fd, p.dst, p.len, p.off);
    } while (n < 0 && errno == EINTR);
    return piece_in(r, link, &p, n, errno);
}

mg_int_t mg_http_preload(mg_request_t *r, mg_buf_t *b, size_t len)
{
    mg_http_conn_t *hc = r->hc;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (clcf->aio == MG_HTTP_AIO_OFF) {
        return MG_OK;
    }
    mg_http_file_reader_t *a = hc->reader;
    if (a && a->state == AIO_BUSY) {
        return MG_AGAIN;
    }
    if (a && a->state == AIO_DONE && a->readahead && a->fb == b && a->p.off <= b->file_pos &&
        a->p.off + (off_t)a->p.len >= b->file_pos + (off_t)len) {
        /* read ahead already: the pages are there for sendfile (a failed read ahead only
         * means sendfile reads them itself) */
        return MG_OK;
    }
    piece_t p = {.fd = b->fd, .off = b->file_pos, .len = len};
    return aio_post(r, clcf, b, &p, 1);
}

void mg_http_file_reader_reset(mg_http_conn_t *hc)
{
    mg_http_file_reader_t *a = hc->reader;
    hc->reader = NULL;
    hc->aio_busy = 0;
    if (a == NULL) {
        return;
    }
    if (a->state == AIO_BUSY) {
        /* the thread still writes into the scratch: the task frees the reader when it is back */
        a->orphan = 1;
        return;
    }
    mg_server_t *srv = a->c->server;
    if (srv->h1_reader == NULL && a->scratch_size <= READER_SPARE_MAX) {
        a->c = NULL;
        a->state = AIO_IDLE;
        a->readahead = 0;
        a->fb = NULL;
        a->scratch_used = 0;
        a->scratch_buf = NULL;
        srv->h1_reader = a;
    } else {
        free(a);
    }
}
