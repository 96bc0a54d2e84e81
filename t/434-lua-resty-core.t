# lua-resty-core's modules: require "resty.core" and its resty.core.* submodules load without
# error (moongate's are no-ops over its native API; nginx's are lua-resty-core's FFI files),
# the ngx.* API works after them, lua_load_resty_core is accepted with its deprecation warning,
# and require "ngx.re" gives split and opt.
#
#   prove -I t/lib t/434-lua-resty-core.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/434-lua-resty-core.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: resty.core is loaded with the VM; require gives it back with lua-resty-core's version
--- config
    location /a {
        content_by_lua_block {
            local before = package.loaded["resty.core"]
            local core = require "resty.core"
            ngx.say(before == core, " ", type(core), " ", core.version)
        }
    }
--- request
GET /a
--- response_body
true table 0.1.25
--- no_error_log
[error]



=== TEST 2: each resty.core.* submodule Debian ships loads in content_by_lua, with its version
--- config
    location /a {
        content_by_lua_block {
            local names = { "base", "base64", "coroutine", "ctx", "exit", "hash", "misc", "ndk",
                            "param", "phase", "regex", "request", "response", "shdict", "socket",
                            "time", "uri", "utils", "var", "worker" }
            for _, n in ipairs(names) do
                local ok, m = pcall(require, "resty.core." .. n)
                ngx.say(n, " ", ok, " ", ok and (m.version or m._VERSION) or m)
            end
        }
    }
--- request
GET /a
--- response_body
base true 0.1.25
base64 true 0.1.25
coroutine true 0.1.25
ctx true 0.1.25
exit true 0.1.25
hash true 0.1.25
misc true 0.1.25
ndk true 0.1.25
param true 0.1.25
phase true 0.1.25
regex true 0.1.25
request true 0.1.25
response true 0.1.25
shdict true 0.1.25
socket true 0.1.25
time true 0.1.25
uri true 0.1.25
utils true 0.1.25
var true 0.1.25
worker true 0.1.25
--- no_error_log
[error]



=== TEST 3: the modules load in init_by_lua; the ngx.* API works after them
--- http_config
    lua_shared_dict d 1m;
    init_by_lua_block {
        local core = require "resty.core"
        for _, n in ipairs({ "base", "regex", "shdict", "var", "time", "misc", "ctx" }) do
            require("resty.core." .. n)
        end
        ngx.shared.d:set("init", core.version)
    }
--- config
    location /a {
        content_by_lua_block {
            require "resty.core"
            local m = ngx.re.match("abc-123", [[(\d+)]], "jo")
            local d = ngx.shared.d
            d:set("k", 41)
            ngx.say(ngx.var.uri, " ", ngx.var.arg_x, " ", m[1], " ", d:incr("k", 1), " ",
                    d:get("init"), " ", (ngx.re.gsub("a.b.c", [[\.]], "-")))
        }
    }
--- request
GET /a?x=y
--- response_body
/a y 123 42 0.1.25 a-b-c
--- no_error_log
[error]



=== TEST 4: resty.core.base's constants and table helpers
--- config
    location /a {
        content_by_lua_block {
            local base = require "resty.core.base"
            local t = base.new_tab(4, 4)
            t[1] = 1; t.x = 2
            base.clear_tab(t)
            ngx.say(base.FFI_OK, " ", base.FFI_ERROR, " ", base.FFI_AGAIN, " ", base.FFI_BUSY, " ",
                    base.FFI_DONE, " ", base.FFI_DECLINED, " ", base.FFI_NO_REQ_CTX, " ",
                    base.FFI_BAD_CONTEXT, " ", next(t))
        }
    }
--- request
GET /a
--- response_body
0 -1 -2 -3 -4 -5 -100 -101 nil
--- no_error_log
[error]



=== TEST 5: resty.core.time's monotonic clock moves forward in milliseconds
--- config
    location /a {
        content_by_lua_block {
            local time = require "resty.core.time"
            local a = time.monotonic_msec()
            ngx.sleep(0.02)
            ngx.update_time()
            local b = time.monotonic_msec()
            local s = time.monotonic_time()
            ngx.say(b - a >= 15, " ", b - a < 5000, " ", math.abs(s * 1000 - b) < 1000)
        }
    }
--- request
GET /a
--- response_body
true true true
--- no_error_log
[error]



=== TEST 6: lua_load_resty_core is accepted (a no-op), resty.core loaded either way
--- http_config
    lua_load_resty_core off;
--- config
    location /a {
        content_by_lua_block {
            ngx.say(package.loaded["resty.core"] ~= nil)
        }
    }
--- request
GET /a
--- response_body
true



=== TEST 7: lua_load_resty_core's deprecation warning names the file and line
--- moongate_only
nginx writes configuration-time warnings to stderr (its error_log is opened after the parse);
moongate writes them to the configured error log, as TEST 24 of t/400 checks for lua_code_cache
--- http_config
    lua_load_resty_core on;
--- config
    location /a {
        content_by_lua_block {
            ngx.say("ok")
        }
    }
--- request
GET /a
--- response_body
ok
--- error_log eval
qr/\[warn\] .*lua_load_resty_core is deprecated \(the lua-resty-core library is required since ngx_lua v0\.10\.16\) in .*:\d+/



=== TEST 8: ngx.re.split: separators, captures, empty fields, an empty regex, max, ctx.pos, res
--- config
    location /a {
        content_by_lua_block {
            local re = require "ngx.re"
            local function show(t, err)
                if not t then return "nil " .. tostring(err) end
                local out = {}
                for i, v in ipairs(t) do out[i] = "[" .. v .. "]" end
                return #t .. ":" .. table.concat(out)
            end
            ngx.say(re.version)
            ngx.say(show(re.split("a,b,c", ",")))
            ngx.say(show(re.split("a, b ,c", [[\s*,\s*]], "jo")))
            ngx.say(show(re.split(",a,,b,,", ",")))
            ngx.say(show(re.split(",,,", ",")))
            ngx.say(show(re.split("a1b22c", [[(\d+)]])))
            ngx.say(show(re.split("abc", "")))
            ngx.say(show(re.split("a,b,c,d", ",", nil, nil, 2)))
            ngx.say(show(re.split("a,b,", ",", nil, nil, 5)))
            ngx.say(show(re.split("a,b,c", ",", nil, { pos = 3 })))
            ngx.say(show(re.split("", ",")))
            ngx.say(show(re.split("abc", "x")))
            ngx.say(show(re.split(123, "2")))
            ngx.say(show(re.split("aBcDe", "(?=[A-Z])")))
            ngx.say(show(re.split("abc", "", nil, nil, 2)))
            ngx.say(show(re.split("a,b", ",", nil, nil, 1)))
            ngx.say(show(re.split("a,b", ",", nil, nil, -1)))
            ngx.say(show(re.split("abc", "abc", nil, nil, 3)))
            ngx.say(show(re.split("a1b2c3", [[(\d)]], nil, { pos = 2 })))
            ngx.say(show(re.split("AxBXc", "x", "i")))
            local res = { "old1", "old2", "old3", "old4" }
            local t = re.split("x|y", [[\|]], nil, nil, nil, res)
            ngx.say(t == res, " ", res[1], " ", res[2], " ", tostring(res[3]), " ", res[4])
            ngx.say(show(re.split("abc", "(")))
            ngx.say(pcall(re.split, "a", ",", nil, nil, nil, "no"))
        }
    }
--- request
GET /a
--- response_body_like chomp
^0\.1\.25
3:\[a\]\[b\]\[c\]
3:\[a\]\[b\]\[c\]
4:\[\]\[a\]\[\]\[b\]
0:
5:\[a\]\[1\]\[b\]\[22\]\[c\]
3:\[a\]\[b\]\[c\]
2:\[a\]\[b,c,d\]
3:\[a\]\[b\]\[\]
2:\[b\]\[c\]
0:
1:\[abc\]
2:\[1\]\[3\]
3:\[a\]\[Bc\]\[De\]
2:\[a\]\[bc\]
1:\[a,b\]
2:\[a\]\[b\]
2:\[\]\[\]
6:\[\]\[1\]\[b\]\[2\]\[c\]\[3\]
3:\[A\]\[B\]\[c\]
true x y nil old4
nil pcre2?_compile\(\) failed: missing (closing parenthesis|\)) in "\("
falseres is not a table
$
--- no_error_log
[error]



=== TEST 9: ngx.re.split: a zero-width match after a separator and an unset capture
--- moongate_only
lua-resty-core 0.1.25 returns pieces that are no fields here ("a  " again after "a", the whole
subject for the unset first capture); moongate splits as Perl does and skips an unset capture
--- config
    location /a {
        content_by_lua_block {
            local re = require "ngx.re"
            ngx.say(table.concat(re.split("a  b", " *"), "|"))
            ngx.say(table.concat(re.split("a,b;c", "(,)|(;)"), "|"))
        }
    }
--- request
GET /a
--- response_body
a|b
a|,|b|c
--- no_error_log
[error]



=== TEST 10: ngx.re.opt: a bigger JIT stack lets a deep match through; refused once a regex is cached
--- config
    location /a {
        content_by_lua_block {
            local m, err = ngx.re.match(string.rep("ab", 20000), "^(a|b)*$", "j")
            ngx.say(m and #m[0] or "nil", " ", err)
        }
    }
    location /b {
        content_by_lua_block {
            local re = require "ngx.re"
            ngx.say(pcall(re.opt, "no_such_option", 1))
            re.opt("jit_stack_size", 4 * 1024 * 1024)
            local m, err = ngx.re.match(string.rep("ab", 20000), "^(a|b)*$", "j")
            ngx.say(m and #m[0] or "nil", " ", err)
            ngx.re.match("x", "x", "o")
            ngx.say(pcall(re.opt, "jit_stack_size", 1024 * 1024))
        }
    }
--- request eval
["GET /a", "GET /b"]
--- response_body_like eval
["^nil pcre2?_exec\\(\\) failed: -\\d+\n\\z",
 "^falseunrecognized option name\n40000 nil\nfalsechanging jit stack size is not allowed when some regexs have already been compiled and cached\n\\z"]
