# The cached clock is brought up to date when a thread pool's finished task wakes the loop
# (core/thread_pool.c; a resolver's answer too, core/resolver.c), as when a socket does
# (core/watch.c): nginx updates its time after every wait for events.  A Lua function that
# spins for 0.5 s in a pool thread (ngx.run_worker_thread) while nothing else wakes the
# worker: ngx.now() after it, and the request's $request_time, count the 0.5 s.
#
#   prove -I t/lib t/781-clock-thread-pool.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/781-clock-thread-pool.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

run_tests();

__DATA__

=== TEST 1: ngx.now() and $request_time after a 0.5 s task in a pool thread
--- main_config
thread_pool work threads=1;
--- http_config
    lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
    log_format rt '$request_time';
--- config
    location = /t {
        access_log logs/rt.log rt;
        content_by_lua_block {
            local t0 = ngx.now()
            local ok, n = ngx.run_worker_thread("work", "spin", "spin", 0.5)
            ngx.say(ok, " ", ngx.now() - t0 >= 0.45)
        }
    }
    location = /x { return 200 "x\n"; }
--- user_files
>>> spin.lua
local _M = {}
function _M.spin(sec)
    local stop, x = os.clock() + sec, 0
    while os.clock() < stop do x = x + 1 end
    return x
end
return _M
--- init
my ($r, $l) = get_logged('/t', 'rt.log');
Test::More::like($r, qr/\ntrue true\n/, 'TEST 1: ngx.now() moved on');
Test::More::cmp_ok($l, '>=', 0.45, 'TEST 1: $request_time counts the task');
--- request
GET /x
--- response_body
x
