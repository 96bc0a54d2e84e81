# X-Accel-Redirect in a cached response acts on a HIT, as nginx: a location that stored the
# response with proxy_ignore_headers X-Accel-Redirect serves it as it is; another location
# sharing the key, which does not ignore it, gets the entry (no new upstream request) and
# redirects internally to the header's URI.  nginx does not store a response it redirected
# for, so only such a response can be in the cache with the header.
#
#   prove -I t/lib t/619-proxy-cache-accel.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/619-proxy-cache-accel.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $port2 = env_port('TEST_NGINX_PORT2');

run_tests();

__DATA__

=== TEST 1: the stored X-Accel-Redirect redirects on a HIT where it is not ignored; the upstream saw one request
--- http_config
    lua_shared_dict hits 1m;
    proxy_cache_path $TEST_NGINX_SERVROOT/xa keys_zone=xa:1m;
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location = /hits {
            content_by_lua_block { ngx.say(ngx.shared.hits:get("/c/a") or 0) }
        }
        location / {
            content_by_lua_block {
                ngx.shared.hits:incr(ngx.var.uri, 1, 0)
                ngx.header["X-Accel-Redirect"] = "/internal/x?from=cache"
                ngx.header["Cache-Control"] = "max-age=60"
                ngx.say("upstream body")
            }
        }
    }
--- config
    proxy_cache xa;
    proxy_cache_key /c/a;
    location /c/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_ignore_headers X-Accel-Redirect;
        add_header X-Cache $upstream_cache_status;
    }
    location /d/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
    }
    location /internal/ {
        internal;
        return 200 "internal $uri $args\n";
    }
    location = /hits {
        proxy_cache off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
    }
--- request eval
["GET /c/a", "GET /d/a", "GET /c/a", "GET /hits"]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: HIT", ""]
--- response_body eval
["upstream body\n", "internal /internal/x from=cache\n", "upstream body\n", "1\n"]
