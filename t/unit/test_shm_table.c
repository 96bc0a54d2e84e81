/*
 * Unit tests for core/shm_table.c, the keyed table of the limit_req and limit_conn zones: find,
 * insert, the LRU order, removal, a full zone, a reload's re-attach with its ident, and the lock
 * between processes: forked writers whose increments must all count, a holder killed between
 * changes (contents kept) and one killed in the middle of a change (emptied, a new epoch, the
 * alert logged).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mg.h"

#include "../../core/shm_table.c"

#include "tap.h"

typedef struct {
    uint64_t n;
} val_t;

static mg_shm_table_t *new_table(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    mg_str_t ident = mg_string("$key");
    return mg_shm_table_attach(p, size, sizeof(val_t), "test zone \"t\"", ident);
}

static val_t *find(mg_shm_table_t *t, const char *key)
{
    return mg_shm_table_find(t, key, strlen(key), mg_shm_table_hash(t, key, strlen(key)));
}

static val_t *insert(mg_shm_table_t *t, const char *key)
{
    return mg_shm_table_insert(t, key, strlen(key), mg_shm_table_hash(t, key, strlen(key)));
}

static void test_table(void)
{
    mg_shm_table_t *t = new_table(64 * 1024);
    ok(t != NULL, "a table in 64k");
    ok(find(t, "a") == NULL, "empty");
    val_t *a = insert(t, "a");
    ok(a != NULL && a->n == 0, "insert: a zeroed value");
    a->n = 7;
    ok(((uintptr_t)a & 7) == 0, "the value is 8-aligned");
    val_t *b = insert(t, "b"), *c = insert(t, "c");
    ok(find(t, "a") == a && find(t, "b") == b && find(t, "c") == c, "found by key");
    ok(find(t, "ab") == NULL && find(t, "") == NULL, "other keys are not");
    ok(mg_shm_table_oldest(t) == a, "the oldest is the first inserted");
    mg_shm_table_touch(t, a);
    ok(mg_shm_table_oldest(t) == b, "touching it makes the next one the oldest");
    mg_shm_table_remove(t, b);
    ok(find(t, "b") == NULL && mg_shm_table_oldest(t) == c, "removed");
    ok(find(t, "a")->n == 7, "values stay");

    /* full: insert fails and evicts nothing */
    char key[64];
    int n = 0;
    while (n < 100000) {
        snprintf(key, sizeof(key), "key-%d", n);
        if (insert(t, key) == NULL) {
            break;
        }
        n++;
    }
    ok(n > 500 && n < 100000, "a full zone refuses a new key (after %d)", n);
    ok(find(t, "a") != NULL && find(t, "key-0") != NULL, "and keeps the others");
    while ((a = mg_shm_table_oldest(t))) {
        mg_shm_table_remove(t, a);
    }
    ok(find(t, "key-1") == NULL && insert(t, "again") != NULL, "emptied, it takes keys again");
    char *big = calloc(1, 70000);
    memset(big, 'x', 69999);
    ok(mg_shm_table_insert(t, big, 69999, 1) == NULL, "a key longer than 65535 bytes is refused");
    free(big);

    /* a reload attaches to what is there; the ident is the first one */
    mg_str_t other = mg_string("$other");
    mg_shm_table_t *again = mg_shm_table_attach(t, 64 * 1024, sizeof(val_t), "x", other);
    ok(again == t && find(again, "again") != NULL, "attach to a built zone keeps it");
    mg_str_t id = mg_shm_table_ident(again);
    ok(id.len == 4 && memcmp(id.data, "$key", 4) == 0, "with the ident it was built with");
    errno = 0;
    ok(mg_shm_table_attach(t, 64 * 1024, sizeof(val_t) + 8, "x", other) == NULL && errno == EPROTO,
       "a built zone with nodes of another size is refused (EPROTO)");

    void *tiny = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ok(mg_shm_table_attach(tiny, 200, 8, "tiny", id) == NULL, "a zone too small is refused");
    munmap(tiny, 4096);
    munmap(t, 64 * 1024);
}

static void test_processes(void)
{
    char path[] = "/tmp/test_shm_table.XXXXXX";
    int fd = mkstemp(path);
    mg_open_file_t file = {.fd = fd, .name = path};
    mg_log_t log = {.level = MG_LOG_INFO, .file = &file};

    mg_shm_table_t *t = new_table(256 * 1024);
    enum { CHILDREN = 4, INCRS = 20000 };
    for (int c = 0; c < CHILDREN; c++) {
        if (fork() == 0) {
            for (int i = 0; i < INCRS; i++) {
                mg_shm_table_lock(t, &log);
                val_t *v = find(t, "hits");
                if (v == NULL) {
                    v = insert(t, "hits");
                }
                v->n++;
                mg_shm_table_unlock(t);
            }
            _exit(0);
        }
    }
    int status, clean = 1;
    for (int c = 0; c < CHILDREN; c++) {
        wait(&status);
        clean &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    ok(clean, "4 writer processes ran");
    is_int((long long)find(t, "hits")->n, CHILDREN * INCRS, "every increment counted");
    uint32_t epoch = mg_shm_table_epoch(t);

    pid_t pid = fork();
    if (pid == 0) {
        mg_shm_table_lock(t, &log);
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status), "a holder killed with SIGKILL between changes");
    mg_shm_table_lock(t, &log);
    ok(find(t, "hits") != NULL && find(t, "hits")->n == CHILDREN * INCRS,
       "the lock came back, the contents kept");
    ok(mg_shm_table_epoch(t) == epoch, "the same epoch");
    mg_shm_table_unlock(t);

    pid = fork();
    if (pid == 0) {
        mg_shm_table_lock(t, &log);
        insert(t, "half-made");
        t->dirty = 1; /* as if killed inside the insert */
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    waitpid(pid, &status, 0);
    int devnull = open("/dev/null", O_WRONLY), saved = dup(2);
    dup2(devnull, 2); /* the alert's copy on stderr */
    mg_shm_table_lock(t, &log);
    dup2(saved, 2);
    close(devnull);
    close(saved);
    ok(find(t, "hits") == NULL && mg_shm_table_oldest(t) == NULL,
       "killed mid-change: the table was emptied");
    ok(mg_shm_table_epoch(t) != epoch, "with a new epoch");
    ok(insert(t, "after") != NULL, "and works on");
    mg_shm_table_unlock(t);

    char text[4096] = "";
    ssize_t got = pread(fd, text, sizeof(text) - 1, 0);
    text[got > 0 ? got : 0] = '\0';
    ok(strstr(text, "[notice]") &&
           strstr(text, "test zone \"t\": took over the lock of a process that died holding it"),
       "the first take-over is a notice");
    ok(strstr(text, "[alert]") &&
           strstr(text, "test zone \"t\": a process died while changing it, its contents were "
                        "dropped"),
       "the second an alert");
    close(fd);
    unlink(path);
    munmap(t, 256 * 1024);
}

int main(void)
{
    test_table();
    test_processes();
    return done_testing();
}
