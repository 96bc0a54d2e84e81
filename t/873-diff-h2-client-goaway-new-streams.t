# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py): after
# a client's own GOAWAY (stream 0, 8 bytes or more), nginx takes no action: the streams open
# finish, new ones are served, and the connection stays open. nghttp2 took no new stream after
# it (their HEADERS ignored, never answered) and closed the connection once the open ones ended.
# The connection now drops every such GOAWAY before nghttp2 reads it (v2.c's frame_gate); a
# short one (FRAME_SIZE_ERROR) or one on a stream (PROTOCOL_ERROR) still ends it, as nginx.
#
#   prove -I t/lib t/873-diff-h2-client-goaway-new-streams.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/873-diff-h2-client-goaway-new-streams.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    location /t { return 200 "ok\n"; }
    location /slow { echo_sleep 0.3; echo ok; }
CONF

run_tests();

__DATA__

=== TEST 1: a GOAWAY (last stream 0, NO_ERROR, with debug data too) before any stream: the streams after it are served, one after the other, and no GOAWAY comes back
--- h2_py
import struct
for debug in (b'', b'bye'):
    c = Raw(P)
    c.sock.sendall(frame(7, 0, 0, struct.pack('>II', 0, 0) + debug))
    c.headers(1, request())
    print(c.wait(1))
    c.headers(3, request())
    print(c.wait(3))
    c.headers(5, request('/slow'))
    print(c.wait(5))
    print(c.goaway, c.closed)
--- h2_out
200
200
200
None False
200
200
200
None False
--- no_error_log
invalid http2 data



=== TEST 2: a GOAWAY (last stream 0) while stream 1 runs, then stream 3 in the same bytes and stream 5 once 1 is answered: all three answered, the connection stays open
--- h2_py
import struct
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request('/slow')) + frame(7, 0, 0, struct.pack('>II', 0, 0)) +
               frame(1, 5, 3, request()))
print(c.wait(3))
print(c.wait(1))
c.headers(5, request())
print(c.wait(5))
print(c.goaway, c.closed)
--- h2_out
200
200
200
None False
--- no_error_log
invalid http2 data



=== TEST 3: a GOAWAY shorter than 8 bytes still ends the connection (FRAME_SIZE_ERROR), as one on a stream (PROTOCOL_ERROR)
--- h2_py
import struct
c = Raw(P)
c.sock.sendall(frame(7, 0, 0, struct.pack('>I', 0)))
print(c.wait(0))
c = Raw(P)
c.sock.sendall(frame(7, 0, 1, struct.pack('>II', 0, 0)))
print(c.wait(0))
--- h2_out
GOAWAY 0 6 closed
GOAWAY 0 1 closed
