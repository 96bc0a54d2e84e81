# Found by running the same configs on Debian's nginx 1.22 and moongate: gzip and gunzip
# change the body, so a byte range of it means nothing; nginx drops the Accept-Ranges header an
# upstream sent (a proxied static file's) along with its own. moongate dropped only its own.
#
#   prove -I t/lib t/729-diff-gzip-accept-ranges.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/729-diff-gzip-accept-ranges.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Compress::Gzip qw(gzip $GzipError);

plan 'no_plan';

# a compressed file for the upstream to send as it is
sub write_packed {
    my $text = "hello world\n" x 50;
    gzip(\$text => \my $packed) or die $GzipError;
    open my $fh, '>', "$HtmlDir/packed.gz" or die "packed.gz: $!";
    binmode $fh;
    print $fh $packed;
    close $fh;
}

run_tests();

__DATA__

=== TEST 1: gzip of a proxied file: the upstream's Accept-Ranges goes
--- user_files
>>> b.txt
hello world hello world hello world hello world hello world
--- config
    location /gz { gzip on; gzip_min_length 1; gzip_types text/plain; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b.txt; }
--- request
GET /gz
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
Accept-Ranges:
ETag: W/"5f5e1000-3c"
--- init
utime(1600000000, 1600000000, "$Test::Moongate::HtmlDir/b.txt")



=== TEST 2: the same response not compressed keeps it
--- user_files
>>> b.txt
hello world hello world hello world hello world hello world
--- config
    location /gz { gzip on; gzip_min_length 1; gzip_types text/plain; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b.txt; }
--- request
GET /gz
--- response_headers
Content-Encoding:
Accept-Ranges: bytes



=== TEST 3: gunzip of a proxied compressed file: the upstream's Accept-Ranges goes
--- config
    location /gu { gunzip on; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b; }
    location /b { add_header Content-Encoding gzip; alias $TEST_NGINX_HTML_DIR/packed.gz; }
--- init
main::write_packed();
--- request
GET /gu
--- response_headers
Content-Encoding:
Accept-Ranges:
--- response_body eval
"hello world\n" x 50
