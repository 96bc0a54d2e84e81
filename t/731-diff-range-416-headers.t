# Found by running the same configs on Debian's nginx 1.22 and moongate: a 416's
# "Content-Range: bytes */SIZE" joins the header list when the range is refused, before the
# 416 page goes through the header filters again; so an `add_header ... always` line the page's
# pass adds comes after it, and an error_page for 416 keeps it.
#
#   prove -I t/lib t/731-diff-range-416-headers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/731-diff-range-416-headers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: add_header always on a 416: the page's line comes after Content-Range
--- user_files
>>> f.txt
file
--- config
    location /a { add_header X-A a always; alias $TEST_NGINX_HTML_DIR/f.txt; }
--- request
GET /a
--- more_headers
Range: bytes=9-
--- error_code: 416
--- raw_response_headers_like chomp
Connection: close\r\nX-A: a\r\nContent-Range: bytes \*/5\r\nX-A: a\r\n\r\n$



=== TEST 2: a 416 sent to an error_page keeps its Content-Range
--- user_files
>>> f.txt
file
>>> err.html
err
--- config
    location /c { error_page 416 /err.html; alias $TEST_NGINX_HTML_DIR/f.txt; }
    location = /err.html { }
--- request
GET /c
--- more_headers
Range: bytes=9-
--- error_code: 416
--- response_headers
Content-Range: bytes */5
--- response_body
err
