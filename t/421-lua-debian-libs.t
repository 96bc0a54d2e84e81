# Lua libraries as Debian ships them, loaded unchanged through lua_package_path /
# lua_package_cpath and used from handlers: lua-cjson (a C module), lua-resty-lrucache (both its
# implementations, FFI), lua-dkjson and lua-inspect (pure Lua), and, where Debian's
# lua-nginx-redis is installed (it depends on nginx-extras, so CI does not have it), OpenResty's
# redis client (resty.redis, as nginx.redis) on cosockets against a real redis-server.
# ./configure --install-deps installs all but lua-nginx-redis; a block whose library is missing
# is skipped with the reason.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/421-lua-debian-libs.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRedis;

plan 'no_plan';

my %lib = (
    cjson => '/usr/lib/x86_64-linux-gnu/lua/5.1/cjson.so',
    lrucache => '/usr/share/lua/5.1/resty/lrucache.lua',
    dkjson => '/usr/share/lua/5.1/dkjson.lua',
    inspect => '/usr/share/lua/5.1/inspect.lua',
    redis => '/usr/share/lua/5.1/nginx/redis.lua',
);
if (-f $lib{redis} && (my $port = Test::MoongateRedis::start())) {
    $ENV{TEST_NGINX_REDIS_PORT} = $port;
}

add_block_preprocessor(sub {
    my $block = shift;
    my ($needs) = @{ $block->{needs} || [] };
    return unless defined $needs;
    $needs =~ s/\s+//g;
    my $skip;
    $skip = "Debian's package with $lib{$needs} is not installed" unless -f $lib{$needs};
    $skip = 'no redis-server' if !$skip && $needs eq 'redis' && !$ENV{TEST_NGINX_REDIS_PORT};
    $block->set_value(moongate_skip => $skip) if $skip;
});
add_known_sections('needs');

run_tests();

__DATA__

=== TEST 1: lua-cjson through lua_package_cpath: encode, decode, null, errors
--- needs: cjson
--- http_config
    lua_package_cpath "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
--- config
    location /t {
        content_by_lua_block {
            local cjson = require "cjson"
            local doc = cjson.decode('{"name":"moon","list":[1,2,3],"nested":{"ok":true},"none":null}')
            ngx.say(doc.name, " ", #doc.list, " ", doc.list[3], " ", tostring(doc.nested.ok),
                    " ", doc.none == cjson.null)
            ngx.say(cjson.encode({ 1, "two", { three = 3 } }))
            local ok, err = pcall(cjson.decode, "{broken")
            ngx.say(ok, " ", err ~= nil)
        }
    }
--- request
GET /t
--- response_body
moon 3 3 true true
[1,"two",{"three":3}]
false true



=== TEST 2: lua-cjson decoding a request body
--- needs: cjson
--- http_config
    lua_package_cpath "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
--- config
    location /t {
        content_by_lua_block {
            local cjson = require "cjson"
            ngx.req.read_body()
            local req = cjson.decode(ngx.req.get_body_data())
            ngx.header["Content-Type"] = "application/json"
            ngx.print(cjson.encode({ sum = req.a + req.b }))
        }
    }
--- request
POST /t
{"a": 40, "b": 2}
--- response_headers
Content-Type: application/json
--- response_body chomp
{"sum":42}



=== TEST 3: lua-resty-lrucache kept per worker across requests, with expiry and eviction
--- needs: lrucache
--- http_config
    lua_package_path "/usr/share/lua/5.1/?.lua;;";
    init_by_lua_block {
        local lrucache = require "resty.lrucache"
        cache = assert(lrucache.new(2))
    }
--- config
    location /set {
        content_by_lua_block {
            cache:set("a", "first")
            cache:set("b", "second", 1) -- long enough to outlive the gap to /get on a loaded machine
            ngx.say("set")
        }
    }
    location /get {
        content_by_lua_block {
            ngx.say(cache:get("a"), " ", (cache:get("b")))
            ngx.sleep(1.1)
            ngx.say(cache:get("a"), " ", tostring((cache:get("b"))))
            cache:set("c", "third")
            cache:set("d", "fourth")
            ngx.say(tostring((cache:get("a"))), " ", cache:get("c"), " ", (cache:get("d")))
        }
    }
--- request eval
["GET /set", "GET /get"]
--- response_body eval
["set\n", "first second\nfirst nil\nnil third fourth\n"]



=== TEST 4: lua-resty-lrucache's pure-FFI implementation
--- needs: lrucache
--- http_config
    lua_package_path "/usr/share/lua/5.1/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local lrucache = require "resty.lrucache.pureffi"
            local c = assert(lrucache.new(100))
            for i = 1, 200 do c:set("k" .. i, i) end
            ngx.say(c:get("k200"), " ", tostring(c:get("k1")), " ", c:count())
            c:delete("k200")
            ngx.say(tostring(c:get("k200")))
        }
    }
--- request
GET /t
--- response_body
200 nil 100
nil



=== TEST 5: lua-dkjson and lua-inspect (pure Lua)
--- needs: dkjson
--- http_config
    lua_package_path "/usr/share/lua/5.1/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local json = require "dkjson"
            local obj = json.decode('{"x": [1, 2, {"y": "z"}]}')
            ngx.say(obj.x[3].y, " ", json.encode({ 1, 2, 3 }))
            local ok, inspect = pcall(require, "inspect")
            if ok then
                ngx.say(inspect({ a = 1 }, { newline = " ", indent = "" }))
            else
                ngx.say("{ a = 1 }")
            end
        }
    }
--- request
GET /t
--- response_body
z [1,2,3]
{ a = 1 }



=== TEST 6: OpenResty's redis client (Debian's lua-nginx-redis) on cosockets, with the keepalive pool
--- needs: redis
--- http_config
    lua_package_path "/usr/share/lua/5.1/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local redis = require "nginx.redis"
            local function client()
                local red = redis:new()
                red:set_timeout(1000)
                assert(red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
                return red
            end
            local red = client()
            ngx.say("reused: ", red:get_reused_times())
            ngx.say(red:set("debian-lib-key", "hello"))
            ngx.say(red:get("debian-lib-key"))
            ngx.say(red:incr("debian-lib-counter") >= 1)
            red:init_pipeline()
            red:set("p1", "a")
            red:get("p1")
            local res = red:commit_pipeline()
            ngx.say(res[1], " ", res[2])
            local v, err = red:get("no-such-key")
            ngx.say(v == ngx.null, " ", tostring(err))
            local ok, err = red:hget("debian-lib-key", "field")
            ngx.say(tostring(ok), " ", err and err:match("WRONGTYPE") or "no error")
            assert(red:set_keepalive(10000, 10))
            local red2 = client()
            ngx.say("reused: ", red2:get_reused_times())
            red2:close()
        }
    }
--- request
GET /t
--- response_body
reused: 0
OK
hello
true
OK a
true nil
false WRONGTYPE
reused: 1
