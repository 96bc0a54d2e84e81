# ngx.thread.kill of a light thread while it waits, as lua-nginx-module answers: a thread
# waiting on a cosocket (tcp or udp), ngx.req.read_body, ngx.flush(true) or ngx.sleep is torn
# down at the kill:
# its socket is closed (the next call on it says "closed"; a connect queued for a pool's slot
# leaves the queue), its timer or wait is cancelled,
# nothing resumes it later, and nothing holds it any more (a weak table sees its Lua thread
# collected before the request ends). One waiting on a subrequest (ngx.location.capture)
# cannot be killed: nil, "pending subrequests", and it runs on to its end.
#
#   prove -I t/lib t/488-lua-thread-kill-waiting.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/488-lua-thread-kill-waiting.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;

# a UDP peer that never answers: bound for the file's life, never read
our $Silent = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1:0') or die "udp: $!";
$ENV{TEST_NGINX_SILENT_PORT} = $Silent->sockport;

# show(tag, ...): the values; gone(t): t's Lua thread was collected once Lua code dropped it
our $Lib = <<'EOL';
local function show(tag, ...)
    local n, out = select("#", ...), {}
    for i = 1, n do out[i] = tostring((select(i, ...))) end
    ngx.say(tag, ": ", table.concat(out, " "))
end
local weak = setmetatable({}, {__mode = "k"})
local function gone()
    collectgarbage()
    collectgarbage()
    return next(weak) == nil
end
EOL

add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    $config =~ s/LIB/$Lib/;
    $block->set_value(config => $config);
});

run_tests();

__DATA__

=== TEST 1: a thread killed in a cosocket receive: the socket is closed, the thread is freed
--- config
    location /slow {
        content_by_lua_block { ngx.sleep(0.5) ngx.say("slow") }
    }
    location /t {
        content_by_lua_block {
            LIB
            local sock = ngx.socket.tcp()
            sock:settimeout(200)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
            assert(sock:send("GET /slow HTTP/1.0\r\nHost: x\r\n\r\n"))
            local t = ngx.thread.spawn(function() return "read", sock:receive() end)
            show("status", coroutine.status(t))
            show("kill", ngx.thread.kill(t))
            show("status", coroutine.status(t))
            show("wait", ngx.thread.wait(t))
            weak[t] = true
            t = nil
            show("gone", gone())
            show("receive", sock:receive())
            show("send", sock:send("x"))
            show("close", sock:close())
            local again = ngx.socket.tcp()
            show("again", again:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
            again:close()
        }
    }
--- request
GET /t
--- response_body
status: running
kill: 1
status: dead
wait: nil already waited or killed
gone: true
receive: nil closed
send: nil closed
close: nil closed
again: 1
--- error_log
attempt to receive data on a closed socket
--- no_error_log
lua tcp socket read timed out



=== TEST 2: a thread killed in a udp receive: the socket is closed, the thread is freed
--- config
    location /t {
        content_by_lua_block {
            LIB
            local udp = ngx.socket.udp()
            udp:settimeout(200)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_SILENT_PORT))
            assert(udp:send("ping"))
            local t = ngx.thread.spawn(function() return "read", udp:receive() end)
            show("status", coroutine.status(t))
            show("kill", ngx.thread.kill(t))
            show("wait", ngx.thread.wait(t))
            weak[t] = true
            t = nil
            show("gone", gone())
            show("receive", udp:receive())
        }
    }
--- request
GET /t
--- response_body
status: running
kill: 1
wait: nil already waited or killed
gone: true
receive: nil closed
--- no_error_log
lua udp socket read timed out



=== TEST 3: a thread waiting on a subrequest cannot be killed: it runs on and can be waited for
--- config
    location /sub {
        content_by_lua_block { ngx.sleep(0.01) ngx.say("sub") }
    }
    location /t {
        content_by_lua_block {
            LIB
            local t = ngx.thread.spawn(function()
                local res = ngx.location.capture("/sub")
                return res.status, res.body
            end)
            show("kill", ngx.thread.kill(t))
            show("status", coroutine.status(t))
            show("kill", ngx.thread.kill(t))
            show("wait", ngx.thread.wait(t))
            show("kill", ngx.thread.kill(t))
        }
    }
--- request
GET /t
--- response_body
kill: nil pending subrequests
status: running
kill: nil pending subrequests
wait: true 200 sub

kill: nil already waited or killed



=== TEST 4: a thread killed in ngx.req.read_body is freed; the body's read goes on
--- config
    location /t {
        content_by_lua_block {
            LIB
            local t = ngx.thread.spawn(function()
                ngx.req.read_body()
                return "read", ngx.req.get_body_data()
            end)
            show("status", coroutine.status(t))
            show("kill", ngx.thread.kill(t))
            show("wait", ngx.thread.wait(t))
            weak[t] = true
            t = nil
            show("gone", gone())
            show("raw socket", ngx.req.socket(true))
            show("read", pcall(ngx.req.read_body))
            show("data", ngx.req.get_body_data())
        }
    }
--- raw_request eval
["POST /t HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\n\r\n", "hello"]
--- raw_request_middle_delay: 0.1
--- response_body
status: running
kill: 1
wait: nil already waited or killed
gone: true
raw socket: nil pending request body reading in some other thread
read: true
data: nil



=== TEST 5: a thread killed in ngx.sleep is freed and never wakes
--- config
    location /t {
        content_by_lua_block {
            LIB
            local woke = false
            local t = ngx.thread.spawn(function() ngx.sleep(0.02) woke = true end)
            show("kill", ngx.thread.kill(t))
            weak[t] = true
            t = nil
            show("gone", gone())
            ngx.sleep(0.06) -- past the killed thread's wake-up time
            show("woke", woke)
        }
    }
--- request
GET /t
--- response_body
kill: 1
gone: true
woke: false



=== TEST 6: one socket read by one thread and written by another: a kill closes only its side
# lua-nginx-module closes the whole connection and leaves the other thread waiting for good
# (the request hangs); here the other side's wait ends by its own event.
--- moongate_only
--- config
    location /slow {
        content_by_lua_block { ngx.sleep(0.01) ngx.say("slow") }
    }
    location /t {
        content_by_lua_block {
            LIB
            local size = 16 * 1024 * 1024
            local head = "POST /slow HTTP/1.0\r\nHost: x\r\nContent-Length: " .. size .. "\r\n\r\n"
            local big = head .. string.rep("x", size)
            local function duplex()
                local sock = ngx.socket.tcp()
                sock:settimeout(5000)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
                local r = ngx.thread.spawn(function() return sock:receive() end)
                local w = ngx.thread.spawn(function() return sock:send(big) end)
                return sock, r, w
            end
            local sock, r, w = duplex()
            show("writer", coroutine.status(w))
            show("kill writer", ngx.thread.kill(w))
            show("reader", ngx.thread.wait(r))
            show("send", sock:send("x"))
            show("receive", sock:receive())
            sock:close()
            sock, r, w = duplex()
            show("kill reader", ngx.thread.kill(r))
            show("writer", ngx.thread.wait(w))
            show("receive", sock:receive())
            sock:close()
        }
    }
--- request
GET /t
--- response_body_like chomp
\Awriter: running
kill writer: 1
reader: true HTTP/1.1 200 OK
send: nil closed
receive: Server: \S+
kill reader: 1
writer: true \d+
receive: nil closed
\z



=== TEST 7: a thread killed in ngx.flush(true) is freed; the output goes on
--- config
    location /t {
        content_by_lua_block {
            LIB
            -- output until a flush must wait for the client (the socket took it all at once)
            local chunk = string.rep("x", 4 * 1024 * 1024)
            local t
            for i = 1, 50 do
                ngx.print(chunk)
                t = ngx.thread.spawn(function() return "flushed", ngx.flush(true) end)
                if coroutine.status(t) == "running" then break end
                ngx.thread.wait(t)
            end
            local status = coroutine.status(t)
            local killed = ngx.thread.kill(t)
            weak[t] = true
            t = nil
            local freed = gone()
            ngx.print("\n", status, " ", killed, " ", tostring(freed), "\n")
            ngx.flush(true)
            ngx.print("end\n")
        }
    }
--- request
GET /t
--- response_body_like chomp
\Ax+\nrunning 1 true\nend\n\z



=== TEST 8: a thread killed in a connect queued for a pool's slot leaves the queue
--- config
    location /t {
        content_by_lua_block {
            LIB
            local opts = {pool = "one", pool_size = 1, backlog = 1}
            local a = ngx.socket.tcp()
            show("a", a:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT, opts))
            local b = ngx.socket.tcp()
            b:settimeout(200)
            local t = ngx.thread.spawn(function()
                return b:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT, opts)
            end)
            show("status", coroutine.status(t))
            show("kill", ngx.thread.kill(t))
            weak[t] = true
            t = nil
            show("gone", gone())
            show("b send", b:send("x"))
            show("a keepalive", a:setkeepalive())
            local c = ngx.socket.tcp()
            c:settimeout(200)
            show("c", c:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT, opts))
            show("c reused", c:getreusedtimes())
            c:close()
        }
    }
--- request
GET /t
--- response_body
a: 1
status: running
kill: 1
gone: true
b send: nil closed
a keepalive: 1
c: 1
c reused: 1
