/*
 * Intrusive doubly linked lists: an element has `next` and `prevp`, the address of the pointer
 * that points at it (the list's head or the previous element's next), so an element unlinks
 * itself without the head or a walk; a NULL prevp means it is in no list. A list is its head
 * pointer; a FIFO queue adds a tail, the address of the last element's next (of the head when
 * empty). Macros, as the element types differ; each argument is evaluated once.
 */
#ifndef MG_LIST_H
#define MG_LIST_H

/* e in front of the list whose head pointer is at headp. */
#define mg_list_push(headp, e)                                                                     \
    do {                                                                                           \
        __typeof__(headp) ph_ = (headp);                                                           \
        __typeof__(e) pe_ = (e);                                                                   \
        pe_->next = *ph_;                                                                          \
        if (pe_->next) {                                                                           \
            pe_->next->prevp = &pe_->next;                                                         \
        }                                                                                          \
        pe_->prevp = ph_;                                                                          \
        *ph_ = pe_;                                                                                \
    } while (0)

/* e out of its list, if it is in one; its next and prevp are left NULL. */
#define mg_list_unlink(e)                                                                          \
    do {                                                                                           \
        __typeof__(e) ue_ = (e);                                                                   \
        if (ue_->prevp) {                                                                          \
            *ue_->prevp = ue_->next;                                                               \
            if (ue_->next) {                                                                       \
                ue_->next->prevp = ue_->prevp;                                                     \
            }                                                                                      \
            ue_->prevp = NULL;                                                                     \
            ue_->next = NULL;                                                                      \
        }                                                                                          \
    } while (0)

/* e at the end of the queue whose tail field is at tailp. */
#define mg_queue_append(tailp, e)                                                                  \
    do {                                                                                           \
        __typeof__(tailp) at_ = (tailp);                                                           \
        __typeof__(e) ae_ = (e);                                                                   \
        ae_->next = NULL;                                                                          \
        ae_->prevp = *at_;                                                                         \
        **at_ = ae_;                                                                               \
        *at_ = &ae_->next;                                                                         \
    } while (0)

/* e out of the queue whose tail field is at tailp, if it is in one; next and prevp left NULL. */
#define mg_queue_unlink(tailp, e)                                                                  \
    do {                                                                                           \
        __typeof__(tailp) qt_ = (tailp);                                                           \
        __typeof__(e) qe_ = (e);                                                                   \
        if (qe_->prevp && qe_->next == NULL) {                                                     \
            *qt_ = qe_->prevp;                                                                     \
        }                                                                                          \
        mg_list_unlink(qe_);                                                                       \
    } while (0)

#endif
