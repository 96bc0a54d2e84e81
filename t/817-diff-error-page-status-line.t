# A differential audit with Laravel's documented config (error_page 404 /index.php, the front
# controller on FastCGI): a response error_page redirected sends error_page's status and its
# status line, as Debian's nginx 1.22 does; the upstream's own status line ("200 OK" from a
# proxied server) is not sent with it.
#
#   prove -I t/lib t/817-diff-error-page-status-line.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/817-diff-error-page-status-line.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(app => 'fastcgi', script => fastcgi_answer("Content-Type: text/html\r\n\r\nfront controller\n"));
backend(web => 'echo');

run_tests();

__DATA__

=== TEST 1: a missing file, error_page 404 /index.php, the script answers without a Status: 404
--- config
    root html;
    error_page 404 /index.php;
    location / { try_files $uri $uri/ /index.php?$query_string; }
    location = /favicon.ico { log_not_found off; access_log off; }
    location ~ \.php$ { fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT; }
--- request
GET /favicon.ico
--- error_code: 404
--- raw_response_headers_like eval
qr/\AHTTP\/1\.1 404 Not Found\r\n/
--- response_body
front controller



=== TEST 2: error_page 404 to a proxied location: 404 Not Found, not the upstream's 200 OK
--- config
    error_page 404 /fallback;
    location / { return 404; }
    location = /fallback { proxy_pass http://127.0.0.1:$TEST_NGINX_WEB_PORT; }
--- request
GET /x
--- error_code: 404
--- raw_response_headers_like eval
qr/\AHTTP\/1\.1 404 Not Found\r\n/



=== TEST 3: error_page 404 =200: the upstream's status and line are sent
--- config
    error_page 404 = /fallback;
    location / { return 404; }
    location = /fallback { proxy_pass http://127.0.0.1:$TEST_NGINX_WEB_PORT; }
--- request
GET /x
--- error_code: 200
--- raw_response_headers_like eval
qr/\AHTTP\/1\.1 200 OK\r\n/
