# Found by running the same Lua handlers on OpenResty's module (Debian's nginx) and moongate:
# lua_http10_buffering (on by default) was missing. An HTTP/1.0 response has no chunked
# framing, so lua-nginx-module holds a handler's output until its end and sends it with a
# Content-Length, which lets an HTTP/1.0 keep-alive client (ab -k, health checkers) keep its
# connection; meanwhile the head is not sent (ngx.headers_sent false, a later ngx.status or
# header still counts), ngx.flush answers nil, "buffering" and ngx.send_headers waits too.
#
#   prove -I t/lib t/941-diff-lua-http10.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/941-diff-lua-http10.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: HTTP/1.0: the output gets a Content-Length, the connection is kept when asked
--- config
    location /t { content_by_lua_block { ngx.say("one") ngx.say("two") } }
--- raw_request eval
"GET /t HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
--- abort
--- timeout: 10
--- response_headers
Content-Length: 8
Connection: keep-alive
--- response_body
one
two



=== TEST 2: ngx.flush answers "buffering"; ngx.headers_sent is false; a later ngx.status counts
--- config
    location /t {
        content_by_lua_block {
            ngx.say("x")
            local ok, err = ngx.flush(true)
            ngx.say(tostring(ok), " ", err, " ", tostring(ngx.headers_sent))
            ngx.status = 201
            ngx.header["X-Late"] = "1"
        }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- error_code: 201
--- response_headers
Content-Length: 22
X-Late: 1
--- response_body
x
nil buffering false



=== TEST 3: ngx.send_headers before any output sends the head: no Content-Length
--- config
    location /t { content_by_lua_block { ngx.send_headers() ngx.say("one") } }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_headers
!Content-Length
--- response_body
one



=== TEST 4: no output at all: Content-Length 0
--- config
    location /empty { content_by_lua_block { } }
--- raw_request eval
"GET /empty HTTP/1.0\r\n\r\n"
--- error_code: 200
--- response_headers
Content-Length: 0



=== TEST 5: an error after held output: the head was not sent, so a 500 page
--- config
    location /err { content_by_lua_block { ngx.say("partial") error("oops") } }
--- raw_request eval
"GET /err HTTP/1.0\r\n\r\n"
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log
oops



=== TEST 6: lua_http10_buffering off, HEAD, HTTP/1.1 and ngx.eof: as before
--- config
    location /off { lua_http10_buffering off; content_by_lua_block { ngx.say("one") } }
    location /eof { content_by_lua_block { ngx.say("one") ngx.eof() ngx.sleep(0.001) } }
--- raw_request eval
["GET /off HTTP/1.0\r\n\r\n", "HEAD /eof HTTP/1.0\r\n\r\n", "GET /eof HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET /eof HTTP/1.0\r\n\r\n"]
--- response_headers eval
["!Content-Length", "!Content-Length", "!Content-Length", "Content-Length: 4"]
