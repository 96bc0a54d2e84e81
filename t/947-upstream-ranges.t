# proxy_force_ranges (and fastcgi_, scgi_, uwsgi_force_ranges): byte ranges of a proxied 200
# whatever its Accept-Ranges says, one range only (several get the whole 200), any number from
# the cache; the upstream's Accept-Ranges then gives way to the range filter's. And
# proxy_cache_max_range_offset (and the CGI protocols' forms): a request that goes upstream
# with a Range starting at the bound or past it (nginx 1.22's test, where its documentation
# says "greater than"), or a suffix range, sends it along and the answer is not stored; an
# entry in the cache still answers any range.
#
#   prove -I t/lib t/947-upstream-ranges.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/947-upstream-ranges.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

our $port2 = env_port('TEST_NGINX_PORT2');

# answers a Range "bytes=S-E" or "bytes=S-" itself (206; a suffix range gets the whole 200) and
# logs the Range it got ("-": none)
backend(up => 'echo', ranges => 1, size => 1000);
our $Body = Test::MoongateBackend::pattern(1000);

sub ranges_were {
    my ($what, $want) = @_;
    Test::More::is(join(',', Test::MoongateBackend::backend_ranges('up')), $want,
                   "ranges the upstream got: $what");
    Test::MoongateBackend::backend_log_clear('up');
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF' . ($b->http_config // ''));
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location /r { return 200 "0123456789\n"; }
        location /ar { add_header Accept-Ranges bytes; return 200 "0123456789\n"; }
    }
EOF
});

run_tests();

__DATA__

=== TEST 1: without proxy_force_ranges: the whole 200, no Accept-Ranges
--- config
    location / { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- request
GET /r
--- more_headers
Range: bytes=2-4
--- error_code: 200
--- response_headers
!Accept-Ranges
!Content-Range
--- response_body
0123456789



=== TEST 2: proxy_force_ranges on: one range is a 206; without Range, Accept-Ranges
--- config
    location / {
        proxy_force_ranges on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
    }
--- request eval
["GET /r", "GET /r", "GET /r"]
--- more_headers eval
["Range: bytes=2-4", "", "Range: bytes=-3"]
--- error_code eval
[206, 200, 206]
--- response_headers eval
["Content-Range: bytes 2-4/11\nContent-Length: 3", "Accept-Ranges: bytes\n!Content-Range",
 "Content-Range: bytes 8-10/11"]
--- response_body eval
["234", "0123456789\n", "89\n"]



=== TEST 3: proxy_force_ranges: two ranges get the whole 200 (one range only as the body streams)
--- config
    proxy_force_ranges on;
    location / { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- request
GET /r
--- more_headers
Range: bytes=0-1,4-5
--- error_code: 200
--- response_headers
!Content-Range
--- response_body
0123456789



=== TEST 4: proxy_force_ranges: one Accept-Ranges, not the upstream's and the filter's
--- config
    location / {
        proxy_force_ranges on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
    }
--- request
GET /ar
--- response_headers
Accept-Ranges: bytes
--- raw_response_headers_unlike eval
qr/Accept-Ranges.*Accept-Ranges/si
--- response_body
0123456789



=== TEST 5: proxy_force_ranges "off" below cancels it; a range past the end is 416
--- config
    proxy_force_ranges on;
    location /off/ {
        proxy_force_ranges off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
    }
    location / { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- request eval
["GET /off/r", "GET /r"]
--- more_headers eval
["Range: bytes=2-4", "Range: bytes=50-60"]
--- error_code eval
[200, 416]
--- response_headers eval
["!Content-Range", "Content-Range: bytes */11"]



=== TEST 6: from the cache, several ranges are fine with proxy_force_ranges
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c6 keys_zone=c6:1m;
--- config
    location / {
        proxy_cache c6;
        proxy_cache_valid 1m;
        proxy_force_ranges on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /r", "GET /r"]
--- more_headers eval
["", "Range: bytes=0-1,4-5"]
--- error_code eval
[200, 206]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- response_body_like eval
["\\A0123456789\\n\\z", "\\A\\r\\n--(\\d+)\\r\\nContent-Type: [^\\r]*\\r\\nContent-Range: bytes 0-1/11\\r\\n\\r\\n01\\r\\n--\\1\\r\\nContent-Type: [^\\r]*\\r\\nContent-Range: bytes 4-5/11\\r\\n\\r\\n45\\r\\n--\\1--\\r\\n\\z"]



=== TEST 7: proxy_cache_max_range_offset 100: going upstream, a range from 100 on (or a suffix) is sent along and not stored; an entry answers any range
--- init
Test::MoongateBackend::backend_log_clear('up');
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c7 keys_zone=c7:1m;
--- config
    location / {
        proxy_cache c7;
        proxy_cache_valid 1m;
        proxy_cache_max_range_offset 100;
        proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /a", "GET /a", "GET /a", "GET /a", "GET /a", "GET /b", "GET /c"]
--- more_headers eval
["Range: bytes=200-204", "Range: bytes=-5", "Range: bytes=0-4", "Range: bytes=100-104",
 "Range: bytes=101-", "Range: bytes=100-104", "Range: bytes=101-105"]
--- error_code eval
[206, 200, 200, 200, 200, 206, 206]
--- response_headers eval
["Content-Range: bytes 200-204/1000\nX-Cache: MISS", "!Content-Range\nX-Cache: MISS",
 "X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT", "Content-Range: bytes 100-104/1000\nX-Cache: MISS",
 "Content-Range: bytes 101-105/1000\nX-Cache: MISS"]
--- response_body eval
[substr($::Body, 200, 5), $::Body, $::Body, $::Body, $::Body, substr($::Body, 100, 5),
 substr($::Body, 101, 5)]



=== TEST 8: fastcgi_, scgi_, uwsgi_force_ranges and _cache_max_range_offset are taken
--- init
::ranges_were("TEST 7", "bytes=200-204,bytes=-5,-,bytes=100-104,bytes=101-105");
--- http_config
    fastcgi_force_ranges on;
    scgi_cache_max_range_offset 1g;
--- config
    uwsgi_force_ranges off;
    fastcgi_cache_max_range_offset 0;
    location /t { scgi_force_ranges on; uwsgi_cache_max_range_offset 10m; return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 9: proxy_cache_max_range_offset: a bad value
--- config
    location / { proxy_cache_max_range_offset -1; }
--- must_die
--- error_log eval
qr/"proxy_cache_max_range_offset" directive invalid value in \S+:\d+/



=== TEST 10: proxy_force_ranges wants on or off
--- config
    location / { proxy_force_ranges yes; }
--- must_die
--- error_log eval
qr/invalid value "yes" in "proxy_force_ranges" directive, it must be "on" or "off" in \S+:\d+/
