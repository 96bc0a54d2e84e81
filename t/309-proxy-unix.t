# Unix-domain upstreams: proxy_pass http://unix:/path:/uri (the colon ends the path) and
# without a URI part, "server unix:/path" in upstream{} (with keepalive), proxy_pass with
# variables naming a socket; Host "localhost" for a socket named in proxy_pass,
# $upstream_addr "unix:/path", and nginx's error-log lines for a socket nobody listens on.
#
#   prove -I t/lib t/309-proxy-unix.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/309-proxy-unix.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(u => 'echo', unix => 1);
backend(uk => 'counting', unix => 1);
$ENV{TEST_NGINX_NOSUCH_SOCK} = Test::MoongateBackend::_logdir() . '/nosuch.sock';

log_level('info');

run_tests();

__DATA__

=== TEST 1: proxy_pass http://unix:PATH:/uri/ replaces the location's prefix; Host is localhost
--- config
    location /a/ {
        add_header X-Addr $upstream_addr;
        proxy_pass http://unix:$TEST_NGINX_U_SOCK:/x/;
    }
--- request
GET /a/b?c=1
--- response_body_like: \AGET /x/b\?c=1 HTTP/1\.0\nHost: localhost\nConnection: close\n
--- response_headers eval
"X-Addr: unix:$ENV{TEST_NGINX_U_SOCK}\nX-Backend: u"



=== TEST 2: without a URI part the request's URI goes as it came
--- config
    location /a/ {
        proxy_pass http://unix:$TEST_NGINX_U_SOCK;
    }
--- request
GET /a/%62?x=y
--- response_body_like: \AGET /a/%62\?x=y HTTP/1\.0\nHost: localhost\n



=== TEST 3: server unix:PATH in an upstream block; the Host is the group's name
--- http_config
    upstream grp { server unix:$TEST_NGINX_U_SOCK; }
--- config
    location / {
        add_header X-Addr $upstream_addr;
        proxy_pass http://grp;
    }
--- request
GET /t
--- response_body_like: \AGET /t HTTP/1\.0\nHost: grp\n
--- response_headers eval
"X-Addr: unix:$ENV{TEST_NGINX_U_SOCK}"



=== TEST 4: keepalive to a unix-domain upstream: one connection, many requests
--- http_config
    upstream uk {
        server unix:$TEST_NGINX_UK_SOCK;
        keepalive 2;
    }
--- config
    location / {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://uk;
    }
--- request eval
["GET /1", "GET /2", "GET /3"]
--- response_body_like eval
["req=1\n", "req=2\n", "req=3\n"]



=== TEST 5: proxy_pass with variables naming a socket
--- config
    location / {
        set $sock $TEST_NGINX_U_SOCK;
        proxy_pass http://unix:$sock:/v$uri;
    }
--- request
GET /w
--- response_body_like: \AGET /v/w HTTP/1\.0\nHost: localhost\n



=== TEST 6: a socket path nobody listens on: 502, and nginx's log line naming it
--- config
    location / {
        proxy_pass http://unix:$TEST_NGINX_NOSUCH_SOCK:/;
    }
--- request
GET /t
--- error_code: 502
--- error_log eval
qr/\[crit\] .*connect\(\) to unix:\Q$ENV{TEST_NGINX_NOSUCH_SOCK}\E failed \(2: No such file or directory\) while connecting to upstream, client: 127\.0\.0\.1, server: \S+, request: "GET \/t HTTP\/1\.1", upstream: "http:\/\/unix:\Q$ENV{TEST_NGINX_NOSUCH_SOCK}\E:\/t"/



=== TEST 7: configuration errors
--- config
    location / {
        proxy_pass http://unix:;
    }
--- must_die
--- error_log
no path in the unix domain socket in upstream "unix:"
