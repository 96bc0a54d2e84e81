# The lines of a timer's and of init_worker_by_lua's code, found differing from OpenResty's in
# a side-by-side run with Debian's nginx and its Lua module (0.10.23): OpenResty runs them on
# a fake connection, so they carry a connection number and ", context: ngx.timer" (with the
# client and listening address of the request that made the timer) or ", context:
# init_worker_by_lua*".
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/761-lua-diff-timer-log.t

use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: a timer made by a request: its ngx.log lines and its error name the timer, the client and the listening address
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "in the timer")
                error("timer failed")
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/\[warn\] \d+#\d+: \*\d+ \[lua\] content_by_lua\(\w+\.conf:\d+\):3: in the timer, context: ngx\.timer, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+$/,
 qr/\[error\] \d+#\d+: \*\d+ lua entry thread aborted: runtime error: content_by_lua\(\w+\.conf:\d+\):4: timer failed$/,
 qr/^\tcontent_by_lua\(\w+\.conf:\d+\):\d+: in function <content_by_lua\(\w+\.conf:\d+\):\d+>, context: ngx\.timer, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+$/]



=== TEST 2: init_worker_by_lua's lines, and a timer it made (no client then)
--- http_config
    init_worker_by_lua_block {
        ngx.log(ngx.WARN, "worker starts")
        ngx.timer.at(0, function() ngx.log(ngx.WARN, "worker timer") end)
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/\[warn\] \d+#\d+: \*\d+ \[lua\] init_worker_by_lua\(\w+\.conf:\d+\):2: worker starts, context: init_worker_by_lua\*$/,
 qr/\[warn\] \d+#\d+: \*\d+ \[lua\] init_worker_by_lua\(\w+\.conf:\d+\):3: worker timer, context: ngx\.timer$/]
