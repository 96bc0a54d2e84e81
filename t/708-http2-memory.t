# What an HTTP/2 connection keeps of the streams it served: nothing once they closed. nghttp2
# would keep each closed stream (for RFC 7540's priority tree) until the connection ends when
# its own stream limit is none, as moongate's is (v2.c); nginx keeps at most 32 closed nodes.
# A long-lived connection serving tens of thousands of streams then held a few MB more
# (h2load's -D runs: 31 MiB peak against nginx's 8). A frame for a stream that closed is
# ignored and the connection goes on, as nginx ignores it. A connection waiting for its
# client holds no buffer of its own: the input buffer is the worker's (http2_recv_buffer_size
# is "per worker", as nginx's) and the output buffer is taken only while frames wait.
# Under AddressSanitizer (its quarantine keeps freed blocks) RSS says nothing: not checked.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/708-http2-memory.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');
worker_connections(256);

h2_blocks(no_error_log => "[crit]\n[alert]\n[emerg]");

run_tests();

__DATA__

=== TEST 1: one connection serving 20000 streams, 100 at a time: the worker's RSS grows less than 2 MB after the first 1000 (each closed stream kept: 4.5 MB)
--- config
    keepalive_requests 1000000;
    http2_max_concurrent_streams 128;
    location / { return 200 "ok\n"; }
--- h2_py
import os
r = Raw($TEST_NGINX_SERVER_PORT)
sid = 1
def batch():
    global sid
    ids = list(range(sid, sid + 200, 2))
    sid += 200
    r.send(b''.join(r.headers(i, '/') for i in ids))
    r.read(10, until=lambda: all(i in r.statuses for i in ids) or r.closed)
    bad = [i for i in ids if r.statuses.get(i) != '200']
    r.frames.clear()
    r.statuses.clear()
    return bad
bad = []
for k in range(10):
    bad += batch()
before = server_rss()
for k in range(190):
    bad += batch()
grew = 0 if 'ASAN_OPTIONS' in os.environ else server_rss() - before
print('failed', len(bad), 'closed', r.closed, 'bounded', grew < 2048, grew if grew >= 2048 else '')
--- h2_out
failed 0 closed False bounded True 
--- timeout: 60



=== TEST 2: DATA, WINDOW_UPDATE and RST_STREAM for a stream that closed are ignored: the next stream is served, no GOAWAY
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.headers(1, '/'))
r.read(5, until=lambda: any(n == 'DATA' and f & 1 and s == 1 for n, f, s, p in r.frames) or r.closed)
print(r.statuses.get(1), r.closed)
r.send(Raw.frame(0, 1, 1, b'late body'))
r.send(Raw.frame(8, 0, 1, (1000).to_bytes(4, 'big')))
r.send(Raw.frame(3, 0, 1, (8).to_bytes(4, 'big')))
r.send(r.headers(3, '/'))
r.read(5, until=lambda: 3 in r.statuses or r.closed)
print(r.statuses.get(3), r.goaway(), r.closed)
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/')
c.wait(a)
print('then', c.streams[a].status)
--- h2_out
200 False
200 None False
then 200



=== TEST 3: 100 connections that each took a 64 KiB file and stay open hold no buffers: the worker's RSS grows by less than 32 KiB a connection (a 256 KiB input and a 64 KiB output buffer each: 80 KiB)
--- config
    location / { return 200 "ok\n"; }
    location /f { alias $TEST_NGINX_HTML_DIR/64k; }
--- h2_py
import os
with open(os.path.join('$TEST_NGINX_HTML_DIR', '64k'), 'wb') as f:
    f.write(b'x' * 65536)
w = Client($TEST_NGINX_SERVER_PORT)
w.wait(w.request('/f'))
before = server_rss()
conns = []
for k in range(100):
    c = Client($TEST_NGINX_SERVER_PORT)
    c.wait(c.request('/f'))
    conns.append(c)
grew = 0 if 'ASAN_OPTIONS' in os.environ else server_rss() - before
print('whole', sum(len(c.streams[1].body) == 65536 for c in conns), 'bounded', grew < 3200, grew if grew >= 3200 else '')
--- h2_out
whole 100 bounded True 
