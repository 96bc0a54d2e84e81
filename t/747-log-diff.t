# Found by sending the same requests to Debian's nginx 1.22 and moongate on one config and
# comparing their access and error logs byte for byte (times and pids masked).
# $sent_http_location is the Location sent (made absolute by absolute_redirect); after a bad
# %-escape on the request line, $request_uri and $args are empty like $uri; the error log's
# request line keeps what follows a NUL byte. Where nginx's log is plainly wrong, the block
# is moongate_only and says why.
#
#   prove -I t/lib t/747-log-diff.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/747-log-diff.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: $sent_http_location of a relative redirect is the absolute one sent
--- http_config
    log_format loc 'ACCESS $status loc="$sent_http_location"';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log loc;
    location /r { return 302 /there; }
--- raw_request eval
"GET /r HTTP/1.0\r\nHost: a.example\r\n\r\n"
--- error_code: 302
--- error_log eval
qr{ACCESS 302 loc="http://a\.example:\d+/there"}



=== TEST 2: ... a directory's redirect too; absolute_redirect off keeps it relative
--- http_config
    log_format loc 'ACCESS $status $uri loc="$sent_http_location"';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log loc;
    location /html { absolute_redirect off; return 301 /x; }
    location / { }
--- raw_request eval
"GET /html HTTP/1.0\r\nHost: a.example\r\n\r\n"
--- error_code: 301
--- error_log
ACCESS 301 /html loc="/x"



=== TEST 3: a bad %-escape: $request_uri and $args not found, $uri empty
--- http_config
    log_format ru 'ACCESS $status ru="$request_uri" a="$args" u="$uri" r="$request"';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log ru;
    location / { return 200; }
--- raw_request eval
"GET /f%zz?q=1 HTTP/1.0\r\nHost: a\r\n\r\n"
--- error_code: 400
--- error_log
ACCESS 400 ru="-" a="-" u="" r="GET /f%zz?q=1 HTTP/1.0"
client sent invalid request while reading client request line



=== TEST 4: a NUL on the request line: the error log's request: shows the line whole
--- config
    location / { return 200; }
--- raw_request eval
"GET /f\0?q=2 HTTP/1.0\r\nHost: a\r\n\r\n"
--- error_code: 400
--- error_log eval
qr{client sent invalid request while reading client request line, client: 127\.0\.0\.1, server: localhost, request: "GET /f(?:\0|\\x00)\?q=2 HTTP/1\.0"}



=== TEST 5: $sent_http_connection of a kept-alive connection is "keep-alive", as sent
# moongate_only: nginx 1.22 logs "close" for every kept-alive request (its keepalive handler
# clears r->keepalive just before the log phase runs), which contradicts the head it sent
--- moongate_only
--- http_config
    log_format conn 'ACCESS $status co=$sent_http_connection';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log conn;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\n\r\nGET /t HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
--- error_log
ACCESS 200 co=keep-alive
ACCESS 200 co=close
