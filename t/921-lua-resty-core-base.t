# What third-party libraries take from lua-resty-core's resty.core.base (Kong, APISIX, FFI
# bindings of lua-resty-*): get_request (a void * cdata in requests, timers and init_worker,
# nil in init_by_lua; a binding's request pointer type takes it), the reusable FFI string
# buffer and out-pointers, ref_in_table's free list, allows_subsystem, the nginx types their
# ffi.cdef lines name; and from the other resty.core modules: ctx.get_ctx_table,
# utils.str_replace_char, misc's ngx magic key hooks; ngx.ctx in a timer and init_worker.
#
#   prove -I t/lib t/921-lua-resty-core-base.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/921-lua-resty-core-base.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: get_request: a request's, the same all along it; the nginx types a binding's cdef names
--- config
    location /a {
        rewrite_by_lua_block {
            local base = require "resty.core.base"
            ngx.ctx.r = base.get_request()
        }
        content_by_lua_block {
            local ffi = require "ffi"
            local base = require "resty.core.base"
            local r = base.get_request()
            ffi.cdef[[
                int t921_binding(ngx_http_request_t *r, ngx_str_t *s, ngx_http_lua_ffi_str_t *f);
            ]]
            local p = ffi.cast("ngx_http_request_t *", r)
            ngx.say(type(r), " ", ffi.istype("void *", r), " ", p ~= nil, " ", r == ngx.ctx.r)
            ngx.say(ffi.sizeof("ngx_str_t"), " ", ffi.sizeof("ngx_http_lua_ffi_str_t"))
            local co = coroutine.wrap(function() return base.get_request() end)
            ngx.say("coroutine: ", co() ~= nil)
            local same = 0
            for _ = 1, 300 do -- hot: the JIT compiles the loop
                if base.get_request() == r then same = same + 1 end
            end
            ngx.say("loop: ", same)
        }
    }
--- request
GET /a
--- response_body
cdata true true true
16 16
coroutine: true
loop: 300
--- no_error_log
[error]



=== TEST 2: get_request is nil in init_by_lua, not nil in init_worker_by_lua and in a timer
--- http_config
    lua_shared_dict d 1m;
    init_by_lua_block {
        local base = require "resty.core.base"
        ngx.shared.d:set("init", tostring(base.get_request() == nil))
    }
    init_worker_by_lua_block {
        local base = require "resty.core.base"
        ngx.shared.d:set("init_worker", tostring(base.get_request() ~= nil))
    }
--- config
    location /a {
        content_by_lua_block {
            local base = require "resty.core.base"
            local d = ngx.shared.d
            assert(ngx.timer.at(0, function()
                d:set("timer", tostring(base.get_request() ~= nil))
            end))
            for _ = 1, 200 do
                if d:get("timer") then break end
                ngx.sleep(0.01)
            end
            ngx.say(d:get("init"), " ", d:get("init_worker"), " ", d:get("timer"))
        }
    }
--- request
GET /a
--- response_body
true true true
--- no_error_log
[error]



=== TEST 3: the shared string buffer, its size, the size and error out-pointers
--- config
    location /a {
        content_by_lua_block {
            local ffi = require "ffi"
            local base = require "resty.core.base"
            local b1, b2 = base.get_string_buf(10), base.get_string_buf(4096)
            local big = base.get_string_buf(5000)
            local own = base.get_string_buf(10, true)
            ngx.say(base.get_string_buf_size(), " ", ffi.sizeof(b1), " ", b1 == b2, " ",
                    ffi.sizeof(big), " ", big == b1, " ", ffi.sizeof(own), " ", own == b1)
            ffi.copy(b1, "hello")
            ngx.say(ffi.string(base.get_string_buf(3), 5))
            base.set_string_buf_size(0)
            base.set_string_buf_size(-3)
            ngx.say(base.get_string_buf_size(), " ", base.get_string_buf(1) == b1)
            base.set_string_buf_size(100.5)
            local b3 = base.get_string_buf(1)
            ngx.say(base.get_string_buf_size(), " ", ffi.sizeof(b3), " ", b3 == b1, " ",
                    ffi.sizeof(base.get_string_buf(102)))
            base.set_string_buf_size(4096)
            local sp, ep = base.get_size_ptr(), base.get_errmsg_ptr()
            ngx.say(ffi.istype("size_t[1]", sp), " ", sp == base.get_size_ptr(), " ",
                    ffi.istype("char *[1]", ep), " ", ep == base.get_errmsg_ptr())
        }
    }
--- request
GET /a
--- response_body
4096 4096 true 5000 false 10 false
hello
4096 true
101 101 false 102
true true true true
--- no_error_log
[error]



=== TEST 4: ref_in_table: the end of the array, or the free list headed by t[0]; nil is -1
--- config
    location /a {
        content_by_lua_block {
            local ref_in_table = require("resty.core.base").ref_in_table
            local t = {}
            local a, b = ref_in_table(t, "a"), ref_in_table(t, "b")
            local none = ref_in_table(t, nil)
            -- free ref a as a library's unref does: the slot keeps the old head
            t[a] = t[0]; t[0] = a
            local c = ref_in_table(t, "c")
            local d = ref_in_table(t, "d")
            ngx.say(a, " ", b, " ", none, " ", c, " ", d, " ", t[0], " ", t[1], t[2], t[3])
        }
    }
--- request
GET /a
--- response_body
1 2 -1 1 3 nil cbd
--- no_error_log
[error]



=== TEST 5: allows_subsystem: nothing for http, an error at the caller's line otherwise
--- config
    location /a {
        content_by_lua_block {
            local base = require "resty.core.base"
            ngx.say(select("#", base.allows_subsystem("stream", "http")))
            local ok, err = pcall(function() base.allows_subsystem("stream") end)
            ngx.say(ok, " ", err:match(":%d+: (unsupported subsystem: http)$"))
            ok, err = pcall(base.allows_subsystem)
            ngx.say(ok, " ", err:match("unsupported subsystem: http$"))
        }
    }
--- request
GET /a
--- response_body
0
false unsupported subsystem: http
false unsupported subsystem: http
--- no_error_log
[error]



=== TEST 6: ctx.get_ctx_table: the table given becomes ngx.ctx when there is none yet
--- config
    location /a {
        rewrite_by_lua_block {
            local get_ctx_table = require("resty.core.ctx").get_ctx_table
            local mine = { from = "rewrite" }
            local t = get_ctx_table(mine)
            ngx.ctx.same = (t == mine and ngx.ctx == mine)
            ngx.ctx.again = (get_ctx_table({}) == mine and get_ctx_table() == mine)
        }
        content_by_lua_block {
            local get_ctx_table = require("resty.core.ctx").get_ctx_table
            local c = ngx.ctx
            ngx.say(c.from, " ", c.same, " ", c.again, " ", get_ctx_table() == c)
            ngx.ctx = { replaced = true }
            ngx.say(get_ctx_table().replaced)
        }
    }
    location /b {
        content_by_lua_block {
            local get_ctx_table = require("resty.core.ctx").get_ctx_table
            local t = get_ctx_table()
            t.x = 1
            ngx.say(type(t), " ", ngx.ctx.x)
        }
    }
--- request eval
["GET /a", "GET /b"]
--- response_body eval
["rewrite true true true\ntrue\n", "table 1\n"]
--- no_error_log
[error]



=== TEST 7: ngx.ctx in a timer: its own table, not the request's
--- http_config
    lua_shared_dict d 1m;
--- config
    location /a {
        content_by_lua_block {
            local d = ngx.shared.d
            ngx.ctx.req = 1
            assert(ngx.timer.at(0, function()
                local before = ngx.ctx.req
                ngx.ctx.x = 5
                local get_ctx_table = require("resty.core.ctx").get_ctx_table
                d:set("timer", tostring(before) .. " " .. ngx.ctx.x .. " "
                      .. get_ctx_table().x)
            end))
            for _ = 1, 200 do
                if d:get("timer") then break end
                ngx.sleep(0.01)
            end
            ngx.say(d:get("timer"), " ", ngx.ctx.req, " ", ngx.ctx.x)
        }
    }
--- request
GET /a
--- response_body
nil 5 5 1 nil
--- no_error_log
[error]



=== TEST 8: utils.str_replace_char: every byte find[1] made replace[1] when find occurs
--- config
    location /a {
        content_by_lua_block {
            local str_replace_char = require("resty.core.utils").str_replace_char
            local s = "x-forwarded-for"
            ngx.say(str_replace_char(s, "-", "_"), " ", str_replace_char("abc", "-", "_"),
                    " ", str_replace_char("a-xb-", "-x", "_!"),
                    " ", str_replace_char("ab-cd", "-x", "_"),
                    " ", str_replace_char("--", "-", "+"), " [", str_replace_char("", "-", "_"),
                    "]")
        }
    }
--- request
GET /a
--- response_body
x_forwarded_for abc a_xb_ ab-cd ++ []
--- no_error_log
[error]



=== TEST 9: misc's magic keys: ngx[key] through a registered getter and setter; a mocked ngx.status put back from the getters' table
--- config
    location /a {
        content_by_lua_block {
            local misc = require "resty.core.misc"
            local out, stored = {}
            misc.register_ngx_magic_key_getter("t921", function() return "got " .. tostring(stored) end)
            misc.register_ngx_magic_key_setter("t921", function(v) stored = v end)
            ngx.t921 = 7
            out[#out + 1] = ngx.t921 .. " " .. tostring(rawget(ngx, "t921"))

            local function upvalue(f, name)
                for i = 1, 100 do
                    local n, v = debug.getupvalue(f, i)
                    if n == name then return v end
                    if not n then return end
                end
            end
            local getters = upvalue(misc.register_ngx_magic_key_getter, "ngx_magic_key_getters")
            local setters = upvalue(misc.register_ngx_magic_key_setter, "ngx_magic_key_setters")
            local get_status, set_status = getters.status, setters.status
            local mocked
            misc.register_ngx_magic_key_getter("status", function() return mocked end)
            misc.register_ngx_magic_key_setter("status", function(v) mocked = v end)
            ngx.status = 299
            out[#out + 1] = "mocked " .. ngx.status .. " " .. mocked
            misc.register_ngx_magic_key_getter("status", get_status)
            misc.register_ngx_magic_key_setter("status", set_status)
            ngx.status = 201
            ngx.ctx.k = "v"
            out[#out + 1] = "real " .. ngx.status .. " " .. ngx.ctx.k .. " "
                            .. tostring(ngx.headers_sent)
            ngx.say(table.concat(out, "\n"))
        }
    }
--- request
GET /a
--- error_code: 201
--- response_body
got 7 nil
mocked 299 299
real 201 v false
--- no_error_log
[error]



=== TEST 10: a library's own C call through the shared buffer (APISIX's gethostname)
--- config
    location /a {
        content_by_lua_block {
            local ffi = require "ffi"
            local base = require "resty.core.base"
            ffi.cdef "int gethostname(char *name, size_t len);"
            local size = 256
            local buf = base.get_string_buf(size)
            local rc = ffi.C.gethostname(buf, size)
            local f = assert(io.open("/proc/sys/kernel/hostname"))
            local want = f:read("*l")
            f:close()
            ngx.say(rc, " ", ffi.string(buf) == want)
        }
    }
--- request
GET /a
--- response_body
0 true
--- no_error_log
[error]



=== TEST 11: ngx.ctx in init_worker_by_lua: a table for the handler's run; a timer it starts has its own
--- http_config
    lua_shared_dict d 1m;
    init_worker_by_lua_block {
        local d = ngx.shared.d
        local get_ctx_table = require("resty.core.ctx").get_ctx_table
        ngx.ctx.a = 1
        local first = ngx.ctx
        local same = get_ctx_table({}) == first
        ngx.ctx = { b = 2 }
        d:set("init_worker", tostring(first.a) .. " " .. tostring(same) .. " "
              .. tostring(ngx.ctx.a) .. " " .. ngx.ctx.b)
        ngx.timer.at(0, function()
            d:set("timer", tostring(ngx.ctx.b))
        end)
    }
--- config
    location /a {
        content_by_lua_block {
            local d = ngx.shared.d
            for _ = 1, 200 do
                if d:get("timer") then break end
                ngx.sleep(0.01)
            end
            ngx.say(d:get("init_worker"), ", timer: ", d:get("timer"))
        }
    }
--- request
GET /a
--- response_body
1 true nil 2, timer: nil
--- no_error_log
[error]
