# How Lua errors are logged, found differing from OpenResty's in a side-by-side run with
# Debian's nginx and its Lua module (0.10.23): an error value that is no string (error(nil),
# error({})) is "unknown reason" (code run with lua_pcall gets no traceback then), and a
# coroutine's traceback names a C function it has no name for "?".
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/760-lua-diff-errors.t

use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: error(nil) and error({}) in content_by_lua: a 500, "unknown reason" with the coroutine's traceback
--- config
    location = /nil { content_by_lua_block { error(nil) } }
    location = /tab { content_by_lua_block { error({code = 1}) } }
--- request eval
["GET /nil", "GET /tab"]
--- error_code eval
[500, 500]
--- error_log eval
[qr/\[error\] .*lua entry thread aborted: runtime error: unknown reason$/,
 qr/^\t\[C\]: in function 'error'$/]
--- no_error_log
error object is



=== TEST 2: a header filter's error({}): "unknown reason" and no traceback
--- config
    location = /h {
        header_filter_by_lua_block { error({}) }
        return 200 "ok\n";
    }
--- request
GET /h
--- ignore_response
--- error_log eval
qr/\[error\] .*failed to run header_filter_by_lua\*: unknown reason, client: /
--- no_error_log
stack traceback



=== TEST 3: a log phase's error(nil): "unknown reason" and no traceback
--- config
    location = /l {
        log_by_lua_block { error(nil) }
        return 200 "ok\n";
    }
--- request
GET /l
--- response_body
ok
--- error_log eval
qr/\[error\] .*failed to run log_by_lua\*: unknown reason while logging request, client: /
--- no_error_log
stack traceback



=== TEST 4: error() with a string or a number keeps its text and position
--- config
    location = /s { rewrite_by_lua_block { error("boom") } }
    location = /n { access_by_lua_block { error(42) } }
--- request eval
["GET /s", "GET /n"]
--- error_code eval
[500, 500]
--- error_log eval
[qr/lua entry thread aborted: runtime error: rewrite_by_lua\(\w+\.conf:\d+\):1: boom$/,
 qr/lua entry thread aborted: runtime error: access_by_lua\(\w+\.conf:\d+\):1: 42$/]



=== TEST 5: a coroutine's traceback: a C function without a name (called in a tail call) is "[C]: ?"
--- config
    location = /t {
        content_by_lua_block {
            local _ = (function() return ngx.req.get_post_args() end)()
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log eval
[qr/lua entry thread aborted: runtime error: .*no request body found; maybe you should turn on lua_need_request_body\?$/,
 qr/^\t\[C\]: \?$/]
--- no_error_log
[C]: at 0x



=== TEST 6: error(nil) in balancer_by_lua: "unknown reason", no traceback, a 500
--- http_config
    upstream b {
        server 127.0.0.1:1;
        balancer_by_lua_block { error(nil) }
    }
--- config
    location = /t { proxy_pass http://b; }
--- request
GET /t
--- error_code: 500
--- error_log eval
qr/\[error\] .*failed to run balancer_by_lua\*: unknown reason while connecting to upstream, client: /
--- no_error_log
stack traceback
