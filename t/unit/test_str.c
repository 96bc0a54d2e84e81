/*
 * str.h's mg_hex_digit, the one hex-digit decoder (HTTP parser, chunk sizes, set_misc, geo,
 * rewrite, mg_hextoi), over every byte value against its definition: the sixteen digits in
 * either case and nothing else (bytes that differ from a digit only in bit 0x20 included).
 */
#include <ctype.h>

#include "str.h"

#include "tap.h"

int main(void)
{
    static const char digits[] = "0123456789abcdef";
    int wrong = 0;
    for (int b = 0; b < 256; b++) {
        const char *at = b ? strchr(digits, tolower(b)) : NULL;
        int want = at && b < 0x80 ? (int)(at - digits) : -1;
        if (mg_hex_digit((unsigned char)b) != want) {
            printf("# byte 0x%02x: got %d, want %d\n", b, mg_hex_digit((unsigned char)b), want);
            wrong++;
        }
    }
    is_int(wrong, 0, "mg_hex_digit over all 256 bytes");
    is_int(mg_hex_digit((unsigned char)(char)-58), -1, "a negative char (0xc6) is no digit");
    is_int(mg_hex_digit(0x10), -1, "0x10 (0x30 without bit 0x20) is no digit");
    is_int(mg_hex_digit('F' ^ 0x20), 15, "'f'");
    is_int(mg_hextoi("7fFfffffFFFFFFFF", 16), INT64_MAX, "mg_hextoi: the largest");
    is_int(mg_hextoi("8000000000000000", 16), -1, "mg_hextoi: overflow");
    is_int(mg_hextoi("1g", 2), -1, "mg_hextoi: a non-digit");
    is_int(mg_hextoi("", 0), -1, "mg_hextoi: empty");
    is_int(mg_hextoi("0A", 2), 10, "mg_hextoi: 0A");
    return done_testing();
}
