# lua_sa_restart (http, default on): the worker's signal handlers restart interrupted system
# calls, so a blocking read of Lua code survives a signal the worker handles (USR1 here,
# which only reopens the logs); off: the read is cut short with EINTR.
#
#   prove -I t/lib t/443-lua-sa-restart.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/443-lua-sa-restart.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: on by default: a pipe read during a USR1 to the worker goes on
--- config
    location /t {
        content_by_lua_block {
            local pid = ngx.worker.pid()
            -- the signal comes while the read below blocks (1 s after popen: room for a loaded
            -- machine to reach the read), the read ends 1 s later
            local f = io.popen("(sleep 1; kill -USR1 " .. pid .. ") & sleep 2; echo done")
            ngx.say(f:read("*l"))
            f:close()
        }
    }
--- request
GET /t
--- timeout: 10
--- response_body
done



=== TEST 2: off: the same read fails with EINTR
--- http_config
    lua_sa_restart off;
--- config
    location /t {
        content_by_lua_block {
            local pid = ngx.worker.pid()
            local f = io.popen("(sleep 1; kill -USR1 " .. pid .. ") & sleep 2; echo done")
            ngx.say(f:read("*l"))
            f:close()
        }
    }
--- request
GET /t
--- timeout: 10
--- response_body
nilInterrupted system call4



=== TEST 3: a flag, at the http{} level only
--- config
    lua_sa_restart on;
--- must_die
--- error_log
"lua_sa_restart" directive is not allowed here
