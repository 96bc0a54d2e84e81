# More HTTP/2 attacks with published limits (t/703 has rapid reset, CONTINUATION and
# unread-ACK floods, the stream limit and malformed requests), frames sent by hand with
# t/lib/h2util.py's Raw: an HPACK bomb and a header list over large_client_header_buffers'
# total (GOAWAY ENHANCE_YOUR_CALM), PRIORITY floods (nginx's bound, CVE-2019-9513),
# WINDOW_UPDATE floods and bad increments, SETTINGS and PING floods from a client that reads
# (all answered, as nginx), and streams whose client keeps the window shut (each holds its
# budget only; send_timeout resets it). After each the worker serves a new connection.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/704-http2-attacks.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_blocks(then => '/', py_head => <<'_EOH_');
def lit_idx(name, value):
    """An HPACK literal with incremental indexing, new name, no Huffman (RFC 7541 6.2.1)."""
    def s(b):
        n = len(b)
        if n < 127:
            return bytes([n]) + b
        out, n = bytes([127]), n - 127
        while n >= 128:
            out, n = out + bytes([n % 128 + 128]), n // 128
        return out + bytes([n]) + b
    return b'\x40' + s(name) + s(value)
_EOH_

run_tests();

__DATA__

=== TEST 1: an HPACK bomb: a 4000-byte table entry named 1000 times (5 KB sent, 4 MB decoded) ends the connection (GOAWAY ENHANCE_YOUR_CALM); 7 times (the list within 4 x 8k) is served
--- config
    location / { return 200 "ok\n"; }
--- h2_py
for refs in (7, 1000):
    r = Raw($TEST_NGINX_SERVER_PORT)
    r.send(r.frame(1, 5, 1, r.block('/') + lit_idx(b'x-bomb', b'a' * 4000) + b'\xbe' * refs))
    r.read(5, until=lambda: 1 in r.statuses or r.closed)
    print(refs, r.statuses.get(1), r.goaway(), r.closed)
--- h2_out
7 200 None False
1000 None (1, 11) True
then 200
--- error_log
client sent too large header



=== TEST 2: many small fields over large_client_header_buffers' total end the connection (GOAWAY ENHANCE_YOUR_CALM)
--- config
    large_client_header_buffers 4 1k;
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/', extra=[('x-f%d' % i, 'v' * 90) for i in range(100)])))
r.read(5, until=lambda: 1 in r.statuses or r.closed)
print(r.statuses.get(1), r.goaway(), r.closed)
--- h2_out
None (1, 11) True
then 200
--- error_log
client sent too large header



=== TEST 3: a PRIORITY flood ends the connection (GOAWAY ENHANCE_YOUR_CALM) at nginx's bound: 100, or http2_max_concurrent_streams, more for each stream opened
--- config
    location / { return 200 "ok\n"; }
--- h2_py
prio = lambda sid: Raw.frame(2, 0, sid, b'\0\0\0\0\x10')
# no stream yet: the 128th PRIORITY frame is one too many
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(b''.join(prio(2 * i + 3) for i in range(127)))
r.send(r.headers(1, '/'))
r.read(5, until=lambda: 1 in r.statuses or r.closed)
print('127:', r.statuses.get(1), r.goaway(), r.closed)
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(b''.join(prio(2 * i + 3) for i in range(10000)))
r.read(5, until=lambda: r.closed)
print('10000:', r.goaway(), r.closed)
# a stream opened gives 128 more
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.headers(1, '/') + b''.join(prio(2 * i + 5) for i in range(250)) + r.headers(3, '/'))
r.read(5, until=lambda: 3 in r.statuses or r.closed)
print('1 + 250:', r.statuses.get(1), r.statuses.get(3), r.goaway(), r.closed)
--- h2_out
127: 200 None False
10000: (0, 11) True
1 + 250: 200 200 None False
then 200
--- error_log
client sent too many PRIORITY frames while processing HTTP/2 connection, client: 127.0.0.1, server: 127.0.0.1:



=== TEST 4: WINDOW_UPDATE: 100000 increments of 1 are taken; one past 2^31-1 is a FLOW_CONTROL_ERROR, a zero one a PROTOCOL_ERROR (GOAWAY)
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
for k in range(10):
    r.send(Raw.frame(8, 0, 0, b'\0\0\0\x01') * 10000)
    r.read(0.05)
r.send(r.headers(1, '/'))
r.read(5, until=lambda: 1 in r.statuses or r.closed)
print('flood:', r.statuses.get(1), r.goaway(), r.closed)
for inc in (b'\x7f\xff\xff\xff', b'\0\0\0\0'):
    r = Raw($TEST_NGINX_SERVER_PORT)
    r.send(Raw.frame(8, 0, 0, inc))
    r.read(5, until=lambda: r.closed)
    print(inc.hex(), r.goaway(), r.closed)
--- h2_out
flood: 200 None False
7fffffff (0, 3) True
00000000 (0, 1) True
then 200



=== TEST 5: SETTINGS and PING floods from a client that reads: each is acknowledged, the connection serves on
--- config
    location / { return 200 "ok\n"; }
--- h2_py
for ftype, payload in ((4, b''), (6, b'12345678')):
    r = Raw($TEST_NGINX_SERVER_PORT)
    for k in range(10):
        r.send(Raw.frame(ftype, 0, 0, payload) * 2000)
        r.read(0.05)
    r.send(r.headers(1, '/'))
    r.read(10, until=lambda: 1 in r.statuses or r.closed)
    acks = sum(1 for n, f, s, p in r.frames if n in ('SETTINGS', 'PING') and f & 1)
    print(ftype, 'acks', acks >= 20000, r.statuses.get(1), r.goaway(), r.closed)
--- h2_out
4 acks True 200 None False
6 acks True 200 None False
then 200
--- timeout: 30



=== TEST 6: a client that keeps its window shut: send_timeout resets the stream (PROTOCOL_ERROR, "client timed out"), the connection serves others
--- config
    send_timeout 1s;
    location / { return 200 "ok\n"; }
    location /big { content_by_lua_block { ngx.print(string.rep("x", 200000)) } }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(Raw.frame(4, 0, 0, (4).to_bytes(2, 'big') + (0).to_bytes(4, 'big')))  # initial window 0
r.send(r.headers(1, '/big'))
r.read(10, until=lambda: 1 in r.resets() or r.closed)
data = sum(len(p) for n, f, s, p in r.frames if n == 'DATA' and s == 1)
r.send(r.headers(3, '/'))
r.read(5, until=lambda: 3 in r.statuses or r.closed)
print(r.statuses.get(1), data, r.resets().get(1), r.statuses.get(3), r.goaway(), r.closed)
--- h2_out
200 0 1 200 None False
then 200
--- error_log
client timed out



=== TEST 7: 20 connections of 8 streams each for 4 MB files, windows kept shut: each stream holds its budget, not its file (worker RSS grows less than 64 MB), and others are served meanwhile
--- config
    location / { return 200 "ok\n"; }
    location /f { alias $TEST_NGINX_HTML_DIR/big; }
--- h2_py
import os
with open(os.path.join('$TEST_NGINX_HTML_DIR', 'big'), 'wb') as f:
    f.write(b'x' * (4 << 20))
before = server_rss()
conns = []
for k in range(20):
    r = Raw($TEST_NGINX_SERVER_PORT)
    r.send(Raw.frame(4, 0, 0, (4).to_bytes(2, 'big') + (0).to_bytes(4, 'big')))
    r.send(b''.join(r.headers(2 * i + 1, '/f') for i in range(8)))
    conns.append(r)
for r in conns:
    r.read(5, until=lambda: len(r.statuses) == 8 or r.closed)
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/')
c.wait(a)
grew = server_rss() - before
print('heads', sum(len(r.statuses) for r in conns), 'meanwhile', c.streams[a].status, 'bounded', grew < 64 * 1024)
--- h2_out
heads 160 meanwhile 200 bounded True
then 200



=== TEST 8: a second header block on stream 1 while the blocks of streams 1 and 3 wait to start (all in one read) ends the connection, and the worker goes on (moongate's GOAWAY made stream 3's request twice and freed it twice: a worker crash found by fuzz_h2)
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.headers(1) + r.headers(3) + r.headers(1, method='POST'))
r.read(3, until=lambda: r.closed)
print(r.closed)
--- h2_out
True
then 200
--- no_error_log
exited on signal
