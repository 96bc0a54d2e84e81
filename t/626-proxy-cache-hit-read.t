# proxy_cache HITs read back whole and right whatever the entry's size: a small entry is
# read at once and its body served from that read, a larger one's head first and its body
# from the file, a head longer than the first read read again in full. Bodies of sizes around
# where the two ways meet (16 KiB files), a 6000-byte header line on a small and on a large
# entry, HEAD and a Range on both kinds. The upstream is a second server on
# $TEST_NGINX_PORT2; each body starts with the count of requests it got for its URI, so a HIT
# says n=1.
#
#   prove -I t/lib t/626-proxy-cache-hit-read.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/626-proxy-cache-hit-read.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

# size: the body's length; pad: an X-Filler line of that many bytes
cache_upstream(<<'_LUA_');
    local size = tonumber(a.size)
    if a.pad then ngx.header["X-Filler"] = string.rep("p", tonumber(a.pad)) end
    ngx.header["Accept-Ranges"] = "bytes"
    ngx.header["Content-Length"] = size
    local fill = "n=" .. n .. " "
    fill = fill .. string.rep("0123456789abcdef", math.ceil(size / 16))
    ngx.print(fill:sub(1, size))
_LUA_

# the body the upstream sends for its n-th request of a URI
sub body { my ($n, $size) = @_; substr("n=$n " . ("0123456789abcdef" x (int($size / 16) + 1)), 0, $size) }

run_tests();

__DATA__

=== TEST 1: bodies around 16 KiB: MISS, then a HIT with the same bytes
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
[map { ("GET /s$_?size=$_", "GET /s$_?size=$_") } (1, 15800, 15900, 16000, 16050, 16100, 16150, 16200, 16300, 16384, 16500, 40000)]
--- response_headers eval
[map { ("X-Cache: MISS", "X-Cache: HIT") } 1 .. 12]
--- response_body eval
[map { (main::body(1, $_), main::body(1, $_)) } (1, 15800, 15900, 16000, 16050, 16100, 16150, 16200, 16300, 16384, 16500, 40000)]



=== TEST 2: a header line of 6000 bytes in a small entry and in a large one
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 levels=1:2 keys_zone=c2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_buffer_size 8k;
        proxy_cache c2;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        header_filter_by_lua_block {
            local pad = ngx.header["X-Filler"] or ""
            ngx.header["X-Filler"] = nil
            ngx.header["X-Filler-Bytes"] = #pad .. (pad == string.rep("p", #pad) and " p" or " bad")
        }
    }
--- request eval
["GET /small?size=100&pad=6000", "GET /small?size=100&pad=6000", "GET /large?size=30000&pad=6000", "GET /large?size=30000&pad=6000"]
--- response_headers eval
["X-Cache: MISS\nX-Filler-Bytes: 6000 p", "X-Cache: HIT\nX-Filler-Bytes: 6000 p", "X-Cache: MISS\nX-Filler-Bytes: 6000 p", "X-Cache: HIT\nX-Filler-Bytes: 6000 p"]
--- response_body eval
[main::body(1, 100), main::body(1, 100), main::body(1, 30000), main::body(1, 30000)]



=== TEST 3: HEAD and a Range from a small entry and from a large one
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c3 levels=1:2 keys_zone=c3:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c3;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /small?size=100", "HEAD /small?size=100", "GET /small?size=100", "GET /large?size=30000", "HEAD /large?size=30000", "GET /large?size=30000"]
--- more_headers eval
["", "", "Range: bytes=4-9", "", "", "Range: bytes=29990-"]
--- error_code eval
[200, 200, 206, 200, 200, 206]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT\nContent-Length: 100", "X-Cache: HIT\nContent-Range: bytes 4-9/100", "X-Cache: MISS", "X-Cache: HIT\nContent-Length: 30000", "X-Cache: HIT\nContent-Range: bytes 29990-29999/30000"]
--- response_body eval
[main::body(1, 100), "", "012345", main::body(1, 30000), "", substr(main::body(1, 30000), 29990)]
