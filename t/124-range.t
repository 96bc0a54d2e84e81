# Byte ranges: single (closed, open, suffix, cut at the end), multipart/byteranges in
# nginx's format, 416 with "Content-Range: bytes */SIZE", max_ranges, If-Range, ranges
# together with conditions, HEAD, sendfile on and off.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/124-range.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $Name = $Binary =~ /nginx/ ? 'nginx' : 'moongate';

plan 'no_plan';

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(user_files => ">>> f.txt 201707140240.00\n0123456789abcdefghi\n")
        unless defined $block->user_files;
});

run_tests();

__DATA__

=== TEST 1: a closed range: 206 with Content-Range, no Accept-Ranges
--- request
GET /f.txt
--- more_headers
Range: bytes=1-2
--- error_code: 206
--- response_headers
Content-Range: bytes 1-2/20
Content-Length: 2
Content-Type: text/plain
ETag: "59682f00-14"
Last-Modified: Fri, 14 Jul 2017 02:40:00 GMT
!Accept-Ranges
--- response_body chop
12



=== TEST 2: an open range runs to the end
--- request
GET /f.txt
--- more_headers
Range: bytes=15-
--- error_code: 206
--- response_headers
Content-Range: bytes 15-19/20
--- response_body
fghi



=== TEST 3: a suffix range: the last bytes
--- request
GET /f.txt
--- more_headers
Range: bytes=-3
--- error_code: 206
--- response_headers
Content-Range: bytes 17-19/20
--- response_body
hi



=== TEST 4: a suffix longer than the file is the whole file, as a 206
--- request
GET /f.txt
--- more_headers
Range: bytes=-100
--- error_code: 206
--- response_headers
Content-Range: bytes 0-19/20
Content-Length: 20



=== TEST 5: an end past the file is cut to it
--- request
GET /f.txt
--- more_headers
Range: bytes=18-1000
--- error_code: 206
--- response_headers
Content-Range: bytes 18-19/20
--- response_body
i



=== TEST 6: one byte, spaces allowed around the numbers, unit case-insensitive
--- request
GET /f.txt
--- more_headers
Range: BYTES= 0 - 0
--- error_code: 206
--- response_headers
Content-Range: bytes 0-0/20
--- response_body chop
0



=== TEST 7: two ranges: multipart/byteranges exactly as nginx frames it
--- request
GET /f.txt
--- more_headers
Range: bytes=0-1,5-6
--- error_code: 206
--- response_headers_like
Content-Type: multipart/byteranges; boundary=\d{20}
Content-Length: 198
--- response_body_like eval
qr/\A\r\n--(\d{20})\r\nContent-Type: text\/plain\r\nContent-Range: bytes 0-1\/20\r\n\r\n01\r\n--\1\r\nContent-Type: text\/plain\r\nContent-Range: bytes 5-6\/20\r\n\r\n56\r\n--\1--\r\n\z/



=== TEST 8: multipart keeps the client's order; overlapping parts are not merged
--- request
GET /f.txt
--- more_headers
Range: bytes=10-11,-2,0-0
--- error_code: 206
--- response_body_like eval
qr/\A\r\n--(\d{20})\r\nContent-Type: text\/plain\r\nContent-Range: bytes 10-11\/20\r\n\r\nab\r\n--\1\r\nContent-Type: text\/plain\r\nContent-Range: bytes 18-19\/20\r\n\r\ni\n\r\n--\1\r\nContent-Type: text\/plain\r\nContent-Range: bytes 0-0\/20\r\n\r\n0\r\n--\1--\r\n\z/



=== TEST 9: a range past the end: 416 with the size and nginx's page
--- request
GET /f.txt
--- more_headers
Range: bytes=20-
--- error_code: 416
--- response_headers
Content-Range: bytes */20
Content-Type: text/html
!Accept-Ranges
--- response_body_like eval
"\\A<html>\r\n<head><title>416 Requested Range Not Satisfiable</title></head>\r\n<body>\r\n<center><h1>416 Requested Range Not Satisfiable</h1></center>\r\n<hr><center>$::Name/[\\d.]+</center>"



=== TEST 10: a malformed range is 416 too
--- request
GET /f.txt
--- more_headers
Range: bytes=abc
--- error_code: 416
--- response_headers
Content-Range: bytes */20



=== TEST 11: a backwards range alone is 416
--- request
GET /f.txt
--- more_headers
Range: bytes=5-2
--- error_code: 416



=== TEST 12: a zero-length suffix is 416
--- request
GET /f.txt
--- more_headers
Range: bytes=-0
--- error_code: 416



=== TEST 13: an unsatisfiable range among good ones is skipped
--- request
GET /f.txt
--- more_headers
Range: bytes=50-60,2-3
--- error_code: 206
--- response_headers
Content-Range: bytes 2-3/20
--- response_body chop
23



=== TEST 14: another unit is ignored: the whole file with Accept-Ranges
--- request
GET /f.txt
--- more_headers
Range: items=0-1
--- error_code: 200
--- response_headers
Accept-Ranges: bytes
Content-Length: 20



=== TEST 15: ranges adding up to more than the file: the whole file (nginx's guard)
--- request
GET /f.txt
--- more_headers
Range: bytes=0-19,0-19
--- error_code: 200
--- response_headers
Content-Length: 20
Accept-Ranges: bytes



=== TEST 16: "0-" of an empty file is the (empty) file
--- user_files
>>> empty.txt
--- request
GET /empty.txt
--- more_headers
Range: bytes=0-
--- error_code: 200
--- response_headers
Content-Length: 0



=== TEST 17: max_ranges 1: two ranges get the whole file
--- config
    location / { root $TEST_NGINX_HTML_DIR; max_ranges 1; }
--- request
GET /f.txt
--- more_headers
Range: bytes=0-1,5-6
--- error_code: 200
--- response_headers
Content-Length: 20
Accept-Ranges: bytes



=== TEST 18: max_ranges 1 still serves one range
--- config
    max_ranges 1;
    location / { root $TEST_NGINX_HTML_DIR; }
--- request
GET /f.txt
--- more_headers
Range: bytes=0-1
--- error_code: 206



=== TEST 19: max_ranges 0: ranges off, and no Accept-Ranges
--- config
    location / { root $TEST_NGINX_HTML_DIR; max_ranges 0; }
--- request
GET /f.txt
--- more_headers
Range: bytes=0-1
--- error_code: 200
--- response_headers
!Accept-Ranges
Content-Length: 20



=== TEST 20: If-Range with the current ETag: the range applies
--- request
GET /f.txt
--- more_headers
Range: bytes=0-1
If-Range: "59682f00-14"
--- error_code: 206



=== TEST 21: If-Range with another ETag: the whole file
--- request
GET /f.txt
--- more_headers
Range: bytes=0-1
If-Range: "59682f00-15"
--- error_code: 200
--- response_headers
Accept-Ranges: bytes



=== TEST 22: If-Range with the Last-Modified date: the range applies
--- request
GET /f.txt
--- more_headers
Range: bytes=0-1
If-Range: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 206



=== TEST 23: If-Range with another date: the whole file
--- request
GET /f.txt
--- more_headers
Range: bytes=0-1
If-Range: Fri, 14 Jul 2017 02:40:01 GMT
--- error_code: 200



=== TEST 24: a matching If-None-Match beats the range: 304
--- request
GET /f.txt
--- more_headers
Range: bytes=0-1
If-None-Match: "59682f00-14"
--- error_code: 304



=== TEST 25: HEAD with a range: the 206 head, no body
--- request
HEAD /f.txt
--- more_headers
Range: bytes=0-1,4-5
--- error_code: 206
--- response_headers
Content-Length: 198
--- response_body



=== TEST 26: responses that are not files take no ranges
--- config
    location /r { return 200 "0123456789\n"; }
--- request
GET /r
--- more_headers
Range: bytes=0-1
--- error_code: 200
--- response_headers
!Accept-Ranges
--- response_body
0123456789



=== TEST 27: a range deep in a large file, sendfile off and on
--- config
    location /s/ { alias $TEST_NGINX_HTML_DIR/; sendfile on; }
    location / { root $TEST_NGINX_HTML_DIR; }
--- user_files eval
[["big.bin", CORE::join("", map { sprintf "%07d\n", $_ } 0 .. 49999)]]
--- request eval
["GET /big.bin", "GET /s/big.bin"]
--- more_headers
Range: bytes=320000-320015
--- error_code eval
[206, 206]
--- response_body eval
["0040000\n0040001\n", "0040000\n0040001\n"]



=== TEST 28: multipart over a large file with sendfile on
--- config
    sendfile on;
    location / { root $TEST_NGINX_HTML_DIR; }
--- user_files eval
[["big.bin", CORE::join("", map { sprintf "%07d\n", $_ } 0 .. 49999)]]
--- request
GET /big.bin
--- more_headers
Range: bytes=8-15,399992-
--- error_code: 206
--- response_body_like eval
qr/\A\r\n--(\d{20})\r\nContent-Type: application\/octet-stream\r\nContent-Range: bytes 8-15\/400000\r\n\r\n0000001\n\r\n--\1\r\nContent-Type: application\/octet-stream\r\nContent-Range: bytes 399992-399999\/400000\r\n\r\n0049999\n\r\n--\1--\r\n\z/
--- http_config
    types { application/octet-stream bin; }



=== TEST 29: range requests on one keepalive connection
--- pipelined_requests eval
["GET /f.txt", "GET /f.txt"]
--- more_headers
Range: bytes=3-4
--- error_code eval
[206, 206]
--- response_body eval
["34", "34"]



=== TEST 30: "max_ranges" wants a number
--- config
    max_ranges many;
--- must_die
--- error_log eval
qr/\[emerg\] .*"max_ranges" directive invalid number in .*\.conf:\d+/
