# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py): a
# request whose header block came whole is answered before a HEADERS frame read after it in the
# same read ends the connection (an HPACK integer nginx refuses, a field too large, an index past
# the tables): nginx runs a request as its block ends, then sends the GOAWAY. moongate started
# the request after nghttp2 had read the whole read, by when nghttp2 had queued its GOAWAY ahead
# of the answer, and sends nothing after one: the client got the GOAWAY alone.
#
#   prove -I t/lib t/859-diff-h2-answers-before-goaway.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/859-diff-h2-answers-before-goaway.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    large_client_header_buffers 4 1k;
    location /t { return 200 "ok\n"; }
CONF

run_tests();

__DATA__

=== TEST 1: stream 1's request, then stream 3's block with an index in 5 octets, in one write: 1 is answered, then GOAWAY COMPRESSION_ERROR naming 3
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request()) + frame(1, 5, 3, b'\xff\x80\x80\x80\x00'))
print(c.wait(1))
print(c.wait(0))
--- h2_out
200
GOAWAY 3 9 closed
--- error_log
client sent header block with too long header index value while processing HTTP/2 connection



=== TEST 2: the same with an index past the tables (nghttp2 refuses the block itself)
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request()) + frame(1, 5, 3, request() + idx(70)))
print(c.wait(1))
print(c.wait(0))
--- h2_out
200
GOAWAY 3 9 closed



=== TEST 3: two requests, then a block whose field is over large_client_header_buffers: both answered, then GOAWAY ENHANCE_YOUR_CALM naming 5
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request()) + frame(1, 5, 3, request())
               + frame(1, 5, 5, request() + lit('x-a', 'a' * 1100)))
print(c.wait(1))
print(c.wait(3))
print(c.wait(0))
--- h2_out
200
200
GOAWAY 5 11 closed
--- error_log
client sent too large header field while processing HTTP/2 connection



=== TEST 4: the refused field's 300 KB still coming (in CONTINUATIONs) after the request's answer and the GOAWAY: the connection closes lingering, the client writes all and reads both
--- h2_py
c = Raw(P)
block = request() + lit('x-a', 'a' * 300000)
parts = [block[k:k + 16000] for k in range(0, len(block), 16000)]
data = frame(1, 5, 1, request()) + frame(1, 1, 3, parts[0])
data += b''.join(frame(9, 4 if k == len(parts) - 1 else 0, 3, p) for k, p in enumerate(parts) if k)
c.sock.sendall(data)
print(c.wait(1))
print(c.wait(0))
--- h2_out
200
GOAWAY 3 11 closed
--- error_log
client sent too large header field while processing HTTP/2 connection
