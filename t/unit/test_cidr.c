/*
 * Unit tests for core/cidr.c (addresses and CIDR blocks as allow/deny and set_real_ip_from read
 * them) and the base64 helpers of core/str.c that Basic authentication uses: nginx's readings
 * (leading zeros, a mask too long, host bits), IPv4-mapped matching, and base64's '=' and
 * length rules. mg_inet6_parse_hex (cidr.c's and geo.c's in-place IPv6 reader) against
 * inet_pton, which both used before, over generated addresses and random strings.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/un.h>

#include "mg.h"

#include "cidr.h"
#include "str.h"

#include "tap.h"

static mg_str_t S(const char *s)
{
    mg_str_t r = {strlen(s), (char *)s};
    return r;
}

static void test_parse(void)
{
    static const struct {
        const char *in;
        mg_int_t rc;
    } cases[] = {
        {"10.0.0.0/8", MG_OK},
        {"10.0.0.1/8", MG_DONE},
        {"10.0.0.1", MG_OK},
        {"010.1.1.1", MG_OK},
        {"0.0.0.0/0", MG_OK},
        {"1.2.3.4/0", MG_DONE},
        {"10.0.0.0/33", MG_ERROR},
        {"1.2.3", MG_ERROR},
        {"1.2.3.4.5", MG_ERROR},
        {"256.1.1.1", MG_ERROR},
        {"1.2.3.4/", MG_ERROR},
        {"1..2.3", MG_ERROR},
        {"::1", MG_OK},
        {"2001:db8::/32", MG_OK},
        {"2001:db8::1/32", MG_DONE},
        {"::1/129", MG_ERROR},
        {"::/0", MG_OK},
        {"localhost", MG_ERROR},
        {"", MG_ERROR},
        {"/8", MG_ERROR},
        {"1.2.3.4/x", MG_ERROR},
    };
    for (size_t i = 0; i < mg_nelems(cases); i++) {
        mg_cidr_t c;
        is_int(mg_cidr_parse(S(cases[i].in), &c), cases[i].rc, "parse \"%s\"", cases[i].in);
    }
    mg_cidr_t c;
    mg_cidr_parse(S("10.1.2.3/12"), &c);
    is_int(c.addr[0] << 24 | c.addr[1] << 16 | c.addr[2] << 8 | c.addr[3], 0x0a000000,
           "host bits cleared");
    is_int(c.mask[1], 0xf0, "a /12 mask");
}

static struct sockaddr_storage v4(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
    inet_pton(AF_INET, a, &((struct sockaddr_in *)&ss)->sin_addr);
    return ss;
}

static struct sockaddr_storage v6(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
    inet_pton(AF_INET6, a, &((struct sockaddr_in6 *)&ss)->sin6_addr);
    return ss;
}

static int match(const char *block, struct sockaddr_storage ss)
{
    mg_cidr_t c;
    if (mg_cidr_parse(S(block), &c) == MG_ERROR) {
        return -1;
    }
    return mg_cidr_match(&c, (struct sockaddr *)&ss);
}

static void test_match(void)
{
    is_int(match("10.0.0.0/8", v4("10.255.1.2")), 1, "in a /8");
    is_int(match("10.0.0.0/8", v4("11.0.0.0")), 0, "next to a /8");
    is_int(match("10.1.0.0/17", v4("10.1.127.255")), 1, "in a /17");
    is_int(match("10.1.0.0/17", v4("10.1.128.0")), 0, "past a /17");
    is_int(match("1.2.3.4", v4("1.2.3.4")), 1, "one address");
    is_int(match("0.0.0.0/0", v4("200.1.1.1")), 1, "every IPv4 address");
    is_int(match("0.0.0.0/0", v6("::1")), 0, "no IPv6 address in an IPv4 block");
    is_int(match("::/0", v4("1.1.1.1")), 0, "no IPv4 address in an IPv6 block");
    is_int(match("2001:db8::/32", v6("2001:db8:ffff::1")), 1, "in an IPv6 /32");
    is_int(match("2001:db8::/33", v6("2001:db8:8000::1")), 0, "past an IPv6 /33");
    is_int(match("10.0.0.0/8", v6("::ffff:10.9.9.9")), 1, "IPv4-mapped as IPv4");
    is_int(match("::ffff:0:0/96", v6("::ffff:10.9.9.9")), 0, "IPv4-mapped: not as IPv6");
    struct sockaddr_storage un;
    memset(&un, 0, sizeof(un));
    un.ss_family = AF_UNIX;
    is_int(match("0.0.0.0/0", un), 0, "a unix client matches no block");
}

static void test_addr(void)
{
    struct sockaddr_storage ss;
    socklen_t len;
    is_int(mg_addr_parse(S("1.2.3.4"), &ss, &len), MG_OK, "IPv4 literal");
    is_int(ss.ss_family, AF_INET, "IPv4 family");
    is_int(ntohs(((struct sockaddr_in *)&ss)->sin_port), 0, "no port");
    is_int(mg_addr_parse(S("2001:db8::1"), &ss, &len), MG_OK, "IPv6 literal");
    is_int(len, sizeof(struct sockaddr_in6), "IPv6 length");
    is_int(mg_addr_parse(S("[::1]"), &ss, &len), MG_DECLINED, "brackets are not an address");
    is_int(mg_addr_parse(S("1.2.3.4:80"), &ss, &len), MG_DECLINED, "a port is not an address");
    is_int(mg_addr_parse(S(""), &ss, &len), MG_DECLINED, "empty");
}

static void test_base64(void)
{
    unsigned char out[64];
    size_t n;
    is_int(mg_base64_decode(S("YWxpY2U6c2VjcmV0"), out, &n), MG_OK, "decode");
    is_strn((char *)out, n, "alice:secret", "decoded");
    is_int(mg_base64_decode(S("YTpi"), out, &n), MG_OK, "no padding needed");
    is_strn((char *)out, n, "a:b", "three bytes");
    is_int(mg_base64_decode(S("YQ=="), out, &n), MG_OK, "padded");
    is_strn((char *)out, n, "a", "one byte");
    is_int(mg_base64_decode(S("YQ"), out, &n), MG_OK, "padding is optional");
    is_int(mg_base64_decode(S("YQ=garbage!"), out, &n), MG_OK, "the input ends at '='");
    is_strn((char *)out, n, "a", "what came before '='");
    is_int(mg_base64_decode(S("YWJjZ"), out, &n), MG_ERROR, "a length of 4n+1");
    is_int(mg_base64_decode(S("YW!j"), out, &n), MG_ERROR, "a byte outside the alphabet");
    is_int(mg_base64_decode(S("YW Jj"), out, &n), MG_ERROR, "a space");
    is_int(mg_base64_decode(S(""), out, &n), MG_OK, "empty");
    is_int(n, 0, "nothing decoded");
    char enc[16];
    n = mg_base64_encode((const unsigned char *)"a", 1, enc);
    is_strn(enc, n, "YQ==", "encode one byte");
    n = mg_base64_encode((const unsigned char *)"ab", 2, enc);
    is_strn(enc, n, "YWI=", "encode two bytes");
    n = mg_base64_encode((const unsigned char *)"\xff\xfe\xfd", 3, enc);
    is_strn(enc, n, "//79", "encode three bytes");
}

/* s against inet_pton: 1 when they agree (a dotted tail, -1, is the callers' to read) */
static int agrees(const char *s, size_t len, long *valid)
{
    unsigned char got[16], want[16];
    int rc = mg_inet6_parse_hex(s, len, got);
    if (rc < 0) {
        return memchr(s, '.', len) != NULL;
    }
    int pton = inet_pton(AF_INET6, s, want) == 1;
    *valid += pton;
    return rc == pton && (!pton || memcmp(got, want, 16) == 0);
}

static void test_inet6_hex(void)
{
    static const struct {
        const char *in;
        int rc;
    } cases[] = {
        {"::", 1},
        {"::1", 1},
        {"1::", 1},
        {"1:2:3:4:5:6:7:8", 1},
        {"1:2:3:4:5:6:7::", 1},
        {"::2:3:4:5:6:7:8", 1},
        {"1:2:3:4:5:6:7:8::", 0},
        {"1::2:3:4:5:6:7:8", 0},
        {":1::", 0},
        {"1:::2", 0},
        {"1::2::3", 0},
        {"12345::", 0},
        {"1:2", 0},
        {"", 0},
        {":", 0},
        {"1:", 0},
        {"g::", 0},
        {"::ffff:1.2.3.4", -1},
        {"1.2::", -1},
        {"FfFf::0a", 1},
        {"::1/64", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char out[16];
        is_int(mg_inet6_parse_hex(cases[i].in, strlen(cases[i].in), out), cases[i].rc,
               "inet6 hex \"%s\"", cases[i].in);
    }
    unsigned char out[16];
    mg_inet6_parse_hex("2001:db8::ff00:42", 17, out);
    ok(memcmp(out, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\xff\x00\x00\x42", 16) == 0,
       "inet6 hex: the bytes in network order");

    /* addresses built of 0-9 groups of 0-5 digits, ':' or "::" between, now and then a stray
     * byte, colon or dotted tail; then strings of random bytes of the address alphabet */
    srand(7);
    long n = 0, valid = 0, wrong = 0;
    static const char hex[] = "0123456789abcdefABCDEF";
    char s[64];
    for (int r = 0; r < 300000; r++, n++) {
        size_t len = 0;
        int groups = rand() % 10;
        if (rand() % 8 == 0) {
            s[len++] = ':';
        }
        for (int g = 0; g < groups && len < 50; g++) {
            for (int d = rand() % 6 - (rand() % 3 == 0); d > 0; d--) {
                s[len++] = hex[rand() % 22];
            }
            if (g + 1 < groups) {
                s[len++] = ':';
                if (rand() % 6 == 0) {
                    s[len++] = ':';
                }
            }
        }
        int extra = rand() % 16;
        if (extra == 0 && len < 50) {
            s[len++] = ':';
        } else if (extra == 1 && len < 50) {
            s[len++] = "g./ %x]"[rand() % 7];
        } else if (extra == 2 && len < 50) {
            len += (size_t)snprintf(s + len, sizeof(s) - len, ":%d.%d.%d.%d", rand() % 300,
                                    rand() % 256, rand() % 256, rand() % 256);
        }
        s[len] = '\0';
        if (!agrees(s, len, &valid) && wrong++ < 5) {
            printf("# differs: \"%s\"\n", s);
        }
    }
    for (int r = 0; r < 300000; r++, n++) {
        size_t len = (size_t)(rand() % 20);
        for (size_t i = 0; i < len; i++) {
            s[i] = "0123456789abcdefABCDEF::::::."[rand() % 29];
        }
        s[len] = '\0';
        if (!agrees(s, len, &valid) && wrong++ < 5) {
            printf("# differs: \"%s\"\n", s);
        }
    }
    is_int(wrong, 0, "inet6 hex = inet_pton over %ld strings (%ld addresses)", n, valid);
}

int main(void)
{
    test_parse();
    test_inet6_hex();
    test_match();
    test_addr();
    test_base64();
    return done_testing();
}
