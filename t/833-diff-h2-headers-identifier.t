# Found by sending the same frames to nginx 1.22 and moongate (issue 17): a HEADERS frame must
# open a stream after the last one opened. nginx ends the connection (GOAWAY PROTOCOL_ERROR,
# "client sent HEADERS frame with incorrect identifier N, the last was M") at a closed stream's
# HEADERS and at a request's trailers (a second HEADERS on an open stream), after answering the
# requests before it; nghttp2 ignored the first and took the second (moongate then dropped the
# trailers and served the request).
#
#   prove -I t/lib t/833-diff-h2-headers-identifier.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/833-diff-h2-headers-identifier.t

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

=== TEST 1: stream 3, then a HEADERS frame for stream 1 in the same packet: 3 is answered, then GOAWAY PROTOCOL_ERROR naming 3
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 5, 3, request()) + frame(1, 5, 1, request()))
print(c.wait(3))
print(c.wait(0))
--- h2_out
200
GOAWAY 3 1 closed
--- error_log
client sent HEADERS frame with incorrect identifier 1, the last was 3 while processing HTTP/2 connection



=== TEST 2: a HEADERS frame for a stream that was answered and closed: GOAWAY PROTOCOL_ERROR
--- h2_py
c = Raw(P)
c.headers(1, request())
print(c.wait(1))
c.headers(1, request())
print(c.wait(0))
--- h2_out
200
GOAWAY 1 1 closed
--- error_log
client sent HEADERS frame with incorrect identifier 1, the last was 1 while processing HTTP/2 connection



=== TEST 3: a request's trailers (a second HEADERS on its open stream): GOAWAY PROTOCOL_ERROR
--- h2_py
c = Raw(P)
c.headers(1, request('/slow'), flags=0x4)
c.headers(1, lit('x-trailer', 'v'))
print(c.wait(0))
--- h2_out_like
^GOAWAY 1 1
--- error_log
client sent HEADERS frame with incorrect identifier 1, the last was 1 while processing HTTP/2 connection



=== TEST 4: a HEADERS frame after the stream's END_STREAM: the same
--- h2_py
c = Raw(P)
c.headers(1, request('/slow'))
c.headers(1, request('/slow'))
print(c.wait(0))
--- h2_out_like
^GOAWAY 1 1
--- error_log
client sent HEADERS frame with incorrect identifier 1, the last was 1 while processing HTTP/2 connection



=== TEST 5: streams 1, 5, then 3: GOAWAY naming 5
--- h2_py
c = Raw(P)
c.headers(1, request())
print(c.wait(1))
c.headers(5, request())
print(c.wait(5))
c.headers(3, request())
print(c.wait(0))
--- h2_out
200
200
GOAWAY 5 1 closed
--- error_log
client sent HEADERS frame with incorrect identifier 3, the last was 5 while processing HTTP/2 connection
