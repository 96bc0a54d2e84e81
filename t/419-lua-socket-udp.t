# ngx.socket.udp: setpeername (IP and port, "unix:/path"), send (strings, numbers, nested
# arrays), receive (whole datagrams, a size truncates, up to 64 KB), settimeout and
# lua_socket_read_timeout, close; waiting without blocking the worker, errors as
# lua-nginx-module's ("timeout", "closed", "connection refused", "message too long", argument
# errors) with their log lines, the contexts where it is refused, and a socket's end with its
# request.  The backend is Test::MoongateBackend's udpecho (a Perl UDP echo server).
#
#   prove -I t/lib t/419-lua-socket-udp.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/419-lua-socket-udp.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use IO::Socket::INET;

backend(echo  => 'udpecho');
backend(uecho => 'udpecho', unix => 1);

# a UDP port nobody listens on (bound once to find it, then freed)
{
    my $s = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1:0') or die "udp: $!";
    $ENV{TEST_NGINX_NOONE_PORT} = $s->sockport;
}

# show(...): how many values and each one, strings quoted (long ones by their length)
add_block_preprocessor(sub {
    my $block = shift;
    return if defined $block->http_config;
    $block->set_value(http_config => <<'_EOC_');
    init_by_lua_block {
        function show(...)
            local n = select("#", ...)
            local t = {}
            for i = 1, n do
                local v = select(i, ...)
                if type(v) == "string" then
                    t[i] = #v > 100 and (#v .. " bytes") or string.format("%q", v)
                else
                    t[i] = tostring(v)
                end
            end
            ngx.say(n, ": ", table.concat(t, ", "))
        end
    }
_EOC_
});

log_level('info');

run_tests();

__DATA__

=== TEST 1: setpeername, send and receive: each datagram whole, in order; tables and numbers
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(1000)
            show(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            show(udp:send("hello"))
            show(udp:send({"a", {"b", 3}, 4.5, "c"}))
            show(udp:send(42))
            show(udp:receive())
            show(udp:receive())
            show(udp:receive())
            show(udp:close())
        }
    }
--- request
GET /t
--- response_body
1: 1
1: 1
1: 1
1: 1
1: "hello"
1: "ab34.5c"
1: "42"
1: 1



=== TEST 2: receive(size): a smaller size truncates the datagram; up to 64 KB; other sizes
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(1000)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            udp:send("hello") show(udp:receive(3))
            udp:send("BIG 10000") show(udp:receive())
            udp:send("BIG 65507") show(udp:receive())
            udp:send("BIG 9000") show(udp:receive(100000))
            udp:send("BIG 9000") show(udp:receive(-5))
            udp:send("BIG 9000") show(udp:receive("20"))
            udp:send("BIG 9000") show(udp:receive(1.5))
            udp:send("BIG 9000") show(udp:receive(0))
            udp:send("after") show(udp:receive())
            show(pcall(udp.receive, udp, "x"))
        }
    }
--- request
GET /t
--- response_body
1: "hel"
1: 10000 bytes
1: 65507 bytes
1: 9000 bytes
1: 9000 bytes
1: "xxxxxxxxxxxxxxxxxxxx"
1: "x"
1: ""
1: "after"
2: false, "bad argument #2 to '?' (number expected, got string)"



=== TEST 3: a receive waits without blocking: other light threads run meanwhile
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            local th = ngx.thread.spawn(function()
                assert(udp:send("LATER"))
                local data, err = udp:receive()
                ngx.say("received ", data)
            end)
            ngx.sleep(0.1)
            ngx.say("slept")
            ngx.thread.wait(th)
            ngx.say("done")
        }
    }
--- request
GET /t
--- response_body
slept
received later
done



=== TEST 4: settimeout: nil and "timeout" after it, logged; the socket stays usable
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            udp:settimeout(100)
            local t0 = ngx.now()
            show(udp:send("SILENT"))
            show(udp:receive())
            ngx.update_time()
            local d = ngx.now() - t0
            ngx.say(d >= 0.09 and d < 2.5)
            show(udp:send("again"))
            show(udp:receive())
        }
    }
--- request
GET /t
--- response_body
1: 1
2: nil, "timeout"
true
1: 1
1: "again"
--- error_log
lua udp socket read timed out



=== TEST 5: lua_socket_read_timeout is the default; settimeout(0) or a negative one keeps it
--- config
    location /t {
        lua_socket_read_timeout 100ms;
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            for _, t in ipairs({false, 0, -1}) do
                if t then
                    udp:settimeout(t)
                end
                local t0 = ngx.now()
                udp:send("SILENT")
                local data, err = udp:receive()
                ngx.update_time()
                ngx.say(err, " ", ngx.now() - t0 < 2.5)
            end
        }
    }
--- request
GET /t
--- response_body
timeout true
timeout true
timeout true



=== TEST 6: closed sockets: before setpeername, after close; close twice
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            show(udp:send("x"))
            show(udp:receive())
            show(udp:close())
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            show(udp:close())
            show(udp:close())
            show(udp:send("x"))
            show(udp:receive())
        }
    }
--- request
GET /t
--- response_body
2: nil, "closed"
2: nil, "closed"
2: nil, "closed"
1: 1
2: nil, "closed"
2: nil, "closed"
2: nil, "closed"
--- error_log
attempt to send data on a closed socket: u:
attempt to receive data on a closed socket: u:



=== TEST 7: a peer that does not listen: "connection refused" (ICMP), the socket stays usable
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(100)
            show(udp:setpeername("127.0.0.1", $TEST_NGINX_NOONE_PORT))
            show(udp:send("x"))
            show(udp:receive())
            show(udp:receive())
            show(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            show(udp:send("back"))
            show(udp:receive())
        }
    }
--- request
GET /t
--- response_body
1: 1
1: 1
2: nil, "connection refused"
2: nil, "timeout"
1: 1
1: 1
1: "back"
--- error_log
recv() failed (111: Connection refused)



=== TEST 8: setpeername's errors
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            show(udp:setpeername("127.0.0.1", 70000))
            show(udp:setpeername("no.such.host.invalid", 53))
            show(udp:setpeername("unix:/no/such/dir/x.sock"))
            show(pcall(udp.setpeername, udp))
            show(pcall(udp.setpeername, udp, "127.0.0.1", 1, 2, 3))
            show(pcall(udp.setpeername, udp, "127.0.0.1", "x"))
        }
    }
--- request
GET /t
--- response_body
2: nil, "bad port number: 70000"
2: nil, "no resolver defined to resolve \"no.such.host.invalid\""
2: nil, "no such file or directory"
2: false, "ngx.socket.udp setpeername: expecting 2 or 3 arguments (including the object), but seen 1"
2: false, "ngx.socket.udp setpeername: expecting 2 or 3 arguments (including the object), but seen 5"
2: false, "bad argument #3 to '?' (number expected, got string)"
--- error_log
connect() failed (2: No such file or directory)



=== TEST 9: a datagram unix-domain socket
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(1000)
            show(udp:setpeername("unix:$TEST_NGINX_UECHO_SOCK"))
            show(udp:send("over unix"))
            show(udp:receive())
            show(udp:close())
        }
    }
--- request
GET /t
--- response_body
1: 1
1: 1
1: "over unix"
1: 1



=== TEST 10: arguments: counts, bad send data (nil and booleans are sent as words), too long
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(1000)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            show(pcall(ngx.socket.udp, 1))
            show(pcall(udp.send, udp))
            show(pcall(udp.receive, udp, 1, 2))
            show(pcall(udp.settimeout, udp))
            show(pcall(udp.close, udp, 1))
            show(pcall(udp.send, udp, {"a", true}))
            show(pcall(udp.send, udp, {"a", nil, "b"}))
            show(udp:send(nil)) show(udp:receive())
            show(udp:send(true)) show(udp:receive())
            show(udp:send(string.rep("y", 70000)))
            show(udp:send("still")) show(udp:receive())
        }
    }
--- request
GET /t
--- response_body
2: false, "expecting zero arguments, but got 1"
2: false, "expecting 2 arguments (including the object), but got 1"
2: false, "expecting 1 or 2 arguments (including the object), but got 3"
2: false, "ngx.socket settimeout: expecting at least 2 arguments (including the object) but seen 1"
2: false, "expecting 1 argument (including the object) but seen 2"
2: false, "bad argument #2 to '?' (bad data type boolean found)"
2: false, "bad argument #2 to '?' (bad data type nil found)"
1: 1
1: "nil"
1: 1
1: "true"
2: nil, "message too long"
1: 1
1: "still"
--- error_log
send() failed (90: Message too long)



=== TEST 11: refused outside rewrite, access, content and timers
--- config
    location /t {
        content_by_lua_block {
            ngx.say("ok")
        }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.socket.udp)
            ngx.log(ngx.ERR, "header filter: ", err)
        }
        log_by_lua_block {
            local ok, err = pcall(ngx.socket.udp)
            ngx.log(ngx.ERR, "log: ", err)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
header filter: API disabled in the context of header_filter_by_lua*
log: API disabled in the context of log_by_lua*



=== TEST 12: in rewrite, access and a timer
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        rewrite_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(1000)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            assert(udp:send("rewrite"))
            ngx.ctx.r = udp:receive()
        }
        access_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(1000)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            assert(udp:send("access"))
            ngx.ctx.a = udp:receive()
        }
        content_by_lua_block {
            ngx.timer.at(0, function()
                local udp = ngx.socket.udp()
                udp:settimeout(1000)
                assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
                assert(udp:send("timer"))
                ngx.shared.d:set("t", (udp:receive()))
            end)
            ngx.sleep(0.2)
            ngx.say(ngx.ctx.r, " ", ngx.ctx.a, " ", ngx.shared.d:get("t"))
        }
    }
--- request
GET /t
--- response_body
rewrite access timer



=== TEST 13: a request that ends while its socket waits; the socket is closed with its request
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            package.loaded.kept_udp = udp
            ngx.thread.spawn(function()
                udp:send("SILENT")
                udp:receive()
                ngx.log(ngx.ERR, "never resumed")
            end)
            ngx.say("leaving")
            ngx.exit(200)
        }
    }
    location /later {
        content_by_lua_block {
            local udp = package.loaded.kept_udp
            show(udp:send("x"))
            show(udp:receive())
        }
    }
--- request eval
["GET /t", "GET /later"]
--- response_body eval
["leaving\n", "2: nil, \"closed\"\n2: nil, \"closed\"\n"]
--- no_error_log
never resumed



=== TEST 14: close() while another light thread waits in receive: "socket busy"
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(200)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            local th = ngx.thread.spawn(function()
                udp:send("SILENT")
                show(udp:receive())
            end)
            show(udp:close())
            ngx.thread.wait(th)
            show(udp:close())
        }
    }
--- request
GET /t
--- response_body
2: nil, "socket busy"
2: nil, "timeout"
1: 1
