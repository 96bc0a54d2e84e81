# lua-resty-core's small modules and the cosockets' local address: require "ngx.resp"
# (add_header), require "ngx.base64" (encode_base64url, decode_base64url),
# tcpsock:bind(ip) and udpsock:bind(ip) (the address the next connect binds to; a failure is
# that connect's error), tcpsock:getfd().
#
#   prove -I t/lib t/447-lua-ngx-libs.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/447-lua-ngx-libs.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: add_header adds lines beside ngx.header's; a single-valued header is replaced
--- config
    location /t {
        content_by_lua_block {
            local resp = require "ngx.resp"
            ngx.header["X-Multi"] = "one"
            resp.add_header("X-Multi", "two")
            resp.add_header("X-Multi", {"three", "four"})
            resp.add_header("Content-Type", "text/x-first")
            resp.add_header("Content-Type", "text/x-second")
            local h = ngx.resp.get_headers()
            ngx.say(table.concat(h["x-multi"], ","), " ", h["content-type"])
        }
    }
--- request
GET /t
--- response_headers
Content-Type: text/x-second
--- raw_response_headers_like eval
qr/X-Multi: one\r\nX-Multi: two\r\nX-Multi: three\r\nX-Multi: four\r\n/
--- response_body
one,two,three,four text/x-second



=== TEST 2: add_header after the head went out is logged and changes nothing
--- config
    location /t {
        content_by_lua_block {
            ngx.send_headers()
            require("ngx.resp").add_header("X-Late", "1")
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_headers
!X-Late
--- response_body
ok
--- error_log
attempt to set ngx.header.HEADER after sending out response headers



=== TEST 3: base64url: the URL alphabet without padding, both ways; bad input
--- config
    location /t {
        content_by_lua_block {
            local b64 = require "ngx.base64"
            local s = "\255\254\253hello?>"
            local e = b64.encode_base64url(s)
            ngx.say(e, " ", b64.decode_base64url(e) == s)
            ngx.say(b64.encode_base64url(""), "|", b64.decode_base64url(""), "|")
            ngx.say(b64.decode_base64url("aGk"), " ", b64.decode_base64url("aGk="))
            ngx.say(b64.decode_base64url("a+b/"))
            ngx.say(b64.decode_base64url("abcde"))
            ngx.say(b64.encode_base64url(12))
            ngx.say(b64.decode_base64url(nil))
        }
    }
--- request
GET /t
--- response_body
__79aGVsbG8_Pg true
||
hi hi
nilinvalid input
nilinvalid input
nilmust provide a string
nilmust provide a string



=== TEST 4: tcpsock:bind: the peer sees the bound address; bad addresses; a bind that fails
--- config
    location /ip { return 200 "$remote_addr"; }
    location /t {
        content_by_lua_block {
            local s = ngx.socket.tcp()
            ngx.say(s:bind("127.0.0.2"))
            assert(s:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
            s:send("GET /ip HTTP/1.0\r\nHost: x\r\n\r\n")
            ngx.say(s:receive("*a"):match("\r\n\r\n(.*)$"))
            ngx.say(s:bind("1.2.3.4.5"))
            ngx.say(s:bind(123))
            ngx.say(pcall(s.bind, s))
            local s3 = ngx.socket.tcp()
            s3:bind("192.0.2.1")
            ngx.say(s3:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
        }
    }
--- request
GET /t
--- response_body
true
127.0.0.2
nilbad address
nilbad address
falseexpecting 2 arguments, but got 1
nilcannot assign requested address
--- error_log
bind(192.0.2.1) failed (99: Cannot assign requested address)



=== TEST 5: tcpsock:getfd is the connection's descriptor; udpsock:bind
--- config
    location /t {
        content_by_lua_block {
            local s = ngx.socket.tcp()
            ngx.say(s:getfd())
            assert(s:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
            local fd = s:getfd()
            local link = io.popen("readlink /proc/" .. ngx.worker.pid() .. "/fd/" .. fd):read("*l")
            ngx.say(type(fd), " ", link:match("^socket:") ~= nil)
            s:close()
            ngx.say(s:getfd())

            local u = ngx.socket.udp()
            ngx.say(u:bind("127.0.0.3"))
            ngx.say(u:bind("nope"))
            assert(u:setpeername("127.0.0.1", 9))
            local u2 = ngx.socket.udp()
            u2:bind("192.0.2.1")
            ngx.say(u2:setpeername("127.0.0.1", 9))
        }
    }
--- request
GET /t
--- response_body
nilclosed
number true
nilclosed
true
nilbad address
nilcannot assign requested address
--- moongate_only
