# The *_by_lua* directives: inline strings, { } blocks (Lua's strings, long brackets and
# comments inside), files relative to the prefix and with variables, the order of the phases,
# init_by_lua / init_worker_by_lua, lua_package_path with ";;" and $prefix, runtime errors
# (500 and a traceback, the worker goes on), writes to globals, and syntax errors as config
# errors (moongate compiles at -t; nginx only when a request runs the code).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/400-lua-directives.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

use_bad_conf_blocks();
run_tests();

__DATA__

=== TEST 1: content_by_lua_block
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hello, ", "world")
        }
    }
--- request
GET /t
--- response_body
hello, world
--- response_headers
Content-Type: text/plain



=== TEST 2: braces inside strings, long strings and comments do not end a block
--- config
    location /t {
        content_by_lua_block {
            local t = { a = { "}" } }   -- a comment with } and {
            --[[ a long comment }}}
            ]]
            local s = [==[ ]] } ]==]
            ngx.say(t.a[1], '{', "}\"", s, #"{")
        }
    }
--- request
GET /t
--- response_body
}{}" ]] } 1



=== TEST 3: content_by_lua with a quoted string
--- config
    location /t {
        content_by_lua 'ngx.say("from a string")';
    }
--- request
GET /t
--- response_body
from a string



=== TEST 4: content_by_lua_file relative to the prefix
--- config
    location /t {
        content_by_lua_file html/hello.lua;
    }
--- user_files
>>> hello.lua
ngx.say("from a file")
--- request
GET /t
--- response_body
from a file



=== TEST 5: content_by_lua_file with a variable in the name
--- config
    location /t {
        content_by_lua_file html/$arg_name.lua;
    }
--- user_files
>>> one.lua
ngx.say("one")
>>> two.lua
ngx.say("two")
--- request eval
["GET /t?name=one", "GET /t?name=two"]
--- response_body eval
["one\n", "two\n"]



=== TEST 6: rewrite, access, content, header filter and log run in order, sharing ngx.ctx
--- config
    location /t {
        rewrite_by_lua_block { ngx.ctx.seen = "rewrite" }
        access_by_lua_block { ngx.ctx.seen = ngx.ctx.seen .. ",access" }
        content_by_lua_block { ngx.say(ngx.ctx.seen, ",content") }
        header_filter_by_lua_block { ngx.ctx.seen = ngx.ctx.seen .. ",header" }
        log_by_lua_block { ngx.log(ngx.WARN, "phases: ", ngx.ctx.seen, ",log") }
    }
--- request
GET /t
--- response_body
rewrite,access,content
--- error_log
phases: rewrite,access,header,log



=== TEST 7: rewrite_by_lua runs after the rewrite module's directives of its location
--- config
    location /t {
        rewrite_by_lua_block { ngx.say(ngx.var.a) }
        set $a "set ran first";
    }
--- request
GET /t
--- response_body
set ran first



=== TEST 8: ngx.get_phase in each phase
--- config
    location /t {
        rewrite_by_lua_block { ngx.ctx.p = ngx.get_phase() }
        access_by_lua_block { ngx.ctx.p = ngx.ctx.p .. " " .. ngx.get_phase() }
        content_by_lua_block { ngx.say(ngx.ctx.p, " ", ngx.get_phase()) }
        log_by_lua_block { ngx.log(ngx.WARN, "in ", ngx.get_phase(), " phase") }
    }
--- request
GET /t
--- response_body
rewrite access content
--- error_log
in log phase



=== TEST 9: init_by_lua_block state is seen by every request
--- http_config
    init_by_lua_block {
        config_table = { greeting = "hi from init" }
    }
--- config
    location /t {
        content_by_lua_block { ngx.say(config_table.greeting, " ", ngx.get_phase()) }
    }
--- request
GET /t
--- response_body
hi from init content
--- no_error_log
writing a global Lua variable



=== TEST 10: init_worker_by_lua_block runs in the worker
--- http_config
    init_worker_by_lua_block {
        ngx.log(ngx.WARN, "worker init, phase ", ngx.get_phase())
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok
--- error_log
worker init, phase init_worker



=== TEST 11: lua_package_path with $prefix and ";;", require of a module
--- http_config
    lua_package_path "$prefix/html/lib/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local m = require "greet"
            ngx.say(m.hello("you"))
            ngx.say(package.path:find("/html/lib/?.lua", 1, true) ~= nil)
        }
    }
--- user_files
>>> lib/greet.lua
local _M = {}
function _M.hello(who) return "hello, " .. who end
return _M
--- request
GET /t
--- response_body
hello, you
true



=== TEST 12: a runtime error gives 500 and a traceback
--- config
    location /t {
        content_by_lua_block {
            local function inner() local x = nil; return x.field end
            inner()
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
[qr/\[error\] .*lua entry thread aborted: runtime error: content_by_lua\(\w+\.conf:\d+\):2: attempt to index local 'x' \(a nil value\)/,
"stack traceback:",
"in function 'inner'"]



=== TEST 13: error() with a table value
--- config
    location /t {
        content_by_lua_block { error({}) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
lua entry thread aborted: runtime error



=== TEST 14: writing a global from a request is warned about
--- config
    location /t {
        content_by_lua_block { some_global = 42 ngx.say(some_global) }
    }
--- request
GET /t
--- response_body
42
--- error_log
writing a global Lua variable ('some_global') which may lead to race conditions between concurrent requests, so prefer the use of 'local' variables



=== TEST 15: header_filter_by_lua changes the status
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
        header_filter_by_lua_block { ngx.status = 201 }
    }
--- request
GET /t
--- error_code: 201
--- response_body
body



=== TEST 16: inherited rewrite/access handlers from the server level
--- config
    access_by_lua_block { ngx.ctx.from = "server" }
    location /t {
        content_by_lua_block { ngx.say("access at ", ngx.ctx.from) }
    }
--- request
GET /t
--- response_body
access at server



=== TEST 17: a Lua syntax error in a block is a config error naming file and line
--- moongate_only
--- bad_conf
location /t {
    content_by_lua_block {
        local x = = 1
    }
}
--- error_log eval
qr/\[emerg\] .*failed to load inlined Lua code: content_by_lua\(bad\.conf:2\):2: unexpected symbol near '=' in .*bad\.conf:2/



=== TEST 18: a Lua syntax error in a file is a config error naming the file and its line
--- moongate_only
--- bad_conf
location /t {
    content_by_lua_file html/broken.lua;
}
--- user_files
>>> broken.lua
local ok = 1
if ok then
--- error_log eval
qr/\[emerg\] .*failed to load Lua file ".*html\/broken\.lua": .*broken\.lua:3: 'end' expected \(to close 'if' at line 2\) near '<eof>' in .*bad\.conf:2/



=== TEST 19: an unclosed block reports the end of file, in nginx's words
--- bad_conf
location /t {
    content_by_lua_block {
        ngx.say("x")
--- error_log eval
qr/\[emerg\] .*unexpected end of file, expecting terminating characters for lua code block in .*bad\.conf/



=== TEST 20: content_by_lua twice in one location
--- bad_conf
location /t {
    content_by_lua_block { ngx.say(1) }
    content_by_lua_block { ngx.say(2) }
}
--- error_log eval
qr/\[emerg\] .*is duplicate in .*bad\.conf:3/



=== TEST 21: content_by_lua_block is not allowed at server level
--- bad_conf
content_by_lua_block { ngx.say(1) }
--- error_log eval
qr/\[emerg\] .*"content_by_lua_block" directive is not allowed here in .*bad\.conf:1/



=== TEST 22: init_by_lua error is a config error, logged at error level with its traceback as lua-nginx-module logs it when it starts
--- moongate_only: nginx -t does not run init_by_lua (the error shows only when it starts)
--- include_in: http
--- bad_conf
init_by_lua_block { error("init failed on purpose") }
--- error_log eval
[qr/\[error\] .*init_by_lua error: init_by_lua\(bad\.conf:1\):1: init failed on purpose$/,
 qr/^\t\[C\]: in function 'error'$/]



=== TEST 23: lua_code_cache off warns at startup and reloads the file per request
--- config
    location /t {
        lua_code_cache off;
        content_by_lua_file html/v.lua;
    }
    location /write {
        content_by_lua_block {
            local f = assert(io.open(ngx.var.document_root .. "/v.lua", "w"))
            f:write('ngx.say("version 2")')
            f:close()
            ngx.say("written")
        }
    }
--- user_files
>>> v.lua
ngx.say("version 1")
--- request eval
["GET /t", "GET /write", "GET /t"]
--- response_body eval
["version 1\n", "written\n", "version 2\n"]



=== TEST 24: lua_code_cache off is an alert in the error log
--- moongate_only
--- config
    location /t {
        lua_code_cache off;
        content_by_lua_block { ngx.say("dev mode") }
    }
--- request
GET /t
--- response_body
dev mode
--- error_log eval
qr/\[alert\] .*lua_code_cache is off; this will hurt performance in .*:\d+/



=== TEST 25: lua_code_cache off also loads required modules afresh
--- http_config
    lua_package_path "$prefix/html/?.lua;;";
--- config
    location /t {
        lua_code_cache off;
        content_by_lua_block { ngx.say(require("devmod").v) }
    }
    location /write {
        content_by_lua_block {
            local f = assert(io.open(ngx.var.document_root .. "/devmod.lua", "w"))
            f:write('return { v = "module 2" }')
            f:close()
            ngx.say("written")
        }
    }
--- user_files
>>> devmod.lua
return { v = "module 1" }
--- request eval
["GET /t", "GET /write", "GET /t"]
--- response_body eval
["module 1\n", "written\n", "module 2\n"]



=== TEST 26: with lua_code_cache on, a required module stays as first loaded
--- http_config
    lua_package_path "$prefix/html/?.lua;;";
--- config
    location /t {
        content_by_lua_block { ngx.say(require("cachedmod").v) }
    }
    location /write {
        content_by_lua_block {
            local f = assert(io.open(ngx.var.document_root .. "/cachedmod.lua", "w"))
            f:write('return { v = "module 2" }')
            f:close()
            ngx.say("written")
        }
    }
--- user_files
>>> cachedmod.lua
return { v = "module 1" }
--- request eval
["GET /t", "GET /write", "GET /t"]
--- response_body eval
["module 1\n", "written\n", "module 1\n"]



=== TEST 27: rewrite_by_lua_no_postpone runs rewrite_by_lua before the rewrite module's set
--- http_config
    rewrite_by_lua_no_postpone on;
--- config
    location /t {
        set $a "from set";
        rewrite_by_lua_block { ngx.ctx.seen = ngx.var.a or "nil" }
        content_by_lua_block { ngx.say("rewrite_by_lua saw: ", ngx.ctx.seen) }
    }
--- request
GET /t
--- response_body eval
"rewrite_by_lua saw: \n"



=== TEST 28: exit_worker_by_lua_block and init_worker_by_lua_file
--- http_config
    init_worker_by_lua_file html/iw.lua;
    exit_worker_by_lua_block { ngx.log(ngx.WARN, "exit_worker ran, worker ", ngx.worker.id()) }
--- config
    location /t {
        content_by_lua_block { ngx.say(worker_flag) }
    }
--- user_files
>>> iw.lua
worker_flag = "set by init_worker_by_lua_file"
--- request
GET /t
--- response_body
set by init_worker_by_lua_file



=== TEST 29: after a runtime error the worker goes on serving
--- config
    location /t {
        content_by_lua_block {
            local function inner() local x = nil; return x.field end
            inner()
        }
    }
    location /ok {
        content_by_lua_block { ngx.say("still serving") }
    }
--- request eval
["GET /t", "GET /ok"]
--- error_code eval
[500, 200]
--- response_body_like eval
["500 Internal Server Error", "still serving"]
