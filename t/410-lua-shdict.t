# lua_shared_dict and ngx.shared.DICT in one process: every method with its results and errors,
# value types and flags, expiry (millisecond times, waited for with a bounded busy loop on
# ngx.update_time), lists, get_keys, flush_all/flush_expired, capacity/free_space, LRU eviction
# and "no memory" for safe_*, the dict in init_by_lua/init_worker_by_lua and other phases, and
# the directive's config errors. Counts that depend on the allocator are not compared.
# The multi-process side (workers, reload, a killed worker) is t/411.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/410-lua-shdict.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# A helper every block's Lua can use: wait(ms) spins on the clock, at most 2 s.
our $Helpers = <<'_EOC_';
    init_by_lua_block {
        function wait_ms(ms)
            ngx.update_time()
            local target, deadline = ngx.now() + ms / 1000, os.time() + 2
            while ngx.now() < target and os.time() <= deadline do
                ngx.update_time()
            end
        end
        function show(...)
            local out = {}
            for i = 1, select("#", ...) do
                out[i] = tostring((select(i, ...)))
            end
            ngx.say(table.concat(out, " "))
        end
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->{bad_conf} && !defined $block->{no_helpers}) {
        my ($http) = @{ $block->{http_config} || [''] };
        $block->set_value(http_config => $Helpers . $http);
    }
});
add_known_sections('no_helpers');
use_bad_conf_blocks();
run_tests();

__DATA__

=== TEST 1: set and get keep the type of strings, numbers and booleans
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            show(dogs:set("s", "hello"))
            dogs:set("n", 3.25)
            dogs:set("i", -7)
            dogs:set("t", true)
            dogs:set("f", false)
            dogs:set("e", "")
            dogs:set("inf", 1/0)
            for _, k in ipairs({"s", "n", "i", "t", "f", "e", "inf", "missing"}) do
                local v = dogs:get(k)
                ngx.say(k, ": ", type(v), " [", tostring(v), "] ", select("#", dogs:get(k)))
            end
        }
    }
--- request
GET /t
--- response_body
true nil false
s: string [hello] 1
n: number [3.25] 1
i: number [-7] 1
t: boolean [true] 1
f: boolean [false] 1
e: string [] 1
inf: number [inf] 1
missing: nil [nil] 1



=== TEST 2: flags come back with get when not 0, nil deletes, delete returns true
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:set("a", "x", 0, 7)
            show(dogs:get("a"))
            dogs:set("a", "x", 0, 0)
            show(select("#", dogs:get("a")))
            dogs:set("a", "x", 0, -1)
            show(dogs:get("a"))
            dogs:set("a", "x", 0, 1.5)
            show(dogs:get("a"))
            show(dogs:set("a", nil))
            show(dogs:get("a"))
            dogs:set("b", 1)
            show(dogs:delete("b"))
            show(dogs:delete("b"))
            show(dogs:get("b"))
        }
    }
--- request
GET /t
--- response_body
x 7
1
x -1
x 1
true nil false
nil
true nil false
true nil false
nil



=== TEST 3: add and replace, safe_add
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            show(dogs:add("a", 1))
            show(dogs:add("a", 2))
            show(dogs:safe_add("a", 2))
            show(dogs:get("a"))
            show(dogs:replace("b", 1))
            show(dogs:replace("a", "now a string"))
            show(dogs:get("a"))
            show(dogs:safe_add("b", true))
            show(dogs:get("b"))
            show(dogs:add("c", nil))
            show(dogs:replace("a", nil))
        }
    }
--- request
GET /t
--- response_body
true nil false
false exists false
false exists false
1
false not found false
true nil false
now a string
true nil false
true
false attempt to add or replace nil values false
false attempt to add or replace nil values false



=== TEST 4: keys: nil and empty keys, too long, numbers and booleans become strings
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            show(dogs:get(nil))
            show(dogs:get(""))
            show(dogs:set(nil, 1))
            show(dogs:set("", 1))
            show(dogs:set(string.rep("k", 65535), 1))
            show(dogs:set(string.rep("k", 65536), 1))
            show(dogs:get(string.rep("k", 65536)))
            dogs:set(12, "twelve")
            show(dogs:get("12"), dogs:get(12))
            dogs:set(true, "yes")
            show(dogs:get("true"))
            show(dogs:incr(nil, 1))
            show(dogs:lpush("", 1))
            show(dogs:ttl(nil))
        }
    }
--- request
GET /t
--- response_body
nil nil key
nil empty key
nil nil key
nil empty key
true nil false
nil key too long
nil key too long
twelve twelve
yes
nil nil key
nil empty key
nil nil key



=== TEST 5: bad arguments: value types, exptime, the dict itself
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            show(dogs:set("a", {}))
            show(dogs:set("a", print))
            show(pcall(dogs.set, dogs, "a", 1, -1))
            show(pcall(dogs.get, "dogs", "a"))
            show(pcall(dogs.get))
            show(pcall(dogs.capacity, {}))
            show(dogs:get("a"))
        }
    }
--- request
GET /t
--- response_body
nil bad value type
nil bad value type
false bad "exptime" argument
false bad "zone" argument
false bad "zone" argument
false bad "zone" argument
nil



=== TEST 6: incr: missing, init, init_ttl, not a number, floats, what it returns
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            show(dogs:incr("n", 1))
            show(dogs:incr("n", 1, 10))
            show(dogs:incr("n", 5))
            show(dogs:incr("n", -0.5))
            show(dogs:incr("n", "2"))
            show(dogs:incr("n", 1, 100))
            dogs:set("s", "str")
            show(dogs:incr("s", 1))
            show(dogs:incr("s", 1, 0))
            show(dogs:incr("t", 1, 0, 5))
            show(dogs:ttl("t"))
            dogs:set("u", 1, 100)
            show(dogs:incr("u", 1, 0, 5))
            show(dogs:ttl("u"))
            show(pcall(dogs.incr, dogs, "v", 1, nil, 5))
            show(pcall(dogs.incr, dogs, "v", 1, 0, -1))
            show(dogs:incr("w", 1, 0, 0))
            show(dogs:ttl("w"))
        }
    }
--- request
GET /t
--- response_body
nil not found
11 nil false
16
15.5
17.5
18.5 nil false
nil not a number
nil not a number
1 nil false
5
2 nil false
100
false must provide "init" when providing "init_ttl"
false bad "init_ttl" argument
1 nil false
0



=== TEST 7: expiry in milliseconds: get, get_stale, ttl, expire
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:set("a", "v", 0.001, 3)
            dogs:set("b", "w", 10)
            dogs:set("c", "x", 1.2345)
            dogs:set("d", "y", 0.0004)
            show(dogs:ttl("b"), dogs:ttl("c"), dogs:ttl("d"))
            wait_ms(3)
            show(dogs:get_stale("a"))
            show(dogs:ttl("a") < 0)
            show(dogs:get("a"))
            show(dogs:get_stale("b"))
            show(dogs:get("d"))
            show(dogs:ttl("nope"))
            show(dogs:expire("nope", 1))
            show(dogs:expire("b", 0))
            show(dogs:ttl("b"))
            show(dogs:expire("b", 0.001))
            show(dogs:expire("c", "5"))
            show(dogs:ttl("c"))
            show(pcall(dogs.expire, dogs, "c"))
            wait_ms(3)
            show(dogs:get("b"))
            show(dogs:add("a", "new"))
            show(dogs:get("a"))
        }
    }
--- request
GET /t
--- response_body
10 1.234 0
v 3 true
true
nil
w nil false
y
nil not found
nil not found
true
0
true
true
5
false bad "exptime" argument
nil
true nil false
new



=== TEST 8: an expired item counts as missing for replace, incr and push
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:set("r", 1, 0.001)
            dogs:set("i", 5, 0.001)
            dogs:set("l", "not a list", 0.001)
            wait_ms(3)
            show(dogs:replace("r", 2))
            show(dogs:incr("i", 1))
            show(dogs:incr("i", 1, 0))
            show(dogs:llen("l"))
            show(dogs:lpop("l"))
            show(dogs:rpush("l", "now"))
            show(dogs:lpop("l"))
        }
    }
--- request
GET /t
--- response_body
false not found false
nil not found
1 nil false
0
nil
1
now



=== TEST 9: lists: both ends, lengths, types, errors
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            show(dogs:lpush("l", "b"))
            show(dogs:lpush("l", "a"))
            show(dogs:rpush("l", 3))
            show(dogs:rpush("l", 4.5))
            show(dogs:llen("l"))
            show(dogs:get("l"))
            show(dogs:get_stale("l"))
            show(dogs:rpush("l", true))
            show(dogs:rpush("l", {}))
            show(pcall(dogs.rpush, dogs, "l"))
            local v = dogs:rpop("l")
            show(v, type(v))
            show(dogs:lpop("l"), dogs:lpop("l"), dogs:lpop("l"))
            show(dogs:lpop("l"))
            show(dogs:llen("l"))
            show(dogs:get("l"))
            dogs:set("s", 1)
            show(dogs:lpush("s", 1))
            show(dogs:lpop("s"))
            show(dogs:llen("s"))
            dogs:rpush("m", 1)
            show(dogs:set("m", "plain"))
            show(dogs:get("m"))
            dogs:rpush("m2", 1)
            show(dogs:add("m2", 1))
            show(dogs:incr("m2", 1))
            show(dogs:ttl("m2"))
            show(dogs:expire("m2", 10))
        }
    }
--- request
GET /t
--- response_body
1
2
3
4
4
nil value is a list
nil value is a list
nil bad value type
nil bad value type
false expecting 3 arguments, but only seen 2
4.5 number
a b 3
nil
0
nil
nil value not a list
nil value not a list
nil value not a list
true nil false
plain
false exists false
nil not a number
0
true



=== TEST 10: get_keys: default, max_count, 0 for all, expired keys left out
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            for i = 1, 1100 do
                dogs:set("k" .. i, i)
            end
            dogs:set("gone", 1, 0.001)
            wait_ms(3)
            show(#dogs:get_keys(), #dogs:get_keys(10), #dogs:get_keys(0))
            local keys = dogs:get_keys(0)
            local seen = {}
            for _, k in ipairs(keys) do
                seen[k] = true
            end
            show(seen.k1, seen.k1100, seen.gone)
            dogs:flush_all()
            show(#dogs:get_keys(0))
        }
    }
--- request
GET /t
--- response_body
1024 10 1100
true true nil
0



=== TEST 11: flush_all hides everything, flush_expired frees what expired
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:set("a", 1)
            dogs:rpush("l", 1)
            dogs:set("t", 1, 100)
            show(select("#", dogs:flush_all()))
            show(dogs:get("a"), dogs:get_stale("a"), dogs:llen("l"), dogs:ttl("t"))
            show(dogs:set("a", 2))
            show(dogs:get("a"))
            dogs:flush_expired()
            for i = 1, 5 do
                dogs:set("e" .. i, i, 0.001)
            end
            dogs:set("keep", 1)
            wait_ms(3)
            show(dogs:flush_expired(2))
            show(dogs:flush_expired())
            show(dogs:flush_expired(0))
            show(dogs:get("keep"), dogs:get("a"))
        }
    }
--- request
GET /t
--- response_body
0
nil nil 0 nil not found
true nil false
2
2
3
0
1 2



=== TEST 12: capacity and free_space
--- http_config
    lua_shared_dict dogs 1m;
    lua_shared_dict cats 100k;
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            show(dogs:capacity(), ngx.shared.cats:capacity())
            local free = dogs:free_space()
            show(free > 900 * 1024, free <= 1024 * 1024)
            dogs:set("big", string.rep("x", 100000))
            local used = free - dogs:free_space()
            show(used >= 100000, used < 120000)
            dogs:delete("big")
            show(dogs:free_space() == free)
        }
    }
--- request
GET /t
--- response_body
1048576 102400
true true
true true
true



=== TEST 13: a full dict evicts the least recently used items, and says so
--- http_config
    lua_shared_dict small 100k;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.small
            local value = string.rep("v", 1000)
            local first
            for i = 1, 1000 do
                local ok, err, forcible = d:set("k" .. i, value)
                if not ok then
                    ngx.say("failed at ", i, ": ", err)
                    return
                end
                if forcible and not first then
                    first = i
                end
                d:get("k1") -- k1 stays in use
            end
            show(first ~= nil and first > 20 and first < 100)
            show(d:get("k1") == value, d:get("k2"), d:get("k1000") == value)
            local n = #d:get_keys(0)
            show(n > 20 and n < 100)
        }
    }
--- request
GET /t
--- response_body
true
true nil true
true



=== TEST 14: safe_set and safe_add answer "no memory" instead of evicting; too large a value
--- http_config
    lua_shared_dict small 100k;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.small
            show(d:set("huge", string.rep("x", 200 * 1024)))
            local value = string.rep("v", 1000)
            local i = 0
            repeat
                i = i + 1
                local ok, err, forcible = d:safe_set("k" .. i, value)
            until not ok or i > 1000
            show(d:safe_set("k" .. i, value))
            show(d:safe_add("other", value))
            show(d:get("k1") == value, d:get("other"))
            show(d:set("k" .. i, value))
            show(d:get("k1") == value, d:get("k2"), d:get("k" .. i) == value)
        }
    }
--- request
GET /t
--- response_body
false no memory false
false no memory false
false no memory false
true nil
true nil true
true nil true



=== TEST 15: the dict from init_by_lua (master) and init_worker_by_lua, across requests
--- no_helpers
--- http_config
    lua_shared_dict dogs 1m;
    init_by_lua_block {
        ngx.shared.dogs:set("from_init", "master")
    }
    init_worker_by_lua_block {
        ngx.shared.dogs:incr("workers", 1, 0)
    }
--- config
    location /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            ngx.say(dogs:get("from_init"), " ", dogs:get("workers"), " ", (dogs:incr("hits", 1, 0)))
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body eval
["master 1 1\n", "master 1 2\n"]



=== TEST 16: other phases: rewrite, access, header_filter, log
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        rewrite_by_lua_block { ngx.shared.dogs:rpush("trail", "rewrite") }
        access_by_lua_block { ngx.shared.dogs:rpush("trail", "access") }
        header_filter_by_lua_block { ngx.shared.dogs:rpush("trail", "header_filter") }
        log_by_lua_block { ngx.shared.dogs:rpush("trail", "log") }
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            local trail = {}
            while dogs:llen("trail") > 0 do
                trail[#trail + 1] = dogs:lpop("trail")
            end
            ngx.say(table.concat(trail, ","))
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body eval
["rewrite,access\n", "header_filter,log,rewrite,access\n"]



=== TEST 17: several dicts are separate; ngx.shared.NAME is one object; unknown names are nil
--- http_config
    lua_shared_dict dogs 1m;
    lua_shared_dict cats 100k;
--- config
    location /t {
        content_by_lua_block {
            ngx.shared.dogs:set("k", "dog")
            ngx.shared.cats:set("k", "cat")
            show(ngx.shared.dogs:get("k"), ngx.shared.cats:get("k"))
            show(ngx.shared.dogs == ngx.shared["dogs"], ngx.shared.birds)
            local get = ngx.shared.cats.get
            show(get(ngx.shared.cats, "k"))
        }
    }
--- request
GET /t
--- response_body
dog cat
true nil
cat



=== TEST 18: a size below 8k
--- include_in: http
--- bad_conf
lua_shared_dict dogs 8191;
--- error_log eval
qr/\[emerg\] .*invalid lua shared dict size "8191" in .*bad\.conf:1/



=== TEST 19: a size that is not one
--- include_in: http
--- bad_conf
lua_shared_dict dogs 10x;
--- error_log eval
qr/\[emerg\] .*invalid lua shared dict size "10x" in .*bad\.conf:1/



=== TEST 20: no "g" in nginx's sizes
--- include_in: http
--- bad_conf
lua_shared_dict dogs 1g;
--- error_log eval
qr/\[emerg\] .*invalid lua shared dict size "1g" in .*bad\.conf:1/



=== TEST 21: the same name twice
--- include_in: http
--- bad_conf
lua_shared_dict dogs 1m;
lua_shared_dict dogs 1m;
--- error_log eval
qr/\[emerg\] .*lua_shared_dict "dogs" is already defined as "dogs" in .*bad\.conf:2/



=== TEST 22: the same name with another size
--- include_in: http
--- bad_conf
lua_shared_dict dogs 1m;
lua_shared_dict dogs 2m;
--- error_log eval
qr/\[emerg\] .*the size 2097152 of shared memory zone "dogs" conflicts with already declared size 1048576 in .*bad\.conf:2/



=== TEST 23: an empty name
--- include_in: http
--- bad_conf
lua_shared_dict "" 1m;
--- error_log eval
qr/\[emerg\] .*invalid lua shared dict name "" in .*bad\.conf:1/



=== TEST 24: http level only
--- bad_conf
lua_shared_dict dogs 1m;
--- error_log eval
qr/\[emerg\] .*"lua_shared_dict" directive is not allowed here in .*bad\.conf:1/



=== TEST 25: two arguments
--- include_in: http
--- bad_conf
lua_shared_dict dogs;
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "lua_shared_dict" directive in .*bad\.conf:1/
