/*
 * Unit tests for nginx's value syntaxes in core/str.c (sizes, times, numbers) and for the
 * tokenizer and directive dispatch of core/conf.c, driven through mg_conf_parse_string (the -g
 * path) on a bare cycle. Everything comes from libmoongate.a; nothing is #included.
 */
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "cycle.h"
#include "log.h"
#include "pool.h"
#include "str.h"

#include "tap.h"

static mg_str_t S(const char *s)
{
    mg_str_t r = { strlen(s), (char *)s };
    return r;
}

static void test_atoi(void)
{
    is_int(mg_atoi("0", 1), 0, "atoi 0");
    is_int(mg_atoi("12345", 5), 12345, "atoi 12345");
    is_int(mg_atoi("", 0), -1, "atoi empty");
    is_int(mg_atoi("12a", 3), -1, "atoi with a letter");
    is_int(mg_atoi("-1", 2), -1, "atoi negative");
    is_int(mg_atoi(" 1", 2), -1, "atoi leading space");
    is_int(mg_atoi("9223372036854775807", 19), INT64_MAX, "atoi INT64_MAX");
    is_int(mg_atoi("9223372036854775808", 19), -1, "atoi INT64_MAX + 1 overflows");
    is_int(mg_atoi("99999999999999999999", 20), -1, "atoi 20 digits overflows");
    is_int(mg_atoi("123", 2), 12, "atoi honours the length");
}

static void test_size(void)
{
    is_int(mg_parse_size(S("0")), 0, "size 0");
    is_int(mg_parse_size(S("100")), 100, "size 100");
    is_int(mg_parse_size(S("8k")), 8 * 1024, "size 8k");
    is_int(mg_parse_size(S("8K")), 8 * 1024, "size 8K");
    is_int(mg_parse_size(S("30M")), 30 * 1024 * 1024, "size 30M");
    is_int(mg_parse_size(S("30m")), 30 * 1024 * 1024, "size 30m");
    is_int(mg_parse_size(S("1g")), -1, "size 1g: not a size, as in nginx");
    is_int(mg_parse_offset(S("1g")), 1024LL * 1024 * 1024, "offset 1g");
    is_int(mg_parse_offset(S("2G")), 2048LL * 1024 * 1024, "offset 2G");
    is_int(mg_parse_offset(S("8k")), 8 * 1024, "offset 8k");
    is_int(mg_parse_size(S("")), -1, "size empty");
    is_int(mg_parse_size(S("k")), -1, "size unit alone");
    is_int(mg_parse_size(S("10q")), -1, "size 10q");
    is_int(mg_parse_size(S("1.5m")), -1, "size 1.5m");
    is_int(mg_parse_size(S("1kk")), -1, "size 1kk");
    is_int(mg_parse_size(S("-1")), -1, "size -1");
    is_int(mg_parse_size(S("9223372036854775807k")), -1, "size overflow by the unit");
}

#define MS(str, want) is_int(mg_parse_time(S(str), 0), (want), "msec \"%s\"", str)
#define SEC(str, want) is_int(mg_parse_time(S(str), 1), (want), "sec \"%s\"", str)

static void test_time(void)
{
    MS("0", 0);
    MS("30", 30000);
    MS("68000ms", 68000);
    MS("5s", 5000);
    MS("2m", 120000);
    MS("1h", 3600000);
    MS("7d", 7LL * 86400000);
    MS("2w", 14LL * 86400000);
    MS("1h 30m", 5400000);
    MS("1h  30m", 5400000);
    MS("1h30m", 5400000);
    MS("1h30", 3630000);           /* a trailing bare number is seconds */
    MS("1d2h3m4s5ms", 86400000LL + 7200000 + 180000 + 4000 + 5);
    MS("1s5ms", 1005);
    MS("1h ", 3600000);
    MS("1M", -1);                  /* months and years: seconds only */
    MS("1y", -1);
    MS("", -1);
    MS(" 1h", -1);
    MS("30 1h", -1);
    MS("1m1h", -1);                /* out of order */
    MS("1h1h", -1);                /* twice */
    MS("5x", -1);
    MS("h", -1);
    MS("1.5s", -1);
    MS("-1s", -1);
    MS("99999999999999999999", -1);
    MS("9223372036854775807", -1); /* fits as seconds, not as milliseconds */

    SEC("30", 30);
    SEC("1y", 365LL * 86400);
    SEC("1M", 30LL * 86400);
    SEC("1y 1M", 395LL * 86400);
    SEC("1M1y", -1);
    SEC("2w 1d 1h 1m 1s", 15LL * 86400 + 3661);
    SEC("5ms", -1);
    SEC("1s5ms", -1);
    SEC("9223372036854775807", INT64_MAX);
    SEC("9223372036854775807s 1", -1); /* "s" then a trailing second: overflow */
}

/* ---- the tokenizer, through -g's entry point ---- */

static mg_cycle_t *cycle;
static mg_conf_t cf;
static char seen[1024];        /* the directives a handler received, "[w1][w2]|" each */
static mg_open_file_t logfile;
static mg_log_t logger;

static const char *record(mg_conf_t *c, void *data)
{
    (void)data;
    size_t n = strlen(seen);
    for (size_t i = 0; i < c->nargs; i++) {
        n += (size_t)snprintf(seen + n, sizeof(seen) - n, "[%.*s]", (int)c->args[i].len,
                              c->args[i].data);
    }
    snprintf(seen + n, sizeof(seen) - n, "|");
    return MG_CONF_OK;
}

static void setup(void)
{
    mg_modules_init();
    mg_pool_t *pool = mg_pool_create(16384);
    cycle = mg_pcalloc(pool, sizeof(mg_cycle_t));
    cycle->pool = pool;
    cycle->prefix = S("/prefix/");
    cycle->conf_prefix = S("/prefix/conf/");
    mg_array_init(&cycle->open_files, pool, 4, sizeof(mg_open_file_t *));
    mg_array_init(&cycle->conf_dump, pool, 4, sizeof(mg_conf_dump_t));
    cycle->conf = mg_pcalloc(pool, mg_modules_n * sizeof(void *));
    for (size_t i = 0; i < mg_modules_n; i++) {
        if (mg_modules[i]->create_cycle_conf) {
            cycle->conf[i] = mg_modules[i]->create_cycle_conf(cycle);
        }
    }
    /* errors go to a temporary file we read back */
    char name[] = "/tmp/test_conf.XXXXXX";
    logfile.fd = mkstemp(name);
    unlink(name);
    logfile.name = "test";
    logger.file = &logfile;
    logger.level = MG_LOG_DEBUG;
    mg_log_set_use_stderr(0);
    cf.cycle = cycle;
    cf.pool = pool;
    cf.log = &logger;
    cf.ctx = MG_CTX_MAIN;
}

/* The text of the last error logged since the previous call, without the time/pid prefix. */
static const char *last_error(void)
{
    static char buf[4096];
    off_t end = lseek(logfile.fd, 0, SEEK_END);
    ssize_t n = pread(logfile.fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    if (ftruncate(logfile.fd, 0) != 0 || end < 0) {
        return "";
    }
    lseek(logfile.fd, 0, SEEK_SET);
    char *nl = strrchr(buf, '\n');
    if (nl) {
        *nl = '\0';
    }
    char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    char *msg = strstr(line, ": ");
    return msg ? msg + 2 : line;
}

/* Tokenize with a recording handler: every directive is accepted and written to `seen`. */
static mg_int_t tokens(const char *text)
{
    seen[0] = '\0';
    cf.handler = record;
    mg_int_t rc = mg_conf_parse_string(&cf, text, strlen(text));
    cf.handler = NULL;
    return rc;
}

#define TOK(text, want)                                                                        \
    do {                                                                                       \
        ok(tokens(text) == MG_OK, "tokens of %s parse", #text);                                \
        is_str(seen, want, "tokens of %s", #text);                                             \
    } while (0)
#define TOK_ERR(text, want)                                                                    \
    do {                                                                                       \
        ok(tokens(text) == MG_ERROR, "%s fails", #text);                                       \
        is_str(last_error(), want, "%s: error text", #text);                                   \
    } while (0)

static void test_tokens(void)
{
    TOK("a;", "[a]|");
    TOK("a b  c\t\td;\n e;", "[a][b][c][d]|[e]|");
    TOK("a \"b c\" 'd e';", "[a][b c][d e]|");
    TOK("a \"q\\\"q\" 'q\\'q' \"b\\\\s\";", "[a][q\"q][q'q][b\\s]|");
    TOK("a \"t\\tn\\nr\\r\";", "[a][t\tn\nr\r]|");
    TOK("a x\\;y \\d;", "[a][x\\;y][\\d]|");
    TOK("a # comment ; { }\n b;", "[a][b]|");
    TOK("a \"#not\" x#y;", "[a][#not][x#y]|");
    TOK("a p${v}q ${w};", "[a][p${v}q][${w}]|");
    TOK("a\n\n  b\n  ;", "[a][b]|");
    TOK("a \"multi\nline\";", "[a][multi\nline]|");
    TOK("a \"\" '';", "[a][][]|");
    TOK("\"quoted name\" x;", "[quoted name][x]|");
    TOK("", "");
    TOK("  # only a comment", "");

    TOK_ERR("a", "unexpected end of parameter, expecting \";\" in command line");
    TOK_ERR("a \"b", "unexpected end of parameter, expecting \";\" in command line");
    TOK_ERR("a \"b\"c;", "unexpected \"c\" in command line");
    TOK_ERR(";", "unexpected \";\" in command line");
    TOK_ERR("a; }", "unexpected \"}\" in command line");
    TOK_ERR("a b }", "unexpected \"}\" in command line");
    TOK_ERR("a {", "block directives are not supported in -g option in command line");
}

static void test_dispatch(void)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    const char *g = "worker_processes 3; daemon off; worker_rlimit_nofile 100; env A=1; env B;";
    ok(mg_conf_parse_string(&cf, g, strlen(g)) == MG_OK, "core directives parse");
    is_int(ccf->worker_processes, 3, "worker_processes set");
    is_int(ccf->daemon, 0, "daemon off set");
    is_int(ccf->worker_rlimit_nofile, 100, "worker_rlimit_nofile set");
    is_int((long long)ccf->env.nelts, 2, "two env directives");

#define ERR(text, want)                                                                        \
    do {                                                                                       \
        ok(mg_conf_parse_string(&cf, text, strlen(text)) == MG_ERROR, "%s fails", text);     \
        is_str(last_error(), want, "%s: error text", text);                                    \
    } while (0)
    ERR("daemon on;", "\"daemon\" directive is duplicate in command line");
    ERR("master_process maybe;",
        "invalid value \"maybe\" in \"master_process\" directive, it must be \"on\" or \"off\" "
        "in command line");
    ERR("master_process;", "invalid number of arguments in \"master_process\" directive in command line");
    ERR("no_such 1;", "unknown directive \"no_such\" in command line");
    ERR("listen 80;", "\"listen\" directive is not allowed here in command line");
    ERR("worker_shutdown_timeout 5x;",
        "\"worker_shutdown_timeout\" directive invalid value in command line");
    ERR("error_log x.log loud;", "invalid log level \"loud\" in command line");
    ERR("error_log x.log info warn;", "duplicate log level \"warn\" in command line");
    ERR("error_log x.log debug_http info;", "duplicate log level \"info\" in command line");
    ERR("error_log x.log info debug_http;", "invalid log level \"debug_http\" in command line");
    ERR("pcre_jit on off;", "invalid number of arguments in \"pcre_jit\" directive in command line");
    const char *masks = "error_log x.log debug_core debug_http;";
    ok(mg_conf_parse_string(&cf, masks, strlen(masks)) == MG_OK,
       "debug_<area> masks together are accepted");
}

int main(void)
{
    test_atoi();
    test_size();
    test_time();
    setup();
    test_tokens();
    test_dispatch();
    return done_testing();
}
