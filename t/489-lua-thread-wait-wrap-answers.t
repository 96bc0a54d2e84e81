# What ngx.thread.wait and a coroutine.wrap function answer when there is nothing to run, as
# lua-nginx-module does:
# - ngx.thread.wait passes over an argument waited for (or killed) already, unless it is the
#   last one: then it answers nil, "already waited or killed" at once, even while a thread
#   named before it still runs (that one is not waited for).
# - a coroutine.wrap function that cannot resume its coroutine (dead, running, normal)
#   returns false and "cannot resume <status> coroutine" rather than raising it; an argument
#   that is no Lua function is refused with "bad argument #1 to '?' (Lua function expected)".
#   Where no coroutine is scheduled (init_by_lua, the filters) wrap is Lua's own, which raises.
# lua-nginx-module also leaves a thread named in a wait that answered at once marked, so that
# its end later resumes whatever its parent then waits for (another ngx.thread.wait, even an
# ngx.sleep); moongate does not, and these blocks avoid that case.
#
#   prove -I t/lib t/489-lua-thread-wait-wrap-answers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/489-lua-thread-wait-wrap-answers.t

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

=== TEST 1: a thread waited for already: alone, last after a running one, first before one
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local z = ngx.thread.spawn(function() return "z" end)
            show("wait", ngx.thread.wait(z))
            show("again", ngx.thread.wait(z))
            local a = ngx.thread.spawn(function() ngx.sleep(0.001) return "a" end)
            show("running, waited", ngx.thread.wait(a, z))
            show("status", coroutine.status(a))
            show("waited, running", ngx.thread.wait(z, a))
            show("waited twice", ngx.thread.wait(z, z))
        }
    }
--- request
GET /t
--- response_body
wait: true z
again: nil already waited or killed
running, waited: nil already waited or killed
status: running
waited, running: true a
waited twice: nil already waited or killed



=== TEST 2: a killed thread is passed over the same way; a zombie before it still answers
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local k = ngx.thread.spawn(function() ngx.sleep(0.01) return "k" end)
            show("kill", ngx.thread.kill(k))
            local z = ngx.thread.spawn(function() return "z" end)
            show("zombie, killed", ngx.thread.wait(z, k))
            local r = ngx.thread.spawn(function() ngx.sleep(0.001) return "r" end)
            show("killed, running", ngx.thread.wait(k, r))
            show("killed, waited", ngx.thread.wait(k, z))
        }
    }
--- request
GET /t
--- response_body
kill: 1
zombie, killed: true z
killed, running: true r
killed, waited: nil already waited or killed



=== TEST 3: a dead coroutine.wrap function returns false and the reason, also under pcall
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local f = coroutine.wrap(function(x) return x end)
            show("first", f(1))
            show("dead", f())
            show("dead", pcall(f, 2))
            local g = coroutine.wrap(function() coroutine.yield("y") ngx.sleep(0.001) end)
            show("yield", g())
            show("end", g())
            show("dead", g())
            show("nested", pcall(function()
                local w = coroutine.wrap(function() end)
                w()
                return w()
            end))
        }
    }
--- request
GET /t
--- response_body
first: 1
dead: false cannot resume dead coroutine
dead: true false cannot resume dead coroutine
yield: y
end: 
dead: false cannot resume dead coroutine
nested: true false cannot resume dead coroutine



=== TEST 4: a wrap function called while its coroutine runs, waits or resumes another one
--- config
    location /t {
        content_by_lua_block {
            SHOW
            local w
            w = coroutine.wrap(function() show("self", w()) return "w" end)
            show("w", w())
            local outer, inner
            outer = coroutine.wrap(function() return inner() end)
            inner = coroutine.wrap(function() show("outer", outer()) return "inner" end)
            show("outer", outer())
            local sl = coroutine.wrap(function() ngx.sleep(0.001) return "slept" end)
            local t = ngx.thread.spawn(function() return sl() end)
            show("sleeping", sl())
            show("thread", ngx.thread.wait(t))
        }
    }
--- request
GET /t
--- response_body
self: false cannot resume running coroutine
w: w
outer: false cannot resume normal coroutine
outer: inner
sleeping: false cannot resume running coroutine
thread: true slept



=== TEST 5: coroutine.wrap of what is no Lua function
--- config
    location /t {
        content_by_lua_block {
            SHOW
            show("number", pcall(coroutine.wrap, 1))
            show("C function", pcall(coroutine.wrap, print))
            show("thread", pcall(function() return coroutine.wrap(coroutine.create(print)) end))
        }
    }
--- request
GET /t
--- response_body_like chomp
\Anumber: false bad argument #1 to '\?' \(Lua function expected\)
C function: false bad argument #1 to '\?' \(Lua function expected\)
thread: false content_by_lua\(\w+\.conf:\d+\):10: bad argument #1 to 'create' \(Lua function expected\)
\z



=== TEST 6: where no coroutine is scheduled (init_by_lua, a filter) wrap is Lua's own: a dead one raises
--- http_config
    init_by_lua_block {
        local f = coroutine.wrap(function() return 1 end)
        f()
        INIT_DEAD = {pcall(f)}
        INIT_NUMBER = {pcall(coroutine.wrap, 1)}
    }
--- config
    location /t {
        header_filter_by_lua_block {
            local f = coroutine.wrap(function() return 1 end)
            f()
            local r = {pcall(f)}
            ngx.header["X-Dead"] = tostring(r[1]) .. ", " .. tostring(r[2])
        }
        content_by_lua_block {
            ngx.say("init: ", tostring(INIT_DEAD[1]), ", ", INIT_DEAD[2])
            ngx.say("init: ", tostring(INIT_NUMBER[1]), ", ", INIT_NUMBER[2])
        }
    }
--- request
GET /t
--- response_headers
X-Dead: false, cannot resume dead coroutine
--- response_body
init: false, cannot resume dead coroutine
init: false, bad argument #1 to '?' (function expected, got number)
