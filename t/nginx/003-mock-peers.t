# OpenResty's Test::Nginx::Socket's mock peers against the server: tcp_listen/tcp_reply/
# tcp_query (cosockets and proxy_pass to the harness's TCP server), udp_listen/udp_reply/
# udp_query, $TEST_NGINX_RAND_PORT_N, pipelined_requests with Lua, grep_error_log with a
# regex over several lines. Run by `make test-nginx`.

use Cwd ();
use File::Basename ();
BEGIN {
    $ENV{TEST_NGINX_BINARY} ||= Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..')
        . '/objs/moongate';
    if (!eval { require Test::Nginx::Socket; 1 }) {
        print "1..0 # SKIP Test::Nginx::Socket not on \@INC (make test-nginx TEST_NGINX_LIB=...)\n";
        exit 0;
    }
}
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a cosocket talks to the harness's TCP server; tcp_query checks what it got
--- config
    location = /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1)
            if not ok then
                ngx.say("connect: ", err)
                return
            end
            assert(sock:send("PING token\r\n"))
            local line, err = sock:receive()
            ngx.say("got: ", line, " ", err)
            local rest, err = sock:receive("*a")
            ngx.say("rest: ", rest, " ", err)
            sock:close()
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query eval
"PING token\r\n"
--- tcp_reply eval
"+PONG\r\ntrailer"
--- request
GET /t
--- response_body
got: +PONG nil
rest: trailer nil
--- no_error_log
[error]

=== TEST 2: tcp_reply as a Perl sub computed from the query
--- config
    location = /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            assert(sock:send("abc"))
            ngx.say(sock:receive("*a"))
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_len: 3
--- tcp_reply eval
sub { my $q = shift; return "len=" . length($q) . " up=" . uc($q) }
--- request
GET /t
--- response_body
len=3 up=ABC

=== TEST 3: proxy_pass to the harness's TCP server as an HTTP upstream; the request it saw
--- config
    location /up/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2/;
        proxy_set_header Host upstream.test;
        proxy_http_version 1.0;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_query eval
"GET /item?id=5 HTTP/1.0\r
Host: upstream.test\r
Connection: close\r
\r
"
--- tcp_reply eval
"HTTP/1.0 200 OK\r
Content-Type: text/plain\r
X-Backend: mock\r
\r
from the mock"
--- request
GET /up/item?id=5
--- response_headers
X-Backend: mock
Content-Type: text/plain
--- response_body chomp
from the mock

=== TEST 4: an upstream that closes without a byte: 502 and the error line
--- config
    location /up/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_3
--- tcp_reply eval
""
--- request
GET /up/x
--- error_code: 502
--- error_log eval
qr/\[error\] .*upstream prematurely closed connection while reading response header from upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/up\/x HTTP\/1\.1", upstream: "http:\/\/127\.0\.0\.1:\d+\/x", host: "localhost"/

=== TEST 5: an upstream that answers without a status line: passed on as HTTP/0.9 after the error line
--- config
    location /up/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_3
--- tcp_reply: not http at all
--- request
GET /up/x
--- ignore_response
--- error_log
upstream sent no valid HTTP/1.0 header while reading response header from upstream

=== TEST 6: a UDP cosocket and the harness's UDP server; udp_query
--- config
    location = /t {
        content_by_lua_block {
            local u = ngx.socket.udp()
            u:settimeout(2000)
            assert(u:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_4))
            assert(u:send("who"))
            local data, err = u:receive()
            ngx.say("udp: ", data, " ", err)
        }
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_4
--- udp_query: who
--- udp_reply: it is me
--- request
GET /t
--- response_body
udp: it is me nil

=== TEST 7: pipelined_requests with a Lua counter kept per connection in a shared dict
--- http_config
    lua_shared_dict seen 1m;
--- config
    location /p {
        content_by_lua_block {
            local n = ngx.shared.seen:incr(ngx.var.connection, 1, 0)
            ngx.say(ngx.var.uri, " #", n, " ", ngx.var.connection_requests)
        }
    }
--- pipelined_requests eval
["GET /p/1", "GET /p/2", "GET /p/3"]
--- response_body eval
["/p/1 #1 1\n", "/p/2 #2 2\n", "/p/3 #3 3\n"]

=== TEST 8: grep_error_log with a capture-less regex over several log lines, in order
--- config
    location = /t {
        content_by_lua_block {
            for i = 1, 3 do
                ngx.log(ngx.NOTICE, "phase[", i, "] done")
            end
            ngx.say("ok")
        }
        log_by_lua_block {
            ngx.log(ngx.NOTICE, "phase[log] done")
        }
    }
--- request
GET /t
--- response_body
ok
--- grep_error_log eval
qr/phase\[\w+\] done/
--- grep_error_log_out
phase[1] done
phase[2] done
phase[3] done
phase[log] done
