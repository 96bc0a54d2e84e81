# Light threads (ngx.thread.spawn/wait/kill) and the user's own coroutines inside handlers:
# a coroutine that sleeps suspends its whole chain and is resumed exactly where it waited;
# coroutine.yield goes back to its resumer; wrap, status, errors; threads run side by side
# (two 0.3 s sleeps take ~0.3 s), the request waits for every thread, ngx.exit stops them all.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/416-lua-threads-coroutines.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a user coroutine yields values back to its resumer
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.create(function(a, b)
                local c = coroutine.yield(a + b)
                local d, e = coroutine.yield(c * 2)
                return d .. e
            end)
            ngx.say(coroutine.resume(co, 1, 2))
            ngx.say(coroutine.status(co))
            ngx.say(coroutine.resume(co, 10))
            ngx.say(coroutine.resume(co, "x", "y"))
            ngx.say(coroutine.status(co))
            ngx.say(coroutine.resume(co))
        }
    }
--- request
GET /t
--- response_body
true3
suspended
true20
truexy
dead
falsecannot resume dead coroutine



=== TEST 2: a coroutine that sleeps suspends the handler, then goes on where it was
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.create(function()
                ngx.sleep(0.05)
                coroutine.yield("after sleep")
                ngx.sleep(0.01)
                return "done"
            end)
            ngx.say(coroutine.resume(co))
            ngx.say(coroutine.resume(co))
        }
    }
--- request
GET /t
--- response_body
trueafter sleep
truedone



=== TEST 3: an error inside a coroutine comes back from resume
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.create(function() error("inner failure") end)
            local ok, err = coroutine.resume(co)
            ngx.say(ok, " ", err:match("inner failure"))
        }
    }
--- request
GET /t
--- response_body
false inner failure



=== TEST 4: coroutine.wrap, with a sleep inside a generator
--- config
    location /t {
        content_by_lua_block {
            local gen = coroutine.wrap(function()
                for i = 1, 3 do
                    ngx.sleep(0.001)
                    coroutine.yield(i)
                end
            end)
            ngx.say(gen(), gen(), gen())
        }
    }
--- request
GET /t
--- response_body
123



=== TEST 5: nested coroutines
--- config
    location /t {
        content_by_lua_block {
            local inner = coroutine.create(function()
                ngx.sleep(0.01)
                coroutine.yield("inner")
            end)
            local outer = coroutine.create(function()
                local _, v = coroutine.resume(inner)
                coroutine.yield("outer got " .. v)
            end)
            ngx.say(select(2, coroutine.resume(outer)))
        }
    }
--- request
GET /t
--- response_body
outer got inner



=== TEST 6: two light threads sleep side by side
--- config
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            -- side by side: both sleep at once (counted, not timed: a loaded machine may
            -- stretch the 0.3 s), and the waits return after the sleeps
            local running, max = 0, 0
            local function work(name, s)
                running = running + 1
                if running > max then max = running end
                ngx.sleep(s)
                running = running - 1
                return name
            end
            local a = ngx.thread.spawn(work, "a", 0.3)
            local b = ngx.thread.spawn(work, "b", 0.3)
            local ok1, r1 = ngx.thread.wait(a)
            local ok2, r2 = ngx.thread.wait(b)
            ngx.update_time()
            local dt = ngx.now() - t0
            ngx.say(ok1, r1, ok2, r2, " ", max == 2 and dt >= 0.25)
        }
    }
--- request
GET /t
--- response_body
trueatrueb true



=== TEST 7: a thread that does not wait runs to its end before spawn returns
--- config
    location /t {
        content_by_lua_block {
            local order = {}
            local t = ngx.thread.spawn(function() order[#order + 1] = "thread" return 1, 2 end)
            order[#order + 1] = "main"
            ngx.say(table.concat(order, ","))
            ngx.say(ngx.thread.wait(t))
        }
    }
--- request
GET /t
--- response_body
thread,main
true12



=== TEST 8: ngx.thread.wait returns the first of several to finish
--- config
    location /t {
        content_by_lua_block {
            local slow = ngx.thread.spawn(function() ngx.sleep(0.3) return "slow" end)
            local fast = ngx.thread.spawn(function() ngx.sleep(0.01) return "fast" end)
            ngx.say(ngx.thread.wait(slow, fast))
            ngx.say(ngx.thread.wait(slow))
        }
    }
--- request
GET /t
--- response_body
truefast
trueslow



=== TEST 9: a failing thread is logged and wait returns false
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.thread.spawn(function() ngx.sleep(0.01) error("thread boom") end)
            local ok, err = ngx.thread.wait(t)
            ngx.say(ok, " ", err:match("thread boom"))
        }
    }
--- request
GET /t
--- response_body
false thread boom
--- error_log
lua user thread aborted: runtime error:



=== TEST 10: the request waits for a thread nobody waits for
--- config
    location /t {
        content_by_lua_block {
            ngx.thread.spawn(function()
                ngx.sleep(0.1)
                ngx.say("from the thread, after the entry returned")
            end)
            ngx.say("entry done")
        }
    }
--- request
GET /t
--- response_body
entry done
from the thread, after the entry returned



=== TEST 11: ngx.thread.kill stops a sleeping thread
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.thread.spawn(function()
                ngx.sleep(0.2)
                ngx.log(ngx.ERR, "killed thread woke up")
            end)
            ngx.say(ngx.thread.kill(t))
            ngx.say(ngx.thread.kill(t))
            ngx.sleep(0.3)
            ngx.say("end")
        }
    }
--- request
GET /t
--- response_body
1
nilalready waited or killed
end
--- no_error_log
killed thread woke up



=== TEST 12: ngx.exit in a thread ends the request and every thread
--- config
    location /t {
        content_by_lua_block {
            ngx.thread.spawn(function()
                ngx.sleep(0.3)
                ngx.log(ngx.ERR, "other thread still ran")
            end)
            ngx.thread.spawn(function()
                ngx.sleep(0.01)
                ngx.say("exiting from a thread")
                ngx.exit(200)
            end)
            ngx.sleep(1)
            ngx.say("entry not reached")
        }
    }
    location /later {
        content_by_lua_block { ngx.sleep(0.5) ngx.say("later") }
    }
--- request eval
["GET /t", "GET /later"]
--- response_body eval
["exiting from a thread\n", "later\n"]
--- no_error_log
other thread still ran



=== TEST 13: only the parent may wait on a thread
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.thread.spawn(function() ngx.sleep(0.05) end)
            local t2 = ngx.thread.spawn(function()
                local ok, err = pcall(ngx.thread.wait, t)
                ngx.say(err:match("only the parent coroutine can wait on the thread"))
            end)
            ngx.thread.wait(t2)
            ngx.thread.wait(t)
        }
    }
--- request
GET /t
--- response_body
only the parent coroutine can wait on the thread



=== TEST 14: threads in access_by_lua; content runs after they are done
--- config
    location /t {
        access_by_lua_block {
            ngx.thread.spawn(function() ngx.sleep(0.05) ngx.ctx.from_thread = "set by thread" end)
        }
        content_by_lua_block { ngx.say(ngx.ctx.from_thread) }
    }
--- request
GET /t
--- response_body
set by thread



=== TEST 15: coroutines in init_by_lua use the plain library
--- http_config
    init_by_lua_block {
        local co = coroutine.create(function() coroutine.yield(1) return 2 end)
        local _, a = coroutine.resume(co)
        local _, b = coroutine.resume(co)
        init_sum = a + b
    }
--- config
    location /t {
        content_by_lua_block { ngx.say(init_sum) }
    }
--- request
GET /t
--- response_body
3
