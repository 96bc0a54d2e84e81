/*
 * libFuzzer target for basic authentication's parsers: the Authorization header's
 * "Basic base64(user:password)" (core/http/core.c's mg_http_auth_basic_user) and the
 * htpasswd file's lines with their {PLAIN}, {SHA}, {SSHA} and $apr1$ hashes
 * (modules/auth_basic.c's check_file, included here for its static functions). The input's
 * first line is the header's value, the rest the file (read through a memfd, in the 4 KB
 * chunks the module reads). crypt(3) is glibc's parser, not moongate's, and a bcrypt cost
 * in the file would only make the run slow: it is replaced by a failure token. Beyond
 * crashes it checks the user is non-empty without ':' and the answer is a match, 401 or 500.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=auth_basic)
 *
 * fuzz-link: libmoongate -Wl,--wrap=mg_log_error,--wrap=crypt
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "../../modules/auth_basic.c"

void __wrap_mg_log_error(int level, mg_log_t *log, int err, const char *fmt, ...)
{
    (void)level;
    (void)log;
    (void)err;
    (void)fmt;
}

char *__wrap_crypt(const char *key, const char *salt)
{
    (void)key;
    (void)salt;
    return "*0";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - data) : size;
    char *header = malloc(hlen ? hlen : 1); /* exactly sized: reading past it is caught */
    memcpy(header, data, hlen);

    static mg_connection_t c;
    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.connection = &c;
    r.pool = mg_pool_create(1024);
    mg_array_init(&r.headers_out.headers, r.pool, 4, sizeof(mg_table_elt_t));
    mg_table_elt_t h = {{13, "Authorization"}, {hlen, header}, 1};
    r.headers_in.authorization = &h;

    mg_str_t user, pw;
    if (mg_http_auth_basic_user(&r, &user, &pw) == MG_OK) {
        if (user.len == 0 || memchr(user.data, ':', user.len) != NULL) {
            abort();
        }
        int fd = memfd_create("htpasswd", MFD_CLOEXEC);
        if (fd < 0) {
            abort();
        }
        size_t flen = nl ? size - hlen - 1 : 0;
        if (flen && write(fd, nl + 1, flen) != (ssize_t)flen) {
            abort();
        }
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        mg_int_t rc = check_file(&r, path, user, pw, (mg_str_t){4, "test"});
        if (rc != MG_OK && rc != MG_HTTP_UNAUTHORIZED && rc != MG_HTTP_INTERNAL_SERVER_ERROR) {
            abort();
        }
        close(fd);
    }
    mg_pool_destroy(r.pool);
    free(header);
    return 0;
}
