/*
 * The upstream engine: one request's exchange with an upstream server, shared by the proxy
 * module (and later the Lua cosockets). For each try it asks the group's balancer for a peer
 * (upstream_peer.h), takes an idle keepalive connection or connects (proxy_connect_timeout),
 * sends the prepared request (proxy_send_timeout), reads and parses the response head
 * (proxy_read_timeout), lets the owner turn the upstream's header lines into the response's,
 * and streams the body to the client through mg_http_output with a fixed set of buffers:
 * the upstream is read only while a buffer is free, and buffers are reused once the writer
 * has sent them (backpressure both ways). Errors before anything was sent to the client go
 * through proxy_next_upstream, else 502/504; a body broken off mid-way closes the client
 * connection without the end of the response.
 */
#ifndef MG_HTTP_UPSTREAM_IO_H
#define MG_HTTP_UPSTREAM_IO_H

#include <event2/event.h>
#include <event2/event_struct.h>

#include "cache_conf.h"
#include "upstream_peer.h"
#include "watch.h"

/* proxy_next_upstream conditions */
#define MG_UPSTREAM_FT_ERROR 0x0002
#define MG_UPSTREAM_FT_TIMEOUT 0x0004
#define MG_UPSTREAM_FT_INVALID_HEADER 0x0008
#define MG_UPSTREAM_FT_HTTP_500 0x0010
#define MG_UPSTREAM_FT_HTTP_502 0x0020
#define MG_UPSTREAM_FT_HTTP_503 0x0040
#define MG_UPSTREAM_FT_HTTP_504 0x0080
#define MG_UPSTREAM_FT_HTTP_403 0x0100
#define MG_UPSTREAM_FT_HTTP_404 0x0200
#define MG_UPSTREAM_FT_HTTP_429 0x0400
#define MG_UPSTREAM_FT_STATUSES 0x07f0 /* the HTTP_* ones: an answer's status */
#define MG_UPSTREAM_FT_NON_IDEMPOTENT 0x1000
#define MG_UPSTREAM_FT_NOLIVE 0x4000
#define MG_UPSTREAM_FT_OFF 0x8000

/* proxy_ignore_headers */
#define MG_UPSTREAM_IGN_XA_REDIRECT 0x0002
#define MG_UPSTREAM_IGN_XA_EXPIRES 0x0004
#define MG_UPSTREAM_IGN_EXPIRES 0x0008
#define MG_UPSTREAM_IGN_CACHE_CONTROL 0x0010
#define MG_UPSTREAM_IGN_SET_COOKIE 0x0020
#define MG_UPSTREAM_IGN_XA_LIMIT_RATE 0x0040
#define MG_UPSTREAM_IGN_XA_BUFFERING 0x0080
#define MG_UPSTREAM_IGN_XA_CHARSET 0x0100
#define MG_UPSTREAM_IGN_VARY 0x0200

typedef struct {
    mg_msec_t connect_timeout;
    mg_msec_t send_timeout;
    mg_msec_t read_timeout;
    mg_uint_t next_upstream;        /* MG_UPSTREAM_FT_* */
    mg_uint_t next_upstream_tries;  /* 0: unlimited */
    mg_msec_t next_upstream_timeout; /* 0: unlimited */
    size_t buffer_size;             /* the response head must fit (proxy_buffer_size) */
    mg_int_t bufs_num;              /* proxy_buffers: the body's memory budget */
    size_t bufs_size;
    int buffering;                  /* off: one buffer_size buffer, flushed on every read */
    size_t busy_buffers_size;    /* buffering: given to the writer and not yet written, at most */
    size_t temp_file_write_size; /* ... written to the temporary file at once, at most */
    /* what the two directives said: a level that does not say inherits this, and its
     * default follows its own buffers, as nginx's *_conf fields */
    size_t busy_buffers_conf, temp_file_write_conf;
    size_t max_temp_file_size; /* ... in the temporary file, at most (0: none) */
    const mg_http_temp_path_t *temp_path;
    int intercept_errors;
    int ignore_client_abort;        /* off: a client that closes first ends the request (499) */
    int request_buffering;          /* off: the body goes on as it arrives */
    int pass_request_headers;
    int pass_request_body;
    mg_array_t *hide_headers; /* mg_str_t lowercase */
    mg_array_t *pass_headers;
    mg_uint_t ignore_headers;        /* MG_UPSTREAM_IGN_*; 0: unset, bit 0 marks "set" */
    struct mg_upstream_bind_s *bind; /* *_bind (MG_CONF_UNSET_PTR, NULL: none) */
    int socket_keepalive;
    size_t limit_rate; /* buffering: bytes a second read from the upstream (0: no limit) */
    int force_ranges;  /* byte ranges of any 200, whatever its Accept-Ranges (single only) */
    size_t send_lowat; /* proxy_, fastcgi_send_lowat: nginx warns, no SO_SNDLOWAT on Linux */
    mg_http_cache_conf_t cache; /* *_cache* (core/http/cache.c) */
} mg_upstream_conf_t;

typedef struct mg_upstream_bind_s mg_upstream_bind_t;

/* A parsed response head; header spans point into the head buffer. */
typedef struct {
    int http_major, http_minor;
    mg_uint_t status;
    mg_span_t status_line;     /* "200 OK" */
    mg_http_header_t *headers;
    size_t nheaders;           /* in: capacity; out: count */
    size_t error_at;           /* offset of the bad line on MG_PARSE_INVALID_HEADER */
    size_t error_byte;         /* and of its offending byte (the line's end: no colon) */
} mg_upstream_head_t;

/* Parse a response head from buf[0..len): bytes up to and including the blank line,
 * MG_PARSE_AGAIN, MG_PARSE_INVALID_REQUEST (no valid status line), MG_PARSE_INVALID_HEADER,
 * MG_PARSE_TOO_MANY_HEADERS. Lines may end in CRLF or LF. */
ssize_t mg_upstream_parse_response_head(const char *buf, size_t len, mg_upstream_head_t *h);

/* One try, for the $upstream_* variables. */
typedef struct {
    mg_str_t addr;
    mg_uint_t status;       /* 0: none (shown as "-"), 502/504 for a failed try */
    mg_msec_t start;
    mg_msec_t connect_time; /* -1: not connected */
    mg_msec_t header_time;
    mg_msec_t response_time;
    int64_t bytes_sent;      /* to the upstream: the request as sent (or tunneled) */
    int64_t bytes_received;  /* from it: head and body as received */
    int64_t response_length; /* of that, the body (after the head, framing included) */
    unsigned redirected : 1; /* the first try of an exchange after an internal redirect: the
                                variables put " : " between it and the tries before */
} mg_upstream_state_t;

typedef struct mg_upstream_s mg_upstream_t;
typedef struct mg_upstream_conn_s mg_upstream_conn_t;

/* A protocol that runs the connection itself once it is up (gRPC's HTTP/2, upstream_h2.c):
 * the engine connects (TLS included), then hands it every event of the connection; the
 * driver parses the head into u->head and calls mg_upstream_process_head, which ends in its
 * body(). Failures before the head go to mg_upstream_next, later ones to finalize. */
typedef struct {
    void (*start)(mg_upstream_t *u);       /* connected (or an idle keepalive one taken) */
    void (*read)(mg_upstream_t *u);        /* the connection is readable */
    void (*write)(mg_upstream_t *u);       /* ... writable */
    void (*timeout)(mg_upstream_t *u);     /* the deadline passed ("upstream timed out" logged) */
    void (*body)(mg_upstream_t *u);        /* the head went to the client */
    void (*client_body)(mg_upstream_t *u); /* more of the client's unbuffered body came */
} mg_upstream_driver_t;

struct mg_upstream_s {
    mg_request_t *r;
    mg_upstream_conf_t *conf;
    mg_upstream_group_t *group;
    mg_upstream_pick_t pick;
    mg_upstream_peer_t *single;   /* a per-request peer (proxy_pass with variables), no balancer */
    mg_str_t schema;              /* "http://" */
    mg_str_t uri;                 /* the URI sent, for the log's ", upstream: " */
    mg_buf_t *request_bufs;       /* the request (memory buffers), resent on every try; with
                                   * an unbuffered body its last link is the body's stream */
    int idempotent;
    unsigned head_method : 1;     /* the request sent is a HEAD (not the client's: proxy_method):
                                   * its answer has no body */

    /* The owner's hooks. process_header: copy the upstream's head (u->head) into
     * r->headers_out; MG_OK, or an HTTP status (the response is then not sent). */
    mg_int_t (*process_header)(mg_upstream_t *u);
    /* A Set-Cookie value as the client gets it (proxy_cookie_*); NULL: unchanged. */
    mg_str_t (*rewrite_cookie)(mg_upstream_t *u, mg_str_t value);
    /* set by the owner before the start (modules/proxy_extra.c) */
    mg_uint_t ignore_headers;       /* MG_UPSTREAM_IGN_*: the upstream's headers not acted on */
    struct sockaddr_storage *local; /* proxy_bind's address (NULL: none) */
    socklen_t local_len;
    mg_str_t local_name;       /* as written, for "bind(...) failed" */
    unsigned transparent : 1;  /* proxy_bind ... transparent */
    unsigned so_keepalive : 1; /* proxy_socket_keepalive */
    /* https (proxy_ssl_*): the client context (NULL: plain), the name sent as SNI (with
     * ssl_server_name) and checked (with ssl_verify) */
    struct ssl_ctx_st *ssl_ctx;
    mg_str_t ssl_name;
    unsigned ssl_server_name : 1;
    unsigned ssl_verify : 1;
    unsigned ssl_session_reuse : 1; /* a session of the peer resumed, the new one kept */
    /* proxy_ssl_certificate with variables: this request's pair, loaded into each new TLS
     * connection (empty: the context's own, if any); passwords from *_ssl_password_file */
    mg_str_t ssl_certificate, ssl_certificate_key;
    mg_array_t *ssl_passwords;
    /* A Location (or Refresh URL) as the client gets it (proxy_redirect); NULL: unchanged. */
    mg_str_t (*rewrite_redirect)(mg_upstream_t *u, mg_str_t value);
    /* A protocol that frames the response (FastCGI records, memcached's VALUE ... END):
     * decode turns the bytes just read, buf[0..*n), into the payload in place (*n becomes its
     * length); MG_OK, MG_DONE (the response ended: u->decoded_end, and what the buffer held
     * after it is dropped), MG_ERROR (logged by decode). The payload's end, not a length or the
     * connection's close, ends such a body. NULL: the bytes are an HTTP response. */
    mg_int_t (*decode)(mg_upstream_t *u, char *buf, size_t *n);
    /* Before each try: decode's state back to a response's start (a try before may have
     * ended anywhere in its answer). NULL: decode keeps none. */
    void (*reinit)(mg_upstream_t *u);
    /* Where, in the bytes the last decode call was given, its output byte at offset d came
     * from (or the input's length for d at the output's end): $upstream_response_length
     * counts the upstream's bytes after the head, framing included, as nginx's. NULL: d. */
    size_t (*raw_offset)(mg_upstream_t *u, size_t d);
    /* The response head's parser (NULL: mg_upstream_parse_response_head): the same answers,
     * MG_PARSE_INVALID_HEADER with error_at (size_t)-1 when it logged why itself. */
    ssize_t (*parse_head)(mg_upstream_t *u, const char *buf, size_t len, mg_upstream_head_t *h);
    /* An unbuffered body in a framed protocol (FastCGI records): the chain that carries the
     * stream's next n bytes ([stream->pos, +n), never the stream buffer itself, which the
     * reader may extend meanwhile), or with n 0 the body's end; it sets u->stream_slice to
     * the buffer holding those bytes. NULL: the stream goes as it is. */
    mg_buf_t *(*frame_stream)(mg_upstream_t *u, mg_buf_t *stream, size_t n);
    mg_buf_t *stream_slice;
    /* Make u->request_bufs again (balancer_by_lua's recreate_request, before a try): MG_OK or
     * MG_ERROR. NULL: the owner cannot. */
    mg_int_t (*recreate_request)(mg_upstream_t *u);
    void (*finalize)(mg_upstream_t *u, mg_int_t rc);
    void *data;
    const mg_upstream_driver_t *driver; /* NULL: the engine sends and reads HTTP/1.x bytes */
    void *driver_data;

    /* the current try */
    mg_upstream_conn_t *conn;
    mg_uint_t tries;
    mg_msec_t start;              /* first try, for proxy_next_upstream_timeout */
    mg_array_t states;            /* mg_upstream_state_t: the request's earlier exchanges' tries
                                     (before an internal redirect), then this one's */
    mg_uint_t states_before;      /* how many of them are the earlier exchanges' */
    mg_upstream_state_t *state;
    mg_buf_t *send_pos;           /* the request buffer being sent */
    char *send_off;
    off_t send_file_pos; /* ... when it is a file's */

    /* the response */
    char *hbuf;                   /* head buffer (proxy_buffer_size); the body's first bytes too */
    size_t hsize;                 /* its size (0: a cached head's copy, no room to read into) */
    size_t hlen;
    mg_upstream_head_t head;
    int64_t length;               /* body bytes still to come; -1: until close */
    mg_http_chunked_t chunked;
    mg_buf_t **bufs;              /* the body's buffers, reused once written */
    char **mem;
    mg_int_t nbufs;
    mg_int_t used;                /* buffers holding data not yet written */
    size_t bufsize;
    char *pending;                /* bytes after the head in hbuf, not yet passed on */
    size_t pending_len;

    /* tunnel (101) */
    char *tbuf_up, *tbuf_down;    /* client -> upstream, upstream -> client */
    size_t tup_pos, tup_len, tdown_pos, tdown_len;
    unsigned tclient_eof : 1, tupstream_eof : 1;

    unsigned header_sent : 1;     /* anything reached the client: no next upstream */
    unsigned request_sent : 1;
    unsigned sent_this_try : 1;   /* bytes of the request reached this try's peer */
    unsigned http09 : 1;          /* the upstream answered without a status line */
    unsigned keepalive : 1;       /* the upstream connection may be reused */
    unsigned chunked_body : 1;
    unsigned header_only : 1;
    unsigned upgrade : 1;         /* the client asked for an upgrade and we sent it on */
    unsigned tunnel : 1;
    unsigned done : 1;            /* finalized: events off, the connection released */
    unsigned reading_body : 1;
    unsigned
        cache_after_body : 1; /* the cache lookup waits for the body (mg_http_cache_after_body) */
    unsigned flushed : 1;     /* a flush followed the buffers last queued (postpone_output) */
    unsigned body_sent : 1;       /* unbuffered body bytes went out: they cannot be sent again */
    unsigned body_wait : 1;       /* the unbuffered body waits on the client */
    unsigned early : 1;           /* the response head came before the whole request went */
    unsigned invalid_body : 1;    /* a bad chunk: as nginx, what the writer holds back is not
                                     flushed before the close */
    unsigned buffering : 1;       /* this response's: proxy_buffering or X-Accel-Buffering */
    unsigned decoded_end : 1;     /* decode saw the response's end */
    unsigned stream_ended : 1;    /* frame_stream gave the body's end */
    unsigned store : 1;           /* *_store on (modules/upstream_store.c): as nginx, the client
                                     is not watched, and a buffered response is read to its end
                                     after the client went */
    struct mg_upstream_spool_s *spool; /* buffering: its state (upstream_spool.c) */
    /* buffered, the body filters failed (a body_filter_by_lua error): as nginx's event pipe,
     * nothing more is passed, not even the flush before the close */
    unsigned downstream_error : 1;
};

/* Start the first try (the request head and body are in u->request_bufs). Returns MG_DONE:
 * the request is finalized by the engine. */
mg_int_t mg_upstream_start(mg_upstream_t *u);

/* The engine's sending (upstream_body.c). The unbuffered body's stream (NULL: the body is
 * in the chain). */
mg_buf_t *mg_upstream_body_stream(mg_upstream_t *u);
/* Send the chain from u->send_pos on fd: MG_OK when all went, MG_AGAIN (the socket is full) or
 * MG_ERROR (errno tells, not logged). */
mg_int_t mg_upstream_send_chain(mg_upstream_t *u, int fd);
/* After the chain went out: MG_OK when the whole body is sent, MG_AGAIN when more of an
 * unbuffered body is queued, MG_DECLINED while waiting on the client, or the client's HTTP
 * status. */
mg_int_t mg_upstream_next_body_part(mg_upstream_t *u);

/* Whether r's response is an upstream's (the proxy's) and not a cacheable one: nginx leaves
 * conditional requests on it to the upstream (its not_modified filter is off unless the
 * response is cacheable, core/http/cache.c). */
int mg_upstream_responds(mg_request_t *r);

/* proxy_busy_buffers_size, proxy_temp_file_write_size, proxy_max_temp_file_size merged,
 * with nginx's defaults and checks against the buffers (p: "proxy"); MG_CONF_ERROR is logged. */
const char *mg_upstream_merge_buffers(mg_conf_t *cf, mg_upstream_conf_t *conf,
                                      mg_upstream_conf_t *prev, const char *p);

/* The upstream's X-Accel-Limit-Rate and X-Accel-Charset applied and, unless ignored, its
 * X-Accel-Redirect followed (upstream_accel.c): MG_DONE when the request was redirected (r
 * may be gone), MG_OK to go on with the response. */
mg_int_t mg_upstream_process_accel(mg_upstream_t *u);
/* The exchange is over: the connection closed, the peer freed; the request goes on. */
void mg_upstream_release(mg_upstream_t *u);

/* A response head without a status line, a CGI's (FastCGI, and uwsgi's and SCGI's without
 * an HTTP status line): header lines up to the blank line; the status from "Status" ("upstream
 * sent invalid status" when it is not 3 digits), else 302 with a Location, else 200. With
 * status_line_ok a leading "HTTP/x.y NNN ..." line is taken as the status. */
ssize_t mg_upstream_parse_cgi_head(mg_upstream_t *u, const char *buf, size_t len,
                                   mg_upstream_head_t *h, int status_line_ok);

/* ---- configuration shared by the protocols (upstream_conf.c) ---- */

/* Every field unset; merged with nginx's defaults and checks (p: "proxy", "fastcgi", ...). */
void mg_upstream_conf_init(mg_upstream_conf_t *c);
const char *mg_upstream_conf_merge(mg_conf_t *cf, mg_upstream_conf_t *conf,
                                   mg_upstream_conf_t *prev, const char *p);
/* *_next_upstream's names, {NULL}-terminated ("updating" is 0: the cache's) */
extern const mg_conf_enum_t mg_upstream_ft_names[];
/* Setters whose command's offset is the mg_upstream_conf_t's in the location's conf (post
 * non-NULL on *_next_upstream: memcached's few conditions). */
const char *mg_upstream_set_next_upstream(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_upstream_set_buffers(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_upstream_set_ignore_headers(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
const char *mg_upstream_set_bind(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* ... whose offset is the mg_array_t *'s: *_hide_header, *_pass_header */
const char *mg_upstream_set_header_list(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
/* *_ignore_headers, *_bind, *_socket_keepalive of u->conf on the request's upstream. */
void mg_upstream_conf_apply(mg_request_t *r, mg_upstream_t *u);
/* A local address as proxy_bind takes it ("IP" or "IP:port", "[IPv6]:port") into ss: MG_OK,
 * or MG_DECLINED when it is not one. */
mg_int_t mg_upstream_parse_local(mg_str_t text, struct sockaddr_storage *ss, socklen_t *len);
/* The lines a protocol hides by default (nginx's lists), for mg_upstream_copy_headers */
#define MG_UPSTREAM_HIDE_ACCEL 0x01       /* X-Accel-Expires, -Redirect, -Limit-Rate, ... */
#define MG_UPSTREAM_HIDE_STATUS 0x02      /* a CGI head's Status (FastCGI, SCGI) */
#define MG_UPSTREAM_HIDE_DATE_SERVER 0x04 /* Date, Server (proxy, gRPC) */
#define MG_UPSTREAM_HIDE_X_PAD 0x08       /* X-Pad (proxy) */
/* The upstream's head (u->head) into r->headers_out: hop-by-hop lines dropped, those of the
 * `hide` groups unless *_pass_header names them, *_hide_header's, Set-Cookie and Location
 * through the rewrite hooks. MG_OK. */
mg_int_t mg_upstream_copy_headers(mg_upstream_t *u, mg_uint_t hide);
/* The upstream's Content-Type becomes the response's (its charset= parameter noted). */
void mg_upstream_content_type(mg_request_t *r, mg_str_t val);

/* The directives of the family, as command rows for the protocol P ("fastcgi") whose loc
 * conf holds its mg_upstream_conf_t at offset B. BASE: every protocol's (memcached's);
 * HEADERS: those of the protocols that relay an HTTP response (not memcached); BUFFERED:
 * HEADERS and those of the protocols that buffer (not gRPC). */
#define MG_UPSTREAM_F(B, f) ((B) + offsetof(mg_upstream_conf_t, f))
#define MG_UPSTREAM_COMMANDS_BASE(P, B)                                                            \
    {P "_connect_timeout",                                                                         \
     MG_HTTP_ANY_LOC,                                                                              \
     MG_ARGS(1, 1),                                                                                \
     mg_conf_set_msec,                                                                             \
     MG_LOC_CONF,                                                                                  \
     MG_UPSTREAM_F(B, connect_timeout),                                                            \
     NULL},                                                                                        \
        {P "_send_timeout",                                                                        \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, 1),                                                                            \
         mg_conf_set_msec,                                                                         \
         MG_LOC_CONF,                                                                              \
         MG_UPSTREAM_F(B, send_timeout),                                                           \
         NULL},                                                                                    \
        {P "_read_timeout",                                                                        \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, 1),                                                                            \
         mg_conf_set_msec,                                                                         \
         MG_LOC_CONF,                                                                              \
         MG_UPSTREAM_F(B, read_timeout),                                                           \
         NULL},                                                                                    \
        {P "_next_upstream_tries",                                                                 \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, 1),                                                                            \
         mg_conf_set_num,                                                                          \
         MG_LOC_CONF,                                                                              \
         MG_UPSTREAM_F(B, next_upstream_tries),                                                    \
         NULL},                                                                                    \
        {P "_next_upstream_timeout",                                                               \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, 1),                                                                            \
         mg_conf_set_msec,                                                                         \
         MG_LOC_CONF,                                                                              \
         MG_UPSTREAM_F(B, next_upstream_timeout),                                                  \
         NULL},                                                                                    \
        {P "_buffer_size",                                                                         \
         MG_HTTP_ANY_LOC,                                                                          \
         MG_ARGS(1, 1),                                                                            \
         mg_conf_set_size,                                                                         \
         MG_LOC_CONF,                                                                              \
         MG_UPSTREAM_F(B, buffer_size),                                                            \
         NULL},                                                                                    \
        {P "_bind", MG_HTTP_ANY_LOC, MG_ARGS(1, 2), mg_upstream_set_bind, MG_LOC_CONF, (B), NULL}, \
    {                                                                                              \
        P "_socket_keepalive", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,            \
            MG_UPSTREAM_F(B, socket_keepalive), NULL                                               \
    }
/* One of the family's rows: P "_NAME" in any location context */
#define MG_UPSTREAM_ROW(P, N, ARGS, SET, OFF)                                                      \
    {                                                                                              \
        P N, MG_HTTP_ANY_LOC, ARGS, SET, MG_LOC_CONF, OFF, NULL                                    \
    }
#define MG_UPSTREAM_COMMANDS_HEADERS(P, B)                                                         \
    MG_UPSTREAM_ROW(P, "_next_upstream", MG_ARGS(1, MG_MANY), mg_upstream_set_next_upstream, (B)), \
        MG_UPSTREAM_ROW(P, "_intercept_errors", MG_FLAG, mg_conf_set_flag,                         \
                        MG_UPSTREAM_F(B, intercept_errors)),                                       \
        MG_UPSTREAM_ROW(P, "_hide_header", MG_ARGS(1, 1), mg_upstream_set_header_list,             \
                        MG_UPSTREAM_F(B, hide_headers)),                                           \
        MG_UPSTREAM_ROW(P, "_pass_header", MG_ARGS(1, 1), mg_upstream_set_header_list,             \
                        MG_UPSTREAM_F(B, pass_headers)),                                           \
        MG_UPSTREAM_ROW(P, "_ignore_headers", MG_ARGS(1, MG_MANY), mg_upstream_set_ignore_headers, \
                        (B))
#define MG_UPSTREAM_COMMANDS_BUFFERED(P, B)                                                        \
    MG_UPSTREAM_COMMANDS_HEADERS(P, B),                                                            \
        MG_UPSTREAM_ROW(P, "_buffers", MG_ARGS(2, 2), mg_upstream_set_buffers, (B)),               \
        MG_UPSTREAM_ROW(P, "_buffering", MG_FLAG, mg_conf_set_flag, MG_UPSTREAM_F(B, buffering)),  \
        MG_UPSTREAM_ROW(P, "_max_temp_file_size", MG_ARGS(1, 1), mg_conf_set_size,                 \
                        MG_UPSTREAM_F(B, max_temp_file_size)),                                     \
        MG_UPSTREAM_ROW(P, "_busy_buffers_size", MG_ARGS(1, 1), mg_conf_set_size,                  \
                        MG_UPSTREAM_F(B, busy_buffers_conf)),                                      \
        MG_UPSTREAM_ROW(P, "_temp_file_write_size", MG_ARGS(1, 1), mg_conf_set_size,               \
                        MG_UPSTREAM_F(B, temp_file_write_conf)),                                   \
        MG_UPSTREAM_ROW(P, "_ignore_client_abort", MG_FLAG, mg_conf_set_flag,                      \
                        MG_UPSTREAM_F(B, ignore_client_abort)),                                    \
        MG_UPSTREAM_ROW(P, "_request_buffering", MG_FLAG, mg_conf_set_flag,                        \
                        MG_UPSTREAM_F(B, request_buffering)),                                      \
        MG_UPSTREAM_ROW(P, "_pass_request_headers", MG_FLAG, mg_conf_set_flag,                     \
                        MG_UPSTREAM_F(B, pass_request_headers)),                                   \
        MG_UPSTREAM_ROW(P, "_pass_request_body", MG_FLAG, mg_conf_set_flag,                        \
                        MG_UPSTREAM_F(B, pass_request_body)),                                      \
        MG_UPSTREAM_ROW(P, "_limit_rate", MG_ARGS(1, 1), mg_conf_set_size,                         \
                        MG_UPSTREAM_F(B, limit_rate)),                                             \
        MG_UPSTREAM_ROW(P, "_force_ranges", MG_FLAG, mg_conf_set_flag,                             \
                        MG_UPSTREAM_F(B, force_ranges))
/* *_send_lowat, of proxy and fastcgi only (as nginx): SO_SNDLOWAT cannot be set on Linux, so
 * nginx warns "... is not supported, ignored" (ngx_http_upstream's lowat post handler) */
#define MG_UPSTREAM_COMMAND_SEND_LOWAT(P, B)                                                       \
    MG_UPSTREAM_ROW(P, "_send_lowat", MG_ARGS(1, 1), mg_http_set_send_lowat,                       \
                    MG_UPSTREAM_F(B, send_lowat))

/* A *_pass with variables: "unix:/path" as a peer, an IP literal "a.b.c.d[:port]" or
 * "[v6][:port]" as one (port_text: the port as written; dflt 0: a port is required); NULL
 * when the text is not one. */
mg_upstream_peer_t *mg_upstream_unix_peer(mg_request_t *r, mg_str_t hp);
mg_upstream_peer_t *mg_upstream_literal_peer(mg_request_t *r, mg_str_t hp, in_port_t dflt,
                                             mg_str_t *port_text);

/* Register a protocol's accessor to a request's upstream exchange (the engine's
 * mg_upstream_of asks each; NULL: not this protocol's). */
void mg_upstream_add_owner(mg_upstream_t *(*get)(mg_request_t *r));

/* Variables $upstream_addr ... $upstream_http_NAME; `get` finds a request's upstream. */
mg_int_t mg_upstream_add_variables(mg_conf_t *cf, mg_upstream_t *(*get)(mg_request_t *r));

/* HTTP/2 upstream (upstream_h2.c): the request's header fields (pseudo-headers first,
 * lowercase names), kept by the caller until the request ends. */
typedef struct {
    mg_str_t name, value;
} mg_upstream_h2_field_t;
/* Make u speak HTTP/2 (its driver): one stream with these fields, and the client's body
 * (the unbuffered stream) as its DATA when has_body. Call before mg_upstream_start. */
void mg_upstream_h2_setup(mg_upstream_t *u, const mg_upstream_h2_field_t *fields, size_t n,
                          int has_body);
/* An idle kept HTTP/2 connection is readable: its frames are read and answered (PING ACK,
 * SETTINGS ACK); 1 when it may stay idle, 0 to close it (EOF, an error, a GOAWAY). */
int mg_upstream_h2_idle(void *proto, int fd, mg_ssl_conn_t *ssl, mg_log_t *log);
/* A kept connection's session freed (NULL: nothing). */
void mg_upstream_h2_conn_free(void *proto);

/* The keepalive pool (upstream_keepalive.c), usable by any user of upstream connections: an
 * idle connection to the peer's address (its requests so far and when it was made), or NULL.
 * TLS connections are kept apart, by their client context: ssl_ctx NULL finds plain ones
 * only; a TLS one comes with its state (uc->ssl). HTTP/2 ones (h2) apart too, with their
 * session (uc->proto, upstream_h2.c's; the pool frees it with the connection). Its read watch
 * comes still registered, with no handler, its timer off. ka: the try's balancer keepalive
 * (its key's connections only), NULL: the keepalive directive's connections. */
mg_upstream_conn_t *mg_upstream_keepalive_get(mg_upstream_group_t *g, mg_upstream_peer_t *peer,
                                              mg_request_t *r, const mg_upstream_keepalive_t *ka,
                                              struct ssl_ctx_st *ssl_ctx, int h2);
/* Keep an idle connection (fully read, reusable, its events off; owned by the pool from now
 * on), or close it (the pool full of more recent ones, keepalive_requests or keepalive_time
 * reached, the server quitting); ka, when not NULL, gives the pool size, requests and timeout
 * instead of the group's keepalive directives. */
void mg_upstream_keepalive_put(mg_upstream_group_t *g, mg_upstream_peer_t *peer, mg_request_t *r,
                               mg_upstream_conn_t *uc, const mg_upstream_keepalive_t *ka);

#endif
