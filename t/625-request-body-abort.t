# A client that goes away in the middle of its request body, buffered or streamed to the
# upstream (fastcgi_/proxy_request_buffering off), to a fake FastCGI application, an HTTP
# echo backend and a real php-fpm: as nginx, "client prematurely closed connection" (info,
# "while sending request to upstream" when the body was streaming), 400 in the access log
# (the client's request is what was broken: no 499, no 502), the upstream connection closed,
# and the worker serves the next request (the block's own). An h2 stream the client resets
# in the middle of its body is no bad request: 499, as nginx; one that ends (END_STREAM) before
# its content-length's worth gets nginx's 400 answer on the stream.
#
#   prove -I t/lib t/625-request-body-abort.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/625-request-body-abort.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;
use Test::Moongate::H2;

daemon_skip_unless('php-fpm8.2');

$ENV{TEST_NGINX_PHP_ROOT} = "$FindBin::Bin/php";
$ENV{TEST_NGINX_CONF_SRC} = "$FindBin::Bin/../conf";

daemon(fpm => php_fpm('catch_workers_output = no', 'php_admin_value[output_buffering] = 0'));

backend(app => 'fastcgi', parts => 1,
        script => fastcgi_answer("Content-Type: text/plain\r\n\r\ndone\n"));
backend(echo => 'echo');

# POST $uri with the head $head and the body's start $part, then close: once $wait_re is in
# the fake application's log when given, else once the server has answered a request on a
# second connection (it reads in order: the first one's head and part are read by then).
# Returns the access log's line for $uri (5 s at most).
sub abort_body {
    my ($uri, $head, $part, $wait_re) = @_;
    # the logs outlive a block: an earlier block's line is no answer (the server appends)
    open my $fh, '>', "$Test::Moongate::LogDir/a.log" or die "a.log: $!";
    close $fh;
    my $s = client_connect();
    client_send($s, "POST $uri HTTP/1.1\r\nHost: localhost\r\n$head\r\n$part");
    if ($wait_re) {
        backend_wait_lines('app', $wait_re, 1);
    } else {
        my $t = client_connect();
        client_send($t, "GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        client_read($t, undef, 5);
    }
    close $s;
    my $deadline = Time::HiRes::time() + 5;
    my @l;
    until (@l || Time::HiRes::time() > $deadline) {
        @l = grep { /^\Q$uri\E / } logged_lines('a.log', 1);
        Time::HiRes::sleep(0.02) unless @l;
    }
    return $l[0] // '(none)';
}

our $Http = "    log_format st '\$uri \$status \$body_bytes_sent';\n";

log_level('info');

run_tests();

__DATA__

=== TEST 1: fastcgi_request_buffering off, a chunked body: 400, the application's connection closed
--- http_config eval: $main::Http
--- config
    access_log logs/a.log st;
    location /f {
        fastcgi_request_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
    location /ping { return 200 "pong\n"; }
--- init
backend_log_clear('app');
my $l = main::abort_body('/f', "Transfer-Encoding: chunked\r\n", "5\r\nfirst\r\n", qr/^stdin-part first/);
Test::More::is($l, '/f 400 0', 'TEST 1: the access log');
--- request
GET /ping
--- response_body
pong
--- error_log eval
qr/\[info\] .*client prematurely closed connection while sending request to upstream, client: 127\.0\.0\.1, .*request: "POST \/f HTTP\/1\.1", upstream: "fastcgi:\/\/127\.0\.0\.1:\d+"/
--- no_error_log
[error]



=== TEST 2: TEST 1's application read the first chunk, then the close: no end of the body
--- config
    location /t { return 200 "ok\n"; }
--- init
my @l = grep { /^(?:stdin|conn)/ } backend_lines('app');
Test::More::is("@l", 'stdin-part first', 'TEST 2: the application never saw an end');
--- request
GET /t
--- response_body
ok



=== TEST 3: fastcgi_request_buffering off, a body with a Content-Length: 400
--- http_config eval: $main::Http
--- config
    access_log logs/a.log st;
    location /f {
        fastcgi_request_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
    location /ping { return 200 "pong\n"; }
--- init
backend_log_clear('app');
my $l = main::abort_body('/f', "Content-Length: 100\r\n", 'first', qr/^stdin-part first/);
Test::More::is($l, '/f 400 0', 'TEST 3: the access log');
--- request
GET /ping
--- response_body
pong
--- error_log
client prematurely closed connection while sending request to upstream
--- no_error_log
[error]



=== TEST 4: a chunked body buffered (the default): 400, the application never asked
--- http_config eval: $main::Http
--- config
    access_log logs/a.log st;
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT; }
    location /ping { return 200 "pong\n"; }
--- init
backend_log_clear('app');
my $l = main::abort_body('/f', "Transfer-Encoding: chunked\r\n", "5\r\nfirst\r\n");
Test::More::is($l, '/f 400 0', 'TEST 4: the access log');
Test::More::is(CORE::join(',', backend_lines('app')), '', 'TEST 4: no request to the application');
--- request
GET /ping
--- response_body
pong
--- error_log eval
qr/\[info\] .*client prematurely closed connection, client: 127\.0\.0\.1, .*request: "POST \/f HTTP\/1\.1"/
--- no_error_log
[error]



=== TEST 5: proxy_request_buffering off (HTTP/1.1, chunked upstream): 400
--- http_config eval: $main::Http
--- config
    access_log logs/a.log st;
    location /p {
        proxy_request_buffering off;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
    location /ping { return 200 "pong\n"; }
--- init
my $l = main::abort_body('/p', "Transfer-Encoding: chunked\r\n", "5\r\nfirst\r\n");
Test::More::is($l, '/p 400 0', 'TEST 5: the access log');
--- request
GET /ping
--- response_body
pong
--- error_log
client prematurely closed connection while sending request to upstream
--- no_error_log
[error]



=== TEST 6: proxy_pass, a body with a Content-Length buffered: 400
--- http_config eval: $main::Http
--- config
    access_log logs/a.log st;
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT; }
    location /ping { return 200 "pong\n"; }
--- init
my $l = main::abort_body('/p', "Content-Length: 100\r\n", "first");
Test::More::is($l, '/p 400 0', 'TEST 6: the access log');
--- request
GET /ping
--- response_body
pong
--- error_log
client prematurely closed connection
--- no_error_log
[error]



=== TEST 7: php-fpm reading a streamed body the client leaves: 400; php-fpm serves the next request
--- http_config eval: $main::Http
--- config
    access_log logs/a.log st;
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_request_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
    location /ping { return 200 "pong\n"; }
--- init
my $l = main::abort_body('/post.php', "Content-Length: 100000\r\n", "x" x 5000);
Test::More::is($l, '/post.php 400 0', 'TEST 7: the access log');
--- raw_request eval
"POST /post.php HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"
--- response_body
5 5d41402abc4b2a76b9719d911017c592
--- error_log
client prematurely closed connection while sending request to upstream
--- no_error_log
[error]



=== TEST 8: h2: a stream reset in the middle of its body (buffered): 499, the connection's next stream served, nginx's line
--- listen_options: http2
--- http_config
    log_format h2 "H2LOG $request $status";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log h2;
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT; }
    location /ping { return 200 "pong\n"; }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/f', method='POST', headers=[('content-length', '100')], body=b'first', end=False)
b = c.request('/ping')
c.wait(b)
c.conn.reset_stream(a)
c.flush()
d = c.request('/ping')
c.wait(d)
print(c.streams[b].status, c.streams[d].status, c.streams[d].body)
--- h2_out
200 200 b'pong\n'
--- error_log eval
[qr/H2LOG POST \/f HTTP\/2\.0 499/, qr/H2LOG GET \/ping HTTP\/2\.0 200/,
 qr/\[info\] .*client prematurely closed stream, client: 127\.0\.0\.1, .*request: "POST \/f HTTP\/2\.0"/]
--- no_error_log
upstream



=== TEST 9: h2: a stream that ends before its content-length's worth: a 400 answer, buffered or streamed upstream
--- listen_options: http2
--- http_config
    log_format h2 "H2LOG $request $status";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log h2;
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT; }
    location /u {
        fastcgi_request_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/f', method='POST', headers=[('content-length', '100')], body=b'first')
b = c.request('/u', method='POST', headers=[('content-length', '100')], body=b'first')
c.wait(a, b)
print(c.streams[a].status, c.streams[a].reset, c.streams[b].status, c.streams[b].reset)
--- h2_out
400 None 400 None
--- error_log eval
[qr/H2LOG POST \/f HTTP\/2\.0 400/, qr/H2LOG POST \/u HTTP\/2\.0 400/,
 qr/\[info\] .*client prematurely closed stream: only 5 out of 100 bytes of request body received, client: 127\.0\.0\.1, .*request: "POST \/f HTTP\/2\.0"/,
 qr/\[info\] .*client prematurely closed stream: only 5 out of 100 bytes of request body received .*request: "POST \/u HTTP\/2\.0"/]
--- no_error_log
[alert]
