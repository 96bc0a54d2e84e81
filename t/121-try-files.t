# try_files: files, directories ("name/"), variables, the last parameter as a URI (with its
# own args), a named location or "=code"; with alias; not inherited; config errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/121-try-files.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the first existing file is served
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files /none.txt /b.txt /c.txt =404; }
--- user_files
>>> b.txt
b
>>> c.txt
c
--- request
GET /anything
--- response_body
b



=== TEST 2: $uri first, then a fallback URI that redirects internally
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files $uri /fallback; }
    location = /fallback { return 200 "fallback uri=$uri args=$args\n"; }
--- user_files
>>> real.txt
real
--- request eval
["GET /real.txt?x=1", "GET /missing?x=1"]
--- response_body eval
["real\n", "fallback uri=/fallback args=\n"]



=== TEST 3: the fallback URI carries its own args
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files $uri /index.php?q=$uri&$args; }
    location = /index.php { return 200 "php args=$args\n"; }
--- request
GET /some/page?a=1
--- response_body
php args=q=/some/page&a=1



=== TEST 4: =404 and =403 as the last parameter; no log line for them
--- config
    location /a/ { root $TEST_NGINX_HTML_DIR; try_files $uri =404; }
    location /b/ { root $TEST_NGINX_HTML_DIR; try_files $uri =403; }
--- request eval
["GET /a/none", "GET /b/none"]
--- error_code eval
[404, 403]
--- no_error_log
[error]



=== TEST 5: a named location as the fallback
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files $uri @back; }
    location @back { return 200 "named $uri\n"; }
--- request
GET /nothing/here
--- response_body
named /nothing/here



=== TEST 6: "name/" wants a directory: "/dir" then gets the 301, and "/dir/" goes through index back into try_files
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files $uri/ =404; }
--- user_files
>>> file
x
>>> dir/index.html
dir index
--- request eval
["GET /file", "GET /dir", "GET /dir/"]
--- error_code eval
[404, 301, 404]



=== TEST 7: a plain name does not match a directory
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files $uri =404; }
--- user_files
>>> dir/index.html
x
--- request
GET /dir
--- error_code: 404



=== TEST 8: the classic $uri $uri/ /index.html
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files $uri $uri/ /index.html; }
--- user_files
>>> index.html
front
>>> sub/index.html
sub
>>> a.css
css
--- request eval
["GET /a.css", "GET /sub/", "GET /app/route/1"]
--- response_body eval
["css\n", "sub\n", "front\n"]



=== TEST 9: the found file keeps the location: its settings apply
--- config
    location /x/ { root $TEST_NGINX_HTML_DIR; try_files /data.txt =404; add_header X-Loc x; }
    location = /data.txt { return 200 "wrong location\n"; }
--- user_files
>>> data.txt
data
--- request
GET /x/whatever
--- response_headers
X-Loc: x
--- response_body
data



=== TEST 10: variables in the names
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files /$arg_v.txt /default.txt =404; }
--- user_files
>>> one.txt
one
>>> default.txt
default
--- request eval
["GET /?v=one", "GET /?v=two"]
--- response_body eval
["one\n", "default\n"]



=== TEST 11: with alias, $uri loses the location prefix
--- config
    location /pub/ { alias $TEST_NGINX_HTML_DIR/files/; try_files $uri =404; }
--- user_files
>>> files/a.txt
alias a
--- request eval
["GET /pub/a.txt", "GET /pub/b.txt"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^alias a\n\\z", "404"]



=== TEST 12: a directory found by "$uri/" is served by index in another location
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files $uri/ =404; }
    location ~ /index\.html$ { root $TEST_NGINX_HTML_DIR; }
--- user_files
>>> dir/index.html
dir index
--- request
GET /dir/
--- response_body
dir index



=== TEST 13: not inherited by a nested location
--- config
    location / {
        root $TEST_NGINX_HTML_DIR;
        try_files /none =418;
        location /inner/ { }
    }
--- user_files
>>> inner/f.txt
inner
--- request eval
["GET /outer", "GET /inner/f.txt"]
--- error_code eval
[418, 200]



=== TEST 14: a fallback that loops ends in 500 with nginx's log line
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files $uri /loop; }
--- request
GET /x
--- error_code: 500
--- error_log
rewrite or internal redirection cycle while internally redirecting to "/loop"



=== TEST 15: the fallback URI can be a file served by the same location
--- config
    location / { root $TEST_NGINX_HTML_DIR; try_files $uri /404.html; }
--- user_files
>>> 404.html
custom
--- request
GET /missing
--- error_code: 200
--- response_body
custom



=== TEST 16: try_files needs two parameters
--- config
    location / { try_files $uri; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "try_files" directive in .*\.conf:\d+/



=== TEST 17: a bad code
--- config
    location / { try_files $uri =abc; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid code "=abc" in .*\.conf:\d+/



=== TEST 18: a code above 999
--- config
    location / { try_files $uri =1000; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid code "=1000" in .*\.conf:\d+/



=== TEST 19: try_files is not allowed in http
--- http_config
    try_files $uri =404;
--- must_die
--- error_log eval
qr/\[emerg\] .*"try_files" directive is not allowed here in .*\.conf:\d+/



=== TEST 20: twice in one location
--- config
    location / { try_files $uri =404; try_files $uri =403; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"try_files" directive is duplicate in .*\.conf:\d+/
