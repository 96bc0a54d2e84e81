/*
 * Unit tests for core/server_names.c, the table http{} and stream{} choose a server with: the
 * order nginx documents (exact, longest "*.x", longest "x.*"), ".x" as x and *.x, the names
 * refused ("..", a star elsewhere) and the conflicts left out with nginx's warning; and
 * mg_server_name_check (a Host's check and its name's length) against the byte-by-byte rule it
 * had before its table of plain bytes, for each byte in each place and 300,000 random names.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg.h"

#include "conf.h"
#include "cycle.h"
#include "log.h"
#include "pool.h"
#include "server_names.h"

#include "tap.h"

static mg_pool_t *pool;
static mg_conf_t cf;
static mg_open_file_t logfile;
static mg_log_t logger;

static void setup(void)
{
    pool = mg_pool_create(16384);
    char name[] = "/tmp/test_server_names.XXXXXX";
    logfile.fd = mkstemp(name);
    unlink(name);
    logfile.name = "test";
    logger.file = &logfile;
    logger.level = MG_LOG_DEBUG;
    mg_log_set_use_stderr(0);
    cf.pool = pool;
    cf.log = &logger;
}

/* what was logged since the previous call */
static const char *logged(void)
{
    static char buf[4096];
    ssize_t n = pread(logfile.fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    if (ftruncate(logfile.fd, 0) != 0 || lseek(logfile.fd, 0, SEEK_SET) != 0) {
        buf[0] = '\0';
    }
    return buf;
}

/* the names of one server (the server is its first name, a static string) */
static mg_array_t *names(const char *server, const char *first, ...)
{
    mg_array_t *a = mg_palloc(pool, sizeof(mg_array_t));
    mg_array_init(a, pool, 2, sizeof(mg_server_name_t));
    va_list ap;
    va_start(ap, first);
    for (const char *n = first; n; n = va_arg(ap, const char *)) {
        mg_server_name_t *sn = mg_array_push(a);
        memset(sn, 0, sizeof(*sn));
        sn->name = (mg_str_t){strlen(n), (char *)n};
        sn->server = (void *)server;
    }
    va_end(ap);
    return a;
}

static const char *find(mg_server_names_t *t, const char *host)
{
    const char *s = mg_server_names_find(t, (mg_str_t){strlen(host), (char *)host});
    return s ? s : "(none)";
}

static void test_order(void)
{
    mg_server_names_t *t = mg_server_names_create(pool);
    const char *addr = "127.0.0.1:80";
    ok(mg_server_names_add(&cf, t, names("A", "www.example.com", "", NULL), addr) == MG_OK, "A");
    ok(mg_server_names_add(&cf, t, names("B", "*.example.com", NULL), addr) == MG_OK, "B");
    ok(mg_server_names_add(&cf, t, names("C", ".sub.example.com", NULL), addr) == MG_OK, "C");
    ok(mg_server_names_add(&cf, t, names("D", "www.example.*", "mail.*", NULL), addr) == MG_OK,
       "D");
    ok(mg_server_names_add(&cf, t, names("E", "*.com", NULL), addr) == MG_OK, "E");
    is_str(logged(), "", "no warning");
    is_str(find(t, "www.example.com"), "A", "an exact name before the wildcards");
    is_str(find(t, ""), "A", "\"\" is an exact name");
    is_str(find(t, "a.example.com"), "B", "a leading wildcard");
    is_str(find(t, "a.b.example.com"), "B", "... over several labels");
    is_str(find(t, "sub.example.com"), "C", "\".x\" is x");
    is_str(find(t, "a.sub.example.com"), "C", "... and *.x, the longest head wins");
    is_str(find(t, "example.com"), "E", "\"*.com\": example.com");
    is_str(find(t, "www.example.org"), "D", "a trailing wildcard after the heads");
    is_str(find(t, "www.example.co.uk"), "D", "... over several labels");
    is_str(find(t, "www.example"), "(none)", "\"www.example.*\" needs a label after the dot");
    is_str(find(t, "mail.com"), "E", "a leading wildcard before a trailing one");
    is_str(find(t, "mail.org"), "D", "\"mail.*\"");
    is_str(find(t, "org"), "(none)", "no match: NULL (the regexes, then the default server)");
}

static void test_refused_and_conflicts(void)
{
    const char *addr = "127.0.0.1:8080";
    static const char *bad[] = {"a..b", "*.a..b", "w*.x", "x.*.y", "a.*.*", "a*"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mg_server_names_t *t = mg_server_names_create(pool);
        ok(mg_server_names_add(&cf, t, names("A", bad[i], NULL), addr) == MG_ERROR, "%s refused",
           bad[i]);
        char want[128];
        snprintf(want, sizeof(want), "invalid server name or wildcard \"%s\" on %s", bad[i], addr);
        ok(strstr(logged(), want) != NULL, "... \"%s\"", want);
    }
    mg_server_names_t *t = mg_server_names_create(pool);
    ok(mg_server_names_add(&cf, t, names("A", ".x.test", "a.test", NULL), addr) == MG_OK, "A");
    ok(mg_server_names_add(&cf, t,
                           names("B", "x.test", "*.x.test", "a.test", "b.test", "b.test", NULL),
                           addr) == MG_OK,
       "B with names A has, and one twice");
    const char *log = logged();
    ok(strstr(log, "conflicting server name \"x.test\" on 127.0.0.1:8080, ignored") != NULL,
       "x after .x: conflicting");
    ok(strstr(log, "conflicting server name \"*.x.test\" on 127.0.0.1:8080, ignored") != NULL,
       "*.x after .x: conflicting");
    ok(strstr(log, "conflicting server name \"a.test\" on 127.0.0.1:8080, ignored") != NULL,
       "another server's exact name: conflicting");
    ok(strstr(log, "conflicting server name \"b.test\" on 127.0.0.1:8080, ignored") != NULL,
       "its own name twice: conflicting");
    is_str(find(t, "x.test"), "A", "the first one stays");
    is_str(find(t, "y.x.test"), "A", "... for *.x too");
    is_str(find(t, "b.test"), "B", "B's other name is there");
    ok(mg_server_names_add(&cf, t, names("C", ".y.test*", NULL), addr) == MG_OK,
       "\".y.test*\": nginx takes any \".x\" as a wildcard");
}

static void test_first(void)
{
    mg_str_t f = mg_server_names_first(names("A", ".dot.test", "b", NULL));
    is_strn(f.data, f.len, "dot.test", "$server_name of \".dot.test\"");
    mg_array_t empty;
    mg_array_init(&empty, pool, 1, sizeof(mg_server_name_t));
    f = mg_server_names_first(&empty);
    is_strn(f.data, f.len, "", "no name: \"\"");
}

/* mg_server_name_check's rule one byte at a time, as it was written before its table */
static size_t name_check_by_byte(mg_str_t in)
{
    size_t host_len = in.len;
    int dot_pos = -2;
    enum { usual, literal, rest } state = usual;
    for (size_t i = 0; i < in.len; i++) {
        unsigned char ch = (unsigned char)in.data[i];
        if (ch == '.') {
            if (dot_pos == (int)i - 1) {
                return 0;
            }
            dot_pos = (int)i;
        } else if (ch == ':') {
            if (state == usual) {
                host_len = i;
                state = rest;
            }
        } else if (ch == '[') {
            if (i == 0) {
                state = literal;
            }
        } else if (ch == ']') {
            if (state == literal) {
                host_len = i + 1;
                state = rest;
            }
        } else if (ch == '/' || ch == '\0' || ch <= 0x20 || ch == 0x7f) {
            return 0;
        }
    }
    if (host_len && in.data[host_len - 1] == '.') {
        host_len--;
    }
    return host_len;
}

static void test_name_check(void)
{
    static const char *const around[][2] = {{"a", "c"}, {"", "x"},   {"x", ""},       {"[", "]"},
                                            {"x:", ""}, {"a.b", ""}, {"[::1", "]:8"}, {".", "."}};
    int differ = 0, n = 0;
    for (int b = 0; b < 256; b++) {
        for (size_t k = 0; k < sizeof(around) / sizeof(around[0]); k++, n++) {
            char buf[32];
            size_t l1 = strlen(around[k][0]), l2 = strlen(around[k][1]);
            memcpy(buf, around[k][0], l1);
            buf[l1] = (char)b;
            memcpy(buf + l1 + 1, around[k][1], l2);
            mg_str_t in = {l1 + 1 + l2, buf};
            differ += mg_server_name_check(in) != name_check_by_byte(in);
        }
    }
    static const char alphabet[] = {'a', '.',  ':',        '[',  ']', '/', '\0',
                                    ' ', 0x7f, (char)0x80, '\\', '1', '-', 0x1f};
    unsigned seed = 16;
    for (int i = 0; i < 300000; i++, n++) {
        char buf[16];
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 16) % 13;
        for (size_t j = 0; j < len; j++) {
            seed = seed * 1103515245u + 12345u;
            buf[j] = alphabet[(seed >> 16) % sizeof(alphabet)];
        }
        mg_str_t in = {len, buf};
        differ += mg_server_name_check(in) != name_check_by_byte(in);
    }
    ok(differ == 0, "mg_server_name_check as the byte-by-byte rule for %d names (%d differ)", n,
       differ);
}

int main(void)
{
    setup();
    test_order();
    test_refused_and_conflicts();
    test_first();
    test_name_check();
    return done_testing();
}
