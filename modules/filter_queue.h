/*
 * A body filter's input queue and its hold, as the text filters (gunzip, sub_filter, charset,
 * ssi; gzip for the queue) keep them: what they are given waits in a queue until they have used
 * it, and when the filters after them say MG_AGAIN to output that still points into their
 * buffers, they hold the request (r->buffered) so that the writer calls them again with no
 * input. What a filter makes of its queue, and when it asks the filters after it to take what
 * they hold, stays its own. Inline: these run once a call on every filtered response.
 */
#ifndef MG_FILTER_QUEUE_H
#define MG_FILTER_QUEUE_H

#include "http.h"

/* Appends the chain in to the queue whose last next pointer is *tail. */
static inline void mg_filter_queue_append(mg_buf_t ***tail, mg_buf_t *in)
{
    **tail = in;
    for (; in; in = in->next) {
        *tail = &in->next;
    }
}

/* Empties the queue (after the last buffer nothing more goes out). */
static inline void mg_filter_queue_clear(mg_buf_t **head, mg_buf_t ***tail)
{
    *head = NULL;
    *tail = head;
}

/* The filter holds the request: the writer calls it again when the output moved on. */
static inline void mg_filter_hold(mg_request_t *r, int *held)
{
    *held = 1;
    r->buffered = 1;
}

/* A new call lifts this filter's hold: the filters after it say for themselves whether they
 * hold input. */
static inline void mg_filter_release(mg_request_t *r, int *held)
{
    if (*held) {
        *held = 0;
        r->buffered = 0;
    }
}

/* Calls the filters after this one with no input, so that they take what they still have of
 * its output. MG_OK (or what else they say that is not MG_AGAIN or MG_ERROR): they took it,
 * the filter's buffers are free again; MG_AGAIN: not yet, and the filter now holds the
 * request; MG_ERROR. */
static inline mg_int_t mg_filter_drain(mg_request_t *r, mg_http_body_filter_pt next, int *held)
{
    mg_int_t rc = next(r, NULL);
    if (rc == MG_AGAIN) {
        mg_filter_hold(r, held);
    }
    return rc;
}

#endif
