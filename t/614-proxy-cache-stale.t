# proxy_cache_use_stale (error, http_500, updating), proxy_cache_background_update,
# proxy_cache_revalidate (If-None-Match and If-Modified-Since; a 304 refreshes the entry),
# the upstream's Cache-Control stale-if-error and stale-while-revalidate, and
# $upstream_cache_status STALE, UPDATING, REVALIDATED; proxy_cache_convert_head off.  The upstream is a second server on
# $TEST_NGINX_PORT2 whose body counts the requests it got for each URI ("n=1" seen again
# after the entry expired was served from the cache); entries live a second (max-age=1) and
# GET /sleep waits until the clock's second is two past its own (1 to 2 s) so that they expire.
#
#   prove -I t/lib t/614-proxy-cache-stale.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/614-proxy-cache-stale.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

our $dead = env_port('TEST_NGINX_DEAD'); # nothing listens there: connect() is refused

# The upstream: st: status, cc: Cache-Control, etag: an ETag (If-None-Match with it gets a
# 304), lm: a fixed Last-Modified (If-Modified-Since with it gets a 304).  GET /sleep answers
# after up to 2 s: a timeout of 10 s, more than the default 3 s per read, for a loaded machine.
cache_upstream(<<'_LUA_', sleep => 1, timeout => 10);
    local lm = "Thu, 01 Jan 2026 00:00:00 GMT"
    if a.cc then ngx.header["Cache-Control"] = a.cc end
    if a.etag then ngx.header["ETag"] = '"' .. a.etag .. '"' end
    if a.lm then ngx.header["Last-Modified"] = lm end
    ngx.header["X-Method"] = ngx.req.get_method()
    if (a.etag and ngx.var.http_if_none_match == '"' .. a.etag .. '"')
       or (a.lm and ngx.var.http_if_modified_since == lm) then
        ngx.header["X-Conds"] = (ngx.var.http_if_none_match or "") .. "|"
                                .. (ngx.var.http_if_modified_since or "")
        return ngx.exit(304)
    end
    ngx.status = tonumber(a.st or 200)
    reply(ngx.var.uri .. " n=" .. n .. "\n")
_LUA_

run_tests();

__DATA__

=== TEST 1: use_stale error: an expired entry answers when the upstream cannot be reached; without it, 502
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
--- config
    proxy_cache c1;
    proxy_cache_key $uri;
    add_header X-Cache $upstream_cache_status always;
    location /ok/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
    }
    location /stale/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_DEAD/;
        proxy_cache_key /ok/$1;
        proxy_cache_use_stale error timeout;
    }
    location ~ ^/stale2/(.*) {
        proxy_pass http://127.0.0.1:$TEST_NGINX_DEAD;
        proxy_cache_key /ok/$1;
        proxy_cache_use_stale error;
    }
    location ~ ^/nostale/(.*) {
        proxy_pass http://127.0.0.1:$TEST_NGINX_DEAD;
        proxy_cache_key /ok/$1;
    }
--- request eval
["GET /ok/a?cc=max-age=1", "GET /sleep", "GET /stale2/a", "GET /nostale/a", "GET /ok/a?cc=max-age=1"]
--- error_code eval
[200, 200, 200, 502, 200]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: STALE", "X-Cache: EXPIRED", "X-Cache: EXPIRED"]
--- response_body_like eval
["^/a n=1\n\\z", "slept", "^/a n=1\n\\z", "502 Bad Gateway", "^/a n=2\n\\z"]
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 2: use_stale http_500: an expired entry answers for the upstream's 500; http_502 does not cover it
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 keys_zone=c2:1m;
--- config
    proxy_cache c2;
    proxy_cache_key $uri;
    add_header X-Cache $upstream_cache_status always;
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache_use_stale http_500;
    }
    location /b/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache_use_stale error http_502;
    }
--- request eval
["GET /a?cc=max-age=1", "GET /b/a?cc=max-age=1", "GET /sleep", "GET /a?st=500", "GET /b/a?st=500"]
--- error_code eval
[200, 200, 200, 200, 500]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "", "X-Cache: STALE", "X-Cache: EXPIRED"]
--- response_body eval
["/a n=1\n", "/b/a n=1\n", "slept\n", "/a n=1\n", "/b/a n=2\n"]



=== TEST 3: stale-if-error in the upstream's Cache-Control: stale on an error without use_stale; ignored with proxy_ignore_headers Cache-Control
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c3 keys_zone=c3:1m;
--- config
    proxy_cache c3;
    add_header X-Cache $upstream_cache_status always;
    location /ok/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
        proxy_cache_key $uri;
    }
    location ~ ^/dead/(.*) {
        proxy_pass http://127.0.0.1:$TEST_NGINX_DEAD;
        proxy_cache_key /ok/$1;
    }
    location /ign/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
        proxy_cache_key $uri;
        proxy_ignore_headers Cache-Control;
        proxy_cache_valid 1s;
    }
    location ~ ^/igndead/(.*) {
        proxy_pass http://127.0.0.1:$TEST_NGINX_DEAD;
        proxy_cache_key /ign/$1;
    }
--- request eval
["GET /ok/a?cc=max-age%3D1,%20stale-if-error%3D60", "GET /ign/b?cc=max-age%3D1,%20stale-if-error%3D60",
 "GET /sleep", "GET /dead/a", "GET /igndead/b"]
--- error_code eval
[200, 200, 200, 200, 502]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "", "X-Cache: STALE", "X-Cache: EXPIRED"]
--- response_body_like eval
["^/a n=1\n\\z", "^/b n=1\n\\z", "slept", "^/a n=1\n\\z", "502 Bad Gateway"]
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 4: revalidate with the ETag: the upstream's 304 refreshes the entry (REVALIDATED, then HIT); the upstream saw If-None-Match
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c4 keys_zone=c4:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c4;
        proxy_cache_key $uri;
        proxy_cache_revalidate on;
        add_header X-Cache $upstream_cache_status;
        add_header X-Up $upstream_status;
    }
--- request eval
["GET /a?cc=max-age=1&etag=v1", "GET /sleep", "GET /a?cc=max-age=1&etag=v1", "GET /a?cc=max-age=1&etag=v1"]
--- response_headers eval
["X-Cache: MISS\nX-Up: 200\nETag: \"v1\"", "", "X-Cache: REVALIDATED\nX-Up: 304\nETag: \"v1\"", "X-Cache: HIT"]
--- response_body eval
["/a n=1\n", "slept\n", "/a n=1\n", "/a n=1\n"]



=== TEST 5: revalidate with Last-Modified (If-Modified-Since); without proxy_cache_revalidate the expired entry is fetched whole; the date is sent once
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c5 keys_zone=c5:1m;
--- config
    proxy_cache c5;
    proxy_cache_key $uri;
    add_header X-Cache $upstream_cache_status;
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache_revalidate on;
    }
    location /no/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
    }
--- request eval
["GET /a?cc=max-age=1&lm=1", "GET /no/a?cc=max-age=1&lm=1", "GET /sleep", "GET /a?cc=max-age=1&lm=1",
 "GET /no/a?cc=max-age=1&lm=1", "GET /a?cc=max-age=1&lm=1"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "", "X-Cache: REVALIDATED\nLast-Modified: Thu, 01 Jan 2026 00:00:00 GMT",
 "X-Cache: EXPIRED", "X-Cache: HIT\nLast-Modified: Thu, 01 Jan 2026 00:00:00 GMT"]
--- response_body eval
["/a n=1\n", "/no/a n=1\n", "slept\n", "/a n=1\n", "/no/a n=2\n", "/a n=1\n"]



=== TEST 6: the client's conditions are the cache's to answer: a client's If-None-Match matching the entry gets a 304 on a REVALIDATED answer
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c6 keys_zone=c6:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c6;
        proxy_cache_key $uri;
        proxy_cache_revalidate on;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /a?cc=max-age=1&etag=v1", "GET /sleep", "GET /a?cc=max-age=1&etag=v1"]
--- more_headers eval
["", "", "If-None-Match: \"v1\""]
--- error_code eval
[200, 200, 304]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: REVALIDATED"]



=== TEST 7: background_update with use_stale updating: the expired entry answers at once (STALE) and a background fetch refreshes it
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c7 keys_zone=c7:1m;
--- config
    location /c/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
        proxy_cache c7;
        proxy_cache_key $uri;
        proxy_cache_valid 200 1s;
        proxy_cache_use_stale updating;
        proxy_cache_background_update on;
        add_header X-Cache $upstream_cache_status;
    }
    location = /poll {
        # until the refreshed entry is there (a subrequest: the cache answers it too)
        content_by_lua_block {
            for i = 1, 200 do
                local res = ngx.location.capture("/c/a")
                if res.body == "/a n=2\n" then ngx.say("refreshed") return end
                ngx.sleep(0.05)
            end
            ngx.say("not refreshed")
        }
    }
--- request eval
["GET /c/a", "GET /sleep", "GET /c/a", "GET /poll", "GET /c/a"]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: STALE", "", "X-Cache: HIT"]
--- response_body eval
["/a n=1\n", "slept\n", "/a n=1\n", "refreshed\n", "/a n=2\n"]



=== TEST 8: stale-while-revalidate in Cache-Control allows the stale answer of background_update without use_stale updating
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c8 keys_zone=c8:1m;
--- config
    location /c/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
        proxy_cache c8;
        proxy_cache_key $uri;
        proxy_cache_background_update on;
        add_header X-Cache $upstream_cache_status;
    }
    location /d/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
        proxy_cache c8;
        proxy_cache_key $uri;
        proxy_cache_background_update on;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /c/a?cc=max-age%3D1,stale-while-revalidate%3D60", "GET /d/b?cc=max-age%3D1", "GET /sleep",
 "GET /c/a?cc=max-age%3D1,stale-while-revalidate%3D60", "GET /d/b?cc=max-age%3D1"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "", "X-Cache: STALE", "X-Cache: EXPIRED"]
--- response_body eval
["/a n=1\n", "/b n=1\n", "slept\n", "/a n=1\n", "/b n=2\n"]



=== TEST 9: proxy_cache_use_stale's values are checked
--- config
    location / {
        proxy_cache_use_stale error sometimes;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "sometimes" in \S+\.conf:\d+/



=== TEST 10: proxy_cache_lock_age and _timeout take times; the flags take on or off
--- config
    location / {
        proxy_cache_lock on;
        proxy_cache_lock_timeout soon;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"proxy_cache_lock_timeout" directive invalid value in \S+\.conf:\d+/



=== TEST 11: proxy_cache_convert_head off: a HEAD goes upstream as HEAD; a GET finding its answer fetches
--- moongate_only
The key has no $request_method, which nginx's documentation asks for when convert_head is off:
nginx then answers the GET from the stored HEAD answer, its Content-Length and no body (a
truncated response); moongate fetches and stores the GET's answer over it. With the method in
the key (t/894 TEST 1) both behave alike.
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c11 keys_zone=c11:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c11;
        proxy_cache_valid 1m;
        proxy_cache_convert_head off;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["HEAD /h", "GET /h", "GET /h"]
--- response_headers eval
["X-Cache: MISS\nX-Method: HEAD", "X-Cache: MISS\nX-Method: GET", "X-Cache: HIT"]
--- response_body eval
["", "/h n=2\n", "/h n=2\n"]
