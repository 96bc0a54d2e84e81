# A differential audit with a PHP application's config (uploads, X-Accel-Redirect protected
# downloads, php-fpm on a unix socket), as Debian's nginx 1.22 does it:
# - the "100 Continue" a client's Expect asked for counts in $bytes_sent and $body_bytes_sent;
# - the page for an X-Accel-Redirect's missing file keeps the charset of the upstream's
#   Content-Type and drops the upstream's Accept-Ranges (nginx's special response);
# - once the upstream's exchange is over (after its X-Accel-Redirect), the error log's
#   "upstream:" names a unix socket without the colon before the (empty) URI.
#
#   prove -I t/lib t/818-diff-php-app-details.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/818-diff-php-app-details.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(app => 'echo', unix => 1);
backend(web => 'echo');

run_tests();

__DATA__

=== TEST 1: Expect: 100-continue: the interim line counts in $body_bytes_sent
--- http_config
    log_format b '$request_method $status body=$body_bytes_sent hdr=$sent_http_x';
--- config
    location = /upload {
        access_log logs/b.log b;
        add_header X x;
        return 200 "stored\n";
    }
    location = /log { access_log off; alias logs/b.log; }
--- request eval
["POST /upload\nhello", "GET /log"]
--- more_headers eval
["Expect: 100-continue", ""]
--- response_body eval
["stored\n", "POST 200 body=32 hdr=x\n"]



=== TEST 2: X-Accel-Redirect to a missing file: text/html with the upstream's charset, no Accept-Ranges
--- config
    location /protected/ { internal; root html; }
    location = /download {
        proxy_pass http://unix:$TEST_NGINX_APP_SOCK:;
    }
--- more_headers
X-Echo-Header: X-Accel-Redirect: /protected/none.pdf
X-Echo-Header: Content-Type: text/plain; charset="koi8-r"
X-Echo-Header: Accept-Ranges: none
X-Echo-Header: Content-Disposition: inline
--- request
GET /download
--- error_code: 404
--- response_headers
Content-Type: text/html; charset=koi8-r
Content-Disposition: inline
!Accept-Ranges
--- error_log eval
qr/open\(\) "[^"]+\/protected\/none\.pdf" failed \(2: No such file or directory\), client: 127\.0\.0\.1, server: localhost, request: "GET \/download HTTP\/1\.1", upstream: "http:\/\/unix:[^"]+\.sock\/download", host: "localhost"$/



=== TEST 3: the redirect served: the upstream's type and charset as they came
--- config
    location /protected/ { internal; alias html/; }
    location = /download {
        proxy_pass http://127.0.0.1:$TEST_NGINX_WEB_PORT;
    }
--- user_files
>>> report.txt
report
--- more_headers
X-Echo-Header: X-Accel-Redirect: /protected/report.txt
X-Echo-Header: Content-Type: text/plain;charset=koi8-r
--- request
GET /download
--- response_headers
Content-Type: text/plain;charset=koi8-r
--- response_body
report



=== TEST 4: proxy_intercept_errors: the built-in page has no charset of the upstream's
--- config
    error_page 404 /nope.html;
    location = /nope.html { internal; return 404; }
    location = /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_WEB_PORT;
        proxy_intercept_errors on;
    }
--- more_headers
X-Echo-Status: 404
X-Echo-Header: Content-Type: text/plain; charset=koi8-r
--- request
GET /p
--- error_code: 404
--- response_headers
Content-Type: text/html
