/*
 * The allocator nghttp2 sessions use (nghttp2_mem). Every session allocates a 16 KiB outbound
 * frame buffer at its creation (no option sizes it) and writes into it only the frames it
 * serializes itself: SETTINGS, HEADERS, WINDOW_UPDATE, PING, GOAWAY, RST_STREAM, nearly always
 * within the first page (DATA goes through the send_data callback, v2_data.c). It also callocs
 * its stream map's table (nghttp2 1.52: 256 buckets of 16 bytes, kept for its life), which
 * holds only zeros while no stream is open.
 *
 * A client connection's session takes both from pages of its own: one mapping made with the
 * session (h2->pages), resident only as written. The frame buffer's pages and the table's,
 * once all zeros again, are given back (MADV_DONTNEED) when the connection waits with no frame
 * in it (v2.c's trim timer); they read as zeros after. From the heap instead, posix_memalign's
 * pieces around each aligned block were left in glibc's bins, not all reused (an idle h2c
 * connection 8.04 KiB with them, 7.20 without: t/bench/h2-idle.sh). What does not fit the mapping
 * (a grown map's table, a larger frame buffer), and every session without a connection, is the
 * heap's: a buffer of 16 KiB or more page-aligned and given back before nghttp2 writes to it, as
 * before the mapping.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "v2.h"

#define BIG (16 * 1024)
#define PAGE 4096
#define PAGES(n) (((n) + PAGE - 1) & ~(size_t)(PAGE - 1))
/* the mapping: the frame buffer (16,394 bytes: 5 pages) and the map's table (1 page) */
#define MAP_LEN (PAGES(BIG + 16) + PAGE)

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

static int in_map(const mg_http_v2_conn_t *h2, const void *p)
{
    return h2 && h2->pages && (const char *)p >= h2->pages && (const char *)p < h2->pages + MAP_LEN;
}

/* n bytes (whole pages) from the connection's mapping, or NULL when it has no room left */
static void *map_take(mg_http_v2_conn_t *h2, size_t n)
{
    if (h2 == NULL || h2->pages == NULL || PAGES(n) > MAP_LEN - h2->pages_used) {
        return NULL;
    }
    void *p = h2->pages + h2->pages_used;
    h2->pages_used += PAGES(n);
    return p;
}

/* the frame buffer: the first big block, noted for the trim */
static void *big_take(size_t n, mg_http_v2_conn_t *h2)
{
    void *p = h2 && h2->fbuf == NULL ? map_take(h2, n) : NULL;
    if (p == NULL) {
        p = big_alloc(n);
    }
    if (h2 && p && h2->fbuf == NULL && n <= UINT32_MAX) {
        h2->fbuf = p;
        h2->fbuf_len = (uint32_t)n;
    }
    return p;
}

static void forget(void *p, mg_http_v2_conn_t *h2)
{
    if (h2 && p && p == h2->fbuf) {
        h2->fbuf = NULL;
    }
    if (h2 && p && p == h2->ztab) {
        h2->ztab = NULL;
    }
}

/* A small block's class k holds blocks of at least 16k - 8 usable bytes (glibc's chunks: the
 * size and a word, rounded up to 16, at least 32): a size takes the class whose blocks hold it,
 * a freed block (malloc_usable_size) the largest class it holds; with another malloc than
 * glibc's a block may be larger than its class says, never smaller. Not under ASan
 * (MG_HTTP_V2_KEEP). */
static unsigned block_class(size_t n)
{
    return n <= 24 ? 2 : (unsigned)((n + 8 + 15) >> 4);
}

static void *v2_malloc(size_t n, void *data)
{
    mg_http_v2_conn_t *h2 = data;
    if (n >= BIG) {
        return big_take(n, h2);
    }
    if (MG_HTTP_V2_KEEP && h2 && n <= MG_SERVER_H2_BLOCK_MAX) {
        mg_server_t *srv = h2->server;
        unsigned k = block_class(n);
        void *b = srv->h2_blocks[k];
        if (b) {
            srv->h2_blocks[k] = *(void **)b;
            srv->h2_nblocks[k]--;
            return b;
        }
    }
    return malloc(n);
}

static void v2_free(void *p, void *data)
{
    mg_http_v2_conn_t *h2 = data;
    if (p == NULL) {
        return;
    }
    forget(p, h2);
    if (in_map(h2, p)) { /* the mapping's pages go with the connection (mem_conn_free) */
        return;
    }
    if (MG_HTTP_V2_KEEP && h2) {
        size_t u = malloc_usable_size(p);
        unsigned k = (unsigned)((u + 8) >> 4); /* the largest class it holds */
        if (u <= MG_SERVER_H2_BLOCK_MAX && k >= 2) {
            mg_server_t *srv = h2->server;
            if (srv->h2_nblocks[k] < MG_SERVER_H2_BLOCKS) {
                *(void **)p = srv->h2_blocks[k];
                srv->h2_blocks[k] = p;
                srv->h2_nblocks[k]++;
                return;
            }
        }
    }
    free(p);
}

/* a page or more (the stream map's table): pages of its own, cleared (not given back at once:
 * a connection writes the table with its first stream; the trim gives them back) */
static void *v2_calloc(size_t nmemb, size_t size, void *data)
{
    size_t n = nmemb * size;
    void *p;
    if (n < PAGE || (size && n / size != nmemb)) {
        return calloc(nmemb, size);
    }
    mg_http_v2_conn_t *h2 = data;
    p = map_take(h2, n); /* fresh pages: zeros */
    if (p == NULL) {
        if (posix_memalign(&p, PAGE, n) != 0) {
            return NULL;
        }
        memset(p, 0, n);
    }
    if (h2 && n <= UINT32_MAX) {
        h2->ztab = p; /* the newest: a grown map frees the old table after making this one */
        h2->ztab_len = (uint32_t)n;
    }
    return p;
}

/* nghttp2 makes its frame buffer with realloc(NULL, n) */
static void *v2_realloc(void *p, size_t n, void *data)
{
    mg_http_v2_conn_t *h2 = data;
    if (p == NULL && n >= BIG) {
        return big_take(n, h2);
    }
    if (in_map(h2, p)) { /* grown: to the heap, with what it held (its size was noted) */
        size_t had = p == h2->fbuf ? h2->fbuf_len : h2->ztab_len;
        had = mg_min(had, (size_t)(h2->pages + MAP_LEN - (char *)p)); /* in the mapping */
        void *q = malloc(n);
        if (q) {
            memcpy(q, p, mg_min(had, n));
            forget(p, h2);
        }
        return q;
    }
    forget(p, h2); /* moved or grown: no longer pages of its own */
    return realloc(p, n);
}

static nghttp2_mem v2_mem = {NULL, v2_malloc, v2_free, v2_calloc, v2_realloc};

void mg_http_v2_mem_conn(nghttp2_mem *mem, mg_http_v2_conn_t *h2)
{
    *mem = v2_mem;
    mem->mem_user_data = h2;
    /* under ASan the heap's: its checks see nghttp2's buffers */
    if (!MG_HAVE_ASAN) {
        void *p = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            h2->pages = p;
        }
    }
}

void mg_http_v2_mem_conn_free(mg_http_v2_conn_t *h2)
{
    if (h2->pages) {
        (void)munmap(h2->pages, MAP_LEN);
        h2->pages = NULL;
    }
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
    /* in the mapping its last page is its own too */
    size_t whole = in_map(h2, h2->fbuf) ? PAGES(h2->fbuf_len) : h2->fbuf_len & ~(size_t)(PAGE - 1);
    if (h2->fbuf && whole) {
        (void)madvise(h2->fbuf, whole, MADV_DONTNEED);
    }
    if (h2->ztab) {
        trim_zeros(h2->ztab, h2->ztab_len);
    }
}
