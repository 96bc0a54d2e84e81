/*
 * Setting the process title on Linux: the kernel shows the memory of argv[] (and, when a
 * title outgrows it, of the environment strings that follow it) as /proc/PID/cmdline, so
 * both are copied elsewhere at start and the contiguous area is rewritten for each title.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "proctitle.h"

extern char **environ;

static char *title_start, *title_end; /* the writable area: argv[0] .. end of the last string */
static char *args_line;

/* These hold the copies for the life of the process, for leak checkers to see: gcc's LSan
 * does not count a pointer in libc's `environ`. Nothing reads them, so `used` keeps gcc from
 * dropping them and their stores as write-only (it did, and every run of an ASan build ended
 * with the environ array reported leaked and exit status 23). */
static char **moved_argv __attribute__((used));
static char **moved_env __attribute__((used));
static char **first_environ __attribute__((used)); /* the array environ first pointed to: `env`
                                                     may replace it */

void mg_proctitle_init(int argc, char **argv)
{
    if (argc <= 0 || argv[0] == NULL) {
        return;
    }
    size_t len = 0;
    for (int i = 0; i < argc; i++) {
        len += strlen(argv[i]) + 1;
    }
    args_line = mg_alloc(len + 1);
    char *p = args_line;
    for (int i = 0; i < argc; i++) {
        p += sprintf(p, "%s%s", i ? " " : "", argv[i]);
    }

    /* the area is only usable as far as the strings are contiguous, as the kernel laid them */
    char *start = argv[0];
    char *end = argv[0] + strlen(argv[0]) + 1;
    for (int i = 1; i < argc; i++) {
        if (argv[i] == end) {
            end = argv[i] + strlen(argv[i]) + 1;
        }
    }
    size_t nenv = 0;
    while (environ[nenv]) {
        nenv++;
    }
    char **env = mg_alloc((nenv + 1) * sizeof(char *));
    for (size_t i = 0; i < nenv; i++) {
        if (environ[i] == end) {
            end = environ[i] + strlen(environ[i]) + 1;
        }
        env[i] = mg_strdup(environ[i]);
    }
    env[nenv] = NULL;
    environ = first_environ = env;
    /* unsetenv/setenv edit environ in place; the strings stay listed here */
    moved_env = mg_alloc((nenv + 1) * sizeof(char *));
    memcpy(moved_env, env, (nenv + 1) * sizeof(char *));
    /* the argv strings move too: main keeps reading its options through argv[i]; the
     * copies are held here as well, for the life of the process */
    moved_argv = mg_alloc((size_t)(argc + 1) * sizeof(char *));
    for (int i = 0; i < argc; i++) {
        argv[i] = moved_argv[i] = mg_strdup(argv[i]);
    }
    title_start = start;
    title_end = end;
}

void mg_proctitle_set(const char *fmt, ...)
{
    if (title_start == NULL) {
        return;
    }
    size_t room = (size_t)(title_end - title_start);
    int n = snprintf(title_start, room, "moongate: ");
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < room) {
        n += vsnprintf(title_start + n, room - (size_t)n, fmt, ap);
    }
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n >= room ? room - 1 : (size_t)n;
    /* ps reads up to the first NUL only when the area is NUL-padded after it */
    memset(title_start + used, '\0', room - used);
}

const char *mg_proctitle_args(void)
{
    return args_line ? args_line : "";
}
