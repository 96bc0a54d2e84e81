/*
 * libFuzzer target for the geo module's address reading (modules/geo.c, included here for its
 * static functions): the X-Forwarded-For walk over trusted proxies (a request's header), and
 * the network and range texts of a geo block. The input's first byte picks what is read (bits
 * 2-3: the walk, a network, a range, an "addr[:port]"), real_ip_recursive-like proxy_recursive
 * (bit 0) and the trusted set (bit 1: everything, or 10.0.0.0/8 and 2001:db8::/32, so that a
 * walk stops at an untrusted element); the rest is the text. Beyond crashes it checks that an
 * address read prints and reads back to itself, that a network has no host bits left, and
 * that a range's start is not after its end.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=geo)
 *
 * fuzz-link: libmoongate
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../modules/geo.c"

/* an address read prints (inet_ntop) and reads back to itself */
static void round_trip(const geo_addr_t *a)
{
    char text[INET6_ADDRSTRLEN];
    if (a->v6) {
        unsigned char b[16];
        uint64_t hi = htobe64((uint64_t)(a->a >> 64)), lo = htobe64((uint64_t)a->a);
        memcpy(b, &hi, 8);
        memcpy(b + 8, &lo, 8);
        inet_ntop(AF_INET6, b, text, sizeof(text));
    } else {
        uint32_t v = (uint32_t)a->a;
        snprintf(text, sizeof(text), "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255,
                 v & 255);
    }
    /* "::255.255.255.255": nginx reads no address from it either (its dotted tail is its
     * unusable IPv4 one), so such an address prints to a text that does not read back */
    size_t tl = strlen(text);
    if (tl >= 16 && strcmp(text + tl - 16, ":255.255.255.255") == 0) {
        return;
    }
    geo_addr_t back;
    if (!parse_addr(text, strlen(text), &back) || back.a != a->a || back.v6 != a->v6) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    unsigned how = data[0];
    data++;
    size--;
    /* an exactly sized copy: reading past the end is caught */
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    switch ((how >> 2) & 3) {
    case 0: {
        geo_cidr_t proxies[2];
        size_t n = 0;
        if (how & 2) {
            parse_cidr((mg_str_t){9, "0.0.0.0/0"}, &proxies[n++]);
            parse_cidr((mg_str_t){4, "::/0"}, &proxies[n++]);
        } else {
            parse_cidr((mg_str_t){10, "10.0.0.0/8"}, &proxies[n++]);
            parse_cidr((mg_str_t){13, "2001:db8::/32"}, &proxies[n++]);
        }
        geo_t geo;
        memset(&geo, 0, sizeof(geo));
        geo.proxies = proxies;
        geo.nproxies = n;
        geo.proxy_recursive = how & 1;
        geo_addr_t addr = {0, 0x0a000001}; /* the client: 10.0.0.1 */
        mg_int_t rc = forwarded(&geo, &addr, text, size);
        if (rc == MG_DECLINED && !(addr.v6 == 0 && addr.a == 0x0a000001)) {
            abort();
        }
        if (rc != MG_DECLINED) {
            round_trip(&addr);
        }
        break;
    }
    case 1: {
        geo_cidr_t c;
        if (parse_cidr((mg_str_t){size, text}, &c) != MG_ERROR && (c.addr & c.mask) != c.addr) {
            abort();
        }
        break;
    }
    case 2: {
        uint32_t s, e;
        if (parse_range((mg_str_t){size, text}, &s, &e) && s > e) {
            abort();
        }
        break;
    }
    default: {
        geo_addr_t a;
        if (parse_addr_port(text, size, &a)) {
            round_trip(&a);
        }
    }
    }
    free(text);
    return 0;
}
