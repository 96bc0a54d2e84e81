# The gzip filter as nginx applies it: which responses (status, type, length, HEAD), which
# clients (Accept-Encoding, HTTP version, gzip_disable, gzip_proxied behind a Via), the
# headers it changes (Content-Encoding, Content-Length, Vary, ETag) and bodies that decompress
# to the original, from memory and from files, large ones streamed through a full socket.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/142-gzip.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;

plan 'no_plan';

our $Text = join '', map { "line $_: the quick brown fox jumps over the lazy dog\n" } 1 .. 2000;
our $Noise = do {
    open my $f, '<', '/dev/urandom' or die; binmode $f;
    read($f, my $d, 6 * 1024 * 1024) == 6 * 1024 * 1024 or die; $d
};

run_tests();

__DATA__

=== TEST 1: a text/html file is compressed for a client that takes gzip
--- user_files eval
">>> page.html\n$::Text"
--- config
    gzip on;
--- request
GET /page.html
--- more_headers
Accept-Encoding: gzip, deflate
--- response_headers
Content-Encoding: gzip
!Content-Length
Transfer-Encoding: chunked
Content-Type: text/html
--- response_body_filters: gunzip
--- response_body eval
$::Text



=== TEST 2: no Accept-Encoding, no compression
--- user_files eval
">>> page.html\n$::Text"
--- config
    gzip on;
--- request
GET /page.html
--- response_headers eval
"!Content-Encoding\nContent-Length: " . length($::Text)
--- response_body eval
$::Text



=== TEST 3: gzip off (the default) sends the body as it is
--- user_files eval
">>> page.html\n$::Text"
--- request
GET /page.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
!Content-Encoding
--- response_body eval
$::Text



=== TEST 4: Accept-Encoding spellings nginx takes and refuses
--- config
    gzip on;
    gzip_min_length 1;
    default_type text/html;
    location /t { return 200 "hello hello hello hello\n"; }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t",
 "GET /t", "GET /t"]
--- more_headers eval
["Accept-Encoding: GZIP", "Accept-Encoding: deflate, gzip;q=0.5",
 "Accept-Encoding: gzip;q=0", "Accept-Encoding: gzip; q=0.000", "Accept-Encoding: identity",
 "Accept-Encoding: *", "Accept-Encoding: xgzip, br", "Accept-Encoding: br,gzip",
 "Accept-Encoding: gzip;q=1.0", "Accept-Encoding: gzipx"]
--- response_headers eval
["Content-Encoding: gzip", "Content-Encoding: gzip", "!Content-Encoding", "!Content-Encoding",
 "!Content-Encoding", "!Content-Encoding", "!Content-Encoding", "Content-Encoding: gzip",
 "Content-Encoding: gzip", "!Content-Encoding"]



=== TEST 5: only text/html by default; gzip_types adds types, "*" takes all
--- user_files
>>> a.txt
plain text plain text plain text plain text
>>> b/a.txt
plain text plain text plain text plain text
>>> c/a.bin
binary binary binary binary binary binary
--- config
    gzip on;
    location /b/ { gzip_types text/plain; }
    location /c/ { gzip_types *; }
--- request eval
["GET /a.txt", "GET /b/a.txt", "GET /c/a.bin"]
--- more_headers
Accept-Encoding: gzip
--- response_headers eval
["!Content-Encoding", "Content-Encoding: gzip", "Content-Encoding: gzip"]
--- response_body_filters eval
[sub { $_[0] }, \&::gunzip, \&::gunzip]
--- response_body eval
["plain text plain text plain text plain text\n", "plain text plain text plain text plain text\n",
 "binary binary binary binary binary binary\n"]



=== TEST 6: a type in another case still matches
--- config
    gzip on;
    gzip_types application/json;
    location /t {
        default_type "Application/JSON";
        return 200 '{"a": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}';
    }
--- request
GET /t
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters: gunzip
--- response_body: {"a": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}



=== TEST 7: gzip_min_length reads Content-Length (default 20)
--- config
    gzip on;
    default_type text/html;
    location /short { return 200 "short"; }
    location /long { return 200 "long enough to be compressed"; }
    location /min { gzip_min_length 1000; return 200 "long enough to be compressed"; }
--- request eval
["GET /short", "GET /long", "GET /min"]
--- more_headers
Accept-Encoding: gzip
--- response_headers eval
["!Content-Encoding\nContent-Length: 5", "Content-Encoding: gzip", "!Content-Encoding"]



=== TEST 8: gzip_comp_level 9 and small gzip_buffers still give the same body
--- user_files eval
">>> page.html\n$::Text"
--- config
    gzip on;
    gzip_comp_level 9;
    gzip_buffers 2 1k;
--- request
GET /page.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters: gunzip
--- response_body eval
$::Text



=== TEST 9: gzip_vary adds Vary to compressible responses, also uncompressed ones
--- config
    gzip on;
    gzip_vary on;
    default_type text/html;
    location /t { return 200 "long enough to be compressed"; }
    location /short { return 200 "short"; }
--- request eval
["GET /t", "GET /t", "GET /short"]
--- more_headers eval
["Accept-Encoding: gzip", "", "Accept-Encoding: gzip"]
--- response_headers eval
["Vary: Accept-Encoding\nContent-Encoding: gzip", "Vary: Accept-Encoding\n!Content-Encoding",
 "!Vary\n!Content-Encoding"]



=== TEST 10: gzip_http_version: HTTP/1.0 is refused by default, taken with 1.0
--- config
    gzip on;
    default_type text/html;
    location /t { return 200 "long enough to be compressed"; }
    location /ten { gzip_http_version 1.0; return 200 "long enough to be compressed"; }
--- request eval
["GET /t HTTP/1.0", "GET /ten HTTP/1.0"]
--- more_headers
Accept-Encoding: gzip
--- response_headers eval
["!Content-Encoding", "Content-Encoding: gzip\n!Transfer-Encoding\n!Content-Length"]
--- response_body_filters eval
[sub { $_[0] }, \&::gunzip]
--- response_body eval
["long enough to be compressed", "long enough to be compressed"]



=== TEST 11: the statuses nginx compresses: 200, 403, 404 and no others
--- config
    gzip on;
    default_type text/html;
    location = /403 { return 403 "forbidden forbidden forbidden"; }
    location = /404 { return 404 "not found not found not found"; }
    location = /500 { return 500 "error error error error error"; }
    location = /201 { return 201 "created created created created"; }
    location = /206 { return 206 "partial partial partial partial"; }
--- request eval
["GET /403", "GET /404", "GET /500", "GET /201", "GET /206", "GET /missing"]
--- more_headers
Accept-Encoding: gzip
--- error_code eval
[403, 404, 500, 201, 206, 404]
--- response_headers eval
["Content-Encoding: gzip", "Content-Encoding: gzip", "!Content-Encoding", "!Content-Encoding",
 "!Content-Encoding", "Content-Encoding: gzip"]
--- response_body_filters eval
[\&::gunzip, \&::gunzip, sub { $_[0] }, sub { $_[0] }, sub { $_[0] }, \&::gunzip]
--- response_body_like eval
["forbidden", "not found", "error", "created", "partial", "404 Not Found"]



=== TEST 12: HEAD gets the headers of the compressed response and no body
--- user_files eval
">>> page.html\n$::Text"
--- config
    gzip on;
--- request
HEAD /page.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
!Content-Length
--- response_body



=== TEST 13: the file's ETag becomes weak
--- user_files
>>> page.html 201707140240.00
<p>some page some page some page</p>
--- config
    gzip on;
--- request
GET /page.html
--- more_headers
Accept-Encoding: gzip
--- response_headers_like
ETag: W/"59682f00-[0-9a-f]+"



=== TEST 14: a Range request gets the whole compressed body (gzip drops the length first)
--- user_files eval
">>> page.html\n$::Text"
--- config
    gzip on;
--- request
GET /page.html
--- more_headers
Accept-Encoding: gzip
Range: bytes=0-9
--- error_code: 200
--- response_headers
Content-Encoding: gzip
!Content-Range
--- response_body_filters: gunzip
--- response_body eval
$::Text



=== TEST 15: gzip_disable: a regex on User-Agent (any case) and the msie6 mask
--- config
    gzip on;
    gzip_disable msie6 "badbot/\d";
    default_type text/html;
    location /t { return 200 "long enough to be compressed"; }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Accept-Encoding: gzip\nUser-Agent: BadBot/2.0",
 "Accept-Encoding: gzip\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
 "Accept-Encoding: gzip\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)",
 "Accept-Encoding: gzip\nUser-Agent: Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)",
 "Accept-Encoding: gzip\nUser-Agent: curl/8.0"]
--- response_headers eval
["!Content-Encoding", "!Content-Encoding", "Content-Encoding: gzip", "!Content-Encoding",
 "Content-Encoding: gzip"]



=== TEST 16: gzip_proxied: requests with Via are refused by default, taken with "any"
--- config
    gzip on;
    default_type text/html;
    location /t { return 200 "long enough to be compressed"; }
    location /any { gzip_proxied any; return 200 "long enough to be compressed"; }
--- request eval
["GET /t", "GET /any"]
--- more_headers
Accept-Encoding: gzip
Via: 1.1 proxy
--- response_headers eval
["!Content-Encoding", "Content-Encoding: gzip"]



=== TEST 17: gzip_proxied expired, no-cache, auth (a response none of them refuses is taken)
--- config
    gzip on;
    default_type text/html;
    location /expired { gzip_proxied expired; expires -1h; return 200 "long enough to be compressed"; }
    location /fresh { gzip_proxied expired; expires 1h; return 200 "long enough to be compressed"; }
    location /nocache { gzip_proxied no-cache; add_header Cache-Control "private, no-cache"; return 200 "long enough to be compressed"; }
    location /cache { gzip_proxied no-cache no-store; add_header Cache-Control "public"; return 200 "long enough to be compressed"; }
    location /auth { gzip_proxied auth; return 200 "long enough to be compressed"; }
--- request eval
["GET /expired", "GET /fresh", "GET /nocache", "GET /cache", "GET /auth", "GET /auth"]
--- more_headers eval
["Accept-Encoding: gzip\nVia: 1.1 p", "Accept-Encoding: gzip\nVia: 1.1 p",
 "Accept-Encoding: gzip\nVia: 1.1 p", "Accept-Encoding: gzip\nVia: 1.1 p",
 "Accept-Encoding: gzip\nVia: 1.1 p\nAuthorization: Basic eDp5",
 "Accept-Encoding: gzip\nVia: 1.1 p"]
--- response_headers eval
["Content-Encoding: gzip", "!Content-Encoding", "Content-Encoding: gzip", "!Content-Encoding",
 "Content-Encoding: gzip", "Content-Encoding: gzip"]



=== TEST 18: gzip_proxied no_etag refuses a file (it has an ETag), no_last_modified takes it
--- user_files eval
">>> a/page.html\n$::Text>>> b/page.html\n$::Text"
--- config
    gzip on;
    location /a/ { gzip_proxied no_etag; }
    location /b/ { gzip_proxied no_last_modified; }
--- request eval
["GET /a/page.html", "GET /b/page.html"]
--- more_headers
Accept-Encoding: gzip
Via: 1.1 p
--- response_headers eval
["!Content-Encoding", "Content-Encoding: gzip"]



=== TEST 19: a large incompressible file streams through a full socket, sendfile on
--- user_files eval
[["big.bin", $::Noise]]
--- config
    gzip on;
    gzip_types *;
    sendfile on;
--- request
GET /big.bin
--- more_headers
Accept-Encoding: gzip
--- timeout: 10
--- response_headers
Content-Encoding: gzip
--- response_body_filters eval
[sub { ::md5_len(::gunzip($_[0])) }]
--- response_body eval
::md5_len($::Noise)



=== TEST 20: the same with sendfile off and keepalive: the next request is answered
--- user_files eval
[["big.bin", $::Noise], ["small.html", "<p>small small small small</p>\n"]]
--- config
    gzip on;
    gzip_types *;
    sendfile off;
--- pipelined_requests eval
["GET /big.bin", "GET /small.html"]
--- more_headers
Accept-Encoding: gzip
--- timeout: 10
--- response_headers eval
["Content-Encoding: gzip", "Content-Encoding: gzip"]
--- response_body_filters eval
[sub { ::md5_len(::gunzip($_[0])) }, \&::gunzip]
--- response_body eval
[::md5_len($::Noise), "<p>small small small small</p>\n"]



=== TEST 21: inheritance: a location's gzip off wins over the server's on
--- config
    gzip on;
    default_type text/html;
    location /t { return 200 "long enough to be compressed"; }
    location /off { gzip off; return 200 "long enough to be compressed"; }
--- request eval
["GET /t", "GET /off"]
--- more_headers
Accept-Encoding: gzip
--- response_headers eval
["Content-Encoding: gzip", "!Content-Encoding"]



=== TEST 22: a duplicate MIME type is a warning
--- config
    gzip on;
    gzip_types text/html text/css text/css;
    gzip_window 3k;
--- must_die
--- error_log eval
[qr/\[warn\] .*duplicate MIME type "text\/html" in .*moongate\.conf:\d+/,
 qr/\[warn\] .*duplicate MIME type "text\/css" in .*moongate\.conf:\d+/]



=== TEST 23: a bad flag
--- config
    gzip maybe;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "maybe" in "gzip" directive, it must be "on" or "off" in .*moongate\.conf:\d+/



=== TEST 24: gzip_comp_level out of range
--- config
    gzip_comp_level 10;
--- must_die
--- error_log eval
qr/\[emerg\] .*value must be between 1 and 9 in .*moongate\.conf:\d+/



=== TEST 25: gzip_comp_level not a number
--- config
    gzip_comp_level x;
--- must_die
--- error_log eval
qr/\[emerg\] .*"gzip_comp_level" directive invalid number in .*moongate\.conf:\d+/



=== TEST 26: gzip_buffers with a zero
--- config
    gzip_buffers 0 4k;
--- must_die
--- error_log eval
qr/\[emerg\] .*"gzip_buffers" directive invalid value in .*moongate\.conf:\d+/



=== TEST 27: gzip_http_version 2.0
--- config
    gzip_http_version 2.0;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "2\.0" in .*moongate\.conf:\d+/



=== TEST 28: gzip_proxied with an unknown value
--- config
    gzip_proxied any sometimes;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "sometimes" in .*moongate\.conf:\d+/



=== TEST 29: gzip_disable with a bad regex
--- config
    gzip_disable "(";
--- must_die
--- error_log eval
qr/\[emerg\] .*pcre2_compile\(\) failed: missing closing parenthesis in "\(" in .*moongate\.conf:\d+/



=== TEST 30: gzip_window with a bad size
--- config
    gzip_window 3k;
--- must_die
--- error_log eval
qr/\[emerg\] .*"gzip_window" directive must be 512, 1k, 2k, 4k, 8k, 16k, or 32k in .*moongate\.conf:\d+/
