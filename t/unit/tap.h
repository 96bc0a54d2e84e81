/*
 * Minimal TAP producer for the C unit tests in t/unit (run by t/000-unit.t under prove).
 * ok/is_int/is_str/is_strn print "ok N - name" or "not ok N - name" plus a diagnostic;
 * `return done_testing();` from main prints the plan "1..N" and exits nonzero on any failure.
 */
#ifndef MG_TAP_H
#define MG_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run, tap_failed;

__attribute__((format(printf, 2, 0), unused)) static int tap_result(int pass, const char *fmt,
                                                                    va_list ap)
{
    tap_run++;
    if (!pass)
        tap_failed++;
    printf("%sok %d - ", pass ? "" : "not ", tap_run);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    return pass;
}

__attribute__((format(printf, 2, 3), unused)) static int ok(int pass, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_result(pass, fmt, ap);
    va_end(ap);
    return pass;
}

__attribute__((format(printf, 3, 4), unused)) static int is_int(long long got, long long want,
                                                                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int pass = tap_result(got == want, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got: %lld\n#   expected: %lld\n", got, want);
    return pass;
}

/* Compare a length-delimited string (not NUL-terminated, may be NULL when n is 0). */
__attribute__((format(printf, 4, 5), unused)) static int
is_strn(const char *got, size_t n, const char *want, const char *fmt, ...)
{
    int pass = want != NULL && strlen(want) == n && (n == 0 || memcmp(got, want, n) == 0);
    va_list ap;
    va_start(ap, fmt);
    tap_result(pass, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got: '%.*s'\n#   expected: '%s'\n", (int)n, got ? got : "",
               want ? want : "(null)");
    return pass;
}

__attribute__((format(printf, 3, 4), unused)) static int is_str(const char *got, const char *want,
                                                                const char *fmt, ...)
{
    int pass = got && want ? strcmp(got, want) == 0 : got == want;
    va_list ap;
    va_start(ap, fmt);
    tap_result(pass, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got: '%s'\n#   expected: '%s'\n", got ? got : "(null)", want ? want : "(null)");
    return pass;
}

__attribute__((unused)) static int done_testing(void)
{
    printf("1..%d\n", tap_run);
    if (tap_failed)
        printf("# Looks like you failed %d test%s of %d.\n", tap_failed, tap_failed == 1 ? "" : "s",
               tap_run);
    fflush(stdout);
    return tap_failed ? 1 : 0;
}

#endif
