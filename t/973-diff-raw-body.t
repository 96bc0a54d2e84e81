# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate: a request body that
# stops coming. nginx ends the request with a 408 in the access log and no error log line
# (the "client timed out" info line is the head's and the response's, not the body's).
#
#   prove -I t/lib t/973-diff-raw-body.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/973-diff-raw-body.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: client_body_timeout (a Lua handler reading the body): 408 logged, no info line
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length';
--- config
    client_body_timeout 300ms;
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { content_by_lua_block { ngx.req.read_body() ngx.say("read") } }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab"
--- abort
--- timeout: 3
--- response_body
--- error_log
ACCESS 408 "POST /t HTTP/1.1" rl=51
--- no_error_log
client timed out



=== TEST 2: client_body_timeout on a proxied body: 408 logged, no info line
--- http_config
    log_format raw 'ACCESS $status "$request" rl=$request_length';
--- config
    client_body_timeout 300ms;
    access_log $TEST_NGINX_LOG_DIR/error.log raw;
    location /t { proxy_pass http://127.0.0.1:1; }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab"
--- abort
--- timeout: 3
--- response_body
--- error_log
ACCESS 408 "POST /t HTTP/1.1" rl=51
--- no_error_log
client timed out
