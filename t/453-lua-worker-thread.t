# ngx.run_worker_thread (lua-nginx-module 0.10.21+) with lua_worker_thread_vm_pool_size: a
# module function run in a thread of a thread_pool, in a Lua VM of its own, while the request
# waits; arguments and results copied across (nested tables too), errors as false and the
# message, the VM kept with its loaded module for the next call, requests going on meanwhile.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/453-lua-worker-thread.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(main_config => "thread_pool work threads=2;\n")
        unless defined $block->main_config;
    $block->set_value(http_config => <<'CONF' . ($block->http_config // ''));
    lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
CONF
    $block->set_value(user_files => <<'LUA');
>>> calc.lua
local _M = {}
local calls = 0
function _M.add(a, b) return a + b end
function _M.shape(t)
    local keys = {}
    for k in pairs(t.inner) do keys[#keys + 1] = k end
    table.sort(keys)
    return { n = #t.list, joined = table.concat(t.list, ","), keys = table.concat(keys, ",") },
           t.flag == true, nil, "last"
end
function _M.count() calls = calls + 1 return calls end
function _M.b64(s) return ngx.encode_base64(s), ngx.md5(s) end
function _M.boom() error("it broke", 0) end
function _M.func() return function() end end
function _M.spin(sec)
    local stop, x = os.clock() + sec, 0
    while os.clock() < stop do x = x + 1 end
    return x
end
return _M
LUA
});

run_tests();

__DATA__

=== TEST 1: a function of a module in a pool thread: true and its results
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.run_worker_thread("work", "calc", "add", 40, 2))
            local ok, r, flag, none, last = ngx.run_worker_thread("work", "calc", "shape",
                { list = { "a", "b", "c" }, inner = { x = 1, y = { deep = true } }, flag = true })
            ngx.say(ok, " n=", r.n, " joined=", r.joined, " keys=", r.keys, " ", flag, " ",
                    none, " ", last)
        }
    }
--- request
GET /t
--- response_body
true42
true n=3 joined=a,b,c keys=x,y true nil last
--- no_error_log
[error]

=== TEST 2: the thread VM has ngx's string functions; the calling request's VM is another one
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.run_worker_thread("work", "calc", "b64", "hello"))
            ngx.say(package.loaded.calc == nil)
        }
    }
--- request
GET /t
--- response_body
trueaGVsbG8=5d41402abc4b2a76b9719d911017c592
true

=== TEST 3: an error in the function, a missing function, a missing module: false and the message
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.run_worker_thread("work", "calc", "boom"))
            local ok, err = ngx.run_worker_thread("work", "no_such_module", "f")
            ngx.say(ok, " ", err:match("module 'no_such_module' not found") ~= nil)
        }
    }
--- request
GET /t
--- response_body
falseit broke
false true

=== TEST 4: with one VM in the pool the module stays loaded between calls (its counter goes on)
--- http_config
    lua_worker_thread_vm_pool_size 1;
--- main_config
    thread_pool work threads=1;
--- config
    location /t {
        content_by_lua_block {
            local _, a = ngx.run_worker_thread("work", "calc", "count")
            local _, b = ngx.run_worker_thread("work", "calc", "count")
            ngx.say(b - a)
        }
    }
--- request
GET /t
--- response_body
1

=== TEST 5: light threads of one request each wait for their own call; the results keep their order
--- config
    location /t {
        content_by_lua_block {
            local ths = {}
            for i = 1, 4 do
                ths[i] = ngx.thread.spawn(function()
                    local ok, v = ngx.run_worker_thread("work", "calc", "add", i, 100)
                    return v
                end)
            end
            local out = {}
            for i = 1, 4 do
                local _, v = ngx.thread.wait(ths[i])
                out[i] = v
            end
            ngx.say(table.concat(out, " "))
        }
    }
--- request
GET /t
--- response_body
101 102 103 104

=== TEST 6: a function value can cross neither way; an unknown pool is an error
--- moongate_only
--- config
    location /t {
        content_by_lua_block {
            ngx.say(pcall(ngx.run_worker_thread, "work", "calc", "add", function() end))
            ngx.say(ngx.run_worker_thread("work", "calc", "func"))
            ngx.say(ngx.run_worker_thread("nope", "calc", "add", 1, 2))
        }
    }
--- request
GET /t
--- response_body
falseunsupported argument type: function
falseunsupported return value type: function
falsethread pool nope not found

=== TEST 7: not in a filter phase
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.run_worker_thread, "work", "calc", "add", 1, 2)
            ngx.log(ngx.WARN, "filter: ", err)
        }
    }
--- request
GET /t
--- response_body
body
--- error_log
API disabled in the context of header_filter_by_lua*

=== TEST 8: the client goes while the thread runs (lua_check_client_abort: the request ends): the results are dropped when the thread ends, the server goes on
--- moongate_only
--- config
    location /spin {
        lua_check_client_abort on;
        content_by_lua_block {
            local ok, v = ngx.run_worker_thread("work", "calc", "spin", 0.5)
            ngx.log(ngx.ERR, "spin returned to a request that ended")
        }
    }
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
            assert(sock:send("GET /spin HTTP/1.1\r\nHost: x\r\n\r\n"))
            sock:settimeout(100)
            ngx.say("client: ", select(2, sock:receive()))
            sock:close()
            ngx.say(ngx.run_worker_thread("work", "calc", "add", 1, 2))
            ngx.say(ngx.run_worker_thread("work", "calc", "add", 3, 4))
        }
    }
--- request
GET /t
--- response_body
client: timeout
true3
true7
--- no_error_log
spin returned
