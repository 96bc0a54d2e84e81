# A 204 relayed from an upstream keeps its Content-Type and Content-Length lines, as Debian's
# nginx 1.22 does (its header filter clears them only for a 204 it words itself, e.g.
# "return 204"); found by a differential audit of FastCGI, uwsgi, SCGI and proxy_pass.
#
#   prove -I t/lib t/997-diff-upstream-204.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/997-diff-upstream-204.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(app => 'fastcgi', script => fastcgi_answer("Status: 204\r\nContent-Type: text/x-app\r\nContent-Length: 0\r\n\r\n"));
backend(http => 'script', read => 1, script => ["HTTP/1.1 204 No Content\r\nContent-Type: text/x-up\r\nConnection: close\r\n\r\n"]);

run_tests();

__DATA__

=== TEST 1: FastCGI "Status: 204" with Content-Type and Content-Length: both passed on
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT; }
--- request
GET /
--- error_code: 204
--- raw_response_headers_like eval
qr/\r\nContent-Type: text\/x-app\r\nContent-Length: 0\r\n/
--- response_body chomp



=== TEST 2: proxy_pass, a 204 with Content-Type: passed on
--- config
    location / { proxy_pass http://127.0.0.1:$TEST_NGINX_HTTP_PORT; }
--- request
GET /
--- error_code: 204
--- response_headers
Content-Type: text/x-up
--- response_body chomp



=== TEST 3: return 204: no Content-Type (the server's own 204)
--- config
    location / {
        default_type text/x-own;
        return 204;
    }
--- request
GET /
--- error_code: 204
--- raw_response_headers_unlike eval
qr/Content-Type/
--- response_body chomp
