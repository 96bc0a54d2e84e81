# The Trailer header line is not among the ones the proxy drops, as Debian's nginx 1.22 has
# it: a client's goes on to the upstream (its chunked body's trailer fields do not: the body
# is sent again, framed anew), and an upstream's reaches the client.
#
#   prove -I t/lib t/977-diff-proxy-trailer-header.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/977-diff-proxy-trailer-header.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');

our $A = $Test::MoongateBackend::Port{a};

run_tests();

__DATA__

=== TEST 1: a client's Trailer line goes upstream; the trailer fields of its chunked body do not
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\nX-T: tv\r\n\r\n"
--- response_body eval
"POST /t HTTP/1.0\nHost: 127.0.0.1:$main::A\nConnection: close\nContent-Length: 3\nTrailer: X-T\n\nabc"



=== TEST 2: an upstream's Trailer line reaches the client
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /t
--- more_headers
X-Echo-Header: Trailer: X-Up
X-Echo-Body: ok
--- response_headers
Trailer: X-Up
--- response_body chomp
ok
