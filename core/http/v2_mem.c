/*
 * The allocator nghttp2 sessions use (nghttp2_mem). Every session allocates a 16 KiB outbound
 * frame buffer at its creation (no option sizes it) and writes into it only the frames it
 * serializes itself: SETTINGS, HEADERS, WINDOW_UPDATE, PING, GOAWAY, RST_STREAM, nearly always
 * within the first page (DATA goes through the send_data callback, v2_data.c). From the heap,
 * that buffer may be made of pages other allocations had written, all resident; so a buffer
 * of at least 16 KiB gets pages of its own, given back (MADV_DONTNEED) before nghttp2 has
 * written anything, and only the pages it then writes become resident; a client connection's
 * session notes it, so that its pages go back again once the connection waits with no frame
 * in it (v2.c's trim timer). The stream map's table (nghttp2 1.52: 256 buckets of 16 bytes,
 * calloc'ed with the session, kept for its life) is a calloc of whole pages: those get pages of
 * their own too, and a client connection's session notes the last one, whose pages go back with
 * the frame buffer's once the table is all zeros again (no stream in it: an idle connection's
 * 4 KiB; they read as zeros after).
 * Everything else is malloc's.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "v2.h"

#define BIG (16 * 1024)
#define PAGE 4096

static void *big_alloc(size_t n)
{
    void *p;
    if (posix_memalign(&p, PAGE, n) != 0) {
        return NULL; /* nghttp2 fails the call with NGHTTP2_ERR_NOMEM */
    }
    /* the whole pages inside: their bytes are undefined to the caller anyway */
    size_t whole = n & ~(size_t)(PAGE - 1);
    if (whole) {
        (void)madvise(p, whole, MADV_DONTNEED);
    }
    return p;
}

/* a connection's session (data: its h2) notes its frame buffer, the first big one */
static void *big_alloc_noted(size_t n, void *data)
{
    void *p = big_alloc(n);
    mg_http_v2_conn_t *h2 = data;
    if (h2 && p && h2->fbuf == NULL) {
        h2->fbuf = p;
        h2->fbuf_len = n;
    }
    return p;
}

static void forget(void *p, void *data)
{
    mg_http_v2_conn_t *h2 = data;
    if (h2 && p && p == h2->fbuf) {
        h2->fbuf = NULL;
    }
    if (h2 && p && p == h2->ztab) {
        h2->ztab = NULL;
    }
}

static void *v2_malloc(size_t n, void *data)
{
    return n >= BIG ? big_alloc_noted(n, data) : malloc(n);
}

static void v2_free(void *p, void *data)
{
    forget(p, data);
    free(p);
}

/* a page or more (the stream map's table): pages of its own, cleared here (not given back at
 * once: a connection writes the table with its first stream; the trim gives them back) */
static void *v2_calloc(size_t nmemb, size_t size, void *data)
{
    size_t n = nmemb * size;
    void *p;
    if (n < PAGE || (size && n / size != nmemb)) {
        return calloc(nmemb, size);
    }
    if (posix_memalign(&p, PAGE, n) != 0) {
        return NULL;
    }
    memset(p, 0, n);
    mg_http_v2_conn_t *h2 = data;
    if (h2) {
        h2->ztab = p; /* the newest: a grown map frees the old table after making this one */
        h2->ztab_len = n;
    }
    return p;
}

/* nghttp2 makes its frame buffer with realloc(NULL, n) */
static void *v2_realloc(void *p, size_t n, void *data)
{
    if (p == NULL && n >= BIG) {
        return big_alloc_noted(n, data);
    }
    forget(p, data); /* moved or grown: no longer pages of its own */
    return realloc(p, n);
}

static nghttp2_mem v2_mem = {NULL, v2_malloc, v2_free, v2_calloc, v2_realloc};

void mg_http_v2_mem_conn(nghttp2_mem *mem, mg_http_v2_conn_t *h2)
{
    *mem = v2_mem;
    mem->mem_user_data = h2;
}

/* the whole pages of p (PAGE-aligned) when they hold only zeros: given back, they read the same */
static void trim_zeros(void *p, size_t n)
{
    size_t whole = n & ~(size_t)(PAGE - 1);
    const uint64_t *w = p;
    for (size_t i = 0; i < whole / sizeof(*w); i++) {
        if (w[i]) {
            return;
        }
    }
    if (whole) {
        (void)madvise(p, whole, MADV_DONTNEED);
    }
}

void mg_http_v2_mem_trim(mg_http_v2_conn_t *h2)
{
    size_t whole = h2->fbuf_len & ~(size_t)(PAGE - 1);
    if (h2->fbuf && whole) {
        (void)madvise(h2->fbuf, whole, MADV_DONTNEED);
    }
    if (h2->ztab) {
        trim_zeros(h2->ztab, h2->ztab_len);
    }
}
