# empty_gif (ngx_http_empty_gif_module): the 43 bytes of a 1x1 transparent GIF with nginx's
# headers (image/gif, Content-Length, the fixed Last-Modified), HEAD, 405 for other methods,
# a 304 for If-Modified-Since, and the directive's errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/190-empty-gif.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

our $Gif = pack('H*', '47494638396101000100800100000000ffffff21f90401000001002c00000000'
                    . '010001000002024c01003b');

run_tests();

__DATA__

=== TEST 1: the GIF and its headers
--- config
    location = /gif { empty_gif; }
--- request
GET /gif
--- response_headers
Content-Type: image/gif
Content-Length: 43
Last-Modified: Mon, 28 Sep 1970 06:00:00 GMT
!ETag
!Accept-Ranges
--- response_body eval
$main::Gif



=== TEST 2: HEAD gets the headers only; POST and DELETE are 405 (a body is read and dropped)
--- config
    location = /gif { empty_gif; }
--- request eval
["HEAD /gif", "POST /gif\nabc", "DELETE /gif"]
--- error_code eval
[200, 405, 405]
--- response_headers eval
["Content-Length: 43\nContent-Type: image/gif", "", ""]
--- response_body_like eval
["\\A\\z", "405 Not Allowed", "405 Not Allowed"]



=== TEST 3: If-Modified-Since the fixed date: 304; an older date: the GIF
--- config
    location = /gif { empty_gif; }
--- request eval
["GET /gif", "GET /gif"]
--- more_headers eval
["If-Modified-Since: Mon, 28 Sep 1970 06:00:00 GMT", "If-Modified-Since: Mon, 28 Sep 1970 05:00:00 GMT"]
--- error_code eval
[304, 200]
--- response_body eval
["", $main::Gif]



=== TEST 4: in a nested location and with a query string; the location's other directives apply
--- config
    location /img/ {
        add_header X-Img yes;
        location ~ \.gif$ { empty_gif; }
    }
--- request
GET /img/pixel.gif?a=b
--- response_headers
X-Img: yes
Content-Length: 43
--- response_body eval
$main::Gif



=== TEST 5: empty_gif takes no arguments
--- config
    location = /gif { empty_gif on; }
--- must_die
--- error_log
invalid number of arguments in "empty_gif" directive in



=== TEST 6: empty_gif is a location directive
--- config
    empty_gif;
--- must_die
--- error_log
"empty_gif" directive is not allowed here in
