# lua-nginx-module API pieces: ngx.send_headers, ngx.HTTP_NOT_IMPLEMENTED, ngx.worker.pids,
# ngx.decode_base64mime (newer OpenResty's), ngx.config.*.
#
#   prove -I t/lib t/433-lua-ngx-extras.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/433-lua-ngx-extras.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: ngx.send_headers sends the head with the status and headers set so far
--- config
    location /a {
        content_by_lua_block {
            ngx.status = 201
            ngx.header["X-Foo"] = "bar"
            local before = ngx.headers_sent
            local ok, err = ngx.send_headers()
            ngx.header["X-Late"] = "late"
            ngx.say(tostring(before), " ", ok, " ", tostring(err), " ", tostring(ngx.headers_sent))
            ngx.say(ngx.send_headers())
        }
    }
--- request
GET /a
--- error_code: 201
--- response_headers
X-Foo: bar
!X-Late
--- response_body
false 1 nil true
1
--- error_log
attempt to set ngx.header.HEADER after sending out response headers



=== TEST 2: ngx.send_headers then ngx.flush(true): the head reaches the client before the end
--- config
    location /a {
        content_by_lua_block {
            ngx.send_headers()
            ngx.flush(true)
            ngx.sleep(0.05)
            ngx.say("done")
        }
    }
--- request
GET /a
--- response_body
done



=== TEST 3: ngx.HTTP_NOT_IMPLEMENTED and ngx.HTTP_METHOD_NOT_IMPLEMENTED
--- config
    location /a {
        content_by_lua_block {
            ngx.say(ngx.HTTP_NOT_IMPLEMENTED, " ", ngx.HTTP_METHOD_NOT_IMPLEMENTED)
        }
    }
--- request
GET /a
--- response_body
501 501



=== TEST 4: ngx.worker.pids without a master: this process
--- config
    location /a {
        content_by_lua_block {
            local pids = ngx.worker.pids()
            ngx.say(#pids, " ", pids[1] == ngx.worker.pid())
        }
    }
--- request
GET /a
--- response_body
1 true



=== TEST 5: ngx.worker.pids with a master and two workers: both, this one among them
--- main_config
master_process on;
worker_processes 2;
--- config
    location /a {
        content_by_lua_block {
            -- a request can reach the first worker before the master forked the second:
            -- wait (bounded) for the list to fill rather than count on start-up order
            local pids = ngx.worker.pids()
            for _ = 1, 200 do
                if #pids >= ngx.worker.count() then break end
                ngx.sleep(0.025)
                pids = ngx.worker.pids()
            end
            local mine = false
            for _, p in ipairs(pids) do
                if p == ngx.worker.pid() then mine = true end
            end
            ngx.say(#pids, " ", mine, " ", ngx.worker.count())
        }
    }
--- request
GET /a
--- response_body
2 true 2



=== TEST 6: ngx.decode_base64mime skips what is not base64 (newer OpenResty; not in 0.10.23)
--- moongate_only
--- config
    location /a {
        content_by_lua_block {
            ngx.say(ngx.decode_base64mime("aGVs\r\nbG8g\r\nd29y bGQ="))
            ngx.say(ngx.decode_base64mime("aGVsbG8"))
            ngx.say(tostring(ngx.decode_base64mime("a")))
            ngx.say(ngx.decode_base64mime("") == "")
        }
    }
--- request
GET /a
--- response_body
hello world
hello
nil
true



=== TEST 7: ngx.config
--- config
    location /a {
        content_by_lua_block {
            ngx.say(ngx.config.subsystem, " ", ngx.config.ngx_lua_version, " ",
                    ngx.config.nginx_version, " ", type(ngx.config.debug), " ",
                    type(ngx.config.prefix()), " ", type(ngx.config.nginx_configure()))
        }
    }
--- request
GET /a
--- response_body
http 10023 1022001 boolean string string
