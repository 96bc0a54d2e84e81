# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py): the
# connection ended as nginx's does (GOAWAY FRAME_SIZE_ERROR, PROTOCOL_ERROR), but where nghttp2
# refuses a frame silently moongate logged nothing: a frame of a fixed size with another length
# (nghttp2 refuses it from its header, before any callback; the header walk in v2_hpack.c now
# notes the first such one), a GOAWAY on a stream, DATA on stream 0, a client's PUSH_PROMISE
# (from the reason nghttp2's GOAWAY gives). nginx's line is logged at its level, info.
# An index 0 and a table size update over 4096 (TEST 4), an index past the static table while
# the dynamic one is empty (TEST 5): nghttp2 refuses them, unlogged; the header walk
# (v2_hpack.c) now stops there, logs nginx's line and ends the connection.
#
#   prove -I t/lib t/875-diff-h2-frame-error-lines.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/875-diff-h2-frame-error-lines.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    location /t { return 200 "ok\n"; }
CONF

run_tests();

__DATA__

=== TEST 1: SETTINGS, PING and GOAWAY of a wrong length, a SETTINGS ACK with a payload: FRAME_SIZE_ERROR, each named on the log
--- h2_py
import struct
for f in (frame(4, 0, 0, b'\0\1\0'), frame(6, 0, 0, b'1234'), frame(7, 0, 0, struct.pack('>I', 0)),
          frame(4, 1, 0, struct.pack('>HI', 1, 1))):
    c = Raw(P)
    c.sock.sendall(f)
    print(c.wait(0))
--- h2_out
GOAWAY 0 6 closed
GOAWAY 0 6 closed
GOAWAY 0 6 closed
GOAWAY 0 6 closed
--- error_log
client sent SETTINGS frame with incorrect length 3
client sent PING frame with incorrect length 4
client sent GOAWAY frame with incorrect length 4
client sent SETTINGS frame with the ACK flag and nonzero length



=== TEST 2: RST_STREAM, WINDOW_UPDATE and PRIORITY of a wrong length on a stream answered: FRAME_SIZE_ERROR naming it last, each named on the log
--- h2_py
for f in (frame(3, 0, 1, b'\0\0\0'), frame(8, 0, 1, b'\0\0\1'), frame(2, 0, 1, b'\0\0\0\0')):
    c = Raw(P)
    c.headers(1, request())
    print(c.wait(1))
    c.sock.sendall(f)
    print(c.wait(0))
--- h2_out
200
GOAWAY 1 6 closed
200
GOAWAY 1 6 closed
200
GOAWAY 1 6 closed
--- error_log
client sent RST_STREAM frame with incorrect length 3
client sent WINDOW_UPDATE frame with incorrect length 3
client sent PRIORITY frame with incorrect length 4



=== TEST 3: a GOAWAY on stream 1, DATA on stream 0, a client's PUSH_PROMISE: PROTOCOL_ERROR, each named on the log
--- h2_py
import struct
for f in (frame(7, 0, 1, struct.pack('>II', 0, 0)), frame(0, 0, 0, b'abc'),
          frame(5, 4, 1, struct.pack('>I', 2) + request())):
    c = Raw(P)
    c.sock.sendall(f)
    print(c.wait(0))
--- h2_out
GOAWAY 0 1 closed
GOAWAY 0 1 closed
GOAWAY 0 1 closed
--- error_log
client sent GOAWAY frame with incorrect identifier
client sent DATA frame with incorrect identifier
client sent PUSH_PROMISE frame



=== TEST 4: an indexed field of index 0, a table size update over 4096 (4097, 65536) at a block's start: COMPRESSION_ERROR, each named on the log with its value, as nginx (nghttp2 refuses them unlogged)
--- h2_py
for block in (request() + b'\x80', b'\x3f\xe2\x1f' + request(), hint(65536, 5, 0x20) + request(),
              b'\x3f\xe1\x1f' + request()):
    c = Raw(P)
    c.headers(1, block)
    print(c.wait(1))
--- h2_out
GOAWAY 1 9 closed
GOAWAY 1 9 closed
GOAWAY 1 9 closed
200
--- error_log
client sent invalid hpack table index 0 while processing HTTP/2 connection
client sent invalid table size update: 4097 while processing HTTP/2 connection
client sent invalid table size update: 65536 while processing HTTP/2 connection



=== TEST 5: an index past the static table while the dynamic table is empty (62 indexed, 70 as a literal's name, 62 after a size update to 0 emptied it): COMPRESSION_ERROR, "out of bound hpack table index" with nginx's count; an entry added makes 62 valid
--- h2_py
for blocks in ([request() + idx(62)], [lit_idx(70, 'x') + request()],
               [request() + lit('x-a', 'b', kind=INDEXED), b'\x20' + request() + idx(62)],
               [request() + lit('x-a', 'b', kind=INDEXED), request() + idx(62)]):
    c = Raw(P)
    for i, block in enumerate(blocks):
        c.headers(2 * i + 1, block)
        print(c.wait(2 * i + 1))
--- h2_out
GOAWAY 1 9 closed
GOAWAY 1 9 closed
200
GOAWAY 3 9 closed
200
200
--- error_log
client sent out of bound hpack table index: 0 while processing HTTP/2 connection
client sent out of bound hpack table index: 8 while processing HTTP/2 connection
