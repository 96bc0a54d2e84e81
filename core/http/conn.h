/*
 * Per-connection HTTP state: the read buffer the request head is parsed in (reused across
 * keepalive requests), the current request and the writer's queue.
 */
#ifndef MG_HTTP_CONN_H
#define MG_HTTP_CONN_H

#include "http.h"

typedef struct mg_http_conn_s {
    mg_http_addr_conf_t *addr_conf;
    /* the connection's server (nginx's hc->conf_ctx): the address's default server, or the one
     * SNI named; each request starts on it until its Host chooses, and what comes before the
     * Host takes its settings: the head's buffers and limits, client_header_timeout between
     * requests, header checks, error_page, error_log and the log's "server:", h2's settings */
    mg_http_srv_conf_t *srv;
    char *buf; /* malloc'ed, freed by a pool cleanup; or the pool's (buf_pooled) */
    size_t size;
    size_t start;       /* unparsed data is buf[start..last) */
    size_t last;
    mg_request_t *r;
    mg_request_t *current; /* the request an event last ran for: a subrequest's error-log lines
                            * name it; NULL (r's) once it is freed */
    /* the head being read: the parser's state kept between reads (offsets from buf + start;
     * its strings are rebased when the buffer moves) and its header array, which grows; NULL
     * with buf while the connection waits with nothing buffered (connection.c) */
    mg_http_request_head_t *head;
    int64_t discard_rest;    /* body bytes of a finished request still to drop */
    /* no body is parsed once the connection lingers (mg_http_conn_linger, the end): the
     * chunked parser's room then holds the lingering close's times (mg_http_conn_t 16 bytes
     * less for every connection) */
    union {
        mg_http_chunked_t discard_chunked;
        struct {
            mg_msec_t deadline;
            mg_msec_t timeout; /* the longest wait for more input */
        } lingering;
    };
    /* sendfile off or aio (write_file.c): the scratch file bytes are read into for the next
     * writev and the thread task; malloc'ed when a request first needs it, freed when the
     * request ends (not kept by an idle connection: mg_http_conn_t 272 -> 224 bytes) */
    struct mg_http_file_reader_s *reader;
    unsigned discard_chunked_on : 1;
    unsigned discarding : 1;
    unsigned keepalive_idle : 1; /* waiting for the next request after a response */
    unsigned corked : 1;         /* TCP_CORK set for tcp_nopush until the response is out */
    unsigned head_timer_due : 1; /* a head began after the keepalive wait: its timer is armed
                                    when it must wait for more (the wait's runs until then) */
    unsigned pipelined : 1;      /* the head in the buffer came with the previous request */
    unsigned head_pipelined : 1; /* the request being handled came so ($pipe) */
    unsigned delayed : 1;        /* limit_rate: the writer waits for its timer, not the socket */
    unsigned aio_busy : 1;       /* aio: the writer waits for a thread's read */
    unsigned ssl : 1;            /* a "listen ... ssl" address (c->ssl: TLS was spoken) */
    unsigned ssl_sni_server : 1; /* the SNI name is one of the address's servers' names (a
                                    name no server has falls to the default without it):
                                    only then may a Host naming another be refused 421 */
    unsigned proxy_protocol : 1; /* the PROXY protocol header is still to be read */
    unsigned v2_preface : 1;     /* plain h2 may begin here: the first bytes are checked */
    unsigned buf_pooled : 1;     /* buf is the pool's: an h2 stream's head without a body */
    /* (beside the bits, in what would be padding: every connection's pool holds this) */
    unsigned char stat; /* what stub_status counts it as: MG_STAT_NONE, _READING, _WRITING */
    /* a file piece's most when not 0 (an h2 stream: what its buffer takes, 16 KiB); here, in
     * what was padding: mg_http_conn_t 280 -> 272 bytes, the pool's first block 1056 -> 1040 */
    uint32_t piece_max;
    struct mg_http_v2_conn_s *v2;       /* the connection speaks h2 (v2.c) */
    struct mg_http_v2_stream_s *stream; /* a request connection of an h2 stream (v2_stream.c):
                                           no socket, the stream's I/O */
} mg_http_conn_t;

/* What every HTTP connection puts in its pool after its mg_connection_t (the first block's
 * first bytes), as mg_conn_create and mg_http_init_connection allocate it: the client's
 * address (c->sockaddr: 16 bytes for an IPv4 client, 28 for an IPv6 one; a unix path's NUL,
 * mg_sockaddr_dup's, is counted in the second's room, as a port's other families) and its
 * text (c->addr_text, unaligned), its mg_http_conn_t, its cleanup (buffers, head and request)
 * and, on a port where h2 may be spoken, h2's (the session) and the local address
 * (mg_conn_local_addr: an h2 connection's first stream copies it, and without its room there
 * it took a whole second block, 512 bytes of every idle h2 connection, for its 17 or 29). The
 * pool's first block holds that whatever connection_pool_size (the blocks' size with their
 * headers, 512 as nginx's) says, so the connection's state takes one allocation, not a 2k
 * block mostly unused; sized for the listening socket's family (an IPv4 one's clients 32 bytes
 * less) and its protocols (a cleanup and the local address less without h2). The pieces before
 * the cleanups are 16-byte multiples and a cleanup record is 8-byte aligned: one takes its 24
 * bytes (an IPv4 port's block 792 bytes, an 800-byte malloc chunk, not 816); with h2, two and
 * the local address, in either order, 8 bytes of padding at most (an IPv4 h2 port's 840, an
 * 848-byte chunk, not 864). */
static inline size_t mg_http_conn_pool_first(int family, int h2)
{
    size_t addr = family == AF_INET ? sizeof(struct sockaddr_in) + sizeof("255.255.255.255")
                                    : sizeof(struct sockaddr_in6) + 1 + MG_CONN_ADDR_TEXT_MAX;
    size_t local = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6) + 1;
    return (addr + 15) / 16 * 16 + (sizeof(mg_http_conn_t) + 15) / 16 * 16 +
           (h2 ? 2 * MG_POOL_CLEANUP_ALIGNED + 8 + (local + 15) / 16 * 16
               : MG_POOL_CLEANUP_ALIGNED);
}

/* ---- reading file buffers for the writer (write_file.c) ---- */
typedef struct mg_http_file_reader_s mg_http_file_reader_t;
int mg_http_file_reader_holds_slow(const mg_http_conn_t *hc, const mg_buf_t *b);
void mg_http_file_reader_written_slow(mg_http_conn_t *hc, const mg_buf_t *b);
/* Whether b is the queued buffer last read into the scratch (the writer must not hold it). */
static inline int mg_http_file_reader_holds(const mg_http_conn_t *hc, const mg_buf_t *b)
{
    return hc->reader && mg_http_file_reader_holds_slow(hc, b);
}
/* b was written: if it was the scratch's last buffer, the scratch is free again. */
static inline void mg_http_file_reader_written(mg_http_conn_t *hc, const mg_buf_t *b)
{
    if (hc->reader) {
        mg_http_file_reader_written_slow(hc, b);
    }
}
#define MG_HTTP_PIECE_PENDING ((mg_buf_t *)-1)
/* The next piece of file buffer *link, read into the scratch and queued before it: the new
 * memory buffer; *link itself when the scratch is full of bytes not written yet; NULL after
 * logging (the response is broken); or MG_HTTP_PIECE_PENDING: a thread reads it (aio), and
 * mg_http_writer_resume runs when it is in. */
mg_buf_t *mg_http_read_piece(mg_request_t *r, mg_buf_t **link);
/* sendfile with aio: MG_OK once len bytes of b from file_pos were read ahead in a thread,
 * MG_AGAIN while one does it (the writer resumes then), MG_ERROR (logged). */
mg_int_t mg_http_preload(mg_request_t *r, mg_buf_t *b, size_t len);
/* aio threads: the pool r's location uses (NULL after logging that a named one is missing). */
struct mg_thread_pool_s *mg_http_aio_pool(mg_request_t *r);
/* The request ends: its scratch and task go (a task still in a thread frees itself). */
void mg_http_file_reader_reset(mg_http_conn_t *hc);
/* The writer goes on as when the socket became writable (write.c). */
void mg_http_writer_resume(mg_connection_t *c);
/* What postpone_output holds unsent is dropped, unless the writer waits for the socket, a
 * limit_rate timer or a thread (write.c): for a raw request socket, as nginx never sends it. */
void mg_http_drop_postponed(mg_request_t *r);

/* Drop the request body bytes the buffer holds: MG_OK (all of it gone), MG_AGAIN, MG_ERROR. */
mg_int_t mg_http_discard_buffered(mg_connection_t *c);
void mg_http_write_filters_init(mg_conf_t *cf);
/* Forget the writer's per-request state (the request pool is being freed). */
void mg_http_writer_reset(mg_http_conn_t *hc);
/* A request on the connection's server (hc->srv), before its head is known (request.c). */
mg_request_t *mg_http_create_request(mg_connection_t *c);
/* Detach r from its connection and free its pool (request.c). */
void mg_http_free_request(mg_request_t *r);

/* What the connection does once a request is done (connection.c): decided from the request
 * before it is freed, acted upon after. */
typedef struct {
    unsigned keepalive : 1;
    unsigned lingering : 1;
    unsigned body_left : 1; /* an unread request body to discard before the next head */
    unsigned reset : 1;     /* timed out, and reset_timedout_connection: close with an RST */
    unsigned tcp_nodelay : 1;
    mg_msec_t keepalive_timeout, lingering_timeout, lingering_time;
} mg_http_conn_next_t;
void mg_http_conn_decide(mg_request_t *r, mg_http_conn_next_t *next);
/* TCP_NODELAY, once per connection, where the tcp_nodelay flag `on` is; at nginx's moments: a
 * connection going keepalive, a TLS one after its handshake, unbuffered proxying, a 101 tunnel.
 * Not at every response: a closing connection's tail leaves with the FIN without it, and the
 * setsockopt is one system call of the ~13 a plain HTTP/1.0 connection costs. */
void mg_http_tcp_nodelay(mg_connection_t *c, int on);
void mg_http_conn_continue(mg_connection_t *c, const mg_http_conn_next_t *next);
/* Close c lingering (read and drop the client's bytes for up to timeout between reads, time in
 * all); HTTP/1 after a response, HTTP/2 after its last GOAWAY. */
void mg_http_conn_linger(mg_connection_t *c, mg_msec_t timeout, mg_msec_t time);
/* Free hc->head (h2 takes over the connection). */
void mg_http_conn_head_free(mg_http_conn_t *hc);
/* Begin processing a parsed head found in hc->buf (connection.c -> headers_in.c). */
void mg_http_process_request_head(mg_connection_t *c, mg_http_request_head_t *head, size_t used);
/* The line at which nginx refuses a head still arriving, among its complete lines from `from`
 * up to the nlines-th (0 the request line, k the k-th header line), as it takes each line
 * when it comes: a
 * request line it cannot take, an invalid Host, a second line of a unique header; SIZE_MAX
 * when none is. Processing the head's complete lines then refuses it at that line. */
size_t mg_http_head_refused_at(const mg_http_request_head_t *head, size_t from, size_t nlines,
                               int merge_slashes);
/* Whether ignore_invalid_headers under cscf skips a header line of this name; a plain name
 * (letters, digits, '-') no server skips. */
int mg_http_header_skipped(const mg_http_srv_conf_t *cscf, mg_str_t name);
int mg_http_header_name_plain(mg_str_t name);
/* nginx's [info] line for a header line ignore_invalid_headers skipped, with the head's
 * context: logged as the line comes (connection.c for a head still arriving, headers_in.c when
 * the head is taken, v2_stream.c for an HTTP/2 field, h2 set). nginx's words differ by
 * protocol: HTTP/1's quote the line up to the value's end, HTTP/2's the field's name. */
void mg_http_log_skipped(mg_connection_t *c, mg_str_t name, mg_str_t value, int h2);
/* A head refused or timed out while `line` (the line being read) was arriving: r gets what nginx
 * had made of it by then (the request line's parts, the bytes before `line` as
 * $request_length, the first Host and its server), in copies of its own. */
void mg_http_partial_head(mg_request_t *r, mg_http_request_head_t *head, const char *line);

/* The connection's server becomes srv (at accept, and when SNI names one): its error_log
 * speaks for the connection from now, as nginx's servername callback switches it. */
void mg_http_conn_set_server(mg_connection_t *c, mg_http_srv_conf_t *srv);
/* Wait for a request head (the connection's start once TLS is up, or on plain HTTP). */
void mg_http_wait_request_start(mg_connection_t *c);
/* A request's reader (its body) is done with the client connection: reading stays on, and
 * the next report while the request runs turns it off, so the common request costs no
 * epoll_ctl. Not for h2 streams. */
void mg_http_conn_reader_done(mg_connection_t *c);
/* HTTPS (ssl.c): take over a new connection on a "listen ... ssl" address; a request head's
 * checks (plain HTTP -> 497, client certificate -> 495/496, 421): MG_OK or finalized; the
 * contexts of every server; an address's TLS ("ssl on" in its default server too) and the
 * check that its default server can handshake. */
void mg_http_ssl_init_connection(mg_connection_t *c);
mg_int_t mg_http_ssl_check_request(mg_request_t *r);
mg_int_t mg_http_ssl_check_server(mg_request_t *r, mg_http_srv_conf_t *srv);
mg_int_t mg_http_ssl_init_servers(mg_conf_t *cf);
mg_int_t mg_http_ssl_check_addr(mg_conf_t *cf, mg_http_addr_conf_t *addr);

/* ssl_certificate/_key pairs with variables (ssl_cert.c): compiled while the configuration is
 * read (NULL: no variables, the pair is loaded then; MG_HTTP_SSL_CERT_VAR_ERROR: logged), and
 * loaded into a handshake's SSL from the certificate callback: MG_OK, or MG_ERROR (logged). */
typedef struct mg_http_ssl_cert_var_s mg_http_ssl_cert_var_t;
#define MG_HTTP_SSL_CERT_VAR_ERROR ((mg_http_ssl_cert_var_t *)-1)
mg_http_ssl_cert_var_t *mg_http_ssl_cert_var(mg_conf_t *cf, mg_str_t cert, mg_str_t key);
/* The same for a stream{} server (stream variables). */
mg_http_ssl_cert_var_t *mg_http_ssl_cert_var_stream(mg_conf_t *cf, mg_str_t cert, mg_str_t key);
struct ssl_st;
/* The pair's values for r (proxy_ssl_certificate with variables). */
void mg_http_ssl_cert_var_value(mg_request_t *r, mg_http_ssl_cert_var_t *v, mg_str_t *cert,
                                mg_str_t *key);
/* Loads a certificate (its chain after it) and key, files or "data:", into ssl (names in
 * pool); the failure logged with nginx's words on c. */
mg_int_t mg_http_ssl_use_pair(mg_connection_t *c, mg_pool_t *pool, struct ssl_st *ssl,
                              mg_str_t cert, mg_str_t key, mg_array_t *passwords);
mg_int_t mg_http_ssl_cert_load(mg_connection_t *c, mg_http_srv_conf_t *srv, struct ssl_st *ssl,
                               mg_array_t *vars, mg_array_t *passwords);
/* The same for a stream session's handshake (c->data the session). */
mg_int_t mg_http_ssl_cert_load_stream(mg_connection_t *c, struct ssl_st *ssl, mg_array_t *vars,
                                      mg_array_t *passwords);

/* ssl_stapling on (ssl_stapling.c): every certificate of ctx gets the response of
 * ssl_stapling_file, or one its OCSP responder gives a worker, for the clients that ask;
 * MG_OK or MG_ERROR (logged, "in where"). mg_http_ssl_cert_name names the certificate just
 * loaded into ctx (its file), for the messages. */
struct ssl_ctx_st;
typedef struct {
    mg_str_t file;                  /* ssl_stapling_file; empty: ask the responder */
    mg_str_t responder;             /* ssl_stapling_responder; empty: the certificate's URL */
    int verify;                     /* ssl_stapling_verify */
    struct mg_resolver_s *resolver; /* the server's resolver, for a responder's name */
    mg_msec_t resolver_timeout;
    const char *where;
} mg_http_ssl_stapling_conf_t;
mg_int_t mg_http_ssl_stapling(mg_conf_t *cf, struct ssl_ctx_st *ctx,
                              const mg_http_ssl_stapling_conf_t *sc);
void mg_http_ssl_cert_name(struct ssl_ctx_st *ctx, const char *name);
/* ctx sends the OCSP response a certificate hook set on the connection (ngx.ocsp) to a client
 * that asked for one; stapling's own responses otherwise. */
void mg_http_ssl_status_given(struct ssl_ctx_st *ctx);

/* ssl_ocsp (ssl_ocsp.c): the setter of ssl_ocsp_cache (an mg_shm_table_t * at cmd->offset,
 * MG_CONF_UNSET_PTR until set; NULL: off); a server's settings, NULL when the responder's URL
 * is wrong (logged, "in where"); the check after a handshake: MG_OK when it is known at once
 * (c->ssl->ocsp_error set if the certificate failed), MG_AGAIN while responders are asked:
 * done(c) comes when they answered. */
typedef struct mg_http_ssl_ocsp_conf_s mg_http_ssl_ocsp_conf_t;
struct mg_shm_table_s;
const char *mg_http_ssl_set_ocsp_cache(mg_conf_t *cf, const mg_command_t *cmd, void *conf);
mg_http_ssl_ocsp_conf_t *mg_http_ssl_ocsp_conf(mg_conf_t *cf, int leaf, mg_str_t responder,
                                               struct mg_shm_table_s *cache,
                                               struct mg_resolver_s *resolver,
                                               mg_msec_t resolver_timeout, const char *where);
mg_int_t mg_http_ssl_ocsp_validate(mg_connection_t *c, const mg_http_ssl_ocsp_conf_t *oc,
                                   mg_conn_handler_pt done);

/* Build the phase engine from the handlers registered per phase (end of http{}). */
mg_int_t mg_http_init_phase_engine(mg_conf_t *cf);

#endif
