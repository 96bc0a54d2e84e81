/*
 * headers_in.c's known header lookup by length (known_by_len) against its table of known
 * headers: every row found by its name in either case, only by it, every length's list holding
 * exactly the rows of that length; and the header name check's table against its byte classes.
 */
#include "../../core/http/headers_in.c"

#include <strings.h>

#include "tap.h"

int main(void)
{
    int bad = 0;
    for (size_t k = 0; k < mg_nelems(known_headers); k++) {
        char up[64];
        size_t n = known_headers[k].len;
        for (size_t i = 0; i < n; i++) {
            char ch = known_headers[k].name[i];
            up[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 0x20 : ch);
        }
        mg_str_t lower = {n, (char *)known_headers[k].name}, upper = {n, up};
        if (known_header(lower) != (int)k || known_header(upper) != (int)k) {
            printf("# %s: %d\n", known_headers[k].name, known_header(lower));
            bad++;
        }
    }
    ok(bad == 0, "every known header is found by its name, lower or upper case");
    bad = 0;
    for (size_t len = 0; len < KNOWN_MAX_LEN; len++) {
        size_t listed = 0, want = 0;
        for (const unsigned char *c = known_by_len[len]; *c; c++) {
            listed++;
            bad += known_headers[*c - 1].len != len;
        }
        for (size_t k = 0; k < mg_nelems(known_headers); k++) {
            want += known_headers[k].len == len;
        }
        bad += listed != want;
    }
    for (size_t k = 0; k < mg_nelems(known_headers); k++) {
        bad += known_headers[k].len >= KNOWN_MAX_LEN;
        bad += known_headers[k].len < 4; /* known_eq's shortest */
        for (size_t i = 0; i < known_headers[k].len; i++) {
            char ch = known_headers[k].name[i];
            bad += !((ch >= 'a' && ch <= 'z') || ch == '-'); /* known_eq's letters and '-' */
        }
    }
    ok(bad == 0, "each length lists exactly the known headers of that length (4 bytes or more, "
                 "lowercase letters and '-')");
    mg_str_t other = {6, "cookie"}, longer = {25, "upgrade-insecure-requests"};
    ok(known_header(other) == -1 && known_header(longer) == -1, "other names are not known");
    /* known_eq's letter test against a case-insensitive compare: each byte of each known name
     * replaced by every byte value (a CR beside a '-', '@' beside a '`': one bit apart) */
    bad = 0;
    for (size_t k = 0; k < mg_nelems(known_headers); k++) {
        size_t n = known_headers[k].len;
        for (size_t i = 0; i < n; i++) {
            for (int b = 0; b < 256; b++) {
                char name[64];
                memcpy(name, known_headers[k].name, n);
                name[i] = (char)b;
                int want = -1;
                for (size_t j = 0; j < mg_nelems(known_headers) && want < 0; j++) {
                    if (known_headers[j].len == n &&
                        strncasecmp(name, known_headers[j].name, n) == 0) {
                        want = (int)j;
                    }
                }
                bad += known_header((mg_str_t){n, name}) != want;
            }
        }
    }
    ok(bad == 0,
       "a known name differing in one byte is found as a case-insensitive compare finds it");
    bad = 0;
    for (int b = 0; b < 256; b++) {
        char ch = (char)b;
        mg_str_t one = {1, &ch};
        int plain =
            (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '-';
        bad += header_name_ok(one, 0) != plain;
        bad += header_name_ok(one, 1) != (plain || b == '_');
    }
    ok(bad == 0, "header names: letters, digits and '-', '_' with underscores_in_headers");
    /* the word tests: names of 1 to 24 bytes with each byte value at each place, among plain
     * bytes of each kind (a neighbour's carry would show) */
    bad = 0;
    static const char fill[] = "aZ9-_";
    for (size_t len = 1; len <= 24; len++) {
        for (size_t at = 0; at < len; at++) {
            for (int b = 0; b < 256; b++) {
                for (size_t f = 0; f < sizeof(fill) - 1; f++) {
                    char name[24];
                    memset(name, fill[f], len);
                    name[at] = (char)b;
                    for (int us = 0; us < 2; us++) {
                        int want = 1;
                        for (size_t i = 0; i < len; i++) {
                            unsigned char c = (unsigned char)name[i];
                            want &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                    (c >= '0' && c <= '9') || c == '-' || (c == '_' && us);
                        }
                        bad += header_name_ok((mg_str_t){len, name}, us) != want;
                    }
                }
            }
        }
    }
    ok(bad == 0, "header names of 1 to 24 bytes: each byte value anywhere, among each kind of "
                 "allowed byte");
    return done_testing();
}
