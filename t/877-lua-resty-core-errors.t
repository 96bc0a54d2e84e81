# Errors of functions lua-resty-core writes in Lua name its file and line on OpenResty, and a
# user's pcall gets that text (issue 12): ngx.arg outside set_by_lua and body_filter_by_lua
# (resty/core/param.lua), ngx.req.is_internal (resty/core/misc.lua) and ngx.resp.add_header
# (ngx/resp.lua) in a timer. moongate names the file package.path finds for the module (the
# one OpenResty would have loaded), else the module's relative name. And the context of a
# static file's filter lines (phasediff's last status/log cells): "while sending response to
# client", as nginx's static handler sets it.
#
#   prove -I t/lib t/877-lua-resty-core-errors.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/877-lua-resty-core-errors.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: ngx.arg in content_by_lua: resty/core/param.lua's line, not the caller's
--- config
    location /t {
        content_by_lua_block {
            ngx.say(select(2, pcall(function() local a = ngx.arg[1] end)))
            ngx.say(select(2, pcall(function() local a = ngx.arg[2] end)))
        }
    }
--- request
GET /t
--- response_body_like chomp
\A\S*resty/core/param\.lua:\d+: API disabled in the current context
\S*resty/core/param\.lua:\d+: API disabled in the current context
\z



=== TEST 2: in a timer: is_internal's resty/core/misc.lua, add_header's ngx/resp.lua
--- config
    location /t {
        content_by_lua_block {
            local out
            ngx.timer.at(0, function()
                out = {
                    select(2, pcall(function() local i = ngx.req.is_internal() end)),
                    select(2, pcall(function() require("ngx.resp").add_header("X-A", "1") end)),
                    select(2, pcall(function() local a = ngx.arg[1] end)),
                }
            end)
            for _ = 1, 200 do
                if out then break end
                ngx.sleep(0.01)
            end
            ngx.say(table.concat(out or {"timer did not run"}, "\n"))
        }
    }
--- request
GET /t
--- response_body_like chomp
\A\S*resty/core/misc\.lua:\d+: API disabled in the current context
\S*ngx/resp\.lua:\d+: API disabled in the current context
\S*resty/core/param\.lua:\d+: API disabled in the current context
\z



=== TEST 3: no file on package.path: the module's relative name and lua-resty-core 0.1.25's line
--- moongate_only
--- http_config
    lua_package_path "/nonexistent/?.lua";
--- config
    location /t {
        content_by_lua_block {
            ngx.say(select(2, pcall(function() local a = ngx.arg[1] end)))
        }
    }
--- request
GET /t
--- response_body
resty/core/param.lua:93: API disabled in the current context



=== TEST 4: in init_by_lua, no request: "no request found" from the same files
--- http_config
    init_by_lua_block {
        init_errors = {
            select(2, pcall(function() local a = ngx.arg[1] end)),
            select(2, pcall(function() local i = ngx.req.is_internal() end)),
            select(2, pcall(function() require("ngx.resp").add_header("X-A", "1") end)),
        }
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(table.concat(init_errors, "\n"))
        }
    }
--- request
GET /t
--- response_body_like chomp
\A\S*resty/core/param\.lua:81: no request found
\S*resty/core/misc\.lua:175: no request found
\S*resty/core/response\.lua:106: no request found
\z



=== TEST 5: a static file's filters log "while sending response to client", as nginx's handler sets
--- user_files
>>> f.txt
f
--- config
    location = /f.txt {
        header_filter_by_lua_block { ngx.log(ngx.ERR, "in header filter") }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                ngx.status = 201
                ngx.header["X-A"] = "1"
            end
        }
    }
--- request
GET /f.txt
--- response_body
f
--- grep_error_log eval
qr/(in header filter|attempt to set ngx\.[a-z]+(\.HEADER)? after sending out response headers)[^,]*,/
--- grep_error_log_out
in header filter while sending response to client,
attempt to set ngx.status after sending out response headers while sending response to client,
attempt to set ngx.header.HEADER after sending out response headers while sending response to client,
