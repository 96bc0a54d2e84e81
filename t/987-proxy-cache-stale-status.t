# proxy_cache: the upstream's "Cache-Control: stale-if-error=N" lets an expired entry stand in
# when no upstream answered (t/614), not for an answer's status (a 500, a 503): only
# proxy_cache_use_stale http_500 ... names those, as Debian's nginx 1.22 does (found by a
# differential run of both servers in front of one scripted upstream).  The upstream is a
# second server on $TEST_NGINX_PORT2 (st: its status, cc: its Cache-Control; the body counts
# the requests it got for the URI); entries live a second and GET /sleep waits 2.1 s.
#
#   prove -I t/lib t/987-proxy-cache-stale-status.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/987-proxy-cache-stale-status.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $port2;
do { $port2 = Test::Moongate::find_free_port() } while $port2 == $Test::Moongate::ServerPort;
$ENV{TEST_NGINX_PORT2} = $port2;

our $Backend = <<'_EOC_';
    lua_shared_dict hits 1m;
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location / {
            content_by_lua_block {
                local a = ngx.req.get_uri_args()
                local n = ngx.shared.hits:incr(ngx.var.uri, 1, 0)
                ngx.status = tonumber(a.st or 200)
                if a.cc then ngx.header["Cache-Control"] = a.cc end
                local body = ngx.var.uri .. " n=" .. n .. "\n"
                ngx.header["Content-Length"] = #body
                ngx.print(body)
            }
        }
    }
_EOC_

our $Sleep = <<'_EOC_';
    location = /sleep {
        content_by_lua_block { ngx.sleep(2.1) ngx.say("slept") }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $Backend . ($block->http_config // ''));
    $block->set_value(config => $Sleep . ($block->config // ''));
});

run_tests();

__DATA__

=== TEST 1: stale-if-error and an answer of 500 or 503: the answer (EXPIRED); with proxy_cache_use_stale http_500 the entry (STALE)
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
--- config
    proxy_cache c1;
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
