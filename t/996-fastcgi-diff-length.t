# A FastCGI application's Content-Length, as Debian's nginx 1.22 holds it to (a
# differential audit): the payload past it is dropped with a warning, a record stream that
# ends before it is "upstream prematurely closed FastCGI stdout", a 204's body is too much
# data. An invalid Content-Length is no bound (nginx 1.22 reads it as none). Fake
# applications from Test::MoongateBackend's fastcgi kind.
#
#   prove -I t/lib t/996-fastcgi-diff-length.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/996-fastcgi-diff-length.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(long   => 'fastcgi', script => fastcgi_answer("Content-Length: 2\r\nContent-Type: text/plain\r\n\r\nlong body\n"));
backend(long2  => 'fastcgi', script => fastcgi_answer("Content-Length: 4\r\nContent-Type: text/plain\r\n\r\nab", "cdef", "gh"));
backend(short  => 'fastcgi', script => fastcgi_answer("Content-Length: 100\r\nContent-Type: text/plain\r\n\r\nshort\n"));
backend(exact  => 'fastcgi', script => fastcgi_answer("Content-Length: 3\r\nContent-Type: text/plain\r\n\r\nab", "\n"));
backend(badlen => 'fastcgi', script => fastcgi_answer("Content-Length: abc\r\nContent-Type: text/plain\r\n\r\nany\n"));
backend(nc     => 'fastcgi', script => fastcgi_answer("Status: 204\r\n\r\nignored\n"));

log_level('info');

run_tests();

__DATA__

=== TEST 1: more payload than Content-Length: cut to it, warned of
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_LONG_PORT; }
--- request
GET /
--- response_body chomp
lo
--- error_log
[warn]
upstream sent more data than specified in "Content-Length" header
--- no_error_log
[error]



=== TEST 2: the same over three records, unbuffered
--- config
    location / {
        fastcgi_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_LONG2_PORT;
    }
--- request
GET /
--- response_body chomp
abcd
--- error_log
upstream sent more data than specified in "Content-Length" header
--- no_error_log
[error]



=== TEST 3: the records end before Content-Length: an error, the response broken off
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_SHORT_PORT; }
--- request
GET /
--- response_incomplete
--- response_body
short
--- error_log
upstream prematurely closed FastCGI stdout while reading upstream



=== TEST 4: exactly Content-Length over two records: nothing logged
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_EXACT_PORT; }
--- request
GET /
--- response_body
ab
--- no_error_log
[warn]
[error]



=== TEST 5: an invalid Content-Length bounds nothing (nginx 1.22)
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_BADLEN_PORT; }
--- request
GET /
--- response_body
any
--- no_error_log
[warn]
[error]



=== TEST 6: a 204 with a body: warned of, no body
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_NC_PORT; }
--- request
GET /
--- error_code: 204
--- response_body chomp
--- error_log
upstream sent more data than specified in "Content-Length" header
