# proxy_cache: which upstream heads are stored, as Debian's nginx 1.22 decides (found by a
# differential run of both servers in front of one scripted upstream): Set-Cookie and
# "Vary: *" refuse whatever X-Accel-Expires says; Cache-Control's tokens are found anywhere
# in the value, a number that is not one refuses, each Cache-Control line counts; any
# "X-Accel-Expires: 0" line refuses, "@0" is as if absent.  Orders of the lines where nginx
# 1.22 decides by the order (fixed in 1.23.0, ticket #964) are not tested; every Vary line
# counts where nginx 1.22 takes the last one (fixed in 1.23.0: moongate_only).  The upstream is a
# second server on $TEST_NGINX_PORT2: each h=Name:Value argument is a header line of its
# answer, in order; its body counts the requests it got for the URI.
#
#   prove -I t/lib t/985-proxy-cache-validity.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/985-proxy-cache-validity.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

cache_upstream(<<'_LUA_', header_args => 1, cache => 1);
    reply(ngx.var.uri .. " n=" .. n .. "\n")
_LUA_

run_tests();

__DATA__

=== TEST 1: Set-Cookie and "Vary: *" refuse even with X-Accel-Expires, before or after it
--- request eval
["GET /a?h=X-Accel-Expires:60&h=Set-Cookie:a%3Db", "GET /a?h=X-Accel-Expires:60&h=Set-Cookie:a%3Db",
 "GET /b?h=Set-Cookie:a%3Db&h=X-Accel-Expires:60", "GET /b?h=Set-Cookie:a%3Db&h=X-Accel-Expires:60",
 "GET /c?h=X-Accel-Expires:60&h=Vary:*", "GET /c?h=X-Accel-Expires:60&h=Vary:*",
 "GET /d?h=Vary:*&h=X-Accel-Expires:60", "GET /d?h=Vary:*&h=X-Accel-Expires:60"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS",
 "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS"]
--- response_body eval
["/a n=1\n", "/a n=2\n", "/b n=1\n", "/b n=2\n", "/c n=1\n", "/c n=2\n", "/d n=1\n", "/d n=2\n"]



=== TEST 2: Cache-Control's tokens anywhere in the value; a max-age or stale-* that is not a number refuses; ";" ends one
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 keys_zone=c2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c2;
        proxy_cache_valid any 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /x?h=Cache-Control:xno-cache", "GET /x?h=Cache-Control:xno-cache",
 "GET /abc?h=Cache-Control:max-age%3Dabc", "GET /abc?h=Cache-Control:max-age%3Dabc",
 "GET /neg?h=Cache-Control:max-age%3D-1", "GET /neg?h=Cache-Control:max-age%3D-1",
 "GET /q?h=Cache-Control:max-age%3D%2260%22", "GET /q?h=Cache-Control:max-age%3D%2260%22",
 "GET /swr?h=Cache-Control:stale-while-revalidate%3Dabc", "GET /swr?h=Cache-Control:stale-while-revalidate%3Dabc",
 "GET /semi?h=Cache-Control:max-age%3D60;x", "GET /semi?h=Cache-Control:max-age%3D60;x"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS",
 "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/x n=1\n", "/x n=2\n", "/abc n=1\n", "/abc n=2\n", "/neg n=1\n", "/neg n=2\n",
 "/q n=1\n", "/q n=2\n", "/swr n=1\n", "/swr n=2\n", "/semi n=1\n", "/semi n=1\n"]



=== TEST 3: every Cache-Control line counts: a max-age on the second, a no-store on the second
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c3 keys_zone=c3:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c3;
        add_header X-Cache $upstream_cache_status;
    }
    location /v/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c3;
        proxy_cache_valid any 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /two?h=Cache-Control:public&h=Cache-Control:max-age%3D60",
 "GET /two?h=Cache-Control:public&h=Cache-Control:max-age%3D60",
 "GET /v/ns?h=Cache-Control:max-age%3D60&h=Cache-Control:no-store",
 "GET /v/ns?h=Cache-Control:max-age%3D60&h=Cache-Control:no-store"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: MISS"]
--- response_body eval
["/two n=1\n", "/two n=1\n", "/v/ns n=1\n", "/v/ns n=2\n"]



=== TEST 4: X-Accel-Expires: a "0" line refuses, "@0" is as if absent; "Vary: Accept, *" is a Vary like another
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c4 keys_zone=c4:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c4;
        proxy_cache_valid any 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /z?h=X-Accel-Expires:60&h=X-Accel-Expires:0", "GET /z?h=X-Accel-Expires:60&h=X-Accel-Expires:0",
 "GET /at0?h=X-Accel-Expires:%400", "GET /at0?h=X-Accel-Expires:%400",
 "GET /va?h=Vary:Accept,%20*", "GET /va?h=Vary:Accept,%20*"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/z n=1\n", "/z n=2\n", "/at0 n=1\n", "/at0 n=1\n", "/va n=1\n", "/va n=1\n"]



=== TEST 5: every Vary line counts (nginx 1.22 takes the last only, a bug fixed in 1.23.0: it would answer X-A: 2 with X-A: 1's entry)
--- moongate_only
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c5 keys_zone=c5:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c5;
        proxy_cache_valid any 1m;
        proxy_cache_key $uri;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /v?h=Vary:X-A&h=Vary:X-B", "GET /v?h=Vary:X-A&h=Vary:X-B", "GET /v?h=Vary:X-A&h=Vary:X-B",
 "GET /v?h=Vary:X-A&h=Vary:X-B"]
--- more_headers eval
["X-A: 1\nX-B: 1", "X-A: 1\nX-B: 2", "X-A: 2\nX-B: 1", "X-A: 1\nX-B: 1"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/v n=1\n", "/v n=2\n", "/v n=3\n", "/v n=1\n"]
