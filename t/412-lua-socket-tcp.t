# ngx.socket.tcp (cosockets): connect (IP, unix:, pools), send (strings and nested tables),
# receive ("*l", "*a", sizes), receiveany, receiveuntil (inclusive, the iterator with a size,
# patterns spanning reads), settimeout(s), setkeepalive/getreusedtimes with pool names and sizes,
# the connect backlog, close, setoption, ngx.socket.connect; errors and their return values
# ("timeout", "closed", "connection refused", partial data), the error-log lines, the
# contexts where cosockets are refused, a socket used by another request ("bad request") and
# a wait cancelled when its request ends.  Backends: Test::MoongateBackend's raw TCP servers
# (rawecho, script), drip/reset/blackhole/refused, and the server itself.
#
#   prove -I t/lib t/412-lua-socket-tcp.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/412-lua-socket-tcp.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(echo   => 'rawecho');
backend(uecho  => 'rawecho', unix => 1);
backend(lines  => 'script', script => ["hello\r\nwor\rld\nlast"]);
backend(agent  => 'script', script => ["hello, world! -agentzh\r\n--abcedhb blah blah"]);
backend(part   => 'script', script => ["part"], hold => 3);
backend(late   => 'script', script => [0.5, "late\n"], hold => 1);
backend(spread => 'script', script => ["xa", 0.05, "a", 0.05, "ab", 0.05, "aab", 0.05, "tail"]);
backend(drip   => 'drip', interval => 0.02, count => 20);
backend(hole   => 'blackhole');
backend(gone   => 'refused');
backend(reset  => 'reset');

# show(...): how many values and each one, strings quoted, one line
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
                t[i] = type(v) == "string" and string.format("%q", v) or tostring(v)
            end
            ngx.say(n, ": ", table.concat(t, ", "))
        end
    }
_EOC_
});

log_level('info');

run_tests();

__DATA__

=== TEST 1: connect, receive lines (CR dropped), EOF with partial data, then "closed"
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            show(sock:connect("127.0.0.1", $TEST_NGINX_LINES_PORT))
            show(sock:receive())
            show(sock:receive("*l"))
            show(sock:receive())
            show(sock:receive())
            show(sock:receive("*a"))
            show(sock:close())
            show(sock:close())
        }
    }
--- request
GET /t
--- response_body
1: 1
1: "hello"
1: "world"
3: nil, "closed", "last"
2: nil, "closed"
2: nil, "closed"
1: 1
2: nil, "closed"
--- error_log
attempt to receive data on a closed socket



=== TEST 2: "*a" reads to EOF, then returns ""; a size after it meets EOF
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            show(sock:connect("127.0.0.1", $TEST_NGINX_LINES_PORT))
            show(sock:receive("*a"))
            show(sock:receive("*a"))
            show(sock:receive(3))
            show(sock:receive(0))
        }
    }
--- request
GET /t
--- response_body
1: 1
1: "hello\13\
wor\13ld\
last"
1: ""
3: nil, "closed", ""
2: nil, "closed"



=== TEST 3: receive sizes (numbers and numeric strings), receive(0), receiveany
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(1000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            show(sock:send("0123456789abcdefghij"))
            show(sock:receive(4))
            show(sock:receive("3"))
            show(sock:receive(2.9))
            show(sock:receive(0))
            show(sock:receiveany(5))
            show(sock:receiveany("100"))
            show(sock:send("CONN\n"))
            show(sock:receive())
            show(sock:close())
        }
    }
--- request
GET /t
--- response_body
1: 20
1: "0123"
1: "456"
1: "78"
1: ""
1: "9abcd"
1: "efghij"
1: 5
1: "conn 1"
1: 1



=== TEST 4: send: nested tables of strings and numbers, nil and booleans at the top
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(1000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            show(sock:send({"a", {"b", 1, {2.5, ""}}, {}, "c\n"}))
            show(sock:receive())
            show(sock:send(12))
            show(sock:send(nil))
            show(sock:send(true))
            show(sock:send(""))
            show(sock:send({}))
            show(sock:receive(9))
            show(pcall(sock.send, sock, {true}))
            show(pcall(sock.send, sock, {"a", nil, "b"}))
            show(pcall(sock.send, sock, {a = "x"}))
            show(pcall(sock.send, sock))
        }
    }
--- request
GET /t
--- response_body
1: 8
1: "ab12.5c"
1: 2
1: 3
1: 4
1: 0
1: 0
1: "12niltrue"
2: false, "bad argument #2 to '?' (bad data type boolean found)"
2: false, "bad argument #2 to '?' (bad data type nil found)"
2: false, "bad argument #2 to '?' (non-array table found)"
2: false, "expecting 2 arguments (including the object), but got 1"



=== TEST 5: bad arguments
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            show(pcall(sock.connect, sock))
            show(sock:connect("127.0.0.1"))
            show(sock:connect("127.0.0.1", "http"))
            show(sock:connect("127.0.0.1", 70000))
            show(sock:connect("unix:"))
            show(pcall(sock.settimeout, sock, -1))
            show(pcall(sock.settimeouts, sock, 1, 2))
            show(pcall(sock.connect, sock, "127.0.0.1", 1, {pool_size = 0}))
            show(pcall(sock.connect, sock, "127.0.0.1", 1, {backlog = -1}))
            show(sock:receiveuntil(""))
            show(pcall(sock.receiveuntil, sock, "x", {inclusive = 1}))
            sock:settimeout(1000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            show(pcall(sock.receive, sock, "*x"))
            show(pcall(sock.receive, sock, "x"))
            show(pcall(sock.receive, sock, -1))
            show(pcall(sock.receiveany, sock, 0))
            show(pcall(sock.receiveany, sock))
            show(pcall(sock.close, sock, 1))
            show(pcall(sock.getreusedtimes, sock, 1))
            show(pcall(sock.setkeepalive, sock, 1, 2, 3))
            show(pcall(sock.setkeepalive, sock, "x"))
            local it = sock:receiveuntil("x")
            show(pcall(it, 1, 2))
            show(pcall(it, "x"))
        }
    }
--- request
GET /t
--- response_body
2: false, "ngx.socket connect: expecting 2, 3, or 4 arguments (including the object), but seen 1"
2: nil, "missing the port number"
2: nil, "missing the port number"
2: nil, "bad port number: 70000"
2: nil, "failed to parse host name \"unix:\": no path in the unix domain socket"
2: false, "bad timeout value"
2: false, "ngx.socket settimeout: expecting 4 arguments (including the object) but seen 3"
2: false, "bad argument #4 to '?' (bad \"pool_size\" option value: 0)"
2: false, "bad argument #4 to '?' (bad \"backlog\" option value: -1)"
2: nil, "pattern is empty"
2: false, "bad \"inclusive\" option value type: number"
2: false, "bad argument #2 to '?' (bad pattern argument)"
2: false, "bad argument #2 to '?' (bad pattern argument: x)"
2: false, "bad argument #2 to '?' (bad pattern argument)"
2: false, "bad argument #2 to '?' (bad max argument)"
2: false, "expecting 2 arguments (including the object), but got 1"
2: false, "expecting 1 argument (including the object) but seen 2"
2: false, "expecting 1 argument (including the object), but got 2"
2: false, "expecting 1 to 3 arguments (including the object), but got 4"
2: false, "bad argument #2 to '?' (number expected, got string)"
2: false, "expecting 0 or 1 arguments, but seen 2"
2: false, "bad argument #1 to '?' (number expected, got string)"



=== TEST 6: a socket never connected: "closed" everywhere
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            show(sock:receive())
            show(sock:receiveany(10))
            show(sock:send("x"))
            show(sock:close())
            show(sock:getreusedtimes())
            show(sock:setkeepalive())
            show(sock:settimeout(10))
            show(sock:settimeouts(10, 20, 30))
            show(sock:receiveuntil("x")())
        }
    }
--- request
GET /t
--- response_body
2: nil, "closed"
2: nil, "closed"
2: nil, "closed"
2: nil, "closed"
2: nil, "closed"
2: nil, "closed"
0: 
0: 
2: nil, "closed"
--- error_log
attempt to send data on a closed socket



=== TEST 7: receiveuntil: the data before the pattern, then the rest; inclusive
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_AGENT_PORT))
            local reader = sock:receiveuntil("\r\n--abcedhb")
            show(reader())
            show(reader())
            show(reader())
            sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_AGENT_PORT))
            reader = sock:receiveuntil("\r\n--abcedhb", {inclusive = true})
            show(reader())
            show(sock:receive(5))
            show(sock:receive("*a"))
            sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_AGENT_PORT))
            reader = sock:receiveuntil("nomatch")
            show(reader())
        }
    }
--- request
GET /t
--- response_body
1: "hello, world! -agentzh"
3: nil, "closed", " blah blah"
2: nil, "closed"
1: "hello, world! -agentzh\13\
--abcedhb"
1: " blah"
1: " blah"
3: nil, "closed", "hello, world! -agentzh\13\
--abcedhb blah blah"



=== TEST 8: the receiveuntil iterator with a size (nil, nil at the pattern), inclusive too
--- config
    location /t {
        content_by_lua_block {
            for _, inclusive in ipairs({false, true}) do
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_AGENT_PORT))
                local reader = sock:receiveuntil("\r\n--abcedhb", {inclusive = inclusive})
                while true do
                    local data, err, partial = reader(4)
                    if not data then
                        if err then
                            ngx.say("failed: ", err, " [", partial, "]")
                            break
                        end
                        ngx.say("read done")
                        break
                    end
                    ngx.say("chunk: [", (data:gsub("\r", "\\r")), "]")
                end
                show(sock:receive("*a"))
            end
        }
    }
--- request
GET /t
--- response_body
chunk: [hell]
chunk: [o, w]
chunk: [orld]
chunk: [! -a]
chunk: [gent]
chunk: [zh]
read done
1: " blah blah"
chunk: [hell]
chunk: [o, w]
chunk: [orld]
chunk: [! -a]
chunk: [gent]
chunk: [zh\r
--abcedhb]
read done
1: " blah blah"



=== TEST 9: receiveuntil with a pattern spanning reads (one byte per read from drip)
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_DRIP_PORT))
            assert(sock:send("GET / HTTP/1.0\r\n\r\n"))
            local head = sock:receiveuntil("\r\n\r\n")()
            ngx.say(head:match("^[^\r]*"))
            show(sock:receiveuntil("def")())
            local reader = sock:receiveuntil("pqr")
            for i = 1, 6 do
                show(reader(2))
            end
            show(sock:receive("*a"))
        }
    }
--- request
GET /t
--- response_body
HTTP/1.1 200 OK
1: "abc"
1: "gh"
1: "ij"
1: "kl"
1: "mn"
1: "o"
3: nil, nil, nil
1: "st"
--- timeout: 5



=== TEST 10: a partial match falls back across reads (xa|a|ab|aab|tail: "xa" + "aab", "" + "aab")
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SPREAD_PORT))
            local reader = sock:receiveuntil("aab")
            show(reader())
            show(reader())
            show(reader())
        }
    }
--- request
GET /t
--- response_body
1: "xa"
1: ""
3: nil, "closed", "tail"



=== TEST 11: a read timeout returns the partial data and keeps the socket usable
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(150)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_PART_PORT))
            show(sock:receive())
            show(sock:receive(10))
            show(sock:receiveany(10))
            show(sock:receiveuntil("x")())
            sock = ngx.socket.tcp()
            sock:settimeout(150)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_LATE_PORT))
            show(sock:receive())
            sock:settimeout(2000)
            show(sock:receive())
            show(sock:getreusedtimes())
        }
    }
--- request
GET /t
--- response_body
3: nil, "timeout", "part"
3: nil, "timeout", ""
3: nil, "timeout", ""
3: nil, "timeout", ""
3: nil, "timeout", ""
1: "late"
1: 0
--- error_log
lua tcp socket read timed out



=== TEST 12: settimeouts: the read timeout alone
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            -- 500 ms: the backend's "part" must come first even on a loaded machine
            sock:settimeouts(1000, 1000, 500)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_PART_PORT))
            local t0 = ngx.now()
            show(sock:receive(10))
            ngx.update_time()
            local dt = ngx.now() - t0
            ngx.say(dt >= 0.45 and dt < 3 and "about 500ms" or dt)
        }
    }
--- request
GET /t
--- response_body
3: nil, "timeout", "part"
about 500ms



=== TEST 13: connect timeout (a full accept queue)
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(200)
            show(sock:connect("127.0.0.1", $TEST_NGINX_HOLE_PORT))
            show(sock:send("x"))
        }
    }
--- request
GET /t
--- response_body
2: nil, "timeout"
2: nil, "closed"
--- error_log eval
qr/\[error\] .*lua tcp socket connect timed out, when connecting to 127\.0\.0\.1:$ENV{TEST_NGINX_HOLE_PORT}, client: 127\.0\.0\.1/



=== TEST 14: connection refused; ngx.socket.connect
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            show(sock:connect("127.0.0.1", $TEST_NGINX_GONE_PORT))
            show(sock:receive())
            show(ngx.socket.connect("127.0.0.1", $TEST_NGINX_GONE_PORT))
            local s2, err = ngx.socket.connect("127.0.0.1", $TEST_NGINX_ECHO_PORT)
            show(type(s2), err)
            show(s2:send("hi\n"))
            show(s2:receive())
        }
    }
--- request
GET /t
--- response_body
2: nil, "connection refused"
2: nil, "closed"
2: nil, "connection refused"
2: "table", nil
1: 3
1: "hi"
--- error_log
connect() failed (111: Connection refused)



=== TEST 15: a reset connection: "connection reset by peer", then "closed"
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RESET_PORT))
            show(sock:send("GET / HTTP/1.0\r\n\r\n"))
            show(sock:receive())
            show(sock:receive())
            show(sock:close())
        }
    }
--- request
GET /t
--- response_body
1: 18
3: nil, "connection reset by peer", ""
2: nil, "closed"
1: 1
--- error_log
recv() failed (104: Connection reset by peer)



=== TEST 16: unix-domain sockets
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(1000)
            show(sock:connect("unix:$TEST_NGINX_UECHO_SOCK"))
            show(sock:send("over unix\n"))
            show(sock:receive())
            show(sock:setkeepalive())
            show(sock:connect("unix:$TEST_NGINX_UECHO_SOCK"))
            show(sock:getreusedtimes())
            show(sock:connect("unix:/nonexistent/moongate.sock"))
        }
    }
--- request
GET /t
--- response_body
1: 1
1: 10
1: "over unix"
1: 1
1: 1
1: 1
2: nil, "no such file or directory"
--- error_log
connect() to unix:/nonexistent/moongate.sock failed (2: No such file or directory)



=== TEST 17: keepalive: the same backend connection again, reused times counted, across requests
--- config
    location /t {
        content_by_lua_block {
            local function conn()
                local sock = ngx.socket.tcp()
                sock:settimeout(1000)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
                assert(sock:send("CONN\n"))
                return sock, sock:receive()
            end
            local s1, c1 = conn()
            local n1 = s1:getreusedtimes()
            show(s1:setkeepalive())
            show(s1:send("x"))
            local s2, c2 = conn()
            ngx.say(c1 == c2, " ", n1, " ", s2:getreusedtimes())
            assert(s2:setkeepalive(10000, 10))
        }
    }
--- request eval
["GET /t", "GET /t"]
--- response_body eval
["1: 1\n2: nil, \"closed\"\ntrue 0 1\n", "1: 1\n2: nil, \"closed\"\ntrue 2 3\n"]



=== TEST 18: the pool option names the pool; setkeepalive with unread data or a dubious peer
--- config
    location /t {
        content_by_lua_block {
            local function conn(pool)
                local sock = ngx.socket.tcp()
                sock:settimeout(1000)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = pool}))
                assert(sock:send("CONN\n"))
                return sock, sock:receive()
            end
            local a, ca = conn("one")
            assert(a:setkeepalive())
            local b, cb = conn("two")
            ngx.say("other pool, other connection: ", ca ~= cb, " ", b:getreusedtimes())
            local c, cc = conn("one")
            ngx.say("same pool: ", ca == cc, " ", c:getreusedtimes())
            assert(c:send("abc"))
            show(c:receive(1))
            show(c:setkeepalive())
            show(c:receive(2))
            assert(c:send("more"))
            ngx.sleep(0.1)
            show(c:setkeepalive())
            show(c:receive())
        }
    }
--- request
GET /t
--- response_body
other pool, other connection: true 0
same pool: true 1
1: "a"
2: nil, "unread data in buffer"
1: "bc"
2: nil, "connection in dubious state"
2: nil, "closed"



=== TEST 19: pool size: a full pool closes its least recently used connection
--- config
    location /t {
        content_by_lua_block {
            local function conn()
                local sock = ngx.socket.tcp()
                sock:settimeout(1000)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "small", pool_size = 1}))
                assert(sock:send("CONN\n"))
                return sock, sock:receive()
            end
            local a, ca = conn()
            local b, cb = conn()
            assert(a:setkeepalive())
            assert(b:setkeepalive())     -- a's connection is closed to make room
            local c, cc = conn()
            local d, cd = conn()
            ngx.say(cc == cb, " ", c:getreusedtimes(), " ", cd ~= ca and cd ~= cb, " ", d:getreusedtimes())
        }
    }
--- request
GET /t
--- response_body
true 1 true 0



=== TEST 20: idle connections close on their timeout and when the peer closes them
--- config
    location /t {
        content_by_lua_block {
            local function conn()
                local sock = ngx.socket.tcp()
                sock:settimeout(1000)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "idle"}))
                return sock
            end
            local s = conn()
            assert(s:setkeepalive(100))
            ngx.sleep(0.3)
            s = conn()
            ngx.say("after the keepalive timeout: ", s:getreusedtimes())
            assert(s:send("CLOSE_LATER\n"))
            assert(s:setkeepalive())
            -- the backend (another process) closes 0.2 s after it read the line: 1.5 s leave
            -- a loaded machine room to schedule it and this worker
            ngx.sleep(1.5)
            s = conn()
            ngx.say("after the peer closed it: ", s:getreusedtimes())
            assert(s:setkeepalive(0))
            s = conn()
            ngx.say("no timeout: ", s:getreusedtimes())
        }
    }
--- request
GET /t
--- response_body
after the keepalive timeout: 0
after the peer closed it: 0
no timeout: 1



=== TEST 21: pool_size and backlog: connects wait for a slot; a full backlog refuses
--- config
    location /t {
        content_by_lua_block {
            local o = {pool = "bp", pool_size = 1, backlog = 1}
            local s1 = ngx.socket.tcp()
            s1:settimeout(1000)
            show(s1:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, o))
            local t = ngx.thread.spawn(function()
                local s2 = ngx.socket.tcp()
                s2:settimeout(1000)
                show("queued", s2:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, o))
                show("reused", s2:getreusedtimes())
                s2:close()
            end)
            local s3 = ngx.socket.tcp()
            show("third", s3:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, o))
            ngx.sleep(0.1)
            show("keepalive", s1:setkeepalive())
            ngx.thread.wait(t)
            local s4 = ngx.socket.tcp()
            s4:settimeout(1000)
            show("slot", s4:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, o))
            local s5 = ngx.socket.tcp()
            s5:settimeout(100)
            show("waited", s5:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, o))
        }
    }
--- request
GET /t
--- response_body
1: 1
3: "third", nil, "too many waiting connect operations"
2: "keepalive", 1
2: "queued", 1
2: "reused", 1
2: "slot", 1
3: "waited", nil, "timeout"
--- error_log eval
qr/lua tcp socket queued connect timed out, when trying to connect to 127\.0\.0\.1:$ENV{TEST_NGINX_ECHO_PORT}/



=== TEST 22: the server itself as a backend (HTTP over a cosocket)
--- config
    location /backend {
        return 200 "backend says hi\n";
    }
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
            show(sock:send({"GET /backend HTTP/1.1\r\n", "Host: localhost\r\n", "Connection: close\r\n\r\n"}))
            local status = sock:receive()
            local len
            for line in sock:receiveuntil("\r\n\r\n")():gmatch("[^\r\n]+") do
                len = len or tonumber(line:match("^[Cc]ontent%-[Ll]ength: *(%d+)"))
            end
            show(status)
            show(sock:receive(len))
            show(sock:receive("*a"))
        }
    }
--- request
GET /t
--- response_body
1: 61
1: "HTTP/1.1 200 OK"
1: "backend says hi\
"
1: ""



=== TEST 23: cosockets in rewrite_by_lua and access_by_lua
--- config
    location /t {
        rewrite_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            assert(sock:send("rewrite\n"))
            ngx.ctx.r = sock:receive()
            assert(sock:setkeepalive())
        }
        access_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            ngx.ctx.reused = sock:getreusedtimes()
            assert(sock:send("access\n"))
            ngx.ctx.a = sock:receive()
        }
        content_by_lua_block {
            ngx.say(ngx.ctx.r, " ", ngx.ctx.a, " ", ngx.ctx.reused)
        }
    }
--- request
GET /t
--- response_body
rewrite access 1



=== TEST 24: refused in header_filter_by_lua and log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.socket.tcp)
            ngx.log(ngx.ERR, "header filter: ", err)
        }
        log_by_lua_block {
            local sock = ngx.socket.tcp   -- made elsewhere: connect is refused too
            local ok, err = pcall(ngx.socket.connect, "127.0.0.1", $TEST_NGINX_ECHO_PORT)
            ngx.log(ngx.ERR, "log: ", err)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
header filter: API disabled in the context of header_filter_by_lua*
API disabled in the context of log_by_lua*



=== TEST 25: a socket of another request in flight: "bad request"; after its request: "closed"
--- config
    location /other {
        content_by_lua_block {
            local sock = package.loaded.test_shared_sock
            ngx.say("other: ", select(2, pcall(sock.send, sock, "x")))
            ngx.say("other: ", select(2, pcall(sock.receive, sock)))
        }
    }
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(1000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            package.loaded.test_shared_sock = sock
            local http = ngx.socket.tcp()
            http:settimeout(2000)
            assert(http:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
            assert(http:send("GET /other HTTP/1.0\r\nHost: localhost\r\n\r\n"))
            local body = http:receive("*a")
            ngx.print((body:match("\r\n\r\n(.*)")))
            show(sock:send("mine\n"))
            show(sock:receive())
        }
    }
    location /after {
        content_by_lua_block {
            local sock = package.loaded.test_shared_sock
            show(sock:send("x"))
            show(sock:receive())
            show(sock:close())
        }
    }
--- request eval
["GET /t", "GET /after"]
--- response_body_like eval
[qr/^other: .*bad request\nother: .*bad request\n1: 5\n1: "mine"\n\z/,
 qr/^2: nil, "closed"\n2: nil, "closed"\n2: nil, "closed"\n\z/]



=== TEST 26: a request that ends (ngx.exit) while a light thread waits on a socket cancels the wait
--- config
    location /t {
        content_by_lua_block {
            ngx.thread.spawn(function()
                local sock = ngx.socket.tcp()
                sock:settimeout(500)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_PART_PORT))
                sock:receive(100)
                ngx.log(ngx.ERR, "the waiting thread was resumed")
            end)
            ngx.sleep(0.05)
            ngx.say("exit")
            ngx.exit(200)
        }
    }
    location /later {
        content_by_lua_block {
            ngx.sleep(0.8)
            ngx.say("still serving")
        }
    }
--- request eval
["GET /t", "GET /later"]
--- response_body eval
["exit\n", "still serving\n"]
--- no_error_log
the waiting thread was resumed
lua tcp socket read timed out



=== TEST 27: setoption and getoption
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            show(sock:setoption("keepalive", true))
            show(sock:setoption("tcp-nodelay", 1))
            show(sock:getoption("keepalive"))
            show(sock:setoption("foo", 1))
            show(sock:setoption("sndbuf"))
        }
    }
--- request
GET /t
--- response_body
1: true
1: true
1: 1
2: nil, "unsupported option foo"
2: nil, "missing the \"value\" argument"



=== TEST 28: sslhandshake with a peer that is no TLS server (it echoes the ClientHello back)
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            show(sock:sslhandshake())
        }
    }
--- request
GET /t
--- response_body
2: nil, "handshake failed"



=== TEST 29: "localhost" and names in /etc/hosts connect without a resolver (nginx needs one)
--- moongate_only
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            show(sock:connect("localhost", $TEST_NGINX_ECHO_PORT))
            show(sock:connect("no-such-host.invalid", $TEST_NGINX_ECHO_PORT))
        }
    }
--- request
GET /t
--- response_body
1: 1
2: nil, "no resolver defined to resolve \"no-such-host.invalid\""



=== TEST 30: connecting again closes the old connection; GC closes forgotten sockets
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(10000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            assert(sock:send("CONN\n"))
            local c1 = sock:receive()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            assert(sock:send("CONN\n"))
            ngx.say(c1 ~= sock:receive(), " ", sock:getreusedtimes())
            -- enough to need the GC; to this server's own port, not to the echo backend,
            -- which forks per connection and would still be busy in the next test
            for i = 1, 300 do
                local s = ngx.socket.tcp()
                assert(s:connect("127.0.0.1", ngx.var.server_port))
                if i % 50 == 0 then collectgarbage() end
            end
            ngx.say("done")
        }
    }
--- request
GET /t
--- response_body
true 0
done



=== TEST 31: in a timer (no request): connect, send, receive, keepalive
--- config
    location /t {
        content_by_lua_block {
            local ok, err = ngx.timer.at(0, function(premature)
                local sock = ngx.socket.tcp()
                sock:settimeout(10000)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
                assert(sock:send("from a timer\n"))
                local line = sock:receive()
                ngx.log(ngx.WARN, "timer got: ", line, ", reused ", sock:getreusedtimes())
                assert(sock:setkeepalive())
            end)
            ngx.sleep(0.2)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
1 nil
--- error_log
timer got: from a timer, reused 0
