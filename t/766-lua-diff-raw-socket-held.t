# ngx.req.socket(true) while the response head or a small body waits in the writer
# (postpone_output), found differing in a side-by-side run with Debian's nginx and its Lua
# module (0.10.23): nginx's write filter keeps such output for good once the raw socket owns
# the connection, so only what the code sends goes out; moongate sent the held head at the end
# (after the raw bytes). Output flushed with ngx.flush(true) before is out already.
#
#   prove -I t/lib t/766-lua-diff-raw-socket-held.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/766-lua-diff-raw-socket-held.t

use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.say, then the raw socket: the held head and body never go out
--- config
    location /t {
        content_by_lua_block {
            ngx.say("held")
            local sock = assert(ngx.req.socket(true))
            sock:send("HTTP/1.1 200 OK\r\nX-Raw: 1\r\nConnection: close\r\n\r\nraw\n")
        }
    }
--- request
GET /t
--- response_headers
X-Raw: 1
Content-Type:
--- response_body
raw



=== TEST 2: ngx.send_headers without ngx.flush, then the raw socket: the head stays held too
--- config
    location /t {
        content_by_lua_block {
            ngx.status = 101
            ngx.header["Upgrade"] = "test"
            ngx.send_headers()
            local sock = assert(ngx.req.socket(true))
            sock:send("HTTP/1.1 200 OK\r\nX-Raw: 1\r\nConnection: close\r\n\r\nraw\n")
        }
    }
--- request
GET /t
--- response_headers
X-Raw: 1
Upgrade:
--- response_body
raw



=== TEST 3: after ngx.flush(true) the output is out: the raw socket's bytes follow it
--- config
    location /t {
        content_by_lua_block {
            ngx.say("flushed")
            ngx.flush(true)
            local sock = assert(ngx.req.socket(true))
            sock:send("0\r\n\r\n")
        }
    }
--- request
GET /t
--- response_headers
Transfer-Encoding: chunked
--- response_body
flushed
