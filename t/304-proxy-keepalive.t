# Upstream keepalive: with "keepalive N", proxy_http_version 1.1 and
# proxy_set_header Connection "" one upstream connection carries many
# requests (the counting backend numbers the requests of each connection);
# without any of the three every request gets its own; a response that was
# not read to its end, an upstream "Connection: close", keepalive_requests
# and keepalive_timeout end the reuse.
#
#   prove -I t/lib t/304-proxy-keepalive.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/304-proxy-keepalive.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(k      => 'counting');
backend(kclose => 'counting', keepalive => 0);
# answers at once on each connection, then closes it 0.3 s later (while it idles in the pool)
backend(kgone => 'script', script => ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"],
        hold => 0.3);

# one request on its own connection: the parsed response
sub get {
    my ($path, $headers) = @_;
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" . ($headers // '') . "\r\n";
    my $x = Test::Moongate::exchange([$req], 0, ['GET'], 3);
    my ($r) = Test::Moongate::parse_responses($x->{raw}, ['GET'], 1);
    return $r || { status => '', body => '', headers => {}, error => 'no response' };
}

our $Upstream = <<'EOF';
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 4;
    }
EOF

log_level('info');

run_tests();

__DATA__

=== TEST 1: keepalive 4, HTTP/1.1, Connection "": five requests on one upstream connection
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["req=1\n", "req=2\n", "req=3\n", "req=4\n", "req=5\n"]



=== TEST 2: the upstream sees HTTP/1.1 and no Connection header
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- request eval
["GET /t", "GET /t"]
--- more_headers
X-Echo-Request: 1
--- response_body_like eval
[qr/\AGET \/t HTTP\/1\.1\nHost: k\n(?!(?s:.*)\nConnection:)/, qr/\AGET \/t HTTP\/1\.1\n/]
--- response_headers eval
["X-Backend-Req: 1", "X-Backend-Req: 2"]



=== TEST 3: without the keepalive directive: one connection per request
--- http_config
    upstream k { server 127.0.0.1:$TEST_NGINX_K_PORT; }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["req=1\n", "req=1\n", "req=1\n"]



=== TEST 4: keepalive but the default HTTP/1.0 with "Connection: close": one connection per request
--- http_config eval: $main::Upstream
--- config
    location /t { proxy_pass http://k; }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["req=1\n", "req=1\n", "req=1\n"]



=== TEST 5: keepalive and HTTP/1.1 but the default "Connection: close": one connection per request
--- http_config eval: $main::Upstream
--- config
    location /t { proxy_http_version 1.1; proxy_pass http://k; }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["req=1\n", "req=1\n", "req=1\n"]



=== TEST 6: an upstream that says "Connection: close" is not reused
--- http_config
    upstream kc {
        server 127.0.0.1:$TEST_NGINX_KCLOSE_PORT;
        keepalive 4;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://kc;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["req=1\n", "req=1\n", "req=1\n"]



=== TEST 7: a response that was not read to its end is never reused
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout 1s; # not shorter: a loaded machine can take that long for the first answer
        proxy_buffering off;
        proxy_pass http://k;
    }
--- init
my $r = main::get('/t');
Test::More::like($r->{body}, qr/req=1\n/, 'TEST 7: first request, a new connection');
$r = main::get('/t', "X-Echo-Size: 100\r\nX-Echo-Truncate: 10\r\nX-Echo-Hold: 3\r\n");
Test::More::is(Test::Moongate::header_value($r, 'X-Backend-Req'), 2,
               'TEST 7: the second one reuses it and is broken off');
Test::More::ok(!$r->{complete}, 'TEST 7: the client sees the response incomplete');
--- request
GET /t
--- response_body_like: req=1\n
--- error_log
upstream timed out (110: Connection timed out) while reading upstream



=== TEST 8: a client that goes away mid-response: that upstream connection is not reused
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        proxy_pass http://k;
    }
--- init
my $r = main::get('/t');
Test::More::like($r->{body}, qr/req=1\n/, 'TEST 8: first request, a new connection');
my $s = client_connect();
client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\nX-Echo-Size: 100\r\nX-Echo-Truncate: 10\r\nX-Echo-Hold: 1\r\n\r\n");
my $got = client_read($s, qr/\r\n\r\n.{10}/s, 2);
Test::More::like($got, qr/\r\nX-Backend-Req: 2\r\n/, 'TEST 8: the second one reuses it');
close $s;
Time::HiRes::sleep(0.2);
--- request
GET /t
--- response_body_like: req=1\n



=== TEST 9: request bodies on a kept-alive upstream connection
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- request eval
["POST /t\nabc", "PUT /t\n" . ("x" x 100000), "GET /t", "POST /t"]
--- response_body_like eval
["req=1\n", "req=2\n", "req=3\n", "req=4\n"]



=== TEST 10: keepalive_requests 2 in the upstream block
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 4;
        keepalive_requests 2;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["req=1\n", "req=2\n", "req=1\n", "req=2\n", "req=1\n"]



=== TEST 11: keepalive_timeout 2s in the upstream block: an idle connection is closed
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 4;
        keepalive_timeout 2s;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- init
Test::More::like(main::get('/t')->{body}, qr/req=1\n/, 'TEST 11: a new connection');
Test::More::like(main::get('/t')->{body}, qr/req=2\n/, 'TEST 11: reused at once');
# 2 s, not 200 ms: "at once" is the next request of this process, which a loaded machine can
# delay past 200 ms. Well past the 2 s: a worker that got no CPU meanwhile could see the next
# request before the expired timer
Time::HiRes::sleep(3.5);
--- request
GET /t
--- response_body_like: req=1\n



=== TEST 12: pipelined client requests share the kept-alive upstream connection too
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["req=1\n", "req=2\n", "req=3\n"]



=== TEST 13: an upstream 404 with a body keeps the connection reusable
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["", "X-Echo-Status: 404", ""]
--- error_code eval
[200, 404, 200]
--- response_body_like eval
["req=1\n", "req=2\n", "req=3\n"]



=== TEST 14: an idle pooled connection the upstream closes leaves the pool at once: the next request connects anew, without an error
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_KGONE_PORT;
        keepalive 4;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- init
Test::More::is(main::get('/t')->{body}, 'fresh', 'TEST 14: the first connection');
# the backend (another process) closes 0.3 s after its answer; nothing here can see that
# happen, so 2 s leave a loaded machine room to run it
Time::HiRes::sleep(2);
--- request
GET /t
--- response_body: fresh
--- no_error_log
prematurely closed
[error]
