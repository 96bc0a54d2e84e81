# Request and response headers through the Lua API found differing from OpenResty's in a
# side-by-side run with Debian's nginx and its Lua module.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/927-lua-diff-headers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.req.set_header with an empty value removes the header, Host and Content-Length too
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_header("X-Old", "")
            ngx.req.set_header("X-E1", {"", "a"})
            ngx.req.set_header("X-E2", {""})
            ngx.req.set_header("Host", "")
            ngx.req.set_header("Content-Length", "")
            local h = ngx.req.get_headers()
            local keys = {}
            for k, v in pairs(h) do keys[#keys + 1] = k .. "=" .. tostring(v) end
            table.sort(keys)
            ngx.say(table.concat(keys, " "))
            ngx.say(tostring(ngx.var.http_x_old), " ", ngx.var.host, " ",
                    tostring(ngx.var.content_length))
        }
    }
--- request
GET /t
--- more_headers
X-Old: o1
X-Old: o2
Host: h.example
Content-Length: 0
--- response_body
connection=close x-e1=a
nil localhost nil



=== TEST 2: a header set empty in rewrite_by_lua is not proxied
--- config
    location /up {
        content_by_lua_block {
            ngx.say(tostring(ngx.var.http_x_empty), " ", tostring(ngx.var.http_x_keep))
        }
    }
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_header("X-Empty", "")
            ngx.req.set_header("X-Keep", "k")
        }
        proxy_pass http://127.0.0.1:$server_port/up;
    }
--- request
GET /t
--- more_headers
X-Empty: was here
--- response_body
nil k



=== TEST 3: HTTP/1.0 held output: ngx.status, $status and the default type read as set from the first output on
--- config
    location /t {
        content_by_lua_block {
            ngx.say("x")
            ngx.say(ngx.status, " ", ngx.var.status, " ", tostring(ngx.var.sent_http_content_type),
                    " ", tostring(ngx.headers_sent))
        }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_headers
Content-Length: 27
--- response_body
x
200 200 text/plain false



=== TEST 4: HTTP/1.0 held output: ngx.print() with nothing does not send the head, so the output keeps its Content-Length
--- config
    location /t {
        content_by_lua_block {
            ngx.say("x")
            ngx.print()
            ngx.print("")
            ngx.header["X-Late"] = "1"
            ngx.say("y")
        }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_headers
Content-Length: 4
X-Late: 1
--- response_body
x
y
