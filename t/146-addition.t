# add_before_body / add_after_body (ngx_http_addition_module): subrequests whose responses are
# put before and after the body of a 200 response of addition_types, in order, whatever the
# time each takes; their own location's filters apply to them; a missing one adds its error
# page; the length goes, the ETag becomes weak; a large body streamed and gzip'ed once.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/146-addition.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;
use Test::MoongateBackend;

plan 'no_plan';

backend(a => 'echo');

our $Big = join '', map { sprintf("%06d %s\n", $_, 'q' x 993) } 1 .. 6000;

run_tests();

__DATA__

=== TEST 1: before and after the body; no length, a weak ETag
--- user_files
>>> before.html
BEFORE
>>> after.html
AFTER
>>> m.html 202311142213.20
main
--- config
    location / {
        add_before_body /before.html;
        add_after_body /after.html;
    }
--- request
GET /m.html
--- response_headers
!Content-Length
Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT
--- response_headers_like
ETag: W/"[0-9a-f]+-5"
--- response_body
BEFORE
main
AFTER



=== TEST 2: only text/html unless addition_types says more; a second line adds to the first
--- user_files
>>> after.html
AFTER
>>> m.txt
text
>>> m.css
style
>>> m.js
script
--- http_config
    types { text/html html; text/plain txt; text/css css; application/javascript js; }
--- config
    location / {
        add_after_body /after.html;
    }
    location /t/ {
        alias html/;
        add_after_body /after.html;
        addition_types text/plain;
        addition_types text/css;
    }
--- request eval
["GET /m.txt", "GET /t/m.txt", "GET /t/m.css", "GET /t/m.js"]
--- response_body eval
["text\n", "text\nAFTER\n", "style\nAFTER\n", "script\n"]



=== TEST 3: a response other than 200 is left alone
--- user_files
>>> after.html
AFTER
--- config
    location / {
        add_after_body /after.html;
    }
    location /r {
        return 201 "created\n";
    }
--- request eval
["GET /nothere.html", "GET /r"]
--- error_code eval
[404, 201]
--- response_body_like eval
["404 Not Found", "^created\n\$"]



=== TEST 4: the URI is taken whole, a "?" included; the subrequest sees the client's request line
--- user_files
>>> m.html
main
--- config
    location / {
        add_after_body /x/after?a=1;
    }
    location /x/ {
        return 200 "args=$args uri=$uri request_uri=$request_uri\n";
    }
--- request
GET /m.html?z=2
--- response_body
main
args= uri=/x/after?a=1 request_uri=/m.html?z=2



=== TEST 5: a missing part adds its error page where it belongs, and is logged
--- user_files
>>> m.html
main
--- config
    location / {
        add_before_body /nothere.html;
    }
--- request
GET /m.html
--- response_body_like chomp
^<html>\r?\n<head><title>404 Not Found</title></head>.*</html>\r?\nmain\n$
--- error_log eval
qr/\[error\] .*open\(\) ".*nothere.html" failed \(2: No such file or directory\)/



=== TEST 6: the parts go through their own location's filters, the body through its own
--- user_files
>>> parts/before.html
BEFORE ab
>>> parts/after.html
AFTER ab
>>> m.html
main ab
--- config
    location / {
        add_before_body /parts/before.html;
        add_after_body /parts/after.html;
        sub_filter 'ab' 'X';
    }
    location /parts/ {
        sub_filter 'ab' 'Y';
    }
--- request
GET /m.html
--- response_body
BEFORE Y
main X
AFTER Y



=== TEST 7: a proxied part that takes time still comes first, another after the body
--- user_files
>>> m.html
main
--- config
    location / {
        add_before_body /slow;
        add_after_body /fast;
    }
    location /slow {
        proxy_set_header X-Echo-Delay 0.3;
        proxy_set_header X-Echo-Body "[before]\\n";
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location /fast {
        proxy_set_header X-Echo-Body "[after]\\n";
        proxy_set_header X-Echo-Mode chunked;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /m.html
--- response_body
[before]
main
[after]



=== TEST 8: parts that take time come in order around a body sent in pieces by Lua
(nginx with lua-nginx-module lets a content_by_lua body overtake a pending part)
--- moongate_only
--- config
    location /t {
        default_type text/html;
        add_before_body /slow;
        add_after_body /fast;
        content_by_lua_block {
            ngx.print("one ")
            ngx.flush(true)
            ngx.sleep(0.05)
            ngx.print("two ")
            ngx.flush(true)
            ngx.print("three ")
        }
    }
    location /slow {
        content_by_lua_block {
            ngx.sleep(0.2)
            ngx.print("[before] ")
        }
    }
    location /fast {
        content_by_lua_block {
            ngx.print("[after]")
        }
    }
--- request
GET /t
--- response_body chomp
[before] one two three [after]



=== TEST 9: a 6 MB body with its parts, gzip'ed as one stream
--- user_files eval
">>> big.html\n$::Big>>> after.html\nAFTER\n>>> before.html\nBEFORE\n"
--- config
    location / {
        add_before_body /before.html;
        add_after_body /after.html;
        gzip on;
    }
--- request
GET /big.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters eval
\&::gunzip_md5
--- response_body eval
::md5_len("BEFORE\n$::Big" . "AFTER\n")



=== TEST 10: HEAD: no parts are asked for
--- user_files
>>> m.html
main
--- config
    location / {
        add_after_body /nothere.html;
    }
--- request
HEAD /m.html
--- response_headers
!Content-Length
--- response_body
--- no_error_log
nothere



=== TEST 11: a second add_before_body at one level is refused
--- config
    location / {
        add_before_body /a;
        add_before_body /b;
    }
--- must_die
--- error_log eval
qr/"add_before_body" directive is duplicate in .*:\d+/
