# Found by running the same configs on nginx and moongate: "proxy_redirect default" with a
# proxy_pass that has no URI is "URL/ /" in nginx, so an upstream's absolute redirect to
# itself becomes the same path on this server, whatever the location's name (moongate put
# the location's name in front: "/app" + "login"). A relative Location from an upstream is
# passed on relative unless proxy_redirect rewrote it (moongate made every one absolute, with
# its own scheme and port: wrong behind a TLS-terminating balancer).
#
#   prove -I t/lib t/324-diff-proxy-redirect.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/324-diff-proxy-redirect.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');

our $A = $Test::MoongateBackend::Port{a};

run_tests();

__DATA__

=== TEST 1: no URI in proxy_pass: the upstream's "URL/" becomes "/", in a prefix location
--- config
    location /app { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /app/x
--- more_headers eval
"X-Echo-Status: 302\nX-Echo-Header: Location: http://127.0.0.1:$main::A/login?next=1\nX-Echo-Header: Refresh: 5; url=http://127.0.0.1:$main::A/r"
--- error_code: 302
--- response_headers eval
"Location: http://localhost:$Test::Moongate::ServerPort/login?next=1
Refresh: 5; url=/r"



=== TEST 2: ... and in a regex location
--- config
    location ~ ^/re/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /re/x
--- more_headers eval
"X-Echo-Status: 301\nX-Echo-Header: Location: http://127.0.0.1:$main::A/elsewhere/y"
--- error_code: 301
--- response_headers eval
"Location: http://localhost:$Test::Moongate::ServerPort/elsewhere/y"



=== TEST 3: a relative Location and another host's are left alone: the relative one stays relative
--- config
    location /app/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request eval
["GET /app/a", "GET /app/b"]
--- more_headers eval
["X-Echo-Status: 302\nX-Echo-Header: Location: /rel/path", "X-Echo-Status: 302\nX-Echo-Header: Location: http://other.example/p"]
--- error_code eval
[302, 302]
--- response_headers eval
["Location: /rel/path", "Location: http://other.example/p"]



=== TEST 4: with a URI in proxy_pass the location's name replaces it
--- config
    location /one/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/two/; }
--- request
GET /one/x
--- more_headers eval
"X-Echo-Status: 302\nX-Echo-Header: Location: http://127.0.0.1:$main::A/two/page"
--- error_code: 302
--- response_headers eval
"Location: http://localhost:$Test::Moongate::ServerPort/one/page"



=== TEST 5: a relative Location that proxy_redirect rewrites is made absolute; proxy_redirect off keeps it
--- config
    location /app/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; proxy_redirect /rel/ /front/; }
    location /off/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; proxy_redirect off; }
--- request eval
["GET /app/a", "GET /off/a"]
--- more_headers eval
["X-Echo-Status: 302\nX-Echo-Header: Location: /rel/path", "X-Echo-Status: 302\nX-Echo-Header: Location: /rel/path"]
--- error_code eval
[302, 302]
--- response_headers eval
["Location: http://localhost:$Test::Moongate::ServerPort/front/path", "Location: /rel/path"]
