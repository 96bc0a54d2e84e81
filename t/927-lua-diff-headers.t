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



=== TEST 5: ngx.say and ngx.log write -0 as 0 and a negative NaN as -nan, as OpenResty does
--- config
    location /t {
        content_by_lua_block {
            local z = -0.0
            ngx.say(z, " ", {z, 0/0}, " ", -(0/0), " ", 2.5, " ", 2^31)
            ngx.log(ngx.WARN, "numbers: ", z, " ", 0/0)
        }
    }
--- request
GET /t
--- response_body
0 0-nan nan 2.5 2147483648
--- error_log
numbers: 0 -nan



=== TEST 6: ngx.log's argument errors count as OpenResty's, and a C caller's name is not in the prefix
--- config
    location /t {
        content_by_lua_block {
            for _, a in ipairs({{99, "x"}, {-1, "x"}, {ngx.ERR, "a", {}}}) do
                local ok, err = pcall(ngx.log, unpack(a))
                ngx.say(tostring(ok), " ", err)
            end
            pcall(ngx.log, ngx.WARN, "through pcall")
        }
    }
--- request
GET /t
--- response_body
false bad argument #1 to '?' (bad log level: 99)
false bad argument #1 to '?' (bad log level: -1)
false bad argument #2 to '?' (expected table to have __tostring metamethod)
--- error_log
[lua] [C]:-1: through pcall,



=== TEST 7: ngx.flush takes one boolean or nothing
--- config
    location /t {
        content_by_lua_block {
            ngx.say("x")
            for _, a in ipairs({{"x"}, {1}}) do
                ngx.say(select(2, pcall(ngx.flush, a[1])))
            end
            ngx.say(select(2, pcall(ngx.flush, true, 1)))
        }
    }
--- request
GET /t
--- response_body
x
bad argument #1 to '?' (boolean expected, got string)
bad argument #1 to '?' (boolean expected, got number)
attempt to pass 2 arguments, but accepted 0 or 1



=== TEST 8: ngx.resp.add_header with a nil value is an error
--- config
    location /t {
        content_by_lua_block {
            local resp = require "ngx.resp"
            local ok, err = pcall(resp.add_header, "X-A", nil)
            ngx.say(tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")))
        }
    }
--- request
GET /t
--- response_body
false invalid header value



=== TEST 9: a request's empty body is proxied with its "Content-Length: 0"
--- config
    location /up {
        content_by_lua_block {
            ngx.say(ngx.req.get_method(), " ", tostring(ngx.var.http_content_length))
        }
    }
    location /plain {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
    }
    location /emptied {
        rewrite_by_lua_block {
            ngx.req.read_body()
            ngx.req.set_body_data("")
        }
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
    }
--- request
POST /plain
--- more_headers
Content-Length: 0
--- response_body
POST 0



=== TEST 10: a body ngx.req.set_body_data("") emptied is proxied with "Content-Length: 0"; a GET gets none
--- config
    location /up {
        content_by_lua_block {
            ngx.say(ngx.req.get_method(), " ", tostring(ngx.var.http_content_length))
        }
    }
    location /plain {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
    }
    location /emptied {
        rewrite_by_lua_block {
            ngx.req.read_body()
            ngx.req.set_body_data("")
        }
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
    }
--- pipelined_requests eval
["POST /emptied\nabc", "GET /plain"]
--- response_body eval
["POST 0\n", "GET nil\n"]
