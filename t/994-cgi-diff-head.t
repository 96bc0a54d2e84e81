# An upstream's header lines as Debian's nginx 1.22 reads them (a differential audit of
# FastCGI, uwsgi, SCGI and proxy, which share the parser): a name may hold any byte but a
# control, space or DEL ('@', '_', bytes >= 0x80 are passed on), an "HTTP/..." line among
# the header lines is dropped (so a FastCGI application's status line is not a 502), and
# only spaces around a value are cut (tabs are the value's). Fake applications: FastCGI
# records from Test::MoongateBackend's fastcgi kind, an HTTP upstream from its script kind.
#
#   prove -I t/lib t/994-cgi-diff-head.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/994-cgi-diff-head.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(names  => 'fastcgi', script => fastcgi_answer("X\@A: 1\r\nX_U: 2\r\nX\x80: 3\r\nContent-Type: text/plain\r\n\r\nnames\n"));
backend(status => 'fastcgi', script => fastcgi_answer("HTTP/1.1 202 Accepted\r\nX-A: 1\r\nContent-Type: text/plain\r\n\r\nhttp line\n"));
backend(tabs   => 'fastcgi', script => fastcgi_answer("X-T:\t tab\t\r\nX-S:   sp   \r\nContent-Type: text/plain\r\n\r\ntabs\n"));
backend(proxied => 'script', read => 1, script => ["HTTP/1.1 200 OK\r\nX\@A: 1\r\nHTTP/1.1 201 Again\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"]);

run_tests();

__DATA__

=== TEST 1: FastCGI: '@', '_' and a byte >= 0x80 in header names are passed on
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_NAMES_PORT; }
--- request
GET /
--- raw_response_headers_like eval
qr/\r\nX\@A: 1\r\nX_U: 2\r\nX\x80: 3\r\n/
--- response_body
names
--- no_error_log
[error]



=== TEST 2: FastCGI: an "HTTP/1.1 202" line in the head is dropped: 200, the other lines kept
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_STATUS_PORT; }
--- request
GET /
--- error_code: 200
--- response_headers
X-A: 1
--- response_body
http line
--- no_error_log
[error]



=== TEST 3: FastCGI: only spaces around a value are cut
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_TABS_PORT; }
--- request
GET /
--- raw_response_headers_like eval
qr/\r\nX-T: \t tab\t\r\nX-S: sp\r\n/
--- response_body
tabs



=== TEST 4: proxy: the same parser ('@' in a name, a repeated status line dropped)
--- config
    location / { proxy_pass http://127.0.0.1:$TEST_NGINX_PROXIED_PORT; }
--- request
GET /
--- error_code: 200
--- raw_response_headers_like eval
qr/\r\nX\@A: 1\r\n/
--- response_body
ok
--- no_error_log
[error]
