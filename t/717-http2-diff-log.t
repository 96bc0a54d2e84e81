# HTTP/2 log values as nginx counts a stream's bytes (found by a differential run against
# Debian's nginx 1.22): $request_length is the header block as it came (HEADERS without its
# padding and priority, then each CONTINUATION) and the DATA bytes; $bytes_sent is each of
# the stream's frames, 9 bytes of header and its payload, and $body_bytes_sent the DATA bytes.
# The client adds up the frames it got and compares them with the log line of each request.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/717-http2-diff-log.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

# a helper: the log line of a request (waited for, bounded), as a list of fields
h2_blocks(py_head => <<'_EOP_');
import os
def log_line(uri, timeout=5):
    path = os.path.join('$TEST_NGINX_LOG_DIR', 'len.log')
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            for line in open(path):
                f = line.split()
                if f[0] == 'LEN' and f[1] == uri:
                    return [int(x) for x in f[2:]]
        time.sleep(0.05)
    return None
def frames_of(r, sid):
    return [(n, p) for n, f, s, p in r.frames if s == sid and n in ('HEADERS', 'CONTINUATION', 'DATA')]
def check(r, sid, uri, request_length):
    fr = frames_of(r, sid)
    sent = sum(9 + len(p) for n, p in fr)
    body = sum(len(p) for n, p in fr if n == 'DATA')
    got = log_line(uri)
    print(uri, r.statuses.get(sid), 'request_length', got and got[0] == request_length,
          'bytes_sent', got and got[1] == sent, 'body_bytes_sent', got and got[2] == body, body)
    if not got or got != [request_length, sent, body]:
        print('  log', got, 'want', [request_length, sent, body])
ended = lambda r, sid: any(f & 1 and s == sid for n, f, s, p in r.frames if n in ('DATA', 'HEADERS')) or r.closed
def log_text(name, tag, count, timeout=5):
    """the log file's text once it has count lines of tag (bounded)"""
    path = os.path.join('$TEST_NGINX_LOG_DIR', name)
    deadline = time.time() + timeout
    while time.time() < deadline and (not os.path.exists(path) or open(path).read().count(tag) < count):
        time.sleep(0.05)
    return open(path).read() if os.path.exists(path) else ''
_EOP_

run_tests();

__DATA__

=== TEST 1: a GET, a 204 (head only), an error page, a file: $request_length, $bytes_sent and $body_bytes_sent from the frames
--- http_config
    log_format len "LEN $request_uri $request_length $bytes_sent $body_bytes_sent";
--- config
    access_log $TEST_NGINX_LOG_DIR/len.log len;
    location /r { return 200 "ok\n"; }
    location /e204 { return 204; }
    location /e404 { error_page 404 /ep; return 404; }
    location /ep { return 200 "page $status\n"; }
    location /f { alias $TEST_NGINX_HTML_DIR/f.txt; }
--- user_files
>>> f.txt
0123456789abcdef
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.read(0.3)
for sid, uri in ((1, '/r'), (3, '/e204'), (5, '/e404'), (7, '/f')):
    blk = r.block(uri, extra=[('x-a', 'a' * sid)])
    r.send(r.frame(1, 5, sid, blk))
    r.read(5, until=lambda: ended(r, sid))
    check(r, sid, uri, len(blk))
--- h2_out
/r 200 request_length True bytes_sent True body_bytes_sent True 3
/e204 204 request_length True bytes_sent True body_bytes_sent True 0
/e404 404 request_length True bytes_sent True body_bytes_sent True 9
/f 200 request_length True bytes_sent True body_bytes_sent True 17



=== TEST 2: a header block with padding and priority, in a HEADERS and two CONTINUATIONs: $request_length counts the block's bytes only
--- http_config
    log_format len "LEN $request_uri $request_length $bytes_sent $body_bytes_sent";
--- config
    access_log $TEST_NGINX_LOG_DIR/len.log len;
    location /r { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.read(0.3)
blk = r.block('/r?t2', extra=[('x-a', 'a' * 40), ('x-b', 'b' * 40)])
a, b, c = blk[:10], blk[10:30], blk[30:]
# PADDED (8) and PRIORITY (0x20), END_STREAM: pad length 4, dependency 0, weight 16
first = bytes([4]) + (0).to_bytes(4, 'big') + bytes([15]) + a + b'\0' * 4
r.send(r.frame(1, 0x29, 1, first) + r.frame(9, 0, 1, b) + r.frame(9, 4, 1, c))
r.read(5, until=lambda: ended(r, 1))
check(r, 1, '/r?t2', len(blk))
--- h2_out
/r?t2 200 request_length True bytes_sent True body_bytes_sent True 3



=== TEST 3: request bodies: the DATA bytes add to $request_length, with and without a content-length
--- http_config
    log_format len "LEN $request_uri $request_length $bytes_sent $body_bytes_sent";
--- config
    access_log $TEST_NGINX_LOG_DIR/len.log len;
    location /body {
        content_by_lua_block {
            ngx.req.read_body()
            local b = ngx.req.get_body_data() or ""
            ngx.say("got ", #b)
        }
    }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.read(0.3)
for sid, uri, cl in ((1, '/body?cl', True), (3, '/body?nocl', False)):
    blk = r.block(uri, method='POST', extra=[('content-length', '12')] if cl else [])
    r.send(r.frame(1, 4, sid, blk) + r.frame(0, 0, sid, b'12345') + r.frame(0, 1, sid, b'6789012'))
    r.read(5, until=lambda: ended(r, sid))
    check(r, sid, uri, len(blk) + 12)
--- h2_out
/body?cl 200 request_length True bytes_sent True body_bytes_sent True 7
/body?nocl 200 request_length True bytes_sent True body_bytes_sent True 7



=== TEST 4: a header block answered 400 is logged with what nginx had taken of it: the method (an invalid one too), the path, :authority as $http_host, HTTP/2.0; $request is "-"
--- http_config
    log_format rej "REJ $request_method|$request_uri|$request|$server_protocol|$http_host|$status";
--- config
    access_log $TEST_NGINX_LOG_DIR/rej.log rej;
    location / { return 200 "ok\n"; }
--- h2_py
cases = [
    [(':method', 'GET'), (':scheme', 'http'), (':authority', 'one')],
    [(':scheme', 'http'), (':path', '/two'), (':authority', 'two')],
    [(':method', 'get'), (':scheme', 'http'), (':path', '/three'), (':authority', 'three')],
    [(':method', 'GET'), (':scheme', 'http'), (':path', '/four'), (':bogus', 'x'), (':authority', 'four')],
]
r = Raw($TEST_NGINX_SERVER_PORT)
for i, h in enumerate(cases):
    r.send(r.frame(1, 5, 2 * i + 1, r.enc.encode(h)))
    r.read(5, until=lambda: ended(r, 2 * i + 1))
print(log_text('rej.log', 'REJ', 4), end='')
--- h2_out
REJ GET|-|-|HTTP/2.0|one|400
REJ -|/two|-|HTTP/2.0|two|400
REJ get|-|-|HTTP/2.0|-|400
REJ GET|/four|-|HTTP/2.0|-|400



=== TEST 5: a stream reset for a field nginx refuses (an uppercase name, a CR in a value) is logged as nginx logs it: status 000, what was taken of the block, nothing sent
--- http_config
    log_format drop "DROP $request_method|$request_uri|$request|$server_protocol|$http_host|$status|$body_bytes_sent";
--- config
    access_log $TEST_NGINX_LOG_DIR/drop.log drop;
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/one', extra=[('X-Up', '1')])))
r.read(5, until=lambda: 1 in r.resets())
r.send(r.frame(1, 5, 3, r.block('/two', extra=[('x-a', 'a\rb')])))
r.read(5, until=lambda: 3 in r.resets())
r.send(r.frame(1, 5, 5, r.block('/three')))
r.read(5, until=lambda: ended(r, 5))
print(r.resets(), r.statuses)
print(log_text('drop.log', 'DROP', 3), end='')
--- h2_out
{1: 1, 3: 1} {5: '200'}
DROP GET|/one|-|HTTP/2.0|localhost|000|0
DROP GET|/two|-|HTTP/2.0|localhost|000|0
DROP GET|/three|GET /three HTTP/2.0|HTTP/2.0|localhost|200|3



=== TEST 6: the connection ends in a stream's header block (a field over large_client_header_buffers, a block HPACK cannot decode): that stream is logged, status 000, as nginx logs it
--- http_config
    log_format cut "CUT $request_method|$request_uri|$request|$server_protocol|$status";
--- config
    access_log $TEST_NGINX_LOG_DIR/cut.log cut;
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/big', extra=[('x-a', '~' * 9000)])))
r.read(5, until=lambda: r.closed)
print('goaway', r.goaway())
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, b'\xff\xff\xff\xff'))
r.read(5, until=lambda: r.closed)
print('closed', r.closed)
print(log_text('cut.log', 'CUT', 2), end='')
--- h2_out
goaway (1, 11)
closed True
CUT GET|/big|-|HTTP/2.0|000
CUT -|-|-|HTTP/2.0|000
