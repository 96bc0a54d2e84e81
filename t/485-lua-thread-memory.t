# Light threads and coroutines that ended are freed as soon as nothing can name them (waited
# for, killed, a spawner that ended, a user coroutine that returned): the worker's settled size
# stays bounded over 200k spawn+wait in one request or in one timer (a background job looping
# in ngx.timer.at), threads ending at once or after a yield. nginx's lua module keeps each
# thread's or coroutine's record until the request (or timer) ends: 51 MB over 200k here, so
# these blocks are moongate's.
#
#   prove -I t/lib t/485-lua-thread-memory.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $Rss = <<'EOL';
local function rss()
    collectgarbage()
    collectgarbage()
    local f = io.open("/proc/self/statm")
    local pages = f:read("*n") and f:read("*n")
    f:close()
    return pages * 4096
end
local function bounded(what, loop, n)
    loop(20000) -- the allocators' pools grown once
    local before = rss()
    loop(n)
    local grown = rss() - before
    return what .. ": " .. tostring(grown < 8 * 1024 * 1024 or grown)
end
EOL

# ASan keeps freed memory in its quarantine, so the process's size says nothing about frees there
add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    $config =~ s/RSS/$Rss/;
    $block->set_value(config => $config);
    $block->set_value(moongate_skip => 'memory is not measured under a sanitizer')
        if $ENV{ASAN_OPTIONS};
    $block->set_value(moongate_only => 1);
});

run_tests();

__DATA__

=== TEST 1: spawn+wait in one request: threads that end at once, after a yield, a sleep, an error
--- config
    location /t {
        content_by_lua_block {
            RSS
            local s = require("ngx.semaphore").new(0)
            local function now() return 1 end
            local function later() s:wait(1) return 2 end
            local function fails() s:wait(1) error("x", 0) end
            local function naps() ngx.sleep(0) end
            ngx.say(bounded("at once", function(n)
                for i = 1, n do ngx.thread.wait(ngx.thread.spawn(now)) end
            end, 200000))
            ngx.say(bounded("yielded", function(n)
                for i = 1, n do
                    local t = ngx.thread.spawn(later)
                    s:post()
                    ngx.thread.wait(t)
                end
            end, 200000))
            ngx.say(bounded("slept", function(n)
                for i = 1, n do ngx.thread.wait(ngx.thread.spawn(naps)) end
            end, 100000))
            ngx.say(bounded("failed", function(n)
                for i = 1, n do
                    local t = ngx.thread.spawn(fails)
                    s:post()
                    ngx.thread.wait(t)
                end
            end, 20000))
        }
    }
--- request
GET /t
--- response_body
at once: true
yielded: true
slept: true
failed: true
--- timeout: 60



=== TEST 2: zombies killed, threads killed asleep or in a wait, children of ended threads, user coroutines
--- config
    location /t {
        content_by_lua_block {
            RSS
            local function now() return 1 end
            local function sleeps() ngx.sleep(100) end
            local function parent() ngx.thread.spawn(now) end
            local function gen() coroutine.yield(1) return 2 end
            ngx.say(bounded("zombie killed", function(n)
                for i = 1, n do ngx.thread.kill(ngx.thread.spawn(now)) end
            end, 200000))
            ngx.say(bounded("killed asleep", function(n)
                for i = 1, n do ngx.thread.kill(ngx.thread.spawn(sleeps)) end
            end, 100000))
            local s, ended = require("ngx.semaphore").new(0), 0
            local function child() s:wait(100) ended = ended + 1 end
            local function waits() ngx.thread.wait(ngx.thread.spawn(child)) end
            ngx.say(bounded("killed in a wait", function(n)
                ended = 0
                for i = 1, n do
                    ngx.thread.kill(ngx.thread.spawn(waits))
                    if i % 1000 == 0 then
                        s:post(1000) -- the children, orphans now, end (a bounded number live)
                        for _ = 1, 10000 do
                            if ended == i then break end
                            ngx.sleep(0.001)
                        end
                    end
                end
            end, 100000))
            ngx.say(bounded("orphans", function(n)
                for i = 1, n do ngx.thread.wait(ngx.thread.spawn(parent)) end
            end, 200000))
            ngx.say(bounded("coroutines", function(n)
                for i = 1, n do
                    local f = coroutine.wrap(gen)
                    f()
                    f()
                end
            end, 200000))
        }
    }
--- request
GET /t
--- response_body
zombie killed: true
killed asleep: true
killed in a wait: true
orphans: true
coroutines: true
--- timeout: 60



=== TEST 3: a timer's loop of spawn+wait (a background job) stays bounded
--- http_config
    lua_shared_dict result 64k;
--- config
    location /t {
        content_by_lua_block {
            local ok, err = ngx.timer.at(0, function()
                RSS
                local s = require("ngx.semaphore").new(0)
                local function later() s:wait(1) return 2 end
                ngx.shared.result:set("r", bounded("timer", function(n)
                    for i = 1, n do
                        local t = ngx.thread.spawn(later)
                        s:post()
                        ngx.thread.wait(t)
                    end
                end, 200000))
            end)
            for _ = 1, 600 do
                local r = ngx.shared.result:get("r")
                if r then
                    ngx.say(r)
                    return
                end
                ngx.sleep(0.05)
            end
            ngx.say("the timer did not finish")
        }
    }
--- request
GET /t
--- response_body
timer: true
--- timeout: 60
