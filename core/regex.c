/*
 * pcre2 wrapper. One match-data block per process serves every match: matching never
 * nests and the results are copied out at once.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "array.h"
#include "cycle.h"
#include "pool.h"
#include "regex.h"

static MG_THREAD_LOCAL pcre2_match_data *regex_md;

static void regex_free(void *data)
{
    pcre2_code_free(data);
}

mg_regex_t *mg_regex_compile(mg_pool_t *pool, mg_str_t pattern, int caseless, char *err,
                             size_t errlen)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern.data, pattern.len,
                                     caseless ? PCRE2_CASELESS : 0, &errcode, &erroff, NULL);
    if (code == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        if (erroff >= pattern.len) {
            /* nginx names no position when the error is at the end of the pattern */
            snprintf(err, errlen, "pcre2_compile() failed: %s in \"%.*s\"", (char *)msg,
                     (int)pattern.len, pattern.data);
        } else {
            snprintf(err, errlen, "pcre2_compile() failed: %s in \"%.*s\" at \"%.*s\"",
                     (char *)msg, (int)pattern.len, pattern.data, (int)(pattern.len - erroff),
                     pattern.data + erroff);
        }
        return NULL;
    }
    mg_pool_cleanup_add(pool, regex_free, code);
    mg_regex_t *re = mg_pcalloc(pool, sizeof(mg_regex_t));
    re->code = code;
    re->pattern = mg_pstr(pool, pattern.data, pattern.len);
    uint32_t n = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n);
    re->captures = (int)n;
    uint32_t nnames = 0, entry = 0;
    PCRE2_SPTR table;
    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &nnames);
    if (nnames) {
        pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
        pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
        re->names = mg_pcalloc(pool, nnames * sizeof(mg_regex_name_t));
        re->nnames = (int)nnames;
        for (uint32_t i = 0; i < nnames; i++) {
            const unsigned char *e = table + i * entry;
            re->names[i].index = (e[0] << 8) | e[1];
            const char *nm = (const char *)e + 2;
            re->names[i].name = mg_pstr(pool, nm, strlen(nm));
        }
    }
    return re;
}

mg_regex_t *mg_regex_compile_conf(mg_cycle_t *cycle, mg_str_t pattern, int caseless, char *err,
                                  size_t errlen)
{
    mg_regex_t *re = mg_regex_compile(cycle->pool, pattern, caseless, err, errlen);
    if (re != NULL) {
        *(mg_regex_t **)mg_array_push(&cycle->regexes) = re;
    }
    return re;
}

void mg_regex_jit_cycle(mg_cycle_t *cycle)
{
    mg_regex_t **re = cycle->regexes.elts;
    for (size_t i = 0; i < cycle->regexes.nelts; i++) {
        pcre2_jit_compile(re[i]->code, PCRE2_JIT_COMPLETE); /* failure: the interpreter */
    }
}

/* pcre2_match's answer for s, its offsets left in the process's match data; 0 (more groups
 * than the match data holds) counts as all of them. */
static inline int match(mg_regex_t *re, const char *s, size_t len)
{
    if (regex_md == NULL) {
        regex_md = pcre2_match_data_create(256, NULL);
    }
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, regex_md, NULL);
    return rc == 0 ? 256 : rc;
}

/* The first pairs of the match data into ovector, an unset group as -1 (as pcre1 did). */
static void copy_pairs(int *ovector, int pairs)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(regex_md);
    for (int i = 0; i < 2 * pairs; i++) {
        ovector[i] = ov[i] == PCRE2_UNSET ? -1 : (int)ov[i];
    }
}

mg_int_t mg_regex_exec(mg_regex_t *re, const char *s, size_t len, int *ovector, int ovec_ints)
{
    int rc = match(re, s, len);
    if (rc == PCRE2_ERROR_NOMATCH) {
        return MG_DECLINED;
    }
    if (rc < 0) {
        if (ovec_ints > 0) {
            ovector[0] = rc;
        }
        return MG_ERROR;
    }
    int pairs = mg_min(rc, ovec_ints / 2);
    copy_pairs(ovector, pairs);
    return pairs;
}

/* Straight to pcre2 (no ovector of its own): a map of regexes calls this once per regex it
 * tries and most of them fail. */
mg_int_t mg_regex_exec_kept(mg_pool_t *pool, mg_regex_t *re, mg_str_t s, int **captures, int *code)
{
    *captures = NULL;
    int rc = match(re, s.data, s.len);
    if (rc == PCRE2_ERROR_NOMATCH) {
        return MG_DECLINED;
    }
    if (rc < 0) {
        *code = rc;
        return MG_ERROR;
    }
    int pairs = mg_min(rc, re->captures + 1);
    *captures = mg_palloc(pool, (size_t)pairs * 2 * sizeof(int));
    copy_pairs(*captures, pairs);
    return pairs;
}
