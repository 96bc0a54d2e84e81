# Frames too short for their fields, and flow control overruns, answered and logged as nginx
# 1.22 does (issue 17, w-h2win; t/tools/h2cases-edge.py for t/tools/h2diff.py). A padded DATA
# frame with no room for its pad length and a HEADERS frame shorter than its pad length and
# priority are FRAME_SIZE_ERROR (RFC 9113 4.2: a frame too small for its fields), where nghttp2
# ends the connection with PROTOCOL_ERROR ("insufficient padding space", "invalid padding") or
# says nothing: the header block walk (v2_hpack.c) stops at them before nghttp2 reads them. The
# rest are nghttp2's answers, now with nginx's line: a stream's DATA past its window (RST_STREAM
# FLOW_CONTROL_ERROR), a WINDOW_UPDATE past 2^31-1 on a stream (RST_STREAM) or the connection
# (GOAWAY FLOW_CONTROL_ERROR), a PRIORITY frame on stream 0, a CONTINUATION for another stream.
#
#   prove -I t/lib t/476-diff-h2-frame-lengths.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/476-diff-h2-frame-lengths.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2');
    $block->set_value(config => <<'_EOC_');
    location /t { return 200 "ok\n"; }
    location /sleep { content_by_lua_block { ngx.sleep(0.5) ngx.say("slept") } }
_EOC_
    my $py = $block->h2_py;
    $block->set_value(h2_py => <<'_EOP_' . $py) if defined $py;
def ended(r, sid):
    return lambda: r.closed or any(s == sid and (n == 'RST_STREAM' or (n in ('DATA', 'HEADERS') and f & 1)) for n, f, s, p in r.frames)

def answer(r, sid, timeout=5):
    """the stream's status, or its reset code"""
    r.read(timeout, until=ended(r, sid))
    return r.resets().get(sid, r.statuses.get(sid))

def conn_end(r, timeout=5):
    """the GOAWAY's last stream and code once the connection closed"""
    r.read(timeout)
    return r.goaway(), r.closed

def settled(port):
    """a connection whose client has acknowledged the server's SETTINGS (their window in force)"""
    r = Raw(port)
    r.read(5, until=lambda: any(n == 'SETTINGS' and not f & 1 for n, f, s, p in r.frames))
    return r
_EOP_
});

run_tests();

__DATA__

=== TEST 1: a padded DATA frame of length 0 on an open stream: GOAWAY FRAME_SIZE_ERROR naming that stream, nginx's line
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 4, 1, r.block('/sleep', method='POST')) + r.frame(0, 8, 1, b''))
print(conn_end(r))
--- h2_out
((1, 6), True)
--- error_log
client sent padded DATA frame with incorrect length: 0 while processing HTTP/2 connection



=== TEST 2: HEADERS shorter than its pad length and priority (padded and priority: 5 bytes; priority: 3; padded: 0): GOAWAY FRAME_SIZE_ERROR naming the stream before, nginx's line with the length
--- h2_py
for flags, payload in ((0x2d, b'\0' * 5), (0x25, b'\0' * 3), (0x0d, b'')):
    r = Raw($TEST_NGINX_SERVER_PORT)
    r.send(r.frame(1, flags, 1, payload))
    print(conn_end(r))
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.headers(1, '/t'))
print(answer(r, 1))
r.send(r.frame(1, 0x2d, 3, b'\0' * 5))
print(conn_end(r))
--- h2_out
((0, 6), True)
((0, 6), True)
((0, 6), True)
200
((1, 6), True)
--- error_log
client sent HEADERS frame with incorrect length 5 while processing HTTP/2 connection
client sent HEADERS frame with incorrect length 3 while processing HTTP/2 connection
client sent HEADERS frame with incorrect length 0 while processing HTTP/2 connection



=== TEST 3: DATA past the stream's window (65536, acknowledged) while its handler does not read: RST_STREAM FLOW_CONTROL_ERROR, nginx's line; the next stream is served
--- h2_py
r = settled($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 4, 1, r.block('/sleep', method='POST')) + r.frame(0, 0, 1, b'x' * 16384) * 4 + r.frame(0, 1, 1, b'y'))
print(answer(r, 1))
r.send(r.headers(3, '/t'))
print(answer(r, 3))
print(r.goaway())
--- h2_out
3
200
None
--- error_log
client violated flow control for stream 1: received DATA frame length 1, available window 0 while processing HTTP/2 connection



=== TEST 4: a WINDOW_UPDATE past 2^31-1 on a stream (in two steps) resets it (FLOW_CONTROL_ERROR), on a new connection it ends it: nginx's lines with the window before it
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
wu = lambda sid, n: r.frame(8, 0, sid, n.to_bytes(4, 'big'))
r.send(r.headers(1, '/sleep') + wu(1, 0x40000000) + wu(1, 0x40000000))
print(answer(r, 1))
r.send(r.headers(3, '/t'))
print(answer(r, 3))
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(8, 0, 0, (0x7fffffff).to_bytes(4, 'big')))
print(conn_end(r))
--- h2_out
3
200
((0, 3), True)
--- error_log
client violated flow control for stream 1: received WINDOW_UPDATE frame with window increment 1073741824 not allowed for window 1073807359 while processing HTTP/2 connection
client violated connection flow control: received WINDOW_UPDATE frame with window increment 2147483647 not allowed for window 65535 while processing HTTP/2 connection



=== TEST 5: a PRIORITY frame on stream 0, a CONTINUATION for another stream than its block's: GOAWAY PROTOCOL_ERROR, nginx's lines; a PING where the CONTINUATION was due keeps its own line
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(2, 0, 0, (1).to_bytes(4, 'big') + b'\x10'))
print(conn_end(r))
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 1, 1, r.block('/t')) + r.frame(9, 4, 3, b''))
print(conn_end(r))
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 1, 1, r.block('/t')) + r.frame(9, 4, 0, b''))
print(conn_end(r))
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 1, 1, r.block('/t')) + r.frame(6, 0, 0, b'12345678') + r.frame(9, 4, 3, b''))
print(conn_end(r))
--- h2_out
((0, 1), True)
((1, 1), True)
((1, 1), True)
((1, 1), True)
--- grep_error_log eval: qr/client sent (?:PRIORITY|CONTINUATION|inappropriate) .*?(?= while processing)/
--- grep_error_log_out
client sent PRIORITY frame with incorrect identifier
client sent CONTINUATION frame with incorrect identifier
client sent CONTINUATION frame with incorrect identifier
client sent inappropriate frame while CONTINUATION was expected
