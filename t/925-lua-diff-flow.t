# Flow control of the Lua API found differing from OpenResty's in a side-by-side run with
# Debian's nginx and its Lua module: ngx.exit's refused codes, ngx.exec's URI handling.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/925-lua-diff-flow.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.exit refuses NGX_AGAIN and NGX_DONE with an error, in a pcall as elsewhere
--- config
    location /t {
        content_by_lua_block {
            for _, code in ipairs({ngx.AGAIN, ngx.DONE}) do
                local ok, err = pcall(ngx.exit, code)
                ngx.say(code, " ", tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")))
            end
        }
    }
--- request
GET /t
--- response_body
-2 false bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE
-4 false bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE



=== TEST 2: ngx.exit(ngx.DONE) in the rewrite phase is a 500, not a request left waiting
--- config
    location /t {
        rewrite_by_lua_block { ngx.exit(ngx.DONE) }
        content_by_lua_block { ngx.say("not reached") }
    }
--- request
GET /t
--- error_code: 500
--- error_log
does not accept NGX_AGAIN or NGX_DONE



=== TEST 3: ngx.exit(ngx.AGAIN) in the content phase is a 500 too
--- config
    location /t {
        content_by_lua_block { ngx.exit(ngx.AGAIN) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
does not accept NGX_AGAIN or NGX_DONE



=== TEST 4: ngx.exec decodes the path's %-escapes once, not the args, and refuses a ".." or a NUL
--- config
    location /t {
        content_by_lua_block {
            local u = ngx.var.arg_u
            if u then
                ngx.exec(ngx.unescape_uri(u))
            end
            for _, bad in ipairs({"/a/../echo", "/a%2F..%2Fecho", "..", "/e%00x", "?a=1"}) do
                local ok, err = pcall(ngx.exec, bad)
                ngx.say(bad, " ", tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")))
            end
        }
    }
    location /echo {
        content_by_lua_block {
            ngx.say("uri=", ngx.var.uri, " args=", tostring(ngx.var.args))
        }
    }
    location /e {
        content_by_lua_block { ngx.say("not decoded: ", ngx.var.uri) }
    }
--- pipelined_requests eval
["GET /t?u=/e%2563ho%253Fx%3Fa%3D%2520", "GET /t?u=/echo%2520x", "GET /t"]
--- response_body eval
["uri=/echo?x args=a=%20\n", "uri=/echo x args=nil\n",
"/a/../echo false unsafe uri
/a%2F..%2Fecho false unsafe uri
.. false unsafe uri
/e%00x false unsafe uri
?a=1 false unsafe uri
"]



=== TEST 5: ngx.location.capture decodes the path the same way and names the URI it refuses
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/e%63ho%20x?a=%20")
            ngx.say(res.status, " ", res.body)
            for _, bad in ipairs({"/a%2F..%2Fecho", "/e%00x", "?a=1"}) do
                local ok, err = pcall(ngx.location.capture, bad)
                ngx.say(tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")))
            end
        }
    }
    location /echo {
        content_by_lua_block {
            ngx.say("uri=", ngx.var.uri, " args=", tostring(ngx.var.args))
        }
    }
--- request
GET /t
--- response_body
200 uri=/echo x args=a=%20

false unsafe uri in argument #1: /a%2F..%2Fecho
false unsafe uri in argument #1: /e%00x
false unsafe uri in argument #1: ?a=1



=== TEST 6: a captured response's length known without a header (a file, a proxied response) is a number in res.header
--- config
    location /file { alias html/index.html; }
    location /px {
        proxy_pass http://127.0.0.1:$server_port/file;
    }
    location /t {
        content_by_lua_block {
            for _, u in ipairs({"/file", "/px"}) do
                local res = ngx.location.capture(u)
                local cl = res.header["Content-Length"]
                ngx.say(u, " ", res.status, " ", type(cl), " ", cl == #res.body)
            end
        }
    }
--- user_files
>>> index.html
hello
--- request
GET /t
--- response_body
/file 200 number true
/px 200 number true



=== TEST 7: after ngx.req.set_uri (no jump), proxy_pass with a URI part sends the changed URI whole, as after "rewrite ... break"
--- config
    location /b {
        if ($http_x_hop) {
            return 200 "upstream got $request_uri\n";
        }
        rewrite_by_lua_block { ngx.req.set_uri("/b/z") }
        proxy_set_header X-Hop 1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up/;
    }
--- request
GET /b/y?o=1
--- response_body
upstream got /b/z?o=1



=== TEST 8: without a changed URI, the location's prefix is still replaced: a request, a subrequest, after ngx.exec
--- config
    location /n {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/n2/;
    }
    location /n2 {
        return 200 "upstream got $request_uri\n";
    }
    location /t {
        rewrite_by_lua_block { ngx.req.set_uri("/t/x") }
        content_by_lua_block { ngx.print(ngx.location.capture("/n/sub").body) }
    }
    location /e {
        rewrite_by_lua_block {
            ngx.req.set_uri("/e/x")
            ngx.exec("/n/w")
        }
    }
--- pipelined_requests eval
["GET /n/y", "GET /t", "GET /e"]
--- response_body eval
["upstream got /n2//y\n", "upstream got /n2//sub\n", "upstream got /n2//w\n"]
