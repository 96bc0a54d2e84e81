# ngx.on_abort and ngx.eof where lua-nginx-module 0.10.23 (Debian's nginx) answers before
# it checks the context: on_abort gives nil and "lua_check_client_abort is off" (or
# "duplicate call") in set, filter and log code; ngx.eof after the Lua output ended gives
# nil and "seen eof". Found in a side-by-side run.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/928-lua-diff-filter-calls.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: with lua_check_client_abort off, ngx.on_abort answers nil and why in every context; ngx.eof after the end "seen eof"
--- http_config
    init_by_lua_block {
        function show(...)
            local t = {...}
            for i = 1, select('#', ...) do t[i] = tostring(t[i]) end
            return table.concat(t, ",")
        end
    }
--- config
    location /t {
        set_by_lua_block $x { return show(pcall(ngx.on_abort, function() end)) }
        content_by_lua_block { ngx.say("set ", ngx.var.x) }
        header_filter_by_lua_block {
            ngx.header.X = show(pcall(ngx.on_abort, function() end))
        }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                ngx.arg[1] = (ngx.arg[1] or "") .. "body filter " .. show(pcall(ngx.on_abort, function() end))
                             .. "\neof " .. show(pcall(ngx.eof)) .. "\n"
            end
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "log: ", show(pcall(ngx.on_abort, function() end)), " ", show(pcall(ngx.eof)))
        }
    }
--- request
GET /t
--- response_headers
X: true,nil,lua_check_client_abort is off
--- response_body
set true,nil,lua_check_client_abort is off
body filter true,nil,lua_check_client_abort is off
eof true,nil,seen eof
--- error_log
log: true,nil,lua_check_client_abort is off true,nil,seen eof



=== TEST 2: with it on, the context is refused in a filter; after a registration in content, a duplicate call
--- http_config
    lua_check_client_abort on;
    init_by_lua_block {
        function show(...)
            local t = {...}
            for i = 1, select('#', ...) do t[i] = tostring(t[i]) end
            return table.concat(t, ",")
        end
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("hi") }
        header_filter_by_lua_block {
            ngx.header.X = show(pcall(ngx.on_abort, function() end))
        }
    }
    location /d {
        content_by_lua_block { ngx.on_abort(function() end) ngx.say("hi") }
        header_filter_by_lua_block {
            ngx.header.X = show(pcall(ngx.on_abort, function() end))
        }
    }
--- pipelined_requests eval
["GET /t", "GET /d"]
--- response_headers eval
["X: false,API disabled in the context of header_filter_by_lua*", "X: true,nil,duplicate call"]
--- response_body eval
["hi\n", "hi\n"]



=== TEST 3: ngx.eof in a body filter of a response not made by Lua is refused
--- config
    location /t {
        return 200 "hi\n";
        header_filter_by_lua_block { ngx.header.content_length = nil }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                local ok, err = pcall(ngx.eof)
                ngx.arg[1] = tostring(ok) .. " " .. err .. "\n"
            end
        }
    }
--- request
GET /t
--- response_body
false API disabled in the context of body_filter_by_lua*
