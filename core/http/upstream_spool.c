/*
 * A buffered upstream response (proxy_buffering on, or X-Accel-Buffering: yes) as nginx's
 * event pipe handles it: the upstream is read into proxy_buffers (the head buffer first; one
 * readv fills as many free ones as it has bytes for), each passed on once full or holding the
 * body's end; the writer is given at most proxy_busy_buffers_size at a time; when every
 * buffer is taken and the client is slower (not merely given buffers it wrote at once), the
 * bytes read but not given are written to a temporary file under proxy_temp_path (up to
 * proxy_max_temp_file_size, proxy_temp_file_write_size per write, removed from the directory
 * at once as nginx does), which the writer sends later as file buffers (sendfile), ahead of
 * what is still in memory. With max 0, or a full file, reading waits for the client. With
 * aio threads and aio_write on, a thread writes to the file while reading waits. With
 * proxy_limit_rate, reads keep to that pace (nginx's: only buffered responses are limited).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "server.h"
#include "thread_pool.h"
#include "upstream_int.h"

#define SLOT_FREE 0
#define SLOT_HELD 1 /* read, not given to the writer yet */
#define SLOT_BUSY 2 /* given to the writer: reusable once its queue is empty */

#define READ_SLOTS 16 /* slots one read fills at most (one readv) */

/* One read's output: the buffers body_input cut from a slot (chunk framing excluded) */
typedef struct {
    mg_int_t slot;
    mg_buf_t *first, *last;
    size_t size;
} spool_read_t;

/* aio_write: one write in a thread; malloc'ed with a copy of the bytes and a descriptor of
 * its own, so that a request ending meanwhile leaves it to free itself */
typedef struct {
    mg_thread_task_t task;
    mg_upstream_t *u; /* NULL once the request ended */
    int fd;
    off_t offset;
    char *data;
    size_t len;
    mg_int_t reads; /* held reads it carries */
    int err;
} spool_aio_t;

struct mg_upstream_spool_s {
    spool_aio_t *aio;     /* a write in a thread, or NULL */
    unsigned char *state; /* per slot */
    spool_read_t *held;   /* a ring of nbufs + 1 reads, oldest first */
    mg_int_t held_first, held_n;
    /* nginx's event pipe passes a buffer on only once it is full (or holds the body's end):
     * the slot being read into until then (-1: none; nbufs: the head buffer, with what came
     * after the head), the bytes in it, and whether the newest held read is its, not given */
    mg_int_t fill;
    size_t filled;
    unsigned open : 1;
    size_t busy;             /* given to the writer since its queue was last empty */
    mg_http_temp_file_t *tf; /* NULL until the first spill */
    off_t given;             /* file bytes given to the writer */
    mg_buf_t *fbuf;          /* the file piece in the writer's queue, reused */
    int64_t rate_start;      /* *_limit_rate: the second reading began, */
    int64_t rate_read;       /* ... the bytes read since (framing included) */
    unsigned flushed : 1;    /* a flush followed the buffers last given */
    unsigned delayed : 1;    /* *_limit_rate: the connection's timer resumes reading */
    unsigned cleanup : 1;    /* spool_cleanup is on the request's pool */
    unsigned held_full : 1;  /* r->hold_body, but every buffer is held: given from now on */
};

int mg_upstream_spool_buffering(mg_upstream_t *u)
{
    int on = u->conf->buffering;
    if (u->ignore_headers & MG_UPSTREAM_IGN_XA_BUFFERING) {
        return on;
    }
    for (size_t i = 0; i < u->head.nheaders; i++) {
        mg_http_header_t *h = &u->head.headers[i];
        if (h->name.len != 17 || strncasecmp((const char *)h->name.data, "X-Accel-Buffering", 17)) {
            continue;
        }
        if (h->value.len == 3 && strncasecmp((const char *)h->value.data, "yes", 3) == 0) {
            on = 1;
        } else if (h->value.len == 2 && strncasecmp((const char *)h->value.data, "no", 2) == 0) {
            on = 0;
        }
    }
    return on;
}

static void aio_free(spool_aio_t *a)
{
    close(a->fd);
    free(a->data);
    free(a);
}

static void spool_cleanup(void *data)
{
    mg_upstream_spool_t *sp = data;
    if (sp->aio) {
        sp->aio->u = NULL; /* in a thread still: its done frees it */
    }
}

/* One allocation for the spool, its per-slot arrays and u->mem (every proxied response with
 * proxy_buffering makes one); the cleanup waits for a thread's write (spill_in_thread). */
void mg_upstream_spool_init(mg_upstream_t *u)
{
    size_t n = (size_t)u->nbufs + 1; /* the head buffer is the last slot */
    char *p = mg_pcalloc(u->r->pool, sizeof(mg_upstream_spool_t) +
                                         n * (sizeof(spool_read_t) + sizeof(char *) + 1));
    mg_upstream_spool_t *sp = (mg_upstream_spool_t *)p;
    p += sizeof(*sp);
    sp->held = (spool_read_t *)p;
    p += n * sizeof(spool_read_t);
    u->mem = (char **)p;
    p += n * sizeof(char *);
    sp->state = (unsigned char *)p;
    sp->rate_start = (int64_t)mg_now.sec;
    sp->fill = -1;
    u->spool = sp;
    if (u->r->parent && u->conf->temp_path && u->conf->max_temp_file_size) {
        /* an include held behind another keeps proxy_buffers' worth in memory, the rest in a
         * temporary file (this spool itself passes everything on: a subrequest's output is
         * copied as it comes) */
        mg_http_subrequest_spill(u->r, u->conf->temp_path, (size_t)u->nbufs * u->bufsize,
                                 (off_t)u->conf->max_temp_file_size);
    }
}

/* *_limit_rate: how much the next read may take (0: none now, the timer is set) */
static size_t rate_allows(mg_upstream_t *u, size_t want)
{
    mg_upstream_spool_t *sp = u->spool;
    size_t rate = u->conf->limit_rate;
    if (rate == 0) {
        return want;
    }
    if (sp->delayed) {
        return 0;
    }
    int64_t budget = mg_http_rate_budget(rate, sp->rate_start, sp->rate_read);
    if (budget > 0) {
        return (size_t)mg_min((int64_t)want, budget);
    }
    /* as nginx: the read event waits on a timer instead of the socket; the read timeout
     * is off meanwhile (the connection's one timer is the delay's) */
    sp->delayed = 1;
    mg_upstream_conn_read_off(u);
    mg_upstream_conn_timer(u, mg_http_rate_delay(rate, budget));
    return 0;
}

int mg_upstream_spool_timer(mg_upstream_t *u)
{
    mg_upstream_spool_t *sp = u->spool;
    if (sp == NULL || !sp->delayed) {
        return 0;
    }
    sp->delayed = 0;
    mg_upstream_spool_read(u);
    return 1;
}

/* Reading stops until the client drains: a pending delay goes with the timer */
static void stop_reading(mg_upstream_t *u)
{
    u->spool->delayed = 0;
    mg_upstream_conn_read_off(u);
    mg_upstream_conn_timer_del(u);
}

static spool_read_t *held_at(mg_upstream_spool_t *sp, mg_upstream_t *u, mg_int_t i)
{
    return &sp->held[(sp->held_first + i) % (u->nbufs + 1)];
}

static void held_pop(mg_upstream_spool_t *sp, mg_upstream_t *u, int state)
{
    spool_read_t *h = held_at(sp, u, 0);
    sp->state[h->slot] = (unsigned char)state;
    sp->held_first = (sp->held_first + 1) % (u->nbufs + 1);
    sp->held_n--;
}

/* Give the writer what waits, in the response's order: the file's unsent bytes first, then
 * the reads in memory, while less than proxy_busy_buffers_size is given and not written. */
static mg_int_t give(mg_upstream_t *u, int idle)
{
    mg_upstream_spool_t *sp = u->spool;
    mg_request_t *r = u->r;
    size_t limit = u->conf->busy_buffers_size;
    if (r->hold_body && !sp->held_full) {
        return MG_OK; /* the body's end passes what the buffers hold (mg_upstream_spool_rest) */
    }
    if (sp->tf && sp->given < sp->tf->offset) {
        if (!idle) {
            return MG_OK; /* one file piece at a time: its buffer is reused */
        }
        size_t n = (size_t)mg_min(sp->tf->offset - sp->given, (off_t)limit);
        mg_buf_t *b = sp->fbuf;
        if (b == NULL) {
            b = sp->fbuf = mg_buf_mem(r->pool, NULL, 0);
        }
        memset(b, 0, sizeof(*b));
        b->in_file = 1;
        b->fd = sp->tf->fd;
        b->file_pos = sp->given;
        b->file_last = sp->given + (off_t)n;
        sp->given += (off_t)n;
        sp->busy += n;
        sp->flushed = 0;
        if (mg_upstream_output(u, b) == MG_ERROR) {
            return MG_ERROR;
        }
        if (sp->given < sp->tf->offset) {
            return MG_OK; /* memory comes after the rest of the file */
        }
    }
    mg_buf_t *out = NULL, **tail = &out;
    while (sp->held_n > sp->open && sp->busy < limit) {
        spool_read_t *h = held_at(sp, u, 0);
        *tail = h->first;
        tail = &h->last->next;
        sp->busy += h->size;
        held_pop(sp, u, SLOT_BUSY);
    }
    if (out == NULL) {
        return MG_OK;
    }
    sp->flushed = 0;
    return mg_upstream_output(u, out);
}

static void aio_handler(mg_thread_task_t *t)
{
    spool_aio_t *a = (spool_aio_t *)t;
    size_t done = 0;
    while (done < a->len) {
        ssize_t n = pwrite(a->fd, a->data + done, a->len - done, a->offset + (off_t)done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            a->err = n < 0 ? errno : ENOSPC;
            return;
        }
        done += (size_t)n;
    }
}

static void aio_done(mg_thread_task_t *t)
{
    spool_aio_t *a = (spool_aio_t *)t;
    mg_upstream_t *u = a->u;
    if (u == NULL) {
        aio_free(a);
        return;
    }
    mg_upstream_spool_t *sp = u->spool;
    sp->aio = NULL;
    if (a->err) {
        mg_log_error(MG_LOG_CRIT, mg_upstream_log(u), a->err, "pwrite() \"%s\" failed",
                     sp->tf->name.data);
        aio_free(a);
        mg_upstream_finalize(u, MG_ERROR);
        return;
    }
    sp->tf->offset += (off_t)a->len;
    for (mg_int_t k = a->reads; k; k--) {
        held_pop(sp, u, SLOT_FREE);
    }
    aio_free(a);
    if (!u->done) {
        mg_upstream_spool_read(u);
    }
}

/* aio_write: the k oldest reads (total bytes) copied and written by a thread. MG_AGAIN: the
 * read loop waits for it; MG_DECLINED: no pool, write here; MG_ERROR: logged. */
static mg_int_t spill_in_thread(mg_upstream_t *u, mg_int_t k, size_t total)
{
    mg_upstream_spool_t *sp = u->spool;
    mg_request_t *r = u->r;
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (clcf->aio != MG_HTTP_AIO_THREADS || !clcf->aio_write) {
        return MG_DECLINED;
    }
    mg_thread_pool_t *tp = mg_http_aio_pool(r);
    if (tp == NULL) {
        return MG_ERROR;
    }
    spool_aio_t *a = mg_calloc(sizeof(*a));
    a->fd = fcntl(sp->tf->fd, F_DUPFD_CLOEXEC, 0);
    if (a->fd < 0) {
        mg_log_error(MG_LOG_ALERT, mg_upstream_log(u), errno, "dup() failed");
        free(a);
        return MG_ERROR;
    }
    a->data = mg_alloc(total);
    for (mg_int_t i = 0; i < k; i++) {
        spool_read_t *h = held_at(sp, u, i);
        for (mg_buf_t *b = h->first;; b = b->next) {
            memcpy(a->data + a->len, b->pos, (size_t)(b->last - b->pos));
            a->len += (size_t)(b->last - b->pos);
            if (b == h->last) {
                break;
            }
        }
    }
    a->u = u;
    a->offset = sp->tf->offset;
    a->reads = k;
    a->task.handler = aio_handler;
    a->task.done = aio_done;
    if (mg_thread_task_post(tp, &a->task, r->connection->server->base, mg_upstream_log(u)) !=
        MG_OK) {
        aio_free(a);
        return MG_ERROR;
    }
    if (!sp->cleanup) {
        /* the request may end before the thread: the write then frees itself */
        mg_pool_cleanup_add(r->pool, spool_cleanup, sp);
        sp->cleanup = 1;
    }
    sp->aio = a;
    return MG_AGAIN;
}

/* Write the oldest reads to the temporary file (at least one, at most
 * proxy_temp_file_write_size, never past proxy_max_temp_file_size) and free their buffers:
 * MG_OK, MG_DECLINED (not allowed: wait for the client), MG_AGAIN (a thread writes them),
 * MG_ERROR (logged). */
static mg_int_t spill(mg_upstream_t *u)
{
    mg_upstream_spool_t *sp = u->spool;
    mg_request_t *r = u->r;
    off_t offset = sp->tf ? sp->tf->offset : 0;
    size_t total = 0;
    mg_int_t k = 0;
    if (u->conf->max_temp_file_size == 0 || u->conf->temp_path == NULL || r->parent) {
        return MG_DECLINED;
    }
    for (; k < sp->held_n - sp->open; k++) {
        size_t s = held_at(sp, u, k)->size;
        if ((k && total + s > u->conf->temp_file_write_size) ||
            (size_t)offset + total + s > u->conf->max_temp_file_size) {
            break;
        }
        total += s;
    }
    if (k == 0) {
        return MG_DECLINED;
    }
    if (sp->tf == NULL) {
        sp->tf = mg_http_temp_file_create(r, u->conf->temp_path, 0);
        if (sp->tf == NULL) {
            return MG_ERROR;
        }
        /* as nginx: out of the directory at once, so that nothing is left behind by a crash;
         * the request's cleanup then only closes it (the name may be another's by then) */
        if (unlink(sp->tf->name.data) != 0) {
            mg_log_error(MG_LOG_CRIT, mg_upstream_log(u), errno, "unlink() \"%s\" failed",
                         sp->tf->name.data);
        }
        sp->tf->persistent = 1;
        mg_log_error(MG_LOG_WARN, mg_upstream_log(u), 0,
                     "an upstream response is buffered to a temporary file %s", sp->tf->name.data);
    }
    mg_int_t rc = spill_in_thread(u, k, total);
    if (rc != MG_DECLINED) {
        return rc;
    }
    for (; k; k--) {
        spool_read_t *h = held_at(sp, u, 0);
        for (mg_buf_t *b = h->first;; b = b->next) {
            if (mg_http_temp_file_write(sp->tf, b->pos, (size_t)(b->last - b->pos)) != MG_OK) {
                return MG_ERROR;
            }
            if (b == h->last) {
                break;
            }
        }
        held_pop(sp, u, SLOT_FREE);
    }
    return MG_OK;
}

static mg_int_t free_slot(mg_upstream_t *u)
{
    for (mg_int_t i = 0; i < u->nbufs; i++) {
        if (u->spool->state[i] == SLOT_FREE) {
            return i;
        }
    }
    return -1;
}

/* Bytes read into slot (at the end of what it holds): cut into the body's buffers, which wait
 * in the slot's held read until the slot is full, as nginx's event pipe passes a buffer on,
 * unless they end the body; a chunked body's or a protocol's records go on at each read, as
 * nginx's input filters for them pass every read; more: the bytes the same read put in the
 * next slots (past the body's end, an upstream sending too much). MG_OK, or MG_DONE: the
 * body's end or a broken one (the request is finalized). */
static mg_int_t input(mg_upstream_t *u, mg_int_t slot, char *data, size_t n, size_t more)
{
    mg_upstream_spool_t *sp = u->spool;
    mg_buf_t *chain = NULL, **tail = &chain;
    ssize_t used = mg_upstream_body_input(u, data, n, &tail);
    if (used < 0) {
        mg_upstream_body_invalid(u);
        return MG_DONE;
    }
    if (chain) {
        spool_read_t *h;
        if (sp->open) {
            h = held_at(sp, u, sp->held_n - 1);
            h->last->next = chain;
        } else {
            h = held_at(sp, u, sp->held_n++);
            h->slot = slot;
            h->first = chain;
            h->size = 0;
        }
        for (mg_buf_t *b = chain; b; b = b->next) {
            h->last = b;
            h->size += (size_t)(b->last - b->pos);
            /* nginx's event pipe passes every buffer on recycled (its input filters mark each
             * one): the writer sends it without waiting for postpone_output, and a filter
             * that shrinks it (ssi, sub_filter) passes the mark on */
            b->recycled = 1;
        }
        sp->state[slot] = SLOT_HELD;
        sp->open = 1;
    }
    if (mg_upstream_body_complete(u)) {
        mg_upstream_body_finish(u, ((size_t)used < n || more) && !u->chunked_body);
        return MG_DONE;
    }
    sp->filled += n;
    size_t size = slot == u->nbufs ? u->hsize : u->bufsize;
    if (sp->fill != slot || sp->filled >= size || u->chunked_body || u->decode) {
        sp->fill = -1;
        sp->filled = 0;
        sp->open = 0;
    }
    return MG_OK;
}

/* The slots one read fills: nginx's event pipe reads into all its free buffers with one
 * readv, so where the connection reads that way (plain with readv, TLS with SSL_read into
 * each in turn; no records to decode: not FastCGI)
 * the free slots after slot count too, as many as the body's known rest needs (and the byte
 * more that shows an upstream sending too much), else those allocated already and one more.
 * slots[] gets them (-1 after the last); returns the bytes they hold, room of them in slot. */
static size_t read_room(mg_upstream_t *u, mg_int_t slot, size_t room, mg_int_t *slots)
{
    int k = 0;
    slots[k++] = slot;
    if (!u->decode) {
        size_t need = !u->chunked_body && u->length > 0 ? (size_t)u->length + 1 : SIZE_MAX;
        int fresh = need == SIZE_MAX ? 1 : READ_SLOTS;
        for (mg_int_t i = 0; i < u->nbufs && room < need && k < READ_SLOTS; i++) {
            if (i == slot || u->spool->state[i] != SLOT_FREE) {
                continue;
            }
            if (u->mem[i] == NULL && fresh-- == 0) {
                break;
            }
            slots[k++] = i;
            room += u->bufsize;
        }
    }
    if (k < READ_SLOTS) {
        slots[k] = -1;
    }
    return room;
}

/* iov for want bytes of read_room's slots (their memory allocated, the first one's fill
 * begun): how many */
static int read_iov(mg_upstream_t *u, mg_int_t *slots, size_t want, struct iovec *iov)
{
    mg_upstream_spool_t *sp = u->spool;
    int k = 0;
    for (; k < READ_SLOTS && slots[k] >= 0 && want; k++) {
        mg_int_t slot = slots[k];
        if (u->mem[slot] == NULL) {
            u->mem[slot] = mg_pnalloc(u->r->pool, u->bufsize);
        }
        size_t at = 0, size = slot == u->nbufs ? u->hsize : u->bufsize;
        if (k == 0 && sp->fill == slot) {
            at = sp->filled;
        } else if (k == 0) {
            sp->fill = slot;
            sp->filled = 0;
        }
        iov[k].iov_base = u->mem[slot] + at;
        iov[k].iov_len = mg_min(size - at, want);
        want -= iov[k].iov_len;
    }
    return k;
}

/* n bytes one read put in iov's slots, slot after slot, each as its own read */
static mg_int_t input_all(mg_upstream_t *u, mg_int_t *slots, struct iovec *iov, size_t n)
{
    mg_upstream_spool_t *sp = u->spool;
    for (int k = 0;; k++) {
        size_t piece = mg_min(n, iov[k].iov_len);
        n -= piece;
        if (k) {
            /* the slot before is full: its held read is closed */
            sp->fill = slots[k];
            sp->filled = 0;
        }
        mg_int_t rc = input(u, slots[k], iov[k].iov_base, piece, n);
        if (rc != MG_OK || n == 0) {
            return rc;
        }
    }
}

void mg_upstream_spool_read(mg_upstream_t *u)
{
    mg_request_t *r = u->r;
    mg_upstream_spool_t *sp = u->spool;
    if (sp->aio) {
        return; /* a thread writes the oldest reads: its end goes on */
    }
    if (u->pending_len) {
        /* what came with the head: the head buffer is the first buffer, read on into after
         * it (a cached head's copy has no room: passed at once) */
        size_t n = u->pending_len;
        u->pending_len = 0;
        u->mem[u->nbufs] = u->hbuf;
        if (u->hsize) {
            sp->fill = u->nbufs;
            sp->filled = (size_t)(u->pending - u->hbuf);
        }
        if (input(u, u->nbufs, u->pending, n, 0) != MG_OK) {
            return;
        }
    } else if (sp->fill < 0 && sp->held_n == 0 && u->hsize && u->mem[u->nbufs] == NULL) {
        /* the head came alone: the body's first bytes go after it in the head buffer */
        u->mem[u->nbufs] = u->hbuf;
        sp->fill = u->nbufs;
        sp->filled = u->hlen;
    }
    for (int wrote = 0;;) {
        int idle = !mg_http_output_busy(r);
        if (idle) {
            /* every buffer given was written: all free again */
            for (mg_int_t i = 0; i <= u->nbufs; i++) {
                if (sp->state[i] == SLOT_BUSY) {
                    sp->state[i] = SLOT_FREE;
                }
            }
            sp->busy = 0;
        }
        mg_int_t slot = sp->fill >= 0 ? sp->fill : free_slot(u);
        /* as nginx's event pipe: what is ready goes to the writer before reading, then only
         * once reading stops (no more for now, no buffer left), so that what one event read
         * goes on together */
        if ((!wrote || slot < 0) && give(u, idle) == MG_ERROR) {
            mg_upstream_finalize(u, MG_ERROR);
            return;
        }
        wrote = 1;
        if (slot < 0 && sp->busy && !mg_http_output_busy(r)) {
            continue; /* what was given is written: its buffers are free (not a spill) */
        }
        if (slot < 0 && !sp->flushed && mg_http_output_busy(r)) {
            /* the writer may hold what it has for postpone_output: only a flush makes it
             * write, and so free buffers */
            sp->flushed = 1;
            mg_buf_t *f = mg_buf_mem(r->pool, "", 0);
            f->flush = 1;
            if (mg_upstream_output(u, f) == MG_ERROR) {
                mg_upstream_finalize(u, MG_ERROR);
                return;
            }
            continue;
        }
        if (slot < 0) {
            mg_int_t rc = sp->held_n ? spill(u) : MG_DECLINED;
            if (rc == MG_ERROR) {
                mg_upstream_finalize(u, MG_ERROR);
                return;
            }
            if (rc == MG_AGAIN) {
                stop_reading(u);
                return;
            }
            if (rc == MG_DECLINED && r->hold_body && !sp->held_full) {
                sp->held_full = 1; /* a subrequest's spool does not spill: pass it on */
                continue;
            }
            if (rc == MG_OK || !mg_http_output_busy(r)) {
                continue; /* room again (what was given may have been written at once) */
            }
            /* the client is slower and nothing more may go to disk: stop reading until the
             * writer drains (the request's write_event_handler calls back) */
            stop_reading(u);
            return;
        }
        mg_int_t slots[READ_SLOTS];
        struct iovec iov[READ_SLOTS];
        size_t size = slot == u->nbufs ? u->hsize : u->bufsize;
        size_t want =
            rate_allows(u, read_room(u, slot, size - (sp->fill == slot ? sp->filled : 0), slots));
        mg_int_t rc = MG_AGAIN;
        if (want) {
            int cnt = read_iov(u, slots, want, iov);
            size_t n;
            int64_t raw = u->state->response_length;
            rc = mg_upstream_recv_bodyv(u, iov, cnt, &n);
            if (rc == MG_OK) {
                sp->rate_read += u->state->response_length - raw;
                rc = input_all(u, slots, iov, n);
            }
        }
        if (rc == MG_DONE) {
            return;
        }
        if (rc == MG_AGAIN) {
            /* waiting for the upstream (or *_limit_rate's timer) */
            if (give(u, !mg_http_output_busy(r)) == MG_ERROR) {
                mg_upstream_finalize(u, MG_ERROR);
            }
            return;
        }
    }
}

void mg_upstream_spool_drop_open(mg_upstream_t *u)
{
    mg_upstream_spool_t *sp = u->spool;
    if (sp == NULL || !sp->open || sp->held_n == 0) {
        return;
    }
    spool_read_t *h = held_at(sp, u, sp->held_n - 1);
    sp->state[h->slot] = SLOT_FREE;
    sp->held_n--;
    sp->fill = -1;
    sp->filled = 0;
    sp->open = 0;
}

mg_buf_t *mg_upstream_spool_rest(mg_upstream_t *u, mg_buf_t *last)
{
    mg_upstream_spool_t *sp = u->spool;
    mg_buf_t *out = NULL, **tail = &out;
    if (sp == NULL) {
        return last;
    }
    if (sp->tf && sp->given < sp->tf->offset) {
        mg_buf_t *b = mg_buf_mem(u->r->pool, NULL, 0);
        b->in_file = 1;
        b->fd = sp->tf->fd;
        b->file_pos = sp->given;
        b->file_last = sp->tf->offset;
        sp->given = sp->tf->offset;
        *tail = b;
        tail = &b->next;
    }
    while (sp->held_n) {
        spool_read_t *h = held_at(sp, u, 0);
        /* as nginx's event pipe once the upstream is done (or gone): the rest goes on not
         * recycled, so the writer may hold it for postpone_output until the end comes (a
         * body filter failing on the end then leaves nothing sent, as there) */
        for (mg_buf_t *b = h->first; b; b = b->next) {
            b->recycled = 0;
            if (b == h->last) {
                break;
            }
        }
        *tail = h->first;
        tail = &h->last->next;
        held_pop(sp, u, SLOT_BUSY);
    }
    *tail = last;
    return out;
}

/* ---- configuration ---- */

const char *mg_upstream_merge_buffers(mg_conf_t *cf, mg_upstream_conf_t *conf,
                                      mg_upstream_conf_t *prev, const char *p)
{
    mg_conf_merge_size(conf->busy_buffers_conf, prev->busy_buffers_conf, MG_CONF_UNSET_SIZE);
    mg_conf_merge_size(conf->temp_file_write_conf, prev->temp_file_write_conf, MG_CONF_UNSET_SIZE);
    conf->busy_buffers_size = conf->busy_buffers_conf;
    conf->temp_file_write_size = conf->temp_file_write_conf;
    mg_conf_merge_size(conf->max_temp_file_size, prev->max_temp_file_size, MG_CONF_UNSET_SIZE);
    if (conf->bufs_num < 2) {
        mg_conf_error(cf, 0, "there must be at least 2 \"%s_buffers\"", p);
        return MG_CONF_ERROR;
    }
    /* nginx's defaults and checks, against the larger of the head buffer and a body buffer */
    size_t size = mg_max(conf->buffer_size, conf->bufs_size);
    if (conf->busy_buffers_size == MG_CONF_UNSET_SIZE) {
        conf->busy_buffers_size = 2 * size;
    } else if (conf->busy_buffers_size < size) {
        mg_conf_error(cf, 0,
                      "\"%s_busy_buffers_size\" must be equal to or greater than the maximum of "
                      "the value of \"%s_buffer_size\" and one of the \"%s_buffers\"",
                      p, p, p);
        return MG_CONF_ERROR;
    }
    if (conf->busy_buffers_size > (size_t)(conf->bufs_num - 1) * conf->bufs_size) {
        mg_conf_error(cf, 0,
                      "\"%s_busy_buffers_size\" must be less than the size of all \"%s_buffers\" "
                      "minus one buffer",
                      p, p);
        return MG_CONF_ERROR;
    }
    if (conf->temp_file_write_size == MG_CONF_UNSET_SIZE) {
        conf->temp_file_write_size = 2 * size;
    } else if (conf->temp_file_write_size < size) {
        mg_conf_error(cf, 0,
                      "\"%s_temp_file_write_size\" must be equal to or greater than the maximum "
                      "of the value of \"%s_buffer_size\" and one of the \"%s_buffers\"",
                      p, p, p);
        return MG_CONF_ERROR;
    }
    if (conf->max_temp_file_size == MG_CONF_UNSET_SIZE) {
        conf->max_temp_file_size = (size_t)1024 * 1024 * 1024;
    } else if (conf->max_temp_file_size != 0 && conf->max_temp_file_size < size) {
        mg_conf_error(cf, 0,
                      "\"%s_max_temp_file_size\" must be equal to zero to disable temporary "
                      "files usage or must be equal to or greater than the maximum of the value "
                      "of \"%s_buffer_size\" and one of the \"%s_buffers\"",
                      p, p, p);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}
