# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py): a
# client's GOAWAY whose last stream is one of the client's own (odd; RFC 9113 counts the
# server's streams there) was a PROTOCOL_ERROR to nghttp2: moongate's GOAWAY ended the
# connection and the request under way got no answer. nginx takes no action on a GOAWAY it
# gets: the stream is answered and later ones are served. The connection drops such a GOAWAY
# before nghttp2 reads it (v2.c's frame_gate).
#
#   prove -I t/lib t/861-diff-h2-client-goaway.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/861-diff-h2-client-goaway.t

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

=== TEST 1: a GOAWAY naming stream 1 (NO_ERROR, and an error code) while stream 1's request runs: it is answered, the next stream served, no GOAWAY back
--- h2_py
import struct
for code in (0, 2):
    c = Raw(P)
    c.sock.sendall(frame(1, 5, 1, request('/slow')) + frame(7, 0, 0, struct.pack('>II', 1, code)))
    print(c.wait(1))
    c.headers(3, request())
    print(c.wait(3))
    print(c.goaway)
--- h2_out
200
200
None
200
200
None
--- no_error_log
invalid http2 data
