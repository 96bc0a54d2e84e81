# Found by running the same configs on Debian's nginx 1.22 and moongate (error_page and
# Location): nginx keeps a Location header whatever the status a response ends with (a
# `return 302 /x` sent to an error_page that fails is a 404 with the Location; an absolute one set
# by Lua stays on a 403), and writes a Location that is a URL (not made absolute by
# absolute_redirect) in its place among the other headers, after Connection.
#
#   prove -I t/lib t/727-diff-location-error-page.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/727-diff-location-error-page.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: error_page to a URL: Location comes after Connection, as nginx writes it
--- config
    location /e { error_page 404 =301 http://example.com/x; return 404; }
--- request
GET /e
--- error_code: 301
--- raw_response_headers_like chomp
Connection: close\r\nLocation: http://example.com/x\r\n



=== TEST 2: a relative Location made absolute stays in its own place, before Connection
--- config
    location /r { return 302 /x; }
--- request
GET /r
--- error_code: 302
--- raw_response_headers_like chomp
Location: http://localhost:\d+/x\r\nConnection: close\r\n



=== TEST 3: a redirect sent to an error_page that fails: the 404 keeps the Location
--- config
    location /st { error_page 302 /nonexistent.html; return 302 /x; }
--- request
GET /st
--- error_code: 404
--- raw_response_headers_like chomp
Location: http://localhost:\d+/x\r\n
--- error_log
open() "



=== TEST 4: a redirect sent to a named location that denies: the 403 keeps the Location
--- config
    location /st { error_page 302 @deny; return 302 /x; }
    location @deny { return 403; }
--- request
GET /st
--- error_code: 403
--- raw_response_headers_like chomp
Location: http://localhost:\d+/x\r\nConnection: close\r\n



=== TEST 5: a URL in Location set by Lua stays on an error status, after the other headers
--- config
    location /l { content_by_lua_block { ngx.header["X-A"] = "a"; ngx.header.Location = "http://z/y"; ngx.exit(500) } }
--- request
GET /l
--- error_code: 500
--- raw_response_headers_like chomp
Connection: close\r\nX-A: a\r\nLocation: http://z/y\r\n



=== TEST 6: a URL from a redirect sent to an error_page served as a file stays, in the list
--- user_files
>>> f.txt
file
--- config
    location /st { error_page 302 = /f.txt; return 302 http://ext/x; }
--- request
GET /st
--- error_code: 200
--- raw_response_headers_like chomp
Connection: close\r\nLocation: http://ext/x\r\n
--- response_body
file
