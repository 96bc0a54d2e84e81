/*
 * pcre2 behind a small interface: compile into a pool (freed with it), match with the
 * captures written as offset pairs. Regexes of the configuration are JIT-compiled once it
 * is parsed, when pcre_jit is on (as in nginx, the directive may follow them).
 */
#ifndef MG_REGEX_H
#define MG_REGEX_H

#include "mg.h"

typedef struct {
    mg_str_t name;
    int index; /* capture group number */
    intptr_t data; /* the user's: http keeps the index of the variable named so */
} mg_regex_name_t;

struct mg_regex_s {
    void *code;          /* pcre2_code_8 */
    int captures;        /* number of capture groups */
    mg_str_t pattern;
    mg_regex_name_t *names;
    int nnames;
};

/* Compile; on error returns NULL and writes pcre2's message with the offset into err. */
mg_regex_t *mg_regex_compile(mg_pool_t *pool, mg_str_t pattern, int caseless, char *err,
                             size_t errlen);
/* The same for a regex of the configuration: in the cycle's pool, and listed for pcre_jit. */
mg_regex_t *mg_regex_compile_conf(mg_cycle_t *cycle, mg_str_t pattern, int caseless, char *err,
                                  size_t errlen);
/* JIT-compile every regex of the configuration (pcre_jit on). */
void mg_regex_jit_cycle(mg_cycle_t *cycle);
/* Match s; ovector gets pairs (start, end) for group 0..n. Returns the number of pairs set
 * (>0), MG_DECLINED for no match, MG_ERROR on a matching error (pcre2's code then in
 * ovector[0]). ovec_ints is a multiple of 2. */
mg_int_t mg_regex_exec(mg_regex_t *re, const char *s, size_t len, int *ovector, int ovec_ints);
/* Match s for a request or session that keeps the captures: on a match (pairs > 0 returned)
 * *captures is a copy of the set pairs in pool; MG_DECLINED: no match, nothing allocated (a
 * map of regexes mostly fails, and an allocation per tried regex was a good part of its cost);
 * MG_ERROR: *captures is NULL and *code pcre2's error. */
mg_int_t mg_regex_exec_kept(mg_pool_t *pool, mg_regex_t *re, mg_str_t s, int **captures, int *code);

#endif
