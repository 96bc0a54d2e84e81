# proxy_cache: proxy_cache_path and its keys zone, proxy_cache, _key, _valid, _methods,
# _min_uses, _bypass, proxy_no_cache, the upstream's Cache-Control, Expires, X-Accel-Expires,
# Set-Cookie and Vary (and proxy_ignore_headers), $upstream_cache_status (MISS HIT EXPIRED
# BYPASS), HEAD (proxy_cache_convert_head) and Range answered from the cache, a large response
# written to the cache while it streams, use_temp_path=off.  The upstream is a second server
# on $TEST_NGINX_PORT2 whose body counts the requests it got for each URI, so a body that
# says "n=1" twice was served from the cache the second time.
#
#   prove -I t/lib t/610-proxy-cache.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/610-proxy-cache.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

# The upstream: args set its answer (st: status, cc: Cache-Control, exp: Expires in seconds
# from now, xae: X-Accel-Expires, cookie: Set-Cookie, vary: Vary, size: a body of that many
# bytes instead of the counter line, ar: Accept-Ranges, without which nginx serves no range
# of an upstream's response, cached or not).
cache_upstream(<<'_LUA_');
    ngx.status = tonumber(a.st or 200)
    if a.xae then ngx.header["X-Accel-Expires"] = a.xae end
    if a.cc then ngx.header["Cache-Control"] = a.cc end
    if a.exp then ngx.header["Expires"] = ngx.http_time(ngx.time() + tonumber(a.exp)) end
    if a.cookie then ngx.header["Set-Cookie"] = a.cookie end
    if a.vary then ngx.header["Vary"] = a.vary end
    if a.ar then ngx.header["Accept-Ranges"] = "bytes" end
    ngx.header["X-Method"] = ngx.req.get_method()
    if a.size then
        ngx.header["Content-Length"] = a.size
        local chunk = string.rep("0123456789abcdef", 4096)
        local left = tonumber(a.size)
        while left > 0 do
            local piece = left < #chunk and chunk:sub(1, left) or chunk
            ngx.print(piece)
            ngx.flush(true)
            left = left - #piece
        end
        return
    end
    reply(ngx.var.uri .. " n=" .. n .. " " .. (ngx.var.http_accept_language or "")
          .. (ngx.var.http_range or "") .. (ngx.var.http_if_none_match or "") .. "\n")
_LUA_

run_tests();

__DATA__

=== TEST 1: a 200 with proxy_cache_valid: MISS, then HIT with the same body
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 levels=1:2 keys_zone=c1:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c1;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /a", "GET /a", "GET /b", "GET /a"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/a n=1 \n", "/a n=1 \n", "/b n=1 \n", "/a n=1 \n"]



=== TEST 2: without a validity (no proxy_cache_valid, no headers) nothing is kept
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 keys_zone=c2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c2;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /a", "GET /a"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS"]
--- response_body eval
["/a n=1 \n", "/a n=2 \n"]



=== TEST 3: Cache-Control max-age and s-maxage give a validity; no-cache, no-store, private refuse one
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
["GET /m?cc=max-age=60", "GET /m?cc=max-age=60",
 "GET /s?cc=public,%20s-maxage=60", "GET /s?cc=public,%20s-maxage=60",
 "GET /v/nc?cc=no-cache", "GET /v/nc?cc=no-cache",
 "GET /v/ns?cc=no-store", "GET /v/ns?cc=no-store",
 "GET /v/p?cc=private,%20max-age=60", "GET /v/p?cc=private,%20max-age=60",
 "GET /v/z?cc=max-age=0", "GET /v/z?cc=max-age=0"]
--- response_body eval
["/m n=1 \n", "/m n=1 \n", "/s n=1 \n", "/s n=1 \n", "/v/nc n=1 \n", "/v/nc n=2 \n",
 "/v/ns n=1 \n", "/v/ns n=2 \n", "/v/p n=1 \n", "/v/p n=2 \n", "/v/z n=1 \n", "/v/z n=2 \n"]



=== TEST 4: Expires in the future gives a validity, in the past refuses one
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c4 keys_zone=c4:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c4;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /f?exp=60", "GET /f?exp=60", "GET /p?exp=-60", "GET /p?exp=-60"]
--- response_body eval
["/f n=1 \n", "/f n=1 \n", "/p n=1 \n", "/p n=2 \n"]



=== TEST 5: X-Accel-Expires wins over Cache-Control; 0 refuses; proxy_ignore_headers turns it off
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c5 keys_zone=c5:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c5;
        add_header X-Cache $upstream_cache_status;
    }
    location /z/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c5;
        proxy_cache_valid 1m;
    }
    location /i/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c5;
        proxy_ignore_headers X-Accel-Expires;
    }
--- request eval
["GET /x?xae=60&cc=no-cache", "GET /x?xae=60&cc=no-cache", "GET /z/0?xae=0", "GET /z/0?xae=0",
 "GET /i/x?xae=60", "GET /i/x?xae=60"]
--- response_body eval
["/x n=1 \n", "/x n=1 \n", "/z/0 n=1 \n", "/z/0 n=2 \n", "/i/x n=1 \n", "/i/x n=2 \n"]
--- response_headers eval
["X-Accel-Expires:", "X-Accel-Expires:", "", "", "", ""]



=== TEST 6: Set-Cookie refuses caching unless ignored; Cache-Control and Expires ignored fall back to proxy_cache_valid
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c6 keys_zone=c6:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c6;
        proxy_cache_valid 1m;
    }
    location /ic/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c6;
        proxy_cache_valid 1m;
        proxy_ignore_headers Set-Cookie;
    }
    location /icc/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c6;
        proxy_cache_valid 1m;
        proxy_ignore_headers Cache-Control Expires;
    }
--- request eval
["GET /c?cookie=a=1", "GET /c?cookie=a=1", "GET /ic/c?cookie=a=1", "GET /ic/c?cookie=a=1",
 "GET /icc/x?cc=no-store&exp=-5", "GET /icc/x?cc=no-store&exp=-5"]
--- response_body eval
["/c n=1 \n", "/c n=2 \n", "/ic/c n=1 \n", "/ic/c n=1 \n", "/icc/x n=1 \n", "/icc/x n=1 \n"]
--- response_headers eval
["Set-Cookie: a=1", "Set-Cookie: a=1", "Set-Cookie: a=1", "Set-Cookie: a=1", "", ""]



=== TEST 7: an entry past its validity is EXPIRED and fetched again
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c7 keys_zone=c7:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c7;
        proxy_cache_valid 200 1s;
        add_header X-Cache $upstream_cache_status;
    }
    location = /sleep { echo_sleep 2.5; echo ok; }
--- request eval
["GET /e", "GET /e", "GET /sleep", "GET /e", "GET /e"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "", "X-Cache: EXPIRED", "X-Cache: HIT"]
--- response_body eval
["/e n=1 \n", "/e n=1 \n", "ok\n", "/e n=2 \n", "/e n=2 \n"]
--- timeout: 10



=== TEST 8: proxy_cache_bypass: BYPASS, and the response it fetched is stored; proxy_no_cache: not stored
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c8 keys_zone=c8:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c8;
        proxy_cache_key $uri;
        proxy_cache_valid 1m;
        proxy_cache_bypass $arg_fresh;
        proxy_no_cache $arg_nostore $http_x_nostore;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /b", "GET /b?fresh=1", "GET /b", "GET /b?fresh=0", "GET /n?nostore=1", "GET /n",
 "GET /n"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: BYPASS", "X-Cache: HIT", "X-Cache: HIT", "X-Cache: MISS",
 "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/b n=1 \n", "/b n=2 \n", "/b n=2 \n", "/b n=2 \n", "/n n=1 \n", "/n n=2 \n", "/n n=2 \n"]



=== TEST 9: proxy_cache_min_uses: stored on the second request
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c9 keys_zone=c9:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c9;
        proxy_cache_valid 1m;
        proxy_cache_min_uses 2;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /u", "GET /u", "GET /u", "GET /u"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT"]
--- response_body eval
["/u n=1 \n", "/u n=2 \n", "/u n=2 \n", "/u n=2 \n"]



=== TEST 10: the status codes proxy_cache_valid names; "any"; the default list 200 301 302
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c10 keys_zone=c10:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c10;
        proxy_cache_valid 200 1m;
        proxy_cache_valid 404 1m;
    }
    location /any/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c10;
        proxy_cache_valid any 1m;
    }
    location /dflt/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c10;
        proxy_cache_valid 1m;
    }
--- request eval
["GET /nf?st=404", "GET /nf?st=404", "GET /ise?st=500", "GET /ise?st=500",
 "GET /any/ise?st=500", "GET /any/ise?st=500", "GET /dflt/nf?st=404", "GET /dflt/nf?st=404",
 "GET /dflt/r?st=302", "GET /dflt/r?st=302"]
--- error_code eval
[404, 404, 500, 500, 500, 500, 404, 404, 302, 302]
--- response_body eval
["/nf n=1 \n", "/nf n=1 \n", "/ise n=1 \n", "/ise n=2 \n", "/any/ise n=1 \n", "/any/ise n=1 \n",
 "/dflt/nf n=1 \n", "/dflt/nf n=2 \n", "/dflt/r n=1 \n", "/dflt/r n=1 \n"]



=== TEST 11: HEAD is sent upstream as GET and the entry serves the GET after it; Range from the cache when the upstream allowed ranges; no If-* or Range upstream
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c11 keys_zone=c11:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c11;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["HEAD /h", "GET /h", "GET /r?ar=1", "GET /r?ar=1", "GET /n", "GET /n"]
--- more_headers eval
["", "", "Range: bytes=0-1\nIf-None-Match: \"x\"", "Range: bytes=3-5", "Range: bytes=0-1", "Range: bytes=0-1"]
--- error_code eval
[200, 200, 206, 206, 200, 200]
--- response_headers eval
["X-Method: GET\nX-Cache: MISS", "X-Method: GET\nX-Cache: HIT", "X-Cache: MISS\nContent-Range: bytes 0-1/8", "X-Cache: HIT\nContent-Range: bytes 3-5/8", "X-Cache: MISS\nContent-Range:", "X-Cache: HIT\nContent-Range:"]
--- response_body eval
["", "/h n=1 \n", "/r", "n=1", "/n n=1 \n", "/n n=1 \n"]



=== TEST 12: a response larger than the buffers streams into the cache file (use_temp_path=off) and comes back whole
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c12 levels=2 keys_zone=c12:1m use_temp_path=off;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c12;
        proxy_cache_valid 1m;
        proxy_buffers 4 4k;
        proxy_max_temp_file_size 0;
        add_header X-Cache $upstream_cache_status;
    }
    location = /md5 {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/big?size=3000000;
        body_filter_by_lua_block {
            local ctx = ngx.ctx
            ctx.parts = ctx.parts or {}
            ctx.parts[#ctx.parts + 1] = ngx.arg[1] or ""
            if ngx.arg[2] then
                local all = table.concat(ctx.parts)
                ngx.arg[1] = #all .. " " .. ngx.md5(all) .. "\n"
            else
                ngx.arg[1] = nil
            end
        }
        header_filter_by_lua_block { ngx.header.content_length = nil }
    }
--- request eval
["GET /md5", "GET /md5"]
--- response_body eval
my $s = ("0123456789abcdef" x 4096);
my $b = ($s x int(3000000 / length $s)) . substr($s, 0, 3000000 % length $s);
require Digest::MD5;
my $l = "3000000 " . Digest::MD5::md5_hex($b) . "\n";
[$l, $l]
--- timeout: 20



=== TEST 13: Vary: another value of the header it names is another entry
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c13 keys_zone=c13:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c13;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /v?vary=Accept-Language", "GET /v?vary=Accept-Language", "GET /v?vary=Accept-Language",
 "GET /s?vary=*", "GET /s?vary=*"]
--- more_headers eval
["Accept-Language: en", "Accept-Language: en", "Accept-Language: fr", "", ""]
--- response_body eval
["/v n=1 en\n", "/v n=1 en\n", "/v n=2 fr\n", "/s n=1 \n", "/s n=2 \n"]



=== TEST 14: proxy_cache_methods; POST is not looked up by default; proxy_cache off in a nested location
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c14 keys_zone=c14:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c14;
        proxy_cache_valid 1m;
        add_header X-Cache "[$upstream_cache_status]";
        location /off/ {
            proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
            proxy_cache off;
            add_header X-Cache "[$upstream_cache_status]";
        }
    }
    location /post/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c14;
        proxy_cache_valid 1m;
        proxy_cache_methods POST;
        add_header X-Cache "[$upstream_cache_status]";
    }
--- request eval
["POST /p\r\n\r\n", "POST /p", "POST /post/p", "POST /post/p", "GET /off/x", "GET /off/x"]
--- response_headers eval
["X-Cache: []", "X-Cache: []", "X-Cache: [MISS]", "X-Cache: [HIT]", "X-Cache: []", "X-Cache: []"]
--- response_body eval
["/p n=1 \n", "/p n=2 \n", "/post/p n=1 \n", "/post/p n=1 \n", "/off/x n=1 \n", "/off/x n=2 \n"]



=== TEST 15: configuration errors
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache nowhere;
    }
--- must_die
--- error_log eval
qr/"proxy_cache" zone "nowhere" is unknown in .*\.conf:\d+/



=== TEST 16: proxy_cache_path needs keys_zone
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c16 levels=1:2;
--- config
--- must_die
--- error_log eval
qr/"proxy_cache_path" must have "keys_zone" parameter in .*\.conf:\d+/



=== TEST 17: bad levels
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c17 levels=1:3 keys_zone=c17:1m;
--- config
--- must_die
--- error_log eval
qr/invalid "levels" "levels=1:3" in .*\.conf:\d+/



=== TEST 18: a cache file truncated on disk: fetched again and stored again, logged
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c18 levels=1:2 keys_zone=c18:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c18;
        proxy_cache_key $uri;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
    location = /cut {
        content_by_lua_block {
            local h = ngx.md5("/t")
            local p = "$TEST_NGINX_SERVROOT/c18/" .. h:sub(-1) .. "/" .. h:sub(-3, -2) .. "/" .. h
            local f = assert(io.open(p, "r+b"))
            local head = f:read(20)
            f:close()
            f = assert(io.open(p, "wb"))
            f:write(head)
            f:close()
            ngx.say("cut")
        }
    }
--- request eval
["GET /t", "GET /t", "GET /cut", "GET /t", "GET /t"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/t n=1 \n", "/t n=1 \n", "cut\n", "/t n=2 \n", "/t n=2 \n"]
--- error_log eval
qr/\[crit\] .*cache file ".*c18\/.*" is too small/
