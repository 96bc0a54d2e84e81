/*
 * libFuzzer target for how long a response may be cached (core/http/cache.c's validity and
 * cache_control, included here for their static functions): the upstream's X-Accel-Expires,
 * Cache-Control (no-cache, s-maxage, max-age, stale-*), Expires, Vary and Set-Cookie. The
 * input's first byte picks proxy_ignore_headers bits and whether proxy_cache_valid gives
 * 10m for any status; the rest is a response head after "HTTP/1.1 200 OK\r\n", parsed by
 * the upstream head parser. Beyond crashes (and undefined arithmetic on large numbers) it
 * checks that the answer is -1 (refused), 0 (no validity) or a time, and that a head
 * without any of those lines gets proxy_cache_valid's time.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=cache_validity)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../core/http/cache.c"

static mg_http_header_t hdrs[32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char status[] = "HTTP/1.1 200 OK\r\n";
    if (size < 1) {
        return 0;
    }
    unsigned pick = data[0];
    size_t len = sizeof(status) - 1 + size - 1;
    char *head = malloc(len); /* exactly sized: reading past it is caught */
    memcpy(head, status, sizeof(status) - 1);
    memcpy(head + sizeof(status) - 1, data + 1, size - 1);

    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.pool = mg_pool_create(1024);
    mg_upstream_t u;
    memset(&u, 0, sizeof(u));
    u.r = &r;
    u.head.headers = hdrs;
    u.head.nheaders = mg_nelems(hdrs);
    if (mg_upstream_parse_response_head(head, len, &u.head) <= 0) {
        mg_pool_destroy(r.pool);
        free(head);
        return 0;
    }
    static const mg_uint_t ign[] = {MG_UPSTREAM_IGN_SET_COOKIE, MG_UPSTREAM_IGN_XA_EXPIRES,
                                    MG_UPSTREAM_IGN_CACHE_CONTROL, MG_UPSTREAM_IGN_EXPIRES,
                                    MG_UPSTREAM_IGN_VARY};
    for (size_t i = 0; i < mg_nelems(ign); i++) {
        if (pick & (1u << i)) {
            u.ignore_headers |= ign[i];
        }
    }
    mg_http_cache_conf_t conf;
    memset(&conf, 0, sizeof(conf));
    if (pick & 0x80) {
        conf.valid = mg_array_create(r.pool, 1, sizeof(mg_http_cache_valid_t));
        mg_http_cache_valid_t *cv = mg_array_push(conf.valid);
        memset(cv, 0, sizeof(*cv));
        cv->status = 0;
        cv->sec = 600;
    }
    mg_now.sec = 1700000000;
    int64_t v = validity(&u, &conf);
    if (v < -1) {
        abort();
    }
    int plain = 1;
    static const char *const names[] = {"set-cookie", "vary", "x-accel-expires", "cache-control",
                                        "expires"};
    for (size_t i = 0; i < mg_nelems(names); i++) {
        plain &= head_line(&u, names[i]) == NULL;
    }
    if (plain && v != (conf.valid ? 1700000000 + 600 : 0)) {
        abort();
    }
    mg_pool_destroy(r.pool);
    free(head);
    return 0;
}
