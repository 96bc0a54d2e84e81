# ngx.update_time() moves the clock Lua's timers count from, as nginx's (its ngx_current_msec):
# after a long computation in one loop turn, a wait started right after ngx.update_time()
# lasts its whole time measured from then (it used to count from the turn's start, so it
# ended early by the computation's length).
#
#   prove -I t/lib t/895-lua-update-time-timers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/895-lua-update-time-timers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

our $HttpConfig = <<'_EOC_';
    init_by_lua_block {
        -- 150 ms of CPU in this loop turn, the clock left as the turn began
        function busy()
            local t0 = os.clock()
            local x = 0
            while os.clock() - t0 < 0.15 do x = x + 1 end
            return x
        end
        function since(t0)
            ngx.update_time()
            return ngx.now() - t0
        end
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: ngx.sleep after a computation and ngx.update_time(): its whole time from then
--- http_config eval: $::HttpConfig
--- config
    location /t {
        content_by_lua_block {
            busy()
            ngx.update_time()
            local t0 = ngx.now()
            ngx.sleep(0.3)
            local d = since(t0)
            ngx.say(d >= 0.29 or d)
        }
    }
--- request
GET /t
--- response_body
true
--- timeout: 10



=== TEST 2: a semaphore wait that times out, and a cosocket read timeout, the same
--- http_config eval: $::HttpConfig
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new()
            busy()
            ngx.update_time()
            local t0 = ngx.now()
            local ok, err = s:wait(0.3)
            local d = since(t0)
            ngx.say(tostring(ok), " ", err, " ", d >= 0.29 or d)

            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            assert(sock:send("GET /hold HTTP/1.0\r\nHost: x\r\n\r\n"))
            sock:settimeout(300)
            busy()
            ngx.update_time()
            t0 = ngx.now()
            local line, rerr = sock:receive()
            d = since(t0)
            ngx.say(tostring(line), " ", rerr, " ", d >= 0.29 or d)
            sock:close()
        }
    }
    location /hold {
        content_by_lua_block { ngx.sleep(3) ngx.say("late") }
    }
--- request
GET /t
--- response_body
false timeout true
nil timeout true
--- error_log
lua tcp socket read timed out
--- timeout: 10



=== TEST 3: ngx.timer.at's delay counts from ngx.update_time() too
--- http_config eval: $::HttpConfig
--- config
    location /t {
        content_by_lua_block {
            local sema = require("ngx.semaphore").new()
            local fired
            busy()
            ngx.update_time()
            local t0 = ngx.now()
            assert(ngx.timer.at(0.3, function() fired = since(t0) sema:post() end))
            sema:wait(5)
            ngx.say(fired >= 0.29 or fired)
        }
    }
--- request
GET /t
--- response_body
true
--- timeout: 10
