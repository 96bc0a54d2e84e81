# HTTP/2 connection-level behaviour as Debian's nginx 1.22 shows it in a differential run:
# the SETTINGS it sends, frames it takes. Frames by hand (t/lib/h2util.py's Raw).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/720-http2-diff-frames.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_blocks(py_head => <<'_EOP_');
import os
def slow_gone(r, uri):
    """once /slow's first DATA came (the handler sleeps): the log line of uri (bounded)"""
    log = os.path.join('$TEST_NGINX_LOG_DIR', 'gone.log')
    deadline = time.time() + 10
    while time.time() < deadline and not (os.path.exists(log) and 'GONE ' + uri + ' ' in open(log).read()):
        time.sleep(0.05)
    return [l for l in open(log).read().split('\n') if l.startswith('GONE ' + uri + ' ')]
_EOP_

run_tests();

__DATA__

=== TEST 1: the server's SETTINGS are nginx's three (streams, window, MAX_FRAME_SIZE 2^24-1), and a 20000-byte DATA frame is taken once they are acknowledged
--- config
    http2_body_preread_size 65536;
    location /body {
        content_by_lua_block {
            ngx.req.read_body()
            local b = ngx.req.get_body_data()
            local f = ngx.req.get_body_file()
            ngx.say("body ", b and #b or (f and io.open(f):seek("end")))
        }
    }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.read(2, until=lambda: any(n == 'SETTINGS' and not f & 1 for n, f, s, p in r.frames))
p = [p for n, f, s, p in r.frames if n == 'SETTINGS' and not f & 1][0]
print(sorted((int.from_bytes(p[i:i + 2], 'big'), int.from_bytes(p[i + 2:i + 6], 'big')) for i in range(0, len(p), 6)))
r.send(r.frame(1, 4, 1, r.block('/body', method='POST')) + r.frame(0, 1, 1, b'x' * 20000))
r.read(5, until=lambda: r.closed or any(n == 'DATA' and f & 1 and s == 1 for n, f, s, p in r.frames))
print(r.statuses.get(1), b''.join(p for n, f, s, p in r.frames if n == 'DATA' and s == 1), r.goaway())
--- h2_out
[(3, 128), (4, 65536), (5, 16777215)]
200 b'body 20000\n' None



=== TEST 2: the client closes its connection while a stream's response is under way: "client prematurely closed connection", as nginx; the handler's later output fails silently
--- http_config
    log_format gone "GONE $request_uri $status";
--- config
    access_log $TEST_NGINX_LOG_DIR/gone.log gone;
    location /slow {
        content_by_lua_block {
            ngx.print(string.rep("x", 100))
            ngx.flush(true)
            ngx.sleep(0.5)
            ngx.print(string.rep("y", 100))
        }
    }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/slow')))
r.read(5, until=lambda: any(n == 'DATA' and s == 1 for n, f, s, p in r.frames))
r.sock.close()
print(slow_gone(r, '/slow'))
--- h2_out_like
^\['GONE /slow \d+'\]$
--- error_log
client prematurely closed connection while processing HTTP/2 connection
--- no_error_log
client closed connection
writev() failed



=== TEST 3: the client resets a stream whose handler goes on writing: the reset is logged, the failed writes are not
--- http_config
    log_format gone "GONE $request_uri $status";
--- config
    access_log $TEST_NGINX_LOG_DIR/gone.log gone;
    location /slow {
        content_by_lua_block {
            ngx.print(string.rep("x", 100))
            ngx.flush(true)
            ngx.sleep(0.5)
            ngx.print(string.rep("y", 100))
        }
    }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/slow?reset')))
r.read(5, until=lambda: any(n == 'DATA' and s == 1 for n, f, s, p in r.frames))
r.send(r.frame(3, 0, 1, (8).to_bytes(4, 'big')))
print(slow_gone(r, '/slow?reset'))
--- h2_out_like
^\['GONE /slow\?reset \d+'\]$
--- error_log
client canceled stream 1
--- no_error_log
writev() failed



=== TEST 4: a connection that sends no request is closed (GOAWAY NO_ERROR) after client_header_timeout, one idle after a request after keepalive_timeout
--- config
    keepalive_timeout 1s;
    client_header_timeout 5s;
    location / { return 200 "ok\n"; }
--- h2_py
# which timer closed it, told apart by bounds a loaded machine keeps (a timer never fires
# early; 4 s of room over keepalive_timeout), not by the rounded seconds
r = Raw($TEST_NGINX_SERVER_PORT)
t = time.time()
r.read(15, until=lambda: r.closed)
el = time.time() - t
print('no request: closed', r.closed, 'at client_header_timeout' if el >= 4.9 else 'after %.1f s' % el,
      r.goaway())
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/')))
r.read(5, until=lambda: 1 in r.statuses)
t = time.time()
r.read(10, until=lambda: r.closed)
el = time.time() - t
print('after a request: closed', r.closed, 'before client_header_timeout' if el < 4.9 else 'after %.1f s' % el,
      r.goaway())
--- h2_out
no request: closed True at client_header_timeout (0, 0)
after a request: closed True before client_header_timeout (1, 0)
--- no_error_log
client timed out



=== TEST 5: frames that end the connection are named in nginx's words on the error log (GOAWAY with nginx's code)
--- config
    location / { return 200 "ok\n"; }
--- h2_py
def hdrs_prio(r, sid, dep):
    blk = r.block('/')
    return r.frame(1, 0x25, sid, dep.to_bytes(4, 'big') + b'\x10' + blk)
cases = [
    lambda r: r.headers(2, '/'),
    lambda r: r.headers(0, '/'),
    lambda r: hdrs_prio(r, 1, 1),
    lambda r: r.frame(2, 0, 3, (3).to_bytes(4, 'big') + b'\x10'),
    lambda r: r.frame(4, 0, 0, (4).to_bytes(2, 'big') + (2 ** 31).to_bytes(4, 'big')),
    lambda r: r.frame(4, 0, 0, (5).to_bytes(2, 'big') + (100).to_bytes(4, 'big')),
    lambda r: r.frame(4, 0, 0, (2).to_bytes(2, 'big') + (2).to_bytes(4, 'big')),
    lambda r: r.frame(4, 0, 1, b''),
    lambda r: r.frame(6, 0, 1, b'12345678'),
    lambda r: r.frame(3, 0, 0, (8).to_bytes(4, 'big')),
    lambda r: r.frame(8, 0, 0, (0).to_bytes(4, 'big')),
    lambda r: r.frame(9, 4, 1, r.block('/')),
    lambda r: r.frame(1, 1, 1, r.block('/')[:5]) + r.frame(6, 0, 0, b'12345678'),
]
for make in cases:
    r = Raw($TEST_NGINX_SERVER_PORT)
    r.read(0.3)
    r.send(make(r))
    r.read(5, until=lambda: r.closed)
    print(r.goaway() and r.goaway()[1], r.closed)
--- h2_out
1 True
1 True
1 True
1 True
3 True
1 True
1 True
1 True
1 True
1 True
1 True
1 True
1 True
--- error_log
client sent HEADERS frame with incorrect identifier 2, the last was 0 while processing HTTP/2 connection
client sent HEADERS frame with incorrect identifier 0, the last was 0
client sent HEADERS frame for stream 1 with incorrect dependency
client sent PRIORITY frame for stream 3 with incorrect dependency
client sent SETTINGS frame with incorrect INITIAL_WINDOW_SIZE value 2147483648
client sent SETTINGS frame with incorrect MAX_FRAME_SIZE value 100
client sent SETTINGS frame with incorrect ENABLE_PUSH value 2
client sent SETTINGS frame with incorrect identifier
client sent PING frame with incorrect identifier
client sent RST_STREAM frame with incorrect identifier
client sent WINDOW_UPDATE frame with incorrect window increment 0
client sent unexpected CONTINUATION frame
client sent inappropriate frame while CONTINUATION was expected



=== TEST 6: a frame of an unknown type is skipped and logged, "client sent frame with unknown type", as nginx; the connection serves on
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(0x42, 0, 0, b'abc') + r.frame(0xfa, 0, 1, b'') + r.headers(1, '/'))
r.read(5, until=lambda: r.closed or any(n == 'DATA' and f & 1 and s == 1 for n, f, s, p in r.frames))
print(r.statuses.get(1), r.goaway(), r.closed)
--- h2_out
200 None False
--- error_log
client sent frame with unknown type 66 while processing HTTP/2 connection
client sent frame with unknown type 250 while processing HTTP/2 connection
