# ngx.exit's odd codes as lua-nginx-module 0.10.23 (Debian's nginx) ends them: a code
# from 1 to 199, or ngx.DECLINED in content_by_lua, sends no response at all, logs "000"
# and leaves the connection to its next request; in header_filter_by_lua it returns. Found
# in a side-by-side run.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/964-lua-diff-exit.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.exit(101) and ngx.exit(1) in content: no response, "000" logged, the next request served
--- config
    location /t {
        content_by_lua_block { ngx.exit(tonumber(ngx.var.arg_c)) }
        log_by_lua_block { ngx.log(ngx.WARN, "logged: ", ngx.var.status, " ", ngx.var.uri, " ", ngx.var.arg_c) }
    }
    location /ok {
        return 200 ok;
        log_by_lua_block { ngx.log(ngx.WARN, "logged: ", ngx.var.status, " ", ngx.var.uri) }
    }
--- pipelined_requests eval
["GET /t?c=101", "GET /t?c=1", "GET /ok"]
--- ignore_response
--- error_log
logged: 000 /t 101
logged: 000 /t 1
logged: 200 /ok
--- no_error_log
[error]



=== TEST 2: ngx.exit(ngx.DECLINED) in content sends nothing (no static file is tried)
--- config
    location /t {
        content_by_lua_block { ngx.exit(ngx.DECLINED) }
        log_by_lua_block { ngx.log(ngx.WARN, "logged: ", ngx.var.status, " ", ngx.var.uri) }
    }
    location /ok {
        return 200 ok;
        log_by_lua_block { ngx.log(ngx.WARN, "logged: ", ngx.var.status, " ", ngx.var.uri) }
    }
--- pipelined_requests eval
["GET /t", "GET /ok"]
--- ignore_response
--- error_log
logged: 000 /t
logged: 200 /ok
--- no_error_log
[error]



=== TEST 3: in rewrite and access, ngx.exit(150) ends the request without a response too
--- config
    location /r {
        rewrite_by_lua_block { ngx.exit(150) }
        content_by_lua_block { ngx.say("not here") }
        log_by_lua_block { ngx.log(ngx.WARN, "logged: ", ngx.var.status, " ", ngx.var.uri) }
    }
    location /a {
        access_by_lua_block { ngx.exit(150) }
        content_by_lua_block { ngx.say("not here") }
        log_by_lua_block { ngx.log(ngx.WARN, "logged: ", ngx.var.status, " ", ngx.var.uri) }
    }
--- pipelined_requests eval
["GET /r", "GET /a"]
--- ignore_response
--- error_log
logged: 000 /r
logged: 000 /a
--- no_error_log
[error]



=== TEST 4: ngx.exit in header_filter_by_lua returns (nothing), the code goes on, and the exit acts at its end
--- config
    location /t {
        content_by_lua_block { ngx.say("hi") }
        header_filter_by_lua_block {
            local r = {pcall(ngx.exit, tonumber(ngx.var.arg_c))}
            ngx.header.X = tostring(r[1]) .. " " .. select("#", unpack(r))
            ngx.exit(tonumber(ngx.var.arg_c))
            ngx.header.Y = "after"
        }
    }
--- pipelined_requests eval
["GET /t?c=0", "GET /t?c=404"]
--- error_code eval
[200, 404]
--- response_headers eval
["X: true 1\nY: after", "X: true 1\nY: after"]
--- response_body_like eval
["^hi\n\$", "404 Not Found"]



=== TEST 5: under HTTP/1.0 with output held, ngx.redirect sends it with the redirect's status and Location
--- config
    location /t {
        content_by_lua_block { ngx.say("hi") ngx.redirect("/x") }
        log_by_lua_block { ngx.log(ngx.WARN, "logged: ", ngx.var.status, " ", ngx.var.uri) }
    }
--- request
GET /t HTTP/1.0
--- error_code: 302
--- response_headers
Location: /x
Content-Length: 3
--- response_body
hi
--- error_log
logged: 302 /t
