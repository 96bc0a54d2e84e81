/*
 * libFuzzer target for the HTTP date reader (core/mgtime.c's mg_time_parse_http: RFC 1123,
 * RFC 850 and asctime dates as nginx's ngx_parse_http_time reads them), which takes a
 * client's If-Modified-Since and If-Unmodified-Since and an upstream's Expires and
 * Last-Modified. The input is the header's value. Beyond crashes it checks that a date taken
 * is one of the years it can name (0-9999), and that the writer's text of it, and of the time
 * the input's first 5 bytes make (years 1000-9999), reads back as the same time.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=http_time)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>
#include <string.h>

#include "mgtime.h"

static void round_trip(time_t t)
{
    char buf[64];
    mg_time_http(buf, t);
    if (mg_time_parse_http(buf, strlen(buf)) != t) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value = malloc(size ? size : 1); /* exactly sized: reading past it is caught */
    memcpy(value, data, size);
    time_t t = mg_time_parse_http(value, size);
    /* 0000-01-01 .. 9999-12-31 23:59:59 */
    if (t != -1 && (t < -62167219200LL || t > 253402300799LL)) {
        abort();
    }
    if (t != -1 && t >= -30610224000LL) { /* from the year 1000 the writer writes 4 digits */
        round_trip(t);
    }
    if (size >= 5) {
        uint64_t n = 0;
        for (int i = 0; i < 5; i++) {
            n = n << 8 | data[i];
        }
        /* 1000-01-01 .. 9999-12-31 */
        round_trip((time_t)(-30610224000LL + (int64_t)(n % (253402300800ULL + 30610224000ULL))));
    }
    free(value);
    return 0;
}
