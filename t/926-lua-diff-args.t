# Request arguments and their codecs found differing from OpenResty's in a side-by-side run
# with Debian's nginx and its Lua module.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/926-lua-diff-args.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.decode_args with max_args says "truncated" when input is left after the last pair taken
--- config
    location /t {
        content_by_lua_block {
            for _, c in ipairs({{"a=1", 1}, {"a=1&", 1}, {"a=1&b", 2}, {"a=1&b=2", 1},
                                {"&&a=1", 1}, {"=x&a=1", 1}, {"a=1&b=2", 0}}) do
                local t, err = ngx.decode_args(c[1], c[2])
                local keys = {}
                for k, v in pairs(t) do keys[#keys + 1] = k .. "=" .. tostring(v) end
                table.sort(keys)
                ngx.say(c[1], " ", c[2], ": ", table.concat(keys, ","), " ", tostring(err))
            end
        }
    }
--- request
GET /t
--- response_body
a=1 1: a=1 nil
a=1& 1: a=1 truncated
a=1&b 2: a=1,b=true nil
a=1&b=2 1: a=1 truncated
&&a=1 1:  truncated
=x&a=1 1:  truncated
a=1&b=2 0: a=1,b=2 nil
