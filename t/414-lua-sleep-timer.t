# ngx.sleep (other requests go on while one sleeps) and ngx.timer.at / ngx.timer.every (the
# callback runs with no request, gets premature and its arguments, may sleep; errors are
# logged; counts; the limits of lua_max_pending_timers / lua_max_running_timers; API rules).
# Premature firing on reload is tested with a real master in t/415-lua-timer-reload.t.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/414-lua-sleep-timer.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: ngx.sleep waits, and the clock moved
--- config
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            ngx.sleep(0.2)
            local dt = ngx.now() - t0
            ngx.say(dt >= 0.19 and dt < 2)
        }
    }
--- request
GET /t
--- response_body
true



=== TEST 2: ngx.sleep(0) yields and comes back
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 100 do ngx.sleep(0) end
            ngx.say("done")
        }
    }
--- request
GET /t
--- response_body
done



=== TEST 3: a sleeping request does not hold up others (the worker is not blocked)
Read within 4 s while the other sleeps, in 0.05 s steps, until this one was served (5 s at most): a
blocked worker answers only after the 5 s. The sleeper ends once this one is served, so the stop
after the block does not wait for it (the harness gives a graceful stop 3 s).
--- http_config
    lua_shared_dict t414 1m;
--- config
    location /sleep {
        content_by_lua_block {
            for _ = 1, 100 do
                if ngx.shared.t414:get("served") then break end
                ngx.sleep(0.05)
            end
            ngx.say("slept")
        }
    }
    location /t {
        content_by_lua_block {
            ngx.shared.t414:set("served", true)
            ngx.say("served while another sleeps")
        }
    }
--- init
    # a request that sleeps, left running while the block's request is made
    use IO::Socket::INET;
    our $SleepConn = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ENV{TEST_MOONGATE_SERVER_PORT} // $ENV{TEST_NGINX_SERVER_PORT}, Proto => 'tcp');
    print $SleepConn "GET /sleep HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
--- request
GET /t
--- timeout: 4
--- response_body
served while another sleeps



=== TEST 4: ngx.sleep with bad arguments
--- config
    location /t {
        content_by_lua_block {
            ngx.say(pcall(ngx.sleep, -1))
            ngx.say(pcall(ngx.sleep))
        }
    }
--- request
GET /t
--- response_body_like chomp
^false.*invalid sleep duration.*
false.*



=== TEST 5: ngx.sleep is not allowed in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block {
            local ok, err = pcall(ngx.sleep, 0.1)
            ngx.log(ngx.WARN, "sleep in log: ", err)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
API disabled in the context of log_by_lua*



=== TEST 6: ngx.timer.at runs the callback with premature = false and the arguments
--- config
    location /t {
        content_by_lua_block {
            local ok, err = ngx.timer.at(0.05, function(premature, a, b)
                ngx.log(ngx.WARN, "timer fired: premature=", premature, " a=", a, " b=", b,
                        " phase=", ngx.get_phase())
            end, "one", 2)
            ngx.say("created: ", ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
created: 1 nil
--- error_log
timer fired: premature=false a=one b=2 phase=timer



=== TEST 7: a timer may sleep, and sees no request
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                ngx.sleep(0.05)
                local ok, err = pcall(function() return ngx.var.uri end)
                ngx.log(ngx.WARN, "after sleep in timer; ngx.var: ", err)
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
after sleep in timer; ngx.var: 



=== TEST 8: an error in a timer callback is logged
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function() error("timer went wrong") end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
timer went wrong



=== TEST 9: ngx.timer.every repeats
--- http_config
    init_worker_by_lua_block {
        local n = 0
        ngx.timer.every(0.02, function(premature)
            n = n + 1
            if n == 3 then ngx.log(ngx.WARN, "every ran 3 times") end
        end)
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok
--- error_log
every ran 3 times



=== TEST 10: pending and running counts
--- config
    location /t {
        content_by_lua_block {
            local before = ngx.timer.pending_count()
            ngx.timer.at(10, function() end)
            ngx.timer.at(10, function() end)
            ngx.say(ngx.timer.pending_count() - before, " ", ngx.timer.running_count())
        }
    }
--- request
GET /t
--- response_body
2 0



=== TEST 11: running_count counts a sleeping timer
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function() ngx.sleep(0.3) end)
            ngx.sleep(0.1)
            ngx.say(ngx.timer.running_count())
        }
    }
--- request
GET /t
--- response_body
1



=== TEST 12: lua_max_pending_timers
--- http_config
    lua_max_pending_timers 2;
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.timer.at(10, function() end))
            ngx.say(ngx.timer.at(10, function() end))
            ngx.say(ngx.timer.at(10, function() end))
        }
    }
--- request
GET /t
--- response_body
1
1
niltoo many pending timers



=== TEST 13: lua_max_running_timers
--- http_config
    lua_max_running_timers 1;
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function() ngx.sleep(0.2) end)
            ngx.timer.at(0, function() ngx.log(ngx.WARN, "second timer ran") end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
1 lua_max_running_timers are not enough
--- no_error_log
second timer ran



=== TEST 14: arguments of ngx.timer.at: a negative delay runs at once; too few; every 0
--- config
    location /t {
        content_by_lua_block {
            ngx.say(pcall(ngx.timer.at, -1, function() end))
            ngx.say(pcall(ngx.timer.at, 1))
            ngx.say(pcall(ngx.timer.every, 0, function() end))
        }
    }
--- request
GET /t
--- response_body
true1
falseexpecting at least 2 arguments but got 1
falsedelay cannot be zero



=== TEST 15: ngx.exit in a timer ends the callback
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "before exit")
                ngx.exit(0)
                ngx.log(ngx.WARN, "after exit")
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
before exit
--- no_error_log
after exit
