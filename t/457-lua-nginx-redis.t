# Debian's lua-nginx-redis (lua-resty-redis as nginx.redis), unchanged, on cosockets against a
# real redis-server this file starts (Test::MoongateRedis): set/get and replies of each type,
# pipelines (with an error reply inside), hmset and array_to_hash, pub/sub (subscribe and
# psubscribe in one request, publish from other requests; read_reply's timeout; no keepalive while
# subscribed), and set_keepalive: the next request gets the same connection (get_reused_times
# and CLIENT ID). Unpacked by Test::MoongateLuaNginx.
#
#   prove -I t/lib t/457-lua-nginx-redis.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/457-lua-nginx-redis.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRedis;
use Test::MoongateLuaNginx;

plan 'no_plan';

my $lib = Test::MoongateLuaNginx::lib(qw(lua-nginx-redis));
$ENV{TEST_NGINX_LUA_NGINX} = $lib // '';
my $why = $lib ? undef : $Test::MoongateLuaNginx::Why;
if (!$why) {
    my $port = Test::MoongateRedis::start();
    $why = $Test::MoongateRedis::Why unless $port;
    $ENV{TEST_NGINX_REDIS_PORT} = $port // 0;
}

# "red" (a global of init_by_lua): red() -> a client connected to the test's redis-server;
# get(path) -> the body of a request to this server, made over a cosocket (another request)
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(moongate_skip => $why) if $why;
    my ($http) = @{ $block->{http_config} || [''] };
    $block->set_value(http_config => $http . <<'CONF');
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
    init_by_lua_block {
        function red(timeout)
            local r = require("nginx.redis"):new()
            r:set_timeout(timeout or 2000)
            local ok, err = r:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT)
            if not ok then
                error("connect: " .. err)
            end
            return r
        end
        function get(path)
            local sock = ngx.socket.tcp()
            sock:settimeout(3000)
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            assert(sock:send("GET " .. path .. " HTTP/1.0\r\nHost: localhost\r\n\r\n"))
            local res = assert(sock:receive("*a"))
            sock:close()
            return res:match("\r\n\r\n(.*)")
        end
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: set and get; a missing key is ngx.null; integers, errors, arrays
--- config
    location /t {
        content_by_lua_block {
            local r = red()
            ngx.say("set ", r:set("k:dog", "an animal"))
            ngx.say("get ", r:get("k:dog"))
            ngx.say("missing is null ", r:get("k:none") == ngx.null)
            r:del("k:n", "k:list")
            ngx.say("incr ", r:incr("k:n"), " ", r:incrby("k:n", 41))
            local res, err = r:incr("k:dog")
            ngx.say("incr a word ", res, " ", err)
            r:rpush("k:list", "a", "b", "c")
            ngx.say("lrange ", table.concat(r:lrange("k:list", 0, -1), ","))
            ngx.say("close ", r:close())
        }
    }
--- request
GET /t
--- response_body
set OK
get an animal
missing is null true
incr 1 42
incr a word false ERR value is not an integer or out of range
lrange a,b,c
close 1



=== TEST 2: a pipeline: commands queued, one round trip, replies in order with the error among them
--- config
    location /t {
        content_by_lua_block {
            local r = red()
            r:init_pipeline()
            r:set("p:cat", "Marry")
            r:set("p:horse", "Bob")
            r:get("p:cat")
            r:incr("p:cat")
            r:get("p:horse")
            r:get("p:none")
            local results, err = r:commit_pipeline()
            for i, res in ipairs(results) do
                if type(res) == "table" then
                    ngx.say(i, ": ", tostring(res[1]), " ", res[2])
                else
                    ngx.say(i, ": ", res == ngx.null and "null" or res)
                end
            end
            ngx.say("empty commit ", r:commit_pipeline())
            r:init_pipeline()
            r:set("p:never", "sent")
            r:cancel_pipeline()
            ngx.say("cancelled: ", r:get("p:never") == ngx.null)
            r:close()
        }
    }
--- request
GET /t
--- response_body
1: OK
2: OK
3: Marry
4: false ERR value is not an integer or out of range
5: Bob
6: null
empty commit nilno pipeline
cancelled: true



=== TEST 3: hmset from a table and hgetall through array_to_hash
--- config
    location /t {
        content_by_lua_block {
            local r = red()
            r:del("h:animals")
            ngx.say("hmset ", r:hmset("h:animals", { dog = "bark", cat = "meow" }))
            local h = r:array_to_hash(r:hgetall("h:animals"))
            ngx.say("dog ", h.dog, ", cat ", h.cat)
            r:close()
        }
    }
--- request
GET /t
--- response_body
hmset OK
dog bark, cat meow



=== TEST 4: subscribe, then another request publishes; read_reply gets the message
--- config
    location /pub {
        content_by_lua_block {
            local r = red()
            ngx.print(r:publish(ngx.var.arg_c, ngx.var.arg_m))
            r:close()
        }
    }
    location /t {
        content_by_lua_block {
            local r = red()
            local res = r:subscribe("news")
            ngx.say("subscribe: ", table.concat(res, " "))
            ngx.say("keepalive while subscribed: ", r:set_keepalive())
            -- the publishing request runs while this one waits in read_reply
            local t = ngx.thread.spawn(get, "/pub?c=news&m=hello")
            res = r:read_reply()
            ngx.say("message: ", table.concat(res, " "))
            local _, receivers = ngx.thread.wait(t)
            ngx.say("receivers: ", receivers)
            res = r:unsubscribe("news")
            ngx.say("unsubscribe: ", table.concat(res, " "))
            ngx.say("read_reply after: ", r:read_reply())
            ngx.say("get: ", r:set("ps:k", "v"), " ", r:get("ps:k"))
            r:close()
        }
    }
--- request
GET /t
--- response_body
subscribe: subscribe news 1
keepalive while subscribed: nilsubscribed state
message: message news hello
receivers: 1
unsubscribe: unsubscribe news 0
read_reply after: nilnot subscribed
get: OK v



=== TEST 5: psubscribe: two messages from two requests, then read_reply times out (the connection stays)
--- config
    location /pub {
        content_by_lua_block {
            local r = red()
            ngx.print(r:publish(ngx.var.arg_c, ngx.var.arg_m))
            r:close()
        }
    }
    location /t {
        content_by_lua_block {
            local r = red()
            local res = r:psubscribe("chan.*")
            ngx.say("psubscribe: ", table.concat(res, " "))
            for _, m in ipairs({"one", "two"}) do
                local t = ngx.thread.spawn(get, "/pub?c=chan." .. m .. "&m=" .. m)
                res = r:read_reply()
                ngx.say("pmessage: ", table.concat(res, " "))
                ngx.thread.wait(t)
            end
            r:set_timeout(100)
            ngx.say("nothing more: ", r:read_reply())
            r:set_timeout(2000)
            res = r:punsubscribe("chan.*")
            ngx.say("punsubscribe: ", table.concat(res, " "))
            r:close()
        }
    }
--- request
GET /t
--- response_body
psubscribe: psubscribe chan.* 1
pmessage: pmessage chan.* chan.one one
pmessage: pmessage chan.* chan.two two
nothing more: niltimeout
punsubscribe: punsubscribe chan.* 0
--- error_log
lua tcp socket read timed out



=== TEST 6: set_keepalive: the next requests get the same connection (reused count, CLIENT ID)
--- http_config
    lua_shared_dict memo 1m;
--- config
    location /t {
        content_by_lua_block {
            local r = red()
            local id = r:client("id")
            local first = ngx.shared.memo:get("id")
            if not first then
                ngx.shared.memo:set("id", id)
            end
            ngx.say("reused ", r:get_reused_times(), ", same connection ", (first or id) == id)
            ngx.say("keepalive ", r:set_keepalive(10000, 10))
        }
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["reused 0, same connection true\nkeepalive 1\n", "reused 1, same connection true\nkeepalive 1\n",
 "reused 2, same connection true\nkeepalive 1\n"]
