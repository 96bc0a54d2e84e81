# proxy_cache with proxy_intercept_errors: an upstream status an error_page answers is kept
# in the cache's index (no file) for its lines' time or proxy_cache_valid's, and a lookup
# answers it (HIT: the error_page again, the upstream not asked), as Debian's nginx 1.22 does
# (found by a differential run of both servers in front of one scripted upstream); a status
# whose lines refuse caching (Set-Cookie) or without a validity is asked again; past its time
# the upstream is asked again and what it answers is stored as usual.  The upstream is a
# second server on $TEST_NGINX_PORT2 (st: its status, cookie: a Set-Cookie; the body counts
# the requests it got for the URI); GET /sleep waits until entries of a second expired (1 to 2 s).
#
#   prove -I t/lib t/992-proxy-cache-intercept.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/992-proxy-cache-intercept.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

cache_upstream(<<'_LUA_', sleep => 1);
    ngx.status = tonumber(a.st or 200)
    if a.cookie then ngx.header["Set-Cookie"] = "a=b" end
    reply(ngx.var.uri .. " n=" .. n .. "\n")
_LUA_

run_tests();

__DATA__

=== TEST 1: an intercepted 404 is kept (HIT, the upstream's 200 not asked for); one with Set-Cookie and a 500 without a validity are not; past its second the upstream answers and its 200 is stored
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c1;
        proxy_cache_key $uri;
        proxy_cache_valid 404 1s;
        proxy_cache_valid 200 1m;
        proxy_intercept_errors on;
        error_page 404 500 = /fallback;
    }
    location = /fallback {
        return 200 "fallback $upstream_cache_status\n";
    }
--- request eval
["GET /n?st=404", "GET /n", "GET /c?st=404&cookie=1", "GET /c?st=404&cookie=1", "GET /e?st=500",
 "GET /e?st=500", "GET /sleep", "GET /n", "GET /n"]
--- response_body eval
["fallback MISS\n", "fallback HIT\n", "fallback MISS\n", "fallback MISS\n", "fallback MISS\n",
 "fallback MISS\n", "slept\n", "/n n=2\n", "/n n=2\n"]
