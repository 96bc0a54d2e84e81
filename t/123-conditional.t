# Conditional requests: If-Modified-Since (if_modified_since off|exact|before),
# If-None-Match (weak comparison, lists, "*") -> 304; If-Unmodified-Since and If-Match
# (strong comparison) -> 412; what a 304 keeps and drops.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/123-conditional.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $Name = $Binary =~ /nginx/ ? 'nginx' : 'moongate';

plan 'no_plan';

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(user_files => ">>> f.txt 201707140240.00\nsome text\n")
        unless defined $block->user_files;
});

run_tests();

__DATA__
=== TEST 1: If-Modified-Since equal to Last-Modified: 304 keeps the validators only
--- request
GET /f.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 304
--- response_headers
Last-Modified: Fri, 14 Jul 2017 02:40:00 GMT
ETag: "59682f00-a"
!Content-Length
!Content-Type
!Accept-Ranges
--- response_body



=== TEST 2: If-Modified-Since a second off: exact (the default) sends the file: If-Modified-Since: Fri, 14 Jul 2017 02:40:01 GMT
--- request
GET /f.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:40:01 GMT
--- error_code: 200



=== TEST 3: If-Modified-Since a second off: exact (the default) sends the file: If-Modified-Since: Fri, 14 Jul 2017 02:39:59 GMT
--- request
GET /f.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:39:59 GMT
--- error_code: 200



=== TEST 4: if_modified_since before: a later date is 304, an earlier one 200: If-Modified-Since: Fri, 14 Jul 2017 02:40:01 GMT
--- config
    if_modified_since before;
    location / { root $TEST_NGINX_HTML_DIR; }
--- request
GET /f.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:40:01 GMT
--- error_code: 304



=== TEST 5: if_modified_since before: a later date is 304, an earlier one 200: If-Modified-Since: Fri, 14 Jul 2017 02:39:59 GMT
--- config
    if_modified_since before;
    location / { root $TEST_NGINX_HTML_DIR; }
--- request
GET /f.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:39:59 GMT
--- error_code: 200



=== TEST 6: if_modified_since before: a later date is 304, an earlier one 200: If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- config
    if_modified_since before;
    location / { root $TEST_NGINX_HTML_DIR; }
--- request
GET /f.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 304



=== TEST 7: if_modified_since off: never 304 from a date
--- config
    location / { root $TEST_NGINX_HTML_DIR; if_modified_since off; }
--- request
GET /f.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 200



=== TEST 8: the other date formats (RFC 850, asctime) and garbage: If-Modified-Since: Friday, 14-Jul-17 02:40:00 GMT
--- request
GET /f.txt
--- more_headers
If-Modified-Since: Friday, 14-Jul-17 02:40:00 GMT
--- error_code: 304



=== TEST 9: the other date formats (RFC 850, asctime) and garbage: If-Modified-Since: Fri Jul 14 02:40:00 2017
--- request
GET /f.txt
--- more_headers
If-Modified-Since: Fri Jul 14 02:40:00 2017
--- error_code: 304



=== TEST 10: the other date formats (RFC 850, asctime) and garbage: If-Modified-Since: yesterday
--- request
GET /f.txt
--- more_headers
If-Modified-Since: yesterday
--- error_code: 200



=== TEST 11: If-None-Match: exact tag, weak form, in a list, "*", and no match: If-None-Match: "59682f00-a"
--- request
GET /f.txt
--- more_headers
If-None-Match: "59682f00-a"
--- error_code: 304



=== TEST 12: If-None-Match: exact tag, weak form, in a list, "*", and no match: If-None-Match: W/"59682f00-a"
--- request
GET /f.txt
--- more_headers
If-None-Match: W/"59682f00-a"
--- error_code: 304



=== TEST 13: If-None-Match: exact tag, weak form, in a list, "*", and no match: If-None-Match: "x", "59682f00-a" , "y"
--- request
GET /f.txt
--- more_headers
If-None-Match: "x", "59682f00-a" , "y"
--- error_code: 304



=== TEST 14: If-None-Match: exact tag, weak form, in a list, "*", and no match: If-None-Match: *
--- request
GET /f.txt
--- more_headers
If-None-Match: *
--- error_code: 304



=== TEST 15: If-None-Match: exact tag, weak form, in a list, "*", and no match: If-None-Match: "59682f00-b"
--- request
GET /f.txt
--- more_headers
If-None-Match: "59682f00-b"
--- error_code: 200



=== TEST 16: If-None-Match: exact tag, weak form, in a list, "*", and no match: If-None-Match: "59682f00-a
--- request
GET /f.txt
--- more_headers
If-None-Match: "59682f00-a
--- error_code: 200



=== TEST 17: If-None-Match that fails wins over a matching If-Modified-Since
--- request
GET /f.txt
--- more_headers
If-None-Match: "other"
If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 200



=== TEST 18: If-None-Match on HEAD: 304 too
--- request
HEAD /f.txt
--- more_headers
If-None-Match: "59682f00-a"
--- error_code: 304
--- response_body



=== TEST 19: If-Unmodified-Since: same or later passes, earlier or garbage is 412: If-Unmodified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- request
GET /f.txt
--- more_headers
If-Unmodified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 200



=== TEST 20: If-Unmodified-Since: same or later passes, earlier or garbage is 412: If-Unmodified-Since: Sat, 15 Jul 2017 00:00:00 GMT
--- request
GET /f.txt
--- more_headers
If-Unmodified-Since: Sat, 15 Jul 2017 00:00:00 GMT
--- error_code: 200



=== TEST 21: If-Unmodified-Since: same or later passes, earlier or garbage is 412: If-Unmodified-Since: Fri, 14 Jul 2017 02:39:59 GMT
--- request
GET /f.txt
--- more_headers
If-Unmodified-Since: Fri, 14 Jul 2017 02:39:59 GMT
--- error_code: 412



=== TEST 22: If-Unmodified-Since: same or later passes, earlier or garbage is 412: If-Unmodified-Since: never
--- request
GET /f.txt
--- more_headers
If-Unmodified-Since: never
--- error_code: 412



=== TEST 23: 412 is nginx's page
--- request
GET /f.txt
--- more_headers
If-Match: "nope"
--- error_code: 412
--- response_headers
Content-Type: text/html
!ETag
!Last-Modified
--- response_body_like eval
"\\A<html>\r\n<head><title>412 Precondition Failed</title></head>\r\n<body>\r\n<center><h1>412 Precondition Failed</h1></center>\r\n<hr><center>$::Name/[\\d.]+</center>"



=== TEST 24: If-Match: strong tag, list, "*" pass; a weak tag does not: If-Match: "59682f00-a"
--- request
GET /f.txt
--- more_headers
If-Match: "59682f00-a"
--- error_code: 200



=== TEST 25: If-Match: strong tag, list, "*" pass; a weak tag does not: If-Match: "a","59682f00-a"
--- request
GET /f.txt
--- more_headers
If-Match: "a","59682f00-a"
--- error_code: 200



=== TEST 26: If-Match: strong tag, list, "*" pass; a weak tag does not: If-Match: *
--- request
GET /f.txt
--- more_headers
If-Match: *
--- error_code: 200



=== TEST 27: If-Match: strong tag, list, "*" pass; a weak tag does not: If-Match: W/"59682f00-a"
--- request
GET /f.txt
--- more_headers
If-Match: W/"59682f00-a"
--- error_code: 412



=== TEST 28: conditions on a response without validators: If-Match "*" passes, a tag fails, If-None-Match "*" is 304: If-Match: *
--- config
    location /r { return 200 "text\n"; }
--- request
GET /r
--- more_headers
If-Match: *
--- error_code: 200



=== TEST 29: conditions on a response without validators: If-Match "*" passes, a tag fails, If-None-Match "*" is 304: If-Match: "x"
--- config
    location /r { return 200 "text\n"; }
--- request
GET /r
--- more_headers
If-Match: "x"
--- error_code: 412



=== TEST 30: conditions on a response without validators: If-Match "*" passes, a tag fails, If-None-Match "*" is 304: If-None-Match: *
--- config
    location /r { return 200 "text\n"; }
--- request
GET /r
--- more_headers
If-None-Match: *
--- error_code: 304



=== TEST 31: conditions on a response without validators: If-Match "*" passes, a tag fails, If-None-Match "*" is 304: If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- config
    location /r { return 200 "text\n"; }
--- request
GET /r
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 200



=== TEST 32: conditions on a response without validators: If-Match "*" passes, a tag fails, If-None-Match "*" is 304: If-Unmodified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- config
    location /r { return 200 "text\n"; }
--- request
GET /r
--- more_headers
If-Unmodified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 412



=== TEST 33: only 200 responses are conditional: a 404 stays a 404
--- request
GET /nope.txt
--- more_headers
If-None-Match: *
--- error_code: 404



=== TEST 34: a 304 keeps the connection for the next request
--- pipelined_requests eval
["GET /f.txt", "GET /f.txt"]
--- more_headers
If-None-Match: "59682f00-a"
--- error_code eval
[304, 304]
--- response_body eval
["", ""]



=== TEST 35: add_header is applied to the 304
--- config
    location / { root $TEST_NGINX_HTML_DIR; add_header X-Cond yes; }
--- request
GET /f.txt
--- more_headers
If-None-Match: "59682f00-a"
--- error_code: 304
--- response_headers
X-Cond: yes



=== TEST 36: "if_modified_since" values
--- config
    if_modified_since sometimes;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "sometimes" in .*\.conf:\d+/
