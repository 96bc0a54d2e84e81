# proxy_cache and the client's conditional and range requests, as Debian's nginx 1.22 answers
# them (found by a differential run of both servers in front of one scripted upstream): the
# upstream's Last-Modified keeps its place among the lines on a HIT; a response its head lets
# be cached (stored or not: no proxy_cache_valid for it) answers If-Modified-Since and
# If-None-Match here, the upstream never seeing them; proxy_hide_header Last-Modified leaves
# a HIT without one; a 416 for a HIT has its Content-Range before the lines the error page
# adds.  The upstream is a second server on $TEST_NGINX_PORT2: each h=Name:Value argument
# is a header line of its answer, in order; its body counts the requests it got for the URI
# and says which If-* lines it saw.
#
#   prove -I t/lib t/986-proxy-cache-conditional.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/986-proxy-cache-conditional.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

# the head as bytes in /raw: ngx.header puts a Last-Modified elsewhere (the core prints it)
cache_upstream(<<'_LUA_', header_args => 1, server => <<'_EOC_');
    reply(ngx.var.uri .. " n=" .. n .. " " .. (ngx.var.http_if_none_match or "")
          .. (ngx.var.http_if_modified_since or "") .. "\n")
_LUA_
        location = /raw {
            content_by_lua_block {
                local n = ngx.shared.hits:incr(ngx.var.uri, 1, 0)
                local sock = ngx.req.socket(true)
                local body = "/raw n=" .. n .. "\n"
                sock:send("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\n"
                          .. "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\nX-Foo: 1\r\n"
                          .. "Content-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body)
            }
        }
_EOC_

run_tests();

__DATA__

=== TEST 1: a HIT's Last-Modified stays where the upstream put it, between ETag and X-Foo
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c1;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /raw", "GET /raw"]
--- raw_response_headers_like eval
["\r\nETag: \"v1\"\r\nLast-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\nX-Foo: 1\r\nX-Cache: MISS\r\n",
 "\r\nETag: \"v1\"\r\nLast-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\nX-Foo: 1\r\nX-Cache: HIT\r\n"]
--- response_body eval
["/raw n=1\n", "/raw n=1\n"]



=== TEST 2: If-Modified-Since on a MISS is answered here (304) when the response may be cached, stored (/) or not (/nv/: no validity); not for one with Set-Cookie
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 keys_zone=c2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c2;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
    location /nv/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c2;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /a?h=Last-Modified:Thu,%2001%20Jan%202026%2000:00:00%20GMT",
 "GET /nv/a?h=Last-Modified:Thu,%2001%20Jan%202026%2000:00:00%20GMT",
 "GET /nv/e?h=ETag:%22v1%22",
 "GET /nv/c?h=ETag:%22v1%22&h=Set-Cookie:a%3Db"]
--- more_headers eval
["If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT", "If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT",
 "If-None-Match: \"v1\"", "If-None-Match: \"v1\""]
--- error_code eval
[304, 304, 304, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS"]
--- response_body eval
["", "", "", "/nv/c n=1 \n"]



=== TEST 3: proxy_hide_header Last-Modified: a HIT has none, and If-Modified-Since gets the whole response
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c3 keys_zone=c3:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c3;
        proxy_cache_valid 1m;
        proxy_hide_header Last-Modified;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /a?h=Last-Modified:Thu,%2001%20Jan%202026%2000:00:00%20GMT",
 "GET /a?h=Last-Modified:Thu,%2001%20Jan%202026%2000:00:00%20GMT",
 "GET /a?h=Last-Modified:Thu,%2001%20Jan%202026%2000:00:00%20GMT"]
--- more_headers eval
["", "", "If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT"]
--- response_headers eval
["X-Cache: MISS\n!Last-Modified", "X-Cache: HIT\n!Last-Modified", "X-Cache: HIT\n!Last-Modified"]
--- response_body eval
["/a n=1 \n", "/a n=1 \n", "/a n=1 \n"]



=== TEST 4: a range past a HIT's end: 416 with Content-Range before the error page's own add_header line
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c4 keys_zone=c4:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c4;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status always;
    }
--- request eval
["GET /r?h=Accept-Ranges:bytes", "GET /r?h=Accept-Ranges:bytes"]
--- more_headers eval
["", "Range: bytes=100-"]
--- error_code eval
[200, 416]
--- raw_response_headers_like eval
["\r\nX-Cache: MISS\r\n", "\r\nX-Cache: HIT\r\nContent-Range: bytes \\*/8\r\nX-Cache: HIT\r\n"]
