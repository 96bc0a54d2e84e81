# ngx.thread.wait and ngx.thread.kill on light threads that ended, as lua-nginx-module answers:
# a thread that ended unwaited is a "zombie" that keeps its results for one wait; after that
# wait (or a kill of the zombie) it is gone: "already waited or killed". moongate frees such a
# thread at once (coroutine.c release), so these blocks also show that a freed thread still
# answers as it should, a garbage collection in between: only its parent may wait for it,
# coroutine.status says "dead". A thread killed while it waits for its own child is not run
# again when that child ends; one waiting for I/O or for a thread is "running".
#
#   prove -I t/lib t/484-lua-thread-reap.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/484-lua-thread-reap.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $Show = <<'EOL';
local function show(tag, ...)
    local n, out = select("#", ...), {}
    for i = 1, n do out[i] = tostring((select(i, ...))) end
    ngx.say(tag, ": ", table.concat(out, " "))
end
EOL

add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    $config =~ s/SHOW/$Show/;
    $block->set_value(config => $config);
});

run_tests();

__DATA__

=== TEST 1: a zombie gives its results to one wait; then it is dead and waited for
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local z = ngx.thread.spawn(function() return "z1", "z2" end)
            show("status", coroutine.status(z))
            show("wait", ngx.thread.wait(z))
            collectgarbage()
            show("status", coroutine.status(z))
            show("wait", ngx.thread.wait(z))
            show("kill", ngx.thread.kill(z))
            local e = ngx.thread.spawn(function() ngx.sleep(0.001) error("boom", 0) end)
            show("wait", ngx.thread.wait(e))
            collectgarbage()
            show("wait", ngx.thread.wait(e))
        }
    }
--- request
GET /t
--- response_body
status: zombie
wait: true z1 z2
status: dead
wait: nil already waited or killed
kill: nil already waited or killed
wait: false boom
wait: nil already waited or killed
--- error_log
boom



=== TEST 2: killing a zombie drops its results: a later wait finds nothing
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local z = ngx.thread.spawn(function() return "x" end)
            show("kill", ngx.thread.kill(z))
            collectgarbage()
            show("wait", ngx.thread.wait(z))
            show("kill", ngx.thread.kill(z))
            show("status", coroutine.status(z))
        }
    }
--- request
GET /t
--- response_body
kill: nil already terminated
wait: nil already waited or killed
kill: nil already waited or killed
status: dead



=== TEST 3: a killed thread: dead, and neither wait nor kill finds it again
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local s = ngx.thread.spawn(function() ngx.sleep(0.01) return "s" end)
            show("kill", ngx.thread.kill(s))
            show("status", coroutine.status(s))
            show("kill", ngx.thread.kill(s))
            show("wait", ngx.thread.wait(s))
            ngx.sleep(0.03)
            show("wait", ngx.thread.wait(s))
        }
    }
--- request
GET /t
--- response_body
kill: 1
status: dead
kill: nil already waited or killed
wait: nil already waited or killed
wait: nil already waited or killed



=== TEST 4: only the parent may wait for or kill a thread, also once it was waited for
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local c = ngx.thread.spawn(function() return "c" end)
            local live = ngx.thread.spawn(function() ngx.sleep(0.01) end)
            show("wait", ngx.thread.wait(c))
            collectgarbage()
            local o = ngx.thread.spawn(function()
                show("other waits", pcall(ngx.thread.wait, c))
                show("other kills", ngx.thread.kill(c))
                show("other kills", ngx.thread.kill(live))
            end)
            ngx.thread.wait(o)
            show("wait", ngx.thread.wait(live))
        }
    }
--- request
GET /t
--- response_body
wait: true c
other waits: false only the parent coroutine can wait on the thread
other kills: nil killer not parent
other kills: nil killer not parent
wait: true



=== TEST 5: waiting for several: the first to end; one already waited for is passed over
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local z = ngx.thread.spawn(function() return "z" end)
            show("wait", ngx.thread.wait(z))
            local a = ngx.thread.spawn(function() ngx.sleep(0.02) return "a" end)
            local b = ngx.thread.spawn(function() ngx.sleep(0.001) return "b" end)
            show("wait", ngx.thread.wait(z, a, b))
            show("status", coroutine.status(b))
            show("wait", ngx.thread.wait(a, a))
            show("status", coroutine.status(a), coroutine.status(b))
        }
    }
--- request
GET /t
--- response_body
wait: true z
wait: true b
status: dead
wait: true a
status: dead dead



=== TEST 6: a thread killed while it waits for its child is not run again when the child ends
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local inner
            local k = ngx.thread.spawn(function()
                inner = ngx.thread.spawn(function() ngx.sleep(0.02) return "inner" end)
                show("k waited", ngx.thread.wait(inner))
            end)
            ngx.sleep(0.001)
            show("kill", ngx.thread.kill(k))
            ngx.sleep(0.05)
            show("status", coroutine.status(inner))
        }
    }
--- request
GET /t
--- response_body
kill: 1
status: dead



=== TEST 7: a thread's zombie child is dead once the thread ended, its live one when it ends
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local z, l
            local p = ngx.thread.spawn(function()
                z = ngx.thread.spawn(function() return "z" end)
                l = ngx.thread.spawn(function() ngx.sleep(0.01) return "l" end)
                ngx.sleep(0.001)
                return "p"
            end)
            show("wait", ngx.thread.wait(p))
            show("status", coroutine.status(z))
            show("wait", pcall(ngx.thread.wait, z))
            ngx.sleep(0.03)
            collectgarbage()
            show("status", coroutine.status(l))
        }
    }
--- request
GET /t
--- response_body
wait: true p
status: dead
wait: false only the parent coroutine can wait on the thread
status: dead



=== TEST 8: a user coroutine that ended stays dead for resume and status
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local u = coroutine.create(function(x) return x + 1 end)
            show("resume", coroutine.resume(u, 1))
            collectgarbage()
            show("status", coroutine.status(u))
            show("resume", coroutine.resume(u))
            show("wait", pcall(ngx.thread.wait, u))
            show("kill", ngx.thread.kill(u))
            local gen = coroutine.wrap(function() coroutine.yield(1) end)
            show("wrap", gen(), gen())
        }
    }
--- request
GET /t
--- response_body
resume: true 2
status: dead
resume: false cannot resume dead coroutine
wait: false attempt to wait on a coroutine that is not a user thread
kill: nil not user thread
wrap: 1



=== TEST 9: a thread or coroutine waiting for I/O or for a thread is "running", as nginx says
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local sleeper = ngx.thread.spawn(function() ngx.sleep(0.02) end)
            local u = coroutine.create(function() ngx.sleep(0.02) end)
            local resumer = ngx.thread.spawn(function() coroutine.resume(u) end)
            local waiter = ngx.thread.spawn(function()
                ngx.thread.wait(ngx.thread.spawn(function() ngx.sleep(0.02) end))
            end)
            show("status", coroutine.status(sleeper), coroutine.status(u),
                 coroutine.status(resumer), coroutine.status(waiter))
            ngx.thread.wait(sleeper)
            ngx.thread.wait(resumer)
            ngx.thread.wait(waiter)
            show("status", coroutine.status(sleeper), coroutine.status(u),
                 coroutine.status(resumer), coroutine.status(waiter))
        }
    }
--- request
GET /t
--- response_body
status: running running normal running
status: dead dead dead dead



=== TEST 10: ngx.exit from a thread, with zombies, orphans, waiting threads and coroutines about
--- config
    location /t {
        content_by_lua_block {
            local z = ngx.thread.spawn(function() return 1 end)
            local p = ngx.thread.spawn(function()
                ngx.thread.spawn(function() ngx.sleep(0.01) end)
                ngx.thread.spawn(function() return 2 end)
                return 3
            end)
            local w = ngx.thread.spawn(function()
                local c = ngx.thread.spawn(function() ngx.sleep(0.01) end)
                ngx.thread.wait(c)
            end)
            local u = coroutine.wrap(function()
                local t = ngx.thread.spawn(function() ngx.sleep(0.005) return 4 end)
                coroutine.yield(1)
                return ngx.thread.wait(t)
            end)
            u()
            ngx.thread.spawn(function() ngx.sleep(0.003) ngx.say("exit") ngx.exit(200) end)
            ngx.sleep(0.1)
            ngx.say("not reached")
        }
    }
--- request
GET /t
--- response_body
exit



=== TEST 11: an entry error, with zombies, live threads and a coroutine under one
--- config
    location /t {
        content_by_lua_block {
            ngx.thread.spawn(function() return 1 end)
            ngx.thread.spawn(function() ngx.sleep(0.01) end)
            local co = coroutine.create(function() ngx.sleep(0.01) end)
            ngx.thread.spawn(function() coroutine.resume(co) end)
            error("entry fails")
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
entry fails



=== TEST 12: threads and coroutines nested 6 deep, each level freed in turn
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            local function level(n)
                if n == 0 then ngx.sleep(0.001) return 0 end
                local t = ngx.thread.spawn(level, n - 1)
                local co = coroutine.wrap(function() coroutine.yield(n) ngx.sleep(0.001) return n end)
                local a = co()
                local ok, r = ngx.thread.wait(t)
                local b = co()
                return r + a + b
            end
            for i = 1, 50 do
                local t = ngx.thread.spawn(level, 6)
                local ok, r = ngx.thread.wait(t)
                out[#out + 1] = r
            end
            collectgarbage()
            ngx.say(out[1], " ", out[50], " ", #out)
        }
    }
--- request
GET /t
--- response_body
42 42 50



=== TEST 13: ngx.on_abort registered by a thread that ended (and was freed) still runs when the client goes
--- config
    lua_check_client_abort on;
    location /t {
        content_by_lua_block {
            local t = ngx.thread.spawn(function()
                ngx.on_abort(function() ngx.log(ngx.ERR, "abort ran") ngx.exit(499) end)
                return 1
            end)
            ngx.thread.wait(t)
            collectgarbage()
            ngx.sleep(1)
        }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: x\r\n\r\n"
--- abort
--- timeout: 0.2
--- wait: 0.5
--- ignore_response
--- error_log
abort ran
