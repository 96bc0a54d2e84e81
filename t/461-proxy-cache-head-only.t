# proxy_cache_convert_head off: the answer to a HEAD that went upstream as HEAD is stored as a
# header-only entry (the cache file's flag), whether or not it says a Content-Length, and answers
# the later HEADs; a GET finding it (a key without $request_method) is fetched and stored over
# it, never answered without its body.  The upstream counts the requests it got for each URI
# (n=); /nolen answers without a Content-Length (chunked for a GET, nothing for a HEAD).
#
#   prove -I t/lib t/461-proxy-cache-head-only.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/461-proxy-cache-head-only.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

cache_upstream(<<'_LUA_');
    ngx.header["X-Method"] = ngx.req.get_method()
    ngx.header["X-N"] = n
    if ngx.var.uri == "/nolen" then
        ngx.print(ngx.var.uri .. " n=" .. n .. "\n")
        return
    end
    reply(ngx.var.uri .. " n=" .. n .. "\n")
_LUA_

run_tests();

__DATA__

=== TEST 1: the method in the key: a HEAD answer without Content-Length is stored and answers the next HEAD; GET has its own entry
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c1;
        proxy_cache_valid 1m;
        proxy_cache_convert_head off;
        proxy_cache_key $request_method$proxy_host$request_uri;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["HEAD /nolen", "HEAD /nolen", "GET /nolen", "GET /nolen", "HEAD /nolen"]
--- response_headers eval
["X-Cache: MISS\nX-Method: HEAD\nX-N: 1\n!Content-Length", "X-Cache: HIT\nX-Method: HEAD\nX-N: 1\n!Content-Length",
 "X-Cache: MISS\nX-Method: GET\nX-N: 2", "X-Cache: HIT\nX-Method: GET\nX-N: 2",
 "X-Cache: HIT\nX-Method: HEAD\nX-N: 1\n!Content-Length"]
--- response_body eval
["", "", "/nolen n=2\n", "/nolen n=2\n", ""]



=== TEST 2: the same with a Content-Length: the HIT says the length the HEAD was told
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 keys_zone=c2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c2;
        proxy_cache_valid 1m;
        proxy_cache_convert_head off;
        proxy_cache_key $request_method$proxy_host$request_uri;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["HEAD /len", "HEAD /len", "GET /len", "GET /len"]
--- response_headers eval
["X-Cache: MISS\nX-N: 1\nContent-Length: 9", "X-Cache: HIT\nX-N: 1\nContent-Length: 9",
 "X-Cache: MISS\nX-N: 2\nContent-Length: 9", "X-Cache: HIT\nX-N: 2\nContent-Length: 9"]
--- response_body eval
["", "", "/len n=2\n", "/len n=2\n"]



=== TEST 3: a key without the method: a GET finding the header-only entry fetches, stores over it, and the HEADs after it get the GET's entry
--- moongate_only
nginx answers the GET from the HEAD's entry: the stored head and no body (its documentation
asks for $request_method in the key with proxy_cache_convert_head off); moongate fetches.
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c3 keys_zone=c3:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c3;
        proxy_cache_valid 1m;
        proxy_cache_convert_head off;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["HEAD /nolen", "HEAD /nolen", "GET /nolen", "GET /nolen", "HEAD /nolen"]
--- response_headers eval
["X-Cache: MISS\nX-Method: HEAD\nX-N: 1", "X-Cache: HIT\nX-Method: HEAD\nX-N: 1",
 "X-Cache: MISS\nX-Method: GET\nX-N: 2", "X-Cache: HIT\nX-Method: GET\nX-N: 2",
 "X-Cache: HIT\nX-Method: GET\nX-N: 2"]
--- response_body eval
["", "", "/nolen n=2\n", "/nolen n=2\n", ""]



=== TEST 4: a HEAD answer not cacheable (no validity) is not stored
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c4 keys_zone=c4:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c4;
        proxy_cache_convert_head off;
        proxy_cache_key $request_method$proxy_host$request_uri;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["HEAD /nolen", "HEAD /nolen"]
--- response_headers eval
["X-Cache: MISS\nX-N: 1", "X-Cache: MISS\nX-N: 2"]
