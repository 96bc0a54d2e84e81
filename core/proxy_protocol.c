/*
 * The PROXY protocol reader: version 1 (one text line) and version 2 (a binary block with
 * TLVs, which are skipped), with nginx 1.22's verdicts so that a balancer's header is taken or
 * refused exactly as nginx takes or refuses it. Protocol-independent: the HTTP connection calls
 * it before reading a request head (core/http/connection.c).
 */
#include <arpa/inet.h>
#include <ctype.h>

#include "proxy_protocol.h"
#include "str.h"

static const char v2_sig[12] = "\r\n\r\n\0\r\nQUIT\n";

static ssize_t broken(mg_log_t *log, const char *buf, size_t len)
{
    mg_log_error(MG_LOG_ERR, log, 0, "broken header: \"%.*s\"", (int)len, buf);
    return -1;
}

/* An address of a v1 line: nginx takes any run of hex digits, dots and colons. */
static const char *v1_addr(const char *p, const char *end, mg_str_t *out)
{
    const char *s = p;
    while (p < end && (isxdigit((unsigned char)*p) || *p == '.' || *p == ':')) {
        p++;
    }
    if (p == s || p == end || *p != ' ') {
        return NULL;
    }
    out->data = (char *)s;
    out->len = (size_t)(p - s);
    return p + 1;
}

static const char *v1_port(const char *p, const char *end, char stop, in_port_t *out)
{
    const char *s = p;
    while (p < end && *p >= '0' && *p <= '9') {
        p++;
    }
    if (p == s || p == end || *p != stop) {
        return NULL;
    }
    int64_t n = mg_atoi(s, (size_t)(p - s));
    if (n < 0 || n > 65535) {
        return NULL;
    }
    *out = (in_port_t)n;
    return p + 1;
}

static ssize_t read_v1(mg_pool_t *pool, mg_log_t *log, const char *buf, size_t len, size_t room,
                       mg_proxy_protocol_t **pp)
{
    /* the specification's 107 bytes are no limit to nginx: the line may fill the buffer */
    int unknown = len >= 13 && memcmp(buf + 6, "UNKNOWN", 7) == 0;
    const char *lf = memchr(buf, '\n', len);
    if (lf == NULL) {
        return len >= room ? broken(log, buf, len) : 0;
    }
    size_t hlen = (size_t)(lf - buf) + 1;
    mg_proxy_protocol_t *h = mg_pcalloc(pool, sizeof(*h));
    if (unknown) {
        mg_debug_core(log, "PROXY protocol unknown protocol");
        *pp = h;
        return (ssize_t)hlen;
    }
    const char *p = buf + 6, *end = lf + 1;
    if (end - p < 5 || (memcmp(p, "TCP4 ", 5) != 0 && memcmp(p, "TCP6 ", 5) != 0)) {
        return broken(log, buf, len);
    }
    p += 5;
    mg_str_t src, dst;
    if ((p = v1_addr(p, end, &src)) == NULL || (p = v1_addr(p, end, &dst)) == NULL ||
        (p = v1_port(p, end, ' ', &h->src_port)) == NULL ||
        (p = v1_port(p, end, '\r', &h->dst_port)) == NULL || p != lf) {
        return broken(log, buf, len);
    }
    h->src_addr = mg_pstr(pool, src.data, src.len);
    h->dst_addr = mg_pstr(pool, dst.data, dst.len);
    mg_debug_core(log, "PROXY protocol src: %s %u, dst: %s %u", h->src_addr.data,
                  (unsigned)h->src_port, h->dst_addr.data, (unsigned)h->dst_port);
    *pp = h;
    return (ssize_t)hlen;
}

static mg_str_t addr_text(mg_pool_t *pool, int family, const void *addr)
{
    char text[INET6_ADDRSTRLEN];
    inet_ntop(family, addr, text, sizeof(text));
    return mg_pstr(pool, text, strlen(text));
}

static ssize_t read_v2(mg_pool_t *pool, mg_log_t *log, const char *buf, size_t len, size_t room,
                       mg_proxy_protocol_t **pp)
{
    const unsigned char *u = (const unsigned char *)buf;
    if (u[12] >> 4 != 2) {
        mg_log_error(MG_LOG_ERR, log, 0, "unknown PROXY protocol version: %u", u[12] >> 4);
        return -1;
    }
    size_t blen = (size_t)u[14] << 8 | u[15], hlen = 16 + blen;
    if (hlen > room) {
        mg_log_error(MG_LOG_ERR, log, 0, "header is too large");
        return -1;
    }
    if (len < hlen) {
        return 0;
    }
    mg_proxy_protocol_t *h = mg_pcalloc(pool, sizeof(*h));
    *pp = h;
    const unsigned char *a = u + 16;
    unsigned cmd = u[12] & 0x0f, family = u[13] >> 4, transport = u[13] & 0x0f;
    if (cmd != 1) {
        /* LOCAL (the balancer's own health check) and the unknown ones: no addresses */
        mg_debug_core(log, "PROXY protocol v2 unsupported command %u", cmd);
        return (ssize_t)hlen;
    }
    if (transport != 1) {
        mg_debug_core(log, "PROXY protocol v2 unsupported transport %u", transport);
        return (ssize_t)hlen;
    }
    size_t need;
    if (family == 1) {
        need = 12;
        if (blen < need) {
            return -1;
        }
        h->src_addr = addr_text(pool, AF_INET, a);
        h->dst_addr = addr_text(pool, AF_INET, a + 4);
        a += 8;
    } else if (family == 2) {
        need = 36;
        if (blen < need) {
            return -1;
        }
        h->src_addr = addr_text(pool, AF_INET6, a);
        h->dst_addr = addr_text(pool, AF_INET6, a + 16);
        a += 32;
    } else {
        mg_debug_core(log, "PROXY protocol v2 unsupported address family %u", family);
        return (ssize_t)hlen;
    }
    h->src_port = (in_port_t)(a[0] << 8 | a[1]);
    h->dst_port = (in_port_t)(a[2] << 8 | a[3]);
    mg_debug_core(log, "PROXY protocol v2 src: %s %u, dst: %s %u", h->src_addr.data,
                  (unsigned)h->src_port, h->dst_addr.data, (unsigned)h->dst_port);
    if (blen > need) {
        mg_debug_core(log, "PROXY protocol v2 %zu bytes of tlv ignored", blen - need);
    }
    return (ssize_t)hlen;
}

ssize_t mg_proxy_protocol_read(mg_pool_t *pool, mg_log_t *log, const char *buf, size_t len,
                               size_t room, mg_proxy_protocol_t **pp)
{
    *pp = NULL;
    if (len == 0) {
        return 0;
    }
    /* decide as early as the bytes allow: a client that sends a request head instead of a
     * header is refused at once, not after a timeout */
    if (buf[0] == v2_sig[0]) {
        if (memcmp(buf, v2_sig, mg_min(len, sizeof(v2_sig))) != 0) {
            return broken(log, buf, len);
        }
        return len < 16 ? 0 : read_v2(pool, log, buf, len, room, pp);
    }
    if (memcmp(buf, "PROXY ", mg_min(len, (size_t)6)) != 0) {
        return broken(log, buf, len);
    }
    return len < 6 ? 0 : read_v1(pool, log, buf, len, room, pp);
}

mg_proxy_protocol_t *mg_proxy_protocol_dup(mg_pool_t *pool, const mg_proxy_protocol_t *pp)
{
    if (pp == NULL) {
        return NULL;
    }
    mg_proxy_protocol_t *copy = mg_palloc(pool, sizeof(*copy));
    *copy = *pp;
    copy->src_addr.data = mg_pstrdup(pool, (const char *)pp->src_addr.data, pp->src_addr.len);
    copy->dst_addr.data = mg_pstrdup(pool, (const char *)pp->dst_addr.data, pp->dst_addr.len);
    return copy;
}
