/*
 * field.c's last check before a field reaches the wire, against a byte-at-a-time model: every
 * length up to 40, every byte value at every position of a field otherwise clean, and fields
 * of random bytes. The word-at-a-time scan must find each bad byte wherever it sits (a word's
 * start, middle, end, the overlapping last word, the short fields' composite word) and leave a
 * clean field as it is (the same pointer: no copy).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "http.h"

#include "tap.h"

static mg_pool_t *pool;
static mg_connection_t conn;
static mg_request_t req;

typedef int (*bad_fn)(unsigned char ch);

static int name_bad(unsigned char ch)
{
    return ch <= 0x20 || ch == ':' || ch == 0x7f;
}

static int value_bad(unsigned char ch)
{
    return ch == '\r' || ch == '\n' || ch == '\0';
}

static int target_bad(unsigned char ch)
{
    return ch <= 0x20 || ch == 0x7f;
}

/* what the field should become */
static size_t model(const char *s, size_t len, bad_fn bad, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (bad(ch)) {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 0xf];
        } else {
            out[n++] = (char)ch;
        }
    }
    return n;
}

static mg_str_t run(int kind, mg_str_t in)
{
    mg_str_t name = mg_string("X");
    switch (kind) {
    case 0:
        return mg_http_safe_header_name(&req, in);
    case 1:
        return mg_http_safe_header_value(&req, name, in);
    default:
        return mg_http_safe_request_target(&req, in);
    }
}

/* 1 when the function's answer is the model's (and a clean field comes back uncopied) */
static int check(int kind, const char *s, size_t len)
{
    static const bad_fn bad[] = {name_bad, value_bad, target_bad};
    char want[3 * 64];
    size_t n = model(s, len, bad[kind], want);
    mg_str_t got = run(kind, (mg_str_t){len, (char *)s});
    if (got.len != n || memcmp(got.data, want, n) != 0) {
        return 0;
    }
    return n != len || got.data == s;
}

int main(void)
{
    static const char *what[] = {"header name", "header value", "request target"};
    pool = mg_pool_create(4096);
    mg_now.sec = 1;
    conn.log.level = MG_LOG_EMERG;
    req.connection = &conn;
    req.pool = pool;
    /* each escaped field logs a [warn]; with no error_log they would go to stderr */
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    close(devnull);
    char buf[64];
    for (int kind = 0; kind < 3; kind++) {
        int fails = 0, runs = 0;
        for (size_t len = 0; len <= 40; len++) {
            memset(buf, 'a', sizeof(buf));
            fails += !check(kind, buf + 1, len); /* a clean field, unaligned */
            runs++;
            for (size_t pos = 0; pos < len; pos++) {
                for (int ch = 0; ch < 256; ch++) {
                    memset(buf, 'a', sizeof(buf));
                    buf[1 + pos] = (char)ch;
                    fails += !check(kind, buf + 1, len);
                    runs++;
                }
            }
        }
        srandom(7);
        for (int i = 0; i < 200000; i++) {
            size_t len = (size_t)(random() % 41);
            for (size_t k = 0; k < len; k++) {
                /* mostly printable, now and then anything */
                buf[k] = random() % 16 ? (char)(0x21 + random() % 0x5e) : (char)(random() % 256);
            }
            fails += !check(kind, buf, len);
            runs++;
        }
        is_int(fails, 0, "%s: %d fields of every length to 40 escaped as the byte model says",
               what[kind], runs);
        mg_pool_destroy(pool);
        pool = mg_pool_create(4096);
        req.pool = pool;
    }
    mg_pool_destroy(pool);
    return done_testing();
}
