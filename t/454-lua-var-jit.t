# ngx.var through code the JIT compiles (lua-resty-core's FFI way: its metamethods are Lua
# functions, where a C function would end the trace and stitch a new one): a loop reading a "set"
# variable, a built-in, a $arg_ and $http_ member and a capture is traced without an abort;
# reads and writes in loops give the right values; names in any case and longer than the
# FFI function's buffer; errors (wrong phase, undeclared, bad names) read as before; other values
# are written as tostring() makes them, as lua-resty-core does.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/454-lua-var-jit.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: ngx.var's metamethods are Lua code (calling C through the FFI), and a hot loop of reads is compiled: a trace stops, none aborts in the loop
--- config
    location ~ ^/(t)$ {
        set $v "set value";
        content_by_lua_block {
            local var = ngx.var
            local stops, aborts = 0, {}
            local traceerr = require("jit.vmdef").traceerr
            local me = debug.getinfo(1, "f").func
            jit.flush()
            -- (a trace started in the metamethod may abort on returning into the loop's
            -- metamethod frame: that is LuaJIT's, and the loop's trace inlines it anyway)
            jit.attach(function(what, tr, func, pc, otr, oex)
                if what == "stop" then
                    stops = stops + 1
                elseif what == "abort" and func == me then
                    aborts[#aborts + 1] = string.format(traceerr[otr], oex)
                end
            end, "trace")
            local a, b, c, d, e
            for _ = 1, 500 do
                a, b, c, d, e = var.v, var.uri, var.arg_x, var.http_x_test, var[1]
            end
            jit.attach(function() end)
            local mt = getmetatable(var)
            ngx.say(debug.getinfo(mt.__index, "S").what, " ", debug.getinfo(mt.__newindex, "S").what)
            ngx.say(a, "|", b, "|", c, "|", d, "|", e)
            ngx.say("traced: ", stops > 0, ", aborts: ", #aborts == 0 and "none"
                    or table.concat(aborts, " "))
        }
    }
--- request
GET /t?x=ex
--- more_headers
X-Test: hv
--- response_body
Lua Lua
set value|/t|ex|hv|t
traced: true, aborts: none



=== TEST 2: writes and reads in a loop, nil, numbers, names in any case
--- http_config
    variables_hash_bucket_size 256;
--- config
    location /t {
        set $counter "";
        set $gone "here";
        set $long_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij "";
        content_by_lua_block {
            local var = ngx.var
            for i = 1, 300 do
                var.counter = "n" .. i
                if var.COUNTER ~= "n" .. i then
                    ngx.say("bad at ", i)
                end
            end
            local long = "LONG" .. string.rep("_ABCDEFGHIJ", 12)
            var[long] = "long value"
            ngx.say(var[long:lower()])
            var.Gone = nil
            var.counter = 42.5
            ngx.say(var.counter, " ", tostring(var.gone), " ", var.Request_Method)
            ngx.say(tostring(var[0]), " ", tostring(var[-1]), " ", tostring(var[2.5]))
        }
    }
--- request
GET /t
--- response_body
long value
42.5 nil GET
nil nil nil



=== TEST 3: a name longer than any buffer: an unknown one is nil, a header's is found
--- config
    location /t {
        content_by_lua_block {
            local long = string.rep("Abcdefgh", 40)
            ngx.say(tostring(ngx.var["no_" .. long]))
            ngx.say(ngx.var["HTTP_X_" .. long])
        }
    }
--- request
GET /t
--- more_headers eval
"X-" . ("abcdefgh" x 40) . ": long one"
--- response_body
nil
long one



=== TEST 4: writing an undeclared variable: the message names it lowercased
--- config
    location /t {
        content_by_lua_block {
            local name = "Undeclared_X"
            local ok, err = pcall(function() ngx.var[name] = "v" end)
            local low = name:lower()
            ngx.say(ok, " ", err:match(":3: (variable.*)") == ('variable "' .. low .. '" not found for writing; maybe it is a built-in'
                .. ' variable that is not changeable or you forgot to use "set $' .. low
                .. " '';\" in the config file to define it first") or err)
        }
    }
--- request
GET /t
--- response_body
false true



=== TEST 5: a built-in variable is not changeable; a header's is not found for writing
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function() ngx.var.URI = "/x" end)
            ngx.say(ok, " ", err:match("variable.*"))
            ok, err = pcall(function() ngx.var.http_x_test = "x" end)
            ngx.say(ok, " ", err:match('variable "http_x_test" not found for writing'))
        }
    }
--- request
GET /t
--- more_headers
X-Test: hv
--- response_body
false variable "uri" not changeable
false variable "http_x_test" not found for writing



=== TEST 6: a bad name is an error
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function() return ngx.var[true] end)
            ngx.say(ok, " ", err:match("bad variable name"))
            ok, err = pcall(function() ngx.var[{}] = "x" end)
            ngx.say(ok, " ", err:match("bad variable name"))
        }
    }
--- request
GET /t
--- response_body
false bad variable name
false bad variable name



=== TEST 7: a value of another type than string, number or nil is written as tostring() makes it
--- config
    location /t {
        set $v "";
        content_by_lua_block {
            ngx.var.v = true
            ngx.say(ngx.var.v)
            ngx.var.v = setmetatable({}, {__tostring = function() return "tbl" end})
            ngx.say(ngx.var.v)
            ngx.var.v = false
            ngx.say(ngx.var.v)
        }
    }
--- request
GET /t
--- response_body
true
tbl
false



=== TEST 8: no request in a timer: the words of OpenResty's fake request
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local ok, err = pcall(function() return ngx.var.uri end)
                ngx.log(ngx.ERR, "timer read: ", ok, " ", err)
            end)
            ngx.sleep(0.01)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/timer read: false .*API disabled in the current context/
