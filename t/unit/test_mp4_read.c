/*
 * Unit tests for how the mp4 rewriter (modules/mp4_parse.c) reads a file: mp4_buffer_size is
 * the read-ahead for the atom headers (a file of many small atoms costs a read per buffer,
 * not one per header), and the verdict and message do not depend on it, nor on reads that
 * come back short. Linked with libmoongate.a (make unit).
 */
#include <stdio.h>
#include <stdlib.h>

#include "mp4.h"

#include "tap.h"

typedef struct {
    const uint8_t *file;
    size_t size;
    size_t max_read; /* a read returns at most this much (0: all asked) */
    int reads;
} file_t;

static ssize_t read_mem(void *data, uint8_t *buf, size_t len, off_t offset)
{
    file_t *f = data;
    f->reads++;
    if ((size_t)offset >= f->size) {
        return 0;
    }
    size_t n = f->size - (size_t)offset < len ? f->size - (size_t)offset : len;
    if (f->max_read && n > f->max_read) {
        n = f->max_read;
    }
    memcpy(buf, f->file + offset, n);
    return (ssize_t)n;
}

static void atom(uint8_t *p, uint32_t size, const char *type)
{
    p[0] = (uint8_t)(size >> 24);
    p[1] = (uint8_t)(size >> 16);
    p[2] = (uint8_t)(size >> 8);
    p[3] = (uint8_t)size;
    memcpy(p + 4, type, 4);
}

static mg_int_t run(file_t *f, size_t buffer_size, char **error)
{
    mg_pool_t *pool = mg_pool_create(4096);
    f->reads = 0;
    mg_mp4_t m = {.read = read_mem,
                  .data = f,
                  .size = (off_t)f->size,
                  .path = "t.mp4",
                  .buffer_size = buffer_size,
                  .max_buffer_size = 1 << 20,
                  .start = 1000};
    mg_int_t rc = mg_mp4_rewrite(&m, pool);
    *error = strdup(m.error ? m.error : "");
    mg_pool_destroy(pool);
    return rc;
}

int main(void)
{
    /* 100 "free" atoms of 16 bytes, then an mdat of 8: no trak anywhere */
    enum { N = 100, SIZE = N * 16 + 8 };
    uint8_t *file = calloc(1, SIZE);
    for (int i = 0; i < N; i++) {
        atom(file + i * 16, 16, "free");
    }
    atom(file + N * 16, 8, "mdat");
    file_t f = {.file = file, .size = SIZE};

    char *e0, *e1, *e2, *e3;
    mg_int_t rc0 = run(&f, 0, &e0);
    int reads0 = f.reads;
    mg_int_t rc1 = run(&f, 512 * 1024, &e1);
    int reads1 = f.reads;
    mg_int_t rc2 = run(&f, 64, &e2);
    int reads2 = f.reads;
    f.max_read = 5; /* short reads: the same verdict */
    mg_int_t rc3 = run(&f, 64, &e3);
    f.max_read = 0;

    is_int(rc0, MG_ERROR, "no trak: an error");
    is_str(e0, "no mp4 trak atoms were found in \"t.mp4\"", "nginx's message");
    is_int(reads0, N + 1, "without read-ahead: a read per atom header");
    is_int(rc1, rc0, "mp4_buffer_size 512k: the same verdict");
    is_str(e1, e0, "and message");
    is_int(reads1, 1, "the whole file's headers in one read");
    is_int(rc2, rc0, "mp4_buffer_size 64: the same verdict");
    is_str(e2, e0, "and message");
    is_int(reads2, (SIZE + 63) / 64, "a read per 64 bytes");
    is_int(rc3, rc0, "short reads: the same verdict");
    is_str(e3, e0, "and message");

    /* the last atom claims more than the file has: truncated whatever the buffer */
    atom(file + N * 16, 64, "mdat");
    char *t0, *t1;
    run(&f, 0, &t0);
    run(&f, 4096, &t1);
    is_str(t1, t0, "an atom past the end: the same message with read-ahead");
    ok(strstr(t0, "too large") != NULL, "which says the atom is too large (%s)", t0);
    free(file);
    free(e0), free(e1), free(e2), free(e3), free(t0), free(t1);
    return done_testing();
}
