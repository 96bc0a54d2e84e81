# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate: the protocol on the
# request line. $server_protocol (and the access log's) is the version as sent, not the line's
# last 8 bytes: "HTTP/1.10" was "TTP/1.10"; the blanks nginx keeps after the version stay in
# $request and $server_protocol; a major version with a leading zero ("HTTP/01.1") is a 400;
# an HTTP/0.9 request has an empty $server_protocol.
#
#   prove -I t/lib t/970-diff-raw-version.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/970-diff-raw-version.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a two-digit minor version: $server_protocol as sent
--- http_config
    log_format proto 'PROTO [$server_protocol] [$request]';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log proto;
    location /t { return 200 "[$server_protocol] [$request]\n"; }
--- raw_request eval
"GET /t HTTP/1.10\r\nHost: a\r\nConnection: close\r\n\r\n"
--- response_body
[HTTP/1.10] [GET /t HTTP/1.10]
--- error_log
PROTO [HTTP/1.10] [GET /t HTTP/1.10]



=== TEST 2: blanks after the version stay in $request and $server_protocol, as in nginx 1.22
--- config
    location /t { return 200 "[$server_protocol] [$request]\n"; }
--- raw_request eval
"GET /t HTTP/1.1  \r\nHost: a\r\nConnection: close\r\n\r\n"
--- response_body
[HTTP/1.1  ] [GET /t HTTP/1.1  ]



=== TEST 3: a leading zero in the major version is a bad request
--- config
    location /t { return 200 "[$server_protocol]\n"; }
--- raw_request eval
"GET /t HTTP/01.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request while reading client request line, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/01.1"



=== TEST 4: a leading zero in the minor version is fine
--- config
    location /t { return 200 "[$server_protocol]\n"; }
--- raw_request eval
"GET /t HTTP/1.01\r\nHost: a\r\nConnection: close\r\n\r\n"
--- response_body
[HTTP/1.01]



=== TEST 5: HTTP/0.9: $server_protocol is empty
--- config
    location /t { return 200 "[$server_protocol] [$request]\n"; }
--- init
my $out = main::raw_exchange("GET /t\r\n");
Test::More::is($out, "[] [GET /t]\n", "HTTP/0.9: no protocol");
--- request
GET /t
--- response_body
[HTTP/1.1] [GET /t HTTP/1.1]
