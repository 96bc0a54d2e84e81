# Byte ranges and proxy_cache, as nginx 1.22 answers them (checked against Debian's nginx):
# - an upstream response being stored (the MISS that fetches it, or another request that goes
#   upstream too meanwhile, proxy_cache_lock off) gets one range when the upstream sent
#   Accept-Ranges, several get the whole 200: the range filter answers several only from one
#   whole buffer or a file, not from a body that streams by (moongate answered a multipart, or,
#   past the first buffer, broke the response off with an alert);
# - a complete entry (a HIT, or the request proxy_cache_lock made wait for it) answers several
#   ranges in a multipart/byteranges, from memory (a small entry) or the file;
# - without the upstream's Accept-Ranges, neither answers ranges;
# - the range filter's Accept-Ranges replaces the upstream's: one such line on a 200, none on
#   a 206.
#
#   prove -I t/lib t/958-cache-ranges.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/958-cache-ranges.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

our $Big = pattern(40000);
our $Small = pattern(1000);
backend(big => 'echo', size => 40000, headers => ['Accept-Ranges: bytes']);
backend(small => 'echo', size => 1000, headers => ['Accept-Ranges: bytes']);
backend(noar => 'echo', size => 1000);
# the head and 8000 bytes at once, then three more pieces 0.5 s apart (read => 1: the request
# read first, so the close after the last piece is a FIN, not a RST that drops what the socket
# still holds from a proxy slow to read under load; as t/957 and t/959)
our @Parts = map { $_ x 8000 } qw(a b c d);
backend(slow => 'script', read => 1, script => [
    "HTTP/1.1 200 OK\r\nContent-Length: 32000\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n"
        . $Parts[0], 0.5, $Parts[1], 0.5, $Parts[2], 0.5, $Parts[3]]);

# a multipart/byteranges body of these [from, to, part] of a TOTAL-byte entity
sub multipart {
    my ($total, @parts) = @_;
    my $re = '\A\r\n';
    my $n = 0;
    for my $p (@parts) {
        $re .= ($n++ ? '--\1' : '--(\d{20})')
            . '\r\n(?:Content-Type: [^\r]*\r\n)?Content-Range: bytes ' . "$p->[0]-$p->[1]\\/$total"
            . '\r\n\r\n' . quotemeta($p->[2]) . '\r\n';
    }
    return qr/$re--\1--\r\n\z/;
}

# requests B (with RANGE) while A, just begun, is still being stored; returns B's response
sub while_stored {
    my ($a, $b, $range) = @_;
    my $s1 = client_connect();
    client_send($s1, "GET $a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my $h = client_read($s1, qr/\r\n\r\n/, 5);
    Test::More::like($h, qr/^HTTP\/1\.1 200 /, "$a: its head came");
    my $s2 = client_connect();
    client_send($s2, "GET $b HTTP/1.1\r\nHost: localhost\r\nRange: $range\r\nConnection: close\r\n\r\n");
    my ($r) = client_read($s2, undef, 10);
    my ($rest) = client_read($s1, undef, 10);
    Test::More::is(length($h . $rest) - index($h, "\r\n\r\n") - 4, 32000, "$a: whole");
    return $r;
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF' . ($b->http_config // ''));
    proxy_cache_path $TEST_NGINX_SERVROOT/cache keys_zone=rz:1m;
EOF
});

run_tests();

__DATA__

=== TEST 1: the MISS that stores a small response: two ranges get the whole 200, one range a 206; then HITs answer both
--- config
    location / {
        proxy_cache rz;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SMALL_PORT;
    }
--- request eval
["GET /a", "GET /a", "GET /b", "GET /b"]
--- more_headers eval
["Range: bytes=0-1,64-71", "Range: bytes=0-1,64-71", "Range: bytes=64-71", "Range: bytes=64-71"]
--- error_code eval
[200, 206, 206, 206]
--- response_headers eval
["X-Cache: MISS\nAccept-Ranges: bytes\n!Content-Range", "X-Cache: HIT\n!Accept-Ranges",
 "X-Cache: MISS\nContent-Range: bytes 64-71/1000\n!Accept-Ranges",
 "X-Cache: HIT\nContent-Range: bytes 64-71/1000\n!Accept-Ranges"]
--- raw_response_headers_unlike eval
[qr/Accept-Ranges.*Accept-Ranges/si, qr/Accept-Ranges/i, qr/Accept-Ranges/i, qr/Accept-Ranges/i]
--- response_body_like eval
["\\A\Q$::Small\E\\z", main::multipart(1000, [0, 1, '00'], [64, 71, '00000064']),
 "\\A00000064\\z", "\\A00000064\\z"]



=== TEST 2: the same past the first buffer (40000 bytes): the MISS is whole, not broken off; the HIT's parts come from the file
--- config
    location / {
        proxy_cache rz;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT;
    }
--- request eval
["GET /a", "GET /a", "GET /b"]
--- more_headers eval
["Range: bytes=0-1,39936-39943", "Range: bytes=0-1,39936-39943", "Range: bytes=39936-39943"]
--- error_code eval
[200, 206, 206]
--- response_headers eval
["X-Cache: MISS\nAccept-Ranges: bytes", "X-Cache: HIT", "X-Cache: MISS\nContent-Range: bytes 39936-39943/40000"]
--- response_body_like eval
["\\A\Q$::Big\E\\z", main::multipart(40000, [0, 1, '00'], [39936, 39943, '00039936']),
 "\\A00039936\\z"]
--- no_error_log
[alert]



=== TEST 3: a HIT without a Range: one Accept-Ranges line, the filter's
--- config
    location / {
        proxy_cache rz;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SMALL_PORT;
    }
--- request eval
["GET /c", "GET /c"]
--- response_headers eval
["X-Cache: MISS\nAccept-Ranges: bytes", "X-Cache: HIT\nAccept-Ranges: bytes"]
--- raw_response_headers_unlike eval
[qr/Accept-Ranges.*Accept-Ranges/si, qr/Accept-Ranges.*Accept-Ranges/si]



=== TEST 4: an upstream without Accept-Ranges: no ranges, stored or cached
--- config
    location / {
        proxy_cache rz;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_NOAR_PORT;
    }
--- request eval
["GET /d", "GET /d", "GET /d"]
--- more_headers eval
["Range: bytes=0-1,64-71", "Range: bytes=0-1,64-71", "Range: bytes=64-71"]
--- response_headers eval
["X-Cache: MISS\n!Accept-Ranges", "X-Cache: HIT\n!Accept-Ranges", "X-Cache: HIT\n!Content-Range"]
--- response_body_like eval
["\\A\Q$::Small\E\\z", "\\A\Q$::Small\E\\z", "\\A\Q$::Small\E\\z"]



=== TEST 5: proxy_cache_lock off: a request while the entry is being stored goes upstream too; two ranges get the whole 200, one range a 206
--- config
    location / {
        proxy_cache rz;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
--- init
my $r = main::while_stored('/e', '/e', 'bytes=0-1,8000-8001');
Test::More::like($r, qr/^HTTP\/1\.1 200 .*X-Cache: MISS\r\n.*\r\n\r\n(a{8000}b{8000}c{8000}d{8000})\z/s,
                 'TEST 5: two ranges: the whole 200');
$r = main::while_stored('/f', '/f', 'bytes=8000-8001');
Test::More::like($r, qr/^HTTP\/1\.1 206 .*Content-Range: bytes 8000-8001\/32000\r\n(?:.*\r\n)?\r\nbb\z/s,
                 'TEST 5: one range: 206');
--- request
GET /e
--- more_headers
Range: bytes=0-1,8000-8001
--- error_code: 206
--- response_headers
X-Cache: HIT
--- response_body_like eval
main::multipart(32000, [0, 1, 'aa'], [8000, 8001, 'bb'])



=== TEST 6: proxy_cache_lock on: the request waits for the entry and answers both ranges from it
--- config
    location / {
        proxy_cache rz;
        proxy_cache_lock on;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
--- init
my $r = main::while_stored('/g', '/g', 'bytes=0-1,8000-8001');
Test::More::like($r, qr/^HTTP\/1\.1 206 .*X-Cache: HIT\r\n/s, 'TEST 6: a HIT');
my ($body) = $r =~ /\r\n\r\n(.*)\z/s;
Test::More::like($body, main::multipart(32000, [0, 1, 'aa'], [8000, 8001, 'bb']),
                 'TEST 6: both ranges');
--- request
GET /g
--- response_headers
X-Cache: HIT
Accept-Ranges: bytes
