/*
 * HTTP/1.x request head parser: a zero-copy state machine over the connection's read buffer.
 * It is resumable: it keeps its state (offsets) in the head between calls and goes on from the
 * first byte it has not seen, so a head costs the same however it arrives. All strings point
 * into `buf`. Also the URI normalizer that turns the raw path into $uri, and the chunked-body
 * decoder.
 */
#ifndef MG_HTTP_PARSE_H
#define MG_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Return codes of the parsers (negative; a complete head returns the bytes it consumed). */
#define MG_PARSE_AGAIN -1           /* incomplete: read more and call again */
#define MG_PARSE_INVALID_REQUEST -2 /* malformed request line -> 400 */
#define MG_PARSE_INVALID_METHOD -3  /* method not made of A-Z _ - -> 400 */
#define MG_PARSE_INVALID_VERSION -4 /* HTTP/2.0 or higher, or garbage version digits -> 505/400 */
#define MG_PARSE_INVALID_HEADER -5  /* malformed header line -> 400 */
#define MG_PARSE_TOO_MANY_HEADERS -6
#define MG_PARSE_INVALID_CHUNK -7

enum {
    MG_HTTP_UNKNOWN = 0,
    MG_HTTP_GET,
    MG_HTTP_HEAD,
    MG_HTTP_POST,
    MG_HTTP_PUT,
    MG_HTTP_DELETE,
    MG_HTTP_MKCOL,
    MG_HTTP_COPY,
    MG_HTTP_MOVE,
    MG_HTTP_OPTIONS,
    MG_HTTP_PROPFIND,
    MG_HTTP_PROPPATCH,
    MG_HTTP_LOCK,
    MG_HTTP_UNLOCK,
    MG_HTTP_PATCH,
    MG_HTTP_TRACE,
    MG_HTTP_CONNECT,
};

typedef struct {
    const char *data;
    size_t len;
} mg_span_t;

typedef struct {
    mg_span_t name;  /* as sent (case preserved) */
    mg_span_t value; /* leading/trailing spaces stripped (tabs are kept, as nginx does); an empty
                      * value points at the line's end, so name..value end is the line as nginx
                      * quotes it */
} mg_http_header_t;

typedef struct {
    mg_span_t request_line; /* without the CRLF */
    mg_span_t method;
    int method_id;      /* MG_HTTP_* */
    mg_span_t target;   /* the request-target as sent ($request_uri) */
    mg_span_t schema;   /* for absolute-form targets "http://host/x": "http", else len 0 */
    mg_span_t host;     /* host[:port] of an absolute-form target, else len 0 */
    mg_span_t path;     /* raw path part of the target (starts with '/'), before '?' */
    mg_span_t args;     /* after the first '?', without it; data NULL when there was no '?' */
    mg_span_t proto;    /* "HTTP/1.1" as sent ($server_protocol), len 0 for HTTP/0.9 */
    int http_major;     /* HTTP/0.9 (no version on the request line): 0 and 9 */
    int http_minor;
    unsigned no_path : 1;     /* an absolute-form target without one: h->path is "/" */
    unsigned complex_uri : 1; /* path has %, //, /./, /../ or a trailing /. or /.. : normalize it */
    /* set by the caller after mg_http_parse_init: a value is all that follows "name: " up to the
     * line's end, blanks included (an HTTP/2 stream's head, built by v2_stream.c: nginx keeps
     * an h2 field's value as sent) */
    unsigned raw_values : 1;
    /* the caller's: the lines it has checked so far (connection.c's refusals at a line);
     * cleared by mg_http_parse_init with the rest */
    size_t checked;
    mg_http_header_t *headers; /* caller-provided array of max_headers */
    size_t max_headers;
    size_t nheaders; /* header lines parsed so far (complete ones only) */
    /* Progress, valid on MG_PARSE_AGAIN too, for the caller's size limits (414 vs 400) and log
     * lines: request_line_done is 1 once the request line's LF was seen; line_start is the
     * offset of the line currently being parsed (the request line, or a header line). */
    unsigned request_line_done : 1;
    size_t line_start;
    /* On an error: the offset in buf nginx reports the line's bad byte at. */
    size_t error_at;
    /* The parser's own state between calls: offsets into buf of what it is in the middle of. */
    int state;
    size_t pos; /* the first byte not yet looked at */
    size_t target_at, path_at, seg_at, mark, line_end, name_end, value_at, value_end;
} mg_http_request_head_t;

/* Start a new head: clear h and give it a header array of `max` entries. */
void mg_http_parse_init(mg_http_request_head_t *h, mg_http_header_t *headers, size_t max);

/* Parse a request head from buf[0..len), going on from where the previous call on h stopped:
 * each call passes the same head, grown (len never shrinks), from the same start; when the
 * bytes moved in memory since the previous call, mg_http_parse_rebase must have been called.
 * Leading empty lines (CRLF) before the request line are skipped as RFC 9112 allows. Lines may
 * end in CRLF or bare LF. On success returns the number of bytes up to and including the blank
 * line that ends the head; fills `h`. MG_PARSE_TOO_MANY_HEADERS: give h a larger array (copy
 * the entries, raise max_headers) and call again; after any other error h is spent. */
ssize_t mg_http_parse_request_head(const char *buf, size_t len, mg_http_request_head_t *h);

/* The head's bytes moved from `from` to `to` (memmove or a new buffer; call it while `from`
 * is still allocated): make h's strings point into the new place. */
void mg_http_parse_rebase(mg_http_request_head_t *h, const char *from, const char *to);

/* Turn a raw path (as in h->path) into the normalized URI nginx calls $uri: %XX decoded, "//"
 * merged when merge_slashes is set, "/./" removed, "/../" resolved. `out` must hold len bytes.
 * Returns the output length, or MG_PARSE_INVALID_REQUEST when ".." climbs above "/", a %XX
 * escape is malformed, or it decodes to NUL. */
ssize_t mg_http_normalize_uri(const char *path, size_t len, char *out, int merge_slashes);

/* Decode %XX escapes; `out` may equal `in` (the output is never longer). Without flags, a
 * malformed escape is dropped as nginx drops it: a '%' before a non-digit goes (the byte after
 * it stays), "%X" and the byte after it go. Returns the output length. The flags: */
/* a malformed escape's '%' kept as it is (ngx.unescape_uri and ngx.decode_args,
 * X-Accel-Redirect, a DAV Destination) */
#define MG_UNESCAPE_KEEP_BAD 0x1
/* '+' (not escaped) is a space: a query component */
#define MG_UNESCAPE_PLUS 0x2
/* a redirect's target: decoded up to the first '?' or "%3F" (which becomes a '?'), an escape
 * only of a printable character after '%' (the others stay escaped) */
#define MG_UNESCAPE_REDIRECT 0x4
size_t mg_http_unescape(const char *in, size_t len, char *out, unsigned flags);

/* nginx's check of a URI a handler names for an internal redirect or a subrequest
 * (X-Accel-Redirect, ngx.exec, ngx.location.capture): the path is what comes before the first
 * '?' (*args_at: where the args begin, len + 1 when there is no '?': "/x?" has empty ones), its %XX
 * escapes decoded once into `out` (len bytes; a malformed escape kept). Returns the path's length,
 * or -1 when it is unsafe: empty, or decoding to a NUL byte or to a ".." segment. */
ssize_t mg_http_parse_unsafe_uri(const char *uri, size_t len, char *out, size_t *args_at);

/* The escape types of mg_http_escape: the bytes each %-encodes (parse.c's escape_class). The
 * first seven are ngx.escape_uri's type numbers 0-6 (lua-nginx-module's own copies of nginx's
 * sets, older and narrower than nginx's: its MEMCACHED and MAIL_AUTH are nginx's); then
 * nginx's ngx_escape_uri types, then lua-nginx-module's header name and value sets (for the
 * headers Lua sets) and set-misc's set_escape_uri set. "Controls" are 0x00-0x1f; every type
 * but LUA_HEADER_VALUE escapes them and the space. */
typedef enum {
    MG_ESCAPE_LUA_URI,           /* # % ? DEL, >= 0x80 */
    MG_ESCAPE_LUA_ARGS,          /* # % + ? DEL, >= 0x80 */
    MG_ESCAPE_LUA_URI_COMPONENT, /* all but letters, digits and - . _ ! ~ * ' ( ) */
    MG_ESCAPE_LUA_HTML,          /* " # % ' DEL, >= 0x80 */
    MG_ESCAPE_LUA_REFRESH,       /* " ' DEL, >= 0x80 */
    MG_ESCAPE_MEMCACHED,         /* % (nginx's memcached keys) */
    MG_ESCAPE_MAIL_AUTH,         /* % */
    MG_ESCAPE_URI,               /* " # % < > ? \ ^ ` { | } DEL, >= 0x80 */
    MG_ESCAPE_ARGS,              /* the URI set and & + ; */
    MG_ESCAPE_URI_COMPONENT,     /* all but letters, digits and - . _ ~ */
    MG_ESCAPE_HTML,              /* the URI set but ?, and ' (SSI's encoding="url") */
    MG_ESCAPE_REFRESH,           /* " ' < > \ ^ ` { | ~ DEL, >= 0x80 (msie_refresh; not }) */
    MG_ESCAPE_LUA_HEADER_NAME,   /* all but a token's bytes (letters, digits, !#$%&'*+-.^_`|~) */
    MG_ESCAPE_LUA_HEADER_VALUE,  /* controls but tab, DEL; not the space */
    MG_ESCAPE_SET_MISC,          /* all but letters, digits and ! $ ' ( ) * , - . @ _ ` | ~ */
} mg_escape_t;
#define MG_ESCAPE_LUA_TYPES 7 /* ngx.escape_uri's types are 0 .. MG_ESCAPE_LUA_TYPES - 1 */

/* %-escape (uppercase hex) the bytes `type` escapes. `out` NULL: only count. Returns the
 * output length. */
size_t mg_http_escape(const char *in, size_t len, char *out, mg_escape_t type);

/* Incremental chunked transfer-coding decoder. Feed it input as it arrives; it hands back
 * data spans in place. */
typedef struct {
    int state;
    uint64_t size;   /* bytes left in the current chunk */
    uint64_t max_chunk; /* in: largest chunk size accepted; 0 = any that fits in off_t */
    unsigned done : 1; /* the last chunk and trailers were consumed */
} mg_http_chunked_t;

/* Decode from buf[*pos..len): on return *pos advanced past what was consumed; if a data span is
 * available, *data and *data_len point at it (inside buf) and 0 is returned; the caller loops
 * until it gets MG_PARSE_AGAIN (needs more input) or ctx->done. Chunk sizes above max_chunk (or
 * above off_t's range) are MG_PARSE_INVALID_CHUNK, and the error is sticky. Returns 0 with
 * data_len 0 when the body is complete (ctx->done set; *pos is just past the final CRLF). */
int mg_http_parse_chunked(mg_http_chunked_t *ctx, const char *buf, size_t len, size_t *pos,
                          const char **data, size_t *data_len);

/* Case-insensitive compare of a span to a NUL-terminated lowercase literal. */
int mg_span_ieq(mg_span_t s, const char *lower);

#endif
