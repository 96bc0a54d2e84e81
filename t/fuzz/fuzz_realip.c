/*
 * libFuzzer target for the realip module's reading of X-Forwarded-For style address lists
 * (modules/realip.c's forwarded_addr and parse_addr_port, on core/cidr.c's address parser),
 * included here for its static functions. The input's first byte picks real_ip_recursive and
 * the trusted set (everything, or 10.0.0.0/8 and 2001:db8::/32 so that a walk stops at an
 * untrusted entry); the rest is the header's value, read for a client at 10.0.0.1. Beyond
 * crashes it checks that an address taken is an IPv4 or IPv6 one of its family's length,
 * that its text parses back to it, and that an untouched address stays as it was.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=realip)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/realip.c"

static void trust(mg_array_t *from, const char *text)
{
    realip_from_t *f = mg_array_push(from);
    memset(f, 0, sizeof(*f));
    if (mg_cidr_parse((mg_str_t){strlen(text), (char *)text}, &f->cidr) != MG_OK) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    unsigned flags = data[0];
    data++;
    size--;
    char *copy = malloc(size ? size : 1); /* exactly sized: reading past it is caught */
    memcpy(copy, data, size);

    mg_pool_t *pool = mg_pool_create(1024);
    realip_conf_t rc;
    memset(&rc, 0, sizeof(rc));
    rc.from = mg_array_create(pool, 4, sizeof(realip_from_t));
    rc.recursive = flags & 1;
    if (flags & 2) {
        trust(rc.from, "0.0.0.0/0");
        trust(rc.from, "::/0");
    } else {
        trust(rc.from, "10.0.0.0/8");
        trust(rc.from, "2001:db8::/32");
    }

    struct sockaddr_storage addr, before;
    socklen_t len;
    if (mg_addr_parse((mg_str_t){8, "10.0.0.1"}, &addr, &len) != MG_OK) {
        abort();
    }
    before = addr;
    mg_int_t rv = forwarded_addr(&rc, &addr, &len, copy, size);
    if (rv == MG_DECLINED) {
        if (memcmp(&addr, &before, sizeof(addr)) != 0) {
            abort();
        }
    } else {
        if (!(addr.ss_family == AF_INET && len == sizeof(struct sockaddr_in)) &&
            !(addr.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6))) {
            abort();
        }
        char text[MG_CONN_ADDR_TEXT_MAX];
        size_t n = mg_sockaddr_text((struct sockaddr *)&addr, text, sizeof(text), 0);
        struct sockaddr_storage back;
        socklen_t blen;
        if (mg_addr_parse((mg_str_t){n, text}, &back, &blen) != MG_OK || blen != len ||
            (addr.ss_family == AF_INET
                 ? memcmp(&((struct sockaddr_in *)&back)->sin_addr,
                          &((struct sockaddr_in *)&addr)->sin_addr, 4)
                 : memcmp(&((struct sockaddr_in6 *)&back)->sin6_addr,
                          &((struct sockaddr_in6 *)&addr)->sin6_addr, 16)) != 0) {
            abort();
        }
    }

    /* the same bytes as set_real_ip_from's CIDR */
    mg_cidr_t cidr;
    mg_cidr_parse((mg_str_t){size, copy}, &cidr);

    mg_pool_destroy(pool);
    free(copy);
    return 0;
}
