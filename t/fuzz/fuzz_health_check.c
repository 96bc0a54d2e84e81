/*
 * libFuzzer target for the HTTP health check's response reader (modules/health_check.c
 * parse_response) and a match block's tests on what it read (modules/upstream_match.c), both
 * included for their static functions. The input's first byte says whether the body is
 * wanted (a check with a match block) and whether the peer closed after the rest, which is
 * the response. Beyond crashes it checks that a response read has a status of 100-999 and
 * spans inside the input, and that the reading does not depend on how the bytes arrived:
 * every prefix read without the close either asks for more or gives the whole input's
 * verdict (the same status, headers and body if waited for, or the same error).
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=health_check)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/health_check.c"
#include "../../modules/upstream_match.c"

static mg_pool_t *pool;
static mg_hc_match_t *match;

static void free_pool(void)
{
    mg_pool_destroy(pool);
}

static mg_regex_t *re(const char *pattern)
{
    char err[256];
    mg_regex_t *r =
        mg_regex_compile(pool, (mg_str_t){strlen(pattern), (char *)pattern}, 0, err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "%s: %s\n", pattern, err);
        abort();
    }
    return r;
}

/* "match { status 200-299 404; header X-A = b; header X-B ~ ^[0-9]+$; header ! X-C;
 * body !~ fail; }" */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pool = mg_pool_create(4096);
    atexit(free_pool);
    match = mg_pcalloc(pool, sizeof(*match));
    mg_array_init(&match->tests, pool, 8, sizeof(match_test_t));
    match_test_t *t = mg_array_push(&match->tests);
    memset(t, 0, sizeof(*t));
    t->type = T_STATUS;
    mg_array_init(&t->ranges, pool, 2, sizeof(status_range_t));
    *(status_range_t *)mg_array_push(&t->ranges) = (status_range_t){200, 299};
    *(status_range_t *)mg_array_push(&t->ranges) = (status_range_t){404, 404};
    t = mg_array_push(&match->tests);
    *t = (match_test_t){
        .type = T_HEADER, .op = OP_EQ, .name = mg_string("X-A"), .value = mg_string("b")};
    t = mg_array_push(&match->tests);
    *t = (match_test_t){
        .type = T_HEADER, .op = OP_RE, .name = mg_string("X-B"), .regex = re("^[0-9]+$")};
    t = mg_array_push(&match->tests);
    *t = (match_test_t){.type = T_HEADER, .op = OP_ABSENT, .name = mg_string("X-C")};
    t = mg_array_push(&match->tests);
    *t = (match_test_t){.type = T_BODY, .op = OP_NRE, .regex = re("fail")};
    return 0;
}

static void inside(mg_str_t s, const char *base, size_t len)
{
    if (s.len && (s.data < base || s.data + s.len > base + len)) {
        abort();
    }
}

/* the body only when it was waited for: else it is what had come (and goes unread) */
static int same(const mg_hc_response_t *a, const mg_hc_response_t *b, int body)
{
    if (a->status != b->status || a->nheaders != b->nheaders ||
        (body && (a->body.len != b->body.len || (a->body.len && a->body.data != b->body.data)))) {
        return 0;
    }
    for (size_t i = 0; i < a->nheaders; i++) {
        if (a->names[i].data != b->names[i].data || a->names[i].len != b->names[i].len ||
            a->values[i].data != b->values[i].data || a->values[i].len != b->values[i].len) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int want_body = data[0] & 1, eof = (data[0] >> 1) & 1;
    data++;
    size--;
    /* an exactly sized copy: reading past it is caught */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);

    static mg_hc_response_t whole, part;
    const char *err = NULL, *perr;
    mg_int_t rc = parse_response(buf, size, eof, want_body, &whole, &err);
    if (rc == MG_OK) {
        if (whole.status < 100 || whole.status > 999 || whole.nheaders > MG_HC_MAX_HEADERS) {
            abort();
        }
        for (size_t i = 0; i < whole.nheaders; i++) {
            inside(whole.names[i], buf, size);
            inside(whole.values[i], buf, size);
        }
        inside(whole.body, buf, size);
        (void)mg_hc_match_test(match, &whole);
    } else if (rc == MG_ERROR ? err == NULL : rc != MG_AGAIN || eof) {
        abort(); /* an error says what; with the close nothing more is awaited */
    }
    for (size_t i = 0; i < size; i++) {
        perr = NULL;
        mg_int_t prc = parse_response(buf, i, 0, want_body, &part, &perr);
        if (prc == MG_AGAIN) {
            continue;
        }
        if (prc != rc || (rc == MG_ERROR && strcmp(err, perr) != 0) ||
            (rc == MG_OK && !same(&part, &whole, want_body))) {
            fprintf(stderr, "the first %zu bytes gave %d (%s), all %zu gave %d (%s)\n", i, (int)prc,
                    perr ? perr : "-", size, (int)rc, err ? err : "-");
            abort();
        }
    }
    free(buf);
    return 0;
}
