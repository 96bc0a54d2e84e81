# The phase x API matrix against Debian's nginx 1.22 and its Lua module (0.10.23 with
# lua-resty-core 0.1.25), from t/tools/phasediff.py (104 calls in 9 phases): where OpenResty
# has a fake request (a timer, init_worker_by_lua) ngx.is_subrequest refuses in its words and
# ngx.balancer's and ngx.ssl's functions answer nil and why, as in a request without an upstream
# or TLS; the words of ngx.socket.connect's refusal and of a yield in a filter name the lines
# OpenResty's do.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/867-lua-diff-phase-matrix.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.is_subrequest in a timer and in init_worker_by_lua: "API disabled in the current context"
--- http_config
    lua_shared_dict d 1m;
    init_worker_by_lua_block {
        local ok, err = pcall(function() return ngx.is_subrequest end)
        ngx.shared.d:set("iw", tostring(ok) .. " " .. tostring(err):gsub("^.-:%d+: ", ""))
    }
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            ngx.timer.at(0, function()
                local ok, err = pcall(function() return ngx.is_subrequest end)
                d:set("timer", tostring(ok) .. " " .. tostring(err):gsub("^.-:%d+: ", ""))
            end)
            for _ = 1, 400 do
                if d:get("timer") then break end
                ngx.sleep(0.005)
            end
            ngx.say("init_worker: ", d:get("iw"))
            ngx.say("timer: ", d:get("timer"))
            ngx.say("request: ", ngx.is_subrequest)
        }
    }
--- request
GET /t
--- response_body
init_worker: false API disabled in the current context
timer: false API disabled in the current context
request: false
--- no_error_log
[error]



=== TEST 2: ngx.balancer's and ngx.ssl's functions in a timer and in init_worker_by_lua: nil and why, not an error
--- http_config
    lua_shared_dict d 1m;
    init_by_lua_block {
        function calls()
            local balancer, ssl = require "ngx.balancer", require "ngx.ssl"
            local out = {}
            for _, c in ipairs({
                {"set_current_peer", balancer.set_current_peer, "127.0.0.1", 1},
                {"set_more_tries", balancer.set_more_tries, 1},
                {"get_last_failure", balancer.get_last_failure},
                {"server_name", ssl.server_name},
                {"raw_client_addr", ssl.raw_client_addr},
            }) do
                local r = {pcall(c[2], c[3], c[4])}
                for i = 1, 4 do r[i] = tostring(r[i]) end
                out[#out + 1] = c[1] .. ": " .. table.concat(r, " ", 1, 4):gsub("^true ", ""):gsub("[^ ]*:%d+: ", "")
            end
            return table.concat(out, ", ")
        end
    }
    init_worker_by_lua_block {
        ngx.shared.d:set("iw", calls())
    }
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            ngx.timer.at(0, function() d:set("timer", calls()) end)
            for _ = 1, 400 do
                if d:get("timer") then break end
                ngx.sleep(0.005)
            end
            ngx.say("init_worker: ", d:get("iw"))
            ngx.say("timer: ", d:get("timer"))
            ngx.say("request: ", calls())
        }
    }
--- request
GET /t
--- response_body
init_worker: set_current_peer: nil no upstream found nil, set_more_tries: nil no upstream found nil, get_last_failure: nil nil no upstream found, server_name: nil bad request nil, raw_client_addr: nil nil bad request
timer: set_current_peer: nil no upstream found nil, set_more_tries: nil no upstream found nil, get_last_failure: nil nil no upstream found, server_name: nil bad request nil, raw_client_addr: nil nil bad request
request: set_current_peer: nil no upstream found nil, set_more_tries: nil no upstream found nil, get_last_failure: nil nil no upstream found, server_name: nil bad request nil, raw_client_addr: nil nil bad request
--- no_error_log
[error]



=== TEST 3: ngx.socket.connect refused: the refusal names the shortcut's line 1, as OpenResty's
--- config
    location /t {
        set_by_lua_block $r {
            local ok, err = pcall(ngx.socket.connect, "127.0.0.1", 1)
            return tostring(ok) .. " " .. tostring(err)
        }
        return 200 "$r\n";
    }
--- request
GET /t
--- response_body
false ngx.socket.connect:1: API disabled in the context of set_by_lua*



=== TEST 4: coroutine.yield in a filter's own code: LuaJIT's words with the caller's line
--- config
    location /t {
        header_filter_by_lua_block {
            local ok, err = pcall(function()
                coroutine.yield()
            end)
            ngx.header["X-Yield"] = tostring(ok) .. " " .. tostring(err):gsub("%(%w+%.conf:%d+%)", "")
        }
        return 200 "ok\n";
    }
--- request
GET /t
--- response_headers
X-Yield: false header_filter_by_lua:3: attempt to yield across C-call boundary
--- response_body
ok
