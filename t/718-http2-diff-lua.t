# Lua on HTTP/2 streams as lua-nginx-module (Debian's nginx 1.22 with its Lua module) answers,
# found by a differential run: ngx.req.raw_header refuses an h2 request (there is no head
# text: its fields came HPACK-coded), ngx.req.get_headers sees the cookie crumbs of RFC 9113
# 8.2.3 as one "cookie" field joined with "; ", as nginx joins them, ngx.req.http_version is 2.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/718-http2-diff-lua.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_blocks();

run_tests();

__DATA__

=== TEST 1: ngx.req.raw_header on a stream: "http2 requests not supported yet", with and without the request line
--- config
    location /t {
        content_by_lua_block {
            ngx.say("version ", ngx.req.http_version())
            ngx.say(select(2, pcall(ngx.req.raw_header)))
            ngx.say(select(2, pcall(ngx.req.raw_header, true)))
        }
    }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
s = c.request('/t', headers=[('x-a', '1')])
c.wait(s)
print(c.streams[s].status, c.streams[s].body.decode(), end='')
--- h2_out
200 version 2
http2 requests not supported yet
http2 requests not supported yet



=== TEST 2: cookie crumbs are one "cookie" field joined with "; " for ngx.req.get_headers and $http_cookie; other repeated fields stay apart
--- config
    location /t {
        content_by_lua_block {
            local h = ngx.req.get_headers()
            ngx.say("cookie ", type(h.cookie), " ", tostring(h.cookie))
            ngx.say("x-m ", type(h["x-m"]), " ", table.concat(h["x-m"], ","))
            ngx.say("var [", ngx.var.http_cookie, "] [", ngx.var.cookie_b, "]")
        }
    }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
s = c.request('/t', headers=[('cookie', 'a=1'), ('x-m', '1'), ('cookie', 'b=2'), ('x-m', '2'), ('cookie', 'c=3')])
c.wait(s)
print(c.streams[s].status, c.streams[s].body.decode(), end='')
--- h2_out
200 cookie string a=1; b=2; c=3
x-m table 1,2
var [a=1; b=2; c=3] [2]
