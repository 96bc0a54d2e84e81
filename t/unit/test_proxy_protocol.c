/*
 * Unit tests for core/proxy_protocol.c: PROXY protocol v1 lines and v2 blocks read as nginx 1.22
 * reads them (what it takes without checking, what it refuses and the words it logs), headers
 * that need more bytes, and the bound on a header's size.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <unistd.h>

#include "mg.h"

#include "pool.h"
#include "proxy_protocol.h"
#include "str.h"

#include "tap.h"

static mg_pool_t *pool;
static mg_log_t log_;
static mg_open_file_t log_file;
static char logged[4096];

/* What the last read logged (the message only), "" for nothing. */
static const char *last_logged(void)
{
    off_t end = lseek(log_file.fd, 0, SEEK_END);
    ssize_t n = pread(log_file.fd, logged, sizeof(logged) - 1, 0);
    logged[n > 0 ? n : 0] = '\0';
    if (ftruncate(log_file.fd, 0) != 0 || end < 0) {
        return "?";
    }
    lseek(log_file.fd, 0, SEEK_SET);
    char *msg = strstr(logged, "] ");
    msg = msg ? strstr(msg + 2, ": ") : NULL; /* after "PID#TID: " */
    if (msg == NULL) {
        return "";
    }
    char *nl = strchr(msg, '\n');
    if (nl) {
        *nl = '\0';
    }
    return msg + 2;
}

static ssize_t rd(const char *buf, size_t len, size_t room, mg_proxy_protocol_t **pp)
{
    last_logged();
    return mg_proxy_protocol_read(pool, &log_, buf, len, room, pp);
}

#define RD(lit, pp) rd(lit, sizeof(lit) - 1, 1024, pp)

static void test_v1(void)
{
    mg_proxy_protocol_t *pp;
    const char h[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\nGET / HTTP/1.0\r\n\r\n";
    is_int(RD(h, &pp), 38, "v1 TCP4: the line's length");
    ok(pp && mg_str_eq(pp->src_addr, "1.2.3.4") && mg_str_eq(pp->dst_addr, "5.6.7.8") &&
           pp->src_port == 1111 && pp->dst_port == 2222,
       "v1 TCP4: addresses and ports");
    is_int(RD("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n", &pp), 36, "v1 TCP6");
    ok(pp && mg_str_eq(pp->src_addr, "2001:db8::1") && pp->dst_port == 65535, "v1 TCP6 values");
    is_int(RD("PROXY UNKNOWN\r\n", &pp), 15, "v1 UNKNOWN");
    ok(pp && pp->src_addr.len == 0 && pp->src_port == 0, "UNKNOWN names no address");
    is_int(RD("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n", &pp), 35, "UNKNOWN with addresses");
    ok(pp && pp->src_addr.len == 0, "... which are not taken");
    /* nginx checks the characters of an address, not the address */
    is_int(RD("PROXY TCP4 1.2.3.999 abc 0 01\r\n", &pp), 31, "unchecked addresses, port 0");
    ok(pp && mg_str_eq(pp->dst_addr, "abc") && pp->src_port == 0 && pp->dst_port == 1,
       "taken as sent");
    static const char *bad[] = {
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111 99999\r\n",
        "PROXY TCP4 1.2.3.4\r\n",
        "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 x\r\n",
        "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
        "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.g 5.6.7.8 1 2\r\n",
        "PROXY\r\n",
        "PROXY \r\n",
        "GET / HTTP/1.0\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rx\n",
    };
    for (size_t i = 0; i < mg_nelems(bad); i++) {
        is_int(rd(bad[i], strlen(bad[i]), 1024, &pp), -1, "broken: %.*s", (int)strlen(bad[i]) - 2,
               bad[i]);
    }
    rd("PROXY TCP9\r\n", 12, 1024, &pp);
    is_str(last_logged(), "broken header: \"PROXY TCP9\\x0D\\x0A\"", "nginx's words, escaped");
}

static void test_v1_partial(void)
{
    mg_proxy_protocol_t *pp;
    is_int(RD("PRO", &pp), 0, "a prefix of PROXY: wait");
    is_int(RD("PROXY TCP4 1.2.3.4 ", &pp), 0, "no LF yet: wait");
    is_int(RD("GE", &pp), -1, "not PROXY: refused at once");
    is_str(last_logged(), "broken header: \"GE\"", "with what arrived");
    char line[200];
    memset(line, '1', sizeof(line));
    memcpy(line, "PROXY TCP4 ", 11);
    is_int(rd(line, 150, 1024, &pp), 0, "150 bytes without LF: wait (nginx has no 107 limit)");
    is_int(rd(line, 150, 150, &pp), -1, "... up to the buffer");
    memcpy(line + 160, " 5.6.7.8 1 2\r\n", 14);
    is_int(rd(line, 174, 1024, &pp), 174, "a 160-byte address is taken, as by nginx");
    memcpy(line, "PROXY UNKNOWN ", 14);
    line[150] = '\n';
    is_int(rd(line, 160, 1024, &pp), 151, "UNKNOWN too");
}

static size_t v2(char *out, int ver_cmd, int fam, const void *body, size_t len)
{
    memcpy(out, "\r\n\r\n\0\r\nQUIT\n", 12);
    out[12] = (char)ver_cmd;
    out[13] = (char)fam;
    out[14] = (char)(len >> 8);
    out[15] = (char)len;
    memcpy(out + 16, body, len);
    return 16 + len;
}

static void test_v2(void)
{
    mg_proxy_protocol_t *pp;
    char b[512];
    unsigned char in4[12] = {9, 9, 9, 9, 8, 8, 8, 8, 0x0d, 0x05, 0, 80};
    size_t n = v2(b, 0x21, 0x11, in4, sizeof(in4));
    memcpy(b + n, "GET", 3);
    is_int(rd(b, n + 3, 1024, &pp), 28, "v2 TCP4");
    ok(pp && mg_str_eq(pp->src_addr, "9.9.9.9") && mg_str_eq(pp->dst_addr, "8.8.8.8") &&
           pp->src_port == 3333 && pp->dst_port == 80,
       "v2 TCP4 values");
    unsigned char in6[40] = {0};
    inet_pton(AF_INET6, "2001:db8::5", in6);
    inet_pton(AF_INET6, "::1", in6 + 16);
    in6[33] = 7;
    in6[37] = 3; /* and a 3-byte TLV after the addresses */
    n = v2(b, 0x21, 0x21, in6, sizeof(in6));
    is_int(rd(b, n, 1024, &pp), 56, "v2 TCP6 with a TLV");
    ok(pp && mg_str_eq(pp->src_addr, "2001:db8::5") && mg_str_eq(pp->dst_addr, "::1") &&
           pp->src_port == 7,
       "v2 TCP6 values");
    n = v2(b, 0x20, 0x00, "", 0);
    is_int(rd(b, n, 1024, &pp), 16, "LOCAL");
    ok(pp && pp->src_addr.len == 0, "LOCAL names no address");
    char unix_addrs[216] = {0};
    n = v2(b, 0x21, 0x31, unix_addrs, sizeof(unix_addrs));
    is_int(rd(b, n, 1024, &pp), (long long)n, "AF_UNIX: skipped");
    n = v2(b, 0x21, 0x12, in4, sizeof(in4));
    is_int(rd(b, n, 1024, &pp), 28, "UDP: skipped");
    ok(pp && pp->src_addr.len == 0, "... without addresses");
    n = v2(b, 0x11, 0x11, in4, sizeof(in4));
    is_int(rd(b, n, 1024, &pp), -1, "version 1 in a v2 block");
    is_str(last_logged(), "unknown PROXY protocol version: 1", "logged as nginx");
    n = v2(b, 0x21, 0x11, in4, 4);
    is_int(rd(b, n, 1024, &pp), -1, "TCP4 with 4 bytes of addresses");
    is_str(last_logged(), "", "refused without a line, as nginx");
    n = v2(b, 0x21, 0x11, in4, sizeof(in4));
    is_int(rd(b, 10, 1024, &pp), 0, "a piece of the signature: wait");
    is_int(rd(b, 20, 1024, &pp), 0, "a piece of the block: wait");
    is_int(rd(b, n, 27, &pp), -1, "a block larger than the buffer");
    is_str(last_logged(), "header is too large", "logged as nginx");
    b[5] = 'x';
    is_int(rd(b, 8, 1024, &pp), -1, "a wrong signature");
}

int main(void)
{
    mg_log_set_use_stderr(0);
    pool = mg_pool_create(4096);
    FILE *f = tmpfile();
    log_file.fd = fileno(f);
    log_file.name = "tmp";
    log_.level = MG_LOG_INFO;
    log_.file = &log_file;
    test_v1();
    test_v1_partial();
    test_v2();
    mg_pool_destroy(pool);
    return done_testing();
}
