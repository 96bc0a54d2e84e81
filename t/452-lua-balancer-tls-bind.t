# ngx.balancer's functions beyond lua-nginx-module 0.10.23 (lua-resty-core 0.1.28/0.1.29):
# set_upstream_tls (a proxy_pass https:// request's tries go plain, or back to TLS) and
# bind_to_local_addr (the upstream connection's local address, as proxy_bind). Debian's
# nginx has neither, hence moongate_only. A second server{} of the same configuration plays
# the upstream: plain on one port, TLS (t/lib/Test/Moongate/Certs.pm) on another; both
# answer with the scheme and the address they saw the connection from.
#
#   prove -I t/lib t/452-lua-balancer-tls-bind.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::Certs;

plan 'no_plan';

Test::Moongate::Certs::make();
$ENV{TEST_NGINX_TLS_PORT} = Test::Moongate::find_free_port();
$ENV{TEST_NGINX_PLAIN_PORT} = Test::Moongate::find_free_port();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => <<'CONF' . ($block->http_config // ''));
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        listen 127.0.0.1:$TEST_NGINX_PLAIN_PORT;
        server_name localhost;
        ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        location / {
            return 200 "$scheme from $remote_addr\n";
        }
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: set_upstream_tls(false) on a proxy_pass https:// location: the try goes plain (to the plain port)
--- moongate_only
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_TLS_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            if ngx.var.arg_plain then
                assert(b.set_upstream_tls(false))
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_PLAIN_PORT))
            else
                assert(b.set_upstream_tls(true))
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_TLS_PORT))
            end
        }
    }
--- config
    location /t {
        proxy_pass https://backend/;
    }
--- request eval
["GET /t?plain=1", "GET /t"]
--- response_body eval
["http from 127.0.0.1\n", "https from 127.0.0.1\n"]
--- no_error_log
[error]

=== TEST 2: set_upstream_tls(true) after false in the same try: TLS again; outside the balancer: nil, err
--- moongate_only
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_TLS_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_upstream_tls(false))
            assert(b.set_upstream_tls(1))
        }
    }
--- config
    location /t {
        proxy_pass https://backend/;
    }
    location /c {
        content_by_lua_block {
            ngx.say(require("ngx.balancer").set_upstream_tls(false))
        }
    }
--- request eval
["GET /t", "GET /c"]
--- response_body eval
["https from 127.0.0.1\n", "nilno upstream found\n"]

=== TEST 3: bind_to_local_addr: the upstream sees the connection from 127.0.0.2, from an IP:port too
--- moongate_only
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_PLAIN_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.bind_to_local_addr(ngx.var.arg_addr))
        }
    }
--- config
    location /t {
        proxy_pass http://backend/;
    }
--- request eval
["GET /t?addr=127.0.0.2", "GET /t?addr=127.0.0.3:0"]
--- response_body eval
["http from 127.0.0.2\n", "http from 127.0.0.3\n"]
--- no_error_log
[error]

=== TEST 4: bind_to_local_addr: a bad address is nil and the reason (the try goes on unbound); a number raises
--- moongate_only
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_PLAIN_PORT;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local ok, err = b.bind_to_local_addr("not-an-ip")
            ngx.log(ngx.WARN, "bind: ", ok, " ", err)
            local ok, err = pcall(b.bind_to_local_addr, 12)
            ngx.log(ngx.WARN, "number: ", err)
        }
    }
--- config
    location /t {
        proxy_pass http://backend/;
    }
--- request
GET /t
--- response_body
http from 127.0.0.1
--- error_log
bind: nil invalid addr not-an-ip
number: bad argument #1 to 'bind_to_local_addr' (string expected, got number)

=== TEST 5: bind_to_local_addr to an address this host does not have: bind() fails, logged as proxy_bind's, 500 (nginx's answer to a failed bind)
--- moongate_only
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_PLAIN_PORT;
        balancer_by_lua_block {
            assert(require("ngx.balancer").bind_to_local_addr("192.0.2.1"))
        }
    }
--- config
    location /t {
        proxy_pass http://backend/;
    }
--- request
GET /t
--- error_code: 500
--- error_log
bind(192.0.2.1) failed (99: Cannot assign requested address)
