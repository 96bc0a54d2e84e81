# proxy_cache with slice, nginx's documented setup (proxy_cache_key $uri$slice_range,
# proxy_set_header Range $slice_range, proxy_cache_valid 200 206): each slice's 206 is an
# entry, so the second request is a HIT and the upstream sees no range again; the response
# has the range filter's Accept-Ranges only (slice drops the upstream's), as Debian's nginx
# 1.22 (found by a differential run of both servers in front of one scripted upstream).  A
# 206 the upstream sends for a request without a range is stored too (proxy_cache_valid 206).
# The Range headers the backend saw are checked by the init of the block after (`ranges_were`).
#
#   prove -I t/lib t/990-proxy-cache-slice.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/990-proxy-cache-slice.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::More ();

plan 'no_plan';

backend(a => 'echo', ranges => 1, size => 20, headers => ['ETag: "v1"', 'Accept-Ranges: bytes']);
backend(p => 'echo', status => 206, body => "3456\n",
        headers => ['Content-Range: bytes 3-7/20', 'X-Up: 1']);

our $Body = Test::MoongateBackend::pattern(20);

sub ranges_were {
    my ($what, $want) = @_;
    Test::More::is(join(',', Test::MoongateBackend::backend_ranges('a')), $want, "ranges asked for: $what");
    Test::MoongateBackend::backend_log_clear('a');
}

run_tests();

__DATA__

=== TEST 1: slices of 8 bytes, each an entry: MISS, then HIT for the whole and for a range; one Accept-Ranges line
--- init
Test::MoongateBackend::backend_log_clear('a');
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
--- config
    location / {
        slice 8;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
        proxy_set_header Range $slice_range;
        proxy_cache c1;
        proxy_cache_key $uri$slice_range;
        proxy_cache_valid 200 206 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /s", "GET /s", "GET /s"]
--- more_headers eval
["", "", "Range: bytes=9-12"]
--- error_code eval
[200, 200, 206]
--- response_headers eval
["X-Cache: MISS\nContent-Length: 20\nAccept-Ranges: bytes",
 "X-Cache: HIT\nContent-Length: 20\nAccept-Ranges: bytes",
 "X-Cache: HIT\nContent-Range: bytes 9-12/20"]
--- raw_response_headers_unlike eval
[qr/Accept-Ranges.*Accept-Ranges/s, qr/Accept-Ranges.*Accept-Ranges/s, qr/Accept-Ranges/]
--- response_body eval
[$::Body, $::Body, substr($::Body, 9, 4)]



=== TEST 2: (the upstream saw the first request's slices only) a 206 for a request without a range, stored for proxy_cache_valid 206: HIT
--- init
::ranges_were('slices fetched once', 'bytes=0-7,bytes=8-15,bytes=16-23');
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 keys_zone=c2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_P_PORT;
        proxy_cache c2;
        proxy_cache_valid 206 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[206, 206]
--- response_headers eval
["X-Cache: MISS\nContent-Range: bytes 3-7/20\nX-Up: 1", "X-Cache: HIT\nContent-Range: bytes 3-7/20\nX-Up: 1"]
--- response_body eval
["3456\n", "3456\n"]
