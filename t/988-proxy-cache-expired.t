# proxy_cache_revalidate as Debian's nginx 1.22 does it (found by a differential run of both
# servers in front of one scripted upstream): a HEAD for an expired entry revalidates it too
# (it goes upstream as GET with If-None-Match); a 304 whose lines would refuse a response
# (Cache-Control: no-cache) still refreshes the entry, for *_cache_valid of its status.  The
# upstream is a second server on $TEST_NGINX_PORT2 (cc: its Cache-Control, etag: an ETag,
# If-None-Match with it gets a 304; the body counts the requests it got for the URI); entries live a second and GET /sleep waits until they expired (1 to 2 s).
#
#   prove -I t/lib t/988-proxy-cache-revalidate.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/988-proxy-cache-revalidate.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

cache_upstream(<<'_LUA_', sleep => 1);
    if a.cc then ngx.header["Cache-Control"] = a.cc end
    if a.etag then ngx.header["ETag"] = '"' .. a.etag .. '"' end
    if a.etag and ngx.var.http_if_none_match == '"' .. a.etag .. '"' then
        return ngx.exit(304)
    end
    ngx.status = tonumber(a.st or 200)
    reply(ngx.var.uri .. " n=" .. n .. "\n")
_LUA_

run_tests();

__DATA__

=== TEST 1: a HEAD for an expired entry: If-None-Match goes upstream (as a GET), the 304 makes it REVALIDATED, a GET after it is a HIT
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c1;
        proxy_cache_key $uri;
        proxy_cache_revalidate on;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /e?cc=max-age%3D1&etag=v1", "GET /sleep", "HEAD /e?cc=max-age%3D60&etag=v1", "GET /e"]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: REVALIDATED", "X-Cache: HIT"]
--- response_body eval
["/e n=1\n", "slept\n", "", "/e n=1\n"]



=== TEST 2: a 304 with Cache-Control no-cache refreshes the entry for proxy_cache_valid: the next request is a HIT
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 keys_zone=c2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c2;
        proxy_cache_key $uri;
        proxy_cache_revalidate on;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /e?cc=max-age%3D1&etag=v1", "GET /sleep", "GET /e?cc=no-cache&etag=v1", "GET /e?etag=v1"]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: REVALIDATED", "X-Cache: HIT"]
--- response_body eval
["/e n=1\n", "slept\n", "/e n=1\n", "/e n=1\n"]



=== TEST 3: stale-if-error and an answer of 500 or 503: the answer (EXPIRED); with proxy_cache_use_stale http_500 the entry (STALE)
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c3 keys_zone=c3:1m;
--- config
    proxy_cache c3;
    proxy_cache_key $uri;
    add_header X-Cache $upstream_cache_status always;
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
    }
    location /u/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache_use_stale http_500;
    }
--- request eval
["GET /a?cc=max-age%3D1,%20stale-if-error%3D60", "GET /b?cc=max-age%3D1,%20stale-if-error%3D60",
 "GET /u/c?cc=max-age%3D1,%20stale-if-error%3D60", "GET /sleep",
 "GET /a?st=500", "GET /b?st=503", "GET /u/c?st=500"]
--- error_code eval
[200, 200, 200, 200, 500, 503, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "", "X-Cache: EXPIRED", "X-Cache: EXPIRED",
 "X-Cache: STALE"]
--- response_body eval
["/a n=1\n", "/b n=1\n", "/u/c n=1\n", "slept\n", "/a n=2\n", "/b n=2\n", "/u/c n=1\n"]
