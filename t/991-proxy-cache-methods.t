# proxy_cache_convert_head off: a HEAD goes upstream as HEAD and its answer is stored, as
# Debian's nginx 1.22 does (found by a differential run of both servers in front of one
# scripted upstream); with $request_method in proxy_cache_key (nginx's documentation asks for
# it) a HEAD and a GET have entries of their own.  Without it a GET finds the HEAD's entry:
# nginx sends it as it is, its Content-Length and no body (a client waits for bytes that
# never come); moongate fetches the GET instead and stores it over the HEAD's (moongate_only).
# A request body is read before the lookup, so that proxy_cache_key may name $request_body
# (proxy_cache_methods POST); a background update goes upstream with the request's method.
# The upstream is a second server on $TEST_NGINX_PORT2 whose body counts the requests it got
# for each URI and names their method.
#
#   prove -I t/lib t/991-proxy-cache-methods.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/991-proxy-cache-methods.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

cache_upstream(<<'_LUA_', sleep => 1);
    local body = ngx.var.uri .. " n=" .. n .. " " .. ngx.req.get_method() .. "\n"
    ngx.header["X-Method"] = ngx.req.get_method()
    reply(body)
_LUA_

run_tests();

__DATA__

=== TEST 1: convert_head off, the method in the key: the HEAD's answer is stored (HIT), the GET has its own entry
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c1;
        proxy_cache_valid 1m;
        proxy_cache_convert_head off;
        proxy_cache_key $request_method$uri;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["HEAD /a", "HEAD /a", "GET /a", "GET /a", "HEAD /a"]
--- response_headers eval
["X-Cache: MISS\nX-Method: HEAD\nContent-Length: 12", "X-Cache: HIT\nX-Method: HEAD\nContent-Length: 12",
 "X-Cache: MISS\nX-Method: GET", "X-Cache: HIT\nX-Method: GET", "X-Cache: HIT\nX-Method: HEAD"]
--- response_body eval
["", "", "/a n=2 GET\n", "/a n=2 GET\n", ""]



=== TEST 2: convert_head off, the default key: a GET finding the HEAD's entry fetches (nginx sends its Content-Length and no body) and stores over it
--- moongate_only
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 keys_zone=c2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c2;
        proxy_cache_valid 1m;
        proxy_cache_convert_head off;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["HEAD /a", "HEAD /a", "GET /a", "GET /a", "HEAD /a"]
--- response_headers eval
["X-Cache: MISS\nX-Method: HEAD", "X-Cache: HIT\nX-Method: HEAD",
 "X-Cache: MISS\nX-Method: GET", "X-Cache: HIT\nX-Method: GET", "X-Cache: HIT\nX-Method: GET"]
--- response_body eval
["", "", "/a n=2 GET\n", "/a n=2 GET\n", ""]



=== TEST 3: proxy_cache_methods POST, $request_body in the key: the same body is a HIT, another a MISS
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c3 keys_zone=c3:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c3;
        proxy_cache_valid 1m;
        proxy_cache_methods POST;
        proxy_cache_key $uri|$request_body;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["POST /p\nx=1", "POST /p\nx=1", "POST /p\nx=2"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS"]
--- response_body eval
["/p n=1 POST\n", "/p n=1 POST\n", "/p n=2 POST\n"]



=== TEST 4: proxy_cache_background_update for a POST: the update goes upstream as a POST (with the body), as the request did
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c4 keys_zone=c4:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c4;
        proxy_cache_valid 1s;
        proxy_cache_methods POST;
        proxy_cache_key $uri|$request_body;
        proxy_cache_use_stale updating;
        proxy_cache_background_update on;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["POST /p\nx=1", "GET /sleep", "POST /p\nx=1", "POST /p\nx=1"]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: STALE", "X-Cache: HIT"]
--- response_body eval
["/p n=1 POST\n", "slept\n", "/p n=1 POST\n", "/p n=2 POST\n"]
