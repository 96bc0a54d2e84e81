# The cached clock moves once per turn of the event loop, after its wait, as nginx updates its
# time after each epoll_wait: the handlers that run in one turn (here two Lua timers due at
# the same time) read the same ngx.now(), however long the first one spins, unless it calls
# ngx.update_time(), whose time the rest of the turn then reads. A new turn reads a new time
# (t/737, t/781: a socket's or a pool thread's wake-up). core/mgtime.c mg_time_turn.
#
#   prove -I t/lib t/751-clock-turn.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/751-clock-turn.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

run_tests();

__DATA__

=== TEST 1: two timers of one turn read the same clock, though the first spins 0.2 s; with ngx.update_time() after the spin, the second reads the time it took
--- http_config
    lua_shared_dict clock 1m;
--- config
    location = /t {
        content_by_lua_block {
            local d = ngx.shared.clock
            d:flush_all()
            local update = ngx.var.arg_update
            local function first()
                d:set("t1", ngx.now())
                local stop = os.clock() + 0.2
                while os.clock() < stop do end
                if update then
                    ngx.update_time()
                    d:set("u", ngx.now())
                end
            end
            local function second()
                d:set("t2", ngx.now())
            end
            assert(ngx.timer.at(0, first))
            assert(ngx.timer.at(0, second))
            for _ = 1, 500 do
                if d:get("t2") then
                    break
                end
                ngx.sleep(0.01)
            end
            local t1, u, t2 = d:get("t1"), d:get("u"), d:get("t2")
            if update then
                ngx.say(u - t1 >= 0.19, " ", t2 == u)
            else
                ngx.say(t2 == t1 and "same" or "moved " .. tostring(t2 and t1 and t2 - t1))
            end
        }
    }
--- request eval
["GET /t", "GET /t?update=1"]
--- response_body eval
["same\n", "true true\n"]
