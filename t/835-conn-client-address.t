# The client's address as a connection keeps it (its pool holds socklen bytes of it, and realip
# points the connection at a request's copy, then back): on one keepalive connection a unix
# peer's address, an IPv6 one of the longest text, an IPv4 one, and the unix one again after
# each; the same over TCP from 127.0.0.1; $binary_remote_addr's length follows the family.
# The backends are reached through upstream keepalive, so one connection of theirs serves the
# requests in turn ($connection_requests counts them).
#
#   TEST_MOONGATE_SERVROOT=/tmp/sr-x prove -I t/lib t/835-conn-client-address.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/835-conn-client-address.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

env_port('TEST_NGINX_PORT2');
plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a unix peer: realip's addresses for a request, "unix:" again for the next
--- http_config
    upstream u835 {
        server unix:$TEST_NGINX_SERVROOT/c835.sock;
        keepalive 4;
    }
    server {
        listen unix:$TEST_NGINX_SERVROOT/c835.sock;
        set_real_ip_from unix:;
        location / {
            set_by_lua_block $blen { return #ngx.var.binary_remote_addr }
            return 200 "$remote_addr $realip_remote_addr [$remote_port] $blen $connection_requests\n";
        }
    }
--- config
    location /t {
        proxy_pass http://u835;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header X-Real-IP $arg_ip;
    }
--- pipelined_requests eval
["GET /t?ip=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "GET /t", "GET /t?ip=10.1.2.3",
 "GET /t", "GET /t?ip=[2001:db8::1]:8080", "GET /t"]
--- response_body eval
["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff unix: [] 16 1\n", "unix: unix: [] 5 2\n",
 "10.1.2.3 unix: [] 4 3\n", "unix: unix: [] 5 4\n", "2001:db8::1 unix: [8080] 16 5\n",
 "unix: unix: [] 5 6\n"]



=== TEST 2: a TCP peer from 127.0.0.1: its port stays while realip is off, comes back after
--- http_config
    upstream u835t {
        server 127.0.0.1:$TEST_NGINX_PORT2;
        keepalive 4;
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        set_real_ip_from 127.0.0.1;
        location / {
            set_by_lua_block $blen { return #ngx.var.binary_remote_addr }
            set_by_lua_block $port { return ngx.var.remote_port == ngx.var.realip_remote_port and "same" or ngx.var.remote_port }
            return 200 "$remote_addr $realip_remote_addr $port $blen $connection_requests\n";
        }
    }
--- config
    location /t {
        proxy_pass http://u835t;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header X-Real-IP $arg_ip;
    }
--- pipelined_requests eval
["GET /t?ip=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "GET /t", "GET /t?ip=10.1.2.3:99",
 "GET /t"]
--- response_body eval
["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 127.0.0.1  16 1\n", "127.0.0.1 127.0.0.1 same 4 2\n",
 "10.1.2.3 127.0.0.1 99 4 3\n", "127.0.0.1 127.0.0.1 same 4 4\n"]
