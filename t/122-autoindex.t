# autoindex: nginx's HTML listing byte for byte (escaping, 50-column names, dates, exact and
# rounded sizes), JSON and XML formats, hidden files, index first, errors and config.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/122-autoindex.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the HTML page, files sorted by name, sizes exact
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; }
--- user_files
>>> d/b.txt 201707140240.00
bb
>>> d/a.txt 201707140240.00
a
>>> d/.hidden 201707140240.00
h
--- request
GET /d/
--- response_headers
Content-Type: text/html
!Content-Length
!Last-Modified
!ETag
--- response_body eval
"<html>\r\n<head><title>Index of /d/</title></head>\r\n<body>\r\n<h1>Index of /d/</h1><hr><pre><a href=\"../\">../</a>\r\n"
. "<a href=\"a.txt\">a.txt</a>" . (" " x 45) . " 14-Jul-2017 02:40" . (" " x 19) . "2\r\n"
. "<a href=\"b.txt\">b.txt</a>" . (" " x 45) . " 14-Jul-2017 02:40" . (" " x 19) . "3\r\n"
. "</pre><hr></body>\r\n</html>\r\n"



=== TEST 2: directories first, with a slash and "-" for the size
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; }
--- user_files
>>> d/a.txt 201707140240.00
a
>>> d/zdir/x 201707140240.00
x
--- request
GET /d/
--- response_body_like eval
qr{<pre><a href="\.\./">\.\./</a>\r\n<a href="zdir/">zdir/</a> {46}\d\d-\w{3}-\d{4} \d\d:\d\d {19}-\r\n<a href="a\.txt">a\.txt</a> {45} 14-Jul-2017 02:40 {19}2\r\n</pre>}



=== TEST 3: names are escaped in links (%XX) and in text (entities)
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; }
--- user_files eval
[["d/a b&<c>'!.txt", "x\n", "201707140240.00"]]
--- request
GET /d/
--- response_body_like eval
qr{<a href="a%20b%26%3Cc%3E%27%21\.txt">a b&amp;&lt;c&gt;'!\.txt</a> {38}14-Jul-2017}



=== TEST 4: names longer than 50 columns are cut with "..>"
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; }
--- user_files eval
[["d/" . ("n" x 60) . ".txt", "x\n", "201707140240.00"], ["d/" . ("m" x 50), "x\n", "201707140240.00"]]
--- request
GET /d/
--- response_body_like eval
qr{<a href="m{50}">m{50}</a> 14-Jul-2017 02:40 {19}2\r\n<a href="n{60}\.txt">n{47}\.\.&gt;</a> 14-Jul-2017 02:40 {19}2\r\n}



=== TEST 5: autoindex_exact_size off: rounded sizes with K, M
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_exact_size off; }
--- user_files eval
[["d/a", "x" x 9999, "201707140240.00"], ["d/b", "x" x 10000, "201707140240.00"], ["d/c", "x" x 12800, "201707140240.00"],
 ["d/d", "x" x (3 * 1048576 + 600000), "201707140240.00"], ["d/e/x", "", "201707140240.00"]]
--- request
GET /d/
--- response_body_like eval
qr{<a href="e/">e/</a> {49}\S+ \S+       -\r\n<a href="a">a</a> {49} 14-Jul-2017 02:40    9999\r\n<a href="b">b</a> {49} 14-Jul-2017 02:40     10K\r\n<a href="c">c</a> {49} 14-Jul-2017 02:40     13K\r\n<a href="d">d</a> {49} 14-Jul-2017 02:40      4M\r\n}



=== TEST 6: JSON
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format json; }
--- user_files eval
[['d/a"b.txt', "abc\n", "201707140240.00"], ["d/sub/x", "x\n", "201707140240.00"]]
--- request
GET /d/
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr{\A\[\r\n\{ "name":"sub", "type":"directory", "mtime":"[^"]+ GMT" \},\r\n\{ "name":"a\\"b\.txt", "type":"file", "mtime":"Fri, 14 Jul 2017 02:40:00 GMT", "size":4 \}\r\n\]\z}



=== TEST 7: XML
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format xml; }
--- user_files
>>> d/a&b.txt 201707140240.00
abc
>>> d/sub/x 201707140240.00
x
--- request
GET /d/
--- response_headers
Content-Type: text/xml; charset=utf-8
--- response_body_like eval
qr{\A<\?xml version="1\.0"\?>\r\n<list>\r\n<directory mtime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">sub</directory>\r\n<file mtime="2017-07-14T02:40:00Z" size="4">a&amp;b\.txt</file>\r\n</list>\r\n\z}



=== TEST 8: an index file wins over the listing
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; }
--- user_files
>>> d/index.html
the index
--- request
GET /d/
--- response_body
the index



=== TEST 9: the title is escaped, and alias lists the aliased directory
--- config
    location /a&b/ { alias $TEST_NGINX_HTML_DIR/real/; autoindex on; }
--- user_files
>>> real/f 201707140240.00
f
--- request
GET /a&b/
--- response_body_like eval
qr{<title>Index of /a&amp;b/</title>.*<h1>Index of /a&amp;b/</h1>.*<a href="f">f</a>}s



=== TEST 10: HEAD: the head only
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; }
--- user_files
>>> d/f
f
--- request
HEAD /d/
--- response_headers
Content-Type: text/html
--- response_body



=== TEST 11: POST to a directory with autoindex is not listed: 403 as without it
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; }
--- user_files
>>> d/f
f
--- request
POST /d/
x
--- error_code: 403



=== TEST 12: autoindex off (the default): 403
--- user_files
>>> d/f
f
--- request
GET /d/
--- error_code: 403



=== TEST 13: inherited from server, turned off in a location
--- config
    autoindex on;
    location /off/ { root $TEST_NGINX_HTML_DIR; autoindex off; }
    location / { root $TEST_NGINX_HTML_DIR; }
--- user_files
>>> d/f
f
>>> off/f
f
--- request eval
["GET /d/", "GET /off/"]
--- error_code eval
[200, 403]



=== TEST 14: bad values
--- config
    autoindex_format yaml;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "yaml" in .*\.conf:\d+/
