/*
 * What echo.c and echo_vars.c share: the location's program and the request's state.
 */
#ifndef MG_MODULES_ECHO_H
#define MG_MODULES_ECHO_H

#include <event2/event.h>

#include "http.h"
#include "script.h"
#include "variables.h"

typedef struct {
    mg_array_t *cmds;   /* echo_cmd_t: the content handler's program, NULL without one */
    mg_array_t *before; /* echo_cmd_t of echo_before_body, NULL without */
    mg_array_t *after;
    mg_int_t status;       /* echo_status */
    mg_int_t open_foreach; /* while reading: the echo_foreach_split without its echo_end */
} echo_loc_conf_t;

typedef struct {
    mg_request_t *r;
    size_t next;           /* the next command */
    mg_msec_t timer_begin; /* echo_reset_timer, else the request's start */
    mg_array_t items;      /* echo_foreach_split's */
    size_t it;
    uint64_t incr; /* $echo_incr (on the client request's ctx) */
    struct event timer;
    unsigned timer_set : 1;
    unsigned in_loop : 1;
    unsigned waiting : 1;
    unsigned running : 1;
    unsigned header_sent : 1;
    unsigned header_only : 1;
    unsigned filter : 1;
    unsigned before_done : 1;
    unsigned after_done : 1;
} echo_ctx_t;

extern mg_module_t mg_echo_module;

echo_ctx_t *mg_echo_get_ctx(mg_request_t *r);
void *mg_echo_create_main_conf(mg_conf_t *cf);
const char *mg_echo_add_variables(mg_conf_t *cf, void *conf);

#endif
