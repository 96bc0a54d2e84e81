/*
 * Unit tests for the cache loader's pass over a cache directory (core/http/cache.c load_zone,
 * which the "cache loader process" runs a minute after the start, as nginx's): over files
 * written in the cache file format (version 2) it indexes the good ones (a body, and the
 * header-only answer to a HEAD) with their sizes (in 4 KiB blocks, as nginx) in the zone's totals,
 * removes with a lookup's log line those no lookup could serve (truncated, too small, a name that
 * is not its key's MD5, version 1), leaves other names alone, paces itself by loader_files and
 * loader_threshold, stops when told, and leaves the manager a total that max_size then cuts
 * down (manage_zone drops the least recently used). The real processes' side is t/478.
 */
#include <sys/mman.h>

#include "../../core/http/cache.c"

#include "tap.h"

static char logged[16384];

static void capture(mg_log_t *log, int level, const char *buf, size_t len)
{
    (void)log;
    (void)level;
    size_t have = strlen(logged);
    snprintf(logged + have, sizeof(logged) - have, "%.*s\n", (int)len, buf);
}

static const mg_log_scope_t scope = {.no_stderr = 1}; /* the lines in `logged` only */
static mg_log_t log_ = {.level = MG_LOG_INFO, .writer = capture, .scope = &scope};
static mg_pool_t *pool;
static char dir[] = "/tmp/test_cache_loader.XXXXXX";

static mg_http_cache_zone_t *new_zone(void)
{
    mg_http_cache_zone_t *z = mg_pcalloc(pool, sizeof(*z));
    z->name = (mg_str_t){1, "t"};
    z->path = (mg_str_t){strlen(dir), dir};
    z->level[0] = 1;
    z->level[1] = 2;
    z->inactive = 600;
    z->loader_files = 100;
    z->loader_sleep = 50;
    z->loader_threshold = 200;
    z->manager_files = 100;
    size_t size = 1024 * 1024;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    z->table = mg_shm_table_attach(p, size, sizeof(cache_node_t), "cache zone \"t\"", z->path);
    totals(z)->uses = 1; /* a new zone is cold */
    return z;
}

/* A file as the store writes it for key, with body_len bytes of body (head_only: the answer
 * to a HEAD, no body), under the name of name_key's MD5; its path. */
static char *write_entry(mg_http_cache_zone_t *z, const char *key, const char *name_key,
                         size_t body_len, int head_only)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    mg_cache_file_header_t h = {.version = MG_CACHE_FILE_VERSION, .header_size = sizeof(h)};
    memcpy(h.magic, MG_CACHE_FILE_MAGIC, 8);
    h.valid_sec = (int64_t)time(NULL) + 600;
    h.date = (int64_t)time(NULL);
    h.last_modified = -1;
    mg_md5(key, strlen(key), h.md5);
    h.status = 200;
    h.key_len = (uint32_t)strlen(key);
    h.head_len = sizeof(head) - 1;
    h.body_len = body_len;
    h.flags = head_only ? MG_CACHE_FILE_HEADER_ONLY : 0;
    char parts[512];
    size_t plen = (size_t)snprintf(parts, sizeof(parts), "%s%s", key, head);
    h.crc = mg_cache_file_crc(&h, parts, plen);
    unsigned char md5[16];
    mg_md5(name_key, strlen(name_key), md5);
    char *path = file_name(pool, z, md5);
    make_levels(z, path);
    FILE *f = fopen(path, "w");
    fwrite(&h, sizeof(h), 1, f);
    fwrite(parts, plen, 1, f);
    for (size_t i = 0; i < body_len; i++) {
        fputc('a' + (int)(i % 26), f);
    }
    fclose(f);
    return path;
}

static long long size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static cache_node_t *node_of(mg_http_cache_zone_t *z, const char *key)
{
    unsigned char md5[16];
    mg_md5(key, strlen(key), md5);
    uint32_t hash = mg_shm_table_hash(z->table, (const char *)md5, 16);
    return mg_shm_table_find(z->table, (const char *)md5, 16, hash);
}

/* a line at that level ending in what */
static int logged_at(const char *level, const char *what)
{
    const char *at = strstr(logged, what);
    if (at == NULL || at[strlen(what)] != '\n') {
        return 0;
    }
    const char *start = at;
    while (start > logged && start[-1] != '\n') {
        start--;
    }
    char tag[32];
    snprintf(tag, sizeof(tag), " [%s] ", level);
    const char *t = strstr(start, tag);
    return t != NULL && t < at;
}

static int logged_line(const char *level, const char *path, const char *what)
{
    char want[PATH_MAX + 128];
    snprintf(want, sizeof(want), "#%d: cache file \"%s\" %s", (int)getpid(), path, what);
    return logged_at(level, want);
}

static void clean(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf %s/*", dir);
    if (system(cmd) != 0) {
        printf("# %s failed\n", cmd);
    }
}

static void test_pass(int channel)
{
    mg_http_cache_zone_t *z = new_zone();
    char *good = write_entry(z, "GET/good", "GET/good", 9000, 0);
    char *head = write_entry(z, "HEAD/good", "HEAD/good", 0, 1);
    char *trunc = write_entry(z, "GET/trunc", "GET/trunc", 3000, 0);
    if (truncate(trunc, size_of(trunc) - 10) != 0) {
        printf("# truncate failed\n");
    }
    char *wrong = write_entry(z, "GET/other", "GET/wrong", 10, 0);
    char *v1 = write_entry(z, "GET/v1", "GET/v1", 10, 0);
    FILE *f = fopen(v1, "r+");
    uint32_t one = 1;
    fseek(f, 8, SEEK_SET);
    fwrite(&one, 4, 1, f);
    fclose(f);
    char *small = write_entry(z, "GET/small", "GET/small", 0, 0);
    if (truncate(small, 100) != 0) {
        printf("# truncate failed\n");
    }
    char other[PATH_MAX];
    snprintf(other, sizeof(other), "%s/0000000001", dir); /* a temporary file's name */
    fclose(fopen(other, "w"));
    /* counted in 4 KiB blocks, as nginx counts them: 3 for the good file, 1 for the head */
    long long good_size = size_of(good), head_size = size_of(head);
    ok(good_size > 2 * 4096 && good_size < 3 * 4096 && head_size < 4096,
       "the files: %lld and %lld bytes", good_size, head_size);

    logged[0] = '\0';
    is_int(load_zone(z, channel, &log_, pool), 0, "the pass goes through");
    cache_node_t *n = node_of(z, "GET/good");
    ok(n && n->exists, "the good file is indexed");
    is_int(n ? (long long)n->fs_size : -1, 3 * 4096, "with its size in blocks");
    n = node_of(z, "HEAD/good");
    ok(n && n->exists, "the header-only answer to a HEAD is indexed");
    is_int(n ? (long long)n->fs_size : -1, 4096, "with its size in blocks");
    is_int((long long)totals(z)->fs_size, 4 * 4096, "the totals: the two files' blocks");
    is_int(totals(z)->uses, 0, "the zone is warm");
    ok(node_of(z, "GET/trunc") == NULL && size_of(trunc) < 0, "a truncated file: removed");
    ok(logged_line("crit", trunc, "is truncated"), "... logged as a lookup logs it");
    ok(node_of(z, "GET/wrong") == NULL && node_of(z, "GET/other") == NULL && size_of(wrong) < 0,
       "a file under another key's name: removed");
    ok(logged_line("crit", wrong, "has md5 collision"), "... logged as a lookup logs it");
    ok(node_of(z, "GET/v1") == NULL && size_of(v1) < 0, "a version 1 file: removed");
    ok(logged_line("info", v1, "version mismatch"), "... at info, nginx's words");
    ok(node_of(z, "GET/small") == NULL && size_of(small) < 0, "a file shorter than a header");
    ok(logged_line("crit", small, "is too small"), "... logged in nginx's words");
    ok(size_of(other) == 0, "another name is left alone");
    char line[PATH_MAX + 64];
    snprintf(line, sizeof(line), "#%d: http file cache: %s %.3fM, bsize: 4096", (int)getpid(), dir,
             (double)(4 * 4096) / 1048576);
    ok(logged_at("notice", line), "nginx's line with the files' size");

    /* the manager: over max_size, the least recently used go until the rest fit */
    z->max_size = 4 * 4096 - 1;
    is_int(manage_zone(z, &log_, pool), 0, "a manager's round");
    int kept_good = size_of(good) > 0, kept_head = size_of(head) > 0;
    is_int(kept_good + kept_head, 1, "one file evicted");
    is_int((long long)totals(z)->fs_size, kept_good ? 3 * 4096 : 4096, "the totals: the file kept");
    ok(kept_good ? node_of(z, "HEAD/good") == NULL : node_of(z, "GET/good") == NULL,
       "the evicted one left the index");
    clean();
}

/* loader_files files, or loader_threshold, per iteration; loader_sleep between */
static void test_pace(int channel)
{
    mg_http_cache_zone_t *z = new_zone();
    char key[32];
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof(key), "GET/%d", i);
        write_entry(z, key, key, 10, 0);
    }
    z->loader_files = 2;
    z->loader_sleep = 60;
    mg_msec_t start = mg_time_monotonic_ms();
    load_zone(z, channel, &log_, pool);
    mg_msec_t took = mg_time_monotonic_ms() - start;
    ok(took >= 3 * 60, "loader_files=2 over 6 files: 3 sleeps of 60 ms (%u ms)", (unsigned)took);
    z = new_zone();
    z->loader_files = 100;
    z->loader_threshold = 0;
    z->loader_sleep = 40;
    start = mg_time_monotonic_ms();
    load_zone(z, channel, &log_, pool);
    took = mg_time_monotonic_ms() - start;
    ok(took >= 6 * 40, "loader_threshold=0: a sleep after each file (%u ms)", (unsigned)took);
    clean();
}

/* many small files count their blocks: max_size=16k keeps 4 of 8 files of ~200 bytes (their
 * bytes, 1.6 KB, would keep them all) */
static void test_blocks(int channel)
{
    mg_http_cache_zone_t *z = new_zone();
    char key[32];
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof(key), "GET/%d", i);
        write_entry(z, key, key, 10, 0);
    }
    load_zone(z, channel, &log_, pool);
    is_int((long long)totals(z)->fs_size, 8 * 4096, "8 small files: 8 blocks");
    z->max_size = 16384;
    manage_zone(z, &log_, pool);
    int left = 0;
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof(key), "GET/%d", i);
        left += node_of(z, key) != NULL;
    }
    is_int(left, 4, "max_size=16k: 4 left");
    is_int((long long)totals(z)->fs_size, 16384, "... their 4 blocks");
    clean();
}

/* told to stop while it sleeps (the master's channel): the zone stays cold */
static void test_stop(int fds[2])
{
    mg_http_cache_zone_t *z = new_zone();
    char key[32];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "GET/%d", i);
        write_entry(z, key, key, 10, 0);
    }
    z->loader_files = 1;
    z->loader_sleep = 10000;
    if (write(fds[1], "q", 1) != 1) {
        printf("# write failed\n");
    }
    mg_msec_t start = mg_time_monotonic_ms();
    is_int(load_zone(z, fds[0], &log_, pool), 1, "told to stop: the pass says so");
    ok(mg_time_monotonic_ms() - start < 10000, "at its first sleep");
    is_int(totals(z)->uses, 1, "the zone stays cold (lookups look on disk)");
    clean();
}

int main(void)
{
    if (mkdtemp(dir) == NULL) {
        printf("1..0 # SKIP mkdtemp failed\n");
        return 0;
    }
    mg_time_update();
    pool = mg_pool_create(4096);
    int fds[2];
    if (pipe(fds) != 0) {
        printf("1..0 # SKIP pipe failed\n");
        return 0;
    }
    test_pass(fds[0]);
    test_pace(fds[0]);
    test_blocks(fds[0]);
    test_stop(fds);
    rmdir(dir);
    mg_pool_destroy(pool);
    return done_testing();
}
