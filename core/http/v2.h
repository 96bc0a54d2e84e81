/*
 * HTTP/2 on the client side, with libnghttp2 doing frames, HPACK and flow control: v2.c holds
 * the directives and a connection's session (read, write, GOAWAY, drain), v2_stream.c turns a
 * stream into an ordinary request on a connection of its own without a socket, v2_output.c
 * sends the response head (HEADERS) and ends the stream, v2_data.c frames the body the writer
 * offers (DATA).
 */
#ifndef MG_HTTP_V2_H
#define MG_HTTP_V2_H

#include <nghttp2/nghttp2.h>

#include "conn.h"
#include "server.h"

/* Whether freed HTTP/2 objects are kept for reuse (nghttp2's small blocks, v2_mem.c; stream
 * objects, v2_stream.c): not under ASan, configured or the compiler's (the fuzzers), whose
 * checks see every block. */
#if defined(__SANITIZE_ADDRESS__)
#define MG_HTTP_V2_KEEP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MG_HTTP_V2_KEEP 0
#endif
#endif
#ifndef MG_HTTP_V2_KEEP
#define MG_HTTP_V2_KEEP (!MG_HAVE_ASAN)
#endif

/* The writer's pieces a stream references at once (it offers the rest again once they went),
 * and a directio file piece's most for a stream (the scratch holds it until it is framed). */
#define MG_HTTP_V2_REFS 8
#define MG_HTTP_V2_PIECE_MAX 16384

typedef struct {
    int enable;                  /* http2 on|off */
    mg_int_t concurrent_streams; /* http2_max_concurrent_streams */
    size_t preread_size;         /* http2_body_preread_size: a stream's initial window */
    size_t pool_size;            /* http2_pool_size: each stream's pool blocks */
    /* http2_streams_index_size: checked as nginx does (a power of two). It sizes nginx's
     * per-connection hash of streams; nghttp2 finds moongate's streams itself, so there is
     * nothing of that kind to size here. */
    mg_int_t streams_index_size;
} mg_http_v2_srv_conf_t;

typedef struct {
    size_t recv_buffer_size; /* http2_recv_buffer_size */
    /* what every session of this configuration is made with (nghttp2 copies both at
     * nghttp2_session_server_new3): made once here, not per connection */
    struct nghttp2_session_callbacks *callbacks;
    struct nghttp2_option *options;
} mg_http_v2_main_conf_t;

typedef struct {
    size_t chunk_size; /* http2_chunk_size: the most one DATA frame carries */
} mg_http_v2_loc_conf_t;

/* Why a header block walk stopped (v2_hpack.c): a name or value longer as sent than the limit,
 * or an integer of more than nginx's 4 octets (a string's length, an index, a table size); the
 * block ended (END_HEADERS) inside a string (CUT_STRING) or elsewhere in a field (CUT: an
 * integer, a value's length not there); a HEADERS frame without a block (EMPTY), or too short
 * for its pad length and priority (SHORT: its length is left in pre); a padded DATA frame with
 * no room for its pad length (DATA_PAD). From CUT_STRING on nginx's GOAWAY is FRAME_SIZE_ERROR
 * (nghttp2's would be COMPRESSION_ERROR, a stream's, or PROTOCOL_ERROR for the last two). */
enum {
    MG_HWALK_FIELD = 1,
    MG_HWALK_LENGTH,
    MG_HWALK_INDEX,
    MG_HWALK_SIZE,
    MG_HWALK_INDEX0,     /* an indexed field of index 0 */
    MG_HWALK_TABLE_SIZE, /* a table size update over the 4096 octets the SETTINGS allow */
    MG_HWALK_BOUND,      /* an index past the static table while the dynamic one is empty */
    MG_HWALK_CUT_STRING,
    MG_HWALK_CUT,
    MG_HWALK_EMPTY,
    MG_HWALK_SHORT,
    MG_HWALK_DATA_PAD
};

/* A connection's input as nginx measures its header blocks (v2_hpack.c): where it is in the
 * frames, and in the HPACK representations of the block whose frame it is in. */
typedef struct {
    size_t limit;            /* large_client_header_buffers' size: a string's most as sent */
    uint32_t pre, left, pad; /* the frame's payload: bytes to pass, to walk, padding to pass */
    uint32_t str;            /* a string's bytes still to pass */
    uint32_t value;          /* the integer read so far */
    uint32_t fields;         /* fields walked (the fuzz target checks them against nghttp2's) */
    int32_t sid;             /* the stream of the block (its HEADERS frame's) */
    uint8_t hd[9], hd_len;   /* a frame header read so far */
    uint8_t state, hstate, what, octets, prio;
    uint8_t why; /* MG_HWALK_*: the walk stopped */
    /* the first frame of a fixed size (or a SETTINGS ACK) with another length, which nghttp2
     * refuses (FRAME_SIZE_ERROR) before any callback: its type (0: none; DATA never is), flags
     * and length, for nginx's line; or (bad_padded) the first padded one whose padding does not
     * fit (PROTOCOL_ERROR) */
    uint8_t bad_type, bad_flags;
    uint8_t bad_pad; /* bad_padded: the pad length of a DATA or HEADERS (bad_type) frame */
    uint32_t bad_len;
    unsigned is_value : 1;    /* the string whose length is next or read is a value */
    unsigned headers : 1;     /* a HEADERS frame began within this call's bytes */
    unsigned end_headers : 1; /* the frame walked is its block's last (END_HEADERS) */
    unsigned bad_padded : 1;  /* the note is of a padding that does not fit (bad_pad) */
    unsigned in_block : 1;    /* the last frame was a block's (HEADERS, CONTINUATION) but its
                                 last: the next must be its CONTINUATION */
    unsigned cont_sid : 1;    /* that next frame was a CONTINUATION for another stream */
    unsigned indexing : 1;    /* the literal walked is added to the dynamic table */
    unsigned table_used : 1;  /* the dynamic table may hold entries (one was added since it
                                 was last emptied): an index past the static table's may fit */
    /* the bytes of a frame dropped still to come, neither walked nor fed (9 and at most
     * 2^24 - 1: in the bits the flags leave, so the walk's size stays 56) */
    unsigned skip : 25;
} mg_http_v2_hwalk_t;

typedef struct mg_http_v2_conn_s mg_http_v2_conn_t;
typedef struct mg_http_v2_stream_s mg_http_v2_stream_t;

struct mg_http_v2_conn_s {
    mg_connection_t *c; /* the client's connection; NULL once it is closed */
    mg_http_conn_t *hc; /* its HTTP state (addr_conf, default server) */
    mg_server_t *server;
    nghttp2_session *session;
    mg_http_v2_stream_t *streams; /* every stream not yet freed */
    /* streams whose request connection was closed: it is freed by the flush event (the loop's
     * next callback: its closer may still be on the stack), before that flush */
    mg_http_v2_stream_t *dead;
    /* the stream whose header block came last: its callbacks find it without nghttp2's lookup
     * (it is the stream's user data until nghttp2 closes it, when this is cleared) */
    mg_http_v2_stream_t *hstream;
    /* streams whose header block ended them (no body) during nghttp2_session_mem_recv, in
     * order: started once it returns (conn_feed), so their responses are framed and written in
     * the same turn (a client's RST_STREAM is fed after they start, as nginx reads it after
     * running them); one nghttp2 closed meanwhile (the session went) is never started */
    mg_http_v2_stream_t *ready, **ready_tail;
    mg_uint_t nactive;     /* streams open or whose request runs (http2_max_concurrent_streams) */
    mg_uint_t max_streams; /* http2_max_concurrent_streams */
    mg_uint_t priority_limit; /* PRIORITY frames left before the connection ends, as nginx */
    mg_uint_t requests;       /* streams taken (keepalive_requests) */
    mg_uint_t refs;           /* the connection and each stream's request connection */
    /* the closed connection's TLS state, which the streams' request connections share: kept
     * for their $ssl_* and $https until the last of them goes (mg_http_v2_release) */
    mg_ssl_conn_t *tls;
    size_t rsize; /* http2_recv_buffer_size (the buffer is the server's) */
    char *obuf;   /* frames to write, gathered from nghttp2; NULL while there are none */
    size_t osize, ostart, olast;
    /* changes whenever the output's bytes past olast may be lost (the buffer given back,
     * emptied or moved): a stream's read-ahead there (v2_data.c) holds only while it stays */
    mg_uint_t ogen;
    /* "write what nghttp2 has" from the loop, once per turn: the server's one flush event
     * runs its list of connections (srv->h2_flush), in order, each holding a reference while
     * in it (flush_pending); an event of each connection's own cost 128 bytes of every one */
    mg_http_v2_conn_t *flush_next;
    /* the final GOAWAY after a drain's notice: made by the drain (128 bytes no other
     * connection needs) */
    struct event *goaway_ev;
    /* the server's quit hook (a drain) while c is open; then, if streams outlive c, its term
     * hook (a terminating server closes them): never both at once, so one */
    mg_server_hook_t hook;
    /* the stream a line on the connection's log is about (a bad field): its server and host
     * are named as on the stream's own lines (connection.c's log handler) */
    mg_http_v2_stream_t *log_stream;
    int32_t last_sid; /* the last frame header's stream: a GOAWAY's log line names it */
    /* the last HEADERS frame's stream: the next one must be above it */
    int32_t last_hsid;
    /* the input walked ahead of nghttp2 for what nginx measures as sent (v2_hpack.c) */
    mg_http_v2_hwalk_t hwalk;
    /* a frame's start the last read cut (mg_http_v2_hwalk_need): held, neither walked nor
     * fed, until the gate can look at it whole */
    uint8_t held[13];
    unsigned nheld : 4; /* (a bit field: the flags below and it fit the word held ends in) */
    unsigned ssl : 1;
    unsigned wblocked : 1;      /* the socket is full: waiting for it */
    unsigned goaway : 1;        /* the final GOAWAY is queued: no stream after it */
    unsigned notice : 1;        /* the drain's first GOAWAY (all streams) was queued */
    unsigned failed : 1;        /* the socket is gone or the session failed: closing */
    unsigned lingering : 1;     /* its last GOAWAY went: closing lingering (conn_end) */
    unsigned closing : 1;       /* an error or keepalive_timeout: the flush's end closes at once */
    unsigned holding : 1;       /* an error's GOAWAY went: open until the running requests end */
    unsigned in_recv : 1;       /* nghttp2 is in mem_recv: a flush waits for its end */
    unsigned in_send : 1;       /* nghttp2 is in mem_send: a gather waits for its end */
    unsigned oblocked : 1;      /* a DATA frame waits for room in the output */
    unsigned settings_sent : 1; /* the first SETTINGS went out with the real stream limit */
    unsigned flush_pending : 1; /* in the server's flush list: it runs later in this turn */
    unsigned hsid_bad : 1;      /* a HEADERS frame came for a stream not after the last */
    unsigned term_hooked : 1;   /* hook is the server's term hook (streams run on after c went) */
    unsigned trim_due : 1;      /* c's timer comes at H2_TRIM_MSEC of the idle wait (v2.c) */
    unsigned dry : 1; /* the last gather ended as nghttp2 had no frame more (v2.c's conn_flush) */
    /* nghttp2's frame buffer (v2_mem.c: whole pages of its own), whose bytes mean nothing
     * between frames: its pages go back once the connection has waited H2_TRIM_MSEC with no
     * stream and nothing to write (trim_due; the first page stays resident as written: 4 KiB
     * an idle connection would hold) */
    void *fbuf;
    /* the stream map's table (v2_mem.c: whole pages of its own), given back with the frame
     * buffer while it is all zeros (no stream in it): 4 KiB of an idle connection */
    void *ztab;
    /* the pages of nghttp2's two buffers above (v2_mem.c): one mapping of a fixed length,
     * resident as written, unmapped after the session (mg_http_v2_mem_conn_free) */
    char *pages;
    /* the sizes (nghttp2's frames are at most 2^24 + 9 bytes, its map's table a few pages):
     * 32 bits each, beside send_rv and the counts: the struct (360 bytes) takes a malloc
     * chunk of 368, as it did at 352 */
    uint32_t fbuf_len, ztab_len, pages_used;
    int send_rv; /* nghttp2_session_mem_send's failure, for the flush to log and close */
    /* streams opened within this read event (past twice http2_max_concurrent_streams each is
     * refused) and streams refused on the connection (past the limit, at least 100, it ends):
     * nginx 1.22.1's bounds on a rapid reset (on_begin_headers) */
    uint32_t new_streams, refused;
};

struct mg_http_v2_stream_s {
    mg_http_v2_conn_t *h2;
    mg_http_v2_stream_t *prev, *next;
    mg_http_v2_stream_t *dead_next;  /* h2->dead */
    mg_http_v2_stream_t *ready_next; /* h2->ready */
    int32_t id;
    mg_uint_t nth;       /* the connection's streams taken with it ($connection_requests) */
    mg_connection_t *fc; /* the request's connection; NULL once it is freed */
    mg_http_conn_t *hc;
    /* the header block's fields as "name: value\r\n" lines, the request head's text */
    char *head;
    size_t head_len, head_size, header_bytes;
    /* the header block's bytes as they came (HEADERS without padding and priority, then each
     * CONTINUATION): $request_length starts there, as nginx's, and DATA bytes add to it */
    size_t in_length;
    size_t nfields; /* lines in head */
    /* the cookie fields' values joined with "; " (RFC 9113 8.2.3), one field at the head's
     * end when the block ends, as nginx makes it */
    char *cookie;
    size_t cookie_len;
    unsigned has_length : 1; /* a content-length field came */
    mg_str_t method, path, authority, scheme;
    /* the pseudo-headers' values, where they fit: no allocation each (else malloc'ed) */
    char pseudo_mem[128];
    size_t pseudo_used;
    char *bad; /* why the request is answered 400 (a pseudo-header nginx refuses), or NULL */
    unsigned bad_before_host : 1; /* it came before :authority: nginx logs it without a host */
    /* request body bytes from DATA frames, for the body reader (c->recv) */
    char *in;
    size_t in_start, in_last, in_size;
    size_t in_unacked; /* DATA bytes handed to the reader but not yet given back as window */
    uint64_t in_total; /* DATA bytes that came for the request (beyond its content-length: 400) */
    /* the response body the writer offers (v2_data.c): references to its queue's front, memory
     * pieces (ref[ref_i..nref)) or a file's range (ref_fd from ref_off), not copies */
    struct iovec ref[MG_HTTP_V2_REFS];
    unsigned nref, ref_i;
    int ref_fd;
    off_t ref_off;
    size_t ref_left; /* offered, not yet framed */
    /* a file offer's bytes read ahead into the output for the frames that follow the last one
     * (each at its place after a 9-byte header's room): pre_len bytes from ref_off, the next
     * frame's header due at pre_at while h2->ogen is pre_gen */
    size_t pre_len, pre_at;
    mg_uint_t pre_gen;
    unsigned pre_cut; /* read-aheads wasted lately: each halves the next one's frames */
    size_t ref_taken; /* framed into the connection's output: the writer drops them next */
    size_t chunk_size;
    unsigned head_done : 1;  /* the request was started */
    unsigned queued : 1;     /* in h2->ready: kept (not freed) when nghttp2 closes it */
    unsigned in_eof : 1;     /* END_STREAM came */
    unsigned in_chunked : 1; /* no content-length: DATA goes to the reader as chunks */
    unsigned submitted : 1;  /* the response HEADERS were submitted */
    unsigned deferred : 1;   /* the data source waits for the writer */
    unsigned out_eof : 1;    /* the request is done (or head-only): nothing more is offered */
    unsigned data_eof : 1;   /* the data source framed the response's end */
    unsigned ref_file : 1;   /* the offer is a file's range */
    unsigned ref_last : 1;   /* the offer ends the response: its last frame ends the stream */
    unsigned ref_failed : 1; /* reading the offered file failed (logged, the stream reset) */
    unsigned offering : 1;   /* the writer's call frames now: it takes what went itself */
    unsigned closed : 1;     /* nghttp2 closed the stream (sent, reset or the session went) */
    unsigned reset : 1;      /* closed before the response got out: the request's I/O fails */
    unsigned counted : 1;    /* counted in h2->nactive until closed and its request done */
    /* the response's trailer fields (one malloc'ed block: the nv array, then the bytes),
     * submitted after the last DATA frame instead of its END_STREAM */
    nghttp2_nv *trailers;
    size_t ntrailers;
};

extern mg_module_t mg_http_v2_module;

/* ---- v2.c: the connection ---- */
/* Whether h2 may be spoken on hc's address without TLS (listen ... http2, or http2 on in its
 * default server). */
int mg_http_v2_enabled(mg_http_conn_t *hc, mg_http_srv_conf_t *cscf);
/* Whether cscf says "http2 on". */
int mg_http_v2_srv_on(const mg_http_srv_conf_t *cscf);
/* A plain connection's first bytes: MG_DECLINED (not the h2 preface), MG_AGAIN (a prefix of
 * it so far) or MG_OK (the connection now speaks h2; hc's buffered bytes were taken). */
mg_int_t mg_http_v2_preface(mg_connection_t *c);
/* Take over c, which negotiated h2 with ALPN, or whose preface was seen. */
void mg_http_v2_init(mg_connection_t *c);
/* Write what nghttp2 has, from the loop (coalesced). */
void mg_http_v2_schedule(mg_http_v2_conn_t *h2);
/* A reference on h2 dropped: the last one frees it. */
void mg_http_v2_release(mg_http_v2_conn_t *h2);

/* A frame header's (9 bytes) payload length and stream identifier (the reserved bit off). */
static inline uint32_t mg_http_v2_frame_len(const uint8_t *hd)
{
    return (uint32_t)hd[0] << 16 | (uint32_t)hd[1] << 8 | hd[2];
}

static inline int32_t mg_http_v2_frame_sid(const uint8_t *hd)
{
    return (int32_t)((uint32_t)(hd[5] & 0x7f) << 24 | (uint32_t)hd[6] << 16 | (uint32_t)hd[7] << 8 |
                     hd[8]);
}

/* ---- v2_hpack.c: header blocks as nginx measures them ---- */
/* From the connection's first byte (the preface): strings of at most limit bytes as sent. */
void mg_http_v2_hwalk_init(mg_http_v2_hwalk_t *w, size_t limit);
/* The connection's next n bytes: n, or the count up to and with the first integer nginx
 * refuses (w->why says why; the walk is over), or, why 0, up to a frame's start after the
 * first byte: a HEADERS frame's that follows another HEADERS frame within these n (the caller
 * starts the requests before it), one mg_http_v2_hwalk_gated takes, or one whose first
 * mg_http_v2_hwalk_need bytes are not all in the n; the caller walks on from there. */
size_t mg_http_v2_hwalk(mg_http_v2_hwalk_t *w, const uint8_t *p, size_t n);
/* At a frame's start, the bytes of it the gate looks at (9, or 13 for a stream's
 * WINDOW_UPDATE) from the first n of p: a caller whose n is fewer holds them until they are
 * whole; 0 elsewhere. */
size_t mg_http_v2_hwalk_need(const mg_http_v2_hwalk_t *w, const uint8_t *p, size_t n);
/* Whether p[0..n) starts with the whole start of a frame nghttp2 would take otherwise than
 * nginx (DATA on a stream, RST_STREAM or WINDOW_UPDATE on one never opened, a WINDOW_UPDATE of
 * 0 on a stream, GOAWAY): the caller decides from the streams' state whether it is dropped
 * (w->skip its bytes). */
int mg_http_v2_hwalk_gated(const mg_http_v2_hwalk_t *w, const uint8_t *p, size_t n);

/* ---- v2_mem.c ---- */
/* The allocator of h2's session (into *mem, which nghttp2 copies): malloc's, but a buffer of
 * 16 KiB or more (the session's frame buffer) on pages of its own, resident only as they are
 * written, noted in h2->fbuf for mg_http_v2_mem_trim, and a calloc of a page or more (the
 * stream map's table) on pages of its own, noted in h2->ztab; the first of each from h2's
 * mapping (h2->pages). */
void mg_http_v2_mem_conn(nghttp2_mem *mem, mg_http_v2_conn_t *h2);
/* The pages of h2's buffers go: after nghttp2_session_del. */
void mg_http_v2_mem_conn_free(mg_http_v2_conn_t *h2);
/* The frame buffer's whole pages given back (MADV_DONTNEED): only while nghttp2 has no frame
 * in it (no stream, nothing to write, not within mem_send); the stream map's too if they hold
 * only zeros (no stream in the map). */
void mg_http_v2_mem_trim(mg_http_v2_conn_t *h2);

/* ---- v2_stream.c: a stream as a request ---- */
mg_http_v2_stream_t *mg_http_v2_stream_create(mg_http_v2_conn_t *h2, int32_t id);
/* The stream's memory goes (it is unlinked already, or its connection goes). */
void mg_http_v2_stream_free(mg_http_v2_stream_t *st);
/* A header field of the stream's block: 0, or an nghttp2 error code to reset it with. */
int mg_http_v2_stream_header(mg_http_v2_stream_t *st, const uint8_t *name, size_t nlen,
                             const uint8_t *value, size_t vlen);
/* The header block ended (from nghttp2's callback): a stream without a body joins h2->ready,
 * one with a body starts its request at once. */
void mg_http_v2_stream_ready(mg_http_v2_stream_t *st);
/* A stream ended (reset, or its connection) as its header block was read: its request is
 * logged as nginx logs it, status 000, with what was taken of the block; nothing is sent. */
void mg_http_v2_stream_dropped(mg_http_v2_stream_t *st);
/* The client's RST_STREAM for st, logged in nginx's words on its request's log; a stream still
 * queued (the reset came in the read that brought its head) is logged as its queue is walked. */
void mg_http_v2_stream_client_reset(mg_http_v2_stream_t *st, uint32_t code);
/* nghttp2_session_mem_recv returned: the ready streams still open start their requests, those
 * closed meanwhile go. */
void mg_http_v2_streams_start(mg_http_v2_conn_t *h2);
void mg_http_v2_stream_data(mg_http_v2_stream_t *st, const uint8_t *data, size_t len);
void mg_http_v2_stream_eof(mg_http_v2_stream_t *st);
/* nghttp2 closed the stream (error_code NO_ERROR after a complete exchange). */
void mg_http_v2_stream_closed(mg_http_v2_stream_t *st, uint32_t error_code);
/* The connection goes: every open stream is reset, so its request ends as one whose client went
 * away (its reads and writes fail; logged). */
void mg_http_v2_streams_abort(mg_http_v2_conn_t *h2);
/* The server terminates: every stream's request is closed at once. */
void mg_http_v2_streams_close(mg_http_v2_conn_t *h2);
/* Free the request connections closed since the last call (h2->dead), from the flush event. */
void mg_http_v2_streams_reap(mg_http_v2_conn_t *h2);
/* The peer is gone for the request's abort watch (abort.c): 0, or -1 with errno. */
ssize_t mg_http_v2_stream_peek(mg_connection_t *fc);
/* Whether the stream's body comes without a content-length (read as chunked). */
int mg_http_v2_body_unsized(mg_http_v2_stream_t *st);
/* Whether the stream's input ended (END_STREAM) and the reader took all of it: a body whole
 * by its content-length is not whole before (more DATA may come: the reader's recv fails). */
int mg_http_v2_body_whole(mg_http_v2_stream_t *st);
/* The request on fc is done (connection.c's mg_http_conn_continue for a stream). */
void mg_http_v2_stream_done(mg_connection_t *fc, const mg_http_conn_next_t *next);

/* Frame what nghttp2 has into the connection's output now, without writing it (a stream's
 * writer offered bytes); nothing while nghttp2 itself is the caller's caller. */
void mg_http_v2_gather(mg_http_v2_conn_t *h2);

/* ---- v2_output.c: the response ---- */
/* The last header filter for a stream: HEADERS (with END_STREAM for a head-only response)
 * and v2_data.c's data source for what the writer offers. */
mg_int_t mg_http_v2_send_header(mg_request_t *r, mg_str_t status_line, mg_str_t server,
                                mg_str_t location);
/* "100 Continue" for a stream's request (body.c): an interim HEADERS. */
mg_int_t mg_http_v2_send_continue(mg_request_t *r);

/* ---- v2_data.c: the response body ---- */
/* The stream's c->send_chain, c->sockless->send_file and c->send: the bytes offered stay
 * referenced (they must stay where they are) until a later call, which answers with the
 * bytes framed since (the caller then drops them, and offers the rest again); -1 with EAGAIN
 * while none went; send_file's -2: the file's read failed (logged). */
ssize_t mg_http_v2_send_chain(mg_connection_t *fc, const struct iovec *iov, int cnt);
ssize_t mg_http_v2_send_file(mg_connection_t *fc, int fd, off_t off, size_t len);
ssize_t mg_http_v2_send(mg_connection_t *fc, const char *buf, size_t len);
/* The writer's buffers go (its request ended): the stream forgets them. */
void mg_http_v2_data_drop(mg_http_v2_stream_t *st);
/* nghttp2's data source: a DATA frame's length and flags (NO_COPY, EOF at the offer's end). */
ssize_t mg_http_v2_data_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                             size_t length, uint32_t *flags, nghttp2_data_source *source,
                             void *user_data);
/* nghttp2's send_data callback: a DATA frame's header and bytes (from the offer) appended to
 * the connection's output; NGHTTP2_ERR_WOULDBLOCK while the output is full. */
int mg_http_v2_send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
                         size_t length, nghttp2_data_source *source, void *user_data);
/* The writer gave its last bytes, or gave up: end the stream with them, or reset it. */
void mg_http_v2_output_end(mg_http_v2_stream_t *st, int ok);
/* The writer saw the response's last buffer: r->headers_out.trailers (add_trailer's, an
 * upstream's) go out as a HEADERS frame that ends the stream. */
void mg_http_v2_set_trailers(mg_request_t *r);

#endif
