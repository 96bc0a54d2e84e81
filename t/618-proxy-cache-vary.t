# One cache entry per Vary variant, as nginx: the key's file holds the first variant; a
# request whose values of the Vary headers differ looks under a key of the variant's own
# (nginx's secondary key) and what it fetches is stored there, so the variants do not
# replace each other.  A response that no longer varies as the first did replaces the first.
#
#   prove -I t/lib t/618-proxy-cache-vary.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/618-proxy-cache-vary.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

cache_upstream(<<'_LUA_');
    if ngx.var.arg_vary then ngx.header["Vary"] = ngx.var.arg_vary end
    ngx.say(ngx.var.uri, " n=", n, " ", ngx.var.http_accept_language or "-")
_LUA_

run_tests();

__DATA__

=== TEST 1: two variants of Accept-Language are both kept: each is a HIT with its own body
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/v1 keys_zone=v1:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache v1;
        proxy_cache_key $uri;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /a?vary=Accept-Language", "GET /a?vary=Accept-Language", "GET /a?vary=Accept-Language",
 "GET /a?vary=Accept-Language", "GET /a?vary=Accept-Language"]
--- more_headers eval
["Accept-Language: en", "Accept-Language: fr", "Accept-Language: en", "Accept-Language: fr",
 "Accept-Language: de"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT", "X-Cache: MISS"]
--- response_body eval
["/a n=1 en\n", "/a n=2 fr\n", "/a n=1 en\n", "/a n=2 fr\n", "/a n=3 de\n"]



=== TEST 2: a second variant's response without Vary replaces the first: the key's entry is then that one
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/v2 keys_zone=v2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache v2;
        proxy_cache_key $uri;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /b?vary=Accept-Language", "GET /b", "GET /b", "GET /b"]
--- more_headers eval
["Accept-Language: en", "Accept-Language: fr", "Accept-Language: en", "Accept-Language: fr"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT"]
--- response_body eval
["/b n=1 en\n", "/b n=2 fr\n", "/b n=2 fr\n", "/b n=2 fr\n"]
