# proxy_cookie_domain, proxy_cookie_path, proxy_cookie_flags (strings, variables, regexes,
# "off", inheritance) on the upstream's Set-Cookie lines, and $upstream_cookie_NAME.  The
# upstream is Test::MoongateBackend's cookie_upstream: a second server block on
# $TEST_NGINX_PORT2 that answers with the Set-Cookie line the client sent in X-C (and a second
# one of its own).
#
#   prove -I t/lib t/315-proxy-cookie.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/315-proxy-cookie.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

use Test::MoongateBackend;

cookie_upstream();

run_tests();

__DATA__

=== TEST 1: proxy_cookie_domain: the whole domain, a leading dot and case aside; other lines and attributes untouched
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_domain example.com local.test;
    }
--- request eval
["GET /", "GET /", "GET /", "GET /", "GET /"]
--- more_headers eval
["X-C: a=1; domain=example.com", "X-C: a=1;Domain=.EXAMPLE.com;path=/", "X-C: a=1; domain=www.example.com",
 "X-C: a=1;x=y", "X-C: domain=example.com; x=1"]
--- raw_response_headers_like eval
["Set-Cookie: a=1; domain=local.test\r\nSet-Cookie: second=2; Path=/one/two; Domain=.local.test\r\n",
 "Set-Cookie: a=1; Domain=.local.test; path=/\r\n",
 "Set-Cookie: a=1; domain=www.example.com\r\n",
 "Set-Cookie: a=1;x=y\r\n",
 "Set-Cookie: domain=example.com; x=1\r\n"]



=== TEST 2: proxy_cookie_domain with a dot in the directive, a regex (caseless), variables
--- config
    location /dot {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_domain .example.com .local.test;
    }
    location /re {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_domain ~^(.+)\.com$ $1.org;
    }
    location /var {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_domain $arg_from $arg_to;
    }
--- request eval
["GET /dot", "GET /re", "GET /var?from=foo.com&to=bar.net"]
--- more_headers eval
["X-C: a=1; domain=.example.com", "X-C: a=1; domain=foo.com; x=y", "X-C: a=1; domain=foo.com"]
--- raw_response_headers_like eval
["Set-Cookie: a=1; domain=.local.test\r\n",
 "Set-Cookie: a=1; domain=foo.org; x=y\r\nSet-Cookie: second=2; Path=/one/two; Domain=.Example.org\r\n",
 "Set-Cookie: a=1; domain=bar.net\r\n"]



=== TEST 3: proxy_cookie_path: a prefix (case counts), every Path attribute, the first rule that applies; a regex replaces the value
--- config
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_path /one/ /uno/;
    }
    location /two {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_path /one/two /;
        proxy_cookie_path /one /1;
    }
    location /re {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_path ~*^/ONE(.*)$ /x$1;
    }
--- request eval
["GET /p", "GET /p", "GET /p", "GET /two", "GET /re"]
--- more_headers eval
["X-C: a=1; path=/one/x; Path=/one/", "X-C: a=1; path=/ONE/x", "X-C: a=1;path=/one", "X-C: a=1; path=/one/x", "X-C: a=1; path=/one/x"]
--- raw_response_headers_like eval
["Set-Cookie: a=1; path=/uno/x; Path=/uno/\r\nSet-Cookie: second=2; Path=/uno/two;",
 "Set-Cookie: a=1; path=/ONE/x\r\n",
 "Set-Cookie: a=1;path=/one\r\n",
 "Set-Cookie: a=1; path=/1/x\r\nSet-Cookie: second=2; Path=/; Domain",
 "Set-Cookie: a=1; path=/x/x\r\nSet-Cookie: second=2; Path=/x/two;"]



=== TEST 4: proxy_cookie_flags: added in nginx's order, changed in place, the first rule whose cookie matches
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_flags a secure httponly samesite=strict;
        proxy_cookie_flags ~^s nosecure samesite=lax;
    }
--- request eval
["GET /", "GET /", "GET /", "GET /", "GET /", "GET /", "GET /", "GET /"]
--- more_headers eval
["X-C: a=1", "X-C: a=1; Secure; SameSite=None; HttpOnly", "X-C: A=1;secure;samesite", "X-C: sx=1; secure; samesite=none; path=/",
 "X-C: b=1;x=y", "X-C: a", "X-C: a=1; HttpOnly=1; secure=x", "X-C: a=1" . "; SameSite" x 20]
--- raw_response_headers_like eval
["Set-Cookie: a=1; Secure; HttpOnly; SameSite=Strict\r\nSet-Cookie: second=2; Path=/one/two; Domain=.Example.COM; SameSite=Lax\r\n",
 "Set-Cookie: a=1; Secure; SameSite=Strict; HttpOnly\r\n",
 "Set-Cookie: A=1; secure; SameSite=Strict; HttpOnly\r\n",
 "Set-Cookie: sx=1; SameSite=Lax; path=/\r\n",
 "Set-Cookie: b=1;x=y\r\n",
 "Set-Cookie: a\r\n",
 "Set-Cookie: a=1; HttpOnly=1; secure=x; SameSite=Strict\r\n",
 "Set-Cookie: a=1; SameSite=Strict" . "; SameSite" x 19 . "; Secure; HttpOnly\r\n"]



=== TEST 5: proxy_cookie_flags removing flags, and with a cookie name from a variable
--- config
    location /rm {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_flags ~ nosecure nohttponly nosamesite;
    }
    location /var {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_flags $arg_n secure;
    }
--- request eval
["GET /rm", "GET /var?n=a", "GET /var?n=b"]
--- more_headers eval
["X-C: a=1; Secure;HttpOnly; SameSite=Lax; path=/; secure; httponly; samesite=none", "X-C: a=1", "X-C: a=1"]
--- raw_response_headers_like eval
["Set-Cookie: a=1; path=/\r\nSet-Cookie: second=2; Path=/one/two; Domain=.Example.COM\r\n",
 "Set-Cookie: a=1; Secure\r\n",
 "Set-Cookie: a=1\r\n"]



=== TEST 6: inheritance: a level with its own list replaces the parent's; "off" cancels it
--- config
    proxy_cookie_path /one/ /uno/;
    proxy_cookie_domain example.com local.test;
    proxy_cookie_flags a secure;
    location /inherit { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
    location /own {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_path /one/two /2;
    }
    location /off {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_path off;
        proxy_cookie_domain off;
        proxy_cookie_flags off;
    }
--- request eval
["GET /inherit", "GET /own", "GET /off"]
--- more_headers eval
["X-C: a=1; path=/one/x; domain=example.com", "X-C: a=1; path=/one/x; domain=example.com", "X-C: a=1; path=/one/x; domain=example.com"]
--- raw_response_headers_like eval
["Set-Cookie: a=1; path=/uno/x; domain=local.test; Secure\r\nSet-Cookie: second=2; Path=/uno/two; Domain=.local.test\r\n",
 "Set-Cookie: a=1; path=/one/x; domain=local.test; Secure\r\nSet-Cookie: second=2; Path=/2; Domain=.local.test\r\n",
 "Set-Cookie: a=1; path=/one/x; domain=example.com\r\nSet-Cookie: second=2; Path=/one/two; Domain=.Example.COM\r\n"]



=== TEST 7: $upstream_cookie_NAME: the first line setting the cookie, its name without regard to case
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_path /one/ /uno/;
        add_header X-UC "[$upstream_cookie_a][$upstream_cookie_SECOND][$upstream_cookie_domain][$upstream_cookie_none]";
    }
--- request eval
["GET /", "GET /"]
--- more_headers eval
["X-C: a = 1 ;x", "X-C: domain=example.com; x=1"]
--- response_headers eval
["X-UC: [1 ][2][][]", "X-UC: [][2][example.com][]"]



=== TEST 8: the rewriting applies to the Set-Cookie kept across X-Accel-Redirect
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar;
        proxy_cookie_path /one/ /uno/;
    }
    location /files/ { alias $TEST_NGINX_HTML_DIR/; }
--- user_files
>>> a.txt
file-a
--- request
GET /
--- more_headers
X-C: a=1; path=/one/x
--- response_headers
Set-Cookie: a=1; path=/uno/x
--- response_body
file-a



=== TEST 9: bad arguments
--- config
    location / {
        proxy_cookie_domain foo;
    }
--- must_die
--- error_log eval
qr/invalid parameter "foo" in \S+:\d+/



=== TEST 10: bad arguments: proxy_cookie_flags with a cookie and no flag
--- config
    location / {
        proxy_cookie_flags a;
    }
--- must_die
--- error_log eval
qr/invalid parameter "a" in \S+:\d+/



=== TEST 11: "off" and a list at one level
--- config
    location / {
        proxy_cookie_path /a /b;
        proxy_cookie_path off;
    }
--- must_die
--- error_log eval
qr/"proxy_cookie_path" directive is duplicate in \S+:\d+/



=== TEST 12: a bad regex
--- config
    location / {
        proxy_cookie_path ~( x;
    }
--- must_die
--- error_log eval
qr/pcre2_compile\(\) failed: missing closing parenthesis in "\(" in \S+:\d+/
