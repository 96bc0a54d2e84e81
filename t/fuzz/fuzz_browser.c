/*
 * libFuzzer target for the browser module's reading of a User-Agent (modules/browser.c's
 * classify, version_at_least and the $msie variable, included here for their static
 * functions). The input's first byte picks the configuration: bits 0-2 a browser of the list
 * for a modern_browser line, bit 3 modern_browser unlisted, bit 4 ancient_browser "Links",
 * bit 5 netscape4; the next two bytes the wanted version (a multiple of 100: "N.N"); the rest
 * is the header's value. Beyond crashes it checks that the version comparison is monotonic
 * (a version at least the one wanted is at least any smaller one) and that with no browser
 * listed and nothing ancient a modern_browser unlisted makes every agent modern.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=browser)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/browser.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) {
        return 0;
    }
    unsigned pick = data[0];
    uint64_t want = ((uint64_t)data[1] * 1000000 + (uint64_t)data[2] * 10000);
    size_t len = size - 3;
    char *ua = malloc(len ? len : 1); /* exactly sized: reading past it is caught */
    memcpy(ua, data + 3, len);

    static mg_connection_t c;
    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.connection = &c;
    r.pool = mg_pool_create(1024);
    browser_conf_t bc;
    memset(&bc, 0, sizeof(bc));
    void *loc_conf[256] = {0};
    loc_conf[mg_browser_module.index] = &bc;
    r.loc_conf = loc_conf;
    size_t mask = pick & 7;
    if (mask < sizeof(masks) / sizeof(masks[0])) {
        bc.modern = mg_array_create(r.pool, 1, sizeof(modern_t));
        modern_t *m = mg_array_push(bc.modern);
        m->mask = mask;
        m->version = want;
    }
    bc.modern_unlisted = (pick >> 3) & 1;
    if (pick & 16) {
        bc.ancient = mg_array_create(r.pool, 1, sizeof(mg_str_t));
        *(mg_str_t *)mg_array_push(bc.ancient) = (mg_str_t){5, "Links"};
    }
    bc.netscape4 = (pick >> 5) & 1;
    bc.modern_value = (mg_str_t){1, "1"};
    bc.ancient_value = (mg_str_t){1, "1"};
    mg_table_elt_t h = {{10, "User-Agent"}, {len, ua}, 1};
    r.headers_in.user_agent = (pick & 64) ? NULL : &h;

    if (version_at_least(ua, ua + len, want)) {
        if (want && !version_at_least(ua, ua + len, want - 1)) {
            abort();
        }
        if (!version_at_least(ua, ua + len, want / 2)) {
            abort();
        }
    }
    int kind = classify(&r, &bc);
    if (!bc.modern && !bc.ancient && !bc.netscape4 && bc.modern_unlisted && kind != MODERN) {
        abort();
    }
    mg_http_var_value_t v[3];
    memset(v, 0, sizeof(v));
    var_browser(&r, &v[0], MODERN);
    var_browser(&r, &v[1], ANCIENT);
    if (v[0].value.len + v[1].value.len != 1) {
        abort(); /* exactly one of $modern_browser and $ancient_browser is set */
    }
    var_msie(&r, &v[2], 0);
    mg_pool_destroy(r.pool);
    free(ua);
    return 0;
}
