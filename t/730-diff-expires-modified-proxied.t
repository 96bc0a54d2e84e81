# Found by running the same configs on Debian's nginx 1.22 and moongate: "expires modified"
# counts from the Last-Modified an upstream sent (nginx parses it when it copies the line), not
# only from a file's date; moongate counted from the time of the request for a proxied response.
#
#   prove -I t/lib t/730-diff-expires-modified-proxied.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/730-diff-expires-modified-proxied.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: an upstream's Last-Modified in the past: Expires an hour after it, no-cache
--- config
    location /up { expires modified +1h; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b; }
    location /b { add_header Last-Modified "Sun, 13 Sep 2020 12:26:40 GMT"; return 200 ok; }
--- request
GET /up
--- response_headers
Expires: Sun, 13 Sep 2020 13:26:40 GMT
Cache-Control: no-cache
--- response_body chomp
ok



=== TEST 2: an upstream's Last-Modified in the future: max-age up to an hour after it
--- config
    location /up { expires modified 1h; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b; }
    location /b { add_header Last-Modified "Fri, 01 Jan 2100 00:00:00 GMT"; return 200 ok; }
--- request
GET /up
--- response_headers
Expires: Fri, 01 Jan 2100 01:00:00 GMT
--- response_headers_like
Cache-Control: max-age=\d{9,10}



=== TEST 3: an upstream's Last-Modified that is no date: counted from now, as nginx
--- config
    location /up { expires modified 1h; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b; }
    location /b { add_header Last-Modified "garbage"; return 200 ok; }
--- request
GET /up
--- response_headers
Cache-Control: max-age=3600
