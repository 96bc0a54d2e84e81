/*
 * The SSI parser: a state machine fed the body piece by piece, so a command may span any
 * number of pieces. Text is reported as spans of the piece (no copy); a command's name and
 * parameters are collected into fixed buffers (32-byte names, ssi_value_length values, 16
 * parameters, nginx's limits); a broken command is skipped up to its "-->". The wording of
 * the errors is nginx's.
 */
#include <stdio.h>

#include "ssi.h"

enum {
    S_TEXT = 0,   /* looked: bytes of "<!--#" matched */
    S_PRECOMMAND, /* after "<!--#" */
    S_COMMAND,
    S_PREPARAM,
    S_PARAM,
    S_PREEQUAL,
    S_PREVALUE,
    S_VALUE,
    S_VALUE_ESCAPE,
    S_POSTVALUE,
    S_END1, /* "-" of "-->" */
    S_END2, /* "--" */
    S_SKIP, /* a broken command, up to "-->"; looked: bytes of it matched */
};

static const char start_tag[] = "<!--#";

void mg_ssi_parser_init(mg_ssi_parser_t *p, mg_pool_t *pool, size_t value_len)
{
    memset(p, 0, sizeof(*p));
    p->value_len = value_len;
    p->names = mg_palloc(pool, MG_SSI_MAX_PARAMS * (MG_SSI_PARAM_LEN + 1));
    p->values = mg_palloc(pool, MG_SSI_MAX_PARAMS * (value_len + 1));
    /* room for a whole value in "too long" (nginx logs it all) and the words around it */
    p->error_size = value_len + 2 * MG_SSI_PARAM_LEN + MG_SSI_COMMAND_LEN + 128;
    p->error = mg_palloc(pool, p->error_size);
    p->error[0] = '\0';
}

int mg_ssi_parse_skipping(const mg_ssi_parser_t *p)
{
    return p->state == S_SKIP;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int broken(mg_ssi_parser_t *p)
{
    p->state = S_SKIP;
    p->looked = 0;
    return MG_SSI_BROKEN;
}

/* A '-' where a parameter's name, its "=" or its value was due: nginx takes it as the first
 * '-' of the "-->" that the skip looks for, so "<!--# cmd param -->" ends at its own "-->" */
static int broken_at_dash(mg_ssi_parser_t *p, char c)
{
    broken(p);
    p->looked = c == '-';
    return MG_SSI_BROKEN;
}

static mg_ssi_param_t *cur(mg_ssi_parser_t *p)
{
    return &p->params[p->nparams - 1];
}

static int unexpected(mg_ssi_parser_t *p, char c)
{
    snprintf(p->error, p->error_size, "unexpected \"%c\" symbol in \"%s\" SSI command", c,
             p->command);
    return broken(p);
}

/* One byte of a command; MG_SSI_AGAIN to go on, or what the command came to. */
static int command_byte(mg_ssi_parser_t *p, char c)
{
    mg_ssi_param_t *pm;
    switch (p->state) {
    case S_PRECOMMAND:
        if (is_space(c)) {
            return MG_SSI_AGAIN;
        }
        p->state = S_COMMAND;
        /* fall through */
    case S_COMMAND:
        if (is_space(c)) {
            p->state = S_PREPARAM;
            return MG_SSI_AGAIN;
        }
        if (c == '-' && p->command_len) {
            p->state = S_END1;
            return MG_SSI_AGAIN;
        }
        if (p->command_len == MG_SSI_COMMAND_LEN) {
            snprintf(p->error, p->error_size, "the \"%s%c...\" SSI command is too long", p->command,
                     c);
            return broken(p);
        }
        p->command[p->command_len++] = c;
        p->command[p->command_len] = '\0';
        return MG_SSI_AGAIN;
    case S_PREPARAM:
        if (is_space(c)) {
            return MG_SSI_AGAIN;
        }
        if (c == '-') {
            p->state = S_END1;
            return MG_SSI_AGAIN;
        }
        if (p->nparams == MG_SSI_MAX_PARAMS) {
            snprintf(p->error, p->error_size, "too many SSI command parameters: \"%s\"",
                     p->command);
            return broken(p);
        }
        pm = &p->params[p->nparams++];
        pm->name.data = p->names + (p->nparams - 1) * (MG_SSI_PARAM_LEN + 1);
        pm->name.len = 0;
        pm->value.data = p->values + (p->nparams - 1) * (p->value_len + 1);
        pm->value.len = 0;
        pm->value.data[0] = '\0';
        /* as nginx, the first byte is the name's whatever it is ("=" too) */
        pm->name.data[0] = c;
        pm->name.data[1] = '\0';
        pm->name.len = 1;
        p->state = S_PARAM;
        return MG_SSI_AGAIN;
    case S_PARAM:
        pm = cur(p);
        if (is_space(c)) {
            p->state = S_PREEQUAL;
            return MG_SSI_AGAIN;
        }
        if (c == '=') {
            p->state = S_PREVALUE;
            return MG_SSI_AGAIN;
        }
        if (c == '-') {
            snprintf(p->error, p->error_size,
                     "unexpected \"-\" symbol after \"%s\" parameter in \"%s\" SSI command",
                     pm->name.data, p->command);
            return broken_at_dash(p, c);
        }
        if (pm->name.len == MG_SSI_PARAM_LEN) {
            pm->name.data[pm->name.len] = '\0';
            snprintf(p->error, p->error_size,
                     "too long \"%s%c...\" parameter in \"%s\" SSI command", pm->name.data, c,
                     p->command);
            return broken(p);
        }
        pm->name.data[pm->name.len++] = c;
        pm->name.data[pm->name.len] = '\0';
        return MG_SSI_AGAIN;
    case S_PREEQUAL:
        if (is_space(c)) {
            return MG_SSI_AGAIN;
        }
        if (c == '=') {
            p->state = S_PREVALUE;
            return MG_SSI_AGAIN;
        }
        snprintf(p->error, p->error_size,
                 "unexpected \"%c\" symbol after \"%s\" parameter in \"%s\" SSI command", c,
                 cur(p)->name.data, p->command);
        return broken_at_dash(p, c);
    case S_PREVALUE:
        if (is_space(c)) {
            return MG_SSI_AGAIN;
        }
        if (c == '"' || c == '\'') {
            p->quote = c;
            p->state = S_VALUE;
            return MG_SSI_AGAIN;
        }
        snprintf(p->error, p->error_size,
                 "unexpected \"%c\" symbol before value of \"%s\" parameter in \"%s\" SSI "
                 "command",
                 c, cur(p)->name.data, p->command);
        return broken_at_dash(p, c);
    case S_VALUE:
    case S_VALUE_ESCAPE:
        pm = cur(p);
        if (p->state == S_VALUE) {
            if (c == p->quote) {
                pm->value.data[pm->value.len] = '\0';
                p->state = S_POSTVALUE;
                return MG_SSI_AGAIN;
            }
            if (c == '\\') {
                p->state = S_VALUE_ESCAPE;
                return MG_SSI_AGAIN;
            }
        } else {
            p->state = S_VALUE;
            /* an escaped quote does not end the value; the backslash stays, as in nginx
             * (the value's reader drops it where it evaluates the value: ssi.c) */
            if (pm->value.len == p->value_len) {
                goto too_long;
            }
            pm->value.data[pm->value.len++] = '\\';
        }
        if (pm->value.len == p->value_len) {
            goto too_long;
        }
        pm->value.data[pm->value.len++] = c;
        return MG_SSI_AGAIN;
    too_long:
        pm->value.data[pm->value.len] = '\0';
        snprintf(p->error, p->error_size,
                 "too long \"%s%c...\" value of \"%s\" parameter in \"%s\" SSI command",
                 pm->value.data, c, pm->name.data, p->command);
        return broken(p);
    case S_POSTVALUE:
        if (is_space(c)) {
            p->state = S_PREPARAM;
            return MG_SSI_AGAIN;
        }
        if (c == '-') {
            p->state = S_END1;
            return MG_SSI_AGAIN;
        }
        snprintf(p->error, p->error_size,
                 "unexpected \"%c\" symbol after \"%s\" value of \"%s\" parameter in \"%s\" SSI "
                 "command",
                 c, cur(p)->value.data, cur(p)->name.data, p->command);
        return broken(p);
    case S_END1:
        if (c == '-') {
            p->state = S_END2;
            return MG_SSI_AGAIN;
        }
        return unexpected(p, c);
    case S_END2:
        if (c == '>') {
            p->state = S_TEXT;
            p->looked = 0;
            return MG_SSI_COMMAND;
        }
        return unexpected(p, c);
    }
    return MG_SSI_AGAIN;
}

int mg_ssi_parse(mg_ssi_parser_t *p, const char *d, size_t n, size_t *i, const char **start,
                 const char **end)
{
    while (*i < n) {
        if (p->state == S_SKIP) {
            /* exactly "-->" as nginx's error states read it: "--" then anything but '>'
             * (a third '-' too) starts over */
            char c = d[(*i)++];
            if (p->looked == 2) {
                if (c == '>') {
                    p->state = S_TEXT;
                }
                p->looked = 0;
            } else {
                p->looked = c == '-' ? p->looked + 1 : 0;
            }
            continue;
        }
        if (p->state != S_TEXT) {
            int rc = command_byte(p, d[(*i)++]);
            if (rc != MG_SSI_AGAIN) {
                return rc;
            }
            continue;
        }
        if (p->looked) {
            /* a start tag begun in an earlier piece */
            while (*i < n && p->looked < 5 && d[*i] == start_tag[p->looked]) {
                (*i)++;
                p->looked++;
            }
            if (p->looked == 5) {
                p->state = S_PRECOMMAND;
                p->command_len = 0;
                p->command[0] = '\0';
                p->nparams = 0;
                p->looked = 0;
                continue;
            }
            if (*i == n) {
                return MG_SSI_AGAIN;
            }
            /* not a command: what was matched is text */
            *start = start_tag;
            *end = start_tag + p->looked;
            p->looked = 0;
            return MG_SSI_PREFIX;
        }
        /* text up to the next possible start tag */
        const char *s = d + *i;
        const char *lt = memchr(s, '<', n - *i);
        size_t k = lt ? (size_t)(lt - d) : n;
        size_t j = k;
        while (lt && j < n && j - k < 5 && d[j] == start_tag[j - k]) {
            j++;
        }
        if (lt && (j - k == 5 || j == n)) {
            /* a start tag, or the start of one at the end of the piece */
            p->looked = j - k;
            *i = j;
            if (p->looked == 5) {
                p->state = S_PRECOMMAND;
                p->command_len = 0;
                p->command[0] = '\0';
                p->nparams = 0;
                p->looked = 0;
            }
            if (k > (size_t)(s - d)) {
                *start = s;
                *end = d + k;
                return MG_SSI_TEXT;
            }
            continue;
        }
        /* no tag here: text up to and including the '<' (or the whole rest) */
        size_t stop = lt ? k + 1 : n;
        *i = stop;
        *start = s;
        *end = d + stop;
        return MG_SSI_TEXT;
    }
    return MG_SSI_AGAIN;
}

int mg_ssi_parse_end(mg_ssi_parser_t *p, const char **start, const char **end)
{
    int rc = MG_SSI_AGAIN;
    if (p->state == S_TEXT && p->looked) {
        *start = start_tag;
        *end = start_tag + p->looked;
        rc = MG_SSI_PREFIX;
    }
    p->state = S_TEXT;
    p->looked = 0;
    return rc;
}
