# balancer_by_lua_block / _file in upstream{} and require "ngx.balancer": the code runs on
# every try with the request's ngx.var and ngx.ctx; set_current_peer (IP, ip:port, [v6],
# unix:), set_more_tries (and its limit), get_last_failure, set_timeouts; a try without a
# peer goes to the "server" lines (round robin); a Lua error or ngx.exit(500) is a 500;
# APIs that would yield are disabled there. moongate resolves a host name through the
# location's resolver (the code waits for the answer; nginx says "no host allowed"), and
# localhost or /etc/hosts names without one.
#
#   prove -I t/lib t/435-lua-balancer.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/435-lua-balancer.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDNS;

plan 'no_plan';

backend(a => 'echo');
backend(b => 'counting');
backend(slow => 'echo', delay => 2);
backend(gone => 'refused');
backend(u => 'echo', unix => 1);
backend(e500 => 'echo', status => 500);

dns_start(
    'a.test'    => { a => ['127.0.0.1'] },
    'slow.test' => { drop => 1 },
);

run_tests();

__DATA__

=== TEST 1: set_current_peer(ip, port); the code sees ngx.var and ngx.ctx; $upstream_addr
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            ngx.log(ngx.WARN, "balancer: ", ngx.get_phase(), " ", ngx.var.uri, " ", ngx.ctx.who)
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_A_PORT))
        }
    }
--- config
    location /t {
        access_by_lua_block { ngx.ctx.who = "from-access" }
        add_header X-Addr $upstream_addr;
        proxy_pass http://backend/x;
    }
--- request
GET /t
--- response_body_like: \AGET /x HTTP/1\.0\n
--- response_headers eval
"X-Addr: 127.0.0.1:$Test::MoongateBackend::Port{a}\nX-Backend: a"
--- error_log
balancer: balancer /t from-access
--- no_error_log
[error]



=== TEST 2: "ip:port" in the host wins over the port argument; a string port is taken
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1:$TEST_NGINX_B_PORT", "1"))
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_body_like: \Ab conn=\d+ req=1\n\z
--- no_error_log
[error]



=== TEST 3: a unix: peer
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("unix:$TEST_NGINX_U_SOCK"))
        }
    }
--- config
    location /t {
        add_header X-Addr $upstream_addr;
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_headers eval
"X-Addr: unix:$ENV{TEST_NGINX_U_SOCK}\nX-Backend: u"
--- no_error_log
[error]



=== TEST 4: retries: the code runs again on the next try and sees the failure
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            ngx.ctx.n = (ngx.ctx.n or 0) + 1
            local state, status = b.get_last_failure()
            ngx.log(ngx.WARN, "try ", ngx.ctx.n, " last: ", tostring(state), " ", tostring(status))
            if ngx.ctx.n == 1 then
                assert(b.set_more_tries(1))
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_GONE_PORT))
            else
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_A_PORT))
            end
        }
    }
--- config
    location /t {
        add_header X-Addr $upstream_addr;
        add_header X-Status $upstream_status;
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_headers eval
"X-Addr: 127.0.0.1:$Test::MoongateBackend::Port{gone}, 127.0.0.1:$Test::MoongateBackend::Port{a}\nX-Status: 502, 200\nX-Backend: a"
--- error_log
try 1 last: nil nil
try 2 last: failed 502
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 5: a bad status with proxy_next_upstream http_500: "failed" with the status
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            ngx.ctx.n = (ngx.ctx.n or 0) + 1
            local state, status = b.get_last_failure()
            ngx.log(ngx.WARN, "try ", ngx.ctx.n, " last: ", tostring(state), " ", tostring(status))
            if ngx.ctx.n == 1 then
                b.set_more_tries(1)
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_E500_PORT))
            else
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_A_PORT))
            end
        }
    }
--- config
    location /t {
        proxy_next_upstream http_500;
        add_header X-Status $upstream_status;
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_headers
X-Status: 500, 200
X-Backend: a
--- error_log
try 2 last: failed 500
--- no_error_log
[error]



=== TEST 6: without set_more_tries a failed try is the last one (one "server" line)
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            ngx.log(ngx.WARN, "balancer runs")
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_GONE_PORT))
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 502
--- error_log
balancer runs
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 7: set_more_tries beyond proxy_next_upstream_tries is reduced, with a warning
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            ngx.ctx.n = (ngx.ctx.n or 0) + 1
            if ngx.ctx.n == 1 then
                local ok, err = b.set_more_tries(10)
                ngx.log(ngx.WARN, "more tries: ", tostring(ok), " ", tostring(err))
            end
            ngx.log(ngx.WARN, "try #", ngx.ctx.n)
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_GONE_PORT))
        }
    }
--- config
    location /t {
        proxy_next_upstream_tries 3;
        add_header X-Status $upstream_status always;
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 502
--- response_headers
X-Status: 502, 502, 502
--- error_log
more tries: true reduced tries due to limit
try #3
--- no_error_log
try #4



=== TEST 8: a try the code names no peer for goes to the "server" lines
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        balancer_by_lua_block {
            ngx.log(ngx.WARN, "no peer named")
        }
    }
--- config
    location /t {
        add_header X-Addr $upstream_addr;
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_headers eval
"X-Addr: 127.0.0.1:$Test::MoongateBackend::Port{a}\nX-Backend: a"
--- error_log
no peer named



=== TEST 9: ... and so a placeholder that does not answer gives a 502
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            ngx.log(ngx.WARN, "no peer named")
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 502
--- error_log
no peer named
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 10: a Lua error is a 500, logged with its traceback (no "coroutine 0:" line: OpenResty runs the code outside a coroutine)
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        balancer_by_lua_block {
            local t = nil
            return t.field
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 500
--- error_log eval
[qr/\[error\] .*failed to run balancer_by_lua\*: balancer_by_lua\(moongate\.conf:\d+\):3: attempt to index local 't' \(a nil value\)/,
 qr/^stack traceback:/m]
--- no_error_log eval
qr/^coroutine 0:/m



=== TEST 11: ngx.exit(ngx.ERROR) is a 500
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        balancer_by_lua_block {
            return ngx.exit(ngx.ERROR)
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 500



=== TEST 12: ngx.exit(403), a status, is a 500 too
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        balancer_by_lua_block {
            return ngx.exit(403)
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 500



=== TEST 13: a name no local source knows: nil and "no host allowed"; bad ports
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            ngx.log(ngx.WARN, "name: ", tostring(select(2, b.set_current_peer("nosuch.invalid", 80))))
            ngx.log(ngx.WARN, "v6 without brackets: ", tostring(select(2, b.set_current_peer("::1", 80))))
            ngx.log(ngx.WARN, "[v6]: ", tostring(b.set_current_peer("[::1]", 80)))
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_A_PORT))
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_headers
X-Backend: a
--- error_log
name: no host allowed
v6 without brackets: invalid port
[v6]: true



=== TEST 14: set_timeouts: the read timeout applies to this try (504)
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_timeouts(nil, nil, 0.3))
            local ok, err = pcall(b.set_timeouts, 0)
            ngx.log(ngx.WARN, "zero: ", err)
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_SLOW_PORT))
        }
    }
--- config
    location /t {
        proxy_read_timeout 10s;
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 504
--- error_log
upstream timed out (110: Connection timed out) while reading response header from upstream
zero: bad connect timeout



=== TEST 15: APIs that would yield or send output are disabled in the balancer
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        balancer_by_lua_block {
            local ok, err = pcall(ngx.sleep, 0.01)
            ngx.log(ngx.WARN, "sleep: ", err)
            ok, err = pcall(ngx.say, "x")
            ngx.log(ngx.WARN, "say: ", err)
            ok, err = pcall(ngx.socket.tcp)
            ngx.log(ngx.WARN, "tcp: ", ok and "ok" or err)
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_headers
X-Backend: a
--- error_log
sleep: API disabled in the context of balancer_by_lua*
say: API disabled in the context of balancer_by_lua*



=== TEST 16: balancer_by_lua_file
--- user_files
>>> bal.lua
local b = require "ngx.balancer"
assert(b.set_current_peer("127.0.0.1", tonumber(ngx.var.arg_port)))
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_file html/bal.lua;
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request eval
"GET /t?port=$Test::MoongateBackend::Port{b}"
--- response_body_like: \Ab conn=\d+ req=1\n\z



=== TEST 17: upstream keepalive pools the Lua peers' connections
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_B_PORT))
        }
        keepalive 4;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://backend;
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body_like eval
[qr/\Ab conn=\d+ req=1\n\z/, qr/\Ab conn=\d+ req=2\n\z/]



=== TEST 18: the directive twice in one block is a config error
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        balancer_by_lua_block { }
        balancer_by_lua_block { }
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*is duplicate in .*moongate\.conf:\d+/



=== TEST 19: outside balancer_by_lua the functions answer nil and "no upstream found"
--- config
    location /t {
        content_by_lua_block {
            local b = require "ngx.balancer"
            ngx.say(pcall(b.set_current_peer, "127.0.0.1", 80))
            ngx.say(pcall(b.set_more_tries, 1))
            ngx.say(pcall(b.get_last_failure))
            ngx.say(pcall(b.set_timeouts, 1, 1, 1))
        }
    }
--- request
GET /t
--- response_body
truenilno upstream found
truenilno upstream found
truenilnilno upstream found
truefalseno upstream found



=== TEST 20: a host name is resolved through the resolver; an unknown one is nil, err
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local ok, err = b.set_current_peer("nosuch.test", 80)
            ngx.log(ngx.WARN, "unknown: ", tostring(ok), " ", err)
            ngx.log(ngx.WARN, "ctx still: ", ngx.ctx.who)
            assert(b.set_current_peer("a.test", $TEST_NGINX_A_PORT))
        }
    }
--- config
    location /t {
        resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
        access_by_lua_block { ngx.ctx.who = "access" }
        add_header X-Addr $upstream_addr;
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_headers eval
"X-Addr: 127.0.0.1:$Test::MoongateBackend::Port{a}\nX-Backend: a"
--- error_log
unknown: nil nosuch.test could not be resolved (3: Host not found)
ctx still: access
--- moongate_only



=== TEST 21: "name:port", and a resolver that does not answer: resolver_timeout, nil, err
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local ok, err = b.set_current_peer("slow.test:80")
            ngx.log(ngx.WARN, "slow: ", tostring(ok), " ", err)
            assert(b.set_current_peer("a.test:$TEST_NGINX_B_PORT"))
        }
    }
--- config
    location /t {
        resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
        resolver_timeout 300ms;
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_body_like: \Ab conn=\d+ req=1\n\z
--- error_log
slow: nil slow.test could not be resolved (110: Operation timed out)
--- moongate_only



=== TEST 22: localhost without a resolver
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("localhost", $TEST_NGINX_A_PORT))
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_headers
X-Backend: a
--- moongate_only



=== TEST 23: recreate_request: a header with a variable the balancer changes, per try
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            ngx.ctx.n = (ngx.ctx.n or 0) + 1
            ngx.var.try = "try-" .. ngx.ctx.n
            if ngx.ctx.n == 1 then
                b.set_more_tries(1)
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_GONE_PORT))
            else
                assert(b.recreate_request())
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_A_PORT))
            end
        }
    }
--- config
    location /t {
        set $try "none";
        proxy_set_header X-Try $try;
        proxy_pass http://backend;
    }
--- request
POST /t
hello
--- response_body_like: \APOST /t HTTP/1\.0\n(.+\n)*X-Try: try-2\n(.+\n)*\nhello\z



=== TEST 24: enable_keepalive pools the connection without a keepalive directive
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            ngx.log(ngx.WARN, "before a peer: ", select(2, b.enable_keepalive()))
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_B_PORT, { pool_size = 2 }))
            assert(b.enable_keepalive(10, tonumber(ngx.var.arg_max)))
        }
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://backend;
    }
--- pipelined_requests eval
["GET /t?max=3", "GET /t?max=3", "GET /t?max=3", "GET /t?max=3"]
--- response_body_like eval
[qr/\Ab conn=(\d+) req=1\n\z/, qr/\Ab conn=\d+ req=2\n\z/, qr/\Ab conn=\d+ req=3\n\z/,
 qr/\Ab conn=\d+ req=1\n\z/]
--- error_log
before a peer: no current peer set
--- moongate_only



=== TEST 25: enable_keepalive's argument checks
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_A_PORT))
            ngx.log(ngx.WARN, "1: ", select(2, pcall(b.enable_keepalive, "x")))
            ngx.log(ngx.WARN, "2: ", select(2, pcall(b.enable_keepalive, -1)))
            ngx.log(ngx.WARN, "3: ", select(2, pcall(b.enable_keepalive, 1, -1)))
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_headers
X-Backend: a
--- error_log
1: bad argument #1 to 'enable_keepalive' (number expected, got string)
2: bad argument #1 to 'enable_keepalive' (expected >= 0)
3: bad argument #2 to 'enable_keepalive' (expected >= 0)
--- moongate_only
