# OpenResty's Test::Nginx::Socket with master_on() and two workers: the harness stops the
# server with QUIT between blocks, and shutdown_error_log sees what the workers log while they
# leave (premature timers, exit_worker_by_lua); no_shutdown_error_log; a timer's lines with
# lua-nginx-module's context ("*N", ", context: ngx.timer", the creating request's client and
# server). Run by `make test-nginx`.

use Cwd ();
use File::Basename ();
BEGIN {
    $ENV{TEST_NGINX_BINARY} ||= Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..')
        . '/objs/moongate';
    if (!eval { require Test::Nginx::Socket; 1 }) {
        print "1..0 # SKIP Test::Nginx::Socket not on \@INC (make test-nginx TEST_NGINX_LIB=...)\n";
        exit 0;
    }
}
use Test::Nginx::Socket 'no_plan';

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a pending timer runs with premature=true when the server is stopped
--- config
    location = /t {
        content_by_lua_block {
            ngx.timer.at(60, function(premature)
                ngx.log(ngx.WARN, "left early: ", premature, " by ", ngx.worker.pid())
            end)
            ngx.say("armed")
        }
    }
--- request
GET /t
--- response_body
armed
--- shutdown_error_log eval
qr/\[warn\] (\d+)#\1: \*\d+ \[lua\] content_by_lua\(nginx\.conf:\d+\):\d+: left early: true by \1, context: ngx\.timer, client: 127\.0\.0\.1, server: 0\.0\.0\.0:\d+$/m

=== TEST 2: exit_worker_by_lua in both workers; no_shutdown_error_log for what must not appear
--- http_config
    exit_worker_by_lua_block {
        ngx.log(ngx.NOTICE, "bye from worker #", ngx.worker.id())
    }
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- shutdown_error_log eval
[qr/bye from worker #0/, qr/bye from worker #1/]
--- no_shutdown_error_log
[error]
[alert]

=== TEST 3: a timer made by init_worker_by_lua: its lines say the context, no client
--- http_config
    init_worker_by_lua_block {
        if ngx.worker.id() == 0 then
            ngx.timer.at(0, function() ngx.log(ngx.WARN, "worker timer ran") end)
        end
    }
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[warn\] \d+#\d+: \*\d+ \[lua\] init_worker_by_lua\(nginx\.conf:\d+\):\d+: worker timer ran, context: ngx\.timer$/m

=== TEST 4: an error in a timer's callback: the aborted thread's line with the timer's context
--- config
    location = /t {
        content_by_lua_block {
            ngx.timer.at(0, function() error("boom in timer") end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- wait: 0.2
--- error_log eval
[qr/\[error\] \d+#\d+: \*\d+ lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):2: boom in timer$/m,
 qr/^\tcontent_by_lua\(nginx\.conf:\d+\):2: in function <content_by_lua\(nginx\.conf:\d+\):2>, context: ngx\.timer, client: 127\.0\.0\.1, server: 0\.0\.0\.0:\d+$/m]
