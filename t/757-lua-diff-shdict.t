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



=== TEST 3: exptime, flags, init_ttl and incr's value are read as lua-resty-core reads them
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            local function e(f, ...)
                local r = {pcall(f, ...)}
                for i = 1, 4 do
                    r[i] = (tostring(r[i]):gsub("^.-:%d+: ", ""))
                end
                ngx.say(table.concat(r, " ", 1, 4))
            end
            e(d.set, d, nil, 1, -1)
            e(d.set, d, nil, 1, 0, "x")
            e(d.set, d, "k", 1, "1")
            e(d.safe_add, d, "k", 1, {})
            e(d.set, d, "k", 1, false, false)
            e(d.set, d, "k", 1, 0, "7")
            e(d.set, d, "k", 1, 0, true)
            e(d.get, d, "k")
            e(d.expire, d, nil, false)
            e(d.expire, d, nil, "x")
            e(d.expire, d, "k", "x")
            e(d.expire, d, "k", "100")
            e(d.incr, d, "n", "x")
            e(d.incr, d, "n", nil)
            e(d.incr, d, "n", 1, 0, "100")
            e(function() local t = d:ttl("n") return t > 99 and t <= 100 end)
        }
    }
--- request
GET /t
--- response_body
false bad "exptime" argument nil nil
true nil nil key nil
false attempt to compare string with number nil nil
false attempt to compare table with number nil nil
true true nil false
false bad argument #10 to 'ngx_lua_ffi_shdict_store' (cannot convert 'string' to 'int') nil nil
true true nil false
true 1 1 nil
false bad "exptime" argument nil nil
true nil nil key nil
false attempt to perform arithmetic on local 'exptime' (a string value) nil nil
true true nil nil
false cannot convert 'nil' to 'double' nil nil
false cannot convert 'nil' to 'double' nil nil
true 1 nil false
true true nil nil



=== TEST 4: a lookup makes an item, expired or not, the most recently used; get (not get_stale) frees up to two expired items at the cold end; flush_all frees the three oldest at once and get_stale sees the others
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            d:set("old", "v", 0.001, 5)
            d:set("new", "w")
            ngx.update_time()
            local t0 = ngx.now()
            repeat ngx.sleep(0.002) ngx.update_time() until ngx.now() - t0 >= 0.005
            ngx.say(tostring(d:get_stale("old")))
            ngx.say(tostring(d:get("old")), " ", tostring(d:get_stale("old")))
            for i = 1, 5 do d:set("k" .. i, i) end
            d:flush_all()
            ngx.say(tostring(d:get_stale("new")), " ", tostring(d:get_stale("k3")))
            ngx.say(d:flush_expired())
        }
    }
--- request
GET /t
--- response_body
v
nil v
nil 3
4



=== TEST 5: which calls make a key the most recently used (get_keys lists the oldest first)
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            for i = 1, 6 do d:set("k" .. i, i) end
            d:lpush("l", 1)
            local function keys() ngx.say(table.concat(d:get_keys(0), " ")) end
            d:add("k1", 1) keys()
            d:get_stale("k2") keys()
            d:incr("k3", 1) keys()
            d:ttl("k4") d:expire("k4", 100) keys()
            d:replace("k5", 9) keys()
            d:llen("l") keys()
            d:set("k6", "a value of another size") keys()
            d:flush_all()
            d:set("k5", 1)
            ngx.say(d:get_stale("k6"), " ", #d:get_keys(0), " ", d:flush_expired())
        }
    }
--- request
GET /t
--- response_body
k2 k3 k4 k5 k6 l k1
k3 k4 k5 k6 l k1 k2
k4 k5 k6 l k1 k2 k3
k4 k5 k6 l k1 k2 k3
k4 k6 l k1 k2 k3 k5
k4 k6 k1 k2 k3 k5 l
k4 k1 k2 k3 k5 l k6
a value of another size 1 2



=== TEST 6: get_keys and flush_expired on something that is not a dict say what OpenResty's C functions say
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            local function e(f, ...)
                local ok, err = pcall(f, ...)
                ngx.say(tostring(ok), " ", (tostring(err):gsub("^.-:%d+: ", "")))
            end
            e(d.get_keys, {})
            e(d.flush_expired, {1})
            e(d.get_keys, "x")
            e(d.flush_all, {})
        }
    }
--- request
GET /t
--- response_body
false bad user data for the ngx_shm_zone_t pointer
false bad user data for the ngx_shm_zone_t pointer
false bad argument #1 to '?' (table expected, got string)
false bad "zone" argument
