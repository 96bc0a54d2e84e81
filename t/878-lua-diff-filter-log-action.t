# The error log's context (" while ...") for lines the Lua filters write, as Debian's nginx 1.22
# with its Lua module writes them: a static file's response (the static, gzip_static, flv and
# mp4 handlers set it as they send the header) is "while sending response to client" in
# header_filter_by_lua and body_filter_by_lua, for ngx.log and for the code's own errors; a
# proxied body "while sending to client"; a handler's own bytes (return, content_by_lua) none.
# moongate wrote a file's lines with no context (only gunzip and SSI had theirs).
#
#   TEST_MOONGATE_SERVROOT=/tmp/sr-x prove -I t/lib t/878-lua-diff-filter-log-action.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/878-lua-diff-filter-log-action.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: a static file: ngx.log in the body filter says "while sending response to client"
--- user_files
>>> f.txt
hello
--- config
    location /f.txt { body_filter_by_lua_block { ngx.log(ngx.WARN, "bf eof=", ngx.arg[2]) } }
--- request
GET /f.txt
--- response_body
hello
--- error_log eval
qr/bf eof=true while sending response to client, client: 127\.0\.0\.1, server: \S+, request: "GET \/f\.txt HTTP\/1\.1", host: "/



=== TEST 2: a static file: the body filter's error says so too
--- user_files
>>> f.txt
hello
--- config
    location /f.txt { body_filter_by_lua_block { error("filter broke") } }
--- request
GET /f.txt
--- ignore_response
--- error_log eval
[qr/failed to run body_filter_by_lua\*: .*filter broke/,
 qr/:1: in main chunk while sending response to client, client: 127\.0\.0\.1, server: \S+, request: "GET \/f\.txt HTTP\/1\.1", host: "/]



=== TEST 3: a static file: the header filter's lines too (the handler sets it before the header)
--- user_files
>>> f.txt
hello
--- config
    location /f.txt { header_filter_by_lua_block { ngx.log(ngx.WARN, "hf status=", ngx.status) } }
--- request
GET /f.txt
--- response_body
hello
--- error_log eval
qr/hf status=200 while sending response to client, client: 127\.0\.0\.1, server: \S+, request: "GET \/f\.txt HTTP\/1\.1", host: "/



=== TEST 4: a file gzip_static sends: "while sending response to client"
--- user_files
>>> g.txt
x
>>> g.txt.gz
not really gzip
--- config
    location /g.txt { gzip_static always; body_filter_by_lua_block { ngx.log(ngx.WARN, "gz eof=", ngx.arg[2]) } }
--- request
GET /g.txt
--- ignore_response
--- error_log eval
qr/gz eof=true while sending response to client, client: 127\.0\.0\.1/



=== TEST 5: a proxied body: "while sending to client"
--- config
    location /up { return 200 "hello\n"; }
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
        body_filter_by_lua_block { if ngx.arg[2] then ngx.log(ngx.WARN, "pbf eof") end }
    }
--- request
GET /p
--- response_body
hello
--- error_log eval
qr/pbf eof while sending to client, client: 127\.0\.0\.1/



=== TEST 6: a handler's own bytes (return, content_by_lua): no context
--- config
    location /r {
        return 200 "r\n";
        body_filter_by_lua_block { if ngx.arg[2] then ngx.log(ngx.WARN, "rbf eof") end }
    }
    location /l {
        content_by_lua_block { ngx.say("l") }
        body_filter_by_lua_block { if ngx.arg[2] then ngx.log(ngx.WARN, "lbf eof") end }
    }
--- pipelined_requests eval
["GET /r", "GET /l"]
--- response_body eval
["r\n", "l\n"]
--- error_log eval
[qr/rbf eof, client: 127\.0\.0\.1/, qr/lbf eof, client: 127\.0\.0\.1/]



=== TEST 7: a file, then a handler's bytes on the same connection: the second has none
--- user_files
>>> f.txt
hello
--- config
    location /f.txt { body_filter_by_lua_block { if ngx.arg[2] then ngx.log(ngx.WARN, "fbf eof") end } }
    location /l {
        content_by_lua_block { ngx.say("l") }
        body_filter_by_lua_block { if ngx.arg[2] then ngx.log(ngx.WARN, "lbf eof") end }
    }
--- pipelined_requests eval
["GET /f.txt", "GET /l"]
--- response_body eval
["hello\n", "l\n"]
--- error_log eval
[qr/fbf eof while sending response to client, client: 127\.0\.0\.1/,
 qr/lbf eof, client: 127\.0\.0\.1/]



=== TEST 8: flv and mp4 files: their handlers' own words
--- user_files
>>> v.flv
not a real flv
>>> v.mp4
not a real mp4
--- config
    location /v.flv { flv; body_filter_by_lua_block { if ngx.arg[2] then ngx.log(ngx.WARN, "flv eof") end } }
    location /v.mp4 { mp4; body_filter_by_lua_block { if ngx.arg[2] then ngx.log(ngx.WARN, "mp4 eof") end } }
--- pipelined_requests eval
["GET /v.flv", "GET /v.mp4"]
--- response_body eval
["not a real flv\n", "not a real mp4\n"]
--- error_log eval
[qr/flv eof while sending flv to client, client: 127\.0\.0\.1/,
 qr/mp4 eof while sending mp4 to client, client: 127\.0\.0\.1/]
