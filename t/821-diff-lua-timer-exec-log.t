# A differential audit with an OpenResty-style gateway config, as Debian's nginx 1.22 with its
# lua module logs it: a timer's lines end with ", context: ngx.timer" and the client and
# server of the request that created it (a timer created by a timer keeps them, one from
# init_worker has none), under a connection number of its own; ngx.exec to a named location
# with arguments warns that they are ignored.
#
#   prove -I t/lib t/821-diff-lua-timer-exec-log.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/821-diff-lua-timer-exec-log.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

log_level('info');

run_tests();

__DATA__

=== TEST 1: a timer from a request: its context, client and server
--- config
    location = /t {
        content_by_lua_block {
            ngx.timer.at(0, function() ngx.log(ngx.NOTICE, "from the timer") end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[notice\] \d+#\d+: \*\d+ \[lua\] content_by_lua\(moongate\.conf:\d+\):2: from the timer, context: ngx\.timer, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+$/



=== TEST 2: a timer's own connection number, not the request's
--- config
    location = /t {
        content_by_lua_block {
            ngx.timer.at(0, function() ngx.log(ngx.NOTICE, "numbered") end)
            ngx.log(ngx.NOTICE, "the request")
            ngx.sleep(0.01) -- the 0 timer runs first: its line is in before the response
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- grep_error_log eval
qr/\*\d+ \[lua\] content_by_lua\(moongate\.conf:\d+\):\d: (?:numbered|the request)/
--- grep_error_log_out eval
qr/^\*(\d+) \[lua\] content_by_lua\(moongate\.conf:\d+\):3: the request\n\*(?!\1\b)\d+ \[lua\] content_by_lua\(moongate\.conf:\d+\):2: numbered\n\z/



=== TEST 3: a timer created by a timer keeps the request's client and server
--- config
    location = /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                ngx.timer.at(0, function() ngx.log(ngx.NOTICE, "second timer") end)
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/second timer, context: ngx\.timer, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+$/



=== TEST 4: a timer from init_worker: the context alone
--- http_config
    init_worker_by_lua_block {
        ngx.timer.at(0, function() ngx.log(ngx.NOTICE, "worker timer") end)
    }
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[lua\] init_worker_by_lua\(moongate\.conf:\d+\):2: worker timer, context: ngx\.timer$/



=== TEST 5: ngx.exec to a named location with arguments: they are ignored, with a warning
--- config
    location = /t { content_by_lua_block { ngx.exec("@named", "a=1&b=2") } }
    location @named { content_by_lua_block { ngx.say("named args=", ngx.var.args) } }
--- request
GET /t?orig=1
--- response_body
named args=orig=1
--- error_log eval
qr/\[warn\] .*query strings a=1&b=2 ignored when exec'ing named location \@named, client: 127\.0\.0\.1, server: localhost, request: "GET \/t\?orig=1 HTTP\/1\.1", host: "localhost"$/
