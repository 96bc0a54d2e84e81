# require "ngx.semaphore"'s methods as the JIT sees them (issue 16): post, wait and count are Lua
# functions calling C through the FFI, as lua-resty-core's, so a hot loop of wait(0), post and
# count compiles into a trace where a C method would end it; a wait that finds a resource free
# but a waiter queued does not take it; with the JIT off (after the module loaded, or before)
# the methods answer the same, errors included; a second load of the module works and leaves
# nothing behind in the registry (lua_code_cache off loads it for each request).
#
#   prove -I t/lib t/464-lua-semaphore-ffi.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/464-lua-semaphore-ffi.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the methods are Lua code, and a hot loop of wait(0), post and count is compiled whole: its trace loops to itself (a C method would end it in a stitch to a new one), none aborts
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local traceerr = require("jit.vmdef").traceerr
            local traceinfo = require("jit.util").traceinfo
            local s = semaphore.new(1)
            local function loop(n)
                local ok, c
                for _ = 1, n do
                    ok = s:wait(0)
                    s:post(1)
                    c = s:count()
                end
                return ok, c
            end
            local mine, links, aborts = {}, {}, {}
            jit.flush()
            jit.attach(function(what, tr, func, pc, otr, oex)
                if what == "start" then
                    mine[tr] = func == loop
                elseif what == "stop" and mine[tr] then
                    links[traceinfo(tr).linktype] = true
                elseif what == "abort" and mine[tr] then
                    aborts[#aborts + 1] = string.format(traceerr[otr], oex)
                end
            end, "trace")
            local ok, c = loop(1000)
            jit.attach(function() end)
            ngx.say(debug.getinfo(s.wait, "S").what, " ", debug.getinfo(s.post, "S").what, " ",
                    debug.getinfo(s.count, "S").what)
            ngx.say(ok, " ", c, " ", type(c))
            local kinds = {}
            for k in pairs(links) do kinds[#kinds + 1] = k end
            table.sort(kinds)
            ngx.say("links: ", table.concat(kinds, " "), ", aborts: ", #aborts == 0 and "none"
                    or table.concat(aborts, "; "))
        }
    }
--- request
GET /t
--- response_body
Lua Lua Lua
true 1 number
links: loop, aborts: none
--- no_error_log
[error]



=== TEST 2: a resource posted while a thread waits is that thread's: wait(0) meanwhile times out and count stays 0, 200 times
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s, ack = semaphore.new(0), semaphore.new(0)
            local woke = 0
            local t = ngx.thread.spawn(function()
                for _ = 1, 200 do
                    if s:wait(5) then woke = woke + 1 end
                    ack:post()
                end
            end)
            local stolen = 0
            for _ = 1, 200 do
                s:post()
                local ok, err = s:wait(0)
                if ok or err ~= "timeout" or s:count() ~= 0 then
                    stolen = stolen + 1
                end
                ack:wait(5) -- the thread woke and waits again
            end
            ngx.thread.wait(t)
            ngx.say(woke, " ", stolen, " ", s:count())
        }
    }
--- request
GET /t
--- response_body
200 0 0
--- no_error_log
[error]



=== TEST 3: the JIT turned off after the module loaded: the same answers, errors at the caller's line, waits across threads
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local function result(th) return tostring(select(2, ngx.thread.wait(th))) end
            jit.off()
            local s = semaphore.new(2)
            local r = {}
            for i = 1, 3 do
                r[#r + 1] = tostring(s:wait(0))
            end
            ngx.say(table.concat(r, " "), " ", select(2, s:wait(0)), " ", s:count())
            s:post(3)
            s:post()
            ngx.say(s:count(), " ", semaphore.count({ sem = s.sem }))
            local th = ngx.thread.spawn(function() return s:wait(5) end)
            local e = semaphore.new()
            local th2 = ngx.thread.spawn(function() return e:wait(5) end)
            ngx.say(e:count())
            e:post(1)
            ngx.say(result(th), " ", result(th2), " ", e:count())
            ngx.say(select(2, pcall(function() s:post(0) end)))
            ngx.say(select(2, pcall(function() local ok = s:wait(-1) end)))
            ngx.say(select(2, pcall(function() local n = s.count(s.sem) end)))
            ngx.say(select(2, pcall(s.post, {})))
            ngx.say(select(2, pcall(s.wait, s, "x")))
            jit.on()
        }
    }
--- request
GET /t
--- response_body_like chomp
\Atrue true nil timeout 0
4 4
-1
true true 0
content_by_lua\(\w+\.conf:\d+\):20: positive number required
content_by_lua\(\w+\.conf:\d+\):21: no negative number
content_by_lua\(\w+\.conf:\d+\):22: not a semaphore instance
not a semaphore instance
\S*ngx/semaphore\.lua:\d+: attempt to perform arithmetic on a nil value
\z
--- no_error_log
[error]



=== TEST 4: the JIT off before the module loads: the same answers
--- http_config
    init_by_lua_block {
        jit.off()
        package.loaded.sema_jit_off = require("ngx.semaphore")
    }
--- config
    location /t {
        content_by_lua_block {
            local semaphore = package.loaded.sema_jit_off
            local function result(th) return tostring(select(2, ngx.thread.wait(th))) end
            local s = semaphore.new(1)
            ngx.say(s:wait(0), " ", select(2, s:wait(0)), " ", s:post(2), " ", s:count())
            local th = ngx.thread.spawn(function() return s:wait(5) end)
            local th2 = ngx.thread.spawn(function() return s:wait(5) end)
            local th3 = ngx.thread.spawn(function() return s:wait(5) end)
            ngx.say(s:count())
            s:post()
            ngx.say(result(th), " ", result(th2), " ", result(th3))
            ngx.say(select(2, pcall(function() s:post(-1) end)))
            jit.on()
        }
    }
--- request
GET /t
--- response_body_like chomp
\Atrue timeout true 2
-1
true true true
content_by_lua\(\w+\.conf:\d+\):12: positive number required
\z
--- no_error_log
[error]



=== TEST 5: the JIT off before the module loads: the methods are the C functions, which cost less interpreted
--- moongate_only
lua-resty-core's methods are Lua functions whatever the JIT does.
--- http_config
    init_by_lua_block {
        jit.off()
        package.loaded.sema_jit_off = require("ngx.semaphore")
        jit.on()
    }
--- config
    location /t {
        content_by_lua_block {
            local semaphore = package.loaded.sema_jit_off
            ngx.say(debug.getinfo(semaphore.wait, "S").what, " ",
                    debug.getinfo(semaphore.post, "S").what, " ",
                    debug.getinfo(semaphore.count, "S").what)
        }
    }
--- request
GET /t
--- response_body
C C C



=== TEST 6: the module loaded again (package.loaded cleared): its declarations taken again, its methods work
--- config
    location /t {
        content_by_lua_block {
            local a = require "ngx.semaphore"
            package.loaded["ngx.semaphore"] = nil
            local b = require "ngx.semaphore"
            local s, t = b.new(1), a.new(0)
            ngx.say(a ~= b, " ", s:wait(0), " ", s:post(), " ", s:count(), " ", t:post(2),
                    " ", t:count(), " ", debug.getinfo(b.wait, "S").what)
        }
    }
--- request
GET /t
--- response_body
true true true 1 true 2 Lua



=== TEST 7: loading the module again (each request under lua_code_cache off) leaves nothing behind in the registry; its semaphores still wait and wake
--- config
    location /t {
        content_by_lua_block {
            local function entries()
                collectgarbage()
                collectgarbage()
                local n = 0
                for _ in pairs(debug.getregistry()) do n = n + 1 end
                return n
            end
            require "ngx.semaphore"
            local before = entries()
            local semaphore
            for _ = 1, 20 do
                package.loaded["ngx.semaphore"] = nil
                semaphore = require "ngx.semaphore"
            end
            local grown = entries() - before
            local s = semaphore.new(0)
            local th = ngx.thread.spawn(function() return s:wait(5) end)
            s:post()
            ngx.say(grown, " ", (select(2, ngx.thread.wait(th))))
        }
    }
--- request
GET /t
--- response_body
0 true
