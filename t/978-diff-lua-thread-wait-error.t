# ngx.thread.wait on a light thread that raised an error returns what OpenResty's returns:
# false, then every value the dead coroutine holds (the failing frame's), the error value
# last. So error("boom") gives false, "boom" and the message with its position: the usual
# `local ok, err = ngx.thread.wait(t)` sees "boom" itself.
#
#   prove -I t/lib t/978-diff-lua-thread-wait-error.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/978-diff-lua-thread-wait-error.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

run_tests();

__DATA__

=== TEST 1: a thread failing at once, one failing while its spawner waits, one failing before the wait
--- config
    location /t {
        content_by_lua_block {
            local function show(...)
                local n, out = select("#", ...), {}
                for i = 1, n do out[i] = tostring((select(i, ...))) end
                ngx.say(n, ": ", table.concat(out, " | "))
            end
            show(ngx.thread.wait(ngx.thread.spawn(function() error("at once") end)))
            show(ngx.thread.wait(ngx.thread.spawn(function() ngx.sleep(0.01) error("waited") end)))
            local t = ngx.thread.spawn(function() ngx.sleep(0.01) error("zombie") end)
            ngx.sleep(0.05)
            show(ngx.thread.wait(t))
            local ok, err = ngx.thread.wait(ngx.thread.spawn(function() error("idiom") end))
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
\A3: false \| at once \| content_by_lua\(\w+\.conf:\d+\):\d+: at once
3: false \| waited \| content_by_lua\(\w+\.conf:\d+\):\d+: waited
3: false \| zombie \| content_by_lua\(\w+\.conf:\d+\):\d+: zombie
false idiom
\z
--- error_log
lua user thread aborted: runtime error:



=== TEST 2: an error value that is not a string with a position added: false and the value alone
--- config
    location /t {
        content_by_lua_block {
            local function show(...)
                ngx.say(select("#", ...), ": ", tostring((select(1, ...))), " ", type((select(2, ...))))
            end
            show(ngx.thread.wait(ngx.thread.spawn(function() ngx.sleep(0.01) error({}) end)))
            show(ngx.thread.wait(ngx.thread.spawn(function() error("level 0", 0) end)))
            show(ngx.thread.wait(ngx.thread.spawn(function() ngx.sleep(0.01) error() end)))
        }
    }
--- request
GET /t
--- response_body
2: false table
2: false string
2: false nil
