# HTTP/2 attacks with published limits, with frames sent by hand (t/lib/h2util.py's Raw): rapid
# reset (CVE-2023-44487: streams reset as soon as opened are still counted against
# keepalive_requests), a CONTINUATION flood (CVE-2024-28182: nghttp2 allows 8), PING and
# SETTINGS floods from a client that does not read (nghttp2 stops after 1000 unsent ACKs), a
# client opening streams beyond http2_max_concurrent_streams (refused alone, as nginx), malformed requests (missing or
# unknown pseudo-headers, connection-specific fields, uppercase names). After each the worker
# serves a new connection.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/703-http2-limits.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2') unless defined $block->listen_options;
    my $py = $block->h2_py;
    # every block ends by checking that the worker still serves
    $block->set_value(h2_py => $py . <<'_EOP_') if defined $py;
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/')
c.wait(a)
print('then', c.streams[a].status)
_EOP_
});

run_tests();

__DATA__

=== TEST 1: rapid reset: 2000 streams opened and reset at once; keepalive_requests ends the connection with a GOAWAY
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
try:
    for i in range(300):
        r.sock.sendall(r.frame(6, 0, 0, b'12345678') * 1000)
except OSError:
    pass
print('closed', r.read(5).closed)
--- h2_out
closed True
then 200
--- timeout: 30



=== TEST 4: a SETTINGS flood from a client that does not read: the connection is closed
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.sock.settimeout(5)
try:
    for i in range(300):
        r.sock.sendall(r.frame(4, 0, 0, b'') * 1000)
except OSError:
    pass
print('closed', r.read(5).closed)
--- h2_out
closed True
then 200
--- timeout: 30



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
concurrent streams exceeded 2



=== TEST 6: malformed requests: each stream is reset (PROTOCOL_ERROR), the connection serves on
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block(pseudo=[(':method', 'GET'), (':scheme', 'http'), (':authority', 'x')])))
r.send(r.frame(1, 5, 3, r.block(pseudo=[(':method', 'GET'), (':path', '/'), (':scheme', 'http'), (':bogus', 'x')])))
r.send(r.frame(1, 5, 5, r.block('/', extra=[('connection', 'close')])))
r.send(r.frame(1, 5, 7, r.block('/', extra=[('transfer-encoding', 'chunked')])))
r.send(r.frame(1, 5, 9, r.block(pseudo=[(':method', 'GET'), (':path', '/'), (':scheme', 'http'), ('Upper', 'x')])))
r.send(r.frame(1, 5, 11, r.block('/')))
r.read(3, until=lambda: 11 in r.statuses or r.closed)
print('statuses', sorted(r.statuses.items()), 'resets', sorted(r.resets().items()), 'closed', r.closed)
--- h2_out
statuses [(11, '200')] resets [(1, 1), (3, 1), (5, 1), (7, 1), (9, 1)] closed False
then 200
--- moongate_only: nghttp2 resets malformed streams (RFC 9113 8.1.1); nginx answers 400 to missing or unknown pseudo-headers, serves connection-specific fields and refuses uppercase names with REFUSED_STREAM
