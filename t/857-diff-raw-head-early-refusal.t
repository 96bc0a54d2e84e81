# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate with a pause in the
# head: nginx takes each header line as it comes, so a head it refuses at a line (an invalid
# Host, a second Host or other unique header, a request line whose path or host it cannot
# take) is answered 400 at that line, without waiting for the rest; moongate waited for the end
# of the head (client_header_timeout when it never came). What nginx checks only at the head's
# end (an invalid Content-Length, an unknown Transfer-Encoding) still waits. Also: a first Host
# line is checked when the target named the host too (moongate took "Host: a/b" then). Each
# client sends part of a head, then waits for the answer and the close with a bound (issue 12).
#
#   prove -I t/lib t/857-diff-raw-head-early-refusal.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/857-diff-raw-head-early-refusal.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;

plan 'no_plan';

# a head's first lines, the rest never sent: the answer and the close come at once
sub answered_at_line {
    my ($bytes) = @_;
    my ($out, $secs) = until_close($bytes, 5);
    Test::More::like($out, qr{^HTTP/1\.1 400 Bad Request\r\n}, "400 before the head's end");
    Test::More::ok(defined $secs, "then the connection closed");
}

run_tests();

__DATA__

=== TEST 1: an invalid Host ("a/b") is refused at its line
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length h="$host"';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- init
main::answered_at_line("GET /t HTTP/1.1\r\nHost: a/b\r\nX-A: 1\r\nX-B");
--- request
GET /t
--- response_body
ok
--- error_log
client sent invalid host header while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1"
ACCESS 400 "GET /t HTTP/1.1" rl=28 h="localhost"



=== TEST 2: a Host of ".." is refused at its line
--- config
    location /t { return 200 "ok\n"; }
--- init
main::answered_at_line("GET /t HTTP/1.1\r\nHost: ..\r\n");
--- request
GET /t
--- response_body
ok
--- error_log
client sent invalid host header while reading client request headers



=== TEST 3: a second Host is refused at its line, on the first one's server
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length h="$host" s=$server_name';
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name a;
        access_log $TEST_NGINX_LOG_DIR/error.log raw;
    }
--- config
    location /t { return 200 "ok\n"; }
--- init
main::answered_at_line("GET /t HTTP/1.1\r\nHost: a\r\nHost: b\r\nUser-Agent: x");
--- request
GET /t
--- response_body
ok
--- error_log
client sent duplicate host header: "Host: b", previous value: "Host: a" while reading client request headers, client: 127.0.0.1, server: a, request: "GET /t HTTP/1.1", host: "a"
ACCESS 400 "GET /t HTTP/1.1" rl=35 h="a" s=a



=== TEST 4: a second Content-Length (or If-Match) is refused at its line
--- config
    location /t { return 200 "ok\n"; }
--- init
main::answered_at_line("POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n");
main::answered_at_line("GET /t HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\nIf-Match: \"y\"\r\n");
--- request
GET /t
--- response_body
ok
--- error_log
client sent duplicate header line: "Content-Length: 1", previous value: "Content-Length: 1" while reading client request headers
client sent duplicate header line: "If-Match: "y"", previous value: "If-Match: "x"" while reading client request headers



=== TEST 5: a request line whose path climbs above the root, or whose host is invalid
--- config
    location /t { return 200 "ok\n"; }
--- init
main::answered_at_line("GET /../t HTTP/1.1\r\n");
main::answered_at_line("GET http://a..b/t HTTP/1.1\r\n");
--- request
GET /t
--- response_body
ok
--- error_log
client sent invalid request while reading client request line
client sent invalid host in request line while reading client request line



=== TEST 6: a Host line is checked also when the target named the host
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET http://a/t HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header while reading client request headers



=== TEST 7: what nginx checks at the head's end waits for it (an invalid Content-Length)
--- config
    client_header_timeout 10s;
    location /t { return 200 "ok\n"; }
--- init
my ($out, $secs) = main::until_close("POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\nTransfer-Encoding: y\r\n", 0.5);
Test::More::ok(!defined $secs && $out eq '', "no answer before the head's end");
--- request
GET /t
--- response_body
ok
--- no_error_log
client sent invalid "Content-Length" header
