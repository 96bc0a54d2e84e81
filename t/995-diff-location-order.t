# Where the Location line goes in a response head, as Debian's nginx 1.22 puts it (a
# differential audit): only a Location the server makes absolute ("/path" with
# absolute_redirect on) comes right after the fixed lines (Content-Length, Last-Modified);
# any other (an absolute URL from return or rewrite or a FastCGI application, a relative one
# with absolute_redirect off) keeps its place among the header lines, after Connection.
#
#   prove -I t/lib t/995-diff-location-order.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/995-diff-location-order.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(app => 'fastcgi', script => fastcgi_answer("Location: http://example.com/app\r\nX-App: 1\r\n\r\n"));

run_tests();

__DATA__

=== TEST 1: return 301 with an absolute URL: Location after Connection, before add_header's
--- config
    location / {
        add_header X-Z z;
        return 301 http://example.com/x;
    }
--- request
GET /
--- error_code: 301
--- raw_response_headers_like eval
qr/\r\nConnection: close\r\nLocation: http:\/\/example\.com\/x\r\nX-Z: z\r\n/



=== TEST 2: return 302 "/rel": made absolute, right after Content-Length
--- config
    location / {
        add_header X-Z z;
        return 302 /rel;
    }
--- request
GET /
--- error_code: 302
--- raw_response_headers_like eval
qr/\r\nContent-Length: \d+\r\nLocation: http:\/\/localhost:\d+\/rel\r\nConnection: close\r\nX-Z: z\r\n/



=== TEST 3: absolute_redirect off: "/rel" keeps its place among the lines
--- config
    absolute_redirect off;
    location / {
        add_header X-Z z;
        return 302 /rel;
    }
--- request
GET /
--- error_code: 302
--- raw_response_headers_like eval
qr/\r\nConnection: close\r\nLocation: \/rel\r\nX-Z: z\r\n/



=== TEST 4: rewrite ... redirect to an absolute URL
--- config
    location / {
        add_header X-Z z;
        rewrite ^ http://example.com/r redirect;
    }
--- request
GET /
--- error_code: 302
--- raw_response_headers_like eval
qr/\r\nConnection: close\r\nLocation: http:\/\/example\.com\/r\r\nX-Z: z\r\n/



=== TEST 5: a FastCGI application's absolute Location: 302, in the application's order
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT; }
--- request
GET /
--- error_code: 302
--- raw_response_headers_like eval
qr/\r\nConnection: close\r\nLocation: http:\/\/example\.com\/app\r\nX-App: 1\r\n/
