# ngx.shared.DICT's get, get_stale, set, safe_set, add, safe_add, replace, delete and incr as the
# JIT sees them (issue 16): Lua functions calling C through the FFI, as lua-resty-core's, so a hot
# loop of them compiles into one trace where a C method ends it; every answer (value types,
# flags, forcible, arities) and every error is the same compiled, interpreted (jit.off()) and
# through the C methods (a table that is not ngx.shared.NAME's, long values).
#
#   prove -I t/lib t/465-lua-shdict-ffi.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/465-lua-shdict-ffi.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the methods are Lua code, and a hot loop of all of them is compiled whole: its trace loops to itself (a C method would end it in a stitch to a new one; nginx's FFI calls abort on the zone's lightuserdata), none aborts
--- moongate_only
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            local traceerr = require("jit.vmdef").traceerr
            local traceinfo = require("jit.util").traceinfo
            d:set("k", "value", 0, 3)
            d:set("n", 0)
            local function loop(n)
                local v, f, ok, err, forcible, c, stale
                for i = 1, n do
                    v, f, stale = d:get_stale("k")
                    ok, err, forcible = d:set("k", "value", 0, 3)
                    ok = d:safe_set("b", i % 2 == 0)
                    ok, err = d:add("k", 1)
                    ok = d:safe_add("x", 1.5)
                    ok = d:replace("x", i)
                    ok = d:delete("x")
                    c = d:incr("n", 1)
                    d:incr(7, 1, 0)
                    v = d:get(7)
                    c = d:incr("m", 1, 0, 0)
                    v, f = d:get("k")
                    ok = d:expire("k", 0)
                    ok = d:ttl("k")
                end
                return v, f, stale, err, c
            end
            local methods = { "get", "get_stale", "set", "safe_set", "add", "safe_add", "replace",
                              "delete", "incr", "ttl", "expire" }
            local what = {}
            for i, m in ipairs(methods) do what[i] = debug.getinfo(d[m], "S").what end
            local mine, links, aborts = {}, {}, {}
            jit.flush()
            jit.attach(function(ev, tr, func, pc, otr, oex)
                if ev == "start" then
                    mine[tr] = func == loop
                elseif ev == "stop" and mine[tr] then
                    links[traceinfo(tr).linktype] = true
                elseif ev == "abort" and mine[tr] then
                    aborts[#aborts + 1] = string.format(traceerr[otr], oex)
                end
            end, "trace")
            local v, f, stale, err, c = loop(1000)
            jit.attach(function() end)
            ngx.say(table.concat(what, " "))
            ngx.say(v, " ", f, " ", stale, " ", err, " ", c, " ", d:get("m"))
            -- (side traces of the loop's branches link back to it: "root")
            ngx.say("loop: ", links.loop == true, ", stitch: ", links.stitch == true,
                    ", aborts: ", #aborts == 0 and "none" or table.concat(aborts, "; "))
        }
    }
--- request
GET /t
--- response_body
Lua Lua Lua Lua Lua Lua Lua Lua Lua Lua Lua
value 3 false exists 1000 1000
loop: true, stitch: false, aborts: none
--- no_error_log
[error]



=== TEST 2: every answer and error the same run 300 times (compiled once hot) and with the JIT off: value types, flags, arities, add/replace/delete, incr's init, bad keys, values, exptimes and flags
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            local out
            local function put(...)
                local t = { select("#", ...) }
                for i = 1, select("#", ...) do
                    local v = select(i, ...)
                    t[#t + 1] = type(v) == "string" and #v > 40 and v:sub(1, 40) .. "..."
                        or tostring(v)
                end
                out[#out + 1] = table.concat(t, " ")
            end
            local function try(f, ...)
                local r = { pcall(f, ...) }
                if r[1] then return put(unpack(r, 2, table.maxn(r))) end
                out[#out + 1] = "error: " .. r[2]
            end
            local function run()
                out = {}
                d:flush_all()
                put(d:get("none"))
                put(d:set("s", "str"))
                put(d:get("s"))
                put(d:set("n", 1.5, 0, 7))
                put(d:get("n"))
                put(d:set("t", true, nil, 2 ^ 31 - 1))
                put(d:get("t"))
                put(d:set("f", false, 0, -1))
                put(d:get("f"))
                put(d:set("e", "", 100, 1.7))
                put(d:get("e"))
                put(d:get_stale("e"))
                put(d:ttl("e") > 99)
                put(d:set(1, "one", false, true))
                put(d:get(1))
                put(d:get("1"))
                put(d:set(2, 2.5))
                put(d:get(2))
                put(d:get("2"))
                put(d:set(1.25, "q", 0, 4))
                put(d:get("1.25"))
                put(d:set(2 ^ 53, "big"))
                put(d:get(2 ^ 53))
                put(d:get("9.007199254741e+15"))
                put(d:set(-1e300, "small"))
                put(d:get("-1e+300"))
                put(d:incr(3, 1, 0))
                put(d:incr(3, 1))
                put(d:ttl(3))
                put(d:expire(3, 10))
                put(d:get_stale(3))
                put(d:delete(3))
                put(d:get(3))
                put(d:add(2, "x"))
                put(d:replace(2, "x"))
                put(d:get(2))
                put(d:set(true, "yes"))
                put(d:get("true"))
                put(d:get(nil))
                put(d:get(""))
                put(d:get(string.rep("k", 65535)))
                put(d:get(string.rep("k", 65536)))
                put(d:set(string.rep("k", 65536), 1))
                put(d:set("", 1))
                put(d:set(nil, 1))
                put(d:set("x", {}))
                put(d:set("x", print))
                put(d:get("x"))
                put(d:add("s", "other"))
                put(d:add("new", "a"))
                put(d:add("new2", nil))
                put(d:safe_add("new", "b"))
                put(d:replace("missing", 1))
                put(d:replace("new", nil))
                put(d:replace("new", 2))
                put(d:get("new"))
                put(d:safe_set("new", 3, 0, 9))
                put(d:get("new"))
                put(d:set("new", nil))
                put(d:get("new"))
                put(d:delete("s"))
                put(d:get("s"))
                put(d:delete("missing"))
                put(d:delete(""))
                put(d:incr("c", 1))
                put(d:incr("c", 1, 10))
                put(d:incr("c", 2.5))
                put(d:incr("c", -1, 0))
                put(d:incr("c", "2"))
                put(d:incr("c2", 1, "5"))
                put(d:incr("c3", 1, 0, 100))
                put(d:ttl("c3") > 99)
                put(d:incr("s2", 1))
                d:set("s2", "abc")
                put(d:incr("s2", 1))
                put(d:incr("s2", 1, 0))
                put(d:incr("", 1))
                put(d:incr(nil, 1))
                put(d:ttl("s2"))
                put(d:ttl("missing"))
                put(d:ttl(""))
                put(d:expire("s2", 100))
                put(d:ttl("s2") > 99)
                put(d:expire("s2", 0))
                put(d:ttl("s2"))
                put(d:expire("s2", -5))
                put(d:ttl("s2"))
                put(d:expire("missing", 1))
                put(d:expire(nil, 1))
                put(d:expire("s2", "1"))
                d:lpush("l", "a")
                put(d:get("l"))
                put(d:get_stale("l"))
                put(d:set("l", 1))
                put(d:get("l"))
                try(d.get)
                try(d.set, {}, "k", 1)
                try(d.set, d, "k", 1, -1)
                try(d.set, d, "k", 1, "1")
                try(d.add, d, "k", 1, {})
                try(d.replace, d, "k", 1, 0, "x")
                try(d.set, d, "k", 1, 0, {})
                try(d.incr, d, "c", nil)
                try(d.incr, d, "c", 1, nil, 10)
                try(d.incr, d, "c", 1, "x")
                try(d.incr, d, "c", 1, 0, -1)
                try(d.incr, d, "c", 1, 0, "x")
                try(d.expire, d, "s2")
                try(d.expire, d, "s2", {})
                try(d.ttl)
                try(d.delete)
                try(d.get_stale, nil, "k")
                return table.concat(out, "\n")
            end
            local first = run()
            local same = 0
            for _ = 1, 300 do
                if run() == first then same = same + 1 end
            end
            jit.off()
            local off = run()
            jit.on()
            ngx.say("same: ", same, ", jit off: ", off == first)
            -- the messages without their place, which is nginx's resty/core/shdict.lua for some
            ngx.say((first:gsub("error: [^\n]-:%d+: ", "error: ")))
        }
    }
--- request
GET /t
--- response_body
same: 300, jit off: true
1 nil
3 true nil false
1 str
3 true nil false
2 1.5 7
3 true nil false
2 true 2147483647
3 true nil false
2 false -1
3 true nil false
2  1
3  1 false
1 true
3 true nil false
2 one 1
2 one 1
3 true nil false
1 2.5
1 2.5
3 true nil false
2 q 4
3 true nil false
1 big
1 big
3 true nil false
1 small
3 1 nil false
1 2
1 0
1 true
3 2 nil false
3 true nil false
1 nil
3 false exists false
3 true nil false
1 x
3 true nil false
1 yes
2 nil nil key
2 nil empty key
1 nil
2 nil key too long
2 nil key too long
2 nil empty key
2 nil nil key
2 nil bad value type
2 nil bad value type
1 nil
3 false exists false
3 true nil false
3 false attempt to add or replace nil values false
3 false exists false
3 false not found false
3 false attempt to add or replace nil values false
3 true nil false
1 2
3 true nil false
2 3 9
3 true nil false
1 nil
3 true nil false
1 nil
3 true nil false
2 nil empty key
2 nil not found
3 11 nil false
1 13.5
3 12.5 nil false
1 14.5
3 6 nil false
3 1 nil false
1 true
2 nil not found
2 nil not a number
2 nil not a number
2 nil empty key
2 nil nil key
1 0
2 nil not found
2 nil empty key
1 true
1 true
1 true
1 0
1 true
1 0
2 nil not found
2 nil nil key
1 true
2 nil value is a list
2 nil value is a list
3 true nil false
1 1
error: bad "zone" argument
error: bad "zone" argument
error: bad "exptime" argument
error: attempt to compare string with number
error: attempt to compare table with number
error: bad argument #10 to 'ngx_lua_ffi_shdict_store' (cannot convert 'string' to 'int')
error: bad argument #10 to 'ngx_lua_ffi_shdict_store' (cannot convert 'table' to 'int')
error: cannot convert 'nil' to 'double'
error: must provide "init" when providing "init_ttl"
error: bad init arg: number expected, got string
error: bad "init_ttl" argument
error: bad init_ttl arg: number expected, got string
error: bad "exptime" argument
error: attempt to perform arithmetic on local 'exptime' (a table value)
error: bad "zone" argument
error: bad "zone" argument
error: bad "zone" argument
--- no_error_log
[error]



=== TEST 3: long values (the copy beyond the 4 KiB buffer), an expired item's get_stale, a full dict's forcible set and failing safe_set, and a table that is not ngx.shared.NAME's but holds its zone: the same compiled and with the JIT off
--- http_config
    lua_shared_dict d 1m;
    lua_shared_dict small 100k;
--- config
    location /t {
        content_by_lua_block {
            local d, small = ngx.shared.d, ngx.shared.small
            local other = setmetatable({ d[1] }, getmetatable(d))
            local function join(...)
                local t = {}
                for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
                return table.concat(t, " ")
            end
            local function run()
                local out = {}
                for _, n in ipairs({ 4095, 4096, 4097, 100000 }) do
                    local v = string.rep("v", n)
                    local ok = true
                    for i = 1, 200 do
                        d:set("long", v, 0, n)
                        local got, flags = d:get("long")
                        local stale, sflags, is_stale = d:get_stale("long")
                        ok = ok and got == v and flags == n and stale == v and sflags == n
                            and is_stale == false
                    end
                    out[#out + 1] = n .. " " .. tostring(ok)
                end
                d:set("gone", "old", 0.001, 5)
                local deadline = ngx.now() + 5
                while d:get("gone") ~= nil and ngx.now() < deadline do
                    ngx.sleep(0.002)
                end
                out[#out + 1] = join(d:get("gone"), d:get_stale("gone"))
                small:flush_all()
                small:flush_expired()
                local forcible, v = false, string.rep("x", 1000)
                for i = 1, 300 do
                    local ok, err, f = small:set("k" .. i, v)
                    forcible = forcible or (ok and f)
                end
                out[#out + 1] = "forcible: " .. tostring(forcible)
                out[#out + 1] = join(small:safe_set("big", string.rep("y", 50000)))
                out[#out + 1] = join(small:safe_add("big", string.rep("y", 50000)))
                out[#out + 1] = join(other:set("o", 5, 0, 2))
                out[#out + 1] = join(other:get("o"))
                out[#out + 1] = join(other:incr("o", 1))
                out[#out + 1] = join(d:get("o"))
                out[#out + 1] = join(other:delete("o"))
                out[#out + 1] = join(d:get("o"))
                return table.concat(out, "\n")
            end
            local first = run()
            jit.off()
            local off = run()
            jit.on()
            ngx.say("jit off: ", off == first)
            ngx.say(first)
        }
    }
--- request
GET /t
--- response_body
jit off: true
4095 true
4096 true
4097 true
100000 true
nil old 5 true
forcible: true
false no memory false
false no memory false
true nil false
5 2
6
6 2
true nil false
nil
--- no_error_log
[error]



=== TEST 4: moongate's own answers: flags beyond a C int keep their low 32 bits (nginx's conversion gives INT_MIN), and each error names the caller's line, compiled and with the JIT off
--- moongate_only
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            local function at(f)
                local line = debug.getinfo(2, "l").currentline
                local ok, err = pcall(f)
                local where = err:match(":(%d+): ")
                return where == tostring(line) and "caller's line" or err
            end
            local function run()
                local out = {}
                for _, f in ipairs({ 2 ^ 32 + 5, -2 ^ 32 - 3, 2 ^ 40 + 2 ^ 31 }) do
                    d:set("f", 1, 0, f)
                    out[#out + 1] = select(2, d:get("f"))
                end
                out[#out + 1] = at(function() local v = d.get() return v end)
                out[#out + 1] = at(function() local v = d.set(d, "k", 1, -1) return v end)
                out[#out + 1] = at(function() local v = d.set(d, "k", 1, 0, "x") return v end)
                out[#out + 1] = at(function() local v = d.incr(d, "k", 1, nil, 1) return v end)
                out[#out + 1] = at(function() local v = d.delete() return v end)
                return table.concat(out, "\n")
            end
            local first = run()
            local same = 0
            for _ = 1, 300 do
                if run() == first then same = same + 1 end
            end
            jit.off()
            local off = run()
            jit.on()
            ngx.say("same: ", same, ", jit off: ", off == first)
            ngx.say(first)
        }
    }
--- request
GET /t
--- response_body
same: 300, jit off: true
5
-3
-2147483648
caller's line
caller's line
caller's line
caller's line
caller's line
--- no_error_log
[error]
