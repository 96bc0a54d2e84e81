# ngx.shared.DICT behaviour found differing from OpenResty's in a side-by-side run with
# Debian's nginx and its Lua module (0.10.23).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/757-lua-diff-shdict.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: get_keys lists the least recently used key first, and get_keys(N) gives the N oldest
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            for i = 1, 5 do d:set("k" .. i, i) end
            ngx.say(table.concat(d:get_keys(), " "))
            d:get("k3")
            d:set("k2", 7)
            ngx.say(table.concat(d:get_keys(0), " "))
            ngx.say(table.concat(d:get_keys(2), " "))
            ngx.say(table.concat(d:get_keys(-1), " "))
        }
    }
--- request
GET /t
--- response_body
k1 k2 k3 k4 k5
k1 k4 k5 k3 k2
k1 k4
k1 k4 k5 k3 k2



=== TEST 2: the list methods, flush_expired and get_keys count their arguments; a list key of another type than string or number is an error
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            local function e(f, ...)
                local ok, err, err2 = pcall(f, ...)
                ngx.say(tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")), " ", tostring(err2))
            end
            e(d.lpop)
            e(d.lpop, d)
            e(d.rpop, d, "a", 1)
            e(d.llen, d)
            e(d.llen, {}, "a")
            e(d.lpush, d, "a")
            e(d.lpush, d, true, 1)
            e(d.lpop, d, nil)
            e(d.flush_expired)
            e(d.get_keys)
            e(d.get_keys, d, 0, 1)
        }
    }
--- request
GET /t
--- response_body
false expecting 2 arguments, but only seen 0 nil
false expecting 2 arguments, but only seen 1 nil
false expecting 2 arguments, but only seen 3 nil
false expecting 2 arguments, but only seen 1 nil
false bad "zone" argument nil
false expecting 3 arguments, but only seen 2 nil
false bad argument #2 to '?' (string expected, got boolean) nil
true nil nil key
false expecting 1 or 2 argument(s), but saw 0 nil
false expecting 1 or 2 argument(s), but saw 0 nil
false expecting 1 or 2 argument(s), but saw 3 nil
