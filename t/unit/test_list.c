/*
 * list.h: lists and FIFO queues linked through next/prevp, checked after every operation
 * against a model (an array of the expected order): links consistent both ways, the tail
 * pointing at the last element's next, unlink of the first, a middle and the last element,
 * a second unlink doing nothing.
 */
#include <stdlib.h>

#include "list.h"

#include "tap.h"

typedef struct elem_s elem_t;
struct elem_s {
    int id;
    elem_t *next, **prevp;
};

/* whether the list at head holds exactly want[0..n) in order, with tail (if given) right */
static int check(elem_t **head, elem_t ***tail, const int *want, int n)
{
    elem_t **pp = head;
    int i = 0;
    for (elem_t *e = *head; e; e = e->next, i++) {
        if (i >= n || e->id != want[i] || e->prevp != pp) {
            return 0;
        }
        pp = &e->next;
    }
    return i == n && (tail == NULL || *tail == pp);
}

int main(void)
{
    elem_t e[5];
    for (int i = 0; i < 5; i++) {
        e[i] = (elem_t){.id = i};
    }

    elem_t *head = NULL;
    ok(check(&head, NULL, NULL, 0), "empty list");
    for (int i = 0; i < 4; i++) {
        mg_list_push(&head, &e[i]);
    }
    ok(check(&head, NULL, (int[]){3, 2, 1, 0}, 4), "push: newest first");
    mg_list_unlink(&e[3]);
    ok(check(&head, NULL, (int[]){2, 1, 0}, 3), "unlink the first");
    ok(e[3].prevp == NULL && e[3].next == NULL, "an unlinked element's links are NULL");
    mg_list_unlink(&e[1]);
    ok(check(&head, NULL, (int[]){2, 0}, 2), "unlink a middle one");
    mg_list_unlink(&e[0]);
    ok(check(&head, NULL, (int[]){2}, 1), "unlink the last");
    mg_list_unlink(&e[0]);
    ok(check(&head, NULL, (int[]){2}, 1), "a second unlink does nothing");
    mg_list_push(&head, &e[0]);
    ok(check(&head, NULL, (int[]){0, 2}, 2), "push after unlinks");
    elem_t *p = &e[2];
    mg_list_unlink(p++); /* the argument is evaluated once */
    ok(check(&head, NULL, (int[]){0}, 1) && p == &e[3], "arguments evaluated once");
    mg_list_unlink(&e[0]);
    ok(head == NULL, "empty again");

    for (int i = 0; i < 5; i++) {
        e[i] = (elem_t){.id = i};
    }
    elem_t *q = NULL, **tail = &q;
    ok(check(&q, &tail, NULL, 0), "empty queue: tail at the head");
    for (int i = 0; i < 5; i++) {
        mg_queue_append(&tail, &e[i]);
    }
    ok(check(&q, &tail, (int[]){0, 1, 2, 3, 4}, 5), "append: oldest first");
    mg_queue_unlink(&tail, &e[4]);
    ok(check(&q, &tail, (int[]){0, 1, 2, 3}, 4), "unlink the last: tail moves back");
    mg_queue_unlink(&tail, &e[0]);
    ok(check(&q, &tail, (int[]){1, 2, 3}, 3), "unlink the first");
    mg_queue_unlink(&tail, &e[2]);
    ok(check(&q, &tail, (int[]){1, 3}, 2), "unlink a middle one");
    mg_queue_unlink(&tail, &e[2]);
    ok(check(&q, &tail, (int[]){1, 3}, 2), "a second unlink does nothing");
    mg_queue_append(&tail, &e[4]);
    ok(check(&q, &tail, (int[]){1, 3, 4}, 3), "append after unlinks");
    mg_queue_unlink(&tail, &e[1]);
    mg_queue_unlink(&tail, &e[4]);
    mg_queue_unlink(&tail, &e[3]);
    ok(check(&q, &tail, NULL, 0), "emptied: tail back at the head");
    mg_queue_append(&tail, &e[2]);
    ok(check(&q, &tail, (int[]){2}, 1), "append to the emptied queue");
    return done_testing();
}
