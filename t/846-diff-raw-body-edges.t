# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate (t/tools/h1diff.py):
# edges of the request body. A chunk size above off_t's top / 16 (0x7ffffffffffffff) is an
# invalid chunked body (400), as nginx checks it digit by digit (moongate said 413); $request_body
# is empty, not "not found", for a body sent empty ("Content-Length: 0", a lone "0" chunk);
# "Expect: 100-continue" gets its "100 Continue" when a handler reads a body that turns out
# empty too; an HTTP/0.9 request has no $server_protocol (nil in Lua, where moongate said "").
#
#   prove -I t/lib t/846-diff-raw-body-edges.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/846-diff-raw-body-edges.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a chunk size of off_t's top is an invalid chunked body
--- config
    location /t { content_by_lua_block { ngx.req.read_body() ngx.say("read") } }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7fffffffffffffff\r\nabc\r\n0\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid chunked body
--- no_error_log
too large



=== TEST 2: the limit is off_t's top / 16: one above is invalid, it is too large
--- config
    location /t { content_by_lua_block { ngx.req.read_body() ngx.say("read") } }
--- init
my $out = main::raw_exchange("POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0800000000000000\r\nabc\r\n0\r\n\r\n");
Test::More::like($out, qr{^HTTP/1\.1 400 }, "0800000000000000: 400");
$out = main::raw_exchange("POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7ffffffffffffff\r\nabc\r\n0\r\n\r\n");
Test::More::like($out, qr{^HTTP/1\.1 413 }, "7ffffffffffffff: 413");
--- request
GET /t
--- response_body
read



=== TEST 3: $request_body of a "Content-Length: 0" body is empty
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local b = ngx.var.request_body
            ngx.say(b == nil and "not found" or "[" .. b .. "]")
        }
    }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
--- response_body
[]



=== TEST 4: $request_body of a lone "0" chunk is empty; without a body it is not found
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local b = ngx.var.request_body
            ngx.say(b == nil and "not found" or "[" .. b .. "]")
        }
    }
--- init
my $out = main::raw_exchange("POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n");
Test::More::like($out, qr{\r\n\r\n(?:[0-9a-f]+\r\n)?\[\]\n}, "0 chunk: empty");
--- request
POST /t
--- response_body
not found



=== TEST 5: "100 Continue" when a handler reads a body that is not there
--- config
    location /t { content_by_lua_block { ngx.req.read_body() ngx.say("read") } }
--- init
my $out = main::raw_exchange("GET /t HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
Test::More::like($out, qr{^HTTP/1\.1 100 Continue\r\n\r\nHTTP/1\.1 200 OK\r\n}, "GET: 100 first");
$out = main::raw_exchange("POST /t HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
Test::More::like($out, qr{^HTTP/1\.1 100 Continue\r\n\r\nHTTP/1\.1 200 OK\r\n}, "length 0: 100 first");
$out = main::raw_exchange("GET /t HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
Test::More::like($out, qr{^HTTP/1\.1 200 OK\r\n}, "HTTP/1.0: none");
--- request
GET /t
--- response_body
read



=== TEST 6: HTTP/0.9: $server_protocol is not found (nil in Lua, "-" in a log)
--- http_config
    log_format proto 'PROTO [$server_protocol]';
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log proto;
    location /t { content_by_lua_block { ngx.say(tostring(ngx.var.server_protocol)) } }
--- init
Test::More::is(main::raw_exchange("GET /t\r\n"), "nil\n", "HTTP/0.9: nil");
--- request
GET /t
--- response_body
HTTP/1.1
--- error_log
PROTO [-]
PROTO [HTTP/1.1]
