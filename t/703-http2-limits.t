# HTTP/2 attacks with published limits, with frames sent by hand (t/lib/h2util.py's Raw): rapid
# reset (CVE-2023-44487: streams reset as soon as opened are still counted against
# keepalive_requests; since t/487 a read event opens at most twice the stream limit and too many
# refusals end the connection first, as nginx 1.22.1: GOAWAY 771 there), a CONTINUATION flood (CVE-2024-28182: nghttp2 allows 8), PING and
# SETTINGS floods from a client that does not read (nghttp2 stops after 1000 unsent ACKs), a
# client opening streams beyond http2_max_concurrent_streams (refused alone, as nginx), malformed requests as nginx
# answers them (bad pseudo-headers 400, connection-specific fields served, invalid names reset). After each the worker
# serves a new connection.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/703-http2-limits.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

# every block ends by checking that the worker still serves
h2_blocks(then => '/');

run_tests();

__DATA__

=== TEST 1: rapid reset: 2000 streams opened and reset at once; the connection ends with a GOAWAY (too many refused streams, before keepalive_requests)
--- config
    keepalive_requests 1000;
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(b''.join(r.headers(i, '/') + r.frame(3, 0, i, (8).to_bytes(4, 'big')) for i in range(1, 4001, 2)))
r.read(5, until=lambda: r.goaway() is not None)
g = r.goaway()
print('goaway', g is not None and g[0] <= 1999, 'closed', r.read(3).closed)
--- h2_out
goaway True closed True
then 200



=== TEST 2: a CONTINUATION flood: the connection ends (GOAWAY PROTOCOL_ERROR), the request never runs
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 0, 1, r.block('/')) +
       b''.join(r.frame(9, 0, 1, r.enc.encode([('x-a%d' % i, 'b')])) for i in range(200)))
r.read(5, until=lambda: r.goaway() is not None)
# (the GOAWAY may be lost to the reset that bytes sent after it cause)
print('goaway', r.goaway() in (None, (1, 1)), 'closed', r.read(3).closed, 1 in r.statuses)
--- h2_out
goaway True closed True False
then 200



=== TEST 3: a PING flood from a client that does not read: the connection is closed
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.sock.settimeout(5)
# more than the kernel's buffers hold (the server writes ACKs while it can), up to 50 MB
try:
    for i in range(3000):
        r.sock.sendall(r.frame(6, 0, 0, b'12345678') * 1000)
except OSError:
    pass
print('closed', r.read(5).closed)
--- h2_out
closed True
then 200
--- timeout: 60



=== TEST 4: a SETTINGS flood from a client that does not read: the connection is closed
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.sock.settimeout(5)
# more than the kernel's buffers hold (the server writes ACKs while it can), up to 50 MB
try:
    for i in range(3000):
        r.sock.sendall(r.frame(4, 0, 0, b'') * 1000)
except OSError:
    pass
print('closed', r.read(5).closed)
--- h2_out
closed True
then 200
--- timeout: 60



=== TEST 5: streams beyond http2_max_concurrent_streams once the client knows the limit: each refused (RST_STREAM REFUSED_STREAM), the others served, the connection kept
--- config
    http2_max_concurrent_streams 2;
    location / { return 200 "ok\n"; }
    location /slow { content_by_lua_block { ngx.sleep(0.5) ngx.say("slow") } }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.read(0.5)
r.send(b''.join(r.headers(i, '/slow') for i in (1, 3, 5, 7)))
ended = lambda s: any(f & 1 and sid == s for n, f, sid, p in r.frames if n in ('DATA', 'HEADERS'))
r.read(5, until=lambda: r.closed or (ended(1) and ended(3) and len(r.resets()) == 2))
r.send(r.headers(9, '/'))
r.read(5, until=lambda: r.closed or 9 in r.statuses)
print('statuses', sorted(r.statuses.items()), 'resets', sorted(r.resets().items()), 'goaway', r.goaway(), 'closed', r.closed)
--- h2_out
statuses [(1, '200'), (3, '200'), (9, '200')] resets [(5, 7), (7, 7)] goaway None closed False
then 200
--- error_log
concurrent streams exceeded 2 while processing HTTP/2 connection, client: 127.0.0.1, server: 127.0.0.1:



=== TEST 6: malformed requests as nginx answers them: bad pseudo-headers 400, connection-specific fields served, invalid names and values reset (PROTOCOL_ERROR); the connection serves on
--- config
    location / { return 200 "ok\n"; }
    location /hdr { return 200 "$http_connection|$http_te|$http_x_a\n"; }
--- h2_py
G = [(':method', 'GET'), (':scheme', 'http'), (':authority', 'x')]
cases = [
    G,
    [(':path', '/'), (':scheme', 'http')],
    [(':method', 'GET'), (':path', '/')],
    G + [(':path', '/'), (':bogus', 'x')],
    G + [(':path', '/'), (':path', '/')],
    G + [(':path', '')],
    G + [(':path', 'abc')],
    G + [(':path', '/a b')],
    [(':method', 'get'), (':scheme', 'http'), (':path', '/'), (':authority', 'x')],
    [(':method', 'CONNECT'), (':authority', 'x:1')],
    [(':method', 'GET'), (':scheme', 'http'), (':path', '/')],
    G + [(':path', '/hdr'), ('connection', 'close')],
    G + [(':path', '/hdr'), ('transfer-encoding', 'chunked'), ('keep-alive', '1'), ('upgrade', 'h2c')],
    G + [(':path', '/hdr'), ('te', 'gzip'), ('x-a', 'a')],
    G + [(':path', '/hdr'), ('X-A', 'x')],
    G + [(':path', '/hdr'), ('x a', 'x')],
    G + [(':path', '/hdr'), ('x-a', 'a\r\nb')],
    G + [(':path', '/hdr'), ('x-a', 'a\x00b')],
]
r = Raw($TEST_NGINX_SERVER_PORT)
for i, h in enumerate(cases):
    r.send(r.frame(1, 5, 2 * i + 1, r.enc.encode(h)))
last = 2 * len(cases) + 1
r.send(r.frame(1, 5, last, r.block('/')))
r.read(5, until=lambda: last in r.statuses or r.closed)
for i in range(len(cases)):
    sid = 2 * i + 1
    body = b''.join(p for n, f, s, p in r.frames if n == 'DATA' and s == sid)
    print(sid, r.statuses.get(sid), r.resets().get(sid), body if r.statuses.get(sid) == '200' else b'')
print('last', r.statuses.get(last), 'closed', r.closed)
--- h2_out
1 400 None b''
3 400 None b''
5 400 None b''
7 400 None b''
9 400 None b''
11 400 None b''
13 400 None b''
15 400 None b''
17 400 None b''
19 400 None b''
21 400 None b''
23 200 None b'close||\n'
25 200 None b'||\n'
27 200 None b'|gzip|a\n'
29 None 1 b''
31 None 1 b''
33 None 1 b''
35 None 1 b''
last 200 closed False
then 200
--- error_log
client sent no :path header while reading client request headers, client: 127.0.0.1, server: localhost, host: "x"
client sent no :method header while reading client request headers, client: 127.0.0.1, server: localhost
client sent no :scheme header while reading client request headers, client: 127.0.0.1, server: localhost
client sent no :scheme header while reading client request headers, client: 127.0.0.1, server: localhost, host: "x:1"
client sent unknown pseudo-header ":bogus" while reading client request headers, client: 127.0.0.1, server: localhost, host: "x"
client sent duplicate :path header while reading client request headers, client: 127.0.0.1, server: localhost, host: "x"
client sent empty :path header while reading client request headers, client: 127.0.0.1, server: localhost, host: "x"
client sent invalid :path header: "abc" while reading client request headers, client: 127.0.0.1, server: localhost, host: "x"
client sent invalid method: "get" while reading client request headers, client: 127.0.0.1, server: localhost
client sent HTTP/1.1 request without "Host" header while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET / HTTP/2.0"
client sent invalid header name: "X-A" while reading client request headers, client: 127.0.0.1, server: localhost, host: "x"
client sent invalid header name: "x a" while reading client request headers, client: 127.0.0.1, server: localhost, host: "x"
--- no_error_log eval
[qr/client sent (no|invalid|unknown|empty|duplicate) .*server: 127\.0\.0\.1:/, qr/invalid method: "get" .*host:/, qr/no :method header .*host:/]



=== TEST 7: a header field with an empty name ends the connection (GOAWAY PROTOCOL_ERROR naming the stream)
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/', extra=[('', 'x')])))
r.read(5, until=lambda: r.closed)
print('goaway', r.goaway(), 'closed', r.closed, 1 in r.statuses)
--- h2_out
goaway (1, 1) closed True False
then 200
--- error_log
client sent zero header name length while processing HTTP/2 connection, client: 127.0.0.1, server: 127.0.0.1:



=== TEST 8: field values keep their leading and trailing blanks (RFC 9113 8.2.1 calls them malformed; nginx serves them as sent)
--- config
    location / { return 200 "ok\n"; }
    location /hdr { return 200 "[$http_x_a][$http_x_b][$http_x_c][$http_x_d]\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/hdr', extra=[('x-a', ' lead'), ('x-b', 'trail  '), ('x-c', '\t both \t'), ('x-d', ' ')])))
r.read(5, until=lambda: r.closed or any(n == 'DATA' and f & 1 and s == 1 for n, f, s, p in r.frames))
print(r.statuses.get(1), b''.join(p for n, f, s, p in r.frames if n == 'DATA' and s == 1))
--- h2_out
200 b'[ lead][trail  ][\t both \t][ ]\n'
then 200
