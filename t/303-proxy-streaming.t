# Proxy streaming: large bodies both ways, upstream bodies with a length,
# chunked or close-delimited passed on to HTTP/1.1 and HTTP/1.0 clients,
# request bodies with Content-Length and chunked (buffered and not), an
# upstream that dribbles bytes reaching the client as they come with
# proxy_buffering off, HEAD.
#
#   prove -I t/lib t/303-proxy-streaming.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/303-proxy-streaming.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;
use Test::MoongateBackend;

backend(a     => 'echo');
backend(drip  => 'drip', count => 12, interval => 0.1);
backend(dripc => 'drip', count => 12, interval => 0.1, mode => 'chunked');

# the dribbling upstream streamed: [seconds, bytes] pieces of one response
sub streamed {
    my ($req, $name) = @_;
    my $s = client_connect();
    client_send($s, $req);
    my $got = client_timed($s, 3);
    my $raw = join '', map { $_->[1] } @$got;
    my $hend = index($raw, "\r\n\r\n");
    my ($first, $n) = (undef, 0);
    my $seen = 0;
    for my $p (@$got) {
        $seen += length $p->[1];
        next if $seen <= $hend + 4;
        $first //= $p->[0];
        $n++;
    }
    # Streaming shows as spread, not as an absolute first-byte time (a loaded machine can be
    # late for everything): the upstream sends its 12 bytes over 1.1 s; buffered, they would
    # all come at once at the end (0.7 s of slack for a client scheduled late)
    my $last = @$got ? $got->[-1][0] : undef;
    Test::More::ok(defined $first && $last - $first > 0.4,
                   "$name: the first body bytes arrive well before the last ("
                   . (defined $first ? sprintf('%.2fs, last %.2fs', $first, $last) : 'never') . ')');
    Test::More::cmp_ok($n, '>=', 5, "$name: the body arrives in pieces");
    return $raw;
}

log_level('info');

run_tests();

__DATA__

=== TEST 1: a 3 MB response with Content-Length
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /t
--- more_headers
X-Echo-Size: 3000000
--- response_headers
Content-Length: 3000000
X-Backend: a
--- response_body_filters: as_pattern
--- response_body: 3000000 pattern
--- timeout: 5



=== TEST 2: a 3 MB chunked upstream response to an HTTP/1.1 client: chunked
--- config
    location /t { proxy_http_version 1.1; proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /t
--- more_headers
X-Echo-Size: 3000000
X-Echo-Mode: chunked
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body_filters: as_pattern
--- response_body: 3000000 pattern
--- timeout: 5



=== TEST 3: a chunked upstream response to an HTTP/1.0 client: close-delimited
--- config
    location /t { proxy_http_version 1.1; proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\nX-Echo-Size: 100000\r\nX-Echo-Mode: chunked\r\n\r\n"
--- response_headers
!Transfer-Encoding
!Content-Length
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n
--- response_body_filters: as_pattern
--- response_body: 100000 pattern



=== TEST 4: a close-delimited upstream response to an HTTP/1.1 client: chunked
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /t
--- more_headers
X-Echo-Size: 200000
X-Echo-Mode: close
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body_filters: as_pattern
--- response_body: 200000 pattern



=== TEST 5: the same, with keepalive: the client's connection stays open
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers
X-Echo-Size: 1000
X-Echo-Mode: close
--- response_headers eval
["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"]
--- response_body_filters: as_pattern
--- response_body eval
["1000 pattern", "1000 pattern"]



=== TEST 6: a 2 MB request body with Content-Length reaches the upstream whole
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request eval
"POST /t\n" . Test::MoongateBackend::pattern(2000010)
--- response_headers
X-Request-Framing: length
--- response_body_filters: echoed_body as_pattern
--- response_body: 2000010 pattern
--- timeout: 5



=== TEST 7: a chunked request body is sent on with a Content-Length (proxy_http_version 1.0)
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
--- response_headers
X-Request-Framing: length
--- response_body_like: ^POST /t HTTP/1\.0\n(?:.*\n)*Content-Length: 12\n(?:.*\n)*\nhello, world\z
--- response_body_unlike: (?i)transfer-encoding



=== TEST 8: a chunked request body in two pieces, proxy_request_buffering off and HTTP/1.1: chunked to the upstream
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
 . "5\r\nhello\r\n", "7\r\n, world\r\n0\r\n\r\n"]
--- raw_request_middle_delay: 0.2
--- response_headers
X-Request-Framing: chunked
--- response_body_like: ^POST /t HTTP/1\.1\n(?:.*\n)*Transfer-Encoding: chunked\n(?:.*\n)*\nhello, world\z



=== TEST 9: a 1 MB request body, proxy_request_buffering off, sent in pieces
--- config
    location /t {
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 1000000\r\n\r\n"
 . substr(Test::MoongateBackend::pattern(1000000), 0, 500000),
 substr(Test::MoongateBackend::pattern(1000000), 500000)]
--- raw_request_middle_delay: 0.2
--- response_headers
X-Request-Framing: length
--- response_body_filters: echoed_body as_pattern
--- response_body: 1000000 pattern



=== TEST 10: proxy_buffering off: a 3 MB body whole
--- config
    location /t { proxy_buffering off; proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /t
--- more_headers
X-Echo-Size: 3000000
--- response_body_filters: as_pattern
--- response_body: 3000000 pattern
--- timeout: 5



=== TEST 11: proxy_buffering off: a dribbling upstream reaches the client byte by byte
--- config
    location /t { proxy_buffering off; proxy_pass http://127.0.0.1:$TEST_NGINX_DRIP_PORT; }
--- init
my $raw = main::streamed("GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", "TEST 11");
Test::More::like($raw, qr/\r\nContent-Length: 12\r\n(?:.*\r\n)*\r\nabcdefghijkl\z/, "TEST 11: the whole body");
--- request
GET /t
--- response_body: abcdefghijkl



=== TEST 12: proxy_buffering off: a dribbling chunked upstream, re-chunked as it comes
--- config
    location /t {
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DRIPC_PORT;
    }
--- init
my $raw = main::streamed("GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", "TEST 12");
Test::More::like($raw, qr/\r\nTransfer-Encoding: chunked\r\n/, "TEST 12: chunked");
--- request
GET /t
--- response_body: abcdefghijkl



=== TEST 13: proxy_buffering on: the dribbled body arrives whole
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_DRIP_PORT; }
--- request
GET /t
--- response_headers
Content-Length: 12
--- response_body: abcdefghijkl



=== TEST 14: HEAD: the upstream gets a HEAD, the client a head without a body
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
HEAD /t
--- more_headers
X-Echo-Size: 5000
--- response_headers
Content-Length: 5000
--- response_body:



=== TEST 15: proxy_request_buffering off with HTTP/1.0: a chunked body is buffered and sent with a Content-Length
--- config
    location /t {
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
 . "5\r\nhello\r\n", "7\r\n, world\r\n0\r\n\r\n"]
--- raw_request_middle_delay: 0.2
--- response_headers
X-Request-Framing: length
--- response_body_like: ^POST /t HTTP/1\.0\n(?:.*\n)*Content-Length: 12\n(?:.*\n)*\nhello, world\z



=== TEST 16: a 1 MB chunked body, proxy_request_buffering off and HTTP/1.1: streamed chunked
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
my $p = Test::MoongateBackend::pattern(1000000);
my $c = CORE::join "", map { sprintf("%x\r\n%s\r\n", 100000, substr($p, $_ * 100000, 100000)) } 0 .. 9;
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
 . substr($c, 0, 500000), substr($c, 500000) . "0\r\n\r\n"]
--- raw_request_middle_delay: 0.2
--- response_headers
X-Request-Framing: chunked
--- response_body_filters: echoed_body as_pattern
--- response_body: 1000000 pattern



=== TEST 17: proxy_request_buffering off: a chunked body grown past client_max_body_size mid-way is a 413
--- config
    location /t {
        client_max_body_size 10;
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
 . "5\r\nhello\r\n", "a\r\n0123456789\r\n0\r\n\r\n"]
--- raw_request_middle_delay: 0.2
--- error_code: 413
--- response_body_like: <title>413 Request Entity Too Large</title>
--- error_log eval
qr/\[error\] .*client intended to send too large chunked body: 5\+10 bytes/
