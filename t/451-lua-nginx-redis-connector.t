# Debian's lua-nginx-redis-connector (lua-resty-redis-connector) over lua-nginx-redis,
# unchanged, against a real redis-server the file starts (Test::MoongateRedis): connect by
# host/port and by DSN url with a db, keepalive and reuse, a refused port, a proxied
# connection's disabled commands. Unpacked by Test::MoongateLuaNginx.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/451-lua-nginx-redis-connector.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRedis;
use Test::MoongateLuaNginx;

plan 'no_plan';

my $lib = Test::MoongateLuaNginx::lib(qw(lua-nginx-redis lua-nginx-redis-connector));
$ENV{TEST_NGINX_LUA_NGINX} = $lib // '';
my $why = $lib ? undef : $Test::MoongateLuaNginx::Why;
if (!$why) {
    my $port = Test::MoongateRedis::start();
    $why = $Test::MoongateRedis::Why unless $port;
    $ENV{TEST_NGINX_REDIS_PORT} = $port // 0;
    $ENV{TEST_NGINX_CLOSED_PORT} = Test::Moongate::find_free_port();
}
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(moongate_skip => $why) if $why;
    $block->set_value(http_config => <<'CONF');
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
CONF
});

run_tests();

__DATA__

=== TEST 1: connect by host and port, set and get, keepalive; the next connect reuses the connection
--- config
    location /t {
        content_by_lua_block {
            local rc = require("nginx.redis.connector").new({ read_timeout = 2000 })
            for i = 1, 2 do
                local redis, err = rc:connect({ host = "127.0.0.1", port = $TEST_NGINX_REDIS_PORT })
                if not redis then
                    ngx.say("connect: ", err)
                    return
                end
                ngx.say("reused ", redis:get_reused_times())
                redis:set("conn:key" .. i, "value " .. i)
                ngx.say(redis:get("conn:key" .. i))
                ngx.say("keepalive ", rc:set_keepalive(redis))
            end
        }
    }
--- request
GET /t
--- response_body
reused 0
value 1
keepalive 1
reused 1
value 2
keepalive 1
--- no_error_log
[error]

=== TEST 2: a DSN url with a db number: the connector selects it
--- config
    location /t {
        content_by_lua_block {
            local connector = require "nginx.redis.connector"
            local rc = connector.new({ url = "redis://127.0.0.1:$TEST_NGINX_REDIS_PORT/3" })
            local redis = assert(rc:connect())
            redis:set("db:key", "in three")
            redis:select(0)
            ngx.say("db 0: ", redis:get("db:key"))
            redis:select(3)
            ngx.say("db 3: ", redis:get("db:key"))
            local p = connector.parse_dsn({ url = "redis://secret@10.1.2.3:6380/2" })
            ngx.say(p.password, " ", p.host, " ", p.port, " ", p.db)
            redis:close()
        }
    }
--- request
GET /t
--- response_body
db 0: null
db 3: in three
secret 10.1.2.3 6380 2

=== TEST 3: nothing listens: connect fails with the cosocket's error; try_hosts goes on to the next host
--- config
    location /t {
        content_by_lua_block {
            local rc = require("nginx.redis.connector").new()
            local redis, err = rc:connect({ host = "127.0.0.1", port = $TEST_NGINX_CLOSED_PORT })
            ngx.say(redis, " ", err)
            local r, err, errs = rc:try_hosts({
                { host = "127.0.0.1", port = $TEST_NGINX_CLOSED_PORT },
                { host = "127.0.0.1", port = $TEST_NGINX_REDIS_PORT },
            })
            ngx.say(r ~= nil, " ", err, " ", errs[1])
            r:close()
        }
    }
--- request
GET /t
--- response_body
nil connection refused
true nil connection refused
--- error_log
connect() failed (111: Connection refused)

=== TEST 4: connection_is_proxied: the commands a proxy lacks are refused before they are sent
--- config
    location /t {
        content_by_lua_block {
            local rc = require("nginx.redis.connector").new({ connection_is_proxied = true })
            local redis = assert(rc:connect({ host = "127.0.0.1", port = $TEST_NGINX_REDIS_PORT }))
            ngx.say(redis:flushall())
            ngx.say(redis:set("proxied", "ok"))
            redis:close()
        }
    }
--- request
GET /t
--- response_body
nilCommand flushall is disabled
OK
