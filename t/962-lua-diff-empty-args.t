# Empty query arguments are not absent ones: a rewrite to "/x?", ngx.exec("/x?"), a
# capture of "/x?", try_files "/x?" or ngx.req.set_uri_args("") leave $args "" where
# OpenResty reads it so; a bare "?" on the request line and empty Lua args options
# leave none (nil). Found in a side-by-side run with Debian's nginx and its Lua module.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/962-lua-diff-empty-args.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.req.set_uri_args with an empty table or string leaves empty arguments, not none
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_uri_args({})
        }
        content_by_lua_block {
            local v = ngx.var
            ngx.say(type(v.args), " [", v.args, "] [", v.query_string, "] [", v.is_args, "] ", v.request_uri)
            ngx.req.set_uri_args("")
            ngx.say(type(v.args), " [", v.args, "] [", v.is_args, "]")
        }
    }
--- pipelined_requests eval
["GET /t?a=1", "GET /t"]
--- response_body eval
["string [] [] [] /t?a=1\nstring [] []\n", "string [] [] [] /t\nstring [] []\n"]



=== TEST 2: ngx.exec and ngx.location.capture of "/x?" give empty arguments; empty args options none
--- config
    location /t {
        content_by_lua_block {
            ngx.print(ngx.location.capture("/x?").body)
            ngx.print(ngx.location.capture("/x?", {args = ""}).body)
            ngx.print(ngx.location.capture("/x?", {args = "b=2"}).body)
            ngx.print(ngx.location.capture("/x", {args = ""}).body)
            ngx.print(ngx.location.capture("/x", {args = {}}).body)
            ngx.print(ngx.location.capture("/x").body)
        }
    }
    location /e { content_by_lua_block { ngx.exec("/x?") } }
    location /e2 { content_by_lua_block { ngx.exec("/x", "") } }
    location /e3 { content_by_lua_block { ngx.exec("/x", {}) } }
    location /x {
        content_by_lua_block {
            ngx.say(type(ngx.var.args), " [", tostring(ngx.var.args), "] [", ngx.var.is_args, "] ", ngx.var.uri)
        }
    }
--- pipelined_requests eval
["GET /t?a=1", "GET /e?a=1", "GET /e", "GET /e2?a=1", "GET /e3?a=1", "GET /x?"]
--- response_body eval
["string [] [] /x\nstring [] [] /x\nstring [b=2] [?] /x\nnil [nil] [] /x\nnil [nil] [] /x\nnil [nil] [] /x\n",
 "string [] [] /x\n", "string [] [] /x\n", "nil [nil] [] /x\n", "nil [nil] [] /x\n", "nil [nil] [] /x\n"]



=== TEST 3: a rewrite ending in "?" empties arguments the request had; try_files "/x?" gives empty ones
--- config
    location /r { rewrite ^ /x?; }
    location /r3 { rewrite ^ /x?$arg_z; }
    location /tf { try_files /nonexistent /x?; }
    location /x {
        content_by_lua_block {
            ngx.say(type(ngx.var.args), " [", tostring(ngx.var.args), "] [", ngx.var.is_args, "] ", ngx.var.request_uri)
        }
    }
--- pipelined_requests eval
["GET /r?a=1", "GET /r", "GET /r3", "GET /tf", "GET /tf?a=1"]
--- response_body eval
["string [] [] /r?a=1\n", "nil [nil] [] /r\n", "string [] [] /r3\n", "string [] [] /tf\n", "string [] [] /tf?a=1\n"]



=== TEST 4: ngx.var.args = "" and set $args "" leave empty arguments, ngx.var.args = nil none
--- config
    location /t {
        set $args "";
        content_by_lua_block {
            local a = type(ngx.var.args)
            ngx.var.args = "b"
            ngx.var.args = ""
            local b = type(ngx.var.args)
            ngx.var.args = nil
            ngx.say(a, " ", b, " [", ngx.var.is_args, "] ", type(ngx.var.args))
        }
    }
--- request
GET /t?a=1
--- response_body
string string [] nil



=== TEST 5: get_uri_args and get_headers take their count as OpenResty's FFI does: a number or a boolean, not a string
--- config
    location /t {
        content_by_lua_block {
            local function n(t)
                local c = 0
                for _ in pairs(t) do c = c + 1 end
                return c
            end
            local function e(f, ...)
                local ok, r = pcall(f, ...)
                ngx.say(tostring(ok), " ", ok and n(r) or (tostring(r):gsub("^.-:%d+: ", "")))
            end
            e(ngx.req.get_uri_args, "3")
            e(ngx.req.get_uri_args, {})
            e(ngx.req.get_uri_args, true)
            e(ngx.req.get_uri_args, false)
            e(ngx.req.get_uri_args, 2.9)
            e(ngx.req.get_headers, "3")
            e(ngx.req.get_headers, true)
        }
    }
--- request
GET /t?a=1&b=2&c=3&d=4
--- response_body
false bad argument #2 to 'ngx_http_lua_ffi_req_get_uri_args_count' (cannot convert 'string' to 'int')
false bad argument #2 to 'ngx_http_lua_ffi_req_get_uri_args_count' (cannot convert 'table' to 'int')
true 1
true 4
true 2
false bad argument #2 to 'ngx_http_lua_ffi_req_get_headers_count' (cannot convert 'string' to 'int')
true 1
