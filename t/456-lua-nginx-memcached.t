# Debian's lua-nginx-memcached (lua-resty-memcached as nginx.memcached), unchanged, on
# cosockets against a real memcached this file starts (Test::MoongateDaemon): the storage
# commands, get and multi-get, gets/cas, incr/decr (and on a value that is no number), delete,
# flush_all, touch, the keepalive pool (the next request's connection is the kept one, and
# memcached saw one connection), a refused connection. Unpacked by Test::MoongateLuaNginx.
#
#   prove -I t/lib t/456-lua-nginx-memcached.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/456-lua-nginx-memcached.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateDaemon;
use Test::MoongateLuaNginx;

plan 'no_plan';

daemon_skip_unless('memcached');
my $lib = Test::MoongateLuaNginx::lib(qw(lua-nginx-memcached));
my $why = $lib ? undef : $Test::MoongateLuaNginx::Why;
$ENV{TEST_NGINX_LUA_NGINX} = $lib // '';
if (!$why) {
    daemon(memc => sub {
        my ($port) = @_;
        return ('memcached', '-l', '127.0.0.1', '-p', $port, '-U', '0', '-u', 'root', '-m', '16');
    });
    $ENV{TEST_NGINX_CLOSED_PORT} = Test::Moongate::find_free_port();
}

# "memc" (a global of init_by_lua): memc() -> a client connected to the test's memcached
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(moongate_skip => $why) if $why;
    my ($http) = @{ $block->{http_config} || [''] };
    $block->set_value(http_config => $http . <<'CONF');
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
    init_by_lua_block {
        function memc()
            local m = require("nginx.memcached"):new()
            m:set_timeout(2000)
            local ok, err = m:connect("127.0.0.1", $TEST_NGINX_MEMC_PORT)
            if not ok then
                error("connect: " .. err)
            end
            return m
        end
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: set, get, add, replace, append, prepend; a miss; flags
--- config
    location /t {
        content_by_lua_block {
            local m = memc()
            ngx.say("set ", m:set("s:dog", "32", 0, 7))
            ngx.say("get ", m:get("s:dog"))
            ngx.say("miss ", m:get("s:none"))
            ngx.say("add taken ", m:add("s:dog", "x"))
            ngx.say("add new ", m:add("s:cat", "meow"))
            ngx.say("replace missing ", m:replace("s:bird", "tweet"))
            ngx.say("replace ", m:replace("s:cat", "purr"))
            ngx.say("append ", m:append("s:cat", "!"))
            ngx.say("prepend ", m:prepend("s:cat", "<"))
            ngx.say("get ", m:get("s:cat"))
            ngx.say("table value ", m:set("s:tbl", {"a", {"b", "c"}, "d"}))
            ngx.say("get ", m:get("s:tbl"))
            m:close()
        }
    }
--- request
GET /t
--- response_body
set 1
get 327
miss nilnilnil
add taken nilNOT_STORED
add new 1
replace missing nilNOT_STORED
replace 1
append 1
prepend 1
get <purr!0
table value 1
get abcd0



=== TEST 2: multi-get, gets and cas (a stale cas is refused), touch
--- config
    location /t {
        content_by_lua_block {
            local m = memc()
            m:set("g:a", "1")
            m:set("g:b", "2", 0, 5)
            local res = m:get({"g:a", "g:b", "g:none"})
            ngx.say("a=", res["g:a"][1], "/", res["g:a"][2], " b=", res["g:b"][1], "/",
                    res["g:b"][2], " none=", tostring(res["g:none"]))
            local v, flags, cas = m:gets("g:a")
            ngx.say("gets ", v, " ", flags, " ", type(cas))
            ngx.say("cas ", m:cas("g:a", "10", cas))
            ngx.say("stale cas ", m:cas("g:a", "11", cas))
            ngx.say("get ", m:get("g:a"))
            ngx.say("touch ", m:touch("g:a", 100))
            ngx.say("touch missing ", m:touch("g:none", 100))
            m:close()
        }
    }
--- request
GET /t
--- response_body
a=1/0 b=2/5 none=nil
gets 1 0 string
cas 1
stale cas nilEXISTS
get 100
touch 1
touch missing nilNOT_FOUND



=== TEST 3: incr, decr, on a missing key and on a value that is no number; delete
--- config
    location /t {
        content_by_lua_block {
            local m = memc()
            m:set("n:count", "10")
            ngx.say("incr ", m:incr("n:count", 5))
            ngx.say("decr ", m:decr("n:count", 20))
            ngx.say("incr missing ", m:incr("n:none", 1))
            m:set("n:word", "ten")
            local v, err = m:incr("n:word", 1)
            ngx.say("incr word ", v, " ", err)
            ngx.say("delete ", m:delete("n:count"))
            ngx.say("delete again ", m:delete("n:count"))
            ngx.say("get ", m:get("n:count"))
            m:close()
        }
    }
--- request
GET /t
--- response_body
incr 15
decr 0
incr missing nilNOT_FOUND
incr word nil CLIENT_ERROR cannot increment or decrement non-numeric value
delete 1
delete again nilNOT_FOUND
get nilnilnil



=== TEST 4: flush_all empties the cache; version and stats
--- config
    location /t {
        content_by_lua_block {
            local m = memc()
            m:set("f:a", "1")
            m:set("f:b", "2")
            ngx.say("flush_all ", m:flush_all())
            ngx.say("a ", m:get("f:a"), " b ", m:get("f:b"))
            ngx.say("version ", (m:version():match("^%d+%.%d+") and "x.y" or "?"))
            local stats = m:stats()
            local n
            for _, line in ipairs(stats) do
                n = n or line:match("^STAT cmd_flush (%d+)")
            end
            ngx.say("flushed ", tonumber(n) >= 1)
            m:close()
        }
    }
--- request
GET /t
--- response_body
flush_all 1
a nil b nilnilnil
version x.y
flushed true



=== TEST 5: set_keepalive: the next request gets the kept connection, and memcached saw no new one
--- config
    location /t {
        content_by_lua_block {
            local m = memc()
            ngx.say("reused ", m:get_reused_times())
            local stats = m:stats()
            local total
            for _, line in ipairs(stats) do
                total = total or line:match("^STAT total_connections (%d+)")
            end
            -- the first request keeps the count, the later ones compare with it
            local first = ngx.shared.memo:get("total")
            if not first then
                ngx.shared.memo:set("total", total)
                ngx.say("first")
            else
                ngx.say("connections since: ", tonumber(total) - tonumber(first))
            end
            ngx.say("keepalive ", m:set_keepalive(10000, 10))
        }
    }
--- http_config
    lua_shared_dict memo 1m;
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["reused 0\nfirst\nkeepalive 1\n", "reused 1\nconnections since: 0\nkeepalive 1\n",
 "reused 2\nconnections since: 0\nkeepalive 1\n"]



=== TEST 6: a refused connection: nil and the error, nginx's log line
--- config
    location /t {
        content_by_lua_block {
            local m = require("nginx.memcached"):new()
            m:set_timeout(2000)
            local ok, err = m:connect("127.0.0.1", $TEST_NGINX_CLOSED_PORT)
            ngx.say(ok, " ", err)
            local v, flags, err = m:get("k")
            ngx.say(v, " ", flags, " ", err)
        }
    }
--- request
GET /t
--- response_body
nil connection refused
nil nil closed
--- error_log eval
qr/\[error\] .*connect\(\) failed \(111: Connection refused\)/
