# Timers, sleeping, cosockets and other utilities found differing from OpenResty's in a
# side-by-side run with Debian's nginx and its Lua module.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/929-lua-diff-misc.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.sleep's error names the duration in whole milliseconds; less than one below zero sleeps no time
--- config
    location /t {
        content_by_lua_block {
            for _, s in ipairs({-1, -0.5, -2.7, -0.0009}) do
                local ok, err = pcall(ngx.sleep, s)
                ngx.say(s, " ", tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")))
            end
        }
    }
--- request
GET /t
--- response_body
-1 false invalid sleep duration "-1000"
-0.5 false invalid sleep duration "-500"
-2.7 false invalid sleep duration "-2700"
-0.0009 true nil



=== TEST 2: ngx.timer.at and ngx.timer.every want a Lua function, and say so
--- config
    location /t {
        content_by_lua_block {
            for _, f in ipairs({"x", print}) do
                local ok, err = pcall(ngx.timer.at, 1, f)
                ngx.say(tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")))
                ok, err = pcall(ngx.timer.every, 1, f)
                ngx.say(tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")))
            end
            ngx.say(ngx.timer.pending_count())
        }
    }
--- request
GET /t
--- response_body
false bad argument #2 to '?' (Lua function expected)
false bad argument #2 to '?' (Lua function expected)
false bad argument #2 to '?' (Lua function expected)
false bad argument #2 to '?' (Lua function expected)
0



=== TEST 3: ngx.thread and coroutine argument errors read as OpenResty's; a C function is refused
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.create(function() end)
            local function e(f, ...)
                local r = {pcall(f, ...)}
                ngx.say(tostring(r[1]), " ", tostring(r[2]), " ", tostring(r[3]))
            end
            e(ngx.thread.wait, "x")
            e(ngx.thread.kill, "x")
            e(ngx.thread.wait, co)
            e(ngx.thread.kill, co)
            e(ngx.thread.spawn, print)
            e(coroutine.create, print)
            e(coroutine.create, "x")
        }
    }
--- request
GET /t
--- response_body
false bad argument #1 to '?' (lua thread expected) nil
false bad argument #1 to '?' (lua thread expected) nil
false attempt to wait on a coroutine that is not a user thread nil
true nil not user thread
false bad argument #1 to '?' (Lua function expected) nil
false bad argument #1 to '?' (Lua function expected) nil
false bad argument #1 to '?' (Lua function expected) nil
