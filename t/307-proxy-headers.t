# What the proxy sends and passes on: the request line and header set the
# upstream gets (Host $proxy_host, proxy_set_header with X-Real-IP and
# $proxy_add_x_forwarded_for, Connection "", empty values removing a header,
# hop-by-hop headers dropped, proxy_pass_request_headers/body off), the URI
# replacement rules (with and without a URI part, prefix and regex
# locations, after rewrite, variables, named locations), the response
# headers the client gets (Server/Date, proxy_hide_header,
# proxy_pass_header, proxy_redirect default/off/custom/regex),
# proxy_intercept_errors with error_page, $upstream_addr/$upstream_status.
#
#   prove -I t/lib t/307-proxy-headers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/307-proxy-headers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a    => 'echo');
backend(gone => 'refused');

our $A = $Test::MoongateBackend::Port{a};
our $G = $Test::MoongateBackend::Port{gone};

# the request line the echo backend got
sub request_line { my $b = shift; $b =~ /\A(.*)\n/ ? $1 : "no request line in \"$b\"" }

log_level('info');

run_tests();

__DATA__

=== TEST 1: the defaults: HTTP/1.0, Host $proxy_host, Connection close, then the client's headers
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /t?a=1
--- more_headers
X-Foo: bar
User-Agent: test/1
--- response_body eval
"GET /t?a=1 HTTP/1.0\nHost: 127.0.0.1:$main::A\nConnection: close\nX-Foo: bar\nUser-Agent: test/1\n\n"



=== TEST 2: Host is the upstream block's name for proxy_pass http://NAME
--- http_config
    upstream backend_x { server 127.0.0.1:$TEST_NGINX_A_PORT; }
--- config
    location /t { proxy_pass http://backend_x; }
--- request
GET /t
--- response_body_like: ^GET /t HTTP/1\.0\nHost: backend_x\nConnection: close\n\n\z



=== TEST 3: proxy_set_header Host $host, X-Real-IP, X-Forwarded-For (none from the client)
--- config
    location /t {
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- response_body eval
"GET /t HTTP/1.0\nHost: localhost\nX-Real-IP: 127.0.0.1\nX-Forwarded-For: 127.0.0.1\nConnection: close\n\n"

=== TEST 4: X-Forwarded-For appends to the client's and replaces its header
--- config
    location /t {
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- more_headers
X-Forwarded-For: 10.0.0.1, 10.0.0.2
--- response_body_like: \nX-Forwarded-For: 10\.0\.0\.1, 10\.0\.0\.2, 127\.0\.0\.1\n
--- response_body_unlike: \nX-Forwarded-For: 10\.0\.0\.1, 10\.0\.0\.2\n



=== TEST 5: Host $http_host keeps the client's port; an empty value removes a client header
--- config
    location /t {
        proxy_set_header Host $http_host;
        proxy_set_header X-Drop "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- more_headers
Host: example.com:8080
X-Drop: 1
X-Keep: 2
--- response_body eval
"GET /t HTTP/1.0\nHost: example.com:8080\nConnection: close\nX-Keep: 2\n\n"

=== TEST 6: hop-by-hop request headers are not passed: Connection, Keep-Alive, TE, Upgrade, Expect
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive, TE\r\nKeep-Alive: 300\r\nTE: trailers\r\nUpgrade: foo\r\nExpect: 100-continue\r\nX-End: 1\r\nContent-Length: 2\r\n\r\nok"
--- response_body_like: ^POST /t HTTP/1\.0\nHost: 127\.0\.0\.1:\d+\nConnection: close\nContent-Length: 2\nX-End: 1\n\nok\z



=== TEST 7: proxy_http_version 1.1 with Connection "": no Connection header at all
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- response_body_like: ^GET /t HTTP/1\.1\nHost: 127\.0\.0\.1:\d+\n\n\z



=== TEST 8: proxy_pass_request_headers off: only the proxy's own headers
--- config
    location /t {
        proxy_pass_request_headers off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- more_headers
X-Foo: bar
--- response_body_like: ^GET /t HTTP/1\.0\nHost: 127\.0\.0\.1:\d+\nConnection: close\n\n\z



=== TEST 9: proxy_pass_request_body off: no body to the upstream
--- config
    location /t {
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
POST /t
secret body
--- response_body_like: ^POST /t HTTP/1\.0\nHost: 127\.0\.0\.1:\d+\nConnection: close\n\n\z



=== TEST 10: response: the upstream's Server, Date and X-Pad are not passed, other headers are
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /t
--- more_headers
X-Echo-Header: Server: Backend/1.0
X-Echo-Header: Date: Mon, 01 Jan 2001 00:00:00 GMT
X-Echo-Header: X-Pad: avoid browser bug
X-Echo-Header: X-Custom: yes
X-Echo-Header: Keep-Alive: timeout=5
--- response_headers
X-Custom: yes
!X-Pad
!Keep-Alive
--- response_headers_like
Server: (?!Backend).+
Date: (?!Mon, 01 Jan 2001).+ GMT



=== TEST 11: proxy_pass_header Server and Date; proxy_hide_header
--- config
    location /t {
        proxy_pass_header Server;
        proxy_pass_header Date;
        proxy_hide_header X-Secret;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- more_headers
X-Echo-Header: Server: Backend/1.0
X-Echo-Header: Date: Mon, 01 Jan 2001 00:00:00 GMT
X-Echo-Header: X-Secret: 42
X-Echo-Header: X-Public: 1
--- response_headers
Server: Backend/1.0
Date: Mon, 01 Jan 2001 00:00:00 GMT
!X-Secret
X-Public: 1



=== TEST 12: proxy_redirect default: the proxied URI prefix becomes the location's (Location made absolute again, Refresh not)
--- config
    location /one/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/two/; }
--- request
GET /one/x
--- more_headers eval
"X-Echo-Status: 302\nX-Echo-Header: Location: http://127.0.0.1:$main::A/two/page?q=1\nX-Echo-Header: Refresh: 5; url=http://127.0.0.1:$main::A/two/r"
--- error_code: 302
--- response_headers eval
"Location: http://localhost:$Test::Moongate::ServerPort/one/page?q=1
Refresh: 5; url=/one/r"



=== TEST 13: proxy_redirect off: Location as the upstream sent it
--- config
    location /one/ {
        proxy_redirect off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/two/;
    }
--- request
GET /one/x
--- more_headers eval
"X-Echo-Status: 301\nX-Echo-Header: Location: http://127.0.0.1:$main::A/two/page"
--- error_code: 301
--- response_headers eval
"Location: http://127.0.0.1:$main::A/two/page"



=== TEST 14: proxy_redirect REDIRECT REPLACEMENT, and a regex one
--- config
    location /one/ {
        proxy_redirect http://127.0.0.1:$TEST_NGINX_A_PORT/two/ http://example.com/x/;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/two/;
    }
    location /re/ {
        proxy_redirect ~^http://[^/]+/two/(.*)$ http://re.example.com/$1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/two/;
    }
--- request eval
["GET /one/x", "GET /re/x", "GET /one/y"]
--- more_headers eval
["X-Echo-Status: 302\nX-Echo-Header: Location: http://127.0.0.1:$main::A/two/page",
 "X-Echo-Status: 302\nX-Echo-Header: Location: http://127.0.0.1:$main::A/two/a/b",
 "X-Echo-Status: 302\nX-Echo-Header: Location: http://other.example.com/two/page"]
--- error_code eval
[302, 302, 302]
--- response_headers eval
["Location: http://example.com/x/page", "Location: http://re.example.com/a/b",
 "Location: http://other.example.com/two/page"]



=== TEST 15: proxy_intercept_errors on: error_page answers for the upstream's 404
--- config
    location /t {
        proxy_intercept_errors on;
        error_page 404 /err404;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location /off {
        error_page 404 /err404;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location = /err404 { return 200 "intercepted\n"; }
--- request eval
["GET /t", "GET /off"]
--- more_headers
X-Echo-Status: 404
X-Echo-Body: from backend\n
--- error_code eval
[404, 404]
--- response_body eval
["intercepted\n", "from backend\n"]



=== TEST 16: proxy_intercept_errors on without an error_page for the code: the upstream's response
--- config
    location /t {
        proxy_intercept_errors on;
        error_page 500 /err500;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location = /err500 { return 200 "intercepted\n"; }
--- request
GET /t
--- more_headers
X-Echo-Status: 404
X-Echo-Body: from backend\n
--- error_code: 404
--- response_body
from backend



=== TEST 17: error_page for a 502 of a refused upstream applies without proxy_intercept_errors
--- config
    location /t {
        error_page 502 = /fallback;
        proxy_pass http://127.0.0.1:$TEST_NGINX_GONE_PORT;
    }
    location = /fallback { return 200 "fallback\n"; }
--- request
GET /t
--- response_body
fallback



=== TEST 18: URI: proxy_pass without a URI part passes the client's URI unchanged
--- config
    location /a/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request eval
["GET /a/x%20y/../%41?q=1&r=%2F", "GET /a/"]
--- response_body_filters: request_line
--- response_body eval
["GET /a/x%20y/../%41?q=1&r=%2F HTTP/1.0", "GET /a/ HTTP/1.0"]



=== TEST 19: URI: a URI part replaces the location prefix of the normalized URI
--- config
    location /a/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/; }
    location /b/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/c/; }
    location /d { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/e; }
--- request eval
["GET /a/x?q=1", "GET /b/x/y", "GET /b/", "GET /d/x", "GET /dx?z", "GET /b/%41%20b/../c"]
--- response_body_filters: request_line
--- response_body eval
["GET /x?q=1 HTTP/1.0", "GET /c/x/y HTTP/1.0", "GET /c/ HTTP/1.0", "GET /e/x HTTP/1.0",
 "GET /ex?z HTTP/1.0", "GET /c/c HTTP/1.0"]



=== TEST 20: URI: the decoded URI is escaped again when a URI part replaces the prefix
--- config
    location /b/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/c/; }
--- request
GET /b/%41%20b%3F
--- response_body_filters: request_line
--- response_body: GET /c/A%20b%3F HTTP/1.0



=== TEST 21: URI: regex locations pass the URI unchanged; variables give the whole URI
--- config
    location ~ ^/re/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
    location ~ ^/rv/(.*)$ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/v/$1$is_args$args; }
--- request eval
["GET /re/x?y=1", "GET /rv/p/q?y=2", "GET /rv/p"]
--- response_body_filters: request_line
--- response_body eval
["GET /re/x?y=1 HTTP/1.0", "GET /v/p/q?y=2 HTTP/1.0", "GET /v/p HTTP/1.0"]



=== TEST 22: URI: after "rewrite ... break" the rewritten URI is passed, the URI part ignored
--- config
    location /rw/ {
        rewrite ^/rw/(.*)$ /z/$1 break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/ignored/;
    }
--- request
GET /rw/x?q=1
--- response_body_filters: request_line
--- response_body: GET /z/x?q=1 HTTP/1.0



=== TEST 23: URI: a named location passes the current URI
--- config
    location /nf/ {
        try_files $uri @up;
    }
    location @up { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /nf/missing?q=1
--- response_body_filters: request_line
--- response_body: GET /nf/missing?q=1 HTTP/1.0



=== TEST 24: proxy_pass with variables: an upstream block by name, or host:port and a URI
--- http_config
    upstream up_v { server 127.0.0.1:$TEST_NGINX_A_PORT; }
--- config
    location /u/ {
        set $up up_v;
        proxy_pass http://$up;
    }
    location /p/ {
        set $path /other$uri;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT$path;
    }
--- request eval
["GET /u/x?q=1", "GET /p/y?q=1"]
--- response_body_like eval
["^GET /u/x\\?q=1 HTTP/1\\.0\nHost: up_v\n", "^GET /other/p/y HTTP/1\\.0\nHost: 127\\.0\\.0\\.1:\\d+\n"]



=== TEST 25: a URI part in a regex location is a configuration error
--- config
    location ~ ^/x/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/y/; }
--- must_die
--- error_log
"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block in



=== TEST 26: $upstream_addr and $upstream_status through a failed try and the next one
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t {
        add_header X-Up-Addr $upstream_addr always;
        add_header X-Up-Status $upstream_status always;
        add_header X-Up-Time $upstream_response_time always;
        proxy_pass http://u;
    }
--- request
GET /t
--- response_headers eval
"X-Up-Addr: 127.0.0.1:$main::G, 127.0.0.1:$main::A
X-Up-Status: 502, 200"
--- response_headers_like
X-Up-Time: \d+\.\d{3}, (?:\d+\.\d{3}|-)



=== TEST 27: the upstream's status line and reason phrase reach the client
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /t
--- more_headers
X-Echo-Status: 418
--- error_code: 418
--- raw_response_headers_like: ^HTTP/1\.1 418 Status\r\n



=== TEST 28: a second upstream exchange after an internal redirect: " : " between the two in $upstream_*
--- config
    location /t {
        proxy_intercept_errors on;
        error_page 418 = @next;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location @next {
        add_header X-Up-Addr $upstream_addr always;
        add_header X-Up-Status $upstream_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
        proxy_set_header X-Echo-Status 201;
    }
--- request
GET /t
--- more_headers
X-Echo-Status: 418
--- error_code: 201
--- response_headers eval
"X-Up-Addr: 127.0.0.1:$main::A : 127.0.0.1:$main::A
X-Up-Status: 418 : 201"
