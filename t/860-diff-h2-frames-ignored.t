# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py):
# frames nghttp2 ends the connection for (GOAWAY PROTOCOL_ERROR or STREAM_CLOSED) where nginx
# goes on. nginx ignores WINDOW_UPDATE, RST_STREAM and DATA for a stream never opened (an even
# one, or one after the last HEADERS), and answers DATA for a stream whose request ended
# (END_STREAM) with RST_STREAM STREAM_CLOSED for that stream alone ("client sent DATA frame for
# half-closed stream N"): the other streams are served. The connection drops them before
# nghttp2 reads them (v2.c's frame_gate).
#
#   prove -I t/lib t/860-diff-h2-frames-ignored.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/860-diff-h2-frames-ignored.t

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

=== TEST 1: WINDOW_UPDATE and RST_STREAM for streams never opened (1 before its HEADERS, 5 after 1's, 2): ignored, the requests served, no GOAWAY
--- h2_py
import struct
c = Raw(P)
c.sock.sendall(frame(8, 0, 1, struct.pack('>I', 1000)) + frame(3, 0, 1, struct.pack('>I', 8)))
c.headers(1, request())
print(c.wait(1))
c.sock.sendall(frame(8, 0, 5, struct.pack('>I', 1000)) + frame(3, 0, 5, struct.pack('>I', 8))
               + frame(8, 0, 2, struct.pack('>I', 1000)) + frame(3, 0, 2, struct.pack('>I', 8)))
c.headers(5, request())
print(c.wait(5))
print(c.goaway)
--- h2_out
200
200
None



=== TEST 2: DATA for streams never opened: ignored
--- h2_py
c = Raw(P)
c.sock.sendall(frame(0, 1, 1, b'abc') + frame(1, 5, 1, request()) + frame(0, 1, 3, b'abc')
               + frame(0, 0, 4, b'x'))
print(c.wait(1))
c.headers(3, request())
print(c.wait(3))
print(c.goaway)
--- h2_out
200
200
None



=== TEST 3: DATA after the request's END_STREAM while it runs, in the same write and in a later one, empty too: that stream is reset (STREAM_CLOSED), the next served
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request('/slow')) + frame(0, 1, 1, b'abc') + frame(1, 5, 3, request()))
print(c.wait(1))
print(c.wait(3))
c.headers(5, request('/slow'))
time.sleep(0.1)
c.sock.sendall(frame(0, 1, 5, b''))
print(c.wait(5))
c.headers(7, request())
print(c.wait(7))
print(c.goaway)
--- h2_out
RST 5
200
RST 5
200
None
--- error_log
client sent DATA frame for half-closed stream 1 while processing HTTP/2 connection
client sent DATA frame for half-closed stream 5 while processing HTTP/2 connection



=== TEST 4: a request body's DATA after its END_STREAM DATA: reset, as nginx
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 4, 1, request('/slow')) + frame(0, 1, 1, b'x') + frame(0, 0, 1, b'y'))
print(c.wait(1))
c.headers(3, request())
print(c.wait(3))
print(c.goaway)
--- h2_out
RST 5
200
None
--- error_log
client sent DATA frame for half-closed stream 1 while processing HTTP/2 connection
