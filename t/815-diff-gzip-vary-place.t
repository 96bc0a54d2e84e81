# A differential audit with a single-page app's config (gzip_vary, security headers by
# add_header, expires): where Debian's nginx 1.22 puts "Vary: Accept-Encoding" (one of its
# fixed lines, right after Connection, before ETag and add_header's lines), and a gzip'ed
# response whose ETag line was made before the header list grew still gets a weak ETag.
#
#   prove -I t/lib t/815-diff-gzip-vary-place.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/815-diff-gzip-vary-place.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

run_tests();

__DATA__

=== TEST 1: gzip_vary: Vary right after Connection, before ETag, expires' and add_header's lines
--- config
    gzip on;
    gzip_vary on;
    gzip_types text/plain;
    location / {
        root html;
        add_header X-Frame-Options SAMEORIGIN;
        expires 1h;
    }
--- user_files
>>> app.txt
0123456789012345678901234567890123456789
--- request
GET /app.txt
--- raw_response_headers_like eval
qr/\r\nConnection: close\r\nVary: Accept-Encoding\r\nETag: "[0-9a-f]+-29"\r\nExpires: [^\r]+\r\nCache-Control: max-age=3600\r\nX-Frame-Options: SAMEORIGIN\r\nAccept-Ranges: bytes\r\n\r\n\z/



=== TEST 2: compressed: Vary in the same place, Content-Encoding after add_header's lines
--- config
    gzip on;
    gzip_vary on;
    gzip_min_length 1;
    gzip_types text/plain;
    location / {
        root html;
        add_header X-Frame-Options SAMEORIGIN;
    }
--- user_files
>>> app.txt
0123456789012345678901234567890123456789
--- request
GET /app.txt
--- more_headers
Accept-Encoding: gzip
--- raw_response_headers_like eval
qr/\r\nConnection: close\r\nVary: Accept-Encoding\r\nETag: W\/"[0-9a-f]+-29"\r\nX-Frame-Options: SAMEORIGIN\r\nContent-Encoding: gzip\r\n\r\n\z/



=== TEST 3: gzip_static on: the same place (its Content-Encoding comes before add_header's)
--- config
    gzip_static on;
    gzip_vary on;
    location / {
        root html;
        add_header X-A a;
    }
--- user_files
>>> app.js
var a = 1;
>>> app.js.gz
not really gzip
--- request
GET /app.js
--- more_headers
Accept-Encoding: gzip
--- raw_response_headers_like eval
qr/\r\nConnection: close\r\nVary: Accept-Encoding\r\nETag: "[0-9a-f]+-10"\r\nContent-Encoding: gzip\r\nX-A: a\r\n\r\n\z/
--- response_body
not really gzip



=== TEST 4: many header lines before gzip's own: the ETag sent is still the weak one
--- config
    gzip on;
    gzip_min_length 1;
    gzip_types text/plain;
    location / {
        root html;
        add_header X-1 1 always;
        add_header X-2 2 always;
        add_header X-3 3 always;
        add_header X-4 4 always;
        add_header X-5 5 always;
        add_header X-6 6 always;
        expires -1;
    }
--- user_files
>>> app.json
{"a": "0123456789012345678901234567890123456789"}
--- request
GET /app.json
--- more_headers
Accept-Encoding: gzip
--- response_headers_like
ETag: W/"[0-9a-f]+-32"
Content-Encoding: gzip
--- raw_response_headers_unlike eval
qr/\r\nETag: "/



=== TEST 5: $sent_http_vary does not see gzip's fixed line, as nginx's
--- http_config
    log_format v 'vary=[$sent_http_vary]';
--- config
    gzip on;
    gzip_vary on;
    gzip_types text/plain;
    location / {
        root html;
        access_log logs/vary.log v;
    }
    location = /log { access_log off; alias logs/vary.log; }
--- user_files
>>> app.txt
0123456789012345678901234567890123456789
--- request eval
["GET /app.txt", "GET /log"]
--- response_body eval
["0123456789012345678901234567890123456789\n", "vary=[-]\n"]
