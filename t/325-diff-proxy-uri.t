# Found by running the same configs on nginx and moongate: the URI sent upstream when
# proxy_pass replaces a part of it (or after a rewrite) is escaped as nginx escapes a URI:
# besides controls, space, "#", "%", "?" and bytes from 0x7f, also " < > \ ^ ` { | } (moongate
# sent these raw: a backend such as Tomcat refuses "{" or "|" in a request line with 400).
#
#   prove -I t/lib t/325-diff-proxy-uri.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/325-diff-proxy-uri.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');

# the request line the echo backend got
sub request_line { my $b = shift; $b =~ /\A(.*)\n/ ? $1 : "no request line in \"$b\"" }

run_tests();

__DATA__

=== TEST 1: a URI part in proxy_pass: the decoded URI is escaped again, nginx's set
--- config
    location /pp/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/q/; }
--- request eval
["GET /pp/a%7B%7D%7C%5E%60", "GET /pp/a%22b%3C%3E%5C", "GET /pp/a%20b%3F%23%25", "GET /pp/a;b+c&d=e!\$'()*,:@[]~"]
--- response_body_filters: request_line
--- response_body eval
["GET /q/a%7B%7D%7C%5E%60 HTTP/1.0", "GET /q/a%22b%3C%3E%5C HTTP/1.0", "GET /q/a%20b%3F%23%25 HTTP/1.0",
 "GET /q/a;b+c&d=e!\$'()*,:@[]~ HTTP/1.0"]



=== TEST 2: after "rewrite ... break" the same
--- config
    location /rw/ { rewrite ^/rw/(.*)$ /new/$1 break; proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /rw/a%22b%7Bc%7D
--- response_body_filters: request_line
--- response_body: GET /new/a%22b%7Bc%7D HTTP/1.0
