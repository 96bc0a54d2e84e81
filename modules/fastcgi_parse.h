/*
 * The FastCGI record stream an application answers with (fastcgi_parse.c): records are
 * decoded in place as they arrive, in any pieces: FCGI_STDOUT's content is the response,
 * FCGI_STDERR's goes to a callback, FCGI_END_REQUEST ends it. Pure bytes in, bytes out, so
 * t/fuzz/fuzz_fastcgi.c drives it; modules/fastcgi.c builds the request records.
 */
#ifndef MG_MODULES_FASTCGI_PARSE_H
#define MG_MODULES_FASTCGI_PARSE_H

#include <stddef.h>

#define MG_FASTCGI_BEGIN_REQUEST 1
#define MG_FASTCGI_END_REQUEST 3
#define MG_FASTCGI_PARAMS 4
#define MG_FASTCGI_STDIN 5
#define MG_FASTCGI_STDOUT 6
#define MG_FASTCGI_STDERR 7

typedef struct {
    int state; /* 0: a header, 1: content, 2: padding, 3: done */
    unsigned char hdr[8];
    size_t hlen;
    int type;
    size_t left; /* content bytes of the record still to come */
    size_t pad;
    int bad;      /* on an error: what was wrong (the version or the type or the id) */
    int bad_what; /* 1: version, 2: record type, 3: request id */
    /* Optional (seg_max 0: off): for each piece of stdout content one call moves, its offset
     * in the output and in the input buffer, at most seg_max of them (nseg: how many; the
     * caller zeroes it) */
    size_t *seg_out, *seg_raw;
    size_t nseg, seg_max;
    size_t err_out; /* during the stderr callback: the stdout bytes this call output before */
} mg_fastcgi_parser_t;

/* stderr content as it comes (a record may come in several calls); nonzero stops the parse */
typedef int (*mg_fastcgi_stderr_pt)(void *data, const char *msg, size_t len);

/* Decode buf[0..*n): the stdout content is moved to the front and *n becomes its length.
 * Returns 0 (more to come), 1 (FCGI_END_REQUEST read whole: the bytes after it are not
 * looked at), -1 (a broken stream: p->bad_what and p->bad say why) or -2 (the callback
 * stopped it). */
int mg_fastcgi_parse(mg_fastcgi_parser_t *p, char *buf, size_t *n, mg_fastcgi_stderr_pt err,
                     void *data);

#endif
