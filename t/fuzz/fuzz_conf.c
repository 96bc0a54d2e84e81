/*
 * libFuzzer target for the configuration parser: every input is written as the main config
 * file of a fresh cycle (mg_cycle_create: tokenizer, include, dispatch, every module's setters,
 * http{} merge, locations, regexes, variables), which is then destroyed, so leaks show up.
 * Nothing leaves the scratch prefix (a temp dir; not the cwd, so that libFuzzer's relative
 * corpus and artifact paths keep working): open() and glob() outside it fail, files the config
 * created are removed after each input, and host names other than "localhost" do not resolve
 * (no DNS). Listening sockets are only described by a cycle, never opened.
 * Build: t/fuzz/run.sh builds objs/fuzz/lib/libmoongate.a with the fuzzer flags and links it.
 * Run:   FUZZ_TARGETS=conf FUZZ_TIME=600 sh t/fuzz/run.sh
 * Repro: objs/fuzz/fuzz_conf CRASH_FILE (FUZZ_CONF_LOG=1 shows the emerg messages on stderr)
 *
 * fuzz-link: libmoongate -Wl,--wrap=open,--wrap=mkdir,--wrap=glob,--wrap=getaddrinfo
 */
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <netdb.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cycle.h"
#include "log.h"

static char dir[64];       /* the scratch prefix, no trailing slash */
static char conf_file[96]; /* dir/conf/moongate.conf */
static mg_open_file_t log_file;
static mg_log_t early_log;

/* Files created while a cycle is built, removed after each input. */
static char *created[64];
static size_t ncreated;
static int in_target;

static int inside_dir(const char *path)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/' && strstr(path, "/..") == NULL;
}

/* Reading outside is refused too: "include /proc/kcore" would ask for its st_size. */
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (!inside_dir(path) && strcmp(path, "/dev/null") != 0) {
        errno = EACCES;
        return -1;
    }
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
        if (in_target && ncreated < mg_nelems(created) && access(path, F_OK) != 0) {
            created[ncreated++] = strdup(path);
        }
    }
    return __real_open(path, flags, mode);
}

int __real_mkdir(const char *path, mode_t mode);
int __wrap_mkdir(const char *path, mode_t mode)
{
    if (!inside_dir(path)) {
        errno = EACCES;
        return -1;
    }
    return __real_mkdir(path, mode);
}

/* An include glob from the root would walk the whole file system: the operator's choice
 * (nginx does the same), not a bug, and it would only make the fuzzer time out. */
int __real_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);
int __wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
    if (!inside_dir(pattern)) {
        return GLOB_NOMATCH;
    }
    return __real_glob(pattern, flags, errfunc, g);
}

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    /* /etc/hosts only: a fuzzed host name must not turn into a DNS query */
    if (node == NULL || strcmp(node, "localhost") != 0) {
        return EAI_NONAME;
    }
    return __real_getaddrinfo(node, service, hints, res);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static void cleanup(void)
{
    if (dir[0]) {
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len)) {
        perror(path);
        abort();
    }
    close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/mg-fuzz-conf.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    atexit(cleanup);
    char path[128];
    snprintf(path, sizeof(path), "%s/conf", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/logs", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/html", dir);
    mkdir(path, 0755);
    /* for "include mime.types;" as in the shipped config */
    static const char mime[] = "types {\n    text/html html htm;\n    image/png png;\n"
                               "    application/json json;\n}\n";
    snprintf(path, sizeof(path), "%s/conf/mime.types", dir);
    write_file(path, mime, sizeof(mime) - 1);
    snprintf(conf_file, sizeof(conf_file), "%s/conf/moongate.conf", dir);

    /* the parser's messages are formatted at every level, then dropped (or shown) */
    int verbose = getenv("FUZZ_CONF_LOG") != NULL;
    log_file.fd = verbose ? STDERR_FILENO : open("/dev/null", O_WRONLY | O_CLOEXEC);
    log_file.name = verbose ? "stderr" : "/dev/null";
    early_log.file = &log_file;
    early_log.level = MG_LOG_DEBUG;
    mg_log_set_use_stderr(0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_file(conf_file, data, size);

    mg_cycle_params_t params = {
        .prefix = dir,
        .conf_file = conf_file,
        .test_config = 1,
    };
    in_target = 1;
    mg_cycle_t *cycle = mg_cycle_create(&params, NULL, &early_log);
    in_target = 0;
    if (cycle) {
        mg_cycle_destroy(cycle);
    }

    for (size_t i = 0; i < ncreated; i++) {
        unlink(created[i]);
        free(created[i]);
    }
    ncreated = 0;
    return 0;
}
