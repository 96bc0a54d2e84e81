/*
 * libFuzzer target for moongate's HTTP/2 glue (core/http/v2*.c over libnghttp2): a whole
 * server (the embedding API, attached to this program's event_base) listens on a unix socket
 * with http2; each input is one client connection. The input is a list of operations, so that
 * lengths stay consistent and the fuzzer spends its time on the glue, not on frame framing:
 *   op % 16 < 10   a frame of that type: flags, stream id (1 byte), length (1 byte), payload
 *   10             a request's HEADERS: flags, stream id, which request (method, path from
 *                  the tables below), n, then n bytes of HPACK appended to the block
 *   11             run the loop until it is idle, reading what the server sent
 *   12             a DATA frame of 2-byte length filled with 'a' (flags, stream id, length)
 *   13             WINDOW_UPDATE by 1 MiB on the connection and a stream id
 *   14             n raw bytes
 *   15             stop or start reading (a client that does not read fills the socket)
 * The locations answer with return, a Lua handler reading the body, echo, a 100 KB file, a
 * chunked response with trailers and a subrequest. After the input the client closes; the
 * connection and every stream must be gone after a bounded number of loop turns (else a stream
 * is held forever), and LeakSanitizer checks what they freed. Beyond crashes, what the server
 * sends must parse as frames no larger than the default 16384 bytes unless SETTINGS raised it.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=h2); FUZZ_H2_LOG=1 objs/fuzz/fuzz_h2 FILE lists the frames
 * the server sent.
 *
 * fuzz-link: libmoongate
 */
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "moongate.h"
#include "server.h"

static char dir[64];
static char sock_path[128];
static struct event_base *base;
static moongate_server_t *srv;
static int verbose; /* FUZZ_H2_LOG: the frames received, on stderr */

static const char *const requests[][2] = {
    {"GET", "/"},      {"POST", "/body"}, {"GET", "/file"},  {"GET", "/trailer"},
    {"POST", "/echo"}, {"GET", "/sub"},   {"HEAD", "/file"}, {"GET", "/missing"},
    {"PUT", "/body"},  {"GET", "/lua"},   {"OPTIONS", "*"},  {"CONNECT", "x:1"},
};

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static void cleanup(void)
{
    if (srv) {
        moongate_server_stop(srv, 0);
        for (int i = 0; i < 100 && !moongate_server_stopped(srv); i++) {
            event_base_loop(base, EVLOOP_NONBLOCK);
        }
        moongate_server_destroy(srv);
    }
    if (dir[0]) {
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/mg-fuzz-h2.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    atexit(cleanup);
    char path[160];
    snprintf(path, sizeof(path), "%s/logs", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/html", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/html/file", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 100 * 1024 / 64; i++) {
        fprintf(f, "%063d\n", i);
    }
    fclose(f);
    snprintf(sock_path, sizeof(sock_path), "%s/h2.sock", dir);

    char conf[4096];
    snprintf(conf, sizeof(conf),
             "master_process off; daemon off; pid logs/pid; error_log /dev/null;\n"
             "events { worker_connections 64; }\n"
             "http {\n"
             "  access_log off;\n"
             "  server {\n"
             "    listen unix:%s http2;\n"
             "    http2_max_concurrent_streams 8;\n"
             "    http2_body_preread_size 1k;\n"
             "    http2_chunk_size 1k;\n"
             "    large_client_header_buffers 4 512;\n"
             "    keepalive_requests 40;\n"
             "    client_max_body_size 8k;\n"
             "    location / { return 200 \"ok\\n\"; }\n"
             "    location /body { content_by_lua_block {\n"
             "        ngx.req.read_body() ngx.say(ngx.req.get_body_data()) } }\n"
             "    location /lua { content_by_lua_block {\n"
             "        ngx.say(ngx.var.http2, ngx.var.request) ngx.flush()\n"
             "        ngx.print(string.rep('x', 70000)) } }\n"
             "    location /echo { echo_read_request_body; echo_request_body; }\n"
             "    location /file { root html; }\n"
             "    location /trailer { add_trailer x-t 1; return 200 \"t\\n\"; }\n"
             "    location /sub { echo_location /; echo_location /file; }\n"
             "  }\n"
             "}\n",
             sock_path);
    mg_log_set_use_stderr(0);
    verbose = getenv("FUZZ_H2_LOG") != NULL;
    moongate_options_t opts = {.prefix = dir, .conf_string = conf, .error_log = "/dev/null"};
    char err[512];
    srv = moongate_server_create(&opts, err, sizeof(err));
    if (srv == NULL) {
        fprintf(stderr, "fuzz_h2: %s\n", err);
        abort();
    }
    base = event_base_new();
    if (moongate_server_attach(srv, base) != 0) {
        abort();
    }
    return 0;
}

/* What the server sent, checked as a sequence of frames. */
typedef struct {
    uint8_t buf[32768];
    size_t len;
    uint32_t max_frame; /* what the client's SETTINGS allowed */
} out_t;

static void check_output(out_t *o)
{
    size_t at = 0;
    while (o->len - at >= 9) {
        uint32_t n = (uint32_t)o->buf[at] << 16 | (uint32_t)o->buf[at + 1] << 8 | o->buf[at + 2];
        if (n > o->max_frame) {
            fprintf(stderr, "fuzz_h2: a frame of %u bytes (type %u)\n", n, o->buf[at + 3]);
            abort();
        }
        if (o->len - at - 9 < n) {
            break;
        }
        if (verbose) {
            fprintf(stderr, "<- type %u flags %u stream %u length %u\n", o->buf[at + 3],
                    o->buf[at + 4],
                    (unsigned)(o->buf[at + 5] & 0x7f) << 24 | (unsigned)o->buf[at + 6] << 16 |
                        (unsigned)o->buf[at + 7] << 8 | o->buf[at + 8],
                    n);
        }
        at += 9 + n;
    }
    memmove(o->buf, o->buf + at, o->len - at);
    o->len -= at;
    if (o->len == sizeof(o->buf)) {
        abort();
    }
}

static void drain(int fd, out_t *o)
{
    for (;;) {
        ssize_t n = recv(fd, o->buf + o->len, sizeof(o->buf) - o->len, MSG_DONTWAIT);
        if (n <= 0) {
            return;
        }
        o->len += (size_t)n;
        check_output(o);
    }
}

static void run_loop(int fd, out_t *o, int reading)
{
    for (int i = 0; i < 8; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (reading) {
            drain(fd, o);
        }
    }
}

/* Write all of data, turning the loop while the socket is full (bounded). */
static void put(int fd, const uint8_t *d, size_t len, out_t *o, int reading)
{
    for (int tries = 0; len && tries < 64;) {
        ssize_t n = send(fd, d, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            d += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN) {
            return; /* the server closed */
        }
        tries++;
        run_loop(fd, o, reading);
    }
}

static void frame_head(uint8_t *h, size_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
    h[0] = (uint8_t)(len >> 16);
    h[1] = (uint8_t)(len >> 8);
    h[2] = (uint8_t)len;
    h[3] = type;
    h[4] = flags;
    h[5] = (uint8_t)(sid >> 24);
    h[6] = (uint8_t)(sid >> 16);
    h[7] = (uint8_t)(sid >> 8);
    h[8] = (uint8_t)sid;
}

/* An HPACK literal field without indexing, new name (RFC 7541 6.2.2); short strings only. */
static size_t hpack_field(uint8_t *p, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    p[0] = 0;
    p[1] = (uint8_t)nl;
    memcpy(p + 2, name, nl);
    p[2 + nl] = (uint8_t)vl;
    memcpy(p + 3 + nl, value, vl);
    return 3 + nl + vl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    if (connect(sv, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("connect");
        abort();
    }
    static out_t out;
    out.len = 0;
    out.max_frame = 16384;
    int reading = 1;
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    uint8_t settings[9];
    frame_head(settings, 0, 4, 0, 0);
    put(sv, (const uint8_t *)preface, sizeof(preface) - 1, &out, reading);
    put(sv, settings, 9, &out, reading);

    static uint8_t fr[9 + 65536];
    size_t at = 0;
    while (at < size) {
        uint8_t op = data[at++] % 16;
        size_t left = size - at;
        if (op < 10) {
            if (left < 3) {
                break;
            }
            uint8_t flags = data[at], sid = data[at + 1];
            size_t n = mg_min((size_t)data[at + 2], left - 3);
            frame_head(fr, n, op, flags, sid);
            memcpy(fr + 9, data + at + 3, n);
            if (op == 4 && !(flags & 1)) {
                /* SETTINGS_MAX_FRAME_SIZE the client gives: larger frames become allowed */
                for (size_t i = 0; i + 6 <= n; i += 6) {
                    const uint8_t *s = data + at + 3 + i;
                    if ((s[0] << 8 | s[1]) == 5) {
                        uint32_t v = (uint32_t)s[2] << 24 | (uint32_t)s[3] << 16 |
                                     (uint32_t)s[4] << 8 | s[5];
                        if (v >= 16384 && v <= 16777215 && v > out.max_frame) {
                            out.max_frame = v;
                        }
                    }
                }
            }
            put(sv, fr, 9 + n, &out, reading);
            at += 3 + n;
        } else if (op == 10) {
            if (left < 4) {
                break;
            }
            uint8_t flags = data[at], sid = data[at + 1];
            const char *const *rq = requests[data[at + 2] % mg_nelems(requests)];
            size_t n = mg_min((size_t)data[at + 3], left - 4);
            size_t len = 0;
            uint8_t *p = fr + 9;
            len += hpack_field(p + len, ":method", rq[0]);
            len += hpack_field(p + len, ":scheme", "http");
            len += hpack_field(p + len, ":authority", "localhost");
            len += hpack_field(p + len, ":path", rq[1]);
            memcpy(p + len, data + at + 4, n);
            len += n;
            /* PADDED and PRIORITY need bytes the block does not have: left to op < 10 */
            frame_head(fr, len, 1, flags & ~0x28, sid);
            put(sv, fr, 9 + len, &out, reading);
            at += 4 + n;
        } else if (op == 11) {
            run_loop(sv, &out, reading);
        } else if (op == 12) {
            if (left < 4) {
                break;
            }
            size_t n = (size_t)(data[at + 2] << 8 | data[at + 3]);
            frame_head(fr, n, 0, data[at], data[at + 1]);
            memset(fr + 9, 'a', n);
            put(sv, fr, 9 + n, &out, reading);
            at += 4;
        } else if (op == 13) {
            if (left < 1) {
                break;
            }
            uint8_t w[26];
            frame_head(w, 4, 8, 0, 0);
            frame_head(w + 13, 4, 8, 0, data[at]);
            w[9] = w[22] = 0;
            w[10] = w[23] = 0x10;
            w[11] = w[24] = 0;
            w[12] = w[25] = 0;
            put(sv, w, 26, &out, reading);
            at += 1;
        } else if (op == 14) {
            if (left < 1) {
                break;
            }
            size_t n = mg_min((size_t)data[at], left - 1);
            put(sv, data + at + 1, n, &out, reading);
            at += 1 + n;
        } else {
            reading = !reading;
        }
    }
    run_loop(sv, &out, 1);
    close(sv);

    /* the connection and its streams must go once the client is gone */
    mg_server_t *s = srv;
    for (int i = 0; i < 200 && s->nconnections; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    if (s->nconnections) {
        fprintf(stderr, "fuzz_h2: %lu connection(s) left after the client closed\n",
                (unsigned long)s->nconnections);
        abort();
    }
    /* streams' connections are freed on a later turn */
    for (int i = 0; i < 4; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    return 0;
}
