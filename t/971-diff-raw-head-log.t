# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate and comparing the
# access log: a head refused or timed out part-way is logged with what nginx had made of it.
# $request_length counts the lines up to and including the refused one (not the empty lines
# before the request line); $uri is the request line's once that was complete (empty when the
# path itself was refused); $host and the server are the first valid Host's, chosen at that
# line, so a second Host is refused on the server the first named. A head that does not
# complete within client_header_timeout is logged as a 408 (no answer), a pipelined one too.
#
#   prove -I t/lib t/971-diff-raw-head-log.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/971-diff-raw-head-log.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a second Host: the lines through it counted, the first Host and its server kept
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name a;
        access_log $TEST_NGINX_LOG_DIR/error.log raw;
    }
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
ACCESS 400 "GET /t HTTP/1.1" rl=35 u="/t" h="a" s=a
client sent duplicate host header: "Host: b", previous value: "Host: a" while reading client request headers, client: 127.0.0.1, server: a, request: "GET /t HTTP/1.1", host: "a"



=== TEST 2: an invalid header line: the lines before it counted, $uri and $host as parsed
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
ACCESS 400 "GET /t HTTP/1.1" rl=36 u="/t" h="a" s=localhost



=== TEST 3: a duplicate Content-Length: counted through it, Host kept
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"
--- error_code: 400
--- error_log
ACCESS 400 "POST /t HTTP/1.1" rl=65 u="/t" h="a" s=localhost



=== TEST 4: an invalid Host: counted through it, no $host
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a..\r\nX-A: b\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
ACCESS 400 "GET /t HTTP/1.1" rl=28 u="/t" h="localhost" s=localhost



=== TEST 5: a path that does not normalize: the request line alone, $uri empty
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t/%00 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
ACCESS 400 "GET /t/%00 HTTP/1.1" rl=21 u="" h="localhost" s=localhost



=== TEST 6: empty lines before the request line are not counted
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"\r\n\r\nGET /t HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- response_body
ok
--- error_log
ACCESS 200 "GET /t HTTP/1.1" rl=47 u="/t" h="a" s=localhost



=== TEST 7: client_header_timeout: a 408 in the access log, with the head so far
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
--- config
    client_header_timeout 300ms;
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\nX-A: b"
--- abort
--- timeout: 3
--- response_body
--- error_log
client timed out (110: Connection timed out) while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1", host: "a"
ACCESS 408 "GET /t HTTP/1.1" rl=26 u="/t" h="a" s=localhost



=== TEST 8: client_header_timeout in the request line: a 408 with the partial line
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
--- config
    client_header_timeout 300ms;
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t"
--- abort
--- timeout: 3
--- response_body
--- error_log
ACCESS 408 "GET /t" rl=0 u="-" h="localhost" s=localhost



=== TEST 9: a pipelined head left incomplete: client_header_timeout, a 408, not a silent close
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
--- config
    client_header_timeout 300ms;
    keepalive_timeout 30s;
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- init
my ($out, $secs) = main::until_close("GET /t HTTP/1.1\r\nHost: a\r\n\r\nGET /u", 5);
Test::More::ok(defined $secs && $secs < 4, "closed after client_header_timeout, not keepalive_timeout");
Test::More::like($out, qr{\r\n\r\nok\n\z}, "the first answer only");
--- request
GET /t
--- response_body
ok
--- error_log
ACCESS 200 "GET /t HTTP/1.1" rl=28 u="/t" h="a" s=localhost
client timed out (110: Connection timed out) while reading client pipelined request line, client: 127.0.0.1, server: localhost, request: "GET /u"
ACCESS 408 "GET /u" rl=0 u="-" h="localhost" s=localhost



=== TEST 10: the client closes in the middle of a head: a 400 in the access log
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length u="$uri" h="$host" s=$server_name';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { return 200 "ok\n"; }
--- init
my ($out, $secs) = main::until_close("GET /t HTTP/1.1\r\nHost: a\r\nX-A", 0.3);
--- request
GET /t
--- response_body
ok
--- error_log
client prematurely closed connection while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1", host: "a"
ACCESS 400 "GET /t HTTP/1.1" rl=26 u="/t" h="a" s=localhost



=== TEST 11: many short header lines fill client_header_buffer_size's buffer and the large ones
--- config
    client_header_buffer_size 1k;
    large_client_header_buffers 2 2k;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\n" . join('', map { sprintf "X-%03d: v\r\n", $_ } 1 .. 480) . "Connection: close\r\n\r\n"
--- response_body
ok



=== TEST 12: a line that does not fit what is left moves whole to the next buffer: 3 of 1200 bytes need 3 large buffers
--- config
    client_header_buffer_size 1k;
    large_client_header_buffers 2 2k;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\n" . join('', map { "X-$_: " . ('v' x 1192) . "\r\n" } 1 .. 3) . "Connection: close\r\n\r\n"
--- error_code: 400
--- response_body_like: Request Header Or Cookie Too Large
--- error_log eval
qr/client sent too long header line: "X-3: v+\.\.\." while reading client request headers/
