# proxy_cache: a HIT's head is the stored one, as Debian's nginx 1.22 sends it (found by a
# differential run of both servers in front of one scripted upstream): no Content-Length when
# the upstream's answer had none (its body went chunked or up to the close: the HIT goes
# chunked), none for a stored 304; $upstream_http_NAME tells of the stored head's lines.  The
# upstream is a second server on $TEST_NGINX_PORT2 writing its head as bytes (st: its status
# and nothing else, cl=0: no Content-Length, the body up to the close; the body counts the
# requests it got for the URI).
#
#   prove -I t/lib t/989-proxy-cache-hit-head.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/989-proxy-cache-hit-head.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

# the head as bytes: a server's own 304 or body says its length
cache_upstream(<<'_LUA_');
    local sock = ngx.req.socket(true)
    if a.st then
        sock:send("HTTP/1.1 " .. a.st .. " X\r\nConnection: close\r\n\r\n")
        return
    end
    local body = ngx.var.uri .. " n=" .. n .. "\n"
    sock:send("HTTP/1.1 200 OK\r\nConnection: close\r\nX-Foo: up\r\n"
              .. (a.cl == "0" and "" or "Content-Length: " .. #body .. "\r\n")
              .. "\r\n" .. body)
_LUA_

run_tests();

__DATA__

=== TEST 1: an answer without Content-Length: the HIT goes chunked (HEAD: no length either); one with it keeps it
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
["GET /c?cl=0", "GET /c?cl=0", "HEAD /c?cl=0", "GET /l", "GET /l"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT\nTransfer-Encoding: chunked\n!Content-Length",
 "X-Cache: HIT\n!Content-Length", "X-Cache: MISS\nContent-Length: 7", "X-Cache: HIT\nContent-Length: 7"]
--- response_body eval
["/c n=1\n", "/c n=1\n", "", "/l n=1\n", "/l n=1\n"]



=== TEST 2: a stored 304 (proxy_cache_valid any): the HIT has no Content-Length
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
["GET /n?st=304", "GET /n?st=304"]
--- error_code eval
[304, 304]
--- response_headers eval
["X-Cache: MISS\n!Content-Length", "X-Cache: HIT\n!Content-Length"]
--- response_body eval
["", ""]



=== TEST 3: $upstream_http_NAME on a HIT: the stored head's line
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c3 keys_zone=c3:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c3;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
        add_header X-Seen "[$upstream_http_x_foo]";
    }
--- request eval
["GET /u", "GET /u"]
--- response_headers eval
["X-Cache: MISS\nX-Seen: [up]", "X-Cache: HIT\nX-Seen: [up]"]
--- response_body eval
["/u n=1\n", "/u n=1\n"]
