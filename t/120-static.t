# Static files: headers (Content-Type from types, Content-Length, Last-Modified, ETag,
# Accept-Ranges), HEAD, directory redirects and 403s, 404 logging, 405 for other methods,
# index, root/alias (also in regex locations), the writer with sendfile on and off.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/120-static.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a file: length, dates, validators and Accept-Ranges, in nginx's order
--- user_files
>>> f.txt 201707140240.00
some text
--- request
GET /f.txt
--- response_headers
Content-Type: text/plain
Content-Length: 10
Last-Modified: Fri, 14 Jul 2017 02:40:00 GMT
ETag: "59682f00-a"
Accept-Ranges: bytes
--- raw_response_headers_like: Content-Length: 10\r\nLast-Modified: [^\r]+\r\nConnection: close\r\nETag: "59682f00-a"\r\nAccept-Ranges: bytes\r\n\r\n
--- response_body
some text



=== TEST 2: etag off drops the ETag, per location
--- config
    etag off;
    location /on/ { etag on; root $TEST_NGINX_HTML_DIR/..; }
    location / { root $TEST_NGINX_HTML_DIR; }
--- user_files
>>> f.txt 201707140240.00
x
--- request eval
["GET /f.txt", "GET /on/f.txt"]
--- error_code eval
[200, 404]
--- response_headers eval
["!ETag", "!ETag"]



=== TEST 3: etag on in a nested location after off outside
--- config
    etag off;
    location / {
        root $TEST_NGINX_HTML_DIR;
        location /in/ { etag on; }
    }
--- user_files
>>> f.txt 201707140240.00
x
>>> in/f.txt 201707140240.00
x
--- request eval
["GET /f.txt", "GET /in/f.txt"]
--- response_headers eval
["!ETag", "ETag: \"59682f00-2\""]



=== TEST 4: Content-Type from the types block, case-insensitive extension, default_type
--- config
    types { text/html html; text/css css; image/png png; }
    default_type application/octet-stream;
    location / { root $TEST_NGINX_HTML_DIR; }
--- user_files
>>> a.html
<p>
>>> b.CSS
x
>>> c.png
x
>>> d.unknown
x
>>> noext
x
--- request eval
["GET /a.html", "GET /b.CSS", "GET /c.png", "GET /d.unknown", "GET /noext"]
--- response_headers eval
["Content-Type: text/html", "Content-Type: text/css", "Content-Type: image/png",
 "Content-Type: application/octet-stream", "Content-Type: application/octet-stream"]



=== TEST 5: HEAD: the same head, no body
--- user_files
>>> f.txt 201707140240.00
some text
--- request
HEAD /f.txt
--- response_headers
Content-Length: 10
ETag: "59682f00-a"
Accept-Ranges: bytes
--- response_body



=== TEST 6: an empty file
--- user_files
>>> empty.txt
--- request
GET /empty.txt
--- response_headers
Content-Length: 0
--- response_body



=== TEST 7: a directory without its slash: 301 with the query string
--- user_files
>>> dir/index.html
in dir
--- request
GET /dir?x=1
--- error_code: 301
--- response_headers eval
"Location: http://localhost:$Test::Moongate::ServerPort/dir/?x=1"



=== TEST 8: a directory without an index file: 403 and nginx's log line
--- user_files
>>> dir/other.txt
x
--- request
GET /dir/
--- error_code: 403
--- error_log eval
qr/\[error\] .*directory index of "[^"]*\/html\/dir\/" is forbidden, client: 127\.0\.0\.1, server: localhost, request: "GET \/dir\/ HTTP\/1\.1"/



=== TEST 9: a missing file: 404 and the open() error in the log
--- request
GET /nope.txt
--- error_code: 404
--- error_log eval
qr/\[error\] .*open\(\) "[^"]*\/html\/nope\.txt" failed \(2: No such file or directory\), client: 127\.0\.0\.1/



=== TEST 10: log_not_found off: the 404 is not logged
--- config
    location / { root $TEST_NGINX_HTML_DIR; log_not_found off; }
--- request
GET /nope.txt
--- error_code: 404
--- no_error_log
open()



=== TEST 11: a path through a file: 404 (ENOTDIR)
--- user_files
>>> f.txt
x
--- request
GET /f.txt/more
--- error_code: 404
--- error_log
(20: Not a directory)



=== TEST 12: POST to a file is 405; PUT and DELETE too; POST to a missing file is 404
--- user_files
>>> f.txt
x
--- request eval
["POST /f.txt\nabc", "PUT /f.txt\nabc", "DELETE /f.txt", "POST /nope.txt\nabc"]
--- error_code eval
[405, 405, 405, 404]



=== TEST 13: index: the first name that exists wins
--- config
    location / { root $TEST_NGINX_HTML_DIR; index a.html b.html c.html; }
--- user_files
>>> d/b.html
b
>>> d/c.html
c
--- request
GET /d/
--- response_body
b



=== TEST 14: index with an absolute fallback URI
--- config
    location / { root $TEST_NGINX_HTML_DIR; index none.html /fallback; }
    location = /fallback { return 200 "fallback $uri $args\n"; }
--- user_files
>>> d/x
x
--- request
GET /d/?q=1
--- response_body
fallback /fallback q=1



=== TEST 15: alias in a prefix location, nested path
--- config
    location /pub/ { alias $TEST_NGINX_HTML_DIR/files/; }
--- user_files
>>> files/a/b.txt
deep
--- request eval
["GET /pub/a/b.txt", "GET /pub/a"]
--- error_code eval
[200, 301]
--- response_body_like eval
["^deep\n\\z", "301"]



=== TEST 16: alias in a regex location with two captures
--- config
    location ~ ^/u/(\w+)/(.+)$ { alias $TEST_NGINX_HTML_DIR/users/$1/data/$2; }
--- user_files
>>> users/bob/data/x.txt
bob's
--- request eval
["GET /u/bob/x.txt", "GET /u/eve/x.txt"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^bob's\n\\z", "404"]



=== TEST 17: root with a variable
--- config
    location / { root $TEST_NGINX_HTML_DIR/$arg_site; }
--- user_files
>>> one/f.txt
one
>>> two/f.txt
two
--- request eval
["GET /f.txt?site=one", "GET /f.txt?site=two"]
--- response_body eval
["one\n", "two\n"]



=== TEST 18: sendfile off (the default): a large file is read in pieces, all bytes arrive
--- user_files eval
[["big.bin", CORE::join("", map { sprintf "%07d\n", $_ } 0 .. 49999)]]
--- request
GET /big.bin
--- response_headers
Content-Length: 400000
--- response_body eval
CORE::join("", map { sprintf "%07d\n", $_ } 0 .. 49999)



=== TEST 19: sendfile on with tcp_nopush on: the same bytes
--- config
    sendfile on;
    tcp_nopush on;
    location / { root $TEST_NGINX_HTML_DIR; }
--- user_files eval
[["big.bin", CORE::join("", map { sprintf "%07d\n", $_ } 0 .. 49999)]]
--- request
GET /big.bin
--- response_body eval
CORE::join("", map { sprintf "%07d\n", $_ } 0 .. 49999)



=== TEST 20: sendfile on and off on one keepalive connection, small files
--- config
    location /s/ { sendfile on; tcp_nopush on; alias $TEST_NGINX_HTML_DIR/; }
    location / { root $TEST_NGINX_HTML_DIR; }
--- user_files
>>> a.txt
aaa
--- pipelined_requests eval
["GET /a.txt", "GET /s/a.txt", "GET /a.txt", "GET /s/a.txt"]
--- response_body eval
["aaa\n", "aaa\n", "aaa\n", "aaa\n"]



=== TEST 21: "etag" takes on or off
--- config
    etag maybe;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "maybe" in "etag" directive, it must be "on" or "off" in .*\.conf:\d+/



=== TEST 22: "tcp_nopush" takes one flag
--- config
    tcp_nopush on off;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "tcp_nopush" directive in .*\.conf:\d+/



=== TEST 23: "sendfile" is not allowed in events or main
--- main_config
sendfile on;
--- must_die
--- error_log eval
qr/\[emerg\] .*"sendfile" directive is not allowed here in .*\.conf:\d+/
