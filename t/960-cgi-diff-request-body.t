# *_pass_request_body off, as Debian's nginx 1.22 (a differential audit): the body is still
# read, not passed, so $request_body and $request_length count it in the params
# (fastcgi_param BODY $request_body is an idiom); SCGI then says CONTENT_LENGTH 0 (nginx
# 1.22 gives the length of a body it does not send: the application waits for it). proxy_pass
# the same, its request head made once the body is read ($request_body in proxy_set_header).
# A fake FastCGI application from Test::MoongateBackend's fastcgi kind logs the params; its
# echo kind answers with the request it got.
#
#   prove -I t/lib t/960-cgi-diff-request-body.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/960-cgi-diff-request-body.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(echo => 'echo');
backend(app => 'fastcgi', script => fastcgi_answer("Content-Type: text/plain\r\n\r\nok\n"));

sub logged { join ' ', grep { /^(?:param (?:RB|RL)=|stdin )/ } backend_lines('app') }

run_tests();

__DATA__

=== TEST 1: fastcgi_pass_request_body off: $request_body and $request_length in the params
--- config
    location / {
        fastcgi_pass_request_body off;
        fastcgi_param RB $request_body;
        fastcgi_param RL $request_length;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
backend_log_clear('app');
--- request
POST /
abcdef
--- response_body
ok



=== TEST 2: TEST 1's application got the body in RB, none in FCGI_STDIN
--- config
    location / { return 200 "x\n"; }
--- init
Test::More::like(main::logged(), qr/^param RB=abcdef param RL=\d+ stdin 0$/, 'TEST 2: params');
my ($rl) = main::logged() =~ /RL=(\d+)/;
Test::More::cmp_ok($rl, '>=', 6 + length("POST / HTTP/1.1\r\n"), 'TEST 2: $request_length with the body');
--- request
GET /
--- response_body
x



=== TEST 3: a chunked body the same
--- config
    location / {
        fastcgi_pass_request_body off;
        fastcgi_param RB $request_body;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
backend_log_clear('app');
--- raw_request eval
"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
--- response_body
ok



=== TEST 4: TEST 3's application: the chunks joined
--- config
    location / { return 200 "x\n"; }
--- init
Test::More::is(main::logged(), 'param RB=abcdef stdin 0', 'TEST 4: params');
--- request
GET /
--- response_body
x



=== TEST 5: proxy_pass_request_body off: $request_body in a header, no body sent
--- config
    location / {
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-RB $request_body;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- request
POST /
abcdef
--- response_body_like chomp
\APOST / HTTP/1\.0\n.*X-RB: abcdef\n.*\n\n\z



=== TEST 6: proxy_pass with the body passed: $request_body in a header too
--- config
    location / {
        proxy_set_header X-RB $request_body;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- request
POST /
abcdef
--- response_body_like chomp
\APOST / HTTP/1\.0\n.*X-RB: abcdef\n.*\n\nabcdef\z
