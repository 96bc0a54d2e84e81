/*
 * What the SSI filter (ssi.c) and its parser (ssi_parse.c) share: the parser reads a body as
 * it streams, piece after piece, and reports text to pass on, complete commands
 * (<!--#name param="value" ... -->) and broken ones, as nginx reads them.
 */
#ifndef MG_SSI_H
#define MG_SSI_H

#include "http.h"

#define MG_SSI_COMMAND_LEN 32
#define MG_SSI_PARAM_LEN 32
#define MG_SSI_MAX_PARAMS 16

typedef struct {
    mg_str_t name;
    mg_str_t value;
} mg_ssi_param_t;

typedef struct {
    int state;
    size_t looked; /* bytes of "<!--#" matched, or of "-->" while skipping */
    char quote;
    size_t value_len; /* ssi_value_length */
    char command[MG_SSI_COMMAND_LEN + 1];
    size_t command_len;
    mg_ssi_param_t params[MG_SSI_MAX_PARAMS];
    size_t nparams;
    char *names;  /* MG_SSI_MAX_PARAMS x (MG_SSI_PARAM_LEN + 1) */
    char *values; /* MG_SSI_MAX_PARAMS x (value_len + 1) */
    char *error;  /* what a broken command logs (error_size bytes) */
    size_t error_size;
} mg_ssi_parser_t;

enum {
    MG_SSI_AGAIN = 0, /* the piece is used up */
    MG_SSI_TEXT,      /* [*start, *end) of the piece is text */
    MG_SSI_PREFIX,    /* what looked like "<!--#" across pieces is text: *start, *end point into a
                         constant string */
    MG_SSI_COMMAND,   /* a command is complete: parser->command, ->params */
    MG_SSI_BROKEN,    /* a command is broken (parser->error says how; empty: it ended with the
                         body): skipped up to "-->" */
};

void mg_ssi_parser_init(mg_ssi_parser_t *p, mg_pool_t *pool, size_t value_len);
/* Read on from d[*i]; returns what was found and advances *i past it. */
int mg_ssi_parse(mg_ssi_parser_t *p, const char *d, size_t n, size_t *i, const char **start,
                 const char **end);
/* A broken command is being skipped (its "-->" not yet seen): nginx prints the errmsg for
 * it only at that "-->", none when the body ends first. */
int mg_ssi_parse_skipping(const mg_ssi_parser_t *p);
/* The body ended: a command still being read is dropped (nginx outputs nothing for it);
 * returns MG_SSI_PREFIX with the text of a "<!--" that was never completed, else MG_SSI_AGAIN. */
int mg_ssi_parse_end(mg_ssi_parser_t *p, const char **start, const char **end);

#endif
