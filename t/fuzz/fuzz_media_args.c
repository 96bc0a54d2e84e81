/*
 * libFuzzer target for the start and end arguments of the flv and mp4 modules: mg_http_arg
 * (core/http/variables.c) finding them in the request's arguments, flv's byte offset
 * (mg_atoi) and mp4's seconds with up to three decimals (modules/mp4.c's parse_ms, included
 * here for its static functions). The input is the arguments. Beyond crashes it checks that
 * a value found lies in the arguments, that flv's start is a number exactly when it is all
 * digits, and that mp4's reading agrees with the integer reading: "N" is N * 1000 ms, "N.d"
 * adds d00, and digits past the third decimal change nothing.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=media_args)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/mp4.c"

static void check_ms(mg_str_t v)
{
    int64_t ms = parse_ms(v);
    const char *dot = memchr(v.data, '.', v.len);
    size_t ilen = dot ? (size_t)(dot - v.data) : v.len;
    int64_t whole = ilen ? mg_atoi(v.data, ilen) : (dot ? 0 : -1);
    if (ms >= 0 && (whole < 0 || ms / 1000 != whole)) {
        abort();
    }
    if (!dot && whole >= 0 && whole < 100000000000LL && ms != whole * 1000) {
        abort();
    }
    if (dot && whole >= 0 && whole < 100000000000LL && v.len - ilen == 2 && dot[1] >= '0' &&
        dot[1] <= '9' && ms != whole * 1000 + (dot[1] - '0') * 100) {
        abort();
    }
    if (dot && v.len - ilen > 4 && ms >= 0) {
        /* the digits past the third decimal are ignored (when they are digits) */
        mg_str_t cut = {ilen + 4, v.data};
        if (parse_ms(cut) != ms) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *args = malloc(size ? size : 1); /* exactly sized: reading past it is caught */
    memcpy(args, data, size);
    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.args = (mg_str_t){size, args};
    mg_str_t v;
    static const char *const names[] = {"start", "end"};
    for (size_t i = 0; i < 2; i++) {
        if (mg_http_arg(&r, names[i], strlen(names[i]), &v) != MG_OK) {
            continue;
        }
        if (v.len && (v.data < args || v.data + v.len > args + size)) {
            abort();
        }
        int64_t n = mg_atoi(v.data, v.len);
        int digits = v.len > 0 && v.len < 19;
        for (size_t k = 0; k < v.len; k++) {
            digits &= v.data[k] >= '0' && v.data[k] <= '9';
        }
        if ((n >= 0) != (digits || (v.len >= 19 && n >= 0))) {
            abort();
        }
        check_ms(v);
    }
    free(args);
    return 0;
}
