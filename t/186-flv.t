# flv (ngx_http_flv_module): "?start=N" sends the file from byte N behind nginx's 13-byte FLV
# header (the ETag and Content-Length are the response's), anything else the file whole; byte
# ranges of that response, HEAD, 405, a directory's redirect and "dir/" left to the index
# module, a missing file, and the directive's errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/186-flv.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# an FLV header, then bytes that only need to be told apart
our $Flv = "FLV\x01\x05\0\0\0\x09\0\0\0\0" . join('', map { chr($_ % 251) } 0 .. 3986);
our $Head = "FLV\x01\x05\0\0\0\x09\0\0\0\0";
our $Len = length $Flv;    # 4000
our @Files = (["v/a.flv", $Flv, '202009131226.40']);
our $Config = <<'_EOC_';
    types { video/x-flv flv; }
    location /v/ { flv; }
_EOC_

run_tests();

__DATA__

=== TEST 1: ?start=N: the header, then the file from byte N; length and ETag of what is sent
--- user_files eval
[@::Files]
--- config eval
$::Config
--- request
GET /v/a.flv?start=1000
--- response_headers eval
"Content-Type: video/x-flv\nContent-Length: 3013\nETag: \"5f5e1000-bc5\"\n" .
"Last-Modified: Sun, 13 Sep 2020 12:26:40 GMT\nAccept-Ranges: bytes"
--- response_body eval
$::Head . substr($::Flv, 1000)



=== TEST 2: no start, start=0, not a number, negative, or past the end: the file whole
--- user_files eval
[@::Files]
--- config eval
$::Config
--- request eval
["GET /v/a.flv", "GET /v/a.flv?start=0", "GET /v/a.flv?start=12x", "GET /v/a.flv?start=-5",
 "GET /v/a.flv?start=4000", "GET /v/a.flv?start=99999999999999999999999"]
--- response_headers eval
[("Content-Length: 4000\nETag: \"5f5e1000-fa0\"") x 6]
--- response_body eval
[($::Flv) x 6]



=== TEST 3: the last byte; the argument found among others, its name matched without case
--- user_files eval
[@::Files]
--- config eval
$::Config
--- request eval
["GET /v/a.flv?start=3999", "GET /v/a.flv?x=1&START=3990&start=5"]
--- response_body eval
[$::Head . substr($::Flv, 3999), $::Head . substr($::Flv, 3990)]



=== TEST 4: a byte range of the shifted response
--- user_files eval
[@::Files]
--- config eval
$::Config
--- request
GET /v/a.flv?start=2000
--- more_headers
Range: bytes=10-19
--- error_code: 206
--- response_headers
Content-Range: bytes 10-19/2013
Content-Length: 10
--- response_body eval
substr($::Head . substr($::Flv, 2000), 10, 10)



=== TEST 5: HEAD gets the headers; POST is 405; a conditional GET is 304
--- user_files eval
[@::Files]
--- config eval
$::Config
--- request eval
["HEAD /v/a.flv?start=100", "POST /v/a.flv?start=100\nabc", "GET /v/a.flv?start=100"]
--- more_headers eval
["", "", "If-Modified-Since: Sun, 13 Sep 2020 12:26:40 GMT"]
--- error_code eval
[200, 405, 304]
--- response_headers eval
["Content-Length: 3913", "", ""]
--- response_body_like eval
["\\A\\z", "405 Not Allowed", "\\A\\z"]



=== TEST 6: a directory without its slash is redirected; "dir/" goes to the index module
--- user_files eval
[@::Files, ["v/d/x.txt", "x"]]
--- config eval
$::Config
--- request eval
["GET /v/d", "GET /v/d/"]
--- error_code eval
[301, 403]
--- response_headers_like eval
["Location: http://[^/]+/v/d/", ""]
--- error_log
directory index of "



=== TEST 7: a missing file is a 404 with the open() line
--- config eval
$::Config
--- request
GET /v/none.flv?start=10
--- error_code: 404
--- error_log eval
qr{\[error\] .*open\(\) ".*/html/v/none\.flv" failed \(2: No such file or directory\)}



=== TEST 8: flv takes no arguments
--- config
    location / { flv on; }
--- must_die
--- error_log
invalid number of arguments in "flv" directive in



=== TEST 9: flv is a location directive
--- http_config
    flv;
--- config
--- must_die
--- error_log
"flv" directive is not allowed here in
