/*
 * What the mp4 handler (mp4.c) and its rewriter (mp4_parse.c) share. The rewriter reads an MP4
 * file's top-level atoms through a read callback, the moov atom whole, and makes the response
 * nginx's ngx_http_mp4_module makes for "start" and "end" (milliseconds): ftyp as it was, a new
 * moov whose tables keep the samples from start to end, and an mdat of the file's bytes
 * [data_start, data_end). It takes untrusted input (t/fuzz/fuzz_mp4.c).
 */
#ifndef MG_MP4_H
#define MG_MP4_H

#include "http.h"

typedef struct {
    /* reads len bytes at offset into buf: the count read (short at the end of the file), or -1
     * with errno set */
    ssize_t (*read)(void *data, uint8_t *buf, size_t len, off_t offset);
    void *data;
    off_t size;             /* the file's */
    const char *path;       /* for the messages */
    size_t buffer_size;     /* mp4_buffer_size: the atom headers are read ahead in pieces of
                               this size, as nginx reads the file's start (0: each alone) */
    size_t max_buffer_size; /* mp4_max_buffer_size: the moov atom's limit */
    int start_key_frame;    /* mp4_start_key_frame */
    uint64_t start, length; /* ms: start, and end - start (0: to the end) */
    /* out */
    mg_str_t ftyp, moov, mdat_header;
    off_t data_start, data_end;
    char *error;    /* the line to log when MG_ERROR is returned */
    int read_errno; /* the read callback failed (error is then "pread() ... failed") */
} mg_mp4_t;

/* MG_OK: the output above is set; MG_DECLINED: the file is sent as it is (start 0, no end and
 * moov before mdat); MG_ERROR: m->error says why (the response is a 500). */
mg_int_t mg_mp4_rewrite(mg_mp4_t *m, mg_pool_t *pool);

#endif
