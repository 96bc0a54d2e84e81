/*
 * libFuzzer target for the Referer check of valid_referers (modules/referer.c's
 * referer_valid_for and find_wildcard, included here for their static functions). The list is
 * fixed: example.com/pics (a host with a URI prefix), .example.org, *.example.net and
 * www.example.*; the input's first byte says whether none and blocked are listed (bits 0, 1)
 * and whether the request has a Referer (bit 2); the rest is the header's value. Beyond
 * crashes it checks that the scheme and host are read without regard to case: the same
 * header with its scheme and host in upper case is as valid.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=referer)
 *
 * fuzz-link: libmoongate
 */
#include <ctype.h>
#include <stdlib.h>

#include "../../modules/referer.c"

static void add(mg_pool_t *pool, mg_array_t **list, const char *name, const char *uri, int star)
{
    if (*list == NULL) {
        *list = mg_array_create(pool, 2, sizeof(referer_name_t));
    }
    referer_name_t *n = mg_array_push(*list);
    n->name = (mg_str_t){strlen(name), (char *)name};
    n->uri = (mg_str_t){uri ? strlen(uri) : 0, (char *)uri};
    n->star = star;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    unsigned pick = data[0];
    size_t len = size - 1;
    /* exactly sized copies: reading past them is caught */
    char *value = malloc(len ? len : 1);
    memcpy(value, data + 1, len);
    char *upper = malloc(len ? len : 1);
    memcpy(upper, value, len);
    const char *sep = memchr(value, '/', len);
    size_t host_end = len;
    if (sep && sep + 2 < value + len && sep[1] == '/') {
        const char *slash = memchr(sep + 2, '/', (size_t)(value + len - sep - 2));
        host_end = slash ? (size_t)(slash - value) : len;
    }
    for (size_t i = 0; i < host_end; i++) {
        upper[i] = (char)toupper((unsigned char)upper[i]);
    }

    static mg_connection_t c;
    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.connection = &c;
    r.pool = mg_pool_create(1024);
    referer_conf_t rc;
    memset(&rc, 0, sizeof(rc));
    rc.set = 1;
    rc.no_referer = pick & 1;
    rc.blocked_referer = (pick >> 1) & 1;
    add(r.pool, &rc.exact, "example.com", "/pics", 0);
    add(r.pool, &rc.head, ".example.org", NULL, 0);
    add(r.pool, &rc.head, ".example.net", NULL, 1);
    add(r.pool, &rc.tail, "www.example.", NULL, 0);

    mg_table_elt_t h = {{7, "Referer"}, {len, value}, 1};
    r.headers_in.referer = (pick & 4) ? NULL : &h;
    int valid = referer_valid_for(&r, &rc);
    if (r.headers_in.referer == NULL && valid != rc.no_referer) {
        abort();
    }
    h.value.data = upper;
    if (referer_valid_for(&r, &rc) != valid) {
        abort();
    }
    mg_pool_destroy(r.pool);
    free(upper);
    free(value);
    return 0;
}
