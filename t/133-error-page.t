# error_page: local URIs (internal redirect, GET unless HEAD), named locations, URLs, "="
# and "=code", several codes, inheritance, recursive_error_pages, internal locations, head
# errors (400, 414, 494), the rewrite-cycle 500, and config errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/133-error-page.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a missing static file serves the error page with the original 404
--- config
    location / { error_page 404 /404.html; }
--- user_files
>>> 404.html
not here
--- request
GET /missing
--- error_code: 404
--- response_body
not here



=== TEST 2: "=" alone takes the target's status
--- config
    location /a { error_page 404 = /ok; }
    location /ok { return 200 "ok $status\n"; }
--- request
GET /a/missing
--- error_code: 200
--- response_body
ok 200



=== TEST 3: "=200" replaces the status
--- config
    location /a { error_page 404 =200 /404.html; }
--- user_files
>>> 404.html
page
--- request
GET /a/missing
--- error_code: 200
--- response_body
page



=== TEST 4: a URL redirects with 302 and nginx's page
--- config
    location /a { error_page 404 http://example.com/nf; }
--- request
GET /a/missing
--- error_code: 302
--- response_headers
Location: http://example.com/nf
--- response_body_like: <title>302 Found</title>



=== TEST 5: a URL with "=301" redirects with 301
--- config
    location /a { error_page 404 =301 http://example.com/nf; }
--- request
GET /a/missing
--- error_code: 301
--- response_headers
Location: http://example.com/nf



=== TEST 6: a URL with a non-redirect "=code" still answers 302
--- config
    location /a { error_page 404 =200 http://example.com/nf; }
--- request
GET /a/missing
--- error_code: 302



=== TEST 7: a named location; $uri stays, $status is the error
--- config
    location /a { error_page 404 @nf; }
    location @nf { return 200 "named $uri $status\n"; }
--- request
GET /a/missing
--- error_code: 404
--- response_body
named /a/missing 404



=== TEST 8: the error page's own error gets the built-in page
--- config
    location /a { error_page 404 /nope; }
--- request
GET /a/missing
--- error_code: 404
--- response_body_like: <center><h1>404 Not Found</h1></center>
--- error_log
/html/nope" failed



=== TEST 9: recursive_error_pages on follows a chain of error pages
--- config
    location /a { recursive_error_pages on; error_page 404 /b/missing; }
    location /b { error_page 404 /404.html; }
--- user_files
>>> 404.html
second
--- request
GET /a/missing
--- error_code: 404
--- response_body
second



=== TEST 10: without recursive_error_pages a second error_page is not applied
--- config
    location /a { error_page 404 /b/missing; }
    location /b { error_page 404 /404.html; }
--- user_files
>>> 404.html
second
--- request
GET /a/missing
--- error_code: 404
--- response_body_like: <center><h1>404 Not Found</h1></center>



=== TEST 11: several codes, a new code and an internal location
--- config
    location /a { error_page 403 404 =410 /err; }
    location /err { internal; return 200 "err $status\n"; }
--- request eval
["GET /a/missing", "GET /err"]
--- error_code eval
[410, 404]
--- response_body_like eval
["err 410", "404 Not Found"]



=== TEST 12: a forbidden directory index uses the 403 page
--- config
    location /d/ { error_page 403 /403.txt; }
--- user_files
>>> d/x.txt
x
>>> 403.txt
denied
--- request
GET /d/
--- error_code: 403
--- response_body
denied



=== TEST 13: return of an error code uses error_page; return with a text does not
--- config
    error_page 404 /nf;
    location /a { return 404; }
    location /b { return 404 "text\n"; }
    location /nf { return 200 "page\n"; }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[404, 404]
--- response_body eval
["page\n", "text\n"]



=== TEST 14: arguments in the error page URI
--- config
    location /a { error_page 404 /nf?from=a; }
    location /nf { return 200 "$args\n"; }
--- request
GET /a/missing?q=1
--- error_code: 404
--- response_body
from=a



=== TEST 15: the method becomes GET
--- config
    location /a { error_page 404 /m; }
    location /m { return 200 "$request_method\n"; }
--- request
POST /a/x
body
--- error_code: 404
--- response_body
GET



=== TEST 16: HEAD stays HEAD
--- config
    location /a { error_page 404 /m; }
    location /m { add_header X-Method $request_method always; return 200 "$request_method\n"; }
--- request
HEAD /a/x
--- error_code: 404
--- response_headers
X-Method: HEAD
--- response_body eval
""



=== TEST 17: a level with its own error_page drops the inherited ones
--- config
    error_page 404 /nf;
    location /nf { return 200 "server page\n"; }
    location /own { error_page 403 /nf; }
    location /inh { }
--- request eval
["GET /own/x", "GET /inh/x"]
--- error_code eval
[404, 404]
--- response_body_like eval
["404 Not Found", "server page"]



=== TEST 18: http-level error_page is inherited by servers and locations
--- http_config
    error_page 404 /nf;
--- config
    location /nf { return 200 "http page\n"; }
--- request
GET /missing
--- error_code: 404
--- response_body
http page



=== TEST 19: a rewrite cycle's 500 gets the built-in page, not error_page
--- config
    location /loop { error_page 500 /ok; rewrite ^ /loop last; }
    location /ok { return 200 "ok\n"; }
--- request
GET /loop
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log
rewrite or internal redirection cycle while processing "/loop"



=== TEST 20: an error page that answers 500 gets the built-in 500 page
--- config
    location /a { error_page 404 /e; }
    location /e { return 500; }
--- request
GET /a/x
--- error_code: 500
--- response_body_like: 500 Internal Server Error



=== TEST 21: error_page inside a location's if applies when true
--- config
    location /a { if ($arg_e) { error_page 404 /nf; } }
    location /nf { return 200 "from if\n"; }
--- request eval
["GET /a/x?e=1", "GET /a/x"]
--- error_code eval
[404, 404]
--- response_body_like eval
["from if", "404 Not Found"]



=== TEST 22: error_page for a too long URI (414)
--- config
    error_page 414 /long;
    location = /long { return 200 "long $status\n"; }
--- request eval
"GET /" . ("a" x 9000)
--- error_code: 414
--- response_body
long 414



=== TEST 23: error_page 494 for too large headers goes out as 400
--- config
    error_page 494 /big;
    location = /big { return 200 "big $status\n"; }
--- request
GET /
--- more_headers eval
"X-Big: " . ("b" x 9000)
--- error_code: 400
--- response_body
big 400



=== TEST 24: error_page 400 for a bad Host header
--- config
    error_page 400 /bad;
    location = /bad { return 200 "bad $status\n"; }
--- raw_request eval
"GET / HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- response_body
bad 400



=== TEST 25: error_page code range
--- config
    error_page 200 /x;
--- must_die
--- error_log eval
qr/\[emerg\] .*value "200" must be between 300 and 599 in \S+\.conf:\d+/



=== TEST 26: error_page code that is not a number
--- config
    error_page abc /x;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "abc" in \S+\.conf:\d+/



=== TEST 27: error_page 499 is refused
--- config
    error_page 499 /x;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "499" in \S+\.conf:\d+/



=== TEST 28: error_page with a bad "=code"
--- config
    error_page 404 =abc /x;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "=abc" in \S+\.conf:\d+/



=== TEST 29: error_page needs a code and a URI
--- config
    error_page 404;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "error_page" directive in \S+\.conf:\d+/



=== TEST 30: recursive_error_pages takes on or off
--- config
    recursive_error_pages maybe;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "maybe" in "recursive_error_pages" directive, it must be "on" or "off" in \S+\.conf:\d+/



=== TEST 31: recursive_error_pages is not allowed in if
--- config
    location / { if ($arg_a) { recursive_error_pages on; } }
--- must_die
--- error_log eval
qr/\[emerg\] .*"recursive_error_pages" directive is not allowed here in \S+\.conf:\d+/



=== TEST 32: error_page is not allowed in a server-level if
--- config
    if ($arg_a) { error_page 404 /x; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"error_page" directive is not allowed here in \S+\.conf:\d+/
