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
