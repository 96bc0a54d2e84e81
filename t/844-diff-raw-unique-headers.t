# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate (t/tools/h1diff.py):
# the request headers nginx 1.22 takes once. A second Expect, If-Match, If-None-Match, If-Range
# or Content-Range is a 400 logged as a duplicate header line (moongate took both lines, and
# answered a doubled If-Match with a 412). Other repeated headers stay allowed.
#
#   prove -I t/lib t/844-diff-raw-unique-headers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/844-diff-raw-unique-headers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a second Expect is a bad request
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: 100-continue\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
--- error_code: 400
--- error_log
client sent duplicate header line: "Expect: 100-continue", previous value: "Expect: 100-continue" while reading client request headers, client: 127.0.0.1, server: localhost, request: "POST /t HTTP/1.1", host: "a"



=== TEST 2: a second If-Match is a bad request, not a 412
--- user_files
>>> f.txt
static
--- raw_request eval
"GET /f.txt HTTP/1.1\r\nHost: a\r\nIf-Match: \"a\"\r\nif-match: \"b\"\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent duplicate header line: "if-match: "b"", previous value: "If-Match: "a"" while reading client request headers



=== TEST 3: a second If-None-Match is a bad request
--- user_files
>>> f.txt
static
--- raw_request eval
"GET /f.txt HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent duplicate header line: "If-None-Match: "b"", previous value: "If-None-Match: "a""



=== TEST 4: a second If-Range is a bad request
--- user_files
>>> f.txt
static
--- raw_request eval
"GET /f.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nIf-Range: \"a\"\r\nIf-Range: \"a\"\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent duplicate header line: "If-Range: "a"", previous value: "If-Range: "a""



=== TEST 5: a second Content-Range is a bad request
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\nContent-Range: bytes 0-1/2\r\nContent-Range: bytes 0-1/3\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent duplicate header line: "Content-Range: bytes 0-1/3", previous value: "Content-Range: bytes 0-1/2"



=== TEST 6: repeated headers nginx takes as a list stay allowed
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\nAccept: a\r\nAccept: b\r\nRange: bytes=0-0\r\nRange: bytes=1-1\r\nUser-Agent: x\r\nUser-Agent: y\r\nConnection: close\r\n\r\n"
--- response_body
ok
