# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py): the
# frames nginx takes otherwise than nghttp2 (a GOAWAY; DATA, RST_STREAM, WINDOW_UPDATE on a
# stream never opened; a WINDOW_UPDATE of 0 on a closed stream) are looked at before nghttp2
# reads them (v2.c's frame_gate), but only where a read (or conn_feed's 8 KiB piece) held the
# frame's start whole: one cut there reached nghttp2 ungated. The connection now holds a cut
# frame start (its header, a stream's WINDOW_UPDATE's increment) until the gate can look at it.
# A WINDOW_UPDATE of 0 on a closed stream is nginx's PROTOCOL_ERROR (nghttp2 ignored it).
#
#   prove -I t/lib t/874-diff-h2-gate-split-frames.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/874-diff-h2-gate-split-frames.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    location /t { return 200 "ok\n"; }
    location /slow { echo_sleep 0.3; echo ok; }
    location /body {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("body ", #(ngx.req.get_body_data() or ""))
        }
    }
CONF

run_tests();

__DATA__

=== TEST 1: a WINDOW_UPDATE of 0 on a closed stream ends the connection (PROTOCOL_ERROR, the last stream 1), whole or a byte at a time
--- h2_py
import struct, time
for split in (False, True):
    c = Raw(P)
    c.headers(1, request())
    print(c.wait(1))
    wu = frame(8, 0, 1, struct.pack('>I', 0))
    for b in ([wu[i:i + 1] for i in range(len(wu))] if split else [wu]):
        c.sock.sendall(b)
        time.sleep(0.02)
    print(c.wait(0))
--- h2_out
200
GOAWAY 1 1 closed
200
GOAWAY 1 1 closed
--- error_log
client sent WINDOW_UPDATE frame with incorrect window increment 0



=== TEST 2: a GOAWAY, a WINDOW_UPDATE, an RST_STREAM and DATA on streams never opened, each sent a byte at a time: all ignored, the streams after them served
--- h2_py
import struct, time
c = Raw(P)
c.headers(1, request())
print(c.wait(1))
sid = 3
for f in (frame(7, 0, 0, struct.pack('>II', 0, 0)), frame(8, 0, 9, struct.pack('>I', 1)),
          frame(3, 0, 11, struct.pack('>I', 8)), frame(0, 0, 13, b'abcd')):
    for i in range(len(f)):
        c.sock.sendall(f[i:i + 1])
        time.sleep(0.02)
    c.headers(sid, request())
    print(c.wait(sid))
    sid += 2
print(c.goaway, c.closed)
--- h2_out
200
200
200
200
200
None False
--- no_error_log
invalid http2 data



=== TEST 3: a WINDOW_UPDATE on a stream never opened whose header is cut by the server's 8 KiB pieces (after a frame of an unknown type that fills the first piece but 4 bytes): ignored, the stream after it served
--- h2_py
import struct
c = Raw(P)
c.headers(1, request())
print(c.wait(1))
filler = frame(0xfa, 0, 0, b'x' * (8192 - 4 - 9))
c.sock.sendall(filler + frame(8, 0, 9, struct.pack('>I', 1)) + frame(1, 5, 3, request()))
print(c.wait(3))
print(c.goaway, c.closed)
--- h2_out
200
200
None False
--- no_error_log
invalid http2 data



=== TEST 4: over 64 KiB of DATA on a stream the client reset: the connection goes on, a request body after it is read whole
--- h2_py
import struct
c = Raw(P)
c.headers(1, request('/body'), flags=4)
c.sock.sendall(frame(3, 0, 1, struct.pack('>I', 8)))
c.sock.sendall(frame(0, 0, 1, b'x' * 16384) * 5)
c.headers(3, request('/body'), flags=4)
c.sock.sendall(frame(0, 1, 3, b'y' * 1000))
print(c.wait(3))
print(c.goaway)
--- h2_out
200
None



=== TEST 5: over 64 KiB of DATA on a stream whose request ended (END_STREAM), while its response is made: that stream is reset (STREAM_CLOSED), the connection goes on
--- h2_py
c = Raw(P)
c.headers(1, request('/slow'))
c.sock.sendall(frame(0, 0, 1, b'x' * 16384) * 5)
print(c.wait(1))
c.headers(3, request('/body'), flags=4)
c.sock.sendall(frame(0, 1, 3, b'y' * 1000))
print(c.wait(3))
print(c.goaway)
--- h2_out
RST 5
200
None
--- error_log
client sent DATA frame for half-closed stream 1
