# Found by running the same configs on OpenResty's module (Debian's nginx) and moongate:
# lua-nginx-module directives moongate refused as unknown. access_by_lua_no_postpone on runs
# access_by_lua before the other access handlers (deny all), lua_use_default_type off leaves a
# Lua response without the default Content-Type, lua_regex_match_limit bounds pcre's
# backtracking and the ngx.re functions then answer "pcre_exec() failed: -8" as documented;
# lua_socket_send_lowat is read and, as nginx does on Linux, warned about; require "ngx.req"
# (lua-resty-core's module with add_header) was not found.
#
#   prove -I t/lib t/942-diff-lua-directives.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/942-diff-lua-directives.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: access_by_lua_no_postpone on: Lua's access code runs before "deny all"
--- http_config
    access_by_lua_no_postpone on;
--- config
    location /t { deny all; access_by_lua_block { ngx.say("lua first") ngx.exit(200) } }
--- request
GET /t
--- response_body
lua first



=== TEST 2: ... and off (the default) after it
--- config
    location /t { deny all; access_by_lua_block { ngx.say("lua first") ngx.exit(200) } }
--- request
GET /t
--- error_code: 403



=== TEST 3: lua_use_default_type off: no Content-Type unless the code sets one
--- config
    default_type text/x-default;
    location /off { lua_use_default_type off; content_by_lua_block { ngx.say("off") } }
    location /set { lua_use_default_type off; content_by_lua_block { ngx.header.content_type = "text/y" ngx.say("set") } }
    location /on { content_by_lua_block { ngx.say("on") } }
--- request eval
["GET /off", "GET /set", "GET /on"]
--- response_headers eval
["!Content-Type", "Content-Type: text/y", "Content-Type: text/x-default"]



=== TEST 4: lua_regex_match_limit: a backtracking match stops with "pcre_exec() failed: -8"
--- http_config
    lua_regex_match_limit 5;
--- config
    location /t {
        content_by_lua_block {
            local s = string.rep("ab", 20) .. "xc"
            local m, err = ngx.re.match(s, "(a|ab)*c")
            ngx.say(tostring(m), " ", err)
            m, err = ngx.re.match(s, "(a|ab)*c", "jo")
            ngx.say(tostring(m), " ", err)
            m, err = ngx.re.match("xab", "a(b)")
            ngx.say(m[1], " ", tostring(err))
        }
    }
--- request
GET /t
--- response_body
nil pcre_exec() failed: -8
nil pcre_exec() failed: -8
b nil



=== TEST 5: lua_socket_send_lowat is read (a warning: Linux has no SO_SNDLOWAT), the server runs
--- config
    lua_socket_send_lowat 1k;
    location /t { content_by_lua_block { ngx.say("up") } }
--- request
GET /t
--- response_body
up



=== TEST 6: require "ngx.req" (lua-resty-core): add_header adds request lines, none replaced
--- config
    location /t {
        access_by_lua_block {
            local req = require "ngx.req"
            req.add_header("X-A", "two")
            req.add_header("X-B", {"b1", 2})
        }
        content_by_lua_block {
            local h = ngx.req.get_headers()
            ngx.say(table.concat(h["x-a"], ","), " ", table.concat(h["x-b"], ","), " ", type(require("ngx.req").version))
        }
    }
--- request
GET /t
--- more_headers
X-A: one
--- response_body
one,two b1,2 string
