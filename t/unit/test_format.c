/*
 * Unit tests for the hand-written formatters that replaced printf on the response path:
 * mg_put_uint, mg_put_hex, mg_put_uint3 and mg_put_msec (core/str.c) against printf's output, and
 * mg_time_http (core/mgtime.c) against strftime's RFC 1123 date for every month, weekday, leap
 * days, each day from 1751 to 2189 and the years printf still formats (before 1000, after 9999);
 * mg_sockaddr_text's IPv4 text (core/listen.c, by hand) against inet_ntop, with and without the
 * port, and a buffer too small for the fast path. mg_strlow (eight bytes at a time) against the
 * byte-by-byte rule for every byte value at every alignment and length, and mg_strlcasestrn's
 * matches.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <time.h>

#include "mg.h"

#include "listen.h"
#include "mgtime.h"
#include "str.h"

#include "tap.h"

static void test_numbers(void)
{
    static const uint64_t cases[] = {0,           1,           9,          10,        15,   16,
                                     99,          100,         255,        1023,      1024, 65535,
                                     4294967295u, 4294967296u, 1000000007, UINT64_MAX};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char got[MG_INT_TEXT_MAX + 1], want[32];
        *mg_put_uint(got, cases[i]) = '\0';
        snprintf(want, sizeof(want), "%" PRIu64, cases[i]);
        is_str(got, want, "mg_put_uint %s", want);
        *mg_put_hex(got, cases[i]) = '\0';
        snprintf(want, sizeof(want), "%" PRIx64, cases[i]);
        is_str(got, want, "mg_put_hex %s", want);
        *mg_put_uint3(got, cases[i]) = '\0';
        snprintf(want, sizeof(want), "%03" PRIu64, cases[i] % 1000);
        is_str(got, want, "mg_put_uint3 %s", want);
        char msec[MG_INT_TEXT_MAX + 5];
        *mg_put_msec(msec, cases[i]) = '\0';
        snprintf(want, sizeof(want), "%" PRIu64 ".%03" PRIu64, cases[i] / 1000, cases[i] % 1000);
        is_str(msec, want, "mg_put_msec %s", want);
    }
    /* every number of digits, at both ends (the digits are counted, then written in pairs) */
    int bad = 0;
    for (uint64_t p10 = 1;; p10 *= 10) {
        uint64_t edge[] = {p10 - 1, p10, p10 + 1, p10 * 2 - 1};
        for (size_t i = 0; i < 4; i++) {
            char got[MG_INT_TEXT_MAX + 1], want[32];
            *mg_put_uint(got, edge[i]) = '\0';
            snprintf(want, sizeof(want), "%" PRIu64, edge[i]);
            bad += strcmp(got, want) != 0;
        }
        if (p10 > UINT64_MAX / 10) {
            break;
        }
    }
    is_int(bad, 0, "mg_put_uint: 10^k - 1, 10^k, 10^k + 1 and 2 * 10^k - 1 for every k");
    /* mg_put_hex counts its digits from the highest bit: every bit's edges */
    bad = 0;
    for (int k = 0; k < 64; k++) {
        uint64_t bit = (uint64_t)1 << k;
        uint64_t edge[] = {bit - 1, bit, bit + 1, bit | (bit - 1)};
        for (size_t i = 0; i < 4; i++) {
            char got[MG_INT_TEXT_MAX + 1], want[32];
            *mg_put_hex(got, edge[i]) = '\0';
            snprintf(want, sizeof(want), "%" PRIx64, edge[i]);
            bad += strcmp(got, want) != 0;
        }
    }
    is_int(bad, 0, "mg_put_hex: 2^k - 1, 2^k, 2^k + 1 and 2^(k+1) - 1 for every k");
    /* mg_hex_dump: every byte value, against printf, and the end it returns */
    unsigned char all[256];
    char got[513], want[513];
    for (int i = 0; i < 256; i++) {
        all[i] = (unsigned char)i;
        snprintf(want + 2 * i, 3, "%02x", i);
    }
    char *end = mg_hex_dump(got, all, sizeof(all));
    *end = '\0';
    ok(end == got + 512 && strcmp(got, want) == 0, "mg_hex_dump: every byte value");
}

static void test_http_time(void)
{
    /* a day in each month of a leap year and around the epoch's edges */
    static const time_t cases[] = {0,
                                   1,
                                   59,
                                   86399,
                                   86400,
                                   951782400 /* 2000-02-29 */,
                                   1290079655 /* Thu, 18 Nov 2010 11:27:35 */,
                                   1700000000,
                                   2147483647,
                                   4102444800 /* 2100-01-01 */,
                                   253402300799};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char got[32], want[64];
        struct tm tm;
        gmtime_r(&cases[i], &tm);
        strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        mg_time_http(got, cases[i]);
        is_str(got, want, "mg_time_http(%lld)", (long long)cases[i]);
    }
    for (int m = 0; m < 12; m++) {
        struct tm tm = {.tm_year = 124, .tm_mon = m, .tm_mday = 1 + 2 * m, .tm_hour = m};
        time_t t = timegm(&tm);
        char got[32], want[64];
        gmtime_r(&t, &tm);
        strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        mg_time_http(got, t);
        is_str(got, want, "mg_time_http month %d", m + 1);
    }
    /* every day from 1751 to 2189 (1800, 1900 and 2100 not leap years, 2000 one), each at
     * another second of its day: the fields are moongate's own arithmetic, not gmtime_r's */
    int differ = 0;
    for (int64_t d = -80000; d <= 80000; d++) {
        time_t t = (time_t)(d * 86400 + (d * 7919 % 86400 + 86400) % 86400);
        char got[32], want[64];
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        mg_time_http(got, t);
        if (strcmp(got, want) != 0 && differ++ < 3) {
            printf("# mg_time_http(%lld): \"%s\", strftime: \"%s\"\n", (long long)t, got, want);
        }
    }
    ok(differ == 0, "mg_time_http as strftime for 160001 days around the epoch (%d differ)",
       differ);
    char got[32];
    mg_time_http(got, (time_t)-62135596800LL + 86400 * 366); /* year 2 */
    is_str(got, "Wed, 02 Jan    2 00:00:00 GMT", "a year before 1000 as printf's %%4d");
    mg_time_http(got, (time_t)253402300800LL); /* 10000-01-01 */
    is_str(got, "Sat, 01 Jan 10000 00:00:00 GMT", "a five-digit year");
}

static void test_ipv4_text(void)
{
    static const char *const addrs[] = {"0.0.0.0",       "127.0.0.1",       "10.20.30.40",
                                        "192.168.100.9", "255.255.255.255", "1.22.203.4"};
    static const unsigned ports[] = {0, 9, 80, 8080, 65535, 443};
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(ports[i])};
        inet_pton(AF_INET, addrs[i], &in.sin_addr);
        char ip[INET_ADDRSTRLEN], want[64], got[64];
        inet_ntop(AF_INET, &in.sin_addr, ip, sizeof(ip));
        size_t n = mg_sockaddr_text((struct sockaddr *)&in, got, sizeof(got), 0);
        is_str(got, ip, "mg_sockaddr_text %s", ip);
        ok(n == strlen(ip), "its length %zu", n);
        snprintf(want, sizeof(want), "%s:%u", ip, ports[i]);
        n = mg_sockaddr_text((struct sockaddr *)&in, got, sizeof(got), 1);
        is_str(got, want, "mg_sockaddr_text with the port %s", want);
        ok(n == strlen(want), "its length %zu", n);
        char small[12]; /* too small for the by-hand path: snprintf's cut */
        n = mg_sockaddr_text((struct sockaddr *)&in, small, sizeof(small), 1);
        ok(n == mg_min(strlen(want), sizeof(small) - 1) && memcmp(small, want, n) == 0 &&
               small[n] == '\0',
           "a 12-byte buffer takes the first %zu bytes of %s", n, want);
    }
}

static void test_strlow(void)
{
    unsigned char in[264], out[264];
    for (int i = 0; i < 256; i++) {
        in[i] = (unsigned char)i;
    }
    int bad = 0;
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; n + off <= 256; n++) {
            memset(out, 0x55, sizeof(out));
            mg_strlow((char *)out, (const char *)in + off, n);
            for (size_t i = 0; i < n; i++) {
                unsigned c = in[off + i];
                bad += out[i] != (c >= 'A' && c <= 'Z' ? (c | 0x20) : c);
            }
            bad += out[n] != 0x55;
        }
    }
    is_int(bad, 0, "mg_strlow: every byte, alignment and length, nothing written past n");
}

static void test_strlcasestrn(void)
{
    static const char v[] = "Upgrade, Keep-Alive,close";
    const char *end = v + sizeof(v) - 1;
    const char *p = mg_strlcasestrn(v, end, "keep-alive", 10);
    is_int(p ? p - v : -1, 9, "mg_strlcasestrn finds a token in another case");
    p = mg_strlcasestrn(v, end, "CLOSE", 5);
    is_int(p ? p - v : -1, 20, "mg_strlcasestrn finds it at the very end");
    ok(mg_strlcasestrn(v, end, "closed", 6) == NULL, "mg_strlcasestrn: no match past the end");
    ok(mg_strlcasestrn(v, end, "", 0) == v, "mg_strlcasestrn: the empty needle at the start");
}

int main(void)
{
    test_numbers();
    test_strlow();
    test_strlcasestrn();
    test_http_time();
    test_ipv4_text();
    return done_testing();
}
