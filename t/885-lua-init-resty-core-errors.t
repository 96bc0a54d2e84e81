# In init_by_lua there is no request at all on OpenResty, and lua-resty-core's functions raise
# "no request found" from their own Lua files before anything else: a user's pcall there gets
# that file's line (resty/core/misc.lua:107: no request found), not the caller's (issue 12,
# as t/877 for ngx.arg and friends). And what lua-resty-core or lua-nginx-module check before
# the request: ngx.ctx's value type (resty/core/ctx.lua's line, in every phase), shdict incr's
# number (resty/core/shdict.lua's FFI conversion), ngx.timer.at's arguments.
#
#   prove -I t/lib t/885-lua-init-resty-core-errors.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/885-lua-init-resty-core-errors.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: ngx.status, ngx.header, ngx.headers_sent, ngx.is_subrequest: misc.lua's and response.lua's lines
--- http_config
    init_by_lua_block {
        local function e(f) return select(2, pcall(f)) end
        init_errors = {
            e(function() local s = ngx.status end),
            e(function() ngx.status = 201 end),
            e(function() local h = ngx.header["X-A"] end),
            e(function() ngx.header["X-A"] = "1" end),
            e(function() local s = ngx.headers_sent end),
            e(function() local s = ngx.is_subrequest end),
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
\A\S*resty/core/misc\.lua:207: no request found
\S*resty/core/misc\.lua:107: no request found
\S*resty/core/response\.lua:185: no request found
\S*resty/core/response\.lua:106: no request found
\S*resty/core/misc\.lua:151: no request found
\S*resty/core/misc\.lua:130: no request found
\z



=== TEST 2: ngx.var (read by name and by number, write), ngx.ctx (read, write), ngx.exit
--- http_config
    init_by_lua_block {
        local function e(f) return select(2, pcall(f)) end
        init_errors = {
            e(function() local v = ngx.var.uri end),
            e(function() local v = ngx.var[1] end),
            e(function() ngx.var.foo = "1" end),
            e(function() ngx.var.foo = nil end),
            e(function() local c = ngx.ctx end),
            e(function() ngx.ctx = {} end),
            e(function() ngx.exit(200) end),
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
\A\S*resty/core/var\.lua:71: no request found
\S*resty/core/var\.lua:71: no request found
\S*resty/core/var\.lua:111: no request found
\S*resty/core/var\.lua:111: no request found
\S*resty/core/ctx\.lua:71: no request found
\S*resty/core/ctx\.lua:129: no request found
\S*resty/core/exit\.lua:49: no request found
\z



=== TEST 3: ngx.req's get_headers, get_uri_args, get_method, set_method, clear_header, start_time
--- http_config
    init_by_lua_block {
        local function e(f) return select(2, pcall(f)) end
        init_errors = {
            e(function() ngx.req.get_headers() end),
            e(function() ngx.req.get_uri_args() end),
            e(function() ngx.req.get_method() end),
            e(function() ngx.req.set_method(ngx.HTTP_POST) end),
            e(function() ngx.req.clear_header("X-A") end),
            e(function() ngx.req.start_time() end),
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
\A\S*resty/core/request\.lua:125: no request found
\S*resty/core/request\.lua:199: no request found
\S*resty/core/request\.lua:286: no request found
\S*resty/core/request\.lua:315: no request found
\S*resty/core/request\.lua:433: no request found
\S*resty/core/request\.lua:60: no request found
\z



=== TEST 4: shdict incr's bad number names resty/core/shdict.lua, in init_by_lua and in a request
--- http_config
    lua_shared_dict d 1m;
    init_by_lua_block {
        init_errors = {
            select(2, pcall(function() ngx.shared.d:incr("k", "x") end)),
            select(2, pcall(function() ngx.shared.d:incr("k", nil) end)),
        }
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(table.concat(init_errors, "\n"))
            ngx.say(select(2, pcall(function() ngx.shared.d:incr("k", {}) end)))
            ngx.say(ngx.shared.d:incr("k", "2", 1))
        }
    }
--- request
GET /t
--- response_body_like chomp
\A\S*resty/core/shdict\.lua:760: cannot convert 'nil' to 'double'
\S*resty/core/shdict\.lua:760: cannot convert 'nil' to 'double'
\S*resty/core/shdict\.lua:760: cannot convert 'nil' to 'double'
3nilfalse
\z



=== TEST 5: ngx.ctx set to a non-table: resty/core/ctx.lua's line before the request, in init_by_lua and a request
--- http_config
    init_by_lua_block {
        init_error = select(2, pcall(function() ngx.ctx = 1 end))
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(init_error)
            ngx.say(select(2, pcall(function() ngx.ctx = "x" end)))
            ngx.ctx = {a = 1}
            ngx.say(ngx.ctx.a)
        }
    }
--- request
GET /t
--- response_body_like chomp
\A\S*resty/core/ctx\.lua:123: ctx should be a table while getting a number
\S*resty/core/ctx\.lua:123: ctx should be a table while getting a string
1
\z



=== TEST 6: ngx.timer.at/every in init_by_lua: the arguments are checked before the request
--- http_config
    init_by_lua_block {
        local function e(f) return (select(2, pcall(f))) end
        init_errors = {
            e(function() ngx.timer.at("x") end),
            e(function() ngx.timer.at() end),
            e(function() ngx.timer.at("x", function() end) end),
            e(function() ngx.timer.at(0, print) end),
            e(function() ngx.timer.every(0, function() end) end),
            e(function() ngx.timer.at(0, function() end) end),
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
\Ainit_by_lua\([^)]+\):\d+: expecting at least 2 arguments but got 1
init_by_lua\([^)]+\):\d+: expecting at least 2 arguments but got 0
init_by_lua\([^)]+\):\d+: bad argument #1 to 'at' \(number expected, got string\)
init_by_lua\([^)]+\):\d+: bad argument #2 to 'at' \(Lua function expected\)
init_by_lua\([^)]+\):\d+: delay cannot be zero
init_by_lua\([^)]+\):\d+: no request
\z
