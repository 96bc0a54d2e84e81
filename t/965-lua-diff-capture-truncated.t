# ngx.location.capture's res.truncated as lua-nginx-module 0.10.23 (Debian's nginx) sets
# it: a header-only response (a HEAD subrequest, a 204) counts as cut, its end never having
# passed the body filters. Found in a side-by-side run.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/965-lua-diff-capture-truncated.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: a HEAD capture is truncated, whatever answers it; the GET of the same is not
--- config
    location /t {
        content_by_lua_block {
            for _, u in ipairs({"/r", "/l", "/n"}) do
                local res = ngx.location.capture(u, {method = ngx.HTTP_HEAD})
                ngx.say(u, " HEAD ", res.status, " [", res.body, "] ", tostring(res.truncated))
                res = ngx.location.capture(u)
                ngx.say(u, " GET ", res.status, " [", res.body, "] ", tostring(res.truncated))
            end
        }
    }
    location /r { return 200 hello; }
    location /l { content_by_lua_block { ngx.print("hello") } }
    location /n { content_by_lua_block { ngx.exit(200) } }
--- request
GET /t
--- response_body
/r HEAD 200 [] true
/r GET 200 [hello] false
/l HEAD 200 [] true
/l GET 200 [hello] false
/n HEAD 200 [] true
/n GET 200 [] false



=== TEST 2: a 204 capture is truncated, by GET or HEAD
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/s")
            ngx.say(res.status, " ", tostring(res.truncated))
            res = ngx.location.capture("/s", {method = ngx.HTTP_HEAD})
            ngx.say(res.status, " ", tostring(res.truncated))
        }
    }
    location /s { return 204; }
--- request
GET /t
--- response_body
204 true
204 true



=== TEST 3: under an HTTP/1.0 request, a Lua subrequest's output is held too and gets a Content-Length
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/s")
            ngx.say(res.header["Content-Length"], " ", res.body)
            res = ngx.location.capture("/s2")
            ngx.say(res.header["Content-Length"], " ", res.body)
        }
    }
    location /s { content_by_lua_block { ngx.say("sub") } }
    location /s2 { content_by_lua_block { ngx.print("a") ngx.flush() ngx.print("bc") } }
--- request
GET /t HTTP/1.0
--- response_headers
Content-Length: 13
--- response_body
4 sub

3 abc
