# OpenResty's Test::Nginx::Socket in TEST_NGINX_USE_HUP=1 mode against the server: one master
# for the whole file, each block's config loaded by USR1 (reopen the logs the harness just
# truncated) then HUP (reload), the harness checking its /ver location on the Test-Nginx
# server for the new config version; shared dicts that keep their zone keep their data across
# reloads; the old workers' exit lines are the previous block's shutdown_error_log.
# Run by `make test-nginx`.

use Cwd ();
use File::Basename ();
BEGIN {
    $ENV{TEST_NGINX_BINARY} ||= Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..')
        . '/objs/moongate';
    # read once when Test::Nginx::Util loads
    $ENV{TEST_NGINX_USE_HUP} = 1;
    if (!eval { require Test::Nginx::Socket; 1 }) {
        print "1..0 # SKIP Test::Nginx::Socket not on \@INC (make test-nginx TEST_NGINX_LIB=...)\n";
        exit 0;
    }
}
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the first config: a counter in a shared dict, the master's pid noted
--- http_config
    lua_shared_dict keep 1m;
--- config
    location = /t {
        content_by_lua_block {
            local n = ngx.shared.keep:incr("hits", 1, 0)
            ngx.shared.keep:set("master", ngx.worker.pid() and require("ngx.process").type())
            ngx.say("hits ", n)
        }
    }
--- request
GET /t
--- response_body
hits 1
--- no_error_log
[error]

=== TEST 2: after the reload the zone kept its data; the new location answers
--- http_config
    lua_shared_dict keep 1m;
--- config
    location = /t2 {
        content_by_lua_block {
            ngx.say("hits ", ngx.shared.keep:incr("hits", 1, 0), " ", ngx.shared.keep:get("master"))
        }
    }
--- request
GET /t2
--- response_body
hits 2 worker

=== TEST 3: a pending timer runs premature when the reload retires its worker
--- http_config
    lua_shared_dict keep 1m;
--- config
    location = /t {
        content_by_lua_block {
            ngx.timer.at(100, function(premature)
                ngx.log(ngx.WARN, "old timer premature=", premature)
            end)
            ngx.say("armed")
        }
    }
--- request
GET /t
--- response_body
armed
--- shutdown_error_log
old timer premature=true

=== TEST 4: init_worker_by_lua of the reloaded config runs in the new worker
--- http_config
    lua_shared_dict keep 1m;
    init_worker_by_lua_block {
        ngx.shared.keep:set("gen", "reloaded-" .. ngx.worker.id())
    }
--- config
    location = /t {
        content_by_lua_block {
            ngx.say(ngx.shared.keep:get("gen"))
        }
    }
--- request
GET /t
--- response_body
reloaded-0
