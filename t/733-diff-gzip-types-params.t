# Found by running the same configs on Debian's nginx 1.22 and moongate: gzip_types (and the
# other *_types) against a Content-Type with parameters. For an upstream's type both compare the
# type alone; for `default_type "text/plain; charset=utf-8"` nginx compares the whole string, so
# `gzip_types text/plain` never matches and the response goes out uncompressed. That is plainly
# a slip (the type is text/plain, and the same type from an upstream is compressed): moongate
# compares the type alone there too, and the block saying so is moongate_only.
#
#   prove -I t/lib t/733-diff-gzip-types-params.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/733-diff-gzip-types-params.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: an upstream's "text/plain; charset=utf-8" matches gzip_types text/plain (both)
--- config
    location /up { gzip on; gzip_min_length 1; gzip_types text/plain; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b; }
    location /b { default_type text/plain; charset utf-8; return 200 "hello hello hello hello hello hello"; }
--- request
GET /up
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Type: text/plain; charset=utf-8
Content-Encoding: gzip



=== TEST 2: default_type with a charset parameter matches gzip_types by its type
--- moongate_only
# nginx compares "text/plain; charset=utf-8" whole and does not compress
--- config
    location /d { default_type "text/plain; charset=utf-8"; gzip on; gzip_min_length 1; gzip_types text/plain; return 200 "hello hello hello hello hello hello"; }
--- request
GET /d
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
