/*
 * Reusable buffer structs of a body filter (buf.h).
 */
#include "buf.h"

#include <string.h>

mg_buf_t *mg_buf_set_get(mg_buf_set_t *set, mg_pool_t *pool)
{
    if (set->used == set->n) {
        size_t n = set->n ? set->n * 2 : 16;
        mg_buf_t **bufs = mg_palloc(pool, n * sizeof(mg_buf_t *));
        if (set->n) {
            memcpy(bufs, set->bufs, set->n * sizeof(mg_buf_t *));
        }
        for (size_t i = set->n; i < n; i++) {
            bufs[i] = mg_palloc(pool, sizeof(mg_buf_t));
        }
        set->bufs = bufs;
        set->n = n;
    }
    mg_buf_t *b = set->bufs[set->used++];
    memset(b, 0, sizeof(*b));
    b->fd = -1;
    return b;
}
