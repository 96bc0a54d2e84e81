# require "ngx.semaphore": new/post/wait/count, waits across light threads, between requests
# (subrequests) and timers of a worker, in order, with timeouts; wait where code cannot yield
# answers nil and "API disabled in the context of ..."; argument errors.
#
#   prove -I t/lib t/436-lua-semaphore.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/436-lua-semaphore.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: resources: wait takes one at once, post adds, count tells
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new(2)
            ngx.say("count ", s:count())
            ngx.say("wait ", s:wait(0))
            ngx.say("count ", s:count())
            s:post(3)
            ngx.say("count ", s:count())
            s:post()
            ngx.say("count ", s:count())
            local e = semaphore.new()
            ngx.say("empty ", e:count(), " ", tostring(e:wait(0)), " ", select(2, e:wait(0)))
        }
    }
--- request
GET /t
--- response_body
count 2
wait true
count 1
count 4
count 5
empty 0 nil timeout
--- no_error_log
[error]



=== TEST 2: a light thread waits until the entry thread posts; count is negative meanwhile
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new()
            local t = ngx.thread.spawn(function()
                ngx.say("thread waits")
                local ok, err = s:wait(5)
                ngx.say("thread got ", tostring(ok), " ", tostring(err))
            end)
            ngx.say("count ", s:count())
            s:post()
            ngx.say("posted")
            ngx.thread.wait(t)
            ngx.say("count ", s:count())
        }
    }
--- request
GET /t
--- response_body
thread waits
count -1
posted
thread got true nil
count 0
--- no_error_log
[error]



=== TEST 3: waiters wake in the order they came
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new()
            local ts = {}
            for i = 1, 3 do
                ts[i] = ngx.thread.spawn(function()
                    assert(s:wait(5))
                    ngx.say("woke ", i)
                end)
            end
            s:post(2)
            ngx.sleep(0.01)
            ngx.say("count ", s:count())
            s:post(1)
            for i = 1, 3 do ngx.thread.wait(ts[i]) end
        }
    }
--- request
GET /t
--- response_body
woke 1
woke 2
count -1
woke 3
--- no_error_log
[error]



=== TEST 4: a wait that nobody posts ends with false and "timeout" after its time
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new()
            ngx.update_time()
            local t0 = ngx.now()
            local ok, err = s:wait(0.2)
            ngx.update_time()
            local d = ngx.now() - t0
            ngx.say(tostring(ok), " ", err, " ", d >= 0.19 and d < 2)
            ngx.say("count ", s:count())
        }
    }
--- request
GET /t
--- response_body
false timeout true
count 0



=== TEST 5: between requests of a worker: one subrequest waits, the other posts
--- http_config
    init_by_lua_block {
        package.loaded.shared_sema = require("ngx.semaphore").new()
    }
--- config
    location = /wait {
        content_by_lua_block {
            local ok, err = package.loaded.shared_sema:wait(5)
            ngx.print("wait: ", tostring(ok), " ", tostring(err))
        }
    }
    location = /post {
        content_by_lua_block {
            ngx.sleep(0.05)
            package.loaded.shared_sema:post()
            ngx.print("posted")
        }
    }
    location /t {
        content_by_lua_block {
            local a, b = ngx.location.capture_multi({ { "/wait" }, { "/post" } })
            ngx.say(a.body, ", ", b.body)
        }
    }
--- request
GET /t
--- response_body
wait: true nil, posted
--- no_error_log
[error]



=== TEST 6: a timer posts to a request that waits
--- config
    location /t {
        content_by_lua_block {
            local s = require("ngx.semaphore").new()
            assert(ngx.timer.at(0.05, function() s:post() end))
            ngx.say(s:wait(5))
        }
    }
--- request
GET /t
--- response_body
truenil



=== TEST 7: wait where code cannot yield: nil and the phase's message
--- http_config
    init_worker_by_lua_block {
        local s = require("ngx.semaphore").new()
        local ok, err = s:wait(1)
        ngx.log(ngx.WARN, "init_worker: ", tostring(ok), " ", err)
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block {
            local s = require("ngx.semaphore").new()
            local ok, err = s:wait(1)
            ngx.log(ngx.WARN, "header_filter: ", tostring(ok), " ", err)
        }
        log_by_lua_block {
            local s = require("ngx.semaphore").new()
            local ok, err = s:wait(1)
            ngx.log(ngx.WARN, "log: ", tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
init_worker: nil API disabled in the context of init_worker_by_lua*
header_filter: nil API disabled in the context of header_filter_by_lua*
log: nil API disabled in the context of log_by_lua*



=== TEST 8: argument checks
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new()
            ngx.say(select(2, pcall(semaphore.new, -1)))
            ngx.say(select(2, pcall(s.post, s, 0)))
            ngx.say(select(2, pcall(s.wait, s, -1)))
            ngx.say(select(2, pcall(s.wait, {}, 1)))
            ngx.say(select(2, pcall(s.count, "x")))
        }
    }
--- request
GET /t
--- response_body_like chomp
\A(.*: )?no negative number
(.*: )?positive number required
(.*: )?no negative number
(.*: )?not a semaphore instance
(.*: )?not a semaphore instance
\z



=== TEST 9: a waiting thread killed leaves the queue; the request ends with a waiter left
--- config
    location /t {
        content_by_lua_block {
            local s = require("ngx.semaphore").new()
            local t = ngx.thread.spawn(function() s:wait(5) end)
            ngx.say("count ", s:count())
            ngx.thread.kill(t)
            ngx.say("count ", s:count())
            package.loaded.left_sema = s
            ngx.thread.spawn(function() s:wait(5) end)
            ngx.exit(200)
        }
    }
    location /after {
        content_by_lua_block {
            local s = package.loaded.left_sema
            ngx.say("count ", s:count())
            s:post()
            ngx.say("count ", s:count())
        }
    }
--- pipelined_requests eval
["GET /t", "GET /after"]
--- response_body eval
["count -1\ncount 0\n", "count 0\ncount 1\n"]
--- no_error_log
[error]
