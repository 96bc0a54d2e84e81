# Which ngx.* and coroutine.* functions each phase refuses, and how, found differing from
# OpenResty's in a side-by-side run with Debian's nginx and its Lua module (0.10.23): the
# coroutine API in set/log/balancer_by_lua and init_worker_by_lua, subrequests in
# server_rewrite_by_lua, ngx.exit and ngx.status in balancer_by_lua, and the words of a
# refusal where OpenResty has a fake request (timers, init_worker_by_lua).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/759-lua-diff-phase-api.t

use Test::Moongate;

log_level('info');
plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: coroutine.create/wrap are refused in set_by_lua and allowed in the filters
--- config
    location /t {
        set_by_lua_block $r {
            local out = {}
            for _, f in ipairs({coroutine.create, coroutine.wrap}) do
                local ok, err = pcall(f, function() end)
                out[#out + 1] = tostring(ok) .. " " .. tostring(err):gsub("^.-:%d+: ", "")
            end
            return table.concat(out, "|")
        }
        header_filter_by_lua_block {
            local co = coroutine.create(function(a) coroutine.yield(a + 1) end)
            local _, v = coroutine.resume(co, 1)
            ngx.header["X-Co"] = v .. " " .. coroutine.status(co)
        }
        return 200 "$r\n";
    }
--- request
GET /t
--- response_headers
X-Co: 2 suspended
--- response_body
false API disabled in the context of set_by_lua*|false API disabled in the context of set_by_lua*



=== TEST 2: coroutine.wrap in log_by_lua fails the code with the caller's line and `wrap` in the traceback
--- config
    location /t {
        log_by_lua_block {
            local f = coroutine.wrap(function() end)
            ngx.log(ngx.WARN, "not reached")
        }
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/\[error\] .*failed to run log_by_lua\*: log_by_lua\(\w+\.conf:\d+\):2: API disabled in the context of log_by_lua\*$/,
 qr/^\t\[C\]: in function 'wrap'$/]
--- no_error_log
not reached



=== TEST 3: coroutine.create in init_worker_by_lua is refused; coroutine.running is not
--- http_config
    init_worker_by_lua_block {
        local ok, err = pcall(coroutine.create, function() end)
        ngx.log(ngx.WARN, "co: ", ok, " ", err, " ", coroutine.running())
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log
co: false API disabled in the context of init_worker_by_lua* nil



=== TEST 4: ngx.location.capture is refused in server_rewrite_by_lua: a 500
--- config
    server_rewrite_by_lua_block {
        if ngx.var.uri == "/t" then
            ngx.location.capture("/sub")
        end
    }
    location = /sub { return 200 "sub\n"; }
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- error_code: 500
--- error_log eval
[qr/lua entry thread aborted: runtime error: server_rewrite_by_lua\(\w+\.conf:\d+\):3: API disabled in the context of server_rewrite_by_lua\*$/,
 qr/^\t\[C\]: in function 'capture'$/]



=== TEST 5: ngx.exit in balancer_by_lua returns and the code goes on: ngx.OK keeps the peer it then sets, a status makes the try a 500
--- http_config
    upstream ok_up {
        server 127.0.0.1:1;
        balancer_by_lua_block {
            ngx.exit(ngx.OK)
            ngx.log(ngx.WARN, "after exit ok")
            require("ngx.balancer").set_current_peer("127.0.0.1", $TEST_NGINX_SERVER_PORT)
        }
    }
    upstream st_up {
        server 127.0.0.1:1;
        balancer_by_lua_block {
            ngx.exit(403)
            ngx.log(ngx.WARN, "after exit 403")
            require("ngx.balancer").set_current_peer("127.0.0.1", $TEST_NGINX_SERVER_PORT)
        }
    }
--- config
    location = /back { return 200 "back\n"; }
    location = /ok { proxy_pass http://ok_up/back; }
    location = /st { proxy_pass http://st_up/back; }
--- request eval
["GET /ok", "GET /st"]
--- error_code eval
[200, 500]
--- response_body_like eval
["^back\n\$", "500 Internal Server Error"]
--- error_log
after exit ok
after exit 403
--- no_error_log
connect() failed



=== TEST 6: ngx.status may be set in balancer_by_lua; the response's status is the upstream's
--- http_config
    upstream b_up {
        server 127.0.0.1:1;
        balancer_by_lua_block {
            ngx.status = 201
            ngx.log(ngx.WARN, "status now ", ngx.status)
            require("ngx.balancer").set_current_peer("127.0.0.1", $TEST_NGINX_SERVER_PORT)
        }
    }
--- config
    location = /back { return 200 "back\n"; }
    location = /t { proxy_pass http://b_up/back; }
--- request
GET /t
--- response_body
back
--- error_log
status now 201



=== TEST 7: in a timer, functions of request data say "API disabled in the current context", the others name ngx.timer
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local out = {}
                local function try(name, f)
                    local ok, err = pcall(f)
                    out[#out + 1] = name .. ": " .. tostring(err):gsub("^.-:%d+: ", "")
                end
                try("get_method", ngx.req.get_method)
                try("get_headers", function() return ngx.req.get_headers() end)
                try("var", function() return ngx.var.uri end)
                try("header", function() return ngx.header.foo end)
                try("status", function() ngx.status = 200 end)
                try("status_read", function() return ngx.status end)
                try("headers_sent", function() return ngx.headers_sent end)
                try("send_headers", ngx.send_headers)
                try("say", function() ngx.say("x") end)
                ngx.log(ngx.WARN, "timer: ", table.concat(out, "; "))
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
timer: get_method: API disabled in the current context; get_headers: API disabled in the current context; var: API disabled in the current context; header: API disabled in the current context; status: API disabled in the current context; status_read: API disabled in the current context; headers_sent: API disabled in the current context; send_headers: API disabled in the context of ngx.timer; say: API disabled in the context of ngx.timer



=== TEST 8: ngx.arg outside set_by_lua and body_filter_by_lua: "API disabled in the current context", as lua-resty-core words it
--- config
    location /t {
        rewrite_by_lua_block {
            local ok, err = pcall(function() return ngx.arg[1] end)
            ngx.ctx.r = tostring(ok) .. " " .. err:gsub("^.-:%d+: ", "")
        }
        content_by_lua_block {
            local ok, err = pcall(function() return ngx.arg[1] end)
            ngx.say(ngx.ctx.r)
            ngx.say(ok, " ", (err:gsub("^.-:%d+: ", "")))
        }
    }
--- request
GET /t
--- response_body
false API disabled in the current context
false API disabled in the current context



=== TEST 9: init_by_lua has no request: the request APIs say "no request found"
--- http_config
    init_by_lua_block {
        local out = {}
        for _, f in ipairs({function() return ngx.req.get_headers() end,
                            function() ngx.req.set_header("a", "b") end,
                            function() ngx.sleep(0.1) end,
                            function() return ngx.var.uri end,
                            function() return ngx.socket.tcp() end}) do
            local ok, err = pcall(f)
            out[#out + 1] = tostring(ok) .. " " .. tostring(err):gsub("^.-:%d+: ", "")
        end
        init_result = table.concat(out, "|")
    }
--- config
    location /t { content_by_lua_block { ngx.say(init_result) } }
--- request
GET /t
--- response_body
false no request found|false no request found|false no request found|false no request found|false no request found



=== TEST 10: ngx.req.start_time in a timer and in init_worker_by_lua: 0, OpenResty's fake request has no start time
--- http_config
    init_worker_by_lua_block {
        ngx.log(ngx.WARN, "worker start_time: ", ngx.req.start_time())
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "timer start_time: ", ngx.req.start_time())
            end)
            ngx.say(ngx.req.start_time() > 0)
        }
    }
--- request
GET /t
--- response_body
true
--- error_log
worker start_time: 0,
timer start_time: 0,
