# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate (t/tools/h1diff.py):
# the host of an absolute-form target. nginx takes a name of letters, digits, '.' and '-', or an
# IP literal in [] closed by its ']', then an optional port of digits only: "h_x", "h:x" and an
# unclosed "[::1" are bad requests (moongate served them); an empty host is an invalid host; a
# line does not end right after the host (HTTP/0.9). Without a path $request_uri is "/", or
# "?args" when the args follow the host (moongate said "/h" and "/h?args").
#
#   prove -I t/lib t/843-diff-raw-absolute-host.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/843-diff-raw-absolute-host.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: an underscore in the host is a bad request line
--- config
    location /r { return 200 "[$host] [$request_uri]\n"; }
--- raw_request eval
"GET http://h_x/r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request while reading client request line, client: 127.0.0.1, server: localhost, request: "GET http://h_x/r HTTP/1.1"



=== TEST 2: a port that is not digits is a bad request line
--- config
    location /r { return 200 "[$host] [$request_uri]\n"; }
--- raw_request eval
"GET http://h:x/r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request while reading client request line, client: 127.0.0.1, server: localhost, request: "GET http://h:x/r HTTP/1.1"



=== TEST 3: an IP literal without its ']' is a bad request line
--- config
    location /r { return 200 "[$host] [$request_uri]\n"; }
--- raw_request eval
"GET http://[::1/r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request while reading client request line, client: 127.0.0.1, server: localhost, request: "GET http://[::1/r HTTP/1.1"



=== TEST 4: bytes after an IP literal's ']' other than a port or the path: a bad request line
--- config
    location /r { return 200 "[$host] [$request_uri]\n"; }
--- raw_request eval
"GET http://[::1]x/r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request while reading client request line, client: 127.0.0.1, server: localhost, request: "GET http://[::1]x/r HTTP/1.1"



=== TEST 5: an IP literal and a port: served
--- config
    location /r { return 200 "[$host] [$request_uri]\n"; }
--- raw_request eval
"GET http://[::1]:80/r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- response_body
[[::1]] [/r]



=== TEST 6: an empty host is an invalid host in the request line
--- config
    location /r { return 200 "[$host] [$request_uri]\n"; }
--- raw_request eval
"GET http:///r HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host in request line while reading client request line, client: 127.0.0.1, server: localhost, request: "GET http:///r HTTP/1.1"



=== TEST 7: no path: $request_uri is "/"
--- config
    location / { return 200 "[$host] [$request_uri] [$uri] [$args]\n"; }
--- raw_request eval
"GET http://h.example:8080 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- response_body
[h.example] [/] [/] []



=== TEST 8: no path, args after the host: $request_uri is "?" and the args
--- config
    location / { return 200 "[$host] [$request_uri] [$uri] [$args]\n"; }
--- raw_request eval
"GET http://h?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- response_body
[h] [?x=1] [/] [x=1]



=== TEST 9: an HTTP/0.9 line does not end right after the host
--- config
    location / { return 200 "[$host] [$request_uri]\n"; }
--- init
my $out = main::raw_exchange("GET http://h\r\n");
Test::More::like($out, qr{^HTTP/1\.1 400 }, "GET http://h (0.9): 400");
my $ok = main::raw_exchange("GET http://h/\r\n");
Test::More::is($ok, "[h] [/]\n", "GET http://h/ (0.9): served");
--- request
GET /
--- response_body
[localhost] [/]
