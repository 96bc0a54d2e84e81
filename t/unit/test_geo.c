/*
 * geo.c's address reading: an IPv6 literal (hex groups through cidr.c's reader, or a dotted
 * tail) becomes the 128-bit number of its bytes in network order, as inet_pton's bytes read
 * as a big-endian number; IPv4 as nginx reads it.
 */
#include "../../modules/geo.c"

#include "tap.h"

static geo_u128 from_pton(const char *s)
{
    unsigned char b[16];
    geo_u128 a = 0;
    if (inet_pton(AF_INET6, s, b) == 1) {
        for (int i = 0; i < 16; i++) {
            a = (a << 8) | b[i];
        }
    }
    return a;
}

int main(void)
{
    static const char *addrs[] = {
        "::",
        "::1",
        "1::",
        "2001:db8:2a0::1",
        "ffff:eeee:dddd:cccc:bbbb:aaaa:9999:8888",
        "fe80::1:2",
        "::ffff:1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4",
        "::10.0.0.1",
    };
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        geo_addr_t a;
        int rc = parse_addr(addrs[i], strlen(addrs[i]), &a);
        geo_u128 want = from_pton(addrs[i]);
        ok(rc == 1 && a.v6 && a.a == want, "%s: the number of inet_pton's bytes", addrs[i]);
    }
    geo_addr_t a;
    ok(parse_addr("::ffff:010.1.1.1", 16, &a) && a.a == from_pton("::ffff:10.1.1.1"),
       "a dotted tail read as nginx reads IPv4 (leading zeros)");
    ok(!parse_addr("::ffff:1.2.3.4.5", 16, &a), "a bad dotted tail");
    ok(!parse_addr("1:::2", 5, &a), "no address");
    ok(parse_addr("10.1.2.3", 8, &a) && !a.v6 && a.a == 0x0a010203, "IPv4");
    return done_testing();
}
