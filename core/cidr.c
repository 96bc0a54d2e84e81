/*
 * IP address literals and CIDR blocks (cidr.h). IPv4 is parsed by hand because nginx's
 * reading differs from inet_pton's: it takes leading zeros ("010.1.1.1" is 10.1.1.1).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cidr.h"
#include "str.h"

static int parse_ipv4(const char *p, size_t len, unsigned char out[4])
{
    unsigned octet = 0, n = 0;
    int digits = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (ch >= '0' && ch <= '9') {
            octet = octet * 10 + (unsigned)(ch - '0');
            if (octet > 255) {
                return 0;
            }
            digits = 1;
            continue;
        }
        if (ch != '.' || !digits || n == 3) {
            return 0;
        }
        out[n++] = (unsigned char)octet;
        octet = 0;
        digits = 0;
    }
    if (n != 3 || !digits) {
        return 0;
    }
    out[3] = (unsigned char)octet;
    return 1;
}

int mg_inet6_parse_hex(const char *s, size_t len, unsigned char out[16])
{
    uint16_t g[8];
    int n = 0, gap = -1;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len && s[0] == ':') {
        return 0;
    }
    while (i < len) {
        unsigned v = 0;
        int digits = 0, d;
        for (; i < len && (d = mg_hex_digit((unsigned char)s[i])) >= 0; i++) {
            if (++digits > 4) {
                return 0;
            }
            v = v * 16 + (unsigned)d;
        }
        if (i < len && s[i] == '.') {
            return -1;
        }
        if (digits == 0 || n == 8 || (i < len && s[i] != ':')) {
            return 0;
        }
        g[n++] = (uint16_t)v;
        if (i == len) {
            break;
        }
        if (++i == len) {
            return 0; /* a ':' at the end */
        }
        if (s[i] == ':') {
            if (gap >= 0) {
                return 0;
            }
            gap = n;
            i++;
        }
    }
    if (gap < 0 ? n != 8 : n == 8) {
        return 0; /* "::" stands for one group at least */
    }
    for (int k = 0, zeros = 8 - n; k < 8; k++) {
        unsigned v = gap < 0 || k < gap ? g[k] : k < gap + zeros ? 0 : g[k - zeros];
        out[2 * k] = (unsigned char)(v >> 8);
        out[2 * k + 1] = (unsigned char)v;
    }
    return 1;
}

static int parse_ipv6(const char *p, size_t len, unsigned char out[16])
{
    int rc = mg_inet6_parse_hex(p, len, out);
    if (rc >= 0) {
        return rc;
    }
    /* a dotted IPv4 tail: inet_pton's reading (geo.c reads it as nginx reads IPv4) */
    char buf[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1;
}

mg_int_t mg_cidr_parse(mg_str_t text, mg_cidr_t *cidr)
{
    memset(cidr, 0, sizeof(*cidr));
    const char *slash = memchr(text.data, '/', text.len);
    size_t alen = slash ? (size_t)(slash - text.data) : text.len;
    size_t nbytes;
    if (parse_ipv4(text.data, alen, cidr->addr)) {
        cidr->family = AF_INET;
        nbytes = 4;
    } else if (parse_ipv6(text.data, alen, cidr->addr)) {
        cidr->family = AF_INET6;
        nbytes = 16;
    } else {
        return MG_ERROR;
    }
    int64_t bits = (int64_t)nbytes * 8;
    if (slash) {
        bits = mg_atoi(slash + 1, text.len - alen - 1);
        if (bits < 0 || bits > (int64_t)nbytes * 8) {
            return MG_ERROR;
        }
    }
    for (size_t i = 0; i < nbytes; i++, bits -= 8) {
        cidr->mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (unsigned char)(0xff00 >> bits);
    }
    mg_int_t rc = MG_OK;
    for (size_t i = 0; i < nbytes; i++) {
        if (cidr->addr[i] & ~cidr->mask[i]) {
            cidr->addr[i] &= cidr->mask[i];
            rc = MG_DONE;
        }
    }
    return rc;
}

int mg_cidr_match(const mg_cidr_t *cidr, const struct sockaddr *sa)
{
    const unsigned char *a;
    int family = sa->sa_family;
    if (family == AF_INET) {
        a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        a = in6->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(in6)) {
            family = AF_INET;
            a += 12;
        }
    } else {
        return 0;
    }
    if (family != cidr->family) {
        return 0;
    }
    size_t n = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < n; i++) {
        if ((a[i] & cidr->mask[i]) != cidr->addr[i]) {
            return 0;
        }
    }
    return 1;
}

mg_int_t mg_addr_parse(mg_str_t text, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    if (parse_ipv4(text.data, text.len, (unsigned char *)&in->sin_addr)) {
        in->sin_family = AF_INET;
        *len = sizeof(*in);
        return MG_OK;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (parse_ipv6(text.data, text.len, in6->sin6_addr.s6_addr)) {
        in6->sin6_family = AF_INET6;
        *len = sizeof(*in6);
        return MG_OK;
    }
    return MG_DECLINED;
}
