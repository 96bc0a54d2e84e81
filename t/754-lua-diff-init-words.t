# Lua differences found in a side-by-side run with Debian's nginx and its Lua module (0.10.23):
# in init_by_lua, where there is no request, each of lua-nginx-module's C functions words the
# refusal its own way ("no request object found", "request object not found", "no request"),
# the timer counts refuse too and an ngx.arg assignment does nothing; a failing worker hook
# logs "init_worker_by_lua error:"; balancer_by_lua's code runs outside any coroutine.
# (The functions lua-resty-core gives in Lua, which say "no request found", are in t/759.)
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/754-lua-diff-init-words.t

use Test::Moongate;

log_level('info');
plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: init_by_lua: the words of each C function's refusal, the counts refused, ngx.arg[1] = v a no-op
--- http_config
    init_by_lua_block {
        local calls = {
            {"say", function() ngx.say("x") end},
            {"print", function() ngx.print("x") end},
            {"eof", function() ngx.eof() end},
            {"exec", function() ngx.exec("/x") end},
            {"redirect", function() ngx.redirect("/x") end},
            {"capture", function() ngx.location.capture("/x") end},
            {"capture_multi", function() ngx.location.capture_multi({{"/x"}}) end},
            {"get_post_args", function() ngx.req.get_post_args() end},
            {"set_uri_args", function() ngx.req.set_uri_args("a=b") end},
            {"raw_header", function() ngx.req.raw_header() end},
            {"http_version", function() ngx.req.http_version() end},
            {"resp.get_headers", function() ngx.resp.get_headers() end},
            {"read_body", function() ngx.req.read_body() end},
            {"discard_body", function() ngx.req.discard_body() end},
            {"get_body_data", function() ngx.req.get_body_data() end},
            {"get_body_file", function() ngx.req.get_body_file() end},
            {"set_body_data", function() ngx.req.set_body_data("x") end},
            {"timer.at", function() ngx.timer.at(0, function() end) end},
            {"timer.every", function() ngx.timer.every(1, function() end) end},
            {"running_count", function() local n = ngx.timer.running_count() return n end},
            {"pending_count", function() local n = ngx.timer.pending_count() return n end},
            {"arg[1] =", function() ngx.arg[1] = "x" end},
        }
        local out = {}
        for _, c in ipairs(calls) do
            local ok, err = pcall(c[2])
            out[#out + 1] = c[1] .. ": " .. tostring(ok) .. " " .. tostring(err):gsub("^.-:%d+: ", "")
        end
        init_result = table.concat(out, "\n")
    }
--- config
    location /t { content_by_lua_block { ngx.say(init_result) } }
--- request
GET /t
--- response_body
say: false no request object found
print: false no request object found
eof: false no request object found
exec: false no request object found
redirect: false no request object found
capture: false no request object found
capture_multi: false no request object found
get_post_args: false no request object found
set_uri_args: false no request object found
raw_header: false no request object found
http_version: false no request object found
resp.get_headers: false no request object found
read_body: false request object not found
discard_body: false request object not found
get_body_data: false request object not found
get_body_file: false request object not found
set_body_data: false request object not found
timer.at: false no request
timer.every: false no request
running_count: false no request
pending_count: false no request
arg[1] =: true nil



=== TEST 2: an error in init_worker_by_lua is logged as "init_worker_by_lua error:" with its traceback, and the worker serves
--- http_config
    init_worker_by_lua_block {
        ngx.log(ngx.WARN, "before the error")
        error("worker hook failed")
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/\[error\] .*: init_worker_by_lua error: init_worker_by_lua\(\w+\.conf:\d+\):3: worker hook failed$/,
 qr/^\t\[C\]: in function 'error'$/,
 qr/before the error/]
--- no_error_log
failed to run



=== TEST 3: coroutine.running() in balancer_by_lua is nil: the code runs on the VM's main thread
--- http_config
    upstream up {
        server 127.0.0.1:1;
        balancer_by_lua_block {
            local co = coroutine.running()
            ngx.log(ngx.WARN, "balancer coroutine: ", tostring(co), " ", type(co))
            require("ngx.balancer").set_current_peer("127.0.0.1", $TEST_NGINX_SERVER_PORT)
        }
    }
--- config
    location = /back {
        content_by_lua_block { ngx.say(type(coroutine.running())) }
    }
    location = /t { proxy_pass http://up/back; }
--- request
GET /t
--- response_body
thread
--- error_log
balancer coroutine: nil nil
