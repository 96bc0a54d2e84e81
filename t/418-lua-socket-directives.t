# The lua_socket_* directives as the cosockets' defaults: connect/send/read timeouts (a
# blackhole backend, a backend that sends nothing, one that never reads), the receive buffer
# (one receiveany() takes at most lua_socket_buffer_size bytes), the keepalive pool's size and
# idle timeout, lua_socket_log_errors (the error lines or none); inner levels and settimeout()
# win over outer ones; timers take the http{} level; contexts and bad values.
#
#   prove -I t/lib t/418-lua-socket-directives.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/418-lua-socket-directives.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use IO::Socket::INET;

backend(hole  => 'blackhole');
backend(gone  => 'refused');
backend(echo  => 'rawecho');
backend(quiet => 'script', script => [], hold => 3);          # sends nothing, reads nothing
backend(late  => 'script', script => [0.5, "late\n"], hold => 1);
backend(bulk  => 'script', script => ['y' x 3000 . "\n"], hold => 1);

# a UDP port that takes datagrams and never answers
our $Mute = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1:0')
    or die "udp socket: $!";
$ENV{TEST_NGINX_MUTE_PORT} = $Mute->sockport;

# took(t0): true when the time since t0 lies between 0.09 and 2.5 s: a 100 ms timeout, not the
# 60 s default (2.5 s, not less: a loaded machine may fire a 100 ms timer late)
add_block_preprocessor(sub {
    my $block = shift;
    return if defined $block->http_config;
    $block->set_value(http_config => <<'_EOC_');
    init_by_lua_block {
        function took(t0)
            ngx.update_time()
            local d = ngx.now() - t0
            return d >= 0.09 and d < 2.5
        end
    }
_EOC_
});

log_level('info');

run_tests();

__DATA__

=== TEST 1: lua_socket_connect_timeout: a peer that never accepts times out after it
--- config
    location /t {
        lua_socket_connect_timeout 100ms;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            local t0 = ngx.now()
            local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_HOLE_PORT)
            ngx.say(ok, " ", err, " ", took(t0))
        }
    }
--- request
GET /t
--- response_body
nil timeout true
--- error_log
lua tcp socket connect timed out, when connecting to 127.0.0.1:



=== TEST 2: lua_socket_read_timeout at server level: a silent peer times out after it
--- config
    lua_socket_read_timeout 100ms;
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_QUIET_PORT))
            local t0 = ngx.now()
            local data, err, partial = sock:receive()
            ngx.say(data, " ", err, " [", partial, "] ", took(t0))
            t0 = ngx.now()
            data, err = sock:receiveuntil("--")()
            ngx.say(data, " ", err, " ", took(t0))
        }
    }
--- request
GET /t
--- response_body
nil timeout [] true
nil timeout true
--- error_log
lua tcp socket read timed out



=== TEST 3: lua_socket_send_timeout at http level: a peer that never reads times out sends
--- http_config
    lua_socket_send_timeout 100ms;
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_QUIET_PORT))
            local t0 = ngx.now()
            local big = string.rep("x", 32 * 1024 * 1024)
            local n, err = sock:send(big)
            ngx.update_time()
            -- the timeout counts from the last byte the kernel took: on a loaded machine the
            -- peer's buffers fill slowly, so only "before the peer gives up" (hold => 3 s,
            -- then err would be "closed") is a bound; the default 60 s would fail it
            ngx.say(n, " ", err, " ", ngx.now() - t0 < 3)
        }
    }
--- request
GET /t
--- response_body
nil timeout true
--- error_log
lua tcp socket write timed out



=== TEST 4: the innermost level wins, and settimeout() wins over the directives
--- http_config
    lua_socket_read_timeout 100ms;
--- config
    location /short {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_LATE_PORT))
            ngx.say(sock:receive())
        }
    }
    location /long {
        lua_socket_read_timeout 2s;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_LATE_PORT))
            ngx.say(sock:receive())
        }
    }
    location /set {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_LATE_PORT))
            ngx.say(sock:receive())
        }
    }
--- request eval
["GET /short", "GET /long", "GET /set"]
--- response_body eval
["niltimeout\n", "late\n", "late\n"]



=== TEST 5: lua_socket_buffer_size: one receiveany() takes at most the buffer; lines may be longer
--- config
    location /small {
        lua_socket_buffer_size 1k;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_BULK_PORT))
            ngx.sleep(0.1) -- all 3001 bytes arrived
            ngx.say(#sock:receiveany(10000))
            ngx.say(#sock:receive())
            sock:close()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_BULK_PORT))
            ngx.say(#sock:receive(2500))
        }
    }
    location /default {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_BULK_PORT))
            ngx.sleep(0.1)
            ngx.say(#sock:receiveany(10000))
        }
    }
--- request eval
["GET /small", "GET /default"]
--- response_body eval
["1024\n1976\n2500\n", "3001\n"]



=== TEST 6: lua_socket_pool_size: a full pool drops its least recently used connection
--- http_config
    init_by_lua_block {
        function round(pool)
            local a, b = ngx.socket.tcp(), ngx.socket.tcp()
            assert(a:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = pool}))
            assert(b:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = pool}))
            assert(a:setkeepalive())
            assert(b:setkeepalive())
            local c, d = ngx.socket.tcp(), ngx.socket.tcp()
            assert(c:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = pool}))
            assert(d:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = pool}))
            ngx.say(pool, ": ", c:getreusedtimes(), " ", d:getreusedtimes())
            c:close()
            d:close()
        end
    }
--- config
    location /one {
        lua_socket_pool_size 1;
        content_by_lua_block { round("one") }
    }
    location /many {
        content_by_lua_block { round("many") }
    }
--- request eval
["GET /one", "GET /many"]
--- response_body eval
["one: 1 0\n", "many: 1 1\n"]



=== TEST 7: lua_socket_keepalive_timeout: an idle connection goes after it; setkeepalive's argument wins
--- config
    location /t {
        lua_socket_keepalive_timeout 100ms;
        content_by_lua_block {
            local a, b = ngx.socket.tcp(), ngx.socket.tcp()
            assert(a:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "a"}))
            assert(b:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "b"}))
            assert(a:setkeepalive())
            assert(b:setkeepalive(5000))
            ngx.sleep(0.3)
            assert(a:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "a"}))
            assert(b:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "b"}))
            ngx.say(a:getreusedtimes(), " ", b:getreusedtimes())
        }
    }
--- request
GET /t
--- response_body
0 1



=== TEST 8: lua_socket_log_errors off: the cosockets' failures are returned, not logged
--- config
    location /t {
        lua_socket_log_errors off;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(100)
            ngx.say(sock:connect("127.0.0.1", $TEST_NGINX_GONE_PORT))
            ngx.say(sock:connect("127.0.0.1", $TEST_NGINX_HOLE_PORT))
            assert(sock:connect("127.0.0.1", $TEST_NGINX_QUIET_PORT))
            ngx.say(sock:receive())
            sock:close()
            ngx.say(sock:send("x"))
            ngx.say(sock:receive())
            local udp = ngx.socket.udp()
            udp:settimeout(100)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_MUTE_PORT))
            ngx.say(udp:receive())
            udp:close()
            ngx.say(udp:send("x"))
        }
    }
--- request
GET /t
--- response_body
nilconnection refused
niltimeout
niltimeout
nilclosed
nilclosed
niltimeout
nilclosed
--- no_error_log
connect() failed
connect timed out
read timed out
attempt to send data on a closed socket
attempt to receive data on a closed socket
[error]



=== TEST 9: lua_socket_log_errors on (the default): the same failures are logged
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(100)
            ngx.say(sock:connect("127.0.0.1", $TEST_NGINX_GONE_PORT))
            ngx.say(sock:connect("127.0.0.1", $TEST_NGINX_HOLE_PORT))
            assert(sock:connect("127.0.0.1", $TEST_NGINX_QUIET_PORT))
            ngx.say(sock:receive())
            sock:close()
            ngx.say(sock:send("x"))
            ngx.say(sock:receive())
            local udp = ngx.socket.udp()
            udp:settimeout(100)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_MUTE_PORT))
            ngx.say(udp:receive())
            udp:close()
            ngx.say(udp:send("x"))
        }
    }
--- request
GET /t
--- response_body
nilconnection refused
niltimeout
niltimeout
nilclosed
nilclosed
niltimeout
nilclosed
--- error_log
connect() failed (111: Connection refused)
lua tcp socket connect timed out, when connecting to 127.0.0.1:
lua tcp socket read timed out
attempt to send data on a closed socket
attempt to receive data on a closed socket
lua udp socket read timed out



=== TEST 10: a timer started by init_worker_by_lua takes the http{} level's settings
--- http_config
    lua_socket_read_timeout 100ms;
    lua_shared_dict d 1m;
    init_worker_by_lua_block {
        ngx.timer.at(0, function()
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_QUIET_PORT))
            local t0 = ngx.now()
            local data, err = sock:receive()
            ngx.update_time()
            ngx.shared.d:set("res", tostring(err) .. " " .. tostring(ngx.now() - t0 < 2.5))
        end)
    }
--- config
    lua_socket_read_timeout 10s;
    location /t {
        content_by_lua_block {
            -- the timer's 100 ms, awaited for 5 s at most (its 10 s would leave nil)
            for _ = 1, 100 do
                if ngx.shared.d:get("res") then break end
                ngx.sleep(0.05)
            end
            ngx.say(ngx.shared.d:get("res"))
        }
    }
--- request
GET /t
--- response_body
timeout true



=== TEST 11: a timer made by a request also takes the http{} level's settings, not the location's
nginx gives a timer the location of the request that made it; moongate's timers have no
location (they outlive the request), so their cosockets take the http{} level.
--- moongate_only
--- http_config
    lua_socket_read_timeout 100ms;
    lua_shared_dict d 1m;
--- config
    location /t {
        lua_socket_read_timeout 10s;
        content_by_lua_block {
            ngx.timer.at(0, function()
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_QUIET_PORT))
                local data, err = sock:receive()
                ngx.shared.d:set("res", err)
            end)
            -- the timer's 100 ms, awaited for 5 s at most (the location's 10 s would leave nil)
            for _ = 1, 100 do
                if ngx.shared.d:get("res") then break end
                ngx.sleep(0.05)
            end
            ngx.say(ngx.shared.d:get("res"))
        }
    }
--- request
GET /t
--- response_body
timeout



=== TEST 12: the directives in "location if"; lua_socket_pool_size 0 fails when a pool is made
--- config
    location /t {
        if ($arg_x) {
            lua_socket_connect_timeout 1s;
            lua_socket_send_timeout 1s;
            lua_socket_read_timeout 1s;
            lua_socket_keepalive_timeout 1s;
            lua_socket_buffer_size 8k;
            lua_socket_log_errors off;
            lua_socket_pool_size 0;
        }
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            ngx.say(pcall(sock.setkeepalive, sock))
        }
    }
--- request
GET /t?x=1
--- response_body
falsebad argument #1 to '?' (bad "pool_size" option value: 0)



=== TEST 13: a bad time is a configuration error
--- config
    lua_socket_read_timeout abc;
--- must_die
--- error_log
"lua_socket_read_timeout" directive invalid value



=== TEST 14: lua_socket_log_errors takes on or off
--- config
    lua_socket_log_errors maybe;
--- must_die
--- error_log
invalid value "maybe" in "lua_socket_log_errors" directive, it must be "on" or "off"
