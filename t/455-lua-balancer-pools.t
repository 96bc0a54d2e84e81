# ngx.balancer's set_current_peer(host, port, host) and its keepalive pools (lua-resty-core
# 0.1.28's third argument: the try's TLS name, in proxy_ssl_name's place, and part of the key
# of enable_keepalive's pool; the options table with `pool` and `pool_size` that
# enable_keepalive's documentation names). Debian's nginx (lua-resty-core 0.1.25) has neither
# the third argument nor enable_keepalive, hence moongate_only. A TLS server{} of the same
# configuration plays the upstream, answering with the SNI it got and its connection's serial
# number and request count; /t runs subrequests through /p and names each upstream connection
# by a letter in the order they appear (A1 = connection A, its first request).
#
#   prove -I t/lib t/455-lua-balancer-pools.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::Moongate::Certs;

plan 'no_plan';

backend(b => 'counting');
backend(gone => 'refused');
Test::Moongate::Certs::make();
$ENV{TEST_NGINX_TLS_PORT} = Test::Moongate::find_free_port();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => <<'CONF' . ($block->http_config // ''));
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        location / {
            return 200 "$ssl_server_name conn=$connection req=$connection_requests\n";
        }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        server_name b.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/b.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/b.test.key;
        location / {
            return 200 "$ssl_server_name conn=$connection req=$connection_requests\n";
        }
    }
    init_by_lua_block {
        -- "SNI A1" per response: the connection's letter, then its request count
        function runner()
            local seen, n = {}, 0
            local function name(body)
                local sni, conn, req = body:match("^(%S*) conn=(%d+) req=(%d+)")
                if not conn then
                    return "? " .. body
                end
                if not seen[conn] then
                    n = n + 1
                    seen[conn] = string.char(64 + n)
                end
                return sni .. " " .. seen[conn] .. req
            end
            return function(args)
                local res = ngx.location.capture("/p", { args = args })
                return res.status .. " " .. name(res.body)
            end, name
        end
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: the host argument is the try's SNI, and a connection is pooled by it: another SNI to the same address gets its own
--- moongate_only
--- http_config
    upstream tls {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_TLS_PORT, ngx.var.arg_host))
            assert(b.enable_keepalive())
        }
    }
--- config
    location /p {
        internal;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_ssl_server_name on;
        proxy_pass https://tls/;
    }
    location /t {
        content_by_lua_block {
            local run = runner()
            for _, h in ipairs({ "a.test", "b.test", "a.test", "B.TEST", "b.test" }) do
                ngx.say(run("host=" .. h))
            end
        }
    }
--- request
GET /t
--- response_body
200 a.test A1
200 b.test B1
200 a.test A2
200 b.test B2
200 b.test B3
--- no_error_log
[error]

=== TEST 2: without a host a TLS try's pool is its TLS name (proxy_ssl_name); a retry without a host has the request's name again
--- moongate_only
--- http_config
    upstream tls {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            if ngx.var.arg_retry and not b.get_last_failure() then
                -- the first try, to a refused port, with a host; the retry has none
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_GONE_PORT, "a.test"))
                assert(b.set_more_tries(1))
                return
            end
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_TLS_PORT, ngx.var.arg_host))
            assert(b.enable_keepalive())
        }
    }
--- config
    location /p {
        internal;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_ssl_server_name on;
        proxy_ssl_name b.test;
        proxy_pass https://tls/;
    }
    location /t {
        content_by_lua_block {
            local run = runner()
            ngx.say(run(""))
            ngx.say(run("host=a.test"))
            ngx.say(run(""))
            ngx.say(run("retry=1"))
        }
    }
--- request
GET /t
--- response_body
200 b.test A1
200 a.test B1
200 b.test A2
200 b.test A3
--- error_log
connect() failed (111: Connection refused) while connecting to upstream

=== TEST 3: proxy_ssl_verify checks the certificate against the host argument
--- moongate_only
--- http_config
    upstream tls {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_TLS_PORT, ngx.var.arg_host))
        }
    }
--- config
    location /p {
        internal;
        proxy_ssl_server_name on;
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        proxy_pass https://tls/;
    }
    location /t {
        content_by_lua_block {
            local run = runner()
            ngx.say(run("host=b.test"))
            ngx.say(run("host=wrong.test"))
        }
    }
--- request
GET /t
--- response_body_like chomp
\A200 b\.test A1
502 \? 
--- error_log
upstream SSL certificate does not match "wrong.test"

=== TEST 4: the pool option: two pools to one address keep their connections apart
--- moongate_only
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_B_PORT, { pool = ngx.var.arg_pool }))
            assert(b.enable_keepalive())
        }
    }
--- config
    location /p {
        internal;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://backend;
    }
    location /t {
        content_by_lua_block {
            local run = runner()
            for _, p in ipairs({ "one", "two", "one", "two", "one" }) do
                ngx.say(run("pool=" .. p))
            end
        }
    }
--- request
GET /t
--- response_body
200 b A1
200 b B1
200 b A2
200 b B2
200 b A3
--- no_error_log
[error]

=== TEST 5: pool_size bounds a pool's idle connections (the least recently used one goes)
--- moongate_only
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local size = tonumber(ngx.var.arg_size)
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_B_PORT,
                                      { pool = "p" .. size, pool_size = size }))
            assert(b.enable_keepalive())
        }
    }
--- config
    location /p {
        internal;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        # both requests of a pair are in flight together: two connections
        proxy_set_header X-Echo-Delay 0.2;
        proxy_pass http://backend;
    }
    location /t {
        content_by_lua_block {
            local _, name = runner()
            for _, size in ipairs({ "1", "2" }) do
                for round = 1, 2 do
                    local a, b = ngx.location.capture_multi({
                        { "/p", { args = "size=" .. size } },
                        { "/p", { args = "size=" .. size } },
                    })
                    local reqs = { name(a.body):match("%d+$"), name(b.body):match("%d+$") }
                    table.sort(reqs)
                    ngx.say("size ", size, " round ", round, ": ", table.concat(reqs, " "))
                end
            end
        }
    }
--- request
GET /t
--- response_body
size 1 round 1: 1 1
size 1 round 2: 1 2
size 2 round 1: 1 1
size 2 round 2: 2 2
--- no_error_log
[error]

=== TEST 6: enable_keepalive's connections and the keepalive directive's are apart
--- moongate_only
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_B_PORT))
            if ngx.var.arg_lua then
                assert(b.enable_keepalive())
            end
        }
        keepalive 4;
    }
--- config
    location /p {
        internal;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://backend;
    }
    location /t {
        content_by_lua_block {
            local run = runner()
            for _, a in ipairs({ "lua=1", "", "lua=1", "", "" }) do
                ngx.say(run(a))
            end
        }
    }
--- request
GET /t
--- response_body
200 b A1
200 b B1
200 b A2
200 b B2
200 b B3
--- no_error_log
[error]

=== TEST 7: bad third arguments raise errors
--- moongate_only
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            ngx.log(ngx.WARN, "1: ", select(2, pcall(b.set_current_peer, "127.0.0.1", 80, 5)))
            ngx.log(ngx.WARN, "2: ", select(2, pcall(b.set_current_peer, "127.0.0.1", 80, { pool = 5 })))
            ngx.log(ngx.WARN, "3: ", select(2, pcall(b.set_current_peer, "127.0.0.1", 80, { pool_size = 0 })))
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_B_PORT, ""))
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_body_like: \Ab conn=\d+ req=1\n\z
--- error_log
1: bad argument #3 to 'set_current_peer' (string expected, got number)
2: bad option 'pool' to 'set_current_peer' (string expected, got number)
3: bad option 'pool_size' to 'set_current_peer' (expected > 0)
