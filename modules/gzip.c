/*
 * gzip: nginx's gzip filter. The header filter decides (status, type, length, the client's
 * Accept-Encoding and the gzip_* rules), sets Content-Encoding and drops the length; the body
 * filter streams the body through one zlib stream per request, reading file buffers in
 * pieces, so neither the input nor the output is ever held whole. When the socket is full it
 * keeps the rest of its input and sets r->buffered; the writer calls it again with no input
 * once the socket drains (core/http/write.c). Its output buffers are recycled (buf.h): the
 * writer sends them at once. postpone_gzipping and gzip_no_buffer, which nginx has but does
 * not document, move when output starts and when a part-filled buffer goes (see postpone()
 * and compress_pass()).
 */
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "crc32.h"
#include "filter_queue.h"
#include "gzip.h"
#include "gzip_wrap.h"
#include "variables.h"

#define GZIP_READ_SIZE 32768 /* one read of a file buffer */

enum {
    PROXIED_OFF = 0x02,
    PROXIED_EXPIRED = 0x04,
    PROXIED_NO_CACHE = 0x08,
    PROXIED_NO_STORE = 0x10,
    PROXIED_PRIVATE = 0x20,
    PROXIED_NO_LM = 0x40,
    PROXIED_NO_ETAG = 0x80,
    PROXIED_AUTH = 0x100,
    PROXIED_ANY = 0x200,
};

typedef struct {
    int enable;
    mg_int_t level;
    size_t wbits_size;   /* gzip_window, bytes */
    size_t hash_size;    /* gzip_hash, bytes */
    size_t min_length;
    mg_gzip_bufs_t bufs; /* gzip_buffers */
    mg_array_t *types;   /* mg_str_t, lowercase; NULL unset; "any" when "*" */
    int types_any;
    int vary;
    mg_int_t http_version; /* major * 1000 + minor */
    mg_uint_t proxied;     /* PROXIED_* bits; 0 unset */
    mg_array_t *disable;   /* mg_regex_t *; NULL unset */
    int disable_msie6;
    int no_buffer;   /* gzip_no_buffer */
    size_t postpone; /* postpone_gzipping */
} gzip_conf_t;

/* Per request: the negotiation's answer (also for gzip_static) and the stream. */
/* A deflate stream with its file read buffer, kept between requests (see zstream_get). */
typedef struct zstream_s {
    z_stream zs; /* zlib's state points back here: the struct must not move */
    int level, wbits, memlevel;
    struct zstream_s *next;
    char rbuf[GZIP_READ_SIZE];
} zstream_t;

typedef struct {
    zstream_t *z;
    mg_buf_t *in;        /* input not yet compressed */
    mg_buf_t **in_tail;
    mg_buf_t *obuf;      /* output buffer being filled */
    mg_buf_t **bufs;     /* gzip_buffers: created as needed, reused once written */
    char **mem;          /* their memory */
    mg_int_t nbufs;
    size_t bufsize;
    int wbits, memlevel;
    unsigned tested : 1;
    unsigned ok : 1;
    unsigned active : 1;
    unsigned done : 1;
    unsigned postponing : 1; /* postpone_gzipping: input is copied and kept, zlib not started */
    unsigned trailing : 1;   /* deflate is done: the trailer in wrap is the last to write */
    /* the gzip header, then the trailer (the shorter), as far as not yet written */
    unsigned char wrap[MG_GZIP_HEAD_LEN];
    unsigned char wrap_pos, wrap_len;
    uint32_t crc;       /* CRC-32 of the input given to zlib so far */
    size_t held;        /* input bytes seen while postponing */
    uint64_t zin, zout; /* bytes into and out of the finished stream, for $gzip_ratio */
} gzip_ctx_t;

mg_module_t mg_gzip_module;
static mg_int_t next_header_filter(mg_request_t *r)
{
    return mg_http_next_header_filter(r, &mg_gzip_module);
}

static mg_int_t next_body_filter(mg_request_t *r, mg_buf_t *in)
{
    return mg_http_next_body_filter(r, &mg_gzip_module, in);
}

static gzip_ctx_t *get_ctx(mg_request_t *r)
{
    gzip_ctx_t *ctx = mg_http_get_ctx(r, mg_gzip_module);
    if (ctx == NULL) {
        ctx = mg_pcalloc(r->pool, sizeof(gzip_ctx_t));
        mg_http_set_ctx(r, ctx, mg_gzip_module);
    }
    return ctx;
}

/* ---- negotiation ---- */

/* nginx's q-value reading: 0 means "not acceptable". */
static unsigned quantity(const char *p, const char *last)
{
    char c = *p++;
    if (c != '0' && c != '1') {
        return 0;
    }
    unsigned q = (unsigned)(c - '0') * 100;
    if (p == last) {
        return q;
    }
    c = *p++;
    if (c == ',' || c == ' ') {
        return q;
    }
    if (c != '.') {
        return 0;
    }
    unsigned n = 0;
    while (p < last) {
        c = *p++;
        if (c == ',' || c == ' ') {
            break;
        }
        if (c < '0' || c > '9') {
            return 0;
        }
        q += (unsigned)(c - '0');
        n++;
    }
    return q > 100 || n > 3 ? 0 : q;
}

/* "gzip" as a token (any case) not refused with q=0. Like nginx, "*" and "identity" do not
 * count: only the word gzip enables compression. */
static int accepts_gzip(mg_str_t ae)
{
    const char *start = ae.data, *last = ae.data + ae.len, *p;
    for (;;) {
        p = mg_strlcasestrn(start, last, "gzip", 4);
        if (p == NULL) {
            return 0;
        }
        if (p == ae.data || p[-1] == ',' || p[-1] == ' ') {
            break;
        }
        start = p + 4;
    }
    p += 4;
    while (p < last) {
        switch (*p++) {
        case ',':
            return 1;
        case ';':
            goto quality;
        case ' ':
            continue;
        default:
            return 0;
        }
    }
    return 1;
quality:
    while (p < last) {
        switch (*p++) {
        case 'q':
        case 'Q':
            if (p + 2 > last || *p++ != '=') {
                return 0;
            }
            return quantity(p, last) != 0;
        case ' ':
            continue;
        default:
            return 0;
        }
    }
    return 1;
}

/* MSIE 4.x-6.x but 6.0 SV1, not Opera: the "msie6" mask of gzip_disable. */
static int is_msie6(mg_str_t ua)
{
    const char *end = ua.data + ua.len;
    const char *m = memmem(ua.data, ua.len, "MSIE ", 5);
    int msie6 = 0;
    if (m && m + 7 < end && m[6] == '.') {
        if (m[5] == '4' || m[5] == '5') {
            msie6 = 1;
        } else if (m[5] == '6') {
            msie6 = memmem(m + 8, (size_t)(end - (m + 8)), "SV1", 3) == NULL;
        }
    }
    return msie6 && memmem(ua.data, ua.len, "Opera", 5) == NULL;
}

/* A Cache-Control line holding the directive (as a word). */
static int cache_control_has(mg_request_t *r, const char *word)
{
    size_t n = strlen(word);
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (!h[i].hash || !mg_str_caseeq(h[i].key, "Cache-Control")) {
            continue;
        }
        const char *v = h[i].value.data, *end = v + h[i].value.len, *p = v;
        while ((p = mg_strlcasestrn(p, end, word, n)) != NULL) {
            if ((p == v || p[-1] == ',' || p[-1] == ' ') &&
                (p + n == end || p[n] == ',' || p[n] == ' ' || p[n] == '=')) {
                return 1;
            }
            p += n;
        }
    }
    return 0;
}

/* gzip_proxied for a request that came through a proxy (it has Via). */
static int proxied_ok(mg_request_t *r, mg_uint_t p)
{
    if (p & PROXIED_OFF) {
        return 0;
    }
    if (p & PROXIED_ANY) {
        return 1;
    }
    if ((p & PROXIED_AUTH) && mg_http_find_header_in(r, "authorization", 13)) {
        return 1;
    }
    mg_table_elt_t *e = mg_http_find_header_out(r, "Expires", 7);
    if (e) {
        if (!(p & PROXIED_EXPIRED)) {
            return 0;
        }
        time_t expires = mg_time_parse_http(e->value.data, e->value.len);
        return expires != -1 && expires < mg_now.sec;
    }
    if (mg_http_find_header_out(r, "Cache-Control", 13)) {
        return ((p & PROXIED_NO_CACHE) && cache_control_has(r, "no-cache")) ||
               ((p & PROXIED_NO_STORE) && cache_control_has(r, "no-store")) ||
               ((p & PROXIED_PRIVATE) && cache_control_has(r, "private"));
    }
    /* as nginx, only a Last-Modified header line counts here, not a file's date */
    if ((p & PROXIED_NO_LM) && mg_http_find_header_out(r, "Last-Modified", 13)) {
        return 0;
    }
    if ((p & PROXIED_NO_ETAG) && r->headers_out.etag && r->headers_out.etag->hash) {
        return 0;
    }
    return 1;
}

static int gzip_test(mg_request_t *r)
{
    mg_table_elt_t *ae = r->headers_in.accept_encoding;
    if (ae == NULL || ae->value.len < 4) {
        return 0;
    }
    /* "gzip," first is the common case */
    if ((ae->value.len < 5 || memcmp(ae->value.data, "gzip,", 5) != 0) && !accepts_gzip(ae->value)) {
        return 0;
    }
    gzip_conf_t *conf = mg_http_get_loc_conf(r, mg_gzip_module);
    if (conf->disable_msie6 && r->headers_in.user_agent && is_msie6(r->headers_in.user_agent->value)) {
        return 0;
    }
    if (r->http_major * 1000 + r->http_minor < conf->http_version) {
        return 0;
    }
    if (mg_http_find_header_in(r, "via", 3) && !proxied_ok(r, conf->proxied)) {
        return 0;
    }
    if (conf->disable && r->headers_in.user_agent) {
        mg_str_t ua = r->headers_in.user_agent->value;
        mg_regex_t **re = conf->disable->elts;
        for (size_t i = 0; i < conf->disable->nelts; i++) {
            int ovec[3 * 2];
            if (mg_regex_exec(re[i], ua.data, ua.len, ovec, 6) != MG_DECLINED) {
                return 0;
            }
        }
    }
    return 1;
}

mg_int_t mg_http_gzip_ok(mg_request_t *r)
{
    gzip_ctx_t *ctx = get_ctx(r);
    if (!ctx->tested) {
        ctx->tested = 1;
        ctx->ok = gzip_test(r);
    }
    return ctx->ok ? MG_OK : MG_DECLINED;
}

void mg_http_gzip_vary(mg_request_t *r)
{
    gzip_conf_t *conf = mg_http_get_loc_conf(r, mg_gzip_module);
    if (conf->vary) {
        r->gzip_vary = 1;
    }
}

/* ---- header filter ---- */

static int type_matches(mg_request_t *r, gzip_conf_t *conf)
{
    if (conf->types_any) {
        return 1;
    }
    mg_str_t ct = r->headers_out.content_type;
    size_t len = 0;
    while (len < ct.len && ct.data[len] != ';' && ct.data[len] != ' ') {
        len++;
    }
    if (len == 0) {
        return 0;
    }
    mg_str_t *t = conf->types->elts;
    for (size_t i = 0; i < conf->types->nelts; i++) {
        if (t[i].len == len && mg_strncasecmp(t[i].data, ct.data, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The ETag of the identity body is only a weak validator of the gzip'ed one. */
static void weak_etag(mg_request_t *r)
{
    mg_table_elt_t *etag = r->headers_out.etag;
    if (etag == NULL || !etag->hash) {
        return;
    }
    if (etag->value.len > 2 && etag->value.data[0] == 'W' && etag->value.data[1] == '/') {
        return;
    }
    if (etag->value.len < 1 || etag->value.data[0] != '"') {
        etag->hash = 0;
        r->headers_out.etag = NULL;
        return;
    }
    char *p = mg_pnalloc(r->pool, etag->value.len + 2);
    p[0] = 'W';
    p[1] = '/';
    memcpy(p + 2, etag->value.data, etag->value.len);
    etag->value.data = p;
    etag->value.len += 2;
}

/* zlib's state for a 32K window is about 260 KB. Made and freed per request, it had malloc
 * grow and trim the heap and fault the pages in again each time; a few reset streams are kept
 * per process instead (process state like the clock: each process starts with none), the
 * latest first, the oldest dropped. Only a stream of the window and hash asked for is reused:
 * a larger one served a 1 KiB response with 136,000 instructions where its own size takes
 * 75,000 and nginx 77,000 (t/bench/gzip-instr.sh: its reset and window work scale with it). */
#define ZCACHE_MAX 4
static MG_THREAD_LOCAL zstream_t *zcache; /* per thread: servers may run on threads */
static MG_THREAD_LOCAL int zcache_n;

static zstream_t *zstream_get(int level, int wbits, int memlevel)
{
    for (zstream_t **pz = &zcache; *pz; pz = &(*pz)->next) {
        zstream_t *z = *pz;
        if (z->wbits == wbits && z->memlevel == memlevel) {
            *pz = z->next;
            zcache_n--;
            if (z->level != level && deflateParams(&z->zs, level, Z_DEFAULT_STRATEGY) == Z_OK) {
                z->level = level;
            }
            if (z->level == level) {
                /* an aborted response may have left input behind */
                z->zs.next_in = NULL;
                z->zs.avail_in = 0;
                z->zs.avail_out = 0;
                return z;
            }
            deflateEnd(&z->zs);
            free(z);
            break;
        }
    }
    zstream_t *z = mg_alloc(sizeof(zstream_t));
    memset(&z->zs, 0, sizeof(z->zs));
    /* raw deflate (negative window bits): the filter writes the gzip header and trailer
     * itself (as nginx), so the CRC-32 is its own mg_crc32, folded with PCLMULQDQ where the
     * CPU has it: zlib's table code was 15% of a 200 KiB response's instructions */
    if (deflateInit2(&z->zs, level, Z_DEFLATED, -wbits, memlevel, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        return NULL;
    }
    z->level = level;
    z->wbits = wbits;
    z->memlevel = memlevel;
    return z;
}

static void stream_free(void *data)
{
    gzip_ctx_t *ctx = data;
    zstream_t *z = ctx->z;
    if (z == NULL) {
        return;
    }
    ctx->z = NULL;
    if (deflateReset(&z->zs) != Z_OK) {
        deflateEnd(&z->zs);
        free(z);
        return;
    }
    z->next = zcache;
    zcache = z;
    if (++zcache_n > ZCACHE_MAX) {
        /* the oldest goes: a size no longer asked for does not hold a place */
        zstream_t **pz = &zcache;
        while ((*pz)->next) {
            pz = &(*pz)->next;
        }
        deflateEnd(&(*pz)->zs);
        free(*pz);
        *pz = NULL;
        zcache_n--;
    }
}

static mg_int_t gzip_header_filter(mg_request_t *r)
{
    gzip_conf_t *conf = mg_http_get_loc_conf(r, mg_gzip_module);
    mg_http_headers_out_t *ho = &r->headers_out;
    if (!conf->enable || r->parent ||
        (ho->status != MG_HTTP_OK && ho->status != MG_HTTP_FORBIDDEN &&
         ho->status != MG_HTTP_NOT_FOUND) ||
        (ho->content_encoding && ho->content_encoding->hash && ho->content_encoding->value.len) ||
        (ho->content_length_n != -1 && ho->content_length_n < (int64_t)conf->min_length) ||
        !type_matches(r, conf) || r->header_only) {
        return next_header_filter(r);
    }
    mg_http_gzip_vary(r);
    if (mg_http_gzip_ok(r) != MG_OK) {
        return next_header_filter(r);
    }
    gzip_ctx_t *ctx = get_ctx(r);
    ctx->active = 1;
    ctx->postponing = conf->postpone != 0;
    ctx->in_tail = &ctx->in;
    ctx->bufsize = conf->bufs.size;
    ctx->nbufs = conf->bufs.num;
    /* a small body needs a small window and hash: less memory per request, as nginx */
    int wbits = 8, memlevel = 0;
    while ((size_t)1 << (wbits + 1) <= conf->wbits_size) {
        wbits++;
    }
    while ((size_t)1 << (memlevel + 9) <= conf->hash_size) {
        memlevel++;
    }
    if (ho->content_length_n > 0) {
        while (wbits > 9 && ho->content_length_n < ((int64_t)1 << (wbits - 1)) - 262) {
            wbits--;
            memlevel--;
        }
        if (memlevel < 1) {
            memlevel = 1;
        }
    }
    ctx->wbits = wbits;
    ctx->memlevel = memlevel;

    ho->content_encoding = mg_http_add_header_out(r, "Content-Encoding", 16, "gzip", 4);
    mg_http_clear_content_length(r);
    mg_http_clear_accept_ranges(r); /* an upstream's Accept-Ranges too, as nginx */
    weak_etag(r);
    return next_header_filter(r);
}

/* ---- body filter ---- */

static mg_int_t zerror(mg_request_t *r, const char *fn, int rc)
{
    mg_log_error(MG_LOG_ALERT, &r->connection->log, 0, "%s() failed: %d", fn, rc);
    return MG_ERROR;
}

/* An output buffer for zlib: a new one up to gzip_buffers' number, else one the writer has
 * emptied (pos == last). MG_AGAIN when all are still queued for the socket. */
static mg_int_t get_obuf(mg_request_t *r, gzip_ctx_t *ctx)
{
    for (mg_int_t i = 0; i < ctx->nbufs; i++) {
        mg_buf_t *b = ctx->bufs[i];
        if (b == NULL) {
            b = ctx->bufs[i] = mg_buf_mem(r->pool, NULL, 0);
            ctx->mem[i] = mg_pnalloc(r->pool, ctx->bufsize);
        } else if (b->pos != b->last) {
            continue;
        }
        b->pos = b->last = ctx->mem[i];
        b->flush = b->last_buf = 0;
        b->next = NULL;
        ctx->obuf = b;
        ctx->z->zs.next_out = (Bytef *)b->pos;
        ctx->z->zs.avail_out = (uInt)ctx->bufsize;
        return MG_OK;
    }
    return MG_AGAIN;
}

static void put_obuf(gzip_ctx_t *ctx, mg_buf_t ***tail)
{
    mg_buf_t *b = ctx->obuf;
    b->last = (char *)ctx->z->zs.next_out;
    b->recycled = 1; /* reused once written: the writer must not hold it for postpone_output */
    ctx->obuf = NULL;
    **tail = b;
    *tail = &b->next;
}

/* The gzip wrapper around zlib's raw deflate (core/gzip_wrap.c): ctx->wrap holds what is
 * still to be written of the header or the trailer; an output buffer of any size takes it in
 * as many pieces as needed. */
static void wrap_header(gzip_ctx_t *ctx, int level)
{
    mg_gzip_head(ctx->wrap, level);
    ctx->wrap_pos = 0;
    ctx->wrap_len = MG_GZIP_HEAD_LEN;
    ctx->crc = 0;
}

static void wrap_trailer(gzip_ctx_t *ctx)
{
    mg_gzip_trailer(ctx->wrap, ctx->crc, (uint32_t)ctx->z->zs.total_in);
    ctx->wrap_pos = 0;
    ctx->wrap_len = MG_GZIP_TRAILER_LEN;
    ctx->trailing = 1;
}

static void wrap_write(gzip_ctx_t *ctx)
{
    z_stream *zs = &ctx->z->zs;
    unsigned n = mg_min((unsigned)(ctx->wrap_len - ctx->wrap_pos), zs->avail_out);
    memcpy(zs->next_out, ctx->wrap + ctx->wrap_pos, n);
    zs->next_out += n;
    zs->avail_out -= n;
    ctx->wrap_pos += n;
    if (ctx->wrap_pos == ctx->wrap_len) {
        ctx->wrap_len = ctx->wrap_pos = 0;
    }
}

/* Input handed to zlib: its CRC goes into the trailer. */
static void deflate_feed(gzip_ctx_t *ctx, char *p, size_t n)
{
    ctx->z->zs.next_in = (Bytef *)p;
    ctx->z->zs.avail_in = (uInt)n;
    ctx->crc = mg_crc32(ctx->crc, p, n);
}

/* Compress what zs holds with the given flush mode, appending full (and, when flushing or
 * finishing, the last partial) output buffers to *tail. MG_AGAIN: out of buffers, zs keeps
 * the rest of its input (and ctx->wrap the rest of the header or trailer). */
static mg_int_t deflate_input(mg_request_t *r, gzip_ctx_t *ctx, int mode, mg_buf_t ***tail)
{
    for (;;) {
        if (ctx->obuf == NULL && get_obuf(r, ctx) != MG_OK) {
            return MG_AGAIN;
        }
        if (ctx->wrap_len) {
            wrap_write(ctx);
        }
        if (ctx->trailing && ctx->wrap_len == 0) {
            ctx->zin = ctx->z->zs.total_in;
            ctx->zout = ctx->z->zs.total_out + 18; /* with the header and trailer */
            ctx->obuf->last_buf = 1;
            put_obuf(ctx, tail);
            ctx->done = 1;
            stream_free(ctx); /* the memory is not needed for the rest of the write */
            return MG_OK;
        }
        if (ctx->z->zs.avail_out == 0) {
            put_obuf(ctx, tail);
            continue;
        }
        int rc = deflate(&ctx->z->zs, mode);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            return zerror(r, "deflate", rc);
        }
        if (rc == Z_STREAM_END) {
            wrap_trailer(ctx);
            continue;
        }
        if (ctx->z->zs.avail_out == 0) {
            put_obuf(ctx, tail);
            continue;
        }
        if (ctx->z->zs.avail_in == 0) {
            /* all taken; a flush also emptied zlib since there is room left */
            /* an empty buffer is never queued: get_obuf would take it for a written one */
            if (mode == Z_SYNC_FLUSH && (char *)ctx->z->zs.next_out != ctx->obuf->pos) {
                ctx->obuf->flush = 1;
                put_obuf(ctx, tail);
            }
            return MG_OK;
        }
    }
}

/* One read of a file buffer's next bytes (at most want), which it then no longer holds. */
static ssize_t read_file(mg_request_t *r, mg_buf_t *b, char *p, size_t want)
{
    ssize_t n = pread(b->fd, p, want, b->file_pos);
    if (n <= 0) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, n < 0 ? errno : 0,
                     n < 0 ? "pread() failed" : "pread() read only 0 of %zu", want);
        return -1;
    }
    b->file_pos += n;
    return n;
}

/* Feed the input chain to zlib until it is used up (MG_OK) or no output buffer is free
 * (MG_AGAIN). File buffers are read in pieces into one buffer, reused. */
static mg_int_t compress_pass(mg_request_t *r, gzip_ctx_t *ctx, mg_buf_t **out)
{
    gzip_conf_t *conf = mg_http_get_loc_conf(r, mg_gzip_module);
    int no_buffer = conf->no_buffer;
    mg_buf_t **tail = out;
    mg_int_t rc = MG_OK;
    while (ctx->in && !ctx->done) {
        mg_buf_t *b = ctx->in;
        if (ctx->z->zs.avail_in == 0) {
            if (b->in_file && b->file_pos < b->file_last) {
                size_t want = (size_t)(b->file_last - b->file_pos);
                ssize_t n = read_file(r, b, ctx->z->rbuf, mg_min(want, GZIP_READ_SIZE));
                if (n < 0) {
                    rc = MG_ERROR;
                    break;
                }
                deflate_feed(ctx, ctx->z->rbuf, (size_t)n);
            } else if (!b->in_file && b->pos < b->last) {
                deflate_feed(ctx, b->pos, (size_t)(b->last - b->pos));
                b->pos = b->last;
            }
        }
        int used = mg_buf_size(b) == 0;
        int mode = used && b->last_buf ? Z_FINISH : used && b->flush ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        rc = deflate_input(r, ctx, mode, &tail);
        if (rc != MG_OK) {
            break;
        }
        if (used) {
            ctx->in = b->next;
            if (ctx->in == NULL) {
                ctx->in_tail = &ctx->in;
                if (mode == Z_NO_FLUSH && ctx->obuf && no_buffer &&
                    (char *)ctx->z->zs.next_out != ctx->obuf->pos) {
                    /* gzip_no_buffer: what zlib gave so far goes now, not once the buffer is
                     * full; zlib is not flushed, so it keeps what it has not given */
                    put_obuf(ctx, &tail);
                }
            }
        }
    }
    *tail = NULL;
    return rc;
}

/* A copy of a buffer's bytes (read when it is a file's) in the request's pool. */
static mg_buf_t *copy_buf(mg_request_t *r, mg_buf_t *b, size_t size)
{
    char *p = mg_pnalloc(r->pool, size);
    if (!b->in_file) {
        memcpy(p, b->pos, size);
        b->pos = b->last;
        return mg_buf_mem(r->pool, p, size);
    }
    for (size_t got = 0; got < size;) {
        ssize_t n = read_file(r, b, p + got, size - got);
        if (n < 0) {
            return NULL;
        }
        got += (size_t)n;
    }
    return mg_buf_mem(r->pool, p, size);
}

/* postpone_gzipping, as nginx: the response's first bytes are copied (the producer may reuse
 * its memory) and kept, zlib not even set up, until more than that many came, a flush or the
 * end. A short response is then compressed in one go with no early partial output; the
 * buffer that goes past the limit and all after it are queued as they are. MG_OK: all kept;
 * MG_DONE: postponing is over, everything is in ctx->in; MG_ERROR. */
static mg_int_t postpone(mg_request_t *r, gzip_ctx_t *ctx, size_t limit, mg_buf_t *in)
{
    for (mg_buf_t *b = in, *next; b; b = next) {
        next = b->next;
        size_t size = mg_buf_size(b);
        ctx->held += size;
        if (b->flush || b->last_buf || ctx->held > limit) {
            ctx->postponing = 0;
            *ctx->in_tail = b;
            for (; b; b = b->next) {
                ctx->in_tail = &b->next;
            }
            return MG_DONE;
        }
        if (size == 0) {
            continue; /* nothing to keep */
        }
        mg_buf_t *q = copy_buf(r, b, size);
        if (q == NULL) {
            return MG_ERROR;
        }
        *ctx->in_tail = q;
        ctx->in_tail = &q->next;
    }
    return MG_OK;
}

static mg_int_t gzip_body_filter(mg_request_t *r, mg_buf_t *in)
{
    gzip_ctx_t *ctx = mg_http_get_ctx(r, mg_gzip_module);
    if (ctx == NULL || !ctx->active || ctx->done || r->header_only) {
        return next_body_filter(r, in);
    }
    gzip_conf_t *conf = mg_http_get_loc_conf(r, mg_gzip_module);
    if (ctx->postponing) {
        /* a call without input ends the wait too, as in nginx */
        mg_int_t rc = in ? postpone(r, ctx, conf->postpone, in) : MG_DONE;
        if (rc != MG_DONE) {
            return rc;
        }
        ctx->postponing = 0;
        in = NULL;
    }
    if (ctx->z == NULL) {
        ctx->z = zstream_get((int)conf->level, ctx->wbits, ctx->memlevel);
        if (ctx->z == NULL) {
            return zerror(r, "deflateInit2", Z_MEM_ERROR);
        }
        mg_pool_cleanup_add(r->pool, stream_free, ctx);
        wrap_header(ctx, (int)conf->level);
        ctx->bufs = mg_pcalloc(r->pool, (size_t)ctx->nbufs * sizeof(mg_buf_t *));
        ctx->mem = mg_pcalloc(r->pool, (size_t)ctx->nbufs * sizeof(char *));
    }
    mg_filter_queue_append(&ctx->in_tail, in);
    for (;;) {
        mg_buf_t *out = NULL;
        mg_int_t pass = compress_pass(r, ctx, &out);
        if (pass == MG_ERROR) {
            return MG_ERROR;
        }
        mg_int_t rc = next_body_filter(r, out);
        if (rc == MG_ERROR || (pass == MG_OK && (ctx->in == NULL || ctx->done))) {
            r->buffered = 0;
            return rc;
        }
        if (rc == MG_AGAIN) {
            /* the socket is full: keep the rest until the writer drains (write.c) */
            r->buffered = 1;
            return MG_AGAIN;
        }
        if (out == NULL && pass == MG_AGAIN) {
            /* every buffer queued yet the writer says all is out: do not spin */
            mg_log_error(MG_LOG_ALERT, &r->connection->log, 0, "gzip: no free output buffer");
            return MG_ERROR;
        }
    }
}

/* ---- configuration ---- */

const char *mg_gzip_bufs_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_gzip_bufs_t *b = (mg_gzip_bufs_t *)((char *)conf + cmd->offset);
    if (b->num) {
        return "is duplicate";
    }
    return mg_conf_parse_bufs(cf, &b->num, &b->size);
}

void mg_gzip_bufs_merge(mg_gzip_bufs_t *conf, const mg_gzip_bufs_t *prev)
{
    if (conf->num == 0) {
        conf->num = prev->num ? prev->num : 32;
        conf->size = prev->num ? prev->size : 4096;
    }
}

static void *gzip_create_conf(mg_conf_t *cf)
{
    gzip_conf_t *conf = mg_pcalloc(cf->pool, sizeof(gzip_conf_t));
    conf->enable = MG_CONF_UNSET;
    conf->level = MG_CONF_UNSET;
    conf->wbits_size = MG_CONF_UNSET_SIZE;
    conf->hash_size = MG_CONF_UNSET_SIZE;
    conf->min_length = MG_CONF_UNSET_SIZE;
    conf->vary = MG_CONF_UNSET;
    conf->http_version = MG_CONF_UNSET;
    conf->disable_msie6 = MG_CONF_UNSET;
    conf->no_buffer = MG_CONF_UNSET;
    conf->postpone = MG_CONF_UNSET_SIZE;
    return conf;
}

static const char *gzip_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    gzip_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->enable, prev->enable, 0);
    mg_conf_merge(conf->level, prev->level, 1);
    mg_conf_merge_size(conf->wbits_size, prev->wbits_size, 32768);
    mg_conf_merge_size(conf->hash_size, prev->hash_size, 65536); /* memLevel 8 */
    mg_conf_merge_size(conf->min_length, prev->min_length, 20);
    mg_conf_merge(conf->vary, prev->vary, 0);
    mg_conf_merge(conf->http_version, prev->http_version, 1001);
    mg_conf_merge(conf->disable_msie6, prev->disable_msie6, 0);
    mg_conf_merge(conf->no_buffer, prev->no_buffer, 0);
    mg_conf_merge_size(conf->postpone, prev->postpone, 0);
    mg_gzip_bufs_merge(&conf->bufs, &prev->bufs);
    if (conf->proxied == 0) {
        conf->proxied = prev->proxied ? prev->proxied : PROXIED_OFF;
    }
    if (conf->disable == NULL) {
        conf->disable = prev->disable;
    }
    if (conf->types == NULL && !conf->types_any) {
        conf->types = prev->types;
        conf->types_any = prev->types_any;
        if (conf->types == NULL && !conf->types_any) {
            conf->types = mg_array_create(cf->pool, 1, sizeof(mg_str_t));
            mg_str_t *t = mg_array_push(conf->types);
            mg_str_set(t, "text/html");
        }
    }
    return MG_CONF_OK;
}

static const char *gzip_set_level(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const char *rv = mg_conf_set_num(cf, cmd, conf);
    if (rv != MG_CONF_OK) {
        return rv;
    }
    mg_int_t v = ((gzip_conf_t *)conf)->level;
    if (v < 1 || v > 9) {
        mg_conf_error(cf, 0, "value must be between 1 and 9");
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

/* gzip_window (512..32k) and gzip_hash (512..128k): a power of two in a range. */
static const char *gzip_set_pow2(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const char *rv = mg_conf_set_size(cf, cmd, conf);
    if (rv != MG_CONF_OK) {
        return rv;
    }
    size_t v = *(size_t *)((char *)conf + cmd->offset);
    size_t max = (size_t)(uintptr_t)cmd->post;
    for (size_t s = 512; s <= max; s <<= 1) {
        if (v == s) {
            return MG_CONF_OK;
        }
    }
    return max == 32768 ? "must be 512, 1k, 2k, 4k, 8k, 16k, or 32k"
                        : "must be 512, 1k, 2k, 4k, 8k, 16k, 32k, 64k, or 128k";
}

static const char *gzip_set_types(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    gzip_conf_t *gc = conf;
    if (gc->types_any) {
        return MG_CONF_OK;
    }
    if (gc->types == NULL) {
        gc->types = mg_array_create(cf->pool, 4, sizeof(mg_str_t));
        mg_str_t *t = mg_array_push(gc->types);
        mg_str_set(t, "text/html"); /* always compressed */
    }
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t v = cf->args[i];
        if (v.len == 1 && v.data[0] == '*') {
            gc->types_any = 1;
            gc->types = NULL;
            return MG_CONF_OK;
        }
        mg_strlow(v.data, v.data, v.len);
        mg_str_t *t = gc->types->elts;
        size_t k;
        for (k = 0; k < gc->types->nelts && !mg_str_eq_str(t[k], v); k++) {
        }
        if (k < gc->types->nelts) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate MIME type \"%s\"", v.data);
            continue;
        }
        *(mg_str_t *)mg_array_push(gc->types) = v;
    }
    return MG_CONF_OK;
}

static const char *gzip_set_proxied(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    static const mg_conf_enum_t masks[] = {
        { "off", PROXIED_OFF },         { "expired", PROXIED_EXPIRED },
        { "no-cache", PROXIED_NO_CACHE }, { "no-store", PROXIED_NO_STORE },
        { "private", PROXIED_PRIVATE },   { "no_last_modified", PROXIED_NO_LM },
        { "no_etag", PROXIED_NO_ETAG },   { "auth", PROXIED_AUTH },
        { "any", PROXIED_ANY },           { NULL, 0 },
    };
    gzip_conf_t *gc = conf;
    gc->proxied |= 1; /* set, even before the first value (nginx's bitmask "set" bit) */
    for (size_t i = 1; i < cf->nargs; i++) {
        const mg_conf_enum_t *m;
        for (m = masks; m->name && !mg_str_caseeq(cf->args[i], m->name); m++) {
        }
        if (m->name == NULL) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", cf->args[i].data);
            return MG_CONF_ERROR;
        }
        if (gc->proxied & (mg_uint_t)m->value) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate value \"%s\"", cf->args[i].data);
        }
        gc->proxied |= (mg_uint_t)m->value;
    }
    return MG_CONF_OK;
}

static const char *gzip_set_disable(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    gzip_conf_t *gc = conf;
    if (gc->disable == NULL) {
        gc->disable = mg_array_create(cf->pool, 2, sizeof(mg_regex_t *));
    }
    for (size_t i = 1; i < cf->nargs; i++) {
        if (mg_str_eq(cf->args[i], "msie6")) {
            gc->disable_msie6 = 1;
            continue;
        }
        char err[256];
        mg_regex_t *re = mg_regex_compile_conf(cf->cycle, cf->args[i], 1, err, sizeof(err));
        if (re == NULL) {
            mg_conf_error(cf, 0, "%s", err);
            return MG_CONF_ERROR;
        }
        *(mg_regex_t **)mg_array_push(gc->disable) = re;
    }
    return MG_CONF_OK;
}

static int filter_used(const void *loc_conf)
{
    const gzip_conf_t *conf = loc_conf;
    return conf->enable;
}

static void gzip_init_filters(mg_conf_t *cf)
{
    mg_http_link_filters(cf, &mg_gzip_module, filter_used, gzip_header_filter, gzip_body_filter);
}

static const mg_conf_enum_t http_versions[] = {
    { "1.0", 1000 },
    { "1.1", 1001 },
    { NULL, 0 },
};

#define LOC(f) MG_LOC_CONF, offsetof(gzip_conf_t, f)
#define ANY MG_HTTP_ANY_LOC

static const mg_command_t gzip_commands[] = {
    {"gzip", ANY | MG_CTX_LIF, MG_FLAG, mg_conf_set_flag, LOC(enable), NULL},
    {"gzip_comp_level", ANY, MG_ARGS(1, 1), gzip_set_level, LOC(level), NULL},
    {"gzip_buffers", ANY, MG_ARGS(2, 2), mg_gzip_bufs_set, LOC(bufs), NULL},
    {"gzip_types", ANY, MG_ARGS(1, MG_MANY), gzip_set_types, LOC(types), NULL},
    {"gzip_min_length", ANY, MG_ARGS(1, 1), mg_conf_set_size, LOC(min_length), NULL},
    {"gzip_window", ANY, MG_ARGS(1, 1), gzip_set_pow2, LOC(wbits_size), (void *)32768},
    {"gzip_hash", ANY, MG_ARGS(1, 1), gzip_set_pow2, LOC(hash_size), (void *)131072},
    {"gzip_vary", ANY, MG_FLAG, mg_conf_set_flag, LOC(vary), NULL},
    {"gzip_http_version", ANY, MG_ARGS(1, 1), mg_conf_set_enum, LOC(http_version), http_versions},
    {"gzip_proxied", ANY, MG_ARGS(1, MG_MANY), gzip_set_proxied, LOC(proxied), NULL},
    {"gzip_disable", ANY, MG_ARGS(1, MG_MANY), gzip_set_disable, LOC(disable), NULL},
    /* two nginx has and does not document */
    {"gzip_no_buffer", ANY, MG_FLAG, mg_conf_set_flag, LOC(no_buffer), NULL},
    {"postpone_gzipping", ANY, MG_ARGS(1, 1), mg_conf_set_size, LOC(postpone), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t gzip_defaults[] = {
    {"gzip_comp_level", "1"},        {"gzip_buffers", "32 4k|16 8k"},
    {"gzip_types", "text/html"},     {"gzip_proxied", "off"},
    {"gzip_window", "32k"},          {"gzip_hash", "64k"},
    {"gzip_disable", MG_NO_DEFAULT}, {0},
};

/* $gzip_ratio: input over output of a finished compression, "%d.%02d" rounded as nginx */
static mg_int_t var_gzip_ratio(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    gzip_ctx_t *ctx = mg_http_get_ctx(r, mg_gzip_module);
    if (ctx == NULL || ctx->zout == 0) {
        v->not_found = 1;
        return MG_OK;
    }
    uint64_t whole = ctx->zin / ctx->zout, frac = ctx->zin * 100 / ctx->zout % 100;
    if (ctx->zin * 1000 / ctx->zout % 10 > 4) {
        if (++frac > 99) {
            whole++;
            frac = 0;
        }
    }
    char buf[48];
    int n = snprintf(buf, sizeof(buf), "%llu.%02llu", (unsigned long long)whole,
                     (unsigned long long)frac);
    v->value = mg_pstr(r->pool, buf, (size_t)n);
    v->valid = 1;
    v->not_found = 0;
    v->no_cacheable = 0;
    return MG_OK;
}

static void *gzip_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, 1);
}

static const char *gzip_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    mg_http_variable_t *v =
        mg_http_add_variable(cf, (mg_str_t)mg_string("gzip_ratio"), MG_HTTP_VAR_NOHASH);
    if (v == NULL) {
        return MG_CONF_ERROR;
    }
    v->get_handler = var_gzip_ratio;
    return MG_CONF_OK;
}

mg_module_t mg_gzip_module = {
    .name = "gzip",
    .commands = gzip_commands,
    .defaults = gzip_defaults,
    .create_main_conf = gzip_create_main_conf,
    .init_main_conf = gzip_init_main_conf,
    .create_loc_conf = gzip_create_conf,
    .merge_loc_conf = gzip_merge_conf,
    .init_filters = gzip_init_filters,
};
