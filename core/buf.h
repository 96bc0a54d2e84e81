/*
 * Output buffers: a buffer holds bytes in memory or a range of a file, and links to the next
 * one, so a list of buffers is a chain passed through the body filters to the writer.
 */
#ifndef MG_BUF_H
#define MG_BUF_H

#include "mg.h"
#include "pool.h"

struct mg_buf_s {
    char *pos;
    char *last;
    int fd;           /* in_file: the file, owned elsewhere (a pool cleanup closes it) */
    off_t file_pos;
    off_t file_last;
    unsigned in_file : 1;
    unsigned last_buf : 1; /* the response ends here */
    unsigned flush : 1;
    unsigned recycled : 1;      /* its producer reuses the memory once written: the writer sends it
                                   at once, as at a flush, not held for postpone_output (nginx's
                                   recycled buffers: gzip's output, full upstream reads) */
    unsigned last_in_chain : 1; /* a part ends here (before an in-stream subrequest's output):
                                   text filters let go of what they keep for a match */
    unsigned directio : 1;      /* in_file: read with O_DIRECT through dio_fd, aligned */
    int dio_fd;
    mg_buf_t *next;
};

static inline mg_buf_t *mg_buf_mem(mg_pool_t *pool, const char *data, size_t len)
{
    mg_buf_t *b = mg_pcalloc(pool, sizeof(mg_buf_t));
    b->pos = (char *)data;
    b->last = data ? (char *)data + len : NULL;
    b->fd = -1;
    return b;
}

static inline size_t mg_buf_size(const mg_buf_t *b)
{
    return b->in_file ? (size_t)(b->file_last - b->file_pos) : (size_t)(b->last - b->pos);
}

static inline size_t mg_chain_size(const mg_buf_t *b)
{
    size_t n = 0;
    for (; b; b = b->next) {
        n += mg_buf_size(b);
    }
    return n;
}

/* The buffer structs a body filter hands on and reuses: the filters after it link them into
 * their own chains (the writer's queue), so which ones are the filter's own is kept here, not
 * in their links. bufs[0..used) are out; mg_buf_set_reset makes all free again once those
 * filters took what was passed (they said MG_OK). */
typedef struct {
    mg_buf_t **bufs;
    size_t n, used;
} mg_buf_set_t;

/* A cleared memory buffer struct (fd -1) of the set, which grows from the pool as needed. */
mg_buf_t *mg_buf_set_get(mg_buf_set_t *set, mg_pool_t *pool);

static inline void mg_buf_set_reset(mg_buf_set_t *set)
{
    set->used = 0;
}

#endif
