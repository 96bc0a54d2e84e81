# ngx.re behaviour found differing from OpenResty's in a side-by-side run with Debian's nginx
# and its Lua module (0.10.23, whose ngx.re is lua-resty-core's Lua code over the FFI).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/758-lua-diff-regex.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: a regex that is not a string, options of another type, a ctx that is no table and a nth that is no number fail as lua-resty-core's code does; false options or ctx are none
--- config
    location /t {
        content_by_lua_block {
            local function e(f, ...)
                local r = {pcall(f, ...)}
                for i = 1, 3 do
                    r[i] = type(r[i]) == "table" and r[i][0] or tostring(r[i])
                    r[i] = r[i]:gsub("^.-:%d+: ", "")
                end
                ngx.say(table.concat(r, " ", 1, 3))
            end
            e(ngx.re.match, "a")
            e(ngx.re.match, "12", 1)
            e(ngx.re.find, "a", true)
            e(ngx.re.gmatch, "a", nil)
            e(ngx.re.gsub, "a", 5, "x")
            e(ngx.re.match, "a", "a", 5)
            e(ngx.re.match, "a", "a", {})
            e(ngx.re.match, "a", "a", false, false)
            e(ngx.re.sub, "a", "a", "b", true)
            e(ngx.re.match, "a", "a", nil, 5)
            e(ngx.re.find, "a", "a", nil, true)
            e(ngx.re.find, "abc", "(b)", nil, nil, "1")
            e(ngx.re.find, "abc", "(b)", nil, nil, {})
            e(ngx.re.find, "abc", "x", nil, nil, {})
        }
    }
--- request
GET /t
--- response_body
false attempt to get length of local 'regex' (a nil value) nil
false attempt to get length of local 'regex' (a number value) nil
false attempt to get length of local 'regex' (a boolean value) nil
false attempt to get length of local 'regex' (a nil value) nil
false attempt to get length of local 'regex' (a number value) nil
false attempt to get length of local 'opts' (a number value) nil
true a nil
true a nil
false attempt to get length of local 'opts' (a boolean value) nil
false attempt to index local 'ctx' (a number value) nil
false attempt to index local 'ctx' (a boolean value) nil
false attempt to compare string with number nil
false attempt to compare table with number nil
true nil nil



=== TEST 2: past lua_regex_cache_max_entries the `o` cache drops its least recently used regex silently; a gmatch iterator keeps its evicted regex
--- http_config
    lua_regex_cache_max_entries 2;
--- config
    location /t {
        content_by_lua_block {
            local it = ngx.re.gmatch("a1b2c3", "[0-9]", "o")
            local out = {}
            for round = 1, 3 do
                for i = 1, 5 do
                    local m = ngx.re.match("x" .. i, "x" .. i, "o")
                    local f = ngx.re.find("y" .. i, "y" .. i, "jo")
                    local s = ngx.re.gsub("aXa", "X", tostring(i), "o")
                    out[#out + 1] = m[0] .. f .. s
                end
                collectgarbage()
                out[#out + 1] = it()[0]
            end
            ngx.say(table.concat(out, " "))
        }
    }
--- request
GET /t
--- response_body
x11a1a x21a2a x31a3a x41a4a x51a5a 1 x11a1a x21a2a x31a3a x41a4a x51a5a 2 x11a1a x21a2a x31a3a x41a4a x51a5a 3
--- no_error_log eval
["[error]", "exceeding regex cache"]
