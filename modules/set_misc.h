/*
 * set_misc's value functions, for Lua's ndk.set_var.NAME(...) (lua/ndk.c).
 */
#ifndef MG_MODULES_SET_MISC_H
#define MG_MODULES_SET_MISC_H

#include "http.h"

typedef struct set_misc_fn_s mg_set_misc_fn_t;

/* The directive NAME when it is one of NDK's "value" filters (one value in, one out: the
 * quoting, escaping, encoding and digest ones), which is what ndk.set_var can call; NULL
 * otherwise. */
const mg_set_misc_fn_t *mg_set_misc_find(const char *name, size_t len);
/* Its value for args[0] in r's pool: MG_OK, or MG_ERROR (logged). */
mg_int_t mg_set_misc_call(mg_request_t *r, const mg_set_misc_fn_t *fn, mg_str_t *args,
                          mg_str_t *out);

#endif
