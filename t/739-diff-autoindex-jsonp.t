# Found by running the same configs on Debian's nginx 1.22 and moongate: autoindex_format jsonp
# (moongate refused the value). The JSON listing goes out inside "/* callback */\r\nNAME(...);"
# as application/javascript for ?callback=NAME; without a callback (or an empty one) it is the
# JSON listing; a name over 128 bytes or with a byte other than a letter, a digit, '_' or '.'
# is a 400 with an info line. The directory is opened first, so a missing one is a 404.
#
#   prove -I t/lib t/739-diff-autoindex-jsonp.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/739-diff-autoindex-jsonp.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: ?callback=NAME wraps the JSON listing
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format jsonp; }
--- user_files
>>> d/a.txt 201707140240.00
a
--- request
GET /d/?x=1&callback=my.cb_2&callback=other
--- response_headers
Content-Type: application/javascript
--- response_body eval
"/* callback */\r\nmy.cb_2([\r\n{ \"name\":\"a.txt\", \"type\":\"file\", \"mtime\":\"Fri, 14 Jul 2017 02:40:00 GMT\", \"size\":2 }\r\n]);"



=== TEST 2: no callback, or an empty one: the JSON listing
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format jsonp; }
--- user_files
>>> d/a.txt 201707140240.00
a
--- pipelined_requests eval
["GET /d/", "GET /d/?callback="]
--- response_headers
Content-Type: application/json
--- response_body eval
["[\r\n{ \"name\":\"a.txt\", \"type\":\"file\", \"mtime\":\"Fri, 14 Jul 2017 02:40:00 GMT\", \"size\":2 }\r\n]",
 "[\r\n{ \"name\":\"a.txt\", \"type\":\"file\", \"mtime\":\"Fri, 14 Jul 2017 02:40:00 GMT\", \"size\":2 }\r\n]"]



=== TEST 3: a callback with another byte is a 400, logged at info
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format jsonp; }
--- user_files
>>> d/a.txt
a
--- log_level: info
--- request
GET /d/?callback=a-b
--- error_code: 400
--- error_log
client sent invalid callback name: "a-b"



=== TEST 4: 128 bytes pass, 129 are too long
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format jsonp; }
--- user_files
>>> d/a.txt
a
--- log_level: info
--- pipelined_requests eval
["GET /d/?callback=" . ("c" x 128), "GET /d/?callback=" . ("c" x 129)]
--- error_code eval
[200, 400]
--- error_log eval
'client sent too long callback name: "' . ("c" x 129) . '"'



=== TEST 5: the directory is opened before the callback is looked at
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format jsonp; }
--- request
GET /none/?callback=a%3C
--- error_code: 404
--- no_error_log
callback name
